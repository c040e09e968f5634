//! Bar charts: one value per labelled bar, vertical or horizontal.

use crate::Size;
use crate::axis::{
    LABEL_ROW, category_axis, left_value_plot, tick_target, value_axis_bottom, value_axis_left,
};
use crate::escape::{Escaped, class_list, safe_href};
use crate::format::{ValueFormat, format_value};
use crate::scale::{LinearScale, finite_extent, label_step, nice_ticks};
use crate::svg::{
    Anchor, CHAR_WIDTH, Canvas, FONT_SIZE, PAD, Rect, bound, chars_fitting, point_tooltip,
    text_width,
};

/// One bar of a [`BarChart`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bar {
    pub label: String,
    /// NaN or infinity counts as missing: the label is shown, no bar is drawn.
    pub value: f64,
    /// CSS class giving the bar its colour, e.g. `green`.
    pub class: String,
    /// Hover text; defaults to `label: value`.
    pub tooltip: Option<String>,
    /// Makes the bar a link (e.g. filtering the table below). Only relative links and
    /// `http`, `https` and `mailto` URLs are used; any other scheme (`javascript:` …) is
    /// dropped and the bar drawn without a link.
    pub href: Option<String>,
}

impl Bar {
    pub fn new(label: impl Into<String>, value: f64, class: impl Into<String>) -> Self {
        Bar {
            label: label.into(),
            value,
            class: class.into(),
            tooltip: None,
            href: None,
        }
    }
}

/// Bars from zero, e.g. ARR by health colour, or a score histogram.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChart {
    /// Accessible name: the `<title>` and `aria-label`.
    pub title: String,
    pub bars: Vec<Bar>,
    /// How values are written on the bars, in tooltips and on the axis.
    pub value_format: ValueFormat,
    /// Bars grow rightwards with labels on the left (long labels such as account names),
    /// instead of upwards with labels underneath.
    pub horizontal: bool,
    pub size: Size,
}

/// Share of a bar's slot the bar fills; the rest is the gap between bars.
const BAR_FILL: f64 = 0.7;
/// Thickest a horizontal bar gets, so two bars on a tall chart do not become slabs.
const MAX_BAR_THICKNESS: f64 = 32.0;
/// Category labels longer than this are cut (the tooltip has them whole).
const LABEL_CHARS: usize = 28;

impl BarChart {
    /// Renders the chart as a standalone `<svg>` element (class `chart chart-bar`).
    pub fn render(&self) -> String {
        let mut canvas = Canvas::new("chart-bar", self.size, &self.title);
        let Some((lo, hi)) = finite_extent(self.bars.iter().map(|bar| bar.value)) else {
            return canvas.finish_empty();
        };
        // Bars grow from zero, so zero is always on the axis.
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        if self.horizontal {
            self.render_horizontal(&mut canvas, lo, hi);
        } else {
            self.render_vertical(&mut canvas, lo, hi);
        }
        canvas.finish()
    }

    fn render_vertical(&self, canvas: &mut Canvas, lo: f64, hi: f64) {
        let (width, height) = (canvas.width, canvas.height);
        // Room above the plot for the value written over the tallest bar.
        let top = PAD + FONT_SIZE + 4.0;
        let plot_height = (height - LABEL_ROW - top).max(1.0);
        let ticks = nice_ticks(lo, hi, tick_target(plot_height), true);
        let tick_labels = self.format_all(&ticks.values);
        let (plot, scale) = left_value_plot(&tick_labels, &ticks, width, top, plot_height, PAD);
        let count = self.bars.len();
        let slot = plot.width / count.max(1) as f64;
        let labels: Vec<&str> = self.bars.iter().map(|bar| bar.label.as_str()).collect();

        value_axis_left(canvas, plot, &scale, &ticks.values, &tick_labels);
        category_axis(canvas, plot, &labels, count, slot, |index| {
            plot.x + slot * (index as f64 + 0.5)
        });
        let zero = scale.map(0.0);
        if zero < plot.bottom() - 0.5 {
            canvas.line("axis-line zero", plot.x, zero, plot.right(), zero);
        }

        // Value labels on every bar or on none: a chart labelling only the bars whose
        // number happens to be short reads as if the others had no value.
        let value_texts: Vec<String> = self.format_all(&self.bar_values());
        let widest_value = value_texts
            .iter()
            .map(|text| text_width(text))
            .fold(0.0, f64::max);
        let show_values = widest_value + 2.0 <= slot;

        canvas.raw("<g class=\"bars\">\n");
        let thickness = slot * BAR_FILL;
        for ((index, bar), value_text) in self.bars.iter().enumerate().zip(&value_texts) {
            if !bar.value.is_finite() {
                continue;
            }
            let end = scale.map(bar.value);
            let area = Rect {
                x: plot.x + slot * index as f64 + (slot - thickness) / 2.0,
                y: end.min(zero),
                width: thickness,
                height: (end - zero).abs(),
            };
            open_item(canvas, bar);
            canvas.rect(
                &class_list("bar", &bar.class),
                area,
                Some(&self.tooltip(bar, value_text)),
            );
            // The value goes above a positive bar, and above the zero line for a negative
            // one (that space is empty, while below it are the category labels).
            if show_values {
                let y = if bar.value >= 0.0 { end } else { zero } - FONT_SIZE / 2.0 - 2.0;
                let x = area.x + thickness / 2.0;
                canvas.text("value", x, y, Anchor::Middle, value_text, usize::MAX);
            }
            close_item(canvas, bar);
        }
        canvas.raw("</g>\n");
    }

