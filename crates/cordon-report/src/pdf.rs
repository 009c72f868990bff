//! The report as PDF: A4 pages laid out line by line with `printpdf`: facts in two columns,
//! tables as ruled tables (shaded header repeated on each page, columns sized to their
//! content), signature lines, and the subject label at the top and bottom of every page with
//! "page N of M". Text is split into runs by font: DejaVu Sans where it has the glyph,
//! IPAex Gothic for the rest (Japanese), each run placed at its measured advance. Both fonts
//! are embedded and subset to the glyphs used; the Japanese font is only embedded when the
//! report needs it.

use printpdf::{
    Color, Greyscale, IndirectFontRef, Line, Mm, PdfDocument, PdfLayerReference, Point, Rect, TextRenderingMode,
};
use sha2::{Digest, Sha256};

use crate::{Report, ReportError, SignatureBlock, Table};

/// DejaVu Sans 2.37 (Bitstream Vera licence), from Debian's fonts-dejavu-core.
const LATIN: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// IPAex Gothic 004.01 (IPA Font License v1.0), from Debian's fonts-ipaexfont-gothic.
const JAPANESE: &[u8] = include_bytes!("../../../assets/fonts/IPAexGothic.ttf");

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 18.0;
/// Where the body starts below the page top, and stops above the bottom edge (mm).
const TOP: f32 = 18.0;
const BOTTOM: f32 = 20.0;
const PT_TO_MM: f32 = 25.4 / 72.0;

struct Face<'a> {
    face: ttf_parser::Face<'a>,
    units_per_em: f32,
}

impl<'a> Face<'a> {
    fn new(font: &'a [u8]) -> Result<Self, ReportError> {
        let face = ttf_parser::Face::parse(font, 0).map_err(|e| ReportError::Pdf(format!("parsing a font: {e}")))?;
        let units_per_em = f32::from(face.units_per_em());
        Ok(Self { face, units_per_em })
    }

    fn has(&self, c: char) -> bool {
        self.face.glyph_index(c).is_some()
    }

    fn advance_mm(&self, c: char, size: f32) -> f32 {
        let units = self
            .face
            .glyph_index(c)
            .and_then(|g| self.face.glyph_hor_advance(g))
            .map(f32::from)
            .unwrap_or(0.0);
        units / self.units_per_em * size * PT_TO_MM
    }
}

/// The two faces: which one draws a character, and how wide it is.
struct Fonts<'a> {
    latin: Face<'a>,
    japanese: Face<'a>,
}

impl Fonts<'_> {
    /// True: the Japanese face draws `c`.
    fn uses_japanese(&self, c: char) -> bool {
        !self.latin.has(c) && self.japanese.has(c)
    }

    fn width_mm(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| {
                if self.uses_japanese(c) {
                    self.japanese.advance_mm(c, size)
                } else {
                    self.latin.advance_mm(c, size)
                }
            })
            .sum()
    }

    /// Runs of consecutive characters drawn by the same face.
    fn runs(&self, text: &str) -> Vec<(bool, String)> {
        let mut runs: Vec<(bool, String)> = Vec::new();
        for c in text.chars() {
            let j = self.uses_japanese(c);
            match runs.last_mut() {
                Some((k, s)) if *k == j => s.push(c),
                _ => runs.push((j, c.to_string())),
            }
        }
        runs
    }

    /// Lines no wider than `width` mm: at spaces, inside a word only when it alone is too wide
    /// (Japanese has no spaces, so its lines break between characters).
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

/// Text without control characters.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect()
}

/// Body text size, table text size (pt).
const BODY: f32 = 9.0;
const SMALL: f32 = 8.0;
/// Horizontal and vertical padding inside a table cell (mm).
const PAD_X: f32 = 1.2;
const PAD_Y: f32 = 0.9;
/// The narrowest a column is squeezed to before its words break (mm).
const MIN_COLUMN: f32 = 6.0;

fn leading(size: f32) -> f32 {
    size * PT_TO_MM * 1.35
}

struct Writer<'a> {
    doc: printpdf::PdfDocumentReference,
    latin: IndirectFontRef,
    japanese: Option<IndirectFontRef>,
    fonts: Fonts<'a>,
    /// Every page's layer, for the header and footer written once the page count is known.
    pages: Vec<PdfLayerReference>,
    layer: PdfLayerReference,
    y: f32,
}

