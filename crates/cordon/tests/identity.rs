//! Identity and access from outside (issue 12, findings 2 and 10): tokens that expire (the
//! manual clock), are listed without their secrets and stop at once when revoked; a user
//! disabled mid-incident — the step-11 insider — whose tokens, chat account and pages all end,
//! with the audit log naming who did it; chat identities that cannot be claimed with a
//! contact method and are linked only by a one-time code sent from the account itself (through
//! the real Slack endpoint, signed, and through a real Synapse) or by an admin; and an old
//! database whose ambiguous chat contacts are reported at start by the real binary.

mod common;

#[path = "../../cordon-channels/tests/support/synapse.rs"]
mod synapse;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ADMIN_TOKEN, TestApp, run_cli, spawn_app, spawn_app_with};
use cordon_core::clock::Clock;
use jiff::SignedDuration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;

const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn delete(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    app.request(Method::DELETE, path, Some(token), None).await
}

async fn me(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/v1/me", token).await.0
}

async fn audit(app: &TestApp) -> Vec<Value> {
    let (st, v) = app.get("/api/v1/audit?limit=10000", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

fn entries<'a>(log: &'a [Value], action: &str) -> Vec<&'a Value> {
    log.iter().filter(|e| e["action"] == action).collect()
}

/// Sends a signed Slack request (form or JSON body) and returns the JSON answer.
/// A fresh `trigger_id`, as Slack sends with every slash command.
fn next_trigger() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

