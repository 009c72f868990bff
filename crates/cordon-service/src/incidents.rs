//! Declaring, finding, listing and steering incidents, and their response team.

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::codename::Codename;
use cordon_core::incident::{
    Decision, Incident, IncidentKind, Membership, Severity, Status, validate_description, validate_title,
};
use cordon_core::role::Role;
use cordon_core::task::{Task, TaskStatus};
use cordon_store::{IncidentQuery, ListedIncident, NewIncident, StoreError, Viewer};
use serde_json::json;
use uuid::Uuid;

use crate::audit::draft;
use crate::{Cordon, Result, ServiceError, random};

/// How many codenames to draw before giving up on finding a free one.
const CODENAME_ATTEMPTS: usize = 32;
/// The most incidents one page of the list holds.
pub const LIST_LIMIT: u32 = 1000;

/// A time-ordered id minted at `now`.
pub(crate) fn new_id(now: Timestamp) -> Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        now.as_second().max(0) as u64,
        now.subsec_nanosecond().max(0) as u32,
    );
    Uuid::new_v7(ts)
}

/// What a caller declares.
#[derive(Debug, Clone)]
pub struct Declare {
    pub title: String,
    pub description: Option<String>,
    pub kind: IncidentKind,
    pub severity: Severity,
    /// The chat room that becomes the incident's war room.
    pub room: Option<String>,
}

/// A change to an incident's own fields.
#[derive(Debug, Clone, Default)]
pub struct IncidentPatch {
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    pub title: Option<String>,
    pub description: Option<String>,
}

/// An incident with its team, as its viewers see it.
#[derive(Debug, Clone)]
pub struct IncidentDetails {
    pub incident: Incident,
    pub members: Vec<Membership>,
    /// Groups always on the team (the security team for security incidents).
    pub teams: Vec<String>,
    pub decisions: Vec<Decision>,
}

