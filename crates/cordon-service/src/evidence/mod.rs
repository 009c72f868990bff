//! The evidence locker's use cases (issue 5): streaming uploads with digests, custody,
//! verification (on demand and on a schedule), downloads with byte ranges, transfers and
//! custody reports, under the incident's need-to-know.
//!
//! The bytes live in a [`BlobStore`] (write-once, content-addressed; `cordon-evidence`); the
//! records and the chain of custody live in the [`cordon_store::Store`]. An item is recorded
//! only after its bytes are durable and both digests are known, so a failed or interrupted
//! upload leaves no record. Every custody event (acquisition, receipt, verification, download,
//! export, transfer) is appended together with its own audit entry, so custody is part of the
//! hash-chained audit log. A failed verification is recorded (audit action
//! `evidence.mismatch`) and handed to the [`MismatchNotifier`].
//!
//! Who may do what: anyone who may see the incident may list items, read their records and
//! custody reports; adding, downloading, verifying and transferring take the response team
//! (`Cordon::work`); nobody may change or delete an item.

mod pdf;
mod report;
pub(crate) use report::format_size;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::incident::Incident;
use cordon_core::role::Role;
use cordon_evidence::{
    Blake3Digest, BlobKey, BlobReader, BlobStore, ByteRange, EvidenceError, ExpectedDigests, IngestOptions,
    LocalBlobStore, Sha256Digest, SourceError, ingest_stream,
};
use cordon_store::evidence::NewCustody;
pub use cordon_store::evidence::{CustodyEvent, CustodyKind, EvidenceItem};
use futures::Stream;
use jiff::SignedDuration;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::draft;
use crate::gate::{Access, Actor, Command, Grants, Work};
use crate::incidents::new_id;
use crate::{Cordon, Result, ServiceError};

/// Items verified per store page during a scheduled sweep.
const SWEEP_PAGE: u32 = 100;
const MAX_NAME_CHARS: usize = 255;
const MAX_DESCRIPTION_CHARS: usize = 5000;
const MAX_REASON_CHARS: usize = 2000;

/// The evidence locker: where evidence bytes are stored, and who hears of a failed verification.
pub struct Locker {
    blobs: Arc<dyn BlobStore>,
    notifier: Arc<dyn MismatchNotifier>,
}

impl std::fmt::Debug for Locker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locker").finish_non_exhaustive()
    }
}

impl Locker {
    /// Opens (creating) a local locker under `dir` and removes what interrupted uploads left.
    pub async fn open(dir: &Path) -> Result<Self> {
        let blobs = LocalBlobStore::new(dir).await.map_err(ServiceError::Evidence)?;
        Self::cleaned(Arc::new(blobs)).await
    }

    /// Opens a locker in an S3 bucket with Object Lock (`s3://bucket[/prefix]`, credentials
    /// and endpoint from the `AWS_*` environment), spooling uploads under `spool_dir`, and
    /// removes what interrupted uploads left there.
    pub async fn open_s3(url: &str, spool_dir: &Path) -> Result<Self> {
        let location: cordon_evidence::S3Location = url.parse().map_err(ServiceError::Evidence)?;
        let blobs = cordon_evidence::S3BlobStore::open(location, spool_dir)
            .await
            .map_err(ServiceError::Evidence)?;
        Self::cleaned(Arc::new(blobs)).await
    }

    /// A locker over `blobs` once what interrupted uploads left there is removed.
    async fn cleaned(blobs: Arc<dyn BlobStore>) -> Result<Self> {
        let cleaned = blobs.cleanup_leftovers().await.map_err(ServiceError::Evidence)?;
        if cleaned.removed > 0 {
            tracing::info!(
                removed = cleaned.removed,
                bytes = cleaned.bytes,
                "removed the leftovers of interrupted evidence uploads"
            );
        }
        Ok(Self::with_store(blobs))
    }

