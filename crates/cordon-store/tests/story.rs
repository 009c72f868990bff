//! The storage story every backend must pass: users and tokens, incidents with their team,
//! checklist and decisions, uniqueness rules, and an intact audit chain written in the same
//! transaction as each change. Run against SQLite and
//! PostgreSQL (a throw-away database each run, see `cordon_store::testing`).

mod common;

use common::{audit, chain_ok, next_id, on_postgres, on_sqlite, t, task, user_in};
use cordon_core::Timestamp;
use cordon_core::incident::{Decision, Incident, IncidentKind, Membership, Severity, Status};
use cordon_core::role::Role;
use cordon_core::task::{Task, TaskStatus};
use cordon_core::user::User;
use cordon_store::{IncidentLookup, IncidentQuery, ListedIncident, NewIncident, NewToken, Store, StoreError, Viewer};
use uuid::Uuid;

fn user(name: &str, groups: &[&str]) -> User {
    user_in(next_id(), name, groups)
}

/// An incident numbered by `next_id`, of the security team when `sealed` (operations
/// otherwise), in `room`, with a checklist of three steps of two items each and `by` as its
/// reporter.
fn incident(key: &str, by: Uuid, sealed: bool, room: Option<&str>) -> NewIncident {
    let new = common::incident(next_id(), key, by);
    let (id, at) = (new.incident.id, new.incident.created_at);
    NewIncident {
        incident: Incident {
            kind: if sealed {
                IncidentKind::Security
            } else {
                IncidentKind::Operational
            },
            sealed,
            room: room.map(str::to_owned),
            ..new.incident
        },
        tasks: (1..=3)
            .map(|step| Task {
                check_items: vec!["a".into(), "b".into()],
                ..task(next_id(), id, step, &format!("s{step}"))
            })
            .collect(),
        members: vec![Membership {
            id: next_id(),
            incident_id: id,
            user_id: by,
            user_name: String::new(),
            role: Role::Reporter,
            started_at: at,
            ended_at: None,
        }],
    }
}

