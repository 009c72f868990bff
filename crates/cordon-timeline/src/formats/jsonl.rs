//! Generic JSON records (JSON lines, arrays, Timesketch JSONL, Cordon's own export) and the
//! JSON helpers the journald and CloudTrail mappings share: field lookup by flat or dotted
//! path, and timestamps from RFC 3339 text or epoch numbers of any unit.
//!
//! Well-known field names (ECS, Timesketch, common application logs) fill the event; every
//! other scalar becomes an attribute under its flattened name.

use jiff::Timestamp;
use serde_json::Value;

use super::Cx;
use crate::event::{Event, EventKind, Outcome, Provenance};
use crate::format::Format;
use crate::scan::parse_ip;
use crate::time;

/// The value at `path`: a flat key (`"source.ip"`) or a dotted path into nested objects.
pub(crate) fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    if let Some(x) = obj.get(path) {
        return Some(x);
    }
    let (head, rest) = path.split_once('.')?;
    get(obj.get(head)?, rest)
}

/// The first of `paths` that holds a non-empty string (numbers are rendered as text).
pub(crate) fn get_str(v: &Value, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| match get(v, p)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// An instant from a JSON value: RFC 3339 / ISO 8601 text (zone hint when it has no offset),
/// or an epoch number in seconds, milliseconds, microseconds or nanoseconds (by magnitude).
pub(crate) fn timestamp(v: &Value, cx: &mut Cx) -> Option<(Timestamp, String)> {
    match v {
        Value::Number(n) => {
            let text = n.to_string();
            epoch(n.as_f64()?, n.as_i64()).map(|ts| (ts, text))
        }
        Value::String(s) => {
            let b = s.trim().as_bytes();
            if let Some((c, off, used)) = time::iso8601(b)
                && (used == b.len() || b.get(used) == Some(&b' '))
            {
                let ts = match off {
                    Some(off) => c.at_offset(off),
                    None => cx.local_time(c),
                }
                .ok()?;
                return Some((ts, s.clone()));
            }
            if let Some((c, off, _)) = time::clf_time(b) {
                let ts = match off {
                    Some(off) => c.at_offset(off),
                    None => cx.local_time(c),
                }
                .ok()?;
                return Some((ts, s.clone()));
            }
            let f: f64 = s.trim().parse().ok()?;
            epoch(f, s.trim().parse().ok()).map(|ts| (ts, s.clone()))
        }
        _ => None,
    }
}

fn epoch(f: f64, int: Option<i64>) -> Option<Timestamp> {
    if !f.is_finite() || f <= 0.0 {
        return None;
    }
    if let Some(i) = int {
        return if i < 100_000_000_000 {
            Timestamp::from_second(i).ok()
        } else if i < 100_000_000_000_000 {
            Timestamp::from_millisecond(i).ok()
        } else if i < 100_000_000_000_000_000 {
            Timestamp::from_microsecond(i).ok()
        } else {
            Timestamp::from_nanosecond(i128::from(i)).ok()
        };
    }
    if f < 1e11 {
        let secs = f.trunc() as i64;
        let nanos = ((f - f.trunc()) * 1e9).round() as i32;
        return Timestamp::new(secs, nanos.min(999_999_999)).ok();
    }
    None
}

const TIME_KEYS: &[&str] = &[
    "datetime",
    "@timestamp",
    "timestamp",
    "time",
    "date",
    "ts",
    "eventTime",
    "_time",
    "Timestamp",
    "TimeCreated",
    "event_time",
    "time_local",
    "created_at",
    "logged_at",
    "EventTime",
];
const MESSAGE_KEYS: &[&str] = &["message", "msg", "MESSAGE", "log", "text", "Message", "description"];
const HOST_KEYS: &[&str] = &[
    "host.name",
    "host.hostname",
    "hostname",
    "host",
    "computer",
    "Computer",
    "_HOSTNAME",
    "agent.hostname",
];
const SRC_IP_KEYS: &[&str] = &[
    "src_ip",
    "source.ip",
    "client.ip",
    "srcip",
    "client_ip",
    "clientip",
    "clientIP",
    "remote_addr",
    "remote_ip",
    "ip",
    "src",
    "sourceIPAddress",
    "ipAddress",
    "c-ip",
    "IpAddress",
];
const DST_IP_KEYS: &[&str] = &[
    "dst_ip",
    "destination.ip",
    "server.ip",
    "dstip",
    "dest_ip",
    "server_ip",
    "dst",
    "s-ip",
];
const USER_KEYS: &[&str] = &[
    "user",
    "user.name",
    "username",
    "userName",
    "user_name",
    "account",
    "src_user",
    "UserName",
    "SubjectUserName",
    "actor",
];
const TARGET_USER_KEYS: &[&str] = &["target_user", "user.target.name", "TargetUserName", "dst_user"];
const PROCESS_KEYS: &[&str] = &[
    "process.name",
    "process",
    "program",
    "SYSLOG_IDENTIFIER",
    "appname",
    "app",
];
const PID_KEYS: &[&str] = &["pid", "process.pid", "_PID", "ProcessId"];
const COMMAND_KEYS: &[&str] = &[
    "command_line",
    "process.command_line",
    "cmdline",
    "command",
    "CommandLine",
];
const QUERY_KEYS: &[&str] = &["query", "statement", "sql", "db.statement"];
const ACTION_KEYS: &[&str] = &["action", "event.action", "eventName"];
const OUTCOME_KEYS: &[&str] = &["outcome", "event.outcome", "result"];
const KEYS_USED: &[&[&str]] = &[
    TIME_KEYS,
    MESSAGE_KEYS,
    HOST_KEYS,
    SRC_IP_KEYS,
    DST_IP_KEYS,
    USER_KEYS,
    TARGET_USER_KEYS,
    PROCESS_KEYS,
    PID_KEYS,
    COMMAND_KEYS,
    QUERY_KEYS,
    ACTION_KEYS,
    OUTCOME_KEYS,
];

/// Attributes kept per generic record at most, and bytes per attribute value.
const MAX_ATTRIBUTES: usize = 64;
const MAX_ATTRIBUTE_BYTES: usize = 4096;

/// Maps a generic JSON record. `Err` says why it could not become an event.
pub(crate) fn map(v: &Value, raw: &[u8], prov: Provenance, cx: &mut Cx) -> Result<Event, String> {
    if !v.is_object() {
        return Err("JSON record is not an object".into());
    }
    let (ts, time_text) = TIME_KEYS
        .iter()
        .find_map(|k| timestamp(get(v, k)?, cx))
        .ok_or_else(|| "JSON record has no readable time field".to_string())?;
    let kind = get_str(v, &["kind"])
        .and_then(|k| EventKind::from_name(&k))
        .unwrap_or(EventKind::Other);
    let mut ev = cx.event(ts, &time_text, kind, Format::JsonLines, prov);
    ev.message = get_str(v, MESSAGE_KEYS).unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned());
    if let Some(h) = get_str(v, HOST_KEYS) {
        ev.host = Some(cx.host(&h));
    }
    ev.src_ip = get_str(v, SRC_IP_KEYS).and_then(|s| parse_ip(&s));
    ev.dst_ip = get_str(v, DST_IP_KEYS).and_then(|s| parse_ip(&s));
    ev.src_port = get_str(v, &["src_port", "source.port"]).and_then(|s| s.parse().ok());
    ev.dst_port = get_str(v, &["dst_port", "destination.port"]).and_then(|s| s.parse().ok());
    ev.user = get_str(v, USER_KEYS);
    ev.target_user = get_str(v, TARGET_USER_KEYS);
    if let Some(p) = get_str(v, PROCESS_KEYS) {
        ev.process = Some(cx.program(&p));
    }
    ev.pid = get_str(v, PID_KEYS).and_then(|s| s.parse().ok());
    ev.command_line = get_str(v, COMMAND_KEYS);
    ev.query = get_str(v, QUERY_KEYS);
    ev.database = get_str(v, &["database", "db.name", "db"]);
    ev.action = get_str(v, ACTION_KEYS).map(Into::into);
    ev.outcome = match get_str(v, OUTCOME_KEYS).as_deref() {
        Some("success" | "Success" | "succeeded") => Outcome::Success,
        Some("failure" | "Failure" | "failed") => Outcome::Failure,
        _ => Outcome::Unknown,
    };
    // HTTP fields: Cordon's export nests them under "http"; ECS uses dotted names.
    let method = get_str(v, &["http.method", "http.request.method", "method", "request_method"]);
    let url = get_str(v, &["http.url", "url.original", "url", "uri", "request_uri"]);
    let status = get_str(
        v,
        &["http.status", "http.response.status_code", "status", "status_code"],
    )
    .and_then(|s| s.parse().ok());
    if method.is_some() || url.is_some() || status.is_some() {
        let h = ev.http_mut();
        h.method = method;
        h.url = url;
        h.status = status;
        h.bytes = get_str(
            v,
            &["http.bytes", "http.response.body.bytes", "bytes", "body_bytes_sent"],
        )
        .and_then(|s| s.parse().ok());
        h.referrer = get_str(
            v,
            &[
                "http.referrer",
                "http.request.referrer",
                "referrer",
                "referer",
                "http_referer",
            ],
        );
        h.user_agent = get_str(
            v,
            &[
                "http.user_agent",
                "user_agent.original",
                "user_agent",
                "http_user_agent",
                "useragent",
            ],
        );
        if ev.kind == EventKind::Other {
            ev.kind = EventKind::Http;
        }
    }
    if ev.kind == EventKind::Other && ev.query.is_some() {
        ev.kind = EventKind::Datastore;
    }
    if let Some(obj) = v.as_object() {
        let mut budget = MAX_ATTRIBUTES;
        for (k, val) in obj {
            flatten_into(&mut ev, k, val, &mut budget);
        }
    }
    Ok(ev)
}

