//! Storage: one [`Store`] trait, one implementation per backend, each with its own embedded
//! migrations.
//!
//! Invariants:
//! - every mutating method takes an [`AuditDraft`] and appends it to the hash chain in the same
//!   transaction as the change, so no change exists without its audit entry;
//! - a database whose schema is newer than this binary is refused at open;
//! - every query and transaction is written once ([`SqlStore`], in `sql/`), over the
//!   [`dialect`] layer that holds what differs between the databases; both run the same stories
//!   (`tests/story*.rs`).
//!
//! Backends: [`SqliteStore`] (embedded, one node) and [`PostgresStore`] (several nodes on one
//! database), both a [`SqlStore`]. With the `testing` feature, [`testing`] creates throw-away PostgreSQL databases.

pub mod accounts;
pub mod activity;
pub mod comms;
pub mod dialect;
mod error;
pub mod evidence;
pub mod feed;
pub mod handles;
pub mod identity;
pub mod oidc;
pub mod paging;
pub mod registers;
pub mod room;
mod rows;
pub mod seen;
pub mod sessions;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;
pub mod timeline;

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::audit::AuditRecord;
use cordon_core::incident::{Decision, Incident, Membership, Severity, Status};
use cordon_core::role::Role;
use cordon_core::task::Task;
use cordon_core::user::User;
use uuid::Uuid;

pub use accounts::AccountStore;
pub use activity::ActivityStore;
pub use comms::CommsStore;
pub use dialect::postgres::{AUDIT_CHAIN_LOCK, PostgresStore};
pub use dialect::sqlite::SqliteStore;
pub use error::StoreError;
pub use evidence::EvidenceStore;
pub use feed::FeedStore;
pub use handles::HandleStore;
pub use identity::IdentityStore;
pub use oidc::OidcStore;
pub use paging::PagingStore;
pub use registers::RegisterStore;
pub use room::RoomStore;
pub use seen::SeenStore;
pub use sessions::SessionStore;
pub use sql::SqlStore;
pub use timeline::TimelineStore;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An audit entry to append: the service fills it, the store chains and stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// Canonical JSON, written once and hashed verbatim.
    pub payload: String,
}

/// A stored audit entry with its chain links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub record: AuditRecord,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// An API token to store: only its SHA-256 hash is ever kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// How the token is named when listed and revoked (never derived from the secret).
    pub id: Uuid,
    pub hash: [u8; 32],
    pub user_id: Uuid,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// A new incident with everything that exists from its declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    pub incident: Incident,
    pub tasks: Vec<Task>,
    pub members: Vec<Membership>,
}

/// An incident with its team and decisions, and the viewer's roles in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentView {
    pub incident: Incident,
    pub viewer_roles: Vec<Role>,
    pub members: Vec<Membership>,
    pub decisions: Vec<Decision>,
}

/// How an incident is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentLookup<'a> {
    Id(Uuid),
    /// The normalized codename key; the open incident wins, else the newest closed one.
    Codename(&'a str),
}

/// Whose list of incidents is asked for: a privileged viewer (admin, security) sees all; any
/// other viewer sees unsealed incidents and the sealed ones they are an active member of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Uuid,
    pub sees_all: bool,
}

/// Which incidents a list holds: every one (the default), or those in one status and/or of one
/// severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IncidentQuery {
    pub status: Option<Status>,
    pub severity: Option<Severity>,
}

/// An incident as lists show it: with its incident commander's name, when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedIncident {
    pub incident: Incident,
    pub commander: Option<String>,
}

