//! The war room's activity in readable words: each audit entry of the incident's history
//! (`cordon_service::activity`) as a sentence in the reader's language — who declared, paged,
//! acknowledged, moved a task, overrode a gate, added an asset, sent a message. Step titles,
//! statuses, roles, gates, channels and register states are named as the catalogues name them;
//! only names people gave (users, assets, indicators) are shown as written. Every action the
//! service records on an incident has a sentence or is deliberately not shown (a unit test
//! below reads the service's sources for them), so no page shows a raw action name.
//!
//! The room shows the newest [`ACTIVITY_SHOWN`] entries; `GET /incidents/{ref}/activity?before=SEQ`
//! is the history page that shows the entries before `SEQ`, as many at a time, each page
//! linking to the next older one (a plain link: bookmarkable, no script needed). The cursor is
//! the one the service hands back (the last audit record it read), so every entry is on
//! exactly one page.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cordon_core::Timestamp;
use cordon_service::ServiceError;
use cordon_service::activity::{ActivityEntry, ActivityPage};
use serde_json::Value;

use super::{Base, WebCaller, not_found, page};
use crate::AppState;
use crate::problem::Problem;

/// How many activity entries a page shows (the room: the newest; the history page: the ones
/// before its cursor).
pub(crate) const ACTIVITY_SHOWN: u32 = 500;

/// The actor the audit log records for the engine's own actions (escalations, deliveries,
/// reminders, scheduled verifications).
const SYSTEM_ACTOR: &str = "system";

/// One line of the activity list.
pub(crate) struct ActivityLine {
    /// The audit sequence number (each line's own; the page's cursor is separate).
    pub seq: i64,
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

impl<'a> Steps<'a> {
    /// The steps of an incident's checklist (`Cordon::tasks`), under its playbook.
    pub fn of(playbook: &'a str, tasks: &[cordon_service::TaskView]) -> Self {
        Steps {
            playbook,
            steps: tasks
                .iter()
                .map(|t| (t.task.step, t.task.key.clone(), t.task.title.clone()))
                .collect(),
        }
    }

