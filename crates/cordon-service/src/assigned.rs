//! Tasks held by people outside an incident's team.
//!
//! A task may be assigned to anyone (a credential's owner asked to rotate it, a system owner
//! asked to block an address). Such an assignee passes [`Cordon::gate_tasks`] with an
//! [`Assigned`] proof: they see the incident's codename and the tasks they hold, move those
//! tasks' status (through the same gates as the team), and nothing else — not the rest of the
//! checklist, not who else works on it, not the registers behind it.

use std::collections::HashMap;

use cordon_core::access::Principal;
use cordon_core::codename::Codename;
use cordon_core::task::{Task, TaskStatus};
use cordon_store::registers::FollowUpTask;
use serde_json::json;
use uuid::Uuid;

use crate::audit::draft;
use crate::gate::{Assigned, TaskAccess};
use crate::registers::FollowUpView;
use crate::tasks::{Gates, TaskChange, TaskPatch, TaskRef, TaskView, follow_up_handles, task_by_handle_among};
use crate::{Cordon, Result, ServiceError};

/// An incident's tasks as one caller sees them.
#[derive(Debug, Clone)]
pub struct TaskList {
    /// Checklist steps in order, each with its follow-up tasks.
    pub checklist: Vec<TaskView>,
    /// Follow-up tasks the caller holds under a step not listed in `checklist` (an assignee
    /// from outside the team sees only their own).
    pub loose_follow_ups: Vec<FollowUpView>,
}

/// One task a person holds, with the codename of its incident: the "my tasks" view.
#[derive(Debug, Clone)]
pub struct HeldTask {
    pub incident_id: Uuid,
    pub codename: Codename,
    /// The person is on the incident's team (or sees every incident); otherwise they hold
    /// the task from outside and see only their own tasks there.
    pub on_team: bool,
    pub task: TaskChange,
}

/// How many tasks of each kind "my tasks" reads.
const MAX_HELD: u32 = 1000;

impl Cordon {
    /// The incident's checklist as `p` may see it: the whole of it for those who may see the
    /// incident; for an assignee from outside the team, only the tasks they hold.
    pub async fn tasks(&self, p: &Principal, raw_ref: &str) -> Result<TaskList> {
        match self.gate_tasks(p, raw_ref).await? {
            TaskAccess::Team(a) => {
                let tasks = self.store.tasks(a.incident().id).await?;
                Ok(TaskList {
                    checklist: self.views(a.incident(), tasks).await?,
                    loose_follow_ups: Vec::new(),
                })
            }
            TaskAccess::Assignee(held) => self.held_views(&held).await,
        }
    }

    /// Every task assigned to `p`, on every incident, each with its incident's codename.
    pub async fn my_tasks(&self, p: &Principal) -> Result<Vec<HeldTask>> {
        let mut out = Vec::new();
        for access in self.gate_assigned_everywhere(p, MAX_HELD).await? {
            let (incident, on_team, list) = match access {
                TaskAccess::Team(a) => {
                    let tasks = self.store.tasks(a.incident().id).await?;
                    let checklist = self.views(a.incident(), tasks).await?;
                    (
                        a.incident().clone(),
                        true,
                        TaskList {
                            checklist,
                            loose_follow_ups: Vec::new(),
                        },
                    )
                }
                TaskAccess::Assignee(held) => (held.incident().clone(), false, self.held_views(&held).await?),
            };
            let mine = |a: Option<Uuid>| a == Some(p.user_id);
            let held = |task| HeldTask {
                incident_id: incident.id,
                codename: incident.codename.clone(),
                on_team,
                task,
            };
            for mut view in list.checklist {
                let follow_ups = std::mem::take(&mut view.follow_ups);
                if mine(view.task.assignee) {
                    out.push(held(TaskChange::Checklist(Box::new(view))));
                }
                out.extend(
                    follow_ups
                        .into_iter()
                        .filter(|f| mine(f.task.assignee))
                        .map(|f| held(TaskChange::FollowUp(f))),
                );
            }
            out.extend(
                list.loose_follow_ups
                    .into_iter()
                    .filter(|f| mine(f.task.assignee))
                    .map(|f| held(TaskChange::FollowUp(f))),
            );
        }
        Ok(out)
    }

