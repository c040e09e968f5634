//! CSM workload and territory balance (catalogue S4): effort per account from its
//! coverage, stage, complexity and open work (documented in `config/workload.toml`),
//! effort-weighted books against capacity, a rebalancing proposal ([`rebalance`]) and
//! capacity planning. Pure: the engine hands in the snapshot, each account's stage and
//! complexity, and the CSM team.

pub mod config;
pub mod rebalance;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use config::WorkloadConfig;

use crate::values::Values;

/// A CSM of the team (the `csms` file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsmInfo {
    pub csm_id: String,
    pub name: String,
    pub team: Option<String>,
    pub region: Option<String>,
    pub skills: Vec<String>,
    pub active: bool,
    pub capacity_accounts: Option<i64>,
}

/// One account's monthly CSM effort and what makes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountEffort {
    pub account_id: String,
    pub account_name: String,
    pub owner_csm_id: Option<String>,
    pub segment: Option<String>,
    pub region: Option<String>,
    pub coverage_model: Option<String>,
    pub stage: Option<String>,
    pub arr: Option<f64>,
    pub base_hours: f64,
    pub stage_multiplier: f64,
    /// 0–1: the segmentation model's complexity factor ÷ 100.
    pub complexity: f64,
    /// Hours of open work items, by label.
    pub items: Vec<(String, f64)>,
    pub hours: f64,
}

