//! PostgreSQL stderr logs. Prefix forms: `%m [%p] `, `%m [%p] %q%u@%d `, `%t [%p-%l] %q%u@%d `
//! and variants with `user=…,db=…,client=…` or a client address; then `LEVEL:  [SQLSTATE: ]text`.
//! Lines that do not start with a timestamp continue the previous event (multi-line
//! statements). `statement:`, `duration: … statement:`, `execute …:` and `STATEMENT:` lines
//! carry the query; `connection authorized` lines tell which account a backend pid serves,
//! so queries logged without `%u` still name their user.

use std::collections::HashMap;

use super::{Cx, Line, LineFormat, append_bounded, extend_to};
use crate::diag::DiagnosticCode;
use crate::event::{Event, EventKind, Outcome};
use crate::format::Format;
use crate::scan::{find, kv, parse_decimal_ns, parse_ip, parse_ip_port, parse_u16, parse_u32, token};
use crate::time;

const LEVELS: &[&str] = &[
    "LOG",
    "ERROR",
    "FATAL",
    "PANIC",
    "WARNING",
    "NOTICE",
    "INFO",
    "DEBUG",
    "DEBUG1",
    "DEBUG2",
    "DEBUG3",
    "DEBUG4",
    "DEBUG5",
    "DETAIL",
    "HINT",
    "QUERY",
    "CONTEXT",
    "LOCATION",
    "STATEMENT",
];

/// Where the `LEVEL:  ` marker is: level text, its start, and where the message starts.
fn find_level(s: &str) -> Option<(&str, usize, usize)> {
    let mut from = 0;
    while let Some(pos) = crate::scan::find_bytes(s.as_bytes(), b":  ", from) {
        from = pos + 1;
        let word_start = s[..pos].rfind([' ', ']', '\t']).map_or(0, |p| p + 1);
        let word = &s[word_start..pos];
        if LEVELS.contains(&word) {
            return Some((word, word_start, pos + 3));
        }
    }
    None
}

/// `YYYY-MM-DD HH:MM:SS[.mmm] ` at the start (a PostgreSQL prefix, not ISO `T`).
fn starts_with_time(b: &[u8]) -> Option<(time::Civil, usize)> {
    match time::iso8601(b) {
        Some((c, None, n)) if b[10] == b' ' && b.get(n) == Some(&b' ') => Some((c, n)),
        _ => None,
    }
}

/// Whether `line` is the first line of a PostgreSQL log event (used by detection).
pub(crate) fn looks_like(line: &str) -> bool {
    starts_with_time(line.as_bytes()).is_some() && find_level(line).is_some()
}

#[derive(Default)]
struct Session {
    user: Option<String>,
    database: Option<String>,
}

/// PostgreSQL parser; holds the current event for continuation lines and the pid → session map.
#[derive(Default)]
pub(crate) struct PostgresParser {
    pending: Option<Event>,
    pending_full: bool,
    sessions: HashMap<u32, Session>,
}

impl PostgresParser {
    const MAX_SESSIONS: usize = 65_536;

    fn flush(&mut self, cx: &mut Cx) {
        if let Some(ev) = self.pending.take() {
            cx.emit(ev);
        }
    }

    fn start(&mut self, line: &Line, cx: &mut Cx) -> Result<Event, &'static str> {
        let text = line.text;
        let b = text.as_bytes();
        let (civil, n) = starts_with_time(b).ok_or("no timestamp")?;
        let (level, level_at, msg_at) = find_level(text).ok_or("no LEVEL:")?;
        let mut prefix = text[n + 1..level_at].trim_end();
        // Zone: an abbreviation or numeric offset right after the time.
        let (zone, after_zone) = token(prefix);
        let offset = if zone.starts_with('[') {
            None
        } else {
            time::zone_abbreviation(zone)
        };
        let time_end = if offset.is_some() || (!zone.starts_with('[') && zone.bytes().all(|c| c.is_ascii_alphabetic()))
        {
            prefix = after_zone;
            n + 1 + zone.len()
        } else {
            n
        };
        let time_text = &text[..time_end];
        let ts = match offset {
            Some(off) => civil.at_offset(off),
            None => cx.local_time(civil),
        };
        let Ok(ts) = ts else {
            return Err("impossible timestamp");
        };
        let mut ev = cx.event(ts, time_text, EventKind::Datastore, Format::Postgres, line.provenance());
        ev.process = Some(cx.program("postgres"));
        ev.push_attribute("level", level);

