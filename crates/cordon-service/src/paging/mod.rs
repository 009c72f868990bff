//! Paging: on-call schedules, escalation policies, contact methods, pages and the engine that
//! escalates them and delivers their notifications.
//!
//! Escalation deadlines and notifications are rows; [`Cordon::run_engine`] processes what is
//! due at the `now` it is given, so a page triggered before a crash still escalates after the
//! restart, exactly once (the store flips each deadline once). Everything that leaves over a
//! channel is a notice — codename, severity and a link — built from types that can hold
//! nothing else.

mod deliver;

use std::sync::Arc;

use cordon_channels::{HttpTransport, SmsGateway};
use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::incident::{Incident, Membership};
use cordon_core::role::Role;
use cordon_core::user::User;
use cordon_mail::Mailer;
use cordon_notify::{
    AckOutcome, DeadlineOutcome, EscalationPolicy, EscalationPolicySpec, Notify, PageState, Schedule, ScheduleSpec,
    Target, page,
};
use cordon_store::paging::{DeadlineRow, NotificationRow, PageRow};
use hmac::{Hmac, KeyInit, Mac};
use jiff::SignedDuration;
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use crate::audit::draft;
use crate::incidents::new_id;
use crate::{Cordon, Result, ServiceError, random};

/// The policy `!ic page` uses.
pub const IC_POLICY: &str = "incident-commander";
/// Contact method kinds: channels that receive pages, and linked chat accounts
/// (`slack_user`, `matrix_user`) that identify who types a command.
pub const CONTACT_KINDS: [&str; 6] = ["email", "webhook", "sms", "matrix", "slack_user", "matrix_user"];
/// The kinds that receive pages.
pub(crate) const PAGE_CHANNELS: [&str; 4] = ["email", "webhook", "sms", "matrix"];
/// How long one delivery attempt owns a notification before another engine may retry it.
pub(crate) const DELIVERY_LEASE: SignedDuration = SignedDuration::from_secs(60);
/// Deliveries in flight at once in one engine run.
pub(crate) const DELIVERY_CONCURRENCY: usize = 32;
/// Delivery attempts before a notification counts as failed.
pub(crate) const MAX_ATTEMPTS: i64 = 5;

/// How pages leave the building. Built by the binary from its configuration.
pub struct PagingSettings {
    /// Base of the links in notices (`CORDON_PUBLIC_URL`).
    pub public_url: String,
    pub mailer: Option<Mailer>,
    pub http: HttpTransport,
    pub sms: Option<SmsGateway>,
    /// Signs outgoing webhooks.
    pub webhook_secret: Vec<u8>,
    /// Sends notices into Matrix rooms (the bot).
    pub matrix: Option<Arc<dyn RoomSender>>,
}

impl std::fmt::Debug for PagingSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagingSettings")
            .field("public_url", &self.public_url)
            .field("mail", &self.mailer.is_some())
            .field("sms", &self.sms.is_some())
            .finish_non_exhaustive()
    }
}

impl PagingSettings {
    /// No outgoing channels: pages are recorded, notifications fail with a clear reason.
    pub fn disabled(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            mailer: None,
            http: HttpTransport::new(cordon_channels::Timeouts::default()).expect("default HTTP transport"),
            sms: None,
            webhook_secret: Vec::new(),
            matrix: None,
        }
    }
}

/// Posts a short text into a chat room (implemented by the Matrix bot).
#[async_trait::async_trait]
pub trait RoomSender: Send + Sync {
    async fn send(&self, room: &str, text: &str) -> std::result::Result<(), String>;
}

/// Whom a page is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageTarget {
    Policy(String),
    User(String),
}

/// A page as its viewers see it: never the incident's title.
#[derive(Debug, Clone)]
pub struct PageView {
    pub id: Uuid,
    pub incident: Option<(Uuid, String)>,
    pub policy: String,
    pub state: PageState,
    pub notifications: Vec<NotificationRow>,
    /// Targets through which nobody was reached (a schedule with nobody on call).
    pub unreached: Vec<String>,
}

/// What one engine run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineReport {
    pub escalations: usize,
    pub delivered: usize,
    pub failed: usize,
}

fn is_manager(p: &Principal) -> bool {
    p.sees_all_incidents()
}

fn state_of(row: &PageRow) -> Result<PageState> {
    serde_json::from_str(&row.state).map_err(|e| ServiceError::invalid("page", format!("stored page state: {e}")))
}

