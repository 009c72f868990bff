//! Escalation sequences driven by a manual clock: trigger, escalate on deadlines, loop with
//! `repeat`, stop on acknowledge, resolve, and process duplicate deadlines once.

use cordon_notify::page::{self, AckOutcome, DeadlineOutcome};
use cordon_notify::{
    EscalationPolicy, EscalationPolicySpec, Notify, NotifyError, PageState, PageStatus, Schedule, ScheduleSpec, Target,
};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use uuid::Uuid;

/// The clock the tests drive: it moves only when told to.
struct ManualClock(Timestamp);

impl ManualClock {
    fn start() -> Self {
        Self("2025-06-02T10:00:00Z".parse().unwrap())
    }
    fn now(&self) -> Timestamp {
        self.0
    }
    fn advance(&mut self, by: SignedDuration) -> Timestamp {
        self.0 += by;
        self.0
    }
    fn set(&mut self, to: Timestamp) {
        self.0 = to;
    }
}

fn policy(json: &str) -> EscalationPolicy {
    let spec: EscalationPolicySpec = serde_json::from_str(json).unwrap();
    EscalationPolicy::parse(&spec).unwrap()
}

/// The outside check's shape: the IC schedule, then a second level a few seconds later.
fn two_levels(repeat: u32) -> EscalationPolicy {
    policy(&format!(
        r#"{{"name":"incident-commander","repeat":{repeat},"levels":[
            {{"targets":[{{"schedule":"ic-primary"}}],"after":"PT5M"}},
            {{"targets":[{{"user":"backup"}},{{"schedule":"ic-primary"}}],"after":"PT3S"}}]}}"#
    ))
}

fn id() -> Uuid {
    Uuid::from_u128(7)
}

fn escalate(state: &PageState, now: Timestamp) -> (PageState, Notify) {
    let step = state.next_deadline.expect("a pending deadline").step;
    match page::on_deadline(state, step, now).unwrap() {
        DeadlineOutcome::Escalated { state, notify } => (*state, notify),
        other => panic!("expected an escalation, got {other:?}"),
    }
}

#[test]
fn trigger_notifies_level_one_and_sets_the_first_deadline() {
    let clock = ManualClock::start();
    let (state, notify) = page::trigger(id(), two_levels(0), clock.now()).unwrap();
    assert_eq!(state.status, PageStatus::Triggered);
    assert_eq!((state.level, state.round, state.step), (1, 0, 0));
    assert_eq!((notify.level, notify.round, notify.step), (1, 0, 0));
    assert_eq!(notify.page, id());
    assert_eq!(notify.targets, [Target::Schedule("ic-primary".into())]);
    let deadline = state.next_deadline.unwrap();
    assert_eq!(deadline.step, 1);
    assert_eq!(deadline.at, clock.now() + SignedDuration::from_mins(5));
}

#[test]
fn without_ack_level_two_is_notified_when_the_delay_runs_out() {
    let mut clock = ManualClock::start();
    let (state, _) = page::trigger(id(), two_levels(0), clock.now()).unwrap();
    let deadline = state.next_deadline.unwrap();

    // A second early: nothing happens, the deadline stays.
    let early = clock.advance(SignedDuration::from_secs(299));
    assert_eq!(
        page::on_deadline(&state, deadline.step, early).unwrap(),
        DeadlineOutcome::NotDue { at: deadline.at }
    );
    let on_time = clock.advance(SignedDuration::from_secs(1));
    let (state, notify) = escalate(&state, on_time);
    assert_eq!((notify.level, notify.round, notify.step), (2, 0, 1));
    assert_eq!(
        notify.targets,
        [Target::User("backup".into()), Target::Schedule("ic-primary".into())]
    );
    // Last level, no repeat: the page stays triggered with nothing more to do.
    assert_eq!(state.status, PageStatus::Triggered);
    assert_eq!(state.next_deadline, None);
}

