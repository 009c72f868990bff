//! The streaming parser: bytes in, in chunks of any size; events out, as soon as they are
//! complete. It recognises gzip by its magic bytes and inflates while streaming, chooses
//! between the JSON path (records split by [`crate::json_stream`]) and the line path (lines
//! split by [`crate::lines`]), detects the line format from the first lines, screens each line
//! (cut-off, binary, invalid UTF-8) and hands it to the format's parser.
//!
//! Memory is bounded by the line limit, the detection sample (64 lines / 256 KiB), the
//! multi-line event being assembled, and the inflated data of one step. [`Parser::feed_each`]
//! hands the events on after every small step, so a chunk of a gzip that inflates a
//! thousandfold never sits in memory as events at once. A gzip input that inflates more than
//! [`ParseOptions::max_gzip_ratio`] times (past a grace of [`crate::GZIP_RATIO_GRACE`] bytes) is
//! not read further: [`Parser::refusal`] says so, and the caller refuses the whole source.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Arc;

use flate2::write::MultiGzDecoder;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diag::{DiagLog, Diagnostic, DiagnosticCode};
use crate::event::{Event, Provenance};
use crate::format::{Format, detect_lines};
use crate::formats::{self, Common, Cx, Line, LineFormat};
use crate::json_stream::JsonSplitter;
use crate::limits::Refusal;
use crate::lines::{LineSplitter, RawLine};
use crate::options::ParseOptions;
use crate::time::{YearGuess, Zone};

const SNIFF_LINES: usize = 64;
const SNIFF_BYTES: usize = 256 * 1024;
const HEAD_BYTES: usize = 64 * 1024;
/// Compressed bytes handed to the inflater per step (bounds the inflated output per step).
const GZIP_STEP: usize = 8 * 1024;
/// Input handed to the parser at once by [`Parser::feed_each`] before its events are drained:
/// compressed (at most ~2 MiB inflated at deflate's ceiling) and plain.
const EACH_GZIP: usize = 2 * 1024;
const EACH_PLAIN: usize = 64 * 1024;

/// Counters while parsing (for progress display).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Bytes fed so far (compressed, if the input is gzip).
    pub bytes_read: u64,
    /// Bytes after decompression.
    pub bytes_decoded: u64,
    pub lines: u64,
    pub events: u64,
    /// Lines that produced no event and were reported.
    pub skipped: u64,
    pub diagnostics: u64,
}

/// The outcome of a whole parse, returned by [`Parser::finish`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParseSummary {
    /// The format used; `None` only for empty input.
    pub format: Option<Format>,
    /// Whether the input was gzip.
    pub compressed: bool,
    pub bytes_read: u64,
    pub bytes_decoded: u64,
    pub lines: u64,
    pub events: u64,
    pub skipped: u64,
    /// The first diagnostics (up to [`ParseOptions::max_diagnostics`]).
    pub diagnostics: Vec<Diagnostic>,
    /// How many diagnostics there were in all.
    pub diagnostics_total: u64,
}

enum Input {
    Sniff(Vec<u8>),
    Plain,
    Gzip(Box<MultiGzDecoder<Vec<u8>>>),
    Broken,
}

enum Stage {
    Sniff { lines: Vec<OwnedLine>, bytes: usize },
    Run(Box<dyn LineFormat>),
}

struct OwnedLine {
    text: String,
    number: u64,
    offset: u64,
    len: u64,
}

enum Mode {
    Undecided(Vec<u8>),
    Lines { splitter: LineSplitter, stage: Stage },
    Json { splitter: JsonSplitter, refined: bool },
}

/// Everything the line and record handlers write to.
struct State {
    forced: Option<Format>,
    format: Option<Format>,
    common: Common,
    diags: DiagLog,
}

/// A streaming log parser for one source. See the crate documentation for an example.
pub struct Parser {
    state: State,
    input: Input,
    mode: Mode,
    max_line: usize,
    bytes_read: u64,
    bytes_decoded: u64,
    events: u64,
    compressed: bool,
    /// Compressed bytes the inflater consumed.
    gzip_in: u64,
    max_gzip_ratio: Option<u64>,
    refusal: Option<Refusal>,
}

