//! OIDC sign-in's storage: which user an identity provider's subject is (linked by issuer and
//! subject, never by e-mail), the sign-ins under way between the redirect to the provider and
//! its redirect back (taken once, short-lived, so any node may finish what another started), and
//! the switch an admin turns a sign-in method off with (read by every node on every sign-in).

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::user::User;
use uuid::Uuid;

use crate::{AuditDraft, Result};

/// The most expired sign-ins removed by one [`OidcStore::put_oidc_pending`].
pub const EXPIRED_PENDING_PER_CALL: i64 = 1000;

/// A subject of an identity provider, linked to a Cordon user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcLink {
    pub issuer: String,
    pub subject: String,
    pub user_id: Uuid,
    pub linked_at: Timestamp,
    pub last_sign_in_at: Timestamp,
}

/// A sign-in under way: what the callback needs to finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcPending {
    /// SHA-256 of the `state` sent to the provider (the state itself is not stored).
    pub state_hash: [u8; 32],
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where the browser goes once signed in (a local path).
    pub next: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A sign-in method's switch, as an admin last set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInSwitch {
    pub method: String,
    pub enabled: bool,
    pub changed_at: Timestamp,
    pub changed_by: String,
}

#[async_trait]
pub trait OidcStore: Send + Sync {
    /// The link of `(issuer, subject)`, if that subject signed in before.
    async fn oidc_link(&self, issuer: &str, subject: &str) -> Result<Option<OidcLink>>;
    /// Creates `user` (with its groups) and links `link` to it, with `audit`, in one
    /// transaction. [`crate::StoreError::Conflict`] `user` when the name is taken,
    /// `oidc subject` when the subject is linked already (another node was first).
    async fn create_oidc_user(&self, user: &User, link: &OidcLink, audit: AuditDraft) -> Result<()>;
    /// Records a sign-in of a linked subject; when `groups` is given, the user's groups become
    /// exactly those (sorted, without duplicates), in the same transaction as `audit`.
    async fn record_oidc_sign_in(
        &self,
        issuer: &str,
        subject: &str,
        at: Timestamp,
        groups: Option<&[String]>,
        audit: Option<AuditDraft>,
    ) -> Result<()>;

    /// Stores a sign-in under way; removes some expired ones on the way. Not audited.
    async fn put_oidc_pending(&self, pending: &OidcPending, now: Timestamp) -> Result<()>;
    /// Takes the sign-in whose state hashes to `state_hash`: it is removed whatever its age (a
    /// second call finds nothing); `None` also when it expired at `now`.
    async fn take_oidc_pending(&self, state_hash: &[u8; 32], now: Timestamp) -> Result<Option<OidcPending>>;

    /// A method's switch, if an admin ever set it.
    async fn sign_in_switch(&self, method: &str) -> Result<Option<SignInSwitch>>;
    /// Sets a method's switch with `audit`; false (and nothing written) when it already was so.
    async fn set_sign_in_switch(&self, switch: &SignInSwitch, audit: AuditDraft) -> Result<bool>;
}
