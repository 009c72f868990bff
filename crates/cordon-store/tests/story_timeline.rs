//! The timeline-sources story every backend must pass: a source is recorded with its audit
//! entry in one transaction, listed per incident in ingest order (never another incident's),
//! read back field for field, and a duplicate id is a conflict that leaves no audit entry.
//! Run against SQLite and PostgreSQL (a throw-away database each run).

mod common;

use common::{audit, audit_actions, audit_log, chain_ok, incident, on_postgres, on_sqlite, t, user_in};
use cordon_store::timeline::{SourceState, TimelineSource};
use cordon_store::{Store, StoreError};
use uuid::Uuid;

fn source(id: u128, incident: Uuid, by: Uuid, name: &str, at: &str) -> TimelineSource {
    TimelineSource {
        id: Uuid::from_u128(id),
        incident_id: incident,
        name: name.into(),
        host: Some("web1".into()),
        format: "syslog".into(),
        sha256: "ab".repeat(32),
        bytes: 5_000_000_000,
        lines: 1_000_002,
        events: 1_000_000,
        skipped: 2,
        diagnostics_total: 2,
        diagnostics: r#"[{"line":7,"byte_offset":512,"code":"unparsed_line","message":"x"}]"#.into(),
        state: SourceState::Complete,
        evidence_id: None,
        created_by: by,
        created_at: t(at),
    }
}

/// The story.
pub async fn story(store: &dyn Store) {
    let alice = user_in(Uuid::from_u128(0xa11ce), "alice", &["security"]);
    store.create_user(&alice, audit("user.create")).await.unwrap();
    let a = incident(Uuid::from_u128(0x1), "amber-falcon", alice.id);
    let b = incident(Uuid::from_u128(0x2), "brave-otter", alice.id);
    for i in [&a, &b] {
        store.create_incident(i, audit("incident.declare")).await.unwrap();
    }
    let (ia, ib) = (a.incident.id, b.incident.id);
    assert!(store.timeline_sources(ia).await.unwrap().is_empty());

    let second = source(0x20, ia, alice.id, "access.log", "2026-11-27T11:00:00Z");
    let first = source(0x10, ia, alice.id, "auth.log", "2026-11-27T10:30:00Z");
    let other = TimelineSource {
        host: None,
        diagnostics: "[]".into(),
        skipped: 0,
        diagnostics_total: 0,
        ..source(0x30, ib, alice.id, "pg.log", "2026-11-27T10:00:00Z")
    };
    for s in [&second, &first, &other] {
        store.add_timeline_source(s, audit("timeline.ingest")).await.unwrap();
    }
    // Listed per incident, oldest first, every field as written.
    assert_eq!(
        store.timeline_sources(ia).await.unwrap(),
        [first.clone(), second.clone()]
    );
    assert_eq!(store.timeline_sources(ib).await.unwrap(), [other]);
    assert!(store.timeline_sources(Uuid::from_u128(0x99)).await.unwrap().is_empty());

    // A duplicate id is a conflict and appends nothing.
    let before = audit_log(store).await.len();
    assert!(matches!(
        store.add_timeline_source(&first, audit("timeline.ingest")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(audit_log(store).await.len(), before);

    // Every change has its entry, and the chain holds.
    assert_eq!(chain_ok(store).await, 6, "1 user, 2 incidents, 3 sources");
    let actions = audit_actions(store).await;
    assert_eq!(actions.iter().filter(|a| *a == "timeline.ingest").count(), 3);
}

#[tokio::test]
async fn sqlite_passes_the_timeline_story() {
    on_sqlite(story).await;
}

#[tokio::test]
async fn postgres_passes_the_timeline_story() {
    on_postgres(story).await;
}
