//! Pages about an incident: who may trigger one, who may see one and how much, who may
//! acknowledge or resolve one, and what an acknowledgement grants.
//!
//! Every path goes through the gate ([`crate::gate`]). Raising the alarm to the on-call
//! incident commander is open to the incident's team; calling a person onto the team is the
//! command staff's ([`cordon_core::access::can_page`]). A page records the role it is for;
//! acknowledging it grants its recipient that role (or a responder's seat when a single-holder
//! role is taken: [`cordon_core::access::granted_role`]) — never more, and nothing at all to a
//! recipient who triggered the page himself. The engine pages as the system principal.

use std::collections::BTreeSet;

use cordon_core::Timestamp;
use cordon_core::access::{Principal, granted_role};
use cordon_core::incident::Membership;
use cordon_core::role::Role;
use cordon_notify::{AckOutcome, EscalationPolicy, EscalationPolicySpec, page};
use cordon_store::paging::{DeadlineRow, PageRow};
use serde_json::json;
use uuid::Uuid;

use super::{IC_POLICY, PageTarget, PageView, state_of};
use crate::audit::draft;
use crate::gate::{Access, Command, Grants, See, Work};
use crate::incidents::new_id;
use crate::{Cordon, Result, ServiceError};

/// The longest reason a page may carry.
pub const MAX_REASON_CHARS: usize = 500;

/// What a page asks for: whom, the role an acknowledging recipient is granted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub target: PageTarget,
    /// For a person or a policy other than `incident-commander` (default
    /// `subject_matter_expert`); the `incident-commander` policy always pages for the
    /// incident commander.
    pub role: Option<Role>,
    /// Why (one line, at most [`MAX_REASON_CHARS`]); without one the page records who paged.
    pub reason: Option<String>,
}

impl PageRequest {
    /// The on-call incident commander, through the `incident-commander` policy.
    pub fn commander() -> Self {
        Self {
            target: PageTarget::Policy(IC_POLICY.into()),
            role: None,
            reason: None,
        }
    }

    /// One person, onto the team as a responder.
    pub fn person(user: impl Into<String>) -> Self {
        Self {
            target: PageTarget::User(user.into()),
            role: None,
            reason: None,
        }
    }

    /// The same request, with its reason.
    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Who may ask for it, and the role it grants.
    fn kind_and_role(&self) -> Result<(PageKind, Role)> {
        match (&self.target, self.role) {
            (PageTarget::Policy(p), None | Some(Role::IncidentCommander)) if p == IC_POLICY => {
                Ok((PageKind::Commander, Role::IncidentCommander))
            }
            (PageTarget::Policy(p), Some(_)) if p == IC_POLICY => Err(ServiceError::invalid(
                "role",
                "the incident-commander policy pages for the incident commander",
            )),
            (_, Some(Role::Reporter)) => Err(ServiceError::invalid("role", "nobody is paged to be the reporter")),
            (_, role) => Ok((PageKind::Responder, role.unwrap_or(Role::SubjectMatterExpert))),
        }
    }
}

/// Whether `p` may see page `row` at all: through its incident (`sees_incident`), as one of
/// its recipients (`notified`), or — for a page about no incident — as an admin or its
/// trigger.
pub(super) fn may_view(p: &Principal, row: &PageRow, sees_incident: bool, notified: bool) -> bool {
    match row.incident_id {
        Some(_) => sees_incident || notified,
        None => notified || p.is_admin || row.created_by == Some(p.user_id),
    }
}

/// What a page about an incident is for, and so who may trigger it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageKind {
    /// Paging the on-call incident commander: raising the alarm, open to the whole team (the
    /// reporter included) — [`Cordon::work`].
    Commander,
    /// Calling a person onto the team, which gives them a role and so sight of a sealed
    /// incident once they acknowledge: the command staff's call — [`Cordon::command`].
    Responder,
}

impl Cordon {
    /// Pages about an incident: the on-call commander (the team may), or a person or policy
    /// onto the team (the command staff may). Refusals are audited.
    pub async fn trigger_page(&self, p: &Principal, raw_ref: &str, req: PageRequest) -> Result<PageView> {
        let access = self.gate(p, raw_ref).await?;
        self.page_as(access, req).await
    }

    /// Raises `access` to what `req` needs and pages.
    pub(crate) async fn page_as(&self, access: Access<See>, req: PageRequest) -> Result<PageView> {
        let (kind, _) = req.kind_and_role()?;
        let why = match kind {
            PageKind::Commander => "only the incident's team may page about it",
            PageKind::Responder => "only the incident's command staff may page people onto it",
        };
        match kind {
            PageKind::Commander => {
                let a = self.work(access, "page.trigger", why).await?;
                self.page_commander(&a, req.reason).await
            }
            PageKind::Responder => {
                let a = self.command(access, "page.trigger", why).await?;
                self.page_responder(&a, req).await
            }
        }
    }

