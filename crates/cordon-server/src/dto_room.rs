//! Request and response bodies of the war-room conversation and the change streams (issue 15).
//! Unknown fields are rejected.

use cordon_core::Timestamp;
use cordon_service::feed::Change;
use cordon_service::room::{MessageView, Posted};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A message for the war room.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    /// The text: 1 to 4096 bytes of UTF-8, lines allowed. A first word `!ic`, `!ack`,
    /// `!status` or `!help` makes it a chat command, run as the caller through the same
    /// dispatcher as Slack and Matrix; Cordon's reply is kept after it.
    pub body: String,
}

/// One message of the war-room conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    pub id: Uuid,
    /// The message's place in the conversation (the sequence number of its audit entry); the
    /// list's cursor.
    pub seq: i64,
    pub incident: Uuid,
    /// Who typed it; `null` for Cordon's reply to a command.
    pub author: Option<String>,
    /// True for Cordon's replies.
    pub from_cordon: bool,
    /// `message`, `command` (a chat command typed in the room) or `reply` (Cordon's answer).
    #[schema(pattern = "^(message|command|reply)$")]
    pub kind: String,
    pub body: String,
    /// For a reply, the command it answers.
    pub reply_to: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<MessageView> for MessageOut {
    fn from(m: MessageView) -> Self {
        Self {
            id: m.id,
            seq: m.seq,
            incident: m.incident_id,
            from_cordon: m.author.is_none(),
            author: m.author,
            kind: m.kind.as_str().to_owned(),
            body: m.body,
            reply_to: m.reply_to,
            created_at: m.created_at,
        }
    }
}

/// What a post stored: the message and, for a chat command, Cordon's reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostedOut {
    pub message: MessageOut,
    pub reply: Option<MessageOut>,
}

impl From<Posted> for PostedOut {
    fn from(p: Posted) -> Self {
        Self {
            message: p.message.into(),
            reply: p.reply.map(Into::into),
        }
    }
}

/// The data of a `change` event: which incident changed, the audit entry that recorded it, and
/// what kind of thing changed — never what it now says.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOut {
    pub incident: Uuid,
    pub seq: i64,
    /// `incident`, `member`, `task`, `decision`, `message`, `page`, `evidence`, `timeline`,
    /// `asset`, `system`, `ioc`, `credential`, `exposure`, `communication`, `contact` or
    /// `clock`.
    pub kind: String,
}

impl From<&Change> for ChangeOut {
    fn from(c: &Change) -> Self {
        Self {
            incident: c.incident,
            seq: c.seq,
            kind: c.kind.to_owned(),
        }
    }
}

/// One server-sent event of a change stream, as a client parses it. `ready` opens the stream
/// (data `{"seq":N}`: changes after N follow); `change` carries a [`ChangeOut`] as JSON and its
/// `seq` as the event id (send it back as `Last-Event-ID` to resume); `resync` (data
/// `{"seq":N}`) says changes were missed that cannot be replayed: re-read everything. Comment
/// lines (`: heartbeat`) come every 15 s.
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamEvent {
    #[schema(pattern = "^(ready|change|resync)$")]
    pub event: String,
    /// JSON: `{"seq":N}` for `ready` and `resync`, a change for `change`.
    pub data: String,
    #[schema(pattern = "^[0-9]+$")]
    pub id: Option<String>,
    pub retry: Option<u64>,
}
