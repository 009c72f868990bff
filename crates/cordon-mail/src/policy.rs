//! The communication rules for incident mail, as a pure decision: the subject label, and
//! whether a mail goes plain, goes encrypted, or is refused.
//!
//! - The subject of every incident mail is the label and nothing else (PagerDuty's security
//!   guide: "the subject of the email should be 'Attorney Work Project' and nothing else").
//! - When any recipient is outside the company domains, the body is OpenPGP-encrypted to every
//!   recipient; if a recipient then has no usable key, nothing is sent to anyone.
//! - All recipients inside: plain text, unless the policy asks to encrypt full bodies inside
//!   too.

use std::fmt;

use jiff::Timestamp;

use crate::key::EncryptionKey;
use crate::{Address, CompanyDomains, MailError, Recipient};

/// The default subject label, in PagerDuty's wording.
pub const DEFAULT_LABEL: &str = "Attorney Work Project";

/// The privilege label that is the whole subject of every incident mail. One line of printable
/// text, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectLabel(String);

impl SubjectLabel {
    pub fn parse(raw: &str) -> Result<Self, MailError> {
        let label = raw.trim();
        if label.is_empty() {
            return Err(MailError::config("the mail subject label is empty"));
        }
        if label.chars().any(char::is_control) {
            return Err(MailError::config(
                "the mail subject label must be one line without control characters",
            ));
        }
        if label.chars().count() > 200 {
            return Err(MailError::config(
                "the mail subject label is longer than 200 characters",
            ));
        }
        Ok(Self(label.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for SubjectLabel {
    fn default() -> Self {
        Self(DEFAULT_LABEL.to_owned())
    }
}

impl fmt::Display for SubjectLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether the body of a mail may contain free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// Codename, severity and link only ([`crate::Notice`]).
    Notice,
    /// Anything: title, details, an approved communication ([`crate::Message`]).
    Full,
}

/// How a mail leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// A `text/plain` body.
    Plain,
    /// PGP/MIME (RFC 3156) encrypted to every recipient's key.
    Encrypted,
}

impl Protection {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Encrypted => "pgp_mime",
        }
    }
}

/// The communication rules for mail, set once from configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailPolicy {
    label: SubjectLabel,
    company: CompanyDomains,
    encrypt_inside: bool,
}

impl MailPolicy {
    /// The default label, the given company domains, plain full bodies inside the company.
    pub fn new(company: CompanyDomains) -> Self {
        Self {
            company,
            ..Self::default()
        }
    }

    pub fn with_label(mut self, label: SubjectLabel) -> Self {
        self.label = label;
        self
    }

    /// Encrypt full bodies even when every recipient is inside the company (notices still go
    /// plain inside). Off by default.
    pub fn encrypt_inside(mut self, yes: bool) -> Self {
        self.encrypt_inside = yes;
        self
    }

    pub fn label(&self) -> &SubjectLabel {
        &self.label
    }

    pub fn company(&self) -> &CompanyDomains {
        &self.company
    }

    /// True when the address is inside the company.
    pub fn is_inside(&self, address: &Address) -> bool {
        self.company.contains(address)
    }

    /// Decides how a mail to `recipients` with a body of `kind` leaves at `now`, without
    /// sending anything: callers use it to warn a sender before queueing.
    pub fn protection_for(
        &self,
        recipients: &[Recipient],
        kind: BodyKind,
        now: Timestamp,
    ) -> Result<Protection, MailError> {
        self.plan(recipients, kind, now).map(|plan| plan.protection)
    }