    /// Pages the on-call incident commander (the `incident-commander` policy).
    pub(crate) async fn page_commander<L: Grants<Work>>(
        &self,
        a: &Access<L>,
        reason: Option<String>,
    ) -> Result<PageView> {
        let policy = self.load_policy(IC_POLICY).await?;
        self.trigger(a, policy, Role::IncidentCommander, reason).await
    }

    /// Pages a person, or a policy other than `incident-commander`, onto the team.
    pub(crate) async fn page_responder<L: Grants<Command>>(&self, a: &Access<L>, req: PageRequest) -> Result<PageView> {
        let (_, role) = req.kind_and_role()?;
        let policy = match &req.target {
            PageTarget::Policy(name) => self.load_policy(name).await?,
            PageTarget::User(name) => {
                let u = self.require_user("user", name).await?;
                let spec: EscalationPolicySpec = serde_json::from_value(json!({
                    "name": format!("page {}", u.name),
                    "repeat": 0,
                    "levels": [{ "targets": [{ "user": u.name }], "after": "PT5M" }],
                }))
                .expect("a one-person policy spec");
                EscalationPolicy::parse(&spec).map_err(|e| ServiceError::invalid("user", e.to_string()))?
            }
        };
        self.trigger(a, policy, role, req.reason).await
    }

    /// Triggers a page through `policy`, makes the first delivery attempts and answers with
    /// who was reached. A page that reached nobody is logged at warn level.
    async fn trigger<L>(
        &self,
        a: &Access<L>,
        policy: EscalationPolicy,
        role: Role,
        reason: Option<String>,
    ) -> Result<PageView> {
        let incident = a.incident();
        if let Some(r) = &reason {
            cordon_core::text::check_line("reason", r)?;
            if r.chars().count() > MAX_REASON_CHARS {
                return Err(ServiceError::invalid(
                    "reason",
                    format!("one line of at most {MAX_REASON_CHARS} characters"),
                ));
            }
        }
        let reason = match reason.as_deref().map(str::trim) {
            None | Some("") => format!("paged by {}", a.actor_name()),
            Some(r) => r.to_owned(),
        };
        let now = self.clock.now();
        let id = new_id(now);
        let (mut state, notify) =
            page::trigger(id, policy, now).map_err(|e| ServiceError::invalid("policy", e.to_string()))?;
        state.reason = Some(reason.clone());
        let (notifications, unreached) = self.notifications_for(&notify, now).await?;
        let row = PageRow {
            id,
            incident_id: Some(incident.id),
            status: state.status.as_str().to_owned(),
            state: serde_json::to_string(&state).expect("page state serializes"),
            created_by: a.actor().user_id(),
            role: Some(role.as_str().to_owned()),
            created_at: now,
            updated_at: now,
        };
        let deadline = state.next_deadline.map(|d| DeadlineRow {
            page_id: id,
            step: d.step as i64,
            due_at: d.at,
        });
        let payload = json!({
            "policy": state.policy.name(),
            "role": role.as_str(),
            "incident": incident.codename.key(),
            "recipients": notifications.iter().map(|n| n.user_name.clone()).collect::<BTreeSet<_>>(),
            "unreached": unreached,
            "reason": reason,
        });
        let audit = draft(now, a.actor_name(), "page.trigger", format!("page:{id}"), payload);
        self.store.create_page(&row, deadline, &notifications, audit).await?;
        self.first_attempt(id, now).await;
        self.wake_engine();
        let notifications = self.store.notifications(id).await?;
        let view = PageView {
            id,
            incident: Some((Some(incident.id), incident.codename.to_string())),
            policy: state.policy.name().to_owned(),
            acknowledged_by: None,
            state,
            notifications,
            unreached,
            role: Some(role),
            restricted: false,
            created_at: now,
        };
        if view.reached_nobody() {
            tracing::warn!(
                page = %id,
                incident = %incident.codename,
                "a page reached nobody: {}",
                view.reach_summary()
            );
        }
        Ok(view)
    }

