//! The normalized event every parser produces, modelled after OCSF: a kind (the OCSF class),
//! the instant with full precision plus the time text exactly as logged, who/where fields,
//! HTTP and database sub-records, free attributes, and the provenance of the source bytes.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::format::Format;

/// What an event is about; the OCSF class it maps to is given in each variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Logons, logon failures, account and group changes (OCSF 3002 / 3001).
    Authentication,
    /// SSH connection activity that is not itself a logon result (OCSF 4007).
    Ssh,
    /// A web request (OCSF 4002).
    Http,
    /// A database statement or session event (OCSF 6005).
    Datastore,
    /// A cloud control-plane call such as a CloudTrail record (OCSF 6003).
    Api,
    /// A process start or a command run, including sudo (OCSF 1007).
    Process,
    /// A file-system access (OCSF 1001).
    File,
    /// Anything else.
    Other,
}

impl EventKind {
    /// All kinds, in declaration order.
    pub const ALL: [EventKind; 8] = [
        EventKind::Authentication,
        EventKind::Ssh,
        EventKind::Http,
        EventKind::Datastore,
        EventKind::Api,
        EventKind::Process,
        EventKind::File,
        EventKind::Other,
    ];

    /// The stable lower-case name (`authentication`, `ssh`, `http`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Authentication => "authentication",
            EventKind::Ssh => "ssh",
            EventKind::Http => "http",
            EventKind::Datastore => "datastore",
            EventKind::Api => "api",
            EventKind::Process => "process",
            EventKind::File => "file",
            EventKind::Other => "other",
        }
    }

    /// The kind with this stable name.
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Whether the logged action succeeded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    #[default]
    Unknown,
}

impl Outcome {
    /// `success`, `failure` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Fields of a web request (access logs, nginx error logs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpFields {
    pub method: Option<String>,
    /// The request target as logged (path and query), or a full URL in proxy logs.
    pub url: Option<String>,
    /// `1.1`, `2.0`, …
    pub version: Option<String>,
    pub status: Option<u16>,
    /// Response body bytes.
    pub bytes: Option<u64>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    /// Every address of an `X-Forwarded-For`-style client list, in logged order.
    pub forwarded_for: Vec<IpAddr>,
}

/// Where an event's bytes are in the (decompressed) input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// 1-based number of the event's first line.
    pub line: u64,
    /// Offset of the event's first byte.
    pub byte_offset: u64,
    /// Bytes from the first byte to the end of the event's last line, without the final
    /// newline. For auditd records merged from non-adjacent lines this spans them all.
    pub byte_len: u64,
}

/// One normalized timeline event.
///
/// Optional fields are `None` when the log did not say; parsers never invent values (the one
/// exception is the year of year-less syslog times, see [`crate::ParseOptions::year`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The instant, with the full precision the log gave.
    pub timestamp: Timestamp,
    /// The time text exactly as logged (e.g. `Feb  9 21:19:40`, `1533630467`).
    pub time_original: String,
    pub kind: EventKind,
    /// The format the event was parsed as.
    pub format: Format,
    /// The source name given in [`crate::ParseOptions`] (usually a file name).
    pub source: Arc<str>,
    /// The host the event happened on: from the log, else the host hint.
    pub host: Option<Arc<str>>,
    /// Human-readable text: the syslog message, the access-log line, the SQL text, …
    pub message: String,
    pub src_ip: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst_ip: Option<IpAddr>,
    pub dst_port: Option<u16>,
    /// The acting account (who logged in, who ran sudo, who sent the query).
    pub user: Option<String>,
    /// The account acted upon (sudo's `USER=`, `su` target, session target).
    pub target_user: Option<String>,
    /// Process or program name (syslog tag, auditd `comm`).
    pub process: Option<Arc<str>>,
    pub pid: Option<u32>,
    /// A command line that was run (sudo `COMMAND=`, auditd `EXECVE`, cron `CMD`).
    pub command_line: Option<String>,
    pub outcome: Outcome,
    /// A short machine name for what happened (`ssh_login`, `sudo`, `user_add`, `query`,
    /// auditd record type in lower case, CloudTrail `eventName`, …).
    pub action: Option<Cow<'static, str>>,
    pub http: Option<Box<HttpFields>>,
    /// A database statement.
    pub query: Option<String>,
    /// The database (schema) the statement ran in.
    pub database: Option<String>,
    /// A duration the log reported (query time, request time), in nanoseconds.
    pub duration_ns: Option<u64>,
    /// Everything else the parser understood, as `(name, value)` pairs in logged order.
    pub attributes: Vec<(Cow<'static, str>, String)>,
    pub provenance: Provenance,
}

impl Event {
    /// A bare event with the required fields; every optional field empty.
    pub fn new(
        timestamp: Timestamp,
        time_original: String,
        kind: EventKind,
        format: Format,
        source: Arc<str>,
        provenance: Provenance,
    ) -> Event {
        Event {
            timestamp,
            time_original,
            kind,
            format,
            source,
            host: None,
            message: String::new(),
            src_ip: None,
            src_port: None,
            dst_ip: None,
            dst_port: None,
            user: None,
            target_user: None,
            process: None,
            pid: None,
            command_line: None,
            outcome: Outcome::Unknown,
            action: None,
            http: None,
            query: None,
            database: None,
            duration_ns: None,
            attributes: Vec::new(),
            provenance,
        }
    }

    /// The value of the first attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Adds an attribute.
    pub fn push_attribute(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.attributes.push((name.into(), value.into()));
    }

    /// The HTTP sub-record, created empty if missing.
    pub fn http_mut(&mut self) -> &mut HttpFields {
        self.http.get_or_insert_with(Default::default)
    }

    /// Every account named in the event: `user`, `target_user`, and the account attributes
    /// parsers record (`acct`, `login_user`, …), without duplicates, in that order.
    pub fn users(&self) -> Vec<&str> {
        let named = self.user.iter().chain(&self.target_user).map(String::as_str);
        accounts(named, self.attributes.iter().map(|(k, v)| (k.as_ref(), v.as_str())))
    }
}

/// The rule of [`Event::users`] over an event's named accounts (`user`, `target_user`) and
/// its attributes: those, then the values of [`ACCOUNT_ATTRIBUTES`], non-empty, without
/// repeats.
pub(crate) fn accounts<'a>(
    named: impl Iterator<Item = &'a str>,
    attributes: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::with_capacity(2);
    let attrs = attributes
        .filter(|(k, _)| ACCOUNT_ATTRIBUTES.contains(k))
        .map(|(_, v)| v);
    for u in named.chain(attrs) {
        if !u.is_empty() && !out.contains(&u) {
            out.push(u);
        }
    }
    out
}

/// Attribute names whose values are account names (see [`Event::users`]).
pub const ACCOUNT_ATTRIBUTES: &[&str] = &["acct", "login_user", "effective_user", "session_user"];
