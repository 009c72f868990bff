//! The web UI's shell: the HTML side of the router, the extractors pages use, the layout every
//! page shares, the security headers, and the not-found page.
//!
//! How a page is built (see ARCHITECTURE.md, "Web UI"):
//! - a handler takes [`WebCaller`] (signed in: the principal, the language, the time zone and
//!   the CSRF token; a browser that is not is sent to `/login?next=…`), or [`WebForm<T>`] for a
//!   form POST (the same, plus the form, whose `_csrf` field must be the session's);
//! - it reaches data only through `Cordon` service methods (the gate decides what the user may
//!   see: an incident they may not see is [`not_found`], the same page as one that never
//!   existed);
//! - it renders an askama template (`templates/`) whose struct has a `base: Base` field
//!   (`{% extends "base.html" %}`) and answers [`page`]`(status, &template)`, which adds
//!   `Cache-Control: no-store`. Every answer gets the CSP and the other headers of
//!   [`security_headers`].
//!
//! Text comes from the catalogues by key (`base.t("home.title")`, `i18n.rs`); dates through
//! `base.datetime(at)` in the user's zone.

mod ack;
mod activity;
pub mod assets;
pub mod i18n;
mod incidents;
mod login;
pub(crate) mod oidc;
mod oncall;
mod room_forms;
mod shell;
mod war_room;

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY, USER_AGENT,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cordon_core::Timestamp;
use cordon_service::{ClientInfo, Principal};
use jiff::tz::TimeZone;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::auth::{CSRF_HEADER, is_unsafe, refuse_cross_site, session_cookie};
pub use i18n::Lang;

/// The Content-Security-Policy of every answer: our own script and style only, no inline
/// script or style, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// What the web side needs to know about the deployment.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// The URL people open (`CORDON_PUBLIC_URL`), without a trailing slash.
    pub public_url: String,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self::new("http://127.0.0.1:8077")
    }
}

impl WebSettings {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Whether cookies are `Secure` (the public URL is https).
    pub fn secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// `__Host-cordon_session` over https (the browser then insists on Secure, Path=/ and no
    /// Domain), else `cordon_session`.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure() {
            "__Host-cordon_session"
        } else {
            "cordon_session"
        }
    }

    /// `scheme://host[:port]` of the public URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> &str {
        let after_scheme = self.public_url.find("://").map_or(0, |i| i + 3);
        match self.public_url[after_scheme..].find('/') {
            Some(i) => &self.public_url[..after_scheme + i],
            None => &self.public_url,
        }
    }

    /// The `Set-Cookie` value that gives the browser a session (HttpOnly, SameSite=Lax —
    /// Strict would drop the cookie on the OIDC provider's redirect back — Path=/, Secure
    /// over https), living until the session's absolute end.
    pub fn session_cookie(&self, token: &str, expires_at: Timestamp, now: Timestamp) -> HeaderValue {
        let max_age = expires_at.duration_since(now).as_secs().max(0);
        let secure = if self.secure() { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.cookie_name()
        ))
        .expect("a hex token makes a valid header")
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn clear_cookie(&self) -> HeaderValue {
        let secure = if self.secure() { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
            self.cookie_name()
        ))
        .expect("a valid header")
    }
}

/// The HTML routes (merged into the app by `routes::router`).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/", get(incidents::list))
        .route("/incidents", post(incidents::declare))
        .route("/parts/incidents", get(incidents::part))
        .route("/incidents/{ref}", get(war_room::show))
        .route("/incidents/{ref}/parts/{part}", get(war_room::part))
        .route("/incidents/{ref}/tasks/{step}", post(room_forms::update_task))
        .route("/incidents/{ref}/status", post(room_forms::update_incident))
        .route("/incidents/{ref}/members", post(room_forms::add_member))
        .route("/incidents/{ref}/members/remove", post(room_forms::remove_member))
        .route("/incidents/{ref}/activity", get(activity::history))
        .route("/incidents/{ref}/pages", post(room_forms::page_someone))
        .route("/incidents/{ref}/messages", post(room_forms::post_message))
        .route("/oncall", get(oncall::show))
        .route("/ack/{token}", get(ack::show).post(ack::acknowledge))
        .route("/settings", get(shell::settings).post(shell::save_settings))
        .route("/settings/sessions", get(shell::sessions))
        .route("/settings/sessions/end", post(shell::end_session))
        .route("/assets/{file}", get(assets::serve))
}

