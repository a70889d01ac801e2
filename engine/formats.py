"""The output formats, by name: the one list every writer, reader and caller uses.

Kept free of imports (pyarrow, pandas) so ``simio --help`` can list the formats without
loading them; ``engine.io.writers`` writes them and re-exports these names.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import SimioError

STREAMED = ("parquet", "csv", "arrow")          # appended chunk by chunk (TableWriter)
FORMATS = STREAMED + ("sav", "xlsx")            # whole-file: engine/io/{sav,xlsx}_writer.py
CONTENT_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv",
    "arrow": "application/vnd.apache.arrow.file",
    "sav": "application/x-spss-sav",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {"parquet": ".parquet", "csv": ".csv", "arrow": ".arrow", "sav": ".sav",
              "xlsx": ".xlsx"}
# Extra spellings a file name may use for a format (``.feather`` is Arrow IPC).
SUFFIX_ALIASES = {".feather": "arrow"}
# Output names: the extension says the format.
SUFFIX_FORMATS = {**{ext: fmt for fmt, ext in EXTENSIONS.items()}, **SUFFIX_ALIASES}
DEFAULT_FORMAT = "parquet"
# Formats that hold at most so many data rows: refused before any row is drawn.
MAX_ROWS = {"xlsx": 1_048_575}          # Excel's 1,048,576 rows less the header row


def format_from_suffix(path) -> str:
    """The format a file name asks for by its extension; parquet when it names none."""
    suffix = "." + str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    return SUFFIX_FORMATS.get(suffix, DEFAULT_FORMAT)


def output_format(path, fmt: str | None = None) -> str:
    """The format to write ``path`` in: ``fmt``, else the name's extension, else parquet
    for a name without one. An extension we do not write, or one that names another
    format than ``fmt``, is refused before any work: nothing is written under a name that
    says something else."""
    suffix = Path(path).suffix.lower()
    named = SUFFIX_FORMATS.get(suffix)
    if fmt is not None and fmt not in FORMATS:
        raise SimioError("simio_unsupported_output_format", f"format {fmt!r} is not one "
                         f"simio writes; use one of {', '.join(FORMATS)}.")
    if suffix and named is None:
        raise SimioError("simio_unsupported_output_format",
                         f"{Path(path).name}: simio does not write {suffix} files; name the "
                         f"output {', '.join(EXTENSIONS.values())} (format "
                         f"{fmt or 'from the extension'}).")
    if fmt is not None and named is not None and named != fmt:
        raise SimioError("simio_unsupported_output_format",
                         f"{Path(path).name} is named {suffix} but the format asked for is "
                         f"{fmt}; name it {EXTENSIONS[fmt]} or drop the format.")
    return fmt or named or DEFAULT_FORMAT
