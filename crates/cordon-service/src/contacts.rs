//! Contact methods: the ways a user is paged (mail, webhook, SMS, a Matrix room). Chat accounts
//! (`slack_user`, `matrix_user`) are chat identities now (`identity.rs`).

use cordon_channels::PhoneNumber;
use cordon_core::access::Principal;
use cordon_core::user::User;
use cordon_store::paging::{Attempt, ContactMethod};
use serde_json::json;
use uuid::Uuid;

use crate::audit::draft;
use crate::incidents::new_id;
use crate::paging::{CONTACT_KINDS, PAGE_CHANNELS};
use crate::webhooks::AddedContact;
use crate::{Cordon, Result, ServiceError};

impl Cordon {
    /// Adds a way to reach a user (admins, or the user themself).
    /// A webhook must pass the outbound policy and gets its own signing secret, returned once.
    pub async fn add_contact(&self, p: &Principal, user: &str, kind: &str, address: &str) -> Result<AddedContact> {
        if matches!(kind, "slack_user" | "matrix_user") {
            let contact = self.add_chat_contact(p, user, kind, address).await?;
            return Ok(AddedContact { contact, secret: None });
        }
        let subject = format!("user:{user}");
        if !p.is_admin && p.name != user {
            let e = ServiceError::Forbidden("only admins may change other users' contact methods".into());
            return Err(self.refuse(p, "contact.add", subject, e).await);
        }
        let u = self
            .store
            .user_by_name(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let address = address.trim();
        cordon_core::text::check_line("address", address)?;
        let valid = match kind {
            "email" => cordon_mail::Address::parse(address)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            "webhook" => cordon_channels::http::parse_target_url("address", address)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            "sms" => PhoneNumber::parse(address).map(|_| ()).map_err(|e| e.to_string()),
            "matrix" if address.starts_with('!') && address.contains(':') => Ok(()),
            "matrix" => Err("a Matrix room id looks like `!room:server`".into()),
            other => Err(format!(
                "unknown kind `{other}`, expected one of {}",
                CONTACT_KINDS.join(", ")
            )),
        };
        valid.map_err(|m| {
            ServiceError::invalid(
                if CONTACT_KINDS.contains(&kind) {
                    "address"
                } else {
                    "kind"
                },
                m,
            )
        })?;
        if kind == "webhook" {
            self.check_webhook_target(p, &subject, address).await?;
        }
        let now = self.clock.now();
        let c = ContactMethod {
            id: new_id(now),
            user_id: u.id,
            kind: kind.to_owned(),
            address: address.to_owned(),
            created_at: now,
        };
        let audit = draft(now, &p.name, "contact.add", subject, json!({ "kind": kind }));
        let secret = self.store_contact(&c, audit).await?;
        Ok(AddedContact { contact: c, secret })
    }

    /// A user's contact methods; their account e-mail is always the first.
    pub async fn contacts(&self, p: &Principal, user: &str) -> Result<Vec<ContactMethod>> {
        if !p.is_admin && p.name != user {
            return Err(ServiceError::Forbidden(
                "only admins may read other users' contact methods".into(),
            ));
        }
        let u = self
            .store
            .user_by_name(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let mut out = self.reachable(&u).await?;
        let linked = self.store.contacts(u.id).await?;
        out.extend(linked.into_iter().filter(|c| !PAGE_CHANNELS.contains(&c.kind.as_str())));
        Ok(out)
    }

    pub(crate) async fn reachable(&self, u: &User) -> Result<Vec<ContactMethod>> {
        let mut out = vec![ContactMethod {
            id: Uuid::nil(),
            user_id: u.id,
            kind: "email".into(),
            address: u.email.clone(),
            created_at: u.created_at,
        }];
        out.extend(
            self.store
                .contacts(u.id)
                .await?
                .into_iter()
                .filter(|c| PAGE_CHANNELS.contains(&c.kind.as_str()) && !(c.kind == "email" && c.address == u.email)),
        );
        Ok(out)
    }

    /// Sends a test message to one of a user's contact methods, now.
    pub async fn test_contact(&self, p: &Principal, user: &str, kind: &str, address: &str) -> Result<()> {
        let contacts = self.contacts(p, user).await?;
        let c = contacts
            .iter()
            .find(|c| c.kind == kind && c.address == address)
            .ok_or(ServiceError::NotFound("contact method"))?;
        let u = self
            .store
            .user_by_name(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let now = self.clock.now();
        let outcome = self.send_one(c, &u, None, now).await;
        let (action, error) = match &outcome {
            Attempt::Delivered => ("contact.test", None),
            Attempt::Retry { error, .. } | Attempt::Failed { error } | Attempt::Refused { error } => {
                ("contact.test_failed", Some(error.clone()))
            }
        };
        let audit = draft(
            now,
            &p.name,
            action,
            format!("user:{user}"),
            json!({ "kind": kind, "error": error }),
        );
        self.store.append_audit(audit).await?;
        match error {
            None => Ok(()),
            Some(e) => Err(ServiceError::Conflict(format!("test message not delivered: {e}"))),
        }
    }
}
