"""Jobs: the status of a dataset or generation job."""

from __future__ import annotations

from flask import Blueprint, g

from engine.errors import SimioError
from localapi.auth import require_auth
from localapi.clock import iso, now
from localapi.db import get_db
from localapi.ids import well_formed
from localapi.problems import request_id, respond
from localapi.store import job_states

bp = Blueprint("jobs", __name__)
JOB_GRACE_SECONDS = job_states.GRACE_SECONDS


@bp.get("/v1/jobs/<job_id>")
@require_auth
def get_job(job_id):
    job = (job_states.read(get_db(), job_id, g.tenant_id, now=now())
           if well_formed("job", job_id) else None)
    if job is None:
        raise SimioError("simio_job_not_found", "Job not found.")
    status = job["status"]
    completed = status == "completed"
    error = ({"code": job["error_code"], "message": job["error_message"]}
             if status == "failed" else None)
    return respond({
        "job_id": job["job_id"], "job_type": job["job_type"], "status": status,
        "stage": job["stage"], "request_id": request_id(), "created_at": iso(job["created_at"]),
        "started_at": iso(job["started_at"]), "completed_at": iso(job["completed_at"]),
        "dataset_id": job["dataset_id"] if completed or job["job_type"] == "generation_create"
        else None,
        "generation_id": job["generation_id"] if completed else None,
        "error": error}, 200)
