//! The health configuration: the shipped file parses and validates against the shipped
//! metric catalogue, every validation error names its offender, TOML errors carry lines.

mod common;

use coco_core::Category;
use coco_insights::{
    CohortBand, ConfigError, ConfigProblem, DeclineRule, Direction, HealthConfig, ScoreBand,
    ScoreFn,
};
use common::{meta, shipped_metrics};

const SHIPPED: &str = include_str!("../../../config/health.toml");

const SMALL: &str = r#"
version = "test.1"

[[cohort]]
name = "coverage"
attribute = "coverage_model"

[[cohort]]
name = "size_band"
attribute = "employee_count"
bands = [ { below = 200, label = "small" }, { below = 2000, label = "medium" }, { label = "large" } ]

[[scorecard]]
name = "enterprise"
when = { segment = ["enterprise"] }
cutoffs = { green = 70, yellow = 45 }

  [[scorecard.component]]
  name = "usage"
  category = "product_usage"
  weight = 30

    [[scorecard.component.metric]]
    metric = "events_30d_change_90d"
    weight = 2
    score = { linear = { zero_at = -0.5, full_at = 0.05 } }

    [[scorecard.component.metric]]
    metric = "days_since_last_event"
    score = { bands = [ { below = 3, score = 100 }, { below = 8, score = 70 }, { score = 0 } ] }

  [[scorecard.component]]
  name = "relationship"
  category = "relationship"
  weight = 20

    [[scorecard.component.metric]]
    metric = "days_since_last_touchpoint"
    score = { cohort_percentile = { cohort = "coverage" } }

[[scorecard]]
name = "default"
cutoffs = { green = 70, yellow = 45 }

  [[scorecard.component]]
  name = "usage"
  category = "product_usage"
  weight = 1

    [[scorecard.component.metric]]
    metric = "events_30d_change_90d"
    score = { linear = { zero_at = -0.5, full_at = 0.05 } }
"#;

fn small() -> HealthConfig {
    HealthConfig::from_toml(SMALL).expect("the small test configuration parses")
}

/// Validates and returns the error, asserting its message names every `names`.
#[track_caller]
fn invalid(config: &HealthConfig, names: &[&str]) -> ConfigProblem {
    let err = config
        .validate(&shipped_metrics())
        .expect_err("the configuration should be invalid");
    let message = err.to_string();
    for name in names {
        assert!(message.contains(name), "`{message}` does not name {name}");
    }
    err.problem().cloned().expect("a validation problem")
}

#[test]
fn shipped_configuration_parses_and_validates_against_the_shipped_catalogue() {
    let config = HealthConfig::from_toml(SHIPPED).expect("config/health.toml parses");
    config
        .validate(&shipped_metrics())
        .expect("config/health.toml validates");
    assert_eq!(config.version, "2026.11.1");
    assert_eq!(config.min_weight_coverage, 0.6);
    let names: Vec<&str> = config.scorecards.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["enterprise", "smb", "default"]);
    let cohorts: Vec<&str> = config.cohorts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        cohorts,
        [
            "segment",
            "industry",
            "plan_tier",
            "size_band",
            "tenure_band",
            "coverage"
        ]
    );
    assert_eq!(config.decline_rule, DeclineRule::default());
    for scorecard in &config.scorecards {
        // Cut-offs are calibrated per scorecard (see the file); they must leave room
        // for all three colours.
        let (green, yellow) = (scorecard.cutoffs.green, scorecard.cutoffs.yellow);
        assert!(
            0.0 < yellow && yellow < green && green < 100.0,
            "scorecard {}: cutoffs {green}/{yellow}",
            scorecard.name
        );
        let total: f64 = scorecard.components.iter().map(|c| c.weight).sum();
        assert_eq!(total, 100.0, "scorecard {} weights", scorecard.name);
        // Usage is the noisiest (seasonal) signal: it must never dominate a score.
        let usage = scorecard
            .components
            .iter()
            .find(|c| c.category == Category::ProductUsage)
            .map_or(0.0, |c| c.weight);
        assert!(
            usage <= 30.0,
            "scorecard {}: usage weight {usage}",
            scorecard.name
        );
    }
}

