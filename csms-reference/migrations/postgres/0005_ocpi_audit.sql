-- OCPI operations: the audit log of every OCPI request and response, both directions
-- (partners calling us: in; us calling partners: out), with request and correlation ids and
-- no token or body. Pruned by age and row count (see ocpi_cpo::ops).
CREATE TABLE ocpi_audit (
    id BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    direction TEXT NOT NULL,
    partner_id BIGINT,
    party TEXT,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    module TEXT,
    http_status BIGINT,
    ocpi_status BIGINT,
    request_id TEXT,
    correlation_id TEXT,
    duration_ms BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX ocpi_audit_at ON ocpi_audit (at);
CREATE INDEX ocpi_audit_partner ON ocpi_audit (partner_id, id);
