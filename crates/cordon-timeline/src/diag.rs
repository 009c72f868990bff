//! Diagnostics: what the parser could not use, with the line number and byte offset, and
//! the bounded log that keeps the first ones and counts the rest.

use serde::{Deserialize, Serialize};

/// Stable machine codes of diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticCode {
    /// The line does not have the shape of the format; it was skipped.
    UnparsedLine,
    /// The line holds binary data (NUL or many control bytes); it was skipped.
    BinaryData,
    /// The line was not valid UTF-8; bad bytes were replaced with U+FFFD and it was parsed.
    InvalidUtf8,
    /// The line was longer than the limit; it was cut off there and parsed as cut.
    LineTooLong,
    /// The time could not be a real instant (e.g. February 30); the line was skipped.
    InvalidTimestamp,
    /// No known format matched the first lines; lines starting with a timestamp are kept as
    /// generic text events.
    UnknownFormat,
    /// A year-less syslog time was read without a year hint or reference instant (1970 assumed).
    YearAssumed,
    /// A year-less syslog time was given a year guessed from the ingest time (never one that
    /// puts it in the future); the message says which and how to give the year instead.
    YearGuessed,
    /// The gzip stream is corrupt or truncated; the rest of the input was not read.
    CorruptGzip,
    /// A JSON record, CSV row or multi-line record is malformed; it was skipped.
    MalformedRecord,
    /// A record was larger than the limit; it was skipped.
    RecordTooLarge,
    /// A multi-line event grew past the limit; its further lines were dropped.
    EventTooLarge,
}

impl DiagnosticCode {
    /// The stable snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticCode::UnparsedLine => "unparsed_line",
            DiagnosticCode::BinaryData => "binary_data",
            DiagnosticCode::InvalidUtf8 => "invalid_utf8",
            DiagnosticCode::LineTooLong => "line_too_long",
            DiagnosticCode::InvalidTimestamp => "invalid_timestamp",
            DiagnosticCode::UnknownFormat => "unknown_format",
            DiagnosticCode::YearAssumed => "year_assumed",
            DiagnosticCode::YearGuessed => "year_guessed",
            DiagnosticCode::CorruptGzip => "corrupt_gzip",
            DiagnosticCode::MalformedRecord => "malformed_record",
            DiagnosticCode::RecordTooLarge => "record_too_large",
            DiagnosticCode::EventTooLarge => "event_too_large",
        }
    }
}

impl std::fmt::Display for DiagnosticCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with the input, located by line and byte offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// 1-based line number (0 for problems not tied to a line).
    pub line: u64,
    /// Byte offset of the line's first byte in the decompressed input.
    pub byte_offset: u64,
    pub code: DiagnosticCode,
    pub message: String,
}

/// Keeps the first `max` diagnostics, counts all of them and the skipped lines.
#[derive(Debug)]
pub(crate) struct DiagLog {
    kept: Vec<Diagnostic>,
    max: usize,
    total: u64,
    skipped: u64,
    /// Highest line already counted as skipped (a line is counted once even if it holds
    /// several bad records).
    skipped_through: u64,
}

impl DiagLog {
    pub(crate) fn new(max: usize) -> DiagLog {
        DiagLog {
            kept: Vec::new(),
            max,
            total: 0,
            skipped: 0,
            skipped_through: 0,
        }
    }

    /// Records a diagnostic.
    pub(crate) fn note(&mut self, line: u64, byte_offset: u64, code: DiagnosticCode, message: impl FnOnce() -> String) {
        self.total += 1;
        if self.kept.len() < self.max {
            self.kept.push(Diagnostic {
                line,
                byte_offset,
                code,
                message: message(),
            });
        }
    }

    /// Records a diagnostic for `lines` input lines that produced no event.
    pub(crate) fn skip(
        &mut self,
        line: u64,
        byte_offset: u64,
        lines: u64,
        code: DiagnosticCode,
        message: impl FnOnce() -> String,
    ) {
        let end = line + lines.max(1) - 1;
        let from = line.max(self.skipped_through + 1);
        if end >= from {
            self.skipped += end - from + 1;
            self.skipped_through = end;
        }
        self.note(line, byte_offset, code, message);
    }

    pub(crate) fn kept(&self) -> &[Diagnostic] {
        &self.kept
    }

    pub(crate) fn take_kept(&mut self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.kept)
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    pub(crate) fn skipped(&self) -> u64 {
        self.skipped
    }
}
