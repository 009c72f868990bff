//! Reports for people: a plain [`Report`] (title, the subject label, facts, sections of
//! paragraphs, tables and signature lines) rendered as Markdown, HTML or PDF. The renderers
//! know nothing about incidents or evidence; the service gathers the facts and decides what
//! each section says, in plain sentences. Text is text: every renderer escapes what it is
//! given, so nothing in a value is read as markup.
//!
//! The subject label (`Attorney Work Project` by default, configurable) heads the Markdown
//! and HTML and sits at the top and bottom of every PDF page.
//!
//! PDFs are produced offline with the fonts embedded from `assets/fonts/`: DejaVu Sans for
//! Latin, Greek and Cyrillic, and IPAex Gothic for Japanese, chosen per glyph run. Fonts are
//! subset to the glyphs used, so a report stays small.

mod html;
mod markdown;
mod pdf;

use thiserror::Error;

pub use html::html;
pub use markdown::markdown;
pub use pdf::pdf;

/// A report: a title, facts as label/value pairs, and sections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub title: String,
    /// The subject label, e.g. `Privileged & Confidential`: heads the report and every PDF page.
    pub label: String,
    /// What kind of document this is (the PDF's subject), e.g. `Incident report`.
    pub kind: String,
    pub facts: Vec<(String, String)>,
    pub sections: Vec<Section>,
    /// A line at the bottom of every PDF page (after the label) and at the end of the others.
    pub footer: String,
    /// Seconds since the Unix epoch: dates the PDF, so the same report renders identically.
    pub generated_unix: i64,
}

/// One section: paragraphs, then an optional table, then signature blocks; `empty` is said
/// when all three are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub table: Option<Table>,
    pub signatures: Vec<SignatureBlock>,
    pub empty: String,
}

/// A table with a header row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Lines where people sign: a caption (e.g. the transfer they sign for) and one line per
/// signer, each with a name, room for a signature and a date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureBlock {
    pub caption: String,
    pub signers: Vec<Signer>,
}

/// One signer: in what capacity (`Handed over by`) and who.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signer {
    pub role: String,
    pub name: String,
}

impl Section {
    pub fn is_empty(&self) -> bool {
        self.paragraphs.is_empty()
            && self.table.as_ref().is_none_or(|t| t.rows.is_empty())
            && self.signatures.is_empty()
    }
}

impl Table {
    /// A table of `headers` and `rows`.
    pub fn new(headers: &[&str], rows: Vec<Vec<String>>) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows,
        }
    }
}

/// Why a PDF could not be rendered.
#[derive(Debug, Error)]
pub enum ReportError {
    #[error("rendering the PDF: {0}")]
    Pdf(String),
}

impl ReportError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Pdf(_) => "report_render",
        }
    }
}

/// `1 exposure`, `2 exposures`, `0 exposures`: a count with its noun in the right number.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", "),
            last.as_ref()
        ),
    }
}

#[cfg(test)]
pub(crate) fn sample() -> Report {
    Report {
        title: "Incident report: Amber Falcon — 不正アクセス事案".into(),
        label: "Privileged & Confidential".into(),
        kind: "Incident report".into(),
        facts: vec![
            ("Severity".into(), "SEV-1".into()),
            ("Status".into(), "resolved".into()),
        ],
        sections: vec![
            Section {
                heading: "Executive summary".into(),
                paragraphs: vec!["An attacker read the <orders> database & left `quickly`.".into()],
                ..Section::default()
            },
            Section {
                heading: "Evidence".into(),
                table: Some(Table::new(
                    &["name", "sha256"],
                    vec![vec!["web1|root.img".into(), "ab".repeat(32)]],
                )),
                ..Section::default()
            },
            Section {
                heading: "Signatures".into(),
                signatures: vec![SignatureBlock {
                    caption: "Transfer 1".into(),
                    signers: vec![Signer {
                        role: "Handed over by".into(),
                        name: "alice".into(),
                    }],
                }],
                ..Section::default()
            },
            Section {
                heading: "Indicators".into(),
                empty: "No indicators recorded.".into(),
                ..Section::default()
            },
        ],
        footer: "amber-falcon".into(),
        generated_unix: 1_795_780_800,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1, "exposure", "exposures"), "1 exposure");
        assert_eq!(count(0, "exposure", "exposures"), "0 exposures");
        assert_eq!(count(2, "entry", "entries"), "2 entries");
        assert_eq!(and_list(&["a"]), "a");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
        assert_eq!(and_list::<&str>(&[]), "");
    }
}
