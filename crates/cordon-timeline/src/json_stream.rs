//! Splits a byte stream of JSON into records without reading it whole: one object per line
//! (JSON lines, `journalctl -o json`), concatenated or pretty-printed objects, a top-level
//! array of objects, or CloudTrail's `{"Records":[…]}` wrapper, whose array items are the
//! records. Only the current record is buffered (up to a limit); strings and escapes are
//! tracked so braces inside strings do not count. A record cut by a newline inside a string,
//! or by a newline in one-object-per-line input, is reported and the scan resynchronises at
//! the next line.

use crate::diag::{DiagLog, DiagnosticCode};
use crate::event::Provenance;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wrapper {
    None,
    /// `[ {…}, {…} ]`: records at depth 1.
    Array,
    /// `{"Records": [ {…} ] }`: records at depth 2 while inside the array.
    Records,
}

/// The JSON record splitter.
#[derive(Debug)]
pub(crate) struct JsonSplitter {
    depth: u32,
    in_string: bool,
    escape: bool,
    wrapper: Wrapper,
    record_depth: u32,
    recording: bool,
    oversize: bool,
    buf: Vec<u8>,
    rec_line: u64,
    rec_offset: u64,
    rec_has_newline: bool,
    /// Decided after the first record: each record sits on one line.
    one_per_line: Option<bool>,
    /// Skipping bytes that are not JSON until the end of the line: (line, offset).
    garbage: Option<(u64, u64)>,
    line: u64,
    offset: u64,
    max: usize,
    /// Lines seen (a final line without newline counts at finish).
    pub(crate) lines: u64,
    saw_byte_on_line: bool,
}

const NO_RECORDS: u32 = u32::MAX;

impl JsonSplitter {
    pub(crate) fn new(max_record: usize) -> JsonSplitter {
        JsonSplitter {
            depth: 0,
            in_string: false,
            escape: false,
            wrapper: Wrapper::None,
            record_depth: 0,
            recording: false,
            oversize: false,
            buf: Vec::new(),
            rec_line: 0,
            rec_offset: 0,
            rec_has_newline: false,
            one_per_line: None,
            garbage: None,
            line: 1,
            offset: 0,
            max: max_record,
            lines: 0,
            saw_byte_on_line: false,
        }
    }

    fn push(&mut self, c: u8) {
        if self.buf.len() < self.max {
            self.buf.push(c);
        } else {
            self.oversize = true;
        }
    }

    fn reset(&mut self) {
        self.depth = 0;
        self.in_string = false;
        self.escape = false;
        self.wrapper = Wrapper::None;
        self.record_depth = 0;
        self.recording = false;
        self.oversize = false;
        self.buf.clear();
    }

    fn record_lines(&self) -> u64 {
        self.line - self.rec_line + 1
    }

    fn malformed(&mut self, diags: &mut DiagLog, why: &'static str) {
        diags.skip(
            self.rec_line,
            self.rec_offset,
            self.record_lines(),
            DiagnosticCode::MalformedRecord,
            || why.to_string(),
        );
    }

