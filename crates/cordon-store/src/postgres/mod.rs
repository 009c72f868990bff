//! The PostgreSQL backend, for several Cordon nodes sharing one database.
//!
//! The same shared semantics as SQLite (`tests/story*.rs` runs against both), with what makes
//! them hold across processes:
//! - the audit chain stays one chain: every append takes a transaction-scoped advisory lock
//!   ([`AUDIT_CHAIN_LOCK`]) before it reads the chain head, so concurrent writers on any node
//!   append one after the other; the lock is released when the change it belongs to commits;
//! - uniqueness rules are the same partial unique indexes, reported as the same
//!   [`StoreError::Conflict`] values;
//! - what must happen once (an escalation, an asset move, a sent communication, a met
//!   milestone, a claimed reminder) is a conditional UPDATE whose rows affected decide: a
//!   second node's UPDATE waits for the first to commit, re-checks, and changes nothing;
//! - a database whose schema is newer than this binary is refused at open; migrations take
//!   sqlx's advisory lock, so nodes starting together migrate once;
//! - instants are BIGINT Unix microseconds, exactly what the audit chain hashes; text sorts
//!   with `COLLATE "C"` (byte order, as SQLite sorts), whatever the database's collation.

use std::str::FromStr;

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::audit::{AuditRecord, GENESIS, entry_hash};
use cordon_core::clock::{from_micros, to_micros};
use cordon_core::incident::{Decision, Incident, Membership, Severity};
use cordon_core::role::Role;
use cordon_core::task::Task;
use cordon_core::user::User;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

mod comms;
mod evidence;
mod handles;
mod identity;
mod paging;
mod registers;
mod seen;
mod timeline;

use crate::error::{conflict_on_unique, is_unique_violation};
use crate::rows as from_row;
use crate::{
    AuditDraft, AuditEntry, IncidentLookup, IncidentView, NewIncident, NewToken, Result, Store, StoreError, Viewer,
};

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The advisory lock key that serializes audit appends across every node on the database
/// (`"cordon"` followed by `1`, as bytes).
pub const AUDIT_CHAIN_LOCK: i64 = 0x636f_7264_6f6e_0001;

/// Connections per node; each request holds one only for its statements.
const POOL_SIZE: u32 = 16;

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
}

impl PostgresStore {
    /// Connects to a `postgres://…` URL and brings the schema up to date.
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::open_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connects with the given options and brings the schema up to date.
    pub async fn open_with(opts: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .connect_with(opts)
            .await?;
        refuse_newer_schema(&pool).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// The newest schema version this binary knows.
    pub fn binary_schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }
}

async fn refuse_newer_schema(pool: &PgPool) -> Result<()> {
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !has_table {
        return Ok(());
    }
    let database: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await?;
    let binary = PostgresStore::binary_schema_version();
    match database {
        Some(database) if database > binary => Err(StoreError::SchemaTooNew { database, binary }),
        _ => Ok(()),
    }
}

pub(crate) fn parse_col<T: FromStr>(r: &PgRow, col: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let s: String = r.try_get(col)?;
    s.parse::<T>().map_err(|e| StoreError::corrupt(format!("{col}: {e}")))
}

/// Appends one audit entry inside the caller's transaction; returns its sequence number and
/// hash. Holds [`AUDIT_CHAIN_LOCK`] until the transaction ends, so the head read here is the
/// head this entry links to on every node.
pub(crate) async fn append_entry(conn: &mut PgConnection, draft: &AuditDraft) -> Result<(i64, Vec<u8>)> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_CHAIN_LOCK)
        .execute(&mut *conn)
        .await?;
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (seq, prev) = match last {
        Some(row) => {
            let seq: i64 = row.try_get("seq")?;
            let hash: Vec<u8> = row.try_get("hash")?;
            let prev: [u8; 32] = hash
                .try_into()
                .map_err(|_| StoreError::corrupt("audit hash is not 32 bytes"))?;
            (seq + 1, prev)
        }
        None => (1, GENESIS),
    };
    let record = AuditRecord {
        seq,
        at_micros: to_micros(draft.at),
        actor: draft.actor.clone(),
        action: draft.action.clone(),
        subject: draft.subject.clone(),
        payload: draft.payload.clone(),
    };
    let hash = entry_hash(&prev, &record);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, payload, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(record.at_micros)
    .bind(record.actor)
    .bind(record.action)
    .bind(record.subject)
    .bind(record.payload)
    .bind(prev.to_vec())
    .bind(hash.to_vec())
    .execute(&mut *conn)
    .await?;
    Ok((seq, hash.to_vec()))
}

