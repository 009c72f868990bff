//! Containment and impact register routes (issue 6): assets, systems, credentials,
//! exposures, indicators (with promotion, sightings search and blocklist exports), the risk
//! view and follow-up tasks. The bodies are `cordon_api::registers`'; what makes them from the
//! service's answers is here, beside the handlers.
//!
//! The blocklist export answers the rendered file; private or reserved ranges in it are
//! announced in the `Cordon-Warnings` header (their count) and inside the file itself.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use cordon_api::registers::{
    AssetIn, AssetMoveOut, AssetOut, AssetPatch, CredentialIn, CredentialOut, CredentialPatch, CredentialQuery,
    EventRefIo, ExportQuery, ExposedCredentialOut, ExposureIn, ExposureOut, FollowUpOut, FollowUpPatch, IocIn, IocOut,
    ProgressOut, PromoteIn, RiskOut, SearchOut, SightingOut, SystemAtRiskOut, SystemIn, SystemOut, WARNINGS_HEADER,
};
use cordon_core::register::ContainmentProgress;
use cordon_service::registers::iocs::{IndicatorView, NewIndicator, Promotion, SearchOutcome};
use cordon_service::registers::{
    AssetMoveRecord, AssetView, CredentialView, ExposureRecord, FollowUpView, NewAsset, NewCredential, NewExposure,
    NewSystem, RiskView, SystemRecord,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::pagination::{Page, PageParams, Paging};
use crate::problem::Problem;
use crate::routes::{ApiJson, ApiPath, ApiResult, created};
use crate::wire::{FromService, IntoWire, list};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_asset, list_assets))
        .routes(routes!(move_asset))
        .routes(routes!(put_system, list_systems))
        .routes(routes!(add_credential, list_credentials))
        .routes(routes!(patch_credential))
        .routes(routes!(add_exposure, list_exposures))
        .routes(routes!(add_ioc, list_iocs))
        .routes(routes!(promote_ioc))
        .routes(routes!(search_iocs))
        .routes(routes!(export_iocs))
        .routes(routes!(risk))
        .routes(routes!(list_follow_ups))
        .routes(routes!(patch_follow_up))
}

// ---------- bodies (from the service's answers) ----------

impl FromService<AssetMoveRecord> for AssetMoveOut {
    fn from_service(m: AssetMoveRecord) -> Self {
        Self {
            from: m.from.map(|s| s.as_str().to_owned()),
            to: m.to.as_str().to_owned(),
            by: m.by_name,
            at: m.at,
            note: m.note,
        }
    }
}

impl FromService<AssetView> for AssetOut {
    fn from_service(v: AssetView) -> Self {
        let a = v.asset;
        Self {
            id: a.id,
            name: a.name,
            kind: a.kind.as_str().to_owned(),
            address: a.address,
            state: a.state.as_str().to_owned(),
            created_at: a.created_at,
            updated_at: a.updated_at,
            history: v.history.into_iter().map(IntoWire::into_wire).collect(),
        }
    }
}

impl FromService<SystemRecord> for SystemOut {
    fn from_service(s: SystemRecord) -> Self {
        Self {
            id: s.id,
            name: s.name,
            owner: s.owner_name,
            assets: s.assets,
        }
    }
}

impl FromService<FollowUpView> for FollowUpOut {
    fn from_service(v: FollowUpView) -> Self {
        let t = v.task;
        Self {
            id: t.id,
            handle: v.handle,
            parent_step: t.parent_step,
            key: t.key,
            title: t.title,
            status: t.status.as_str().to_owned(),
            owner_role: t.owner_role.map(|r| r.as_str().to_owned()),
            assignee: v.assignee_name,
            credential_id: t.credential_id,
            updated_at: t.updated_at,
        }
    }
}

impl FromService<ContainmentProgress> for ProgressOut {
    fn from_service(p: ContainmentProgress) -> Self {
        Self {
            isolated: p.isolated,
            imaged: p.imaged,
            of: p.of,
        }
    }
}

impl FromService<CredentialView> for CredentialOut {
    fn from_service(v: CredentialView) -> Self {
        let c = v.credential;
        Self {
            id: c.id,
            name: c.name,
            kind: c.kind.as_str().to_owned(),
            stored_on: c.stored_on,
            grants: c.grants,
            state: c.state.as_str().to_owned(),
            tasks: v.tasks.into_iter().map(IntoWire::into_wire).collect(),
            updated_at: c.updated_at,
        }
    }
}

impl FromService<ExposureRecord> for ExposureOut {
    fn from_service(e: ExposureRecord) -> Self {
        Self {
            id: e.id,
            data: e.data,
            classification: e.classification.as_str().to_owned(),
            regulated: e.classification.is_regulated(),
            records: e.records,
            customers: e.customers,
            evidence: e.evidence,
            events: e
                .events
                .into_iter()
                .map(|r| EventRefIo {
                    source_id: r.source_id.to_string(),
                    line: r.line,
                })
                .collect(),
            created_at: e.created_at,
        }
    }
}

