//! The containment and impact registers' use cases (issue 6): assets and their moves,
//! systems, credentials with their rotation tasks, exposures, the risk view, and the
//! registers' part of the checklist (containment progress, follow-up tasks). Indicators, their
//! sightings, the blocklist exports and the re-attack watch are in [`iocs`].
//!
//! Every function resolves the incident with [`Cordon::resolve`] first; changes need the
//! response team ([`can_work`]) and a refusal is audited. An asset move that compromises the
//! asset compromises, in the same transaction, every unaffected credential stored on it and
//! creates a rotation task per system the credential grants, owned by that system's owner (or
//! falling to the incident commander role when it has none).

pub mod iocs;

use std::collections::{BTreeMap, BTreeSet};

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::register::{
    AssetKind, AssetState, Classification, ContainmentProgress, CredentialKind, CredentialState,
};
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_store::AuditDraft;
use cordon_store::registers::{Asset, AssetMove, Credential, Effects, EventRef, Exposure, FollowUpTask, System};
use serde_json::json;
use uuid::Uuid;

use crate::audit::draft;
use crate::gate::{Access, Work};
use crate::incidents::new_id;
use crate::{Cordon, Result, ServiceError};

pub use cordon_store::registers::{
    Asset as AssetRecord, AssetMove as AssetMoveRecord, Credential as CredentialRecord, EventRef as EventReference,
    Exposure as ExposureRecord, FollowUpTask as FollowUp, System as SystemRecord,
};

/// The step whose follow-ups rotation tasks are ("Apply additional mitigations and monitoring":
/// rotate compromised secrets, revoke compromised keys).
pub const ROTATION_STEP: u32 = 9;
/// The checklist task whose progress the asset records show.
pub const CONTAINMENT_TASK_KEY: &str = "isolate_instances";
/// The most entries of a list field (assets of a system, customers of an exposure, …).
const MAX_LIST: usize = 10_000;

/// A new asset.
#[derive(Debug, Clone, Default)]
pub struct NewAsset {
    pub name: String,
    pub kind: String,
    pub address: Option<String>,
    pub state: String,
    pub note: Option<String>,
}

/// An asset with every state it entered.
#[derive(Debug, Clone)]
pub struct AssetView {
    pub asset: Asset,
    pub history: Vec<AssetMove>,
}

/// A system (by name within the incident), its owner and its assets.
#[derive(Debug, Clone, Default)]
pub struct NewSystem {
    pub name: String,
    pub owner: Option<String>,
    pub assets: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewCredential {
    pub name: String,
    pub kind: String,
    pub stored_on: Vec<String>,
    pub grants: Vec<String>,
}

/// A credential with its rotation tasks.
#[derive(Debug, Clone)]
pub struct CredentialView {
    pub credential: Credential,
    pub tasks: Vec<FollowUpView>,
}

/// A follow-up task with its assignee's name and its handle (`9.1`: the first follow-up
/// under step 9).
#[derive(Debug, Clone)]
pub struct FollowUpView {
    pub task: FollowUpTask,
    pub assignee_name: Option<String>,
    pub handle: String,
}

#[derive(Debug, Clone, Default)]
pub struct NewExposure {
    pub data: String,
    pub classification: String,
    pub records: Option<u64>,
    pub customers: Vec<String>,
    /// Evidence item ids of this incident.
    pub evidence: Vec<String>,
    /// Timeline events: source id and line.
    pub events: Vec<(String, u64)>,
}

/// A system put at risk by credentials from compromised assets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemAtRisk {
    pub system: String,
    pub owner: Option<String>,
    /// The unrotated credentials from compromised assets that grant it.
    pub via: Vec<String>,
    /// Its assets not (yet) known to be compromised.
    pub assets_at_risk: Vec<String>,
}

/// One credential on a compromised asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposedCredential {
    pub name: String,
    pub state: CredentialState,
    pub stored_on: Vec<String>,
    pub grants: Vec<String>,
}

/// Compromised assets → credentials on them → systems they grant → those systems' assets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskView {
    pub compromised_assets: Vec<String>,
    pub credentials: Vec<ExposedCredential>,
    pub systems_at_risk: Vec<SystemAtRisk>,
}

pub(crate) fn check_name(field: &'static str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    check_text(field, v, max)?;
    Ok(v.to_owned())
}

