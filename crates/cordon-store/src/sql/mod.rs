//! The store, written once for both databases: every query and transaction of every storage
//! trait, over [`Backend`] (what differs between SQLite and PostgreSQL: binding, reading, a
//! few words of SQL, the audit chain's lock).
//!
//! Each change is written with its audit entry in one transaction ([`append_in`]); what must
//! happen once when several nodes race (a move, a send, a claim) is a conditional `UPDATE`
//! whose rows affected decide.

use cordon_core::Timestamp;
use cordon_core::audit::{AuditRecord, GENESIS, entry_hash};
use cordon_core::clock::{from_micros, to_micros};
use cordon_core::incident::{Decision, Incident, Membership};
use cordon_core::role::Role;
use cordon_core::task::Task;
use cordon_core::user::User;
use serde::Deserialize;
use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};
use uuid::Uuid;

mod accounts;
mod activity;
mod comms;
mod evidence;
mod feed;
mod handles;
mod identity;
mod oidc;
mod paging;
mod registers;
mod room;
mod seen;
mod sessions;
mod timeline;

use crate::dialect::{Backend, Cols, Conn, Sql, sql, sql_built};
use crate::error::conflict_on_unique;
use crate::rows;
use crate::{
    AuditDraft, AuditEntry, IncidentLookup, IncidentQuery, IncidentView, ListedIncident, NewIncident, NewToken, Result,
    Store, StoreError, Viewer,
};

/// The store on database `B`: a writer pool and a reader pool (one pool twice on PostgreSQL;
/// on SQLite one writer connection and several readers).
pub struct SqlStore<B: Backend> {
    pub(crate) writer: Pool<B>,
    pub(crate) reader: Pool<B>,
}

impl<B: Backend> Clone for SqlStore<B> {
    fn clone(&self) -> Self {
        Self {
            writer: self.writer.clone(),
            reader: self.reader.clone(),
        }
    }
}

impl<B: Backend> std::fmt::Debug for SqlStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore").field("backend", &B::LABEL).finish()
    }
}

