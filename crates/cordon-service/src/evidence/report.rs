//! The custody report of one evidence item — what it is, its digests, and every custody event
//! with the audit entry that records it — as plain content ([`Report`]), rendered here as
//! Markdown and by [`super::pdf`] as PDF.
//!
//! The report names the incident by its codename and id only, never by its title: it is meant
//! to be handed to counsel or law enforcement.

use std::fmt::Write as _;

use cordon_core::Timestamp;
use cordon_store::evidence::{CustodyEvent, EvidenceItem};
use serde_json::Value;
use uuid::Uuid;

/// What the report is built from.
pub(crate) struct ReportInput<'a> {
    pub codename: String,
    pub incident_id: Uuid,
    pub item: &'a EvidenceItem,
    pub custody: &'a [CustodyEvent],
    pub generated_at: Timestamp,
    pub generated_by: &'a str,
}

/// One labelled value.
pub(crate) struct Field {
    pub label: &'static str,
    pub value: String,
    /// Render in a code span (digests, ids).
    pub code: bool,
}

/// One custody event, ready to print.
pub(crate) struct EventEntry {
    pub number: usize,
    pub at: String,
    pub kind: &'static str,
    pub actor: String,
    pub details: Vec<(String, String)>,
    pub audit_seq: i64,
    pub audit_hash: String,
}

/// The report's content, independent of the output format.
pub(crate) struct Report {
    pub title: String,
    pub preamble: Vec<String>,
    pub item: Vec<Field>,
    pub events: Vec<EventEntry>,
    pub how_to_check: Vec<String>,
    /// For page footers.
    pub footer: String,
}

pub(crate) fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `67108864` → `67,108,864 bytes (64.0 MiB)`.
pub(crate) fn format_size(size: u64) -> String {
    let digits = size.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if size < 1024 {
        return format!("{grouped} bytes");
    }
    let mut value = size as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{grouped} bytes ({value:.1} {})", UNITS[unit])
}

/// A custody event's details (a JSON object) as label/value pairs; empty values are left out.
pub(crate) fn detail_pairs(details: &str) -> Vec<(String, String)> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(details) else {
        return if details.trim().is_empty() {
            Vec::new()
        } else {
            vec![("details".into(), details.to_owned())]
        };
    };
    map.into_iter()
        .filter_map(|(key, value)| {
            let text = match value {
                Value::Null => return None,
                Value::String(s) if s.is_empty() => return None,
                Value::String(s) => s,
                Value::Bool(true) => "yes".into(),
                Value::Bool(false) => "no".into(),
                Value::Number(n) => n.to_string(),
                Value::Array(items) if items.is_empty() => return None,
                Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            Some((key.replace('_', " "), text))
        })
        .collect()
}