    fn render_horizontal(&self, canvas: &mut Canvas, lo: f64, hi: f64) {
        let (width, height) = (canvas.width, canvas.height);
        let longest_label = self
            .bars
            .iter()
            .map(|bar| bar.label.chars().count().min(LABEL_CHARS))
            .max()
            .unwrap_or(0);
        let left = bound(
            PAD + longest_label as f64 * CHAR_WIDTH + 6.0,
            24.0,
            width * 0.4,
        );
        let plot_height = (height - PAD - LABEL_ROW).max(1.0);
        let count = self.bars.len();
        let row = plot_height / count.max(1) as f64;
        // Values are written right of the bars when the rows are tall enough for text;
        // only then is room kept for them.
        let show_values = row >= FONT_SIZE;
        let value_texts: Vec<String> = self.format_all(&self.bar_values());
        let right = if show_values {
            let widest_value = value_texts
                .iter()
                .map(|text| text_width(text))
                .fold(0.0, f64::max);
            bound(PAD + widest_value + 6.0, 12.0, width * 0.3)
        } else {
            12.0
        };
        let plot = Rect {
            x: left,
            y: PAD,
            width: (width - left - right).max(1.0),
            height: plot_height,
        };
        // Tick labels along x are wider than tall: aim for one per 80 px, not 40.
        let ticks = nice_ticks(lo, hi, tick_target(plot.width / 2.0), true);
        let tick_labels = self.format_all(&ticks.values);
        let scale = LinearScale {
            lo: ticks.lo,
            hi: ticks.hi,
            start: plot.x,
            end: plot.right(),
        };
        value_axis_bottom(canvas, plot, &scale, &ticks.values, &tick_labels);

        // Labels need about 13 px of height each; on a crowded chart label every n-th bar.
        let label_every = label_step(count, (plot.height / 13.0).floor().max(1.0) as usize);
        let label_chars = chars_fitting(left - PAD - 6.0).min(LABEL_CHARS);
        canvas.raw("<g class=\"axis axis-y\">\n");
        let zero = scale.map(0.0);
        canvas.line("axis-line zero", zero, plot.y, zero, plot.bottom());
        for (index, bar) in self.bars.iter().enumerate().step_by(label_every) {
            let y = plot.y + row * (index as f64 + 0.5);
            canvas.text(
                "tick",
                plot.x - 6.0,
                y,
                Anchor::End,
                &bar.label,
                label_chars,
            );
        }
        canvas.raw("</g>\n");

        canvas.raw("<g class=\"bars\">\n");
        let thickness = (row * BAR_FILL).min(MAX_BAR_THICKNESS);
        for ((index, bar), value_text) in self.bars.iter().enumerate().zip(&value_texts) {
            if !bar.value.is_finite() {
                continue;
            }
            let end = scale.map(bar.value);
            let middle = plot.y + row * (index as f64 + 0.5);
            let area = Rect {
                x: end.min(zero),
                y: middle - thickness / 2.0,
                width: (end - zero).abs(),
                height: thickness,
            };
            open_item(canvas, bar);
            canvas.rect(
                &class_list("bar", &bar.class),
                area,
                Some(&self.tooltip(bar, value_text)),
            );
            // Right of a positive bar's end; right of the zero line for a negative one,
            // where the row is empty (the category labels are left of the plot).
            if show_values {
                let x = if bar.value >= 0.0 { end } else { zero } + 4.0;
                canvas.text("value", x, middle, Anchor::Start, value_text, usize::MAX);
            }
            close_item(canvas, bar);
        }
        canvas.raw("</g>\n");
    }

    fn bar_values(&self) -> Vec<f64> {
        self.bars.iter().map(|bar| bar.value).collect()
    }

    fn format_all(&self, values: &[f64]) -> Vec<String> {
        values
            .iter()
            .map(|&value| format_value(value, self.value_format))
            .collect()
    }

    fn tooltip(&self, bar: &Bar, value_text: &str) -> String {
        bar.tooltip
            .clone()
            .unwrap_or_else(|| point_tooltip(&bar.label, "", value_text))
    }
}

/// Starts a bar's group: a link when it has a safe `href`, a plain group otherwise.
fn open_item(canvas: &mut Canvas, bar: &Bar) {
    match bar.href.as_deref().and_then(safe_href) {
        Some(href) => canvas.put(format_args!(
            "<a class=\"bar-link\" href=\"{}\">\n",
            Escaped(href)
        )),
        None => canvas.raw("<g class=\"bar-item\">\n"),
    }
}

/// Closes what [`open_item`] opened.
fn close_item(canvas: &mut Canvas, bar: &Bar) {
    if bar.href.as_deref().and_then(safe_href).is_some() {
        canvas.raw("</a>\n");
    } else {
        canvas.raw("</g>\n");
    }
}
