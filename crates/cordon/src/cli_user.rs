//! `cordon user …`: create and list users, disable and enable them; issue, list and revoke
//! API tokens; link chat accounts (a one-time code for your own, an admin's link for anyone's),
//! list and unlink them, and see the accounts several users claimed.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use cordon_api::sessions::{PasswordSetOut, SetPassword, TotpOut};
use cordon_api::users::{
    ChatIdentityConflictOut, ChatIdentityOut, CreateToken, CreateUser, DisabledOut, LinkChatIdentity, LinkCodeOut,
    RequestLinkCode, TokenInfoOut, TokenOut, UserOut,
};

use crate::cli::{Remote, client};
use crate::cli_output::{Column, or_dash};
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

/// The users as `user list` shows them.
const USER_COLUMNS: &[Column<UserOut>] = &[
    ("NAME", |u| u.name.clone()),
    ("EMAIL", |u| u.email.clone()),
    ("ADMIN", |u| if u.admin { "admin".into() } else { String::new() }),
    ("DISABLED", |u| {
        u.disabled_at.map_or_else(String::new, |at| format!("disabled {at}"))
    }),
];

/// A user's tokens as `user tokens` shows them.
const TOKEN_COLUMNS: &[Column<TokenInfoOut>] = &[
    ("ID", |t| t.id.to_string()),
    ("LABEL", |t| t.label.clone()),
    ("STATE", |t| t.state.clone()),
    ("CREATED", |t| t.created_at.to_string()),
    ("LAST USED", |t| or_dash(&t.last_used_at)),
    ("EXPIRES", |t| or_dash(&t.expires_at)),
];

/// A user's chat accounts as `user identities` shows them.
const IDENTITY_COLUMNS: &[Column<ChatIdentityOut>] = &[
    ("ID", |i| i.id.to_string()),
    ("KIND", |i| i.kind.clone()),
    ("ACCOUNT", |i| i.external_id.clone()),
    ("LINKED", |i| i.linked_at.to_string()),
    ("BY", |i| i.linked_by.clone()),
    ("VIA", |i| i.via.clone()),
];

/// The accounts several users claimed.
const CONFLICT_COLUMNS: &[Column<ChatIdentityConflictOut>] = &[
    ("KIND", |c| c.kind.clone()),
    ("ACCOUNT", |c| c.external_id.clone()),
    ("CLAIMED BY", |c| {
        c.claimed_by
            .iter()
            .map(|u| u.user.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }),
];

fn users(name: &str) -> String {
    format!("/api/v1/users/{}", segment(name))
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
            let body = CreateUser {
                name,
                email,
                pgp_key,
                groups,
                admin,
            };
            let v: UserOut = client(&remote)?.post("/api/v1/users", &body).await?;
            remote.output().one(&v, |v| println!("created user {}", v.name))?;
        }
        UserCmd::List { remote } => {
            let v: Vec<UserOut> = client(&remote)?.list("/api/v1/users").await?;
            remote.output().list(&v, USER_COLUMNS)?;
        }
        UserCmd::Show { name, remote } => return crate::cli_lifecycle::user_show(&name, &remote).await,
        UserCmd::Contact(c) => return crate::cli_chat::contact_cmd(c).await,
        UserCmd::Token {
            name,
            label,
            expires_in,
            remote,
        } => {
            let body = CreateToken { label, expires_in };
            let v: TokenOut = client(&remote)?
                .post(&format!("{}/tokens", users(&name)), &body)
                .await?;
            remote.output().one(&v, |v| println!("{}", v.token))?;
        }
        UserCmd::Tokens { name, remote } => {
            let v: Vec<TokenInfoOut> = client(&remote)?.list(&format!("{}/tokens", users(&name))).await?;
            remote.output().list(&v, TOKEN_COLUMNS)?;
        }
        UserCmd::RevokeToken { name, id, remote } => {
            let path = format!("{}/tokens/{}", users(&name), segment(&id));
            let v: TokenInfoOut = client(&remote)?.delete(&path).await?;
            remote
                .output()
                .one(&v, |v| println!("revoked token {} ({})", v.id, v.label))?;
        }
        UserCmd::Disable { name, remote } => {
            let v: DisabledOut = client(&remote)?
                .post_empty(&format!("{}/disable", users(&name)))
                .await?;
            remote.output().one(&v, |v| {
                println!(
                    "disabled {}: {} tokens revoked, {} chat accounts unlinked, {} pending notifications cancelled, {} browser sessions ended",
                    v.user.name, v.revoked_tokens, v.unlinked_chat_identities, v.cancelled_notifications, v.ended_sessions
                )
            })?;
        }
        UserCmd::Enable { name, remote } => {
            let v: UserOut = client(&remote)?.post_empty(&format!("{}/enable", users(&name))).await?;
            remote.output().one(&v, |v| {
                println!("enabled {}; issue new tokens and link chat accounts again", v.name)
            })?;
        }
        UserCmd::LinkCode { kind, account, remote } => {
            let body = RequestLinkCode { kind, id: account };
            let v: LinkCodeOut = client(&remote)?.post("/api/v1/me/chat-identities", &body).await?;
            remote
                .output()
                .one(&v, |v| println!("{}\n{}", v.code, v.instructions))?;
        }
        UserCmd::Link {
            name,
            kind,
            account,
            remote,
        } => {
            let body = LinkChatIdentity { kind, id: account };
            let v: ChatIdentityOut = client(&remote)?
                .post(&format!("{}/chat-identities", users(&name)), &body)
                .await?;
            remote.output().one(&v, |v| {
                println!("linked {} account {} to {}", v.kind, v.external_id, v.user)
            })?;
        }
        UserCmd::Identities { name, remote } => {
            let v: Vec<ChatIdentityOut> = client(&remote)?
                .list(&format!("{}/chat-identities", users(&name)))
                .await?;
            remote.output().list(&v, IDENTITY_COLUMNS)?;
        }
        UserCmd::Unlink { name, id, remote } => {
            let path = format!("{}/chat-identities/{}", users(&name), segment(&id));
            let v: ChatIdentityOut = client(&remote)?.delete(&path).await?;
            remote.output().one(&v, |v| {
                println!("unlinked {} account {} from {}", v.kind, v.external_id, v.user)
            })?;
        }
        UserCmd::Password { name, remote } => {
            let password = read_new_password(&name)?;
            let v: PasswordSetOut = client(&remote)?
                .put(&format!("{}/password", users(&name)), &SetPassword { password })
                .await?;
            remote.output().one(&v, |v| {
                if v.totp_enrolled {
                    println!("password set for {}", v.user);
                } else {
                    println!(
                        "password set for {0}; enrol TOTP too (cordon user totp {0}): the password alone signs nobody in",
                        v.user
                    );
                }
            })?;
        }
        UserCmd::Totp { name, remote } => {
            let v: TotpOut = client(&remote)?.post_empty(&format!("{}/totp", users(&name))).await?;
            remote.output().one(&v, |v| println!("{}", v.uri))?;
        }
        UserCmd::Conflicts { remote } => {
            let v: Vec<ChatIdentityConflictOut> = client(&remote)?.list("/api/v1/chat-identities/conflicts").await?;
            remote.output().list(&v, CONFLICT_COLUMNS)?;
        }
    }
    Ok(0)
}
