//! The attack timeline's use cases (issue 4): ingesting logs into the incident's own index and
//! querying it, under the incident's need-to-know.
//!
//! Every function resolves the incident with [`Cordon::resolve`] first (an incident the caller
//! may not see is "not found"), and only then opens that incident's index: an index is reached
//! through its incident or not at all.
//!
//! Ingest streams: the body's chunks are hashed (SHA-256 of the raw bytes) as they arrive and
//! handed through a small bounded channel to a blocking worker that parses and indexes them,
//! so memory stays bounded whatever the size. A source becomes visible at once and whole: the
//! index commits only after the last byte parsed, then the source record and its audit entry
//! are stored in one transaction, then readers are refreshed. An upload that breaks off rolls
//! the index back and leaves an audit entry (`timeline.ingest.aborted`) but no source.
//!
//! Limits ([`TimelineSettings`]): each ingest keeps to a memory budget whatever the source's
//! size, at most `ingests_at_once` run together (others wait before their body is read), a
//! gzip upload may inflate only so many times, and an incident's timeline has a disk quota.
//! A source over a limit is refused whole: no events, no evidence item, no files.

mod export;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_store::StoreError;
use cordon_store::timeline::{SourceState, TimelineSource};
use cordon_timeline::index::{Cursor, Facets, Filter, Histogram, IncidentIndex, IndexError, IndexRoot, MAX_PAGE};
use cordon_timeline::{Diagnostic, IngestLimits, ParseOptions, ParseSummary, Parser, Refusal};
use futures::{Stream, StreamExt};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use export::{ExportFormat, ExportStream};

use crate::audit::draft;
use crate::gate::Access;
use crate::incidents::new_id;
use crate::{Cordon, Result, ServiceError};

/// Diagnostics returned by an ingest (and kept with the source); all are counted.
pub const MAX_DIAGNOSTICS_KEPT: usize = 100;
/// Events per page when the caller does not say.
pub const DEFAULT_PAGE: u32 = 100;
/// How long an upload waits for a turn when `ingests_at_once` ingests are running, before it
/// is refused with 503 `ingest_busy`. Its body is not read meanwhile, and a connection whose
/// sender is stalled for minutes does not survive.
const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// Chunks in flight between the body and the parser (bounded memory).
const CHUNKS_IN_FLIGHT: usize = 16;
/// Body bytes gathered into one chunk before it is handed on: the body arrives in small
/// frames, and one hand-off (a thread wake-up) per frame costs more than the copy.
const CHUNK_BYTES: usize = 256 * 1024;

/// A chunk of the raw bytes on their way into the evidence locker.
type EvidenceChunk = std::result::Result<Bytes, cordon_evidence::SourceError>;

/// Hands one chunk of the body to the evidence copy and to the parser; `false` when the
/// parser stopped.
async fn forward(
    tx: &tokio::sync::mpsc::Sender<Chunk>,
    evidence: Option<&tokio::sync::mpsc::Sender<EvidenceChunk>>,
    b: Bytes,
) -> bool {
    if let Some(ev) = evidence {
        let _ = ev.send(Ok(b.clone())).await;
    }
    tx.send(Chunk::Data(b)).await.is_ok()
}

/// What ingests may take (the `timeline_*` settings of the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineSettings {
    /// Memory of one ingest and the disk quota of one incident's timeline.
    pub limits: IngestLimits,
    /// Ingests running at once; more wait their turn (so memory stays within
    /// `limits.memory × ingests_at_once`).
    pub ingests_at_once: usize,
    /// Most a gzip upload may inflate per compressed byte; `None`: no limit.
    pub max_gzip_ratio: Option<u64>,
}

impl Default for TimelineSettings {
    fn default() -> Self {
        TimelineSettings {
            limits: IngestLimits::default(),
            ingests_at_once: 2,
            max_gzip_ratio: Some(cordon_timeline::DEFAULT_MAX_GZIP_RATIO),
        }
    }
}

/// The per-incident timeline indexes.
#[derive(Debug)]
pub struct Timelines {
    root: Arc<IndexRoot>,
    /// Incidents whose index was checked against the stored sources since start-up.
    reconciled: tokio::sync::Mutex<HashSet<Uuid>>,
    settings: TimelineSettings,
    /// One permit per ingest that may run now.
    ingests: Arc<tokio::sync::Semaphore>,
}

