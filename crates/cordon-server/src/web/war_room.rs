//! `/incidents/{ref}`: the war room. Codename, severity, status, sealing, commander, time since
//! declared and the running regulatory clocks; the checklist as a board with a lane per owner
//! role (steps without an unmet gate can all run now, side by side; gated steps show locked
//! with the reason); the team, paging and who is on call; the activity; the conversation.
//!
//! The page is built from parts (`summary`, `board`, `team`, `activity`, `conversation`), each
//! also served alone at `/incidents/{ref}/parts/{part}`: `static/app.js` subscribes to the
//! incident's change stream (`/api/v1/incidents/{ref}/events`) and re-fetches the parts a
//! change concerns, so what anyone changes elsewhere shows within a second. Every form posts
//! with `_csrf` and works without script; a refusal (a locked gate, a missing right) renders the
//! page again with the reason, in the reader's language. The page's script posts the same forms
//! in the background with `Accept: application/json`: success is then `204 No Content` (the
//! change stream brings the change to every open page, this one included) and a refusal a
//! problem document whose `detail` is the same sentence in the reader's language, shown next to
//! the form. An incident the caller may not see is the not-found page (a `404` problem to a
//! script), and no title carries the incident's title.
//!
//! The forms are `room_forms.rs`. Who may do what is the service's decision; the page only
//! leaves out forms the reader could not use (`cordon_core::access`), and the service refuses
//! (and audits) the rest.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cordon_core::Timestamp;
use cordon_core::access::{Standing, can_command};
use cordon_core::incident::{Severity, Status};
use cordon_core::regulatory::MilestoneStatus;
use cordon_core::role::Role;
use cordon_core::task::TaskStatus;
use cordon_service::{ServiceError, UnmetGate};

use super::activity::{ACTIVITY_SHOWN, ActivityLine, Steps};
use super::{Base, WebCaller, not_found, page};
use crate::AppState;
use crate::problem::Problem;

/// How many messages of the conversation the page shows (the newest).
const MESSAGES_SHOWN: u32 = 100;

/// A regulatory deadline still to meet.
pub(crate) struct ClockLine {
    pub label: String,
    pub due: Timestamp,
    pub overdue: bool,
}

/// An unmet gate, named and explained in the reader's language.
pub(crate) struct GateLine {
    pub name: String,
    pub reason: String,
}

/// A checklist step on the board.
pub(crate) struct Card {
    pub step: u32,
    pub title: String,
    pub description: String,
    pub status: &'static str,
    pub assignee: Option<String>,
    pub gates: Vec<GateLine>,
    pub override_reason: Option<String>,
}

impl Card {
    pub fn locked(&self) -> bool {
        !self.gates.is_empty()
    }
}

/// The steps one owner role leads.
pub(crate) struct Lane {
    pub role: &'static str,
    pub cards: Vec<Card>,
}

pub(crate) struct MemberLine {
    pub name: String,
    pub role: &'static str,
}

impl MemberLine {
    /// This line's part of a control's id: the user and role, with every character other
    /// than ASCII letters and digits written as `_` and its code (so two lines never share it,
    /// and it stays the same when the part is rendered again).
    pub fn slug(&self) -> String {
        let mut out = String::new();
        for c in self.name.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else {
                out.push_str(&format!("_{:x}", u32::from(c)));
            }
        }
        format!("{out}-{}", self.role)
    }
}

pub(crate) struct MessageLine {
    pub author: Option<String>,
    pub command: bool,
    pub body: String,
    pub at: Timestamp,
}

pub(crate) struct OnCallLine {
    pub schedule: String,
    pub user: Option<String>,
    pub until: Option<Timestamp>,
}

/// A message shown above the board after a form: an error (`role=alert`) or a confirmation.
pub(crate) struct Notice {
    pub error: bool,
    pub text: String,
}

/// Everything the war room shows, as its reader may see it.
pub(crate) struct Room {
    /// The change feed's position when the room was read: the page's script reads everything
    /// again when its stream opens further on (a change in between would be lost otherwise).
    pub seq: i64,
    pub key: String,
    pub codename: String,
    pub title: String,
    pub severity: String,
    pub status: &'static str,
    pub sealed: bool,
    pub commander: Option<String>,
    pub declared: Timestamp,
    pub now: Timestamp,
    pub clocks: Vec<ClockLine>,
    pub lanes: Vec<Lane>,
    pub team: Vec<MemberLine>,
    pub groups: Vec<String>,
    pub on_call: Vec<OnCallLine>,
    pub activity: Vec<ActivityLine>,
    /// The history page with the entries older than those shown, when there are any.
    pub older: Option<String>,
    pub messages: Vec<MessageLine>,
    /// The reader may work on the checklist (member, security group, admin).
    pub may_work: bool,
    /// The reader is on the command staff (commander, deputy, security lead, security group,
    /// admin): sees the status form and the team's remove buttons.
    pub may_command: bool,
    /// The reader is the incident commander (sees the gate override).
    pub commands: bool,
    /// The statuses the incident may move to from its own, its own first.
    pub statuses: Vec<&'static str>,
    pub people: Vec<String>,
    pub notice: Option<Notice>,
}