impl FromService<IndicatorView> for IocOut {
    fn from_service(v: IndicatorView) -> Self {
        let warning = v.warning();
        let i = v.indicator;
        Self {
            id: i.id,
            kind: i.kind,
            value: i.value,
            notes: i.notes,
            warning,
            first_seen: i.first_seen,
            last_seen: i.last_seen,
            sightings: v
                .sightings
                .into_iter()
                .map(|s| SightingOut {
                    source_id: s.source_id,
                    line: s.line,
                    byte_offset: s.byte_offset,
                    at: s.seen_at,
                    host: s.host,
                    how: s.how,
                })
                .collect(),
            merged: v.merged,
        }
    }
}

impl FromService<SearchOutcome> for SearchOut {
    fn from_service(o: SearchOutcome) -> Self {
        Self {
            id: o.indicator.id,
            kind: o.indicator.kind,
            value: o.indicator.value,
            found: o.found,
            new: o.new,
            sightings: o.sightings,
            first_seen: o.indicator.first_seen,
            last_seen: o.indicator.last_seen,
        }
    }
}

impl FromService<RiskView> for RiskOut {
    fn from_service(v: RiskView) -> Self {
        Self {
            compromised_assets: v.compromised_assets,
            credentials: v
                .credentials
                .into_iter()
                .map(|c| ExposedCredentialOut {
                    name: c.name,
                    state: c.state.as_str().to_owned(),
                    stored_on: c.stored_on,
                    grants: c.grants,
                })
                .collect(),
            systems_at_risk: v
                .systems_at_risk
                .into_iter()
                .map(|s| SystemAtRiskOut {
                    system: s.system,
                    owner: s.owner,
                    via: s.via,
                    assets_at_risk: s.assets_at_risk,
                })
                .collect(),
        }
    }
}

// ---------- assets ----------

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/assets", tag = "registers", request_body = AssetIn,
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 201, body = AssetOut), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn add_asset(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<AssetIn>,
) -> ApiResult<Response> {
    let new = NewAsset {
        name: b.name,
        kind: b.kind,
        address: b.address,
        state: b.state,
        note: b.note,
    };
    Ok(created(AssetOut::from_service(s.cordon.add_asset(&p, &r, new).await?)))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/assets", tag = "registers",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = Vec<AssetOut>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_assets(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<AssetOut>> {
    paging.offset(list(s.cordon.assets(&p, &r).await?))
}

#[utoipa::path(patch, path = "/api/v1/incidents/{ref}/assets/{id}", tag = "registers", request_body = AssetPatch,
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "asset id")),
    responses((status = 200, body = AssetOut), (status = 404, body = Problem),
              (status = 409, description = "`illegal_transition`: the asset cannot make this move", body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn move_asset(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<AssetPatch>,
) -> ApiResult<Json<AssetOut>> {
    Ok(Json(
        s.cordon.move_asset(&p, &r, &id, &b.state, b.note).await?.into_wire(),
    ))
}

// ---------- systems ----------

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/systems", tag = "registers", request_body = SystemIn,
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 201, body = SystemOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn put_system(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<SystemIn>,
) -> ApiResult<Response> {
    let new = NewSystem {
        name: b.name,
        owner: b.owner,
        assets: b.assets,
    };
    Ok(created(SystemOut::from_service(
        s.cordon.put_system(&p, &r, new).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/systems", tag = "registers",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = Vec<SystemOut>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_systems(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<SystemOut>> {
    paging.offset(list(s.cordon.systems(&p, &r).await?))
}

// ---------- credentials ----------

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/credentials", tag = "registers", request_body = CredentialIn,
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 201, body = CredentialOut), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, description = "e.g. stored on an asset the incident does not have", body = Problem)),
    security(("bearer" = [])))]
