//! Log parsers: raw log bytes in, normalized timeline events and line diagnostics out.
//!
//! The parsers are pure: no IO, no clock reads. The server hands them the bytes of an
//! uploaded log (in chunks, as they arrive) and receives [`Event`]s as soon as each is
//! complete, plus [`Diagnostic`]s for what could not be used. The [`index`] module (the one
//! part that does IO) stores those events in a per-incident tantivy index and answers the
//! timeline's queries: filters, time order with a cursor, histogram, facets, export.
//!
//! # API
//!
//! - [`ParseOptions`]: format ([`Format`], or `None` to detect), source name, host hint,
//!   `year` and `tz` hints for times logged without them, the reference instant `now`, limits.
//! - [`Parser`]: `Parser::new(opts)`, then [`Parser::feed`]`(chunk, &mut out)` any number of
//!   times and [`Parser::finish`]`(&mut out)`, which returns a [`ParseSummary`] (format, lines,
//!   events, skipped lines, first diagnostics). [`Parser::progress`] gives counters meanwhile.
//! - [`parse_all`]: the whole input at once → [`ParseOutput`].
//! - [`Event`]: OCSF-style event ([`EventKind`], [`Outcome`], [`HttpFields`], [`Provenance`]);
//!   [`Event::ips`] (every IP in the event), [`Event::users`] (every account),
//!   [`Event::indicators`] (IPs, domains, URLs, e-mails, hashes), [`Event::text_fields`].
//! - [`extract_indicators`] for any text; [`detect_lines`] for format detection alone.
//!
//! ```
//! use cordon_timeline::{Parser, ParseOptions};
//!
//! let mut parser = Parser::new(ParseOptions::new("auth.log").year(2024).host("web1"));
//! let mut events = Vec::new();
//! for chunk in [&b"Mar  1 10:00:00 web1 sshd[7]: Failed password for root from 203.0.113.9 port 4"[..],
//!               &b"2 ssh2\nnot a log line\n"[..]] {
//!     parser.feed(chunk, &mut events);
//!     // hand `events` to the index here and clear it: memory stays bounded
//! }
//! let summary = parser.finish(&mut events);
//! assert_eq!((summary.events, summary.skipped), (1, 1));
//! assert_eq!(events[0].user.as_deref(), Some("root"));
//! assert_eq!(events[0].ips()[0].to_string(), "203.0.113.9");
//! ```
//!
//! # Guarantees
//!
//! - Parsing never fails wholesale and never panics: a bad line (binary, truncated, invalid
//!   UTF-8, impossible date, unknown shape) is a diagnostic with its line number and byte
//!   offset, and the rest of the input is still read.
//! - Memory is bounded: lines, JSON records, CSV rows and multi-line events are cut or skipped
//!   at [`ParseOptions::max_line_bytes`] (1 MiB by default); gzip is inflated in small steps.
//! - Events carry their provenance: line number, byte offset and length in the decompressed
//!   input, so each points back at the exact bytes it came from.
//! - Events are emitted in input order, except merged auditd records, which are emitted when
//!   their group completes.

mod diag;
mod error;
mod event;
mod format;
mod formats;
pub mod index;
mod indicators;
mod json_stream;
mod limits;
mod lines;
mod options;
mod parser;
mod scan;
mod time;

pub use diag::{Diagnostic, DiagnosticCode};
pub use error::Error;
pub use event::{ACCOUNT_ATTRIBUTES, Event, EventKind, HttpFields, Outcome, Provenance};
pub use format::{Format, detect_lines};
pub use indicators::{Indicator, extract_indicators, extract_indicators_into};
pub use limits::{DEFAULT_DISK_QUOTA, DEFAULT_INGEST_MEMORY, IngestLimits, MIN_INGEST_MEMORY, Refusal};
pub use options::{
    DEFAULT_MAX_DIAGNOSTICS, DEFAULT_MAX_GZIP_RATIO, DEFAULT_MAX_LINE_BYTES, GZIP_RATIO_GRACE, ParseOptions,
};
pub use parser::{ParseSummary, Parser, Progress};

/// The result of [`parse_all`].
#[derive(Clone, Debug, PartialEq)]
pub struct ParseOutput {
    pub events: Vec<Event>,
    /// The first diagnostics (see [`ParseOptions::max_diagnostics`]).
    pub diagnostics: Vec<Diagnostic>,
    /// How many diagnostics there were in all.
    pub diagnostics_total: u64,
    pub lines: u64,
    /// Lines that produced no event and were reported.
    pub skipped: u64,
    /// The format used; `None` only for empty input.
    pub format: Option<Format>,
}

/// Parses a whole input held in memory (plain or gzip).
pub fn parse_all(input: &[u8], opts: &ParseOptions) -> ParseOutput {
    let mut parser = Parser::new(opts.clone());
    let mut events = Vec::new();
    parser.feed(input, &mut events);
    let s = parser.finish(&mut events);
    ParseOutput {
        events,
        diagnostics: s.diagnostics,
        diagnostics_total: s.diagnostics_total,
        lines: s.lines,
        skipped: s.skipped,
        format: s.format,
    }
}
