-- Smart charging: the charging profiles installed on each station (as the CSMS knows them),
-- what stations reported (GetCompositeSchedule answers, ReportChargingProfiles) and the
-- load-balancing groups. Limits are exact decimals written as text.
CREATE TABLE charging_profiles (
    station_id TEXT NOT NULL,
    profile_id BIGINT NOT NULL,
    evse_id BIGINT NOT NULL,
    version TEXT NOT NULL,
    purpose TEXT NOT NULL,
    stack_level BIGINT NOT NULL,
    kind TEXT NOT NULL,
    recurrency TEXT,
    transaction_id TEXT,
    valid_from TEXT,
    valid_to TEXT,
    rate_unit TEXT,
    profile TEXT NOT NULL,
    neutral TEXT NOT NULL,
    source TEXT NOT NULL,
    installed_at TEXT NOT NULL,
    PRIMARY KEY (station_id, profile_id)
);
CREATE INDEX charging_profiles_evse ON charging_profiles (station_id, evse_id);

CREATE TABLE composite_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL,
    evse_id BIGINT NOT NULL,
    version TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    duration BIGINT NOT NULL,
    rate_unit TEXT,
    status TEXT NOT NULL,
    reported TEXT,
    predicted TEXT,
    differences TEXT,
    payload TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX composite_reports_station ON composite_reports (station_id, evse_id, id);

CREATE TABLE reported_profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id TEXT NOT NULL,
    request_id BIGINT NOT NULL,
    evse_id BIGINT NOT NULL,
    limit_source TEXT NOT NULL,
    profile_id BIGINT NOT NULL,
    profile TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX reported_profiles_station ON reported_profiles (station_id, request_id, id);

CREATE TABLE lb_groups (
    id TEXT PRIMARY KEY,
    name TEXT,
    limit_value TEXT NOT NULL,
    rate_unit TEXT NOT NULL,
    min_per_car TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE lb_group_members (
    group_id TEXT NOT NULL REFERENCES lb_groups (id) ON DELETE CASCADE,
    station_id TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL,
    PRIMARY KEY (group_id, station_id)
);
