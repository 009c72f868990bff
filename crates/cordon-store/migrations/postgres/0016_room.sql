-- The war-room conversation (issue 15): what people typed in an incident's room in Cordon,
-- the `!ic` commands among it and Cordon's replies. A message takes the sequence number of the
-- audit entry appended with it in the same transaction (`seq`, taken under the audit chain's
-- lock, so in commit order on every node) and is tied to the hash chain by it (the entry's
-- payload carries the body's SHA-256). Messages are kept: UPDATE, DELETE and TRUNCATE are
-- refused.
CREATE TABLE room_messages (
    seq          bigint PRIMARY KEY REFERENCES audit_log(seq),
    id           uuid NOT NULL UNIQUE,
    incident_id  uuid NOT NULL REFERENCES incidents(id),
    -- NULL: Cordon's own reply to a command.
    author_id    uuid REFERENCES users(id),
    kind         text NOT NULL CHECK (kind IN ('message', 'command', 'reply')),
    body         text NOT NULL,
    reply_to     uuid REFERENCES room_messages(id),
    created_at   bigint NOT NULL
);
CREATE INDEX room_messages_by_incident ON room_messages (incident_id, seq);

CREATE FUNCTION room_messages_write_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'room messages are write-once' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER room_messages_write_once BEFORE UPDATE OR DELETE ON room_messages
    FOR EACH ROW EXECUTE FUNCTION room_messages_write_once();
CREATE TRIGGER room_messages_no_truncate BEFORE TRUNCATE ON room_messages
    FOR EACH STATEMENT EXECUTE FUNCTION room_messages_write_once();
