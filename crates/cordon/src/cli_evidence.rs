//! `cordon evidence …`: stream files into the evidence locker (with a progress bar on a
//! terminal, plain lines otherwise), list and show items with their custody, download them
//! (with byte ranges), verify them, record transfers and fetch custody reports.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use clap::Subcommand;
use cordon_api::evidence::{
    AddEvidenceQuery, ContentQuery, CustodyOut, CustodyQuery, EvidenceOut, TransferDetails, TransferIn, VerifyAllOut,
    VerifyOut,
};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, RANGE};
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;

use crate::cli::{Remote, client};
use crate::cli_output::{Column, DocumentArgs, or_dash};
use crate::client::{segment, with_query};

/// Upload read size: large enough that per-chunk overhead disappears.
const UPLOAD_CHUNK: usize = 1 << 20;

#[derive(Debug, Subcommand)]
pub enum EvidenceCmd {
    /// Stream a file (a disk image, a log, a memory dump) into the evidence locker.
    Add {
        /// Incident id or codename.
        r#ref: String,
        file: PathBuf,
        /// Name of the item (default: the file name).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Who acquired the bytes (default: you).
        #[arg(long)]
        acquired_by: Option<String>,
        /// The acquisition tool, e.g. `dd 9.1`.
        #[arg(long)]
        tool: Option<String>,
        /// The asset the bytes come from, e.g. `web1`.
        #[arg(long)]
        source_asset: Option<String>,
        /// Refuse (and keep nothing) unless the content has this SHA-256.
        #[arg(long)]
        expected_sha256: Option<String>,
        /// Also compute MD5 (for older tools).
        #[arg(long)]
        md5: bool,
        /// Also compute SHA-1 (for older tools).
        #[arg(long)]
        sha1: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// The evidence of an incident.
    List {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// One item with its digests and chain of custody.
    Show {
        r#ref: String,
        /// The item: its name, its handle (a unique id prefix, 4+ hex digits) or its id.
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Download an item's bytes (recorded in its chain of custody).
    Get {
        r#ref: String,
        /// The item: its name, its handle (a unique id prefix, 4+ hex digits) or its id.
        id: String,
        /// Write here (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Only these bytes: `FIRST-LAST` (inclusive), `FIRST-` or `-COUNT`.
        #[arg(long)]
        range: Option<String>,
        /// The bytes leave the team: record an export to this person or organisation.
        #[arg(long)]
        export_to: Option<String>,
        /// Why (with --export-to).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Re-read stored items and check their digests; exits 1 when one does not match.
    Verify {
        r#ref: String,
        /// One item, by name, handle or id (default: every item of the incident).
        id: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Record that an item was handed to a person or organisation.
    Transfer {
        r#ref: String,
        /// The item: its name, its handle (a unique id prefix, 4+ hex digits) or its id.
        id: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        organisation: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// The custody report of an item, for counsel or law enforcement: digests, every custody
    /// event, transfers and signature lines.
    Custody {
        r#ref: String,
        /// The item: its name, its handle (a unique id prefix, 4+ hex digits) or its id.
        id: String,
        /// `md` or `pdf`.
        #[arg(long, default_value = "md", value_parser = ["md", "pdf"])]
        format: String,
        #[command(flatten)]
        document: DocumentArgs,
        #[command(flatten)]
        remote: Remote,
    },
}

pub async fn run(cmd: EvidenceCmd) -> anyhow::Result<i32> {
    match cmd {
        EvidenceCmd::Add {
            r#ref,
            file,
            name,
            description,
            acquired_by,
            tool,
            source_asset,
            expected_sha256,
            md5,
            sha1,
            remote,
        } => {
            let name = match name {
                Some(n) => n,
                None => file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .context("name the item with --name")?,
            };
            let query = AddEvidenceQuery {
                name: Some(name),
                description,
                acquired_by,
                tool,
                source_asset,
                expected_sha256,
                md5,
                sha1,
            };
            let v = upload(&remote, &r#ref, &file, &query).await?;
            remote.output().one(&v, print_item)?;
            Ok(0)
        }
        EvidenceCmd::List { r#ref, remote } => {
            let v: Vec<EvidenceOut> = client(&remote)?.list(&base(&r#ref)).await?;
            remote.output().list(&v, ITEM_COLUMNS)?;
            Ok(0)
        }
        EvidenceCmd::Show { r#ref, id, remote } => {
            let v: EvidenceOut = client(&remote)?
                .get(&format!("{}/{}", base(&r#ref), segment(&id)))
                .await?;
            remote.output().one(&v, print_item)?;
            Ok(0)
        }
        EvidenceCmd::Get {
            r#ref,
            id,
            output,
            range,
            export_to,
            reason,
            remote,
        } => {
            download(&remote, &r#ref, &id, output.as_deref(), range, export_to, reason).await?;
            Ok(0)
        }
        EvidenceCmd::Verify { r#ref, id, remote } => verify(&remote, &r#ref, id).await,
        EvidenceCmd::Transfer {
            r#ref,
            id,
            to,
            organisation,
            reason,
            remote,
        } => {
            let body = TransferIn {
                to,
                organisation,
                reason,
            };
            let v: CustodyOut = client(&remote)?
                .post(&format!("{}/{}/transfer", base(&r#ref), segment(&id)), &body)
                .await?;
            remote.output().one(&v, |v| {
                let to = serde_json::from_value::<TransferDetails>(v.details.clone())
                    .map_or_else(|_| "-".to_owned(), |d| d.to);
                println!("custody transferred to {to} (audit entry #{})", v.audit_seq);
            })?;
            Ok(0)
        }
        EvidenceCmd::Custody {
            r#ref,
            id,
            format,
            document,
            remote,
        } => {
            anyhow::ensure!(matches!(format.as_str(), "md" | "pdf"), "--format must be md or pdf");
            let path = format!("{}/{}/custody", base(&r#ref), segment(&id));
            let pdf = format == "pdf";
            let query = CustodyQuery {
                format: Some(format),
                tz: document.tz,
            };
            crate::cli_output::write_document(&remote, &path, &query, pdf, document.output, "custody report").await?;
            Ok(0)
        }
    }
}

fn base(r: &str) -> String {
    format!("/api/v1/incidents/{}/evidence", segment(r))
}

/// `67108864` → `64.0 MiB`.
fn human_bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// The items as `evidence list` shows them.
const ITEM_COLUMNS: &[Column<EvidenceOut>] = &[
    ("HANDLE", |i| i.handle.clone()),
    ("NAME", |i| i.name.clone()),
    ("SIZE", |i| human_bytes(i.size)),
    ("SHA-256", |i| i.sha256.clone()),
    ("ACQUIRED BY", |i| i.acquired_by.clone()),
    ("RECEIVED", |i| i.created_at.to_string()),
];

/// One item: its name and short handle first (either names it in later commands), then
/// its full id, digests and custody.
fn print_item(v: &EvidenceOut) {
    println!("{} ({})", v.name, v.handle);
    println!("  id:           {}", v.id);
    if !v.description.is_empty() {
        println!("  description:  {}", v.description);
    }
    println!("  size:         {} ({} bytes)", human_bytes(v.size), v.size);
    println!("  sha256:       {}", v.sha256);
    println!("  blake3:       {}", v.blake3);
    for (key, digest) in [("md5", &v.md5), ("sha1", &v.sha1)] {
        if let Some(d) = digest {
            println!("  {key:<13} {d}");
        }
    }
    println!("  acquired by:  {}", v.acquired_by);
    for (label, value) in [("tool", &v.tool), ("source asset", &v.source_asset)] {
        if let Some(t) = value {
            println!("  {:<13} {t}", format!("{label}:"));
        }
    }
    println!("  custody:");
    for e in &v.custody {
        println!("    #{:<6} {}  {:<12} {}", e.audit_seq, e.at, e.kind, e.actor);
    }
}

/// Progress of a long transfer: a bar on a terminal, a line per tenth otherwise (stderr).
#[derive(Clone)]
struct Progress(Arc<ProgressKind>);

enum ProgressKind {
    Bar(ProgressBar),
    Lines {
        label: String,
        total: u64,
        done: AtomicU64,
        next_tenth: AtomicU64,
        started: Instant,
    },
}

impl Progress {
    fn new(label: &str, total: u64) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(label.to_owned());
            Self(Arc::new(ProgressKind::Bar(bar)))
        } else {
            eprintln!("{label}: {}", human_bytes(total));
            Self(Arc::new(ProgressKind::Lines {
                label: label.to_owned(),
                total,
                done: AtomicU64::new(0),
                next_tenth: AtomicU64::new(1),
                started: Instant::now(),
            }))
        }
    }

    fn advance(&self, n: u64) {
        match self.0.as_ref() {
            ProgressKind::Bar(bar) => bar.inc(n),
            ProgressKind::Lines {
                label,
                total,
                done,
                next_tenth,
                started,
            } => {
                let done = done.fetch_add(n, Ordering::Relaxed) + n;
                let tenth = if *total == 0 {
                    10
                } else {
                    done.saturating_mul(10) / total
                };
                let next = next_tenth.load(Ordering::Relaxed);
                if tenth >= next && next <= 10 {
                    next_tenth.store(tenth + 1, Ordering::Relaxed);
                    let secs = started.elapsed().as_secs_f64().max(1e-6);
                    eprintln!(
                        "{label}: {}% ({} of {}, {}/s)",
                        tenth * 10,
                        human_bytes(done),
                        human_bytes(*total),
                        human_bytes((done as f64 / secs) as u64)
                    );
                }
            }
        }
    }

    fn finish(&self) {
        if let ProgressKind::Bar(bar) = self.0.as_ref() {
            bar.finish_and_clear();
        }
    }
}

/// Streams `file` to the server (never read whole into memory) and returns the new item.
async fn upload(remote: &Remote, r: &str, file: &Path, query: &AddEvidenceQuery) -> anyhow::Result<EvidenceOut> {
    let cl = client(remote)?;
    let f = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let len = f.metadata().await?.len();
    let progress = Progress::new(&format!("uploading {}", file.display()), len);
    let counter = progress.clone();
    let stream = ReaderStream::with_capacity(f, UPLOAD_CHUNK).inspect(move |chunk| {
        if let Ok(c) = chunk {
            counter.advance(c.len() as u64);
        }
    });
    let req = cl
        .request(Method::POST, &with_query(&base(r), query)?)
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(CONTENT_LENGTH, len)
        .body(reqwest::Body::wrap_stream(stream));
    let res = cl.send(req).await;
    progress.finish();
    res?.json().await.context("reading the answer")
}

async fn download(
    remote: &Remote,
    r: &str,
    id: &str,
    output: Option<&Path>,
    range: Option<String>,
    export_to: Option<String>,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let cl = client(remote)?;
    // A reason goes with an export only.
    let query = ContentQuery {
        reason: reason.filter(|_| export_to.is_some()),
        export_to,
    };
    let mut req = cl.request(
        Method::GET,
        &with_query(&format!("{}/{}/content", base(r), segment(id)), &query)?,
    );
    if let Some(range) = range {
        req = req.header(RANGE, format!("bytes={}", range.trim()));
    }
    let res = cl.send(req).await?;
    let len = res.content_length().unwrap_or(0);
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match output {
        Some(p) => Box::new(
            tokio::fs::File::create(p)
                .await
                .with_context(|| format!("creating {}", p.display()))?,
        ),
        None => Box::new(tokio::io::stdout()),
    };
    let progress = output.map(|p| Progress::new(&format!("downloading to {}", p.display()), len));
    let mut body = res.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.context("the download broke off")?;
        out.write_all(&chunk).await?;
        if let Some(p) = &progress {
            p.advance(chunk.len() as u64);
        }
    }
    out.flush().await?;
    if let Some(p) = &progress {
        p.finish();
    }
    Ok(())
}

/// Verifies one item, or each item of the incident in turn (a line per item as it goes).
async fn verify(remote: &Remote, r: &str, id: Option<String>) -> anyhow::Result<i32> {
    let cl = client(remote)?;
    let ids: Vec<(String, String)> = match id {
        Some(id) => vec![(id, String::new())],
        None => cl
            .list::<EvidenceOut>(&base(r))
            .await?
            .into_iter()
            .map(|i| (i.id.to_string(), i.name))
            .collect(),
    };
    let mut items: Vec<VerifyOut> = Vec::new();
    for (n, (id, name)) in ids.iter().enumerate() {
        if !remote.json && ids.len() > 1 {
            eprintln!("verifying {}/{}: {name}", n + 1, ids.len());
        }
        items.push(cl.get(&format!("{}/{}/verify", base(r), segment(id))).await?);
    }
    let failed = items.iter().filter(|v| !v.ok).count();
    let all = VerifyAllOut { ok: failed == 0, items };
    remote.output().one(&all, |all| {
        crate::cli_output::print_table(
            &all.items,
            &[
                ("ID", |v| v.id.to_string()),
                ("NAME", |v| v.name.clone()),
                ("RESULT", |v| {
                    if v.ok {
                        "ok".into()
                    } else {
                        format!("MISMATCH ({})", v.mismatches.join(", "))
                    }
                }),
                ("SHA-256 (READ BACK)", |v| or_dash(&v.sha256)),
            ],
        );
        if failed > 0 {
            println!(
                "{failed} of {} items FAILED verification; the incident commander has been alerted",
                all.items.len()
            );
        } else {
            println!("{} items verified", all.items.len());
        }
    })?;
    Ok(if failed > 0 { 1 } else { 0 })
}
