//! The checklist: listing tasks with their unmet gates, and moving them — past a gate only
//! with the incident commander's recorded reason.

use std::collections::{BTreeSet, HashMap};

use cordon_core::access::Principal;
use cordon_core::incident::Incident;
use cordon_core::playbook::Playbook;
use cordon_core::role::Role;
use cordon_core::task::{Task, TaskStatus};
use cordon_store::registers::FollowUpTask;
use serde_json::json;
use uuid::Uuid;

use crate::audit::draft;
use crate::error::UnmetGate;
use crate::gate::TaskAccess;
use crate::{Cordon, Result, ServiceError};

/// A task as its viewers see it.
#[derive(Debug, Clone)]
pub struct TaskView {
    pub task: Task,
    pub assignee_name: Option<String>,
    /// Unmet gates; empty once the task is finished.
    pub blocked_by: Vec<UnmetGate>,
    pub description: String,
    /// What happened for this step elsewhere in Cordon, e.g. for "assemble the response team":
    /// who was paged and who answered.
    pub activity: Vec<String>,
    /// For the "isolate affected instances" step: how many compromised assets were isolated
    /// and imaged, from the asset register.
    pub progress: Option<cordon_core::register::ContainmentProgress>,
    /// Tasks the registers created under this step (e.g. rotating a compromised credential).
    pub follow_ups: Vec<crate::registers::FollowUpView>,
}

/// A task after a change: a checklist step, or a follow-up task under one.
#[derive(Debug, Clone)]
pub enum TaskChange {
    Checklist(Box<TaskView>),
    FollowUp(crate::registers::FollowUpView),
}

/// A change to a task. `assignee: Some(None)` unassigns.
#[derive(Debug, Clone, Default)]
pub struct TaskPatch {
    pub status: Option<TaskStatus>,
    pub assignee: Option<Option<String>>,
    pub override_reason: Option<String>,
}

const MAX_REASON_CHARS: usize = 2000;

/// An incident's gate inputs as of one read: its playbook, each step's status and the
/// decisions taken.
pub(crate) struct Gates<'a> {
    playbook: &'a Playbook,
    statuses: HashMap<u32, TaskStatus>,
    decisions: BTreeSet<String>,
}

impl Gates<'_> {
    /// The unmet gates of `step`.
    pub(crate) fn unmet(&self, step: u32) -> Vec<UnmetGate> {
        unmet(self.playbook, step, &self.statuses, &self.decisions)
    }

    /// What the playbook says `step` is for.
    pub(crate) fn step_description(&self, step: u32) -> String {
        self.playbook
            .step(step)
            .map(|s| s.description.clone())
            .unwrap_or_default()
    }
}

impl Cordon {
    fn playbook_of(&self, incident: &Incident) -> Result<&Playbook> {
        self.playbooks
            .by_name(&incident.playbook)
            .ok_or_else(|| ServiceError::invalid("playbook", "the incident's playbook is not loaded"))
    }

