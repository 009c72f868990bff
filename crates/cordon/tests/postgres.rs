//! The real server on PostgreSQL, black-box over HTTP: the spine story (declare, team, gated
//! checklist, need-to-know, a verifiable audit chain that names an edited entry), and two
//! nodes on one database serving the same incidents with one audit chain between them.
//! Each test gets a throw-away database (`cordon_store::testing`); PostgreSQL being
//! unreachable fails them unless `CORDON_TEST_POSTGRES=skip`.

mod common;

use common::{ADMIN_TOKEN, TestApp, spawn_app_with};
use cordon_store::testing::TestDatabase;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

async fn node(db: &TestDatabase) -> TestApp {
    let url = db.url().to_owned();
    spawn_app_with(move |c| c.database_url = Some(url)).await
}

#[tokio::test]
async fn the_spine_runs_on_postgresql() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let app = node(&db).await;
    let (st, health) = app.request(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(st, StatusCode::OK, "{health}");
    let outsider = app.user("olivia", &[]).await;
    let sme = app.user("sid", &[]).await;
    let ic = app.user("ivy", &[]).await;

    // Declare: a sealed security incident with its codename and 14 tasks.
    let inc = app.declare(ADMIN_TOKEN, "Webshell on web-1", "security").await;
    let id = inc["id"].as_str().unwrap().to_owned();
    let slug = inc["slug"].as_str().unwrap().to_owned();
    assert_eq!(inc["sealed"], true);
    let (st, v) = app.get(&format!("/api/v1/incidents/{slug}"), ADMIN_TOKEN).await;
    assert_eq!((st, &v["id"]), (StatusCode::OK, &inc["id"]), "{v}");
    assert_eq!(app.tasks(ADMIN_TOKEN, &id).await.len(), 14);

    // The team.
    for (user, role) in [("ivy", "incident_commander"), ("sid", "sme")] {
        let (st, v) = app.add_member(ADMIN_TOKEN, &id, user, role).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, members) = app.get(&format!("/api/v1/incidents/{id}/members"), &sme).await;
    assert_eq!(st, StatusCode::OK, "{members}");
    let names: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"].as_str().unwrap_or_default())
        .collect();
    assert!(names.contains(&"ivy") && names.contains(&"sid"), "{members}");

    // The gate: step 10 waits for steps 1, 4 (systems secured) and 9 (monitoring).
    let (st, p) = app.set_task(&sme, &id, 10, json!({ "status": "done" })).await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert_eq!(
        (p["code"].as_str(), p["gate"].as_str()),
        (Some("gate_unmet"), Some("systems_secured"))
    );
    for step in [1, 4] {
        let (st, v) = app
            .set_task(&sme, &id, step, json!({ "status": "done", "assignee": "sid" }))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (st, p) = app.set_task(&sme, &id, 10, json!({ "status": "done" })).await;
    assert_eq!(
        (st, p["gate"].as_str()),
        (StatusCode::CONFLICT, Some("monitoring_in_place"))
    );
    assert_eq!(
        app.set_task(&sme, &id, 9, json!({ "status": "done" })).await.0,
        StatusCode::OK
    );
    let (st, v) = app.set_task(&sme, &id, 10, json!({ "status": "done" })).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["blocked_by"], json!([]));

    // A decision by the commander, read back.
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{id}/decisions"),
            &ic,
            json!({ "name": "insider_threat_ruled_out", "note": "external actor" }),
        )
        .await;
    assert!(st.is_success(), "{st} {v}");
    let (st, v) = app.get(&format!("/api/v1/incidents/{id}"), &sme).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["decisions"][0]["name"], "insider_threat_ruled_out");

    // Need-to-know: the outsider neither sees nor touches it.
    let (st, _) = app.get(&format!("/api/v1/incidents/{id}"), &outsider).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let task = app.task_id(ADMIN_TOKEN, &id, 2).await;
    let (st, _) = app
        .patch(
            &format!("/api/v1/incidents/{id}/tasks/{task}"),
            &outsider,
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, list) = app.get("/api/v1/incidents", &outsider).await;
    assert_eq!((st, list), (StatusCode::OK, json!([])));

    // The audit chain verifies and records the refusal; an edited row is named.
    let v = app.audit_verify().await;
    assert_eq!(v["ok"], true, "{v}");
    let actions = app.audit_actions().await;
    assert!(actions.iter().any(|a| a.ends_with(".refused")), "{actions:?}");
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let v = app.audit_verify().await;
    assert_eq!(
        (v["ok"].as_bool(), v["first_bad_entry"].as_i64()),
        (Some(false), Some(3)),
        "{v}"
    );
}

#[tokio::test]
async fn two_nodes_on_one_database_serve_the_same_incidents() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let a = node(&db).await;
    let b = node(&db).await;
    assert_ne!(a.base, b.base);
    assert_ne!(a.data_dir, b.data_dir);

    // A user and token made on one node work on the other.
    let sme = a.user("sid", &[]).await;
    let outsider = b.user("olivia", &[]).await;
    let inc = a
        .declare(&sme, "Credential stuffing on the login API", "security")
        .await;
    let id = inc["id"].as_str().unwrap().to_owned();
    let (st, v) = b.get(&format!("/api/v1/incidents/{id}"), &sme).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["codename"], inc["codename"]);
    let (st, _) = b.get(&format!("/api/v1/incidents/{id}"), &outsider).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "need-to-know holds on every node");

    // A change on one node is seen on the other.
    let (st, v) = b.add_member(ADMIN_TOKEN, &id, "olivia", "scribe").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, _) = a.get(&format!("/api/v1/incidents/{id}"), &outsider).await;
    assert_eq!(st, StatusCode::OK, "a member now, on the other node too");
    let (st, v) = b
        .set_task(&sme, &id, 1, json!({ "status": "done", "assignee": "sid" }))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let tasks = a.tasks(&sme, &id).await;
    assert_eq!(tasks[0]["status"], "done");

    // Both nodes write at once: checklist updates and declarations on each.
    let mut writes = Vec::new();
    for step in 2..=8u64 {
        let n = if step % 2 == 0 { &a } else { &b };
        let (sme, id) = (sme.clone(), id.clone());
        writes.push(async move {
            let (st, v) = n.set_task(&sme, &id, step, json!({ "status": "in_progress" })).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            let (st, v) = n
                .post(
                    "/api/v1/incidents",
                    &sme,
                    json!({ "title": format!("Noise {step}"), "kind": "operational", "severity": "SEV-3" }),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
            v["codename"].as_str().unwrap().to_owned()
        });
    }
    let codenames = join_all(writes).await;
    let distinct: std::collections::HashSet<&String> = codenames.iter().collect();
    assert_eq!(
        distinct.len(),
        codenames.len(),
        "open codenames stay unique across nodes"
    );
    let (st, list) = a.get("/api/v1/incidents", &sme).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1 + codenames.len());

    // One chain, verified from either node.
    let va = a.audit_verify().await;
    let vb = b.audit_verify().await;
    assert_eq!(va["ok"], true, "{va}");
    assert_eq!(va, vb);
    assert_eq!(a.audit_actions().await, b.audit_actions().await);
}
