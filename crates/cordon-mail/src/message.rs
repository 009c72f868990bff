//! What a caller hands to the mailer: recipients with their keys, and either a [`Notice`] or a
//! full [`Message`] body.
//!
//! [`Notice`]: crate::Notice

use crate::{Address, MailError, PublicKey};

/// One recipient and, if they registered one, their OpenPGP public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub address: Address,
    pub pgp_key: Option<PublicKey>,
}

impl Recipient {
    pub fn new(address: Address, pgp_key: Option<PublicKey>) -> Self {
        Self { address, pgp_key }
    }

    /// Parses an address and, if given, an armored public key (both from storage or a form).
    pub fn parse(address: &str, armored_key: Option<&str>) -> Result<Self, MailError> {
        Ok(Self {
            address: Address::parse(address)?,
            pgp_key: armored_key.map(PublicKey::parse).transpose()?,
        })
    }
}

/// A mail with a full body: the incident's title, details, an approved communication.
///
/// It is only ever sent OpenPGP-encrypted to every recipient, or — when every recipient is
/// inside the company and the policy allows it — as plain text. There is no way to send it
/// unencrypted to an outside address: the mailer refuses instead
/// ([`MailError::Refused`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub recipients: Vec<Recipient>,
    /// Plain text (UTF-8). Line ends are normalized to CRLF on the wire.
    pub body_text: String,
}

impl Message {
    pub fn new(recipients: Vec<Recipient>, body_text: impl Into<String>) -> Self {
        Self {
            recipients,
            body_text: body_text.into(),
        }
    }
}
