//! Mail addresses and the company's domains: which recipients count as inside.

use std::fmt;
use std::str::FromStr;

use crate::MailError;

/// A syntactically valid mail address (`local@domain`), parsed once at the boundary.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(lettre::Address);

impl Address {
    /// Parses `local@domain`. Surrounding white space is ignored; display names are not
    /// accepted here (use the bare address).
    pub fn parse(raw: &str) -> Result<Self, MailError> {
        let trimmed = raw.trim();
        lettre::Address::from_str(trimmed)
            .map(Self)
            .map_err(|e| MailError::InvalidAddress {
                address: trimmed.to_owned(),
                reason: e.to_string(),
            })
    }

    /// The whole address as written.
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    /// The domain part, as written.
    pub fn domain(&self) -> &str {
        self.0.domain()
    }

    pub(crate) fn as_lettre(&self) -> &lettre::Address {
        &self.0
    }

    /// The same address compared without regard to case (for de-duplication).
    pub(crate) fn folded(&self) -> String {
        self.as_str().to_lowercase()
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Address {
    type Err = MailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The mail domains that count as inside the company (`CORDON_COMPANY_DOMAINS`).
///
/// Matching is case-insensitive and a subdomain of a company domain is inside too
/// (`eu.corp.example` is inside when `corp.example` is listed). An empty set means every
/// address is outside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyDomains(Vec<String>);

impl CompanyDomains {
    /// Parses a comma-separated list (`corp.example, Corp-Labs.example`). Leading `@` or `.`
    /// and a trailing dot are ignored; empty items are skipped. An item that is not a plain
    /// domain name (white space, `@` inside, no letters) is an error.
    pub fn parse(list: &str) -> Result<Self, MailError> {
        let mut domains = Vec::new();
        for item in list.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let domain = normalize_domain(item.trim_start_matches('@'));
            if domain.is_empty()
                || domain.contains(|c: char| c.is_whitespace() || c == '@' || c == '/')
                || domain.split('.').any(str::is_empty)
            {
                return Err(MailError::config(format!(
                    "`{item}` is not a mail domain in the company domain list"
                )));
            }
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
        Ok(Self(domains))
    }

    /// The normalized domains (lower case).
    pub fn domains(&self) -> &[String] {
        &self.0
    }

    /// True when the address's domain is a company domain or a subdomain of one.
    pub fn contains(&self, address: &Address) -> bool {
        let domain = normalize_domain(address.domain());
        self.0.iter().any(|company| {
            domain == *company
                || domain
                    .strip_suffix(company.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.'))
        })
    }
}

fn normalize_domain(raw: &str) -> String {
    raw.trim().trim_start_matches('.').trim_end_matches('.').to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    #[test]
    fn parses_and_rejects_addresses() {
        assert_eq!(addr(" ic@corp.example ").as_str(), "ic@corp.example");
        assert_eq!(addr("ic@corp.example").domain(), "corp.example");
        assert!(addr("cordon@localhost").domain() == "localhost");
        for bad in ["", "nobody", "a@", "@corp.example", "a b@corp.example", "x@y@z"] {
            let err = Address::parse(bad).unwrap_err();
            assert_eq!(err.code(), "invalid_address", "{bad}");
        }
    }

    #[test]
    fn inside_is_case_insensitive_and_covers_subdomains() {
        let company = CompanyDomains::parse(" Corp.Example, @labs.example ,").unwrap();
        assert_eq!(company.domains(), ["corp.example", "labs.example"]);
        assert!(company.contains(&addr("ic@corp.example")));
        assert!(company.contains(&addr("IC@CORP.EXAMPLE")));
        assert!(company.contains(&addr("ic@eu.Corp.example")));
        assert!(company.contains(&addr("x@labs.example")));
        // A look-alike suffix is not a subdomain.
        assert!(!company.contains(&addr("x@evilcorp.example")));
        assert!(!company.contains(&addr("x@corp.example.attacker.test")));
        assert!(!company.contains(&addr("x@partner.example")));
    }

    #[test]
    fn no_domains_means_everyone_is_outside() {
        let company = CompanyDomains::parse("").unwrap();
        assert!(company.domains().is_empty());
        assert!(!company.contains(&addr("ic@corp.example")));
    }

    #[test]
    fn rejects_garbage_domains() {
        for bad in ["corp example", "a@b.example", "corp..example", ".", "x/y"] {
            assert_eq!(
                CompanyDomains::parse(bad).unwrap_err().code(),
                "invalid_config",
                "{bad}"
            );
        }
    }
}
