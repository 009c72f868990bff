//! Request and response bodies of local accounts (password, TOTP), browser sessions and the
//! caller's settings. A password is only ever in a request; a TOTP secret only in the one
//! response that enrols it; a session's token never in any body.

use cordon_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// At least 12 characters, at most 1024 bytes. Kept as an argon2id hash.
    #[schema(min_length = 12)]
    pub password: String,
}

impl std::fmt::Debug for SetPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetPassword(..)")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordSetOut {
    pub user: String,
    /// Break-glass sign-in also needs TOTP (`POST …/totp`).
    pub totp_enrolled: bool,
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpOut {
    pub user: String,
    /// `otpauth://totp/Cordon:NAME?secret=…`: give it to the authenticator app. Shown once.
    pub uri: String,
    /// The secret in base32, for entering by hand.
    pub secret: String,
}

impl std::fmt::Debug for TotpOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpOut")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionOut {
    pub id: Uuid,
    pub user: String,
    /// `password` (a break-glass account) or `oidc`.
    pub method: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: Timestamp,
    /// When it ends unless used before (idle timeout), or its absolute end if sooner.
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request came with.
    pub current: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    pub end_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMe {
    /// `en` or `ja`; empty: as the browser prefers.
    pub locale: Option<String>,
    /// An IANA time zone (`Asia/Tokyo`); empty: UTC.
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SettingsOut {
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}