async fn slack(app: &TestApp, path: &str, body: String) -> (StatusCode, Value) {
    let verifier = cordon_channels::SlackVerifier::new(SLACK_SECRET.as_bytes().to_vec()).unwrap();
    let ts = app.clock.now().as_second().to_string();
    let sig = verifier.sign(&ts, body.as_bytes());
    let content_type = if body.starts_with('{') {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let res = app
        .http
        .post(format!("{}{}", app.base, path))
        .header("X-Slack-Request-Timestamp", ts)
        .header("X-Slack-Signature", sig)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let st = res.status();
    (st, res.json().await.unwrap_or(Value::Null))
}

/// `/ic TEXT` typed by Slack user `user` in `channel`; the reply text.
async fn slash(app: &TestApp, user: &str, channel: &str, text: &str) -> String {
    // Slack gives each invocation its own trigger_id: a body is never sent twice.
    let form = format!(
        "command=%2Fic&text={}&user_id={user}&channel_id={channel}&team_id=T1&trigger_id={}",
        text.replace(' ', "+"),
        next_trigger()
    );
    let (st, v) = slack(app, "/api/v1/slack/commands", form).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["text"].as_str().unwrap().to_owned()
}

async fn link_code(app: &TestApp, token: &str, body: Value) -> String {
    let (st, v) = app.post("/api/v1/me/chat-identities", token, body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["code"].as_str().unwrap().to_owned()
}

/// The `incident-commander` policy `!ic page` uses, paging `user`.
async fn ic_policy(app: &TestApp, user: &str) {
    let (st, v) = app
        .post(
            "/api/v1/oncall/escalation-policies",
            ADMIN_TOKEN,
            json!({ "name": "incident-commander", "repeat": 0, "levels": [{ "targets": [{ "user": user }], "after": "PT5M" }] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

async fn issue(app: &TestApp, user: &str, token: &str, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/api/v1/users/{user}/tokens"), token, body).await
}

#[tokio::test]
async fn tokens_expire_are_listed_without_secrets_and_stop_when_revoked() {
    let app = spawn_app().await;
    let alice = app.user("alice", &[]).await;
    let bob = app.user("bob", &[]).await;

    // nonsense and absurd lifetimes
    for bad in ["banana", "P0D", "-P1D", "PT10S", "P367D", "P10Y", "30"] {
        let (st, v) = issue(&app, "alice", &alice, json!({ "expires_in": bad })).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert_eq!(v["field"], "expires_in", "{v}");
    }
    let (st, v) = issue(
        &app,
        "alice",
        &alice,
        json!({ "label": "laptop", "expires_in": "PT1H" }),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let short = v["token"].as_str().unwrap().to_owned();
    let short_id = v["id"].as_str().unwrap().to_owned();
    let start = app.clock.now();
    assert_eq!(v["expires_at"], (start + SignedDuration::from_hours(1)).to_string());

    // the list: ids, labels, states, times — never the secret nor its hash
    assert_eq!(me(&app, &short).await, StatusCode::OK);
    let (st, list) = app.get("/api/v1/users/alice/tokens", &alice).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let text = list.to_string();
    for secret in [&alice, &short] {
        let hash = hex(&sha2::Sha256::digest(secret.as_bytes()));
        assert!(!text.contains(secret.as_str()) && !text.contains(&hash), "{text}");
        assert!(!text.to_lowercase().contains(&hash[..16]), "{text}");
    }
    let mine = list.as_array().unwrap();
    assert_eq!(mine.len(), 2);
    let laptop = mine.iter().find(|t| t["id"] == short_id.as_str()).unwrap();
    let mut keys: Vec<&str> = laptop.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "expires_at",
            "id",
            "label",
            "last_used_at",
            "revoked_at",
            "state"
        ]
    );
    assert_eq!(laptop["label"], "laptop");
    assert_eq!(laptop["state"], "active");
    assert_eq!(laptop["last_used_at"], start.to_string(), "the first use is recorded");

    // last use: written at most once a minute
    app.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(me(&app, &short).await, StatusCode::OK);
    let (_, list) = app.get("/api/v1/users/alice/tokens", &alice).await;
    let last = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == short_id.as_str())
            .unwrap()["last_used_at"]
            .clone()
    };
    assert_eq!(last(&list), start.to_string());
    app.clock.advance(SignedDuration::from_secs(31));
    assert_eq!(me(&app, &short).await, StatusCode::OK);
    let (_, list) = app.get("/api/v1/users/alice/tokens", &alice).await;
    assert_eq!(last(&list), app.clock.now().to_string());

    // expiry: the cached token is refused the instant it expires
    app.clock.set(start + SignedDuration::from_secs(3599));
    assert_eq!(me(&app, &short).await, StatusCode::OK);
    app.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(me(&app, &short).await, StatusCode::UNAUTHORIZED);
    let (_, list) = app.get("/api/v1/users/alice/tokens", &alice).await;
    let laptop = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == short_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(laptop["state"], "expired");

    // revocation: effective at once on a token used (and cached) a moment ago
    let (_, v) = issue(&app, "alice", &alice, json!({ "label": "ci" })).await;
    let ci = v["token"].as_str().unwrap().to_owned();
    let ci_id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["expires_at"], Value::Null);
    assert_eq!(me(&app, &ci).await, StatusCode::OK);

    // bob may neither list nor revoke alice's tokens; refusals are audited
    let (st, v) = app.get("/api/v1/users/alice/tokens", &bob).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = delete(&app, &format!("/api/v1/users/alice/tokens/{ci_id}"), &bob).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = delete(&app, &format!("/api/v1/users/bob/tokens/{ci_id}"), &bob).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "alice's token is not bob's: {v}");
    let (st, _) = delete(&app, "/api/v1/users/bob/tokens/not-an-id", &bob).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = issue(&app, "alice", &bob, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(me(&app, &ci).await, StatusCode::OK);

    let (st, v) = delete(&app, &format!("/api/v1/users/alice/tokens/{ci_id}"), &alice).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "revoked");
    assert_eq!(me(&app, &ci).await, StatusCode::UNAUTHORIZED, "revoked at once");
    let (st, _) = delete(&app, &format!("/api/v1/users/alice/tokens/{ci_id}"), &alice).await;
    assert_eq!(st, StatusCode::CONFLICT, "revoked once");
    assert_eq!(me(&app, &alice).await, StatusCode::OK, "her other token still works");

    // an admin revokes anyone's
    let (st, _) = delete(
        &app,
        &format!(
            "/api/v1/users/alice/tokens/{}",
            mine.iter().find(|t| t["id"] != short_id.as_str()).unwrap()["id"]
                .as_str()
                .unwrap()
        ),
        ADMIN_TOKEN,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me(&app, &alice).await, StatusCode::UNAUTHORIZED);

    let log = audit(&app).await;
    assert_eq!(entries(&log, "token.revoke").len(), 2);
    assert!(entries(&log, "token.create").len() >= 4);
    let refused: Vec<&str> = log
        .iter()
        .filter(|e| e["actor"] == "bob" && e["action"].as_str().unwrap().ends_with(".refused"))
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        refused,
        ["token.list.refused", "token.revoke.refused", "token.create.refused"]
    );
    let all = serde_json::to_string(&log).unwrap();
    for secret in [&alice, &short, &ci, &bob] {
        assert!(!all.contains(secret.as_str()), "no secret in the audit log");
    }
    assert_eq!(app.audit_verify().await["ok"], true);
}

