//! The admin API of OIDC sign-in: its state, and the switch that turns it off (and on) for
//! every node at once.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use cordon_api::oidc::OidcStatusOut;

use crate::problem::Problem;
use crate::routes::ApiResult;
use crate::wire::IntoWire;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(oidc_status))
        .routes(routes!(disable_oidc))
        .routes(routes!(enable_oidc))
}

#[utoipa::path(get, path = "/api/v1/auth/oidc", tag = "auth",
    responses((status = 200, body = OidcStatusOut), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn oidc_status(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<OidcStatusOut>> {
    Ok(Json(s.cordon.oidc_status(&p).await?.into_wire()))
}

#[utoipa::path(post, path = "/api/v1/auth/oidc/disable", tag = "auth",
    responses((status = 200, description = "OIDC sign-in is off on every node from now on; sessions already open stay", body = OidcStatusOut),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn disable_oidc(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<OidcStatusOut>> {
    Ok(Json(s.cordon.set_oidc_enabled(&p, false).await?.into_wire()))
}

#[utoipa::path(post, path = "/api/v1/auth/oidc/enable", tag = "auth",
    responses((status = 200, description = "the admin switch is on again (the configuration may still keep sign-in off)", body = OidcStatusOut),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn enable_oidc(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<OidcStatusOut>> {
    Ok(Json(s.cordon.set_oidc_enabled(&p, true).await?.into_wire()))
}