impl std::fmt::Debug for Parser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parser")
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl Parser {
    /// A parser for one source. Out-of-range hints are ignored (check them first with
    /// [`ParseOptions::validate`]).
    pub fn new(opts: ParseOptions) -> Parser {
        let zone = Zone::from_tz(opts.tz.clone().unwrap_or(jiff::tz::TimeZone::UTC));
        let year = opts.year.filter(|y| (1..=9999).contains(y));
        let max_line = opts.max_line_bytes.max(64);
        let common = Common::new(
            Arc::from(opts.source.as_str()),
            opts.host.as_deref().map(Arc::from),
            zone,
            YearGuess::new(year, opts.now),
            max_line,
        );
        Parser {
            state: State {
                forced: opts.format,
                format: None,
                common,
                diags: DiagLog::new(opts.max_diagnostics),
            },
            input: Input::Sniff(Vec::new()),
            mode: Mode::Undecided(Vec::new()),
            max_line,
            bytes_read: 0,
            bytes_decoded: 0,
            events: 0,
            compressed: false,
            gzip_in: 0,
            max_gzip_ratio: opts.max_gzip_ratio,
            refusal: None,
        }
    }

    /// Why the input stopped being read, if it was refused (the events so far must be
    /// discarded with the whole source).
    pub fn refusal(&self) -> Option<Refusal> {
        self.refusal
    }

    /// Like [`Parser::feed`], but hands the events to `drain` after every small step (the
    /// caller indexes and clears them), so memory stays bounded however much a gzip chunk
    /// inflates. Stops early when `drain` fails or the input is refused.
    pub fn feed_each<E>(
        &mut self,
        chunk: &[u8],
        out: &mut Vec<Event>,
        drain: &mut dyn FnMut(&mut Vec<Event>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut rest = chunk;
        while !rest.is_empty() && self.refusal.is_none() {
            let step = if self.compressed || matches!(self.input, Input::Sniff(_)) {
                EACH_GZIP
            } else {
                EACH_PLAIN
            };
            let (now, later) = rest.split_at(rest.len().min(step));
            self.feed(now, out);
            drain(out)?;
            rest = later;
        }
        Ok(())
    }

    /// Parses the next chunk of input; complete events are appended to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Event>) {
        let before = out.len();
        self.bytes_read += chunk.len() as u64;
        match &mut self.input {
            Input::Sniff(buf) => {
                buf.extend_from_slice(chunk);
                if buf.len() >= 2 {
                    let buf = std::mem::take(buf);
                    self.start_input(&buf, out);
                }
            }
            Input::Plain => self.decoded(chunk, out),
            Input::Gzip(_) => self.gunzip(chunk, out),
            Input::Broken => {}
        }
        self.events += (out.len() - before) as u64;
    }

    fn start_input(&mut self, head: &[u8], out: &mut Vec<Event>) {
        if head.starts_with(&[0x1f, 0x8b]) {
            self.compressed = true;
            self.input = Input::Gzip(Box::new(MultiGzDecoder::new(Vec::new())));
            self.gunzip(head, out);
        } else {
            self.input = Input::Plain;
            self.decoded(head, out);
        }
    }

    fn gunzip(&mut self, data: &[u8], out: &mut Vec<Event>) {
        let mut rest = data;
        while !rest.is_empty() {
            let Input::Gzip(dec) = &mut self.input else {
                return;
            };
            let step = &rest[..rest.len().min(GZIP_STEP)];
            let result = dec.write(step);
            let inflated = std::mem::take(dec.get_mut());
            self.decoded(&inflated, out);
            if let Input::Gzip(dec) = &mut self.input {
                let mut buf = inflated;
                buf.clear();
                *dec.get_mut() = buf;
            }
            match result {
                Ok(n) if n > 0 => {
                    rest = &rest[n..];
                    self.gzip_in += n as u64;
                    if let Some(max) = self.max_gzip_ratio
                        && self.bytes_decoded > crate::options::GZIP_RATIO_GRACE
                        && self.bytes_decoded > max.saturating_mul(self.gzip_in)
                    {
                        self.refusal = Some(Refusal::GzipRatio {
                            ratio: self.bytes_decoded / self.gzip_in.max(1),
                            max,
                        });
                        self.input = Input::Broken;
                        return;
                    }
                }
                Ok(_) => return self.gzip_broken("gzip stream does not continue"),
                Err(e) => return self.gzip_broken(&e.to_string()),
            }
        }
    }

    fn gzip_broken(&mut self, why: &str) {
        self.input = Input::Broken;
        let (line, offset) = self.position();
        let why = why.to_string();
        self.state.diags.note(line, offset, DiagnosticCode::CorruptGzip, || {
            format!("corrupt gzip input, the rest was not read: {why}")
        });
    }

    fn position(&self) -> (u64, u64) {
        let lines = match &self.mode {
            Mode::Lines { splitter, .. } => splitter.lines(),
            Mode::Json { splitter, .. } => splitter.lines,
            Mode::Undecided(_) => 0,
        };
        (lines + 1, self.bytes_decoded)
    }

    fn decoded(&mut self, data: &[u8], out: &mut Vec<Event>) {
        self.bytes_decoded += data.len() as u64;
        if let Mode::Undecided(head) = &mut self.mode {
            head.extend_from_slice(data);
            let Some(json) = starts_as_json(head, self.state.forced) else {
                if head.len() < HEAD_BYTES {
                    return;
                }
                let head = std::mem::take(head);
                self.choose_mode(false, &head, out);
                return;
            };
            let head = std::mem::take(head);
            self.choose_mode(json, &head, out);
            return;
        }
        self.dispatch(data, out);
    }

    fn choose_mode(&mut self, json: bool, head: &[u8], out: &mut Vec<Event>) {
        self.mode = if json {
            self.state.format = Some(self.state.forced.unwrap_or(Format::JsonLines));
            Mode::Json {
                splitter: JsonSplitter::new(self.max_line),
                refined: self.state.forced.is_some(),
            }
        } else {
            Mode::Lines {
                splitter: LineSplitter::new(self.max_line),
                stage: Stage::Sniff {
                    lines: Vec::new(),
                    bytes: 0,
                },
            }
        };
        self.dispatch(head, out);
    }

    fn dispatch(&mut self, data: &[u8], out: &mut Vec<Event>) {
        let state = &mut self.state;
        match &mut self.mode {
            Mode::Undecided(_) => {}
            Mode::Lines { splitter, stage } => splitter.push(data, &mut |raw| on_line(raw, stage, state, out)),
            Mode::Json { splitter, refined } => {
                let State {
                    forced,
                    format,
                    common,
                    diags,
                } = state;
                splitter.push_bytes(data, diags, &mut |rec, prov, diags| {
                    on_record(rec, prov, *forced, format, refined, common, diags, out)
                })
            }
        }
    }

    /// Ends the input: flushes what multi-line parsers hold and returns the summary.
    pub fn finish(mut self, out: &mut Vec<Event>) -> ParseSummary {
        let before = out.len();
        match std::mem::replace(&mut self.input, Input::Broken) {
            Input::Sniff(buf) => {
                if !buf.is_empty() {
                    self.input = Input::Plain;
                    self.decoded(&buf, out);
                }
            }
            Input::Gzip(mut dec) => {
                let result = dec.try_finish();
                let inflated = std::mem::take(dec.get_mut());
                self.decoded(&inflated, out);
                if let Err(e) = result {
                    self.gzip_broken(&e.to_string());
                }
            }
            Input::Plain | Input::Broken => {}
        }
        if let Mode::Undecided(head) = &mut self.mode {
            let head = std::mem::take(head);
            if head.iter().any(|b| !b.is_ascii_whitespace()) {
                let json = starts_as_json(&head, self.state.forced).unwrap_or(false);
                self.choose_mode(json, &head, out);
            }
        }
        let state = &mut self.state;
        let mut lines = 0;
        match &mut self.mode {
            Mode::Undecided(_) => {}
            Mode::Lines { splitter, stage } => {
                splitter.finish(&mut |raw| on_line(raw, stage, state, out));
                lines = splitter.lines();
                if let Stage::Sniff { .. } = stage {
                    start_format(stage, state, out);
                }
                if let Stage::Run(p) = stage {
                    p.finish(&mut Cx {
                        common: &mut state.common,
                        out,
                        diags: &mut state.diags,
                    });
                }
            }
            Mode::Json { splitter, .. } => {
                splitter.finish(&mut state.diags);
                lines = splitter.lines;
            }
        }
        self.events += (out.len() - before) as u64;
        ParseSummary {
            format: self.state.format,
            compressed: self.compressed,
            bytes_read: self.bytes_read,
            bytes_decoded: self.bytes_decoded,
            lines,
            events: self.events,
            skipped: self.state.diags.skipped(),
            diagnostics_total: self.state.diags.total(),
            diagnostics: self.state.diags.take_kept(),
        }
    }

    /// Counters so far.
    pub fn progress(&self) -> Progress {
        let lines = match &self.mode {
            Mode::Lines { splitter, .. } => splitter.lines(),
            Mode::Json { splitter, .. } => splitter.lines,
            Mode::Undecided(_) => 0,
        };
        Progress {
            bytes_read: self.bytes_read,
            bytes_decoded: self.bytes_decoded,
            lines,
            events: self.events,
            skipped: self.state.diags.skipped(),
            diagnostics: self.state.diags.total(),
        }
    }

    /// The format in use, once known.
    pub fn format(&self) -> Option<Format> {
        self.state.format
    }

    /// The diagnostics kept so far.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        self.state.diags.kept()
    }
}

