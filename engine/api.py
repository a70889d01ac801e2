"""The engine's one public face for its two front ends: the ``simio`` command line
(``engine/cli.py``) and the local server (``localapi``). They import the engine only from
here and from ``engine.errors`` (tests/test_architecture.py holds them to it).

What the front ends do, and the names that do it:

- read a seed: ``read_table`` (any seed format), ``sniff`` (the cheap format check of an
  upload), ``read_frame`` (a seed format or an Arrow file ``generate`` wrote);
- clean and fit: ``clean``, ``Synthesizer`` (``fit``/``save``/``load``/``write``),
  ``on_stage_change`` and ``progress_for_stream`` (fit progress), ``Schema``;
- a generation request: ``as_body``, ``parse_request`` -> ``GenerationRequest``,
  ``check_seed``, ``validate_conditions`` (against a schema), ``resolve_seed`` (a request
  without a seed gets one, drawn once), the formats ``FORMATS``/``EXTENSIONS``/
  ``CONTENT_TYPES``/``format_from_suffix``;
- write: ``write_text``/``write_bytes``/``move_into_place`` (the one atomic writer,
  ``engine.io.atomic``), and
  ``Synthesizer.write`` for rows; ``read_output`` reads an output back;
- report: ``build_report``, ``support_warning``.

Only the request rules and the format list load at import; everything else loads on first
use, so ``simio --help`` stays light.
"""

from __future__ import annotations

from pathlib import Path

from engine._lazy import lazy_attributes
from engine.errors import SimioError
from engine.formats import CONTENT_TYPES, EXTENSIONS, FORMATS, format_from_suffix, output_format
from engine.generation_request import (
    REQUEST_FIELDS, SEED_MAX, GenerationRequest, as_body, check_seed, parse_request,
)

_LAZY = {
    "Synthesizer": "engine.synthesizer", "Generation": "engine.synthesizer",
    "warm_up": "engine.synthesizer", "Schema": "engine.schema", "read_table": "engine.io",
    "read_output": "engine.io.writers", "sniff": "engine.io.detect",
    "check_upload_sheet": "engine.io.excel",
    "clean": "engine.cleaning", "build_report": "engine.quality.report",
    "support_warning": "engine.quality.conditioning", "on_stage_change": "engine.progress",
    "write_text": "engine.io.atomic", "write_bytes": "engine.io.atomic",
    "move_into_place": "engine.io.atomic",
    "resolve_seed": "engine.rng", "QUICKSTART_SCENARIO": "engine.datasets",
    "quickstart_frame": "engine.datasets", "init_target_for_cli": "engine._numba",
    # Dask (the `dask` extra): loaded only by `--dask`
    "fit_on_cluster": "engine.distributed.commands",
    "generate_on_cluster": "engine.distributed.commands",
    "write_on_cluster": "engine.distributed.one_file",
}
__all__ = ["CONTENT_TYPES", "EXTENSIONS", "FORMATS", "REQUEST_FIELDS", "SEED_MAX",
           "GenerationRequest", "SimioError", "as_body", "check_seed", "format_from_suffix",
           "output_format",
           "parse_request", "progress_for_stream", "read_frame", "read_scenario_file",
           "validate_conditions", *_LAZY]


__getattr__ = lazy_attributes("engine.api", _LAZY)


def validate_conditions(schema, conditions, dropped: list[dict] | None = None):
    """Check ``conditions`` against a fitted schema (400-class ``SimioError`` on any
    problem) before any work is accepted; returns the normalised scenario."""
    from engine.sampling.conditions import parse_conditions

    return parse_conditions(schema, conditions, dropped)


def progress_for_stream(stream):
    """Fit progress on ``stream``: a bar per stage on a terminal, one line each otherwise."""
    from engine import progress

    return progress.for_stream(stream)


def read_scenario_file(path) -> dict:
    """A scenario file as a request body (``as_body``): JSON, an object."""
    import json

    try:
        scenario = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SimioError("simio_invalid_field", f"scenario file {path} does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimioError("simio_invalid_field", f"scenario file {path} is not valid JSON "
                         f"({exc})") from None
    return as_body(scenario, what=f"scenario file {path}")


def read_frame(path):
    """A table from any seed format, or an Arrow IPC file (a ``generate --format arrow``
    output, which the seed readers do not take)."""
    from engine.io import read_table

    path = Path(path)
    if not path.is_file():
        raise SimioError("simio_invalid_field", f"file {path} does not exist")
    with path.open("rb") as fh:
        magic = fh.read(6)
    if magic == b"ARROW1":
        import pyarrow.ipc as ipc

        try:
            with ipc.open_file(path) as reader:
                return reader.read_all().to_pandas()
        except Exception as exc:  # noqa: BLE001 - any pyarrow failure is an unreadable file
            raise SimioError("simio_unreadable_file",
                             f"{path.name} looks like an Arrow file but could not be read "
                             f"({exc})") from None
    return read_table(path).frame
