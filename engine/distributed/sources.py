"""A seed given as one file, a folder of partitions or a glob -> its files, in order."""

from __future__ import annotations

import glob
from pathlib import Path

from engine.errors import SimioError

# Files of a partition folder; names starting with "_" or "." (markers, temporary files)
# are never partitions, as Spark and pyarrow treat them.
PARTITION_SUFFIXES = (".parquet", ".csv", ".tsv", ".txt")


def partition_files(source) -> list[Path]:
    """Sorted by name, so ``part-00010`` follows ``part-00009`` as the rows did."""
    text = str(source)
    path = Path(text)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file()
                       and p.suffix.lower() in PARTITION_SUFFIXES
                       and not p.name.startswith(("_", ".")))
        where = f"folder {text}"
    elif any(ch in text for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file())
        where = f"pattern {text}"
    else:
        raise SimioError("simio_invalid_field", f"seed {text} is not a file, a folder or a "
                         "glob pattern that exists")
    if not files:
        raise SimioError("simio_invalid_field", f"{where} holds no Parquet or CSV partition "
                         "files")
    return files
