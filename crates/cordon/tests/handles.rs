//! Handles, black-box over HTTP and through the real binary (issue 13, finding 5): evidence by
//! file name or id prefix, clocks by regime, communications by title, assets and credentials by
//! name, pages by id prefix, follow-up tasks as `STEP.N` apart from the checklist's steps;
//! uploads print the handle to use next and lists show it; an ambiguous handle is a 409 that
//! lists the candidates, a too-short prefix a 422; and a prefix never reaches into another
//! incident, sealed or not.

mod common;

use common::{ADMIN_TOKEN, TestApp, run_cli, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn cordon(app: &TestApp, token: &str, args: &[&str]) -> common::CliOut {
    run_cli(&app.base, token, args).await
}

async fn declare(app: &TestApp, token: &str, title: &str) -> (String, String) {
    let v = app.declare(token, title, "security").await;
    (
        v["id"].as_str().unwrap().to_owned(),
        v["slug"].as_str().unwrap().to_owned(),
    )
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

fn candidates(v: &Value) -> Vec<String> {
    v["candidates"]
        .as_array()
        .unwrap_or_else(|| panic!("no candidates: {v}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn evidence_is_named_by_its_file_name_or_the_handle_that_upload_prints() {
    let app = spawn_app().await;
    let (r, slug) = declare(&app, ADMIN_TOKEN, "Webshell on the storefront").await;
    let dir = tempfile::tempdir().unwrap();
    let img = write(&dir, "web1-root.img", b"disk image bytes");

    // upload prints the name and the handle to use next
    let out = cordon(
        &app,
        ADMIN_TOKEN,
        &["evidence", "add", &slug, &img, "--acquired-by", "alice"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let first = out.stdout.lines().next().unwrap();
    let handle = first
        .strip_prefix("web1-root.img (")
        .and_then(|h| h.strip_suffix(')'))
        .unwrap_or_else(|| panic!("the first line names the item and its handle: {}", out.stdout))
        .to_owned();
    assert!(
        handle.len() >= 8 && handle.chars().all(|c| c.is_ascii_hexdigit()),
        "{handle}"
    );
    let (st, items) = app.get(&format!("/api/v1/incidents/{r}/evidence"), ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK, "{items}");
    let id = items[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(items[0]["handle"], handle.as_str());
    assert!(id.replace('-', "").starts_with(&handle), "{id} {handle}");

    // the file name and the handle work wherever the id did, on the CLI and the API
    let out = cordon(&app, ADMIN_TOKEN, &["evidence", "custody", &slug, "web1-root.img"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("web1-root.img"), "{}", out.stdout);
    let out = cordon(&app, ADMIN_TOKEN, &["evidence", "verify", &slug, &handle]).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    for h in ["web1-root.img", "WEB1-ROOT.IMG", &handle, &handle[..4], &id] {
        let (st, v) = app
            .get(&format!("/api/v1/incidents/{r}/evidence/{h}"), ADMIN_TOKEN)
            .await;
        assert_eq!(st, StatusCode::OK, "{h}: {v}");
        assert_eq!(v["id"], id.as_str(), "{h}");
    }
    let out = cordon(&app, ADMIN_TOKEN, &["evidence", "list", &slug]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("HANDLE"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("{handle} ")),
        "the list shows the handle: {}",
        out.stdout
    );

    // a prefix too short is refused by name; one that matches nothing is not found
    let (st, v) = app
        .get(&format!("/api/v1/incidents/{r}/evidence/{}", &handle[..3]), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "id");
    assert!(v["detail"].as_str().unwrap().contains("4 hex digits"), "{v}");
    let (st, v) = app
        .get(&format!("/api/v1/incidents/{r}/evidence/nothing.img"), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");

    // a second item of the same name: the name is ambiguous and both are listed, with handles
    // that tell them apart
    let other = write(&dir, "copy.img", b"another image");
    let out = cordon(
        &app,
        ADMIN_TOKEN,
        &["evidence", "add", &slug, &other, "--name", "web1-root.img", "--json"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let second: Value = serde_json::from_str(&out.stdout).unwrap();
    let (st, v) = app
        .get(&format!("/api/v1/incidents/{r}/evidence/web1-root.img"), ADMIN_TOKEN)
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "ambiguous");
    let listed = candidates(&v);
    assert_eq!(listed.len(), 2, "{v}");
    assert!(listed.iter().all(|c| c.starts_with("web1-root.img (")), "{listed:?}");
    let (_, items) = app.get(&format!("/api/v1/incidents/{r}/evidence"), ADMIN_TOKEN).await;
    let handles: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["handle"].as_str().unwrap())
        .collect();
    assert_ne!(handles[0], handles[1]);
    for (item, h) in items.as_array().unwrap().iter().zip(&handles) {
        let (st, v) = app
            .get(&format!("/api/v1/incidents/{r}/evidence/{h}"), ADMIN_TOKEN)
            .await;
        assert_eq!((st, &v["id"]), (StatusCode::OK, &item["id"]), "{h}");
    }
    assert_eq!(second["handle"], handles[1]);
    // the two ids were made in the same second: their first four digits are shared
    let (st, v) = app
        .get(&format!("/api/v1/incidents/{r}/evidence/{}", &handle[..4]), ADMIN_TOKEN)
        .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("ambiguous")),
        "{v}"
    );
    // … and the CLI says so, naming the candidates
    let out = cordon(&app, ADMIN_TOKEN, &["evidence", "show", &slug, "web1-root.img"]).await;
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("more than one evidence") && out.stderr.contains(handles[1]),
        "{}",
        out.stderr
    );

    // an exposure names its evidence the same way
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{r}/exposures"),
            ADMIN_TOKEN,
            json!({ "data": "customer emails", "classification": "confidential", "evidence": [handles[0]] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{r}/exposures"),
            ADMIN_TOKEN,
            json!({ "data": "customer emails", "classification": "confidential", "evidence": ["nothing.img"] }),
        )
        .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("evidence")),
        "{v}"
    );
}

#[tokio::test]
async fn a_prefix_never_reaches_into_another_incident() {
    let app = spawn_app().await;
    let alice = app.user("alice", &[]).await;
    let bob = app.user("bob", &[]).await;
    let (alice_r, _) = declare(&app, &alice, "Alice's sealed incident").await;
    let (bob_r, bob_slug) = declare(&app, &bob, "Bob's own incident").await;
    for (r, user) in [(&alice_r, "alice"), (&bob_r, "bob")] {
        let (st, v) = app.add_member(ADMIN_TOKEN, r, user, "incident_commander").await;
        assert!(st.is_success(), "{v}");
    }
    let dir = tempfile::tempdir().unwrap();
    let secret = write(&dir, "secret.img", b"alice's evidence");
    let out = cordon(&app, &alice, &["evidence", "add", &alice_r, &secret, "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let item: Value = serde_json::from_str(&out.stdout).unwrap();
    let handle = item["handle"].as_str().unwrap().to_owned();

    // in his own incident, bob's prefix of alice's item finds nothing — not a conflict, not a
    // hint — and neither does her file name
    for h in [handle.as_str(), "secret.img"] {
        let (st, v) = app.get(&format!("/api/v1/incidents/{bob_r}/evidence/{h}"), &bob).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{h}: {v}");
    }
    let out = cordon(&app, &bob, &["evidence", "custody", &bob_slug, &handle]).await;
    assert_ne!(out.code, 0);
    // alice's incident itself is invisible to him, handle or not
    let (st, _) = app
        .get(&format!("/api/v1/incidents/{alice_r}/evidence/{handle}"), &bob)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = app
        .get(&format!("/api/v1/incidents/{alice_r}/evidence/{handle}"), &alice)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // pages live outside incidents: a prefix only ever finds the pages the caller may see
    let (st, page) = app
        .post(
            &format!("/api/v1/incidents/{alice_r}/pages"),
            &alice,
            json!({ "user": "alice" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{page}");
    let page_id = page["id"].as_str().unwrap().replace('-', "");
    let (st, v) = app.get(&format!("/api/v1/pages/{}", &page_id[..10]), &alice).await;
    assert_eq!((st, &v["id"]), (StatusCode::OK, &page["id"]), "{v}");
    let out = cordon(&app, &alice, &["page", "show", &page_id[..10]]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    for token in [&bob, &alice] {
        let (st, v) = app.get(&format!("/api/v1/pages/{}", &page_id[..2]), token).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    }
    let (st, v) = app.get(&format!("/api/v1/pages/{}", &page_id[..10]), &bob).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    // bob's own page shares alice's prefix (both made this second): for him it is his alone
    let (st, own) = app
        .post(
            &format!("/api/v1/incidents/{bob_r}/pages"),
            &bob,
            json!({ "user": "bob" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{own}");
    let (st, v) = app.get(&format!("/api/v1/pages/{}", &page_id[..4]), &bob).await;
    assert_eq!((st, &v["id"]), (StatusCode::OK, &own["id"]), "{v}");
    // the admin sees both, so the same prefix is ambiguous for him
    let (st, v) = app.get(&format!("/api/v1/pages/{}", &page_id[..4]), ADMIN_TOKEN).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("ambiguous")),
        "{v}"
    );
    assert_eq!(candidates(&v).len(), 2, "{v}");
}

#[tokio::test]
async fn clocks_are_named_by_their_regime_and_jurisdiction() {
    let app = spawn_app().await;
    let (r, slug) = declare(&app, ADMIN_TOKEN, "Customer data taken").await;
    let start = |regime: &str, jurisdiction: &str| json!({ "regime": regime, "jurisdiction": jurisdiction, "started_at": "2026-11-27T09:30:00Z" });
    let (st, gdpr) = app
        .post(
            &format!("/api/v1/incidents/{r}/clocks"),
            ADMIN_TOKEN,
            start("gdpr", "eu"),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{gdpr}");
    assert_eq!(gdpr["handle"], "gdpr");

    let out = cordon(
        &app,
        ADMIN_TOKEN,
        &["clock", "met", &slug, "gdpr", "supervisory_authority"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("gdpr ("), "{}", out.stdout);
    let (_, clocks) = app.get(&format!("/api/v1/incidents/{r}/clocks"), ADMIN_TOKEN).await;
    assert_eq!(clocks[0]["milestones"][0]["status"], "met", "{clocks}");

    // a second GDPR clock: the bare regime no longer says which, regime:jurisdiction does
    let (st, uk) = app
        .post(
            &format!("/api/v1/incidents/{r}/clocks"),
            ADMIN_TOKEN,
            start("gdpr", "uk"),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{uk}");
    assert_eq!(uk["handle"], "gdpr:uk");
    let (st, nis2) = app
        .post(
            &format!("/api/v1/incidents/{r}/clocks"),
            ADMIN_TOKEN,
            start("nis2", "eu"),
        )
        .await;
    assert_eq!(
        (st, nis2["handle"].as_str()),
        (StatusCode::CREATED, Some("nis2")),
        "{nis2}"
    );
    let (_, clocks) = app.get(&format!("/api/v1/incidents/{r}/clocks"), ADMIN_TOKEN).await;
    let mut handles: Vec<&str> = clocks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["handle"].as_str().unwrap())
        .collect();
    handles.sort();
    assert_eq!(handles, ["gdpr:eu", "gdpr:uk", "nis2"]);
    let met = |clock: &str| format!("/api/v1/incidents/{r}/clocks/{clock}/milestones/supervisory_authority/met");
    let (st, v) = app.post(&met("gdpr"), ADMIN_TOKEN, json!({})).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("ambiguous")),
        "{v}"
    );
    let mut listed = candidates(&v);
    listed.sort();
    assert!(
        listed.len() == 2 && listed[0].starts_with("gdpr:eu (") && listed[1].starts_with("gdpr:uk ("),
        "{listed:?}"
    );
    let out = cordon(
        &app,
        ADMIN_TOKEN,
        &["clock", "met", &slug, "GDPR/UK", "supervisory_authority"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (st, v) = app.post(&met("gdpr:eu"), ADMIN_TOKEN, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "met already, and found: {v}");
    assert_eq!(v["code"], "conflict");
    let (st, v) = app.post(&met("dora"), ADMIN_TOKEN, json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test]
async fn communications_assets_and_credentials_by_name() {
    let app = spawn_app().await;
    let (r, slug) = declare(&app, ADMIN_TOKEN, "Webshell on the storefront").await;
    let (st, v) = app.add_member(ADMIN_TOKEN, &r, "admin", "incident_commander").await;
    assert!(st.is_success(), "{v}");
    let (st, c) = app
        .post(
            &format!("/api/v1/incidents/{r}/communications"),
            ADMIN_TOKEN,
            json!({ "audience": "internal", "title": "Status at noon",
                    "body": "We are containing web1.\n\n- 2026-11-27 11:40 UTC: web1 isolated" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let id = c["id"].as_str().unwrap();
    for h in ["Status at noon", "status at noon", &id[..13], id] {
        let (st, v) = app
            .get(
                &format!("/api/v1/incidents/{r}/communications/{}", urlencode(h)),
                ADMIN_TOKEN,
            )
            .await;
        assert_eq!((st, &v["id"]), (StatusCode::OK, &c["id"]), "{h}: {v}");
    }
    let (st, v) = app
        .post(
            &format!(
                "/api/v1/incidents/{r}/communications/{}/approve",
                urlencode("Status at noon")
            ),
            ADMIN_TOKEN,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // assets and credentials: the API takes their names too (the CLI no longer looks them up)
    for (what, body) in [
        (
            "assets",
            json!({ "name": "web1", "kind": "host", "state": "suspected" }),
        ),
        (
            "credentials",
            json!({ "name": "deploy-key", "kind": "ssh_key", "stored_on": ["web1"], "grants": [] }),
        ),
    ] {
        let (st, v) = app
            .post(&format!("/api/v1/incidents/{r}/{what}"), ADMIN_TOKEN, body)
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/assets/web1"),
            ADMIN_TOKEN,
            json!({ "state": "compromised" }),
        )
        .await;
    assert_eq!((st, v["state"].as_str()), (StatusCode::OK, Some("compromised")), "{v}");
    let out = cordon(&app, ADMIN_TOKEN, &["credential", "rotate", &slug, "deploy-key"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/assets/mail1"),
            ADMIN_TOKEN,
            json!({ "state": "compromised" }),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    // three hex digits could be a name or a prefix too short to take: the answer says both
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/assets/db9"),
            ADMIN_TOKEN,
            json!({ "state": "compromised" }),
        )
        .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("id")),
        "{v}"
    );
    assert!(v["detail"].as_str().unwrap().contains("no asset name"), "{v}");
}

fn urlencode(s: &str) -> String {
    s.replace(' ', "%20")
}

#[tokio::test]
async fn follow_up_tasks_have_handles_of_their_own() {
    let app = spawn_app().await;
    let (r, slug) = declare(&app, ADMIN_TOKEN, "Keys on a compromised host").await;
    app.user("olga", &[]).await;
    for (what, body) in [
        (
            "assets",
            json!({ "name": "web1", "kind": "host", "state": "compromised" }),
        ),
        ("systems", json!({ "name": "billing", "owner": "olga", "assets": [] })),
        ("systems", json!({ "name": "github", "owner": "olga", "assets": [] })),
        (
            "credentials",
            json!({ "name": "deploy-key", "kind": "ssh_key", "stored_on": ["web1"], "grants": ["billing", "github"] }),
        ),
    ] {
        let (st, v) = app
            .post(&format!("/api/v1/incidents/{r}/{what}"), ADMIN_TOKEN, body)
            .await;
        assert_eq!(st, StatusCode::CREATED, "{what}: {v}");
    }
    let tasks = app.tasks(ADMIN_TOKEN, &r).await;
    let follow_ups: Vec<&Value> = tasks.iter().filter(|t| t["kind"] == "follow_up").collect();
    assert_eq!(follow_ups.len(), 2, "one rotation per system granted: {tasks:?}");
    let step = follow_ups[0]["step"].as_u64().unwrap();
    let handles: Vec<&str> = follow_ups.iter().map(|t| t["handle"].as_str().unwrap()).collect();
    assert_eq!(handles, [format!("{step}.1"), format!("{step}.2")]);
    let checklist = tasks
        .iter()
        .find(|t| t["step"] == step && t["kind"] == "checklist")
        .unwrap();
    assert_eq!(checklist["handle"], step.to_string());
    assert_eq!(checklist["follow_ups"][0]["handle"], handles[0]);

    // `task list` shows them; `task set STEP.N` changes the follow-up and not the step
    let out = cordon(&app, ADMIN_TOKEN, &["task", "list", &slug]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("TASK"), "{}", out.stdout);
    let rows: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with(&format!("{step}.")))
        .collect();
    assert_eq!(rows.len(), 2, "{}", out.stdout);
    let second = handles[1];
    let out = cordon(&app, ADMIN_TOKEN, &["task", "set", &slug, second, "--status", "done"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(&format!("follow-up {second}: done")),
        "{}",
        out.stdout
    );
    let tasks = app.tasks(ADMIN_TOKEN, &r).await;
    let by_handle = |h: &str| tasks.iter().find(|t| t["handle"] == h).unwrap().clone();
    assert_eq!(by_handle(second)["status"], "done");
    assert_eq!(by_handle(handles[0])["status"], "todo");
    assert_eq!(
        by_handle(&step.to_string())["status"],
        "todo",
        "the checklist step is untouched"
    );

    // the bare number is the checklist step
    let out = cordon(
        &app,
        ADMIN_TOKEN,
        &["task", "set", &slug, &step.to_string(), "--status", "in_progress"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(&format!("step {step}: in_progress")),
        "{}",
        out.stdout
    );
    let tasks = app.tasks(ADMIN_TOKEN, &r).await;
    let status = |h: &str| tasks.iter().find(|t| t["handle"] == h).unwrap()["status"].clone();
    assert_eq!(status(&step.to_string()), "in_progress");
    assert_eq!(status(handles[0]), "todo");

    // the API takes the same handles, on /tasks and /follow-ups
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{}", handles[0]),
            ADMIN_TOKEN,
            json!({ "status": "in_progress" }),
        )
        .await;
    assert_eq!(
        (st, v["kind"].as_str(), v["handle"].as_str()),
        (StatusCode::OK, Some("follow_up"), Some(handles[0])),
        "{v}"
    );
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/follow-ups/{}", handles[0]),
            ADMIN_TOKEN,
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("done")), "{v}");
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/follow-ups/{step}"),
            ADMIN_TOKEN,
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("id")),
        "{v}"
    );

    // numbers off the checklist are refused with the steps there are
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/15"),
            ADMIN_TOKEN,
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("steps 1–14"), "{v}");
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{step}.7"),
            ADMIN_TOKEN,
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test]
async fn the_openapi_document_says_which_paths_take_handles() {
    let app = spawn_app().await;
    let res = app.http.get(format!("{}/openapi.json", app.base)).send().await.unwrap();
    let doc: Value = res.json().await.unwrap();
    for (path, method) in [
        ("/api/v1/incidents/{ref}/evidence/{id}", "get"),
        ("/api/v1/incidents/{ref}/clocks/{id}/milestones/{name}/met", "post"),
        ("/api/v1/incidents/{ref}/tasks/{id}", "patch"),
        ("/api/v1/pages/{id}", "get"),
    ] {
        let op = &doc["paths"][path][method];
        let id = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "id")
            .unwrap();
        assert!(id["description"].as_str().unwrap().contains("prefix"), "{path}: {id}");
        assert!(op["responses"]["409"].is_object(), "{path}: {}", op["responses"]);
    }
    // a page handle is hex digits only, so its form is in the schema
    let pattern = doc["paths"]["/api/v1/pages/{id}"]["get"]["parameters"][0]["schema"]["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", doc["paths"]["/api/v1/pages/{id}"]));
    assert_eq!(pattern, "^\\s*(?:[0-9A-Fa-f]-?){4,32}\\s*$");
}