    /// The decision and, for encrypted mail, the key each recipient is encrypted to.
    pub(crate) fn plan<'a>(
        &self,
        recipients: &'a [Recipient],
        kind: BodyKind,
        now: Timestamp,
    ) -> Result<Plan<'a>, MailError> {
        let recipients = dedup(recipients);
        if recipients.is_empty() {
            return Err(MailError::NoRecipients);
        }
        let any_outside = recipients.iter().any(|r| !self.is_inside(&r.address));
        let encrypt = any_outside || (self.encrypt_inside && kind == BodyKind::Full);
        if !encrypt {
            return Ok(Plan {
                protection: Protection::Plain,
                recipients: recipients.into_iter().map(|r| (&r.address, None)).collect(),
            });
        }
        let mut keyed = Vec::with_capacity(recipients.len());
        let mut without_key = Vec::new();
        for r in recipients {
            match r.pgp_key.as_ref().and_then(|k| k.encryption_key_at(now)) {
                Some(key) => keyed.push((&r.address, Some(key))),
                None => without_key.push(r.address.clone()),
            }
        }
        if !without_key.is_empty() {
            return Err(MailError::Refused {
                recipients_without_key: without_key,
            });
        }
        Ok(Plan {
            protection: Protection::Encrypted,
            recipients: keyed,
        })
    }
}

pub(crate) struct Plan<'a> {
    pub protection: Protection,
    /// Each recipient once; the key is set exactly when the mail is encrypted.
    pub recipients: Vec<(&'a Address, Option<EncryptionKey<'a>>)>,
}

/// Each address once (case-insensitive), keeping a key if any of its entries has one.
fn dedup(recipients: &[Recipient]) -> Vec<&Recipient> {
    let mut out: Vec<&Recipient> = Vec::with_capacity(recipients.len());
    for r in recipients {
        match out.iter_mut().find(|seen| seen.address.folded() == r.address.folded()) {
            Some(seen) if seen.pgp_key.is_none() && r.pgp_key.is_some() => *seen = r,
            Some(_) => {}
            None => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> MailPolicy {
        MailPolicy::new(CompanyDomains::parse("corp.example").unwrap())
    }

    fn plain(addr: &str) -> Recipient {
        Recipient::parse(addr, None).unwrap()
    }

    fn now() -> Timestamp {
        "2026-03-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn label_defaults_and_validation() {
        assert_eq!(policy().label().as_str(), "Attorney Work Project");
        assert_eq!(
            SubjectLabel::parse(" Privileged & Confidential ").unwrap().as_str(),
            "Privileged & Confidential"
        );
        for bad in ["", "  ", "a\r\nBcc: x@y", "tab\there", &"x".repeat(201)] {
            assert_eq!(SubjectLabel::parse(bad).unwrap_err().code(), "invalid_config");
        }
    }

    #[test]
    fn all_inside_goes_plain() {
        let r = [plain("ic@corp.example"), plain("deputy@eu.corp.example")];
        for kind in [BodyKind::Notice, BodyKind::Full] {
            assert_eq!(policy().protection_for(&r, kind, now()).unwrap(), Protection::Plain);
        }
    }

    #[test]
    fn encrypt_inside_applies_to_full_bodies_only() {
        let p = policy().encrypt_inside(true);
        let r = [plain("ic@corp.example")];
        assert_eq!(
            p.protection_for(&r, BodyKind::Notice, now()).unwrap(),
            Protection::Plain
        );
        let err = p.protection_for(&r, BodyKind::Full, now()).unwrap_err();
        assert_eq!(err.code(), "refused_no_key");
    }

    #[test]
    fn an_outside_recipient_without_key_refuses_the_whole_mail() {
        let r = [
            plain("ic@corp.example"),
            plain("counsel@lawfirm.example"),
            plain("COUNSEL@lawfirm.example"),
        ];
        for kind in [BodyKind::Notice, BodyKind::Full] {
            match policy().protection_for(&r, kind, now()) {
                Err(MailError::Refused { recipients_without_key }) => {
                    let names: Vec<_> = recipients_without_key.iter().map(Address::as_str).collect();
                    // The inside recipient cannot read an encrypted mail without a key either.
                    assert_eq!(names, ["ic@corp.example", "counsel@lawfirm.example"]);
                }
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
    }

    #[test]
    fn no_company_domains_means_everyone_is_outside() {
        let p = MailPolicy::default();
        let err = p
            .protection_for(&[plain("ic@corp.example")], BodyKind::Notice, now())
            .unwrap_err();
        assert_eq!(err.code(), "refused_no_key");
    }

    #[test]
    fn no_recipients_is_an_error() {
        let err = policy().protection_for(&[], BodyKind::Notice, now()).unwrap_err();
        assert_eq!(err.code(), "no_recipients");
    }
}
