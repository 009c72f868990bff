-- The containment and impact registers (issue 6): assets and every move of their state,
-- indicators of compromise with their sightings, the systems an incident's credentials
-- grant access to, credentials, exposures of data, and follow-up tasks (work the registers
-- create beyond the playbook's steps, such as rotating a compromised credential). List-valued
-- fields are JSON arrays in TEXT columns. Instants are BIGINT Unix microseconds.

CREATE TABLE assets (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    address      TEXT,
    state        TEXT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (incident_id, name)
);

-- Write-once: one row per state an asset entered (the first with from_state NULL).
CREATE TABLE asset_moves (
    id           TEXT PRIMARY KEY,
    asset_id     TEXT NOT NULL REFERENCES assets(id),
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    from_state   TEXT,
    to_state     TEXT NOT NULL,
    moved_by     TEXT NOT NULL REFERENCES users(id),
    moved_at     BIGINT NOT NULL,
    note         TEXT NOT NULL
);
CREATE INDEX asset_moves_incident ON asset_moves(incident_id, moved_at);
CREATE TRIGGER asset_moves_write_once_update BEFORE UPDATE ON asset_moves
BEGIN
    SELECT RAISE(ABORT, 'asset moves are write-once');
END;
CREATE TRIGGER asset_moves_write_once_delete BEFORE DELETE ON asset_moves
BEGIN
    SELECT RAISE(ABORT, 'asset moves are write-once');
END;

CREATE TABLE indicators (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    special      TEXT,
    notes        TEXT NOT NULL,
    first_seen   BIGINT,
    last_seen    BIGINT,
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (incident_id, kind, value)
);

CREATE TABLE sightings (
    id            TEXT PRIMARY KEY,
    indicator_id  TEXT NOT NULL REFERENCES indicators(id),
    incident_id   TEXT NOT NULL REFERENCES incidents(id),
    source_id     TEXT NOT NULL,
    line          BIGINT NOT NULL,
    byte_offset   BIGINT NOT NULL,
    seen_at       BIGINT NOT NULL,
    host          TEXT,
    how           TEXT NOT NULL CHECK (how IN ('promoted', 'search', 'watch')),
    recorded_at   BIGINT NOT NULL,
    UNIQUE (indicator_id, source_id, line)
);
CREATE INDEX sightings_incident ON sightings(incident_id, seen_at);

CREATE TABLE systems (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    name         TEXT NOT NULL,
    owner        TEXT REFERENCES users(id),
    assets       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (incident_id, name)
);

CREATE TABLE credentials (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    stored_on    TEXT NOT NULL,
    grants       TEXT NOT NULL,
    state        TEXT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (incident_id, name)
);

CREATE TABLE exposures (
    id              TEXT PRIMARY KEY,
    incident_id     TEXT NOT NULL REFERENCES incidents(id),
    data            TEXT NOT NULL,
    classification  TEXT NOT NULL,
    records         BIGINT,
    customers       TEXT NOT NULL,
    evidence        TEXT NOT NULL,
    events          TEXT NOT NULL,
    created_by      TEXT NOT NULL REFERENCES users(id),
    created_at      BIGINT NOT NULL
);
CREATE INDEX exposures_incident ON exposures(incident_id, created_at);

CREATE TABLE follow_up_tasks (
    id             TEXT PRIMARY KEY,
    incident_id    TEXT NOT NULL REFERENCES incidents(id),
    parent_step    INTEGER NOT NULL,
    key            TEXT NOT NULL,
    title          TEXT NOT NULL,
    status         TEXT NOT NULL,
    owner_role     TEXT,
    assignee       TEXT REFERENCES users(id),
    credential_id  TEXT REFERENCES credentials(id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (incident_id, key)
);