fn target_name(t: &Target) -> String {
    match t {
        Target::User(u) => format!("user {u}"),
        Target::Schedule(s) => format!("schedule {s}"),
    }
}

impl Cordon {
    fn forbid_unless_manager(p: &Principal, what: &str) -> Result<()> {
        if is_manager(p) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "only admins and the security team may change {what}"
            )))
        }
    }

    async fn require_user(&self, field: &'static str, name: &str) -> Result<User> {
        self.store
            .user_by_name(name)
            .await?
            .ok_or_else(|| ServiceError::invalid(field, format!("no user named `{name}`")))
    }

    /// Creates or replaces an on-call schedule.
    pub async fn put_schedule(&self, p: &Principal, spec: ScheduleSpec) -> Result<Schedule> {
        if let Err(e) = Self::forbid_unless_manager(p, "schedules") {
            return Err(self
                .refuse(p, "schedule.put", format!("schedule:{}", spec.name), e)
                .await);
        }
        let schedule = Schedule::parse(&spec).map_err(|e| ServiceError::invalid("schedule", e.to_string()))?;
        for u in schedule.users() {
            self.require_user("users", u).await?;
        }
        let json = serde_json::to_string(&schedule.to_spec()).expect("a spec serializes");
        let now = self.clock.now();
        let audit = draft(
            now,
            &p.name,
            "schedule.put",
            format!("schedule:{}", schedule.name()),
            json!({ "spec": json }),
        );
        self.store.put_schedule(schedule.name(), &json, now, audit).await?;
        Ok(schedule)
    }

    /// Every schedule.
    pub async fn schedules(&self) -> Result<Vec<Schedule>> {
        self.store
            .schedules()
            .await?
            .into_iter()
            .map(|(name, spec)| {
                let spec: ScheduleSpec = serde_json::from_str(&spec)
                    .map_err(|e| ServiceError::invalid("schedule", format!("stored schedule {name}: {e}")))?;
                Schedule::parse(&spec).map_err(|e| ServiceError::invalid("schedule", e.to_string()))
            })
            .collect()
    }

    /// Creates or replaces an escalation policy.
    pub async fn put_policy(&self, p: &Principal, spec: EscalationPolicySpec) -> Result<EscalationPolicy> {
        if let Err(e) = Self::forbid_unless_manager(p, "escalation policies") {
            return Err(self.refuse(p, "policy.put", format!("policy:{}", spec.name), e).await);
        }
        let policy = EscalationPolicy::parse(&spec).map_err(|e| ServiceError::invalid("policy", e.to_string()))?;
        let schedules = self.schedules().await?;
        for level in policy.levels() {
            for t in level.targets() {
                match t {
                    Target::User(u) => {
                        self.require_user("targets", u).await?;
                    }
                    Target::Schedule(s) if !schedules.iter().any(|x| x.name() == s) => {
                        return Err(ServiceError::invalid("targets", format!("no schedule named `{s}`")));
                    }
                    Target::Schedule(_) => {}
                }
            }
        }
        let json = serde_json::to_string(&policy.to_spec()).expect("a spec serializes");
        let now = self.clock.now();
        let audit = draft(
            now,
            &p.name,
            "policy.put",
            format!("policy:{}", policy.name()),
            json!({ "spec": json }),
        );
        self.store.put_policy(policy.name(), &json, now, audit).await?;
        Ok(policy)
    }

    pub(crate) async fn load_policy(&self, name: &str) -> Result<EscalationPolicy> {
        let spec = self
            .store
            .policy(name)
            .await?
            .ok_or_else(|| ServiceError::invalid("policy", format!("no escalation policy named `{name}`")))?;
        let spec: EscalationPolicySpec =
            serde_json::from_str(&spec).map_err(|e| ServiceError::invalid("policy", e.to_string()))?;
        EscalationPolicy::parse(&spec).map_err(|e| ServiceError::invalid("policy", e.to_string()))
    }

    /// Every escalation policy, as its spec.
    pub async fn policy_specs(&self) -> Result<Vec<serde_json::Value>> {
        self.store
            .policies()
            .await?
            .into_iter()
            .map(|(_, spec)| serde_json::from_str(&spec).map_err(|e| ServiceError::invalid("policy", e.to_string())))
            .collect()
    }

    /// Who is on call for a schedule at `now`.
    pub async fn on_call(&self, schedule: &str) -> Result<Option<String>> {
        let now = self.clock.now();
        Ok(self
            .schedules()
            .await?
            .iter()
            .find(|s| s.name() == schedule)
            .and_then(|s| s.on_call_at(now))
            .map(|o| o.user))
    }

    /// The notifications for one `Notify`, one per recipient and contact method.
    async fn notifications_for(&self, n: &Notify, now: Timestamp) -> Result<(Vec<NotificationRow>, Vec<String>)> {
        let schedules = self.schedules().await?;
        let to = n.recipients(&schedules[..], now);
        let mut rows = Vec::new();
        let mut unreached: Vec<String> = to.unreached.iter().map(target_name).collect();
        for r in &to.users {
            let Some(u) = self.store.user_by_name(&r.user).await? else {
                continue;
            };
            if u.is_disabled() {
                unreached.push(format!("user {} (disabled)", u.name));
                continue;
            }
            for c in self.reachable(&u).await? {
                rows.push(NotificationRow {
                    id: new_id(now),
                    page_id: n.page,
                    step: n.step as i64,
                    level: i64::from(n.level),
                    user_name: u.name.clone(),
                    channel: c.kind.clone(),
                    address: c.address.clone(),
                    status: "pending".into(),
                    attempts: 0,
                    next_attempt_at: Some(now),
                    error: None,
                    created_at: now,
                    updated_at: now,
                });
            }
        }
        Ok((rows, unreached))
    }

    /// Pages a policy (default `incident-commander`) or one person about an incident.
    pub async fn trigger_page(&self, p: &Principal, raw_ref: &str, target: PageTarget) -> Result<PageView> {
        // Raising the alarm is open to anyone who can see the incident.
        let (incident, _) = self.resolve(p, raw_ref).await?;
        self.page_incident(p, &incident, target).await
    }

    pub(crate) async fn page_incident(
        &self,
        p: &Principal,
        incident: &Incident,
        target: PageTarget,
    ) -> Result<PageView> {
        let policy = match &target {
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
        let now = self.clock.now();
        let id = new_id(now);
        let (state, notify) =
            page::trigger(id, policy, now).map_err(|e| ServiceError::invalid("policy", e.to_string()))?;
        let (notifications, unreached) = self.notifications_for(&notify, now).await?;
        let row = PageRow {
            id,
            incident_id: Some(incident.id),
            status: state.status.as_str().to_owned(),
            state: serde_json::to_string(&state).expect("page state serializes"),
            created_by: p.user_id,
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
            "incident": incident.codename.key(),
            "recipients": notifications.iter().map(|n| n.user_name.clone()).collect::<std::collections::BTreeSet<_>>(),
            "unreached": unreached,
        });
        let audit = draft(now, &p.name, "page.trigger", format!("page:{id}"), payload);
        self.store.create_page(&row, deadline, &notifications, audit).await?;
        self.wake_engine();
        Ok(PageView {
            id,
            incident: Some((incident.id, incident.codename.to_string())),
            policy: state.policy.name().to_owned(),
            state,
            notifications,
            unreached,
        })
    }

    async fn page_row_visible(&self, p: &Principal, id: &str) -> Result<(PageRow, Option<Incident>)> {
        let id = Uuid::parse_str(id).map_err(|_| ServiceError::NotFound("page"))?;
        let row = self.store.page(id).await?.ok_or(ServiceError::NotFound("page"))?;
        let notified = self
            .store
            .notifications(id)
            .await?
            .iter()
            .any(|n| n.user_name == p.name);
        let incident = match row.incident_id {
            Some(iid) => match self.resolve(p, &iid.to_string()).await {
                Ok((i, _)) => Some(i),
                Err(ServiceError::NotFound(_)) if notified => self.store.incident(iid).await?,
                Err(e) => {
                    return Err(if matches!(e, ServiceError::NotFound(_)) {
                        ServiceError::NotFound("page")
                    } else {
                        e
                    });
                }
            },
            None => None,
        };
        if incident.is_none() && !notified && !p.is_admin && row.created_by != p.user_id {
            return Err(ServiceError::NotFound("page"));
        }
        Ok((row, incident))
    }

    async fn view(&self, row: &PageRow, incident: Option<&Incident>) -> Result<PageView> {
        let state = state_of(row)?;
        Ok(PageView {
            id: row.id,
            incident: incident.map(|i| (i.id, i.codename.to_string())),
            policy: state.policy.name().to_owned(),
            notifications: self.store.notifications(row.id).await?,
            state,
            unreached: Vec::new(),
        })
    }

    /// A page: visible to whoever may see its incident, and to the people it notified.
    pub async fn page(&self, p: &Principal, id: &str) -> Result<PageView> {
        let (row, incident) = self.page_row_visible(p, id).await?;
        self.view(&row, incident.as_ref()).await
    }

    /// The pages of an incident.
    pub async fn incident_pages(&self, p: &Principal, raw_ref: &str) -> Result<Vec<PageView>> {
        let (incident, _) = self.resolve(p, raw_ref).await?;
        let mut out = Vec::new();
        for row in self.store.pages_for_incident(incident.id).await? {
            out.push(self.view(&row, Some(&incident)).await?);
        }
        Ok(out)
    }

    /// Who was paged about an incident, how each notification went, and who answered: shown
    /// on the "assemble the response team" step.
    pub(crate) async fn paging_activity(&self, incident: &Incident) -> Result<Vec<String>> {
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

    /// Acknowledges a page: escalation stops, and the acknowledger becomes the incident's
    /// commander when nobody holds the role.
    pub async fn ack_page(&self, p: &Principal, id: &str) -> Result<PageView> {
        let (row, incident) = self.page_row_visible(p, id).await?;
        let state = state_of(&row)?;
        let now = self.clock.now();
        let outcome = page::acknowledge(&state, &p.name, now).map_err(|e| ServiceError::Conflict(e.to_string()))?;
        if let AckOutcome::Acknowledged(new) = outcome {
            let row = PageRow {
                status: new.status.as_str().to_owned(),
                state: serde_json::to_string(&new).expect("page state serializes"),
                updated_at: now,
                ..row.clone()
            };
            let audit = draft(
                now,
                &p.name,
                "page.ack",
                format!("page:{}", row.id),
                json!({ "level": new.level }),
            );
            self.store.update_page(&row, audit).await?;
            if let Some(i) = &incident {
                self.take_command_if_free(p, i, now).await?;
            }
        }
        let row = self.store.page(row.id).await?.ok_or(ServiceError::NotFound("page"))?;
        self.view(&row, incident.as_ref()).await
    }

    /// Resolves a page.
    pub async fn resolve_page(&self, p: &Principal, id: &str) -> Result<PageView> {
        let (row, incident) = self.page_row_visible(p, id).await?;
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
        self.view(&row, incident.as_ref()).await
    }

    async fn take_command_if_free(&self, p: &Principal, incident: &Incident, now: Timestamp) -> Result<()> {
        let members = self.store.memberships(incident.id).await?;
        if members
            .iter()
            .any(|m| m.role == Role::IncidentCommander && m.ended_at.is_none())
        {
            return Ok(());
        }
        let m = Membership {
            id: new_id(now),
            incident_id: incident.id,
            user_id: p.user_id,
            user_name: p.name.clone(),
            role: Role::IncidentCommander,
            started_at: now,
            ended_at: None,
        };
        let audit = draft(
            now,
            "system",
            "member.add",
            format!("incident:{}", incident.id),
            json!({ "user": p.name, "role": "incident_commander", "via": "page.ack" }),
        );
        self.store.add_membership(&m, audit).await?;
        Ok(())
    }

    // ---------- the one-time acknowledgement link ----------

    async fn link_key(&self) -> Result<Vec<u8>> {
        let key = self
            .link_key
            .get_or_try_init(|| async { self.store.secret("ack-link-hmac", &random::bytes::<32>()).await })
            .await?;
        Ok(key.clone())
    }

    /// A signed one-time link that acknowledges `page` as `user`.
    pub(crate) async fn ack_link(&self, page: Uuid, user: &str, step: i64) -> Result<String> {
        let key = self.link_key().await?;
        let payload = format!("{page}.{user}.{step}");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        let sig = hex::encode(mac.finalize().into_bytes());
        let token = format!("{}.{}", hex::encode(payload.as_bytes()), sig);
        Ok(format!("{}/ack/{token}", self.paging.public_url))
    }

    /// Acknowledges through a one-time link: no session needed, the signature is the proof.
    pub async fn ack_by_link(&self, token: &str) -> Result<PageView> {
        let (payload_hex, sig) = token.split_once('.').ok_or(ServiceError::NotFound("link"))?;
        let payload = hex::decode(payload_hex)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(ServiceError::NotFound("link"))?;
        let key = self.link_key().await?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        let sig = hex::decode(sig).map_err(|_| ServiceError::NotFound("link"))?;
        mac.verify_slice(&sig).map_err(|_| ServiceError::NotFound("link"))?;
        let mut parts = payload.splitn(3, '.');
        let (Some(page_id), Some(user), Some(_step)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ServiceError::NotFound("link"));
        };
        let now = self.clock.now();
        if !self
            .store
            .use_link(
                &hex::encode(sha2::Digest::finalize(<Sha256 as sha2::Digest>::new_with_prefix(
                    token.as_bytes(),
                ))),
                now,
            )
            .await?
        {
            return Err(ServiceError::Conflict("this link was used already".into()));
        }
        let u = self
            .store
            .user_by_name(user)
            .await?
            .filter(|u| !u.is_disabled())
            .ok_or(ServiceError::NotFound("link"))?;
        self.ack_page(&Principal::from_user(&u), page_id).await
    }

    // ---------- the engine ----------

    pub(crate) fn wake_engine(&self) {
        self.engine_wakeup.notify_one();
    }

    /// Resolves when something asks the engine to run early (a new page).
    pub async fn engine_woken(&self) {
        self.engine_wakeup.notified().await;
    }

    /// Processes everything due at `now`: escalations, then deliveries. Safe to run from
    /// several places at once; each deadline escalates once.
    pub async fn run_engine(&self, now: Timestamp) -> Result<EngineReport> {
        let escalations = self.escalate_due(now).await?;
        let mut report = self.deliver_due(now).await?;
        report.escalations = escalations;
        Ok(report)
    }

    /// Escalates every page whose deadline is due at `now`; returns how many escalated.
    pub async fn escalate_due(&self, now: Timestamp) -> Result<usize> {
        let mut escalations = 0;
        for d in self.store.due_deadlines(now, 100).await? {
            let Some(row) = self.store.page(d.page_id).await? else {
                self.store.drop_deadline(d).await?;
                continue;
            };
            let state = state_of(&row)?;
            match page::on_deadline(&state, d.step as u64, now)
                .map_err(|e| ServiceError::invalid("page", e.to_string()))?
            {
                DeadlineOutcome::NotDue { .. } => {}
                DeadlineOutcome::Stale => self.store.drop_deadline(d).await?,
                DeadlineOutcome::Escalated { state, notify } => {
                    let (notifications, unreached) = self.notifications_for(&notify, now).await?;
                    let new_row = PageRow {
                        status: state.status.as_str().to_owned(),
                        state: serde_json::to_string(&*state).expect("page state serializes"),
                        updated_at: now,
                        ..row
                    };
                    let next = state.next_deadline.map(|n| DeadlineRow {
                        page_id: d.page_id,
                        step: n.step as i64,
                        due_at: n.at,
                    });
                    let payload = json!({ "level": notify.level, "round": notify.round, "step": notify.step, "unreached": unreached });
                    let audit = draft(now, "system", "page.escalate", format!("page:{}", d.page_id), payload);
                    if self.store.escalate(d, &new_row, next, &notifications, audit).await? {
                        escalations += 1;
                        self.wake_engine();
                    }
                }
            }
        }
        Ok(escalations)
    }
}

