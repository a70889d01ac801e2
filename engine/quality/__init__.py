"""Quality of a synthetic table against its seed: fidelity, privacy and conditioning, and
the self-contained HTML report that shows them (``build_report``).

The names load on first use (PEP 562): ``simio generate`` imports
``engine.quality.conditioning`` for the scenario-support line and must not pay for scipy,
scikit-learn or the report's plotting with it.
"""

from importlib import import_module

_HOMES = {
    "conditioning_report": "conditioning",
    "QualityReport": "metrics", "column_shape": "metrics", "pair_trend": "metrics",
    "quality_report": "metrics",
    "dcr_share": "privacy", "exact_copy_rate": "privacy",
    "build_report": "report",
}

__all__ = list(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
