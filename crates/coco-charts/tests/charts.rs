//! What the charts draw: empty states, gaps, axes, ticks, formats, legends, links.

mod common;

use coco_charts::{
    Band, Bar, BarChart, HeatmapChart, LineChart, LineSeries, STYLESHEET, Size, Sparkline,
    StackedBarChart, StackedSeries, ValueFormat, format_value,
};
use common::{Element, check_chart};

fn weekly_labels(count: usize) -> Vec<String> {
    (0..count)
        .map(|week| format!("2024-W{:02}", week + 1))
        .collect()
}

fn health_chart(points: Vec<Option<f64>>) -> LineChart {
    LineChart {
        title: "Health".into(),
        x_labels: weekly_labels(points.len()),
        series: vec![LineSeries::new("Health", "health", points)],
        y_min: Some(0.0),
        y_max: Some(100.0),
        y_unit: "%".into(),
        bands: vec![
            Band {
                from: 0.0,
                to: 40.0,
                class: "red".into(),
            },
            Band {
                from: 40.0,
                to: 70.0,
                class: "yellow".into(),
            },
            Band {
                from: 70.0,
                to: 100.0,
                class: "green".into(),
            },
        ],
        size: Size::new(600, 240),
    }
}

fn assert_no_data(root: &Element) {
    let empty = root.find_all("text", "empty");
    assert_eq!(empty.len(), 1, "expected one 'No data' text");
    assert_eq!(empty[0].own_text(), "No data");
    assert!(root.find_all("path", "").is_empty());
    assert!(root.find_all("rect", "bar").is_empty());
}

/// The y pixel of the grid line whose tick label reads `label`.
fn grid_y(root: &Element, label: &str) -> f64 {
    let tick = root
        .find_all("text", "tick")
        .into_iter()
        .find(|tick| tick.own_text() == label)
        .unwrap_or_else(|| panic!("no tick labelled {label:?}"));
    tick.number("y")
}

fn x_tick_labels(root: &Element) -> Vec<String> {
    root.find_all("g", "axis-x")
        .into_iter()
        .flat_map(|axis| axis.find_all("text", "tick"))
        .map(Element::own_text)
        .collect()
}

fn path_segments(root: &Element) -> usize {
    root.find_all("path", "line")
        .iter()
        .map(|path| path.attr("d").unwrap_or("").matches('M').count())
        .sum()
}

#[test]
fn empty_inputs_say_no_data() {
    let all_missing = vec![
        None,
        Some(f64::NAN),
        Some(f64::INFINITY),
        Some(f64::NEG_INFINITY),
    ];
    let line_charts = [
        LineChart::default(),
        LineChart {
            series: vec![LineSeries::default()],
            ..LineChart::default()
        },
        health_chart(vec![]),
        health_chart(all_missing.clone()),
    ];
    for chart in line_charts {
        assert_no_data(&check_chart(&chart.render(), "chart-line", &chart.title));
    }

    let bar_charts = [
        BarChart::default(),
        BarChart {
            bars: vec![
                Bar::new("a", f64::NAN, "red"),
                Bar::new("b", f64::INFINITY, "red"),
            ],
            ..BarChart::default()
        },
    ];
    for chart in bar_charts {
        assert_no_data(&check_chart(&chart.render(), "chart-bar", ""));
    }

    let stacked_charts = [
        StackedBarChart::default(),
        StackedBarChart {
            x_labels: weekly_labels(3),
            ..StackedBarChart::default()
        },
        StackedBarChart {
            series: vec![StackedSeries::new("Red", "red", vec![0.0, -4.0, f64::NAN])],
            ..StackedBarChart::default()
        },
    ];
    for chart in stacked_charts {
        assert_no_data(&check_chart(&chart.render(), "chart-stacked", ""));
    }

    for values in [vec![], vec![None], all_missing] {
        let chart = Sparkline {
            title: "WAU".into(),
            values,
            ..Sparkline::default()
        };
        assert_no_data(&check_chart(&chart.render(), "sparkline", "WAU"));
    }
}

#[test]
fn missing_points_break_the_line() {
    let chart = health_chart(vec![
        Some(10.0),
        Some(20.0),
        None,
        Some(40.0),
        Some(f64::NAN),
        Some(60.0),
        Some(70.0),
        Some(80.0),
    ]);
    let root = check_chart(&chart.render(), "chart-line", "Health");
    // Runs: [10, 20], [40] (a lone point: circle only), [60, 70, 80].
    assert_eq!(path_segments(&root), 2);
    assert_eq!(root.find_all("circle", "point").len(), 6);
    // Missing is not zero: nothing is drawn at the 0 line.
    let zero = grid_y(&root, "0%");
    for circle in root.find_all("circle", "point") {
        assert!(circle.number("cy") < zero - 1.0);
    }
}

