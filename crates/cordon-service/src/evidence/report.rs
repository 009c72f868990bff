//! The custody report of one evidence item, as a form for people: the item and its digests,
//! every custody event in words (who acquired it — the person named at upload, not whoever
//! pressed the button — who received it, who verified, read or handed it over), the transfers
//! with who handed over and who received, when and why, signature lines for the acquisition
//! and each transfer, and the audit entries that prove the chain. Laid out as a
//! [`cordon_report::Report`], rendered as Markdown here and as PDF by [`super::pdf`].
//!
//! The report names the incident by its codename and id only, never by its title: it is meant
//! to be handed to counsel or law enforcement.

use cordon_core::Timestamp;
use cordon_report::{Report, Section, SignatureBlock, Signer, Table};
use cordon_store::evidence::{CustodyEvent, CustodyKind, EvidenceItem};
use serde_json::Value;
use uuid::Uuid;

use crate::report::ReportZone;

/// What the report is built from.
pub(crate) struct ReportInput<'a> {
    pub codename: String,
    pub incident_id: Uuid,
    pub item: &'a EvidenceItem,
    pub custody: &'a [CustodyEvent],
    pub generated_at: Timestamp,
    pub generated_by: &'a str,
    pub zone: &'a ReportZone,
    pub label: &'a str,
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

