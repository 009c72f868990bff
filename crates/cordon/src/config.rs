//! Layered configuration: built-in defaults → TOML file → `CORDON_*` environment → flags.
//!
//! Each layer overrides the one before. Loading is a pure function of its inputs (the file
//! path, the environment as a list of pairs, the flags), so precedence is tested without
//! touching the process environment.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};

/// The default config file, read when present and no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "cordon.toml";

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the embedded database, evidence and indexes live.
    pub data_dir: PathBuf,
    /// Address to serve HTTP on; port 0 picks a free port.
    pub listen: String,
    /// `sqlite://…` or `postgres://…`; unset: a SQLite file in the data dir.
    pub database_url: Option<String>,
    /// The URL people open; default `http://<listen>`.
    pub public_url: Option<String>,
    /// The first admin's token, used only when the database is created.
    pub admin_token: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// Mail domains inside the company.
    #[serde(deserialize_with = "list_or_csv", default)]
    pub company_domains: Vec<String>,
    pub slack_signing_secret: Option<String>,
    /// The label every incident mail's subject carries.
    pub subject_label: String,
    /// Where evidence bytes live: `s3://bucket[/prefix]` (an S3-compatible bucket with Object
    /// Lock, for several nodes; credentials and endpoint from `AWS_*`), or unset: files in the
    /// data dir.
    pub evidence_url: Option<String>,
    /// How often every evidence item is re-read and its digests checked (`24h`, `PT6H`);
    /// zero turns the scheduled verification off.
    pub evidence_verify_interval: jiff::SignedDuration,
    /// Where pages go as SMS: a gateway taking `{"to","text"}` JSON.
    pub sms_gateway_url: Option<String>,
    pub sms_gateway_token: Option<String>,
    /// Posts replies to Slack message events (`chat.postMessage`-compatible URL and bot token).
    pub slack_api_url: Option<String>,
    pub slack_bot_token: Option<String>,
    /// The Matrix bot: homeserver URL, user and password (or access token).
    pub matrix_homeserver: Option<String>,
    pub matrix_user: Option<String>,
    pub matrix_password: Option<String>,
    pub matrix_access_token: Option<String>,
    /// Networks that webhooks, the SMS gateway, Slack and Matrix calls may reach although they
    /// are loopback, private, link-local or otherwise not public (`["10.20.0.0/16"]`; in
    /// `CORDON_OUTBOUND_ALLOW`, comma-separated). Everything not public is refused otherwise.
    #[serde(deserialize_with = "list_or_csv", default)]
    pub outbound_allow: Vec<String>,
    /// The key that seals secrets at rest (webhook signing secrets): 64 hex characters. Unset:
    /// `secret.key` in the data dir, created on first start. Nodes sharing one PostgreSQL
    /// database need the same key.
    pub secret_key: Option<String>,
    /// The communication rules of this deployment (`[communications]`).
    #[serde(default)]
    pub communications: CommunicationsConfig,
    /// A request head must be complete this long after its first byte (`10s`).
    pub http_header_timeout: jiff::SignedDuration,
    /// A connection idle this long, before its first request or between two, is closed (`60s`).
    pub http_idle_timeout: jiff::SignedDuration,
    /// A request body that sends nothing this long fails with 408 (`60s`); uploads of any
    /// length work while bytes keep coming.
    pub http_body_idle_timeout: jiff::SignedDuration,
    /// The longest a request may take, uploads and evidence verification excepted (`60s`).
    pub http_request_timeout: jiff::SignedDuration,
    /// How long shutdown waits for requests in flight before closing them (`10s`).
    pub http_shutdown_grace: jiff::SignedDuration,
    /// Open connections at most; unset: derived from the open-file limit (three quarters of
    /// it, at most 20,000). At the cap, the oldest connection not inside a request makes room.
    #[serde(deserialize_with = "opt_count", default)]
    pub http_max_connections: Option<usize>,
    /// Refused Slack requests (bad signature, stale, replayed) are audited as one entry per
    /// this interval (`60s`), and counted per source address in it.
    pub slack_refusal_interval: jiff::SignedDuration,
    /// Refused Slack requests a source address gets per interval before it is answered 429.
    #[serde(deserialize_with = "count", default = "default_slack_refusals")]
    pub slack_refusals_per_source: usize,
    /// Memory one timeline ingest may take, whatever the source's size (`256MiB`; at least
    /// `160MiB`).
    #[serde(deserialize_with = "byte_size")]
    pub timeline_ingest_memory: u64,
    /// Timeline ingests that run at once; more wait their turn.
    #[serde(deserialize_with = "number")]
    pub timeline_ingests_at_once: u64,
    /// Most a gzip upload may inflate per compressed byte (past its first 16 MiB); 0: no limit.
    #[serde(deserialize_with = "number")]
    pub timeline_gzip_max_ratio: u64,
    /// Disk one incident's timeline may take (index and events, `20GiB`); 0: no quota.
    #[serde(deserialize_with = "byte_size")]
    pub timeline_disk_quota: u64,
    /// OIDC sign-in: the identity provider's issuer URL (discovery is read from
    /// `<issuer>/.well-known/openid-configuration`). Unset: local accounts only.
    pub oidc_issuer: Option<String>,
    /// The client id registered with the provider (redirect URI: `<public_url>/auth/oidc/callback`).
    pub oidc_client_id: Option<String>,
    /// The client's secret; unset for a public client (PKCE only).
    pub oidc_client_secret: Option<String>,
    /// The ID token claim that lists a user's groups; they follow it on every sign-in.
    pub oidc_groups_claim: String,
    /// `false` turns OIDC sign-in off whatever the admin switch (`cordon auth oidc`) says.
    #[serde(deserialize_with = "flag")]
    pub oidc_enabled: bool,
    /// A browser session without a request for this long ends (`30m`).
    pub session_idle: jiff::SignedDuration,
    /// A browser session ends this long after sign-in, whatever its activity (`12h`).
    pub session_max: jiff::SignedDuration,
}

