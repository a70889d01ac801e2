"""Harness: run ``simio serve`` as a real subprocess on 127.0.0.1 for end-to-end tests.

    from tests.e2e.server import running_server

    def test_something(tmp_path):
        with running_server(tmp_path) as srv:            # HTTPS, self-signed cert, port 0
            r = requests.get(srv.url("/healthz"), verify=srv.verify)
            env = srv.client_env()                        # SIMIO_API_BASE, SIMIO_AUTH0_*, CA
            srv.cli("admin", "...")                       # `simio ...` against srv.data_dir
            srv.kill(); srv.restart()                     # SIGKILL, then start again

``running_server(tmp_path, *, tls=True, env=None, extra_args=(), data_dir=None)``:
``tls=True`` passes ``--tls`` (self-signed cert generated in DATA_DIR/tls), ``False``
passes ``--no-tls``, ``None`` passes neither (settings then come from ``env``).
``env`` adds to / overrides the child's environment (a value of ``None`` removes the
variable); every inherited ``SIMIO_*`` variable is removed first so the developer's shell
cannot leak in. ``extra_args`` are appended to ``serve`` (e.g. ``("--approval", "manual")``).
The data dir defaults to ``tmp_path / "data"``; logs go to ``tmp_path / "logs"``.

The handle (``ServerProcess``) has ``base_url``, ``port``, ``cert_path`` (the served chain;
None without TLS), ``ca_path`` (the generated local CA; None without one), ``data_dir``,
``process`` (the ``Popen``), ``banner`` (start-up lines), ``verify`` (the CA, else
``cert_path``, else True, for requests), and ``url(path)``, ``get(path)``, ``client_env()``,
``cli(*args)``, ``stop()``, ``kill()``, ``restart(same_port=True)``, ``output()``.

Every wait is bounded. The harness only ever talks to 127.0.0.1: it passes
``--host 127.0.0.1`` and refuses a banner URL on any other host.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 90.0       # cold imports (pandas, numba) on a slow CI machine
STOP_TIMEOUT = 15.0
LISTENING = "simio-local listening on "
READY = "simio-local ready"


def child_env(env: dict | None = None) -> dict:
    """The environment for a ``simio`` child: no inherited SIMIO_*, unbuffered, repo on path."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SIMIO_")}
    base["PYTHONUNBUFFERED"] = "1"
    base["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    for key, value in (env or {}).items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = str(value)
    return base


def run_simio(*args, env: dict | None = None, timeout: float = 60.0,
              cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m localapi.cli ARGS`` to completion (bounded); text output captured."""
    return subprocess.run([sys.executable, "-m", "localapi.cli", *map(str, args)],
                          env=child_env(env), cwd=cwd or REPO, capture_output=True,
                          text=True, timeout=timeout)


class ServerProcess:
    def __init__(self, tmp_path, *, tls: bool | None = True, env: dict | None = None,
                 extra_args=(), data_dir=None):
        self.tmp_path = Path(tmp_path)
        self.tls = tls
        self.env = dict(env or {})
        self.extra_args = tuple(str(a) for a in extra_args)
        self.data_dir = Path(data_dir) if data_dir is not None else self.tmp_path / "data"
        self.logs = self.tmp_path / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.base_url: str | None = None
        self.port: int | None = None
        self.cert_path: str | None = None
        self.ca_path: str | None = None
        self.banner: list[str] = []
        self.starts = 0
        self._lines: list[str] = []
        self._reader: threading.Thread | None = None
        self._stderr_path: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, port: int = 0) -> "ServerProcess":
        assert not self.running, "already running"
        self.starts += 1
        args = [sys.executable, "-m", "localapi.cli", "serve", "--host", HOST,
                "--port", str(port), "--data-dir", str(self.data_dir)]
        if self.tls is True:
            args.append("--tls")
        elif self.tls is False:
            args.append("--no-tls")
        args += self.extra_args
        self._lines = []
        self._stderr_path = self.logs / f"server-{self.starts}.stderr.log"
        stderr = open(self._stderr_path, "wb")
        try:
            self.process = subprocess.Popen(args, cwd=REPO, env=child_env(self.env),
                                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=stderr, text=True, bufsize=1)
        finally:
            stderr.close()          # the child holds its own copy
        self._reader = threading.Thread(target=self._read_stdout, args=(self.process,),
                                        name="simio-harness-stdout", daemon=True)
        self._reader.start()
        try:
            self._await_banner()
            self._await_health()
        except BaseException:
            self._force_stop()
            raise
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, wait (bounded), then SIGKILL; returns the exit status."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        self._join_reader()
        return proc.returncode

    def kill(self) -> int | None:
        """SIGKILL (no graceful shutdown), as a crash or power cut would."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(getattr(signal, "SIGKILL", signal.SIGTERM))
            proc.wait(STOP_TIMEOUT)
        self._join_reader()
        return proc.returncode

    def restart(self, *, same_port: bool = True) -> "ServerProcess":
        """Stop (if still running) and start again on the same data dir (and port)."""
        port = self.port if (same_port and self.port) else 0
        self.stop()
        return self.start(port=port)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- helpers for tests -------------------------------------------------------------

    @property
    def verify(self):
        """The ``verify=`` argument for requests: the generated CA, the served chain, or
        True (a certificate from a public CA)."""
        return self.ca_path or self.cert_path or True

    def url(self, path: str = "") -> str:
        return self.base_url + (path if not path or path.startswith("/") else "/" + path)

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("verify", self.verify)
        kwargs.setdefault("timeout", 30)
        return requests.get(self.url(path), **kwargs)

    def client_env(self) -> dict:
        """The banner's ``client env:`` block: what a Simulacra client sets to use this
        server (SIMIO_API_BASE, SIMIO_AUTH0_DOMAIN, SIMIO_AUTH0_AUDIENCE and, with the
        self-signed cert, REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE / SSL_CERT_FILE)."""
        env, inside = {}, False
        for line in self.banner:
            if line == "client env:":
                inside = True
            elif inside and line.startswith("  ") and "=" in line:
                name, _, value = line.strip().removeprefix("export ").partition("=")
                env[name] = value
            elif inside:
                break
        return env

    def cli(self, *args, env: dict | None = None, timeout: float = 60.0
            ) -> subprocess.CompletedProcess:
        """Run ``simio ARGS`` with this server's data dir (SIMIO_DATA_DIR)."""
        return run_simio(*args, env={"SIMIO_DATA_DIR": str(self.data_dir), **(env or {})},
                         timeout=timeout)

    def stdout_lines(self) -> list[str]:
        return list(self._lines)

    def output(self) -> str:
        """Everything the current/last process printed (for assertion messages)."""
        err = ""
        if self._stderr_path is not None and self._stderr_path.exists():
            err = self._stderr_path.read_text(errors="replace")
        return "--- stdout ---\n" + "\n".join(self._lines) + "\n--- stderr ---\n" + err[-8000:]

    # -- internals ---------------------------------------------------------------------

    def _read_stdout(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self._lines.append(line.rstrip("\n"))
        proc.stdout.close()

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(STOP_TIMEOUT)

    def _await_banner(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not any(line.startswith(READY) for line in self._lines):
            if self.process.poll() is not None:
                self._join_reader()
                raise RuntimeError(f"simio serve exited with {self.process.returncode} "
                                   f"before it was ready\n{self.output()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"simio serve not ready after {START_TIMEOUT:.0f}s\n"
                                   f"{self.output()}")
            time.sleep(0.05)
        end = next(i for i, line in enumerate(self._lines) if line.startswith(READY))
        self.banner = self._lines[:end + 1]
        listening = [line for line in self.banner if line.startswith(LISTENING)]
        if not listening:
            raise RuntimeError(f"no '{LISTENING}' line in the banner\n{self.output()}")
        self.base_url = listening[0][len(LISTENING):].strip()
        parts = urlsplit(self.base_url)
        if parts.hostname != HOST:
            raise RuntimeError(f"server listens on {parts.hostname}, not {HOST}; refusing")
        self.port = parts.port
        self.cert_path = self.banner_value("tls cert")
        self.ca_path = self.banner_value("tls ca")

    def banner_value(self, key: str) -> str | None:
        """The value of a ``key: value`` banner line, or None."""
        prefix = key + ": "
        for line in self.banner:
            if line.startswith(prefix):
                return line[len(prefix):]
        return None

    def _await_health(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"simio serve exited with {self.process.returncode}\n"
                                   f"{self.output()}")
            try:
                response = requests.get(self.url("/healthz"), verify=self.verify, timeout=5)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except requests.RequestException as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise TimeoutError(f"/healthz not OK after {START_TIMEOUT:.0f}s ({last})\n"
                           f"{self.output()}")

    def _force_stop(self) -> None:
        with contextlib.suppress(Exception):
            self.kill()


@contextlib.contextmanager
def running_server(tmp_path, *, tls: bool | None = True, env: dict | None = None,
                   extra_args=(), data_dir=None):
    """Start ``simio serve`` on 127.0.0.1 (port 0), yield its handle, always stop it."""
    server = ServerProcess(tmp_path, tls=tls, env=env, extra_args=extra_args,
                           data_dir=data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
