//! Cohort assignment (text attributes, bands and their edges, missing and wrong-kind
//! attributes) and benchmarks (mid-rank percentiles with ties, interpolated quantiles).

mod common;

use coco_core::Category;
use coco_insights::{
    AccountRow, Benchmarks, CohortBand, CohortDef, Direction, SnapshotFrame, assign_cohorts,
    cohort_trend, mid_rank_percentile,
};
use common::{assert_close, assert_some_close, date, frame, meta};

fn cohorts() -> Vec<CohortDef> {
    vec![
        CohortDef {
            name: "segment".into(),
            attribute: "segment".into(),
            bands: None,
        },
        CohortDef {
            name: "size_band".into(),
            attribute: "employee_count".into(),
            bands: Some(vec![
                CohortBand {
                    below: Some(200.0),
                    label: "under 200".into(),
                },
                CohortBand {
                    below: Some(2000.0),
                    label: "200-1,999".into(),
                },
                CohortBand {
                    below: None,
                    label: "2,000+".into(),
                },
            ]),
        },
    ]
}

/// Six accounts covering every case of assignment.
fn six() -> SnapshotFrame {
    let accounts = vec![
        AccountRow::new("a1")
            .text("segment", "smb")
            .number("employee_count", 50.0),
        // Exactly on a band limit: goes to the next band.
        AccountRow::new("a2")
            .text("segment", "smb")
            .number("employee_count", 200.0),
        AccountRow::new("a3")
            .text("segment", "enterprise")
            .number("employee_count", 2000.0),
        // No employee count.
        AccountRow::new("a4").text("segment", "enterprise"),
        // Wrong kinds: a number segment, a text employee count.
        AccountRow::new("a5")
            .number("segment", 3.0)
            .text("employee_count", "big"),
        // No segment; just below a limit.
        AccountRow::new("a6").number("employee_count", 1999.0),
    ];
    let metrics = vec![meta("m", Category::ProductUsage, Direction::HigherIsBetter)];
    frame(
        metrics,
        accounts,
        &[&[10.0], &[20.0], &[20.0], &[f64::NAN], &[30.0], &[20.0]],
    )
}

#[test]
fn assignment_by_text_and_bands() {
    let f = six();
    let a = assign_cohorts(&f, &cohorts());
    assert_eq!(a.account_count(), 6);
    assert_eq!(a.dimension_index("size_band"), Some(1));
    // Text labels sorted; band labels in band order.
    assert_eq!(a.labels(0), ["enterprise", "smb"]);
    assert_eq!(a.labels(1), ["under 200", "200-1,999", "2,000+"]);
    let segment: Vec<Option<&str>> = (0..6).map(|i| a.label(i, 0)).collect();
    assert_eq!(
        segment,
        [
            Some("smb"),
            Some("smb"),
            Some("enterprise"),
            Some("enterprise"),
            None,
            None
        ]
    );
    let size: Vec<Option<&str>> = (0..6).map(|i| a.label(i, 1)).collect();
    assert_eq!(
        size,
        [
            Some("under 200"),
            Some("200-1,999"),
            Some("2,000+"),
            None,
            None,
            Some("200-1,999")
        ]
    );
    assert_eq!(a.sizes(0), [2, 2]);
    assert_eq!(a.sizes(1), [1, 2, 1]);
    assert_eq!(a.label(99, 0), None);
    assert_eq!(a.label(0, 99), None);
}

#[test]
fn empty_bands_keep_their_place() {
    let f = six();
    let mut defs = cohorts();
    if let Some(bands) = defs[1].bands.as_mut() {
        bands.insert(
            0,
            CohortBand {
                below: Some(10.0),
                label: "tiny".into(),
            },
        );
    }
    let a = assign_cohorts(&f, &defs);
    assert_eq!(a.labels(1), ["tiny", "under 200", "200-1,999", "2,000+"]);
    assert_eq!(a.sizes(1), [0, 1, 2, 1]);
    let b = Benchmarks::compute(&f, &a);
    assert_eq!(b.summary(1, 0, 0), None);
    assert_eq!(b.percentile(1, 0, 0, 5.0), None);
}

#[test]
fn benchmarks_per_cohort_include_the_account_and_skip_missing() {
    let f = six();
    let a = assign_cohorts(&f, &cohorts());
    let b = Benchmarks::compute(&f, &a);
    // segment=enterprise: a3 = 20, a4 missing → n = 1, the only value is at 50.
    assert_eq!(b.count(0, 0, 0), 1);
    assert_some_close(b.percentile(0, 0, 0, 20.0), 50.0);
    // segment=smb: 10, 20.
    assert_some_close(b.percentile(0, 1, 0, 10.0), 25.0);
    assert_some_close(b.percentile(0, 1, 0, 20.0), 75.0);
    assert_some_close(b.percentile(0, 1, 0, 15.0), 50.0);
    // size 200-1,999: a2 = 20, a6 = 20 — a tie shares 50.
    assert_some_close(b.percentile(1, 1, 0, 20.0), 50.0);
    assert_some_close(b.percentile(1, 1, 0, 19.0), 0.0);
    assert_some_close(b.percentile(1, 1, 0, 21.0), 100.0);
    assert_eq!(b.percentile(1, 1, 0, f64::NAN), None);
}

