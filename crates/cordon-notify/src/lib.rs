//! The Cordon paging domain: on-call schedules, escalation policies, and the decisions of the
//! escalation engine.
//!
//! - [`schedule`]: schedules of layered rotations with restrictions and overrides; who is on
//!   call at an instant ([`Schedule::on_call_at`]) and the final shifts over a window
//!   ([`Schedule::shifts`]), correct across DST changes.
//! - [`escalation`]: escalation policies — levels of targets with an `after` delay, repeated.
//! - [`page`]: the page state machine (triggered → acknowledged → resolved) and escalation
//!   as pure functions: [`page::trigger`], [`page::on_deadline`], [`page::acknowledge`],
//!   [`page::resolve`].
//!
//! Invariants of this crate: no IO, no storage, no clock reads (every function that needs the
//! time takes `now`), no delivery. Untrusted input arrives as `*Spec` structs of plain strings
//! and is validated once by `parse` into the domain types; errors are one enum,
//! [`NotifyError`], with stable codes and field paths.
//!
//! ```
//! use cordon_notify::{EscalationPolicy, EscalationPolicySpec, Schedule, ScheduleSpec, page};
//! use jiff::{SignedDuration, Timestamp};
//!
//! let schedule: ScheduleSpec = serde_json::from_str(r#"{
//!     "name": "ic-primary", "time_zone": "Europe/Berlin",
//!     "rotations": [{"users": ["alice", "bob"], "shift": "P7D",
//!                    "handoff": "2025-01-06T09:00:00+01:00"}]}"#)?;
//! let schedules = [Schedule::parse(&schedule)?];
//! let policy: EscalationPolicySpec = serde_json::from_str(r#"{
//!     "name": "incident-commander", "repeat": 1,
//!     "levels": [{"targets": [{"schedule": "ic-primary"}], "after": "PT5M"},
//!                {"targets": [{"user": "carol"}], "after": "PT5M"}]}"#)?;
//! let policy = EscalationPolicy::parse(&policy)?;
//!
//! let now: Timestamp = "2025-01-08T12:00:00Z".parse()?;
//! let (state, notify) = page::trigger(uuid::Uuid::nil(), policy, now)?;
//! let to = notify.recipients(&schedules[..], now);
//! assert_eq!(to.users[0].user, "alice");
//!
//! let deadline = state.next_deadline.unwrap();
//! assert_eq!(deadline.at, now + SignedDuration::from_mins(5));
//! let later = deadline.at;
//! let page::DeadlineOutcome::Escalated { state, notify } =
//!     page::on_deadline(&state, deadline.step, later)? else { unreachable!() };
//! assert_eq!((notify.level, notify.step), (2, 1));
//! // The same deadline again changes nothing.
//! assert_eq!(page::on_deadline(&state, deadline.step, later)?, page::DeadlineOutcome::Stale);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod error;
pub mod escalation;
pub mod page;
mod parse;
pub mod schedule;

pub use error::NotifyError;
pub use escalation::{EscalationPolicy, EscalationPolicySpec, Level, LevelSpec, Target};
pub use jiff::Timestamp;
pub use page::{
    AckOutcome, Deadline, DeadlineOutcome, Notify, OnCallLookup, PageState, PageStatus, Recipient, Recipients,
};
pub use parse::MAX_NAME_CHARS;
pub use schedule::{
    Layer, LayerSpec, OnCall, Override, OverrideSpec, Restriction, RestrictionSpec, Schedule, ScheduleSpec, Shift,
    Source,
};
