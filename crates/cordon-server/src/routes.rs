//! Routes and their thin handlers, and the OpenAPI description generated from them.

use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cordon_api::incidents::{
    AddMember, AuditEntryOut, AuditQuery, AuditVerifyOut, DecisionOut, DeclareIncident, Health, HeldTaskOut,
    IncidentOut, IncidentSummary, MemberOut, PatchIncident, PatchTask, RecordDecision, TaskOut,
};
use cordon_core::role::Role;
use cordon_service::{Declare, IncidentPatch, TaskPatch};
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::pagination::{KeysetParams, Page, PageParams, Paging};
use crate::problem::Problem;
use crate::wire::{FromService, IntoWire};
use crate::{AppState, JSON_BODY_LIMIT};
use cordon_core::clock::{from_micros, to_micros};

pub(crate) type ApiResult<T> = Result<T, Problem>;

/// `Json` whose rejections are problem documents. Every body is a JSON object: serde would
/// also read a struct's fields from an array, which no route documents. A body that does not
/// fit its type is refused naming the field it got wrong and what is allowed there
/// (`Problem::invalid_body`), never with serde's own words.
pub(crate) struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(v) = Json::<serde_json::Value>::from_request(req, state).await?;
        if !v.is_object() {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "the body must be a JSON object",
            ));
        }
        serde_path_to_error::deserialize(v)
            .map(Self)
            .map_err(|e| Problem::invalid_body(&e.path().to_string(), &e.inner().to_string()))
    }
}

/// `Path` whose rejections are problem documents.
pub(crate) struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
    axum::extract::Path<T>: FromRequestParts<S, Rejection = PathRejection>,
{
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(v) = axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(v))
    }
}

pub(crate) fn created<T: serde::Serialize>(body: T) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Cordon", description = "Self-hosted security incident response. Every /api/v1 route needs `Authorization: Bearer <token>`; errors are application/problem+json with a stable `code`."),
    modifiers(&BearerAuth),
    components(schemas(Problem)),
    tags(
        (name = "users", description = "Users and API tokens"),
        (name = "incidents", description = "Incidents, their team and decisions"),
        (name = "tasks", description = "The gated checklist"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "registers", description = "Containment and impact: assets, indicators and blocklists, credentials, exposures, risk"),
        (name = "live", description = "The war-room conversation and the live change streams (server-sent events)"),
    )
)]
struct ApiDoc;

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(declare, list_incidents))
        .routes(routes!(get_incident, patch_incident))
        .routes(routes!(add_member, list_members))
        .routes(routes!(remove_member))
        .routes(routes!(list_tasks))
        .routes(routes!(my_tasks))
        .routes(routes!(patch_task))
        .routes(routes!(record_decision, list_decisions))
        .routes(routes!(verify_audit))
        .routes(routes!(audit_log))
        .merge(crate::routes_users::routes())
        .merge(crate::routes_oidc::routes())
        .merge(crate::routes_sessions::routes())
        .merge(crate::routes_timeline::routes())
        .merge(crate::routes_evidence::routes())
        .merge(crate::routes_comms::routes())
        .merge(crate::routes_paging::routes())
        .merge(crate::routes_registers::routes())
        .merge(crate::routes_room::routes())
        .merge(crate::routes_slack::routes())
}

/// The document as utoipa generates it from the annotations.
pub(crate) fn generated_openapi() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

/// The OpenAPI 3.1 description of every endpoint, as served at `/openapi.json`: generated from
/// the annotations, completed with the responses every route shares (`crate::openapi`).
pub fn openapi() -> serde_json::Value {
    crate::openapi::complete(serde_json::to_value(generated_openapi()).unwrap_or_default())
}

pub(crate) fn router(state: AppState, limits: crate::RequestLimits) -> Router {
    let (api, spec) = api_router().split_for_parts();
    let spec = Arc::new(crate::openapi::complete(serde_json::to_value(spec).unwrap_or_default()));
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(move || async move { Json(spec.as_ref().clone()) }))
        .merge(api)
        .merge(crate::web::oidc::routes())
        .merge(crate::web::router())
        .fallback(crate::web::fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), wake_changes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::slack_guard::gate,
        ))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT));
    crate::edge::layer(router, limits)
        .layer(axum::middleware::from_fn(crate::web::security_headers))
        .with_state(state)
}

