"""The store: one SQLite file (WAL) in the data directory. All connections come from here.

``get_db()`` returns the request's connection (cached on ``g``, closed on teardown);
background jobs call ``connect(app)``. Migrations in ``localapi/migrations`` are applied in
order and recorded in ``schema_version``; they are additive only. Writes go through
``transaction(db)`` which takes SQLite's write lock up front (``BEGIN IMMEDIATE``) so two
writers queue instead of deadlocking on a lock upgrade.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from flask import current_app, g

DB_NAME = "simio.sqlite3"
BUSY_TIMEOUT_MS = 30_000


def db_path(app) -> Path:
    return Path(app.config["SIMIO"].data_dir) / DB_NAME


def connect(app_or_path) -> sqlite3.Connection:
    path = app_or_path if isinstance(app_or_path, (str, Path)) else db_path(app_or_path)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def get_db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = connect(current_app)
    return g.db


def close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


@contextmanager
def transaction(db: sqlite3.Connection):
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def migrations() -> list[tuple[int, str]]:
    folder = resources.files("localapi") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations; returns the schema version now in place."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                 "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
    for version, sql in migrations():
        if version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?, datetime('now'))", (version,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        current = version
    return current


def _statements(sql: str):
    buffer = []
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        buffer.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(buffer).strip()
            if statement:
                yield statement
            buffer = []


def init_app(app) -> None:
    secure_data_dir(app.config["SIMIO"].data_dir)
    conn = connect(app)
    try:
        migrate(conn)
    finally:
        conn.close()
    _private(db_path(app), 0o600)      # SQLite gives -wal and -shm the database's mode
    app.teardown_appcontext(close_db)


def secure_data_dir(data_dir) -> Path:
    """The data dir, created if needed, owner-only (0700): it holds secret hashes, emails,
    the audit log, seeds and artifacts."""
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _private(path, 0o700)
    return path


def _private(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:    # not ours to change (a shared mount): the OS default applies
        pass
