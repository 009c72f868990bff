//! The Matrix war-room bot: joins rooms on invite, turns `!` messages into commands, and
//! replies in the room. The caller owns the loop (and so the retry policy):
//!
//! ```no_run
//! # async fn run(bot: &mut cordon_channels::matrix::MatrixBot) -> Result<(), cordon_channels::ChannelError> {
//! loop {
//!     for cmd in bot.next_commands().await? {
//!         let reply = format!("you said {}", cmd.command); // the dispatcher goes here
//!         bot.reply(&cmd.room_id, &reply).await?;
//!     }
//! }
//! # }
//! ```

use std::collections::HashMap;
use std::time::Duration;

use crate::command::{Command, parse_chat_line};
use crate::error::ChannelError;
use crate::matrix::{Invite, MatrixClient};

/// Whose invitations the bot accepts; others are declined.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InvitePolicy {
    /// Anyone's.
    Anyone,
    /// Users of the bot's own homeserver only (the part after the first `:` of the user id).
    #[default]
    SameServer,
    /// Only these user ids.
    Users(Vec<String>),
}

impl InvitePolicy {
    /// Whether an invite from `inviter` is accepted by a bot whose id is `own_user_id`.
    pub fn accepts(&self, inviter: Option<&str>, own_user_id: &str) -> bool {
        let server = |id: &str| id.split_once(':').map(|(_, s)| s.to_owned());
        match (self, inviter) {
            (Self::Anyone, _) => true,
            (_, None) => false,
            (Self::SameServer, Some(inviter)) => server(inviter).is_some() && server(inviter) == server(own_user_id),
            (Self::Users(users), Some(inviter)) => users.iter().any(|u| u == inviter),
        }
    }
}

/// A command read from a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotCommand {
    pub room_id: String,
    /// The sender's full user id, e.g. `@alice:example.org`.
    pub sender: String,
    pub event_id: String,
    /// The message body as sent.
    pub body: String,
    /// The parsed command (possibly [`Command::Unknown`], whose reply text explains).
    pub command: Command,
}

/// A bot over one [`MatrixClient`] session.
#[derive(Debug)]
pub struct MatrixBot {
    client: MatrixClient,
    since: Option<String>,
    poll_timeout: Duration,
    invite_policy: InvitePolicy,
    /// Direct-message rooms opened with users, by user id.
    direct: HashMap<String, String>,
}

impl MatrixBot {
    /// A bot that starts from now: its first [`Self::next_commands`] makes an initial sync
    /// that accepts pending invites but skips the rooms' history.
    pub fn new(client: MatrixClient) -> Self {
        Self {
            client,
            since: None,
            poll_timeout: Duration::from_secs(30),
            invite_policy: InvitePolicy::default(),
            direct: HashMap::new(),
        }
    }

    /// Resumes after a stored [`Self::since`] token: commands sent while the bot was away
    /// are read.
    pub fn with_since(mut self, since: impl Into<String>) -> Self {
        self.since = Some(since.into());
        self
    }

    /// How long one `/sync` long poll waits for news (default 30 s).
    pub fn with_poll_timeout(mut self, timeout: Duration) -> Self {
        self.poll_timeout = timeout;
        self
    }

    /// Whose invitations to accept (default [`InvitePolicy::SameServer`]).
    pub fn with_invite_policy(mut self, policy: InvitePolicy) -> Self {
        self.invite_policy = policy;
        self
    }

    /// The sync position to store for [`Self::with_since`].
    pub fn since(&self) -> Option<&str> {
        self.since.as_deref()
    }

    pub fn client(&self) -> &MatrixClient {
        &self.client
    }

    /// One long poll: joins rooms we are invited to (declining invites the policy refuses),
    /// then returns the commands (`m.text` messages starting with `!`) others sent in joined
    /// rooms, in order. Returns an empty list when the poll timed out, and always on the
    /// first call of a fresh bot. A failed join or decline is logged and does not fail the
    /// call; a failed sync does, and the position is kept, so calling again retries.
    pub async fn next_commands(&mut self) -> Result<Vec<BotCommand>, ChannelError> {
        let first = self.since.is_none();
        let timeout = if first { Duration::ZERO } else { self.poll_timeout };
        let batch = self.client.sync(self.since.as_deref(), timeout).await?;
        self.since = Some(batch.next_batch);
        for invite in &batch.invites {
            self.answer_invite(invite).await;
        }
        if first {
            return Ok(Vec::new());
        }
        Ok(batch
            .messages
            .into_iter()
            .filter(|m| m.msgtype == "m.text")
            .filter_map(|m| {
                let command = parse_chat_line(&m.body)?;
                Some(BotCommand {
                    room_id: m.room_id,
                    sender: m.sender,
                    event_id: m.event_id,
                    body: m.body,
                    command,
                })
            })
            .collect())
    }

    async fn answer_invite(&self, invite: &Invite) {
        let own = self.client.user_id();
        if self.invite_policy.accepts(invite.inviter.as_deref(), own) {
            match self.client.join(&invite.room_id).await {
                Ok(_) => tracing::info!(room = %invite.room_id, inviter = ?invite.inviter, "joined room on invite"),
                Err(e) => tracing::warn!(room = %invite.room_id, error = %e, "could not join room"),
            }
        } else {
            tracing::warn!(room = %invite.room_id, inviter = ?invite.inviter, "declining invite refused by policy");
            if let Err(e) = self.client.leave(&invite.room_id).await {
                tracing::warn!(room = %invite.room_id, error = %e, "could not decline invite");
            }
        }
    }

    /// Replies in a room with plain text; returns the event id.
    pub async fn reply(&self, room_id: &str, text: &str) -> Result<String, ChannelError> {
        self.client.send_text(room_id, text, None).await
    }

    /// Sends `text` to `user` alone, in a direct-message room the bot opens with them the first
    /// time (and again if they left it); returns the event id.
    pub async fn tell(&mut self, user: &str, text: &str) -> Result<String, ChannelError> {
        let known = match self.direct.get(user) {
            Some(room) => match self.client.member_state(room, user).await? {
                Some(m) if m == "join" || m == "invite" => Some(room.clone()),
                _ => None,
            },
            None => None,
        };
        let room = match known {
            Some(room) => room,
            None => {
                let room = self.client.create_direct_room(user).await?;
                self.direct.insert(user.to_owned(), room.clone());
                room
            }
        };
        self.client.send_text(&room, text, None).await
    }

    /// Replies with plain text and an HTML rendering of it.
    pub async fn reply_formatted(&self, room_id: &str, text: &str, html: &str) -> Result<String, ChannelError> {
        self.client.send_text(room_id, text, Some(html)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_policies() {
        let me = "@irbot:corp.example";
        assert!(InvitePolicy::SameServer.accepts(Some("@alice:corp.example"), me));
        assert!(!InvitePolicy::SameServer.accepts(Some("@eve:evil.example"), me));
        assert!(!InvitePolicy::SameServer.accepts(Some("@eve"), me));
        assert!(!InvitePolicy::SameServer.accepts(None, me));
        assert!(InvitePolicy::Anyone.accepts(None, me));
        let only = InvitePolicy::Users(vec!["@alice:corp.example".into()]);
        assert!(only.accepts(Some("@alice:corp.example"), me));
        assert!(!only.accepts(Some("@bob:corp.example"), me));
    }
}
