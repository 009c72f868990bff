//! The war-room conversation and the live change streams (issue 15), black-box: the real
//! server on port 0, bearer tokens, the streams read as a browser's `EventSource` would.
//!
//! Messages are posted, listed newest first and paged; a `!ic` command runs through the chat
//! dispatcher and Cordon's reply is kept; a non-member meets 404 on the conversation and the
//! streams, as for an incident that never existed; a change made by another user through the API
//! (a task, a member, a message) or through the generic chat endpoint reaches an open stream
//! within a second; the all-incidents stream never carries a sealed incident's changes to an
//! outsider and stops carrying them to a member once removed; a stream resumes after
//! `Last-Event-ID`; one user's streams are bounded; messages appear in the report; a huge
//! message is refused; and the CLI says and reads.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// How long a change may take to reach an open stream.
const WITHIN: Duration = Duration::from_secs(1);

/// One server-sent event.
#[derive(Debug, Clone)]
struct Sse {
    event: String,
    data: String,
    id: Option<String>,
}

impl Sse {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// An open event stream, read by a task of its own; `None` on the channel: the stream ended.
struct Stream {
    events: mpsc::UnboundedReceiver<Option<Sse>>,
}

/// What opening a stream answered: its status and headers, the problem when refused, and the
/// stream when 200.
struct Opened {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    problem: Value,
    stream: Option<Stream>,
}

/// Opens a stream as `token`, as a browser's `EventSource` does.
async fn open(app: &TestApp, path: &str, token: &str, last_event_id: Option<&str>) -> Opened {
    let mut req = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("accept", "text/event-stream");
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    if status != StatusCode::OK {
        let problem = res.json().await.unwrap_or(Value::Null);
        return Opened {
            status,
            headers,
            problem,
            stream: None,
        };
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let mut body = res.bytes_stream();
    tokio::spawn(async move {
        use futures::StreamExt;
        let mut buf = String::new();
        let (mut event, mut data, mut id) = (String::new(), Vec::<String>::new(), None);
        loop {
            // A test that dropped the stream closes the connection, as a closed tab does.
            let chunk = tokio::select! {
                c = body.next() => c,
                () = tx.closed() => return,
            };
            let Some(Ok(chunk)) = chunk else { break };
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(nl) = buf.find('\n') {
                let line = buf[..nl].trim_end_matches('\r').to_owned();
                buf.drain(..=nl);
                if line.is_empty() {
                    if !data.is_empty() {
                        let e = Sse {
                            event: if event.is_empty() {
                                "message".into()
                            } else {
                                event.clone()
                            },
                            data: data.join("\n"),
                            id: id.clone(),
                        };
                        if tx.send(Some(e)).is_err() {
                            return;
                        }
                    }
                    event.clear();
                    data.clear();
                    id = None;
                } else if line.starts_with(':') {
                    // A comment: the heartbeat.
                } else if let Some((field, value)) = line.split_once(':') {
                    let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                    match field {
                        "event" => event = value,
                        "data" => data.push(value),
                        "id" => id = Some(value),
                        _ => {}
                    }
                }
            }
        }
        let _ = tx.send(None);
    });
    Opened {
        status,
        headers,
        problem: Value::Null,
        stream: Some(Stream { events: rx }),
    }
}

impl Stream {
    /// The next event within `limit`; `None` when the stream ended; panics on a timeout.
    async fn next(&mut self, limit: Duration) -> Option<Sse> {
        tokio::time::timeout(limit, self.events.recv())
            .await
            .expect("an event within the limit")
            .flatten()
    }

    /// The opening `ready` event's position.
    async fn ready(&mut self) -> i64 {
        let e = self.next(Duration::from_secs(5)).await.expect("the stream opens");
        assert_eq!(e.event, "ready", "{e:?}");
        e.json()["seq"].as_i64().unwrap()
    }

    /// The next `change` event within `limit`.
    async fn change(&mut self, limit: Duration) -> Value {
        let e = self.next(limit).await.expect("the stream goes on");
        assert_eq!(e.event, "change", "{e:?}");
        let v = e.json();
        assert_eq!(
            e.id.as_deref(),
            Some(v["seq"].to_string().as_str()),
            "the id is the seq"
        );
        v
    }

    /// The next `change` event after the audit entry `after` (earlier ones — the test's own
    /// set-up, which the feed may read after the stream opened — are passed over), and every
    /// change passed over.
    async fn change_after(&mut self, after: i64, limit: Duration) -> (Value, Vec<Value>) {
        let deadline = Instant::now() + limit;
        let mut passed = Vec::new();
        loop {
            let c = self.change(deadline.saturating_duration_since(Instant::now())).await;
            if c["seq"].as_i64().unwrap() > after {
                return (c, passed);
            }
            passed.push(c);
        }
    }

    /// The next `change` of `kind` within `limit`, passing over others (a page's deliveries
    /// are changes of the page too).
    async fn change_of(&mut self, kind: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let c = self.change(deadline.saturating_duration_since(Instant::now())).await;
            if c["kind"] == kind {
                return c;
            }
        }
    }

    /// Whether the stream ends within `limit`.
    async fn ends_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            match tokio::time::timeout(deadline - Instant::now(), self.events.recv()).await {
                Ok(None | Some(None)) => return true,
                Ok(Some(Some(_))) => {}
                Err(_) => return false,
            }
        }
        false
    }
}

