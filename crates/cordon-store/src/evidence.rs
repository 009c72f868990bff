//! Storage of evidence records and their chain of custody (issue 5).
//!
//! An evidence item is the record of bytes held in the evidence locker (the bytes live in
//! `cordon-evidence`'s blob store; the record names them by their blob key). Items and custody
//! events are write-once: there is no method that changes or deletes them, and the SQLite
//! schema refuses `UPDATE`/`DELETE` with triggers.
//!
//! Custody is linked into the audit chain: every custody event carries its own
//! [`AuditDraft`], appended in the same transaction, and the event stores the sequence number
//! of that audit entry ([`CustodyEvent::audit_seq`]).

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use cordon_core::Timestamp;
use uuid::Uuid;

use crate::{AuditDraft, Result};

/// What happened to an item in its chain of custody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustodyKind {
    /// Who acquired the bytes, with which tool, from which asset.
    Acquisition,
    /// The locker received the bytes: durable, write-protected, digests recorded.
    Receipt,
    /// The stored bytes were re-read and their digests recomputed.
    Verification,
    /// Someone read the bytes (or a range of them).
    Download,
    /// Someone read the bytes to hand them outside (to counsel, law enforcement, a lab).
    Export,
    /// Responsibility for the item passed to a named person or organisation.
    Transfer,
}

impl CustodyKind {
    pub const ALL: [CustodyKind; 6] = [
        Self::Acquisition,
        Self::Receipt,
        Self::Verification,
        Self::Download,
        Self::Export,
        Self::Transfer,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Acquisition => "acquisition",
            Self::Receipt => "receipt",
            Self::Verification => "verification",
            Self::Download => "download",
            Self::Export => "export",
            Self::Transfer => "transfer",
        }
    }
}

impl fmt::Display for CustodyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CustodyKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown custody event kind `{s}`"))
    }
}

/// One evidence record. Digests are lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceItem {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub name: String,
    pub description: String,
    /// Where the bytes are in the blob store (the SHA-256 content address).
    pub blob_key: String,
    pub size: u64,
    pub sha256: String,
    pub blake3: String,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    /// Who acquired the bytes (a person, free text).
    pub acquired_by: String,
    /// The acquisition tool, e.g. `dd 9.1`, `ewfacquire`.
    pub tool: Option<String>,
    /// The asset the bytes were acquired from, e.g. `web1`.
    pub source_asset: Option<String>,
    /// The user who uploaded the bytes.
    pub created_by: Uuid,
    /// Filled on read (the uploader's user name); ignored on write.
    pub created_by_name: String,
    pub created_at: Timestamp,
}

/// A custody event to append, with the audit entry that links it into the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustody {
    pub id: Uuid,
    pub item_id: Uuid,
    pub kind: CustodyKind,
    /// The user name, or `cordon` for the scheduled verification.
    pub actor: String,
    pub at: Timestamp,
    /// Canonical JSON object.
    pub details: String,
    pub audit: AuditDraft,
}

/// A stored custody event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustodyEvent {
    pub id: Uuid,
    pub item_id: Uuid,
    pub kind: CustodyKind,
    pub actor: String,
    pub at: Timestamp,
    /// Canonical JSON object.
    pub details: String,
    /// The sequence number of this event's audit entry.
    pub audit_seq: i64,
    /// The hash of that audit entry (32 bytes), as chained.
    pub audit_hash: Vec<u8>,
}

/// Evidence records and custody events. Part of [`crate::Store`].
#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// Records a new item together with its first custody events (acquisition, receipt), each
    /// appended to the audit chain in the same transaction. Returns the stored events.
    async fn create_evidence(&self, item: &EvidenceItem, custody: &[NewCustody]) -> Result<Vec<CustodyEvent>>;

    /// Appends one custody event and its audit entry. [`crate::StoreError::NotFound`]
    /// `evidence` when the item does not exist.
    async fn append_custody(&self, event: &NewCustody) -> Result<CustodyEvent>;

    /// One item of an incident (an item of another incident is `None`).
    async fn evidence_item(&self, incident: Uuid, id: Uuid) -> Result<Option<EvidenceItem>>;

    /// The items of an incident, oldest first.
    async fn evidence_items(&self, incident: Uuid) -> Result<Vec<EvidenceItem>>;

    /// The custody events of an item, in audit order.
    async fn custody_events(&self, item: Uuid) -> Result<Vec<CustodyEvent>>;

    /// The custody events of every item of an incident, in audit order.
    async fn incident_custody(&self, incident: Uuid) -> Result<Vec<CustodyEvent>>;

    /// Items (of any incident) not verified since `verified_before` — the last verification,
    /// or the receipt when there was none, is at or before it — with an id above `after`,
    /// by id, at most `limit`.
    async fn evidence_due_for_verification(
        &self,
        verified_before: Timestamp,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<EvidenceItem>>;
}
