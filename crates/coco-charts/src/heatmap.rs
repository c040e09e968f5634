//! Heatmaps: a grid of values coloured by bucket, e.g. feature adoption per segment.

use crate::Size;
use crate::escape::Escaped;
use crate::format::{MISSING, ValueFormat, format_value};
use crate::scale::{finite_extent, fraction};
use crate::svg::{
    Anchor, CHAR_WIDTH, Canvas, FONT_SIZE, Legend, LegendEntry, Num, PAD, Rect, Swatch, bound,
    chars_fitting, text_width,
};

/// A grid of rows × columns, each cell coloured by which of five equal buckets of
/// [`range`](HeatmapChart::range) its value falls in (classes `q0`, lightest, to `q4`),
/// e.g. the share of accounts using each feature (rows) per segment (columns).
///
/// The grid is always `rows.len()` × `columns.len()`: values beyond it are ignored, and
/// cells that `values` does not reach (a short or missing row) are missing.
///
/// **Height.** When `size.height` is 0 or too small to give every row 16 px, the chart is
/// made as tall as it needs with 22 px per row (plus the column label header, the legend
/// and padding), and the root's `height` and `viewBox` say so. A taller `size.height` is
/// kept, the rows sharing it up to 40 px each; any space left stays empty below the
/// legend. The width is always `size.width`.
///
/// ```
/// use coco_charts::{HeatmapChart, Size, ValueFormat};
///
/// let chart = HeatmapChart {
///     title: "Feature adoption by segment".into(),
///     rows: vec!["Report builder".into(), "API access".into()],
///     columns: vec!["enterprise".into(), "smb".into()],
///     values: vec![vec![Some(82.0), Some(31.0)], vec![Some(47.0), None]],
///     tooltips: None,
///     value_format: ValueFormat::Percent,
///     range: None,
///     size: Size::new(480, 0),
/// };
/// let svg = chart.render();
/// assert!(svg.contains("<rect class=\"cell q4\""));
/// assert!(svg.contains("<title>Report builder · enterprise: 82%</title>"));
/// assert!(svg.contains("<title>API access · smb: n/a</title>"));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeatmapChart {
    /// Accessible name: the `<title>` and `aria-label`.
    pub title: String,
    /// Row labels, on the left (e.g. feature names); cut with `…` beyond 28 characters or
    /// the room there is, the full text kept in a tooltip.
    pub rows: Vec<String>,
    /// Column labels, on top (e.g. segments); cut to the column's width, likewise.
    pub columns: Vec<String>,
    /// `values[row][column]`; `None` or a non-finite value is missing, drawn as an empty
    /// cell with class `missing` (e.g. nobody in that segment has access to the feature).
    pub values: Vec<Vec<Option<f64>>>,
    /// Optional per-cell hover text, `tooltips[row][column]`; a cell without one (or with
    /// an empty one) gets the default `ROW · COLUMN: VALUE`.
    pub tooltips: Option<Vec<Vec<String>>>,
    /// How values are written in cells, tooltips and the legend. As in every chart,
    /// [`ValueFormat::Percent`] values are percent points (42.5 is written `42.5%`).
    pub value_format: ValueFormat,
    /// Bounds of the colour scale, split into five equal buckets; values outside are put
    /// in the first or last bucket. `None` (or bounds that are not finite or are equal)
    /// means 0–100 with [`ValueFormat::Percent`] and the data's extent otherwise. Reversed
    /// bounds are swapped.
    pub range: Option<(f64, f64)>,
    pub size: Size,
}

/// Number of colour buckets, classes `q0` … `q4`.
const BUCKETS: usize = 5;
/// Row height when the chart's height is computed.
const ROW_HEIGHT: f64 = 22.0;
/// Rows are never squeezed below this: a smaller given height is replaced.
const MIN_ROW_HEIGHT: f64 = 16.0;
/// Rows never grow beyond this, so a few rows on a tall card do not become slabs.
const MAX_ROW_HEIGHT: f64 = 40.0;
/// The column labels' row above the grid.
const HEADER: f64 = FONT_SIZE + 8.0;
/// Between the grid and the legend.
const LEGEND_GAP: f64 = 8.0;
/// Space between neighbouring cells (half on each side).
const CELL_GAP: f64 = 2.0;
/// Row labels longer than this are cut (the tooltip has them whole).
const LABEL_CHARS: usize = 28;

