//! Health scores: every account scored 0–100 by its scorecard, with an exact breakdown.
//!
//! A scorecard is a weighted set of components; a component is one metric or a weighted
//! group of metrics, each turned into 0–100 by a scoring function (linear, bands, or the
//! percentile within a cohort). Scorecards are tried in order and the first whose `when`
//! matches the account applies; the last one matches everyone.
//!
//! **Missing inputs are explicit, never zero.** A missing metric is left out of its
//! component and the component's other metrics are re-weighted; a component with no
//! inputs is left out and the other components are re-weighted. `weight_coverage` is the
//! share of the configured weight that had inputs; below `min_weight_coverage` the score
//! is unknown. Every re-weighting adds a note naming what was missing.
//!
//! **The score decomposes exactly.** Each metric's `points` is its effective weight
//! (its share of the total after both re-weightings) × its score; a component's points
//! are the sum of its metrics' points and the score is the sum of the components'
//! points. That is what lets [`crate::drivers`] explain a change metric by metric.

pub mod config;

use coco_core::Category;
use serde::Serialize;

use crate::cohort::{Benchmarks, CohortAssignment};
use crate::frame::{Direction, SnapshotFrame};

pub use config::{
    ComponentDef, ConfigError, ConfigProblem, Cutoffs, HealthConfig, MetricRule, ScoreBand,
    ScoreFn, ScorecardDef,
};

/// The colour band of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Green,
    Yellow,
    Red,
    /// Too little of the configured weight had inputs to score.
    Unknown,
}

impl Colour {
    pub fn as_str(&self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Red => "red",
            Colour::Unknown => "unknown",
        }
    }

    /// The colour of a score under a scorecard's cutoffs. A score within 1e-9 of a
    /// cutoff counts as reaching it, so a score that prints as 70.0 is never red/yellow
    /// because of rounding in the sum of points.
    pub fn of(score: Option<f64>, cutoffs: &Cutoffs) -> Colour {
        const TOLERANCE: f64 = 1e-9;
        match score {
            None => Colour::Unknown,
            Some(score) if score + TOLERANCE >= cutoffs.green => Colour::Green,
            Some(score) if score + TOLERANCE >= cutoffs.yellow => Colour::Yellow,
            Some(_) => Colour::Red,
        }
    }
}

/// One account's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountHealth {
    pub account_id: String,
    pub scorecard: String,
    /// 0–100; `None` when too little of the configured weight had inputs.
    pub score: Option<f64>,
    pub colour: Colour,
    /// Share of the scorecard's configured weight that had inputs (0–1).
    pub weight_coverage: f64,
    pub components: Vec<ComponentScore>,
    /// What was missing and how the score was re-weighted, in words.
    pub notes: Vec<String>,
}

/// One component of an account's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentScore {
    pub name: String,
    pub category: Category,
    /// Configured share of the scorecard (shares sum to 1).
    pub weight: f64,
    /// Share after re-weighting over the components that have inputs; 0 when missing
    /// (or when the whole score is unknown).
    pub effective_weight: f64,
    /// 0–100 over the metrics that have inputs; `None` when none has.
    pub score: Option<f64>,
    /// This component's contribution to the 0–100 score: the sum of its metrics' points
    /// (= effective_weight × score).
    pub points: f64,
    pub metrics: Vec<MetricScore>,
}

/// One metric of an account's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricScore {
    pub metric: String,
    pub category: Category,
    pub value: Option<f64>,
    /// 0–100; `None` when the value (or, for a cohort percentile, the cohort) is missing.
    pub score: Option<f64>,
    /// Configured share within the component (shares sum to 1).
    pub weight: f64,
    /// Share of the total score after both re-weightings; 0 when missing.
    pub effective_weight: f64,
    /// effective_weight × score: this metric's contribution to the 0–100 score.
    pub points: f64,
    /// The raw percentile within the cohort, when scored by `cohort_percentile`.
    pub percentile: Option<f64>,
    /// `dimension=label` (e.g. `coverage=tech_touch`), when scored by `cohort_percentile`.
    pub cohort: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "the cohort assignment covers {assigned} accounts but the snapshot has {accounts}: assign cohorts on this snapshot"
    )]
    AssignmentMismatch { assigned: usize, accounts: usize },
    #[error(
        "cohort `{0}` is used by a scorecard but not in the cohort assignment: assign cohorts with this configuration's cohorts"
    )]
    CohortNotAssigned(String),
    #[error(
        "the benchmarks were computed for other columns or cohorts than this snapshot's: compute them from this snapshot and assignment"
    )]
    BenchmarksMismatch,
}

