"""Issue 10 over a real socket: ``simio serve`` as a subprocess on loopback.

What the in-process tests (tests/localapi/test_hardening.py) cannot show: that long-polls
no longer hold every cheroot request thread (``/healthz`` waited 44 s behind 16 of them),
that a hostile seed does not hold the request that uploads it, and that the files the
server process itself creates are private. Every wait here is bounded.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.http_client import HttpClient
from tests.e2e.server import running_server
from tests.engine.io.attacks import REPEATED_NAMES_64K
from tests.localapi.conftest import claim, mint, signup
from tests.localapi.fixtures import DATA, upload, wait_job

pytestmark = pytest.mark.slow
LONG_POLLS = 16


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    env = {"SIMIO_WORKERS": "1"}          # one job at a time: the long-polls really wait
    with running_server(tmp_path_factory.mktemp("hardening"), tls=False, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def tenant(srv):
    client = HttpClient(srv.base_url)
    request_id = signup(client, "Load", "load@acme.example").get_json()["request_id"]
    credential = claim(client, request_id)
    headers = {"Authorization": f"Bearer {mint(client, credential['client_id'], credential['client_secret'])}"}
    dataset = upload(client, headers, DATA / "quickstart_seed.csv").get_json()["dataset_id"]
    return client, headers, dataset


def test_healthz_answers_while_16_long_polls_wait(srv, tenant):
    client, headers, dataset = tenant
    url = f"{srv.base_url}/v1/datasets/{dataset}/generations"

    def long_poll(i):
        started = time.monotonic()
        response = requests.post(url, headers=headers, timeout=90, json={
            "row_count": 1_000_000, "output_format": "parquet", "seed": i, "wait_seconds": 60})
        return response.status_code, time.monotonic() - started

    with ThreadPoolExecutor(LONG_POLLS) as pool:
        polls = [pool.submit(long_poll, i) for i in range(LONG_POLLS)]
        time.sleep(1.0)                                   # every poll is in by now
        latencies = []
        for _ in range(5):
            started = time.monotonic()
            assert requests.get(srv.url("/healthz"), timeout=30).status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.2)
        results = [p.result(timeout=120) for p in polls]
    # Generous bound for a loaded CI machine (the 100 ms target is benchmarks/bench_load.py);
    # before the waiter cap this was 44 s.
    assert max(latencies) < 5.0, latencies
    # At most the cap (8) may wait for long; the others answered 202 at once (or their
    # job was already done).
    assert {s for s, _ in results} <= {200, 202}, results
    waited = [took for _, took in results if took > 5.0]
    assert len(waited) <= 8, results


def test_a_hostile_seed_does_not_hold_its_request(srv, tenant):
    client, headers, _ = tenant
    started = time.monotonic()
    response = upload(client, headers, REPEATED_NAMES_64K, "names.csv", wait=0)
    took = time.monotonic() - started
    assert response.status_code == 202, response.get_json()
    assert took < 1.0, f"the upload request took {took:.2f}s (was 12.7 s)"
    job = wait_job(client, headers, response.get_json()["job_id"], timeout=60)
    assert job["status"] == "failed" and job["error"]["code"] == "simio_too_many_columns"


def test_the_host_header_is_not_echoed_over_the_socket(srv):
    response = requests.get(srv.url("/v1/signup/req_nope"), headers={"Host": "evil.example"},
                            timeout=30)
    assert response.json()["type"] == f"{srv.base_url}/errors/simio_signup_not_found"
    doc = requests.get(srv.url("/openapi.json"), headers={"Host": "evil.example"}, timeout=30)
    assert "evil.example" not in doc.text and doc.json()["servers"][0]["url"] == srv.base_url


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_everything_the_server_writes_is_private(srv, tenant):
    root = srv.data_dir
    assert root.stat().st_mode & 0o777 == 0o700
    loose = [str(p) for p in root.rglob("*")
             if p.stat().st_mode & (0o077 if p.is_file() else 0o077)]
    assert loose == [], loose
