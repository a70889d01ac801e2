"""The job state machine: the one place a job's status changes.

States and allowed transitions are data (``TRANSITIONS``); every change goes through
``transition``, which writes the job row (compare-and-set on the old status, so two actors
racing for one job cannot both win) and, for the events in ``AUDITED``, the audit log.
Expiry is one rule, ``status_at``: a job still ``queued`` at or past its ``expires_at`` is
``expired``. Reads apply it (``read``) so an answer never waits for the sweeper; the
sweeper applies it (``expired_queued``) to record it.

    queued --start--> running --complete--> completed
       |                 |----fail--------> failed
       |                 '----requeue-----> queued     (a server restart)
       |----cancel----> cancelled                      (its dataset was deleted)
       '----expire----> expired                        (nobody ran it in time)
"""

from __future__ import annotations

from localapi.store import audit

QUEUED, RUNNING = "queued", "running"
TERMINAL = ("completed", "failed", "cancelled", "expired")
STATES = (QUEUED, RUNNING) + TERMINAL
# (state, event) -> new state. Anything not listed is refused.
TRANSITIONS = {
    (QUEUED, "start"): RUNNING,
    (QUEUED, "cancel"): "cancelled",
    (QUEUED, "expire"): "expired",
    (RUNNING, "requeue"): QUEUED,
    (RUNNING, "complete"): "completed",
    (RUNNING, "fail"): "failed",
}
# The stage a job shows right after each event (``set_stage`` refines it while running).
STAGE_AFTER = {"start": "starting", "requeue": "requeued", "complete": "completed",
               "fail": "failed", "cancel": "cancelled", "expire": "expired"}
# Events that leave an audit entry. The rest are either the normal run of a job (one per
# job and step: the jobs table already records them) or audited by their cause (a
# cancellation is part of ``dataset_deleted``).
AUDITED = {"expire": "job_expired"}
# A job stays readable this long after its own expiry (so a poller sees ``expired`` rather
# than a bare 404), then answers 404 like any expired resource.
GRACE_SECONDS = 24 * 3600


class TransitionRefused(ValueError):
    """The event is not allowed from the job's state (a bug in the caller, not bad input)."""


def next_state(state: str, event: str) -> str:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise TransitionRefused(f"job event {event!r} is not allowed from {state!r}") from None


def transition(db, job, event: str, *, now: float, actor: str | None = None,
               error: tuple[str, str] | None = None, detail: dict | None = None) -> bool:
    """Inside the caller's transaction: apply ``event`` to ``job`` (a row with ``job_id``
    and ``status``). False, and nothing written, if the stored status is no longer the one
    the caller read (another actor moved the job first)."""
    old = job["status"]
    new = next_state(old, event)
    sets, args = ["status = ?", "stage = ?"], [new, STAGE_AFTER[event]]
    if event == "start":
        sets += ["started_at = ?", "attempts = attempts + 1"]
        args.append(now)
    elif new in TERMINAL:
        sets.append("completed_at = ?")
        args.append(now)
    if error is not None:
        sets += ["error_code = ?", "error_message = ?"]
        args += list(error)
    cursor = db.execute(f"UPDATE jobs SET {', '.join(sets)} WHERE job_id = ? AND status = ?",
                        (*args, job["job_id"], old))
    if cursor.rowcount != 1:
        return False
    if event in AUDITED:
        audit.record(db, at=now, actor=actor or "system", action=AUDITED[event],
                     subject=job["job_id"], detail=detail)
    return True


def status_at(job, now: float) -> str:
    """The job's status as of ``now``: the expiry rule applied to the stored status."""
    if job["status"] == QUEUED and now >= job["expires_at"]:
        return "expired"
    return job["status"]


def read(db, job_id, tenant_id=None, *, now: float) -> dict | None:
    """The job as of ``now`` (expiry applied), or None if missing, another tenant's, or
    past its grace period."""
    row = db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    if row is None or (tenant_id is not None and row["tenant_id"] != tenant_id):
        return None
    if now >= row["expires_at"] + GRACE_SECONDS:
        return None
    return {**dict(row), "status": status_at(row, now)}


def row(db, job_id):
    return db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()


def of_generation(db, generation_id):
    """The job that made (or failed to make) a generation, for its error."""
    return db.execute("SELECT * FROM jobs WHERE generation_id = ?",
                      (generation_id,)).fetchone()


def set_stage(db, job_id, stage: str) -> None:
    """A running job's progress within its state (not a transition)."""
    db.execute("UPDATE jobs SET stage = ? WHERE job_id = ?", (stage, job_id))


def with_status(db, status: str):
    """Jobs in ``status``, oldest first (the order a restart runs them in)."""
    return db.execute("SELECT * FROM jobs WHERE status = ? ORDER BY created_at, job_id",
                      (status,)).fetchall()


def queued_of_dataset(db, dataset_id):
    """The dataset's jobs still waiting for a worker (training and generation)."""
    return db.execute("SELECT * FROM jobs WHERE status = 'queued' AND dataset_id = ?",
                      (dataset_id,)).fetchall()


def expired_queued(db, *, now: float):
    """Queued jobs that ``status_at`` calls expired at ``now`` (same rule, in SQL)."""
    return db.execute("SELECT * FROM jobs WHERE status = 'queued' AND expires_at <= ?",
                      (now,)).fetchall()