#[test]
fn enterprise_scorecard_weighs_relationship_most_and_uses_sponsor_and_reviews() {
    let config = HealthConfig::from_toml(SHIPPED).expect("parses");
    let enterprise = &config.scorecards[0];
    assert_eq!(enterprise.when["segment"], ["enterprise"]);
    let relationship = enterprise
        .components
        .iter()
        .find(|c| c.name == "relationship")
        .expect("relationship component");
    let heaviest = enterprise
        .components
        .iter()
        .map(|c| c.weight)
        .fold(0.0, f64::max);
    assert_eq!(relationship.weight, heaviest);
    let metrics: Vec<&str> = relationship
        .metrics
        .iter()
        .map(|m| m.metric.as_str())
        .collect();
    assert!(metrics.contains(&"exec_sponsor_engaged_90d"));
    assert!(metrics.contains(&"qbr_last_quarter"));
    let silence = relationship
        .metrics
        .iter()
        .find(|m| m.metric == "days_since_last_touchpoint")
        .expect("silence is scored");
    assert_eq!(
        silence.score,
        ScoreFn::CohortPercentile {
            cohort: "coverage".into()
        }
    );
}

#[test]
fn small_configuration_validates_and_defaults_apply() {
    let config = small();
    config.validate(&shipped_metrics()).expect("valid");
    assert_eq!(config.min_weight_coverage, 0.6);
    assert_eq!(config.decline_rule, DeclineRule::default());
    assert_eq!(config.scorecards[0].components[0].metrics[1].weight, 1.0);
}

#[test]
fn toml_errors_carry_the_line() {
    let err = HealthConfig::from_toml("version = \"x\"\n[[scorecard]]\nname = \n").unwrap_err();
    assert!(matches!(err, ConfigError::Toml(_)));
    assert!(err.to_string().contains("line 3"), "{err}");
}

#[test]
fn unknown_keys_are_rejected_everywhere() {
    for (from, to) in [
        (
            "version = \"test.1\"",
            "version = \"test.1\"\nmin_weight_coverag = 0.5",
        ),
        (
            "attribute = \"coverage_model\"",
            "attribute = \"coverage_model\"\nbandz = []",
        ),
        ("name = \"default\"", "name = \"default\"\nwhn = {}"),
        ("weight = 30", "weight = 30\nwieght = 3"),
        ("weight = 2", "weight = 2\nscale = 3"),
        (
            "zero_at = -0.5, full_at",
            "zero_at = -0.5, ful_at = 1, full_at",
        ),
        (
            "cutoffs = { green = 70, yellow = 45 }\n\n  [[scorecard.component]]\n  name = \"usage\"\n  category = \"product_usage\"\n  weight = 1",
            "cutoffs = { green = 70, yellow = 45, red = 0 }\n\n  [[scorecard.component]]\n  name = \"usage\"\n  category = \"product_usage\"\n  weight = 1",
        ),
    ] {
        let text = SMALL.replacen(from, to, 1);
        assert_ne!(text, SMALL, "replacement of {from:?} did not apply");
        let err = HealthConfig::from_toml(&text).expect_err(to);
        let message = err.to_string();
        assert!(
            message.contains("unknown") || message.contains("unexpected keys"),
            "{to}: expected an unknown-field error, got {err}"
        );
        assert!(message.contains("line "), "{message}");
    }
    let text = "version = \"x\"\n[decline_rule]\nmin_declin = 0.2\n";
    let err = HealthConfig::from_toml(text).unwrap_err();
    assert!(err.to_string().contains("min_declin"), "{err}");
}

#[test]
fn unknown_category_is_a_toml_error() {
    let text = SMALL.replacen(
        "category = \"relationship\"",
        "category = \"friendship\"",
        1,
    );
    let err = HealthConfig::from_toml(&text).unwrap_err();
    assert!(err.to_string().contains("friendship"), "{err}");
}

#[test]
fn fingerprint_is_stable_and_tracks_content_not_formatting() {
    let a = small();
    let reformatted = HealthConfig::from_toml(&SMALL.replace("    ", "  ").replace(
        "version = \"test.1\"",
        "# a comment\nversion = \"test.1\"\nmin_weight_coverage = 0.6",
    ))
    .expect("parses");
    assert_eq!(a.fingerprint(), reformatted.fingerprint());
    assert_eq!(a.fingerprint().len(), 16);
    assert!(a.fingerprint().chars().all(|c| c.is_ascii_hexdigit()));
    let mut changed = a.clone();
    changed.scorecards[0].cutoffs.green = 71.0;
    assert_ne!(a.fingerprint(), changed.fingerprint());
    assert_eq!(a.fingerprint(), small().fingerprint());
}

