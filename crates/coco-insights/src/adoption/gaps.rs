//! Gap prioritisation (V2): for each entitled feature an account does not use, what it
//! is worth to this account — how many of its peers use it, whether renewals where it
//! was in use churned less (with a significance test), and whether it belongs to the
//! tier the account pays for.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{AdoptionConfig, AdoptionInputs, AdoptionProfile};
use crate::format::{format_money, percent};
use crate::stats::two_proportion_p;

/// One past renewal: whether the account churned, and which features it used in the
/// window before the renewal.
#[derive(Debug, Clone, PartialEq)]
pub struct RenewalUsage {
    pub account_id: String,
    pub renewal_date: NaiveDate,
    pub churned: bool,
    /// Catalogue indexes of the features used.
    pub features_used: Vec<usize>,
    /// Catalogue indexes of the features the account had access to (used or not).
    pub features_entitled: Vec<usize>,
}

/// How churn differed at renewals with and without a feature in use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionLink {
    pub feature_key: String,
    /// Renewals with access where the feature was used / not used.
    pub with_feature: u32,
    pub with_feature_churned: u32,
    pub without_feature: u32,
    pub without_feature_churned: u32,
    pub churn_with: Option<f64>,
    pub churn_without: Option<f64>,
    /// churn_without − churn_with: positive when users churned less.
    pub difference: Option<f64>,
    /// Two-sided p-value of the two-proportion z-test.
    pub p_value: Option<f64>,
}

/// The retention link of every catalogue feature over past renewals.
pub fn retention_links(renewals: &[RenewalUsage], feature_keys: &[String]) -> Vec<RetentionLink> {
    let mut links: Vec<RetentionLink> = feature_keys
        .iter()
        .map(|key| RetentionLink {
            feature_key: key.clone(),
            ..RetentionLink::default()
        })
        .collect();
    for renewal in renewals {
        for &f in &renewal.features_entitled {
            let Some(link) = links.get_mut(f) else {
                continue;
            };
            if renewal.features_used.contains(&f) {
                link.with_feature += 1;
                link.with_feature_churned += u32::from(renewal.churned);
            } else {
                link.without_feature += 1;
                link.without_feature_churned += u32::from(renewal.churned);
            }
        }
    }
    for link in &mut links {
        let rate = |churned: u32, n: u32| (n > 0).then(|| f64::from(churned) / f64::from(n));
        link.churn_with = rate(link.with_feature_churned, link.with_feature);
        link.churn_without = rate(link.without_feature_churned, link.without_feature);
        if let (Some(with), Some(without)) = (link.churn_with, link.churn_without) {
            link.difference = Some(without - with);
            link.p_value = two_proportion_p(
                u64::from(link.with_feature_churned),
                u64::from(link.with_feature),
                u64::from(link.without_feature_churned),
                u64::from(link.without_feature),
            );
        }
    }
    links
}

/// Per feature, the share of accounts with access that use it, in each peer group
/// (segment × plan tier), each segment and overall.
pub struct PeerUsage {
    groups: BTreeMap<(String, String), Vec<(u32, u32)>>,
    segments: BTreeMap<String, Vec<(u32, u32)>>,
    overall: Vec<(u32, u32)>,
    min_peers: usize,
}