fn flatten_into(ev: &mut Event, key: &str, v: &Value, budget: &mut usize) {
    if *budget == 0 || KEYS_USED.iter().any(|ks| ks.contains(&key)) || is_cordon_field(key) {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                flatten_into(ev, &format!("{key}.{k}"), x, budget);
            }
        }
        Value::Null => {}
        Value::String(s) => {
            *budget -= 1;
            ev.push_attribute(key.to_string(), crate::scan::truncate_str(s, MAX_ATTRIBUTE_BYTES));
        }
        other => {
            *budget -= 1;
            let t = other.to_string();
            ev.push_attribute(key.to_string(), crate::scan::truncate_str(&t, MAX_ATTRIBUTE_BYTES));
        }
    }
}

/// Fields of Cordon's own event export that are mapped, not repeated as attributes.
fn is_cordon_field(key: &str) -> bool {
    matches!(
        key,
        "kind"
            | "format"
            | "source"
            | "time_original"
            | "provenance"
            | "http"
            | "src_port"
            | "dst_port"
            | "database"
            | "duration_ns"
            | "attributes"
    )
}

#[cfg(test)]
mod tests {
    use crate::{EventKind, Format, ParseOptions, parse_all};

    #[test]
    fn generic_and_timesketch_records() {
        let text = "{\"message\":\"Accepted password for alice\",\"datetime\":\"2024-03-01T10:00:00.123456+01:00\",\"timestamp_desc\":\"Event Recorded\",\"src_ip\":\"203.0.113.5\",\"user\":\"alice\",\"extra\":{\"n\":1}}\n\
                    {\"ts\":1709287200123,\"msg\":\"hi\",\"source\":{\"ip\":\"10.1.1.1\"}}\n\
                    {\"@timestamp\":\"2024-03-01T10:00:00Z\",\"http\":{\"method\":\"GET\",\"url\":\"/x\",\"status\":404}}\n\
                    {\"no\":\"time\"}\n";
        let out = parse_all(text.as_bytes(), &ParseOptions::new("t"));
        assert_eq!(out.format, Some(Format::JsonLines));
        assert_eq!(out.events.len(), 3);
        assert_eq!(out.skipped, 1);
        let e = &out.events;
        assert_eq!(e[0].timestamp.to_string(), "2024-03-01T09:00:00.123456Z");
        assert_eq!(e[0].user.as_deref(), Some("alice"));
        assert_eq!(e[0].attribute("timestamp_desc"), Some("Event Recorded"));
        assert_eq!(e[0].attribute("extra.n"), Some("1"));
        assert_eq!(e[1].timestamp.to_string(), "2024-03-01T10:00:00.123Z");
        assert_eq!(e[1].src_ip.unwrap().to_string(), "10.1.1.1");
        assert_eq!(e[2].kind, EventKind::Http);
        assert_eq!(e[2].http.as_ref().unwrap().status, Some(404));
    }
}
