//! The spine, black-box over HTTP: declare → codename → sealed team → gated checklist →
//! need-to-know → hash-chained audit.

mod common;

use common::{ADMIN_TOKEN, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn is_two_word_codename(c: &str) -> bool {
    let words: Vec<&str> = c.split(' ').collect();
    words.len() == 2
        && words.iter().all(|w| {
            let mut ch = w.chars();
            ch.next().is_some_and(|f| f.is_ascii_uppercase()) && ch.all(|c| c.is_ascii_lowercase())
        })
}

#[tokio::test]
async fn checked_from_outside() {
    let app = spawn_app().await;
    let outsider = app.user("olivia", &[]).await;

    // Declare via the API → two-word codename, sealed.
    let inc = app
        .declare(ADMIN_TOKEN, "Suspicious logins on db-prod-3", "security")
        .await;
    let codename = inc["codename"].as_str().unwrap();
    assert!(is_two_word_codename(codename), "{codename}");
    assert_eq!(inc["sealed"], true);
    assert_eq!(inc["kind"], "security");
    assert_eq!(inc["severity"], "SEV-2");
    assert_eq!(inc["status"], "triage");
    for field in [
        "id",
        "codename",
        "kind",
        "severity",
        "status",
        "sealed",
        "title",
        "created_at",
        "members",
    ] {
        assert!(!inc[field].is_null(), "incident has {field}");
    }
    let id = inc["id"].as_str().unwrap();

    // 14 tasks, step 10 gated.
    let tasks = app.tasks(ADMIN_TOKEN, id).await;
    assert_eq!(tasks.len(), 14);
    let steps: Vec<u64> = tasks.iter().map(|t| t["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, (1..=14).collect::<Vec<_>>());
    for t in &tasks {
        for field in ["id", "step", "title", "status", "owner_role", "assignee", "blocked_by"] {
            assert!(t.get(field).is_some(), "task has {field}: {t}");
        }
        assert_eq!(t["status"], "todo");
    }
    let step10 = &tasks[9];
    assert_eq!(step10["blocked_by"], json!(["systems_secured", "monitoring_in_place"]));
    assert_eq!(tasks[10]["blocked_by"], json!(["insider_threat_ruled_out"]));
    assert_eq!(tasks[13]["blocked_by"], json!(["facts_confirmed"]));
    assert_eq!(tasks[10]["owner_role"], "vp_engineering");
    assert_eq!(tasks[11]["owner_role"], "vp_engineering");
    assert_eq!(tasks[13]["owner_role"], "marketing");

    // Completing step 10 → 409 gate_unmet naming the gate.
    let (st, p) = app.set_task(ADMIN_TOKEN, id, 10, json!({ "status": "done" })).await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["code"], "gate_unmet");
    assert_eq!(p["gate"], "systems_secured");
    assert!(p["detail"].as_str().unwrap().contains("systems_secured"), "{p}");

    // An outsider gets 404 and an empty list.
    let (st, _) = app.get(&format!("/api/v1/incidents/{id}"), &outsider).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let slug = codename.replace(' ', "-").to_lowercase();
    let (st, _) = app.get(&format!("/api/v1/incidents/{slug}"), &outsider).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, list) = app.get("/api/v1/incidents", &outsider).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list, json!([]));

    // Audit verifies, then one edited row is named.
    let v = app.audit_verify().await;
    assert_eq!(v["ok"], true, "{v}");
    let entries = v["entries"].as_u64().unwrap();
    assert!(entries >= 5, "declare, users, tokens and the refusal are audited: {v}");

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.db_path().display()))
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let v = app.audit_verify().await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_bad_entry"], 3, "{v}");
}

