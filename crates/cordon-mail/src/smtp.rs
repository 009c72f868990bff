//! The SMTP side: the `CORDON_SMTP_URL` parser, the async (tokio + rustls) transport and the
//! [`Mailer`] that applies the communication rules before anything goes on the wire.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::compose::{Composed, compose};
use crate::policy::BodyKind;
use crate::{Address, MailError, MailPolicy, Message, Notice, Protection, Recipient};

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// `smtps://`: TLS from the first byte (implicit TLS, port 465 by default).
    Implicit,
    /// `smtp://…?tls=required`: STARTTLS, and fail if the server does not offer it.
    StartTlsRequired,
    /// `smtp://` (default without credentials): STARTTLS when the server offers it, else plain.
    StartTlsOpportunistic,
    /// `smtp://…?tls=none`: never TLS (a relay on loopback).
    None,
}

/// A parsed `CORDON_SMTP_URL`: `smtp://[user[:password]@]host[:port][?tls=required|none]` or
/// `smtps://[user[:password]@]host[:port]`. The password never shows in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    host: String,
    port: u16,
    tls: TlsMode,
    credentials: Option<(String, String)>,
}

impl SmtpUrl {
    /// Parses the URL. With credentials over `smtp://` STARTTLS is required, except to a
    /// loopback host, so a password never crosses the network in clear text.
    pub fn parse(raw: &str) -> Result<Self, MailError> {
        let url =
            url::Url::parse(raw.trim()).map_err(|e| MailError::config(format!("CORDON_SMTP_URL is not a URL: {e}")))?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(MailError::config("CORDON_SMTP_URL has no host")),
        };
        if !matches!(url.path(), "" | "/") {
            return Err(MailError::config("CORDON_SMTP_URL must not have a path"));
        }
        let credentials = if url.username().is_empty() {
            None
        } else {
            let decode = |s: &str| {
                percent_decode(s)
                    .ok_or_else(|| MailError::config("CORDON_SMTP_URL has a badly percent-encoded user or password"))
            };
            Some((decode(url.username())?, decode(url.password().unwrap_or(""))?))
        };
        let mut tls_param = None;
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "required" | "none" | "opportunistic") => tls_param = Some(value.into_owned()),
                _ => {
                    return Err(MailError::config(format!(
                        "CORDON_SMTP_URL: unknown query parameter `{key}={value}` \
                         (known: tls=required|opportunistic|none)"
                    )));
                }
            }
        }
        let loopback = is_loopback(&host);
        let (tls, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("smtps", None) => (TlsMode::Implicit, 465),
            ("smtps", Some(_)) => {
                return Err(MailError::config(
                    "CORDON_SMTP_URL: smtps:// is always TLS; drop the tls parameter",
                ));
            }
            ("smtp", Some("required")) => (TlsMode::StartTlsRequired, 25),
            ("smtp", Some("none")) => (TlsMode::None, 25),
            ("smtp", Some(_)) => (TlsMode::StartTlsOpportunistic, 25),
            ("smtp", None) if credentials.is_some() && !loopback => (TlsMode::StartTlsRequired, 25),
            ("smtp", None) => (TlsMode::StartTlsOpportunistic, 25),
            (other, _) => {
                return Err(MailError::config(format!(
                    "CORDON_SMTP_URL: scheme `{other}` is not smtp or smtps"
                )));
            }
        };
        if credentials.is_some() && tls == TlsMode::None && !loopback {
            return Err(MailError::config(
                "CORDON_SMTP_URL: refusing to send a password without TLS to a remote server",
            ));
        }
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            tls,
            credentials,
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn tls(&self) -> TlsMode {
        self.tls
    }

    pub fn user(&self) -> Option<&str> {
        self.credentials.as_ref().map(|(u, _)| u.as_str())
    }
}

