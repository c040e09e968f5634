//! Property test: any values, labels and sizes render to well-formed SVG without panicking.

mod common;

use coco_charts::{
    Band, Bar, BarChart, HeatmapChart, LineChart, LineSeries, Size, Sparkline, StackedBarChart,
    StackedSeries, ValueFormat,
};
use common::check_chart;
use proptest::prelude::*;

/// Ordinary values most of the time, with the awkward ones mixed in often enough to matter.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -1000.0..1000.0f64,
        1 => any::<f64>(),
        1 => prop::sample::select(vec![
            0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, f64::MIN,
            f64::MIN_POSITIVE, 1e-310, 1e300, -1e300, 50.0,
        ]),
    ]
}

fn point() -> impl Strategy<Value = Option<f64>> {
    prop::option::weighted(0.8, value())
}

/// Any text, including markup, quotes, controls and long runs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,12}", "[<>&\"' a-z]{0,20}", ".{40,120}",]
}

fn size() -> impl Strategy<Value = Size> {
    prop_oneof![
        4 => (0u32..1200, 0u32..600).prop_map(|(width, height)| Size::new(width, height)),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(width, height)| Size::new(width, height)),
    ]
}

fn format() -> impl Strategy<Value = ValueFormat> {
    prop::sample::select(vec![
        ValueFormat::Plain,
        ValueFormat::Money,
        ValueFormat::Percent,
        ValueFormat::Integer,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn line_charts_never_break(
        title in text(),
        x_labels in prop::collection::vec(text(), 0..60),
        series in prop::collection::vec(
            (text(), text(), prop::collection::vec(point(), 0..60)), 0..4),
        y_min in prop::option::of(value()),
        y_max in prop::option::of(value()),
        y_unit in text(),
        bands in prop::collection::vec((value(), value(), text()), 0..4),
        size in size(),
    ) {
        let chart = LineChart {
            title,
            x_labels,
            series: series
                .into_iter()
                .map(|(name, class, points)| LineSeries { name, class, points })
                .collect(),
            y_min,
            y_max,
            y_unit,
            bands: bands.into_iter().map(|(from, to, class)| Band { from, to, class }).collect(),
            size,
        };
        let svg = chart.render();
        check_chart(&svg, "chart-line", &expected_title(&chart.title));
    }

    #[test]
    fn bar_charts_never_break(
        title in text(),
        bars in prop::collection::vec(
            (text(), value(), text(), prop::option::of(text()), prop::option::of(text())), 0..30),
        value_format in format(),
        horizontal in any::<bool>(),
        size in size(),
    ) {
        let chart = BarChart {
            title,
            bars: bars
                .into_iter()
                .map(|(label, value, class, tooltip, href)| Bar { label, value, class, tooltip, href })
                .collect(),
            value_format,
            horizontal,
            size,
        };
        let svg = chart.render();
        check_chart(&svg, "chart-bar", &expected_title(&chart.title));
    }

    #[test]
    fn stacked_charts_never_break(
        title in text(),
        x_labels in prop::collection::vec(text(), 0..30),
        series in prop::collection::vec(
            (text(), text(), prop::collection::vec(value(), 0..30)), 0..5),
        value_format in format(),
        size in size(),
    ) {
        let chart = StackedBarChart {
            title,
            x_labels,
            series: series
                .into_iter()
                .map(|(name, class, values)| StackedSeries { name, class, values })
                .collect(),
            value_format,
            size,
        };
        let svg = chart.render();
        check_chart(&svg, "chart-stacked", &expected_title(&chart.title));
    }

    #[test]
    fn heatmaps_never_break(
        title in text(),
        rows in prop::collection::vec(text(), 0..12),
        columns in prop::collection::vec(text(), 0..8),
        // Ragged on purpose: fewer or more rows and columns than there are labels.
        values in prop::collection::vec(prop::collection::vec(point(), 0..10), 0..14),
        tooltips in prop::option::of(
            prop::collection::vec(prop::collection::vec(text(), 0..10), 0..14)),
        value_format in format(),
        range in prop::option::of((value(), value())),
        size in size(),
    ) {
        let chart = HeatmapChart {
            title, rows, columns, values, tooltips, value_format, range, size,
        };
        let svg = chart.render();
        let root = check_chart(&svg, "chart-heatmap", &expected_title(&chart.title));
        // Every cell of the labelled grid is drawn, or none and the chart says "No data".
        let has_value = (0..chart.rows.len()).any(|row| {
            (0..chart.columns.len()).any(|column| {
                chart
                    .values
                    .get(row)
                    .and_then(|values| values.get(column))
                    .is_some_and(|value| value.is_some_and(f64::is_finite))
            })
        });
        let cells = root.find_all("rect", "cell");
        if has_value {
            prop_assert_eq!(cells.len(), chart.rows.len() * chart.columns.len());
            for cell in cells {
                prop_assert!(cell.title().is_some());
                let class = cell.classes()[1];
                prop_assert!(
                    matches!(class, "q0" | "q1" | "q2" | "q3" | "q4" | "missing"),
                    "class {}", class
                );
            }
        } else {
            prop_assert!(cells.is_empty());
            prop_assert_eq!(root.find_all("text", "empty").len(), 1);
        }
    }

    #[test]
    fn sparklines_never_break(
        title in text(),
        values in prop::collection::vec(point(), 0..100),
        class in text(),
        size in size(),
    ) {
        let chart = Sparkline { title, values, class, size };
        let svg = chart.render();
        check_chart(&svg, "sparkline", &expected_title(&chart.title));
    }
}

/// The title as it reads back: characters XML forbids were replaced by U+FFFD.
fn expected_title(title: &str) -> String {
    title
        .chars()
        .map(|c| match c {
            '\u{0}'..='\u{8}'
            | '\u{B}'
            | '\u{C}'
            | '\u{E}'..='\u{1F}'
            | '\u{FFFE}'
            | '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}