/// A scoring function resolved against the snapshot.
#[derive(Debug)]
enum Scoring<'c> {
    Fixed(&'c ScoreFn),
    Percentile {
        dimension: usize,
        cohort: &'c str,
        attribute: &'c str,
        lower_is_better: bool,
        /// `cohort=label` per label index, formatted once rather than per account.
        tags: Vec<String>,
    },
}

#[derive(Debug)]
struct PlannedMetric<'c> {
    name: &'c str,
    column: usize,
    category: Category,
    share: f64,
    scoring: Scoring<'c>,
}

#[derive(Debug)]
struct PlannedComponent<'c> {
    name: &'c str,
    category: Category,
    share: f64,
    metrics: Vec<PlannedMetric<'c>>,
}

#[derive(Debug)]
struct PlannedScorecard<'c> {
    def: &'c ScorecardDef,
    components: Vec<PlannedComponent<'c>>,
}

/// A configuration resolved against one snapshot, its cohorts and benchmarks: metric
/// names become column indices and weights become shares once, not per account.
#[derive(Debug)]
pub struct Scorer<'a> {
    frame: &'a SnapshotFrame,
    assignment: &'a CohortAssignment,
    benchmarks: &'a Benchmarks,
    min_weight_coverage: f64,
    scorecards: Vec<PlannedScorecard<'a>>,
}

