//! Why a score changed (decomposition by metric, component and category), including a
//! switch of scorecard and re-weighting for missing data, against hand-computed numbers.

mod common;

use coco_core::Category;
use coco_insights::{
    AccountHealth, AccountRow, Benchmarks, Direction, ExplainError, HealthConfig, MetricMeta,
    SnapshotFrame, assign_cohorts, explain_change, score_all,
};
use common::{assert_close, frame, meta};

const CONFIG: &str = r#"
version = "test"
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
    score = { linear = { zero_at = -0.5, full_at = 0.0 } }

[[scorecard]]
name = "default"
cutoffs = { green = 70, yellow = 45 }
  [[scorecard.component]]
  name = "usage"
  category = "product_usage"
  weight = 60
    [[scorecard.component.metric]]
    metric = "events_30d_change_90d"
    score = { linear = { zero_at = -0.5, full_at = 0.0 } }
    [[scorecard.component.metric]]
    metric = "days_since_last_event"
    score = { bands = [ { below = 3, score = 100 }, { below = 22, score = 30 }, { score = 0 } ] }
  [[scorecard.component]]
  name = "support"
  category = "support"
  weight = 40
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
        meta("open_tickets", Category::Support, Direction::LowerIsBetter),
    ]
}

fn health(segment: &str, values: &[f64]) -> AccountHealth {
    let f: SnapshotFrame = frame(
        metrics(),
        vec![AccountRow::new("acc").text("segment", segment)],
        &[values],
    );
    let config = HealthConfig::from_toml(CONFIG).expect("parses");
    let assignment = assign_cohorts(&f, &config.cohorts);
    let benchmarks = Benchmarks::compute(&f, &assignment);
    score_all(&f, &config, &assignment, &benchmarks)
        .expect("scores")
        .remove(0)
}

#[test]
fn change_decomposes_by_metric_with_re_weighting() {
    // Before: everything perfect, 100. Points 0.3 × 100, 0.3 × 100, 0.4 × 100.
    let before = health("mid_market", &[0.0, 1.0, 0.0]);
    // After: events −0.25 → 50, 10 days → 30, open tickets missing → support left out and
    // usage takes the whole score: 0.5 × 50 + 0.5 × 30 = 40.
    let after = health("mid_market", &[-0.25, 10.0, f64::NAN]);
    assert_eq!((before.score, after.score), (Some(100.0), Some(40.0)));
    let change = explain_change(&before, &after, &metrics()).expect("explains");
    assert_close(change.delta, -60.0);
    let drivers: Vec<(&str, f64, f64, f64)> = change
        .drivers
        .iter()
        .map(|d| {
            (
                d.metric.as_str(),
                d.points_before,
                d.points_after,
                d.contribution,
            )
        })
        .collect();
    let expected = [
        ("open_tickets", 40.0, 0.0, -40.0),
        ("days_since_last_event", 30.0, 15.0, -15.0),
        ("events_30d_change_90d", 30.0, 25.0, -5.0),
    ];
    assert_eq!(drivers.len(), 3);
    for (actual, expected) in drivers.iter().zip(expected) {
        assert_eq!(actual.0, expected.0);
        assert_close(actual.1, expected.1);
        assert_close(actual.2, expected.2);
        assert_close(actual.3, expected.3);
    }
    let open = &change.drivers[0];
    assert_eq!((open.value_before, open.value_after), (Some(0.0), None));
    assert_eq!(open.direction, Direction::LowerIsBetter);
    assert_eq!(open.category, Category::Support);

    let components: Vec<(String, f64)> = change
        .by_component()
        .into_iter()
        .map(|c| (c.component, c.contribution))
        .collect();
    assert_eq!(components[0].0, "support");
    assert_close(components[0].1, -40.0);
    assert_eq!(components[1].0, "usage");
    assert_close(components[1].1, -20.0);
    let categories = change.by_category();
    assert_eq!(categories[0].category, Category::Support);
    assert_close(categories[1].contribution, -20.0);
    let sum: f64 = change.drivers.iter().map(|d| d.contribution).sum();
    assert_close(sum, change.delta);
}

#[test]
fn a_switch_of_scorecard_is_explained_too() {
    // Before, under `enterprise`: events −0.25 → 50, the whole score.
    let before = health("enterprise", &[-0.25, 10.0, f64::NAN]);
    // After, under `default`: 0.5 × 50 + 0.5 × 30 = 40 (support missing).
    let after = health("mid_market", &[-0.25, 10.0, f64::NAN]);
    let change = explain_change(&before, &after, &metrics()).expect("explains");
    assert_eq!(
        (
            change.scorecard_before.as_str(),
            change.scorecard_after.as_str()
        ),
        ("enterprise", "default")
    );
    assert_close(change.delta, -10.0);
    let drivers: Vec<(&str, f64)> = change
        .drivers
        .iter()
        .map(|d| (d.metric.as_str(), d.contribution))
        .collect();
    assert_eq!(drivers[0].0, "events_30d_change_90d");
    assert_close(drivers[0].1, -25.0);
    // Present only after: 0 points before.
    assert_eq!(drivers[1].0, "days_since_last_event");
    assert_close(drivers[1].1, 15.0);
    assert_eq!(change.drivers[1].points_before, 0.0);
    assert_eq!(change.drivers[1].value_before, None);
    assert_eq!(drivers[2], ("open_tickets", 0.0));
}

#[test]
fn ties_are_ranked_by_component_then_metric() {
    let before = health("mid_market", &[0.0, 1.0, 0.0]);
    let change = explain_change(&before, &before, &metrics()).expect("explains");
    let order: Vec<(&str, &str)> = change
        .drivers
        .iter()
        .map(|d| (d.component.as_str(), d.metric.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("support", "open_tickets"),
            ("usage", "days_since_last_event"),
            ("usage", "events_30d_change_90d"),
        ]
    );
    assert_eq!(change.delta, 0.0);
}

#[test]
fn unknown_scores_cannot_be_explained() {
    let known = health("mid_market", &[0.0, 1.0, 0.0]);
    let unknown = health("mid_market", &[f64::NAN, f64::NAN, f64::NAN]);
    assert_eq!(unknown.score, None);
    let err = explain_change(&unknown, &known, &metrics()).unwrap_err();
    assert_eq!(
        err,
        ExplainError::UnknownScore {
            account_id: "acc".into(),
            side: "earlier"
        }
    );
    assert!(
        err.to_string().contains("earlier score is unknown"),
        "{err}"
    );
    let err = explain_change(&known, &unknown, &metrics()).unwrap_err();
    assert!(err.to_string().contains("later"), "{err}");
    let mut other = known.clone();
    other.account_id = "other".into();
    assert!(matches!(
        explain_change(&known, &other, &metrics()),
        Err(ExplainError::DifferentAccounts { .. })
    ));
}

#[test]
fn score_change_serialises() {
    let before = health("mid_market", &[0.0, 1.0, 0.0]);
    let after = health("mid_market", &[-0.25, 10.0, f64::NAN]);
    let change = explain_change(&before, &after, &metrics()).expect("explains");
    let json = serde_json::to_value(&change).expect("serialises");
    assert_eq!(json["drivers"][0]["metric"], "open_tickets");
    assert_eq!(json["drivers"][0]["category"], "support");
    assert_eq!(json["drivers"][0]["direction"], "lower_is_better");
}
