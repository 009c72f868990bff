//! Routes of local (break-glass) accounts, browser sessions and the caller's settings:
//! setting a password and enrolling TOTP (admins), listing and revoking sessions (one's own,
//! anyone's for an admin), and the language and time zone of the web UI.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Caller, CurrentSession};
use cordon_api::sessions::*;

use crate::pagination::{Page, PageParams, Paging};
use crate::problem::Problem;
use crate::routes::{ApiJson, ApiPath, ApiResult, created};
use crate::wire::IntoWire;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_password))
        .routes(routes!(enrol_totp))
        .routes(routes!(my_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(user_sessions))
        .routes(routes!(patch_me))
        .routes(routes!(my_settings))
}

fn current(ext: Option<axum::Extension<CurrentSession>>) -> Option<uuid::Uuid> {
    ext.map(|axum::Extension(CurrentSession(id))| id)
}

#[utoipa::path(put, path = "/api/v1/users/{name}/password", tag = "users", request_body = SetPassword,
    params(("name" = String, Path, description = "user name")),
    responses((status = 200, description = "the password is set (break-glass sign-in also needs TOTP)", body = PasswordSetOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "`conflict`: the user is disabled (enable them first)", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn set_password(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<SetPassword>,
) -> ApiResult<Json<PasswordSetOut>> {
    let totp_enrolled = s.cordon.set_password(&p, &name, &b.password).await?;
    Ok(Json(PasswordSetOut {
        user: name,
        totp_enrolled,
    }))
}

#[utoipa::path(post, path = "/api/v1/users/{name}/totp", tag = "users",
    params(("name" = String, Path, description = "user name")),
    responses((status = 201, description = "a new TOTP secret, shown once; any earlier one stops working", body = TotpOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "`conflict`: the user is disabled (enable them first)", body = Problem)),
    security(("bearer" = [])))]
async fn enrol_totp(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Response> {
    let e = s.cordon.enrol_totp(&p, &name).await?;
    Ok(created::<TotpOut>((name, e).into_wire()))
}

#[utoipa::path(get, path = "/api/v1/sessions", tag = "users", params(PageParams),
    responses((status = 200, description = "the caller's live browser sessions, newest first", body = Vec<SessionOut>)),
    security(("bearer" = [])))]
async fn my_sessions(
    State(s): State<AppState>,
    Caller(p): Caller,
    session: Option<axum::Extension<CurrentSession>>,
    paging: Paging,
) -> ApiResult<Page<SessionOut>> {
    let cur = current(session);
    let list = s.cordon.sessions(&p, &p.name).await?;
    paging.offset(list.into_iter().map(|i| (i, cur).into_wire()).collect())
}

#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "users",
    params(("id" = String, Path, description = "the session's id or a unique prefix of it (8+ hex digits)")),
    responses((status = 200, description = "the session, ended: it stops working at once on every node", body = SessionOut), (status = 404, description = "no such live session of the caller's (an admin: of anyone's)", body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn revoke_session(
    State(s): State<AppState>,
    Caller(p): Caller,
    session: Option<axum::Extension<CurrentSession>>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SessionOut>> {
    let cur = current(session);
    Ok(Json((s.cordon.revoke_session(&p, &id).await?, cur).into_wire()))
}

#[utoipa::path(get, path = "/api/v1/users/{name}/sessions", tag = "users",
    params(PageParams, ("name" = String, Path, description = "user name")),
    responses((status = 200, description = "the user's live browser sessions, newest first", body = Vec<SessionOut>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn user_sessions(
    State(s): State<AppState>,
    Caller(p): Caller,
    session: Option<axum::Extension<CurrentSession>>,
    paging: Paging,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Page<SessionOut>> {
    let cur = current(session);
    let list = s.cordon.sessions(&p, &name).await?;
    paging.offset(list.into_iter().map(|i| (i, cur).into_wire()).collect())
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "users", request_body = PatchMe,
    responses((status = 200, description = "the caller's settings for the web UI", body = SettingsOut), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn patch_me(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<PatchMe>,
) -> ApiResult<Json<SettingsOut>> {
    let settings = s
        .cordon
        .update_settings(&p, b.locale.as_deref(), b.time_zone.as_deref())
        .await?;
    Ok(Json(settings.into_wire()))
}

#[utoipa::path(get, path = "/api/v1/me/settings", tag = "users",
    responses((status = 200, description = "the caller's settings for the web UI", body = SettingsOut)),
    security(("bearer" = [])))]
async fn my_settings(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<SettingsOut>> {
    Ok(Json(s.cordon.settings(&p).await?.into_wire()))
}
