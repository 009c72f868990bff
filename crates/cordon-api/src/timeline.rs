//! The attack timeline: what an ingest made of a source, the time-ordered page of events,
//! the histogram and the facets.

use cordon_core::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
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

// ---------- query parameters ----------

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// `auto` (default) or a format: `syslog`, `auditd`, `access`, `nginx-error`,
    /// `apache-error`, `postgresql`, `mysql-general`, `mysql-slow`, `journald`, `cloudtrail`, `jsonl`,
    /// `timesketch-csv`, `text` (aliases accepted).
    pub format: Option<String>,
    /// The source's name (usually the file name); default `upload`.
    pub name: Option<String>,
    /// Host of events whose log does not name one.
    pub host: Option<String>,
    /// Year of the first year-less syslog time (later ones roll over Dec → Jan). Without it the
    /// year is guessed from the ingest time — never one that puts a line in the future — and
    /// a `year_guessed` diagnostic says so.
    pub year: Option<i32>,
    /// Zone of times logged without an offset: `UTC`, `+02:00`, `Europe/Berlin`.
    pub tz: Option<String>,
    /// Ingest even when a source of the incident already holds these exact bytes; without it
    /// that is refused with 409 `duplicate_source`, naming the earlier source.
    pub again: Option<bool>,
}

/// The filters every timeline read takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineFilters {
    pub ip: Option<String>,
    pub user: Option<String>,
    pub host: Option<String>,
    pub kind: Option<String>,
    pub q: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub source: Option<String>,
}

/// The query of a timeline read: the filters every read takes, then its own parameters.
macro_rules! filter_query {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Events naming this IP anywhere (source, destination, forwarded-for, text).
            pub ip: Option<String>,
            /// Events naming this account anywhere (user, target user, account fields).
            pub user: Option<String>,
            /// Events of this host (case-insensitive).
            pub host: Option<String>,
            /// `authentication`, `ssh`, `http`, `datastore`, `api`, `process`, `file`, `other`.
            pub kind: Option<String>,
            /// Full text: words (all must occur), `"a phrase"`, `OR`, `-word`.
            pub q: Option<String>,
            /// RFC 3339 instant; events at or after it.
            pub from: Option<String>,
            /// RFC 3339 instant; events at or before it.
            pub to: Option<String>,
            /// One source's events only: its handle (its name, when no other source of the
            /// incident has it), a unique prefix of its id, or its id.
            pub source: Option<String>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $name {
            /// This read of the events `filters` names, its own parameters left out.
            pub fn of(filters: TimelineFilters) -> Self {
                let TimelineFilters { ip, user, host, kind, q, from, to, source } = filters;
                Self { ip, user, host, kind, q, from, to, source, ..Self::default() }
            }

            /// The filters of this read.
            pub fn filters(&self) -> TimelineFilters {
                TimelineFilters {
                    ip: self.ip.clone(),
                    user: self.user.clone(),
                    host: self.host.clone(),
                    kind: self.kind.clone(),
                    q: self.q.clone(),
                    from: self.from.clone(),
                    to: self.to.clone(),
                    source: self.source.clone(),
                }
            }
        }
    };
}

filter_query!(TimelineQuery {
    /// Events per page (default 100, at most 10 000).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
});

filter_query!(HistogramQuery {
    /// Bucket size: `30s`, `5m`, `1h`, `1d`, seconds, or ISO 8601 (`PT15M`). Default: a round
    /// size giving about `buckets` buckets.
    interval: Option<String>,
    /// Target number of buckets when `interval` is not given (default 100).
    buckets: Option<u32>,
});

filter_query!(FacetsQuery {
    /// Values per facet (default 10, at most 1000).
    top: Option<u32>,
});

filter_query!(ExportQuery {
    /// `jsonl` (default) or `timesketch-csv`.
    format: Option<String>,
});
