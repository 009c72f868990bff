//! Writing one source into an incident's index: documents are added as events arrive and
//! become visible only when the whole source is committed; anything else rolls them back.
//! Each event's record goes to the source's body file ([`super::bodies`]), its document to tantivy.
//!
//! Memory stays within the incident's [`IngestLimits`](crate::IngestLimits) whatever the
//! source's size: tantivy's indexing threads flush a segment when their arena is full, and
//! the writer waits while the documents not yet taken by them exceed their share
//! ([`super::pending`]). Disk is checked against the incident's quota as the body file grows
//! and once more with every segment written, before the commit.

use std::net::IpAddr;
use std::sync::MutexGuard;

use std::sync::Arc;
use tantivy::indexer::UserOperation;

use tantivy::{IndexWriter, TantivyDocument};
use uuid::Uuid;

use std::collections::BTreeMap;

use super::bodies::BodyWriter;
use super::pending::{Counted, Pending};
use super::{Fields, IncidentIndex, IndexError, Payload};
use crate::event::Event;
use crate::limits::Refusal;
use crate::scan::InMessage;

/// Documents handed to the indexing threads at once (one channel message, one wake-up).
const BATCH: usize = 256;

/// The most events one source may hold (the event number is 32 bits of the tiebreak).
const MAX_EVENTS_PER_SOURCE: u64 = u32::MAX as u64;

/// Body bytes written between two looks at the incident's disk usage.
const QUOTA_CHECK_EVERY: u64 = 8 << 20;

/// Estimated memory of a document beyond its text: the document's own vectors and a value
/// entry per field.
const DOC_OVERHEAD: usize = 160;

/// What a committed source added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestCounts {
    pub events: u64,
}

/// Adds the events of one source. Holds the incident's writer lock until it is committed or
/// dropped; dropping it without [`SourceWriter::commit`] rolls back every document it added.
pub struct SourceWriter<'a> {
    slot: MutexGuard<'a, Option<IndexWriter<Counted>>>,
    gauge: Arc<Pending>,
    index: &'a IncidentIndex,
    /// Disk quota of the incident and its usage before this source.
    quota: Option<u64>,
    used_before: u64,
    next_quota_check: u64,
    fields: Fields,
    source_uuid: Uuid,
    source_no: u64,
    sources: BTreeMap<u64, Uuid>,
    seq_base: u64,
    events: u64,
    bodies: BodyWriter,
    /// Scratch space of [`InMessage`], kept across events.
    memo: Vec<(usize, usize, Option<usize>)>,
    pending: Vec<UserOperation<Counted>>,
    done: bool,
}

impl std::fmt::Debug for SourceWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceWriter")
            .field("source_id", &self.source_uuid)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl IncidentIndex {
    /// Starts writing source `source_id`; waits while another source of the incident is being
    /// written.
    pub fn begin(&self, source_id: Uuid) -> Result<SourceWriter<'_>, IndexError> {
        let mut slot = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(self.new_writer()?);
        }
        // Sources are numbered in ingest order: one above the highest number committed.
        let searcher = self.reader.searcher();
        let mut max_seq = None::<u64>;
        for seg in searcher.segment_readers() {
            if seg.max_doc() == 0 {
                continue;
            }
            let col = seg.fast_fields().u64("seq")?;
            max_seq = max_seq.max(Some(col.max_value()));
        }
        let sources = self.source_map()?;
        // Body files of sources that were never committed (a crash mid-ingest) go now.
        let committed: Vec<Uuid> = sources.values().copied().collect();
        self.bodies.remove_except(&committed)?;
        let quota = self.limits.disk_quota;
        let used_before = if quota.is_some() { self.disk_usage() } else { 0 };
        if let Some(quota) = quota
            && used_before >= quota
        {
            return Err(IndexError::Refused(Refusal::DiskQuota {
                quota,
                used: used_before,
            }));
        }
        let bodies = BodyWriter::create(self.bodies.path(), source_id)?;
        let source_no = max_seq
            .map_or(1, |m| (m >> 32) + 1)
            .max(sources.keys().next_back().map_or(1, |n| n + 1));
        Ok(SourceWriter {
            slot,
            gauge: self.pending.clone(),
            index: self,
            quota,
            used_before,
            next_quota_check: QUOTA_CHECK_EVERY,
            fields: self.fields,
            source_uuid: source_id,
            source_no,
            sources,
            seq_base: source_no << 32,
            events: 0,
            bodies,
            memo: Vec::with_capacity(16),
            pending: Vec::with_capacity(BATCH),
            done: false,
        })
    }
}

