"""Acceptance: the contract's quickstarts, verbatim, against the real server over HTTPS.

Only environment variables change. Credentials come from the request-access flow over
HTTP (signup -> poll -> claim), the same calls a new customer makes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import requests

from tests.e2e.contract_code import quickstart
from tests.e2e.server import running_server

DATA = Path(__file__).resolve().parents[2] / "data"


def credentials(server) -> dict:
    """signup -> poll until approved -> claim, over HTTPS (auto approval on loopback)."""
    verify = str(server.verify)
    signup = requests.post(f"{server.base_url}/v1/signup", timeout=30, verify=verify,
                           json={"company_name": "Acme Research",
                                 "contact_email": "data-science@acme.example"})
    assert signup.status_code == 202, signup.text
    status = requests.get(f"{server.base_url}/v1/signup/{signup.json()['request_id']}",
                          timeout=30, verify=verify).json()
    assert status["status"] == "approved", status
    claim = requests.post(f"{server.base_url}/v1/credential-claims", timeout=30, verify=verify,
                          json={"claim_token": status["credential_claim_token"]}).json()
    return {"SIMIO_CLIENT_ID": claim["client_id"], "SIMIO_CLIENT_SECRET": claim["client_secret"]}


def client_env(server, creds) -> dict:
    host = server.base_url.split("://", 1)[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMIO_")}
    env.update(creds)
    env.update({"SIMIO_API_BASE": server.base_url, "SIMIO_AUTH0_DOMAIN": host,
                "SIMIO_AUTH0_AUDIENCE": "https://api.simulacra-data.com",
                "REQUESTS_CA_BUNDLE": str(server.verify),
                "CURL_CA_BUNDLE": str(server.verify)})
    return env


def assert_contract_scenario(frame: pd.DataFrame, rows: int = 5000) -> None:
    assert len(frame) == rows
    segment = frame["segment"].astype(str).value_counts().to_dict()
    channel = frame["channel"].astype(str).value_counts().to_dict()
    assert segment == {"Premium": 2750, "Mainstream": 1750, "Value": 500}
    assert channel == {"Online": 3500, "Retail": 1000, "Club": 500}
    assert frame["age"].between(25, 44).all()
    assert frame["purchase_intent"].between(70, 100).all()


def test_python_quickstart_verbatim(tmp_path):
    code = quickstart("quickstart-python", "python")
    script = tmp_path / "client" / "quickstart.py"
    script.parent.mkdir()
    script.write_text(code, encoding="utf-8")
    with running_server(tmp_path / "server", tls=True) as server:
        env = client_env(server, credentials(server))
        proc = subprocess.run([sys.executable, str(script)], cwd=script.parent, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5000 rows" in proc.stdout
    assert_contract_scenario(pd.read_parquet(script.parent / "synthetic.parquet"))


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq") and shutil.which("bash")),
                    reason="the shell quickstart needs curl, jq and bash")
def test_spss_shell_quickstart_verbatim(tmp_path):
    code = quickstart("quickstart-spss", "sh")
    workdir = tmp_path / "client"
    workdir.mkdir()
    (workdir / "quickstart.sh").write_text(code, encoding="utf-8")
    shutil.copy(DATA / "quickstart_seed.sav", workdir / "survey.sav")
    with running_server(tmp_path / "server", tls=True) as server:
        env = client_env(server, credentials(server))
        proc = subprocess.run(["bash", "quickstart.sh"], cwd=workdir, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    frame = pd.read_csv(workdir / "synthetic.csv")
    assert_contract_scenario(frame)
