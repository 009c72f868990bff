//! Browser sessions, TOTP enrolments and the caller's settings as the API's bodies. A
//! session's token never becomes one; a TOTP secret only the one answer that enrols it.

use cordon_api::sessions::{SessionOut, SettingsOut, TotpOut};
use cordon_service::{SessionInfo, TotpEnrolment, UserSettings};
use uuid::Uuid;

use crate::wire::FromService;

impl FromService<(String, TotpEnrolment)> for TotpOut {
    fn from_service((user, e): (String, TotpEnrolment)) -> Self {
        Self {
            user,
            uri: e.uri,
            secret: e.secret,
        }
    }
}

/// A session as listed to a caller whose own session (if the request came with one) is `current`.
impl FromService<(SessionInfo, Option<Uuid>)> for SessionOut {
    fn from_service((s, current): (SessionInfo, Option<Uuid>)) -> Self {
        let r = s.record;
        Self {
            current: current == Some(r.id),
            id: r.id,
            user: s.user,
            method: r.method,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            ends_at: s.ends_at,
            expires_at: r.expires_at,
            address: r.address,
            user_agent: r.user_agent,
            ended_at: r.ended_at,
            end_reason: r.end_reason,
        }
    }
}

impl FromService<UserSettings> for SettingsOut {
    fn from_service(s: UserSettings) -> Self {
        Self {
            locale: s.locale,
            time_zone: s.time_zone,
        }
    }
}