    /// The incident's gate inputs, given its checklist `tasks`.
    pub(crate) async fn gates_for(&self, incident: &Incident, tasks: &[Task]) -> Result<Gates<'_>> {
        let playbook = self.playbook_of(incident)?;
        let statuses = tasks.iter().map(|t| (t.step, t.status)).collect();
        let decisions = self
            .store
            .decisions(incident.id)
            .await?
            .into_iter()
            .filter(|d| d.value)
            .map(|d| d.name)
            .collect();
        Ok(Gates {
            playbook,
            statuses,
            decisions,
        })
    }

    pub(crate) async fn views(&self, incident: &Incident, tasks: Vec<Task>) -> Result<Vec<TaskView>> {
        let gates = self.gates_for(incident, &tasks).await?;
        let playbook = gates.playbook;
        let members = self.store.memberships(incident.id).await?;
        let mut names: HashMap<Uuid, Option<String>> =
            members.iter().map(|m| (m.user_id, Some(m.user_name.clone()))).collect();
        // Follow-up tasks may be assigned to system owners outside the team: one read each.
        for id in tasks.iter().filter_map(|t| t.assignee) {
            if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(id) {
                slot.insert(self.store.user_by_id(id).await?.map(|u| u.name));
            }
        }
        let (progress, mut follow_ups) = self.register_task_extras(incident.id).await?;
        let mut out = Vec::with_capacity(tasks.len());
        for task in tasks {
            let blocked_by = if task.status.is_finished() {
                Vec::new()
            } else {
                gates.unmet(task.step)
            };
            let assignee_name = task.assignee.and_then(|id| names.get(&id).cloned().flatten());
            let description = playbook
                .step(task.step)
                .map(|s| s.description.clone())
                .unwrap_or_default();
            let activity = if task.key == "assemble_team" {
                self.paging_activity(incident).await?
            } else {
                Vec::new()
            };
            out.push(TaskView {
                progress: (task.key == crate::registers::CONTAINMENT_TASK_KEY).then_some(progress),
                follow_ups: follow_ups.remove(&task.step).unwrap_or_default(),
                task,
                assignee_name,
                blocked_by,
                description,
                activity,
            });
        }
        Ok(out)
    }

    /// What the incident's gates depend on, read once (for views of many communications).
    pub(crate) async fn gates_of(&self, incident: &Incident) -> Result<Gates<'_>> {
        let tasks = self.store.tasks(incident.id).await?;
        self.gates_for(incident, &tasks).await
    }

    /// The unmet gates of one playbook step of an incident (what a communication waits for).
    pub(crate) async fn unmet_gates_of(&self, incident: &Incident, step: u32) -> Result<Vec<UnmetGate>> {
        Ok(self.gates_of(incident).await?.unmet(step))
    }

    /// Changes a task's status or assignee. Moving it past an unmet gate is refused with
    /// [`ServiceError::GateUnmet`] unless the incident commander gives an override reason.
    ///
    /// A follow-up task the registers created (e.g. rotating a credential) is addressed the
    /// same way; it has no gate, so an override reason is refused as meaningless.
    pub async fn update_task(
        &self,
        p: &Principal,
        raw_ref: &str,
        task_id: &str,
        patch: TaskPatch,
    ) -> Result<TaskChange> {
        let access = self.gate_tasks(p, raw_ref).await?;
        let a = match access {
            TaskAccess::Team(a) => a,
            TaskAccess::Assignee(held) => return self.update_held_task(held, task_id, patch).await,
        };
        let tasks = self.store.tasks(a.incident().id).await?;
        let follow_ups = self.store.follow_up_tasks(a.incident().id).await?;
        let task_id = match task_by_handle(&tasks, &follow_ups, task_id)? {
            TaskRef::Checklist(id) | TaskRef::FollowUp(id) => id,
        };
        let Some(mut task) = tasks.iter().find(|t| t.id == task_id).cloned() else {
            if patch.override_reason.is_some() {
                return Err(ServiceError::invalid(
                    "override_reason",
                    "a follow-up task has no gate to override",
                ));
            }
            let a = self
                .work(
                    a,
                    "task.update",
                    "only the response team may change the incident's checklist",
                )
                .await?;
            let view = self.change_follow_up(&a, task_id, patch.status, patch.assignee).await?;
            return Ok(TaskChange::FollowUp(view));
        };
        let subject = format!("task:{}", task.id);
        if !a.may_work() {
            let e = ServiceError::Forbidden("only the response team may work on the checklist".into());
            return Err(self.refuse(p, "task.update", subject, e).await);
        }
        let a = self
            .work(a, "task.update", "only the response team may work on the checklist")
            .await?;
        let (incident, commander) = (a.incident(), a.holds(Role::IncidentCommander));
        let reason = patch
            .override_reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
            return Err(ServiceError::invalid(
                "override_reason",
                format!("longer than {MAX_REASON_CHARS} characters"),
            ));
        }
        if let Some(r) = &reason {
            cordon_core::text::check_multiline("override_reason", r)?;
        }
        let mut changes = serde_json::Map::new();
        changes.insert("step".into(), json!(task.step));
        let mut overridden = Vec::new();

        if let Some(to) = patch.status
            && to != task.status
        {
            let all_gates = self.gates_for(incident, &tasks).await?;
            let gates = if to.passes_gates() {
                all_gates.unmet(task.step)
            } else {
                Vec::new()
            };
            if !gates.is_empty() {
                match &reason {
                    None => {
                        let e = ServiceError::GateUnmet { gates };
                        return Err(self.refuse(p, "task.update", subject, e).await);
                    }
                    Some(_) if !commander => {
                        let e = ServiceError::Forbidden("only the incident commander may override a gate".into());
                        return Err(self.refuse(p, "task.update", subject, e).await);
                    }
                    Some(r) => {
                        overridden = gates.iter().map(|g| g.name.clone()).collect();
                        task.override_reason = Some(r.clone());
                    }
                }
            }
            changes.insert(
                "status".into(),
                json!({ "from": task.status.as_str(), "to": to.as_str() }),
            );
            task.status = to;
        }

        if let Some(assignee) = patch.assignee {
            let new = match assignee {
                Some(name) => Some(
                    self.store
                        .user_by_name(&name)
                        .await?
                        .ok_or_else(|| ServiceError::invalid("assignee", format!("no user named `{name}`")))?,
                ),
                None => None,
            };
            let new_id = new.as_ref().map(|u| u.id);
            if new_id != task.assignee {
                changes.insert("assignee".into(), json!(new.as_ref().map(|u| u.name.clone())));
                task.assignee = new_id;
            }
        }

        if changes.len() > 1 {
            let now = self.clock.now();
            task.updated_at = now;
            let action = if overridden.is_empty() {
                "task.update"
            } else {
                "task.gate_override"
            };
            if !overridden.is_empty() {
                changes.insert("overridden_gates".into(), json!(overridden));
                changes.insert("override_reason".into(), json!(reason));
            }
            self.store
                .update_task(&task, draft(now, &p.name, action, subject, changes.into()))
                .await?;
        }
        let mut all = tasks;
        if let Some(t) = all.iter_mut().find(|t| t.id == task.id) {
            *t = task.clone();
        }
        let views = self.views(incident, all).await?;
        views
            .into_iter()
            .find(|v| v.task.id == task.id)
            .map(|v| TaskChange::Checklist(Box::new(v)))
            .ok_or(ServiceError::NotFound("task"))
    }
}

