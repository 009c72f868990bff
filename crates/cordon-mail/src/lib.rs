//! The mail channel and the communication rules for mail.
//!
//! - Every incident mail has the configured label as its whole subject
//!   (default [`DEFAULT_LABEL`], `Attorney Work Project`).
//! - When any recipient is outside the company domains, the body is OpenPGP-encrypted as
//!   PGP/MIME (RFC 3156), each recipient's copy to their key; when a recipient then has no usable key,
//!   nothing is sent to anyone and the mailer returns [`MailError::Refused`].
//! - What may go out unprotected is a [`Notice`]: codename, severity and a link. Free text
//!   lives only in a [`Message`], which leaves encrypted or between company addresses.
//! - No recipient learns who else got a mail: each recipient gets their own message, with
//!   only their address in `To:`, and — when encrypted — encrypted to their key alone (Bcc
//!   would hide the header but not the other recipients' key ids inside a message encrypted
//!   to all of them). The decision plain / encrypted / refused is still made once for the
//!   whole list, so a mail with one outside recipient is encrypted for the inside ones too.
//!
//! Keys and addresses are parsed at the boundary ([`parse_public_key`], [`Address::parse`]);
//! the clock is a parameter (`now`) of every send. [`Mailer`] speaks SMTP with lettre's tokio
//! transport over rustls (`smtp://` with opportunistic or required STARTTLS, `smtps://`).
//! Errors carry stable [`MailError::code`]s and say whether a retry can help
//! ([`MailError::is_transient`]).
//!
//! With the `testing` feature, [`testing`] starts a real SMTP sink (aiosmtpd) and drives GnuPG
//! for other crates' tests.

mod address;
mod compose;
mod error;
mod key;
mod message;
mod notice;
mod policy;
mod smtp;

#[cfg(feature = "testing")]
pub mod testing;

pub use address::{Address, CompanyDomains};
pub use error::MailError;
pub use key::{PublicKey, parse_public_key};
pub use message::{Message, Recipient};
pub use notice::{Link, Notice};
pub use policy::{BodyKind, DEFAULT_LABEL, MailPolicy, Protection, SubjectLabel};
pub use smtp::{Delivery, Mailer, MailerConfig, SentMessage, SmtpUrl, TlsMode};

/// The domain types a notice is made of, re-exported for callers.
pub use cordon_core::codename::Codename;
pub use cordon_core::incident::Severity;
