//! The one gate through which every actor reaches an incident.
//!
//! HTTP and CLI callers, chat commands from any adapter, acknowledgement links and the engine's
//! own jobs all get at an incident through [`Cordon::gate`] (or one of its siblings here), and
//! nowhere else. The gate answers "not found" for an incident the actor may not see — exactly
//! as for one that does not exist — and otherwise hands back an [`Access`]: the incident, the
//! actor's standing in it, and a type-level proof of what the actor may do with it
//! ([`See`], [`Work`], [`Command`]). An `Access` can only be built in this module, so service
//! code that acts on an incident, and asks for an `Access<Work>` or `Access<Command>` to do
//! so, cannot be reached by a path that skipped the gate. Raising a proof from `See` to `Work`
//! or `Command` is checked here too, and a refusal is audited.
//!
//! The engine (escalations, reminders, evidence verification, the re-attack watch) acts as
//! [`Actor::System`]: a principal of its own, recorded as `system`, never a borrowed user.

use std::marker::PhantomData;

use cordon_core::access::{Principal, Standing, can_command, can_view, can_work};
use cordon_core::incident::{Decision, Incident, IncidentRef, Membership};
use cordon_core::role::Role;
use cordon_core::task::Task;
use cordon_store::registers::FollowUpTask;
use cordon_store::{IncidentLookup, Viewer};
use uuid::Uuid;

use crate::{Cordon, Result, ServiceError};

/// The level of an [`Access`]: may see the incident.
#[derive(Debug)]
pub enum See {}
/// The level of an [`Access`]: may work on the incident (the response team).
#[derive(Debug)]
pub enum Work {}
/// The level of an [`Access`]: may command the incident (command staff, security, admins).
#[derive(Debug)]
pub enum Command {}

mod sealed {
    pub trait Level {}
    impl Level for super::See {}
    impl Level for super::Work {}
    impl Level for super::Command {}
}

/// `Self` includes everything level `L` allows: `Command: Grants<Work>`, `Work: Grants<See>`.
pub trait Grants<L>: sealed::Level {}
impl Grants<See> for See {}
impl Grants<See> for Work {}
impl Grants<Work> for Work {}
impl Grants<See> for Command {}
impl Grants<Work> for Command {}
impl Grants<Command> for Command {}

/// The name the audit log and custody records give the engine ([`Actor::System`]).
pub const SYSTEM_ACTOR: &str = "system";

/// Who acts on an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user (API token, verified chat identity, an acknowledgement link's recipient).
    User(Principal),
    /// Cordon's own engine, doing `job` (e.g. `evidence.verify`, `timeline.watch`).
    System(&'static str),
}

impl Actor {
    /// The name the audit log records.
    pub fn name(&self) -> &str {
        match self {
            Self::User(p) => &p.name,
            Self::System(_) => SYSTEM_ACTOR,
        }
    }

    /// The user behind the action, if a user acts.
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Self::User(p) => Some(p),
            Self::System(_) => None,
        }
    }

    /// The acting user's id; `None` for the engine.
    pub fn user_id(&self) -> Option<Uuid> {
        self.principal().map(|p| p.user_id)
    }
}

/// Proof that an actor passed the gate for one incident, at level `L`.
#[derive(Debug)]
pub struct Access<L> {
    incident: Incident,
    standing: Standing,
    actor: Actor,
    level: PhantomData<L>,
}

impl<L> Access<L> {
    pub fn incident(&self) -> &Incident {
        &self.incident
    }

