//! Segmentation and coverage (catalogue S1–S3): a weighted multi-factor score per
//! account, the tier it recommends with the factors behind it, accounts whose coverage
//! differs from it, and the candidates to move between tiers. Pure: the engine hands in
//! the snapshot and the values it computed beside it.
//!
//! - `config`: `config/segments.toml`.
//! - [`misalignment`]: current coverage against the recommended tier (S2).
//! - [`migration`]: upgrade and downgrade candidates, transition risk, exceptions (S3).

pub mod config;
pub mod migration;
pub mod misalignment;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use config::{SegmentsConfig, TierDef};

use crate::frame::SnapshotFrame;
use crate::values::{Resolved, SideValues, Values, percentiles, ramp};

/// What the tiering reads, aligned with `frame.accounts`.
pub struct SegmentInputs<'a> {
    pub frame: &'a SnapshotFrame,
    pub names: &'a [String],
    /// `health_score`, `churn_probability`, `expansion_potential`, `products_held`.
    pub side: &'a SideValues,
    /// Milestones completed on or before the as-of date.
    pub milestones: &'a [Vec<String>],
    /// Custom attributes of the accounts file whose value is truthy.
    pub custom_flags: &'a [Vec<String>],
    pub renewal_dates: &'a [Option<NaiveDate>],
}

/// One input of a factor for one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InputScore {
    pub source: String,
    pub value: Option<f64>,
    /// 0–100 (the percentile, or the position on the configured line).
    pub score: Option<f64>,
}

/// One factor for one account: its score and what made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactorScore {
    pub key: String,
    pub label: String,
    /// The configured weight, normalised over the factors with data (0 without data).
    pub weight: f64,
    pub score: Option<f64>,
    /// `weight × score`: the factor's points of the segment score.
    pub points: f64,
    pub inputs: Vec<InputScore>,
    /// Strategic flags that hold.
    pub flags: Vec<String>,
    /// The proxy inputs stood in (e.g. no expansion analysis).
    pub proxy: bool,
}

/// An account's segment score and recommended tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    pub account_id: String,
    pub account_name: String,
    pub segment: Option<String>,
    pub owner_csm_id: Option<String>,
    pub arr: Option<f64>,
    pub current_coverage: Option<String>,
    pub score: f64,
    pub tier: String,
    pub tier_label: String,
    pub recommended_coverage: String,
    pub renewal_date: Option<NaiveDate>,
    pub factors: Vec<FactorScore>,
}

impl Assignment {
    /// Factors by score, lowest first: what keeps the account out of a higher tier.
    pub fn weakest_factors(&self, n: usize) -> Vec<&FactorScore> {
        let mut factors: Vec<&FactorScore> = self
            .factors
            .iter()
            .filter(|f| f.score.is_some() && f.weight > 0.0)
            .collect();
        factors.sort_by(|a, b| {
            a.score
                .unwrap_or(0.0)
                .total_cmp(&b.score.unwrap_or(0.0))
                .then(a.key.cmp(&b.key))
        });
        factors.truncate(n);
        factors
    }

    /// Factors by points, highest first: what put the account in its tier.
    pub fn top_factors(&self, n: usize) -> Vec<&FactorScore> {
        let mut factors: Vec<&FactorScore> =
            self.factors.iter().filter(|f| f.score.is_some()).collect();
        factors.sort_by(|a, b| b.points.total_cmp(&a.points).then(a.key.cmp(&b.key)));
        factors.truncate(n);
        factors
    }
}

/// Every account's tier, in frame order.
pub fn apply(inputs: &SegmentInputs<'_>, config: &SegmentsConfig) -> Vec<Assignment> {
    let values = Values::new(inputs.frame, inputs.side);
    // Per factor and input: each account's 0–100 score, computed over the book at once
    // (percentiles need every value).
    let scored: Vec<FactorColumns> = config
        .factors
        .iter()
        .map(|factor| FactorColumns {
            inputs: factor
                .inputs
                .iter()
                .map(|i| input_column(&values, i))
                .collect(),
            proxy: factor
                .proxy
                .iter()
                .map(|i| input_column(&values, i))
                .collect(),
        })
        .collect();
    (0..inputs.frame.account_count())
        .map(|account| assign(inputs, config, &values, &scored, account))
        .collect()
}

/// Values and scores of one input over the book.
struct InputColumn {
    values: Vec<Option<f64>>,
    scores: Vec<Option<f64>>,
}

struct FactorColumns {
    inputs: Vec<InputColumn>,
    proxy: Vec<InputColumn>,
}

fn input_column(values: &Values<'_>, input: &config::InputDef) -> InputColumn {
    let resolved: Resolved<'_> = values.resolve(&input.source);
    let column: Vec<Option<f64>> = (0..values.frame.account_count())
        .map(|a| values.get(resolved, a))
        .collect();
    let scores = if input.percentile {
        percentiles(&column)
    } else {
        let (zero, full) = (input.zero.unwrap_or(0.0), input.full.unwrap_or(1.0));
        column
            .iter()
            .map(|v| v.map(|v| ramp(v, zero, full)))
            .collect()
    };
    InputColumn {
        values: column,
        scores,
    }
}

/// Weighted mean of the inputs with a score.
fn combine(
    defs: &[config::InputDef],
    columns: &[InputColumn],
    account: usize,
) -> (Option<f64>, Vec<InputScore>) {
    let mut total = 0.0;
    let mut weight = 0.0;
    let inputs = defs
        .iter()
        .zip(columns)
        .map(|(def, column)| {
            let score = column.scores[account];
            if let Some(score) = score {
                total += def.weight * score;
                weight += def.weight;
            }
            InputScore {
                source: def.source.clone(),
                value: column.values[account],
                score,
            }
        })
        .collect();
    ((weight > 0.0).then(|| total / weight), inputs)
}

