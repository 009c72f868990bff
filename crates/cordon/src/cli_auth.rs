//! `cordon auth …`: how people sign in. `cordon auth oidc disable` turns sign-in with the
//! identity provider off on every node at once (when the provider may be what an attacker holds);
//! `enable` turns it back on; `status` shows the configuration, the switch and what is in effect.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::cli::{Remote, client, s};

#[derive(Debug, Subcommand)]
pub enum AuthCmd {
    /// Sign-in with the company's identity provider (OIDC).
    #[command(subcommand)]
    Oidc(OidcCmd),
}

#[derive(Debug, Subcommand)]
pub enum OidcCmd {
    /// Whether OIDC sign-in is configured, allowed by the configuration, switched on, in effect (admins).
    Status {
        #[command(flatten)]
        remote: Remote,
    },
    /// Turn OIDC sign-in off on every node now (admins); open sessions stay until they end.
    Disable {
        #[command(flatten)]
        remote: Remote,
    },
    /// Turn OIDC sign-in back on (admins); `CORDON_OIDC_ENABLED=false` still keeps it off.
    Enable {
        #[command(flatten)]
        remote: Remote,
    },
}

fn describe(v: &Value) -> String {
    let state = if v["enabled"] == true { "on" } else { "off" };
    let mut lines = vec![format!("OIDC sign-in: {state}")];
    if v["configured"] != true {
        lines.push("not configured (CORDON_OIDC_ISSUER and CORDON_OIDC_CLIENT_ID unset)".into());
    } else {
        lines.push(format!("issuer: {}", s(&v["issuer"])));
    }
    if v["config_enabled"] != true {
        lines.push("turned off by the configuration (CORDON_OIDC_ENABLED=false)".into());
    }
    let switch = if v["switch_enabled"] == true { "on" } else { "off" };
    match &v["switch_changed_by"] {
        Value::String(by) => lines.push(format!(
            "admin switch: {switch} (set by {by} at {})",
            s(&v["switch_changed_at"])
        )),
        _ => lines.push(format!("admin switch: {switch}")),
    }
    lines.join("\n")
}

pub async fn auth_cmd(c: AuthCmd) -> anyhow::Result<i32> {
    let AuthCmd::Oidc(c) = c;
    let (remote, v) = match c {
        OidcCmd::Status { remote } => {
            let v = client(&remote)?.get("/api/v1/auth/oidc").await?;
            (remote, v)
        }
        OidcCmd::Disable { remote } => {
            let v = client(&remote)?.post("/api/v1/auth/oidc/disable", &json!({})).await?;
            (remote, v)
        }
        OidcCmd::Enable { remote } => {
            let v = client(&remote)?.post("/api/v1/auth/oidc/enable", &json!({})).await?;
            (remote, v)
        }
    };
    if remote.json {
        println!("{v}");
    } else {
        println!("{}", describe(&v));
    }
    Ok(0)
}
