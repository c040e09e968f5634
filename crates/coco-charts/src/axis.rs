//! Axes shared by the charts: value axes with grid lines, and thinned category labels.

use crate::scale::{LinearScale, label_step};
use crate::svg::{
    Anchor, CHAR_WIDTH, Canvas, PAD, Rect, bound, chars_fitting, text_width, truncate,
};

/// Most category labels shown along an axis, whatever the width: more than this reads as
/// noise on a dashboard-sized chart (52 weekly points get 6 dates).
pub(crate) const MAX_CATEGORY_LABELS: usize = 6;

/// Category labels longer than this are cut for the axis (the point tooltips carry them whole).
const CATEGORY_LABEL_CHARS: usize = 16;

/// Height reserved under the plot for one row of labels.
pub(crate) const LABEL_ROW: f64 = 24.0;

/// Gap between an axis label and the plot edge.
const LABEL_GAP: f64 = 6.0;

/// How many ticks a value axis of `length` pixels should aim for: about one per 40 px.
/// The plot area of a chart whose value axis runs up its left side, room made for the
/// widest tick label, and the scale from value to y.
pub(crate) fn left_value_plot(
    tick_labels: &[String],
    ticks: &crate::scale::Ticks,
    width: f64,
    top: f64,
    plot_height: f64,
    right_margin: f64,
) -> (Rect, LinearScale) {
    let widest = tick_labels
        .iter()
        .map(|label| text_width(label))
        .fold(0.0, f64::max);
    let left = bound(PAD + widest + 6.0, 24.0, width * 0.4);
    let plot = Rect {
        x: left,
        y: top,
        width: (width - left - right_margin).max(1.0),
        height: plot_height,
    };
    let scale = LinearScale {
        lo: ticks.lo,
        hi: ticks.hi,
        start: plot.bottom(),
        end: plot.y,
    };
    (plot, scale)
}

pub(crate) fn tick_target(length: f64) -> usize {
    bound((length / 40.0).floor(), 2.0, 6.0) as usize
}

/// Horizontal grid lines across `plot`, labelled on its left: the value axis of line,
/// vertical bar and stacked charts.
pub(crate) fn value_axis_left(
    canvas: &mut Canvas,
    plot: Rect,
    scale: &LinearScale,
    ticks: &[f64],
    labels: &[String],
) {
    canvas.raw("<g class=\"axis axis-y\">\n");
    let label_chars = chars_fitting(plot.x - LABEL_GAP - PAD / 2.0);
    for (&value, label) in ticks.iter().zip(labels) {
        let y = scale.map(value);
        canvas.line("grid", plot.x, y, plot.right(), y);
        canvas.text(
            "tick",
            plot.x - LABEL_GAP,
            y,
            Anchor::End,
            label,
            label_chars,
        );
    }
    canvas.raw("</g>\n");
}

/// Vertical grid lines across `plot`, labelled below it: the value axis of horizontal bars.
pub(crate) fn value_axis_bottom(
    canvas: &mut Canvas,
    plot: Rect,
    scale: &LinearScale,
    ticks: &[f64],
    labels: &[String],
) {
    canvas.raw("<g class=\"axis axis-x\">\n");
    // Tick labels are centred under their line; thin them like category labels if they
    // would collide.
    let widest = labels
        .iter()
        .map(|label| text_width(label))
        .fold(0.0, f64::max);
    let fitting = (plot.width / (widest + 8.0)).floor().max(1.0) as usize;
    let step = label_step(ticks.len(), fitting);
    for (index, (&value, label)) in ticks.iter().zip(labels).enumerate() {
        let x = scale.map(value);
        canvas.line("grid", x, plot.y, x, plot.bottom());
        if index % step == 0 {
            let x = keep_inside(x, text_width(label), canvas.width);
            let y = plot.bottom() + LABEL_ROW / 2.0;
            canvas.text("tick", x, y, Anchor::Middle, label, usize::MAX);
        }
    }
    canvas.raw("</g>\n");
}

/// Category labels under `plot`, thinned so at most [`MAX_CATEGORY_LABELS`] (fewer if the
/// plot is narrow) are shown and none overlap. `spacing` is the distance between adjacent
/// category positions; `x_at` gives the position of category `index`.
pub(crate) fn category_axis(
    canvas: &mut Canvas,
    plot: Rect,
    labels: &[impl AsRef<str>],
    count: usize,
    spacing: f64,
    x_at: impl Fn(usize) -> f64,
) {
    canvas.raw("<g class=\"axis axis-x\">\n");
    canvas.line(
        "axis-line",
        plot.x,
        plot.bottom(),
        plot.right(),
        plot.bottom(),
    );
    let longest = labels
        .iter()
        .take(count)
        .map(|label| label.as_ref().chars().count().min(CATEGORY_LABEL_CHARS))
        .max()
        .unwrap_or(0);
    let label_width = longest as f64 * CHAR_WIDTH + 8.0;
    let fitting = (plot.width / label_width).floor().max(1.0) as usize;
    let step = label_step(count, fitting.min(MAX_CATEGORY_LABELS));
    let max_chars = chars_fitting(spacing * step as f64 - 8.0).clamp(1, CATEGORY_LABEL_CHARS);
    let y = plot.bottom() + LABEL_ROW / 2.0;
    for index in (0..count).step_by(step) {
        let Some(label) = labels
            .get(index)
            .map(AsRef::as_ref)
            .filter(|label| !label.is_empty())
        else {
            continue;
        };
        let shown_width = text_width(&truncate(label, max_chars));
        let x = keep_inside(x_at(index), shown_width, canvas.width);
        canvas.text("tick", x, y, Anchor::Middle, label, max_chars);
    }
    canvas.raw("</g>\n");
}

/// Shifts the centre `x` of a label `width` wide so the label stays on a canvas
/// `canvas_width` wide (edge labels would otherwise be cut in half).
fn keep_inside(x: f64, width: f64, canvas_width: f64) -> f64 {
    bound(
        x,
        PAD / 2.0 + width / 2.0,
        canvas_width - PAD / 2.0 - width / 2.0,
    )
}
