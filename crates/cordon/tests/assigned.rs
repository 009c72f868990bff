//! Issue 13, finding 7: a task's assignee outside the incident's team sees and works the tasks
//! assigned to them — under the incident's codename, and nothing else of the incident.

mod common;

use common::{ADMIN_TOKEN, TestApp, run_cli, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post_ok(app: &TestApp, r: &str, what: &str, body: Value) -> Value {
    let (st, v) = app
        .post(&format!("/api/v1/incidents/{r}/{what}"), ADMIN_TOKEN, body)
        .await;
    assert!(st.is_success(), "{what}: {st} {v}");
    v
}

/// A sealed incident whose deploy key fell with its host: rotating it falls to billing's
/// owner, olga, who is not on the team.
async fn rotation_for_olga(app: &TestApp) -> (String, String) {
    let incident = app
        .declare(ADMIN_TOKEN, "Deploy key copied from web1", "security")
        .await;
    assert_eq!(incident["sealed"], true, "{incident}");
    let r = incident["slug"].as_str().unwrap().to_owned();
    let web1 = post_ok(
        app,
        &r,
        "assets",
        json!({ "name": "web1", "kind": "host", "state": "suspected" }),
    )
    .await;
    post_ok(
        app,
        &r,
        "assets",
        json!({ "name": "db1", "kind": "database", "state": "suspected" }),
    )
    .await;
    post_ok(
        app,
        &r,
        "systems",
        json!({ "name": "billing", "owner": "olga", "assets": ["db1"] }),
    )
    .await;
    post_ok(
        app,
        &r,
        "credentials",
        json!({ "name": "deploy-key", "kind": "ssh_key", "stored_on": ["web1"], "grants": ["billing"] }),
    )
    .await;
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/assets/{}", web1["id"].as_str().unwrap()),
            ADMIN_TOKEN,
            json!({ "state": "compromised" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let tasks = app.tasks(ADMIN_TOKEN, &r).await;
    let rotation = tasks
        .iter()
        .find(|t| t["kind"] == "follow_up")
        .expect("a rotation task");
    assert_eq!(rotation["assignee"], "olga");
    (r, rotation["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_assignee_outside_the_team_sees_and_works_only_their_own_tasks() {
    let app = spawn_app().await;
    let olga = app.user("olga", &[]).await;
    let mallory = app.user("mallory", &[]).await;
    let alice = app.user("alice", &[]).await;
    let (r, rotation) = rotation_for_olga(&app).await;
    let (st, v) = app.add_member(ADMIN_TOKEN, &r, "alice", "scribe").await;
    assert!(st.is_success(), "{v}");

    // the incident itself stays sealed to her
    for path in [
        "",
        "/members",
        "/decisions",
        "/credentials",
        "/assets",
        "/evidence",
        "/pages",
    ] {
        let (st, _) = app.get(&format!("/api/v1/incidents/{r}{path}"), &olga).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, list) = app.get("/api/v1/incidents", &olga).await;
    assert_eq!(list, json!([]));

    // … but her task is hers: the task list shows it, and only it
    let (st, mine) = app.get(&format!("/api/v1/incidents/{r}/tasks"), &olga).await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["id"], rotation.as_str());
    assert_eq!(mine[0]["kind"], "follow_up");
    assert!(mine[0]["title"].as_str().unwrap().contains("deploy-key"));
    let text = serde_json::to_string(mine).unwrap();
    assert!(
        !text.contains("alice") && !text.contains("admin"),
        "nobody else of the team shows: {text}"
    );

    // "my tasks" names the incident by its codename
    let (st, held) = app.get("/api/v1/tasks", &olga).await;
    assert_eq!(st, StatusCode::OK, "{held}");
    assert_eq!(held.as_array().unwrap().len(), 1, "{held}");
    assert_eq!(held[0]["slug"], r.as_str());
    assert_eq!(held[0]["on_team"], false);
    assert_eq!(held[0]["task"]["id"], rotation.as_str());

    // she moves it; the audit log records her
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{rotation}"),
            &olga,
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "done");
    let (_, tasks) = app.get(&format!("/api/v1/incidents/{r}/tasks"), ADMIN_TOKEN).await;
    let done = tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == rotation.as_str())
        .unwrap();
    assert_eq!(done["status"], "done");

    // she may not hand it on, nor touch a task she does not hold
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{rotation}"),
            &olga,
            json!({ "assignee": "mallory" }),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let step1 = app.task_id(ADMIN_TOKEN, &r, 1).await;
    let (st, _) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{step1}"),
            &olga,
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, entries) = app.get("/api/v1/audit?limit=1000", ADMIN_TOKEN).await;
    assert_eq!(st, StatusCode::OK);
    let by_olga: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "olga")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(by_olga.contains(&"task.update"), "{by_olga:?}");
    assert!(
        by_olga
            .iter()
            .any(|a| a.starts_with("task.update") && a.contains("refused")),
        "{by_olga:?}"
    );

    // someone who holds nothing there still finds nothing
    let (st, _) = app.get(&format!("/api/v1/incidents/{r}/tasks"), &mallory).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, none) = app.get("/api/v1/tasks", &mallory).await;
    assert_eq!((st, none), (StatusCode::OK, json!([])));

    // a team member's own tasks show as on the team
    let (st, v) = app.set_task(ADMIN_TOKEN, &r, 5, json!({ "assignee": "alice" })).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, held) = app.get("/api/v1/tasks", &alice).await;
    assert_eq!(held.as_array().unwrap().len(), 1, "{held}");
    assert_eq!(
        (held[0]["on_team"].clone(), held[0]["task"]["step"].clone()),
        (json!(true), json!(5))
    );
}