#[test]
fn error_unknown_metric() {
    let mut c = small();
    c.scorecards[0].components[0].metrics[0].metric = "events_31d".into();
    let problem = invalid(&c, &["enterprise", "usage", "events_31d"]);
    assert!(matches!(problem, ConfigProblem::UnknownMetric { .. }));
}

#[test]
fn error_unknown_cohort() {
    let mut c = small();
    c.scorecards[0].components[1].metrics[0].score = ScoreFn::CohortPercentile {
        cohort: "region".into(),
    };
    let problem = invalid(
        &c,
        &[
            "enterprise",
            "relationship",
            "days_since_last_touchpoint",
            "region",
            "coverage",
        ],
    );
    assert!(matches!(problem, ConfigProblem::UnknownCohort { .. }));
}

#[test]
fn error_component_weight_not_positive() {
    for weight in [0.0, -3.0, f64::NAN, f64::INFINITY] {
        let mut c = small();
        c.scorecards[0].components[1].weight = weight;
        let problem = invalid(&c, &["enterprise", "relationship", "weight"]);
        assert!(
            matches!(problem, ConfigProblem::InvalidWeight { .. }),
            "{weight}"
        );
    }
}

#[test]
fn error_metric_weight_not_positive() {
    let mut c = small();
    c.scorecards[0].components[0].metrics[1].weight = 0.0;
    let problem = invalid(
        &c,
        &["enterprise", "usage", "days_since_last_event", "weight"],
    );
    assert!(matches!(problem, ConfigProblem::InvalidWeight { .. }));
}

#[test]
fn error_empty_component() {
    let mut c = small();
    c.scorecards[0].components[1].metrics.clear();
    let problem = invalid(&c, &["enterprise", "relationship", "no metrics"]);
    assert_eq!(problem, ConfigProblem::EmptyComponent);
}

#[test]
fn error_empty_scorecard() {
    let mut c = small();
    c.scorecards[1].components.clear();
    let problem = invalid(&c, &["default", "no components"]);
    assert_eq!(problem, ConfigProblem::EmptyScorecard);
}

#[test]
fn error_no_scorecards() {
    let c = HealthConfig::from_toml("version = \"x\"").expect("parses");
    assert_eq!(invalid(&c, &["scorecard"]), ConfigProblem::NoScorecards);
}

fn set_bands(c: &mut HealthConfig, bands: Vec<(Option<f64>, f64)>) {
    c.scorecards[0].components[0].metrics[1].score = ScoreFn::Bands(
        bands
            .into_iter()
            .map(|(below, score)| ScoreBand { below, score })
            .collect(),
    );
}

#[test]
fn error_bands_not_increasing() {
    let mut c = small();
    set_bands(
        &mut c,
        vec![(Some(8.0), 100.0), (Some(8.0), 50.0), (None, 0.0)],
    );
    let problem = invalid(
        &c,
        &["enterprise", "usage", "days_since_last_event", "increase"],
    );
    assert!(matches!(problem, ConfigProblem::BandsNotIncreasing { .. }));
    set_bands(
        &mut c,
        vec![(Some(8.0), 100.0), (Some(3.0), 50.0), (None, 0.0)],
    );
    let problem = invalid(&c, &["days_since_last_event", "below = 3", "below = 8"]);
    assert!(matches!(problem, ConfigProblem::BandsNotIncreasing { .. }));
}

#[test]
fn error_bands_without_catch_all() {
    let mut c = small();
    set_bands(&mut c, vec![(Some(3.0), 100.0), (Some(8.0), 50.0)]);
    let problem = invalid(&c, &["days_since_last_event", "last band"]);
    assert_eq!(problem, ConfigProblem::BandsMissingCatchAll);
}

#[test]
fn error_catch_all_band_not_last() {
    let mut c = small();
    set_bands(&mut c, vec![(Some(3.0), 100.0), (None, 50.0), (None, 0.0)]);
    let problem = invalid(&c, &["days_since_last_event", "band 2"]);
    assert_eq!(problem, ConfigProblem::CatchAllNotLast { position: 2 });
}

