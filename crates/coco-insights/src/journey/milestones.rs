//! Milestone analytics (J3): completion by milestone × cohort, milestones systematically
//! skipped, how long completion takes, and which missed milestones predict churn.
//!
//! "Missed" is judged at the renewal that follows: not completed within `grace_days` of
//! its due date. For each milestone, accounts whose first decided renewal after the
//! deadline is known are split into missed and completed; their churn rates give a risk
//! ratio with a 95% interval, Fisher's exact test gives the p-value, and Holm's method
//! corrects for testing every milestone at once (Benjamini–Hochberg q-values are shown
//! beside it). Point in time: only completions and decisions known at the as-of date count.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{JourneyConfig, MilestoneRecord, RenewalRecord, first_renewal_after, quantile};
use crate::stats::{Estimate, TwoByTwo, benjamini_hochberg, holm};

/// Completion of one milestone in one cohort, among accounts whose deadline has passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeatCell {
    pub milestone: String,
    pub cohort: String,
    pub due: usize,
    pub completed: usize,
    pub rate: Option<f64>,
}

/// One milestone over the book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MilestoneSummary {
    pub milestone: String,
    pub name: Option<String>,
    pub stage: Option<String>,
    /// Accounts whose deadline (due + grace) has passed.
    pub due: usize,
    pub completed_on_time: usize,
    pub completed_late: usize,
    pub not_completed: usize,
    /// Marked skipped or blocked in the file (today's status).
    pub skipped_or_blocked: usize,
    pub completion_rate: Option<f64>,
    pub systematically_skipped: bool,
    /// Days from the account's start to completion: p25, median, p75, p90.
    pub days_to_complete: Option<[f64; 4]>,
    /// Days late (completion − due; negative = early): median.
    pub median_days_late: Option<f64>,
}

/// Whether missing one milestone goes with churn at the next renewal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChurnLink {
    pub milestone: String,
    pub missed: usize,
    pub missed_churned: usize,
    pub completed: usize,
    pub completed_churned: usize,
    pub churn_rate_missed: Option<f64>,
    pub churn_rate_completed: Option<f64>,
    pub risk_ratio: Option<Estimate>,
    pub risk_difference: Option<Estimate>,
    pub p_value: Option<f64>,
    /// Holm-adjusted (family-wise) p-value over every milestone tested.
    pub p_holm: Option<f64>,
    /// Benjamini–Hochberg q-value.
    pub q_value: Option<f64>,
    /// Significant after Holm's correction and churn is higher when missed.
    pub predicts_churn: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MilestoneAnalytics {
    pub as_of: NaiveDate,
    pub cohort_by: String,
    pub cohorts: Vec<String>,
    pub milestones: Vec<MilestoneSummary>,
    pub heatmap: Vec<HeatCell>,
    /// Milestones by strength of their churn link (predictive first, then by risk ratio).
    pub churn_links: Vec<ChurnLink>,
}

/// What the analysis reads, aligned with the frame's accounts.
pub struct MilestoneInputs<'a> {
    pub as_of: NaiveDate,
    pub milestones: &'a [Vec<MilestoneRecord>],
    /// The cohort label of each account (start quarter, segment, …).
    pub cohorts: &'a [Option<String>],
    pub starts: &'a [Option<NaiveDate>],
    /// Sorted by (account, renewal date).
    pub renewals: &'a [RenewalRecord],
}

/// `2025-Q3` for a start date.
pub fn start_quarter(date: NaiveDate) -> String {
    format!("{}-Q{}", date.year(), date.month0() / 3 + 1)
}

#[derive(Default)]
struct Tally {
    name: Option<String>,
    stage: Option<String>,
    due: usize,
    on_time: usize,
    late: usize,
    skipped: usize,
    days_to_complete: Vec<f64>,
    days_late: Vec<f64>,
    by_cohort: BTreeMap<String, (usize, usize)>,
    table: TwoByTwo,
}