    /// A locker over any blob store. The caller cleans leftovers.
    pub fn with_store(blobs: Arc<dyn BlobStore>) -> Self {
        Self {
            blobs,
            notifier: Arc::new(LogNotifier),
        }
    }

    /// Sets who hears of a failed verification (default: [`LogNotifier`]).
    pub fn with_notifier(mut self, notifier: Arc<dyn MismatchNotifier>) -> Self {
        self.notifier = notifier;
        self
    }
}

impl Cordon {
    /// Attaches the evidence locker.
    pub fn with_evidence(mut self, locker: Locker) -> Self {
        self.evidence = Some(Arc::new(locker));
        self
    }

    fn locker(&self) -> Result<&Locker> {
        self.evidence.as_deref().ok_or_else(|| {
            ServiceError::Evidence(EvidenceError::Internal("the evidence locker is not configured".into()))
        })
    }
}

// ---------- alerts ----------

/// A failed verification, as the incident commander should hear of it.
///
/// It carries more than may travel on a channel without end-to-end protection (the item's
/// name may tell what was attacked): such a channel gets the codename, the severity and a
/// link, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MismatchAlert {
    pub incident_id: Uuid,
    pub codename: String,
    pub severity: String,
    pub item_id: Uuid,
    pub item_name: String,
    /// Codes: `sha256_vs_key`, `sha256_vs_expected`, `blake3_vs_expected`,
    /// `size_vs_expected`, `missing`.
    pub mismatches: Vec<String>,
    /// The incident's active incident commanders (user names); empty when it has none.
    pub commanders: Vec<String>,
    pub at: Timestamp,
    /// The audit entry that records the mismatch.
    pub audit_seq: i64,
}

/// Who hears of a failed verification. The paging work implements this to page the
/// incident commander (through the `incident-commander` policy); `cordon` is the
/// application, for paging through it.
#[async_trait]
pub trait MismatchNotifier: Send + Sync {
    async fn evidence_mismatch(&self, cordon: &Cordon, alert: &MismatchAlert);
}

/// The default notifier: an error in the server log (the mismatch is in the audit log too).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

#[async_trait]
impl MismatchNotifier for LogNotifier {
    async fn evidence_mismatch(&self, _cordon: &Cordon, alert: &MismatchAlert) {
        tracing::error!(
            incident = %alert.codename,
            item = %alert.item_id,
            mismatches = ?alert.mismatches,
            commanders = ?alert.commanders,
            audit_seq = alert.audit_seq,
            "EVIDENCE FAILED VERIFICATION: the stored bytes no longer match their record"
        );
    }
}

// ---------- inputs and outputs ----------

/// What the uploader says about new evidence.
#[derive(Debug, Clone, Default)]
pub struct NewEvidence {
    pub name: String,
    pub description: Option<String>,
    /// Who acquired the bytes; default: the uploader.
    pub acquired_by: Option<String>,
    pub tool: Option<String>,
    pub source_asset: Option<String>,
    /// Hex SHA-256 the content must have; otherwise nothing is kept.
    pub expected_sha256: Option<String>,
    /// The announced length (`Content-Length`); any other length keeps nothing.
    pub declared_len: Option<u64>,
    pub md5: bool,
    pub sha1: bool,
}

/// An item with its chain of custody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceView {
    pub item: EvidenceItem,
    pub custody: Vec<CustodyEvent>,
    /// The shortest unique id prefix among the incident's items (see [`crate::handles`]).
    pub handle: String,
}

/// A requested byte range, as in HTTP `Range: bytes=…` (inclusive positions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// `first-last`; `last` past the end means "to the end".
    FromTo(u64, u64),
    /// `first-`
    From(u64),
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

