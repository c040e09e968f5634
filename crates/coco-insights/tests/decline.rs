//! The temporary-dip / structural-decline rule on hand-made cases.

mod common;

use chrono::{Days, NaiveDate};
use coco_insights::{DeclineEvidence, DeclineKind, DeclineRule, Direction, assess_decline};
use common::date;

/// Weekly points ending at `end`, oldest first.
fn weekly(end: NaiveDate, values: &[Option<f64>]) -> Vec<(NaiveDate, Option<f64>)> {
    let n = values.len() as u64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let weeks_back = n - 1 - i as u64;
            (end - Days::new(7 * weeks_back), *v)
        })
        .collect()
}

fn evidence(
    direction: Direction,
    end: NaiveDate,
    series: &[f64],
    before_index: usize,
) -> DeclineEvidence {
    let values: Vec<Option<f64>> = series.iter().map(|v| Some(*v)).collect();
    let series = weekly(end, &values);
    DeclineEvidence {
        metric: "events_30d".into(),
        direction,
        date_before: series[before_index].0,
        date_after: end,
        value_before: series[before_index].1.unwrap_or_default(),
        value_after: series.last().and_then(|p| p.1).unwrap_or_default(),
        series,
        cohort_median_before: None,
        cohort_median_after: None,
        last_year_before: None,
        last_year_after: None,
    }
}

fn rule() -> DeclineRule {
    DeclineRule::default()
}

#[test]
fn cohort_wide_holiday_dip_is_temporary() {
    // Everyone −38% for the two weeks around the holidays.
    let mut e = evidence(
        Direction::HigherIsBetter,
        date(2026, 12, 31),
        &[100.0, 100.0, 62.0, 62.0],
        1,
    );
    e.cohort_median_before = Some(200.0);
    e.cohort_median_after = Some(124.0);
    let a = assess_decline(&e, &rule());
    assert_eq!(a.kind, DeclineKind::TemporaryDip, "{:#?}", a.reasons);
    assert_eq!(a.shared_by_cohort, Some(true));
    assert_eq!(a.seasonal, None);
    assert!(!a.sustained);
    assert!(!a.recovering);
    let worsening = a.worsening.expect("a decline");
    assert!((worsening - 0.38).abs() < 1e-12);
    assert_eq!(
        a.reasons[0],
        "events_30d went from 100 on 2026-12-17 to 62 on 2026-12-31: 38% worse"
    );
    assert_eq!(
        a.reasons[1],
        "the cohort median went from 200 to 124 over the same dates (38% worse): at least 50% of the account's decline, so the cohort shares it"
    );
}

#[test]
fn a_dip_seen_last_year_is_seasonal() {
    let mut e = evidence(
        Direction::HigherIsBetter,
        date(2026, 12, 31),
        &[100.0, 100.0, 62.0, 62.0],
        1,
    );
    e.last_year_before = Some(90.0);
    e.last_year_after = Some(60.0);
    let a = assess_decline(&e, &rule());
    assert_eq!(a.kind, DeclineKind::TemporaryDip);
    assert_eq!((a.shared_by_cohort, a.seasonal), (None, Some(true)));
    assert!(
        a.reasons[2].contains("from 90 to 60 (33% worse): a seasonal pattern"),
        "{}",
        a.reasons[2]
    );
}

#[test]
fn account_only_decline_for_six_weeks_is_structural() {
    let mut e = evidence(
        Direction::HigherIsBetter,
        date(2026, 10, 30),
        &[100.0, 100.0, 85.0, 80.0, 75.0, 70.0, 65.0, 60.0],
        1,
    );
    e.cohort_median_before = Some(100.0);
    e.cohort_median_after = Some(99.0);
    e.last_year_before = Some(100.0);
    e.last_year_after = Some(101.0);
    let a = assess_decline(&e, &rule());
    assert_eq!(a.kind, DeclineKind::StructuralDecline, "{:#?}", a.reasons);
    assert_eq!((a.shared_by_cohort, a.seasonal), (Some(false), Some(false)));
    assert!(a.sustained && !a.recovering);
    assert_eq!(
        a.reasons[3],
        "the latest 6 points (2026-09-25 to 2026-10-30, 35 days) are at least 10% worse than 100: sustained"
    );
    assert!(
        a.reasons[1].ends_with("so the decline is the account's own"),
        "{}",
        a.reasons[1]
    );
    assert!(a.reasons[2].contains("1% better"), "{}", a.reasons[2]);
}

#[test]
fn a_one_week_account_only_drop_is_too_early_to_tell() {
    let mut e = evidence(
        Direction::HigherIsBetter,
        date(2026, 10, 30),
        &[100.0, 100.0, 100.0, 70.0],
        2,
    );
    e.cohort_median_before = Some(50.0);
    e.cohort_median_after = Some(50.0);
    let a = assess_decline(&e, &rule());
    assert_eq!(a.kind, DeclineKind::TooEarlyToTell, "{:#?}", a.reasons);
    assert_eq!(a.shared_by_cohort, Some(false));
    assert!(!a.sustained && !a.recovering);
    assert!(
        a.reasons[3].contains("the latest point (2026-10-30 to 2026-10-30, 0 days)"),
        "{}",
        a.reasons[3]
    );
    assert!(a.reasons[3].contains("not sustained yet (that needs 3 points spanning 21 days)"));
}

