-- The evidence locker's records (issue 5): one row per evidence item (the bytes live in the
-- blob store under `blob_key`) and its chain of custody. Both tables are write-once: the
-- triggers refuse any UPDATE or DELETE. Each custody event points at the audit entry that
-- was appended with it in the same transaction.

CREATE TABLE evidence_items (
    id            TEXT PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents(id),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    blob_key      TEXT NOT NULL,
    size          BIGINT NOT NULL CHECK (size >= 0),
    sha256        TEXT NOT NULL,
    blake3        TEXT NOT NULL,
    md5           TEXT,
    sha1          TEXT,
    acquired_by   TEXT NOT NULL,
    tool          TEXT,
    source_asset  TEXT,
    created_by    TEXT NOT NULL REFERENCES users(id),
    created_at    BIGINT NOT NULL
);
CREATE INDEX evidence_items_incident ON evidence_items(incident_id, created_at);
CREATE INDEX evidence_items_blob ON evidence_items(blob_key);

CREATE TABLE custody_events (
    id         TEXT PRIMARY KEY,
    item_id    TEXT NOT NULL REFERENCES evidence_items(id),
    kind       TEXT NOT NULL CHECK (kind IN ('acquisition', 'receipt', 'verification', 'download', 'export', 'transfer')),
    actor      TEXT NOT NULL,
    at         BIGINT NOT NULL,
    details    TEXT NOT NULL,
    audit_seq  BIGINT NOT NULL UNIQUE REFERENCES audit_log(seq)
);
CREATE INDEX custody_events_item ON custody_events(item_id, audit_seq);
CREATE INDEX custody_events_verified ON custody_events(item_id, at) WHERE kind = 'verification';

CREATE TRIGGER evidence_items_write_once_update BEFORE UPDATE ON evidence_items
BEGIN
    SELECT RAISE(ABORT, 'evidence records are write-once');
END;
CREATE TRIGGER evidence_items_write_once_delete BEFORE DELETE ON evidence_items
BEGIN
    SELECT RAISE(ABORT, 'evidence records are write-once');
END;
CREATE TRIGGER custody_events_write_once_update BEFORE UPDATE ON custody_events
BEGIN
    SELECT RAISE(ABORT, 'custody events are write-once');
END;
CREATE TRIGGER custody_events_write_once_delete BEFORE DELETE ON custody_events
BEGIN
    SELECT RAISE(ABORT, 'custody events are write-once');
END;
