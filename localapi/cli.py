"""The installed ``simio`` command: the engine's commands plus ``serve`` and ``admin``.

``main`` is the engine's click group (``engine.cli.main``: train, schema, generate,
quickstart) with the server commands added, so one command line covers both and engine
errors keep their one-line ``error: <code>: <detail>`` + exit 2 rendering (inherited from
the engine's group class). ``admin`` (operator actions) lives in ``localapi.cli_admin``
and is registered whenever that module exists.

Heavy imports (Flask, cheroot, the app) happen inside ``serve``, so ``simio train`` and
``simio --help`` stay fast; the console script is ``run`` (``main`` plus a fast exit after
the engine's commands).
"""

from __future__ import annotations

import os
import sys

import click

from engine.cli import EXIT_BAD_INPUT, main

# Operator commands load when asked for (or listed by --help), not for every command.
main.lazy_commands = {"admin": "localapi.cli_admin:admin", "tls": "localapi.cli_tls:tls"}


@main.command()
@click.option("--host", default=None,
              help="Interface to listen on.  [default: 127.0.0.1; env SIMIO_HOST]")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port; 0 picks a free one (the banner shows it).  "
                   "[default: 8080; env SIMIO_PORT]")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Store, artifacts, models and tls/.  [default: ./simio-data; "
                   "env SIMIO_DATA_DIR]")
@click.option("--tls/--no-tls", default=None,
              help="Serve HTTPS. Without --certfile/--keyfile a local CA and certificate are "
                   "generated once in DATA_DIR/tls/ and reused.  [env SIMIO_TLS]")
@click.option("--certfile", type=click.Path(dir_okay=False), default=None,
              help="PEM certificate (chain) to serve; implies --tls.  [env SIMIO_CERTFILE]")
@click.option("--keyfile", type=click.Path(dir_okay=False), default=None,
              help="PEM private key of --certfile.  [env SIMIO_KEYFILE]")
@click.option("--approval", type=click.Choice(["auto", "manual"]), default=None,
              help="Signup approval.  [default: auto on loopback, else manual; "
                   "env SIMIO_APPROVAL]")
@click.option("--dev/--no-dev", default=None,
              help="Development mode: requests without a token act as a dev tenant. "
                   "Loopback only.  [env SIMIO_DEV]")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Job threads for training and generation.  [default: 2; env SIMIO_WORKERS]")
def serve(host, port, data_dir, tls, certfile, keyfile, approval, dev, workers):
    """Run the local Simulacra-compatible API until SIGTERM or Ctrl-C."""
    from localapi import server

    overrides = {name: value for name, value in (
        ("host", host), ("port", port), ("data_dir", data_dir), ("approval", approval),
        ("dev", dev), ("workers", workers)) if value is not None}
    try:
        code = server.serve(overrides, tls=tls, certfile=certfile, keyfile=keyfile)
    except server.ServeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(code)


# The engine's commands: every output is complete (written to a temporary name, fsynced,
# renamed) before they return, so nothing is left for interpreter teardown to do.
ENGINE_COMMANDS = {"train", "schema", "generate", "quickstart", "report"}


def run() -> None:
    """The ``simio`` console script: ``main``, then, after an engine command, exit without
    interpreter teardown (``os._exit``). Finalising numpy, pandas and numba's LLVM costs
    about 0.3 s of CPU, a quarter of a small ``simio generate``; atexit handlers and garbage
    collection have nothing to do for these commands. ``serve`` and ``admin`` exit normally
    (the job runner, the store and logging shut down through atexit)."""
    import engine.cli

    engine.cli.OWN_PROCESS = True
    try:
        main(prog_name="simio")
    except SystemExit as exc:
        command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
        if command not in ENGINE_COMMANDS:
            raise
        code = exc.code
        if not isinstance(code, int):         # sys.exit("message") / sys.exit(None)
            if code is not None:
                print(code, file=sys.stderr)
            code = 0 if code is None else 1
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:                       # a closed pipe: nothing more can be said
            code = code or 1
        os._exit(code)


if __name__ == "__main__":  # pragma: no cover - `python -m localapi.cli`
    run()
