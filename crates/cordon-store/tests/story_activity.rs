//! The activity part of the storage story (issue 15): an incident's history is the audit
//! entries about the incident and about its items (a checklist task here), newest first and
//! paged by sequence number, never another incident's nor entries about no incident. Run
//! against SQLite and PostgreSQL.

use cordon_core::Timestamp;
use cordon_core::codename::Codename;
use cordon_core::incident::{Incident, IncidentKind, Severity, Status};
use cordon_core::role::Role;
use cordon_core::task::{Task, TaskStatus};
use cordon_core::user::User;
use cordon_store::testing::TestDatabase;
use cordon_store::{AuditDraft, NewIncident, PostgresStore, SqliteStore, Store};
use uuid::Uuid;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn audit(action: &str, subject: String) -> AuditDraft {
    AuditDraft {
        at: t("2026-11-27T10:00:00Z"),
        actor: "tester".into(),
        action: action.into(),
        subject,
        payload: "{}".into(),
    }
}

fn incident(id: u128, key: &str, by: Uuid) -> NewIncident {
    let at = t("2026-11-27T10:00:00Z");
    let id = Uuid::from_u128(id);
    NewIncident {
        incident: Incident {
            id,
            codename: Codename::from_key(key).unwrap(),
            kind: IncidentKind::Security,
            severity: Severity::new(2).unwrap(),
            status: Status::Triage,
            sealed: true,
            title: format!("title of {key}"),
            description: String::new(),
            room: None,
            playbook: "security".into(),
            created_by: by,
            created_at: at,
            updated_at: at,
        },
        tasks: vec![Task {
            id: Uuid::from_u128(id.as_u128() + 0x100),
            incident_id: id,
            step: 1,
            key: "stop_attack".into(),
            title: "Stop the attack in progress".into(),
            status: TaskStatus::Todo,
            owner_role: Role::IncidentCommander,
            assignee: None,
            check_items: Vec::new(),
            override_reason: None,
            updated_at: at,
        }],
        members: Vec::new(),
    }
}

/// The story.
pub async fn story(store: &dyn Store) {
    let alice = User {
        id: Uuid::from_u128(0xa11ce),
        name: "alice".into(),
        email: "alice@example.com".into(),
        pgp_key: None,
        groups: vec![],
        is_admin: false,
        created_at: t("2026-11-27T09:00:00Z"),
        disabled_at: None,
    };
    store
        .create_user(&alice, audit("user.create", "user:alice".into()))
        .await
        .unwrap();
    let a = incident(0x1, "amber-falcon", alice.id);
    let b = incident(0x2, "brave-otter", alice.id);
    for i in [&a, &b] {
        let subject = format!("incident:{}", i.incident.id);
        store
            .create_incident(i, audit("incident.declare", subject))
            .await
            .unwrap();
    }
    let (ia, ib) = (a.incident.id, b.incident.id);
    let task_a = a.tasks[0].id;
    let moved = store
        .append_audit(audit("task.update", format!("task:{task_a}")))
        .await
        .unwrap();
    store
        .append_audit(audit("task.update", format!("task:{}", b.tasks[0].id)))
        .await
        .unwrap();
    store
        .append_audit(audit("schedule.put", "schedule:primary".into()))
        .await
        .unwrap();
    let updated = store
        .append_audit(audit("incident.update", format!("incident:{ia}")))
        .await
        .unwrap();

    // Newest first: the incident's own entries and its task's, nobody else's.
    let all = store.incident_activity(ia, None, 100).await.unwrap();
    let actions: Vec<(&str, &str)> = all.iter().map(|r| (r.action.as_str(), r.subject.as_str())).collect();
    let (declared, moved_subject, updated_subject) = (
        format!("incident:{ia}"),
        format!("task:{task_a}"),
        format!("incident:{ia}"),
    );
    assert_eq!(
        actions,
        [
            ("incident.update", updated_subject.as_str()),
            ("task.update", moved_subject.as_str()),
            ("incident.declare", declared.as_str()),
        ]
    );
    assert_eq!(all[0].seq, updated);
    assert_eq!(all[1].seq, moved);
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq));

    // Paged by sequence number.
    let first = store.incident_activity(ia, None, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = store.incident_activity(ia, Some(first[1].seq), 2).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].action, "incident.declare");

    // The other incident has its own; an unknown incident has none.
    let other = store.incident_activity(ib, None, 100).await.unwrap();
    assert_eq!(other.len(), 2);
    assert!(
        store
            .incident_activity(Uuid::from_u128(0xdead), None, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn sqlite_passes_the_activity_story() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("story.db")).await.unwrap();
    story(&store).await;
}

#[tokio::test]
async fn postgres_passes_the_activity_story() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store: PostgresStore = db.open().await.unwrap();
    story(&store).await;
    store.close().await;
}
