//! The report as one self-contained HTML page (no scripts, no outside resources).

use crate::Report;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:'DejaVu Sans','IPAexGothic',sans-serif;max-width:60rem;margin:2rem auto;\
color:#222}table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.3rem;text-align:left;\
vertical-align:top;word-break:break-all}th{background:#f3f3f3}dt{font-weight:bold}footer{color:#777;margin-top:2rem}";

/// Renders the report as HTML; every value is escaped.
pub fn html(r: &Report) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n<dl>",
        esc(&r.title),
        esc(&r.title)
    );
    for (label, value) in &r.facts {
        out.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(label), esc(value)));
    }
    out.push_str("</dl>\n");
    for s in &r.sections {
        out.push_str(&format!("<section><h2>{}</h2>\n", esc(&s.heading)));
        if s.is_empty() {
            out.push_str(&format!("<p><em>{}</em></p>", esc(&s.empty)));
        }
        for p in &s.paragraphs {
            out.push_str(&format!("<p>{}</p>\n", esc(p)));
        }
        if let Some(t) = s.table.as_ref().filter(|t| !t.rows.is_empty()) {
            out.push_str("<table><thead><tr>");
            for h in &t.headers {
                out.push_str(&format!("<th>{}</th>", esc(h)));
            }
            out.push_str("</tr></thead><tbody>");
            for row in &t.rows {
                out.push_str("<tr>");
                for c in row {
                    out.push_str(&format!("<td>{}</td>", esc(c)));
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str(&format!("<footer>{}</footer></body></html>\n", esc(&r.footer)));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_escapes_everything() {
        let h = super::html(&crate::sample());
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("&lt;orders&gt; database &amp; left"));
        assert!(!h.contains("<orders>"));
        assert!(h.contains("<td>web1.img</td>"));
    }
}
