//! Signing in with the identity provider in real Chromium (issue 15): the real OIDC provider
//! the HTTP tests use (`common::oidc::OidcProvider`, PyPI's `oidc-provider-mock`) started per
//! test; the browser opens `/login?next=<a war room>`, presses the SSO button, completes the
//! provider's own authorize page and lands signed in at `next`, the user provisioned with the
//! provider's groups. A user disabled in Cordon is refused with the refusal page, in Japanese
//! for a Japanese browser; when an admin turns OIDC sign-in off, the sign-in page no longer
//! offers it and the start address answers the refusal page. axe-core on the sign-in page and
//! the refusal pages.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::browser::{self, ACTION_TIMEOUT, LIVE, Page};
use crate::common::oidc::{Browser as HttpBrowser, OidcProvider, alice_claims, app_for};

const TITLE: &str = "Payroll export copied to an unknown host";
/// The SSO button on `/login`, in each language.
const SSO_EN: &str = "Sign in with your organisation's identity provider";
const SSO_JA: &str = "組織のシングルサインオン（SSO）でログイン";

/// Console errors less failed resource loads: the provider's page asks a CDN for its style
/// sheet (there is no network here), and a refusal answers 4xx on purpose. A CSP violation or
/// a script error still counts.
async fn unexpected_errors(page: &Page) -> Vec<String> {
    page.console_errors()
        .await
        .into_iter()
        .filter(|e| !e.starts_with("Failed to load resource"))
        .collect()
}

/// At the provider's authorize page (reached from the SSO button), authorizes as `sub` the way
/// a person does: types the subject and presses Authorize.
async fn authorize_at_provider(page: &Page, idp: &OidcProvider, sub: &str) {
    page.wait_for_text("h1", "Authorize Client", LIVE * 5).await;
    let url = page.url().await;
    assert!(url.starts_with(&format!("{}/oauth2/authorize?", idp.issuer)), "{url}");
    page.fill_label("Subject", sub).await;
    page.click_button("Authorize").await;
}

