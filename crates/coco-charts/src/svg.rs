//! The shared SVG writer: root element, numbers, text, legend, the empty state.

use std::borrow::Cow;
use std::fmt::{self, Write};

use crate::Size;
use crate::escape::{Escaped, class_list};

/// The font size set on every chart's root. Layout estimates text widths from it; the page
/// CSS may change the font, and labels are truncated with some slack for that.
pub(crate) const FONT_SIZE: f64 = 11.0;

/// Average advance of one character at [`FONT_SIZE`] in a typical sans-serif UI font. There
/// is no font metrics here (on purpose: no font stack), so widths are estimates.
pub(crate) const CHAR_WIDTH: f64 = 6.6;

/// Outer padding around the drawing, in pixels.
pub(crate) const PAD: f64 = 6.0;

/// Shown instead of a chart when there is nothing to draw.
pub(crate) const NO_DATA: &str = "No data";

/// A coordinate or length, written rounded to one decimal place with no trailing `.0`
/// and never `-0`, which keeps output compact and byte-for-byte reproducible.
#[derive(Clone, Copy)]
pub(crate) struct Num(pub(crate) f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rounded = (self.0 * 10.0).round() / 10.0;
        if !rounded.is_finite() || rounded == 0.0 {
            f.write_str("0")
        } else if rounded.fract() == 0.0 {
            write!(f, "{rounded:.0}")
        } else {
            write!(f, "{rounded:.1}")
        }
    }
}

/// `text-anchor` values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// An axis-aligned rectangle in pixels, e.g. the plot area.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub(crate) fn right(&self) -> f64 {
        self.x + self.width
    }

    pub(crate) fn bottom(&self) -> f64 {
        self.y + self.height
    }
}

/// `value` kept within `[min, max]`, preferring `min` when the bounds cross (tiny charts),
/// unlike `f64::clamp`, which panics then.
pub(crate) fn bound(value: f64, min: f64, max: f64) -> f64 {
    value.min(max).max(min)
}

/// Estimated rendered width of `text` in pixels.
pub(crate) fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_WIDTH
}

/// How many characters fit in `width` pixels.
pub(crate) fn chars_fitting(width: f64) -> usize {
    if width.is_finite() && width > 0.0 {
        // `as` saturates, so a huge width is simply "everything fits".
        (width / CHAR_WIDTH).floor() as usize
    } else {
        0
    }
}

/// `text` cut to at most `max_chars` characters, ending in `…` when cut. Counts characters,
/// not bytes, so multi-byte names are never split mid-character.
pub(crate) fn truncate(text: &str, max_chars: usize) -> Cow<'_, str> {
    if text.chars().count() <= max_chars {
        return Cow::Borrowed(text);
    }
    if max_chars == 0 {
        return Cow::Borrowed("");
    }
    let mut cut: String = text.chars().take(max_chars - 1).collect();
    cut.push('…');
    Cow::Owned(cut)
}

/// Path data for a line with gaps: one `M…L…` subpath per run of consecutive present
/// points, so a missing value lifts the pen instead of dropping the line to zero. A run of
/// a single point adds nothing (the caller marks such points with a circle).
pub(crate) fn gap_path(points: impl IntoIterator<Item = Option<(f64, f64)>>) -> String {
    let mut path = String::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    // The trailing `None` closes the last run.
    for point in points.into_iter().chain(std::iter::once(None)) {
        match point {
            Some(point) => run.push(point),
            None => {
                if run.len() > 1 {
                    for (index, &(x, y)) in run.iter().enumerate() {
                        let command = if index == 0 { 'M' } else { 'L' };
                        let _ = write!(path, "{command}{} {}", Num(x), Num(y));
                    }
                }
                run.clear();
            }
        }
    }
    path
}

/// Hover text for one data point: `x label: series name value`, leaving out whichever
/// of label and name is empty.
pub(crate) fn point_tooltip(label: &str, name: &str, value: &str) -> String {
    match (label.is_empty(), name.is_empty()) {
        (false, false) => format!("{label}: {name} {value}"),
        (false, true) => format!("{label}: {value}"),
        (true, false) => format!("{name}: {value}"),
        (true, true) => value.to_string(),
    }
}

