-- Communications, the contact log and regulatory clocks (issue 7).
-- PostgreSQL twin of `migrations/sqlite/0007_communications.sql`: ids are native `uuid`, flags
-- `boolean`; `recipients` and `findings` are text (JSON the service writes, returned verbatim).
-- Instants are BIGINT Unix microseconds.
--
-- A communication is a draft message to one audience; approvals are rows (one per required
-- role); it is sent at most once (`sent_at`). Templates are editable per name (defaults per
-- audience are shipped with the binary and stored on first use). Each contact with an outside
-- party points at the checklist task it advanced. A regulatory clock has its milestones and
-- the reminders to the incident commander; a reminder is done once (`done_at`).

CREATE TABLE communications (
    id                    uuid PRIMARY KEY,
    incident_id           uuid NOT NULL REFERENCES incidents(id),
    audience              text NOT NULL,
    title                 text NOT NULL,
    body                  text NOT NULL,
    recipients            text NOT NULL,
    third_parties_public  boolean NOT NULL DEFAULT FALSE,
    status                text NOT NULL CHECK (status IN ('draft', 'approved', 'sent')),
    findings              text NOT NULL,
    channel               text,
    sent_at               bigint,
    sent_by               text,
    created_by            uuid NOT NULL REFERENCES users(id),
    created_at            bigint NOT NULL,
    updated_at            bigint NOT NULL
);
CREATE INDEX communications_incident ON communications(incident_id, created_at);

CREATE TABLE communication_approvals (
    communication_id  uuid NOT NULL REFERENCES communications(id),
    role              text NOT NULL,
    user_name         text NOT NULL,
    at                bigint NOT NULL,
    PRIMARY KEY (communication_id, role)
);

CREATE TABLE communication_templates (
    name        text PRIMARY KEY,
    audience    text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    updated_by  text NOT NULL,
    updated_at  bigint NOT NULL
);

CREATE TABLE contact_log (
    id           uuid PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    party        text NOT NULL,
    name         text NOT NULL,
    at           bigint NOT NULL,
    reference    text,
    outcome      text,
    task_id      uuid REFERENCES tasks(id),
    created_by   uuid NOT NULL REFERENCES users(id),
    created_at   bigint NOT NULL
);
CREATE INDEX contact_log_incident ON contact_log(incident_id, at);

CREATE TABLE regulatory_clocks (
    id                uuid PRIMARY KEY,
    incident_id       uuid NOT NULL REFERENCES incidents(id),
    regime            text NOT NULL,
    started_at        bigint NOT NULL,
    jurisdiction      text NOT NULL,
    unlawful_purpose  boolean NOT NULL DEFAULT FALSE,
    created_by        uuid NOT NULL REFERENCES users(id),
    created_at        bigint NOT NULL
);
CREATE INDEX regulatory_clocks_incident ON regulatory_clocks(incident_id, created_at);

CREATE TABLE clock_milestones (
    clock_id     uuid NOT NULL REFERENCES regulatory_clocks(id),
    name         text NOT NULL,
    description  text NOT NULL,
    due_at       bigint NOT NULL,
    met_at       bigint,
    position     bigint NOT NULL,
    PRIMARY KEY (clock_id, name)
);

CREATE TABLE clock_reminders (
    id         uuid PRIMARY KEY,
    clock_id   uuid NOT NULL REFERENCES regulatory_clocks(id),
    milestone  text NOT NULL,
    remind_at  bigint NOT NULL,
    done_at    bigint
);
CREATE INDEX clock_reminders_due ON clock_reminders(remind_at) WHERE done_at IS NULL;
