//! The OIDC part of the storage story: a subject linked to the user created for it (never a
//! second link of one subject, never a taken name), sign-ins recorded with the groups kept in
//! step, pending sign-ins taken once and not after they expired, and the sign-in switch set
//! with its audit entry only when it changes. Every backend runs `story`; on PostgreSQL two
//! pools (two nodes) race to take one pending sign-in and to link one subject.

mod common;

use std::sync::Arc;

use common::{
    at_once, audit, chain_ok, story_and_race_on_sqlite, story_and_race_on_two_pools, t, user, user_in, winners,
};
use cordon_store::oidc::{OidcLink, OidcPending, SignInSwitch};
use cordon_store::{Store, StoreError};
use uuid::Uuid;

fn link(issuer: &str, subject: &str, user: Uuid) -> OidcLink {
    OidcLink {
        issuer: issuer.into(),
        subject: subject.into(),
        user_id: user,
        linked_at: t("2026-11-27T09:00:00Z"),
        last_sign_in_at: t("2026-11-27T09:00:00Z"),
    }
}

fn pending(n: u8, created: &str, expires: &str) -> OidcPending {
    OidcPending {
        state_hash: [n; 32],
        nonce: format!("nonce-{n}"),
        pkce_verifier: format!("verifier-{n}"),
        next: "/incidents/x".into(),
        created_at: t(created),
        expires_at: t(expires),
    }
}

