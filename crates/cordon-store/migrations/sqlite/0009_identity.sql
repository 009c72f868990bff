-- Identity and access (issue 12): tokens that are listed, expire and are revoked; users who
-- are disabled; chat identities linked to at most one user each, with proof from the account
-- (a one-time code, stored hashed) or by an admin.
--
-- The chat accounts users could once add to themselves as contact methods (`slack_user`,
-- `matrix_user`) move to `chat_identities`; an account that several users claimed is linked
-- to nobody and its claims are kept in `chat_identity_claims` until an admin links it.

ALTER TABLE users ADD COLUMN disabled_at BIGINT;

ALTER TABLE api_tokens ADD COLUMN id TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
-- Existing tokens get random UUIDs (version 4), so they can be listed and revoked by id.
UPDATE api_tokens SET id =
    lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
    substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||
    substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))
WHERE id IS NULL;
CREATE UNIQUE INDEX api_tokens_id ON api_tokens(id);

-- One chat account (Slack or Matrix user id) belongs to at most one user.
CREATE TABLE chat_identities (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('slack', 'matrix')),
    external_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id),
    linked_at    BIGINT NOT NULL,
    linked_by    TEXT NOT NULL,
    via          TEXT NOT NULL CHECK (via IN ('code', 'admin', 'migration'))
);
CREATE UNIQUE INDEX chat_identities_account ON chat_identities(kind, external_id);
CREATE INDEX chat_identities_user ON chat_identities(user_id);

-- Accounts several users claimed before proof was needed: linked to nobody until resolved.
CREATE TABLE chat_identity_claims (
    kind         TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id),
    claimed_at   BIGINT NOT NULL,
    PRIMARY KEY (kind, external_id, user_id)
);

-- One-time codes: only their SHA-256 is kept; one live code per user and kind.
CREATE TABLE chat_link_codes (
    code_hash    BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    kind         TEXT NOT NULL,
    external_id  TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX chat_link_codes_user ON chat_link_codes(user_id, kind);
CREATE INDEX chat_link_codes_expiry ON chat_link_codes(expires_at);

-- The old contact rows, as accounts (Slack ids upper-case, as Slack writes them).
CREATE TABLE chat_claims_0009 AS
SELECT c.id AS id,
       CASE c.kind WHEN 'slack_user' THEN 'slack' ELSE 'matrix' END AS kind,
       CASE c.kind WHEN 'slack_user' THEN upper(trim(c.address)) ELSE trim(c.address) END AS external_id,
       c.user_id AS user_id,
       c.created_at AS created_at
FROM contact_methods c
WHERE c.kind IN ('slack_user', 'matrix_user');

INSERT INTO chat_identities (id, kind, external_id, user_id, linked_at, linked_by, via)
SELECT MIN(id), kind, external_id, MIN(user_id), MIN(created_at), 'migration', 'migration'
FROM chat_claims_0009
GROUP BY kind, external_id
HAVING COUNT(DISTINCT user_id) = 1;

INSERT INTO chat_identity_claims (kind, external_id, user_id, claimed_at)
SELECT c.kind, c.external_id, c.user_id, MIN(c.created_at)
FROM chat_claims_0009 c
WHERE (SELECT COUNT(DISTINCT o.user_id) FROM chat_claims_0009 o
       WHERE o.kind = c.kind AND o.external_id = c.external_id) > 1
GROUP BY c.kind, c.external_id, c.user_id;

DROP TABLE chat_claims_0009;
DELETE FROM contact_methods WHERE kind IN ('slack_user', 'matrix_user');
