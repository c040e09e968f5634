//! Drivers: why an account's health score changed, what pulls it down right now, and
//! (in [`decline`]) whether a declining metric is a temporary dip or a structural decline.
//!
//! A score is the sum of its metrics' points (effective weight × metric score), so the
//! change between two snapshots is exactly the sum of the metrics' changes in points.
//! Re-weighting for missing data and a switch of scorecard need no special case: a
//! metric absent on one side has 0 points there.

pub mod decline;

use std::collections::BTreeMap;

use coco_core::Category;
use serde::Serialize;

use crate::frame::{Direction, MetricMeta};
use crate::health::AccountHealth;

pub use decline::{DeclineAssessment, DeclineEvidence, DeclineKind, DeclineRule, assess_decline};

/// One metric's part in a score change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Driver {
    pub component: String,
    pub metric: String,
    pub category: Category,
    /// From the metric catalogue (neutral when the catalogue does not list the metric).
    pub direction: Direction,
    pub points_before: f64,
    pub points_after: f64,
    /// `points_after − points_before`; the contributions of all drivers sum to the delta.
    pub contribution: f64,
    pub value_before: Option<f64>,
    pub value_after: Option<f64>,
    pub score_before: Option<f64>,
    pub score_after: Option<f64>,
}

/// A score change between two snapshots, decomposed by metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreChange {
    pub account_id: String,
    pub scorecard_before: String,
    pub scorecard_after: String,
    pub score_before: f64,
    pub score_after: f64,
    /// `score_after − score_before`.
    pub delta: f64,
    /// Ranked by |contribution|, largest first; ties by component, then metric name.
    pub drivers: Vec<Driver>,
}

/// A score change summed over the metrics of one category.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryChange {
    pub category: Category,
    pub points_before: f64,
    pub points_after: f64,
    pub contribution: f64,
}

/// A score change summed over the metrics of one component.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentChange {
    pub component: String,
    pub points_before: f64,
    pub points_after: f64,
    pub contribution: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExplainError {
    #[error(
        "account {account_id}: the {side} score is unknown (too little data), so the change cannot be explained"
    )]
    UnknownScore {
        account_id: String,
        side: &'static str,
    },
    #[error("cannot compare the health of two different accounts ({before} and {after})")]
    DifferentAccounts { before: String, after: String },
}

#[derive(Default)]
struct Side {
    points: f64,
    value: Option<f64>,
    score: Option<f64>,
    category: Option<Category>,
}

/// Decomposes the change of one account's score between two snapshots into per-metric
/// contributions that sum to the change. Both scores must be known.
pub fn explain_change(
    before: &AccountHealth,
    after: &AccountHealth,
    metrics: &[MetricMeta],
) -> Result<ScoreChange, ExplainError> {
    if before.account_id != after.account_id {
        return Err(ExplainError::DifferentAccounts {
            before: before.account_id.clone(),
            after: after.account_id.clone(),
        });
    }
    let unknown = |side| ExplainError::UnknownScore {
        account_id: before.account_id.clone(),
        side,
    };
    let score_before = before.score.ok_or_else(|| unknown("earlier"))?;
    let score_after = after.score.ok_or_else(|| unknown("later"))?;

    let mut sides: BTreeMap<(&str, &str), (Side, Side)> = BTreeMap::new();
    for (health, is_after) in [(before, false), (after, true)] {
        for component in &health.components {
            for metric in &component.metrics {
                let entry = sides
                    .entry((component.name.as_str(), metric.metric.as_str()))
                    .or_default();
                let side = if is_after { &mut entry.1 } else { &mut entry.0 };
                *side = Side {
                    points: metric.points,
                    value: metric.value,
                    score: metric.score,
                    category: Some(metric.category),
                };
            }
        }
    }
    let mut drivers: Vec<Driver> = sides
        .into_iter()
        .map(|((component, metric), (b, a))| {
            let meta = metrics.iter().find(|m| m.name == metric);
            Driver {
                component: component.to_owned(),
                metric: metric.to_owned(),
                category: meta
                    .map(|m| m.category)
                    .or(a.category)
                    .or(b.category)
                    .unwrap_or(Category::Profile),
                direction: meta.map_or(Direction::Neutral, |m| m.direction),
                points_before: b.points,
                points_after: a.points,
                contribution: a.points - b.points,
                value_before: b.value,
                value_after: a.value,
                score_before: b.score,
                score_after: a.score,
            }
        })
        .collect();
    // The BTreeMap already ordered by (component, metric); a stable sort keeps that order
    // among equal contributions.
    drivers.sort_by(|x, y| y.contribution.abs().total_cmp(&x.contribution.abs()));
    Ok(ScoreChange {
        account_id: after.account_id.clone(),
        scorecard_before: before.scorecard.clone(),
        scorecard_after: after.scorecard.clone(),
        score_before,
        score_after,
        delta: score_after - score_before,
        drivers,
    })
}

