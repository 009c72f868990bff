//! The containment and impact registers: assets, systems, credentials, exposures,
//! indicators (with promotion and the sightings search), the risk view and follow-up tasks.
//! Requests refuse unknown fields.

use cordon_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The header of a blocklist export naming how many warnings it carries (private or reserved
/// ranges, also named inside the file).
pub const WARNINGS_HEADER: &str = "cordon-warnings";

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetIn {
    pub name: String,
    /// `host`, `instance`, `container`, `database`, `bucket`, `account`, `network`.
    pub kind: String,
    pub address: Option<String>,
    /// `suspected`, `compromised`, `isolated`, `imaged`, `rebuilt`, `clean`.
    pub state: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    pub state: String,
    /// Why, e.g. "security group detached".
    pub note: Option<String>,
}

/// One state an asset entered.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssetMoveOut {
    /// Null for the state it was registered in.
    pub from: Option<String>,
    pub to: String,
    pub by: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssetOut {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub address: Option<String>,
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Every state it entered, oldest first, with who and when.
    pub history: Vec<AssetMoveOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemIn {
    pub name: String,
    /// The user who owns the system: rotation tasks for credentials granting it go to them.
    pub owner: Option<String>,
    /// Names of the incident's assets the system is made of.
    #[serde(default)]
    pub assets: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SystemOut {
    pub id: Uuid,
    pub name: String,
    pub owner: Option<String>,
    pub assets: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialIn {
    pub name: String,
    /// `ssh_key`, `password`, `api_key`, `cloud_access_key`, `certificate`, `token`, `other`.
    pub kind: String,
    /// Names of the incident's assets it is stored on.
    #[serde(default)]
    pub stored_on: Vec<String>,
    /// Systems it grants access to.
    #[serde(default)]
    pub grants: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialPatch {
    /// `rotated` or `revoked`.
    pub state: String,
}

/// A follow-up task: work the registers created under a playbook step.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FollowUpOut {
    pub id: Uuid,
    /// `STEP.N`: the N-th follow-up task under its step, what paths take in place of the id.
    pub handle: String,
    pub parent_step: u32,
    pub key: String,
    pub title: String,
    pub status: String,
    /// The role it falls to when no person owns it.
    pub owner_role: Option<String>,
    pub assignee: Option<String>,
    pub credential_id: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpPatch {
    /// `todo`, `in_progress`, `done`, `skipped`.
    pub status: Option<String>,
    /// A user name, or null to unassign.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::fields::double_option"
    )]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
}

/// Containment progress of the "isolate affected instances" step.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProgressOut {
    pub isolated: u32,
    pub imaged: u32,
    /// Assets that were compromised.
    pub of: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CredentialOut {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub stored_on: Vec<String>,
    pub grants: Vec<String>,
    /// `unaffected`, `compromised`, `rotated`, `revoked`.
    pub state: String,
    /// Its rotation tasks.
    pub tasks: Vec<FollowUpOut>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A timeline event: its source and first line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRefIo {
    pub source_id: String,
    pub line: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExposureIn {
    /// What data, in words.
    pub data: String,
    /// `public`, `internal`, `confidential`, `restricted`, `pii`, `phi`, `pci`, `credentials`.
    pub classification: String,
    pub records: Option<u64>,
    #[serde(default)]
    pub customers: Vec<String>,
    /// Evidence ids of this incident.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Timeline events that show it.
    #[serde(default)]
    pub events: Vec<EventRefIo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExposureOut {
    pub id: Uuid,
    pub data: String,
    pub classification: String,
    /// True for regulated categories (PII, PHI, PCI), which can oblige notification.
    pub regulated: bool,
    pub records: Option<u64>,
    pub customers: Vec<String>,
    pub evidence: Vec<Uuid>,
    pub events: Vec<EventRefIo>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IocIn {
    /// `ip`, `cidr`, `domain`, `url`, `sha256`, `md5`, `email`, `account`, `user_agent`.
    pub kind: String,
    /// Defanged forms (`hxxp://`, `1.2.3[.]4`, `[at]`) are accepted.
    pub value: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoteIn {
    /// The event: its timeline source and first line (`source_id`, `provenance.line`).
    pub source_id: String,
    pub line: u64,
    /// The value, as it appears in the event.
    pub value: String,
    /// Guessed from the value when absent.
    pub kind: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SightingOut {
    pub source_id: Uuid,
    pub line: u64,
    pub byte_offset: u64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub host: Option<String>,
    /// `promoted`, `search` or `watch`.
    pub how: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IocOut {
    pub id: Uuid,
    pub kind: String,
    /// Normalized.
    pub value: String,
    pub notes: Vec<String>,
    /// Set for a private or reserved address: it is kept, and flagged in every export.
    pub warning: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_seen: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<Timestamp>,
    pub sightings: Vec<SightingOut>,
    /// True when this call merged into a known indicator.
    pub merged: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchOut {
    pub id: Uuid,
    pub kind: String,
    pub value: String,
    /// Events that mention it: all of them, however many.
    pub found: u64,
    /// Of those, not recorded before.
    pub new: u64,
    /// Sightings recorded for it now, in all.
    pub sightings: u64,
    /// Over every sighting.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_seen: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SystemAtRiskOut {
    pub system: String,
    pub owner: Option<String>,
    /// Unrotated credentials from compromised assets that grant it.
    pub via: Vec<String>,
    /// Its assets not known to be compromised.
    pub assets_at_risk: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExposedCredentialOut {
    pub name: String,
    pub state: String,
    /// The compromised assets it is stored on.
    pub stored_on: Vec<String>,
    pub grants: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RiskOut {
    pub compromised_assets: Vec<String>,
    pub credentials: Vec<ExposedCredentialOut>,
    pub systems_at_risk: Vec<SystemAtRiskOut>,
}

// ---------- query parameters ----------

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
/// (Other query parameters — `limit`, `cursor` — are the pagination's.)
pub struct CredentialQuery {
    /// A state (`unaffected`, `compromised`, `rotated`, `revoked`), or `unrotated`: the
    /// compromised ones still to rotate or revoke.
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `nftables`, `iptables` (IPv4), `ip6tables` (IPv6), `ipset`, `cidr`, `csv`, `stix`.
    pub format: String,
    /// Keep private and reserved ranges (default true; each is warned about). False leaves
    /// them out, and the warnings name what was left out.
    pub include_private: Option<bool>,
}
