"""Regenerate the sample seeds in data/: python3 data/make_seeds.py

Writes the contract's Python quickstart seed (n=800, rng seed 7) as CSV, SPSS .sav, Excel
.xlsx and Parquet. Output is byte-for-byte reproducible for a given library version: the
timestamps that .sav and .xlsx normally embed are pinned.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat

DATA = Path(__file__).resolve().parent
sys.path.insert(0, str(DATA.parent))

from engine.datasets import (  # noqa: E402
    CHANNEL_LEVELS, REGION_LEVELS, SEGMENT_LEVELS, quickstart_frame,
)
from engine.io.writers import write_table  # noqa: E402

VARIABLE_LABELS = {
    "age": "Respondent age in years",
    "segment": "Customer value segment",
    "channel": "Main purchase channel",
    "region": "US Census region",
    "purchase_intent": "Purchase intent score (0-100)",
}
LEVELS = {"segment": SEGMENT_LEVELS, "channel": CHANNEL_LEVELS, "region": REGION_LEVELS}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)                    # earliest time a ZIP entry can hold
FIXED_ISO = "2024-01-01T00:00:00Z"


def main() -> None:
    df = quickstart_frame(n=800, seed=7)
    write_table(df, DATA / "quickstart_seed.csv", "csv")
    write_table(df, DATA / "quickstart_seed.parquet", "parquet")
    write_sav(df, DATA / "quickstart_seed.sav")
    write_xlsx(df, DATA / "quickstart_seed.xlsx")
    for name in ("csv", "sav", "xlsx", "parquet"):
        print(DATA / f"quickstart_seed.{name}")


def write_sav(df: pd.DataFrame, path: Path) -> None:
    """Categoricals as codes 1..k with value labels; segment ordinal, the rest nominal."""
    coded = df.copy()
    value_labels = {}
    for col, levels in LEVELS.items():
        coded[col] = coded[col].map({lvl: i for i, lvl in enumerate(levels, 1)}).astype("int64")
        value_labels[col] = {i: lvl for i, lvl in enumerate(levels, 1)}
    measure = {"age": "scale", "segment": "ordinal", "channel": "nominal",
               "region": "nominal", "purchase_intent": "scale"}
    pyreadstat.write_sav(coded, path, column_labels=VARIABLE_LABELS,
                         variable_value_labels=value_labels, variable_measure=measure,
                         variable_format={col: "F8.0" for col in coded.columns})
    _pin_sav_timestamp(path)


def _pin_sav_timestamp(path: Path) -> None:
    # The .sav header holds the creation date (9 bytes at offset 92) and time (8 bytes at
    # 101), after the 4+60+5*4+8 bytes of magic, product name, five int32 fields and bias.
    raw = bytearray(path.read_bytes())
    assert raw[:4] == b"$FL2"
    raw[92:101], raw[101:109] = b"01 Jan 24", b"00:00:00"
    path.write_bytes(bytes(raw))


def write_xlsx(df: pd.DataFrame, path: Path) -> None:
    df.to_excel(path, index=False, sheet_name="quickstart_seed", engine="openpyxl")
    # openpyxl stamps "now" into docProps/core.xml and into every ZIP entry; pin both.
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", FIXED_ISO.encode(), data)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)


if __name__ == "__main__":
    main()
