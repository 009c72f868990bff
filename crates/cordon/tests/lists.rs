//! Every list is paged and none stops silently (issue 12: `GET /api/v1/incidents` stopped at
//! 1,000 with no cursor): `limit` and an opaque `cursor`, a `Link: <…>; rel="next"` header while
//! more follow, the same order and no item twice or missing across pages, bad cursors and limits
//! refused as problems, and the CLI following the pages to the end.

mod common;

use common::{ADMIN_TOKEN, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// GETs `path` as `token`: the items and the next page's path.
async fn page(app: &TestApp, token: &str, path: &str) -> (Vec<Value>, Option<String>) {
    let res = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let next = res
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned())
        .map(|l| {
            assert!(l.ends_with(r#">; rel="next""#), "{l}");
            l.trim_start_matches('<').split('>').next().unwrap().to_owned()
        });
    let items = res.json::<Value>().await.unwrap().as_array().unwrap().clone();
    (items, next)
}

/// Every item of a list, following its pages; with how many pages it took.
async fn walk(app: &TestApp, token: &str, first: &str) -> (Vec<Value>, usize) {
    let mut all = Vec::new();
    let mut next = Some(first.to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let (items, after) = page(app, token, &path).await;
        assert!(
            !items.is_empty() || all.is_empty(),
            "an empty page in the middle: {path}"
        );
        all.extend(items);
        next = after;
        pages += 1;
    }
    (all, pages)
}

#[tokio::test]
async fn incident_lists_page_through_everything_once_and_in_order() {
    let app = spawn_app().await;
    let olga = app.user("olga", &[]).await;
    for i in 0..130 {
        let kind = if i % 10 == 0 { "operational" } else { "security" };
        app.declare(ADMIN_TOKEN, &format!("incident {i}"), kind).await;
    }
    // The default page is 100; the rest follows by the link.
    let (first, next) = page(&app, ADMIN_TOKEN, "/api/v1/incidents").await;
    assert_eq!(first.len(), 100);
    assert!(
        next.as_deref()
            .unwrap()
            .starts_with("/api/v1/incidents?limit=100&cursor=")
    );
    let (all, pages) = walk(&app, ADMIN_TOKEN, "/api/v1/incidents?limit=7").await;
    assert_eq!((all.len(), pages), (130, 19));
    let mut ids: Vec<&str> = all.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let times: Vec<&str> = all.iter().map(|i| i["created_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 130, "no incident twice");
    // A page is what the caller may see: the sealed ones are not olga's to count.
    let (hers, _) = walk(&app, &olga, "/api/v1/incidents?limit=5").await;
    assert_eq!(hers.len(), 13);
    assert!(hers.iter().all(|i| i["sealed"] == false));

    // Cursors are opaque and checked; limits are bounded.
    for (query, status) in [
        ("cursor=zz", StatusCode::BAD_REQUEST),
        ("cursor=6f2e33", StatusCode::BAD_REQUEST),
        ("cursor=6b2e782e79", StatusCode::BAD_REQUEST),
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=1001", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=ten", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (st, v) = app.get(&format!("/api/v1/incidents?{query}"), ADMIN_TOKEN).await;
        assert_eq!(st, status, "{query}: {v}");
    }

    // The CLI follows the pages.
    let out = common::run_cli(&app.base, ADMIN_TOKEN, &["incident", "list", "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let listed: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 130);
}

#[tokio::test]
async fn register_and_audit_lists_page_too() {
    let app = spawn_app().await;
    let inc = app.declare(ADMIN_TOKEN, "many indicators", "security").await;
    let id = inc["id"].as_str().unwrap();
    for i in 0..25 {
        let (st, v) = app
            .post(
                &format!("/api/v1/incidents/{id}/iocs"),
                ADMIN_TOKEN,
                json!({ "kind": "domain", "value": format!("bad{i}.example") }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (all, pages) = walk(&app, ADMIN_TOKEN, &format!("/api/v1/incidents/{id}/iocs?limit=10")).await;
    assert_eq!((all.len(), pages), (25, 3));
    let mut values: Vec<&str> = all.iter().map(|i| i["value"].as_str().unwrap()).collect();
    values.sort();
    values.dedup();
    assert_eq!(values.len(), 25);
    // The audit log pages by sequence number.
    let (entries, pages) = walk(&app, ADMIN_TOKEN, "/api/v1/audit?limit=10").await;
    assert!(pages >= 3, "{pages}");
    let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] + 1 == w[1]), "{seqs:?}");
}
