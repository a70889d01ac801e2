"""A training job's `stage` follows the fit's stages (engine.progress.FIT_STAGES), in
order, on the real app with a real multipart upload and a real SQLite store."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from engine.progress import FIT_STAGES
from tests.localapi.fixtures import upload, wait_job, world  # noqa: F401  (fixture)

ALLOWED = {"queued", "starting", "reading", "saving", "completed",
           *(f"training:{stage}" for stage in FIT_STAGES)}


def wide_seed(n=20_000, d=40, seed=3) -> bytes:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 3))
    cols = {}
    for j in range(d):
        s = base @ rng.normal(size=3) + rng.normal(size=n)
        cols[f"c{j}"] = (np.array(list("abcdefgh"))[np.digitize(s, np.linspace(-2, 2, 7))]
                         if j % 2 else np.round(np.exp(s), 2))
    return pd.DataFrame(cols).to_csv(index=False).encode()


def test_training_job_stages_follow_the_fit(world):
    c, h = world.client, world.a.headers
    accepted = upload(c, h, wide_seed(), "wide.csv", wait=0).get_json()
    seen = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = c.get(f"/v1/jobs/{accepted['job_id']}", headers=h).get_json()
        if not seen or seen[-1] != job["stage"]:
            seen.append(job["stage"])
        if job["status"] not in ("queued", "running"):
            break
        time.sleep(0.01)
    assert wait_job(c, h, accepted["job_id"])["status"] == "completed"
    assert set(seen) <= ALLOWED, seen
    training = [s.split(":", 1)[1] for s in seen if s.startswith("training:")]
    assert training, f"no training stage observed: {seen}"
    order = [FIT_STAGES.index(s) for s in training]
    assert order == sorted(order), seen
