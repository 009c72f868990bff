//! The event JSON the API returns, written once per event at ingest and stored as is, and
//! the splice that adds the source's SHA-256 (known only once the whole source was read) when
//! the stored JSON is served.

use std::net::IpAddr;

use jiff::Timestamp;
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::event::{Event, HttpFields, Provenance};

/// Every stored event JSON starts with this, followed by the 36-character source id.
pub const EVENT_JSON_PREFIX: &[u8] = br#"{"source_id":""#;
const SOURCE_ID_LEN: usize = 36;

#[derive(Serialize)]
struct EventJson<'a> {
    /// Must stay first: [`splice_source_digest`] relies on it.
    source_id: &'a str,
    ts: Timestamp,
    time_original: &'a str,
    kind: &'static str,
    format: &'static str,
    source: &'a str,
    host: Option<&'a str>,
    message: &'a str,
    src_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst_ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst_port: Option<u16>,
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    process: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command_line: Option<&'a str>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<&'a HttpFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ns: Option<u64>,
    #[serde(skip_serializing_if = "Attributes::is_empty")]
    attributes: Attributes<'a>,
    users: &'a [&'a str],
    ips: &'a [IpAddr],
    provenance: &'a Provenance,
}

/// Attributes as a JSON object; a repeated name keeps its first value.
struct Attributes<'a>(&'a [(std::borrow::Cow<'static, str>, String)]);

impl Attributes<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Attributes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (i, (k, v)) in self.0.iter().enumerate() {
            if self.0[..i].iter().any(|(k2, _)| k2 == k) {
                continue;
            }
            m.serialize_entry(k.as_ref(), v)?;
        }
        m.end()
    }
}

/// Appends the event's JSON to `out`.
pub(crate) fn write_event(out: &mut Vec<u8>, source_id: &str, e: &Event, users: &[&str], ips: &[IpAddr]) {
    debug_assert_eq!(source_id.len(), SOURCE_ID_LEN);
    let j = EventJson {
        source_id,
        ts: e.timestamp,
        time_original: &e.time_original,
        kind: e.kind.as_str(),
        format: e.format.name(),
        source: &e.source,
        host: e.host.as_deref(),
        message: &e.message,
        src_ip: e.src_ip,
        src_port: e.src_port,
        dst_ip: e.dst_ip,
        dst_port: e.dst_port,
        user: e.user.as_deref(),
        target_user: e.target_user.as_deref(),
        process: e.process.as_deref(),
        pid: e.pid,
        command_line: e.command_line.as_deref(),
        outcome: e.outcome.as_str(),
        action: e.action.as_deref(),
        http: e.http.as_deref(),
        query: e.query.as_deref(),
        database: e.database.as_deref(),
        duration_ns: e.duration_ns,
        attributes: Attributes(&e.attributes),
        users,
        ips,
        provenance: &e.provenance,
    };
    // Serializing plain data into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &j);
}

/// The source id of a stored event JSON.
pub(crate) fn source_id_of(stored: &[u8]) -> Option<&str> {
    let rest = stored.strip_prefix(EVENT_JSON_PREFIX)?;
    std::str::from_utf8(rest.get(..SOURCE_ID_LEN)?).ok()
}

/// Appends the stored event JSON to `out`, with `"source_sha256"` added after the source id
/// when `digest` gives one for it.
pub fn splice_source_digest(out: &mut Vec<u8>, stored: &[u8], digest: impl Fn(&str) -> Option<String>) {
    let head = EVENT_JSON_PREFIX.len() + SOURCE_ID_LEN + 1; // through the closing quote
    match source_id_of(stored).and_then(digest) {
        Some(d) if stored.len() > head => {
            out.extend_from_slice(&stored[..head]);
            out.extend_from_slice(br#","source_sha256":""#);
            out.extend_from_slice(d.as_bytes());
            out.push(b'"');
            out.extend_from_slice(&stored[head..]);
        }
        _ => out.extend_from_slice(stored),
    }
}
