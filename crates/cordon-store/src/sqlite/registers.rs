//! SQLite implementation of [`RegisterStore`]: the registers' rows, each write with its
//! audit entries (and the effects it sets off) in one transaction.

use async_trait::async_trait;
use cordon_core::clock::{from_micros, to_micros};
use serde_json::json;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use uuid::Uuid;

use super::{SqliteStore, append_in, conflict_on_unique, parse_col, uuid_col};
use crate::registers::{
    Asset, AssetMove, Credential, Effects, EventRef, Exposure, FollowUpTask, Indicator, RegisterStore, Sighting, System,
};
use crate::{AuditDraft, Result, StoreError};

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("lists of strings serialize")
}

fn json_col<T: serde::de::DeserializeOwned>(r: &SqliteRow, col: &str) -> Result<T> {
    let s: String = r.try_get(col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::corrupt(format!("{col}: {e}")))
}

fn opt_uuid_col(r: &SqliteRow, col: &str) -> Result<Option<Uuid>> {
    let s: Option<String> = r.try_get(col)?;
    s.map(|s| Uuid::parse_str(&s).map_err(|e| StoreError::corrupt(format!("{col}: {e}"))))
        .transpose()
}

fn u64_col(r: &SqliteRow, col: &str) -> Result<u64> {
    let v: i64 = r.try_get(col)?;
    u64::try_from(v).map_err(|_| StoreError::corrupt(format!("{col}: {v}")))
}

fn i64_of(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::corrupt("a count above i64::MAX"))
}

fn asset_from_row(r: &SqliteRow) -> Result<Asset> {
    Ok(Asset {
        id: uuid_col(r, "id")?,
        incident_id: uuid_col(r, "incident_id")?,
        name: r.try_get("name")?,
        kind: parse_col(r, "kind")?,
        address: r.try_get("address")?,
        state: parse_col(r, "state")?,
        created_by: uuid_col(r, "created_by")?,
        created_at: from_micros(r.try_get("created_at")?),
        updated_at: from_micros(r.try_get("updated_at")?),
    })
}

fn move_from_row(r: &SqliteRow) -> Result<AssetMove> {
    let from: Option<String> = r.try_get("from_state")?;
    Ok(AssetMove {
        id: uuid_col(r, "id")?,
        asset_id: uuid_col(r, "asset_id")?,
        incident_id: uuid_col(r, "incident_id")?,
        from: from
            .map(|s| s.parse().map_err(|e| StoreError::corrupt(format!("from_state: {e}"))))
            .transpose()?,
        to: parse_col(r, "to_state")?,
        by: uuid_col(r, "moved_by")?,
        by_name: r.try_get("by_name")?,
        at: from_micros(r.try_get("moved_at")?),
        note: r.try_get("note")?,
    })
}

fn credential_from_row(r: &SqliteRow) -> Result<Credential> {
    Ok(Credential {
        id: uuid_col(r, "id")?,
        incident_id: uuid_col(r, "incident_id")?,
        name: r.try_get("name")?,
        kind: parse_col(r, "kind")?,
        stored_on: json_col(r, "stored_on")?,
        grants: json_col(r, "grants")?,
        state: parse_col(r, "state")?,
        created_by: uuid_col(r, "created_by")?,
        created_at: from_micros(r.try_get("created_at")?),
        updated_at: from_micros(r.try_get("updated_at")?),
    })
}