async fn post_message(app: &TestApp, token: &str, r: &str, body: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/incidents/{r}/messages"),
        token,
        json!({ "body": body }),
    )
    .await
}

/// A mark in the audit log: the seq of a message the admin posts in an incident of their own
/// (sealed: no one else hears of it). Changes up to it are the test's set-up.
async fn mark(app: &TestApp) -> i64 {
    let inc = app.declare(&app.admin, "marker", "security").await;
    let r = inc["id"].as_str().unwrap();
    let (st, v) = post_message(app, &app.admin, r, "mark").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["message"]["seq"].as_i64().unwrap()
}

async fn add_member(app: &TestApp, r: &str, user: &str, role: &str) {
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{r}/members"),
            &app.admin,
            json!({ "user": user, "role": role }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn messages_are_posted_listed_paged_and_sealed() {
    let app = spawn_app().await;
    let alice = app.user("alice", &[]).await;
    let bob = app.user("bob", &[]).await;
    let inc = app.declare(&alice, "Ransom note on the file server", "security").await;
    let r = inc["codename"].as_str().unwrap().to_owned();
    let id = inc["id"].as_str().unwrap().to_owned();

    let (st, v) = post_message(&app, &alice, &r, "web1 is isolated.\nImaging it now.").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let m = &v["message"];
    assert_eq!(m["author"], "alice");
    assert_eq!(m["from_cordon"], false);
    assert_eq!(m["kind"], "message");
    assert_eq!(m["body"], "web1 is isolated.\nImaging it now.");
    assert_eq!(m["incident"], id.as_str());
    assert!(v["reply"].is_null(), "a plain message gets no reply: {v}");
    // A `!` that is not a command word is just a message.
    let (_, v) = post_message(&app, &alice, &r, "!important: the VPN is down too").await;
    assert_eq!(v["message"]["kind"], "message");
    assert!(v["reply"].is_null());
    let (_, v) = post_message(&app, &alice, &r, "third").await;
    let third_seq = v["message"]["seq"].as_i64().unwrap();

    // Newest first; paged with a cursor in the Link header.
    let (st, list) = app.get(&format!("/api/v1/incidents/{id}/messages"), &alice).await;
    assert_eq!(st, StatusCode::OK);
    let bodies: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "third",
            "!important: the VPN is down too",
            "web1 is isolated.\nImaging it now."
        ]
    );
    let res = app
        .http
        .get(format!("{}/api/v1/incidents/{r}/messages?limit=2", app.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    let page: Value = res.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(page[0]["seq"], third_seq);
    let next = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
    let (st, rest) = app.get(&next, &alice).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(rest.as_array().unwrap().len(), 1);
    assert_eq!(rest[0]["body"], "web1 is isolated.\nImaging it now.");
    let (st, v) = app
        .get(&format!("/api/v1/incidents/{r}/messages?cursor=x1"), &alice)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    // A non-member: the same 404 as for an incident that never existed, on every route.
    let nowhere = "00000000-0000-7000-8000-000000000000";
    for target in [r.as_str(), id.as_str(), nowhere] {
        let (st, v) = app.get(&format!("/api/v1/incidents/{target}/messages"), &bob).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        assert_eq!(v["detail"], "incident not found");
        let (st, v) = post_message(&app, &bob, target, "hello?").await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        assert_eq!(v["detail"], "incident not found");
        let o = open(&app, &format!("/api/v1/incidents/{target}/events"), &bob, None).await;
        assert_eq!(o.status, StatusCode::NOT_FOUND);
        assert_eq!(o.problem["detail"], "incident not found");
    }

    // A huge message is refused, saying why; a blank one and invisible controls too.
    let (st, v) = post_message(&app, &alice, &r, &"x".repeat(4097)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "invalid_field");
    assert_eq!(v["field"], "body");
    assert!(v["detail"].as_str().unwrap().contains("at most 4096 bytes"), "{v}");
    let (st, _) = post_message(&app, &alice, &r, &"x".repeat(4096)).await;
    assert_eq!(st, StatusCode::CREATED, "4096 bytes fit");
    for bad in ["   \n ", "invoice\u{202e}fdp.exe", "bell\u{7}"] {
        let (st, v) = post_message(&app, &alice, &r, bad).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {v}");
    }

    // Every message is audited, with its digest and never its text.
    let (st, audit) = app.get("/api/v1/audit?action=message", &app.admin).await;
    assert_eq!(st, StatusCode::OK);
    let entries = audit.as_array().unwrap();
    assert_eq!(entries.len(), 4, "{audit}");
    assert!(!audit.to_string().contains("Imaging"), "{audit}");
    assert!(
        entries
            .iter()
            .all(|e| e["payload"]["sha256"].as_str().unwrap().len() == 64),
        "{audit}"
    );
}

#[tokio::test]
async fn an_ic_command_runs_as_its_author_and_the_reply_is_kept() {
    let app = spawn_app().await;
    let alice = app.user("alice", &[]).await;
    let inc = app.declare(&alice, "Phished finance mailbox", "security").await;
    let r = inc["codename"].as_str().unwrap().to_owned();
    let codename = inc["codename"].as_str().unwrap();

    let (st, v) = post_message(&app, &alice, &r, "!status").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["message"]["kind"], "command");
    assert_eq!(v["message"]["author"], "alice");
    let reply = &v["reply"];
    assert_eq!(reply["kind"], "reply");
    assert_eq!(reply["from_cordon"], true);
    assert!(reply["author"].is_null());
    assert_eq!(reply["reply_to"], v["message"]["id"]);
    let text = reply["body"].as_str().unwrap();
    assert!(
        text.starts_with(codename) && text.contains("open tasks of 14"),
        "{text}"
    );

    // `!ic` (who commands) and `!help` go through the same dispatcher.
    let (_, v) = post_message(&app, &alice, &r, "!ic").await;
    assert!(
        v["reply"]["body"]
            .as_str()
            .unwrap()
            .contains("has no incident commander yet"),
        "{v}"
    );
    // A link code is a secret: never kept.
    let (_, v) = post_message(&app, &alice, &r, "!ic link 1234-5678").await;
    assert_eq!(v["message"]["body"], "!ic link …");
    assert!(!v.to_string().contains("1234"), "{v}");

    // The command and the reply are in the conversation, the reply after the command.
    let (_, list) = app.get(&format!("/api/v1/incidents/{r}/messages"), &alice).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 6);
    assert_eq!(list[5]["body"], "!status");
    assert_eq!(list[4]["kind"], "reply");
    assert!(list[4]["seq"].as_i64() > list[5]["seq"].as_i64());
    assert!(!list.iter().any(|m| m["body"].as_str().unwrap().contains("1234")));

    // A command's effect is the command's: an admin pages alice from the war room.
    let (_, v) = post_message(&app, &app.admin, &r, "!ic page alice").await;
    let body = v["reply"]["body"].as_str().unwrap();
    assert!(body.starts_with(codename), "{body}");
    let (_, pages) = app.get("/api/v1/pages", &app.admin).await;
    assert_eq!(pages.as_array().unwrap().len(), 1, "{pages}");
    // The report's actions: message.post for each message, message.reply by Cordon.
    let (_, audit) = app.get("/api/v1/audit?action=message.reply", &app.admin).await;
    let replies = audit.as_array().unwrap();
    assert_eq!(replies.len(), 4);
    assert!(replies.iter().all(|e| e["actor"] == "system"), "{audit}");
}

