//! Signing in from a browser (issue 15), black-box: the real server on port 0, a cookie-holding
//! HTTP client for the browser, the manual clock for time, the real `cordon` binary for the
//! CLI. Break-glass accounts (password and TOTP, set through the admin API and CLI), refusals
//! and their audit entries, rate limits per account and per address, session timeouts,
//! signing out, revocation by the owner and an admin, CSRF on every change made with the
//! cookie, bearer tokens unchanged, the security headers, and the sign-in page in English and
//! Japanese.

mod common;

use std::process::Stdio;

use common::BREAK_GLASS_PASSWORD as PASSWORD;
use common::{TestApp, spawn_app, spawn_app_with};
use cordon_service::totp;
use jiff::SignedDuration;
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Client, StatusCode, redirect};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// A browser: keeps cookies, does not follow redirects (the tests look at them).
fn browser() -> Client {
    let mut headers = HeaderMap::new();
    headers.insert("accept", "text/html,application/xhtml+xml,*/*;q=0.8".parse().unwrap());
    Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// A break-glass account: a user with a password and TOTP; returns the TOTP secret.
async fn account(app: &TestApp, name: &str, groups: &[&str]) -> Vec<u8> {
    app.user(name, groups).await;
    app.break_glass(name).await
}

/// The code for the app's clock now.
fn code_now(app: &TestApp, secret: &[u8]) -> String {
    use cordon_core::clock::Clock;
    totp::code(secret, totp::step_at(app.clock.now().as_second()))
}

/// Moves the clock to the next TOTP step, so a fresh code exists.
fn next_step(app: &TestApp) {
    app.clock.advance(SignedDuration::from_secs(30));
}

async fn sign_in_with(
    app: &TestApp,
    b: &Client,
    user: &str,
    password: &str,
    totp: &str,
    next: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("username", user), ("password", password), ("totp", totp)];
    if let Some(n) = next {
        form.push(("next", n));
    }
    b.post(format!("{}/login", app.base)).form(&form).send().await.unwrap()
}

