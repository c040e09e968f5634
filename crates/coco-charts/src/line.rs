//! Line (time-series) charts.

use crate::Size;
use crate::axis::{LABEL_ROW, category_axis, left_value_plot, tick_target, value_axis_left};
use crate::escape::{Escaped, class_list};
use crate::format::{ValueFormat, decimals_for_step, format_value, tick_number};
use crate::scale::{LinearScale, Ticks, finite_extent, nice_ticks, non_degenerate};
use crate::svg::{
    Canvas, FONT_SIZE, Legend, Num, PAD, Rect, Swatch, bound, gap_path, legend_entries,
    point_tooltip,
};

/// One line on a [`LineChart`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineSeries {
    /// Shown in the legend and in each point's tooltip.
    pub name: String,
    /// CSS class giving the line its colour, e.g. `series-0` or `health`.
    pub class: String,
    /// One value per x label; `None` (and NaN or infinity) is a gap in the line.
    pub points: Vec<Option<f64>>,
}

impl LineSeries {
    pub fn new(
        name: impl Into<String>,
        class: impl Into<String>,
        points: Vec<Option<f64>>,
    ) -> Self {
        LineSeries {
            name: name.into(),
            class: class.into(),
            points,
        }
    }
}

/// A horizontal background band across the plot, e.g. red from 0 to 40.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Band {
    pub from: f64,
    pub to: f64,
    /// CSS class giving the band its colour, e.g. `red`.
    pub class: String,
}

/// A line chart over ordered categories (typically dates), one or more series.
///
/// Missing points break the line (never drawn as zero). Every present point is a small
/// circle whose `<title>` tooltip reads `x label: series name value unit`. A legend is
/// drawn when there is more than one series. Values outside a fixed `y_min`..`y_max` are
/// drawn at the edge of the plot; their tooltips still show the true value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// Accessible name: the `<title>` and `aria-label`.
    pub title: String,
    /// One per point index. At most six are shown on the axis, evenly thinned.
    pub x_labels: Vec<String>,
    pub series: Vec<LineSeries>,
    /// Fixed bottom of the y axis (e.g. 0 for health); `None` derives it from the data.
    pub y_min: Option<f64>,
    /// Fixed top of the y axis (e.g. 100 for health); `None` derives it from the data.
    pub y_max: Option<f64>,
    /// Appended as-is to tick labels and tooltip values, e.g. `%`, or ` users` with its
    /// own leading space.
    pub y_unit: String,
    /// Background bands, drawn behind grid and lines in the given order.
    pub bands: Vec<Band>,
    pub size: Size,
}

/// Space reserved right of the plot, so the last point's circle is not cut.
const RIGHT_MARGIN: f64 = 12.0;

impl LineChart {
    /// Renders the chart as a standalone `<svg>` element (class `chart chart-line`).
    pub fn render(&self) -> String {
        let mut canvas = Canvas::new("chart-line", self.size, &self.title);
        let values = self
            .series
            .iter()
            .flat_map(|series| series.points.iter().flatten().copied());
        let Some(extent) = finite_extent(values) else {
            return canvas.finish_empty();
        };
        let count = self.point_count();
        let (width, height) = (canvas.width, canvas.height);

        let entries = legend_entries(
            self.series
                .iter()
                .map(|series| (series.name.as_str(), series.class.as_str())),
        );
        let legend = Legend::layout(&entries, PAD, PAD, width - 2.0 * PAD);

        // Vertical layout first: the number of y ticks depends on the plot height, and the
        // left margin on the widest tick label.
        let top = PAD + legend.height + FONT_SIZE / 2.0;
        let plot_height = (height - LABEL_ROW - top).max(1.0);
        let ticks = self.y_ticks(extent, tick_target(plot_height));
        let decimals = decimals_for_step(ticks.step);
        let tick_labels: Vec<String> = ticks
            .values
            .iter()
            .map(|&value| format!("{}{}", tick_number(value, decimals), self.y_unit))
            .collect();
        let (plot, y_scale) =
            left_value_plot(&tick_labels, &ticks, width, top, plot_height, RIGHT_MARGIN);
        let spacing = if count > 1 {
            plot.width / (count - 1) as f64
        } else {
            plot.width
        };
        let x_at = |index: usize| {
            if count > 1 {
                plot.x + spacing * index as f64
            } else {
                plot.x + plot.width / 2.0
            }
        };

        self.draw_bands(&mut canvas, plot, &y_scale);
        value_axis_left(&mut canvas, plot, &y_scale, &ticks.values, &tick_labels);
        category_axis(&mut canvas, plot, &self.x_labels, count, spacing, x_at);
        let radius = bound(spacing / 4.0, 1.5, 3.0);
        for series in &self.series {
            self.draw_series(&mut canvas, series, &y_scale, &x_at, radius);
        }
        legend.draw(&mut canvas, Swatch::Line);
        canvas.finish()
    }

