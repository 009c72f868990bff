//! PostgreSQL implementation of [`RegisterStore`]: the registers' rows, each write with its
//! audit entries (and the effects it sets off) in one transaction. With several nodes:
//! - an asset moves with a conditional UPDATE (`WHERE state = from`): a second node's move
//!   waits for the first to commit, re-checks, and is a conflict;
//! - asset moves and exposures are inserted after the audit entry, under the audit lock, so
//!   their identity `seq` (the tie-break within one instant) follows the order of commits;
//! - uniqueness is the schema's unique constraints, reported as [`StoreError::Conflict`].

use async_trait::async_trait;
use cordon_core::clock::{from_micros, to_micros};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::types::Json;
use uuid::Uuid;

use super::{PostgresStore, append_in, parse_col};
use crate::error::conflict_on_unique;
use crate::registers::{
    Asset, AssetMove, Credential, Effects, EventRef, Exposure, FollowUpTask, Indicator, RegisterStore, Sighting, System,
};
use crate::{AuditDraft, Result, StoreError};

/// One element of `exposures.events`: the same `{"source_id", "line"}` object SQLite stores.
#[derive(Serialize, Deserialize)]
struct EventJson {
    source_id: Uuid,
    line: u64,
}

fn i64_of(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::corrupt("a count above i64::MAX"))
}

fn u64_col(r: &PgRow, col: &str) -> Result<u64> {
    let v: i64 = r.try_get(col)?;
    u64::try_from(v).map_err(|_| StoreError::corrupt(format!("{col}: {v}")))
}

fn list_col<T: serde::de::DeserializeOwned>(r: &PgRow, col: &str) -> Result<Vec<T>> {
    let Json(v): Json<Vec<T>> = r.try_get(col)?;
    Ok(v)
}

