//! Hostile text in every field: the output must stay well-formed, contain no live markup,
//! and show the text back exactly as given (escaped, not mangled or dropped).

mod common;

use coco_charts::{
    Band, Bar, BarChart, HeatmapChart, LineChart, LineSeries, Size, Sparkline, StackedBarChart,
    StackedSeries, ValueFormat, escape,
};
use common::{Element, all_text, check_chart};

const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "\"onload=\"x",
    "' onmouseover='alert(1)",
    "&amp;",
    "&lt;script&gt;",
    "</svg><script>alert(1)</script><svg>",
    "]]><!-- -->",
    "<![CDATA[x]]>",
    "a & b < c > d \" e ' f",
    "&#x3C;script&#62;",
    "Ünïcødé 名前 🚀",
];

/// No raw markup from the input may survive: no `<script`, no `<!`, and no attribute that
/// was not written by the renderer (checked structurally by `check_chart`).
fn assert_inert(svg: &str) {
    let lower = svg.to_lowercase();
    assert!(!lower.contains("<script"), "raw <script in output:\n{svg}");
    assert!(!lower.contains("<!"), "raw <! in output:\n{svg}");
    assert!(
        !lower.contains("javascript:"),
        "javascript: URL in output:\n{svg}"
    );
}

fn texts_contain(root: &Element, expected: &str) -> bool {
    all_text(root).iter().any(|text| text.contains(expected))
}

fn hostile_line_chart(text: &str) -> LineChart {
    LineChart {
        title: text.to_string(),
        x_labels: vec![text.to_string(), "b".into(), text.to_string()],
        series: vec![
            LineSeries::new(text, text, vec![Some(1.0), Some(2.0), Some(3.0)]),
            LineSeries::new(
                format!("{text}2"),
                "series-1",
                vec![Some(3.0), None, Some(1.0)],
            ),
        ],
        y_min: None,
        y_max: None,
        y_unit: text.to_string(),
        bands: vec![Band {
            from: 0.0,
            to: 2.0,
            class: text.to_string(),
        }],
        size: Size::new(900, 300),
    }
}

#[test]
fn line_chart_escapes_every_field() {
    for &text in HOSTILE {
        let svg = hostile_line_chart(text).render();
        assert_inert(&svg);
        let root = check_chart(&svg, "chart-line", text);
        // The tooltip carries x label, series name and unit back verbatim.
        let tooltip = format!("{text}: {text} 1{text}");
        assert!(
            texts_contain(&root, &tooltip),
            "tooltip {tooltip:?} missing:\n{svg}"
        );
        assert!(
            texts_contain(&root, &format!("{text}2")),
            "legend name missing:\n{svg}"
        );
    }
}

#[test]
fn bar_chart_escapes_every_field() {
    for &text in HOSTILE {
        for horizontal in [false, true] {
            let bars = vec![
                Bar {
                    label: text.to_string(),
                    value: 5.0,
                    class: text.to_string(),
                    tooltip: Some(text.to_string()),
                    href: Some(format!("/accounts?name={text}")),
                },
                Bar {
                    label: text.to_string(),
                    value: -3.0,
                    class: "red".into(),
                    tooltip: None,
                    href: None,
                },
            ];
            let chart = BarChart {
                title: text.to_string(),
                bars,
                value_format: ValueFormat::Money,
                horizontal,
                size: Size::new(900, 300),
            };
            let svg = chart.render();
            assert_inert(&svg);
            let root = check_chart(&svg, "chart-bar", text);
            let bars = root.find_all("rect", "bar");
            assert_eq!(bars.len(), 2);
            assert_eq!(bars[0].title().as_deref(), Some(text));
            assert_eq!(bars[1].title(), Some(format!("{text}: -$3")));
            let links = root.find_all("a", "bar-link");
            assert_eq!(links.len(), 1);
            assert_eq!(
                links[0].attr("href"),
                Some(format!("/accounts?name={text}").as_str())
            );
        }
    }
}

#[test]
fn stacked_chart_escapes_every_field() {
    for &text in HOSTILE {
        let chart = StackedBarChart {
            title: text.to_string(),
            x_labels: vec![text.to_string(), text.to_string()],
            series: vec![
                StackedSeries::new(text, text, vec![1.0, 2.0]),
                StackedSeries::new("Red", "red", vec![3.0, 2.0]),
            ],
            value_format: ValueFormat::Integer,
            size: Size::new(600, 240),
        };
        let svg = chart.render();
        assert_inert(&svg);
        let root = check_chart(&svg, "chart-stacked", text);
        let segments = root.find_all("rect", "bar");
        assert_eq!(segments.len(), 4);
        assert_eq!(segments[0].title(), Some(format!("{text}: {text} 1 (25%)")));
    }
}

#[test]
fn sparkline_escapes_every_field() {
    for &text in HOSTILE {
        let chart = Sparkline {
            title: text.to_string(),
            values: vec![Some(1.0), Some(3.0), Some(2.0)],
            class: text.to_string(),
            size: Size::new(80, 20),
        };
        let svg = chart.render();
        assert_inert(&svg);
        check_chart(&svg, "sparkline", text);
    }
}

