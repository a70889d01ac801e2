"""The one place numba flags live.

cache=True: compiled kernels are kept on disk, so only the first run pays compilation.
fastmath stays off: it lets LLVM reorder float operations, which breaks byte-identical
output across machines. nogil=True so chunks can run on threads.
"""

from __future__ import annotations

import numba

KERNEL_OPTIONS = {"nopython": True, "cache": True, "fastmath": False, "nogil": True}


def kernel(func):
    """Compile ``func`` as a simio kernel (see module docstring for the flags)."""
    return numba.jit(**KERNEL_OPTIONS)(func)
