//! The custody report as PDF: A4 pages laid out line by line with `printpdf`, in DejaVu Sans
//! (shipped in `assets/fonts/`, Bitstream Vera licence), embedded in the file so the report
//! reads the same on every machine and offline. Lines are wrapped by measuring glyph advances
//! with `ttf-parser`.
//!
//! The output is deterministic for the same report: the document dates are the report's
//! generation time and the document id is derived from its content.

use printpdf::{Color, Greyscale, IndirectFontRef, Line, Mm, PdfDocument, PdfLayerReference, Point};
use sha2::{Digest, Sha256};

use super::report::Report;

/// DejaVu Sans 2.37, from Debian's fonts-dejavu-core.
pub(crate) const FONT: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 18.0;
const BOTTOM: f32 = 20.0;
const PT_TO_MM: f32 = 25.4 / 72.0;

/// Measures text in the embedded font.
struct Metrics<'a> {
    face: ttf_parser::Face<'a>,
    units_per_em: f32,
}

impl<'a> Metrics<'a> {
    fn new(font: &'a [u8]) -> Result<Self, String> {
        let face = ttf_parser::Face::parse(font, 0).map_err(|e| format!("parsing the embedded font: {e}"))?;
        let units_per_em = f32::from(face.units_per_em());
        Ok(Self { face, units_per_em })
    }

    /// Width of `text` at `size` points, in millimetres. Characters the font lacks are
    /// dropped by the renderer, so they measure zero.
    fn width_mm(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .filter_map(|c| self.face.glyph_index(c))
            .filter_map(|g| self.face.glyph_hor_advance(g))
            .map(f32::from)
            .sum();
        units / self.units_per_em * size * PT_TO_MM
    }

    /// Splits `text` into lines no wider than `width` millimetres: at spaces, and inside a
    /// word only when the word alone is too wide.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width_mm(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // The word alone: break it by characters if it still does not fit.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if self.width_mm(&piece, size) > width && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// Lays lines out top to bottom, starting new pages as needed.
struct Writer<'a> {
    doc: printpdf::PdfDocumentReference,
    font: IndirectFontRef,
    metrics: Metrics<'a>,
    layer: PdfLayerReference,
    footer: String,
    page: usize,
    y: f32,
}

impl Writer<'_> {
    fn new_page(&mut self) {
        let (page, layer) = self.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "text");
        self.layer = self.doc.get_page(page).get_layer(layer);
        self.page += 1;
        self.y = PAGE_H - MARGIN;
        self.write_footer();
    }

    fn write_footer(&self) {
        let text = format!("{} · page {}", self.footer, self.page);
        self.grey(0.45);
        self.layer.use_text(clean(&text), 7.0, Mm(MARGIN), Mm(10.0), &self.font);
        self.grey(0.0);
    }

    fn grey(&self, level: f32) {
        self.layer.set_fill_color(Color::Greyscale(Greyscale::new(level, None)));
    }

    /// Makes room for `height` millimetres, breaking the page if needed.
    fn reserve(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    /// Writes wrapped text at `x` (from the left margin) in `size` points.
    fn text(&mut self, x: f32, size: f32, text: &str) {
        let width = PAGE_W - MARGIN - (MARGIN + x);
        let leading = size * PT_TO_MM * 1.35;
        for line in self.metrics.wrap(&clean(text), size, width) {
            self.reserve(leading);
            self.y -= leading;
            self.layer.use_text(line, size, Mm(MARGIN + x), Mm(self.y), &self.font);
        }
    }

    /// A label in grey at `x` and a wrapped value at `value_x`, top-aligned.
    fn field(&mut self, x: f32, value_x: f32, size: f32, label: &str, value: &str) {
        let width = PAGE_W - MARGIN - (MARGIN + value_x);
        let leading = size * PT_TO_MM * 1.35;
        let lines = self.metrics.wrap(&clean(value), size, width);
        self.reserve(leading * lines.len().min(3) as f32);
        let top = self.y - leading;
        self.grey(0.4);
        self.layer
            .use_text(clean(label), size, Mm(MARGIN + x), Mm(top), &self.font);
        self.grey(0.0);
        for line in lines {
            self.reserve(leading);
            self.y -= leading;
            self.layer
                .use_text(line, size, Mm(MARGIN + value_x), Mm(self.y), &self.font);
        }
    }

    fn gap(&mut self, mm: f32) {
        self.y -= mm;
    }

    fn rule(&mut self) {
        self.reserve(3.0);
        self.y -= 1.5;
        self.layer.set_outline_thickness(0.4);
        self.layer
            .set_outline_color(Color::Greyscale(Greyscale::new(0.7, None)));
        self.layer.add_line(Line {
            points: vec![
                (Point::new(Mm(MARGIN), Mm(self.y)), false),
                (Point::new(Mm(PAGE_W - MARGIN), Mm(self.y)), false),
            ],
            is_closed: false,
        });
        self.y -= 1.5;
    }
}

