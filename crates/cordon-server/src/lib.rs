//! The HTTP edge: routes, authentication, request and response bodies, problem+json errors and
//! the OpenAPI description. The only crate that knows the wire format.
//!
//! Handlers are thin: they parse the request into service arguments, call one
//! [`cordon_service::Cordon`] function and shape the answer. Every `/api/v1` route requires a
//! bearer token or a browser session (cookie, with a CSRF token on changes); only `/healthz`,
//! `/openapi.json`, `/login` and `/assets/…` are public. The HTML side (sign-in, the layout
//! every page shares) is in [`web`].

mod auth;
mod dto;
mod dto_comms;
mod dto_room;
mod dto_sessions;
mod dto_users;
mod edge;
mod listener;
mod openapi;
mod pagination;
mod problem;
mod routes;
mod routes_comms;
mod routes_evidence;
mod routes_paging;
mod routes_registers;
mod routes_room;
mod routes_sessions;
mod routes_slack;
mod routes_timeline;
mod routes_users;
mod slack_guard;
pub mod web;

use std::sync::Arc;

use axum::Router;
use cordon_service::Cordon;

pub use edge::{MAX_HEADER_BYTES, MAX_URI_BYTES, RequestLimits, UNTIMED_ROUTES};
pub use listener::{MAX_HEAD_BYTES, ServeLimits, default_max_connections, raise_fd_limit, serve};
pub use problem::Problem;
pub use routes::openapi;
pub use routes_slack::SlackSettings;
pub use slack_guard::SlackRefusalLimits;
pub use web::WebSettings;

/// The largest JSON body accepted (1 MiB). Streaming uploads get their own limits.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// Shared state of every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub cordon: Cordon,
    pub slack: Option<Arc<SlackSettings>>,
    /// Replays and refused requests on the Slack routes (`slack_guard`).
    pub(crate) slack_guard: Arc<slack_guard::SlackGuard>,
    /// The browser side: public URL (cookie name, Secure, origin checks), OIDC button.
    pub web: Arc<WebSettings>,
}

/// The whole application as a router.
pub fn app(cordon: Cordon) -> Router {
    app_with(cordon, None)
}

/// The application with the Slack-compatible endpoints enabled when `slack` is given.
pub fn app_with(cordon: Cordon, slack: Option<SlackSettings>) -> Router {
    app_with_limits(cordon, slack, RequestLimits::default())
}

/// The application with its request limits.
pub fn app_with_limits(cordon: Cordon, slack: Option<SlackSettings>, limits: RequestLimits) -> Router {
    app_with_web(cordon, slack, limits, WebSettings::default())
}

/// The application with its request limits and the browser side's settings.
pub fn app_with_web(cordon: Cordon, slack: Option<SlackSettings>, limits: RequestLimits, web: WebSettings) -> Router {
    routes::router(
        AppState {
            cordon,
            slack: slack.map(Arc::new),
            slack_guard: Arc::new(slack_guard::SlackGuard::new(limits.slack)),
            web: Arc::new(web),
        },
        limits,
    )
}