    fn title(&self, base: &Base, step: u64) -> String {
        match self.steps.iter().find(|(n, _, _)| u64::from(*n) == step) {
            Some((_, key, title)) => base.t_or(&format!("playbook.{}.{key}.title", self.playbook), title),
            None => String::new(),
        }
    }
}

/// The entries of a page as lines, and the address of the next older page, if any.
pub(crate) fn lines(
    base: &Base,
    steps: &Steps<'_>,
    key: &str,
    page: &ActivityPage,
) -> (Vec<ActivityLine>, Option<String>) {
    let lines = page.entries.iter().filter_map(|e| line(base, steps, e)).collect();
    let older = page
        .next_before
        .map(|seq| format!("/incidents/{key}/activity?before={seq}"));
    (lines, older)
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn number(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_u64).unwrap_or(0).to_string()
}

/// How an action reads in the activity.
enum Shown {
    /// As a sentence.
    Sentence(String),
    /// Not at all: an entry the activity does not show (a retry, a step the reader has seen
    /// as a sentence already, or an action recorded only when refused).
    Hidden,
}

/// An entry as a sentence; `None` for entries the activity does not show.
pub(crate) fn line(base: &Base, steps: &Steps<'_>, e: &ActivityEntry) -> Option<ActivityLine> {
    match sentence(base, steps, e) {
        Some(Shown::Sentence(text)) => Some(ActivityLine {
            seq: e.seq,
            at: e.at,
            text,
        }),
        Some(Shown::Hidden) => None,
        // An action no sentence knows yet (the unit test keeps this from shipping): a neutral
        // sentence in the reader's language with the action's own name.
        None => Some(ActivityLine {
            seq: e.seq,
            at: e.at,
            text: base.tn(
                "activity.other",
                &[("actor", &actor_name(base, &e.actor)), ("action", &e.action)],
            ),
        }),
    }
}

/// The actor as the reader knows them: a user's name, or Cordon for the engine.
fn actor_name(base: &Base, actor: &str) -> String {
    if actor == SYSTEM_ACTOR {
        base.t("activity.system_actor").to_owned()
    } else {
        actor.to_owned()
    }
}

/// A closed-list value by its catalogue key `{prefix}.{value}`, else as recorded.
fn named(base: &Base, prefix: &str, value: &str) -> String {
    base.t_or(&format!("{prefix}.{value}"), value)
}

fn sentence(base: &Base, steps: &Steps<'_>, e: &ActivityEntry) -> Option<Shown> {
    let actor = actor_name(base, &e.actor);
    let actor = actor.as_str();
    let p = &e.payload;
    let role = |r: &str| named(base, "role", r);
    let status = |s: &str| named(base, "status", s);
    let task_status = |s: &str| named(base, "task_status", s);
    let s = |key: &str, args: &[(&str, &str)]| Some(Shown::Sentence(base.tn(key, args)));
    let (family, verb) = e.action.split_once('.').unwrap_or((e.action.as_str(), ""));
    match (family, verb) {
        ("incident", "declare") => s("activity.declared", &[("actor", actor)]),
        ("incident", "update") => Some(Shown::Sentence(incident_update(base, actor, p, &status))),
        ("member", "add") if text(p, "via") == "page.ack" => s(
            "activity.member_joined",
            &[("user", text(p, "user")), ("role", &role(text(p, "role")))],
        ),
        ("member", "add") => s(
            "activity.member_added",
            &[
                ("actor", actor),
                ("user", text(p, "user")),
                ("role", &role(text(p, "role"))),
            ],
        ),
        ("member", "remove") => s(
            "activity.member_removed",
            &[
                ("actor", actor),
                ("user", text(p, "user")),
                ("role", &role(text(p, "role"))),
            ],
        ),
        ("decision", "record") => {
            let name = base.t_or(&format!("gate.{}.name", text(p, "name")), text(p, "name"));
            let value = if p.get("value").and_then(Value::as_bool).unwrap_or(true) {
                base.t("activity.yes")
            } else {
                base.t("activity.no")
            };
            s(
                "activity.decision_value",
                &[("actor", actor), ("name", &name), ("value", value)],
            )
        }
        ("page", _) | ("notification", _) => paging(base, actor, verb, p),
        ("task", "update" | "gate_override") => task_update(base, steps, actor, e, &task_status),
        ("task", "create") => {
            let n = p.get("parent_step").and_then(Value::as_u64).unwrap_or(0);
            s(
                "activity.follow_up_created",
                &[
                    ("actor", actor),
                    ("step", &n.to_string()),
                    ("title", &steps.title(base, n)),
                ],
            )
        }
        ("clock", _) => clock(base, actor, verb, p),
        ("asset", "create") => s(
            "activity.asset_created",
            &[
                ("actor", actor),
                ("name", text(p, "name")),
                ("state", &named(base, "activity.asset_state", text(p, "state"))),
            ],
        ),
        ("asset", "move") => s(
            "activity.asset_moved",
            &[
                ("actor", actor),
                ("name", text(p, "name")),
                ("from", &named(base, "activity.asset_state", text(p, "from"))),
                ("to", &named(base, "activity.asset_state", text(p, "to"))),
            ],
        ),
        ("system", "put") => s("activity.system_put", &[("actor", actor), ("name", text(p, "name"))]),
        // Recorded only when refused (a credential's moves are `credential.{state}`).
        ("credential", "update") => Some(Shown::Hidden),
        ("credential", "create") => s(
            "activity.credential_created",
            &[("actor", actor), ("name", text(p, "name"))],
        ),
        // `credential.{state}`: the state it moved to.
        ("credential", state) => s(
            "activity.credential_state",
            &[
                ("actor", actor),
                ("name", text(p, "name")),
                ("to", &named(base, "activity.credential_state_name", state)),
            ],
        ),
        ("exposure", "create") => s("activity.exposure", &[("actor", actor), ("data", text(p, "data"))]),
        ("ioc", "add") => s("activity.ioc_added", &[("actor", actor), ("value", text(p, "value"))]),
        ("ioc", "merge") => s("activity.ioc_merged", &[("actor", actor), ("value", text(p, "value"))]),
        ("ioc", "sightings") => s(
            "activity.ioc_sightings",
            &[
                ("actor", actor),
                ("value", text(p, "value")),
                ("n", &number(p, "new_sightings")),
            ],
        ),
        ("ioc", "reattack") => s("activity.reattack", &[]),
        ("timeline", "ingest") => s(
            "activity.timeline_ingest",
            &[("actor", actor), ("events", &number(p, "events"))],
        ),
        ("evidence", _) => evidence(base, actor, verb, p),
        ("communication", _) => communication(base, actor, verb, p),
        ("contact", "add") => s(
            "activity.contact_added",
            &[
                ("actor", actor),
                ("name", text(p, "name")),
                ("party", &named(base, "activity.party", text(p, "party"))),
            ],
        ),
        // Recorded about users and webhooks, never about an incident; and a watch is the
        // engine's job name, whose findings are `ioc.sightings` and `ioc.reattack`.
        ("contact", "test" | "test_failed" | "rotate_secret") | ("timeline", "watch") => Some(Shown::Hidden),
        _ => None,
    }
}

fn incident_update(base: &Base, actor: &str, p: &Value, status: &dyn Fn(&str) -> String) -> String {
    let severity = p.get("severity").map(|v| severity_text(Some(v)));
    match (p.get("status"), severity) {
        (Some(s), Some(severity)) => base.tn(
            "activity.incident_status_severity",
            &[
                ("actor", actor),
                ("from", &status(text(s, "from"))),
                ("to", &status(text(s, "to"))),
                ("severity", &severity),
            ],
        ),
        (Some(s), None) => base.tn(
            "activity.incident_status",
            &[
                ("actor", actor),
                ("from", &status(text(s, "from"))),
                ("to", &status(text(s, "to"))),
            ],
        ),
        (None, Some(severity)) => base.tn("activity.incident_severity", &[("actor", actor), ("to", &severity)]),
        // The title or description.
        (None, None) => base.tn("activity.incident_updated", &[("actor", actor)]),
    }
}

fn paging(base: &Base, actor: &str, verb: &str, p: &Value) -> Option<Shown> {
    let channel = |p: &Value| named(base, "activity.channel", text(p, "channel"));
    let text = match verb {
        "trigger" => {
            let recipients: Vec<&str> = p
                .get("recipients")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let recipients = recipients.join(base.t("room.list_separator"));
            let policy = text(p, "policy");
            if policy == cordon_service::paging::IC_POLICY {
                base.tn("activity.paged_ic", &[("actor", actor), ("recipients", &recipients)])
            } else if policy.starts_with("page ") {
                // A one-person page: its policy is named after the person.
                base.tn(
                    "activity.paged_person",
                    &[("actor", actor), ("recipients", &recipients)],
                )
            } else {
                base.tn(
                    "activity.paged",
                    &[("actor", actor), ("policy", policy), ("recipients", &recipients)],
                )
            }
        }
        "ack" => base.tn("activity.acknowledged", &[("actor", actor)]),
        "escalate" => base.t("activity.escalated").to_owned(),
        "resolve" => base.tn("activity.page_resolved", &[("actor", actor)]),
        "delivered" => base.tn(
            "activity.page_reached",
            &[("user", text(p, "user")), ("channel", &channel(p))],
        ),
        "failed" => base.tn(
            "activity.page_failed",
            &[("user", text(p, "user")), ("channel", &channel(p))],
        ),
        "retry" => return Some(Shown::Hidden),
        _ => return None,
    };
    Some(Shown::Sentence(text))
}

fn task_update(
    base: &Base,
    steps: &Steps<'_>,
    actor: &str,
    e: &ActivityEntry,
    task_status: &dyn Fn(&str) -> String,
) -> Option<Shown> {
    let p = &e.payload;
    let Some(n) = p.get("step").and_then(Value::as_u64) else {
        // A follow-up task (created by the registers): it has no step of its own.
        return Some(match p.get("status") {
            Some(s) => Shown::Sentence(base.tn(
                "activity.follow_up_moved",
                &[("actor", actor), ("to", &task_status(text(s, "to")))],
            )),
            None => Shown::Sentence(base.tn("activity.follow_up_updated", &[("actor", actor)])),
        });
    };
    let (step, title) = (n.to_string(), steps.title(base, n));
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
        return Some(Shown::Hidden);
    }
    Some(Shown::Sentence(parts.join(base.t("activity.separator"))))
}

