//! The delivery half of the paging engine: due notifications are claimed with a lease, sent
//! over their channel as a notice (codename, severity, link) and their outcome recorded.

use cordon_channels::{ChannelError, PhoneNumber, SecureLink, SmsText, WebhookClient, WebhookMessage};
use cordon_core::Timestamp;
use cordon_core::user::User;
use cordon_mail::{Link, Recipient};
use cordon_store::paging::{Attempt, ContactMethod, NotificationRow};
use futures::StreamExt;
use jiff::SignedDuration;
use serde_json::json;
use uuid::Uuid;

use super::reach::{MAIL_OFF, MATRIX_OFF, SMS_OFF};
use super::{DELIVERY_CONCURRENCY, DELIVERY_LEASE, EngineReport, FIRST_ATTEMPT_WAIT, MAX_ATTEMPTS};
use crate::audit::draft;
use crate::gate::NoticeFacts;
use crate::{Cordon, Result};

impl Cordon {
    /// Attempts every notification due at `now`, several at once.
    pub async fn deliver_due(&self, now: Timestamp) -> Result<EngineReport> {
        let due = self.store.due_notifications(now, 500).await?;
        self.attempt_all(due, now).await
    }

    /// Claims and attempts each of `due`; one claimed elsewhere is left to its claimer.
    async fn attempt_all(&self, due: Vec<NotificationRow>, now: Timestamp) -> Result<EngineReport> {
        let mut report = EngineReport::default();
        let outcomes: Vec<Result<Option<Attempt>>> = futures::stream::iter(due)
            .map(|n| async move {
                if !self.store.claim_notification(n.id, now, now + DELIVERY_LEASE).await? {
                    return Ok(None);
                }
                self.deliver(&n, now).await.map(Some)
            })
            .buffer_unordered(DELIVERY_CONCURRENCY)
            .collect()
            .await;
        for outcome in outcomes {
            match outcome? {
                Some(Attempt::Delivered) => report.delivered += 1,
                Some(Attempt::Failed { .. } | Attempt::Refused { .. }) => report.failed += 1,
                Some(Attempt::Retry { .. }) | None => {}
            }
        }
        Ok(report)
    }

    /// The first attempt at a just-triggered page's notifications, so the answer to whoever
    /// paged can say who was reached. It runs as a task of its own and is waited for at most
    /// [`FIRST_ATTEMPT_WAIT`]: a slow channel goes on in the background (its notification
    /// stays claimed, so nothing is sent twice) and the answer says "not confirmed yet".
    pub(crate) async fn first_attempt(&self, page: Uuid, now: Timestamp) {
        let me = self.clone();
        let task = tokio::spawn(async move {
            let due: Vec<NotificationRow> = me
                .store
                .notifications(page)
                .await?
                .into_iter()
                .filter(|n| n.status == "pending" && n.next_attempt_at.is_some_and(|t| t <= now))
                .collect();
            me.attempt_all(due, now).await
        });
        match tokio::time::timeout(FIRST_ATTEMPT_WAIT, task).await {
            Ok(Ok(Ok(_))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, page = %page, "the first delivery attempt failed"),
            Ok(Err(e)) => tracing::warn!(error = %e, page = %page, "the first delivery attempt panicked"),
            Err(_) => tracing::info!(page = %page, "the first delivery attempt goes on in the background"),
        }
    }

    async fn deliver(&self, n: &NotificationRow, now: Timestamp) -> Result<Attempt> {
        let Some(u) = self.store.user_by_name(&n.user_name).await? else {
            let a = Attempt::Failed {
                error: "the user no longer exists".into(),
            };
            self.record(n, &a, now).await?;
            return Ok(a);
        };
        if u.is_disabled() {
            let a = Attempt::Failed {
                error: "the user is disabled".into(),
            };
            self.record(n, &a, now).await?;
            return Ok(a);
        }
        let contact = ContactMethod {
            id: Uuid::nil(),
            user_id: u.id,
            kind: n.channel.clone(),
            address: n.address.clone(),
            created_at: now,
        };
        let row = self.store.page(n.page_id).await?;
        let incident = match row.as_ref().and_then(|r| r.incident_id) {
            Some(iid) => self.notice_facts(iid).await?,
            None => None,
        };
        let link = self.ack_link(n.page_id, &u, n.step, now).await?;
        let attempt = match self
            .send_one(&contact, &u, incident.as_ref().map(|i| (i, link.as_str())), now)
            .await
        {
            Attempt::Retry { error, .. } if n.attempts + 1 >= MAX_ATTEMPTS => Attempt::Failed { error },
            Attempt::Retry { error, .. } => {
                // Exponential backoff: 5 s, 15 s, 45 s, …
                let wait = SignedDuration::from_secs(5 * 3_i64.pow(n.attempts.clamp(0, 6) as u32));
                Attempt::Retry { error, at: now + wait }
            }
            other => other,
        };
        self.record(n, &attempt, now).await?;
        Ok(attempt)
    }

