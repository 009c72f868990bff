//! Storage of the containment and impact registers (issue 6): assets and their moves,
//! indicators and sightings, systems, credentials, exposures, and follow-up tasks.
//!
//! Reads are "everything of one incident" (the registers of one incident are small, and the
//! communications and the report read them whole). Writes that set off other changes — an
//! asset turning compromised compromises the credentials stored on it and creates their
//! rotation tasks — carry those changes as [`Effects`], applied with their audit entries in
//! the same transaction.

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::register::{AssetKind, AssetState, Classification, CredentialKind, CredentialState};
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use uuid::Uuid;

use crate::{AuditDraft, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub id: Uuid,
    pub incident_id: Uuid,
    /// Unique within the incident; credentials and systems name assets by it.
    pub name: String,
    pub kind: AssetKind,
    pub address: Option<String>,
    pub state: AssetState,
    pub created_by: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One state an asset entered: who, when, from what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetMove {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub incident_id: Uuid,
    /// `None` for the state the asset was registered in.
    pub from: Option<AssetState>,
    pub to: AssetState,
    pub by: Uuid,
    /// Filled on read (the user's name); ignored on write.
    pub by_name: String,
    pub at: Timestamp,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub id: Uuid,
    pub incident_id: Uuid,
    /// An indicator kind name (`ip`, `cidr`, `domain`, … as in `cordon-ioc`).
    pub kind: String,
    /// Normalized; `(incident, kind, value)` is unique.
    pub value: String,
    /// The private or reserved range an address touches.
    pub special: Option<String>,
    pub notes: Vec<String>,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    pub created_by: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Where an indicator was seen: one timeline event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub id: Uuid,
    pub indicator_id: Uuid,
    pub incident_id: Uuid,
    pub source_id: Uuid,
    /// The event's first line in its source (1-based).
    pub line: u64,
    pub byte_offset: u64,
    /// The event's time.
    pub seen_at: Timestamp,
    pub host: Option<String>,
    /// `promoted`, `search` or `watch`.
    pub how: String,
    pub recorded_at: Timestamp,
}

/// A system credentials grant access to, with its owner and the assets it is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub name: String,
    pub owner: Option<Uuid>,
    /// Filled on read; ignored on write.
    pub owner_name: Option<String>,
    /// Asset names.
    pub assets: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub name: String,
    pub kind: CredentialKind,
    /// Asset names.
    pub stored_on: Vec<String>,
    /// System names.
    pub grants: Vec<String>,
    pub state: CredentialState,
    pub created_by: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A timeline event named by its source and first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    pub source_id: Uuid,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    pub id: Uuid,
    pub incident_id: Uuid,
    /// What data, in words.
    pub data: String,
    pub classification: Classification,
    pub records: Option<u64>,
    pub customers: Vec<String>,
    /// Evidence item ids of this incident.
    pub evidence: Vec<Uuid>,
    pub events: Vec<EventRef>,
    pub created_by: Uuid,
    pub created_at: Timestamp,
}

/// A task beyond the playbook's steps, under one of them (`parent_step`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpTask {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub parent_step: u32,
    /// Unique within the incident, e.g. `rotate:<credential id>`.
    pub key: String,
    pub title: String,
    pub status: TaskStatus,
    /// The role the task falls to when no person owns it.
    pub owner_role: Option<Role>,
    pub assignee: Option<Uuid>,
    pub credential_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Changes a register write sets off, applied in its transaction: credentials to write
/// (their new state), follow-up tasks to insert or update, and one audit entry each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    pub credentials: Vec<Credential>,
    pub tasks: Vec<FollowUpTask>,
    pub audit: Vec<AuditDraft>,
}

/// The registers. Part of [`crate::Store`].
#[async_trait]
pub trait RegisterStore: Send + Sync {
    /// Records a new asset and its first state. [`crate::StoreError::Conflict`] `asset` when
    /// the incident has an asset of that name.
    async fn create_asset(&self, asset: &Asset, first: &AssetMove, effects: &Effects, audit: AuditDraft) -> Result<()>;
    /// Moves an asset (`mv.from` → `mv.to`). [`crate::StoreError::Conflict`] `asset state`
    /// when the asset is no longer in `mv.from` (a concurrent move won).
    async fn move_asset(&self, mv: &AssetMove, effects: &Effects, audit: AuditDraft) -> Result<()>;
    async fn assets(&self, incident: Uuid) -> Result<Vec<Asset>>;
    /// Every move of the incident's assets, oldest first.
    async fn asset_moves(&self, incident: Uuid) -> Result<Vec<AssetMove>>;

    /// Inserts or updates (by id) an indicator, and records new sightings (a sighting of the
    /// same event is kept once). [`crate::StoreError::Conflict`] `indicator` when another
    /// record holds the kind and value.
    async fn put_indicator(&self, indicator: &Indicator, sightings: &[Sighting], audit: AuditDraft) -> Result<()>;
    async fn indicators(&self, incident: Uuid) -> Result<Vec<Indicator>>;
    /// Every sighting of the incident's indicators, in event time order.
    async fn sightings(&self, incident: Uuid) -> Result<Vec<Sighting>>;

    /// Inserts or updates (by incident and name) a system.
    async fn put_system(&self, system: &System, audit: AuditDraft) -> Result<()>;
    async fn systems(&self, incident: Uuid) -> Result<Vec<System>>;

    /// Inserts or updates (by id) a credential with the changes it sets off.
    /// [`crate::StoreError::Conflict`] `credential` when another one has the name.
    async fn put_credential(&self, credential: &Credential, effects: &Effects, audit: AuditDraft) -> Result<()>;
    async fn credentials(&self, incident: Uuid) -> Result<Vec<Credential>>;

    async fn create_exposure(&self, exposure: &Exposure, audit: AuditDraft) -> Result<()>;
    async fn exposures(&self, incident: Uuid) -> Result<Vec<Exposure>>;

    async fn follow_up_tasks(&self, incident: Uuid) -> Result<Vec<FollowUpTask>>;
    /// The follow-up tasks assigned to `user` on every incident, at most `limit`, by incident
    /// then creation.
    async fn follow_ups_assigned_to(&self, user: Uuid, limit: u32) -> Result<Vec<FollowUpTask>>;
    /// Writes status, assignee and updated_at.
    async fn update_follow_up_task(&self, task: &FollowUpTask, audit: AuditDraft) -> Result<()>;
}

/// Whether any of these stored asset states means the asset was compromised.
pub(crate) fn any_compromised(states: &[String]) -> Result<bool> {
    for s in states {
        let state: cordon_core::register::AssetState = s
            .parse()
            .map_err(|e| crate::StoreError::corrupt(format!("asset state: {e}")))?;
        if state.implies_compromise() {
            return Ok(true);
        }
    }
    Ok(false)
}