#[tokio::test]
async fn a_gated_step_assigned_outside_the_team_keeps_its_gate_and_ends_with_the_assignment() {
    let app = spawn_app().await;
    let olga = app.user("olga", &[]).await;
    let (r, _) = rotation_for_olga(&app).await;

    // forensics (step 10) assigned to her: she sees it, with what it waits for
    let (st, v) = app.set_task(ADMIN_TOKEN, &r, 10, json!({ "assignee": "olga" })).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, mine) = app.get(&format!("/api/v1/incidents/{r}/tasks"), &olga).await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    let steps: Vec<(Value, Value)> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["kind"].clone(), t["step"].clone()))
        .collect();
    assert_eq!(steps, [(json!("checklist"), json!(10)), (json!("follow_up"), json!(9))]);
    let forensics = &mine[0];
    assert!(!forensics["blocked_by"].as_array().unwrap().is_empty(), "{forensics}");
    assert_eq!(forensics["activity"], json!([]));

    // the gate holds for her as for the team; an override is the commander's
    let id = forensics["id"].as_str().unwrap();
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{id}"),
            &olga,
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(
        (st, v["code"].clone()),
        (StatusCode::CONFLICT, json!("gate_unmet")),
        "{v}"
    );
    let (st, _) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{id}"),
            &olga,
            json!({ "status": "done", "override_reason": "trust me" }),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // an ungated step of hers moves
    let (st, v) = app.set_task(ADMIN_TOKEN, &r, 5, json!({ "assignee": "olga" })).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let timeline = app.task_id(ADMIN_TOKEN, &r, 5).await;
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{timeline}"),
            &olga,
            json!({ "status": "in_progress" }),
        )
        .await;
    assert_eq!((st, v["status"].clone()), (StatusCode::OK, json!("in_progress")), "{v}");

    // the CLI: her tasks, by codename
    let out = run_cli(&app.base, &olga, &["task", "mine"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&r) && out.stdout.contains("deploy-key"),
        "{}",
        out.stdout
    );
    let out = run_cli(&app.base, &olga, &["task", "list", &r]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().count(),
        4,
        "a header and her three tasks: {}",
        out.stdout
    );

    // unassigned, and reassigned away: the incident is gone for her again
    for step in [5, 10] {
        let (st, v) = app.set_task(ADMIN_TOKEN, &r, step, json!({ "assignee": null })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let rotation = app
        .tasks(ADMIN_TOKEN, &r)
        .await
        .into_iter()
        .find(|t| t["kind"] == "follow_up")
        .unwrap();
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{r}/tasks/{}", rotation["id"].as_str().unwrap()),
            ADMIN_TOKEN,
            json!({ "assignee": null }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, _) = app.get(&format!("/api/v1/incidents/{r}/tasks"), &olga).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, held) = app.get("/api/v1/tasks", &olga).await;
    assert_eq!(held, json!([]));
}
