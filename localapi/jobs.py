"""Durable jobs: persisted in the store, run by a small thread pool, resumed after restart.

A job row is written before its work is accepted (202). On start-up, ``recover`` puts jobs
left ``running`` by a killed server back in the queue and runs every queued job, so an
accepted job is never lost or stuck. Handlers write artifacts to a temporary name and
rename them into place, so a kill mid-job never leaves a partial artifact visible; a job
that keeps dying is failed after ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from engine.errors import SimioError
from localapi.clock import now
from localapi.db import connect, transaction
from localapi.store import job_states

log = logging.getLogger("simio.jobs")
MAX_ATTEMPTS = 3
# Request threads that may sit in a ``wait_seconds`` wait at once. The server has 16
# (localapi.server.REQUEST_THREADS); a waiter beyond this cap gets its 202 at once, so
# long-polls can never take every thread and /healthz always finds one free.
MAX_WAITERS = 8
TERMINAL = job_states.TERMINAL


class JobRunner:
    def __init__(self, app, workers: int, max_waiters: int = MAX_WAITERS):
        self.app = app
        self.handlers = {}
        self._waiters = threading.BoundedSemaphore(max(0, max_waiters) or 1)
        self.max_waiters = max_waiters
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers),
                                        thread_name_prefix="simio-job")
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def register(self, job_type: str, handler) -> None:
        """``handler(app, conn, job_row, set_stage)`` does the work or raises."""
        self.handlers[job_type] = handler

    def submit(self, job_id: str) -> None:
        with self._lock:
            self._events.setdefault(job_id, threading.Event())
        self._pool.submit(self._run, job_id)

    def run(self, conn, job_id: str, seconds: float):
        """Submit the job, wait up to ``seconds`` for it, and return its row as it is then.

        With ``seconds <= 0`` the row is the one read before submitting (queued): a quick
        job must not turn ``wait_seconds: 0`` into a synchronous answer by winning a race.
        """
        if seconds <= 0:
            row = job_states.row(conn, job_id)
            self.submit(job_id)
            return row
        self.submit(job_id)
        self.wait(job_id, seconds)
        return job_states.row(conn, job_id)

    def wait(self, job_id: str, seconds: float) -> bool:
        """Wait up to ``seconds`` for the job to finish; True when it has.

        At most ``max_waiters`` requests wait at once; any more return at once (False:
        the caller answers 202 and the client polls the job).
        """
        with self._lock:
            event = self._events.get(job_id)
        if event is None:
            return True
        if seconds <= 0 or self.max_waiters <= 0:
            return event.is_set()
        if not self._waiters.acquire(blocking=False):
            return event.is_set()
        try:
            return event.wait(seconds)
        finally:
            self._waiters.release()

    def recover(self) -> int:
        conn = connect(self.app)
        try:
            with transaction(conn):
                for job in job_states.with_status(conn, job_states.RUNNING):
                    job_states.transition(conn, job, "requeue", now=now(self.app))
            queued = [r["job_id"] for r in job_states.with_status(conn, job_states.QUEUED)]
        finally:
            conn.close()
        for job_id in queued:
            self.submit(job_id)
        return len(queued)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    def _run(self, job_id: str) -> None:
        conn = connect(self.app)
        try:
            with self.app.app_context():
                self._execute(conn, job_id)
        except Exception:  # never let a worker thread die silently
            log.exception("job %s crashed outside its handler", job_id)
        finally:
            conn.close()
            with self._lock:
                event = self._events.pop(job_id, None)
            if event is not None:
                event.set()

    def _execute(self, conn, job_id: str) -> None:
        with transaction(conn):
            job = job_states.row(conn, job_id)
            if job is None or job["status"] != job_states.QUEUED:
                return
            job_states.transition(conn, job, "start", now=now(self.app))
        job = job_states.row(conn, job_id)
        if job["attempts"] > MAX_ATTEMPTS:
            return self._fail(conn, job, "simio_internal_error",
                              "The job was interrupted too many times and was stopped.")

        def set_stage(stage: str) -> None:
            with transaction(conn):
                job_states.set_stage(conn, job_id, stage)

        try:
            self.handlers[job["job_type"]](self.app, conn, job, set_stage)
        except SimioError as exc:
            return self._fail(conn, job, exc.code, exc.detail)
        except Exception:
            log.exception("job %s failed", job_id)
            return self._fail(conn, job, "simio_internal_error",
                              "The job failed unexpectedly; retry the request.")
        with transaction(conn):
            job_states.transition(conn, job, "complete", now=now(self.app))

    def _fail(self, conn, job, code: str, message: str) -> None:
        # Clean up first: whoever sees the job `failed` must find its resource failed and
        # its files gone, never the moment in between.
        cleanup = getattr(self.handlers.get(job["job_type"]), "on_failure", None)
        try:
            if cleanup is not None:
                cleanup(self.app, conn, job, code)
        finally:
            with transaction(conn):
                job_states.transition(conn, job, "fail", now=now(self.app),
                                      error=(code, message))
