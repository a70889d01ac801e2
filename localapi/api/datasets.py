"""Datasets: upload + train (multipart), list, metadata, schema, extend, delete."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, g, request

from engine.api import Schema, check_upload_sheet, move_into_place, sniff
from engine.errors import SimioError
from localapi import cursors, pipelines, retention
from localapi.auth import require_auth
from localapi.bodies import idempotency_key, int_field, string_field
from localapi.clock import iso, now
from localapi.db import get_db, transaction
from localapi.ids import new_id, well_formed
from localapi.problems import request_id, respond
from localapi.replay import idempotent
from localapi.store import audit, job_states, records

bp = Blueprint("datasets", __name__)
TRUE_WORDS = {"true": True, "1": True, "yes": True, "on": True,
              "false": False, "0": False, "no": False, "off": False}
COPY_CHUNK = 1024 * 1024
FILENAME_MAX = 255


def register_jobs(runner) -> None:
    runner.register("dataset_create", pipelines.run_dataset_create)


def not_found():
    return SimioError("simio_dataset_not_found", "Dataset not found.")


def visible_dataset(dataset_id):
    """The caller's ready, unexpired dataset, or the uniform 404."""
    if not well_formed("dataset", dataset_id):
        raise not_found()
    row = records.dataset(get_db(), dataset_id, g.tenant_id, now=now())
    if row is None:
        raise not_found()
    return row


def dataset_body(row) -> dict:
    return {"dataset_id": row["dataset_id"], "status": row["status"],
            "request_id": request_id(), "display_name": row["display_name"],
            "created_at": iso(row["created_at"]), "expires_at": iso(row["expires_at"]),
            "cleaning_summary": json.loads(row["cleaning_summary"] or "{}"),
            "training_summary": {"trained_at": iso(row["trained_at"]),
                                 "duration_ms": row["duration_ms"]}}


@bp.post("/v1/datasets")
@require_auth
def create_dataset():
    if request.mimetype != "multipart/form-data":
        raise SimioError("simio_unsupported_content_type",
                         "Content-Type must be multipart/form-data with a seed_file part.")
    form = request.form
    upload = request.files.get("seed_file")
    if upload is None or not upload.filename and not upload.content_length:
        raise SimioError("simio_invalid_field", "seed_file is required: send the seed as a "
                         "multipart file part named seed_file.")
    filename = _filename(upload.filename)
    display_name = string_field(dict(form), "display_name", max_len=200, required=False)
    auto_clean = _auto_clean(form.get("auto_clean"))
    wait = int_field(form.get("wait_seconds"), "wait_seconds", minimum=0,
                     maximum=current_app.config["SIMIO"].max_wait_seconds, default=0,
                     form=True)
    key = idempotency_key(form.get("idempotency_key"))
    sheet = string_field(dict(form), "sheet", max_len=255, required=False)
    staged, digest = _stage_upload(upload)
    try:
        fingerprint = {"display_name": display_name, "auto_clean": auto_clean,
                       "seed_sha256": digest}
        if sheet is not None:            # absent, the fingerprint is as it always was
            fingerprint["sheet"] = sheet
        return idempotent(key, "POST /v1/datasets", fingerprint,
                          lambda: _train(staged, filename, digest, display_name,
                                         auto_clean, wait, sheet))
    finally:
        staged.unlink(missing_ok=True)


def _filename(value) -> str | None:
    """The upload's file name as messages show it: at most 255 characters, no control
    characters (a NUL once reached the file system as a ValueError), no directories."""
    if not value:
        return None
    if len(value) > FILENAME_MAX or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise SimioError("simio_invalid_field", f"The seed_file part's filename must be at "
                         f"most {FILENAME_MAX} characters without control characters.")
    return value.replace("\\", "/").rsplit("/", 1)[-1] or None