#[tokio::test]
async fn sso_sign_in_lands_at_next_in_the_war_room_with_the_providers_groups() {
    let Some(browser) = browser::shared() else { return };
    let idp = OidcProvider::start(&[alice_claims(&["security", "Not A Group!"])]).await;
    let app = app_for(&idp.issuer, |_| {}).await;
    let incident = app.declare(&app.admin, TITLE, "security").await;
    let key = incident["slug"].as_str().unwrap().to_owned();
    let codename = incident["codename"].as_str().unwrap().to_owned();
    let (st, _) = app.get("/api/v1/users/alice", &app.admin).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "alice is not a user yet");

    let page = browser.page().await;
    let next = format!("/incidents/{key}");
    let status = page.goto(&format!("{}/login?next={next}", app.base)).await;
    assert_eq!(status, Some(200));
    assert_eq!(page.text("h1").await, "Sign in");
    page.assert_accessible().await;
    page.click_link(SSO_EN).await;
    authorize_at_provider(&page, &idp, "alice-sub").await;

    // Back at Cordon, signed in, in the war room of the sealed incident her group may see.
    page.wait_for_text("h1", &codename, LIVE * 5).await;
    assert_eq!(page.path().await, next);
    page.wait_for_text("header", "Signed in as alice", ACTION_TIMEOUT).await;
    page.wait_for_text("#part-board h2", "Checklist", LIVE).await;
    assert_eq!(page.title().await, format!("{codename} · Cordon"));
    page.assert_accessible().await;
    // The binding cookie is gone; the session cookie is HttpOnly.
    assert!(page.cookie("cordon_oidc").await.is_none());
    let session = page.cookie("cordon_session").await.expect("a session cookie");
    assert!(session.http_only, "{session:?}");

    // Provisioned with the provider's groups (the one that is no group name dropped).
    let (st, user) = app.get("/api/v1/users/alice", &app.admin).await;
    assert_eq!(st, StatusCode::OK, "{user}");
    assert_eq!(user["groups"], json!(["security"]));
    let (_, sessions) = app.get("/api/v1/users/alice/sessions", &app.admin).await;
    assert_eq!(sessions[0]["method"], "oidc", "{sessions}");
    let errors = unexpected_errors(&page).await;
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn a_user_disabled_in_cordon_is_refused_in_the_browsers_language() {
    let Some(browser) = browser::shared() else { return };
    let idp = OidcProvider::start(&[alice_claims(&["security"])]).await;
    let app = app_for(&idp.issuer, |_| {}).await;
    // Alice signed in once (provisioned), then an admin disabled her in Cordon.
    let first = HttpBrowser::new().sign_in(&app.base, "alice-sub", "/").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let (st, v) = app.post("/api/v1/users/alice/disable", &app.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // In a Japanese browser the provider still vouches for her; Cordon refuses, in Japanese.
    let page = browser.page_in("ja").await;
    assert_eq!(page.goto(&format!("{}/login", app.base)).await, Some(200));
    assert_eq!(page.attribute("html", "lang").await.as_deref(), Some("ja"));
    page.assert_accessible().await;
    page.click_link(SSO_JA).await;
    authorize_at_provider(&page, &idp, "alice-sub").await;
    page.wait_for_text("h1", "ログインできません", LIVE * 5).await;
    assert_eq!(page.attribute("html", "lang").await.as_deref(), Some("ja"));
    page.wait_for_text("main", "アカウントが無効化されています", LIVE).await;
    assert!(
        page.path().await.starts_with("/auth/oidc/callback"),
        "{}",
        page.url().await
    );
    assert_eq!(page.title().await, "ログインできません · Cordon");
    page.assert_accessible().await;
    assert!(page.cookie("cordon_session").await.is_none(), "no session");
    // The page leads back to the sign-in page.
    page.click_link("ログインページに戻る").await;
    page.wait_for_text("h1", "ログイン", ACTION_TIMEOUT).await;
    assert_eq!(page.path().await, "/login");
    let errors = unexpected_errors(&page).await;
    assert!(errors.is_empty(), "{errors:?}");

    let (st, v) = app.get("/api/v1/audit?limit=10000", &app.admin).await;
    assert_eq!(st, StatusCode::OK);
    let refusals: Vec<&Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "auth.oidc.sign_in.refused")
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(refusals[0]["payload"].to_string().contains("user_disabled"));
}

#[tokio::test]
async fn when_an_admin_turns_oidc_off_the_sign_in_page_no_longer_offers_it() {
    let Some(browser) = browser::shared() else { return };
    let idp = OidcProvider::start(&[alice_claims(&["security"])]).await;
    let app = app_for(&idp.issuer, |_| {}).await;
    let (en, ja) = (browser.page().await, browser.page_in("ja").await);
    for page in [&en, &ja] {
        assert_eq!(page.goto(&format!("{}/login", app.base)).await, Some(200));
        assert_eq!(page.count("#oidc-start").await, 1, "offered while on");
    }
    let (st, v) = app.post("/api/v1/auth/oidc/disable", &app.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    for (page, title) in [
        (&en, "Sign-in with the identity provider is turned off"),
        (&ja, "SSO によるログインは停止されています"),
    ] {
        assert_eq!(page.goto(&format!("{}/login", app.base)).await, Some(200));
        assert_eq!(page.count("#oidc-start").await, 0, "no longer offered");
        assert_eq!(
            page.count("form[action='/login'] #username").await,
            1,
            "break-glass stays"
        );
        page.assert_accessible().await;
        // A bookmarked start address answers the refusal page, in the browser's language.
        let started = page.goto(&format!("{}/auth/oidc/start?next=/", app.base)).await;
        assert_eq!(started, Some(403));
        assert_eq!(page.text("h1").await, title);
        page.assert_accessible().await;
        let errors = unexpected_errors(page).await;
        assert!(errors.is_empty(), "{errors:?}");
    }
    assert_eq!(en.count("a[href='/login']").await, 1, "a way back to sign in");
}