/// Appends one audit entry inside the caller's transaction.
pub(crate) async fn append_in(conn: &mut PgConnection, draft: &AuditDraft) -> Result<i64> {
    Ok(append_entry(conn, draft).await?.0)
}

/// `SELECT` of users with their groups, followed by a literal tail.
macro_rules! user_query {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT u.id, u.name, u.email, u.pgp_key, u.is_admin, u.created_at, u.disabled_at,
                    ARRAY(SELECT g.group_name FROM user_groups g WHERE g.user_id = u.id) AS groups
             FROM users u ",
            $tail
        )
    };
}

/// The incident columns (aliased `i`).
macro_rules! incident_columns {
    () => {
        "i.id, i.codename_key, i.kind, i.severity, i.status, i.sealed, i.title, i.description, i.room,
         i.playbook, i.created_by, i.created_at, i.updated_at"
    };
}

/// `SELECT` of incidents (aliased `i`), followed by a literal tail.
macro_rules! incident_query {
    ($tail:literal $(,)?) => {
        concat!("SELECT ", incident_columns!(), " FROM incidents i ", $tail)
    };
}

/// The roles viewer `$2` holds now in incident `i`, as a `text[]` column `viewer_roles`.
macro_rules! viewer_roles_column {
    () => {
        "ARRAY(SELECT m.role FROM memberships m
               WHERE m.incident_id = i.id AND m.user_id = $2 AND m.ended_at IS NULL) AS viewer_roles"
    };
}

/// Looking an incident up by id, or by codename (the open one, else the newest closed one).
macro_rules! incident_lookup {
    (id) => {
        "WHERE i.id = $1"
    };
    (codename) => {
        "WHERE i.codename_key = $1 ORDER BY i.is_open DESC, i.created_at DESC LIMIT 1"
    };
}

fn user_from_row(r: &PgRow) -> Result<User> {
    let mut groups: Vec<String> = r.try_get("groups")?;
    groups.sort();
    Ok(User {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        pgp_key: r.try_get("pgp_key")?,
        groups,
        is_admin: r.try_get("is_admin")?,
        created_at: from_micros(r.try_get("created_at")?),
        disabled_at: r.try_get::<Option<i64>, _>("disabled_at")?.map(from_micros),
    })
}

fn roles(names: &[String]) -> Result<Vec<Role>> {
    names
        .iter()
        .map(|r| r.parse::<Role>().map_err(StoreError::corrupt))
        .collect()
}

fn severity_col(s: Severity) -> i32 {
    i32::from(s.level())
}