impl Cordon {
    /// Declares an incident: codename, sealing, the whole checklist and the reporter's
    /// membership, in one transaction with its audit entry.
    pub async fn declare(&self, p: &Principal, d: Declare) -> Result<IncidentDetails> {
        let title = validate_title(&d.title)?;
        let description = validate_description(d.description.as_deref().unwrap_or(""))?;
        let room = d.room.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        if room.as_ref().is_some_and(|r| r.chars().count() > 255) {
            return Err(ServiceError::invalid("room", "longer than 255 characters"));
        }
        if let Some(r) = &room {
            cordon_core::text::check_line("room", r)?;
        }
        let playbook = self.playbooks.for_kind(d.kind);
        let now = self.clock.now();
        let id = new_id(now);
        let tasks: Vec<Task> = playbook
            .steps
            .iter()
            .map(|s| Task {
                id: new_id(now),
                incident_id: id,
                step: s.step,
                key: s.key.clone(),
                title: s.title.clone(),
                status: TaskStatus::Todo,
                owner_role: s.owner_role,
                assignee: None,
                check_items: s.check_items.clone(),
                override_reason: None,
                updated_at: now,
            })
            .collect();
        let reporter = Membership {
            id: new_id(now),
            incident_id: id,
            user_id: p.user_id,
            user_name: p.name.clone(),
            role: Role::Reporter,
            started_at: now,
            ended_at: None,
        };
        for _ in 0..CODENAME_ATTEMPTS {
            let incident = Incident {
                id,
                codename: Codename::draw(random::index),
                kind: d.kind,
                severity: d.severity,
                status: Status::Triage,
                sealed: d.kind.sealed_from_creation(),
                title: title.clone(),
                description: description.clone(),
                room: room.clone(),
                playbook: playbook.name.clone(),
                created_by: p.user_id,
                created_at: now,
                updated_at: now,
            };
            let payload = json!({
                "codename": incident.codename.key(),
                "kind": incident.kind.as_str(),
                "severity": incident.severity.to_string(),
                "sealed": incident.sealed,
                "title": incident.title,
                "room": incident.room,
                "playbook": incident.playbook,
                "tasks": tasks.len(),
            });
            let new = NewIncident {
                incident,
                tasks: tasks.clone(),
                members: vec![reporter.clone()],
            };
            let audit = draft(now, &p.name, "incident.declare", format!("incident:{id}"), payload);
            match self.store.create_incident(&new, audit).await {
                Ok(()) => {
                    return Ok(IncidentDetails {
                        incident: new.incident,
                        members: new.members,
                        teams: playbook.always_involved.clone(),
                        decisions: Vec::new(),
                    });
                }
                Err(StoreError::Conflict("codename")) => continue,
                Err(StoreError::Conflict("room")) => {
                    return Err(ServiceError::Conflict(
                        "an open incident is already bound to this room".into(),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Conflict(
            "no free codename found; close some incidents".into(),
        ))
    }

    /// The incidents the caller may see that `query` matches, newest first (by creation, then
    /// id), each with its incident commander: at most `limit` (capped at [`LIST_LIMIT`] + 1, so
    /// a page of [`LIST_LIMIT`] can tell whether more follow), after the `(created_at, id)` of
    /// the last one of the page before.
    pub async fn list_incidents(
        &self,
        p: &Principal,
        query: IncidentQuery,
        limit: u32,
        after: Option<(Timestamp, Uuid)>,
    ) -> Result<Vec<ListedIncident>> {
        let viewer = Viewer {
            user_id: p.user_id,
            sees_all: p.sees_all_incidents(),
        };
        Ok(self
            .store
            .list_incidents(viewer, query, limit.clamp(1, LIST_LIMIT + 1), after)
            .await?)
    }

    /// One incident with its team.
    pub async fn incident(&self, p: &Principal, raw_ref: &str) -> Result<IncidentDetails> {
        // The hot path: one round trip for the incident, the caller's roles, team and decisions.
        let v = self.gate_view(p, raw_ref).await?;
        let incident = v.access.incident().clone();
        let teams = self
            .playbooks
            .by_name(&incident.playbook)
            .map(|pb| pb.always_involved.clone())
            .unwrap_or_default();
        Ok(IncidentDetails {
            incident,
            members: v.members,
            teams,
            decisions: v.decisions,
        })
    }

    async fn details(&self, incident: Incident) -> Result<IncidentDetails> {
        let members = self.store.memberships(incident.id).await?;
        let decisions = self.store.decisions(incident.id).await?;
        let teams = self
            .playbooks
            .by_name(&incident.playbook)
            .map(|pb| pb.always_involved.clone())
            .unwrap_or_default();
        Ok(IncidentDetails {
            incident,
            members,
            teams,
            decisions,
        })
    }

    /// Changes status, severity, title or description. Closing a false alarm
    /// (`not_an_incident`) is the incident commander's call alone.
    pub async fn update_incident(&self, p: &Principal, raw_ref: &str, patch: IncidentPatch) -> Result<IncidentDetails> {
        let mut a = self
            .gate_command(
                p,
                raw_ref,
                "incident.update",
                "only the incident's command staff may change it",
            )
            .await?;
        let commander = a.holds(Role::IncidentCommander);
        let mut changes = serde_json::Map::new();
        if let Some(to) = patch.status
            && to != a.incident().status
        {
            if to == Status::NotAnIncident && !commander {
                let e = ServiceError::Forbidden("only the incident commander may close a false alarm".into());
                return Err(self.refuse_on(&a, "incident.update", e).await);
            }
            if let Err(e) = a.incident().status.transition(to) {
                return Err(self.refuse_on(&a, "incident.update", e.into()).await);
            }
            changes.insert(
                "status".into(),
                json!({ "from": a.incident().status.as_str(), "to": to.as_str() }),
            );
            a.incident_mut().status = to;
        }
        let subject = a.subject();
        let actor = a.actor_name().to_owned();
        let incident = a.incident_mut();
        if let Some(sev) = patch.severity
            && sev != incident.severity
        {
            changes.insert(
                "severity".into(),
                json!({ "from": incident.severity.to_string(), "to": sev.to_string() }),
            );
            incident.severity = sev;
        }
        if let Some(t) = patch.title {
            let t = validate_title(&t)?;
            if t != incident.title {
                changes.insert("title".into(), json!(t));
                incident.title = t;
            }
        }
        if let Some(d) = patch.description {
            let d = validate_description(&d)?;
            if d != incident.description {
                changes.insert("description".into(), json!(d));
                incident.description = d;
            }
        }
        if !changes.is_empty() {
            incident.updated_at = self.clock.now();
            let audit = draft(incident.updated_at, &actor, "incident.update", subject, changes.into());
            self.store.update_incident(incident, audit).await?;
        }
        self.details(a.incident().clone()).await
    }

    /// Puts a user on the team in a role. A single-holder role (commander, deputy, scribe)
    /// passes from its current holder to the new one.
    pub async fn add_member(&self, p: &Principal, raw_ref: &str, user: &str, role: Role) -> Result<IncidentDetails> {
        let a = self
            .gate_command(
                p,
                raw_ref,
                "member.add",
                "only the incident's command staff may change the team",
            )
            .await?;
        let (incident, subject) = (a.incident(), a.subject());
        let u = self
            .store
            .user_by_name(user)
            .await?
            .ok_or_else(|| ServiceError::invalid("user", format!("no user named `{user}`")))?;
        crate::users::ensure_enabled(&u, "user")?;
        let members = self.store.memberships(incident.id).await?;
        if members
            .iter()
            .any(|m| m.user_id == u.id && m.role == role && m.ended_at.is_none())
        {
            return self.details(incident.clone()).await;
        }
        let now = self.clock.now();
        let m = Membership {
            id: new_id(now),
            incident_id: incident.id,
            user_id: u.id,
            user_name: u.name.clone(),
            role,
            started_at: now,
            ended_at: None,
        };
        let audit = draft(
            now,
            &p.name,
            "member.add",
            subject,
            json!({ "user": u.name, "role": role.as_str() }),
        );
        self.store.add_membership(&m, audit).await?;
        self.details(incident.clone()).await
    }

    /// Ends a user's term in a role.
    pub async fn remove_member(&self, p: &Principal, raw_ref: &str, user: &str, role: Role) -> Result<IncidentDetails> {
        let a = self
            .gate_command(
                p,
                raw_ref,
                "member.remove",
                "only the incident's command staff may change the team",
            )
            .await?;
        let (incident, subject) = (a.incident(), a.subject());
        let u = self
            .store
            .user_by_name(user)
            .await?
            .ok_or_else(|| ServiceError::invalid("user", format!("no user named `{user}`")))?;
        let now = self.clock.now();
        let audit = draft(
            now,
            &p.name,
            "member.remove",
            subject,
            json!({ "user": u.name, "role": role.as_str() }),
        );
        if !self.store.end_membership(incident.id, u.id, role, now, audit).await? {
            return Err(ServiceError::NotFound("membership"));
        }
        self.details(incident.clone()).await
    }

    /// Records a decision the playbook's gates wait for (e.g. `insider_threat_ruled_out`).
    pub async fn record_decision(
        &self,
        p: &Principal,
        raw_ref: &str,
        name: &str,
        value: bool,
        note: Option<String>,
    ) -> Result<IncidentDetails> {
        let a = self.gate(p, raw_ref).await?;
        let (incident, subject) = (a.incident(), a.subject());
        let playbook = self
            .playbooks
            .by_name(&incident.playbook)
            .ok_or_else(|| ServiceError::invalid("playbook", "the incident's playbook is not loaded"))?;
        let def = playbook.decision(name).ok_or_else(|| {
            let names: Vec<_> = playbook.decisions.iter().map(|d| d.name.as_str()).collect();
            ServiceError::invalid(
                "name",
                format!("unknown decision `{name}`, expected one of: {}", names.join(", ")),
            )
        })?;
        let allowed = a.sees_all() || def.decided_by.iter().any(|r| a.holds(*r));
        if !allowed {
            let roles: Vec<_> = def.decided_by.iter().map(|r| r.as_str()).collect();
            let e = ServiceError::Forbidden(format!("only {} may record `{name}`", roles.join(" or ")));
            return Err(self.refuse_on(&a, "decision.record", e).await);
        }
        let note = note.unwrap_or_default();
        if note.chars().count() > 5000 {
            return Err(ServiceError::invalid("note", "longer than 5000 characters"));
        }
        cordon_core::text::check_multiline("note", &note)?;
        let now = self.clock.now();
        let d = Decision {
            name: name.to_owned(),
            value,
            note: note.clone(),
            decided_by: p.user_id,
            decided_by_name: p.name.clone(),
            decided_at: now,
        };
        let audit = draft(
            now,
            &p.name,
            "decision.record",
            subject,
            json!({ "name": name, "value": value, "note": note }),
        );
        self.store.record_decision(incident.id, &d, audit).await?;
        self.details(incident.clone()).await
    }
}