    /// Number of x positions: the longer of the labels and the longest series.
    fn point_count(&self) -> usize {
        let longest_series = self.series.iter().map(|series| series.points.len()).max();
        longest_series.unwrap_or(0).max(self.x_labels.len())
    }

    /// The y axis: the fixed range when both ends are given (and sensible), otherwise the
    /// data range with a little padding, rounded out to nice ticks, with any one given end
    /// pinned.
    fn y_ticks(&self, (data_lo, data_hi): (f64, f64), target: usize) -> Ticks {
        let fixed_lo = self.y_min.filter(|value| value.is_finite());
        let fixed_hi = self.y_max.filter(|value| value.is_finite());
        if let (Some(lo), Some(hi)) = (fixed_lo, fixed_hi)
            && lo < hi
        {
            return nice_ticks(lo, hi, target, false);
        }
        let (padded_lo, padded_hi) = padded(data_lo, data_hi);
        let lo = fixed_lo.unwrap_or(padded_lo);
        let hi = fixed_hi.unwrap_or(padded_hi);
        if lo >= hi {
            // A pinned end on the wrong side of all the data (or both ends equal): the
            // data matters more than a contradictory setting.
            return nice_ticks(padded_lo, padded_hi, target, true);
        }
        let mut ticks = nice_ticks(lo, hi, target, true);
        if let Some(lo) = fixed_lo {
            ticks.lo = lo;
            ticks.values.retain(|&value| value >= lo);
        }
        if let Some(hi) = fixed_hi {
            ticks.hi = hi;
            ticks.values.retain(|&value| value <= hi);
        }
        ticks
    }

    fn draw_bands(&self, canvas: &mut Canvas, plot: Rect, y_scale: &LinearScale) {
        let bands: Vec<&Band> = self
            .bands
            .iter()
            .filter(|band| band.from.is_finite() && band.to.is_finite())
            .collect();
        if bands.is_empty() {
            return;
        }
        canvas.raw("<g class=\"bands\">\n");
        for band in bands {
            let top = y_scale.map(band.from.max(band.to));
            let bottom = y_scale.map(band.from.min(band.to));
            // Bands wholly outside the axis collapse to nothing at its edge.
            if bottom - top < 0.05 {
                continue;
            }
            let area = Rect {
                x: plot.x,
                y: top,
                width: plot.width,
                height: bottom - top,
            };
            canvas.rect(&class_list("band", &band.class), area, None);
        }
        canvas.raw("</g>\n");
    }

    fn draw_series(
        &self,
        canvas: &mut Canvas,
        series: &LineSeries,
        y_scale: &LinearScale,
        x_at: &impl Fn(usize) -> f64,
        radius: f64,
    ) {
        let present = |value: &Option<f64>| value.filter(|value| value.is_finite());
        canvas.raw("<g class=\"series\">\n");
        let path =
            gap_path(series.points.iter().enumerate().map(|(index, value)| {
                present(value).map(|value| (x_at(index), y_scale.map(value)))
            }));
        if !path.is_empty() {
            canvas.put(format_args!(
                "<path class=\"{}\" d=\"{path}\" fill=\"none\" stroke-width=\"2\" \
                 stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n",
                class_list("line", &series.class),
            ));
        }

        let point_class = class_list("point", &series.class);
        for (index, value) in series.points.iter().enumerate() {
            let Some(value) = present(value) else {
                continue;
            };
            let label = self.x_labels.get(index).map_or("", String::as_str);
            let value_text = format!("{}{}", format_value(value, ValueFormat::Plain), self.y_unit);
            canvas.put(format_args!(
                "<circle class=\"{point_class}\" cx=\"{}\" cy=\"{}\" r=\"{}\"><title>{}</title></circle>\n",
                Num(x_at(index)),
                Num(y_scale.map(value)),
                Num(radius),
                Escaped(&point_tooltip(label, &series.name, &value_text)),
            ));
        }
        canvas.raw("</g>\n");
    }
}

/// The data range widened by 5 % each side so lines do not run along the plot edges,
/// without crossing zero when the data does not (a count axis should not dip below 0).
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = non_degenerate(lo, hi);
    let pad = (hi / 2.0 - lo / 2.0) * 0.1;
    let mut padded_lo = lo - pad;
    let mut padded_hi = hi + pad;
    if lo >= 0.0 && padded_lo < 0.0 {
        padded_lo = 0.0;
    }
    if hi <= 0.0 && padded_hi > 0.0 {
        padded_hi = 0.0;
    }
    if padded_lo.is_finite() && padded_hi.is_finite() {
        (padded_lo, padded_hi)
    } else {
        (lo, hi)
    }
}