#[test]
fn repeat_loops_through_the_levels_then_stops() {
    // (levels, repeat) → the (level, round) of every notification, in order.
    type LevelAndRound = (u32, u32);
    let cases: [(&str, u32, Vec<LevelAndRound>); 4] = [
        ("one level", 0, vec![(1, 0)]),
        ("one level", 2, vec![(1, 0), (1, 1), (1, 2)]),
        ("two levels", 0, vec![(1, 0), (2, 0)]),
        ("two levels", 2, vec![(1, 0), (2, 0), (1, 1), (2, 1), (1, 2), (2, 2)]),
    ];
    for (shape, repeat, want) in cases {
        let policy = if shape == "one level" {
            policy(&format!(
                r#"{{"name":"p","repeat":{repeat},"levels":[{{"targets":[{{"user":"a"}}],"after":"PT1M"}}]}}"#
            ))
        } else {
            two_levels(repeat)
        };
        let mut clock = ManualClock::start();
        let (mut state, first) = page::trigger(id(), policy, clock.now()).unwrap();
        let mut seen = vec![(first.level, first.round)];
        let mut steps = vec![first.step];
        while let Some(deadline) = state.next_deadline {
            // Every level waits its own delay, measured from its notification.
            let waited = deadline.at.duration_since(clock.now());
            let after = state.policy.level(state.level).unwrap().after();
            assert_eq!(waited, after, "{shape} repeat {repeat}");
            clock.set(deadline.at);
            let (next, notify) = escalate(&state, clock.now());
            seen.push((notify.level, notify.round));
            steps.push(notify.step);
            state = next;
        }
        assert_eq!(seen, want, "{shape} repeat {repeat}");
        assert_eq!(steps, (0..want.len() as u64).collect::<Vec<_>>());
        assert_eq!(state.status, PageStatus::Triggered, "stays triggered");
    }
}

#[test]
fn acknowledging_stops_escalation() {
    let mut clock = ManualClock::start();
    let (state, _) = page::trigger(id(), two_levels(3), clock.now()).unwrap();
    let pending = state.next_deadline.unwrap();
    let at = clock.advance(SignedDuration::from_mins(2));
    let AckOutcome::Acknowledged(acked) = page::acknowledge(&state, "alice", at).unwrap() else {
        panic!("first ack")
    };
    assert_eq!(acked.status, PageStatus::Acknowledged);
    assert_eq!(acked.next_deadline, None);
    let by = acked.acknowledged.clone().unwrap();
    assert_eq!((by.user.as_str(), by.at), ("alice", at));

    // The deadline row the caller had not deleted yet fires: nothing is sent.
    let late = clock.advance(SignedDuration::from_mins(10));
    assert_eq!(
        page::on_deadline(&acked, pending.step, late).unwrap(),
        DeadlineOutcome::Stale
    );
    // A second ack reports the first.
    assert_eq!(
        page::acknowledge(&acked, "bob", late).unwrap(),
        AckOutcome::AlreadyAcknowledged(by)
    );
    assert_eq!(
        page::acknowledge(&acked, " ", late).unwrap_err().code(),
        "invalid_field"
    );
}

#[test]
fn resolving_ends_the_page() {
    let mut clock = ManualClock::start();
    let (state, _) = page::trigger(id(), two_levels(1), clock.now()).unwrap();
    let pending = state.next_deadline.unwrap();

    // From triggered, by the system.
    let at = clock.advance(SignedDuration::from_mins(1));
    let resolved = page::resolve(&state, None, at).unwrap();
    assert_eq!(resolved.status, PageStatus::Resolved);
    assert_eq!(resolved.next_deadline, None);
    assert_eq!(resolved.resolved.as_ref().unwrap().user, None);
    assert_eq!(
        page::on_deadline(&resolved, pending.step, clock.advance(SignedDuration::from_mins(9))).unwrap(),
        DeadlineOutcome::Stale
    );
    // A resolved page can be neither acknowledged nor resolved again.
    assert_eq!(
        page::acknowledge(&resolved, "alice", clock.now()),
        Err(NotifyError::PageResolved)
    );
    assert_eq!(
        page::resolve(&resolved, Some("alice"), clock.now()).unwrap_err().code(),
        "page_resolved"
    );

    // From acknowledged, by a user.
    let AckOutcome::Acknowledged(acked) = page::acknowledge(&state, "alice", at).unwrap() else {
        panic!()
    };
    let resolved = page::resolve(&acked, Some("alice"), clock.now()).unwrap();
    assert_eq!(resolved.status, PageStatus::Resolved);
    assert_eq!(resolved.acknowledged, acked.acknowledged);
    assert_eq!(resolved.resolved.unwrap().user.as_deref(), Some("alice"));
}

