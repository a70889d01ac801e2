"""`simio serve` as a real process: TLS with a generated local CA, banner, refusals, signals."""

from __future__ import annotations

import ipaddress
import os
import shutil
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.e2e.server import HOST, ServerProcess, run_simio, running_server


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """One HTTPS server shared by the read-only checks."""
    with running_server(tmp_path_factory.mktemp("serve")) as server:
        yield server


def test_https_healthz_trusts_the_generated_ca(srv):
    assert srv.base_url == f"https://{HOST}:{srv.port}"
    assert srv.port and srv.port != 0
    assert Path(srv.cert_path) == srv.data_dir.resolve() / "tls" / "cert.pem"
    assert Path(srv.ca_path) == srv.data_dir.resolve() / "tls" / "ca.pem"
    response = requests.get(srv.url("/healthz"), verify=srv.ca_path, timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    # Without the CA, verification really fails: the cert is not trusted by accident.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(srv.url("/healthz"), verify=True, timeout=10)


def test_every_response_carries_x_request_id(srv):
    ok = srv.get("/healthz")
    missing = srv.get("/no-such-route")
    for response in (ok, missing):
        assert response.headers.get("X-Request-Id"), response.headers
    assert ok.headers["X-Request-Id"] == ok.json()["request_id"]
    assert ok.headers["X-Request-Id"] != missing.headers["X-Request-Id"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_with_cacert(srv):
    def curl(*args):
        return subprocess.run(["curl", "-sS", "--fail", "--max-time", "20", *args],
                              capture_output=True, text=True, timeout=30)

    trusted = curl("--cacert", srv.ca_path, srv.url("/healthz"))
    assert trusted.returncode == 0, trusted.stderr
    assert '"status"' in trusted.stdout
    via_env = subprocess.run(["curl", "-sS", "--fail", "--max-time", "20", srv.url("/healthz")],
                             capture_output=True, text=True, timeout=30,
                             env={**os.environ, "CURL_CA_BUNDLE": srv.ca_path})
    assert via_env.returncode == 0, via_env.stderr
    localhost = curl("--cacert", srv.ca_path, f"https://localhost:{srv.port}/healthz")
    assert localhost.returncode == 0, localhost.stderr     # the DNS:localhost SAN
    untrusted = curl(srv.url("/healthz"))
    assert untrusted.returncode == 60, (untrusted.returncode, untrusted.stderr)


def test_served_cert_is_a_loopback_leaf_signed_by_a_scoped_ca(srv):
    leaf, chained_ca = x509.load_pem_x509_certificates(Path(srv.cert_path).read_bytes())
    ca = x509.load_pem_x509_certificate(Path(srv.ca_path).read_bytes())
    assert chained_ca == ca                                # cert.pem is leaf + CA
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {"localhost"}
    assert set(sans.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    leaf.verify_directly_issued_by(ca)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert (constraints.value.ca, constraints.value.path_length) == (True, 0)
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and not usage.digital_signature
    assert ca.issuer == ca.subject
    for name in ("key.pem", "ca-key.pem"):
        key_path = Path(srv.cert_path).with_name(name)
        assert key_path.is_file()
        if os.name == "posix":
            assert key_path.stat().st_mode & 0o777 == 0o600


def test_banner_shows_url_docs_approval_data_dir_and_cert(srv):
    banner = srv.banner
    assert banner[0] == f"simio-local listening on {srv.base_url}"
    assert srv.banner_value("docs") == f"{srv.base_url}/docs"
    assert srv.banner_value("approval") == "auto"                  # loopback default
    assert srv.banner_value("data dir") == str(srv.data_dir.resolve())
    assert srv.banner_value("tls cert") == srv.cert_path
    assert srv.banner_value("tls ca") == srv.ca_path
    assert srv.banner_value("tls").startswith("local CA generated (SHA256:")
    assert srv.banner_value("trust").startswith(
        f"simio tls trust --data-dir {srv.data_dir.resolve()}")
    assert banner[-1].startswith("simio-local ready")
    env = srv.client_env()
    assert env["SIMIO_API_BASE"] == srv.base_url
    assert env["SIMIO_AUTH0_DOMAIN"] == f"{HOST}:{srv.port}"
    assert env["SIMIO_AUTH0_AUDIENCE"] == "https://api.simulacra-data.com"
    assert env["REQUESTS_CA_BUNDLE"] == env["CURL_CA_BUNDLE"] == srv.ca_path
    # The quickstart's token URL, built from SIMIO_AUTH0_DOMAIN, reaches this server.
    token_url = f"https://{env['SIMIO_AUTH0_DOMAIN']}/oauth/token"
    response = requests.post(token_url, json={}, verify=env["REQUESTS_CA_BUNDLE"], timeout=10)
    assert response.status_code != 404, response.text


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_banner_export_lines_set_the_client_env_in_a_shell(srv):
    block = srv.banner[srv.banner.index("client env:") + 1:]
    exports = [line.strip() for line in block if line.startswith("  ")]
    assert exports and all(line.startswith("export ") for line in exports)
    script = "\n".join(exports) + "\nenv\n"        # pasted into a shell, as README says
    shell = subprocess.run(["bash", "-c", script], env={"PATH": os.environ["PATH"]},
                           capture_output=True, text=True, timeout=30, check=True)
    env = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
    assert {k: env.get(k) for k in srv.client_env()} == srv.client_env()
    assert env["SIMIO_API_BASE"] == srv.base_url


def test_banner_credentials_command_makes_credentials_the_server_accepts(srv, tmp_path):
    line = srv.banner_value("credentials")
    command = shlex.split(line.split(" or ", 1)[1].replace("NAME", "'Banner Co'"))
    assert command[:3] == ["simio", "admin", "tenants"]
    # from another folder, without SIMIO_DATA_DIR: the printed --data-dir finds the store
    result = run_simio(*command[1:], cwd=tmp_path, env={"SIMIO_DATA_DIR": None})
    assert result.returncode == 0, result.stderr
    values = dict(x.split("=", 1) for x in result.stdout.split() if "=" in x)
    token = requests.post(srv.url("/oauth/token"), verify=srv.cert_path, timeout=30, json={
        "grant_type": "client_credentials", "client_id": values["client_id"],
        "client_secret": values["client_secret"],
        "audience": srv.client_env()["SIMIO_AUTH0_AUDIENCE"]})
    assert token.status_code == 200, token.text
    assert not (tmp_path / "simio-data").exists()


def test_second_start_reuses_the_certificate_and_survives_sigkill(tmp_path):
    with running_server(tmp_path) as server:
        first = Path(server.cert_path).read_bytes()
        first_port = server.port
        assert server.banner_value("tls").startswith("local CA generated")
        server.kill()
        assert server.process.returncode == -signal.SIGKILL
        server.restart()
        assert server.port == first_port                          # same URL for clients
        assert Path(server.cert_path).read_bytes() == first
        assert server.banner_value("tls").startswith("local CA reused")
        assert server.get("/healthz").status_code == 200         # old CA file still valid


def test_dev_mode_refuses_a_non_loopback_host(tmp_path):
    result = run_simio("serve", "--dev", "--host", "0.0.0.0", "--port", "0",
                       "--data-dir", tmp_path / "data", timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: --dev")
    assert "0.0.0.0" in lines[0] and "loopback" in lines[0]
    assert "listening" not in result.stdout


def test_dev_mode_env_var_refuses_too(tmp_path):
    result = run_simio("serve", "--port", "0", "--data-dir", tmp_path / "data",
                       env={"SIMIO_DEV": "1", "SIMIO_HOST": "0.0.0.0"}, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: --dev")


def test_missing_certificate_files_are_a_one_line_refusal(tmp_path):
    result = run_simio("serve", "--port", "0", "--data-dir", tmp_path / "data",
                       "--certfile", tmp_path / "nope.pem", "--keyfile", tmp_path / "nope.key")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: TLS certificate file {tmp_path / 'nope.pem'} does not exist"]


def test_port_in_use_is_a_one_line_refusal(srv, tmp_path):
    result = run_simio("serve", "--host", HOST, "--port", srv.port, "--no-tls",
                       "--data-dir", tmp_path / "data")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: cannot listen on http://{HOST}:{srv.port}")


def test_plain_http_mode_and_sigint(tmp_path):
    with running_server(tmp_path, tls=False) as server:
        assert server.base_url == f"http://{HOST}:{server.port}"
        assert server.cert_path is None
        assert server.banner_value("tls cert") is None
        assert "need --tls" in "\n".join(server.banner)          # the quickstart hint
        response = requests.get(server.url("/healthz"), timeout=10)
        assert response.status_code == 200
        assert response.headers["X-Request-Id"]
        assert not (server.data_dir / "tls").exists()
        server.process.send_signal(signal.SIGINT)                # Ctrl-C
        assert server.process.wait(timeout=10) == 0
        server.stop()
        assert "simio-local stopping (SIGINT)" in server.stdout_lines()


def test_env_vars_configure_tls_and_approval(tmp_path):
    with running_server(tmp_path, tls=None,
                        env={"SIMIO_TLS": "1", "SIMIO_APPROVAL": "manual"}) as server:
        assert server.base_url.startswith("https://")
        assert server.banner_value("approval") == "manual"
        assert server.get("/healthz").status_code == 200


def test_given_certificate_files_are_served(tmp_path, srv):
    # Reuse the shared server's generated pair as "the operator's own" certificate.
    cert, key = srv.cert_path, str(Path(srv.cert_path).with_name("key.pem"))
    with running_server(tmp_path, tls=None, extra_args=("--certfile", cert, "--keyfile", key),
                        env={"SIMIO_APPROVAL": "manual"}) as server:
        assert server.cert_path == cert
        assert server.banner_value("tls") is None               # not generated by us
        assert server.banner_value("tls ca") is None and server.banner_value("trust") is None
        assert server.get("/healthz").status_code == 200
        assert not (server.data_dir / "tls").exists()


def test_sigterm_stops_the_server_within_seconds(tmp_path):
    server = ServerProcess(tmp_path)
    server.start()
    try:
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=10)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert code == 0, server.output()
    assert elapsed < 5, elapsed
    lines = server.stdout_lines()
    assert "simio-local stopping (SIGTERM)" in lines
    assert lines[-1] == "simio-local stopped"
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url("/healthz"), verify=server.verify, timeout=2)
