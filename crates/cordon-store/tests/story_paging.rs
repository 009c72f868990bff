//! The paging part of the storage story: schedules and policies, contact methods, pages with
//! durable deadlines that escalate exactly once, claimed notifications, secrets and one-time
//! links. Every backend runs `story`.

mod common;

use common::{audit, chain_ok, notification, on_postgres, on_sqlite, page, t, user};
use cordon_core::Timestamp;
use cordon_store::paging::{AckLinkRow, Attempt, ContactMethod, DeadlineRow, PageQuery, PageRow};
use cordon_store::{Store, StoreError};
use uuid::Uuid;

pub async fn story(store: &dyn Store) {
    let at = t("2026-11-27T10:00:00Z");
    store
        .put_schedule("ic", r#"{"v":1}"#, at, audit("schedule.put"))
        .await
        .unwrap();
    store
        .put_schedule("ic", r#"{"v":2}"#, at, audit("schedule.put"))
        .await
        .unwrap();
    store
        .put_schedule("db", r#"{"v":1}"#, at, audit("schedule.put"))
        .await
        .unwrap();
    assert_eq!(
        store.schedules().await.unwrap(),
        [("db".into(), r#"{"v":1}"#.into()), ("ic".into(), r#"{"v":2}"#.into())]
    );
    store
        .put_policy("incident-commander", "{}", at, audit("policy.put"))
        .await
        .unwrap();
    assert_eq!(store.policy("incident-commander").await.unwrap().as_deref(), Some("{}"));
    assert!(store.policy("nope").await.unwrap().is_none());
    assert_eq!(store.policies().await.unwrap().len(), 1);

    let alice = user(Uuid::from_u128(1), "alice");
    store.create_user(&alice, audit("user.create")).await.unwrap();
    let c = ContactMethod {
        id: Uuid::from_u128(2),
        user_id: alice.id,
        kind: "slack_user".into(),
        address: "U1".into(),
        created_at: at,
    };
    store.add_contact(&c, audit("contact.add")).await.unwrap();
    let dup = ContactMethod {
        id: Uuid::from_u128(3),
        ..c.clone()
    };
    assert!(matches!(
        store.add_contact(&dup, audit("contact.add")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.contacts(alice.id).await.unwrap(), [c]);

    // a page with its first deadline and notifications
    let page_id = Uuid::from_u128(10);
    let page = PageRow {
        state: "{\"level\":1}".into(),
        role: Some("incident_commander".into()),
        ..page(page_id, Some(alice.id), at)
    };
    let due = t("2026-11-27T10:00:05Z");
    let first = DeadlineRow {
        page_id,
        step: 1,
        due_at: due,
    };
    store
        .create_page(
            &page,
            Some(first),
            &[notification(Uuid::from_u128(1001), page_id, 0, "alice", at)],
            audit("page.trigger"),
        )
        .await
        .unwrap();
    assert_eq!(store.page(page_id).await.unwrap().unwrap(), page);
    assert_eq!(
        store.open_pages_notifying("alice", 10).await.unwrap(),
        std::slice::from_ref(&page)
    );
    assert!(store.open_pages_notifying("bob", 10).await.unwrap().is_empty());
    assert!(store.due_deadlines(at, 10).await.unwrap().is_empty());
    assert_eq!(store.due_deadlines(due, 10).await.unwrap(), [first]);

    // claiming: one delivery owns a notification at a time
    let n = store.due_notifications(at, 10).await.unwrap();
    assert_eq!(n.len(), 1);
    let lease = t("2026-11-27T10:01:00Z");
    assert!(store.claim_notification(n[0].id, at, lease).await.unwrap());
    assert!(!store.claim_notification(n[0].id, at, lease).await.unwrap());
    assert!(store.due_notifications(at, 10).await.unwrap().is_empty());
    store
        .record_attempt(
            n[0].id,
            &Attempt::Retry {
                error: "451".into(),
                at: due,
            },
            at,
            audit("notification.retry"),
        )
        .await
        .unwrap();
    let n = store.notifications(page_id).await.unwrap();
    assert_eq!(
        (n[0].status.as_str(), n[0].attempts, n[0].next_attempt_at),
        ("pending", 1, Some(due))
    );
    store
        .record_attempt(n[0].id, &Attempt::Delivered, due, audit("notification.delivered"))
        .await
        .unwrap();
    assert_eq!(store.notifications(page_id).await.unwrap()[0].status, "delivered");

    // escalation happens once per deadline
    let escalated = PageRow {
        state: "{\"level\":2}".into(),
        updated_at: due,
        ..page.clone()
    };
    let second = DeadlineRow {
        page_id,
        step: 2,
        due_at: t("2026-11-27T10:00:10Z"),
    };
    let ns = [notification(Uuid::from_u128(1002), page_id, 1, "bob", due)];
    assert!(
        store
            .escalate(first, &escalated, Some(second), &ns, audit("page.escalate"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .escalate(first, &escalated, Some(second), &ns, audit("page.escalate"))
            .await
            .unwrap()
    );
    assert_eq!(store.notifications(page_id).await.unwrap().len(), 2);
    assert_eq!(store.page(page_id).await.unwrap().unwrap().state, "{\"level\":2}");
    assert_eq!(
        store.due_deadlines(t("2026-11-27T11:00:00Z"), 10).await.unwrap(),
        [second]
    );

    // acknowledging drops pending deadlines
    let acked = PageRow {
        status: "acknowledged".into(),
        ..escalated
    };
    store.update_page(&acked, audit("page.ack")).await.unwrap();
    assert!(
        store.open_pages_notifying("alice", 10).await.unwrap().is_empty(),
        "an acknowledged page is no longer open"
    );
    assert!(
        store
            .due_deadlines(t("2026-11-27T11:00:00Z"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.pages_for_incident(Uuid::from_u128(99)).await.unwrap().is_empty());

    // a stale deadline can be dropped on its own
    let other = PageRow {
        id: Uuid::from_u128(11),
        ..page.clone()
    };
    let d = DeadlineRow {
        page_id: other.id,
        step: 1,
        due_at: due,
    };
    store
        .create_page(&other, Some(d), &[], audit("page.trigger"))
        .await
        .unwrap();
    store.drop_deadline(d).await.unwrap();
    assert!(store.due_deadlines(due, 10).await.unwrap().is_empty());

    // secrets are created once; links are used once
    let s1 = store.secret("k", b"first").await.unwrap();
    let s2 = store.secret("k", b"second").await.unwrap();
    assert_eq!((s1.as_slice(), s2.as_slice()), (&b"first"[..], &b"first"[..]));

    // a page the engine triggered has no user behind it
    let by_system = PageRow {
        id: Uuid::from_u128(12),
        created_by: None,
        role: None,
        ..page.clone()
    };
    store
        .create_page(&by_system, None, &[], audit("page.trigger"))
        .await
        .unwrap();
    assert_eq!(store.page(by_system.id).await.unwrap().unwrap(), by_system);

    // acknowledgement links: stored by hash, used once, never after they expire
    let link = AckLinkRow {
        token_hash: [7; 32],
        page_id,
        user_id: alice.id,
        step: 1,
        created_at: at,
        expires_at: t("2026-11-28T10:00:00Z"),
        used_at: None,
    };
    store.add_ack_link(&link).await.unwrap();
    assert_eq!(store.ack_link(&[7; 32]).await.unwrap().unwrap(), link);
    assert!(store.ack_link(&[8; 32]).await.unwrap().is_none());
    assert!(
        !store.use_ack_link(&[7; 32], t("2026-11-28T10:00:00Z")).await.unwrap(),
        "expired"
    );
    assert!(store.use_ack_link(&[7; 32], due).await.unwrap());
    assert!(!store.use_ack_link(&[7; 32], due).await.unwrap(), "used once");
    assert_eq!(store.ack_link(&[7; 32]).await.unwrap().unwrap().used_at, Some(due));

    // rooms the deployment marked team-only
    assert!(!store.room_team_only("!war:example.org").await.unwrap());
    store
        .set_room_team_only("!war:example.org", true, at, audit("room.update"))
        .await
        .unwrap();
    assert!(store.room_team_only("!war:example.org").await.unwrap());
    store
        .set_room_team_only("!war:example.org", false, due, audit("room.update"))
        .await
        .unwrap();
    assert!(!store.room_team_only("!war:example.org").await.unwrap());

    chain_ok(store).await;
}

#[tokio::test]
async fn sqlite_passes_the_paging_story() {
    on_sqlite(story).await;
}

#[tokio::test]
async fn postgres_passes_the_paging_story() {
    on_postgres(story).await;
}

/// Contact methods with a sealed secret (issue 12: a webhook's own signing secret): stored
/// with the contact in one transaction, read back by owner, kind and address, rotated in
/// place, and absent for contacts added without one.
pub async fn contact_secrets_story(store: &dyn Store) {
    let at = t("2026-11-27T10:00:00Z");
    let bob = user(Uuid::from_u128(501), "bob");
    let carol = user(Uuid::from_u128(502), "carol");
    store.create_user(&bob, audit("user.create")).await.unwrap();
    store.create_user(&carol, audit("user.create")).await.unwrap();
    let hook = ContactMethod {
        id: Uuid::from_u128(503),
        user_id: bob.id,
        kind: "webhook".into(),
        address: "https://hooks.example/bob".into(),
        created_at: at,
    };
    let sealed: &[u8] = &[1, 0, 255, 7, 7];
    store
        .add_contact_with_secret(&hook, sealed, audit("contact.add"))
        .await
        .unwrap();
    // The same address again for the same user is a conflict, secret or not.
    let again = ContactMethod {
        id: Uuid::from_u128(504),
        ..hook.clone()
    };
    assert!(matches!(
        store
            .add_contact_with_secret(&again, b"other", audit("contact.add"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.contacts(bob.id).await.unwrap(), std::slice::from_ref(&hook));
    assert_eq!(
        store.contact_secret(bob.id, "webhook", &hook.address).await.unwrap(),
        Some((hook.id, Some(sealed.to_vec())))
    );
    // Another user's contact with the same address is a different contact.
    assert_eq!(
        store.contact_secret(carol.id, "webhook", &hook.address).await.unwrap(),
        None
    );
    assert_eq!(store.contact_secret(bob.id, "sms", &hook.address).await.unwrap(), None);

    // Without a secret.
    let legacy = ContactMethod {
        id: Uuid::from_u128(505),
        user_id: carol.id,
        kind: "webhook".into(),
        address: "https://hooks.example/carol".into(),
        created_at: at,
    };
    store.add_contact(&legacy, audit("contact.add")).await.unwrap();
    assert_eq!(
        store
            .contact_secret(carol.id, "webhook", &legacy.address)
            .await
            .unwrap(),
        Some((legacy.id, None))
    );

    // Rotation replaces the secret in place and is audited; an unknown id changes nothing.
    let head = chain_ok(store).await;
    assert!(
        store
            .set_contact_secret(legacy.id, b"rotated", audit("contact.rotate_secret"))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .contact_secret(carol.id, "webhook", &legacy.address)
            .await
            .unwrap(),
        Some((legacy.id, Some(b"rotated".to_vec())))
    );
    assert!(
        !store
            .set_contact_secret(Uuid::from_u128(599), b"x", audit("contact.rotate_secret"))
            .await
            .unwrap()
    );
    assert_eq!(chain_ok(store).await, head + 1, "one entry for the one rotation");
}

#[tokio::test]
async fn sqlite_passes_the_contact_secrets_story() {
    on_sqlite(contact_secrets_story).await;
}

#[tokio::test]
async fn postgres_passes_the_contact_secrets_story() {
    on_postgres(contact_secrets_story).await;
}

/// The page list (issue 13): newest first by `(created_at, id)`, a keyset position that
/// continues exactly where the previous batch stopped (ties on `created_at` included), and the
/// status and incident filters.
pub async fn page_list_story(store: &dyn Store) {
    let at = t("2026-11-27T10:00:00Z");
    let later = t("2026-11-27T11:00:00Z");
    let listed = |n: u128, status: &str, created_at: Timestamp| PageRow {
        status: status.into(),
        ..page(Uuid::from_u128(n), None, created_at)
    };
    // Two pages at the same instant, one earlier, one later.
    let pages = [
        listed(0x20, "triggered", at),
        listed(0x21, "resolved", at),
        listed(0x22, "triggered", t("2026-11-27T09:00:00Z")),
        listed(0x23, "acknowledged", later),
    ];
    for p in &pages {
        store.create_page(p, None, &[], audit("page.trigger")).await.unwrap();
    }
    let ids = |rows: &[PageRow]| rows.iter().map(|r| r.id.as_u128()).collect::<Vec<_>>();
    let all = store
        .list_pages(&PageQuery {
            limit: 10,
            ..PageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&all), [0x23, 0x21, 0x20, 0x22]);
    let first = store
        .list_pages(&PageQuery {
            limit: 2,
            ..PageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&first), [0x23, 0x21]);
    let last = first.last().unwrap();
    let rest = store
        .list_pages(&PageQuery {
            before: Some((last.created_at, last.id)),
            limit: 10,
            ..PageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&rest), [0x20, 0x22], "the tie on created_at continues by id");
    let triggered = store
        .list_pages(&PageQuery {
            status: Some("triggered".into()),
            limit: 10,
            ..PageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&triggered), [0x20, 0x22]);
    let of_incident = store
        .list_pages(&PageQuery {
            incident: Some(Uuid::from_u128(0x99)),
            limit: 10,
            ..PageQuery::default()
        })
        .await
        .unwrap();
    assert!(of_incident.is_empty(), "no page belongs to that incident");
}

#[tokio::test]
async fn sqlite_passes_the_page_list_story() {
    on_sqlite(page_list_story).await;
}

#[tokio::test]
async fn postgres_passes_the_page_list_story() {
    on_postgres(page_list_story).await;
}
