//! Sessions in real Chromium (issue 15): one user signed in in two browser contexts sees both
//! sessions on `/settings/sessions` (how each signed in, from where, with which browser, when it
//! started and was last active, which one is this browser), ends the other one from the first
//! — the other browser is sent to `/login` on its next navigation — and then ends its own,
//! which signs it out. And the sign-in page's language link keeps where the browser was going:
//! switching `/login?next=/incidents/x` to Japanese and signing in lands at `/incidents/x`.
//! axe-core on the pages in English and Japanese.

use cordon_service::totp;
use jiff::SignedDuration;
use reqwest::StatusCode;

use crate::common::BREAK_GLASS_PASSWORD as PASSWORD;
use crate::common::TestApp;
use crate::common::browser::{self, ACTION_TIMEOUT, LIVE, Page};

/// A break-glass account `name` (in `groups`) made through the admin API: its TOTP secret.
async fn account(app: &TestApp, name: &str, groups: &[&str]) -> Vec<u8> {
    app.user(name, groups).await;
    app.break_glass(name).await
}

/// A fresh one-time code: the clock moves to the next 30-second step first, as a code's step
/// can be used once.
fn next_code(app: &TestApp, secret: &[u8]) -> String {
    use cordon_core::clock::Clock;
    app.clock.advance(SignedDuration::from_secs(30));
    totp::code(secret, totp::step_at(app.clock.now().as_second()))
}

/// Fills the sign-in form on the page as it is (fields by the names the form posts, so in
/// either language) and submits it.
async fn submit_sign_in(page: &Page, name: &str, code: &str) {
    page.fill_name("username", name).await;
    page.fill_name("password", PASSWORD).await;
    page.fill_name("totp", code).await;
    page.click("form[action='/login'] button[type=submit]").await;
}

/// Signs `name` in at `/login` on `page`; lands on `/`.
async fn sign_in(page: &Page, app: &TestApp, name: &str, secret: &[u8]) {
    assert_eq!(page.goto(&format!("{}/login", app.base)).await, Some(200));
    submit_sign_in(page, name, &next_code(app, secret)).await;
    page.wait_for_text("header", name, ACTION_TIMEOUT).await;
    assert_eq!(page.path().await, "/");
}