#[test]
fn fixed_range_puts_fifty_in_the_middle() {
    let chart = health_chart(vec![Some(50.0); 5]);
    let root = check_chart(&chart.render(), "chart-line", "Health");
    let (bottom, top) = (grid_y(&root, "0%"), grid_y(&root, "100%"));
    assert!(bottom > top);
    for circle in root.find_all("circle", "point") {
        assert!((circle.number("cy") - (bottom + top) / 2.0).abs() <= 0.1);
    }
    // The bands fill the plot in thirds as given: red 0-40 at the bottom.
    let bands = root.find_all("rect", "band");
    assert_eq!(bands.len(), 3);
    assert!(bands[0].has_class("red"));
    let red_bottom = bands[0].number("y") + bands[0].number("height");
    assert!((red_bottom - bottom).abs() <= 0.1);
    assert!((bands[2].number("y") - top).abs() <= 0.1);
}

#[test]
fn values_outside_a_fixed_range_stay_in_the_plot() {
    let chart = health_chart(vec![Some(-20.0), Some(150.0), Some(1e300)]);
    let root = check_chart(&chart.render(), "chart-line", "Health");
    let (bottom, top) = (grid_y(&root, "0%"), grid_y(&root, "100%"));
    let circles = root.find_all("circle", "point");
    assert!((circles[0].number("cy") - bottom).abs() <= 0.1);
    assert!((circles[1].number("cy") - top).abs() <= 0.1);
    // The tooltip tells the real value.
    assert_eq!(circles[1].title().as_deref(), Some("2024-W02: Health 150%"));
}

#[test]
fn point_tooltips_name_label_series_and_value() {
    let chart = health_chart(vec![Some(72.456), Some(1234.5)]);
    let root = check_chart(&chart.render(), "chart-line", "Health");
    let titles: Vec<String> = root
        .find_all("circle", "point")
        .iter()
        .filter_map(|circle| circle.title())
        .collect();
    assert_eq!(
        titles,
        ["2024-W01: Health 72.46%", "2024-W02: Health 1,234.5%"]
    );
}

#[test]
fn x_labels_are_thinned_to_six() {
    for count in [1, 2, 5, 6, 7, 12, 13, 52, 365] {
        let points = (0..count)
            .map(|week| Some(50.0 + (week % 7) as f64))
            .collect();
        let root = check_chart(&health_chart(points).render(), "chart-line", "Health");
        let labels = x_tick_labels(&root);
        assert!(
            !labels.is_empty() && labels.len() <= 6,
            "{count} points: {labels:?}"
        );
        assert_eq!(labels[0], "2024-W01", "the first label is always shown");
        if count == 52 {
            assert_eq!(labels.len(), 6);
        }
    }
}

#[test]
fn narrow_charts_show_fewer_labels() {
    let mut chart = health_chart((0..52).map(|_| Some(60.0)).collect());
    chart.size = Size::new(160, 120);
    let root = check_chart(&chart.render(), "chart-line", "Health");
    assert!(x_tick_labels(&root).len() < 6);
}

#[test]
fn data_derived_axis_has_nice_ticks_and_padding() {
    let chart = LineChart {
        title: "ARR".into(),
        series: vec![LineSeries::new(
            "ARR",
            "series-0",
            vec![Some(13.0), Some(47.0), Some(88.0)],
        )],
        ..LineChart::default()
    };
    let root = check_chart(&chart.render(), "chart-line", "ARR");
    let ticks: Vec<String> = root
        .find_all("g", "axis-y")
        .iter()
        .flat_map(|axis| axis.find_all("text", "tick"))
        .map(Element::own_text)
        .collect();
    assert_eq!(ticks, ["0", "20", "40", "60", "80", "100"]);
}

#[test]
fn flat_single_and_negative_series_render() {
    let cases = [
        vec![Some(42.0)],
        vec![Some(42.0), Some(42.0), Some(42.0)],
        vec![Some(0.0), Some(0.0)],
        vec![Some(-5.0), Some(-15.0), Some(-2.5)],
        vec![Some(-1e308), Some(1e308)],
        vec![Some(f64::MAX), Some(f64::MIN_POSITIVE)],
        vec![Some(1e-300), Some(2e-300)],
    ];
    for points in cases {
        let count = points.len();
        let chart = LineChart {
            title: "t".into(),
            series: vec![LineSeries::new("s", "series-0", points.clone())],
            ..LineChart::default()
        };
        let svg = chart.render();
        let root = check_chart(&svg, "chart-line", "t");
        assert_eq!(root.find_all("circle", "point").len(), count, "{points:?}");
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "{points:?}:\n{svg}"
        );
        for circle in root.find_all("circle", "point") {
            let (cx, cy) = (circle.number("cx"), circle.number("cy"));
            assert!(
                (0.0..=600.0).contains(&cx) && (0.0..=240.0).contains(&cy),
                "{points:?}"
            );
        }
    }
}

