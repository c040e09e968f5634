//! The PPTX writer: a [`Deck`] as a PresentationML package (16:9) that PowerPoint and
//! LibreOffice open — a title slide, then one slide per [`Slide`] (more when its content
//! is too tall), the slide's notes as speaker notes.
//!
//! Written by hand: no maintained Rust crate writes PPTX, and the package is a zip of a
//! few fixed Office Open XML parts (content types, relationships, a theme, a slide
//! master, a layout, a notes master) plus one part per slide, all templates filled
//! with `format!`. Every shape has explicit geometry, so nothing depends on how an
//! application lays out placeholders, and charts are DrawingML rectangles and text
//! boxes rather than embedded chart parts (which would need a spreadsheet inside).
//!
//! The output is deterministic: parts in a fixed order, fixed zip timestamps and
//! document dates ([`PptxOptions::created`], 1980-01-01 by default).

use std::collections::VecDeque;
use std::io::Write as _;

use chrono::{Datelike, NaiveDateTime, Timelike};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::DraftError;
use crate::deck::{Block, Bullet, Deck, Slide, chart_heading, format_value};
use crate::document::Chart;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PptxOptions {
    /// The document's creation time (core properties and zip entries); `None` is
    /// 1980-01-01 00:00, the zip format's first date, so equal decks give equal bytes.
    pub created: Option<NaiveDateTime>,
}

/// The deck as `.pptx` bytes, with fixed dates (see [`PptxOptions`]).
pub fn write(deck: &Deck) -> Result<Vec<u8>, DraftError> {
    write_with(deck, &PptxOptions::default())
}

pub fn write_with(deck: &Deck, options: &PptxOptions) -> Result<Vec<u8>, DraftError> {
    let mut slides = vec![title_slide(deck)];
    for slide in &deck.slides {
        slides.extend(content_slides(slide));
    }
    let parts = package(deck, &slides, options);
    zip_parts(&parts, options.created)
}

// Geometry, in EMU (914400 per inch, 12700 per point). The slide is 13.33 × 7.5 in.
const EMU_PER_IN: f64 = 914_400.0;
const EMU_PER_PT: f64 = 12_700.0;
const SLIDE_W: i64 = 12_192_000;
const SLIDE_H: i64 = 6_858_000;
const MARGIN_X: i64 = 548_640; // 0.6 in
const CONTENT_W: i64 = SLIDE_W - 2 * MARGIN_X;
const TITLE_Y: i64 = 274_320; // 0.3 in
const TITLE_H: i64 = 868_680; // 0.95 in
const RULE_Y: i64 = 1_188_720; // 1.3 in
const BODY_TOP: i64 = 1_371_600; // 1.5 in
const BODY_BOTTOM: i64 = 6_446_520; // 7.05 in
const GAP: i64 = 137_160; // 0.15 in
const CHART_H: i64 = 3_017_520; // 3.3 in
/// A chart is drawn to whatever box it gets, so it takes the room left down to this
/// rather than moving to a slide of its own under a few bullets.
const CHART_MIN_H: i64 = 1_828_800; // 2 in

const TITLE_PT: f64 = 28.0;
const HEADING_PT: f64 = 22.0;
const PARAGRAPH_PT: f64 = 18.0;
const TABLE_PT: f64 = 14.0;
/// Below this a slide is unreadable when projected; a block that still does not fit
/// is placed anyway and may run past the bottom.
const MIN_PT: f64 = 12.0;
/// Line height over font size: Calibri is about 1.2; LibreOffice without Calibri
/// substitutes wider, taller fonts, and an overestimate only costs some space.
const LINE: f64 = 1.25;
const BULLET_SPACE_PT: f64 = 6.0;
const CELL_MAR_X: i64 = 91_440; // 0.1 in
const CELL_MAR_Y: i64 = 45_720; // 0.05 in

const TEXT: &str = "262626";
const MUTED: &str = "595959";
const ACCENT: &str = "2F5597";
const BAR: &str = "4472C4";
const GRID: &str = "BFBFBF";
const BAND: &str = "EEF2F8";
const WHITE: &str = "FFFFFF";

fn inches(value: f64) -> i64 {
    (value * EMU_PER_IN).round() as i64
}

/// One slide of the package, as XML, with its speaker notes.
struct SlidePart {
    xml: String,
    notes: Vec<String>,
}

// ---------------------------------------------------------------------------------
// Layout: which blocks go on which slide, and where.
//
// Too much content is split onto continuation slides ("Title (cont.)") rather than
// shrunk: the text is estimated, not measured (no fonts here, and the fonts differ
// between PowerPoint and LibreOffice), and splitting errs safely — a generous
// estimate costs a half-empty slide, while shrinking to an underestimate still
// overflows and leaves the deck in small type. Lists split between items and tables
// between rows (the header repeated); only a single paragraph taller than a whole
// slide is shrunk, down to MIN_PT.
// ---------------------------------------------------------------------------------

/// A piece of a block as it is placed: a whole block, or some items or rows of one.
#[derive(Clone)]
enum Piece<'a> {
    Heading(&'a str, f64),
    Paragraph(&'a str, f64),
    Bullets(&'a [Bullet]),
    Table {
        header: &'a [String],
        rows: &'a [Vec<String>],
        widths: Vec<i64>,
    },
    Chart(&'a Chart),
}

struct Placed<'a> {
    piece: Piece<'a>,
    y: i64,
    h: i64,
}

enum Fit<'a> {
    /// All of it, at this height.
    All(Piece<'a>, i64),
    /// The first part here at this height, the rest on the next slide.
    Split(Piece<'a>, i64, Piece<'a>),
    /// None of it: it goes on a new slide. Only ever for a slide that already has
    /// something on it, so pagination always moves on.
    Next(Piece<'a>),
}

fn paginate(slide: &Slide) -> Vec<Vec<Placed<'_>>> {
    let mut pending: VecDeque<Piece<'_>> = slide.blocks.iter().map(piece).collect();
    let mut pages: Vec<Vec<Placed<'_>>> = vec![Vec::new()];
    let mut y = BODY_TOP;
    while let Some(next) = pending.pop_front() {
        let empty = pages.last().is_none_or(Vec::is_empty);
        let room = BODY_BOTTOM - y;
        let mut fit = fit(next, room, empty);
        // A heading at the foot of a slide with what it heads on the next reads as a
        // mistake: it moves on with the first part of the following block.
        if let (Fit::All(Piece::Heading(..), h), Some(following)) = (&fit, pending.front())
            && !empty
            && room - h - GAP < min_height(following)
            && let Fit::All(heading, _) = fit
        {
            fit = Fit::Next(heading);
        }
        let page = match fit {
            Fit::All(piece, h) => {
                push_placed(&mut pages, piece, y, h);
                y += h + GAP;
                continue;
            }
            Fit::Split(head, h, tail) => {
                push_placed(&mut pages, head, y, h);
                tail
            }
            Fit::Next(piece) => piece,
        };
        pending.push_front(page);
        pages.push(Vec::new());
        y = BODY_TOP;
    }
    pages
}

fn push_placed<'a>(pages: &mut [Vec<Placed<'a>>], piece: Piece<'a>, y: i64, h: i64) {
    if let Some(page) = pages.last_mut() {
        page.push(Placed { piece, y, h });
    }
}

