//! Stacked bars over time, e.g. accounts (or ARR) per health colour per snapshot date.

use crate::Size;
use crate::axis::{LABEL_ROW, category_axis, left_value_plot, tick_target, value_axis_left};
use crate::escape::class_list;
use crate::format::{ValueFormat, format_value};
use crate::scale::nice_ticks;
use crate::svg::{Canvas, FONT_SIZE, Legend, PAD, Rect, Swatch, legend_entries, point_tooltip};

/// One layer of a [`StackedBarChart`], e.g. the green accounts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackedSeries {
    /// Shown in the legend and tooltips.
    pub name: String,
    /// CSS class giving the layer its colour, e.g. `green`.
    pub class: String,
    /// One value per x label. Stacks are counts or amounts: negative, NaN and infinite
    /// values contribute nothing (no segment is drawn for them).
    pub values: Vec<f64>,
}

impl StackedSeries {
    pub fn new(name: impl Into<String>, class: impl Into<String>, values: Vec<f64>) -> Self {
        StackedSeries {
            name: name.into(),
            class: class.into(),
            values,
        }
    }
}

/// Columns of stacked segments, the first series at the bottom. Each segment's tooltip
/// reads `x label: series name value (share of the column)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackedBarChart {
    /// Accessible name: the `<title>` and `aria-label`.
    pub title: String,
    /// One per column; at most six are shown on the axis, evenly thinned.
    pub x_labels: Vec<String>,
    /// Stacked bottom to top in this order; a legend is drawn when there are several.
    pub series: Vec<StackedSeries>,
    pub value_format: ValueFormat,
    pub size: Size,
}

impl StackedBarChart {
    /// Renders the chart as a standalone `<svg>` element (class `chart chart-stacked`).
    pub fn render(&self) -> String {
        let mut canvas = Canvas::new("chart-stacked", self.size, &self.title);
        let count = self.column_count();
        let totals: Vec<f64> = (0..count).map(|column| self.column_total(column)).collect();
        // A sum of huge values can overflow to infinity; such a column cannot be drawn to
        // scale, so it is left out rather than flattening every other column.
        let max_total = totals
            .iter()
            .copied()
            .filter(|total| total.is_finite())
            .fold(0.0, f64::max);
        if max_total <= 0.0 {
            return canvas.finish_empty();
        }
        let (width, height) = (canvas.width, canvas.height);

        let entries = legend_entries(
            self.series
                .iter()
                .map(|series| (series.name.as_str(), series.class.as_str())),
        );
        let legend = Legend::layout(&entries, PAD, PAD, width - 2.0 * PAD);
        let top = PAD + legend.height + FONT_SIZE / 2.0;
        let plot_height = (height - LABEL_ROW - top).max(1.0);
        let ticks = nice_ticks(0.0, max_total, tick_target(plot_height), true);
        let tick_labels: Vec<String> = ticks
            .values
            .iter()
            .map(|&value| format_value(value, self.value_format))
            .collect();
        let (plot, scale) = left_value_plot(&tick_labels, &ticks, width, top, plot_height, PAD);
        let slot = plot.width / count.max(1) as f64;

        value_axis_left(&mut canvas, plot, &scale, &ticks.values, &tick_labels);
        category_axis(&mut canvas, plot, &self.x_labels, count, slot, |index| {
            plot.x + slot * (index as f64 + 0.5)
        });

        canvas.raw("<g class=\"bars\">\n");
        let thickness = slot * 0.7;
        for (column, &total) in totals.iter().enumerate() {
            if !(total > 0.0 && total.is_finite()) {
                continue;
            }
            let label = self.x_labels.get(column).map_or("", String::as_str);
            let x = plot.x + slot * column as f64 + (slot - thickness) / 2.0;
            canvas.raw("<g class=\"column\">\n");
            let mut below = 0.0;
            for series in &self.series {
                let Some(value) = stackable(series.values.get(column).copied()) else {
                    continue;
                };
                let bottom = scale.map(below);
                below += value;
                let top = scale.map(below);
                let area = Rect {
                    x,
                    y: top,
                    width: thickness,
                    height: bottom - top,
                };
                let share = format_value(value / total * 100.0, ValueFormat::Percent);
                let value_text = format!("{} ({share})", format_value(value, self.value_format));
                let tooltip = point_tooltip(label, &series.name, &value_text);
                canvas.rect(&class_list("bar", &series.class), area, Some(&tooltip));
            }
            canvas.raw("</g>\n");
        }
        canvas.raw("</g>\n");
        legend.draw(&mut canvas, Swatch::Square);
        canvas.finish()
    }

    /// Number of columns: the longer of the labels and the longest series.
    fn column_count(&self) -> usize {
        let longest_series = self.series.iter().map(|series| series.values.len()).max();
        longest_series.unwrap_or(0).max(self.x_labels.len())
    }

    fn column_total(&self, column: usize) -> f64 {
        self.series
            .iter()
            .filter_map(|series| stackable(series.values.get(column).copied()))
            .sum()
    }
}

/// The part of a value that stacks: positive and finite, else nothing.
fn stackable(value: Option<f64>) -> Option<f64> {
    value.filter(|value| value.is_finite() && *value > 0.0)
}
