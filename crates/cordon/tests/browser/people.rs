//! People signed in to the browser tests' pages: a user made through the admin API with a
//! break-glass password and TOTP, signed in at `/login` the way a person does (fields by the
//! names the form posts, so it works in either language).

use crate::common::browser::{ACTION_TIMEOUT, Browser, Page};
use crate::common::{BREAK_GLASS_PASSWORD as PASSWORD, TestApp};
use cordon_service::totp;

/// Someone with an API token and a signed-in browser page in `lang`.
pub struct Person {
    pub token: String,
    pub page: Page,
}

/// Makes the user `name` (in `groups`), gives them a password and TOTP, and signs them in
/// in a browser page in `lang`; they land on `/`.
pub async fn sign_in(browser: &'static Browser, app: &TestApp, name: &str, groups: &[&str], lang: &str) -> Person {
    let token = app.user(name, groups).await;
    let secret = app.break_glass(name).await;
    let code = {
        use cordon_core::clock::Clock;
        totp::code(&secret, totp::step_at(app.clock.now().as_second()))
    };
    let page = browser.page_in(lang).await;
    assert_eq!(page.goto(&format!("{}/login", app.base)).await, Some(200));
    page.fill_name("username", name).await;
    page.fill_name("password", PASSWORD).await;
    page.fill_name("totp", &code).await;
    page.click("form[action='/login'] button[type=submit]").await;
    page.wait_for_text("header", name, ACTION_TIMEOUT).await;
    assert_eq!(page.path().await, "/");
    Person { token, page }
}
