//! The account journey scorecard (J6): where the account is, and how it compares with
//! accounts that went on to renew.
//!
//! - Milestones: for each milestone the retained accounts were due by this tenure, the
//!   share of them that had completed it by the same tenure. Missing one that most
//!   (≥ 50%) retained accounts had done by then is a deviation.
//! - Variables: the churned-vs-retained variables (J4) that separate the cohorts. The
//!   retained renewals' values at the comparison lead, among those at a similar tenure
//!   (the same band; all retained when the band has too few), give the benchmark; a
//!   value beyond its `deviation_quantile` on the churn side is a deviation.
//!
//! Interventions follow the deviations, strongest evidence first (the variable's effect
//! size, or the milestone's churn risk ratio), with the action configured for it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::compare::Comparison;
use super::milestones::ChurnLink;
use super::stages::StageView;
use super::{JourneyConfig, MilestoneRecord, quantile};

/// Tenure bands (upper bounds in days) the benchmarks are grouped by.
const TENURE_BANDS: &[f64] = &[90.0, 180.0, 365.0, 730.0, f64::INFINITY];

fn band(tenure: f64) -> usize {
    TENURE_BANDS
        .iter()
        .position(|b| tenure <= *b)
        .unwrap_or(TENURE_BANDS.len() - 1)
}

/// Retained renewals' variable values (aligned with the comparison's variables) and
/// tenure at the lead, and retained accounts' milestone completion by tenure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetainedBenchmark {
    /// Per tenure band, per variable: sorted values.
    by_band: Vec<Vec<Vec<f64>>>,
    all: Vec<Vec<f64>>,
    /// Per milestone key, over every retained account's milestone (days from the
    /// account's start): due days sorted, and for completed ones the day by which they
    /// were both due and done (max of the two) sorted — so "due by T" and "due and done
    /// by T" are two binary searches.
    milestones: BTreeMap<String, (Vec<i64>, Vec<i64>)>,
    min_group: usize,
}

impl RetainedBenchmark {
    /// `rows`: (tenure days at the lead, values) of retained renewals. `milestones`:
    /// (start, records) of retained accounts.
    pub fn new(
        variables: usize,
        rows: &[(Option<f64>, Vec<Option<f64>>)],
        milestones: &[(NaiveDate, &[MilestoneRecord])],
        min_group: usize,
    ) -> Self {
        let mut by_band = vec![vec![Vec::new(); variables]; TENURE_BANDS.len()];
        let mut all = vec![Vec::new(); variables];
        for (tenure, values) in rows {
            for (v, value) in values.iter().enumerate() {
                let Some(value) = value.filter(|x| x.is_finite()) else {
                    continue;
                };
                all[v].push(value);
                if let Some(t) = tenure {
                    by_band[band(*t)][v].push(value);
                }
            }
        }
        for list in by_band.iter_mut().flatten().chain(all.iter_mut()) {
            list.sort_by(f64::total_cmp);
        }
        let mut by_key: BTreeMap<String, (Vec<i64>, Vec<i64>)> = BTreeMap::new();
        for (start, records) in milestones {
            for m in records.iter() {
                if let Some(due) = m.due {
                    let due_day = (due - *start).num_days();
                    let entry = by_key.entry(m.key.clone()).or_default();
                    entry.0.push(due_day);
                    if let Some(done) = m.completed {
                        entry.1.push(due_day.max((done - *start).num_days()));
                    }
                }
            }
        }
        for (due, done) in by_key.values_mut() {
            due.sort_unstable();
            done.sort_unstable();
        }
        RetainedBenchmark {
            by_band,
            all,
            milestones: by_key,
            min_group,
        }
    }

    fn values(&self, variable: usize, tenure: Option<f64>) -> (&[f64], bool) {
        if let Some(t) = tenure {
            let list = &self.by_band[band(t)][variable];
            if list.len() >= self.min_group {
                return (list, true);
            }
        }
        (&self.all[variable], false)
    }

