//! Paging routes: on-call schedules, escalation policies, contact methods, pages, the
//! one-time acknowledgement link, and the generic chat command endpoint.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use cordon_api::paging::{
    AddContact, ChannelOut, ChatCommandIn, ChatCommandOut, ChatRoom, ContactOut, Delivered, EscalationPolicySpec,
    NotificationOut, OnCallOut, PageListQuery, PageOut, ReachOut, ReadinessOut, RotateSecret, ScheduleSpec,
    TriggerPage,
};
use cordon_core::role::Role;
use cordon_notify::PageState;
use cordon_service::ServiceError;
use cordon_service::paging::{PageFilter, PageRequest, PageTarget, PageView, PagingReadiness, ReachOutcome};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::pagination::{KeysetParams, Page, PageParams, Paging};
use crate::problem::Problem;
use crate::routes::{ApiJson, ApiPath, ApiResult, created};
use crate::wire::{FromService, IntoWire};

// ---------- bodies (from the service's answers) ----------

impl FromService<PagingReadiness> for ReadinessOut {
    fn from_service(r: PagingReadiness) -> Self {
        Self {
            ok: r.warnings.is_empty(),
            channels: r
                .channels
                .into_iter()
                .map(|c| ChannelOut {
                    channel: c.channel.to_owned(),
                    ready: c.ready,
                    detail: c.detail,
                })
                .collect(),
            warnings: r.warnings,
        }
    }
}

impl FromService<PageView> for PageOut {
    fn from_service(v: PageView) -> Self {
        let s: &PageState = &v.state;
        let reach = v
            .reach()
            .into_iter()
            .map(|r| {
                let (outcome, channels, why) = match r.outcome {
                    ReachOutcome::Reached { channels } => ("reached", channels, Vec::new()),
                    ReachOutcome::Trying { channels } => ("trying", channels, Vec::new()),
                    ReachOutcome::NotReached { why } => ("not_reached", Vec::new(), why),
                };
                ReachOut {
                    user: r.user,
                    level: r.level,
                    outcome: outcome.into(),
                    channels,
                    why,
                }
            })
            .collect();
        let summary = v.reach_summary();
        let reached_nobody = v.reached_nobody();
        let reason = v.reason().map(str::to_owned);
        Self {
            id: v.id,
            status: s.status.as_str().to_owned(),
            incident: v.incident.as_ref().map(|(_, c)| c.clone()),
            incident_id: v.incident.as_ref().and_then(|(id, _)| *id),
            policy: v.policy.clone(),
            level: s.level,
            round: s.round,
            next_escalation_at: s.next_deadline.map(|d| d.at),
            acknowledged_by: v.acknowledged_by.clone(),
            triggered_at: s.triggered_at,
            role: v.role.map(|r| r.as_str().to_owned()),
            restricted: v.restricted,
            notifications: v
                .notifications
                .into_iter()
                .map(|n| NotificationOut {
                    user: n.user_name,
                    channel: n.channel,
                    level: n.level,
                    at: n.updated_at,
                    delivered: n.status == "delivered",
                    status: n.status,
                    attempts: n.attempts,
                    error: n.error,
                })
                .collect(),
            unreached: v.unreached,
            reason,
            reach,
            reached_nobody,
            summary,
        }
    }
}

// ---------- routes ----------

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_schedule, list_schedules))
        .routes(routes!(put_policy, list_policies))
        .routes(routes!(add_contact, list_contacts))
        .routes(routes!(test_contact))
        .routes(routes!(rotate_contact_secret))
        .routes(routes!(readiness))
        .routes(routes!(trigger_page, incident_pages))
        .routes(routes!(list_pages))
        .routes(routes!(get_page))
        .routes(routes!(ack_page))
        .routes(routes!(resolve_page))
        .routes(routes!(chat_command))
        .routes(routes!(put_chat_room, get_chat_room))
}

fn spec_value<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, Problem> {
    serde_json::from_value(v).map_err(|e| {
        Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            e.to_string(),
        )
    })
}

#[utoipa::path(post, path = "/api/v1/oncall/schedules", tag = "oncall", request_body = Object,
    responses((status = 201, description = "the schedule as stored"), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn put_schedule(State(s): State<AppState>, Caller(p): Caller, ApiJson(b): ApiJson<Value>) -> ApiResult<Response> {
    let spec: ScheduleSpec = spec_value(b)?;
    let schedule = s.cordon.put_schedule(&p, spec).await?;
    Ok(created(schedule.to_spec()))
}

#[utoipa::path(get, path = "/api/v1/oncall/schedules", tag = "oncall", params(PageParams),
    responses((status = 200, description = "every schedule with who is on call now", body = Vec<OnCallOut>)),
    security(("bearer" = [])))]