/// A custody event's details, read as a JSON object (empty when they are not one).
fn details(e: &CustodyEvent) -> serde_json::Map<String, Value> {
    match serde_json::from_str::<Value>(&e.details) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// A non-empty string field of the details.
fn text<'a>(d: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    d.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `: why` when there is a reason.
fn because(d: &serde_json::Map<String, Value>) -> String {
    text(d, "reason").map(|r| format!(": {r}")).unwrap_or_default()
}

/// Who did it, as the report credits them: the acquisition goes to the person named as
/// acquiring the bytes, with the uploader beside them when that was someone else.
fn credited(e: &CustodyEvent, d: &serde_json::Map<String, Value>, item: &EvidenceItem) -> String {
    match e.kind {
        CustodyKind::Acquisition => {
            let acquirer = text(d, "acquired_by").unwrap_or(&item.acquired_by);
            if acquirer == e.actor {
                acquirer.to_owned()
            } else {
                format!("{acquirer} (recorded by {})", e.actor)
            }
        }
        CustodyKind::Verification if e.actor == "system" || d.get("scheduled") == Some(&Value::Bool(true)) => {
            "Cordon (scheduled check)".into()
        }
        _ => e.actor.clone(),
    }
}

/// What happened, in words.
fn what(e: &CustodyEvent, d: &serde_json::Map<String, Value>, item: &EvidenceItem) -> String {
    match e.kind {
        CustodyKind::Acquisition => {
            let mut s = "Acquired".to_owned();
            if let Some(asset) = text(d, "source_asset") {
                s.push_str(&format!(" from {asset}"));
            }
            if let Some(tool) = text(d, "tool") {
                s.push_str(&format!(" with {tool}"));
            }
            s
        }
        CustodyKind::Receipt => {
            let mut s = format!(
                "Received into the evidence locker and stored write-once ({})",
                format_size(item.size)
            );
            if text(d, "expected_sha256").is_some() {
                s.push_str("; the SHA-256 matched the value announced before upload");
            }
            s
        }
        CustodyKind::Verification => {
            let mismatches: Vec<String> = d
                .get("mismatches")
                .and_then(Value::as_array)
                .map(|m| m.iter().filter_map(Value::as_str).map(mismatch_words).collect())
                .unwrap_or_default();
            if d.get("ok") == Some(&Value::Bool(true)) {
                "Re-read and both digests recomputed: they match".into()
            } else if mismatches.is_empty() {
                "Re-read: verification FAILED".into()
            } else {
                format!("Re-read: verification FAILED ({})", mismatches.join("; "))
            }
        }
        CustodyKind::Download => match text(d, "range") {
            Some(range) => format!("Downloaded {range}"),
            None => "Downloaded in full".into(),
        },
        CustodyKind::Export => format!(
            "A copy handed outside to {}{}",
            text(d, "to").unwrap_or("(not named)"),
            because(d)
        ),
        CustodyKind::Transfer => {
            let org = text(d, "organisation").map(|o| format!(" ({o})")).unwrap_or_default();
            format!(
                "Handed over by {} to {}{org}{}",
                text(d, "from").unwrap_or(&e.actor),
                text(d, "to").unwrap_or("(not named)"),
                because(d)
            )
        }
    }
}

fn mismatch_words(code: &str) -> String {
    match code {
        "sha256_vs_key" => "the content no longer matches its SHA-256".into(),
        "sha256_vs_expected" => "SHA-256 differs from the record".into(),
        "blake3_vs_expected" => "BLAKE3 differs from the record".into(),
        "size_vs_expected" => "the size differs from the record".into(),
        "missing" => "the stored bytes are missing".into(),
        other => other.replace('_', " "),
    }
}

/// The custody report's content.
pub(crate) fn build(input: &ReportInput<'_>) -> Report {
    let item = input.item;
    let zone = input.zone;
    let mut fields = vec![("Name", item.name.clone())];
    if !item.description.is_empty() {
        fields.push(("Description", item.description.clone()));
    }
    fields.push(("Size", format_size(item.size)));
    fields.push(("SHA-256", item.sha256.clone()));
    fields.push(("BLAKE3", item.blake3.clone()));
    for (label, digest) in [("MD5", &item.md5), ("SHA-1", &item.sha1)] {
        if let Some(d) = digest {
            fields.push((label, d.clone()));
        }
    }
    fields.push(("Acquired by", item.acquired_by.clone()));
    for (label, value) in [("Tool", &item.tool), ("Source asset", &item.source_asset)] {
        if let Some(v) = value {
            fields.push((label, v.clone()));
        }
    }
    fields.push((
        "Received",
        format!("{} by {}", zone.second(item.created_at), item.created_by_name),
    ));

    let mut events = Vec::new();
    let mut audit = Vec::new();
    let mut transfers = Vec::new();
    let mut signatures = Vec::new();
    for (n, e) in input.custody.iter().enumerate() {
        let d = details(e);
        let number = (n + 1).to_string();
        events.push(vec![
            number.clone(),
            zone.second(e.at),
            e.kind.as_str().to_owned(),
            credited(e, &d, item),
            what(e, &d, item),
        ]);
        audit.push(vec![number, format!("#{}", e.audit_seq), hex::encode(&e.audit_hash)]);
        match e.kind {
            CustodyKind::Acquisition => signatures.push(SignatureBlock {
                caption: format!("Acquisition and receipt, {}", zone.second(e.at)),
                signers: vec![
                    Signer {
                        role: "Acquired by".into(),
                        name: text(&d, "acquired_by").unwrap_or(&item.acquired_by).to_owned(),
                    },
                    Signer {
                        role: "Received by".into(),
                        name: item.created_by_name.clone(),
                    },
                ],
            }),
            CustodyKind::Transfer | CustodyKind::Export => {
                let from = text(&d, "from").unwrap_or(&e.actor).to_owned();
                let to = text(&d, "to").unwrap_or("(not named)").to_owned();
                let org = text(&d, "organisation").unwrap_or_default().to_owned();
                let kind = if e.kind == CustodyKind::Transfer {
                    "Transfer"
                } else {
                    "Copy handed outside"
                };
                transfers.push(vec![
                    (transfers.len() + 1).to_string(),
                    zone.second(e.at),
                    from.clone(),
                    to.clone(),
                    org.clone(),
                    text(&d, "reason").unwrap_or_default().to_owned(),
                ]);
                signatures.push(SignatureBlock {
                    caption: format!("{kind} {}, {}", transfers.len(), zone.second(e.at)),
                    signers: vec![
                        Signer {
                            role: "Handed over by".into(),
                            name: from,
                        },
                        Signer {
                            role: "Received by".into(),
                            name: if org.is_empty() { to } else { format!("{to}, {org}") },
                        },
                    ],
                });
            }
            _ => {}
        }
    }

    Report {
        title: format!("Chain of custody: {}", item.name),
        label: input.label.to_owned(),
        kind: "Chain of custody".into(),
        facts: vec![
            ("Incident".into(), input.codename.clone()),
            ("Incident id".into(), input.incident_id.to_string()),
            ("Evidence id".into(), item.id.to_string()),
            (
                "Generated".into(),
                format!("{} by {}", zone.second(input.generated_at), input.generated_by),
            ),
            ("Times in".into(), zone.name().to_owned()),
        ],
        sections: vec![
            Section {
                heading: "Item".into(),
                table: Some(Table::new(
                    &["Field", "Value"],
                    fields.into_iter().map(|(l, v)| vec![l.to_owned(), v]).collect(),
                )),
                ..Section::default()
            },
            Section {
                heading: "Custody events".into(),
                table: Some(Table::new(&["#", "Time", "Event", "By", "What happened"], events)),
                empty: "No custody events.".into(),
                ..Section::default()
            },
            Section {
                heading: "Transfers".into(),
                table: Some(Table::new(
                    &["#", "Time", "Handed over by", "Received by", "Organisation", "Reason"],
                    transfers,
                )),
                empty: "The item has not left the evidence locker's custody.".into(),
                ..Section::default()
            },
            Section {
                heading: "Signatures".into(),
                signatures,
                ..Section::default()
            },
            Section {
                heading: "Audit entries".into(),
                paragraphs: vec![
                    "Each custody event is also an entry of Cordon's hash-chained audit log, appended in the same \
                     transaction."
                        .into(),
                ],
                table: Some(Table::new(&["Event", "Audit entry", "Entry hash"], audit)),
                ..Section::default()
            },
            Section {
                heading: "How to check this report".into(),
                paragraphs: vec![
                    "The bytes are stored write-once under their SHA-256; re-reading them and recomputing both \
                     digests (cordon evidence verify) proves them unchanged since receipt."
                        .into(),
                    "Re-walking the audit chain (cordon audit verify) detects any change to a past entry, and so \
                     to any custody event listed here."
                        .into(),
                ],
                ..Section::default()
            },
        ],
        footer: format!("Chain of custody · {} · evidence {}", input.codename, item.id),
        generated_unix: input.generated_at.as_second(),
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
    fn mismatches_read_as_words() {
        assert_eq!(mismatch_words("missing"), "the stored bytes are missing");
        assert_eq!(mismatch_words("new_kind"), "new kind");
    }
}
