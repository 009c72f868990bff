-- OIDC sign-in (issue 15).
--
-- An identity provider's subject is linked to one Cordon user by (issuer, subject) — never by
-- e-mail — when it first signs in; the user is created then.
CREATE TABLE oidc_subjects (
    issuer          TEXT NOT NULL COLLATE "C",
    subject         TEXT NOT NULL COLLATE "C",
    user_id         uuid NOT NULL REFERENCES users(id),
    linked_at       BIGINT NOT NULL,
    last_sign_in_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_subjects_user ON oidc_subjects(user_id);

-- Sign-ins under way, between the redirect to the provider and its redirect back: found by the
-- SHA-256 of their `state`, taken once (the DELETE that removes the row), short-lived. Any node
-- may receive the callback of a sign-in another node started.
CREATE TABLE oidc_pending (
    state_hash     bytea PRIMARY KEY,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    next           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX oidc_pending_expiry ON oidc_pending(expires_at);

-- Sign-in methods an admin switched off (or on again): read on every sign-in by every node.
CREATE TABLE sign_in_switches (
    method      TEXT PRIMARY KEY,
    enabled     BOOLEAN NOT NULL,
    changed_at  BIGINT NOT NULL,
    changed_by  TEXT NOT NULL
);
