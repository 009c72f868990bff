//! Users and groups, and the validation of what identifies them.

use jiff::Timestamp;
use uuid::Uuid;

use crate::error::DomainError;

/// The group whose members see every security incident.
pub const SECURITY_GROUP: &str = "security";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub pgp_key: Option<String>,
    pub groups: Vec<String>,
    pub is_admin: bool,
    pub created_at: Timestamp,
    /// When an admin disabled the user: nothing authenticates as them, nothing pages them.
    pub disabled_at: Option<Timestamp>,
}

impl User {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

/// User and group names: 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn validate_name(field: &'static str, name: &str) -> Result<String, DomainError> {
    crate::text::check_line(field, name)?;
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(DomainError::invalid(
            field,
            format!("`{name}` must be 1–64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit"),
        ))
    }
}

/// A deliberately plain e-mail check: one `@`, a non-empty local part, a dotted domain.
pub fn validate_email(email: &str) -> Result<String, DomainError> {
    let e = email.trim();
    crate::text::check_line("email", e)?;
    let valid = e.len() <= 254
        && !e.chars().any(char::is_whitespace)
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(e.to_owned())
    } else {
        Err(DomainError::invalid(
            "email",
            format!("`{email}` is not an e-mail address"),
        ))
    }
}

/// An armored OpenPGP public key block, checked for shape only (the mail channel parses it).
pub fn validate_pgp_key(key: &str) -> Result<String, DomainError> {
    let k = key.trim();
    if k.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") && k.ends_with("-----END PGP PUBLIC KEY BLOCK-----") {
        Ok(k.to_owned())
    } else {
        Err(DomainError::invalid(
            "pgp_key",
            "expected an ASCII-armored OpenPGP public key block",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_emails() {
        assert!(validate_name("name", "alice").is_ok());
        assert!(validate_name("name", "a.b-c_9").is_ok());
        assert!(validate_name("name", "Alice").is_err());
        assert!(validate_name("name", "-x").is_err());
        assert!(validate_name("name", "").is_err());
        assert!(validate_email("alice@example.com").is_ok());
        assert!(validate_email("alice@example").is_err());
        assert!(validate_email("a b@example.com").is_err());
        assert!(validate_email("@example.com").is_err());
    }
}
