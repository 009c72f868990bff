//! [`PagingStore`] on both databases: schedules, escalation policies, contact methods and
//! their sealed secrets, pages with their durable escalation deadlines, notification attempts,
//! one-time acknowledgement links, and chat rooms.
//!
//! Correct with several nodes running the paging engine at once on PostgreSQL (on SQLite the
//! one writer connection runs the same statements one after another):
//! - a deadline flips to done with a conditional UPDATE (`NOT done`) whose rows affected decide
//!   whether to escalate: a second node's UPDATE waits for the first to commit, re-checks
//!   `NOT done` and changes nothing, so each step escalates once;
//! - a notification is claimed with `FOR UPDATE SKIP LOCKED` ([`Backend::SKIP_LOCKED`]), so a
//!   node never waits on, nor takes, a notification another node is claiming or recording; once
//!   the claim commits, its lease keeps it out of `next_attempt_at <= now`;
//! - an ack link is used with one conditional UPDATE: of two uses at once (on any node), one
//!   changes the row;
//! - a named secret is created with `ON CONFLICT DO NOTHING`, then read: of two nodes creating
//!   it at once, the second insert waits for the first to commit, does nothing, and both read
//!   the first one's value.
//!
//! What the engine reads right after writing it (due deadlines and notifications, a page's
//! notifications, ack links, secrets) is read through the writer: on SQLite its one connection,
//! on PostgreSQL the one pool readers share.

use cordon_core::Timestamp;
use cordon_core::clock::to_micros;
use sqlx::pool::PoolConnection;
use uuid::Uuid;

use super::{SqlStore, append_in};
use crate::dialect::{Backend, Cols, Conn, sql, sql_built};
use crate::error::conflict_on_unique;
use crate::paging::{
    AckLinkRow, Attempt, ContactMethod, DeadlineRow, NotificationRow, PageQuery, PageRow, PagingStore,
};
use crate::rows;
use crate::{AuditDraft, Result, StoreError, Viewer};

