//! The custody report as PDF: its content laid out as a [`cordon_report::Report`] and
//! rendered by that crate's one PDF writer (A4, DejaVu Sans embedded and subset, IPAex
//! Gothic only when Japanese text needs it), so custody and incident reports look alike.
//!
//! The output is deterministic for the same report: the document dates are the report's
//! generation time and the document id is derived from its content.

use cordon_report::Section;

use super::report::Report;

/// The custody report in the shared report shape: the item as facts, one paragraph block
/// per custody event with its audit entry, and how to check the report.
fn layout(report: &Report, created_unix_seconds: i64) -> cordon_report::Report {
    let mut events = Vec::new();
    for e in &report.events {
        events.push(format!("{}.  {}  ·  {}  ·  by {}", e.number, e.kind, e.at, e.actor));
        for (label, value) in &e.details {
            events.push(format!("    {label}: {value}"));
        }
        events.push(format!("    audit entry: #{} · {}", e.audit_seq, e.audit_hash));
    }
    cordon_report::Report {
        title: report.title.clone(),
        facts: report
            .item
            .iter()
            .map(|f| (f.label.to_owned(), f.value.clone()))
            .collect(),
        sections: vec![
            Section {
                heading: "About this report".into(),
                paragraphs: report.preamble.clone(),
                ..Section::default()
            },
            Section {
                heading: "Custody events".into(),
                paragraphs: events,
                empty: "No custody events.".into(),
                ..Section::default()
            },
            Section {
                heading: "How to check this report".into(),
                paragraphs: report.how_to_check.clone(),
                ..Section::default()
            },
        ],
        footer: report.footer.clone(),
        generated_unix: created_unix_seconds,
    }
}

pub(crate) fn render(report: &Report, created_unix_seconds: i64) -> Result<Vec<u8>, String> {
    cordon_report::pdf(&layout(report, created_unix_seconds)).map_err(|e| e.to_string())
}
