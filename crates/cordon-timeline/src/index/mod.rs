//! The timeline index: one tantivy index per incident, under a root directory, so an
//! incident's events can only be reached through that incident (need-to-know by
//! construction: the caller resolves the incident first, then asks for its index).
//!
//! - [`IndexRoot`]: the root directory; opens (and caches) [`IncidentIndex`]es by incident id.
//! - [`IncidentIndex::begin`] → [`SourceWriter`]: adds one source's [`Event`]s; nothing is
//!   visible until [`SourceWriter::commit`]; dropping it (or [`SourceWriter::abort`]) rolls the
//!   whole source back. One source is written at a time per incident (a lock held by the
//!   writer), so an abort never touches another source's documents.
//! - [`IncidentIndex::snapshot`] → [`Snapshot`]: [`Snapshot::page`], [`Snapshot::histogram`],
//!   [`Snapshot::facets`], [`Snapshot::export_windows`] + [`Snapshot::window`]: queries over a
//!   [`Filter`], in time order (timestamp, then ingest sequence), with an opaque [`Cursor`].
//!
//! # Documents
//!
//! | field | how | what |
//! | --- | --- | --- |
//! | `ts` | fast i64 | the event's instant in Unix nanoseconds (clamped to the i64 range) |
//! | `seq` | fast u64 | `source number << 32 | event number`: the tiebreak of equal instants, and how a source's events are found to delete them |
//! | `kind` | indexed + fast u64 | position of the OCSF kind in [`EventKind::ALL`] |
//! | `host` | raw term, fast | host, lower-cased |
//! | `ip` | indexed + fast IP, multi-valued | every IP of the event ([`Event::ips`]) |
//! | `user` | raw terms, fast, multi-valued | every account ([`Event::users`]) |
//! | `text` | tokenized with positions | message and the other text fields, for `q` (phrases too) |
//! | `pos` | fast u64 | where the event's record is in its source's body file |
//!
//! Each commit's payload (in tantivy's `meta.json`, written atomically with the commit) maps
//! source numbers to source ids, so the index alone tells which sources it holds.
//!
//! Events are not kept in tantivy's doc store: each one's compact record ([`record`]) is
//! appended to a body file per source ([`bodies`]), made durable before the commit that makes
//! the source visible. A page of hits decodes each hit's record from a memory-mapped file and
//! renders the API's JSON ([`json`]); no block is decompressed.

mod bodies;
mod ingest;
mod json;
mod pending;
mod query;
mod record;
mod tokenizer;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tantivy::schema::{
    Field, IndexRecordOption, IpAddrOptions, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher};

use crate::limits::{IngestLimits, Refusal};
use pending::{Counted, Pending};
use uuid::Uuid;

pub use ingest::{IngestCounts, SourceWriter};
pub use json::{EVENT_JSON_PREFIX, splice_source_digest};
pub use query::{
    Bucket, Cursor, Facet, Facets, Filter, Histogram, MAX_HISTOGRAM_BUCKETS, MAX_PAGE, Page, Snapshot, TimeWindow,
};

/// Errors of the index. Bad query input is [`IndexError::Invalid`]; the rest are faults.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A query parameter is not usable (`field` names it).
    #[error("invalid {field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("timeline index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("timeline index io: {0}")]
    Io(#[from] std::io::Error),
    /// The source would exceed a limit; it was rolled back whole.
    #[error("{0}")]
    Refused(Refusal),
}

impl IndexError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> IndexError {
        IndexError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// Indexing threads per writer (tantivy workers; the parser runs on the caller's thread).
const WRITER_THREADS: usize = 2;

/// Segments with more documents than this are never merged (a full arena of the default
/// budget holds more).
const MAX_DOCS_MERGED: usize = 200_000;
/// Arena bytes per document assumed when telling a segment a full arena wrote from a small
/// one (documents take less, so a full arena's segment is always above the line).
const ARENA_BYTES_PER_DOC: usize = 1024;

/// The fields of the schema.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    pub ts: Field,
    pub seq: Field,
    pub kind: Field,
    pub host: Field,
    pub ip: Field,
    pub user: Field,
    pub text: Field,
    pub pos: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let raw = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        )
        .set_fast("raw");
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("default")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions)
            .set_fieldnorms(false),
    );
    let fields = Fields {
        ts: b.add_i64_field("ts", NumericOptions::default().set_fast()),
        seq: b.add_u64_field("seq", NumericOptions::default().set_fast()),
        kind: b.add_u64_field("kind", NumericOptions::default().set_indexed().set_fast()),
        host: b.add_text_field("host", raw.clone()),
        ip: b.add_ip_addr_field("ip", IpAddrOptions::default().set_indexed().set_fast()),
        user: b.add_text_field("user", raw),
        text: b.add_text_field("text", text),
        pos: b.add_u64_field("pos", NumericOptions::default().set_fast()),
    };
    (b.build(), fields)
}

