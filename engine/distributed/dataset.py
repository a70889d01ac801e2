"""A generation written on Dask workers as a partitioned Parquet dataset.

Layout of ``out_dir/``: ``part-00000.parquet``, ``part-00001.parquet``, ... (one file per
run of ``blocks_per_file`` blocks, rows in file-name order), ``_manifest.json`` (what was
generated: seed, rows, scenario, each file's first row and row count) and an empty
``_SUCCESS`` last. Readers that skip ``_`` and ``.`` names (pyarrow, Spark, pandas) read
the parts only.

Whole or not at all: the files are written into a private staging folder beside
``out_dir`` (each file itself atomically, so a worker killed mid-file leaves only a
temporary name that is never published), and the folder is renamed into place only when
every file, the manifest and the marker are there. Any failure removes the staging
folder; an existing ``out_dir`` is replaced only by a complete new dataset, and only if it
is an earlier dataset (it has a manifest) or empty.

The model travels as its saved file (``Synthesizer.save``, no pickle) in the staging
folder, so workers must see the output folder (one machine, or a shared file system).
A worker generates one chunk of blocks at a time (the chunk one process uses) and
appends it to its file: its memory follows the chunk, not the row count. A conditioned
scenario is solved and its integer counts allocated once on the client (shares exact over
the whole dataset) and split over the blocks; the workers draw each block's rows for its
counts and decode their values (``conditioned``; ranges hold in every row).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from engine import rng
from engine.distributed.blocks import conditioned_rows, unconditioned_rows
from engine.errors import SimioError
from engine.io.atomic import fsync_dir, write_text
from engine.io.writers import TableWriter
from engine.sampling import forward

MANIFEST = "_manifest.json"
SUCCESS = "_SUCCESS"
MODEL_FILE = "_model.simio"
# 16 blocks = 1,048,576 rows per file: files big enough for Parquet readers, small enough
# that a lost worker costs little to redo.
BLOCKS_PER_FILE = 16
# Blocks a worker makes at once: one process's chunk (forward.DEFAULT_CHUNK_ROWS), whose
# per-call overhead is amortised over 262,144 rows; a worker's memory follows it, not N.
CHUNK_BLOCKS = forward.DEFAULT_CHUNK_ROWS // rng.BLOCK_ROWS
FORMAT = "simio-dataset"
FORMAT_VERSION = 1


def write_dataset(synth, path, n: int, *, seed: int | None = None,
                  conditions: dict | None = None, client=None, on_blocks=None,
                  blocks_per_file: int = BLOCKS_PER_FILE):
    """Generate ``n`` rows into the dataset folder ``path``; returns the ``Generation``
    (without frames). ``on_blocks(done, total)`` after each file the workers finish."""
    from engine.synthesizer import Generation, _row_count

    model = synth._fitted()
    n = _row_count(n)
    seed = rng.resolve_seed(seed)
    client = client if client is not None else _default_client()
    path = Path(path)
    _check_target(path)
    scenario = _scenario(synth, model, conditions)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
    futures = []
    try:
        model_file = str(synth.save(staging / MODEL_FILE))
        plan = _plan(client, synth, model, model_file, n, seed, scenario)
        files = _file_ranges(plan["rows"], blocks_per_file)
        total = math.ceil(plan["rows"] / rng.BLOCK_ROWS)
        for index, first_block, rows in files:
            draw = None
            if plan["draw"] is not None:
                last = first_block + math.ceil(rows / rng.BLOCK_ROWS)
                draw = {**plan["draw"],
                        "block_counts": plan["draw"]["block_counts"][first_block:last]}
            futures.append(client.submit(
                _write_part, model_file, str(staging / _part_name(index)), seed, first_block,
                rows, draw, plan["bin_bounds"], pure=False))
        _wait(client, futures, total, on_blocks)
        os.unlink(model_file)
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "seed": seed,
                    "rows_requested": n, "rows": plan["rows"], "block_rows": rng.BLOCK_ROWS,
                    "scenario": plan["scenario"],
                    "files": [{"name": _part_name(i), "first_row": b * rng.BLOCK_ROWS,
                               "rows": r} for i, b, r in files]}
        write_text(staging / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        _remove_strays(staging, {f["name"] for f in manifest["files"]})
        write_text(staging / SUCCESS, "")
        _publish(staging, path)
    except BaseException:
        for future in futures:
            future.cancel()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Generation(n, plan["rows"], seed, scenario=plan["scenario"],
                      upweight_needed=plan["upweight_needed"],
                      scenario_support=plan["support"])


def read_dataset(path):
    """The rows of a dataset this module wrote, in order (its manifest's file order)."""
    import pandas as pd

    path = Path(path)
    if not (path / SUCCESS).is_file():
        raise SimioError("simio_invalid_field", f"{path} is not a complete simio dataset "
                         f"(no {SUCCESS} marker)")
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    return pd.concat([pd.read_parquet(path / f["name"]) for f in manifest["files"]],
                     ignore_index=True)


# -- the plan, on the client -------------------------------------------------------------

def _scenario(synth, model, conditions):
    from engine.model.relations import translate_conditions
    from engine.sampling.conditions import calendar_units, parse_conditions

    conditions = translate_conditions(model, calendar_units(model.schema_, conditions))
    return parse_conditions(model.schema_, conditions, synth._dropped_columns())


def _plan(client, synth, model, model_file, n, seed, scenario) -> dict:
    """Rows to write; for a scenario, its counts per cell and block (``conditioned``)."""
    from engine.distributed import conditioned
    from engine.quality.conditioning import scenario_support

    if scenario.is_empty:
        return {"rows": n, "draw": None, "bin_bounds": None, "scenario": {},
                "upweight_needed": 1.0, "support": None}
    plan = conditioned.plan(client, model, model_file, n, scenario, seed, synth.max_upweight)
    solution = plan["solution"]
    return {"rows": plan["rows"], "bin_bounds": solution.bin_bounds,
            "draw": {"spec": plan["spec"], "cells": plan["cells"],
                     "block_counts": plan["block_counts"]},
            "scenario": scenario.to_dict(), "upweight_needed": solution.upweight_needed,
            "support": scenario_support(getattr(synth, "seed_marginals_", None), solution)}


def _file_ranges(rows: int, blocks_per_file: int) -> list[tuple[int, int, int]]:
    """(file index, first block, rows) of each file."""
    if blocks_per_file < 1:
        raise ValueError("blocks_per_file must be at least 1")
    per_file = blocks_per_file * rng.BLOCK_ROWS
    return [(i, i * blocks_per_file, min(per_file, rows - i * per_file))
            for i in range(math.ceil(rows / per_file))]


def _part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


# -- on a worker -------------------------------------------------------------------------

_LOADED: dict = {}


def _write_part(model_file, part_path, seed, first_block, rows, draw, bin_bounds) -> int:
    """Write one file, one chunk of ``CHUNK_BLOCKS`` blocks at a time (the chunk one
    process uses: the same memory per worker); returns the blocks written. ``draw``: a
    scenario's cells and this file's counts per block and cell (``conditioned``)."""
    from engine.distributed.conditioned import _pool, block_states

    model = _load(model_file).model_
    blocks = math.ceil(rows / rng.BLOCK_ROWS)
    pool = None if draw is None else _pool(model, draw["spec"], seed)
    with TableWriter(part_path, "parquet") as writer:
        for b in range(0, blocks, CHUNK_BLOCKS):
            lo = b * rng.BLOCK_ROWS
            take = min(CHUNK_BLOCKS * rng.BLOCK_ROWS, rows - lo)
            if draw is None:
                frame = unconditioned_rows(model, seed, first_block + b, take)
            else:
                states = np.concatenate([
                    block_states(model, draw["spec"], draw["cells"], draw["block_counts"][k],
                                 seed, first_block + k, pool)
                    for k in range(b, min(b + CHUNK_BLOCKS, blocks))])
                frame = conditioned_rows(model, seed, first_block + b, states, bin_bounds)
            writer.write(frame)
    return blocks


def _load(model_file):
    """The worker's model, loaded once per run (the one most recently asked for)."""
    from engine.synthesizer import Synthesizer

    if model_file not in _LOADED:
        _LOADED.clear()
        _LOADED[model_file] = Synthesizer.load(model_file)
    return _LOADED[model_file]


# -- publishing ---------------------------------------------------------------------------

def _wait(client, futures, total, on_blocks) -> None:
    from distributed import as_completed

    done = 0
    try:
        for future in as_completed(futures):
            done += future.result()
            if on_blocks is not None:
                on_blocks(done, total)
    except SimioError:
        raise
    except Exception as exc:  # noqa: BLE001 - the cluster's failures become one clear error
        if not _is_cluster_failure(exc):
            raise
        raise SimioError("simio_cluster_unavailable",
                         f"the cluster lost the generation ({type(exc).__name__}: {exc}); "
                         "nothing was written") from exc


def _is_cluster_failure(exc) -> bool:
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    import concurrent.futures

    return isinstance(exc, (KilledWorker, CommClosedError, concurrent.futures.CancelledError,
                            TimeoutError))


def _check_target(path: Path) -> None:
    if not path.parent.is_dir():
        raise SimioError("simio_invalid_field", f"output directory {path.parent} does not "
                         "exist")
    if path.exists() and not _replaceable(path):
        raise SimioError("simio_invalid_field", f"{path} exists and is not an earlier simio "
                         "dataset; give a new folder name (or remove it)")


def _replaceable(path: Path) -> bool:
    return path.is_dir() and ((path / MANIFEST).is_file() or not any(path.iterdir()))


def _remove_strays(staging: Path, keep: set) -> None:
    """Temporary files a killed worker left behind (never renamed, never published)."""
    for p in staging.iterdir():
        if p.name not in keep and p.name not in (MANIFEST, SUCCESS):
            p.unlink()


def _publish(staging: Path, path: Path) -> None:
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        os.replace(path, old / path.name)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, path)
    fsync_dir(path.parent)


def _default_client():
    from engine.distributed.fit import current_client

    return current_client("writing a dataset")
