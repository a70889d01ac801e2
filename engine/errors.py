"""The one error catalogue.

Every failure the engine, the CLI or the local API reports has a stable ``code`` listed
here, with its HTTP status, a short title, what usually causes it and how to fix it.
Problem responses, the ``/errors`` pages and the CLI's one-line errors are all rendered
from this table; nothing else spells an error out.

Raise ``SimioError(code, detail)``; ``detail`` says what is wrong with *this* input.
``SimioError`` subclasses ``ValueError`` so callers that catch the builtin still work.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from http import HTTPStatus


@dataclass(frozen=True)
class ErrorSpec:
    code: str
    status: int
    title: str
    cause: str
    fix: str
    retryable: bool = False
    # The fix worded for the `simio` command where ``fix`` speaks of HTTP requests; the CLI
    # uses ``cli_fix or fix`` (``fix_for_cli``). API rendering never reads it.
    cli_fix: str = ""

    @property
    def fix_for_cli(self) -> str:
        return self.cli_fix or self.fix

    @property
    def http_title(self) -> str:
        # RFC 9110's name for 413, as the contract's examples use it (http.HTTPStatus in
        # Python 3.11 still says "Request Entity Too Large").
        return {413: "Payload Too Large"}.get(self.status, HTTPStatus(self.status).phrase)


_SPECS = [
    # --- contract codes (the Simulacra Headless API) -------------------------------------
    ErrorSpec("simio_invalid_field", 400, "Invalid field",
              "A request field is missing, has the wrong type, or is out of range.",
              "Correct the named field as the detail says and send the request again."),
    ErrorSpec("simio_unsupported_content_type", 415, "Unsupported content type",
              "The request body was sent with a Content-Type this endpoint does not accept.",
              "Send JSON with `Content-Type: application/json`; dataset uploads use "
              "multipart/form-data."),
    ErrorSpec("simio_file_too_large", 413, "Seed file too large",
              "The uploaded seed file exceeds the per-request size cap.",
              "Upload a smaller file (sample rows or drop columns), or ask the operator to "
              "raise the cap."),
    ErrorSpec("simio_idempotency_conflict", 409, "Idempotency key conflict",
              "The Idempotency-Key was already used with a different request body, or a "
              "request with this key is still in flight.",
              "Reuse a key only to retry the identical request; use a new key for new work. "
              "If the first request is still running, wait and retry."),
    ErrorSpec("simio_dataset_not_found", 404, "Dataset not found",
              "No dataset with this id is visible to your tenant: it never existed, it "
              "expired, it was deleted, or it belongs to another tenant.",
              "Check the dataset_id (a JSON string, not a list) and that it has not expired."),
    ErrorSpec("simio_generation_not_found", 404, "Generation not found",
              "No generation with this id is visible to your tenant, or its artifact expired.",
              "Check the generation_id; create a new generation if it expired."),
    ErrorSpec("simio_job_not_found", 404, "Job not found",
              "No job with this id is visible to your tenant, or it expired.",
              "Check the job_id returned by the 202 response."),
    ErrorSpec("simio_signup_not_found", 404, "Signup request not found",
              "No signup request has this id.",
              "Use the request_id returned by POST /v1/signup verbatim."),
    ErrorSpec("simio_credential_claim_not_found", 404, "Credential claim not found",
              "The claim token is unknown, expired, or was already redeemed.",
              "Claim tokens are one-time: request a rotation to get a new one."),
    ErrorSpec("simio_rotation_request_not_found", 404, "Rotation request not found",
              "No credential rotation request with this id is visible to your tenant.",
              "Use the rotation_request_id returned when you filed the request."),
    ErrorSpec("simio_extend_cap_exceeded", 409, "Retention extension cap exceeded",
              "Extending would keep the dataset longer than the 7-day continuous maximum.",
              "Extend by less, or upload the seed again to start a new retention window."),
    ErrorSpec("simio_per_request_cap_exceeded", 413, "Per-request row cap exceeded",
              "row_count is larger than the per-request cap.",
              "Request at most the cap and split larger jobs into several generations."),
    ErrorSpec("simio_quota_exhausted", 402, "Row quota exhausted",
              "The tenant's lifetime row quota does not cover this request.",
              "Request fewer rows, or ask the operator to raise the tenant's quota."),
    ErrorSpec("simio_unknown_condition_column", 400, "Unknown condition column",
              "A column named in `conditions` is not in the dataset's cleaned schema.",
              "GET /v1/datasets/{dataset_id}/schema and use the returned column names; "
              "cleaning may have renamed or dropped columns."),
    ErrorSpec("simio_unauthorized", 401, "Unauthorized",
              "The bearer token is missing, malformed, expired, or was not minted for this "
              "API's audience. The response is deliberately the same in every case.",
              "Mint a fresh token at /oauth/token with your client credentials and send it as "
              "`Authorization: Bearer <JWT>` (the JWT starts with eyJ; it is not your "
              "client_secret)."),
    ErrorSpec("simio_not_found", 404, "Not found",
              "No resource or route exists at this URL.",
              "Check the path against /openapi.json."),
    ErrorSpec("simio_method_not_allowed", 405, "Method not allowed",
              "The route exists but does not accept this HTTP method.",
              "Check the method against /openapi.json."),
    ErrorSpec("simio_rate_limited", 429, "Too many requests",
              "This client exceeded the operation's rate limit.",
              "Wait and retry later; the limit is documented on the operation.",
              retryable=True),
    ErrorSpec("simio_internal_error", 500, "Internal error",
              "The server failed unexpectedly while handling the request.",
              "Retry with the same Idempotency-Key; if it persists, report the request_id.",
              retryable=True),
    # --- engine codes: reading seed files ----------------------------------------------
    ErrorSpec("simio_empty_file", 400, "Empty seed file",
              "The seed file has no bytes, or nothing but whitespace.",
              "Upload a file with a header row and at least one data row."),
    ErrorSpec("simio_no_data_rows", 400, "Seed file has no data rows",
              "The seed file has column headers but no data rows.",
              "Upload a file with at least one data row under the header."),
    ErrorSpec("simio_unsupported_file_format", 400, "Unsupported seed file format",
              "The file is not CSV/TSV, Parquet, Excel (.xlsx) or SPSS (.sav) content.",
              "Export the table as CSV, Parquet, .xlsx or .sav and upload that."),
    ErrorSpec("simio_unreadable_file", 400, "Seed file could not be read",
              "The file looks like a supported format but is corrupt, truncated or "
              "inconsistent (for example rows with more fields than the header).",
              "Re-export the file from its source program and upload it again."),
    ErrorSpec("simio_no_usable_columns", 400, "No usable columns",
              "After cleaning, no column is left that the model can learn from.",
              "Check the cleaning summary's dropped_columns; upload a table with at least "
              "one categorical or numeric column that varies."),
    # --- engine codes: models -------------------------------------------------------------
    ErrorSpec("simio_invalid_model_file", 400, "Invalid model file",
              "The model file is not a simio model, was truncated, altered after saving, "
              "or was written by an incompatible version.",
              "Train the model again from the seed; never edit model files by hand."),
    # --- engine codes: scenario conditions ------------------------------------------------
    ErrorSpec("simio_unknown_condition_level", 400, "Unknown condition level",
              "A level named in `conditions.categorical` is not a level of that column in "
              "the cleaned schema.",
              "GET /v1/datasets/{dataset_id}/schema and use the returned `levels`; rare "
              "levels may have been removed by cleaning."),
    ErrorSpec("simio_condition_column_excluded", 400, "Column cannot be conditioned",
              "The column is in the schema with `conditioning_excluded: true` (free text or "
              "high-cardinality), so it cannot appear in `conditions`.",
              "Remove the column from `conditions`; it is still generated."),
    ErrorSpec("simio_condition_type_mismatch", 400, "Condition kind does not match column type",
              "A categorical column was given a numeric range, or a numeric column was given "
              "target shares.",
              "Put categorical columns under `conditions.categorical` and numeric columns "
              "under `conditions.numeric`, as the schema's `type` says."),
    ErrorSpec("simio_invalid_share", 400, "Invalid target share",
              "A target share is negative, not a number, or the shares of a column sum to "
              "more than 1.",
              "Give each share as a fraction between 0 and 1 (0.55, not 55) with the shares of "
              "a column summing to at most 1."),
    ErrorSpec("simio_invalid_range", 400, "Invalid numeric range",
              "A numeric range is missing `min` or `max`, a bound is not a finite number, or "
              "`min` is greater than `max`.",
              "Send both `min` and `max` as finite numbers with min <= max."),
    ErrorSpec("simio_infeasible_scenario", 400, "Scenario has no feasible rows",
              "Under the trained model no row satisfies the scenario: a requested level has "
              "zero probability inside the numeric ranges, or the ranges exclude every value.",
              "Widen the numeric ranges or give the impossible level a share of 0."),
    # --- CLI codes: `simio tls trust` -----------------------------------------------------
    ErrorSpec("simio_tls_ca_unusable", 400, "No usable CA certificate",
              "`simio tls trust` reads DATA_DIR/tls/ca.pem, which `simio serve --tls` creates "
              "on its first start; the file is missing, is not PEM, or is not a CA.",
              "Start `simio serve --tls` once with the same --data-dir (or SIMIO_DATA_DIR), "
              "or pass --ca with your own CA's certificate."),
    ErrorSpec("simio_tls_trust_forbidden", 403, "Changing the system trust store needs rights",
              "`--apply` and `--remove` change the machine's trust store, which only an "
              "administrator (root) may do, or a tool they need is not installed.",
              "Run it as root (`sudo simio tls trust --apply`), or run the printed steps by "
              "hand; without rights use the per-client settings it prints."),
    ErrorSpec("simio_tls_trust_failed", 500, "A trust-store command failed",
              "A system command run by `--apply` or `--remove` exited with an error.",
              "Read that command's output above, fix its cause and run the command again."),
    ErrorSpec("simio_too_many_condition_cells", 400, "Too many conditioned level combinations",
              "The categorical columns in `conditions` have more level combinations together "
              "(the product of their level counts, a missing state counting as a level) than "
              "one scenario may condition on jointly.",
              "Condition on fewer categorical columns, or on columns with fewer levels; the "
              "detail gives the count and the limit."),
    ErrorSpec("simio_condition_column_dropped", 400, "Condition column was dropped by cleaning",
              "A column named in `conditions` was in the seed file but cleaning dropped it "
              "(an identifier, a constant, a redundant copy of another column...), so the "
              "model never learned it.",
              "Remove the column from `conditions`, or upload the seed again with "
              "`auto_clean: false` if the drop reason given in the detail does not apply."),
    # --- limits (issue 10): seed files (engine/io/limits.py) and JSON bodies; the detail
    # always names the number.
    ErrorSpec("simio_request_body_too_large", 413, "Request body too large",
              "A JSON request body exceeds the size limit for JSON bodies (seed uploads have "
              "their own, larger limit).",
              "Send a smaller body; conditions for a scenario fit easily within the limit "
              "the detail gives."),
    ErrorSpec("simio_nesting_too_deep", 400, "JSON nested too deeply",
              "A JSON request body nests objects or arrays deeper than the server accepts.",
              "Flatten the body; no valid request nests deeper than the limit the detail "
              "gives."),
    ErrorSpec("simio_too_many_columns", 400, "Seed file has too many columns",
              "The seed file's header (or an .xlsx sheet's widest row) has more columns than "
              "the reader accepts.",
              "Drop columns you do not need before uploading; the detail gives the limit."),
    ErrorSpec("simio_line_too_long", 400, "Seed file line too long",
              "The header line of the delimited seed file is longer than the reader accepts, "
              "or the file has no line breaks at all.",
              "Check that the file really is CSV/TSV with one record per line and shorten "
              "the header; the detail gives the limit."),
    ErrorSpec("simio_too_many_cells", 400, "Seed file has too many cells",
              "Rows times columns of the seed table (for .xlsx: of the sheet's used range) "
              "exceed the reader's cell budget.",
              "Sample fewer rows or drop columns; remove stray cells far from the table in "
              "spreadsheets. The detail gives the limit."),
    ErrorSpec("simio_archive_too_large", 400, "Workbook expands too far",
              "The .xlsx workbook's parts decompress to more bytes than the reader accepts "
              "(a decompression bomb, or a very large sheet).",
              "Save the sheet as CSV or Parquet, or upload a smaller workbook; the detail "
              "gives the limit."),
]

_SPECS += [
    # --- research file formats (issue 14): Excel sheets in, SPSS/Excel out ------------
    ErrorSpec("simio_sheet_not_found", 400, "Workbook has no such sheet",
              "The sheet named (or numbered) for an .xlsx seed is not in the workbook.",
              "Give one of the sheet names or 0-based indexes the detail lists as the "
              "`sheet` form field."),
    ErrorSpec("simio_no_table_found", 400, "No sheet holds a table",
              "No sheet of the .xlsx seed has a header row followed by data rows (a cover "
              "or notes sheet only, or the table starts below the rows searched).",
              "Name the data sheet with the `sheet` form field, or put the header within "
              "the first 50 rows; the detail lists the sheets."),
    ErrorSpec("simio_unsupported_output_format", 400, "Output format not written",
              "The output file's extension (or the format asked for) is not one simio "
              "writes, so the rows would land under a misleading name.",
              "Name the output .parquet, .csv, .arrow, .sav or .xlsx, or give the format "
              "explicitly with a matching name.",
              cli_fix="Name the output .parquet, .csv, .arrow, .sav or .xlsx (or pass "
                      "--format with a name ending in that format's extension)."),
]

_SPECS += [
    # --- CLI codes (never an API response; the status only keeps the table uniform) ----
    ErrorSpec("simio_store_not_found", 404, "No store in the data directory",
              "`simio admin` was pointed at a data directory that holds no simio store "
              "(simio.sqlite3): a mistyped --data-dir, or SIMIO_DATA_DIR not set where the "
              "server runs with one.",
              "Give the server's data directory (--data-dir or SIMIO_DATA_DIR, as for "
              "`simio serve`), or add --create to start a new store there."),
    ErrorSpec("simio_cluster_unavailable", 503, "Dask cluster unavailable",
              "Work was sent to a Dask cluster (--dask ADDRESS or SIMIO_DASK_ADDRESS) but the "
              "dask extra is not installed, the scheduler did not answer, or the cluster "
              "lost the work.",
              "Install the extra (pip install 'simio-local[dask]'), check that the scheduler "
              "at the address is running (`dask scheduler`) with workers attached, or use "
              "`local` for a cluster on this machine; then run again.", retryable=True),
]

# Fixes for the `simio` command, for codes whose API fix speaks of requests, uploads or
# endpoints. One table: same codes, same causes; only the advice is worded for a terminal.
_CLI_FIXES = {
    "simio_invalid_field": "Correct the named option or file as the detail says and run the "
                           "command again (`simio COMMAND --help` lists the options).",
    "simio_unknown_condition_column": "Run `simio schema MODEL` and use the returned column "
                                      "names; cleaning may have renamed or dropped columns.",
    "simio_unknown_condition_level": "Run `simio schema MODEL` and use the returned `levels`; "
                                     "rare levels may have been removed by cleaning.",
    "simio_invalid_range": "Give both `min` and `max` as finite numbers with min <= max.",
    "simio_sheet_not_found": "Give one of the sheet names or 0-based indexes the detail "
                             "lists with --sheet.",
    "simio_no_table_found": "Name the data sheet with --sheet (and the header row with "
                            "--header-row N if it is below row 50); the detail lists the "
                            "sheets.",
    "simio_empty_file": "Give a file with a header row and at least one data row.",
    "simio_no_data_rows": "Give a file with at least one data row under the header.",
    "simio_unsupported_file_format": "Export the table as CSV, Parquet, .xlsx or .sav and "
                                     "pass that file.",
    "simio_unreadable_file": "Re-export the file from its source program and run the command "
                             "again.",
    "simio_no_usable_columns": "Check the dropped columns `simio train` lists; train on a "
                               "table with at least one categorical or numeric column that "
                               "varies.",
}
_SPECS = [replace(spec, cli_fix=_CLI_FIXES[spec.code]) if spec.code in _CLI_FIXES else spec
          for spec in _SPECS]

CATALOGUE: dict[str, ErrorSpec] = {spec.code: spec for spec in _SPECS}


class SimioError(ValueError):
    """An expected failure with a stable catalogue code and a detail for this input."""

    def __init__(self, code: str, detail: str, **context):
        if code not in CATALOGUE:
            raise KeyError(f"error code {code!r} is not in engine.errors.CATALOGUE")
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.context = context

    @property
    def spec(self) -> ErrorSpec:
        return CATALOGUE[self.code]

    @property
    def status(self) -> int:
        return self.spec.status


__all__ = ["CATALOGUE", "ErrorSpec", "SimioError"]