impl RangeRequest {
    /// The range of a content of `size` bytes this request selects;
    /// [`ServiceError::RangeNotSatisfiable`] when it selects nothing.
    pub fn resolve(self, size: u64) -> Result<ByteRange> {
        let unsatisfiable = ServiceError::RangeNotSatisfiable { size };
        let (start, end) = match self {
            Self::FromTo(first, last) if first < size && first <= last => (first, last.min(size - 1) + 1),
            Self::From(first) if first < size => (first, size),
            Self::Suffix(n) if n > 0 && size > 0 => (size - n.min(size), size),
            _ => return Err(unsatisfiable),
        };
        ByteRange::new(start, end).map_err(|_| unsatisfiable)
    }
}

/// Why the bytes are read: a download, or an export handed to someone outside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ReadPurpose {
    #[default]
    Download,
    Export {
        to: String,
        reason: Option<String>,
    },
}

/// An open download: the bytes (or the requested range) and what the response needs.
#[derive(Debug)]
pub struct Download {
    pub item: EvidenceItem,
    /// `Some((first, last))` (inclusive) when a range was asked for.
    pub partial: Option<(u64, u64)>,
    pub total_size: u64,
    pub reader: BlobReader,
    /// The custody event that records this read.
    pub custody: CustodyEvent,
}

/// The result of re-reading an item's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub item: EvidenceItem,
    pub ok: bool,
    /// What was read back; `None` when the bytes are missing.
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub blake3: Option<String>,
    pub mismatches: Vec<String>,
    pub custody: CustodyEvent,
}

/// What a scheduled sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub verified: u64,
    pub mismatches: u64,
    /// Items that could not be read for a reason other than a changed or missing blob.
    pub errors: u64,
}

/// A hand-over of an item to a named person or organisation.
#[derive(Debug, Clone, Default)]
pub struct Transfer {
    pub to: String,
    pub organisation: Option<String>,
    pub reason: Option<String>,
}

/// The custody report's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Markdown,
    Pdf,
}

/// A rendered custody report.
#[derive(Debug, Clone)]
pub struct CustodyReport {
    pub format: ReportFormat,
    /// A suggested file name.
    pub filename: String,
    pub body: Vec<u8>,
}

/// A change asked of a stored item; always refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceChange {
    Update,
    Delete,
}

// ---------- validation ----------

fn optional_text(field: &'static str, value: Option<String>, max: usize) -> Result<Option<String>> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(ServiceError::invalid(field, format!("longer than {max} characters")));
    }
    cordon_core::text::check_multiline(field, &v)?;
    Ok(Some(v))
}

fn one_line(field: &'static str, value: Option<String>) -> Result<Option<String>> {
    let v = optional_text(field, value, MAX_NAME_CHARS)?;
    if v.as_ref().is_some_and(|v| v.contains(['\n', '\t'])) {
        return Err(ServiceError::invalid(field, "must be one line"));
    }
    Ok(v)
}

/// The digests an item's record says its bytes have.
fn expected_digests(item: &EvidenceItem) -> Result<(BlobKey, ExpectedDigests)> {
    let corrupt = |what: &str| {
        ServiceError::Evidence(EvidenceError::Internal(format!(
            "evidence record {} has an invalid {what}",
            item.id
        )))
    };
    let key: BlobKey = item.blob_key.parse().map_err(|_| corrupt("blob key"))?;
    let sha256 = Sha256Digest::from_hex(&item.sha256).map_err(|_| corrupt("SHA-256"))?;
    let blake3 = Blake3Digest::from_hex(&item.blake3).map_err(|_| corrupt("BLAKE3"))?;
    Ok((
        key,
        ExpectedDigests {
            size: Some(item.size),
            sha256: Some(sha256),
            blake3: Some(blake3),
        },
    ))
}

/// A custody event with the audit entry that links it into the chain.
fn custody_event(
    incident: &Incident,
    item_id: Uuid,
    kind: CustodyKind,
    actor: &str,
    at: Timestamp,
    details: Value,
    action: Option<&str>,
) -> NewCustody {
    let id = new_id(at);
    let action = action.map(str::to_owned).unwrap_or_else(|| format!("evidence.{kind}"));
    let payload = json!({
        "custody": id,
        "incident": incident.id,
        "item": item_id,
        "kind": kind.as_str(),
        "details": details,
    });
    NewCustody {
        id,
        item_id,
        kind,
        actor: actor.to_owned(),
        at,
        details: details.to_string(),
        audit: draft(at, actor, &action, format!("evidence:{item_id}"), payload),
    }
}