/// One cohort holding every account, for formula checks.
fn single_cohort(values: &[f64]) -> Benchmarks {
    let metrics = vec![meta("m", Category::ProductUsage, Direction::HigherIsBetter)];
    let accounts = (0..values.len())
        .map(|i| AccountRow::new(format!("a{i}")).text("all", "all"))
        .collect();
    let f =
        SnapshotFrame::new(date(2026, 1, 1), metrics, accounts, values.to_vec()).expect("frame");
    let a = assign_cohorts(
        &f,
        &[CohortDef {
            name: "all".into(),
            attribute: "all".into(),
            bands: None,
        }],
    );
    Benchmarks::compute(&f, &a)
}

#[test]
fn mid_rank_percentile_with_ties_by_hand() {
    let b = single_cohort(&[2.0, 5.0, 2.0, 1.0, 2.0]);
    // Sorted 1, 2, 2, 2, 5 (n = 5).
    assert_some_close(b.percentile(0, 0, 0, 1.0), 100.0 * 0.5 / 5.0); // 10
    assert_some_close(b.percentile(0, 0, 0, 2.0), 100.0 * (1.0 + 1.5) / 5.0); // 50
    assert_some_close(b.percentile(0, 0, 0, 5.0), 100.0 * 4.5 / 5.0); // 90
    assert_some_close(b.percentile(0, 0, 0, 3.0), 80.0);
    assert_some_close(b.percentile(0, 0, 0, 0.0), 0.0);
    assert_some_close(b.percentile(0, 0, 0, 6.0), 100.0);
    assert_close(mid_rank_percentile(1, 3, 5), 50.0);
}

#[test]
fn quantiles_interpolate_like_numpy() {
    // numpy.percentile([10, 20, 30, 40], [10, 25, 50, 75, 90]) = [13, 17.5, 25, 32.5, 37]
    let s = single_cohort(&[40.0, 10.0, 30.0, 20.0])
        .summary(0, 0, 0)
        .expect("summary");
    assert_eq!(s.n, 4);
    assert_close(s.mean, 25.0);
    assert_close(s.p10, 13.0);
    assert_close(s.p25, 17.5);
    assert_close(s.p50, 25.0);
    assert_close(s.p75, 32.5);
    assert_close(s.p90, 37.0);
    // numpy.percentile([1, 2, 2, 2, 5], [10, 25, 50, 75, 90]) = [1.4, 2, 2, 2, 3.8]
    let s = single_cohort(&[2.0, 5.0, 2.0, 1.0, 2.0, f64::NAN])
        .summary(0, 0, 0)
        .expect("summary");
    assert_eq!(s.n, 5);
    assert_close(s.mean, 2.4);
    assert_close(s.p10, 1.4);
    assert_close(s.p25, 2.0);
    assert_close(s.p50, 2.0);
    assert_close(s.p75, 2.0);
    assert_close(s.p90, 3.8);
    // One value: every quantile is that value.
    let s = single_cohort(&[7.0, f64::NAN])
        .summary(0, 0, 0)
        .expect("summary");
    assert_eq!((s.n, s.p10, s.p50, s.p90), (1, 7.0, 7.0, 7.0));
    assert_eq!(single_cohort(&[f64::NAN]).summary(0, 0, 0), None);
}

#[test]
fn entries_list_every_non_empty_cohort() {
    let f = six();
    let a = assign_cohorts(&f, &cohorts());
    let b = Benchmarks::compute(&f, &a);
    let rows: Vec<(&str, &str, &str, usize, f64)> = b
        .entries()
        .iter()
        .map(|e| (e.dimension, e.cohort, e.metric, e.summary.n, e.summary.p50))
        .collect();
    assert_eq!(
        rows,
        [
            ("segment", "enterprise", "m", 1, 20.0),
            ("segment", "smb", "m", 2, 15.0),
            ("size_band", "under 200", "m", 1, 10.0),
            ("size_band", "200-1,999", "m", 2, 20.0),
            ("size_band", "2,000+", "m", 1, 20.0),
        ]
    );
    let json = serde_json::to_value(b.entries()[0]).expect("serialises");
    assert_eq!(json["summary"]["n"], 1);
}

