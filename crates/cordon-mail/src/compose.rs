//! Turns a decided plan ([`crate::policy`]) into RFC 5322 messages: one per recipient, each with the fixed
//! headers, that recipient alone in `To:`, and a `text/plain` body or a PGP/MIME (RFC 3156)
//! `multipart/encrypted` body encrypted to that recipient's key alone.
//!
//! One message per recipient, not one message with everyone in `To:` or `Bcc:`: a recipient
//! must not learn who else was told. `To:` and `Cc:` show every address to everyone; `Bcc:`
//! hides the headers but a message encrypted to several keys still names each key's id in its
//! session-key packets, which anyone with a keyserver can turn back into addresses.

use jiff::Timestamp;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use pgp::composed::{ArmorOptions, MessageBuilder};
use pgp::crypto::sym::SymmetricKeyAlgorithm;

use crate::key::EncryptionKey;
use crate::{Address, MailError, MailPolicy, Protection};

/// One recipient's message, ready for the transport.
pub(crate) struct Composed {
    pub message: lettre::Message,
    pub message_id: String,
}

/// Builds `to`'s own message. `text` is the whole body; the subject is always the policy's
/// label; `key` is set exactly when `protection` is [`Protection::Encrypted`].
pub(crate) fn compose(
    from: &Mailbox,
    policy: &MailPolicy,
    protection: Protection,
    to: &Address,
    key: Option<&EncryptionKey<'_>>,
    text: &str,
    now: Timestamp,
) -> Result<Composed, MailError> {
    let message_id = format!("<{}@{}>", uuid::Uuid::new_v4().simple(), from.email.domain());
    let builder = lettre::Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to.as_lettre().clone()))
        .subject(policy.label().as_str())
        .date(system_time(now))
        .message_id(Some(message_id.clone()));

    let message = match (protection, key) {
        (Protection::Plain, _) => builder.singlepart(text_part(text)),
        (Protection::Encrypted, Some(key)) => {
            // The encrypted payload is itself a MIME entity (RFC 3156 §4).
            let inner = text_part(text).formatted();
            let armored = encrypt(&inner, key)?;
            builder.multipart(pgp_mime(armored))
        }
        (Protection::Encrypted, None) => {
            return Err(MailError::build("a recipient of an encrypted mail has no key"));
        }
    }
    .map_err(MailError::build)?;

    Ok(Composed { message, message_id })
}

/// The `Date` header from the caller's `now` (the mailer never reads the clock itself).
fn system_time(now: Timestamp) -> std::time::SystemTime {
    let since_epoch = std::time::Duration::try_from(now.as_duration()).unwrap_or_default();
    std::time::UNIX_EPOCH + since_epoch
}

fn text_part(text: &str) -> SinglePart {
    SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(text.to_owned())
}

/// RFC 3156 §4: a `multipart/encrypted` with the version part and the armored message.
fn pgp_mime(armored: String) -> MultiPart {
    let version = SinglePart::builder()
        .header(ContentType::parse("application/pgp-encrypted").expect("a valid content type"))
        .header(ContentTransferEncoding::SevenBit)
        .body(String::from("Version: 1\r\n"));
    let payload = SinglePart::builder()
        .header(ContentType::parse("application/octet-stream; name=\"encrypted.asc\"").expect("a valid content type"))
        .header(ContentTransferEncoding::SevenBit)
        .body(armored);
    MultiPart::encrypted(String::from("application/pgp-encrypted"))
        .singlepart(version)
        .singlepart(payload)
}

/// Encrypts to one key (SEIPD v1 with AES-256: what GnuPG 2.2 and every PGP/MIME client
/// read) and armors the result.
fn encrypt(plaintext: &[u8], key: &EncryptionKey<'_>) -> Result<String, MailError> {
    let mut rng = rand08::thread_rng();
    let mut builder =
        MessageBuilder::from_bytes("", plaintext.to_vec()).seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
    let added = match key {
        EncryptionKey::Primary(k) => builder.encrypt_to_key(&mut rng, *k),
        EncryptionKey::Subkey(k) => builder.encrypt_to_key(&mut rng, *k),
    };
    added.map_err(|e| MailError::build(format!("OpenPGP encryption failed: {e}")))?;
    builder
        .to_armored_string(&mut rng, ArmorOptions::default())
        .map_err(|e| MailError::build(format!("OpenPGP encryption failed: {e}")))
}
