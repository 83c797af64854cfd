-- The CSMS schema. Times are RFC 3339 text exactly as written (the station's offset and
-- precision kept); payloads are the JSON text exactly as received or sent.
CREATE TABLE stations (
    id TEXT PRIMARY KEY,
    version TEXT,
    registration TEXT NOT NULL DEFAULT 'Accepted',
    vendor TEXT,
    model TEXT,
    serial_number TEXT,
    firmware_version TEXT,
    boot_reason TEXT,
    boot_payload TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT,
    last_boot_at TEXT,
    connected BOOLEAN NOT NULL DEFAULT FALSE,
    security_profile BIGINT,
    password_hash TEXT
);

CREATE TABLE message_log (
    id BIGSERIAL PRIMARY KEY,
    station_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX message_log_station ON message_log (station_id, id);

CREATE TABLE connector_status (
    station_id TEXT NOT NULL,
    evse_id BIGINT NOT NULL,
    connector_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    info TEXT,
    timestamp TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (station_id, evse_id, connector_id)
);

CREATE TABLE status_history (
    id BIGSERIAL PRIMARY KEY,
    station_id TEXT NOT NULL,
    evse_id BIGINT NOT NULL,
    connector_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    info TEXT,
    timestamp TEXT,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX status_history_station ON status_history (station_id, id);

CREATE TABLE id_tokens (
    id_token TEXT NOT NULL,
    token_type TEXT NOT NULL,
    status TEXT NOT NULL,
    expiry TEXT,
    parent_id TEXT,
    group_id TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (id_token, token_type)
);

CREATE TABLE transactions (
    id BIGSERIAL PRIMARY KEY,
    station_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    version TEXT NOT NULL,
    evse_id BIGINT,
    connector_id BIGINT,
    id_token TEXT,
    token_type TEXT,
    status TEXT NOT NULL,
    started_at TEXT,
    stopped_at TEXT,
    meter_start TEXT,
    meter_stop TEXT,
    stop_reason TEXT,
    charging_state TEXT,
    last_seq_no BIGINT,
    offline BOOLEAN NOT NULL DEFAULT FALSE,
    reservation_id BIGINT,
    updated_at TEXT NOT NULL,
    UNIQUE (station_id, transaction_id)
);

CREATE TABLE transaction_events (
    id BIGSERIAL PRIMARY KEY,
    station_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    seq_no BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    trigger_reason TEXT,
    timestamp TEXT NOT NULL,
    offline BOOLEAN NOT NULL DEFAULT FALSE,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (station_id, transaction_id, seq_no)
);

CREATE TABLE meter_values (
    id BIGSERIAL PRIMARY KEY,
    station_id TEXT NOT NULL,
    transaction_id TEXT,
    evse_id BIGINT,
    timestamp TEXT NOT NULL,
    value TEXT NOT NULL,
    measurand TEXT,
    phase TEXT,
    unit TEXT,
    context TEXT,
    location TEXT,
    signed_data TEXT,
    source_event BIGINT
);
CREATE INDEX meter_values_tx ON meter_values (station_id, transaction_id, id);

CREATE TABLE device_model (
    station_id TEXT NOT NULL,
    component TEXT NOT NULL,
    component_instance TEXT NOT NULL,
    evse_id BIGINT NOT NULL,
    connector_id BIGINT NOT NULL,
    variable TEXT NOT NULL,
    variable_instance TEXT NOT NULL,
    attribute_type TEXT NOT NULL,
    value TEXT,
    mutability TEXT,
    persistent BOOLEAN,
    constant_value BOOLEAN,
    characteristics TEXT,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (station_id, component, component_instance, evse_id, connector_id, variable, variable_instance, attribute_type)
);

CREATE TABLE station_events (
    id BIGSERIAL PRIMARY KEY,
    station_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT,
    detail TEXT,
    payload TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX station_events_station ON station_events (station_id, kind, id);

CREATE TABLE reservations (
    id BIGINT NOT NULL,
    station_id TEXT NOT NULL,
    evse_id BIGINT,
    id_token TEXT NOT NULL,
    expiry TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (station_id, id)
);

CREATE TABLE local_list_versions (
    station_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