impl PeerUsage {
    pub fn new(inputs: &AdoptionInputs<'_>, config: &AdoptionConfig) -> PeerUsage {
        let width = inputs.usage.features.len();
        let mut groups: BTreeMap<(String, String), Vec<(u32, u32)>> = BTreeMap::new();
        let mut segments: BTreeMap<String, Vec<(u32, u32)>> = BTreeMap::new();
        let mut overall = vec![(0u32, 0u32); width];
        for account in 0..inputs.frame.account_count() {
            let segment = inputs.text(account, "segment").unwrap_or_default();
            let tier = inputs.text(account, "plan_tier").unwrap_or_default();
            let group = groups
                .entry((segment.clone(), tier))
                .or_insert_with(|| vec![(0, 0); width]);
            for u in inputs.usage.of(account) {
                if u.entitled {
                    group[u.feature].0 += 1;
                    group[u.feature].1 += u32::from(u.used());
                }
            }
            let seg = segments
                .entry(segment)
                .or_insert_with(|| vec![(0, 0); width]);
            for u in inputs.usage.of(account) {
                if u.entitled {
                    seg[u.feature].0 += 1;
                    seg[u.feature].1 += u32::from(u.used());
                    overall[u.feature].0 += 1;
                    overall[u.feature].1 += u32::from(u.used());
                }
            }
        }
        PeerUsage {
            groups,
            segments,
            overall,
            min_peers: config.gaps.min_peers,
        }
    }

    /// (share, peers, description of the peer group) for a feature.
    pub fn share(&self, segment: &str, tier: &str, feature: usize) -> Option<(f64, u32, String)> {
        let pick = |counts: Option<&Vec<(u32, u32)>>| {
            counts
                .and_then(|c| c.get(feature))
                .filter(|(n, _)| *n as usize >= self.min_peers)
                .map(|(n, used)| (f64::from(*used) / f64::from(*n), *n))
        };
        if let Some((s, n)) = pick(self.groups.get(&(segment.to_string(), tier.to_string()))) {
            return Some((s, n, format!("{segment} on {tier}")));
        }
        if let Some((s, n)) = pick(self.segments.get(segment)) {
            return Some((s, n, segment.to_string()));
        }
        self.overall
            .get(feature)
            .filter(|(n, _)| *n > 0)
            .map(|(n, used)| {
                (
                    f64::from(*used) / f64::from(*n),
                    *n,
                    "all accounts".to_string(),
                )
            })
    }
}

/// One unused entitled feature and its value for the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Gap {
    pub feature_key: String,
    pub name: String,
    pub module: String,
    pub is_core: bool,
    pub resources: Option<String>,
    /// 0–1: the weighted value.
    pub value: f64,
    pub peer_share: Option<f64>,
    pub peer_group: Option<String>,
    pub peers: u32,
    pub retention: Option<RetentionLink>,
    pub retention_significant: bool,
    pub tier_relevance: f64,
    /// Churn difference × the account's ARR, when the link is significant.
    pub expected_retained_arr: Option<f64>,
    /// Tried before and dropped.
    pub abandoned: bool,
    pub reason: String,
}

