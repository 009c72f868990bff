//! Incident reports: a plain [`Report`] (title, facts, sections of paragraphs and tables)
//! rendered as Markdown, HTML or PDF. The renderers know nothing about incidents; the service
//! gathers the facts and decides what each section says.
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
    pub facts: Vec<(String, String)>,
    pub sections: Vec<Section>,
    /// A line at the bottom of every PDF page and at the end of the other formats.
    pub footer: String,
    /// Seconds since the Unix epoch: dates the PDF, so the same report renders identically.
    pub generated_unix: i64,
}

/// One section: paragraphs, then an optional table; `empty` is said when both are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub paragraphs: Vec<String>,
    pub table: Option<Table>,
    pub empty: String,
}

/// A table with a header row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Section {
    pub fn is_empty(&self) -> bool {
        self.paragraphs.is_empty() && self.table.as_ref().is_none_or(|t| t.rows.is_empty())
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

#[cfg(test)]
pub(crate) fn sample() -> Report {
    Report {
        title: "Incident report: Amber Falcon — 不正アクセス事案".into(),
        facts: vec![
            ("Severity".into(), "SEV-1".into()),
            ("Status".into(), "resolved".into()),
        ],
        sections: vec![
            Section {
                heading: "Executive summary".into(),
                paragraphs: vec!["An attacker read the <orders> database & left.".into()],
                table: None,
                empty: String::new(),
            },
            Section {
                heading: "Evidence".into(),
                paragraphs: vec![],
                table: Some(Table {
                    headers: vec!["name".into(), "sha256".into()],
                    rows: vec![vec!["web1.img".into(), "ab".repeat(32)]],
                }),
                empty: String::new(),
            },
            Section {
                heading: "Indicators".into(),
                empty: "No indicators recorded.".into(),
                ..Section::default()
            },
        ],
        footer: "Attorney Work Project · amber-falcon".into(),
        generated_unix: 1_795_780_800,
    }
}
