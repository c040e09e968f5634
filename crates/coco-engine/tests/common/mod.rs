//! Shared by the engine's integration tests: a demo store, and the demo's hidden truth
//! (`_truth.csv`) with the metrics that show each hidden factor.
#![allow(dead_code)]

use std::collections::BTreeMap;

use std::path::Path;

use chrono::NaiveDate;
use coco_core::contract;
use coco_store::{IngestOptions, Store};

/// Metrics that show each hidden factor of the demo's causal model.
pub fn factor_metrics(factor: &str) -> &'static [&'static str] {
    match factor {
        "usage_decline" => &[
            "events_30d_change_90d",
            "active_users_30d_change_90d",
            "seat_utilisation_30d",
            "days_since_last_event",
            "active_days_30d",
            "events_30d",
        ],
        "adoption_breadth" => &[
            "adoption_breadth_90d",
            "feature_adoption_90d",
            "features_used_90d",
        ],
        "champion_left" => &[
            "champion_departed_90d",
            "champion_present",
            "contacts_engaged_90d",
        ],
        "escalations" => &[
            "escalations_90d",
            "escalations_180d",
            "open_high_priority_tickets",
        ],
        "missed_milestones" => &["milestones_overdue", "onboarding_completion"],
        "low_nps" => &["nps_latest", "nps_mean_180d", "nps_change_180d"],
        "silent_period" => &[
            "days_since_last_touchpoint",
            "touchpoints_30d",
            "touchpoints_90d",
        ],
        _ => &[],
    }
}

pub struct Truth {
    pub account_id: String,
    pub churn_probability: f64,
    pub focal_outcome: String,
    pub focal_in_window: bool,
    pub factors: Vec<&'static str>,
    pub top_driver: String,
}

pub fn read_truth(path: &std::path::Path) -> Vec<Truth> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            let row: BTreeMap<&str, &str> = headers.iter().zip(record.iter()).collect();
            let number = |name: &str| row[name].parse::<f64>().unwrap_or(0.0);
            let mut factors = Vec::new();
            if number("usage_decline") > 0.0 {
                factors.push("usage_decline");
            }
            if number("adoption_breadth") < 0.35 {
                factors.push("adoption_breadth");
            }
            if row["champion_left"] == "true" {
                factors.push("champion_left");
            }
            if number("escalations") > 0.0 {
                factors.push("escalations");
            }
            if number("missed_milestones") > 0.0 {
                factors.push("missed_milestones");
            }
            if row["low_nps"] == "true" {
                factors.push("low_nps");
            }
            if row["silent_period"] == "true" {
                factors.push("silent_period");
            }
            Truth {
                account_id: row["account_id"].to_string(),
                churn_probability: number("churn_probability"),
                focal_outcome: row["focal_outcome"].to_string(),
                focal_in_window: row["focal_in_window"] == "true",
                factors,
                top_driver: row["top_driver"].to_string(),
            }
        })
        .collect()
}

/// A demo book of `accounts` × 12 months ending at `end`, generated into `<dir>/demo`
/// and ingested into a store in `<dir>/data`.
pub fn demo_store(accounts: usize, seed: u64, end: NaiveDate) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("demo");
    coco_demo::generate(
        &coco_demo::DemoConfig::new(accounts, 12, seed, end),
        &files,
        &|_| {},
    )
    .unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    store
        .ingest_dir(&files, &IngestOptions::default(), &mut |_| {})
        .unwrap();
    (dir, store)
}

/// Copies the demo files, dropping every event dated after `cutoff` (by the contract's
/// event-time column of each entity; state tables are copied whole).
pub fn copy_until(from: &Path, to: &Path, cutoff: NaiveDate) -> usize {
    std::fs::create_dir_all(to).unwrap();
    let mut dropped = 0;
    for entity in contract::ENTITIES {
        let source = from.join(format!("{}.csv", entity.name));
        if !source.exists() {
            continue;
        }
        let target = to.join(format!("{}.csv", entity.name));
        let Some(time_column) = entity.event_time else {
            std::fs::copy(&source, &target).unwrap();
            continue;
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(&source)
            .unwrap();
        let headers = reader.headers().unwrap().clone();
        let at = headers.iter().position(|h| h == time_column).unwrap();
        let mut writer = csv::Writer::from_path(&target).unwrap();
        writer.write_record(&headers).unwrap();
        for record in reader.records() {
            let record = record.unwrap();
            let date = record
                .get(at)
                .and_then(|v| v.get(..10))
                .and_then(|d| d.parse::<NaiveDate>().ok());
            if date.is_some_and(|d| d > cutoff) {
                dropped += 1;
                continue;
            }
            writer.write_record(&record).unwrap();
        }
        writer.flush().unwrap();
    }
    dropped
}

/// Columns of `_truth.csv` by account.
pub fn truth_rows(dir: &std::path::Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("demo").join("_truth.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let row: BTreeMap<String, String> = headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect();
            (row["account_id"].clone(), row)
        })
        .collect()
}

/// The fixed book the drafts' snapshot tests write from: 300 demo accounts (seed 9) to
/// 2026-10-31, 13 weekly snapshots of history, scored, and the daily run's alerts and
/// tasks — the same steps as `coco quickstart`, minus the churn model.
pub fn drafts_fixture() -> (tempfile::TempDir, Store, coco_engine::Config, NaiveDate) {
    let end = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let (dir, store) = demo_store(300, 9, end);
    let config = coco_engine::Config::load(None).unwrap();
    coco_engine::backfill(
        &store,
        &config,
        end - chrono::Days::new(7 * 13),
        end - chrono::Days::new(7),
        7,
        &mut |_| {},
    )
    .unwrap();
    coco_engine::score_as_of(&store, &config, end).unwrap();
    let actions = coco_engine::actions::ActionsConfig::load(None, &config).unwrap();
    coco_engine::actions::daily::run_daily(
        &store,
        &config,
        &actions,
        &coco_engine::actions::daily::DailyOptions {
            as_of: end,
            trigger: "test".into(),
            refresh: false,
            deliver: false,
        },
    )
    .unwrap();
    (dir, store, config, end)
}
