//! Issue 12, the chat and paging paths, attacked from outside as an ordinary user would: an
//! outsider cannot make himself commander of a sealed incident through chat, pages or ack
//! links; acknowledging grants what the page was for and never to whoever paged himself;
//! acknowledgement links are opaque, expire, work once and act as their recipient (user names
//! with dots included); a page shows a recipient outside the team only their own notification;
//! a room hears only codename, severity, status and link, and Slack replies are ephemeral.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{ADMIN_TOKEN, TestApp, spawn_app_with};
use cordon_mail::testing::SmtpSink;
use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

const TITLE: &str = "Stolen session cookies replayed against the billing admin";
const PUBLIC: &str = "https://cordon.corp.example";

struct World {
    app: TestApp,
    sink: SmtpSink,
}

/// A deployment with mail, and an `incident-commander` policy: `on_call` first, then sec.bob.
async fn world(on_call: &str, extra: impl FnOnce(&mut cordon::config::Config)) -> World {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.company_domains = vec!["corp.example".into()];
        c.public_url = Some(PUBLIC.into());
        extra(c);
    })
    .await;
    for name in ["rita", "alice", "sec.bob", "carol", "eve", "opal"] {
        let (st, v) = app
            .post(
                "/api/v1/users",
                ADMIN_TOKEN,
                json!({ "name": name, "email": format!("{name}@corp.example") }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, v) = app
        .post(
            "/api/v1/oncall/schedules",
            ADMIN_TOKEN,
            json!({ "name": "ic", "time_zone": "UTC",
                    "rotations": [{ "users": [on_call], "shift": "P7D", "handoff": "2026-11-23T09:00:00Z" }] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = app
        .post(
            "/api/v1/oncall/escalation-policies",
            ADMIN_TOKEN,
            json!({ "name": "incident-commander", "repeat": 0, "levels": [
                { "targets": [{ "schedule": "ic" }], "after": "PT5M" },
                { "targets": [{ "user": "sec.bob" }], "after": "PT5M" } ] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    World { app, sink }
}

async fn token(app: &TestApp, name: &str) -> String {
    let (st, v) = app
        .post(&format!("/api/v1/users/{name}/tokens"), ADMIN_TOKEN, json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["token"].as_str().unwrap().to_owned()
}

async fn chat(app: &TestApp, token: &str, room: &str, text: &str) -> (StatusCode, Value) {
    app.post("/api/v1/chat/commands", token, json!({ "room": room, "text": text }))
        .await
}

async fn declare_in(app: &TestApp, token: &str, room: &str, kind: &str) -> Value {
    let (st, v) = app
        .post(
            "/api/v1/incidents",
            token,
            json!({ "title": TITLE, "kind": kind, "severity": "SEV-2", "room": room }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

fn roles_of(incident: &Value, user: &str) -> Vec<String> {
    incident["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["user"] == user && m["ended_at"].is_null())
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .collect()
}

async fn run_engine(app: &TestApp) {
    use cordon_core::clock::Clock;
    app.cordon().run_engine(app.clock.now()).await.unwrap();
}

async fn refusals(app: &TestApp, action: &str) -> usize {
    let (_, audit) = app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
    audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .count()
}

#[tokio::test]
async fn an_outsider_cannot_enter_a_sealed_incident_through_chat_or_pages() {
    let w = world("alice", |_| {}).await;
    let app = &w.app;
    let rita = token(app, "rita").await;
    let eve = token(app, "eve").await;
    let inc = declare_in(app, &rita, "#war-1", "security").await;
    let id = inc["id"].as_str().unwrap();
    let codename = inc["codename"].as_str().unwrap();

    // To eve the war room is a room with no incident, whatever she types.
    for (cmd, want) in [
        ("!status", "This room is not bound to an incident."),
        (
            "!ic page eve",
            "This room is not bound to an incident; start one with !ic page.",
        ),
    ] {
        let (st, v) = chat(app, &eve, "#war-1", cmd).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["reply"], want, "{cmd}");
        assert!(v["incident"].is_null() && v["room_message"].is_null(), "{cmd}: {v}");
    }
    let (_, v) = chat(app, &eve, "#war-1", "!ic").await;
    assert!(!v["reply"].as_str().unwrap().contains(codename), "{v}");

    // `!ic page` there declares an incident of her own — exactly as in an empty room — and
    // pages nobody onto the sealed one.
    let (st, v) = chat(app, &eve, "#war-1", "!ic page").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["reply"].as_str().unwrap().starts_with("Declared "), "{v}");
    assert_ne!(v["incident"], codename);
    let (_, pages) = app.get(&format!("/api/v1/incidents/{id}/pages"), &rita).await;
    assert!(pages.as_array().unwrap().is_empty(), "{pages}");
    let (_, sealed) = app.get(&format!("/api/v1/incidents/{id}"), &rita).await;
    assert!(roles_of(&sealed, "eve").is_empty());
    // Her own incident shares the room, and the team still acts on theirs.
    let (_, v) = chat(app, &rita, "#war-1", "!status").await;
    assert_eq!(v["incident"], codename, "{v}");
    let (_, v) = chat(app, &eve, "#war-1", "!status").await;
    assert_ne!(v["incident"], codename, "{v}");

    // A page of the sealed incident does not exist for eve: not to read, not to acknowledge.
    let (st, page) = app
        .post(&format!("/api/v1/incidents/{id}/pages"), &rita, json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    let page_id = page["id"].as_str().unwrap();
    for (method, path) in [
        (reqwest::Method::GET, format!("/api/v1/pages/{page_id}")),
        (reqwest::Method::POST, format!("/api/v1/pages/{page_id}/ack")),
        (reqwest::Method::POST, format!("/api/v1/pages/{page_id}/resolve")),
        (reqwest::Method::POST, format!("/api/v1/incidents/{id}/pages")),
    ] {
        let (st, _) = app.request(method, &path, Some(&eve), Some(json!({}))).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    let (st, _) = app.get(&format!("/api/v1/incidents/{id}"), &eve).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Inside the team, calling people in is the command staff's: the reporter is refused,
    // and the refusal is audited.
    let (st, v) = chat(app, &rita, "#war-1", "!ic page eve").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert!(refusals(app, "page.trigger.refused").await >= 1);
    let (_, sealed) = app.get(&format!("/api/v1/incidents/{id}"), &rita).await;
    assert!(roles_of(&sealed, "eve").is_empty());
}

#[tokio::test]
async fn acknowledging_grants_what_the_page_was_for_and_never_to_whoever_paged_himself() {
    // rita is on call as commander herself.
    let w = world("rita", |_| {}).await;
    let app = &w.app;
    let rita = token(app, "rita").await;
    let alice = token(app, "alice").await;
    let carol = token(app, "carol").await;
    let opal = token(app, "opal").await;
    let inc = declare_in(app, &rita, "#war-2", "security").await;
    let id = inc["id"].as_str().unwrap();

    // rita pages the commander and is the one paged: acknowledging stops the escalation but
    // does not make her commander — she paged herself in.
    let (st, page) = app
        .post(&format!("/api/v1/incidents/{id}/pages"), &rita, json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    assert_eq!(page["role"], "incident_commander");
    let page_id = page["id"].as_str().unwrap();
    let (st, v) = app
        .post(&format!("/api/v1/pages/{page_id}/ack"), &rita, json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "acknowledged");
    let (_, i) = app.get(&format!("/api/v1/incidents/{id}"), &rita).await;
    assert_eq!(roles_of(&i, "rita"), ["reporter"]);

    // An admin makes alice commander; she calls carol in. carol, outside the team, sees her
    // own notification of the page and nothing else.
    assert_eq!(
        app.add_member(ADMIN_TOKEN, id, "alice", "incident_commander").await.0,
        StatusCode::CREATED
    );
    let (st, page) = app
        .post(
            &format!("/api/v1/incidents/{id}/pages"),
            &alice,
            json!({ "user": "carol" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    assert_eq!(page["role"], "subject_matter_expert");
    let page_id = page["id"].as_str().unwrap();
    let (st, seen) = app.get(&format!("/api/v1/pages/{page_id}"), &carol).await;
    assert_eq!(st, StatusCode::OK, "{seen}");
    assert_eq!(seen["restricted"], true);
    assert!(seen["incident_id"].is_null());
    assert!(
        seen["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["user"] == "carol")
    );
    let text = seen.to_string();
    assert!(
        !text.contains("alice") && !text.contains("rita") && !text.contains(TITLE),
        "{text}"
    );
    let (st, _) = app.get(&format!("/api/v1/incidents/{id}"), &carol).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Acknowledging seats her as a responder: what the page was for, no more.
    let (st, v) = app
        .post(&format!("/api/v1/pages/{page_id}/ack"), &carol, json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["restricted"], false, "now on the team: {v}");
    let (st, i) = app.get(&format!("/api/v1/incidents/{id}"), &carol).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(roles_of(&i, "carol"), ["subject_matter_expert"]);

    // The commander paging herself for another role gets nothing from acknowledging it.
    let (st, page) = app
        .post(
            &format!("/api/v1/incidents/{id}/pages"),
            &alice,
            json!({ "user": "alice", "role": "legal" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    let (st, _) = app
        .post(
            &format!("/api/v1/pages/{}/ack", page["id"].as_str().unwrap()),
            &alice,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, i) = app.get(&format!("/api/v1/incidents/{id}"), &alice).await;
    assert_eq!(roles_of(&i, "alice"), ["incident_commander"]);

    // On an unsealed incident, a viewer who is not on the team may look but not page, nor
    // acknowledge someone else's page (and so never takes command).
    let ops = declare_in(app, &rita, "#ops-2", "operational").await;
    let ops_id = ops["id"].as_str().unwrap();
    let (st, _) = app.get(&format!("/api/v1/incidents/{ops_id}"), &opal).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = app
        .post(&format!("/api/v1/incidents/{ops_id}/pages"), &opal, json!({}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, page) = app
        .post(&format!("/api/v1/incidents/{ops_id}/pages"), &rita, json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    let (st, _) = app
        .post(
            &format!("/api/v1/pages/{}/ack", page["id"].as_str().unwrap()),
            &opal,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(refusals(app, "page.ack.refused").await >= 1);
    let (_, i) = app.get(&format!("/api/v1/incidents/{ops_id}"), &rita).await;
    assert!(roles_of(&i, "opal").is_empty());
}

/// The acknowledgement link in the newest mail to `to`, once `count` mails have come.
async fn link_in_mail(sink: &SmtpSink, to: &str, count: usize) -> String {
    let mails = sink.wait_for_messages(count, Duration::from_secs(20)).await;
    common::ack_link_in(&mails, to, PUBLIC)
}

#[tokio::test]
async fn ack_links_are_opaque_expire_work_once_and_act_as_their_recipient() {
    let w = world("sec.bob", |_| {}).await;
    let app = &w.app;
    let rita = token(app, "rita").await;
    let inc = declare_in(app, &rita, "#war-3", "security").await;
    let id = inc["id"].as_str().unwrap();
    let (st, page) = app
        .post(&format!("/api/v1/incidents/{id}/pages"), &rita, json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    let page_id = page["id"].as_str().unwrap().to_owned();
    run_engine(app).await;
    let path = link_in_mail(&w.sink, "sec.bob@corp.example", 1).await;

    // Nothing readable in it: 64 random hex digits, no user name, no page id.
    let token_part = path.trim_start_matches("/ack/");
    assert_eq!(token_part.len(), 64, "{path}");
    assert!(token_part.bytes().all(|b| b.is_ascii_hexdigit()));
    let hex_name: String = "sec.bob".bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!token_part.contains(&hex_name) && !token_part.contains(&page_id.replace('-', "")));

    // Opening it (as a mail scanner would) acknowledges nothing.
    let res = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("<form method=\"post\"") && !html.contains(TITLE),
        "{html}"
    );
    let (_, v) = app.get(&format!("/api/v1/pages/{page_id}"), &rita).await;
    assert_eq!(v["status"], "triggered");

    // Using it acknowledges as sec.bob — dots and all — who is granted command.
    let res = app.http.post(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (_, v) = app.get(&format!("/api/v1/pages/{page_id}"), &rita).await;
    assert_eq!(
        (v["status"].as_str(), v["acknowledged_by"].as_str()),
        (Some("acknowledged"), Some("sec.bob"))
    );
    let (_, i) = app.get(&format!("/api/v1/incidents/{id}"), &rita).await;
    assert_eq!(roles_of(&i, "sec.bob"), ["incident_commander"]);
    assert!(roles_of(&i, "sec").is_empty());
    // Once only.
    let again = app.http.post(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(again.status(), 409);
    let res = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("used already or has expired"));

    // A link expires: a day later it acknowledges nothing.
    let (st, page) = app
        .post(
            &format!("/api/v1/incidents/{id}/pages"),
            ADMIN_TOKEN,
            json!({ "user": "carol" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    run_engine(app).await;
    let path = link_in_mail(&w.sink, "carol@corp.example", 2).await;
    app.clock.advance(SignedDuration::from_hours(25));
    let late = app.http.post(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(late.status(), 409);
    let (_, v) = app
        .get(&format!("/api/v1/pages/{}", page["id"].as_str().unwrap()), ADMIN_TOKEN)
        .await;
    assert_ne!(v["status"], "acknowledged", "{v}");
    // Made-up and malformed tokens name no link.
    for bad in [
        "/ack/0000",
        "/ack/../../etc/passwd",
        &format!("/ack/{}", "a".repeat(64)),
    ] {
        let res = app.http.post(format!("{}{bad}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{bad}");
    }
}

/// A Slack Web API double on loopback that records what Cordon posts.
async fn slack_double() -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let record = seen.clone();
    let router = axum::Router::new().route(
        "/api/{method}",
        axum::routing::post(
            move |axum::extract::Path(method): axum::extract::Path<String>, axum::Json(body): axum::Json<Value>| {
                let record = record.clone();
                async move {
                    record.lock().unwrap().push((method, body));
                    axum::Json(json!({ "ok": true }))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/chat.postMessage", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn a_room_hears_only_codename_severity_status_and_link() {
    const SECRET: &str = "slack-signing-secret-for-tests-0001";
    let (slack_url, posted) = slack_double().await;
    let w = world("alice", |c| {
        c.slack_signing_secret = Some(SECRET.into());
        c.slack_api_url = Some(slack_url);
        c.slack_bot_token = Some("xoxb-test".into());
    })
    .await;
    let app = &w.app;
    let rita = token(app, "rita").await;
    let inc = declare_in(app, &rita, "C0WAR", "security").await;
    let codename = inc["codename"].as_str().unwrap();
    let key = inc["slug"].as_str().unwrap();
    let notice = format!("{codename} \u{2014} SEV-2, triage: {PUBLIC}/incidents/{key}");

    // The generic endpoint: the caller's reply in full, and what the room may read beside it.
    let (_, v) = chat(app, &rita, "C0WAR", "!status").await;
    assert!(v["reply"].as_str().unwrap().contains("open tasks"), "{v}");
    assert_eq!(v["room_message"], notice.as_str());
    let (_, v) = chat(app, &rita, "C0WAR", "!ic responders").await;
    assert!(v["reply"].as_str().unwrap().contains("rita (reporter)"), "{v}");
    assert!(v["room_message"].is_null(), "names never go to the room: {v}");

    // Slack: rita's account, linked by an admin.
    let (st, v) = app
        .post(
            "/api/v1/users/rita/contacts",
            ADMIN_TOKEN,
            json!({ "kind": "slack_user", "address": "URITA" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let verifier = cordon_channels::SlackVerifier::new(SECRET.as_bytes().to_vec()).unwrap();
    let signed = |path: &'static str, body: String, content_type: &'static str| {
        let ts = common::start_time().as_second().to_string();
        let sig = verifier.sign(&ts, body.as_bytes());
        app.http
            .post(format!("{}{path}", app.base))
            .header("X-Slack-Request-Timestamp", ts)
            .header("X-Slack-Signature", sig)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // A slash command answers its caller alone; the channel gets the notice.
    let res = signed(
        "/api/v1/slack/commands",
        "command=%2Fstatus&text=&user_id=URITA&channel_id=C0WAR&team_id=T1".into(),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["response_type"], "ephemeral", "{v}");
    assert!(v["text"].as_str().unwrap().contains("open tasks of 14"), "{v}");
    // A message event: the details go by chat.postEphemeral to rita, the room reads nothing
    // but the notice.
    let event = json!({ "type": "event_callback", "event_id": "Ev1", "event": {
        "type": "message", "user": "URITA", "channel": "C0WAR", "text": "!ic responders", "ts": "1.1" } });
    let res = signed("/api/v1/slack/events", event.to_string(), "application/json")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let posted = posted.lock().unwrap().clone();
    let to_room: Vec<&Value> = posted
        .iter()
        .filter(|(m, _)| m == "chat.postMessage")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(to_room.len(), 1, "{posted:?}");
    assert_eq!(to_room[0]["channel"], "C0WAR");
    assert_eq!(to_room[0]["text"], notice.replace('&', "&amp;"));
    let private: Vec<&Value> = posted
        .iter()
        .filter(|(m, _)| m == "chat.postEphemeral")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(private.len(), 1, "{posted:?}");
    assert_eq!(
        (private[0]["channel"].as_str(), private[0]["user"].as_str()),
        (Some("C0WAR"), Some("URITA"))
    );
    assert!(
        private[0]["text"].as_str().unwrap().contains("rita (reporter)"),
        "{private:?}"
    );
}

#[tokio::test]
async fn ic_page_without_a_commander_policy_says_nobody_was_paged() {
    let app = common::spawn_app().await;
    let rita = app.user("rita", &[]).await;
    let (st, v) = chat(&app, &rita, "#no-policy", "!ic page").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.starts_with("Declared "), "the alarm is still raised: {reply}");
    assert!(
        reply.contains("Nobody was paged") && reply.contains("no `incident-commander` escalation policy"),
        "{reply}"
    );
    assert!(v["page"].is_null(), "{v}");
}