#[tokio::test]
async fn ending_a_session_from_another_browser_sends_it_to_sign_in() {
    let Some(browser) = browser::shared() else { return };
    let app = crate::common::spawn_app().await;
    let secret = account(&app, "alice", &["security"]).await;
    let (laptop, phone) = (browser.page().await, browser.page_in("ja").await);
    sign_in(&laptop, &app, "alice", &secret).await;
    sign_in(&phone, &app, "alice", &secret).await;

    // The Japanese browser's view of the same list.
    assert_eq!(phone.goto(&format!("{}/settings/sessions", app.base)).await, Some(200));
    assert_eq!(phone.text("h1").await, "ログイン中のセッション");
    assert_eq!(phone.count("tbody tr").await, 2);
    phone.wait_for_text("tr.current", "このブラウザー", LIVE).await;
    phone
        .wait_for_text("tr.current", "緊急用ローカルアカウント", LIVE)
        .await;
    phone.assert_accessible().await;

    // From settings, the laptop finds both sessions, its own marked.
    assert_eq!(laptop.goto(&format!("{}/settings", app.base)).await, Some(200));
    laptop.click_link("See where you are signed in, and end sessions").await;
    laptop.wait_for_text("h1", "Your sessions", ACTION_TIMEOUT).await;
    assert_eq!(laptop.path().await, "/settings/sessions");
    assert_eq!(laptop.count("tbody tr").await, 2);
    assert_eq!(laptop.count("tr.current").await, 1);
    let mine = laptop.text("tr.current").await;
    assert!(mine.contains("This browser"), "{mine}");
    let other = laptop.text("tr.other").await;
    for expected in ["Break-glass account", "127.0.0.1", "Chrome"] {
        assert!(other.contains(expected), "{expected} in {other}");
    }
    assert!(!other.contains("This browser"), "{other}");
    laptop.assert_accessible().await;

    // End the other one: its browser is signed out on its next navigation.
    let row = laptop.attribute("tr.other", "id").await.expect("the row's id");
    let n = row.trim_start_matches("session-");
    laptop.click_button(&format!("End session (session {n})")).await;
    laptop
        .wait_for_text("[role=status]", "The session is ended", ACTION_TIMEOUT)
        .await;
    assert_eq!(laptop.count("tbody tr").await, 1);
    assert_eq!(laptop.count("tr.current").await, 1);
    laptop.assert_accessible().await;
    phone.goto(&format!("{}/", app.base)).await;
    assert_eq!(phone.path().await, "/login");
    assert_eq!(phone.text("h1").await, "ログイン");
    // The laptop is still signed in.
    laptop.goto(&format!("{}/", app.base)).await;
    laptop
        .wait_for_text("header", "Signed in as alice", ACTION_TIMEOUT)
        .await;
    let revoked = app.audit_actions().await;
    assert_eq!(revoked.iter().filter(|a| *a == "session.revoke").count(), 1);

    // Ending its own session signs the laptop out.
    laptop.goto(&format!("{}/settings/sessions", app.base)).await;
    laptop.click_button("Sign out here (session 1)").await;
    laptop
        .wait_for_text("[role=status]", "You are signed out.", ACTION_TIMEOUT)
        .await;
    assert_eq!(laptop.path().await, "/login?signed_out=1");
    assert!(laptop.cookie("cordon_session").await.is_none());
    laptop.goto(&format!("{}/settings/sessions", app.base)).await;
    assert!(
        laptop.path().await.starts_with("/login?next="),
        "{}",
        laptop.url().await
    );
    let (_, left) = app.get("/api/v1/users/alice/sessions", &app.admin).await;
    assert_eq!(left.as_array().unwrap().len(), 0, "{left}");
    for page in [&laptop, &phone] {
        let errors = page.console_errors().await;
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[tokio::test]
async fn a_session_form_without_the_csrf_token_is_refused() {
    let Some(browser) = browser::shared() else { return };
    let app = crate::common::spawn_app().await;
    let secret = account(&app, "alice", &[]).await;
    let page = browser.page().await;
    sign_in(&page, &app, "alice", &secret).await;
    let cookie = page.cookie("cordon_session").await.expect("a session cookie");
    let (_, list) = app.get("/api/v1/users/alice/sessions", &app.admin).await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .post(format!("{}/settings/sessions/end", app.base))
        .header("Cookie", format!("cordon_session={}", cookie.value))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("session={id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    page.goto(&format!("{}/settings/sessions", app.base)).await;
    assert_eq!(page.path().await, "/settings/sessions", "still signed in");
}

#[tokio::test]
async fn the_language_link_on_the_sign_in_page_keeps_where_the_browser_was_going() {
    let Some(browser) = browser::shared() else { return };
    let app = crate::common::spawn_app().await;
    let secret = account(&app, "alice", &["security"]).await;
    let incident = app
        .declare(&app.admin, "Payroll export copied to an unknown host", "security")
        .await;
    let key = incident["slug"].as_str().unwrap().to_owned();
    let next = format!("/incidents/{key}");

    let page = browser.page().await;
    // Signed out at a war room's address: sent to sign in, with where it was going.
    assert_eq!(page.goto(&format!("{}{next}", app.base)).await, Some(200));
    assert_eq!(page.text("h1").await, "Sign in");
    page.click_link("日本語").await;
    page.wait_for_text("h1", "ログイン", ACTION_TIMEOUT).await;
    assert_eq!(page.attribute("html", "lang").await.as_deref(), Some("ja"));
    let at = page.path().await;
    assert!(at.starts_with("/login?"), "{at}");
    assert!(at.contains("lang=ja"), "{at}");
    assert_eq!(
        page.attribute("input[name=next]", "value").await.as_deref(),
        Some(next.as_str()),
        "{at}"
    );
    page.assert_accessible().await;
    // And back to English keeps it too, with one `lang`.
    page.click_link("English").await;
    page.wait_for_text("h1", "Sign in", ACTION_TIMEOUT).await;
    let at = page.path().await;
    assert_eq!(at.matches("lang=").count(), 1, "{at}");
    page.click_link("日本語").await;
    page.wait_for_text("h1", "ログイン", ACTION_TIMEOUT).await;

    submit_sign_in(&page, "alice", &next_code(&app, &secret)).await;
    page.wait_for_text("h1", incident["codename"].as_str().unwrap(), LIVE)
        .await;
    assert_eq!(page.path().await, next);
}

#[tokio::test]
async fn an_open_war_room_whose_session_is_ended_goes_to_sign_in_at_the_next_change() {
    let Some(browser) = browser::shared() else { return };
    let app = crate::common::spawn_app().await;
    let token = app.user("alice", &["security"]).await;
    let secret = app.break_glass("alice").await;
    let (laptop, phone) = (browser.page().await, browser.page().await);
    sign_in(&laptop, &app, "alice", &secret).await;
    sign_in(&phone, &app, "alice", &secret).await;
    let key = app.declare(&token, "Odd sudo activity", "security").await["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let room = format!("/incidents/{key}");
    assert_eq!(phone.goto(&format!("{}{room}", app.base)).await, Some(200));
    // The room is live before the session ends.
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{key}/tasks/1"),
            &token,
            serde_json::json!({ "status": "in_progress" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    phone.wait_for_text("#step-1 .badge", "In progress", LIVE).await;

    // The laptop ends the phone's session; the next change reaches nobody on the phone: its
    // stream ends, and the page goes to sign in (coming back to the room), rather than showing
    // the sign-in form inside the board.
    assert_eq!(laptop.goto(&format!("{}/settings/sessions", app.base)).await, Some(200));
    let row = laptop.attribute("tr.other", "id").await.expect("the row's id");
    let n = row.trim_start_matches("session-");
    laptop.click_button(&format!("End session (session {n})")).await;
    laptop
        .wait_for_text("[role=status]", "The session is ended", ACTION_TIMEOUT)
        .await;
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{key}/tasks/1"),
            &token,
            serde_json::json!({ "status": "done" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // The stream ends at the change, and the browser's reconnection (a few seconds later) is
    // refused.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let want = format!("/login?next=%2Fincidents%2F{key}");
    loop {
        let path = phone.path().await;
        if path == want || path == format!("/login?next=/incidents/{key}") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still at {path}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(phone.count("form[action='/login']").await, 1);
    assert_eq!(phone.count("#war-room").await, 0);
}

#[tokio::test]
async fn an_admin_looks_up_another_users_sessions_in_both_languages() {
    let Some(browser) = browser::shared() else { return };
    let app = crate::common::spawn_app().await;
    let alice = account(&app, "alice", &[]).await;
    let admin = app.break_glass("admin").await;
    let (alices, en, ja) = (browser.page().await, browser.page().await, browser.page_in("ja").await);
    sign_in(&alices, &app, "alice", &alice).await;
    sign_in(&en, &app, "admin", &admin).await;
    sign_in(&ja, &app, "admin", &admin).await;
    for (page, label, button, heading) in [
        (&en, "Another user (admins)", "Show their sessions", "Sessions of alice"),
        (
            &ja,
            "他のユーザー（管理者のみ）",
            "セッションを表示",
            "alice のログイン中のセッション",
        ),
    ] {
        assert_eq!(page.goto(&format!("{}/settings/sessions", app.base)).await, Some(200));
        page.fill_label(label, "alice").await;
        page.click_button(button).await;
        page.wait_for_text("h1", heading, ACTION_TIMEOUT).await;
        assert_eq!(page.count("tbody tr").await, 1);
        assert_eq!(page.count("tr.current").await, 0, "none of alice's is this browser");
        page.assert_accessible().await;
    }
}
