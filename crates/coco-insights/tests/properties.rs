//! Properties over random configurations and snapshots: a score is exactly the sum of
//! its points, and a change between two snapshots is exactly the sum of its drivers.

mod common;

use std::collections::BTreeMap;

use coco_core::Category;
use coco_insights::{
    AccountHealth, AccountRow, Benchmarks, CohortDef, ComponentDef, Cutoffs, DeclineRule,
    Direction, HealthConfig, MetricMeta, MetricRule, ScoreBand, ScoreFn, ScorecardDef,
    SnapshotFrame, assign_cohorts, explain_change, score_all, shortfalls,
};
use common::{date, meta};
use proptest::prelude::*;

/// A small deterministic generator, so one proptest seed describes a whole case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

const CATEGORIES: [Category; 4] = [
    Category::ProductUsage,
    Category::Adoption,
    Category::Support,
    Category::Sentiment,
];

fn metric_pool() -> Vec<MetricMeta> {
    (0..6)
        .map(|i| {
            let direction = if i % 2 == 0 {
                Direction::HigherIsBetter
            } else {
                Direction::LowerIsBetter
            };
            meta(&format!("m{i}"), CATEGORIES[i % 4], direction)
        })
        .collect()
}

fn random_score_fn(rng: &mut Rng) -> ScoreFn {
    match rng.below(3) {
        0 => {
            let zero_at = rng.range(-10.0, 10.0);
            let mut full_at = rng.range(-10.0, 10.0);
            if full_at == zero_at {
                full_at += 1.0;
            }
            ScoreFn::Linear { zero_at, full_at }
        }
        1 => {
            let mut limit = rng.range(-10.0, 0.0);
            let mut bands = Vec::new();
            for _ in 0..rng.below(4) {
                bands.push(ScoreBand {
                    below: Some(limit),
                    score: rng.range(0.0, 100.0),
                });
                limit += rng.range(0.5, 5.0);
            }
            bands.push(ScoreBand {
                below: None,
                score: rng.range(0.0, 100.0),
            });
            ScoreFn::Bands(bands)
        }
        _ => ScoreFn::CohortPercentile {
            cohort: "group".into(),
        },
    }
}

fn random_scorecard(
    rng: &mut Rng,
    name: &str,
    when: BTreeMap<String, Vec<String>>,
) -> ScorecardDef {
    let components = (0..1 + rng.below(4))
        .map(|c| {
            let mut pool: Vec<usize> = (0..6).collect();
            let metrics = (0..1 + rng.below(3))
                .map(|_| {
                    let metric = pool.remove(rng.below(pool.len()));
                    MetricRule {
                        metric: format!("m{metric}"),
                        weight: rng.range(0.1, 10.0),
                        score: random_score_fn(rng),
                    }
                })
                .collect();
            ComponentDef {
                name: format!("c{c}"),
                category: CATEGORIES[rng.below(4)],
                weight: rng.range(0.1, 50.0),
                metrics,
            }
        })
        .collect();
    let yellow = rng.range(0.0, 60.0);
    ScorecardDef {
        name: name.to_owned(),
        description: String::new(),
        when,
        cutoffs: Cutoffs {
            green: rng.range(yellow, 100.0),
            yellow,
        },
        components,
    }
}

fn random_config(rng: &mut Rng) -> HealthConfig {
    let mut scorecards = Vec::new();
    if rng.chance(0.6) {
        let when = BTreeMap::from([("segment".to_owned(), vec!["x".to_owned()])]);
        scorecards.push(random_scorecard(rng, "special", when));
    }
    scorecards.push(random_scorecard(rng, "rest", BTreeMap::new()));
    HealthConfig {
        version: "prop".into(),
        min_weight_coverage: rng.range(0.0, 0.8),
        cohorts: vec![CohortDef {
            name: "group".into(),
            attribute: "group".into(),
            bands: None,
        }],
        scorecards,
        decline_rule: DeclineRule::default(),
    }
}

