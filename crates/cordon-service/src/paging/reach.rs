//! Whether pages reach anyone: which of a user's contact methods this deployment's channels
//! can deliver to (and why not), what a page reached — per recipient, in words for its
//! caller — and the readiness check that warns at start and answers admins on the API.
//!
//! A page that reaches nobody must never look like one that worked: its summary says so
//! first, and it is logged at warn level.

use std::collections::BTreeMap;

use cordon_core::Timestamp;
use cordon_core::access::Principal;
use cordon_core::user::User;
use cordon_i18n::Lang;
use cordon_mail::{BodyKind, Recipient};
use cordon_notify::Target;
use cordon_store::paging::{ContactMethod, NotificationRow};

use super::{IC_POLICY, PAGE_CHANNELS, PageView};
use crate::chat::word;
use crate::{Cordon, Result, ServiceError};

/// Why mail cannot leave at all.
pub(crate) const MAIL_OFF: &str = "mail is not configured (CORDON_SMTP_URL)";
/// Why an SMS cannot leave at all.
pub(crate) const SMS_OFF: &str = "no SMS gateway is configured (sms_gateway_url)";
/// Why a Matrix room cannot be paged at all.
pub(crate) const MATRIX_OFF: &str = "the Matrix bot is not configured (matrix_homeserver)";

/// How one recipient of a page fared, over all their contact methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub user: String,
    /// The first level that named them.
    pub level: i64,
    pub outcome: ReachOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReachOutcome {
    /// At least one notice was delivered, over these channels.
    Reached { channels: Vec<String> },
    /// Nothing delivered yet, these channels are still being tried.
    Trying { channels: Vec<String> },
    /// Every contact method failed or was refused: why, per channel.
    NotReached { why: Vec<String> },
}

impl Reach {
    pub fn reached(&self) -> bool {
        matches!(self.outcome, ReachOutcome::Reached { .. })
    }
}

/// The word a person uses for a contact kind.
pub(crate) fn channel_word(kind: &str) -> &str {
    match kind {
        "email" => "mail",
        "sms" => "SMS",
        "matrix" => "Matrix",
        other => other,
    }
}

/// Each recipient of `notifications` once, in the order they were first notified.
pub fn reach_of(notifications: &[NotificationRow]) -> Vec<Reach> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_user: BTreeMap<&str, Vec<&NotificationRow>> = BTreeMap::new();
    for n in notifications {
        if !by_user.contains_key(n.user_name.as_str()) {
            order.push(&n.user_name);
        }
        by_user.entry(&n.user_name).or_default().push(n);
    }
    order
        .into_iter()
        .map(|user| {
            let ns = &by_user[user];
            let level = ns.iter().map(|n| n.level).min().unwrap_or(1);
            let words = |status: &str| -> Vec<String> {
                let mut out: Vec<String> = ns
                    .iter()
                    .filter(|n| n.status == status)
                    .map(|n| channel_word(&n.channel).to_owned())
                    .collect();
                out.dedup();
                out
            };
            let delivered = words("delivered");
            let pending = words("pending");
            let outcome = if !delivered.is_empty() {
                ReachOutcome::Reached { channels: delivered }
            } else if !pending.is_empty() {
                ReachOutcome::Trying { channels: pending }
            } else {
                ReachOutcome::NotReached {
                    why: ns
                        .iter()
                        .map(|n| {
                            format!(
                                "{} {}: {}",
                                channel_word(&n.channel),
                                n.status,
                                n.error.as_deref().unwrap_or("no reason recorded")
                            )
                        })
                        .collect(),
                }
            };
            Reach {
                user: user.to_owned(),
                level,
                outcome,
            }
        })
        .collect()
}

impl PageView {
    /// Who the page reached, per recipient.
    pub fn reach(&self) -> Vec<Reach> {
        reach_of(&self.notifications)
    }

    /// Whether nobody was reached and nobody is still being tried.
    pub fn reached_nobody(&self) -> bool {
        self.reach()
            .iter()
            .all(|r| matches!(r.outcome, ReachOutcome::NotReached { .. }))
    }