/// Who the request comes from, as the edge saw it: the peer's address and the user agent.
pub fn client_info(parts: &Parts) -> ClientInfo {
    ClientInfo {
        address: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        user_agent: parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// `next` if it is a path on this site (`/…`, not `//…` nor `/\…`, no control characters),
/// else `/`: where a sign-in may send the browser afterwards.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.contains('\\')
                && n.len() <= 2048
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Percent-encodes a query value.
pub(crate) fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A `303 See Other` to `to`.
pub fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(LOCATION, v);
    }
    res
}

/// What every page's layout needs: the language, the signed-in user and their session's CSRF
/// token (empty when signed out), the zone dates are shown in, and where the page is (for the
/// language switch to come back to).
#[derive(Debug, Clone)]
pub struct Base {
    pub lang: Lang,
    pub user: Option<String>,
    pub csrf: String,
    pub tz: TimeZone,
    /// The page's path and query.
    pub here: String,
}

impl Base {
    /// The message `key` in the page's language.
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    /// The message `key` with one placeholder filled.
    pub fn tf(&self, key: &str, name: &str, value: &str) -> String {
        self.lang.tf(key, &[(name, value)])
    }

    /// An instant in the user's zone, as the page's language writes it.
    pub fn datetime(&self, at: &Timestamp) -> String {
        self.lang.datetime(*at, &self.tz)
    }

    /// A language's own name (`English`, `日本語`), for the language switch.
    pub fn lang_name(&self, l: &Lang) -> &'static str {
        match l {
            Lang::En => self.lang.t("lang.en"),
            Lang::Ja => self.lang.t("lang.ja"),
        }
    }

    /// The current address of an embedded asset (`app.css`).
    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }

    /// The message `key` if a catalogue has it, else `fallback` (a playbook's own text).
    pub fn t_or(&self, key: &str, fallback: &str) -> String {
        self.lang.lookup(key).unwrap_or(fallback).to_owned()
    }

    /// The message `key` with several placeholders filled.
    pub fn tn(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.lang.tf(key, args)
    }

    /// How long ago `at` was, as this language says it briefly (`5 min`, `3 時間`).
    pub fn age(&self, at: &Timestamp, now: &Timestamp) -> String {
        let secs = now.duration_since(*at).as_secs().max(0);
        let (key, n) = match secs {
            s if s < 60 => return self.t("age.now").to_owned(),
            s if s < 3600 => ("age.minutes", s / 60),
            s if s < 86_400 => ("age.hours", s / 3600),
            s => ("age.days", s / 86_400),
        };
        self.tf(key, "n", &n.to_string())
    }

    /// Whether `code` (`en`, `ja`) is the page's language.
    pub fn is_lang(&self, code: &str) -> bool {
        self.lang.code() == code
    }

    pub fn langs(&self) -> [Lang; 2] {
        Lang::ALL
    }

    /// This page in language `code`, for the signed-out language links: its path with the query
    /// re-encoded, `lang` replaced and every other parameter kept (`next` among them):
    /// `/login?next=/incidents/x&lang=ja`. A path that is not one of this site's (`//host/…`)
    /// becomes `/`; an empty `here` gives a query-only link (`?lang=ja`), which stays on the
    /// page's address without naming it (the not-found page: one body for every address).
    pub fn lang_href(&self, code: &str) -> String {
        let (path, query) = self.here.split_once('?').unwrap_or((&self.here, ""));
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        let mut out = if path.is_empty() {
            String::new()
        } else {
            safe_next(Some(path))
        };
        out.push('?');
        for (k, v) in pairs.iter().filter(|(k, _)| k != "lang") {
            out.push_str(&encode_query(k));
            out.push('=');
            out.push_str(&encode_query(v));
            out.push('&');
        }
        out.push_str("lang=");
        out.push_str(&encode_query(code));
        out
    }
}