fn piece(block: &Block) -> Piece<'_> {
    match block {
        Block::Heading(text) => Piece::Heading(text, HEADING_PT),
        Block::Paragraph(text) => Piece::Paragraph(text, PARAGRAPH_PT),
        Block::Bullets(items) => Piece::Bullets(items),
        Block::Table { header, rows } => Piece::Table {
            header,
            rows,
            widths: column_widths(header, rows),
        },
        Block::Chart(chart) => Piece::Chart(chart),
    }
}

fn fit(piece: Piece<'_>, room: i64, empty: bool) -> Fit<'_> {
    match piece {
        Piece::Heading(text, pt) | Piece::Paragraph(text, pt) => {
            let heading = matches!(piece, Piece::Heading(..));
            let make = |pt| {
                if heading {
                    Piece::Heading(text, pt)
                } else {
                    Piece::Paragraph(text, pt)
                }
            };
            let h = text_height(text, pt, CONTENT_W);
            if h <= room {
                return Fit::All(make(pt), h);
            }
            if !empty {
                return Fit::Next(make(pt));
            }
            let mut pt = pt;
            while pt > MIN_PT && text_height(text, pt, CONTENT_W) > room {
                pt = (pt - 2.0).max(MIN_PT);
            }
            Fit::All(make(pt), text_height(text, pt, CONTENT_W).min(room))
        }
        Piece::Bullets(items) => {
            let heights: Vec<i64> = items.iter().map(bullet_height).collect();
            let n = count_fitting(&heights, room, pt_emu(BULLET_SPACE_PT));
            let Some(k) = split_at(items.len(), n, empty) else {
                return Fit::Next(Piece::Bullets(items));
            };
            let (head, tail) = items.split_at(k);
            let h = bullets_height(head).min(room.max(0));
            if tail.is_empty() {
                Fit::All(Piece::Bullets(head), h)
            } else {
                Fit::Split(Piece::Bullets(head), h, Piece::Bullets(tail))
            }
        }
        Piece::Table {
            header,
            rows,
            widths,
        } => {
            let header_h = row_height(header, &widths, true);
            let heights: Vec<i64> = rows.iter().map(|r| row_height(r, &widths, false)).collect();
            let n = count_fitting(&heights, room - header_h, 0);
            let k = if rows.is_empty() {
                (header_h <= room || empty).then_some(0)
            } else {
                split_at(rows.len(), n, empty)
            };
            let Some(k) = k else {
                return Fit::Next(Piece::Table {
                    header,
                    rows,
                    widths,
                });
            };
            let (head, tail) = rows.split_at(k);
            let h = header_h + heights[..k].iter().sum::<i64>();
            let first = Piece::Table {
                header,
                rows: head,
                widths: widths.clone(),
            };
            if tail.is_empty() {
                Fit::All(first, h)
            } else {
                Fit::Split(
                    first,
                    h,
                    Piece::Table {
                        header,
                        rows: tail,
                        widths,
                    },
                )
            }
        }
        Piece::Chart(chart) => {
            if CHART_MIN_H <= room {
                Fit::All(Piece::Chart(chart), CHART_H.min(room))
            } else if empty {
                Fit::All(Piece::Chart(chart), room.max(inches(1.5)))
            } else {
                Fit::Next(Piece::Chart(chart))
            }
        }
    }
}

/// How many of `len` items to place when `fits` of them fit: all; else as many as
/// fit, at least two on a slide that has content (one item alone under other blocks,
/// the rest overleaf, reads badly); on an empty slide at least one, even if it does
/// not fit, so pagination moves on. `None`: start a new slide.
fn split_at(len: usize, fits: usize, empty: bool) -> Option<usize> {
    if fits >= len {
        Some(len)
    } else if fits >= 2 || (empty && fits >= 1) {
        Some(fits)
    } else if empty {
        Some(1.min(len))
    } else {
        None
    }
}

/// How many leading items fit in `room`, with `spacing` between consecutive ones.
fn count_fitting(heights: &[i64], room: i64, spacing: i64) -> usize {
    let mut used = 0;
    for (i, h) in heights.iter().enumerate() {
        used += h + if i == 0 { 0 } else { spacing };
        if used > room {
            return i;
        }
    }
    heights.len()
}

/// The least height the first part of a piece needs, for keeping a heading with it.
fn min_height(piece: &Piece<'_>) -> i64 {
    match piece {
        Piece::Heading(text, pt) | Piece::Paragraph(text, pt) => text_height(text, *pt, CONTENT_W),
        Piece::Bullets(items) => items.first().map_or(0, bullet_height),
        Piece::Table {
            header,
            rows,
            widths,
        } => {
            row_height(header, widths, true)
                + rows.first().map_or(0, |r| row_height(r, widths, false))
        }
        Piece::Chart(_) => CHART_MIN_H,
    }
}

fn pt_emu(pt: f64) -> i64 {
    (pt * EMU_PER_PT).round() as i64
}

/// Text width in ems: CJK and other wide characters are square; Latin letters are
/// taken at DejaVu Sans' widths (LibreOffice's stand-in for Calibri where Calibri
/// is not installed), which overestimates Calibri — the safe side.
fn em_width(text: &str) -> f64 {
    text.chars()
        .map(|c| {
            if is_wide(c) {
                1.0
            } else if c == ' ' {
                0.32
            } else if c.is_ascii_uppercase() || c == '%' || c == '@' {
                0.72
            } else if c.is_ascii_digit() {
                0.64
            } else if matches!(
                c,
                'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!'
            ) {
                0.32
            } else {
                0.6
            }
        })
        .sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// Lines `text` takes at `pt` in a box `width` EMU wide; word wrapping wastes part
/// of each line, hence the slack.
fn line_count(text: &str, pt: f64, width: i64) -> i64 {
    let width_pt = (width as f64 / EMU_PER_PT).max(1.0);
    text.split('\n')
        .map(|line| {
            let needed = em_width(line) * pt * 1.1;
            ((needed / width_pt).ceil() as i64).max(1)
        })
        .sum()
}

fn text_height(text: &str, pt: f64, width: i64) -> i64 {
    pt_emu(line_count(text, pt, width) as f64 * pt * LINE)
}

fn bullet_pt(level: u8) -> f64 {
    if level == 0 { 20.0 } else { 18.0 }
}

/// Left margin of a bullet's text; levels past the third indent no further.
fn bullet_margin(level: u8) -> i64 {
    inches(0.35) + i64::from(level.min(3)) * inches(0.4)
}

fn bullet_height(bullet: &Bullet) -> i64 {
    text_height(
        &bullet.text,
        bullet_pt(bullet.level),
        CONTENT_W - bullet_margin(bullet.level),
    )
}

fn bullets_height(items: &[Bullet]) -> i64 {
    let spacing = pt_emu(BULLET_SPACE_PT) * (items.len() as i64 - 1).max(0);
    items.iter().map(bullet_height).sum::<i64>() + spacing
}

/// Column widths in proportion to the longest cell of each column, within bounds so
/// a column of short numbers stays legible beside a column of names.
fn column_widths(header: &[String], rows: &[Vec<String>]) -> Vec<i64> {
    if header.is_empty() {
        return Vec::new();
    }
    let weights: Vec<f64> = (0..header.len())
        .map(|col| {
            std::iter::once(&header[col])
                .chain(rows.iter().filter_map(|r| r.get(col)))
                .map(|cell| em_width(cell))
                .fold(0.0, f64::max)
                .clamp(4.0, 30.0)
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut widths: Vec<i64> = weights
        .iter()
        .map(|w| (CONTENT_W as f64 * w / total).floor() as i64)
        .collect();
    // Rounding leaves a few EMU; the last column takes them so the table spans the body.
    let used: i64 = widths.iter().sum();
    if let Some(last) = widths.last_mut() {
        *last += CONTENT_W - used;
    }
    widths
}

fn row_height(cells: &[String], widths: &[i64], header: bool) -> i64 {
    let lines = widths
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let text = cells.get(i).map_or("", String::as_str);
            let width = w - 2 * CELL_MAR_X;
            // The header is bold, a few percent wider.
            let width = if header { width * 94 / 100 } else { width };
            line_count(text, TABLE_PT, width)
        })
        .max()
        .unwrap_or(1);
    pt_emu(lines as f64 * TABLE_PT * LINE) + 2 * CELL_MAR_Y
}

// ---------------------------------------------------------------------------------
// Slide XML.
// ---------------------------------------------------------------------------------

const NS: &str = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main""#;
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
const SP_TREE_START: &str = r#"<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>"#;

/// Text is escaped for XML and stripped of what XML 1.0 cannot hold (control
/// characters, U+FFFE/U+FFFF): a draft's text comes from customer data.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// The language a run is spelled in, so PowerPoint picks East Asian fonts and
/// proofing for Chinese.
fn lang(text: &str) -> &'static str {
    if text.chars().any(is_wide) {
        "zh-CN"
    } else {
        "en-US"
    }
}

#[derive(Clone, Copy)]
struct Style {
    pt: f64,
    bold: bool,
    color: &'static str,
}

fn rpr(text: &str, style: Style) -> String {
    format!(
        r#"<a:rPr lang="{}" sz="{}"{} dirty="0"><a:solidFill><a:srgbClr val="{}"/></a:solidFill></a:rPr>"#,
        lang(text),
        (style.pt * 100.0).round() as i64,
        if style.bold { r#" b="1""# } else { "" },
        style.color
    )
}

/// One `<a:p>`; a `\n` in the text is a line break within it.
fn paragraph(text: &str, style: Style, ppr: &str) -> String {
    let mut xml = format!("<a:p>{ppr}");
    let text = text.replace('\r', "");
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            xml.push_str(&format!("<a:br>{}</a:br>", rpr(line, style)));
        }
        if !line.is_empty() {
            xml.push_str(&format!(
                "<a:r>{}<a:t>{}</a:t></a:r>",
                rpr(line, style),
                esc(line)
            ));
        }
    }
    xml.push_str(&format!(
        r#"<a:endParaRPr lang="{}" sz="{}" dirty="0"/></a:p>"#,
        lang(&text),
        (style.pt * 100.0).round() as i64
    ));
    xml
}

