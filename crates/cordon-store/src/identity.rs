//! Storage of identity and access (issue 12): API tokens that expire, are listed and revoked;
//! users who are disabled and enabled; chat identities (a Slack or Matrix account) linked to
//! at most one user each — the database's unique index on `(kind, external_id)` decides — and
//! the one-time codes that prove a chat account belongs to the user who asked for the code.
//!
//! Secrets are never stored: a token and a link code are kept as their SHA-256 only.

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::user::User;
use serde_json::Value;
use uuid::Uuid;

use crate::rows::Cols;
use crate::{AuditDraft, Result};

/// An API token as listed: everything but its secret and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    /// Recorded at most about once a minute per token (see [`IdentityStore::touch_token`]).
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl TokenRecord {
    /// Whether the token lets its holder in at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A chat account linked to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLink {
    pub id: Uuid,
    /// `slack` or `matrix`.
    pub kind: String,
    pub external_id: String,
    pub user_id: Uuid,
    /// Filled when read; ignored when linking.
    pub user_name: String,
    pub linked_at: Timestamp,
    /// Who linked it: the chat account that sent the code, or the admin.
    pub linked_by: String,
    /// `code`, `admin` or `migration`.
    pub via: String,
}

/// One user's claim on a chat account that several users claimed before chat identities
/// had to be proven. Such an account is linked to nobody until an admin (or the account's
/// own proof) links it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatClaim {
    pub kind: String,
    pub external_id: String,
    pub user_id: Uuid,
    pub user_name: String,
    /// When the user added the old contact method.
    pub claimed_at: Timestamp,
}

/// A one-time link code as stored: its hash, whose it is, and for which kind of account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCodeRow {
    pub hash: [u8; 32],
    pub user_id: Uuid,
    pub kind: String,
    /// When set, only this account may use the code.
    pub external_id: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What disabling a user ended, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Disabled {
    pub tokens: u64,
    pub chat_identities: u64,
    pub link_codes: u64,
    pub notifications: u64,
    /// Browser sessions ended (issue 15).
    pub sessions: u64,
}

impl Disabled {
    /// The audit payload of the disabling: `draft`'s JSON object with these counts added, so the
    /// entry records exactly what the transaction ended.
    pub(crate) fn into_audit(self, mut draft: AuditDraft) -> AuditDraft {
        let mut v: Value = serde_json::from_str(&draft.payload).unwrap_or_else(|_| Value::Object(Default::default()));
        if let Value::Object(m) = &mut v {
            m.insert("revoked_tokens".into(), self.tokens.into());
            m.insert("unlinked_chat_identities".into(), self.chat_identities.into());
            m.insert("dropped_link_codes".into(), self.link_codes.into());
            m.insert("cancelled_notifications".into(), self.notifications.into());
            m.insert("ended_sessions".into(), self.sessions.into());
        }
        draft.payload = v.to_string();
        draft
    }
}

/// The status a notification gets when its user is disabled before it was sent.
pub const CANCELLED: &str = "cancelled";

/// Tokens, disabling, chat identities and link codes. Part of [`crate::Store`].
#[async_trait]
pub trait IdentityStore: Send + Sync {
    // tokens
    /// The unrevoked token with this hash and its user (expiry and the user's being disabled
    /// are for the caller to judge, at its `now`).
    async fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<(User, TokenRecord)>>;
    /// A user's tokens, newest first, revoked and expired ones included.
    async fn tokens(&self, user: Uuid) -> Result<Vec<TokenRecord>>;
    /// Revokes one unrevoked token of `user`; false (and nothing written) when there is none.
    async fn revoke_token(&self, user: Uuid, id: Uuid, at: Timestamp, audit: AuditDraft) -> Result<bool>;
    /// Records that a token was used at `at` (bookkeeping, not audited; never moves back).
    async fn touch_token(&self, id: Uuid, at: Timestamp) -> Result<()>;