    pub fn standing(&self) -> &Standing {
        &self.standing
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The name the audit log records for this actor.
    pub fn actor_name(&self) -> &str {
        self.actor.name()
    }

    /// The audit subject of the incident.
    pub fn subject(&self) -> String {
        format!("incident:{}", self.incident.id)
    }

    /// Whether the actor holds `role` in the incident now.
    pub fn holds(&self, role: Role) -> bool {
        self.standing.holds(role)
    }

    /// Whether the actor sees every incident (admins, the security team, the engine).
    pub fn sees_all(&self) -> bool {
        match &self.actor {
            Actor::User(p) => p.sees_all_incidents(),
            Actor::System(_) => true,
        }
    }

    /// Whether this access would pass [`Cordon::work`].
    pub fn may_work(&self) -> bool {
        match &self.actor {
            Actor::User(p) => can_work(p, &self.standing),
            Actor::System(_) => true,
        }
    }

    /// Whether this access would pass [`Cordon::command`].
    pub fn may_command(&self) -> bool {
        match &self.actor {
            Actor::User(p) => can_command(p, &self.standing),
            Actor::System(_) => true,
        }
    }

    /// The same access, proving no more than that the actor may see the incident (for code
    /// that takes an `Access<See>`, such as the chat dispatcher).
    pub(crate) fn into_see(self) -> Access<See>
    where
        L: Grants<See>,
    {
        grant(self.incident, self.standing, self.actor)
    }

    /// The incident, with the incident's own fields changed by the caller (status, title…):
    /// the proof follows the incident it was given for.
    pub(crate) fn incident_mut(&mut self) -> &mut Incident
    where
        L: Grants<Command>,
    {
        &mut self.incident
    }
}

/// Proof that a user outside an incident's team holds tasks in it (a credential's owner asked
/// to rotate it, say): they may see and work those tasks, under the incident's codename, and
/// nothing else of the incident. Built only by [`Cordon::gate_tasks`].
#[derive(Debug)]
pub struct Assigned {
    incident: Incident,
    principal: Principal,
    /// The incident's whole checklist and follow-ups, as read to admit the assignee: the
    /// service numbers handles and checks gates against them; the assignee is shown only
    /// their own ([`Assigned::checklist`], [`Assigned::follow_ups`]).
    all_checklist: Vec<Task>,
    all_follow_ups: Vec<FollowUpTask>,
}

impl Assigned {
    /// The incident, for the service's own reads (its id, playbook, codename). What it shows
    /// the assignee is the codename and the assignee's own tasks only.
    pub(crate) fn incident(&self) -> &Incident {
        &self.incident
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The checklist tasks assigned to the user, in step order.
    pub fn checklist(&self) -> impl Iterator<Item = &Task> {
        self.all_checklist.iter().filter(|t| self.holds(t.assignee))
    }

    /// The follow-up tasks assigned to the user.
    pub fn follow_ups(&self) -> impl Iterator<Item = &FollowUpTask> {
        self.all_follow_ups.iter().filter(|t| self.holds(t.assignee))
    }

    /// Whether the user holds the task with this id.
    pub fn holds_task(&self, id: Uuid) -> bool {
        self.checklist().any(|t| t.id == id) || self.follow_ups().any(|t| t.id == id)
    }

    /// The incident's whole checklist (for gates and handles; never shown to the assignee).
    pub(crate) fn all_checklist(&self) -> &[Task] {
        &self.all_checklist
    }

    /// The incident's follow-up tasks (for their handles; never shown to the assignee).
    pub(crate) fn all_follow_ups(&self) -> &[FollowUpTask] {
        &self.all_follow_ups
    }

    fn holds(&self, assignee: Option<Uuid>) -> bool {
        assignee == Some(self.principal.user_id)
    }
}

/// How a caller reaches an incident's tasks: as someone who may see the incident, or as an
/// assignee from outside its team.
#[derive(Debug)]
pub(crate) enum TaskAccess {
    Team(Access<See>),
    Assignee(Assigned),
}

/// What may be said of an incident to anyone a page reached, over any channel: its codename
/// and severity (the notice's content), nothing else.
#[derive(Debug, Clone)]
pub(crate) struct NoticeFacts {
    pub codename: cordon_core::codename::Codename,
    pub severity: cordon_core::incident::Severity,
}

/// An incident seen through the gate with its team and decisions (the hot `GET` path: one
/// round trip to the store).
#[derive(Debug)]
pub(crate) struct GatedView {
    pub access: Access<See>,
    pub members: Vec<Membership>,
    pub decisions: Vec<Decision>,
}

fn lookup_of(r: &IncidentRef) -> IncidentLookup<'_> {
    match r {
        IncidentRef::Id(id) => IncidentLookup::Id(*id),
        IncidentRef::Codename(key) => IncidentLookup::Codename(key),
    }
}

fn grant<L>(incident: Incident, standing: Standing, actor: Actor) -> Access<L> {
    Access {
        incident,
        standing,
        actor,
        level: PhantomData,
    }
}

impl Cordon {
    /// The gate: the incident `raw_ref` names (id or codename), if `p` may see it.
    pub(crate) async fn gate(&self, p: &Principal, raw_ref: &str) -> Result<Access<See>> {
        let (incident, standing) = self.standing_in(p, raw_ref).await?;
        Self::admit(p, incident, standing)
    }

