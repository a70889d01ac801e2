"""The output formats, by name: the one list every writer, reader and caller uses.

Kept free of imports (pyarrow, pandas) so ``simio --help`` can list the formats without
loading them; ``engine.io.writers`` writes them and re-exports these names.
"""

from __future__ import annotations

FORMATS = ("parquet", "csv", "arrow")
CONTENT_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv",
    "arrow": "application/vnd.apache.arrow.file",
}
EXTENSIONS = {"parquet": ".parquet", "csv": ".csv", "arrow": ".arrow"}
# Extra spellings a file name may use for a format (``.feather`` is Arrow IPC).
SUFFIX_ALIASES = {".feather": "arrow"}
DEFAULT_FORMAT = "parquet"


def format_from_suffix(path) -> str:
    """The format a file name asks for by its extension; parquet when it names none."""
    suffix = "." + str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    by_suffix = {ext: fmt for fmt, ext in EXTENSIONS.items()} | SUFFIX_ALIASES
    return by_suffix.get(suffix, DEFAULT_FORMAT)
