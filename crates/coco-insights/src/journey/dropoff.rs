//! Drop-off (J5): where engagement falls. Each account's engagement metric is read in the
//! weekly snapshots; every non-overlapping step of `step_weeks` is one observation,
//! labelled with the account's tenure month (and stage, when classified) at the step's
//! start. A drop is a fall of at least `drop_share` from a level of at least `min_level`.
//! Each month's (stage's) drop rate is tested against all the others with a
//! two-proportion z-test, Holm-corrected; the significant months above the overall rate,
//! adjacent ones merged, ranked by excess drops (observed − expected), are the structural
//! failure points.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::JourneyConfig;
use crate::stats::{holm, two_proportion_p};

/// Engagement of every account in the weekly snapshots, oldest first.
pub struct EngagementHistory<'a> {
    pub as_of: NaiveDate,
    pub dates: &'a [NaiveDate],
    /// `[date][account]`, NaN where missing.
    pub values: &'a [Vec<f64>],
    /// Tenure at the as-of date.
    pub tenure_days: &'a [Option<f64>],
    /// Stage index per `[date][account]`, when classified at that date.
    pub stages: &'a [Vec<Option<usize>>],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DropRate {
    /// Tenure month (`"7"`, `"36+"`) or stage key.
    pub group: String,
    pub observations: usize,
    pub drops: usize,
    pub rate: Option<f64>,
    pub p_value: Option<f64>,
    pub p_holm: Option<f64>,
    pub elevated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailurePoint {
    /// First and last tenure month of the range.
    pub from_month: u32,
    pub to_month: u32,
    pub drops: usize,
    pub observations: usize,
    pub rate: f64,
    /// Drops above what the overall rate predicts.
    pub excess_drops: f64,
    pub lift: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dropoff {
    pub metric: String,
    pub observations: usize,
    pub drops: usize,
    pub overall_rate: Option<f64>,
    pub by_tenure_month: Vec<DropRate>,
    pub by_stage: Vec<DropRate>,
    pub failure_points: Vec<FailurePoint>,
}

fn rates(
    groups: Vec<(String, usize, usize)>,
    total: (usize, usize),
    significance: f64,
) -> Vec<DropRate> {
    let (all_n, all_drops) = total;
    let overall = if all_n > 0 {
        all_drops as f64 / all_n as f64
    } else {
        0.0
    };
    let mut out: Vec<DropRate> = groups
        .into_iter()
        .map(|(group, n, drops)| DropRate {
            group,
            observations: n,
            drops,
            rate: (n > 0).then(|| drops as f64 / n as f64),
            p_value: two_proportion_p(
                drops as u64,
                n as u64,
                (all_drops - drops) as u64,
                (all_n - n) as u64,
            ),
            p_holm: None,
            elevated: false,
        })
        .collect();
    let tested: Vec<usize> = (0..out.len())
        .filter(|i| out[*i].p_value.is_some())
        .collect();
    let p: Vec<f64> = tested
        .iter()
        .map(|i| out[*i].p_value.unwrap_or(1.0))
        .collect();
    for (k, adjusted) in holm(&p).into_iter().enumerate() {
        let r = &mut out[tested[k]];
        r.p_holm = Some(adjusted);
        r.elevated = adjusted < significance && r.rate.is_some_and(|x| x > overall);
    }
    out
}

pub fn analyse(history: &EngagementHistory<'_>, config: &JourneyConfig) -> Dropoff {
    let settings = &config.dropoff;
    let max_month = settings.max_tenure_month as usize;
    let mut months = vec![(0usize, 0usize); max_month + 1];
    let mut stages = vec![(0usize, 0usize); config.stages.len()];
    let step = settings.step_weeks;
    let last = history.dates.len();
    if last > step {
        // Non-overlapping steps ending at the newest snapshot.
        let mut end = last - 1;
        while end >= step {
            let start = end - step;
            let offset = (history.as_of - history.dates[start]).num_days() as f64;
            for (account, tenure) in history.tenure_days.iter().enumerate() {
                let Some(tenure) = tenure.map(|t| t - offset).filter(|t| *t >= 0.0) else {
                    continue;
                };
                let before = history.values[start][account];
                let after = history.values[end][account];
                if !(before.is_finite() && after.is_finite()) || before < settings.min_level {
                    continue;
                }
                let dropped = after <= before * (1.0 - settings.drop_share);
                let month = ((tenure / 30.44) as usize).min(max_month);
                months[month].0 += 1;
                months[month].1 += usize::from(dropped);
                if let Some(stage) = history.stages.get(start).and_then(|s| s[account]) {
                    stages[stage].0 += 1;
                    stages[stage].1 += usize::from(dropped);
                }
            }
            if end < 2 * step {
                break;
            }
            end -= step;
        }
    }
    let total = months
        .iter()
        .fold((0, 0), |acc, (n, d)| (acc.0 + n, acc.1 + d));
    let stage_total = stages
        .iter()
        .fold((0, 0), |acc, (n, d)| (acc.0 + n, acc.1 + d));
    let significance = config.milestones.significance;
    let by_month = rates(
        months
            .iter()
            .enumerate()
            .map(|(m, (n, d))| {
                let label = if m == max_month {
                    format!("{m}+")
                } else {
                    m.to_string()
                };
                (label, *n, *d)
            })
            .collect(),
        total,
        significance,
    );
    let by_stage = rates(
        config
            .stages
            .iter()
            .zip(&stages)
            .map(|(s, (n, d))| (s.key.clone(), *n, *d))
            .collect(),
        stage_total,
        significance,
    );
    let overall = (total.0 > 0).then(|| total.1 as f64 / total.0 as f64);
    // Merge runs of elevated months into ranges.
    let mut points: Vec<FailurePoint> = Vec::new();
    let mut month = 0;
    while month < by_month.len() {
        if !by_month[month].elevated {
            month += 1;
            continue;
        }
        let from = month;
        let (mut n, mut d) = (0, 0);
        while month < by_month.len() && by_month[month].elevated {
            n += by_month[month].observations;
            d += by_month[month].drops;
            month += 1;
        }
        let rate = d as f64 / n as f64;
        let base = overall.unwrap_or(0.0);
        points.push(FailurePoint {
            from_month: from as u32,
            to_month: (month - 1) as u32,
            drops: d,
            observations: n,
            rate,
            excess_drops: d as f64 - base * n as f64,
            lift: if base > 0.0 { rate / base } else { 0.0 },
        });
    }
    points.sort_by(|a, b| b.excess_drops.total_cmp(&a.excess_drops));
    points.truncate(settings.failure_points);
    Dropoff {
        metric: settings.metric.clone(),
        observations: total.0,
        drops: total.1,
        overall_rate: overall,
        by_tenure_month: by_month,
        by_stage,
        failure_points: points,
    }
}
