//! Wire types of OIDC sign-in's admin API (`/api/v1/auth/oidc`).

use cordon_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// OIDC sign-in's state: configured, allowed by the configuration, the admin switch, and
/// whether sign-in with the provider works now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
