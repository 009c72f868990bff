//! `cordon user …`: create and list users, disable and enable them; issue, list and revoke
//! API tokens; link chat accounts (a one-time code for your own, an admin's link for anyone's),
//! list and unlink them, and see the accounts several users claimed.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{Remote, client, print_list, s, table};
use crate::client::segment;

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// A user's contact methods: how pages reach them.
    #[command(subcommand)]
    Contact(crate::cli_chat::ContactMethodCmd),
    /// Create a user (admins).
    Create {
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long = "group")]
        groups: Vec<String>,
        #[arg(long)]
        admin: bool,
        /// File holding the user's armored OpenPGP public key.
        #[arg(long)]
        pgp_key_file: Option<PathBuf>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Every user, disabled ones marked (admins).
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// One user: email, groups, admin, key, disabled (admins, or yourself).
    Show {
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Issue an API token (admins, or for yourself); printed once.
    Token {
        name: String,
        #[arg(long)]
        label: Option<String>,
        /// ISO 8601 duration, e.g. P30D or PT12H (one minute to 366 days); default: until revoked.
        #[arg(long)]
        expires_in: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// A user's tokens: id, label, state, created, last used, expiry — never the secret.
    Tokens {
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Revoke one token by its id (admins, or your own).
    RevokeToken {
        name: String,
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Disable a user (admins): every token, chat account and pending page of theirs ends now.
    Disable {
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Enable a disabled user (admins); their old tokens and chat accounts stay ended.
    Enable {
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// A one-time code to link one of your chat accounts: send `!ic link CODE` from it.
    LinkCode {
        #[arg(value_parser = crate::cli_values::named::<cordon_core::identity::ChatKind>())]
        kind: String,
        /// Only this account may use the code (a Slack user id, or `@you:server`).
        #[arg(long)]
        account: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Link a chat account to a user without a code (admins).
    Link {
        name: String,
        #[arg(value_parser = crate::cli_values::named::<cordon_core::identity::ChatKind>())]
        kind: String,
        /// The account: a Slack user id (`U024BE7LH`) or a Matrix user id (`@alice:example.org`).
        account: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// The chat accounts linked to a user.
    Identities {
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Unlink one chat account by the link's id (admins, or your own).
    Unlink {
        name: String,
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Chat accounts several users claimed before accounts had to be proven (admins): linked
    /// to nobody until an admin links each to its owner.
    Conflicts {
        #[command(flatten)]
        remote: Remote,
    },
    /// Set a break-glass password (admins): read from standard input when it is not a
    /// terminal (one line), else asked for twice without echo. Signing in also needs TOTP.
    Password {
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Enrol TOTP for a break-glass account (admins): prints the otpauth:// URI, secret
    /// included, once. Any earlier enrolment stops working.
    Totp {
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
}

/// The new password: one line of standard input, or asked for twice on the terminal without
/// echo.
fn read_new_password(name: &str) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let line = line.trim_end_matches(['\n', '\r']).to_owned();
        anyhow::ensure!(!line.is_empty(), "no password on standard input");
        return Ok(line);
    }
    let ask = |prompt: &str| -> anyhow::Result<String> {
        eprint!("{prompt}");
        std::io::stderr().flush()?;
        let fd = std::io::stdin();
        let saved = rustix::termios::tcgetattr(&fd)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
        rustix::termios::tcsetattr(&fd, rustix::termios::OptionalActions::Now, &quiet)?;
        let mut line = String::new();
        let read = fd.lock().read_line(&mut line);
        rustix::termios::tcsetattr(&fd, rustix::termios::OptionalActions::Now, &saved)?;
        eprintln!();
        read?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    };
    let first = ask(&format!("New password for {name}: "))?;
    let second = ask("Again: ")?;
    anyhow::ensure!(first == second, "the two passwords differ; nothing was changed");
    Ok(first)
}

fn print_or(remote: &Remote, v: &Value, text: impl FnOnce(&Value) -> String) {
    if remote.json {
        println!("{v}");
    } else {
        println!("{}", text(v));
    }
}

pub async fn user_cmd(c: UserCmd) -> anyhow::Result<i32> {
    match c {
        UserCmd::Create {
            name,
            email,
            groups,
            admin,
            pgp_key_file,
            remote,
        } => {
            let pgp_key = pgp_key_file
                .map(|p| std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display())))
                .transpose()?;
            let body = json!({ "name": name, "email": email, "groups": groups, "admin": admin, "pgp_key": pgp_key });
            let v = client(&remote)?.post("/api/v1/users", &body).await?;
            print_or(&remote, &v, |v| format!("created user {}", s(&v["name"])));
        }
        UserCmd::List { remote } => {
            let v = client(&remote)?.get("/api/v1/users").await?;
            if remote.json {
                println!("{v}");
            } else {
                let rows = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|u| {
                        vec![
                            s(&u["name"]),
                            s(&u["email"]),
                            if u["admin"] == true {
                                "admin".into()
                            } else {
                                String::new()
                            },
                            match &u["disabled_at"] {
                                Value::Null => String::new(),
                                at => format!("disabled {}", s(at)),
                            },
                        ]
                    })
                    .collect();
                table(&["NAME", "EMAIL", "ADMIN", "DISABLED"], rows);
            }
        }
        UserCmd::Show { name, remote } => return crate::cli_lifecycle::user_show(&name, &remote).await,
        UserCmd::Contact(c) => return crate::cli_chat::contact_cmd(c).await,
        UserCmd::Token {
            name,
            label,
            expires_in,
            remote,
        } => {
            let v = client(&remote)?
                .post(
                    &format!("/api/v1/users/{}/tokens", segment(&name)),
                    &json!({ "label": label, "expires_in": expires_in }),
                )
                .await?;
            print_or(&remote, &v, |v| s(&v["token"]));
        }
        UserCmd::Tokens { name, remote } => {
            let v = client(&remote)?
                .get(&format!("/api/v1/users/{}/tokens", segment(&name)))
                .await?;
            print_list(
                &remote,
                &v,
                &[
                    ("ID", "id"),
                    ("LABEL", "label"),
                    ("STATE", "state"),
                    ("CREATED", "created_at"),
                    ("LAST USED", "last_used_at"),
                    ("EXPIRES", "expires_at"),
                ],
            );
        }
        UserCmd::RevokeToken { name, id, remote } => {
            let path = format!("/api/v1/users/{}/tokens/{}", segment(&name), segment(&id));
            let v = client(&remote)?.call(Method::DELETE, &path, None).await?;
            print_or(&remote, &v, |v| {
                format!("revoked token {} ({})", s(&v["id"]), s(&v["label"]))
            });
        }
        UserCmd::Disable { name, remote } => {
            let v = client(&remote)?
                .post(&format!("/api/v1/users/{}/disable", segment(&name)), &json!({}))
                .await?;
            print_or(&remote, &v, |v| {
                format!(
                    "disabled {}: {} tokens revoked, {} chat accounts unlinked, {} pending notifications cancelled, {} browser sessions ended",
                    s(&v["user"]["name"]),
                    s(&v["revoked_tokens"]),
                    s(&v["unlinked_chat_identities"]),
                    s(&v["cancelled_notifications"]),
                    s(&v["ended_sessions"])
                )
            });
        }
        UserCmd::Enable { name, remote } => {
            let v = client(&remote)?
                .post(&format!("/api/v1/users/{}/enable", segment(&name)), &json!({}))
                .await?;
            print_or(&remote, &v, |v| {
                format!(
                    "enabled {}; issue new tokens and link chat accounts again",
                    s(&v["name"])
                )
            });
        }
        UserCmd::LinkCode { kind, account, remote } => {
            let v = client(&remote)?
                .post("/api/v1/me/chat-identities", &json!({ "kind": kind, "id": account }))
                .await?;
            print_or(&remote, &v, |v| format!("{}\n{}", s(&v["code"]), s(&v["instructions"])));
        }
        UserCmd::Link {
            name,
            kind,
            account,
            remote,
        } => {
            let v = client(&remote)?
                .post(
                    &format!("/api/v1/users/{}/chat-identities", segment(&name)),
                    &json!({ "kind": kind, "id": account }),
                )
                .await?;
            print_or(&remote, &v, |v| {
                format!(
                    "linked {} account {} to {}",
                    s(&v["kind"]),
                    s(&v["external_id"]),
                    s(&v["user"])
                )
            });
        }
        UserCmd::Identities { name, remote } => {
            let v = client(&remote)?
                .get(&format!("/api/v1/users/{}/chat-identities", segment(&name)))
                .await?;
            print_list(
                &remote,
                &v,
                &[
                    ("ID", "id"),
                    ("KIND", "kind"),
                    ("ACCOUNT", "external_id"),
                    ("LINKED", "linked_at"),
                    ("BY", "linked_by"),
                    ("VIA", "via"),
                ],
            );
        }
        UserCmd::Unlink { name, id, remote } => {
            let path = format!("/api/v1/users/{}/chat-identities/{}", segment(&name), segment(&id));
            let v = client(&remote)?.call(Method::DELETE, &path, None).await?;
            print_or(&remote, &v, |v| {
                format!(
                    "unlinked {} account {} from {}",
                    s(&v["kind"]),
                    s(&v["external_id"]),
                    s(&v["user"])
                )
            });
        }
        UserCmd::Password { name, remote } => {
            let password = read_new_password(&name)?;
            let v = client(&remote)?
                .call(
                    Method::PUT,
                    &format!("/api/v1/users/{}/password", segment(&name)),
                    Some(&json!({ "password": password })),
                )
                .await?;
            print_or(&remote, &v, |v| {
                if v["totp_enrolled"] == true {
                    format!("password set for {}", s(&v["user"]))
                } else {
                    format!(
                        "password set for {0}; enrol TOTP too (cordon user totp {0}): the password alone signs nobody in",
                        s(&v["user"])
                    )
                }
            });
        }
        UserCmd::Totp { name, remote } => {
            let v = client(&remote)?
                .post(&format!("/api/v1/users/{}/totp", segment(&name)), &json!({}))
                .await?;
            print_or(&remote, &v, |v| s(&v["uri"]));
        }
        UserCmd::Conflicts { remote } => {
            let v = client(&remote)?.get("/api/v1/chat-identities/conflicts").await?;
            if remote.json {
                println!("{v}");
            } else {
                let rows = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        let users: Vec<String> = c["claimed_by"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|u| s(&u["user"]))
                            .collect();
                        vec![s(&c["kind"]), s(&c["external_id"]), users.join(", ")]
                    })
                    .collect();
                table(&["KIND", "ACCOUNT", "CLAIMED BY"], rows);
            }
        }
    }
    Ok(0)
}
