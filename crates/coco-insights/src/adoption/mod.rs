//! Adoption and value (catalogue V1–V7): features used against entitled per account and
//! per segment, which unused features matter most, why adoption is low, a 90-day
//! enablement plan, campaigns and their lift, time to value, and progress against a
//! baseline. Pure: the engine hands in the snapshot, the per-feature usage, milestones
//! and the history of renewals; nothing here reads the store or the clock.
//!
//! - `config`: `config/adoption.toml`.
//! - [`gaps`]: the retention link of each feature and the value of each gap (V2).
//! - [`causes`]: the rule-based root cause of low adoption (V3).
//! - [`plan`]: the 90-day enablement plan (V4), as data and Markdown.
//! - [`campaign`]: campaign members against a comparison group, and the lift (V5).
//! - [`ttv`]: time to value and its prediction for onboarding accounts (V6).
//! - [`progress`]: breadth and depth against a baseline; the monthly report (V7).

pub mod campaign;
pub mod causes;
pub mod config;
pub mod gaps;
pub mod plan;
pub mod progress;
pub mod ttv;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::frame::SnapshotFrame;
use crate::usage::FeatureMatrix;

pub use config::{AdoptionConfig, AdoptionConfigError};

/// A journey milestone of an account as known at the as-of date.
#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneState {
    pub key: String,
    pub due: Option<NaiveDate>,
    /// Completed on or before the as-of date.
    pub completed: Option<NaiveDate>,
}

/// Everything the adoption analysis reads, aligned with `frame.accounts`.
pub struct AdoptionInputs<'a> {
    pub frame: &'a SnapshotFrame,
    pub names: &'a [String],
    pub usage: &'a FeatureMatrix,
    pub milestones: &'a [Vec<MilestoneState>],
    /// Per feature (catalogue index), the link between its use and renewals.
    pub retention: &'a [gaps::RetentionLink],
}

impl AdoptionInputs<'_> {
    fn text(&self, account: usize, name: &str) -> Option<String> {
        self.frame.accounts[account]
            .attributes
            .get(name)
            .and_then(|v| v.as_text())
            .map(str::to_string)
    }

    fn metric(&self, account: usize, name: &str) -> Option<f64> {
        self.frame
            .metric_index(name)
            .and_then(|m| self.frame.value(account, m))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }
}

/// One feature as one account uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureState {
    pub key: String,
    pub name: String,
    pub module: String,
    pub is_core: bool,
    pub entitled: bool,
    pub used: bool,
    pub events: f64,
    pub users: f64,
    /// Used in the window before, not in the recent one.
    pub abandoned: bool,
    pub last_used: Option<NaiveDate>,
}

/// Features used against entitled (V1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdoptionProfile {
    pub account_id: String,
    pub account_name: String,
    pub segment: Option<String>,
    pub plan_tier: Option<String>,
    pub owner_csm_id: Option<String>,
    pub as_of: NaiveDate,
    pub window_days: u32,
    pub entitled: usize,
    pub used: usize,
    /// used ÷ entitled (entitled features only).
    pub breadth: Option<f64>,
    pub core_entitled: usize,
    pub core_used: usize,
    pub level: Level,
    /// Events per active user over 30 days (the catalogue's depth metric).
    pub depth: Option<f64>,
    pub arr: Option<f64>,
    pub features: Vec<FeatureState>,
}

/// The adoption level from the entitled core features in use and the breadth.
pub fn level_of(core_used: usize, breadth: Option<f64>, config: &AdoptionConfig) -> Level {
    let levels = &config.levels;
    if core_used < levels.medium_min_core || breadth.is_some_and(|b| b < levels.low_max_breadth) {
        Level::Low
    } else if core_used >= levels.high_min_core {
        Level::High
    } else {
        Level::Medium
    }
}

pub fn profile(
    inputs: &AdoptionInputs<'_>,
    config: &AdoptionConfig,
    account: usize,
) -> AdoptionProfile {
    let usage = inputs.usage;
    let features: Vec<FeatureState> = usage
        .of(account)
        .iter()
        .map(|u| {
            let f = &usage.features[u.feature];
            FeatureState {
                key: f.key.clone(),
                name: f.name.clone(),
                module: f.module.clone(),
                is_core: f.is_core,
                entitled: u.entitled,
                used: u.used(),
                events: u.events,
                users: u.users,
                abandoned: u.abandoned(),
                last_used: u.last_used,
            }
        })
        .collect();
    let entitled = features.iter().filter(|f| f.entitled).count();
    let used = features.iter().filter(|f| f.entitled && f.used).count();
    let core_entitled = features.iter().filter(|f| f.entitled && f.is_core).count();
    let core_used = features
        .iter()
        .filter(|f| f.entitled && f.is_core && f.used)
        .count();
    let breadth = (entitled > 0).then(|| used as f64 / entitled as f64);
    let level = level_of(core_used, breadth, config);
    let row = &inputs.frame.accounts[account];
    AdoptionProfile {
        account_id: row.account_id.clone(),
        account_name: inputs.names.get(account).cloned().unwrap_or_default(),
        segment: inputs.text(account, "segment"),
        plan_tier: inputs.text(account, "plan_tier"),
        owner_csm_id: inputs.text(account, "owner_csm_id"),
        as_of: inputs.frame.as_of,
        window_days: usage.window_days,
        entitled,
        used,
        breadth,
        core_entitled,
        core_used,
        level,
        depth: inputs.metric(account, "events_per_active_user_30d"),
        arr: row.attributes.get("arr").and_then(|v| v.as_number()),
        features,
    }
}

