//! The implementation of [`RegisterStore`]: the registers' rows, each write with its
//! audit entries (and the effects it sets off) in one transaction. With several nodes:
//! - an asset moves with a conditional UPDATE (`WHERE state = from`): a second node's move
//!   waits for the first to commit, re-checks, and is a conflict;
//! - asset moves and exposures are inserted after the audit entry, under the audit lock, so
//!   their identity `seq` (the tie-break within one instant) follows the order of commits;
//! - uniqueness is the schema's unique constraints, reported as [`StoreError::Conflict`].

use async_trait::async_trait;
use cordon_core::clock::to_micros;
use uuid::Uuid;

use super::{SqlStore, append_in};
use crate::dialect::{Backend, Cols, Conn, sql, sql_built};
use crate::error::conflict_on_unique;
use crate::registers::{
    Asset, AssetMove, Credential, Effects, Exposure, FollowUpTask, Indicator, RegisterStore, Sighting, System,
};
use crate::rows::{self as from_row, EventJson};
use crate::{AuditDraft, Result, StoreError};

fn i64_of(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::corrupt("a count above i64::MAX"))
}

/// `SELECT` of assets, followed by a literal tail.
macro_rules! asset_query {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT id, incident_id, name, kind, address, state, created_by, created_at, updated_at FROM assets ",
            $tail
        )
    };
}

/// `SELECT` of credentials, followed by a literal tail.
macro_rules! credential_query {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT id, incident_id, name, kind, stored_on, grants, state, created_by, created_at, updated_at
             FROM credentials ",
            $tail
        )
    };
}

/// `SELECT` of follow-up tasks, followed by a literal tail.
macro_rules! task_query {
    ($tail:literal $(,)?) => {
        concat!(
            "SELECT id, incident_id, parent_step, key, title, status, owner_role, assignee, credential_id,
                    created_at, updated_at
             FROM follow_up_tasks ",
            $tail
        )
    };
}

