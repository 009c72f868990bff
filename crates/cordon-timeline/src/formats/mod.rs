//! The per-format parsers (one module each) and what they share: the line they are handed,
//! the parse context (settings, time zone and year state, output, diagnostics) and the two
//! parser traits — line formats and JSON record formats.

pub(crate) mod access;
pub(crate) mod apache_error;
pub(crate) mod auditd;
pub(crate) mod auth;
pub(crate) mod cloudtrail;
pub(crate) mod csv;
pub(crate) mod journald;
pub(crate) mod jsonl;
pub(crate) mod mysql_general;
pub(crate) mod mysql_slow;
pub(crate) mod nginx_error;
pub(crate) mod postgres;
pub(crate) mod syslog;
pub(crate) mod text;

use std::sync::Arc;

use jiff::Timestamp;

use crate::diag::{DiagLog, DiagnosticCode};
use crate::event::{Event, EventKind, Provenance};
use crate::format::Format;
use crate::time::{Civil, TimeError, YearGuess, YearSource, Zone};

/// One input line handed to a line format (without its line terminator).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Line<'a> {
    pub text: &'a str,
    /// 1-based line number.
    pub number: u64,
    /// Offset of the line's first byte.
    pub offset: u64,
    /// Length of the line in the input (more than `text.len()` if it was cut off or had a CR).
    pub len: u64,
}

impl Line<'_> {
    pub(crate) fn provenance(&self) -> Provenance {
        Provenance {
            line: self.number,
            byte_offset: self.offset,
            byte_len: self.len,
        }
    }

    /// Offset one past the line's last byte.
    pub(crate) fn end(&self) -> u64 {
        self.offset + self.len
    }
}

/// Settings and state shared by every format for one parse.
#[derive(Debug)]
pub(crate) struct Common {
    pub source: Arc<str>,
    pub host_hint: Option<Arc<str>>,
    pub zone: Zone,
    pub year: YearGuess,
    /// Limit for a multi-line event's text.
    pub max_event_bytes: usize,
    year_warned: bool,
    year_pulled_back: bool,
    hosts: Interner,
    programs: Interner,
}

impl Common {
    pub(crate) fn new(
        source: Arc<str>,
        host_hint: Option<Arc<str>>,
        zone: Zone,
        year: YearGuess,
        max_event_bytes: usize,
    ) -> Common {
        Common {
            source,
            host_hint,
            zone,
            year,
            max_event_bytes,
            year_warned: false,
            year_pulled_back: false,
            hosts: Interner::default(),
            programs: Interner::default(),
        }
    }
}

/// What a format parser works with while handling one line or record.
pub(crate) struct Cx<'a> {
    pub common: &'a mut Common,
    pub out: &'a mut Vec<Event>,
    pub diags: &'a mut DiagLog,
}

impl Cx<'_> {
    /// A new event with the source name and provenance filled in.
    pub(crate) fn event(
        &self,
        timestamp: Timestamp,
        time_original: &str,
        kind: EventKind,
        format: Format,
        provenance: Provenance,
    ) -> Event {
        Event::new(
            timestamp,
            time_original.to_string(),
            kind,
            format,
            self.common.source.clone(),
            provenance,
        )
    }

    /// Emits an event, filling a missing host from the host hint.
    pub(crate) fn emit(&mut self, mut ev: Event) {
        if ev.host.is_none() {
            ev.host.clone_from(&self.common.host_hint);
        }
        self.out.push(ev);
    }

    /// An interned host name.
    pub(crate) fn host(&mut self, name: &str) -> Arc<str> {
        self.common.hosts.get(name)
    }

    /// An interned program name.
    pub(crate) fn program(&mut self, name: &str) -> Arc<str> {
        self.common.programs.get(name)
    }

    /// Records that `lines` lines starting at `line` produced no event.
    pub(crate) fn skip(&mut self, line: &Line, code: DiagnosticCode, message: impl FnOnce() -> String) {
        self.diags.skip(line.number, line.offset, 1, code, message);
    }

    /// Records a diagnostic that does not skip anything.
    pub(crate) fn note(&mut self, line: &Line, code: DiagnosticCode, message: impl FnOnce() -> String) {
        self.diags.note(line.number, line.offset, code, message);
    }

    /// A civil time without offset read in the zone hint (UTC by default).
    pub(crate) fn local_time(&mut self, c: Civil) -> Result<Timestamp, TimeError> {
        self.common.zone.resolve(c)
    }

    /// The year for a year-less time on `month`/`day`. Says once how the year was found when
    /// it was not given (guessed from the ingest time, with the hint to give it; or assumed),
    /// and once when a line had to be put a year earlier so as not to lie in the future.
    pub(crate) fn year_for(&mut self, month: u8, day: u8, line: &Line) -> i32 {
        let (year, source) = self.common.year.year_for(month, day);
        let latest = self.common.year.latest();
        match source {
            YearSource::Hint => {}
            YearSource::Assumed if !self.common.year_warned => {
                self.common.year_warned = true;
                self.note(line, DiagnosticCode::YearAssumed, || {
                    "timestamps carry no year and neither a year hint nor a reference time was given; 1970 assumed; give the year with --year YYYY (API: year=YYYY)"
                        .to_string()
                });
            }
            YearSource::Guessed if !self.common.year_warned => {
                self.common.year_warned = true;
                self.note(line, DiagnosticCode::YearGuessed, || {
                    let before = latest.map_or_else(String::new, |(y, m, d)| {
                        format!(", the latest year that does not put it after the ingest time (until {y:04}-{m:02}-{d:02})")
                    });
                    format!(
                        "timestamps carry no year: {year} was guessed for this line{before}; if the log is from another year, give it with --year YYYY (API: year=YYYY)"
                    )
                });
            }
            YearSource::PulledBack if !self.common.year_pulled_back => {
                self.common.year_pulled_back = true;
                self.note(line, DiagnosticCode::YearGuessed, || {
                    format!(
                        "this line would fall after the ingest time, so it was dated {year}, a year earlier than the lines before it; give the year with --year YYYY (API: year=YYYY) if that is wrong"
                    )
                });
            }
            _ => {}
        }
        year
    }

    /// Skips a line whose time is impossible.
    pub(crate) fn bad_time(&mut self, line: &Line, time_text: &str) {
        let t = crate::scan::truncate_str(time_text, 64).to_string();
        self.skip(line, DiagnosticCode::InvalidTimestamp, || {
            format!("impossible date or time {t:?}")
        });
    }
}

