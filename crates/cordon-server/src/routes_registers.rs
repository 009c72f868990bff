//! Containment and impact register routes (issue 6): assets, systems, credentials,
//! exposures, indicators (with promotion, sightings search and blocklist exports), the risk
//! view and follow-up tasks. The request and response bodies live here, beside their handlers.
//!
//! The blocklist export answers the rendered file; private or reserved ranges in it are
//! announced in the `Cordon-Warnings` header (their count) and inside the file itself.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use cordon_core::Timestamp;
use cordon_core::register::ContainmentProgress;
use cordon_service::registers::iocs::{IndicatorView, NewIndicator, Promotion, SearchOutcome};
use cordon_service::registers::{
    AssetMoveRecord, AssetView, CredentialView, ExposureRecord, FollowUpView, NewAsset, NewCredential, NewExposure,
    NewSystem, RiskView, SystemRecord,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::pagination::{Page, PageParams, Paging};
use crate::problem::Problem;
use crate::routes::{ApiJson, ApiPath, ApiResult, created};

/// The header naming how many warnings an export carries.
pub const WARNINGS_HEADER: &str = "cordon-warnings";

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

// ---------- bodies ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetIn {
    pub name: String,
    /// `host`, `instance`, `container`, `database`, `bucket`, `account`, `network`.
    pub kind: String,
    pub address: Option<String>,
    /// `suspected`, `compromised`, `isolated`, `imaged`, `rebuilt`, `clean`.
    pub state: String,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    pub state: String,
    /// Why, e.g. "security group detached".
    pub note: Option<String>,
}

/// One state an asset entered.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetMoveOut {
    /// Null for the state it was registered in.
    pub from: Option<String>,
    pub to: String,
    pub by: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub note: String,
}

