//! The report as PDF: A4 pages laid out line by line with `printpdf`, after the custody
//! report's layout. Text is split into runs by font: DejaVu Sans where it has the glyph,
//! IPAex Gothic for the rest (Japanese), each run placed at its measured advance. Both fonts
//! are embedded and subset to the glyphs used; the Japanese font is only embedded when the
//! report needs it.

use printpdf::{Color, Greyscale, IndirectFontRef, Line, Mm, PdfDocument, PdfLayerReference, Point};
use sha2::{Digest, Sha256};

use crate::{Report, ReportError};

/// DejaVu Sans 2.37 (Bitstream Vera licence), from Debian's fonts-dejavu-core.
const LATIN: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// IPAex Gothic 004.01 (IPA Font License v1.0), from Debian's fonts-ipaexfont-gothic.
const JAPANESE: &[u8] = include_bytes!("../../../assets/fonts/IPAexGothic.ttf");

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 18.0;
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

struct Writer<'a> {
    doc: printpdf::PdfDocumentReference,
    latin: IndirectFontRef,
    japanese: Option<IndirectFontRef>,
    fonts: Fonts<'a>,
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

    fn grey(&self, level: f32) {
        self.layer.set_fill_color(Color::Greyscale(Greyscale::new(level, None)));
    }

    fn write_footer(&self) {
        self.grey(0.45);
        self.put(&format!("{} · page {}", self.footer, self.page), 7.0, MARGIN, 10.0);
        self.grey(0.0);
    }

    /// Draws one line at (`x`, `y`) mm, run by run in the face that has the glyphs.
    fn put(&self, line: &str, size: f32, x: f32, y: f32) {
        let mut at = x;
        for (japanese, run) in self.fonts.runs(&clean(line)) {
            let font = match (&self.japanese, japanese) {
                (Some(j), true) => j,
                _ => &self.latin,
            };
            self.layer.use_text(run.clone(), size, Mm(at), Mm(y), font);
            at += self.fonts.width_mm(&run, size);
        }
    }

    fn reserve(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, size: f32, text: &str) {
        let width = PAGE_W - MARGIN - (MARGIN + x);
        let leading = size * PT_TO_MM * 1.4;
        for line in self.fonts.wrap(&clean(text), size, width) {
            self.reserve(leading);
            self.y -= leading;
            self.put(&line, size, MARGIN + x, self.y);
        }
    }

    fn field(&mut self, x: f32, value_x: f32, size: f32, label: &str, value: &str) {
        let width = PAGE_W - MARGIN - (MARGIN + value_x);
        let leading = size * PT_TO_MM * 1.4;
        let lines = self.fonts.wrap(&clean(value), size, width);
        self.reserve(leading * lines.len().min(3) as f32);
        let top = self.y - leading;
        self.grey(0.4);
        self.put(label, size, MARGIN + x, top);
        self.grey(0.0);
        for line in lines {
            self.reserve(leading);
            self.y -= leading;
            self.put(&line, size, MARGIN + value_x, self.y);
        }
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

fn all_text(r: &Report) -> String {
    let mut s = format!("{}{}", r.title, r.footer);
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
        .with_subject("Incident report");
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
        layer,
        footer: r.footer.clone(),
        page: 1,
        y: PAGE_H - MARGIN,
    };
    w.write_footer();
    w.text(0.0, 16.0, &r.title);
    w.y -= 1.0;
    for (label, value) in &r.facts {
        w.field(0.0, 40.0, 9.0, label, value);
    }
    for s in &r.sections {
        w.rule();
        w.reserve(14.0);
        w.text(0.0, 12.5, &s.heading);
        w.y -= 1.0;
        if s.is_empty() {
            w.text(0.0, 9.0, &s.empty);
            continue;
        }
        for p in &s.paragraphs {
            w.text(0.0, 9.0, p);
            w.y -= 1.0;
        }
        if let Some(t) = s.table.as_ref().filter(|t| !t.rows.is_empty()) {
            // A table prints as records: one block per row, each cell labelled by its header.
            for row in &t.rows {
                w.reserve(10.0);
                w.y -= 1.5;
                for (h, c) in t.headers.iter().zip(row) {
                    w.field(4.0, 40.0, 8.0, h, c);
                }
            }
        }
    }
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