/// The one storage trait. Domain areas with many methods live in their own traits
/// ([`EvidenceStore`], [`TimelineStore`], [`PagingStore`], [`RegisterStore`], [`CommsStore`],
/// [`IdentityStore`], [`RoomStore`], [`FeedStore`], [`OidcStore`]) that every backend implements too.
#[async_trait]
pub trait Store:
    EvidenceStore
    + TimelineStore
    + PagingStore
    + RegisterStore
    + CommsStore
    + IdentityStore
    + OidcStore
    + SeenStore
    + HandleStore
    + SessionStore
    + AccountStore
    + RoomStore
    + FeedStore
    + ActivityStore
    + Send
    + Sync
    + 'static
{
    /// A short name of the backend, for logs (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    // users and tokens
    async fn count_users(&self) -> Result<u64>;
    async fn create_user(&self, user: &User, audit: AuditDraft) -> Result<()>;
    async fn user_by_name(&self, name: &str) -> Result<Option<User>>;
    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn add_token(&self, token: &NewToken, audit: AuditDraft) -> Result<()>;

    // incidents
    /// Fails with [`StoreError::Conflict`] `codename` when an open incident holds the codename.
    /// Several open incidents may share a war room.
    async fn create_incident(&self, new: &NewIncident, audit: AuditDraft) -> Result<()>;
    async fn incident(&self, id: Uuid) -> Result<Option<Incident>>;
    /// The whole view of one incident in one round trip (the hot `GET /incidents/{ref}`):
    /// the incident, the roles `viewer` holds now, every membership and every decision.
    async fn incident_view(&self, by: IncidentLookup<'_>, viewer: Uuid) -> Result<Option<IncidentView>>;
    /// One lookup for the hot path: the incident (by id or codename key, as
    /// [`Store::incident`] and [`Store::incident_by_codename`]) with the roles `viewer` holds in it now.
    async fn incident_for_viewer(&self, by: IncidentLookup<'_>, viewer: Uuid) -> Result<Option<(Incident, Vec<Role>)>>;
    /// The open incident with this codename, else the newest closed one.
    async fn incident_by_codename(&self, key: &str) -> Result<Option<Incident>>;
    /// The incidents `viewer` may see that `query` matches, newest first (by creation, then id),
    /// at most `limit`, after the position `after` (the `(created_at, id)` of the last one of
    /// the page before), each with its incident commander's name.
    async fn list_incidents(
        &self,
        viewer: Viewer,
        query: IncidentQuery,
        limit: u32,
        after: Option<(Timestamp, Uuid)>,
    ) -> Result<Vec<ListedIncident>>;
    /// Writes the incident's mutable fields (status, severity, title, description, updated_at).
    async fn update_incident(&self, incident: &Incident, audit: AuditDraft) -> Result<()>;

    // the team
    async fn memberships(&self, incident: Uuid) -> Result<Vec<Membership>>;
    async fn active_roles(&self, incident: Uuid, user: Uuid) -> Result<Vec<Role>>;
    /// Adds a term; for a single-holder role, first ends the current holder's term at its start.
    async fn add_membership(&self, m: &Membership, audit: AuditDraft) -> Result<()>;
    /// Ends a user's active term in a role; false when there was none.
    async fn end_membership(
        &self,
        incident: Uuid,
        user: Uuid,
        role: Role,
        at: Timestamp,
        audit: AuditDraft,
    ) -> Result<bool>;

    // the checklist
    async fn tasks(&self, incident: Uuid) -> Result<Vec<Task>>;
    /// The checklist tasks assigned to `user` on every incident, at most `limit`, by incident
    /// then step.
    async fn tasks_assigned_to(&self, user: Uuid, limit: u32) -> Result<Vec<Task>>;
    /// Writes status, assignee, override reason and updated_at.
    async fn update_task(&self, task: &Task, audit: AuditDraft) -> Result<()>;
    async fn decisions(&self, incident: Uuid) -> Result<Vec<Decision>>;
    /// Records (or re-records) a decision.
    async fn record_decision(&self, incident: Uuid, decision: &Decision, audit: AuditDraft) -> Result<()>;

    // audit
    /// Appends an entry on its own: refusals and reads worth recording.
    async fn append_audit(&self, audit: AuditDraft) -> Result<i64>;
    /// Entries with `seq > after`, in order, at most `limit`.
    async fn audit_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>>;
}
