//! `cordon asset …`, `cordon system …`, `cordon credential …`, `cordon exposure …` and
//! `cordon ioc …`: the containment and impact registers over the HTTP API. Tables on a
//! terminal, the server's JSON with `--json`; `cordon ioc export` writes the blocklist file
//! (to standard output or `--output`) and prints its warnings on standard error.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use cordon_api::registers::{
    AssetIn, AssetOut, AssetPatch, CredentialIn, CredentialOut, CredentialPatch, CredentialQuery, ExportQuery,
    ExposureIn, ExposureOut, IocIn, IocOut, PromoteIn, RiskOut, SearchOut, SystemIn, SystemOut, WARNINGS_HEADER,
};
use reqwest::Method;

use crate::cli::{Remote, client};
use crate::cli_output::{Column, or_dash, print_table};
use crate::cli_values::named;
use crate::client::{segment, with_query};
use cordon_core::register::{AssetKind, AssetState, Classification, CredentialKind};

fn path(r: &str, tail: &str) -> String {
    format!("/api/v1/incidents/{}/{tail}", segment(r))
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

/// The assets as `asset list` shows them.
const ASSET_COLUMNS: &[Column<AssetOut>] = &[
    ("ID", |a| a.id.to_string()),
    ("NAME", |a| a.name.clone()),
    ("KIND", |a| a.kind.clone()),
    ("STATE", |a| a.state.clone()),
    ("ADDRESS", |a| or_dash(&a.address)),
];

/// One asset and every state it entered.
fn show_asset(a: &AssetOut) {
    println!("{} ({}) is {}", a.name, a.kind, a.state);
    print_table(
        &a.history,
        &[
            ("AT", |m| m.at.to_string()),
            ("FROM", |m| or_dash(&m.from)),
            ("TO", |m| m.to.clone()),
            ("BY", |m| m.by.clone()),
            ("NOTE", |m| m.note.clone()),
        ],
    );
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
            let body = AssetIn {
                name,
                kind,
                address,
                state,
                note,
            };
            let v: AssetOut = client(&remote)?.post(&path(&r#ref, "assets"), &body).await?;
            remote.output().one(&v, show_asset)?;
        }
        AssetCmd::List { r#ref, remote } => {
            let v: Vec<AssetOut> = client(&remote)?.list(&path(&r#ref, "assets")).await?;
            remote.output().list(&v, ASSET_COLUMNS)?;
        }
        AssetCmd::Move {
            r#ref,
            asset,
            state,
            note,
            remote,
        } => {
            let body = AssetPatch { state, note };
            let v: AssetOut = client(&remote)?
                .patch(&path(&r#ref, &format!("assets/{}", segment(&asset))), &body)
                .await?;
            remote.output().one(&v, show_asset)?;
        }
        AssetCmd::Risk { r#ref, remote } => {
            let v: RiskOut = client(&remote)?.get(&path(&r#ref, "risk")).await?;
            remote.output().one(&v, |v| {
                println!("compromised assets: {}", v.compromised_assets.join(", "));
                print_table(
                    &v.systems_at_risk,
                    &[
                        ("SYSTEM AT RISK", |x| x.system.clone()),
                        ("OWNER", |x| or_dash(&x.owner)),
                        ("VIA", |x| x.via.join(", ")),
                        ("ASSETS AT RISK", |x| x.assets_at_risk.join(", ")),
                    ],
                );
            })?;
        }
    }
    Ok(())
}

/// The systems as `system list` shows them.
const SYSTEM_COLUMNS: &[Column<SystemOut>] = &[
    ("SYSTEM", |x| x.name.clone()),
    ("OWNER", |x| or_dash(&x.owner)),
    ("ASSETS", |x| x.assets.join(", ")),
];

pub async fn run_system(cmd: SystemCmd) -> anyhow::Result<()> {
    match cmd {
        SystemCmd::Add {
            r#ref,
            name,
            owner,
            assets,
            remote,
        } => {
            let body = SystemIn { name, owner, assets };
            let v: SystemOut = client(&remote)?.post(&path(&r#ref, "systems"), &body).await?;
            remote
                .output()
                .one(&v, |v| print_table(std::slice::from_ref(v), SYSTEM_COLUMNS))?;
        }
        SystemCmd::List { r#ref, remote } => {
            let v: Vec<SystemOut> = client(&remote)?.list(&path(&r#ref, "systems")).await?;
            remote.output().list(&v, SYSTEM_COLUMNS)?;
        }
    }
    Ok(())
}

/// Who is to rotate a credential: the assignee or owning role of each of its open tasks.
fn rotation_by(c: &CredentialOut) -> String {
    c.tasks
        .iter()
        .filter(|t| t.status != "done" && t.status != "skipped")
        .map(|t| {
            t.assignee
                .as_deref()
                .or(t.owner_role.as_deref())
                .unwrap_or("-")
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The credentials as `credential list` shows them.
const CREDENTIAL_COLUMNS: &[Column<CredentialOut>] = &[
    ("ID", |c| c.id.to_string()),
    ("NAME", |c| c.name.clone()),
    ("KIND", |c| c.kind.clone()),
    ("STATE", |c| c.state.clone()),
    ("STORED ON", |c| c.stored_on.join(", ")),
    ("GRANTS", |c| c.grants.join(", ")),
    ("ROTATION BY", rotation_by),
];

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
            let body = CredentialIn {
                name,
                kind,
                stored_on,
                grants,
            };
            let v: CredentialOut = client(&remote)?.post(&path(&r#ref, "credentials"), &body).await?;
            remote
                .output()
                .one(&v, |v| print_table(std::slice::from_ref(v), CREDENTIAL_COLUMNS))?;
        }
        CredentialCmd::List {
            r#ref,
            unrotated,
            remote,
        } => {
            let query = CredentialQuery {
                state: unrotated.then(|| "unrotated".to_owned()),
            };
            let v: Vec<CredentialOut> = client(&remote)?
                .list(&with_query(&path(&r#ref, "credentials"), &query)?)
                .await?;
            remote.output().list(&v, CREDENTIAL_COLUMNS)?;
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
    let body = CredentialPatch {
        state: state.to_owned(),
    };
    let v: CredentialOut = client(remote)?
        .patch(&path(r, &format!("credentials/{}", segment(credential))), &body)
        .await?;
    remote
        .output()
        .one(&v, |v| print_table(std::slice::from_ref(v), CREDENTIAL_COLUMNS))
}

/// The exposures as `exposure list` shows them.
const EXPOSURE_COLUMNS: &[Column<ExposureOut>] = &[
    ("ID", |e| e.id.to_string()),
    ("DATA", |e| e.data.clone()),
    ("CLASSIFICATION", |e| e.classification.clone()),
    ("RECORDS", |e| or_dash(&e.records)),
    ("CUSTOMERS", |e| e.customers.join(", ")),
];

pub async fn run_exposure(cmd: ExposureCmd) -> anyhow::Result<()> {
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
            let body = ExposureIn {
                data,
                classification,
                records,
                customers,
                evidence,
                events: Vec::new(),
            };
            let v: ExposureOut = client(&remote)?.post(&path(&r#ref, "exposures"), &body).await?;
            remote
                .output()
                .one(&v, |v| print_table(std::slice::from_ref(v), EXPOSURE_COLUMNS))?;
        }
        ExposureCmd::List { r#ref, remote } => {
            let v: Vec<ExposureOut> = client(&remote)?.list(&path(&r#ref, "exposures")).await?;
            remote.output().list(&v, EXPOSURE_COLUMNS)?;
        }
    }
    Ok(())
}

/// The indicators as `ioc list` shows them.
const IOC_COLUMNS: &[Column<IocOut>] = &[
    ("KIND", |i| i.kind.clone()),
    ("VALUE", |i| i.value.clone()),
    ("FIRST SEEN", |i| or_dash(&i.first_seen)),
    ("LAST SEEN", |i| or_dash(&i.last_seen)),
    ("SIGHTINGS", |i| i.sightings.len().to_string()),
    ("WARNING", |i| or_dash(&i.warning)),
];

/// What `ioc search` found, per indicator.
const SEARCH_COLUMNS: &[Column<SearchOut>] = &[
    ("KIND", |x| x.kind.clone()),
    ("VALUE", |x| x.value.clone()),
    ("EVENTS", |x| x.found.to_string()),
    ("NEW SIGHTINGS", |x| x.new.to_string()),
    ("FIRST SEEN", |x| or_dash(&x.first_seen)),
    ("LAST SEEN", |x| or_dash(&x.last_seen)),
];

pub async fn run_ioc(cmd: IocCmd) -> anyhow::Result<()> {
    match cmd {
        IocCmd::Add {
            r#ref,
            kind,
            value,
            note,
            remote,
        } => {
            let body = IocIn { kind, value, note };
            let v: IocOut = client(&remote)?.post(&path(&r#ref, "iocs"), &body).await?;
            remote.output().one(&v, |v| {
                print_table(std::slice::from_ref(v), IOC_COLUMNS);
                if v.merged {
                    println!("(merged into the known indicator)");
                }
            })?;
        }
        IocCmd::List { r#ref, remote } => {
            let v: Vec<IocOut> = client(&remote)?.list(&path(&r#ref, "iocs")).await?;
            remote.output().list(&v, IOC_COLUMNS)?;
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
            let body = PromoteIn {
                source_id,
                line,
                value,
                kind,
                note,
            };
            let v: IocOut = client(&remote)?.post(&path(&r#ref, "iocs/promote"), &body).await?;
            remote
                .output()
                .one(&v, |v| print_table(std::slice::from_ref(v), IOC_COLUMNS))?;
        }
        IocCmd::Search { r#ref, remote } => {
            // The search is paged by indicators: each next page searches the next ones.
            let v: Vec<SearchOut> = client(&remote)?.post_list(&path(&r#ref, "iocs/search")).await?;
            remote.output().list(&v, SEARCH_COLUMNS)?;
        }
        IocCmd::Export {
            r#ref,
            format,
            exclude_private,
            output,
            remote,
        } => {
            let c = client(&remote)?;
            let query = ExportQuery {
                format,
                include_private: Some(!exclude_private),
            };
            let url = with_query(&path(&r#ref, "iocs/export"), &query)?;
            let req = c.request(Method::GET, &url);
            let res = c.send(req).await?;
            let warnings = res
                .headers()
                .get(WARNINGS_HEADER)
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
