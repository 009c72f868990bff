-- The spine: users and tokens, incidents with their team, checklist and decisions, and the
-- hash-chained audit log. Instants are BIGINT Unix microseconds; ids are TEXT UUIDs.

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    email       TEXT NOT NULL,
    pgp_key     TEXT,
    is_admin    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE user_groups (
    user_id     TEXT NOT NULL REFERENCES users(id),
    group_name  TEXT NOT NULL,
    PRIMARY KEY (user_id, group_name)
);

CREATE TABLE api_tokens (
    token_hash  BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE incidents (
    id           TEXT PRIMARY KEY,
    codename_key TEXT NOT NULL,
    kind         TEXT NOT NULL,
    severity     INTEGER NOT NULL,
    status       TEXT NOT NULL,
    is_open      BOOLEAN NOT NULL,
    sealed       BOOLEAN NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    room         TEXT,
    playbook     TEXT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
-- A codename (and a war room) belongs to at most one open incident.
CREATE UNIQUE INDEX incidents_open_codename ON incidents(codename_key) WHERE is_open;
CREATE UNIQUE INDEX incidents_open_room ON incidents(room) WHERE is_open AND room IS NOT NULL;
CREATE INDEX incidents_codename ON incidents(codename_key, created_at);
CREATE INDEX incidents_created ON incidents(created_at);

CREATE TABLE memberships (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    role         TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    ended_at     BIGINT
);
CREATE INDEX memberships_incident ON memberships(incident_id);
CREATE INDEX memberships_user_active ON memberships(user_id, incident_id) WHERE ended_at IS NULL;

CREATE TABLE tasks (
    id              TEXT PRIMARY KEY,
    incident_id     TEXT NOT NULL REFERENCES incidents(id),
    step            INTEGER NOT NULL,
    key             TEXT NOT NULL,
    title           TEXT NOT NULL,
    status          TEXT NOT NULL,
    owner_role      TEXT NOT NULL,
    assignee        TEXT REFERENCES users(id),
    check_items     TEXT NOT NULL,
    override_reason TEXT,
    updated_at      BIGINT NOT NULL,
    UNIQUE (incident_id, step)
);

CREATE TABLE decisions (
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    name         TEXT NOT NULL,
    value        BOOLEAN NOT NULL,
    note         TEXT NOT NULL,
    decided_by   TEXT NOT NULL REFERENCES users(id),
    decided_at   BIGINT NOT NULL,
    PRIMARY KEY (incident_id, name)
);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL
);