/// The fields of an existing index, which must have this version's layout.
fn fields_of(index: &Index, dir: &Path) -> Result<Fields, IndexError> {
    let (ours, fields) = schema();
    let theirs = index.schema();
    let same = ours.fields().count() == theirs.fields().count()
        && ours
            .fields()
            .all(|(f, entry)| theirs.get_field(entry.name()).ok() == Some(f) && theirs.get_field_entry(f) == entry);
    if !same {
        return Err(IndexError::Io(std::io::Error::other(format!(
            "the timeline index in {} has an older layout; move it away and ingest the sources again",
            dir.display()
        ))));
    }
    Ok(fields)
}

/// The directory holding every incident's index.
#[derive(Debug)]
pub struct IndexRoot {
    dir: PathBuf,
    limits: IngestLimits,
    open: Mutex<HashMap<Uuid, Arc<IncidentIndex>>>,
}

impl IndexRoot {
    /// Opens the root, creating the directory (mode 0700) if needed, with the default limits.
    pub fn open(dir: &Path) -> Result<IndexRoot, IndexError> {
        IndexRoot::open_with(dir, IngestLimits::default())
    }

    /// Opens the root; every source ingested into its indexes keeps to `limits`.
    pub fn open_with(dir: &Path, limits: IngestLimits) -> Result<IndexRoot, IndexError> {
        create_private_dir(dir)?;
        Ok(IndexRoot {
            dir: dir.to_path_buf(),
            limits,
            open: Mutex::default(),
        })
    }

    /// The index of one incident, created empty on first use.
    pub fn incident(&self, incident: Uuid) -> Result<Arc<IncidentIndex>, IndexError> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ix) = open.get(&incident) {
            return Ok(ix.clone());
        }
        let ix = Arc::new(IncidentIndex::open_with(
            &self.dir.join(incident.to_string()),
            self.limits,
        )?);
        open.insert(incident, ix.clone());
        Ok(ix)
    }

    /// The index of one incident if it was ever created (queries on an incident without a
    /// timeline do not create one).
    pub fn existing(&self, incident: Uuid) -> Result<Option<Arc<IncidentIndex>>, IndexError> {
        {
            let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(ix) = open.get(&incident) {
                return Ok(Some(ix.clone()));
            }
        }
        if self.dir.join(incident.to_string()).join("meta.json").exists() {
            self.incident(incident).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Bytes of the files under `dir` (files that vanish while it is walked, as tantivy's do, are
/// skipped).
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    Ok(())
}

/// One incident's index: a reader for queries and, while a source is being written, the
/// writer (behind a lock, so sources are written one at a time).
pub struct IncidentIndex {
    dir: PathBuf,
    limits: IngestLimits,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writer: Mutex<Option<IndexWriter<Counted>>>,
    /// Documents handed to the writer and not yet indexed (bounded by the memory budget).
    pending: Arc<Pending>,
    bodies: bodies::BodyDir,
    /// What queries read: the searcher of the last refresh and the body files of its sources.
    view: Mutex<View>,
}

/// A searcher and the mapped body files its documents point into (by source number).
#[derive(Clone)]
pub(crate) struct View {
    pub searcher: Searcher,
    pub bodies: Arc<BTreeMap<u64, bodies::Bodies>>,
}

impl std::fmt::Debug for IncidentIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncidentIndex")
            .field("docs", &self.reader.searcher().num_docs())
            .finish_non_exhaustive()
    }
}

impl IncidentIndex {
    /// Opens (creating) the index in `dir`, with the default limits.
    pub fn open(dir: &Path) -> Result<IncidentIndex, IndexError> {
        IncidentIndex::open_with(dir, IngestLimits::default())
    }

    /// Opens (creating) the index in `dir`; sources keep to `limits`.
    pub fn open_with(dir: &Path, limits: IngestLimits) -> Result<IncidentIndex, IndexError> {
        create_private_dir(dir)?;
        let (schema, fields) = schema();
        let (index, fields) = if dir.join("meta.json").exists() {
            let index = Index::open_in_dir(dir)?;
            let fields = fields_of(&index, dir)?;
            (index, fields)
        } else {
            (Index::builder().schema(schema).create_in_dir(dir)?, fields)
        };
        // Same tokens as tantivy's own `default`, cheaper (see `tokenizer`).
        index
            .tokenizers()
            .register("default", tokenizer::TextTokenizer::default());
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .doc_store_cache_num_blocks(0)
            .try_into()?;
        let bodies = bodies::BodyDir::open(dir.join("events"))?;
        let view = Mutex::new(View {
            searcher: reader.searcher(),
            bodies: Arc::default(),
        });
        let ix = IncidentIndex {
            dir: dir.to_path_buf(),
            limits,
            pending: Pending::new(limits.split(WRITER_THREADS).pending),
            index,
            reader,
            fields,
            writer: Mutex::new(None),
            bodies,
            view,
        };
        ix.refresh()?;
        Ok(ix)
    }