/// Accumulates one SVG document. Writing to a `String` cannot fail, so the `fmt::Result`s
/// are dropped in one place ([`Canvas::put`]) instead of at every call.
pub(crate) struct Canvas {
    out: String,
    pub width: f64,
    pub height: f64,
}

impl Canvas {
    /// Opens the root `<svg>` (accessible name, chart kind class) and its `<title>`.
    pub(crate) fn new(kind: &str, size: Size, title: &str) -> Self {
        let mut canvas = Canvas {
            out: String::with_capacity(4096),
            width: f64::from(size.width),
            height: f64::from(size.height),
        };
        canvas.put(format_args!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" \
             height=\"{h}\" role=\"img\" aria-label=\"{title}\" class=\"chart {kind}\" \
             font-size=\"{font}\">\n<title>{title}</title>\n",
            w = size.width,
            h = size.height,
            title = Escaped(title),
            font = Num(FONT_SIZE),
        ));
        canvas
    }

    pub(crate) fn put(&mut self, args: fmt::Arguments<'_>) {
        let _ = self.out.write_fmt(args);
    }

    pub(crate) fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    /// Closes the document.
    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }

    /// The whole chart is the centred "No data" message.
    pub(crate) fn finish_empty(mut self) -> String {
        let (x, y) = (self.width / 2.0, self.height / 2.0);
        self.text("empty", x, y, Anchor::Middle, NO_DATA, usize::MAX);
        self.finish()
    }

    /// A `<text>` vertically centred on `y`, cut to `max_chars`; a cut label carries its
    /// full text as a `<title>` so hovering still shows it.
    pub(crate) fn text(
        &mut self,
        class: &str,
        x: f64,
        y: f64,
        anchor: Anchor,
        content: &str,
        max_chars: usize,
    ) {
        let shown = truncate(content, max_chars);
        // dy shifts the baseline so the text's middle sits on y (dominant-baseline is
        // not honoured everywhere SVG is shown, e.g. some image viewers).
        self.put(format_args!(
            "<text class=\"{class}\" x=\"{}\" y=\"{}\" dy=\"0.35em\" text-anchor=\"{}\">{}",
            Num(x),
            Num(y),
            anchor.as_str(),
            Escaped(&shown),
        ));
        if *shown != *content {
            self.put(format_args!("<title>{}</title>", Escaped(content)));
        }
        self.raw("</text>\n");
    }

    pub(crate) fn line(&mut self, class: &str, x1: f64, y1: f64, x2: f64, y2: f64) {
        self.put(format_args!(
            "<line class=\"{class}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\n",
            Num(x1),
            Num(y1),
            Num(x2),
            Num(y2),
        ));
    }

    /// A `<rect>`, with a hover `<title>` when `tooltip` is given.
    pub(crate) fn rect(&mut self, class: &str, area: Rect, tooltip: Option<&str>) {
        self.put(format_args!(
            "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
            Num(area.x),
            Num(area.y),
            Num(area.width.max(0.0)),
            Num(area.height.max(0.0)),
        ));
        match tooltip {
            Some(tooltip) => self.put(format_args!(
                "><title>{}</title></rect>\n",
                Escaped(tooltip)
            )),
            None => self.raw("/>\n"),
        }
    }
}

/// What a legend swatch looks like: a short line for line series, a square for bars.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Swatch {
    Line,
    Square,
}

/// One legend entry: the series name and its caller CSS class.
pub(crate) struct LegendEntry<'a> {
    pub name: &'a str,
    pub class: &'a str,
}

/// Legend entries for series given as `(name, class)`; none for a single series, whose
/// name is already in the tooltips and usually the title.
pub(crate) fn legend_entries<'a>(
    series: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
) -> Vec<LegendEntry<'a>> {
    if series.len() < 2 {
        return Vec::new();
    }
    series
        .map(|(name, class)| LegendEntry { name, class })
        .collect()
}

