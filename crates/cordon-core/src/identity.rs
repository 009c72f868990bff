//! Identity and access: the chat identities a Cordon user may link (a Slack or Matrix user
//! id), the one-time codes that prove a chat account belongs to the user, and how long an API
//! token may live. Untrusted text becomes these types once, here.

use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};

use crate::error::DomainError;

/// The chat systems whose accounts can be linked to a Cordon user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChatKind {
    Slack,
    Matrix,
}

impl ChatKind {
    pub const ALL: [ChatKind; 2] = [ChatKind::Slack, ChatKind::Matrix];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Matrix => "matrix",
        }
    }

    /// The name of the contact kind that once held such accounts (`slack_user`, `matrix_user`).
    pub fn contact_kind(self) -> &'static str {
        match self {
            Self::Slack => "slack_user",
            Self::Matrix => "matrix_user",
        }
    }

    /// What the chat system calls itself, for sentences.
    pub fn title(self) -> &'static str {
        match self {
            Self::Slack => "Slack",
            Self::Matrix => "Matrix",
        }
    }
}

impl fmt::Display for ChatKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChatKind {
    type Err = DomainError;

    /// `slack` or `matrix`; the old contact kinds `slack_user` and `matrix_user` too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::names::Named::parse_name(s)
    }
}

impl crate::names::Named for ChatKind {
    const FIELD: &'static str = "kind";
    fn all() -> &'static [Self] {
        &Self::ALL
    }
    fn name(self) -> &'static str {
        self.as_str()
    }
    fn alias(key: &str) -> Option<Self> {
        match key {
            "slack_user" => Some(Self::Slack),
            "matrix_user" => Some(Self::Matrix),
            _ => None,
        }
    }
}

/// Longest chat user id accepted, in bytes (Matrix allows 255).
pub const MAX_CHAT_ID_BYTES: usize = 255;

/// One chat account: a Slack user id (`U024BE7LH`, kept upper-case as Slack writes it) or a
/// Matrix user id (`@alice:example.org`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChatIdentity {
    kind: ChatKind,
    id: String,
}

impl ChatIdentity {
    /// Parses `raw` as an account of `kind`.
    pub fn parse(kind: ChatKind, raw: &str) -> Result<Self, DomainError> {
        let raw = raw.trim();
        match kind {
            ChatKind::Slack => {
                let ok = (2..=64).contains(&raw.len())
                    && raw.bytes().all(|b| b.is_ascii_alphanumeric())
                    && raw.starts_with(['U', 'W', 'u', 'w']);
                if !ok {
                    return Err(DomainError::invalid(
                        "id",
                        "a Slack user id looks like `U024BE7LH` (letters and digits, starting with U or W)",
                    ));
                }
                Ok(Self {
                    kind,
                    id: raw.to_ascii_uppercase(),
                })
            }
            ChatKind::Matrix => {
                let ok = raw.len() <= MAX_CHAT_ID_BYTES
                    && raw
                        .strip_prefix('@')
                        .and_then(|r| r.split_once(':'))
                        .is_some_and(|(local, server)| !local.is_empty() && !server.is_empty())
                    && !raw.chars().any(|c| c.is_whitespace() || c.is_control());
                if !ok {
                    return Err(DomainError::invalid(
                        "id",
                        "a Matrix user id looks like `@alice:example.org`",
                    ));
                }
                Ok(Self {
                    kind,
                    id: raw.to_owned(),
                })
            }
        }
    }

    pub fn kind(&self) -> ChatKind {
        self.kind
    }

    /// The id as the chat system writes it.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for ChatIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// The alphabet of link codes: Crockford's base 32 (no I, L, O or U), so a code read aloud or
/// typed from a screen survives.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a link code: 12 × 5 = 60 bits.
pub const LINK_CODE_CHARS: usize = 12;

/// A one-time code that links the chat account it is sent from to the user it was issued to.
/// A secret: its `Debug` hides it, and it is stored only as a hash.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkCode(String);

impl LinkCode {
    /// The code for 60 random bits (the caller draws them from the OS CSPRNG).
    pub fn from_random(bytes: [u8; 8]) -> Self {
        let mut v = u64::from_le_bytes(bytes);
        let mut s = String::with_capacity(LINK_CODE_CHARS);
        for _ in 0..LINK_CODE_CHARS {
            s.push(CODE_ALPHABET[(v & 31) as usize] as char);
            v >>= 5;
        }
        Self(s)
    }

    /// Reads a code as typed: case, spaces and dashes do not matter, and the letters Crockford
    /// reads as digits (`O` → 0, `I`/`L` → 1) are mapped. `None` when it cannot be a code.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() > 64 {
            return None;
        }
        let mut s = String::with_capacity(LINK_CODE_CHARS);
        for c in raw.chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' | '\t' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if c.is_ascii() && CODE_ALPHABET.contains(&(c as u8)) => c,
                _ => return None,
            };
            s.push(c);
        }
        (s.len() == LINK_CODE_CHARS).then_some(Self(s))
    }

    /// The canonical form, the input of the stored hash.
    pub fn canonical(&self) -> &str {
        &self.0
    }

    /// The form shown to the user: `XXXX-XXXX-XXXX`.
    pub fn display(&self) -> String {
        let c = &self.0;
        format!("{}-{}-{}", &c[..4], &c[4..8], &c[8..])
    }
}

