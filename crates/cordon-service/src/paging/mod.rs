//! Paging: on-call schedules, escalation policies, contact methods, pages and the engine that
//! escalates them and delivers their notifications.
//!
//! Escalation deadlines and notifications are rows; [`Cordon::run_engine`] processes what is
//! due at the `now` it is given, so a page triggered before a crash still escalates after the
//! restart, exactly once (the store flips each deadline once). Everything that leaves over a
//! channel is a notice — codename, severity and a link — built from types that can hold
//! nothing else.
//!
//! | module | job |
//! | --- | --- |
//! | this file | schedules, escalation policies, who a notification goes to |
//! | `pages` | triggering, viewing, acknowledging and resolving pages; what an acknowledgement grants |
//! | `links` | the one-time acknowledgement links carried by notices |
//! | `escalate` | the engine's escalation half |
//! | `deliver` | the engine's delivery half, and the first attempt made while a page is triggered |
//! | `reach` | which contact methods can deliver, what a page reached, the readiness warnings |
//! | `list` | the pages a caller may see, newest first |

mod deliver;
mod escalate;
mod links;
mod list;
mod pages;
mod reach;

pub use links::{ACK_LINK_TTL, AckLinkInfo};
pub use list::{PageFilter, PageList};
pub use pages::{MAX_REASON_CHARS, PageOnMismatch, PageRequest};
pub use reach::{ChannelReadiness, PagingReadiness, Reach, ReachOutcome, reach_of};

use std::sync::Arc;

use cordon_channels::{HttpTransport, OutboundPolicy, SmsGateway};
use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::role::Role;
use cordon_core::user::User;
use cordon_mail::Mailer;
use cordon_notify::{EscalationPolicy, EscalationPolicySpec, Notify, PageState, Schedule, ScheduleSpec, Target};
use cordon_store::paging::{NotificationRow, PageRow};
use jiff::SignedDuration;
use serde_json::json;
use uuid::Uuid;

use crate::audit::draft;
use crate::incidents::new_id;
use crate::secrets::SealingKey;
use crate::{Cordon, Result, ServiceError};

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
/// How long triggering a page waits for its first delivery attempts, so the answer can say
/// who was reached; what is not done by then goes on in the background and is reported as
/// not confirmed yet.
pub const FIRST_ATTEMPT_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// How pages leave the building. Built by the binary from its configuration.
pub struct PagingSettings {
    /// Base of the links in notices (`CORDON_PUBLIC_URL`).
    pub public_url: String,
    pub mailer: Option<Mailer>,
    pub http: HttpTransport,
    pub sms: Option<SmsGateway>,
    /// Seals each webhook contact's own signing secret at rest.
    pub sealing_key: SealingKey,
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
            http: HttpTransport::new(cordon_channels::Timeouts::default(), OutboundPolicy::strict())
                .expect("default HTTP transport"),
            sms: None,
            sealing_key: SealingKey::generate(),
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

/// A page as its viewer may see it: never the incident's title. Someone who may see the
/// incident sees every notification; a recipient outside the team sees only their own.
#[derive(Debug, Clone)]
pub struct PageView {
    pub id: Uuid,
    /// The incident's id (for viewers of the incident) and codename.
    pub incident: Option<(Option<Uuid>, String)>,
    pub policy: String,
    pub state: PageState,
    /// Who acknowledged, when the viewer may know.
    pub acknowledged_by: Option<String>,
    pub notifications: Vec<NotificationRow>,
    /// Targets through which nobody was reached (a schedule with nobody on call).
    pub unreached: Vec<String>,
    /// The role an acknowledging recipient is granted.
    pub role: Option<Role>,
    /// Whether this is a recipient's own view of a page about an incident they may not see.
    pub restricted: bool,
    /// When the page was triggered (its place in the page list).
    pub created_at: Timestamp,
}

impl PageView {
    /// Why the page was raised; `None` in a recipient's restricted view (the notice said
    /// codename and severity only) and on pages stored before pages carried a reason.
    pub fn reason(&self) -> Option<&str> {
        if self.restricted {
            None
        } else {
            self.state.reason.as_deref()
        }
    }
}

/// Who is on call on one schedule at the moment asked.
#[derive(Debug, Clone)]
pub struct OnCallShift {
    pub schedule: String,
    /// `None`: nobody (a gap in the rotation).
    pub on_call: Option<cordon_notify::schedule::OnCall>,
}

/// The on-call picture now: every schedule, every escalation policy.
#[derive(Debug, Clone)]
pub struct OnCallNow {
    pub schedules: Vec<OnCallShift>,
    pub policies: Vec<EscalationPolicy>,
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

    /// Who is on call now on every schedule (by name), and the escalation policies: what the
    /// on-call page and the war room show. Everyone signed in may see it, as the API's lists.
    pub async fn on_call_now(&self) -> Result<OnCallNow> {
        let now = self.clock.now();
        let schedules = self
            .schedules()
            .await?
            .iter()
            .map(|s| OnCallShift {
                schedule: s.name().to_owned(),
                on_call: s.on_call_at(now),
            })
            .collect();
        let policies = self
            .store
            .policies()
            .await?
            .into_iter()
            .filter_map(|(name, spec)| {
                let spec: EscalationPolicySpec = serde_json::from_str(&spec).ok()?;
                EscalationPolicy::parse(&spec)
                    .inspect_err(
                        |e| tracing::warn!(policy = %name, error = %e, "a stored escalation policy does not parse"),
                    )
                    .ok()
            })
            .collect();
        Ok(OnCallNow { schedules, policies })
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
}