#[test]
fn legend_only_with_several_series() {
    let one = health_chart(vec![Some(1.0), Some(2.0)]);
    let root = check_chart(&one.render(), "chart-line", "Health");
    assert!(root.find_all("g", "legend").is_empty());

    let mut two = one.clone();
    two.series.push(LineSeries::new(
        "Benchmark",
        "series-1",
        vec![Some(3.0), Some(4.0)],
    ));
    let root = check_chart(&two.render(), "chart-line", "Health");
    let legend = root.find_all("g", "legend");
    assert_eq!(legend.len(), 1);
    let names: Vec<String> = legend[0]
        .find_all("text", "legend-label")
        .into_iter()
        .map(Element::own_text)
        .collect();
    assert_eq!(names, ["Health", "Benchmark"]);
    assert!(legend[0].find_all("line", "swatch")[1].has_class("series-1"));
}

#[test]
fn colours_are_classes_only() {
    let chart = health_chart(vec![Some(30.0), Some(55.0), Some(80.0)]);
    let svg = chart.render();
    assert!(!svg.contains('#'), "no colour literals:\n{svg}");
    assert!(!svg.contains("rgb"), "no colour literals:\n{svg}");
    let root = check_chart(&svg, "chart-line", "Health");
    assert!(root.find_all("path", "line")[0].has_class("health"));
    assert!(root.find_all("circle", "point")[0].has_class("health"));
}

#[test]
fn money_formatting() {
    assert_eq!(format_value(1_200_000.0, ValueFormat::Money), "$1.2M");
    assert_eq!(format_value(1_250_000.0, ValueFormat::Money), "$1.3M");
    assert_eq!(format_value(340_000.0, ValueFormat::Money), "$340k");
    assert_eq!(format_value(900.0, ValueFormat::Money), "$900");
    assert_eq!(format_value(0.0, ValueFormat::Money), "$0");
    assert_eq!(format_value(-0.0, ValueFormat::Money), "$0");
    assert_eq!(format_value(-2_500_000.0, ValueFormat::Money), "-$2.5M");
    assert_eq!(format_value(f64::NAN, ValueFormat::Money), "n/a");
}

fn arr_chart(horizontal: bool) -> BarChart {
    BarChart {
        title: "ARR by health".into(),
        bars: vec![
            Bar {
                href: Some("/accounts?health=green".into()),
                ..Bar::new("Green", 1_200_000.0, "green")
            },
            Bar::new("Yellow", 340_000.0, "yellow"),
            Bar::new("Red", 0.0, "red"),
            Bar::new("Unknown", f64::NAN, "unknown"),
        ],
        value_format: ValueFormat::Money,
        horizontal,
        size: Size::new(480, 220),
    }
}

#[test]
fn bar_chart_values_tooltips_and_links() {
    for horizontal in [false, true] {
        let root = check_chart(
            &arr_chart(horizontal).render(),
            "chart-bar",
            "ARR by health",
        );
        let bars = root.find_all("rect", "bar");
        // The NaN bar is not drawn (its label still is).
        assert_eq!(bars.len(), 3);
        assert!(bars[0].has_class("green") && bars[2].has_class("red"));
        let tooltips: Vec<String> = bars.iter().filter_map(|bar| bar.title()).collect();
        assert_eq!(tooltips, ["Green: $1.2M", "Yellow: $340k", "Red: $0"]);
        let values: Vec<String> = root
            .find_all("text", "value")
            .into_iter()
            .map(Element::own_text)
            .collect();
        assert_eq!(values, ["$1.2M", "$340k", "$0"]);
        let links = root.find_all("a", "bar-link");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].attr("href"), Some("/accounts?health=green"));
        assert!(links[0].find_all("rect", "green").len() == 1);
        let labels: Vec<String> = root
            .find_all("text", "tick")
            .into_iter()
            .map(Element::own_text)
            .collect();
        assert!(labels.contains(&"Unknown".to_string()), "{labels:?}");
        // Bar lengths are proportional to the values.
        let length = |bar: &Element| {
            if horizontal {
                bar.number("width")
            } else {
                bar.number("height")
            }
        };
        let ratio = length(bars[0]) / length(bars[1]);
        assert!(
            (ratio - 1_200_000.0 / 340_000.0).abs() < 0.05,
            "ratio {ratio}"
        );
        assert_eq!(length(bars[2]), 0.0);
    }
}