impl Writer<'_> {
    fn new_page(&mut self) {
        let (page, layer) = self.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "text");
        self.layer = self.doc.get_page(page).get_layer(layer);
        self.pages.push(self.layer.clone());
        self.y = PAGE_H - TOP;
    }

    fn grey(&self, level: f32) {
        self.layer.set_fill_color(Color::Greyscale(Greyscale::new(level, None)));
    }

    /// Draws one line at (`x`, `y`) mm, run by run in the face that has the glyphs; `bold`
    /// strokes the outline too (the embedded face has no bold cut).
    fn put_on(&self, layer: &PdfLayerReference, line: &str, size: f32, x: f32, y: f32, bold: bool) {
        if bold {
            layer.set_text_rendering_mode(TextRenderingMode::FillStroke);
            layer.set_outline_color(Color::Greyscale(Greyscale::new(0.0, None)));
            layer.set_outline_thickness(size / 40.0);
        }
        let mut at = x;
        for (japanese, run) in self.fonts.runs(&clean(line)) {
            let font = match (&self.japanese, japanese) {
                (Some(j), true) => j,
                _ => &self.latin,
            };
            layer.use_text(run.clone(), size, Mm(at), Mm(y), font);
            at += self.fonts.width_mm(&run, size);
        }
        if bold {
            layer.set_text_rendering_mode(TextRenderingMode::Fill);
        }
    }

    fn put(&self, line: &str, size: f32, x: f32, y: f32, bold: bool) {
        self.put_on(&self.layer, line, size, x, y, bold);
    }

    fn reserve(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, size: f32, text: &str, bold: bool) {
        let width = PAGE_W - MARGIN - (MARGIN + x);
        let leading = leading(size);
        for line in self.fonts.wrap(&clean(text), size, width) {
            self.reserve(leading);
            self.y -= leading;
            self.put(&line, size, MARGIN + x, self.y, bold);
        }
    }

    fn hline(&self, layer: &PdfLayerReference, x0: f32, x1: f32, y: f32, grey: f32, thickness: f32) {
        layer.set_outline_thickness(thickness);
        layer.set_outline_color(Color::Greyscale(Greyscale::new(grey, None)));
        layer.add_line(Line {
            points: vec![(Point::new(Mm(x0), Mm(y)), false), (Point::new(Mm(x1), Mm(y)), false)],
            is_closed: false,
        });
    }

    fn fill_rect(&self, x0: f32, y0: f32, x1: f32, y1: f32, grey: f32) {
        self.grey(grey);
        self.layer.add_rect(Rect::new(Mm(x0), Mm(y0), Mm(x1), Mm(y1)));
        self.grey(0.0);
    }

    /// The facts as two columns of label and value, or one when a word would not fit in half.
    fn facts(&mut self, facts: &[(String, String)]) {
        let label_w = facts
            .iter()
            .map(|(l, _)| self.fonts.width_mm(l, BODY))
            .fold(0.0, f32::max)
            .min(40.0)
            + 4.0;
        // Values wrap at spaces; a long word (an id, a digest) asks for the full width.
        let widest = facts
            .iter()
            .flat_map(|(_, v)| v.split_whitespace())
            .map(|w| self.fonts.width_mm(w, BODY))
            .fold(0.0, f32::max);
        let two = widest <= (PAGE_W - 2.0 * MARGIN) / 2.0 - label_w - 3.0;
        let (half, column) = if two {
            (facts.len().div_ceil(2), (PAGE_W - 2.0 * MARGIN) / 2.0)
        } else {
            (facts.len(), PAGE_W - 2.0 * MARGIN)
        };
        let lead = leading(BODY);
        for i in 0..half {
            let cells: Vec<(f32, &(String, String))> = [(0.0, facts.get(i)), (column, facts.get(i + half))]
                .into_iter()
                .filter_map(|(x, f)| f.map(|f| (x, f)))
                .collect();
            let wrapped: Vec<Vec<String>> = cells
                .iter()
                .map(|(_, (_, v))| self.fonts.wrap(&clean(v), BODY, column - label_w - 3.0))
                .collect();
            let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
            self.reserve(lead * lines as f32);
            for ((x, (label, _)), value) in cells.iter().zip(&wrapped) {
                self.grey(0.4);
                self.put(label, BODY, MARGIN + x, self.y - lead, false);
                self.grey(0.0);
                for (n, line) in value.iter().enumerate() {
                    self.put(line, BODY, MARGIN + x + label_w, self.y - lead * (n + 1) as f32, false);
                }
            }
            self.y -= lead * lines as f32;
        }
    }

    /// Column widths (mm) that fill `width`: natural widths when they fit; otherwise columns
    /// narrower than a fair share keep their natural width (short values never wrap), and the
    /// wide ones share the rest by their natural width, each keeping room for its longest word
    /// (within reason).
    fn column_widths(&self, t: &Table, size: f32, width: f32) -> Vec<f32> {
        let n = t.headers.len().max(1);
        let mut natural = vec![0.0f32; n];
        let mut least = vec![MIN_COLUMN; n];
        for row in std::iter::once(&t.headers).chain(&t.rows) {
            for (c, cell) in row.iter().enumerate().take(n) {
                let cell = clean(cell);
                natural[c] = natural[c].max(self.fonts.width_mm(&cell, size) + 2.0 * PAD_X);
                let longest_word = cell
                    .split_whitespace()
                    .map(|w| self.fonts.width_mm(w, size))
                    .fold(0.0, f32::max);
                least[c] = least[c].max((longest_word + 2.0 * PAD_X).min(width / n as f32).min(40.0));
            }
        }
        let total: f32 = natural.iter().sum();
        if total <= width {
            return natural.iter().map(|w| w * width / total.max(f32::EPSILON)).collect();
        }
        let mut widths = vec![0.0f32; n];
        let mut wide: Vec<usize> = (0..n).collect();
        let mut left = width;
        loop {
            let fair = left / wide.len().max(1) as f32;
            let (narrow, rest): (Vec<usize>, Vec<usize>) = wide.iter().partition(|&&c| natural[c] <= fair);
            if narrow.is_empty() || rest.is_empty() {
                break;
            }
            for c in narrow {
                widths[c] = natural[c];
                left -= natural[c];
            }
            wide = rest;
        }
        let wide_natural: f32 = wide.iter().map(|&c| natural[c]).sum::<f32>().max(f32::EPSILON);
        for &c in &wide {
            widths[c] = (left * natural[c] / wide_natural).max(least[c]);
        }
        let sum: f32 = widths.iter().sum();
        widths.iter().map(|w| w * width / sum).collect()
    }

    fn table_row(&mut self, cells: &[String], widths: &[f32], size: f32, header: bool) {
        let lead = leading(size);
        let wrapped: Vec<Vec<String>> = widths
            .iter()
            .enumerate()
            .map(|(c, w)| {
                let text = cells.get(c).map(|s| clean(s)).unwrap_or_default();
                self.fonts.wrap(&text, size, w - 2.0 * PAD_X)
            })
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let height = lines as f32 * lead + 2.0 * PAD_Y;
        let top = self.y;
        if header {
            self.fill_rect(MARGIN, top - height, PAGE_W - MARGIN, top, 0.9);
        }
        let mut x = MARGIN;
        for (lines, w) in wrapped.iter().zip(widths) {
            for (n, line) in lines.iter().enumerate() {
                let baseline = top - PAD_Y - lead * (n + 1) as f32 + size * PT_TO_MM * 0.3;
                self.put(line, size, x + PAD_X, baseline, header);
            }
            x += w;
        }
        self.y -= height;
        self.hline(&self.layer, MARGIN, PAGE_W - MARGIN, self.y, 0.75, 0.3);
    }

    /// A table: a shaded header row (repeated on each new page), a rule under each row, rows
    /// never split across pages.
    fn table(&mut self, t: &Table, size: f32) {
        let widths = self.column_widths(t, size, PAGE_W - 2.0 * MARGIN);
        let lead = leading(size);
        self.reserve(2.0 * (lead + 2.0 * PAD_Y) + 1.0);
        self.table_row(&t.headers, &widths, size, true);
        for row in &t.rows {
            let lines = widths
                .iter()
                .enumerate()
                .map(|(c, w)| {
                    let text = row.get(c).map(|s| clean(s)).unwrap_or_default();
                    self.fonts.wrap(&text, size, w - 2.0 * PAD_X).len()
                })
                .max()
                .unwrap_or(1);
            let height = lines as f32 * lead + 2.0 * PAD_Y;
            if self.y - height < BOTTOM {
                self.new_page();
                self.table_row(&t.headers, &widths, size, true);
            }
            self.table_row(row, &widths, size, false);
        }
        self.y -= 2.0;
    }

    /// Signature lines: the caption, then per signer their capacity and name on one line and,
    /// below, ruled room for a signature and a date.
    fn signatures(&mut self, block: &SignatureBlock) {
        let lead = leading(BODY);
        let row = 15.0;
        self.reserve(lead + 2.0 + row * block.signers.len() as f32);
        self.y -= 1.0;
        self.text(0.0, BODY, &block.caption, true);
        let (name_x, date_x, end) = (MARGIN + 34.0, MARGIN + 118.0, PAGE_W - MARGIN);
        for signer in &block.signers {
            self.reserve(row);
            let name_line = self.y - lead - 1.0;
            let sign_line = self.y - row + 3.0;
            self.grey(0.4);
            self.put(&signer.role, SMALL, MARGIN, name_line, false);
            self.put("Signature", 6.5, name_x, sign_line - 3.0, false);
            self.put("Date", 6.5, date_x, sign_line - 3.0, false);
            self.grey(0.0);
            let name = self
                .fonts
                .wrap(&clean(&signer.name), BODY, end - name_x)
                .into_iter()
                .next()
                .unwrap_or_default();
            self.put(&name, BODY, name_x, name_line, false);
            self.hline(&self.layer, name_x, date_x - 8.0, sign_line, 0.2, 0.4);
            self.hline(&self.layer, date_x, end, sign_line, 0.2, 0.4);
            self.y -= row;
        }
        self.y -= 1.0;
    }

    /// The label at the top of every page and the footer line with the page count at the bottom.
    fn headers_and_footers(&self, label: &str, footer: &str) {
        let total = self.pages.len();
        for (i, layer) in self.pages.iter().enumerate() {
            layer.set_fill_color(Color::Greyscale(Greyscale::new(0.35, None)));
            let size = 7.5;
            let w = self.fonts.width_mm(label, size);
            self.put_on(layer, label, size, (PAGE_W - w) / 2.0, PAGE_H - 10.0, true);
            self.hline(layer, MARGIN, PAGE_W - MARGIN, PAGE_H - 11.8, 0.7, 0.3);
            self.hline(layer, MARGIN, PAGE_W - MARGIN, 13.8, 0.7, 0.3);
            let line = format!("{label} · {footer} · page {} of {total}", i + 1);
            let line = self
                .fonts
                .wrap(&clean(&line), 7.0, PAGE_W - 2.0 * MARGIN)
                .into_iter()
                .next()
                .unwrap_or_default();
            self.put_on(layer, &line, 7.0, MARGIN, 10.0, false);
            layer.set_fill_color(Color::Greyscale(Greyscale::new(0.0, None)));
        }
    }
}