fn default_slack_refusals() -> usize {
    20
}

/// `[communications]`: the linter's deployment settings (docs/communications-rules.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommunicationsConfig {
    /// Phrases banned on top of the guide's "we take security seriously".
    pub banned_phrases: Vec<String>,
    /// Warn when disclosure comes more than this many days after discovery.
    pub disclosure_warn_days: u32,
    /// Vendors and operators that must not be named as a cause unless public.
    pub third_parties: Vec<String>,
    /// Rules switched off here, each with the reason.
    pub disabled_rules: Vec<DisabledRule>,
}

impl Default for CommunicationsConfig {
    fn default() -> Self {
        Self {
            banned_phrases: Vec::new(),
            disclosure_warn_days: 3,
            third_parties: Vec::new(),
            disabled_rules: Vec::new(),
        }
    }
}

/// A communication rule disabled in this deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisabledRule {
    pub rule: String,
    pub reason: String,
}

impl CommunicationsConfig {
    /// The linter policy; an unknown rule or a rule disabled without a reason is an error.
    pub fn policy(&self) -> anyhow::Result<cordon_core::comms::lint::LintPolicy> {
        let disabled: Vec<(String, String)> = self
            .disabled_rules
            .iter()
            .map(|d| (d.rule.clone(), d.reason.clone()))
            .collect();
        cordon_core::comms::lint::LintPolicy::new(
            &self.banned_phrases,
            self.disclosure_warn_days,
            &disabled,
            &self.third_parties,
        )
        .context("[communications]")
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./cordon-data"),
            listen: "127.0.0.1:8077".into(),
            database_url: None,
            public_url: None,
            admin_token: None,
            smtp_url: None,
            mail_from: "cordon@localhost".into(),
            company_domains: Vec::new(),
            slack_signing_secret: None,
            subject_label: "Attorney Work Project".into(),
            evidence_url: None,
            evidence_verify_interval: jiff::SignedDuration::from_hours(24),
            sms_gateway_url: None,
            sms_gateway_token: None,
            slack_api_url: None,
            slack_bot_token: None,
            matrix_homeserver: None,
            matrix_user: None,
            matrix_password: None,
            matrix_access_token: None,
            outbound_allow: Vec::new(),
            secret_key: None,
            communications: CommunicationsConfig::default(),
            http_header_timeout: jiff::SignedDuration::from_secs(10),
            http_idle_timeout: jiff::SignedDuration::from_secs(60),
            http_body_idle_timeout: jiff::SignedDuration::from_secs(60),
            http_request_timeout: jiff::SignedDuration::from_secs(60),
            http_shutdown_grace: jiff::SignedDuration::from_secs(10),
            http_max_connections: None,
            slack_refusal_interval: jiff::SignedDuration::from_secs(60),
            slack_refusals_per_source: default_slack_refusals(),
            timeline_ingest_memory: cordon_timeline::DEFAULT_INGEST_MEMORY,
            timeline_ingests_at_once: 2,
            timeline_gzip_max_ratio: cordon_timeline::DEFAULT_MAX_GZIP_RATIO,
            timeline_disk_quota: cordon_timeline::DEFAULT_DISK_QUOTA,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_groups_claim: "groups".into(),
            oidc_enabled: true,
            session_idle: jiff::SignedDuration::from_mins(30),
            session_max: jiff::SignedDuration::from_hours(12),
        }
    }
}

