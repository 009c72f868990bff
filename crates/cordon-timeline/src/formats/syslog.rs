//! Syslog files in their three header forms — RFC 3164 (`Feb  9 21:19:40 host prog[pid]: msg`,
//! no year), RFC 5424 (`<34>1 2003-10-11T22:14:15.003Z host app procid msgid [sd] msg`) and
//! RFC 3339 rsyslog (`2018-08-14T14:30:02.203151+02:00 host prog[pid]: msg`) — with auth
//! semantics from [`super::auth`]. Lines that start with a space or tab continue the
//! previous message (macOS and multi-line daemons).

use jiff::Timestamp;

use super::{Cx, Line, LineFormat, append_bounded, auth, extend_to};
use crate::diag::DiagnosticCode;
use crate::event::{Event, EventKind};
use crate::format::Format;
use crate::scan::{parse_u32, token};
use crate::time::{self, Civil};

/// Whether `line` starts with a syslog header (used by format detection).
pub(crate) fn looks_like(line: &str) -> bool {
    let b = skip_pri(line.as_bytes());
    if b.starts_with(b"1 ") {
        return time::iso8601(&b[2..]).is_some() || b.get(2..4) == Some(b"- ");
    }
    if let Some((.., n)) = time::syslog_time(b) {
        return b.get(n) == Some(&b' ');
    }
    // RFC 3339 rsyslog: a `T` between date and time, then a space and a host.
    matches!(time::iso8601(b), Some((_, _, n)) if b[10] == b'T' && b.get(n) == Some(&b' '))
}

fn skip_pri(b: &[u8]) -> &[u8] {
    if b.first() == Some(&b'<')
        && let Some(end) = b.iter().take(5).position(|&c| c == b'>')
        && end > 1
        && b[1..end].iter().all(u8::is_ascii_digit)
    {
        return &b[end + 1..];
    }
    b
}

/// A parsed syslog header.
pub(crate) struct Header<'a> {
    pub timestamp: Timestamp,
    pub time_text: &'a str,
    pub host: Option<&'a str>,
    pub program: Option<&'a str>,
    pub pid: Option<u32>,
    pub msgid: Option<&'a str>,
    pub structured_data: Option<&'a str>,
    pub message: &'a str,
}

pub(crate) enum HeaderError<'a> {
    NotSyslog,
    BadTime(&'a str),
}

/// Parses the header of a syslog line in any of the three forms.
pub(crate) fn parse_header<'a>(text: &'a str, line: &Line, cx: &mut Cx) -> Result<Header<'a>, HeaderError<'a>> {
    let start = text.len() - skip_pri(text.as_bytes()).len();
    let s = &text[start..];
    let b = s.as_bytes();
    if b.starts_with(b"1 ") {
        return rfc5424(&s[2..], cx);
    }
    let (timestamp, time_len) = if let Some((month, day, (h, m, sec), nanos, n)) = time::syslog_time(b) {
        let year = cx.year_for(month, day, line);
        let c = Civil {
            year,
            month,
            day,
            hour: h,
            minute: m,
            second: sec,
            nanos,
        };
        match cx.local_time(c) {
            Ok(ts) => (ts, n),
            Err(_) => return Err(HeaderError::BadTime(&s[..n])),
        }
    } else if let Some((c, off, n)) = time::iso8601(b) {
        let ts = match off {
            Some(off) => c.at_offset(off),
            None => cx.local_time(c),
        };
        match ts {
            Ok(ts) => (ts, n),
            Err(_) => return Err(HeaderError::BadTime(&s[..n])),
        }
    } else {
        return Err(HeaderError::NotSyslog);
    };
    if b.get(time_len) != Some(&b' ') {
        return Err(HeaderError::NotSyslog);
    }
    let time_text = &s[..time_len];
    let rest = s[time_len + 1..].trim_start_matches(' ');
    let (host, program, pid, message) = host_tag_message(rest);
    Ok(Header {
        timestamp,
        time_text,
        host,
        program,
        pid,
        msgid: None,
        structured_data: None,
        message,
    })
}

