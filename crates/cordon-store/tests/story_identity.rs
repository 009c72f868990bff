//! The identity part of the storage story: tokens that expire, are listed without their secret
//! and revoked once; a user disabled (and enabled) with everything that lets them act ended in
//! the same transaction; chat identities whose uniqueness the database enforces; one-time link
//! codes used once; and the migration of old `slack_user`/`matrix_user` contact rows, where an
//! account several users claimed is linked to nobody. Every backend runs each story; on
//! PostgreSQL two pools (two nodes) also race to link one account and to use one code.

mod common;

use common::{
    TempSqlite, audit, audit_log, chain_ok, notification, on_postgres, on_postgres_db, on_sqlite, on_two_pools, page,
    t, user,
};
use cordon_store::identity::{CANCELLED, ChatClaim, ChatLink, Disabled, LinkCodeRow};
use cordon_store::testing::sqlite_before;
use cordon_store::{AuditDraft, IdentityStore, NewToken, Store, StoreError};
use uuid::Uuid;

fn token(n: u128, user: Uuid, at: &str, expires: Option<&str>) -> NewToken {
    NewToken {
        id: Uuid::from_u128(n),
        hash: [n as u8; 32],
        user_id: user,
        label: format!("token {n}"),
        created_at: t(at),
        expires_at: expires.map(t),
    }
}

fn link(n: u128, kind: &str, external_id: &str, user: Uuid, via: &str) -> ChatLink {
    ChatLink {
        id: Uuid::from_u128(n),
        kind: kind.into(),
        external_id: external_id.into(),
        user_id: user,
        user_name: String::new(),
        linked_at: t("2026-11-27T10:00:00Z"),
        linked_by: "tester".into(),
        via: via.into(),
    }
}

fn code(n: u8, user: Uuid, kind: &str, external_id: Option<&str>, at: &str, expires: &str) -> LinkCodeRow {
    LinkCodeRow {
        hash: [n; 32],
        user_id: user,
        kind: kind.into(),
        external_id: external_id.map(Into::into),
        created_at: t(at),
        expires_at: t(expires),
    }
}

async fn last_audit(store: &dyn Store) -> (String, serde_json::Value) {
    let all = audit_log(store).await;
    let e = &all.last().unwrap().record;
    (e.action.clone(), serde_json::from_str(&e.payload).unwrap())
}

