//! The timeline export: every matching event in time order, as JSON lines (the query's event
//! objects) or as Timesketch CSV (`message`, `datetime`, `timestamp`, `timestamp_desc` and the
//! event's fields as further columns). A blocking worker reads the index one time window at a
//! time from one snapshot and sends chunks through a small bounded channel, so memory stays
//! bounded and a client that stops reading stops the worker.

use std::collections::HashMap;

use bytes::Bytes;
use cordon_timeline::index::{Filter, IndexError, Snapshot, splice_source_digest};
use futures::StreamExt;
use serde_json::Value;

/// The bytes of an export, as they are produced.
pub type ExportStream = futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>>;

/// Events per window read from the index at once.
const EVENTS_PER_WINDOW: u64 = 20_000;
/// Bytes gathered before a chunk is sent.
const CHUNK_BYTES: usize = 256 * 1024;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One event JSON object per line.
    Jsonl,
    /// Timesketch's CSV import format.
    TimesketchCsv,
}

impl ExportFormat {
    /// `jsonl` (also `json`, `ndjson`) or `timesketch-csv` (also `csv`, `timesketch`).
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "jsonl" | "json" | "ndjson" => Some(ExportFormat::Jsonl),
            "timesketch-csv" | "csv" | "timesketch" => Some(ExportFormat::TimesketchCsv),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::TimesketchCsv => "timesketch-csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "application/x-ndjson",
            ExportFormat::TimesketchCsv => "text/csv; charset=utf-8",
        }
    }

    /// A file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::TimesketchCsv => "csv",
        }
    }
}

pub(super) fn stream(
    snapshot: Option<Snapshot>,
    filter: Filter,
    format: ExportFormat,
    digests: HashMap<String, String>,
) -> ExportStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = produce(snapshot, &filter, format, &digests, &tx) {
            tracing::error!(error = %e, "timeline export failed");
            let _ = tx.blocking_send(Err(std::io::Error::other("the export failed")));
        }
    });
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }).boxed()
}

const CSV_COLUMNS: [&str; 19] = [
    "message",
    "datetime",
    "timestamp",
    "timestamp_desc",
    "source",
    "source_id",
    "source_sha256",
    "hostname",
    "kind",
    "src_ip",
    "user",
    "target_user",
    "process",
    "command_line",
    "action",
    "outcome",
    "query",
    "line",
    "byte_offset",
];

fn produce(
    snapshot: Option<Snapshot>,
    filter: &Filter,
    format: ExportFormat,
    digests: &HashMap<String, String>,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), IndexError> {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES + 4096);
    if format == ExportFormat::TimesketchCsv {
        buf.extend_from_slice(CSV_COLUMNS.join(",").as_bytes());
        buf.push(b'\n');
    }
    let lookup = |id: &str| digests.get(id).cloned();
    if let Some(snap) = snapshot {
        for w in snap.export_windows(filter, EVENTS_PER_WINDOW)? {
            for stored in snap.window(filter, &w)? {
                match format {
                    ExportFormat::Jsonl => {
                        splice_source_digest(&mut buf, &stored, lookup);
                        buf.push(b'\n');
                    }
                    ExportFormat::TimesketchCsv => csv_row(&mut buf, &stored, digests),
                }
                if buf.len() >= CHUNK_BYTES && tx.blocking_send(Ok(Bytes::from(std::mem::take(&mut buf)))).is_err() {
                    return Ok(()); // the client went away
                }
            }
        }
    }
    if !buf.is_empty() {
        let _ = tx.blocking_send(Ok(Bytes::from(buf)));
    }
    Ok(())
}

fn csv_row(out: &mut Vec<u8>, stored: &[u8], digests: &HashMap<String, String>) {
    let Ok(v) = serde_json::from_slice::<Value>(stored) else {
        return;
    };
    let text = |k: &str| match &v[k] {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let ts = text("ts");
    let micros = ts
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_microsecond().to_string())
        .unwrap_or_default();
    let source_id = text("source_id");
    let cells = [
        text("message"),
        ts,
        micros,
        "Event Time".to_owned(),
        text("source"),
        source_id.clone(),
        digests.get(&source_id).cloned().unwrap_or_default(),
        text("host"),
        text("kind"),
        text("src_ip"),
        text("user"),
        text("target_user"),
        text("process"),
        text("command_line"),
        text("action"),
        text("outcome"),
        text("query"),
        v["provenance"]["line"].to_string(),
        v["provenance"]["byte_offset"].to_string(),
    ];
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        csv_cell(out, c);
    }
    out.push(b'\n');
}

fn csv_cell(out: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_when_needed() {
        let mut out = Vec::new();
        csv_cell(&mut out, "plain");
        out.push(b'|');
        csv_cell(&mut out, "a,\"b\"\nc");
        assert_eq!(String::from_utf8(out).unwrap(), "plain|\"a,\"\"b\"\"\nc\"");
        assert_eq!(ExportFormat::from_name("CSV"), Some(ExportFormat::TimesketchCsv));
        assert_eq!(ExportFormat::from_name("jsonl"), Some(ExportFormat::Jsonl));
        assert_eq!(ExportFormat::from_name("xml"), None);
    }
}