        // [pid] or [pid-line], then user@db / key=value / client tokens.
        for tok in prefix.split(' ').filter(|t| !t.is_empty()) {
            let t = tok.trim_end_matches(':');
            if let Some(inner) = t.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                let (pid, line_no) = inner.split_once('-').unwrap_or((inner, ""));
                if let Some(pid) = parse_u32(pid) {
                    if ev.pid.is_none() {
                        ev.pid = Some(pid);
                        if !line_no.is_empty() {
                            ev.push_attribute("session_line", line_no);
                        }
                    }
                    continue;
                }
            }
            if let Some((u, d)) = t.split_once('@') {
                let known = |s: &str| (!s.is_empty() && s != "[unknown]").then(|| s.to_string());
                ev.user = known(u);
                ev.database = known(d);
            } else if t.contains('=') {
                for part in t.split(',') {
                    match part.split_once('=') {
                        Some(("user", v)) if !v.is_empty() && v != "[unknown]" => ev.user = Some(v.to_string()),
                        Some(("db", v)) if !v.is_empty() && v != "[unknown]" => ev.database = Some(v.to_string()),
                        Some(("client" | "host", v)) => {
                            ev.src_ip = client_ip(v);
                        }
                        Some(("app", v)) if !v.is_empty() => ev.push_attribute("application", v),
                        _ => {}
                    }
                }
            } else if let Some(ip) = client_ip(t) {
                ev.src_ip = Some(ip);
            }
        }

        let mut msg = &text[msg_at..];
        // SQLSTATE in verbose mode: `00000: `.
        if msg.len() > 7
            && msg.as_bytes()[5] == b':'
            && msg.as_bytes()[6] == b' '
            && msg.as_bytes()[..5].iter().all(u8::is_ascii_alphanumeric)
        {
            ev.push_attribute("error_code", &msg[..5]);
            msg = &msg[7..];
        }
        ev.message = msg.to_string();
        self.semantics(&mut ev, level, msg);
        Ok(ev)
    }

    fn semantics(&mut self, ev: &mut Event, level: &str, msg: &str) {
        ev.outcome = match level {
            "ERROR" | "FATAL" | "PANIC" => Outcome::Failure,
            _ => Outcome::Unknown,
        };
        let mut m = msg;
        if let Some(rest) = m.strip_prefix("duration: ") {
            let (num, rest) = token(rest);
            ev.duration_ns = parse_decimal_ns(num, 1_000_000);
            m = rest.strip_prefix("ms").unwrap_or(rest).trim_start();
            if m.is_empty() {
                ev.action = Some("duration".into());
            }
        }
        if let Some(q) = m.strip_prefix("statement: ") {
            ev.query = Some(q.to_string());
            ev.action = Some("query".into());
        } else if let Some(p) = ["execute ", "parse ", "bind "].iter().find(|p| m.starts_with(**p)) {
            if let Some(c) = find(m, ": ") {
                ev.query = Some(m[c + 2..].to_string());
                ev.action = Some(p.trim_end().to_string().into());
            }
        } else if level == "STATEMENT" || level == "QUERY" {
            ev.query = Some(m.to_string());
            ev.action = Some("statement".into());
        } else if let Some(rest) = m.strip_prefix("connection received: ") {
            ev.action = Some("connection_received".into());
            if let Some(h) = kv(rest, "host") {
                ev.src_ip = parse_ip(h);
            }
            if let Some(p) = kv(rest, "port") {
                ev.src_port = parse_u16(p);
            }
        } else if let Some(rest) = m.strip_prefix("connection authorized: ") {
            ev.kind = EventKind::Authentication;
            ev.action = Some("connection_authorized".into());
            ev.outcome = Outcome::Success;
            if let Some(u) = kv(rest, "user") {
                ev.user = Some(u.to_string());
            }
            if let Some(d) = kv(rest, "database") {
                ev.database = Some(d.to_string());
            }
            if let Some(pid) = ev.pid {
                if self.sessions.len() >= Self::MAX_SESSIONS {
                    self.sessions.clear();
                }
                self.sessions.insert(
                    pid,
                    Session {
                        user: ev.user.clone(),
                        database: ev.database.clone(),
                    },
                );
            }
        } else if let Some(rest) = m.strip_prefix("password authentication failed for user \"") {
            ev.kind = EventKind::Authentication;
            ev.action = Some("login".into());
            ev.outcome = Outcome::Failure;
            ev.user = rest.split('"').next().map(str::to_string);
        } else if let Some(rest) = m.strip_prefix("no pg_hba.conf entry for host \"") {
            ev.kind = EventKind::Authentication;
            ev.action = Some("login".into());
            ev.outcome = Outcome::Failure;
            let mut parts = rest.split('"');
            ev.src_ip = parts.next().and_then(parse_ip);
            if let Some(u) = find(rest, "user \"") {
                ev.user = rest[u + 6..].split('"').next().map(str::to_string);
            }
        } else if let Some(rest) = m.strip_prefix("disconnection: ") {
            ev.action = Some("disconnection".into());
            if let Some(u) = kv(rest, "user") {
                ev.user = Some(u.to_string());
            }
            if let Some(d) = kv(rest, "database") {
                ev.database = Some(d.to_string());
            }
            if let Some(h) = kv(rest, "host") {
                ev.src_ip = parse_ip(h);
            }
            if let Some(pid) = ev.pid {
                self.sessions.remove(&pid);
            }
        }
        if let Some(pid) = ev.pid
            && let Some(s) = self.sessions.get(&pid)
        {
            if ev.user.is_none() {
                ev.user.clone_from(&s.user);
            }
            if ev.database.is_none() {
                ev.database.clone_from(&s.database);
            }
        }
    }
}