#[tokio::test]
async fn codenames_address_incidents_in_any_spelling_and_are_unique_among_open_ones() {
    let app = spawn_app().await;
    let mut seen = std::collections::HashSet::new();
    for i in 0..40 {
        let inc = app
            .declare(
                ADMIN_TOKEN,
                "Same title every time",
                if i % 2 == 0 { "security" } else { "operational" },
            )
            .await;
        let c = inc["codename"].as_str().unwrap().to_owned();
        let title_words = ["same", "title", "every", "time"];
        assert!(
            c.to_lowercase().split(' ').all(|w| !title_words.contains(&w)),
            "{c} echoes the title"
        );
        assert!(seen.insert(c), "codenames are unique among open incidents");
    }
    assert!(seen.len() == 40);
    let inc = app.declare(ADMIN_TOKEN, "x", "security").await;
    let c = inc["codename"].as_str().unwrap();
    let (a, b) = c.split_once(' ').unwrap();
    for spelling in [
        c.to_owned(),
        c.to_uppercase(),
        format!("{}-{}", a.to_lowercase(), b.to_lowercase()),
        format!("{a}_{b}"),
    ] {
        let path = format!("/api/v1/incidents/{}", spelling.replace(' ', "%20"));
        let (st, v) = app.get(&path, ADMIN_TOKEN).await;
        assert_eq!(st, StatusCode::OK, "{spelling}: {v}");
        assert_eq!(v["id"], inc["id"]);
    }
    let (st, p) = app.get("/api/v1/incidents/no-such-incident", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(p["code"], "not_found");
}

#[tokio::test]
async fn need_to_know_holds_on_every_incident_endpoint() {
    let app = spawn_app().await;
    let reporter = app.user("rita", &[]).await;
    let outsider = app.user("olivia", &["engineering"]).await;
    let sec = app.user("sam", &["security"]).await;
    let scribe = app.user("scott", &[]).await;

    let inc = app
        .declare(&reporter, "Exfiltration from the billing bucket", "security")
        .await;
    let id = inc["id"].as_str().unwrap().to_owned();
    let slug = inc["slug"].as_str().unwrap().to_owned();
    let (st, v) = app.add_member(&sec, &id, "scott", "scribe").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let task = app.task_id(&sec, &id, 1).await;
    let ops = app.declare(&reporter, "Slow checkout page", "operational").await;

    // Every way of touching the sealed incident answers 404 to the outsider, with both refs.
    for r in [&id, &slug] {
        let probes: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/api/v1/incidents/{r}"), None),
            (
                Method::PATCH,
                format!("/api/v1/incidents/{r}"),
                Some(json!({ "severity": "SEV-1" })),
            ),
            (Method::GET, format!("/api/v1/incidents/{r}/tasks"), None),
            (
                Method::PATCH,
                format!("/api/v1/incidents/{r}/tasks/{task}"),
                Some(json!({ "status": "done" })),
            ),
            (Method::GET, format!("/api/v1/incidents/{r}/members"), None),
            (
                Method::POST,
                format!("/api/v1/incidents/{r}/members"),
                Some(json!({ "user": "olivia", "role": "scribe" })),
            ),
            (
                Method::DELETE,
                format!("/api/v1/incidents/{r}/members/scott/scribe"),
                None,
            ),
            (Method::GET, format!("/api/v1/incidents/{r}/decisions"), None),
            (
                Method::POST,
                format!("/api/v1/incidents/{r}/decisions"),
                Some(json!({ "name": "insider_threat_ruled_out" })),
            ),
        ];
        for (m, path, body) in probes {
            let (st, p) = app.request(m.clone(), &path, Some(&outsider), body).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{m} {path}: {p}");
            assert_eq!(p["code"], "not_found");
            assert!(!p.to_string().contains("billing"), "no title in the refusal");
        }
    }
    // Lists omit it; the operational incident is visible to everyone.
    let (_, list) = app.get("/api/v1/incidents", &outsider).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [ops["id"].as_str().unwrap()]);

    // Members, the security group and admins see it.
    for who in [&reporter, &sec, &scribe, &app.admin] {
        let (st, v) = app.get(&format!("/api/v1/incidents/{slug}"), who).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (_, list) = app.get("/api/v1/incidents", who).await;
        assert!(list.as_array().unwrap().iter().any(|i| i["id"] == inc["id"]));
    }
    // A member whose term ended loses sight of it.
    let (st, _) = app
        .request(
            Method::DELETE,
            &format!("/api/v1/incidents/{id}/members/scott/scribe"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = app.get(&format!("/api/v1/incidents/{id}"), &scribe).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The outsider's refused mutations left nothing behind but audit entries.
    let (_, v) = app.get(&format!("/api/v1/incidents/{id}"), &app.admin).await;
    assert_eq!(v["severity"], "SEV-2");
    assert!(!v["members"].as_array().unwrap().iter().any(|m| m["user"] == "olivia"));
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn every_endpoint_authenticates() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "t", "security").await;
    let id = inc["id"].as_str().unwrap();
    let paths = [
        (Method::GET, "/api/v1/incidents".to_owned()),
        (Method::POST, "/api/v1/incidents".to_owned()),
        (Method::GET, format!("/api/v1/incidents/{id}")),
        (Method::GET, format!("/api/v1/incidents/{id}/tasks")),
        (Method::GET, "/api/v1/users".to_owned()),
        (Method::POST, "/api/v1/users".to_owned()),
        (Method::POST, "/api/v1/users/admin/tokens".to_owned()),
        (Method::GET, "/api/v1/audit/verify".to_owned()),
        (Method::GET, "/api/v1/audit".to_owned()),
        (Method::GET, "/api/v1/me".to_owned()),
    ];
    for (m, p) in paths {
        for token in [None, Some("cordon_wrong"), Some("")] {
            let (st, v) = app.request(m.clone(), &p, token, None).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{m} {p} with {token:?}: {v}");
            assert_eq!(v["code"], "unauthenticated");
        }
    }
    let (st, _) = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn gates_hold_until_met_and_only_the_commander_overrides() {
    let app = spawn_app().await;
    let ic = app.user("ivy", &[]).await;
    let sme = app.user("sid", &[]).await;
    let inc = app.declare(ADMIN_TOKEN, "Webshell on web-1", "security").await;
    let id = inc["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.add_member(ADMIN_TOKEN, &id, "ivy", "incident_commander").await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        app.add_member(ADMIN_TOKEN, &id, "sid", "sme").await.0,
        StatusCode::CREATED
    );

    // Starting forensics is gated too.
    let (st, p) = app.set_task(&sme, &id, 10, json!({ "status": "in_progress" })).await;
    assert_eq!((st, p["code"].as_str()), (StatusCode::CONFLICT, Some("gate_unmet")));
    // A non-commander cannot override.
    let (st, p) = app
        .set_task(
            &sme,
            &id,
            10,
            json!({ "status": "in_progress", "override_reason": "urgent" }),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    // Meeting part of the gate narrows what blocks it.
    for step in [1, 4] {
        let (st, v) = app
            .set_task(&sme, &id, step, json!({ "status": "done", "assignee": "sid" }))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["assignee"], "sid");
    }
    let (st, p) = app.set_task(&sme, &id, 10, json!({ "status": "done" })).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(p["gate"], "monitoring_in_place");
    // Skipped is not done.
    assert_eq!(
        app.set_task(&sme, &id, 9, json!({ "status": "skipped" })).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.set_task(&sme, &id, 10, json!({ "status": "done" })).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.set_task(&sme, &id, 9, json!({ "status": "done" })).await.0,
        StatusCode::OK
    );
    let (st, v) = app.set_task(&sme, &id, 10, json!({ "status": "done" })).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["blocked_by"], json!([]));

    // Step 11 waits for the insider decision; the commander may override with a reason.
    let (st, p) = app.set_task(&ic, &id, 11, json!({ "status": "in_progress" })).await;
    assert_eq!(
        (st, p["gate"].as_str()),
        (StatusCode::CONFLICT, Some("insider_threat_ruled_out"))
    );
    let (st, v) = app
        .set_task(
            &ic,
            &id,
            11,
            json!({ "status": "in_progress", "override_reason": "the board must hear it from us first" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["override_reason"], "the board must hear it from us first");

    // Step 14 opens once the decision-free gate (5 and 6) is met; the SME cannot record decisions.
    let (st, p) = app
        .post(
            &format!("/api/v1/incidents/{id}/decisions"),
            &sme,
            json!({ "name": "insider_threat_ruled_out" }),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{id}/decisions"),
            &ic,
            json!({ "name": "insider_threat_ruled_out", "note": "forensics: external IP" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["decisions"][0]["name"], "insider_threat_ruled_out");
    let (st, p) = app
        .post(
            &format!("/api/v1/incidents/{id}/decisions"),
            &ic,
            json!({ "name": "made_up" }),
        )
        .await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field"))
    );
    assert_eq!(
        app.set_task(&sme, &id, 14, json!({ "status": "done" })).await.0,
        StatusCode::CONFLICT
    );
    for step in [5, 6] {
        assert_eq!(
            app.set_task(&sme, &id, step, json!({ "status": "done" })).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        app.set_task(&sme, &id, 14, json!({ "status": "done" })).await.0,
        StatusCode::OK
    );

    // Refusals and the override are in the audit log.
    let actions = app.audit_actions().await;
    assert!(
        actions.iter().filter(|a| *a == "task.update.refused").count() >= 5,
        "{actions:?}"
    );
    assert!(actions.contains(&"task.gate_override".to_owned()), "{actions:?}");
    assert!(actions.contains(&"decision.record.refused".to_owned()), "{actions:?}");
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn the_status_machine_and_false_alarms() {
    let app = spawn_app().await;
    let ic = app.user("ivy", &[]).await;
    let inc = app.declare(ADMIN_TOKEN, "Maybe phishing", "security").await;
    let id = inc["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/incidents/{id}");
    // Only the commander closes a false alarm — not even an admin without the role.
    let (st, p) = app
        .patch(&path, ADMIN_TOKEN, json!({ "status": "not_an_incident" }))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    app.add_member(ADMIN_TOKEN, &id, "ivy", "incident_commander").await;
    let (st, p) = app.patch(&path, &ic, json!({ "status": "closed" })).await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::CONFLICT, Some("illegal_transition"))
    );
    let (st, v) = app.patch(&path, &ic, json!({ "status": "not_an_incident" })).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "not_an_incident");
    let (st, _) = app.patch(&path, &ic, json!({ "status": "active" })).await;
    assert_eq!(st, StatusCode::CONFLICT, "final");

    let inc = app.declare(ADMIN_TOKEN, "Real one", "security").await;
    let path = format!("/api/v1/incidents/{}", inc["id"].as_str().unwrap());
    for to in ["active", "contained", "active", "contained", "resolved", "closed"] {
        let (st, v) = app.patch(&path, ADMIN_TOKEN, json!({ "status": to })).await;
        assert_eq!(st, StatusCode::OK, "{to}: {v}");
        assert_eq!(v["status"], to);
    }
    // A new commander takes over: the previous term ends.
    let inc = app.declare(ADMIN_TOKEN, "Handover", "security").await;
    let id = inc["id"].as_str().unwrap();
    app.user("ian", &[]).await;
    app.add_member(ADMIN_TOKEN, id, "ivy", "incident_commander").await;
    app.clock.advance(jiff::SignedDuration::from_mins(30));
    let (_, v) = app.add_member(ADMIN_TOKEN, id, "ian", "incident_commander").await;
    let ics: Vec<&Value> = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "incident_commander")
        .collect();
    assert_eq!(ics.len(), 2);
    assert_eq!(ics[0]["user"], "ivy");
    assert_eq!(ics[0]["active"], false);
    assert_eq!(ics[0]["ended_at"], "2026-11-27T12:30:00Z");
    assert_eq!(ics[1]["user"], "ian");
    assert_eq!(ics[1]["active"], true);
}

#[tokio::test]
async fn bad_input_is_a_clear_problem_and_writes_nothing() {
    let app = spawn_app().await;
    let before = app.audit_verify().await["entries"].as_u64().unwrap();
    let raw = |body: &'static str, ct: Option<&'static str>| {
        let mut req = app
            .http
            .post(format!("{}/api/v1/incidents", app.base))
            .bearer_auth(ADMIN_TOKEN)
            .body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        req
    };
    let cases: Vec<(&str, Option<&str>, StatusCode, &str)> = vec![
        (
            r#"{"title":"t","kind":"security","severity":"SEV-2","colour":"red"}"#,
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            r#"{"title":"t","kind":"cosmic","severity":"SEV-2"}"#,
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            r#"{"title":"t","kind":"security","severity":"SEV-9"}"#,
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            r#"{"title":"t","kind":"security""#,
            Some("application/json"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            r#"{"title":"t","kind":"security","severity":"SEV-2"}"#,
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            r#"{"title":"   ","kind":"security","severity":"SEV-2"}"#,
            Some("application/json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
    ];
    for (body, ct, status, code) in cases {
        let res = raw(body, ct).send().await.unwrap();
        assert_eq!(res.status(), status, "{body}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["code"], code, "{body}: {v}");
        assert!(!v["detail"].as_str().unwrap().is_empty());
    }
    let huge = format!(
        r#"{{"title":"{}","kind":"security","severity":"SEV-2"}}"#,
        "a".repeat(2 * 1024 * 1024)
    );
    let res = app
        .http
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["code"], "body_too_large");

    let (st, p) = app
        .post(
            "/api/v1/incidents",
            ADMIN_TOKEN,
            json!({ "title": "x".repeat(301), "kind": "security", "severity": "SEV-1" }),
        )
        .await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("title"))
    );
    let inc = app.declare(ADMIN_TOKEN, "ok", "security").await;
    let id = inc["id"].as_str().unwrap();
    let (st, p) = app.add_member(ADMIN_TOKEN, id, "nobody", "scribe").await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("user"))
    );
    let (st, p) = app.add_member(ADMIN_TOKEN, id, "admin", "janitor").await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("role"))
    );
    let (st, _) = app
        .patch(
            &format!("/api/v1/incidents/{id}/tasks/not-a-uuid"),
            ADMIN_TOKEN,
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, p) = app.set_task(ADMIN_TOKEN, id, 1, json!({ "status": "finished" })).await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    let (st, _) = app.get("/api/v1/nothing-here", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Only the one good declaration was written.
    let (_, list) = app.get("/api/v1/incidents", ADMIN_TOKEN).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(app.audit_verify().await["entries"].as_u64().unwrap(), before + 1);
}

