//! The report as Markdown (GitHub-flavoured tables). Every value is escaped, so a title with
//! `*`, a pipe in an asset name or a backtick in a note shows as written.

use crate::Report;

/// Text that Markdown shows literally, on one line (of its own: a leading `#` or `-` is escaped).
pub(crate) fn escape(text: &str) -> String {
    escape_in(text, true)
}

/// Text for a table cell, where a leading `#` or `-` means nothing.
fn cell(text: &str) -> String {
    escape_in(text, false)
}

fn escape_in(text: &str, line_start: bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // Inside a word (`preliminary_report`) an underscore is no emphasis.
            '_' => {
                let inside =
                    i > 0 && chars[i - 1].is_alphanumeric() && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if !inside {
                    out.push('\\');
                }
                out.push('_');
            }
            '#' | '-' | '+' | '=' if line_start && out.trim().is_empty() => {
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

fn row(cells: impl IntoIterator<Item = String>) -> String {
    format!("| {} |\n", cells.into_iter().collect::<Vec<_>>().join(" | "))
}

/// Renders the report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut out = format!("**{}**\n\n# {}\n\n", escape(&r.label), escape(&r.title));
    for (label, value) in &r.facts {
        out.push_str(&format!("- **{}:** {}\n", escape(label), escape(value)));
    }
    for s in &r.sections {
        out.push_str(&format!("\n## {}\n\n", escape(&s.heading)));
        if s.is_empty() {
            out.push_str(&format!("{}\n", escape(&s.empty)));
            continue;
        }
        for p in &s.paragraphs {
            out.push_str(&escape(p));
            out.push_str("\n\n");
        }
        if let Some(t) = s.table.as_ref().filter(|t| !t.rows.is_empty()) {
            out.push_str(&row(t.headers.iter().map(|h| cell(h))));
            out.push_str(&format!("|{}\n", " --- |".repeat(t.headers.len())));
            for cells in &t.rows {
                out.push_str(&row(cells.iter().map(|c| cell(c))));
            }
            out.push('\n');
        }
        for block in &s.signatures {
            out.push_str(&format!("**{}**\n\n", escape(&block.caption)));
            out.push_str("| | Name | Signature | Date |\n| --- | --- | --- | --- |\n");
            for signer in &block.signers {
                out.push_str(&row([
                    cell(&signer.role),
                    cell(&signer.name),
                    " ".repeat(24),
                    " ".repeat(12),
                ]));
            }
            out.push('\n');
        }
    }
    out.push_str(&format!("\n---\n\n{} · {}\n", escape(&r.label), escape(&r.footer)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_has_label_title_tables_signatures_and_empty_notes() {
        let md = markdown(&crate::sample());
        assert!(md.starts_with("**Privileged & Confidential**\n\n# Incident report: Amber Falcon"));
        assert!(
            md.contains("| name | sha256 |\n| --- | --- |\n| web1\\|root.img |"),
            "{md}"
        );
        assert!(md.contains("\\<orders\\> database & left \\`quickly\\`."), "{md}");
        assert!(md.contains("| Handed over by | alice |"), "{md}");
        assert!(md.contains("\nNo indicators recorded.\n"));
        assert!(md.trim_end().ends_with("Privileged & Confidential · amber-falcon"));
    }

    #[test]
    fn markdown_cannot_be_broken_out_of() {
        assert_eq!(escape("a|b\n# c *d*"), "a\\|b # c \\*d\\*");
        assert_eq!(escape("# heading"), "\\# heading");
        assert_eq!(escape("preliminary_report _x_"), "preliminary_report \\_x\\_");
        assert_eq!(escape("a`b"), "a\\`b");
        assert_eq!(cell("#4 - x"), "#4 - x");
    }
}
