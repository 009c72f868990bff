//! The Matrix war room end to end, against a real Synapse: the bot joins on invite, a linked
//! user types `!ic page` in the room, Cordon declares a sealed incident bound to the room and
//! pages the on-call commander. The room reads only the incident's notice (codename,
//! severity, status, link); the reply comes to the sender in a direct message — until the
//! room is marked team-only, keeps its past from later joiners, and every member is on the
//! team — and again as soon as someone who is not joins.

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
    // The room gets the notice; alice gets an invitation to a direct room with the reply.
    let (notice, dm) = bot_says(&alice, &mut since, &room).await;
    let (_, list) = app.get("/api/v1/incidents", ADMIN_TOKEN).await;
    let inc = &list.as_array().unwrap()[0];
    let codename = inc["codename"].as_str().unwrap().to_owned();
    assert_eq!(inc["room"], room.as_str());
    assert_eq!(inc["sealed"], true);
    assert!(
        notice.starts_with(&format!("{codename} \u{2014} SEV-2, triage: ")) && notice.contains("/incidents/"),
        "{notice}"
    );
    assert!(!notice.contains("alice") && !notice.contains("Declared"), "{notice}");
    let dm = dm.expect("a direct message to alice");
    let reply = last_bot_message(&synapse.base_url, &alice, &dm).await;
    assert!(
        reply.starts_with("Declared ")
            && reply.contains("sealed")
            && reply.contains("alice")
            && reply.contains(&codename),
        "{reply}"
    );

    // A team-only room whose only member is on the team hears the reply in full.
    let (st, v) = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/chat/rooms/{}", urlencode(&room)),
            Some(ADMIN_TOKEN),
            Some(json!({ "team_only": true })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // Not while the room shows its past to whoever joins later (the default, `shared`).
    alice.send_text(&room, "!status", None).await.unwrap();
    let (still_notice, _) = bot_says(&alice, &mut since, &room).await;
    assert!(!still_notice.contains("open tasks"), "{still_notice}");
    let res = reqwest::Client::new()
        .put(format!(
            "{}/_matrix/client/v3/rooms/{room}/state/m.room.history_visibility/",
            synapse.base_url
        ))
        .bearer_auth(alice.access_token())
        .json(&json!({ "history_visibility": "joined" }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    alice.send_text(&room, "!status", None).await.unwrap();
    let (full, _) = bot_says(&alice, &mut since, &room).await;
    assert!(full.contains("open tasks"), "{full}");

    // Once mallory — a Matrix user Cordon does not know — is in the room, it gets the notice
    // again and the status goes to alice alone.
    synapse.register("mallory", "mallory-password-1").await;
    let mallory = MatrixClient::login_password(&http, &synapse.base_url, "mallory", "mallory-password-1", "web")
        .await
        .unwrap();
    reqwest::Client::new()
        .post(format!("{}/_matrix/client/v3/rooms/{room}/invite", synapse.base_url))
        .bearer_auth(alice.access_token())
        .json(&json!({ "user_id": "@mallory:localhost" }))
        .send()
        .await
        .unwrap();
    mallory.join(&room).await.unwrap();
    alice.send_text(&room, "!status", None).await.unwrap();
    let (in_room, _) = bot_says(&alice, &mut since, &room).await;
    assert!(
        in_room.starts_with(&codename) && !in_room.contains("open tasks"),
        "{in_room}"
    );
    let private = last_bot_message(&synapse.base_url, &alice, &dm).await;
    assert!(private.contains("open tasks"), "{private}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Waits for the bot's next message in `room`; joins (and reports) a direct room the bot
/// invited alice to meanwhile.
async fn bot_says(alice: &MatrixClient, since: &mut String, room: &str) -> (String, Option<String>) {
    let started = Instant::now();
    let mut dm = None;
    loop {
        let batch = alice.sync(Some(since), Duration::from_secs(2)).await.unwrap();
        *since = batch.next_batch;
        for invite in &batch.invites {
            alice.join(&invite.room_id).await.unwrap();
            dm = Some(invite.room_id.clone());
        }
        if let Some(m) = batch
            .messages
            .into_iter()
            .find(|m| m.sender == "@irbot:localhost" && m.room_id == room)
        {
            // Give an invitation sent right after the room message a moment to arrive.
            if dm.is_none() {
                let more = alice.sync(Some(since), Duration::from_secs(2)).await.unwrap();
                *since = more.next_batch;
                for invite in &more.invites {
                    alice.join(&invite.room_id).await.unwrap();
                    dm = Some(invite.room_id.clone());
                }
            }
            return (m.body, dm);
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no message from the bot");
    }
}

/// The newest message the bot sent in `room` (read with the room's history).
async fn last_bot_message(base: &str, alice: &MatrixClient, room: &str) -> String {
    let started = Instant::now();
    loop {
        let v: serde_json::Value = reqwest::Client::new()
            .get(format!("{base}/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=20"))
            .bearer_auth(alice.access_token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(body) = v["chunk"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["sender"] == "@irbot:localhost" && e["type"] == "m.room.message")
            .and_then(|e| e["content"]["body"].as_str())
        {
            return body.to_owned();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no message in {room}: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