    /// The incident `raw_ref` names and `p`'s standing in it — not yet a decision.
    async fn standing_in(&self, p: &Principal, raw_ref: &str) -> Result<(Incident, Standing)> {
        let r = IncidentRef::parse(raw_ref).map_err(|_| ServiceError::NotFound("incident"))?;
        let (incident, active_roles) = self
            .store
            .incident_for_viewer(lookup_of(&r), p.user_id)
            .await?
            .ok_or(ServiceError::NotFound("incident"))?;
        Ok((incident, Standing { active_roles }))
    }

    /// The gate by incident id (pages, links and rooms name incidents by id).
    pub(crate) async fn gate_id(&self, p: &Principal, id: Uuid) -> Result<Access<See>> {
        let (incident, active_roles) = self
            .store
            .incident_for_viewer(IncidentLookup::Id(id), p.user_id)
            .await?
            .ok_or(ServiceError::NotFound("incident"))?;
        Self::admit(p, incident, Standing { active_roles })
    }

    /// The gate with the incident's team and decisions, in one store round trip.
    pub(crate) async fn gate_view(&self, p: &Principal, raw_ref: &str) -> Result<GatedView> {
        let r = IncidentRef::parse(raw_ref).map_err(|_| ServiceError::NotFound("incident"))?;
        let v = self
            .store
            .incident_view(lookup_of(&r), p.user_id)
            .await?
            .ok_or(ServiceError::NotFound("incident"))?;
        let access = Self::admit(
            p,
            v.incident,
            Standing {
                active_roles: v.viewer_roles,
            },
        )?;
        Ok(GatedView {
            access,
            members: v.members,
            decisions: v.decisions,
        })
    }

    fn admit(p: &Principal, incident: Incident, standing: Standing) -> Result<Access<See>> {
        if can_view(p, &incident, &standing) {
            Ok(grant(incident, standing, Actor::User(p.clone())))
        } else {
            Err(ServiceError::NotFound("incident"))
        }
    }

    /// The gate to an incident's tasks: [`Cordon::gate`] for those who may see the incident;
    /// for anyone else who holds tasks in it, an [`Assigned`] proof naming those tasks; "not
    /// found" for everybody else, exactly as for an incident that does not exist.
    pub(crate) async fn gate_tasks(&self, p: &Principal, raw_ref: &str) -> Result<TaskAccess> {
        let (incident, standing) = self.standing_in(p, raw_ref).await?;
        if can_view(p, &incident, &standing) {
            return Ok(TaskAccess::Team(grant(incident, standing, Actor::User(p.clone()))));
        }
        self.assigned(p, incident).await.map(TaskAccess::Assignee)
    }

    /// The tasks `p` holds in `incident`, which `p` may not see; "not found" when none.
    async fn assigned(&self, p: &Principal, incident: Incident) -> Result<Assigned> {
        let held = Assigned {
            all_checklist: self.store.tasks(incident.id).await?,
            all_follow_ups: self.store.follow_up_tasks(incident.id).await?,
            incident,
            principal: p.clone(),
        };
        if held.checklist().next().is_none() && held.follow_ups().next().is_none() {
            return Err(ServiceError::NotFound("incident"));
        }
        Ok(held)
    }