#[test]
fn heatmap_escapes_every_field() {
    for &text in HOSTILE {
        let chart = HeatmapChart {
            title: text.to_string(),
            rows: vec![text.to_string(), "Dashboards".into()],
            columns: vec![text.to_string(), "smb".into()],
            values: vec![vec![Some(50.0), None], vec![Some(25.0), Some(100.0)]],
            tooltips: Some(vec![vec![String::new(), text.to_string()]]),
            value_format: ValueFormat::Percent,
            range: None,
            size: Size::new(900, 0),
        };
        let svg = chart.render();
        assert_inert(&svg);
        let root = check_chart(&svg, "chart-heatmap", text);
        let cells = root.find_all("rect", "cell");
        assert_eq!(cells.len(), 4);
        assert_eq!(cells[0].title(), Some(format!("{text} · {text}: 50%")));
        assert_eq!(cells[1].title().as_deref(), Some(text));
        assert_eq!(cells[2].title(), Some(format!("Dashboards · {text}: 25%")));
        let ticks: Vec<String> = root
            .find_all("text", "tick")
            .into_iter()
            .map(|tick| tick.title().unwrap_or_else(|| tick.own_text()))
            .collect();
        assert_eq!(
            ticks.iter().filter(|tick| *tick == text).count(),
            2,
            "{ticks:?}"
        );
    }
}

#[test]
fn heatmap_labels_appear_only_escaped() {
    let (row, column) = ("<script>alert(1)</script>", "a&\"'b");
    let chart = HeatmapChart {
        title: "Adoption".into(),
        rows: vec![row.into()],
        columns: vec![column.into()],
        values: vec![vec![Some(50.0)]],
        value_format: ValueFormat::Percent,
        ..HeatmapChart::default()
    };
    let svg = chart.render();
    assert_inert(&svg);
    assert!(
        !svg.contains(row) && !svg.contains(column),
        "raw label:\n{svg}"
    );
    // The row label (on the axis and in the tooltip) and the column label, each escaped.
    assert_eq!(
        svg.matches("&lt;script&gt;alert(1)&lt;/script&gt;").count(),
        2
    );
    assert_eq!(svg.matches("a&amp;&quot;&#39;b").count(), 2);
    let root = check_chart(&svg, "chart-heatmap", "Adoption");
    assert_eq!(
        root.find_all("rect", "cell")[0].title(),
        Some(format!("{row} · {column}: 50%"))
    );
}

#[test]
fn empty_charts_escape_their_title() {
    for &text in HOSTILE {
        let svg = LineChart {
            title: text.to_string(),
            ..LineChart::default()
        }
        .render();
        assert_inert(&svg);
        check_chart(&svg, "chart-line", text);
        let svg = HeatmapChart {
            title: text.to_string(),
            rows: vec![text.to_string()],
            ..HeatmapChart::default()
        }
        .render();
        assert_inert(&svg);
        check_chart(&svg, "chart-heatmap", text);
    }
}

#[test]
fn long_hostile_labels_are_cut_without_breaking_entities() {
    let long = "<&>\"'".repeat(40);
    let chart = BarChart {
        title: long.clone(),
        bars: (0..12)
            .map(|index| Bar::new(format!("{long}{index}"), index as f64, "green"))
            .collect(),
        value_format: ValueFormat::Plain,
        horizontal: true,
        size: Size::new(300, 200),
    };
    let svg = chart.render();
    assert_inert(&svg);
    let root = check_chart(&svg, "chart-bar", &long);
    // Cut labels end in an ellipsis and keep the full text as a hover title.
    let cut: Vec<&Element> = root
        .find_all("text", "tick")
        .into_iter()
        .filter(|text| text.own_text().ends_with('…'))
        .collect();
    assert!(!cut.is_empty());
    for text in cut {
        let full = text.title().expect("a cut label keeps its full text");
        assert!(full.starts_with(&long));
        assert!(full.starts_with(text.own_text().trim_end_matches('…')));
    }
}

#[test]
fn unsafe_links_are_dropped_but_the_bar_stays() {
    for href in [
        "javascript:alert(1)",
        " JAVASCRIPT:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
    ] {
        let bar = Bar {
            href: Some(href.to_string()),
            ..Bar::new("Acme", 10.0, "green")
        };
        let chart = BarChart {
            title: "ARR".into(),
            bars: vec![bar],
            ..BarChart::default()
        };
        let svg = chart.render();
        assert_inert(&svg);
        let root = check_chart(&svg, "chart-bar", "ARR");
        assert!(
            root.find_all("a", "").is_empty(),
            "{href:?} was linked:\n{svg}"
        );
        assert_eq!(root.find_all("rect", "bar").len(), 1);
    }
}

#[test]
fn safe_links_keep_query_strings() {
    let href = "/accounts?health=red&sort=\"arr\"&q=<b>";
    let chart = BarChart {
        title: "ARR".into(),
        bars: vec![Bar {
            href: Some(href.to_string()),
            ..Bar::new("Red", 10.0, "red")
        }],
        ..BarChart::default()
    };
    let svg = chart.render();
    assert!(svg.contains("href=\"/accounts?health=red&amp;sort=&quot;arr&quot;&amp;q=&lt;b&gt;\""));
    let root = check_chart(&svg, "chart-bar", "ARR");
    assert_eq!(root.find_all("a", "bar-link")[0].attr("href"), Some(href));
}

#[test]
fn characters_xml_forbids_are_replaced() {
    let title = "bell\u{7} nul\u{0} esc\u{1b}";
    let svg = Sparkline {
        title: title.into(),
        values: vec![Some(1.0)],
        ..Sparkline::default()
    }
    .render();
    check_chart(&svg, "sparkline", "bell\u{FFFD} nul\u{FFFD} esc\u{FFFD}");
}

#[test]
fn escape_helper() {
    assert_eq!(
        escape("<script>alert(1)</script>"),
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    );
    assert_eq!(escape("\"onload=\"x"), "&quot;onload=&quot;x");
    assert_eq!(escape("&amp;"), "&amp;amp;");
}