def _auto_clean(value) -> bool:
    if value is None or value == "":
        return True
    if value.strip().lower() not in TRUE_WORDS:
        raise SimioError("simio_invalid_field", "auto_clean must be one of true, false, 1, 0, "
                         "yes, no, on, off.")
    return TRUE_WORDS[value.strip().lower()]


def _stage_upload(upload) -> tuple[Path, str]:
    """Copy the upload to the data dir while hashing it (the idempotency fingerprint)."""
    staging = Path(current_app.config["SIMIO"].data_dir) / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=staging, prefix="upload-")
    digest = hashlib.sha256()
    limit, size = current_app.config["SIMIO"].max_upload_bytes, 0
    with open(fd, "wb") as out:
        while chunk := upload.stream.read(COPY_CHUNK):
            size += len(chunk)
            if size > limit:   # MAX_CONTENT_LENGTH has 64 KiB slack for the multipart framing
                out.close()
                Path(name).unlink(missing_ok=True)
                raise SimioError("simio_file_too_large", "seed_file exceeds the maximum "
                                 f"upload size of {limit} bytes.")
            digest.update(chunk)
            out.write(chunk)
    return Path(name), digest.hexdigest()


def _train(staged: Path, filename, digest, display_name, auto_clean, wait, sheet=None):
    # Only the cheap checks happen here: the format is sniffed from a bounded prefix (and
    # a sheet checked against the workbook's list of sheets, a small part of the ZIP).
    # Reading and cleaning the seed (unbounded work for a hostile file) is the job's, under
    # the reader's limits, so no request thread is ever held by a parser.
    sniffed = sniff(staged, filename)
    if sheet is not None:
        check_upload_sheet(staged, sniffed, sheet)
    db, cfg, t = get_db(), current_app.config["SIMIO"], now()
    dataset_id, job_id = new_id("ds"), new_id("job")
    folder = pipelines.dataset_dir(current_app, dataset_id)
    suffix = "".join(ch for ch in Path(filename or "").suffix.lower()[:16]
                     if ch.isalnum() or ch == ".")
    folder.mkdir(parents=True)
    try:
        move_into_place(staged, folder / f"seed{suffix}")     # same file system: data dir
        pipelines.save_read_options(folder, sheet=sheet)
        with transaction(db):
            records.insert_dataset(db, dataset_id=dataset_id, tenant_id=g.tenant_id,
                                   display_name=display_name, auto_clean=auto_clean,
                                   seed_name=filename, seed_sha256=digest, now=t,
                                   expires_at=t + cfg.dataset_ttl_seconds)
            records.insert_job(db, job_id=job_id, tenant_id=g.tenant_id,
                               job_type="dataset_create", request_id=request_id(), now=t,
                               dataset_id=dataset_id, expires_at=t + cfg.dataset_ttl_seconds)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)    # no row: no directory either
        raise
    job = current_app.extensions["simio_jobs"].run(db, job_id, wait)
    if job["status"] == "completed":
        return 200, dataset_body(records.dataset(db, dataset_id, now=None))
    if job["status"] == "failed":
        raise SimioError(job["error_code"], job["error_message"])
    return 202, {"dataset_id": dataset_id, "status": "processing", "request_id": request_id(),
                 "job_id": job_id}


@bp.get("/v1/datasets/<dataset_id>")
@require_auth
def get_dataset(dataset_id):
    row = visible_dataset(dataset_id)
    touch(row)
    return respond(dataset_body(records.dataset(get_db(), dataset_id, now=None)), 200)


def touch(row) -> None:
    """A read keeps an active dataset alive: expiry moves out by its TTL, up to the cap."""
    cfg, t, db = current_app.config["SIMIO"], now(), get_db()
    cap = row["created_at"] + cfg.extend_cap_seconds
    with transaction(db):
        records.touch_dataset(db, row["dataset_id"], now=t,
                              expires_at=min(t + cfg.dataset_ttl_seconds, cap))