impl Room {
    /// Whether the status form says that closing as not an incident is the commander's: it
    /// offers that status to a reader who is not the commander.
    pub fn false_alarm_hint(&self) -> bool {
        !self.commands && self.statuses.contains(&Status::NotAnIncident.as_str())
    }

    /// The accessible name of a member line's remove button: whom it removes, in which role.
    pub fn remove_label(&self, base: &Base, m: &MemberLine) -> String {
        base.tn(
            "room.remove_member_label",
            &[
                ("user", &m.name),
                ("role", &base.t_or(&format!("role.{}", m.role), m.role)),
            ],
        )
    }

    pub fn severities(&self) -> [&'static str; 5] {
        Severity::ALL.map(Severity::as_str)
    }

    pub fn task_statuses(&self) -> [&'static str; 4] {
        TaskStatus::ALL.map(TaskStatus::as_str)
    }

    pub fn roles(&self) -> Vec<&'static str> {
        Role::ALL
            .iter()
            .filter(|r| **r != Role::Reporter)
            .map(|r| r.as_str())
            .collect()
    }

    /// A catalogue key for a closed-list value: `k("role", "legal")` is `role.legal`.
    pub fn k(&self, prefix: &str, value: &str) -> String {
        format!("{prefix}.{value}")
    }

    /// How long until `due` (or since, when past) as `H:MM:SS` (the template says which); the page's script keeps it
    /// counting.
    pub fn countdown(&self, due: &Timestamp) -> String {
        let secs = due.duration_since(self.now).as_secs();
        let s = secs.unsigned_abs();
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }

    /// Whether two closed-list names are the same (templates compare through it).
    pub fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }

    pub fn messages_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

macro_rules! room_template {
    ($name:ident, $path:literal) => {
        #[derive(Template)]
        #[template(path = $path)]
        pub(crate) struct $name {
            pub(crate) base: Base,
            pub(crate) room: Room,
        }
    };
}

room_template!(WarRoomPage, "war_room.html");
room_template!(SummaryPart, "war_room/summary.html");
room_template!(BoardPart, "war_room/board.html");
room_template!(TeamPart, "war_room/team.html");
room_template!(ActivityPart, "war_room/activity.html");
room_template!(ConversationPart, "war_room/conversation.html");

/// What a read of the room fetches beside the incident and its team: the whole page needs
/// everything, a part (re-fetched after each change, on every open page) only what it shows.
#[derive(Debug, Clone, Copy)]
struct Needs {
    tasks: bool,
    activity: bool,
    clocks: bool,
    messages: bool,
    on_call: bool,
}

impl Needs {
    const ALL: Needs = Needs {
        tasks: true,
        activity: true,
        clocks: true,
        messages: true,
        on_call: true,
    };

    /// What the part `name` shows; `None` for a part that does not exist.
    fn part(name: &str) -> Option<Needs> {
        let none = Needs {
            tasks: false,
            activity: false,
            clocks: false,
            messages: false,
            on_call: false,
        };
        Some(match name {
            "summary" => Needs { clocks: true, ..none },
            "board" => Needs { tasks: true, ..none },
            "team" => Needs { on_call: true, ..none },
            // The activity names steps by their titles.
            "activity" => Needs {
                tasks: true,
                activity: true,
                ..none
            },
            "conversation" => Needs { messages: true, ..none },
            _ => return None,
        })
    }
}

