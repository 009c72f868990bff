//! Pages and the escalation engine's decisions, as pure functions over plain data.
//!
//! A page is triggered through a snapshot of an [`EscalationPolicy`]: level 1 is notified at
//! once and a [`Deadline`] is set `after` later. When a deadline passes unacknowledged the
//! page escalates to the next level — or back to level 1 while `repeat` loops remain — and
//! the next deadline is set from the moment of escalation, so every level gets its full delay
//! even if the deadline was processed late. After the last level of the last loop the page
//! stays triggered with no further deadline. Acknowledging stops escalation; resolving ends
//! the page.
//!
//! The caller keeps a [`PageState`] and its `next_deadline` as rows and calls
//! [`on_deadline`] when a deadline row is due. Every notification carries a `step` number,
//! 0 for the trigger and one more for each escalation; a deadline carries the step it will
//! produce. Processing a deadline whose step is not the page's pending one is a no-op, so a
//! deadline handled twice (a retry, a restart, two workers) notifies once; `(page, step)`
//! also makes a natural unique key for the notifications the caller records.
//!
//! Turning a level's targets into users is the caller's lookup ([`OnCallLookup`]), so this
//! module needs no storage: see [`Notify::recipients`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::NotifyError;
use crate::escalation::{EscalationPolicy, Target};
use crate::parse;
use crate::schedule::Schedule;

/// Where a page stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageStatus {
    /// Escalating until someone acknowledges.
    Triggered,
    /// Someone took it; escalation stopped.
    Acknowledged,
    /// Over.
    Resolved,
}

impl PageStatus {
    /// The stable lower-case name: `triggered`, `acknowledged`, `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triggered => "triggered",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }
}

impl std::fmt::Display for PageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PageStatus {
    type Err = NotifyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "triggered" => Ok(Self::Triggered),
            "acknowledged" => Ok(Self::Acknowledged),
            "resolved" => Ok(Self::Resolved),
            other => Err(NotifyError::invalid(
                "status",
                format!("expected triggered, acknowledged or resolved, got {other:?}"),
            )),
        }
    }
}

/// When the page escalates next, and the step that escalation will produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Deadline {
    pub step: u64,
    pub at: Timestamp,
}

/// Who did something to a page, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user: String,
    pub at: Timestamp,
}

/// How a page was resolved: by a user, or by the system (`user` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub user: Option<String>,
    pub at: Timestamp,
}

/// A page's escalation state. Plain data: the caller stores it (in columns, or as JSON via
/// serde) and passes it back to [`on_deadline`], [`acknowledge`] and [`resolve`], which
/// return the next state rather than mutating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageState {
    /// The caller's id for the page.
    pub id: Uuid,
    /// The policy as it was when the page was triggered: later edits do not change a page in
    /// flight.
    pub policy: EscalationPolicy,
    pub status: PageStatus,
    /// The level notified last, counted from 1.
    pub level: u32,
    /// The loop through the levels: 0 on the first pass, up to `policy.repeat()`.
    pub round: u32,
    /// The step of the last notification: 0 at trigger, +1 per escalation.
    pub step: u64,
    /// The pending escalation; `None` once acknowledged, resolved or out of levels and loops.
    pub next_deadline: Option<Deadline>,
    pub triggered_at: Timestamp,
    pub acknowledged: Option<Actor>,
    pub resolved: Option<Resolution>,
    /// Why the page was raised (what was seen, who asked): for the people who may see the
    /// page in full, never for a notice. `None` on pages stored before pages carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// "Notify the targets of this level": one per trigger or escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    pub page: Uuid,
    /// Unique per page; use `(page, step)` (with the user) as the key of recorded attempts.
    pub step: u64,
    /// Counted from 1.
    pub level: u32,
    pub round: u32,
    pub targets: Vec<Target>,
}

/// The users a [`Notify`] reaches, after schedules are looked up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    /// Each user once, in target order, with the first target that named them.
    pub users: Vec<Recipient>,
    /// Schedules with nobody on call (or unknown to the lookup): nobody was reached through
    /// them. The caller should make this visible (in the room, in `!status`).
    pub unreached: Vec<Target>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user: String,
    pub via: Target,
}

