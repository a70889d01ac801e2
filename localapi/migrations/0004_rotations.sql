-- Credential rotation. Additive only.
-- One row per rotation: a self-service rotation (POST /v1/credential-rotations, created
-- completed) or a support request (POST /v1/credential-rotation-requests or the operator,
-- pending until `simio admin rotations complete`). claim_id names the one-time claim
-- (claims.claim_id, purpose 'rotation', source_id = rotation_request_id) once completed;
-- the claim token itself is never stored (see 0002_access.sql).
-- idempotency_key: the client's Idempotency-Key for a self-service rotation; a replay
-- re-derives the same token from claim_id instead of storing the response.
CREATE TABLE rotations (
    rotation_request_id TEXT PRIMARY KEY,
    client_id           TEXT NOT NULL REFERENCES credentials(client_id),
    tenant_id           TEXT NOT NULL REFERENCES tenants(tenant_id),
    kind                TEXT NOT NULL CHECK (kind IN ('self_service', 'support')),
    status              TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
    reason              TEXT,
    requested_by        TEXT NOT NULL,
    idempotency_key     TEXT,
    claim_id            TEXT,
    created_at          REAL NOT NULL,
    completed_at        REAL
);
CREATE INDEX rotations_client ON rotations(client_id, kind, created_at);
CREATE INDEX rotations_status ON rotations(status, created_at);
CREATE UNIQUE INDEX rotations_idempotency ON rotations(client_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