#[test]
fn error_empty_bands() {
    let mut c = small();
    set_bands(&mut c, vec![]);
    let problem = invalid(&c, &["days_since_last_event", "empty"]);
    assert_eq!(problem, ConfigProblem::EmptyBands);
}

#[test]
fn error_band_score_out_of_range() {
    for score in [101.0, -1.0] {
        let mut c = small();
        set_bands(&mut c, vec![(Some(3.0), score), (None, 0.0)]);
        let problem = invalid(&c, &["days_since_last_event", "outside 0..=100"]);
        assert_eq!(problem, ConfigProblem::BandScoreOutOfRange { score });
    }
}

#[test]
fn error_band_limit_not_finite() {
    let mut c = small();
    set_bands(&mut c, vec![(Some(f64::NAN), 100.0), (None, 0.0)]);
    let problem = invalid(&c, &["days_since_last_event", "below"]);
    assert!(matches!(
        problem,
        ConfigProblem::NotFinite { field: "below", .. }
    ));
}

#[test]
fn error_linear_flat() {
    let mut c = small();
    c.scorecards[0].components[0].metrics[0].score = ScoreFn::Linear {
        zero_at: 0.1,
        full_at: 0.1,
    };
    let problem = invalid(&c, &["enterprise", "usage", "events_30d_change_90d", "0.1"]);
    assert_eq!(problem, ConfigProblem::LinearFlat { value: 0.1 });
}

#[test]
fn error_linear_not_finite() {
    let mut c = small();
    c.scorecards[0].components[0].metrics[0].score = ScoreFn::Linear {
        zero_at: f64::NEG_INFINITY,
        full_at: 0.1,
    };
    let problem = invalid(&c, &["events_30d_change_90d", "zero_at"]);
    assert!(matches!(
        problem,
        ConfigProblem::NotFinite {
            field: "zero_at",
            ..
        }
    ));
}

#[test]
fn error_cohort_percentile_of_a_neutral_metric() {
    let mut c = small();
    c.scorecards[0].components[1].metrics[0].metric = "days_to_renewal".into();
    let problem = invalid(
        &c,
        &["enterprise", "relationship", "days_to_renewal", "neutral"],
    );
    assert!(matches!(problem, ConfigProblem::PercentileOfNeutral { .. }));
}

#[test]
fn error_cutoffs_in_the_wrong_order() {
    let mut c = small();
    c.scorecards[0].cutoffs.yellow = 80.0;
    let problem = invalid(&c, &["enterprise", "yellow (80)", "green (70)"]);
    assert!(matches!(problem, ConfigProblem::CutoffsOrder { .. }));
}

#[test]
fn error_cutoffs_out_of_range() {
    for (green, yellow) in [(101.0, 45.0), (70.0, -1.0)] {
        let mut c = small();
        c.scorecards[1].cutoffs.green = green;
        c.scorecards[1].cutoffs.yellow = yellow;
        let problem = invalid(&c, &["default", "0..=100"]);
        assert!(matches!(problem, ConfigProblem::CutoffOutOfRange { .. }));
    }
}

#[test]
fn error_last_scorecard_is_not_a_catch_all() {
    let mut c = small();
    c.scorecards[1]
        .when
        .insert("segment".into(), vec!["smb".into()]);
    let problem = invalid(&c, &["default", "catch-all"]);
    assert_eq!(problem, ConfigProblem::NoCatchAllScorecard);
}

#[test]
fn error_duplicate_scorecard() {
    let mut c = small();
    c.scorecards[0].name = "default".into();
    let problem = invalid(&c, &["scorecard `default`", "more than once"]);
    assert!(matches!(
        problem,
        ConfigProblem::Duplicate {
            kind: "scorecard",
            ..
        }
    ));
}

#[test]
fn error_duplicate_component() {
    let mut c = small();
    c.scorecards[0].components[1].name = "usage".into();
    let problem = invalid(&c, &["enterprise", "component `usage`", "more than once"]);
    assert!(matches!(
        problem,
        ConfigProblem::Duplicate {
            kind: "component",
            ..
        }
    ));
}

#[test]
fn error_duplicate_metric_in_a_component() {
    let mut c = small();
    c.scorecards[0].components[0].metrics[1].metric = "events_30d_change_90d".into();
    let problem = invalid(
        &c,
        &[
            "enterprise",
            "usage",
            "events_30d_change_90d",
            "more than once",
        ],
    );
    assert!(matches!(
        problem,
        ConfigProblem::Duplicate { kind: "metric", .. }
    ));
}

