//! Paging end to end: schedules and an escalation policy, `!ic page` from a war room, mail
//! at a real SMTP sink (plain notices inside the company, PGP/MIME outside, nothing without a
//! key), escalation driven by the manual clock, `!ack`, durable deadlines across a restart,
//! and the Slack-compatible endpoints.

mod common;

use std::time::Duration;

use common::{ADMIN_TOKEN, TestApp, spawn_app_with};
use cordon_mail::testing::{Gpg, SmtpSink};
use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

const TITLE: &str = "Attacker dumped the customers table from db-prod-3";

struct World {
    app: TestApp,
    sink: SmtpSink,
    olga: Gpg,
    rita: String,
    bob: String,
}

async fn create_user(app: &TestApp, name: &str, email: &str, key: Option<&str>) -> String {
    let (st, v) = app
        .post(
            "/api/v1/users",
            ADMIN_TOKEN,
            json!({ "name": name, "email": email, "pgp_key": key }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, v) = app
        .post(&format!("/api/v1/users/{name}/tokens"), ADMIN_TOKEN, json!({}))
        .await;
    v["token"].as_str().unwrap().to_owned()
}

async fn world(extra: impl FnOnce(&mut cordon::config::Config)) -> World {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.company_domains = vec!["corp.example".into()];
        c.public_url = Some("https://cordon.corp.example".into());
        extra(c);
    })
    .await;
    let olga = Gpg::new();
    olga.generate_key("Olga <olga@partner.example>", "future-default", "default", "never", &[]);
    let olga_key = olga.export_public("olga@partner.example");
    create_user(&app, "alice", "alice@corp.example", None).await;
    let bob = create_user(&app, "bob", "bob@corp.example", None).await;
    create_user(&app, "olga", "olga@partner.example", Some(&olga_key)).await;
    create_user(&app, "nick", "nick@other.example", None).await;
    let rita = create_user(&app, "rita", "rita@corp.example", None).await;

    let (st, v) = app
        .post(
            "/api/v1/oncall/schedules",
            ADMIN_TOKEN,
            json!({ "name": "ic-primary", "time_zone": "UTC",
                    "rotations": [{ "users": ["alice"], "shift": "P7D", "handoff": "2026-11-23T09:00:00Z" }] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = app
        .post(
            "/api/v1/oncall/escalation-policies",
            ADMIN_TOKEN,
            json!({ "name": "incident-commander", "repeat": 0, "levels": [
                { "targets": [{ "schedule": "ic-primary" }, { "user": "olga" }, { "user": "nick" }], "after": "PT5S" },
                { "targets": [{ "user": "bob" }], "after": "PT5S" } ] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    World {
        app,
        sink,
        olga,
        rita,
        bob,
    }
}

async fn chat(app: &TestApp, token: &str, room: &str, text: &str) -> Value {
    let (st, v) = app
        .post("/api/v1/chat/commands", token, json!({ "room": room, "text": text }))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

async fn run_engine(app: &TestApp) {
    app.cordon().run_engine(app.clock.now_for_tests()).await.unwrap();
}

trait Now {
    fn now_for_tests(&self) -> jiff::Timestamp;
}

impl Now for std::sync::Arc<cordon_core::clock::ManualClock> {
    fn now_for_tests(&self) -> jiff::Timestamp {
        use cordon_core::clock::Clock;
        self.now()
    }
}

#[tokio::test]
async fn ic_page_mails_escalates_and_ack_stops_it() {
    let w = world(|_| {}).await;
    let app = &w.app;
    let (st, inc) = app
        .post(
            "/api/v1/incidents",
            &w.rita,
            json!({ "title": TITLE, "kind": "security", "severity": "SEV-1", "room": "#sec-room" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inc}");
    let codename = inc["codename"].as_str().unwrap().to_owned();

    let v = chat(app, &w.rita, "#sec-room", "!ic page").await;
    assert!(v["reply"].as_str().unwrap().contains("alice"), "{v}");
    assert_eq!(v["incident"], codename.as_str());
    let page_id = v["page"].as_str().unwrap().to_owned();
    run_engine(app).await;

    // Level 1: alice (inside, plain notice) and olga (outside, PGP/MIME); nick has no key.
    let mails = w.sink.wait_for_messages(2, Duration::from_secs(20)).await;
    assert_eq!(
        mails.len(),
        2,
        "{:?}",
        mails.iter().map(|m| &m.rcpt_tos).collect::<Vec<_>>()
    );
    let to = |addr: &str| mails.iter().find(|m| m.rcpt_tos.iter().any(|r| r == addr)).cloned();
    let alice = to("alice@corp.example").expect("alice got mail");
    assert_eq!(alice.header("Subject"), Some("Attorney Work Project"));
    assert!(alice.body().contains(&codename), "{}", alice.body());
    assert!(alice.body().contains("SEV-1"));
    assert!(alice.body().contains("https://cordon.corp.example/ack/"));
    assert!(
        !alice.raw.contains("customers") && !alice.raw.contains("db-prod-3"),
        "no title in a notice"
    );
    let olga = to("olga@partner.example").expect("olga got mail");
    assert_eq!(olga.header("Subject"), Some("Attorney Work Project"));
    assert!(!olga.raw.contains(&codename), "the outside mail is encrypted");
    let plain = w
        .olga
        .decrypt(&olga.pgp_mime_payload().expect("PGP/MIME"))
        .expect("GnuPG decrypts it");
    assert!(plain.contains(&codename), "{plain}");
    assert!(to("nick@other.example").is_none(), "no key, no mail");

    let (st, page) = app.get(&format!("/api/v1/pages/{page_id}"), &w.rita).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert_eq!(page["status"], "triggered");
    assert_eq!(page["incident"], codename.as_str());
    assert!(
        !page.to_string().contains("customers"),
        "a page never carries the title"
    );
    let status_of = |page: &Value, user: &str| {
        page["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["user"] == user)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of(&page, "alice"), "delivered");
    assert_eq!(status_of(&page, "olga"), "delivered");
    assert_eq!(status_of(&page, "nick"), "refused");
    let nick = page["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["user"] == "nick")
        .unwrap();
    assert!(nick["error"].as_str().unwrap().contains("nick@other.example"), "{nick}");
    assert_eq!(nick["delivered"], false);

    // No ack: level 2 (bob) after the delay, not before.
    app.clock.advance(SignedDuration::from_secs(4));
    run_engine(app).await;
    assert_eq!(w.sink.messages().len(), 2);
    app.clock.advance(SignedDuration::from_secs(1));
    run_engine(app).await;
    let mails = w.sink.wait_for_messages(3, Duration::from_secs(20)).await;
    assert!(mails.iter().any(|m| m.rcpt_tos.iter().any(|r| r == "bob@corp.example")));

    // `!status` shows the page and the refused delivery.
    let v = chat(app, &w.rita, "#sec-room", "!status").await;
    let status = v["reply"].as_str().unwrap();
    assert!(
        status.contains("page triggered") && status.contains("1 delivery failed"),
        "{status}"
    );

    // bob acknowledges in the room: escalation stops, bob becomes incident commander.
    let v = chat(app, &w.bob, "#sec-room", "!ack").await;
    assert!(v["reply"].as_str().unwrap().contains("acknowledged"), "{v}");
    let (_, page) = app.get(&format!("/api/v1/pages/{page_id}"), &w.rita).await;
    assert_eq!(page["status"], "acknowledged");
    assert_eq!(page["acknowledged_by"], "bob");
    let (_, inc) = app
        .get(
            &format!("/api/v1/incidents/{}", inc["id"].as_str().unwrap()),
            ADMIN_TOKEN,
        )
        .await;
    assert!(
        inc["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user"] == "bob" && m["role"] == "incident_commander")
    );
    let v = chat(app, &w.bob, "#sec-room", "!ic").await;
    assert!(
        v["reply"].as_str().unwrap().contains("Incident commander of") && v["reply"].as_str().unwrap().contains("bob"),
        "{v}"
    );

    app.clock.advance(SignedDuration::from_mins(10));
    run_engine(app).await;
    assert_eq!(w.sink.messages().len(), 3, "no mail after the ack");

    // "Assemble the response team" lists who was paged and who answered.
    let tasks = app.tasks(&w.rita, inc["id"].as_str().unwrap()).await;
    let activity = tasks[2]["activity"].to_string();
    assert!(
        activity.contains("paged alice by email (level 1): delivered"),
        "{activity}"
    );
    assert!(
        activity.contains("paged nick by email (level 1): refused"),
        "{activity}"
    );
    assert!(activity.contains("answered by bob"), "{activity}");

    let (_, audit) = app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "page.trigger",
        "notification.delivered",
        "notification.refused",
        "page.escalate",
        "page.ack",
    ] {
        assert!(actions.contains(&a), "{a} audited: {actions:?}");
    }
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn escalation_deadlines_survive_a_restart_and_fire_once() {
    let mut w = world(|_| {}).await;
    let (st, inc) = w
        .app
        .post(
            "/api/v1/incidents",
            &w.rita,
            json!({ "title": TITLE, "kind": "security", "severity": "SEV-2" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, page) = w
        .app
        .post(
            &format!("/api/v1/incidents/{}/pages", inc["id"].as_str().unwrap()),
            &w.rita,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    assert_eq!(page["level"], 1);
    assert_eq!(page["next_escalation_at"], "2026-11-27T12:00:05Z");

    // The restart may cut a level-1 delivery short: its claim lapses after the 60 s lease and
    // it is retried then, so move past the lease as well as past the deadline.
    w.app.restart().await;
    w.app.clock.advance(SignedDuration::from_secs(61));
    // Two engines racing over the same due deadline escalate it once.
    let (a, b) = tokio::join!(run_engine(&w.app), run_engine(&w.app));
    let _ = (a, b);
    run_engine(&w.app).await;
    let (_, audit) = w.app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
    let escalations: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "page.escalate")
        .collect();
    assert_eq!(escalations.len(), 1, "{escalations:?}");
    let (_, page) = w
        .app
        .get(&format!("/api/v1/pages/{}", page["id"].as_str().unwrap()), &w.rita)
        .await;
    assert_eq!(page["level"], 2);
    let mails = w.sink.wait_for_messages(3, Duration::from_secs(20)).await;
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.rcpt_tos.iter().any(|r| r == "bob@corp.example"))
            .count(),
        1
    );
}

#[tokio::test]
async fn chat_in_a_fresh_room_declares_and_replies_keep_need_to_know() {
    let w = world(|_| {}).await;
    let app = &w.app;
    let v = chat(app, &w.rita, "#new-room", "!ic page").await;
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.starts_with("Declared ") && reply.contains("sealed"), "{reply}");
    let codename = v["incident"].as_str().unwrap().to_owned();
    let (st, inc) = app
        .get(&format!("/api/v1/incidents/{}", codename.replace(' ', "-")), &w.rita)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(inc["sealed"], true);
    assert_eq!(inc["room"], "#new-room");

    // To an outsider the room belongs to no incident: nothing about it, not even its codename.
    let outsider = create_user(app, "oscar", "oscar@corp.example", None).await;
    for cmd in ["!status", "!ic", "!ic responders", "!ic who scribe"] {
        let v = chat(app, &outsider, "#new-room", cmd).await;
        let r = v["reply"].as_str().unwrap();
        assert!(
            !r.contains("Declared from chat") && !r.contains("rita") && !r.contains(&codename),
            "{cmd}: {r}"
        );
        assert!(v["incident"].is_null() && v["room_message"].is_null(), "{cmd}: {v}");
    }
    let v = chat(app, &outsider, "#new-room", "!status").await;
    assert_eq!(v["reply"], "This room is not bound to an incident.");
    // Not a command: no reply. Unknown command: help.
    assert_eq!(chat(app, &w.rita, "#new-room", "hello").await["reply"], "");
    assert!(
        chat(app, &w.rita, "#new-room", "!dance").await["reply"]
            .as_str()
            .unwrap()
            .contains("!ic")
    );
}

#[tokio::test]
async fn slack_commands_are_signed_and_linked() {
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let w = world(|c| {
        c.slack_signing_secret = Some(secret.into());
        c.slack_refusal_interval = jiff::SignedDuration::from_millis(100);
    })
    .await;
    let app = &w.app;
    let (st, v) = app
        .post(
            "/api/v1/users/rita/contacts",
            ADMIN_TOKEN,
            json!({ "kind": "slack_user", "address": "U2CERLKJA" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let verifier = cordon_channels::SlackVerifier::new(secret.as_bytes().to_vec()).unwrap();
    let now = common::start_time().as_second().to_string();
    let post = |body: String, ts: String, sig: Option<String>, path: &'static str| {
        let sig = sig.unwrap_or_else(|| verifier.sign(&ts, body.as_bytes()));
        app.http
            .post(format!("{}{}", app.base, path))
            .header("X-Slack-Request-Timestamp", ts)
            .header("X-Slack-Signature", sig)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let form = "command=%2Fic&text=page&user_id=U2CERLKJA&channel_id=C123&team_id=T1".to_owned();
    let res = post(form.clone(), now.clone(), None, "/api/v1/slack/commands")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert!(v["text"].as_str().unwrap().contains("Declared"), "{v}");

    let forged = post(
        form.clone(),
        now.clone(),
        Some("v0=00".into()),
        "/api/v1/slack/commands",
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), 401);
    let stale_ts = (common::start_time().as_second() - 600).to_string();
    let stale = post(form.clone(), stale_ts, None, "/api/v1/slack/commands")
        .await
        .unwrap();
    assert_eq!(stale.status(), 401);
    let unlinked = "command=%2Fic&text=page&user_id=UNOBODY&channel_id=C999".to_owned();
    let v: Value = post(unlinked, now.clone(), None, "/api/v1/slack/commands")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["text"].as_str().unwrap().contains("not linked"), "{v}");

    let challenge =
        r#"{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#.to_owned();
    let v: Value = post(challenge, now, None, "/api/v1/slack/events")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["challenge"], "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");

    // Refusals are audited in aggregate, one entry per interval (see tests/edge.rs).
    let mut refused = 0;
    for _ in 0..100 {
        let (_, audit) = app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
        refused = audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "slack.request.refused")
            .map(|e| e["payload"]["count"].as_u64().unwrap())
            .sum::<u64>();
        if refused >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(refused, 2, "forged and stale signatures are audited");
}

#[tokio::test]
async fn the_link_in_the_mail_acknowledges_once() {
    let w = world(|_| {}).await;
    let app = &w.app;
    let inc = app.declare(&w.rita, TITLE, "security").await;
    let (st, page) = app
        .post(
            &format!("/api/v1/incidents/{}/pages", inc["id"].as_str().unwrap()),
            &w.rita,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    run_engine(app).await;
    let mails = w.sink.wait_for_messages(1, Duration::from_secs(20)).await;
    let alice = mails
        .iter()
        .find(|m| m.rcpt_tos.iter().any(|r| r == "alice@corp.example"))
        .unwrap();
    // The body is quoted-printable: undo its soft line breaks.
    let body = alice.body().replace("=\r\n", "").replace("=\n", "");
    let link = body
        .split_whitespace()
        .find(|t| t.starts_with("https://cordon.corp.example/ack/"))
        .unwrap()
        .to_owned();
    let path = link.trim_start_matches("https://cordon.corp.example");
    // Following the link only shows a form: mail scanners do not acknowledge.
    let res = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (_, v) = app
        .get(&format!("/api/v1/pages/{}", page["id"].as_str().unwrap()), &w.rita)
        .await;
    assert_eq!(v["status"], "triggered");
    let res = app.http.post(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (_, v) = app
        .get(&format!("/api/v1/pages/{}", page["id"].as_str().unwrap()), &w.rita)
        .await;
    assert_eq!(v["status"], "acknowledged");
    assert_eq!(v["acknowledged_by"], "alice");
    let again = app.http.post(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(again.status(), 409, "one time only");
    let forged = app.http.post(format!("{}{}0", app.base, path)).send().await.unwrap();
    assert_eq!(forged.status(), 404);
}

#[tokio::test]
async fn evidence_that_fails_verification_pages_the_commander() {
    use std::os::unix::fs::PermissionsExt;
    let w = world(|_| {}).await;
    let app = &w.app;
    let inc = app.declare(&w.rita, TITLE, "security").await;
    let id = inc["id"].as_str().unwrap();
    assert_eq!(
        app.add_member(ADMIN_TOKEN, id, "bob", "incident_commander").await.0,
        StatusCode::CREATED
    );
    let res = app
        .http
        .post(format!("{}/api/v1/incidents/{id}/evidence?name=web1.img", app.base))
        .bearer_auth(&w.rita)
        .body(vec![7u8; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let item: Value = res.json().await.unwrap();
    let sha = item["sha256"].as_str().unwrap();
    let blob = app.data_dir.join("evidence/objects").join(&sha[..2]).join(sha);
    std::fs::set_permissions(&blob, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let (st, v) = app
        .get(
            &format!(
                "/api/v1/incidents/{id}/evidence/{}/verify",
                item["id"].as_str().unwrap()
            ),
            &w.rita,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["ok"], false);
    let (_, pages) = app.get(&format!("/api/v1/incidents/{id}/pages"), &w.rita).await;
    let pages = pages.as_array().unwrap();
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert_eq!(pages[0]["notifications"][0]["user"], "bob");
    run_engine(app).await;
    let mails = w.sink.wait_for_messages(1, Duration::from_secs(20)).await;
    assert!(mails[0].rcpt_tos.iter().any(|r| r == "bob@corp.example"));
}

#[tokio::test]
async fn bad_paging_input_is_refused_clearly() {
    let w = world(|_| {}).await;
    let app = &w.app;
    let cases = [
        (
            "/api/v1/oncall/escalation-policies",
            json!({ "name": "p", "repeat": 0, "levels": [{ "targets": [{ "user": "ghost" }], "after": "PT5M" }] }),
            "targets",
        ),
        (
            "/api/v1/oncall/escalation-policies",
            json!({ "name": "p", "repeat": 0, "levels": [{ "targets": [{ "schedule": "nope" }], "after": "PT5M" }] }),
            "targets",
        ),
        (
            "/api/v1/oncall/schedules",
            json!({ "name": "s", "time_zone": "UTC", "rotations": [{ "users": ["ghost"], "shift": "P7D", "handoff": "2026-11-23T09:00:00Z" }] }),
            "users",
        ),
        (
            "/api/v1/oncall/schedules",
            json!({ "name": "s", "time_zone": "Mars/Olympus", "rotations": [{ "users": ["alice"], "shift": "P7D", "handoff": "2026-11-23T09:00:00Z" }] }),
            "schedule",
        ),
        (
            "/api/v1/oncall/schedules",
            json!({ "name": "s", "time_zone": "UTC",
            "rotations": [{ "users": ["alice"], "shift": "P7D", "handoff": "2026-11-23T09:00:00Z" }],
            "overrides": [{ "user": "bob", "start": "2026-11-27T00:00:00Z", "end": "2026-11-28T00:00:00Z" },
                          { "user": "alice", "start": "2026-11-27T12:00:00Z", "end": "2026-11-29T00:00:00Z" }] }),
            "schedule",
        ),
        (
            "/api/v1/users",
            json!({ "name": "kim", "email": "kim@x.example", "pgp_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----" }),
            "pgp_key",
        ),
    ];
    for (path, body, field) in cases {
        let (st, p) = app.post(path, ADMIN_TOKEN, body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {p}");
        assert_eq!(p["field"], field, "{body}: {p}");
    }
    // Someone who may not change on-call is refused, and the refusal is audited.
    let (st, _) = app
        .post(
            "/api/v1/oncall/schedules",
            &w.rita,
            json!({ "name": "x", "time_zone": "UTC", "rotations": [] }),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, audit) = app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "schedule.put.refused")
    );
    // Paging a user who does not exist, or a sealed incident one cannot see.
    let inc = app.declare(&w.rita, TITLE, "security").await;
    let path = format!("/api/v1/incidents/{}/pages", inc["id"].as_str().unwrap());
    let (st, p) = app.post(&path, ADMIN_TOKEN, json!({ "user": "ghost" })).await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("user"))
    );
    // The reporter may raise the alarm, but calling people onto the team is the command
    // staff's: refused and audited.
    let (st, p) = app.post(&path, &w.rita, json!({ "user": "alice" })).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    let (st, _) = app.post(&path, &w.bob, json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_and_on_call_from_the_command_line() {
    let w = world(|_| {}).await;
    let app = &w.app;
    let inc = app.declare(&w.rita, TITLE, "security").await;
    let slug = inc["slug"].as_str().unwrap();
    let cordon = async |token: &str, args: &[&str]| common::run_cli(&app.base, token, args).await;
    let out = cordon(&w.rita, &["page", "trigger", slug, "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let page: Value = serde_json::from_str(&out.stdout).unwrap();
    let id = page["id"].as_str().unwrap();
    // bob was not paged and is not on the team: for him the page does not exist.
    let out = cordon(&w.bob, &["page", "ack", id]).await;
    assert!(out.stderr.contains("not_found"));
    // rita reported the incident, but was not paged and does not command it.
    let out = cordon(&w.rita, &["page", "ack", id]).await;
    assert!(out.stderr.contains("forbidden"), "{}", out.stderr);
    // alice, on call, was paged: she acknowledges and takes command.
    let (_, t) = app.post("/api/v1/users/alice/tokens", ADMIN_TOKEN, json!({})).await;
    let alice = t["token"].as_str().unwrap().to_owned();
    let out = cordon(&alice, &["page", "ack", id]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("acknowledged"));
    let (_, i) = app.get(&format!("/api/v1/incidents/{slug}"), &alice).await;
    assert!(
        i["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user"] == "alice" && m["role"] == "incident_commander"),
        "{i}"
    );
    let out = cordon(&w.rita, &["oncall", "who"]).await;
    let text = out.stdout;
    assert!(text.contains("ic-primary") && text.contains("alice"), "{text}");
}

#[tokio::test]
async fn webhooks_carry_only_the_notice_and_are_signed() {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(HeaderMap, Bytes)>();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |h: HeaderMap, b: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((h, b));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let w = world(|_| {}).await;
    let app = &w.app;
    let (st, v) = app
        .post(
            "/api/v1/users/alice/contacts",
            ADMIN_TOKEN,
            json!({ "kind": "webhook", "address": hook }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // The contact's own signing secret, shown this once.
    let secret = v["secret"].as_str().unwrap().to_owned();
    let (st, p) = app
        .post(
            "/api/v1/users/alice/contacts",
            ADMIN_TOKEN,
            json!({ "kind": "pager", "address": "x" }),
        )
        .await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("kind"))
    );
    // "send test" reaches the hook.
    let (st, v) = app
        .post(
            "/api/v1/users/alice/contacts/test",
            ADMIN_TOKEN,
            json!({ "kind": "webhook", "address": hook }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, body) = rx.recv().await.unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["type"], "test");

    let inc = app.declare(&w.rita, TITLE, "security").await;
    let (st, _) = app
        .post(
            &format!("/api/v1/incidents/{}/pages", inc["id"].as_str().unwrap()),
            &w.rita,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    run_engine(app).await;
    let (headers, body) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["codename", "link", "sent_at", "severity", "text", "type"]);
    assert_eq!(v["codename"], inc["codename"]);
    assert!(!String::from_utf8_lossy(&body).contains("customers"));
    cordon_channels::webhook::verify_webhook_headers(secret.as_bytes(), &headers, &body, common::start_time())
        .expect("the signature verifies");
}
