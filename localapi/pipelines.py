"""What the jobs do: train a dataset's model, generate a dataset's rows.

Files live under the data dir: ``datasets/<id>/seed<ext>`` and ``model.simio``,
``generations/<id>/synthetic.<ext>``. Every file is written to a temporary name and renamed
into place, and a record only points at a file once the file is complete.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import OrderedDict
from pathlib import Path

from engine.api import (
    EXTENSIONS, Synthesizer, on_stage_change, read_output, read_table, write_text,
)
from localapi.clock import now
from localapi.db import transaction
from localapi.store import quotas, records

MODEL_FILE = "model.simio"
# Models kept in memory per server: loading a model file costs milliseconds, but a busy
# tenant generating from the same dataset should not pay it on every request.
MODEL_CACHE_SIZE = 16


def dataset_dir(app, dataset_id) -> Path:
    return Path(app.config["SIMIO"].data_dir) / "datasets" / dataset_id


def generation_dir(app, generation_id) -> Path:
    return Path(app.config["SIMIO"].data_dir) / "generations" / generation_id


def seed_path(app, dataset_id) -> Path:
    found = sorted(dataset_dir(app, dataset_id).glob("seed*"))
    if not found:
        raise FileNotFoundError(f"seed file of {dataset_id} is missing")
    return found[0]


# How to read the seed (the upload's ``sheet`` field), beside it: no schema change, and
# it goes when the dataset's folder goes.
READ_OPTIONS = "read_options.json"


def save_read_options(folder: Path, *, sheet=None) -> None:
    if sheet is not None:
        write_text(folder / READ_OPTIONS, json.dumps({"sheet": sheet}))


def read_seed(app, dataset):
    """The dataset's seed as a RawTable, read as its upload asked (``sheet``)."""
    options_file = dataset_dir(app, dataset["dataset_id"]) / READ_OPTIONS
    options = json.loads(options_file.read_text()) if options_file.is_file() else {}
    return read_table(seed_path(app, dataset["dataset_id"]), filename=dataset["seed_name"],
                      sheet=options.get("sheet"))


# --- training ------------------------------------------------------------------------

def run_dataset_create(app, conn, job, set_stage) -> None:
    dataset = records.dataset(conn, job["dataset_id"], now=None, ready_only=False)
    if dataset["status"] != "processing":   # finished before a restart re-queued the job
        return
    started = time.perf_counter()
    for stale in dataset_dir(app, dataset["dataset_id"]).glob(".*.tmp"):
        stale.unlink(missing_ok=True)            # a killed attempt's temporary model file
    set_stage("reading")
    raw = read_seed(app, dataset)
    # The job's stage follows the fit's stages (engine.progress.FIT_STAGES), one write each.
    synth = Synthesizer(auto_clean=bool(dataset["auto_clean"])).fit(
        raw, progress=on_stage_change(lambda stage: set_stage(f"training:{stage}")))
    set_stage("saving")
    synth.save(dataset_dir(app, dataset["dataset_id"]) / MODEL_FILE)
    finished = now(app)
    with transaction(conn):
        records.finish_dataset(
            conn, dataset["dataset_id"], schema=synth.schema_.to_dict(),
            cleaning_summary=synth.cleaning_summary_, trained_at=finished,
            duration_ms=int((time.perf_counter() - started) * 1000),
            expires_at=finished + app.config["SIMIO"].dataset_ttl_seconds)


def _dataset_failed(app, conn, job, _code) -> None:
    with transaction(conn):
        records.set_dataset_status(conn, job["dataset_id"], "failed")
    shutil.rmtree(dataset_dir(app, job["dataset_id"]), ignore_errors=True)


run_dataset_create.on_failure = _dataset_failed


# --- generation ----------------------------------------------------------------------

_models: "OrderedDict[str, Synthesizer]" = OrderedDict()
_models_lock = threading.Lock()


def load_synthesizer(app, dataset_id) -> Synthesizer:
    path = dataset_dir(app, dataset_id) / MODEL_FILE
    key = f"{path}:{path.stat().st_mtime_ns}"
    with _models_lock:
        if key in _models:
            _models.move_to_end(key)
            return _models[key]
    synth = Synthesizer.load(path)
    with _models_lock:
        _models[key] = synth
        while len(_models) > MODEL_CACHE_SIZE:
            _models.popitem(last=False)
    return synth


def forget_model(app, dataset_id) -> None:
    prefix = f"{dataset_dir(app, dataset_id) / MODEL_FILE}:"
    with _models_lock:
        for key in [k for k in _models if k.startswith(prefix)]:
            del _models[key]


def run_generation_create(app, conn, job, set_stage) -> None:
    import json

    gen = records.generation(conn, job["generation_id"], now=None)
    if gen["status"] != "processing":       # finished before a restart re-queued the job
        return
    request = json.loads(gen["request_json"])
    set_stage("loading_model")
    synth = load_synthesizer(app, gen["dataset_id"])
    set_stage("generating")
    out_dir = generation_dir(app, gen["generation_id"])
    shutil.rmtree(out_dir, ignore_errors=True)   # a killed attempt's temporary file
    out_dir.mkdir(parents=True)
    artifact = out_dir / f"synthetic{EXTENSIONS[gen['output_format']]}"
    write = synth.write
    if app.config["SIMIO"].dask_address:        # SIMIO_DASK_ADDRESS: docs/distributed.md
        from functools import partial

        from engine.api import write_on_cluster

        write = partial(write_on_cluster, synth, address=app.config["SIMIO"].dask_address)
    result = write(artifact, gen["rows_requested"], fmt=gen["output_format"],
                   seed=gen["seed"], conditions=request.get("conditions"),
                   formula_guard=app.config["SIMIO"].csv_formula_guard)
    finished = now(app)
    with transaction(conn):
        records.finish_generation(
            conn, gen["generation_id"], status=result.status,
            rows_generated=result.rows_generated, artifact_path=str(artifact),
            expires_at=finished + app.config["SIMIO"].generation_ttl_seconds)
        quotas.commit(conn, gen["tenant_id"], gen["rows_requested"], result.rows_generated)


def _generation_failed(app, conn, job, _code) -> None:
    gen = records.generation(conn, job["generation_id"], now=None)
    with transaction(conn):
        if gen is not None and gen["status"] == "processing":
            quotas.release(conn, gen["tenant_id"], gen["rows_requested"])
        records.set_generation_status(conn, job["generation_id"], "failed")
    shutil.rmtree(generation_dir(app, job["generation_id"]), ignore_errors=True)


run_generation_create.on_failure = _generation_failed


# --- reports -------------------------------------------------------------------------

def generation_report(app, gen, dataset) -> str:
    """The HTML quality report: the dataset's cleaned seed vs the generation's rows."""
    import json

    from engine.api import build_report, clean

    raw = read_seed(app, dataset)
    real = clean(raw, auto_clean=bool(dataset["auto_clean"])).frame
    synthetic = read_output(gen["artifact_path"], gen["output_format"])
    request = json.loads(gen["request_json"])
    scenario = ({"conditions": request["conditions"], "row_count": gen["rows_requested"]}
                if request.get("conditions") else None)
    return build_report(real, synthetic, scenario=scenario,
                        title=f"Generation {gen['generation_id']}")
