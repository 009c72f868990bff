//! `/` live in real Chromium (issue 15): the incidents list of every open browser follows the
//! user's change stream — an incident declared in another browser or through the API, and a
//! change of status, severity or commander, shows within a second without reloading, with the
//! page's filters kept — and only for those who may see it: a non-member's open list never
//! shows a sealed incident declared by someone else, nor does the list's fragment address.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::browser::{self, ACTION_TIMEOUT, LIVE, Page};
use crate::common::spawn_app;
use crate::people::sign_in;

const SEALED: &str = "Payroll export copied to an unknown host";
const OPEN: &str = "Disk full on the build servers";

/// The row of the incident whose address part is `key`.
fn row(key: &str) -> String {
    format!("[data-live-list] tr:has(a[href='/incidents/{key}'])")
}

async fn no_errors(page: &Page) {
    let errors = page.console_errors().await;
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn a_declared_incident_and_its_changes_show_on_every_open_list_within_a_second() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let (alice, kenji, mallory) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "kenji", &["security"], "ja"),
        sign_in(browser, &app, "mallory", &[], "en"),
    );
    // Everyone is on `/` (where signing in lands), with nothing listed yet.
    for p in [&alice.page, &kenji.page, &mallory.page] {
        assert_eq!(p.path().await, "/");
        assert_eq!(p.count("[data-live-list] tbody tr").await, 0);
    }
    // Kenji filters on triage; the live list keeps the filter.
    kenji.page.goto(&format!("{}/?status=triage", app.base)).await;

    // Alice declares a (sealed) security incident from her browser.
    alice.page.fill_label("What is happening? (optional)", SEALED).await;
    alice.page.click_button("Declare an incident").await;
    alice
        .page
        .wait_for_text("#part-board h2", "Checklist", ACTION_TIMEOUT)
        .await;
    let key = alice.page.path().await.trim_start_matches("/incidents/").to_owned();
    let codename = alice.page.text("h1").await;
    let took = kenji.page.wait_for_text("[data-live-list]", &codename, LIVE).await;
    eprintln!("a declaration reached another open list in {took:?}");
    assert_eq!(kenji.page.path().await, "/?status=triage", "not reloaded");
    kenji.page.wait_for_text(&row(&key), "トリアージ中", LIVE).await;
    kenji.page.wait_for_text(&row(&key), "SEV-2", LIVE).await;
    kenji.page.wait_for_text(&row(&key), "未選任", LIVE).await;
    kenji.page.assert_accessible().await;

    // An incident Mallory may see (operational, not sealed), declared through the API after
    // the sealed one, shows on her list: her list was refreshed after both were declared,
    // and the sealed one is not on it.
    let open = app.declare(&app.admin, OPEN, "operational").await;
    let open_codename = open["codename"].as_str().unwrap().to_owned();
    mallory
        .page
        .wait_for_text("[data-live-list]", &open_codename, LIVE)
        .await;
    let listed = mallory.page.text("[data-live-list]").await;
    assert!(!listed.contains(&codename), "{listed}");
    assert!(!mallory.page.html().await.contains(SEALED));
    assert_eq!(mallory.page.count(&row(&key)).await, 0);
    mallory.page.assert_accessible().await;
    // Kenji's list, filtered on triage, shows the operational one too (it is in triage).
    kenji.page.wait_for_text("[data-live-list]", &open_codename, LIVE).await;

    // Status, severity and commander changed through the API: on Alice's and Kenji's lists at
    // once. Kenji's filter (triage) drops the incident when it becomes active.
    alice.page.goto(&format!("{}/", app.base)).await;
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{key}"),
            &alice.token,
            json!({ "severity": "SEV-1" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    alice.page.wait_for_text(&row(&key), "SEV-1", LIVE).await;
    kenji.page.wait_for_text(&row(&key), "SEV-1", LIVE).await;
    let (st, v) = app.add_member(&alice.token, &key, "alice", "incident_commander").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    alice.page.wait_for_text(&row(&key), "alice", LIVE).await;
    kenji.page.wait_for_text(&row(&key), "alice", LIVE).await;
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{key}"),
            &alice.token,
            json!({ "status": "active" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    alice.page.wait_for_text(&row(&key), "Active", LIVE).await;
    let started = std::time::Instant::now();
    while kenji.page.count(&row(&key)).await > 0 {
        assert!(
            started.elapsed() < LIVE,
            "kenji's triage list still shows the active incident"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(kenji.page.path().await, "/?status=triage");
    alice.page.assert_accessible().await;

    // Still nothing of the sealed incident on Mallory's list after all that.
    let listed = mallory.page.text("[data-live-list]").await;
    assert!(!listed.contains(&codename), "{listed}");
    for p in [&alice.page, &kenji.page, &mallory.page] {
        no_errors(p).await;
    }
}

#[tokio::test]
async fn the_lists_fragment_shows_only_what_the_user_may_see_with_the_filters() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let mallory = sign_in(browser, &app, "mallory", &[], "en").await;
    let sealed = app.declare(&app.admin, SEALED, "security").await;
    let open = app.declare(&app.admin, OPEN, "operational").await;
    let (sealed_codename, open_codename) = (
        sealed["codename"].as_str().unwrap().to_owned(),
        open["codename"].as_str().unwrap().to_owned(),
    );

    let page = &mallory.page;
    assert_eq!(page.goto(&format!("{}/parts/incidents", app.base)).await, Some(200));
    let html = page.html().await;
    assert!(html.contains(&open_codename), "{html}");
    assert!(!html.contains(&sealed_codename), "{html}");
    assert!(!html.contains(SEALED), "{html}");
    // The fragment is the list alone, with the page's filters.
    assert_eq!(page.count("header").await, 0);
    assert_eq!(
        page.goto(&format!("{}/parts/incidents?status=closed", app.base)).await,
        Some(200)
    );
    assert_eq!(page.count("tbody tr").await, 0);
    // Signed out, the fragment is not served.
    let anonymous = browser.page().await;
    anonymous.goto(&format!("{}/parts/incidents", app.base)).await;
    assert!(
        anonymous.path().await.starts_with("/login"),
        "{}",
        anonymous.url().await
    );
    // The security team sees both.
    let sam = sign_in(browser, &app, "sam", &["security"], "en").await;
    sam.page.goto(&format!("{}/parts/incidents", app.base)).await;
    let html = sam.page.html().await;
    assert!(
        html.contains(&open_codename) && html.contains(&sealed_codename),
        "{html}"
    );
}

#[tokio::test]
async fn someone_removed_from_a_sealed_incidents_team_sees_it_leave_their_open_list_at_once() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let (alice, bob) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "bob", &[], "en"),
    );
    let sealed = app.declare(&alice.token, SEALED, "security").await;
    let key = sealed["slug"].as_str().unwrap().to_owned();
    let codename = sealed["codename"].as_str().unwrap().to_owned();
    let (st, v) = app.add_member(&alice.token, &key, "bob", "scribe").await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    bob.page.wait_for_text("[data-live-list]", &codename, LIVE).await;

    // Alice removes Bob: the row leaves Bob's open list within a second, not at the next
    // minute's refresh; what changes afterwards never reaches it.
    let (st, v) = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/incidents/{key}/members/bob/scribe"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let deadline = std::time::Instant::now() + LIVE;
    while bob.page.count(&row(&key)).await > 0 {
        assert!(std::time::Instant::now() < deadline, "the row is still on bob's list");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!bob.page.text("[data-live-list]").await.contains(&codename));
    assert_eq!(bob.page.path().await, "/", "not reloaded");
    no_errors(&bob.page).await;
}
