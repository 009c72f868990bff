//! `cordon auth …`: how people sign in. `cordon auth oidc disable` turns sign-in with the
//! identity provider off on every node at once (when the provider may be what an attacker holds);
//! `enable` turns it back on; `status` shows the configuration, the switch and what is in effect.

use clap::Subcommand;
use cordon_api::oidc::OidcStatusOut;

use crate::cli::{Remote, client};

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

fn describe(v: &OidcStatusOut) -> String {
    let on_off = |on: bool| if on { "on" } else { "off" };
    let mut lines = vec![format!("OIDC sign-in: {}", on_off(v.enabled))];
    match (&v.issuer, v.configured) {
        (Some(issuer), true) => lines.push(format!("issuer: {issuer}")),
        _ => lines.push("not configured (CORDON_OIDC_ISSUER and CORDON_OIDC_CLIENT_ID unset)".into()),
    }
    if !v.config_enabled {
        lines.push("turned off by the configuration (CORDON_OIDC_ENABLED=false)".into());
    }
    let switch = on_off(v.switch_enabled);
    match (&v.switch_changed_by, &v.switch_changed_at) {
        (Some(by), Some(at)) => lines.push(format!("admin switch: {switch} (set by {by} at {at})")),
        _ => lines.push(format!("admin switch: {switch}")),
    }
    lines.join("\n")
}

pub async fn auth_cmd(c: AuthCmd) -> anyhow::Result<i32> {
    let AuthCmd::Oidc(c) = c;
    let (remote, v): (Remote, OidcStatusOut) = match c {
        OidcCmd::Status { remote } => {
            let v = client(&remote)?.get("/api/v1/auth/oidc").await?;
            (remote, v)
        }
        OidcCmd::Disable { remote } => {
            let v = client(&remote)?.post_empty("/api/v1/auth/oidc/disable").await?;
            (remote, v)
        }
        OidcCmd::Enable { remote } => {
            let v = client(&remote)?.post_empty("/api/v1/auth/oidc/enable").await?;
            (remote, v)
        }
    };
    remote.output().one(&v, |v| println!("{}", describe(v)))?;
    Ok(0)
}