/// Answers "who is on call for this schedule at this instant" for [`Notify::recipients`].
/// Implemented for closures and for a slice of [`Schedule`]s (looked up by name).
pub trait OnCallLookup {
    /// The user on call for the schedule named `schedule` at `now`, or `None` when nobody is
    /// or the schedule is unknown.
    fn on_call(&self, schedule: &str, now: Timestamp) -> Option<String>;
}

impl<F> OnCallLookup for F
where
    F: Fn(&str, Timestamp) -> Option<String>,
{
    fn on_call(&self, schedule: &str, now: Timestamp) -> Option<String> {
        self(schedule, now)
    }
}

impl OnCallLookup for [Schedule] {
    fn on_call(&self, schedule: &str, now: Timestamp) -> Option<String> {
        self.iter()
            .find(|s| s.name() == schedule)?
            .on_call_at(now)
            .map(|on_call| on_call.user)
    }
}

impl Notify {
    /// Resolves the targets at `now`: users as named, schedules through `lookup`. A user
    /// reached through several targets is listed once.
    pub fn recipients<L: OnCallLookup + ?Sized>(&self, lookup: &L, now: Timestamp) -> Recipients {
        let mut out = Recipients::default();
        for target in &self.targets {
            let user = match target {
                Target::User(user) => Some(user.clone()),
                Target::Schedule(schedule) => lookup.on_call(schedule, now),
            };
            match user {
                Some(user) if out.users.iter().any(|r| r.user == user) => {}
                Some(user) => out.users.push(Recipient {
                    user,
                    via: target.clone(),
                }),
                None => out.unreached.push(target.clone()),
            }
        }
        out
    }
}

/// What [`on_deadline`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlineOutcome {
    /// The page escalated: store `state` (with its new `next_deadline`) and send `notify`.
    Escalated { state: Box<PageState>, notify: Notify },
    /// The deadline is pending but not yet due: keep it.
    NotDue { at: Timestamp },
    /// The deadline no longer applies — already processed, or the page was acknowledged or
    /// resolved: drop it, notify nobody.
    Stale,
}

/// What [`acknowledge`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    /// Escalation stopped: store the state (boxed: a state is large beside an [`Actor`]).
    Acknowledged(Box<PageState>),
    /// Someone acknowledged before; nothing changes.
    AlreadyAcknowledged(Actor),
}

/// Triggers a page through `policy` at `now`: level 1 is notified (step 0) and, unless the
/// policy has a single level and no repeat, the first deadline is set.
pub fn trigger(id: Uuid, policy: EscalationPolicy, now: Timestamp) -> Result<(PageState, Notify), NotifyError> {
    let (level, round, step) = (1, 0, 0);
    let next_deadline = deadline_after(&policy, level, round, step, now)?;
    let notify = notification(id, &policy, level, round, step)?;
    let state = PageState {
        id,
        policy,
        status: PageStatus::Triggered,
        level,
        round,
        step,
        next_deadline,
        triggered_at: now,
        acknowledged: None,
        resolved: None,
        reason: None,
    };
    Ok((state, notify))
}

/// Processes the deadline numbered `step` at `now`. Escalates only if the page is still
/// triggered, `step` is its pending deadline and that deadline is due; otherwise nothing
/// changes, so processing the same deadline twice notifies once.
pub fn on_deadline(state: &PageState, step: u64, now: Timestamp) -> Result<DeadlineOutcome, NotifyError> {
    if state.status != PageStatus::Triggered {
        return Ok(DeadlineOutcome::Stale);
    }
    let Some(deadline) = state.next_deadline else {
        return Ok(DeadlineOutcome::Stale);
    };
    if deadline.step != step {
        return Ok(DeadlineOutcome::Stale);
    }
    if now < deadline.at {
        return Ok(DeadlineOutcome::NotDue { at: deadline.at });
    }
    check_position(state)?;
    if deadline.step != state.step.saturating_add(1) {
        return Err(NotifyError::CorruptPage(format!(
            "pending deadline step {} does not follow step {}",
            deadline.step, state.step
        )));
    }
    let Some((level, round)) = next_position(&state.policy, state.level, state.round) else {
        return Err(NotifyError::CorruptPage(
            "a deadline is pending after the last level of the last loop".into(),
        ));
    };
    let notify = notification(state.id, &state.policy, level, round, deadline.step)?;
    let next_deadline = deadline_after(&state.policy, level, round, deadline.step, now)?;
    let state = PageState {
        level,
        round,
        step: deadline.step,
        next_deadline,
        ..state.clone()
    };
    Ok(DeadlineOutcome::Escalated {
        state: Box::new(state),
        notify,
    })
}

