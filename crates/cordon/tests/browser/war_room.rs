//! The war room in real Chromium (issue 15): declaring from `/` with one click; working the
//! board (status and assignee) by keyboard-reachable, labelled controls; a gate refused, then
//! overridden by the commander with a reason; two signed-in browsers — one in English, one in
//! Japanese — seeing each other's changes live (within `LIVE`), including a message and an
//! `!ic` command in the conversation and a change made through the API; a non-member meeting
//! the same not-found page as for an address that never existed; a form post without the
//! CSRF token refused; paging from the room and acknowledging from the mail's link; axe-core on
//! every page in both languages.

use std::time::Duration;

use cordon_mail::testing::SmtpSink;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::browser::{self, ACTION_TIMEOUT, LIVE};
use crate::common::{TestApp, spawn_app, spawn_app_with};
use crate::people::sign_in;

const TITLE: &str = "Payroll export copied to an unknown host";

/// Console errors and script failures, less the browser's note of a page that answered 404
/// or 409 on purpose (the not-found page, a refused gate), whose statuses the tests assert.
async fn unexpected_errors(page: &crate::common::browser::Page) -> Vec<String> {
    page.console_errors()
        .await
        .into_iter()
        .filter(|e| {
            !(e.starts_with("Failed to load resource: the server responded with a status of 404")
                || e.starts_with("Failed to load resource: the server responded with a status of 409"))
        })
        .collect()
}

