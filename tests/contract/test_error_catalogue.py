"""The error catalogue is the one registry of codes: hold it to the contract."""

import json
import re

import pytest

from engine.errors import CATALOGUE, SimioError
from tests.contract_file import CONTRACT


def contract_text() -> str:
    return CONTRACT.read_text(encoding="utf-8")


def test_every_contract_code_is_in_the_catalogue():
    codes = set(re.findall(r"simio_[a-z_]+", contract_text()))
    assert codes, "the contract names error codes"
    assert codes <= set(CATALOGUE), sorted(codes - set(CATALOGUE))


def test_contract_statuses_match_the_catalogue():
    """Where the contract shows a problem example with a code, its status is ours."""
    spec = json.loads(contract_text())
    seen = 0
    for path in spec["paths"].values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                for media in response.get("content", {}).values():
                    example = media.get("example") or {}
                    if isinstance(example, dict) and "code" in example:
                        assert CATALOGUE[example["code"]].status == int(status), example
                        seen += 1
    assert seen > 0


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_entry_is_complete(code):
    spec = CATALOGUE[code]
    assert re.fullmatch(r"simio_[a-z_]+", code)
    assert 400 <= spec.status < 600
    assert spec.title and spec.cause.endswith(".") and spec.fix.endswith(".")


def test_simio_error_is_a_value_error_with_its_spec():
    error = SimioError("simio_invalid_field", "row_count must be positive")
    assert isinstance(error, ValueError)
    assert error.status == 400 and error.detail == "row_count must be positive"


def test_unknown_codes_are_refused():
    with pytest.raises(KeyError):
        SimioError("simio_not_a_code", "x")
