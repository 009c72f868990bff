//! The war-room conversation (issue 15): what the team types in an incident's room in Cordon
//! itself — the room that stays trustworthy when corporate chat may be compromised.
//!
//! A message reaches its incident through the gate like everything else: to someone who may not
//! see the incident, its conversation does not exist (404); posting is for the response team
//! ([`Cordon::work`], refusals audited). Bodies are multi-line text (`check_multiline`) of at
//! most [`MAX_MESSAGE_BYTES`]. Every message is stored with its audit entry (`message.post`,
//! payload: the message id, its kind, its size and the SHA-256 of its body — never the body) and
//! takes that entry's sequence number, which orders the conversation.
//!
//! A message whose first word is a chat command word (`!ic`, `!ack`, `!status`, `!help`) is a
//! command: it is stored, then run through the same dispatcher as Slack and Matrix
//! (`Cordon::dispatch`) as the person who typed it, with the incident the room belongs to, and
//! Cordon's answer is stored after it as a reply (`message.reply`, actor `system`, no author).
//! The whole reply is kept in the conversation: everyone who can read it passed the gate for
//! this incident, so it is the room the contract calls "checked to be all on the team". A
//! `!ic link CODE` line is stored as `!ic link …`: the code is a secret and never kept.
//!
//! The reply — a refusal included — is in the language of whoever typed the command (their
//! setting, else the browser's language the web front end passes as a hint, else English;
//! [`Cordon::reply_lang`]) and is stored in it: every reader of the conversation reads it as
//! it was answered.

use cordon_channels::{Command, parse_chat_line};
use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_i18n::Lang;
use cordon_store::room::{MessageKind, NewRoomMessage, RoomMessage};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::draft;
use crate::gate::{Access, Grants, SYSTEM_ACTOR, Work};
use crate::{Cordon, Result, ServiceError};

/// The largest message body, in bytes of UTF-8.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// The words that make a message a chat command.
const COMMAND_WORDS: &[&str] = &["!ic", "!ack", "!status", "!help"];

/// A message of the conversation, as shown to someone who may see the incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    /// Its place in the conversation (the sequence number of its audit entry).
    pub seq: i64,
    pub id: Uuid,
    pub incident_id: Uuid,
    /// Who typed it; `None`: Cordon's reply to a command.
    pub author: Option<String>,
    pub kind: MessageKind,
    pub body: String,
    /// For a reply, the command it answers.
    pub reply_to: Option<Uuid>,
    pub created_at: Timestamp,
}

impl From<RoomMessage> for MessageView {
    fn from(m: RoomMessage) -> Self {
        Self {
            seq: m.seq,
            id: m.id,
            incident_id: m.incident_id,
            author: m.author_name,
            kind: m.kind,
            body: m.body,
            reply_to: m.reply_to,
            created_at: m.created_at,
        }
    }
}

/// What posting a message stored: the message, and Cordon's reply when it was a command.
#[derive(Debug, Clone)]
pub struct Posted {
    pub message: MessageView,
    pub reply: Option<MessageView>,
}

/// Checks a message body: not blank, at most [`MAX_MESSAGE_BYTES`], multi-line text without
/// control or invisible formatting characters.
fn check_body(body: &str) -> Result<()> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(ServiceError::invalid(
            "body",
            format!(
                "a message holds at most {MAX_MESSAGE_BYTES} bytes of UTF-8; this one has {}: split it, or attach long text as evidence",
                body.len()
            ),
        ));
    }
    if body.trim().is_empty() {
        return Err(ServiceError::invalid("body", "a message must not be blank"));
    }
    cordon_core::text::check_multiline("body", body)?;
    Ok(())
}

/// The chat command a message is, when its first word is a command word.
fn command_in(body: &str) -> Option<Command> {
    let line = body.trim_start();
    let first = line.split_whitespace().next()?.to_ascii_lowercase();
    if !COMMAND_WORDS.contains(&first.as_str()) {
        return None;
    }
    parse_chat_line(line)
}