impl FromStr for SmtpUrl {
    type Err = MailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls == TlsMode::Implicit { "smtps" } else { "smtp" };
        write!(f, "{scheme}://")?;
        if let Some(user) = self.user() {
            write!(f, "{user}:***@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{}:{}", self.host, self.port)?;
        }
        match self.tls {
            TlsMode::StartTlsRequired => f.write_str("?tls=required"),
            TlsMode::None => f.write_str("?tls=none"),
            TlsMode::Implicit | TlsMode::StartTlsOpportunistic => Ok(()),
        }
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpUrl({self})")
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Everything the mailer needs, from configuration.
#[derive(Debug, Clone)]
pub struct MailerConfig {
    pub smtp: SmtpUrl,
    /// The sender (`CORDON_MAIL_FROM`), bare or as `Name <address>`.
    pub from: Mailbox,
    pub policy: MailPolicy,
    /// Limit for connecting and for each SMTP command. Default 10 s.
    pub timeout: Duration,
    /// Extra trust anchors (PEM) for a relay with a private CA, on top of the system's.
    pub extra_root_certificates: Vec<Vec<u8>>,
}

impl MailerConfig {
    /// Parses the SMTP URL and the sender (`cordon@localhost` or `Cordon <cordon@corp.example>`).
    pub fn new(smtp_url: &str, from: &str, policy: MailPolicy) -> Result<Self, MailError> {
        let from = Mailbox::from_str(from.trim()).map_err(|e| MailError::InvalidAddress {
            address: from.trim().to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            smtp: SmtpUrl::parse(smtp_url)?,
            from,
            policy,
            timeout: Duration::from_secs(10),
            extra_root_certificates: Vec::new(),
        })
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Trusts this PEM certificate (a private CA, or the relay's self-signed certificate).
    pub fn with_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_root_certificates.push(pem.into());
        self
    }
}

/// What the SMTP server accepted: one message per recipient (the crate docs say why),
/// in recipient order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub protection: Protection,
    pub messages: Vec<SentMessage>,
}

/// One recipient's own message, accepted by the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The only address in its `To:` header and its envelope.
    pub to: Address,
    /// The `Message-ID` header, with angle brackets.
    pub message_id: String,
    /// The server's final reply, e.g. `250 OK queued as 1234`.
    pub smtp_reply: String,
}

impl Delivery {
    /// Every recipient, each once.
    pub fn accepted(&self) -> Vec<&Address> {
        self.messages.iter().map(|m| &m.to).collect()
    }
}

/// Sends incident mail under the communication rules. Cheap to clone (the connection pool is
/// shared).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    policy: MailPolicy,
    smtp: SmtpUrl,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("smtp", &self.smtp)
            .field("from", &self.from.to_string())
            .field("policy", &self.policy)
            .finish()
    }
}

