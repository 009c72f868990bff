//! OIDC sign-in, black-box: Cordon and a real identity provider (`oidc-provider-mock`) on
//! loopback, and a browser that keeps cookies, follows redirects and submits the provider's
//! authorize form. A first sign-in creates the user with the provider's groups (never linked by
//! e-mail to an existing user); the next one brings the groups in step; a tampered state, a
//! replayed callback, an ID token with a wrong nonce or issuer and a disabled user are refused
//! and audited; the admin switch (API and CLI) and the configuration turn sign-in off.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use common::oidc::{Browser, OidcProvider, alice_claims, app_for, with_param};
use common::{TestApp, run_cli};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The payloads of the audit entries with `action`, oldest first.
async fn audited(app: &TestApp, action: &str) -> Vec<Value> {
    let (st, v) = app.get("/api/v1/audit?limit=10000", &app.admin).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .map(|e| {
            let p = &e["payload"];
            match p {
                Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                other => other.clone(),
            }
        })
        .collect()
}

async fn user(app: &TestApp, name: &str) -> Value {
    let (st, v) = app.get(&format!("/api/v1/users/{name}"), &app.admin).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

async fn user_count(app: &TestApp) -> usize {
    let (st, v) = app.get("/api/v1/users?limit=1000", &app.admin).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array().unwrap().len()
}

/// The browser ended signed in, on `path` (the sign-in's `next`), with a session cookie.
fn assert_signed_in(page: &common::oidc::Loaded, path: &str) {
    assert_eq!(page.status, StatusCode::OK, "{}: {}", page.url, page.body);
    assert_eq!(page.url.path(), path, "sent on to next: {}", page.url);
}

/// The session's CSRF token, from the meta tag every page carries.
async fn csrf(app: &TestApp, browser: &Browser) -> String {
    let page = browser.open(&format!("{}/", app.base)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (_, rest) = page
        .body
        .split_once("name=\"csrf-token\" content=\"")
        .expect("the csrf meta tag");
    rest.split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn first_sign_in_provisions_the_user_and_the_next_keeps_groups_in_step() {
    let idp = OidcProvider::start(&[alice_claims(&["IR-Lead", "/security", "Legal Team"])]).await;
    let app = app_for(&idp.issuer, |_| {}).await;
    // A local user with the same name and e-mail exists: the provider's alice is not linked to
    // her by e-mail, and gets a name of her own.
    app.user("alice", &[]).await;
    let before = user_count(&app).await;

    let browser = Browser::new();
    let page = browser.sign_in(&app.base, "alice-sub", "/settings?from=oidc").await;
    assert_signed_in(&page, "/settings");
    assert_eq!(page.url.query(), Some("from=oidc"));
    assert_eq!(user_count(&app).await, before + 1);
    let alice2 = user(&app, "alice-2").await;
    assert_eq!(alice2["groups"], json!(["ir-lead", "security"]));
    assert_eq!(alice2["email"], "alice@example.com");
    assert_eq!(alice2["admin"], false);
    assert!(
        user(&app, "alice").await["groups"].as_array().unwrap().is_empty(),
        "the local alice is untouched"
    );
    let created = audited(&app, "user.create").await;
    let via_oidc = created
        .iter()
        .find(|p| p["via"] == "oidc")
        .expect("audited as created by OIDC");
    assert_eq!(via_oidc["subject"], "alice-sub");
    assert_eq!(via_oidc["ignored_groups"], json!(["Legal Team"]));
    let signed = audited(&app, "auth.oidc.sign_in").await;
    assert_eq!(signed.len(), 1);
    assert_eq!(signed[0]["provisioned"], true);
    assert_eq!(signed[0]["issuer"], idp.issuer);

    // The provider moves her to other groups: the next sign-in brings them in step, audited.
    idp.set_user("alice-sub", &alice_claims(&["legal", "ir-lead"])).await;
    let page = browser.sign_in(&app.base, "alice-sub", "/").await;
    assert_signed_in(&page, "/");
    assert_eq!(
        user_count(&app).await,
        before + 1,
        "the same user, linked by (issuer, subject)"
    );
    assert_eq!(user(&app, "alice-2").await["groups"], json!(["ir-lead", "legal"]));
    let sync = audited(&app, "user.groups.sync").await;
    assert_eq!(sync.len(), 1);
    assert_eq!(sync[0]["added"], json!(["legal"]));
    assert_eq!(sync[0]["removed"], json!(["security"]));
    // Unchanged groups: nothing to audit.
    browser.sign_in(&app.base, "alice-sub", "/").await;
    assert_eq!(audited(&app, "user.groups.sync").await.len(), 1);
    assert_eq!(audited(&app, "auth.oidc.sign_in").await.len(), 3);

    // A subject without a usable name or e-mail is named after its subject.
    idp.set_user("Bob Smith", &json!({ "groups": [] })).await;
    let page = Browser::new()
        .sign_in(&app.base, "Bob Smith", "https://evil.example/")
        .await;
    assert_signed_in(&page, "/");
    assert_eq!(user(&app, "bob-smith").await["email"], "bob-smith@oidc.invalid");
    assert_eq!(app.audit_verify().await["ok"], true);
}

#[tokio::test]
async fn a_tampered_state_and_a_replayed_callback_are_refused() {
    let idp = OidcProvider::start(&[alice_claims(&["ir"])]).await;
    let app = app_for(&idp.issuer, |_| {}).await;
    let browser = Browser::new();

    // The state changed on the way back: refused before the code is used.
    let authorize = browser.start(&app.base, "/").await;
    let callback = browser.authorize(&authorize, "alice-sub").await;
    let state: String = callback
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    // The last character changed (to another one, whatever it was).
    let last = if state.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &state[..state.len() - 1]);
    assert_ne!(forged, state);
    let tampered = with_param(&callback, "state", &forged);
    let page = browser.open(tampered.as_str()).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("Sign-in refused"), "{}", page.body);
    assert!(audited(&app, "auth.oidc.sign_in").await.is_empty());
    let refused = audited(&app, "auth.oidc.sign_in.refused").await;
    assert_eq!(refused.last().unwrap()["reason"], "state_mismatch");

    // Another browser cannot finish this browser's sign-in (login CSRF).
    let other = Browser::new();
    let authorize = browser.start(&app.base, "/").await;
    let callback = browser.authorize(&authorize, "alice-sub").await;
    let page = other.open(callback.as_str()).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        audited(&app, "auth.oidc.sign_in.refused").await.last().unwrap()["reason"],
        "state_mismatch"
    );

    // The genuine callback works once; the same callback again (with the state's cookie, as a
    // replaying attacker would bring it) finds no sign-in under way.
    let page = browser.open(callback.as_str()).await;
    assert_signed_in(&page, "/");
    assert_eq!(audited(&app, "auth.oidc.sign_in").await.len(), 1);
    let state = callback
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(callback.as_str())
        .header("cookie", format!("cordon_oidc={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        audited(&app, "auth.oidc.sign_in.refused").await.last().unwrap()["reason"],
        "unknown_state"
    );
    assert_eq!(audited(&app, "auth.oidc.sign_in").await.len(), 1, "signed in once");

    // The provider's refusal (the user pressed "Deny") is a refusal here too.
    let authorize = browser.start(&app.base, "/").await;
    let back = browser.deny(&authorize).await;
    let page = browser.open(back.as_str()).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        audited(&app, "auth.oidc.sign_in.refused").await.last().unwrap()["reason"],
        "provider_error"
    );
}

