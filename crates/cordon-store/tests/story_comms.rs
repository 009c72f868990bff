//! The communications storage story every backend must pass: drafts with approvals that an
//! edit clears, sent exactly once; templates replaced in place; contacts that advance their
//! checklist task in the same transaction; regulatory clocks with ordered milestones, met
//! once; reminders claimed exactly once. Every change is one audit entry of its transaction.
//! Run against SQLite and PostgreSQL (a throw-away database each run); on PostgreSQL two nodes
//! then race for each once-only change.

mod common;

use common::{at_once, audit, audit_at, chain_ok, incident, next_id, on_sqlite, on_two_pools, t, task, user};
use cordon_core::Timestamp;
use cordon_core::comms::{Audience, DraftStatus, Party};
use cordon_core::regulatory::{Jurisdiction, Regime};
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_store::comms::{
    ApprovalRow, ClockRow, CommunicationRow, ContactRow, MilestoneRow, ReminderRow, TemplateRow,
};
use cordon_store::{CommsStore, IncidentQuery, NewIncident, PostgresStore, Store, StoreError, Viewer};
use uuid::Uuid;

/// A draft for the public with no recipients and no findings, written by `by` at `at`.
fn draft(incident: Uuid, by: Uuid, at: Timestamp) -> CommunicationRow {
    CommunicationRow {
        id: next_id(),
        incident_id: incident,
        audience: Audience::External,
        title: "notice".into(),
        body: "body".into(),
        recipients: "[]".into(),
        third_parties_public: false,
        status: DraftStatus::Draft,
        findings: "[]".into(),
        channel: None,
        sent_at: None,
        sent_by: None,
        created_by: by,
        created_at: at,
        updated_at: at,
        lint_override: None,
        approvals: vec![],
    }
}

/// A NIS2 clock (EU) started by `by` at `at`.
fn nis2_clock(incident: Uuid, by: Uuid, at: Timestamp) -> ClockRow {
    ClockRow {
        id: next_id(),
        incident_id: incident,
        regime: Regime::Nis2,
        started_at: at,
        jurisdiction: Jurisdiction::Eu,
        unlawful_purpose: false,
        created_by: by,
        created_at: at,
    }
}

