-- Encryption at rest (csms_reference::at_rest): a value encrypted with the data key at the
-- first encrypted start, so that a start with another key is refused instead of reading
-- undecryptable values.
CREATE TABLE at_rest_keys (
    id BIGINT PRIMARY KEY,
    key_check TEXT NOT NULL,
    created_at TEXT NOT NULL
);
