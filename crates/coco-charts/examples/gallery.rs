//! Writes one of each chart to a folder, to look at in a browser:
//!
//! ```sh
//! cargo run -p coco-charts --example gallery -- /tmp/charts
//! ```
//!
//! Produces `index.html` (all charts inline, styled by [`coco_charts::STYLESHEET`]) and each
//! chart as a standalone `.svg` with the stylesheet embedded, so image viewers show colours.

use std::path::PathBuf;
use std::{env, fs, io};

use coco_charts::{
    Band, Bar, BarChart, HeatmapChart, LineChart, LineSeries, STYLESHEET, Size, Sparkline,
    StackedBarChart, StackedSeries, ValueFormat,
};

fn main() -> io::Result<()> {
    let folder = PathBuf::from(
        env::args()
            .nth(1)
            .unwrap_or_else(|| "target/chart-gallery".into()),
    );
    fs::create_dir_all(&folder)?;

    let weeks: Vec<String> = (0..52)
        .map(|week| format!("2024-{:02}-{:02}", 1 + week * 12 / 52, 1 + (week * 7) % 28))
        .collect();
    // A deterministic wobble, with a gap in the middle (missed snapshots).
    let health: Vec<Option<f64>> = (0..52)
        .map(|week| (!(20..23).contains(&week)).then(|| 55.0 + 25.0 * (week as f64 / 6.0).sin()))
        .collect();
    let benchmark: Vec<Option<f64>> = (0..52).map(|week| Some(60.0 + week as f64 * 0.2)).collect();

    let charts = [
        (
            "line",
            LineChart {
                title: "Health score, Acme <EU> & Co".into(),
                x_labels: weeks.clone(),
                series: vec![
                    LineSeries::new("Acme", "series-0", health),
                    LineSeries::new("Segment median", "series-1", benchmark),
                ],
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
                size: Size::new(640, 260),
            }
            .render(),
        ),
        (
            "bar",
            BarChart {
                title: "ARR by health".into(),
                bars: vec![
                    Bar {
                        href: Some("?health=green".into()),
                        ..Bar::new("Green", 4_200_000.0, "green")
                    },
                    Bar {
                        href: Some("?health=yellow".into()),
                        ..Bar::new("Yellow", 1_350_000.0, "yellow")
                    },
                    Bar {
                        href: Some("?health=red".into()),
                        ..Bar::new("Red", 340_000.0, "red")
                    },
                    Bar::new("Unknown", 90_000.0, "unknown"),
                ],
                value_format: ValueFormat::Money,
                horizontal: false,
                size: Size::new(420, 240),
            }
            .render(),
        ),
        (
            "bar-horizontal",
            BarChart {
                title: "Largest drops this week".into(),
                bars: vec![
                    Bar::new("Globex Corporation International Holdings", -18.0, "red"),
                    Bar::new("Initech", -11.5, "yellow"),
                    Bar::new("<script>alert(1)</script>", -4.0, "yellow"),
                    Bar::new("Umbrella", 6.0, "green"),
                ],
                value_format: ValueFormat::Plain,
                horizontal: true,
                size: Size::new(480, 180),
            }
            .render(),
        ),
        (
            "stacked",
            StackedBarChart {
                title: "Accounts by health".into(),
                x_labels: weeks[..12].to_vec(),
                series: vec![
                    StackedSeries::new(
                        "Red",
                        "red",
                        (0..12).map(|w| 10.0 + (w % 3) as f64).collect(),
                    ),
                    StackedSeries::new(
                        "Yellow",
                        "yellow",
                        (0..12).map(|w| 25.0 - w as f64).collect(),
                    ),
                    StackedSeries::new(
                        "Green",
                        "green",
                        (0..12).map(|w| 60.0 + 2.0 * w as f64).collect(),
                    ),
                ],
                value_format: ValueFormat::Integer,
                size: Size::new(640, 260),
            }
            .render(),
        ),
        (
            "heatmap",
            HeatmapChart {
                title: "Feature adoption by segment".into(),
                rows: vec![
                    "Report builder".into(),
                    "Dashboards".into(),
                    "API access".into(),
                    "Single sign-on for the whole organisation and partners".into(),
                    "<script>alert(1)</script>".into(),
                ],
                columns: vec!["enterprise".into(), "mid_market".into(), "smb".into()],
                values: vec![
                    vec![Some(82.0), Some(64.0), Some(31.0)],
                    vec![Some(95.0), Some(77.0), Some(58.0)],
                    vec![Some(47.0), Some(12.0), None],
                    vec![Some(66.0), None, None],
                    vec![Some(5.0), Some(21.0), Some(40.0)],
                ],
                tooltips: None,
                value_format: ValueFormat::Percent,
                range: None,
                size: Size::new(520, 0),
            }
            .render(),
        ),
        (
            "sparkline",
            Sparkline {
                title: "Weekly active users, last 12 weeks".into(),
                values: vec![
                    Some(31.0),
                    Some(35.0),
                    Some(33.0),
                    None,
                    Some(40.0),
                    Some(42.0),
                    Some(38.0),
                    Some(45.0),
                ],
                class: "series-0".into(),
                size: Size::new(100, 24),
            }
            .render(),
        ),
        (
            "empty",
            LineChart {
                title: "Nothing yet".into(),
                size: Size::new(320, 120),
                ..LineChart::default()
            }
            .render(),
        ),
    ];

    let mut page = format!(
        "<!doctype html><meta charset=utf-8><title>coco-charts</title><style>{STYLESHEET}</style>\n"
    );
    for (name, svg) in &charts {
        page.push_str(&format!("<h3>{name}</h3>\n{svg}\n"));
        // Standalone files carry the stylesheet, since no page styles them.
        let standalone = svg.replacen(
            "</title>\n",
            &format!("</title>\n<style>{STYLESHEET}</style>\n"),
            1,
        );
        fs::write(folder.join(format!("{name}.svg")), standalone)?;
    }
    fs::write(folder.join("index.html"), page)?;
    println!("wrote {}", folder.display());
    Ok(())
}
