//! The custody report as PDF, by the one PDF writer of `cordon-report` (A4, DejaVu Sans
//! embedded and subset, IPAex Gothic only when Japanese text needs it), so custody and
//! incident reports look alike: tables, signature lines, the subject label on every page.
//!
//! The output is deterministic for the same report: the document dates are the report's
//! generation time and the document id is derived from its content.

pub(crate) fn render(report: &cordon_report::Report) -> Result<Vec<u8>, String> {
    cordon_report::pdf(report).map_err(|e| e.to_string())
}
