//! Local (break-glass) accounts and each user's settings for the web UI (issue 15).
//!
//! A local account signs in with its password **and** a TOTP code: a user with a password but
//! no TOTP enrolled cannot sign in with the password alone (break-glass is for when the
//! identity provider may be the attacker's; one stolen password must not be enough). Both are
//! set by an admin (`cordon user password NAME`, `cordon user totp NAME`), so a stolen browser
//! session cannot replace them. Passwords are kept as argon2id PHC strings (argon2's default
//! parameters: 19 MiB, 2 passes, 1 lane), hashed and verified on a blocking thread. The TOTP
//! secret is sealed under the deployment's key with the user's id as associated data
//! (`secrets.rs`), shown once as an `otpauth://` URI.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use cordon_core::access::Principal;
use cordon_core::user::User;
use cordon_store::accounts::UserSettings;
use serde_json::json;
use uuid::Uuid;

use crate::audit::draft;
use crate::{Cordon, Result, ServiceError, random, totp};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (bytes), so hashing stays bounded.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The issuer authenticator apps show.
pub const TOTP_ISSUER: &str = "Cordon";
/// The languages of the web UI.
pub const LOCALES: &[&str] = &["en", "ja"];

/// A TOTP enrolment: shown once.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// `otpauth://totp/Cordon:NAME?secret=…` for the authenticator app.
    pub uri: String,
    /// The secret as base32, for typing in by hand.
    pub secret: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(..)")
    }
}

/// A PHC string of a password nobody has, verified against when there is no real hash, so an
/// unknown account takes as long to refuse as a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password_now("no such account: dummy password").unwrap_or_default());

fn hash_password_now(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::invalid("password", format!("cannot be hashed: {e}")))
}

/// Verifies `password` against the PHC string `hash` (or the dummy hash, which fails) on a
/// blocking thread.
pub(crate) async fn verify_password(password: &str, hash: Option<&str>) -> bool {
    let password = password.to_owned();
    let hash = hash.map(str::to_owned);
    let real = hash.is_some();
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok =
            PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok());
        ok && real
    })
    .await
    .unwrap_or(false)
}

fn totp_context(user: Uuid) -> Vec<u8> {
    let mut c = b"totp:".to_vec();
    c.extend_from_slice(user.as_bytes());
    c
}

impl Cordon {
    async fn admin_target(&self, p: &Principal, name: &str, action: &str, what: &str) -> Result<User> {
        if !p.is_admin {
            let e = ServiceError::Forbidden(format!("only admins may {what}"));
            return Err(self.refuse(p, action, format!("user:{name}"), e).await);
        }
        let u = self
            .store
            .user_by_name(name)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        crate::users::ensure_enabled_target(&u)?;
        Ok(u)
    }

    /// Sets a user's local password (admins). Audited as `user.password` (never the password).
    /// Answers whether the user has TOTP enrolled (without it the password alone signs nobody
    /// in).
    pub async fn set_password(&self, p: &Principal, name: &str, password: &str) -> Result<bool> {
        let u = self.admin_target(p, name, "user.password", "set passwords").await?;
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(ServiceError::invalid(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(ServiceError::invalid(
                "password",
                format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
            ));
        }
        let owned = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password_now(&owned))
            .await
            .map_err(|_| ServiceError::invalid("password", "hashing failed"))??;
        let now = self.clock.now();
        let audit = draft(now, &p.name, "user.password", format!("user:{}", u.name), json!({}));
        self.store.set_password_hash(u.id, &hash, now, audit).await?;
        let cred = self.store.local_credential(u.id).await?;
        Ok(cred.is_some_and(|c| c.totp_sealed.is_some()))
    }

    /// Enrols (or re-enrols) TOTP for a user (admins): a fresh 160-bit secret, sealed at rest;
    /// the URI is returned once. Audited as `user.totp` (never the secret).
    pub async fn enrol_totp(&self, p: &Principal, name: &str) -> Result<TotpEnrolment> {
        let u = self.admin_target(p, name, "user.totp", "enrol TOTP").await?;
        let secret = random::bytes::<{ totp::SECRET_BYTES }>();
        let sealed = self.paging.sealing_key.seal(&secret, &totp_context(u.id));
        let now = self.clock.now();
        let audit = draft(now, &p.name, "user.totp", format!("user:{}", u.name), json!({}));
        self.store.set_totp(u.id, &sealed, now, audit).await?;
        Ok(TotpEnrolment {
            uri: totp::uri(TOTP_ISSUER, &u.name, &secret),
            secret: totp::base32(&secret),
        })
    }

    pub(crate) fn open_totp_secret(&self, user: Uuid, sealed: &[u8]) -> Result<Vec<u8>> {
        self.paging.sealing_key.open(sealed, &totp_context(user)).map_err(|e| {
            tracing::error!(error = %e, %user, "a TOTP secret does not open");
            ServiceError::Internal(cordon_store::StoreError::corrupt(format!("TOTP secret: {e}")))
        })
    }

    /// The caller's settings for the web UI.
    pub async fn settings(&self, p: &Principal) -> Result<UserSettings> {
        Ok(self.store.user_settings(p.user_id).await?)
    }

    /// Changes the caller's settings: a field given replaces the stored one (an empty string
    /// clears it). `locale` is one of [`LOCALES`]; `time_zone` an IANA name.
    pub async fn update_settings(
        &self,
        p: &Principal,
        locale: Option<&str>,
        time_zone: Option<&str>,
    ) -> Result<UserSettings> {
        let mut s = self.store.user_settings(p.user_id).await?;
        if let Some(l) = locale {
            s.locale = match l.trim() {
                "" => None,
                l if LOCALES.contains(&l) => Some(l.to_owned()),
                l => {
                    return Err(ServiceError::invalid(
                        "locale",
                        format!(
                            "`{}` is not one of {}",
                            l.chars().take(20).collect::<String>(),
                            LOCALES.join(", ")
                        ),
                    ));
                }
            };
        }
        if let Some(z) = time_zone {
            s.time_zone = match z.trim() {
                "" => None,
                z => {
                    jiff::tz::TimeZone::get(z).map_err(|_| {
                        ServiceError::invalid(
                            "time_zone",
                            format!(
                                "`{}` is not a known IANA time zone (e.g. Asia/Tokyo)",
                                z.chars().take(64).collect::<String>()
                            ),
                        )
                    })?;
                    Some(z.to_owned())
                }
            };
        }
        let audit = draft(
            self.clock.now(),
            &p.name,
            "user.settings",
            format!("user:{}", p.name),
            json!({ "locale": s.locale, "time_zone": s.time_zone }),
        );
        self.store.set_user_settings(p.user_id, &s, audit).await?;
        Ok(s)
    }
}
