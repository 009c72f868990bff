//! Cordon's chat and webhook transports, and the war-room chat command parser.
//!
//! This crate knows the wire formats of the outside messaging systems and nothing about
//! incidents beyond the [`Notice`] that may leave over an unprotected channel. It has no
//! database, no HTTP routes and no clock: the server mounts the endpoints, passes the raw
//! request bytes and `now` in, and hands the parsed [`Command`]s to the same service
//! functions the API uses.
//!
//! | module | what |
//! | --- | --- |
//! | [`command`] | `!ic page` & co. → [`Command`] (pure, total, never panics) |
//! | [`slack`] | inbound: `X-Slack-Signature` v0 check, Events API and slash-command bodies; outbound: [`SlackClient::post_message`] |
//! | [`matrix`] | thin client-server API client and [`MatrixBot`] (join on invite, `/sync`, reply) |
//! | [`webhook`] | generic signed JSON webhook (`X-Cordon-Signature: v1=…`) and [`verify_webhook`] for receivers |
//! | [`sms`] | SMS gateway webhook whose text can only be codename, severity and link |
//! | [`notice`] | [`Notice`] and [`SecureLink`]: all an unprotected channel may carry |
//! | [`http`] | the shared [`HttpTransport`] (reqwest, rustls, timeouts, bounded bodies, no redirects) |
//! | [`outbound`] | the [`OutboundPolicy`]: no loopback, private, link-local or metadata address unless allowed; checked after DNS, connections pinned |
//!
//! Every failure is a [`ChannelError`]: verification failures (answer 401), malformed
//! payloads (400), and deliveries split into [`ChannelError::Transient`] (timeout, connect,
//! 5xx, 429: retry with backoff), [`ChannelError::Permanent`] (4xx: do not) and
//! [`ChannelError::Refused`] (the outbound policy said no). A delivery error carries the
//! peer's status (and a platform error code), never its body.

pub mod command;
pub mod error;
pub mod http;
pub mod matrix;
pub mod notice;
pub mod outbound;
mod signature;
pub mod slack;
pub mod sms;
pub mod webhook;

pub use command::{Command, CommandProblem, LinkCodeText, parse_chat_line, parse_slash_command, parse_slash_line};
pub use error::{ChannelError, DeliveryFailure};
pub use http::{HttpTransport, Timeouts};
pub use matrix::{BotCommand, MatrixBot, MatrixClient};
pub use notice::{Notice, RoomNotice, SecureLink};
pub use outbound::{OutboundPolicy, Refused};
pub use signature::REPLAY_WINDOW_SECS;
pub use slack::{SlackClient, SlackEvent, SlackVerifier};
pub use sms::{PhoneNumber, SmsGateway, SmsText};
pub use webhook::{WebhookClient, WebhookMessage, sign_webhook, verify_webhook};