/// Plain paragraph properties: no bullet even if a master's style would give one.
fn ppr_plain(align: &str) -> String {
    format!(r#"<a:pPr algn="{align}"><a:buNone/></a:pPr>"#)
}

struct SlideXml {
    shapes: String,
    next_id: u32,
}

impl SlideXml {
    fn new() -> Self {
        SlideXml {
            shapes: String::new(),
            next_id: 2,
        }
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// The slide title, as the title placeholder (so outlines and screen readers find
    /// it) with its own geometry.
    fn title(&mut self, text: &str, rect: Rect, style: Style, align: &str, anchor: &str) {
        let id = self.id();
        self.shapes.push_str(&format!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="{id}" name="Title {id}"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:spPr>{}</p:spPr><p:txBody><a:bodyPr vert="horz" wrap="square" lIns="0" tIns="0" rIns="0" bIns="0" anchor="{anchor}"><a:noAutofit/></a:bodyPr><a:lstStyle/>{}</p:txBody></p:sp>"#,
            rect.xfrm(),
            paragraph(text, style, &ppr_plain(align)),
        ));
    }

    fn text_box(&mut self, name: &str, rect: Rect, anchor: &str, paragraphs: &str) {
        let id = self.id();
        self.shapes.push_str(&format!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="{id}" name="{} {id}"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr><p:spPr>{}<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/></p:spPr><p:txBody><a:bodyPr wrap="square" lIns="0" tIns="0" rIns="0" bIns="0" anchor="{anchor}"><a:noAutofit/></a:bodyPr><a:lstStyle/>{paragraphs}</p:txBody></p:sp>"#,
            esc(name),
            rect.xfrm(),
        ));
    }

    fn rect(&mut self, name: &str, rect: Rect, fill: &str) {
        let id = self.id();
        self.shapes.push_str(&format!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="{id}" name="{} {id}"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr>{}<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:solidFill><a:srgbClr val="{fill}"/></a:solidFill><a:ln><a:noFill/></a:ln></p:spPr></p:sp>"#,
            esc(name),
            rect.xfrm(),
        ));
    }

    fn table(&mut self, header: &[String], rows: &[Vec<String>], widths: &[i64], x: i64, y: i64) {
        let id = self.id();
        let header_h = row_height(header, widths, true);
        let heights: Vec<i64> = rows.iter().map(|r| row_height(r, widths, false)).collect();
        let total_h = header_h + heights.iter().sum::<i64>();
        let grid: String = widths
            .iter()
            .map(|w| format!(r#"<a:gridCol w="{w}"/>"#))
            .collect();
        let mut xml = format!(
            r#"<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="{id}" name="Table {id}"/><p:cNvGraphicFramePr><a:graphicFrameLocks noGrp="1"/></p:cNvGraphicFramePr><p:nvPr/></p:nvGraphicFramePr><p:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{cx}" cy="{total_h}"/></p:xfrm><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/table"><a:tbl><a:tblPr firstRow="1" bandRow="1"/><a:tblGrid>{grid}</a:tblGrid>"#,
            cx = widths.iter().sum::<i64>(),
        );
        xml.push_str(&table_row(header, widths.len(), header_h, None));
        for (i, (row, h)) in rows.iter().zip(&heights).enumerate() {
            xml.push_str(&table_row(row, widths.len(), *h, Some(i)));
        }
        xml.push_str("</a:tbl></a:graphicData></a:graphic></p:graphicFrame>");
        self.shapes.push_str(&xml);
    }

    /// A bar chart as shapes, grouped so it moves as one: caption, one bar per value
    /// scaled to the largest magnitude, the value above each bar, its label under the
    /// axis, and the zero line.
    fn chart(&mut self, chart: &Chart, area: Rect) {
        let id = self.id();
        let caption = chart_heading(chart);
        let mut group = SlideXml {
            shapes: String::new(),
            next_id: self.next_id,
        };
        let caption_h = inches(0.4);
        group.text_box(
            "Chart title",
            Rect {
                x: area.x,
                y: area.y,
                w: area.w,
                h: caption_h,
            },
            "t",
            &paragraph(
                &caption,
                Style {
                    pt: 16.0,
                    bold: true,
                    color: TEXT,
                },
                &ppr_plain("l"),
            ),
        );
        let values: Vec<f64> = chart
            .values
            .iter()
            .map(|v| if v.is_finite() { *v } else { 0.0 })
            .collect();
        let n = values.len();
        if n > 0 {
            let value_h = inches(0.3);
            let label_h = inches(0.45);
            let plot_top = area.y + caption_h + value_h;
            let plot_bottom = area.y + area.h - label_h;
            let plot_h = (plot_bottom - plot_top).max(inches(0.2));
            let max = values.iter().copied().fold(0.0_f64, f64::max);
            let min = values.iter().copied().fold(0.0_f64, f64::min);
            let span = if max - min > 0.0 { max - min } else { 1.0 };
            let baseline = plot_top + (max / span * plot_h as f64).round() as i64;
            let slot = area.w / n as i64;
            let bar_w = ((slot as f64 * 0.6) as i64).min(inches(1.2));
            let texts: Vec<String> = values.iter().map(|v| format_value(*v)).collect();
            let value_pt = fitting_pt(texts.iter().map(String::as_str), slot, 12.0);
            let label_pt = fitting_pt(chart.labels.iter().map(String::as_str), slot, 12.0);
            for (i, value) in values.iter().enumerate() {
                let slot_x = area.x + slot * i as i64;
                let bar_h = (value.abs() / span * plot_h as f64).round() as i64;
                let bar_y = if *value >= 0.0 {
                    baseline - bar_h
                } else {
                    baseline
                };
                let label = chart.labels.get(i).map_or("", String::as_str);
                group.rect(
                    &format!("Bar {label}"),
                    Rect {
                        x: slot_x + (slot - bar_w) / 2,
                        y: bar_y,
                        w: bar_w,
                        h: bar_h,
                    },
                    BAR,
                );
                // A negative bar hangs below the zero line; its value sits above the
                // line, where the category labels cannot collide with it.
                let value_y = if *value >= 0.0 {
                    bar_y - value_h
                } else {
                    baseline - value_h
                };
                group.text_box(
                    "Value",
                    Rect {
                        x: slot_x,
                        y: value_y,
                        w: slot,
                        h: value_h,
                    },
                    "b",
                    &paragraph(
                        &texts[i],
                        Style {
                            pt: value_pt,
                            bold: false,
                            color: TEXT,
                        },
                        &ppr_plain("ctr"),
                    ),
                );
                group.text_box(
                    "Label",
                    Rect {
                        x: slot_x,
                        y: plot_bottom + inches(0.05),
                        w: slot,
                        h: label_h - inches(0.05),
                    },
                    "t",
                    &paragraph(
                        label,
                        Style {
                            pt: label_pt,
                            bold: false,
                            color: MUTED,
                        },
                        &ppr_plain("ctr"),
                    ),
                );
            }
            group.rect(
                "Axis",
                Rect {
                    x: area.x,
                    y: baseline,
                    w: area.w,
                    h: 9_525,
                },
                GRID,
            );
        }
        self.next_id = group.next_id;
        self.shapes.push_str(&format!(
            r#"<p:grpSp><p:nvGrpSpPr><p:cNvPr id="{id}" name="Chart {id}" descr="{}"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr><a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{w}" cy="{h}"/><a:chOff x="{x}" y="{y}"/><a:chExt cx="{w}" cy="{h}"/></a:xfrm></p:grpSpPr>{}</p:grpSp>"#,
            esc(&caption),
            group.shapes,
            x = area.x,
            y = area.y,
            w = area.w,
            h = area.h,
        ));
    }

    fn finish(self) -> String {
        format!(
            "{XML_DECL}<p:sld {NS}><p:cSld><p:spTree>{SP_TREE_START}{}</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>",
            self.shapes
        )
    }
}

#[derive(Clone, Copy)]
struct Rect {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
}

impl Rect {
    fn xfrm(self) -> String {
        format!(
            r#"<a:xfrm><a:off x="{}" y="{}"/><a:ext cx="{}" cy="{}"/></a:xfrm>"#,
            self.x,
            self.y,
            self.w.max(0),
            self.h.max(0)
        )
    }
}

/// The largest size up to `max` at which the longest of `texts` fits in one line of
/// `width`, but no smaller than 7 pt (a longer label wraps instead).
fn fitting_pt<'a>(texts: impl Iterator<Item = &'a str>, width: i64, max: f64) -> f64 {
    let widest = texts.map(em_width).fold(0.0, f64::max);
    if widest <= 0.0 {
        return max;
    }
    let width_pt = width as f64 / EMU_PER_PT * 0.9;
    (width_pt / widest).floor().clamp(7.0, max)
}

