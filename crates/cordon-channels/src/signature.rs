//! HMAC-SHA256 request signatures shared by the Slack-compatible inbound check (`v0=`) and
//! Cordon's own outgoing webhooks (`v1=`): computing them, comparing them in constant time,
//! and the replay window around a caller-supplied `now`.

use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::ChannelError;

/// How far a signed request's timestamp may be from `now`, either way: 5 minutes, as Slack
/// recommends.
pub const REPLAY_WINDOW_SECS: i64 = 5 * 60;

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Parses `{version}=<64 hex>` into the 32 MAC bytes.
fn decode_signature(header: &str, version: &str) -> Result<[u8; 32], ChannelError> {
    let hex_part = header
        .trim()
        .strip_prefix(version)
        .and_then(|rest| rest.strip_prefix('='))
        .ok_or(ChannelError::MalformedSignature)?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).map_err(|_| ChannelError::MalformedSignature)?;
    Ok(out)
}

/// Parses a decimal Unix-seconds timestamp header and checks it against the replay window.
pub(crate) fn check_timestamp(header: &str, now: Timestamp) -> Result<i64, ChannelError> {
    let ts: i64 = header.trim().parse().map_err(|_| ChannelError::MalformedSignature)?;
    let skew_secs = now.as_second().saturating_sub(ts);
    if skew_secs.abs() > REPLAY_WINDOW_SECS {
        return Err(ChannelError::StaleTimestamp { skew_secs });
    }
    Ok(ts)
}

/// Checks `signature_header` (`{version}=<hex>`) against the HMAC of `parts`, in constant
/// time.
pub(crate) fn check_signature(
    key: &[u8],
    version: &str,
    signature_header: &str,
    parts: &[&[u8]],
) -> Result<(), ChannelError> {
    let given = decode_signature(signature_header, version)?;
    let expected = hmac_sha256(key, parts);
    if bool::from(given.ct_eq(&expected)) {
        Ok(())
    } else {
        Err(ChannelError::BadSignature)
    }
}

/// `{version}=<lower-case hex>` of the HMAC of `parts`.
pub(crate) fn signature_header(key: &[u8], version: &str, parts: &[&[u8]]) -> String {
    format!("{version}={}", hex::encode(hmac_sha256(key, parts)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn window_is_five_minutes_either_way() {
        let now = Timestamp::from_second(1_000_000).unwrap();
        assert!(check_timestamp("999700", now).is_ok());
        assert!(check_timestamp("1000300", now).is_ok());
        assert_eq!(
            check_timestamp("999699", now),
            Err(ChannelError::StaleTimestamp { skew_secs: 301 })
        );
        assert_eq!(
            check_timestamp("1000301", now),
            Err(ChannelError::StaleTimestamp { skew_secs: -301 })
        );
        assert_eq!(check_timestamp("soon", now), Err(ChannelError::MalformedSignature));
        assert!(check_timestamp(&i64::MIN.to_string(), now).is_err());
    }

    #[test]
    fn malformed_signatures_are_typed() {
        for bad in ["", "v0=", "v0=zz", "v1=00", "a2114d57", "v0=a2114d57b48e"] {
            assert_eq!(
                check_signature(b"k", "v0", bad, &[b"x"]),
                Err(ChannelError::MalformedSignature),
                "{bad}"
            );
        }
        let good = signature_header(b"k", "v0", &[b"x"]);
        assert!(check_signature(b"k", "v0", &good, &[b"x"]).is_ok());
        assert!(check_signature(b"k", "v0", &good.to_uppercase().replace("V0", "v0"), &[b"x"]).is_ok());
        assert_eq!(
            check_signature(b"k", "v0", &good, &[b"y"]),
            Err(ChannelError::BadSignature)
        );
    }
}
