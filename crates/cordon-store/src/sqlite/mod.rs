//! The embedded SQLite backend: WAL, foreign keys, one writer connection and a reader pool.
//!
//! Writes go through a single connection so transactions never contend for SQLite's write lock;
//! reads run concurrently on the reader pool (WAL lets them see the last committed state).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use cordon_core::Timestamp;
use cordon_core::audit::{AuditRecord, GENESIS, entry_hash};
use cordon_core::clock::{from_micros, to_micros};
use cordon_core::incident::{Decision, Incident, Membership};
use cordon_core::role::Role;
use cordon_core::task::Task;
use cordon_core::user::User;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

mod comms;
mod evidence;
mod handles;
mod identity;
mod paging;
mod registers;
mod seen;
mod timeline;

pub(crate) use crate::error::{conflict_on_unique, is_unique_violation};
use crate::rows as from_row;
use crate::{
    AuditDraft, AuditEntry, IncidentLookup, IncidentView, NewIncident, NewToken, Result, Store, StoreError, Viewer,
};

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        let opts = SqliteConnectOptions::new().filename(path);
        Self::open_with(opts).await
    }

    /// Opens a `sqlite://…` URL.
    pub async fn open_url(url: &str) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)?;
        Self::open_with(opts).await
    }

    async fn open_with(opts: SqliteConnectOptions) -> Result<Self> {
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(opts.clone())
            .await?;
        refuse_newer_schema(&writer).await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(opts.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    /// The newest schema version this binary knows.
    pub fn binary_schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    async fn begin(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin().await?)
    }
}

async fn refuse_newer_schema(pool: &SqlitePool) -> Result<()> {
    let has_table: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_optional(pool)
            .await?;
    if has_table.is_none() {
        return Ok(());
    }
    let database: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await?;
    let binary = SqliteStore::binary_schema_version();
    match database {
        Some(database) if database > binary => Err(StoreError::SchemaTooNew { database, binary }),
        _ => Ok(()),
    }
}

pub(crate) fn uuid_col(r: &SqliteRow, col: &str) -> Result<Uuid> {
    let s: String = r.try_get(col)?;
    Uuid::parse_str(&s).map_err(|e| StoreError::corrupt(format!("{col}: {e}")))
}

pub(crate) fn parse_col<T: FromStr>(r: &SqliteRow, col: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let s: String = r.try_get(col)?;
    s.parse::<T>().map_err(|e| StoreError::corrupt(format!("{col}: {e}")))
}

/// Appends one audit entry inside the caller's transaction.
pub(crate) async fn append_in(conn: &mut SqliteConnection, draft: &AuditDraft) -> Result<i64> {
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
    Ok(seq)
}

/// `SELECT` of users with their groups, followed by a literal tail.
macro_rules! user_query {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT u.id, u.name, u.email, u.pgp_key, u.is_admin, u.created_at, u.disabled_at,
                    (SELECT group_concat(g.group_name, ',') FROM user_groups g WHERE g.user_id = u.id) AS groups
             FROM users u ",
            $tail
        )
    };
}

/// `SELECT` of incidents (aliased `i`), followed by a literal tail.
macro_rules! incident_query {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT i.id, i.codename_key, i.kind, i.severity, i.status, i.sealed, i.title, i.description, i.room,
                    i.playbook, i.created_by, i.created_at, i.updated_at
             FROM incidents i ",
            $tail
        )
    };
}