/// A regulatory deadline by its catalogue name (`milestone.{regime}.{name}`).
pub(crate) fn milestone_name(base: &Base, regime: &str, name: &str, fallback: &str) -> String {
    base.t_or(&format!("milestone.{regime}.{name}"), fallback)
}

/// A regime by its catalogue name (`milestone.{regime}.regime`: GDPR, 個人情報保護法, …).
pub(crate) fn regime_name(base: &Base, regime: &str) -> String {
    base.t_or(&format!("milestone.{regime}.regime"), &regime.to_ascii_uppercase())
}

fn clock(base: &Base, actor: &str, verb: &str, p: &Value) -> Option<Shown> {
    let text = match verb {
        "start" => base.tn(
            "activity.clock_started_regime",
            &[("actor", actor), ("regime", &regime_name(base, text(p, "regime")))],
        ),
        "milestone_met" => base.tn("activity.milestone_met", &[("actor", actor)]),
        "remind" => {
            let regime = text(p, "regime");
            let milestone = text(p, "milestone");
            base.tn(
                "activity.clock_reminded",
                &[
                    ("regime", &regime_name(base, regime)),
                    ("milestone", &milestone_name(base, regime, milestone, milestone)),
                ],
            )
        }
        // The deadline was met before its reminder was due: nothing happened.
        "reminder_dropped" => return Some(Shown::Hidden),
        _ => return None,
    };
    Some(Shown::Sentence(text))
}