/// The step-11 insider: eve, a responder with two tokens and a linked Slack account, is
/// disabled by an admin in the middle of an incident. Her tokens, her Slack commands and
/// the pages to her stop at once; she cannot be put back on the team; the audit log says who
/// did it and what it ended.
#[tokio::test]
async fn an_insider_disabled_mid_incident_loses_everything_at_once() {
    // A mail server that is down: every notification stays pending (retrying), so what
    // disabling does to pending pages is visible.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = spawn_app_with(|c| {
        c.slack_signing_secret = Some(SLACK_SECRET.into());
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.company_domains = vec!["example.com".into()];
    })
    .await;
    let alice = app.user("alice", &["security"]).await;
    let eve = app.user("eve", &[]).await;
    let (_, v) = issue(&app, "eve", &eve, json!({ "label": "laptop" })).await;
    let eve_laptop = v["token"].as_str().unwrap().to_owned();
    let code = link_code(&app, &eve, json!({ "kind": "slack" })).await;
    assert!(
        slash(&app, "UEVE1", "D1", &format!("link {code}"))
            .await
            .contains("eve")
    );

    let (st, inc) = app
        .post(
            "/api/v1/incidents",
            &alice,
            json!({ "title": "Payroll exports copied out", "kind": "security", "severity": "SEV-1", "room": "CWAR" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inc}");
    let r = inc["id"].as_str().unwrap().to_owned();
    let (st, v) = app.add_member(&alice, &r, "eve", "subject_matter_expert").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // eve works the incident from Slack and the API
    assert!(!slash(&app, "UEVE1", "CWAR", "status").await.contains("not linked"));
    assert_eq!(
        app.get(&format!("/api/v1/incidents/{r}"), &eve_laptop).await.0,
        StatusCode::OK
    );
    // a page to eve, still pending when she is disabled; a code she asked for, unused
    let (st, v) = app
        .post(
            "/api/v1/oncall/escalation-policies",
            ADMIN_TOKEN,
            json!({ "name": "eve-first", "repeat": 0, "levels": [
                { "targets": [{ "user": "eve" }], "after": "PT5M" },
                { "targets": [{ "user": "alice" }], "after": "PT5M" } ] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, page) = app
        .post(
            &format!("/api/v1/incidents/{r}/pages"),
            &alice,
            json!({ "user": "eve" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    let page_id = page["id"].as_str().unwrap().to_owned();
    link_code(&app, &eve, json!({ "kind": "matrix" })).await;

    // only an admin disables, and not himself
    let (st, v) = app.post("/api/v1/users/eve/disable", &alice, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = app.post("/api/v1/users/admin/disable", ADMIN_TOKEN, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");

    let (st, v) = app.post("/api/v1/users/eve/disable", ADMIN_TOKEN, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["user"]["disabled"], true);
    assert_eq!(v["revoked_tokens"], 2);
    assert_eq!(v["unlinked_chat_identities"], 1);
    assert_eq!(v["cancelled_notifications"], 1);

    // every way in is closed
    assert_eq!(me(&app, &eve).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &eve_laptop).await, StatusCode::UNAUTHORIZED);
    assert!(slash(&app, "UEVE1", "CWAR", "status").await.contains("not linked"));
    assert!(slash(&app, "UEVE1", "CWAR", "page").await.contains("not linked"));
    // the pending page to her is cancelled, and no new page reaches her
    let (_, p) = app.get(&format!("/api/v1/pages/{page_id}"), ADMIN_TOKEN).await;
    let n = &p["notifications"].as_array().unwrap()[0];
    assert_eq!(
        (n["user"].as_str(), n["status"].as_str()),
        (Some("eve"), Some("cancelled")),
        "{p}"
    );
    let (st, again) = app
        .post(
            &format!("/api/v1/incidents/{r}/pages"),
            &alice,
            json!({ "user": "eve" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{again}");
    assert!(again["notifications"].as_array().unwrap().is_empty(), "{again}");
    assert_eq!(again["unreached"], json!(["user eve (disabled)"]));
    // a level whose only target is disabled is unreached: escalation moves on to alice
    let (_, p) = app
        .post(
            &format!("/api/v1/incidents/{r}/pages"),
            &alice,
            json!({ "policy": "eve-first" }),
        )
        .await;
    assert!(p["notifications"].as_array().unwrap().is_empty(), "{p}");
    let policy_page = p["id"].as_str().unwrap().to_owned();
    app.clock.advance(SignedDuration::from_mins(5));
    app.cordon().escalate_due(app.clock.now()).await.unwrap();
    let (_, p) = app.get(&format!("/api/v1/pages/{policy_page}"), ADMIN_TOKEN).await;
    let users: Vec<&str> = p["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["alice"], "{p}");
    // the engine never sends to her: her notifications are all cancelled
    app.cordon().run_engine(app.clock.now()).await.unwrap();
    let (_, p) = app.get(&format!("/api/v1/pages/{page_id}"), ADMIN_TOKEN).await;
    assert_eq!(p["notifications"][0]["status"], "cancelled");

    // she cannot be put back on a team, nor given a token, nor linked
    let (st, v) = app.add_member(&alice, &r, "eve", "scribe").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, v) = issue(&app, "eve", ADMIN_TOKEN, json!({})).await;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "the request is sound; eve's state stands in the way: {v}"
    );
    assert_eq!(v["code"], "conflict", "{v}");
    let (st, v) = app.post("/api/v1/users/eve/totp", ADMIN_TOKEN, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "nor a break-glass sign-in: {v}");
    let (st, _) = app
        .post(
            "/api/v1/users/eve/chat-identities",
            ADMIN_TOKEN,
            json!({ "kind": "slack", "id": "UEVE1" }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // the list shows it
    let (_, users) = app.get("/api/v1/users", ADMIN_TOKEN).await;
    let row = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "eve")
        .unwrap()
        .clone();
    assert_eq!(row["disabled"], true);
    assert_eq!(
        row["disabled_at"],
        app.clock
            .now()
            .checked_sub(SignedDuration::from_mins(5))
            .unwrap()
            .to_string()
    );
    let (_, list) = app.get("/api/v1/users/eve/tokens", ADMIN_TOKEN).await;
    assert!(
        list.as_array().unwrap().iter().all(|t| t["state"] == "revoked"),
        "{list}"
    );

    // the audit log says who did it, and what it ended
    let log = audit(&app).await;
    let d = entries(&log, "user.disable");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["actor"], "admin");
    assert_eq!(d[0]["subject"], "user:eve");
    let payload = d[0]["payload"].clone();
    assert_eq!(payload["revoked_tokens"], 2, "{payload}");
    assert_eq!(payload["cancelled_notifications"], 1, "{payload}");
    assert_eq!(entries(&log, "user.disable.refused").len(), 2);
    assert!(
        entries(&log, "user.disable.refused")
            .iter()
            .any(|e| e["actor"] == "alice")
    );

    // enabling lets her start over, with nothing old
    let (st, v) = app.post("/api/v1/users/eve/enable", &alice, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = app.post("/api/v1/users/eve/enable", ADMIN_TOKEN, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["disabled"], false);
    assert_eq!(
        me(&app, &eve).await,
        StatusCode::UNAUTHORIZED,
        "old tokens stay revoked"
    );
    assert!(slash(&app, "UEVE1", "CWAR", "status").await.contains("not linked"));
    let (_, v) = issue(&app, "eve", ADMIN_TOKEN, json!({})).await;
    assert_eq!(me(&app, v["token"].as_str().unwrap()).await, StatusCode::OK);
    assert_eq!(entries(&audit(&app).await, "user.enable").len(), 1);
    assert_eq!(app.audit_verify().await["ok"], true);
}

/// Finding 2: a contact method can no longer claim somebody else's Slack account.
#[tokio::test]
async fn a_slack_account_cannot_be_claimed_with_a_contact() {
    let app = spawn_app_with(|c| c.slack_signing_secret = Some(SLACK_SECRET.into())).await;
    let alice = app.user("alice", &[]).await;
    let mallory = app.user("mallory", &[]).await;
    ic_policy(&app, "alice").await;
    let code = link_code(&app, &alice, json!({ "kind": "slack" })).await;
    assert!(
        slash(&app, "UALICE1", "DA", &format!("link {code}"))
            .await
            .contains("alice")
    );

    for (kind, address) in [
        ("slack_user", "UALICE1"),
        ("slack_user", "ualice1"),
        ("matrix_user", "@alice:corp.example"),
    ] {
        let (st, v) = app
            .post(
                "/api/v1/users/mallory/contacts",
                &mallory,
                json!({ "kind": kind, "address": address }),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        assert!(
            v["detail"].as_str().unwrap().contains("/api/v1/me/chat-identities"),
            "{v}"
        );
    }
    let (st, _) = app
        .post(
            "/api/v1/users/mallory/chat-identities",
            &mallory,
            json!({ "kind": "slack", "id": "UALICE1" }),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // an admin's contact add is an admin link, and the database refuses a second owner
    let (st, v) = app
        .post(
            "/api/v1/users/mallory/contacts",
            ADMIN_TOKEN,
            json!({ "kind": "slack_user", "address": "UALICE1" }),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, v) = app
        .post(
            "/api/v1/users/mallory/chat-identities",
            ADMIN_TOKEN,
            json!({ "kind": "slack", "id": "ualice1" }),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");

    // alice's Slack account still acts as alice: an incident declared from it names her
    let reply = slash(&app, "UALICE1", "CNEW", "page").await;
    assert!(reply.starts_with("Declared"), "{reply}");
    let (_, list) = app.get("/api/v1/incidents", ADMIN_TOKEN).await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let (_, inc) = app.get(&format!("/api/v1/incidents/{id}"), ADMIN_TOKEN).await;
    let members: Vec<&str> = inc["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["alice"], "{inc}");
    assert_eq!(entries(&audit(&app).await, "identity.link.refused").len(), 4);
}

/// The code flow through the real Slack endpoints (slash commands and the Events API, signed):
/// a code links the account that sends it and nothing else; wrong, expired, reused or
/// mis-sent codes link nothing; an account linked to someone cannot be taken; a flood of
/// guesses is cut off; the code never appears in a reply, a list or the audit log.
#[tokio::test]
async fn codes_link_slack_accounts_once() {
    let app = spawn_app_with(|c| c.slack_signing_secret = Some(SLACK_SECRET.into())).await;
    let alice = app.user("alice", &[]).await;
    let bob = app.user("bob", &[]).await;
    let carol = app.user("carol", &[]).await;
    ic_policy(&app, "alice").await;

    let (st, v) = app
        .post("/api/v1/me/chat-identities", &alice, json!({ "kind": "slack" }))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let code = v["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 14, "XXXX-XXXX-XXXX: {code}");
    assert_eq!(
        v["expires_at"],
        (app.clock.now() + SignedDuration::from_mins(10)).to_string()
    );
    for bad in [json!({ "kind": "irc" }), json!({ "kind": "slack", "id": "not an id" })] {
        let (st, _) = app.post("/api/v1/me/chat-identities", &alice, bad).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    }

    // not linked: commands are refused, `/ic link` is not
    assert!(slash(&app, "UA1", "C1", "page").await.contains("not linked"));
    let reply = slash(&app, "UA1", "DA", &format!("link {}", code.to_lowercase())).await;
    assert!(reply.contains("linked to the Cordon user alice"), "{reply}");
    assert!(!reply.contains(&code) && !reply.to_uppercase().contains(&code.replace('-', "")));
    let (st, v) = slack(
        &app,
        "/api/v1/slack/commands",
        format!("command=%2Fic&text=link+{code}&user_id=UA1&channel_id=DA"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["response_type"], "ephemeral", "{v}");
    assert!(slash(&app, "UA1", "C1", "page").await.starts_with("Declared"));

    // used once: the same code from another account links nothing
    let reply = slash(&app, "UB1", "DB", &format!("link {code}")).await;
    assert!(reply.contains("wrong, expired or used"), "{reply}");
    assert!(slash(&app, "UB1", "C2", "page").await.contains("not linked"));

    // expired
    let bob_code = link_code(&app, &bob, json!({ "kind": "slack" })).await;
    app.clock.advance(SignedDuration::from_mins(10));
    assert!(
        slash(&app, "UB1", "DB", &format!("link {bob_code}"))
            .await
            .contains("wrong, expired or used")
    );
    // a Matrix code does not link a Slack account
    let matrix_code = link_code(&app, &bob, json!({ "kind": "matrix" })).await;
    assert!(
        slash(&app, "UB1", "DB", &format!("link {matrix_code}"))
            .await
            .contains("wrong, expired or used")
    );
    // a code bound to one account does not link another
    let bound = link_code(&app, &bob, json!({ "kind": "slack", "id": "UB1" })).await;
    assert!(
        slash(&app, "UX9", "DX", &format!("link {bound}"))
            .await
            .contains("wrong, expired or used")
    );
    // an account linked to alice cannot be taken by bob's code
    let reply = slash(&app, "UA1", "DA", &format!("link {bound}")).await;
    assert!(reply.contains("wrong"), "{reply}");
    let bob_code = link_code(&app, &bob, json!({ "kind": "slack" })).await;
    let reply = slash(&app, "UA1", "DA", &format!("link {bob_code}")).await;
    assert!(reply.contains("linked to another Cordon user"), "{reply}");
    let (_, v) = app.get("/api/v1/users/alice/chat-identities", &alice).await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    // …but bob's own account can, through the Events API this time
    let event = json!({
        "type": "event_callback", "team_id": "T1", "event_id": "Ev1",
        "event": { "type": "message", "user": "UB1", "channel": "DB", "text": format!("!ic link {bob_code}"), "ts": "1.2" }
    });
    let (st, _) = slack(&app, "/api/v1/slack/events", event.to_string()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(slash(&app, "UB1", "C3", "page").await.starts_with("Declared"));

    // a flood of guesses from one account is cut off, and audited a bounded number of times
    let carol_code = link_code(&app, &carol, json!({ "kind": "slack" })).await;
    for i in 0..8 {
        let reply = slash(&app, "UC1", "DC", &format!("link 0000-0000-000{i}")).await;
        if i < 5 {
            assert!(reply.contains("wrong"), "{i}: {reply}");
        } else {
            assert!(reply.contains("too many wrong codes"), "{i}: {reply}");
        }
    }
    assert!(
        slash(&app, "UC1", "DC", &format!("link {carol_code}"))
            .await
            .contains("too many")
    );
    app.clock.advance(SignedDuration::from_mins(14));
    assert!(
        slash(&app, "UC1", "DC", &format!("link {carol_code}"))
            .await
            .contains("too many")
    );
    app.clock.advance(SignedDuration::from_mins(1));
    let carol_code = link_code(&app, &carol, json!({ "kind": "slack" })).await;
    assert!(
        slash(&app, "UC1", "DC", &format!("link {carol_code}"))
            .await
            .contains("carol")
    );

    // the generic endpoint cannot link (it has a token user, not a chat account)
    let (_, v) = app
        .post(
            "/api/v1/chat/commands",
            &alice,
            json!({ "room": "x", "text": "!ic link ABCD-EFGH-JKMN" }),
        )
        .await;
    assert!(v["reply"].as_str().unwrap().contains("only from a chat account"), "{v}");

    // listing and unlinking: the owner or an admin
    let (st, v) = app.get("/api/v1/users/alice/chat-identities", &bob).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (_, v) = app.get("/api/v1/me/chat-identities", &alice).await;
    let link = v[0].clone();
    assert_eq!(
        (
            link["kind"].as_str(),
            link["external_id"].as_str(),
            link["via"].as_str()
        ),
        (Some("slack"), Some("UA1"), Some("code"))
    );
    assert_eq!(link["linked_by"], "slack:UA1");
    let link_id = link["id"].as_str().unwrap();
    let (st, _) = delete(&app, &format!("/api/v1/users/alice/chat-identities/{link_id}"), &bob).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = delete(&app, &format!("/api/v1/users/bob/chat-identities/{link_id}"), &bob).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = delete(&app, &format!("/api/v1/users/alice/chat-identities/{link_id}"), &alice).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(slash(&app, "UA1", "C1", "status").await.contains("not linked"));

    // the log: codes issued and accounts linked, refusals bounded, and never a code
    let log = audit(&app).await;
    assert_eq!(entries(&log, "identity.link").len(), 3);
    assert_eq!(entries(&log, "identity.unlink").len(), 1);
    assert!(entries(&log, "identity.code").len() >= 7);
    let guesses = log
        .iter()
        .filter(|e| e["actor"] == "slack:UC1" && e["action"] == "identity.link.refused")
        .count();
    assert_eq!(guesses, 5);
    let all = serde_json::to_string(&log).unwrap().to_uppercase();
    for c in [&code, &bob_code, &carol_code, &bound, &matrix_code] {
        assert!(
            !all.contains(c.as_str()) && !all.contains(&c.replace('-', "")),
            "no code in the audit log"
        );
    }
}

/// The code flow through a real Synapse: alice sends `!ic link CODE` from her Matrix account
/// in a room with the bot, and her next `!ic page` runs as her.
#[tokio::test]
async fn codes_link_matrix_accounts() {
    let synapse = synapse::Synapse::start().await;
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
    let alice_token = app.user("alice", &[]).await;
    ic_policy(&app, "alice").await;
    let code = link_code(
        &app,
        &alice_token,
        json!({ "kind": "matrix", "id": "@alice:localhost" }),
    )
    .await;

    let http = cordon_channels::HttpTransport::new(
        cordon_channels::Timeouts::default(),
        cordon_channels::OutboundPolicy::allowing(["127.0.0.0/8"]).unwrap(),
    )
    .unwrap();
    let alice =
        cordon_channels::MatrixClient::login_password(&http, &synapse.base_url, "alice", "alice-password-1", "web")
            .await
            .unwrap();
    let mut since = alice.sync(None, Duration::ZERO).await.unwrap().next_batch;
    let room = alice.create_room(Some("link"), &["@irbot:localhost"]).await.unwrap();
    let started = Instant::now();
    loop {
        let members: Value = reqwest::Client::new()
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
    // Replies come to alice alone, in a direct room the bot invites her to (read with the
    // room's history: alice joins after the bot wrote).
    let base = synapse.base_url.clone();
    let mut dm: Option<String> = None;
    let mut seen: Option<String> = None;
    let mut bot_says = async |text: &str| {
        alice.send_text(&room, text, None).await.unwrap();
        let started = Instant::now();
        loop {
            let batch = alice.sync(Some(&since), Duration::from_secs(1)).await.unwrap();
            since = batch.next_batch;
            for invite in &batch.invites {
                alice.join(&invite.room_id).await.unwrap();
                dm = Some(invite.room_id.clone());
            }
            if let Some(dm) = &dm {
                let v: Value = reqwest::Client::new()
                    .get(format!("{base}/_matrix/client/v3/rooms/{dm}/messages?dir=b&limit=5"))
                    .bearer_auth(alice.access_token())
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let newest = v["chunk"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["sender"] == "@irbot:localhost" && e["type"] == "m.room.message")
                    .cloned();
                if let Some(e) = newest
                    && e["event_id"].as_str() != seen.as_deref()
                {
                    seen = e["event_id"].as_str().map(str::to_owned);
                    return e["content"]["body"].as_str().unwrap().to_owned();
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no reply from the bot to {text}"
            );
        }
    };
    let reply = bot_says("!ic page").await;
    assert!(reply.contains("not linked"), "{reply}");
    let reply = bot_says(&format!("!ic link {code}")).await;
    assert!(
        reply.contains("@alice:localhost") && reply.contains("Cordon user alice"),
        "{reply}"
    );
    assert!(!reply.contains(&code), "{reply}");
    let reply = bot_says("!ic page").await;
    assert!(reply.starts_with("Declared ") && reply.contains("alice"), "{reply}");
    let (_, v) = app.get("/api/v1/users/alice/chat-identities", ADMIN_TOKEN).await;
    assert_eq!(v[0]["external_id"], "@alice:localhost");
    assert_eq!(v[0]["linked_by"], "matrix:@alice:localhost");
}

/// An old database (schema before the identity migration) whose users had added chat
/// accounts as contacts: `U1` by alice alone, `U2` by bob and by mallory. The real binary
/// migrates it, names the ambiguous account and its claimers in its log, links `U1` to alice
/// and `U2` to nobody, and reports `U2` to admins until one links it.
#[tokio::test]
async fn ambiguous_chat_contacts_of_an_old_database_are_reported_and_unlinked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let pool = cordon_store::testing::sqlite_before(&data.join(cordon::serve::SQLITE_FILE), 9)
        .await
        .unwrap();
    let hash = hex(&sha2::Sha256::digest(ADMIN_TOKEN.as_bytes()));
    for q in [
        "INSERT INTO users (id, name, email, is_admin, created_at) VALUES
            ('00000000-0000-0000-0000-000000000009', 'admin', 'admin@localhost', TRUE, 1),
            ('00000000-0000-0000-0000-000000000001', 'alice', 'alice@x.example', FALSE, 1),
            ('00000000-0000-0000-0000-000000000002', 'bob', 'bob@x.example', FALSE, 1),
            ('00000000-0000-0000-0000-000000000003', 'mallory', 'mallory@x.example', FALSE, 1)"
            .to_owned(),
        format!(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES
             (X'{hash}', '00000000-0000-0000-0000-000000000009', 'bootstrap', 1)"
        ),
        "INSERT INTO contact_methods (id, user_id, kind, address, created_at) VALUES
            ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-000000000001', 'slack_user', 'U1', 10),
            ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-000000000002', 'slack_user', 'U2', 11),
            ('00000000-0000-0000-0000-00000000000c', '00000000-0000-0000-0000-000000000003', 'slack_user', 'U2', 12)"
            .to_owned(),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(q)).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let mut child = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env_remove("CORDON_ADMIN_TOKEN")
        .env("CORDON_SLACK_SIGNING_SECRET", SLACK_SECRET)
        .env("CORDON_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        for line in BufReader::new(stdout).lines() {
            if let Some(url) = line.unwrap().strip_prefix("listening on ") {
                return url.to_owned();
            }
        }
        panic!("the server did not say where it listens");
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let get = async |path: &str, token: &str| {
        let res = http
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (res.status(), res.json::<Value>().await.unwrap_or(Value::Null))
    };
    let (st, v) = get("/api/v1/chat-identities/conflicts", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK, "the old admin token still works: {v}");
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        (v[0]["kind"].as_str(), v[0]["external_id"].as_str()),
        (Some("slack"), Some("U2"))
    );
    let claimers: Vec<&str> = v[0]["claimed_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user"].as_str().unwrap())
        .collect();
    assert_eq!(claimers, ["bob", "mallory"]);
    let (_, alice_links) = get("/api/v1/users/alice/chat-identities", ADMIN_TOKEN).await;
    assert_eq!(alice_links[0]["external_id"], "U1");
    assert_eq!(alice_links[0]["via"], "migration");
    let (_, admin_tokens) = get("/api/v1/users/admin/tokens", ADMIN_TOKEN).await;
    assert_eq!(admin_tokens[0]["label"], "bootstrap");
    assert!(admin_tokens[0]["id"].is_string());

    // the ambiguous account acts as nobody; the unambiguous one as its owner
    let verifier = cordon_channels::SlackVerifier::new(SLACK_SECRET.as_bytes().to_vec()).unwrap();
    let slash = async |user: &str| {
        // the real binary runs on the wall clock
        let ts = std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .unwrap()
            .as_secs()
            .to_string();
        let body = format!(
            "command=%2Fic&text=who+alice&user_id={user}&channel_id=C1&trigger_id={}",
            next_trigger()
        );
        let res = http
            .post(format!("{url}/api/v1/slack/commands"))
            .header("X-Slack-Request-Timestamp", &ts)
            .header("X-Slack-Signature", verifier.sign(&ts, body.as_bytes()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        res.json::<Value>().await.unwrap()["text"].as_str().unwrap().to_owned()
    };
    assert!(slash("U2").await.contains("not linked"));
    assert!(!slash("U1").await.contains("not linked"));

    // an admin links U2 to its owner: the conflict is settled and U2 acts as bob
    let res = http
        .post(format!("{url}/api/v1/users/bob/chat-identities"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "kind": "slack", "id": "U2" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, v) = get("/api/v1/chat-identities/conflicts", ADMIN_TOKEN).await;
    assert_eq!(v, json!([]));
    assert!(!slash("U2").await.contains("not linked"));

    child.kill().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    let warning = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("claimed by several users"))
        .unwrap_or_else(|| panic!("no warning in the log:\n{log}"));
    assert!(
        warning.contains("slack") && warning.contains("bob, mallory"),
        "{warning}"
    );
}

/// `cordon user …` for tokens and disabling, through the real binary.
#[tokio::test]
async fn the_cli_manages_tokens_and_disables_users() {
    let app = spawn_app().await;
    let alice = app.user("alice", &[]).await;
    app.user("bob", &[]).await;
    let out = run_cli(
        &app.base,
        &alice,
        &["user", "token", "alice", "--label", "cli", "--expires-in", "P30D"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let token = out.stdout.trim().to_owned();
    assert!(token.starts_with("cordon_"), "{}", out.stdout);
    let out = run_cli(&app.base, &token, &["user", "tokens", "alice"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("cli") && out.stdout.contains("active"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(&token) && !out.stdout.contains(&alice));
    let out = run_cli(&app.base, &token, &["user", "tokens", "alice", "--json"]).await;
    let list: Value = serde_json::from_str(&out.stdout).unwrap();
    let id = list.as_array().unwrap().iter().find(|t| t["label"] == "cli").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = run_cli(&app.base, &alice, &["user", "revoke-token", "alice", &id]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED);
    let out = run_cli(
        &app.base,
        &alice,
        &["user", "token", "alice", "--expires-in", "forever"],
    )
    .await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("expires_in"), "{}", out.stderr);

    let out = run_cli(&app.base, &alice, &["user", "disable", "bob"]).await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("403"), "{}", out.stderr);
    let out = run_cli(&app.base, ADMIN_TOKEN, &["user", "disable", "bob"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("disabled bob: 1 tokens revoked"), "{}", out.stdout);
    let out = run_cli(&app.base, ADMIN_TOKEN, &["user", "list"]).await;
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("bob") && l.contains("disabled")),
        "{}",
        out.stdout
    );
    let out = run_cli(&app.base, &alice, &["user", "link-code", "slack"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("!ic link "), "{}", out.stdout);
}
