-- Communications, the contact log and regulatory clocks (issue 7).
--
-- A communication is a draft message to one audience; approvals are rows (one per required
-- role); it is sent at most once (`sent_at`). Templates are editable per name (defaults per
-- audience are shipped with the binary and stored on first use). Each contact with an outside
-- party points at the checklist task it advanced. A regulatory clock has its milestones and
-- the reminders to the incident commander; a reminder is done once (`done_at`).

CREATE TABLE communications (
    id                    TEXT PRIMARY KEY,
    incident_id           TEXT NOT NULL REFERENCES incidents(id),
    audience              TEXT NOT NULL,
    title                 TEXT NOT NULL,
    body                  TEXT NOT NULL,
    recipients            TEXT NOT NULL,
    third_parties_public  BIGINT NOT NULL DEFAULT 0,
    status                TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'sent')),
    findings              TEXT NOT NULL,
    channel               TEXT,
    sent_at               BIGINT,
    sent_by               TEXT,
    created_by            TEXT NOT NULL REFERENCES users(id),
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX communications_incident ON communications(incident_id, created_at);

CREATE TABLE communication_approvals (
    communication_id  TEXT NOT NULL REFERENCES communications(id),
    role              TEXT NOT NULL,
    user_name         TEXT NOT NULL,
    at                BIGINT NOT NULL,
    PRIMARY KEY (communication_id, role)
);

CREATE TABLE communication_templates (
    name        TEXT PRIMARY KEY,
    audience    TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE contact_log (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    party        TEXT NOT NULL,
    name         TEXT NOT NULL,
    at           BIGINT NOT NULL,
    reference    TEXT,
    outcome      TEXT,
    task_id      TEXT REFERENCES tasks(id),
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX contact_log_incident ON contact_log(incident_id, at);

CREATE TABLE regulatory_clocks (
    id                TEXT PRIMARY KEY,
    incident_id       TEXT NOT NULL REFERENCES incidents(id),
    regime            TEXT NOT NULL,
    started_at        BIGINT NOT NULL,
    jurisdiction      TEXT NOT NULL,
    unlawful_purpose  BIGINT NOT NULL DEFAULT 0,
    created_by        TEXT NOT NULL REFERENCES users(id),
    created_at        BIGINT NOT NULL
);
CREATE INDEX regulatory_clocks_incident ON regulatory_clocks(incident_id, created_at);

CREATE TABLE clock_milestones (
    clock_id     TEXT NOT NULL REFERENCES regulatory_clocks(id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    due_at       BIGINT NOT NULL,
    met_at       BIGINT,
    position     BIGINT NOT NULL,
    PRIMARY KEY (clock_id, name)
);

CREATE TABLE clock_reminders (
    id         TEXT PRIMARY KEY,
    clock_id   TEXT NOT NULL REFERENCES regulatory_clocks(id),
    milestone  TEXT NOT NULL,
    remind_at  BIGINT NOT NULL,
    done_at    BIGINT
);
CREATE INDEX clock_reminders_due ON clock_reminders(remind_at) WHERE done_at IS NULL;
