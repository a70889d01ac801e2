"""``simio serve``: the local API on cheroot's threaded WSGI server, over HTTP or HTTPS.

Settings come from defaults, then ``SIMIO_*`` environment variables (``localapi.config``;
this module adds ``SIMIO_TLS``, ``SIMIO_CERTFILE``, ``SIMIO_KEYFILE``), then command-line
flags. ``--tls`` without a certificate generates a self-signed one once in
``DATA_DIR/tls/`` (``localapi.tls``) and reuses it on later starts.

Start-up banner — stdout, flushed, printed once the socket is bound and the app is built.
The first line and the ``key: value`` lines are a stable format for scripts and tests::

    simio-local listening on https://127.0.0.1:8443
    docs: https://127.0.0.1:8443/docs
    approval: auto
    data dir: /abs/path/simio-data
    tls cert: /abs/path/simio-data/tls/cert.pem        (TLS only)
    tls: self-signed certificate reused (SHA256:...)   (self-signed only)
    dev: on (...)                                       (--dev only)
    client env:                                         (then indented NAME=value lines)
    simio-local ready (Ctrl-C or SIGTERM stops it)      (always the last line)

Refusals (``--dev`` on a non-loopback host, a missing or mismatched certificate, a port in
use) raise ``ServeError``: the CLI prints one ``error: ...`` line and exits with status 2.

SIGTERM / SIGINT: stop accepting, give in-flight requests ``SHUTDOWN_GRACE`` seconds, stop
the job runner without waiting for running jobs (they are durable: the next start requeues
them, and artifacts are only ever renamed into place), print ``simio-local stopped`` and
exit 0. A second signal during shutdown exits at once.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from localapi.config import Config, is_loopback

# HTTP request threads (not job threads: those are --workers). A long-poll
# (`wait_seconds`) holds one thread, so keep well above the job workers.
REQUEST_THREADS = 16
SHUTDOWN_GRACE = 2.0           # seconds in-flight requests get after SIGTERM
# The socket's listen backlog (cheroot's default is 5): a burst of 48 clients (the load
# check, benchmarks/bench_load.py) once saw a connection reset with the default.
LISTEN_BACKLOG = 128
READY_LINE = "simio-local ready (Ctrl-C or SIGTERM stops it)"   # the banner's last line
TLS_DIR = "tls"

log = logging.getLogger("simio.server")


class ServeError(Exception):
    """A start-up refusal; ``str(exc)`` is the one-line message."""


@dataclass
class Plan:
    config: Config
    certfile: str | None = None
    keyfile: str | None = None
    self_signed: bool = False
    cert_created: bool = False
    fingerprint: str | None = None

    @property
    def tls(self) -> bool:
        return self.certfile is not None


def plan(overrides: dict | None = None, *, tls: bool | None = None,
         certfile: str | None = None, keyfile: str | None = None,
         environ=os.environ) -> Plan:
    """Resolve settings and refuse unsafe or impossible ones; generates the cert if needed."""
    overrides = dict(overrides or {})
    try:
        config = Config.load(overrides, environ=environ)
    except (TypeError, ValueError) as exc:
        raise ServeError(f"invalid setting: {exc}") from None
    config.data_dir = str(Path(config.data_dir).expanduser().resolve())
    if config.dev and not is_loopback(config.host):
        raise ServeError(
            f"--dev (requests without credentials) listens only on loopback; refusing to "
            f"listen on {config.host}. Use --host 127.0.0.1, or drop --dev and use "
            f"credentials.")
    if not 0 <= int(config.port) <= 65535:
        raise ServeError(f"invalid port {config.port}; use 0-65535 (0 picks a free port)")

    if tls is None:
        tls = _truthy(environ.get("SIMIO_TLS"))
        certfile = certfile or environ.get("SIMIO_CERTFILE") or None
        keyfile = keyfile or environ.get("SIMIO_KEYFILE") or None
        if certfile or keyfile:
            tls = True
    elif tls is False:
        if certfile or keyfile:
            raise ServeError("--no-tls cannot be combined with --certfile/--keyfile")
        return Plan(config)
    else:
        certfile = certfile or environ.get("SIMIO_CERTFILE") or None
        keyfile = keyfile or environ.get("SIMIO_KEYFILE") or None
    if not tls:
        return Plan(config)

    from localapi import tls as tlsmod

    if certfile or keyfile:
        if not (certfile and keyfile):
            raise ServeError("give both --certfile and --keyfile (or neither, with --tls, "
                             "for a generated self-signed certificate)")
        try:
            tlsmod.check_pair(certfile, keyfile)
        except (OSError, ValueError) as exc:
            raise ServeError(str(exc)) from None
        return Plan(config, str(Path(certfile).resolve()), str(Path(keyfile).resolve()))
    try:
        pair = tlsmod.ensure_self_signed(Path(config.data_dir) / TLS_DIR)
    except OSError as exc:
        raise ServeError(f"cannot write the self-signed certificate: {exc}") from None
    return Plan(config, pair.cert, pair.key, self_signed=True, cert_created=pair.created,
                fingerprint=pair.fingerprint)


def base_url(host: str, port: int, tls: bool) -> str:
    host = host.strip("[]")
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def banner(p: Plan) -> list[str]:
    cfg = p.config
    url = base_url(cfg.host, cfg.port, p.tls)
    lines = [f"simio-local listening on {url}",
             f"docs: {url}/docs",
             f"approval: {cfg.approval}",
             f"data dir: {cfg.data_dir}"]
    if p.tls:
        lines.append(f"tls cert: {p.certfile}")
    if p.self_signed:
        state = "generated" if p.cert_created else "reused"
        lines.append(f"tls: self-signed certificate {state} ({p.fingerprint})")
    if cfg.dev:
        lines.append("dev: on (requests without a bearer token act as the development "
                     "tenant; loopback only)")
    # What a client built for the hosted API changes (environment only) to use this server.
    client_host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(
        cfg.host.strip("[]"), cfg.host)
    client = base_url(client_host, cfg.port, p.tls)
    lines.append("client env:")
    lines.append(f"  SIMIO_API_BASE={client}")
    lines.append(f"  SIMIO_AUTH0_DOMAIN={client.split('://', 1)[1]}")
    lines.append(f"  SIMIO_AUTH0_AUDIENCE={cfg.audience}")
    if p.self_signed:
        for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
            lines.append(f"  {name}={p.certfile}")
    if not p.tls:
        lines.append("note: clients that build https://{SIMIO_AUTH0_DOMAIN}/oauth/token "
                     "need --tls")
    lines.append(READY_LINE)
    return lines


def _warm_kernels() -> None:
    try:
        from engine import warm_up

        warm_up()
    except Exception:  # a failed warm-up only costs the first request some time
        logging.getLogger("simio.server").exception("kernel warm-up failed")


def serve(overrides: dict | None = None, *, tls: bool | None = None,
          certfile: str | None = None, keyfile: str | None = None, environ=os.environ,
          out=None, hard_exit: bool = True) -> int:
    """Run the server until SIGTERM/SIGINT; raises ServeError on a start-up refusal.

    With ``hard_exit`` (the CLI) the process ends with ``os._exit`` so that job threads
    still running a long training or generation are not waited for; otherwise the exit
    status is returned.
    """
    from cheroot import wsgi

    out = out or sys.stdout
    # Everything the server creates (store, WAL, staging, models, artifacts, logs of
    # SQLite) is for its owner only.
    os.umask(0o077)
    p = plan(overrides, tls=tls, certfile=certfile, keyfile=keyfile, environ=environ)
    cfg = p.config
    _setup_logging()

    server = wsgi.Server((cfg.host.strip("[]"), int(cfg.port)), None,
                         numthreads=REQUEST_THREADS, server_name="simio-local")
    server.shutdown_timeout = SHUTDOWN_GRACE
    server.request_queue_size = LISTEN_BACKLOG
    server.version = "simio-local"
    if p.tls:
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        try:
            server.ssl_adapter = BuiltinSSLAdapter(p.certfile, p.keyfile)
        except Exception as exc:  # ssl.SSLError, OSError: a file OpenSSL will not load
            raise ServeError(f"cannot use TLS certificate {p.certfile}: {exc}") from None
    try:
        server.prepare()                      # binds and listens; nothing is accepted yet
    except OSError as exc:
        raise ServeError(f"cannot listen on {base_url(cfg.host, cfg.port, p.tls)}: "
                         f"{exc}") from None
    cfg.port = int(server.bind_addr[1])       # port 0: the port the OS picked
    if not cfg.public_url:                    # URLs we hand out: never the Host header
        from localapi.config import default_public_url

        cfg.public_url = default_public_url(cfg.host, cfg.port, p.tls)

    from localapi import create_app

    try:
        app = create_app(cfg)
    except BaseException:
        server.stop()
        raise
    server.wsgi_app = app
    runner = app.extensions.get("simio_jobs")
    # Load the numba kernels now (from the on-disk cache after the first run) so the first
    # generation request does not pay for it; in the background, so start-up stays quick.
    threading.Thread(target=_warm_kernels, name="simio-warmup", daemon=True).start()

    stop = threading.Event()
    reason: list[str] = []

    def on_signal(signum, _frame):
        if stop.is_set():                     # a second signal: no more grace
            _flush()
            os._exit(128 + signum)
        reason.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in _signals()}

    failure: list[BaseException] = []

    def run():
        try:
            server.serve()
        except BaseException as exc:          # reported by the main thread
            failure.append(exc)
        finally:
            stop.set()

    thread = threading.Thread(target=run, name="simio-http", daemon=True)
    thread.start()
    _echo(out, banner(p))
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:                 # SIGINT before our handler took over
        reason.append("SIGINT")

    _echo(out, [f"simio-local stopping ({reason[0] if reason else 'server stopped'})"])
    stopper = threading.Thread(target=server.stop, name="simio-http-stop", daemon=True)
    stopper.start()
    stopper.join(SHUTDOWN_GRACE + 1.0)
    if stopper.is_alive():
        log.warning("requests still in flight after %.0fs; exiting without them",
                    SHUTDOWN_GRACE + 1.0)
    if runner is not None:
        # Queued jobs stay queued and running ones are requeued on the next start.
        runner.shutdown(wait=False)
    code = 0
    if failure:
        log.error("server loop failed: %r", failure[0])
        code = 1
    _echo(out, ["simio-local stopped"])
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    if hard_exit:
        logging.shutdown()
        _flush()
        os._exit(code)
    return code


def _signals():
    sigs = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGBREAK"):           # Windows console Ctrl-Break
        sigs.append(signal.SIGBREAK)
    return sigs


def _echo(out, lines) -> None:
    out.write("".join(line + "\n" for line in lines))   # one write: the banner arrives whole
    out.flush()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed pipe must not block the exit
            pass


def _setup_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _truthy(raw: str | None) -> bool:
    return raw is not None and raw.strip().lower() in ("1", "true", "yes", "on")
