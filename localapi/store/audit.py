"""The audit trail: who did what to which record. Never given a secret or a token.

``detail`` is a small JSON object of non-secret facts (ids, names, quotas). Callers pass the
HTTP request id when the action came through the API, so an entry can be matched to the
response the client saw.
"""

from __future__ import annotations

import json

OPERATOR = "operator"
AUTO_APPROVAL = "system:auto-approval"


def record(db, *, at: float, actor: str, action: str, subject: str | None = None,
           request_id: str | None = None, detail: dict | None = None) -> None:
    db.execute("INSERT INTO audit (at, actor, action, subject, request_id, detail) "
               "VALUES (?, ?, ?, ?, ?, ?)",
               (at, actor, action, subject, request_id,
                json.dumps(detail, sort_keys=True) if detail else None))


def recent(db, limit: int = 50) -> list[dict]:
    """The newest ``limit`` entries, newest first, with ``detail`` decoded."""
    rows = db.execute("SELECT seq, at, actor, action, subject, request_id, detail FROM audit "
                      "ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
    return [{**dict(row), "detail": json.loads(row["detail"]) if row["detail"] else {}}
            for row in rows]
