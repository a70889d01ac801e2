"""numba's cache lives in a per-user cache folder, never inside the installed package
(issue 9: stale .nbi/.nbc files in site-packages shadowed a later editable install)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine._numba import kernel_fingerprint, use_user_cache_dir, user_cache_dir

REPO = Path(__file__).resolve().parents[2]


def test_cache_dir_order_user_numba_then_simio_then_platform(tmp_path):
    if sys.platform in ("win32", "darwin"):    # the XDG rule below is the Linux/BSD one
        return
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    version = kernel_fingerprint()
    assert use_user_cache_dir(env) == str(tmp_path / "xdg" / "simio-local" / "numba" / version)
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "SIMIO_CACHE_DIR": str(tmp_path / "s")}
    assert use_user_cache_dir(env) == str(tmp_path / "s" / "numba" / version)
    env = {"SIMIO_CACHE_DIR": str(tmp_path / "s"), "NUMBA_CACHE_DIR": str(tmp_path / "n")}
    assert use_user_cache_dir(env) == str(tmp_path / "n")      # the user's own setting wins
    assert user_cache_dir({}) == Path.home() / ".cache" / "simio-local"


def test_compiled_kernels_land_in_the_user_cache_not_the_package(tmp_path):
    package = REPO / "engine"
    before = {p for p in package.rglob("*.nb[ic]")}
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "SIMIO_CACHE_DIR", "NUMBA_DISABLE_JIT")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(REPO))
    code = ("from engine import Synthesizer; "
            "Synthesizer().fit('data/quickstart_seed.csv').sample(100, seed=1)")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True, timeout=600)
    cached = list((tmp_path / "cache" / "simio-local" / "numba" / kernel_fingerprint())
                  .rglob("*.nbi"))
    assert cached, "no kernel was cached in the user cache folder"
    assert {p for p in package.rglob("*.nb[ic]")} == before


def test_a_changed_kernel_module_anywhere_names_a_new_cache(tmp_path):
    """numba does not see a callee's change in another file (it checks the caller's own
    time stamp), so the cache folder is named after every kernel module's source: change
    one byte of any of them, or add one, and the fingerprint changes."""
    import shutil

    tree = tmp_path / "engine"
    shutil.copytree(REPO / "engine", tree, ignore=shutil.ignore_patterns("__pycache__"))
    before = kernel_fingerprint(tree)
    assert before == kernel_fingerprint(REPO / "engine")
    assert len(before) == 8 and int(before, 16) >= 0
    callee = tree / "sampling" / "_kernels.py"
    callee.write_text(callee.read_text() + "\n# changed\n")
    changed = kernel_fingerprint(tree)
    assert changed != before
    (tree / "model" / "_new_kernels.py").write_text("")
    added = kernel_fingerprint(tree)
    assert added not in (before, changed)
    (tree / "cli.py").write_text("# no kernel here\n")     # other modules do not count
    assert kernel_fingerprint(tree) == added
