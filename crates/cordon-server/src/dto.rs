//! Request and response bodies: the wire format, and conversions from domain types.
//!
//! Request bodies reject unknown fields; enums are the domain's own types, read in any spelling
//! `cordon_core::names` accepts and answered as in CONTRACT.md.

use cordon_core::DomainError;
use cordon_core::Timestamp;
use cordon_core::incident::{Decision, Incident, IncidentKind, Membership, Severity, Status};
use cordon_core::names::Named;
use cordon_core::task::TaskStatus;
use cordon_service::{HeldTask, IncidentDetails, TaskChange, TaskList, TaskView};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

// ---------- enums ----------

/// Reads one of the domain's named values (kinds, severities, statuses) in any spelling
/// `cordon_core::names` accepts (`in-progress`, `In_Progress`); a value that names nothing is
/// refused with the allowed ones, which `ApiJson` puts after the field's name.
pub(crate) fn named<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Named,
{
    let raw = String::deserialize(d)?;
    T::parse_name(&raw).map_err(named_error)
}

/// [`named`] for an optional field (with `#[serde(default)]`).
pub(crate) fn named_opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Named,
{
    Option::<String>::deserialize(d)?
        .map(|raw| T::parse_name(&raw).map_err(named_error))
        .transpose()
}

fn named_error<E: serde::de::Error>(e: DomainError) -> E {
    match e {
        DomainError::Invalid { message, .. } => E::custom(message),
        other => E::custom(other),
    }
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

// ---------- requests ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareIncident {
    pub title: String,
    pub description: Option<String>,
    /// `security` or `operational`.
    #[serde(deserialize_with = "named")]
    #[schema(value_type = String)]
    pub kind: IncidentKind,
    /// `SEV-1` (worst) to `SEV-5`.
    #[serde(deserialize_with = "named")]
    #[schema(value_type = String)]
    pub severity: Severity,
    /// Binds the incident to a chat room: its war room.
    pub room: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchIncident {
    /// A move the status machine allows from the current status; a refused one answers 409
    /// `illegal_transition` with the moves allowed (`allowed`).
    #[serde(default, deserialize_with = "named_opt")]
    #[schema(value_type = Option<String>)]
    pub status: Option<Status>,
    #[serde(default, deserialize_with = "named_opt")]
    #[schema(value_type = Option<String>)]
    pub severity: Option<Severity>,
    pub title: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    pub user: String,
    /// e.g. `incident_commander`, `scribe`, `legal`.
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTask {
    #[serde(default, deserialize_with = "named_opt")]
    #[schema(value_type = Option<String>)]
    pub status: Option<TaskStatus>,
    /// A user name, or `null` to unassign.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
    /// The incident commander's reason for moving the task past an unmet gate.
    pub override_reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    pub user: String,
    pub role: String,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    pub active: bool,
}

impl From<Membership> for MemberOut {
    fn from(m: Membership) -> Self {
        Self {
            user: m.user_name,
            role: m.role.as_str().to_owned(),
            started_at: m.started_at,
            ended_at: m.ended_at,
            active: m.ended_at.is_none(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    pub name: String,
    pub value: bool,
    pub note: String,
    pub decided_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub decided_at: Timestamp,
}

impl From<Decision> for DecisionOut {
    fn from(d: Decision) -> Self {
        Self {
            name: d.name,
            value: d.value,
            note: d.note,
            decided_by: d.decided_by_name,
            decided_at: d.decided_at,
        }
    }
}

/// An incident in a list.
#[derive(Debug, Serialize, ToSchema)]
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

impl From<&Incident> for IncidentSummary {
    fn from(i: &Incident) -> Self {
        Self {
            id: i.id,
            codename: i.codename.to_string(),
            slug: i.codename.key(),
            kind: i.kind.as_str().to_owned(),
            severity: i.severity.to_string(),
            status: i.status.as_str().to_owned(),
            sealed: i.sealed,
            title: i.title.clone(),
            room: i.room.clone(),
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// One incident with its team.
#[derive(Debug, Serialize, ToSchema)]
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

impl From<IncidentDetails> for IncidentOut {
    fn from(d: IncidentDetails) -> Self {
        Self {
            summary: IncidentSummary::from(&d.incident),
            description: d.incident.description,
            playbook: d.incident.playbook,
            members: d.members.into_iter().map(Into::into).collect(),
            teams: d.teams,
            decisions: d.decisions.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GateOut {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    pub id: Uuid,
    /// What `PATCH …/tasks/{id}` takes in place of the id: the step number of a checklist
    /// task (`9`), `STEP.N` for a follow-up task (`9.1`: the first one under step 9).
    pub handle: String,
    /// The playbook step; for a follow-up, the step it belongs under.
    pub step: u32,
    /// `checklist` (a playbook step) or `follow_up` (created by the registers, e.g. a rotation).
    pub kind: &'static str,
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
    pub progress: Option<crate::routes_registers::ProgressOut>,
    /// Tasks the registers created under this step (rotating compromised credentials).
    pub follow_ups: Vec<crate::routes_registers::FollowUpOut>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<TaskView> for TaskOut {
    fn from(v: TaskView) -> Self {
        Self {
            id: v.task.id,
            handle: v.task.step.to_string(),
            step: v.task.step,
            kind: "checklist",
            key: v.task.key,
            title: v.task.title,
            description: v.description,
            status: v.task.status.as_str().to_owned(),
            owner_role: Some(v.task.owner_role.as_str().to_owned()),
            assignee: v.assignee_name,
            blocked_by: v.blocked_by.iter().map(|g| g.name.clone()).collect(),
            unmet_gates: v
                .blocked_by
                .into_iter()
                .map(|g| GateOut {
                    name: g.name,
                    description: g.description,
                })
                .collect(),
            check_items: v.task.check_items,
            override_reason: v.task.override_reason,
            activity: v.activity,
            progress: v.progress.map(Into::into),
            follow_ups: v.follow_ups.into_iter().map(Into::into).collect(),
            updated_at: v.task.updated_at,
        }
    }
}

impl From<cordon_service::registers::FollowUpView> for TaskOut {
    fn from(v: cordon_service::registers::FollowUpView) -> Self {
        let t = v.task;
        Self {
            id: t.id,
            handle: v.handle,
            step: t.parent_step,
            kind: "follow_up",
            key: t.key,
            title: t.title,
            description: String::new(),
            status: t.status.as_str().to_owned(),
            owner_role: t.owner_role.map(|r| r.as_str().to_owned()),
            assignee: v.assignee_name,
            blocked_by: Vec::new(),
            unmet_gates: Vec::new(),
            check_items: Vec::new(),
            override_reason: None,
            activity: Vec::new(),
            progress: None,
            follow_ups: Vec::new(),
            updated_at: t.updated_at,
        }
    }
}

impl From<TaskChange> for TaskOut {
    fn from(c: TaskChange) -> Self {
        match c {
            TaskChange::Checklist(v) => (*v).into(),
            TaskChange::FollowUp(v) => v.into(),
        }
    }
}

/// The checklist in step order, then every follow-up task (each also listed under its step).
pub fn task_list(list: TaskList) -> Vec<TaskOut> {
    let views = list.checklist;
    let follow_ups: Vec<TaskOut> = views
        .iter()
        .flat_map(|v| v.follow_ups.iter().cloned().map(TaskOut::from))
        .chain(list.loose_follow_ups.into_iter().map(TaskOut::from))
        .collect();
    let mut out: Vec<TaskOut> = views.into_iter().map(Into::into).collect();
    out.extend(follow_ups);
    out
}

/// A task the caller holds, on any incident.
#[derive(Debug, Serialize, ToSchema)]
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

impl From<HeldTask> for HeldTaskOut {
    fn from(h: HeldTask) -> Self {
        Self {
            incident: h.codename.to_string(),
            slug: h.codename.key(),
            incident_id: h.incident_id,
            on_team: h.on_team,
            task: h.task.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerifyOut {
    pub ok: bool,
    pub entries: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_entry: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
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

#[derive(Debug, Serialize, ToSchema)]
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

impl From<cordon_service::AuditEntry> for AuditEntryOut {
    fn from(e: cordon_service::AuditEntry) -> Self {
        Self {
            seq: e.record.seq,
            at: cordon_core::clock::from_micros(e.record.at_micros),
            actor: e.record.actor,
            action: e.record.action,
            subject: e.record.subject,
            payload: serde_json::from_str(&e.record.payload).unwrap_or(serde_json::Value::String(e.record.payload)),
            hash: e.hash.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}
