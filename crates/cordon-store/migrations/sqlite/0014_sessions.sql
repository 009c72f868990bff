-- Signing in from a browser (issue 15): server-side sessions, local break-glass credentials,
-- failed sign-ins counted for rate limiting, and each user's language and time zone.

-- A session is named by its id when listed and revoked; its 256-bit token lives only in the
-- browser's cookie, the database keeps its SHA-256. `expires_at` is the absolute end; the idle
-- end is `last_seen_at` plus the idle timeout, judged by the service.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    token_hash    BLOB NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id),
    method        TEXT NOT NULL CHECK (method IN ('password', 'oidc')),
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    address       TEXT,
    user_agent    TEXT,
    ended_at      BIGINT,
    end_reason    TEXT
);
CREATE INDEX sessions_user ON sessions(user_id, created_at);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Break-glass accounts: an argon2id PHC string, and the TOTP secret sealed under the
-- deployment's key (never in clear). `totp_last_step` is the last time step a code was
-- accepted for, so a code is used once.
CREATE TABLE local_credentials (
    user_id          TEXT PRIMARY KEY REFERENCES users(id),
    password_hash    TEXT,
    password_set_at  BIGINT,
    totp_sealed      BLOB,
    totp_set_at      BIGINT,
    totp_last_step   BIGINT
);

-- Failed sign-ins, one row per failure and key (`account:NAME`, `address:IP`), counted over
-- a window by every node alike; old rows are removed as new ones arrive.
CREATE TABLE signin_failures (
    key  TEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX signin_failures_key ON signin_failures(key, at);
CREATE INDEX signin_failures_at ON signin_failures(at);

-- The user's choices for the web UI; NULL: from the browser (language) or UTC (zone).
CREATE TABLE user_settings (
    user_id    TEXT PRIMARY KEY REFERENCES users(id),
    locale     TEXT,
    time_zone  TEXT
);