    // users
    /// Disables a user and, in the same transaction, ends everything that lets them act or be
    /// reached: every token is revoked, every chat identity unlinked, every pending link code
    /// dropped, every pending notification cancelled (status [`CANCELLED`]), every browser
    /// session ended. The counts are
    /// added to `audit`'s payload. `None` (nothing written) when the user is disabled already
    /// or does not exist.
    async fn disable_user(&self, user: Uuid, at: Timestamp, audit: AuditDraft) -> Result<Option<Disabled>>;
    /// Enables a disabled user (tokens and chat identities stay ended); false when not disabled.
    async fn enable_user(&self, user: Uuid, audit: AuditDraft) -> Result<bool>;

    // chat identities
    /// Links a chat account; [`crate::StoreError::Conflict`] `chat identity` when it is linked
    /// already (to anyone). Claims on the account left by the migration are settled.
    async fn link_chat_identity(&self, link: &ChatLink, audit: AuditDraft) -> Result<()>;
    /// The user a chat account is linked to.
    async fn user_by_chat_identity(&self, kind: &str, external_id: &str) -> Result<Option<User>>;
    /// The chat accounts linked to a user, oldest first.
    async fn chat_identities(&self, user: Uuid) -> Result<Vec<ChatLink>>;
    /// Unlinks one of a user's chat accounts; false when the user has no such link.
    async fn unlink_chat_identity(&self, user: Uuid, id: Uuid, audit: AuditDraft) -> Result<bool>;
    /// Chat accounts claimed by several users before proof was needed, linked to nobody yet,
    /// by kind, account and user.
    async fn chat_claims(&self) -> Result<Vec<ChatClaim>>;

    // link codes
    /// Stores a new code; the user's earlier codes of the same kind and every expired code
    /// (anyone's, as of `created_at`) are dropped first, so at most one code per user and kind
    /// is alive.
    async fn put_link_code(&self, code: &LinkCodeRow, audit: AuditDraft) -> Result<()>;
    /// The code with this hash, if stored (expired or not).
    async fn link_code(&self, hash: &[u8; 32]) -> Result<Option<LinkCodeRow>>;
    /// Uses a code once: drops it if it is still unexpired at `now`, links the account, and
    /// appends the audit entry, in one transaction. False (nothing written) when the code was
    /// used or expired meanwhile; [`crate::StoreError::Conflict`] `chat identity` (and the code
    /// kept) when the account is linked already.
    async fn redeem_link_code(
        &self,
        hash: &[u8; 32],
        link: &ChatLink,
        now: Timestamp,
        audit: AuditDraft,
    ) -> Result<bool>;
}

// ---------- rows ----------

pub(crate) fn token(r: &impl Cols) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.uuid("id")?,
        user_id: r.uuid("user_id")?,
        label: r.text("label")?,
        created_at: r.time("created_at")?,
        expires_at: r.opt_time("expires_at")?,
        last_used_at: r.opt_time("last_used_at")?,
        revoked_at: r.opt_time("revoked_at")?,
    })
}

pub(crate) fn chat_link(r: &impl Cols) -> Result<ChatLink> {
    Ok(ChatLink {
        id: r.uuid("id")?,
        kind: r.text("kind")?,
        external_id: r.text("external_id")?,
        user_id: r.uuid("user_id")?,
        user_name: r.text("user_name")?,
        linked_at: r.time("linked_at")?,
        linked_by: r.text("linked_by")?,
        via: r.text("via")?,
    })
}

pub(crate) fn chat_claim(r: &impl Cols) -> Result<ChatClaim> {
    Ok(ChatClaim {
        kind: r.text("kind")?,
        external_id: r.text("external_id")?,
        user_id: r.uuid("user_id")?,
        user_name: r.text("user_name")?,
        claimed_at: r.time("claimed_at")?,
    })
}

pub(crate) fn link_code(r: &impl Cols) -> Result<LinkCodeRow> {
    let hash: Vec<u8> = r.get("code_hash")?;
    Ok(LinkCodeRow {
        hash: hash
            .try_into()
            .map_err(|_| crate::StoreError::corrupt("link code hash is not 32 bytes"))?,
        user_id: r.uuid("user_id")?,
        kind: r.text("kind")?,
        external_id: r.opt_text("external_id")?,
        created_at: r.time("created_at")?,
        expires_at: r.time("expires_at")?,
    })
}