impl fmt::Debug for LinkCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkCode(…)")
    }
}

/// The shortest and longest lifetime a token may be given.
pub const MIN_TOKEN_LIFETIME: SignedDuration = SignedDuration::from_mins(1);
pub const MAX_TOKEN_LIFETIME: SignedDuration = SignedDuration::from_hours(366 * 24);

/// Parses an ISO 8601 duration (`P30D`, `PT12H`, `P1Y`) as a token's lifetime from `now`
/// (months and years count in UTC from `now`). Between one minute and 366 days.
pub fn token_lifetime(raw: &str, now: Timestamp) -> Result<SignedDuration, DomainError> {
    let field = "expires_in";
    let span = raw.trim().parse::<Span>().map_err(|e| {
        DomainError::invalid(
            field,
            format!("expected an ISO 8601 duration such as P30D or PT12H ({e})"),
        )
    })?;
    if !span.is_positive() {
        return Err(DomainError::invalid(field, "must be longer than zero"));
    }
    let d = span
        .to_duration(&now.to_zoned_datetime(TimeZone::UTC))
        .map_err(|e| DomainError::invalid(field, format!("{e}")))?;
    if d < MIN_TOKEN_LIFETIME {
        return Err(DomainError::invalid(field, "must be at least one minute (PT1M)"));
    }
    if d > MAX_TOKEN_LIFETIME {
        return Err(DomainError::invalid(
            field,
            "must be at most 366 days (P366D); issue a new token when it runs out",
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chat_kinds_and_ids() {
        assert_eq!("slack".parse::<ChatKind>().unwrap(), ChatKind::Slack);
        assert_eq!("matrix_user".parse::<ChatKind>().unwrap(), ChatKind::Matrix);
        assert!("irc".parse::<ChatKind>().is_err());
        let s = ChatIdentity::parse(ChatKind::Slack, " u2cerlkja ").unwrap();
        assert_eq!(s.id(), "U2CERLKJA");
        assert_eq!(s.to_string(), "slack:U2CERLKJA");
        for bad in ["", "U", "C123", "U12 3", "U12-3", &format!("U{}", "1".repeat(64))] {
            assert!(ChatIdentity::parse(ChatKind::Slack, bad).is_err(), "{bad}");
        }
        assert_eq!(
            ChatIdentity::parse(ChatKind::Matrix, "@alice:example.org")
                .unwrap()
                .id(),
            "@alice:example.org"
        );
        for bad in [
            "alice",
            "@alice",
            "@:x",
            "@a:",
            "@a b:x",
            "@a:x\u{0}",
            &format!("@{}:x", "a".repeat(255)),
        ] {
            assert!(ChatIdentity::parse(ChatKind::Matrix, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn codes_read_back_as_typed() {
        let c = LinkCode::from_random([0xff, 0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(c.canonical().len(), LINK_CODE_CHARS);
        let shown = c.display();
        assert_eq!(shown.len(), LINK_CODE_CHARS + 2);
        assert_eq!(LinkCode::parse(&shown), Some(c.clone()));
        assert_eq!(LinkCode::parse(&shown.to_lowercase()), Some(c.clone()));
        assert_eq!(LinkCode::parse(&shown.replace('-', " ")), Some(c.clone()));
        assert_eq!(LinkCode::parse("oooo-iiii-llll").unwrap().canonical(), "000011111111");
        for bad in [
            "",
            "ABC",
            "ABCD-EFGH-JKMNP",
            "ABCD-EFGH-JKU0",
            "ABCD-EFGH-JK!0",
            "ÄBCD-EFGH-JKM0",
        ] {
            assert_eq!(LinkCode::parse(bad), None, "{bad}");
        }
        assert_eq!(format!("{c:?}"), "LinkCode(…)");
    }

    #[test]
    fn token_lifetimes() {
        let now: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        assert_eq!(token_lifetime("P30D", now).unwrap(), SignedDuration::from_hours(720));
        assert_eq!(token_lifetime("PT1H", now).unwrap(), SignedDuration::from_hours(1));
        assert_eq!(
            token_lifetime("P1Y", now).unwrap(),
            SignedDuration::from_hours(365 * 24)
        );
        for bad in [
            "", "30", "P", "PT0S", "-P1D", "PT30S", "P367D", "P2Y", "P99999D", "banana",
        ] {
            assert!(token_lifetime(bad, now).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn codes_never_panic(raw in any::<String>()) {
            if let Some(c) = LinkCode::parse(&raw) {
                prop_assert_eq!(c.canonical().len(), LINK_CODE_CHARS);
            }
        }

        #[test]
        fn every_random_code_parses_back(bytes in any::<[u8; 8]>()) {
            let c = LinkCode::from_random(bytes);
            prop_assert_eq!(LinkCode::parse(&c.display()), Some(c));
        }
    }
}