/// The task a handle names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskRef {
    Checklist(Uuid),
    FollowUp(Uuid),
}

/// The handles of follow-up tasks, in the order given: `9.1`, `9.2`, … under step 9, numbered
/// by creation (then key, as the store lists them), so a task keeps its handle as others
/// are added; follow-up tasks are never removed. Checklist steps keep their bare numbers.
pub(crate) fn follow_up_handles(tasks: &[FollowUpTask]) -> Vec<String> {
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by(|a, b| {
        let (a, b) = (&tasks[*a], &tasks[*b]);
        (a.created_at, a.key.as_str()).cmp(&(b.created_at, b.key.as_str()))
    });
    let mut seen: HashMap<u32, u32> = HashMap::new();
    let mut out = vec![String::new(); tasks.len()];
    for i in order {
        let n = seen.entry(tasks[i].parent_step).or_default();
        *n += 1;
        out[i] = format!("{}.{n}", tasks[i].parent_step);
    }
    out
}

/// Resolves a task handle among an incident's checklist and follow-up tasks (see
/// [`crate::handles`]): a step number names the checklist step (never a follow-up under it),
/// `9.1` the first follow-up task under step 9; otherwise an id or a unique id prefix.
pub(crate) fn task_by_handle(tasks: &[Task], follow_ups: &[FollowUpTask], handle: &str) -> Result<TaskRef> {
    task_by_handle_among(tasks, follow_ups, handle, |_| true)
}

