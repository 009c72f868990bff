-- The spine: users and tokens, incidents with their team, checklist and decisions, and the
-- hash-chained audit log. PostgreSQL twin of `migrations/sqlite/0001_spine.sql`: ids are
-- native `uuid`, bytes `bytea`, the checklist `jsonb`. Instants stay BIGINT Unix microseconds
-- on both backends: the audit chain hashes `at` as microseconds, so the stored value must be
-- exactly what was hashed.

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    email       text NOT NULL,
    pgp_key     text,
    is_admin    boolean NOT NULL DEFAULT FALSE,
    created_at  bigint NOT NULL
);

CREATE TABLE user_groups (
    user_id     uuid NOT NULL REFERENCES users(id),
    group_name  text NOT NULL,
    PRIMARY KEY (user_id, group_name)
);

CREATE TABLE api_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users(id),
    label       text NOT NULL,
    created_at  bigint NOT NULL,
    revoked_at  bigint
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE incidents (
    id           uuid PRIMARY KEY,
    codename_key text NOT NULL,
    kind         text NOT NULL,
    severity     integer NOT NULL,
    status       text NOT NULL,
    is_open      boolean NOT NULL,
    sealed       boolean NOT NULL,
    title        text NOT NULL,
    description  text NOT NULL,
    room         text,
    playbook     text NOT NULL,
    created_by   uuid NOT NULL REFERENCES users(id),
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL
);
-- A codename (and a war room) belongs to at most one open incident.
CREATE UNIQUE INDEX incidents_open_codename ON incidents(codename_key) WHERE is_open;
CREATE UNIQUE INDEX incidents_open_room ON incidents(room) WHERE is_open AND room IS NOT NULL;
CREATE INDEX incidents_codename ON incidents(codename_key, created_at);
CREATE INDEX incidents_created ON incidents(created_at);

CREATE TABLE memberships (
    id           uuid PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    user_id      uuid NOT NULL REFERENCES users(id),
    role         text NOT NULL,
    started_at   bigint NOT NULL,
    ended_at     bigint
);
CREATE INDEX memberships_incident ON memberships(incident_id);
CREATE INDEX memberships_user_active ON memberships(user_id, incident_id) WHERE ended_at IS NULL;

CREATE TABLE tasks (
    id              uuid PRIMARY KEY,
    incident_id     uuid NOT NULL REFERENCES incidents(id),
    step            integer NOT NULL,
    key             text NOT NULL,
    title           text NOT NULL,
    status          text NOT NULL,
    owner_role      text NOT NULL,
    assignee        uuid REFERENCES users(id),
    check_items     jsonb NOT NULL,
    override_reason text,
    updated_at      bigint NOT NULL,
    UNIQUE (incident_id, step)
);

CREATE TABLE decisions (
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    name         text NOT NULL,
    value        boolean NOT NULL,
    note         text NOT NULL,
    decided_by   uuid NOT NULL REFERENCES users(id),
    decided_at   bigint NOT NULL,
    PRIMARY KEY (incident_id, name)
);

-- `payload` is text, not jsonb: it is hashed verbatim and must come back byte for byte.
-- Appends are serialized across nodes by a transaction-scoped advisory lock (see
-- `src/postgres/mod.rs`), so the chain never forks; the primary key would refuse a fork anyway.
CREATE TABLE audit_log (
    seq        bigint PRIMARY KEY,
    at         bigint NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,
    subject    text NOT NULL,
    payload    text NOT NULL,
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL
);
