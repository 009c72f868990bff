//! Parse options: format (or auto-detection), source name, host hint, year and zone hints,
//! the reference instant for year inference, and the size limits. Built at the edge from
//! user input (`format=`, `name=`, `host=`, `year=`, `tz=`); invalid names are rejected here.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::error::Error;
use crate::format::Format;

/// Default limit of a line (and of a JSON record, CSV row or multi-line event): 1 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
/// Default number of diagnostics kept (all are counted).
pub const DEFAULT_MAX_DIAGNOSTICS: usize = 1000;

/// How to parse one source.
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// The format, or `None` to detect it from the first lines.
    pub format: Option<Format>,
    /// The source name stamped on every event (usually the file name).
    pub source: String,
    /// Host for events whose log does not name one (access logs, database logs).
    pub host: Option<String>,
    /// Year of the first year-less (RFC 3164) timestamp; later ones roll over Dec → Jan. Taken
    /// as given: never pulled back, even into the future.
    pub year: Option<i32>,
    /// Zone of timestamps logged without an offset. Default UTC.
    pub tz: Option<TimeZone>,
    /// Reference instant (read once at the edge, the ingest time) used to infer the year of
    /// year-less timestamps when no year hint is given, as syslog readers do: the latest year
    /// that does not put a line more than a day after it (a later line that would is put a
    /// year earlier). The guess is reported (`year_guessed`, with the hint to pass `year`).
    /// Without either, 1970 is assumed and reported.
    pub now: Option<Timestamp>,
    /// Limit of one line, JSON record, CSV row or multi-line event, in bytes.
    pub max_line_bytes: usize,
    /// Diagnostics kept in the summary (all are counted).
    pub max_diagnostics: usize,
    /// Most bytes a gzip input may inflate to per compressed byte, once more than
    /// [`GZIP_RATIO_GRACE`] bytes were inflated; `None`: no limit. Past it the parser stops
    /// and [`crate::Parser::refusal`] says why.
    pub max_gzip_ratio: Option<u64>,
}

/// Inflated bytes a gzip input may always produce, whatever its ratio: a small, very
/// repetitive log passes; a bomb is stopped after this much.
pub const GZIP_RATIO_GRACE: u64 = 16 << 20;

/// Default [`ParseOptions::max_gzip_ratio`]: real logs compress 10–30×, very repetitive ones
/// rarely beyond 100×; deflate's own ceiling is about 1032×.
pub const DEFAULT_MAX_GZIP_RATIO: u64 = 200;

impl ParseOptions {
    /// Options with auto-detection, no hints and the default limits.
    pub fn new(source: impl Into<String>) -> ParseOptions {
        ParseOptions {
            format: None,
            source: source.into(),
            host: None,
            year: None,
            tz: None,
            now: None,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_diagnostics: DEFAULT_MAX_DIAGNOSTICS,
            max_gzip_ratio: Some(DEFAULT_MAX_GZIP_RATIO),
        }
    }

    /// Forces a format.
    pub fn format(mut self, format: Format) -> ParseOptions {
        self.format = Some(format);
        self
    }

    /// Sets the format by name; `auto` (or an empty name) means detection.
    pub fn format_name(mut self, name: &str) -> Result<ParseOptions, Error> {
        let n = name.trim();
        self.format = if n.is_empty() || n.eq_ignore_ascii_case("auto") {
            None
        } else {
            Some(Format::from_name(n).ok_or_else(|| Error::UnknownFormat(name.to_string()))?)
        };
        Ok(self)
    }

    /// Sets the host hint.
    pub fn host(mut self, host: impl Into<String>) -> ParseOptions {
        self.host = Some(host.into());
        self
    }

    /// Sets the year hint (1..=9999).
    pub fn year(mut self, year: i32) -> ParseOptions {
        self.year = Some(year);
        self
    }

    /// Sets the zone hint.
    pub fn tz(mut self, tz: TimeZone) -> ParseOptions {
        self.tz = Some(tz);
        self
    }

    /// Sets the zone hint by name: `UTC`, a numeric offset (`+02:00`, `-0500`) or an IANA
    /// name (`Europe/Berlin`).
    pub fn tz_name(self, name: &str) -> Result<ParseOptions, Error> {
        let tz = crate::time::parse_zone_name(name).ok_or_else(|| Error::UnknownTimeZone(name.to_string()))?;
        Ok(self.tz(tz))
    }

    /// Sets the reference instant for year inference.
    pub fn now(mut self, now: Timestamp) -> ParseOptions {
        self.now = Some(now);
        self
    }

    /// Sets the line/record limit in bytes.
    pub fn max_line_bytes(mut self, max: usize) -> ParseOptions {
        self.max_line_bytes = max.max(64);
        self
    }

    /// Checks values that the builder methods cannot (a year hint out of range).
    pub fn validate(&self) -> Result<(), Error> {
        match self.year {
            Some(y) if !(1..=9999).contains(&y) => Err(Error::YearOutOfRange(y)),
            _ => Ok(()),
        }
    }
}
