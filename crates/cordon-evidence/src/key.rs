//! Blob keys (content addresses) and byte ranges for partial reads.

use std::fmt;
use std::str::FromStr;

use crate::digest::Sha256Digest;
use crate::error::EvidenceError;

/// The content address of a stored blob: the SHA-256 of its bytes.
///
/// Its text form is exactly 64 lowercase hex characters. Parsing is strict (no uppercase,
/// no prefix) because the text names files and objects: one blob, one spelling.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(Sha256Digest);

impl BlobKey {
    /// The key of content whose SHA-256 is `sha256`.
    pub const fn from_sha256(sha256: Sha256Digest) -> Self {
        Self(sha256)
    }

    /// The SHA-256 the key stands for.
    pub const fn sha256(&self) -> Sha256Digest {
        self.0
    }

    /// The canonical text form (64 lowercase hex characters).
    pub fn to_hex(&self) -> String {
        self.0.to_hex()
    }
}

impl FromStr for BlobKey {
    type Err = EvidenceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let canonical = text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !canonical {
            return Err(EvidenceError::InvalidKey);
        }
        Sha256Digest::from_hex(text)
            .map(Self)
            .map_err(|_| EvidenceError::InvalidKey)
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobKey({})", self.0)
    }
}

/// A half-open byte range `start..end` of a blob.
///
/// HTTP `Range: bytes=first-last` is inclusive; build it with [`ByteRange::from_inclusive`].
/// Stores reject a range whose `end` lies past the blob's size instead of clamping it, so
/// a short read is never silent; the HTTP edge clamps with the size from `stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ByteRange {
    start: u64,
    end: u64,
}

impl ByteRange {
    /// `start..end`; fails when `start > end`. An empty range is allowed.
    pub fn new(start: u64, end: u64) -> Result<Self, EvidenceError> {
        if start > end {
            return Err(EvidenceError::InvalidRange { start, end, size: None });
        }
        Ok(Self { start, end })
    }

    /// `first..=last`, as in HTTP `bytes=first-last`.
    pub fn from_inclusive(first: u64, last: u64) -> Result<Self, EvidenceError> {
        let end = last.checked_add(1).ok_or(EvidenceError::InvalidRange {
            start: first,
            end: last,
            size: None,
        })?;
        Self::new(first, end)
    }

    /// The whole of a blob of `size` bytes.
    pub const fn full(size: u64) -> Self {
        Self { start: 0, end: size }
    }

    pub const fn start(&self) -> u64 {
        self.start
    }

    /// One past the last byte.
    pub const fn end(&self) -> u64 {
        self.end
    }

    pub const fn len(&self) -> u64 {
        self.end - self.start
    }

    pub const fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Checks the range against a blob of `size` bytes.
    pub fn within(self, size: u64) -> Result<Self, EvidenceError> {
        if self.end > size {
            return Err(EvidenceError::InvalidRange {
                start: self.start,
                end: self.end,
                size: Some(size),
            });
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn key_parses_only_canonical_text() {
        let key: BlobKey = ABC.parse().unwrap();
        assert_eq!(key.to_string(), ABC);
        for bad in [
            &ABC.to_uppercase()[..],
            &ABC[..63],
            &format!("{ABC}0"),
            "../../etc/passwd",
            &format!("{}/", &ABC[..63]),
            "",
        ] {
            let err = bad.parse::<BlobKey>().unwrap_err();
            assert_eq!(err.code(), "invalid_key", "{bad}");
        }
    }

    #[test]
    fn ranges_check_order_and_size() {
        let r = ByteRange::from_inclusive(10, 19).unwrap();
        assert_eq!((r.start(), r.end(), r.len()), (10, 20, 10));
        assert!(ByteRange::new(5, 4).is_err());
        assert!(ByteRange::new(4, 4).unwrap().is_empty());
        assert!(ByteRange::from_inclusive(0, u64::MAX).is_err());
        assert!(r.within(20).is_ok());
        assert_eq!(r.within(19).unwrap_err().code(), "invalid_range");
    }
}
