-- Paging: on-call schedules and escalation policies (stored as their validated specs), pages
-- with their escalation state, escalation deadlines as durable timer rows, and every
-- notification attempt. A secret for signing one-time acknowledgement links. Specs and page
-- states are text (JSON returned verbatim). Several nodes share these tables: deadlines flip
-- to done with a conditional UPDATE and notifications are claimed with FOR UPDATE SKIP LOCKED
-- (see `src/postgres/paging.rs`).

CREATE TABLE schedules (
    name        text PRIMARY KEY,
    spec        text NOT NULL,
    updated_at  bigint NOT NULL
);

CREATE TABLE escalation_policies (
    name        text PRIMARY KEY,
    spec        text NOT NULL,
    updated_at  bigint NOT NULL
);

CREATE TABLE contact_methods (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users(id),
    kind        text NOT NULL,
    address     text NOT NULL,
    created_at  bigint NOT NULL,
    UNIQUE (user_id, kind, address)
);

CREATE TABLE pages (
    id          uuid PRIMARY KEY,
    incident_id uuid REFERENCES incidents(id),
    status      text NOT NULL,
    state       text NOT NULL,
    created_by  uuid NOT NULL REFERENCES users(id),
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL
);
CREATE INDEX pages_incident ON pages(incident_id, created_at);

-- Durable escalation timers: one row per (page, step); `done` flips exactly once.
CREATE TABLE page_deadlines (
    page_id     uuid NOT NULL REFERENCES pages(id),
    step        bigint NOT NULL,
    due_at      bigint NOT NULL,
    done        boolean NOT NULL DEFAULT FALSE,
    PRIMARY KEY (page_id, step)
);
CREATE INDEX page_deadlines_due ON page_deadlines(due_at) WHERE NOT done;

-- One row per (page, step, user, channel, address): a notification is attempted until it is
-- delivered, refused or out of retries; attempts and the last error are kept.
CREATE TABLE notifications (
    id              uuid PRIMARY KEY,
    page_id         uuid NOT NULL REFERENCES pages(id),
    step            bigint NOT NULL,
    level           bigint NOT NULL,
    user_name       text NOT NULL,
    channel         text NOT NULL,
    address         text NOT NULL,
    status          text NOT NULL,
    attempts        bigint NOT NULL DEFAULT 0,
    next_attempt_at bigint,
    error           text,
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL,
    UNIQUE (page_id, step, user_name, channel, address)
);
CREATE INDEX notifications_pending ON notifications(next_attempt_at) WHERE status = 'pending';

CREATE TABLE secrets (
    name   text PRIMARY KEY,
    value  bytea NOT NULL
);

CREATE TABLE used_links (
    nonce    text PRIMARY KEY,
    used_at  bigint NOT NULL
);