/// The language of a request from someone not signed in: `?lang=`, else `Accept-Language`.
pub(crate) fn request_lang(parts: &Parts) -> Lang {
    query_lang(parts)
        .or_else(|| {
            parts
                .headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

fn query_lang(parts: &Parts) -> Option<Lang> {
    parts
        .uri
        .query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .and_then(Lang::from_tag)
}

fn here(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned())
}

/// The layout's facts for a request from someone signed out (the sign-in page, not-found).
pub(crate) fn anonymous_base(parts: &Parts) -> Base {
    Base {
        lang: request_lang(parts),
        user: None,
        csrf: String::new(),
        tz: TimeZone::UTC,
        here: here(parts),
    }
}

/// The signed-in caller of a page. Taking it makes a page need a live session: a browser
/// without one is sent to `/login?next=<this page>`. On a state-changing request it also
/// needs the CSRF token in `X-CSRF-Token` and a same-site origin (forms use [`WebForm`]).
#[derive(Debug, Clone)]
pub struct WebCaller {
    pub principal: Principal,
    pub session_id: uuid::Uuid,
    /// The layout's facts: language (setting, else browser), zone, CSRF token.
    pub base: Base,
}

/// Why a page was not served to the caller.
#[derive(Debug)]
pub enum WebRejection {
    /// Not signed in: to `/login?next=…` (or `/login` after a POST).
    SignIn(String),
    /// A state-changing request without a valid CSRF token or from another site: 403.
    Forbidden(Base),
    /// The service failed.
    Problem(crate::problem::Problem),
}

impl IntoResponse for WebRejection {
    fn into_response(self) -> Response {
        match self {
            WebRejection::SignIn(next) if next == "/" => see_other("/login"),
            WebRejection::SignIn(next) => see_other(&format!("/login?next={}", encode_query(&next))),
            WebRejection::Forbidden(base) => shell::forbidden(base),
            WebRejection::Problem(p) => p.into_response(),
        }
    }
}

impl WebCaller {
    async fn resolve(parts: &Parts, state: &AppState) -> Result<Self, WebRejection> {
        let sign_in = || {
            let next = if is_unsafe(&parts.method) {
                "/".to_owned()
            } else {
                here(parts)
            };
            WebRejection::SignIn(next)
        };
        let Some(token) = session_cookie(parts, state) else {
            return Err(sign_in());
        };
        let Ok(session) = state.cordon.authenticate_session(&token).await else {
            return Err(sign_in());
        };
        let settings = state
            .cordon
            .settings(&session.principal)
            .await
            .map_err(|e| WebRejection::Problem(e.into()))?;
        let lang = query_lang(parts)
            .or_else(|| settings.locale.as_deref().and_then(Lang::from_tag))
            .unwrap_or_else(|| request_lang(parts));
        let base = Base {
            lang,
            user: Some(session.principal.name.clone()),
            csrf: session.csrf.clone(),
            tz: i18n::time_zone(settings.time_zone.as_deref()),
            here: here(parts),
        };
        Ok(WebCaller {
            principal: session.principal,
            session_id: session.session_id,
            base,
        })
    }
}

impl FromRequestParts<AppState> for WebCaller {
    type Rejection = WebRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Self::resolve(parts, state).await?;
        if is_unsafe(&parts.method) {
            let given = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if refuse_cross_site(parts, state).is_err() || !csrf_eq(&caller.base.csrf, given) {
                return Err(WebRejection::Forbidden(caller.base));
            }
        }
        Ok(caller)
    }
}

fn csrf_eq(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.trim().as_bytes());
    !a.is_empty() && a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A form POST from a signed-in page: the caller (as [`WebCaller`]) and the form, whose
/// `_csrf` field (or `X-CSRF-Token` header) must be the session's token and whose origin
/// must be this site; otherwise 403. `T` is read from the urlencoded body (it must not
/// refuse unknown fields: `_csrf` is among them).
#[derive(Debug)]
pub struct WebForm<T> {
    pub caller: WebCaller,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for WebForm<T> {
    type Rejection = WebRejection;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let caller = WebCaller::resolve(&parts, state).await?;
        let forbidden = |caller: &WebCaller| WebRejection::Forbidden(caller.base.clone());
        if refuse_cross_site(&parts, state).is_err() {
            return Err(forbidden(&caller));
        }
        let bytes = axum::body::to_bytes(body, crate::JSON_BODY_LIMIT).await.map_err(|_| {
            WebRejection::Problem(crate::problem::Problem::for_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a form may carry at most {} bytes", crate::JSON_BODY_LIMIT),
            ))
        })?;
        let header = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let field = serde_urlencoded::from_bytes::<CsrfOnly>(&bytes)
            .map(|c| c.csrf)
            .unwrap_or_default();
        if !csrf_eq(&caller.base.csrf, header.unwrap_or(&field)) {
            return Err(forbidden(&caller));
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            WebRejection::Problem(crate::problem::Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                e.to_string(),
            ))
        })?;
        Ok(WebForm { caller, form })
    }
}

