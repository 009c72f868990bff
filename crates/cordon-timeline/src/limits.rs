//! What one source's ingest may take: memory (a budget split between tantivy's indexing
//! threads and the documents waiting for them) and disk (the incident's quota), and the
//! [`Refusal`] of a source that would exceed a limit. A refused source is rolled back whole.

use serde::{Deserialize, Serialize};

/// Why a source was refused (nothing of it is kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The gzip input inflated `ratio` times its compressed size, more than `max`.
    GzipRatio { ratio: u64, max: u64 },
    /// The incident's timeline would take more than `quota` bytes on disk; it took `used`
    /// before this source.
    DiskQuota { quota: u64, used: u64 },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::GzipRatio { ratio, max } => write!(
                f,
                "the gzip upload inflates {ratio}× its size, more than the limit of {max}×; nothing was kept"
            ),
            Refusal::DiskQuota { quota, used } => write!(
                f,
                "the incident's timeline would exceed its disk quota of {quota} bytes ({used} bytes before this upload); nothing was kept"
            ),
        }
    }
}

/// The smallest memory budget of one ingest: tantivy's floor of 15 MB per indexing thread,
/// what it takes again while writing a segment out, and [`RESERVED`].
pub const MIN_INGEST_MEMORY: u64 = 160 << 20;
/// Default memory budget of one ingest.
pub const DEFAULT_INGEST_MEMORY: u64 = 256 << 20;
/// Default disk quota of one incident's timeline (index and event files).
pub const DEFAULT_DISK_QUOTA: u64 = 20 << 30;

/// What one source's ingest may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IngestLimits {
    /// Memory of one ingest, whatever the source's size (at least [`MIN_INGEST_MEMORY`]).
    pub memory: u64,
    /// Bytes one incident's timeline may take on disk; `None`: no quota.
    pub disk_quota: Option<u64>,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            memory: DEFAULT_INGEST_MEMORY,
            disk_quota: Some(DEFAULT_DISK_QUOTA),
        }
    }
}

/// Memory outside the indexing arenas, measured (`VmHWM` of a real server, 2 indexing
/// threads): the parser and its line buffer, the chunks in flight to the parser and to the
/// evidence locker and its digest threads, the body file's buffer, merges of small segments,
/// and the allocator's slack. The documents waiting for the indexing threads come out of it.
const RESERVED: u64 = 72 << 20;
/// What an arena costs at its peak, in tenths of its size: tantivy takes about as much again
/// (and a little more) while it writes a full arena out as a segment, and both indexing threads
/// fill and flush at about the same time.
const ARENA_PEAK_TENTHS: u64 = 26;

/// How the memory budget is shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemorySplit {
    /// Each indexing thread's arena (tantivy flushes a segment when it is full).
    pub per_thread: usize,
    /// Documents handed to tantivy but not yet taken by an indexing thread (estimated bytes).
    pub pending: usize,
}

impl IngestLimits {
    pub(crate) fn split(&self, threads: usize) -> MemorySplit {
        let total = self.memory.max(MIN_INGEST_MEMORY);
        let pending = (total / 32).max(8 << 20);
        let arenas = (total - RESERVED - pending) * 10 / ARENA_PEAK_TENTHS;
        let per_thread = (arenas / threads as u64).max(15_000_000);
        MemorySplit {
            per_thread: usize::try_from(per_thread).unwrap_or(usize::MAX),
            pending: usize::try_from(pending).unwrap_or(usize::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_stays_within_the_budget() {
        for mib in [160u64, 200, 256, 1024] {
            let l = IngestLimits {
                memory: mib << 20,
                disk_quota: None,
            };
            let s = l.split(2);
            let used = 2 * s.per_thread as u64 * ARENA_PEAK_TENTHS / 10 + s.pending as u64 + RESERVED;
            assert!(used <= mib << 20, "{mib} MiB: {s:?}");
            assert!(s.per_thread >= 15_000_000, "{mib} MiB: {s:?}");
        }
    }
}