    async fn record(&self, n: &NotificationRow, attempt: &Attempt, now: Timestamp) -> Result<()> {
        let (action, error) = match attempt {
            Attempt::Delivered => ("notification.delivered", None),
            Attempt::Retry { error, .. } => ("notification.retry", Some(error)),
            Attempt::Failed { error } => ("notification.failed", Some(error)),
            Attempt::Refused { error } => ("notification.refused", Some(error)),
        };
        if let Attempt::Failed { error } | Attempt::Refused { error } = attempt {
            tracing::warn!(page = %n.page_id, user = %n.user_name, channel = %n.channel, "a page did not reach {} by {}: {error}", n.user_name, n.channel);
        }
        let payload = json!({ "user": n.user_name, "channel": n.channel, "level": n.level, "error": error });
        let audit = draft(now, "system", action, format!("page:{}", n.page_id), payload);
        self.store.record_attempt(n.id, attempt, now, audit).await?;
        Ok(())
    }

    /// Sends one notice (or, without an incident, a test message) over one contact method.
    pub(crate) async fn send_one(
        &self,
        c: &ContactMethod,
        u: &User,
        about: Option<(&NoticeFacts, &str)>,
        now: Timestamp,
    ) -> Attempt {
        let retry = |error: String| Attempt::Retry { error, at: now };
        match c.kind.as_str() {
            "email" => {
                let Some(mailer) = &self.paging.mailer else {
                    return Attempt::Failed { error: MAIL_OFF.into() };
                };
                let recipient = match Recipient::parse(&c.address, u.pgp_key.as_deref()) {
                    Ok(r) => r,
                    Err(e) => return Attempt::Failed { error: e.to_string() },
                };
                let link = match about {
                    Some((_, link)) => link.to_owned(),
                    None => self.paging.public_url.clone(),
                };
                let link = match Link::parse(&link) {
                    Ok(l) => l,
                    Err(e) => return Attempt::Failed { error: e.to_string() },
                };
                let sent = match about {
                    Some((i, _)) => {
                        let notice = cordon_mail::Notice::new(i.codename.clone(), i.severity, link);
                        mailer.send_notice(&[recipient], &notice, now).await
                    }
                    None => {
                        let msg = cordon_mail::Message::new(vec![recipient], cordon_channels::webhook::TEST_TEXT);
                        mailer.send_message(&msg, now).await
                    }
                };
                match sent {
                    Ok(_) => Attempt::Delivered,
                    Err(e) if e.code() == "refused_no_key" => Attempt::Refused { error: e.to_string() },
                    Err(e) if e.is_transient() => retry(e.to_string()),
                    Err(e) => Attempt::Failed { error: e.to_string() },
                }
            }
            "webhook" | "sms" | "matrix" => {
                let notice = match about {
                    Some((i, link)) => match SecureLink::parse(link) {
                        Ok(l) => Some(cordon_channels::Notice::new(i.codename.clone(), i.severity, l)),
                        Err(e) => return Attempt::Failed { error: e.to_string() },
                    },
                    None => None,
                };
                let sent = match c.kind.as_str() {
                    "webhook" => {
                        // Signed with this contact's own secret, never a shared one.
                        let secret = match self.webhook_secret(c.user_id, &c.address).await {
                            Ok(s) => s,
                            Err(error) => return Attempt::Failed { error },
                        };
                        match WebhookClient::new(&self.paging.http, &c.address, secret) {
                            Ok(client) => {
                                let msg = notice.map(WebhookMessage::Page).unwrap_or(WebhookMessage::Test);
                                client.send(&msg, now).await
                            }
                            Err(e) => Err(e),
                        }
                    }
                    "sms" => {
                        let Some(gw) = &self.paging.sms else {
                            return Attempt::Failed { error: SMS_OFF.into() };
                        };
                        match PhoneNumber::parse(&c.address) {
                            Ok(to) => {
                                gw.send(&to, &notice.map(SmsText::Page).unwrap_or(SmsText::Test), now)
                                    .await
                            }
                            Err(e) => Err(e),
                        }
                    }
                    _ => {
                        let Some(m) = &self.paging.matrix else {
                            return Attempt::Failed {
                                error: MATRIX_OFF.into(),
                            };
                        };
                        let text = notice
                            .map(|n| n.text())
                            .unwrap_or_else(|| cordon_channels::webhook::TEST_TEXT.into());
                        return match m.send(&c.address, &text).await {
                            Ok(()) => Attempt::Delivered,
                            Err(e) => retry(e),
                        };
                    }
                };
                // Errors carry a status or a fixed reason, never the peer's body.
                match sent {
                    Ok(()) => Attempt::Delivered,
                    Err(e @ ChannelError::Refused(_)) => Attempt::Refused { error: e.to_string() },
                    Err(e) if e.is_transient() => retry(e.to_string()),
                    Err(e) => Attempt::Failed { error: e.to_string() },
                }
            }
            other => Attempt::Failed {
                error: format!("unknown channel `{other}`"),
            },
        }
    }
}
