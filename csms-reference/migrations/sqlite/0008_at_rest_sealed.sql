-- Encryption at rest (csms_reference::at_rest): how far each append-only table with encrypted
-- values (message_log, transaction_events) is known to be encrypted. A start looks for
-- plaintext only in the rows after it, instead of reading the whole table every time.
CREATE TABLE at_rest_sealed (
    table_name TEXT PRIMARY KEY,
    max_id BIGINT NOT NULL
);
