//! Webhook contacts: the outbound policy applied when one is added, and its own signing
//! secret — drawn when the contact is added, shown once, sealed at rest ([`crate::secrets`]),
//! rotated on request, and read back to sign that contact's deliveries only.

use cordon_channels::ChannelError;
use cordon_core::access::Principal;
use cordon_store::AuditDraft;
use cordon_store::paging::ContactMethod;
use serde_json::json;
use uuid::Uuid;

use crate::audit::draft;
use crate::secrets::OpenError;
use crate::{Cordon, Result, ServiceError, random};

/// What every webhook secret starts with; the whole string (prefix included) is the HMAC key.
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// A contact method just added. `secret` is the webhook's signing secret, shown this once.
#[derive(Debug, Clone)]
pub struct AddedContact {
    pub contact: ContactMethod,
    pub secret: Option<String>,
}

/// `whsec_` and 64 hex characters: 256 bits from the OS CSPRNG.
fn new_webhook_secret() -> String {
    format!("{WEBHOOK_SECRET_PREFIX}{}", hex::encode(random::bytes::<32>()))
}

impl Cordon {
    /// Refuses a webhook target whose host is, or resolves to, an address the outbound policy
    /// refuses (422 naming the address and what it is; audited as an attempt to reach inside).
    pub(crate) async fn check_webhook_target(&self, p: &Principal, subject: &str, address: &str) -> Result<()> {
        let url = cordon_channels::http::parse_target_url("address", address)
            .map_err(|e| ServiceError::invalid("address", e.to_string()))?;
        match self.paging.http.check_target(&url).await {
            Ok(()) => Ok(()),
            Err(ChannelError::Refused(r)) => {
                let e = ServiceError::invalid(
                    "address",
                    format!("{r}; webhooks may not reach it unless the deployment's outbound_allow names its network"),
                );
                Err(self.refuse(p, "contact.add", subject.to_owned(), e).await)
            }
            Err(_) => Err(ServiceError::invalid("address", "the webhook's host does not resolve")),
        }
    }

    /// Stores a new contact method; a webhook gets a fresh secret, sealed for its row, which
    /// is returned (to be shown once).
    pub(crate) async fn store_contact(&self, c: &ContactMethod, audit: AuditDraft) -> Result<Option<String>> {
        if c.kind != "webhook" {
            self.store.add_contact(c, audit).await?;
            return Ok(None);
        }
        let secret = new_webhook_secret();
        let sealed = self.paging.sealing_key.seal(secret.as_bytes(), c.id.as_bytes());
        self.store.add_contact_with_secret(c, &sealed, audit).await?;
        Ok(Some(secret))
    }

    /// Draws a new signing secret for one of a user's webhook contacts (admins, or the user
    /// themself) and returns it, shown this once; the old secret stops signing at once.
    pub async fn rotate_webhook_secret(&self, p: &Principal, user: &str, address: &str) -> Result<String> {
        let subject = format!("user:{user}");
        if !p.is_admin && p.name != user {
            let e = ServiceError::Forbidden("only admins may change other users' contact methods".into());
            return Err(self.refuse(p, "contact.rotate_secret", subject, e).await);
        }
        let u = self
            .store
            .user_by_name(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        let (id, _) = self
            .store
            .contact_secret(u.id, "webhook", address.trim())
            .await?
            .ok_or(ServiceError::NotFound("webhook contact"))?;
        let secret = new_webhook_secret();
        let sealed = self.paging.sealing_key.seal(secret.as_bytes(), id.as_bytes());
        let audit = draft(
            self.clock.now(),
            &p.name,
            "contact.rotate_secret",
            subject,
            json!({ "kind": "webhook" }),
        );
        if !self.store.set_contact_secret(id, &sealed, audit).await? {
            return Err(ServiceError::NotFound("webhook contact"));
        }
        Ok(secret)
    }

    /// The signing secret of `user`'s webhook at `address`, or why there is none to sign with
    /// (the reason is recorded on the notification).
    pub(crate) async fn webhook_secret(&self, user: Uuid, address: &str) -> std::result::Result<Vec<u8>, String> {
        let found = self
            .store
            .contact_secret(user, "webhook", address)
            .await
            .map_err(|e| format!("could not read the webhook's secret: {e}"))?;
        let Some((id, sealed)) = found else {
            return Err("the webhook contact no longer exists".into());
        };
        let Some(sealed) = sealed else {
            return Err("the webhook has no signing secret of its own (added before secrets per contact); \
                        rotate it with POST /api/v1/users/{name}/contacts/rotate-secret and give the receiver the new one"
                .into());
        };
        self.paging
            .sealing_key
            .open(&sealed, id.as_bytes())
            .map_err(|e| match e {
                OpenError::OtherKey(_) => format!("cannot open the webhook's secret: {e}"),
                OpenError::Malformed | OpenError::Forged => {
                    format!("cannot open the webhook's secret ({e}); rotate it")
                }
            })
    }
}
