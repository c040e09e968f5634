//! Health scoring against hand-computed numbers: every scoring function and its edges,
//! scorecard selection, colour cutoffs, re-weighting over missing inputs (numbers and
//! notes), unknown scores, and the exact decomposition of a score into points.

mod common;

use coco_core::Category;
use coco_insights::{
    AccountHealth, AccountRow, Benchmarks, Colour, Direction, HealthConfig, HealthError,
    MetricMeta, SnapshotFrame, assign_cohorts, score_all, shortfalls,
};
use common::{assert_close, assert_some_close, frame, meta};

const CONFIG: &str = r#"
version = "test"
min_weight_coverage = 0.6

[[cohort]]
name = "coverage"
attribute = "coverage_model"

[[scorecard]]
name = "enterprise"
when = { segment = ["enterprise"] }
cutoffs = { green = 70, yellow = 45 }
  [[scorecard.component]]
  name = "usage"
  category = "product_usage"
  weight = 1
    [[scorecard.component.metric]]
    metric = "events_30d_change_90d"
    score = { linear = { zero_at = -0.5, full_at = 0.05 } }

[[scorecard]]
name = "default"
cutoffs = { green = 70, yellow = 45 }
  [[scorecard.component]]
  name = "usage"
  category = "product_usage"
  weight = 50
    [[scorecard.component.metric]]
    metric = "events_30d_change_90d"
    weight = 3
    score = { linear = { zero_at = -0.5, full_at = 0.0 } }
    [[scorecard.component.metric]]
    metric = "days_since_last_event"
    score = { bands = [ { below = 3, score = 100 }, { below = 8, score = 70 }, { below = 22, score = 30 }, { score = 0 } ] }
  [[scorecard.component]]
  name = "relationship"
  category = "relationship"
  weight = 30
    [[scorecard.component.metric]]
    metric = "days_since_last_touchpoint"
    score = { cohort_percentile = { cohort = "coverage" } }
  [[scorecard.component]]
  name = "support"
  category = "support"
  weight = 20
    [[scorecard.component.metric]]
    metric = "open_tickets"
    score = { linear = { zero_at = 5, full_at = 0 } }
"#;

fn metrics() -> Vec<MetricMeta> {
    vec![
        meta(
            "events_30d_change_90d",
            Category::ProductUsage,
            Direction::HigherIsBetter,
        ),
        meta(
            "days_since_last_event",
            Category::ProductUsage,
            Direction::LowerIsBetter,
        ),
        meta(
            "days_since_last_touchpoint",
            Category::Relationship,
            Direction::LowerIsBetter,
        ),
        meta("open_tickets", Category::Support, Direction::LowerIsBetter),
    ]
}

const NAN: f64 = f64::NAN;

/// Accounts A–G; values: events change, days since event, days since touchpoint, open tickets.
fn accounts() -> SnapshotFrame {
    let accounts = vec![
        AccountRow::new("A")
            .text("segment", "mid_market")
            .text("coverage_model", "high"),
        AccountRow::new("B")
            .text("segment", "mid_market")
            .text("coverage_model", "high"),
        AccountRow::new("C")
            .text("segment", "mid_market")
            .text("coverage_model", "high"),
        AccountRow::new("D")
            .text("segment", "smb")
            .text("coverage_model", "tech"),
        AccountRow::new("E").text("segment", "enterprise"),
        AccountRow::new("F").text("segment", "smb"),
        AccountRow::new("G").text("coverage_model", "tech"),
    ];
    frame(
        metrics(),
        accounts,
        &[
            &[-0.25, 3.0, 5.0, 1.0],
            &[0.2, 2.999, 10.0, 6.0],
            &[-0.6, 8.0, 5.0, NAN],
            &[NAN, 22.0, 40.0, 0.0],
            &[0.05, NAN, NAN, NAN],
            &[NAN, NAN, 3.0, NAN],
            &[NAN, NAN, 20.0, 2.0],
        ],
    )
}

fn score(frame: &SnapshotFrame, text: &str) -> Vec<AccountHealth> {
    let config = HealthConfig::from_toml(text).expect("parses");
    let assignment = assign_cohorts(frame, &config.cohorts);
    let benchmarks = Benchmarks::compute(frame, &assignment);
    score_all(frame, &config, &assignment, &benchmarks).expect("scores")
}

