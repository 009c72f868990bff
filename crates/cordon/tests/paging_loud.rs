//! Loud paging (issue 13, finding 3): a deployment that cannot deliver pages says so at start
//! (in the log, and to admins on the API); a page says who was reached and who could not be,
//! and why — to its caller only, the room reads the notice; a page that reached nobody says so
//! first and the CLI exits 1; every page carries its reason (the re-attack watch's: what was
//! seen) and escalates through a policy; `cordon page list` shows the pages the caller may see.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{ADMIN_TOKEN, TestApp, run_cli, spawn_app, spawn_app_with};
use cordon_mail::testing::SmtpSink;
use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn create_user(app: &TestApp, name: &str, email: &str) -> String {
    let (st, v) = app
        .post("/api/v1/users", ADMIN_TOKEN, json!({ "name": name, "email": email }))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, v) = app
        .post(&format!("/api/v1/users/{name}/tokens"), ADMIN_TOKEN, json!({}))
        .await;
    v["token"].as_str().unwrap().to_owned()
}

/// A schedule with `on_call` on it and the `incident-commander` policy: the schedule, then
/// `next` after five seconds.
async fn on_call(app: &TestApp, on_call: &str, next: &str) {
    let (st, v) = app
        .post(
            "/api/v1/oncall/schedules",
            ADMIN_TOKEN,
            json!({ "name": "ic-primary", "time_zone": "UTC",
                    "rotations": [{ "users": [on_call], "shift": "P7D", "handoff": "2026-11-23T09:00:00Z" }] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = app
        .post(
            "/api/v1/oncall/escalation-policies",
            ADMIN_TOKEN,
            json!({ "name": "incident-commander", "repeat": 0, "levels": [
                { "targets": [{ "schedule": "ic-primary" }], "after": "PT5S" },
                { "targets": [{ "user": next }], "after": "PT5S" } ] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

async fn chat(app: &TestApp, token: &str, room: &str, text: &str) -> Value {
    let (st, v) = app
        .post("/api/v1/chat/commands", token, json!({ "room": room, "text": text }))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

async fn war_room(app: &TestApp, token: &str, room: &str) -> Value {
    let (st, v) = app
        .post(
            "/api/v1/incidents",
            token,
            json!({ "title": "Attacker dumped the customers table", "kind": "security",
                    "severity": "SEV-1", "room": room }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

async fn run_engine(app: &TestApp) {
    use cordon_core::clock::Clock;
    app.cordon().run_engine(app.clock.now()).await.unwrap();
}

// ---------- a warning at start ----------

#[tokio::test]
async fn without_a_channel_the_start_warns_in_the_log_and_admins_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("CORDON_ADMIN_TOKEN", ADMIN_TOKEN)
        .env_remove("CORDON_SMTP_URL")
        .env("CORDON_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    tokio::task::spawn_blocking(move || {
        for line in BufReader::new(stdout).lines() {
            if line.unwrap().starts_with("listening on ") {
                break;
            }
        }
    })
    .await
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let logged = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert!(
        logged.contains("WARN") && logged.contains("no channel can deliver pages"),
        "{logged}"
    );
    assert!(logged.contains("CORDON_SMTP_URL"), "{logged}");
    assert!(logged.contains("no `incident-commander` escalation policy"), "{logged}");

    // The same, and who on call cannot be reached, for an admin on the API.
    let app = spawn_app().await;
    let bob = create_user(&app, "bob", "bob@corp.example").await;
    on_call(&app, "bob", "admin").await;
    let (st, r) = app.get("/api/v1/oncall/readiness", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["ok"], false);
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("no channel can deliver pages"), "{warnings}");
    assert!(
        warnings.contains("bob is on call for schedule ic-primary but has no contact that can deliver")
            && warnings.contains("mail bob@corp.example: mail is not configured (CORDON_SMTP_URL)"),
        "{warnings}"
    );
    let email = r["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "email")
        .unwrap();
    assert_eq!(email["ready"], false);
    // Not for everyone: it names people.
    let (st, v) = app.get("/api/v1/oncall/readiness", &bob).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    // The CLI says it, and fails.
    let out = run_cli(&app.base, ADMIN_TOKEN, &["oncall", "check"]).await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("email") && out.stdout.contains("off"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("warning: no channel can deliver pages"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn with_mail_and_reachable_people_the_readiness_is_quiet() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.company_domains = vec!["corp.example".into()];
    })
    .await;
    create_user(&app, "bob", "bob@corp.example").await;
    create_user(&app, "carol", "carol@outside.example").await;
    on_call(&app, "bob", "carol").await;
    let (_, r) = app.get("/api/v1/oncall/readiness", ADMIN_TOKEN).await;
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    // carol's only address is outside the company and she has no key: mail to her is refused.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("carol is named in escalation policy incident-commander but has no contact")
            && warnings[0].contains("carol@outside.example"),
        "{warnings:?}"
    );
    let (st, v) = app
        .post(
            "/api/v1/users/carol/contacts",
            ADMIN_TOKEN,
            json!({ "kind": "webhook", "address": "http://127.0.0.1:9/carol" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, r) = app.get("/api/v1/oncall/readiness", ADMIN_TOKEN).await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["warnings"], json!([]));
}

// ---------- the reply says who was reached ----------

#[tokio::test]
async fn ic_page_says_who_was_reached_and_who_was_not_to_the_caller_only() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.company_domains = vec!["corp.example".into()];
    })
    .await;
    create_user(&app, "bob", "bob@corp.example").await;
    create_user(&app, "carol", "carol@outside.example").await;
    let rita = create_user(&app, "rita", "rita@corp.example").await;
    let (st, v) = app
        .post(
            "/api/v1/oncall/escalation-policies",
            ADMIN_TOKEN,
            json!({ "name": "incident-commander", "repeat": 0, "levels": [
                { "targets": [{ "user": "bob" }, { "user": "carol" }], "after": "PT5M" } ] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let inc = war_room(&app, &rita, "#sec-room").await;
    let codename = inc["codename"].as_str().unwrap();

    let v = chat(&app, &rita, "#sec-room", "!ic page").await;
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.contains("reached bob (level 1) by mail"), "{reply}");
    assert!(
        reply.contains("could not reach carol (level 1): mail refused") && reply.contains("carol@outside.example"),
        "{reply}"
    );
    assert!(!reply.contains("NOBODY"), "{reply}");
    // The room reads the notice: codename, severity, status, link — no names.
    let room = v["room_message"].as_str().unwrap();
    assert!(room.contains(codename), "{room}");
    assert!(
        !room.contains("bob") && !room.contains("carol") && !room.contains("reached"),
        "{room}"
    );
    // The mail really left.
    let mails = sink.wait_for_messages(1, Duration::from_secs(20)).await;
    assert!(mails.iter().any(|m| m.rcpt_tos.iter().any(|r| r == "bob@corp.example")));

    // The page says the same on the API, with its reason.
    let (st, page) = app
        .get(&format!("/api/v1/pages/{}", v["page"].as_str().unwrap()), &rita)
        .await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert_eq!(page["reason"], "!ic page by rita in #sec-room");
    assert_eq!(page["reached_nobody"], false);
    let reach = page["reach"].as_array().unwrap();
    assert_eq!(reach[0]["user"], "bob");
    assert_eq!(reach[0]["outcome"], "reached");
    assert_eq!(reach[0]["channels"], json!(["mail"]));
    assert_eq!(reach[1]["user"], "carol");
    assert_eq!(reach[1]["outcome"], "not_reached");
}

#[tokio::test]
async fn a_page_that_reached_nobody_says_so_in_chat_api_and_cli() {
    // No mail configured: nobody can be reached.
    let app = spawn_app().await;
    create_user(&app, "bob", "bob@corp.example").await;
    let rita = create_user(&app, "rita", "rita@corp.example").await;
    on_call(&app, "bob", "admin").await;
    let inc = war_room(&app, &rita, "#sec-room").await;
    let codename = inc["codename"].as_str().unwrap().to_owned();

    let v = chat(&app, &rita, "#sec-room", "!ic page").await;
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.contains("NOBODY WAS REACHED"), "{reply}");
    assert!(
        reply.contains("could not reach bob (level 1): mail failed: mail is not configured (CORDON_SMTP_URL)"),
        "{reply}"
    );
    assert!(!reply.contains("Paging the incident commander: paging bob"), "{reply}");

    // The API and the CLI as the incident's reporter: the answer says so, the CLI exits 1.
    let (st, page) = app
        .post(
            &format!("/api/v1/incidents/{codename}/pages"),
            ADMIN_TOKEN,
            json!({ "user": "bob", "reason": "db1 again" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    assert_eq!(page["reached_nobody"], true);
    assert!(
        page["summary"].as_str().unwrap().starts_with("NOBODY WAS REACHED"),
        "{page}"
    );
    assert_eq!(page["reason"], "db1 again");
    let out = run_cli(
        &app.base,
        ADMIN_TOKEN,
        &[
            "page",
            "trigger",
            &codename,
            "--user",
            "bob",
            "--reason",
            "still nobody?",
        ],
    )
    .await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("warning: NOBODY WAS REACHED"), "{}", out.stderr);
    assert!(out.stdout.contains("reason: still nobody?"), "{}", out.stdout);

    // A reason is one line of at most 500 characters.
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{codename}/pages"),
            ADMIN_TOKEN,
            json!({ "user": "bob", "reason": "x".repeat(501) }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("reason"), "{v}");
}

// ---------- the re-attack page: a reason, and escalation ----------

#[tokio::test]
async fn a_reattack_page_carries_what_was_seen_and_escalates_through_the_policy() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url);
        c.company_domains = vec!["corp.example".into()];
    })
    .await;
    create_user(&app, "alice", "alice@corp.example").await;
    let bob = create_user(&app, "bob", "bob@corp.example").await;
    create_user(&app, "dave", "dave@corp.example").await;
    // The policy: whoever is on call (dave), then bob.
    on_call(&app, "dave", "bob").await;
    let inc = app.declare(ADMIN_TOKEN, "Webshell on the storefront", "security").await;
    let r = inc["id"].as_str().unwrap().to_owned();
    let (st, v) = app.add_member(ADMIN_TOKEN, &r, "alice", "incident_commander").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{r}/iocs"),
            ADMIN_TOKEN,
            json!({ "kind": "ip", "value": "45.9.148.7" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // The attacker comes back in a new log.
    let res = app
        .http
        .post(format!(
            "{}/api/v1/incidents/{r}/timeline/sources?name=auth.log&year=2026&tz=UTC&host=web1",
            app.base
        ))
        .bearer_auth(ADMIN_TOKEN)
        .body("Dec  3 22:10:00 web1 sshd[1200]: Accepted password for backup from 45.9.148.7 port 51000 ssh2\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let (st, pages) = app.get(&format!("/api/v1/pages?incident={r}"), ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK, "{pages}");
    let pages = pages.as_array().unwrap();
    assert_eq!(pages.len(), 1, "one page, not one per commander: {pages:?}");
    let page = &pages[0];
    assert_eq!(
        page["reason"], "re-attack: ip 45.9.148.7 seen in 1 new events",
        "{page}"
    );
    assert_eq!(page["role"], "incident_commander");
    assert_eq!(page["level"], 1);
    assert!(page["next_escalation_at"].is_string(), "it escalates: {page}");
    let users = |p: &Value, level: i64| -> Vec<String> {
        p["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["level"] == level)
            .map(|n| n["user"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(users(page, 1), ["alice"], "the incident's commander first");
    assert!(
        page["summary"]
            .as_str()
            .unwrap()
            .contains("reached alice (level 1) by mail"),
        "{page}"
    );
    let id = page["id"].as_str().unwrap().to_owned();

    // Unacknowledged: the policy's levels follow — the on-call commander, then bob.
    app.clock.advance(SignedDuration::from_secs(5));
    run_engine(&app).await;
    let (_, page) = app.get(&format!("/api/v1/pages/{id}"), ADMIN_TOKEN).await;
    assert_eq!(page["level"], 2, "{page}");
    assert_eq!(users(&page, 2), ["dave"]);
    app.clock.advance(SignedDuration::from_secs(5));
    run_engine(&app).await;
    let (_, page) = app.get(&format!("/api/v1/pages/{id}"), ADMIN_TOKEN).await;
    assert_eq!(users(&page, 3), ["bob"]);
    let mails = sink.wait_for_messages(3, Duration::from_secs(20)).await;
    assert!(mails.iter().any(|m| m.rcpt_tos.iter().any(|r| r == "bob@corp.example")));
    // The notice carries codename and severity, not what was seen.
    assert!(
        mails.iter().all(|m| !m.raw.contains("45.9.148.7")),
        "no indicator in a notice"
    );

    // bob is not on the team: he sees his own notification, not the reason.
    let (st, mine) = app.get(&format!("/api/v1/pages/{id}"), &bob).await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    assert_eq!(mine["restricted"], true);
    assert_eq!(mine["reason"], Value::Null, "{mine}");
    assert!(
        mine["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["user"] == "bob"),
        "{mine}"
    );
}

// ---------- the page list ----------

#[tokio::test]
async fn page_list_shows_only_what_the_caller_may_see_a_page_at_a_time() {
    let app = spawn_app().await;
    let bob = create_user(&app, "bob", "bob@corp.example").await;
    let rita = create_user(&app, "rita", "rita@corp.example").await;
    let eve = create_user(&app, "eve", "eve@corp.example").await;
    on_call(&app, "bob", "admin").await;
    let sealed = war_room(&app, &rita, "#sec-room").await;
    let sealed_ref = sealed["codename"].as_str().unwrap().to_owned();
    let other = app.declare(ADMIN_TOKEN, "Second incident", "security").await;
    let other_ref = other["id"].as_str().unwrap().to_owned();

    // Three pages: two about the sealed incident (one to bob), one about the other.
    chat(&app, &rita, "#sec-room", "!ic page").await;
    app.clock.advance(SignedDuration::from_secs(1));
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{sealed_ref}/pages"),
            ADMIN_TOKEN,
            json!({ "user": "admin" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let resolved = v["id"].as_str().unwrap().to_owned();
    let (st, v) = app
        .post(&format!("/api/v1/pages/{resolved}/resolve"), ADMIN_TOKEN, json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    app.clock.advance(SignedDuration::from_secs(1));
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{other_ref}/pages"),
            ADMIN_TOKEN,
            json!({ "user": "admin" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // The admin sees all three, newest first, one at a time with a next link.
    let mut seen = Vec::new();
    let mut path = "/api/v1/pages?limit=1".to_owned();
    loop {
        let res = app
            .http
            .get(format!("{}{path}", app.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let next = res.headers().get("link").map(|l| {
            l.to_str()
                .unwrap()
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_owned()
        });
        let items: Vec<Value> = res.json().await.unwrap();
        assert_eq!(items.len(), 1);
        seen.push(items[0]["id"].as_str().unwrap().to_owned());
        match next {
            Some(n) => path = n,
            None => break,
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[1], resolved, "newest first");

    // Filters.
    let (_, v) = app.get("/api/v1/pages?status=resolved", ADMIN_TOKEN).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], resolved.as_str());
    let (_, v) = app
        .get(&format!("/api/v1/pages?incident={other_ref}"), ADMIN_TOKEN)
        .await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (st, v) = app.get("/api/v1/pages?status=open", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("triggered, acknowledged, resolved"),
        "{v}"
    );

    // rita (the sealed incident's reporter) sees its two pages, not the other incident's.
    let (_, v) = app.get("/api/v1/pages", &rita).await;
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|p| p["incident"] == sealed_ref.as_str())
    );
    // bob, paged about the sealed incident but not on its team: his own notification only.
    let (_, v) = app.get("/api/v1/pages", &bob).await;
    let v = v.as_array().unwrap();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["restricted"], true);
    assert_eq!(v[0]["reason"], Value::Null);
    assert!(!v[0].to_string().contains("customers"), "never the title");
    // eve sees nothing, and the sealed incident is not there for her.
    let (_, v) = app.get("/api/v1/pages", &eve).await;
    assert_eq!(v, json!([]));
    let (st, _) = app.get(&format!("/api/v1/pages?incident={sealed_ref}"), &eve).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The CLI.
    let out = run_cli(&app.base, &rita, &["page", "list"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("SHORT"), "{}", out.stdout);
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    let out = run_cli(
        &app.base,
        ADMIN_TOKEN,
        &["page", "list", &sealed_ref, "--status", "resolved"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(&resolved), "{}", out.stdout);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    let out = run_cli(&app.base, ADMIN_TOKEN, &["page", "list", "--status", "open"]).await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("triggered"), "{}", out.stderr);
}
