//! `cordon session …`: browser sessions — list your own (or a user's, for admins) and revoke
//! one by its id or a unique prefix; it stops working at once, on every node.

use clap::Subcommand;
use reqwest::Method;

use crate::cli::{Remote, client, print_list, s};
use crate::client::segment;

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
            let v = client(&remote)?.get(&path).await?;
            print_list(
                &remote,
                &v,
                &[
                    ("ID", "id"),
                    ("USER", "user"),
                    ("METHOD", "method"),
                    ("SIGNED IN", "created_at"),
                    ("LAST SEEN", "last_seen_at"),
                    ("ENDS", "ends_at"),
                    ("ADDRESS", "address"),
                ],
            );
        }
        SessionCmd::Revoke { id, remote } => {
            let path = format!("/api/v1/sessions/{}", segment(&id));
            let v = client(&remote)?.call(Method::DELETE, &path, None).await?;
            if remote.json {
                println!("{v}");
            } else {
                println!("ended session {} of {}", s(&v["id"]), s(&v["user"]));
            }
        }
    }
    Ok(0)
}