/// `by` acknowledges the page at `now`: escalation stops. Refuses a resolved page.
pub fn acknowledge(state: &PageState, by: &str, now: Timestamp) -> Result<AckOutcome, NotifyError> {
    let user = parse::name("user", by)?;
    match state.status {
        PageStatus::Resolved => Err(NotifyError::PageResolved),
        PageStatus::Acknowledged => match &state.acknowledged {
            Some(first) => Ok(AckOutcome::AlreadyAcknowledged(first.clone())),
            None => Err(NotifyError::CorruptPage("acknowledged without an acknowledger".into())),
        },
        PageStatus::Triggered => Ok(AckOutcome::Acknowledged(Box::new(PageState {
            status: PageStatus::Acknowledged,
            next_deadline: None,
            acknowledged: Some(Actor { user, at: now }),
            ..state.clone()
        }))),
    }
}

/// Resolves the page at `now`, by a user or (with `None`) by the system. Refuses a page
/// that is already resolved.
pub fn resolve(state: &PageState, by: Option<&str>, now: Timestamp) -> Result<PageState, NotifyError> {
    if state.status == PageStatus::Resolved {
        return Err(NotifyError::PageResolved);
    }
    let user = by.map(|u| parse::name("user", u)).transpose()?;
    Ok(PageState {
        status: PageStatus::Resolved,
        next_deadline: None,
        resolved: Some(Resolution { user, at: now }),
        ..state.clone()
    })
}

/// The level and round after `(level, round)`, or `None` after the last level of the last
/// loop.
fn next_position(policy: &EscalationPolicy, level: u32, round: u32) -> Option<(u32, u32)> {
    if level < policy.last_level() {
        Some((level + 1, round))
    } else if round < policy.repeat() {
        Some((1, round + 1))
    } else {
        None
    }
}

/// The deadline after notifying `(level, round)` as `step` at `now`, if anything follows.
fn deadline_after(
    policy: &EscalationPolicy,
    level: u32,
    round: u32,
    step: u64,
    now: Timestamp,
) -> Result<Option<Deadline>, NotifyError> {
    if next_position(policy, level, round).is_none() {
        return Ok(None);
    }
    let after = policy
        .level(level)
        .ok_or_else(|| NotifyError::CorruptPage(format!("level {level} does not exist")))?
        .after();
    let at = now
        .checked_add(after)
        .map_err(|_| NotifyError::TimeOutOfRange(format!("{now} + {after}")))?;
    Ok(Some(Deadline {
        step: step.saturating_add(1),
        at,
    }))
}

fn notification(
    page: Uuid,
    policy: &EscalationPolicy,
    level: u32,
    round: u32,
    step: u64,
) -> Result<Notify, NotifyError> {
    let targets = policy
        .level(level)
        .ok_or_else(|| NotifyError::CorruptPage(format!("level {level} does not exist")))?
        .targets()
        .to_vec();
    Ok(Notify {
        page,
        step,
        level,
        round,
        targets,
    })
}

fn check_position(state: &PageState) -> Result<(), NotifyError> {
    if state.level == 0 || state.level > state.policy.last_level() {
        return Err(NotifyError::CorruptPage(format!(
            "level {} of a policy with {} levels",
            state.level,
            state.policy.last_level()
        )));
    }
    if state.round > state.policy.repeat() {
        return Err(NotifyError::CorruptPage(format!(
            "loop {} of a policy repeating {} times",
            state.round,
            state.policy.repeat()
        )));
    }
    Ok(())
}
