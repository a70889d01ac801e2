"""The arrows of docs/architecture.md, checked on the source: every import statement in
engine/ and localapi/ (module level or inside a function) against the rule table below.
A module that imports across a forbidden arrow fails here with the file, line and rule."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACADE = ("engine.api", "engine.errors")      # all of the engine a front end may see
STORE_MAY_USE = ("localapi.store", "localapi.ids", "localapi.digests", "engine.errors")

# (what the rule is about, refuses(importing module, imported module) -> bool)
RULES = [
    ("the engine never imports the server, the web stack, benchmarks or tests",
     lambda m, i: _under(m, "engine")
     and _under(i, "localapi", "flask", "werkzeug", "jwt", "benchmarks", "tests")),
    ("only the front ends import the facade or the CLI",
     lambda m, i: _under(m, "engine") and not _under(m, "engine.api", "engine.cli")
     and _under(i, "engine.api", "engine.cli")),
    ("the engine's CLI uses the engine through its facade only",
     lambda m, i: m == "engine.cli" and _reaches_past_facade(i)),
    ("the server uses the engine through its facade only (its CLI may mount engine.cli)",
     lambda m, i: _under(m, "localapi") and _reaches_past_facade(i)
     and not (m in ("localapi.cli", "localapi.cli_admin") and _under(i, "engine.cli"))),
    ("the store imports neither Flask nor the rest of the server",
     lambda m, i: _under(m, "localapi.store")
     and _under(i, "flask", "werkzeug", "jwt", "localapi", "engine")
     and not _under(i, *STORE_MAY_USE)),
    ("token digests are pure: standard library only",
     lambda m, i: m == "localapi.digests" and _under(i, "localapi", "engine", "flask", "jwt")),
]


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _reaches_past_facade(target: str) -> bool:
    # ``from engine import api`` yields the bare package name too: that is no reach.
    return _under(target, "engine") and target != "engine" and not _under(target, *FACADE)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str, is_package: bool = False):
    """(line, imported module) for every import in ``source``; relative ones resolved, and
    ``from pkg import name`` also yields ``pkg.name`` (it may be a module)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            yield node.lineno, target
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    return [f"{module}:{line} imports {target}: {why}"
            for line, target in imports(source, module, is_package)
            for why, refuses in RULES if refuses(module, target)]


SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT(\s+OR\s+\w+)?\s+INTO|UPDATE\s+\w+\s+SET|"
                 r"DELETE\s+FROM|CREATE\s+(TABLE|INDEX))\b")
SQL_HOMES = ("localapi.store", "localapi.db")     # db.py opens the file and migrates it


def sql_outside_the_store(source: str, module: str) -> list[str]:
    """``.execute*(...)`` calls and SQL string literals in a module outside the store."""
    if _under(module, *SQL_HOMES):
        return []
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("execute", "executemany", "executescript")):
            found.append(f"{module}:{node.lineno} calls .{node.func.attr}(): SQL belongs in "
                         "localapi/store/")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and SQL.search(node.value):
            found.append(f"{module}:{node.lineno} holds SQL {node.value[:30]!r}: SQL belongs "
                         "in localapi/store/")
    return found


def sources():
    for top in ("engine", "localapi"):
        for path in sorted((ROOT / top).rglob("*.py")):
            yield path


@pytest.mark.parametrize("path", list(sources()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_across_a_forbidden_arrow(path):
    found = violations(path.read_text(encoding="utf-8"), module_name(path),
                       path.name == "__init__.py")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", list(sources()), ids=lambda p: str(p.relative_to(ROOT)))
def test_sql_lives_only_in_the_store(path):
    found = sql_outside_the_store(path.read_text(encoding="utf-8"), module_name(path))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("source", [
    'db.execute("SELECT 1")',
    'def f(conn):\n    conn.executemany(q, rows)\n',
    'QUERY = "UPDATE jobs SET status = ? WHERE job_id = ?"',
])
def test_the_sql_check_sees_sql(source):
    assert sql_outside_the_store(source, "localapi.jobs")
    assert sql_outside_the_store(source, "localapi.store.records") == []


@pytest.mark.parametrize("module, source", [
    ("localapi.api.generations", "from engine.sampling.conditions import parse_conditions"),
    ("localapi.pipelines", "def f():\n    from engine.io import read_table\n"),
    ("localapi.store.access", "from localapi.auth import token_digest"),
    ("localapi.store.records", "from flask import g"),
    ("engine.cli", "from engine.synthesizer import Synthesizer"),
    ("engine.model.network", "from localapi.store import records"),
    ("engine.sampling.forward", "from engine import api"),
    ("localapi.digests", "from localapi.db import connect"),
])
def test_the_checker_sees_each_forbidden_arrow(module, source):
    assert violations(source, module)


@pytest.mark.parametrize("module, source", [
    ("localapi.api.generations", "from engine import api as engine"),
    ("localapi.auth", "from engine.api import write_text"),
    ("localapi.cli", "from engine.cli import main"),
    ("localapi.store.access", "from localapi.digests import token_digest"),
    ("engine.cli", "from engine.api import FORMATS"),
])
def test_the_checker_lets_the_allowed_arrows_through(module, source):
    assert violations(source, module) == []


def test_the_facade_names_only_engine_modules():
    """engine.api loads most names lazily, by module path: those paths obey the rules too."""
    from engine import api

    assert all(_under(target, "engine") and not _under(target, "engine.cli")
               for target in api._LAZY.values())
    for name in api.__all__:
        assert getattr(api, name) is not None