pub async fn story(store: &dyn Store) {
    let alice = user(Uuid::from_u128(1), "alice");
    let bob = user(Uuid::from_u128(2), "bob");
    let mallory = user(Uuid::from_u128(3), "mallory");
    for u in [&alice, &bob, &mallory] {
        store.create_user(u, audit("user.create")).await.unwrap();
    }

    // ---- tokens: listed without secrets, newest first; touched; revoked once, by owner only
    store
        .add_token(
            &token(10, alice.id, "2026-11-27T10:00:00Z", None),
            audit("token.create"),
        )
        .await
        .unwrap();
    store
        .add_token(
            &token(11, alice.id, "2026-11-27T11:00:00Z", Some("2026-12-27T11:00:00Z")),
            audit("token.create"),
        )
        .await
        .unwrap();
    store
        .add_token(
            &token(12, mallory.id, "2026-11-27T10:00:00Z", None),
            audit("token.create"),
        )
        .await
        .unwrap();
    let list = store.tokens(alice.id).await.unwrap();
    assert_eq!(
        list.iter().map(|t| t.id).collect::<Vec<_>>(),
        [Uuid::from_u128(11), Uuid::from_u128(10)]
    );
    assert_eq!(list[0].expires_at, Some(t("2026-12-27T11:00:00Z")));
    assert_eq!(list[0].label, "token 11");
    assert_eq!((list[0].last_used_at, list[0].revoked_at), (None, None));
    assert!(list[0].is_live(t("2026-12-27T10:59:59Z")));
    assert!(!list[0].is_live(t("2026-12-27T11:00:00Z")));
    let (u, rec) = store.token_by_hash(&[11; 32]).await.unwrap().unwrap();
    assert_eq!((u.name.as_str(), rec.id), ("alice", Uuid::from_u128(11)));
    assert!(store.token_by_hash(&[99; 32]).await.unwrap().is_none());

    store.touch_token(rec.id, t("2026-11-27T12:00:00Z")).await.unwrap();
    store.touch_token(rec.id, t("2026-11-27T11:30:00Z")).await.unwrap();
    let (_, rec) = store.token_by_hash(&[11; 32]).await.unwrap().unwrap();
    assert_eq!(
        rec.last_used_at,
        Some(t("2026-11-27T12:00:00Z")),
        "last use never moves back"
    );

    let before = chain_ok(store).await;
    // mallory's id for alice's token, alice's token under mallory: nothing happens
    assert!(
        !store
            .revoke_token(
                alice.id,
                Uuid::from_u128(12),
                t("2026-11-27T13:00:00Z"),
                audit("token.revoke")
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_token(
                mallory.id,
                Uuid::from_u128(10),
                t("2026-11-27T13:00:00Z"),
                audit("token.revoke")
            )
            .await
            .unwrap()
    );
    assert_eq!(chain_ok(store).await, before, "nothing revoked, nothing audited");
    assert!(
        store
            .revoke_token(
                alice.id,
                Uuid::from_u128(10),
                t("2026-11-27T13:00:00Z"),
                audit("token.revoke")
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_token(
                alice.id,
                Uuid::from_u128(10),
                t("2026-11-27T13:05:00Z"),
                audit("token.revoke")
            )
            .await
            .unwrap(),
        "a token is revoked once"
    );
    assert_eq!(chain_ok(store).await, before + 1);
    assert!(store.token_by_hash(&[10; 32]).await.unwrap().is_none());
    let list = store.tokens(alice.id).await.unwrap();
    assert_eq!(list[1].revoked_at, Some(t("2026-11-27T13:00:00Z")));

    // ---- chat identities: one account, one user — the database decides
    store
        .link_chat_identity(&link(20, "slack", "U1", alice.id, "admin"), audit("identity.link"))
        .await
        .unwrap();
    assert_eq!(
        store.user_by_chat_identity("slack", "U1").await.unwrap().unwrap().name,
        "alice"
    );
    assert!(store.user_by_chat_identity("matrix", "U1").await.unwrap().is_none());
    assert!(store.user_by_chat_identity("slack", "U2").await.unwrap().is_none());
    let before = chain_ok(store).await;
    assert!(matches!(
        store
            .link_chat_identity(&link(21, "slack", "U1", mallory.id, "admin"), audit("identity.link"))
            .await,
        Err(StoreError::Conflict("chat identity"))
    ));
    assert!(matches!(
        store
            .link_chat_identity(&link(22, "slack", "U1", alice.id, "code"), audit("identity.link"))
            .await,
        Err(StoreError::Conflict("chat identity"))
    ));
    assert_eq!(chain_ok(store).await, before, "a refused link writes nothing");
    store
        .link_chat_identity(
            &link(23, "matrix", "@alice:corp.example", alice.id, "code"),
            audit("identity.link"),
        )
        .await
        .unwrap();
    let mine = store.chat_identities(alice.id).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(
        (
            mine[0].kind.as_str(),
            mine[0].external_id.as_str(),
            mine[0].user_name.as_str(),
            mine[0].via.as_str()
        ),
        ("slack", "U1", "alice", "admin")
    );
    assert!(store.chat_identities(mallory.id).await.unwrap().is_empty());
    assert!(
        !store
            .unlink_chat_identity(mallory.id, Uuid::from_u128(23), audit("identity.unlink"))
            .await
            .unwrap(),
        "mallory cannot unlink alice's account"
    );
    assert!(
        store
            .unlink_chat_identity(alice.id, Uuid::from_u128(23), audit("identity.unlink"))
            .await
            .unwrap()
    );
    assert!(
        store
            .user_by_chat_identity("matrix", "@alice:corp.example")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.chat_claims().await.unwrap().is_empty());

    // ---- link codes: one live code per user and kind, used once, before it expires
    store
        .put_link_code(
            &code(1, bob.id, "slack", None, "2026-11-27T10:00:00Z", "2026-11-27T10:10:00Z"),
            audit("identity.code"),
        )
        .await
        .unwrap();
    store
        .put_link_code(
            &code(2, bob.id, "slack", None, "2026-11-27T10:01:00Z", "2026-11-27T10:11:00Z"),
            audit("identity.code"),
        )
        .await
        .unwrap();
    assert!(
        store.link_code(&[1; 32]).await.unwrap().is_none(),
        "a new code replaces the old one"
    );
    store
        .put_link_code(
            &code(
                3,
                bob.id,
                "matrix",
                Some("@bob:corp.example"),
                "2026-11-27T10:01:00Z",
                "2026-11-27T10:11:00Z",
            ),
            audit("identity.code"),
        )
        .await
        .unwrap();
    let c = store.link_code(&[3; 32]).await.unwrap().unwrap();
    assert_eq!(
        (c.user_id, c.kind.as_str(), c.external_id.as_deref()),
        (bob.id, "matrix", Some("@bob:corp.example"))
    );
    assert!(
        store.link_code(&[2; 32]).await.unwrap().is_some(),
        "codes of other kinds stay"
    );

    let bob_slack = link(30, "slack", "U2", bob.id, "code");
    // the code is mallory's? no: redeeming checks whose code it is
    assert!(
        !store
            .redeem_link_code(
                &[2; 32],
                &ChatLink {
                    user_id: mallory.id,
                    ..bob_slack.clone()
                },
                t("2026-11-27T10:02:00Z"),
                audit("identity.link")
            )
            .await
            .unwrap()
    );
    // expired
    assert!(
        !store
            .redeem_link_code(&[2; 32], &bob_slack, t("2026-11-27T10:11:00Z"), audit("identity.link"))
            .await
            .unwrap()
    );
    // an account linked already: refused, and the code is kept for bob's own account
    assert!(matches!(
        store
            .redeem_link_code(
                &[2; 32],
                &ChatLink {
                    external_id: "U1".into(),
                    ..bob_slack.clone()
                },
                t("2026-11-27T10:02:00Z"),
                audit("identity.link")
            )
            .await,
        Err(StoreError::Conflict("chat identity"))
    ));
    assert!(store.link_code(&[2; 32]).await.unwrap().is_some());
    let before = chain_ok(store).await;
    assert!(
        store
            .redeem_link_code(&[2; 32], &bob_slack, t("2026-11-27T10:02:00Z"), audit("identity.link"))
            .await
            .unwrap()
    );
    assert_eq!(chain_ok(store).await, before + 1);
    assert!(store.link_code(&[2; 32]).await.unwrap().is_none(), "used once");
    assert!(
        !store
            .redeem_link_code(
                &[2; 32],
                &ChatLink {
                    id: Uuid::from_u128(31),
                    external_id: "U3".into(),
                    ..bob_slack.clone()
                },
                t("2026-11-27T10:03:00Z"),
                audit("identity.link")
            )
            .await
            .unwrap(),
        "a used code links nothing"
    );
    assert_eq!(
        store.user_by_chat_identity("slack", "U2").await.unwrap().unwrap().name,
        "bob"
    );
    // a new code drops every expired one, anyone's
    store
        .put_link_code(
            &code(
                4,
                alice.id,
                "slack",
                None,
                "2026-11-27T10:20:00Z",
                "2026-11-27T10:30:00Z",
            ),
            audit("identity.code"),
        )
        .await
        .unwrap();
    assert!(
        store.link_code(&[3; 32]).await.unwrap().is_none(),
        "bob's expired matrix code"
    );

    // ---- disabling: tokens, chat identities, codes and pending pages end at once, audited
    store
        .add_token(&token(13, bob.id, "2026-11-27T10:00:00Z", None), audit("token.create"))
        .await
        .unwrap();
    store
        .put_link_code(
            &code(
                5,
                bob.id,
                "matrix",
                None,
                "2026-11-27T10:20:00Z",
                "2026-11-27T10:30:00Z",
            ),
            audit("identity.code"),
        )
        .await
        .unwrap();
    let page = page(Uuid::from_u128(40), Some(alice.id), t("2026-11-27T10:20:00Z"));
    let note = |n: u128, user: &str| notification(Uuid::from_u128(n), page.id, 0, user, page.created_at);
    store
        .create_page(
            &page,
            None,
            &[note(41, "bob"), note(42, "alice")],
            audit("page.trigger"),
        )
        .await
        .unwrap();
    let at = t("2026-11-27T10:25:00Z");
    // the service's own payload, which the store adds what disabling ended to
    let from_the_service = AuditDraft {
        payload: r#"{"by":"tester"}"#.into(),
        ..audit("user.disable")
    };
    let done = store.disable_user(bob.id, at, from_the_service).await.unwrap();
    assert_eq!(
        done,
        Some(Disabled {
            tokens: 1,
            chat_identities: 1,
            link_codes: 1,
            notifications: 1,
            sessions: 0,
        })
    );
    let (action, payload) = last_audit(store).await;
    assert_eq!(action, "user.disable");
    assert_eq!(payload["by"], "tester", "the service's payload is kept");
    assert_eq!(payload["revoked_tokens"], 1);
    assert_eq!(payload["unlinked_chat_identities"], 1);
    assert_eq!(payload["cancelled_notifications"], 1);
    let bob_now = store.user_by_id(bob.id).await.unwrap().unwrap();
    assert_eq!(bob_now.disabled_at, Some(at));
    assert!(bob_now.is_disabled());
    assert!(store.token_by_hash(&[13; 32]).await.unwrap().is_none());
    assert!(
        store
            .tokens(bob.id)
            .await
            .unwrap()
            .iter()
            .all(|t| t.revoked_at == Some(at))
    );
    assert!(store.user_by_chat_identity("slack", "U2").await.unwrap().is_none());
    assert!(store.link_code(&[5; 32]).await.unwrap().is_none());
    let notes = store.notifications(page.id).await.unwrap();
    let bob_note = notes.iter().find(|n| n.user_name == "bob").unwrap();
    assert_eq!((bob_note.status.as_str(), bob_note.next_attempt_at), (CANCELLED, None));
    assert_eq!(notes.iter().find(|n| n.user_name == "alice").unwrap().status, "pending");
    // an attempt in flight while bob was disabled comes back as a retry: it stays cancelled
    store
        .record_attempt(
            Uuid::from_u128(41),
            &cordon_store::paging::Attempt::Retry {
                error: "451 try later".into(),
                at: t("2026-11-27T10:26:00Z"),
            },
            at,
            audit("notification.retry"),
        )
        .await
        .unwrap();
    let notes = store.notifications(page.id).await.unwrap();
    let bob_note = notes.iter().find(|n| n.user_name == "bob").unwrap();
    assert_eq!((bob_note.status.as_str(), bob_note.next_attempt_at), (CANCELLED, None));
    let due = store.due_notifications(t("2026-11-27T11:00:00Z"), 10).await.unwrap();
    assert_eq!(due.iter().map(|n| n.user_name.as_str()).collect::<Vec<_>>(), ["alice"]);
    // once only; a missing user is not disabled either
    let before = chain_ok(store).await;
    assert_eq!(
        store.disable_user(bob.id, at, audit("user.disable")).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .disable_user(Uuid::from_u128(999), at, audit("user.disable"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(chain_ok(store).await, before);
    assert!(
        store
            .list_users()
            .await
            .unwrap()
            .iter()
            .any(|u| u.name == "bob" && u.disabled_at == Some(at))
    );

    // enabling brings nothing back
    assert!(store.enable_user(bob.id, audit("user.enable")).await.unwrap());
    assert!(!store.enable_user(bob.id, audit("user.enable")).await.unwrap());
    assert_eq!(store.user_by_name("bob").await.unwrap().unwrap().disabled_at, None);
    assert!(store.token_by_hash(&[13; 32]).await.unwrap().is_none());
    assert!(store.chat_identities(bob.id).await.unwrap().is_empty());
    chain_ok(store).await;
}

/// Builds a database one migration short of the identity tables, with rows as an older binary
/// wrote them: a token, and chat accounts added as contact methods — `U1` by alice alone, `U2`
/// by bob and (as `u2`) by mallory, `@alice:x` by alice, and a page channel that stays.
const OLD_ROWS: &[&str] = &[
    "INSERT INTO users (id, name, email, is_admin, created_at) VALUES
        ('00000000-0000-0000-0000-000000000001', 'alice', 'alice@x.example', FALSE, 1),
        ('00000000-0000-0000-0000-000000000002', 'bob', 'bob@x.example', FALSE, 1),
        ('00000000-0000-0000-0000-000000000003', 'mallory', 'mallory@x.example', FALSE, 1)",
    "INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES
        ($HASH, '00000000-0000-0000-0000-000000000001', 'old', 2)",
    "INSERT INTO contact_methods (id, user_id, kind, address, created_at) VALUES
        ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-000000000001', 'slack_user', 'U1', 10),
        ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-000000000002', 'slack_user', 'U2', 11),
        ('00000000-0000-0000-0000-00000000000c', '00000000-0000-0000-0000-000000000003', 'slack_user', 'u2', 12),
        ('00000000-0000-0000-0000-00000000000d', '00000000-0000-0000-0000-000000000001', 'matrix_user', '@alice:x', 13),
        ('00000000-0000-0000-0000-00000000000e', '00000000-0000-0000-0000-000000000002', 'sms', '+15555550100', 14)",
];

async fn migrated_story(store: &dyn Store) {
    assert_eq!(
        store.user_by_chat_identity("slack", "U1").await.unwrap().unwrap().name,
        "alice"
    );
    assert_eq!(
        store
            .user_by_chat_identity("matrix", "@alice:x")
            .await
            .unwrap()
            .unwrap()
            .name,
        "alice"
    );
    assert!(
        store.user_by_chat_identity("slack", "U2").await.unwrap().is_none(),
        "claimed twice: nobody's"
    );
    let claims = store.chat_claims().await.unwrap();
    assert_eq!(
        claims,
        [
            ChatClaim {
                kind: "slack".into(),
                external_id: "U2".into(),
                user_id: Uuid::from_u128(2),
                user_name: "bob".into(),
                claimed_at: cordon_core::clock::from_micros(11),
            },
            ChatClaim {
                kind: "slack".into(),
                external_id: "U2".into(),
                user_id: Uuid::from_u128(3),
                user_name: "mallory".into(),
                claimed_at: cordon_core::clock::from_micros(12),
            },
        ]
    );
    let links = store.chat_identities(Uuid::from_u128(1)).await.unwrap();
    assert!(links.iter().all(|l| l.via == "migration"));
    // the old contact rows are gone; the page channel stays
    assert!(store.contacts(Uuid::from_u128(1)).await.unwrap().is_empty());
    assert_eq!(store.contacts(Uuid::from_u128(2)).await.unwrap()[0].kind, "sms");
    // the old token got an id: listed, and revocable by it
    let (u, rec) = store.token_by_hash(&[0xab; 32]).await.unwrap().unwrap();
    assert_eq!(u.name, "alice");
    assert_eq!(store.tokens(u.id).await.unwrap(), std::slice::from_ref(&rec));
    assert_eq!(rec.expires_at, None);
    // an admin links U2 to bob: the claims are settled
    store
        .link_chat_identity(
            &link(50, "slack", "U2", Uuid::from_u128(2), "admin"),
            audit("identity.link"),
        )
        .await
        .unwrap();
    assert!(store.chat_claims().await.unwrap().is_empty());
    assert!(
        store
            .revoke_token(u.id, rec.id, t("2026-11-27T10:00:00Z"), audit("token.revoke"))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn sqlite_passes_the_identity_story() {
    on_sqlite(story).await;
}

#[tokio::test]
async fn postgres_passes_the_identity_story() {
    on_postgres(story).await;
}

#[tokio::test]
async fn sqlite_migrates_old_chat_contacts() {
    let db = TempSqlite::new();
    let pool = sqlite_before(&db.path(), 9).await.unwrap();
    for q in OLD_ROWS {
        let q = q.replace("$HASH", &format!("X'{}'", "ab".repeat(32)));
        sqlx::query(sqlx::AssertSqlSafe(q)).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let store = db.open().await;
    migrated_story(&store).await;
}

#[tokio::test]
async fn postgres_migrates_old_chat_contacts() {
    on_postgres_db(async |db| {
        let pool = db.migrate_before(9).await.unwrap();
        for q in OLD_ROWS {
            let q = q.replace("$HASH", &format!("'\\x{}'::bytea", "ab".repeat(32)));
            sqlx::query(sqlx::AssertSqlSafe(q)).execute(&pool).await.unwrap();
        }
        pool.close().await;
        let store = db.open().await.unwrap();
        migrated_story(&store).await;
        store.close().await;
    })
    .await;
}

/// Two nodes link one account, and use one code, at the same instant: one wins, the other is
/// refused by the database, and the chain stays one chain.
#[tokio::test]
async fn postgres_nodes_race_for_one_account() {
    on_two_pools(async |a, b| {
        let alice = user(Uuid::from_u128(1), "alice");
        let mallory = user(Uuid::from_u128(3), "mallory");
        a.create_user(&alice, audit("user.create")).await.unwrap();
        a.create_user(&mallory, audit("user.create")).await.unwrap();
        for round in 0..20u128 {
            let account = format!("U{round}");
            let la = link(100 + 2 * round, "slack", &account, alice.id, "admin");
            let lb = link(101 + 2 * round, "slack", &account, mallory.id, "admin");
            let (ra, rb) = tokio::join!(
                a.link_chat_identity(&la, audit("identity.link")),
                b.link_chat_identity(&lb, audit("identity.link"))
            );
            let ok = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
            assert_eq!(ok, 1, "round {round}: {ra:?} {rb:?}");
            assert!(
                [ra, rb]
                    .into_iter()
                    .any(|r| matches!(r, Err(StoreError::Conflict("chat identity"))))
            );
            // one code, two nodes, two accounts: the code links one of them
            let c = code(
                round as u8 + 1,
                alice.id,
                "matrix",
                None,
                "2026-11-27T10:00:00Z",
                "2026-11-27T10:10:00Z",
            );
            a.put_link_code(&c, audit("identity.code")).await.unwrap();
            let ma = link(500 + 2 * round, "matrix", &format!("@a{round}:x"), alice.id, "code");
            let mb = link(501 + 2 * round, "matrix", &format!("@b{round}:x"), alice.id, "code");
            let now = t("2026-11-27T10:01:00Z");
            let (ra, rb) = tokio::join!(
                a.redeem_link_code(&c.hash, &ma, now, audit("identity.link")),
                b.redeem_link_code(&c.hash, &mb, now, audit("identity.link"))
            );
            assert_eq!(
                [ra.unwrap(), rb.unwrap()].iter().filter(|used| **used).count(),
                1,
                "round {round}: the code was used once"
            );
        }
        assert_eq!(
            a.chat_identities(alice.id).await.unwrap().len() + a.chat_identities(mallory.id).await.unwrap().len(),
            40
        );
        chain_ok(a).await;
    })
    .await;
}