// Secrets never reach logs: Debug redacts them.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("database_url", &redact(&self.database_url))
            .field("public_url", &self.public_url)
            .field("admin_token", &redact(&self.admin_token))
            .field("smtp_url", &redact(&self.smtp_url))
            .field("mail_from", &self.mail_from)
            .field("company_domains", &self.company_domains)
            .field("slack_signing_secret", &redact(&self.slack_signing_secret))
            .field("subject_label", &self.subject_label)
            .field("evidence_url", &self.evidence_url)
            .field("evidence_verify_interval", &self.evidence_verify_interval)
            .field("sms_gateway_url", &self.sms_gateway_url)
            .field("sms_gateway_token", &redact(&self.sms_gateway_token))
            .field("slack_api_url", &self.slack_api_url)
            .field("slack_bot_token", &redact(&self.slack_bot_token))
            .field("matrix_homeserver", &self.matrix_homeserver)
            .field("matrix_user", &self.matrix_user)
            .field("matrix_password", &redact(&self.matrix_password))
            .field("matrix_access_token", &redact(&self.matrix_access_token))
            .field("outbound_allow", &self.outbound_allow)
            .field("secret_key", &redact(&self.secret_key))
            .field("communications", &self.communications)
            .field("http_header_timeout", &self.http_header_timeout)
            .field("http_idle_timeout", &self.http_idle_timeout)
            .field("http_body_idle_timeout", &self.http_body_idle_timeout)
            .field("http_request_timeout", &self.http_request_timeout)
            .field("http_shutdown_grace", &self.http_shutdown_grace)
            .field("http_max_connections", &self.http_max_connections)
            .field("slack_refusal_interval", &self.slack_refusal_interval)
            .field("slack_refusals_per_source", &self.slack_refusals_per_source)
            .field("timeline_ingest_memory", &self.timeline_ingest_memory)
            .field("timeline_ingests_at_once", &self.timeline_ingests_at_once)
            .field("timeline_gzip_max_ratio", &self.timeline_gzip_max_ratio)
            .field("timeline_disk_quota", &self.timeline_disk_quota)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_client_id", &self.oidc_client_id)
            .field("oidc_client_secret", &redact(&self.oidc_client_secret))
            .field("oidc_groups_claim", &self.oidc_groups_claim)
            .field("oidc_enabled", &self.oidc_enabled)
            .field("session_idle", &self.session_idle)
            .field("session_max", &self.session_max)
            .finish()
    }
}

fn list_or_csv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCsv {
        List(Vec<String>),
        Csv(String),
    }
    let items = match ListOrCsv::deserialize(d)? {
        ListOrCsv::List(l) => l,
        ListOrCsv::Csv(s) => s.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().trim_start_matches('@').to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect())
}

/// A whole number as the TOML file gives it (a number) or the environment (text).
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Num(u64),
    Text(String),
}

impl NumOrText {
    fn number<E: serde::de::Error>(self) -> Result<u64, E> {
        match self {
            Self::Num(n) => Ok(n),
            Self::Text(t) => t
                .trim()
                .parse()
                .map_err(|_| E::custom(format!("`{t}` is not a whole number"))),
        }
    }
}

/// A whole number given as a number or as a string (as environment variables are).
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    NumOrText::deserialize(d)?.number()
}

/// A count, when given (see [`number`]).
fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    Option::<NumOrText>::deserialize(d)?
        .map(|n| {
            n.number()
                .and_then(|v| usize::try_from(v).map_err(|_| serde::de::Error::custom("too large a count")))
        })
        .transpose()
}

