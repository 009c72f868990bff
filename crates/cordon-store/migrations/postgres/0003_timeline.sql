-- Timeline sources: one row per ingested log, written in the same transaction as its audit
-- entry once the source's events are committed to the incident's timeline index.
-- `sha256` is the hex digest of the raw bytes as uploaded (before any gzip inflation);
-- `diagnostics` is a JSON array of the first diagnostics ({line, byte_offset, code, message}),
-- kept as text so it comes back exactly as written.

CREATE TABLE timeline_sources (
    id                uuid PRIMARY KEY,
    incident_id       uuid NOT NULL REFERENCES incidents(id),
    name              text NOT NULL,
    host              text,
    format            text NOT NULL,
    sha256            text NOT NULL,
    bytes             bigint NOT NULL,
    lines             bigint NOT NULL,
    events            bigint NOT NULL,
    skipped           bigint NOT NULL,
    diagnostics_total bigint NOT NULL,
    diagnostics       text NOT NULL,
    state             text NOT NULL,
    created_by        uuid NOT NULL REFERENCES users(id),
    created_at        bigint NOT NULL
);
CREATE INDEX timeline_sources_incident ON timeline_sources(incident_id, created_at);