#[test]
fn negative_bars_hang_below_zero() {
    let chart = BarChart {
        title: "Change".into(),
        bars: vec![
            Bar::new("up", 30.0, "green"),
            Bar::new("down", -20.0, "red"),
        ],
        value_format: ValueFormat::Percent,
        ..BarChart::default()
    };
    let root = check_chart(&chart.render(), "chart-bar", "Change");
    let zero = root.find_all("line", "zero")[0].number("y1");
    let bars = root.find_all("rect", "bar");
    assert!((bars[0].number("y") + bars[0].number("height") - zero).abs() <= 0.1);
    assert!((bars[1].number("y") - zero).abs() <= 0.1);
    assert!(grid_y(&root, "-20%") > zero);
}

#[test]
fn stacked_columns_add_up() {
    let chart = StackedBarChart {
        title: "Accounts by health".into(),
        x_labels: weekly_labels(3),
        series: vec![
            StackedSeries::new("Red", "red", vec![10.0, 5.0, f64::NAN]),
            StackedSeries::new("Yellow", "yellow", vec![20.0, -3.0, 0.0]),
            StackedSeries::new("Green", "green", vec![70.0, 45.0]),
        ],
        value_format: ValueFormat::Integer,
        size: Size::new(480, 240),
    };
    let root = check_chart(&chart.render(), "chart-stacked", "Accounts by health");
    let columns = root.find_all("g", "column");
    assert_eq!(columns.len(), 2, "the third column has nothing to stack");
    let first = columns[0].find_all("rect", "bar");
    assert_eq!(first.len(), 3);
    assert_eq!(first[0].title().as_deref(), Some("2024-W01: Red 10 (10%)"));
    assert_eq!(
        first[2].title().as_deref(),
        Some("2024-W01: Green 70 (70%)")
    );
    // Segments touch: each starts where the one below ends.
    assert!(
        (first[0].number("y") - (first[1].number("y") + first[1].number("height"))).abs() <= 0.1
    );
    let total_height: f64 = first.iter().map(|segment| segment.number("height")).sum();
    let (zero, hundred) = (grid_y(&root, "0"), grid_y(&root, "100"));
    assert!((total_height - (zero - hundred)).abs() <= 0.3);
    // Negative and zero values draw nothing.
    assert_eq!(columns[1].find_all("rect", "bar").len(), 2);
    assert_eq!(root.find_all("g", "legend").len(), 1);
}

#[test]
fn sparkline_draws_line_and_last_value() {
    let chart = Sparkline {
        title: "Weekly active users".into(),
        values: vec![Some(3.0), Some(5.0), None, Some(4.0), Some(8.0), None],
        class: "series-0".into(),
        size: Size::new(100, 24),
    };
    let root = check_chart(&chart.render(), "sparkline", "Weekly active users");
    assert_eq!(path_segments(&root), 2);
    let last = root.find_all("circle", "last");
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].title().as_deref(), Some("8"));
    assert!(
        (last[0].number("cy") - 2.5).abs() <= 0.1,
        "the maximum is at the top inset"
    );
    assert!(root.find_all("text", "").is_empty(), "no axes or labels");
}

#[test]
fn sparkline_output_is_exact() {
    let chart = Sparkline {
        title: "WAU".into(),
        values: vec![Some(1.0), Some(3.0), Some(2.0)],
        class: "series-0".into(),
        size: Size::new(45, 20),
    };
    let expected = concat!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 45 20\" width=\"45\" height=\"20\" ",
        "role=\"img\" aria-label=\"WAU\" class=\"chart sparkline\" font-size=\"11\">\n",
        "<title>WAU</title>\n",
        "<path class=\"line series-0\" d=\"M2.5 17.5L22.5 2.5L42.5 10\" fill=\"none\" stroke-width=\"1.5\" ",
        "stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n",
        "<circle class=\"point last series-0\" cx=\"42.5\" cy=\"10\" r=\"2\"><title>2</title></circle>\n",
        "</svg>\n",
    );
    assert_eq!(chart.render(), expected);
}

#[test]
fn output_is_deterministic() {
    let line = health_chart(
        (0..52)
            .map(|week| Some((week as f64 * 1.7) % 100.0))
            .collect(),
    );
    assert_eq!(line.render(), line.render());
    let bars = arr_chart(true);
    assert_eq!(bars.render(), bars.render());
}