fn flag_holds(inputs: &SegmentInputs<'_>, flag: &config::FlagDef, account: usize) -> bool {
    if let Some(milestone) = &flag.milestone {
        return inputs.milestones[account].iter().any(|m| m == milestone);
    }
    if let Some(custom) = &flag.custom {
        return inputs.custom_flags[account].iter().any(|c| c == custom);
    }
    if let Some(attribute) = &flag.attribute {
        return inputs.frame.accounts[account]
            .attributes
            .get(attribute)
            .and_then(|v| v.as_text())
            .is_some_and(|v| flag.any_of.iter().any(|a| a == v));
    }
    false
}

fn assign(
    inputs: &SegmentInputs<'_>,
    config: &SegmentsConfig,
    values: &Values<'_>,
    scored: &[FactorColumns],
    account: usize,
) -> Assignment {
    let mut factors: Vec<FactorScore> = config
        .factors
        .iter()
        .zip(scored)
        .map(|(def, columns)| {
            let (mut score, mut input_scores) = combine(&def.inputs, &columns.inputs, account);
            let mut proxy = false;
            if score.is_none() && !def.proxy.is_empty() {
                let (proxy_score, proxy_inputs) = combine(&def.proxy, &columns.proxy, account);
                if proxy_score.is_some() {
                    score = proxy_score;
                    input_scores = proxy_inputs;
                    proxy = true;
                }
            }
            let mut flags = Vec::new();
            if !def.flags.is_empty() {
                let total: f64 = def.flags.iter().map(|f| f.weight).sum();
                let held: f64 = def
                    .flags
                    .iter()
                    .filter(|f| flag_holds(inputs, f, account))
                    .inspect(|f| flags.push(f.label.clone()))
                    .map(|f| f.weight)
                    .sum::<f64>()
                    + 0.0;
                let flag_score = 100.0 * held / total;
                // Flags combine with inputs (when both are configured) as one more input.
                score = Some(match score {
                    Some(s) => (s + flag_score) / 2.0,
                    None => flag_score,
                });
            }
            FactorScore {
                key: def.key.clone(),
                label: def.label.clone(),
                weight: def.weight,
                score,
                points: 0.0,
                inputs: input_scores,
                flags,
                proxy,
            }
        })
        .collect();
    let weight: f64 = factors
        .iter()
        .filter(|f| f.score.is_some())
        .map(|f| f.weight)
        .sum();
    let mut score = 0.0;
    for factor in &mut factors {
        match factor.score {
            Some(s) if weight > 0.0 => {
                factor.weight /= weight;
                factor.points = factor.weight * s;
                score += factor.points;
            }
            _ => factor.weight = 0.0,
        }
    }
    let arr = values.value("arr", account);
    let tier = config
        .tiers
        .iter()
        .find(|t| score >= t.min_score && t.min_arr.is_none_or(|min| arr.unwrap_or(0.0) >= min))
        .or(config.tiers.last())
        .cloned()
        .unwrap_or_else(|| TierDef {
            key: "unassigned".into(),
            label: "Unassigned".into(),
            min_score: 0.0,
            min_arr: None,
            coverage: "pooled".into(),
            accounts_per_csm: 1.0,
            definition: String::new(),
            coverage_plan: String::new(),
        });
    let row = &inputs.frame.accounts[account];
    Assignment {
        account_id: row.account_id.clone(),
        account_name: inputs
            .names
            .get(account)
            .cloned()
            .unwrap_or_else(|| row.account_id.clone()),
        segment: values.text("segment", account).map(str::to_string),
        owner_csm_id: values.text("owner_csm_id", account).map(str::to_string),
        arr,
        current_coverage: values.text("coverage_model", account).map(str::to_string),
        score: (score * 10.0).round() / 10.0,
        tier: tier.key,
        tier_label: tier.label,
        recommended_coverage: tier.coverage,
        renewal_date: inputs.renewal_dates.get(account).copied().flatten(),
        factors,
    }
}

/// Counts and ARR per tier: the design's distribution over the book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TierSummary {
    pub tier: String,
    pub label: String,
    pub coverage: String,
    pub accounts: usize,
    pub arr: f64,
    pub share_of_accounts: f64,
    pub share_of_arr: f64,
    /// Full-time CSMs this tier needs at its `accounts_per_csm`.
    pub csms_needed: f64,
}

pub fn summarise(assignments: &[Assignment], config: &SegmentsConfig) -> Vec<TierSummary> {
    let total_arr: f64 = assignments.iter().filter_map(|a| a.arr).sum();
    let n = assignments.len().max(1) as f64;
    config
        .tiers
        .iter()
        .map(|tier| {
            let members: Vec<&Assignment> =
                assignments.iter().filter(|a| a.tier == tier.key).collect();
            // `+ 0.0`: an empty float sum is -0.0, which would print as "-0%".
            let arr: f64 = members.iter().filter_map(|a| a.arr).sum::<f64>() + 0.0;
            TierSummary {
                tier: tier.key.clone(),
                label: tier.label.clone(),
                coverage: tier.coverage.clone(),
                accounts: members.len(),
                arr,
                share_of_accounts: members.len() as f64 / n,
                share_of_arr: if total_arr > 0.0 {
                    arr / total_arr
                } else {
                    0.0
                },
                csms_needed: members.len() as f64 / tier.accounts_per_csm,
            }
        })
        .collect()
}