/// [`task_by_handle`] among the tasks `keep` admits (an assignee's own): numbered among all of
/// the incident's tasks, so `9.2` means the same task to everyone, but matched only against
/// the kept ones, so an ambiguous prefix names none of the others.
pub(crate) fn task_by_handle_among(
    tasks: &[Task],
    follow_ups: &[FollowUpTask],
    handle: &str,
    keep: impl Fn(Uuid) -> bool,
) -> Result<TaskRef> {
    let handle = handle.trim();
    if let Ok(step) = handle.parse::<u32>()
        && !tasks.iter().any(|t| t.step == step)
    {
        let last = tasks.iter().map(|t| t.step).max().unwrap_or(0);
        return Err(ServiceError::invalid(
            "id",
            format!(
                "the checklist has steps 1–{last}; a follow-up task is STEP.N (e.g. `9.1`), or give a task id prefix"
            ),
        ));
    }
    let numbers = follow_up_handles(follow_ups);
    let mut all: Vec<(TaskRef, String)> = tasks
        .iter()
        .map(|t| (TaskRef::Checklist(t.id), t.step.to_string()))
        .collect();
    all.extend(
        follow_ups
            .iter()
            .zip(numbers)
            .map(|(t, n)| (TaskRef::FollowUp(t.id), n)),
    );
    all.retain(|(r, _)| match r {
        TaskRef::Checklist(id) | TaskRef::FollowUp(id) => keep(*id),
    });
    let found = crate::handles::resolve("task", "id", handle, &all, |(r, name)| crate::handles::Named {
        id: match r {
            TaskRef::Checklist(id) | TaskRef::FollowUp(id) => *id,
        },
        names: vec![name.clone()],
    })?;
    Ok(found.0)
}

fn unmet(
    playbook: &Playbook,
    step: u32,
    statuses: &HashMap<u32, TaskStatus>,
    decisions: &BTreeSet<String>,
) -> Vec<UnmetGate> {
    playbook
        .unmet_gates(step, statuses, decisions)
        .into_iter()
        .map(|g| UnmetGate {
            name: g.name.clone(),
            description: g.description.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordon_core::Timestamp;

    fn follow_up(n: u128, step: u32, key: &str, at: &str) -> FollowUpTask {
        let at: Timestamp = at.parse().unwrap();
        FollowUpTask {
            id: Uuid::from_u128(n),
            incident_id: Uuid::nil(),
            parent_step: step,
            key: key.into(),
            title: key.into(),
            status: TaskStatus::Todo,
            owner_role: None,
            assignee: None,
            credential_id: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn follow_ups_are_numbered_under_their_step_by_creation_then_key() {
        let tasks = [
            follow_up(1, 9, "rotate:b", "2026-11-27T10:00:00Z"),
            follow_up(2, 9, "rotate:a", "2026-11-27T10:00:00Z"),
            follow_up(3, 4, "image:web1", "2026-11-27T09:00:00Z"),
            follow_up(4, 9, "rotate:0", "2026-11-27T11:00:00Z"),
        ];
        assert_eq!(follow_up_handles(&tasks), ["9.2", "9.1", "4.1", "9.3"]);
    }

    #[test]
    fn a_bare_number_is_a_checklist_step_and_step_dot_n_a_follow_up() {
        let at: Timestamp = "2026-11-27T09:00:00Z".parse().unwrap();
        let step = |n: u32| Task {
            id: Uuid::from_u128(100 + u128::from(n)),
            incident_id: Uuid::nil(),
            step: n,
            key: format!("s{n}"),
            title: format!("step {n}"),
            owner_role: Role::IncidentCommander,
            status: TaskStatus::Todo,
            assignee: None,
            check_items: Vec::new(),
            override_reason: None,
            updated_at: at,
        };
        let tasks: Vec<Task> = (1..=14).map(step).collect();
        let follow_ups = [follow_up(1, 9, "rotate:a", "2026-11-27T10:00:00Z")];
        let find = |h: &str| task_by_handle(&tasks, &follow_ups, h);
        assert_eq!(find("9").unwrap(), TaskRef::Checklist(Uuid::from_u128(109)));
        assert_eq!(find("9.1").unwrap(), TaskRef::FollowUp(Uuid::from_u128(1)));
        assert!(matches!(find("9.2"), Err(ServiceError::NotFound("task"))));
        match find("15") {
            Err(ServiceError::Invalid { field: "id", message }) => assert!(message.contains("1–14"), "{message}"),
            other => panic!("{other:?}"),
        }
    }
}
