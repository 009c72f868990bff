//! Incidents, their team and decisions, the gated checklist (tasks and the tasks a caller
//! holds), the audit log and the health check.

use cordon_core::Timestamp;
use cordon_core::incident::{IncidentKind, Severity, Status};
use cordon_core::task::TaskStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

// ---------- requests ----------

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareIncident {
    pub title: String,
    pub description: Option<String>,
    /// `security` or `operational`.
    #[serde(with = "crate::fields::named")]
    #[schema(value_type = String)]
    pub kind: IncidentKind,
    /// `SEV-1` (worst) to `SEV-5`.
    #[serde(with = "crate::fields::named")]
    #[schema(value_type = String)]
    pub severity: Severity,
    /// Binds the incident to a chat room: its war room.
    pub room: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchIncident {
    /// A move the status machine allows from the current status; a refused one answers 409
    /// `illegal_transition` with the moves allowed (`allowed`).
    #[serde(default, with = "crate::fields::named_opt")]
    #[schema(value_type = Option<String>)]
    pub status: Option<Status>,
    #[serde(default, with = "crate::fields::named_opt")]
    #[schema(value_type = Option<String>)]
    pub severity: Option<Severity>,
    pub title: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    pub user: String,
    /// e.g. `incident_commander`, `scribe`, `legal`.
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTask {
    #[serde(default, with = "crate::fields::named_opt")]
    #[schema(value_type = Option<String>)]
    pub status: Option<TaskStatus>,
    /// A user name, or `null` to unassign.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::fields::double_option"
    )]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
    /// The incident commander's reason for moving the task past an unmet gate.
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDecision {
    /// e.g. `insider_threat_ruled_out`.
    pub name: String,
    #[serde(default = "yes")]
    pub value: bool,
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

// ---------- responses ----------

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberOut {
    pub user: String,
    pub role: String,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionOut {
    pub name: String,
    pub value: bool,
    pub note: String,
    pub decided_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub decided_at: Timestamp,
}

/// An incident in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentSummary {
    pub id: Uuid,
    /// e.g. `Sapphire Unicorn`.
    pub codename: String,
    /// The codename as used in URLs: `sapphire-unicorn`.
    pub slug: String,
    pub kind: String,
    pub severity: String,
    pub status: String,
    pub sealed: bool,
    pub title: String,
    pub room: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// One incident with its team.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentOut {
    #[serde(flatten)]
    pub summary: IncidentSummary,
    pub description: String,
    pub playbook: String,
    pub members: Vec<MemberOut>,
    /// Groups always on the response team.
    pub teams: Vec<String>,
    pub decisions: Vec<DecisionOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GateOut {
    pub name: String,
    pub description: String,
}

/// What a task is: a playbook step, or work the registers created under one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Checklist,
    FollowUp,
}

impl TaskKind {
    /// The name it is written as.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Checklist => "checklist",
            Self::FollowUp => "follow_up",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskOut {
    pub id: Uuid,
    /// What `PATCH …/tasks/{id}` takes in place of the id: the step number of a checklist
    /// task (`9`), `STEP.N` for a follow-up task (`9.1`: the first one under step 9).
    pub handle: String,
    /// The playbook step; for a follow-up, the step it belongs under.
    pub step: u32,
    /// `checklist` (a playbook step) or `follow_up` (created by the registers, e.g. a rotation).
    #[schema(value_type = String)]
    pub kind: TaskKind,
    pub key: String,
    pub title: String,
    pub description: String,
    pub status: String,
    /// The role the task falls to; a follow-up owned by a person has none.
    pub owner_role: Option<String>,
    pub assignee: Option<String>,
    /// Names of unmet gates.
    pub blocked_by: Vec<String>,
    pub unmet_gates: Vec<GateOut>,
    pub check_items: Vec<String>,
    pub override_reason: Option<String>,
    /// e.g. on "assemble the response team": who was paged and who answered.
    pub activity: Vec<String>,
    /// On "isolate affected instances": progress from the asset register.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<crate::registers::ProgressOut>,
    /// Tasks the registers created under this step (rotating compromised credentials).
    pub follow_ups: Vec<crate::registers::FollowUpOut>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A task the caller holds, on any incident.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeldTaskOut {
    /// The incident's codename.
    pub incident: String,
    /// The codename as used in URLs: `sapphire-unicorn`.
    pub slug: String,
    pub incident_id: Uuid,
    /// Whether the caller is on the incident's team; an assignee from outside it sees only
    /// their own tasks there.
    pub on_team: bool,
    pub task: TaskOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditVerifyOut {
    pub ok: bool,
    pub entries: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_entry: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryOut {
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Hex SHA-256 of this entry, chained to the previous one.
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_kind_is_written_as_its_name() {
        for kind in [TaskKind::Checklist, TaskKind::FollowUp] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}

// ---------- query parameters ----------

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries with a sequence number above this.
    #[serde(default)]
    pub after: i64,
    /// At most this many (default 1000, at most 10000).
    pub limit: Option<u32>,
    /// Only this actor (`admin`, `system`, a user name).
    pub actor: Option<String>,
    /// Only this action or family: `incident` keeps `incident.update`, `member` keeps
    /// `member.add` and `member.remove.refused`.
    pub action: Option<String>,
    /// Only this subject, e.g. `incident:{id}`.
    pub subject: Option<String>,
    /// Only entries at or after this instant (RFC 3339).
    pub since: Option<String>,
    /// Only entries before this instant (RFC 3339).
    pub until: Option<String>,
}