#[test]
fn a_deadline_processed_twice_notifies_once() {
    let mut clock = ManualClock::start();
    let (state, _) = page::trigger(id(), two_levels(1), clock.now()).unwrap();
    let deadline = state.next_deadline.unwrap();
    let now = clock.advance(SignedDuration::from_mins(5));

    // Processed, stored, processed again (a retry, a restart): the second time is stale.
    let (stored, notify) = escalate(&state, now);
    assert_eq!(notify.step, deadline.step);
    let again = clock.advance(SignedDuration::from_secs(1));
    assert_eq!(
        page::on_deadline(&stored, deadline.step, again).unwrap(),
        DeadlineOutcome::Stale
    );
    // An older step number is stale too, whatever the state.
    assert_eq!(page::on_deadline(&stored, 0, again).unwrap(), DeadlineOutcome::Stale);
    // Two workers that loaded the same state both decide — identically, with the same step,
    // so a unique (page, step) key on recorded notifications keeps one.
    let (_, first) = escalate(&state, now);
    let (_, second) = escalate(&state, now);
    assert_eq!(first, second);
}

#[test]
fn late_processing_gives_the_next_level_its_full_delay() {
    let mut clock = ManualClock::start();
    let (state, _) = page::trigger(id(), two_levels(1), clock.now()).unwrap();
    // The server was down for ten minutes past the deadline.
    let now = clock.advance(SignedDuration::from_mins(15));
    let (state, notify) = escalate(&state, now);
    assert_eq!(notify.level, 2);
    assert_eq!(state.next_deadline.unwrap().at, now + SignedDuration::from_secs(3));
}

#[test]
fn targets_resolve_to_users_through_the_lookup() {
    let clock = ManualClock::start();
    let (state, _) = page::trigger(id(), two_levels(0), clock.now()).unwrap();
    let (_, notify) = escalate(&state, clock.now() + SignedDuration::from_mins(5));

    // A closure lookup; "backup" is both a user target and on call: listed once.
    let lookup = |schedule: &str, _now: Timestamp| (schedule == "ic-primary").then(|| "backup".to_string());
    let to = notify.recipients(&lookup, clock.now());
    assert_eq!(to.users.len(), 1);
    assert_eq!(to.users[0].user, "backup");
    assert_eq!(to.users[0].via, Target::User("backup".into()));
    assert!(to.unreached.is_empty());

    // Nobody on call: the schedule is reported unreached.
    let nobody = |_: &str, _: Timestamp| None;
    let to = notify.recipients(&nobody, clock.now());
    assert_eq!(to.users.len(), 1);
    assert_eq!(to.unreached, [Target::Schedule("ic-primary".into())]);

    // Real schedules, looked up by name at the instant asked.
    let spec: ScheduleSpec = serde_json::from_str(
        r#"{"name":"ic-primary","time_zone":"UTC","rotations":[
            {"users":["alice","bob"],"shift":"P1D","handoff":"2025-06-02T09:00:00Z"}]}"#,
    )
    .unwrap();
    let schedules = [Schedule::parse(&spec).unwrap()];
    let to = notify.recipients(&schedules[..], clock.now());
    let users: Vec<&str> = to.users.iter().map(|r| r.user.as_str()).collect();
    assert_eq!(users, ["backup", "alice"]);
    let tomorrow = clock.now() + SignedDuration::from_hours(24);
    assert_eq!(notify.recipients(&schedules[..], tomorrow).users[1].user, "bob");
}