/// A parser for a line-oriented format. It may hold back an event until it knows the event
/// is complete (multi-line formats), and must emit what it holds in `finish`.
pub(crate) trait LineFormat: Send {
    fn line(&mut self, line: &Line, cx: &mut Cx);
    fn finish(&mut self, cx: &mut Cx);
    /// Whether blank lines are passed on (they can belong to a multi-line statement or a
    /// quoted CSV field); otherwise they are dropped before the parser sees them.
    fn wants_blank_lines(&self) -> bool {
        false
    }
}

/// The line parser for a line format.
pub(crate) fn line_parser(format: Format) -> Box<dyn LineFormat> {
    match format {
        Format::Syslog => Box::new(syslog::SyslogParser::default()),
        Format::Auditd => Box::new(auditd::AuditdParser::default()),
        Format::AccessLog => Box::new(access::AccessParser),
        Format::NginxError => Box::new(nginx_error::NginxErrorParser),
        Format::ApacheError => Box::new(apache_error::ApacheErrorParser),
        Format::Postgres => Box::new(postgres::PostgresParser::default()),
        Format::MysqlGeneral => Box::new(mysql_general::MysqlGeneralParser::default()),
        Format::MysqlSlow => Box::new(mysql_slow::MysqlSlowParser::default()),
        Format::TimesketchCsv => Box::new(csv::CsvParser::default()),
        // JSON formats never reach the line path; `Text` is the fallback.
        Format::Journald | Format::CloudTrail | Format::JsonLines | Format::Text => {
            Box::new(text::TextParser::default())
        }
    }
}

/// A small cache that hands out shared copies of recently seen strings (host and program
/// names repeat on almost every line).
#[derive(Debug, Default)]
struct Interner {
    slots: Vec<Arc<str>>,
    next: usize,
}

impl Interner {
    const SLOTS: usize = 16;

    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.slots.iter().find(|a| a.as_ref() == s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        if self.slots.len() < Self::SLOTS {
            self.slots.push(a.clone());
        } else {
            self.slots[self.next] = a.clone();
            self.next = (self.next + 1) % Self::SLOTS;
        }
        a
    }
}

/// Appends a continuation line to a held multi-line event's text, up to the event limit.
/// Returns false (and notes it once per event) when the limit cut the line.
pub(crate) fn append_bounded(target: &mut String, text: &str, limit: usize) -> bool {
    if target.len() + 1 + text.len() > limit {
        let room = limit.saturating_sub(target.len() + 1);
        if room > 0 {
            target.push('\n');
            target.push_str(crate::scan::truncate_str(text, room));
        }
        return false;
    }
    target.push('\n');
    target.push_str(text);
    true
}

/// Extends a held event's provenance to the end of `line`.
pub(crate) fn extend_to(ev: &mut Event, line: &Line) {
    ev.provenance.byte_len = line.end().saturating_sub(ev.provenance.byte_offset);
}
