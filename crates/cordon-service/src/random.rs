//! Randomness from the operating system: token bytes and uniform picks for codenames.

/// `n` bytes from the OS CSPRNG.
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    buf
}

/// A uniform index below `n` (rejection sampling, no modulo bias).
pub(crate) fn index(n: usize) -> usize {
    assert!(n > 0);
    let n = n as u64;
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let v = u64::from_le_bytes(bytes::<8>());
        if v < zone {
            return (v % n) as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn index_stays_in_range_and_covers_it() {
        let mut seen = [false; 7];
        for _ in 0..2000 {
            seen[super::index(7)] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