impl<'a> Scorer<'a> {
    /// Validates the configuration against the snapshot's metrics and checks that the
    /// assignment and benchmarks belong to this snapshot.
    pub fn new(
        frame: &'a SnapshotFrame,
        config: &'a HealthConfig,
        assignment: &'a CohortAssignment,
        benchmarks: &'a Benchmarks,
    ) -> Result<Scorer<'a>, HealthError> {
        config.validate(&frame.metrics)?;
        if assignment.account_count() != frame.accounts.len() {
            return Err(HealthError::AssignmentMismatch {
                assigned: assignment.account_count(),
                accounts: frame.accounts.len(),
            });
        }
        let same_columns = benchmarks.columns().len() == frame.metrics.len()
            && benchmarks
                .columns()
                .iter()
                .zip(&frame.metrics)
                .all(|(column, metric)| *column == metric.name);
        if !same_columns || benchmarks.dimensions() != assignment.dimensions() {
            return Err(HealthError::BenchmarksMismatch);
        }
        let mut scorecards = Vec::with_capacity(config.scorecards.len());
        for def in &config.scorecards {
            let component_total: f64 = def.components.iter().map(|c| c.weight).sum();
            let mut components = Vec::with_capacity(def.components.len());
            for component in &def.components {
                let metric_total: f64 = component.metrics.iter().map(|m| m.weight).sum();
                let mut metrics = Vec::with_capacity(component.metrics.len());
                for rule in &component.metrics {
                    // validate() has checked every metric is in the snapshot's catalogue.
                    let column = frame.metric_index(&rule.metric).ok_or_else(|| {
                        HealthError::Config(ConfigError::Invalid {
                            at: format!("metric `{}`", rule.metric),
                            problem: ConfigProblem::UnknownMetric {
                                metric: rule.metric.clone(),
                            },
                        })
                    })?;
                    let meta = &frame.metrics[column];
                    let scoring = match &rule.score {
                        ScoreFn::CohortPercentile { cohort } => {
                            let dimension = assignment
                                .dimension_index(cohort)
                                .ok_or_else(|| HealthError::CohortNotAssigned(cohort.clone()))?;
                            Scoring::Percentile {
                                dimension,
                                cohort,
                                attribute: &assignment.dimensions()[dimension].attribute,
                                lower_is_better: meta.direction == Direction::LowerIsBetter,
                                tags: assignment
                                    .labels(dimension)
                                    .iter()
                                    .map(|label| format!("{cohort}={label}"))
                                    .collect(),
                            }
                        }
                        fixed => Scoring::Fixed(fixed),
                    };
                    metrics.push(PlannedMetric {
                        name: &rule.metric,
                        column,
                        category: meta.category,
                        share: rule.weight / metric_total,
                        scoring,
                    });
                }
                components.push(PlannedComponent {
                    name: &component.name,
                    category: component.category,
                    share: component.weight / component_total,
                    metrics,
                });
            }
            scorecards.push(PlannedScorecard { def, components });
        }
        Ok(Scorer {
            frame,
            assignment,
            benchmarks,
            min_weight_coverage: config.min_weight_coverage,
            scorecards,
        })
    }

    /// Scores one account (by its index in the frame).
    ///
    /// # Panics
    ///
    /// If `account` is not an index of the frame's accounts.
    pub fn score_account(&self, account: usize) -> AccountHealth {
        let row = &self.frame.accounts[account];
        // validate() guarantees a catch-all last scorecard, so `position` always finds one;
        // falling back to the last keeps that guarantee local.
        let scorecard = self
            .scorecards
            .iter()
            .find(|s| s.def.matches(&row.attributes))
            .or(self.scorecards.last());
        let Some(scorecard) = scorecard else {
            return AccountHealth {
                account_id: row.account_id.clone(),
                scorecard: String::new(),
                score: None,
                colour: Colour::Unknown,
                weight_coverage: 0.0,
                components: Vec::new(),
                notes: vec!["no scorecard configured".to_owned()],
            };
        };

        let mut notes = Vec::new();
        let mut components = Vec::with_capacity(scorecard.components.len());
        // Per component: the share of its metric weight with inputs.
        let mut present_shares = Vec::with_capacity(scorecard.components.len());
        let mut weight_coverage = 0.0;
        let mut missing_components = Vec::new();
        for planned in &scorecard.components {
            let mut metrics = Vec::with_capacity(planned.metrics.len());
            let mut missing: Vec<String> = Vec::new();
            for metric in &planned.metrics {
                let scored = self.score_metric(account, metric);
                if scored.score.is_none() {
                    missing.push(scored.reason.unwrap_or_else(|| metric.name.to_owned()));
                }
                metrics.push(MetricScore {
                    metric: metric.name.to_owned(),
                    category: metric.category,
                    value: scored.value,
                    score: scored.score,
                    weight: metric.share,
                    effective_weight: 0.0,
                    points: 0.0,
                    percentile: scored.percentile,
                    cohort: scored.cohort,
                });
            }
            let present: f64 = metrics
                .iter()
                .filter(|m| m.score.is_some())
                .map(|m| m.weight)
                .sum();
            let score = (present > 0.0).then(|| {
                metrics
                    .iter()
                    .filter_map(|m| m.score.map(|s| s * m.weight / present))
                    .sum::<f64>()
                    .clamp(0.0, 100.0)
            });
            weight_coverage += planned.share * present;
            if score.is_none() {
                missing_components.push(format!("{} ({})", planned.name, missing.join(", ")));
            } else if !missing.is_empty() {
                notes.push(format!(
                    "no data for {} in {}; {} re-weighted over its other metrics ({} of its weight)",
                    missing.join(", "),
                    planned.name,
                    planned.name,
                    percent(present)
                ));
            }
            present_shares.push(present);
            components.push(ComponentScore {
                name: planned.name.to_owned(),
                category: planned.category,
                weight: planned.share,
                effective_weight: 0.0,
                score,
                points: 0.0,
                metrics,
            });
        }
        let weight_coverage = weight_coverage.clamp(0.0, 1.0);
        let scored_share: f64 = components
            .iter()
            .filter(|c| c.score.is_some())
            .map(|c| c.weight)
            .sum();
        let enough = scored_share > 0.0 && weight_coverage + 1e-12 >= self.min_weight_coverage;
        for missing in &missing_components {
            notes.push(if enough {
                format!(
                    "no data for {missing}; score re-weighted over {} of the configured weight",
                    percent(weight_coverage)
                )
            } else {
                format!("no data for {missing}")
            });
        }
        let score = if enough {
            for (component, present) in components.iter_mut().zip(&present_shares) {
                if component.score.is_none() {
                    continue;
                }
                component.effective_weight = component.weight / scored_share;
                for metric in &mut component.metrics {
                    if let Some(score) = metric.score {
                        metric.effective_weight =
                            component.effective_weight * metric.weight / present;
                        metric.points = metric.effective_weight * score;
                    }
                }
                // Summed rather than effective_weight × score so that the points of the
                // metrics, of the components and the score add up exactly.
                component.points = component.metrics.iter().map(|m| m.points).sum();
            }
            Some(
                components
                    .iter()
                    .map(|c| c.points)
                    .sum::<f64>()
                    .clamp(0.0, 100.0),
            )
        } else {
            notes.push(format!(
                "only {} of the configured weight has data, below the minimum of {}: score unknown",
                percent(weight_coverage),
                percent(self.min_weight_coverage)
            ));
            None
        };
        AccountHealth {
            account_id: row.account_id.clone(),
            scorecard: scorecard.def.name.clone(),
            score,
            colour: Colour::of(score, &scorecard.def.cutoffs),
            weight_coverage,
            components,
            notes,
        }
    }

    fn score_metric(&self, account: usize, metric: &PlannedMetric<'_>) -> ScoredMetric {
        let value = self.frame.value(account, metric.column);
        let Some(v) = value else {
            return ScoredMetric::missing(value, None);
        };
        match &metric.scoring {
            Scoring::Fixed(function) => ScoredMetric {
                value,
                score: function.fixed_score(v),
                percentile: None,
                cohort: None,
                reason: None,
            },
            Scoring::Percentile {
                dimension,
                cohort,
                attribute,
                lower_is_better,
                tags,
            } => {
                let Some(label) = self.assignment.label_index(account, *dimension) else {
                    return ScoredMetric::missing(
                        value,
                        Some(format!(
                            "{}: scored within its `{cohort}` cohort, but the account has no usable `{attribute}`",
                            metric.name
                        )),
                    );
                };
                let Some(percentile) =
                    self.benchmarks
                        .percentile(*dimension, label, metric.column, v)
                else {
                    return ScoredMetric::missing(
                        value,
                        Some(format!(
                            "{}: no benchmark values in its `{cohort}` cohort",
                            metric.name
                        )),
                    );
                };
                ScoredMetric {
                    value,
                    score: Some(if *lower_is_better {
                        100.0 - percentile
                    } else {
                        percentile
                    }),
                    percentile: Some(percentile),
                    cohort: tags.get(label).cloned(),
                    reason: None,
                }
            }
        }
    }
}

struct ScoredMetric {
    value: Option<f64>,
    score: Option<f64>,
    percentile: Option<f64>,
    cohort: Option<String>,
    /// Why the score is missing, when that is more than "no value".
    reason: Option<String>,
}

impl ScoredMetric {
    fn missing(value: Option<f64>, reason: Option<String>) -> ScoredMetric {
        ScoredMetric {
            value,
            score: None,
            percentile: None,
            cohort: None,
            reason,
        }
    }
}

/// A share as a whole percentage for notes ("85%").
fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// Scores every account of the frame, in frame order, each by the first scorecard whose
/// `when` matches it.
pub fn score_all(
    frame: &SnapshotFrame,
    config: &HealthConfig,
    assignment: &CohortAssignment,
    benchmarks: &Benchmarks,
) -> Result<Vec<AccountHealth>, HealthError> {
    let scorer = Scorer::new(frame, config, assignment, benchmarks)?;
    Ok(crate::parallel::map_ordered(
        frame.accounts.len(),
        5_000,
        |a| scorer.score_account(a),
    ))
}