    /// Feeds bytes; calls `on_record(bytes, provenance)` for each complete record.
    pub(crate) fn push_bytes(
        &mut self,
        data: &[u8],
        diags: &mut DiagLog,
        on_record: &mut dyn FnMut(&[u8], Provenance, &mut DiagLog),
    ) {
        for &c in data {
            let pos = self.offset;
            self.offset += 1;
            if c == b'\n' {
                self.lines += 1;
                self.saw_byte_on_line = false;
            } else {
                self.saw_byte_on_line = true;
            }
            if let Some((gl, go)) = self.garbage {
                if c == b'\n' {
                    self.garbage = None;
                    diags.skip(gl, go, 1, DiagnosticCode::UnparsedLine, || "not JSON".to_string());
                    self.line += 1;
                }
                continue;
            }
            if self.in_string {
                if self.recording {
                    self.push(c);
                }
                if self.escape {
                    self.escape = false;
                } else if c == b'\\' {
                    self.escape = true;
                } else if c == b'"' {
                    self.in_string = false;
                } else if c == b'\n' {
                    if self.recording {
                        self.malformed(diags, "JSON record cut inside a string");
                    } else {
                        diags.skip(self.line, pos, 1, DiagnosticCode::MalformedRecord, || {
                            "JSON cut inside a string".to_string()
                        });
                    }
                    self.reset();
                    self.line += 1;
                }
                continue;
            }
            match c {
                b'\n' => {
                    if self.recording {
                        self.push(c);
                        self.rec_has_newline = true;
                        if self.one_per_line == Some(true) && self.wrapper == Wrapper::None {
                            self.malformed(diags, "JSON record cut at the end of its line");
                            self.reset();
                        }
                    }
                    self.line += 1;
                }
                b' ' | b'\t' | b'\r' => {
                    if self.recording {
                        self.push(c);
                    }
                }
                b'{' | b'[' => {
                    if !self.recording && self.depth == self.record_depth {
                        if c == b'{' {
                            self.recording = true;
                            self.oversize = false;
                            self.buf.clear();
                            self.rec_line = self.line;
                            self.rec_offset = pos;
                            self.rec_has_newline = false;
                        } else if self.depth == 0 {
                            self.wrapper = Wrapper::Array;
                            self.record_depth = 1;
                            self.rec_line = self.line;
                            self.rec_offset = pos;
                        }
                    }
                    if self.recording {
                        self.push(c);
                    }
                    self.depth = self.depth.saturating_add(1);
                    if c == b'['
                        && self.recording
                        && self.record_depth == 0
                        && self.depth == 2
                        && is_records_prefix(&self.buf)
                    {
                        self.recording = false;
                        self.buf.clear();
                        self.wrapper = Wrapper::Records;
                        self.record_depth = 2;
                    }
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        self.garbage = Some((self.line, pos));
                        continue;
                    }
                    self.depth -= 1;
                    if self.recording {
                        self.push(c);
                        if self.depth == self.record_depth {
                            self.recording = false;
                            if self.one_per_line.is_none() && self.wrapper == Wrapper::None {
                                self.one_per_line = Some(!self.rec_has_newline);
                            }
                            let prov = Provenance {
                                line: self.rec_line,
                                byte_offset: self.rec_offset,
                                byte_len: self.offset - self.rec_offset,
                            };
                            if self.oversize {
                                let lines = self.record_lines();
                                diags.skip(
                                    self.rec_line,
                                    self.rec_offset,
                                    lines,
                                    DiagnosticCode::RecordTooLarge,
                                    || "JSON record larger than the limit".to_string(),
                                );
                            } else {
                                on_record(&self.buf, prov, diags);
                            }
                            self.buf.clear();
                        }
                    } else {
                        match self.wrapper {
                            Wrapper::Records if self.depth == 1 => self.record_depth = NO_RECORDS,
                            Wrapper::Array | Wrapper::Records if self.depth == 0 => {
                                self.wrapper = Wrapper::None;
                                self.record_depth = 0;
                            }
                            _ => {}
                        }
                    }
                }
                b'"' => {
                    self.in_string = true;
                    if self.recording {
                        self.push(c);
                    }
                }
                _ => {
                    if self.recording {
                        self.push(c);
                    } else if self.depth == 0 {
                        // A UTF-8 byte-order mark at the very start is not garbage.
                        if pos < 3 && matches!(c, 0xEF | 0xBB | 0xBF) {
                            continue;
                        }
                        self.garbage = Some((self.line, pos));
                    }
                }
            }
        }
    }

    /// Ends the input: reports a record or garbage left open.
    pub(crate) fn finish(&mut self, diags: &mut DiagLog) {
        if self.saw_byte_on_line {
            self.lines += 1;
            self.saw_byte_on_line = false;
        } else {
            // The input ended with a newline: no further line was started.
            self.line = self.line.saturating_sub(1).max(1);
        }
        if let Some((gl, go)) = self.garbage.take() {
            diags.skip(gl, go, 1, DiagnosticCode::UnparsedLine, || "not JSON".to_string());
        }
        if self.recording {
            self.malformed(diags, "JSON record cut at the end of the input");
        } else if self.wrapper != Wrapper::None || self.in_string {
            diags.note(self.line, self.offset, DiagnosticCode::MalformedRecord, || {
                "JSON input ends inside an array or string".to_string()
            });
        }
        self.reset();
    }
}

/// Whether `buf` is `{"Records":[` up to whitespace.
fn is_records_prefix(buf: &[u8]) -> bool {
    let mut it = buf.iter().copied().filter(|c| !c.is_ascii_whitespace());
    b"{\"Records\":[".iter().all(|&want| it.next() == Some(want)) && it.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8], chunk: usize) -> (Vec<(String, Provenance)>, DiagLog) {
        let mut s = JsonSplitter::new(1 << 20);
        let mut diags = DiagLog::new(100);
        let mut out = Vec::new();
        for c in input.chunks(chunk.max(1)) {
            s.push_bytes(c, &mut diags, &mut |b, p, _| {
                out.push((String::from_utf8_lossy(b).into_owned(), p))
            });
        }
        s.finish(&mut diags);
        (out, diags)
    }

    #[test]
    fn lines_arrays_and_records_wrapper() {
        for chunk in [1, 3, 1000] {
            let (r, d) = split(b"{\"a\":\"}\"}\n{\"b\":[1,{\"c\":2}]}\n", chunk);
            assert_eq!(r.len(), 2);
            assert_eq!(r[1].0, "{\"b\":[1,{\"c\":2}]}");
            assert_eq!((r[1].1.line, r[1].1.byte_offset), (2, 10));
            assert_eq!(d.total(), 0);
            let (r, _) = split(
                b"{ \"Records\" : [ {\"x\":1}, {\"y\":{\"z\":2}} ], \"other\": {\"q\": {}} }",
                chunk,
            );
            assert_eq!(r.len(), 2, "{r:?}");
            assert_eq!(r[1].0, "{\"y\":{\"z\":2}}");
            let (r, _) = split(b"[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n", chunk);
            assert_eq!(r.len(), 2);
        }
    }

    #[test]
    fn resynchronises_after_broken_records() {
        let (r, d) = split(b"{\"a\":\"x\n{\"b\":1}\ngarbage\n{\"c\":{\"d\":1}\n{\"e\":1}\n", 7);
        let texts: Vec<&str> = r.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, vec!["{\"b\":1}", "{\"e\":1}"]);
        assert_eq!(d.skipped(), 3);
    }
}