#[test]
fn coordinates_have_at_most_one_decimal() {
    let chart = health_chart(
        (0..17)
            .map(|week| Some(100.0 / 3.0 + week as f64 / 7.0))
            .collect(),
    );
    let root = check_chart(&chart.render(), "chart-line", "Health");
    for element in root.descendants() {
        for (key, value) in &element.attributes {
            if matches!(
                key.as_str(),
                "x" | "y" | "x1" | "x2" | "y1" | "y2" | "cx" | "cy" | "width" | "height"
            ) {
                let decimals = value
                    .split_once('.')
                    .map_or(0, |(_, fraction)| fraction.len());
                assert!(decimals <= 1, "{key}={value}");
            }
        }
    }
}

#[test]
fn tiny_and_huge_sizes_do_not_panic() {
    for size in [
        Size::new(0, 0),
        Size::new(1, 1),
        Size::new(30, 10),
        Size::new(u32::MAX, u32::MAX),
    ] {
        let mut line = health_chart(vec![Some(10.0), Some(90.0), None, Some(50.0)]);
        line.size = size;
        check_chart(&line.render(), "chart-line", "Health");
        for horizontal in [false, true] {
            let mut bars = arr_chart(horizontal);
            bars.size = size;
            check_chart(&bars.render(), "chart-bar", "ARR by health");
        }
        let spark = Sparkline {
            values: vec![Some(1.0), Some(2.0)],
            size,
            ..Sparkline::default()
        };
        check_chart(&spark.render(), "sparkline", "");
    }
}

#[test]
fn stylesheet_covers_the_emitted_classes() {
    for class in [
        ".chart",
        ".tick",
        ".empty",
        ".grid",
        ".axis-line",
        ".line",
        ".point",
        ".bar",
        ".band",
        ".swatch",
        ".value",
        ".red",
        ".yellow",
        ".green",
        ".unknown",
        ".series-0",
        ".series-5",
        ".chart-heatmap .cell.q0",
        ".chart-heatmap .cell.q4",
        ".swatch.q0",
        ".swatch.q4",
        ".cell.missing",
        ".swatch.missing",
        ".cell-label",
        ".cell-label.dark",
    ] {
        assert!(STYLESHEET.contains(class), "{class} missing");
    }
}

fn adoption_heatmap() -> HeatmapChart {
    HeatmapChart {
        title: "Feature adoption by segment".into(),
        rows: vec![
            "Report builder".into(),
            "Dashboards".into(),
            "API access".into(),
        ],
        columns: vec!["enterprise".into(), "mid_market".into(), "smb".into()],
        values: vec![
            vec![Some(0.0), Some(20.0), Some(39.0)],
            vec![Some(40.0), Some(60.0), Some(80.0)],
            vec![Some(100.0), None, Some(f64::NAN)],
        ],
        tooltips: None,
        value_format: ValueFormat::Percent,
        range: None,
        size: Size::new(600, 0),
    }
}

/// The bucket (`q0`…`q4`) or `missing` class of each cell, row by row.
fn cell_classes(root: &Element) -> Vec<String> {
    root.find_all("rect", "cell")
        .iter()
        .map(|cell| {
            let classes = cell.classes();
            assert_eq!(classes.len(), 2, "{classes:?}");
            assert_eq!(classes[0], "cell");
            classes[1].to_string()
        })
        .collect()
}

fn texts(elements: Vec<&Element>) -> Vec<String> {
    elements.into_iter().map(Element::own_text).collect()
}

