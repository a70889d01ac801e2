"""The Flask app routes every operation of the contract, and documents every route it has.

OpenAPI ``{param}`` is Flask ``<param>`` (any converter): the parameter names must match too.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from localapi import create_app
from localapi.openapi import SEED_PATH, operations

from tests.contract_file import CONTRACT

# Contract operations the app does not route yet, as (OpenAPI path, METHOD). Each entry is
# work still to do; the test below fails when one lands, so the list only ever shrinks.
# (Empty: list/delete/extend datasets, list generations and the credential-rotation
# routes have all landed.)
NOT_YET_ROUTED: set[tuple[str, str]] = set()

# Routes that are files, not API operations: not documented in the contract.
ASSET_RULES = {"/static/<filename>", "/assets/compliance/<name>"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def seed() -> dict:
    return json.loads(CONTRACT.read_text(encoding="utf-8"))


def flask_path(openapi_path: str) -> str:
    return re.sub(r"\{([^}/]+)\}", r"<\1>", openapi_path)


def plain_rule(rule: str) -> str:
    """``/v1/x/<string:id>`` -> ``/v1/x/<id>``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"<\1>", rule)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("SIMIO_")}
    app = create_app({"data_dir": str(tmp_path_factory.mktemp("routes")), "approval": "auto"})
    yield app
    app.extensions["simio_jobs"].shutdown(False)
    os.environ.update(saved)


@pytest.fixture(scope="module")
def routed(app):
    return {(plain_rule(rule.rule), method) for rule in app.url_map.iter_rules()
            for method in rule.methods - IGNORED_METHODS}


@pytest.fixture(scope="module")
def ours(app):
    return app.test_client().get("/openapi.json").get_json()


SEED_OPERATIONS = [(p, m) for p, m, _ in operations(seed())]


@pytest.mark.parametrize("path,method", SEED_OPERATIONS)
def test_seed_operation_is_routed(routed, path, method):
    if (path, method) in NOT_YET_ROUTED:
        assert (flask_path(path), method) not in routed, \
            f"{method} {path} is routed now: remove it from NOT_YET_ROUTED"
        pytest.skip(f"{method} {path}: not implemented yet (NOT_YET_ROUTED)")
    assert (flask_path(path), method) in routed, f"{method} {path} is not routed"


def test_allow_list_names_only_contract_operations():
    assert NOT_YET_ROUTED <= set(SEED_OPERATIONS)


def test_every_operation_we_document_is_routed(routed, ours):
    missing = [(p, m) for p, m, _ in operations(ours)
               if (flask_path(p), m) not in routed and (p, m) not in NOT_YET_ROUTED]
    assert not missing


def test_every_route_is_documented(routed, ours):
    """A new route must be added to the contract we serve (localapi/openapi.py)."""
    documented = {(flask_path(p), m) for p, m, _ in operations(ours)}
    undocumented = sorted((r, m) for r, m in routed
                          if r not in ASSET_RULES and (r, m) not in documented)
    assert not undocumented, "document these in localapi/openapi.py: " + repr(undocumented)


def test_docs_paths_are_served_exactly(app):
    """/docs and /__docs__/ as the contract spells them (the trailing slash matters)."""
    client = app.test_client()
    assert client.get("/docs").status_code == 200
    assert client.get("/__docs__/").status_code == 200
    assert client.get("/").status_code == 200
