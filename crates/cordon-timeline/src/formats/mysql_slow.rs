//! MySQL / MariaDB / Percona slow query log. An event starts at its `# User@Host:` line (or
//! the first `#` header after a `# Time:` line) and runs to the next header; `SET timestamp=N;`
//! gives the query's start time (the `# Time:` line is the fallback), `use db;` the schema,
//! other non-`#` lines are the statement. Server banners and `# Time:` lines are not events.

use jiff::Timestamp;

use super::{Cx, Line, LineFormat, append_bounded};
use crate::diag::DiagnosticCode;
use crate::event::{EventKind, Outcome, Provenance};
use crate::format::Format;
use crate::scan::{num2, parse_decimal_ns, parse_ip, parse_u64, token};
use crate::time::{self, Civil};

/// Server start-up banner lines shared by the slow and general logs.
pub(crate) fn is_banner(t: &str) -> bool {
    (t.contains(", Version: ") && t.ends_with("started with:"))
        || t.starts_with("Tcp port: ")
        || (t.starts_with("Time") && t.contains("Id") && t.contains("Command") && t.contains("Argument"))
}

/// MySQL's old `YYMMDD H:MM:SS` time (hour space-padded) at the start of `s`.
pub(crate) fn yymmdd_time(s: &[u8]) -> Option<(Civil, usize)> {
    let yy = num2(s, 0)?;
    let mm = num2(s, 2)?;
    let dd = num2(s, 4)?;
    let mut i = 6;
    if s.get(i) != Some(&b' ') {
        return None;
    }
    while s.get(i) == Some(&b' ') {
        i += 1;
    }
    let (h, used) = match (s.get(i), s.get(i + 1)) {
        (Some(a), Some(b)) if a.is_ascii_digit() && b.is_ascii_digit() => ((a - b'0') * 10 + (b - b'0'), 2),
        (Some(a), Some(b':')) if a.is_ascii_digit() => (a - b'0', 1),
        _ => return None,
    };
    i += used;
    if s.get(i) != Some(&b':') || s.get(i + 3) != Some(&b':') {
        return None;
    }
    let m = num2(s, i + 1)?;
    let sec = num2(s, i + 4)?;
    let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
    Some((
        Civil {
            year: year as i32,
            month: mm as u8,
            day: dd as u8,
            hour: h,
            minute: m as u8,
            second: sec as u8,
            nanos: 0,
        },
        i + 6,
    ))
}

#[derive(Default)]
struct Record {
    provenance: Provenance,
    time: Option<(Timestamp, String)>,
    set_timestamp: Option<(Timestamp, String)>,
    user: Option<String>,
    current_user: Option<String>,
    client_host: Option<String>,
    src_ip: Option<std::net::IpAddr>,
    thread_id: Option<String>,
    schema: Option<String>,
    query_time_ns: Option<u64>,
    extra: Vec<(&'static str, String)>,
    query: String,
    full: bool,
}

/// Slow-log parser: one record is open at a time.
#[derive(Default)]
pub(crate) struct MysqlSlowParser {
    last_time: Option<(Timestamp, String)>,
    record: Option<Record>,
}

impl MysqlSlowParser {
    fn flush(&mut self, cx: &mut Cx) {
        let Some(r) = self.record.take() else { return };
        let Some((ts, time_text)) = r.set_timestamp.or(r.time) else {
            cx.diags.skip(
                r.provenance.line,
                r.provenance.byte_offset,
                1,
                DiagnosticCode::MalformedRecord,
                || "slow-log record without a time".into(),
            );
            return;
        };
        let mut ev = cx.event(ts, &time_text, EventKind::Datastore, Format::MysqlSlow, r.provenance);
        ev.process = Some(cx.program("mysqld"));
        ev.action = Some("query".into());
        ev.outcome = Outcome::Unknown;
        ev.user = r.user;
        ev.src_ip = r.src_ip;
        ev.database = r.schema;
        ev.duration_ns = r.query_time_ns;
        if let Some(c) = r.current_user {
            ev.push_attribute("session_user", c);
        }
        if let Some(h) = r.client_host {
            ev.push_attribute("client_host", h);
        }
        if let Some(t) = r.thread_id {
            ev.push_attribute("thread_id", t);
        }
        for (k, v) in r.extra {
            ev.push_attribute(k, v);
        }
        let q = r.query.trim_end().to_string();
        ev.message.clone_from(&q);
        ev.query = Some(q);
        cx.emit(ev);
    }

