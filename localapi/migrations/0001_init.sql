-- simio-local store, version 1. Migrations are additive and applied in order.
CREATE TABLE tenants (
    tenant_id      TEXT PRIMARY KEY,
    company_name   TEXT NOT NULL,
    row_quota      INTEGER NOT NULL,
    rows_reserved  INTEGER NOT NULL DEFAULT 0,
    rows_used      INTEGER NOT NULL DEFAULT 0,
    created_at     REAL NOT NULL
);

CREATE TABLE signups (
    request_id     TEXT PRIMARY KEY,
    company_name   TEXT NOT NULL,
    contact_email  TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    tenant_id      TEXT REFERENCES tenants(tenant_id),
    client_id      TEXT,
    created_at     REAL NOT NULL,
    decided_at     REAL
);
CREATE INDEX signups_email ON signups(contact_email);

-- One row per client; the secret is stored only as a salted scrypt hash.
CREATE TABLE credentials (
    client_id      TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(tenant_id),
    secret_hash    TEXT,
    secret_version INTEGER NOT NULL DEFAULT 0,
    created_at     REAL NOT NULL,
    rotated_at     REAL
);

-- One-time claim tokens, stored as SHA-256 of the token. The pending secret is stored
-- hashed too: the clear secret is derived at claim time and shown once.
CREATE TABLE claims (
    token_hash     TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES credentials(client_id),
    purpose        TEXT NOT NULL,
    source_id      TEXT,
    created_at     REAL NOT NULL,
    expires_at     REAL NOT NULL,
    claimed_at     REAL
);

CREATE TABLE datasets (
    dataset_id       TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(tenant_id),
    display_name     TEXT,
    status           TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'failed', 'deleted')),
    auto_clean       INTEGER NOT NULL,
    seed_name        TEXT,
    seed_sha256      TEXT,
    cleaning_summary TEXT,
    schema_json      TEXT,
    trained_at       REAL,
    duration_ms      INTEGER,
    created_at       REAL NOT NULL,
    expires_at       REAL NOT NULL,
    last_used_at     REAL NOT NULL,
    seq              INTEGER NOT NULL
);
CREATE INDEX datasets_tenant ON datasets(tenant_id, seq);

CREATE TABLE generations (
    generation_id    TEXT PRIMARY KEY,
    dataset_id       TEXT NOT NULL REFERENCES datasets(dataset_id),
    tenant_id        TEXT NOT NULL REFERENCES tenants(tenant_id),
    status           TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'partial', 'failed')),
    output_format    TEXT NOT NULL,
    rows_requested   INTEGER NOT NULL,
    rows_generated   INTEGER,
    seed             INTEGER NOT NULL,
    request_json     TEXT NOT NULL,
    artifact_path    TEXT,
    created_at       REAL NOT NULL,
    expires_at       REAL NOT NULL,
    seq              INTEGER NOT NULL
);
CREATE INDEX generations_dataset ON generations(dataset_id, seq);

CREATE TABLE jobs (
    job_id         TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(tenant_id),
    job_type       TEXT NOT NULL CHECK (job_type IN ('dataset_create', 'generation_create')),
    status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed',
                                                   'cancelled', 'expired')),
    stage          TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    dataset_id     TEXT,
    generation_id  TEXT,
    error_code     TEXT,
    error_message  TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    created_at     REAL NOT NULL,
    started_at     REAL,
    completed_at   REAL,
    expires_at     REAL NOT NULL
);
CREATE INDEX jobs_status ON jobs(status);

CREATE TABLE idempotency (
    tenant_id      TEXT NOT NULL,
    key            TEXT NOT NULL,
    route          TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
    status         INTEGER,
    body           TEXT,
    created_at     REAL NOT NULL,
    PRIMARY KEY (tenant_id, route, key)
);

CREATE TABLE audit (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    at             REAL NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    subject        TEXT,
    request_id     TEXT,
    detail         TEXT
);
