//! Helpers shared by the integration tests: the shipped metric list and small frames.

#![allow(dead_code)]

use chrono::NaiveDate;
use coco_core::Category;
use coco_insights::{AccountRow, Direction, MetricMeta, SnapshotFrame};

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

pub fn meta(name: &str, category: Category, direction: Direction) -> MetricMeta {
    MetricMeta {
        name: name.to_owned(),
        description: format!("{name} (test)"),
        unit: "n".to_owned(),
        category,
        direction,
    }
}

/// The metric catalogue shipped in `config/metrics.toml`, as the engine hands it to
/// the analyzers (read through `coco-metrics`, so it cannot drift from the real file).
pub fn shipped_metrics() -> Vec<MetricMeta> {
    coco_metrics::Catalogue::default_catalogue()
        .expect("the shipped catalogue loads")
        .metrics
        .into_iter()
        .map(|m| MetricMeta {
            name: m.name,
            description: m.description,
            unit: m.unit,
            category: m.category,
            direction: m.direction,
        })
        .collect()
}

/// A frame from rows of values (NaN = missing), one row per account.
pub fn frame(
    metrics: Vec<MetricMeta>,
    accounts: Vec<AccountRow>,
    rows: &[&[f64]],
) -> SnapshotFrame {
    let values = rows.iter().flat_map(|row| row.iter().copied()).collect();
    SnapshotFrame::new(date(2026, 11, 1), metrics, accounts, values).expect("valid test frame")
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[track_caller]
pub fn assert_close(actual: f64, expected: f64) {
    assert!(close(actual, expected), "expected {expected}, got {actual}");
}

#[track_caller]
pub fn assert_some_close(actual: Option<f64>, expected: f64) {
    match actual {
        Some(actual) => assert_close(actual, expected),
        None => panic!("expected Some({expected}), got None"),
    }
}

/// The as-of date of the expansion and adoption fixtures.
pub fn as_of() -> NaiveDate {
    date(2026, 11, 1)
}

pub fn days_ago(days: u64) -> NaiveDate {
    as_of() - chrono::Days::new(days)
}