impl Mailer {
    /// Builds the transport. Nothing connects until the first send.
    pub fn new(config: MailerConfig) -> Result<Self, MailError> {
        let smtp = config.smtp;
        let tls = match smtp.tls {
            TlsMode::None => Tls::None,
            mode => {
                let mut params = TlsParameters::builder(smtp.host.clone());
                for pem in &config.extra_root_certificates {
                    let cert = Certificate::from_pem(pem)
                        .map_err(|e| MailError::config(format!("an extra root certificate is not PEM: {e}")))?;
                    params = params.add_root_certificate(cert);
                }
                let params = params
                    .build_rustls()
                    .map_err(|e| MailError::config(format!("cannot set up TLS for the SMTP server: {e}")))?;
                match mode {
                    TlsMode::Implicit => Tls::Wrapper(params),
                    TlsMode::StartTlsRequired => Tls::Required(params),
                    _ => Tls::Opportunistic(params),
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            .port(smtp.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some((user, password)) = &smtp.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from: config.from,
            policy: config.policy,
            smtp,
        })
    }

    pub fn policy(&self) -> &MailPolicy {
        &self.policy
    }

    /// The sender address.
    pub fn from_address(&self) -> Address {
        Address::parse(self.from.email.as_ref()).expect("a parsed mailbox is a valid address")
    }

    /// Sends a page or notice mail: codename, severity and link. Encrypted when a recipient is
    /// outside the company; refused when such a mail has a recipient without a usable key.
    pub async fn send_notice(
        &self,
        recipients: &[Recipient],
        notice: &Notice,
        now: Timestamp,
    ) -> Result<Delivery, MailError> {
        self.send(recipients, BodyKind::Notice, &notice.render_mail_body(), now)
            .await
    }

    /// Sends a full body: encrypted to every recipient, or plain when every recipient is
    /// inside the company (and the policy allows it); refused otherwise.
    pub async fn send_message(&self, message: &Message, now: Timestamp) -> Result<Delivery, MailError> {
        self.send(&message.recipients, BodyKind::Full, &message.body_text, now)
            .await
    }

    /// Decides once how the mail leaves (plain, encrypted, or refused for everyone), then
    /// sends each recipient their own message. When the server refuses some recipients'
    /// messages and accepts others', the error says who got it ([`MailError::PartlySent`]).
    async fn send(
        &self,
        recipients: &[Recipient],
        kind: BodyKind,
        text: &str,
        now: Timestamp,
    ) -> Result<Delivery, MailError> {
        let plan = self.policy.plan(recipients, kind, now)?;
        let mut messages = Vec::with_capacity(plan.recipients.len());
        let mut unsent = Vec::new();
        let mut first_error = None;
        for (to, key) in &plan.recipients {
            let sent = match compose(&self.from, &self.policy, plan.protection, to, key.as_ref(), text, now) {
                Ok(composed) => self.transmit(composed).await,
                Err(e) => Err(e),
            };
            match sent {
                Ok((message_id, smtp_reply)) => messages.push(SentMessage {
                    to: (*to).clone(),
                    message_id,
                    smtp_reply,
                }),
                Err(e) => {
                    unsent.push((*to).clone());
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => {
                tracing::debug!(
                    protection = plan.protection.as_str(),
                    messages = messages.len(),
                    "mail accepted by {}",
                    self.smtp
                );
                Ok(Delivery {
                    protection: plan.protection,
                    messages,
                })
            }
            Some(e) if messages.is_empty() => Err(e),
            Some(e) => Err(MailError::PartlySent {
                sent: messages.into_iter().map(|m| m.to).collect(),
                unsent,
                first_error: Box::new(e),
            }),
        }
    }

    /// Hands one message to the server: its `Message-ID` and the server's reply.
    async fn transmit(&self, composed: Composed) -> Result<(String, String), MailError> {
        let response = self
            .transport
            .send(composed.message)
            .await
            .map_err(|e| self.explain(MailError::from_smtp(&e)))?;
        let reply = format!(
            "{} {}",
            response.code(),
            response.message().collect::<Vec<_>>().join(" ")
        );
        Ok((composed.message_id, reply))
    }
}

impl Mailer {
    /// Adds what an operator can do about a TLS failure under opportunistic STARTTLS (a relay
    /// that offers STARTTLS with a certificate nobody trusts, e.g. a default snakeoil one).
    fn explain(&self, err: MailError) -> MailError {
        match err {
            MailError::SmtpTls { reason } if self.smtp.tls == TlsMode::StartTlsOpportunistic => MailError::SmtpTls {
                reason: format!(
                    "{reason} (the server offered STARTTLS; trust its certificate's CA, \
                         or add ?tls=none to CORDON_SMTP_URL for a relay on loopback)"
                ),
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_smtp_urls() {
        let u = SmtpUrl::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (u.host(), u.port(), u.tls()),
            ("127.0.0.1", 2525, TlsMode::StartTlsOpportunistic)
        );
        assert_eq!(u.user(), None);

        let u = SmtpUrl::parse("smtps://mail.corp.example").unwrap();
        assert_eq!((u.port(), u.tls()), (465, TlsMode::Implicit));

        let u = SmtpUrl::parse("smtp://relay.corp.example").unwrap();
        assert_eq!(u.port(), 25);

        let u = SmtpUrl::parse("smtp://relay.corp.example:587?tls=required").unwrap();
        assert_eq!(u.tls(), TlsMode::StartTlsRequired);

        let u = SmtpUrl::parse("smtp://[::1]:2525?tls=none").unwrap();
        assert_eq!((u.host(), u.tls()), ("::1", TlsMode::None));
        assert_eq!(u.to_string(), "smtp://[::1]:2525?tls=none");
    }

    #[test]
    fn credentials_are_decoded_hidden_and_never_sent_in_clear() {
        let u = SmtpUrl::parse("smtps://cordon%40corp.example:p%40ss%3Aw0rd@mail.corp.example").unwrap();
        assert_eq!(u.user(), Some("cordon@corp.example"));
        assert_eq!(u.credentials.as_ref().map(|(_, p)| p.as_str()), Some("p@ss:w0rd"));
        let shown = format!("{u} {u:?}");
        assert!(!shown.contains("w0rd"), "{shown}");

        // A password to a remote relay over smtp:// requires STARTTLS…
        let u = SmtpUrl::parse("smtp://u:p@relay.corp.example:587").unwrap();
        assert_eq!(u.tls(), TlsMode::StartTlsRequired);
        // …but not to loopback,
        let u = SmtpUrl::parse("smtp://u:p@127.0.0.1:2525").unwrap();
        assert_eq!(u.tls(), TlsMode::StartTlsOpportunistic);
        // and plain text with a password to a remote host is refused.
        let err = SmtpUrl::parse("smtp://u:p@relay.corp.example?tls=none").unwrap_err();
        assert_eq!(err.code(), "invalid_config");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "",
            "relay.corp.example:25",
            "http://relay.corp.example",
            "smtp://",
            "smtp://relay.corp.example/path",
            "smtp://relay.corp.example?tls=maybe",
            "smtps://relay.corp.example?tls=none",
            "smtp://u:%zz@relay.corp.example",
        ] {
            assert_eq!(SmtpUrl::parse(bad).unwrap_err().code(), "invalid_config", "{bad}");
        }
    }

    #[test]
    fn config_parses_the_sender() {
        let policy = MailPolicy::default();
        let c = MailerConfig::new("smtp://127.0.0.1:1", "cordon@localhost", policy.clone()).unwrap();
        assert_eq!(c.from.email.to_string(), "cordon@localhost");
        let c = MailerConfig::new("smtp://127.0.0.1:1", "Cordon <cordon@corp.example>", policy.clone()).unwrap();
        assert_eq!(c.from.name.as_deref(), Some("Cordon"));
        let err = MailerConfig::new("smtp://127.0.0.1:1", "not an address", policy).unwrap_err();
        assert_eq!(err.code(), "invalid_address");
    }
}
