//! Chat from the command line, and how the chat and paging channels reach people: a chat
//! command sent as from a room (the generic adapter Slack and Matrix share), a room marked
//! team-only, the war-room conversation in Cordon itself (`cordon room say|log`), and a user's
//! contact methods (add, list, test, rotate a webhook's secret).

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::json;

use crate::cli::{Remote, client, print_list, s};
use crate::client::segment;

#[derive(Debug, Subcommand)]
pub enum ChatCmd {
    /// Send a chat command as from a room (`!status`, `!ic page`, `!ack`, …); prints the
    /// reply meant for you, then what the room would read.
    Say {
        /// The room, e.g. `#sec-war-room` or a Matrix room id.
        #[arg(long)]
        room: String,
        /// The command, e.g. `!status`.
        text: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// How a room hears about its incident; with `--team-only` (admins), sets it.
    Room {
        room: String,
        /// `true`: full replies go to the room while Cordon can check every member is on the
        /// team (Matrix); `false`: the room reads only codename, severity, status and a link.
        #[arg(long)]
        team_only: Option<bool>,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoomCmd {
    /// Say something in an incident's war room in Cordon. A message starting with `!ic`,
    /// `!ack`, `!status` or `!help` is a chat command, run as you; Cordon's reply is printed and
    /// kept in the conversation.
    Say {
        /// The incident: id or codename.
        r#ref: String,
        /// The message (quote it), at most 4096 bytes.
        text: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// The war-room conversation of an incident, oldest first.
    Log {
        /// The incident: id or codename.
        r#ref: String,
        /// Only the newest N messages.
        #[arg(long)]
        last: Option<u32>,
        #[command(flatten)]
        remote: Remote,
    },
}

/// One message as a line (continuation lines indented): `TIME  WHO: TEXT`.
fn message_line(m: &serde_json::Value) -> String {
    let who = if m["from_cordon"] == json!(true) {
        "cordon".to_owned()
    } else {
        s(&m["author"])
    };
    let at = s(&m["created_at"]);
    let body = s(&m["body"]).replace('\n', "\n    ");
    format!("{at}  {who}: {body}")
}

pub async fn room_cmd(c: RoomCmd) -> anyhow::Result<i32> {
    match c {
        RoomCmd::Say { r#ref, text, remote } => {
            let path = format!("/api/v1/incidents/{}/messages", segment(&r#ref));
            let v = client(&remote)?.post(&path, &json!({ "body": text })).await?;
            if remote.json {
                println!("{v}");
            } else {
                println!("{}", message_line(&v["message"]));
                if !v["reply"].is_null() {
                    println!("{}", message_line(&v["reply"]));
                }
            }
        }
        RoomCmd::Log { r#ref, last, remote } => {
            let path = format!("/api/v1/incidents/{}/messages", segment(&r#ref));
            let cl = client(&remote)?;
            let v = match last {
                Some(n) => cl.get_page(&format!("{path}?limit={}", n.clamp(1, 1000))).await?.0,
                None => cl.get(&path).await?,
            };
            let mut messages = v.as_array().cloned().unwrap_or_default();
            // Answered newest first; read oldest first.
            messages.reverse();
            if remote.json {
                println!("{}", serde_json::Value::Array(messages));
            } else if messages.is_empty() {
                println!("nothing was said in this war room yet");
            } else {
                for m in &messages {
                    println!("{}", message_line(m));
                }
            }
        }
    }
    Ok(0)
}

/// A user and one of their contact methods.
#[derive(Debug, Args)]
pub struct ContactMethod {
    name: String,
    #[arg(long, value_parser = ["email", "webhook", "sms", "matrix"])]
    kind: String,
    #[arg(long)]
    address: String,
}

#[derive(Debug, Subcommand)]
pub enum ContactMethodCmd {
    /// Add a way to page a user: `email`, `webhook`, `sms` or `matrix` (a room id). A webhook's
    /// signing secret is printed once.
    Add {
        #[command(flatten)]
        contact: ContactMethod,
        #[command(flatten)]
        remote: Remote,
    },
    /// A user's contact methods (never a webhook's secret).
    List {
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Send a test notice through a contact method; an error says why it was not delivered.
    Test {
        #[command(flatten)]
        contact: ContactMethod,
        #[command(flatten)]
        remote: Remote,
    },
    /// Give a webhook contact a new signing secret, printed once; the old one stops at once.
    RotateSecret {
        name: String,
        /// The webhook's URL, as added.
        #[arg(long)]
        address: String,
        #[command(flatten)]
        remote: Remote,
    },
}

pub async fn chat_cmd(c: ChatCmd) -> anyhow::Result<i32> {
    match c {
        ChatCmd::Say { room, text, remote } => {
            let v = client(&remote)?
                .post("/api/v1/chat/commands", &json!({ "room": room, "text": text }))
                .await?;
            if remote.json {
                println!("{v}");
            } else {
                println!("{}", s(&v["reply"]));
                if let Some(notice) = v["room_message"].as_str() {
                    println!("room: {notice}");
                }
            }
        }
        ChatCmd::Room {
            room,
            team_only,
            remote,
        } => {
            let cl = client(&remote)?;
            let path = format!("/api/v1/chat/rooms/{}", segment(&room));
            let v = match team_only {
                Some(t) => cl.call(Method::PUT, &path, Some(&json!({ "team_only": t }))).await?,
                None => cl.get(&path).await?,
            };
            if remote.json {
                println!("{v}");
            } else {
                println!("{room}: team-only {}", s(&v["team_only"]));
            }
        }
    }
    Ok(0)
}

pub async fn contact_cmd(c: ContactMethodCmd) -> anyhow::Result<i32> {
    let contacts = |name: &str| format!("/api/v1/users/{}/contacts", segment(name));
    let (v, remote) = match c {
        ContactMethodCmd::Add { contact: c, remote } => {
            let body = json!({ "kind": c.kind, "address": c.address });
            (client(&remote)?.post(&contacts(&c.name), &body).await?, remote)
        }
        ContactMethodCmd::List { name, remote } => {
            let v = client(&remote)?.get(&contacts(&name)).await?;
            print_list(&remote, &v, &[("KIND", "kind"), ("ADDRESS", "address")]);
            return Ok(0);
        }
        ContactMethodCmd::Test { contact: c, remote } => {
            let (name, kind, address) = (c.name, c.kind, c.address);
            let body = json!({ "kind": kind, "address": address });
            // A failed delivery is an error answer (409 with the reason), printed by the caller.
            let v = client(&remote)?
                .post(&format!("{}/test", contacts(&name)), &body)
                .await?;
            if remote.json {
                println!("{v}");
            } else {
                println!("delivered a test notice to {kind} {address}");
            }
            return Ok(0);
        }
        ContactMethodCmd::RotateSecret { name, address, remote } => {
            let body = json!({ "address": address });
            let v = client(&remote)?
                .post(&format!("{}/rotate-secret", contacts(&name)), &body)
                .await?;
            (v, remote)
        }
    };
    if remote.json {
        println!("{v}");
    } else {
        println!("{} {}", s(&v["kind"]), s(&v["address"]));
        if let Some(secret) = v["secret"].as_str() {
            println!("signing secret (shown only now): {secret}");
        }
    }
    Ok(0)
}