/// The story. Each new store method gets a step here.
pub async fn story(store: &dyn Store) {
    // users and tokens
    assert_eq!(store.count_users().await.unwrap(), 0);
    let alice = user("alice", &["security", "ops"]);
    let bob = user("bob", &[]);
    store.create_user(&alice, audit("user.create")).await.unwrap();
    store.create_user(&bob, audit("user.create")).await.unwrap();
    assert!(matches!(
        store.create_user(&user("alice", &[]), audit("user.create")).await,
        Err(StoreError::Conflict("user"))
    ));
    assert_eq!(store.count_users().await.unwrap(), 2);
    let got = store.user_by_name("alice").await.unwrap().unwrap();
    assert_eq!(
        got,
        User {
            groups: vec!["ops".into(), "security".into()],
            ..alice.clone()
        }
    );
    assert_eq!(store.user_by_id(bob.id).await.unwrap().unwrap().name, "bob");
    assert!(store.user_by_name("carol").await.unwrap().is_none());
    assert_eq!(store.list_users().await.unwrap().len(), 2);
    let hash = [7u8; 32];
    store
        .add_token(
            &NewToken {
                id: next_id(),
                hash,
                user_id: bob.id,
                label: "cli".into(),
                created_at: t("2026-11-27T10:00:00Z"),
                expires_at: None,
            },
            audit("token.create"),
        )
        .await
        .unwrap();
    assert_eq!(store.token_by_hash(&hash).await.unwrap().unwrap().0.id, bob.id);
    assert!(store.token_by_hash(&[8u8; 32]).await.unwrap().is_none());

    // incidents, visibility and uniqueness
    let sealed = incident("amber-falcon", bob.id, true, Some("#war-room"));
    store.create_incident(&sealed, audit("incident.declare")).await.unwrap();
    let open_ops = incident("brisk-comet", alice.id, false, None);
    store
        .create_incident(&open_ops, audit("incident.declare"))
        .await
        .unwrap();
    let clash = incident("amber-falcon", bob.id, true, None);
    assert!(matches!(
        store.create_incident(&clash, audit("incident.declare")).await,
        Err(StoreError::Conflict("codename"))
    ));
    assert!(
        store.incident(clash.incident.id).await.unwrap().is_none(),
        "a refused incident leaves nothing"
    );
    assert!(store.tasks(clash.incident.id).await.unwrap().is_empty());

    let got = store.incident(sealed.incident.id).await.unwrap().unwrap();
    assert_eq!(got, sealed.incident);
    assert_eq!(
        store.incident_by_codename("amber-falcon").await.unwrap().unwrap().id,
        sealed.incident.id
    );
    let ids = |v: Vec<ListedIncident>| v.into_iter().map(|l| l.incident.id).collect::<Vec<_>>();
    let every = IncidentQuery::default();
    let all = store
        .list_incidents(
            Viewer {
                user_id: alice.id,
                sees_all: true,
            },
            every,
            100,
            None,
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let outsider = next_id();
    assert_eq!(
        ids(store
            .list_incidents(
                Viewer {
                    user_id: outsider,
                    sees_all: false
                },
                every,
                100,
                None
            )
            .await
            .unwrap()),
        [open_ops.incident.id]
    );
    let mut bobs = ids(store
        .list_incidents(
            Viewer {
                user_id: bob.id,
                sees_all: false,
            },
            every,
            100,
            None,
        )
        .await
        .unwrap());
    bobs.sort();
    let mut want = vec![sealed.incident.id, open_ops.incident.id];
    want.sort();
    assert_eq!(bobs, want);
    // Pages of one, newest first, each after the last of the page before.
    let admin = Viewer {
        user_id: alice.id,
        sees_all: true,
    };
    let first = store.list_incidents(admin, every, 1, None).await.unwrap();
    let last = first.last().unwrap();
    let second = store
        .list_incidents(admin, every, 1, Some((last.incident.created_at, last.incident.id)))
        .await
        .unwrap();
    let last = second.last().unwrap();
    let third = store
        .list_incidents(admin, every, 1, Some((last.incident.created_at, last.incident.id)))
        .await
        .unwrap();
    let mut paged = ids(first);
    paged.extend(ids(second));
    assert!(third.is_empty());
    let mut whole = ids(all.clone());
    whole.sort();
    let mut sorted = paged.clone();
    sorted.sort();
    assert_eq!(sorted, whole, "every incident once");
    assert!(paged[0] > paged[1], "same instant: by id, descending");

    // closing releases the codename; the open one wins lookups
    let mut closed = sealed.incident.clone();
    closed.status = Status::NotAnIncident;
    closed.updated_at = t("2026-11-27T11:00:00Z");
    store.update_incident(&closed, audit("incident.update")).await.unwrap();
    assert_eq!(
        store.incident(closed.id).await.unwrap().unwrap().status,
        Status::NotAnIncident
    );
    let reuse = incident("amber-falcon", bob.id, true, Some("#war-room"));
    store.create_incident(&reuse, audit("incident.declare")).await.unwrap();
    assert_eq!(
        store.incident_by_codename("amber-falcon").await.unwrap().unwrap().id,
        reuse.incident.id
    );

    // a war room may carry several open incidents (who sees which is the gate's business);
    // closed ones leave it
    let same_room = incident("gentle-maple", alice.id, true, Some("#war-room"));
    store
        .create_incident(&same_room, audit("incident.declare"))
        .await
        .unwrap();
    let viewer = |user_id: Uuid, sees_all: bool| Viewer { user_id, sees_all };
    assert_eq!(
        store.room_incident("#war-room", viewer(bob.id, false)).await.unwrap(),
        Some(reuse.incident.id),
        "bob's own; the closed one is gone"
    );
    assert_eq!(
        store.room_incident("#war-room", viewer(alice.id, false)).await.unwrap(),
        Some(same_room.incident.id),
        "the one alice is on the team of, though newer"
    );
    assert_eq!(
        store
            .room_incident("#war-room", viewer(next_id(), false))
            .await
            .unwrap(),
        None,
        "an outsider sees no sealed incident in the room"
    );
    assert_eq!(
        store.room_incident("#war-room", viewer(next_id(), true)).await.unwrap(),
        Some(reuse.incident.id),
        "the security team: the oldest"
    );
    assert_eq!(
        store.room_incident("#elsewhere", viewer(bob.id, true)).await.unwrap(),
        None
    );
    let mut closed_too = same_room.incident.clone();
    closed_too.status = Status::NotAnIncident;
    store
        .update_incident(&closed_too, audit("incident.update"))
        .await
        .unwrap();
    assert_eq!(
        store.room_incident("#war-room", viewer(alice.id, false)).await.unwrap(),
        None,
        "closed: alice's incident left the room"
    );

    // the team
    let inc = reuse.incident.id;
    let start = t("2026-11-27T12:00:00Z");
    let term = |u: &User, role: Role, at: Timestamp| Membership {
        id: next_id(),
        incident_id: inc,
        user_id: u.id,
        user_name: u.name.clone(),
        role,
        started_at: at,
        ended_at: None,
    };
    store
        .add_membership(&term(&alice, Role::IncidentCommander, start), audit("member.add"))
        .await
        .unwrap();
    store
        .add_membership(&term(&alice, Role::Scribe, start), audit("member.add"))
        .await
        .unwrap();
    let later = t("2026-11-27T13:00:00Z");
    store
        .add_membership(&term(&bob, Role::IncidentCommander, later), audit("member.add"))
        .await
        .unwrap();
    // Lists name each incident's commander now, and filter by status and severity.
    let listed = store
        .list_incidents(
            Viewer {
                user_id: alice.id,
                sees_all: true,
            },
            every,
            100,
            None,
        )
        .await
        .unwrap();
    let commander_of = |id: Uuid| listed.iter().find(|l| l.incident.id == id).unwrap().commander.clone();
    assert_eq!(commander_of(inc).as_deref(), Some("bob"));
    assert_eq!(commander_of(open_ops.incident.id), None);
    let only = |status: Option<Status>, severity: Option<Severity>| IncidentQuery { status, severity };
    let admin_view = Viewer {
        user_id: alice.id,
        sees_all: true,
    };
    let closed_ones = ids(store
        .list_incidents(admin_view, only(Some(Status::NotAnIncident), None), 100, None)
        .await
        .unwrap());
    assert_eq!(closed_ones, [closed_too.id, sealed.incident.id], "newest first");
    let mut sev1 = reuse.incident.clone();
    sev1.severity = Severity::new(1).unwrap();
    store.update_incident(&sev1, audit("incident.update")).await.unwrap();
    let sev1_ones = ids(store
        .list_incidents(admin_view, only(None, Some(Severity::new(1).unwrap())), 100, None)
        .await
        .unwrap());
    assert_eq!(sev1_ones, [inc]);
    assert!(
        store
            .list_incidents(
                admin_view,
                only(Some(Status::NotAnIncident), Some(Severity::new(1).unwrap())),
                100,
                None
            )
            .await
            .unwrap()
            .is_empty()
    );
    // The filter keeps the viewer's limits: bob, no security group, sees his own sealed one.
    let bobs_sev1 = ids(store
        .list_incidents(
            Viewer {
                user_id: bob.id,
                sees_all: false,
            },
            only(None, Some(Severity::new(1).unwrap())),
            100,
            None,
        )
        .await
        .unwrap());
    assert_eq!(bobs_sev1, [inc]);
    let outsiders_sev1 = store
        .list_incidents(
            Viewer {
                user_id: next_id(),
                sees_all: false,
            },
            only(None, Some(Severity::new(1).unwrap())),
            100,
            None,
        )
        .await
        .unwrap();
    assert!(outsiders_sev1.is_empty());

    let ms = store.memberships(inc).await.unwrap();
    let alice_ic = ms
        .iter()
        .find(|m| m.user_id == alice.id && m.role == Role::IncidentCommander)
        .unwrap();
    assert_eq!(alice_ic.ended_at, Some(later), "a single-holder role passes on");
    assert_eq!(alice_ic.user_name, "alice");
    assert_eq!(store.active_roles(inc, alice.id).await.unwrap(), [Role::Scribe]);
    let mut bob_roles = store.active_roles(inc, bob.id).await.unwrap();
    bob_roles.sort();
    assert_eq!(bob_roles, [Role::IncidentCommander, Role::Reporter]);
    assert!(
        store
            .end_membership(inc, alice.id, Role::Scribe, later, audit("member.remove"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .end_membership(inc, alice.id, Role::Scribe, later, audit("member.remove"))
            .await
            .unwrap()
    );
    assert!(store.active_roles(inc, alice.id).await.unwrap().is_empty());
    let (found, mut roles) = store
        .incident_for_viewer(IncidentLookup::Codename("amber-falcon"), bob.id)
        .await
        .unwrap()
        .unwrap();
    roles.sort();
    assert_eq!((found.id, roles), (inc, vec![Role::IncidentCommander, Role::Reporter]));
    let (found, roles) = store
        .incident_for_viewer(IncidentLookup::Id(inc), alice.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, roles), (inc, vec![]));
    let (found, _) = store
        .incident_for_viewer(IncidentLookup::Id(closed.id), bob.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.status, Status::NotAnIncident);
    assert!(
        store
            .incident_for_viewer(IncidentLookup::Codename("quiet-lake"), bob.id)
            .await
            .unwrap()
            .is_none()
    );

    // the checklist and decisions
    let mut tasks = store.tasks(inc).await.unwrap();
    assert_eq!(tasks.iter().map(|t| t.step).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(tasks[0].check_items, ["a", "b"]);
    tasks[1].status = TaskStatus::Done;
    tasks[1].assignee = Some(alice.id);
    tasks[1].override_reason = Some("because".into());
    tasks[1].updated_at = later;
    store.update_task(&tasks[1], audit("task.update")).await.unwrap();
    assert_eq!(store.tasks(inc).await.unwrap()[1], tasks[1]);
    assert_eq!(store.tasks_assigned_to(alice.id, 10).await.unwrap(), [tasks[1].clone()]);
    assert!(store.tasks_assigned_to(bob.id, 10).await.unwrap().is_empty());
    assert!(store.tasks_assigned_to(alice.id, 0).await.unwrap().is_empty());
    let mut ghost = tasks[0].clone();
    ghost.id = next_id();
    assert!(matches!(
        store.update_task(&ghost, audit("task.update")).await,
        Err(StoreError::NotFound("task"))
    ));

    let d = Decision {
        name: "insider_threat_ruled_out".into(),
        value: false,
        note: "not yet".into(),
        decided_by: alice.id,
        decided_by_name: "alice".into(),
        decided_at: start,
    };
    store.record_decision(inc, &d, audit("decision.record")).await.unwrap();
    let d2 = Decision {
        value: true,
        note: "external".into(),
        decided_by: bob.id,
        decided_by_name: "bob".into(),
        decided_at: later,
        ..d
    };
    store.record_decision(inc, &d2, audit("decision.record")).await.unwrap();
    assert_eq!(store.decisions(inc).await.unwrap(), std::slice::from_ref(&d2));
    let view = store
        .incident_view(IncidentLookup::Id(inc), alice.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.decisions, [d2]);

    // the audit chain: one entry per successful change, none for refused ones, all linked
    let seq = store.append_audit(audit("something.refused")).await.unwrap();
    let entries = chain_ok(store).await;
    assert_eq!(entries as i64, seq);
    assert_eq!(
        entries, 18,
        "2 users, 1 token, 4 declarations, 3 updates, 3 + 1 team changes, 1 task, 2 decisions, 1 refusal"
    );
    let page = store.audit_page(5, 3).await.unwrap();
    assert_eq!(page.iter().map(|e| e.record.seq).collect::<Vec<_>>(), [6, 7, 8]);
}

#[tokio::test]
async fn sqlite_passes_the_story() {
    on_sqlite(story).await;
}

#[tokio::test]
async fn postgres_passes_the_story() {
    on_postgres(story).await;
}