#[tokio::test]
async fn users_and_tokens() {
    let app = spawn_app().await;
    let alice = app.user("alice", &["security"]).await;
    assert!(alice.starts_with("cordon_"));
    let (st, me) = app.get("/api/v1/me", &alice).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["name"], "alice");
    assert_eq!(me["groups"], json!(["security"]));
    // Non-admins cannot create users or tokens for others; both refusals are audited.
    let (st, _) = app
        .post(
            "/api/v1/users",
            &alice,
            json!({ "name": "eve", "email": "eve@example.com" }),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = app.post("/api/v1/users/admin/tokens", &alice, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = app
        .post("/api/v1/users/alice/tokens", &alice, json!({ "label": "laptop" }))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, _) = app
        .post(
            "/api/v1/users",
            ADMIN_TOKEN,
            json!({ "name": "alice", "email": "a@example.com" }),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, p) = app
        .post(
            "/api/v1/users",
            ADMIN_TOKEN,
            json!({ "name": "bob", "email": "bob@example.com", "pgp_key": "not a key" }),
        )
        .await;
    assert_eq!(
        (st, p["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("pgp_key"))
    );
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"user.create.refused".to_owned()));
    assert!(actions.contains(&"token.create.refused".to_owned()));

    // Tokens are stored hashed: the clear token appears nowhere in the database.
    let db = std::fs::read(app.db_path()).unwrap();
    let wal = std::fs::read(app.db_path().with_extension("db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes.windows(alice.len()).any(|w| w == alice.as_bytes()),
            "clear token stored"
        );
    }
}

#[tokio::test]
async fn openapi_describes_every_endpoint() {
    let app = spawn_app().await;
    let res = app.http.get(format!("{}/openapi.json", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let spec: Value = res.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/api/v1/users",
        "/api/v1/users/{name}/tokens",
        "/api/v1/incidents",
        "/api/v1/incidents/{ref}",
        "/api/v1/incidents/{ref}/members",
        "/api/v1/incidents/{ref}/tasks",
        "/api/v1/incidents/{ref}/tasks/{id}",
        "/api/v1/incidents/{ref}/decisions",
        "/api/v1/audit/verify",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    assert!(paths["/api/v1/incidents/{ref}/tasks/{id}"]["patch"].is_object());
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn restart_keeps_everything_and_the_chain() {
    let mut app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "Persisted", "security").await;
    app.restart().await;
    let (st, v) = app
        .get(
            &format!("/api/v1/incidents/{}", inc["id"].as_str().unwrap()),
            ADMIN_TOKEN,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["codename"], inc["codename"]);
    app.declare(ADMIN_TOKEN, "After restart", "security").await;
    assert_eq!(app.audit_verify().await["ok"], true);
}