/// Maps a failed upload to what the uploader is told.
fn upload_error(e: EvidenceError) -> ServiceError {
    match e {
        EvidenceError::LengthMismatch { .. } => ServiceError::invalid("body", e.to_string()),
        EvidenceError::DigestMismatch { .. } => ServiceError::invalid("expected_sha256", e.to_string()),
        EvidenceError::Interrupted(_) => ServiceError::invalid("body", e.to_string()),
        e if e.code() == "storage_full" => ServiceError::StorageFull,
        e => ServiceError::Evidence(e),
    }
}

// ---------- use cases ----------

impl Cordon {
    /// One item of an incident the caller may see, by its handle: its id, a unique id
    /// prefix or its name (see [`crate::handles`]). Only the incident's items are candidates.
    async fn find_item(&self, incident: &Incident, raw_id: &str) -> Result<EvidenceItem> {
        if let Ok(id) = Uuid::parse_str(raw_id.trim()) {
            return self
                .store
                .evidence_item(incident.id, id)
                .await?
                .ok_or(ServiceError::NotFound("evidence"));
        }
        let items = self.store.evidence_items(incident.id).await?;
        let item = crate::handles::resolve("evidence", "id", raw_id, &items, |i| crate::handles::Named {
            id: i.id,
            names: vec![i.name.clone()],
        })?;
        Ok(item.clone())
    }

    /// The short handle of `item` among the incident's evidence.
    async fn evidence_handle(&self, item: &EvidenceItem) -> Result<String> {
        let ids: Vec<Uuid> = self
            .store
            .evidence_items(item.incident_id)
            .await?
            .iter()
            .map(|i| i.id)
            .collect();
        Ok(crate::handles::short_handle_among(item.id, &ids))
    }