#[tokio::test]
async fn a_stream_hears_every_change_within_a_second_from_any_front_end() {
    let app = spawn_app().await;
    let alice = app.user("alice", &[]).await;
    let carol = app.user("carol", &[]).await;
    app.user("dave", &[]).await;
    let (st, inc) = app
        .post(
            "/api/v1/incidents",
            &alice,
            json!({ "title": "Beaconing from build server", "kind": "security", "severity": "SEV-2", "room": "#sec-build" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{inc}");
    let r = inc["codename"].as_str().unwrap().to_owned();
    let id = inc["id"].as_str().unwrap().to_owned();
    add_member(&app, &r, "carol", "incident_commander").await;

    let o = open(&app, &format!("/api/v1/incidents/{r}/events"), &alice, None).await;
    assert_eq!(o.status, StatusCode::OK);
    assert_eq!(o.headers["content-type"], "text/event-stream");
    assert_eq!(o.headers["cache-control"], "no-cache");
    assert_eq!(o.headers["x-accel-buffering"], "no");
    let mut stream = o.stream.unwrap();
    let opened_at = stream.ready().await;
    let set_up = mark(&app).await;

    // Another user moves a task.
    let t = Instant::now();
    let task = app.task_id(&carol, &r, 1).await;
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{task}"),
            &carol,
            json!({ "status": "in_progress" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (c, _) = stream.change_after(set_up, WITHIN).await;
    assert_eq!(
        (c["incident"].as_str().unwrap(), c["kind"].as_str().unwrap()),
        (id.as_str(), "task")
    );
    assert!(c["seq"].as_i64().unwrap() > opened_at);
    assert_eq!(
        c.as_object().unwrap().len(),
        3,
        "incident, seq, kind and nothing else: {c}"
    );
    assert!(t.elapsed() < WITHIN + Duration::from_millis(500));

    // Another adds a member.
    add_member(&app, &r, "dave", "scribe").await;
    assert_eq!(stream.change(WITHIN).await["kind"], "member");

    // Another posts a message; the change says so, and nothing of what was said.
    let (st, _) = post_message(&app, &carol, &r, "Pulling the build server's disk image").await;
    assert_eq!(st, StatusCode::CREATED);
    let c = stream.change(WITHIN).await;
    assert_eq!(c["kind"], "message");
    assert!(!c.to_string().contains("disk"));

    // Through the generic chat endpoint (the dispatcher Slack and Matrix share): a page.
    let (st, v) = app
        .post(
            "/api/v1/chat/commands",
            &carol,
            json!({ "room": "#sec-build", "text": "!ic page dave" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["page"].is_string(), "{v}");
    let c = stream.change(WITHIN).await;
    assert_eq!(
        (c["incident"].as_str().unwrap(), c["kind"].as_str().unwrap()),
        (id.as_str(), "page")
    );

    // An `!ic` command in the war room: the command, then Cordon's reply.
    post_message(&app, &carol, &r, "!status").await;
    stream.change_of("message", WITHIN).await;
    stream.change_of("message", WITHIN).await;

    // The incident itself.
    let (st, _) = app
        .patch(
            &format!("/api/v1/incidents/{r}"),
            &carol,
            json!({ "severity": "SEV-1" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    stream.change_of("incident", WITHIN).await;

    // A refused change is not a change: nothing arrives for it; the next real one does.
    let (st, _) = app
        .post(
            &format!("/api/v1/incidents/{r}/members"),
            &alice,
            json!({ "user": "dave", "role": "subject_matter_expert" }),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, last) = post_message(&app, &alice, &r, "ok").await;
    let c = stream.change_of("message", WITHIN).await;
    assert_eq!(c["seq"], last["message"]["seq"], "the refusal sent nothing: {c}");
}

#[tokio::test]
async fn the_all_incidents_stream_keeps_sealed_changes_to_those_who_may_see_them() {
    let app = spawn_app().await;
    let alice = app.user("alice", &[]).await;
    let bob = app.user("bob", &[]).await;
    let dave = app.user("dave", &[]).await;
    let sealed = app.declare(&alice, "Insider copying HR files", "security").await;
    let sr = sealed["codename"].as_str().unwrap().to_owned();
    let sealed_id = sealed["id"].as_str().unwrap().to_owned();
    add_member(&app, &sr, "dave", "scribe").await;
    // An operational incident is not sealed: everyone sees it, and its changes.
    let open_inc = app.declare(&alice, "Checkout latency", "operational").await;
    let or = open_inc["codename"].as_str().unwrap().to_owned();
    let open_id = open_inc["id"].as_str().unwrap().to_owned();

    let bob_stream = open(&app, "/api/v1/events", &bob, None).await;
    let mut bob_stream = bob_stream.stream.unwrap();
    bob_stream.ready().await;
    let dave_all = open(&app, "/api/v1/events", &dave, None).await;
    let mut dave_all = dave_all.stream.unwrap();
    dave_all.ready().await;
    let dave_one = open(&app, &format!("/api/v1/incidents/{sr}/events"), &dave, None).await;
    let mut dave_one = dave_one.stream.unwrap();
    dave_one.ready().await;
    let set_up = mark(&app).await;

    // A sealed change, then an open one: the outsider hears only the open one; the member both.
    post_message(&app, &alice, &sr, "HR share accessed from a contractor laptop").await;
    post_message(&app, &alice, &or, "p99 back under 300 ms").await;
    let (c, passed) = bob_stream.change_after(set_up, WITHIN).await;
    assert_eq!(
        c["incident"],
        open_id.as_str(),
        "the outsider never hears of the sealed one: {c}"
    );
    assert!(
        passed.iter().all(|c| c["incident"] == open_id.as_str()),
        "not during the set-up either: {passed:?}"
    );
    let (c, _) = dave_all.change_after(set_up, WITHIN).await;
    assert_eq!(c["incident"], sealed_id.as_str());
    assert_eq!(dave_all.change(WITHIN).await["incident"], open_id.as_str());
    let (c, _) = dave_one.change_after(set_up, WITHIN).await;
    assert_eq!(c["incident"], sealed_id.as_str());

    // Dave is removed: his one-incident stream ends at once, and the all-incidents stream
    // carries his own removal (he knew of the incident; his open list must let it go) and
    // nothing of the sealed incident after it.
    let (st, v) = app
        .request(
            Method::DELETE,
            &format!("/api/v1/incidents/{sr}/members/dave/scribe"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(dave_one.ends_within(WITHIN).await, "the removed member's stream ends");
    let o = open(&app, &format!("/api/v1/incidents/{sr}/events"), &dave, None).await;
    assert_eq!(
        o.status,
        StatusCode::NOT_FOUND,
        "and reconnecting meets the not-found answer"
    );
    let c = dave_all.change(WITHIN).await;
    assert_eq!(c["incident"], sealed_id.as_str(), "his removal: {c}");
    assert_eq!(c["kind"], "member", "{c}");
    post_message(&app, &alice, &sr, "Legal is informed").await;
    post_message(&app, &alice, &or, "Closing soon").await;
    let c = dave_all.change(WITHIN).await;
    assert_eq!(c["incident"], open_id.as_str(), "no sealed change after removal: {c}");
    let c = bob_stream.change(WITHIN).await;
    assert_eq!(c["incident"], open_id.as_str(), "{c}");
}

#[tokio::test]
async fn a_stream_resumes_after_its_last_event_and_streams_per_user_are_bounded() {
    let app = spawn_app().await;
    let alice = app.user("alice", &[]).await;
    let inc = app.declare(&alice, "Leaked deploy key", "security").await;
    let r = inc["codename"].as_str().unwrap().to_owned();

    let s = open(&app, &format!("/api/v1/incidents/{r}/events"), &alice, None).await;
    let mut s = s.stream.unwrap();
    s.ready().await;
    let set_up = mark(&app).await;
    post_message(&app, &alice, &r, "one").await;
    let first = s.change_after(set_up, WITHIN).await.0["seq"].as_i64().unwrap();
    drop(s);
    // Missed while away: two messages.
    let (_, two) = post_message(&app, &alice, &r, "two").await;
    let (_, three) = post_message(&app, &alice, &r, "three").await;
    // Resumed: what was missed first (from the audit log), then on live.
    let s = open(
        &app,
        &format!("/api/v1/incidents/{r}/events"),
        &alice,
        Some(&first.to_string()),
    )
    .await;
    let mut s = s.stream.unwrap();
    s.ready().await;
    assert_eq!(s.change(WITHIN).await["seq"], two["message"]["seq"]);
    assert_eq!(s.change(WITHIN).await["seq"], three["message"]["seq"]);
    drop(s);

    // A Last-Event-ID that is not one of ours is refused.
    let o = open(&app, "/api/v1/events", &alice, Some("abc")).await;
    assert_eq!(o.status, StatusCode::UNPROCESSABLE_ENTITY);

    // At most 8 streams per user at once; closing one frees its slot.
    let carol = app.user("carol", &[]).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        let o = open(&app, "/api/v1/events", &carol, None).await;
        assert_eq!(o.status, StatusCode::OK);
        let mut s = o.stream.unwrap();
        s.ready().await;
        held.push(s);
    }
    let o = open(&app, "/api/v1/events", &carol, None).await;
    assert_eq!(o.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(o.problem["code"], "too_many_streams");
    let bob = app.user("bob", &[]).await;
    let o = open(&app, "/api/v1/events", &bob, None).await;
    assert_eq!(o.status, StatusCode::OK, "another user is not held back");
    held.pop();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = open(&app, "/api/v1/events", &carol, None).await;
        if o.status == StatusCode::OK {
            break;
        }
        // The server notices a closed stream on its next write (at most one heartbeat).
        assert!(Instant::now() < deadline, "a closed stream frees its slot");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_revoked_token_ends_its_stream() {
    let app = spawn_app().await;
    let alice = app.user("alice", &[]).await;
    let inc = app.declare(&alice, "Stolen laptop", "security").await;
    let r = inc["codename"].as_str().unwrap().to_owned();
    let s = open(&app, "/api/v1/events", &alice, None).await;
    let mut s = s.stream.unwrap();
    s.ready().await;
    let (st, v) = app.post("/api/v1/users/alice/disable", &app.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // Disabling is itself a change of no incident; the next change ends the stream unsent.
    app.patch(
        &format!("/api/v1/incidents/{r}"),
        &app.admin,
        json!({ "severity": "SEV-1" }),
    )
    .await;
    assert!(s.ends_within(Duration::from_secs(2)).await);
}

#[tokio::test]
async fn messages_appear_in_the_report_and_the_cli_says_and_reads() {
    let app = spawn_app().await;
    let alice = app.user("alice", &[]).await;
    let inc = app.declare(&alice, "Card skimmer on checkout", "security").await;
    let r = inc["codename"].as_str().unwrap().to_owned();

    let out = run_cli(
        &app.base,
        &alice,
        &["room", "say", &r, "Skimmer script removed from checkout.js"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("alice: Skimmer script removed from checkout.js"),
        "{}",
        out.stdout
    );
    let out = run_cli(&app.base, &alice, &["room", "say", &r, "!status"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("alice: !status"), "{}", out.stdout);
    assert!(out.stdout.contains("cordon: "), "{}", out.stdout);
    let out = run_cli(&app.base, &alice, &["room", "log", &r]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].contains("alice: Skimmer script removed"),
        "oldest first:\n{}",
        out.stdout
    );
    assert!(lines[1].contains("alice: !status"), "{}", out.stdout);
    assert!(lines[2].contains("cordon: "), "{}", out.stdout);
    let out = run_cli(&app.base, &alice, &["room", "log", &r, "--last", "1", "--json"]).await;
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["kind"], "reply");
    let out = run_cli(&app.base, &alice, &["room", "say", &r, &"y".repeat(5000)]).await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("at most 4096 bytes"), "{}", out.stderr);

    for format in ["md", "html"] {
        let res = app
            .http
            .get(format!("{}/api/v1/incidents/{r}/report?format={format}", app.base))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.unwrap();
        assert!(text.contains("War-room conversation"), "{format}");
        assert!(text.contains("Skimmer script removed from checkout.js"), "{format}");
        assert!(text.contains("alice (command)"), "{format}");
        assert!(text.contains("Cordon (reply)"), "{format}");
    }
    let res = app
        .http
        .get(format!("{}/api/v1/incidents/{r}/report?format=pdf", app.base))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, res.bytes().await.unwrap()).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/test-env.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("War-room conversation"), "{text}");
    assert!(text.contains("Skimmer script removed"), "{text}");
}
