"""A server killed (SIGKILL) mid-job and restarted finishes the job; nothing partial shows."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import requests

from tests.e2e.server import running_server

DATA = Path(__file__).resolve().parents[2] / "data"
SCENARIO = {"categorical": {"segment": {"Premium": 0.55, "Mainstream": 0.35, "Value": 0.10}},
            "numeric": {"age": {"min": 25, "max": 44}}}


def bearer(server) -> dict:
    base = server.base_url
    signup = requests.post(f"{base}/v1/signup", timeout=30,
                           json={"company_name": "Kill Test", "contact_email": "k@test.example"})
    status = requests.get(f"{base}/v1/signup/{signup.json()['request_id']}", timeout=30).json()
    claim = requests.post(f"{base}/v1/credential-claims", timeout=30,
                          json={"claim_token": status["credential_claim_token"]}).json()
    token = requests.post(f"{base}/oauth/token", timeout=30, json={
        "client_id": claim["client_id"], "client_secret": claim["client_secret"],
        "audience": "https://api.simulacra-data.com", "grant_type": "client_credentials"})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def poll(server, auth, job_id, until, deadline=120):
    end = time.time() + deadline
    while time.time() < end:
        job = requests.get(f"{server.base_url}/v1/jobs/{job_id}", headers=auth, timeout=30).json()
        if job["status"] in until:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never reached {until}: {job}")


def test_generation_survives_sigkill(tmp_path):
    with running_server(tmp_path, tls=False) as server:
        auth = bearer(server)
        with open(DATA / "quickstart_seed.csv", "rb") as fh:
            upload = requests.post(f"{server.base_url}/v1/datasets", headers=auth, timeout=60,
                                   files={"seed_file": ("seed.csv", fh, "text/csv")},
                                   data={"wait_seconds": "30"}).json()
        dataset_id = upload["dataset_id"]
        accepted = requests.post(
            f"{server.base_url}/v1/datasets/{dataset_id}/generations", headers=auth, timeout=60,
            json={"row_count": 1_000_000, "output_format": "parquet", "seed": 3,
                  "conditions": SCENARIO})
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["job_id"]
        generation_id = accepted.json()["generation_id"]
        poll(server, auth, job_id, {"running", "completed"})
        server.kill()

        folder = Path(server.data_dir) / "generations" / generation_id
        final = folder / "synthetic.parquet"
        # Whatever the kill interrupted, no file at the final name is ever partial.
        if final.exists():
            assert len(pd.read_parquet(final)) == 1_000_000

        server.restart(same_port=False)
        auth = {"Authorization": auth["Authorization"]}   # tokens outlive a restart
        job = poll(server, auth, job_id, {"completed", "failed"})
        assert job["status"] == "completed", job
        meta = requests.get(f"{server.base_url}/v1/generations/{generation_id}",
                            headers=auth, timeout=30).json()
        assert meta["status"] == "ready" and meta["rows_generated"] == 1_000_000
        artifact = requests.get(server.base_url + meta["artifact_url"], headers=auth, timeout=120)
        assert artifact.status_code == 200
        frame = pd.read_parquet(__import__("io").BytesIO(artifact.content))
        assert len(frame) == 1_000_000
        assert (frame["segment"].astype(str) == "Premium").sum() == 550_000
        assert sorted(p.name for p in folder.iterdir()) == ["synthetic.parquet"]
