//! Storage of timeline sources (issue 4): one record per ingested log, with its digest,
//! counts and first diagnostics. The events themselves live in the incident's timeline
//! index (`cordon_timeline::index`); a source record exists only for sources whose events
//! were committed there.

use async_trait::async_trait;
use cordon_core::Timestamp;
use uuid::Uuid;

use crate::{AuditDraft, Result};

/// Where a source is in its life. Only complete sources are stored today; the column leaves
/// room for sources that are re-indexed or withdrawn later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    /// Every event is committed to the index and visible.
    Complete,
}

impl SourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceState::Complete => "complete",
        }
    }
}

impl std::str::FromStr for SourceState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "complete" => Ok(SourceState::Complete),
            other => Err(format!("unknown source state `{other}`")),
        }
    }
}

/// One ingested log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineSource {
    pub id: Uuid,
    pub incident_id: Uuid,
    /// The name given at upload (usually the file name).
    pub name: String,
    /// The host hint given at upload.
    pub host: Option<String>,
    /// The format used (detected or forced), by its stable name.
    pub format: String,
    /// SHA-256 of the raw uploaded bytes, lower-case hex.
    pub sha256: String,
    pub bytes: u64,
    pub lines: u64,
    pub events: u64,
    pub skipped: u64,
    pub diagnostics_total: u64,
    /// JSON array of the first diagnostics.
    pub diagnostics: String,
    pub state: SourceState,
    /// The evidence item holding the raw bytes (same SHA-256), when the locker is on.
    pub evidence_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: Timestamp,
}

/// Timeline sources. Part of [`crate::Store`].
#[async_trait]
pub trait TimelineStore: Send + Sync {
    /// Records a source whose events are committed, with its audit entry.
    async fn add_timeline_source(&self, source: &TimelineSource, audit: AuditDraft) -> Result<()>;
    /// The incident's sources, oldest first.
    async fn timeline_sources(&self, incident: Uuid) -> Result<Vec<TimelineSource>>;
}
