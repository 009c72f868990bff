//! The war room's activity in readable words: each audit entry of the incident's history
//! (`cordon_service::activity`) as a sentence in the reader's language — who declared, paged,
//! acknowledged, moved a task, overrode a gate. Step titles, statuses and roles are named as
//! the board names them.

use cordon_core::Timestamp;
use cordon_service::activity::ActivityEntry;
use serde_json::Value;

use super::Base;

/// One line of the activity list.
pub(crate) struct ActivityLine {
    pub at: Timestamp,
    pub text: String,
}

/// What the sentences need to know about the incident: its playbook and each step's key (to
/// name a step by its title).
pub(crate) struct Steps<'a> {
    pub playbook: &'a str,
    /// `(step, key, title as the playbook writes it)`.
    pub steps: Vec<(u32, String, String)>,
}

impl Steps<'_> {
    fn title(&self, base: &Base, step: u64) -> String {
        match self.steps.iter().find(|(n, _, _)| u64::from(*n) == step) {
            Some((_, key, title)) => base.t_or(&format!("playbook.{}.{key}.title", self.playbook), title),
            None => String::new(),
        }
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An entry as a sentence; `None` for entries the activity does not show.
pub(crate) fn line(base: &Base, steps: &Steps<'_>, e: &ActivityEntry) -> Option<ActivityLine> {
    let actor = e.actor.as_str();
    let p = &e.payload;
    let role = |r: &str| base.t_or(&format!("role.{r}"), r);
    let status = |s: &str| base.t_or(&format!("status.{s}"), s);
    let task_status = |s: &str| base.t_or(&format!("task_status.{s}"), s);
    let step_args = |n: u64| (n.to_string(), steps.title(base, n));
    let text = match e.action.as_str() {
        "incident.declare" => base.tn("activity.declared", &[("actor", actor)]),
        "incident.update" => match p.get("status") {
            Some(s) => base.tn(
                "activity.incident_status",
                &[
                    ("actor", actor),
                    ("from", &status(text(s, "from"))),
                    ("to", &status(text(s, "to"))),
                ],
            ),
            None if p.get("severity").is_some() => base.tn(
                "activity.incident_severity",
                &[("actor", actor), ("to", &severity_text(p.get("severity")))],
            ),
            None => base.tn("activity.incident_updated", &[("actor", actor)]),
        },
        "member.add" => base.tn(
            "activity.member_added",
            &[
                ("actor", actor),
                ("user", text(p, "user")),
                ("role", &role(text(p, "role"))),
            ],
        ),
        "member.remove" => base.tn(
            "activity.member_removed",
            &[
                ("actor", actor),
                ("user", text(p, "user")),
                ("role", &role(text(p, "role"))),
            ],
        ),
        "page.trigger" => {
            let recipients: Vec<&str> = p
                .get("recipients")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            base.tn(
                "activity.paged",
                &[
                    ("actor", actor),
                    ("policy", text(p, "policy")),
                    ("recipients", &recipients.join(", ")),
                ],
            )
        }
        "page.ack" => base.tn("activity.acknowledged", &[("actor", actor)]),
        "page.escalate" => base.t("activity.escalated").to_owned(),
        "page.resolve" => base.tn("activity.page_resolved", &[("actor", actor)]),
        "notification.delivered" => base.tn(
            "activity.page_reached",
            &[("user", text(p, "user")), ("channel", text(p, "channel"))],
        ),
        "notification.failed" => base.tn(
            "activity.page_failed",
            &[("user", text(p, "user")), ("channel", text(p, "channel"))],
        ),
        "notification.retry" => return None,
        "task.update" | "task.gate_override" => {
            let n = p.get("step").and_then(Value::as_u64).unwrap_or(0);
            let (step, title) = step_args(n);
            let mut parts = Vec::new();
            if let Some(s) = p.get("status") {
                parts.push(base.tn(
                    "activity.task_moved",
                    &[
                        ("actor", actor),
                        ("step", &step),
                        ("title", &title),
                        ("from", &task_status(text(s, "from"))),
                        ("to", &task_status(text(s, "to"))),
                    ],
                ));
            }
            if let Some(a) = p.get("assignee") {
                parts.push(match a.as_str() {
                    Some(user) => base.tn(
                        "activity.task_assigned",
                        &[("actor", actor), ("step", &step), ("title", &title), ("user", user)],
                    ),
                    None => base.tn(
                        "activity.task_unassigned",
                        &[("actor", actor), ("step", &step), ("title", &title)],
                    ),
                });
            }
            if e.action == "task.gate_override" {
                parts.push(base.tn(
                    "activity.gate_overridden",
                    &[
                        ("actor", actor),
                        ("step", &step),
                        ("reason", text(p, "override_reason")),
                    ],
                ));
            }
            if parts.is_empty() {
                return None;
            }
            parts.join(" ")
        }
        "decision.record" => base.tn("activity.decision", &[("actor", actor), ("name", text(p, "name"))]),
        "clock.start" => base.tn("activity.clock_started", &[("actor", actor)]),
        "clock.milestone_met" => base.tn("activity.milestone_met", &[("actor", actor)]),
        other => base.tn("activity.other", &[("actor", actor), ("action", other)]),
    };
    Some(ActivityLine { at: e.at, text })
}

fn severity_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Object(o)) => o.get("to").map(value_text).unwrap_or_default(),
        Some(other) => value_text(other),
        None => String::new(),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