async fn list_schedules(State(s): State<AppState>, Caller(_p): Caller, paging: Paging) -> ApiResult<Page<OnCallOut>> {
    let mut out = Vec::new();
    for sch in s.cordon.schedules().await? {
        let user = s.cordon.on_call(sch.name()).await?;
        out.push(OnCallOut {
            schedule: sch.name().to_owned(),
            user,
        });
    }
    paging.offset(out)
}

#[utoipa::path(post, path = "/api/v1/oncall/escalation-policies", tag = "oncall", request_body = Object,
    responses((status = 201, description = "the policy as stored"), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn put_policy(State(s): State<AppState>, Caller(p): Caller, ApiJson(b): ApiJson<Value>) -> ApiResult<Response> {
    let spec: EscalationPolicySpec = spec_value(b)?;
    let policy = s.cordon.put_policy(&p, spec).await?;
    Ok(created(policy.to_spec()))
}

#[utoipa::path(get, path = "/api/v1/oncall/escalation-policies", tag = "oncall", params(PageParams),
    responses((status = 200, description = "every escalation policy")), security(("bearer" = [])))]
async fn list_policies(State(s): State<AppState>, Caller(_p): Caller, paging: Paging) -> ApiResult<Page<Value>> {
    paging.offset(s.cordon.policy_specs().await?)
}

