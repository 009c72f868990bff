//! Wire types of OIDC sign-in's admin API (`/api/v1/auth/oidc`).

use cordon_core::Timestamp;
use cordon_service::oidc::OidcStatus;
use serde::Serialize;
use utoipa::ToSchema;

/// OIDC sign-in's state: configured, allowed by the configuration, the admin switch, and
/// whether sign-in with the provider works now.
#[derive(Debug, Serialize, ToSchema)]
pub struct OidcStatusOut {
    /// An issuer and client id are configured.
    pub configured: bool,
    pub issuer: Option<String>,
    /// `CORDON_OIDC_ENABLED` (false keeps sign-in off whatever the switch says).
    pub config_enabled: bool,
    /// The admin switch, on every node at once; on until an admin turns it off.
    pub switch_enabled: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub switch_changed_at: Option<Timestamp>,
    pub switch_changed_by: Option<String>,
    /// Sign-in with the provider works now.
    pub enabled: bool,
}

impl From<OidcStatus> for OidcStatusOut {
    fn from(s: OidcStatus) -> Self {
        Self {
            configured: s.configured,
            issuer: s.issuer,
            config_enabled: s.config_enabled,
            switch_enabled: s.switch.as_ref().is_none_or(|w| w.enabled),
            switch_changed_at: s.switch.as_ref().map(|w| w.changed_at),
            switch_changed_by: s.switch.map(|w| w.changed_by),
            enabled: s.enabled,
        }
    }
}
