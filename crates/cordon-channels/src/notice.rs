//! What may leave over a channel that is not end-to-end protected (SMS, webhooks):
//! the codename, the severity and a link — nothing else (CONTRACT.md, security rules).
//!
//! [`Notice`] is the only incident payload that [`crate::webhook`] and [`crate::sms`]
//! accept, and it has no field that could hold a title, a description or a name. The link is
//! a [`SecureLink`], which is checked to be a plain `http(s)` URL of bounded length with no
//! credentials or spaces; callers build it from `CORDON_PUBLIC_URL` and an opaque id or the
//! codename, never from the title.

use std::fmt;

use cordon_core::codename::Codename;
use cordon_core::incident::{Severity, Status};
use reqwest::Url;

use crate::error::ChannelError;

/// Longest accepted link, in bytes (it must fit in one SMS with the rest of the text).
pub const MAX_LINK_LEN: usize = 300;

/// A link into Cordon (the secure room, or a signed acknowledgement link).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecureLink(String);

impl SecureLink {
    /// Checks a link: `http` or `https`, with a host, no user name or password, at most
    /// [`MAX_LINK_LEN`] bytes, printable ASCII only (so nothing free-form rides along).
    pub fn parse(raw: &str) -> Result<Self, ChannelError> {
        let invalid = |m: &str| ChannelError::invalid("link", m);
        if raw.len() > MAX_LINK_LEN {
            return Err(invalid("longer than 300 bytes"));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(
                "only printable ASCII without spaces is allowed (percent-encode the rest)",
            ));
        }
        let url = Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the link has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("the link must not carry credentials"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecureLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The whole of what an unprotected channel may say about an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub codename: Codename,
    pub severity: Severity,
    pub link: SecureLink,
}

impl Notice {
    pub fn new(codename: Codename, severity: Severity, link: SecureLink) -> Self {
        Self {
            codename,
            severity,
            link,
        }
    }

    /// The one-line text: `SEV-1 Sapphire Unicorn: join the secure room https://…`.
    pub fn text(&self) -> String {
        format!(
            "{} {}: join the secure room {}",
            self.severity, self.codename, self.link
        )
    }
}

/// The whole of what Cordon says about an incident to a chat room as a whole (a room is an
/// unprotected channel: anyone in it reads it): the codename, the severity, the status and a
/// link — nothing else. Everything more goes to the one caller who may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomNotice {
    pub codename: Codename,
    pub severity: Severity,
    pub status: Status,
    pub link: SecureLink,
}

impl RoomNotice {
    /// The one-line text: `Sapphire Unicorn — SEV-1, triage: https://…`.
    pub fn text(&self) -> String {
        format!(
            "{} \u{2014} {}, {}: {}",
            self.codename,
            self.severity,
            self.status.as_str(),
            self.link
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_plain_urls() {
        assert!(SecureLink::parse("https://cordon.example/r/sapphire-unicorn").is_ok());
        assert!(SecureLink::parse("http://127.0.0.1:8077/ack?t=abc.DEF_-").is_ok());
        for bad in [
            "",
            "cordon.example/r/x",
            "javascript:alert(1)",
            "ftp://cordon.example/x",
            "https://user:pw@cordon.example/",
            "https://cordon.example/ database breach",
            "https://cordon.example/\u{e9}",
            "https://cordon.example/\n",
        ] {
            assert!(SecureLink::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("https://cordon.example/{}", "a".repeat(MAX_LINK_LEN));
        assert!(SecureLink::parse(&long).is_err());
    }

    #[test]
    fn notice_text_is_codename_severity_and_link() {
        let n = Notice::new(
            Codename::from_key("sapphire-unicorn").unwrap(),
            "SEV-1".parse().unwrap(),
            SecureLink::parse("https://cordon.example/r/1").unwrap(),
        );
        assert_eq!(
            n.text(),
            "SEV-1 Sapphire Unicorn: join the secure room https://cordon.example/r/1"
        );
    }

    #[test]
    fn room_notice_text_is_codename_severity_status_and_link() {
        let n = RoomNotice {
            codename: Codename::from_key("sapphire-unicorn").unwrap(),
            severity: "SEV-2".parse().unwrap(),
            status: Status::Triage,
            link: SecureLink::parse("https://cordon.example/incidents/sapphire-unicorn").unwrap(),
        };
        assert_eq!(
            n.text(),
            "Sapphire Unicorn \u{2014} SEV-2, triage: https://cordon.example/incidents/sapphire-unicorn"
        );
    }
}
