//! `cordon asset …`, `cordon system …`, `cordon credential …`, `cordon exposure …` and
//! `cordon ioc …`: the containment and impact registers over the HTTP API. Tables on a
//! terminal, the server's JSON with `--json`; `cordon ioc export` writes the blocklist file
//! (to standard output or `--output`) and prints its warnings on standard error.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{Remote, client, s, table};
use crate::cli_values::named;
use crate::client::segment;
use cordon_core::register::{AssetKind, AssetState, Classification, CredentialKind};

fn path(r: &str, tail: &str) -> String {
    format!("/api/v1/incidents/{}/{tail}", segment(r))
}

fn list_of(v: &Value, key: &str) -> String {
    v[key]
        .as_array()
        .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

fn print(remote: &Remote, v: &Value, show: impl FnOnce(&Value)) {
    if remote.json {
        println!("{v}");
    } else {
        show(v);
    }
}

fn rows(v: &Value, row: impl Fn(&Value) -> Vec<String>) -> Vec<Vec<String>> {
    v.as_array().into_iter().flatten().map(row).collect()
}

#[derive(Debug, Subcommand)]
pub enum AssetCmd {
    /// Register an asset (a host, an instance, a bucket, …) in a state.
    Add {
        r#ref: String,
        name: String,
        #[arg(long, default_value = "host", value_parser = named::<AssetKind>())]
        kind: String,
        #[arg(long)]
        address: Option<String>,
        #[arg(long, default_value = "suspected", value_parser = named::<AssetState>())]
        state: String,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// The incident's assets and their states.
    List {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Move an asset to another state (recorded with who and when).
    Move {
        r#ref: String,
        /// The asset: its name, a unique id prefix (4+ hex digits) or its id.
        asset: String,
        #[arg(value_parser = named::<AssetState>())]
        state: String,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Systems at risk: compromised assets → credentials on them → systems they grant.
    Risk {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum SystemCmd {
    /// Register (or update) a system with its owner and assets.
    Add {
        r#ref: String,
        name: String,
        #[arg(long)]
        owner: Option<String>,
        /// An asset name of the incident (repeat for more).
        #[arg(long = "asset")]
        assets: Vec<String>,
        #[command(flatten)]
        remote: Remote,
    },
    List {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum CredentialCmd {
    /// Record a credential: where it is stored and what it grants.
    Add {
        r#ref: String,
        name: String,
        #[arg(long, value_parser = named::<CredentialKind>())]
        kind: String,
        /// An asset name it is stored on (repeat for more).
        #[arg(long = "on")]
        stored_on: Vec<String>,
        /// A system it grants access to (repeat for more).
        #[arg(long = "grants")]
        grants: Vec<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// The incident's credentials.
    List {
        r#ref: String,
        /// Only the compromised ones still to rotate or revoke.
        #[arg(long)]
        unrotated: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Mark a credential rotated.
    Rotate {
        r#ref: String,
        /// The credential: its name, a unique id prefix (4+ hex digits) or its id.
        credential: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Mark a credential revoked.
    Revoke {
        r#ref: String,
        credential: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExposureCmd {
    /// Record exposed data.
    Add {
        r#ref: String,
        /// What data, in words.
        data: String,
        #[arg(long, value_parser = named::<Classification>())]
        classification: String,
        #[arg(long)]
        records: Option<u64>,
        /// An affected customer (repeat for more).
        #[arg(long = "customer")]
        customers: Vec<String>,
        /// An evidence item of the incident: its name, handle or id (repeat for more).
        #[arg(long = "evidence")]
        evidence: Vec<String>,
        #[command(flatten)]
        remote: Remote,
    },
    List {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
pub enum IocCmd {
    /// Add an indicator (normalized; a known one is merged).
    Add {
        r#ref: String,
        #[arg(value_parser = named::<cordon_ioc::IndicatorKind>())]
        kind: String,
        value: String,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// The incident's indicators with first/last seen and sightings.
    List {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Promote a value out of a timeline event (its source id and line).
    Promote {
        r#ref: String,
        source_id: String,
        line: u64,
        value: String,
        #[arg(long, value_parser = named::<cordon_ioc::IndicatorKind>())]
        kind: Option<String>,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Search every ingested timeline for each indicator and record every event found as a
    /// sighting (all of them; first and last seen over all).
    Search {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Write the blocklist in a firewall's or a sharing format.
    Export {
        r#ref: String,
        #[arg(long, default_value = "nftables", value_parser = named::<cordon_ioc::ExportFormat>())]
        format: String,
        /// Leave private and reserved ranges out (they are kept, with a warning, by default).
        #[arg(long)]
        exclude_private: bool,
        /// Write here (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        remote: Remote,
    },
}

fn show_assets(v: &Value) {
    let rows = rows(v, |a| {
        vec![
            s(&a["id"]),
            s(&a["name"]),
            s(&a["kind"]),
            s(&a["state"]),
            s(&a["address"]),
        ]
    });
    table(&["ID", "NAME", "KIND", "STATE", "ADDRESS"], rows);
}

fn show_asset(a: &Value) {
    println!("{} ({}) is {}", s(&a["name"]), s(&a["kind"]), s(&a["state"]));
    let rows = rows(&a["history"], |m| {
        vec![s(&m["at"]), s(&m["from"]), s(&m["to"]), s(&m["by"]), s(&m["note"])]
    });
    table(&["AT", "FROM", "TO", "BY", "NOTE"], rows);
}

pub async fn run_asset(cmd: AssetCmd) -> anyhow::Result<()> {
    match cmd {
        AssetCmd::Add {
            r#ref,
            name,
            kind,
            address,
            state,
            note,
            remote,
        } => {
            let body = json!({ "name": name, "kind": kind, "address": address, "state": state, "note": note });
            let v = client(&remote)?.post(&path(&r#ref, "assets"), &body).await?;
            print(&remote, &v, show_asset);
        }
        AssetCmd::List { r#ref, remote } => {
            let v = client(&remote)?.get(&path(&r#ref, "assets")).await?;
            print(&remote, &v, show_assets);
        }
        AssetCmd::Move {
            r#ref,
            asset,
            state,
            note,
            remote,
        } => {
            let body = json!({ "state": state, "note": note });
            let v = client(&remote)?
                .patch(&path(&r#ref, &format!("assets/{}", segment(&asset))), &body)
                .await?;
            print(&remote, &v, show_asset);
        }
        AssetCmd::Risk { r#ref, remote } => {
            let v = client(&remote)?.get(&path(&r#ref, "risk")).await?;
            print(&remote, &v, |v| {
                println!("compromised assets: {}", list_of(v, "compromised_assets"));
                let rows = rows(&v["systems_at_risk"], |x| {
                    vec![
                        s(&x["system"]),
                        s(&x["owner"]),
                        list_of(x, "via"),
                        list_of(x, "assets_at_risk"),
                    ]
                });
                table(&["SYSTEM AT RISK", "OWNER", "VIA", "ASSETS AT RISK"], rows);
            });
        }
    }
    Ok(())
}

pub async fn run_system(cmd: SystemCmd) -> anyhow::Result<()> {
    let show = |v: &Value| {
        let rows = rows(v, |x| vec![s(&x["name"]), s(&x["owner"]), list_of(x, "assets")]);
        table(&["SYSTEM", "OWNER", "ASSETS"], rows);
    };
    match cmd {
        SystemCmd::Add {
            r#ref,
            name,
            owner,
            assets,
            remote,
        } => {
            let body = json!({ "name": name, "owner": owner, "assets": assets });
            let v = client(&remote)?.post(&path(&r#ref, "systems"), &body).await?;
            print(&remote, &v, |v| show(&Value::Array(vec![v.clone()])));
        }
        SystemCmd::List { r#ref, remote } => {
            let v = client(&remote)?.get(&path(&r#ref, "systems")).await?;
            print(&remote, &v, show);
        }
    }
    Ok(())
}

fn show_credentials(v: &Value) {
    let rows = rows(v, |c| {
        let open = c["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["status"] != "done" && t["status"] != "skipped")
            .map(|t| {
                t["assignee"]
                    .as_str()
                    .or(t["owner_role"].as_str())
                    .unwrap_or("-")
                    .to_owned()
            })
            .collect::<Vec<_>>()
            .join(", ");
        vec![
            s(&c["id"]),
            s(&c["name"]),
            s(&c["kind"]),
            s(&c["state"]),
            list_of(c, "stored_on"),
            list_of(c, "grants"),
            open,
        ]
    });
    table(
        &["ID", "NAME", "KIND", "STATE", "STORED ON", "GRANTS", "ROTATION BY"],
        rows,
    );
}

pub async fn run_credential(cmd: CredentialCmd) -> anyhow::Result<()> {
    match cmd {
        CredentialCmd::Add {
            r#ref,
            name,
            kind,
            stored_on,
            grants,
            remote,
        } => {
            let body = json!({ "name": name, "kind": kind, "stored_on": stored_on, "grants": grants });
            let v = client(&remote)?.post(&path(&r#ref, "credentials"), &body).await?;
            print(&remote, &v, |v| show_credentials(&Value::Array(vec![v.clone()])));
        }
        CredentialCmd::List {
            r#ref,
            unrotated,
            remote,
        } => {
            let q = if unrotated {
                "credentials?state=unrotated"
            } else {
                "credentials"
            };
            let v = client(&remote)?.get(&path(&r#ref, q)).await?;
            print(&remote, &v, show_credentials);
        }
        CredentialCmd::Rotate {
            r#ref,
            credential,
            remote,
        } => set_state(&r#ref, &credential, "rotated", &remote).await?,
        CredentialCmd::Revoke {
            r#ref,
            credential,
            remote,
        } => set_state(&r#ref, &credential, "revoked", &remote).await?,
    }
    Ok(())
}

async fn set_state(r: &str, credential: &str, state: &str, remote: &Remote) -> anyhow::Result<()> {
    let v = client(remote)?
        .patch(
            &path(r, &format!("credentials/{}", segment(credential))),
            &json!({ "state": state }),
        )
        .await?;
    print(remote, &v, |v| show_credentials(&Value::Array(vec![v.clone()])));
    Ok(())
}

pub async fn run_exposure(cmd: ExposureCmd) -> anyhow::Result<()> {
    let show = |v: &Value| {
        let rows = rows(v, |e| {
            vec![
                s(&e["id"]),
                s(&e["data"]),
                s(&e["classification"]),
                s(&e["records"]),
                list_of(e, "customers"),
            ]
        });
        table(&["ID", "DATA", "CLASSIFICATION", "RECORDS", "CUSTOMERS"], rows);
    };
    match cmd {
        ExposureCmd::Add {
            r#ref,
            data,
            classification,
            records,
            customers,
            evidence,
            remote,
        } => {
            let body = json!({ "data": data, "classification": classification, "records": records,
                               "customers": customers, "evidence": evidence });
            let v = client(&remote)?.post(&path(&r#ref, "exposures"), &body).await?;
            print(&remote, &v, |v| show(&Value::Array(vec![v.clone()])));
        }
        ExposureCmd::List { r#ref, remote } => {
            let v = client(&remote)?.get(&path(&r#ref, "exposures")).await?;
            print(&remote, &v, show);
        }
    }
    Ok(())
}

fn show_iocs(v: &Value) {
    let rows = rows(v, |i| {
        vec![
            s(&i["kind"]),
            s(&i["value"]),
            s(&i["first_seen"]),
            s(&i["last_seen"]),
            i["sightings"].as_array().map_or(0, Vec::len).to_string(),
            s(&i["warning"]),
        ]
    });
    table(
        &["KIND", "VALUE", "FIRST SEEN", "LAST SEEN", "SIGHTINGS", "WARNING"],
        rows,
    );
}

pub async fn run_ioc(cmd: IocCmd) -> anyhow::Result<()> {
    match cmd {
        IocCmd::Add {
            r#ref,
            kind,
            value,
            note,
            remote,
        } => {
            let body = json!({ "kind": kind, "value": value, "note": note });
            let v = client(&remote)?.post(&path(&r#ref, "iocs"), &body).await?;
            print(&remote, &v, |v| {
                show_iocs(&Value::Array(vec![v.clone()]));
                if v["merged"] == true {
                    println!("(merged into the known indicator)");
                }
            });
        }
        IocCmd::List { r#ref, remote } => {
            let v = client(&remote)?.get(&path(&r#ref, "iocs")).await?;
            print(&remote, &v, show_iocs);
        }
        IocCmd::Promote {
            r#ref,
            source_id,
            line,
            value,
            kind,
            note,
            remote,
        } => {
            let body = json!({ "source_id": source_id, "line": line, "value": value, "kind": kind, "note": note });
            let v = client(&remote)?.post(&path(&r#ref, "iocs/promote"), &body).await?;
            print(&remote, &v, |v| show_iocs(&Value::Array(vec![v.clone()])));
        }
        IocCmd::Search { r#ref, remote } => {
            // The search is paged by indicators: each next page searches the next ones.
            let v = client(&remote)?
                .post_all(&path(&r#ref, "iocs/search"), &json!({}))
                .await?;
            print(&remote, &v, |v| {
                let rows = rows(v, |x| {
                    vec![
                        s(&x["kind"]),
                        s(&x["value"]),
                        s(&x["found"]),
                        s(&x["new"]),
                        s(&x["first_seen"]),
                        s(&x["last_seen"]),
                    ]
                });
                table(
                    &["KIND", "VALUE", "EVENTS", "NEW SIGHTINGS", "FIRST SEEN", "LAST SEEN"],
                    rows,
                );
            });
        }
        IocCmd::Export {
            r#ref,
            format,
            exclude_private,
            output,
            remote,
        } => {
            let c = client(&remote)?;
            let url = format!(
                "{}?format={}&include_private={}",
                path(&r#ref, "iocs/export"),
                segment(&format),
                !exclude_private
            );
            let req = c.request(Method::GET, &url);
            let res = c.send(req).await?;
            let warnings = res
                .headers()
                .get("cordon-warnings")
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.parse::<u64>().ok())
                .unwrap_or(0);
            let body = res.text().await.context("reading the export")?;
            match output {
                Some(p) => {
                    std::fs::write(&p, &body).with_context(|| format!("writing {}", p.display()))?;
                    eprintln!("wrote {}", p.display());
                }
                None => print!("{body}"),
            }
            if warnings > 0 {
                eprintln!("{warnings} warning(s): private or reserved ranges; see the WARNING lines in the export");
            }
        }
    }
    Ok(())
}