impl Timelines {
    /// Opens (creating) the timeline indexes under `dir`, with the default settings.
    pub async fn open(dir: &Path) -> Result<Self> {
        Self::open_with(dir, TimelineSettings::default()).await
    }

    /// Opens (creating) the timeline indexes under `dir`.
    pub async fn open_with(dir: &Path, settings: TimelineSettings) -> Result<Self> {
        let dir = dir.to_path_buf();
        let limits = settings.limits;
        let root = tokio::task::spawn_blocking(move || IndexRoot::open_with(&dir, limits))
            .await
            .map_err(internal)?
            .map_err(index_error)?;
        Ok(Self {
            root: Arc::new(root),
            reconciled: tokio::sync::Mutex::default(),
            settings,
            ingests: Arc::new(tokio::sync::Semaphore::new(settings.ingests_at_once.max(1))),
        })
    }
}

impl Cordon {
    /// Attaches the timeline indexes.
    pub fn with_timeline(mut self, timelines: Timelines) -> Self {
        self.timeline = Some(std::sync::Arc::new(timelines));
        self
    }
}

/// How to read an uploaded source (the query of `POST …/timeline/sources`).
#[derive(Debug, Clone, Default)]
pub struct IngestParams {
    /// A format name or alias, `auto` (or nothing) to detect.
    pub format: Option<String>,
    /// The source's name (usually the file name).
    pub name: Option<String>,
    /// Host of events whose log does not name one.
    pub host: Option<String>,
    /// Year of year-less syslog times.
    pub year: Option<i32>,
    /// Zone of times logged without an offset.
    pub tz: Option<String>,
    /// Ingest even when a source of the incident already holds these exact bytes (otherwise
    /// that is refused: 409 `duplicate_source`, naming the earlier source).
    pub again: bool,
}

/// An ingested source, its handle and its first diagnostics.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub source: TimelineSource,
    /// What to name it by (`--source`, `source=`): see [`source_handles`].
    pub handle: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// A source of the incident's timeline with its handle.
#[derive(Debug, Clone)]
pub struct SourceEntry {
    pub source: TimelineSource,
    pub handle: String,
}

/// The shortest id prefix shown as a source's handle: 8 hex digits, more while another id
/// shares them (ids are UUIDv7, whose first 12 digits are the creation time).
const MIN_PREFIX: usize = 8;

/// The handle of each source, in order: its name when no other source of the incident has that
/// name, else the shortest prefix of its id's hex digits (at least 8) that no other id shares.
/// Either is accepted wherever a source is asked for, as is the full id.
pub fn source_handles(sources: &[TimelineSource]) -> Vec<String> {
    let ids: Vec<String> = sources.iter().map(|s| s.id.simple().to_string()).collect();
    sources
        .iter()
        .zip(&ids)
        .map(|(s, id)| {
            let unique_name = sources.iter().filter(|o| o.name == s.name).count() == 1;
            let name_is_id_like = looks_like_id(&s.name);
            if unique_name && !name_is_id_like {
                return s.name.clone();
            }
            let mut n = MIN_PREFIX;
            while n < id.len() && ids.iter().filter(|o| o.starts_with(&id[..n])).count() > 1 {
                n += 1;
            }
            id[..n].to_owned()
        })
        .collect()
}

