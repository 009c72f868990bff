//! The registers' storage story every backend must pass: assets and their write-once moves
//! (a move from a state the asset is no longer in is a conflict), effects written in the same
//! transaction as the change that set them off (and nothing when any part fails), indicators
//! unique per kind and value with sightings kept once per event, systems upserted by name,
//! credentials, exposures and follow-up tasks, every write with its audit entry. Run against
//! SQLite and PostgreSQL (a throw-away database each run); on PostgreSQL two nodes then race to
//! move one asset.

mod common;

use common::{
    TempSqlite, audit_on, chain_ok, create_user, declare, next_id, on_postgres_db, refused_as_write_once, t, winners,
};
use cordon_core::register::{AssetKind, AssetState, Classification, CredentialKind, CredentialState};
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_store::registers::{
    Asset, AssetMove, Credential, Effects, EventRef, Exposure, FollowUpTask, Indicator, Sighting, System,
};
use cordon_store::{IncidentQuery, PostgresStore, RegisterStore, Store, StoreError, Viewer};
use uuid::Uuid;

fn asset(incident: Uuid, by: Uuid, name: &str, state: AssetState) -> (Asset, AssetMove) {
    let at = t("2026-11-27T11:00:00Z");
    let a = Asset {
        id: next_id(),
        incident_id: incident,
        name: name.into(),
        kind: AssetKind::Host,
        address: Some("10.0.0.5".into()),
        state,
        created_by: by,
        created_at: at,
        updated_at: at,
    };
    let m = AssetMove {
        id: next_id(),
        asset_id: a.id,
        incident_id: incident,
        from: None,
        to: state,
        by,
        by_name: String::new(),
        at,
        note: String::new(),
    };
    (a, m)
}

fn credential(incident: Uuid, by: Uuid, name: &str, on: &str, state: CredentialState) -> Credential {
    Credential {
        id: next_id(),
        incident_id: incident,
        name: name.into(),
        kind: CredentialKind::SshKey,
        stored_on: vec![on.into()],
        grants: vec!["billing".into()],
        state,
        created_by: by,
        created_at: t("2026-11-27T11:00:00Z"),
        updated_at: t("2026-11-27T11:00:00Z"),
    }
}

fn rotation(incident: Uuid, cred: Uuid, owner: Option<Uuid>) -> FollowUpTask {
    FollowUpTask {
        id: next_id(),
        incident_id: incident,
        parent_step: 9,
        key: format!("rotate:{cred}"),
        title: "Rotate deploy-key".into(),
        status: TaskStatus::Todo,
        owner_role: owner.is_none().then_some(Role::IncidentCommander),
        assignee: owner,
        credential_id: Some(cred),
        created_at: t("2026-11-27T11:00:00Z"),
        updated_at: t("2026-11-27T11:00:00Z"),
    }
}

