//! Secrets Cordon must read back later — each webhook contact's signing secret — sealed at
//! rest with XChaCha20-Poly1305 under the deployment's [`SealingKey`], so the database never
//! holds them in clear.
//!
//! A sealed value is `1 ‖ key id (8 bytes) ‖ nonce (24 random bytes) ‖ ciphertext ‖ tag`.
//! The key id (the first 8 bytes of SHA-256 over a label and the key) tells a node that holds
//! another key why it cannot open a value; the associated data binds the value to the row it
//! was sealed for (a contact method's id), so a sealed secret copied into another row does not
//! open there.
//!
//! The key comes from `CORDON_SECRET_KEY` (64 hex characters; every node on one PostgreSQL
//! database must have the same) or, when that is unset, from the file `secret.key` in the
//! private data dir, created on first start (see `cordon/src/wiring.rs`).

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::random;

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// The deployment's 256-bit key for secrets at rest. `Debug` never shows it.
#[derive(Clone)]
pub struct SealingKey {
    key: [u8; 32],
    id: [u8; KEY_ID_LEN],
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealingKey(id {})", hex::encode(self.id))
    }
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the sealed value is malformed")]
    Malformed,
    /// Sealed under another key: nodes sharing a database need the same `CORDON_SECRET_KEY`.
    #[error("sealed under another key (id {0}); nodes sharing a database need the same CORDON_SECRET_KEY")]
    OtherKey(String),
    /// The value was altered, or belongs to another row.
    #[error("the sealed value does not authenticate")]
    Forged,
}

impl SealingKey {
    pub fn from_bytes(key: [u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(b"cordon sealing key id\0");
        h.update(key);
        let digest = h.finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self { key, id }
    }

    /// A fresh random key (the key file's content on first start; tests).
    pub fn generate() -> Self {
        Self::from_bytes(random::bytes::<32>())
    }

    /// Parses 64 hex characters (`openssl rand -hex 32`), surrounding white space ignored.
    pub fn parse_hex(text: &str) -> Result<Self, String> {
        let mut key = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut key).map_err(|_| {
            "a sealing key is 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`".to_owned()
        })?;
        Ok(Self::from_bytes(key))
    }

    /// The key as 64 hex characters, for the key file.
    pub fn to_hex(&self) -> String {
        hex::encode(self.key)
    }

    /// The key's id: safe to log, names which key sealed a value.
    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }

    /// Seals `plaintext` for the row named by `context`.
    pub(crate) fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let nonce = random::bytes::<NONCE_LEN>();
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + 16);
        out.push(VERSION);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&nonce);
        let aad = self.aad(context);
        let ciphertext = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message of a sane size");
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Opens a value sealed for the row named by `context`.
    pub(crate) fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < HEADER_LEN + 16 || sealed[0] != VERSION {
            return Err(OpenError::Malformed);
        }
        let id = &sealed[1..1 + KEY_ID_LEN];
        if id != self.id {
            return Err(OpenError::OtherKey(hex::encode(id)));
        }
        let nonce: [u8; NONCE_LEN] = sealed[1 + KEY_ID_LEN..HEADER_LEN]
            .try_into()
            .expect("the header holds a whole nonce");
        let aad = self.aad(context);
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| OpenError::Forged)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.key).into())
    }

    /// The header (version and key id) and the row, authenticated with the ciphertext.
    fn aad(&self, context: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(1 + KEY_ID_LEN + context.len());
        aad.push(VERSION);
        aad.extend_from_slice(&self.id);
        aad.extend_from_slice(context);
        aad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() {
        let key = SealingKey::generate();
        let sealed = key.seal(b"whsec_abc", b"row-1");
        assert!(!sealed.windows(9).any(|w| w == b"whsec_abc"), "not in clear");
        assert_eq!(key.open(&sealed, b"row-1").unwrap(), b"whsec_abc");
        // Fresh nonce every time.
        assert_ne!(sealed, key.seal(b"whsec_abc", b"row-1"));
        assert_eq!(key.open(&sealed, b"row-2"), Err(OpenError::Forged));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(key.open(&flipped, b"row-1"), Err(OpenError::Forged));
        let other = SealingKey::generate();
        assert!(matches!(other.open(&sealed, b"row-1"), Err(OpenError::OtherKey(_))));
        assert_eq!(key.open(&sealed[..20], b"row-1"), Err(OpenError::Malformed));
        assert_eq!(key.open(b"", b"row-1"), Err(OpenError::Malformed));
    }

    #[test]
    fn keys_parse_from_hex_and_hide_in_debug() {
        let key = SealingKey::parse_hex(&format!(" {} \n", "ab".repeat(32))).unwrap();
        assert_eq!(key.to_hex(), "ab".repeat(32));
        assert!(!format!("{key:?}").contains("abab"));
        assert_eq!(SealingKey::parse_hex(&key.to_hex()).unwrap().id_hex(), key.id_hex());
        for bad in ["", "abc", &"zz".repeat(32), &"ab".repeat(33)] {
            assert!(SealingKey::parse_hex(bad).is_err(), "{bad}");
        }
    }
}
