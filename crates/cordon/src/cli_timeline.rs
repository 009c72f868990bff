//! `cordon timeline …` (issue 4): ingest log files into an incident's timeline (streamed,
//! with a progress bar on a terminal and plain lines otherwise), query it in time order
//! (table or `--json`), list its sources, and export it (JSON lines or Timesketch CSV).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use cordon_api::timeline::{
    ExportQuery, FacetOut, FacetsOut, FacetsQuery, HistogramOut, HistogramQuery, IngestQuery, SourceOut,
    TimelineEventOut, TimelineFilters, TimelinePageOut, TimelineQuery,
};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::{Remote, client};
use crate::cli_output::{Column, or_dash, print_table, table};
use crate::client::{segment, with_query};

#[derive(Debug, Subcommand)]
pub enum TimelineCmd {
    /// Ingest log files (plain or .gz; format detected unless --format) into the timeline.
    Ingest {
        /// Incident id or codename.
        r#ref: String,
        /// Log files; each becomes one source.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// `auto` (detected), or the log's format (aliases such as `nginx`, `auth`, `json` too).
        #[arg(long, default_value = "auto", value_parser = crate::cli_values::LogFormatParser)]
        format: String,
        /// Host of events whose log does not name one.
        #[arg(long)]
        host: Option<String>,
        /// Year of year-less syslog times (without it the year is guessed from today — never
        /// one that puts a line in the future — and a diagnostic says so).
        #[arg(long)]
        year: Option<i32>,
        /// Zone of times logged without an offset (`UTC`, `+02:00`, `Europe/Berlin`).
        #[arg(long)]
        tz: Option<String>,
        /// Ingest a file even when the incident already has a source with these exact bytes
        /// (refused otherwise, naming the earlier source).
        #[arg(long)]
        again: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Events in time order: everything an IP or account did, a window, a phrase.
    Query {
        r#ref: String,
        #[command(flatten)]
        filter: FilterArgs,
        /// Events per page (at most 10 000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Continue after this cursor (printed after a full page).
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// How many matching events fell in each stretch of time: when the attack was busiest.
    Histogram {
        r#ref: String,
        #[command(flatten)]
        filter: FilterArgs,
        /// Bucket size: `30s`, `5m`, `1h`, `1d`, or ISO 8601 (`PT15M`); default: about 100 buckets.
        #[arg(long)]
        interval: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// The most frequent IPs, accounts, hosts and kinds among the matching events.
    Facets {
        r#ref: String,
        #[command(flatten)]
        filter: FilterArgs,
        /// Values per facet (at most 1000).
        #[arg(long, default_value_t = 10)]
        top: u32,
        #[command(flatten)]
        remote: Remote,
    },
    /// The sources ingested into the timeline.
    Sources {
        r#ref: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Every matching event, streamed to standard output or a file.
    Export {
        r#ref: String,
        #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "timesketch-csv"])]
        format: String,
        #[command(flatten)]
        filter: FilterArgs,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        remote: Remote,
    },
}

/// The timeline filters.
#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Events naming this IP anywhere.
    #[arg(long)]
    pub ip: Option<String>,
    /// Events naming this account anywhere.
    #[arg(long)]
    pub user: Option<String>,
    /// Events of this host.
    #[arg(long)]
    pub host: Option<String>,
    /// authentication, ssh, http, datastore, api, process, file, other.
    #[arg(long)]
    pub kind: Option<String>,
    /// Full text: words, "a phrase", OR, -word.
    #[arg(long)]
    pub q: Option<String>,
    /// RFC 3339 instant (inclusive).
    #[arg(long)]
    pub from: Option<String>,
    /// RFC 3339 instant (inclusive).
    #[arg(long)]
    pub to: Option<String>,
    /// One source's events only: the handle `ingest` and `sources` print (the file's name
    /// while no other source has it), a unique id prefix, or the id.
    #[arg(long)]
    pub source: Option<String>,
}

impl From<FilterArgs> for TimelineFilters {
    fn from(f: FilterArgs) -> Self {
        Self {
            ip: f.ip,
            user: f.user,
            host: f.host,
            kind: f.kind,
            q: f.q,
            from: f.from,
            to: f.to,
            source: f.source,
        }
    }
}

/// The path of the incident's timeline view `tail` (`""`, `/histogram`, `/facets`, `/export`,
/// `/sources`).
fn timeline_base(r: &str, tail: &str) -> String {
    format!("/api/v1/incidents/{}/timeline{tail}", segment(r))
}

/// The path of a timeline view with `query`.
fn timeline_path<Q: Serialize>(r: &str, tail: &str, query: &Q) -> anyhow::Result<String> {
    with_query(&timeline_base(r, tail), query)
}

pub async fn run(cmd: TimelineCmd) -> anyhow::Result<i32> {
    match cmd {
        TimelineCmd::Ingest {
            r#ref,
            files,
            format,
            host,
            year,
            tz,
            again,
            remote,
        } => {
            let cl = client(&remote)?;
            let mut failed = 0;
            for file in files {
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| file.display().to_string());
                let query = IngestQuery {
                    format: Some(format.clone()),
                    name: Some(name.clone()),
                    host: host.clone(),
                    year,
                    tz: tz.clone(),
                    again: again.then_some(true),
                };
                let path = timeline_path(&r#ref, "/sources", &query)?;
                match ingest_file(&cl, &path, &file, &name, &remote).await {
                    Ok(()) => {}
                    Err(e) => {
                        failed += 1;
                        eprintln!("error: {}: {e:#}", file.display());
                    }
                }
            }
            Ok(if failed > 0 { 1 } else { 0 })
        }
        TimelineCmd::Query {
            r#ref,
            filter,
            limit,
            cursor,
            remote,
        } => {
            let query = TimelineQuery {
                limit: Some(limit),
                cursor,
                ..TimelineQuery::of(filter.into())
            };
            let v: TimelinePageOut = client(&remote)?.get(&timeline_path(&r#ref, "", &query)?).await?;
            remote.output().one(&v, |v| {
                print_table(&v.events, EVENT_COLUMNS);
                if let Some(c) = &v.next_cursor {
                    eprintln!("more events: --cursor {c}");
                }
            })?;
            Ok(0)
        }
        TimelineCmd::Histogram {
            r#ref,
            filter,
            interval,
            remote,
        } => {
            let query = HistogramQuery {
                interval,
                ..HistogramQuery::of(filter.into())
            };
            let v: HistogramOut = client(&remote)?
                .get(&timeline_path(&r#ref, "/histogram", &query)?)
                .await?;
            remote.output().one(&v, |v| {
                let widest = v.buckets.iter().map(|b| b.count).max().unwrap_or(0);
                let rows = v
                    .buckets
                    .iter()
                    .filter(|b| b.count != 0)
                    .map(|b| {
                        let bar = (b.count * 40).div_ceil(widest.max(1));
                        vec![b.start.to_string(), b.count.to_string(), "#".repeat(bar as usize)]
                    })
                    .collect();
                table(&["FROM", "EVENTS", ""], rows);
                println!("{} events, {} s a bucket", v.total, v.interval_seconds);
            })?;
            Ok(0)
        }
        TimelineCmd::Facets {
            r#ref,
            filter,
            top,
            remote,
        } => {
            let query = FacetsQuery {
                top: Some(top),
                ..FacetsQuery::of(filter.into())
            };
            let v: FacetsOut = client(&remote)?.get(&timeline_path(&r#ref, "/facets", &query)?).await?;
            remote.output().one(&v, |v| {
                let facets: [(&str, &[FacetOut]); 4] = [
                    ("ip", &v.ips),
                    ("user", &v.users),
                    ("host", &v.hosts),
                    ("kind", &v.kinds),
                ];
                let rows = facets
                    .iter()
                    .flat_map(|(facet, values)| {
                        values
                            .iter()
                            .map(|f| vec![(*facet).to_owned(), f.value.clone(), f.count.to_string()])
                    })
                    .collect();
                table(&["FACET", "VALUE", "EVENTS"], rows);
            })?;
            Ok(0)
        }
        TimelineCmd::Sources { r#ref, remote } => {
            let v: Vec<SourceOut> = client(&remote)?.list(&timeline_base(&r#ref, "/sources")).await?;
            remote.output().list(&v, SOURCE_COLUMNS)?;
            Ok(0)
        }
        TimelineCmd::Export {
            r#ref,
            format,
            filter,
            output,
            remote,
        } => {
            let query = ExportQuery {
                format: Some(format),
                ..ExportQuery::of(filter.into())
            };
            let cl = client(&remote)?;
            let req = cl.request(reqwest::Method::GET, &timeline_path(&r#ref, "/export", &query)?);
            let res = cl.send(req).await?;
            let mut out: Box<dyn Write> = match &output {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let mut body = res.bytes_stream();
            while let Some(chunk) = body.next().await {
                out.write_all(&chunk.context("reading the export")?)?;
            }
            out.flush()?;
            Ok(0)
        }
    }
}

/// The events as `timeline query` shows them: a message is cut at 120 characters and kept
/// on one line.
const EVENT_COLUMNS: &[Column<TimelineEventOut>] = &[
    ("TIME", |e| e.ts.clone()),
    ("HOST", |e| or_dash(&e.host)),
    ("KIND", |e| e.kind.clone()),
    ("SOURCE", |e| e.source.clone()),
    ("SRC_IP", |e| or_dash(&e.src_ip)),
    ("USER", |e| or_dash(&e.user)),
    ("MESSAGE", |e| {
        let msg = if e.message.chars().count() > 120 {
            format!("{}…", e.message.chars().take(119).collect::<String>())
        } else {
            e.message.clone()
        };
        msg.replace(['\n', '\r', '\t'], " ")
    }),
];

/// The sources as `timeline sources` shows them.
const SOURCE_COLUMNS: &[Column<SourceOut>] = &[
    ("HANDLE", |s| s.handle.clone()),
    ("NAME", |s| s.name.clone()),
    ("FORMAT", |s| s.format.clone()),
    ("EVENTS", |s| s.events.to_string()),
    ("SKIPPED", |s| s.skipped.to_string()),
    ("BYTES", |s| s.bytes.to_string()),
    ("INGESTED", |s| s.created_at.to_string()),
    ("SHA256", |s| s.sha256.clone()),
];

/// Streams one file to the server, with progress, and prints what came of it.
async fn ingest_file(
    cl: &crate::client::Client,
    path: &str,
    file: &std::path::Path,
    name: &str,
    remote: &Remote,
) -> anyhow::Result<()> {
    let f = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let size = f.metadata().await?.len();
    let sent = Arc::new(AtomicU64::new(0));
    let terminal = std::io::stderr().is_terminal();
    let bar = if terminal {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(name.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    } else {
        eprintln!("ingesting {name} ({size} bytes)");
        None
    };
    let counter = sent.clone();
    let progress = bar.clone();
    let stream = tokio_util::io::ReaderStream::with_capacity(f, 256 * 1024).map(move |chunk| {
        if let Ok(b) = &chunk {
            let n = counter.fetch_add(b.len() as u64, Ordering::Relaxed) + b.len() as u64;
            if let Some(p) = &progress {
                p.set_position(n);
            }
        }
        chunk
    });
    let start = Instant::now();
    let req = cl
        .request(reqwest::Method::POST, path)
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(reqwest::Body::wrap_stream(stream));
    let result = match cl.send(req).await {
        Ok(res) => res.json::<SourceOut>().await.context("reading the answer"),
        Err(e) => Err(e),
    };
    let secs = start.elapsed().as_secs_f64().max(1e-6);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let v = result?;
    let bytes = sent.load(Ordering::Relaxed);
    remote.output().one(&v, |v| {
        println!(
            "{name}: {} events, {} skipped, {} diagnostics, format {} — {:.0} events/s, {:.1} MB/s, sha256 {}",
            v.events,
            v.skipped,
            v.diagnostics_total,
            v.format,
            v.events as f64 / secs,
            bytes as f64 / secs / 1e6,
            v.sha256,
        );
        println!(
            "  source {}: query it with --source {}",
            v.source_id,
            shell_word(&v.handle)
        );
        for d in v.diagnostics.iter().take(10) {
            println!("  line {}: {}: {}", d.line, d.code, d.message);
        }
        let shown = v.diagnostics.len() as u64;
        if v.diagnostics_total > shown.min(10) {
            println!("  … {} more diagnostics", v.diagnostics_total - shown.min(10));
        }
    })
}

/// A word as typed in a POSIX shell: as it is when it holds only safe characters, else quoted.
fn shell_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@' | '+' | ','))
    {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn handles_are_printed_as_they_are_typed() {
        assert_eq!(shell_word("auth.log"), "auth.log");
        assert_eq!(shell_word("0190f3a2"), "0190f3a2");
        assert_eq!(shell_word("my log"), "'my log'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
