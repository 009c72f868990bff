//! The service's answers as the API's bodies. The bodies are `cordon_api`'s and the values
//! they are made from are the service's, the store's or the domain's, so `From` cannot join
//! them here (the orphan rule); [`FromService`] does, once per body, and [`IntoWire`] reads
//! like `Into` at the call.

use cordon_api::incidents::{
    AuditEntryOut, DecisionOut, GateOut, HeldTaskOut, IncidentOut, IncidentSummary, MemberOut, TaskKind, TaskOut,
};
use cordon_core::incident::{Decision, Incident, Membership};
use cordon_service::{HeldTask, IncidentDetails, TaskChange, TaskList, TaskView};

/// A wire body made from what the service answered.
pub(crate) trait FromService<T> {
    fn from_service(value: T) -> Self;
}

/// [`FromService`] the other way round, as `Into` is to `From`.
pub(crate) trait IntoWire<U> {
    fn into_wire(self) -> U;
}

impl<T, U: FromService<T>> IntoWire<U> for T {
    fn into_wire(self) -> U {
        U::from_service(self)
    }
}

/// Every item of a list as its wire body.
pub(crate) fn list<T, U: FromService<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(U::from_service).collect()
}

impl FromService<Membership> for MemberOut {
    fn from_service(m: Membership) -> Self {
        Self {
            user: m.user_name,
            role: m.role.as_str().to_owned(),
            started_at: m.started_at,
            ended_at: m.ended_at,
            active: m.ended_at.is_none(),
        }
    }
}

impl FromService<Decision> for DecisionOut {
    fn from_service(d: Decision) -> Self {
        Self {
            name: d.name,
            value: d.value,
            note: d.note,
            decided_by: d.decided_by_name,
            decided_at: d.decided_at,
        }
    }
}

impl FromService<&Incident> for IncidentSummary {
    fn from_service(i: &Incident) -> Self {
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

impl FromService<IncidentDetails> for IncidentOut {
    fn from_service(d: IncidentDetails) -> Self {
        Self {
            summary: IncidentSummary::from_service(&d.incident),
            description: d.incident.description,
            playbook: d.incident.playbook,
            members: list(d.members),
            teams: d.teams,
            decisions: list(d.decisions),
        }
    }
}

impl FromService<TaskView> for TaskOut {
    fn from_service(v: TaskView) -> Self {
        Self {
            id: v.task.id,
            handle: v.task.step.to_string(),
            step: v.task.step,
            kind: TaskKind::Checklist,
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
            progress: v.progress.map(IntoWire::into_wire),
            follow_ups: list(v.follow_ups),
            updated_at: v.task.updated_at,
        }
    }
}

impl FromService<cordon_service::registers::FollowUpView> for TaskOut {
    fn from_service(v: cordon_service::registers::FollowUpView) -> Self {
        let t = v.task;
        Self {
            id: t.id,
            handle: v.handle,
            step: t.parent_step,
            kind: TaskKind::FollowUp,
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

impl FromService<TaskChange> for TaskOut {
    fn from_service(c: TaskChange) -> Self {
        match c {
            TaskChange::Checklist(v) => (*v).into_wire(),
            TaskChange::FollowUp(v) => v.into_wire(),
        }
    }
}

/// The checklist in step order, then every follow-up task (each also listed under its step).
pub fn task_list(list: TaskList) -> Vec<TaskOut> {
    let views = list.checklist;
    let follow_ups: Vec<TaskOut> = views
        .iter()
        .flat_map(|v| v.follow_ups.iter().cloned().map(TaskOut::from_service))
        .chain(list.loose_follow_ups.into_iter().map(TaskOut::from_service))
        .collect();
    let mut out: Vec<TaskOut> = views.into_iter().map(TaskOut::from_service).collect();
    out.extend(follow_ups);
    out
}

impl FromService<HeldTask> for HeldTaskOut {
    fn from_service(h: HeldTask) -> Self {
        Self {
            incident: h.codename.to_string(),
            slug: h.codename.key(),
            incident_id: h.incident_id,
            on_team: h.on_team,
            task: h.task.into_wire(),
        }
    }
}

impl FromService<cordon_service::AuditEntry> for AuditEntryOut {
    fn from_service(e: cordon_service::AuditEntry) -> Self {
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