#[test]
fn a_recovering_dip_is_temporary() {
    let mut e = evidence(
        Direction::HigherIsBetter,
        date(2026, 10, 30),
        &[100.0, 100.0, 100.0, 60.0, 85.0],
        2,
    );
    e.cohort_median_before = Some(50.0);
    e.cohort_median_after = Some(50.0);
    let a = assess_decline(&e, &rule());
    assert_eq!(a.kind, DeclineKind::TemporaryDip, "{:#?}", a.reasons);
    assert!(a.recovering && !a.sustained);
    // Regained (85 − 60) ÷ (100 − 60) = 62.5% of the drop.
    assert_eq!(
        a.reasons[4],
        "the latest value 85 (2026-10-30) has regained 62% of the drop from 100 to the worst point 60 (2026-10-23): recovering"
    );
}

#[test]
fn sustained_but_recovering_is_too_early_to_tell() {
    let e = evidence(
        Direction::HigherIsBetter,
        date(2026, 10, 30),
        &[100.0, 100.0, 60.0, 55.0, 70.0, 80.0],
        1,
    );
    let a = assess_decline(&e, &rule());
    assert!(a.sustained && a.recovering);
    assert_eq!(a.kind, DeclineKind::TooEarlyToTell, "{:#?}", a.reasons);
}

#[test]
fn rising_silence_is_a_decline_of_a_lower_is_better_metric() {
    let mut e = evidence(
        Direction::LowerIsBetter,
        date(2026, 10, 30),
        &[10.0, 17.0, 24.0, 31.0, 38.0, 45.0],
        0,
    );
    e.metric = "days_since_last_touchpoint".into();
    e.cohort_median_before = Some(12.0);
    e.cohort_median_after = Some(13.0);
    let a = assess_decline(&e, &rule());
    assert_eq!(a.kind, DeclineKind::StructuralDecline, "{:#?}", a.reasons);
    assert!((a.worsening.unwrap_or_default() - 3.5).abs() < 1e-12);
    assert_eq!(a.shared_by_cohort, Some(false));
    assert!(a.reasons[0].starts_with("days_since_last_touchpoint (lower is better) went from 10"));
    assert!(a.reasons[0].ends_with("350% worse"));

    // The same silence while the whole coverage cohort went quiet: temporary.
    e.cohort_median_after = Some(40.0);
    assert_eq!(assess_decline(&e, &rule()).kind, DeclineKind::TemporaryDip);

    // Falling silence is an improvement.
    let mut better = e.clone();
    std::mem::swap(&mut better.value_before, &mut better.value_after);
    let a = assess_decline(&better, &rule());
    assert_eq!(a.kind, DeclineKind::NotADecline);
    assert!(a.reasons[0].ends_with("78% better"), "{}", a.reasons[0]);
}

#[test]
fn small_changes_and_neutral_metrics_are_not_declines() {
    let e = evidence(
        Direction::HigherIsBetter,
        date(2026, 10, 30),
        &[100.0, 95.0],
        0,
    );
    let a = assess_decline(&e, &rule());
    assert_eq!(a.kind, DeclineKind::NotADecline);
    assert_eq!(a.reasons[1], "below the 10% threshold for a decline");
    let neutral = evidence(Direction::Neutral, date(2026, 10, 30), &[100.0, 10.0], 0);
    let a = assess_decline(&neutral, &rule());
    assert_eq!((a.kind, a.worsening), (DeclineKind::NotADecline, None));
    assert!(a.reasons[0].contains("neutral"));
}

#[test]
fn a_missing_point_breaks_the_run() {
    let values = [
        Some(100.0),
        Some(70.0),
        Some(70.0),
        None,
        Some(70.0),
        Some(70.0),
    ];
    let series = weekly(date(2026, 10, 30), &values);
    let e = DeclineEvidence {
        metric: "events_30d".into(),
        direction: Direction::HigherIsBetter,
        date_before: series[0].0,
        date_after: date(2026, 10, 30),
        value_before: 100.0,
        value_after: 70.0,
        series,
        cohort_median_before: None,
        cohort_median_after: None,
        last_year_before: None,
        last_year_after: None,
    };
    let a = assess_decline(&e, &rule());
    assert!(!a.sustained, "{:#?}", a.reasons);
    assert_eq!(a.kind, DeclineKind::TooEarlyToTell);
    // Without the gap the same values are sustained.
    let mut full = e.clone();
    full.series[3].1 = Some(70.0);
    assert_eq!(
        assess_decline(&full, &rule()).kind,
        DeclineKind::StructuralDecline
    );
}

#[test]
fn thresholds_come_from_the_rule() {
    let e = evidence(
        Direction::HigherIsBetter,
        date(2026, 10, 30),
        &[100.0, 100.0, 85.0, 80.0, 75.0, 70.0],
        1,
    );
    assert_eq!(
        assess_decline(&e, &rule()).kind,
        DeclineKind::StructuralDecline
    );
    let stricter = DeclineRule {
        sustained_days: 35,
        ..DeclineRule::default()
    };
    assert_eq!(
        assess_decline(&e, &stricter).kind,
        DeclineKind::TooEarlyToTell
    );
    let higher_bar = DeclineRule {
        min_decline: 0.35,
        ..DeclineRule::default()
    };
    assert_eq!(
        assess_decline(&e, &higher_bar).kind,
        DeclineKind::NotADecline
    );
    let json = serde_json::to_value(assess_decline(&e, &rule())).expect("serialises");
    assert_eq!(json["kind"], "structural_decline");
}
