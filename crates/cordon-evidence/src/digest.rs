//! Digest value types (SHA-256, BLAKE3, MD5, SHA-1) and the incremental hasher each
//! pipeline lane runs.
//!
//! Digests are fixed-size byte arrays; their text form is lowercase hex. Parsing accepts
//! either case, so a digest typed by a person still matches.

use std::fmt;
use std::str::FromStr;

use crate::error::EvidenceError;

macro_rules! digest_type {
    ($(#[$meta:meta])* $name:ident, $len:literal, $label:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Length of the digest in bytes.
            pub const LEN: usize = $len;

            /// Wraps raw digest bytes.
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw digest bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Lowercase hex, the canonical text form.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            /// Parses hex (either case).
            pub fn from_hex(text: &str) -> Result<Self, EvidenceError> {
                let mut bytes = [0u8; $len];
                hex::decode_to_slice(text, &mut bytes).map_err(|_| EvidenceError::InvalidDigest {
                    kind: $label,
                    expected_hex_len: $len * 2,
                })?;
                Ok(Self(bytes))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.to_hex())
            }
        }

        impl FromStr for $name {
            type Err = EvidenceError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::from_hex(text)
            }
        }
    };
}

digest_type!(
    /// A SHA-256 digest; also the content address of a stored blob.
    Sha256Digest, 32, "SHA-256"
);
digest_type!(
    /// A BLAKE3 (256-bit output) digest.
    Blake3Digest, 32, "BLAKE3"
);
digest_type!(
    /// An MD5 digest, computed only on request for older forensic tools.
    Md5Digest, 16, "MD5"
);
digest_type!(
    /// A SHA-1 digest, computed only on request for older forensic tools.
    Sha1Digest, 20, "SHA-1"
);

/// Which digest a pipeline lane computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestKind {
    Sha256,
    Blake3,
    Md5,
    Sha1,
}

/// One computed digest, tagged with its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DigestValue {
    Sha256(Sha256Digest),
    Blake3(Blake3Digest),
    Md5(Md5Digest),
    Sha1(Sha1Digest),
}

/// An incremental hasher of one kind; each pipeline lane owns one.
pub(crate) enum LaneHasher {
    Sha256(sha2::Sha256),
    Blake3(Box<blake3::Hasher>),
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
}

impl LaneHasher {
    pub(crate) fn new(kind: DigestKind) -> Self {
        use sha2::Digest as _;
        match kind {
            DigestKind::Sha256 => Self::Sha256(sha2::Sha256::new()),
            DigestKind::Blake3 => Self::Blake3(Box::new(blake3::Hasher::new())),
            DigestKind::Md5 => Self::Md5(md5::Md5::new()),
            DigestKind::Sha1 => Self::Sha1(sha1::Sha1::new()),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        use sha2::Digest as _;
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Blake3(h) => {
                h.update(data);
            }
            Self::Md5(h) => h.update(data),
            Self::Sha1(h) => h.update(data),
        }
    }

    pub(crate) fn finish(self) -> DigestValue {
        use sha2::Digest as _;
        match self {
            Self::Sha256(h) => DigestValue::Sha256(Sha256Digest(h.finalize().into())),
            Self::Blake3(h) => DigestValue::Blake3(Blake3Digest(*h.finalize().as_bytes())),
            Self::Md5(h) => DigestValue::Md5(Md5Digest(h.finalize().into())),
            Self::Sha1(h) => DigestValue::Sha1(Sha1Digest(h.finalize().into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_shot(kind: DigestKind, data: &[u8]) -> String {
        let mut h = LaneHasher::new(kind);
        // Feed in uneven pieces to exercise the incremental path.
        for piece in data.chunks(2) {
            h.update(piece);
        }
        match h.finish() {
            DigestValue::Sha256(d) => d.to_hex(),
            DigestValue::Blake3(d) => d.to_hex(),
            DigestValue::Md5(d) => d.to_hex(),
            DigestValue::Sha1(d) => d.to_hex(),
        }
    }

    #[test]
    fn lane_hashers_match_known_vectors() {
        let cases = [
            (
                DigestKind::Sha256,
                &b""[..],
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                DigestKind::Sha256,
                b"abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                DigestKind::Blake3,
                b"",
                "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
            ),
            (
                DigestKind::Blake3,
                b"abc",
                "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
            ),
            (DigestKind::Md5, b"", "d41d8cd98f00b204e9800998ecf8427e"),
            (DigestKind::Md5, b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            (DigestKind::Sha1, b"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            (DigestKind::Sha1, b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ];
        for (kind, input, want) in cases {
            assert_eq!(one_shot(kind, input), want, "{kind:?} of {input:?}");
        }
    }

    #[test]
    fn hex_round_trip_and_case_insensitive_parse() {
        let text = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        let digest: Sha256Digest = text.parse().unwrap();
        assert_eq!(digest.to_hex(), text.to_lowercase());
        assert_eq!(Sha256Digest::from_hex(&digest.to_hex()).unwrap(), digest);
    }

    #[test]
    fn bad_hex_is_rejected_with_its_kind() {
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(66)] {
            let err = Sha256Digest::from_hex(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_digest");
        }
        let err = Md5Digest::from_hex("00").unwrap_err();
        assert!(err.to_string().contains("MD5"));
    }
}
