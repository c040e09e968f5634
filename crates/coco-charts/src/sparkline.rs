//! Sparklines: a bare trend line for table cells.

use crate::Size;
use crate::escape::{Escaped, class_list};
use crate::format::{ValueFormat, format_value};
use crate::scale::{LinearScale, finite_extent, non_degenerate};
use crate::svg::{Canvas, Num, gap_path};

/// A tiny line with no axes, labels or legend, e.g. weekly active users in a table row.
/// Gaps (`None`, NaN, infinity) break the line; the last present value is marked with a
/// dot whose tooltip gives the value. A flat series is drawn across the middle.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sparkline {
    /// Accessible name: the `<title>` and `aria-label` (say what the line is, e.g.
    /// "Weekly active users, last 12 weeks").
    pub title: String,
    pub values: Vec<Option<f64>>,
    /// CSS class giving the line its colour.
    pub class: String,
    pub size: Size,
}

/// Inset from the edges, so the end dot and the stroke are not cut off.
const INSET: f64 = 2.5;

impl Sparkline {
    /// Renders the sparkline as a standalone `<svg>` element (class `chart sparkline`).
    pub fn render(&self) -> String {
        let mut canvas = Canvas::new("sparkline", self.size, &self.title);
        let present = |value: &Option<f64>| value.filter(|value| value.is_finite());
        let Some((lo, hi)) = finite_extent(self.values.iter().filter_map(present)) else {
            return canvas.finish_empty();
        };
        let (lo, hi) = non_degenerate(lo, hi);
        let (width, height) = (canvas.width, canvas.height);
        let y_scale = LinearScale {
            lo,
            hi,
            start: (height - INSET).max(INSET),
            end: INSET.min(height),
        };
        let count = self.values.len();
        let x_at = |index: usize| {
            if count > 1 {
                INSET + (width - 2.0 * INSET).max(0.0) * index as f64 / (count - 1) as f64
            } else {
                width / 2.0
            }
        };

        let path =
            gap_path(self.values.iter().enumerate().map(|(index, value)| {
                present(value).map(|value| (x_at(index), y_scale.map(value)))
            }));
        if !path.is_empty() {
            canvas.put(format_args!(
                "<path class=\"{}\" d=\"{path}\" fill=\"none\" stroke-width=\"1.5\" \
                 stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n",
                class_list("line", &self.class),
            ));
        }
        let last = self
            .values
            .iter()
            .enumerate()
            .rev()
            .find_map(|(index, value)| present(value).map(|value| (index, value)));
        if let Some((index, value)) = last {
            canvas.put(format_args!(
                "<circle class=\"{}\" cx=\"{}\" cy=\"{}\" r=\"2\"><title>{}</title></circle>\n",
                class_list("point last", &self.class),
                Num(x_at(index)),
                Num(y_scale.map(value)),
                Escaped(&format_value(value, ValueFormat::Plain)),
            ));
        }
        canvas.finish()
    }
}