fn evidence(base: &Base, actor: &str, verb: &str, p: &Value) -> Option<Shown> {
    let details = p.get("details").unwrap_or(&Value::Null);
    let key = match verb {
        "acquisition" => "activity.evidence_added",
        "verification" => "activity.evidence_verified",
        "mismatch" => "activity.evidence_mismatch",
        "download" => "activity.evidence_downloaded",
        "export" => {
            return Some(Shown::Sentence(base.tn(
                "activity.evidence_exported",
                &[("actor", actor), ("to", text(details, "to"))],
            )));
        }
        "transfer" => {
            return Some(Shown::Sentence(base.tn(
                "activity.evidence_transferred",
                &[("actor", actor), ("to", text(details, "to"))],
            )));
        }
        // The locker's receipt comes with every acquisition (one sentence says both); adding,
        // changing and deleting are recorded only when refused (evidence is write-once).
        // `verify` names the check (and the engine's job); what it found is `verification` or
        // `mismatch`.
        "receipt" | "add" | "update" | "delete" | "verify" => return Some(Shown::Hidden),
        _ => return None,
    };
    Some(Shown::Sentence(base.tn(key, &[("actor", actor)])))
}

fn communication(base: &Base, actor: &str, verb: &str, p: &Value) -> Option<Shown> {
    let audience = || named(base, "activity.audience", text(p, "audience"));
    let text = match verb {
        "create" => base.tn(
            "activity.message_drafted",
            &[("actor", actor), ("audience", &audience())],
        ),
        "update" => base.tn("activity.message_edited", &[("actor", actor)]),
        "approve" => base.tn(
            "activity.message_approved",
            &[("actor", actor), ("role", &named(base, "role", text(p, "role")))],
        ),
        "lint_override" => base.tn(
            "activity.message_checker_overridden",
            &[("actor", actor), ("reason", text(p, "reason"))],
        ),
        "send" => base.tn("activity.message_sent", &[("actor", actor), ("audience", &audience())]),
        "partly_sent" => base.t("activity.message_partly_sent").to_owned(),
        "unsend" => base.t("activity.message_unsent").to_owned(),
        _ => return None,
    };
    Some(Shown::Sentence(text))
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

#[derive(Template)]
#[template(path = "war_room/history.html")]
struct HistoryPage {
    base: Base,
    key: String,
    codename: String,
    lines: Vec<ActivityLine>,
    older: Option<String>,
    page_size: u32,
}

/// `before=SEQ` from the query: `Ok(None)` when absent, `Err` when malformed.
fn before_of(query: Option<&str>) -> Result<Option<i64>, ()> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or("")).map_err(|_| ())?;
    match pairs.iter().find(|(k, _)| k == "before") {
        None => Ok(None),
        Some((_, v)) if v.len() <= 18 && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            v.parse().map(Some).map_err(|_| ())
        }
        Some(_) => Err(()),
    }
}

