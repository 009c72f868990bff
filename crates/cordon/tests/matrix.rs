//! The Matrix war room end to end, against a real Synapse: the bot joins on invite, a linked
//! user types `!ic page` in the room, Cordon declares a sealed incident bound to the room,
//! pages the on-call commander, and the bot's reply appears in the room.

mod common;

#[path = "../../cordon-channels/tests/support/synapse.rs"]
mod synapse;

use std::time::{Duration, Instant};

use common::{ADMIN_TOKEN, spawn_app_with};
use cordon_channels::{HttpTransport, MatrixClient, OutboundPolicy, Timeouts};
use reqwest::StatusCode;
use serde_json::json;
use synapse::Synapse;

#[tokio::test]
async fn ic_page_in_a_matrix_room() {
    let synapse = Synapse::start().await;
    tokio::join!(
        synapse.register("irbot", "bot-password-1"),
        synapse.register("alice", "alice-password-1")
    );
    let hs = synapse.base_url.clone();
    let app = spawn_app_with(|c| {
        c.matrix_homeserver = Some(hs.clone());
        c.matrix_user = Some("irbot".into());
        c.matrix_password = Some("bot-password-1".into());
    })
    .await;

    // alice in Cordon, linked to her Matrix account, on call as incident commander.
    let (st, _) = app
        .post(
            "/api/v1/users",
            ADMIN_TOKEN,
            json!({ "name": "alice", "email": "alice@corp.example" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = app
        .post(
            "/api/v1/users/alice/contacts",
            ADMIN_TOKEN,
            json!({ "kind": "matrix_user", "address": "@alice:localhost" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    app.post(
        "/api/v1/oncall/schedules",
        ADMIN_TOKEN,
        json!({ "name": "ic", "time_zone": "UTC", "rotations": [{ "users": ["alice"], "shift": "P7D", "handoff": "2026-11-23T09:00:00Z" }] }),
    )
    .await;
    let (st, v) = app
        .post(
            "/api/v1/oncall/escalation-policies",
            ADMIN_TOKEN,
            json!({ "name": "incident-commander", "repeat": 0, "levels": [{ "targets": [{ "schedule": "ic" }], "after": "PT5M" }] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // alice opens a room and invites the bot; the bot joins.
    // Synapse listens on loopback: allowed explicitly, as in the server's test config.
    let http = HttpTransport::new(Timeouts::default(), OutboundPolicy::allowing(["127.0.0.0/8"]).unwrap()).unwrap();
    let alice = MatrixClient::login_password(&http, &synapse.base_url, "alice", "alice-password-1", "web")
        .await
        .unwrap();
    let mut since = alice.sync(None, Duration::ZERO).await.unwrap().next_batch;
    let room = alice
        .create_room(Some("war room"), &["@irbot:localhost"])
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let members: serde_json::Value = reqwest::Client::new()
            .get(format!(
                "{}/_matrix/client/v3/rooms/{room}/joined_members",
                synapse.base_url
            ))
            .bearer_auth(alice.access_token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if members["joined"].get("@irbot:localhost").is_some() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the bot did not join: {members}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    alice.send_text(&room, "!ic page", None).await.unwrap();
    let started = Instant::now();
    let reply = loop {
        let batch = alice.sync(Some(&since), Duration::from_secs(2)).await.unwrap();
        since = batch.next_batch;
        if let Some(m) = batch.messages.into_iter().find(|m| m.sender == "@irbot:localhost") {
            break m.body;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no reply from the bot");
    };
    assert!(
        reply.starts_with("Declared ") && reply.contains("sealed") && reply.contains("alice"),
        "{reply}"
    );

    // The room is now the war room of a sealed incident reported by alice.
    let (_, list) = app.get("/api/v1/incidents", ADMIN_TOKEN).await;
    let inc = &list.as_array().unwrap()[0];
    assert_eq!(inc["room"], room.as_str());
    assert_eq!(inc["sealed"], true);
    assert!(reply.contains(inc["codename"].as_str().unwrap()));
}