    /// Who was reached and who could not be, and why — for the caller (it names people), e.g.
    /// `reached bob (level 1) by mail; could not reach carol (level 1): mail failed: mail is
    /// not configured (CORDON_SMTP_URL)`. A page that reached nobody begins `NOBODY WAS
    /// REACHED`. In English: for the log and the API; a chat reply uses
    /// [`PageView::reach_summary_in`].
    pub fn reach_summary(&self) -> String {
        self.reach_summary_in(Lang::En)
    }

    /// [`PageView::reach_summary`] in `lang` (catalogue messages `chat.reach.*`). What a
    /// channel's peer answered when it refused is quoted as recorded.
    pub fn reach_summary_in(&self, lang: Lang) -> String {
        let mut parts = Vec::new();
        for r in self.reach() {
            let theirs = || self.notifications.iter().filter(|n| n.user_name == r.user);
            let channels = |status: &str| {
                let mut out: Vec<&str> = theirs()
                    .filter(|n| n.status == status)
                    .map(|n| channel_in(lang, &n.channel))
                    .collect();
                out.dedup();
                out.join(lang.t("chat.reach.and"))
            };
            let level = r.level.to_string();
            let who = [("user", r.user.as_str()), ("level", level.as_str())];
            parts.push(match &r.outcome {
                ReachOutcome::Reached { .. } => lang.tf(
                    "chat.reach.reached",
                    &[who[0], who[1], ("channels", &channels("delivered"))],
                ),
                ReachOutcome::Trying { .. } => lang.tf(
                    "chat.reach.trying",
                    &[who[0], who[1], ("channels", &channels("pending"))],
                ),
                ReachOutcome::NotReached { .. } => {
                    let why: Vec<String> = theirs()
                        .map(|n| {
                            let status = lang.lookup(&format!("chat.delivery.{}", n.status)).unwrap_or(&n.status);
                            lang.tf(
                                "chat.reach.why",
                                &[
                                    ("channel", channel_in(lang, &n.channel)),
                                    ("status", status),
                                    ("reason", reason_in(lang, n.error.as_deref())),
                                ],
                            )
                        })
                        .collect();
                    lang.tf(
                        "chat.reach.not_reached",
                        &[who[0], who[1], ("why", &why.join(lang.t("chat.names")))],
                    )
                }
            });
        }
        for u in &self.unreached {
            parts.push(lang.tf("chat.reach.unreached", &[("target", &target_in(lang, u))]));
        }
        let body = if parts.is_empty() {
            lang.t("chat.reach.nobody_on_call").to_owned()
        } else {
            parts.join(lang.t("chat.list"))
        };
        if self.reached_nobody() {
            lang.tf("chat.reach.nobody_reached", &[("summary", &body)])
        } else {
            body
        }
    }
}

/// A contact kind as `lang` names it (`mail`, `メール`).
fn channel_in(lang: Lang, kind: &str) -> &str {
    word(lang, &format!("activity.channel.{kind}"), channel_word(kind))
}

/// Why a delivery failed, in `lang` when it is one of ours (a channel that is off); what the
/// channel or its peer said otherwise.
fn reason_in(lang: Lang, error: Option<&str>) -> &str {
    match error {
        None => lang.t("chat.reach.no_reason"),
        Some(MAIL_OFF) => lang.t("chat.reach.mail_off"),
        Some(SMS_OFF) => lang.t("chat.reach.sms_off"),
        Some(MATRIX_OFF) => lang.t("chat.reach.matrix_off"),
        Some(other) => other,
    }
}

/// A target nobody was reached through (`schedule ic-primary`, `user bob`), in `lang`.
fn target_in(lang: Lang, target: &str) -> String {
    if let Some(name) = target.strip_prefix("schedule ") {
        lang.tf("chat.reach.target_schedule", &[("name", name)])
    } else if let Some(name) = target.strip_prefix("user ") {
        lang.tf("chat.reach.target_user", &[("name", name)])
    } else {
        target.to_owned()
    }
}

/// One outgoing channel of the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelReadiness {
    /// `email`, `sms`, `matrix`, `webhook`.
    pub channel: &'static str,
    pub ready: bool,
    pub detail: String,
}

