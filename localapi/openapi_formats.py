"""Research file formats in our served contract (issue 14; docs/formats.md).

The contract's versioning policy lets the API "add optional fields, new enum values, new
endpoints ... without a version bump". This server adds:

- ``output_format`` values ``sav`` (SPSS, codes with value labels) and ``xlsx`` (one
  sheet, typed cells, at most 1,048,575 rows), wherever the contract enumerates output
  formats (the seed's descriptions stay as they are; docs/formats.md describes both);
- an optional ``sheet`` form field on ``POST /v1/datasets`` (which .xlsx sheet to read);
- an optional ``source`` object in the cleaning summary (where in the file the table was).

The seed's values stay first in each enum, so the seed is still a subset of ours.
"""

from __future__ import annotations

from engine.api import FORMATS

SHEET_FIELD = {
    "type": "string",
    "maxLength": 255,
    "description": (
        "Optional, .xlsx seeds only: the sheet to read, by name (case-insensitive) or "
        "0-based index. Without it the first sheet holding a table is read (a notes or "
        "cover sheet is skipped) and cleaning_summary.source names it. The header row is "
        "found under title and notes rows; skipped rows are listed in the cleaning "
        "decisions. An unknown sheet is a 400 simio_sheet_not_found listing the sheets; a "
        "non-.xlsx seed with a sheet is a 400 simio_invalid_field."),
    "example": "Data",
}
SOURCE_SCHEMA = {
    "type": "object",
    "description": "Optional (.xlsx seeds): the sheet read and the header's 1-based row.",
    "properties": {"sheet": {"type": "string"}, "header_row": {"type": "integer"}},
    "example": {"sheet": "Data", "header_row": 4},
}


def add_research_formats(doc: dict) -> None:
    paths = doc.get("paths", {})
    _extend_output_format_enums(paths)
    upload = (paths.get("/v1/datasets", {}).get("post", {}).get("requestBody", {})
              .get("content", {}).get("multipart/form-data", {}).get("schema"))
    if isinstance(upload, dict):
        upload.setdefault("properties", {}).setdefault("sheet", dict(SHEET_FIELD))
    for path, method in (("/v1/datasets/{dataset_id}", "get"), ("/v1/datasets", "post")):
        content = (paths.get(path, {}).get(method, {}).get("responses", {}).get("200", {})
                   .get("content", {}).get("application/json", {}).get("schema", {}))
        summary = content.get("properties", {}).get("cleaning_summary")
        if isinstance(summary, dict):
            summary.setdefault("properties", {}).setdefault("source", dict(SOURCE_SCHEMA))


def _extend_output_format_enums(node) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "output_format" and isinstance(value, dict) and "enum" in value:
                value["enum"] = list(value["enum"]) + [f for f in FORMATS
                                                       if f not in value["enum"]]
            else:
                _extend_output_format_enums(value)
    elif isinstance(node, list):
        for item in node:
            _extend_output_format_enums(item)