/// Reads what the room shows (all of it, or what `needs` says) through the service (the gate
/// decides; `NotFound` for an incident the caller may not see).
async fn load(state: &AppState, caller: &WebCaller, r: &str, needs: Needs) -> Result<Room, ServiceError> {
    let c = &state.cordon;
    let p = &caller.principal;
    let base = &caller.base;
    // Read before anything else: every change the feed had read by then is in what follows.
    let seq = c.changes_position();
    let details = c.incident(p, r).await?;
    let tasks = if needs.tasks {
        c.tasks(p, r).await?.checklist
    } else {
        Vec::new()
    };
    let activity = if needs.activity {
        c.activity(p, r, None, ACTIVITY_SHOWN).await?
    } else {
        Default::default()
    };
    let clocks = if needs.clocks {
        c.clocks(p, r).await?
    } else {
        Vec::new()
    };
    let messages = if needs.messages {
        c.messages(p, r, None, MESSAGES_SHOWN).await?
    } else {
        Vec::new()
    };
    let on_call = if needs.on_call {
        c.on_call_now().await?.schedules
    } else {
        Vec::new()
    };
    let now = c.clock().now();

    let incident = &details.incident;
    let playbook = incident.playbook.clone();
    let active: Vec<_> = details.members.iter().filter(|m| m.ended_at.is_none()).collect();
    let commander = active
        .iter()
        .find(|m| m.role == Role::IncidentCommander)
        .map(|m| m.user_name.clone());
    let standing = Standing {
        active_roles: active
            .iter()
            .filter(|m| m.user_id == p.user_id)
            .map(|m| m.role)
            .collect(),
    };
    let member = standing.is_member();
    let commands = standing.holds(Role::IncidentCommander);
    let mut people: Vec<String> = active.iter().map(|m| m.user_name.clone()).collect();
    people.sort();
    people.dedup();

    let steps = Steps::of(&playbook, &tasks);
    let key = incident.codename.key();
    let (activity, older) = super::activity::lines(base, &steps, &key, &activity);

    let mut lanes: Vec<Lane> = Vec::new();
    for t in &tasks {
        let key = &t.task.key;
        let card = Card {
            step: t.task.step,
            title: base.t_or(&format!("playbook.{playbook}.{key}.title"), &t.task.title),
            description: base.t_or(&format!("playbook.{playbook}.{key}.description"), &t.description),
            status: t.task.status.as_str(),
            assignee: t.assignee_name.clone(),
            gates: gate_lines(base, &t.blocked_by),
            override_reason: t.task.override_reason.clone(),
        };
        let role = t.task.owner_role.as_str();
        match lanes.iter_mut().find(|l| l.role == role) {
            Some(lane) => lane.cards.push(card),
            None => lanes.push(Lane {
                role,
                cards: vec![card],
            }),
        }
    }

    let clocks = clocks
        .iter()
        .flat_map(|cv| {
            let regime = cv.clock.regime.as_str();
            cv.milestones
                .iter()
                .filter(|m| m.status != MilestoneStatus::Met)
                .map(move |m| (regime, m))
        })
        .map(|(regime, m)| ClockLine {
            label: base.tn(
                "room.clock_label",
                &[
                    ("regime", &super::activity::regime_name(base, regime)),
                    (
                        "milestone",
                        &super::activity::milestone_name(base, regime, &m.name, &m.description),
                    ),
                ],
            ),
            due: m.due,
            overdue: m.due <= now,
        })
        .collect();

    let mut messages: Vec<MessageLine> = messages
        .into_iter()
        .map(|m| MessageLine {
            command: m.kind == cordon_store::room::MessageKind::Command,
            author: m.author,
            body: m.body,
            at: m.created_at,
        })
        .collect();
    messages.reverse();

    let mut statuses = vec![incident.status];
    statuses.extend(incident.status.next());
    Ok(Room {
        seq,
        key,
        codename: incident.codename.to_string(),
        title: incident.title.clone(),
        severity: incident.severity.to_string(),
        status: incident.status.as_str(),
        sealed: incident.sealed,
        commander,
        declared: incident.created_at,
        now,
        clocks,
        lanes,
        team: active
            .iter()
            .map(|m| MemberLine {
                name: m.user_name.clone(),
                role: m.role.as_str(),
            })
            .collect(),
        groups: details.teams.clone(),
        on_call: on_call
            .into_iter()
            .map(|s| OnCallLine {
                schedule: s.schedule,
                until: s.on_call.as_ref().map(|o| o.shift_end),
                user: s.on_call.map(|o| o.user),
            })
            .collect(),
        activity,
        older,
        messages,
        may_work: member || p.sees_all_incidents(),
        may_command: can_command(p, &standing),
        commands,
        statuses: statuses.into_iter().map(Status::as_str).collect(),
        people,
        notice: None,
    })
}

pub(crate) fn gate_lines(base: &Base, gates: &[UnmetGate]) -> Vec<GateLine> {
    gates
        .iter()
        .map(|g| GateLine {
            name: base.t_or(&format!("gate.{}.name", g.name), &g.name),
            reason: base.t_or(&format!("gate.{}.description", g.name), &g.description),
        })
        .collect()
}

/// The room, or the answer for why not: the not-found page, or a problem.
pub(crate) async fn room_or_answer(state: &AppState, caller: &WebCaller, r: &str) -> Result<Room, Response> {
    read_or_answer(state, caller, r, Needs::ALL).await
}

async fn read_or_answer(state: &AppState, caller: &WebCaller, r: &str, needs: Needs) -> Result<Room, Response> {
    match load(state, caller, r, needs).await {
        Ok(room) => Ok(room),
        Err(ServiceError::NotFound(_)) => Err(not_found(caller.base.clone())),
        Err(e) => Err(Problem::from(e).into_response()),
    }
}

