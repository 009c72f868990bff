-- The evidence locker's records (issue 5): one row per evidence item (the bytes live in the
-- blob store under `blob_key`) and its chain of custody. Both tables are write-once: the
-- triggers refuse any UPDATE or DELETE (and TRUNCATE). Each custody event points at the audit
-- entry that was appended with it in the same transaction. `details` is text: canonical JSON
-- returned verbatim.

CREATE TABLE evidence_items (
    id            uuid PRIMARY KEY,
    incident_id   uuid NOT NULL REFERENCES incidents(id),
    name          text NOT NULL,
    description   text NOT NULL,
    blob_key      text NOT NULL,
    size          bigint NOT NULL CHECK (size >= 0),
    sha256        text NOT NULL,
    blake3        text NOT NULL,
    md5           text,
    sha1          text,
    acquired_by   text NOT NULL,
    tool          text,
    source_asset  text,
    created_by    uuid NOT NULL REFERENCES users(id),
    created_at    bigint NOT NULL
);
CREATE INDEX evidence_items_incident ON evidence_items(incident_id, created_at);
CREATE INDEX evidence_items_blob ON evidence_items(blob_key);

CREATE TABLE custody_events (
    id         uuid PRIMARY KEY,
    item_id    uuid NOT NULL REFERENCES evidence_items(id),
    kind       text NOT NULL CHECK (kind IN ('acquisition', 'receipt', 'verification', 'download', 'export', 'transfer')),
    actor      text NOT NULL,
    at         bigint NOT NULL,
    details    text NOT NULL,
    audit_seq  bigint NOT NULL UNIQUE REFERENCES audit_log(seq)
);
CREATE INDEX custody_events_item ON custody_events(item_id, audit_seq);
CREATE INDEX custody_events_verified ON custody_events(item_id, at) WHERE kind = 'verification';

CREATE FUNCTION evidence_items_write_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evidence records are write-once' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE FUNCTION custody_events_write_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'custody events are write-once' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER evidence_items_write_once BEFORE UPDATE OR DELETE ON evidence_items
    FOR EACH ROW EXECUTE FUNCTION evidence_items_write_once();
CREATE TRIGGER evidence_items_no_truncate BEFORE TRUNCATE ON evidence_items
    FOR EACH STATEMENT EXECUTE FUNCTION evidence_items_write_once();
CREATE TRIGGER custody_events_write_once BEFORE UPDATE OR DELETE ON custody_events
    FOR EACH ROW EXECUTE FUNCTION custody_events_write_once();
CREATE TRIGGER custody_events_no_truncate BEFORE TRUNCATE ON custody_events
    FOR EACH STATEMENT EXECUTE FUNCTION custody_events_write_once();
