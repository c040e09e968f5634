//! Adoption progress (V7): breadth, depth and level now against a baseline date, per
//! account and for the portfolio — the monthly adoption report: high / medium / low
//! counts, improved and declined accounts, accounts needing attention, and systemic
//! patterns (features most accounts with access do not use, features being dropped).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{AccountAdoption, AdoptionConfig, AdoptionProfile, Level};
use crate::format::{format_money, percent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Improved,
    Declined,
    Stable,
    New,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountProgress {
    pub account_id: String,
    pub account_name: String,
    pub level_now: Level,
    pub level_then: Option<Level>,
    pub breadth_now: Option<f64>,
    pub breadth_then: Option<f64>,
    pub depth_now: Option<f64>,
    pub depth_then: Option<f64>,
    pub trend: Trend,
}

/// An account's adoption at the baseline date: what progress compares with. Read from
/// the baseline snapshot's metrics (`core_features_used_90d`, `feature_adoption_90d`,
/// `events_per_active_user_30d`), which count exactly as the profile does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BaselinePoint {
    pub account_id: String,
    pub level: Level,
    pub breadth: Option<f64>,
    pub depth: Option<f64>,
}

impl From<&AdoptionProfile> for BaselinePoint {
    fn from(profile: &AdoptionProfile) -> Self {
        BaselinePoint {
            account_id: profile.account_id.clone(),
            level: profile.level,
            breadth: profile.breadth,
            depth: profile.depth,
        }
    }
}