/// Share of accounts with access that use each feature, by group (V1 heatmap).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Heatmap {
    pub as_of: NaiveDate,
    /// The attribute the columns group by (`segment`, `plan_tier`, …).
    pub group_by: String,
    pub groups: Vec<String>,
    /// Feature keys and names, catalogue order.
    pub features: Vec<String>,
    pub feature_names: Vec<String>,
    /// `share[feature][group]`: users ÷ entitled accounts; None when nobody has access.
    pub share: Vec<Vec<Option<f64>>>,
    pub entitled: Vec<Vec<usize>>,
    pub active: Vec<Vec<usize>>,
}

impl Heatmap {
    /// One row per (feature, group) cell.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "feature_key,feature_name,group_by,group,entitled_accounts,active_accounts,share\n",
        );
        for (f, key) in self.features.iter().enumerate() {
            for (g, group) in self.groups.iter().enumerate() {
                let share = self.share[f][g].map_or(String::new(), |s| format!("{s:.4}"));
                out.push_str(&format!(
                    "{},{},{},{},{},{},{}\n",
                    csv_field(key),
                    csv_field(&self.feature_names[f]),
                    csv_field(&self.group_by),
                    csv_field(group),
                    self.entitled[f][g],
                    self.active[f][g],
                    share
                ));
            }
        }
        out
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The heatmap over every account of the frame, grouped by a text attribute.
pub fn heatmap(inputs: &AdoptionInputs<'_>, group_by: &str) -> Heatmap {
    let usage = inputs.usage;
    let mut group_index: BTreeMap<String, usize> = BTreeMap::new();
    let groups_of: Vec<String> = (0..inputs.frame.account_count())
        .map(|a| {
            inputs
                .text(a, group_by)
                .unwrap_or_else(|| "(none)".to_string())
        })
        .collect();
    for g in &groups_of {
        let next = group_index.len();
        group_index.entry(g.clone()).or_insert(next);
    }
    // Alphabetical columns, stable whatever the account order.
    let groups: Vec<String> = group_index.keys().cloned().collect();
    let position: BTreeMap<&str, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.as_str(), i))
        .collect();
    let width = groups.len();
    let mut entitled = vec![vec![0usize; width]; usage.features.len()];
    let mut active = vec![vec![0usize; width]; usage.features.len()];
    for (account, group) in groups_of.iter().enumerate() {
        let g = position[group.as_str()];
        for u in usage.of(account) {
            if u.entitled {
                entitled[u.feature][g] += 1;
                if u.used() {
                    active[u.feature][g] += 1;
                }
            }
        }
    }
    let share = entitled
        .iter()
        .zip(&active)
        .map(|(e, a)| {
            e.iter()
                .zip(a)
                .map(|(e, a)| (*e > 0).then(|| *a as f64 / *e as f64))
                .collect()
        })
        .collect();
    Heatmap {
        as_of: inputs.frame.as_of,
        group_by: group_by.to_string(),
        groups,
        features: usage.features.iter().map(|f| f.key.clone()).collect(),
        feature_names: usage.features.iter().map(|f| f.name.clone()).collect(),
        share,
        entitled,
        active,
    }
}

/// One account's whole adoption picture: profile, gaps, cause, plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountAdoption {
    pub profile: AdoptionProfile,
    pub gaps: Vec<gaps::Gap>,
    pub cause: Option<causes::CauseFinding>,
}

/// Profiles, gaps and causes of every account.
pub fn analyse(inputs: &AdoptionInputs<'_>, config: &AdoptionConfig) -> Vec<AccountAdoption> {
    let peers = gaps::PeerUsage::new(inputs, config);
    crate::parallel::map_ordered(inputs.frame.account_count(), 2_000, |account| {
        analyse_one(inputs, config, &peers, account)
    })
}

/// One account's adoption picture (peers computed over the whole frame).
pub fn analyse_account(
    inputs: &AdoptionInputs<'_>,
    config: &AdoptionConfig,
    account: usize,
) -> AccountAdoption {
    let peers = gaps::PeerUsage::new(inputs, config);
    analyse_one(inputs, config, &peers, account)
}

fn analyse_one(
    inputs: &AdoptionInputs<'_>,
    config: &AdoptionConfig,
    peers: &gaps::PeerUsage,
    account: usize,
) -> AccountAdoption {
    let profile = profile(inputs, config, account);
    let gaps = gaps::prioritise(inputs, config, peers, account, &profile);
    let cause = causes::classify(inputs, config, account, &profile);
    AccountAdoption {
        profile,
        gaps,
        cause,
    }
}
