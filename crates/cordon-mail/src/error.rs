//! The one error enum of the mail channel, with stable machine codes and the transient /
//! permanent split the paging engine retries on.

use std::fmt;

use crate::Address;

/// Why a mail was not sent. Every variant has a stable [`code`](MailError::code); only
/// [transient](MailError::is_transient) ones are worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The communication rules forbid sending: the mail must be encrypted (a recipient is
    /// outside the company) and these recipients have no usable OpenPGP key. Nothing was sent
    /// to anyone.
    #[error("refused: no usable OpenPGP key for {}", AddressList(recipients_without_key))]
    Refused { recipients_without_key: Vec<Address> },
    /// An armored public key that cannot be used: malformed, bad self-signatures, revoked, or
    /// without an encryption-capable key.
    #[error("bad OpenPGP public key: {reason}")]
    BadKey { reason: String },
    /// A mail address that does not parse.
    #[error("invalid mail address `{address}`: {reason}")]
    InvalidAddress { address: String, reason: String },
    /// A link for a notice that is not an absolute http(s) URL.
    #[error("invalid link: {reason}")]
    InvalidLink { reason: String },
    /// The mail configuration (SMTP URL, sender, label) is unusable.
    #[error("invalid mail configuration: {reason}")]
    InvalidConfig { reason: String },
    /// A message with no recipient.
    #[error("the message has no recipient")]
    NoRecipients,
    /// The SMTP server could not be reached or the connection broke (refused, timed out, reset,
    /// closed early). Transient.
    #[error("SMTP server unavailable: {reason}")]
    SmtpUnavailable { reason: String },
    /// The SMTP server answered with a 4xx reply (greylisting, mailbox busy, rate limit).
    /// Transient.
    #[error("SMTP server deferred the mail ({code}): {reason}")]
    SmtpDeferred { code: u16, reason: String },
    /// The SMTP server refused the mail with a 5xx reply (unknown recipient, authentication
    /// failed, policy). Permanent.
    #[error("SMTP server rejected the mail ({code}): {reason}")]
    SmtpRejected { code: u16, reason: String },
    /// The TLS handshake failed (untrusted certificate, wrong host name, STARTTLS refused).
    /// Permanent until the configuration or the server changes.
    #[error("TLS with the SMTP server failed: {reason}")]
    SmtpTls { reason: String },
    /// Building or encrypting the mail failed. Permanent.
    #[error("could not build the mail: {reason}")]
    Build { reason: String },
    /// Each recipient gets their own message; the server accepted some and refused the
    /// others'. Permanent: sending again would repeat the mail to those who have it.
    #[error("sent only to {}; not to {}: {first_error}", AddressList(sent), AddressList(unsent))]
    PartlySent {
        sent: Vec<Address>,
        unsent: Vec<Address>,
        first_error: Box<MailError>,
    },
}

impl MailError {
    /// The stable machine code, for APIs, audit entries and notification records.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused { .. } => "refused_no_key",
            Self::BadKey { .. } => "bad_key",
            Self::InvalidAddress { .. } => "invalid_address",
            Self::InvalidLink { .. } => "invalid_link",
            Self::InvalidConfig { .. } => "invalid_config",
            Self::NoRecipients => "no_recipients",
            Self::SmtpUnavailable { .. } => "smtp_unavailable",
            Self::SmtpDeferred { .. } => "smtp_deferred",
            Self::SmtpRejected { .. } => "smtp_rejected",
            Self::SmtpTls { .. } => "smtp_tls",
            Self::Build { .. } => "build_failed",
            Self::PartlySent { .. } => "partly_sent",
        }
    }

    /// True when the same mail may go through later unchanged: retry with backoff.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::SmtpUnavailable { .. } | Self::SmtpDeferred { .. })
    }

    /// True when retrying the same mail cannot help.
    pub fn is_permanent(&self) -> bool {
        !self.is_transient()
    }

    pub(crate) fn bad_key(reason: impl fmt::Display) -> Self {
        Self::BadKey {
            reason: reason.to_string(),
        }
    }

    pub(crate) fn config(reason: impl fmt::Display) -> Self {
        Self::InvalidConfig {
            reason: reason.to_string(),
        }
    }

    pub(crate) fn build(reason: impl fmt::Display) -> Self {
        Self::Build {
            reason: reason.to_string(),
        }
    }

    /// Classifies an SMTP client error: replies by their code, everything on the way there
    /// (connect, I/O, timeout, a dropped connection) as unavailable.
    pub(crate) fn from_smtp(err: &lettre::transport::smtp::Error) -> Self {
        let reason = error_chain(err);
        if let Some(code) = err.status() {
            let code = code.to_string().parse::<u16>().unwrap_or(0);
            return if err.is_transient() {
                Self::SmtpDeferred { code, reason }
            } else {
                Self::SmtpRejected { code, reason }
            };
        }
        if err.is_tls() || is_tls_failure(err) {
            return Self::SmtpTls { reason };
        }
        // Connection, network, timeout, a garbled reply or a pooled connection that died: the
        // server may be back in a moment.
        Self::SmtpUnavailable { reason }
    }
}

/// True when a TLS handshake failed somewhere down the chain (lettre reports a failed
/// implicit-TLS handshake as a connection error). Certificate and protocol mismatches do not
/// heal by retrying.
fn is_tls_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            return true;
        }
        current = e.source();
    }
    false
}

/// `err: cause: cause`, so a log line explains itself.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

struct AddressList<'a>(&'a [Address]);

impl fmt::Display for AddressList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_transience_is_explicit() {
        let refused = MailError::Refused {
            recipients_without_key: vec![Address::parse("eve@partner.example").unwrap()],
        };
        assert_eq!(refused.code(), "refused_no_key");
        assert!(refused.is_permanent());
        assert_eq!(
            refused.to_string(),
            "refused: no usable OpenPGP key for eve@partner.example"
        );
        let down = MailError::SmtpUnavailable {
            reason: "connection refused".into(),
        };
        assert_eq!(down.code(), "smtp_unavailable");
        assert!(down.is_transient());
        let deferred = MailError::SmtpDeferred {
            code: 451,
            reason: "later".into(),
        };
        assert!(deferred.is_transient());
        let rejected = MailError::SmtpRejected {
            code: 550,
            reason: "no such user".into(),
        };
        assert_eq!(rejected.code(), "smtp_rejected");
        assert!(rejected.is_permanent());
        assert_eq!(MailError::bad_key("x").code(), "bad_key");
    }
}