pub fn prioritise(
    inputs: &AdoptionInputs<'_>,
    config: &AdoptionConfig,
    peers: &PeerUsage,
    account: usize,
    profile: &AdoptionProfile,
) -> Vec<Gap> {
    let weights = &config.gaps;
    let usage = inputs.usage;
    let segment = profile.segment.clone().unwrap_or_default();
    let tier_name = profile.plan_tier.clone().unwrap_or_default();
    let tier_rank = usage
        .of(account)
        .iter()
        .filter(|u| u.entitled)
        .map(|u| usage.features[u.feature].tier)
        .max()
        .unwrap_or(0);
    let max_difference = inputs
        .retention
        .iter()
        .filter(|l| l.p_value.is_some_and(|p| p < weights.significance))
        .filter_map(|l| l.difference)
        .fold(0.0_f64, f64::max);
    // Values first, without any text: only the kept gaps are written out.
    struct Scored<'a> {
        feature: usize,
        abandoned: bool,
        peer: Option<(f64, u32, String)>,
        link: Option<&'a RetentionLink>,
        significant: bool,
        tier_relevance: f64,
        value: f64,
        expected_retained_arr: Option<f64>,
    }
    let mut scored: Vec<Scored<'_>> = usage
        .of(account)
        .iter()
        .filter(|u| u.entitled && !u.used())
        .map(|u| {
            let feature = &usage.features[u.feature];
            let peer = peers.share(&segment, &tier_name, u.feature);
            let link = inputs.retention.get(u.feature);
            let significant = link.is_some_and(|l| {
                l.p_value.is_some_and(|p| p < weights.significance)
                    && l.difference.is_some_and(|d| d > 0.0)
            });
            let retention_score = if significant && max_difference > 0.0 {
                link.and_then(|l| l.difference)
                    .map_or(0.0, |d| d / max_difference)
            } else {
                0.0
            };
            let tier_relevance = if feature.tier == tier_rank {
                1.0
            } else if feature.is_core {
                0.6
            } else {
                0.3
            };
            let value = weights.peer_weight * peer.as_ref().map_or(0.0, |p| p.0)
                + weights.retention_weight * retention_score
                + weights.tier_weight * tier_relevance;
            let expected_retained_arr = if significant {
                link.and_then(|l| l.difference)
                    .zip(profile.arr)
                    .map(|(d, arr)| d * arr)
            } else {
                None
            };
            Scored {
                feature: u.feature,
                abandoned: u.abandoned(),
                peer,
                link,
                significant,
                tier_relevance,
                value,
                expected_retained_arr,
            }
        })
        .collect();
    scored.sort_by(|a, b| {
        b.value.total_cmp(&a.value).then_with(|| {
            usage.features[a.feature]
                .key
                .cmp(&usage.features[b.feature].key)
        })
    });
    scored.truncate(weights.keep);
    scored
        .into_iter()
        .map(|g| {
            let feature = &usage.features[g.feature];
            let mut parts = Vec::new();
            if let Some((share, n, group)) = &g.peer {
                parts.push(format!(
                    "{} of {n} {group} peers with access use it",
                    percent(*share)
                ));
            }
            if let Some(l) = g.link.filter(|_| g.significant) {
                parts.push(format!(
                    "renewals where it was used churned {} vs {} without (p = {:.3})",
                    percent(l.churn_with.unwrap_or(0.0)),
                    percent(l.churn_without.unwrap_or(0.0)),
                    l.p_value.unwrap_or(1.0)
                ));
            }
            if let Some(arr) = g.expected_retained_arr {
                parts.push(format!(
                    "≈ {} of this account's ARR at stake",
                    format_money(arr)
                ));
            }
            if feature.tier == tier_rank {
                parts.push(format!("part of the {tier_name} tier they pay for"));
            }
            if g.abandoned {
                parts.push("tried and dropped in the window before".to_string());
            }
            Gap {
                feature_key: feature.key.clone(),
                name: feature.name.clone(),
                module: feature.module.clone(),
                is_core: feature.is_core,
                resources: feature.resources.clone(),
                value: g.value,
                peer_share: g.peer.as_ref().map(|p| p.0),
                peer_group: g.peer.as_ref().map(|p| p.2.clone()),
                peers: g.peer.as_ref().map_or(0, |p| p.1),
                retention: g.link.cloned(),
                retention_significant: g.significant,
                tier_relevance: g.tier_relevance,
                expected_retained_arr: g.expected_retained_arr,
                abandoned: g.abandoned,
                reason: parts.join("; "),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_links_count_renewals_with_access_only() {
        let renewal = |churned: bool, used: &[usize], entitled: &[usize]| RenewalUsage {
            account_id: "a".into(),
            renewal_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            churned,
            features_used: used.to_vec(),
            features_entitled: entitled.to_vec(),
        };
        let renewals = vec![
            renewal(false, &[0], &[0, 1]),
            renewal(true, &[], &[0, 1]),
            renewal(false, &[0, 1], &[0, 1]),
            renewal(true, &[1], &[1]),
        ];
        let links = retention_links(&renewals, &["f0".into(), "f1".into()]);
        assert_eq!(
            (
                links[0].with_feature,
                links[0].with_feature_churned,
                links[0].without_feature,
                links[0].without_feature_churned
            ),
            (2, 0, 1, 1)
        );
        assert_eq!(links[0].difference, Some(1.0));
        assert_eq!((links[1].with_feature, links[1].without_feature), (2, 2));
    }
}
