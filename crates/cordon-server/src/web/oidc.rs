//! OIDC sign-in in the browser: `GET /auth/oidc/start?next=…` sends the browser to the identity
//! provider; `GET /auth/oidc/callback` (the redirect URI registered with the provider, CONTRACT)
//! finishes the sign-in, opens a session exactly as password sign-in does, and sends the browser
//! on to the safe `next` (or `/`). The checks themselves live in `cordon_service::oidc`; here the
//! query and the binding cookie are read and the answer is shaped.
//!
//! Refusals answer with the refusal page (`templates/oidc_refused.html`, on the layout) in the
//! browser's language, saying in the reader's words what happened and what to do — one
//! catalogue entry per kind of refusal ([`Refusal`]) — and the stable reason code for the
//! administrator; never what the provider sent. The status: 403 while sign-in is off or the
//! user is disabled, 400 for a callback that fails a check, 502 when the provider cannot be
//! reached, 500 when Cordon failed.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, COOKIE, LOCATION, REFERRER_POLICY, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cordon_service::oidc::{BindingCookie, CALLBACK_PATH, OidcCallback, OidcError, OidcSignedIn, START_PATH};
use cordon_service::{ServiceError, SignInMethod};

use super::{Base, anonymous_base};
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

async fn start(State(s): State<AppState>, parts: Parts) -> Response {
    let pairs = query_pairs(parts.uri.query());
    match s.cordon.oidc_start(param(&pairs, "next").as_deref()).await {
        Ok(started) => {
            let Ok(location) = HeaderValue::from_str(&started.redirect_to) else {
                return refusal(
                    &parts,
                    &OidcError::Provider("the identity provider's address is not usable"),
                );
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
        Err(e) => refusal(&parts, &e),
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
        Err(e) => refusal(&parts, &e),
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
        Err(ServiceError::SignInRefused(_)) => Err(refusal(
            parts,
            &OidcError::Refused {
                reason: "user_disabled",
                detail: String::new(),
            },
        )),
        Err(e) => Err(refusal(parts, &OidcError::Service(e))),
    }
}

fn no_store() -> HeaderValue {
    HeaderValue::from_static("no-store")
}

/// The kinds of refused sign-in, as the refusal page tells them (`oidc.<kind>.title` and
/// `.body` in the catalogues).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Sign-in with the provider is not configured or turned off.
    Off,
    /// The Cordon user is disabled, whatever the provider says.
    Disabled,
    /// The state is missing, unknown (used, expired) or not this browser's.
    State,
    /// The ID token was made for another sign-in's nonce.
    Nonce,
    /// The provider said no (the person declined, or the provider refused).
    ProviderRefused,
    /// The code exchange or the ID token failed a check.
    Token,
    /// The provider could not be reached or answered nonsense.
    Unavailable,
    /// Cordon failed.
    Failed,
}

impl Refusal {
    #[cfg(test)]
    const ALL: [Refusal; 8] = [
        Refusal::Off,
        Refusal::Disabled,
        Refusal::State,
        Refusal::Nonce,
        Refusal::ProviderRefused,
        Refusal::Token,
        Refusal::Unavailable,
        Refusal::Failed,
    ];

    fn of(e: &OidcError) -> Self {
        match e {
            OidcError::Off => Refusal::Off,
            OidcError::Refused { reason, .. } => match *reason {
                "user_disabled" => Refusal::Disabled,
                "missing_state" | "state_mismatch" | "unknown_state" => Refusal::State,
                "id_token_nonce" => Refusal::Nonce,
                "provider_error" => Refusal::ProviderRefused,
                _ => Refusal::Token,
            },
            OidcError::Provider(_) => Refusal::Unavailable,
            OidcError::Service(_) => Refusal::Failed,
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Refusal::Off | Refusal::Disabled => StatusCode::FORBIDDEN,
            Refusal::State | Refusal::Nonce | Refusal::ProviderRefused | Refusal::Token => StatusCode::BAD_REQUEST,
            Refusal::Unavailable => StatusCode::BAD_GATEWAY,
            Refusal::Failed => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The catalogue table of this kind (`oidc.state`).
    fn key(self) -> &'static str {
        match self {
            Refusal::Off => "oidc.off",
            Refusal::Disabled => "oidc.disabled",
            Refusal::State => "oidc.state",
            Refusal::Nonce => "oidc.nonce",
            Refusal::ProviderRefused => "oidc.provider_refused",
            Refusal::Token => "oidc.token",
            Refusal::Unavailable => "oidc.unavailable",
            Refusal::Failed => "oidc.failed",
        }
    }
}

#[derive(Template)]
#[template(path = "oidc_refused.html")]
struct RefusedPage {
    base: Base,
    kind: Refusal,
    /// The stable reason code (`state_mismatch`), for whoever looks into it: Cordon's own
    /// words, never the provider's.
    reference: Option<&'static str>,
}

impl RefusedPage {
    fn title_key(&self) -> String {
        format!("{}.title", self.kind.key())
    }

    fn body_key(&self) -> String {
        format!("{}.body", self.kind.key())
    }
}

/// The page of a refused sign-in, in the language of the browser that sent `parts`.
fn refusal(parts: &Parts, e: &OidcError) -> Response {
    if let OidcError::Service(err) = e {
        tracing::error!(error = %err, "OIDC sign-in failed");
    }
    let kind = Refusal::of(e);
    let reference = matches!(
        kind,
        Refusal::State | Refusal::Nonce | Refusal::ProviderRefused | Refusal::Token | Refusal::Unavailable
    )
    .then(|| e.reason());
    // The language links lead to the sign-in page: the callback's own address (its code and
    // state, used up) is no place to come back to.
    let mut base = anonymous_base(parts);
    base.here = "/login".to_owned();
    let page = RefusedPage { base, kind, reference };
    super::page(kind.status(), &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::Lang;

    #[test]
    fn every_refusal_has_its_words_in_both_languages() {
        for kind in Refusal::ALL {
            for lang in Lang::ALL {
                for part in ["title", "body"] {
                    let key = format!("{}.{part}", kind.key());
                    assert!(lang.lookup(&key).is_some(), "{key} in {}", lang.code());
                }
            }
        }
        let state = OidcError::Refused {
            reason: "state_mismatch",
            detail: String::new(),
        };
        assert_eq!(Refusal::of(&state), Refusal::State);
        assert_eq!(Refusal::of(&OidcError::Off).status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn the_refusal_page_speaks_the_browsers_language_and_never_echoes_the_provider() {
        let req = axum::http::Request::builder()
            .uri("/auth/oidc/callback?error=%3Cscript%3E")
            .header("accept-language", "ja,en;q=0.5")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let e = OidcError::Refused {
            reason: "provider_error",
            detail: "the identity provider answered `<script>alert(1)</script>`".into(),
        };
        let res = refusal(&parts, &e);
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let html = futures::executor::block_on(axum::body::to_bytes(res.into_body(), 1 << 20)).unwrap();
        let html = String::from_utf8(html.to_vec()).unwrap();
        assert!(html.contains("<html lang=\"ja\">"), "{html}");
        assert!(html.contains(Lang::Ja.t("oidc.provider_refused.title")), "{html}");
        assert!(html.contains("provider_error"), "the reason code: {html}");
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("alert"), "nothing the provider sent: {html}");
        assert!(
            html.contains("href=\"/login?lang=en\""),
            "to sign in, in English: {html}"
        );
    }

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
