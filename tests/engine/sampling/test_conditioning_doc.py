"""docs/conditioning.md's worked examples, run as a doctest: the numbers the page states
are the code's."""

import doctest
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_conditioning_doc_examples(monkeypatch):
    monkeypatch.chdir(REPO)                  # the examples read data/quickstart_seed.csv
    result = doctest.testfile(str(REPO / "docs" / "conditioning.md"), module_relative=False,
                              optionflags=doctest.ELLIPSIS, verbose=False,
                              raise_on_error=False)
    assert result.attempted >= 20, result
    assert result.failed == 0, result
    assert os.getcwd() == str(REPO)
