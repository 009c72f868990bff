//! Recipients' OpenPGP public keys: parsed and checked once at the boundary, then asked
//! which (sub)key encrypts at a given instant.

use jiff::Timestamp;
use pgp::composed::{Deserializable, SignedPublicKey, SignedPublicSubKey};
use pgp::packet::{Signature, SignatureType};
use pgp::types::{KeyDetails, Tag};
use std::fmt;
use std::sync::Arc;

use crate::MailError;

/// Armored keys larger than this are refused (a real certificate is a few KiB; keys with many
/// third-party signatures can reach a few hundred).
const MAX_ARMORED_LEN: usize = 1 << 20;

/// A recipient's OpenPGP certificate that has at least one encryption-capable key with a valid
/// binding signature and is not revoked. Built only by [`parse_public_key`].
#[derive(Clone)]
pub struct PublicKey(Arc<Inner>);

struct Inner {
    key: SignedPublicKey,
    fingerprint: String,
    /// When the primary key expires, from its newest valid self-signature.
    primary_expires: Option<u64>,
    /// Encryption-capable keys, newest first.
    candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    which: Which,
    created: u64,
    /// Unix seconds after which this key must not be used.
    expires: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
enum Which {
    Primary,
    Subkey(usize),
}

/// The key material that one message is encrypted to.
pub(crate) enum EncryptionKey<'a> {
    Primary(&'a SignedPublicKey),
    Subkey(&'a SignedPublicSubKey),
}

/// Parses an armored OpenPGP public key (`-----BEGIN PGP PUBLIC KEY BLOCK-----`), checks its
/// self-signatures and that it can encrypt. A malformed, revoked or sign-only key is
/// [`MailError::BadKey`] with a reason a person can act on.
pub fn parse_public_key(armored: &str) -> Result<PublicKey, MailError> {
    PublicKey::parse(armored)
}

impl PublicKey {
    /// See [`parse_public_key`].
    pub fn parse(armored: &str) -> Result<Self, MailError> {
        let armored = armored.trim();
        if armored.is_empty() {
            return Err(MailError::bad_key("the key is empty"));
        }
        if armored.len() > MAX_ARMORED_LEN {
            return Err(MailError::bad_key("the key is larger than 1 MiB"));
        }
        if armored.contains("PRIVATE KEY BLOCK") {
            return Err(MailError::bad_key(
                "this is a secret key; give the public key (gpg --armor --export)",
            ));
        }
        if !armored.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
            return Err(MailError::bad_key(
                "expected an armored public key starting with \
                 -----BEGIN PGP PUBLIC KEY BLOCK-----",
            ));
        }
        let (key, _headers) = SignedPublicKey::from_string(armored)
            .map_err(|e| MailError::bad_key(format!("not a readable OpenPGP key: {e}")))?;
        Self::check(key)
    }

    fn check(key: SignedPublicKey) -> Result<Self, MailError> {
        let primary = &key.primary_key;
        let primary_created = u64::from(primary.created_at().as_secs());

        if key
            .details
            .revocation_signatures
            .iter()
            .any(|sig| sig.verify_key(primary).is_ok())
        {
            return Err(MailError::bad_key("the key is revoked"));
        }

        // Valid self-signatures over the user ids and direct-key signatures; third-party
        // certifications fail this check and are simply ignored.
        let mut self_sigs: Vec<&Signature> = Vec::new();
        for user in &key.details.users {
            self_sigs.extend(
                user.signatures
                    .iter()
                    .filter(|sig| sig.verify_certification(primary, Tag::UserId, &user.id).is_ok()),
            );
        }
        self_sigs.extend(
            key.details
                .direct_signatures
                .iter()
                .filter(|sig| sig.verify_key(primary).is_ok()),
        );
        let newest_self_sig = newest(self_sigs.iter().copied())
            .ok_or_else(|| MailError::bad_key("the key has no valid self-signature"))?;
        let primary_expires = expiry(primary_created, newest_self_sig.key_expiration_time());

        let mut candidates = Vec::new();
        if primary.algorithm().can_encrypt() && can_encrypt(newest_self_sig) {
            candidates.push(Candidate {
                which: Which::Primary,
                created: primary_created,
                expires: primary_expires,
            });
        }
        for (index, subkey) in key.public_subkeys.iter().enumerate() {
            let valid = subkey
                .signatures
                .iter()
                .filter(|sig| sig.verify_subkey_binding(primary, &subkey.key).is_ok());
            let (revocations, bindings): (Vec<&Signature>, Vec<&Signature>) =
                valid.partition(|sig| sig.typ() == Some(SignatureType::SubkeyRevocation));
            if !revocations.is_empty() {
                continue;
            }
            let Some(binding) = newest(bindings.into_iter()) else {
                continue;
            };
            if !subkey.key.algorithm().can_encrypt() || !can_encrypt(binding) {
                continue;
            }
            let created = u64::from(subkey.key.created_at().as_secs());
            candidates.push(Candidate {
                which: Which::Subkey(index),
                created,
                expires: expiry(created, binding.key_expiration_time()),
            });
        }
        if candidates.is_empty() {
            return Err(MailError::bad_key(
                "the key has no encryption-capable (sub)key with a valid binding signature",
            ));
        }
        candidates.sort_by_key(|c| std::cmp::Reverse(c.created));

        let fingerprint = format!("{:X}", key.fingerprint());
        Ok(Self(Arc::new(Inner {
            key,
            fingerprint,
            primary_expires,
            candidates,
        })))
    }

    /// The primary key's fingerprint in upper-case hex.
    pub fn fingerprint(&self) -> &str {
        &self.0.fingerprint
    }

    /// The user ids (`Name <address>`) on the key, as written.
    pub fn user_ids(&self) -> Vec<String> {
        self.0
            .key
            .details
            .users
            .iter()
            .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
            .collect()
    }

    /// True when the key has an encryption key that is valid at `now` (not expired).
    pub fn can_encrypt_at(&self, now: Timestamp) -> bool {
        self.encryption_key_at(now).is_some()
    }

    /// The newest encryption-capable key that is valid at `now`.
    pub(crate) fn encryption_key_at(&self, now: Timestamp) -> Option<EncryptionKey<'_>> {
        let now = u64::try_from(now.as_second()).unwrap_or(0);
        let inner = &*self.0;
        if inner.primary_expires.is_some_and(|t| now >= t) {
            return None;
        }
        let chosen = inner.candidates.iter().find(|c| c.expires.is_none_or(|t| now < t))?;
        Some(match chosen.which {
            Which::Primary => EncryptionKey::Primary(&inner.key),
            Which::Subkey(i) => EncryptionKey::Subkey(&inner.key.public_subkeys[i]),
        })
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("fingerprint", &self.0.fingerprint)
            .finish_non_exhaustive()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.fingerprint == other.0.fingerprint
    }
}