impl Cordon {
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

    /// Pages `commanders` — or the `incident-commander` policy when there are none — as the
    /// system, recorded against the incident's declarer. A failure is logged with `why`;
    /// returns how many pages were triggered.
    pub(crate) async fn page_commanders(&self, incident: &Incident, commanders: Vec<String>, why: &str) -> usize {
        let system = Principal {
            user_id: incident.created_by,
            name: "system".into(),
            is_admin: false,
            groups: Vec::new(),
        };
        let targets: Vec<PageTarget> = if commanders.is_empty() {
            vec![PageTarget::Policy(IC_POLICY.into())]
        } else {
            commanders.into_iter().map(PageTarget::User).collect()
        };
        let mut paged = 0;
        for t in targets {
            match self.page_incident(&system, incident, t).await {
                Ok(_) => paged += 1,
                Err(e) => tracing::error!(error = %e, incident = %incident.codename, "could not page about {why}"),
            }
        }
        paged
    }
}

/// Pages the incident commanders (or, when the incident has none, the `incident-commander`
/// policy) when stored evidence fails verification.
#[derive(Debug, Default, Clone, Copy)]
pub struct PageOnMismatch;

#[async_trait::async_trait]
impl crate::evidence::MismatchNotifier for PageOnMismatch {
    async fn evidence_mismatch(&self, cordon: &Cordon, alert: &crate::evidence::MismatchAlert) {
        let Ok(Some(incident)) = cordon.store.incident(alert.incident_id).await else {
            tracing::error!(incident = %alert.incident_id, "evidence mismatch on an unknown incident");
            return;
        };
        cordon
            .page_commanders(&incident, alert.commanders.clone(), "an evidence mismatch")
            .await;
    }
}