fn all_text(r: &Report) -> String {
    let mut s = format!("{}{}{}", r.title, r.footer, r.label);
    for (l, v) in &r.facts {
        s.push_str(l);
        s.push_str(v);
    }
    for sec in &r.sections {
        s.push_str(&sec.heading);
        s.push_str(&sec.empty);
        for p in &sec.paragraphs {
            s.push_str(p);
        }
        if let Some(t) = &sec.table {
            for c in t.headers.iter().chain(t.rows.iter().flatten()) {
                s.push_str(c);
            }
        }
        for b in &sec.signatures {
            s.push_str(&b.caption);
            for signer in &b.signers {
                s.push_str(&signer.role);
                s.push_str(&signer.name);
            }
        }
    }
    s
}

/// Renders the report as PDF.
pub fn pdf(r: &Report) -> Result<Vec<u8>, ReportError> {
    let fonts = Fonts {
        latin: Face::new(LATIN)?,
        japanese: Face::new(JAPANESE)?,
    };
    let needs_japanese = all_text(r).chars().any(|c| fonts.uses_japanese(c));
    let created = time::OffsetDateTime::from_unix_timestamp(r.generated_unix)
        .map_err(|e| ReportError::Pdf(format!("dating the document: {e}")))?;
    let document_id = hex::encode(&Sha256::digest(crate::markdown(r).as_bytes())[..16]);
    let (doc, page, layer) = PdfDocument::new(clean(&r.title), Mm(PAGE_W), Mm(PAGE_H), "text");
    let doc = doc
        .with_creation_date(created)
        .with_mod_date(created)
        .with_metadata_date(created)
        .with_document_id(document_id)
        .with_creator("Cordon")
        .with_producer("Cordon")
        .with_subject(clean(&format!("{} · {}", r.kind, r.label)));
    let latin = doc
        .add_external_font_with_subsetting(LATIN, true)
        .map_err(|e| ReportError::Pdf(format!("embedding DejaVu Sans: {e}")))?;
    let japanese = if needs_japanese {
        Some(
            doc.add_external_font_with_subsetting(JAPANESE, true)
                .map_err(|e| ReportError::Pdf(format!("embedding IPAex Gothic: {e}")))?,
        )
    } else {
        None
    };
    let layer = doc.get_page(page).get_layer(layer);
    let mut w = Writer {
        doc,
        latin,
        japanese,
        fonts,
        pages: vec![layer.clone()],
        layer,
        y: PAGE_H - TOP,
    };
    w.text(0.0, 15.0, &r.title, true);
    w.y -= 2.0;
    w.facts(&r.facts);
    for s in &r.sections {
        w.y -= 3.0;
        w.reserve(16.0);
        w.text(0.0, 11.5, &s.heading, true);
        w.y -= 1.0;
        if s.is_empty() {
            w.text(0.0, BODY, &s.empty, false);
            continue;
        }
        for p in &s.paragraphs {
            w.text(0.0, BODY, p, false);
            w.y -= 1.2;
        }
        if let Some(t) = s.table.as_ref().filter(|t| !t.rows.is_empty()) {
            w.y -= 0.5;
            w.table(t, SMALL);
        }
        for block in &s.signatures {
            w.signatures(block);
        }
    }
    w.headers_and_footers(&r.label, &r.footer);
    let bytes = w
        .doc
        .save_to_bytes()
        .map_err(|e| ReportError::Pdf(format!("writing the PDF: {e}")))?;
    compress_fonts(&bytes)
}

