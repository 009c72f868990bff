//! `journalctl -o json` export: `__REALTIME_TIMESTAMP` (µs), `_HOSTNAME`,
//! `SYSLOG_IDENTIFIER`/`_COMM`, `_PID`, `MESSAGE` (text, or an array of bytes when not UTF-8),
//! with the same auth semantics as syslog.

use jiff::Timestamp;
use serde_json::Value;

use super::jsonl::get_str;
use super::{Cx, auth};
use crate::event::{Event, EventKind, Provenance};
use crate::format::Format;

/// Whether a JSON record is a journal entry.
pub(crate) fn is_journal(v: &Value) -> bool {
    v.get("__REALTIME_TIMESTAMP").is_some() || v.get("__CURSOR").is_some()
}

/// Maps one journal entry.
pub(crate) fn map(v: &Value, prov: Provenance, cx: &mut Cx) -> Result<Event, String> {
    let (ts, text) = ["__REALTIME_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP"]
        .iter()
        .find_map(|k| {
            let s = get_str(v, &[k])?;
            let us: i64 = s.parse().ok()?;
            Some((Timestamp::from_microsecond(us).ok()?, s))
        })
        .ok_or_else(|| "journal entry without __REALTIME_TIMESTAMP".to_string())?;
    let mut ev = cx.event(ts, &text, EventKind::Other, Format::Journald, prov);
    if let Some(h) = get_str(v, &["_HOSTNAME"]) {
        ev.host = Some(cx.host(&h));
    }
    let program = get_str(v, &["SYSLOG_IDENTIFIER", "_COMM"]);
    if let Some(p) = &program {
        ev.process = Some(cx.program(p));
    }
    ev.pid = get_str(v, &["_PID", "SYSLOG_PID"]).and_then(|p| p.parse().ok());
    ev.message = match v.get("MESSAGE") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(bytes)) => {
            let raw: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            String::from_utf8_lossy(&raw).into_owned()
        }
        _ => String::new(),
    };
    for (key, name) in [
        ("_SYSTEMD_UNIT", "unit"),
        ("_UID", "uid"),
        ("PRIORITY", "priority"),
        ("_TRANSPORT", "transport"),
        ("_CMDLINE", "cmdline"),
        ("_EXE", "exe"),
    ] {
        if let Some(val) = get_str(v, &[key]) {
            ev.push_attribute(name, val);
        }
    }
    let message = ev.message.clone();
    auth::enrich(&mut ev, program.as_deref().unwrap_or(""), &message);
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use crate::{EventKind, Format, ParseOptions, parse_all};

    #[test]
    fn journal_lines() {
        let text = r#"{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1709287200123456","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sshd","_PID":"812","MESSAGE":"Failed password for root from 198.51.100.7 port 40022 ssh2","_UID":"0"}
{"__REALTIME_TIMESTAMP":"1709287201000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"app","MESSAGE":[104,105,255]}
"#;
        let out = parse_all(text.as_bytes(), &ParseOptions::new("t"));
        assert_eq!(out.format, Some(Format::Journald));
        assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
        let e = &out.events;
        assert_eq!(e[0].timestamp.to_string(), "2024-03-01T10:00:00.123456Z");
        assert_eq!(e[0].kind, EventKind::Authentication);
        assert_eq!(e[0].user.as_deref(), Some("root"));
        assert_eq!(e[0].src_ip.unwrap().to_string(), "198.51.100.7");
        assert_eq!(e[0].pid, Some(812));
        assert_eq!(e[1].message, "hi\u{fffd}");
    }
}