impl From<AssetMoveRecord> for AssetMoveOut {
    fn from(m: AssetMoveRecord) -> Self {
        Self {
            from: m.from.map(|s| s.as_str().to_owned()),
            to: m.to.as_str().to_owned(),
            by: m.by_name,
            at: m.at,
            note: m.note,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssetOut {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub address: Option<String>,
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Every state it entered, oldest first, with who and when.
    pub history: Vec<AssetMoveOut>,
}

impl From<AssetView> for AssetOut {
    fn from(v: AssetView) -> Self {
        let a = v.asset;
        Self {
            id: a.id,
            name: a.name,
            kind: a.kind.as_str().to_owned(),
            address: a.address,
            state: a.state.as_str().to_owned(),
            created_at: a.created_at,
            updated_at: a.updated_at,
            history: v.history.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemIn {
    pub name: String,
    /// The user who owns the system: rotation tasks for credentials granting it go to them.
    pub owner: Option<String>,
    /// Names of the incident's assets the system is made of.
    #[serde(default)]
    pub assets: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SystemOut {
    pub id: Uuid,
    pub name: String,
    pub owner: Option<String>,
    pub assets: Vec<String>,
}

impl From<SystemRecord> for SystemOut {
    fn from(s: SystemRecord) -> Self {
        Self {
            id: s.id,
            name: s.name,
            owner: s.owner_name,
            assets: s.assets,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialIn {
    pub name: String,
    /// `ssh_key`, `password`, `api_key`, `cloud_access_key`, `certificate`, `token`, `other`.
    pub kind: String,
    /// Names of the incident's assets it is stored on.
    #[serde(default)]
    pub stored_on: Vec<String>,
    /// Systems it grants access to.
    #[serde(default)]
    pub grants: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialPatch {
    /// `rotated` or `revoked`.
    pub state: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
/// (Other query parameters — `limit`, `cursor` — are the pagination's.)
pub struct CredentialQuery {
    /// A state (`unaffected`, `compromised`, `rotated`, `revoked`), or `unrotated`: the
    /// compromised ones still to rotate or revoke.
    pub state: Option<String>,
}

/// A follow-up task: work the registers created under a playbook step.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpOut {
    pub id: Uuid,
    /// `STEP.N`: the N-th follow-up task under its step, what paths take in place of the id.
    pub handle: String,
    pub parent_step: u32,
    pub key: String,
    pub title: String,
    pub status: String,
    /// The role it falls to when no person owns it.
    pub owner_role: Option<String>,
    pub assignee: Option<String>,
    pub credential_id: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<FollowUpView> for FollowUpOut {
    fn from(v: FollowUpView) -> Self {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpPatch {
    /// `todo`, `in_progress`, `done`, `skipped`.
    pub status: Option<String>,
    /// A user name, or null to unassign.
    #[serde(default, deserialize_with = "crate::routes_registers::double_option")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
}

pub(crate) fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Containment progress of the "isolate affected instances" step.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressOut {
    pub isolated: u32,
    pub imaged: u32,
    /// Assets that were compromised.
    pub of: u32,
}

impl From<ContainmentProgress> for ProgressOut {
    fn from(p: ContainmentProgress) -> Self {
        Self {
            isolated: p.isolated,
            imaged: p.imaged,
            of: p.of,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialOut {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub stored_on: Vec<String>,
    pub grants: Vec<String>,
    /// `unaffected`, `compromised`, `rotated`, `revoked`.
    pub state: String,
    /// Its rotation tasks.
    pub tasks: Vec<FollowUpOut>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<CredentialView> for CredentialOut {
    fn from(v: CredentialView) -> Self {
        let c = v.credential;
        Self {
            id: c.id,
            name: c.name,
            kind: c.kind.as_str().to_owned(),
            stored_on: c.stored_on,
            grants: c.grants,
            state: c.state.as_str().to_owned(),
            tasks: v.tasks.into_iter().map(Into::into).collect(),
            updated_at: c.updated_at,
        }
    }
}

/// A timeline event: its source and first line.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRefIo {
    pub source_id: String,
    pub line: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExposureIn {
    /// What data, in words.
    pub data: String,
    /// `public`, `internal`, `confidential`, `restricted`, `pii`, `phi`, `pci`, `credentials`.
    pub classification: String,
    pub records: Option<u64>,
    #[serde(default)]
    pub customers: Vec<String>,
    /// Evidence ids of this incident.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Timeline events that show it.
    #[serde(default)]
    pub events: Vec<EventRefIo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExposureOut {
    pub id: Uuid,
    pub data: String,
    pub classification: String,
    /// True for regulated categories (PII, PHI, PCI), which can oblige notification.
    pub regulated: bool,
    pub records: Option<u64>,
    pub customers: Vec<String>,
    pub evidence: Vec<Uuid>,
    pub events: Vec<EventRefIo>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<ExposureRecord> for ExposureOut {
    fn from(e: ExposureRecord) -> Self {
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IocIn {
    /// `ip`, `cidr`, `domain`, `url`, `sha256`, `md5`, `email`, `account`, `user_agent`.
    pub kind: String,
    /// Defanged forms (`hxxp://`, `1.2.3[.]4`, `[at]`) are accepted.
    pub value: String,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoteIn {
    /// The event: its timeline source and first line (`source_id`, `provenance.line`).
    pub source_id: String,
    pub line: u64,
    /// The value, as it appears in the event.
    pub value: String,
    /// Guessed from the value when absent.
    pub kind: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SightingOut {
    pub source_id: Uuid,
    pub line: u64,
    pub byte_offset: u64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub host: Option<String>,
    /// `promoted`, `search` or `watch`.
    pub how: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IocOut {
    pub id: Uuid,
    pub kind: String,
    /// Normalized.
    pub value: String,
    pub notes: Vec<String>,
    /// Set for a private or reserved address: it is kept, and flagged in every export.
    pub warning: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_seen: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<Timestamp>,
    pub sightings: Vec<SightingOut>,
    /// True when this call merged into a known indicator.
    pub merged: bool,
}

impl From<IndicatorView> for IocOut {
    fn from(v: IndicatorView) -> Self {
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

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchOut {
    pub id: Uuid,
    pub kind: String,
    pub value: String,
    /// Events that mention it: all of them, however many.
    pub found: u64,
    /// Of those, not recorded before.
    pub new: u64,
    /// Sightings recorded for it now, in all.
    pub sightings: u64,
    /// Over every sighting.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_seen: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<Timestamp>,
}

impl From<SearchOutcome> for SearchOut {
    fn from(o: SearchOutcome) -> Self {
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `nftables`, `iptables` (IPv4), `ip6tables` (IPv6), `ipset`, `cidr`, `csv`, `stix`.
    pub format: String,
    /// Keep private and reserved ranges (default true; each is warned about). False leaves
    /// them out, and the warnings name what was left out.
    pub include_private: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SystemAtRiskOut {
    pub system: String,
    pub owner: Option<String>,
    /// Unrotated credentials from compromised assets that grant it.
    pub via: Vec<String>,
    /// Its assets not known to be compromised.
    pub assets_at_risk: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExposedCredentialOut {
    pub name: String,
    pub state: String,
    /// The compromised assets it is stored on.
    pub stored_on: Vec<String>,
    pub grants: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskOut {
    pub compromised_assets: Vec<String>,
    pub credentials: Vec<ExposedCredentialOut>,
    pub systems_at_risk: Vec<SystemAtRiskOut>,
}

impl From<RiskView> for RiskOut {
    fn from(v: RiskView) -> Self {
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

fn list<T, U: From<T>>(v: Vec<T>) -> Vec<U> {
    v.into_iter().map(Into::into).collect()
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
    Ok(created(AssetOut::from(s.cordon.add_asset(&p, &r, new).await?)))
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
    Ok(Json(s.cordon.move_asset(&p, &r, &id, &b.state, b.note).await?.into()))
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
    Ok(created(SystemOut::from(s.cordon.put_system(&p, &r, new).await?)))
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
    Ok(created(CredentialOut::from(
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
    Ok(Json(s.cordon.set_credential_state(&p, &r, &id, &b.state).await?.into()))
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
    Ok(created(ExposureOut::from(s.cordon.add_exposure(&p, &r, new).await?)))
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
    Ok(created(IocOut::from(s.cordon.add_indicator(&p, &r, new).await?)))
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
    Ok(created(IocOut::from(s.cordon.promote_indicator(&p, &r, pr).await?)))
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
    let items = page.outcomes.into_iter().map(SearchOut::from).collect();
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
    Ok(Json(s.cordon.risk(&p, &r).await?.into()))
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
        s.cordon.update_follow_up(&p, &r, &id, status, b.assignee).await?.into(),
    ))
}
