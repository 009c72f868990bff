//! Request and response bodies of users, API tokens and chat identities. Unknown fields are
//! rejected. Nothing here ever carries a token's hash, and a secret (a token, a link code)
//! only in the one response that creates it.

use cordon_core::Timestamp;
use cordon_core::user::User;
use cordon_service::identity::{ChatIdentityConflict, IssuedLinkCode, LinkedChatIdentity};
use cordon_service::{Disabled, IssuedToken, TokenInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, ToSchema)]
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

#[derive(Debug, Serialize, ToSchema)]
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

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            name: u.name,
            email: u.email,
            groups: u.groups,
            admin: u.is_admin,
            has_pgp_key: u.pgp_key.is_some(),
            created_at: u.created_at,
            disabled: u.disabled_at.is_some(),
            disabled_at: u.disabled_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub label: Option<String>,
    /// An ISO 8601 duration (`P30D`, `PT12H`), one minute to 366 days; absent: until revoked.
    pub expires_in: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// Shown once; only its hash is stored.
    pub token: String,
    /// How the token is listed and revoked.
    pub id: Uuid,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

impl From<IssuedToken> for TokenOut {
    fn from(t: IssuedToken) -> Self {
        Self {
            token: t.token,
            id: t.id,
            expires_at: t.expires_at,
        }
    }
}

/// A token as listed: never the secret, never its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfoOut {
    pub id: Uuid,
    pub label: String,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
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

impl TokenInfoOut {
    pub fn new(t: TokenInfo, now: Timestamp) -> Self {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t.is_live(now) {
            "active"
        } else {
            "expired"
        };
        Self {
            id: t.id,
            label: t.label,
            state,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A disabled user, and what disabling ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisabledOut {
    pub user: UserOut,
    pub revoked_tokens: u64,
    pub unlinked_chat_identities: u64,
    pub cancelled_notifications: u64,
    /// Browser sessions ended.
    pub ended_sessions: u64,
}

impl DisabledOut {
    pub fn new(u: User, d: Disabled) -> Self {
        Self {
            user: u.into(),
            revoked_tokens: d.tokens,
            unlinked_chat_identities: d.chat_identities,
            cancelled_notifications: d.notifications,
            ended_sessions: d.sessions,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestLinkCode {
    /// `slack` or `matrix`.
    pub kind: String,
    /// The account that may use the code (a Slack user id, `@user:server`); absent: whichever
    /// account sends it first.
    #[serde(alias = "external_id")]
    pub id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
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

impl From<IssuedLinkCode> for LinkCodeOut {
    fn from(c: IssuedLinkCode) -> Self {
        let instructions = format!(
            "From your {} account, send `!ic link {}` in a direct message to the Cordon bot{}; the code works once, \
             until {}. Anyone who sees it can use it, so do not post it in a shared room.",
            c.kind.title(),
            c.code,
            if c.kind == cordon_core::identity::ChatKind::Slack {
                " (or type `/ic link CODE`)"
            } else {
                ""
            },
            c.expires_at
        );
        Self {
            code: c.code,
            kind: c.kind.as_str().to_owned(),
            id: c.account,
            expires_at: c.expires_at,
            instructions,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkChatIdentity {
    /// `slack` or `matrix`.
    pub kind: String,
    /// The account: a Slack user id (`U024BE7LH`) or a Matrix user id (`@alice:example.org`).
    #[serde(alias = "external_id")]
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
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

impl From<LinkedChatIdentity> for ChatIdentityOut {
    fn from(l: LinkedChatIdentity) -> Self {
        Self {
            id: l.id,
            kind: l.kind,
            external_id: l.external_id,
            user: l.user_name,
            linked_at: l.linked_at,
            linked_by: l.linked_by,
            via: l.via,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimOut {
    pub user: String,
    #[schema(value_type = String, format = DateTime)]
    pub claimed_at: Timestamp,
}

/// A chat account several users claimed before proof was needed: linked to nobody until an
/// admin links it to its owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatIdentityConflictOut {
    pub kind: String,
    pub external_id: String,
    pub claimed_by: Vec<ClaimOut>,
}

impl From<ChatIdentityConflict> for ChatIdentityConflictOut {
    fn from(c: ChatIdentityConflict) -> Self {
        Self {
            kind: c.kind,
            external_id: c.external_id,
            claimed_by: c
                .claimed_by
                .into_iter()
                .map(|(user, claimed_at)| ClaimOut { user, claimed_at })
                .collect(),
        }
    }
}
