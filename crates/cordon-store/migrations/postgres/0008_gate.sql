-- The authorization gate (issue 12); see migrations/sqlite/0008_gate.sql for the why.
-- A war room may carry several open incidents (the unique index told anyone which rooms belong
-- to an incident); a page records the role it grants and may be the engine's own (created_by
-- NULL); acknowledgement links are opaque tokens stored hashed with recipient, expiry and use;
-- rooms the deployment marked team-only.

DROP INDEX incidents_open_room;
CREATE INDEX incidents_open_room ON incidents(room, created_at) WHERE is_open AND room IS NOT NULL;

ALTER TABLE pages ALTER COLUMN created_by DROP NOT NULL;
ALTER TABLE pages ADD COLUMN role text;

CREATE TABLE ack_links (
    token_hash  bytea PRIMARY KEY,
    page_id     uuid NOT NULL REFERENCES pages(id),
    user_id     uuid NOT NULL REFERENCES users(id),
    step        bigint NOT NULL,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    used_at     bigint
);
CREATE INDEX ack_links_page ON ack_links(page_id);

DROP TABLE used_links;
DELETE FROM secrets WHERE name = 'ack-link-hmac';

CREATE TABLE chat_rooms (
    room        text PRIMARY KEY,
    team_only   boolean NOT NULL,
    updated_by  text NOT NULL,
    updated_at  bigint NOT NULL
);