fn metric<'h>(h: &'h AccountHealth, name: &str) -> &'h coco_insights::MetricScore {
    h.components
        .iter()
        .flat_map(|c| &c.metrics)
        .find(|m| m.metric == name)
        .expect("metric present")
}

#[track_caller]
fn assert_decomposes(h: &AccountHealth) {
    let Some(score) = h.score else { return };
    let total: f64 = h.components.iter().map(|c| c.points).sum();
    assert_close(total, score);
    for c in &h.components {
        let points: f64 = c.metrics.iter().map(|m| m.points).sum();
        assert_close(points, c.points);
        if let Some(component_score) = c.score {
            assert_close(c.points, c.effective_weight * component_score);
        }
    }
    let weights: f64 = h.components.iter().map(|c| c.effective_weight).sum();
    assert_close(weights, 1.0);
}

#[test]
fn fully_covered_account_by_hand() {
    let h = &score(&accounts(), CONFIG)[0];
    assert_eq!(h.account_id, "A");
    assert_eq!(h.scorecard, "default");
    // events −0.25 on 0 at −0.5 … 100 at 0 → 50; days since event 3 is not below 3 → 70.
    assert_some_close(metric(h, "events_30d_change_90d").score, 50.0);
    assert_some_close(metric(h, "days_since_last_event").score, 70.0);
    // Coverage cohort `high` holds 5, 5, 10: percentile of 5 = (0 + 0.5 × 2) ÷ 3 = 33.3,
    // lower is better → 66.7.
    let silence = metric(h, "days_since_last_touchpoint");
    assert_some_close(silence.percentile, 100.0 / 3.0);
    assert_some_close(silence.score, 200.0 / 3.0);
    assert_eq!(silence.cohort.as_deref(), Some("coverage=high"));
    // 1 open ticket on 0 at 5 … 100 at 0 → 80.
    assert_some_close(metric(h, "open_tickets").score, 80.0);
    // usage 0.75 × 50 + 0.25 × 70 = 55; 0.5 × 55 + 0.3 × 66.67 + 0.2 × 80 = 63.5.
    assert_some_close(h.components[0].score, 55.0);
    assert_some_close(h.score, 63.5);
    assert_eq!(h.colour, Colour::Yellow);
    assert_close(h.weight_coverage, 1.0);
    assert!(h.notes.is_empty(), "{:?}", h.notes);
    // Points: 0.375 × 50, 0.125 × 70, 0.3 × 66.67, 0.2 × 80.
    let points: Vec<f64> = h
        .components
        .iter()
        .flat_map(|c| &c.metrics)
        .map(|m| m.points)
        .collect();
    for (actual, expected) in points.iter().zip([18.75, 8.75, 20.0, 16.0]) {
        assert_close(*actual, expected);
    }
    let weights: Vec<f64> = h.components.iter().map(|c| c.weight).collect();
    assert_eq!(weights, [0.5, 0.3, 0.2]);
    assert_close(metric(h, "events_30d_change_90d").weight, 0.75);
    assert_close(metric(h, "events_30d_change_90d").effective_weight, 0.375);
    assert_decomposes(h);
}

#[test]
fn scoring_functions_clamp_and_band_edges() {
    let all = score(&accounts(), CONFIG);
    let b = &all[1];
    // events +0.2 is past full_at → 100; 2.999 days is below 3 → 100; 6 open tickets is
    // past zero_at → 0; touchpoint silence 10 is the cohort's worst: (2 + 0.5) ÷ 3.
    assert_some_close(metric(b, "events_30d_change_90d").score, 100.0);
    assert_some_close(metric(b, "days_since_last_event").score, 100.0);
    assert_some_close(metric(b, "open_tickets").score, 0.0);
    assert_some_close(
        metric(b, "days_since_last_touchpoint").percentile,
        250.0 / 3.0,
    );
    assert_some_close(b.score, 50.0 + 0.3 * (50.0 / 3.0));
    let c = &all[2];
    // −0.6 is below zero_at → 0; 8 days is not below 8 → the `below = 22` band, 30.
    assert_some_close(metric(c, "events_30d_change_90d").score, 0.0);
    assert_some_close(metric(c, "days_since_last_event").score, 30.0);
    let d = &all[3];
    // 22 days is not below 22 → the catch-all 0.
    assert_some_close(metric(d, "days_since_last_event").score, 0.0);
}