/// What is kept of a command: the text as typed, except a `!ic link` line, whose code is a
/// secret.
fn kept_command_text(body: &str, cmd: &Command) -> String {
    let mut words = body.split_whitespace();
    let is_link = matches!(cmd, Command::Link { .. })
        || (words.next().is_some_and(|w| w.eq_ignore_ascii_case("!ic"))
            && words.next().is_some_and(|w| w.eq_ignore_ascii_case("link")));
    if is_link {
        Command::Link {
            code: cordon_channels::LinkCodeText::new(""),
        }
        .canonical()
    } else {
        body.to_owned()
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Cordon {
    /// Posts `body` to the war room of the incident `raw_ref` names, as `p`; runs it as a chat
    /// command when it is one and keeps Cordon's reply after it, in `p`'s language (`hint`:
    /// the browser's, see [`Cordon::reply_lang`]).
    pub async fn post_message(&self, p: &Principal, raw_ref: &str, body: &str, hint: Option<Lang>) -> Result<Posted> {
        check_body(body)?;
        let a = self
            .gate_work(
                p,
                raw_ref,
                "message.post",
                "only the response team may speak in the war room",
            )
            .await?;
        let now = self.clock.now();
        let command = command_in(body);
        let (kind, text) = match &command {
            Some(cmd) => (MessageKind::Command, kept_command_text(body, cmd)),
            None => (MessageKind::Message, body.to_owned()),
        };
        // Read before the command is stored, so that a stored command always has its reply.
        let lang = match &command {
            Some(_) => Some(self.reply_lang(p, hint).await?),
            None => None,
        };
        let message = self.store_message(&a, Some(p), kind, text, None, now).await?;
        let (Some(cmd), Some(lang)) = (command, lang) else {
            return Ok(Posted { message, reply: None });
        };
        let answer = self.answer_in_war_room(p, a, cmd, lang).await;
        // The dispatcher read the access; the reply goes to the same incident.
        let incident = message.incident_id;
        let reply = self.store_reply(incident, message.id, answer, now).await?;
        Ok(Posted {
            message,
            reply: Some(reply),
        })
    }

    /// Runs a command typed in the war room and says what Cordon answers, in `lang`: the
    /// caller's reply, or what went wrong (an internal error only as such; its cause goes to
    /// the log).
    async fn answer_in_war_room(&self, p: &Principal, a: Access<Work>, cmd: Command, lang: Lang) -> String {
        let room = format!("the war room of {}", a.incident().codename);
        let shown = cmd.clone();
        match self.dispatch(p, &room, Some(a.into_see()), cmd, lang).await {
            Ok(r) => r.reply,
            Err(e) => crate::chat::refusal(&shown, &e, lang),
        }
    }

    async fn store_message<L: Grants<Work>>(
        &self,
        a: &Access<L>,
        author: Option<&Principal>,
        kind: MessageKind,
        body: String,
        reply_to: Option<Uuid>,
        now: Timestamp,
    ) -> Result<MessageView> {
        let id = Uuid::now_v7();
        let audit = draft(
            now,
            a.actor_name(),
            "message.post",
            a.subject(),
            json!({ "message": id, "kind": kind.as_str(), "bytes": body.len(), "sha256": sha256_hex(&body) }),
        );
        let m = NewRoomMessage {
            id,
            incident_id: a.incident().id,
            author: author.map(|p| p.user_id),
            kind,
            body,
            reply_to,
            created_at: now,
        };
        Ok(self.store.add_room_message(&m, audit).await?.into())
    }

    async fn store_reply(&self, incident: Uuid, command: Uuid, body: String, now: Timestamp) -> Result<MessageView> {
        let id = Uuid::now_v7();
        let audit = draft(
            now,
            SYSTEM_ACTOR,
            "message.reply",
            format!("incident:{incident}"),
            json!({ "message": id, "reply_to": command, "bytes": body.len(), "sha256": sha256_hex(&body) }),
        );
        let m = NewRoomMessage {
            id,
            incident_id: incident,
            author: None,
            kind: MessageKind::Reply,
            body,
            reply_to: Some(command),
            created_at: now,
        };
        Ok(self.store.add_room_message(&m, audit).await?.into())
    }

    /// One page of the war-room conversation of the incident `raw_ref` names, newest first:
    /// at most `limit` messages before the sequence number `before` (from the newest when
    /// `None`).
    pub async fn messages(
        &self,
        p: &Principal,
        raw_ref: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<MessageView>> {
        let a = self.gate(p, raw_ref).await?;
        Ok(self
            .store
            .room_messages(a.incident().id, before, limit)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_command_words_make_a_command() {
        assert!(matches!(command_in("!ic page"), Some(Command::PageCommander)));
        assert!(matches!(command_in("  !STATUS\nmore words"), Some(Command::Status)));
        assert!(matches!(command_in("!ack"), Some(Command::Ack)));
        assert!(command_in("!important: the VPN is down").is_none());
        assert!(command_in("we should !ic page").is_none());
        assert!(command_in("").is_none());
    }

    #[test]
    fn a_link_code_is_never_kept() {
        for line in ["!ic link 1234-5678", "!IC Link 1234-5678 extra", "!ic link"] {
            let cmd = command_in(line).unwrap();
            let kept = kept_command_text(line, &cmd);
            assert!(!kept.contains("1234"), "{kept}");
            assert!(kept.starts_with("!ic link"), "{kept}");
        }
        assert_eq!(kept_command_text("!status", &Command::Status), "!status");
    }

    #[test]
    fn bodies_are_bounded_and_checked() {
        assert!(check_body("hello\nteam\tok").is_ok());
        assert!(check_body(&"x".repeat(MAX_MESSAGE_BYTES)).is_ok());
        let e = check_body(&"x".repeat(MAX_MESSAGE_BYTES + 1)).unwrap_err();
        assert!(e.to_string().contains("at most 4096 bytes"), "{e}");
        assert!(check_body(&"é".repeat(2049)).is_err(), "bytes, not characters");
        assert!(check_body("  \n ").is_err());
        assert!(check_body("evil\u{202e}txt").is_err());
    }
}