/// What one cell holds, resolved against the range.
struct Cell {
    /// The bucket, `None` for a missing value.
    bucket: Option<usize>,
    text: String,
}

impl HeatmapChart {
    /// Renders the chart as a standalone `<svg>` element (class `chart chart-heatmap`).
    pub fn render(&self) -> String {
        let (row_count, column_count) = (self.rows.len(), self.columns.len());
        let extent = finite_extent(
            (0..row_count)
                .flat_map(|row| (0..column_count).map(move |column| (row, column)))
                .filter_map(|(row, column)| self.value(row, column)),
        );
        let Some(extent) = extent else {
            return self.render_empty();
        };
        let (lo, hi) = self.scale_range(extent);
        let cells: Vec<Vec<Cell>> = (0..row_count)
            .map(|row| {
                (0..column_count)
                    .map(|column| self.cell(row, column, lo, hi))
                    .collect()
            })
            .collect();
        let any_missing = cells.iter().flatten().any(|cell| cell.bucket.is_none());

        let width = f64::from(self.size.width);
        let longest_label = self
            .rows
            .iter()
            .map(|label| label.chars().count().min(LABEL_CHARS))
            .max()
            .unwrap_or(0);
        let left = bound(
            PAD + longest_label as f64 * CHAR_WIDTH + 6.0,
            24.0,
            width * 0.4,
        );
        let grid_width = (width - left - PAD).max(1.0);
        let column_width = grid_width / column_count as f64;

        let legend_names = self.legend_names(lo, hi, any_missing);
        let legend_entries: Vec<LegendEntry<'_>> = legend_names
            .iter()
            .map(|(name, class)| LegendEntry { name, class })
            .collect();
        // Below the grid, aligned with it; from the left edge instead when that saves a
        // row. Laid out once to learn its height, which decides the rows' height, and
        // again where it goes.
        let (legend_x, legend_width) = {
            let under_grid = (left, grid_width);
            let full = (PAD, (width - 2.0 * PAD).max(1.0));
            let rows_at =
                |(x, max_width)| Legend::layout(&legend_entries, x, 0.0, max_width).height;
            if rows_at(full) < rows_at(under_grid) {
                full
            } else {
                under_grid
            }
        };
        let legend_height = Legend::layout(&legend_entries, legend_x, 0.0, legend_width).height;
        let fixed = PAD + HEADER + LEGEND_GAP + legend_height + PAD;
        let given = f64::from(self.size.height);
        let rows = row_count as f64;
        let (height, row_height) = if given < fixed + rows * MIN_ROW_HEIGHT {
            ((fixed + rows * ROW_HEIGHT).ceil(), ROW_HEIGHT)
        } else {
            (given, ((given - fixed) / rows).min(MAX_ROW_HEIGHT))
        };
        // `as` saturates: an absurd row count gives the tallest possible chart.
        let size = Size::new(self.size.width, height as u32);
        let mut canvas = Canvas::new("chart-heatmap", size, &self.title);
        let grid = Rect {
            x: left,
            y: PAD + HEADER,
            width: grid_width,
            height: rows * row_height,
        };

        // Column labels centred above their columns.
        let column_chars = chars_fitting(column_width - 4.0).min(LABEL_CHARS);
        canvas.raw("<g class=\"axis axis-x\">\n");
        for (index, label) in self.columns.iter().enumerate() {
            let x = grid.x + column_width * (index as f64 + 0.5);
            let y = PAD + HEADER / 2.0;
            canvas.text("tick", x, y, Anchor::Middle, label, column_chars);
        }
        canvas.raw("</g>\n");

        // Row labels right-aligned left of their rows.
        let row_chars = chars_fitting(left - PAD - 6.0).min(LABEL_CHARS);
        canvas.raw("<g class=\"axis axis-y\">\n");
        for (index, label) in self.rows.iter().enumerate() {
            let y = grid.y + row_height * (index as f64 + 0.5);
            canvas.text("tick", grid.x - 6.0, y, Anchor::End, label, row_chars);
        }
        canvas.raw("</g>\n");

        // Values in every cell or in none, as on bar charts: a grid numbering only some
        // cells reads as if the others had no value.
        let widest = cells
            .iter()
            .flatten()
            .map(|cell| text_width(&cell.text))
            .fold(0.0, f64::max);
        let show_values = widest + 4.0 <= column_width - CELL_GAP;

        canvas.raw("<g class=\"cells\">\n");
        for (row, row_cells) in cells.iter().enumerate() {
            for (column, cell) in row_cells.iter().enumerate() {
                let area = Rect {
                    x: grid.x + column_width * column as f64 + CELL_GAP / 2.0,
                    y: grid.y + row_height * row as f64 + CELL_GAP / 2.0,
                    width: column_width - CELL_GAP,
                    height: row_height - CELL_GAP,
                };
                let class = match cell.bucket {
                    Some(bucket) => format!("cell q{bucket}"),
                    None => "cell missing".to_string(),
                };
                let tooltip = self.tooltip(row, column, &cell.text);
                canvas.rect(&class, area, Some(&tooltip));
                if let (true, Some(bucket)) = (show_values, cell.bucket) {
                    let class = if bucket >= 3 {
                        "cell-label dark"
                    } else {
                        "cell-label"
                    };
                    // The label lets the pointer through to the cell under it, so hovering
                    // the number still shows the cell's tooltip.
                    canvas.put(format_args!(
                        "<text class=\"{class}\" x=\"{}\" y=\"{}\" dy=\"0.35em\" \
                         text-anchor=\"middle\" pointer-events=\"none\">{}</text>\n",
                        Num(area.x + area.width / 2.0),
                        Num(area.y + area.height / 2.0),
                        Escaped(&cell.text),
                    ));
                }
            }
        }
        canvas.raw("</g>\n");

        let legend = Legend::layout(
            &legend_entries,
            legend_x,
            grid.bottom() + LEGEND_GAP,
            legend_width,
        );
        legend.draw(&mut canvas, Swatch::Square);
        canvas.finish()
    }

