//! The timeline-sources story every backend must pass: a source is recorded with its audit
//! entry in one transaction, listed per incident in ingest order (never another incident's),
//! read back field for field, and a duplicate id is a conflict that leaves no audit entry.
//! Run against SQLite and PostgreSQL (a throw-away database each run).

use cordon_core::Timestamp;
use cordon_core::audit::ChainVerifier;
use cordon_core::codename::Codename;
use cordon_core::incident::{Incident, IncidentKind, Severity, Status};
use cordon_core::user::User;
use cordon_store::testing::TestDatabase;
use cordon_store::timeline::{SourceState, TimelineSource};
use cordon_store::{AuditDraft, NewIncident, PostgresStore, SqliteStore, Store, StoreError};
use uuid::Uuid;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn audit(action: &str) -> AuditDraft {
    AuditDraft {
        at: t("2026-11-27T10:00:00Z"),
        actor: "tester".into(),
        action: action.into(),
        subject: "x".into(),
        payload: "{}".into(),
    }
}

fn incident(id: u128, key: &str, by: Uuid) -> NewIncident {
    let at = t("2026-11-27T10:00:00Z");
    NewIncident {
        incident: Incident {
            id: Uuid::from_u128(id),
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
        tasks: Vec::new(),
        members: Vec::new(),
    }
}

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
    let alice = User {
        id: Uuid::from_u128(0xa11ce),
        name: "alice".into(),
        email: "alice@example.com".into(),
        pgp_key: None,
        groups: vec!["security".into()],
        is_admin: false,
        created_at: t("2026-11-27T09:00:00Z"),
        disabled_at: None,
    };
    store.create_user(&alice, audit("user.create")).await.unwrap();
    let a = incident(0x1, "amber-falcon", alice.id);
    let b = incident(0x2, "brave-otter", alice.id);
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
    let before = store.audit_page(0, 10_000).await.unwrap().len();
    assert!(matches!(
        store.add_timeline_source(&first, audit("timeline.ingest")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.audit_page(0, 10_000).await.unwrap().len(), before);

    // Every change has its entry, and the chain holds.
    let mut v = ChainVerifier::default();
    let entries = store.audit_page(0, 10_000).await.unwrap();
    for e in &entries {
        v.push(&e.record, &e.prev_hash, &e.hash);
    }
    let out = v.finish();
    assert_eq!(out.first_bad_entry, None);
    assert_eq!(out.entries, 6, "1 user, 2 incidents, 3 sources");
    assert_eq!(
        entries.iter().filter(|e| e.record.action == "timeline.ingest").count(),
        3
    );
}

#[tokio::test]
async fn sqlite_passes_the_timeline_story() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("story.db")).await.unwrap();
    story(&store).await;
}

#[tokio::test]
async fn postgres_passes_the_timeline_story() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store: PostgresStore = db.open().await.unwrap();
    story(&store).await;
    store.close().await;
}