async fn write_credential<C: Conn>(conn: &mut C, c: &Credential) -> Result<()> {
    sql(
        "INSERT INTO credentials (id, incident_id, name, kind, stored_on, grants, state, created_by, created_at,
                                  updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, stored_on = excluded.stored_on,
             grants = excluded.grants, state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(c.id)
    .bind(c.incident_id)
    .bind(&c.name)
    .bind(c.kind.as_str())
    .bind_json(&c.stored_on)
    .bind_json(&c.grants)
    .bind(c.state.as_str())
    .bind(c.created_by)
    .bind(to_micros(c.created_at))
    .bind(to_micros(c.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(conflict_on_unique("credential"))?;
    Ok(())
}

async fn write_task<C: Conn>(conn: &mut C, t: &FollowUpTask) -> Result<()> {
    sql(
        "INSERT INTO follow_up_tasks (id, incident_id, parent_step, key, title, status, owner_role, assignee,
                                      credential_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status,
             owner_role = excluded.owner_role, assignee = excluded.assignee, updated_at = excluded.updated_at",
    )
    .bind(t.id)
    .bind(t.incident_id)
    .bind(t.parent_step)
    .bind(&t.key)
    .bind(&t.title)
    .bind(t.status.as_str())
    .bind(t.owner_role.map(|r| r.as_str()))
    .bind(t.assignee)
    .bind(t.credential_id)
    .bind(to_micros(t.created_at))
    .bind(to_micros(t.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(conflict_on_unique("follow-up task"))?;
    Ok(())
}

async fn apply_effects<C: Conn>(conn: &mut C, e: &Effects) -> Result<()> {
    // Fallout turns unaffected credentials compromised; one that changed since it was read
    // (rotated, revoked) makes the whole write a conflict, to be recomputed.
    for c in &e.credentials {
        let r = sql("UPDATE credentials SET state = $2, updated_at = $3 WHERE id = $1 AND state = 'unaffected'")
            .bind(c.id)
            .bind(c.state.as_str())
            .bind(to_micros(c.updated_at))
            .execute(&mut *conn)
            .await?;
        if r != 1 {
            return Err(StoreError::Conflict("credential"));
        }
    }
    for t in &e.tasks {
        write_task(&mut *conn, t).await?;
    }
    for a in &e.audit {
        append_in(&mut *conn, a).await?;
    }
    Ok(())
}

/// Inserts a move; the caller has appended its audit entry (and so holds the audit lock).
async fn insert_move<C: Conn>(conn: &mut C, m: &AssetMove) -> Result<()> {
    sql(
        "INSERT INTO asset_moves (id, asset_id, incident_id, from_state, to_state, moved_by, moved_at, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(m.id)
    .bind(m.asset_id)
    .bind(m.incident_id)
    .bind(m.from.map(|s| s.as_str()))
    .bind(m.to.as_str())
    .bind(m.by)
    .bind(to_micros(m.at))
    .bind(&m.note)
    .execute(&mut *conn)
    .await
    .map_err(conflict_on_unique("asset move"))?;
    Ok(())
}

#[async_trait]
impl<B: Backend> RegisterStore for SqlStore<B> {
    async fn create_asset(&self, asset: &Asset, first: &AssetMove, effects: &Effects, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO assets (id, incident_id, name, kind, address, state, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(asset.id)
        .bind(asset.incident_id)
        .bind(&asset.name)
        .bind(asset.kind.as_str())
        .bind(&asset.address)
        .bind(asset.state.as_str())
        .bind(asset.created_by)
        .bind(to_micros(asset.created_at))
        .bind(to_micros(asset.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("asset"))?;
        append_in(&mut *tx, &audit).await?;
        insert_move(&mut *tx, first).await?;
        apply_effects(&mut *tx, effects).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn move_asset(&self, mv: &AssetMove, effects: &Effects, audit: AuditDraft) -> Result<()> {
        let from = mv
            .from
            .ok_or_else(|| StoreError::corrupt("an asset move without its from-state"))?;
        let mut tx = self.begin().await?;
        // A concurrent move of the same asset waits here for our commit, then finds the state gone.
        let done = sql("UPDATE assets SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
            .bind(mv.to.as_str())
            .bind(to_micros(mv.at))
            .bind(mv.asset_id)
            .bind(from.as_str())
            .execute(&mut *tx)
            .await?;
        if done != 1 {
            return Err(StoreError::Conflict("asset state"));
        }
        append_in(&mut *tx, &audit).await?;
        insert_move(&mut *tx, mv).await?;
        apply_effects(&mut *tx, effects).await?;
        if mv.to.implies_compromise() {
            // No unaffected credential may stay on a compromised asset. A credential being
            // recorded concurrently holds a share lock on this asset (see `put_credential`), so
            // our UPDATE above waited for it and this statement sees it.
            let left = sql_built(format!(
                "SELECT COUNT(*) AS n FROM assets a JOIN credentials c ON c.incident_id = a.incident_id
                 WHERE a.id = $1 AND c.state = 'unaffected' AND {}",
                B::in_list("a.name", "c.stored_on")
            ))
            .bind(mv.asset_id)
            .fetch_one(&mut *tx)
            .await?
            .int("n")?;
            if left > 0 {
                return Err(StoreError::Conflict("credential"));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn assets(&self, incident: Uuid) -> Result<Vec<Asset>> {
        const Q: &str = asset_query!("WHERE incident_id = $1 ORDER BY created_at, name COLLATE \"C\"");
        let rows = sql(Q).bind(incident).fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(from_row::asset).collect()
    }

    async fn asset_moves(&self, incident: Uuid) -> Result<Vec<AssetMove>> {
        let rows = sql_built(format!(
            "SELECT m.id, m.asset_id, m.incident_id, m.from_state, m.to_state, m.moved_by, m.moved_at, m.note,
                    u.name AS by_name
             FROM asset_moves m JOIN users u ON u.id = m.moved_by
             WHERE m.incident_id = $1 ORDER BY m.moved_at, m.{}",
            B::INSERTION_ORDER
        ))
        .bind(incident)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(from_row::asset_move).collect()
    }

    async fn put_indicator(&self, i: &Indicator, sightings: &[Sighting], audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO indicators (id, incident_id, kind, value, special, notes, first_seen, last_seen, created_by,
                                     created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (id) DO UPDATE SET special = excluded.special, notes = excluded.notes,
                 first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated_at = excluded.updated_at",
        )
        .bind(i.id)
        .bind(i.incident_id)
        .bind(&i.kind)
        .bind(&i.value)
        .bind(&i.special)
        .bind_json(&i.notes)
        .bind(i.first_seen.map(to_micros))
        .bind(i.last_seen.map(to_micros))
        .bind(i.created_by)
        .bind(to_micros(i.created_at))
        .bind(to_micros(i.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("indicator"))?;
        for s in sightings {
            // Two nodes recording the same event: the second insert waits for the first to
            // commit and does nothing.
            sql(
                "INSERT INTO sightings (id, indicator_id, incident_id, source_id, line, byte_offset, seen_at, host, how,
                                        recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (indicator_id, source_id, line) DO NOTHING",
            )
            .bind(s.id)
            .bind(s.indicator_id)
            .bind(s.incident_id)
            .bind(s.source_id)
            .bind(i64_of(s.line)?)
            .bind(i64_of(s.byte_offset)?)
            .bind(to_micros(s.seen_at))
            .bind(&s.host)
            .bind(&s.how)
            .bind(to_micros(s.recorded_at))
            .execute(&mut *tx)
            .await?;
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn indicators(&self, incident: Uuid) -> Result<Vec<Indicator>> {
        let rows = sql(
            "SELECT id, incident_id, kind, value, special, notes, first_seen, last_seen, created_by, created_at,
                    updated_at
             FROM indicators WHERE incident_id = $1 ORDER BY created_at, kind COLLATE \"C\", value COLLATE \"C\"",
        )
        .bind(incident)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(from_row::indicator).collect()
    }

    async fn sightings(&self, incident: Uuid) -> Result<Vec<Sighting>> {
        let rows = sql(
            "SELECT id, indicator_id, incident_id, source_id, line, byte_offset, seen_at, host, how, recorded_at
             FROM sightings WHERE incident_id = $1 ORDER BY seen_at, line",
        )
        .bind(incident)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(from_row::sighting).collect()
    }

    async fn put_system(&self, s: &System, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sql(
            "INSERT INTO systems (id, incident_id, name, owner, assets, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (incident_id, name) DO UPDATE SET owner = excluded.owner, assets = excluded.assets,
                 updated_at = excluded.updated_at",
        )
        .bind(s.id)
        .bind(s.incident_id)
        .bind(&s.name)
        .bind(s.owner)
        .bind_json(&s.assets)
        .bind(to_micros(s.created_at))
        .bind(to_micros(s.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("system"))?;
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn systems(&self, incident: Uuid) -> Result<Vec<System>> {
        let rows = sql(
            "SELECT s.id, s.incident_id, s.name, s.owner, s.assets, s.created_at, s.updated_at,
                    u.name AS owner_name
             FROM systems s LEFT JOIN users u ON u.id = s.owner
             WHERE s.incident_id = $1 ORDER BY s.name COLLATE \"C\"",
        )
        .bind(incident)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(from_row::system).collect()
    }

    async fn put_credential(&self, c: &Credential, effects: &Effects, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        if c.state.falls_with_asset() {
            // Unaffected only while none of its assets is compromised. The share lock makes a
            // concurrent move of those assets wait for us (and us see its committed state).
            let states = sql_built(format!(
                "SELECT state FROM assets WHERE incident_id = $1 AND {}{}",
                B::in_list("name", "$2"),
                B::FOR_SHARE
            ))
            .bind(c.incident_id)
            .bind_json(&c.stored_on)
            .map_all(&mut *tx, |r| r.text("state"))
            .await?;
            if crate::registers::any_compromised(&states)? {
                return Err(StoreError::Conflict("asset state"));
            }
        }
        write_credential(&mut *tx, c).await?;
        append_in(&mut *tx, &audit).await?;
        apply_effects(&mut *tx, effects).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn credentials(&self, incident: Uuid) -> Result<Vec<Credential>> {
        const Q: &str = credential_query!("WHERE incident_id = $1 ORDER BY created_at, name COLLATE \"C\"");
        let rows = sql(Q).bind(incident).fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(from_row::credential).collect()
    }

    async fn create_exposure(&self, e: &Exposure, audit: AuditDraft) -> Result<()> {
        let events = EventJson::list(&e.events);
        let mut tx = self.begin().await?;
        // The audit entry first: `seq` is then taken under the audit lock, in commit order.
        append_in(&mut *tx, &audit).await?;
        sql(
            "INSERT INTO exposures (id, incident_id, data, classification, records, customers, evidence, events,
                                    created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id)
        .bind(e.incident_id)
        .bind(&e.data)
        .bind(e.classification.as_str())
        .bind(e.records.map(i64_of).transpose()?)
        .bind_json(&e.customers)
        .bind_json(&e.evidence)
        .bind_json(&events)
        .bind(e.created_by)
        .bind(to_micros(e.created_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("exposure"))?;
        tx.commit().await?;
        Ok(())
    }

    async fn exposures(&self, incident: Uuid) -> Result<Vec<Exposure>> {
        let rows = sql_built(format!(
            "SELECT id, incident_id, data, classification, records, customers, evidence, events, created_by,
                    created_at
             FROM exposures WHERE incident_id = $1 ORDER BY created_at, {}",
            B::INSERTION_ORDER
        ))
        .bind(incident)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(from_row::exposure).collect()
    }

    async fn follow_up_tasks(&self, incident: Uuid) -> Result<Vec<FollowUpTask>> {
        const Q: &str = task_query!("WHERE incident_id = $1 ORDER BY created_at, key COLLATE \"C\"");
        let rows = sql(Q).bind(incident).fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(from_row::follow_up_task).collect()
    }

    async fn follow_ups_assigned_to(&self, user: Uuid, limit: u32) -> Result<Vec<FollowUpTask>> {
        const Q: &str = task_query!("WHERE assignee = $1 ORDER BY incident_id, created_at, key COLLATE \"C\" LIMIT $2");
        let rows = sql(Q)
            .bind(user)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(from_row::follow_up_task).collect()
    }

    async fn update_follow_up_task(&self, t: &FollowUpTask, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sql("UPDATE follow_up_tasks SET status = $1, assignee = $2, updated_at = $3 WHERE id = $4")
            .bind(t.status.as_str())
            .bind(t.assignee)
            .bind(to_micros(t.updated_at))
            .bind(t.id)
            .execute(&mut *tx)
            .await?;
        if done != 1 {
            return Err(StoreError::NotFound("task"));
        }
        append_in(&mut *tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
