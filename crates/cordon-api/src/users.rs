//! Users, API tokens and chat identities. Requests refuse unknown fields. Nothing here ever
//! carries a token's hash, and a secret (a token, a link code) only in the one response that
//! creates it.

use cordon_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub name: String,
    pub email: String,
    /// ASCII-armored OpenPGP public key.
    pub pgp_key: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserOut {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub groups: Vec<String>,
    pub admin: bool,
    pub has_pgp_key: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// A disabled user cannot sign in by any means and is never paged.
    pub disabled: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub label: Option<String>,
    /// An ISO 8601 duration (`P30D`, `PT12H`), one minute to 366 days; absent: until revoked.
    pub expires_in: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenOut {
    /// Shown once; only its hash is stored.
    pub token: String,
    /// How the token is listed and revoked.
    pub id: Uuid,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

/// A token as listed: never the secret, never its hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenInfoOut {
    pub id: Uuid,
    pub label: String,
    /// `active`, `expired` or `revoked`.
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Recorded at most once a minute.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

/// A disabled user, and what disabling ended.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DisabledOut {
    pub user: UserOut,
    pub revoked_tokens: u64,
    pub unlinked_chat_identities: u64,
    pub cancelled_notifications: u64,
    /// Browser sessions ended.
    pub ended_sessions: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestLinkCode {
    /// `slack` or `matrix`.
    pub kind: String,
    /// The account that may use the code (a Slack user id, `@user:server`); absent: whichever
    /// account sends it first.
    #[serde(alias = "external_id")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkCodeOut {
    /// Shown once; send it from the chat account within ten minutes.
    pub code: String,
    pub kind: String,
    /// The one account that may use it, when one was named.
    pub id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// What to type, and where.
    pub instructions: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkChatIdentity {
    /// `slack` or `matrix`.
    pub kind: String,
    /// The account: a Slack user id (`U024BE7LH`) or a Matrix user id (`@alice:example.org`).
    #[serde(alias = "external_id")]
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatIdentityOut {
    /// The link's id (for `DELETE`).
    pub id: Uuid,
    /// `slack` or `matrix`.
    pub kind: String,
    /// The account, as the chat system writes it.
    pub external_id: String,
    pub user: String,
    #[schema(value_type = String, format = DateTime)]
    pub linked_at: Timestamp,
    /// The chat account that sent the code, or the admin who linked it.
    pub linked_by: String,
    /// `code`, `admin` or `migration`.
    pub via: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimOut {
    pub user: String,
    #[schema(value_type = String, format = DateTime)]
    pub claimed_at: Timestamp,
}

/// A chat account several users claimed before proof was needed: linked to nobody until an
/// admin links it to its owner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatIdentityConflictOut {
    pub kind: String,
    pub external_id: String,
    pub claimed_by: Vec<ClaimOut>,
}
