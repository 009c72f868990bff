//! The sessions and local-accounts part of the storage story (issue 15): a session opened with
//! its audit entry, found by its token's hash until it is ended (once), touched without moving
//! back, listed newest first without expired ones, ended with the user's disabling; local
//! credentials set and replaced, a TOTP step taken once (and on two PostgreSQL pools, by one
//! of many racers); failed sign-ins counted per key and forgotten; settings kept. Every
//! backend runs each step.

mod common;

use std::sync::Arc;

use common::{audit, audit_actions, chain_ok, story_and_race_on_sqlite, story_and_race_on_two_pools, t, user, winners};
use cordon_store::Store;
use cordon_store::accounts::UserSettings;
use cordon_store::sessions::NewSession;
use uuid::Uuid;

fn session(n: u128, user: Uuid, at: &str, expires: &str) -> NewSession {
    NewSession {
        id: Uuid::from_u128(n),
        hash: [n as u8; 32],
        user_id: user,
        method: "password".into(),
        created_at: t(at),
        expires_at: t(expires),
        address: Some("192.0.2.7".into()),
        user_agent: Some("Firefox".into()),
    }
}

pub async fn story(store: &dyn Store) {
    let olga = user(Uuid::from_u128(1), "olga");
    let ivan = user(Uuid::from_u128(2), "ivan");
    store.create_user(&olga, audit("user.create")).await.unwrap();
    store.create_user(&ivan, audit("user.create")).await.unwrap();
    let forget = t("2026-01-01T00:00:00Z");

    // Opened with its audit entry; found by hash with its user.
    store
        .open_session(
            &session(10, olga.id, "2026-11-27T10:00:00Z", "2026-11-27T22:00:00Z"),
            forget,
            audit("auth.signin"),
        )
        .await
        .unwrap();
    store
        .open_session(
            &session(11, olga.id, "2026-11-27T11:00:00Z", "2026-11-27T23:00:00Z"),
            forget,
            audit("auth.signin"),
        )
        .await
        .unwrap();
    store
        .open_session(
            &session(12, ivan.id, "2026-11-27T11:00:00Z", "2026-11-27T23:00:00Z"),
            forget,
            audit("auth.signin"),
        )
        .await
        .unwrap();
    let (u, s) = store.session_by_hash(&[10; 32]).await.unwrap().unwrap();
    assert_eq!(u.name, "olga");
    assert_eq!(s.id, Uuid::from_u128(10));
    assert_eq!(
        s.last_seen_at,
        t("2026-11-27T10:00:00Z"),
        "last seen starts at the opening"
    );
    assert_eq!(s.address.as_deref(), Some("192.0.2.7"));
    assert!(store.session_by_hash(&[99; 32]).await.unwrap().is_none());

    // Touched forward, never back.
    store.touch_session(s.id, t("2026-11-27T10:20:00Z")).await.unwrap();
    store.touch_session(s.id, t("2026-11-27T10:05:00Z")).await.unwrap();
    let s = store.session(s.id).await.unwrap().unwrap();
    assert_eq!(s.last_seen_at, t("2026-11-27T10:20:00Z"));

    // Listed newest first, per user and for all; expired ones left out.
    let mine = store.sessions_of(olga.id, t("2026-11-27T12:00:00Z")).await.unwrap();
    assert_eq!(mine.iter().map(|s| s.id.as_u128()).collect::<Vec<_>>(), [11, 10]);
    let late = store.sessions_of(olga.id, t("2026-11-27T22:30:00Z")).await.unwrap();
    assert_eq!(late.iter().map(|s| s.id.as_u128()).collect::<Vec<_>>(), [11]);
    let all = store.all_sessions(t("2026-11-27T12:00:00Z"), 10).await.unwrap();
    assert_eq!(all.len(), 3);

    // Ended once, with its audit entry; then not found by hash.
    assert!(
        store
            .end_session(s.id, t("2026-11-27T12:00:00Z"), "signed out", audit("session.end"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .end_session(s.id, t("2026-11-27T12:01:00Z"), "signed out", audit("session.end"))
            .await
            .unwrap()
    );
    assert!(store.session_by_hash(&[10; 32]).await.unwrap().is_none());
    let ended = store.session(s.id).await.unwrap().unwrap();
    assert_eq!(ended.ended_at, Some(t("2026-11-27T12:00:00Z")));
    assert_eq!(ended.end_reason.as_deref(), Some("signed out"));

    // Disabling the user ends the rest of their sessions in the same transaction.
    let done = store
        .disable_user(olga.id, t("2026-11-27T12:30:00Z"), audit("user.disable"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.sessions, 1);
    assert!(store.session_by_hash(&[11; 32]).await.unwrap().is_none());
    assert_eq!(
        store
            .session(Uuid::from_u128(11))
            .await
            .unwrap()
            .unwrap()
            .end_reason
            .as_deref(),
        Some("user disabled")
    );
    assert!(
        store.session_by_hash(&[12; 32]).await.unwrap().is_some(),
        "others' stay"
    );

    // Opening forgets sessions whose absolute end is long past.
    store
        .open_session(
            &session(13, ivan.id, "2026-11-28T10:00:00Z", "2026-11-28T22:00:00Z"),
            t("2026-11-28T00:00:00Z"),
            audit("auth.signin"),
        )
        .await
        .unwrap();
    assert!(store.session(Uuid::from_u128(10)).await.unwrap().is_none(), "forgotten");
    assert!(store.session(Uuid::from_u128(13)).await.unwrap().is_some());

    // Local credentials: none, then a password, then TOTP (the password stays).
    assert!(store.local_credential(ivan.id).await.unwrap().is_none());
    assert!(
        !store.take_totp_step(ivan.id, 5).await.unwrap(),
        "no TOTP enrolled: no step taken"
    );
    store
        .set_password_hash(
            ivan.id,
            "$argon2id$v=19$first",
            t("2026-11-27T10:00:00Z"),
            audit("user.password"),
        )
        .await
        .unwrap();
    store
        .set_password_hash(
            ivan.id,
            "$argon2id$v=19$second",
            t("2026-11-27T10:01:00Z"),
            audit("user.password"),
        )
        .await
        .unwrap();
    store
        .set_totp(ivan.id, b"sealed-1", t("2026-11-27T10:02:00Z"), audit("user.totp"))
        .await
        .unwrap();
    let c = store.local_credential(ivan.id).await.unwrap().unwrap();
    assert_eq!(c.password_hash.as_deref(), Some("$argon2id$v=19$second"));
    assert_eq!(c.password_set_at, Some(t("2026-11-27T10:01:00Z")));
    assert_eq!(c.totp_sealed.as_deref(), Some(&b"sealed-1"[..]));
    assert_eq!(c.totp_last_step, None);

    // A step is taken once, and never an earlier one after a later.
    assert!(store.take_totp_step(ivan.id, 100).await.unwrap());
    assert!(!store.take_totp_step(ivan.id, 100).await.unwrap(), "replayed");
    assert!(!store.take_totp_step(ivan.id, 99).await.unwrap(), "older");
    assert!(store.take_totp_step(ivan.id, 101).await.unwrap());
    // Re-enrolling forgets the last step.
    store
        .set_totp(ivan.id, b"sealed-2", t("2026-11-27T10:03:00Z"), audit("user.totp"))
        .await
        .unwrap();
    let c = store.local_credential(ivan.id).await.unwrap().unwrap();
    assert_eq!(
        (c.totp_sealed.as_deref(), c.totp_last_step),
        (Some(&b"sealed-2"[..]), None)
    );
    assert_eq!(
        c.password_hash.as_deref(),
        Some("$argon2id$v=19$second"),
        "the password stays"
    );
    assert!(store.take_totp_step(ivan.id, 50).await.unwrap());

    // Failed sign-ins: counted per key since an instant, old ones forgotten, cleared.
    let keys = vec!["account:ivan".to_owned(), "address:192.0.2.7".to_owned()];
    for m in 0..3 {
        let at = t("2026-11-27T10:00:00Z") + jiff::SignedDuration::from_mins(m);
        store
            .record_signin_failure(&keys, at, t("2026-11-27T09:00:00Z"), audit("auth.signin.refused"))
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .signin_failures("account:ivan", t("2026-11-27T09:59:00Z"))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .signin_failures("account:ivan", t("2026-11-27T10:01:00Z"))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .signin_failures("address:192.0.2.7", t("2026-11-27T09:00:00Z"))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .signin_failures("account:olga", t("2026-11-27T09:00:00Z"))
            .await
            .unwrap(),
        0
    );
    store
        .record_signin_failure(
            &["account:olga".to_owned()],
            t("2026-11-27T11:00:00Z"),
            t("2026-11-27T10:01:30Z"),
            audit("auth.signin.refused"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .signin_failures("account:ivan", t("2026-11-27T09:00:00Z"))
            .await
            .unwrap(),
        1,
        "failures older than the window are forgotten"
    );
    store.clear_signin_failures("account:ivan").await.unwrap();
    assert_eq!(
        store
            .signin_failures("account:ivan", t("2026-11-27T09:00:00Z"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .signin_failures("address:192.0.2.7", t("2026-11-27T09:00:00Z"))
            .await
            .unwrap(),
        1
    );

    // Settings: none, set, replaced.
    assert_eq!(store.user_settings(ivan.id).await.unwrap(), UserSettings::default());
    let ja = UserSettings {
        locale: Some("ja".into()),
        time_zone: Some("Asia/Tokyo".into()),
    };
    store
        .set_user_settings(ivan.id, &ja, audit("user.settings"))
        .await
        .unwrap();
    assert_eq!(store.user_settings(ivan.id).await.unwrap(), ja);
    let en = UserSettings {
        locale: Some("en".into()),
        time_zone: None,
    };
    store
        .set_user_settings(ivan.id, &en, audit("user.settings"))
        .await
        .unwrap();
    assert_eq!(store.user_settings(ivan.id).await.unwrap(), en);

    // Every change came with its entry, on one unbroken chain.
    chain_ok(store).await;
    let acts = audit_actions(store).await;
    for a in [
        "auth.signin",
        "session.end",
        "user.disable",
        "user.password",
        "user.totp",
        "auth.signin.refused",
        "user.settings",
    ] {
        assert!(acts.iter().any(|x| x == a), "{a} in {acts:?}");
    }
    assert_eq!(
        acts.iter().filter(|a| *a == "session.end").count(),
        1,
        "an ended session is ended once"
    );
}

/// Twenty callers on `stores` take one TOTP step: exactly one wins.
pub async fn race(stores: Vec<Arc<dyn Store>>) {
    let racer = user(Uuid::from_u128(7), "racer");
    stores[0].create_user(&racer, audit("user.create")).await.unwrap();
    stores[0]
        .set_totp(racer.id, b"sealed", t("2026-11-27T10:00:00Z"), audit("user.totp"))
        .await
        .unwrap();
    let won = winners(&stores, 20, move |_, store| async move {
        store.take_totp_step(racer.id, 1000).await.unwrap()
    })
    .await;
    assert_eq!(won, 1, "one code is accepted once");
}

#[tokio::test]
async fn sqlite_passes_the_sessions_story() {
    story_and_race_on_sqlite(story, race).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_sessions_story_on_two_pools() {
    story_and_race_on_two_pools(story, race).await;
}