#[test]
fn heatmap_cells_buckets_and_missing() {
    let root = check_chart(
        &adoption_heatmap().render(),
        "chart-heatmap",
        "Feature adoption by segment",
    );
    let groups = root.find_all("g", "cells");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].find_all("rect", "cell").len(), 9, "3 × 3 cells");
    assert_eq!(
        cell_classes(&root),
        [
            "q0", "q1", "q1", "q2", "q3", "q4", "q4", "missing", "missing"
        ]
    );
    let cells = root.find_all("rect", "cell");
    assert_eq!(
        cells[1].title().as_deref(),
        Some("Report builder · mid_market: 20%")
    );
    assert_eq!(
        cells[7].title().as_deref(),
        Some("API access · mid_market: n/a")
    );
    // Percent points are written as percentages, in every cell that has a value and no other.
    let labels = root.find_all("text", "cell-label");
    assert_eq!(
        texts(labels.clone()),
        ["0%", "20%", "39%", "40%", "60%", "80%", "100%"]
    );
    let dark: Vec<bool> = labels.iter().map(|label| label.has_class("dark")).collect();
    assert_eq!(dark, [false, false, false, false, true, true, true]);
    // Each label sits in the middle of its cell and lets the pointer through to it.
    let (cell, label) = (cells[0], labels[0]);
    assert!((cell.number("x") + cell.number("width") / 2.0 - label.number("x")).abs() <= 0.1);
    assert!((cell.number("y") + cell.number("height") / 2.0 - label.number("y")).abs() <= 0.1);
    assert_eq!(label.attr("pointer-events"), Some("none"));

    let columns = texts(
        root.find_all("g", "axis-x")
            .into_iter()
            .flat_map(|axis| axis.find_all("text", "tick"))
            .collect(),
    );
    assert_eq!(columns, ["enterprise", "mid_market", "smb"]);
    let rows = texts(
        root.find_all("g", "axis-y")
            .into_iter()
            .flat_map(|axis| axis.find_all("text", "tick"))
            .collect(),
    );
    assert_eq!(rows, ["Report builder", "Dashboards", "API access"]);

    let legend = root.find_all("g", "legend");
    assert_eq!(legend.len(), 1);
    let swatches: Vec<String> = legend[0]
        .find_all("rect", "swatch")
        .iter()
        .map(|swatch| swatch.classes()[1].to_string())
        .collect();
    assert_eq!(swatches, ["q0", "q1", "q2", "q3", "q4", "missing"]);
    assert_eq!(
        texts(legend[0].find_all("text", "legend-label")),
        ["0%–20%", "20%–40%", "40%–60%", "60%–80%", "80%–100%", "n/a"]
    );
}

#[test]
fn heatmap_cells_tile_the_grid() {
    let root = check_chart(
        &adoption_heatmap().render(),
        "chart-heatmap",
        "Feature adoption by segment",
    );
    let cells = root.find_all("rect", "cell");
    let (x, y) = (
        |cell: &Element| cell.number("x"),
        |cell: &Element| cell.number("y"),
    );
    // Row by row, left to right, equal sizes, all inside the chart.
    for row in 0..3 {
        for column in 0..3 {
            let cell = cells[row * 3 + column];
            assert!((cell.number("width") - cells[0].number("width")).abs() <= 0.1);
            assert!((cell.number("height") - cells[0].number("height")).abs() <= 0.1);
            if column > 0 {
                assert!(x(cell) > x(cells[row * 3 + column - 1]));
                assert_eq!(y(cell), y(cells[row * 3]));
            }
            if row > 0 {
                assert!(y(cell) > y(cells[(row - 1) * 3 + column]));
            }
            assert!(x(cell) + cell.number("width") <= 600.0);
        }
    }
    let legend = root.find_all("g", "legend")[0].find_all("rect", "swatch");
    assert!(
        legend[0].number("y") > y(cells[8]) + cells[8].number("height"),
        "the legend is below the grid"
    );
}

#[test]
fn heatmap_height_follows_the_rows_unless_given() {
    let height = |chart: &HeatmapChart| {
        let root = check_chart(&chart.render(), "chart-heatmap", &chart.title);
        let height = root.number("height");
        assert_eq!(
            root.attr("viewBox"),
            Some(format!("0 0 {} {height}", chart.size.width).as_str())
        );
        assert_eq!(root.number("width"), f64::from(chart.size.width));
        (height, root.find_all("rect", "cell")[0].number("height"))
    };
    let mut chart = adoption_heatmap();
    let (three_rows, cell) = height(&chart);
    assert_eq!(cell, 20.0, "22 px rows less the gap between cells");
    chart.rows.push("Alerts".into());
    let (four_rows, _) = height(&chart);
    assert_eq!(four_rows - three_rows, 22.0, "22 px per row");

    // Too small to give each row 16 px: computed the same way.
    chart.size.height = 60;
    assert_eq!(height(&chart).0, four_rows);
    // Tall enough: kept, rows grow up to 40 px.
    chart.size.height = 400;
    let (kept, cell) = height(&chart);
    assert_eq!(kept, 400.0);
    assert_eq!(cell, 38.0);
    chart.size.height = 170;
    let (kept, cell) = height(&chart);
    assert_eq!(kept, 170.0);
    assert!(cell > 14.0 && cell < 38.0, "{cell}");
}