    /// Every incident in which `p` holds tasks: as a member (or viewer) through the gate, or
    /// as an assignee from outside the team. At most `limit` tasks of each kind are read.
    pub(crate) async fn gate_assigned_everywhere(&self, p: &Principal, limit: u32) -> Result<Vec<TaskAccess>> {
        let mut incidents: Vec<Uuid> = self
            .store
            .tasks_assigned_to(p.user_id, limit)
            .await?
            .iter()
            .map(|t| t.incident_id)
            .chain(
                self.store
                    .follow_ups_assigned_to(p.user_id, limit)
                    .await?
                    .iter()
                    .map(|t| t.incident_id),
            )
            .collect();
        incidents.sort_unstable();
        incidents.dedup();
        let mut out = Vec::with_capacity(incidents.len());
        for id in incidents {
            match self.gate_tasks(p, &id.to_string()).await {
                Ok(a) => out.push(a),
                // Unassigned meanwhile.
                Err(ServiceError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The incident a chat room belongs to, as `p` sees it: among the open incidents bound to
    /// the room, those `p` may see — the ones `p` is on the team of first, then the oldest.
    /// `None` when there is none, so a room whose incidents `p` may not see behaves exactly
    /// like a room that belongs to no incident.
    pub(crate) async fn gate_room(&self, p: &Principal, room: &str) -> Result<Option<Access<See>>> {
        let viewer = Viewer {
            user_id: p.user_id,
            sees_all: p.sees_all_incidents(),
        };
        let Some(id) = self.store.room_incident(room, viewer).await? else {
            return Ok(None);
        };
        // The store chose by the same rule; the gate decides.
        match self.gate_id(p, id).await {
            Ok(a) => Ok(Some(a)),
            Err(ServiceError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The notice-safe facts of an incident (codename, severity), for the notices and the
    /// acknowledgement pages that go to whoever a page reached. No access is needed: that is
    /// all a notice says anyway.
    pub(crate) async fn notice_facts(&self, incident: Uuid) -> Result<Option<NoticeFacts>> {
        Ok(self.store.incident(incident).await?.map(|i| NoticeFacts {
            codename: i.codename,
            severity: i.severity,
        }))
    }

    /// The engine's way in: `job` acts on the incident as the system principal.
    pub(crate) async fn gate_system(&self, incident: Uuid, job: &'static str) -> Result<Access<Command>> {
        let incident = self
            .store
            .incident(incident)
            .await?
            .ok_or(ServiceError::NotFound("incident"))?;
        Ok(grant(incident, Standing::default(), Actor::System(job)))
    }

    /// Raises `a` to [`Work`]: the response team (members, security, admins) and the engine.
    /// A refusal is audited as `{action}.refused` with `why` as its reason.
    pub(crate) async fn work<L>(&self, a: Access<L>, action: &str, why: &str) -> Result<Access<Work>> {
        if a.may_work() {
            return Ok(grant(a.incident, a.standing, a.actor));
        }
        Err(self.refuse_access(&a, action, why).await)
    }

    /// Raises `a` to [`Command`]: the incident commander, deputy and security lead, the
    /// security team, admins and the engine. A refusal is audited.
    pub(crate) async fn command<L>(&self, a: Access<L>, action: &str, why: &str) -> Result<Access<Command>> {
        if a.may_command() {
            return Ok(grant(a.incident, a.standing, a.actor));
        }
        Err(self.refuse_access(&a, action, why).await)
    }

    /// [`Cordon::work`] with the refusal audited against `subject` (an item of the incident).
    pub(crate) async fn work_as<L>(
        &self,
        a: Access<L>,
        action: &str,
        subject: String,
        why: &str,
    ) -> Result<Access<Work>> {
        if a.may_work() {
            return Ok(grant(a.incident, a.standing, a.actor));
        }
        Err(self
            .refuse_as(a.actor_name(), action, subject, ServiceError::Forbidden(why.to_owned()))
            .await)
    }

    /// [`Cordon::gate`] then [`Cordon::work`].
    pub(crate) async fn gate_work(
        &self,
        p: &Principal,
        raw_ref: &str,
        action: &str,
        why: &str,
    ) -> Result<Access<Work>> {
        let a = self.gate(p, raw_ref).await?;
        self.work(a, action, why).await
    }

    /// [`Cordon::gate`] then [`Cordon::command`].
    pub(crate) async fn gate_command(
        &self,
        p: &Principal,
        raw_ref: &str,
        action: &str,
        why: &str,
    ) -> Result<Access<Command>> {
        let a = self.gate(p, raw_ref).await?;
        self.command(a, action, why).await
    }

    /// Audits a refusal of an action on `a`'s incident and hands back the error.
    pub(crate) async fn refuse_on<L>(&self, a: &Access<L>, action: &str, err: ServiceError) -> ServiceError {
        self.refuse_as(a.actor_name(), action, a.subject(), err).await
    }

    async fn refuse_access<L>(&self, a: &Access<L>, action: &str, why: &str) -> ServiceError {
        self.refuse_on(a, action, ServiceError::Forbidden(why.to_owned())).await
    }
}
