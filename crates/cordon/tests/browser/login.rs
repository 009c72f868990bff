//! Signing in at `/login` in real Chromium with a break-glass account (password and TOTP), in
//! English and in Japanese at once, two people in two browser contexts that share nothing;
//! `/login` and the page after it without serious or critical accessibility violations in
//! either language; a wrong one-time code refused on the page, in the page's language.

use crate::common::BREAK_GLASS_PASSWORD as PASSWORD;
use crate::common::browser::{self, ACTION_TIMEOUT, Page};
use crate::common::{TestApp, spawn_app};
use cordon_service::totp;
use jiff::SignedDuration;

/// What a person reads on the pages, in one language.
struct Words {
    lang: &'static str,
    sign_in_title: &'static str,
    user_name: &'static str,
    password: &'static str,
    one_time_code: &'static str,
    submit: &'static str,
    incidents: &'static str,
    signed_in_as: fn(&str) -> String,
    failed: &'static str,
}

const ENGLISH: Words = Words {
    lang: "en",
    sign_in_title: "Sign in",
    user_name: "User name",
    password: "Password",
    one_time_code: "One-time code",
    submit: "Sign in",
    incidents: "Incidents",
    signed_in_as: |name| format!("Signed in as {name}"),
    failed: "The user name, password or one-time code is wrong.",
};

const JAPANESE: Words = Words {
    lang: "ja",
    sign_in_title: "ログイン",
    user_name: "ユーザー名",
    password: "パスワード",
    one_time_code: "ワンタイムパスワード",
    submit: "ログイン",
    incidents: "インシデント一覧",
    signed_in_as: |name| format!("{name} としてログイン中"),
    failed: "ユーザー名、パスワード、またはワンタイムパスワードが正しくありません。",
};

/// A break-glass account made through the admin API; returns its TOTP secret.
async fn account(app: &TestApp, name: &str) -> Vec<u8> {
    app.user(name, &["security"]).await;
    app.break_glass(name).await
}

/// The code an authenticator app shows at the server's time.
fn code_now(app: &TestApp, secret: &[u8]) -> String {
    use cordon_core::clock::Clock;
    totp::code(secret, totp::step_at(app.clock.now().as_second()))
}

/// Opens `/login`, checks it speaks `words`' language and passes axe, and fills the form.
async fn fill_sign_in(page: &Page, app: &TestApp, words: &Words, user: &str, code: &str) {
    assert_eq!(page.goto(&format!("{}/login", app.base)).await, Some(200));
    assert_eq!(page.attribute("html", "lang").await.as_deref(), Some(words.lang));
    assert_eq!(page.text("h1").await, words.sign_in_title);
    page.assert_accessible().await;
    page.fill_label(words.user_name, user).await;
    page.fill_label(words.password, PASSWORD).await;
    page.fill_label(words.one_time_code, code).await;
}

/// Signs `user` in as a person reading `words` would, and checks where they land.
async fn sign_in(page: &Page, app: &TestApp, words: &Words, user: &str, code: &str) {
    fill_sign_in(page, app, words, user, code).await;
    page.click_button(words.submit).await;
    page.wait_for_text("h1", words.incidents, ACTION_TIMEOUT).await;
    assert_eq!(page.path().await, "/");
    assert_eq!(page.attribute("html", "lang").await.as_deref(), Some(words.lang));
    page.wait_for_text("header", &(words.signed_in_as)(user), ACTION_TIMEOUT)
        .await;
    page.assert_accessible().await;
    let errors = page.console_errors().await;
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn two_people_sign_in_with_break_glass_accounts_in_english_and_japanese_at_once() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    let alice = account(&app, "alice").await;
    let kenji = account(&app, "kenji").await;
    app.clock.advance(SignedDuration::from_secs(30));
    let (alice_code, kenji_code) = (code_now(&app, &alice), code_now(&app, &kenji));

    let english = browser.page().await;
    let japanese = browser.page_in("ja").await;
    tokio::join!(
        sign_in(&english, &app, &ENGLISH, "alice", &alice_code),
        sign_in(&japanese, &app, &JAPANESE, "kenji", &kenji_code),
    );

    // Each browser holds its own session, in a cookie scripts cannot read.
    let mine = english.cookie("cordon_session").await.expect("alice's session cookie");
    let theirs = japanese.cookie("cordon_session").await.expect("kenji's session cookie");
    assert_ne!(mine.value, theirs.value);
    for cookie in [&mine, &theirs] {
        assert!(cookie.http_only, "{cookie:?}");
        assert_eq!(cookie.same_site, "Lax", "{cookie:?}");
        assert_eq!(cookie.path, "/", "{cookie:?}");
    }
    assert_eq!(english.cookies().await.len(), 1, "{:?}", english.cookies().await);

    // Reloading keeps each signed in as themselves.
    english.goto(&format!("{}/", app.base)).await;
    english
        .wait_for_text("header", "Signed in as alice", ACTION_TIMEOUT)
        .await;
    japanese.goto(&format!("{}/", app.base)).await;
    japanese
        .wait_for_text("header", "kenji としてログイン中", ACTION_TIMEOUT)
        .await;
}

#[tokio::test]
async fn a_wrong_one_time_code_is_refused_on_the_page_in_its_language() {
    let Some(browser) = browser::shared() else { return };
    let app = spawn_app().await;
    account(&app, "alice").await;
    account(&app, "kenji").await;

    let refused = |words: &'static Words, user: &'static str| {
        let app = &app;
        async move {
            let page = browser.page_in(words.lang).await;
            fill_sign_in(&page, app, words, user, "000000").await;
            page.click_button(words.submit).await;
            page.wait_for_text("[role=alert]", words.failed, ACTION_TIMEOUT).await;
            assert!(page.path().await.starts_with("/login"), "{}", page.url().await);
            assert!(page.cookie("cordon_session").await.is_none());
            // The refusal is announced and the form still passes axe.
            page.assert_accessible().await;
        }
    };
    tokio::join!(refused(&ENGLISH, "alice"), refused(&JAPANESE, "kenji"));
}