    /// The "No data" chart. A height too small for the message is replaced by what the
    /// rows would need (one row when there are none), without a legend.
    fn render_empty(&self) -> String {
        let natural = 2.0 * PAD + HEADER + ROW_HEIGHT * self.rows.len().max(1) as f64;
        let height = if f64::from(self.size.height) < 2.0 * PAD + HEADER + ROW_HEIGHT {
            natural.ceil() as u32
        } else {
            self.size.height
        };
        Canvas::new(
            "chart-heatmap",
            Size::new(self.size.width, height),
            &self.title,
        )
        .finish_empty()
    }

    /// The value at a cell if present and finite.
    fn value(&self, row: usize, column: usize) -> Option<f64> {
        self.values
            .get(row)
            .and_then(|values| values.get(column))
            .copied()
            .flatten()
            .filter(|value| value.is_finite())
    }

    /// The colour scale's bounds, ordered; equal only when every value is the same.
    fn scale_range(&self, extent: (f64, f64)) -> (f64, f64) {
        let given = self
            .range
            .filter(|(lo, hi)| lo.is_finite() && hi.is_finite() && lo != hi);
        let (lo, hi) = match given {
            Some(range) => range,
            None if self.value_format == ValueFormat::Percent => (0.0, 100.0),
            None => extent,
        };
        (lo.min(hi), lo.max(hi))
    }

