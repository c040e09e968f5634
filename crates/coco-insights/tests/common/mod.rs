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

/// The shipped metric catalogue as listed in the health brief (plus `escalations_180d`,
/// which the catalogue also ships and the default scorecards use).
pub fn shipped_metrics() -> Vec<MetricMeta> {
    use Category::*;
    use Direction::*;
    let list: &[(&str, Category, Direction)] = &[
        ("events_30d", ProductUsage, HigherIsBetter),
        ("events_30d_change_90d", ProductUsage, HigherIsBetter),
        ("active_users_30d", ProductUsage, HigherIsBetter),
        ("active_users_30d_change_90d", ProductUsage, HigherIsBetter),
        ("seat_utilisation_30d", ProductUsage, HigherIsBetter),
        ("active_days_30d", ProductUsage, HigherIsBetter),
        ("events_per_active_user_30d", ProductUsage, HigherIsBetter),
        ("days_since_last_event", ProductUsage, LowerIsBetter),
        ("adoption_breadth_90d", Adoption, HigherIsBetter),
        ("features_used_90d", Adoption, HigherIsBetter),
        ("onboarding_completion", Adoption, HigherIsBetter),
        ("milestones_overdue", Adoption, LowerIsBetter),
        ("touchpoints_30d", Relationship, HigherIsBetter),
        ("touchpoints_90d", Relationship, HigherIsBetter),
        ("days_since_last_touchpoint", Relationship, LowerIsBetter),
        ("qbr_last_quarter", Relationship, HigherIsBetter),
        ("champion_departed_90d", Relationship, LowerIsBetter),
        ("champion_present", Relationship, HigherIsBetter),
        ("exec_sponsor_engaged_90d", Relationship, HigherIsBetter),
        ("contacts_engaged_90d", Relationship, HigherIsBetter),
        ("open_tickets", Support, LowerIsBetter),
        ("open_high_priority_tickets", Support, LowerIsBetter),
        ("tickets_90d", Support, LowerIsBetter),
        ("escalations_90d", Support, LowerIsBetter),
        ("escalations_180d", Support, LowerIsBetter),
        ("mean_resolution_days_90d", Support, LowerIsBetter),
        ("reopen_rate_90d", Support, LowerIsBetter),
        ("nps_latest", Sentiment, HigherIsBetter),
        ("nps_mean_180d", Sentiment, HigherIsBetter),
        ("nps_change_180d", Sentiment, HigherIsBetter),
        ("csat_mean_90d", Sentiment, HigherIsBetter),
        ("competitor_mentions_90d", Sentiment, LowerIsBetter),
        ("failed_payments_90d", Commercial, LowerIsBetter),
        ("late_payments_90d", Commercial, LowerIsBetter),
        ("downgrade_requests_90d", Commercial, LowerIsBetter),
        ("arr", Commercial, Neutral),
        ("seats", Commercial, Neutral),
        ("days_to_renewal", Commercial, Neutral),
        ("tenure_days", Profile, Neutral),
    ];
    list.iter()
        .map(|(name, category, direction)| meta(name, *category, *direction))
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