#[test]
fn error_duplicate_cohort() {
    let mut c = small();
    c.cohorts[1].name = "coverage".into();
    let problem = invalid(&c, &["cohort `coverage`", "more than once"]);
    assert!(matches!(
        problem,
        ConfigProblem::Duplicate { kind: "cohort", .. }
    ));
}

#[test]
fn error_when_with_no_values() {
    let mut c = small();
    c.scorecards[0].when.insert("region".into(), vec![]);
    let problem = invalid(&c, &["enterprise", "when.region"]);
    assert_eq!(
        problem,
        ConfigProblem::EmptyWhen {
            attribute: "region".into()
        }
    );
}

#[test]
fn error_cohort_bands() {
    let mut c = small();
    c.cohorts[1].bands = Some(vec![
        CohortBand {
            below: Some(2000.0),
            label: "a".into(),
        },
        CohortBand {
            below: Some(200.0),
            label: "b".into(),
        },
        CohortBand {
            below: None,
            label: "c".into(),
        },
    ]);
    let problem = invalid(&c, &["cohort `size_band`", "increase"]);
    assert!(matches!(problem, ConfigProblem::BandsNotIncreasing { .. }));

    c.cohorts[1].bands = Some(vec![
        CohortBand {
            below: Some(200.0),
            label: "a".into(),
        },
        CohortBand {
            below: Some(2000.0),
            label: "b".into(),
        },
    ]);
    let problem = invalid(&c, &["cohort `size_band`", "last band"]);
    assert_eq!(problem, ConfigProblem::BandsMissingCatchAll);

    c.cohorts[1].bands = Some(vec![
        CohortBand {
            below: Some(200.0),
            label: "a".into(),
        },
        CohortBand {
            below: None,
            label: "a".into(),
        },
    ]);
    let problem = invalid(&c, &["cohort `size_band`", "band label `a`"]);
    assert!(matches!(
        problem,
        ConfigProblem::Duplicate {
            kind: "band label",
            ..
        }
    ));
}

#[test]
fn error_min_weight_coverage_out_of_range() {
    let mut c = small();
    c.min_weight_coverage = 1.5;
    let problem = invalid(&c, &["min_weight_coverage", "1.5"]);
    assert!(matches!(problem, ConfigProblem::OutOfRange { .. }));
}

#[test]
fn error_decline_rule_thresholds() {
    let mut c = small();
    c.decline_rule.recovery_share = 0.0;
    let problem = invalid(&c, &["decline_rule.recovery_share"]);
    assert!(matches!(problem, ConfigProblem::OutOfRange { .. }));
    let mut c = small();
    c.decline_rule.min_decline = -0.1;
    invalid(&c, &["decline_rule.min_decline"]);
    let mut c = small();
    c.decline_rule.sustained_points = 0;
    invalid(&c, &["decline_rule.sustained_points"]);
}

#[test]
fn error_empty_names() {
    let mut c = small();
    c.scorecards[0].components[0].name = " ".into();
    assert_eq!(invalid(&c, &["enterprise"]), ConfigProblem::EmptyName);
}

#[test]
fn decline_rule_table_overrides_only_what_it_names() {
    let text = format!("{SMALL}\n[decline_rule]\nmin_decline = 0.2\nsustained_points = 4\n");
    let c = HealthConfig::from_toml(&text).expect("parses");
    assert_eq!(c.decline_rule.min_decline, 0.2);
    assert_eq!(c.decline_rule.sustained_points, 4);
    assert_eq!(
        c.decline_rule.sustained_days,
        DeclineRule::default().sustained_days
    );
    c.validate(&shipped_metrics()).expect("valid");
}

#[test]
fn validation_uses_the_given_catalogue() {
    // A catalogue declaring the silence metric neutral makes percentile scoring invalid.
    let mut metrics = shipped_metrics();
    if let Some(m) = metrics
        .iter_mut()
        .find(|m| m.name == "days_since_last_touchpoint")
    {
        *m = meta(
            "days_since_last_touchpoint",
            Category::Relationship,
            Direction::Neutral,
        );
    }
    let err = small().validate(&metrics).unwrap_err();
    assert!(err.to_string().contains("neutral"), "{err}");
}