    fn cell(&self, row: usize, column: usize, lo: f64, hi: f64) -> Cell {
        match self.value(row, column) {
            Some(value) => Cell {
                bucket: Some(bucket(value, lo, hi)),
                text: self.format(value),
            },
            None => Cell {
                bucket: None,
                text: MISSING.to_string(),
            },
        }
    }

    /// `value` as written in cells, tooltips and the legend.
    fn format(&self, value: f64) -> String {
        format_value(value, self.value_format)
    }

    fn tooltip(&self, row: usize, column: usize, value_text: &str) -> String {
        let given = self
            .tooltips
            .as_ref()
            .and_then(|tooltips| tooltips.get(row))
            .and_then(|row| row.get(column))
            .filter(|tooltip| !tooltip.is_empty());
        match given {
            Some(tooltip) => tooltip.clone(),
            None => format!(
                "{} · {}: {value_text}",
                self.rows[row], self.columns[column]
            ),
        }
    }

    /// Legend names and classes: each bucket's range (one entry when every value is the
    /// same), and `missing` when the grid has a missing cell.
    fn legend_names(&self, lo: f64, hi: f64, any_missing: bool) -> Vec<(String, String)> {
        let mut names = if lo < hi {
            (0..BUCKETS)
                .map(|index| {
                    let from = boundary(lo, hi, index);
                    let to = boundary(lo, hi, index + 1);
                    let name = format!("{}–{}", self.format(from), self.format(to));
                    (name, format!("q{index}"))
                })
                .collect()
        } else {
            vec![(self.format(lo), format!("q{}", bucket(lo, lo, hi)))]
        };
        if any_missing {
            names.push((MISSING.to_string(), "missing".to_string()));
        }
        names
    }
}

/// Which of the five buckets `value` falls in: bucket N covers the N-th fifth of
/// `lo..hi` (its upper end belongs to the next bucket, `hi` itself to the last); values
/// outside the range go to the nearest end bucket, and when `lo == hi` to the middle one.
fn bucket(value: f64, lo: f64, hi: f64) -> usize {
    // A hair of slack so a value on a boundary (0.6 of 0..1) is not put one bucket low by
    // floating-point error in the division.
    let position = fraction(value, lo, hi) * BUCKETS as f64 + 1e-9;
    (position.floor() as usize).min(BUCKETS - 1)
}

/// The value `index` fifths of the way from `lo` to `hi`, without overflowing when the
/// span is wider than `f64` can hold.
fn boundary(lo: f64, hi: f64, index: usize) -> f64 {
    let share = index as f64 / BUCKETS as f64;
    lo * (1.0 - share) + hi * share
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::NO_DATA;

    #[test]
    fn buckets_split_the_range_in_fifths() {
        let cases = [
            (0.0, 0),
            (0.19, 0),
            (0.2, 1),
            (0.39, 1),
            (0.4, 2),
            (0.6, 3),
            (0.8, 4),
            (1.0, 4),
            (-5.0, 0),
            (7.0, 4),
        ];
        for (value, expected) in cases {
            assert_eq!(bucket(value, 0.0, 1.0), expected, "{value}");
        }
        assert_eq!(bucket(3.0, 3.0, 3.0), 2);
        assert_eq!(bucket(0.0, -f64::MAX, f64::MAX), 2);
        assert_eq!(bucket(f64::MAX, -f64::MAX, f64::MAX), 4);
        assert_eq!(bucket(60.0, 0.0, 100.0), 3);
    }

    #[test]
    fn boundaries_do_not_overflow() {
        assert_eq!(boundary(0.0, 1.0, 0), 0.0);
        assert_eq!(boundary(0.0, 1.0, 5), 1.0);
        assert_eq!(boundary(-f64::MAX, f64::MAX, 0), -f64::MAX);
        assert_eq!(boundary(-f64::MAX, f64::MAX, 5), f64::MAX);
        assert!(boundary(-f64::MAX, f64::MAX, 2).is_finite());
    }

    #[test]
    fn no_data_text_is_the_shared_one() {
        let svg = HeatmapChart::default().render();
        assert!(svg.contains(NO_DATA));
    }
}