async fn add_credential(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<CredentialIn>,
) -> ApiResult<Response> {
    let new = NewCredential {
        name: b.name,
        kind: b.kind,
        stored_on: b.stored_on,
        grants: b.grants,
    };
    Ok(created(CredentialOut::from_service(
        s.cordon.add_credential(&p, &r, new).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/credentials", tag = "registers",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename"), CredentialQuery),
    responses((status = 200, body = Vec<CredentialOut>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_credentials(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
    query: Result<Query<CredentialQuery>, QueryRejection>,
) -> ApiResult<Page<CredentialOut>> {
    let Query(q) = query?;
    paging.offset(list(s.cordon.credentials(&p, &r, q.state.as_deref()).await?))
}

#[utoipa::path(patch, path = "/api/v1/incidents/{ref}/credentials/{id}", tag = "registers", request_body = CredentialPatch,
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "credential id")),
    responses((status = 200, body = CredentialOut), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn patch_credential(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<CredentialPatch>,
) -> ApiResult<Json<CredentialOut>> {
    Ok(Json(
        s.cordon.set_credential_state(&p, &r, &id, &b.state).await?.into_wire(),
    ))
}

// ---------- exposures ----------

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/exposures", tag = "registers", request_body = ExposureIn,
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 201, body = ExposureOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn add_exposure(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<ExposureIn>,
) -> ApiResult<Response> {
    let new = NewExposure {
        data: b.data,
        classification: b.classification,
        records: b.records,
        customers: b.customers,
        evidence: b.evidence,
        events: b.events.into_iter().map(|e| (e.source_id, e.line)).collect(),
    };
    Ok(created(ExposureOut::from_service(
        s.cordon.add_exposure(&p, &r, new).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/exposures", tag = "registers",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = Vec<ExposureOut>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_exposures(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<ExposureOut>> {
    paging.offset(list(s.cordon.exposures(&p, &r).await?))
}

// ---------- indicators ----------

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/iocs", tag = "registers", request_body = IocIn,
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 201, description = "added, or merged into the known indicator (`merged`)", body = IocOut),
              (status = 404, body = Problem), (status = 422, description = "an invalid value, e.g. a CIDR with host bits set", body = Problem)),
    security(("bearer" = [])))]
async fn add_ioc(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<IocIn>,
) -> ApiResult<Response> {
    let new = NewIndicator {
        kind: b.kind,
        value: b.value,
        note: b.note,
    };
    Ok(created(IocOut::from_service(
        s.cordon.add_indicator(&p, &r, new).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/iocs", tag = "registers",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = Vec<IocOut>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_iocs(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<IocOut>> {
    paging.offset(list(s.cordon.indicators(&p, &r).await?))
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/iocs/promote", tag = "registers", request_body = PromoteIn,
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 201, body = IocOut), (status = 404, body = Problem),
              (status = 422, description = "the event does not mention the value", body = Problem)),
    security(("bearer" = [])))]
async fn promote_ioc(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<PromoteIn>,
) -> ApiResult<Response> {
    let pr = Promotion {
        source_id: b.source_id,
        line: b.line,
        value: b.value,
        kind: b.kind,
        note: b.note,
    };
    Ok(created(IocOut::from_service(
        s.cordon.promote_indicator(&p, &r, pr).await?,
    )))
}

/// Searches the timelines for one page of the indicators (`limit` of them from `cursor`, in
/// the order of `GET …/iocs`) and records every event found; while more indicators follow, the
/// answer links to the next page (`Link: <…>; rel="next"`), which searches those.
#[utoipa::path(post, path = "/api/v1/incidents/{ref}/iocs/search", tag = "registers",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, description = "each indicator of the page with every event found (all of them), the new sightings and first/last seen over all; `Link: rel=next` while more indicators follow", body = Vec<SearchOut>),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn search_iocs(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<SearchOut>> {
    let (start, limit) = paging.window()?;
    let page = s.cordon.search_indicators(&p, &r, start, limit).await?;
    let items = page.outcomes.into_iter().map(SearchOut::from_service).collect();
    Ok(paging.windowed(items, start, page.total))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/iocs/export", tag = "registers",
    params(("ref" = String, Path, description = "incident id or codename"), ExportQuery),
    responses((status = 200, description = "the blocklist file; `Cordon-Warnings` counts private or reserved entries (also named inside the file)", content(
                (String = "text/plain"), (String = "text/csv"), (Object = "application/stix+json"))),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn export_iocs(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let out = s
        .cordon
        .export_indicators(&p, &r, &q.format, q.include_private.unwrap_or(true))
        .await?;
    let mut res = out.rendered.body.into_response();
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(out.format.content_type()));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", out.file_name)) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    h.insert(
        HeaderName::from_static(WARNINGS_HEADER),
        HeaderValue::from(out.rendered.warnings.len()),
    );
    Ok(res)
}

// ---------- risk and follow-ups ----------

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/risk", tag = "registers",
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = RiskOut), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn risk(State(s): State<AppState>, Caller(p): Caller, ApiPath(r): ApiPath<String>) -> ApiResult<Json<RiskOut>> {
    Ok(Json(s.cordon.risk(&p, &r).await?.into_wire()))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/follow-ups", tag = "registers",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = Vec<FollowUpOut>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn list_follow_ups(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<FollowUpOut>> {
    paging.offset(list(s.cordon.follow_ups(&p, &r).await?))
}

#[utoipa::path(patch, path = "/api/v1/incidents/{ref}/follow-ups/{id}", tag = "registers", request_body = FollowUpPatch,
    params(("ref" = String, Path, description = "incident id or codename"), ("id" = String, Path, description = "task id")),
    responses((status = 200, body = FollowUpOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn patch_follow_up(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath((r, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<FollowUpPatch>,
) -> ApiResult<Json<FollowUpOut>> {
    let status = b
        .status
        .as_deref()
        .map(str::parse::<cordon_core::task::TaskStatus>)
        .transpose()
        .map_err(cordon_service::ServiceError::from)?;
    Ok(Json(
        s.cordon
            .update_follow_up(&p, &r, &id, status, b.assignee)
            .await?
            .into_wire(),
    ))
}
