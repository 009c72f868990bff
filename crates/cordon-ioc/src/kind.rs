//! The kinds of indicator.

use std::fmt;
use std::str::FromStr;

use crate::IocError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorKind {
    Ip,
    Cidr,
    Domain,
    Url,
    Sha256,
    Md5,
    Email,
    Account,
    UserAgent,
}

impl IndicatorKind {
    pub const ALL: [Self; 9] = [
        Self::Ip,
        Self::Cidr,
        Self::Domain,
        Self::Url,
        Self::Sha256,
        Self::Md5,
        Self::Email,
        Self::Account,
        Self::UserAgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Cidr => "cidr",
            Self::Domain => "domain",
            Self::Url => "url",
            Self::Sha256 => "sha256",
            Self::Md5 => "md5",
            Self::Email => "email",
            Self::Account => "account",
            Self::UserAgent => "user_agent",
        }
    }

    /// Whether indicators of this kind go into the firewall formats.
    pub fn is_network(self) -> bool {
        matches!(self, Self::Ip | Self::Cidr)
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

cordon_core::named!(IndicatorKind, "kind");

impl FromStr for IndicatorKind {
    type Err = IocError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = cordon_core::names::key(s);
        Self::ALL
            .into_iter()
            .find(|k| cordon_core::names::key(k.as_str()) == key)
            .ok_or_else(|| {
                let names = Self::ALL.iter().map(|k| k.as_str());
                IocError::Unknown(cordon_core::names::not_one_of("kind", s, names).to_string())
            })
    }
}
