//! People signed in to the browser tests' pages: a user made through the admin API with a
//! break-glass password and TOTP, signed in at `/login` the way a person does (fields by the
//! names the form posts, so it works in either language).

use cordon_service::totp;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestApp;
use crate::common::browser::{Browser, LIVE, Page};

pub const PASSWORD: &str = "correct horse battery staple";

/// Someone with an API token and a signed-in browser page in `lang`.
pub struct Person {
    pub token: String,
    pub page: Page,
}

/// Makes the user `name` (in `groups`), gives them a password and TOTP, and signs them in
/// in a browser page in `lang`; they land on `/`.
pub async fn sign_in(browser: &'static Browser, app: &TestApp, name: &str, groups: &[&str], lang: &str) -> Person {
    let token = app.user(name, groups).await;
    let (st, v) = app
        .request(
            Method::PUT,
            &format!("/api/v1/users/{name}/password"),
            Some(&app.admin),
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = app
        .post(&format!("/api/v1/users/{name}/totp"), &app.admin, json!({}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let secret = crate::common::base32_decode(v["secret"].as_str().unwrap());
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
    page.wait_for_text("header", name, LIVE).await;
    assert_eq!(page.path().await, "/");
    Person { token, page }
}
