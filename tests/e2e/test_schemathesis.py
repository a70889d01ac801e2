"""Property-based fuzzing of our own /openapi.json with schemathesis (issue 10).

Every operation of the served document gets ``MAX_EXAMPLES`` generated requests (bodies,
query and path parameters within and just outside the schema) against the real app over
WSGI on a real SQLite store, in ``--dev`` mode so protected routes are reached without a
token; the dev tenant owns one trained dataset and one generation, and generated path
ids are sometimes swapped for those real ids so handlers past the 404 are fuzzed too.
The only check is the one that must hold for any input: no 5xx.

Bounded: ``MAX_EXAMPLES`` x ~20 operations, no shrinking deadline; a few minutes at most
on CI. Skipped when schemathesis (the ``test`` extra) is not installed.
"""

from __future__ import annotations

import os
import zlib

import pytest
from hypothesis import HealthCheck, Phase, settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402

from tests.localapi.fixtures import DATA, fresh_app, generate, stop, upload  # noqa: E402

pytestmark = pytest.mark.slow
# Per operation; raise it for a long local run, e.g. FUZZ_MAX_EXAMPLES=2000.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
REAL_IDS: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    app = fresh_app(tmp_path_factory.mktemp("fuzz"), dev=True, sweep_interval=0,
                    token_per_ip=10_000, token_global=10_000, signup_per_ip=10_000,
                    signup_global=10_000)
    client = app.test_client()
    REAL_IDS["dataset_id"] = upload(client, {}, DATA / "quickstart_seed.csv").get_json()[
        "dataset_id"]
    REAL_IDS["generation_id"] = generate(client, {}, REAL_IDS["dataset_id"]).get_json()[
        "generation_id"]
    loaded = schemathesis.openapi.from_wsgi("/openapi.json", app)
    loaded.hook(map_path_parameters)
    yield loaded
    stop(app)


schema = schemathesis.pytest.from_fixture("api_schema")


def map_path_parameters(context, path_parameters):
    """Half the time, a real id: the handler then gets past its lookup."""
    for name, real in REAL_IDS.items():
        if path_parameters and name in path_parameters and \
                zlib.crc32(str(path_parameters[name]).encode()) % 2 == 0:
            path_parameters[name] = real
    return path_parameters


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_input_makes_a_server_error(case):
    case.call_and_validate(checks=[not_a_server_error])
