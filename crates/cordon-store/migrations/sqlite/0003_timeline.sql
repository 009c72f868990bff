-- Timeline sources: one row per ingested log, written in the same transaction as its audit
-- entry once the source's events are committed to the incident's timeline index.
-- `sha256` is the hex digest of the raw bytes as uploaded (before any gzip inflation);
-- `diagnostics` is a JSON array of the first diagnostics ({line, byte_offset, code, message}).

CREATE TABLE timeline_sources (
    id                TEXT PRIMARY KEY,
    incident_id       TEXT NOT NULL REFERENCES incidents(id),
    name              TEXT NOT NULL,
    host              TEXT,
    format            TEXT NOT NULL,
    sha256            TEXT NOT NULL,
    bytes             BIGINT NOT NULL,
    lines             BIGINT NOT NULL,
    events            BIGINT NOT NULL,
    skipped           BIGINT NOT NULL,
    diagnostics_total BIGINT NOT NULL,
    diagnostics       TEXT NOT NULL,
    state             TEXT NOT NULL,
    created_by        TEXT NOT NULL REFERENCES users(id),
    created_at        BIGINT NOT NULL
);
CREATE INDEX timeline_sources_incident ON timeline_sources(incident_id, created_at);