/// Whether the input is JSON (`Some(true)`), lines (`Some(false)`), or not yet known.
fn starts_as_json(head: &[u8], forced: Option<Format>) -> Option<bool> {
    if let Some(f) = forced {
        return Some(f.is_json());
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut it = head.iter().copied().filter(|c| !c.is_ascii_whitespace());
    match it.next()? {
        b'{' => Some(true),
        b'[' => match it.next()? {
            b'{' | b']' => Some(true),
            _ => Some(false),
        },
        _ => Some(false),
    }
}

/// Screens one raw line and passes it on (to the detection sample or the format parser).
fn on_line(raw: RawLine, stage: &mut Stage, state: &mut State, out: &mut Vec<Event>) {
    if raw.truncated {
        state
            .diags
            .note(raw.number, raw.offset, DiagnosticCode::LineTooLong, || {
                format!("line of {} bytes cut at the limit", raw.len)
            });
    }
    let mut bytes = raw.bytes;
    if raw.number == 1 {
        bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    }
    if memchr::memchr(0, bytes).is_some() {
        state
            .diags
            .skip(raw.number, raw.offset, 1, DiagnosticCode::BinaryData, || {
                "binary data (NUL bytes)".into()
            });
        return;
    }
    let text: Cow<str> = match std::str::from_utf8(bytes) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => {
            let control = bytes
                .iter()
                .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\r' | 0x1b | 0x1d)) || b == 0x7f)
                .count();
            let non_ascii = bytes.iter().filter(|&&b| b >= 0x80).count();
            if control * 10 > bytes.len() || non_ascii * 2 > bytes.len() {
                state
                    .diags
                    .skip(raw.number, raw.offset, 1, DiagnosticCode::BinaryData, || {
                        "binary data".into()
                    });
                return;
            }
            state
                .diags
                .note(raw.number, raw.offset, DiagnosticCode::InvalidUtf8, || {
                    "invalid UTF-8 replaced with U+FFFD".into()
                });
            String::from_utf8_lossy(bytes)
        }
    };
    let line = Line {
        text: &text,
        number: raw.number,
        offset: raw.offset,
        len: raw.len,
    };
    match stage {
        Stage::Sniff { lines, bytes } => {
            if line.text.trim().is_empty() && lines.is_empty() {
                return;
            }
            *bytes += line.text.len();
            lines.push(OwnedLine {
                text: text.into_owned(),
                number: raw.number,
                offset: raw.offset,
                len: raw.len,
            });
            if lines.len() >= SNIFF_LINES || *bytes >= SNIFF_BYTES {
                start_format(stage, state, out);
            }
        }
        Stage::Run(p) => run_line(p.as_mut(), &line, state, out),
    }
}

