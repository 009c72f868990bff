//! What may leave over a channel that is not end-to-end protected (SMS, push, webhook, plain
//! mail): an incident's codename, its severity and one link, and nothing else.
//!
//! [`Notice`] has no field that can hold free text, so an incident title cannot reach those
//! channels through it.

use std::fmt;

use cordon_core::codename::Codename;
use cordon_core::incident::Severity;
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::MailError;

/// Longest link a notice carries (SMS gateways split long texts).
const MAX_LINK_LEN: usize = 512;

/// An absolute `http` or `https` URL without credentials, white space or a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link(url::Url);

impl Link {
    /// Parses and checks a link (typically `CORDON_PUBLIC_URL` + a path to the incident or a
    /// signed acknowledgement link).
    pub fn parse(raw: &str) -> Result<Self, MailError> {
        let invalid = |reason: &str| MailError::InvalidLink {
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(raw.trim()).map_err(|e| MailError::InvalidLink {
            reason: format!("`{}` is not an absolute URL: {e}", raw.trim()),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("only http and https links are allowed"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the link has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("the link must not carry credentials"));
        }
        if url.fragment().is_some() {
            return Err(invalid("the link must not carry a fragment"));
        }
        if url.as_str().len() > MAX_LINK_LEN {
            return Err(invalid("the link is longer than 512 characters"));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The whole of what an unprotected channel may say about an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    codename: Codename,
    severity: Severity,
    link: Link,
}

impl Notice {
    pub fn new(codename: Codename, severity: Severity, link: Link) -> Self {
        Self {
            codename,
            severity,
            link,
        }
    }

    pub fn codename(&self) -> &Codename {
        &self.codename
    }

    pub fn severity(&self) -> Severity {
        self.severity
    }

    pub fn link(&self) -> &Link {
        &self.link
    }

    /// One line for SMS and push: `Sapphire Unicorn SEV-1 · join the secure room: <link>`.
    pub fn render_short(&self) -> String {
        format!(
            "{} {} · join the secure room: {}",
            self.codename, self.severity, self.link
        )
    }

    /// The plain-text body of a notice mail (CRLF line ends, as mail wants them).
    pub fn render_mail_body(&self) -> String {
        format!(
            "Incident {} ({}).\r\n\r\nJoin the secure room: {}\r\n",
            self.codename, self.severity, self.link
        )
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_short())
    }
}

/// Webhook bodies: `{"codename":"Sapphire Unicorn","codename_key":"sapphire-unicorn",
/// "severity":"SEV-1","link":"…"}`.
impl Serialize for Notice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Notice", 4)?;
        s.serialize_field("codename", &self.codename.to_string())?;
        s.serialize_field("codename_key", &self.codename.key())?;
        s.serialize_field("severity", &self.severity.to_string())?;
        s.serialize_field("link", self.link.as_str())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice::new(
            Codename::from_key("sapphire-unicorn").unwrap(),
            "SEV-1".parse().unwrap(),
            Link::parse("https://cordon.corp.example/incidents/sapphire-unicorn").unwrap(),
        )
    }

    #[test]
    fn renders_codename_severity_and_link_only() {
        let n = notice();
        assert_eq!(
            n.render_short(),
            "Sapphire Unicorn SEV-1 · join the secure room: \
             https://cordon.corp.example/incidents/sapphire-unicorn"
        );
        assert_eq!(
            n.render_mail_body(),
            "Incident Sapphire Unicorn (SEV-1).\r\n\r\nJoin the secure room: \
             https://cordon.corp.example/incidents/sapphire-unicorn\r\n"
        );
        assert_eq!(n.to_string(), n.render_short());
    }

    #[test]
    fn links_are_checked() {
        for bad in [
            "",
            "cordon.corp.example/incidents/x",
            "javascript:alert(1)",
            "ftp://cordon.corp.example/x",
            "https://user:pw@cordon.corp.example/x",
            "https://cordon.corp.example/x#Database%20breach",
            "mailto:ic@corp.example",
        ] {
            assert_eq!(Link::parse(bad).unwrap_err().code(), "invalid_link", "{bad}");
        }
        let long = format!("https://cordon.corp.example/{}", "a".repeat(600));
        assert!(Link::parse(&long).is_err());
        // Signed one-time acknowledgement links carry a query.
        assert!(Link::parse("http://127.0.0.1:8077/ack?page=1&sig=abc").is_ok());
    }
}