#[test]
fn scorecard_is_chosen_by_when_in_order() {
    let all = score(&accounts(), CONFIG);
    let cards: Vec<&str> = all.iter().map(|h| h.scorecard.as_str()).collect();
    assert_eq!(
        cards,
        [
            "default",
            "default",
            "default",
            "default",
            "enterprise",
            "default",
            "default"
        ]
    );
    let e = &all[4];
    // Under the enterprise scorecard: 0.05 reaches full_at → 100, one component.
    assert_some_close(e.score, 100.0);
    assert_eq!(e.colour, Colour::Green);
    assert_eq!(e.components.len(), 1);
    assert!(e.notes.is_empty());
}

#[test]
fn when_needs_every_attribute_to_match() {
    let config = HealthConfig::from_toml(
        r#"
version = "t"
[[scorecard]]
name = "emea_large"
when = { segment = ["enterprise", "mid_market"], region = ["emea"] }
cutoffs = { green = 70, yellow = 45 }
  [[scorecard.component]]
  name = "c"
  category = "adoption"
  weight = 1
    [[scorecard.component.metric]]
    metric = "m"
    score = { linear = { zero_at = 0, full_at = 1 } }
[[scorecard]]
name = "rest"
cutoffs = { green = 70, yellow = 45 }
  [[scorecard.component]]
  name = "c"
  category = "adoption"
  weight = 1
    [[scorecard.component.metric]]
    metric = "m"
    score = { linear = { zero_at = 0, full_at = 1 } }
"#,
    )
    .expect("parses");
    let cases = [
        (
            AccountRow::new("1")
                .text("segment", "mid_market")
                .text("region", "emea"),
            Some(0),
        ),
        (
            AccountRow::new("2")
                .text("segment", "enterprise")
                .text("region", "na"),
            Some(1),
        ),
        (
            AccountRow::new("3")
                .text("segment", "smb")
                .text("region", "emea"),
            Some(1),
        ),
        (AccountRow::new("4").text("region", "emea"), Some(1)),
        (
            AccountRow::new("5")
                .text("segment", "enterprise")
                .number("region", 1.0),
            Some(1),
        ),
    ];
    for (row, expected) in cases {
        assert_eq!(
            config.scorecard_for(&row.attributes),
            expected,
            "{}",
            row.account_id
        );
    }
}

#[test]
fn missing_component_is_left_out_and_the_rest_re_weighted() {
    let c = &score(&accounts(), CONFIG)[2];
    // Support has no data: usage (0.5) and relationship (0.3) share the score as 0.625 /
    // 0.375. Usage 0.75 × 0 + 0.25 × 30 = 7.5; 0.625 × 7.5 + 0.375 × 66.67 = 29.6875.
    assert_close(c.weight_coverage, 0.8);
    assert_some_close(c.score, 29.6875);
    assert_eq!(c.colour, Colour::Red);
    assert_close(c.components[0].effective_weight, 0.625);
    assert_close(c.components[1].effective_weight, 0.375);
    let support = &c.components[2];
    assert_eq!(support.score, None);
    assert_eq!((support.effective_weight, support.points), (0.0, 0.0));
    assert_eq!(support.metrics[0].value, None);
    assert_eq!(
        c.notes,
        ["no data for support (open_tickets); score re-weighted over 80% of the configured weight"]
    );
    assert_decomposes(c);
}

#[test]
fn missing_metric_is_left_out_of_its_component() {
    let d = &score(&accounts(), CONFIG)[3];
    // Events missing: usage is days-since-event alone (0). Tech cohort silence 40, 20: 40
    // is at (1 + 0.5) ÷ 2 = 75 → 25. Score 0.5 × 0 + 0.3 × 25 + 0.2 × 100 = 27.5.
    assert_close(d.weight_coverage, 0.5 * 0.25 + 0.3 + 0.2);
    assert_some_close(d.components[0].score, 0.0);
    assert_close(metric(d, "days_since_last_event").effective_weight, 0.5);
    assert_close(metric(d, "events_30d_change_90d").effective_weight, 0.0);
    assert_some_close(metric(d, "days_since_last_touchpoint").score, 25.0);
    assert_some_close(d.score, 27.5);
    assert_eq!(
        d.notes,
        [
            "no data for events_30d_change_90d in usage; usage re-weighted over its other metrics (25% of its weight)"
        ]
    );
    assert_decomposes(d);
}