pub fn analyse(inputs: &MilestoneInputs<'_>, config: &JourneyConfig) -> MilestoneAnalytics {
    let grace = config.milestones.grace_days;
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for (account, rows) in inputs.milestones.iter().enumerate() {
        let cohort = inputs.cohorts.get(account).cloned().flatten();
        for m in rows {
            let Some(due) = m.due else { continue };
            let Some(missed) = m.missed_at(inputs.as_of, grace) else {
                continue;
            };
            let tally = tallies.entry(m.key.clone()).or_default();
            tally.name = tally.name.take().or_else(|| m.name.clone());
            tally.stage = tally.stage.take().or_else(|| m.stage.clone());
            tally.due += 1;
            if let Some(done) = m.completed.filter(|c| *c <= inputs.as_of) {
                if missed {
                    tally.late += 1;
                } else {
                    tally.on_time += 1;
                }
                tally.days_late.push((done - due).num_days() as f64);
                if let Some(start) = inputs.starts.get(account).copied().flatten() {
                    tally
                        .days_to_complete
                        .push((done - start).num_days() as f64);
                }
            } else if matches!(m.status.as_deref(), Some("skipped" | "blocked")) {
                tally.skipped += 1;
            }
            if let Some(cohort) = &cohort {
                let cell = tally.by_cohort.entry(cohort.clone()).or_default();
                cell.0 += 1;
                cell.1 += usize::from(m.done_by(inputs.as_of));
            }
            // The churn link: the first renewal decided after the deadline.
            let deadline = due + Days::new(u64::from(grace));
            if let Some(renewal) = first_renewal_after(inputs.renewals, account, deadline)
                .filter(|r| r.decided_on <= inputs.as_of)
            {
                let t = &mut tally.table;
                match (missed, renewal.churned) {
                    (true, true) => t.a += 1,
                    (true, false) => t.b += 1,
                    (false, true) => t.c += 1,
                    (false, false) => t.d += 1,
                }
            }
        }
    }
    let mut cohorts: Vec<String> = tallies
        .values()
        .flat_map(|t| t.by_cohort.keys().cloned())
        .collect();
    cohorts.sort();
    cohorts.dedup();
    let min_group = config.milestones.min_group as u64;
    let mut links: Vec<ChurnLink> = tallies
        .iter()
        .map(|(key, t)| {
            let tb = &t.table;
            let (missed, completed) = (tb.a + tb.b, tb.c + tb.d);
            let testable = missed >= min_group && completed >= min_group;
            ChurnLink {
                milestone: key.clone(),
                missed: missed as usize,
                missed_churned: tb.a as usize,
                completed: completed as usize,
                completed_churned: tb.c as usize,
                churn_rate_missed: (missed > 0).then(|| tb.a as f64 / missed as f64),
                churn_rate_completed: (completed > 0).then(|| tb.c as f64 / completed as f64),
                risk_ratio: testable.then(|| tb.risk_ratio()).flatten(),
                risk_difference: testable.then(|| tb.risk_difference()).flatten(),
                p_value: testable.then(|| tb.fisher_exact()).flatten(),
                p_holm: None,
                q_value: None,
                predicts_churn: false,
            }
        })
        .collect();
    let tested: Vec<usize> = (0..links.len())
        .filter(|i| links[*i].p_value.is_some())
        .collect();
    let p: Vec<f64> = tested
        .iter()
        .map(|i| links[*i].p_value.unwrap_or(1.0))
        .collect();
    let (adjusted, q) = (holm(&p), benjamini_hochberg(&p));
    for (k, i) in tested.iter().enumerate() {
        let link = &mut links[*i];
        link.p_holm = Some(adjusted[k]);
        link.q_value = Some(q[k]);
        link.predicts_churn = adjusted[k] < config.milestones.significance
            && link.risk_ratio.is_some_and(|rr| rr.value > 1.0);
    }
    links.sort_by(|a, b| {
        b.predicts_churn
            .cmp(&a.predicts_churn)
            .then_with(|| {
                let rr = |l: &ChurnLink| l.risk_ratio.map_or(0.0, |r| r.value);
                rr(b).total_cmp(&rr(a))
            })
            .then_with(|| a.milestone.cmp(&b.milestone))
    });
    let mut heatmap = Vec::new();
    let milestones = tallies
        .into_iter()
        .map(|(key, mut t)| {
            for cohort in &cohorts {
                let (due, completed) = t.by_cohort.get(cohort).copied().unwrap_or_default();
                heatmap.push(HeatCell {
                    milestone: key.clone(),
                    cohort: cohort.clone(),
                    due,
                    completed,
                    rate: (due > 0).then(|| completed as f64 / due as f64),
                });
            }
            t.days_to_complete.sort_by(f64::total_cmp);
            t.days_late.sort_by(f64::total_cmp);
            let q = |q: f64| quantile(&t.days_to_complete, q).unwrap_or(f64::NAN);
            let completion_rate = (t.due > 0).then(|| (t.on_time + t.late) as f64 / t.due as f64);
            MilestoneSummary {
                milestone: key,
                name: t.name,
                stage: t.stage,
                due: t.due,
                completed_on_time: t.on_time,
                completed_late: t.late,
                not_completed: t.due - t.on_time - t.late,
                skipped_or_blocked: t.skipped,
                systematically_skipped: completion_rate
                    .is_some_and(|r| r < config.milestones.skipped_below),
                completion_rate,
                days_to_complete: (!t.days_to_complete.is_empty())
                    .then(|| [q(0.25), q(0.5), q(0.75), q(0.9)]),
                median_days_late: quantile(&t.days_late, 0.5),
            }
        })
        .collect();
    MilestoneAnalytics {
        as_of: inputs.as_of,
        cohort_by: config.milestones.cohort_by.clone(),
        cohorts,
        milestones,
        heatmap,
        churn_links: links,
    }
}