    fn open(&mut self, line: &Line) -> &mut Record {
        self.record.get_or_insert_with(|| Record {
            provenance: line.provenance(),
            time: self.last_time.clone(),
            ..Record::default()
        })
    }
}

impl LineFormat for MysqlSlowParser {
    fn line(&mut self, line: &Line, cx: &mut Cx) {
        let t = line.text;
        if is_banner(t) {
            return;
        }
        if let Some(rest) = t.strip_prefix("# Time: ") {
            self.flush(cx);
            let b = rest.trim().as_bytes();
            let parsed = if let Some((c, off, _)) = time::iso8601(b) {
                match off {
                    Some(off) => c.at_offset(off),
                    None => cx.local_time(c),
                }
            } else if let Some((c, _)) = yymmdd_time(b) {
                cx.local_time(c)
            } else {
                return cx.skip(line, DiagnosticCode::UnparsedLine, || "unreadable # Time: line".into());
            };
            match parsed {
                Ok(ts) => self.last_time = Some((ts, rest.trim().to_string())),
                Err(_) => cx.bad_time(line, rest),
            }
            return;
        }
        if let Some(rest) = t.strip_prefix("# User@Host: ") {
            self.flush(cx);
            let r = self.open(line);
            // root[root] @ localhost [1.2.3.4]  Id:  7234
            let (users, rest) = rest.split_once(" @ ").unwrap_or((rest, ""));
            let (user, cur) = users.split_once('[').unwrap_or((users, ""));
            r.user = Some(user.trim().to_string()).filter(|u| !u.is_empty());
            r.current_user = Some(cur.trim_end_matches(']').to_string()).filter(|u| !u.is_empty());
            let (host_part, id_part) = match rest.find("Id:") {
                Some(p) => (&rest[..p], Some(rest[p + 3..].trim())),
                None => (rest, None),
            };
            let host_part = host_part.trim();
            let (host, ip) = match host_part.find('[') {
                Some(p) => (host_part[..p].trim(), host_part[p + 1..].trim_end_matches(']').trim()),
                None => (host_part, ""),
            };
            if !host.is_empty() {
                r.client_host = Some(host.to_string());
            }
            r.src_ip = parse_ip(ip);
            if let Some(id) = id_part.filter(|i| !i.is_empty()) {
                r.thread_id = Some(id.to_string());
            }
            return;
        }
        if let Some(rest) = t.strip_prefix('#') {
            if self.record.as_ref().is_some_and(|r| !r.query.is_empty()) {
                self.flush(cx);
            }
            let r = self.open(line);
            extend_to_record(r, line);
            header_pairs(r, rest);
            return;
        }
        let Some(r) = self.record.as_mut() else {
            if t.trim().is_empty() {
                return;
            }
            return cx.skip(line, DiagnosticCode::UnparsedLine, || {
                "statement outside a slow-log record".into()
            });
        };
        extend_to_record(r, line);
        if r.query.is_empty() {
            if let Some(v) = t.strip_prefix("SET timestamp=").and_then(|v| v.strip_suffix(';')) {
                if let Some(secs) = parse_u64(v).and_then(|s| i64::try_from(s).ok())
                    && let Ok(ts) = Timestamp::from_second(secs)
                {
                    r.set_timestamp = Some((ts, v.to_string()));
                }
                return;
            }
            if let Some(db) = t.strip_prefix("use ").and_then(|v| v.strip_suffix(';')) {
                if r.schema.is_none() {
                    r.schema = Some(db.trim_matches('`').to_string());
                }
                return;
            }
            if t.trim().is_empty() {
                return;
            }
            r.query.push_str(t);
        } else if !append_bounded(&mut r.query, t, cx.common.max_event_bytes) && !r.full {
            r.full = true;
            cx.note(line, DiagnosticCode::EventTooLarge, || {
                "statement cut at the event size limit".into()
            });
        }
    }