#[test]
fn too_little_coverage_is_unknown_not_a_guess() {
    let all = score(&accounts(), CONFIG);
    let g = &all[6];
    // Only relationship (0.3) and support (0.2) have data: 50% < 60%.
    assert_close(g.weight_coverage, 0.5);
    assert_eq!(g.score, None);
    assert_eq!(g.colour, Colour::Unknown);
    assert_eq!(
        g.notes,
        [
            "no data for usage (events_30d_change_90d, days_since_last_event)",
            "only 50% of the configured weight has data, below the minimum of 60%: score unknown",
        ]
    );
    // The component scores stay visible, but nothing contributes points.
    assert_some_close(g.components[2].score, 60.0);
    assert!(
        g.components
            .iter()
            .all(|c| c.points == 0.0 && c.effective_weight == 0.0)
    );
    assert!(shortfalls(g).is_empty());
}

#[test]
fn percentile_without_a_cohort_counts_as_missing() {
    let f = &score(&accounts(), CONFIG)[5];
    let silence = metric(f, "days_since_last_touchpoint");
    assert_eq!(silence.value, Some(3.0));
    assert_eq!(
        (silence.score, silence.percentile, silence.cohort.as_deref()),
        (None, None, None)
    );
    assert_eq!(f.weight_coverage, 0.0);
    assert_eq!(f.colour, Colour::Unknown);
    assert!(
        f.notes.contains(
            &"no data for relationship (days_since_last_touchpoint: scored within its `coverage` cohort, but the account has no usable `coverage_model`)".to_owned()
        ),
        "{:?}",
        f.notes
    );
}

#[test]
fn colour_cutoffs_at_the_boundaries() {
    let text = r#"
version = "t"
[[scorecard]]
name = "only"
cutoffs = { green = 70, yellow = 45 }
  [[scorecard.component]]
  name = "c"
  category = "adoption"
  weight = 3
    [[scorecard.component.metric]]
    metric = "adoption_breadth_90d"
    score = { linear = { zero_at = 0, full_at = 100 } }
"#;
    let values = [70.0, 69.99, 45.0, 44.99, 100.0, 0.0];
    let rows: Vec<[f64; 1]> = values.iter().map(|v| [*v]).collect();
    let rows: Vec<&[f64]> = rows.iter().map(|r| &r[..]).collect();
    let f = frame(
        vec![meta(
            "adoption_breadth_90d",
            Category::Adoption,
            Direction::HigherIsBetter,
        )],
        (0..values.len())
            .map(|i| AccountRow::new(format!("a{i}")))
            .collect(),
        &rows,
    );
    let colours: Vec<Colour> = score(&f, text).iter().map(|h| h.colour).collect();
    use Colour::*;
    assert_eq!(colours, [Green, Yellow, Yellow, Red, Green, Red]);
    let scores: Vec<Option<f64>> = score(&f, text).iter().map(|h| h.score).collect();
    assert_eq!(scores[0], Some(70.0));
    assert_eq!(Colour::Red.as_str(), "red");
    assert_eq!(
        serde_json::to_value(Colour::Unknown).ok(),
        Some("unknown".into())
    );
}

#[test]
fn shortfalls_rank_points_lost() {
    let a = &score(&accounts(), CONFIG)[0];
    let shortfalls = shortfalls(a);
    let lost: Vec<(&str, f64)> = shortfalls
        .iter()
        .map(|s| (s.metric.as_str(), s.points_lost))
        .collect();
    // events 0.375 × 50 = 18.75; silence 0.3 × 33.3 = 10; dsle 0.125 × 30 = 3.75;
    // open tickets 0.2 × 20 = 4.
    let expected = [
        ("events_30d_change_90d", 18.75),
        ("days_since_last_touchpoint", 10.0),
        ("open_tickets", 4.0),
        ("days_since_last_event", 3.75),
    ];
    assert_eq!(lost.len(), expected.len());
    for ((name, points), (expected_name, expected_points)) in lost.iter().zip(expected) {
        assert_eq!(*name, expected_name);
        assert_close(*points, expected_points);
    }
    let total: f64 = lost.iter().map(|(_, p)| p).sum();
    assert_close(total, 100.0 - 63.5);
}

#[test]
fn output_serialises_for_the_store() {
    let a = &score(&accounts(), CONFIG)[0];
    let json = serde_json::to_value(a).expect("serialises");
    assert_eq!(json["colour"], "yellow");
    assert_eq!(json["components"][1]["category"], "relationship");
    assert_eq!(
        json["components"][1]["metrics"][0]["cohort"],
        "coverage=high"
    );
}