#[test]
fn a_corrupt_stored_state_is_an_error_not_a_panic() {
    let clock = ManualClock::start();
    let (state, _) = page::trigger(id(), two_levels(0), clock.now()).unwrap();
    let step = state.next_deadline.unwrap().step;
    let later = clock.now() + SignedDuration::from_hours(1);
    for corrupt in [
        PageState {
            level: 0,
            ..state.clone()
        },
        PageState {
            level: 9,
            ..state.clone()
        },
        PageState {
            round: 4,
            ..state.clone()
        },
        PageState {
            level: 2,
            ..state.clone()
        },
        PageState {
            step: 5,
            ..state.clone()
        },
    ] {
        let err = page::on_deadline(&corrupt, step, later).unwrap_err();
        assert_eq!(err.code(), "corrupt_page", "{corrupt:?}");
    }
}

#[test]
fn page_state_round_trips_through_json() {
    let clock = ManualClock::start();
    let (state, _) = page::trigger(id(), two_levels(2), clock.now()).unwrap();
    let json = serde_json::to_value(&state).unwrap();
    assert_eq!(json["status"], "triggered");
    assert_eq!(json["policy"]["name"], "incident-commander");
    assert_eq!(json["policy"]["levels"][1]["after"], "PT3S");
    assert_eq!(json["next_deadline"]["step"], 1);
    let back: PageState = serde_json::from_value(json).unwrap();
    assert_eq!(back, state);
    assert_eq!("acknowledged".parse::<PageStatus>().unwrap(), PageStatus::Acknowledged);
    assert_eq!(PageStatus::Resolved.to_string(), "resolved");
}

#[derive(Debug, Clone)]
enum Event {
    Advance(u32),
    /// Process the pending deadline, or (when false) a random stale step.
    Deadline(bool, u64),
    Ack,
    Resolve,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (0u32..400).prop_map(Event::Advance),
        4 => (any::<bool>(), 0u64..12).prop_map(|(pending, step)| Event::Deadline(pending, step)),
        1 => Just(Event::Ack),
        1 => Just(Event::Resolve),
    ]
}

proptest! {
    /// Whatever happens in whatever order: steps strictly increase, no level is notified
    /// twice in one loop, nothing is notified after an ack or a resolve, and never more than
    /// levels × (repeat + 1) notifications.
    #[test]
    fn escalation_invariants(
        levels in 1usize..4,
        repeat in 0u32..3,
        afters in prop::collection::vec(1u32..300, 3),
        events in prop::collection::vec(event(), 0..60),
    ) {
        let level_json: Vec<String> = (0..levels)
            .map(|i| format!(r#"{{"targets":[{{"user":"u{i}"}}],"after":"PT{}S"}}"#, afters[i]))
            .collect();
        let policy = policy(&format!(
            r#"{{"name":"p","repeat":{repeat},"levels":[{}]}}"#,
            level_json.join(",")
        ));
        let mut clock = ManualClock::start();
        let (mut state, first) = page::trigger(id(), policy, clock.now()).unwrap();
        let mut sent = vec![first];
        let mut stopped = false;
        for event in events {
            match event {
                Event::Advance(secs) => {
                    clock.advance(SignedDuration::from_secs(i64::from(secs)));
                }
                Event::Deadline(pending, step) => {
                    let step = match (pending, state.next_deadline) {
                        (true, Some(d)) => d.step,
                        _ => step,
                    };
                    match page::on_deadline(&state, step, clock.now()).unwrap() {
                        DeadlineOutcome::Escalated { state: next, notify } => {
                            prop_assert!(!stopped, "notified after ack/resolve");
                            state = *next;
                            sent.push(notify);
                        }
                        DeadlineOutcome::NotDue { at } => prop_assert!(at > clock.now()),
                        DeadlineOutcome::Stale => {}
                    }
                }
                Event::Ack => {
                    if let Ok(AckOutcome::Acknowledged(next)) = page::acknowledge(&state, "x", clock.now()) {
                        state = *next;
                    }
                    stopped = state.status != PageStatus::Triggered;
                }
                Event::Resolve => {
                    if let Ok(next) = page::resolve(&state, None, clock.now()) {
                        state = next;
                    }
                    stopped = true;
                }
            }
        }
        prop_assert!(sent.len() <= levels * (repeat as usize + 1));
        for pair in sent.windows(2) {
            prop_assert_eq!(pair[1].step, pair[0].step + 1);
            prop_assert!((pair[1].round, pair[1].level) > (pair[0].round, pair[0].level));
        }
    }
}
