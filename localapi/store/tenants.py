"""SQL for tenants: the unit that owns datasets, generations and a lifetime row quota."""

from __future__ import annotations


def insert(db, *, tenant_id: str, company_name: str, row_quota: int, now: float) -> None:
    db.execute("INSERT INTO tenants (tenant_id, company_name, row_quota, created_at) "
               "VALUES (?, ?, ?, ?)", (tenant_id, company_name, row_quota, now))


def get(db, tenant_id: str):
    return db.execute("SELECT * FROM tenants WHERE tenant_id = ?", (tenant_id,)).fetchone()


def set_quota(db, tenant_id: str, rows: int) -> bool:
    """Set the lifetime row quota; False when there is no such tenant."""
    cur = db.execute("UPDATE tenants SET row_quota = ? WHERE tenant_id = ?", (rows, tenant_id))
    return cur.rowcount == 1


def all_tenants(db) -> list:
    return db.execute("SELECT * FROM tenants ORDER BY created_at, tenant_id").fetchall()