/// A count that must be there (see [`number`]).
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    opt_count(d)?.ok_or_else(|| serde::de::Error::custom("a count is required"))
}

/// A yes/no setting: a boolean in the file, or `true`/`false` (`1`/`0`, `yes`/`no`, `on`/`off`)
/// in the environment.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum FlagOrText {
        Flag(bool),
        Text(String),
    }
    match FlagOrText::deserialize(d)? {
        FlagOrText::Flag(b) => Ok(b),
        FlagOrText::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(serde::de::Error::custom(format!("`{t}` is not true or false"))),
        },
    }
}

/// A size: bytes as a number, or a number with a unit: `B`, `KiB`, `MiB`, `GiB`, `TiB` (or the
/// decimal `KB`, `MB`, `GB`, `TB`), e.g. `256MiB`.
fn byte_size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match NumOrText::deserialize(d)? {
        NumOrText::Num(n) => Ok(n),
        NumOrText::Text(s) => parse_byte_size(&s).map_err(serde::de::Error::custom),
    }
}
pub(crate) fn parse_byte_size(raw: &str) -> Result<u64, String> {
    let s = raw.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{raw}` is not a size such as 256MiB or 20GiB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "tib" | "t" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => {
            return Err(format!(
                "`{raw}` has an unknown unit (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
            ));
        }
    };
    n.checked_mul(mult).ok_or_else(|| format!("`{raw}` is too large"))
}

/// The settings a flag can override (`cordon serve --data-dir … --listen …`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

/// The configuration keys read from `CORDON_<KEY>` variables.
const ENV_KEYS: &[&str] = &[
    "data_dir",
    "listen",
    "database_url",
    "public_url",
    "admin_token",
    "smtp_url",
    "mail_from",
    "company_domains",
    "slack_signing_secret",
    "subject_label",
    "evidence_url",
    "evidence_verify_interval",
    "sms_gateway_url",
    "sms_gateway_token",
    "slack_api_url",
    "slack_bot_token",
    "matrix_homeserver",
    "matrix_user",
    "matrix_password",
    "matrix_access_token",
    "outbound_allow",
    "secret_key",
    "http_header_timeout",
    "http_idle_timeout",
    "http_body_idle_timeout",
    "http_request_timeout",
    "http_shutdown_grace",
    "http_max_connections",
    "slack_refusal_interval",
    "slack_refusals_per_source",
    "timeline_ingest_memory",
    "timeline_ingests_at_once",
    "timeline_gzip_max_ratio",
    "timeline_disk_quota",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
    "oidc_groups_claim",
    "oidc_enabled",
];

/// Loads the configuration. `file`: an explicit `--config` (must exist); otherwise
/// `cordon.toml` in the working directory when present. `env`: the process environment.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
    flags: &FlagOverrides,
) -> anyhow::Result<Config> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(path) => {
            anyhow::ensure!(path.is_file(), "config file {} does not exist", path.display());
            fig = fig.merge(Toml::file_exact(path));
        }
        None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
            fig = fig.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
        }
        None => {}
    }
    let from_env: BTreeMap<String, String> = env
        .into_iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("CORDON_")?.to_ascii_lowercase();
            ENV_KEYS.contains(&key.as_str()).then_some((key, v))
        })
        .collect();
    fig = fig
        .merge(Serialized::defaults(from_env))
        .merge(Serialized::defaults(flags));
    let config: Config = fig.extract().context("invalid configuration")?;
    Ok(config)
}

impl Config {
    /// The HTTP server's connection limits.
    pub fn serve_limits(&self) -> anyhow::Result<cordon_server::ServeLimits> {
        Ok(cordon_server::ServeLimits {
            header_timeout: positive("http_header_timeout", self.http_header_timeout)?,
            idle_timeout: positive("http_idle_timeout", self.http_idle_timeout)?,
            body_idle_timeout: positive("http_body_idle_timeout", self.http_body_idle_timeout)?,
            max_connections: match self.http_max_connections {
                Some(0) => anyhow::bail!("http_max_connections must be at least 1"),
                other => other,
            },
            shutdown_grace: std::time::Duration::try_from(self.http_shutdown_grace)
                .context("http_shutdown_grace must not be negative")?,
        })
    }

    /// The HTTP router's request limits.
    pub fn request_limits(&self) -> anyhow::Result<cordon_server::RequestLimits> {
        Ok(cordon_server::RequestLimits {
            request_timeout: positive("http_request_timeout", self.http_request_timeout)?,
            slack: cordon_server::SlackRefusalLimits {
                audit_interval: positive("slack_refusal_interval", self.slack_refusal_interval)?,
                per_source: u32::try_from(self.slack_refusals_per_source).unwrap_or(u32::MAX),
            },
        })
    }

    /// How long browser sessions live (`session_idle`, `session_max`).
    pub fn session_settings(&self) -> anyhow::Result<cordon_service::SessionSettings> {
        let idle = self.session_idle;
        let max = self.session_max;
        anyhow::ensure!(
            idle >= jiff::SignedDuration::from_mins(1),
            "session_idle must be at least a minute"
        );
        anyhow::ensure!(max >= idle, "session_max must be at least session_idle");
        Ok(cordon_service::SessionSettings { idle, max })
    }

    /// What timeline ingests may take (`timeline_*`).
    pub fn timeline_settings(&self) -> anyhow::Result<cordon_service::timeline::TimelineSettings> {
        anyhow::ensure!(
            self.timeline_ingest_memory >= cordon_timeline::MIN_INGEST_MEMORY,
            "timeline_ingest_memory must be at least 160MiB (is {} bytes)",
            self.timeline_ingest_memory
        );
        anyhow::ensure!(
            (1..=64).contains(&self.timeline_ingests_at_once),
            "timeline_ingests_at_once must be between 1 and 64"
        );
        Ok(cordon_service::timeline::TimelineSettings {
            limits: cordon_timeline::IngestLimits {
                memory: self.timeline_ingest_memory,
                disk_quota: (self.timeline_disk_quota > 0).then_some(self.timeline_disk_quota),
            },
            ingests_at_once: self.timeline_ingests_at_once as usize,
            max_gzip_ratio: (self.timeline_gzip_max_ratio > 0).then_some(self.timeline_gzip_max_ratio),
        })
    }

    /// OIDC sign-in's settings, when an issuer is configured; `public_url` is where the
    /// provider sends browsers back to.
    pub fn oidc_settings(&self, public_url: &str) -> anyhow::Result<Option<cordon_service::oidc::OidcSettings>> {
        let nonempty = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let Some(issuer) = nonempty(&self.oidc_issuer) else {
            anyhow::ensure!(
                nonempty(&self.oidc_client_id).is_none(),
                "oidc_client_id is set but oidc_issuer is not"
            );
            return Ok(None);
        };
        let client_id = nonempty(&self.oidc_client_id).context("oidc_issuer is set but oidc_client_id is not")?;
        Ok(Some(cordon_service::oidc::OidcSettings {
            issuer,
            client_id,
            client_secret: nonempty(&self.oidc_client_secret),
            groups_claim: self.oidc_groups_claim.trim().to_owned(),
            enabled: self.oidc_enabled,
            public_url: public_url.to_owned(),
        }))
    }

    /// The URL people open: `public_url`, else `http://<listen>`.
    pub fn public_url_or(&self, listening: &str) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{listening}"))
    }
}

