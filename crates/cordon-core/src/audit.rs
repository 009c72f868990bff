//! The tamper-evident audit chain.
//!
//! Each entry's hash is SHA-256 over a canonical, length-prefixed encoding of its fields and
//! the previous entry's hash. Editing, inserting, deleting or reordering any entry breaks every
//! later link, and [`ChainVerifier`] names the first entry that no longer fits.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The "previous hash" of the first entry.
pub const GENESIS: Hash = [0u8; 32];

/// The hashed content of one audit entry. `payload` is stored verbatim (canonical JSON written
/// once by the service), so re-hashing never depends on re-serialization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at_micros: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub payload: String,
}

/// The hash of `record` chained after `prev`.
pub fn entry_hash(prev: &Hash, record: &AuditRecord) -> Hash {
    let mut h = Sha256::new();
    h.update(b"cordon-audit-v1\0");
    h.update(prev);
    h.update(record.seq.to_be_bytes());
    h.update(record.at_micros.to_be_bytes());
    for field in [&record.actor, &record.action, &record.subject, &record.payload] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().into()
}

/// What a verification walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOutcome {
    /// Entries read.
    pub entries: u64,
    /// The sequence number of the first entry that does not fit the chain, if any.
    pub first_bad_entry: Option<i64>,
}

impl VerifyOutcome {
    pub fn ok(&self) -> bool {
        self.first_bad_entry.is_none()
    }
}

/// Walks the chain entry by entry (in `seq` order) with constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    prev: Hash,
    expected_seq: i64,
    entries: u64,
    first_bad: Option<i64>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            prev: GENESIS,
            expected_seq: 1,
            entries: 0,
            first_bad: None,
        }
    }
}

impl ChainVerifier {
    /// Feeds the next stored entry: its content, the previous hash it claims and its own hash.
    pub fn push(&mut self, record: &AuditRecord, stored_prev: &[u8], stored_hash: &[u8]) {
        self.entries += 1;
        if self.first_bad.is_some() {
            return;
        }
        let fits = record.seq == self.expected_seq
            && stored_prev == self.prev
            && stored_hash == entry_hash(&self.prev, record);
        if !fits {
            // A gap (deleted row) is blamed on the first missing sequence number.
            self.first_bad = Some(record.seq.min(self.expected_seq));
            return;
        }
        self.prev = entry_hash(&self.prev, record);
        self.expected_seq += 1;
    }

    pub fn finish(self) -> VerifyOutcome {
        VerifyOutcome {
            entries: self.entries,
            first_bad_entry: self.first_bad,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(AuditRecord, Hash, Hash)> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let r = AuditRecord {
                    seq,
                    at_micros: seq * 1000,
                    actor: "alice".into(),
                    action: "incident.declare".into(),
                    subject: format!("incident:{seq}"),
                    payload: format!("{{\"n\":{seq}}}"),
                };
                let h = entry_hash(&prev, &r);
                let out = (r, prev, h);
                prev = h;
                out
            })
            .collect()
    }

    fn verify(entries: &[(AuditRecord, Hash, Hash)]) -> VerifyOutcome {
        let mut v = ChainVerifier::default();
        for (r, p, h) in entries {
            v.push(r, p, h);
        }
        v.finish()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let out = verify(&chain(10));
        assert_eq!(
            out,
            VerifyOutcome {
                entries: 10,
                first_bad_entry: None
            }
        );
        assert!(verify(&[]).ok());
    }

    #[test]
    fn an_edited_payload_is_named() {
        let mut c = chain(10);
        c[4].0.payload = "{\"n\":999}".into();
        assert_eq!(verify(&c).first_bad_entry, Some(5));
    }

    #[test]
    fn a_recomputed_hash_still_breaks_the_next_link() {
        let mut c = chain(10);
        c[4].0.actor = "mallory".into();
        c[4].2 = entry_hash(&c[4].1, &c[4].0);
        assert_eq!(verify(&c).first_bad_entry, Some(6));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let mut c = chain(10);
        c.remove(3);
        assert_eq!(verify(&c).first_bad_entry, Some(4));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let a = AuditRecord {
            seq: 1,
            at_micros: 0,
            actor: "ab".into(),
            action: "c".into(),
            subject: String::new(),
            payload: String::new(),
        };
        let b = AuditRecord {
            actor: "a".into(),
            action: "bc".into(),
            ..a.clone()
        };
        assert_ne!(entry_hash(&GENESIS, &a), entry_hash(&GENESIS, &b));
    }
}