/// Effort of every account, in frame order. `stages` and `complexity` are aligned with
/// the frame (complexity 0–100, `None` = unknown).
pub fn efforts(
    config: &WorkloadConfig,
    values: &Values<'_>,
    names: &[String],
    stages: &[Option<String>],
    complexity: &[Option<f64>],
) -> Vec<AccountEffort> {
    let items: Vec<_> = config
        .effort
        .items
        .iter()
        .map(|i| (i, values.resolve(&i.source)))
        .collect();
    (0..values.frame.account_count())
        .map(|account| {
            let coverage = values.text("coverage_model", account);
            let base = coverage
                .and_then(|c| config.effort.base_hours.get(c).copied())
                .unwrap_or(config.effort.default_base_hours);
            let stage = stages.get(account).cloned().flatten();
            let multiplier = stage
                .as_deref()
                .and_then(|s| config.effort.stage_multiplier.get(s).copied())
                .unwrap_or(1.0);
            let complexity = complexity
                .get(account)
                .copied()
                .flatten()
                .map_or(0.0, |c| (c / 100.0).clamp(0.0, 1.0));
            let mut hours =
                base * multiplier * (1.0 + config.effort.complexity_weight * complexity);
            let mut item_hours = Vec::new();
            for (item, resolved) in &items {
                let Some(value) = values.get(*resolved, account) else {
                    continue;
                };
                let h = if item.at_least.is_some() || item.at_most.is_some() {
                    let within = item.at_least.is_none_or(|m| value >= m)
                        && item.at_most.is_none_or(|m| value <= m);
                    if within { item.hours } else { 0.0 }
                } else {
                    let units = item.cap.map_or(value, |cap| value.min(cap)).max(0.0);
                    units * item.hours
                };
                if h > 0.0 {
                    hours += h;
                    item_hours.push((item.label.clone(), h));
                }
            }
            let row = &values.frame.accounts[account];
            AccountEffort {
                account_id: row.account_id.clone(),
                account_name: names.get(account).cloned().unwrap_or_default(),
                owner_csm_id: values.text("owner_csm_id", account).map(str::to_string),
                segment: values.text("segment", account).map(str::to_string),
                region: values.text("region", account).map(str::to_string),
                coverage_model: coverage.map(str::to_string),
                stage,
                arr: values.value("arr", account),
                base_hours: base,
                stage_multiplier: multiplier,
                complexity,
                items: item_hours,
                hours: (hours * 100.0).round() / 100.0,
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LoadStatus {
    Overloaded,
    Balanced,
    Underloaded,
    /// Left the team: their book should be reassigned.
    Inactive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsmLoad {
    pub csm_id: String,
    pub name: String,
    pub team: Option<String>,
    pub region: Option<String>,
    pub active: bool,
    pub accounts: usize,
    pub arr: f64,
    pub effort_hours: f64,
    pub capacity_hours: f64,
    /// Effort ÷ capacity (1 = fully booked).
    pub load: f64,
    /// Accounts ÷ `capacity_accounts` from the file: the count view, for contrast.
    pub count_load: Option<f64>,
    pub status: LoadStatus,
    /// Hours by coverage model.
    pub hours_by_coverage: BTreeMap<String, f64>,
    /// Accounts in renewal or onboarding stage, and with open escalations.
    pub renewals: usize,
    pub onboarding: usize,
}

/// How unequal the active CSMs' loads are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Spread {
    pub csms: usize,
    pub mean_load: f64,
    pub std_dev: f64,
    pub min_load: f64,
    pub max_load: f64,
    /// max − min.
    pub range: f64,
    pub overloaded: usize,
    /// Σ load²: what the rebalancing minimises (with the mean fixed, the same as the
    /// variance).
    pub sum_of_squares: f64,
}

pub fn spread(loads: &[f64], overloaded_at: f64) -> Spread {
    let n = loads.len();
    if n == 0 {
        return Spread {
            csms: 0,
            mean_load: 0.0,
            std_dev: 0.0,
            min_load: 0.0,
            max_load: 0.0,
            range: 0.0,
            overloaded: 0,
            sum_of_squares: 0.0,
        };
    }
    let mean = loads.iter().sum::<f64>() / n as f64;
    let var = loads.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n as f64;
    let min = loads.iter().copied().fold(f64::INFINITY, f64::min);
    let max = loads.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Spread {
        csms: n,
        mean_load: mean,
        std_dev: var.sqrt(),
        min_load: min,
        max_load: max,
        range: max - min,
        overloaded: loads.iter().filter(|l| **l > overloaded_at).count(),
        sum_of_squares: loads.iter().map(|l| l * l).sum(),
    }
}

/// Each CSM's book: the efforts of the accounts they own.
pub fn loads(
    config: &WorkloadConfig,
    csms: &[CsmInfo],
    efforts: &[AccountEffort],
    owner_of: &dyn Fn(usize) -> Option<usize>,
) -> Vec<CsmLoad> {
    let capacity = config.capacity.hours_per_month;
    let mut out: Vec<CsmLoad> = csms
        .iter()
        .map(|c| CsmLoad {
            csm_id: c.csm_id.clone(),
            name: c.name.clone(),
            team: c.team.clone(),
            region: c.region.clone(),
            active: c.active,
            accounts: 0,
            arr: 0.0,
            effort_hours: 0.0,
            capacity_hours: if c.active { capacity } else { 0.0 },
            load: 0.0,
            count_load: None,
            status: LoadStatus::Balanced,
            hours_by_coverage: BTreeMap::new(),
            renewals: 0,
            onboarding: 0,
        })
        .collect();
    for (account, effort) in efforts.iter().enumerate() {
        let Some(csm) = owner_of(account) else {
            continue;
        };
        let load = &mut out[csm];
        load.accounts += 1;
        load.arr += effort.arr.unwrap_or(0.0);
        load.effort_hours += effort.hours;
        *load
            .hours_by_coverage
            .entry(
                effort
                    .coverage_model
                    .clone()
                    .unwrap_or_else(|| "none".into()),
            )
            .or_default() += effort.hours;
        load.renewals += usize::from(effort.stage.as_deref() == Some("renewal"));
        load.onboarding += usize::from(effort.stage.as_deref() == Some("onboarding"));
    }
    for (load, csm) in out.iter_mut().zip(csms) {
        load.effort_hours = (load.effort_hours * 10.0).round() / 10.0;
        load.load = if load.capacity_hours > 0.0 {
            load.effort_hours / load.capacity_hours
        } else {
            0.0
        };
        load.count_load = csm
            .capacity_accounts
            .filter(|c| *c > 0)
            .map(|c| load.accounts as f64 / c as f64);
        load.status = if !csm.active {
            LoadStatus::Inactive
        } else if load.load > config.capacity.overloaded {
            LoadStatus::Overloaded
        } else if load.load < config.capacity.underloaded {
            LoadStatus::Underloaded
        } else {
            LoadStatus::Balanced
        };
    }
    out
}

/// "Hires needed at current growth".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CapacityPlan {
    pub active_csms: usize,
    pub total_effort_hours: f64,
    pub team_capacity_hours: f64,
    pub team_load: f64,
    /// CSMs the book needs now at the target load.
    pub csms_needed_now: f64,
    pub new_accounts_per_month: f64,
    pub churned_accounts_per_month: f64,
    /// Mean effort of accounts in their first year (new accounts onboard first).
    pub effort_per_new_account: f64,
    pub mean_effort_per_account: f64,
    pub horizon_months: u32,
    pub projected_effort_hours: f64,
    pub csms_needed_at_horizon: f64,
    pub hires_needed: u32,
    pub assumption: String,
}

/// `new_accounts` and `churned_accounts` over the growth window; `young_effort` the mean
/// effort of accounts in their first year (when any).
pub fn capacity_plan(
    config: &WorkloadConfig,
    active_csms: usize,
    efforts: &[AccountEffort],
    new_accounts: usize,
    churned_accounts: usize,
    young_effort: Option<f64>,
) -> CapacityPlan {
    let total: f64 = efforts.iter().map(|e| e.hours).sum();
    let mean = if efforts.is_empty() {
        0.0
    } else {
        total / efforts.len() as f64
    };
    let months = f64::from(config.planning.growth_window_days) / 30.44;
    let new_per_month = new_accounts as f64 / months;
    let churn_per_month = churned_accounts as f64 / months;
    let new_effort = young_effort.unwrap_or(mean);
    let horizon = f64::from(config.planning.horizon_months);
    // New accounts arrive at their first-year effort; churned ones leave at the mean.
    let projected =
        (total + horizon * (new_per_month * new_effort - churn_per_month * mean)).max(0.0);
    let per_csm = config.capacity.hours_per_month * config.planning.target_load;
    let needed_now = total / per_csm;
    let needed_later = projected / per_csm;
    let capacity = active_csms as f64 * config.capacity.hours_per_month;
    CapacityPlan {
        active_csms,
        total_effort_hours: total,
        team_capacity_hours: capacity,
        team_load: if capacity > 0.0 {
            total / capacity
        } else {
            0.0
        },
        csms_needed_now: needed_now,
        new_accounts_per_month: new_per_month,
        churned_accounts_per_month: churn_per_month,
        effort_per_new_account: new_effort,
        mean_effort_per_account: mean,
        horizon_months: config.planning.horizon_months,
        projected_effort_hours: projected,
        csms_needed_at_horizon: needed_later,
        hires_needed: (needed_later - active_csms as f64).ceil().max(0.0) as u32,
        assumption: format!(
            "{new_per_month:.1} new and {churn_per_month:.1} churned accounts a month as over the last {} days; new accounts at {new_effort:.1} h/month (first-year mean), churned at {mean:.1}; CSMs at {:.0}% of {:.0} h",
            config.planning.growth_window_days,
            100.0 * config.planning.target_load,
            config.capacity.hours_per_month
        ),
    }
}