#[test]
fn heatmap_range_and_formats() {
    // Without a range, non-percent values are bucketed over the data's extent.
    let chart = HeatmapChart {
        title: "Logins".into(),
        rows: vec!["a".into(), "b".into()],
        columns: vec!["x".into(), "y".into(), "z".into()],
        values: vec![
            vec![Some(10.0), Some(30.0), Some(50.0)],
            vec![Some(70.0), Some(90.0), Some(110.0)],
        ],
        value_format: ValueFormat::Integer,
        ..HeatmapChart::default()
    };
    let root = check_chart(&chart.render(), "chart-heatmap", "Logins");
    assert_eq!(cell_classes(&root), ["q0", "q1", "q2", "q3", "q4", "q4"]);
    assert_eq!(
        texts(root.find_all("text", "legend-label")),
        ["10–30", "30–50", "50–70", "70–90", "90–110"]
    );
    assert!(
        root.find_all("rect", "missing").is_empty(),
        "no missing cell or swatch"
    );

    // A given range clamps values outside it into the end buckets; reversed is swapped.
    for range in [(100.0, 0.0), (0.0, 100.0)] {
        let chart = HeatmapChart {
            range: Some(range),
            values: vec![
                vec![Some(-5.0), Some(30.0), Some(50.0)],
                vec![Some(70.0), Some(99.0), Some(250.0)],
            ],
            ..chart.clone()
        };
        let root = check_chart(&chart.render(), "chart-heatmap", "Logins");
        assert_eq!(cell_classes(&root), ["q0", "q1", "q2", "q3", "q4", "q4"]);
        assert_eq!(
            root.find_all("rect", "cell")[5].title().as_deref(),
            Some("b · z: 250")
        );
    }

    // A range that cannot be used falls back to the default.
    for range in [(0.5, 0.5), (f64::NAN, 1.0), (0.0, f64::INFINITY)] {
        let chart = HeatmapChart {
            range: Some(range),
            ..adoption_heatmap()
        };
        let root = check_chart(&chart.render(), "chart-heatmap", &chart.title);
        assert_eq!(
            cell_classes(&root),
            [
                "q0", "q1", "q1", "q2", "q3", "q4", "q4", "missing", "missing"
            ],
            "{range:?}"
        );
    }

    // Money values are written compactly.
    let chart = HeatmapChart {
        title: "ARR".into(),
        rows: vec!["Acme".into()],
        columns: vec!["2024".into(), "2025".into()],
        values: vec![vec![Some(1_200_000.0), Some(340_000.0)]],
        value_format: ValueFormat::Money,
        ..HeatmapChart::default()
    };
    let root = check_chart(&chart.render(), "chart-heatmap", "ARR");
    assert_eq!(
        texts(root.find_all("text", "cell-label")),
        ["$1.2M", "$340k"]
    );
}

#[test]
fn heatmap_all_equal_values_share_the_middle_bucket() {
    for (format, value) in [(ValueFormat::Plain, 0.5), (ValueFormat::Percent, 50.0)] {
        let chart = HeatmapChart {
            title: "Flat".into(),
            rows: vec!["a".into(), "b".into()],
            columns: vec!["x".into(), "y".into()],
            values: vec![vec![Some(value); 2]; 2],
            value_format: format,
            ..HeatmapChart::default()
        };
        let root = check_chart(&chart.render(), "chart-heatmap", "Flat");
        assert_eq!(cell_classes(&root), ["q2"; 4], "{format:?}");
    }
    // A flat plain grid has one legend entry, its value.
    let chart = HeatmapChart {
        title: "Flat".into(),
        rows: vec!["a".into()],
        columns: vec!["x".into(), "y".into()],
        values: vec![vec![Some(7.0), Some(7.0)]],
        ..HeatmapChart::default()
    };
    let root = check_chart(&chart.render(), "chart-heatmap", "Flat");
    assert_eq!(texts(root.find_all("text", "legend-label")), ["7"]);
    assert!(
        root.find_all("rect", "q2").len() == 3,
        "two cells and the swatch"
    );
}

#[test]
fn heatmap_custom_tooltips() {
    let chart = HeatmapChart {
        tooltips: Some(vec![
            vec!["12 of 15 enterprise accounts".into(), String::new()],
            vec![],
        ]),
        ..adoption_heatmap()
    };
    let root = check_chart(&chart.render(), "chart-heatmap", &chart.title);
    let titles: Vec<String> = root
        .find_all("rect", "cell")
        .iter()
        .filter_map(|cell| cell.title())
        .collect();
    assert_eq!(titles.len(), 9);
    assert_eq!(titles[0], "12 of 15 enterprise accounts");
    // Empty or absent tooltips fall back to the default text.
    assert_eq!(titles[1], "Report builder · mid_market: 20%");
    assert_eq!(titles[3], "Dashboards · enterprise: 40%");
    assert_eq!(titles[8], "API access · smb: n/a");
}

