//! `/login` (the sign-in form: a break-glass account's user name, password and one-time code,
//! and the button to the OIDC provider when one is configured) and `/logout`.
//!
//! A POST to `/login` from another site is refused (`Sec-Fetch-Site`, `Origin`), so nobody
//! can sign a browser into an account of theirs. A refusal re-shows the form with one message
//! that does not say which part was wrong (401), or that the account or address is resting
//! (429); the service audits the reason.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cordon_service::{ServiceError, SignInRefusal};
use serde::Deserialize;

use super::{Base, WebForm, WebRejection, anonymous_base, client_info, page, safe_next, see_other};
use crate::AppState;
use crate::auth::{refuse_cross_site, session_token};

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub base: Base,
    /// The safe address to go to afterwards.
    pub next: String,
    pub username: String,
    /// A message key (`login.failed`, `login.rate_limited`, `login.signed_out`), if any.
    pub error: Option<&'static str>,
    pub notice: Option<&'static str>,
    /// Shows the button to `/auth/oidc/start` (the OIDC side's route).
    pub oidc_enabled: bool,
}

impl LoginPage {
    /// The OIDC start address, carrying `next`.
    pub fn oidc_start(&self) -> String {
        if self.next == "/" {
            "/auth/oidc/start".to_owned()
        } else {
            format!("/auth/oidc/start?next={}", super::encode_query(&self.next))
        }
    }
}

fn query_param(parts: &Parts, name: &str) -> Option<String> {
    let q = parts.uri.query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// `GET /login`: the form; a browser already signed in goes on to `next`.
pub(crate) async fn show(State(state): State<AppState>, parts: Parts) -> Response {
    let next = safe_next(query_param(&parts, "next").as_deref());
    if crate::auth::session_of(&parts, &state).await.is_some() {
        return see_other(&next);
    }
    let notice = (query_param(&parts, "signed_out").is_some()).then_some("login.signed_out");
    let login = LoginPage {
        base: anonymous_base(&parts),
        next,
        username: String::new(),
        error: None,
        notice,
        oidc_enabled: state.cordon.oidc_offered().await.unwrap_or(false),
    };
    page(StatusCode::OK, &login)
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: signs in with a break-glass account; the session cookie and a redirect to
/// `next` (or `/`), else the form again.
pub(crate) async fn submit(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if let Err(p) = refuse_cross_site(&parts, &state) {
        return p.into_response();
    }
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let form: SignInForm = serde_urlencoded::from_bytes(&bytes).unwrap_or(SignInForm {
        username: String::new(),
        password: String::new(),
        totp: String::new(),
        next: None,
    });
    let next = safe_next(form.next.as_deref());
    let client = client_info(&parts);
    match state
        .cordon
        .sign_in_password(&form.username, &form.password, &form.totp, &client)
        .await
    {
        Ok(opened) => {
            let now = state.cordon.clock().now();
            let mut res = see_other(&next);
            res.headers_mut().insert(
                SET_COOKIE,
                state.web.session_cookie(&opened.token, opened.expires_at, now),
            );
            res
        }
        Err(ServiceError::SignInRefused(reason)) => {
            let (status, key) = match reason {
                SignInRefusal::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "login.rate_limited"),
                _ => (StatusCode::UNAUTHORIZED, "login.failed"),
            };
            let login = LoginPage {
                base: anonymous_base(&parts),
                next,
                username: form.username.chars().take(64).collect(),
                error: Some(key),
                notice: None,
                oidc_enabled: state.cordon.oidc_offered().await.unwrap_or(false),
            };
            page(status, &login)
        }
        Err(e) => crate::problem::Problem::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct Empty {}

/// `POST /logout`: ends the session (the form carries `_csrf`) and removes the cookie. Without
/// a live session there is nothing to end: the browser goes to the sign-in page all the same.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<WebForm<Empty>, WebRejection>,
) -> Response {
    match form {
        Ok(_) => {}
        Err(WebRejection::SignIn(_)) => {}
        Err(e) => return e.into_response(),
    }
    if let Some(token) = session_token(&headers, &state)
        && let Err(e) = state.cordon.sign_out(&token).await
    {
        return crate::problem::Problem::from(e).into_response();
    }
    let mut res = see_other("/login?signed_out=1");
    res.headers_mut().insert(SET_COOKIE, state.web.clear_cookie());
    res
}
