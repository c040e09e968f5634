//! Churned against retained accounts (J4). Every renewal decided within the lookback is
//! one observation; its journey variables are read from the snapshot `lead_days` before
//! the renewal date (so the comparison is what a CSM could have seen then). For each
//! variable: both cohorts side by side, the difference with a 95% interval, a p-value
//! (Welch's t-test; Fisher's exact test for yes/no variables), an effect size (Cohen's
//! d; Cohen's h for yes/no) and Holm's correction over all variables. The strongest
//! significant ones are the separating variables.
//!
//! "When does churn become predictable": at each lead, a transparent score — the mean of
//! the separating variables' z-scores, signed so that higher means more churn-like —
//! and its AUC between churned and retained renewals. The earliest lead whose AUC
//! reaches `predictable_auc` is reported. The variables and their signs are chosen on
//! the same renewals (in-sample), so the AUCs are an upper bound; the churn model's
//! out-of-time evaluation (`coco model`) is the honest one.

use serde::{Deserialize, Serialize};

use super::JourneyConfig;
use crate::stats::{TwoByTwo, cohens_h, holm, mann_whitney, welch_t_test};

/// One decided renewal with its variables at a lead (aligned with the variable list).
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    pub churned: bool,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariableComparison {
    pub variable: String,
    /// Yes/no variable (every value 0 or 1): means are shares.
    pub binary: bool,
    pub churned_n: usize,
    pub retained_n: usize,
    pub churned_mean: Option<f64>,
    pub retained_mean: Option<f64>,
    pub churned_median: Option<f64>,
    pub retained_median: Option<f64>,
    /// Churned − retained, with its 95% interval.
    pub difference: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Cohen's d (continuous) or h (yes/no): positive = higher among churned.
    pub effect_size: Option<f64>,
    pub p_value: Option<f64>,
    pub p_holm: Option<f64>,
    pub significant: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeadAuc {
    pub lead_days: u32,
    pub renewals: usize,
    pub auc: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    pub lead_days: u32,
    pub churned: usize,
    pub retained: usize,
    pub variables: Vec<VariableComparison>,
    /// The separating variables: significant after correction, by |effect size|.
    pub top: Vec<String>,
    pub predictability: Vec<LeadAuc>,
    /// The longest lead at which the score's AUC reaches `predictable_auc`.
    pub earliest_predictable_days: Option<u32>,
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn compare_variable(name: &str, churned: &[f64], retained: &[f64]) -> VariableComparison {
    let binary = churned
        .iter()
        .chain(retained)
        .all(|v| *v == 0.0 || *v == 1.0);
    let median = |values: &[f64]| {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        super::quantile(&sorted, 0.5)
    };
    let mut out = VariableComparison {
        variable: name.to_string(),
        binary,
        churned_n: churned.len(),
        retained_n: retained.len(),
        churned_mean: mean(churned),
        retained_mean: mean(retained),
        churned_median: median(churned),
        retained_median: median(retained),
        difference: None,
        low: None,
        high: None,
        effect_size: None,
        p_value: None,
        p_holm: None,
        significant: false,
    };
    if binary {
        let yes = |v: &[f64]| v.iter().filter(|x| **x == 1.0).count() as u64;
        let table = TwoByTwo {
            a: yes(churned),
            b: churned.len() as u64 - yes(churned),
            c: yes(retained),
            d: retained.len() as u64 - yes(retained),
        };
        // Rows = churned / retained, columns = yes / no: the risk difference is the
        // difference of the shares saying yes.
        if let Some(rd) = table.risk_difference() {
            out.difference = Some(rd.value);
            out.low = Some(rd.low);
            out.high = Some(rd.high);
        }
        if let (Some(p1), Some(p2)) = (out.churned_mean, out.retained_mean) {
            out.effect_size = Some(cohens_h(p1, p2));
        }
        out.p_value = table.fisher_exact();
    } else if let Some(t) = welch_t_test(churned, retained, 0.95) {
        out.difference = Some(t.difference);
        out.low = Some(t.low);
        out.high = Some(t.high);
        out.effect_size = Some(t.cohens_d);
        out.p_value = Some(t.p);
    }
    out
}

/// The signed z-score composite of the chosen variables, and its AUC.
fn composite_auc(rows: &[CompareRow], columns: &[(usize, f64)]) -> Option<f64> {
    let stats: Vec<(f64, f64)> = columns
        .iter()
        .map(|(c, _)| {
            let values: Vec<f64> = rows.iter().filter_map(|r| r.values[*c]).collect();
            let m = mean(&values).unwrap_or(0.0);
            let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>()
                / (values.len().max(2) - 1) as f64;
            (m, var.sqrt())
        })
        .collect();
    let score = |row: &CompareRow| {
        let total: f64 = columns
            .iter()
            .zip(&stats)
            .map(|((c, sign), (m, sd))| match row.values[*c] {
                Some(v) if *sd > 0.0 => sign * (v - m) / sd,
                _ => 0.0,
            })
            .sum();
        total / columns.len().max(1) as f64
    };
    let churned: Vec<f64> = rows.iter().filter(|r| r.churned).map(score).collect();
    let retained: Vec<f64> = rows.iter().filter(|r| !r.churned).map(score).collect();
    let (u, _) = mann_whitney(&churned, &retained)?;
    Some(u / (churned.len() as f64 * retained.len() as f64))
}

/// `rows` at the configured lead; `by_lead` the same renewals at every configured lead.
pub fn compare(
    config: &JourneyConfig,
    variables: &[String],
    rows: &[CompareRow],
    by_lead: &[(u32, Vec<CompareRow>)],
) -> Comparison {
    let mut comparisons: Vec<VariableComparison> = variables
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let pick = |churned: bool| -> Vec<f64> {
                rows.iter()
                    .filter(|r| r.churned == churned)
                    .filter_map(|r| r.values[c])
                    .filter(|v| v.is_finite())
                    .collect()
            };
            compare_variable(name, &pick(true), &pick(false))
        })
        .collect();
    let tested: Vec<usize> = (0..comparisons.len())
        .filter(|i| comparisons[*i].p_value.is_some())
        .collect();
    let p: Vec<f64> = tested
        .iter()
        .map(|i| comparisons[*i].p_value.unwrap_or(1.0))
        .collect();
    for (k, adjusted) in holm(&p).into_iter().enumerate() {
        let v = &mut comparisons[tested[k]];
        v.p_holm = Some(adjusted);
        v.significant = adjusted < config.milestones.significance;
    }
    let mut ranked: Vec<usize> = (0..comparisons.len())
        .filter(|i| comparisons[*i].significant && comparisons[*i].effect_size.is_some())
        .collect();
    ranked.sort_by(|a, b| {
        let e = |i: &usize| comparisons[*i].effect_size.unwrap_or(0.0).abs();
        e(b).total_cmp(&e(a)).then(a.cmp(b))
    });
    ranked.truncate(config.compare.top);
    let columns: Vec<(usize, f64)> = ranked
        .iter()
        .map(|i| (*i, comparisons[*i].effect_size.unwrap_or(0.0).signum()))
        .collect();
    let predictability: Vec<LeadAuc> = by_lead
        .iter()
        .map(|(lead, rows)| LeadAuc {
            lead_days: *lead,
            renewals: rows.len(),
            auc: if columns.is_empty() {
                None
            } else {
                composite_auc(rows, &columns)
            },
        })
        .collect();
    let earliest = predictability
        .iter()
        .filter(|l| l.auc.is_some_and(|a| a >= config.compare.predictable_auc))
        .map(|l| l.lead_days)
        .max();
    Comparison {
        lead_days: config.compare.lead_days,
        churned: rows.iter().filter(|r| r.churned).count(),
        retained: rows.iter().filter(|r| !r.churned).count(),
        top: ranked
            .iter()
            .map(|i| comparisons[*i].variable.clone())
            .collect(),
        variables: comparisons,
        predictability,
        earliest_predictable_days: earliest,
    }
}
