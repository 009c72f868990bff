//! Paging: pages and who they reached, whether pages can reach anyone, on-call schedules and
//! escalation policies (the paging domain's own specs, taken and answered as they are), users'
//! contact methods, and the generic chat command endpoint with its rooms.

use cordon_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The bodies of `POST /api/v1/oncall/schedules` and `…/escalation-policies`, and what they and
/// the lists answer: the specs the paging domain validates.
pub use cordon_notify::{
    EscalationPolicySpec, LayerSpec, LevelSpec, OverrideSpec, RestrictionSpec, ScheduleSpec, Target,
};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationOut {
    pub user: String,
    pub channel: String,
    pub level: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub delivered: bool,
    /// `pending`, `delivered`, `failed`, `refused`.
    pub status: String,
    pub attempts: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageOut {
    pub id: Uuid,
    /// `triggered`, `acknowledged`, `resolved`.
    pub status: String,
    /// The incident's codename (never its title).
    pub incident: Option<String>,
    pub incident_id: Option<Uuid>,
    pub policy: String,
    pub level: u32,
    pub round: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_escalation_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub triggered_at: Timestamp,
    /// The role an acknowledging recipient is granted.
    pub role: Option<String>,
    /// `true` when the caller is a recipient outside the incident's team: only their own
    /// notifications are shown.
    pub restricted: bool,
    pub notifications: Vec<NotificationOut>,
    pub unreached: Vec<String>,
    /// Why the page was raised (what was seen, who asked); absent in a recipient's
    /// restricted view.
    pub reason: Option<String>,
    /// Each recipient once: reached, still being tried, or not reached and why.
    pub reach: Vec<ReachOut>,
    /// `true` when nobody was reached and nobody is still being tried.
    pub reached_nobody: bool,
    /// Who was reached and who could not be, and why, in one line.
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReachOut {
    pub user: String,
    /// The first level that named them.
    pub level: i64,
    /// `reached`, `trying`, `not_reached`.
    pub outcome: String,
    /// The channels that delivered (`reached`) or are being tried (`trying`).
    pub channels: Vec<String>,
    /// Why not, per contact method (`not_reached`).
    pub why: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChannelOut {
    /// `email`, `sms`, `matrix`, `webhook`.
    pub channel: String,
    pub ready: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReadinessOut {
    /// `true` when there is nothing to warn about.
    pub ok: bool,
    pub channels: Vec<ChannelOut>,
    /// What keeps pages from reaching people: no channel, no policy, on-call people without
    /// a contact that can deliver.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerPage {
    /// An escalation policy (default `incident-commander`).
    pub policy: Option<String>,
    /// Or one person.
    pub user: Option<String>,
    /// The role an acknowledging recipient is granted (a person or a policy other than
    /// `incident-commander`; default `subject_matter_expert`).
    pub role: Option<String>,
    /// Why: one line of at most 500 characters, shown to the team in the page (never in a
    /// notice). Without one the page records who paged.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddContact {
    /// `email`, `webhook`, `sms`, `matrix` (a room id), `slack_user`, `matrix_user`.
    pub kind: String,
    pub address: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContactOut {
    pub kind: String,
    pub address: String,
    /// A webhook's own signing secret (`whsec_…`): only in the answer that created or
    /// rotated it, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// The webhook contact's URL, as added.
    pub address: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatCommandIn {
    pub room: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChatCommandOut {
    /// For the caller alone.
    pub reply: String,
    /// What the whole room may read (codename, severity, status, link), when the command
    /// concerns the room's incident.
    pub room_message: Option<String>,
    /// The codename of the room's incident.
    pub incident: Option<String>,
    pub page: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatRoom {
    /// `true`: replies about the room's incident go to the whole room while Cordon can check
    /// that every member is on the incident's team (Matrix membership); otherwise (and
    /// always when unchecked) the room gets only the incident's notice.
    pub team_only: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OnCallOut {
    pub schedule: String,
    pub user: Option<String>,
}

/// The answer of a test notice that was delivered (one that was not is a problem).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivered {
    pub delivered: bool,
}

// ---------- query parameters ----------

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageListQuery {
    /// `triggered`, `acknowledged` or `resolved` (blank: every status).
    pub status: Option<String>,
    /// Only the pages of this incident (its id or codename).
    pub incident: Option<String>,
}
