//! Browser sessions (issue 15), kept in the database so every node honours them: a session
//! is named by its id when listed and revoked; its token lives only in the browser's cookie
//! and is stored as its SHA-256.
//!
//! The store keeps the facts (opened, last seen, absolute end, ended); whether a session is
//! still alive at an instant (idle and absolute timeouts) is the service's judgement.

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::user::User;
use uuid::Uuid;

use crate::{AuditDraft, Result};

/// A session to store: only the SHA-256 of its token is ever kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub id: Uuid,
    pub hash: [u8; 32],
    pub user_id: Uuid,
    /// How the user signed in: `password` or `oidc`.
    pub method: String,
    pub created_at: Timestamp,
    /// The absolute end, whatever the activity.
    pub expires_at: Timestamp,
    /// The client's address and user agent when it signed in (shown in the list).
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// A session as listed: everything but its token and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub method: String,
    pub created_at: Timestamp,
    /// Written at most about once a minute (see [`SessionStore::touch_session`]).
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub ended_at: Option<Timestamp>,
    /// `signed out`, `revoked by NAME`, `user disabled`.
    pub end_reason: Option<String>,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session with its audit entry (the sign-in), and removes, on the way,
    /// sessions whose absolute end is before `forget_before`.
    async fn open_session(&self, session: &NewSession, forget_before: Timestamp, audit: AuditDraft) -> Result<()>;
    /// The session with this token hash that has not been ended, and its user (timeouts and
    /// the user's being disabled are for the caller to judge, at its `now`).
    async fn session_by_hash(&self, hash: &[u8; 32]) -> Result<Option<(User, SessionRecord)>>;
    /// One session by id, ended or not.
    async fn session(&self, id: Uuid) -> Result<Option<SessionRecord>>;
    /// A user's sessions that have not been ended and whose absolute end is after `now`,
    /// newest first.
    async fn sessions_of(&self, user: Uuid, now: Timestamp) -> Result<Vec<SessionRecord>>;
    /// Every session not ended whose absolute end is after `now`, newest first, at most
    /// `limit` (admins' overview).
    async fn all_sessions(&self, now: Timestamp, limit: u32) -> Result<Vec<SessionRecord>>;
    /// Records activity at `at` (bookkeeping, not audited; never moves back).
    async fn touch_session(&self, id: Uuid, at: Timestamp) -> Result<()>;
    /// Ends one session that has not ended yet, with its audit entry; false (nothing written)
    /// when it had ended already or does not exist.
    async fn end_session(&self, id: Uuid, at: Timestamp, reason: &str, audit: AuditDraft) -> Result<bool>;
}
