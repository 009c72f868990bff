-- The war-room conversation (issue 15): what people typed in an incident's room in Cordon,
-- the `!ic` commands among it and Cordon's replies. A message takes the sequence number of the
-- audit entry appended with it in the same transaction (`seq`), which orders the conversation
-- the same on every node and ties each message to the hash chain (its payload carries the
-- body's SHA-256). Messages are kept: UPDATE and DELETE are refused.
CREATE TABLE room_messages (
    seq          INTEGER PRIMARY KEY REFERENCES audit_log(seq),
    id           TEXT NOT NULL UNIQUE,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    -- NULL: Cordon's own reply to a command.
    author_id    TEXT REFERENCES users(id),
    kind         TEXT NOT NULL CHECK (kind IN ('message', 'command', 'reply')),
    body         TEXT NOT NULL,
    reply_to     TEXT REFERENCES room_messages(id),
    created_at   INTEGER NOT NULL
);
CREATE INDEX room_messages_by_incident ON room_messages (incident_id, seq);
CREATE TRIGGER room_messages_write_once_update BEFORE UPDATE ON room_messages
BEGIN
    SELECT RAISE(ABORT, 'room messages are write-once');
END;
CREATE TRIGGER room_messages_write_once_delete BEFORE DELETE ON room_messages
BEGIN
    SELECT RAISE(ABORT, 'room messages are write-once');
END;