/// Renders a page: HTML, `Cache-Control: no-store` (pages hold what the user may see; no
/// cache keeps them).
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            status,
            [
                (CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
                (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            crate::problem::Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the server log")
                .into_response()
        }
    }
}

/// The not-found page (404): the answer for every address that does not exist and every
/// incident the caller may not see — the same page for both, so nobody learns which.
pub fn not_found(base: Base) -> Response {
    shell::not_found(base)
}

/// The layout's facts for whoever sent `parts`: signed in (their language and zone) or not.
pub async fn base_for(parts: &Parts, state: &AppState) -> Base {
    match WebCaller::resolve(parts, state).await {
        Ok(c) => c.base,
        Err(_) => anonymous_base(parts),
    }
}

/// The fallback for addresses no route has: the not-found page for a browser (it accepts
/// `text/html`) outside `/api/` and `/assets/`, a problem document for everyone else.
pub(crate) async fn fallback(axum::extract::State(state): axum::extract::State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let path = parts.uri.path();
    let wants_html = parts
        .headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if !wants_html || path.starts_with("/api/") || path == "/api" || path.starts_with("/assets/") {
        return crate::problem::Problem::not_found().into_response();
    }
    let base = base_for(&parts, &state).await;
    not_found(base)
}

/// Adds the security headers to every answer: the CSP, `nosniff`, `Referrer-Policy:
/// same-origin` (unless the answer chose a stricter one: the ack landing and the OIDC callback
/// send `no-referrer`, as their addresses carry credentials), `X-Frame-Options: DENY` (for
/// browsers older than `frame-ancestors`).
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.entry(REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/incidents/abc?x=1")), "/incidents/abc?x=1");
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "evil",
            "/a\\b",
            "/a\nb",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    fn base_at(here: &str) -> Base {
        Base {
            lang: Lang::En,
            user: None,
            csrf: String::new(),
            tz: TimeZone::UTC,
            here: here.to_owned(),
        }
    }

    #[test]
    fn language_links_keep_the_rest_of_the_query() {
        assert_eq!(base_at("/login").lang_href("ja"), "/login?lang=ja");
        assert_eq!(base_at("/login?lang=en").lang_href("ja"), "/login?lang=ja");
        assert_eq!(
            base_at("/login?next=%2Fincidents%2Fx").lang_href("ja"),
            "/login?next=/incidents/x&lang=ja"
        );
        assert_eq!(base_at("/ack/ab12").lang_href("en"), "/ack/ab12?lang=en");
        assert_eq!(base_at("").lang_href("ja"), "?lang=ja");
        // `next` with a query of its own stays one value; `lang` is replaced wherever it is.
        assert_eq!(
            base_at("/login?lang=ja&next=%2Fincidents%2Fx%3Fa%3D1%26lang%3Den&signed_out=1").lang_href("en"),
            "/login?next=/incidents/x%3Fa%3D1%26lang%3Den&signed_out=1&lang=en"
        );
        // Spaces (`+` or `%20`), non-ASCII and markup come back percent-encoded.
        assert_eq!(
            base_at("/x?q=a+b%20c&n=%E6%97%A5&h=%22%3E%3Cs%3E").lang_href("en"),
            "/x?q=a%20b%20c&n=%E6%97%A5&h=%22%3E%3Cs%3E&lang=en"
        );
        // A path that would name another site is not linked to.
        assert_eq!(
            base_at("//evil.example/login?next=%2F").lang_href("ja"),
            "/?next=/&lang=ja"
        );
    }

    #[test]
    fn cookies_follow_the_public_url() {
        let http = WebSettings::new("http://cordon.internal:8077/");
        assert_eq!(http.cookie_name(), "cordon_session");
        assert_eq!(http.public_origin(), "http://cordon.internal:8077");
        let now: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        let c = http.session_cookie("ab", now + jiff::SignedDuration::from_hours(12), now);
        assert_eq!(
            c.to_str().unwrap(),
            "cordon_session=ab; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200"
        );
        let https = WebSettings::new("https://ir.example.com/cordon");
        assert_eq!(https.cookie_name(), "__Host-cordon_session");
        assert_eq!(https.public_origin(), "https://ir.example.com");
        assert!(
            https
                .session_cookie("ab", now, now)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
        assert!(https.clear_cookie().to_str().unwrap().contains("Max-Age=0"));
    }
}