/// `GET /incidents/{ref}`.
pub(crate) async fn show(State(state): State<AppState>, caller: WebCaller, Path(r): Path<String>) -> Response {
    match room_or_answer(&state, &caller, &r).await {
        Ok(room) => page(
            StatusCode::OK,
            &WarRoomPage {
                base: caller.base,
                room,
            },
        ),
        Err(answer) => answer,
    }
}

/// `GET /incidents/{ref}/parts/{part}`: one part of the room, for the page's script to swap in
/// after a change.
pub(crate) async fn part(
    State(state): State<AppState>,
    caller: WebCaller,
    Path((r, part)): Path<(String, String)>,
) -> Response {
    let Some(needs) = Needs::part(&part) else {
        return not_found(caller.base);
    };
    let room = match read_or_answer(&state, &caller, &r, needs).await {
        Ok(room) => room,
        Err(answer) => return answer,
    };
    let base = caller.base;
    match part.as_str() {
        "summary" => page(StatusCode::OK, &SummaryPart { base, room }),
        "board" => page(StatusCode::OK, &BoardPart { base, room }),
        "team" => page(StatusCode::OK, &TeamPart { base, room }),
        "activity" => page(StatusCode::OK, &ActivityPart { base, room }),
        _ => page(StatusCode::OK, &ConversationPart { base, room }),
    }
}

#[cfg(test)]
mod tests {
    use cordon_core::regulatory::{ClockSpec, Regime, milestones};
    use cordon_service::Playbooks;

    use super::*;

    /// Every closed list the war room shows by name: a key per value, in both catalogues (the
    /// catalogue test checks the Japanese has every English key). A new regime, deadline,
    /// status, role, step or gate cannot ship without its words.
    #[test]
    fn every_name_the_war_room_shows_is_in_both_catalogues() {
        let mut keys = Vec::new();
        let start = "2026-11-27T12:00:00Z".parse().unwrap();
        for regime in Regime::ALL {
            keys.push(format!("milestone.{}.regime", regime.as_str()));
            for unlawful in [false, true] {
                let Ok(spec) = ClockSpec::new(regime, start, None, unlawful, start) else {
                    continue;
                };
                for m in milestones(&spec) {
                    keys.push(format!("milestone.{}.{}", regime.as_str(), m.name));
                }
            }
        }
        assert!(keys.len() > Regime::ALL.len() * 2, "{keys:?}");
        keys.extend(Status::ALL.map(|s| format!("status.{}", s.as_str())));
        keys.extend(TaskStatus::ALL.map(|s| format!("task_status.{}", s.as_str())));
        keys.extend(Role::ALL.iter().map(|r| format!("role.{}", r.as_str())));
        let playbooks = Playbooks::builtin();
        for playbook in [&playbooks.security, &playbooks.operational] {
            for step in &playbook.steps {
                let at = format!("playbook.{}.{}", playbook.name, step.key);
                keys.push(format!("{at}.title"));
                if !step.description.is_empty() {
                    keys.push(format!("{at}.description"));
                }
                for gate in &step.gates {
                    keys.push(format!("gate.{}.name", gate.name));
                    keys.push(format!("gate.{}.description", gate.name));
                }
            }
            for decision in &playbook.decisions {
                keys.push(format!("gate.{}.name", decision.name));
            }
        }
        let catalogues = [
            ("en", include_str!("../../../cordon-i18n/locales/en.toml")),
            ("ja", include_str!("../../../cordon-i18n/locales/ja.toml")),
        ];
        let mut missing: Vec<String> = Vec::new();
        for (lang, text) in catalogues {
            let table: toml::Table = toml::from_str(text).unwrap();
            for key in &keys {
                let mut at = Some(&table);
                let parts: Vec<&str> = key.split('.').collect();
                let (last, path) = parts.split_last().unwrap();
                for part in path {
                    at = at.and_then(|t| t.get(*part)).and_then(toml::Value::as_table);
                }
                let found = at.and_then(|t| t.get(*last)).and_then(toml::Value::as_str);
                if found.is_none_or(str::is_empty) {
                    missing.push(format!("{key} ({lang})"));
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "missing from the catalogues:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn member_slugs_are_distinct_and_stable() {
        let line = |name: &str| MemberLine {
            name: name.into(),
            role: "scribe",
        };
        assert_eq!(line("bob").slug(), "bob-scribe");
        assert_ne!(line("a.b").slug(), line("a-b").slug());
        assert_eq!(line("a.b").slug(), line("a.b").slug());
        assert!(
            line("é x")
                .slug()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        );
    }
}
