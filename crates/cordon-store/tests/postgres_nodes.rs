//! What only PostgreSQL must guarantee: several nodes (here, several connection pools on one
//! database, which is what separate processes look like to the server) writing at once keep a
//! single audit chain, escalate a deadline once and claim a notification once; and a database
//! whose schema is newer than the binary is refused at open.

mod common;

use common::{
    at_once, audit_actions, audit_log, audit_on, chain_ok, notification, on_postgres_db, on_two_pools, page, t, user,
    winners,
};
use cordon_core::user::User;
use cordon_store::paging::{DeadlineRow, PageRow};
use cordon_store::{PagingStore, PostgresStore, Store, StoreError};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_on_two_nodes_append_to_one_chain() {
    on_two_pools(async |a, b| {
        const WRITERS: usize = 40;
        // Half the writers on each node, all at once: bare appends and changes with their entry.
        let writes = at_once(&[a.clone(), b.clone()], WRITERS, |n, node| async move {
            if n % 4 < 2 {
                let u = user(Uuid::from_u128(n as u128 + 1), &format!("user{}", n + 1));
                node.create_user(&u, audit_on("user.create", format!("user:{n}")))
                    .await
                    .map(|_| ())
            } else {
                node.append_audit(audit_on("something.refused", format!("n:{n}")))
                    .await
                    .map(|_| ())
            }
        })
        .await;
        for r in writes {
            r.unwrap();
        }
        assert_eq!(chain_ok(a).await, WRITERS as u64, "the chain does not fork");
        let seqs: Vec<i64> = audit_log(a).await.iter().map(|e| e.record.seq).collect();
        assert_eq!(seqs, (1..=WRITERS as i64).collect::<Vec<_>>());
        assert_eq!(b.count_users().await.unwrap(), (WRITERS / 2) as u64);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deadline_escalates_once_and_a_notification_is_claimed_once_across_nodes() {
    on_two_pools(async |a, b| {
        let at = t("2026-11-27T10:00:00Z");
        let alice = user(Uuid::from_u128(1), "alice");
        a.create_user(&alice, audit_on("user.create", "user:alice"))
            .await
            .unwrap();
        let page = page(Uuid::from_u128(10), Some(alice.id), at);
        let deadline = DeadlineRow {
            page_id: page.id,
            step: 1,
            due_at: at,
        };
        let notification = notification(Uuid::from_u128(20), page.id, 0, &alice.name, at);
        a.create_page(
            &page,
            Some(deadline),
            std::slice::from_ref(&notification),
            audit_on("page.trigger", "page"),
        )
        .await
        .unwrap();
        assert_eq!(b.due_deadlines(at, 10).await.unwrap(), [deadline]);
        let nodes = [a.clone(), b.clone()];

        // Every engine on both nodes sees the deadline due and escalates it; one wins.
        let escalated = PageRow {
            state: "{\"level\":2}".into(),
            ..page.clone()
        };
        let won = winners(&nodes, 8, |_, node| {
            let escalated = escalated.clone();
            async move {
                node.escalate(deadline, &escalated, None, &[], audit_on("page.escalate", "page"))
                    .await
                    .unwrap()
            }
        })
        .await;
        assert_eq!(won, 1, "the deadline escalates exactly once");

        // Every engine sees the notification due and claims it; one delivery owns it.
        let lease = t("2026-11-27T10:01:00Z");
        let owners = winners(&nodes, 8, |_, node| async move {
            node.claim_notification(Uuid::from_u128(20), at, lease).await.unwrap()
        })
        .await;
        assert_eq!(owners, 1, "the notification is claimed exactly once");
        assert!(a.due_notifications(at, 10).await.unwrap().is_empty());
        // After the lease, a crashed delivery is retried.
        assert!(
            b.claim_notification(notification.id, lease, t("2026-11-27T10:02:00Z"))
                .await
                .unwrap()
        );

        assert_eq!(audit_actions(a).await, ["user.create", "page.trigger", "page.escalate"]);
        chain_ok(b).await;
    })
    .await;
}

#[tokio::test]
async fn uniqueness_is_the_same_conflict_on_every_node() {
    on_two_pools(async |a, b| {
        let one = user(Uuid::from_u128(1), "user1");
        a.create_user(&one, audit_on("user.create", "user:1")).await.unwrap();
        let same_name = User {
            id: Uuid::from_u128(2),
            ..one
        };
        assert!(matches!(
            b.create_user(&same_name, audit_on("user.create", "user:1")).await,
            Err(StoreError::Conflict("user"))
        ));
        assert_eq!(chain_ok(a).await, 1, "a refused write leaves no entry");
    })
    .await;
}

#[tokio::test]
async fn a_newer_schema_is_refused_at_open() {
    on_postgres_db(async |db| {
        let store = db.open().await.unwrap();
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
             VALUES (99990101000000, 'from the future', now(), TRUE, '\\x00', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        store.close().await;
        match db.open().await {
            Err(StoreError::SchemaTooNew { database, binary }) => {
                assert_eq!(database, 99990101000000);
                assert_eq!(binary, PostgresStore::binary_schema_version());
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    })
    .await;
}