pub(crate) fn check_text(field: &'static str, v: &str, max: usize) -> Result<()> {
    if v.chars().count() > max {
        return Err(ServiceError::invalid(field, format!("longer than {max} characters")));
    }
    Ok(cordon_core::text::check_line(field, v)?)
}

fn check_names(field: &'static str, list: &[String]) -> Result<Vec<String>> {
    if list.len() > MAX_LIST {
        return Err(ServiceError::invalid(field, format!("more than {MAX_LIST} entries")));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for v in list {
        let v = check_name(field, v, 255)?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// The credentials that fall because of the assets' states, and their rotation tasks. `assets`
/// are the states after the change.
pub(crate) fn fallout(
    now: Timestamp,
    actor: &str,
    assets: &[Asset],
    credentials: &[Credential],
    systems: &[System],
    existing_tasks: &[FollowUpTask],
) -> Effects {
    let compromised: BTreeSet<&str> = assets
        .iter()
        .filter(|a| a.state.implies_compromise())
        .map(|a| a.name.as_str())
        .collect();
    let mut effects = Effects::default();
    for c in credentials {
        let on: Vec<&String> = c
            .stored_on
            .iter()
            .filter(|a| compromised.contains(a.as_str()))
            .collect();
        if on.is_empty() || !c.state.falls_with_asset() {
            continue;
        }
        let mut fallen = c.clone();
        fallen.state = CredentialState::Compromised;
        fallen.updated_at = now;
        effects.audit.push(draft(
            now,
            actor,
            "credential.compromised",
            format!("credential:{}", c.id),
            json!({ "name": c.name, "stored_on": on }),
        ));
        effects.tasks.extend(rotation_tasks(
            now,
            actor,
            &fallen,
            systems,
            existing_tasks,
            &mut effects.audit,
        ));
        effects.credentials.push(fallen);
    }
    effects
}

fn rotation_tasks(
    now: Timestamp,
    actor: &str,
    c: &Credential,
    systems: &[System],
    existing: &[FollowUpTask],
    audit: &mut Vec<AuditDraft>,
) -> Vec<FollowUpTask> {
    let targets: Vec<Option<&str>> = if c.grants.is_empty() {
        vec![None]
    } else {
        c.grants.iter().map(|g| Some(g.as_str())).collect()
    };
    let mut out = Vec::new();
    for grant in targets {
        let key = match grant {
            Some(g) => format!("rotate:{}:{g}", c.id),
            None => format!("rotate:{}", c.id),
        };
        if existing.iter().any(|t| t.key == key) {
            continue;
        }
        let owner = grant
            .and_then(|g| systems.iter().find(|s| s.name == g))
            .and_then(|s| s.owner);
        let title = match grant {
            Some(g) => format!("Rotate {} `{}` (grants {g})", c.kind, c.name),
            None => format!("Rotate {} `{}`", c.kind, c.name),
        };
        let t = FollowUpTask {
            id: new_id(now),
            incident_id: c.incident_id,
            parent_step: ROTATION_STEP,
            key,
            title,
            status: TaskStatus::Todo,
            owner_role: owner.is_none().then_some(Role::IncidentCommander),
            assignee: owner,
            credential_id: Some(c.id),
            created_at: now,
            updated_at: now,
        };
        audit.push(draft(
            now,
            actor,
            "task.create",
            format!("task:{}", t.id),
            json!({ "parent_step": ROTATION_STEP, "key": t.key, "title": t.title, "credential": c.id.to_string(),
                    "owner_role": t.owner_role.map(|r| r.as_str()) }),
        ));
        out.push(t);
    }
    out
}

impl Cordon {
    /// The gate for a change to the incident's registers by the response team; a refusal is
    /// audited.
    pub(crate) async fn work_on(&self, p: &Principal, raw_ref: &str, action: &str, what: &str) -> Result<Access<Work>> {
        let why = format!("only the response team may change the incident's {what}");
        self.gate_work(p, raw_ref, action, &why).await
    }

    async fn user_id_by_name(&self, field: &'static str, name: &str) -> Result<Uuid> {
        Ok(self
            .store
            .user_by_name(name)
            .await?
            .ok_or_else(|| ServiceError::invalid(field, format!("no user named `{name}`")))?
            .id)
    }

    // ---------- assets ----------

    /// Registers an asset in a state. One registered as compromised (or later) compromises the
    /// credentials already recorded on it.
    pub async fn add_asset(&self, p: &Principal, raw_ref: &str, new: NewAsset) -> Result<AssetView> {
        let access = self.work_on(p, raw_ref, "asset.create", "assets").await?;
        let incident = access.incident();
        let name = check_name("name", &new.name, 255)?;
        let kind: AssetKind = new.kind.parse()?;
        let state: AssetState = new.state.parse()?;
        let address = new.address.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
        if let Some(a) = &address {
            check_text("address", a, 255)?;
        }
        let note = new.note.unwrap_or_default().trim().to_owned();
        check_text("note", &note, 2000)?;
        let now = self.clock.now();
        let asset = Asset {
            id: new_id(now),
            incident_id: incident.id,
            name,
            kind,
            address,
            state,
            created_by: p.user_id,
            created_at: now,
            updated_at: now,
        };
        let first = AssetMove {
            id: new_id(now),
            asset_id: asset.id,
            incident_id: incident.id,
            from: None,
            to: state,
            by: p.user_id,
            by_name: p.name.clone(),
            at: now,
            note,
        };
        let mut assets = self.store.assets(incident.id).await?;
        if assets.iter().any(|a| a.name == asset.name) {
            return Err(ServiceError::Conflict(format!(
                "an asset named `{}` exists",
                asset.name
            )));
        }
        assets.push(asset.clone());
        let effects = self.fallout_for(incident.id, now, &p.name, &assets).await?;
        let payload =
            json!({ "name": asset.name, "kind": kind.as_str(), "address": asset.address, "state": state.as_str() });
        let audit = draft(now, &p.name, "asset.create", format!("asset:{}", asset.id), payload);
        self.store.create_asset(&asset, &first, &effects, audit).await?;
        Ok(AssetView {
            asset,
            history: vec![first],
        })
    }

    async fn fallout_for(&self, incident: Uuid, now: Timestamp, actor: &str, assets: &[Asset]) -> Result<Effects> {
        let credentials = self.store.credentials(incident).await?;
        let systems = self.store.systems(incident).await?;
        let tasks = self.store.follow_up_tasks(incident).await?;
        Ok(fallout(now, actor, assets, &credentials, &systems, &tasks))
    }

    /// Moves an asset to another state; an illegal move is refused (409) and audited.
    pub async fn move_asset(
        &self,
        p: &Principal,
        raw_ref: &str,
        asset_id: &str,
        state: &str,
        note: Option<String>,
    ) -> Result<AssetView> {
        let access = self.work_on(p, raw_ref, "asset.move", "assets").await?;
        let incident = access.incident();
        let to: AssetState = state.parse()?;
        let note = note.unwrap_or_default().trim().to_owned();
        check_text("note", &note, 2000)?;
        let mut assets = self.store.assets(incident.id).await?;
        let id = crate::handles::resolve("asset", "id", asset_id, &assets, |a| crate::handles::Named {
            id: a.id,
            names: vec![a.name.clone()],
        })?
        .id;
        let asset = assets
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or(ServiceError::NotFound("asset"))?;
        let from = asset.state;
        let subject = format!("asset:{id}");
        if let Err(e) = from.check_move(to) {
            return Err(self.refuse(p, "asset.move", subject, e.into()).await);
        }
        let now = self.clock.now();
        asset.state = to;
        asset.updated_at = now;
        let mv = AssetMove {
            id: new_id(now),
            asset_id: id,
            incident_id: incident.id,
            from: Some(from),
            to,
            by: p.user_id,
            by_name: p.name.clone(),
            at: now,
            note,
        };
        let name = asset.name.clone();
        let effects = self.fallout_for(incident.id, now, &p.name, &assets).await?;
        let payload = json!({ "name": name, "from": from.as_str(), "to": to.as_str(), "note": mv.note,
                              "credentials_compromised": effects.credentials.iter().map(|c| c.name.clone()).collect::<Vec<_>>() });
        let audit = draft(now, &p.name, "asset.move", subject, payload);
        self.store.move_asset(&mv, &effects, audit).await.map_err(|e| match e {
            cordon_store::StoreError::Conflict(_) => {
                ServiceError::Conflict("the asset changed state meanwhile; reload and try again".into())
            }
            other => other.into(),
        })?;
        let asset = assets
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(ServiceError::NotFound("asset"))?;
        let history = self
            .store
            .asset_moves(incident.id)
            .await?
            .into_iter()
            .filter(|m| m.asset_id == id)
            .collect();
        Ok(AssetView { asset, history })
    }

    /// The incident's assets with their histories.
    pub async fn assets(&self, p: &Principal, raw_ref: &str) -> Result<Vec<AssetView>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let moves = self.store.asset_moves(incident.id).await?;
        Ok(self
            .store
            .assets(incident.id)
            .await?
            .into_iter()
            .map(|asset| {
                let history = moves.iter().filter(|m| m.asset_id == asset.id).cloned().collect();
                AssetView { asset, history }
            })
            .collect())
    }

    // ---------- systems ----------

    /// Registers (or updates, by name) a system: its owner and the assets it is made of.
    pub async fn put_system(&self, p: &Principal, raw_ref: &str, new: NewSystem) -> Result<System> {
        let access = self.work_on(p, raw_ref, "system.put", "systems").await?;
        let incident = access.incident();
        let name = check_name("name", &new.name, 255)?;
        let owner_name = new
            .owner
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned);
        let owner = match &owner_name {
            Some(o) => Some(self.user_id_by_name("owner", o).await?),
            None => None,
        };
        let asset_names = check_names("assets", &new.assets)?;
        let known: BTreeSet<String> = self
            .store
            .assets(incident.id)
            .await?
            .into_iter()
            .map(|a| a.name)
            .collect();
        if let Some(unknown) = asset_names.iter().find(|a| !known.contains(*a)) {
            return Err(ServiceError::invalid(
                "assets",
                format!("no asset named `{unknown}` in this incident"),
            ));
        }
        let now = self.clock.now();
        let existing = self
            .store
            .systems(incident.id)
            .await?
            .into_iter()
            .find(|s| s.name == name);
        let system = System {
            id: existing.as_ref().map_or_else(|| new_id(now), |s| s.id),
            incident_id: incident.id,
            name,
            owner,
            owner_name,
            assets: asset_names,
            created_at: existing.as_ref().map_or(now, |s| s.created_at),
            updated_at: now,
        };
        let payload = json!({ "name": system.name, "owner": system.owner_name, "assets": system.assets });
        let audit = draft(now, &p.name, "system.put", format!("system:{}", system.id), payload);
        self.store.put_system(&system, audit).await?;
        Ok(system)
    }

    pub async fn systems(&self, p: &Principal, raw_ref: &str) -> Result<Vec<System>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        Ok(self.store.systems(incident.id).await?)
    }

    // ---------- credentials ----------

    /// Views of an incident's follow-up tasks; `tasks` is all of them, which their handles
    /// are numbered among.
    async fn follow_up_views(&self, tasks: Vec<FollowUpTask>) -> Result<Vec<FollowUpView>> {
        let handles = crate::tasks::follow_up_handles(&tasks);
        let mut out = Vec::with_capacity(tasks.len());
        for (task, handle) in tasks.into_iter().zip(handles) {
            let assignee_name = match task.assignee {
                Some(id) => self.store.user_by_id(id).await?.map(|u| u.name),
                None => None,
            };
            out.push(FollowUpView {
                task,
                assignee_name,
                handle,
            });
        }
        Ok(out)
    }

    async fn credential_views(&self, incident: Uuid, creds: Vec<Credential>) -> Result<Vec<CredentialView>> {
        let tasks = self
            .follow_up_views(self.store.follow_up_tasks(incident).await?)
            .await?;
        Ok(creds
            .into_iter()
            .map(|credential| {
                let tasks = tasks
                    .iter()
                    .filter(|t| t.task.credential_id == Some(credential.id))
                    .cloned()
                    .collect();
                CredentialView { credential, tasks }
            })
            .collect())
    }

    /// Records a credential: where it is stored (asset names of this incident, else 422) and
    /// what it grants. Stored on a compromised asset, it is compromised from the start and
    /// gets its rotation tasks in the same transaction.
    pub async fn add_credential(&self, p: &Principal, raw_ref: &str, new: NewCredential) -> Result<CredentialView> {
        let access = self.work_on(p, raw_ref, "credential.create", "credentials").await?;
        let incident = access.incident();
        let name = check_name("name", &new.name, 255)?;
        let kind: CredentialKind = new.kind.parse()?;
        let stored_on = check_names("stored_on", &new.stored_on)?;
        let grants = check_names("grants", &new.grants)?;
        let assets = self.store.assets(incident.id).await?;
        if let Some(unknown) = stored_on.iter().find(|n| !assets.iter().any(|a| &a.name == *n)) {
            return Err(ServiceError::invalid(
                "stored_on",
                format!("no asset named `{unknown}` in this incident; register it first"),
            ));
        }
        let existing = self.store.credentials(incident.id).await?;
        if existing.iter().any(|c| c.name == name) {
            return Err(ServiceError::Conflict(format!("a credential named `{name}` exists")));
        }
        let now = self.clock.now();
        let credential = Credential {
            id: new_id(now),
            incident_id: incident.id,
            name,
            kind,
            stored_on,
            grants,
            state: CredentialState::Unaffected,
            created_by: p.user_id,
            created_at: now,
            updated_at: now,
        };
        let systems = self.store.systems(incident.id).await?;
        let tasks = self.store.follow_up_tasks(incident.id).await?;
        let mut effects = fallout(
            now,
            &p.name,
            &assets,
            std::slice::from_ref(&credential),
            &systems,
            &tasks,
        );
        // The credential itself is written once, in its final state.
        let stored = effects.credentials.pop().unwrap_or_else(|| credential.clone());
        let payload = json!({ "name": stored.name, "kind": kind.as_str(), "stored_on": stored.stored_on,
                              "grants": stored.grants, "state": stored.state.as_str() });
        let audit = draft(
            now,
            &p.name,
            "credential.create",
            format!("credential:{}", stored.id),
            payload,
        );
        self.store.put_credential(&stored, &effects, audit).await?;
        let mut views = self.credential_views(incident.id, vec![stored]).await?;
        views.pop().ok_or(ServiceError::NotFound("credential"))
    }

    /// Marks a credential rotated or revoked; its open rotation tasks are done with it.
    pub async fn set_credential_state(
        &self,
        p: &Principal,
        raw_ref: &str,
        credential_id: &str,
        state: &str,
    ) -> Result<CredentialView> {
        let access = self.work_on(p, raw_ref, "credential.update", "credentials").await?;
        let incident = access.incident();
        let to: CredentialState = state.parse()?;
        let credentials = self.store.credentials(incident.id).await?;
        let mut c = crate::handles::resolve("credential", "id", credential_id, &credentials, |c| {
            crate::handles::Named {
                id: c.id,
                names: vec![c.name.clone()],
            }
        })?
        .clone();
        let id = c.id;
        let subject = format!("credential:{id}");
        if let Err(e) = c.state.check_manual_move(to) {
            return Err(self.refuse(p, "credential.update", subject, e.into()).await);
        }
        let now = self.clock.now();
        let from = c.state;
        c.state = to;
        c.updated_at = now;
        let mut effects = Effects::default();
        for mut t in self.store.follow_up_tasks(incident.id).await? {
            if t.credential_id == Some(id) && !t.status.is_finished() {
                t.status = TaskStatus::Done;
                t.updated_at = now;
                effects.audit.push(draft(
                    now,
                    &p.name,
                    "task.update",
                    format!("task:{}", t.id),
                    json!({ "status": { "to": "done" }, "because": format!("credential {}", to.as_str()) }),
                ));
                effects.tasks.push(t);
            }
        }
        let payload = json!({ "name": c.name, "from": from.as_str(), "to": to.as_str() });
        let audit = draft(now, &p.name, &format!("credential.{}", to.as_str()), subject, payload);
        self.store.put_credential(&c, &effects, audit).await?;
        let mut views = self.credential_views(incident.id, vec![c]).await?;
        views.pop().ok_or(ServiceError::NotFound("credential"))
    }

    /// The incident's credentials; `state` filters by a state name, or `unrotated` for the
    /// compromised ones still to rotate or revoke.
    pub async fn credentials(&self, p: &Principal, raw_ref: &str, state: Option<&str>) -> Result<Vec<CredentialView>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let filter: Option<Box<dyn Fn(CredentialState) -> bool + Send>> = match state.map(str::trim) {
            None | Some("") => None,
            Some("unrotated") => Some(Box::new(CredentialState::is_unrotated)),
            Some(s) => {
                let want: CredentialState = s.parse()?;
                Some(Box::new(move |c| c == want))
            }
        };
        let creds = self
            .store
            .credentials(incident.id)
            .await?
            .into_iter()
            .filter(|c| filter.as_ref().is_none_or(|f| f(c.state)))
            .collect();
        self.credential_views(incident.id, creds).await
    }

    // ---------- exposures ----------

    /// Records what data left: classification, record count, customers, and the evidence
    /// items and timeline events that show it (each must belong to this incident).
    pub async fn add_exposure(&self, p: &Principal, raw_ref: &str, new: NewExposure) -> Result<Exposure> {
        let access = self.work_on(p, raw_ref, "exposure.create", "exposures").await?;
        let incident = access.incident();
        let data = check_name("data", &new.data, 2000)?;
        let classification: Classification = new.classification.trim().to_ascii_lowercase().parse()?;
        let customers = check_names("customers", &new.customers)?;
        let mut evidence = Vec::with_capacity(new.evidence.len());
        let items = if new.evidence.is_empty() {
            Vec::new()
        } else {
            self.store.evidence_items(incident.id).await?
        };
        for raw in &new.evidence {
            let named = |i: &cordon_store::evidence::EvidenceItem| crate::handles::Named {
                id: i.id,
                names: vec![i.name.clone()],
            };
            let item = match crate::handles::resolve("evidence", "evidence", raw, &items, named) {
                Err(ServiceError::NotFound(_)) => {
                    return Err(ServiceError::invalid(
                        "evidence",
                        format!(
                            "no evidence `{}` in this incident (give its name, handle or id)",
                            raw.trim()
                        ),
                    ));
                }
                other => other?,
            };
            evidence.push(item.id);
        }
        let sources: BTreeSet<Uuid> = self
            .store
            .timeline_sources(incident.id)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
        let mut events = Vec::with_capacity(new.events.len());
        for (raw, line) in &new.events {
            let source_id = Uuid::parse_str(raw.trim())
                .ok()
                .filter(|s| sources.contains(s))
                .ok_or_else(|| {
                    ServiceError::invalid("events", format!("no timeline source `{raw}` in this incident"))
                })?;
            if *line == 0 {
                return Err(ServiceError::invalid("events", "lines count from 1"));
            }
            events.push(EventRef { source_id, line: *line });
        }
        let now = self.clock.now();
        let exposure = Exposure {
            id: new_id(now),
            incident_id: incident.id,
            data,
            classification,
            records: new.records,
            customers,
            evidence,
            events,
            created_by: p.user_id,
            created_at: now,
        };
        let payload = json!({ "data": exposure.data, "classification": classification.as_str(),
                              "records": exposure.records, "customers": exposure.customers.len(),
                              "evidence": exposure.evidence.len(), "events": exposure.events.len() });
        let audit = draft(
            now,
            &p.name,
            "exposure.create",
            format!("exposure:{}", exposure.id),
            payload,
        );
        self.store.create_exposure(&exposure, audit).await?;
        Ok(exposure)
    }

    pub async fn exposures(&self, p: &Principal, raw_ref: &str) -> Result<Vec<Exposure>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        Ok(self.store.exposures(incident.id).await?)
    }

    // ---------- risk ----------

    /// Compromised assets → credentials on them → systems those grant → those systems'
    /// assets not known to be compromised. Systems reached only through rotated or revoked
    /// credentials are not at risk any more.
    pub async fn risk(&self, p: &Principal, raw_ref: &str) -> Result<RiskView> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        let assets = self.store.assets(incident.id).await?;
        let credentials = self.store.credentials(incident.id).await?;
        let systems = self.store.systems(incident.id).await?;
        Ok(risk_view(&assets, &credentials, &systems))
    }

    // ---------- the checklist ----------

    /// The registers' part of the checklist: containment progress on the isolate step, and
    /// the follow-up tasks under their parent steps.
    pub(crate) async fn register_task_extras(
        &self,
        incident: Uuid,
    ) -> Result<(ContainmentProgress, BTreeMap<u32, Vec<FollowUpView>>)> {
        let moves = self.store.asset_moves(incident).await?;
        let mut histories: BTreeMap<Uuid, Vec<AssetState>> = BTreeMap::new();
        for m in &moves {
            histories.entry(m.asset_id).or_default().push(m.to);
        }
        let progress = ContainmentProgress::from_histories(histories.values().map(Vec::as_slice));
        let mut follow_ups: BTreeMap<u32, Vec<FollowUpView>> = BTreeMap::new();
        for v in self
            .follow_up_views(self.store.follow_up_tasks(incident).await?)
            .await?
        {
            follow_ups.entry(v.task.parent_step).or_default().push(v);
        }
        Ok((progress, follow_ups))
    }

    /// The incident's follow-up tasks.
    pub async fn follow_ups(&self, p: &Principal, raw_ref: &str) -> Result<Vec<FollowUpView>> {
        let access = self.gate(p, raw_ref).await?;
        let incident = access.incident();
        self.follow_up_views(self.store.follow_up_tasks(incident.id).await?)
            .await
    }

    /// Changes a follow-up task's status or assignee (`Some(None)` unassigns).
    pub async fn update_follow_up(
        &self,
        p: &Principal,
        raw_ref: &str,
        task_id: &str,
        status: Option<TaskStatus>,
        assignee: Option<Option<String>>,
    ) -> Result<FollowUpView> {
        let access = self.work_on(p, raw_ref, "task.update", "checklist").await?;
        let incident = access.incident().id;
        let (tasks, follow_ups) = (
            self.store.tasks(incident).await?,
            self.store.follow_up_tasks(incident).await?,
        );
        let id = match crate::tasks::task_by_handle(&tasks, &follow_ups, task_id)? {
            crate::tasks::TaskRef::FollowUp(id) => id,
            crate::tasks::TaskRef::Checklist(_) => {
                return Err(ServiceError::invalid(
                    "id",
                    format!(
                        "`{}` is a checklist step, not a follow-up task; change it under /tasks",
                        task_id.trim()
                    ),
                ));
            }
        };
        self.change_follow_up(&access, id, status, assignee).await
    }

    /// [`Cordon::update_follow_up`] on an incident the caller may work on.
    pub(crate) async fn change_follow_up(
        &self,
        access: &Access<Work>,
        id: Uuid,
        status: Option<TaskStatus>,
        assignee: Option<Option<String>>,
    ) -> Result<FollowUpView> {
        let mut t = self
            .store
            .follow_up_tasks(access.incident().id)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(ServiceError::NotFound("task"))?;
        let mut changes = serde_json::Map::new();
        if let Some(s) = status.filter(|s| *s != t.status) {
            changes.insert("status".into(), json!({ "from": t.status.as_str(), "to": s.as_str() }));
            t.status = s;
        }
        if let Some(a) = assignee {
            let new = match a.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
                Some(name) => Some(self.user_id_by_name("assignee", name).await?),
                None => None,
            };
            if new != t.assignee {
                changes.insert("assignee".into(), json!(a));
                t.assignee = new;
            }
        }
        if !changes.is_empty() {
            let now = self.clock.now();
            t.updated_at = now;
            changes.insert("parent_step".into(), json!(t.parent_step));
            let audit = draft(
                now,
                access.actor_name(),
                "task.update",
                format!("task:{id}"),
                changes.into(),
            );
            self.store.update_follow_up_task(&t, audit).await?;
        }
        let all = self.store.follow_up_tasks(access.incident().id).await?;
        self.follow_up_views(all)
            .await?
            .into_iter()
            .find(|v| v.task.id == id)
            .ok_or(ServiceError::NotFound("task"))
    }
}