fn table_row(cells: &[String], columns: usize, h: i64, body_index: Option<usize>) -> String {
    let (style, fill) = match body_index {
        None => (
            Style {
                pt: TABLE_PT,
                bold: true,
                color: WHITE,
            },
            ACCENT,
        ),
        Some(i) => (
            Style {
                pt: TABLE_PT,
                bold: false,
                color: TEXT,
            },
            if i % 2 == 1 { BAND } else { WHITE },
        ),
    };
    let border = |tag: &str| {
        format!(
            r#"<a:{tag} w="6350"><a:solidFill><a:srgbClr val="{GRID}"/></a:solidFill></a:{tag}>"#
        )
    };
    let mut xml = format!(r#"<a:tr h="{h}">"#);
    for col in 0..columns {
        let text = cells.get(col).map_or("", String::as_str);
        xml.push_str(&format!(
            r#"<a:tc><a:txBody><a:bodyPr/><a:lstStyle/>{}</a:txBody><a:tcPr marL="{CELL_MAR_X}" marR="{CELL_MAR_X}" marT="{CELL_MAR_Y}" marB="{CELL_MAR_Y}" anchor="ctr">{}{}{}{}<a:solidFill><a:srgbClr val="{fill}"/></a:solidFill></a:tcPr></a:tc>"#,
            paragraph(text, style, &ppr_plain("l")),
            border("lnL"),
            border("lnR"),
            border("lnT"),
            border("lnB"),
        ));
    }
    xml.push_str("</a:tr>");
    xml
}

fn title_slide(deck: &Deck) -> SlidePart {
    let mut xml = SlideXml::new();
    let w = CONTENT_W;
    let title_pt = title_pt(&deck.title, w, inches(1.6), 40.0);
    xml.title(
        &deck.title,
        Rect {
            x: MARGIN_X,
            y: inches(1.6),
            w,
            h: inches(1.6),
        },
        Style {
            pt: title_pt,
            bold: true,
            color: ACCENT,
        },
        "ctr",
        "b",
    );
    xml.rect(
        "Rule",
        Rect {
            x: (SLIDE_W - inches(1.6)) / 2,
            y: inches(3.45),
            w: inches(1.6),
            h: 38_100,
        },
        ACCENT,
    );
    if let Some(subtitle) = deck.subtitle.as_deref().filter(|s| !s.trim().is_empty()) {
        xml.text_box(
            "Subtitle",
            Rect {
                x: MARGIN_X,
                y: inches(3.7),
                w,
                h: inches(1.4),
            },
            "t",
            &paragraph(
                subtitle,
                Style {
                    pt: 24.0,
                    bold: false,
                    color: MUTED,
                },
                &ppr_plain("ctr"),
            ),
        );
    }
    SlidePart {
        xml: xml.finish(),
        notes: Vec::new(),
    }
}

/// The largest title size from `max` down, in 4 pt steps to 20 pt, whose lines fit
/// `height`.
fn title_pt(text: &str, width: i64, height: i64, max: f64) -> f64 {
    let mut pt = max;
    while pt > 20.0 && text_height(text, pt, width) > height {
        pt -= 4.0;
    }
    pt
}

/// "Title (cont.)", or "标题（续）" for a Chinese title.
fn continued(title: &str) -> String {
    if title.chars().any(is_wide) {
        format!("{title}（续）")
    } else {
        format!("{title} (cont.)")
    }
}

fn content_slides(slide: &Slide) -> Vec<SlidePart> {
    paginate(slide)
        .into_iter()
        .enumerate()
        .map(|(page, placed)| {
            let title = if page == 0 {
                slide.title.clone()
            } else {
                continued(&slide.title)
            };
            let mut xml = SlideXml::new();
            let pt = title_pt(&title, CONTENT_W, TITLE_H, TITLE_PT);
            xml.title(
                &title,
                Rect {
                    x: MARGIN_X,
                    y: TITLE_Y,
                    w: CONTENT_W,
                    h: TITLE_H,
                },
                Style {
                    pt,
                    bold: true,
                    color: ACCENT,
                },
                "l",
                "b",
            );
            xml.rect(
                "Rule",
                Rect {
                    x: MARGIN_X,
                    y: RULE_Y,
                    w: CONTENT_W,
                    h: 19_050,
                },
                GRID,
            );
            for Placed { piece, y, h } in placed {
                let rect = Rect {
                    x: MARGIN_X,
                    y,
                    w: CONTENT_W,
                    h,
                };
                match piece {
                    Piece::Heading(text, pt) => xml.text_box(
                        "Heading",
                        rect,
                        "t",
                        &paragraph(
                            text,
                            Style {
                                pt,
                                bold: true,
                                color: ACCENT,
                            },
                            &ppr_plain("l"),
                        ),
                    ),
                    Piece::Paragraph(text, pt) => xml.text_box(
                        "Text",
                        rect,
                        "t",
                        &paragraph(
                            text,
                            Style {
                                pt,
                                bold: false,
                                color: TEXT,
                            },
                            &ppr_plain("l"),
                        ),
                    ),
                    Piece::Bullets(items) => {
                        let paragraphs: String = items
                            .iter()
                            .enumerate()
                            .map(|(i, b)| bullet_paragraph(b, i == 0))
                            .collect();
                        xml.text_box("Bullets", rect, "t", &paragraphs);
                    }
                    Piece::Table {
                        header,
                        rows,
                        widths,
                    } => xml.table(header, rows, &widths, MARGIN_X, y),
                    Piece::Chart(chart) => xml.chart(chart, rect),
                }
            }
            SlidePart {
                xml: xml.finish(),
                notes: slide.notes.clone(),
            }
        })
        .collect()
}

fn bullet_paragraph(bullet: &Bullet, first: bool) -> String {
    let (char, color) = match bullet.level {
        0 => ("•", ACCENT),
        1 => ("–", MUTED),
        _ => ("▪", MUTED),
    };
    let margin = bullet_margin(bullet.level);
    let space = if first {
        0
    } else {
        (BULLET_SPACE_PT * 100.0) as i64
    };
    let ppr = format!(
        r#"<a:pPr marL="{margin}" indent="-{hang}"><a:spcBef><a:spcPts val="{space}"/></a:spcBef><a:buClr><a:srgbClr val="{color}"/></a:buClr><a:buFont typeface="Arial"/><a:buChar char="{char}"/></a:pPr>"#,
        hang = inches(0.3),
    );
    paragraph(
        &bullet.text,
        Style {
            pt: bullet_pt(bullet.level),
            bold: false,
            color: TEXT,
        },
        &ppr,
    )
}

fn notes_slide(notes: &[String], slide_number: usize) -> String {
    let paragraphs: String = if notes.is_empty() {
        paragraph(
            "",
            Style {
                pt: 12.0,
                bold: false,
                color: TEXT,
            },
            "",
        )
    } else {
        notes
            .iter()
            .map(|line| {
                paragraph(
                    line,
                    Style {
                        pt: 12.0,
                        bold: false,
                        color: TEXT,
                    },
                    "",
                )
            })
            .collect()
    };
    format!(
        r#"{XML_DECL}<p:notes {NS}><p:cSld><p:spTree>{SP_TREE_START}<p:sp><p:nvSpPr><p:cNvPr id="2" name="Slide Image {slide_number}"/><p:cNvSpPr><a:spLocks noGrp="1" noRot="1" noChangeAspect="1"/></p:cNvSpPr><p:nvPr><p:ph type="sldImg"/></p:nvPr></p:nvSpPr><p:spPr>{NOTES_IMAGE_XFRM}</p:spPr></p:sp><p:sp><p:nvSpPr><p:cNvPr id="3" name="Notes {slide_number}"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph type="body" idx="1"/></p:nvPr></p:nvSpPr><p:spPr>{NOTES_BODY_XFRM}</p:spPr><p:txBody><a:bodyPr/><a:lstStyle/>{paragraphs}</p:txBody></p:sp></p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:notes>"#
    )
}

// ---------------------------------------------------------------------------------
// The package: the fixed parts and the relationships that tie the slides in.
// ---------------------------------------------------------------------------------

const REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const REL_DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const CT_PML: &str = "application/vnd.openxmlformats-officedocument.presentationml";

// The notes page is portrait letter-ish (7.5 × 10 in): the slide image above, the
// notes below.
const NOTES_W: i64 = 6_858_000;
const NOTES_H: i64 = 9_144_000;
const NOTES_IMAGE_XFRM: &str =
    r#"<a:xfrm><a:off x="685800" y="1143000"/><a:ext cx="5486400" cy="3086100"/></a:xfrm>"#;
const NOTES_BODY_XFRM: &str =
    r#"<a:xfrm><a:off x="685800" y="4400550"/><a:ext cx="5486400" cy="3600450"/></a:xfrm>"#;

fn rels(items: &[(&str, String)]) -> String {
    let mut xml = format!(r#"{XML_DECL}<Relationships xmlns="{REL_NS}">"#);
    for (i, (kind, target)) in items.iter().enumerate() {
        let kind = if kind.starts_with("http") {
            (*kind).to_string()
        } else {
            format!("{REL_DOC}/{kind}")
        };
        xml.push_str(&format!(
            r#"<Relationship Id="rId{}" Type="{kind}" Target="{}"/>"#,
            i + 1,
            esc(target)
        ));
    }
    xml.push_str("</Relationships>");
    xml
}

fn package(deck: &Deck, slides: &[SlidePart], options: &PptxOptions) -> Vec<(String, String)> {
    let with_notes: Vec<bool> = slides.iter().map(|s| !s.notes.is_empty()).collect();
    let mut parts: Vec<(String, String)> = Vec::new();

    let mut types = format!(
        r#"{XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="{CT_PML}.presentation.main+xml"/><Override PartName="/ppt/slideMasters/slideMaster1.xml" ContentType="{CT_PML}.slideMaster+xml"/><Override PartName="/ppt/slideLayouts/slideLayout1.xml" ContentType="{CT_PML}.slideLayout+xml"/><Override PartName="/ppt/notesMasters/notesMaster1.xml" ContentType="{CT_PML}.notesMaster+xml"/><Override PartName="/ppt/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/><Override PartName="/ppt/theme/theme2.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/><Override PartName="/ppt/presProps.xml" ContentType="{CT_PML}.presProps+xml"/><Override PartName="/ppt/viewProps.xml" ContentType="{CT_PML}.viewProps+xml"/><Override PartName="/ppt/tableStyles.xml" ContentType="{CT_PML}.tableStyles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>"#
    );
    for (i, notes) in with_notes.iter().enumerate() {
        let n = i + 1;
        types.push_str(&format!(
            r#"<Override PartName="/ppt/slides/slide{n}.xml" ContentType="{CT_PML}.slide+xml"/>"#
        ));
        if *notes {
            types.push_str(&format!(
                r#"<Override PartName="/ppt/notesSlides/notesSlide{n}.xml" ContentType="{CT_PML}.notesSlide+xml"/>"#
            ));
        }
    }
    types.push_str("</Types>");
    parts.push(("[Content_Types].xml".into(), types));

    parts.push((
        "_rels/.rels".into(),
        rels(&[
            ("officeDocument", "ppt/presentation.xml".into()),
            (
                "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
                "docProps/core.xml".into(),
            ),
            ("extended-properties", "docProps/app.xml".into()),
        ]),
    ));
    parts.push((
        "docProps/core.xml".into(),
        core_xml(&deck.title, options.created),
    ));
    parts.push((
        "docProps/app.xml".into(),
        app_xml(slides.len(), with_notes.iter().filter(|n| **n).count()),
    ));

    // presentation.xml.rels: master, notes master, theme, the three property parts,
    // then the slides from rId7 on.
    let mut presentation_rels: Vec<(&str, String)> = vec![
        ("slideMaster", "slideMasters/slideMaster1.xml".into()),
        ("notesMaster", "notesMasters/notesMaster1.xml".into()),
        ("theme", "theme/theme1.xml".into()),
        ("presProps", "presProps.xml".into()),
        ("viewProps", "viewProps.xml".into()),
        ("tableStyles", "tableStyles.xml".into()),
    ];
    let first_slide_rel = presentation_rels.len() + 1;
    for n in 1..=slides.len() {
        presentation_rels.push(("slide", format!("slides/slide{n}.xml")));
    }
    let slide_ids: String = (0..slides.len())
        .map(|i| {
            format!(
                r#"<p:sldId id="{}" r:id="rId{}"/>"#,
                256 + i,
                first_slide_rel + i
            )
        })
        .collect();
    parts.push((
        "ppt/presentation.xml".into(),
        format!(
            r#"{XML_DECL}<p:presentation {NS} saveSubsetFonts="1"><p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst><p:notesMasterIdLst><p:notesMasterId r:id="rId2"/></p:notesMasterIdLst><p:sldIdLst>{slide_ids}</p:sldIdLst><p:sldSz cx="{SLIDE_W}" cy="{SLIDE_H}"/><p:notesSz cx="{NOTES_W}" cy="{NOTES_H}"/><p:defaultTextStyle><a:defPPr><a:defRPr lang="en-US"/></a:defPPr>{}</p:defaultTextStyle></p:presentation>"#,
            level_styles(1800)
        ),
    ));
    parts.push((
        "ppt/_rels/presentation.xml.rels".into(),
        rels(&presentation_rels),
    ));

    for (i, slide) in slides.iter().enumerate() {
        let n = i + 1;
        parts.push((format!("ppt/slides/slide{n}.xml"), slide.xml.clone()));
        let mut slide_rels = vec![(
            "slideLayout",
            "../slideLayouts/slideLayout1.xml".to_string(),
        )];
        if with_notes[i] {
            slide_rels.push(("notesSlide", format!("../notesSlides/notesSlide{n}.xml")));
        }
        parts.push((
            format!("ppt/slides/_rels/slide{n}.xml.rels"),
            rels(&slide_rels),
        ));
        if with_notes[i] {
            parts.push((
                format!("ppt/notesSlides/notesSlide{n}.xml"),
                notes_slide(&slide.notes, n),
            ));
            parts.push((
                format!("ppt/notesSlides/_rels/notesSlide{n}.xml.rels"),
                rels(&[
                    ("notesMaster", "../notesMasters/notesMaster1.xml".into()),
                    ("slide", format!("../slides/slide{n}.xml")),
                ]),
            ));
        }
    }

    parts.push(("ppt/slideMasters/slideMaster1.xml".into(), slide_master()));
    parts.push((
        "ppt/slideMasters/_rels/slideMaster1.xml.rels".into(),
        rels(&[
            ("slideLayout", "../slideLayouts/slideLayout1.xml".into()),
            ("theme", "../theme/theme1.xml".into()),
        ]),
    ));
    parts.push(("ppt/slideLayouts/slideLayout1.xml".into(), slide_layout()));
    parts.push((
        "ppt/slideLayouts/_rels/slideLayout1.xml.rels".into(),
        rels(&[("slideMaster", "../slideMasters/slideMaster1.xml".into())]),
    ));
    parts.push(("ppt/notesMasters/notesMaster1.xml".into(), notes_master()));
    parts.push((
        "ppt/notesMasters/_rels/notesMaster1.xml.rels".into(),
        rels(&[("theme", "../theme/theme2.xml".into())]),
    ));
    // The notes master needs a theme of its own; it is the same one.
    parts.push(("ppt/theme/theme1.xml".into(), theme("COCO")));
    parts.push(("ppt/theme/theme2.xml".into(), theme("COCO Notes")));
    parts.push((
        "ppt/presProps.xml".into(),
        format!("{XML_DECL}<p:presentationPr {NS}/>"),
    ));
    parts.push((
        "ppt/viewProps.xml".into(),
        format!(
            r#"{XML_DECL}<p:viewPr {NS}><p:normalViewPr><p:restoredLeft sz="15620"/><p:restoredTop sz="94660"/></p:normalViewPr><p:gridSpacing cx="76200" cy="76200"/></p:viewPr>"#
        ),
    ));
    parts.push((
        "ppt/tableStyles.xml".into(),
        format!(
            r#"{XML_DECL}<a:tblStyleLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" def="{{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}}"/>"#
        ),
    ));
    parts
}

fn w3cdtf(created: Option<NaiveDateTime>) -> String {
    match created {
        Some(at) => at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => "1980-01-01T00:00:00Z".to_string(),
    }
}

fn core_xml(title: &str, created: Option<NaiveDateTime>) -> String {
    let at = w3cdtf(created);
    format!(
        r#"{XML_DECL}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{}</dc:title><dc:creator>COCO</dc:creator><cp:lastModifiedBy>COCO</cp:lastModifiedBy><cp:revision>1</cp:revision><dcterms:created xsi:type="dcterms:W3CDTF">{at}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{at}</dcterms:modified></cp:coreProperties>"#,
        esc(title)
    )
}

fn app_xml(slides: usize, notes: usize) -> String {
    format!(
        r#"{XML_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>COCO</Application><PresentationFormat>Widescreen</PresentationFormat><Slides>{slides}</Slides><Notes>{notes}</Notes><HiddenSlides>0</HiddenSlides><AppVersion>16.0000</AppVersion></Properties>"#
    )
}

/// `a:lvl1pPr` … `a:lvl9pPr` with the theme's fonts at `size` (hundredths of a point).
fn level_styles(size: u32) -> String {
    (1..=9)
        .map(|level| {
            format!(
                r#"<a:lvl{level}pPr marL="{}" algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1"><a:defRPr sz="{size}" kern="1200"><a:solidFill><a:schemeClr val="tx1"/></a:solidFill><a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/><a:cs typeface="+mn-cs"/></a:defRPr></a:lvl{level}pPr>"#,
                (level - 1) * 457_200
            )
        })
        .collect()
}

const CLR_MAP: &str = r#"bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink""#;

fn slide_master() -> String {
    let title = Rect {
        x: MARGIN_X,
        y: TITLE_Y,
        w: CONTENT_W,
        h: TITLE_H,
    };
    let body = Rect {
        x: MARGIN_X,
        y: BODY_TOP,
        w: CONTENT_W,
        h: BODY_BOTTOM - BODY_TOP,
    };
    format!(
        r#"{XML_DECL}<p:sldMaster {NS}><p:cSld><p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg><p:spTree>{SP_TREE_START}<p:sp><p:nvSpPr><p:cNvPr id="2" name="Title Placeholder 1"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:spPr>{}<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr><p:txBody><a:bodyPr vert="horz" lIns="0" tIns="0" rIns="0" bIns="0" anchor="b"><a:normAutofit/></a:bodyPr><a:lstStyle/><a:p><a:r><a:rPr lang="en-US"/><a:t>Title</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:nvSpPr><p:cNvPr id="3" name="Text Placeholder 2"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph type="body" idx="1"/></p:nvPr></p:nvSpPr><p:spPr>{}<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr><p:txBody><a:bodyPr vert="horz" lIns="0" tIns="0" rIns="0" bIns="0"><a:normAutofit/></a:bodyPr><a:lstStyle/><a:p><a:pPr lvl="0"/><a:r><a:rPr lang="en-US"/><a:t>Text</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld><p:clrMap {CLR_MAP}/><p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst><p:txStyles><p:titleStyle><a:lvl1pPr algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1"><a:lnSpc><a:spcPct val="90000"/></a:lnSpc><a:spcBef><a:spcPct val="0"/></a:spcBef><a:buNone/><a:defRPr sz="2800" b="1" kern="1200"><a:solidFill><a:srgbClr val="{ACCENT}"/></a:solidFill><a:latin typeface="+mj-lt"/><a:ea typeface="+mj-ea"/><a:cs typeface="+mj-cs"/></a:defRPr></a:lvl1pPr></p:titleStyle><p:bodyStyle><a:lvl1pPr marL="228600" indent="-228600" algn="l" defTabSz="914400" rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1"><a:spcBef><a:spcPts val="600"/></a:spcBef><a:buFont typeface="Arial"/><a:buChar char="•"/><a:defRPr sz="2000" kern="1200"><a:solidFill><a:schemeClr val="tx1"/></a:solidFill><a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/><a:cs typeface="+mn-cs"/></a:defRPr></a:lvl1pPr></p:bodyStyle><p:otherStyle><a:defPPr><a:defRPr lang="en-US"/></a:defPPr>{}</p:otherStyle></p:txStyles></p:sldMaster>"#,
        title.xfrm(),
        body.xfrm(),
        level_styles(1800),
    )
}

fn slide_layout() -> String {
    format!(
        r#"{XML_DECL}<p:sldLayout {NS} type="titleOnly" preserve="1"><p:cSld name="Title Only"><p:spTree>{SP_TREE_START}<p:sp><p:nvSpPr><p:cNvPr id="2" name="Title 1"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="en-US"/><a:t>Title</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"#
    )
}

fn notes_master() -> String {
    format!(
        r#"{XML_DECL}<p:notesMaster {NS}><p:cSld><p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg><p:spTree>{SP_TREE_START}<p:sp><p:nvSpPr><p:cNvPr id="2" name="Slide Image Placeholder 1"/><p:cNvSpPr><a:spLocks noGrp="1" noRot="1" noChangeAspect="1"/></p:cNvSpPr><p:nvPr><p:ph type="sldImg" idx="2"/></p:nvPr></p:nvSpPr><p:spPr>{NOTES_IMAGE_XFRM}<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln w="12700"><a:solidFill><a:prstClr val="black"/></a:solidFill></a:ln></p:spPr></p:sp><p:sp><p:nvSpPr><p:cNvPr id="3" name="Notes Placeholder 2"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr><p:ph type="body" sz="quarter" idx="1"/></p:nvPr></p:nvSpPr><p:spPr>{NOTES_BODY_XFRM}<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr><p:txBody><a:bodyPr vert="horz" lIns="91440" tIns="45720" rIns="91440" bIns="45720"/><a:lstStyle/><a:p><a:pPr lvl="0"/><a:r><a:rPr lang="en-US"/><a:t>Notes</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld><p:clrMap {CLR_MAP}/><p:notesStyle>{}</p:notesStyle></p:notesMaster>"#,
        level_styles(1200)
    )
}

/// A minimal theme: the Office colours and fonts, plain fill, line and effect styles
/// (PowerPoint requires three of each).
fn theme(name: &str) -> String {
    let three = |xml: &str| xml.repeat(3);
    format!(
        r#"{XML_DECL}<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="{name}"><a:themeElements><a:clrScheme name="Office"><a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1><a:dk2><a:srgbClr val="44546A"/></a:dk2><a:lt2><a:srgbClr val="E7E6E6"/></a:lt2><a:accent1><a:srgbClr val="4472C4"/></a:accent1><a:accent2><a:srgbClr val="ED7D31"/></a:accent2><a:accent3><a:srgbClr val="A5A5A5"/></a:accent3><a:accent4><a:srgbClr val="FFC000"/></a:accent4><a:accent5><a:srgbClr val="5B9BD5"/></a:accent5><a:accent6><a:srgbClr val="70AD47"/></a:accent6><a:hlink><a:srgbClr val="0563C1"/></a:hlink><a:folHlink><a:srgbClr val="954F72"/></a:folHlink></a:clrScheme><a:fontScheme name="Office"><a:majorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/><a:font script="Hans" typeface="等线"/></a:majorFont><a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/><a:font script="Hans" typeface="等线"/></a:minorFont></a:fontScheme><a:fmtScheme name="Office"><a:fillStyleLst>{fills}</a:fillStyleLst><a:lnStyleLst>{lines}</a:lnStyleLst><a:effectStyleLst>{effects}</a:effectStyleLst><a:bgFillStyleLst>{fills}</a:bgFillStyleLst></a:fmtScheme></a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/></a:theme>"#,
        fills = three(r#"<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>"#),
        lines = three(
            r#"<a:ln w="6350" cap="flat" cmpd="sng" algn="ctr"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:prstDash val="solid"/><a:miter lim="800000"/></a:ln>"#
        ),
        effects = three("<a:effectStyle><a:effectLst/></a:effectStyle>"),
    )
}

/// Zip entry time: the creation time when the zip format can hold it, else its
/// first date.
fn zip_time(created: Option<NaiveDateTime>) -> DateTime {
    created
        .and_then(|at| {
            let year = u16::try_from(at.year()).ok()?;
            let byte = |v: u32| u8::try_from(v).ok();
            DateTime::from_date_and_time(
                year,
                byte(at.month())?,
                byte(at.day())?,
                byte(at.hour())?,
                byte(at.minute())?,
                byte(at.second())?,
            )
            .ok()
        })
        .unwrap_or(DateTime::DEFAULT)
}

fn zip_parts(
    parts: &[(String, String)],
    created: Option<NaiveDateTime>,
) -> Result<Vec<u8>, DraftError> {
    let options = SimpleFileOptions::DEFAULT
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip_time(created))
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let fail = |e: &dyn std::fmt::Display| DraftError::Pptx(e.to_string());
    for (name, xml) in parts {
        zip.start_file(name.as_str(), options)
            .map_err(|e| fail(&e))?;
        zip.write_all(xml.as_bytes()).map_err(|e| fail(&e))?;
    }
    let cursor = zip.finish().map_err(|e| fail(&e))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bullets(n: usize) -> Vec<Bullet> {
        (0..n)
            .map(|i| Bullet {
                text: format!("Point number {i} about the account"),
                level: 0,
            })
            .collect()
    }

    #[test]
    fn escaping_covers_markup_and_strips_what_xml_cannot_hold() {
        assert_eq!(
            esc(r#"R&D <Q3> "x" 'y'"#),
            "R&amp;D &lt;Q3&gt; &quot;x&quot; &apos;y&apos;"
        );
        assert_eq!(esc("a\u{0}b\u{1b}c\u{FFFE}d\u{FFFF}"), "abcd");
        assert_eq!(esc("季度 ✓ \u{1F600}"), "季度 ✓ \u{1F600}");
    }

    #[test]
    fn a_short_slide_is_one_page() {
        let slide = Slide {
            title: "Usage".into(),
            blocks: vec![
                Block::Paragraph("Short.".into()),
                Block::Bullets(bullets(3)),
            ],
            notes: vec![],
        };
        let pages = paginate(&slide);
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].len(), 2);
        assert!(pages[0][1].y > pages[0][0].y + pages[0][0].h);
    }

    #[test]
    fn a_long_list_splits_between_items_and_stays_within_the_body() {
        let slide = Slide {
            title: "Risks".into(),
            blocks: vec![Block::Bullets(bullets(40))],
            notes: vec![],
        };
        let pages = paginate(&slide);
        assert!(pages.len() >= 3, "{} pages", pages.len());
        let mut total = 0;
        for page in &pages {
            for placed in page {
                assert!(placed.y + placed.h <= BODY_BOTTOM);
                if let Piece::Bullets(items) = placed.piece {
                    total += items.len();
                }
            }
        }
        assert_eq!(total, 40);
    }

    #[test]
    fn a_long_table_repeats_its_header_on_each_page() {
        let rows: Vec<Vec<String>> = (0..60)
            .map(|i| vec![format!("T-{i}"), "open".into()])
            .collect();
        let slide = Slide {
            title: "Tickets".into(),
            blocks: vec![Block::Table {
                header: vec!["Ticket".into(), "Status".into()],
                rows,
            }],
            notes: vec![],
        };
        let pages = paginate(&slide);
        assert!(pages.len() >= 2);
        let mut total = 0;
        for page in &pages {
            let Piece::Table { header, rows, .. } = &page[0].piece else {
                panic!("expected a table");
            };
            assert_eq!(header.len(), 2);
            total += rows.len();
            assert!(page[0].y + page[0].h <= BODY_BOTTOM);
        }
        assert_eq!(total, 60);
    }

    #[test]
    fn a_heading_moves_with_what_it_heads() {
        let mut blocks = vec![Block::Bullets(bullets(9))];
        blocks.push(Block::Heading("Next steps".into()));
        blocks.push(Block::Chart(Chart {
            title: "c".into(),
            unit: String::new(),
            labels: vec!["a".into()],
            values: vec![1.0],
        }));
        let slide = Slide {
            title: "S".into(),
            blocks,
            notes: vec![],
        };
        let pages = paginate(&slide);
        assert_eq!(pages.len(), 2);
        assert!(matches!(pages[1][0].piece, Piece::Heading("Next steps", _)));
        assert!(matches!(pages[1][1].piece, Piece::Chart(_)));
    }

    #[test]
    fn an_oversized_paragraph_shrinks_on_its_own_slide() {
        let text = "word ".repeat(900);
        let slide = Slide {
            title: "S".into(),
            blocks: vec![Block::Paragraph(text)],
            notes: vec![],
        };
        let pages = paginate(&slide);
        assert_eq!(pages.len(), 1);
        assert!(matches!(pages[0][0].piece, Piece::Paragraph(_, pt) if pt < PARAGRAPH_PT));
    }

    #[test]
    fn continuation_titles_follow_the_language() {
        assert_eq!(continued("Usage"), "Usage (cont.)");
        assert_eq!(continued("使用情况"), "使用情况（续）");
    }

    #[test]
    fn zip_time_falls_back_before_1980() {
        let at = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        assert_eq!(zip_time(at), DateTime::DEFAULT);
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 4).and_then(|d| d.and_hms_opt(5, 6, 8));
        assert_eq!(zip_time(at).year(), 2026);
    }
}
