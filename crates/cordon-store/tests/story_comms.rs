//! The communications storage story every backend must pass: drafts with approvals that an
//! edit clears, sent exactly once; templates replaced in place; contacts that advance their
//! checklist task in the same transaction; regulatory clocks with ordered milestones, met
//! once; reminders claimed exactly once. Every change is one audit entry of its transaction.
//! Run against SQLite and PostgreSQL (a throw-away database each run); on PostgreSQL two nodes
//! then race for each once-only change.

use cordon_core::Timestamp;
use cordon_core::audit::ChainVerifier;
use cordon_core::codename::Codename;
use cordon_core::comms::{Audience, DraftStatus, Party};
use cordon_core::incident::{Incident, IncidentKind, Severity, Status};
use cordon_core::regulatory::{Jurisdiction, Regime};
use cordon_core::role::Role;
use cordon_core::task::{Task, TaskStatus};
use cordon_core::user::User;
use cordon_store::comms::{
    ApprovalRow, ClockRow, CommunicationRow, ContactRow, MilestoneRow, ReminderRow, TemplateRow,
};
use cordon_store::testing::TestDatabase;
use cordon_store::{AuditDraft, CommsStore, NewIncident, PostgresStore, SqliteStore, Store, StoreError, Viewer};
use uuid::Uuid;

fn next_id() -> Uuid {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    Uuid::from_u128(u128::from(N.fetch_add(1, Ordering::Relaxed)))
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn audit(action: &str, at: Timestamp) -> AuditDraft {
    AuditDraft {
        at,
        actor: "alice".into(),
        action: action.into(),
        subject: "test".into(),
        payload: "{}".into(),
    }
}

async fn chain_entries(store: &dyn Store) -> u64 {
    let mut v = ChainVerifier::default();
    for e in store.audit_page(0, 100_000).await.unwrap() {
        v.push(&e.record, &e.prev_hash, &e.hash);
    }
    let out = v.finish();
    assert_eq!(out.first_bad_entry, None);
    out.entries
}

/// The story. Each new comms store method gets a step here.
pub async fn story(store: &dyn Store) {
    let at = t("2026-11-27T10:00:00Z");
    let alice = User {
        id: next_id(),
        name: "alice".into(),
        email: "alice@example.com".into(),
        pgp_key: None,
        groups: vec![],
        is_admin: false,
        created_at: at,
        disabled_at: None,
    };
    store.create_user(&alice, audit("user.create", at)).await.unwrap();
    let inc = next_id();
    let task12 = Task {
        id: next_id(),
        incident_id: inc,
        step: 12,
        key: "law_enforcement_legal".into(),
        title: "Involve law enforcement and legal".into(),
        status: TaskStatus::Todo,
        owner_role: Role::VpEngineering,
        assignee: None,
        check_items: vec![],
        override_reason: None,
        updated_at: at,
    };
    let new = NewIncident {
        incident: Incident {
            id: inc,
            codename: Codename::from_key("amber-falcon").unwrap(),
            kind: IncidentKind::Security,
            severity: Severity::new(1).unwrap(),
            status: Status::Triage,
            sealed: true,
            title: "t".into(),
            description: String::new(),
            room: None,
            playbook: "security".into(),
            created_by: alice.id,
            created_at: at,
            updated_at: at,
        },
        tasks: vec![task12.clone()],
        members: vec![],
    };
    store
        .create_incident(&new, audit("incident.declare", at))
        .await
        .unwrap();
    let base = chain_entries(store).await;

    // A draft, approved by the commander then legal, edited (approvals cleared), sent once.
    let mut c = CommunicationRow {
        id: next_id(),
        incident_id: inc,
        audience: Audience::External,
        title: "2026-11-27: notice".into(),
        body: "body".into(),
        recipients: "[]".into(),
        third_parties_public: false,
        status: DraftStatus::Draft,
        findings: "[]".into(),
        channel: None,
        sent_at: None,
        sent_by: None,
        created_by: alice.id,
        created_at: at,
        updated_at: at,
        lint_override: None,
        approvals: vec![],
    };
    store
        .create_communication(&c, audit("communication.create", at))
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
            audit("communication.approve", at),
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
                audit("communication.approve", at),
            )
            .await,
        Err(StoreError::Conflict("communication"))
    ));
    c.body = "edited".into();
    store
        .update_communication(&c, true, audit("communication.update", at))
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
                audit("communication.lint_override", at)
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
            audit("communication.lint_override", at),
        )
        .await
        .unwrap();
    let got = store.communication(inc, c.id).await.unwrap().unwrap();
    assert_eq!(
        (got.lint_override.as_deref(), got.findings.as_str(), got.updated_at),
        (Some(OVERRIDE), FINDINGS, later)
    );
    store
        .update_communication(&c, true, audit("communication.update", at))
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
            .mark_sent(c.id, "published", at, "alice", audit("communication.send", at))
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
                audit("communication.approve", at),
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
            .mark_sent(c.id, "mail", at, "alice", audit("communication.send", at))
            .await
            .unwrap()
    );
    assert!(
        !store
            .unmark_sent(c.id, "published", audit("communication.unsend", at))
            .await
            .unwrap(),
        "only the channel that claimed it hands it back"
    );
    assert!(
        store
            .unmark_sent(c.id, "mail", audit("communication.unsend", at))
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
            .mark_sent(c.id, "published", at, "alice", audit("communication.send", at))
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_sent(c.id, "published", at, "alice", audit("communication.send", at))
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
                .update_communication(&c, false, audit("communication.update", at))
                .await,
            Err(StoreError::NotFound(_))
        ),
        "a sent message is final"
    );
    assert!(
        matches!(
            store
                .override_findings(
                    c.id,
                    OVERRIDE,
                    FINDINGS,
                    at,
                    at,
                    audit("communication.lint_override", at)
                )
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
    store.put_template(&tpl, audit("template.put", at)).await.unwrap();
    tpl.body = "b".into();
    store.put_template(&tpl, audit("template.put", at)).await.unwrap();
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
        .add_contact_log(&contact, Some(&moved), audit("contact.add", at))
        .await
        .unwrap();
    assert_eq!(store.contact_log(inc).await.unwrap(), [contact]);
    assert_eq!(store.tasks(inc).await.unwrap()[0].status, TaskStatus::InProgress);

    // A clock with ordered milestones, met once, and reminders claimed once.
    let clock = ClockRow {
        id: next_id(),
        incident_id: inc,
        regime: Regime::Nis2,
        started_at: at,
        jurisdiction: Jurisdiction::Eu,
        unlawful_purpose: false,
        created_by: alice.id,
        created_at: at,
    };
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
        .create_clock(&clock, &ms, std::slice::from_ref(&reminder), audit("clock.start", at))
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
            .claim_reminder(reminder.id, now, audit("clock.remind", now))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_reminder(reminder.id, now, audit("clock.remind", now))
            .await
            .unwrap()
    );
    assert!(store.due_reminders(now, 10).await.unwrap().is_empty());
    assert!(
        store
            .mark_milestone_met(clock.id, "early_warning", now, audit("clock.met", now))
            .await
            .unwrap()
    );
    assert!(
        !store
            .mark_milestone_met(clock.id, "early_warning", now, audit("clock.met", now))
            .await
            .unwrap()
    );
    assert!(matches!(
        store
            .mark_milestone_met(clock.id, "nope", now, audit("clock.met", now))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.clocks(inc).await.unwrap()[0].1[0].met_at, Some(now));

    // Every change above, and nothing refused, is one audit entry.
    assert_eq!(chain_entries(store).await, base + 16);
}

#[tokio::test]
async fn sqlite_passes_the_comms_story() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("cordon.db")).await.unwrap();
    story(&store).await;
}

