//! The report as Markdown (GitHub-flavoured tables).

use crate::Report;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Renders the report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut out = format!("# {}\n\n", r.title);
    for (label, value) in &r.facts {
        out.push_str(&format!("- **{label}:** {value}\n"));
    }
    for s in &r.sections {
        out.push_str(&format!("\n## {}\n\n", s.heading));
        if s.is_empty() {
            out.push_str(&format!("_{}_\n", s.empty));
            continue;
        }
        for p in &s.paragraphs {
            out.push_str(p);
            out.push_str("\n\n");
        }
        if let Some(t) = s.table.as_ref().filter(|t| !t.rows.is_empty()) {
            out.push_str(&format!(
                "| {} |\n",
                t.headers.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
            ));
            out.push_str(&format!("|{}\n", " --- |".repeat(t.headers.len())));
            for row in &t.rows {
                out.push_str(&format!(
                    "| {} |\n",
                    row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                ));
            }
        }
    }
    out.push_str(&format!("\n---\n{}\n", r.footer));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markdown_has_title_tables_and_empty_notes() {
        let md = super::markdown(&crate::sample());
        assert!(md.starts_with("# Incident report: Amber Falcon"));
        assert!(md.contains("| name | sha256 |\n| --- | --- |\n| web1.img |"));
        assert!(md.contains("_No indicators recorded._"));
    }
}