impl Eq for PublicKey {}

fn newest<'a>(sigs: impl Iterator<Item = &'a Signature>) -> Option<&'a Signature> {
    sigs.max_by_key(|sig| sig.created().map(|t| t.as_secs()).unwrap_or(0))
}

fn can_encrypt(sig: &Signature) -> bool {
    let flags = sig.key_flags();
    flags.encrypt_comms() || flags.encrypt_storage()
}

/// A key expiration time is relative to the key's creation; zero means "does not expire".
fn expiry(created: u64, lifetime: Option<pgp::types::Duration>) -> Option<u64> {
    lifetime
        .map(std::time::Duration::from)
        .filter(|d| !d.is_zero())
        .map(|d| created.saturating_add(d.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_keys_are_bad_keys_with_a_reason() {
        for (input, needle) in [
            ("", "empty"),
            ("hello", "expected an armored public key"),
            (
                "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxx\n-----END PGP PRIVATE KEY BLOCK-----",
                "secret key",
            ),
            (
                "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 !!\n-----END PGP PUBLIC KEY BLOCK-----",
                "not a readable OpenPGP key",
            ),
            (
                "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----",
                "not a readable OpenPGP key",
            ),
        ] {
            let err = parse_public_key(input).unwrap_err();
            assert_eq!(err.code(), "bad_key");
            assert!(err.to_string().contains(needle), "{input:?}: {err}");
        }
    }
}