/// One member of `incident_view`'s `members` JSON array.
type MemberTuple = (Uuid, Uuid, String, String, i64, Option<i64>);
/// One member of `incident_view`'s `decisions` JSON array.
type DecisionTuple = (String, bool, String, Uuid, String, i64);

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn count_users(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        u64::try_from(n).map_err(|_| StoreError::corrupt(format!("user count {n}")))
    }

    async fn create_user(&self, user: &User, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, name, email, pgp_key, is_admin, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user.id)
        .bind(&user.name)
        .bind(&user.email)
        .bind(&user.pgp_key)
        .bind(user.is_admin)
        .bind(to_micros(user.created_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("user"))?;
        for g in &user.groups {
            sqlx::query("INSERT INTO user_groups (user_id, group_name) VALUES ($1, $2)")
                .bind(user.id)
                .bind(g)
                .execute(&mut *tx)
                .await?;
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        const Q: &str = user_query!("WHERE u.name = $1");
        let row = sqlx::query(Q).bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>> {
        const Q: &str = user_query!("WHERE u.id = $1");
        let row = sqlx::query(Q).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        const Q: &str = user_query!("ORDER BY u.name COLLATE \"C\"");
        let rows = sqlx::query(Q).fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn add_token(&self, token: &NewToken, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at, id, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token.hash.to_vec())
        .bind(token.user_id)
        .bind(&token.label)
        .bind(to_micros(token.created_at))
        .bind(token.id)
        .bind(token.expires_at.map(to_micros))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("token"))?;
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_incident(&self, new: &NewIncident, audit: AuditDraft) -> Result<()> {
        let i = &new.incident;
        let mut tx = self.begin().await?;
        let res = sqlx::query(
            "INSERT INTO incidents (id, codename_key, kind, severity, status, is_open, sealed, title, description,
                                    room, playbook, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(i.id)
        .bind(i.codename.key())
        .bind(i.kind.as_str())
        .bind(severity_col(i.severity))
        .bind(i.status.as_str())
        .bind(i.status.is_open())
        .bind(i.sealed)
        .bind(&i.title)
        .bind(&i.description)
        .bind(&i.room)
        .bind(&i.playbook)
        .bind(i.created_by)
        .bind(to_micros(i.created_at))
        .bind(to_micros(i.updated_at))
        .execute(&mut *tx)
        .await;
        match res {
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                return Err(StoreError::Conflict("codename"));
            }
            r => r?,
        };
        for t in &new.tasks {
            insert_task(&mut tx, t).await?;
        }
        for m in &new.members {
            insert_membership(&mut tx, m).await?;
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incident(&self, id: Uuid) -> Result<Option<Incident>> {
        const Q: &str = incident_query!("WHERE i.id = $1");
        let row = sqlx::query(Q).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row::incident).transpose()
    }

    async fn incident_view(&self, by: IncidentLookup<'_>, viewer: Uuid) -> Result<Option<IncidentView>> {
        macro_rules! view {
            ($how:tt) => {
                concat!(
                    "SELECT ",
                    incident_columns!(),
                    ", ",
                    viewer_roles_column!(),
                    ",
                    (SELECT COALESCE(json_agg(json_build_array(m.id, m.user_id, u.name, m.role, m.started_at,
                                                               m.ended_at)), '[]'::json)
                     FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.incident_id = i.id) AS members,
                    (SELECT COALESCE(json_agg(json_build_array(d.name, d.value, d.note, d.decided_by, u.name,
                                                               d.decided_at)), '[]'::json)
                     FROM decisions d JOIN users u ON u.id = d.decided_by WHERE d.incident_id = i.id) AS decisions
                    FROM incidents i ",
                    incident_lookup!($how)
                )
            };
        }
        const BY_ID: &str = view!(id);
        const BY_CODENAME: &str = view!(codename);
        let q = match by {
            IncidentLookup::Id(id) => sqlx::query(BY_ID).bind(id),
            IncidentLookup::Codename(k) => sqlx::query(BY_CODENAME).bind(k),
        };
        let Some(row) = q.bind(viewer).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let incident = from_row::incident(&row)?;
        let viewer_roles = roles(&row.try_get::<Vec<String>, _>("viewer_roles")?)?;
        let Json(members_raw): Json<Vec<MemberTuple>> = row.try_get("members")?;
        let Json(decisions_raw): Json<Vec<DecisionTuple>> = row.try_get("decisions")?;
        let mut members = members_raw
            .into_iter()
            .map(|(id, user_id, user_name, role, started, ended)| {
                Ok(Membership {
                    id,
                    incident_id: incident.id,
                    user_id,
                    user_name,
                    role: role.parse::<Role>().map_err(StoreError::corrupt)?,
                    started_at: from_micros(started),
                    ended_at: ended.map(from_micros),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        members.sort_by(|a, b| (a.started_at, &a.user_name).cmp(&(b.started_at, &b.user_name)));
        let mut decisions: Vec<Decision> = decisions_raw
            .into_iter()
            .map(|(name, value, note, decided_by, decided_by_name, at)| Decision {
                name,
                value,
                note,
                decided_by,
                decided_by_name,
                decided_at: from_micros(at),
            })
            .collect();
        decisions.sort_by_key(|d| d.decided_at);
        Ok(Some(IncidentView {
            incident,
            viewer_roles,
            members,
            decisions,
        }))
    }

    async fn incident_for_viewer(&self, by: IncidentLookup<'_>, viewer: Uuid) -> Result<Option<(Incident, Vec<Role>)>> {
        macro_rules! with_roles {
            ($how:tt) => {
                concat!(
                    "SELECT ",
                    incident_columns!(),
                    ", ",
                    viewer_roles_column!(),
                    " FROM incidents i ",
                    incident_lookup!($how)
                )
            };
        }
        const BY_ID: &str = with_roles!(id);
        const BY_CODENAME: &str = with_roles!(codename);
        let q = match by {
            IncidentLookup::Id(id) => sqlx::query(BY_ID).bind(id),
            IncidentLookup::Codename(k) => sqlx::query(BY_CODENAME).bind(k),
        };
        let Some(row) = q.bind(viewer).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let roles = roles(&row.try_get::<Vec<String>, _>("viewer_roles")?)?;
        Ok(Some((from_row::incident(&row)?, roles)))
    }

    async fn incident_by_codename(&self, key: &str) -> Result<Option<Incident>> {
        const Q: &str = incident_query!("WHERE i.codename_key = $1 ORDER BY i.is_open DESC, i.created_at DESC LIMIT 1");
        let row = sqlx::query(Q).bind(key).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row::incident).transpose()
    }

    async fn list_incidents(
        &self,
        viewer: Viewer,
        limit: u32,
        after: Option<(Timestamp, Uuid)>,
    ) -> Result<Vec<Incident>> {
        const Q: &str = incident_query!(
            "WHERE ($1 OR NOT i.sealed OR EXISTS (
                SELECT 1 FROM memberships m
                WHERE m.incident_id = i.id AND m.user_id = $2 AND m.ended_at IS NULL))
               AND ($4 IS NULL OR i.created_at < $4 OR (i.created_at = $4 AND i.id < $5))
             ORDER BY i.created_at DESC, i.id DESC LIMIT $3",
        );
        let rows = sqlx::query(Q)
            .bind(viewer.sees_all)
            .bind(viewer.user_id)
            .bind(i64::from(limit))
            .bind(after.map(|(at, _)| to_micros(at)))
            .bind(after.map(|(_, id)| id))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row::incident).collect()
    }

    async fn update_incident(&self, i: &Incident, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE incidents SET status = $2, is_open = $3, severity = $4, title = $5, description = $6,
                                  updated_at = $7
             WHERE id = $1",
        )
        .bind(i.id)
        .bind(i.status.as_str())
        .bind(i.status.is_open())
        .bind(severity_col(i.severity))
        .bind(&i.title)
        .bind(&i.description)
        .bind(to_micros(i.updated_at))
        .execute(&mut *tx)
        .await;
        match done {
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("codename")),
            Ok(r) if r.rows_affected() == 0 => return Err(StoreError::NotFound("incident")),
            r => r?,
        };
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn memberships(&self, incident: Uuid) -> Result<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT m.id, m.incident_id, m.user_id, u.name AS user_name, m.role, m.started_at, m.ended_at
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.incident_id = $1 ORDER BY m.started_at, u.name COLLATE \"C\"",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row::membership).collect()
    }

    async fn active_roles(&self, incident: Uuid, user: Uuid) -> Result<Vec<Role>> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT role FROM memberships WHERE incident_id = $1 AND user_id = $2 AND ended_at IS NULL",
        )
        .bind(incident)
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        roles(&names)
    }

    async fn add_membership(&self, m: &Membership, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        if m.role.single_holder() {
            sqlx::query(
                "UPDATE memberships SET ended_at = $3 WHERE incident_id = $1 AND role = $2 AND ended_at IS NULL",
            )
            .bind(m.incident_id)
            .bind(m.role.as_str())
            .bind(to_micros(m.started_at))
            .execute(&mut *tx)
            .await?;
        }
        insert_membership(&mut tx, m).await?;
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn end_membership(
        &self,
        incident: Uuid,
        user: Uuid,
        role: Role,
        at: Timestamp,
        audit: AuditDraft,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE memberships SET ended_at = $4
             WHERE incident_id = $1 AND user_id = $2 AND role = $3 AND ended_at IS NULL",
        )
        .bind(incident)
        .bind(user)
        .bind(role.as_str())
        .bind(to_micros(at))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn tasks(&self, incident: Uuid) -> Result<Vec<Task>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, step, key, title, status, owner_role, assignee, check_items, override_reason,
                    updated_at
             FROM tasks WHERE incident_id = $1 ORDER BY step",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row::task).collect()
    }

    async fn tasks_assigned_to(&self, user: Uuid, limit: u32) -> Result<Vec<Task>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, step, key, title, status, owner_role, assignee, check_items, override_reason,
                    updated_at
             FROM tasks WHERE assignee = $1 ORDER BY incident_id, step LIMIT $2",
        )
        .bind(user)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row::task).collect()
    }

    async fn update_task(&self, t: &Task, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE tasks SET status = $3, assignee = $4, override_reason = $5, updated_at = $6
             WHERE id = $1 AND incident_id = $2",
        )
        .bind(t.id)
        .bind(t.incident_id)
        .bind(t.status.as_str())
        .bind(t.assignee)
        .bind(&t.override_reason)
        .bind(to_micros(t.updated_at))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound("task"));
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn decisions(&self, incident: Uuid) -> Result<Vec<Decision>> {
        let rows = sqlx::query(
            "SELECT d.name, d.value, d.note, d.decided_by, u.name AS decided_by_name, d.decided_at
             FROM decisions d JOIN users u ON u.id = d.decided_by
             WHERE d.incident_id = $1 ORDER BY d.decided_at",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row::decision).collect()
    }

    async fn record_decision(&self, incident: Uuid, d: &Decision, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO decisions (incident_id, name, value, note, decided_by, decided_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (incident_id, name) DO UPDATE
             SET value = excluded.value, note = excluded.note, decided_by = excluded.decided_by,
                 decided_at = excluded.decided_at",
        )
        .bind(incident)
        .bind(&d.name)
        .bind(d.value)
        .bind(&d.note)
        .bind(d.decided_by)
        .bind(to_micros(d.decided_at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn append_audit(&self, audit: AuditDraft) -> Result<i64> {
        let mut tx = self.begin().await?;
        let seq = append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(seq)
    }

    async fn audit_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject, payload, prev_hash, hash
             FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    record: AuditRecord {
                        seq: r.try_get("seq")?,
                        at_micros: r.try_get("at")?,
                        actor: r.try_get("actor")?,
                        action: r.try_get("action")?,
                        subject: r.try_get("subject")?,
                        payload: r.try_get("payload")?,
                    },
                    prev_hash: r.try_get("prev_hash")?,
                    hash: r.try_get("hash")?,
                })
            })
            .collect()
    }
}

async fn insert_task(conn: &mut PgConnection, t: &Task) -> Result<()> {
    let step = i32::try_from(t.step).map_err(|_| StoreError::corrupt(format!("step {}", t.step)))?;
    sqlx::query(
        "INSERT INTO tasks (id, incident_id, step, key, title, status, owner_role, assignee, check_items,
                            override_reason, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(t.id)
    .bind(t.incident_id)
    .bind(step)
    .bind(&t.key)
    .bind(&t.title)
    .bind(t.status.as_str())
    .bind(t.owner_role.as_str())
    .bind(t.assignee)
    .bind(Json(&t.check_items))
    .bind(&t.override_reason)
    .bind(to_micros(t.updated_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_membership(conn: &mut PgConnection, m: &Membership) -> Result<()> {
    sqlx::query(
        "INSERT INTO memberships (id, incident_id, user_id, role, started_at, ended_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(m.id)
    .bind(m.incident_id)
    .bind(m.user_id)
    .bind(m.role.as_str())
    .bind(to_micros(m.started_at))
    .bind(m.ended_at.map(to_micros))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