/// Text without control characters (they have no glyphs and would break the layout).
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect()
}

/// Renders the report. `created_unix_seconds` dates the document.
pub(crate) fn render(report: &Report, created_unix_seconds: i64) -> Result<Vec<u8>, String> {
    let metrics = Metrics::new(FONT)?;
    let created = time::OffsetDateTime::from_unix_timestamp(created_unix_seconds)
        .map_err(|e| format!("dating the document: {e}"))?;
    let document_id = hex::encode(&Sha256::digest(report.markdown().as_bytes())[..16]);
    let (doc, page, layer) = PdfDocument::new(clean(&report.title), Mm(PAGE_W), Mm(PAGE_H), "text");
    let doc = doc
        .with_creation_date(created)
        .with_mod_date(created)
        .with_metadata_date(created)
        .with_document_id(document_id)
        .with_creator("Cordon")
        .with_producer("Cordon")
        .with_subject("Chain of custody of an evidence item");
    let font = doc
        .add_external_font(FONT)
        .map_err(|e| format!("embedding the font: {e}"))?;
    let layer = doc.get_page(page).get_layer(layer);
    let mut w = Writer {
        doc,
        font,
        metrics,
        layer,
        footer: report.footer.clone(),
        page: 1,
        y: PAGE_H - MARGIN,
    };
    w.write_footer();

    w.text(0.0, 16.0, &report.title);
    w.gap(1.0);
    for line in &report.preamble {
        w.text(0.0, 9.0, line);
    }
    w.rule();

    w.text(0.0, 12.0, "Item");
    w.gap(1.0);
    for f in &report.item {
        w.field(0.0, 32.0, 8.5, f.label, &f.value);
    }
    w.gap(2.0);
    w.rule();

    w.text(0.0, 12.0, "Custody events");
    for e in &report.events {
        // Keep an event's heading with at least its first detail line.
        w.reserve(14.0);
        w.gap(2.0);
        w.text(
            0.0,
            9.5,
            &format!("{}.  {}  ·  {}  ·  by {}", e.number, e.kind, e.at, e.actor),
        );
        for (label, value) in &e.details {
            w.field(6.0, 44.0, 8.0, label, value);
        }
        w.field(
            6.0,
            44.0,
            7.0,
            "audit entry",
            &format!("#{} · {}", e.audit_seq, e.audit_hash),
        );
    }
    w.gap(2.0);
    w.rule();

    w.text(0.0, 12.0, "How to check this report");
    for line in &report.how_to_check {
        w.gap(1.0);
        w.text(0.0, 8.5, line);
    }

    let plain = w.doc.save_to_bytes().map_err(|e| format!("writing the PDF: {e}"))?;
    compress_font(&plain)
}

/// printpdf leaves the embedded font program uncompressed (three quarters of a megabyte);
/// deflating it (as `/FlateDecode`, which `/FontFile2` allows) halves the file.
fn compress_font(pdf: &[u8]) -> Result<Vec<u8>, String> {
    use printpdf::lopdf::{Document, Object};
    let mut doc = Document::load_mem(pdf).map_err(|e| format!("re-reading the PDF: {e}"))?;
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object
            && stream.dict.has(b"Length1")
        {
            stream.compress().map_err(|e| format!("compressing the font: {e}"))?;
        }
    }
    let mut out = Vec::with_capacity(pdf.len() / 2);
    doc.save_to(&mut out).map_err(|e| format!("writing the PDF: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_respects_the_width_and_keeps_every_character() {
        let m = Metrics::new(FONT).unwrap();
        let text = "Acquired from the root volume of web1 with dd, then sealed in bag 42 ".repeat(8);
        let lines = m.wrap(&text, 9.0, 80.0);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| m.width_mm(l, 9.0) <= 80.0));
        assert_eq!(lines.join(" "), text.split_whitespace().collect::<Vec<_>>().join(" "));
        let digest = "a".repeat(300);
        let lines = m.wrap(&digest, 9.0, 50.0);
        assert!(lines.len() > 1 && lines.concat() == digest);
        assert_eq!(m.wrap("", 9.0, 50.0), [""]);
    }
}
