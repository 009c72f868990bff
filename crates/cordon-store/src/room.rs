//! The war-room conversation (issue 15): the messages people type in an incident's room in
//! Cordon, the chat commands among them and Cordon's replies to those commands.
//!
//! A message is stored with its audit entry in one transaction and takes that entry's sequence
//! number ([`RoomMessage::seq`]): the conversation's order is the audit chain's, the same on
//! every node, and a message can neither be changed nor removed (the tables refuse it).

use async_trait::async_trait;
use cordon_core::Timestamp;
use uuid::Uuid;

use crate::{AuditDraft, Result};

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Something a person said.
    Message,
    /// A chat command a person typed (`!ic page`, `!status`, …), run as that person.
    Command,
    /// Cordon's answer to a command ([`RoomMessage::reply_to`] names it); it has no author.
    Reply,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Command => "command",
            Self::Reply => "reply",
        }
    }
}

impl std::str::FromStr for MessageKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "message" => Ok(Self::Message),
            "command" => Ok(Self::Command),
            "reply" => Ok(Self::Reply),
            other => Err(format!("unknown message kind `{other}`")),
        }
    }
}

/// A message to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoomMessage {
    pub id: Uuid,
    pub incident_id: Uuid,
    /// `None` for Cordon's replies.
    pub author: Option<Uuid>,
    pub kind: MessageKind,
    pub body: String,
    pub reply_to: Option<Uuid>,
    pub created_at: Timestamp,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMessage {
    /// The sequence number of the audit entry stored with it: the conversation's order.
    pub seq: i64,
    pub id: Uuid,
    pub incident_id: Uuid,
    pub author: Option<Uuid>,
    /// The author's user name (`None` for Cordon's replies).
    pub author_name: Option<String>,
    pub kind: MessageKind,
    pub body: String,
    pub reply_to: Option<Uuid>,
    pub created_at: Timestamp,
}

/// The war-room conversation. Part of [`crate::Store`].
#[async_trait]
pub trait RoomStore: Send + Sync {
    /// Stores a message with its audit entry in one transaction; the message takes the entry's
    /// sequence number.
    async fn add_room_message(&self, message: &NewRoomMessage, audit: AuditDraft) -> Result<RoomMessage>;
    /// One page of an incident's conversation, newest first: at most `limit` messages whose
    /// sequence number is below `before` (all when `None`).
    async fn room_messages(&self, incident: Uuid, before: Option<i64>, limit: u32) -> Result<Vec<RoomMessage>>;
    /// The whole conversation of an incident, oldest first (the report).
    async fn room_log(&self, incident: Uuid) -> Result<Vec<RoomMessage>>;
}
