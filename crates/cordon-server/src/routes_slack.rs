//! Slack-compatible inbound endpoints: the Events API (URL verification, message events) and
//! slash commands (`/ic page`). Requests are authenticated by their `X-Slack-Signature` (v0,
//! five-minute replay window); the Slack user is the Cordon user who linked that account (a
//! chat identity; `/ic link CODE` links one, before any lookup). Off unless
//! `CORDON_SLACK_SIGNING_SECRET` is set.
//!
//! A Slack channel is an unprotected room: the reply to a command goes to its caller alone (the
//! slash command's ephemeral response, `chat.postEphemeral` for a message), and the channel as a
//! whole only ever gets the incident's [`cordon_channels::RoomNotice`] (codename, severity,
//! status, link) through `chat.postMessage`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use cordon_channels::slack::{SlackEvent, SlackMessage, parse_event, parse_slash_command, slash_response};
use cordon_channels::{Command, LinkCodeText, SlackClient, SlackVerifier};
use cordon_service::Principal;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::problem::Problem;

/// How this deployment talks to Slack.
pub struct SlackSettings {
    pub verifier: SlackVerifier,
    /// Posts replies to message events (`chat.postMessage`-compatible); slash commands are
    /// answered in the HTTP response and need no client.
    pub client: Option<SlackClient>,
}

impl std::fmt::Debug for SlackSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackSettings")
            .field("client", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/api/v1/slack/events", post(events))
        .route("/api/v1/slack/commands", post(commands))
}

fn settings(s: &AppState) -> Result<Arc<SlackSettings>, Problem> {
    s.slack.clone().ok_or_else(Problem::not_found)
}

/// Checks the signature again. The gate in front of these routes (`crate::slack_guard`) has
/// verified the request, refused replays and counted (and audits, in aggregate) every refusal
/// before a handler runs; this is defence in depth and audits nothing per request.
async fn verify(s: &AppState, slack: &SlackSettings, headers: &HeaderMap, body: &[u8]) -> Result<(), Problem> {
    let now = s.cordon.clock().now();
    slack
        .verifier
        .verify_headers(headers, body, now)
        .map_err(|e| Problem::new(StatusCode::UNAUTHORIZED, "bad_signature", e.to_string()))
}

async fn who(s: &AppState, slack_user: &str) -> Result<Option<Principal>, Problem> {
    Ok(s.cordon.principal_for_chat("slack_user", slack_user).await?)
}

const NOT_LINKED: &str = "Your Slack account is not linked to a Cordon user. Ask Cordon for a code \
     (`cordon user link-code slack`) and type `/ic link CODE`, or ask an admin to link it.";

/// `/ic link CODE`: answered before the sender is looked up, since an account linked to
/// nobody must be able to link itself. The reply never repeats the code.
async fn link(s: &AppState, slack_user: &str, code: &LinkCodeText) -> String {
    match s.cordon.link_chat_identity("slack", slack_user, code.expose()).await {
        Ok(linked) => linked.reply(),
        Err(e) => Problem::from(e).0.detail,
    }
}

/// `!ic link CODE` typed in a channel the bot reads: the reply goes where replies go.
async fn link_message(s: &AppState, slack: &SlackSettings, m: &SlackMessage, code: &LinkCodeText) -> Json<Value> {
    let reply = link(s, &m.user, code).await;
    // The reply names the Cordon user: the sender's alone.
    if let Some(client) = &slack.client
        && let Err(e) = client.post_ephemeral(&m.channel, &m.user, &reply).await
    {
        tracing::warn!(error = %e, "could not send the reply to Slack privately");
    }
    Json(json!({}))
}

async fn events(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Json<Value>, Problem> {
    let slack = settings(&s)?;
    verify(&s, &slack, &headers, &body).await?;
    let event =
        parse_event(&body).map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "malformed_event", e.to_string()))?;
    match event {
        SlackEvent::UrlVerification { challenge } => Ok(Json(json!({ "challenge": challenge }))),
        SlackEvent::Ignored { .. } => Ok(Json(json!({}))),
        SlackEvent::Message(m) => {
            let Some(cmd) = m.command() else {
                return Ok(Json(json!({})));
            };
            if let Command::Link { code } = &cmd {
                return Ok(link_message(&s, &slack, &m, code).await);
            }
            let (reply, room) = match who(&s, &m.user).await? {
                None => {
                    s.cordon
                        .audit_refused_request(&format!("slack:{}", m.user), "chat.command", "unlinked Slack account")
                        .await?;
                    (NOT_LINKED.to_owned(), None)
                }
                Some(p) => {
                    let r = s.cordon.answer_command(&p, &m.channel, cmd, None).await;
                    (r.reply, r.room)
                }
            };
            if let Some(client) = &slack.client {
                if let Some(notice) = room
                    && let Err(e) = client.post_message(&m.channel, &notice.text()).await
                {
                    tracing::warn!(error = %e, "could not post the room notice to Slack");
                }
                // The reply is the caller's alone: ephemeral, or not at all.
                if let Err(e) = client.post_ephemeral(&m.channel, &m.user, &reply).await {
                    tracing::warn!(error = %e, "could not send the reply to Slack privately");
                }
            }
            Ok(Json(json!({})))
        }
    }
}

async fn commands(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Json<Value>, Problem> {
    let slack = settings(&s)?;
    verify(&s, &slack, &headers, &body).await?;
    let cmd = parse_slash_command(&body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "malformed_command", e.to_string()))?;
    if let Command::Link { code } = cmd.command() {
        return Ok(Json(slash_response(&link(&s, &cmd.user_id, &code).await, false)));
    }
    let (reply, room) = match who(&s, &cmd.user_id).await? {
        None => {
            s.cordon
                .audit_refused_request(
                    &format!("slack:{}", cmd.user_id),
                    "chat.command",
                    "unlinked Slack account",
                )
                .await?;
            return Ok(Json(slash_response(NOT_LINKED, false)));
        }
        Some(p) => {
            let r = s.cordon.answer_command(&p, &cmd.channel_id, cmd.command(), None).await;
            (r.reply, r.room)
        }
    };
    if let (Some(client), Some(notice)) = (&slack.client, room)
        && let Err(e) = client.post_message(&cmd.channel_id, &notice.text()).await
    {
        tracing::warn!(error = %e, "could not post the room notice to Slack");
    }
    // The response to a slash command is ephemeral: only its caller sees it.
    Ok(Json(slash_response(&reply, false)))
}