    /// Streams new evidence into the locker and records it with its acquisition and receipt.
    ///
    /// The record is written only after the bytes are durable and both digests are known; a
    /// wrong length or digest, a broken stream or a full disk keeps nothing and is audited as
    /// `evidence.add.rejected`. The same bytes uploaded twice are stored once, recorded twice.
    pub async fn add_evidence<S, E>(
        &self,
        p: &Principal,
        raw_ref: &str,
        new: NewEvidence,
        body: S,
    ) -> Result<EvidenceView>
    where
        S: Stream<Item = std::result::Result<Bytes, E>>,
        E: Into<SourceError>,
    {
        let locker = self.locker()?;
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let subject = format!("incident:{}", incident.id);
        let access = self
            .work_as(
                access,
                "evidence.add",
                subject.clone(),
                "only the response team may add evidence",
            )
            .await?;
        let incident = access.incident();
        let name = one_line("name", Some(new.name))?
            .ok_or_else(|| ServiceError::invalid("name", "an evidence item needs a name"))?;
        let description = optional_text("description", new.description, MAX_DESCRIPTION_CHARS)?.unwrap_or_default();
        let acquired_by = one_line("acquired_by", new.acquired_by)?.unwrap_or_else(|| p.name.clone());
        let tool = one_line("tool", new.tool)?;
        let source_asset = one_line("source_asset", new.source_asset)?;
        let expected_sha256 = new
            .expected_sha256
            .map(|hex| Sha256Digest::from_hex(hex.trim()))
            .transpose()
            .map_err(|_| ServiceError::invalid("expected_sha256", "expected 64 hexadecimal characters"))?;

        let options = IngestOptions {
            declared_len: new.declared_len,
            expected_sha256,
            md5: new.md5,
            sha1: new.sha1,
            ..IngestOptions::default()
        };
        let started = Instant::now();
        let stored = match ingest_stream(locker.blobs.as_ref(), body, &options).await {
            Ok(stored) => stored,
            Err(e) => {
                let payload = json!({ "code": e.code(), "name": name, "reason": e.to_string() });
                let audit = draft(self.clock.now(), &p.name, "evidence.add.rejected", subject, payload);
                if let Err(audit_err) = self.store.append_audit(audit).await {
                    tracing::error!(error = %audit_err, "could not audit a rejected evidence upload");
                }
                return Err(upload_error(e));
            }
        };
        let elapsed = started.elapsed().as_secs_f64();

        let now = self.clock.now();
        let item = EvidenceItem {
            id: new_id(now),
            incident_id: incident.id,
            name,
            description,
            blob_key: stored.key.to_hex(),
            size: stored.size,
            sha256: stored.sha256.to_hex(),
            blake3: stored.blake3.to_hex(),
            md5: stored.md5.map(|d| d.to_hex()),
            sha1: stored.sha1.map(|d| d.to_hex()),
            acquired_by,
            tool,
            source_asset,
            created_by: p.user_id,
            created_by_name: p.name.clone(),
            created_at: now,
        };
        let acquisition = json!({
            "name": item.name,
            "description": item.description,
            "acquired_by": item.acquired_by,
            "tool": item.tool,
            "source_asset": item.source_asset,
        });
        let receipt = json!({
            "size": item.size,
            "sha256": item.sha256,
            "blake3": item.blake3,
            "md5": item.md5,
            "sha1": item.sha1,
            "stored": if stored.newly_stored { "new" } else { "deduplicated" },
            // Present when the uploader announced them (and so they matched).
            "expected_sha256": expected_sha256.map(|d| d.to_hex()),
            "declared_length": new.declared_len,
            "seconds": (elapsed * 1000.0).round() / 1000.0,
        });
        let custody = [
            custody_event(
                incident,
                item.id,
                CustodyKind::Acquisition,
                &p.name,
                now,
                acquisition,
                None,
            ),
            custody_event(incident, item.id, CustodyKind::Receipt, &p.name, now, receipt, None),
        ];
        let custody = self.store.create_evidence(&item, &custody).await?;
        let handle = self.evidence_handle(&item).await?;
        Ok(EvidenceView { item, custody, handle })
    }

