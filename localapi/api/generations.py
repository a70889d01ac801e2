"""Generations: create (sync within wait_seconds, else a job), list, metadata, signed
download."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, current_app, g, request, send_file

from engine import api as engine
from engine.errors import SimioError
from localapi import cursors, pipelines
from localapi.api.datasets import dataset_schema, touch, visible_dataset
from localapi.auth import download_signature_ok, require_auth, sign_download
from localapi.bodies import idempotency_key, int_field, json_object
from localapi.clock import iso, now
from localapi.db import get_db, transaction
from localapi.ids import new_id, well_formed
from localapi.problems import request_id, respond
from localapi.replay import idempotent
from localapi.store import job_states, quotas, records

bp = Blueprint("generations", __name__)


def register_jobs(runner) -> None:
    runner.register("generation_create", pipelines.run_generation_create)


def not_found():
    return SimioError("simio_generation_not_found", "Generation not found.")


@bp.post("/v1/datasets/<dataset_id>/generations")
@require_auth
def create_generation(dataset_id):
    dataset = visible_dataset(dataset_id)
    body = json_object()
    cfg = current_app.config["SIMIO"]
    # The engine's one request rule (engine/generation_request.py), then the server's own
    # fields; every 400 comes before any work is accepted.
    req = engine.parse_request(body, max_rows=cfg.per_request_row_cap)
    wait = int_field(body.get("wait_seconds"), "wait_seconds", minimum=0,
                     maximum=cfg.max_wait_seconds, default=0)
    key = idempotency_key(body.get("idempotency_key"))
    dropped = json.loads(dataset["cleaning_summary"] or "{}").get("dropped_columns")
    engine.validate_conditions(dataset_schema(dataset), req.conditions, dropped)
    payload = {k: v for k, v in body.items() if k not in ("wait_seconds", "idempotency_key")}
    return idempotent(key, f"POST /v1/datasets/{dataset_id}/generations", payload,
                      lambda: _generate(dataset, req.row_count, req.output_format, req.seed,
                                        body, wait))


def _generate(dataset, rows, fmt, seed, body, wait):
    db, cfg, t = get_db(), current_app.config["SIMIO"], now()
    generation_id, job_id = new_id("gen"), new_id("job")
    seed = engine.resolve_seed(seed)   # fixed now, so a re-run after a restart is identical
    with transaction(db):
        quotas.reserve(db, g.tenant_id, rows)
        records.insert_generation(
            db, generation_id=generation_id, dataset_id=dataset["dataset_id"],
            tenant_id=g.tenant_id, output_format=fmt, rows_requested=rows, seed=seed,
            request={"conditions": body.get("conditions")}, now=t,
            expires_at=t + cfg.generation_ttl_seconds)
        records.insert_job(db, job_id=job_id, tenant_id=g.tenant_id,
                           job_type="generation_create", request_id=request_id(), now=t,
                           dataset_id=dataset["dataset_id"], generation_id=generation_id,
                           expires_at=t + cfg.generation_ttl_seconds)
    job = current_app.extensions["simio_jobs"].run(db, job_id, wait)
    if job["status"] == "failed":
        raise SimioError(job["error_code"], job["error_message"])
    if job["status"] == "completed":
        gen = records.generation(db, generation_id, now=None)     # just made
        body = with_scenario_support(summary_body(gen), gen)
        return (207 if gen["status"] == "partial" else 200), body
    return 202, {"generation_id": generation_id, "dataset_id": dataset["dataset_id"],
                 "status": "processing", "request_id": request_id(), "job_id": job_id}


def summary_body(gen) -> dict:
    return {"generation_id": gen["generation_id"], "dataset_id": gen["dataset_id"],
            "status": gen["status"], "request_id": request_id(),
            "output_format": gen["output_format"], "rows_requested": gen["rows_requested"],
            "rows_generated": gen["rows_generated"], "created_at": iso(gen["created_at"]),
            "expires_at": iso(gen["expires_at"])}


def with_scenario_support(body: dict, gen) -> dict:
    """Add the optional ``scenario_support`` of a conditioned generation (docs/
    conditioning.md). Recomputed from the dataset's cached model (the solve only, no rows:
    milliseconds) rather than stored, so no schema change; left out when the model is gone
    or its seed marginals leave out a column or pair the scenario touches."""
    conditions = json.loads(gen["request_json"] or "{}").get("conditions")
    if not conditions or gen["status"] not in ("ready", "partial"):
        return body
    try:
        synth = pipelines.load_synthesizer(current_app, gen["dataset_id"])
        support = synth.scenario_support(gen["rows_requested"], conditions, seed=gen["seed"])
    except (OSError, SimioError):
        return body
    if support is not None:
        body["scenario_support"] = support
    return body


def visible_generation(generation_id):
    if not well_formed("generation", generation_id):
        raise not_found()
    gen = records.generation(get_db(), generation_id, g.tenant_id, now=now())
    parent = None if gen is None else records.dataset(get_db(), gen["dataset_id"], g.tenant_id,
                                                      now=None, ready_only=False)
    # A generation lives out its own retention window even when its dataset expires, but
    # not once its dataset was deleted (DELETE /v1/datasets/{id}).
    if parent is None or parent["status"] == "deleted":
        raise not_found()
    return gen


@bp.get("/v1/generations/<generation_id>")
@require_auth
def get_generation(generation_id):
    gen = visible_generation(generation_id)
    body = with_scenario_support(summary_body(gen), gen)
    if gen["status"] in ("ready", "partial"):
        expires = int(now()) + current_app.config["SIMIO"].download_url_ttl_seconds
        body["artifact_url"] = (f"/v1/generations/{generation_id}/download?expires={expires}"
                                f"&sig={sign_download(generation_id, expires)}")
        body["artifact_encryption"] = {"scheme": "managed"}
    elif gen["status"] == "failed":
        job = job_states.of_generation(get_db(), generation_id)
        body["artifact_url"] = None
        body["error"] = {"code": job["error_code"], "message": job["error_message"]} if job else None
    else:
        body["artifact_url"] = None
    dataset = records.dataset(get_db(), gen["dataset_id"], g.tenant_id, now=now())
    if dataset is not None:
        touch(dataset)
    return respond(body, 200)


@bp.get("/v1/generations/<generation_id>/download")
@require_auth
def download(generation_id):
    gen = visible_generation(generation_id)
    if gen["status"] not in ("ready", "partial") or not download_signature_ok(
            generation_id, request.args.get("expires"), request.args.get("sig")):
        raise not_found()
    fmt = gen["output_format"]
    if not Path(gen["artifact_path"]).is_file():     # swept between the check and now
        raise not_found()
    response = send_file(gen["artifact_path"], mimetype=engine.CONTENT_TYPES[fmt], as_attachment=True,
                         download_name=f"{generation_id}.{fmt}", conditional=False, etag=False)
    response.headers["Cache-Control"] = "no-store"   # customer data: never in a cache
    return response


@bp.get("/v1/datasets/<dataset_id>/generations")
@require_auth
def list_generations(dataset_id):
    """The dataset's ready and partial, unexpired generations, newest first. The dataset is
    checked first: another tenant's (or a missing, expired, deleted) dataset is a 404 even
    with a bad limit or cursor."""
    visible_dataset(dataset_id)
    limit = cursors.parse_limit(request.args.get("limit"))
    key, scope = current_app.config["SIMIO_SIGNING_KEY"], f"generations:{dataset_id}"
    token = request.args.get("cursor")
    before = (cursors.decode(key, token, tenant_id=g.tenant_id, scope=scope)
              if token else None)
    rows = records.list_generations(get_db(), dataset_id, g.tenant_id, now=now(),
                                    before_seq=before, limit=limit + 1)
    rows, next_cursor = cursors.page(rows, limit, lambda seq: cursors.encode(
        key, tenant_id=g.tenant_id, scope=scope, seq=seq))
    items = []
    for row in rows:
        item = summary_body(row)
        del item["request_id"]
        items.append(item)
    return respond({"dataset_id": dataset_id, "generations": items, "limit": limit,
                    "next_cursor": next_cursor, "request_id": request_id()}, 200)


@bp.get("/v1/generations/<generation_id>/report")
@require_auth
def report(generation_id):
    gen = visible_generation(generation_id)
    # now=None: an expired dataset still reports while its seed is on disk (below)
    dataset = records.dataset(get_db(), gen["dataset_id"], g.tenant_id, now=None)
    if gen["status"] not in ("ready", "partial") or dataset is None:
        raise not_found()
    try:
        html = pipelines.generation_report(current_app, gen, dataset)
    except FileNotFoundError:       # the dataset expired and the sweeper removed its seed
        raise SimioError("simio_dataset_not_found", "The generation's dataset has expired "
                         "and its seed was removed, so no report can be built; upload the "
                         "seed again.") from None
    response = current_app.response_class(html, mimetype="text/html")
    # Self-contained: inline styles and data: images only, nothing else may load.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'")
    response.headers["Cache-Control"] = "no-store"
    return response
