"""`simio tls trust` without --apply: what it prints, and its refusals (no store changes).

The --apply/--remove path changes the real system store and is tested as root in
tests/e2e/test_tls_trust.py and tests/e2e/test_r_quickstart.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from localapi import tls, trust
from localapi.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path):
    tls.ensure_local_ca(tmp_path / "data" / "tls")
    return tmp_path / "data"


def run(*args):
    return CliRunner().invoke(main, ["tls", "trust", *map(str, args)])


@pytest.mark.parametrize("platform", trust.PLATFORMS)
def test_prints_the_store_steps_and_every_client_for_each_platform(data_dir, platform):
    result = run("--data-dir", data_dir, "--platform", platform)
    assert result.exit_code == 0, result.output
    ca = trust.load_ca(data_dir / "tls" / "ca.pem")
    out = result.output
    assert str(ca.path) in out and ca.fingerprint in out
    for argv in trust.install_steps(platform, ca) + trust.remove_steps(platform, ca):
        assert trust._join(argv, platform) in out, argv
    assert f"simio tls trust --apply --data-dir {data_dir.resolve()}" in out
    assert f"simio tls trust --remove --data-dir {data_dir.resolve()}" in out
    for client in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "JULIA_SSL_CA_ROOTS_PATH",
                   "R (httr2", "SPSS"):
        assert client in out, client
    if platform == "windows":
        assert "CURL_SSL_BACKEND=openssl" in out
    else:
        assert f'req_options(cainfo = "{ca.path}")' in out
        assert "ignores CURL_CA_BUNDLE" in out


def test_anchor_names_are_per_data_directory(tmp_path):
    one = trust.load_ca(tls.ensure_local_ca(tmp_path / "a").ca_path)
    two = trust.load_ca(tls.ensure_local_ca(tmp_path / "b").ca_path)
    assert one.anchor_stem != two.anchor_stem
    assert one.anchor_stem.startswith("simio-local-ca-")
    # A renewed CA of the same data directory replaces the same anchor.
    (tmp_path / "a" / tls.CA_CERT_NAME).write_text("stale")
    renewed = trust.load_ca(tls.ensure_local_ca(tmp_path / "a").ca_path)
    assert renewed.fingerprint != one.fingerprint and renewed.anchor_stem == one.anchor_stem


def test_paths_with_spaces_are_quoted_for_the_shell(tmp_path):
    ca = trust.load_ca(tls.ensure_local_ca(tmp_path / "my data" / "tls").ca_path)
    out = trust.render("debian", ca, current=False)
    assert f"install -m 0644 '{ca.path}' " in out
    assert f"export REQUESTS_CA_BUNDLE='{ca.path}'" in out


def test_a_missing_ca_is_a_one_line_error_with_the_fix(tmp_path):
    result = run("--data-dir", tmp_path / "empty")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0] == (f"error: simio_tls_ca_unusable: there is no CA certificate at "
                        f"{(tmp_path / 'empty' / 'tls' / 'ca.pem').resolve()}")
    assert lines[1].startswith("fix: Start `simio serve --tls` once")
    assert not (tmp_path / "empty").exists()              # nothing created


def test_a_leaf_is_not_accepted_as_ca(data_dir):
    result = run("--ca", data_dir / "tls" / "cert.pem")
    assert result.exit_code == 2
    assert "simio_tls_ca_unusable" in result.output and "not a CA certificate" in result.output


def test_apply_for_another_platform_is_refused_before_anything_runs(data_dir):
    here = trust.detect_platform()
    other = next(p for p in trust.PLATFORMS if p != here)
    result = run("--data-dir", data_dir, "--platform", other, "--apply")
    assert result.exit_code == 2
    assert "error: simio_tls_trust_forbidden:" in result.output
    assert "$ " not in result.output                       # no command was run


def test_data_dir_and_ca_together_are_a_usage_error(data_dir):
    result = run("--data-dir", data_dir, "--ca", data_dir / "tls" / "ca.pem")
    assert result.exit_code == 2 and "not both" in result.output


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0
                    or trust.detect_platform() not in ("debian", "rhel", "macos"),
                    reason="drops root to check the refusal: needs root on a POSIX store")
def test_apply_without_root_is_refused_and_changes_nothing(data_dir):
    shared = Path(tempfile.mkdtemp(prefix="simio-ca-"))      # readable after dropping root
    try:
        shared.chmod(0o755)
        ca_file = shared / "ca.pem"
        shutil.copy(data_dir / "tls" / "ca.pem", ca_file)
        ca_file.chmod(0o644)
        ca = trust.load_ca(ca_file)
        anchors = trust.install_steps(trust.detect_platform(), ca)[0][-1]
        # localapi.tls (cryptography) and the `tls` command (localapi.cli_tls) load lazily:
        # import them while the checkout is readable
        code = ("import os\nfrom click.testing import CliRunner\nfrom localapi.cli import main\n"
                "import localapi.tls, localapi.cli_tls\nos.seteuid(65534)\n"
                f"r = CliRunner().invoke(main, ['tls', 'trust', '--ca', {str(ca_file)!r}, "
                "'--apply'])\nprint(r.exit_code)\nprint(r.output)\n")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.returncode == 0, done.stderr
        status, _, output = done.stdout.partition("\n")
        assert status == "2", done.stdout
        assert f"error: simio_tls_trust_forbidden: --apply needs root: run `sudo simio tls " \
               f"trust --apply --ca {ca_file}`" in output
        assert not Path(anchors).exists()
    finally:
        shutil.rmtree(shared)