/// `GET /incidents/{ref}/activity?before=SEQ`: the incident's history before `SEQ` (from the
/// newest without it), [`ACTIVITY_SHOWN`] entries at a time, with a link to the older ones.
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: WebCaller,
    Path(r): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(before) = before_of(query.as_deref()) else {
        return not_found(caller.base);
    };
    let c = &state.cordon;
    let p = &caller.principal;
    let loaded = async {
        let details = c.incident(p, &r).await?;
        let tasks = c.tasks(p, &r).await?.checklist;
        let activity = c.activity(p, &r, before, ACTIVITY_SHOWN).await?;
        Ok::<_, ServiceError>((details, tasks, activity))
    };
    let (details, tasks, activity) = match loaded.await {
        Ok(v) => v,
        Err(ServiceError::NotFound(_)) => return not_found(caller.base),
        Err(e) => return Problem::from(e).into_response(),
    };
    let incident = &details.incident;
    let key = incident.codename.key();
    let steps = Steps::of(&incident.playbook, &tasks);
    let (lines, older) = lines(&caller.base, &steps, &key, &activity);
    page(
        StatusCode::OK,
        &HistoryPage {
            codename: incident.codename.to_string(),
            base: caller.base,
            key,
            lines,
            older,
            page_size: ACTIVITY_SHOWN,
        },
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use cordon_core::register::{AssetState, CredentialState};
    use cordon_store::evidence::CustodyKind;
    use jiff::tz::TimeZone;

    use super::*;
    use crate::web::Lang;

    fn base(lang: Lang) -> Base {
        Base {
            lang,
            user: Some("alice".into()),
            csrf: String::new(),
            tz: TimeZone::UTC,
            here: "/".into(),
        }
    }

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every audit action the service writes about an incident or its items: the literal
    /// ones in its sources (`"asset.move"`), and those it builds from a closed list
    /// (`credential.{state}`, `evidence.{custody kind}`).
    fn incident_actions() -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cordon-service/src");
        let mut files = Vec::new();
        sources(&root, &mut files);
        assert!(files.len() > 10, "found the service's sources");
        let families = "asset|clock|communication|contact|credential|decision|evidence|exposure|incident|ioc|\
                        member|message|notification|page|system|task|timeline";
        let re = regex::Regex::new(&format!(r#""((?:{families})\.[a-z_]+(?:\.[a-z_]+)*)""#)).unwrap();
        let mut out = BTreeSet::new();
        for f in files {
            let code = std::fs::read_to_string(&f).unwrap();
            out.extend(re.captures_iter(&code).map(|c| c[1].to_owned()));
        }
        out.extend(
            CredentialState::ALL
                .iter()
                .map(|s| format!("credential.{}", s.as_str())),
        );
        out.extend(CustodyKind::ALL.iter().map(|k| format!("evidence.{}", k.as_str())));
        // What the activity shows at all: changes, not reads, refusals or messages.
        out.retain(|a| cordon_service::feed::kind_of(a).is_some_and(|k| k != "message"));
        assert!(out.contains("task.gate_override") && out.contains("evidence.acquisition"));
        out
    }

    #[test]
    fn every_action_recorded_on_an_incident_reads_as_a_sentence_in_both_languages() {
        let steps = Steps {
            playbook: "security",
            steps: vec![(4, "isolate_instances".into(), "Isolate affected instances".into())],
        };
        let mut unknown = Vec::new();
        for action in incident_actions() {
            let e = ActivityEntry {
                seq: 1,
                at: Timestamp::UNIX_EPOCH,
                actor: "alice".into(),
                action: action.clone(),
                payload: serde_json::json!({ "step": 4, "status": { "from": "todo", "to": "done" } }),
            };
            for lang in Lang::ALL {
                let b = base(lang);
                match sentence(&b, &steps, &e) {
                    None => unknown.push(format!("{action} ({})", lang.code())),
                    Some(Shown::Sentence(s)) => {
                        assert!(!s.contains(&action), "{action}: {s}");
                        assert!(!s.contains('?'), "{action}: a key missing from the catalogues: {s}");
                    }
                    Some(Shown::Hidden) => {}
                }
            }
        }
        assert!(
            unknown.is_empty(),
            "actions without a sentence in web/activity.rs:\n{}",
            unknown.join("\n")
        );
    }

    #[test]
    fn register_states_channels_audiences_and_parties_are_in_the_catalogues() {
        let mut missing = Vec::new();
        let mut need = |key: String| {
            if Lang::En.lookup(&key).is_none() {
                missing.push(key);
            }
        };
        for s in AssetState::ALL {
            need(format!("activity.asset_state.{}", s.as_str()));
        }
        for s in CredentialState::ALL {
            need(format!("activity.credential_state_name.{}", s.as_str()));
        }
        for c in ["email", "webhook", "sms", "matrix"] {
            need(format!("activity.channel.{c}"));
        }
        for a in cordon_core::comms::Audience::ALL {
            need(format!("activity.audience.{}", a.as_str()));
        }
        for p in cordon_core::comms::Party::ALL {
            need(format!("activity.party.{}", p.as_str()));
        }
        assert!(missing.is_empty(), "missing: {missing:?}");
    }

    #[test]
    fn sentences_name_steps_states_and_the_engine_in_the_readers_language() {
        let steps = Steps {
            playbook: "security",
            steps: vec![(4, "isolate_instances".into(), "Isolate affected instances".into())],
        };
        let entry = |actor: &str, action: &str, payload: Value| ActivityEntry {
            seq: 7,
            at: Timestamp::UNIX_EPOCH,
            actor: actor.into(),
            action: action.into(),
            payload,
        };
        let ja = base(Lang::Ja);
        let moved = line(
            &ja,
            &steps,
            &entry(
                "alice",
                "task.update",
                serde_json::json!({ "step": 4, "status": { "from": "todo", "to": "in_progress" } }),
            ),
        )
        .unwrap();
        assert_eq!(
            moved.text,
            "alice がステップ4「影響を受けたインスタンスを隔離する」を「未着手」から「対応中」に変更しました。"
        );
        let en = base(Lang::En);
        let asset = line(
            &en,
            &steps,
            &entry(
                "bob",
                "asset.move",
                serde_json::json!({ "name": "web1", "from": "compromised", "to": "isolated" }),
            ),
        )
        .unwrap();
        assert_eq!(asset.text, "bob marked the asset web1 as isolated (was compromised)");
        let paged = line(
            &ja,
            &steps,
            &entry(
                "alice",
                "page.trigger",
                serde_json::json!({ "policy": "incident-commander", "recipients": ["carol", "dave"] }),
            ),
        )
        .unwrap();
        assert!(!paged.text.contains("incident-commander"), "{}", paged.text);
        let reached = line(
            &ja,
            &steps,
            &entry(
                "system",
                "notification.delivered",
                serde_json::json!({ "user": "carol", "channel": "email" }),
            ),
        )
        .unwrap();
        assert!(
            !reached.text.contains("email") && !reached.text.contains("system"),
            "{}",
            reached.text
        );
        let joined = line(
            &en,
            &steps,
            &entry(
                "system",
                "member.add",
                serde_json::json!({ "user": "carol", "role": "subject_matter_expert", "via": "page.ack" }),
            ),
        )
        .unwrap();
        assert_eq!(
            joined.text,
            "carol joined the team as Subject matter expert by acknowledging a page"
        );
        for lang in Lang::ALL {
            let retry = entry("system", "notification.retry", Value::Null);
            assert!(line(&base(lang), &steps, &retry).is_none());
        }
    }

    #[test]
    fn the_cursor_comes_from_the_query_or_the_page_is_not_found() {
        assert_eq!(before_of(None), Ok(None));
        assert_eq!(before_of(Some("before=42")), Ok(Some(42)));
        assert_eq!(before_of(Some("lang=ja&before=42")), Ok(Some(42)));
        for bad in ["before=", "before=-1", "before=x", "before=1234567890123456789"] {
            assert_eq!(before_of(Some(bad)), Err(()), "{bad}");
        }
    }
}