/// The incident's address part (its codename's key) from a war-room path.
fn key_of(path: &str) -> String {
    path.trim_start_matches("/incidents/")
        .split(['#', '?'])
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn declare_work_the_board_and_override_a_gate_with_a_reason() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let alice = sign_in(browser, &app, "alice", &["security"], "en").await;
    app.user("bob", &[]).await;
    let page = &alice.page;

    // Declare: one click and a title.
    assert_eq!(page.text("h1").await, "Incidents");
    page.assert_accessible().await;
    page.fill_label("What is happening? (optional)", TITLE).await;
    page.click_button("Declare an incident").await;
    page.wait_for_text("#part-board h2", "Checklist", ACTION_TIMEOUT).await;
    let path = page.path().await;
    assert!(path.starts_with("/incidents/"), "{path}");
    let key = key_of(&path);
    let codename = page.text("h1").await;
    // The tab names the incident by codename only.
    assert_eq!(page.title().await, format!("{codename} · Cordon"));
    assert!(!page.title().await.contains(TITLE));
    assert!(page.text(".incident-title").await.contains(TITLE));
    page.assert_accessible().await;
    assert_eq!(page.count(".card").await, 14, "the 14 steps");
    page.wait_for_text("#step-10 .gates", "Systems secured", LIVE).await;
    page.wait_for_text("#part-activity", "alice declared the incident", LIVE)
        .await;

    // The incident is listed on `/`, newest first, filterable.
    page.goto(&format!("{}/?status=triage", app.base)).await;
    page.wait_for_text("table", &codename, LIVE).await;
    page.goto(&format!("{}/?status=closed", app.base)).await;
    assert_eq!(page.count("tbody tr").await, 0);
    page.goto(&format!("{}/incidents/{key}", app.base)).await;

    // The team: bob as subject matter expert, alice as commander.
    page.fill_label("User name", "bob").await;
    page.select_label("Role", "Subject matter expert").await;
    page.click_button("Add").await;
    page.wait_for_text("#part-team .team", "bob", ACTION_TIMEOUT).await;
    page.fill_label("User name", "alice").await;
    page.select_label("Role", "Incident commander").await;
    page.click_button("Add").await;
    page.wait_for_text("#part-summary .commander", "alice", ACTION_TIMEOUT)
        .await;

    // Work the board: step 4 in progress, assigned to bob.
    page.select_label("Status (step 4)", "In progress").await;
    page.select_label("Assignee (step 4)", "bob").await;
    page.click_button("Save (step 4)").await;
    page.wait_for_text("#step-4 .state", "assigned to bob", ACTION_TIMEOUT)
        .await;
    assert!(page.text("#step-4 .state").await.contains("In progress"));
    page.wait_for_text(
        "#part-activity",
        "alice moved step 4 (Isolate affected instances) from To do to In progress.",
        LIVE,
    )
    .await;
    let (_, tasks) = app.get(&format!("/api/v1/incidents/{key}/tasks"), &alice.token).await;
    let step4 = tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["step"] == 4)
        .unwrap()
        .clone();
    assert_eq!(step4["status"], "in_progress", "{step4}");
    assert_eq!(step4["assignee"], "bob", "{step4}");

    // Step 10 is gated: refused with the gate named, in words.
    page.select_label("Status (step 10)", "Done").await;
    page.click_button("Save (step 10)").await;
    page.wait_for_text(
        "#step-10 [role=alert]",
        "This step is locked: Systems secured",
        ACTION_TIMEOUT,
    )
    .await;
    page.assert_accessible().await;

    // The commander overrides it, with a reason (mandatory).
    page.click("#step-10 details.override summary").await;
    page.select_label("Status after the override (step 10)", "Done").await;
    page.fill_label(
        "Reason for the override (step 10)",
        "Images already taken by the cloud provider",
    )
    .await;
    page.click_button("Override and save (step 10)").await;
    page.wait_for_text(
        "#step-10",
        "Gate overridden by the commander: Images already taken by the cloud provider",
        LIVE,
    )
    .await;
    page.wait_for_text("#part-activity", "alice overrode the gate of step 10", LIVE)
        .await;
    let errors = unexpected_errors(page).await;
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn two_browsers_see_each_others_changes_live_and_talk_in_the_conversation() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let (alice, kenji) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "kenji", &["security"], "ja"),
    );
    let incident = app.declare(&alice.token, TITLE, "security").await;
    let key = incident["slug"].as_str().unwrap().to_owned();
    app.add_member(&alice.token, &key, "kenji", "security_lead").await;
    let url = format!("{}/incidents/{key}", app.base);
    assert_eq!(alice.page.goto(&url).await, Some(200));
    assert_eq!(kenji.page.goto(&url).await, Some(200));

    // The same page in Japanese: the playbook's steps, roles and gates in Japanese.
    assert_eq!(kenji.page.attribute("html", "lang").await.as_deref(), Some("ja"));
    kenji
        .page
        .wait_for_text("#step-1 h4", "進行中の攻撃を止める", LIVE)
        .await;
    kenji
        .page
        .wait_for_text("#step-10 .gates", "システムの安全確保", LIVE)
        .await;
    kenji
        .page
        .wait_for_text(".lane h3", "指揮官（インシデントコマンダー）", LIVE)
        .await;
    kenji
        .page
        .wait_for_text("#part-board h2", "対応チェックリスト", LIVE)
        .await;
    kenji.page.assert_accessible().await;

    // Alice moves a step; Kenji sees it within a second, in Japanese.
    alice.page.select_label("Status (step 5)", "In progress").await;
    alice.page.click_button("Save (step 5)").await;
    let took = kenji.page.wait_for_text("#step-5 .state", "対応中", LIVE).await;
    eprintln!("a board change reached the other browser in {took:?}");
    kenji
        .page
        .wait_for_text(
            "#part-activity",
            "alice がステップ5「攻撃のタイムラインを確定する」",
            LIVE,
        )
        .await;

    // Kenji writes in the conversation; Alice sees it within a second.
    kenji
        .page
        .fill_label("メッセージまたは !ic コマンド", "VPN のログを確認中です")
        .await;
    kenji.page.click_button("送信").await;
    alice
        .page
        .wait_for_text("#part-conversation", "VPN のログを確認中です", LIVE)
        .await;

    // An `!ic` command goes through the chat dispatcher; Cordon's reply shows for both.
    alice.page.fill_label("Message or !ic command", "!ic").await;
    alice.page.click_button("Send").await;
    alice
        .page
        .wait_for_text("#part-conversation .from-cordon", "commander", LIVE)
        .await;
    kenji
        .page
        .wait_for_text("#part-conversation .from-cordon", "commander", LIVE)
        .await;
    let (_, messages) = app
        .get(&format!("/api/v1/incidents/{key}/messages"), &alice.token)
        .await;
    assert_eq!(messages.as_array().unwrap().len(), 3, "{messages}");

    // A change made elsewhere (the API, as the CLI makes it) shows too.
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{key}"),
            &alice.token,
            json!({ "status": "active" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    kenji.page.wait_for_text("#part-summary .status", "対応中", LIVE).await;
    alice.page.wait_for_text("#part-summary .status", "Active", LIVE).await;
    for p in [&alice.page, &kenji.page] {
        let errors = unexpected_errors(p).await;
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[tokio::test]
async fn a_non_member_gets_the_same_not_found_page_and_a_form_without_the_csrf_token_is_refused() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let (alice, mallory) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "mallory", &[], "en"),
    );
    let incident = app.declare(&alice.token, TITLE, "security").await;
    let key = incident["slug"].as_str().unwrap().to_owned();

    // Mallory: the sealed incident's address and a made-up one answer the same page.
    let page = &mallory.page;
    assert_eq!(page.goto(&format!("{}/incidents/{key}", app.base)).await, Some(404));
    let (title, main) = (page.title().await, page.text("main").await);
    assert!(!page.html().await.contains(TITLE));
    page.assert_accessible().await;
    assert_eq!(page.goto(&format!("{}/incidents/never-was", app.base)).await, Some(404));
    assert_eq!((page.title().await, page.text("main").await), (title, main));
    assert_eq!(
        page.goto(&format!("{}/incidents/{key}/parts/board", app.base)).await,
        Some(404)
    );
    // Nor is it listed for her.
    page.goto(&format!("{}/", app.base)).await;
    assert!(!page.text("main").await.contains(incident["codename"].as_str().unwrap()));

    // A form post with Alice's session but without the CSRF token is refused, and changes
    // nothing; the same post with it goes through.
    let cookie = alice.page.cookie("cordon_session").await.expect("a session cookie");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |body: String| {
        http.post(format!("{}/incidents/{key}/tasks/4", app.base))
            .header("Cookie", format!("cordon_session={}", cookie.value))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let refused = post("status=in_progress".into()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let wrong = post(format!("status=in_progress&_csrf={}", "0".repeat(64)))
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let tasks = app.tasks(&alice.token, &key).await;
    assert_eq!(tasks.iter().find(|t| t["step"] == 4).unwrap()["status"], "todo");
    alice.page.goto(&format!("{}/incidents/{key}", app.base)).await;
    let csrf = alice
        .page
        .attribute("meta[name=csrf-token]", "content")
        .await
        .expect("the page's CSRF token");
    let ok = post(format!("status=in_progress&_csrf={csrf}")).await.unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let tasks = app.tasks(&alice.token, &key).await;
    assert_eq!(tasks.iter().find(|t| t["step"] == 4).unwrap()["status"], "in_progress");
}

const PUBLIC: &str = "https://cordon.corp.example";

#[tokio::test]
async fn page_from_the_war_room_and_acknowledge_from_the_mail_in_japanese_seen_live() {
    let Some(browser) = browser::shared() else { return };
    let sink = SmtpSink::start().await;
    let smtp = sink.url();
    let app: TestApp = spawn_app_with(|c| {
        c.smtp_url = Some(smtp);
        c.company_domains = vec!["example.com".into()];
        c.public_url = Some(PUBLIC.into());
    })
    .await;
    let alice = sign_in(browser, &app, "alice", &["security"], "en").await;
    app.user("carol", &[]).await;
    let incident = app.declare(&alice.token, TITLE, "security").await;
    let key = incident["slug"].as_str().unwrap().to_owned();
    let codename = incident["codename"].as_str().map(str::to_owned);
    let page = &alice.page;
    page.goto(&format!("{}/incidents/{key}", app.base)).await;
    page.fill_label("User name to page", "carol").await;
    page.fill_label("Reason (optional)", "Payroll system owner").await;
    page.click_button("Page").await;
    page.wait_for_text("#part-activity", "alice paged", ACTION_TIMEOUT)
        .await;
    {
        use cordon_core::clock::Clock;
        app.cordon().run_engine(app.clock.now()).await.unwrap();
    }
    let mails = sink.wait_for_messages(1, Duration::from_secs(20)).await;
    let link = crate::common::ack_link_in(&mails, "carol@example.com", PUBLIC);

    // Carol opens the link in a browser that speaks Japanese, signed in nowhere.
    let carol = browser.page_in("ja").await;
    assert_eq!(carol.goto(&format!("{}{link}", app.base)).await, Some(200));
    assert_eq!(carol.attribute("html", "lang").await.as_deref(), Some("ja"));
    let body = carol.text("main").await;
    assert!(body.contains("SEV-2"), "{body}");
    if let Some(c) = &codename {
        assert!(body.contains(c.as_str()), "{body}");
    }
    assert!(!carol.html().await.contains(TITLE));
    assert!(!carol.title().await.contains(TITLE));
    carol.assert_accessible().await;
    let button = carol.text("main form button").await;
    assert!(button.ends_with("の呼び出しに応答する"), "{button}");
    carol.click("main form button").await;
    carol.wait_for_text("main", "呼び出しに応答しました", LIVE).await;
    carol.assert_accessible().await;
    assert!(carol.cookies().await.is_empty());

    // Alice's open war room shows the acknowledgement without reloading.
    page.wait_for_text("#part-activity", "carol acknowledged a page", LIVE)
        .await;
}

#[tokio::test]
async fn every_page_passes_axe_in_english_and_japanese() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let (en, ja) = tokio::join!(
        sign_in(browser, &app, "alice", &["security"], "en"),
        sign_in(browser, &app, "kenji", &["security"], "ja"),
    );
    let incident = app.declare(&en.token, TITLE, "security").await;
    let key = incident["slug"].as_str().unwrap().to_owned();
    app.add_member(&en.token, &key, "alice", "incident_commander").await;
    app.add_member(&en.token, &key, "kenji", "security_lead").await;
    let (st, v) = app
        .post(
            &format!("/api/v1/incidents/{key}/messages"),
            &en.token,
            json!({ "body": "Containment call at 14:00" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    for person in [&en, &ja] {
        for (path, status) in [
            ("/".to_owned(), 200),
            (format!("/incidents/{key}"), 200),
            ("/oncall".to_owned(), 200),
            ("/settings".to_owned(), 200),
            ("/incidents/never-was".to_owned(), 404),
        ] {
            let got = person.page.goto(&format!("{}{path}", app.base)).await;
            assert_eq!(got, Some(status), "{path}");
            person.page.assert_accessible().await;
        }
        let errors = unexpected_errors(&person.page).await;
        assert!(errors.is_empty(), "{errors:?}");
    }
    assert_eq!(en.page.text("h1").await, "Not found");
    ja.page.goto(&format!("{}/oncall", app.base)).await;
    assert_eq!(ja.page.text("h1").await, "オンコール");
}

#[tokio::test]
async fn a_change_between_the_page_and_its_stream_opening_is_not_lost() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let alice = sign_in(browser, &app, "alice", &["security"], "en").await;
    let key = app.declare(&alice.token, "Odd sudo activity", "security").await["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    // The page is read, but its stream is slow to open; meanwhile step 1 moves, and the change
    // feed reads it before the stream subscribes.
    alice.page.hold("/events").await;
    assert_eq!(
        alice.page.goto(&format!("{}/incidents/{key}", app.base)).await,
        Some(200)
    );
    let badge = alice.page.text("#step-1 .badge").await;
    assert_eq!(badge, "To do");
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{key}/tasks/1"),
            &alice.token,
            json!({ "status": "in_progress" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(alice.page.text("#step-1 .badge").await, "To do");
    // The stream opens further on than the page was read: the page reads itself again.
    alice.page.release().await;
    alice.page.wait_for_text("#step-1 .badge", "In progress", LIVE).await;
    let errors = unexpected_errors(&alice.page).await;
    assert!(errors.is_empty(), "{errors:?}");
}
