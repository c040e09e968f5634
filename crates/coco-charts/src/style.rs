//! A default stylesheet for the charts' classes.

/// A starting stylesheet covering every class the charts emit, including COCO's health
/// colours (`red`, `yellow`, `green`, `unknown`) and a six-colour `series-0`…`series-5`
/// palette. Pages may inline it as is, or use it as the list of classes to theme.
///
/// Colour classes set both `fill` and `stroke`, because the same class colours a bar (by
/// its fill) and a line (by its stroke). The structural rules after them are more specific
/// (`path.line`, `rect.band`), so a line is never filled and a band never outlined.
///
/// Heatmap buckets `q0`…`q4` are a light-to-dark blue-green scale; `missing` cells are
/// light grey with a dashed outline; cell labels are dark, and white on the dark buckets
/// (`cell-label dark`, on `q3` and `q4`).
pub const STYLESHEET: &str = r#"
.chart { font-family: system-ui, sans-serif; font-size: 11px; }
.chart text { fill: #555; }
.chart .tick { fill: #666; }
.chart .empty { fill: #999; }
.chart .value { fill: #333; }
.chart .grid { stroke: #e6e6e6; stroke-width: 1; }
.chart .axis-line { stroke: #999; stroke-width: 1; }
.chart .line { stroke: #4c78a8; }
.chart .point, .chart .bar, .chart .swatch { fill: #4c78a8; }
.chart .series-0 { fill: #4c78a8; stroke: #4c78a8; }
.chart .series-1 { fill: #f58518; stroke: #f58518; }
.chart .series-2 { fill: #54a24b; stroke: #54a24b; }
.chart .series-3 { fill: #b279a2; stroke: #b279a2; }
.chart .series-4 { fill: #9d755d; stroke: #9d755d; }
.chart .series-5 { fill: #72b7b2; stroke: #72b7b2; }
.chart .red { fill: #d64545; stroke: #d64545; }
.chart .yellow { fill: #e0a526; stroke: #e0a526; }
.chart .green { fill: #3f9a5b; stroke: #3f9a5b; }
.chart .unknown { fill: #9e9e9e; stroke: #9e9e9e; }
.chart path.line, .chart line.swatch { fill: none; }
.chart rect.band { stroke: none; opacity: 0.12; }
.chart .point { stroke: #fff; stroke-width: 1; }
.chart .bar-link:hover .bar, .chart .point:hover { opacity: 0.8; }
.chart.sparkline .point { stroke: none; }
.chart-heatmap .cell.q0, .chart-heatmap .swatch.q0 { fill: #dcf1ec; }
.chart-heatmap .cell.q1, .chart-heatmap .swatch.q1 { fill: #b2e2e2; }
.chart-heatmap .cell.q2, .chart-heatmap .swatch.q2 { fill: #66c2a4; }
.chart-heatmap .cell.q3, .chart-heatmap .swatch.q3 { fill: #2ca25f; }
.chart-heatmap .cell.q4, .chart-heatmap .swatch.q4 { fill: #006d2c; }
.chart-heatmap .cell.missing, .chart-heatmap .swatch.missing { fill: #f4f4f4; stroke: #c8c8c8; stroke-width: 1; stroke-dasharray: 3 2; }
.chart-heatmap .cell:hover { stroke: #333; stroke-width: 1.5; stroke-dasharray: none; }
.chart-heatmap .cell-label { fill: #1a1a1a; pointer-events: none; }
.chart-heatmap .cell-label.dark { fill: #fff; }
"#;