impl<B: Backend> SqlStore<B> {
    /// Closes the pools, waiting for connections to be returned.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    pub(crate) async fn begin(&self) -> Result<Transaction<'static, B>> {
        Ok(self.writer.begin().await?)
    }

    /// Runs one statement and appends its audit entry, in one transaction.
    pub(crate) async fn write_audited(&self, q: Sql<'_>, audit: &AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        q.execute(&mut *tx).await?;
        append_in(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs one statement and, when it changed a row, appends its audit entry, in one
    /// transaction; whether it changed one (when not, nothing is recorded).
    pub(crate) async fn change_audited(&self, q: Sql<'_>, audit: &AuditDraft) -> Result<bool> {
        let mut tx = self.begin().await?;
        if q.execute(&mut *tx).await? == 0 {
            return Ok(false);
        }
        append_in(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A connection for reads.
    pub(crate) async fn read(&self) -> Result<PoolConnection<B>> {
        Ok(self.reader.acquire().await?)
    }
}

/// Appends one audit entry inside the caller's transaction; returns its sequence number and
/// hash. Takes the audit chain's lock first ([`Conn::lock_audit_chain`]), so the head read here
/// is the head this entry links to on every node.
pub(crate) async fn append_entry<C: Conn>(conn: &mut C, draft: &AuditDraft) -> Result<(i64, [u8; 32])> {
    conn.lock_audit_chain().await?;
    let last = sql("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await?;
    let (seq, prev) = match last {
        Some(row) => {
            let hash: Vec<u8> = row.get("hash")?;
            let prev: [u8; 32] = hash
                .try_into()
                .map_err(|_| StoreError::corrupt("audit hash is not 32 bytes"))?;
            (row.int("seq")? + 1, prev)
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
    sql(
        "INSERT INTO audit_log (seq, at, actor, action, subject, payload, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(record.at_micros)
    .bind(record.actor)
    .bind(record.action)
    .bind(record.subject)
    .bind(record.payload)
    .bind(&prev[..])
    .bind(&hash[..])
    .execute(conn)
    .await?;
    Ok((seq, hash))
}

/// Appends one audit entry inside the caller's transaction.
pub(crate) async fn append_in<C: Conn>(conn: &mut C, draft: &AuditDraft) -> Result<i64> {
    Ok(append_entry(conn, draft).await?.0)
}

/// `SELECT` of users (aliased `u`) with their groups as a JSON list, followed by `tail`.
fn user_query<B: Backend>(tail: &str) -> String {
    format!(
        "SELECT u.id, u.name, u.email, u.pgp_key, u.is_admin, u.created_at, u.disabled_at,
                (SELECT {} FROM user_groups g WHERE g.user_id = u.id) AS groups
         FROM users u {tail}",
        B::json_agg("g.group_name", "")
    )
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

/// Looking an incident up by id (`$1`), or by codename (the open one, else the newest closed
/// one).
fn incident_lookup(by: IncidentLookup<'_>) -> &'static str {
    match by {
        IncidentLookup::Id(_) => "WHERE i.id = $1",
        IncidentLookup::Codename(_) => "WHERE i.codename_key = $1 ORDER BY i.is_open DESC, i.created_at DESC LIMIT 1",
    }
}

/// The roles viewer `$2` holds now in incident `i`, as a JSON list column `viewer_roles`.
fn viewer_roles_column<B: Backend>() -> String {
    format!(
        "(SELECT {} FROM memberships m
          WHERE m.incident_id = i.id AND m.user_id = $2 AND m.ended_at IS NULL) AS viewer_roles",
        B::json_agg("m.role", "")
    )
}

/// An incident looked up with [`incident_lookup`] and viewer `$2`, with `columns` besides its
/// own.
fn incident_lookup_query<'a>(by: IncidentLookup<'a>, viewer: Uuid, columns: &str) -> crate::dialect::Sql<'a> {
    let q = sql_built(format!(
        "SELECT {}, {columns} FROM incidents i {}",
        incident_columns!(),
        incident_lookup(by)
    ));
    match by {
        IncidentLookup::Id(id) => q.bind(id),
        IncidentLookup::Codename(k) => q.bind(k),
    }
    .bind(viewer)
}

/// Inserts a user and its groups; [`StoreError::Conflict`] `user` when the name is taken.
pub(crate) async fn insert_user<C: Conn>(conn: &mut C, user: &User) -> Result<()> {
    sql("INSERT INTO users (id, name, email, pgp_key, is_admin, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(user.id)
        .bind(&user.name)
        .bind(&user.email)
        .bind(&user.pgp_key)
        .bind(user.is_admin)
        .bind(to_micros(user.created_at))
        .execute(&mut *conn)
        .await
        .map_err(conflict_on_unique("user"))?;
    for g in &user.groups {
        sql("INSERT INTO user_groups (user_id, group_name) VALUES ($1, $2)")
            .bind(user.id)
            .bind(g)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

fn user_from_row(r: &impl Cols) -> Result<User> {
    let mut groups: Vec<String> = r.json("groups")?;
    groups.sort();
    Ok(User {
        id: r.uuid("id")?,
        name: r.text("name")?,
        email: r.get("email")?,
        pgp_key: r.get("pgp_key")?,
        groups,
        is_admin: r.flag("is_admin")?,
        created_at: r.time("created_at")?,
        disabled_at: r.opt_time("disabled_at")?,
    })
}

fn roles(names: &[String]) -> Result<Vec<Role>> {
    names
        .iter()
        .map(|r| r.parse::<Role>().map_err(StoreError::corrupt))
        .collect()
}

/// A flag inside a JSON document the database built: `true`/`false` (PostgreSQL) or `1`/`0`
/// (SQLite).
#[derive(Deserialize)]
#[serde(untagged)]
enum JsonFlag {
    Bool(bool),
    Int(i64),
}

impl JsonFlag {
    fn get(self) -> bool {
        match self {
            JsonFlag::Bool(b) => b,
            JsonFlag::Int(i) => i != 0,
        }
    }
}

/// One member of `incident_view`'s `members` JSON array.
type MemberTuple = (Uuid, Uuid, String, String, i64, Option<i64>);
/// One member of `incident_view`'s `decisions` JSON array.
type DecisionTuple = (String, JsonFlag, String, Uuid, String, i64);

#[async_trait::async_trait]
impl<B: Backend> Store for SqlStore<B> {
    fn backend(&self) -> &'static str {
        B::LABEL
    }

    async fn count_users(&self) -> Result<u64> {
        sql("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&mut *self.read().await?)
            .await?
            .count("n")
    }

    async fn create_user(&self, user: &User, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_user(&mut *tx, user).await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        sql_built(user_query::<B>("WHERE u.name = $1"))
            .bind(name)
            .map_optional(&mut *self.read().await?, user_from_row)
            .await
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>> {
        sql_built(user_query::<B>("WHERE u.id = $1"))
            .bind(id)
            .map_optional(&mut *self.read().await?, user_from_row)
            .await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        sql_built(user_query::<B>("ORDER BY u.name COLLATE \"C\""))
            .map_all(&mut *self.read().await?, user_from_row)
            .await
    }

    async fn add_token(&self, token: &NewToken, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at, id, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&token.hash[..])
        .bind(token.user_id)
        .bind(&token.label)
        .bind(to_micros(token.created_at))
        .bind(token.id)
        .bind(token.expires_at.map(to_micros))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("token"))?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_incident(&self, new: &NewIncident, audit: AuditDraft) -> Result<()> {
        let i = &new.incident;
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO incidents (id, codename_key, kind, severity, status, is_open, sealed, title, description,
                                    room, playbook, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(i.id)
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
        .bind(i.created_by)
        .bind(to_micros(i.created_at))
        .bind(to_micros(i.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("codename"))?;
        for t in &new.tasks {
            insert_task(&mut *tx, t).await?;
        }
        for m in &new.members {
            insert_membership(&mut *tx, m).await?;
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incident(&self, id: Uuid) -> Result<Option<Incident>> {
        sql(incident_query!("WHERE i.id = $1"))
            .bind(id)
            .map_optional(&mut *self.read().await?, rows::incident)
            .await
    }

    async fn incident_view(&self, by: IncidentLookup<'_>, viewer: Uuid) -> Result<Option<IncidentView>> {
        let columns = format!(
            "{},
             (SELECT {} FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.incident_id = i.id) AS members,
             (SELECT {} FROM decisions d JOIN users u ON u.id = d.decided_by WHERE d.incident_id = i.id) AS decisions",
            viewer_roles_column::<B>(),
            B::json_agg(
                &B::json_tuple("m.id, m.user_id, u.name, m.role, m.started_at, m.ended_at"),
                ""
            ),
            B::json_agg(
                &B::json_tuple("d.name, d.value, d.note, d.decided_by, u.name, d.decided_at"),
                ""
            ),
        );
        let Some(row) = incident_lookup_query(by, viewer, &columns)
            .fetch_optional(&mut *self.read().await?)
            .await?
        else {
            return Ok(None);
        };
        let incident = rows::incident(&row)?;
        let viewer_roles = roles(&row.json::<Vec<String>>("viewer_roles")?)?;
        let members_raw: Vec<MemberTuple> = row.json("members")?;
        let decisions_raw: Vec<DecisionTuple> = row.json("decisions")?;
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
                value: value.get(),
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
        let Some(row) = incident_lookup_query(by, viewer, &viewer_roles_column::<B>())
            .fetch_optional(&mut *self.read().await?)
            .await?
        else {
            return Ok(None);
        };
        let roles = roles(&row.json::<Vec<String>>("viewer_roles")?)?;
        Ok(Some((rows::incident(&row)?, roles)))
    }

    async fn incident_by_codename(&self, key: &str) -> Result<Option<Incident>> {
        sql(incident_query!(
            "WHERE i.codename_key = $1 ORDER BY i.is_open DESC, i.created_at DESC LIMIT 1"
        ))
        .bind(key)
        .map_optional(&mut *self.read().await?, rows::incident)
        .await
    }

    async fn list_incidents(
        &self,
        viewer: Viewer,
        query: IncidentQuery,
        limit: u32,
        after: Option<(Timestamp, Uuid)>,
    ) -> Result<Vec<ListedIncident>> {
        sql(concat!(
            "SELECT ",
            incident_columns!(),
            ", (SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id
                WHERE m.incident_id = i.id AND m.role = 'incident_commander' AND m.ended_at IS NULL
                ORDER BY m.started_at LIMIT 1) AS commander
             FROM incidents i
             WHERE ($1 OR NOT i.sealed OR EXISTS (
                SELECT 1 FROM memberships m
                WHERE m.incident_id = i.id AND m.user_id = $2 AND m.ended_at IS NULL))
               AND ($4 IS NULL OR i.created_at < $4 OR (i.created_at = $4 AND i.id < $5))
               AND ($6 IS NULL OR i.status = $6)
               AND ($7 IS NULL OR i.severity = $7)
             ORDER BY i.created_at DESC, i.id DESC LIMIT $3",
        ))
        .bind(viewer.sees_all)
        .bind(viewer.user_id)
        .bind(limit)
        .bind(after.map(|(at, _)| to_micros(at)))
        .bind(after.map(|(_, id)| id))
        .bind(query.status.map(|s| s.as_str()))
        .bind(query.severity.map(|s| i64::from(s.level())))
        .map_all(&mut *self.read().await?, |r| {
            Ok(ListedIncident {
                incident: rows::incident(r)?,
                commander: r.opt_text("commander")?,
            })
        })
        .await
    }

    async fn update_incident(&self, i: &Incident, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sql(
            "UPDATE incidents SET status = $2, is_open = $3, severity = $4, title = $5, description = $6,
                                  updated_at = $7
             WHERE id = $1",
        )
        .bind(i.id)
        .bind(i.status.as_str())
        .bind(i.status.is_open())
        .bind(i64::from(i.severity.level()))
        .bind(&i.title)
        .bind(&i.description)
        .bind(to_micros(i.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("codename"))?;
        if n == 0 {
            return Err(StoreError::NotFound("incident"));
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn memberships(&self, incident: Uuid) -> Result<Vec<Membership>> {
        sql(
            "SELECT m.id, m.incident_id, m.user_id, u.name AS user_name, m.role, m.started_at, m.ended_at
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.incident_id = $1 ORDER BY m.started_at, u.name COLLATE \"C\"",
        )
        .bind(incident)
        .map_all(&mut *self.read().await?, rows::membership)
        .await
    }

    async fn active_roles(&self, incident: Uuid, user: Uuid) -> Result<Vec<Role>> {
        sql("SELECT role FROM memberships WHERE incident_id = $1 AND user_id = $2 AND ended_at IS NULL")
            .bind(incident)
            .bind(user)
            .map_all(&mut *self.read().await?, |r| r.parse::<Role>("role"))
            .await
    }

    async fn add_membership(&self, m: &Membership, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        if m.role.single_holder() {
            sql("UPDATE memberships SET ended_at = $3 WHERE incident_id = $1 AND role = $2 AND ended_at IS NULL")
                .bind(m.incident_id)
                .bind(m.role.as_str())
                .bind(to_micros(m.started_at))
                .execute(&mut *tx)
                .await?;
        }
        insert_membership(&mut *tx, m).await?;
        append_in(&mut *tx, &audit).await?;
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
        self.change_audited(
            sql("UPDATE memberships SET ended_at = $4
             WHERE incident_id = $1 AND user_id = $2 AND role = $3 AND ended_at IS NULL")
            .bind(incident)
            .bind(user)
            .bind(role.as_str())
            .bind(to_micros(at)),
            &audit,
        )
        .await
    }

    async fn tasks(&self, incident: Uuid) -> Result<Vec<Task>> {
        sql(
            "SELECT id, incident_id, step, key, title, status, owner_role, assignee, check_items, override_reason,
                    updated_at
             FROM tasks WHERE incident_id = $1 ORDER BY step",
        )
        .bind(incident)
        .map_all(&mut *self.read().await?, rows::task)
        .await
    }

    async fn tasks_assigned_to(&self, user: Uuid, limit: u32) -> Result<Vec<Task>> {
        sql(
            "SELECT id, incident_id, step, key, title, status, owner_role, assignee, check_items, override_reason,
                    updated_at
             FROM tasks WHERE assignee = $1 ORDER BY incident_id, step LIMIT $2",
        )
        .bind(user)
        .bind(limit)
        .map_all(&mut *self.read().await?, rows::task)
        .await
    }

    async fn update_task(&self, t: &Task, audit: AuditDraft) -> Result<()> {
        if !self
            .change_audited(
                sql(
                    "UPDATE tasks SET status = $3, assignee = $4, override_reason = $5, updated_at = $6
             WHERE id = $1 AND incident_id = $2",
                )
                .bind(t.id)
                .bind(t.incident_id)
                .bind(t.status.as_str())
                .bind(t.assignee)
                .bind(&t.override_reason)
                .bind(to_micros(t.updated_at)),
                &audit,
            )
            .await?
        {
            return Err(StoreError::NotFound("task"));
        }
        Ok(())
    }

    async fn decisions(&self, incident: Uuid) -> Result<Vec<Decision>> {
        sql(
            "SELECT d.name, d.value, d.note, d.decided_by, u.name AS decided_by_name, d.decided_at
             FROM decisions d JOIN users u ON u.id = d.decided_by
             WHERE d.incident_id = $1 ORDER BY d.decided_at",
        )
        .bind(incident)
        .map_all(&mut *self.read().await?, rows::decision)
        .await
    }

    async fn record_decision(&self, incident: Uuid, d: &Decision, audit: AuditDraft) -> Result<()> {
        self.write_audited(
            sql(
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
            .bind(to_micros(d.decided_at)),
            &audit,
        )
        .await?;
        Ok(())
    }

    async fn append_audit(&self, audit: AuditDraft) -> Result<i64> {
        let mut tx = self.begin().await?;
        let seq = append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(seq)
    }

    async fn audit_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        sql("SELECT seq, at, actor, action, subject, payload, prev_hash, hash
             FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(after)
        .bind(limit)
        .map_all(&mut *self.read().await?, |r| {
            Ok(AuditEntry {
                record: AuditRecord {
                    seq: r.int("seq")?,
                    at_micros: r.int("at")?,
                    actor: r.text("actor")?,
                    action: r.text("action")?,
                    subject: r.text("subject")?,
                    payload: r.text("payload")?,
                },
                prev_hash: r.get("prev_hash")?,
                hash: r.get("hash")?,
            })
        })
        .await
    }
}

async fn insert_task<C: Conn>(conn: &mut C, t: &Task) -> Result<()> {
    sql(
        "INSERT INTO tasks (id, incident_id, step, key, title, status, owner_role, assignee, check_items,
                            override_reason, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(t.id)
    .bind(t.incident_id)
    .bind(t.step)
    .bind(&t.key)
    .bind(&t.title)
    .bind(t.status.as_str())
    .bind(t.owner_role.as_str())
    .bind(t.assignee)
    .bind_json(&t.check_items)
    .bind(&t.override_reason)
    .bind(to_micros(t.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

async fn insert_membership<C: Conn>(conn: &mut C, m: &Membership) -> Result<()> {
    sql(
        "INSERT INTO memberships (id, incident_id, user_id, role, started_at, ended_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(m.id)
    .bind(m.incident_id)
    .bind(m.user_id)
    .bind(m.role.as_str())
    .bind(to_micros(m.started_at))
    .bind(m.ended_at.map(to_micros))
    .execute(conn)
    .await?;
    Ok(())
}