fn run_line(p: &mut dyn LineFormat, line: &Line, state: &mut State, out: &mut Vec<Event>) {
    if line.text.trim().is_empty() && !p.wants_blank_lines() {
        return;
    }
    p.line(
        line,
        &mut Cx {
            common: &mut state.common,
            out,
            diags: &mut state.diags,
        },
    );
}

/// Chooses the line format from the sample, then replays the sample through it.
fn start_format(stage: &mut Stage, state: &mut State, out: &mut Vec<Event>) {
    let Stage::Sniff { lines, .. } = stage else {
        return;
    };
    let lines = std::mem::take(lines);
    let format = match state.forced {
        Some(f) => f,
        None => match detect_lines(lines.iter().map(|l| l.text.as_str()).filter(|t| !t.trim().is_empty())) {
            Some(f) => f,
            None => {
                if let Some(first) = lines.first() {
                    state
                        .diags
                        .note(first.number, first.offset, DiagnosticCode::UnknownFormat, || {
                            "no known format matches the first lines; reading lines that start with a timestamp".into()
                        });
                }
                Format::Text
            }
        },
    };
    if lines.is_empty() && state.forced.is_none() {
        // Only blank lines: nothing to parse, no format to report.
        *stage = Stage::Run(formats::line_parser(Format::Text));
        return;
    }
    state.format = Some(format);
    let mut parser = formats::line_parser(format);
    for l in &lines {
        let line = Line {
            text: &l.text,
            number: l.number,
            offset: l.offset,
            len: l.len,
        };
        run_line(parser.as_mut(), &line, state, out);
    }
    *stage = Stage::Run(parser);
}

