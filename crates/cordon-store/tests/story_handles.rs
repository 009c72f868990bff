//! The handles part of the storage story: pages found by a prefix of their id, however it is
//! hyphenated in the stored text, oldest first and bounded. Every backend runs `story`.

mod common;

use common::{audit, on_postgres, on_sqlite, page, t, user};
use cordon_store::paging::PageRow;
use cordon_store::{HandleStore, Store};
use uuid::Uuid;

fn ids(rows: &[PageRow]) -> Vec<String> {
    rows.iter().map(|r| r.id.to_string()).collect()
}

pub async fn story(store: &dyn Store) {
    let alice = user(Uuid::from_u128(1), "alice");
    store.create_user(&alice, audit("user.create")).await.unwrap();
    let triggered = |id: &str, at: &str| page(id.parse().unwrap(), Some(alice.id), t(at));
    let a = triggered("0193b4e7-c2a1-7000-8000-000000000001", "2026-11-27T10:00:02Z");
    let b = triggered("0193b4e7-c2a1-7abc-8000-000000000002", "2026-11-27T10:00:01Z");
    let c = triggered("0193b4f0-0000-7000-8000-000000000003", "2026-11-27T10:00:03Z");
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
    on_sqlite(story).await;
}

#[tokio::test]
async fn postgres_passes_the_handles_story() {
    on_postgres(story).await;
}