/// Splits `host prog[pid]: message` as Filebeat's grok does: the host is the first token if
/// it is a host name; the tag is everything up to the first `": "` (it may contain spaces,
/// as macOS's `Google Chrome[85294]:` does) with an optional `[pid]`. Without a host and a
/// tag the whole rest is the message — except for a first token that is itself a tag.
fn host_tag_message(rest: &str) -> (Option<&str>, Option<&str>, Option<u32>, &str) {
    let (t1, after1) = token(rest);
    if let Some((prog, pid)) = t1.strip_suffix(':').and_then(tag) {
        let msg = &rest[t1.len()..];
        return (None, Some(prog), pid, msg.strip_prefix(' ').unwrap_or(msg));
    }
    if !is_hostname(t1) {
        return (None, None, None, rest);
    }
    let end = match crate::scan::find(after1, ": ") {
        Some(p) => Some((p, p + 2)),
        None => after1.ends_with(':').then(|| (after1.len() - 1, after1.len())),
    };
    match end
        .filter(|(p, _)| *p <= MAX_TAG)
        .and_then(|(p, m)| Some((tag(&after1[..p])?, m)))
    {
        Some(((prog, pid), m)) => (Some(t1), Some(prog), pid, &after1[m..]),
        None => (Some(t1), None, None, after1),
    }
}

/// Longest tag accepted.
const MAX_TAG: usize = 256;

/// `prog` or `prog[pid]` → program and pid.
fn tag(t: &str) -> Option<(&str, Option<u32>)> {
    if t.is_empty() || t.len() > MAX_TAG || t.starts_with(' ') {
        return None;
    }
    if let Some(inner) = t.strip_suffix(']')
        && let Some((prog, pid)) = inner.rsplit_once('[')
        && let (false, Some(pid)) = (prog.is_empty(), parse_u32(pid))
    {
        return Some((prog, Some(pid)));
    }
    Some((t, None))
}

fn is_hostname(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':'))
}

fn rfc5424<'a>(s: &'a str, cx: &mut Cx) -> Result<Header<'a>, HeaderError<'a>> {
    let (ts_text, rest) = token(s);
    let timestamp = if ts_text == "-" {
        return Err(HeaderError::BadTime(ts_text));
    } else {
        match time::iso8601(ts_text.as_bytes()) {
            Some((c, off, n)) if n == ts_text.len() => match off {
                Some(off) => c.at_offset(off),
                None => cx.local_time(c),
            }
            .map_err(|_| HeaderError::BadTime(ts_text))?,
            _ => return Err(HeaderError::NotSyslog),
        }
    };
    let nil = |t: &'a str| (t != "-").then_some(t);
    let (host, rest) = token(rest);
    let (app, rest) = token(rest);
    let (procid, rest) = token(rest);
    let (msgid, rest) = token(rest);
    let (sd, message) = structured_data(rest);
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Ok(Header {
        timestamp,
        time_text: ts_text,
        host: nil(host),
        program: nil(app),
        pid: nil(procid).and_then(parse_u32),
        msgid: nil(msgid),
        structured_data: sd,
        message,
    })
}

/// Splits RFC 5424 structured data (`-` or `[id k="v"]…`) from the message.
fn structured_data(s: &str) -> (Option<&str>, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        return (None, rest.strip_prefix(' ').unwrap_or(rest));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quote = false;
        i += 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 1,
                b'"' => in_quote = !in_quote,
                b']' if !in_quote => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    let i = i.min(b.len());
    if i == 0 {
        return (None, s);
    }
    let rest = &s[i..];
    (Some(&s[..i]), rest.strip_prefix(' ').unwrap_or(rest))
}

/// Syslog line parser; holds the last event for continuation lines.
#[derive(Default)]
pub(crate) struct SyslogParser {
    pending: Option<Event>,
    pending_full: bool,
}

impl SyslogParser {
    fn flush(&mut self, cx: &mut Cx) {
        if let Some(ev) = self.pending.take() {
            cx.emit(ev);
        }
    }
}