/// Deflates the embedded font programs (`/FlateDecode`, which `/FontFile2` allows).
fn compress_fonts(pdf: &[u8]) -> Result<Vec<u8>, ReportError> {
    use printpdf::lopdf::{Document, Object};
    let mut doc = Document::load_mem(pdf).map_err(|e| ReportError::Pdf(format!("re-reading the PDF: {e}")))?;
    for object in doc.objects.values_mut() {
        if let Object::Stream(stream) = object
            && stream.dict.has(b"Length1")
            && !stream.dict.has(b"Filter")
        {
            stream
                .compress()
                .map_err(|e| ReportError::Pdf(format!("compressing a font: {e}")))?;
        }
    }
    let mut out = Vec::with_capacity(pdf.len());
    doc.save_to(&mut out)
        .map_err(|e| ReportError::Pdf(format!("writing the PDF: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_pick_the_face_per_glyph() {
        let fonts = Fonts {
            latin: Face::new(LATIN).unwrap(),
            japanese: Face::new(JAPANESE).unwrap(),
        };
        let runs = fonts.runs("Amber 不正アクセス 2026");
        assert_eq!(
            runs,
            [
                (false, "Amber ".to_string()),
                (true, "不正アクセス".to_string()),
                (false, " 2026".to_string())
            ]
        );
        let lines = fonts.wrap(&"不正アクセス".repeat(30), 9.0, 60.0);
        assert!(lines.len() > 2 && lines.iter().all(|l| fonts.width_mm(l, 9.0) <= 60.0));
    }

    #[test]
    fn pdf_embeds_subset_fonts_and_stays_small() {
        let bytes = pdf(&crate::sample()).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(
            bytes.len() < 400_000,
            "subset fonts keep the file small: {} bytes",
            bytes.len()
        );
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("FontFile2") && text.contains("ToUnicode"));
        let mut latin_only = crate::sample();
        latin_only.title = "Incident report: Amber Falcon".into();
        let small = pdf(&latin_only).unwrap();
        assert!(small.len() < bytes.len(), "no Japanese, no Japanese font");
    }
}