#[test]
fn mismatched_inputs_are_errors() {
    let f = accounts();
    let config = HealthConfig::from_toml(CONFIG).expect("parses");
    let assignment = assign_cohorts(&f, &config.cohorts);
    let benchmarks = Benchmarks::compute(&f, &assignment);

    let fewer = frame(
        metrics(),
        vec![AccountRow::new("A")],
        &[&[0.0, 0.0, 0.0, 0.0]],
    );
    let err = score_all(&fewer, &config, &assignment, &benchmarks).unwrap_err();
    assert!(matches!(
        err,
        HealthError::AssignmentMismatch {
            assigned: 7,
            accounts: 1
        }
    ));

    let no_cohorts = assign_cohorts(&f, &[]);
    let err = score_all(
        &f,
        &config,
        &no_cohorts,
        &Benchmarks::compute(&f, &no_cohorts),
    )
    .unwrap_err();
    assert!(
        matches!(err, HealthError::CohortNotAssigned(ref c) if c == "coverage"),
        "{err}"
    );

    let other = Benchmarks::compute_for_column(&[1.0; 7], &assignment);
    let err = score_all(&f, &config, &assignment, &other).unwrap_err();
    assert!(matches!(err, HealthError::BenchmarksMismatch));

    let mut invalid = config.clone();
    invalid.scorecards[1].components[0].metrics[0].metric = "nope".into();
    let err = score_all(&f, &invalid, &assignment, &benchmarks).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn the_shipped_configuration_scores_a_plausible_account() {
    let config =
        HealthConfig::from_toml(include_str!("../../../config/health.toml")).expect("parses");
    let metrics = common::shipped_metrics();
    let mut healthy = vec![NAN; metrics.len()];
    let set = |row: &mut Vec<f64>, name: &str, value: f64| {
        let i = metrics.iter().position(|m| m.name == name).expect("metric");
        row[i] = value;
    };
    for (name, value) in [
        ("events_30d_change_90d", 0.02),
        ("active_users_30d_change_90d", 0.0),
        ("seat_utilisation_30d", 0.8),
        ("days_since_last_event", 1.0),
        ("adoption_breadth_90d", 0.7),
        ("milestones_overdue", 0.0),
        ("champion_present", 1.0),
        ("champion_departed_90d", 0.0),
        ("days_since_last_touchpoint", 10.0),
        ("contacts_engaged_90d", 4.0),
        ("escalations_180d", 0.0),
        ("open_high_priority_tickets", 0.0),
        ("nps_latest", 9.0),
        ("competitor_mentions_90d", 0.0),
        ("downgrade_requests_90d", 0.0),
        ("failed_payments_90d", 0.0),
        ("late_payments_90d", 0.0),
    ] {
        set(&mut healthy, name, value);
    }
    let mut declining = healthy.clone();
    for (name, value) in [
        ("events_30d_change_90d", -0.45),
        ("active_users_30d_change_90d", -0.3),
        ("adoption_breadth_90d", 0.25),
        ("champion_present", 0.0),
        ("champion_departed_90d", 1.0),
        ("days_since_last_touchpoint", 90.0),
        ("escalations_180d", 3.0),
        ("nps_latest", 4.0),
    ] {
        set(&mut declining, name, value);
    }
    let f = frame(
        metrics.clone(),
        vec![
            AccountRow::new("healthy")
                .text("segment", "mid_market")
                .text("coverage_model", "mid_touch"),
            AccountRow::new("declining")
                .text("segment", "mid_market")
                .text("coverage_model", "mid_touch"),
        ],
        &[&healthy, &declining],
    );
    let assignment = assign_cohorts(&f, &config.cohorts);
    let benchmarks = Benchmarks::compute(&f, &assignment);
    let all = score_all(&f, &config, &assignment, &benchmarks).expect("scores");
    assert_eq!(all[0].scorecard, "default");
    assert_eq!(all[0].colour, Colour::Green, "{:?}", all[0].score);
    assert_eq!(all[1].colour, Colour::Red, "{:?}", all[1].score);
    for h in &all {
        assert_decomposes(h);
        assert!(h.weight_coverage > 0.8, "{}", h.weight_coverage);
    }
}