/// Whether pages can reach anyone: the channels, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagingReadiness {
    pub channels: Vec<ChannelReadiness>,
    /// Empty when every channel and every on-call person is fine.
    pub warnings: Vec<String>,
}

impl Cordon {
    /// Whether this deployment can deliver over contact method `c` of `u` at `now`; the
    /// reason when it cannot (a channel that is off, an outside address without a key).
    pub(crate) fn can_deliver(&self, u: &User, c: &ContactMethod, now: Timestamp) -> std::result::Result<(), String> {
        match c.kind.as_str() {
            "email" => {
                let Some(mailer) = &self.paging.mailer else {
                    return Err(MAIL_OFF.into());
                };
                let r = Recipient::parse(&c.address, u.pgp_key.as_deref()).map_err(|e| e.to_string())?;
                mailer
                    .policy()
                    .protection_for(&[r], BodyKind::Notice, now)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            "sms" if self.paging.sms.is_none() => Err(SMS_OFF.into()),
            "matrix" if self.paging.matrix.is_none() => Err(MATRIX_OFF.into()),
            "sms" | "matrix" | "webhook" => Ok(()),
            other => Err(format!("unknown channel `{other}`")),
        }
    }

    /// Why none of `u`'s contact methods can deliver, or `None` when one can.
    async fn unreachable_because(&self, u: &User, now: Timestamp) -> Result<Option<Vec<String>>> {
        if u.is_disabled() {
            return Ok(Some(vec!["the user is disabled".into()]));
        }
        let mut why = Vec::new();
        for c in self.reachable(u).await? {
            match self.can_deliver(u, &c, now) {
                Ok(()) => return Ok(None),
                Err(e) => why.push(format!("{} {}: {e}", channel_word(&c.kind), c.address)),
            }
        }
        Ok(Some(why))
    }

    /// The deployment's channels and who on call could not be reached now: for admins and
    /// the security team.
    pub async fn paging_readiness(&self, p: &Principal) -> Result<PagingReadiness> {
        if !p.sees_all_incidents() {
            return Err(ServiceError::Forbidden(
                "only admins and the security team may read the paging readiness".into(),
            ));
        }
        self.readiness(self.clock.now()).await
    }

    async fn readiness(&self, now: Timestamp) -> Result<PagingReadiness> {
        let users = self.store.list_users().await?;
        let mut webhooks = 0usize;
        for u in users.iter().filter(|u| !u.is_disabled()) {
            webhooks += self
                .store
                .contacts(u.id)
                .await?
                .iter()
                .filter(|c| c.kind == "webhook")
                .count();
        }
        let channels = vec![
            ChannelReadiness {
                channel: "email",
                ready: self.paging.mailer.is_some(),
                detail: if self.paging.mailer.is_some() {
                    "mail is configured".into()
                } else {
                    MAIL_OFF.into()
                },
            },
            ChannelReadiness {
                channel: "sms",
                ready: self.paging.sms.is_some(),
                detail: if self.paging.sms.is_some() {
                    "an SMS gateway is configured".into()
                } else {
                    SMS_OFF.into()
                },
            },
            ChannelReadiness {
                channel: "matrix",
                ready: self.paging.matrix.is_some(),
                detail: if self.paging.matrix.is_some() {
                    "the Matrix bot is configured".into()
                } else {
                    MATRIX_OFF.into()
                },
            },
            ChannelReadiness {
                channel: "webhook",
                ready: webhooks > 0,
                detail: format!("{webhooks} webhook contact method(s)"),
            },
        ];
        debug_assert_eq!(channels.len(), PAGE_CHANNELS.len());
        let mut warnings = Vec::new();
        if channels.iter().all(|c| !c.ready) {
            warnings.push(format!(
                "no channel can deliver pages: {}, {}, {}, and no user has a webhook contact; \
                 pages are recorded but reach nobody",
                MAIL_OFF, SMS_OFF, MATRIX_OFF
            ));
        }
        if self.store.policy(IC_POLICY).await?.is_none() {
            warnings.push(format!(
                "there is no `{IC_POLICY}` escalation policy: `!ic page` pages nobody \
                 (set one up with `cordon oncall policy`)"
            ));
        }
        // Everyone a page may go to now: who is on call, and whom a policy names.
        let mut on_call: BTreeMap<String, String> = BTreeMap::new();
        for s in self.schedules().await? {
            match s.on_call_at(now) {
                Some(o) => {
                    on_call
                        .entry(o.user)
                        .or_insert_with(|| format!("on call for schedule {}", s.name()));
                }
                None => warnings.push(format!("nobody is on call for schedule {} now", s.name())),
            }
        }
        for spec in self.store.policies().await? {
            let Ok(policy) = self.load_policy(&spec.0).await else {
                continue;
            };
            for level in policy.levels() {
                for t in level.targets() {
                    if let Target::User(name) = t {
                        on_call
                            .entry(name.clone())
                            .or_insert_with(|| format!("named in escalation policy {}", policy.name()));
                    }
                }
            }
        }
        for (name, because) in on_call {
            let Some(u) = users.iter().find(|u| u.name == name) else {
                warnings.push(format!("{name} is {because} but no such user exists"));
                continue;
            };
            if let Some(why) = self.unreachable_because(u, now).await? {
                warnings.push(format!(
                    "{name} is {because} but has no contact that can deliver ({})",
                    why.join("; ")
                ));
            }
        }
        Ok(PagingReadiness { channels, warnings })
    }

    /// Logs, at warn level, every reason pages may reach nobody (at start); returns how many.
    pub async fn warn_paging_readiness(&self) -> Result<usize> {
        let r = self.readiness(self.clock.now()).await?;
        for w in &r.warnings {
            tracing::warn!("paging: {w} (GET /api/v1/oncall/readiness)");
        }
        Ok(r.warnings.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn n(user: &str, level: i64, channel: &str, status: &str, error: Option<&str>) -> NotificationRow {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        NotificationRow {
            id: Uuid::new_v4(),
            page_id: Uuid::nil(),
            step: 0,
            level,
            user_name: user.into(),
            channel: channel.into(),
            address: "x".into(),
            status: status.into(),
            attempts: 1,
            next_attempt_at: None,
            error: error.map(str::to_owned),
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn each_recipient_once_with_the_best_outcome() {
        let r = reach_of(&[
            n("bob", 1, "email", "failed", Some(MAIL_OFF)),
            n("bob", 1, "webhook", "delivered", None),
            n("carol", 1, "email", "failed", Some(MAIL_OFF)),
            n("dave", 2, "sms", "pending", None),
        ]);
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[0].outcome,
            ReachOutcome::Reached {
                channels: vec!["webhook".into()]
            }
        );
        assert_eq!(
            r[1].outcome,
            ReachOutcome::NotReached {
                why: vec![format!("mail failed: {MAIL_OFF}")]
            }
        );
        assert_eq!((r[2].level, r[2].reached()), (2, false));
    }

    #[test]
    fn what_is_ours_reads_in_each_language_and_what_a_peer_said_is_quoted() {
        // English reads as the constants the channels record.
        for (error, key) in [
            (MAIL_OFF, "chat.reach.mail_off"),
            (SMS_OFF, "chat.reach.sms_off"),
            (MATRIX_OFF, "chat.reach.matrix_off"),
        ] {
            assert_eq!(Lang::En.t(key), error);
            assert_eq!(reason_in(Lang::En, Some(error)), error);
            assert_ne!(reason_in(Lang::Ja, Some(error)), error);
        }
        assert_eq!(
            reason_in(Lang::Ja, Some("550 mailbox unavailable")),
            "550 mailbox unavailable"
        );
        assert_eq!(reason_in(Lang::En, None), "no reason recorded");
        assert_eq!(target_in(Lang::En, "schedule ic-primary"), "schedule ic-primary");
        assert_eq!(target_in(Lang::Ja, "schedule ic-primary"), "スケジュール ic-primary");
        assert_eq!(target_in(Lang::Ja, "user bob"), "ユーザー bob");
        assert_eq!(channel_in(Lang::En, "email"), "mail");
        assert_eq!(channel_in(Lang::Ja, "email"), "メール");
    }
}
