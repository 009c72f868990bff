//! Fallback for unknown line formats: a line that starts with a recognisable timestamp (ISO
//! 8601, optionally in brackets; BSD syslog; Apache `[dd/Mon/yyyy:…]`) becomes an `other`
//! event whose message is the rest of the line; lines without one continue the previous event.

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
    } else if let Some((month, day, (h, m, s), nanos, n)) = time::syslog_time(inner) {
        let year = cx.year_for(month, line);
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