#[test]
fn a_column_that_is_not_a_metric() {
    let f = six();
    let a = assign_cohorts(&f, &cohorts());
    let scores = [80.0, 60.0, f64::NAN, 40.0, 99.0, 10.0];
    let b = Benchmarks::compute_for_column(&scores, &a);
    assert_eq!(b.columns(), ["value"]);
    // segment=enterprise: a3 missing, a4 = 40.
    assert_eq!(b.count(0, 0, 0), 1);
    assert_some_close(b.summary(0, 1, 0).map(|s| s.mean), 70.0);
    assert_some_close(b.percentile(0, 1, 0, 60.0), 25.0);
    let named = Benchmarks::compute_columns(vec!["health_score".into()], &[&scores], &a);
    assert_eq!(named.column_index("health_score"), Some(0));
    assert_eq!(
        named.summary_by_name("segment", "smb", "health_score"),
        b.summary(0, 1, 0)
    );
}

#[test]
fn cohort_trend_is_the_relative_change_of_the_median() {
    let f = six();
    let a = assign_cohorts(&f, &cohorts());
    let before = Benchmarks::compute(&f, &a);
    let later = frame(
        f.metrics.clone(),
        f.accounts.clone(),
        &[&[5.0], &[10.0], &[15.0], &[f64::NAN], &[30.0], &[-10.0]],
    );
    let after = Benchmarks::compute(&later, &assign_cohorts(&later, &cohorts()));
    // smb median 15 → 7.5.
    assert_some_close(cohort_trend(&before, &after, "segment", "smb", "m"), -0.5);
    // enterprise 20 → 15.
    assert_some_close(
        cohort_trend(&before, &after, "segment", "enterprise", "m"),
        -0.25,
    );
    assert_eq!(
        cohort_trend(&before, &after, "segment", "mid_market", "m"),
        None
    );
    assert_eq!(
        cohort_trend(&before, &after, "segment", "smb", "nope"),
        None
    );
    // size 200-1,999: 20 (20, 20) → 0 (10, −10); the other way round starts at 0, where
    // no relative change is defined.
    assert_some_close(
        cohort_trend(&before, &after, "size_band", "200-1,999", "m"),
        -1.0,
    );
    assert_eq!(
        cohort_trend(&after, &before, "size_band", "200-1,999", "m"),
        None
    );
}

#[test]
fn large_frames_match_a_brute_force_count() {
    // Above the size where columns are grouped on several threads.
    let n = 12_000;
    let metrics = vec![
        meta("x", Category::ProductUsage, Direction::HigherIsBetter),
        meta("y", Category::Support, Direction::LowerIsBetter),
        meta("z", Category::Support, Direction::LowerIsBetter),
    ];
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let segments = ["enterprise", "mid_market", "smb"];
    let mut accounts = Vec::new();
    let mut values = Vec::new();
    for i in 0..n {
        let mut row = AccountRow::new(format!("a{i}"));
        if i % 17 != 0 {
            row = row.text("segment", segments[i % 3]);
        }
        accounts.push(row.number("employee_count", (next() * 5000.0).floor()));
        values.push((next() * 20.0).floor());
        values.push(if i % 5 == 0 { f64::NAN } else { next() });
        values.push(-(next() * 3.0).floor());
    }
    let f = SnapshotFrame::new(date(2026, 1, 1), metrics, accounts, values).expect("frame");
    let a = assign_cohorts(&f, &cohorts());
    let b = Benchmarks::compute(&f, &a);
    for (dimension, label, column, value) in [
        (0, 1, 0, 7.0),
        (0, 2, 0, 19.0),
        (1, 0, 0, 0.0),
        (1, 2, 1, 0.5),
        (0, 0, 2, -1.0),
    ] {
        let members: Vec<f64> = (0..n)
            .filter(|i| a.label_index(*i, dimension) == Some(label))
            .filter_map(|i| f.value(i, column))
            .collect();
        let below = members.iter().filter(|v| **v < value).count();
        let equal = members.iter().filter(|v| **v == value).count();
        let expected = mid_rank_percentile(below, equal, members.len());
        assert_some_close(b.percentile(dimension, label, column, value), expected);
        let mut sorted = members.clone();
        sorted.sort_by(f64::total_cmp);
        let summary = b.summary(dimension, label, column).expect("summary");
        assert_eq!(summary.n, sorted.len());
        let h = (sorted.len() - 1) as f64 * 0.5;
        let lo = h.floor() as usize;
        let median =
            sorted[lo] + (h - lo as f64) * (sorted[(lo + 1).min(sorted.len() - 1)] - sorted[lo]);
        assert_close(summary.p50, median);
    }
}
