//! What only PostgreSQL must guarantee: several nodes (here, several connection pools on one
//! database, which is what separate processes look like to the server) writing at once keep a
//! single audit chain, escalate a deadline once and claim a notification once; and a database
//! whose schema is newer than the binary is refused at open.

use cordon_core::Timestamp;
use cordon_core::audit::ChainVerifier;
use cordon_core::user::User;
use cordon_store::paging::{DeadlineRow, NotificationRow, PageRow};
use cordon_store::testing::TestDatabase;
use cordon_store::{AuditDraft, PagingStore, PostgresStore, Store, StoreError};
use futures::future::join_all;
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

fn user(n: u128) -> User {
    User {
        id: Uuid::from_u128(n),
        name: format!("user{n}"),
        email: format!("user{n}@example.com"),
        pgp_key: None,
        groups: vec!["ops".into()],
        is_admin: false,
        created_at: t("2026-11-27T09:00:00Z"),
        disabled_at: None,
    }
}

/// The whole chain, verified: (entries, first bad entry, sequence numbers).
async fn chain(store: &dyn Store) -> (u64, Option<i64>, Vec<i64>) {
    let mut v = ChainVerifier::default();
    let entries = store.audit_page(0, 100_000).await.unwrap();
    for e in &entries {
        v.push(&e.record, &e.prev_hash, &e.hash);
    }
    let out = v.finish();
    (
        out.entries,
        out.first_bad_entry,
        entries.iter().map(|e| e.record.seq).collect(),
    )
}

/// Two nodes.
async fn two_nodes(db: &TestDatabase) -> (PostgresStore, PostgresStore) {
    let a = db.open().await.unwrap();
    let b = db.open().await.unwrap();
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_on_two_nodes_append_to_one_chain() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let (a, b) = two_nodes(&db).await;
    const WRITERS: u128 = 40;
    // Half the writers on each node, all at once: bare appends and changes with their entry.
    let writes = (0..WRITERS).map(|n| {
        let node = if n % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move {
            if n % 4 < 2 {
                node.create_user(&user(n + 1), audit("user.create", format!("user:{n}")))
                    .await
                    .map(|_| ())
            } else {
                node.append_audit(audit("something.refused", format!("n:{n}")))
                    .await
                    .map(|_| ())
            }
        })
    });
    for r in join_all(writes).await {
        r.unwrap().unwrap();
    }
    let (entries, bad, seqs) = chain(&a).await;
    assert_eq!(bad, None, "the chain does not fork");
    assert_eq!(entries, WRITERS as u64);
    assert_eq!(seqs, (1..=WRITERS as i64).collect::<Vec<_>>());
    assert_eq!(b.count_users().await.unwrap(), (WRITERS / 2) as u64);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deadline_escalates_once_and_a_notification_is_claimed_once_across_nodes() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let (a, b) = two_nodes(&db).await;
    let at = t("2026-11-27T10:00:00Z");
    let alice = user(1);
    a.create_user(&alice, audit("user.create", "user:alice".into()))
        .await
        .unwrap();
    let page = PageRow {
        id: Uuid::from_u128(10),
        incident_id: None,
        status: "triggered".into(),
        state: "{}".into(),
        created_by: Some(alice.id),
        role: None,
        created_at: at,
        updated_at: at,
    };
    let deadline = DeadlineRow {
        page_id: page.id,
        step: 1,
        due_at: at,
    };
    let notification = NotificationRow {
        id: Uuid::from_u128(20),
        page_id: page.id,
        step: 0,
        level: 1,
        user_name: alice.name.clone(),
        channel: "email".into(),
        address: "alice@example.com".into(),
        status: "pending".into(),
        attempts: 0,
        next_attempt_at: Some(at),
        error: None,
        created_at: at,
        updated_at: at,
    };
    a.create_page(
        &page,
        Some(deadline),
        std::slice::from_ref(&notification),
        audit("page.trigger", "page".into()),
    )
    .await
    .unwrap();
    assert_eq!(b.due_deadlines(at, 10).await.unwrap(), [deadline]);

    // Every engine on both nodes sees the deadline due and escalates it; one wins.
    let escalated = PageRow {
        state: "{\"level\":2}".into(),
        ..page.clone()
    };
    let attempts = (0..8).map(|n| {
        let node = if n % 2 == 0 { a.clone() } else { b.clone() };
        let escalated = escalated.clone();
        tokio::spawn(async move {
            node.escalate(deadline, &escalated, None, &[], audit("page.escalate", "page".into()))
                .await
        })
    });
    let won = join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .filter(|&won| won)
        .count();
    assert_eq!(won, 1, "the deadline escalates exactly once");

    // Every engine sees the notification due and claims it; one delivery owns it.
    let lease = t("2026-11-27T10:01:00Z");
    let claims = (0..8).map(|n| {
        let node = if n % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { node.claim_notification(Uuid::from_u128(20), at, lease).await })
    });
    let owners = join_all(claims)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .filter(|&claimed| claimed)
        .count();
    assert_eq!(owners, 1, "the notification is claimed exactly once");
    assert!(a.due_notifications(at, 10).await.unwrap().is_empty());
    // After the lease, a crashed delivery is retried.
    assert!(
        b.claim_notification(notification.id, lease, t("2026-11-27T10:02:00Z"))
            .await
            .unwrap()
    );

    let actions: Vec<String> = a
        .audit_page(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.record.action)
        .collect();
    assert_eq!(actions, ["user.create", "page.trigger", "page.escalate"]);
    assert_eq!(chain(&b).await.1, None);
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn uniqueness_is_the_same_conflict_on_every_node() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let (a, b) = two_nodes(&db).await;
    a.create_user(&user(1), audit("user.create", "user:1".into()))
        .await
        .unwrap();
    let same_name = User {
        id: Uuid::from_u128(2),
        ..user(1)
    };
    assert!(matches!(
        b.create_user(&same_name, audit("user.create", "user:1".into())).await,
        Err(StoreError::Conflict("user"))
    ));
    assert_eq!(chain(&a).await.0, 1, "a refused write leaves no entry");
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn a_newer_schema_is_refused_at_open() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = db.open().await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
         VALUES (99990101000000, 'from the future', now(), TRUE, '\\x00', 0)",
    )
    .execute(&store_pool(&db).await)
    .await
    .unwrap();
    store.close().await;
    match db.open().await {
        Err(StoreError::SchemaTooNew { database, binary }) => {
            assert_eq!(database, 99990101000000);
            assert_eq!(binary, PostgresStore::binary_schema_version());
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

async fn store_pool(db: &TestDatabase) -> sqlx::PgPool {
    sqlx::PgPool::connect(db.url()).await.unwrap()
}
