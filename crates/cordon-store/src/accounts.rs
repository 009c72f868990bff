//! Local (break-glass) accounts and per-user settings (issue 15): a password kept as an
//! argon2id PHC string, a TOTP secret kept sealed (the service seals and opens it; the store
//! never sees it in clear), the last TOTP time step accepted (so a code is used once, on every
//! node), failed sign-ins counted per key for rate limiting, and each user's language and
//! time zone for the web UI.

use async_trait::async_trait;
use cordon_core::Timestamp;
use uuid::Uuid;

use crate::{AuditDraft, Result};

/// A user's local credentials. Either part may be missing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalCredential {
    /// argon2id PHC string (`$argon2id$v=19$…`).
    pub password_hash: Option<String>,
    pub password_set_at: Option<Timestamp>,
    /// The TOTP secret, sealed by the service.
    pub totp_sealed: Option<Vec<u8>>,
    pub totp_set_at: Option<Timestamp>,
    /// The last time step a code was accepted for.
    pub totp_last_step: Option<i64>,
}

/// A user's settings for the web UI; `None`: not chosen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserSettings {
    /// `en` or `ja`.
    pub locale: Option<String>,
    /// An IANA time zone name.
    pub time_zone: Option<String>,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The user's local credentials, if any were ever set.
    async fn local_credential(&self, user: Uuid) -> Result<Option<LocalCredential>>;
    /// Sets (or replaces) the user's password hash, with its audit entry.
    async fn set_password_hash(&self, user: Uuid, hash: &str, at: Timestamp, audit: AuditDraft) -> Result<()>;
    /// Sets (or replaces) the user's sealed TOTP secret, with its audit entry; the last step
    /// accepted is forgotten.
    async fn set_totp(&self, user: Uuid, sealed: &[u8], at: Timestamp, audit: AuditDraft) -> Result<()>;
    /// Takes TOTP time step `step` for the user: true when it is later than every step taken
    /// before (a conditional update, so one code is accepted once across nodes).
    async fn take_totp_step(&self, user: Uuid, step: i64) -> Result<bool>;

    /// Records one failed sign-in under each of `keys` at `at`, with its audit entry (the
    /// refusal), and removes failures older than `forget_before`.
    async fn record_signin_failure(
        &self,
        keys: &[String],
        at: Timestamp,
        forget_before: Timestamp,
        audit: AuditDraft,
    ) -> Result<()>;
    /// Failures recorded under `key` at or after `since`.
    async fn signin_failures(&self, key: &str, since: Timestamp) -> Result<u64>;
    /// Forgets the failures recorded under `key` (after a successful sign-in).
    async fn clear_signin_failures(&self, key: &str) -> Result<()>;

    /// The user's settings (all `None` when never set).
    async fn user_settings(&self, user: Uuid) -> Result<UserSettings>;
    /// Replaces the user's settings, with its audit entry.
    async fn set_user_settings(&self, user: Uuid, settings: &UserSettings, audit: AuditDraft) -> Result<()>;
}