@bp.get("/v1/datasets/<dataset_id>/schema")
@require_auth
def get_schema(dataset_id):
    row = visible_dataset(dataset_id)
    return respond({"dataset_id": dataset_id, "request_id": request_id(),
                    "schema": dataset_schema(row).public()}, 200)


def dataset_schema(row) -> Schema:
    """The cleaned schema stored with the dataset (internal fields included)."""
    return Schema.from_dict(json.loads(row["schema_json"]))


# --- listing, retention, deletion -------------------------------------------------------

@bp.get("/v1/datasets")
@require_auth
def list_datasets():
    """The caller's ready, unexpired datasets, newest first (keyset on ``seq``)."""
    limit = cursors.parse_limit(request.args.get("limit"))
    key, scope = current_app.config["SIMIO_SIGNING_KEY"], "datasets"
    token = request.args.get("cursor")
    before = (cursors.decode(key, token, tenant_id=g.tenant_id, scope=scope)
              if token else None)
    rows = records.list_datasets(get_db(), g.tenant_id, now=now(), before_seq=before,
                                 limit=limit + 1)
    rows, next_cursor = cursors.page(rows, limit, lambda seq: cursors.encode(
        key, tenant_id=g.tenant_id, scope=scope, seq=seq))
    return respond({"datasets": [{"dataset_id": r["dataset_id"], "status": r["status"],
                                  "display_name": r["display_name"],
                                  "created_at": iso(r["created_at"]),
                                  "expires_at": iso(r["expires_at"])} for r in rows],
                    "limit": limit, "next_cursor": next_cursor,
                    "request_id": request_id()}, 200)


@bp.post("/v1/datasets/<dataset_id>/extend")
@require_auth
def extend_dataset(dataset_id):
    """``expires_at`` += the dataset TTL, never past ``created_at`` + the 7-day cap; 409
    when it is already at the cap."""
    visible_dataset(dataset_id)
    cfg, db, t = current_app.config["SIMIO"], get_db(), now()
    with transaction(db):
        row = records.dataset(db, dataset_id, g.tenant_id, now=t)    # again, under the lock
        if row is None:
            raise not_found()
        cap = row["created_at"] + cfg.extend_cap_seconds
        expires_at = min(row["expires_at"] + cfg.dataset_ttl_seconds, cap)
        if expires_at <= row["expires_at"]:
            raise SimioError("simio_extend_cap_exceeded", "Dataset has reached its maximum "
                             "continuous retention window.")
        records.extend_dataset(db, dataset_id, now=t, expires_at=expires_at)
    return respond({"dataset_id": dataset_id, "status": row["status"],
                    "expires_at": iso(expires_at), "created_at": iso(row["created_at"]),
                    "request_id": request_id()}, 200)


@bp.delete("/v1/datasets/<dataset_id>")
@require_auth
def delete_dataset(dataset_id):
    """204 for the caller's dataset in any state, again for one already deleted, and for an
    id that never existed; 404 for a malformed id or a dataset of another tenant."""
    if not well_formed("dataset", dataset_id):
        raise not_found()
    db, t = get_db(), now()
    with transaction(db):
        row = records.dataset(db, dataset_id, now=None, ready_only=False)  # any tenant, state, age
        if row is not None and row["tenant_id"] != g.tenant_id:
            raise not_found()
        if row is not None and row["status"] != "deleted":
            records.delete_dataset(db, dataset_id, now=t)
            for job in job_states.queued_of_dataset(db, dataset_id):
                retention.end_queued_job(db, job, "cancel", now=t)
            audit.record(db, at=t, actor=f"client:{g.client_id}", action="dataset_deleted",
                         subject=dataset_id, request_id=request_id(),
                         detail={"tenant_id": g.tenant_id, "previous_status": row["status"]})
    if row is not None:
        retention.remove_dataset_files(current_app, dataset_id)
    response = current_app.response_class(status=204)
    del response.headers["Content-Type"]          # no body, so no media type
    return response