#[tokio::test]
async fn an_id_token_for_another_nonce_is_refused() {
    let idp = OidcProvider::start(&[alice_claims(&["ir"])]).await;
    let app = app_for(&idp.issuer, |_| {}).await;
    let browser = Browser::new();
    // Someone swaps the nonce in the authorization request: the provider signs a token for
    // that nonce, which is not the one this sign-in expects.
    let authorize = browser.start(&app.base, "/").await;
    let swapped = with_param(&authorize, "nonce", "a-nonce-of-the-attacker");
    let callback = browser.authorize(&swapped, "alice-sub").await;
    let page = browser.open(callback.as_str()).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert_eq!(
        audited(&app, "auth.oidc.sign_in.refused").await.last().unwrap()["reason"],
        "id_token_nonce"
    );
    assert!(app.cordon().oidc_offered().await.unwrap());
    assert!(audited(&app, "auth.oidc.sign_in").await.is_empty());
    let (st, _) = app.get("/api/v1/users/alice", &app.admin).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nobody was created");
}

/// A proxy in front of the provider that keeps the `Host` the browser and Cordon asked for —
/// so discovery names the proxy as the issuer — except on the token endpoint, where the
/// provider is asked under its own address and so signs the ID token as that issuer.
async fn issuer_switching_proxy(provider: &str) -> String {
    async fn forward(State(upstream): State<Arc<String>>, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut out = client.request(parts.method.clone(), format!("{upstream}{path}"));
        for (name, value) in &parts.headers {
            let hop = matches!(name.as_str(), "content-length" | "transfer-encoding" | "connection");
            if hop || (name == "host" && parts.uri.path() == "/oauth2/token") {
                continue;
            }
            out = out.header(name, value);
        }
        let r = out.body(body).send().await.unwrap();
        let mut response = Response::builder().status(r.status());
        for (name, value) in r.headers() {
            if name != "transfer-encoding" && name != "content-length" {
                response = response.header(name, value);
            }
        }
        response.body(Body::from(r.bytes().await.unwrap())).unwrap()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new()
        .fallback(forward)
        .with_state(Arc::new(provider.to_owned()));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_id_token_from_another_issuer_is_refused() {
    let idp = OidcProvider::start(&[alice_claims(&["ir"])]).await;
    let proxy = issuer_switching_proxy(&idp.issuer).await;
    let app = app_for(&proxy, |_| {}).await;
    let browser = Browser::new();
    let authorize = browser.start(&app.base, "/").await;
    assert!(authorize.as_str().starts_with(&proxy), "{authorize}");
    let callback = browser.authorize(&authorize, "alice-sub").await;
    let page = browser.open(callback.as_str()).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert_eq!(
        audited(&app, "auth.oidc.sign_in.refused").await.last().unwrap()["reason"],
        "id_token_issuer"
    );
    assert!(audited(&app, "auth.oidc.sign_in").await.is_empty());
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_whatever_the_provider_says() {
    let idp = OidcProvider::start(&[alice_claims(&["ir"])]).await;
    let app = app_for(&idp.issuer, |_| {}).await;
    let browser = Browser::new();
    assert_signed_in(&browser.sign_in(&app.base, "alice-sub", "/").await, "/");
    let (st, v) = app.post("/api/v1/users/alice/disable", &app.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    idp.set_user("alice-sub", &alice_claims(&["security"])).await;
    let page = browser.sign_in(&app.base, "alice-sub", "/").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("disabled"), "{}", page.body);
    let refused = audited(&app, "auth.oidc.sign_in.refused").await;
    assert_eq!(refused.last().unwrap()["reason"], "user_disabled");
    assert_eq!(audited(&app, "auth.oidc.sign_in").await.len(), 1);
    assert_eq!(
        user(&app, "alice").await["groups"],
        json!(["ir"]),
        "the provider's word changes nothing for a disabled user"
    );
}

#[tokio::test]
async fn the_admin_switch_and_the_configuration_turn_sign_in_off() {
    let idp = OidcProvider::start(&[alice_claims(&["ir"])]).await;
    let app = app_for(&idp.issuer, |_| {}).await;
    let browser = Browser::new();
    let (st, v) = app.get("/api/v1/auth/oidc", &app.admin).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["enabled"], true);
    assert_eq!(v["issuer"], idp.issuer);

    let login = Browser::new().open(&format!("{}/login?next=/settings", app.base)).await;
    assert!(
        login.body.contains("href=\"/auth/oidc/start?next=/settings\""),
        "{}",
        login.body
    );

    // A sign-in under way when the switch goes off is not finished either.
    let authorize = browser.start(&app.base, "/").await;
    let callback = browser.authorize(&authorize, "alice-sub").await;
    let out = run_cli(&app.base, &app.admin, &["auth", "oidc", "disable"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("OIDC sign-in: off"), "{}", out.stdout);
    assert!(out.stdout.contains("admin switch: off (set by admin"), "{}", out.stdout);
    assert!(
        !app.cordon().oidc_offered().await.unwrap(),
        "the sign-in page hides the button"
    );
    let page = browser.open(callback.as_str()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    let page = browser.open(&format!("{}/auth/oidc/start", app.base)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("turned off"), "{}", page.body);
    assert_eq!(
        audited(&app, "auth.oidc.sign_in.refused").await.last().unwrap()["reason"],
        "disabled"
    );
    assert_eq!(audited(&app, "auth.oidc.start.refused").await.len(), 1);
    assert_eq!(audited(&app, "auth.oidc.disable").await.len(), 1);
    let (st, _) = app.get("/api/v1/users/alice", &app.admin).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Only admins may touch the switch; the refusal is audited.
    let olga = app.user("olga", &[]).await;
    let (st, _) = app.post("/api/v1/auth/oidc/enable", &olga, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(audited(&app, "auth.oidc.enable.refused").await.len(), 1);

    // On again: sign-in works.
    let (st, v) = app.post("/api/v1/auth/oidc/enable", &app.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["enabled"], true);
    assert_signed_in(&browser.sign_in(&app.base, "alice-sub", "/").await, "/");
    let out = run_cli(&app.base, &app.admin, &["auth", "oidc", "status"]).await;
    assert!(out.stdout.contains("OIDC sign-in: on"), "{}", out.stdout);

    // CORDON_OIDC_ENABLED=false keeps it off whatever the switch says.
    let off = app_for(&idp.issuer, |c| c.oidc_enabled = false).await;
    assert!(!off.cordon().oidc_offered().await.unwrap());
    let page = browser.open(&format!("{}/auth/oidc/start", off.base)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let (_, v) = off.get("/api/v1/auth/oidc", &off.admin).await;
    assert_eq!(v["config_enabled"], false);
    assert_eq!(v["switch_enabled"], true);
    assert_eq!(v["enabled"], false);
}

#[tokio::test]
async fn nodes_on_one_database_share_sign_ins_and_the_switch() {
    let Some(db) = cordon_store::testing::TestDatabase::create().await else {
        return;
    };
    let idp = OidcProvider::start(&[alice_claims(&["ir"])]).await;
    // Both nodes behind one public address, as behind a load balancer.
    let url = db.url().to_owned();
    let shared = |c: &mut cordon::config::Config| {
        c.database_url = Some(url.clone());
        c.public_url = Some("http://cordon.test".into());
    };
    let a = app_for(&idp.issuer, shared).await;
    let b = app_for(&idp.issuer, shared).await;
    // Started on node A, finished on node B (where the balancer sends the provider's redirect).
    let browser = Browser::new();
    let authorize = browser.start(&a.base, "/").await;
    let callback = browser.authorize(&authorize, "alice-sub").await;
    assert!(
        callback.as_str().starts_with("http://cordon.test/auth/oidc/callback?"),
        "{callback}"
    );
    let on_b = callback.as_str().replace("http://cordon.test", &b.base);
    assert_signed_in(&browser.open(&on_b).await, "/");
    assert_eq!(user(&a, "alice").await["groups"], json!(["ir"]));
    // Off on A: B refuses at once.
    let (st, _) = a.post("/api/v1/auth/oidc/disable", &a.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let page = browser.open(&format!("{}/auth/oidc/start", b.base)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_session_of_an_oidc_sign_in_works_for_the_api_with_csrf() {
    let idp = OidcProvider::start(&[alice_claims(&["security"])]).await;
    let app = app_for(&idp.issuer, |_| {}).await;
    let browser = Browser::new();
    let page = browser.sign_in(&app.base, "alice-sub", "/api/v1/me").await;
    assert_signed_in(&page, "/api/v1/me");
    let me: Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(me["name"], "alice");
    assert_eq!(me["groups"], json!(["security"]));
    let sessions = audited(&app, "auth.signin").await;
    assert_eq!(sessions.len(), 1, "one session opened");
    assert_eq!(sessions[0]["method"], "oidc");

    let url = format!("{}/api/v1/incidents", app.base);
    let body = json!({ "title": "Phishing wave", "kind": "security", "severity": "SEV-3" });
    let r = browser.follow.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a change without the CSRF token");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "csrf_refused");
    let token = csrf(&app, &browser).await;
    let r = browser
        .follow
        .post(&url)
        .header("x-csrf-token", &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let incident: Value = r.json().await.unwrap();
    assert!(
        incident["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user"] == "alice"),
        "declared as alice: {incident}"
    );
    // Disabling the user ends the session.
    let (st, _) = app.post("/api/v1/users/alice/disable", &app.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let r = browser
        .follow
        .get(format!("{}/api/v1/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refusal_pages_speak_the_browsers_language_and_never_echo_the_provider() {
    let idp = OidcProvider::start(&[alice_claims(&["ir"])]).await;
    let app = app_for(&idp.issuer, |_| {}).await;
    let browser = Browser::new();
    // The person presses "Deny" at the provider; on the way back someone puts markup into the
    // provider's error.
    let authorize = browser.start(&app.base, "/").await;
    let back = browser.deny(&authorize).await;
    assert!(back.query_pairs().any(|(k, _)| k == "error"), "{back}");
    let back = with_param(&back, "error", "<img src=x onerror=alert(1)>");
    let r = browser
        .manual
        .get(back.as_str())
        .header("accept-language", "ja,en;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The callback's address carries the code: it is sent to no one else.
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = r.text().await.unwrap();
    assert!(body.contains("<html lang=\"ja\">"), "{body}");
    assert!(body.contains("<h1>ログインできませんでした</h1>"), "{body}");
    assert!(body.contains("provider_error"), "the reason code: {body}");
    assert!(!body.contains("<img") && !body.contains("onerror"), "{body}");
    assert!(body.contains("href=\"/login\""), "a way back: {body}");
    assert!(
        body.contains("<a lang=\"en\" href=\"/login?lang=en\">"),
        "the language link leads to sign in, not to the used callback: {body}"
    );
    assert_eq!(
        audited(&app, "auth.oidc.sign_in.refused").await.last().unwrap()["reason"],
        "provider_error"
    );

    // Sign-in turned off, in English and in Japanese: the page on the layout, 403.
    let (st, _) = app.post("/api/v1/auth/oidc/disable", &app.admin, json!({})).await;
    assert_eq!(st, StatusCode::OK);
    for (lang, title) in [
        ("en", "Sign-in with the identity provider is turned off"),
        ("ja", "SSO によるログインは停止されています"),
    ] {
        let r = reqwest::Client::new()
            .get(format!("{}/auth/oidc/start", app.base))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body = r.text().await.unwrap();
        assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{body}");
        assert!(body.contains(&format!("<h1>{title}</h1>")), "{body}");
        assert!(body.contains(&format!("<title>{title} · Cordon</title>")), "{body}");
    }
}