/// Maps one JSON record with the forced format or the one its fields show.
#[allow(clippy::too_many_arguments)]
fn on_record(
    raw: &[u8],
    prov: Provenance,
    forced: Option<Format>,
    format: &mut Option<Format>,
    refined: &mut bool,
    common: &mut Common,
    diags: &mut DiagLog,
    out: &mut Vec<Event>,
) {
    let lines = raw.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let parsed: Result<Value, String> = match std::str::from_utf8(raw) {
        Ok(t) => serde_json::from_str(t).map_err(|e| e.to_string()),
        Err(_) => {
            diags.note(prov.line, prov.byte_offset, DiagnosticCode::InvalidUtf8, || {
                "invalid UTF-8 replaced with U+FFFD".into()
            });
            serde_json::from_str(&String::from_utf8_lossy(raw)).map_err(|e| e.to_string())
        }
    };
    let v = match parsed {
        Ok(v) => v,
        Err(e) => {
            return diags.skip(
                prov.line,
                prov.byte_offset,
                lines,
                DiagnosticCode::MalformedRecord,
                || format!("invalid JSON: {e}"),
            );
        }
    };
    let target = forced.unwrap_or_else(|| {
        if formats::journald::is_journal(&v) {
            Format::Journald
        } else if formats::cloudtrail::is_cloudtrail(&v) {
            Format::CloudTrail
        } else {
            Format::JsonLines
        }
    });
    if !*refined {
        *refined = true;
        *format = Some(target);
    }
    let mut cx = Cx { common, out, diags };
    let mapped = match target {
        Format::Journald => formats::journald::map(&v, prov, &mut cx),
        Format::CloudTrail => formats::cloudtrail::map(&v, prov, &mut cx),
        _ => formats::jsonl::map(&v, raw, prov, &mut cx),
    };
    match mapped {
        Ok(ev) => cx.emit(ev),
        Err(why) => cx.diags.skip(
            prov.line,
            prov.byte_offset,
            lines,
            DiagnosticCode::MalformedRecord,
            || why,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_all;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn lines(n: usize) -> Vec<u8> {
        "Feb  9 21:19:40 h sshd[1]: Failed password for root from 1.2.3.4 port 22 ssh2\n"
            .repeat(n)
            .into_bytes()
    }

    #[test]
    fn a_gzip_that_inflates_past_the_ratio_is_refused_after_the_grace() {
        let bomb = gz(&lines(400_000)); // ~31 MB of identical lines, ~1000×
        let mut p = Parser::new(ParseOptions::new("bomb"));
        let mut out = Vec::new();
        let mut most = 0;
        let mut seen = 0u64;
        p.feed_each(&bomb, &mut out, &mut |evs: &mut Vec<Event>| -> Result<(), ()> {
            most = most.max(evs.len());
            seen += evs.len() as u64;
            evs.clear();
            Ok(())
        })
        .unwrap();
        let Some(Refusal::GzipRatio { ratio, max }) = p.refusal() else {
            panic!("not refused: {:?}", p.progress())
        };
        assert_eq!(max, crate::DEFAULT_MAX_GZIP_RATIO);
        assert!(ratio > max, "{ratio}");
        let decoded = p.progress().bytes_decoded;
        assert!(
            decoded > crate::GZIP_RATIO_GRACE && decoded < crate::GZIP_RATIO_GRACE + (4 << 20),
            "{decoded}"
        );
        assert!(seen > 0 && most < 40_000, "events are handed on in small steps: {most}");

        // The same input passes without the limit, and a small bomb passes within the grace.
        let mut opts = ParseOptions::new("bomb");
        opts.max_gzip_ratio = None;
        let all = parse_all(&bomb, &opts);
        assert_eq!(all.events.len(), 400_000);
        let small = gz(&lines(20_000));
        let out = parse_all(&small, &ParseOptions::new("small"));
        assert_eq!(out.events.len(), 20_000);
    }

    #[test]
    fn chunking_does_not_change_the_result() {
        let text = "Feb  9 21:19:40 h sshd[1]: Accepted password for a from 1.2.3.4 port 22 ssh2\n\
                    Feb  9 21:19:41 h app[2]: two\n\tcontinued\n\
                    garbage line\n\
                    Feb  9 21:19:42 h app[3]: last without newline";
        let opts = ParseOptions::new("t").year(2020);
        let whole = parse_all(text.as_bytes(), &opts);
        assert_eq!(whole.events.len(), 3);
        assert_eq!(whole.skipped, 1);
        for chunk in [1, 2, 5, 17] {
            let mut p = Parser::new(opts.clone());
            let mut out = Vec::new();
            for c in text.as_bytes().chunks(chunk) {
                p.feed(c, &mut out);
            }
            let s = p.finish(&mut out);
            assert_eq!(out, whole.events, "chunk {chunk}");
            assert_eq!((s.lines, s.skipped, s.events), (whole.lines, 1, 3));
        }
    }

    #[test]
    fn gzip_input_streams() {
        let text = "Feb  9 21:19:40 h app[1]: a\nFeb  9 21:19:41 h app[1]: b\n".repeat(5000);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let mut p = Parser::new(ParseOptions::new("t.gz").year(2020));
        let mut out = Vec::new();
        for c in gz.chunks(1000) {
            p.feed(c, &mut out);
            assert!(out.len() <= 10_000);
        }
        let s = p.finish(&mut out);
        assert!(s.compressed);
        assert_eq!((out.len(), s.skipped, s.lines), (10_000, 0, 10_000));
        assert_eq!(s.format, Some(Format::Syslog));
        // A truncated stream keeps what was inflated and says so.
        let cut = parse_all(&gz[..gz.len() / 2], &ParseOptions::new("t.gz").year(2020));
        assert!(!cut.events.is_empty());
        assert!(cut.diagnostics.iter().any(|d| d.code == DiagnosticCode::CorruptGzip));
    }

    #[test]
    fn empty_and_blank_input() {
        let out = parse_all(b"", &ParseOptions::new("t"));
        assert_eq!((out.events.len(), out.format), (0, None));
        let out = parse_all(b"\n\n  \n", &ParseOptions::new("t"));
        assert_eq!((out.events.len(), out.skipped), (0, 0));
    }
}
