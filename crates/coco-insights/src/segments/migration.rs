//! Tier migration (S3): accounts that have outgrown their coverage (upgrade candidates)
//! and accounts served above their profile (downgrade — usually digital-transition —
//! candidates), with the reasons, the transition risk and the exceptions. The result is
//! structured data for the communication drafts.
//!
//! A downgrade with any transition risk (renewal inside the window, or a configured
//! risk such as a departed champion) is an exception: it is held until the risk clears,
//! because moving an account to less coverage in the middle of a renewal or a
//! relationship change is how churn starts. Upgrades proceed; their risks are named so
//! the receiving CSM starts from them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::misalignment::{ServiceGap, misaligned};
use super::{Assignment, SegmentsConfig};
use crate::values::Values;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MoveDirection {
    Upgrade,
    Downgrade,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub account_id: String,
    pub account_name: String,
    pub owner_csm_id: Option<String>,
    pub arr: f64,
    pub direction: MoveDirection,
    pub from_coverage: String,
    pub to_tier: String,
    pub to_tier_label: String,
    pub to_coverage: String,
    pub score: f64,
    /// Why: for upgrades the strongest factors, for downgrades the weakest.
    pub reasons: Vec<String>,
    pub renewal_date: Option<NaiveDate>,
    pub days_to_renewal: Option<i64>,
    pub transition_risks: Vec<String>,
    /// Set when the move should wait: what to wait for.
    pub exception: Option<String>,
    /// The tier recorded by the last `segments apply` before, when there was one.
    pub previous_tier: Option<String>,
    /// What the receiving side should get: the tier's coverage plan.
    pub coverage_plan: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MigrationPlan {
    pub as_of: NaiveDate,
    pub upgrades: Vec<Candidate>,
    pub downgrades: Vec<Candidate>,
    /// Downgrades held as exceptions (also listed in `downgrades`).
    pub exceptions: usize,
    pub arr_upgrading: f64,
    pub arr_downgrading: f64,
}

/// Upgrade and downgrade candidates, each list by ARR (largest first).
/// `previous_tier(account_id)` answers from the last recorded application.
pub fn plan(
    assignments: &[Assignment],
    values: &Values<'_>,
    config: &SegmentsConfig,
    as_of: NaiveDate,
    previous_tier: &dyn Fn(&str) -> Option<String>,
) -> MigrationPlan {
    let risks: Vec<_> = config
        .migration
        .risks
        .iter()
        .map(|r| (r, values.resolve(&r.source)))
        .collect();
    let mut upgrades = Vec::new();
    let mut downgrades = Vec::new();
    for (account, assignment) in assignments.iter().enumerate() {
        let Some(m) = misaligned(assignment) else {
            continue;
        };
        let days_to_renewal = assignment.renewal_date.map(|d| (d - as_of).num_days());
        let mut transition_risks = Vec::new();
        let renewal_in_window = days_to_renewal
            .filter(|d| (0..=i64::from(config.migration.renewal_window_days)).contains(d));
        if let Some(days) = renewal_in_window {
            transition_risks.push(format!("renewal in {days} days"));
        }
        for (risk, resolved) in &risks {
            if let Some(value) = values.get(*resolved, account) {
                let holds = risk.at_least.is_none_or(|min| value >= min)
                    && risk.at_most.is_none_or(|max| value <= max);
                if holds {
                    transition_risks.push(risk.label.clone());
                }
            }
        }
        let direction = match m.gap {
            ServiceGap::UnderServed => MoveDirection::Upgrade,
            ServiceGap::OverServed => MoveDirection::Downgrade,
        };
        let exception = (direction == MoveDirection::Downgrade && !transition_risks.is_empty())
            .then(|| {
                // Wait for the renewal only when it is one of the risks (inside the
                // window); a renewal months away is no reason to hold a move that
                // waits on, say, a detractor's follow-up.
                let until = match assignment.renewal_date {
                    Some(date) if renewal_in_window.is_some() => {
                        format!("until after the renewal on {date}")
                    }
                    _ => "until the risk clears".to_string(),
                };
                format!("hold {until}: {}", transition_risks.join("; "))
            });
        let tier = config.tier(&assignment.tier);
        let candidate = Candidate {
            account_id: m.account_id,
            account_name: m.account_name,
            owner_csm_id: m.owner_csm_id,
            arr: m.arr,
            direction,
            from_coverage: m.current_coverage,
            to_tier: assignment.tier.clone(),
            to_tier_label: assignment.tier_label.clone(),
            to_coverage: m.recommended_coverage,
            score: m.score,
            reasons: m.reasons,
            renewal_date: assignment.renewal_date,
            days_to_renewal,
            transition_risks,
            exception,
            previous_tier: previous_tier(&assignment.account_id),
            coverage_plan: tier.map(|t| t.coverage_plan.clone()).unwrap_or_default(),
        };
        match direction {
            MoveDirection::Upgrade => upgrades.push(candidate),
            MoveDirection::Downgrade => downgrades.push(candidate),
        }
    }
    let by_arr = |a: &Candidate, b: &Candidate| {
        b.arr
            .total_cmp(&a.arr)
            .then_with(|| a.account_id.cmp(&b.account_id))
    };
    upgrades.sort_by(by_arr);
    downgrades.sort_by(by_arr);
    MigrationPlan {
        as_of,
        exceptions: downgrades.iter().filter(|c| c.exception.is_some()).count(),
        arr_upgrading: upgrades.iter().map(|c| c.arr).sum(),
        arr_downgrading: downgrades.iter().map(|c| c.arr).sum(),
        upgrades,
        downgrades,
    }
}
