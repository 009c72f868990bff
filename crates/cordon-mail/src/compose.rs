//! Turns a decided [`Plan`] into an RFC 5322 message: the fixed headers, and a `text/plain`
//! body or a PGP/MIME (RFC 3156) `multipart/encrypted` body.

use jiff::Timestamp;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use pgp::composed::{ArmorOptions, MessageBuilder};
use pgp::crypto::sym::SymmetricKeyAlgorithm;

use crate::key::EncryptionKey;
use crate::policy::Plan;
use crate::{Address, MailError, MailPolicy, Protection};

/// A message ready for the transport.
pub(crate) struct Composed {
    pub message: lettre::Message,
    pub message_id: String,
    pub protection: Protection,
    pub recipients: Vec<Address>,
}

/// Builds the mail. `text` is the whole body; the subject is always the policy's label.
pub(crate) fn compose(
    from: &Mailbox,
    policy: &MailPolicy,
    plan: Plan<'_>,
    text: &str,
    now: Timestamp,
) -> Result<Composed, MailError> {
    let message_id = format!("<{}@{}>", uuid::Uuid::new_v4().simple(), from.email.domain());
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .subject(policy.label().as_str())
        .date(system_time(now))
        .message_id(Some(message_id.clone()));
    for (address, _) in &plan.recipients {
        builder = builder.to(Mailbox::new(None, address.as_lettre().clone()));
    }
    let recipients: Vec<Address> = plan.recipients.iter().map(|(a, _)| (*a).clone()).collect();

    let message = match plan.protection {
        Protection::Plain => builder.singlepart(text_part(text)),
        Protection::Encrypted => {
            let keys: Vec<&EncryptionKey<'_>> = plan.recipients.iter().filter_map(|(_, k)| k.as_ref()).collect();
            if keys.len() != plan.recipients.len() {
                return Err(MailError::build("a recipient of an encrypted mail has no key"));
            }
            // The encrypted payload is itself a MIME entity (RFC 3156 §4).
            let inner = text_part(text).formatted();
            let armored = encrypt(&inner, &keys)?;
            builder.multipart(pgp_mime(armored))
        }
    }
    .map_err(MailError::build)?;

    Ok(Composed {
        message,
        message_id,
        protection: plan.protection,
        recipients,
    })
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

/// Encrypts to every key (SEIPD v1 with AES-256: what GnuPG 2.2 and every PGP/MIME client
/// read) and armors the result.
fn encrypt(plaintext: &[u8], keys: &[&EncryptionKey<'_>]) -> Result<String, MailError> {
    let mut rng = rand08::thread_rng();
    let mut builder =
        MessageBuilder::from_bytes("", plaintext.to_vec()).seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
    for key in keys {
        let added = match key {
            EncryptionKey::Primary(k) => builder.encrypt_to_key(&mut rng, *k),
            EncryptionKey::Subkey(k) => builder.encrypt_to_key(&mut rng, *k),
        };
        added.map_err(|e| MailError::build(format!("OpenPGP encryption failed: {e}")))?;
    }
    builder
        .to_armored_string(&mut rng, ArmorOptions::default())
        .map_err(|e| MailError::build(format!("OpenPGP encryption failed: {e}")))
}
