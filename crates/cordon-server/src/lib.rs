//! The HTTP edge: routes, authentication, request and response bodies, problem+json errors and
//! the OpenAPI description. The only crate that knows the wire format.
//!
//! Handlers are thin: they parse the request into service arguments, call one
//! [`cordon_service::Cordon`] function and shape the answer. Every `/api/v1` route requires a
//! bearer token; only `/healthz` and `/openapi.json` are public.

mod auth;
mod dto;
mod dto_comms;
mod dto_users;
mod pagination;
mod problem;
mod routes;
mod routes_comms;
mod routes_evidence;
mod routes_paging;
mod routes_registers;
mod routes_slack;
mod routes_timeline;
mod routes_users;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use cordon_service::Cordon;
use tokio::net::TcpListener;

pub use problem::Problem;
pub use routes::openapi;
pub use routes_slack::SlackSettings;

/// The largest JSON body accepted (1 MiB). Streaming uploads get their own limits.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// Shared state of every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    pub cordon: Cordon,
    pub slack: Option<Arc<SlackSettings>>,
}

/// The whole application as a router.
pub fn app(cordon: Cordon) -> Router {
    app_with(cordon, None)
}

/// The application with the Slack-compatible endpoints enabled when `slack` is given.
pub fn app_with(cordon: Cordon, slack: Option<SlackSettings>) -> Router {
    routes::router(AppState {
        cordon,
        slack: slack.map(Arc::new),
    })
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
