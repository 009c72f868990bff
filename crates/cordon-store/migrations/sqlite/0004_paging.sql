-- Paging: on-call schedules and escalation policies (stored as their validated specs), pages
-- with their escalation state, escalation deadlines as durable timer rows, and every
-- notification attempt. A secret for signing one-time acknowledgement links.

CREATE TABLE schedules (
    name        TEXT PRIMARY KEY,
    spec        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE escalation_policies (
    name        TEXT PRIMARY KEY,
    spec        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE contact_methods (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    address     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (user_id, kind, address)
);

CREATE TABLE pages (
    id          TEXT PRIMARY KEY,
    incident_id TEXT REFERENCES incidents(id),
    status      TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX pages_incident ON pages(incident_id, created_at);

-- Durable escalation timers: one row per (page, step); `done` flips exactly once.
CREATE TABLE page_deadlines (
    page_id     TEXT NOT NULL REFERENCES pages(id),
    step        BIGINT NOT NULL,
    due_at      BIGINT NOT NULL,
    done        BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (page_id, step)
);
CREATE INDEX page_deadlines_due ON page_deadlines(due_at) WHERE NOT done;

-- One row per (page, step, user, channel, address): a notification is attempted until it is
-- delivered, refused or out of retries; attempts and the last error are kept.
CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    page_id         TEXT NOT NULL REFERENCES pages(id),
    step            BIGINT NOT NULL,
    level           INTEGER NOT NULL,
    user_name       TEXT NOT NULL,
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    error           TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (page_id, step, user_name, channel, address)
);
CREATE INDEX notifications_pending ON notifications(next_attempt_at) WHERE status = 'pending';

CREATE TABLE secrets (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
);

CREATE TABLE used_links (
    nonce    TEXT PRIMARY KEY,
    used_at  BIGINT NOT NULL
);