pub fn account_progress(
    now: &AdoptionProfile,
    then: Option<&BaselinePoint>,
    config: &AdoptionConfig,
) -> AccountProgress {
    // "At least" min_change, up to rounding: 0.50 − 0.45 is 0.0499…, and a drop from
    // 10 to 9 of 20 features must count like a rise from 10 to 11.
    let min = config.progress.min_change - 1e-9;
    let trend = match (now.breadth, then.and_then(|t| t.breadth)) {
        (Some(n), Some(t)) if n - t >= min => Trend::Improved,
        (Some(n), Some(t)) if t - n >= min => Trend::Declined,
        (Some(_), Some(_)) => Trend::Stable,
        _ if then.is_none() => Trend::New,
        _ => Trend::Stable,
    };
    AccountProgress {
        account_id: now.account_id.clone(),
        account_name: now.account_name.clone(),
        level_now: now.level,
        level_then: then.map(|t| t.level),
        breadth_now: now.breadth,
        breadth_then: then.and_then(|t| t.breadth),
        depth_now: now.depth,
        depth_then: then.and_then(|t| t.depth),
        trend,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttentionAccount {
    pub account_id: String,
    pub account_name: String,
    pub plan_tier: Option<String>,
    pub arr: Option<f64>,
    pub breadth: Option<f64>,
    pub key_gap: Option<String>,
    pub cause: Option<String>,
    pub trend: Trend,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemicPattern {
    pub feature_key: String,
    pub name: String,
    /// Accounts with access that do not use it.
    pub accounts_without: usize,
    pub share_without: f64,
    /// Accounts that used it in the window before and dropped it.
    pub dropped: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdoptionReport {
    pub as_of: NaiveDate,
    pub baseline: Option<NaiveDate>,
    pub accounts: usize,
    pub levels_now: BTreeMap<String, usize>,
    pub levels_then: BTreeMap<String, usize>,
    pub improved: usize,
    pub declined: usize,
    pub stable: usize,
    pub causes: BTreeMap<String, usize>,
    pub attention: Vec<AttentionAccount>,
    pub systemic: Vec<SystemicPattern>,
    pub summary: String,
    pub progress: Vec<AccountProgress>,
}

/// The portfolio report. `then` holds the baseline profiles (any order).
pub fn report(
    now: &[AccountAdoption],
    then: &[BaselinePoint],
    baseline: Option<NaiveDate>,
    config: &AdoptionConfig,
    attention_limit: usize,
) -> AdoptionReport {
    let by_id: BTreeMap<&str, &BaselinePoint> =
        then.iter().map(|p| (p.account_id.as_str(), p)).collect();
    let progress: Vec<AccountProgress> = now
        .iter()
        .map(|a| {
            account_progress(
                &a.profile,
                by_id.get(a.profile.account_id.as_str()).copied(),
                config,
            )
        })
        .collect();
    let mut levels_now = BTreeMap::new();
    let mut levels_then = BTreeMap::new();
    for level in [Level::High, Level::Medium, Level::Low] {
        levels_now.insert(
            level.as_str().to_string(),
            now.iter().filter(|a| a.profile.level == level).count(),
        );
        levels_then.insert(
            level.as_str().to_string(),
            then.iter().filter(|p| p.level == level).count(),
        );
    }
    let count = |trend: Trend| progress.iter().filter(|p| p.trend == trend).count();
    let mut causes: BTreeMap<String, usize> = BTreeMap::new();
    for a in now {
        if let Some(c) = &a.cause {
            *causes.entry(c.cause.clone()).or_default() += 1;
        }
    }
    let mut attention: Vec<AttentionAccount> = now
        .iter()
        .zip(&progress)
        .filter(|(a, p)| a.profile.level == Level::Low || p.trend == Trend::Declined)
        .map(|(a, p)| AttentionAccount {
            account_id: a.profile.account_id.clone(),
            account_name: a.profile.account_name.clone(),
            plan_tier: a.profile.plan_tier.clone(),
            arr: a.profile.arr,
            breadth: a.profile.breadth,
            key_gap: a.gaps.first().map(|g| g.name.clone()),
            cause: a.cause.as_ref().map(|c| c.label.clone()),
            trend: p.trend,
        })
        .collect();
    attention.sort_by(|a, b| {
        b.arr
            .unwrap_or(0.0)
            .total_cmp(&a.arr.unwrap_or(0.0))
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    let attention_total = attention.len();
    attention.truncate(attention_limit);
    // Systemic: per feature, accounts with access not using it, and accounts dropping it.
    let mut without: BTreeMap<String, (String, usize, usize, usize)> = BTreeMap::new();
    for a in now {
        for f in a.profile.features.iter().filter(|f| f.entitled) {
            let entry = without
                .entry(f.key.clone())
                .or_insert((f.name.clone(), 0, 0, 0));
            entry.1 += 1;
            if !f.used {
                entry.2 += 1;
            }
            if f.abandoned {
                entry.3 += 1;
            }
        }
    }
    let mut systemic: Vec<SystemicPattern> = without
        .into_iter()
        .filter(|(_, (_, entitled, _, _))| *entitled > 0)
        .map(|(key, (name, entitled, unused, dropped))| SystemicPattern {
            feature_key: key,
            name,
            accounts_without: unused,
            share_without: unused as f64 / entitled as f64,
            dropped,
        })
        .collect();
    systemic.sort_by(|a, b| {
        b.share_without
            .total_cmp(&a.share_without)
            .then_with(|| a.feature_key.cmp(&b.feature_key))
    });
    systemic.truncate(5);
    let total = now.len();
    let share = |n: usize| {
        if total > 0 {
            percent(n as f64 / total as f64)
        } else {
            "0%".into()
        }
    };
    let high = levels_now.get("high").copied().unwrap_or(0);
    let medium = levels_now.get("medium").copied().unwrap_or(0);
    let low = levels_now.get("low").copied().unwrap_or(0);
    let low_then = levels_then.get("low").copied().unwrap_or(0);
    let arr_at_risk: f64 = now
        .iter()
        .filter(|a| a.profile.level == Level::Low)
        .filter_map(|a| a.profile.arr)
        .sum();
    let top_cause = causes
        .iter()
        .filter(|(c, _)| c.as_str() != super::causes::UNKNOWN)
        .max_by_key(|(_, n)| **n)
        .map(|(c, n)| {
            format!(
                "The most common cause of low adoption is {} ({n} accounts).",
                c.replace('_', " ")
            )
        });
    let systemic_text = systemic
        .iter()
        .take(2)
        .map(|s| {
            format!(
                "{} ({} of accounts with access do not use it)",
                s.name,
                percent(s.share_without)
            )
        })
        .collect::<Vec<_>>();
    let mut summary = format!(
        "Of {total} accounts, {high} ({}) are at high adoption, {medium} ({}) at medium and {low} ({}) at low, holding {} of ARR.",
        share(high),
        share(medium),
        share(low),
        format_money(arr_at_risk)
    );
    if let Some(date) = baseline {
        summary.push_str(&format!(
            " Since {date}, {} accounts improved and {} declined; low-adoption accounts went from {low_then} to {low}.",
            count(Trend::Improved),
            count(Trend::Declined)
        ));
    }
    if let Some(text) = top_cause {
        summary.push(' ');
        summary.push_str(&text);
    }
    if !systemic_text.is_empty() {
        summary.push_str(&format!(" Systemic gaps: {}.", systemic_text.join("; ")));
    }
    summary.push_str(&format!(
        " {attention_total} accounts need attention (low adoption or declining)."
    ));
    AdoptionReport {
        as_of: now.first().map_or(NaiveDate::MIN, |a| a.profile.as_of),
        baseline,
        accounts: total,
        levels_now,
        levels_then,
        improved: count(Trend::Improved),
        declined: count(Trend::Declined),
        stable: count(Trend::Stable),
        causes,
        attention,
        systemic,
        summary,
        progress,
    }
}
