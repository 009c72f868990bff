//! Fallback for unknown line formats: a line that starts with a recognisable timestamp, bare
//! or in brackets — ISO 8601-like (`2024-03-01 12:00:00,123`, `2024-03-01T12:00:00Z`,
//! `2024/03/01 12:00:00`), BSD syslog (`Mar  1 12:00:00`), the access log's
//! `10/Oct/2000:13:55:36 -0700` and the C `ctime` form Apache's error log writes
//! (`Sun Dec 04 04:47:44 2005`) — becomes an `other` event whose message is the rest of the
//! line; lines without one continue the previous event.

use super::{Cx, Line, LineFormat, append_bounded, extend_to};
use crate::diag::DiagnosticCode;
use crate::event::{Event, EventKind};
use crate::format::Format;
use crate::time::{self, Civil, TimeError};

/// The text parser; holds the last event for continuation lines.
#[derive(Default)]
pub(crate) struct TextParser {
    pending: Option<Event>,
}

enum Stamp {
    Local(Civil),
    Fixed(Civil, i32),
}

fn leading_time(t: &str, line: &Line, cx: &mut Cx) -> Option<(Result<jiff::Timestamp, TimeError>, usize)> {
    let b = t.as_bytes();
    let (open, inner) = if b.first() == Some(&b'[') { (1, &b[1..]) } else { (0, b) };
    let (stamp, used) = if let Some((c, off, n)) = time::iso8601(inner) {
        (off.map_or(Stamp::Local(c), |o| Stamp::Fixed(c, o)), n)
    } else if let Some((c, off, n)) = time::clf_time(inner) {
        (off.map_or(Stamp::Local(c), |o| Stamp::Fixed(c, o)), n)
    } else if let Some((c, n)) = time::ctime(inner) {
        (Stamp::Local(c), n)
    } else if let Some((month, day, (h, m, s), nanos, n)) = time::syslog_time(inner) {
        let year = cx.year_for(month, day, line);
        (
            Stamp::Local(Civil {
                year,
                month,
                day,
                hour: h,
                minute: m,
                second: s,
                nanos,
            }),
            n,
        )
    } else {
        return None;
    };
    let mut end = open + used;
    if open == 1 {
        if b.get(end) != Some(&b']') {
            return None;
        }
        end += 1;
    }
    let ts = match stamp {
        Stamp::Local(c) => cx.local_time(c),
        Stamp::Fixed(c, o) => c.at_offset(o),
    };
    Some((ts, end))
}

impl LineFormat for TextParser {
    fn line(&mut self, line: &Line, cx: &mut Cx) {
        let t = line.text;
        match leading_time(t, line, cx) {
            Some((Ok(ts), end)) => {
                if let Some(ev) = self.pending.take() {
                    cx.emit(ev);
                }
                let time_text = &t[..end];
                let mut ev = cx.event(ts, time_text, EventKind::Other, Format::Text, line.provenance());
                ev.message = t[end..].trim_start().to_string();
                self.pending = Some(ev);
            }
            Some((Err(_), end)) => cx.bad_time(line, &t[..end]),
            None => match &mut self.pending {
                Some(ev) => {
                    extend_to(ev, line);
                    append_bounded(&mut ev.message, t, cx.common.max_event_bytes);
                }
                None => cx.skip(line, DiagnosticCode::UnparsedLine, || {
                    "no timestamp at the start of the line".into()
                }),
            },
        }
    }

    fn finish(&mut self, cx: &mut Cx) {
        if let Some(ev) = self.pending.take() {
            cx.emit(ev);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Format, ParseOptions, parse_all};

    #[test]
    fn common_bracketed_and_iso_like_stamps_start_events() {
        let text = "[Sun Dec 04 04:47:44 2005] something odd happened\n\
                    [10/Oct/2000:13:55:36 -0700] a custom access line\n\
                    2024-03-01 12:00:00,123 INFO app started\n\
                    \tat com.example.Main(Main.java:1)\n\
                    2024-03-01T12:00:00Z plain ISO\n\
                    [2024-03-01T12:00:01.5+02:00] bracketed ISO\n";
        let out = parse_all(text.as_bytes(), &ParseOptions::new("app.log").format(Format::Text));
        assert_eq!(out.skipped, 0, "{:?}", out.diagnostics);
        let stamps: Vec<String> = out.events.iter().map(|e| e.timestamp.to_string()).collect();
        assert_eq!(
            stamps,
            [
                "2005-12-04T04:47:44Z",
                "2000-10-10T20:55:36Z",
                "2024-03-01T12:00:00.123Z",
                "2024-03-01T12:00:00Z",
                "2024-03-01T10:00:01.5Z",
            ]
        );
        assert_eq!(out.events[0].message, "something odd happened");
        assert!(
            out.events[2].message.contains("Main.java"),
            "a continuation line joins its event"
        );
    }
}
