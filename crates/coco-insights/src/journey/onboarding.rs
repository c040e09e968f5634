//! The onboarding tracker (J7): per onboarding account the milestones done and overdue,
//! stall detection, a predicted go-live and time to first value; and how onboarding
//! cohorts turned out.
//!
//! An account is onboarding while its go-live milestone is not done and it started no
//! more than `max_days` ago. Stalled = onboarding milestones open and none completed
//! (nor the account started) in the last `stall_days`. Predicted go-live = the planned
//! go-live date + the slip so far, where the slip is the larger of the median lateness
//! of the milestones completed and the days the most overdue open milestone is past due
//! — a plan that is already three weeks late does not catch up by itself. A stalled
//! account's prediction is at least today + the days it has been stalled.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::milestones::start_quarter;
use super::{JourneyConfig, MilestoneRecord, RenewalRecord, quantile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnboardingStatus {
    OnTrack,
    AtRisk,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OnboardingMilestone {
    pub milestone: String,
    pub due: Option<NaiveDate>,
    pub completed: Option<NaiveDate>,
    pub overdue_days: Option<i64>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OnboardingAccount {
    pub account_id: String,
    pub account_name: String,
    pub owner_csm_id: Option<String>,
    pub arr: Option<f64>,
    pub started_on: NaiveDate,
    pub days_since_start: i64,
    pub milestones_total: usize,
    pub milestones_done: usize,
    pub milestones_overdue: usize,
    pub next_milestone: Option<String>,
    pub next_due: Option<NaiveDate>,
    pub last_progress: NaiveDate,
    pub stalled: bool,
    pub stalled_days: i64,
    pub planned_go_live: Option<NaiveDate>,
    pub predicted_go_live: Option<NaiveDate>,
    pub slip_days: i64,
    /// Days from start to first value (reached), or the predicted days (not yet).
    pub first_value_days: Option<f64>,
    pub first_value_predicted: bool,
    pub status: OnboardingStatus,
    pub reasons: Vec<String>,
    pub milestones: Vec<OnboardingMilestone>,
}

/// How the accounts that started in one quarter onboarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OnboardingCohort {
    pub cohort: String,
    pub accounts: usize,
    pub live: usize,
    pub live_on_time: usize,
    pub median_days_to_go_live: Option<f64>,
    /// Accounts whose first decided renewal is known, and how many churned there.
    pub first_renewals: usize,
    pub churned_at_first_renewal: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OnboardingReport {
    pub as_of: NaiveDate,
    pub onboarding: usize,
    pub on_track: usize,
    pub at_risk: usize,
    pub critical: usize,
    pub stalled: usize,
    pub accounts: Vec<OnboardingAccount>,
    pub cohorts: Vec<OnboardingCohort>,
}

/// What the tracker reads, aligned with the frame's accounts.
pub struct OnboardingInputs<'a> {
    pub as_of: NaiveDate,
    pub account_ids: &'a [String],
    pub names: &'a [String],
    pub owners: &'a [Option<String>],
    pub arr: &'a [Option<f64>],
    pub starts: &'a [Option<NaiveDate>],
    pub milestones: &'a [Vec<MilestoneRecord>],
    /// Days to first value: reached (false) or predicted (true), from adoption's TTV.
    pub first_value: &'a [Option<(f64, bool)>],
    /// Sorted by (account, renewal date).
    pub renewals: &'a [RenewalRecord],
}

fn is_onboarding(m: &MilestoneRecord) -> bool {
    m.stage.as_deref() == Some("onboarding")
}

fn track(
    inputs: &OnboardingInputs<'_>,
    config: &JourneyConfig,
    account: usize,
    start: NaiveDate,
) -> Option<OnboardingAccount> {
    let as_of = inputs.as_of;
    let settings = &config.onboarding;
    let rows: Vec<&MilestoneRecord> = inputs.milestones[account]
        .iter()
        .filter(|m| is_onboarding(m))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let go_live = rows.iter().find(|m| m.key == settings.go_live);
    if go_live.is_some_and(|m| m.done_by(as_of)) {
        return None;
    }
    let days_since_start = (as_of - start).num_days();
    if days_since_start < 0 || days_since_start > i64::from(settings.max_days) {
        return None;
    }
    let mut milestones: Vec<OnboardingMilestone> = rows
        .iter()
        .map(|m| {
            let completed = m.completed.filter(|c| *c <= as_of);
            OnboardingMilestone {
                milestone: m.key.clone(),
                due: m.due,
                completed,
                overdue_days: match (completed, m.due) {
                    (None, Some(due)) if due < as_of => Some((as_of - due).num_days()),
                    _ => None,
                },
                status: m.status.clone(),
            }
        })
        .collect();
    milestones.sort_by_key(|m| (m.due, m.milestone.clone()));
    let done: Vec<&OnboardingMilestone> = milestones
        .iter()
        .filter(|m| m.completed.is_some())
        .collect();
    let overdue = milestones
        .iter()
        .filter(|m| m.overdue_days.is_some())
        .count();
    let last_progress = done
        .iter()
        .filter_map(|m| m.completed)
        .max()
        .unwrap_or(start)
        .max(start);
    let open = milestones.len() - done.len();
    let stalled_days = (as_of - last_progress).num_days();
    let stalled = open > 0 && stalled_days >= i64::from(settings.stall_days);
    let mut lateness: Vec<f64> = done
        .iter()
        .filter_map(|m| Some((m.completed? - m.due?).num_days() as f64))
        .collect();
    lateness.sort_by(f64::total_cmp);
    let worst_overdue = milestones
        .iter()
        .filter_map(|m| m.overdue_days)
        .max()
        .unwrap_or(0);
    let slip = (quantile(&lateness, 0.5).unwrap_or(0.0).round() as i64)
        .max(worst_overdue)
        .max(0);
    let planned = go_live.and_then(|m| m.due);
    let predicted = planned.map(|p| {
        let mut date = p + Days::new(slip as u64);
        if stalled {
            date = date.max(as_of + Days::new(stalled_days as u64));
        }
        date.max(as_of)
    });
    let next = milestones.iter().find(|m| m.completed.is_none());
    let mut reasons = Vec::new();
    if stalled {
        reasons.push(format!("no milestone completed in {stalled_days} days"));
    }
    if overdue > 0 {
        reasons.push(format!(
            "{overdue} milestone(s) overdue, the worst by {worst_overdue} days"
        ));
    }
    if slip > 0 {
        reasons.push(format!("go-live slipping by {slip} days"));
    }
    let status = if stalled || slip > 30 {
        OnboardingStatus::Critical
    } else if overdue > 0 || slip > 14 {
        OnboardingStatus::AtRisk
    } else {
        OnboardingStatus::OnTrack
    };
    let (first_value_days, first_value_predicted) = match inputs.first_value[account] {
        Some((days, predicted)) => (Some(days), predicted),
        None => (None, false),
    };
    Some(OnboardingAccount {
        account_id: inputs.account_ids[account].clone(),
        account_name: inputs.names[account].clone(),
        owner_csm_id: inputs.owners[account].clone(),
        arr: inputs.arr[account],
        started_on: start,
        days_since_start,
        milestones_total: milestones.len(),
        milestones_done: done.len(),
        milestones_overdue: overdue,
        next_milestone: next.map(|m| m.milestone.clone()),
        next_due: next.and_then(|m| m.due),
        last_progress,
        stalled,
        stalled_days,
        planned_go_live: planned,
        predicted_go_live: predicted,
        slip_days: slip,
        first_value_days,
        first_value_predicted,
        status,
        reasons,
        milestones,
    })
}

pub fn report(inputs: &OnboardingInputs<'_>, config: &JourneyConfig) -> OnboardingReport {
    let mut accounts = Vec::new();
    #[derive(Default)]
    struct Cohort {
        accounts: usize,
        live: usize,
        on_time: usize,
        days: Vec<f64>,
        renewals: usize,
        churned: usize,
    }
    let mut cohorts: BTreeMap<String, Cohort> = BTreeMap::new();
    let grace = Days::new(u64::from(config.milestones.grace_days));
    for account in 0..inputs.account_ids.len() {
        let Some(start) = inputs.starts[account] else {
            continue;
        };
        if let Some(tracked) = track(inputs, config, account, start) {
            accounts.push(tracked);
        }
        let Some(go_live) = inputs.milestones[account]
            .iter()
            .find(|m| m.key == config.onboarding.go_live)
        else {
            continue;
        };
        let cohort = cohorts.entry(start_quarter(start)).or_default();
        cohort.accounts += 1;
        if let Some(done) = go_live.completed.filter(|c| *c <= inputs.as_of) {
            cohort.live += 1;
            cohort.on_time += usize::from(go_live.due.is_some_and(|d| done <= d + grace));
            cohort.days.push((done - start).num_days() as f64);
        }
        if let Some(r) = super::first_renewal_after(inputs.renewals, account, start)
            .filter(|r| r.decided_on <= inputs.as_of)
        {
            cohort.renewals += 1;
            cohort.churned += usize::from(r.churned);
        }
    }
    let order = |s: OnboardingStatus| match s {
        OnboardingStatus::Critical => 0,
        OnboardingStatus::AtRisk => 1,
        OnboardingStatus::OnTrack => 2,
    };
    accounts.sort_by(|a, b| {
        order(a.status)
            .cmp(&order(b.status))
            .then_with(|| b.arr.unwrap_or(0.0).total_cmp(&a.arr.unwrap_or(0.0)))
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    let count = |s: OnboardingStatus| accounts.iter().filter(|a| a.status == s).count();
    OnboardingReport {
        as_of: inputs.as_of,
        onboarding: accounts.len(),
        on_track: count(OnboardingStatus::OnTrack),
        at_risk: count(OnboardingStatus::AtRisk),
        critical: count(OnboardingStatus::Critical),
        stalled: accounts.iter().filter(|a| a.stalled).count(),
        cohorts: cohorts
            .into_iter()
            .map(|(cohort, mut c)| {
                c.days.sort_by(f64::total_cmp);
                OnboardingCohort {
                    cohort,
                    accounts: c.accounts,
                    live: c.live,
                    live_on_time: c.on_time,
                    median_days_to_go_live: quantile(&c.days, 0.5),
                    first_renewals: c.renewals,
                    churned_at_first_renewal: c.churned,
                }
            })
            .collect(),
        accounts,
    }
}
