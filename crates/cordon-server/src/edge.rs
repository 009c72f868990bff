//! The router's outer layers, in one stack (kanidm's "middleware at the edge"): request heads
//! and handler time are bounded, panics become 500s, and every error status that a layer below
//! the handlers answers on its own (axum's extractors and method router — 405, 413, 415, … —
//! the limits here, a stalled body) leaves as an `application/problem+json` document with a
//! stable `code` from [`Problem::for_status`].

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

use crate::listener::BodyTimedOut;
use crate::problem::Problem;

/// The longest request target (path and query) taken; longer ones are 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) taken; more is 431.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Request-level limits of the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// The longest a handler may take to produce its response head (503 after), except on the
    /// routes of [`UNTIMED_ROUTES`].
    pub request_timeout: Duration,
    /// Refused Slack requests: the per-source budget and the audit interval.
    pub slack: crate::SlackRefusalLimits,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
            slack: crate::SlackRefusalLimits::default(),
        }
    }
}

/// Routes whose time grows with the data they carry or read (streamed uploads of any size,
/// re-reading stored evidence): no total time limit. Their bodies are bounded by the body idle
/// timeout instead (`ServeLimits::body_idle_timeout`), so a stalled upload still ends. The
/// change streams (server-sent events) are here too: their handlers answer at once and the
/// stream runs for as long as the page is open — a heartbeat every 15 s keeps it from being
/// idle, and it ends when the caller's credentials or access end, or the server stops.
pub const UNTIMED_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/incidents/{ref}/evidence"),
    ("POST", "/api/v1/incidents/{ref}/timeline/sources"),
    ("GET", "/api/v1/incidents/{ref}/evidence/{id}/verify"),
    ("POST", "/api/v1/incidents/{ref}/evidence/verify"),
    ("GET", "/api/v1/incidents/{ref}/events"),
    ("GET", "/api/v1/events"),
];

/// Wraps every route and the fallback in the edge layers.
pub(crate) fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>, limits: RequestLimits) -> Router<S> {
    router
        .layer(middleware::from_fn_with_state(limits, bound_request))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(problem_bodies))
}

fn untimed(method: &Method, path: Option<&MatchedPath>) -> bool {
    path.is_some_and(|p| {
        UNTIMED_ROUTES
            .iter()
            .any(|(m, route)| method.as_str() == *m && p.as_str() == *route)
    })
}

async fn bound_request(State(limits): State<RequestLimits>, req: Request, next: Next) -> Response {
    let target_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target_len > MAX_URI_BYTES {
        return Problem::for_status(
            StatusCode::URI_TOO_LONG,
            format!("the request target is {target_len} bytes; at most {MAX_URI_BYTES} are taken"),
        )
        .into_response();
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Problem::for_status(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("the headers are {header_bytes} bytes; at most {MAX_HEADER_BYTES} are taken"),
        )
        .into_response();
    }
    let body_timed_out = req.extensions().get::<BodyTimedOut>().cloned();
    let res = if untimed(req.method(), req.extensions().get::<MatchedPath>()) {
        next.run(req).await
    } else {
        match tokio::time::timeout(limits.request_timeout, next.run(req)).await {
            Ok(res) => res,
            Err(_) => {
                tracing::warn!(timeout = ?limits.request_timeout, "a request took too long and was cut off");
                return Problem::for_status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the request took longer than {} s and was stopped",
                        limits.request_timeout.as_secs()
                    ),
                )
                .into_response();
            }
        }
    };
    if body_timed_out.is_some_and(|t| t.is_set()) {
        return Problem::for_status(
            StatusCode::REQUEST_TIMEOUT,
            "the request body stopped arriving; nothing was kept",
        )
        .into_response();
    }
    res
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The payload may name internals: it goes to the log (the panic hook printed it), not to
    // the caller.
    tracing::error!("a handler panicked");
    Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the server log").into_response()
}

fn is_problem(res: &Response) -> bool {
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"))
}

/// A page of the web UI (its own not-found, refusal and sign-in pages) stays a page.
fn is_html(res: &Response) -> bool {
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"))
}

/// Error responses that are not problem documents yet become one; their other headers
/// (`Allow`, `Retry-After`, …) stay.
async fn problem_bodies(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&res) || is_html(&res) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let plain_text = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"));
    let text = match axum::body::to_bytes(body, 1024).await {
        Ok(bytes) if plain_text => String::from_utf8(bytes.to_vec()).unwrap_or_default(),
        _ => String::new(),
    };
    let text = text.trim();
    let detail = if text.is_empty() || text.chars().any(char::is_control) {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text.to_owned()
    };
    let problem = Problem::for_status(status, detail);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn call(router: Router, req: Request) -> (StatusCode, String, serde_json::Value) {
        let res = router.oneshot(req).await.unwrap();
        let status = res.status();
        let ct = res.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
        let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (status, ct, serde_json::from_slice(&body).unwrap())
    }

    async fn boom() -> &'static str {
        panic!("secret internals")
    }

    #[tokio::test]
    async fn a_panic_is_a_500_problem_that_names_nothing_inside() {
        let router = layer(Router::new().route("/boom", get(boom)), RequestLimits::default());
        let (status, ct, v) = call(router, Request::get("/boom").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(v["code"], "internal");
        assert!(!v.to_string().contains("secret"), "{v}");
    }

    #[tokio::test]
    async fn a_slow_handler_is_cut_off_unless_its_route_is_untimed() {
        let slow = || async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        };
        let limits = RequestLimits {
            request_timeout: Duration::from_millis(50),
            ..RequestLimits::default()
        };
        let router = layer(
            Router::new()
                .route("/slow", get(slow))
                .route("/api/v1/incidents/{ref}/evidence", axum::routing::post(slow)),
            limits,
        );
        let (status, _, v) = call(router.clone(), Request::get("/slow").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(v["code"], "unavailable");
        let res = router
            .oneshot(
                Request::post("/api/v1/incidents/x/evidence")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "uploads have no total time limit");
    }

    #[tokio::test]
    async fn plain_error_bodies_become_problems_and_keep_their_headers() {
        let router = layer(
            Router::new().route("/only-get", get(|| async { "ok" })),
            RequestLimits::default(),
        );
        let res = router
            .clone()
            .oneshot(Request::post("/only-get").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(res.headers().contains_key(axum::http::header::ALLOW));
        let (_, ct, v) = call(router, Request::post("/only-get").body(Body::empty()).unwrap()).await;
        assert_eq!(ct, "application/problem+json");
        assert_eq!(v["code"], "method_not_allowed");
    }
}
