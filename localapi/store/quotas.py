"""Row quota: reserved at request time, committed with rows_generated, released on failure."""

from __future__ import annotations

from engine.errors import SimioError


def reserve(db, tenant_id: str, rows: int) -> None:
    """Reserve ``rows`` inside the caller's transaction, or raise 402."""
    row = db.execute("SELECT row_quota, rows_reserved, rows_used FROM tenants "
                     "WHERE tenant_id = ?", (tenant_id,)).fetchone()
    if row is None:
        raise SimioError("simio_quota_exhausted", "This tenant has no row quota.")
    left = row["row_quota"] - row["rows_used"] - row["rows_reserved"]
    if rows > left:
        raise SimioError("simio_quota_exhausted",
                         f"Tenant row quota exhausted: {max(left, 0)} rows left, {rows} "
                         f"requested.")
    db.execute("UPDATE tenants SET rows_reserved = rows_reserved + ? WHERE tenant_id = ?",
               (rows, tenant_id))


def commit(db, tenant_id: str, reserved: int, generated: int) -> None:
    db.execute("UPDATE tenants SET rows_reserved = MAX(rows_reserved - ?, 0), "
               "rows_used = rows_used + ? WHERE tenant_id = ?", (reserved, generated, tenant_id))


def release(db, tenant_id: str, reserved: int) -> None:
    commit(db, tenant_id, reserved, 0)
