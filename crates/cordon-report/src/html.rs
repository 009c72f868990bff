//! The report as one self-contained HTML page (no scripts, no outside resources). The label
//! heads the page and closes it; printed, it repeats at the top of every page.

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

const STYLE: &str = "body{font-family:'DejaVu Sans','IPAexGothic',sans-serif;font-size:10.5pt;max-width:60rem;\
margin:2rem auto;color:#222}.label{text-align:center;color:#555;letter-spacing:.05em;text-transform:uppercase;\
font-size:8.5pt;border-bottom:1px solid #ccc;padding-bottom:.3rem}table{border-collapse:collapse;width:100%;\
margin:.4rem 0 .8rem}th,td{border:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top;\
overflow-wrap:anywhere}th{background:#f0f0f0}table.facts td{border:none;padding:.1rem .6rem .1rem 0}\
table.facts td:first-child{color:#666;white-space:nowrap}table.signatures td{height:2.2rem}\
footer{color:#777;margin-top:2rem;border-top:1px solid #ccc;padding-top:.3rem;font-size:8.5pt}\
@media print{body{margin:1.5cm 0}.label{position:fixed;top:0;left:0;right:0;border:none}}";

/// Renders the report as HTML; every value is escaped.
pub fn html(r: &Report) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\n\
         <header class=\"label\">{label}</header>\n<h1>{title}</h1>\n<table class=\"facts\">",
        title = esc(&r.title),
        label = esc(&r.label),
    );
    for (label, value) in &r.facts {
        out.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>", esc(label), esc(value)));
    }
    out.push_str("</table>\n");
    for s in &r.sections {
        out.push_str(&format!("<section><h2>{}</h2>\n", esc(&s.heading)));
        if s.is_empty() {
            out.push_str(&format!("<p>{}</p>\n", esc(&s.empty)));
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
        for block in &s.signatures {
            out.push_str(&format!(
                "<p>{}</p><table class=\"signatures\"><thead><tr><th></th><th>Name</th><th>Signature</th><th>Date</th></tr></thead><tbody>",
                esc(&block.caption)
            ));
            for signer in &block.signers {
                out.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td></td><td></td></tr>",
                    esc(&signer.role),
                    esc(&signer.name)
                ));
            }
            out.push_str("</tbody></table>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str(&format!(
        "<footer>{} · {}</footer></body></html>\n",
        esc(&r.label),
        esc(&r.footer)
    ));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_escapes_everything_and_carries_the_label() {
        let h = super::html(&crate::sample());
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("&lt;orders&gt; database &amp; left `quickly`"));
        assert!(!h.contains("<orders>"));
        assert!(h.contains("<td>web1|root.img</td>"));
        assert!(h.contains("<header class=\"label\">Privileged &amp; Confidential</header>"));
        assert!(h.contains("<footer>Privileged &amp; Confidential · amber-falcon</footer>"));
        assert!(h.contains("<td>Handed over by</td><td>alice</td><td></td><td></td>"));
    }
}
