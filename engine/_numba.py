"""The one place numba flags (and numba's cache directory) live.

cache=True: compiled kernels are kept on disk, so only the first run pays compilation.
fastmath stays off: it lets LLVM reorder float operations, which breaks byte-identical
output across machines. nogil=True so chunks can run on threads.

The cache goes to a per-user cache directory, never beside the sources: numba's default
(``__pycache__`` inside the installed package) leaves ``.nbi``/``.nbc`` files in
site-packages that pip's uninstall does not know, and the surviving ``engine/`` folder
then shadows a later editable install. ``use_user_cache_dir`` runs from
``engine/__init__`` before any module imports numba; numba is imported only when a kernel
is compiled, so ``import engine`` stays cheap.
"""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path

KERNEL_OPTIONS = {"nopython": True, "cache": True, "fastmath": False, "nogil": True}


def user_cache_dir(environ=os.environ) -> Path:
    """Where simio-local keeps caches: ``SIMIO_CACHE_DIR``, else the platform's per-user
    cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``; ``~/Library/Caches`` on macOS;
    ``%LOCALAPPDATA%`` on Windows) + ``simio-local``."""
    if environ.get("SIMIO_CACHE_DIR"):
        return Path(environ["SIMIO_CACHE_DIR"]).expanduser()
    if sys.platform == "win32" and environ.get("LOCALAPPDATA"):
        base = Path(environ["LOCALAPPDATA"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return base / "simio-local"


def kernel_fingerprint(root: Path = Path(__file__).parent) -> str:
    """8 hex digits of CRC-32 over every kernel module's source (``*/_*kernels.py``, by
    path and content) and this file's (the flags): a folder name, not a security check,
    and zlib is loaded anyway where hashlib would add 4 ms to every ``simio`` start.

    numba checks a cached kernel against its own file's time stamp only: a kernel that
    calls a kernel of another module (the probit, tilt and latent kernels call
    ``sampling/_kernels._ndtr``) stays compiled against the old callee when only the
    callee's file changes, and a machine upgraded in place would then write other bytes
    than a fresh one. The cache folder is named by this fingerprint instead, so changed
    kernels, anywhere, start a fresh cache."""
    crc = 0
    for path in sorted(root.glob("*/_*kernels.py")) + [root / "_numba.py"]:
        crc = zlib.crc32(path.relative_to(root).as_posix().encode() + b"\0", crc)
        crc = zlib.crc32(path.read_bytes(), crc)
    return f"{crc:08x}"


def use_user_cache_dir(environ=os.environ) -> str:
    """Point numba's cache at ``user_cache_dir()/numba/<kernel_fingerprint()>`` unless the
    user set ``NUMBA_CACHE_DIR`` themselves (then keeping it right is theirs); returns the
    directory in use. Folders of earlier fingerprints are left for the user to delete (a
    few MB each): another installed version may still be using one."""
    if not environ.get("NUMBA_CACHE_DIR"):
        environ["NUMBA_CACHE_DIR"] = str(user_cache_dir(environ) / "numba"
                                         / kernel_fingerprint())
    numba = sys.modules.get("numba")
    if numba is not None:           # imported before us: its config has already been read
        numba.config.CACHE_DIR = environ["NUMBA_CACHE_DIR"]
    return environ["NUMBA_CACHE_DIR"]


def kernel(func):
    """Compile ``func`` as a simio kernel (see module docstring for the flags)."""
    import numba

    return numba.jit(**KERNEL_OPTIONS)(func)


def init_target_for_cli() -> None:
    """Initialise numba's CPU target with SciPy's BLAS wrappers and cffi kept out.

    Loading even a cached kernel first initialises the target, and that imports
    ``scipy.linalg`` (numba probes for BLAS, for ``np.dot`` in kernels) and ``cffi``: about
    0.35 s of CPU on a 2-core machine, a fifth of a small ``simio generate``. Our kernels
    use neither, so the ``simio`` process, which runs no one else's numba code, skips them:
    numba then records "no BLAS" for this process only. Not for library use: a caller's own
    kernels might need BLAS. Any change in numba's internals just skips the shortcut.
    """
    blocked = [name for name in ("scipy.linalg", "cffi") if name not in sys.modules]
    try:
        from numba.core.registry import cpu_target

        for name in blocked:
            sys.modules[name] = None        # makes `import scipy.linalg` fail at once
        cpu_target.target_context.refresh()
    except (ImportError, AttributeError):   # pragma: no cover - numba moved things
        pass
    finally:
        for name in blocked:
            sys.modules.pop(name, None)
