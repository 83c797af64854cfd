-- OCPI CPO bridge: registered partners (token hashes only, and the TOKEN_B we must send),
-- the OCPI objects served or received (JSON, in insertion order), and the per-partner
-- outbox of pushes, delivered in order and kept across restarts.
CREATE TABLE ocpi_partners (
    id BIGINT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    registration TEXT,
    name TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE ocpi_objects (
    module TEXT NOT NULL,
    role TEXT NOT NULL,
    ids TEXT NOT NULL,
    seq BIGINT NOT NULL,
    object TEXT NOT NULL,
    PRIMARY KEY (module, role, ids)
);

CREATE TABLE ocpi_outbox (
    id BIGSERIAL PRIMARY KEY,
    partner_id BIGINT NOT NULL,
    method TEXT NOT NULL,
    module TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at TEXT,
    result TEXT
);
CREATE INDEX ocpi_outbox_pending ON ocpi_outbox (partner_id, delivered_at, id);