/// The risk view, pure.
pub fn risk_view(assets: &[Asset], credentials: &[Credential], systems: &[System]) -> RiskView {
    let compromised: BTreeSet<&str> = assets
        .iter()
        .filter(|a| a.state.implies_compromise())
        .map(|a| a.name.as_str())
        .collect();
    let mut view = RiskView {
        compromised_assets: compromised.iter().map(|s| (*s).to_owned()).collect(),
        ..RiskView::default()
    };
    let mut via: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for c in credentials {
        let on: Vec<String> = c
            .stored_on
            .iter()
            .filter(|a| compromised.contains(a.as_str()))
            .cloned()
            .collect();
        if on.is_empty() {
            continue;
        }
        view.credentials.push(ExposedCredential {
            name: c.name.clone(),
            state: c.state,
            stored_on: on,
            grants: c.grants.clone(),
        });
        if matches!(c.state, CredentialState::Rotated | CredentialState::Revoked) {
            continue;
        }
        for g in &c.grants {
            via.entry(g.as_str()).or_default().push(c.name.clone());
        }
    }
    for (system, creds) in via {
        let s = systems.iter().find(|s| s.name == system);
        view.systems_at_risk.push(SystemAtRisk {
            system: system.to_owned(),
            owner: s.and_then(|s| s.owner_name.clone()),
            via: creds,
            assets_at_risk: s
                .map(|s| {
                    s.assets
                        .iter()
                        .filter(|a| !compromised.contains(a.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> Timestamp {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    fn asset(name: &str, state: AssetState) -> Asset {
        Asset {
            id: Uuid::new_v4(),
            incident_id: Uuid::nil(),
            name: name.into(),
            kind: AssetKind::Host,
            address: None,
            state,
            created_by: Uuid::nil(),
            created_at: at(),
            updated_at: at(),
        }
    }

    fn cred(name: &str, on: &[&str], grants: &[&str], state: CredentialState) -> Credential {
        Credential {
            id: Uuid::new_v4(),
            incident_id: Uuid::nil(),
            name: name.into(),
            kind: CredentialKind::SshKey,
            stored_on: on.iter().map(|s| (*s).to_owned()).collect(),
            grants: grants.iter().map(|s| (*s).to_owned()).collect(),
            state,
            created_by: Uuid::nil(),
            created_at: at(),
            updated_at: at(),
        }
    }

    fn system(name: &str, owner: Option<Uuid>, assets: &[&str]) -> System {
        System {
            id: Uuid::new_v4(),
            incident_id: Uuid::nil(),
            name: name.into(),
            owner,
            owner_name: owner.map(|_| "olga".into()),
            assets: assets.iter().map(|s| (*s).to_owned()).collect(),
            created_at: at(),
            updated_at: at(),
        }
    }

    #[test]
    fn a_compromised_host_takes_its_keys_down_a_suspected_one_does_not() {
        let olga = Uuid::new_v4();
        let assets = [
            asset("web1", AssetState::Compromised),
            asset("web2", AssetState::Suspected),
        ];
        let creds = [
            cred("deploy-key", &["web1"], &["billing", "ci"], CredentialState::Unaffected),
            cred("db-password", &["web2"], &["billing"], CredentialState::Unaffected),
            cred("old-key", &["web1"], &[], CredentialState::Revoked),
        ];
        let systems = [system("billing", Some(olga), &["db1"])];
        let e = fallout(at(), "alice", &assets, &creds, &systems, &[]);
        assert_eq!(e.credentials.len(), 1);
        assert_eq!(e.credentials[0].name, "deploy-key");
        assert_eq!(e.credentials[0].state, CredentialState::Compromised);
        // one rotation task per granted system: billing's owner, and ci (no owner) to the IC
        assert_eq!(e.tasks.len(), 2);
        assert_eq!(e.tasks[0].assignee, Some(olga));
        assert_eq!(e.tasks[0].owner_role, None);
        assert_eq!(e.tasks[1].assignee, None);
        assert_eq!(e.tasks[1].owner_role, Some(Role::IncidentCommander));
        assert!(e.tasks.iter().all(|t| t.parent_step == ROTATION_STEP));
        assert_eq!(e.audit.len(), 3);
        // existing tasks are not created twice
        let again = fallout(at(), "alice", &assets, &creds, &systems, &e.tasks);
        assert!(again.tasks.is_empty());
    }

    #[test]
    fn risk_follows_credentials_to_other_systems() {
        let assets = [
            asset("web1", AssetState::Isolated),
            asset("db1", AssetState::Suspected),
            asset("db2", AssetState::Compromised),
        ];
        let creds = [
            cred("deploy-key", &["web1"], &["billing"], CredentialState::Compromised),
            cred("ci-token", &["web1"], &["ci"], CredentialState::Rotated),
            cred("laptop-key", &["db1"], &["hr"], CredentialState::Unaffected),
        ];
        let systems = [
            system("billing", None, &["db1", "db2"]),
            system("ci", None, &["runner"]),
        ];
        let v = risk_view(&assets, &creds, &systems);
        assert_eq!(v.compromised_assets, ["db2", "web1"]);
        assert_eq!(v.credentials.len(), 2);
        assert_eq!(
            v.systems_at_risk,
            [SystemAtRisk {
                system: "billing".into(),
                owner: None,
                via: vec!["deploy-key".into()],
                assets_at_risk: vec!["db1".into()],
            }]
        );
    }
}