    /// A page and how `p` may see it: the whole page through the gate of its incident, or —
    /// for a recipient who may not see the incident — their own notifications only. Anyone
    /// else gets "not found".
    ///
    /// `handle` is the page's id or a unique prefix of it (see [`crate::handles`]); only the
    /// pages `p` may see are candidates, so a prefix tells nothing of the others.
    async fn page_for(&self, p: &Principal, handle: &str) -> Result<(PageRow, Option<Access<See>>, bool)> {
        if let Ok(id) = Uuid::parse_str(handle.trim()) {
            let row = self.store.page(id).await?.ok_or(ServiceError::NotFound("page"))?;
            return self.page_seen_by(p, row).await?.ok_or(ServiceError::NotFound("page"));
        }
        let handle = handle.trim();
        let digits: String = handle.chars().filter(|c| *c != '-').collect();
        let well_formed = !handle.starts_with('-') && !handle.contains("--") && digits.len() <= 32;
        if !well_formed || digits.len() < crate::handles::MIN_PREFIX || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ServiceError::invalid(
                "id",
                format!(
                    "give the page's id or a prefix of it of at least {} hex digits",
                    crate::handles::MIN_PREFIX
                ),
            ));
        }
        let mut seen = Vec::new();
        let candidates =
            cordon_store::HandleStore::pages_with_id_prefix(&*self.store, &digits.to_ascii_lowercase(), 100).await?;
        for row in candidates {
            if let Some(found) = self.page_seen_by(p, row).await? {
                seen.push(found);
            }
        }
        let at = crate::handles::resolve_index("page", "id", &digits, &seen, |(row, ..)| crate::handles::Named {
            id: row.id,
            names: Vec::new(),
        })?;
        Ok(seen.swap_remove(at))
    }

    /// `row` with how `p` may see it, or `None` when `p` may not see it at all.
    async fn page_seen_by(&self, p: &Principal, row: PageRow) -> Result<Option<(PageRow, Option<Access<See>>, bool)>> {
        let id = row.id;
        let notified = self
            .store
            .notifications(id)
            .await?
            .iter()
            .any(|n| n.user_name == p.name);
        let access = match row.incident_id {
            Some(iid) => match self.gate_id(p, iid).await {
                Ok(a) => Some(a),
                Err(ServiceError::NotFound(_)) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        Ok(may_view(p, &row, access.is_some(), notified).then_some((row, access, notified)))
    }

    pub(super) async fn view_as(&self, p: &Principal, row: &PageRow, access: Option<&Access<See>>) -> Result<PageView> {
        let state = state_of(row)?;
        let mut notifications = self.store.notifications(row.id).await?;
        let restricted = row.incident_id.is_some() && access.is_none();
        let incident = match (access, row.incident_id) {
            (Some(a), _) => Some((Some(a.incident().id), a.incident().codename.to_string())),
            // A recipient knows the codename from the notice; nothing more.
            (None, Some(iid)) => self.notice_facts(iid).await?.map(|f| (None, f.codename.to_string())),
            (None, None) => None,
        };
        let mut acknowledged_by = state.acknowledged.as_ref().map(|a| a.user.clone());
        if restricted {
            notifications.retain(|n| n.user_name == p.name);
            acknowledged_by = acknowledged_by.filter(|u| *u == p.name);
        }
        Ok(PageView {
            id: row.id,
            incident,
            policy: state.policy.name().to_owned(),
            acknowledged_by,
            state,
            notifications,
            unreached: Vec::new(),
            role: row.role.as_deref().and_then(|r| r.parse().ok()),
            restricted,
            created_at: row.created_at,
        })
    }

    /// A page, as `p` may see it.
    pub async fn page(&self, p: &Principal, id: &str) -> Result<PageView> {
        let (row, access, _) = self.page_for(p, id).await?;
        self.view_as(p, &row, access.as_ref()).await
    }

    /// The pages of an incident.
    pub async fn incident_pages(&self, p: &Principal, raw_ref: &str) -> Result<Vec<PageView>> {
        let access = self.gate(p, raw_ref).await?;
        let mut out = Vec::new();
        for row in self.store.pages_for_incident(access.incident().id).await? {
            out.push(self.view_as(p, &row, Some(&access)).await?);
        }
        Ok(out)
    }

    /// Who was paged about an incident, how each notification went, and who answered: shown
    /// on the "assemble the response team" step to those who may see the incident.
    pub(crate) async fn paging_activity(&self, incident: &cordon_core::incident::Incident) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for row in self.store.pages_for_incident(incident.id).await? {
            let state = state_of(&row)?;
            for n in self.store.notifications(row.id).await? {
                out.push(format!(
                    "paged {} by {} (level {}): {}",
                    n.user_name, n.channel, n.level, n.status
                ));
            }
            if let Some(a) = &state.acknowledged {
                out.push(format!("answered by {} at {}", a.user, a.at));
            }
        }
        Ok(out)
    }

    /// Acknowledges a page: escalation stops. A recipient may acknowledge the page that
    /// reached them, and is granted what the page was for; the incident's command staff may
    /// acknowledge any of its pages on someone's behalf, and are granted nothing.
    pub async fn ack_page(&self, p: &Principal, id: &str) -> Result<PageView> {
        let (row, access, notified) = self.page_for(p, id).await?;
        let subject = format!("page:{}", row.id);
        if !notified && !access.as_ref().is_some_and(|a| a.may_command()) {
            let e = ServiceError::Forbidden(
                "only the page's recipients and the incident's command staff may acknowledge it".into(),
            );
            return Err(self.refuse(p, "page.ack", subject, e).await);
        }
        let state = state_of(&row)?;
        let now = self.clock.now();
        let outcome = page::acknowledge(&state, &p.name, now).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        if let AckOutcome::Acknowledged(new) = outcome {
            let updated = PageRow {
                status: new.status.as_str().to_owned(),
                state: serde_json::to_string(&new).expect("page state serializes"),
                updated_at: now,
                ..row.clone()
            };
            let audit = draft(now, &p.name, "page.ack", subject, json!({ "level": new.level }));
            self.store.update_page(&updated, audit).await?;
            if notified && row.created_by != Some(p.user_id) {
                self.grant_from_page(&row, p, now).await?;
            }
        }
        let row = self.store.page(row.id).await?.ok_or(ServiceError::NotFound("page"))?;
        // The grant may have let the recipient onto the team: look again.
        let access = match row.incident_id {
            Some(iid) => self.gate_id(p, iid).await.ok(),
            None => None,
        };
        self.view_as(p, &row, access.as_ref()).await
    }

    /// What an acknowledged page grants its recipient: a seat on the team in the role the
    /// page was for. Written by the system principal, with the page as its authority.
    async fn grant_from_page(&self, row: &PageRow, recipient: &Principal, now: Timestamp) -> Result<()> {
        let (Some(iid), Some(role)) = (row.incident_id, row.role.as_deref()) else {
            return Ok(());
        };
        let role: Role = role
            .parse()
            .map_err(|_| ServiceError::invalid("page", format!("stored page role `{role}`")))?;
        let system = self.gate_system(iid, "page.ack").await?;
        let members = self.store.memberships(iid).await?;
        let active = members.iter().filter(|m| m.ended_at.is_none());
        let held: Vec<Role> = active
            .clone()
            .filter(|m| m.user_id == recipient.user_id)
            .map(|m| m.role)
            .collect();
        let holder_exists = active.clone().any(|m| m.role == role);
        let Some(granted) = granted_role(role, &held, holder_exists) else {
            return Ok(());
        };
        let m = Membership {
            id: new_id(now),
            incident_id: iid,
            user_id: recipient.user_id,
            user_name: recipient.name.clone(),
            role: granted,
            started_at: now,
            ended_at: None,
        };
        let audit = draft(
            now,
            system.actor_name(),
            "member.add",
            system.subject(),
            json!({ "user": recipient.name, "role": granted.as_str(), "via": "page.ack", "page": row.id.to_string() }),
        );
        self.store.add_membership(&m, audit).await?;
        Ok(())
    }

    /// Resolves a page: the incident's command staff (or, for a page about no incident, an
    /// admin or whoever triggered it).
    pub async fn resolve_page(&self, p: &Principal, id: &str) -> Result<PageView> {
        let (row, access, _) = self.page_for(p, id).await?;
        let allowed = match (&access, row.incident_id) {
            (Some(a), _) => a.may_command(),
            (None, Some(_)) => false,
            (None, None) => p.is_admin || row.created_by == Some(p.user_id),
        };
        if !allowed {
            let e = ServiceError::Forbidden("only the incident's command staff may resolve its pages".into());
            return Err(self.refuse(p, "page.resolve", format!("page:{}", row.id), e).await);
        }
        let state = state_of(&row)?;
        let now = self.clock.now();
        let new = page::resolve(&state, Some(&p.name), now).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        let row = PageRow {
            status: new.status.as_str().to_owned(),
            state: serde_json::to_string(&new).expect("page state serializes"),
            updated_at: now,
            ..row
        };
        let audit = draft(now, &p.name, "page.resolve", format!("page:{}", row.id), json!({}));
        self.store.update_page(&row, audit).await?;
        self.view_as(p, &row, access.as_ref()).await
    }

    /// The open pages that reached `p`, newest first (what `!ack` answers).
    pub(crate) async fn open_pages_for(&self, p: &Principal) -> Result<Vec<PageRow>> {
        Ok(self.store.open_pages_notifying(&p.name, 20).await?)
    }

    /// The names of the incident's active incident commanders.
    pub(crate) async fn commanders_of(&self, incident: Uuid) -> Result<Vec<String>> {
        Ok(self
            .store
            .memberships(incident)
            .await?
            .into_iter()
            .filter(|m| m.role == Role::IncidentCommander && m.ended_at.is_none())
            .map(|m| m.user_name)
            .collect())
    }

    /// The engine pages the incident's commanders about `why` — one page, carrying `why` as
    /// its reason, that escalates like any other: the commanders first, then, unacknowledged,
    /// the levels of the `incident-commander` policy (with its repeats); with no commanders,
    /// that policy alone; with no policy, the commanders again every five minutes, twice. As
    /// the system principal. A failure is logged; returns how many pages were triggered.
    pub(crate) async fn page_commanders(&self, a: &Access<Command>, commanders: Vec<String>, why: &str) -> usize {
        let done = match self.commanders_policy(a, commanders).await {
            Ok(Some(policy)) => {
                self.trigger(a, policy, Role::IncidentCommander, Some(why.to_owned()))
                    .await
            }
            Ok(None) => Err(ServiceError::invalid(
                "policy",
                format!("the incident has no commander and there is no `{IC_POLICY}` escalation policy"),
            )),
            Err(e) => Err(e),
        };
        match done {
            Ok(_) => 1,
            Err(e) => {
                tracing::error!(error = %e, incident = %a.incident().codename, "could not page about {why}");
                0
            }
        }
    }

    /// The escalation policy of an engine page: `commanders` as level 1, then the
    /// `incident-commander` policy's levels.
    async fn commanders_policy(
        &self,
        a: &Access<Command>,
        commanders: Vec<String>,
    ) -> Result<Option<EscalationPolicy>> {
        let ic = match self.store.policy(IC_POLICY).await? {
            Some(_) => Some(self.load_policy(IC_POLICY).await?.to_spec()),
            None => None,
        };
        if commanders.is_empty() {
            return Ok(match ic {
                Some(spec) => {
                    Some(EscalationPolicy::parse(&spec).map_err(|e| ServiceError::invalid("policy", e.to_string()))?)
                }
                None => None,
            });
        }
        let first_after = ic
            .as_ref()
            .and_then(|s| s.levels.first().map(|l| l.after.clone()))
            .unwrap_or_else(|| "PT5M".into());
        let mut levels = vec![json!({
            "targets": commanders.iter().map(|u| json!({ "user": u })).collect::<Vec<_>>(),
            "after": first_after,
        })];
        let repeat = match &ic {
            Some(spec) => {
                levels.extend(
                    spec.levels
                        .iter()
                        .map(|l| serde_json::to_value(l).expect("a level serializes")),
                );
                spec.repeat
            }
            None => 2,
        };
        let mut name = format!("page {}", commanders.join(" and "));
        if ic.is_some() {
            name.push_str(&format!(", then {IC_POLICY}"));
        }
        if name.chars().count() > cordon_notify::MAX_NAME_CHARS {
            name = format!(
                "page the commanders of {}, then {IC_POLICY}",
                a.incident().codename.key()
            );
        }
        let spec: EscalationPolicySpec = serde_json::from_value(json!({
            "name": name,
            "repeat": repeat,
            "levels": levels,
        }))
        .map_err(|e| ServiceError::invalid("policy", e.to_string()))?;
        EscalationPolicy::parse(&spec)
            .map(Some)
            .map_err(|e| ServiceError::invalid("policy", e.to_string()))
    }
}

/// Pages the incident commanders (or, when the incident has none, the `incident-commander`
/// policy) when stored evidence fails verification.
#[derive(Debug, Default, Clone, Copy)]
pub struct PageOnMismatch;

#[async_trait::async_trait]
impl crate::evidence::MismatchNotifier for PageOnMismatch {
    async fn evidence_mismatch(&self, cordon: &Cordon, alert: &crate::evidence::MismatchAlert) {
        let access = match cordon.gate_system(alert.incident_id, "evidence.verify").await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, incident = %alert.incident_id, "evidence mismatch on an unknown incident");
                return;
            }
        };
        cordon
            .page_commanders(
                &access,
                alert.commanders.clone(),
                &format!(
                    "evidence {} ({}) failed verification: {}",
                    alert.item_name,
                    alert.item_id,
                    alert.mismatches.join(", ")
                ),
            )
            .await;
    }
}