#[utoipa::path(post, path = "/api/v1/users/{name}/contacts", tag = "users", request_body = AddContact,
    params(("name" = String, Path)),
    responses((status = 201, body = ContactOut), (status = 403, body = Problem), (status = 409, description = "the contact method exists already", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn add_contact(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<AddContact>,
) -> ApiResult<Response> {
    let added = s.cordon.add_contact(&p, &name, &b.kind, &b.address).await?;
    Ok(created(ContactOut {
        kind: added.contact.kind,
        address: added.contact.address,
        secret: added.secret,
    }))
}

#[utoipa::path(post, path = "/api/v1/users/{name}/contacts/rotate-secret", tag = "users", request_body = RotateSecret,
    params(("name" = String, Path)),
    responses((status = 200, body = ContactOut, description = "the webhook's new signing secret, shown once"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
async fn rotate_contact_secret(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<RotateSecret>,
) -> ApiResult<Json<ContactOut>> {
    let secret = s.cordon.rotate_webhook_secret(&p, &name, &b.address).await?;
    Ok(Json(ContactOut {
        kind: "webhook".into(),
        address: b.address.trim().to_owned(),
        secret: Some(secret),
    }))
}

#[utoipa::path(get, path = "/api/v1/users/{name}/contacts", tag = "users", params(PageParams, ("name" = String, Path)),
    responses((status = 200, body = Vec<ContactOut>), (status = 403, body = Problem)), security(("bearer" = [])))]
async fn list_contacts(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Page<ContactOut>> {
    let list = s.cordon.contacts(&p, &name).await?;
    paging.offset(
        list.into_iter()
            .map(|c| ContactOut {
                kind: c.kind,
                address: c.address,
                secret: None,
            })
            .collect(),
    )
}

#[utoipa::path(post, path = "/api/v1/users/{name}/contacts/test", tag = "users", request_body = AddContact,
    params(("name" = String, Path)),
    responses((status = 200, description = "delivered"), (status = 409, body = Problem)), security(("bearer" = [])))]
async fn test_contact(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(b): ApiJson<AddContact>,
) -> ApiResult<Json<Delivered>> {
    s.cordon.test_contact(&p, &name, &b.kind, &b.address).await?;
    Ok(Json(Delivered { delivered: true }))
}

#[utoipa::path(post, path = "/api/v1/incidents/{ref}/pages", tag = "paging", request_body = TriggerPage,
    params(("ref" = String, Path, description = "incident id or codename")),
    responses((status = 201, body = PageOut), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn trigger_page(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(r): ApiPath<String>,
    ApiJson(b): ApiJson<TriggerPage>,
) -> ApiResult<Response> {
    let target = match (b.policy, b.user) {
        (Some(_), Some(_)) => {
            return Err(Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "give `policy` or `user`, not both",
            ));
        }
        (None, Some(u)) => PageTarget::User(u),
        (policy, None) => PageTarget::Policy(policy.unwrap_or_else(|| cordon_service::paging::IC_POLICY.into())),
    };
    let role = b
        .role
        .as_deref()
        .map(str::parse::<Role>)
        .transpose()
        .map_err(ServiceError::from)?;
    let req = PageRequest {
        target,
        role,
        reason: b.reason,
    };
    Ok(created(PageOut::from_service(
        s.cordon.trigger_page(&p, &r, req).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/incidents/{ref}/pages", tag = "paging",
    params(PageParams, ("ref" = String, Path, description = "incident id or codename")),
    responses((status = 200, body = Vec<PageOut>), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn incident_pages(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    ApiPath(r): ApiPath<String>,
) -> ApiResult<Page<PageOut>> {
    paging.offset(
        s.cordon
            .incident_pages(&p, &r)
            .await?
            .into_iter()
            .map(IntoWire::into_wire)
            .collect(),
    )
}

#[utoipa::path(get, path = "/api/v1/oncall/readiness", tag = "oncall",
    responses((status = 200, body = ReadinessOut, description = "whether pages can reach anyone: the channels, and the warnings also logged at start"),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn readiness(State(s): State<AppState>, Caller(p): Caller) -> ApiResult<Json<ReadinessOut>> {
    Ok(Json(s.cordon.paging_readiness(&p).await?.into_wire()))
}

#[utoipa::path(get, path = "/api/v1/pages", tag = "paging", params(PageListQuery, KeysetParams),
    responses((status = 200, body = Vec<PageOut>, description = "the pages the caller may see, newest first; a recipient outside an incident's team sees only their own notifications"),
        (status = 404, body = Problem, description = "no incident of that reference the caller may see")),
    security(("bearer" = [])))]
async fn list_pages(
    State(s): State<AppState>,
    Caller(p): Caller,
    paging: Paging,
    query: Result<Query<PageListQuery>, QueryRejection>,
) -> ApiResult<Page<PageOut>> {
    let Query(q) = query?;
    let after = match paging.position() {
        None => None,
        Some(pos) => Some(crate::routes::incident_position(pos).ok_or_else(|| paging.invalid())?),
    };
    let filter = PageFilter {
        incident: q.incident.filter(|r| !r.trim().is_empty()),
        status: q.status,
    };
    // One more than the page, so the service says whether more follow.
    let list = s.cordon.list_pages(&p, &filter, after, paging.limit + 1).await?;
    let page = paging.keyset(list.pages, |v| {
        format!("{}-{}", cordon_core::clock::to_micros(v.created_at), v.id.simple())
    });
    Ok(page.map(PageOut::from_service))
}

#[utoipa::path(get, path = "/api/v1/pages/{id}", tag = "paging", params(("id" = String, Path)),
    responses((status = 200, body = PageOut), (status = 404, body = Problem)), security(("bearer" = [])))]
async fn get_page(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PageOut>> {
    Ok(Json(s.cordon.page(&p, &id).await?.into_wire()))
}

#[utoipa::path(post, path = "/api/v1/pages/{id}/ack", tag = "paging", params(("id" = String, Path)),
    responses((status = 200, body = PageOut), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
async fn ack_page(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PageOut>> {
    Ok(Json(s.cordon.ack_page(&p, &id).await?.into_wire()))
}

#[utoipa::path(post, path = "/api/v1/pages/{id}/resolve", tag = "paging", params(("id" = String, Path)),
    responses((status = 200, body = PageOut), (status = 404, body = Problem), (status = 409, description = "already resolved", body = Problem)),
    security(("bearer" = [])))]
async fn resolve_page(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PageOut>> {
    Ok(Json(s.cordon.resolve_page(&p, &id).await?.into_wire()))
}

#[utoipa::path(post, path = "/api/v1/chat/commands", tag = "chat", request_body = ChatCommandIn,
    responses((status = 200, body = ChatCommandOut), (status = 422, body = Problem)), security(("bearer" = [])))]
async fn chat_command(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<ChatCommandIn>,
) -> ApiResult<Json<ChatCommandOut>> {
    let out = s.cordon.chat_command(&p, &b.room, &b.text, None).await?;
    Ok(Json(match out {
        Some(r) => ChatCommandOut {
            reply: r.reply,
            room_message: r.room.map(|n| n.text()),
            incident: r.incident,
            page: r.page,
        },
        None => ChatCommandOut {
            reply: String::new(),
            room_message: None,
            incident: None,
            page: None,
        },
    }))
}

#[utoipa::path(put, path = "/api/v1/chat/rooms/{room}", tag = "chat", request_body = ChatRoom,
    params(("room" = String, Path, description = "the room id, e.g. `!abc:matrix.example` (percent-encoded)")),
    responses((status = 200, body = ChatRoom), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
async fn put_chat_room(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(room): ApiPath<String>,
    ApiJson(b): ApiJson<ChatRoom>,
) -> ApiResult<Json<ChatRoom>> {
    s.cordon.set_room_team_only(&p, &room, b.team_only).await?;
    Ok(Json(b))
}

#[utoipa::path(get, path = "/api/v1/chat/rooms/{room}", tag = "chat",
    params(("room" = String, Path, description = "the room id (percent-encoded)")),
    responses((status = 200, body = ChatRoom)), security(("bearer" = [])))]
async fn get_chat_room(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(room): ApiPath<String>,
) -> ApiResult<Json<ChatRoom>> {
    Ok(Json(ChatRoom {
        team_only: s.cordon.room_team_only(&p, &room).await?,
    }))
}