    fn finish(&mut self, cx: &mut Cx) {
        self.flush(cx);
    }

    fn wants_blank_lines(&self) -> bool {
        true
    }
}

fn extend_to_record(r: &mut Record, line: &Line) {
    r.provenance.byte_len = line.end().saturating_sub(r.provenance.byte_offset);
}

/// `# Query_time: 2.000652  Lock_time: 0.000000  Rows_sent: 1 …` and similar header lines.
fn header_pairs(r: &mut Record, s: &str) {
    // Repeated header lines must not grow a record without bound.
    if r.extra.len() >= 32 {
        return;
    }
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some(colon) = rest.find(": ") else { break };
        let key = rest[..colon].trim();
        let after = rest[colon + 2..].trim_start();
        // A value is one token, possibly empty (`Schema:   QC_hit: No`).
        let (value, next) = if after.contains(": ") && after.find(": ") < after.find(' ') {
            ("", after)
        } else {
            token(after)
        };
        match key {
            "Query_time" => r.query_time_ns = parse_decimal_ns(value, 1_000_000_000),
            "Thread_id" | "Id" if !value.is_empty() => r.thread_id = Some(value.to_string()),
            "Schema" if !value.is_empty() => r.schema = Some(value.to_string()),
            "Lock_time" => r.extra.push(("lock_time", value.to_string())),
            "Rows_sent" => r.extra.push(("rows_sent", value.to_string())),
            "Rows_examined" => r.extra.push(("rows_examined", value.to_string())),
            "Rows_affected" => r.extra.push(("rows_affected", value.to_string())),
            "Bytes_sent" => r.extra.push(("bytes_sent", value.to_string())),
            _ => {}
        }
        rest = next;
    }
}

#[cfg(test)]
mod tests {
    use crate::{Format, ParseOptions, parse_all};

    #[test]
    fn records() {
        let text = "/usr/sbin/mysqld, Version: 5.5.53-0ubuntu0.12.04.1-log ((Ubuntu)). started with:\n\
                    Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n\
                    Time                 Id Command    Argument\n\
                    # Time: 2018-08-07T16:27:47.169604+08:00\n\
                    # User@Host: root[root] @  [218.76.8.37]  Id:  7234\n\
                    # Query_time: 15.000223  Lock_time: 0.000000 Rows_sent: 1  Rows_examined: 0\n\
                    SET timestamp=1533630467;\n\
                    select sleep(15);\n\
                    # Time: 190117 16:04:18\n\
                    # User@Host: root[root] @ localhost []\n\
                    # Thread_id: 25844  Schema: blah  QC_hit: No\n\
                    # Query_time: 178.306017  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 53022772\n\
                    use other;\n\
                    select 1\n\
                    AS foo;\n";
        let out = parse_all(text.as_bytes(), &ParseOptions::new("t").format(Format::MysqlSlow));
        assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
        let e = &out.events;
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].timestamp.to_string(), "2018-08-07T08:27:47Z");
        assert_eq!(e[0].user.as_deref(), Some("root"));
        assert_eq!(e[0].src_ip.unwrap().to_string(), "218.76.8.37");
        assert_eq!(e[0].query.as_deref(), Some("select sleep(15);"));
        assert_eq!(e[0].duration_ns, Some(15_000_223_000));
        assert_eq!(e[0].provenance.line, 5);
        assert_eq!(e[1].timestamp.to_string(), "2019-01-17T16:04:18Z");
        assert_eq!(e[1].database.as_deref(), Some("blah"));
        assert_eq!(e[1].query.as_deref(), Some("select 1\nAS foo;"));
        assert_eq!(e[1].attribute("thread_id"), Some("25844"));
    }
}
