-- no-transaction
-- The authorization gate (issue 12).
--
-- * A war room may carry several open incidents: a room's incidents are seen through the gate,
--   so a caller who may not see an incident bound to the room finds the room free, and may
--   declare one of their own there. The unique index was an oracle telling anyone which rooms
--   belong to an incident.
-- * A page records what it is for (`role`: the role an acknowledging recipient is granted) and
--   may be triggered by the engine itself (`created_by` NULL: the system principal, never a
--   borrowed user).
-- * Acknowledgement links are opaque random tokens stored as SHA-256 hashes, with their
--   recipient, an expiry and the instant they were used; the HMAC key and the used-nonce table
--   of the signed links go.
-- * Rooms the deployment marked team-only.
--
-- SQLite cannot drop NOT NULL from a column, so `pages` is rebuilt (the documented 12-step
-- procedure: foreign keys off, copy, swap, check, foreign keys on), outside sqlx's transaction
-- because `PRAGMA foreign_keys` is a no-op inside one.
PRAGMA foreign_keys = OFF;
BEGIN;

DROP INDEX incidents_open_room;
CREATE INDEX incidents_open_room ON incidents(room, created_at) WHERE is_open AND room IS NOT NULL;

CREATE TABLE pages_new (
    id          TEXT PRIMARY KEY,
    incident_id TEXT REFERENCES incidents(id),
    status      TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_by  TEXT REFERENCES users(id),
    role        TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
INSERT INTO pages_new (id, incident_id, status, state, created_by, role, created_at, updated_at)
    SELECT id, incident_id, status, state, created_by, NULL, created_at, updated_at FROM pages;
DROP TABLE pages;
ALTER TABLE pages_new RENAME TO pages;
CREATE INDEX pages_incident ON pages(incident_id, created_at);

CREATE TABLE ack_links (
    token_hash  BLOB PRIMARY KEY,
    page_id     TEXT NOT NULL REFERENCES pages(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    step        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX ack_links_page ON ack_links(page_id);

DROP TABLE used_links;
DELETE FROM secrets WHERE name = 'ack-link-hmac';

CREATE TABLE chat_rooms (
    room        TEXT PRIMARY KEY,
    team_only   BOOLEAN NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

COMMIT;
PRAGMA foreign_key_check;
PRAGMA foreign_keys = ON;
