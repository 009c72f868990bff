//! User routes: users (created, listed, disabled, enabled), API tokens (issued with an
//! optional expiry, listed without secrets, revoked) and chat identities (a one-time code for
//! one's own account, an admin's link, the list, unlinking, and the conflicts the migration
//! left).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use cordon_api::users::{
    ChatIdentityConflictOut, ChatIdentityOut, CreateToken, CreateUser, DisabledOut, LinkChatIdentity, LinkCodeOut,
    RequestLinkCode, TokenInfoOut, TokenOut, UserOut,
};
use cordon_service::NewUser;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::pagination::{Page, PageParams, Paging};
use crate::problem::Problem;
use crate::routes::{ApiJson, ApiPath, ApiResult, created};
use crate::wire::{FromService, IntoWire};
use crate::wire_users::{disabled, token_info};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(get_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
        .routes(routes!(me))
        .routes(routes!(request_link_code, my_chat_identities))
        .routes(routes!(link_chat_identity, list_chat_identities))
        .routes(routes!(unlink_chat_identity))
        .routes(routes!(chat_identity_conflicts))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserOut), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<CreateUser>,
) -> ApiResult<Response> {
    let new = NewUser {
        name: b.name,
        email: b.email,
        pgp_key: b.pgp_key,
        groups: b.groups,
        admin: b.admin,
    };
    let u = s.cordon.create_user(&p, new).await?;
    Ok(created(UserOut::from_service(u)))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageParams),
    responses((status = 200, body = Vec<UserOut>), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn list_users(State(s): State<AppState>, Caller(p): Caller, paging: Paging) -> ApiResult<Page<UserOut>> {
    paging.offset(
        s.cordon
            .list_users(&p)
            .await?
            .into_iter()
            .map(IntoWire::into_wire)
            .collect(),
    )
}

#[utoipa::path(get, path = "/api/v1/users/{name}", tag = "users", params(("name" = String, Path)),
    responses((status = 200, body = UserOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn get_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<UserOut>> {
    Ok(Json(s.cordon.user(&p, &name).await?.into_wire()))
}

#[utoipa::path(post, path = "/api/v1/users/{name}/tokens", tag = "users", request_body(content = Option<CreateToken>),
    params(("name" = String, Path, description = "user name")),
    responses((status = 201, body = TokenOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "`conflict`: the user is disabled (enable them first)", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_token(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: CreateToken = if body.iter().all(u8::is_ascii_whitespace) {
        CreateToken::default()
    } else {
        // An object, as documented: serde would also take a struct's fields as an array.
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()))?;
        if !value.is_object() {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "the body is a JSON object: {\"label\"?, \"expires_in\"?}",
            ));
        }
        serde_json::from_value(value)
            .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", e.to_string()))?
    };
    let token = s
        .cordon
        .issue_token(&p, &name, req.label, req.expires_in.as_deref())
        .await?;
    Ok(created(TokenOut::from_service(token)))
}

#[utoipa::path(get, path = "/api/v1/users/{name}/tokens", tag = "users",
    params(PageParams, ("name" = String, Path, description = "user name")),
    responses((status = 200, description = "the user's tokens, newest first, without secrets", body = Vec<TokenInfoOut>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_tokens(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Page<TokenInfoOut>> {
    let now = s.cordon.clock().now();
    let list = s.cordon.tokens(&p, &name).await?;
    paging.offset(list.into_iter().map(|t| token_info(t, now)).collect())
}

#[utoipa::path(delete, path = "/api/v1/users/{name}/tokens/{id}", tag = "users",
    params(("name" = String, Path, description = "user name"), ("id" = String, Path, description = "token id")),
    responses((status = 200, description = "the revoked token", body = TokenInfoOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, description = "revoked already", body = Problem)),
    security(("bearer" = [])))]
async fn revoke_token(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((name, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<TokenInfoOut>> {
    let t = s.cordon.revoke_token(&p, &name, &id).await?;
    Ok(Json(token_info(t, s.cordon.clock().now())))
}

#[utoipa::path(post, path = "/api/v1/users/{name}/disable", tag = "users",
    params(("name" = String, Path, description = "user name")),
    responses((status = 200, description = "the user, disabled, and what it ended", body = DisabledOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn disable_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<DisabledOut>> {
    let (u, d) = s.cordon.disable_user(&p, &name).await?;
    Ok(Json(disabled(u, d)))
}

#[utoipa::path(post, path = "/api/v1/users/{name}/enable", tag = "users",
    params(("name" = String, Path, description = "user name")),
    responses((status = 200, description = "the user, enabled; old tokens and chat identities stay ended", body = UserOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn enable_user(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<UserOut>> {
    Ok(Json(s.cordon.enable_user(&p, &name).await?.into_wire()))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "users",
    responses((status = 200, body = UserOut), (status = 401, body = Problem)), security(("bearer" = [])))]
async fn me(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<UserOut>> {
    Ok(Json(s.cordon.me(&p).await?.into_wire()))
}

#[utoipa::path(post, path = "/api/v1/me/chat-identities", tag = "users", request_body = RequestLinkCode,
    responses((status = 201, description = "a one-time code to send from the chat account", body = LinkCodeOut), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn request_link_code(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<RequestLinkCode>,
) -> ApiResult<Response> {
    let code = s.cordon.request_link_code(&p, &b.kind, b.id.as_deref()).await?;
    Ok(created(LinkCodeOut::from_service(code)))
}

#[utoipa::path(get, path = "/api/v1/me/chat-identities", tag = "users", params(PageParams),
    responses((status = 200, body = Vec<ChatIdentityOut>)), security(("bearer" = [])))]
async fn my_chat_identities(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
) -> ApiResult<Page<ChatIdentityOut>> {
    let list = s.cordon.chat_identities(&p, &p.name).await?;
    paging.offset(list.into_iter().map(IntoWire::into_wire).collect())
}

#[utoipa::path(post, path = "/api/v1/users/{name}/chat-identities", tag = "users", request_body = LinkChatIdentity,
    params(("name" = String, Path, description = "user name")),
    responses((status = 201, body = ChatIdentityOut), (status = 403, description = "not an admin: link your own account with a code", body = Problem), (status = 404, body = Problem), (status = 409, description = "the account is linked already", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn link_chat_identity(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<LinkChatIdentity>,
) -> ApiResult<Response> {
    let link = s.cordon.admin_link_chat_identity(&p, &name, &b.kind, &b.id).await?;
    Ok(created(ChatIdentityOut::from_service(link)))
}

#[utoipa::path(get, path = "/api/v1/users/{name}/chat-identities", tag = "users",
    params(PageParams, ("name" = String, Path, description = "user name")),
    responses((status = 200, body = Vec<ChatIdentityOut>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_chat_identities(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Page<ChatIdentityOut>> {
    let list = s.cordon.chat_identities(&p, &name).await?;
    paging.offset(list.into_iter().map(IntoWire::into_wire).collect())
}

#[utoipa::path(delete, path = "/api/v1/users/{name}/chat-identities/{id}", tag = "users",
    params(("name" = String, Path, description = "user name"), ("id" = String, Path, description = "the link's id")),
    responses((status = 200, description = "the link that was removed", body = ChatIdentityOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn unlink_chat_identity(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((name, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<ChatIdentityOut>> {
    Ok(Json(s.cordon.unlink_chat_identity(&p, &name, &id).await?.into_wire()))
}

#[utoipa::path(get, path = "/api/v1/chat-identities/conflicts", tag = "users", params(PageParams),
    responses((status = 200, description = "chat accounts several users claimed, linked to nobody until an admin links them", body = Vec<ChatIdentityConflictOut>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn chat_identity_conflicts(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
) -> ApiResult<Page<ChatIdentityConflictOut>> {
    let list = s.cordon.chat_identity_conflicts(&p).await?;
    paging.offset(list.into_iter().map(IntoWire::into_wire).collect())
}