/// Whether a text could be read as (a prefix of) a source id: hex digits and hyphens only.
fn looks_like_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// The source `raw` names among `sources`: a full id, a name that only one source has, or a
/// prefix (4 hex digits or more, hyphens ignored) of only one source's id. Ambiguous and unknown names are
/// refused naming the field and the candidates.
pub fn resolve_source(sources: &[TimelineSource], raw: &str) -> Result<Uuid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ServiceError::invalid("source", "empty; give a source's name or id"));
    }
    if let Ok(id) = Uuid::parse_str(raw) {
        return Ok(id);
    }
    let handles = source_handles(sources);
    let describe = |picked: &[usize]| -> String {
        picked
            .iter()
            .take(10)
            .map(|&i| {
                let src = &sources[i];
                format!(
                    "{} (id {}, {} events, ingested {})",
                    handles[i], src.id, src.events, src.created_at
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let named: Vec<usize> = (0..sources.len()).filter(|&i| sources[i].name == raw).collect();
    match named.len() {
        1 => return Ok(sources[named[0]].id),
        0 => {}
        n => {
            return Err(ServiceError::invalid(
                "source",
                format!(
                    "`{raw}` names {n} sources of this incident; give one's id prefix instead: {}",
                    describe(&named)
                ),
            ));
        }
    }
    let wanted = raw.to_ascii_lowercase();
    let compact = wanted.replace('-', "");
    let by_prefix: Vec<usize> = if looks_like_id(&wanted) && compact.len() >= 4 {
        (0..sources.len())
            .filter(|&i| sources[i].id.simple().to_string().starts_with(&compact))
            .collect()
    } else {
        Vec::new()
    };
    match by_prefix.len() {
        1 => Ok(sources[by_prefix[0]].id),
        0 => {
            let all: Vec<usize> = (0..sources.len()).collect();
            let known = if sources.is_empty() {
                "the incident has no timeline sources yet".to_owned()
            } else {
                format!("its sources: {}", describe(&all))
            };
            Err(ServiceError::invalid(
                "source",
                format!("no source of this incident is named `{raw}` or has an id starting with it; {known}"),
            ))
        }
        n => Err(ServiceError::invalid(
            "source",
            format!(
                "`{raw}` starts the ids of {n} sources of this incident; give more of the id: {}",
                describe(&by_prefix)
            ),
        )),
    }
}

/// The filters every timeline read takes, as raw query parameters.
#[derive(Debug, Clone, Default)]
pub struct TimelineFilter {
    pub ip: Option<String>,
    pub user: Option<String>,
    pub host: Option<String>,
    pub kind: Option<String>,
    pub q: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// One source's events only (its `source_id`).
    pub source: Option<String>,
}

impl TimelineFilter {
    fn parse(&self) -> Result<Filter> {
        Filter::parse(
            self.ip.as_deref(),
            self.user.as_deref(),
            self.host.as_deref(),
            self.kind.as_deref(),
            self.q.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
        )
        .and_then(|f| f.with_source(self.source.as_deref()))
        .map_err(index_error)
    }
}

/// One page of the timeline: each event's JSON (as stored, with `source_sha256` added), in
/// time order, and the cursor of the next page.
#[derive(Debug, Clone, Default)]
pub struct TimelinePage {
    pub events: Vec<Vec<u8>>,
    pub next_cursor: Option<String>,
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(StoreError::corrupt(format!("timeline: {e}")))
}

fn index_error(e: IndexError) -> ServiceError {
    match e {
        IndexError::Invalid { field, message } => ServiceError::Invalid { field, message },
        IndexError::Refused(r) => ServiceError::LimitExceeded {
            limit: match r {
                Refusal::GzipRatio { ratio, max } => crate::Limit::GzipRatio { ratio, max },
                Refusal::DiskQuota { quota, used } => crate::Limit::TimelineQuota { quota, used },
            },
            message: r.to_string(),
        },
        other => internal(other),
    }
}

/// Runs blocking index work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, IndexError> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(internal)?
        .map_err(index_error)
}

/// What the parsing worker sends back.
enum Worked {
    Committed(ParseSummary),
    Aborted,
}

enum Chunk {
    Data(Bytes),
    End,
}

/// `1h`, `15m`, `30s`, `2d`, `1w`, plain seconds, or an ISO 8601 duration (`PT5M`).
fn parse_interval(raw: &str) -> Result<i64> {
    let bad = || {
        ServiceError::invalid(
            "interval",
            format!("`{raw}` is not a duration such as 30s, 5m, 1h, 1d or PT5M"),
        )
    };
    let s = raw.trim();
    if let Ok(n) = s.parse::<i64>() {
        return if n > 0 { Ok(n) } else { Err(bad()) };
    }
    if s.starts_with(['P', 'p']) {
        let span: jiff::Span = s.parse().map_err(|_| bad())?;
        let secs = span
            .total((jiff::Unit::Second, jiff::civil::date(2000, 1, 1)))
            .map_err(|_| bad())?;
        return if secs >= 1.0 { Ok(secs as i64) } else { Err(bad()) };
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let mult = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).filter(|v| *v > 0).ok_or_else(bad)
}

fn check_text(field: &'static str, v: &str, max: usize) -> Result<()> {
    if v.chars().count() > max {
        return Err(ServiceError::invalid(field, format!("longer than {max} characters")));
    }
    Ok(cordon_core::text::check_line(field, v)?)
}

impl Cordon {
    fn timelines(&self) -> Result<&Timelines> {
        self.timeline
            .as_deref()
            .ok_or_else(|| internal("the timeline indexes are not attached"))
    }

    /// The incident's index (created when `create`), checked once per process against the
    /// stored sources: events of a source without a record (a crash between the index commit
    /// and the record) are deleted before anyone reads them.
    async fn timeline_index(&self, incident: Uuid, create: bool) -> Result<Option<Arc<IncidentIndex>>> {
        let t = self.timelines()?;
        let root = t.root.clone();
        let Some(ix) = blocking(move || {
            if create {
                root.incident(incident).map(Some)
            } else {
                root.existing(incident)
            }
        })
        .await?
        else {
            return Ok(None);
        };
        let mut done = t.reconciled.lock().await;
        if !done.contains(&incident) {
            let known: HashSet<Uuid> = self
                .store
                .timeline_sources(incident)
                .await?
                .into_iter()
                .map(|s| s.id)
                .collect();
            let ix2 = ix.clone();
            blocking(move || {
                let orphans: Vec<Uuid> = ix2.source_ids()?.into_iter().filter(|id| !known.contains(id)).collect();
                if !orphans.is_empty() {
                    tracing::warn!(%incident, sources = orphans.len(), "removing timeline sources without a record");
                }
                ix2.delete_sources(&orphans)
            })
            .await?;
            done.insert(incident);
        }
        Ok(Some(ix))
    }

    /// Ingests one log into the incident's timeline: streams `body` through the parser into
    /// the index with bounded memory, computes the SHA-256 of the raw bytes, and records the
    /// source with its audit entry. Responders (members, security, admins) only.
    ///
    /// The work runs in a task of its own, so it finishes (rolling back and auditing an upload
    /// that broke off) even when the caller's future is dropped with the connection.
    pub async fn ingest_source<S, E>(
        &self,
        p: &Principal,
        raw_ref: &str,
        params: IngestParams,
        body: S,
    ) -> Result<Ingested>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let this = self.clone();
        let p = p.clone();
        let raw_ref = raw_ref.to_owned();
        tokio::spawn(async move { this.ingest_task(&p, &raw_ref, params, body).await })
            .await
            .map_err(internal)?
    }

    async fn ingest_task<S, E>(&self, p: &Principal, raw_ref: &str, params: IngestParams, body: S) -> Result<Ingested>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let subject = format!("incident:{}", incident.id);
        let access = self
            .work_as(
                access,
                "timeline.ingest",
                subject.clone(),
                "only the response team may add to the incident's timeline",
            )
            .await?;
        let incident = access.incident();
        let now = self.clock.now();
        let name = params
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("upload")
            .to_owned();
        check_text("name", &name, 255)?;
        let host = params
            .host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned);
        if let Some(h) = &host {
            check_text("host", h, 255)?;
        }
        let mut opts = ParseOptions::new(name.clone())
            .format_name(params.format.as_deref().unwrap_or("auto"))
            .map_err(|e| ServiceError::invalid("format", e.to_string()))?
            .now(now);
        opts.max_diagnostics = MAX_DIAGNOSTICS_KEPT;
        opts.max_gzip_ratio = self.timelines()?.settings.max_gzip_ratio;
        if let Some(h) = &host {
            opts = opts.host(h.clone());
        }
        if let Some(y) = params.year {
            opts = opts.year(y);
        }
        if let Some(tz) = params.tz.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            opts = opts
                .tz_name(tz)
                .map_err(|e| ServiceError::invalid("tz", e.to_string()))?;
        }
        opts.validate()
            .map_err(|e| ServiceError::invalid("year", e.to_string()))?;

        let ix = self
            .timeline_index(incident.id, true)
            .await?
            .ok_or_else(|| internal("index not created"))?;
        // Wait for a turn before reading the body: memory stays within the budget of the
        // ingests allowed at once.
        let settings = self.timelines()?.settings;
        let turn = self.timelines()?.ingests.clone().acquire_owned();
        let _turn = match tokio::time::timeout(TURN_WAIT, turn).await {
            Ok(permit) => permit.map_err(internal)?,
            Err(_) => {
                let at_once = settings.ingests_at_once as u64;
                return Err(ServiceError::LimitExceeded {
                    limit: crate::Limit::IngestBusy { at_once },
                    message: format!(
                        "{at_once} timeline ingests are running and none finished within {} s; nothing was read, try again later",
                        TURN_WAIT.as_secs()
                    ),
                });
            }
        };
        let source_id = new_id(now);
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(CHUNKS_IN_FLIGHT);
        let worker_ix = ix.clone();
        let worker = tokio::task::spawn_blocking(move || -> Result<Worked, IndexError> {
            let mut writer = worker_ix.begin(source_id)?;
            let mut parser = Parser::new(opts);
            let mut batch = Vec::with_capacity(1024);
            while let Some(chunk) = rx.blocking_recv() {
                match chunk {
                    Chunk::Data(b) => {
                        // Events are indexed after every small step of the parser, so a gzip
                        // chunk that inflates a thousandfold is never held as events at once.
                        parser.feed_each(&b, &mut batch, &mut |events| {
                            events.drain(..).try_for_each(|e| writer.add(&e))
                        })?;
                        if let Some(r) = parser.refusal() {
                            return Err(IndexError::Refused(r));
                        }
                    }
                    Chunk::End => {
                        let summary = parser.finish(&mut batch);
                        for e in batch.drain(..) {
                            writer.add(&e)?;
                        }
                        writer.commit()?;
                        return Ok(Worked::Committed(summary));
                    }
                }
            }
            writer.abort()?;
            Ok(Worked::Aborted)
        });

        // Logs are evidence too: the same bytes stream into the locker as they are parsed, so
        // each event's provenance (source, byte offset) leads to write-once, digested bytes. A
        // broken upload breaks the evidence stream as well, and nothing is kept there either.
        let (ev_tx, evidence_task) = if self.evidence.is_some() {
            let (ev_tx, ev_rx) = tokio::sync::mpsc::channel::<EvidenceChunk>(CHUNKS_IN_FLIGHT);
            let stream = futures::stream::unfold(ev_rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
            let new = crate::evidence::NewEvidence {
                name: format!("log: {name}"),
                description: Some(format!("raw bytes of timeline source {source_id}")),
                tool: Some("cordon timeline ingest".into()),
                source_asset: host.clone(),
                ..Default::default()
            };
            let (this, who, r) = (self.clone(), p.clone(), raw_ref.to_owned());
            let task = tokio::spawn(async move { this.add_evidence(&who, &r, new, stream).await });
            (Some(ev_tx), Some(task))
        } else {
            (None, None)
        };

        let mut hasher = Sha256::new();
        let mut bytes: u64 = 0;
        let mut broken: Option<String> = None;
        let mut body = std::pin::pin!(body);
        let mut gathered = bytes::BytesMut::new();
        let mut stopped = false;
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(b) => {
                    bytes += b.len() as u64;
                    hasher.update(&b);
                    let block = if gathered.is_empty() && b.len() >= CHUNK_BYTES {
                        b
                    } else {
                        gathered.extend_from_slice(&b);
                        if gathered.len() < CHUNK_BYTES {
                            continue;
                        }
                        gathered.split().freeze()
                    };
                    if !forward(&tx, ev_tx.as_ref(), block).await {
                        stopped = true; // the worker stopped; its result says why
                        break;
                    }
                }
                Err(e) => {
                    broken = Some(e.to_string());
                    if let Some(ev) = &ev_tx {
                        let _ = ev.send(Err(e.to_string().into())).await;
                    }
                    break;
                }
            }
        }
        if broken.is_none() && !stopped && !gathered.is_empty() {
            stopped = !forward(&tx, ev_tx.as_ref(), gathered.split().freeze()).await;
        }
        let sha256 = hex::encode(hasher.finalize());
        // The same bytes a second time would double every event without a word: unless asked
        // (`again`), the source is refused before its commit, naming the earlier one.
        let mut earlier: Option<std::result::Result<TimelineSource, StoreError>> = None;
        if broken.is_none() && !stopped && bytes > 0 && !params.again {
            earlier = match self.store.timeline_sources(incident.id).await {
                Ok(known) => known.into_iter().find(|s| s.sha256 == sha256).map(Ok),
                Err(e) => Some(Err(e)),
            };
        }
        if broken.is_none() && !stopped && bytes > 0 && earlier.is_none() {
            let _ = tx.send(Chunk::End).await;
        }
        drop(tx);
        let worked = worker.await;
        // The evidence copy ends only once the source is known to be kept: a source refused
        // or failed at its end (a limit, the commit) leaves no evidence item either.
        if !matches!(worked, Ok(Ok(Worked::Committed(_))))
            && let Some(ev) = &ev_tx
        {
            let _ = ev.send(Err("the timeline source was not kept".into())).await;
        }
        drop(ev_tx);
        let worked = worked.map_err(internal)?;
        let evidence = match evidence_task {
            Some(t) => Some(t.await.map_err(internal)?),
            None => None,
        };
        let evidence_id = match (&worked, evidence) {
            (Ok(Worked::Committed(_)), Some(Err(e))) => {
                // The events must not outlive a failed evidence copy of their bytes.
                let ix2 = ix.clone();
                if let Err(undo) = blocking(move || ix2.delete_sources(&[source_id])).await {
                    tracing::error!(error = %undo, %source_id, "could not withdraw a source whose evidence failed");
                }
                return Err(e);
            }
            (_, Some(Ok(v))) => Some(v.item.id),
            _ => None,
        };

        let aborted = |reason: String| {
            let payload = json!({
                "source_id": source_id.to_string(),
                "name": name,
                "bytes_received": bytes,
                "reason": reason,
            });
            draft(now, &p.name, "timeline.ingest.aborted", subject.clone(), payload)
        };
        if let Some(earlier) = earlier {
            let earlier = earlier?;
            let payload = json!({
                "name": name,
                "sha256": sha256,
                "bytes": bytes,
                "reason": "duplicate",
                "earlier_source_id": earlier.id.to_string(),
                "earlier_name": earlier.name,
            });
            self.store
                .append_audit(draft(now, &p.name, "timeline.ingest.refused", subject.clone(), payload))
                .await?;
            return Err(ServiceError::DuplicateSource {
                source_id: earlier.id,
                name: earlier.name,
                ingested_at: earlier.created_at,
            });
        }
        let summary = match worked {
            Ok(Worked::Committed(s)) => s,
            Ok(Worked::Aborted) if bytes == 0 && broken.is_none() => {
                return Err(ServiceError::invalid("body", "the upload is empty"));
            }
            Ok(Worked::Aborted) => {
                let reason = broken.unwrap_or_else(|| "the upload ended early".into());
                self.store.append_audit(aborted(reason.clone())).await?;
                return Err(ServiceError::invalid(
                    "body",
                    format!("the upload broke off after {bytes} bytes ({reason}); nothing was kept"),
                ));
            }
            Err(e) => {
                let reason = e.to_string();
                if let Err(audit_err) = self.store.append_audit(aborted(reason)).await {
                    tracing::error!(error = %audit_err, "could not audit an aborted ingest");
                }
                return Err(index_error(e));
            }
        };

        let diagnostics_json = serde_json::to_string(&summary.diagnostics).unwrap_or_else(|_| "[]".into());
        let source = TimelineSource {
            id: source_id,
            incident_id: incident.id,
            name: name.clone(),
            host: host.clone(),
            format: summary
                .format
                .map_or_else(|| "unknown".to_owned(), |f| f.name().to_owned()),
            sha256,
            bytes,
            lines: summary.lines,
            events: summary.events,
            skipped: summary.skipped,
            diagnostics_total: summary.diagnostics_total,
            diagnostics: diagnostics_json,
            state: SourceState::Complete,
            evidence_id,
            created_by: p.user_id,
            created_at: now,
        };
        let payload = json!({
            "source_id": source.id.to_string(),
            "name": source.name,
            "host": source.host,
            "format": source.format,
            "sha256": source.sha256,
            "bytes": source.bytes,
            "events": source.events,
            "skipped": source.skipped,
            "diagnostics": source.diagnostics_total,
            "again": params.again,
        });
        let audit = draft(now, &p.name, "timeline.ingest", subject, payload);
        if let Err(e) = self.store.add_timeline_source(&source, audit).await {
            // Undo the committed events: no event without its source record.
            let ix2 = ix.clone();
            if let Err(undo) = blocking(move || ix2.delete_sources(&[source_id])).await {
                tracing::error!(error = %undo, %source_id, "could not withdraw an unrecorded source");
            }
            return Err(e.into());
        }
        let ix2 = ix.clone();
        blocking(move || ix2.refresh()).await?;
        self.watch_new_source(incident.id, source.id).await;
        let all = self.store.timeline_sources(incident.id).await?;
        let handle = all
            .iter()
            .position(|s| s.id == source.id)
            .and_then(|i| source_handles(&all).into_iter().nth(i))
            .unwrap_or_else(|| source.id.to_string());
        Ok(Ingested {
            source,
            handle,
            diagnostics: summary.diagnostics,
        })
    }

    /// The incident's sources, oldest first.
    pub async fn timeline_sources(&self, p: &Principal, raw_ref: &str) -> Result<Vec<TimelineSource>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        Ok(self.store.timeline_sources(incident.id).await?)
    }

    /// The incident's sources, oldest first, each with its handle.
    pub async fn timeline_source_entries(&self, p: &Principal, raw_ref: &str) -> Result<Vec<SourceEntry>> {
        let sources = self.timeline_sources(p, raw_ref).await?;
        let handles = source_handles(&sources);
        Ok(sources
            .into_iter()
            .zip(handles)
            .map(|(source, handle)| SourceEntry { source, handle })
            .collect())
    }

    /// The filter with its `source` (a name, an id prefix or an id) resolved among the
    /// incident's sources, parsed.
    async fn filter_in(&self, incident: Uuid, filter: &TimelineFilter) -> Result<Filter> {
        match filter.source.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) if Uuid::parse_str(raw).is_err() => {
                let sources = self.store.timeline_sources(incident).await?;
                let id = resolve_source(&sources, raw)?;
                TimelineFilter {
                    source: Some(id.to_string()),
                    ..filter.clone()
                }
                .parse()
            }
            _ => filter.parse(),
        }
    }

    /// The id of the incident's source that `raw` names (see [`resolve_source`]).
    pub(crate) async fn source_id_in(&self, incident: Uuid, raw: &str) -> Result<Uuid> {
        let sources = self.store.timeline_sources(incident).await?;
        resolve_source(&sources, raw)
    }

    /// Source id → SHA-256 of the incident's sources.
    async fn source_digests(&self, incident: Uuid) -> Result<HashMap<String, String>> {
        Ok(self
            .store
            .timeline_sources(incident)
            .await?
            .into_iter()
            .map(|s| (s.id.to_string(), s.sha256))
            .collect())
    }

    /// Events matching `filter`, in time order (timestamp, then ingest order), `limit` at a
    /// time (default 100, at most 10 000), after `cursor`.
    pub async fn timeline_query(
        &self,
        p: &Principal,
        raw_ref: &str,
        filter: &TimelineFilter,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<TimelinePage> {
        let access = self.gate(p, raw_ref).await?;
        self.timeline_query_in(&access, filter, limit, cursor).await
    }

    /// [`Cordon::timeline_query`] on an incident already through the gate.
    pub(crate) async fn timeline_query_in<L>(
        &self,
        access: &Access<L>,
        filter: &TimelineFilter,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<TimelinePage> {
        let incident = access.incident();
        let f = self.filter_in(incident.id, filter).await?;
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit as usize > MAX_PAGE {
            return Err(ServiceError::invalid(
                "limit",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        let after = cursor
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| c.parse::<Cursor>().map_err(index_error))
            .transpose()?;
        let Some(ix) = self.timeline_index(incident.id, false).await? else {
            return Ok(TimelinePage::default());
        };
        let digests = self.source_digests(incident.id).await?;
        blocking(move || {
            let page = ix.snapshot().page(&f, after, limit as usize)?;
            let events = page
                .events
                .iter()
                .map(|stored| {
                    let mut out = Vec::with_capacity(stored.len() + 84);
                    cordon_timeline::index::splice_source_digest(&mut out, stored, |id| digests.get(id).cloned());
                    out
                })
                .collect();
            Ok(TimelinePage {
                events,
                next_cursor: page.next_cursor.map(|c| c.to_string()),
            })
        })
        .await
    }

    /// Counts of matching events per time bucket. `interval` like `5m`, `1h`, `PT15M` or
    /// seconds; without it, about `buckets` (default 100) buckets of a round size.
    pub async fn timeline_histogram(
        &self,
        p: &Principal,
        raw_ref: &str,
        filter: &TimelineFilter,
        interval: Option<&str>,
        buckets: Option<u32>,
    ) -> Result<Histogram> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let f = self.filter_in(incident.id, filter).await?;
        let interval = interval
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(parse_interval)
            .transpose()?;
        let target = buckets.unwrap_or(100) as usize;
        if target == 0 || target > cordon_timeline::index::MAX_HISTOGRAM_BUCKETS {
            return Err(ServiceError::invalid(
                "buckets",
                format!(
                    "must be between 1 and {}",
                    cordon_timeline::index::MAX_HISTOGRAM_BUCKETS
                ),
            ));
        }
        let Some(ix) = self.timeline_index(incident.id, false).await? else {
            return Ok(Histogram {
                interval_seconds: interval.unwrap_or(60),
                total: 0,
                buckets: Vec::new(),
            });
        };
        blocking(move || ix.snapshot().histogram(&f, interval, target)).await
    }

    /// The most frequent IPs, users, hosts and kinds among the matching events (`top`
    /// each, default 10).
    pub async fn timeline_facets(
        &self,
        p: &Principal,
        raw_ref: &str,
        filter: &TimelineFilter,
        top: Option<u32>,
    ) -> Result<Facets> {
        let access = self.gate(p, raw_ref).await?;
        self.timeline_facets_in(&access, filter, top).await
    }

    /// [`Cordon::timeline_facets`] on an incident already through the gate.
    pub(crate) async fn timeline_facets_in<L>(
        &self,
        access: &Access<L>,
        filter: &TimelineFilter,
        top: Option<u32>,
    ) -> Result<Facets> {
        let incident = access.incident();
        let f = self.filter_in(incident.id, filter).await?;
        let top = top.unwrap_or(10);
        if top == 0 || top > 1000 {
            return Err(ServiceError::invalid("top", "must be between 1 and 1000"));
        }
        let Some(ix) = self.timeline_index(incident.id, false).await? else {
            return Ok(Facets::default());
        };
        blocking(move || ix.snapshot().facets(&f, top as usize)).await
    }

    /// Every matching event in time order as JSON lines or Timesketch CSV, streamed. The
    /// export is audited (`timeline.export`): it takes a sealed incident's data out whole.
    pub async fn timeline_export(
        &self,
        p: &Principal,
        raw_ref: &str,
        filter: &TimelineFilter,
        format: ExportFormat,
    ) -> Result<ExportStream> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let f = self.filter_in(incident.id, filter).await?;
        let ix = self.timeline_index(incident.id, false).await?;
        let digests = self.source_digests(incident.id).await?;
        let now: Timestamp = self.clock.now();
        let payload = json!({
            "format": format.as_str(),
            "filter": {
                "ip": filter.ip, "user": filter.user, "host": filter.host, "kind": filter.kind,
                "q": filter.q, "from": filter.from, "to": filter.to,
            },
        });
        self.store
            .append_audit(draft(
                now,
                &p.name,
                "timeline.export",
                format!("incident:{}", incident.id),
                payload,
            ))
            .await?;
        Ok(export::stream(ix.map(|ix| ix.snapshot()), f, format, digests))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_interval;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("90").unwrap(), 90);
        assert_eq!(parse_interval("5m").unwrap(), 300);
        assert_eq!(parse_interval("1h").unwrap(), 3600);
        assert_eq!(parse_interval("2d").unwrap(), 172_800);
        assert_eq!(parse_interval("PT15M").unwrap(), 900);
        for bad in ["0", "-5", "5x", "m", "PT0S", ""] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