fn random_frame(rng: &mut Rng, accounts: usize) -> SnapshotFrame {
    let rows = (0..accounts)
        .map(|i| {
            let mut row = AccountRow::new(format!("a{i}"));
            match rng.below(3) {
                0 => row = row.text("segment", "x"),
                1 => row = row.text("segment", "y"),
                _ => {}
            }
            if rng.chance(0.8) {
                row = row.text("group", ["g1", "g2"][rng.below(2)]);
            }
            row
        })
        .collect();
    let values = (0..accounts * 6)
        .map(|_| {
            if rng.chance(0.25) {
                f64::NAN
            } else if rng.chance(0.3) {
                // Integers make ties (and band edges) common.
                rng.range(-10.0, 10.0).round()
            } else {
                rng.range(-12.0, 12.0)
            }
        })
        .collect();
    SnapshotFrame::new(date(2026, 1, 1), metric_pool(), rows, values).expect("frame")
}

fn score(frame: &SnapshotFrame, config: &HealthConfig) -> Vec<AccountHealth> {
    let assignment = assign_cohorts(frame, &config.cohorts);
    let benchmarks = Benchmarks::compute(frame, &assignment);
    score_all(frame, config, &assignment, &benchmarks).expect("a valid random configuration")
}

fn check_decomposition(h: &AccountHealth) -> Result<(), TestCaseError> {
    prop_assert!((0.0..=1.0 + 1e-12).contains(&h.weight_coverage));
    let Some(score) = h.score else {
        prop_assert!(h.components.iter().all(|c| c.points == 0.0));
        return Ok(());
    };
    prop_assert!((0.0..=100.0).contains(&score));
    let total: f64 = h.components.iter().map(|c| c.points).sum();
    prop_assert!(
        (total - score).abs() < 1e-9,
        "Σ component points {total} ≠ score {score}"
    );
    let mut effective = 0.0;
    for c in &h.components {
        let points: f64 = c.metrics.iter().map(|m| m.points).sum();
        prop_assert!((points - c.points).abs() < 1e-9);
        if let Some(component_score) = c.score {
            prop_assert!((c.points - c.effective_weight * component_score).abs() < 1e-9);
        }
        for m in &c.metrics {
            effective += m.effective_weight;
            if let Some(s) = m.score {
                prop_assert!((0.0..=100.0).contains(&s));
                prop_assert!((m.points - m.effective_weight * s).abs() < 1e-12);
            } else {
                prop_assert_eq!(m.effective_weight, 0.0);
            }
        }
    }
    prop_assert!(
        (effective - 1.0).abs() < 1e-9,
        "effective weights sum to {effective}"
    );
    let lost: f64 = shortfalls(h).iter().map(|s| s.points_lost).sum();
    prop_assert!((lost - (100.0 - score)).abs() < 1e-9);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn scores_are_the_sum_of_their_points(seed in any::<u64>(), accounts in 1usize..9) {
        let mut rng = Rng(seed);
        let config = random_config(&mut rng);
        config.validate(&metric_pool()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let frame = random_frame(&mut rng, accounts);
        for h in score(&frame, &config) {
            check_decomposition(&h)?;
        }
    }

    #[test]
    fn changes_are_the_sum_of_their_drivers(seed in any::<u64>(), accounts in 1usize..7) {
        let mut rng = Rng(seed);
        let config = random_config(&mut rng);
        let before = random_frame(&mut rng, accounts);
        // Same accounts, new values and (sometimes) a new segment: scorecards may switch.
        let after_values = random_frame(&mut rng, accounts);
        let after = SnapshotFrame::new(
            date(2026, 2, 1),
            metric_pool(),
            after_values.accounts.clone(),
            after_values.values.clone(),
        )
        .expect("frame");
        let scored_before = score(&before, &config);
        let scored_after = score(&after, &config);
        for (b, a) in scored_before.iter().zip(&scored_after) {
            match explain_change(b, a, &metric_pool()) {
                Ok(change) => {
                    let sum: f64 = change.drivers.iter().map(|d| d.contribution).sum();
                    prop_assert!((sum - change.delta).abs() < 1e-9, "Σ drivers {sum} ≠ delta {}", change.delta);
                    let by_category: f64 = change.by_category().iter().map(|c| c.contribution).sum();
                    prop_assert!((by_category - change.delta).abs() < 1e-9);
                    let by_component: f64 = change.by_component().iter().map(|c| c.contribution).sum();
                    prop_assert!((by_component - change.delta).abs() < 1e-9);
                    for pair in change.drivers.windows(2) {
                        prop_assert!(pair[0].contribution.abs() >= pair[1].contribution.abs());
                    }
                }
                Err(_) => prop_assert!(b.score.is_none() || a.score.is_none()),
            }
        }
    }
}
