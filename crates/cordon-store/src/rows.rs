//! Reading result rows into the store's types, once for both backends.
//!
//! The two schemas hold the same columns with each database's own types: an id is a `UUID`
//! in PostgreSQL and its text in SQLite, a flag a `BOOLEAN` or an integer, a list `JSONB` or
//! JSON text, a number `INTEGER`/`BIGINT` or SQLite's one integer type. Each backend says how
//! it reads a column of each kind ([`Cols`]); which column goes into which field is written
//! here, once.

use std::str::FromStr;

use cordon_core::Timestamp;
use cordon_core::clock::from_micros;
use cordon_core::codename::Codename;
use cordon_core::incident::{Decision, Incident, IncidentKind, Membership, Severity, Status};
use cordon_core::role::Role;
use cordon_core::task::{Task, TaskStatus};
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::comms::{
    ApprovalRow, ClockRow, CommunicationRow, ContactRow, DueReminder, MilestoneRow, ReminderRow, TemplateRow,
};
use crate::evidence::{CustodyEvent, CustodyKind, EvidenceItem};
use crate::paging::{AckLinkRow, NotificationRow, PageRow};
use crate::registers::{Asset, AssetMove, Credential, EventRef, Exposure, FollowUpTask, Indicator, Sighting, System};
use crate::timeline::{SourceState, TimelineSource};
use crate::{Result, StoreError};

/// A Rust type both databases read the same way (text, integers, flags, bytes, and their
/// `Option`s).
pub trait Plain:
    for<'r> sqlx::Decode<'r, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
    + for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
{
}

impl<T> Plain for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
{
}

/// How one backend reads a column of each kind.
pub trait Cols {
    /// A column of a type both databases store alike.
    fn get<T: Plain>(&self, col: &str) -> Result<T>;
    fn uuid(&self, col: &str) -> Result<Uuid>;
    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>>;
    /// A column holding a JSON document.
    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T>;

    fn text(&self, col: &str) -> Result<String> {
        self.get(col)
    }

    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        self.get(col)
    }

    /// Any integer column.
    fn int(&self, col: &str) -> Result<i64> {
        self.get(col)
    }

    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        self.get(col)
    }

    fn flag(&self, col: &str) -> Result<bool> {
        self.get(col)
    }

    /// An instant stored as Unix microseconds.
    fn time(&self, col: &str) -> Result<Timestamp> {
        Ok(from_micros(self.int(col)?))
    }

    fn opt_time(&self, col: &str) -> Result<Option<Timestamp>> {
        Ok(self.opt_int(col)?.map(from_micros))
    }

    /// A value stored as its text form (a kind, a state, a role).
    fn parse<T: FromStr>(&self, col: &str) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        parse_text(col, &self.text(col)?)
    }

    fn opt_parse<T: FromStr>(&self, col: &str) -> Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        self.opt_text(col)?.map(|s| parse_text(col, &s)).transpose()
    }

    /// A count or offset, never negative.
    fn count(&self, col: &str) -> Result<u64> {
        let v = self.int(col)?;
        u64::try_from(v).map_err(|_| StoreError::corrupt(format!("{col}: {v}")))
    }

    /// A playbook step number.
    fn step(&self, col: &str) -> Result<u32> {
        let v = self.int(col)?;
        u32::try_from(v).map_err(|_| StoreError::corrupt(format!("{col}: {v}")))
    }
}

fn parse_text<T: FromStr>(col: &str, s: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(|e| StoreError::corrupt(format!("{col}: {e}")))
}

fn uuid_text(col: &str, s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::corrupt(format!("{col}: {e}")))
}

impl Cols for SqliteRow {
    fn get<T: Plain>(&self, col: &str) -> Result<T> {
        Ok(self.try_get(col)?)
    }

    fn uuid(&self, col: &str) -> Result<Uuid> {
        uuid_text(col, &self.text(col)?)
    }

    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>> {
        self.opt_text(col)?.map(|s| uuid_text(col, &s)).transpose()
    }

    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T> {
        let s: String = self.try_get(col)?;
        serde_json::from_str(&s).map_err(|e| StoreError::corrupt(format!("{col}: {e}")))
    }
}

impl Cols for PgRow {
    fn get<T: Plain>(&self, col: &str) -> Result<T> {
        Ok(self.try_get(col)?)
    }

    fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col)?
            .ok_or_else(|| StoreError::corrupt(format!("{col}: NULL")))
    }

    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        // `INTEGER` columns decode as i32, `BIGINT` ones as i64.
        match self.try_get::<Option<i64>, _>(col) {
            Ok(v) => Ok(v),
            Err(sqlx::Error::ColumnDecode { .. }) => Ok(self.try_get::<Option<i32>, _>(col)?.map(i64::from)),
            Err(e) => Err(e.into()),
        }
    }

    fn uuid(&self, col: &str) -> Result<Uuid> {
        Ok(self.try_get(col)?)
    }

    fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>> {
        Ok(self.try_get(col)?)
    }

    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T> {
        let sqlx::types::Json(v): sqlx::types::Json<T> = self.try_get(col)?;
        Ok(v)
    }
}

// ---------- incidents, members, decisions, the checklist ----------

pub(crate) fn incident(r: &impl Cols) -> Result<Incident> {
    let key = r.text("codename_key")?;
    let severity = r.int("severity")?;
    Ok(Incident {
        id: r.uuid("id")?,
        codename: Codename::from_key(&key).ok_or_else(|| StoreError::corrupt(format!("codename `{key}`")))?,
        kind: r.parse::<IncidentKind>("kind")?,
        severity: u8::try_from(severity)
            .ok()
            .and_then(|s| Severity::new(s).ok())
            .ok_or_else(|| StoreError::corrupt(format!("severity {severity}")))?,
        status: r.parse::<Status>("status")?,
        sealed: r.flag("sealed")?,
        title: r.get("title")?,
        description: r.get("description")?,
        room: r.get("room")?,
        playbook: r.get("playbook")?,
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn membership(r: &impl Cols) -> Result<Membership> {
    Ok(Membership {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        user_id: r.uuid("user_id")?,
        user_name: r.get("user_name")?,
        role: r.parse::<Role>("role")?,
        started_at: r.time("started_at")?,
        ended_at: r.opt_time("ended_at")?,
    })
}

pub(crate) fn decision(r: &impl Cols) -> Result<Decision> {
    Ok(Decision {
        name: r.get("name")?,
        value: r.flag("value")?,
        note: r.get("note")?,
        decided_by: r.uuid("decided_by")?,
        decided_by_name: r.get("decided_by_name")?,
        decided_at: r.time("decided_at")?,
    })
}

pub(crate) fn task(r: &impl Cols) -> Result<Task> {
    Ok(Task {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        step: r.step("step")?,
        key: r.get("key")?,
        title: r.get("title")?,
        status: r.parse::<TaskStatus>("status")?,
        owner_role: r.parse::<Role>("owner_role")?,
        assignee: r.opt_uuid("assignee")?,
        check_items: r.json("check_items")?,
        override_reason: r.get("override_reason")?,
        updated_at: r.time("updated_at")?,
    })
}

// ---------- registers ----------

/// One element of `exposures.events`: `{"source_id", "line"}`.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct EventJson {
    pub source_id: Uuid,
    pub line: u64,
}

impl EventJson {
    pub(crate) fn list(events: &[EventRef]) -> Vec<EventJson> {
        events
            .iter()
            .map(|e| EventJson {
                source_id: e.source_id,
                line: e.line,
            })
            .collect()
    }
}

pub(crate) fn asset(r: &impl Cols) -> Result<Asset> {
    Ok(Asset {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        name: r.text("name")?,
        kind: r.parse("kind")?,
        address: r.opt_text("address")?,
        state: r.parse("state")?,
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn asset_move(r: &impl Cols) -> Result<AssetMove> {
    Ok(AssetMove {
        id: r.uuid("id")?,
        asset_id: r.uuid("asset_id")?,
        incident_id: r.uuid("incident_id")?,
        from: r.opt_parse("from_state")?,
        to: r.parse("to_state")?,
        by: r.uuid("moved_by")?,
        by_name: r.text("by_name")?,
        at: r.time("moved_at")?,
        note: r.text("note")?,
    })
}

pub(crate) fn indicator(r: &impl Cols) -> Result<Indicator> {
    Ok(Indicator {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        kind: r.text("kind")?,
        value: r.text("value")?,
        special: r.opt_text("special")?,
        notes: r.json("notes")?,
        first_seen: r.opt_time("first_seen")?,
        last_seen: r.opt_time("last_seen")?,
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn sighting(r: &impl Cols) -> Result<Sighting> {
    Ok(Sighting {
        id: r.uuid("id")?,
        indicator_id: r.uuid("indicator_id")?,
        incident_id: r.uuid("incident_id")?,
        source_id: r.uuid("source_id")?,
        line: r.count("line")?,
        byte_offset: r.count("byte_offset")?,
        seen_at: r.time("seen_at")?,
        host: r.opt_text("host")?,
        how: r.text("how")?,
        recorded_at: r.time("recorded_at")?,
    })
}

pub(crate) fn system(r: &impl Cols) -> Result<System> {
    Ok(System {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        name: r.text("name")?,
        owner: r.opt_uuid("owner")?,
        owner_name: r.opt_text("owner_name")?,
        assets: r.json("assets")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn credential(r: &impl Cols) -> Result<Credential> {
    Ok(Credential {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        name: r.text("name")?,
        kind: r.parse("kind")?,
        stored_on: r.json("stored_on")?,
        grants: r.json("grants")?,
        state: r.parse("state")?,
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn exposure(r: &impl Cols) -> Result<Exposure> {
    let records = r
        .opt_int("records")?
        .map(|v| u64::try_from(v).map_err(|_| StoreError::corrupt(format!("exposure records {v}"))))
        .transpose()?;
    let events: Vec<EventJson> = r.json("events")?;
    Ok(Exposure {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        data: r.text("data")?,
        classification: r.parse("classification")?,
        records,
        customers: r.json("customers")?,
        evidence: r.json("evidence")?,
        events: events
            .into_iter()
            .map(|e| EventRef {
                source_id: e.source_id,
                line: e.line,
            })
            .collect(),
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?,
    })
}

pub(crate) fn follow_up_task(r: &impl Cols) -> Result<FollowUpTask> {
    Ok(FollowUpTask {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        parent_step: r.step("parent_step")?,
        key: r.text("key")?,
        title: r.text("title")?,
        status: r.parse("status")?,
        owner_role: r.opt_parse("owner_role")?,
        assignee: r.opt_uuid("assignee")?,
        credential_id: r.opt_uuid("credential_id")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

// ---------- evidence ----------

pub(crate) fn evidence_item(r: &impl Cols) -> Result<EvidenceItem> {
    Ok(EvidenceItem {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        name: r.get("name")?,
        description: r.get("description")?,
        blob_key: r.get("blob_key")?,
        size: r.count("size")?,
        sha256: r.get("sha256")?,
        blake3: r.get("blake3")?,
        md5: r.get("md5")?,
        sha1: r.get("sha1")?,
        acquired_by: r.get("acquired_by")?,
        tool: r.get("tool")?,
        source_asset: r.get("source_asset")?,
        created_by: r.uuid("created_by")?,
        created_by_name: r.get("created_by_name")?,
        created_at: r.time("created_at")?,
    })
}

pub(crate) fn custody_event(r: &impl Cols) -> Result<CustodyEvent> {
    Ok(CustodyEvent {
        id: r.uuid("id")?,
        item_id: r.uuid("item_id")?,
        kind: r.parse::<CustodyKind>("kind")?,
        actor: r.get("actor")?,
        at: r.time("at")?,
        details: r.get("details")?,
        audit_seq: r.get("audit_seq")?,
        audit_hash: r.get("audit_hash")?,
    })
}

// ---------- timeline ----------

pub(crate) fn timeline_source(r: &impl Cols) -> Result<TimelineSource> {
    Ok(TimelineSource {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        name: r.get("name")?,
        host: r.get("host")?,
        format: r.get("format")?,
        sha256: r.get("sha256")?,
        bytes: r.count("bytes")?,
        lines: r.count("lines")?,
        events: r.count("events")?,
        skipped: r.count("skipped")?,
        diagnostics_total: r.count("diagnostics_total")?,
        diagnostics: r.get("diagnostics")?,
        state: r.parse::<SourceState>("state")?,
        evidence_id: r.opt_uuid("evidence_id")?,
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?,
    })
}

// ---------- paging ----------

pub(crate) fn page(r: &impl Cols) -> Result<PageRow> {
    Ok(PageRow {
        id: r.uuid("id")?,
        incident_id: r.opt_uuid("incident_id")?,
        status: r.get("status")?,
        state: r.get("state")?,
        created_by: r.opt_uuid("created_by")?,
        role: r.opt_text("role")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn ack_link(r: &impl Cols) -> Result<AckLinkRow> {
    let hash: Vec<u8> = r.get("token_hash")?;
    Ok(AckLinkRow {
        token_hash: hash
            .try_into()
            .map_err(|_| StoreError::corrupt("ack link hash: not 32 bytes"))?,
        page_id: r.uuid("page_id")?,
        user_id: r.uuid("user_id")?,
        step: r.get("step")?,
        created_at: r.time("created_at")?,
        expires_at: r.time("expires_at")?,
        used_at: r.opt_time("used_at")?,
    })
}

pub(crate) fn notification(r: &impl Cols) -> Result<NotificationRow> {
    Ok(NotificationRow {
        id: r.uuid("id")?,
        page_id: r.uuid("page_id")?,
        step: r.get("step")?,
        level: r.get("level")?,
        user_name: r.get("user_name")?,
        channel: r.get("channel")?,
        address: r.get("address")?,
        status: r.get("status")?,
        attempts: r.get("attempts")?,
        next_attempt_at: r.opt_time("next_attempt_at")?,
        error: r.get("error")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn contact_method(r: &impl Cols) -> Result<crate::paging::ContactMethod> {
    Ok(crate::paging::ContactMethod {
        id: r.uuid("id")?,
        user_id: r.uuid("user_id")?,
        kind: r.text("kind")?,
        address: r.text("address")?,
        created_at: r.time("created_at")?,
    })
}

pub(crate) fn deadline(r: &impl Cols) -> Result<crate::paging::DeadlineRow> {
    Ok(crate::paging::DeadlineRow {
        page_id: r.uuid("page_id")?,
        step: r.int("step")?,
        due_at: r.time("due_at")?,
    })
}

// ---------- communications ----------

/// One element of a communication's `approvals` JSON array: role, user name, instant.
type ApprovalTuple = (String, String, i64);

/// A communication, with its approvals from the JSON array column `approvals`.
pub(crate) fn communication(r: &impl Cols) -> Result<CommunicationRow> {
    let approvals: Vec<ApprovalTuple> = r.json("approvals")?;
    let approvals = approvals
        .into_iter()
        .map(|(role, user_name, at)| {
            Ok(ApprovalRow {
                role: parse_text("approval role", &role)?,
                user_name,
                at: from_micros(at),
            })
        })
        .collect::<Result<_>>()?;
    Ok(CommunicationRow {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        audience: r.parse("audience")?,
        title: r.get("title")?,
        body: r.get("body")?,
        recipients: r.get("recipients")?,
        third_parties_public: r.flag("third_parties_public")?,
        status: r.parse("status")?,
        findings: r.get("findings")?,
        channel: r.get("channel")?,
        sent_at: r.opt_time("sent_at")?,
        sent_by: r.get("sent_by")?,
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        lint_override: r.get("lint_override")?,
        approvals,
    })
}

pub(crate) fn template(r: &impl Cols) -> Result<TemplateRow> {
    Ok(TemplateRow {
        name: r.get("name")?,
        audience: r.parse("audience")?,
        title: r.get("title")?,
        body: r.get("body")?,
        updated_by: r.get("updated_by")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn contact(r: &impl Cols) -> Result<ContactRow> {
    Ok(ContactRow {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        party: r.parse("party")?,
        name: r.get("name")?,
        at: r.time("at")?,
        reference: r.get("reference")?,
        outcome: r.get("outcome")?,
        task_id: r.opt_uuid("task_id")?,
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?,
    })
}

pub(crate) fn clock(r: &impl Cols) -> Result<ClockRow> {
    Ok(ClockRow {
        id: r.uuid("id")?,
        incident_id: r.uuid("incident_id")?,
        regime: r.parse("regime")?,
        started_at: r.time("started_at")?,
        jurisdiction: r.parse("jurisdiction")?,
        unlawful_purpose: r.flag("unlawful_purpose")?,
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?,
    })
}

/// One element of a clock's `milestones` JSON array: name, description, due, met.
type MilestoneTuple = (String, String, i64, Option<i64>);

/// A clock, with its milestones from the JSON array column `milestones`.
pub(crate) fn clock_with_milestones(r: &impl Cols) -> Result<(ClockRow, Vec<MilestoneRow>)> {
    let milestones: Vec<MilestoneTuple> = r.json("milestones")?;
    let milestones = milestones
        .into_iter()
        .map(|(name, description, due_at, met_at)| MilestoneRow {
            name,
            description,
            due_at: from_micros(due_at),
            met_at: met_at.map(from_micros),
        })
        .collect();
    Ok((clock(r)?, milestones))
}

pub(crate) fn due_reminder(r: &impl Cols) -> Result<DueReminder> {
    Ok(DueReminder {
        reminder: ReminderRow {
            id: r.uuid("id")?,
            clock_id: r.uuid("clock_id")?,
            milestone: r.text("milestone")?,
            remind_at: r.time("remind_at")?,
        },
        incident_id: r.uuid("incident_id")?,
        regime: r.parse("regime")?,
        due_at: r.time("due_at")?,
        met: r.opt_int("met_at")?.is_some(),
    })
}