    /// The tasks an assignee from outside the team holds, as they may see them.
    async fn held_views(&self, held: &Assigned) -> Result<TaskList> {
        let gates = self.gates_for(held.incident(), held.all_checklist()).await?;
        let name = Some(held.principal().name.clone());
        // Follow-up handles (`9.2`) are numbered among all of the incident's follow-ups.
        let handles = handles_by_id(held.all_follow_ups());
        let follow_up = |task: &FollowUpTask| FollowUpView {
            task: task.clone(),
            assignee_name: name.clone(),
            handle: handles.get(&task.id).cloned().unwrap_or_default(),
        };
        let checklist: Vec<TaskView> = held
            .checklist()
            .map(|task| TaskView {
                follow_ups: held
                    .follow_ups()
                    .filter(|f| f.parent_step == task.step)
                    .map(follow_up)
                    .collect(),
                ..held_view(&gates, task.clone(), name.clone())
            })
            .collect();
        let loose_follow_ups = held
            .follow_ups()
            .filter(|f| !held.checklist().any(|t| t.step == f.parent_step))
            .map(follow_up)
            .collect();
        Ok(TaskList {
            checklist,
            loose_follow_ups,
        })
    }

    /// An assignee from outside the team moves one of their tasks. Reassigning and
    /// overriding a gate stay with the team; both are refused and audited.
    pub(crate) async fn update_held_task(&self, held: Assigned, handle: &str, patch: TaskPatch) -> Result<TaskChange> {
        let p = held.principal();
        let incident = held.incident();
        let (all, all_follow_ups) = (held.all_checklist(), held.all_follow_ups());
        let task_id = match task_by_handle_among(all, all_follow_ups, handle, |id| held.holds_task(id)) {
            Ok(TaskRef::Checklist(id) | TaskRef::FollowUp(id)) => id,
            // A step they do not hold is, to them, no task at all.
            Err(ServiceError::NotFound(_) | ServiceError::Invalid { .. }) => {
                return Err(ServiceError::NotFound("task"));
            }
            Err(e) => return Err(e),
        };
        let subject = format!("task:{task_id}");
        let checklist = held.checklist().find(|t| t.id == task_id).cloned();
        let follow_up = held.follow_ups().find(|t| t.id == task_id).cloned();
        if checklist.is_none() && follow_up.is_none() {
            return Err(ServiceError::NotFound("task"));
        }
        if patch.assignee.is_some() || patch.override_reason.is_some() {
            let e = ServiceError::Forbidden(
                "an assignee from outside the team may change only the status of their own tasks".into(),
            );
            return Err(self.refuse(p, "task.update", subject, e).await);
        }
        let now = self.clock.now();
        if let Some(mut task) = checklist {
            let gates = self.gates_for(incident, all).await?;
            if let Some(to) = patch.status.filter(|s| *s != task.status) {
                let unmet = if to.passes_gates() {
                    gates.unmet(task.step)
                } else {
                    Vec::new()
                };
                if !unmet.is_empty() {
                    let e = ServiceError::GateUnmet { gates: unmet };
                    return Err(self.refuse(p, "task.update", subject, e).await);
                }
                let changes = status_change(task.step, task.status, to);
                task.status = to;
                task.updated_at = now;
                self.store
                    .update_task(&task, draft(now, &p.name, "task.update", subject, changes))
                    .await?;
            }
            let view = held_view(&gates, task, Some(p.name.clone()));
            return Ok(TaskChange::Checklist(Box::new(view)));
        }
        let mut task = follow_up.expect("one of the two is held");
        if let Some(to) = patch.status.filter(|s| *s != task.status) {
            let changes = status_change(task.parent_step, task.status, to);
            task.status = to;
            task.updated_at = now;
            self.store
                .update_follow_up_task(&task, draft(now, &p.name, "task.update", subject, changes))
                .await?;
        }
        let handle = handles_by_id(all_follow_ups).remove(&task.id).unwrap_or_default();
        Ok(TaskChange::FollowUp(FollowUpView {
            task,
            assignee_name: Some(p.name.clone()),
            handle,
        }))
    }
}

/// A checklist task as its assignee from outside the team sees it: the task, what it waits
/// for, and the step's description; no activity or register progress of the incident.
fn held_view(gates: &Gates<'_>, task: Task, assignee_name: Option<String>) -> TaskView {
    let blocked_by = if task.status.is_finished() {
        Vec::new()
    } else {
        gates.unmet(task.step)
    };
    TaskView {
        description: gates.step_description(task.step),
        task,
        assignee_name,
        blocked_by,
        activity: Vec::new(),
        progress: None,
        follow_ups: Vec::new(),
    }
}

/// Each follow-up task's handle (`9.2`), numbered among all of the incident's follow-ups.
fn handles_by_id(all: &[FollowUpTask]) -> HashMap<Uuid, String> {
    all.iter().map(|t| t.id).zip(follow_up_handles(all)).collect()
}

fn status_change(step: u32, from: TaskStatus, to: TaskStatus) -> serde_json::Value {
    json!({
        "step": step,
        "status": { "from": from.as_str(), "to": to.as_str() },
        "by": "assignee",
    })
}