#[tokio::test]
async fn postgres_passes_the_comms_story() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store: PostgresStore = db.open().await.unwrap();
    story(&store).await;
    once_across_nodes(&db, &store).await;
    store.close().await;
}

/// PostgreSQL-specific: what happens once happens once across nodes. Two pools on one database
/// (what two processes look like to the server) race to send one approved communication, meet
/// one milestone and claim one reminder; each is won once and audited once.
async fn once_across_nodes(db: &TestDatabase, a: &PostgresStore) {
    let b = db.open().await.unwrap();
    let viewer = Viewer {
        user_id: Uuid::nil(),
        sees_all: true,
    };
    let inc = a.list_incidents(viewer, 1, None).await.unwrap().remove(0);
    let at = t("2026-12-01T10:00:00Z");
    let comm = CommunicationRow {
        id: next_id(),
        incident_id: inc.id,
        audience: Audience::External,
        title: "notice".into(),
        body: "body".into(),
        recipients: "[]".into(),
        third_parties_public: false,
        status: DraftStatus::Approved,
        findings: "[]".into(),
        channel: None,
        sent_at: None,
        sent_by: None,
        created_by: inc.created_by,
        created_at: at,
        updated_at: at,
        lint_override: None,
        approvals: vec![],
    };
    a.create_communication(&comm, audit("communication.create", at))
        .await
        .unwrap();
    let clock = ClockRow {
        id: next_id(),
        incident_id: inc.id,
        regime: Regime::Nis2,
        started_at: at,
        jurisdiction: Jurisdiction::Eu,
        unlawful_purpose: false,
        created_by: inc.created_by,
        created_at: at,
    };
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
        audit("clock.start", at),
    )
    .await
    .unwrap();
    let before = chain_entries(a).await;

    let now = t("2026-12-02T09:00:01Z");
    let races = (0..8).map(|i| {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (comm, clock, reminder) = (comm.id, clock.id, reminder.id);
        tokio::spawn(async move {
            let sent = node
                .mark_sent(comm, "published", now, "alice", audit("communication.send", now))
                .await
                .unwrap();
            let met = node
                .mark_milestone_met(clock, "early_warning", now, audit("clock.met", now))
                .await
                .unwrap();
            let claimed = node
                .claim_reminder(reminder, now, audit("clock.remind", now))
                .await
                .unwrap();
            [sent, met, claimed]
        })
    });
    let wins = futures::future::join_all(races)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .fold([0, 0, 0], |mut n, won| {
            for (n, w) in n.iter_mut().zip(won) {
                *n += usize::from(w);
            }
            n
        });
    assert_eq!(wins, [1, 1, 1], "sent, met and claimed exactly once");
    assert_eq!(chain_entries(&b).await, before + 3, "one audit entry each");
    assert_eq!(
        b.communication(inc.id, comm.id).await.unwrap().unwrap().status,
        DraftStatus::Sent
    );
    b.close().await;
}
