//! The SMS gateway webhook. Its text is built from [`SmsText`], which can hold only a
//! [`Notice`] (codename, severity, link) or the fixed test text, so no title, description
//! or name can reach a phone.
//!
//! Wire format: `POST <gateway url>` with `{"to":"+15551234567","text":"SEV-1 Sapphire
//! Unicorn: join the secure room https://…"}`, the `X-Cordon-Timestamp` /
//! `X-Cordon-Signature` headers of [`crate::webhook`] when a signing secret is configured,
//! and `Authorization: Bearer …` when a token is. A gateway that speaks another dialect sits
//! behind a small adapter.

use std::fmt;

use jiff::Timestamp;
use reqwest::Url;
use serde_json::json;

use crate::error::ChannelError;
use crate::http::{HttpTransport, parse_target_url};
use crate::notice::Notice;
use crate::webhook::{TEST_TEXT, post_signed};

/// A phone number in E.164 form: `+`, then 8 to 15 digits, the first not 0.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts `+` and digits, ignoring spaces, hyphens, dots and parentheses between them.
    pub fn parse(raw: &str) -> Result<Self, ChannelError> {
        let invalid = || ChannelError::invalid("phone number", "use international E.164 form, e.g. +15551234567");
        let rest = raw.trim().strip_prefix('+').ok_or_else(invalid)?;
        let mut digits = String::with_capacity(16);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(invalid()),
            }
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(invalid());
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Shows only the last two digits, for logs.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail = &self.0[self.0.len() - 2..];
        write!(f, "PhoneNumber(+…{tail})")
    }
}

/// The only texts an SMS can carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsText {
    /// `SEV-1 Sapphire Unicorn: join the secure room https://…`
    Page(Notice),
    /// The fixed "send test" text.
    Test,
}

impl SmsText {
    pub fn text(&self) -> String {
        match self {
            Self::Page(notice) => notice.text(),
            Self::Test => TEST_TEXT.to_owned(),
        }
    }
}

/// A configured SMS gateway.
pub struct SmsGateway {
    http: HttpTransport,
    url: Url,
    bearer: Option<String>,
    secret: Vec<u8>,
}

impl fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsGateway")
            .field("host", &self.url.host_str())
            .field("bearer", &self.bearer.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

impl SmsGateway {
    /// A gateway at `url`. `bearer` is sent as `Authorization: Bearer …`; a non-empty
    /// `signing_secret` adds the `X-Cordon-Signature` headers.
    pub fn new(
        http: &HttpTransport,
        url: &str,
        bearer: Option<String>,
        signing_secret: impl Into<Vec<u8>>,
    ) -> Result<Self, ChannelError> {
        Ok(Self {
            http: http.clone(),
            url: parse_target_url("sms gateway url", url)?,
            bearer: bearer.filter(|t| !t.is_empty()),
            secret: signing_secret.into(),
        })
    }

    /// Hands one text to the gateway. Any 2xx is success.
    pub async fn send(&self, to: &PhoneNumber, text: &SmsText, now: Timestamp) -> Result<(), ChannelError> {
        let body =
            serde_json::to_vec(&json!({ "to": to.as_str(), "text": text.text() })).expect("a JSON value serializes");
        post_signed(&self.http, &self.url, &self.secret, self.bearer.as_deref(), body, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_e164() {
        assert_eq!(
            PhoneNumber::parse(" +1 (555) 123-4567 ").unwrap().as_str(),
            "+15551234567"
        );
        assert_eq!(PhoneNumber::parse("+4915112345678").unwrap().as_str(), "+4915112345678");
        for bad in [
            "",
            "+",
            "5551234567",
            "+0123456789",
            "+1234",
            "+1555abc4567",
            "+1234567890123456",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            format!("{:?}", PhoneNumber::parse("+15551234567").unwrap()),
            "PhoneNumber(+…67)"
        );
    }
}