    /// Share of retained accounts due `key` by `tenure` that had completed it by then.
    fn milestone_share(&self, key: &str, tenure: i64) -> Option<(f64, usize)> {
        let (due, done) = self.milestones.get(key)?;
        let due_count = due.partition_point(|d| *d <= tenure);
        if due_count < self.min_group {
            return None;
        }
        let done_count = done.partition_point(|d| *d <= tenure);
        Some((done_count as f64 / due_count as f64, due_count))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MilestoneCheck {
    pub milestone: String,
    pub due: Option<NaiveDate>,
    pub completed: Option<NaiveDate>,
    pub status: Option<String>,
    /// Share of retained accounts that had it done at this tenure.
    pub retained_done_share: Option<f64>,
    pub deviation: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariableCheck {
    pub variable: String,
    pub value: Option<f64>,
    pub retained_median: Option<f64>,
    /// The benchmark quantile on the churn side (the deviation threshold).
    pub threshold: Option<f64>,
    /// `higher` or `lower` is worse (from the churned-vs-retained comparison).
    pub worse_when: String,
    /// The benchmark is from the same tenure band (else from all retained renewals).
    pub same_tenure: bool,
    pub deviation: bool,
    pub effect_size: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    OnTrack,
    Watch,
    Intervene,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InterventionItem {
    pub on: String,
    pub action: String,
    pub why: String,
    /// The evidence strength it is ranked by (|effect size| or risk ratio − 1).
    pub strength: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scorecard {
    pub account_id: String,
    pub account_name: String,
    pub as_of: NaiveDate,
    pub tenure_days: Option<i64>,
    pub stage: StageView,
    /// 100 × the share of checks without a deviation.
    pub journey_score: f64,
    pub severity: Severity,
    pub deviations: usize,
    pub milestones: Vec<MilestoneCheck>,
    pub variables: Vec<VariableCheck>,
    pub interventions: Vec<InterventionItem>,
}

/// What a scorecard reads for one account.
pub struct AccountJourney<'a> {
    pub account_id: &'a str,
    pub account_name: &'a str,
    pub as_of: NaiveDate,
    pub start: Option<NaiveDate>,
    pub stage: StageView,
    pub milestones: &'a [MilestoneRecord],
    /// Values of the comparison's variables now.
    pub values: Vec<Option<f64>>,
}

pub fn scorecard(
    config: &JourneyConfig,
    account: AccountJourney<'_>,
    comparison: &Comparison,
    links: &[ChurnLink],
    benchmark: &RetainedBenchmark,
) -> Scorecard {
    let tenure = account.start.map(|s| (account.as_of - s).num_days());
    let q = config.scorecard.deviation_quantile;
    let mut interventions: Vec<InterventionItem> = Vec::new();
    let mut milestones = Vec::new();
    // A repeated milestone (renewal preparation every term) is judged by its latest
    // instance due by now: last year's is history, not a gap.
    let latest: Vec<&MilestoneRecord> = account
        .milestones
        .iter()
        .filter(|m| {
            m.due.is_some_and(|d| d <= account.as_of)
                && !account.milestones.iter().any(|o| {
                    o.key == m.key && o.due.is_some_and(|d| d <= account.as_of) && o.due > m.due
                })
        })
        .collect();
    for m in latest {
        let Some(tenure) = tenure else { break };
        let Some(due) = m.due.filter(|d| *d <= account.as_of) else {
            continue;
        };
        let share = benchmark.milestone_share(&m.key, tenure).map(|(s, _)| s);
        let done = m.done_by(account.as_of);
        let deviation = !done && share.is_some_and(|s| s >= 0.5);
        if deviation {
            let rr = links
                .iter()
                .find(|l| l.milestone == m.key)
                .and_then(|l| l.risk_ratio)
                .map_or(0.0, |r| r.value - 1.0);
            interventions.push(InterventionItem {
                on: m.key.clone(),
                action: config
                    .intervention(&m.key)
                    .unwrap_or("complete the milestone with the customer")
                    .to_string(),
                why: format!(
                    "{} not done (due {due}); {:.0}% of retained accounts had it by this tenure",
                    m.key,
                    100.0 * share.unwrap_or(0.0)
                ),
                strength: rr.max(0.0),
            });
        }
        milestones.push(MilestoneCheck {
            milestone: m.key.clone(),
            due: Some(due),
            completed: m.completed.filter(|c| *c <= account.as_of),
            status: m.status.clone(),
            retained_done_share: share,
            deviation,
        });
    }
    let mut variables = Vec::new();
    for (v, cmp) in comparison.variables.iter().enumerate() {
        if !comparison.top.contains(&cmp.variable) {
            continue;
        }
        let effect = cmp.effect_size.unwrap_or(0.0);
        let higher_worse = effect > 0.0;
        let (values, same_tenure) = benchmark.values(v, tenure.map(|t| t as f64));
        let threshold = quantile(values, if higher_worse { 1.0 - q } else { q });
        let value = account.values.get(v).copied().flatten();
        let deviation = match (value, threshold) {
            (Some(x), Some(t)) => {
                if higher_worse {
                    x > t
                } else {
                    x < t
                }
            }
            _ => false,
        };
        if deviation {
            interventions.push(InterventionItem {
                on: cmp.variable.clone(),
                action: config
                    .intervention(&cmp.variable)
                    .map(str::to_string)
                    .or_else(|| {
                        config
                            .stage(&account.stage.stage)
                            .and_then(|s| s.actions.first().cloned())
                    })
                    .unwrap_or_else(|| "review with the customer".to_string()),
                why: format!(
                    "{} is {:.2}, {} than {:.0}% of retained accounts (threshold {:.2})",
                    cmp.variable,
                    value.unwrap_or(f64::NAN),
                    if higher_worse { "higher" } else { "lower" },
                    100.0 * (1.0 - q),
                    threshold.unwrap_or(f64::NAN)
                ),
                strength: effect.abs(),
            });
        }
        variables.push(VariableCheck {
            variable: cmp.variable.clone(),
            value,
            retained_median: quantile(values, 0.5),
            threshold,
            worse_when: if higher_worse { "higher" } else { "lower" }.to_string(),
            same_tenure,
            deviation,
            effect_size: cmp.effect_size,
        });
    }
    interventions.sort_by(|a, b| b.strength.total_cmp(&a.strength).then(a.on.cmp(&b.on)));
    // One action once: several deviations may call for the same thing.
    let mut seen = std::collections::BTreeSet::new();
    interventions.retain(|i| seen.insert(i.action.clone()));
    let checks = milestones.len() + variables.len();
    let deviations = milestones.iter().filter(|m| m.deviation).count()
        + variables.iter().filter(|v| v.deviation).count();
    let journey_score = if checks > 0 {
        100.0 * (checks - deviations) as f64 / checks as f64
    } else {
        100.0
    };
    let severity = if deviations >= 3 || (deviations >= 1 && !account.stage.conflicts.is_empty()) {
        Severity::Intervene
    } else if deviations >= 1 || account.stage.overdue {
        Severity::Watch
    } else {
        Severity::OnTrack
    };
    Scorecard {
        account_id: account.account_id.to_string(),
        account_name: account.account_name.to_string(),
        as_of: account.as_of,
        tenure_days: tenure,
        stage: account.stage,
        journey_score: journey_score.round(),
        severity,
        deviations,
        milestones,
        variables,
        interventions,
    }
}
