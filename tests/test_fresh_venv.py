"""README's two set-up commands, in order, in a fresh venv, exactly as README writes them.

Issue 9: after ``pip install . && simio serve --tls`` then ``pip install -e '.[test]'``,
every ``simio`` command failed: the server's numba warm-up had written ``.nbi``/``.nbc``
cache files into ``site-packages/engine``, pip's uninstall left that folder behind and it
shadowed the editable install. The suite itself still passed (pytest puts the checkout on
``sys.path``), so this test runs the installed command from another folder.

The commands are parsed out of README.md (tests/readme.py), so the test follows README.
Two things are set around them, never in them: the server gets a free port and a temporary
data dir through ``SIMIO_PORT``/``SIMIO_DATA_DIR`` (the command has no port flag), and the
second command's ``pytest`` runs a small selection through ``PYTEST_ADDOPTS`` (the whole
suite inside one of its own tests would recurse). The repository is copied first, so
``pip install .`` writes its build files into the copy, not the checkout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.readme import REPO, section_commands

SETUP = "Set-up: two commands (fresh machine, Python 3.11)"
INSTALL_AND_START = 900      # seconds: pip install . (wheels may come from PyPI) + start-up
STEP = 600
INNER_TESTS = ("tests/engine/test_cli.py::test_console_script_runs_the_quickstart "
               "tests/test_readme.py::test_examples_scenario_is_the_contract_scenario")

pytestmark = pytest.mark.slow


def copy_checkout(dest: Path) -> None:
    """The files a clone has (tracked and new, not ignored), without build leftovers."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, timeout=60)
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.decode().split("\0")):
            source = REPO / name
            if source.is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest / name)
    else:                                           # not a git checkout (an sdist)
        shutil.copytree(REPO, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            "__pycache__", "*.egg-info", "build", ".tox", "simio-data"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cached_kernels(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*.nb[ic]")]


class Lines:
    """Collects a child's output lines on a thread, so reading never blocks the test."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in iter(stream.readline, ""):
            self.lines.append(line.rstrip("\n"))

    def closed(self, timeout: float) -> bool:
        """True once the stream hit end-of-file: every writer has exited."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def value(self, prefix: str) -> str | None:
        return next((x[len(prefix):] for x in self.lines if x.startswith(prefix)), None)


def wait_for(predicate, timeout: float, what: str, proc=None, lines=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(1.0)
    tail = "\n".join((lines.lines if lines else [])[-40:])
    pytest.fail(f"timed out or exited waiting for {what}:\n{tail}")


def healthz(url: str) -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE        # the server's self-signed cert
    try:
        with urllib.request.urlopen(f"{url}/healthz", context=context, timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def test_readme_setup_commands_in_a_fresh_venv(tmp_path):
    commands = section_commands(SETUP)
    assert len(commands) == 2, commands
    repo, venv, elsewhere = tmp_path / "repo", tmp_path / "venv", tmp_path / "elsewhere"
    repo.mkdir()
    elsewhere.mkdir()
    copy_checkout(repo)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=STEP)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    site = Path(subprocess.run([bindir / "python", "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    user_cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SIMIO_", "NUMBA_", "PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               XDG_CACHE_HOME=str(user_cache))

    # 1. `python3 -m pip install . && simio serve --tls`: until /healthz answers and the
    #    warm-up has compiled (and cached) the kernels, as a server that ran a while has.
    server_env = {**env, "SIMIO_PORT": str(free_port()),
                  "SIMIO_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(commands[0], shell=True, cwd=repo, env=server_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    out = Lines(proc.stdout)
    try:
        url = wait_for(lambda: out.value("simio-local listening on "), INSTALL_AND_START,
                       "the server banner", proc, out)
        wait_for(lambda: healthz(url), 120, "/healthz", proc, out)
        assert out.value("  export SIMIO_API_BASE=") == url
        wait_for(lambda: cached_kernels(user_cache, site / "engine"), 300,
                 "the kernel warm-up to cache a kernel", proc, out)
        time.sleep(3)                                   # let the warm-up finish writing
    finally:
        # SIGTERM to the shell and the server (one process group): the shell dies of it,
        # the server stops cleanly and says so.
        with contextlib.suppress(ProcessLookupError):     # the group may be gone already
            os.killpg(proc.pid, signal.SIGTERM)
            if not out.closed(timeout=60):      # EOF: every process of the group has exited
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert "simio-local stopped" in out.lines, "\n".join(out.lines[-40:])
    assert cached_kernels(site) == [], "numba cache files inside site-packages"
    assert cached_kernels(user_cache / "simio-local" / "numba")

    # 2. `python3 -m pip install -e '.[test]' && python3 -m pytest -q` (a few tests)
    step = subprocess.run(commands[1], shell=True, cwd=repo, timeout=STEP,
                          env={**env, "PYTEST_ADDOPTS": INNER_TESTS},
                          capture_output=True, text=True)
    assert step.returncode == 0, step.stdout[-4000:] + step.stderr[-4000:]
    assert "2 passed" in step.stdout, step.stdout[-2000:]

    # 3. From another folder, the installed command: it must be the editable checkout.
    simio = str(bindir / "simio")
    where = subprocess.run([bindir / "python", "-c", "import engine; print(engine.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()) == repo / "engine" / "__init__.py"
    helped = subprocess.run([simio, "--help"], cwd=elsewhere, env=env, capture_output=True,
                            text=True, timeout=60)
    assert helped.returncode == 0, helped.stderr
    for command in ("quickstart", "train", "generate", "serve", "admin"):
        assert command in helped.stdout
    demo = subprocess.run([simio, "quickstart"], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=STEP)
    assert demo.returncode == 0, demo.stderr
    assert (elsewhere / "simio-quickstart" / "synthetic.parquet").is_file()
    assert "generated 5000 of 5000 rows" in demo.stdout
    assert cached_kernels(site) == []
