-- PostgreSQL twin of `migrations/sqlite/0014_sessions.sql`: server-side sessions (tokens kept
-- as SHA-256), local break-glass credentials (argon2id, sealed TOTP secret), failed sign-ins
-- for rate limiting shared by every node, and each user's language and time zone.
CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    token_hash    bytea NOT NULL UNIQUE,
    user_id       uuid NOT NULL REFERENCES users(id),
    method        text NOT NULL CHECK (method IN ('password', 'oidc')),
    created_at    bigint NOT NULL,
    last_seen_at  bigint NOT NULL,
    expires_at    bigint NOT NULL,
    address       text,
    user_agent    text,
    ended_at      bigint,
    end_reason    text
);
CREATE INDEX sessions_user ON sessions(user_id, created_at);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE local_credentials (
    user_id          uuid PRIMARY KEY REFERENCES users(id),
    password_hash    text,
    password_set_at  bigint,
    totp_sealed      bytea,
    totp_set_at      bigint,
    totp_last_step   bigint
);

CREATE TABLE signin_failures (
    key  text NOT NULL COLLATE "C",
    at   bigint NOT NULL
);
CREATE INDEX signin_failures_key ON signin_failures(key, at);
CREATE INDEX signin_failures_at ON signin_failures(at);

CREATE TABLE user_settings (
    user_id    uuid PRIMARY KEY REFERENCES users(id),
    locale     text,
    time_zone  text
);
