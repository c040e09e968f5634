//! Adoption campaigns (V5): accounts sharing a gap are selected by a rule at the
//! campaign's start — those with access to the target feature and not using it — and
//! split into members and a holdout that is not contacted. Activation of the feature
//! after the start is compared between the two; the difference is the campaign's lift,
//! with a two-proportion test.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::frame::AttrValue;
use crate::stats::two_proportion_p;

/// Which accounts a campaign targets: attribute → allowed values (every attribute must
/// match), among those with access to the feature and not using it at the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignRule {
    pub feature_key: String,
    #[serde(default)]
    pub when: BTreeMap<String, Vec<String>>,
    /// Share of the selected accounts kept as the holdout (not contacted).
    pub holdout_share: f64,
}

impl CampaignRule {
    pub fn matches(&self, attributes: &BTreeMap<String, AttrValue>) -> bool {
        self.when.iter().all(|(name, allowed)| {
            matches!(attributes.get(name), Some(AttrValue::Text(v)) if allowed.contains(v))
        })
    }
}

/// Deterministic holdout assignment: FNV-1a of campaign name and account id, so the
/// split is reproducible and independent of the account order.
pub fn in_holdout(campaign: &str, account_id: &str, holdout_share: f64) -> bool {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in campaign.bytes().chain([0u8]).chain(account_id.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % 10_000) as f64 / 10_000.0 < holdout_share
}

/// One selected account and when (if) it started using the feature after the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignAccount {
    pub account_id: String,
    pub holdout: bool,
    pub activated_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignReport {
    pub name: String,
    pub feature_key: String,
    pub start: NaiveDate,
    pub as_of: NaiveDate,
    pub members: usize,
    pub members_activated: usize,
    pub holdout: usize,
    pub holdout_activated: usize,
    pub member_rate: Option<f64>,
    pub holdout_rate: Option<f64>,
    /// member_rate − holdout_rate.
    pub lift: Option<f64>,
    pub p_value: Option<f64>,
    /// Median days from the start to activation, for members who activated.
    pub median_days_to_activate: Option<f64>,
    pub summary: String,
}

pub fn report(
    name: &str,
    feature_key: &str,
    start: NaiveDate,
    as_of: NaiveDate,
    accounts: &[CampaignAccount],
) -> CampaignReport {
    let group = |holdout: bool| {
        let in_group: Vec<&CampaignAccount> =
            accounts.iter().filter(|a| a.holdout == holdout).collect();
        let activated = in_group
            .iter()
            .filter(|a| a.activated_on.is_some_and(|d| d > start && d <= as_of))
            .count();
        (in_group.len(), activated)
    };
    let (members, members_activated) = group(false);
    let (holdout, holdout_activated) = group(true);
    let rate = |a: usize, n: usize| (n > 0).then(|| a as f64 / n as f64);
    let member_rate = rate(members_activated, members);
    let holdout_rate = rate(holdout_activated, holdout);
    let lift = member_rate.zip(holdout_rate).map(|(m, h)| m - h);
    let p_value = two_proportion_p(
        members_activated as u64,
        members as u64,
        holdout_activated as u64,
        holdout as u64,
    );
    let mut days: Vec<f64> = accounts
        .iter()
        .filter(|a| !a.holdout)
        .filter_map(|a| a.activated_on.filter(|d| *d > start && *d <= as_of))
        .map(|d| (d - start).num_days() as f64)
        .collect();
    days.sort_by(f64::total_cmp);
    let median_days_to_activate = (!days.is_empty()).then(|| days[days.len() / 2]);
    let pct = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{:.0}%", v * 100.0));
    let summary = format!(
        "{members_activated} of {members} members ({}) started using {feature_key} since {start}, against {holdout_activated} of {holdout} in the holdout ({}): lift {}{}.",
        pct(member_rate),
        pct(holdout_rate),
        lift.map_or("—".to_string(), |l| format!("{:+.0} points", l * 100.0)),
        p_value.map_or(String::new(), |p| format!(" (p = {p:.3})"))
    );
    CampaignReport {
        name: name.to_string(),
        feature_key: feature_key.to_string(),
        start,
        as_of,
        members,
        members_activated,
        holdout,
        holdout_activated,
        member_rate,
        holdout_rate,
        lift,
        p_value,
        median_days_to_activate,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, d).unwrap_or_default()
    }

    #[test]
    fn lift_compares_members_with_the_holdout() {
        let mut accounts = Vec::new();
        for i in 0..40 {
            accounts.push(CampaignAccount {
                account_id: format!("m{i}"),
                holdout: false,
                activated_on: (i < 20).then(|| day(10)),
            });
        }
        for i in 0..40 {
            accounts.push(CampaignAccount {
                account_id: format!("h{i}"),
                holdout: true,
                // Activation before the start does not count.
                activated_on: if i < 4 {
                    Some(day(10))
                } else if i < 6 {
                    Some(day(1))
                } else {
                    None
                },
            });
        }
        let r = report("c", "reports.create", day(2), day(30), &accounts);
        assert_eq!(
            (
                r.members,
                r.members_activated,
                r.holdout,
                r.holdout_activated
            ),
            (40, 20, 40, 4)
        );
        assert!((r.lift.unwrap_or(0.0) - 0.4).abs() < 1e-12);
        assert!(r.p_value.unwrap_or(1.0) < 0.001);
        assert_eq!(r.median_days_to_activate, Some(8.0));
    }

    #[test]
    fn the_holdout_split_is_stable_and_near_its_share() {
        let held = (0..10_000)
            .filter(|i| in_holdout("spring", &format!("acc_{i:05}"), 0.2))
            .count();
        assert!((1_800..2_200).contains(&held), "{held}");
        assert_eq!(
            in_holdout("spring", "acc_1", 0.2),
            in_holdout("spring", "acc_1", 0.2)
        );
    }
}