/// After a request that may have written (any but GET, HEAD and OPTIONS) the change feed reads
/// the log at once, so what it changed reaches open pages in milliseconds rather than at the
/// feed's next tick.
async fn wake_changes(
    State(s): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let writes = crate::auth::is_unsafe(req.method());
    let res = next.run(req).await;
    if writes {
        s.cordon.wake_changes();
    }
    res
}

async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

// ---------- incidents ----------

#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = DeclareIncident,
    responses((status = 201, body = IncidentOut), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn declare(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<DeclareIncident>,
) -> ApiResult<Response> {
    let d = Declare {
        title: b.title,
        description: b.description,
        kind: b.kind,
        severity: b.severity,
        room: b.room,
    };
    Ok(created(IncidentOut::from_service(s.cordon.declare(&p, d).await?)))
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(KeysetParams),
    responses((status = 200, description = "the incidents the caller may see, newest first", body = Vec<IncidentSummary>)),
    security(("bearer" = [])))]
async fn list_incidents(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
) -> ApiResult<Page<IncidentSummary>> {
    let after = match paging.position() {
        None => None,
        Some(pos) => Some(incident_position(pos).ok_or_else(|| paging.invalid())?),
    };
    // One more than the page, so the store says whether more follow.
    let incidents: Vec<_> = s
        .cordon
        .list_incidents(&p, cordon_store::IncidentQuery::default(), paging.limit + 1, after)
        .await?
        .into_iter()
        .map(|l| l.incident)
        .collect();
    let page = paging.keyset(incidents, incident_cursor);
    Ok(page.map(|i| IncidentSummary::from_service(&i)))
}

/// The keyset position of the incident list after `i` (`{µs}-{id}`), as
/// [`incident_position`] reads it.
pub(crate) fn incident_cursor(i: &cordon_core::incident::Incident) -> String {
    format!("{}-{}", to_micros(i.created_at), i.id.simple())
}

