//! OIDC sign-in in the browser: `GET /auth/oidc/start?next=…` sends the browser to the identity
//! provider; `GET /auth/oidc/callback` (the redirect URI registered with the provider, CONTRACT)
//! finishes the sign-in, opens a session exactly as password sign-in does, and sends the browser
//! on to the safe `next` (or `/`). The checks themselves live in `cordon_service::oidc`; here the
//! query and the binding cookie are read and the answer is shaped.
//!
//! Refusals answer with a small page and a status: 403 while sign-in is off (or the user is
//! disabled), 400 for a callback that fails a check, 502 when the provider cannot be reached.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, REFERRER_POLICY, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cordon_service::oidc::{BindingCookie, CALLBACK_PATH, OidcCallback, OidcError, OidcSignedIn, START_PATH};
use cordon_service::{ServiceError, SignInMethod};

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(START_PATH, get(start))
        .route(CALLBACK_PATH, get(callback))
}

/// The query's pairs (malformed ones dropped: the checks decide what is missing).
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
}

fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// The value of cookie `name` in the request, if present.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// The binding cookie's `Set-Cookie`: `value` for `max_age` seconds, or expired when `None`.
fn binding_cookie(c: BindingCookie, value: Option<(&str, i64)>) -> HeaderValue {
    let secure = if c.secure { "; Secure" } else { "" };
    let text = match value {
        Some((v, max_age)) => format!(
            "{}={v}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}",
            c.name
        ),
        None => format!("{}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax{secure}", c.name),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn start(State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    match s.cordon.oidc_start(param(&pairs, "next").as_deref()).await {
        Ok(started) => {
            let Ok(location) = HeaderValue::from_str(&started.redirect_to) else {
                return refusal(&OidcError::Provider("the identity provider's address is not usable"));
            };
            let cookie = binding_cookie(
                s.cordon.oidc_cookie(),
                Some((&started.state, started.max_age.as_secs())),
            );
            (
                StatusCode::SEE_OTHER,
                [(LOCATION, location), (SET_COOKIE, cookie), (CACHE_CONTROL, no_store())],
            )
                .into_response()
        }
        Err(e) => refusal(&e),
    }
}

async fn callback(State(s): State<AppState>, parts: Parts) -> Response {
    let pairs = query_pairs(parts.uri.query());
    let headers = &parts.headers;
    let binding = s.cordon.oidc_cookie();
    let cb = OidcCallback {
        state: param(&pairs, "state"),
        code: param(&pairs, "code"),
        error: param(&pairs, "error"),
        browser_state: cookie(headers, binding.name),
    };
    let clear = binding_cookie(binding, None);
    let mut response = match s.cordon.oidc_callback(cb).await {
        Ok(done) => match open_session(&s, &done, &parts).await {
            Ok(session_cookie) => {
                let location = HeaderValue::from_str(&done.next).unwrap_or_else(|_| HeaderValue::from_static("/"));
                let mut r = (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response();
                r.headers_mut().append(SET_COOKIE, session_cookie);
                r
            }
            Err(r) => r,
        },
        Err(e) => refusal(&e),
    };
    let h = response.headers_mut();
    h.append(SET_COOKIE, clear);
    h.insert(CACHE_CONTROL, no_store());
    // The callback's address carries the code: it goes to no one else.
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Opens the session of a finished sign-in exactly as password sign-in does
/// (`Cordon::open_session` with [`SignInMethod::Oidc`]): the session cookie's `Set-Cookie`.
async fn open_session(s: &AppState, done: &OidcSignedIn, parts: &Parts) -> Result<HeaderValue, Response> {
    let client = super::client_info(parts);
    match s
        .cordon
        .open_session(done.user.id, SignInMethod::Oidc, &client, done.now)
        .await
    {
        Ok(opened) => Ok(s.web.session_cookie(&opened.token, opened.expires_at, done.now)),
        // Disabled between the checks and now: refused like any disabled user.
        Err(ServiceError::SignInRefused(_)) => Err(refusal(&OidcError::Refused {
            reason: "user_disabled",
            detail: String::new(),
        })),
        Err(e) => Err(refusal(&OidcError::Service(e))),
    }
}

fn no_store() -> HeaderValue {
    HeaderValue::from_static("no-store")
}

/// The page of a refused sign-in.
fn refusal(e: &OidcError) -> Response {
    match e {
        OidcError::Off => page(
            StatusCode::FORBIDDEN,
            "Sign-in with the identity provider is turned off",
            "Sign in with your Cordon account instead, or ask an administrator.",
        ),
        OidcError::Refused {
            reason: "user_disabled",
            ..
        } => page(
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            "Your Cordon account is disabled. Ask an administrator.",
        ),
        OidcError::Refused { detail, .. } => page(StatusCode::BAD_REQUEST, "Sign-in refused", detail),
        OidcError::Provider(what) => page(StatusCode::BAD_GATEWAY, "The identity provider cannot be reached", what),
        OidcError::Service(err) => {
            tracing::error!(error = %err, "OIDC sign-in failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign-in failed",
                "Something went wrong on our side. Try again.",
            )
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} · Cordon</title></head>\
         <body><main><h1>{t}</h1><p>{x}</p><p><a href=\"/login\">Back to sign-in</a></p></main></body></html>\n",
        t = escape(title),
        x = escape(text)
    );
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; cordon_oidc=abc ; b=2"));
        assert_eq!(cookie(&h, "cordon_oidc").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "oidc"), None);
    }

    #[test]
    fn the_binding_cookie_is_host_only_and_lax() {
        let c = binding_cookie(
            BindingCookie::for_public_url("https://cordon.example"),
            Some(("s", 600)),
        );
        assert_eq!(
            c,
            "__Host-cordon_oidc=s; Max-Age=600; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let c = binding_cookie(BindingCookie::for_public_url("http://127.0.0.1:1"), None);
        assert_eq!(c, "cordon_oidc=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
    }
}