impl LineFormat for SyslogParser {
    fn line(&mut self, line: &Line, cx: &mut Cx) {
        let text = line.text;
        if text.starts_with([' ', '\t'])
            && let Some(ev) = &mut self.pending
        {
            extend_to(ev, line);
            if !append_bounded(&mut ev.message, text, cx.common.max_event_bytes) && !self.pending_full {
                self.pending_full = true;
                cx.note(line, DiagnosticCode::EventTooLarge, || {
                    "multi-line message cut at the event size limit".into()
                });
            }
            return;
        }
        self.flush(cx);
        match parse_header(text, line, cx) {
            Ok(h) => {
                let ev = build(h, Format::Syslog, line, cx);
                self.pending = Some(ev);
                self.pending_full = false;
            }
            Err(HeaderError::BadTime(t)) => cx.bad_time(line, t),
            Err(HeaderError::NotSyslog) => cx.skip(line, DiagnosticCode::UnparsedLine, || "not a syslog line".into()),
        }
    }

    fn finish(&mut self, cx: &mut Cx) {
        self.flush(cx);
    }
}

/// Builds the event of a syslog header and applies auth semantics.
pub(crate) fn build(h: Header, format: Format, line: &Line, cx: &mut Cx) -> Event {
    let mut ev = cx.event(h.timestamp, h.time_text, EventKind::Other, format, line.provenance());
    if let Some(host) = h.host {
        ev.host = Some(cx.host(host));
    }
    if let Some(p) = h.program {
        ev.process = Some(cx.program(p));
    }
    ev.pid = h.pid;
    ev.message = h.message.to_string();
    if let Some(m) = h.msgid {
        ev.push_attribute("msgid", m);
    }
    if let Some(sd) = h.structured_data {
        ev.push_attribute("structured_data", sd);
    }
    auth::enrich(&mut ev, h.program.unwrap_or(""), h.message);
    ev
}

#[cfg(test)]
mod tests {
    use crate::{Format, ParseOptions, parse_all};

    fn parse(text: &str) -> crate::ParseOutput {
        parse_all(
            text.as_bytes(),
            &ParseOptions::new("t").year(2017).format(Format::Syslog),
        )
    }

    #[test]
    fn three_header_forms() {
        let out = parse(
            "Feb  9 21:19:40 precise32 sshd[8317]: subsystem request for sftp by user vagrant\n\
             2018-08-14T14:30:02.203151+02:00 linux-sqrz systemd[4179]: Stopped target Paths.\n\
             <34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App]\"] 'su root' failed for lonvick on /dev/pts/8\n\
             Apr 4 03:39:57 --- last message repeated 1 time ---\n",
        );
        assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
        let e = &out.events;
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].timestamp.to_string(), "2017-02-09T21:19:40Z");
        assert_eq!(e[0].host.as_deref(), Some("precise32"));
        assert_eq!((e[0].process.as_deref(), e[0].pid), (Some("sshd"), Some(8317)));
        assert_eq!(e[1].timestamp.to_string(), "2018-08-14T12:30:02.203151Z");
        assert_eq!(e[2].host.as_deref(), Some("mymachine.example.com"));
        assert_eq!(e[2].process.as_deref(), Some("su"));
        assert_eq!(e[2].message, "'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(e[2].attribute("msgid"), Some("ID47"));
        assert_eq!(e[3].host, None);
        assert_eq!(e[3].message, "--- last message repeated 1 time ---");
    }

    #[test]
    fn continuation_lines_and_rollover() {
        let out = parse("Dec 31 23:59:59 h app[1]: first\n\tsecond\n  third\nJan  1 00:00:01 h app[1]: next year\n");
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.events[0].message, "first\n\tsecond\n  third");
        assert_eq!(out.events[0].provenance.byte_len, 47);
        assert_eq!(out.events[1].timestamp.to_string(), "2018-01-01T00:00:01Z");
    }

    #[test]
    fn impossible_date_is_a_diagnostic() {
        let out = parse("Feb 30 10:00:00 h app: x\nFeb 28 10:00:00 h app: y\n");
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.skipped, 1);
        assert_eq!(out.diagnostics[0].code, crate::DiagnosticCode::InvalidTimestamp);
        assert_eq!(out.diagnostics[0].line, 1);
    }

    #[test]
    fn zone_hint_applies_to_local_times() {
        let opts = ParseOptions::new("t").year(2017).tz_name("Europe/Berlin").unwrap();
        let out = parse_all(b"Jul 31 13:36:42 h app: x\n", &opts);
        assert_eq!(out.events[0].timestamp.to_string(), "2017-07-31T11:36:42Z");
    }
}
