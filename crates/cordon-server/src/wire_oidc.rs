//! OIDC sign-in's admin state as the API's body.

use cordon_api::oidc::OidcStatusOut;
use cordon_service::oidc::OidcStatus;

use crate::wire::FromService;

impl FromService<OidcStatus> for OidcStatusOut {
    fn from_service(s: OidcStatus) -> Self {
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
