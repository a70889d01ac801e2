"""The job state machine as a table: every (state, event) pair, allowed or refused, and
what one transition writes to a real SQLite store."""

from __future__ import annotations

import itertools
import json

import pytest

from localapi.db import connect, migrate, transaction
from localapi.store import job_states
from localapi.store.job_states import TransitionRefused, next_state

EVENTS = ("start", "requeue", "complete", "fail", "cancel", "expire")
# Written out by hand (not derived from TRANSITIONS), so a changed table fails here.
EXPECTED = {
    ("queued", "start"): "running",
    ("queued", "cancel"): "cancelled",
    ("queued", "expire"): "expired",
    ("running", "requeue"): "queued",
    ("running", "complete"): "completed",
    ("running", "fail"): "failed",
}


@pytest.mark.parametrize("state,event", list(itertools.product(job_states.STATES, EVENTS)))
def test_every_state_and_event(state, event):
    if (state, event) in EXPECTED:
        assert next_state(state, event) == EXPECTED[(state, event)]
    else:
        with pytest.raises(TransitionRefused, match=event):
            next_state(state, event)


def test_terminal_states_have_no_way_out():
    assert not [key for key in job_states.TRANSITIONS if key[0] in job_states.TERMINAL]


@pytest.fixture
def db(tmp_path):
    conn = connect(tmp_path / "store.sqlite3")
    migrate(conn)
    with transaction(conn):
        conn.execute("INSERT INTO tenants (tenant_id, company_name, row_quota, created_at) "
                     "VALUES ('ten_1', 'Acme', 10, 0)")
        conn.execute("INSERT INTO jobs (job_id, tenant_id, job_type, status, stage, "
                     "request_id, created_at, expires_at) VALUES ('job_1', 'ten_1', "
                     "'dataset_create', 'queued', 'queued', 'req_1', 0, 100)")
    yield conn
    conn.close()


def test_a_run_writes_each_step_and_audits_nothing(db):
    with transaction(db):
        assert job_states.transition(db, job_states.row(db, "job_1"), "start", now=5)
    job = job_states.row(db, "job_1")
    assert (job["status"], job["stage"], job["started_at"], job["attempts"]) == \
        ("running", "starting", 5, 1)
    with transaction(db):
        assert job_states.transition(db, job, "fail", now=7, error=("simio_x", "broke"))
    job = job_states.row(db, "job_1")
    assert (job["status"], job["stage"], job["completed_at"], job["error_code"],
            job["error_message"]) == ("failed", "failed", 7, "simio_x", "broke")
    assert db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 0


def test_expiry_is_audited_and_a_stale_read_loses_the_race(db):
    stale = job_states.row(db, "job_1")
    with transaction(db):
        assert job_states.transition(db, stale, "expire", now=100, actor="system:retention",
                                     detail={"job_type": "dataset_create"})
        # a worker that read the job while it was queued can no longer start it
        assert not job_states.transition(db, stale, "start", now=101)
    assert job_states.row(db, "job_1")["status"] == "expired"
    entries = db.execute("SELECT actor, action, subject, detail FROM audit").fetchall()
    assert [tuple(e) for e in entries] == [
        ("system:retention", "job_expired", "job_1", json.dumps({"job_type": "dataset_create"}))]


def test_reads_apply_expiry_and_the_grace_period(db):
    assert job_states.read(db, "job_1", now=99)["status"] == "queued"
    assert job_states.read(db, "job_1", now=100)["status"] == "expired"
    assert [j["job_id"] for j in job_states.expired_queued(db, now=100)] == ["job_1"]
    assert job_states.expired_queued(db, now=99) == []
    assert job_states.read(db, "job_1", now=100 + job_states.GRACE_SECONDS - 1) is not None
    assert job_states.read(db, "job_1", now=100 + job_states.GRACE_SECONDS) is None
    assert job_states.read(db, "job_1", "ten_other", now=0) is None
