//! COCO charts: small server-side SVG charts for the web dashboard.
//!
//! Five chart kinds, each a plain struct with a `render()` returning one standalone
//! `<svg>` element as a `String`, ready to inline into a page:
//!
//! - [`LineChart`]: one or more series over ordered categories (health score over weeks),
//!   with optional fixed y range and background [`Band`]s (red / yellow / green zones).
//! - [`BarChart`]: one value per labelled bar, vertical or horizontal, bars optionally
//!   links (ARR by health colour, a score histogram).
//! - [`StackedBarChart`]: stacked columns over time (accounts per health colour per date).
//! - [`HeatmapChart`]: a grid of values coloured in five buckets, rows × columns (feature
//!   adoption per segment), with missing cells drawn empty.
//! - [`Sparkline`]: a bare trend line for a table cell.
//!
//! [`format_value`] (with [`ValueFormat`]) and [`escape`] are public so pages format and
//! escape numbers and text exactly as the charts do.
//!
//! # Why our own renderer
//!
//! The charts are small and few, and what we need from them is not what plotting crates
//! (plotters and the like) are built for:
//!
//! - **Styled by the page.** Colours come only from CSS classes (`class="bar green"`), so
//!   the dashboard's health colours and theme apply without the renderer knowing them.
//!   Plotting crates inline their own colours and styles into every element.
//! - **No font stack.** Text is left to the browser. Plotting crates lay out text
//!   themselves and so need fonts loaded at run time.
//! - **Safe with customer data.** Account names, labels and links are customer-controlled;
//!   every one is escaped (a name like `<script>` stays text), classes are reduced to
//!   class characters, and links to relative or `http(s)`/`mailto` targets.
//! - **Accessible.** `role="img"`, an `aria-label` and a `<title>` naming the chart.
//! - **Hover tooltips without JavaScript.** Every point, bar, segment and cell carries a
//!   `<title>`, which browsers show natively on hover.
//! - **Deterministic.** The same input gives the same bytes, so pages can be snapshot-tested.
//! - **Dependency-free.** The standard library only.
//!
//! # Output conventions
//!
//! - Root: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 W H" width="W" height="H"
//!   role="img" aria-label="TITLE" class="chart KIND" font-size="11">`, with `KIND` one of
//!   `chart-line`, `chart-bar`, `chart-stacked`, `chart-heatmap`, `sparkline`; its first
//!   child is `<title>TITLE</title>`. A heatmap whose given height is too small for its
//!   rows is made taller (see [`HeatmapChart`]); every other chart keeps the given size.
//! - No colour is ever written as an attribute or inline style: only classes. The only
//!   paint attribute is `fill="none"` on line paths (a structural "not filled", so a line
//!   never renders as a black blob when the page has no chart CSS); stroke widths,
//!   `font-size` and `pointer-events="none"` (on heatmap cell labels, so hovering the
//!   number shows the cell's tooltip) are attributes too, and CSS overrides them all.
//!   [`STYLESHEET`] is a starting stylesheet for every class below.
//! - Coordinates are rounded to one decimal place.
//! - Nothing to draw (no bars, no series, no heatmap rows or columns, only missing values)
//!   gives a valid chart showing `<text class="empty">No data</text>`.
//! - Nothing panics on any input: empty or single-point series, all-missing values, NaN
//!   and infinities (treated as missing), equal minimum and maximum, negative and huge
//!   values, any size including 0×0, labels of any length (cut with `…` on the axis, the
//!   full text kept in a tooltip).
//!
//! Classes emitted (caller classes, sanitised, are appended where noted):
//!
//! | class | on |
//! |---|---|
//! | `chart` + `chart-line` / `chart-bar` / `chart-stacked` / `chart-heatmap` / `sparkline` | the root `<svg>` |
//! | `empty` | the "No data" text |
//! | `axis` + `axis-x` / `axis-y` | groups holding an axis's grid lines and labels |
//! | `grid` | grid lines at value ticks |
//! | `tick` | axis labels (values and categories) |
//! | `axis-line`, `axis-line zero` | the category baseline; the zero line of bar charts |
//! | `bands`; `band` + caller class | background bands of line charts |
//! | `series`; `line` + caller class; `point` + caller class | a line series: group, path, point circles |
//! | `point last` + caller class | a sparkline's end dot |
//! | `bars`; `bar-item` or `bar-link`; `bar` + caller class; `value` | bar groups, one bar (link when it has an `href`), the bar, its value label |
//! | `column`; `bar` + caller class | a stacked column and its segments |
//! | `cells`; `cell` + `q0`…`q4` or `missing`; `cell-label` (+ `dark` on `q3`/`q4`) | heatmap cells: group, one cell (bucket, lightest `q0` to darkest `q4`, or no value), its value |
//! | `legend`; `swatch` (+ `line`) + caller class; `legend-label` | the legend (a heatmap's swatches carry `q0`…`q4` and `missing`) |
//!
//! # Example
//!
//! ```
//! use coco_charts::{Band, LineChart, LineSeries, Size};
//!
//! let chart = LineChart {
//!     title: "Health score, Acme <EU>".into(),
//!     x_labels: vec!["2024-01-07".into(), "2024-01-14".into(), "2024-01-21".into()],
//!     series: vec![LineSeries::new("Health", "health", vec![Some(62.0), None, Some(71.5)])],
//!     y_min: Some(0.0),
//!     y_max: Some(100.0),
//!     y_unit: "%".into(),
//!     bands: vec![Band { from: 0.0, to: 40.0, class: "red".into() }],
//!     size: Size::new(480, 200),
//! };
//! let svg = chart.render();
//! assert!(svg.starts_with("<svg "));
//! assert!(svg.contains("<title>Health score, Acme &lt;EU&gt;</title>"));
//! assert!(svg.contains("<title>2024-01-21: Health 71.5%</title>"));
//! ```

mod axis;
mod bar;
mod escape;
mod format;
mod heatmap;
mod line;
mod scale;
mod sparkline;
mod stacked;
mod style;
mod svg;

pub use bar::{Bar, BarChart};
pub use escape::{escape, sanitize_class};
pub use format::{MISSING, ValueFormat, format_value};
pub use heatmap::HeatmapChart;
pub use line::{Band, LineChart, LineSeries};
pub use sparkline::Sparkline;
pub use stacked::{StackedBarChart, StackedSeries};
pub use style::STYLESHEET;

/// A chart's size in CSS pixels; also its `viewBox`, so it scales cleanly if the page
/// sizes it differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    pub const fn new(width: u32, height: u32) -> Self {
        Size { width, height }
    }
}

impl Default for Size {
    /// 600×240: a dashboard card.
    fn default() -> Self {
        Size::new(600, 240)
    }
}
