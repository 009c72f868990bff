//! The evidence locker: items with their digests and chain of custody, verification and
//! transfers. Uploads and downloads are raw bytes: their answers are bodies, what they are
//! asked with is a query.

use cordon_core::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A hand-over of custody.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferIn {
    /// The person (or organisation) receiving the item.
    pub to: String,
    pub organisation: Option<String>,
    pub reason: Option<String>,
}

/// One event of an item's chain of custody.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CustodyOut {
    pub id: Uuid,
    /// `acquisition`, `receipt`, `verification`, `download`, `export` or `transfer`.
    pub kind: String,
    pub actor: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    #[schema(value_type = Object)]
    pub details: Value,
    /// The audit entry recording this event (`GET /api/v1/audit`).
    pub audit_seq: i64,
    /// Hex SHA-256 of that audit entry, as chained.
    pub audit_hash: String,
}

/// An evidence item with its digests and chain of custody.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EvidenceOut {
    pub id: Uuid,
    /// The shortest unique id prefix among the incident's items: with the name, what paths
    /// take in place of the id.
    pub handle: String,
    pub incident_id: Uuid,
    pub name: String,
    pub description: String,
    /// Bytes.
    pub size: u64,
    pub sha256: String,
    pub blake3: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    pub acquired_by: String,
    pub tool: Option<String>,
    pub source_asset: Option<String>,
    /// The uploader.
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub custody: Vec<CustodyOut>,
}

/// The outcome of re-reading an item.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyOut {
    pub id: Uuid,
    pub name: String,
    /// True when the bytes read back match the record (size, SHA-256, BLAKE3, blob key).
    pub ok: bool,
    /// Recomputed from the stored bytes; null when they are missing.
    pub sha256: Option<String>,
    pub blake3: Option<String>,
    pub size: Option<u64>,
    /// `sha256_vs_key`, `sha256_vs_expected`, `blake3_vs_expected`, `size_vs_expected`, `missing`.
    pub mismatches: Vec<String>,
    /// The custody event recording this verification.
    pub custody: CustodyOut,
}

/// The outcome of re-reading every item of an incident.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyAllOut {
    /// True when every item verified.
    pub ok: bool,
    pub items: Vec<VerifyOut>,
}

/// The `details` of a `transfer` custody event: who handed the item over, to whom, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferDetails {
    pub from: String,
    pub to: String,
    pub organisation: Option<String>,
    pub reason: Option<String>,
}

// ---------- query parameters ----------

/// Query of an upload. The body is the raw bytes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AddEvidenceQuery {
    /// A name for the item, e.g. the file name (`web1-root.img`). Required.
    pub name: Option<String>,
    pub description: Option<String>,
    /// Who acquired the bytes (default: the uploader).
    pub acquired_by: Option<String>,
    /// The acquisition tool, e.g. `dd 9.1`.
    pub tool: Option<String>,
    /// The asset the bytes come from, e.g. `web1`.
    pub source_asset: Option<String>,
    /// Hex SHA-256 the content must have: a mismatch answers 422 and keeps nothing.
    pub expected_sha256: Option<String>,
    /// Also compute MD5 (for older tools).
    #[serde(default)]
    pub md5: bool,
    /// Also compute SHA-1 (for older tools).
    #[serde(default)]
    pub sha1: bool,
}

/// Query of a download.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// The bytes are handed outside: the custody event is an `export` to this person or
    /// organisation instead of a `download`.
    pub export_to: Option<String>,
    /// Why (with `export_to`).
    pub reason: Option<String>,
}

/// Query of a custody report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustodyQuery {
    /// `md` (default), `pdf`, or `json` (the custody events).
    pub format: Option<String>,
    /// The time zone of the report's times: an IANA name such as `Europe/Berlin` (default `UTC`).
    pub tz: Option<String>,
}
