"""The cleaned schema: the customer-facing contract after cleaning.

One ``Column`` per retained column, in cleaned-frame order. ``public_dict`` is exactly the
contract's schema entry (``name``, ``type``, ``levels`` | ``min``/``max``,
``conditioning_excluded``); the other fields are internal metadata the model and the
sampler need (kind, integer-ness, missing rate, source name and labels).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Public ``type`` vocabulary from the contract, split by how the engine models the column.
CATEGORICAL_TYPES = ("factor", "ordered", "character", "string", "logical", "boolean")
NUMERIC_TYPES = ("numeric", "integer", "double")
# Modelled as numeric (whole days / whole units of the seed's resolution since the epoch,
# engine/calendar.py); the public min/max are ISO 8601 texts.
CALENDAR_TYPES = ("date", "datetime")


@dataclass
class Column:
    name: str                      # identifier-safe, unique (see engine.cleaning.column_names)
    type: str                      # one of CATEGORICAL_TYPES + NUMERIC_TYPES + CALENDAR_TYPES
    source_name: str               # the header as it was in the seed file
    levels: list[str] | None = None          # categorical: levels in model order
    min: float | None = None                 # numeric: observed minimum
    max: float | None = None                 # numeric: observed maximum
    is_integer: bool = False                 # numeric: every observed value is whole
    missing_rate: float = 0.0                # share of seed rows with no value
    conditioning_excluded: bool = False      # kept for training, not usable in conditions
    label: str | None = None                 # SPSS variable label, if any
    value_labels: dict[str, str] | None = None  # SPSS code -> label, if any
    time_unit: str | None = None             # date/datetime: model unit ("D", "h", "m", "s", "ms", "us")
    timezone: str | None = None              # datetime: the seed's time zone (None = naive)
    # source-format attributes a writer gives back (``{"spss": {measure, display_width,
    # format, string, missing}}``, engine/io/spss.py); None for models saved before
    formats: dict | None = None

    @property
    def kind(self) -> str:
        return "categorical" if self.type in CATEGORICAL_TYPES else "numeric"

    def public_dict(self) -> dict:
        out: dict = {"name": self.name, "type": self.type}
        if self.kind == "categorical":
            out["levels"] = list(self.levels or [])
        elif self.type in CALENDAR_TYPES:
            from engine.calendar import format_value

            out["min"], out["max"] = format_value(self.min, self), format_value(self.max, self)
        else:
            out["min"] = _plain_number(self.min)
            out["max"] = _plain_number(self.max)
        out["conditioning_excluded"] = bool(self.conditioning_excluded)
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Column":
        return cls(**data)


def _plain_number(value):
    """Whole floats print as integers (18, not 18.0) so the JSON matches the contract."""
    if value is None:
        return None
    value = float(value)
    return int(value) if value.is_integer() else value


@dataclass
class Schema:
    columns: list[Column] = field(default_factory=list)

    def __post_init__(self):
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"schema column names must be unique: {names}")

    def __iter__(self):
        return iter(self.columns)

    def __len__(self):
        return len(self.columns)

    def __getitem__(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def __contains__(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def public(self) -> list[dict]:
        """The contract's ``schema`` array."""
        return [c.public_dict() for c in self.columns]

    def to_dict(self) -> dict:
        return {"columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, data: dict) -> "Schema":
        return cls([Column.from_dict(c) for c in data["columns"]])