async fn insert_notifications<C: Conn>(conn: &mut C, ns: &[NotificationRow]) -> Result<()> {
    for n in ns {
        sql(
            "INSERT INTO notifications (id, page_id, step, level, user_name, channel, address, status, attempts,
                                        next_attempt_at, error, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (page_id, step, user_name, channel, address) DO NOTHING",
        )
        .bind(n.id)
        .bind(n.page_id)
        .bind(n.step)
        .bind(n.level)
        .bind(&n.user_name)
        .bind(&n.channel)
        .bind(&n.address)
        .bind(&n.status)
        .bind(n.attempts)
        .bind(n.next_attempt_at.map(to_micros))
        .bind(&n.error)
        .bind(to_micros(n.created_at))
        .bind(to_micros(n.updated_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn insert_deadline<C: Conn>(conn: &mut C, d: &DeadlineRow) -> Result<()> {
    sql(
        "INSERT INTO page_deadlines (page_id, step, due_at, done) VALUES ($1, $2, $3, FALSE)
         ON CONFLICT (page_id, step) DO NOTHING",
    )
    .bind(d.page_id)
    .bind(d.step)
    .bind(to_micros(d.due_at))
    .execute(conn)
    .await?;
    Ok(())
}

async fn write_page<C: Conn>(conn: &mut C, p: &PageRow) -> Result<()> {
    let n = sql("UPDATE pages SET status = $2, state = $3, updated_at = $4 WHERE id = $1")
        .bind(p.id)
        .bind(&p.status)
        .bind(&p.state)
        .bind(to_micros(p.updated_at))
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("page"));
    }
    Ok(())
}

const UPSERT_SCHEDULE: &str = "INSERT INTO schedules (name, spec, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at";
const UPSERT_POLICY: &str = "INSERT INTO escalation_policies (name, spec, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at";

/// `SELECT` of pages, followed by a literal tail.
macro_rules! page_query {
    ($tail:literal) => {
        concat!(
            "SELECT id, incident_id, status, state, created_by, role, created_at, updated_at FROM pages ",
            $tail
        )
    };
}

/// `SELECT` of notifications, followed by a literal tail.
macro_rules! notification_query {
    ($tail:literal) => {
        concat!(
            "SELECT id, page_id, step, level, user_name, channel, address, status, attempts, next_attempt_at, error,
                    created_at, updated_at
             FROM notifications ",
            $tail
        )
    };
}

/// A connection of the writer, for what must see the last write (see the module's doc).
async fn writer<B: Backend>(store: &SqlStore<B>) -> Result<PoolConnection<B>> {
    Ok(store.writer.acquire().await?)
}

/// Creates or replaces a named spec (a schedule or a policy) with its audit entry.
async fn upsert_spec<B: Backend>(
    store: &SqlStore<B>,
    q: &'static str,
    name: &str,
    spec: &str,
    at: Timestamp,
    audit: AuditDraft,
) -> Result<()> {
    store
        .write_audited(sql(q).bind(name).bind(spec).bind(to_micros(at)), &audit)
        .await?;
    Ok(())
}

/// Named specs (schedules or policies), by name in byte order.
async fn specs<B: Backend>(store: &SqlStore<B>, q: &'static str) -> Result<Vec<(String, String)>> {
    sql(q)
        .map_all(&mut *store.read().await?, |r| Ok((r.text("name")?, r.text("spec")?)))
        .await
}

async fn insert_contact<B: Backend>(
    store: &SqlStore<B>,
    c: &ContactMethod,
    sealed_secret: Option<&[u8]>,
    audit: AuditDraft,
) -> Result<()> {
    let mut tx = store.begin().await?;
    sql(
        "INSERT INTO contact_methods (id, user_id, kind, address, created_at, secret_sealed)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(c.id)
    .bind(c.user_id)
    .bind(&c.kind)
    .bind(&c.address)
    .bind(to_micros(c.created_at))
    .bind(sealed_secret)
    .execute(&mut *tx)
    .await
    .map_err(conflict_on_unique("contact method"))?;
    append_in(&mut *tx, &audit).await?;
    tx.commit().await?;
    Ok(())
}

#[async_trait::async_trait]
impl<B: Backend> PagingStore for SqlStore<B> {
    async fn put_schedule(&self, name: &str, spec: &str, at: Timestamp, audit: AuditDraft) -> Result<()> {
        upsert_spec(self, UPSERT_SCHEDULE, name, spec, at, audit).await
    }

    async fn schedules(&self) -> Result<Vec<(String, String)>> {
        specs(self, "SELECT name, spec FROM schedules ORDER BY name COLLATE \"C\"").await
    }

    async fn put_policy(&self, name: &str, spec: &str, at: Timestamp, audit: AuditDraft) -> Result<()> {
        upsert_spec(self, UPSERT_POLICY, name, spec, at, audit).await
    }

    async fn policy(&self, name: &str) -> Result<Option<String>> {
        sql("SELECT spec FROM escalation_policies WHERE name = $1")
            .bind(name)
            .map_optional(&mut *self.read().await?, |r| r.text("spec"))
            .await
    }

    async fn policies(&self) -> Result<Vec<(String, String)>> {
        specs(
            self,
            "SELECT name, spec FROM escalation_policies ORDER BY name COLLATE \"C\"",
        )
        .await
    }

    async fn add_contact(&self, c: &ContactMethod, audit: AuditDraft) -> Result<()> {
        insert_contact(self, c, None, audit).await
    }

    async fn add_contact_with_secret(&self, c: &ContactMethod, sealed_secret: &[u8], audit: AuditDraft) -> Result<()> {
        insert_contact(self, c, Some(sealed_secret), audit).await
    }

    async fn set_contact_secret(&self, id: Uuid, sealed_secret: &[u8], audit: AuditDraft) -> Result<bool> {
        self.change_audited(
            sql("UPDATE contact_methods SET secret_sealed = $1 WHERE id = $2")
                .bind(sealed_secret)
                .bind(id),
            &audit,
        )
        .await
    }

    async fn contact_secret(&self, user: Uuid, kind: &str, address: &str) -> Result<Option<(Uuid, Option<Vec<u8>>)>> {
        sql("SELECT id, secret_sealed FROM contact_methods WHERE user_id = $1 AND kind = $2 AND address = $3")
            .bind(user)
            .bind(kind)
            .bind(address)
            .map_optional(&mut *self.read().await?, |r| {
                Ok((r.uuid("id")?, r.get("secret_sealed")?))
            })
            .await
    }

    async fn contacts(&self, user: Uuid) -> Result<Vec<ContactMethod>> {
        sql(
            "SELECT id, user_id, kind, address, created_at FROM contact_methods WHERE user_id = $1
             ORDER BY created_at, id",
        )
        .bind(user)
        .map_all(&mut *self.read().await?, rows::contact_method)
        .await
    }

    async fn create_page(
        &self,
        page: &PageRow,
        deadline: Option<DeadlineRow>,
        notifications: &[NotificationRow],
        audit: AuditDraft,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO pages (id, incident_id, status, state, created_by, role, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(page.id)
        .bind(page.incident_id)
        .bind(&page.status)
        .bind(&page.state)
        .bind(page.created_by)
        .bind(&page.role)
        .bind(to_micros(page.created_at))
        .bind(to_micros(page.updated_at))
        .execute(&mut *tx)
        .await?;
        if let Some(d) = deadline {
            insert_deadline(&mut *tx, &d).await?;
        }
        insert_notifications(&mut *tx, notifications).await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn page(&self, id: Uuid) -> Result<Option<PageRow>> {
        sql(page_query!("WHERE id = $1"))
            .bind(id)
            .map_optional(&mut *self.read().await?, rows::page)
            .await
    }

    async fn pages_for_incident(&self, incident: Uuid) -> Result<Vec<PageRow>> {
        sql(page_query!("WHERE incident_id = $1 ORDER BY created_at, id"))
            .bind(incident)
            .map_all(&mut *self.read().await?, rows::page)
            .await
    }

    async fn list_pages(&self, q: &PageQuery) -> Result<Vec<PageRow>> {
        let (before_at, before_id) = q
            .before
            .map(|(t, id)| (to_micros(t), id))
            .unwrap_or((i64::MAX, Uuid::max()));
        sql(page_query!(
            "WHERE (created_at < $1 OR (created_at = $1 AND id < $2))
               AND ($3 IS NULL OR status = $3)
               AND ($4 IS NULL OR incident_id = $4)
             ORDER BY created_at DESC, id DESC LIMIT $5"
        ))
        .bind(before_at)
        .bind(before_id)
        .bind(q.status.as_deref())
        .bind(q.incident)
        .bind(q.limit)
        .map_all(&mut *self.read().await?, rows::page)
        .await
    }

    async fn open_pages_notifying(&self, user_name: &str, limit: u32) -> Result<Vec<PageRow>> {
        sql(page_query!(
            "WHERE status = 'triggered'
               AND EXISTS (SELECT 1 FROM notifications n WHERE n.page_id = pages.id AND n.user_name = $1)
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(user_name)
        .bind(limit)
        .map_all(&mut *self.read().await?, rows::page)
        .await
    }

    async fn due_deadlines(&self, now: Timestamp, limit: u32) -> Result<Vec<DeadlineRow>> {
        // Read through the writer: the engine must see the deadline it just wrote.
        sql("SELECT page_id, step, due_at FROM page_deadlines WHERE NOT done AND due_at <= $1 ORDER BY due_at LIMIT $2")
            .bind(to_micros(now))
            .bind(limit)
            .map_all(&mut *writer(self).await?, rows::deadline)
            .await
    }

    async fn escalate(
        &self,
        done: DeadlineRow,
        page: &PageRow,
        next: Option<DeadlineRow>,
        notifications: &[NotificationRow],
        audit: AuditDraft,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        // Another node escalating the same deadline waits here for our commit, then finds it done.
        let n = sql("UPDATE page_deadlines SET done = TRUE WHERE page_id = $1 AND step = $2 AND NOT done")
            .bind(done.page_id)
            .bind(done.step)
            .execute(&mut *tx)
            .await?;
        if n == 0 {
            return Ok(false);
        }
        write_page(&mut *tx, page).await?;
        if let Some(d) = next {
            insert_deadline(&mut *tx, &d).await?;
        }
        insert_notifications(&mut *tx, notifications).await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn drop_deadline(&self, d: DeadlineRow) -> Result<()> {
        sql("UPDATE page_deadlines SET done = TRUE WHERE page_id = $1 AND step = $2")
            .bind(d.page_id)
            .bind(d.step)
            .execute(&mut *writer(self).await?)
            .await?;
        Ok(())
    }

    async fn update_page(&self, page: &PageRow, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        write_page(&mut *tx, page).await?;
        sql("UPDATE page_deadlines SET done = TRUE WHERE page_id = $1 AND NOT done")
            .bind(page.id)
            .execute(&mut *tx)
            .await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn due_notifications(&self, now: Timestamp, limit: u32) -> Result<Vec<NotificationRow>> {
        sql(notification_query!(
            "WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2"
        ))
        .bind(to_micros(now))
        .bind(limit)
        .map_all(&mut *writer(self).await?, rows::notification)
        .await
    }

    async fn claim_notification(&self, id: Uuid, now: Timestamp, lease_until: Timestamp) -> Result<bool> {
        // A row another node is claiming (or recording an attempt for) is skipped, not waited
        // for: that node owns it. Once its claim commits, the lease keeps it out of `<= now`.
        let n = sql_built(format!(
            "UPDATE notifications SET next_attempt_at = $3
             WHERE id = (SELECT id FROM notifications
                         WHERE id = $1 AND status = 'pending' AND next_attempt_at <= $2{})",
            B::SKIP_LOCKED
        ))
        .bind(id)
        .bind(to_micros(now))
        .bind(to_micros(lease_until))
        .execute(&mut *writer(self).await?)
        .await?;
        Ok(n == 1)
    }

    async fn notifications(&self, page: Uuid) -> Result<Vec<NotificationRow>> {
        sql(notification_query!(
            "WHERE page_id = $1 ORDER BY step, created_at, user_name COLLATE \"C\", channel COLLATE \"C\""
        ))
        .bind(page)
        .map_all(&mut *writer(self).await?, rows::notification)
        .await
    }

    async fn record_attempt(&self, id: Uuid, attempt: &Attempt, at: Timestamp, audit: AuditDraft) -> Result<()> {
        let (status, next, error) = match attempt {
            Attempt::Delivered => ("delivered", None, None),
            Attempt::Retry { error, at } => ("pending", Some(to_micros(*at)), Some(error.as_str())),
            Attempt::Failed { error } => ("failed", None, Some(error.as_str())),
            Attempt::Refused { error } => ("refused", None, Some(error.as_str())),
        };
        let mut tx = self.begin().await?;
        // A retry does not bring back a notification cancelled meanwhile (its user disabled).
        sql("UPDATE notifications
             SET status = CASE WHEN status = 'cancelled' AND $2 = 'pending' THEN status ELSE $2 END,
                 next_attempt_at = CASE WHEN status = 'cancelled' AND $2 = 'pending' THEN NULL ELSE $3 END,
                 error = $4, attempts = attempts + 1, updated_at = $5
             WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(next)
        .bind(error)
        .bind(to_micros(at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn secret(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>> {
        // Two nodes creating the secret at once: the second insert waits for the first to
        // commit, does nothing, and both read the first one's value.
        let mut conn = writer(self).await?;
        sql("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(fresh)
            .execute(&mut *conn)
            .await?;
        sql("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?
            .get("value")
    }

    async fn add_ack_link(&self, link: &AckLinkRow) -> Result<()> {
        sql(
            "INSERT INTO ack_links (token_hash, page_id, user_id, step, created_at, expires_at, used_at)
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        )
        .bind(&link.token_hash[..])
        .bind(link.page_id)
        .bind(link.user_id)
        .bind(link.step)
        .bind(to_micros(link.created_at))
        .bind(to_micros(link.expires_at))
        .execute(&mut *writer(self).await?)
        .await?;
        Ok(())
    }

    async fn ack_link(&self, token_hash: &[u8; 32]) -> Result<Option<AckLinkRow>> {
        sql(
            "SELECT token_hash, page_id, user_id, step, created_at, expires_at, used_at
             FROM ack_links WHERE token_hash = $1",
        )
        .bind(&token_hash[..])
        .map_optional(&mut *writer(self).await?, rows::ack_link)
        .await
    }

    async fn use_ack_link(&self, token_hash: &[u8; 32], at: Timestamp) -> Result<bool> {
        // One conditional UPDATE: of two uses at once (on any node), one changes the row.
        let n = sql("UPDATE ack_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(&token_hash[..])
            .bind(to_micros(at))
            .execute(&mut *writer(self).await?)
            .await?;
        Ok(n == 1)
    }

    async fn room_incident(&self, room: &str, viewer: Viewer) -> Result<Option<Uuid>> {
        sql("SELECT i.id FROM incidents i
             WHERE i.room = $1 AND i.is_open
               AND ($3 OR NOT i.sealed OR EXISTS (
                    SELECT 1 FROM memberships m
                    WHERE m.incident_id = i.id AND m.user_id = $2 AND m.ended_at IS NULL))
             ORDER BY EXISTS (SELECT 1 FROM memberships m
                              WHERE m.incident_id = i.id AND m.user_id = $2 AND m.ended_at IS NULL) DESC,
                      i.created_at, i.id
             LIMIT 1")
        .bind(room)
        .bind(viewer.user_id)
        .bind(viewer.sees_all)
        .map_optional(&mut *self.read().await?, |r| r.uuid("id"))
        .await
    }

    async fn set_room_team_only(&self, room: &str, team_only: bool, at: Timestamp, audit: AuditDraft) -> Result<()> {
        self.write_audited(
            sql(
                "INSERT INTO chat_rooms (room, team_only, updated_by, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (room) DO UPDATE SET team_only = excluded.team_only,
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(room)
            .bind(team_only)
            .bind(&audit.actor)
            .bind(to_micros(at)),
            &audit,
        )
        .await?;
        Ok(())
    }

    async fn room_team_only(&self, room: &str) -> Result<bool> {
        Ok(sql("SELECT team_only FROM chat_rooms WHERE room = $1")
            .bind(room)
            .map_optional(&mut *self.read().await?, |r| r.flag("team_only"))
            .await?
            .unwrap_or(false))
    }
}