/// The `(created_at, id)` a keyset position of the incident list names (`{µs}-{id}`).
pub(crate) fn incident_position(pos: &str) -> Option<(jiff::Timestamp, uuid::Uuid)> {
    let (micros, id) = pos.split_once('-')?;
    if micros.len() > 18 || id.len() != 32 {
        return None;
    }
    Some((from_micros(micros.parse().ok()?), uuid::Uuid::try_parse(id).ok()?))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}", tag = "incidents",
    params(("ref" = String, Path, description = "incident id, or codename in any case with spaces or hyphens")),
    responses((status = 200, body = IncidentOut), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_incident(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Json<IncidentOut>> {
    Ok(Json(s.cordon.incident(&p, &r).await?.into_wire()))
}

#[utoipa::path(patch, path = "/api/v1/incidents/{ref}", tag = "incidents", request_body = PatchIncident,
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = IncidentOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn patch_incident(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<PatchIncident>,
) -> ApiResult<Json<IncidentOut>> {
    let patch = IncidentPatch {
        status: b.status,
        severity: b.severity,
        title: b.title,
        description: b.description,
    };
    Ok(Json(s.cordon.update_incident(&p, &r, patch).await?.into_wire()))
}

fn parse_role(raw: &str) -> Result<Role, cordon_service::ServiceError> {
    raw.parse::<Role>().map_err(Into::into)
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/members", tag = "incidents", request_body = AddMember,
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 201, body = IncidentOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn add_member(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<AddMember>,
) -> ApiResult<Response> {
    let role = parse_role(&b.role)?;
    Ok(created(IncidentOut::from_service(
        s.cordon.add_member(&p, &r, &b.user, role).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/members", tag = "incidents",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = Vec<MemberOut>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_members(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<MemberOut>> {
    paging.offset(
        s.cordon
            .incident(&p, &r)
            .await?
            .members
            .into_iter()
            .map(IntoWire::into_wire)
            .collect(),
    )
}

#[utoipa::path(delete, path = "/api/v1/incidents/{ref}/members/{user}/{role}", tag = "incidents",
    params(("ref" = String, Path, description = "incident id or codename"), ("user" = String, Path), ("role" = String, Path)),
    responses((status = 200, body = IncidentOut), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn remove_member(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, user, role)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<IncidentOut>> {
    let role = parse_role(&role)?;
    Ok(Json(s.cordon.remove_member(&p, &r, &user, role).await?.into_wire()))
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/decisions", tag = "incidents", request_body = RecordDecision,
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 201, body = IncidentOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn record_decision(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<RecordDecision>,
) -> ApiResult<Response> {
    let d = s.cordon.record_decision(&p, &r, &b.name, b.value, b.note).await?;
    Ok(created(IncidentOut::from_service(d)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/decisions", tag = "incidents",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = Vec<DecisionOut>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_decisions(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<DecisionOut>> {
    paging.offset(
        s.cordon
            .incident(&p, &r)
            .await?
            .decisions
            .into_iter()
            .map(IntoWire::into_wire)
            .collect(),
    )
}

// ---------- tasks ----------

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/tasks", tag = "tasks",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = Vec<TaskOut>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_tasks(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<TaskOut>> {
    paging.offset(crate::wire::task_list(s.cordon.tasks(&p, &r).await?))
}

#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(PageParams),
    responses((status = 200, description = "the tasks assigned to the caller on every incident, with the incident's codename", body = Vec<HeldTaskOut>)),
    security(("bearer" = [])))]
async fn my_tasks(State(s): State<AppState>, Caller(p): Caller, paging: Paging) -> ApiResult<Page<HeldTaskOut>> {
    paging.offset(
        s.cordon
            .my_tasks(&p)
            .await?
            .into_iter()
            .map(IntoWire::into_wire)
            .collect(),
    )
}

#[utoipa::path(patch, path = "/api/v1/incidents/{ref}/tasks/{id}", tag = "tasks", request_body = PatchTask,
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "task id")),
    responses(
        (status = 200, body = TaskOut),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`gate_unmet`: the task's gate is not met; `gate` names it", body = Problem),
    ),
    security(("bearer" = [])))]
async fn patch_task(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<PatchTask>,
) -> ApiResult<Json<TaskOut>> {
    let patch = TaskPatch {
        status: b.status,
        assignee: b.assignee,
        override_reason: b.override_reason,
    };
    Ok(Json(s.cordon.update_task(&p, &r, &id, patch).await?.into_wire()))
}

// ---------- audit ----------

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntryOut>), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn audit_log(
    State(s): State<AppState>,
    Caller(p): Caller,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(cordon_service::ServiceError::invalid("limit", "must be 1 to 10000").into());
    }
    if q.after < 0 {
        return Err(cordon_service::ServiceError::invalid("after", "must not be negative").into());
    }
    let blank_is_none = |v: &Option<String>| v.as_ref().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let instant = |field: &'static str, v: &Option<String>| {
        blank_is_none(v)
            .map(|raw| {
                raw.parse::<jiff::Timestamp>().map_err(|_| {
                    cordon_service::ServiceError::invalid(
                        field,
                        "must be an RFC 3339 instant, e.g. 2026-03-01T09:00:00Z",
                    )
                })
            })
            .transpose()
    };
    let filter = cordon_service::AuditFilter {
        actor: blank_is_none(&q.actor),
        action: blank_is_none(&q.action),
        subject: blank_is_none(&q.subject),
        since: instant("since", &q.since)?,
        until: instant("until", &q.until)?,
    };
    let page = s.cordon.audit_log(&p, q.after, limit, &filter).await?;
    let out: Vec<AuditEntryOut> = page.entries.into_iter().map(IntoWire::into_wire).collect();
    let mut res = Json(out).into_response();
    // More may follow: say where the next page starts, with the same filters.
    if let Some(seq) = page.next_after {
        let mut query = vec![("after", seq.to_string()), ("limit", limit.to_string())];
        for (name, value) in [
            ("actor", &q.actor),
            ("action", &q.action),
            ("subject", &q.subject),
            ("since", &q.since),
            ("until", &q.until),
        ] {
            if let Some(v) = blank_is_none(value) {
                query.push((name, v));
            }
        }
        if let Ok(query) = serde_urlencoded::to_string(&query)
            && let Ok(v) = axum::http::HeaderValue::from_str(&format!("</api/v1/audit?{query}>; rel=\"next\""))
        {
            res.headers_mut().insert(axum::http::header::LINK, v);
        }
    }
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = AuditVerifyOut), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn verify_audit(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<AuditVerifyOut>> {
    let out = s.cordon.verify_audit(&p).await?;
    Ok(Json(AuditVerifyOut {
        ok: out.ok(),
        entries: out.entries,
        first_bad_entry: out.first_bad_entry,
    }))
}
