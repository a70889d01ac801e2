"""``simio tls trust``: make clients trust the local CA that ``simio serve --tls`` made.

    simio tls trust [--data-dir DIR | --ca FILE] [--platform debian|rhel|macos|windows]
    simio tls trust --apply      # as root/administrator: add the CA to the system store
    simio tls trust --remove     # take it out again

Without ``--apply``/``--remove`` it only prints: what trusting the CA means, the system
trust-store commands for the platform, and the setting for each client family (Python
requests, curl, R, Julia, SPSS). ``--apply`` runs exactly the printed system-store
commands; nothing is changed without it. The steps live in ``localapi.trust``.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import click

from engine.errors import SimioError
from localapi import trust
from localapi.config import Config

TLS_DIR = "tls"            # as localapi.server.TLS_DIR (not imported: that pulls in cheroot)


@click.group("tls")
def tls():
    """TLS for `simio serve --tls`: trust its local CA."""


@tls.command("trust")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Data directory whose tls/ca.pem to trust (default: SIMIO_DATA_DIR or "
                   "the configured default).")
@click.option("--ca", "ca_file", type=click.Path(dir_okay=False), default=None,
              help="Another CA certificate (PEM) instead, e.g. your organisation's root.")
@click.option("--platform", type=click.Choice(trust.PLATFORMS), default=None,
              help="Print the steps for this platform.  [default: this machine's]")
@click.option("--apply", "action", flag_value="apply", default=None,
              help="Add the CA to this machine's system trust store (needs root).")
@click.option("--remove", "action", flag_value="remove",
              help="Take the CA out of this machine's system trust store (needs root).")
def trust_command(data_dir, ca_file, platform, action):
    """Print how to trust the local CA (per platform and client); --apply does it."""
    ca = _ca(data_dir, ca_file)
    here = trust.detect_platform()
    if action is None:
        shown = platform or here or "debian"
        click.echo(trust.render(shown, ca, current=shown == here,
                                args=_dir_arg(data_dir, ca_file)), nl=False)
        return
    if platform is not None and platform != here:
        raise SimioError("simio_tls_trust_forbidden",
                         f"--{action} changes this machine's store, which is "
                         f"{here or 'not one simio knows'}, not {platform}; drop --platform")
    if here is None:
        raise SimioError("simio_tls_trust_forbidden",
                         "simio does not know this system's trust store; print the steps "
                         "with --platform and run the matching ones by hand")
    steps = (trust.install_steps if action == "apply" else trust.remove_steps)(here, ca)
    if not trust.has_rights(here):
        raise SimioError("simio_tls_trust_forbidden",
                         f"--{action} needs root: run `sudo simio tls trust --{action}"
                         f"{_dir_arg(data_dir, ca_file)}`")
    missing = trust.missing_tools(steps)
    if missing:
        raise SimioError("simio_tls_trust_forbidden",
                         f"{', '.join(missing)} is not installed; nothing was changed"
                         + (" (apt-get install ca-certificates)" if here == "debian" else ""))
    for argv in steps:
        click.echo(f"$ {shlex.join(argv)}")
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:      # success output (hooks, rehash notes) is just noise
            click.echo((done.stdout + done.stderr).strip(), err=True)
            raise SimioError("simio_tls_trust_failed",
                             f"`{shlex.join(argv)}` exited with status {done.returncode}")
    verb = "now trusted by" if action == "apply" else "removed from"
    click.echo(f"{ca.common_name} ({ca.fingerprint}) {verb} the system trust store.")
    if action == "apply":
        click.echo(f"Undo: simio tls trust --remove{_dir_arg(data_dir, ca_file)}")


def _ca(data_dir: str | None, ca_file: str | None) -> trust.CA:
    if data_dir and ca_file:
        raise click.UsageError("give --data-dir or --ca, not both")
    if ca_file is None:
        config = Config.load({"data_dir": data_dir} if data_dir else None)
        ca_file = Path(config.data_dir) / TLS_DIR / "ca.pem"
    try:
        return trust.load_ca(ca_file)
    except ValueError as exc:
        raise SimioError("simio_tls_ca_unusable", str(exc)) from None


def _dir_arg(data_dir: str | None, ca_file: str | None) -> str:
    if ca_file:
        return f" --ca {shlex.quote(str(Path(ca_file).resolve()))}"
    if data_dir:
        return f" --data-dir {shlex.quote(str(Path(data_dir).resolve()))}"
    return ""
