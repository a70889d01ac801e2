"""Trust a running server's local CA in this machine's system store, as users are told.

    with system_trust(server):        # `simio tls trust --apply`, then always `--remove`
        ...

Only for Debian/Ubuntu as root (CI); ``SKIP_REASON`` says why it cannot run elsewhere,
for a visible ``pytest.mark.skipif``.
"""

from __future__ import annotations

import contextlib
import os
import shutil

from localapi import trust


def _skip_reason() -> str | None:
    if trust.detect_platform() != "debian":
        return "the test trusts the CA in a Debian/Ubuntu system store"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "`simio tls trust --apply` needs root to change the system store (CI is root)"
    if shutil.which("update-ca-certificates") is None:
        return "update-ca-certificates is missing (Debian: apt-get install ca-certificates)"
    return None


SKIP_REASON = _skip_reason()


@contextlib.contextmanager
def system_trust(server):
    """Apply the CA of ``server`` (a tests.e2e.server handle); remove it even on failure."""
    args = ("tls", "trust", "--data-dir", server.data_dir)
    try:
        applied = server.cli(*args, "--apply", timeout=300)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        yield applied
    finally:
        removed = server.cli(*args, "--remove", timeout=300)
        assert removed.returncode == 0, removed.stdout + removed.stderr
