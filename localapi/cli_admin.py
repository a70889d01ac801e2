"""``simio admin``: operator commands, run against the store file directly (no server needed).

Every command takes ``--data-dir`` and resolves it exactly as ``simio serve`` does (the
flag, else ``SIMIO_DATA_DIR``, else ``./simio-data``), opens the SQLite store there,
applies pending migrations and acts through ``localapi.admin``; every change is audited
with actor ``operator``. The server may keep running meanwhile: SQLite's write lock
serialises the two. A data directory without a store is refused (``simio_store_not_found``,
exit 2) unless ``--create`` is given: a silently created store would hand out credentials
the running server does not know.

Flask, JWT and the store load inside the commands, so ``simio --help`` stays cheap.

    simio admin signups list [--status pending|approved|declined]
    simio admin signups approve REQUEST_ID
    simio admin signups decline REQUEST_ID
    simio admin tenants create --company NAME   # prints client_id and client_secret
    simio admin tenants quota TENANT_ID ROWS
    simio admin rotations list [--status pending|completed]
    simio admin rotations complete ROTATION_REQUEST_ID   # prints the one-time claim token
    simio admin rotations create CLIENT_ID [--reason TEXT]   # lost secret: file + complete
    simio admin audit [--limit N]
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from engine.cli import fail
from engine.errors import SimioError


def _config(data_dir: str | None):
    from localapi.config import Config

    return Config.load({"data_dir": data_dir} if data_dir else None)


def iso(timestamp) -> str:
    from localapi.clock import iso as to_iso

    return to_iso(timestamp)


def existing_store(data_dir, create: bool) -> None:
    """Refuse a data dir without a store unless ``create`` (raises simio_store_not_found)."""
    from localapi.db import DB_NAME

    if create or (Path(data_dir) / DB_NAME).is_file():
        return
    raise SimioError("simio_store_not_found",
                     f"no simio store in {Path(data_dir).resolve()} (no {DB_NAME}); "
                     "nothing was created")


def with_store(command):
    """Add ``--data-dir`` and ``--create``; call ``command(conn, key, config, **params)``;
    close; map errors."""

    @click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                  help="Data directory holding the store, as for `simio serve`.  "
                       "[default: ./simio-data; env SIMIO_DATA_DIR]")
    @click.option("--create", is_flag=True,
                  help="Create the store if the data directory has none (else refused).")
    @functools.wraps(command)
    def wrapped(data_dir, create, **params):
        config = _config(data_dir)
        try:
            existing_store(config.data_dir, create)
        except SimioError as exc:
            fail(exc)
        conn, key = ops.open_store(config.data_dir)
        try:
            return command(conn, key, config, **params)
        except ops.OperatorError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            conn.close()

    return wrapped


class _Ops:
    """``localapi.admin``, imported on first use: it pulls in JWT and Flask."""

    def __getattr__(self, name):
        from localapi import admin

        return getattr(admin, name)


ops = _Ops()


@click.group("admin")
def admin():
    """Operator actions on the local store (audited)."""


@admin.group()
def signups():
    """Review signup requests."""


@signups.command("list")
@click.option("--status", type=click.Choice(["pending", "approved", "declined"]),
              default=None, help="Only requests in this state.")
@with_store
def signups_list(conn, _key, _config, status):
    """List signup requests, oldest first."""
    rows = ops.list_signups(conn, status)
    if not rows:
        click.echo("no signup requests")
    for row in rows:
        click.echo("\t".join([row["request_id"], row["status"], iso(row["created_at"]),
                              row["contact_email"], row["company_name"],
                              row["client_id"] or "-"]))


@signups.command("approve")
@click.argument("request_id")
@with_store
def signups_approve(conn, key, config, request_id):
    """Approve a pending request: creates the tenant and its credential."""
    approval = ops.approve_signup(conn, key, request_id, config=config)
    click.echo(f"approved {approval.request_id}: tenant_id={approval.tenant_id} "
               f"client_id={approval.client_id}")
    click.echo(f"the requester claims the secret via GET /v1/signup/{approval.request_id} "
               f"then POST /v1/credential-claims")


@signups.command("decline")
@click.argument("request_id")
@with_store
def signups_decline(conn, _key, _config, request_id):
    """Decline a pending request."""
    ops.decline_signup(conn, request_id)
    click.echo(f"declined {request_id}")


@admin.group()
def tenants():
    """Create tenants and set their quotas."""


@tenants.command("create")
@click.option("--company", required=True, help="Company or team name.")
@with_store
def tenants_create(conn, _key, config, company):
    """Create a tenant with a ready credential; prints client_id and client_secret once."""
    tenant_id, client_id, secret = ops.create_tenant(conn, company, config=config)
    click.echo(f"tenant_id={tenant_id}")
    click.echo(f"client_id={client_id}")
    click.echo(f"client_secret={secret}")


@tenants.command("quota")
@click.argument("tenant_id")
@click.argument("rows", type=click.IntRange(min=0))
@with_store
def tenants_quota(conn, _key, _config, tenant_id, rows):
    """Set a tenant's lifetime row quota."""
    ops.set_quota(conn, tenant_id, rows)
    click.echo(f"{tenant_id}: row_quota={rows}")


@admin.group()
def rotations():
    """Credential rotations: list them, complete support requests."""


@rotations.command("list")
@click.option("--status", type=click.Choice(["pending", "completed"]), default=None,
              help="Only rotations in this state.")
@with_store
def rotations_list(conn, _key, _config, status):
    """List credential rotations (self-service and support requests), oldest first."""
    rows = ops.list_rotations(conn, status)
    if not rows:
        click.echo("no rotation requests")
    for row in rows:
        click.echo("\t".join([row["rotation_request_id"], row["status"], row["kind"],
                              iso(row["created_at"]), row["client_id"],
                              row["reason"] or "-"]))


def _echo_completion(done) -> None:
    click.echo(f"completed {done.rotation_request_id}: client_id={done.client_id}")
    click.echo(f"credential_claim_token={done.claim_token}")
    click.echo(f"the token is one-time and expires {iso(done.expires_at)}; the client "
               f"redeems it at POST /v1/credential-claims (it also shows at GET "
               f"/v1/credential-rotation-requests/{done.rotation_request_id} until "
               f"redeemed). The old client_secret works until then.")


@rotations.command("complete")
@click.argument("rotation_request_id")
@with_store
def rotations_complete(conn, key, config, rotation_request_id):
    """Complete a pending rotation request: issues the one-time claim token."""
    _echo_completion(ops.complete_rotation(conn, key, rotation_request_id, config=config))


@rotations.command("create")
@click.argument("client_id")
@click.option("--reason", default=None, help="Support ticket or note (not a secret).")
@with_store
def rotations_create(conn, key, config, client_id, reason):
    """Rotate for a client that lost its secret: files a request and completes it."""
    _echo_completion(ops.rotate_for_client(conn, key, client_id, config=config,
                                           reason=reason))


@admin.command("audit")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="How many of the newest entries to show.")
@with_store
def audit_log(conn, _key, _config, limit):
    """Show the newest audit entries, newest first."""
    for entry in ops.audit_entries(conn, limit):
        click.echo("\t".join([str(entry["seq"]), iso(entry["at"]), entry["actor"],
                              entry["action"], entry["subject"] or "-",
                              json.dumps(entry["detail"], sort_keys=True)]))
