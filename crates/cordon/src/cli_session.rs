//! `cordon session …`: browser sessions — list your own (or a user's, for admins) and revoke
//! one by its id or a unique prefix; it stops working at once, on every node.

use clap::Subcommand;
use cordon_api::sessions::SessionOut;

use crate::cli::{Remote, client};
use crate::cli_output::{Column, or_dash};
use crate::client::segment;

/// Sessions as `session list` shows them.
const SESSION_COLUMNS: &[Column<SessionOut>] = &[
    ("ID", |s| s.id.to_string()),
    ("USER", |s| s.user.clone()),
    ("METHOD", |s| s.method.clone()),
    ("SIGNED IN", |s| s.created_at.to_string()),
    ("LAST SEEN", |s| s.last_seen_at.to_string()),
    ("ENDS", |s| s.ends_at.to_string()),
    ("ADDRESS", |s| or_dash(&s.address)),
];

#[derive(Debug, Subcommand)]
pub enum SessionCmd {
    /// Live browser sessions: yours, or a user's (admins, or yourself).
    List {
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// End a session by its id or a unique prefix (yours; anyone's for admins).
    Revoke {
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
}

pub async fn run(c: SessionCmd) -> anyhow::Result<i32> {
    match c {
        SessionCmd::List { user, remote } => {
            let path = match &user {
                Some(u) => format!("/api/v1/users/{}/sessions", segment(u)),
                None => "/api/v1/sessions".to_owned(),
            };
            let v: Vec<SessionOut> = client(&remote)?.list(&path).await?;
            remote.output().list(&v, SESSION_COLUMNS)?;
        }
        SessionCmd::Revoke { id, remote } => {
            let path = format!("/api/v1/sessions/{}", segment(&id));
            let v: SessionOut = client(&remote)?.delete(&path).await?;
            remote
                .output()
                .one(&v, |v| println!("ended session {} of {}", v.id, v.user))?;
        }
    }
    Ok(0)
}