impl Report {
    pub(crate) fn build(input: &ReportInput<'_>) -> Self {
        let item = input.item;
        let mut fields = vec![
            Field {
                label: "Name",
                value: item.name.clone(),
                code: false,
            },
            Field {
                label: "Evidence id",
                value: item.id.to_string(),
                code: true,
            },
        ];
        if !item.description.is_empty() {
            fields.push(Field {
                label: "Description",
                value: item.description.clone(),
                code: false,
            });
        }
        fields.push(Field {
            label: "Size",
            value: format_size(item.size),
            code: false,
        });
        fields.push(Field {
            label: "SHA-256",
            value: item.sha256.clone(),
            code: true,
        });
        fields.push(Field {
            label: "BLAKE3",
            value: item.blake3.clone(),
            code: true,
        });
        for (label, digest) in [("MD5", &item.md5), ("SHA-1", &item.sha1)] {
            if let Some(d) = digest {
                fields.push(Field {
                    label,
                    value: d.clone(),
                    code: true,
                });
            }
        }
        fields.push(Field {
            label: "Acquired by",
            value: item.acquired_by.clone(),
            code: false,
        });
        for (label, value) in [("Tool", &item.tool), ("Source asset", &item.source_asset)] {
            if let Some(v) = value {
                fields.push(Field {
                    label,
                    value: v.clone(),
                    code: false,
                });
            }
        }
        fields.push(Field {
            label: "Received",
            value: format!(
                "{} from {} (stored write-once under its SHA-256)",
                format_time(item.created_at),
                item.created_by_name
            ),
            code: false,
        });

        let events = input
            .custody
            .iter()
            .enumerate()
            .map(|(i, e)| EventEntry {
                number: i + 1,
                at: format_time(e.at),
                kind: e.kind.as_str(),
                actor: e.actor.clone(),
                details: detail_pairs(&e.details),
                audit_seq: e.audit_seq,
                audit_hash: hex::encode(&e.audit_hash),
            })
            .collect();

        Self {
            title: format!("Chain of custody: {}", item.name),
            preamble: vec![
                format!("Incident {} ({})", input.codename, input.incident_id),
                format!(
                    "Generated {} by {} from Cordon's evidence locker.",
                    format_time(input.generated_at),
                    input.generated_by
                ),
            ],
            item: fields,
            events,
            how_to_check: vec![
                "The bytes are stored write-once under their SHA-256; re-reading them and recomputing both \
                 digests (cordon evidence verify) proves them unchanged since receipt."
                    .into(),
                "Each custody event is also an entry of Cordon's hash-chained audit log, appended in the same \
                 transaction; the entry's number and hash are given with the event. Re-walking the chain \
                 (cordon audit verify) detects any change to a past entry."
                    .into(),
            ],
            footer: format!("Cordon custody report · {} · evidence {}", input.codename, item.id),
        }
    }

    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}\n", escape(&self.title));
        for line in &self.preamble {
            let _ = writeln!(out, "{}  ", escape(line));
        }
        out.push_str("\n## Item\n\n| | |\n| --- | --- |\n");
        for f in &self.item {
            let value = if f.code { code(&f.value) } else { cell(&f.value) };
            let _ = writeln!(out, "| {} | {value} |", f.label);
        }
        out.push_str("\n## Custody events\n\n");
        out.push_str("| # | Time | Event | By | Details | Audit entry |\n| --- | --- | --- | --- | --- | --- |\n");
        for e in &self.events {
            let details = e
                .details
                .iter()
                .map(|(k, v)| format!("{}: {}", cell(k), cell(v)))
                .collect::<Vec<_>>()
                .join("; ");
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | #{} {} |",
                e.number,
                e.at,
                e.kind,
                cell(&e.actor),
                if details.is_empty() { "-".into() } else { details },
                e.audit_seq,
                code(&e.audit_hash)
            );
        }
        out.push_str("\n## How to check this report\n\n");
        for line in &self.how_to_check {
            let _ = writeln!(out, "- {}", escape(line));
        }
        out
    }
}

/// Escapes text so Markdown shows it literally.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Text for a table cell: escaped, one line.
fn cell(text: &str) -> String {
    escape(text)
}

/// A code span (only ever used for hex digests and ids, which need no escaping).
fn code(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        format!("`{text}`")
    } else {
        cell(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_grouped_and_scaled() {
        assert_eq!(format_size(0), "0 bytes");
        assert_eq!(format_size(1023), "1,023 bytes");
        assert_eq!(format_size(64 << 20), "67,108,864 bytes (64.0 MiB)");
        assert_eq!(format_size(200 * (1 << 30)), "214,748,364,800 bytes (200.0 GiB)");
    }

    #[test]
    fn details_become_readable_pairs() {
        let mut pairs = detail_pairs(
            r#"{"ok":false,"mismatches":["sha256_vs_key","size"],"to":"FBI","note":null,"source_asset":"web1"}"#,
        );
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("mismatches".to_string(), "sha256_vs_key, size".to_string()),
                ("ok".into(), "no".into()),
                ("source asset".into(), "web1".into()),
                ("to".into(), "FBI".into()),
            ]
        );
    }

    #[test]
    fn markdown_cannot_be_broken_out_of() {
        assert_eq!(escape("a|b\n# c *d*"), "a\\|b \\# c \\*d\\*");
        assert_eq!(code("abc123"), "`abc123`");
        assert_eq!(code("a`b"), "a\\`b");
    }
}
