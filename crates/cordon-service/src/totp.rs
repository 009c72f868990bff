//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA-1, 6 digits, 30-second
//! steps, the secret shown to authenticator apps as unpadded base32 (RFC 4648) in an
//! `otpauth://` URI. Pure functions; the caller passes the time.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Seconds per time step.
pub const STEP_SECONDS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps either side of now whose codes are accepted (clock drift between phone and server).
pub const DRIFT_STEPS: i64 = 1;
/// Bytes of secret (160 bits, RFC 4226's recommendation for SHA-1).
pub const SECRET_BYTES: usize = 20;

/// The time step of Unix second `unix`.
pub fn step_at(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECONDS)
}

/// The code of `secret` for time step `step` (HOTP with the step as counter), as 6 digits.
pub fn code(secret: &[u8], step: i64) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]) & 0x7fff_ffff;
    format!("{:0width$}", binary % 10u32.pow(DIGITS), width = DIGITS as usize)
}

/// The step within [`DRIFT_STEPS`] of `now_step` whose code is `given` (spaces ignored), if
/// any. The comparison does not stop at the first differing digit.
pub fn matching_step(secret: &[u8], given: &str, now_step: i64) -> Option<i64> {
    let given: String = given.chars().filter(|c| !c.is_whitespace()).collect();
    if given.len() != DIGITS as usize || !given.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut found = None;
    for step in now_step - DRIFT_STEPS..=now_step + DRIFT_STEPS {
        if crate::sessions::same_bytes(code(secret, step).as_bytes(), given.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// Unpadded RFC 4648 base32, as authenticator apps read secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` URI an authenticator app enrols from (as a QR code or pasted).
pub fn uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label = format!("{}:{}", percent(issuer), percent(account));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        base32(secret),
        percent(issuer)
    )
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8 digits there; the last 6 are ours).
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (unix, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code(secret, step_at(unix)), eight[2..], "at {unix}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let secret = b"12345678901234567890";
        let now = step_at(1_234_567_890);
        for d in -1..=1 {
            assert_eq!(matching_step(secret, &code(secret, now + d), now), Some(now + d));
        }
        assert_eq!(matching_step(secret, &code(secret, now + 2), now), None);
        assert_eq!(matching_step(secret, &code(secret, now - 2), now), None);
        let spaced = format!("{} {}", &code(secret, now)[..3], &code(secret, now)[3..]);
        assert_eq!(matching_step(secret, &spaced, now), Some(now));
        assert_eq!(matching_step(secret, "12345", now), None);
        assert_eq!(matching_step(secret, "abcdef", now), None);
    }

    #[test]
    fn base32_and_the_uri_are_what_authenticators_read() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            uri("Cordon", "olga", b"12345678901234567890"),
            "otpauth://totp/Cordon:olga?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Cordon&algorithm=SHA1&digits=6&period=30"
        );
    }
}
