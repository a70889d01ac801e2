-- Access flow (signup -> approval -> claim). Additive only.
-- claim_id: a random, non-secret id per claim row. The claim token is never stored; it is
-- re-derived as "cred_" + HMAC-SHA256(signing key, "claim:" + claim_id)[:32], and only its
-- SHA-256 (token_hash) is stored, for lookup.
ALTER TABLE claims ADD COLUMN claim_id TEXT;
CREATE UNIQUE INDEX claims_claim_id ON claims(claim_id);
CREATE INDEX claims_client ON claims(client_id, purpose, created_at);
CREATE INDEX signups_client ON signups(client_id);