fn step_of(step: u32) -> Result<i32> {
    i32::try_from(step).map_err(|_| StoreError::corrupt(format!("parent step {step}")))
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

fn asset_from_row(r: &PgRow) -> Result<Asset> {
    Ok(Asset {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        name: r.try_get("name")?,
        kind: parse_col(r, "kind")?,
        address: r.try_get("address")?,
        state: parse_col(r, "state")?,
        created_by: r.try_get("created_by")?,
        created_at: from_micros(r.try_get("created_at")?),
        updated_at: from_micros(r.try_get("updated_at")?),
    })
}

fn move_from_row(r: &PgRow) -> Result<AssetMove> {
    let from: Option<String> = r.try_get("from_state")?;
    Ok(AssetMove {
        id: r.try_get("id")?,
        asset_id: r.try_get("asset_id")?,
        incident_id: r.try_get("incident_id")?,
        from: from
            .map(|s| s.parse().map_err(|e| StoreError::corrupt(format!("from_state: {e}"))))
            .transpose()?,
        to: parse_col(r, "to_state")?,
        by: r.try_get("moved_by")?,
        by_name: r.try_get("by_name")?,
        at: from_micros(r.try_get("moved_at")?),
        note: r.try_get("note")?,
    })
}

fn indicator_from_row(r: &PgRow) -> Result<Indicator> {
    let first: Option<i64> = r.try_get("first_seen")?;
    let last: Option<i64> = r.try_get("last_seen")?;
    Ok(Indicator {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        kind: r.try_get("kind")?,
        value: r.try_get("value")?,
        special: r.try_get("special")?,
        notes: list_col(r, "notes")?,
        first_seen: first.map(from_micros),
        last_seen: last.map(from_micros),
        created_by: r.try_get("created_by")?,
        created_at: from_micros(r.try_get("created_at")?),
        updated_at: from_micros(r.try_get("updated_at")?),
    })
}

fn sighting_from_row(r: &PgRow) -> Result<Sighting> {
    Ok(Sighting {
        id: r.try_get("id")?,
        indicator_id: r.try_get("indicator_id")?,
        incident_id: r.try_get("incident_id")?,
        source_id: r.try_get("source_id")?,
        line: u64_col(r, "line")?,
        byte_offset: u64_col(r, "byte_offset")?,
        seen_at: from_micros(r.try_get("seen_at")?),
        host: r.try_get("host")?,
        how: r.try_get("how")?,
        recorded_at: from_micros(r.try_get("recorded_at")?),
    })
}

fn system_from_row(r: &PgRow) -> Result<System> {
    Ok(System {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        name: r.try_get("name")?,
        owner: r.try_get("owner")?,
        owner_name: r.try_get("owner_name")?,
        assets: list_col(r, "assets")?,
        created_at: from_micros(r.try_get("created_at")?),
        updated_at: from_micros(r.try_get("updated_at")?),
    })
}

fn credential_from_row(r: &PgRow) -> Result<Credential> {
    Ok(Credential {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        name: r.try_get("name")?,
        kind: parse_col(r, "kind")?,
        stored_on: list_col(r, "stored_on")?,
        grants: list_col(r, "grants")?,
        state: parse_col(r, "state")?,
        created_by: r.try_get("created_by")?,
        created_at: from_micros(r.try_get("created_at")?),
        updated_at: from_micros(r.try_get("updated_at")?),
    })
}

fn exposure_from_row(r: &PgRow) -> Result<Exposure> {
    let records: Option<i64> = r.try_get("records")?;
    let events: Vec<EventJson> = list_col(r, "events")?;
    Ok(Exposure {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        data: r.try_get("data")?,
        classification: parse_col(r, "classification")?,
        records: records
            .map(|v| u64::try_from(v).map_err(|_| StoreError::corrupt(format!("exposure records {v}"))))
            .transpose()?,
        customers: list_col(r, "customers")?,
        evidence: list_col(r, "evidence")?,
        events: events
            .into_iter()
            .map(|e| EventRef {
                source_id: e.source_id,
                line: e.line,
            })
            .collect(),
        created_by: r.try_get("created_by")?,
        created_at: from_micros(r.try_get("created_at")?),
    })
}

fn task_from_row(r: &PgRow) -> Result<FollowUpTask> {
    let role: Option<String> = r.try_get("owner_role")?;
    let step: i32 = r.try_get("parent_step")?;
    Ok(FollowUpTask {
        id: r.try_get("id")?,
        incident_id: r.try_get("incident_id")?,
        parent_step: u32::try_from(step).map_err(|_| StoreError::corrupt(format!("parent step {step}")))?,
        key: r.try_get("key")?,
        title: r.try_get("title")?,
        status: parse_col(r, "status")?,
        owner_role: role
            .map(|s| s.parse().map_err(|e| StoreError::corrupt(format!("owner_role: {e}"))))
            .transpose()?,
        assignee: r.try_get("assignee")?,
        credential_id: r.try_get("credential_id")?,
        created_at: from_micros(r.try_get("created_at")?),
        updated_at: from_micros(r.try_get("updated_at")?),
    })
}

async fn write_credential(conn: &mut PgConnection, c: &Credential) -> Result<()> {
    sqlx::query(
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
    .bind(Json(&c.stored_on))
    .bind(Json(&c.grants))
    .bind(c.state.as_str())
    .bind(c.created_by)
    .bind(to_micros(c.created_at))
    .bind(to_micros(c.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(conflict_on_unique("credential"))?;
    Ok(())
}

async fn write_task(conn: &mut PgConnection, t: &FollowUpTask) -> Result<()> {
    sqlx::query(
        "INSERT INTO follow_up_tasks (id, incident_id, parent_step, key, title, status, owner_role, assignee,
                                      credential_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, status = excluded.status,
             owner_role = excluded.owner_role, assignee = excluded.assignee, updated_at = excluded.updated_at",
    )
    .bind(t.id)
    .bind(t.incident_id)
    .bind(step_of(t.parent_step)?)
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

async fn apply_effects(conn: &mut PgConnection, e: &Effects) -> Result<()> {
    // Fallout turns unaffected credentials compromised; one that changed since it was read
    // (rotated, revoked) makes the whole write a conflict, to be recomputed.
    for c in &e.credentials {
        let r =
            sqlx::query("UPDATE credentials SET state = $2, updated_at = $3 WHERE id = $1 AND state = 'unaffected'")
                .bind(c.id)
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

/// Inserts a move; the caller has appended its audit entry (and so holds the audit lock).
async fn insert_move(conn: &mut PgConnection, m: &AssetMove) -> Result<()> {
    sqlx::query(
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
impl RegisterStore for PostgresStore {
    async fn create_asset(&self, asset: &Asset, first: &AssetMove, effects: &Effects, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
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
        // A concurrent move of the same asset waits here for our commit, then finds the state gone.
        let done = sqlx::query("UPDATE assets SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
            .bind(mv.to.as_str())
            .bind(to_micros(mv.at))
            .bind(mv.asset_id)
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
            // No unaffected credential may stay on a compromised asset. A credential being
            // recorded concurrently holds a share lock on this asset (see `put_credential`), so
            // our UPDATE above waited for it and this statement sees it.
            let left: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM assets a JOIN credentials c ON c.incident_id = a.incident_id
                 WHERE a.id = $1 AND c.state = 'unaffected' AND c.stored_on ? a.name",
            )
            .bind(mv.asset_id)
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
        const Q: &str = asset_query!("WHERE incident_id = $1 ORDER BY created_at, name COLLATE \"C\"");
        let rows = sqlx::query(Q).bind(incident).fetch_all(&self.pool).await?;
        rows.iter().map(asset_from_row).collect()
    }

    async fn asset_moves(&self, incident: Uuid) -> Result<Vec<AssetMove>> {
        let rows = sqlx::query(
            "SELECT m.id, m.asset_id, m.incident_id, m.from_state, m.to_state, m.moved_by, m.moved_at, m.note,
                    u.name AS by_name
             FROM asset_moves m JOIN users u ON u.id = m.moved_by
             WHERE m.incident_id = $1 ORDER BY m.moved_at, m.seq",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(move_from_row).collect()
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
        .bind(i.id)
        .bind(i.incident_id)
        .bind(&i.kind)
        .bind(&i.value)
        .bind(&i.special)
        .bind(Json(&i.notes))
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
            sqlx::query(
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
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn indicators(&self, incident: Uuid) -> Result<Vec<Indicator>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, kind, value, special, notes, first_seen, last_seen, created_by, created_at,
                    updated_at
             FROM indicators WHERE incident_id = $1 ORDER BY created_at, kind COLLATE \"C\", value COLLATE \"C\"",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(indicator_from_row).collect()
    }

    async fn sightings(&self, incident: Uuid) -> Result<Vec<Sighting>> {
        let rows = sqlx::query(
            "SELECT id, indicator_id, incident_id, source_id, line, byte_offset, seen_at, host, how, recorded_at
             FROM sightings WHERE incident_id = $1 ORDER BY seen_at, line",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sighting_from_row).collect()
    }

    async fn put_system(&self, s: &System, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO systems (id, incident_id, name, owner, assets, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (incident_id, name) DO UPDATE SET owner = excluded.owner, assets = excluded.assets,
                 updated_at = excluded.updated_at",
        )
        .bind(s.id)
        .bind(s.incident_id)
        .bind(&s.name)
        .bind(s.owner)
        .bind(Json(&s.assets))
        .bind(to_micros(s.created_at))
        .bind(to_micros(s.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("system"))?;
        append_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn systems(&self, incident: Uuid) -> Result<Vec<System>> {
        let rows = sqlx::query(
            "SELECT s.id, s.incident_id, s.name, s.owner, s.assets, s.created_at, s.updated_at,
                    u.name AS owner_name
             FROM systems s LEFT JOIN users u ON u.id = s.owner
             WHERE s.incident_id = $1 ORDER BY s.name COLLATE \"C\"",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(system_from_row).collect()
    }

    async fn put_credential(&self, c: &Credential, effects: &Effects, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        if c.state.falls_with_asset() {
            // Unaffected only while none of its assets is compromised. The share lock makes a
            // concurrent move of those assets wait for us (and us see its committed state).
            let states: Vec<String> =
                sqlx::query_scalar("SELECT state FROM assets WHERE incident_id = $1 AND name = ANY($2) FOR SHARE")
                    .bind(c.incident_id)
                    .bind(&c.stored_on)
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
        const Q: &str = credential_query!("WHERE incident_id = $1 ORDER BY created_at, name COLLATE \"C\"");
        let rows = sqlx::query(Q).bind(incident).fetch_all(&self.pool).await?;
        rows.iter().map(credential_from_row).collect()
    }

    async fn create_exposure(&self, e: &Exposure, audit: AuditDraft) -> Result<()> {
        let events: Vec<EventJson> = e
            .events
            .iter()
            .map(|r| EventJson {
                source_id: r.source_id,
                line: r.line,
            })
            .collect();
        let mut tx = self.begin().await?;
        // The audit entry first: `seq` is then taken under the audit lock, in commit order.
        append_in(&mut tx, &audit).await?;
        sqlx::query(
            "INSERT INTO exposures (id, incident_id, data, classification, records, customers, evidence, events,
                                    created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id)
        .bind(e.incident_id)
        .bind(&e.data)
        .bind(e.classification.as_str())
        .bind(e.records.map(i64_of).transpose()?)
        .bind(Json(&e.customers))
        .bind(Json(&e.evidence))
        .bind(Json(&events))
        .bind(e.created_by)
        .bind(to_micros(e.created_at))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("exposure"))?;
        tx.commit().await?;
        Ok(())
    }

    async fn exposures(&self, incident: Uuid) -> Result<Vec<Exposure>> {
        let rows = sqlx::query(
            "SELECT id, incident_id, data, classification, records, customers, evidence, events, created_by,
                    created_at
             FROM exposures WHERE incident_id = $1 ORDER BY created_at, seq",
        )
        .bind(incident)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(exposure_from_row).collect()
    }

    async fn follow_up_tasks(&self, incident: Uuid) -> Result<Vec<FollowUpTask>> {
        const Q: &str = task_query!("WHERE incident_id = $1 ORDER BY created_at, key COLLATE \"C\"");
        let rows = sqlx::query(Q).bind(incident).fetch_all(&self.pool).await?;
        rows.iter().map(task_from_row).collect()
    }

    async fn update_follow_up_task(&self, t: &FollowUpTask, audit: AuditDraft) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE follow_up_tasks SET status = $1, assignee = $2, updated_at = $3 WHERE id = $4")
            .bind(t.status.as_str())
            .bind(t.assignee)
            .bind(to_micros(t.updated_at))
            .bind(t.id)
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
