//! The activity part of the storage story (issue 15): an incident's history is the audit
//! entries about the incident and about its items (a checklist task here), newest first and
//! paged by sequence number, never another incident's nor entries about no incident. Run
//! against SQLite and PostgreSQL.

mod common;

use common::{audit_on, incident_with_task, on_postgres, on_sqlite, user};
use cordon_store::Store;
use uuid::Uuid;

/// The story.
pub async fn story(store: &dyn Store) {
    let alice = user(Uuid::from_u128(0xa11ce), "alice");
    store
        .create_user(&alice, audit_on("user.create", "user:alice"))
        .await
        .unwrap();
    let a = incident_with_task(0x1, "amber-falcon", alice.id);
    let b = incident_with_task(0x2, "brave-otter", alice.id);
    for i in [&a, &b] {
        let subject = format!("incident:{}", i.incident.id);
        store
            .create_incident(i, audit_on("incident.declare", subject))
            .await
            .unwrap();
    }
    let (ia, ib) = (a.incident.id, b.incident.id);
    let task_a = a.tasks[0].id;
    let moved = store
        .append_audit(audit_on("task.update", format!("task:{task_a}")))
        .await
        .unwrap();
    store
        .append_audit(audit_on("task.update", format!("task:{}", b.tasks[0].id)))
        .await
        .unwrap();
    store
        .append_audit(audit_on("schedule.put", "schedule:primary"))
        .await
        .unwrap();
    let updated = store
        .append_audit(audit_on("incident.update", format!("incident:{ia}")))
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
    on_sqlite(story).await;
}

#[tokio::test]
async fn postgres_passes_the_activity_story() {
    on_postgres(story).await;
}