    /// How many events are visible.
    pub fn num_events(&self) -> u64 {
        self.view().searcher.num_docs()
    }

    /// Makes the last commit visible to queries.
    pub fn refresh(&self) -> Result<(), IndexError> {
        self.refresh_without(&[])
    }

    /// Reloads the reader and maps the body files of its sources, forgetting those of the
    /// `removed` source numbers (whose documents the reloaded searcher no longer has). Views
    /// handed out earlier keep their own mappings.
    fn refresh_without(&self, removed: &[u64]) -> Result<(), IndexError> {
        let mut view = self.view.lock().unwrap_or_else(|e| e.into_inner());
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let mut bodies: BTreeMap<u64, bodies::Bodies> = (*view.bodies).clone();
        bodies.retain(|n, _| !removed.contains(n));
        for (n, id) in self.source_map()? {
            if let std::collections::btree_map::Entry::Vacant(slot) = bodies.entry(n) {
                slot.insert(self.bodies.map(id)?);
            }
        }
        *view = View {
            searcher,
            bodies: Arc::new(bodies),
        };
        Ok(())
    }

    pub(crate) fn view(&self) -> View {
        self.view.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Bytes the incident's timeline takes on disk (index and event files).
    pub fn disk_usage(&self) -> u64 {
        dir_size(&self.dir)
    }

    fn new_writer(&self) -> Result<IndexWriter<Counted>, IndexError> {
        let opts = tantivy::indexer::IndexWriterOptions::builder()
            .num_worker_threads(WRITER_THREADS)
            .memory_budget_per_thread(self.limits.split(WRITER_THREADS).per_thread)
            .num_merge_threads(1)
            .build();
        let writer = self.index.writer_with_options(opts)?;
        // Segments a memory budget fills are left as they are: merging them would rewrite
        // millions of documents in the middle of a bulk load for little gain (a pivot is one
        // term lookup per segment). Small segments (ends of sources, small sources) still merge.
        // How many documents count as small follows the arena: with a small budget, every
        // segment is small by the default's measure, and merging them all costs memory and CPU
        // in proportion to the source.
        let per_thread = self.limits.split(WRITER_THREADS).per_thread;
        let mut policy = tantivy::indexer::LogMergePolicy::default();
        policy.set_max_docs_before_merge((per_thread / ARENA_BYTES_PER_DOC).min(MAX_DOCS_MERGED));
        writer.set_merge_policy(Box::new(policy));
        Ok(writer)
    }

    /// The committed sources: source number → source id (from the last commit's payload).
    pub(crate) fn source_map(&self) -> Result<BTreeMap<u64, Uuid>, IndexError> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<Payload>(p).ok())
            .map(|p| p.sources)
            .unwrap_or_default())
    }

    /// The ids of the sources whose events the index holds.
    pub fn source_ids(&self) -> Result<Vec<Uuid>, IndexError> {
        Ok(self.source_map()?.into_values().collect())
    }

    /// Deletes every event of the given sources and commits (used to undo a source whose
    /// record could not be stored, and to clear sources a crash left without a record).
    pub fn delete_sources(&self, sources: &[Uuid]) -> Result<(), IndexError> {
        if sources.is_empty() {
            return Ok(());
        }
        let mut slot = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(self.new_writer()?);
        }
        let w = slot.as_mut().expect("writer");
        let mut map = self.source_map()?;
        let numbers: Vec<u64> = map
            .iter()
            .filter(|(_, id)| sources.contains(id))
            .map(|(n, _)| *n)
            .collect();
        for n in &numbers {
            w.delete_query(Box::new(tantivy::query::RangeQuery::new(
                std::ops::Bound::Included(tantivy::Term::from_field_u64(self.fields.seq, n << 32)),
                std::ops::Bound::Included(tantivy::Term::from_field_u64(
                    self.fields.seq,
                    (n << 32) | u64::from(u32::MAX),
                )),
            )))?;
            map.remove(n);
        }
        let mut commit = w.prepare_commit()?;
        commit.set_payload(&Payload { sources: map.clone() }.to_json());
        commit.commit()?;
        self.refresh_without(&numbers)?;
        // Views handed out before keep their mappings of the removed files.
        let kept: Vec<Uuid> = map.into_values().collect();
        self.bodies.remove_except(&kept)?;
        drop(slot);
        Ok(())
    }
}

/// What each commit records beside the documents.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Payload {
    pub sources: BTreeMap<u64, Uuid>,
}

impl Payload {
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