fn user_from_row(r: &SqliteRow) -> Result<User> {
    let groups: Option<String> = r.try_get("groups")?;
    let mut groups: Vec<String> = groups
        .map(|g| g.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    groups.sort();
    Ok(User {
        id: uuid_col(r, "id")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        pgp_key: r.try_get("pgp_key")?,
        groups,
        is_admin: r.try_get("is_admin")?,
        created_at: from_micros(r.try_get("created_at")?),
        disabled_at: r.try_get::<Option<i64>, _>("disabled_at")?.map(from_micros),
    })
}

/// The `viewer_roles` column: the roles a viewer holds, comma-separated.
fn viewer_roles(row: &SqliteRow) -> Result<Vec<Role>> {
    let roles: Option<String> = row.try_get("viewer_roles")?;
    roles
        .iter()
        .flat_map(|r| r.split(','))
        .filter(|r| !r.is_empty())
        .map(|r| r.parse::<Role>().map_err(StoreError::corrupt))
        .collect()
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn count_users(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.reader)
            .await?;
        Ok(n as u64)
    }

    async fn create_user(&self, user: &User, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, name, email, pgp_key, is_admin, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user.id.to_string())
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
                .bind(user.id.to_string())
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
        let row = sqlx::query(Q).bind(name).fetch_optional(&self.reader).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>> {
        const Q: &str = user_query!("WHERE u.id = $1");
        let row = sqlx::query(Q).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        const Q: &str = user_query!("ORDER BY u.name");
        let rows = sqlx::query(Q).fetch_all(&self.reader).await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn add_token(&self, token: &NewToken, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at, id, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token.hash.to_vec())
        .bind(token.user_id.to_string())
        .bind(&token.label)
        .bind(to_micros(token.created_at))
        .bind(token.id.to_string())
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
        .bind(i.id.to_string())
        .bind(i.codename.key())
        .bind(i.kind.as_str())
        .bind(i64::from(i.severity.level()))
        .bind(i.status.as_str())
        .bind(i.status.is_open())
        .bind(i.sealed)
        .bind(&i.title)
        .bind(&i.description)
        .bind(&i.room)
        .bind(&i.playbook)
        .bind(i.created_by.to_string())
        .bind(to_micros(i.created_at))
        .bind(to_micros(i.updated_at))
        .execute(&mut *tx)
        .await;
        if let Err(e) = &res
            && is_unique_violation(e)
        {
            return Err(StoreError::Conflict("codename"));
        }
        res?;
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
        let row = sqlx::query(Q).bind(id.to_string()).fetch_optional(&self.reader).await?;
        row.as_ref().map(from_row::incident).transpose()
    }

    async fn incident_view(&self, by: IncidentLookup<'_>, viewer: Uuid) -> Result<Option<IncidentView>> {
        macro_rules! view {
            ($tail:literal) => {
                concat!(
                    "SELECT i.id, i.codename_key, i.kind, i.severity, i.status, i.sealed, i.title, i.description, i.room,
                            i.playbook, i.created_by, i.created_at, i.updated_at,
                            (SELECT group_concat(m.role, ',') FROM memberships m
                             WHERE m.incident_id = i.id AND m.user_id = $2 AND m.ended_at IS NULL) AS viewer_roles,
                            (SELECT json_group_array(json_array(m.id, m.user_id, u.name, m.role, m.started_at, m.ended_at))
                             FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.incident_id = i.id) AS members,
                            (SELECT json_group_array(json_array(d.name, d.value, d.note, d.decided_by, u.name, d.decided_at))
                             FROM decisions d JOIN users u ON u.id = d.decided_by WHERE d.incident_id = i.id) AS decisions
                     FROM incidents i ",
                    $tail
                )
            };
        }
        const BY_ID: &str = view!("WHERE i.id = $1");
        const BY_CODENAME: &str = view!("WHERE i.codename_key = $1 ORDER BY i.is_open DESC, i.created_at DESC LIMIT 1");
        let (q, key) = match by {
            IncidentLookup::Id(id) => (BY_ID, id.to_string()),
            IncidentLookup::Codename(k) => (BY_CODENAME, k.to_owned()),
        };
        let Some(row) = sqlx::query(q)
            .bind(key)
            .bind(viewer.to_string())
            .fetch_optional(&self.reader)
            .await?
        else {
            return Ok(None);
        };
        let incident = from_row::incident(&row)?;
        let viewer_roles = viewer_roles(&row)?;
        let members_json: String = row.try_get("members")?;
        let decisions_json: String = row.try_get("decisions")?;
        let members_raw: Vec<(String, String, String, String, i64, Option<i64>)> =
            serde_json::from_str(&members_json).map_err(|e| StoreError::corrupt(format!("members: {e}")))?;
        let mut members = members_raw
            .into_iter()
            .map(|(id, user, name, role, started, ended)| {
                Ok(Membership {
                    id: Uuid::parse_str(&id).map_err(StoreError::corrupt)?,
                    incident_id: incident.id,
                    user_id: Uuid::parse_str(&user).map_err(StoreError::corrupt)?,
                    user_name: name,
                    role: role.parse::<Role>().map_err(StoreError::corrupt)?,
                    started_at: from_micros(started),
                    ended_at: ended.map(from_micros),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        members.sort_by(|a, b| (a.started_at, &a.user_name).cmp(&(b.started_at, &b.user_name)));
        let decisions_raw: Vec<(String, i64, String, String, String, i64)> =
            serde_json::from_str(&decisions_json).map_err(|e| StoreError::corrupt(format!("decisions: {e}")))?;
        let mut decisions = decisions_raw
            .into_iter()
            .map(|(name, value, note, by, by_name, at)| {
                Ok(Decision {
                    name,
                    value: value != 0,
                    note,
                    decided_by: Uuid::parse_str(&by).map_err(StoreError::corrupt)?,
                    decided_by_name: by_name,
                    decided_at: from_micros(at),
                })
            })
            .collect::<Result<Vec<_>>>()?;
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
            ($tail:literal) => {
                concat!(
                    "SELECT i.id, i.codename_key, i.kind, i.severity, i.status, i.sealed, i.title, i.description, i.room,
                            i.playbook, i.created_by, i.created_at, i.updated_at,
                            (SELECT group_concat(m.role, ',') FROM memberships m
                             WHERE m.incident_id = i.id AND m.user_id = $2 AND m.ended_at IS NULL) AS viewer_roles
                     FROM incidents i ",
                    $tail
                )
            };
        }
        const BY_ID: &str = with_roles!("WHERE i.id = $1");
        const BY_CODENAME: &str =
            with_roles!("WHERE i.codename_key = $1 ORDER BY i.is_open DESC, i.created_at DESC LIMIT 1");
        let (q, key) = match by {
            IncidentLookup::Id(id) => (BY_ID, id.to_string()),
            IncidentLookup::Codename(k) => (BY_CODENAME, k.to_owned()),
        };
        let Some(row) = sqlx::query(q)
            .bind(key)
            .bind(viewer.to_string())
            .fetch_optional(&self.reader)
            .await?
        else {
            return Ok(None);
        };
        let roles = viewer_roles(&row)?;
        Ok(Some((from_row::incident(&row)?, roles)))
    }

    async fn incident_by_codename(&self, key: &str) -> Result<Option<Incident>> {
        const Q: &str = incident_query!("WHERE i.codename_key = $1 ORDER BY i.is_open DESC, i.created_at DESC LIMIT 1");
        let row = sqlx::query(Q).bind(key).fetch_optional(&self.reader).await?;
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
            .bind(viewer.user_id.to_string())
            .bind(i64::from(limit))
            .bind(after.map(|(at, _)| to_micros(at)))
            .bind(after.map(|(_, id)| id.to_string()))
            .fetch_all(&self.reader)
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
        .bind(i.id.to_string())
        .bind(i.status.as_str())
        .bind(i.status.is_open())
        .bind(i64::from(i.severity.level()))
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
             WHERE m.incident_id = $1 ORDER BY m.started_at, u.name",
        )
        .bind(incident.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(from_row::membership).collect()
    }

    async fn active_roles(&self, incident: Uuid, user: Uuid) -> Result<Vec<Role>> {
        let roles: Vec<String> = sqlx::query_scalar(
            "SELECT role FROM memberships WHERE incident_id = $1 AND user_id = $2 AND ended_at IS NULL",
        )
        .bind(incident.to_string())
        .bind(user.to_string())
        .fetch_all(&self.reader)
        .await?;
        roles
            .iter()
            .map(|r| r.parse::<Role>().map_err(StoreError::corrupt))
            .collect()
    }

    async fn add_membership(&self, m: &Membership, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        if m.role.single_holder() {
            sqlx::query(
                "UPDATE memberships SET ended_at = $3 WHERE incident_id = $1 AND role = $2 AND ended_at IS NULL",
            )
            .bind(m.incident_id.to_string())
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
        .bind(incident.to_string())
        .bind(user.to_string())
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
        .bind(incident.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(from_row::task).collect()
    }

    async fn tasks_assigned_to(&self, user: Uuid, limit: u32) -> Result<Vec<Task>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, step, key, title, status, owner_role, assignee, check_items, override_reason,
                    updated_at
             FROM tasks WHERE assignee = $1 ORDER BY incident_id, step LIMIT $2",
        )
        .bind(user.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(from_row::task).collect()
    }

    async fn update_task(&self, t: &Task, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE tasks SET status = $3, assignee = $4, override_reason = $5, updated_at = $6
             WHERE id = $1 AND incident_id = $2",
        )
        .bind(t.id.to_string())
        .bind(t.incident_id.to_string())
        .bind(t.status.as_str())
        .bind(t.assignee.map(|a| a.to_string()))
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
        .bind(incident.to_string())
        .fetch_all(&self.reader)
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
        .bind(incident.to_string())
        .bind(&d.name)
        .bind(d.value)
        .bind(&d.note)
        .bind(d.decided_by.to_string())
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
        .fetch_all(&self.reader)
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

async fn insert_task(conn: &mut SqliteConnection, t: &Task) -> Result<()> {
    let items = serde_json::to_string(&t.check_items).map_err(StoreError::corrupt)?;
    sqlx::query(
        "INSERT INTO tasks (id, incident_id, step, key, title, status, owner_role, assignee, check_items,
                            override_reason, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(t.id.to_string())
    .bind(t.incident_id.to_string())
    .bind(i64::from(t.step))
    .bind(&t.key)
    .bind(&t.title)
    .bind(t.status.as_str())
    .bind(t.owner_role.as_str())
    .bind(t.assignee.map(|a| a.to_string()))
    .bind(items)
    .bind(&t.override_reason)
    .bind(to_micros(t.updated_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_membership(conn: &mut SqliteConnection, m: &Membership) -> Result<()> {
    sqlx::query(
        "INSERT INTO memberships (id, incident_id, user_id, role, started_at, ended_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(m.id.to_string())
    .bind(m.incident_id.to_string())
    .bind(m.user_id.to_string())
    .bind(m.role.as_str())
    .bind(to_micros(m.started_at))
    .bind(m.ended_at.map(to_micros))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
