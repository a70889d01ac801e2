"""Retention: the sweeper that removes what has expired, and the file removal DELETE uses.

What the API shows never waits for the sweeper: every read already treats a record past its
``expires_at`` as not found (``records.dataset`` / ``records.generation`` compare with the
clock). The sweeper makes the disk agree, and ends jobs nobody will run:

- **Datasets**: the directory (seed + model) of a dataset that expired, was deleted, or
  failed is removed, and its model dropped from the in-memory cache. The row stays (status
  ``ready`` past ``expires_at``, or ``deleted`` / ``failed``) as a tombstone, so ``seq`` is
  never reused and cursors stay stable. Directories are found by scanning
  ``datasets/``, so files a training job wrote after its dataset was deleted are removed too.
- **Generations**: the artifact directory of a generation past its own ``expires_at`` is
  removed (a generation keeps its own window even when its dataset expires or is deleted;
  the API stops serving a deleted dataset's generations at once).
- **Jobs**: a job still ``queued`` past its ``expires_at`` becomes ``expired`` (a terminal
  status in the contract); a queued generation's reserved rows are released and the
  generation marked failed, a queued training's dataset marked failed. Running jobs are
  left to their worker; finished jobs keep their status.
- **Orphans**: a dataset or generation directory with no row at all (a request that died
  between creating the directory and committing the row) is removed once it is older
  than ``ORPHAN_GRACE`` real seconds (younger ones may be an upload being committed).
- **Staging**: upload temp files left by a killed server, older than a day.

``sweep(app, now)`` does one pass and returns counts; ``start(app, interval)`` runs it every
``interval`` seconds on a daemon thread (``create_app`` does, with config extra
``sweep_interval``: default 60, 0 disables). Expiries are audited as ``system:retention``.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import weakref
from pathlib import Path

from localapi import pipelines
from localapi.clock import now as clock_now
from localapi.db import connect, transaction
from localapi.store import audit, job_states, quotas, records

log = logging.getLogger("simio.retention")
ACTOR = "system:retention"
DEFAULT_INTERVAL = 60
STAGING_MAX_AGE = 24 * 3600      # real seconds since an upload temp file was last written
ORPHAN_GRACE = 600               # real seconds before a directory without a row is removed


def remove_dataset_files(app, dataset_id) -> bool:
    """Remove the dataset's seed and model and forget its cached model; True if there was
    a directory to remove."""
    pipelines.forget_model(app, dataset_id)
    folder = pipelines.dataset_dir(app, dataset_id)
    existed = folder.exists()
    shutil.rmtree(folder, ignore_errors=True)
    return existed


def end_queued_job(db, job, event: str, *, now: float, actor: str | None = None) -> bool:
    """Inside the caller's transaction: end a queued job by ``event`` (``cancel`` or
    ``expire``), and undo what its request reserved (rows for a generation; a training's
    dataset is marked failed unless it was deleted)."""
    if not job_states.transition(db, job, event, now=now, actor=actor,
                                 detail={"job_type": job["job_type"]}):
        return False
    if job["job_type"] == "generation_create" and job["generation_id"]:
        gen = records.generation(db, job["generation_id"], now=None)
        if gen is not None and gen["status"] == "processing":
            quotas.release(db, gen["tenant_id"], gen["rows_requested"])
            records.set_generation_status(db, gen["generation_id"], "failed")
    elif job["job_type"] == "dataset_create" and job["dataset_id"]:
        records.fail_processing_dataset(db, job["dataset_id"])
    return True


def sweep(app, now: float | None = None) -> dict:
    """One retention pass at ``now`` (the app's clock by default); counts of what it did."""
    now = clock_now(app) if now is None else now
    counts = {"jobs": 0, "datasets": 0, "generations": 0, "staging": 0, "orphans": 0}
    conn = connect(app)
    try:
        with transaction(conn):
            for job in job_states.expired_queued(conn, now=now):
                if end_queued_job(conn, job, "expire", now=now, actor=ACTOR):
                    counts["jobs"] += 1
        for folder in _subdirs(pipelines.dataset_dir(app, "x").parent):
            row = records.dataset(conn, folder.name, now=None, ready_only=False)
            if row is None:
                if _orphaned(folder):
                    pipelines.forget_model(app, folder.name)
                    shutil.rmtree(folder, ignore_errors=True)
                    counts["orphans"] += 1
                continue
            if row["status"] == "processing":
                continue             # a training job's files
            if row["status"] == "ready" and row["expires_at"] > now:
                continue
            if remove_dataset_files(app, folder.name):
                counts["datasets"] += 1
                if row["status"] == "ready":
                    with transaction(conn):
                        audit.record(conn, at=now, actor=ACTOR, action="dataset_expired",
                                     subject=folder.name,
                                     detail={"tenant_id": row["tenant_id"]})
        for folder in _subdirs(pipelines.generation_dir(app, "x").parent):
            row = records.generation(conn, folder.name, now=None)
            if row is None:
                if _orphaned(folder):
                    shutil.rmtree(folder, ignore_errors=True)
                    counts["orphans"] += 1
                continue
            if row["status"] == "processing" or row["expires_at"] > now:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            counts["generations"] += 1
            with transaction(conn):
                audit.record(conn, at=now, actor=ACTOR, action="generation_expired",
                             subject=folder.name, detail={"tenant_id": row["tenant_id"]})
        counts["staging"] = _sweep_staging(Path(app.config["SIMIO"].data_dir) / "staging")
    finally:
        conn.close()
    return counts


def _orphaned(folder: Path) -> bool:
    try:
        return folder.stat().st_mtime < time.time() - ORPHAN_GRACE
    except FileNotFoundError:
        return False


def _subdirs(parent: Path) -> list[Path]:
    try:
        return sorted(p for p in parent.iterdir() if p.is_dir())
    except FileNotFoundError:
        return []


def _sweep_staging(staging: Path) -> int:
    removed, cutoff = 0, time.time() - STAGING_MAX_AGE
    try:
        entries = list(staging.iterdir())
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def start(app, interval: float) -> threading.Thread | None:
    """Sweep every ``interval`` seconds on a daemon thread (none for 0 or less). The thread
    holds the app weakly and stops once the app is gone or ``stop()`` is called."""
    if not interval or interval <= 0:
        return None
    stop_event = threading.Event()
    app_ref = weakref.ref(app)

    def loop():
        while not stop_event.wait(interval):
            target = app_ref()
            if target is None:
                return
            try:
                counts = sweep(target)
                if any(counts.values()):
                    log.info("retention sweep: %s", counts)
            except Exception:   # never let the sweeper die; try again next interval
                log.exception("retention sweep failed")
            finally:
                del target

    thread = threading.Thread(target=loop, name="simio-retention", daemon=True)
    thread.stop = stop_event.set
    thread.start()
    return thread