/// A client address written as `1.2.3.4`, `1.2.3.4(5432)` or `1.2.3.4:5432`.
fn client_ip(s: &str) -> Option<std::net::IpAddr> {
    let s = s.split('(').next().unwrap_or(s);
    parse_ip_port(s).map(|(ip, _)| ip)
}

impl LineFormat for PostgresParser {
    fn line(&mut self, line: &Line, cx: &mut Cx) {
        if line.text.trim().is_empty() && self.pending.is_none() {
            return;
        }
        let is_start = starts_with_time(line.text.as_bytes()).is_some();
        if !is_start && let Some(ev) = &mut self.pending {
            extend_to(ev, line);
            let limit = cx.common.max_event_bytes;
            let mut ok = append_bounded(&mut ev.message, line.text, limit);
            if let Some(q) = &mut ev.query {
                ok &= append_bounded(q, line.text, limit);
            }
            if !ok && !self.pending_full {
                self.pending_full = true;
                cx.note(line, DiagnosticCode::EventTooLarge, || {
                    "multi-line statement cut at the event size limit".into()
                });
            }
            return;
        }
        self.flush(cx);
        match self.start(line, cx) {
            Ok(ev) => {
                self.pending = Some(ev);
                self.pending_full = false;
            }
            Err("impossible timestamp") => cx.bad_time(line, line.text.get(..23).unwrap_or(line.text)),
            Err(why) => cx.skip(line, DiagnosticCode::UnparsedLine, || {
                format!("not a PostgreSQL log line: {why}")
            }),
        }
    }

    fn finish(&mut self, cx: &mut Cx) {
        self.flush(cx);
    }

    fn wants_blank_lines(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::{EventKind, Format, ParseOptions, parse_all};

    fn parse(text: &str) -> crate::ParseOutput {
        parse_all(text.as_bytes(), &ParseOptions::new("t").format(Format::Postgres))
    }

    #[test]
    fn prefixes_and_multiline() {
        let out = parse(
            "2019-07-23 12:06:24.406 UTC [25] LOG:  00000: database system was interrupted\n\
             2017-07-31 13:36:43.557 CEST [4983] postgres@postgres LOG:  duration: 37.118 ms  statement: SELECT d.datname as \"Name\",\n\
             \t       pg_catalog.x\n\
             \tORDER BY 1;\n\
             2017-07-31 13:36:43 EST [835-1] [unknown]@[unknown] LOG:  incomplete startup packet\n\
             2017-04-07 22:45:30.218 CEST [22603] postgres@mydb STATEMENT:  SELECT id, user FROM users\n",
        );
        assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
        let e = &out.events;
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].timestamp.to_string(), "2019-07-23T12:06:24.406Z");
        assert_eq!(e[0].message, "database system was interrupted");
        assert_eq!(e[0].attribute("error_code"), Some("00000"));
        assert_eq!(e[1].timestamp.to_string(), "2017-07-31T11:36:43.557Z");
        assert_eq!(e[1].duration_ns, Some(37_118_000));
        assert_eq!(
            e[1].query.as_deref(),
            Some("SELECT d.datname as \"Name\",\n\t       pg_catalog.x\n\tORDER BY 1;")
        );
        assert_eq!(
            (e[1].user.as_deref(), e[1].database.as_deref()),
            (Some("postgres"), Some("postgres"))
        );
        assert_eq!(e[1].kind, EventKind::Datastore);
        assert_eq!(e[2].time_original, "2017-07-31 13:36:43 EST");
        assert_eq!(e[2].timestamp.to_string(), "2017-07-31T18:36:43Z");
        assert_eq!((e[2].pid, e[2].user.as_deref()), (Some(835), None));
        assert_eq!(e[3].query.as_deref(), Some("SELECT id, user FROM users"));
    }

    #[test]
    fn session_user_from_connection_authorized() {
        let out = parse(
            "2024-01-02 10:00:00.000 UTC [77] LOG:  connection received: host=203.0.113.9 port=50000\n\
             2024-01-02 10:00:00.100 UTC [77] LOG:  connection authorized: user=app database=shop\n\
             2024-01-02 10:00:01.000 UTC [77] LOG:  statement: COPY customers TO '/tmp/x'\n\
             2024-01-02 10:00:02.000 UTC [77] FATAL:  password authentication failed for user \"root\"\n",
        );
        let e = &out.events;
        assert_eq!(e[0].src_ip.unwrap().to_string(), "203.0.113.9");
        assert_eq!(e[2].user.as_deref(), Some("app"));
        assert_eq!(e[2].database.as_deref(), Some("shop"));
        assert_eq!(e[2].query.as_deref(), Some("COPY customers TO '/tmp/x'"));
        assert_eq!(e[3].user.as_deref(), Some("root"));
        assert_eq!(e[3].outcome, crate::Outcome::Failure);
    }
}