/// Legend entries laid out left to right, wrapping onto new rows, at the top of the chart.
pub(crate) struct Legend<'a> {
    entries: Vec<(f64, f64, &'a LegendEntry<'a>)>,
    /// Vertical space the legend takes, including the gap below it.
    pub height: f64,
}

const LEGEND_ROW: f64 = 16.0;
const SWATCH: f64 = 10.0;
const LEGEND_NAME_CHARS: usize = 24;

impl<'a> Legend<'a> {
    /// Lays out `entries` from `(x, y)` in rows no wider than `max_width`. No entries, no
    /// legend (zero height).
    pub(crate) fn layout(entries: &'a [LegendEntry<'a>], x: f64, y: f64, max_width: f64) -> Self {
        let mut placed = Vec::with_capacity(entries.len());
        let (mut cursor, mut row) = (x, 0.0);
        for entry in entries {
            let width = SWATCH + 4.0 + text_width(&truncate(entry.name, LEGEND_NAME_CHARS)) + 12.0;
            if cursor > x && cursor + width > x + max_width {
                cursor = x;
                row += 1.0;
            }
            placed.push((cursor, y + row * LEGEND_ROW, entry));
            cursor += width;
        }
        let height = if entries.is_empty() {
            0.0
        } else {
            (row + 1.0) * LEGEND_ROW + 4.0
        };
        Legend {
            entries: placed,
            height,
        }
    }

    pub(crate) fn draw(&self, canvas: &mut Canvas, swatch: Swatch) {
        if self.entries.is_empty() {
            return;
        }
        canvas.raw("<g class=\"legend\">\n");
        for &(x, y, entry) in &self.entries {
            let middle = y + LEGEND_ROW / 2.0;
            match swatch {
                Swatch::Line => {
                    let class = class_list("swatch line", entry.class);
                    canvas.put(format_args!(
                        "<line class=\"{class}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" \
                         stroke-width=\"2\"/>\n",
                        Num(x),
                        Num(middle),
                        Num(x + SWATCH),
                        Num(middle),
                    ));
                }
                Swatch::Square => {
                    let area = Rect {
                        x,
                        y: middle - SWATCH / 2.0,
                        width: SWATCH,
                        height: SWATCH,
                    };
                    canvas.rect(&class_list("swatch", entry.class), area, None);
                }
            }
            canvas.text(
                "legend-label",
                x + SWATCH + 4.0,
                middle,
                Anchor::Start,
                entry.name,
                LEGEND_NAME_CHARS,
            );
        }
        canvas.raw("</g>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_rounded_to_one_decimal() {
        assert_eq!(Num(1.0).to_string(), "1");
        assert_eq!(Num(1.25).to_string(), "1.3");
        assert_eq!(Num(1.04).to_string(), "1");
        assert_eq!(Num(-0.04).to_string(), "0");
        assert_eq!(Num(-2.5).to_string(), "-2.5");
        assert_eq!(Num(f64::NAN).to_string(), "0");
        assert_eq!(Num(f64::INFINITY).to_string(), "0");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("ääääää", 3), "ää…");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(chars_fitting(-1.0), 0);
        assert_eq!(chars_fitting(f64::INFINITY), 0);
        assert_eq!(chars_fitting(66.0), 10);
    }

    #[test]
    fn gaps_split_the_path() {
        let path = gap_path([
            Some((0.0, 0.0)),
            Some((1.0, 1.0)),
            None,
            Some((3.0, 3.0)),
            None,
        ]);
        assert_eq!(path, "M0 0L1 1");
        let path = gap_path([
            Some((0.0, 0.0)),
            Some((1.0, 1.0)),
            None,
            Some((3.0, 3.0)),
            Some((4.0, 4.5)),
        ]);
        assert_eq!(path, "M0 0L1 1M3 3L4 4.5");
        assert_eq!(gap_path([]), "");
    }

    #[test]
    fn bound_never_panics_on_crossed_limits() {
        assert_eq!(bound(5.0, 0.0, 10.0), 5.0);
        assert_eq!(bound(5.0, 10.0, 0.0), 10.0);
    }
}