impl SourceWriter<'_> {
    fn writer(&self) -> &IndexWriter<Counted> {
        self.slot.as_ref().expect("the writer exists while a source is written")
    }

    /// Adds one event.
    pub fn add(&mut self, e: &Event) -> Result<(), IndexError> {
        if self.events >= MAX_EVENTS_PER_SOURCE {
            return Err(IndexError::invalid(
                "body",
                format!("a source may hold at most {MAX_EVENTS_PER_SOURCE} events"),
            ));
        }
        let f = self.fields;
        let mut size = DOC_OVERHEAD + e.message.len();
        // Each text field's place in the message is looked up once, for the `ip` scan, the
        // full-text fields and the stored record.
        let mut memo = std::mem::take(&mut self.memo);
        let mut in_msg = InMessage::new(&e.message, &mut memo);
        let ips: Vec<IpAddr> = e.ips_in(&mut in_msg);
        let users: Vec<&str> = e.users();
        let mut doc = TantivyDocument::new();
        doc.add_i64(f.ts, ts_key(e.timestamp));
        doc.add_u64(f.seq, self.seq_base | self.events);
        doc.add_u64(f.kind, kind_code(e.kind));
        if let Some(h) = &e.host {
            doc.add_text(f.host, h.to_lowercase());
            size += h.len();
        }
        for ip in &ips {
            doc.add_ip_addr(f.ip, ip_key(*ip));
        }
        size += 24 * ips.len();
        for u in &users {
            doc.add_text(f.user, u);
            size += u.len() + 16;
        }
        doc.add_text(f.text, &e.message);
        for t in e.text_fields().skip(1) {
            if t.is_empty() || in_msg.contains(t) {
                continue;
            }
            doc.add_text(f.text, t);
            size += t.len() + 16;
        }
        let pos = self.bodies.append(e, &ips, &mut in_msg);
        self.memo = memo;
        doc.add_u64(f.pos, pos?);
        if !self.gauge.fits(size) {
            // Hand over what is held here first: the wait is for the indexing threads.
            self.flush()?;
            if !self.gauge.wait_for_room(size) {
                return Err(IndexError::Io(std::io::Error::other(
                    "the index writer stopped taking documents",
                )));
            }
        }
        self.pending.push(UserOperation::Add(self.gauge.count(doc, size)));
        self.events += 1;
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        if self.bodies.len() >= self.next_quota_check {
            self.next_quota_check = self.bodies.len() + QUOTA_CHECK_EVERY;
            self.check_quota()?;
        }
        Ok(())
    }

    /// Refuses the source if the incident's timeline now takes more than its quota on disk
    /// (segments written so far and the body file; the caller rolls back).
    fn check_quota(&self) -> Result<(), IndexError> {
        if let Some(quota) = self.quota
            && self.index.disk_usage() > quota
        {
            return Err(IndexError::Refused(Refusal::DiskQuota {
                quota,
                used: self.used_before,
            }));
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), IndexError> {
        if !self.pending.is_empty() {
            let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH));
            self.writer().run(batch)?;
        }
        Ok(())
    }

    /// Events added so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Commits the source: all its events become durable at once. They become visible to
    /// queries at the next [`IncidentIndex::refresh`].
    pub fn commit(mut self) -> Result<IngestCounts, IndexError> {
        self.flush()?;
        if let Err(e) = self.bodies.finish() {
            self.rollback();
            return Err(e);
        }
        let mut sources = std::mem::take(&mut self.sources);
        sources.insert(self.source_no, self.source_uuid);
        let payload = Payload { sources }.to_json();
        let quota = self.quota.map(|q| (q, self.used_before));
        let index = self.index;
        let w = self.slot.as_mut().expect("writer");
        // Every segment is on disk once the commit is prepared: the last look at the quota.
        let r = w.prepare_commit().map_err(IndexError::from).and_then(|mut c| {
            if let Some((quota, used)) = quota
                && index.disk_usage() > quota
            {
                let _ = c.abort();
                return Err(IndexError::Refused(Refusal::DiskQuota { quota, used }));
            }
            c.set_payload(&payload);
            c.commit().map_err(IndexError::from)
        });
        if let Err(e) = r {
            self.rollback();
            return Err(e);
        }
        self.done = true;
        Ok(IngestCounts { events: self.events })
    }

    /// Discards every event added.
    pub fn abort(mut self) -> Result<(), IndexError> {
        self.done = true;
        self.bodies.discard();
        if let Some(w) = self.slot.as_mut() {
            w.rollback()?;
            let _ = w.garbage_collect_files().wait();
        }
        Ok(())
    }

    /// Rolls back the documents and removes the body file. A writer that cannot roll back is
    /// dropped; the next source opens a new one, and the uncommitted files are
    /// garbage-collected.
    fn rollback(&mut self) {
        self.done = true;
        self.bodies.discard();
        if let Some(w) = self.slot.as_mut() {
            if w.rollback().is_err() {
                *self.slot = None;
            } else {
                // The segments written for this source go now, not at the next commit.
                let _ = w.garbage_collect_files().wait();
            }
        }
    }
}

impl Drop for SourceWriter<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.rollback();
        }
    }
}

/// The `kind` field's value: the kind's position in [`EventKind::ALL`].
pub(crate) fn kind_code(k: crate::EventKind) -> u64 {
    crate::EventKind::ALL.iter().position(|x| *x == k).unwrap_or(0) as u64
}

/// The `ip` field's value: IPv4 addresses are stored IPv4-mapped.
pub(crate) fn ip_key(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// The sort key of an instant: Unix nanoseconds, clamped to the i64 range.
pub(crate) fn ts_key(ts: jiff::Timestamp) -> i64 {
    let n = ts.as_nanosecond();
    n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}
