"""`simio tls trust --apply/--remove` really changes what the system store trusts.

Runs as root on Debian/Ubuntu (CI); elsewhere it is skipped with the reason shown. Every
client here uses the system store only (curl without --cacert, Python's ssl default
context), so they succeed only while the CA is applied, and fail again after --remove.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from localapi import trust
from tests.e2e.server import running_server
from tests.e2e.trust_store import SKIP_REASON, system_trust

pytestmark = pytest.mark.skipif(SKIP_REASON is not None, reason=str(SKIP_REASON))


def system_store_trusts(url: str) -> bool:
    """A fresh default context loads the system store as it is now (Debian: /etc/ssl)."""
    try:
        with urllib.request.urlopen(url, context=ssl.create_default_context(), timeout=20):
            return True
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLCertVerificationError):
            return False
        raise


def curl_status(url: str) -> int:
    return subprocess.run(["curl", "-sS", "--max-time", "20", "-o", "/dev/null", url],
                          capture_output=True, timeout=30).returncode


def test_apply_then_remove_changes_what_system_store_clients_trust(tmp_path):
    with running_server(tmp_path) as server:
        url = server.url("/healthz")
        ca = trust.load_ca(server.ca_path)
        anchor = trust.DEBIAN_ANCHORS / f"{ca.anchor_stem}.crt"
        assert not system_store_trusts(url)
        with system_trust(server) as applied:
            assert anchor.read_bytes() == Path(server.ca_path).read_bytes()
            assert ca.fingerprint in applied.stdout and "--remove" in applied.stdout
            assert system_store_trusts(url)
            if shutil.which("curl"):
                assert curl_status(url) == 0
        assert not anchor.exists()
        assert not any(p.name.startswith(ca.anchor_stem) for p in Path("/etc/ssl/certs")
                       .iterdir()), "update-ca-certificates left a link behind"
        assert not system_store_trusts(url)
        if shutil.which("curl"):
            assert curl_status(url) == 60                 # curl: peer not verified
