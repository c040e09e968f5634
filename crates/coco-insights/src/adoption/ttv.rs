//! Time to value (V6): when each account reached its value milestones, days from its
//! start to first value, and for accounts still onboarding a predicted time to first
//! value from the accounts that went before them — and which need acceleration.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::config::ValueMilestone;
use super::{AdoptionConfig, AdoptionInputs};
use crate::frame::MetricHistory;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MilestoneReached {
    pub name: String,
    pub reached_on: Option<NaiveDate>,
    /// Days from the account's start.
    pub days: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeToValue {
    pub account_id: String,
    pub account_name: String,
    pub segment: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub tenure_days: Option<i64>,
    pub milestones: Vec<MilestoneReached>,
    pub first_value_days: Option<i64>,
    /// The account started before the usage history begins: its first use is unknown.
    pub started_before_data: bool,
    pub onboarding: bool,
    /// Predicted days to first value for onboarding accounts that have not reached it.
    pub predicted_days: Option<f64>,
    pub needs_acceleration: bool,
    pub reason: String,
}

fn reached(
    milestone: &ValueMilestone,
    inputs: &AdoptionInputs<'_>,
    history: &MetricHistory,
    account: usize,
) -> Option<NaiveDate> {
    match milestone.kind.as_str() {
        "first_use" => inputs
            .usage
            .of(account)
            .iter()
            .filter(|u| {
                milestone
                    .features
                    .contains(&inputs.usage.features[u.feature].key)
            })
            .filter_map(|u| u.first_used)
            .min(),
        "active_users" => {
            let threshold = milestone.at_least.unwrap_or(1.0);
            let mut series = history.series("active_users_30d", account);
            if let Some(now) = inputs.metric(account, "active_users_30d") {
                series.push((inputs.frame.as_of, now));
            }
            series
                .into_iter()
                .find(|(_, users)| *users >= threshold)
                .map(|(date, _)| date)
        }
        "milestone" => inputs.milestones.get(account).and_then(|list| {
            list.iter()
                .filter(|m| Some(&m.key) == milestone.key.as_ref())
                .filter_map(|m| m.completed)
                .min()
        }),
        _ => None,
    }
}

/// Time to value of every account. `data_start` is the first day of usage history.
pub fn time_to_value(
    inputs: &AdoptionInputs<'_>,
    config: &AdoptionConfig,
    history: &MetricHistory,
    data_start: Option<NaiveDate>,
) -> Vec<TimeToValue> {
    let ttv = &config.ttv;
    let as_of = inputs.frame.as_of;
    let mut rows: Vec<TimeToValue> = (0..inputs.frame.account_count())
        .map(|account| {
            let tenure = inputs.frame.accounts[account]
                .attributes
                .get("tenure_days")
                .and_then(|v| v.as_number())
                .map(|d| d as i64);
            let started_on =
                tenure.and_then(|d| as_of.checked_sub_days(Days::new(d.max(0) as u64)));
            // First use before the history began would be invisible: such accounts get
            // no time to value rather than a wrong one. A week of slack for exports.
            let started_before_data = match (started_on, data_start) {
                (Some(start), Some(data)) => start < data + Days::new(7),
                _ => false,
            };
            let milestones: Vec<MilestoneReached> = ttv
                .milestones
                .iter()
                .map(|m| {
                    let on = reached(m, inputs, history, account);
                    MilestoneReached {
                        name: m.name.clone(),
                        reached_on: on,
                        days: on.zip(started_on).map(|(d, s)| (d - s).num_days().max(0)),
                    }
                })
                .collect();
            let first_value_days = if started_before_data {
                None
            } else {
                milestones
                    .iter()
                    .find(|m| m.name == ttv.first_value)
                    .and_then(|m| m.days)
            };
            let onboarding = tenure.is_some_and(|t| t <= i64::from(ttv.onboarding_days));
            TimeToValue {
                account_id: inputs.frame.accounts[account].account_id.clone(),
                account_name: inputs.names.get(account).cloned().unwrap_or_default(),
                segment: inputs.text(account, "segment"),
                started_on,
                tenure_days: tenure,
                milestones,
                first_value_days,
                started_before_data,
                onboarding,
                predicted_days: None,
                needs_acceleration: false,
                reason: String::new(),
            }
        })
        .collect();
    // Observed times to first value, by segment and overall.
    let mut observed: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut all: Vec<f64> = Vec::new();
    for row in &rows {
        if let Some(days) = row.first_value_days {
            observed
                .entry(row.segment.clone().unwrap_or_default())
                .or_default()
                .push(days as f64);
            all.push(days as f64);
        }
    }
    for values in observed.values_mut() {
        values.sort_by(f64::total_cmp);
    }
    all.sort_by(f64::total_cmp);
    let target = f64::from(ttv.target_days);
    for row in &mut rows {
        let reached_first = row.first_value_days.is_some();
        if row.onboarding && !reached_first && !row.started_before_data {
            let tenure = row.tenure_days.unwrap_or(0) as f64;
            let peers = observed
                .get(row.segment.as_deref().unwrap_or(""))
                .filter(|v| v.len() >= 10)
                .unwrap_or(&all);
            // The median of the peers who took longer than this account has so far:
            // the conditional median, so a late account is not predicted to be early.
            let later: Vec<f64> = peers.iter().copied().filter(|d| *d > tenure).collect();
            row.predicted_days = if later.is_empty() {
                None
            } else {
                Some(later[later.len() / 2])
            };
            row.needs_acceleration =
                tenure > target || row.predicted_days.is_some_and(|p| p > target);
            row.reason = match row.predicted_days {
                Some(p) if p > target => format!(
                    "not at first value after {tenure:.0} days; peers who took this long reached it at a median of {p:.0} days (target {target:.0})"
                ),
                Some(p) if tenure > target => format!(
                    "not at first value after {tenure:.0} days, past the {target:.0}-day target (peers: median {p:.0} days)"
                ),
                Some(p) => {
                    format!("on track: predicted first value at {p:.0} days (target {target:.0})")
                }
                None if tenure > target => {
                    format!("not at first value after {tenure:.0} days, longer than any peer took")
                }
                None => "no peers reached first value yet".to_string(),
            };
        } else if let Some(days) = row.first_value_days {
            row.needs_acceleration = false;
            row.reason = format!("first value after {days} days");
        } else if row.started_before_data {
            row.reason = "started before the usage history".to_string();
        } else {
            row.reason = "no first value yet".to_string();
        }
    }
    rows
}