fn task_from_row(r: &SqliteRow) -> Result<FollowUpTask> {
    let role: Option<String> = r.try_get("owner_role")?;
    let step: i64 = r.try_get("parent_step")?;
    Ok(FollowUpTask {
        id: uuid_col(r, "id")?,
        incident_id: uuid_col(r, "incident_id")?,
        parent_step: u32::try_from(step).map_err(|_| StoreError::corrupt(format!("parent_step {step}")))?,
        key: r.try_get("key")?,
        title: r.try_get("title")?,
        status: parse_col(r, "status")?,
        owner_role: role
            .map(|s| s.parse().map_err(|e| StoreError::corrupt(format!("owner_role: {e}"))))
            .transpose()?,
        assignee: opt_uuid_col(r, "assignee")?,
        credential_id: opt_uuid_col(r, "credential_id")?,
        created_at: from_micros(r.try_get("created_at")?),
        updated_at: from_micros(r.try_get("updated_at")?),
    })
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
        rows.iter().map(asset_from_row).collect()
    }

    async fn asset_moves(&self, incident: Uuid) -> Result<Vec<AssetMove>> {
        let rows = sqlx::query(
            "SELECT m.*, u.name AS by_name FROM asset_moves m JOIN users u ON u.id = m.moved_by
             WHERE m.incident_id = $1 ORDER BY m.moved_at, m.rowid",
        )
        .bind(incident.to_string())
        .fetch_all(&self.reader)
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
        rows.iter()
            .map(|r| {
                let first: Option<i64> = r.try_get("first_seen")?;
                let last: Option<i64> = r.try_get("last_seen")?;
                Ok(Indicator {
                    id: uuid_col(r, "id")?,
                    incident_id: uuid_col(r, "incident_id")?,
                    kind: r.try_get("kind")?,
                    value: r.try_get("value")?,
                    special: r.try_get("special")?,
                    notes: json_col(r, "notes")?,
                    first_seen: first.map(from_micros),
                    last_seen: last.map(from_micros),
                    created_by: uuid_col(r, "created_by")?,
                    created_at: from_micros(r.try_get("created_at")?),
                    updated_at: from_micros(r.try_get("updated_at")?),
                })
            })
            .collect()
    }

    async fn sightings(&self, incident: Uuid) -> Result<Vec<Sighting>> {
        let rows = sqlx::query("SELECT * FROM sightings WHERE incident_id = $1 ORDER BY seen_at, line")
            .bind(incident.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Sighting {
                    id: uuid_col(r, "id")?,
                    indicator_id: uuid_col(r, "indicator_id")?,
                    incident_id: uuid_col(r, "incident_id")?,
                    source_id: uuid_col(r, "source_id")?,
                    line: u64_col(r, "line")?,
                    byte_offset: u64_col(r, "byte_offset")?,
                    seen_at: from_micros(r.try_get("seen_at")?),
                    host: r.try_get("host")?,
                    how: r.try_get("how")?,
                    recorded_at: from_micros(r.try_get("recorded_at")?),
                })
            })
            .collect()
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
        rows.iter()
            .map(|r| {
                Ok(System {
                    id: uuid_col(r, "id")?,
                    incident_id: uuid_col(r, "incident_id")?,
                    name: r.try_get("name")?,
                    owner: opt_uuid_col(r, "owner")?,
                    owner_name: r.try_get("owner_name")?,
                    assets: json_col(r, "assets")?,
                    created_at: from_micros(r.try_get("created_at")?),
                    updated_at: from_micros(r.try_get("updated_at")?),
                })
            })
            .collect()
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
        rows.iter().map(credential_from_row).collect()
    }

    async fn create_exposure(&self, e: &Exposure, audit: AuditDraft) -> Result<()> {
        let events: Vec<_> = e
            .events
            .iter()
            .map(|r| json!({ "source_id": r.source_id, "line": r.line }))
            .collect();
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
        rows.iter()
            .map(|r| {
                let records: Option<i64> = r.try_get("records")?;
                let events: Vec<serde_json::Value> = json_col(r, "events")?;
                let events = events
                    .iter()
                    .map(|v| {
                        let source_id = v["source_id"]
                            .as_str()
                            .and_then(|s| Uuid::parse_str(s).ok())
                            .ok_or_else(|| StoreError::corrupt("exposure event source"))?;
                        let line = v["line"]
                            .as_u64()
                            .ok_or_else(|| StoreError::corrupt("exposure event line"))?;
                        Ok(EventRef { source_id, line })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Exposure {
                    id: uuid_col(r, "id")?,
                    incident_id: uuid_col(r, "incident_id")?,
                    data: r.try_get("data")?,
                    classification: parse_col(r, "classification")?,
                    records: records
                        .map(|v| u64::try_from(v).map_err(|_| StoreError::corrupt("exposure records")))
                        .transpose()?,
                    customers: json_col(r, "customers")?,
                    evidence: json_col(r, "evidence")?,
                    events,
                    created_by: uuid_col(r, "created_by")?,
                    created_at: from_micros(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    async fn follow_up_tasks(&self, incident: Uuid) -> Result<Vec<FollowUpTask>> {
        let rows = sqlx::query("SELECT * FROM follow_up_tasks WHERE incident_id = $1 ORDER BY created_at, key")
            .bind(incident.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(task_from_row).collect()
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
