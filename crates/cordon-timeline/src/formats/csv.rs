//! Timesketch-style CSV: a header row naming the columns (`message`, `datetime`,
//! `timestamp_desc`, optionally `timestamp` in µs and any others), then one row per event.
//! Quoted fields may hold commas, doubled quotes and newlines (a row can span lines). Rows
//! are mapped like generic JSON records, so `src_ip`, `user`, `hostname` … columns are used.

use serde_json::{Map, Value};

use super::{Cx, Line, LineFormat, jsonl};
use crate::diag::DiagnosticCode;
use crate::event::Provenance;
use crate::format::Format;

/// Whether `line` is a Timesketch CSV header.
pub(crate) fn looks_like_header(line: &str) -> bool {
    let cols = split_row(line.trim_start_matches('\u{feff}'));
    let has = |n: &str| cols.iter().any(|c| c.trim().eq_ignore_ascii_case(n));
    cols.len() >= 2 && has("message") && (has("datetime") || has("timestamp"))
}

/// Splits one complete CSV row (RFC 4180 quoting).
fn split_row(row: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// CSV parser: the header, and a row being assembled across lines.
#[derive(Default)]
pub(crate) struct CsvParser {
    header: Option<Vec<String>>,
    row: String,
    row_start: Option<Provenance>,
    row_lines: u64,
    quotes_open: bool,
}

impl CsvParser {
    fn row_done(&mut self, cx: &mut Cx) {
        let Some(prov) = self.row_start.take() else {
            return;
        };
        let lines = std::mem::take(&mut self.row_lines);
        let row = std::mem::take(&mut self.row);
        let Some(header) = &self.header else { return };
        let cols = split_row(&row);
        if cols.len() != header.len() {
            cx.diags.skip(
                prov.line,
                prov.byte_offset,
                lines,
                DiagnosticCode::MalformedRecord,
                || format!("CSV row has {} fields, the header {}", cols.len(), header.len()),
            );
            return;
        }
        let mut obj = Map::new();
        for (k, v) in header.iter().zip(cols) {
            if !v.is_empty() {
                obj.insert(k.clone(), Value::String(v));
            }
        }
        match jsonl::map(&Value::Object(obj), row.as_bytes(), prov, cx) {
            Ok(mut ev) => {
                ev.format = Format::TimesketchCsv;
                cx.emit(ev);
            }
            Err(why) => cx.diags.skip(
                prov.line,
                prov.byte_offset,
                lines,
                DiagnosticCode::MalformedRecord,
                || why,
            ),
        }
    }
}

impl LineFormat for CsvParser {
    fn line(&mut self, line: &Line, cx: &mut Cx) {
        if self.header.is_none() {
            if looks_like_header(line.text) {
                let cols = split_row(line.text.trim_start_matches('\u{feff}'));
                self.header = Some(cols.into_iter().map(|c| c.trim().to_string()).collect());
            } else {
                cx.skip(line, DiagnosticCode::UnparsedLine, || {
                    "CSV without a header naming message and datetime".into()
                });
            }
            return;
        }
        if self.row_start.is_none() {
            if line.text.is_empty() {
                return;
            }
            self.row_start = Some(line.provenance());
        } else {
            self.row.push('\n');
            if let Some(p) = &mut self.row_start {
                p.byte_len = line.end() - p.byte_offset;
            }
        }
        if self.row.len() + line.text.len() > cx.common.max_event_bytes {
            let prov = self.row_start.take().unwrap_or_else(|| line.provenance());
            cx.diags.skip(
                prov.line,
                prov.byte_offset,
                self.row_lines + 1,
                DiagnosticCode::RecordTooLarge,
                || "CSV row larger than the limit".into(),
            );
            self.row.clear();
            self.row_lines = 0;
            self.quotes_open = false;
            return;
        }
        self.row.push_str(line.text);
        self.row_lines += 1;
        let quotes = line.text.bytes().filter(|&b| b == b'"').count();
        if quotes % 2 == 1 {
            self.quotes_open = !self.quotes_open;
        }
        if !self.quotes_open {
            self.row_done(cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx) {
        if self.row_start.is_some() {
            self.row_done(cx);
        }
    }

    fn wants_blank_lines(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::{Format, ParseOptions, parse_all};

    #[test]
    fn rows_with_quotes_and_newlines() {
        let text = "message,datetime,timestamp_desc,src_ip,user\n\
                    \"Accepted password, for alice\",2024-03-01T10:00:00+00:00,Event Recorded,203.0.113.5,alice\n\
                    \"two\nlines \"\"quoted\"\"\",2024-03-01T10:01:00Z,Event Recorded,,\n\
                    bad,row\n";
        let out = parse_all(text.as_bytes(), &ParseOptions::new("t"));
        assert_eq!(out.format, Some(Format::TimesketchCsv));
        assert_eq!(out.events.len(), 2, "{:?}", out.diagnostics);
        assert_eq!(out.skipped, 1);
        assert_eq!(out.events[0].message, "Accepted password, for alice");
        assert_eq!(out.events[0].src_ip.unwrap().to_string(), "203.0.113.5");
        assert_eq!(out.events[1].message, "two\nlines \"quoted\"");
        assert_eq!(out.events[1].provenance.line, 3);
    }
}
