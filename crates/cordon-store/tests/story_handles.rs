//! The handles part of the storage story: pages found by a prefix of their id, however it is
//! hyphenated in the stored text, oldest first and bounded. Every backend runs `story`.

use cordon_core::Timestamp;
use cordon_core::user::User;
use cordon_store::paging::PageRow;
use cordon_store::testing::TestDatabase;
use cordon_store::{AuditDraft, HandleStore, PostgresStore, SqliteStore, Store};
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

fn page(id: &str, by: Uuid, at: &str) -> PageRow {
    PageRow {
        id: id.parse().unwrap(),
        incident_id: None,
        status: "triggered".into(),
        state: "{}".into(),
        created_by: Some(by),
        role: None,
        created_at: t(at),
        updated_at: t(at),
    }
}

fn ids(rows: &[PageRow]) -> Vec<String> {
    rows.iter().map(|r| r.id.to_string()).collect()
}

pub async fn story(store: &dyn Store) {
    let at = t("2026-11-27T10:00:00Z");
    let alice = User {
        id: Uuid::from_u128(1),
        name: "alice".into(),
        email: "alice@corp.example".into(),
        pgp_key: None,
        groups: vec![],
        is_admin: false,
        created_at: at,
        disabled_at: None,
    };
    store.create_user(&alice, audit("user.create")).await.unwrap();
    let a = page("0193b4e7-c2a1-7000-8000-000000000001", alice.id, "2026-11-27T10:00:02Z");
    let b = page("0193b4e7-c2a1-7abc-8000-000000000002", alice.id, "2026-11-27T10:00:01Z");
    let c = page("0193b4f0-0000-7000-8000-000000000003", alice.id, "2026-11-27T10:00:03Z");
    for p in [&a, &b, &c] {
        store.create_page(p, None, &[], audit("page.trigger")).await.unwrap();
    }
    let find = |prefix: &'static str, limit| async move {
        ids(&HandleStore::pages_with_id_prefix(store, prefix, limit).await.unwrap())
    };
    assert_eq!(
        find("0193b4e7", 10).await,
        [b.id.to_string(), a.id.to_string()],
        "oldest first"
    );
    assert_eq!(find("0193b4e7c2a17a", 10).await, [b.id.to_string()], "across a hyphen");
    assert_eq!(find("0193B4F0", 10).await, [c.id.to_string()], "any case");
    assert_eq!(find("0193", 2).await.len(), 2, "bounded");
    assert_eq!(find("0193", 10).await.len(), 3);
    assert!(find("ffff", 10).await.is_empty());
    assert!(find("01%", 10).await.is_empty(), "no wildcard gets through");
    assert!(find("0193_4e7", 10).await.is_empty());
}

#[tokio::test]
async fn sqlite_passes_the_handles_story() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("story.db")).await.unwrap();
    story(&store).await;
}

#[tokio::test]
async fn postgres_passes_the_handles_story() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store: PostgresStore = db.open().await.unwrap();
    story(&store).await;
    store.close().await;
}