#[test]
fn heatmap_without_data_says_no_data() {
    let charts = [
        HeatmapChart::default(),
        HeatmapChart {
            columns: vec![],
            ..adoption_heatmap()
        },
        HeatmapChart {
            rows: vec![],
            ..adoption_heatmap()
        },
        HeatmapChart {
            values: vec![],
            ..adoption_heatmap()
        },
        HeatmapChart {
            values: vec![vec![None, Some(f64::NAN), Some(f64::INFINITY)]; 3],
            ..adoption_heatmap()
        },
        HeatmapChart {
            size: Size::new(0, 0),
            ..HeatmapChart::default()
        },
    ];
    for chart in charts {
        let root = check_chart(&chart.render(), "chart-heatmap", &chart.title);
        assert_no_data(&root);
        assert!(root.find_all("rect", "").is_empty());
        assert!(root.number("height") > 0.0, "a height for the message");
    }
}

#[test]
fn heatmap_ragged_values_follow_the_labels() {
    // Rows and columns come from the labels: short value rows leave missing cells, extra
    // rows and columns are ignored.
    let chart = HeatmapChart {
        values: vec![
            vec![Some(10.0)],
            vec![Some(50.0), Some(50.0), Some(50.0), Some(90.0), Some(90.0)],
            vec![],
            vec![Some(90.0); 7],
            vec![Some(90.0)],
        ],
        ..adoption_heatmap()
    };
    let root = check_chart(&chart.render(), "chart-heatmap", &chart.title);
    assert_eq!(
        cell_classes(&root),
        [
            "q0", "missing", "missing", "q2", "q2", "q2", "missing", "missing", "missing"
        ]
    );

    // More labels than values, and tooltips of any shape.
    let chart = HeatmapChart {
        rows: (0..6).map(|row| format!("feature {row}")).collect(),
        tooltips: Some(vec![vec!["only one".into(); 9]; 9]),
        ..adoption_heatmap()
    };
    let root = check_chart(&chart.render(), "chart-heatmap", &chart.title);
    let classes = cell_classes(&root);
    assert_eq!(classes.len(), 18);
    assert_eq!(
        classes.iter().filter(|class| *class == "missing").count(),
        11
    );
}

#[test]
fn heatmap_long_labels_are_cut_with_tooltips() {
    let long = "Single sign-on for the whole organisation and its partners";
    let chart = HeatmapChart {
        rows: vec![long.into(), "Short".into()],
        columns: vec![long.into(), "smb".into()],
        values: vec![vec![Some(50.0), Some(25.0)], vec![None, Some(100.0)]],
        ..adoption_heatmap()
    };
    let root = check_chart(&chart.render(), "chart-heatmap", &chart.title);
    let ticks = root.find_all("text", "tick");
    let cut: Vec<&&Element> = ticks
        .iter()
        .filter(|tick| tick.own_text().ends_with('…'))
        .collect();
    assert_eq!(cut.len(), 2, "the long row and column labels are cut");
    for tick in cut {
        assert!(tick.own_text().chars().count() <= 28);
        assert_eq!(tick.title().as_deref(), Some(long));
    }
    assert_eq!(
        root.find_all("rect", "cell")[0].title(),
        Some(format!("{long} · {long}: 50%"))
    );
}

#[test]
fn heatmap_awkward_values_and_sizes_do_not_panic() {
    let values = vec![
        vec![Some(f64::NAN), Some(f64::INFINITY), Some(f64::NEG_INFINITY)],
        vec![Some(f64::MAX), Some(-f64::MAX), Some(f64::MIN_POSITIVE)],
        vec![Some(-0.0), Some(1e300), Some(-1e-300)],
    ];
    for format in [
        ValueFormat::Plain,
        ValueFormat::Money,
        ValueFormat::Percent,
        ValueFormat::Integer,
    ] {
        for size in [
            Size::new(0, 0),
            Size::new(1, 1),
            Size::new(30, 10),
            Size::new(600, 0),
            Size::new(u32::MAX, u32::MAX),
        ] {
            for range in [None, Some((-f64::MAX, f64::MAX)), Some((0.0, 1e-300))] {
                let chart = HeatmapChart {
                    values: values.clone(),
                    value_format: format,
                    range,
                    size,
                    ..adoption_heatmap()
                };
                let svg = chart.render();
                let root = check_chart(&svg, "chart-heatmap", &chart.title);
                let classes = cell_classes(&root);
                assert_eq!(classes.len(), 9);
                assert_eq!(
                    classes.iter().filter(|class| *class == "missing").count(),
                    3
                );
                assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
            }
        }
    }
}

#[test]
fn heatmap_output_is_deterministic() {
    let chart = adoption_heatmap();
    let first = chart.render();
    assert_eq!(first, chart.render());
    assert_eq!(first, chart.clone().render());
    assert!(!first.contains('#') && !first.contains("rgb"), "no colours");
}
