//! Authentication as extractors: a handler that takes [`Caller`] is protected.
//!
//! A caller proves who they are with EITHER a bearer token (`Authorization: Bearer …`, the API
//! clients and the CLI, unchanged) OR the browser's session cookie. A request that comes with
//! the cookie and changes something (any method but GET, HEAD and OPTIONS) must also carry the
//! session's CSRF token in `X-CSRF-Token` — how the pages' script calls the JSON API — and must
//! not come from another site (`Sec-Fetch-Site`, `Origin`): another site's page can make the
//! browser send the cookie, but cannot read the token. Pages use `web::WebCaller` instead,
//! which sends the browser to `/login` rather than answering 401.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use cordon_service::{Principal, ServiceError, SessionCaller};

use crate::AppState;
use crate::problem::Problem;

/// The header a page's script sends the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

/// Put in the request's extensions when the caller came with the session cookie: which
/// session (so a list can mark the current one).
#[derive(Debug, Clone, Copy)]
pub struct CurrentSession(pub uuid::Uuid);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .map(str::trim)
                .ok_or(ServiceError::Unauthenticated)?;
            return Ok(Caller(state.cordon.authenticate(token).await?));
        }
        let Some(token) = session_cookie(parts, state) else {
            return Err(ServiceError::Unauthenticated.into());
        };
        let session = state.cordon.authenticate_session(&token).await?;
        if is_unsafe(&parts.method) {
            refuse_cross_site(parts, state)?;
            let given = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !session.csrf_matches(given) {
                return Err(csrf_problem());
            }
        }
        parts.extensions.insert(CurrentSession(session.session_id));
        Ok(Caller(session.principal))
    }
}

pub(crate) fn csrf_problem() -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "csrf_refused",
        "a request made with the session cookie must carry the session's CSRF token (X-CSRF-Token or the _csrf form field)",
    )
}

/// Whether `method` may change something (everything but GET, HEAD, OPTIONS).
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The session token from the request's cookie, if any.
pub(crate) fn session_cookie(parts: &Parts, state: &AppState) -> Option<String> {
    session_token(&parts.headers, state)
}

/// The session token from the `Cookie` headers, if any.
pub(crate) fn session_token(headers: &axum::http::HeaderMap, state: &AppState) -> Option<String> {
    let name = state.web.cookie_name();
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// Refuses a state-changing request that a browser says comes from another site: a
/// `Sec-Fetch-Site` other than `same-origin` (or `none`, a person's own action), or an
/// `Origin` that is neither the public URL's nor this request's host.
pub(crate) fn refuse_cross_site(parts: &Parts, state: &AppState) -> Result<(), Problem> {
    let refused = || {
        Problem::new(
            StatusCode::FORBIDDEN,
            "cross_site_refused",
            "a state-changing request from another site is refused",
        )
    };
    if let Some(site) = parts.headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(refused());
    }
    if let Some(origin) = parts.headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        let host = parts.headers.get(HOST).and_then(|v| v.to_str().ok());
        let own = origin == state.web.public_origin()
            || host.is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"));
        if !own {
            return Err(refused());
        }
    }
    Ok(())
}

/// The session behind the request's cookie, if it is live (no CSRF check: for reading).
pub(crate) async fn session_of(parts: &Parts, state: &AppState) -> Option<SessionCaller> {
    let token = session_cookie(parts, state)?;
    state.cordon.authenticate_session(&token).await.ok()
}
