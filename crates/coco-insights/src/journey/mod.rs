//! The customer journey (catalogue J1–J8). Pure: the engine hands in the snapshot, the
//! weekly snapshots before it, milestones and renewal outcomes as known at the date,
//! touchpoints and contacts; nothing here reads the store or the clock.
//!
//! - `config`: `config/journey.toml` — stages with entry/exit criteria, milestones,
//!   expected durations (J1), and every threshold below.
//! - [`stages`]: each account's stage with a confidence, transitions and their speed,
//!   conflicting signals (J2).
//! - [`milestones`]: completion heatmap, skipped milestones, completion times, which
//!   missed milestones predict churn (J3).
//! - [`compare`]: churned against retained accounts, the separating variables, and the
//!   earliest lead at which churn is predictable (J4).
//! - [`dropoff`]: where engagement falls by tenure month and stage (J5).
//! - [`scorecard`]: one account against the retained cohort at the same tenure (J6).
//! - [`onboarding`]: the onboarding tracker (J7).
//! - [`touchpoints`]: the interaction timeline, silent periods, stakeholder coverage (J8).

pub mod compare;
pub mod config;
pub mod dropoff;
pub mod milestones;
pub mod onboarding;
pub mod scorecard;
pub mod stages;
pub mod touchpoints;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use config::JourneyConfig;

/// One milestone of an account as known at the as-of date: a completion after the date
/// is not known yet (`completed` is `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MilestoneRecord {
    /// The milestone (date suffixes removed: `renewal_prep`).
    pub key: String,
    /// The row's own key (`renewal_prep_202611`).
    pub raw_key: String,
    pub name: Option<String>,
    pub stage: Option<String>,
    pub due: Option<NaiveDate>,
    pub completed: Option<NaiveDate>,
    /// The file's status (`skipped`, `blocked`, …). It has no date of its own, so it is
    /// read as today's; completions are what the analyses count.
    pub status: Option<String>,
}

impl MilestoneRecord {
    pub fn done_by(&self, date: NaiveDate) -> bool {
        self.completed.is_some_and(|c| c <= date)
    }

    /// Not completed within `grace_days` of its due date, judged at `date` (a milestone
    /// not yet `grace_days` past due is not missed).
    pub fn missed_at(&self, date: NaiveDate, grace_days: u32) -> Option<bool> {
        let due = self.due?;
        let deadline = due + chrono::Days::new(u64::from(grace_days));
        if deadline > date {
            return None;
        }
        Some(self.completed.is_none_or(|c| c > deadline))
    }
}

/// A decided renewal: the account (frame index), its renewal date, when it was decided
/// and whether the account churned there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenewalRecord {
    pub account: usize,
    pub renewal_date: NaiveDate,
    pub decided_on: NaiveDate,
    pub churned: bool,
}

/// The first decided renewal of an account after `date`, among records sorted by
/// (account, renewal date).
pub fn first_renewal_after(
    renewals: &[RenewalRecord],
    account: usize,
    date: NaiveDate,
) -> Option<&RenewalRecord> {
    let start = renewals.partition_point(|r| r.account < account);
    renewals[start..]
        .iter()
        .take_while(|r| r.account == account)
        .find(|r| r.renewal_date > date)
}

/// Value at quantile `q` (0–1) of sorted values, linear between neighbours (R type 7).
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    let fraction = position - low as f64;
    Some(sorted[low] + (sorted[high] - sorted[low]) * fraction)
}
