"""Module attributes that load their module on first use (PEP 562 ``__getattr__``).

``engine``, ``engine.io`` and ``engine.api`` name heavy things (the synthesizer, the
readers, the Dask commands) without importing them, so a command that never touches them
starts quickly.
"""

from __future__ import annotations

import importlib


def lazy_attributes(module: str, where: dict[str, str]):
    """A module ``__getattr__`` serving each name in ``where`` from the module it maps to."""

    def __getattr__(name):
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
