"""The contract's quickstarts, extracted verbatim from the contract file (never copied)."""

from __future__ import annotations

import json
import re

from tests.contract_file import CONTRACT  # the shared or packaged copy


def description() -> str:
    return json.loads(CONTRACT.read_text(encoding="utf-8"))["info"]["description"]


def quickstart(anchor: str, fence: str) -> str:
    """The first ```fence block after ``<a id="anchor">`` in the contract's description."""
    text = description()
    start = text.index(f'<a id="{anchor}"></a>')
    match = re.compile(r"```" + fence + r"\n(.*?)```", re.S).search(text, start)
    return match.group(1)
