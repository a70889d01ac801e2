"""SQL for datasets, generations and jobs (the records the guided workflow creates)."""

from __future__ import annotations

import json


def ping(db) -> None:
    """Raise unless the store answers a query (the health check)."""
    db.execute("SELECT 1").fetchone()


def next_seq(db, table: str) -> int:
    # Monotonic per table: newest-first listings and cursors order by it.
    return db.execute(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}").fetchone()[0]


# --- datasets -----------------------------------------------------------------------

def insert_dataset(db, *, dataset_id, tenant_id, display_name, auto_clean, seed_name,
                   seed_sha256, now, expires_at) -> None:
    db.execute("INSERT INTO datasets (dataset_id, tenant_id, display_name, status, auto_clean, "
               "seed_name, seed_sha256, created_at, expires_at, last_used_at, seq) "
               "VALUES (?, ?, ?, 'processing', ?, ?, ?, ?, ?, ?, ?)",
               (dataset_id, tenant_id, display_name, int(auto_clean), seed_name, seed_sha256,
                now, expires_at, now, next_seq(db, "datasets")))


def dataset(db, dataset_id, tenant_id=None, *, now, ready_only=True):
    """The dataset row, or None if missing, another tenant's, expired or not ready.

    ``now`` is required so that no caller skips expiry by omission: pass the request's
    time, or ``None`` where an expired row is still wanted (the runner, the sweeper,
    deletion), and say why at the call."""
    row = db.execute("SELECT * FROM datasets WHERE dataset_id = ?", (dataset_id,)).fetchone()
    if row is None or (tenant_id is not None and row["tenant_id"] != tenant_id):
        return None
    if ready_only and row["status"] != "ready":
        return None
    if now is not None and row["expires_at"] <= now:
        return None
    return row


def finish_dataset(db, dataset_id, *, schema, cleaning_summary, trained_at, duration_ms,
                   expires_at) -> None:
    # Only a dataset still processing becomes ready: one deleted while its training job
    # ran stays deleted.
    db.execute("UPDATE datasets SET status = 'ready', schema_json = ?, cleaning_summary = ?, "
               "trained_at = ?, duration_ms = ?, expires_at = ?, last_used_at = ? "
               "WHERE dataset_id = ? AND status = 'processing'",
               (json.dumps(schema), json.dumps(cleaning_summary), trained_at, duration_ms,
                expires_at, trained_at, dataset_id))


def touch_dataset(db, dataset_id, *, now, expires_at) -> None:
    db.execute("UPDATE datasets SET last_used_at = ?, expires_at = MAX(expires_at, ?) "
               "WHERE dataset_id = ?", (now, expires_at, dataset_id))


def fail_processing_dataset(db, dataset_id) -> None:
    # A queued training that will never run: its dataset fails, unless already deleted.
    db.execute("UPDATE datasets SET status = 'failed' WHERE dataset_id = ? "
               "AND status = 'processing'", (dataset_id,))


def set_dataset_status(db, dataset_id, status) -> None:
    # A deleted dataset stays deleted (a training job failing after the DELETE).
    db.execute("UPDATE datasets SET status = ? WHERE dataset_id = ? AND status != 'deleted'",
               (status, dataset_id))


def list_datasets(db, tenant_id, *, now, before_seq=None, limit):
    """The tenant's ready, unexpired datasets, newest (highest ``seq``) first, after the
    cursor position ``before_seq``; ``limit`` rows at most."""
    return db.execute(
        "SELECT dataset_id, status, display_name, created_at, expires_at, seq FROM datasets "
        "WHERE tenant_id = ? AND status = 'ready' AND expires_at > ? AND seq < ? "
        "ORDER BY seq DESC LIMIT ?",
        (tenant_id, now, _after(before_seq), limit)).fetchall()


def extend_dataset(db, dataset_id, *, now, expires_at) -> None:
    db.execute("UPDATE datasets SET expires_at = ?, last_used_at = ? WHERE dataset_id = ?",
               (expires_at, now, dataset_id))


def delete_dataset(db, dataset_id, *, now) -> None:
    """Mark deleted (the row stays as a tombstone: ``seq`` is never reused, and a repeated
    DELETE or another tenant's probe is answered from it)."""
    db.execute("UPDATE datasets SET status = 'deleted', last_used_at = ? WHERE dataset_id = ?",
               (now, dataset_id))


def _after(before_seq) -> int:
    return 2 ** 63 - 1 if before_seq is None else before_seq


# --- generations ------------------------------------------------------------------------

def insert_generation(db, *, generation_id, dataset_id, tenant_id, output_format,
                      rows_requested, seed, request, now, expires_at) -> None:
    db.execute("INSERT INTO generations (generation_id, dataset_id, tenant_id, status, "
               "output_format, rows_requested, seed, request_json, created_at, expires_at, seq) "
               "VALUES (?, ?, ?, 'processing', ?, ?, ?, ?, ?, ?, ?)",
               (generation_id, dataset_id, tenant_id, output_format, rows_requested, seed,
                json.dumps(request, sort_keys=True), now, expires_at,
                next_seq(db, "generations")))


def generation(db, generation_id, tenant_id=None, *, now):
    """The generation row, or None if missing, another tenant's or expired (``now``
    required, as for ``dataset``)."""
    row = db.execute("SELECT * FROM generations WHERE generation_id = ?",
                     (generation_id,)).fetchone()
    if row is None or (tenant_id is not None and row["tenant_id"] != tenant_id):
        return None
    if now is not None and row["expires_at"] <= now:
        return None
    return row


def finish_generation(db, generation_id, *, status, rows_generated, artifact_path,
                      expires_at) -> None:
    db.execute("UPDATE generations SET status = ?, rows_generated = ?, artifact_path = ?, "
               "expires_at = ? WHERE generation_id = ?",
               (status, rows_generated, artifact_path, expires_at, generation_id))


def set_generation_status(db, generation_id, status) -> None:
    db.execute("UPDATE generations SET status = ? WHERE generation_id = ?",
               (status, generation_id))


def list_generations(db, dataset_id, tenant_id, *, now, before_seq=None, limit):
    """The dataset's ready or partial, unexpired generations, newest first."""
    return db.execute(
        "SELECT generation_id, dataset_id, status, output_format, rows_requested, "
        "rows_generated, created_at, expires_at, seq FROM generations "
        "WHERE dataset_id = ? AND tenant_id = ? AND status IN ('ready', 'partial') "
        "AND expires_at > ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        (dataset_id, tenant_id, now, _after(before_seq), limit)).fetchall()


# --- jobs ----------------------------------------------------------------------------

def insert_job(db, *, job_id, tenant_id, job_type, request_id, now, expires_at,
               dataset_id=None, generation_id=None) -> None:
    db.execute("INSERT INTO jobs (job_id, tenant_id, job_type, status, stage, request_id, "
               "dataset_id, generation_id, created_at, expires_at) "
               "VALUES (?, ?, ?, 'queued', 'queued', ?, ?, ?, ?, ?)",
               (job_id, tenant_id, job_type, request_id, dataset_id, generation_id, now,
                expires_at))