impl ScoreChange {
    /// Contributions summed by category, ranked like the drivers; they sum to the delta.
    pub fn by_category(&self) -> Vec<CategoryChange> {
        let mut sums: BTreeMap<Category, (f64, f64)> = BTreeMap::new();
        for driver in &self.drivers {
            let sum = sums.entry(driver.category).or_default();
            sum.0 += driver.points_before;
            sum.1 += driver.points_after;
        }
        let mut changes: Vec<CategoryChange> = sums
            .into_iter()
            .map(|(category, (before, after))| CategoryChange {
                category,
                points_before: before,
                points_after: after,
                contribution: after - before,
            })
            .collect();
        changes.sort_by(|x, y| y.contribution.abs().total_cmp(&x.contribution.abs()));
        changes
    }

    /// Contributions summed by component, ranked like the drivers; they sum to the delta.
    pub fn by_component(&self) -> Vec<ComponentChange> {
        let mut sums: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for driver in &self.drivers {
            let sum = sums.entry(driver.component.as_str()).or_default();
            sum.0 += driver.points_before;
            sum.1 += driver.points_after;
        }
        let mut changes: Vec<ComponentChange> = sums
            .into_iter()
            .map(|(component, (before, after))| ComponentChange {
                component: component.to_owned(),
                points_before: before,
                points_after: after,
                contribution: after - before,
            })
            .collect();
        changes.sort_by(|x, y| y.contribution.abs().total_cmp(&x.contribution.abs()));
        changes
    }
}

/// What one metric costs the score right now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shortfall {
    pub component: String,
    pub metric: String,
    pub category: Category,
    pub value: Option<f64>,
    pub score: f64,
    pub effective_weight: f64,
    /// `effective_weight × (100 − score)`: how many points a perfect value would add.
    pub points_lost: f64,
}

/// The metrics that pull the score down, most points lost first (ties by component,
/// then metric). Over all scored metrics the points lost sum to `100 − score`; metrics
/// losing nothing are left out. Empty when the score is unknown.
pub fn shortfalls(health: &AccountHealth) -> Vec<Shortfall> {
    let mut shortfalls: Vec<Shortfall> = health
        .components
        .iter()
        .flat_map(|component| {
            component.metrics.iter().filter_map(move |metric| {
                let score = metric.score?;
                let points_lost = metric.effective_weight * (100.0 - score);
                (metric.effective_weight > 0.0 && points_lost > 0.0).then(|| Shortfall {
                    component: component.name.clone(),
                    metric: metric.metric.clone(),
                    category: metric.category,
                    value: metric.value,
                    score,
                    effective_weight: metric.effective_weight,
                    points_lost,
                })
            })
        })
        .collect();
    shortfalls.sort_by(|x, y| {
        y.points_lost
            .total_cmp(&x.points_lost)
            .then_with(|| x.component.cmp(&y.component))
            .then_with(|| x.metric.cmp(&y.metric))
    });
    shortfalls
}
