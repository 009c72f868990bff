//! The seen-requests part of the storage story: a key is taken once while it lives, again
//! after it expired, and exactly once when several callers (two PostgreSQL pools, as two nodes
//! would) race for it. Every backend runs `story` and `race`.

mod common;

use std::sync::Arc;

use common::{story_and_race_on_sqlite, story_and_race_on_two_pools, t, winners};
use cordon_store::Store;

pub async fn story(store: &dyn Store) {
    let now = t("2026-11-27T10:00:00Z");
    let until = t("2026-11-27T10:05:00Z");
    assert!(store.see_once("slack.request", "sig-1", until, now).await.unwrap());
    assert!(
        !store.see_once("slack.request", "sig-1", until, now).await.unwrap(),
        "a replay within the window is refused"
    );
    assert!(
        !store
            .see_once("slack.request", "sig-1", until, t("2026-11-27T10:04:59Z"))
            .await
            .unwrap()
    );
    assert!(
        store.see_once("slack.event", "sig-1", until, now).await.unwrap(),
        "scopes are apart"
    );
    assert!(store.see_once("slack.request", "sig-2", until, now).await.unwrap());
    // Expired keys are taken anew (and cleaned up on the way).
    let later = t("2026-11-27T10:05:00Z");
    let until_later = t("2026-11-27T10:10:00Z");
    assert!(
        store
            .see_once("slack.request", "sig-1", until_later, later)
            .await
            .unwrap()
    );
    assert!(
        !store
            .see_once("slack.request", "sig-1", until_later, later)
            .await
            .unwrap()
    );
    assert!(
        store
            .see_once("slack.request", "sig-2", until_later, later)
            .await
            .unwrap(),
        "sig-2 expired too"
    );
}

/// Twenty callers on `stores` (round robin) take one key: exactly one wins.
pub async fn race(stores: Vec<Arc<dyn Store>>) {
    let now = t("2026-11-27T11:00:00Z");
    let until = t("2026-11-27T11:05:00Z");
    let won = winners(&stores, 20, move |_, store| async move {
        store.see_once("slack.event", "Ev01", until, now).await.unwrap()
    })
    .await;
    assert_eq!(won, 1, "one caller takes the key");
}

#[tokio::test]
async fn sqlite_passes_the_seen_story() {
    story_and_race_on_sqlite(story, race).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_seen_story_on_two_pools() {
    story_and_race_on_two_pools(story, race).await;
}