/// Signs `b` in as `user` with a fresh code; returns the session cookie's value.
async fn sign_in(app: &TestApp, b: &Client, user: &str, secret: &[u8]) -> String {
    next_step(app);
    let res = sign_in_with(app, b, user, PASSWORD, &code_now(app, secret), None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/");
    session_cookie(res.headers()).expect("a session cookie")
}

fn session_cookie(h: &HeaderMap) -> Option<String> {
    h.get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("cordon_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

async fn get_page(app: &TestApp, b: &Client, path: &str) -> (StatusCode, HeaderMap, String) {
    let res = b.get(format!("{}{path}", app.base)).send().await.unwrap();
    let (st, h) = (res.status(), res.headers().clone());
    (st, h, res.text().await.unwrap())
}

/// The session's CSRF token, as pages carry it.
async fn csrf(app: &TestApp, b: &Client) -> String {
    let (st, _, html) = get_page(app, b, "/").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let (_, rest) = html
        .split_once("name=\"csrf-token\" content=\"")
        .expect("the csrf meta tag");
    let token = rest.split('"').next().unwrap().to_owned();
    assert_eq!(token.len(), 64, "{token}");
    token
}

/// The audit entries with `action`, oldest first.
async fn audited(app: &TestApp, action: &str) -> Vec<Value> {
    let (st, v) = app
        .get(&format!("/api/v1/audit?action={action}&limit=1000"), &app.admin)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

fn reasons(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["payload"]["reason"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn assert_security_headers(h: &HeaderMap) {
    let csp = h["content-security-policy"].to_str().unwrap();
    assert_eq!(
        csp,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
}

#[tokio::test]
async fn break_glass_sign_in_needs_password_and_totp_and_opens_a_session() {
    let app = spawn_app().await;
    let olga = app.user("olga", &["security"]).await;
    app.declare(&olga, "Deploy key pushed to a public repo", "security")
        .await;

    // A password alone signs nobody in: break-glass needs TOTP too.
    let (st, _) = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/users/olga/password",
            Some(&app.admin),
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let b = browser();
    let res = sign_in_with(&app, &b, "olga", PASSWORD, "123456", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(res.headers()).is_none());
    assert_eq!(
        reasons(&audited(&app, "auth.signin.refused").await),
        ["totp_not_enrolled"]
    );

    // Short passwords and non-admins are refused.
    let (st, v) = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/users/olga/password",
            Some(&app.admin),
            Some(json!({ "password": "short" })),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, _) = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/users/olga/password",
            Some(&olga),
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = app.post("/api/v1/users/olga/totp", &olga, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // With TOTP enrolled: the sign-in page, then a session.
    let (_, v) = app.post("/api/v1/users/olga/totp", &app.admin, json!({})).await;
    let secret = common::base32_decode(v["secret"].as_str().unwrap());
    let (st, h, html) = get_page(&app, &b, "/login").await;
    assert_eq!(st, StatusCode::OK);
    assert_security_headers(&h);
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    for field in [
        r#"name="username""#,
        r#"name="password""#,
        r#"name="totp""#,
        r#"action="/login""#,
    ] {
        assert!(html.contains(field), "{field} in {html}");
    }
    assert!(!html.contains("/auth/oidc/start"), "no OIDC button without a provider");
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline script or style"
    );

    next_step(&app);
    let res = sign_in_with(
        &app,
        &b,
        "olga",
        PASSWORD,
        &code_now(&app, &secret),
        Some("//evil.example/"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/", "only a path on this site is followed");
    let set = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attr in ["cordon_session=", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert!(!set.contains("Secure"), "plain http: no Secure");

    // The shell: who is signed in, the incidents they may see (codename, never the title).
    let (st, h, html) = get_page(&app, &b, "/").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert_security_headers(&h);
    assert_eq!(h["cache-control"], "no-store");
    assert!(html.contains("Signed in as olga"), "{html}");
    assert!(html.contains(r#"action="/logout""#));
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(
        html.contains(r##"href="#main""##) && html.contains(r#"<main id="main""#),
        "skip link"
    );
    assert!(
        !html.contains("Deploy key pushed"),
        "no incident title on the list page"
    );
    let (_, list) = app.get("/api/v1/incidents", &olga).await;
    let codename = list[0]["codename"].as_str().unwrap();
    assert!(html.contains(codename), "{codename} in {html}");

    // The JSON API takes the cookie too.
    let me: Value = b
        .get(format!("{}/api/v1/me", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "olga");

    // A safe `next` is followed.
    let b2 = browser();
    next_step(&app);
    let res = sign_in_with(&app, &b2, "olga", PASSWORD, &code_now(&app, &secret), Some("/settings")).await;
    assert_eq!(res.headers()["location"], "/settings");
    // Pages need a session: the browser is sent to the sign-in page and back.
    let (st, h, _) = get_page(&app, &browser(), "/settings?x=1").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/login?next=/settings%3Fx%3D1");

    let signins = audited(&app, "auth.signin").await;
    assert_eq!(signins.len(), 2);
    assert_eq!(signins[0]["actor"], "olga");
    assert_eq!(signins[0]["payload"]["method"], "password");
    assert_eq!(signins[0]["payload"]["address"], "127.0.0.1");
    assert!(app.audit_verify().await["ok"] == true);
}

#[tokio::test]
async fn wrong_password_wrong_code_replayed_code_and_disabled_users_are_refused_and_audited() {
    let app = spawn_app().await;
    let secret = account(&app, "olga", &[]).await;
    let b = browser();

    next_step(&app);
    let code = code_now(&app, &secret);
    let res = sign_in_with(&app, &b, "olga", "not the password at all", &code, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("The user name, password or one-time code is wrong."),
        "{html}"
    );
    assert!(html.contains(r#"value="olga""#), "the name stays filled in");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = sign_in_with(&app, &b, "olga", PASSWORD, wrong, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = sign_in_with(&app, &b, "nobody", PASSWORD, &code, None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A code is used once: a second sign-in with it in the same window is refused.
    let first = sign_in_with(&app, &b, "olga", PASSWORD, &code, None).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let other = browser();
    let replay = sign_in_with(&app, &other, "olga", PASSWORD, &code, None).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    // The previous window's code is refused too once a later one was used.
    app.clock.advance(SignedDuration::from_secs(30));
    let old = sign_in_with(&app, &other, "olga", PASSWORD, &code, None).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);

    // A disabled user's session ends at once, and they cannot sign in again.
    let (st, _, _) = get_page(&app, &b, "/").await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = app.post("/api/v1/users/olga/disable", &app.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["ended_sessions"], 1);
    let (st, h, _) = get_page(&app, &b, "/").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/login");
    next_step(&app);
    let res = sign_in_with(&app, &other, "olga", PASSWORD, &code_now(&app, &secret), None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let refused = audited(&app, "auth.signin.refused").await;
    assert_eq!(
        reasons(&refused),
        [
            "wrong_password",
            "wrong_totp",
            "unknown_user",
            "totp_replayed",
            "totp_replayed",
            "disabled"
        ]
    );
    assert_eq!(refused[0]["subject"], "user:olga");
    assert_eq!(refused[0]["payload"]["username"], "olga");
    assert_eq!(refused[2]["subject"], "signin");
    let (_, log) = app.get("/api/v1/audit?limit=10000", &app.admin).await;
    let log = log.to_string();
    assert!(
        !log.contains(PASSWORD) && !log.contains("not the password"),
        "no password in the audit log"
    );
    assert!(
        !log.contains(&base32_decode_str(&secret)),
        "no TOTP secret in the audit log"
    );
}

fn base32_decode_str(secret: &[u8]) -> String {
    totp::base32(secret)
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited_per_account() {
    let app = spawn_app().await;
    let secret = account(&app, "olga", &[]).await;
    let b = browser();
    for _ in 0..5 {
        let res = sign_in_with(&app, &b, "olga", "wrong password here", "000000", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right password and code are refused, for this account only.
    for _ in 0..3 {
        next_step(&app);
        let res = sign_in_with(&app, &b, "olga", PASSWORD, &code_now(&app, &secret), None).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.text().await.unwrap().contains("Too many failed sign-ins"));
    }
    let ivan = account(&app, "ivan", &[]).await;
    sign_in(&app, &browser(), "ivan", &ivan).await;
    let refused = reasons(&audited(&app, "auth.signin.refused").await);
    assert_eq!(
        refused.iter().filter(|r| *r == "rate_limited").count(),
        1,
        "audited once per window: {refused:?}"
    );
    assert_eq!(refused.iter().filter(|r| *r == "wrong_password").count(), 5);

    // Once the failures age out of the window, the account signs in again.
    app.clock.advance(SignedDuration::from_mins(16));
    sign_in(&app, &b, "olga", &secret).await;
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited_per_address() {
    let app = spawn_app().await;
    let secret = account(&app, "olga", &[]).await;
    let b = browser();
    // Twenty failures from this address, each for another account name.
    for i in 0..20 {
        let res = sign_in_with(&app, &b, &format!("guess{i}"), "wrong password here", "000000", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    next_step(&app);
    let res = sign_in_with(&app, &b, "olga", PASSWORD, &code_now(&app, &secret), None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the address is resting");
    app.clock.advance(SignedDuration::from_mins(16));
    sign_in(&app, &b, "olga", &secret).await;
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_absolute_end() {
    let app = spawn_app_with(|c| {
        c.session_idle = SignedDuration::from_mins(30);
        c.session_max = SignedDuration::from_mins(90);
    })
    .await;
    let secret = account(&app, "olga", &[]).await;
    let b = browser();
    sign_in(&app, &b, "olga", &secret).await;
    // Used every 25 minutes, it lives on; each use is remembered.
    for _ in 0..3 {
        app.clock.advance(SignedDuration::from_mins(25));
        let (st, _, _) = get_page(&app, &b, "/").await;
        assert_eq!(st, StatusCode::OK);
    }
    // 75 minutes in; 90 is the absolute end, however busy.
    app.clock.advance(SignedDuration::from_mins(15));
    let (st, h, _) = get_page(&app, &b, "/").await;
    assert_eq!(st, StatusCode::SEE_OTHER, "absolute end");
    assert_eq!(h["location"], "/login");

    // Idle: 31 minutes without a request.
    sign_in(&app, &b, "olga", &secret).await;
    app.clock.advance(SignedDuration::from_mins(29));
    assert_eq!(get_page(&app, &b, "/").await.0, StatusCode::OK);
    app.clock.advance(SignedDuration::from_mins(31));
    assert_eq!(get_page(&app, &b, "/").await.0, StatusCode::SEE_OTHER, "idle");
    let st = b.get(format!("{}/api/v1/me", app.base)).send().await.unwrap().status();
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the API refuses it too");
}

#[tokio::test]
async fn signing_out_ends_the_session_and_needs_the_csrf_token() {
    let app = spawn_app().await;
    let secret = account(&app, "olga", &[]).await;
    let b = browser();
    let cookie = sign_in(&app, &b, "olga", &secret).await;
    let token = csrf(&app, &b).await;

    // Without the token (another site's form could post this): refused, still signed in.
    let res = b
        .post(format!("{}/logout", app.base))
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_security_headers(res.headers());
    assert!(res.text().await.unwrap().contains("Request refused"));
    assert_eq!(get_page(&app, &b, "/").await.0, StatusCode::OK);

    let res = b
        .post(format!("{}/logout", app.base))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{token} {}",
        res.text().await.unwrap()
    );
    assert_eq!(res.headers()["location"], "/login?signed_out=1");
    assert!(res.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    // Ended on the server: the old cookie no longer works even if a browser kept it.
    let res = Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", format!("cordon_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (_, _, html) = get_page(&app, &b, "/login?signed_out=1").await;
    assert!(html.contains("You are signed out."));
    let ends = audited(&app, "session.end").await;
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0]["payload"]["reason"], "signed out");
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_by_their_owner_and_by_an_admin() {
    let app = spawn_app().await;
    let secret = account(&app, "olga", &[]).await;
    let ivan = app.user("ivan", &[]).await;
    let (laptop, phone) = (browser(), browser());
    sign_in(&app, &laptop, "olga", &secret).await;
    sign_in(&app, &phone, "olga", &secret).await;

    let mine: Value = laptop
        .get(format!("{}/api/v1/sessions", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine.iter().filter(|s| s["current"] == true).count(), 1);
    let laptop_id = mine.iter().find(|s| s["current"] == true).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let phone_id = mine.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        mine.iter()
            .all(|s| s["method"] == "password" && s["address"] == "127.0.0.1")
    );
    assert!(
        !serde_json::to_string(&mine).unwrap().contains("token"),
        "never a token"
    );

    // Others' sessions: not for ivan.
    let (st, _) = app.get("/api/v1/users/olga/sessions", &ivan).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/sessions/{phone_id}"),
            Some(&ivan),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The admin lists them from the CLI and revokes the phone's by a prefix of its id.
    let out = common::run_cli(&app.base, &app.admin, &["session", "list", "--user", "olga"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&laptop_id) && out.stdout.contains(&phone_id),
        "{}",
        out.stdout
    );
    let out = common::run_cli(&app.base, &app.admin, &["session", "revoke", &phone_id[..13]]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("ended session {phone_id} of olga")),
        "{}",
        out.stdout
    );
    let (st, h, _) = get_page(&app, &phone, "/").await;
    assert_eq!((st, h["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));
    assert_eq!(
        get_page(&app, &laptop, "/").await.0,
        StatusCode::OK,
        "the other session stays"
    );

    // The owner ends their own from the page's script (cookie + CSRF header).
    let token = csrf(&app, &laptop).await;
    let res = laptop
        .delete(format!("{}/api/v1/sessions/{laptop_id}", app.base))
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["end_reason"], "revoked by its owner");
    assert_eq!(get_page(&app, &laptop, "/").await.0, StatusCode::SEE_OTHER);
    let revoked = audited(&app, "session.revoke").await;
    assert_eq!(revoked.len(), 2);
    assert_eq!(revoked[0]["actor"], "admin");
    assert_eq!(revoked[0]["payload"]["reason"], "revoked by admin");
}

#[tokio::test]
async fn changes_made_with_the_cookie_need_the_csrf_token_and_bearer_tokens_work_unchanged() {
    let app = spawn_app().await;
    let secret = account(&app, "olga", &["security"]).await;
    let b = browser();
    sign_in(&app, &b, "olga", &secret).await;
    let token = csrf(&app, &b).await;
    let url = format!("{}/api/v1/incidents", app.base);
    let body = json!({ "title": "Phishing wave", "kind": "security", "severity": "SEV-3" });

    // Reading needs no token; changing does.
    assert_eq!(b.get(&url).send().await.unwrap().status(), StatusCode::OK);
    let res = b.post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["code"], "csrf_refused");
    let res = b
        .post(&url)
        .header("x-csrf-token", "0".repeat(64))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "another session's or a made-up token"
    );
    // With it, from this site: done.
    let res = b
        .post(&url)
        .header("x-csrf-token", &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Even with the token, a request the browser marks as coming from another site is refused.
    for (h, v) in [("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")] {
        let res = b
            .post(&url)
            .header("x-csrf-token", &token)
            .header(h, v)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{h}: {v}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["code"], "cross_site_refused");
    }
    let res = b
        .post(&url)
        .header("x-csrf-token", &token)
        .header("origin", app.base.clone())
        .header("sec-fetch-site", "same-origin")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "same origin");

    // Forms carry it in `_csrf`: the settings form, refused without, saved with.
    let res = b
        .post(format!("{}/settings", app.base))
        .form(&[("locale", "ja")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = b
        .post(format!("{}/settings", app.base))
        .form(&[("_csrf", token.as_str()), ("locale", "ja"), ("time_zone", "Asia/Tokyo")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, _, html) = get_page(&app, &b, "/").await;
    assert!(html.contains(r#"<html lang="ja">"#), "the user's language");
    assert!(html.contains("インシデント一覧"));
    assert!(
        html.contains("2026年11月27日") && html.contains("JST"),
        "dates in the user's zone: {html}"
    );
    // And through the API: PATCH /api/v1/me.
    let res = b
        .patch(format!("{}/api/v1/me", app.base))
        .header("x-csrf-token", &token)
        .json(&json!({ "locale": "en", "time_zone": "Europe/London" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v, json!({ "locale": "en", "time_zone": "Europe/London" }));
    let res = b
        .patch(format!("{}/api/v1/me", app.base))
        .header("x-csrf-token", &token)
        .json(&json!({ "time_zone": "Mars/Olympus" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Bearer tokens: unchanged, no CSRF token needed, and a stray cookie does not matter.
    let olga = app.post("/api/v1/users/olga/tokens", &app.admin, json!({})).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = Client::new()
        .post(&url)
        .bearer_auth(&olga)
        .header("cookie", "cordon_session=deadbeef")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let (st, v) = app.get("/api/v1/me", &olga).await;
    assert_eq!((st, v["name"].as_str()), (StatusCode::OK, Some("olga")));
    let (st, _) = app.get("/api/v1/me", "cordon_not_a_token").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_sign_in_page_speaks_english_and_japanese_and_unknown_pages_are_not_found() {
    let mut app = spawn_app().await;
    let get = |lang: Option<&'static str>, path: &'static str| {
        let base = app.base.clone();
        async move {
            let mut req = Client::new().get(format!("{base}{path}")).header("accept", "text/html");
            if let Some(l) = lang {
                req = req.header("accept-language", l);
            }
            let res = req.send().await.unwrap();
            let (st, h) = (res.status(), res.headers().clone());
            (st, h, res.text().await.unwrap())
        }
    };
    let (st, _, en) = get(Some("en-GB,en;q=0.9"), "/login").await;
    assert_eq!(st, StatusCode::OK);
    assert!(en.contains(r#"<html lang="en">"#) && en.contains("<h1>Sign in</h1>") && en.contains("One-time code"));
    let (_, _, ja) = get(Some("ja-JP,ja;q=0.9,en;q=0.8"), "/login").await;
    assert!(ja.contains(r#"<html lang="ja">"#), "{ja}");
    assert!(
        ja.contains("<h1>ログイン</h1>")
            && ja.contains("ワンタイムパスワード")
            && ja.contains("緊急用ローカルアカウント")
    );
    assert!(!ja.contains("One-time code"));
    let (_, _, default) = get(None, "/login").await;
    assert!(default.contains(r#"<html lang="en">"#));
    let (_, _, chosen) = get(Some("en"), "/login?lang=ja").await;
    assert!(chosen.contains(r#"<html lang="ja">"#), "an explicit choice wins");

    // The assets the page names are served, hashed and cached for long.
    let at = en.find("/assets/app.").unwrap();
    let href = &en[at..at + en[at..].find('"').unwrap()];
    assert!(href.ends_with(".css"));
    let res = Client::new().get(format!("{}{href}", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    assert_eq!(get(None, "/assets/app.0000.css").await.0, StatusCode::NOT_FOUND);

    // Unknown pages: the not-found page, the same for every address; the API keeps problems.
    let (st, h, a) = get(Some("ja"), "/no/such/page").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_security_headers(&h);
    assert!(a.contains("ページが見つかりません"));
    let (_, _, b) = get(Some("ja"), "/nothing/here/either").await;
    assert_eq!(a, b, "one body for every address");
    // An incident's address sends a signed-out browser to sign in first, whatever the
    // incident (the war room answers not-found to those signed in who may not see it).
    let (st, _, login) = get(Some("ja"), "/incidents/never-existed").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        login.contains("name=\"totp\"") && login.contains("/incidents/never-existed"),
        "{login}"
    );
    let (st, h, body) = get(None, "/api/v1/no-such-thing").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(h["content-type"], "application/problem+json", "{body}");
    let res = Client::new()
        .get(format!("{}/no/such/page", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "an API client gets a problem"
    );
    app.stop().await;
}

#[tokio::test]
async fn passwords_and_totp_are_set_from_the_command_line() {
    let app = spawn_app().await;
    app.user("olga", &[]).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["user", "password", "olga"])
        .env("CORDON_URL", &app.base)
        .env("CORDON_TOKEN", &app.admin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{PASSWORD}\n").as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("password set for olga; enrol TOTP too"), "{stdout}");

    let out = common::run_cli(&app.base, &app.admin, &["user", "totp", "olga"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let uri = out.stdout.trim();
    assert!(uri.starts_with("otpauth://totp/Cordon:olga?secret="), "{uri}");
    let secret = uri.split("secret=").nth(1).unwrap().split('&').next().unwrap();
    let secret = common::base32_decode(secret);
    // The password from standard input and the enrolled secret sign in.
    sign_in(&app, &browser(), "olga", &secret).await;
    let acts = app.audit_actions().await;
    assert!(acts.contains(&"user.password".to_owned()) && acts.contains(&"user.totp".to_owned()));
}

#[tokio::test]
async fn the_sessions_page_lists_ones_own_sessions_and_ends_them_with_the_csrf_token() {
    let app = spawn_app().await;
    let secret = account(&app, "olga", &[]).await;
    let ivan_secret = account(&app, "ivan", &[]).await;
    let (laptop, phone) = (browser(), browser());
    sign_in(&app, &laptop, "olga", &secret).await;
    sign_in(&app, &phone, "olga", &secret).await;
    let (_, list) = app.get("/api/v1/users/olga/sessions", &app.admin).await;
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    // Newest first: the phone's, then the laptop's.
    let (phone_id, laptop_id) = (ids[0].clone(), ids[1].clone());

    let (st, h, html) = get_page(&app, &laptop, "/settings/sessions").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert_security_headers(&h);
    assert_eq!(h["cache-control"], "no-store");
    assert!(html.contains(&phone_id) && html.contains(&laptop_id), "{html}");
    assert_eq!(html.matches("This browser").count(), 1, "{html}");
    assert_eq!(html.matches("Break-glass account").count(), 2, "{html}");
    assert!(!html.contains("cordon_session"), "never a token");
    let (_, _, settings) = get_page(&app, &laptop, "/settings").await;
    assert!(settings.contains("href=\"/settings/sessions\""), "{settings}");

    // Without the token: refused, nothing ended.
    let end = |b: &Client, form: Vec<(&'static str, String)>| {
        let url = format!("{}/settings/sessions/end", app.base);
        let req = b.post(url).form(&form);
        async move { req.send().await.unwrap() }
    };
    let res = end(&laptop, vec![("session", phone_id.clone())]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(get_page(&app, &phone, "/").await.0, StatusCode::OK);

    // Someone else cannot end olga's session through the page: not found for ivan.
    let other = browser();
    sign_in(&app, &other, "ivan", &ivan_secret).await;
    let token = csrf(&app, &other).await;
    let res = end(&other, vec![("_csrf", token), ("session", phone_id.clone())]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = res.text().await.unwrap();
    assert!(body.contains("That session has ended already."), "{body}");
    assert!(!body.contains(&phone_id), "ivan's own list only: {body}");
    assert_eq!(get_page(&app, &phone, "/").await.0, StatusCode::OK);

    // With it: the phone's session ends; the phone is sent to sign in.
    let token = csrf(&app, &laptop).await;
    let res = end(&laptop, vec![("_csrf", token.clone()), ("session", phone_id.clone())]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/settings/sessions?ended=1");
    let (st, h, _) = get_page(&app, &phone, "/").await;
    assert_eq!((st, h["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));
    let (_, _, html) = get_page(&app, &laptop, "/settings/sessions?ended=1").await;
    assert!(html.contains("The session is ended"), "{html}");
    assert!(!html.contains(&phone_id), "{html}");
    let revoked = audited(&app, "session.revoke").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["payload"]["reason"], "revoked by its owner");

    // Ending the laptop's own session signs it out.
    let res = end(&laptop, vec![("_csrf", token), ("session", laptop_id)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?signed_out=1");
    assert!(res.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let (st, h, _) = get_page(&app, &laptop, "/settings/sessions").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/login?next=/settings/sessions");
}

#[tokio::test]
async fn the_sign_in_pages_language_links_keep_next() {
    let app = spawn_app().await;
    let secret = account(&app, "olga", &[]).await;
    let b = browser();
    let (st, _, html) = get_page(&app, &b, "/login?next=%2Fincidents%2Fx%3Ftab%3Dboard").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains(r#"<a lang="ja" href="/login?next=/incidents/x%3Ftab%3Dboard&#38;lang=ja">"#),
        "{html}"
    );
    // Following it: the page in Japanese, still going to `next`.
    let (_, _, ja) = get_page(&app, &b, "/login?next=/incidents/x%3Ftab%3Dboard&lang=ja").await;
    assert!(ja.contains(r#"<html lang="ja">"#), "{ja}");
    assert!(
        ja.contains(r#"<input type="hidden" name="next" value="/incidents/x?tab=board">"#),
        "{ja}"
    );
    assert!(
        ja.contains(r#"<a lang="en" href="/login?next=/incidents/x%3Ftab%3Dboard&#38;lang=en">"#),
        "{ja}"
    );
    next_step(&app);
    let res = sign_in_with(
        &app,
        &b,
        "olga",
        PASSWORD,
        &code_now(&app, &secret),
        Some("/incidents/x?tab=board"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/incidents/x?tab=board");
}

#[tokio::test]
async fn the_incidents_lists_fragment_shows_only_what_the_user_may_see() {
    let app = spawn_app().await;
    let secret = account(&app, "mallory", &[]).await;
    let sealed = app.declare(&app.admin, "Payroll export copied", "security").await;
    let open = app.declare(&app.admin, "Disk full", "operational").await;
    let b = browser();
    sign_in(&app, &b, "mallory", &secret).await;
    let (st, h, html) = get_page(&app, &b, "/parts/incidents").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert_eq!(h["cache-control"], "no-store");
    assert!(html.contains(open["codename"].as_str().unwrap()), "{html}");
    assert!(!html.contains(sealed["codename"].as_str().unwrap()), "{html}");
    assert!(!html.contains("<header"), "the list alone: {html}");
    let (_, _, closed) = get_page(&app, &b, "/parts/incidents?status=closed").await;
    assert!(!closed.contains(open["codename"].as_str().unwrap()), "{closed}");
    // The page names the fragment with its filters and the user's change stream.
    let (_, _, page) = get_page(&app, &b, "/?status=triage&severity=SEV-2").await;
    assert!(
        page.contains(r#"data-parts="/parts/incidents?status=triage&#38;severity=SEV-2""#),
        "{page}"
    );
    assert!(page.contains(r#"data-events="/api/v1/events""#), "{page}");
    // Signed out: sent to sign in.
    let (st, h, _) = get_page(&app, &browser(), "/parts/incidents").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/login?next=/parts/incidents");
}

/// The address of the list's "older incidents" link, if the page has one.
fn older_link(html: &str) -> Option<String> {
    let at = html.find(r#"<p class="older"><a href=""#)? + r#"<p class="older"><a href=""#.len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].replace("&#38;", "&"))
}

/// The codenames the list shows, in order.
fn listed(html: &str) -> Vec<String> {
    html.split(r#"<td><a href="/incidents/"#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn the_incidents_list_filters_in_the_store_and_pages_back_through_every_incident() {
    let app = spawn_app().await;
    let secret = account(&app, "alice", &["security"]).await;
    // The oldest of 105 is the one SEV-1: a filter finds it, though 104 are newer.
    let mut keys = Vec::new();
    for n in 0..105 {
        let v = app.declare(&app.admin, &format!("incident {n}"), "security").await;
        keys.push(v["slug"].as_str().unwrap().to_owned());
        app.clock.advance(jiff::SignedDuration::from_secs(1));
    }
    let (st, v) = app
        .patch(
            &format!("/api/v1/incidents/{}", keys[0]),
            &app.admin,
            json!({ "severity": "SEV-1" }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let b = browser();
    sign_in(&app, &b, "alice", &secret).await;
    let (_, _, page) = get_page(&app, &b, "/?severity=SEV-1").await;
    assert_eq!(listed(&page), [keys[0].clone()]);
    assert_eq!(older_link(&page), None);

    // Newest first, 100 a page, then the rest behind "Older incidents", each once, filters kept.
    let (_, _, first) = get_page(&app, &b, "/").await;
    let mut seen = listed(&first);
    assert_eq!(seen.len(), 100);
    assert_eq!(seen[0], keys[104]);
    let next = older_link(&first).expect("an older-incidents link");
    assert!(next.starts_with("/?after="), "{next}");
    let (st, _, second) = get_page(&app, &b, &next).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(older_link(&second), None);
    seen.extend(listed(&second));
    let mut want = keys.clone();
    want.reverse();
    assert_eq!(seen, want, "every incident once, newest first");
    // The page's live fragment is the same page.
    let (_, _, fragment) = get_page(&app, &b, &next.replacen("/?", "/parts/incidents?", 1)).await;
    assert_eq!(listed(&fragment), listed(&second));
    // With a filter: 104 SEV-2 in triage, 100 then 4, the link keeping the filter.
    let (_, _, sev2) = get_page(&app, &b, "/?status=triage&severity=SEV-2").await;
    assert_eq!(listed(&sev2).len(), 100);
    let next = older_link(&sev2).unwrap();
    assert!(next.starts_with("/?status=triage&severity=SEV-2&after="), "{next}");
    let (_, _, rest) = get_page(&app, &b, &next).await;
    assert_eq!(listed(&rest).len(), 4);
    // A position that is not one is the first page.
    let (st, _, bad) = get_page(&app, &b, "/?after=zzz").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(listed(&bad), listed(&first));
}

#[tokio::test]
async fn an_oversized_form_is_refused_as_too_large_and_declares_nothing() {
    let app = spawn_app().await;
    let secret = account(&app, "alice", &["security"]).await;
    let b = browser();
    sign_in(&app, &b, "alice", &secret).await;
    let token = csrf(&app, &b).await;
    let res = b
        .post(format!("{}/incidents", app.base))
        .header("origin", &app.base)
        .form(&[("_csrf", token.as_str()), ("title", &"A".repeat(3_000_000))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (_, list) = app.get("/api/v1/incidents", &app.admin).await;
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
}

/// The session ids the sessions page offers to end, in order.
fn session_ids(html: &str) -> Vec<String> {
    html.split(r#"name="session" value=""#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn an_admin_sees_and_ends_another_users_sessions_and_nobody_else_may() {
    let app = spawn_app().await;
    let bob_secret = account(&app, "bob", &[]).await;
    let admin_secret = app.break_glass("admin").await;
    let (bob, admin) = (browser(), browser());
    sign_in(&app, &bob, "bob", &bob_secret).await;
    sign_in(&app, &admin, "admin", &admin_secret).await;

    // Bob may not look at the admin's sessions: the forbidden page, and the refusal audited.
    let (st, _, html) = get_page(&app, &bob, "/settings/sessions?user=admin").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{html}");
    assert!(!html.contains(r#"name="session""#), "{html}");
    assert!(app.audit_actions().await.iter().any(|a| a == "session.list.refused"));
    // His own page offers no other user.
    let (_, _, own) = get_page(&app, &bob, "/settings/sessions").await;
    assert!(!own.contains(r#"id="sessions-user""#), "{own}");

    // The admin finds bob's one session, and ends it; bob is signed out at his next request.
    let (st, _, html) = get_page(&app, &admin, "/settings/sessions").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(r#"id="sessions-user""#), "{html}");
    let (st, _, html) = get_page(&app, &admin, "/settings/sessions?user=bob").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("Sessions of bob"), "{html}");
    let ids = session_ids(&html);
    assert_eq!(ids.len(), 1, "{html}");
    assert!(
        !html.contains("This browser"),
        "the admin's own session is not among bob's"
    );
    let token = csrf(&app, &admin).await;
    let res = admin
        .post(format!("{}/settings/sessions/end", app.base))
        .header("origin", &app.base)
        .form(&[("_csrf", token.as_str()), ("session", ids[0].as_str()), ("user", "bob")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/settings/sessions?user=bob&ended=1");
    let (st, h, _) = get_page(&app, &bob, "/").await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/login");
    let (_, _, html) = get_page(&app, &admin, "/settings/sessions?user=bob&ended=1").await;
    assert!(session_ids(&html).is_empty(), "{html}");
    // The admin is still signed in; an unknown user is not found.
    let (st, _, _) = get_page(&app, &admin, "/settings/sessions?user=nobody-here").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