    /// The evidence of an incident, oldest first, each item with its custody.
    pub async fn evidence_list(&self, p: &Principal, raw_ref: &str) -> Result<Vec<EvidenceView>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let items = self.store.evidence_items(incident.id).await?;
        let mut custody: HashMap<Uuid, Vec<CustodyEvent>> = HashMap::new();
        for e in self.store.incident_custody(incident.id).await? {
            custody.entry(e.item_id).or_default().push(e);
        }
        let handles = crate::handles::short_handles(&items.iter().map(|i| i.id).collect::<Vec<_>>());
        Ok(items
            .into_iter()
            .zip(handles)
            .map(|(item, handle)| EvidenceView {
                custody: custody.remove(&item.id).unwrap_or_default(),
                item,
                handle,
            })
            .collect())
    }

    /// One item with its custody.
    pub async fn evidence(&self, p: &Principal, raw_ref: &str, raw_id: &str) -> Result<EvidenceView> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let item = self.find_item(incident, raw_id).await?;
        let custody = self.store.custody_events(item.id).await?;
        let handle = self.evidence_handle(&item).await?;
        Ok(EvidenceView { item, custody, handle })
    }

    /// Opens an item's bytes (or a range of them) for the response team, recording the read
    /// as a `download` (or `export`) custody event before any byte leaves.
    pub async fn download_evidence(
        &self,
        p: &Principal,
        raw_ref: &str,
        raw_id: &str,
        range: Option<RangeRequest>,
        purpose: ReadPurpose,
    ) -> Result<Download> {
        let locker = self.locker()?;
        let kind = match purpose {
            ReadPurpose::Download => CustodyKind::Download,
            ReadPurpose::Export { .. } => CustodyKind::Export,
        };
        let (access, item) = self
            .item_to_work(
                p,
                raw_ref,
                raw_id,
                &format!("evidence.{kind}"),
                "only the response team may read evidence",
            )
            .await?;
        let incident = access.incident();
        let (to, reason) = match purpose {
            ReadPurpose::Download => (None, None),
            ReadPurpose::Export { to, reason } => (
                Some(one_line("export_to", Some(to))?.ok_or_else(|| ServiceError::invalid("export_to", "required"))?),
                optional_text("reason", reason, MAX_REASON_CHARS)?,
            ),
        };
        let range = range.map(|r| r.resolve(item.size)).transpose()?;
        let (key, _) = expected_digests(&item)?;
        let reader = locker.blobs.open(&key, range).await.map_err(ServiceError::Evidence)?;
        let partial = range.map(|r| (r.start(), r.end() - 1));
        let details = json!({
            "range": partial.map(|(a, b)| format!("bytes {a}-{b}/{}", item.size)),
            "bytes": reader.range().len(),
            "to": to,
            "reason": reason,
        });
        let now = self.clock.now();
        let custody = self
            .store
            .append_custody(&custody_event(incident, item.id, kind, &p.name, now, details, None))
            .await?;
        Ok(Download {
            partial,
            total_size: reader.total_size(),
            reader,
            item,
            custody,
        })
    }

    /// The item `raw_id` of the incident `raw_ref`, with the caller raised to [`Work`] for
    /// `action`; a refusal is audited against the item.
    async fn item_to_work(
        &self,
        p: &Principal,
        raw_ref: &str,
        raw_id: &str,
        action: &str,
        why: &str,
    ) -> Result<(Access<Work>, EvidenceItem)> {
        let access = self.gate(p, raw_ref).await?;
        let item = self.find_item(access.incident(), raw_id).await?;
        let access = self
            .work_as(access, action, format!("evidence:{}", item.id), why)
            .await?;
        Ok((access, item))
    }

    /// Re-reads one item and records the verification; a mismatch raises an alert.
    pub async fn verify_evidence(&self, p: &Principal, raw_ref: &str, raw_id: &str) -> Result<Verification> {
        let (access, item) = self
            .item_to_work(
                p,
                raw_ref,
                raw_id,
                "evidence.verify",
                "only the response team may verify evidence",
            )
            .await?;
        self.verify_item(&access, &item, None).await
    }

    /// Re-reads every item of an incident, oldest first, recording each verification.
    pub async fn verify_incident_evidence(&self, p: &Principal, raw_ref: &str) -> Result<Vec<Verification>> {
        let access = self.gate(p, raw_ref).await?;
        let subject = access.subject();
        let access = self
            .work_as(
                access,
                "evidence.verify",
                subject,
                "only the response team may verify evidence",
            )
            .await?;
        let incident = access.incident();
        let mut out = Vec::new();
        for item in self.store.evidence_items(incident.id).await? {
            out.push(self.verify_item(&access, &item, None).await?);
        }
        Ok(out)
    }

    /// The scheduled verification: re-reads every item (of every incident) not verified in
    /// the last `every`, as of `now`, and records each result as the system actor. Items
    /// that cannot be read are logged and counted; the sweep goes on.
    pub async fn verify_due_evidence(&self, now: Timestamp, every: SignedDuration) -> Result<SweepReport> {
        self.locker()?;
        let cutoff = now.checked_sub(every).unwrap_or(Timestamp::MIN);
        let mut report = SweepReport::default();
        let mut after = None;
        let mut incidents: HashMap<Uuid, Access<Command>> = HashMap::new();
        loop {
            let page = self
                .store
                .evidence_due_for_verification(cutoff, after, SWEEP_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for item in page {
                let access = match incidents.entry(item.incident_id) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => e.insert(self.gate_system(item.incident_id, "evidence.verify").await?),
                };
                match self.verify_item(access, &item, Some(now)).await {
                    Ok(v) => {
                        report.verified += 1;
                        report.mismatches += u64::from(!v.ok);
                    }
                    Err(e) => {
                        report.errors += 1;
                        tracing::error!(item = %item.id, error = %e, source = ?std::error::Error::source(&e), "scheduled evidence verification failed");
                    }
                }
            }
        }
        if report != SweepReport::default() {
            tracing::info!(?report, "scheduled evidence verification done");
        }
        Ok(report)
    }

    /// Runs the scheduled verification until the future is dropped: every quarter of `every`
    /// (at least once a second) it verifies the items not verified for `every`, reading the
    /// clock at each round. A zero or negative `every` turns it off (the future never ends).
    pub async fn run_evidence_verification(self, every: SignedDuration) {
        let period = match std::time::Duration::try_from(every) {
            Ok(d) if !d.is_zero() && self.evidence.is_some() => d,
            _ => return futures::future::pending().await,
        };
        let mut ticks = tokio::time::interval((period / 4).max(std::time::Duration::from_secs(1)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = self.clock.now();
            if let Err(e) = self.verify_due_evidence(now, every).await {
                tracing::error!(error = %e, "scheduled evidence verification could not run");
            }
        }
    }

    /// Re-reads `item`, records the outcome as a `verification` custody event (audited as
    /// `evidence.verification`, or `evidence.mismatch` when it failed) and alerts on failure.
    /// `at`: the sweep's time; `None` reads the clock once the bytes are read.
    async fn verify_item<L: Grants<Work>>(
        &self,
        access: &Access<L>,
        item: &EvidenceItem,
        at: Option<Timestamp>,
    ) -> Result<Verification> {
        let (incident, actor) = (access.incident(), access.actor_name());
        let locker = self.locker()?;
        let (key, expected) = expected_digests(item)?;
        let (size, sha256, blake3, mismatches) =
            match cordon_evidence::verify(locker.blobs.as_ref(), &key, &expected).await {
                Ok(r) => (
                    Some(r.size),
                    Some(r.sha256.to_hex()),
                    Some(r.blake3.to_hex()),
                    r.mismatches.iter().map(|m| m.code().to_owned()).collect::<Vec<_>>(),
                ),
                Err(EvidenceError::NotFound { .. }) => (None, None, None, vec!["missing".to_owned()]),
                Err(e) => return Err(ServiceError::Evidence(e)),
            };
        let ok = mismatches.is_empty();
        let at = at.unwrap_or_else(|| self.clock.now());
        let details = json!({
            "ok": ok,
            "size": size,
            "sha256": sha256,
            "blake3": blake3,
            "mismatches": mismatches,
            "scheduled": matches!(access.actor(), Actor::System(_)),
        });
        let action = if ok {
            "evidence.verification"
        } else {
            "evidence.mismatch"
        };
        let custody = self
            .store
            .append_custody(&custody_event(
                incident,
                item.id,
                CustodyKind::Verification,
                actor,
                at,
                details,
                Some(action),
            ))
            .await?;
        let v = Verification {
            item: item.clone(),
            ok,
            size,
            sha256,
            blake3,
            mismatches,
            custody,
        };
        if !ok {
            self.raise_mismatch(incident, &v).await;
        }
        Ok(v)
    }

    async fn raise_mismatch(&self, incident: &Incident, v: &Verification) {
        let Ok(locker) = self.locker() else { return };
        let commanders = match self.store.memberships(incident.id).await {
            Ok(members) => members
                .into_iter()
                .filter(|m| m.role == Role::IncidentCommander && m.ended_at.is_none())
                .map(|m| m.user_name)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not find the incident commander for an evidence alert");
                Vec::new()
            }
        };
        let alert = MismatchAlert {
            incident_id: incident.id,
            codename: incident.codename.to_string(),
            severity: incident.severity.to_string(),
            item_id: v.item.id,
            item_name: v.item.name.clone(),
            mismatches: v.mismatches.clone(),
            commanders,
            at: v.custody.at,
            audit_seq: v.custody.audit_seq,
        };
        locker.notifier.evidence_mismatch(self, &alert).await;
    }

    /// Records that responsibility for an item passed to a named person or organisation.
    pub async fn transfer_evidence(
        &self,
        p: &Principal,
        raw_ref: &str,
        raw_id: &str,
        t: Transfer,
    ) -> Result<CustodyEvent> {
        let (access, item) = self
            .item_to_work(
                p,
                raw_ref,
                raw_id,
                "evidence.transfer",
                "only the response team may transfer evidence",
            )
            .await?;
        let incident = access.incident();
        let to = one_line("to", Some(t.to))?
            .ok_or_else(|| ServiceError::invalid("to", "name the person or organisation receiving the item"))?;
        let organisation = one_line("organisation", t.organisation)?;
        let reason = optional_text("reason", t.reason, MAX_REASON_CHARS)?;
        let now = self.clock.now();
        let details = json!({ "from": p.name, "to": to, "organisation": organisation, "reason": reason });
        Ok(self
            .store
            .append_custody(&custody_event(
                incident,
                item.id,
                CustodyKind::Transfer,
                &p.name,
                now,
                details,
                None,
            ))
            .await?)
    }

    /// The custody report of an item, as Markdown or PDF, its times in `zone`; generating it
    /// is audited (`evidence.custody_report`).
    pub async fn custody_report(
        &self,
        p: &Principal,
        raw_ref: &str,
        raw_id: &str,
        format: ReportFormat,
        zone: &crate::report::ReportZone,
    ) -> Result<CustodyReport> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let item = self.find_item(incident, raw_id).await?;
        let custody = self.store.custody_events(item.id).await?;
        let now = self.clock.now();
        let content = report::build(&report::ReportInput {
            codename: incident.codename.to_string(),
            incident_id: incident.id,
            item: &item,
            custody: &custody,
            generated_at: now,
            generated_by: &p.name,
            zone,
            label: self.report_label(),
        });
        let (body, ext) = match format {
            ReportFormat::Markdown => (cordon_report::markdown(&content).into_bytes(), "md"),
            ReportFormat::Pdf => {
                let body = tokio::task::spawn_blocking(move || pdf::render(&content))
                    .await
                    .map_err(|e| ServiceError::Evidence(EvidenceError::Internal(format!("PDF worker failed: {e}"))))?
                    .map_err(|e| ServiceError::Evidence(EvidenceError::Internal(e)))?;
                (body, "pdf")
            }
        };
        let payload = json!({ "item": item.id, "format": ext, "custody_events": custody.len(), "tz": zone.name() });
        self.store
            .append_audit(draft(
                now,
                &p.name,
                "evidence.custody_report",
                format!("evidence:{}", item.id),
                payload,
            ))
            .await?;
        Ok(CustodyReport {
            format,
            filename: format!("custody-{}.{ext}", item.id),
            body,
        })
    }

    /// A change or deletion of a stored item: always refused (write-once), and audited as
    /// `evidence.update.refused` / `evidence.delete.refused`. Callers who may not see the
    /// incident get "not found" as everywhere else.
    pub async fn change_evidence(
        &self,
        p: &Principal,
        raw_ref: &str,
        raw_id: &str,
        change: EvidenceChange,
    ) -> ServiceError {
        let access = match self.gate(p, raw_ref).await {
            Ok(found) => found,
            Err(e) => return e,
        };
        let item = match self.find_item(access.incident(), raw_id).await {
            Ok(item) => item,
            Err(e) => return e,
        };
        let (action, verb) = match change {
            EvidenceChange::Update => ("evidence.update", "changed"),
            EvidenceChange::Delete => ("evidence.delete", "deleted"),
        };
        let e = ServiceError::NotAllowed(format!(
            "evidence is write-once: a stored item is never {verb}; add a new item instead"
        ));
        self.refuse(p, action, format!("evidence:{}", item.id), e).await
    }
}