pub async fn story(store: &dyn Store) {
    const IDP: &str = "https://idp.example";
    // ---- a first sign-in creates the user and links the subject, in one transaction
    store
        .create_user(&user(Uuid::from_u128(1), "alice"), audit("user.create"))
        .await
        .unwrap();
    assert!(store.oidc_link(IDP, "sub-a").await.unwrap().is_none());
    let before = chain_ok(store).await;
    // The name is taken: nothing is created, nothing linked.
    let err = store
        .create_oidc_user(
            &user_in(Uuid::from_u128(2), "alice", &["ir"]),
            &link(IDP, "sub-a", Uuid::from_u128(2)),
            audit("user.create"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("user")), "{err:?}");
    assert!(store.oidc_link(IDP, "sub-a").await.unwrap().is_none());
    assert!(store.user_by_id(Uuid::from_u128(2)).await.unwrap().is_none());
    assert_eq!(chain_ok(store).await, before);

    store
        .create_oidc_user(
            &user_in(Uuid::from_u128(2), "alice-2", &["ir", "legal"]),
            &link(IDP, "sub-a", Uuid::from_u128(2)),
            audit("user.create"),
        )
        .await
        .unwrap();
    let l = store.oidc_link(IDP, "sub-a").await.unwrap().unwrap();
    assert_eq!(l, link(IDP, "sub-a", Uuid::from_u128(2)));
    let u = store.user_by_name("alice-2").await.unwrap().unwrap();
    assert_eq!(u.groups, ["ir", "legal"]);
    assert_eq!(chain_ok(store).await, before + 1);
    // The same subject of another issuer is another identity.
    assert!(
        store
            .oidc_link("https://other.example", "sub-a")
            .await
            .unwrap()
            .is_none()
    );
    // A second link of the subject is refused, and the user of that attempt is not created.
    let err = store
        .create_oidc_user(
            &user(Uuid::from_u128(3), "alice-3"),
            &link(IDP, "sub-a", Uuid::from_u128(3)),
            audit("user.create"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("oidc subject")), "{err:?}");
    assert!(store.user_by_name("alice-3").await.unwrap().is_none());

    // ---- later sign-ins: the time recorded; groups replaced only when given, audited with them
    let n = chain_ok(store).await;
    store
        .record_oidc_sign_in(IDP, "sub-a", t("2026-11-28T08:00:00Z"), None, None)
        .await
        .unwrap();
    assert_eq!(
        store.oidc_link(IDP, "sub-a").await.unwrap().unwrap().last_sign_in_at,
        t("2026-11-28T08:00:00Z")
    );
    assert_eq!(chain_ok(store).await, n);
    let groups = vec!["security".to_string(), "ir".to_string(), "ir".to_string()];
    store
        .record_oidc_sign_in(
            IDP,
            "sub-a",
            t("2026-11-28T09:00:00Z"),
            Some(&groups),
            Some(audit("user.groups.sync")),
        )
        .await
        .unwrap();
    assert_eq!(
        store.user_by_name("alice-2").await.unwrap().unwrap().groups,
        ["ir", "security"]
    );
    assert_eq!(chain_ok(store).await, n + 1);
    store
        .record_oidc_sign_in(
            IDP,
            "sub-a",
            t("2026-11-28T10:00:00Z"),
            Some(&[]),
            Some(audit("user.groups.sync")),
        )
        .await
        .unwrap();
    assert!(store.user_by_name("alice-2").await.unwrap().unwrap().groups.is_empty());
    assert!(matches!(
        store
            .record_oidc_sign_in(IDP, "nobody", t("2026-11-28T10:00:00Z"), None, None)
            .await,
        Err(StoreError::NotFound(_))
    ));

    // ---- pending sign-ins: taken once; an expired one is taken but not handed back
    let now = t("2026-11-27T10:00:00Z");
    store
        .put_oidc_pending(&pending(1, "2026-11-27T10:00:00Z", "2026-11-27T10:10:00Z"), now)
        .await
        .unwrap();
    store
        .put_oidc_pending(&pending(2, "2026-11-27T10:00:00Z", "2026-11-27T10:10:00Z"), now)
        .await
        .unwrap();
    assert!(store.take_oidc_pending(&[9; 32], now).await.unwrap().is_none());
    let p = store.take_oidc_pending(&[1; 32], now).await.unwrap().unwrap();
    assert_eq!(p, pending(1, "2026-11-27T10:00:00Z", "2026-11-27T10:10:00Z"));
    assert!(
        store.take_oidc_pending(&[1; 32], now).await.unwrap().is_none(),
        "a state is used once"
    );
    assert!(
        store
            .take_oidc_pending(&[2; 32], t("2026-11-27T10:10:00Z"))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    // Expired ones are removed as new ones arrive.
    store
        .put_oidc_pending(&pending(3, "2026-11-27T10:00:00Z", "2026-11-27T10:10:00Z"), now)
        .await
        .unwrap();
    store
        .put_oidc_pending(
            &pending(4, "2026-11-27T10:20:00Z", "2026-11-27T10:30:00Z"),
            t("2026-11-27T10:20:00Z"),
        )
        .await
        .unwrap();
    assert!(
        store.take_oidc_pending(&[3; 32], now).await.unwrap().is_none(),
        "cleaned up"
    );
    assert!(
        store
            .take_oidc_pending(&[4; 32], t("2026-11-27T10:20:00Z"))
            .await
            .unwrap()
            .is_some()
    );

    // ---- the switch: written (and audited) only when it changes
    assert!(store.sign_in_switch("oidc").await.unwrap().is_none());
    let off = SignInSwitch {
        method: "oidc".into(),
        enabled: false,
        changed_at: t("2026-11-27T11:00:00Z"),
        changed_by: "admin".into(),
    };
    let n = chain_ok(store).await;
    assert!(
        store
            .set_sign_in_switch(&off, audit("auth.oidc.disable"))
            .await
            .unwrap()
    );
    assert_eq!(store.sign_in_switch("oidc").await.unwrap(), Some(off.clone()));
    let again = SignInSwitch {
        changed_at: t("2026-11-27T12:00:00Z"),
        changed_by: "other".into(),
        ..off.clone()
    };
    assert!(
        !store
            .set_sign_in_switch(&again, audit("auth.oidc.disable"))
            .await
            .unwrap()
    );
    assert_eq!(store.sign_in_switch("oidc").await.unwrap(), Some(off.clone()));
    assert_eq!(chain_ok(store).await, n + 1);
    let on = SignInSwitch {
        enabled: true,
        changed_at: t("2026-11-27T13:00:00Z"),
        ..off
    };
    assert!(store.set_sign_in_switch(&on, audit("auth.oidc.enable")).await.unwrap());
    assert_eq!(store.sign_in_switch("oidc").await.unwrap(), Some(on));
    assert_eq!(chain_ok(store).await, n + 2);
}

/// Two nodes take one pending sign-in, and link one subject, at once: one of each wins.
pub async fn race(stores: Vec<Arc<dyn Store>>) {
    let now = t("2026-11-29T10:00:00Z");
    stores[0]
        .put_oidc_pending(&pending(7, "2026-11-29T10:00:00Z", "2026-11-29T10:10:00Z"), now)
        .await
        .unwrap();
    let won = winners(&stores, 10, move |_, store| async move {
        store.take_oidc_pending(&[7; 32], now).await.unwrap().is_some()
    })
    .await;
    assert_eq!(won, 1, "one node takes the sign-in");

    let results = at_once(&stores, 6, |i, store| async move {
        let id = Uuid::from_u128(100 + i as u128);
        store
            .create_oidc_user(
                &user(id, &format!("racer-{i}")),
                &link("https://idp.example", "sub-race", id),
                audit("user.create"),
            )
            .await
    })
    .await;
    let mut linked = 0;
    for result in results {
        match result {
            Ok(()) => linked += 1,
            Err(StoreError::Conflict("oidc subject")) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(linked, 1, "one user is linked to the subject");
}

#[tokio::test]
async fn sqlite_passes_the_oidc_story() {
    story_and_race_on_sqlite(story, race).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_oidc_story_on_two_pools() {
    story_and_race_on_two_pools(story, race).await;
}