/// The story. Each new register method gets a step here.
pub async fn story(store: &dyn Store) {
    let alice = create_user(store, "alice").await;
    let bob = create_user(store, "bob").await;
    let inc = declare(store, "amber-falcon", alice.id).await;
    let other = declare(store, "quiet-otter", alice.id).await;

    // assets: created with their first move; names unique per incident
    let (web1, first) = asset(inc, alice.id, "web1", AssetState::Suspected);
    store
        .create_asset(
            &web1,
            &first,
            &Effects::default(),
            audit_on("asset.create", "asset:web1"),
        )
        .await
        .unwrap();
    let (dup, dup_first) = asset(inc, alice.id, "web1", AssetState::Compromised);
    let err = store
        .create_asset(
            &dup,
            &dup_first,
            &Effects::default(),
            audit_on("asset.create", "asset:web1"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("asset")), "{err:?}");
    let (elsewhere, elsewhere_first) = asset(other, alice.id, "web1", AssetState::Suspected);
    store
        .create_asset(
            &elsewhere,
            &elsewhere_first,
            &Effects::default(),
            audit_on("asset.create", "asset:web1"),
        )
        .await
        .unwrap();

    // a credential on web1, and a system it grants
    let key = credential(inc, alice.id, "deploy-key", "web1", CredentialState::Unaffected);
    store
        .put_credential(
            &key,
            &Effects::default(),
            audit_on("credential.create", "credential:deploy-key"),
        )
        .await
        .unwrap();
    let billing = System {
        id: next_id(),
        incident_id: inc,
        name: "billing".into(),
        owner: Some(bob.id),
        owner_name: None,
        assets: vec!["db1".into()],
        created_at: t("2026-11-27T11:00:00Z"),
        updated_at: t("2026-11-27T11:00:00Z"),
    };
    store
        .put_system(&billing, audit_on("system.put", "system:billing"))
        .await
        .unwrap();
    let again = System {
        id: next_id(),
        assets: vec!["db1".into(), "db2".into()],
        ..billing.clone()
    };
    store
        .put_system(&again, audit_on("system.put", "system:billing"))
        .await
        .unwrap();
    let systems = store.systems(inc).await.unwrap();
    assert_eq!(systems.len(), 1, "upserted by name");
    assert_eq!(systems[0].assets, ["db1", "db2"]);
    assert_eq!(systems[0].owner_name.as_deref(), Some("bob"));

    // a move computed without the key (it was recorded meanwhile) would leave an unaffected
    // key on a compromised host: a conflict, nothing written
    let blind = AssetMove {
        id: next_id(),
        asset_id: web1.id,
        incident_id: inc,
        from: Some(AssetState::Suspected),
        to: AssetState::Compromised,
        by: bob.id,
        by_name: String::new(),
        at: t("2026-11-27T11:30:00Z"),
        note: String::new(),
    };
    let err = store
        .move_asset(&blind, &Effects::default(), audit_on("asset.move", "asset:web1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("credential")), "{err:?}");
    assert_eq!(store.assets(inc).await.unwrap()[0].state, AssetState::Suspected);

    // the move that compromises web1 compromises the key and creates its rotation task, at once
    let mv = AssetMove {
        id: next_id(),
        asset_id: web1.id,
        incident_id: inc,
        from: Some(AssetState::Suspected),
        to: AssetState::Compromised,
        by: bob.id,
        by_name: String::new(),
        at: t("2026-11-27T12:00:00Z"),
        note: "webshell found".into(),
    };
    let fallen = Credential {
        state: CredentialState::Compromised,
        updated_at: mv.at,
        ..key.clone()
    };
    let task = rotation(inc, key.id, Some(bob.id));
    let effects = Effects {
        credentials: vec![fallen.clone()],
        tasks: vec![task.clone()],
        audit: vec![
            audit_on("credential.compromised", "credential:deploy-key"),
            audit_on("task.create", format!("task:{}", task.id)),
        ],
    };
    store
        .move_asset(&mv, &effects, audit_on("asset.move", "asset:web1"))
        .await
        .unwrap();
    assert_eq!(store.assets(inc).await.unwrap()[0].state, AssetState::Compromised);
    assert_eq!(store.credentials(inc).await.unwrap(), std::slice::from_ref(&fallen));
    assert_eq!(store.follow_up_tasks(inc).await.unwrap(), std::slice::from_ref(&task));
    let moves = store.asset_moves(inc).await.unwrap();
    assert_eq!(moves.len(), 2);
    assert_eq!(
        (moves[1].from, moves[1].to),
        (Some(AssetState::Suspected), AssetState::Compromised)
    );
    assert_eq!(moves[1].by_name, "bob");
    assert_eq!(moves[1].note, "webshell found");

    // an unaffected credential cannot be recorded on the now compromised host (its caller read
    // the host before the move): a conflict
    let late = credential(inc, alice.id, "late-key", "web1", CredentialState::Unaffected);
    let err = store
        .put_credential(
            &late,
            &Effects::default(),
            audit_on("credential.create", "credential:late-key"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("asset state")), "{err:?}");
    assert_eq!(store.credentials(inc).await.unwrap().len(), 1);

    // a stale move (from a state the asset left) is a conflict, and writes nothing
    let stale = AssetMove {
        id: next_id(),
        at: t("2026-11-27T12:01:00Z"),
        ..mv.clone()
    };
    let err = store
        .move_asset(&stale, &Effects::default(), audit_on("asset.move", "asset:web1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("asset state")), "{err:?}");
    assert_eq!(store.asset_moves(inc).await.unwrap().len(), 2);

    // an effect that fails takes the whole change back: no asset, no move, no audit entry
    let (web2, web2_first) = asset(inc, alice.id, "web2", AssetState::Compromised);
    let clash = Effects {
        tasks: vec![rotation(inc, key.id, None)], // same key `rotate:<id>` as the existing task
        ..Effects::default()
    };
    let before = chain_ok(store).await;
    let err = store
        .create_asset(&web2, &web2_first, &clash, audit_on("asset.create", "asset:web2"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.assets(inc).await.unwrap().len(), 1);
    assert_eq!(chain_ok(store).await, before);

    // rotation: the credential and its task move together
    let rotated = Credential {
        state: CredentialState::Rotated,
        updated_at: t("2026-11-27T13:00:00Z"),
        ..fallen
    };
    let done = FollowUpTask {
        status: TaskStatus::Done,
        updated_at: rotated.updated_at,
        ..task.clone()
    };
    let effects = Effects {
        tasks: vec![done.clone()],
        ..Effects::default()
    };
    store
        .put_credential(
            &rotated,
            &effects,
            audit_on("credential.rotated", "credential:deploy-key"),
        )
        .await
        .unwrap();
    assert_eq!(store.credentials(inc).await.unwrap()[0].state, CredentialState::Rotated);
    assert_eq!(store.follow_up_tasks(inc).await.unwrap()[0].status, TaskStatus::Done);
    let reopened = FollowUpTask {
        status: TaskStatus::InProgress,
        assignee: Some(alice.id),
        ..done
    };
    store
        .update_follow_up_task(&reopened, audit_on("task.update", "task"))
        .await
        .unwrap();
    assert_eq!(
        store.follow_up_tasks(inc).await.unwrap(),
        std::slice::from_ref(&reopened)
    );
    assert_eq!(store.follow_ups_assigned_to(alice.id, 10).await.unwrap(), [reopened]);
    assert!(store.follow_ups_assigned_to(bob.id, 10).await.unwrap().is_empty());
    assert!(store.follow_up_tasks(other).await.unwrap().is_empty());

    // indicators: unique per kind and value, updated in place, sightings kept once per event
    let at = t("2026-11-27T14:00:00Z");
    let mut ip = Indicator {
        id: next_id(),
        incident_id: inc,
        kind: "ip".into(),
        value: "45.9.148.7".into(),
        special: None,
        notes: vec!["scanner".into()],
        first_seen: None,
        last_seen: None,
        created_by: alice.id,
        created_at: at,
        updated_at: at,
    };
    store.put_indicator(&ip, &[], audit_on("ioc.add", "ioc")).await.unwrap();
    let twin = Indicator {
        id: next_id(),
        ..ip.clone()
    };
    let err = store
        .put_indicator(&twin, &[], audit_on("ioc.add", "ioc"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("indicator")), "{err:?}");
    let source = next_id();
    let sighting = |line: u64, when: &str| Sighting {
        id: next_id(),
        indicator_id: ip.id,
        incident_id: inc,
        source_id: source,
        line,
        byte_offset: line * 100,
        seen_at: t(when),
        host: Some("web1".into()),
        how: "search".into(),
        recorded_at: at,
    };
    ip.notes.push("also brute force".into());
    ip.first_seen = Some(t("2026-11-20T01:00:00Z"));
    ip.last_seen = Some(t("2026-11-21T01:00:00Z"));
    let seen = [sighting(7, "2026-11-21T01:00:00Z"), sighting(3, "2026-11-20T01:00:00Z")];
    store
        .put_indicator(&ip, &seen, audit_on("ioc.sightings", "ioc"))
        .await
        .unwrap();
    store
        .put_indicator(
            &ip,
            &[sighting(7, "2026-11-21T01:00:00Z")],
            audit_on("ioc.sightings", "ioc"),
        )
        .await
        .unwrap();
    assert_eq!(store.indicators(inc).await.unwrap(), std::slice::from_ref(&ip));
    let sightings = store.sightings(inc).await.unwrap();
    assert_eq!(
        sightings.iter().map(|s| s.line).collect::<Vec<_>>(),
        [3, 7],
        "time order, once each"
    );
    assert!(store.indicators(other).await.unwrap().is_empty());

    // exposures
    let exposure = Exposure {
        id: next_id(),
        incident_id: inc,
        data: "customer table".into(),
        classification: Classification::Pii,
        records: Some(12_000),
        customers: vec!["ACME".into()],
        evidence: vec![next_id()],
        events: vec![EventRef {
            source_id: source,
            line: 3,
        }],
        created_by: alice.id,
        created_at: at,
    };
    store
        .create_exposure(&exposure, audit_on("exposure.create", "exposure"))
        .await
        .unwrap();
    assert_eq!(store.exposures(inc).await.unwrap(), [exposure]);
    assert!(store.exposures(other).await.unwrap().is_empty());

    let entries = chain_ok(store).await;
    // 16 writes succeeded (the move with its two effects counts three): 18 entries; the refused
    // writes left nothing
    assert_eq!(entries, 18);
}

#[tokio::test]
async fn sqlite_passes_the_registers_story() {
    let db = TempSqlite::new();
    let store = db.open().await;
    story(&store).await;

    // SQLite-specific guard: asset moves are write-once even for raw SQL.
    refused_as_write_once(
        &db.raw_pool().await,
        &["UPDATE asset_moves SET note = 'x'", "DELETE FROM asset_moves"],
    )
    .await;
}

#[tokio::test]
async fn postgres_passes_the_registers_story() {
    on_postgres_db(async |db| {
        let a: PostgresStore = db.open().await.unwrap();
        let b: PostgresStore = db.open().await.unwrap();
        story(&a).await;
        one_move_wins_across_nodes(&a, &b).await;

        // PostgreSQL-specific guard: the plpgsql trigger keeps asset moves write-once for raw SQL.
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        refused_as_write_once(
            &pool,
            &[
                "UPDATE asset_moves SET note = 'x'",
                "DELETE FROM asset_moves",
                "TRUNCATE asset_moves",
            ],
        )
        .await;
        assert_eq!(
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM asset_moves")
                .fetch_one(&pool)
                .await
                .unwrap(),
            4
        );
        pool.close().await;
        a.close().await;
        b.close().await;
    })
    .await;
}

/// PostgreSQL-specific: two pools on one database (what two processes look like to the server)
/// move the same asset out of the same state at once; one move wins, every other is the
/// `asset state` conflict, and only the winner is recorded and audited.
async fn one_move_wins_across_nodes(a: &PostgresStore, b: &PostgresStore) {
    let viewer = Viewer {
        user_id: Uuid::nil(),
        sees_all: true,
    };
    let incidents = a
        .list_incidents(viewer, IncidentQuery::default(), 10, None)
        .await
        .unwrap();
    let other = &incidents
        .iter()
        .find(|l| l.incident.codename.key() == "quiet-otter")
        .unwrap()
        .incident;
    let asset = a.assets(other.id).await.unwrap().remove(0);
    assert_eq!(asset.state, AssetState::Suspected);
    let before = chain_ok(a).await;

    let (asset, incident, by) = (asset.id, other.id, other.created_by);
    let won = winners(&[a.clone(), b.clone()], 8, move |i, node| async move {
        let mv = AssetMove {
            id: next_id(),
            asset_id: asset,
            incident_id: incident,
            from: Some(AssetState::Suspected),
            to: AssetState::Compromised,
            by,
            by_name: String::new(),
            at: t("2026-11-28T10:00:00Z"),
            note: format!("move {i}"),
        };
        match node
            .move_asset(&mv, &Effects::default(), audit_on("asset.move", "asset:web1"))
            .await
        {
            Ok(()) => true,
            Err(e) => {
                assert!(matches!(e, StoreError::Conflict("asset state")), "{e:?}");
                false
            }
        }
    })
    .await;
    assert_eq!(won, 1);
    assert_eq!(b.asset_moves(other.id).await.unwrap().len(), 2);
    assert_eq!(b.assets(other.id).await.unwrap()[0].state, AssetState::Compromised);
    assert_eq!(chain_ok(b).await, before + 1);
}
