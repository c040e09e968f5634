//! Times a full scoring pass (cohorts, benchmarks, health) over a synthetic book of
//! 100,000 accounts × 45 metrics with the shipped configuration.
//!
//! `cargo run --release -p coco-insights --example scale [accounts]`

use std::time::Instant;

use chrono::NaiveDate;
use coco_core::{Category, Direction};
use coco_insights::{
    AccountRow, Benchmarks, HealthConfig, MetricMeta, SnapshotFrame, assign_cohorts, score_all,
};

const SHIPPED: &str = include_str!("../../../config/health.toml");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let accounts: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let config = HealthConfig::from_toml(SHIPPED)?;
    let mut names: Vec<String> = config
        .scorecards
        .iter()
        .flat_map(|s| &s.components)
        .flat_map(|c| &c.metrics)
        .map(|m| m.metric.clone())
        .collect();
    names.sort();
    names.dedup();
    while names.len() < 45 {
        names.push(format!("extra_{}", names.len()));
    }
    let metrics: Vec<MetricMeta> = names
        .iter()
        .map(|name| MetricMeta {
            name: name.clone(),
            description: String::new(),
            unit: String::new(),
            category: Category::ProductUsage,
            direction: if name.starts_with("days_since") || name.contains("tickets") {
                Direction::LowerIsBetter
            } else {
                Direction::HigherIsBetter
            },
        })
        .collect();

    let mut state = 42u64;
    let mut unit = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let segments = ["enterprise", "mid_market", "smb", "smb"];
    let coverage = ["high_touch", "mid_touch", "tech_touch", "pooled"];
    let industries = [
        "software",
        "retail",
        "finance",
        "health",
        "education",
        "media",
    ];
    let rows: Vec<AccountRow> = (0..accounts)
        .map(|i| {
            AccountRow::new(format!("acc_{i:06}"))
                .text("segment", segments[i % 4])
                .text("coverage_model", coverage[(i / 4) % 4])
                .text("industry", industries[i % 6])
                .text(
                    "plan_tier",
                    ["starter", "professional", "enterprise"][i % 3],
                )
                .number("employee_count", (unit() * 5000.0).floor())
                .number("tenure_days", (unit() * 1500.0).floor())
        })
        .collect();
    let values: Vec<f64> = (0..accounts * metrics.len())
        .map(|_| {
            if unit() < 0.1 {
                f64::NAN
            } else {
                (unit() * 40.0).floor() / 4.0 - 2.0
            }
        })
        .collect();
    let frame = SnapshotFrame::new(
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default(),
        metrics,
        rows,
        values,
    )?;

    let start = Instant::now();
    let assignment = assign_cohorts(&frame, &config.cohorts);
    let assigned = start.elapsed();
    let benchmarks = Benchmarks::compute(&frame, &assignment);
    let benchmarked = start.elapsed();
    let health = score_all(&frame, &config, &assignment, &benchmarks)?;
    let scored = start.elapsed();
    let scores: Vec<f64> = health.iter().map(|h| h.score.unwrap_or(f64::NAN)).collect();
    let score_benchmarks = Benchmarks::compute_for_column(&scores, &assignment);
    let entries = benchmarks.entries().len() + score_benchmarks.entries().len();
    let total = start.elapsed();
    println!(
        "{accounts} accounts × {} metrics, {} threads: cohorts {:?}, benchmarks {:?}, health {:?}, score benchmarks + {entries} entries {:?}; total {:?}",
        frame.metrics.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        assigned,
        benchmarked - assigned,
        scored - benchmarked,
        total - scored,
        total
    );
    Ok(())
}