fn positive(key: &str, d: jiff::SignedDuration) -> anyhow::Result<std::time::Duration> {
    match std::time::Duration::try_from(d) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => anyhow::bail!("{key} must be a positive duration (e.g. `10s`), not {d}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_file_env_flags_in_that_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cordon.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1001\"\ndata_dir = \"/from/file\"\nmail_from = \"file@example.com\"\n",
        )
        .unwrap();
        let no_flags = FlagOverrides::default();

        let c = load(Some(&file), env(&[]), &no_flags).unwrap();
        assert_eq!(c.listen, "127.0.0.1:1001", "file beats default");
        assert_eq!(
            c.subject_label, "Attorney Work Project",
            "default where nobody says otherwise"
        );

        let e = env(&[
            ("CORDON_LISTEN", "127.0.0.1:1002"),
            ("CORDON_DATA_DIR", "/from/env"),
            ("PATH", "/bin"),
        ]);
        let c = load(Some(&file), e.clone(), &no_flags).unwrap();
        assert_eq!(c.listen, "127.0.0.1:1002", "env beats file");
        assert_eq!(c.data_dir, PathBuf::from("/from/env"));
        assert_eq!(c.mail_from, "file@example.com", "file still fills what env leaves");

        let flags = FlagOverrides {
            listen: Some("127.0.0.1:1003".into()),
            ..Default::default()
        };
        let c = load(Some(&file), e, &flags).unwrap();
        assert_eq!(c.listen, "127.0.0.1:1003", "flag beats env");
        assert_eq!(
            c.data_dir,
            PathBuf::from("/from/env"),
            "env still fills what flags leave"
        );
    }

    #[test]
    fn company_domains_from_env_csv_or_file_list() {
        let c = load(
            None,
            env(&[("CORDON_COMPANY_DOMAINS", "Example.com, @corp.example ,")]),
            &FlagOverrides::default(),
        )
        .unwrap();
        assert_eq!(c.company_domains, ["example.com", "corp.example"]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "company_domains = [\"a.example\", \"B.example\"]\n").unwrap();
        let c = load(Some(&file), env(&[]), &FlagOverrides::default()).unwrap();
        assert_eq!(c.company_domains, ["a.example", "b.example"]);
    }

    #[test]
    fn bad_config_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "lisen = \"typo\"\n").unwrap();
        let err = format!(
            "{:#}",
            load(Some(&file), env(&[]), &FlagOverrides::default()).unwrap_err()
        );
        assert!(err.contains("lisen"), "{err}");
        assert!(
            load(
                Some(&dir.path().join("missing.toml")),
                env(&[]),
                &FlagOverrides::default()
            )
            .is_err()
        );
    }

    #[test]
    fn communications_section_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[communications]\nbanned_phrases = [\"Your privacy is our top priority\"]\ndisclosure_warn_days = 5\n\
             disabled_rules = [{ rule = \"title-date\", reason = \"the status page dates posts\" }]\n",
        )
        .unwrap();
        let c = load(Some(&file), env(&[]), &FlagOverrides::default()).unwrap();
        let policy = c.communications.policy().unwrap();
        assert_eq!(policy.disclosure_warn_days, 5);
        assert!(
            policy
                .banned_phrases
                .contains(&"your privacy is our top priority".to_string())
        );
        assert_eq!(policy.disabled[0].rule, "title-date");
        std::fs::write(
            &file,
            "[communications]\ndisabled_rules = [{ rule = \"title-date\", reason = \"\" }]\n",
        )
        .unwrap();
        let c = load(Some(&file), env(&[]), &FlagOverrides::default()).unwrap();
        assert!(format!("{:#}", c.communications.policy().unwrap_err()).contains("reason"));
    }

    #[test]
    fn http_limits_from_env_with_defaults() {
        let c = load(
            None,
            env(&[
                ("CORDON_HTTP_HEADER_TIMEOUT", "3s"),
                ("CORDON_HTTP_MAX_CONNECTIONS", "500"),
            ]),
            &FlagOverrides::default(),
        )
        .unwrap();
        let limits = c.serve_limits().unwrap();
        assert_eq!(limits.header_timeout, std::time::Duration::from_secs(3));
        assert_eq!(limits.idle_timeout, std::time::Duration::from_secs(60));
        assert_eq!(limits.max_connections, Some(500));
        assert_eq!(
            c.request_limits().unwrap().request_timeout,
            std::time::Duration::from_secs(60)
        );
        let zero = load(
            None,
            env(&[("CORDON_HTTP_HEADER_TIMEOUT", "0s")]),
            &FlagOverrides::default(),
        )
        .unwrap();
        assert!(format!("{:#}", zero.serve_limits().unwrap_err()).contains("http_header_timeout"));
    }

    #[test]
    fn timeline_limits_from_file_and_env() {
        let c = load(None, env(&[]), &FlagOverrides::default()).unwrap();
        let t = c.timeline_settings().unwrap();
        assert_eq!(t.limits.memory, 256 << 20);
        assert_eq!(t.ingests_at_once, 2);
        assert_eq!(t.max_gzip_ratio, Some(200));
        assert_eq!(t.limits.disk_quota, Some(20 << 30));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "timeline_ingest_memory = \"512MiB\"\ntimeline_disk_quota = \"1GB\"\ntimeline_gzip_max_ratio = 0\n",
        )
        .unwrap();
        let e = env(&[
            ("CORDON_TIMELINE_INGESTS_AT_ONCE", "3"),
            ("CORDON_TIMELINE_INGEST_MEMORY", "196MiB"),
        ]);
        let t = load(Some(&file), e, &FlagOverrides::default())
            .unwrap()
            .timeline_settings()
            .unwrap();
        assert_eq!(t.limits.memory, 196 << 20, "env beats file");
        assert_eq!(t.limits.disk_quota, Some(1_000_000_000));
        assert_eq!(t.ingests_at_once, 3);
        assert_eq!(t.max_gzip_ratio, None, "0 turns the ratio limit off");
        let small = load(
            None,
            env(&[("CORDON_TIMELINE_INGEST_MEMORY", "16MiB")]),
            &FlagOverrides::default(),
        )
        .unwrap();
        assert!(format!("{:#}", small.timeline_settings().unwrap_err()).contains("160MiB"));
        for bad in ["12 parsecs", "MiB", "-1GiB"] {
            assert!(parse_byte_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_byte_size("1.5GiB").ok(), None, "whole numbers only");
        assert_eq!(parse_byte_size("512 KiB"), Ok(512 << 10));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = Config {
            admin_token: Some("cordon_supersecret".into()),
            secret_key: Some("ab".repeat(32)),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("supersecret"));
        assert!(!format!("{c:?}").contains("abab"));
    }

    #[test]
    fn oidc_from_file_and_env() {
        let none = load(None, env(&[]), &FlagOverrides::default()).unwrap();
        assert!(none.oidc_settings("http://x").unwrap().is_none());
        assert!(none.oidc_enabled, "on unless turned off");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "oidc_issuer = \"https://idp.example\"\noidc_client_id = \"cordon\"\noidc_enabled = true\n",
        )
        .unwrap();
        let e = env(&[
            ("CORDON_OIDC_CLIENT_SECRET", "s3cret-value"),
            ("CORDON_OIDC_GROUPS_CLAIM", "roles"),
            ("CORDON_OIDC_ENABLED", "false"),
        ]);
        let c = load(Some(&file), e, &FlagOverrides::default()).unwrap();
        let o = c.oidc_settings("https://cordon.example").unwrap().unwrap();
        assert_eq!(o.issuer, "https://idp.example");
        assert_eq!(o.client_id, "cordon");
        assert_eq!(o.client_secret.as_deref(), Some("s3cret-value"));
        assert_eq!(o.groups_claim, "roles");
        assert!(!o.enabled, "env beats file");
        assert_eq!(c.oidc_settings("x").unwrap().unwrap().groups_claim, "roles");
        assert!(!format!("{c:?}").contains("s3cret"), "the secret is redacted");
        assert_eq!(
            load(None, env(&[]), &FlagOverrides::default())
                .unwrap()
                .oidc_groups_claim,
            "groups"
        );
        let half = load(
            None,
            env(&[("CORDON_OIDC_ISSUER", "https://idp.example")]),
            &FlagOverrides::default(),
        )
        .unwrap();
        assert!(format!("{:#}", half.oidc_settings("x").unwrap_err()).contains("oidc_client_id"));
        assert!(
            load(
                None,
                env(&[("CORDON_OIDC_ENABLED", "maybe")]),
                &FlagOverrides::default()
            )
            .is_err()
        );
    }

    #[test]
    fn outbound_allow_from_env_csv_or_file_list() {
        let c = load(
            None,
            env(&[("CORDON_OUTBOUND_ALLOW", "10.20.0.0/16, 127.0.0.1 ,FD12::/16")]),
            &FlagOverrides::default(),
        )
        .unwrap();
        assert_eq!(c.outbound_allow, ["10.20.0.0/16", "127.0.0.1", "fd12::/16"]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "outbound_allow = [\"10.20.0.0/16\", \"::1/128\"]\n").unwrap();
        let c = load(Some(&file), env(&[]), &FlagOverrides::default()).unwrap();
        assert_eq!(c.outbound_allow, ["10.20.0.0/16", "::1/128"]);
        assert!(
            load(None, env(&[]), &FlagOverrides::default())
                .unwrap()
                .outbound_allow
                .is_empty()
        );
    }
}
