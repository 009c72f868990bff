-- The containment and impact registers (issue 6): assets and every move of their state,
-- indicators of compromise with their sightings, the systems an incident's credentials
-- grant access to, credentials, exposures of data, and follow-up tasks (work the registers
-- create beyond the playbook's steps, such as rotating a compromised credential).
-- PostgreSQL twin of `migrations/sqlite/0006_registers.sql`: ids are native `uuid`, list-valued
-- fields `jsonb` arrays. Instants are BIGINT Unix microseconds. SQLite's implicit `rowid`
-- (the tie-break of moves and exposures recorded in the same instant) is an explicit identity
-- column `seq`, taken after the audit lock so it follows the order of commits.

CREATE TABLE assets (
    id           uuid PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    name         text NOT NULL,
    kind         text NOT NULL,
    address      text,
    state        text NOT NULL,
    created_by   uuid NOT NULL REFERENCES users(id),
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL,
    UNIQUE (incident_id, name)
);

-- Write-once: one row per state an asset entered (the first with from_state NULL).
CREATE TABLE asset_moves (
    id           uuid PRIMARY KEY,
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    asset_id     uuid NOT NULL REFERENCES assets(id),
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    from_state   text,
    to_state     text NOT NULL,
    moved_by     uuid NOT NULL REFERENCES users(id),
    moved_at     bigint NOT NULL,
    note         text NOT NULL
);
CREATE INDEX asset_moves_incident ON asset_moves(incident_id, moved_at, seq);

CREATE FUNCTION asset_moves_write_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'asset moves are write-once' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER asset_moves_write_once BEFORE UPDATE OR DELETE ON asset_moves
    FOR EACH ROW EXECUTE FUNCTION asset_moves_write_once();
CREATE TRIGGER asset_moves_no_truncate BEFORE TRUNCATE ON asset_moves
    FOR EACH STATEMENT EXECUTE FUNCTION asset_moves_write_once();

CREATE TABLE indicators (
    id           uuid PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    kind         text NOT NULL,
    value        text NOT NULL,
    special      text,
    notes        jsonb NOT NULL,
    first_seen   bigint,
    last_seen    bigint,
    created_by   uuid NOT NULL REFERENCES users(id),
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL,
    UNIQUE (incident_id, kind, value)
);

CREATE TABLE sightings (
    id            uuid PRIMARY KEY,
    indicator_id  uuid NOT NULL REFERENCES indicators(id),
    incident_id   uuid NOT NULL REFERENCES incidents(id),
    source_id     uuid NOT NULL,
    line          bigint NOT NULL CHECK (line >= 0),
    byte_offset   bigint NOT NULL CHECK (byte_offset >= 0),
    seen_at       bigint NOT NULL,
    host          text,
    how           text NOT NULL CHECK (how IN ('promoted', 'search', 'watch')),
    recorded_at   bigint NOT NULL,
    UNIQUE (indicator_id, source_id, line)
);
CREATE INDEX sightings_incident ON sightings(incident_id, seen_at);

CREATE TABLE systems (
    id           uuid PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    name         text NOT NULL,
    owner        uuid REFERENCES users(id),
    assets       jsonb NOT NULL,
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL,
    UNIQUE (incident_id, name)
);

CREATE TABLE credentials (
    id           uuid PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    name         text NOT NULL,
    kind         text NOT NULL,
    stored_on    jsonb NOT NULL,
    grants       jsonb NOT NULL,
    state        text NOT NULL,
    created_by   uuid NOT NULL REFERENCES users(id),
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL,
    UNIQUE (incident_id, name)
);

-- `events` is an array of {"source_id", "line"} objects.
CREATE TABLE exposures (
    id              uuid PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    incident_id     uuid NOT NULL REFERENCES incidents(id),
    data            text NOT NULL,
    classification  text NOT NULL,
    records         bigint CHECK (records >= 0),
    customers       jsonb NOT NULL,
    evidence        jsonb NOT NULL,
    events          jsonb NOT NULL,
    created_by      uuid NOT NULL REFERENCES users(id),
    created_at      bigint NOT NULL
);
CREATE INDEX exposures_incident ON exposures(incident_id, created_at, seq);

CREATE TABLE follow_up_tasks (
    id             uuid PRIMARY KEY,
    incident_id    uuid NOT NULL REFERENCES incidents(id),
    parent_step    integer NOT NULL CHECK (parent_step >= 0),
    key            text NOT NULL,
    title          text NOT NULL,
    status         text NOT NULL,
    owner_role     text,
    assignee       uuid REFERENCES users(id),
    credential_id  uuid REFERENCES credentials(id),
    created_at     bigint NOT NULL,
    updated_at     bigint NOT NULL,
    UNIQUE (incident_id, key)
);
