//! Communication routes (issue 7): drafts, approval and sending; templates; the contact log
//! of steps 12–13; regulatory clocks; and the incident report.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cordon_api::comms::{
    AddContactLog, ClockOut, CommunicationAction, CommunicationOut, ContactLogOut, CreateCommunication, MeetMilestone,
    PatchCommunication, PutTemplate, ReportQuery, StartClockBody, TemplateOut,
};
use cordon_service::comms::{CommunicationPatch, NewCommunication, NewContact};
use cordon_service::regulatory::StartClock;
use cordon_service::report::{IncidentReportFormat, ReportZone};
use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::pagination::{Page, PageParams, Paging};
use crate::problem::Problem;
use crate::routes::{ApiJson, ApiPath, ApiResult, created};
use crate::wire::{FromService, IntoWire};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_communication, list_communications))
        .routes(routes!(get_communication, patch_communication))
        .routes(routes!(approve_communication))
        .routes(routes!(send_communication))
        .routes(routes!(list_templates))
        .routes(routes!(put_template))
        .routes(routes!(add_contact_log, list_contact_log))
        .routes(routes!(start_clock, list_clocks))
        .routes(routes!(meet_milestone))
        .routes(routes!(incident_report))
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/communications", tag = "communications",
    params(("ref" = String, Path, description = "incident id or codename")), request_body = CreateCommunication,
    responses((status = 201, description = "the draft with its findings", body = CommunicationOut),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn create_communication(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<CreateCommunication>,
) -> ApiResult<Response> {
    let new = NewCommunication {
        audience: b.audience,
        title: b.title,
        body: b.body,
        template: b.template,
        recipients: b.recipients,
        third_parties_public: b.third_parties_public,
    };
    let v = s.cordon.create_communication(&p, &r, new).await?;
    Ok(created(CommunicationOut::from_service(v)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/communications", tag = "communications",
    params(PageParams, ("ref" = String, Path)), responses((status = 200, body = Vec<CommunicationOut>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_communications(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<CommunicationOut>> {
    let list = s.cordon.communications(&p, &r).await?;
    paging.offset(list.into_iter().map(IntoWire::into_wire).collect())
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/communications/{id}", tag = "communications",
    params(("ref" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = CommunicationOut), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_communication(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<CommunicationOut>> {
    Ok(Json(s.cordon.communication(&p, &r, &id).await?.into_wire()))
}

#[utoipa::path(patch, path = "/api/v1/incidents/{ref}/communications/{id}", tag = "communications",
    params(("ref" = String, Path), ("id" = String, Path)), request_body = PatchCommunication,
    responses((status = 200, description = "re-linted; approvals dropped", body = CommunicationOut),
        (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn patch_communication(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<PatchCommunication>,
) -> ApiResult<Json<CommunicationOut>> {
    let patch = CommunicationPatch {
        title: b.title,
        body: b.body,
        recipients: b.recipients,
        third_parties_public: b.third_parties_public,
    };
    Ok(Json(
        s.cordon.update_communication(&p, &r, &id, patch).await?.into_wire(),
    ))
}

/// A JSON object body that may be left out (no body at all, or `null`, reads as the
/// default); a body that is there must be an object, as for [`ApiJson`].
pub(crate) struct OptionalApiJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalApiJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = Problem;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = !req.headers().contains_key(CONTENT_TYPE)
            && req.headers().get(CONTENT_LENGTH).is_none_or(|l| l.as_bytes() == b"0")
            && !req.headers().contains_key(TRANSFER_ENCODING);
        if empty {
            return Ok(Self(T::default()));
        }
        // JSON `null` is no body too (the document describes the body as optional).
        let Json(v) = Json::<serde_json::Value>::from_request(req, state).await?;
        if v.is_null() {
            return Ok(Self(T::default()));
        }
        if !v.is_object() {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "the body must be a JSON object, or left out",
            ));
        }
        serde_json::from_value(v)
            .map(Self)
            .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", e.to_string()))
    }
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/communications/{id}/approve", tag = "communications",
    params(("ref" = String, Path), ("id" = String, Path)), request_body = Option<CommunicationAction>,
    responses((status = 200, body = CommunicationOut),
        (status = 403, description = "`forbidden_role`: the caller holds none of the roles the audience needs, or gives an override reason without being the incident commander", body = Problem),
        (status = 409, description = "`lint_errors` naming the error findings (`rules`, `findings`) that no override covers; nothing approved", body = Problem),
        (status = 404, body = Problem)), security(("bearer" = [])))]
async fn approve_communication(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
    OptionalApiJson(b): OptionalApiJson<CommunicationAction>,
) -> ApiResult<Json<CommunicationOut>> {
    Ok(Json(
        s.cordon
            .approve_communication(&p, &r, &id, b.override_reason)
            .await?
            .into_wire(),
    ))
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/communications/{id}/send", tag = "communications",
    params(("ref" = String, Path), ("id" = String, Path)), request_body = Option<CommunicationAction>,
    responses((status = 200, body = CommunicationOut),
        (status = 403, description = "`forbidden_role`: an override reason from someone other than the incident commander", body = Problem),
        (status = 409, description = "`not_approved`, `lint_errors` (naming the error findings no override covers), `gate_unmet`, `mail_refused` or `partly_sent`; nothing sent but for `partly_sent`", body = Problem),
        (status = 404, body = Problem)), security(("bearer" = [])))]
async fn send_communication(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
    OptionalApiJson(b): OptionalApiJson<CommunicationAction>,
) -> ApiResult<Json<CommunicationOut>> {
    Ok(Json(
        s.cordon
            .send_communication(&p, &r, &id, b.override_reason)
            .await?
            .into_wire(),
    ))
}

#[utoipa::path(get, path = "/api/v1/communications/templates", tag = "communications", params(PageParams),
    responses((status = 200, body = Vec<TemplateOut>), (status = 403, description = "not an admin or in the security group", body = Problem)), security(("bearer" = [])))]
async fn list_templates(State(s): State<AppState>, Caller(p): Caller, paging: Paging) -> ApiResult<Page<TemplateOut>> {
    paging.offset(
        s.cordon
            .templates(&p)
            .await?
            .into_iter()
            .map(IntoWire::into_wire)
            .collect(),
    )
}

#[utoipa::path(put, path = "/api/v1/communications/templates/{name}", tag = "communications",
    params(("name" = String, Path)), request_body = PutTemplate,
    responses((status = 200, body = TemplateOut), (status = 403, body = Problem),
        (status = 422, description = "`template_error` with the engine's message", body = Problem)),
    security(("bearer" = [])))]
async fn put_template(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<PutTemplate>,
) -> ApiResult<Json<TemplateOut>> {
    let t = s.cordon.put_template(&p, &name, &b.audience, &b.title, &b.body).await?;
    Ok(Json(t.into_wire()))
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/contacts", tag = "communications",
    params(("ref" = String, Path)), request_body = AddContactLog,
    responses((status = 201, body = ContactLogOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn add_contact_log(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<AddContactLog>,
) -> ApiResult<Response> {
    let c = NewContact {
        party: b.party,
        name: b.name,
        at: b.at,
        reference: b.reference,
        outcome: b.outcome,
    };
    Ok(created(ContactLogOut::from_service(
        s.cordon.log_contact(&p, &r, c).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/contacts", tag = "communications",
    params(PageParams, ("ref" = String, Path)), responses((status = 200, body = Vec<ContactLogOut>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_contact_log(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<ContactLogOut>> {
    paging.offset(
        s.cordon
            .contact_log(&p, &r)
            .await?
            .into_iter()
            .map(IntoWire::into_wire)
            .collect(),
    )
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/clocks", tag = "regulatory",
    params(("ref" = String, Path)), request_body = StartClockBody,
    responses((status = 201, body = ClockOut), (status = 404, body = Problem),
        (status = 422, description = "unknown regime or jurisdiction, or a start in the future", body = Problem)),
    security(("bearer" = [])))]
async fn start_clock(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<StartClockBody>,
) -> ApiResult<Response> {
    let start = StartClock {
        regime: b.regime,
        started_at: b.started_at,
        jurisdiction: b.jurisdiction,
        unlawful_purpose: b.unlawful_purpose,
    };
    Ok(created(ClockOut::from_service(
        s.cordon.start_clock(&p, &r, start).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/clocks", tag = "regulatory",
    params(PageParams, ("ref" = String, Path)), responses((status = 200, body = Vec<ClockOut>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn list_clocks(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<ClockOut>> {
    paging.offset(
        s.cordon
            .clocks(&p, &r)
            .await?
            .into_iter()
            .map(IntoWire::into_wire)
            .collect(),
    )
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/clocks/{id}/milestones/{name}/met", tag = "regulatory",
    params(("ref" = String, Path), ("id" = String, Path), ("name" = String, Path)), request_body = MeetMilestone,
    responses((status = 200, body = ClockOut), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn meet_milestone(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id, name)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<MeetMilestone>,
) -> ApiResult<Json<ClockOut>> {
    Ok(Json(
        s.cordon.meet_milestone(&p, &r, &id, &name, b.met_at).await?.into_wire(),
    ))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/report", tag = "incidents",
    params(("ref" = String, Path), ReportQuery),
    responses((status = 200, description = "the incident report", content(
            (String = "text/markdown"), (String = "text/html"), (Vec<u8> = "application/pdf"))),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn incident_report(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let format: IncidentReportFormat = q.format.as_deref().unwrap_or("md").parse()?;
    let zone = ReportZone::parse("tz", q.tz.as_deref())?;
    let report = s.cordon.incident_report(&p, &r, format, &zone).await?;
    let (content_type, disposition) = match report.format {
        IncidentReportFormat::Markdown => ("text/markdown; charset=utf-8", "inline"),
        IncidentReportFormat::Html => ("text/html; charset=utf-8", "inline"),
        IncidentReportFormat::Pdf => ("application/pdf", "attachment"),
    };
    let disposition = HeaderValue::from_str(&format!("{disposition}; filename=\"{}\"", report.file_name))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CONTENT_DISPOSITION, disposition),
        ],
        report.bytes,
    )
        .into_response())
}
