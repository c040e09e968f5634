//! Current coverage against the recommended tier (S2): which accounts are over- or
//! under-served, the ARR on each side, what re-allocating would do to CSM capacity, and
//! the accounts where a change matters most.
//!
//! Impact of a change = ARR × tiers apart × (1 + renewal proximity ÷ 100 [+ expansion
//! potential ÷ 100 when under-served]): a large account several tiers off with its renewal
//! near (or growth unserved) first. The factor scores come from the tiering itself, so the
//! ranking uses the same evidence the tier does.

use serde::{Deserialize, Serialize};

use super::{Assignment, SegmentsConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceGap {
    /// Served with more attention than the tier recommends.
    OverServed,
    /// Served with less attention than the tier recommends.
    UnderServed,
}

impl ServiceGap {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceGap::OverServed => "over_served",
            ServiceGap::UnderServed => "under_served",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Misaligned {
    pub account_id: String,
    pub account_name: String,
    pub owner_csm_id: Option<String>,
    pub arr: f64,
    pub current_coverage: String,
    pub recommended_tier: String,
    pub recommended_coverage: String,
    pub score: f64,
    pub gap: ServiceGap,
    /// Coverage levels apart (1 = neighbouring models).
    pub steps: usize,
    pub impact: f64,
    /// The factors behind the recommendation, strongest first, with their scores.
    pub reasons: Vec<String>,
}

/// Accounts and ARR moving between coverage models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoverageCell {
    pub current_coverage: String,
    pub recommended_coverage: String,
    pub accounts: usize,
    pub arr: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MisalignmentReport {
    /// Accounts with a current coverage model (the others cannot be compared).
    pub accounts_compared: usize,
    pub misaligned: usize,
    pub share_misaligned: f64,
    pub over_served: usize,
    pub under_served: usize,
    pub arr_over_served: f64,
    pub arr_under_served: f64,
    /// Full-time CSMs the book needs at today's coverage and at the recommended one
    /// (accounts ÷ the tier's `accounts_per_csm`, summed).
    pub csms_at_current_coverage: f64,
    pub csms_at_recommended_coverage: f64,
    /// CSM capacity freed by moving over-served accounts down, and needed by moving
    /// under-served ones up.
    pub csms_freed: f64,
    pub csms_needed: f64,
    /// Current × recommended coverage, every non-empty pair.
    pub matrix: Vec<CoverageCell>,
    /// The five accounts where a change matters most.
    pub top: Vec<Misaligned>,
    /// Every misaligned account, by impact.
    pub accounts: Vec<Misaligned>,
}

/// Accounts per CSM of a coverage model: the first tier served with it.
fn load_of(config: &SegmentsConfig, coverage: &str) -> Option<f64> {
    config
        .tiers
        .iter()
        .find(|t| t.coverage == coverage)
        .map(|t| t.accounts_per_csm)
}

fn factor_score(assignment: &Assignment, key: &str) -> f64 {
    assignment
        .factors
        .iter()
        .find(|f| f.key == key)
        .and_then(|f| f.score)
        .unwrap_or(0.0)
}

/// The strongest factors of an assignment, as short phrases ("ARR 92/100").
pub fn reasons(assignment: &Assignment, n: usize) -> Vec<String> {
    phrases(assignment.top_factors(n))
}

fn phrases(factors: Vec<&super::FactorScore>) -> Vec<String> {
    factors
        .into_iter()
        .map(|f| {
            let mut text = format!("{} {:.0}/100", f.label, f.score.unwrap_or(0.0));
            if f.proxy {
                text.push_str(" (proxy)");
            }
            if !f.flags.is_empty() {
                text.push_str(&format!(" ({})", f.flags.join(", ")));
            }
            text
        })
        .collect()
}

/// One account's gap, when its coverage differs from the recommendation.
pub fn misaligned(assignment: &Assignment) -> Option<Misaligned> {
    let current = assignment.current_coverage.as_deref()?;
    let now = SegmentsConfig::coverage_rank(current)?;
    let recommended = SegmentsConfig::coverage_rank(&assignment.recommended_coverage)?;
    if now == recommended {
        return None;
    }
    let gap = if now < recommended {
        ServiceGap::OverServed
    } else {
        ServiceGap::UnderServed
    };
    let steps = now.abs_diff(recommended);
    let arr = assignment.arr.unwrap_or(0.0);
    let mut urgency = 1.0 + factor_score(assignment, "renewal_proximity") / 100.0;
    if gap == ServiceGap::UnderServed {
        urgency += factor_score(assignment, "expansion_potential") / 100.0;
    }
    Some(Misaligned {
        account_id: assignment.account_id.clone(),
        account_name: assignment.account_name.clone(),
        owner_csm_id: assignment.owner_csm_id.clone(),
        arr,
        current_coverage: current.to_string(),
        recommended_tier: assignment.tier.clone(),
        recommended_coverage: assignment.recommended_coverage.clone(),
        score: assignment.score,
        gap,
        steps,
        impact: arr * steps as f64 * urgency,
        // Under-served: what calls for more attention; over-served: what does not.
        reasons: match gap {
            ServiceGap::UnderServed => reasons(assignment, 3),
            ServiceGap::OverServed => phrases(assignment.weakest_factors(3)),
        },
    })
}

pub fn report(assignments: &[Assignment], config: &SegmentsConfig) -> MisalignmentReport {
    let mut matrix: Vec<CoverageCell> = Vec::new();
    let mut compared = 0;
    let (mut csms_now, mut csms_recommended, mut freed, mut needed) = (0.0, 0.0, 0.0, 0.0);
    let mut accounts: Vec<Misaligned> = Vec::new();
    for assignment in assignments {
        let Some(current) = assignment.current_coverage.as_deref() else {
            continue;
        };
        let (Some(now_load), Some(rec_load)) = (
            load_of(config, current),
            load_of(config, &assignment.recommended_coverage),
        ) else {
            continue;
        };
        compared += 1;
        csms_now += 1.0 / now_load;
        csms_recommended += 1.0 / rec_load;
        let arr = assignment.arr.unwrap_or(0.0);
        match matrix.iter_mut().find(|c| {
            c.current_coverage == current
                && c.recommended_coverage == assignment.recommended_coverage
        }) {
            Some(cell) => {
                cell.accounts += 1;
                cell.arr += arr;
            }
            None => matrix.push(CoverageCell {
                current_coverage: current.to_string(),
                recommended_coverage: assignment.recommended_coverage.clone(),
                accounts: 1,
                arr,
            }),
        }
        if let Some(m) = misaligned(assignment) {
            let delta = 1.0 / now_load - 1.0 / rec_load;
            match m.gap {
                ServiceGap::OverServed => freed += delta,
                ServiceGap::UnderServed => needed -= delta,
            }
            accounts.push(m);
        }
    }
    matrix.sort_by_key(|c| {
        (
            SegmentsConfig::coverage_rank(&c.current_coverage),
            SegmentsConfig::coverage_rank(&c.recommended_coverage),
        )
    });
    accounts.sort_by(|a, b| {
        b.impact
            .total_cmp(&a.impact)
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    let over: Vec<&Misaligned> = accounts
        .iter()
        .filter(|m| m.gap == ServiceGap::OverServed)
        .collect();
    let arr_over = over.iter().map(|m| m.arr).sum();
    let arr_under = accounts
        .iter()
        .filter(|m| m.gap == ServiceGap::UnderServed)
        .map(|m| m.arr)
        .sum();
    MisalignmentReport {
        accounts_compared: compared,
        misaligned: accounts.len(),
        share_misaligned: if compared > 0 {
            accounts.len() as f64 / compared as f64
        } else {
            0.0
        },
        over_served: over.len(),
        under_served: accounts.len() - over.len(),
        arr_over_served: arr_over,
        arr_under_served: arr_under,
        csms_at_current_coverage: csms_now,
        csms_at_recommended_coverage: csms_recommended,
        csms_freed: freed,
        csms_needed: needed,
        matrix,
        top: accounts.iter().take(5).cloned().collect(),
        accounts,
    }
}
