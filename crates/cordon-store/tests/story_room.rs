//! The war-room conversation and change-feed part of the storage story (issue 15): a message is
//! stored with its audit entry and takes that entry's sequence number; an incident's
//! conversation pages newest first and never shows another incident's messages; the whole log
//! reads oldest first; Cordon's replies have no author. The feed's reads: the audit log's head,
//! and the incident an audit subject's item belongs to (every kind's query runs on both
//! databases). Run against SQLite and PostgreSQL.

mod common;

use common::{audit, chain_ok, incident_with_task, on_postgres, on_sqlite, t, user};
use cordon_store::feed::IncidentItem;
use cordon_store::room::{MessageKind, NewRoomMessage};
use cordon_store::{Store, StoreError};
use uuid::Uuid;

fn message(id: u128, incident: Uuid, author: Option<Uuid>, kind: MessageKind, body: &str) -> NewRoomMessage {
    NewRoomMessage {
        id: Uuid::from_u128(id),
        incident_id: incident,
        author,
        kind,
        body: body.into(),
        reply_to: None,
        created_at: t("2026-11-27T10:05:00Z"),
    }
}

/// The story.
pub async fn story(store: &dyn Store) {
    assert_eq!(store.audit_head().await.unwrap(), 0, "an empty log's head");
    let alice = user(Uuid::from_u128(0xa11ce), "alice");
    store.create_user(&alice, audit("user.create")).await.unwrap();
    let a = incident_with_task(0x1, "amber-falcon", alice.id);
    let b = incident_with_task(0x2, "brave-otter", alice.id);
    for i in [&a, &b] {
        store.create_incident(i, audit("incident.declare")).await.unwrap();
    }
    let (ia, ib) = (a.incident.id, b.incident.id);
    assert_eq!(store.audit_head().await.unwrap(), 3);
    assert!(store.room_messages(ia, None, 10).await.unwrap().is_empty());

    // Each message takes its audit entry's sequence number.
    let hello = store
        .add_room_message(
            &message(0x10, ia, Some(alice.id), MessageKind::Message, "hello\nteam"),
            audit("message.post"),
        )
        .await
        .unwrap();
    assert_eq!(hello.seq, 4);
    assert_eq!(hello.author_name.as_deref(), Some("alice"));
    assert_eq!(hello.body, "hello\nteam");
    let other = store
        .add_room_message(
            &message(0x11, ib, Some(alice.id), MessageKind::Message, "elsewhere"),
            audit("message.post"),
        )
        .await
        .unwrap();
    let command = store
        .add_room_message(
            &message(0x12, ia, Some(alice.id), MessageKind::Command, "!status"),
            audit("message.post"),
        )
        .await
        .unwrap();
    let reply = store
        .add_room_message(
            &NewRoomMessage {
                reply_to: Some(command.id),
                ..message(0x13, ia, None, MessageKind::Reply, "amber-falcon — SEV-2 triage")
            },
            audit("message.reply"),
        )
        .await
        .unwrap();
    assert_eq!((reply.author, reply.author_name.as_deref()), (None, None));
    assert_eq!(reply.reply_to, Some(command.id));
    assert_eq!(reply.kind, MessageKind::Reply);
    assert_eq!(store.audit_head().await.unwrap(), reply.seq);

    // Newest first, paged by sequence number; another incident's messages never show.
    let page = store.room_messages(ia, None, 2).await.unwrap();
    assert_eq!(page, [reply.clone(), command.clone()]);
    let next = store.room_messages(ia, Some(command.seq), 2).await.unwrap();
    assert_eq!(next, std::slice::from_ref(&hello));
    assert!(store.room_messages(ia, Some(hello.seq), 2).await.unwrap().is_empty());
    assert_eq!(store.room_messages(ib, None, 10).await.unwrap(), [other]);
    // The whole log, oldest first.
    assert_eq!(store.room_log(ia).await.unwrap(), [hello.clone(), command, reply]);

    // A duplicate id is a conflict and appends nothing.
    let head = store.audit_head().await.unwrap();
    assert!(matches!(
        store
            .add_room_message(
                &message(0x10, ia, Some(alice.id), MessageKind::Message, "again"),
                audit("message.post")
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.audit_head().await.unwrap(), head);

    // The incident of an audit subject's item: a checklist task is found; an id that names
    // nothing is no incident, for every kind of item.
    assert_eq!(
        store.incident_of_item(IncidentItem::Task, a.tasks[0].id).await.unwrap(),
        Some(ia)
    );
    assert_eq!(
        store.incident_of_item(IncidentItem::Task, b.tasks[0].id).await.unwrap(),
        Some(ib)
    );
    for kind in [
        "task",
        "page",
        "clock",
        "ioc",
        "asset",
        "system",
        "credential",
        "exposure",
        "communication",
        "contact",
        "evidence",
    ] {
        let item = IncidentItem::from_subject_prefix(kind).unwrap();
        assert_eq!(
            store.incident_of_item(item, Uuid::from_u128(0xdead)).await.unwrap(),
            None,
            "{kind}"
        );
    }
    assert_eq!(IncidentItem::from_subject_prefix("user"), None);

    // Every message has its entry, and the chain holds.
    assert_eq!(chain_ok(store).await, 7, "1 user, 2 incidents, 4 messages");
}

#[tokio::test]
async fn sqlite_passes_the_room_story() {
    on_sqlite(story).await;
}

#[tokio::test]
async fn postgres_passes_the_room_story() {
    on_postgres(story).await;
}