/// The story. Each new comms store method gets a step here.
pub async fn story(store: &dyn Store) {
    let at = t("2026-11-27T10:00:00Z");
    let alice = user(next_id(), "alice");
    store.create_user(&alice, audit("user.create")).await.unwrap();
    let inc = next_id();
    let task12 = task(next_id(), inc, 12, "law_enforcement_legal");
    let new = NewIncident {
        tasks: vec![task12.clone()],
        ..incident(inc, "amber-falcon", alice.id)
    };
    store.create_incident(&new, audit("incident.declare")).await.unwrap();
    let base = chain_ok(store).await;

    // A draft, approved by the commander then legal, edited (approvals cleared), sent once.
    let mut c = draft(inc, alice.id, at);
    store
        .create_communication(&c, audit("communication.create"))
        .await
        .unwrap();
    let approval = |role| ApprovalRow {
        role,
        user_name: "alice".into(),
        at,
    };
    store
        .add_approval(
            c.id,
            &approval(Role::IncidentCommander),
            DraftStatus::Draft,
            c.updated_at,
            audit("communication.approve"),
        )
        .await
        .unwrap();
    // an approver who read an older version approves nothing
    let stale = at.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap();
    assert!(matches!(
        store
            .add_approval(
                c.id,
                &approval(Role::Legal),
                DraftStatus::Approved,
                stale,
                audit("communication.approve"),
            )
            .await,
        Err(StoreError::Conflict("communication"))
    ));
    c.body = "edited".into();
    store
        .update_communication(&c, true, audit("communication.update"))
        .await
        .unwrap();
    let got = store.communication(inc, c.id).await.unwrap().unwrap();
    assert_eq!(got.body, "edited");
    assert!(got.approvals.is_empty(), "an edit clears approvals");
    // The commander's override of error findings is kept with the findings as linted, only
    // on the version the commander read; an edit clears it.
    const OVERRIDE: &str = r#"{"reason":"legal reviewed the wording","by":"alice"}"#;
    const FINDINGS: &str = r#"[{"rule":"timeline","severity":"error","message":"no timeline"}]"#;
    let later = at.checked_add(jiff::SignedDuration::from_secs(1)).unwrap();
    assert!(matches!(
        store
            .override_findings(
                c.id,
                OVERRIDE,
                FINDINGS,
                stale,
                later,
                audit("communication.lint_override")
            )
            .await,
        Err(StoreError::Conflict("communication"))
    ));
    store
        .override_findings(
            c.id,
            OVERRIDE,
            FINDINGS,
            at,
            later,
            audit("communication.lint_override"),
        )
        .await
        .unwrap();
    let got = store.communication(inc, c.id).await.unwrap().unwrap();
    assert_eq!(
        (got.lint_override.as_deref(), got.findings.as_str(), got.updated_at),
        (Some(OVERRIDE), FINDINGS, later)
    );
    store
        .update_communication(&c, true, audit("communication.update"))
        .await
        .unwrap();
    let got = store.communication(inc, c.id).await.unwrap().unwrap();
    assert_eq!(
        (got.lint_override, got.updated_at),
        (None, at),
        "an edit clears the override"
    );
    assert!(
        !store
            .mark_sent(c.id, "published", at, "alice", audit("communication.send"))
            .await
            .unwrap()
    );
    for role in [Role::IncidentCommander, Role::Legal] {
        store
            .add_approval(
                c.id,
                &approval(role),
                DraftStatus::Approved,
                at,
                audit("communication.approve"),
            )
            .await
            .unwrap();
    }
    let got = store.communication(inc, c.id).await.unwrap().unwrap();
    assert_eq!(got.status, DraftStatus::Approved);
    assert_eq!(got.approvals.len(), 2);
    // a claimed delivery that failed hands the message back, approvals intact
    assert!(
        store
            .mark_sent(c.id, "mail", at, "alice", audit("communication.send"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .unmark_sent(c.id, "published", audit("communication.unsend"))
            .await
            .unwrap(),
        "only the channel that claimed it hands it back"
    );
    assert!(
        store
            .unmark_sent(c.id, "mail", audit("communication.unsend"))
            .await
            .unwrap()
    );
    let got = store.communication(inc, c.id).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.approvals.len(), got.sent_at),
        (DraftStatus::Approved, 2, None)
    );
    assert!(
        store
            .mark_sent(c.id, "published", at, "alice", audit("communication.send"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_sent(c.id, "published", at, "alice", audit("communication.send"))
            .await
            .unwrap()
    );
    let got = store.communications(inc).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].status, got[0].channel.as_deref(), got[0].sent_at),
        (DraftStatus::Sent, Some("published"), Some(at))
    );
    assert!(
        matches!(
            store
                .update_communication(&c, false, audit("communication.update"))
                .await,
            Err(StoreError::NotFound(_))
        ),
        "a sent message is final"
    );
    assert!(
        matches!(
            store
                .override_findings(c.id, OVERRIDE, FINDINGS, at, at, audit("communication.lint_override"))
                .await,
            Err(StoreError::Conflict("communication"))
        ),
        "nor is a sent message's override changed"
    );
    assert!(
        store.communication(next_id(), c.id).await.unwrap().is_none(),
        "scoped to the incident"
    );

    // Templates: created, then replaced.
    let mut tpl = TemplateRow {
        name: "external".into(),
        audience: Audience::External,
        title: "{{ today }}".into(),
        body: "a".into(),
        updated_by: "alice".into(),
        updated_at: at,
    };
    store.put_template(&tpl, audit("template.put")).await.unwrap();
    tpl.body = "b".into();
    store.put_template(&tpl, audit("template.put")).await.unwrap();
    assert_eq!(store.template("external").await.unwrap().unwrap().body, "b");
    assert_eq!(store.templates().await.unwrap().len(), 1);
    assert!(store.template("nope").await.unwrap().is_none());

    // A contact advances its task in the same transaction.
    let mut moved = task12.clone();
    moved.status = TaskStatus::InProgress;
    let contact = ContactRow {
        id: next_id(),
        incident_id: inc,
        party: Party::LawEnforcement,
        name: "FBI field office".into(),
        at,
        reference: Some("CASE-1".into()),
        outcome: None,
        task_id: Some(task12.id),
        created_by: alice.id,
        created_at: at,
    };
    store
        .add_contact_log(&contact, Some(&moved), audit("contact.add"))
        .await
        .unwrap();
    assert_eq!(store.contact_log(inc).await.unwrap(), [contact]);
    assert_eq!(store.tasks(inc).await.unwrap()[0].status, TaskStatus::InProgress);

    // A clock with ordered milestones, met once, and reminders claimed once.
    let clock = nis2_clock(inc, alice.id, at);
    let ms: Vec<MilestoneRow> = [
        ("early_warning", "2026-11-28T10:00:00Z"),
        ("incident_notification", "2026-11-30T10:00:00Z"),
    ]
    .iter()
    .map(|(n, d)| MilestoneRow {
        name: (*n).into(),
        description: "d".into(),
        due_at: t(d),
        met_at: None,
    })
    .collect();
    let reminder = ReminderRow {
        id: next_id(),
        clock_id: clock.id,
        milestone: "early_warning".into(),
        remind_at: t("2026-11-28T09:00:00Z"),
    };
    store
        .create_clock(&clock, &ms, std::slice::from_ref(&reminder), audit("clock.start"))
        .await
        .unwrap();
    let clocks = store.clocks(inc).await.unwrap();
    assert_eq!(clocks.len(), 1);
    assert_eq!(clocks[0].0, clock);
    assert_eq!(clocks[0].1, ms);
    assert!(
        store
            .due_reminders(t("2026-11-28T08:59:59Z"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.due_reminders(t("2026-11-28T09:00:00Z"), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].reminder.clone(), due[0].regime, due[0].met),
        (reminder.clone(), Regime::Nis2, false)
    );
    let now = t("2026-11-28T09:00:01Z");
    assert!(
        store
            .claim_reminder(reminder.id, now, audit_at("clock.remind", now))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_reminder(reminder.id, now, audit_at("clock.remind", now))
            .await
            .unwrap()
    );
    assert!(store.due_reminders(now, 10).await.unwrap().is_empty());
    assert!(
        store
            .mark_milestone_met(clock.id, "early_warning", now, audit_at("clock.met", now))
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_milestone_met(clock.id, "early_warning", now, audit_at("clock.met", now))
            .await
            .unwrap()
    );
    assert!(matches!(
        store
            .mark_milestone_met(clock.id, "nope", now, audit_at("clock.met", now))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.clocks(inc).await.unwrap()[0].1[0].met_at, Some(now));

    // Every change above, and nothing refused, is one audit entry.
    assert_eq!(chain_ok(store).await, base + 16);
}

#[tokio::test]
async fn sqlite_passes_the_comms_story() {
    on_sqlite(story).await;
}

#[tokio::test]
async fn postgres_passes_the_comms_story() {
    on_two_pools(async |a, b| {
        story(a).await;
        once_across_nodes(a, b).await;
    })
    .await;
}

/// PostgreSQL-specific: what happens once happens once across nodes. Two pools on one database
/// (what two processes look like to the server) race to send one approved communication, meet
/// one milestone and claim one reminder; each is won once and audited once.
async fn once_across_nodes(a: &PostgresStore, b: &PostgresStore) {
    let viewer = Viewer {
        user_id: Uuid::nil(),
        sees_all: true,
    };
    let inc = a
        .list_incidents(viewer, IncidentQuery::default(), 1, None)
        .await
        .unwrap()
        .remove(0)
        .incident;
    let at = t("2026-12-01T10:00:00Z");
    let comm = CommunicationRow {
        status: DraftStatus::Approved,
        ..draft(inc.id, inc.created_by, at)
    };
    a.create_communication(&comm, audit_at("communication.create", at))
        .await
        .unwrap();
    let clock = nis2_clock(inc.id, inc.created_by, at);
    let milestone = MilestoneRow {
        name: "early_warning".into(),
        description: "d".into(),
        due_at: t("2026-12-02T10:00:00Z"),
        met_at: None,
    };
    let reminder = ReminderRow {
        id: next_id(),
        clock_id: clock.id,
        milestone: milestone.name.clone(),
        remind_at: t("2026-12-02T09:00:00Z"),
    };
    a.create_clock(
        &clock,
        std::slice::from_ref(&milestone),
        std::slice::from_ref(&reminder),
        audit_at("clock.start", at),
    )
    .await
    .unwrap();
    let before = chain_ok(a).await;

    let now = t("2026-12-02T09:00:01Z");
    let (comm_id, clock_id, reminder_id) = (comm.id, clock.id, reminder.id);
    let wins = at_once(&[a.clone(), b.clone()], 8, move |_, node| async move {
        let sent = node
            .mark_sent(comm_id, "published", now, "alice", audit_at("communication.send", now))
            .await
            .unwrap();
        let met = node
            .mark_milestone_met(clock_id, "early_warning", now, audit_at("clock.met", now))
            .await
            .unwrap();
        let claimed = node
            .claim_reminder(reminder_id, now, audit_at("clock.remind", now))
            .await
            .unwrap();
        [sent, met, claimed]
    })
    .await
    .into_iter()
    .fold([0, 0, 0], |mut n, won| {
        for (n, w) in n.iter_mut().zip(won) {
            *n += usize::from(w);
        }
        n
    });
    assert_eq!(wins, [1, 1, 1], "sent, met and claimed exactly once");
    assert_eq!(chain_ok(b).await, before + 3, "one audit entry each");
    assert_eq!(
        b.communication(inc.id, comm.id).await.unwrap().unwrap().status,
        DraftStatus::Sent
    );
}
