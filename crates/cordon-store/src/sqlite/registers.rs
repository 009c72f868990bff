//! SQLite implementation of [`RegisterStore`]: the registers' rows, each write with its
//! audit entries (and the effects it sets off) in one transaction.

use async_trait::async_trait;
use cordon_core::clock::to_micros;
use sqlx::sqlite::SqliteConnection;
use uuid::Uuid;

use super::{SqliteStore, append_in, conflict_on_unique};
use crate::registers::{
    Asset, AssetMove, Credential, Effects, Exposure, FollowUpTask, Indicator, RegisterStore, Sighting, System,
};
use crate::rows::{self as from_row, EventJson};
use crate::{AuditDraft, Result, StoreError};

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("lists of strings serialize")
}

fn i64_of(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::corrupt("a count above i64::MAX"))
}

async fn write_credential(conn: &mut SqliteConnection, c: &Credential) -> Result<()> {
    sqlx::query(
        "INSERT INTO credentials (id, incident_id, name, kind, stored_on, grants, state, created_by, created_at,
                                  updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, stored_on = excluded.stored_on,
             grants = excluded.grants, state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(c.id.to_string())
    .bind(c.incident_id.to_string())
    .bind(&c.name)
    .bind(c.kind.as_str())
    .bind(to_json(&c.stored_on))
    .bind(to_json(&c.grants))
    .bind(c.state.as_str())
    .bind(c.created_by.to_string())
    .bind(to_micros(c.created_at))
    .bind(to_micros(c.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(conflict_on_unique("credential"))?;
    Ok(())
}

async fn write_task(conn: &mut SqliteConnection, t: &FollowUpTask) -> Result<()> {
    sqlx::query(
        "INSERT INTO follow_up_tasks (id, incident_id, parent_step, key, title, status, owner_role, assignee,
                                      credential_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status,
             owner_role = excluded.owner_role, assignee = excluded.assignee, updated_at = excluded.updated_at",
    )
    .bind(t.id.to_string())
    .bind(t.incident_id.to_string())
    .bind(i64::from(t.parent_step))
    .bind(&t.key)
    .bind(&t.title)
    .bind(t.status.as_str())
    .bind(t.owner_role.map(|r| r.as_str()))
    .bind(t.assignee.map(|u| u.to_string()))
    .bind(t.credential_id.map(|u| u.to_string()))
    .bind(to_micros(t.created_at))
    .bind(to_micros(t.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(conflict_on_unique("follow-up task"))?;
    Ok(())
}

async fn apply_effects(conn: &mut SqliteConnection, e: &Effects) -> Result<()> {
    // Fallout turns unaffected credentials compromised; one that changed since it was read
    // (rotated, revoked) makes the whole write a conflict, to be recomputed.
    for c in &e.credentials {
        let r =
            sqlx::query("UPDATE credentials SET state = $2, updated_at = $3 WHERE id = $1 AND state = 'unaffected'")
                .bind(c.id.to_string())
                .bind(c.state.as_str())
                .bind(to_micros(c.updated_at))
                .execute(&mut *conn)
                .await?;
        if r.rows_affected() != 1 {
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

async fn insert_move(conn: &mut SqliteConnection, m: &AssetMove) -> Result<()> {
    sqlx::query(
        "INSERT INTO asset_moves (id, asset_id, incident_id, from_state, to_state, moved_by, moved_at, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(m.id.to_string())
    .bind(m.asset_id.to_string())
    .bind(m.incident_id.to_string())
    .bind(m.from.map(|s| s.as_str()))
    .bind(m.to.as_str())
    .bind(m.by.to_string())
    .bind(to_micros(m.at))
    .bind(&m.note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl RegisterStore for SqliteStore {
    async fn create_asset(&self, asset: &Asset, first: &AssetMove, effects: &Effects, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO assets (id, incident_id, name, kind, address, state, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(asset.id.to_string())
        .bind(asset.incident_id.to_string())
        .bind(&asset.name)
        .bind(asset.kind.as_str())
        .bind(&asset.address)
        .bind(asset.state.as_str())
        .bind(asset.created_by.to_string())
        .bind(to_micros(asset.created_at))
        .bind(to_micros(asset.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("asset"))?;
        append_in(&mut tx, &audit).await?;
        insert_move(&mut tx, first).await?;
        apply_effects(&mut tx, effects).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn move_asset(&self, mv: &AssetMove, effects: &Effects, audit: AuditDraft) -> Result<()> {
        let from = mv
            .from
            .ok_or_else(|| StoreError::corrupt("an asset move without its from-state"))?;
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE assets SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
            .bind(mv.to.as_str())
            .bind(to_micros(mv.at))
            .bind(mv.asset_id.to_string())
            .bind(from.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("asset state"));
        }
        append_in(&mut tx, &audit).await?;
        insert_move(&mut tx, mv).await?;
        apply_effects(&mut tx, effects).await?;
        if mv.to.implies_compromise() {
            // No unaffected credential may stay on a compromised asset: one recorded after the
            // fallout was computed makes this move a conflict, to be recomputed.
            let left: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM assets a JOIN credentials c ON c.incident_id = a.incident_id,
                        json_each(c.stored_on) s
                 WHERE a.id = $1 AND c.state = 'unaffected' AND s.value = a.name",
            )
            .bind(mv.asset_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
            if left > 0 {
                return Err(StoreError::Conflict("credential"));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn assets(&self, incident: Uuid) -> Result<Vec<Asset>> {
        let rows = sqlx::query("SELECT * FROM assets WHERE incident_id = $1 ORDER BY created_at, name")
            .bind(incident.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(from_row::asset).collect()
    }

    async fn asset_moves(&self, incident: Uuid) -> Result<Vec<AssetMove>> {
        let rows = sqlx::query(
            "SELECT m.*, u.name AS by_name FROM asset_moves m JOIN users u ON u.id = m.moved_by
             WHERE m.incident_id = $1 ORDER BY m.moved_at, m.rowid",
        )
        .bind(incident.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(from_row::asset_move).collect()
    }

    async fn put_indicator(&self, i: &Indicator, sightings: &[Sighting], audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO indicators (id, incident_id, kind, value, special, notes, first_seen, last_seen, created_by,
                                     created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (id) DO UPDATE SET special = excluded.special, notes = excluded.notes,
                 first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated_at = excluded.updated_at",
        )
        .bind(i.id.to_string())
        .bind(i.incident_id.to_string())
        .bind(&i.kind)
        .bind(&i.value)
        .bind(&i.special)
        .bind(to_json(&i.notes))
        .bind(i.first_seen.map(to_micros))
        .bind(i.last_seen.map(to_micros))
        .bind(i.created_by.to_string())
        .bind(to_micros(i.created_at))
        .bind(to_micros(i.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("indicator"))?;
        for s in sightings {
            sqlx::query(
                "INSERT INTO sightings (id, indicator_id, incident_id, source_id, line, byte_offset, seen_at, host, how,
                                        recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (indicator_id, source_id, line) DO NOTHING",
            )
            .bind(s.id.to_string())
            .bind(s.indicator_id.to_string())
            .bind(s.incident_id.to_string())
            .bind(s.source_id.to_string())
            .bind(i64_of(s.line)?)
            .bind(i64_of(s.byte_offset)?)
            .bind(to_micros(s.seen_at))
            .bind(&s.host)
            .bind(&s.how)
            .bind(to_micros(s.recorded_at))
            .execute(&mut *tx)
            .await?;
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn indicators(&self, incident: Uuid) -> Result<Vec<Indicator>> {
        let rows = sqlx::query("SELECT * FROM indicators WHERE incident_id = $1 ORDER BY created_at, kind, value")
            .bind(incident.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(from_row::indicator).collect()
    }

    async fn sightings(&self, incident: Uuid) -> Result<Vec<Sighting>> {
        let rows = sqlx::query("SELECT * FROM sightings WHERE incident_id = $1 ORDER BY seen_at, line")
            .bind(incident.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(from_row::sighting).collect()
    }

    async fn put_system(&self, s: &System, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO systems (id, incident_id, name, owner, assets, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (incident_id, name) DO UPDATE SET owner = excluded.owner, assets = excluded.assets,
                 updated_at = excluded.updated_at",
        )
        .bind(s.id.to_string())
        .bind(s.incident_id.to_string())
        .bind(&s.name)
        .bind(s.owner.map(|u| u.to_string()))
        .bind(to_json(&s.assets))
        .bind(to_micros(s.created_at))
        .bind(to_micros(s.updated_at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn systems(&self, incident: Uuid) -> Result<Vec<System>> {
        let rows = sqlx::query(
            "SELECT s.*, u.name AS owner_name FROM systems s LEFT JOIN users u ON u.id = s.owner
             WHERE s.incident_id = $1 ORDER BY s.name",
        )
        .bind(incident.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(from_row::system).collect()
    }

    async fn put_credential(&self, c: &Credential, effects: &Effects, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        if c.state.falls_with_asset() {
            // Unaffected only while none of its assets is compromised: a move since the caller
            // read them makes this a conflict.
            let states: Vec<String> = sqlx::query_scalar(
                "SELECT a.state FROM assets a, json_each($2) s WHERE a.incident_id = $1 AND a.name = s.value",
            )
            .bind(c.incident_id.to_string())
            .bind(to_json(&c.stored_on))
            .fetch_all(&mut *tx)
            .await?;
            if crate::registers::any_compromised(&states)? {
                return Err(StoreError::Conflict("asset state"));
            }
        }
        write_credential(&mut tx, c).await?;
        append_in(&mut tx, &audit).await?;
        apply_effects(&mut tx, effects).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn credentials(&self, incident: Uuid) -> Result<Vec<Credential>> {
        let rows = sqlx::query("SELECT * FROM credentials WHERE incident_id = $1 ORDER BY created_at, name")
            .bind(incident.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(from_row::credential).collect()
    }

    async fn create_exposure(&self, e: &Exposure, audit: AuditDraft) -> Result<()> {
        let events = EventJson::list(&e.events);
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO exposures (id, incident_id, data, classification, records, customers, evidence, events,
                                    created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id.to_string())
        .bind(e.incident_id.to_string())
        .bind(&e.data)
        .bind(e.classification.as_str())
        .bind(e.records.map(i64_of).transpose()?)
        .bind(to_json(&e.customers))
        .bind(to_json(&e.evidence))
        .bind(to_json(&events))
        .bind(e.created_by.to_string())
        .bind(to_micros(e.created_at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn exposures(&self, incident: Uuid) -> Result<Vec<Exposure>> {
        let rows = sqlx::query("SELECT * FROM exposures WHERE incident_id = $1 ORDER BY created_at, rowid")
            .bind(incident.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(from_row::exposure).collect()
    }

    async fn follow_up_tasks(&self, incident: Uuid) -> Result<Vec<FollowUpTask>> {
        let rows = sqlx::query("SELECT * FROM follow_up_tasks WHERE incident_id = $1 ORDER BY created_at, key")
            .bind(incident.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(from_row::follow_up_task).collect()
    }

    async fn follow_ups_assigned_to(&self, user: Uuid, limit: u32) -> Result<Vec<FollowUpTask>> {
        let rows = sqlx::query(
            "SELECT * FROM follow_up_tasks WHERE assignee = $1 ORDER BY incident_id, created_at, key LIMIT $2",
        )
        .bind(user.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(from_row::follow_up_task).collect()
    }

    async fn update_follow_up_task(&self, t: &FollowUpTask, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE follow_up_tasks SET status = $1, assignee = $2, updated_at = $3 WHERE id = $4")
            .bind(t.status.as_str())
            .bind(t.assignee.map(|u| u.to_string()))
            .bind(to_micros(t.updated_at))
            .bind(t.id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound("task"));
        }
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
