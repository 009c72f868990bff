//! The attack timeline: what an ingest made of a source, the time-ordered page of events,
//! the histogram and the facets.

use cordon_core::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// One diagnostic: what could not be used, and where.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DiagnosticOut {
    /// 1-based line number (0 when not tied to a line).
    pub line: u64,
    pub byte_offset: u64,
    /// Stable code, e.g. `unparsed_line`, `binary_data`, `invalid_timestamp`.
    pub code: String,
    pub message: String,
}

/// An ingested source.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SourceOut {
    pub source_id: Uuid,
    /// What to name the source by (`source=`, `--source`): its name while no other source of
    /// the incident has it, else the shortest unique prefix of its id (8 characters or more).
    pub handle: String,
    pub name: String,
    pub host: Option<String>,
    /// The format used (detected or forced).
    pub format: String,
    /// SHA-256 of the raw uploaded bytes.
    pub sha256: String,
    /// The evidence item that keeps the raw bytes (same SHA-256): events' provenance
    /// (`source_id`, byte offset) leads here.
    pub evidence_id: Option<Uuid>,
    pub bytes: u64,
    pub lines: u64,
    pub events: u64,
    /// Lines that produced no event.
    pub skipped: u64,
    /// How many diagnostics there were in all.
    pub diagnostics_total: u64,
    /// The first diagnostics (up to 100).
    pub diagnostics: Vec<DiagnosticOut>,
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// One timeline event (more fields appear when the log had them: `src_port`, `dst_ip`,
/// `dst_port`, `target_user`, `process`, `pid`, `command_line`, `action`, `http`, `query`,
/// `database`, `duration_ns`, `attributes`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimelineEventOut {
    /// The source (upload) it came from; `source_sha256` is that upload's digest.
    pub source_id: Uuid,
    // Left out only when the source's record is gone (the event is served as stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = true)]
    pub source_sha256: Option<String>,
    /// The instant, RFC 3339 with the log's full precision.
    pub ts: String,
    /// The time text exactly as logged.
    pub time_original: String,
    pub kind: String,
    pub format: String,
    /// The source's name.
    pub source: String,
    pub host: Option<String>,
    pub message: String,
    pub src_ip: Option<String>,
    pub user: Option<String>,
    /// `success`, `failure`, `unknown`.
    pub outcome: String,
    /// Every account of the event.
    pub users: Vec<String>,
    /// Every IP of the event.
    pub ips: Vec<String>,
    /// `{line, byte_offset, byte_len}` in the (decompressed) source.
    #[schema(value_type = Object)]
    pub provenance: Value,
    /// The fields above that the log did not have, as the event carries them (`src_port`,
    /// `http`, `attributes`, …): kept whole, so an event reads back as it was served.
    #[serde(flatten)]
    #[schema(ignore)]
    pub more: serde_json::Map<String, Value>,
}

/// A page of the timeline, in time order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimelinePageOut {
    pub events: Vec<TimelineEventOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BucketOut {
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    pub count: u64,
}

/// Counts per time bucket, every bucket from the first matching event's to the last's.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HistogramOut {
    pub interval_seconds: i64,
    pub total: u64,
    pub buckets: Vec<BucketOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacetOut {
    pub value: String,
    pub count: u64,
}

/// The most frequent values among the matching events.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacetsOut {
    pub total: u64,
    pub ips: Vec<FacetOut>,
    pub users: Vec<FacetOut>,
    pub hosts: Vec<FacetOut>,
    pub kinds: Vec<FacetOut>,
}
