//! The expansion configuration (`config/expansion.toml`, which documents every field):
//! signal thresholds, timing rules, the price book, the win-probability prior and the
//! priority weights. [`ExpansionConfig::validate`] checks the meaning against the metric
//! catalogue and names the field at fault.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::frame::MetricMeta;
use crate::settings::{SettingsError, invalid};

pub const DEFAULT_EXPANSION: &str = include_str!("../../../../config/expansion.toml");

/// What reading or checking the file can fail with.
pub type ExpansionConfigError = SettingsError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpansionConfig {
    pub version: String,
    pub signals: SignalsConfig,
    pub timing: TimingConfig,
    pub price_book: PriceBook,
    pub win_probability: WinProbabilityConfig,
    pub priority: PriorityConfig,
    #[serde(default)]
    pub talking_points: TalkingPointsConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalsConfig {
    pub seat_pressure: SeatPressureConfig,
    pub tier_fit: TierFitConfig,
    pub power_users: PowerUsersConfig,
    pub usage_growth: UsageGrowthConfig,
    pub module_gap: ModuleGapConfig,
    pub new_team: NewTeamConfig,
    pub cross_sell: super::crosssell::CrossSellConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatPressureConfig {
    pub enabled: bool,
    /// Utilisation and user-count metrics, and the ones used when those are missing.
    pub metric: String,
    pub users_metric: String,
    pub fallback_metric: String,
    pub fallback_users_metric: String,
    pub threshold: f64,
    pub min_weeks: usize,
    pub trend_weeks: usize,
    pub target_utilisation: f64,
    pub min_added_seats: u32,
    /// Seats proposed for a wider roll-out (power users, new teams, growth), as a share
    /// of the current seats.
    #[serde(default = "default_rollout_share")]
    pub rollout_share: f64,
}

fn default_rollout_share() -> f64 {
    0.10
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierFitConfig {
    pub enabled: bool,
    pub min_breadth: f64,
    pub min_trial_events: f64,
    pub min_next_tier_related: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerUsersConfig {
    pub enabled: bool,
    pub min_top_share: f64,
    pub min_gini: f64,
    pub min_active_users: f64,
    pub max_seat_utilisation: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageGrowthConfig {
    pub enabled: bool,
    pub metric: String,
    pub min_growth: f64,
    pub min_events: f64,
    pub min_base_events: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleGapConfig {
    pub enabled: bool,
    pub window_days: u32,
    pub min_items: usize,
    #[serde(default)]
    pub map: Vec<ModuleGapRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleGapRule {
    pub module: String,
    #[serde(default)]
    pub ticket_categories: Vec<String>,
    #[serde(default)]
    pub subject_keywords: Vec<String>,
    #[serde(default)]
    pub workaround_features: Vec<String>,
    #[serde(default)]
    pub min_workaround_events: f64,
    /// …and at least this share of all the account's events in the window.
    #[serde(default)]
    pub min_workaround_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTeamConfig {
    pub enabled: bool,
    pub metric: String,
    pub min_new: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingConfig {
    #[serde(default, rename = "rule")]
    pub rules: Vec<TimingRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    Yellow,
    Red,
}

impl Light {
    pub fn as_str(&self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }
}

/// When to reach out, from the most eager to the most cautious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outreach {
    Now,
    // `snake_case` alone would give `in30_days`: the file and `as_str` say `in_30_days`.
    #[serde(rename = "in_30_days")]
    In30Days,
    #[serde(rename = "in_90_days")]
    In90Days,
    Hold,
}

impl Outreach {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outreach::Now => "now",
            Outreach::In30Days => "in_30_days",
            Outreach::In90Days => "in_90_days",
            Outreach::Hold => "hold",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Outreach::Now => "now",
            Outreach::In30Days => "in 30 days",
            Outreach::In90Days => "in 90 days",
            Outreach::Hold => "hold",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingRule {
    pub when: Condition,
    pub light: Light,
    pub outreach: Outreach,
    /// `{name}` is replaced by the value of that metric (or health_score,
    /// churn_probability) in its unit.
    pub reason: String,
}

/// One condition on an account: a metric bound, or health / churn state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub metric: Option<String>,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    pub health_colour: Option<String>,
    pub churn_tier: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceBook {
    pub currency: String,
    pub min_discount: f64,
    pub tiers: Vec<String>,
    pub platform_fee: BTreeMap<String, f64>,
    pub seat_price: BTreeMap<String, f64>,
    #[serde(default, rename = "module")]
    pub modules: Vec<ModulePrice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModulePrice {
    pub module: String,
    pub share_of_core: f64,
    pub minimum: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WinProbabilityConfig {
    pub min_outcomes: usize,
    pub prior_weight: f64,
    pub prior: BTreeMap<String, f64>,
    pub light_factor: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityConfig {
    pub timing_factor: BTreeMap<String, f64>,
    pub shrink_outcomes: f64,
    pub outcome_window_days: u32,
}

/// Objections and next steps per opportunity type (`seats`, `tier`, `module`); shipped
/// texts are used for types the file leaves out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TalkingPointsConfig {
    #[serde(default)]
    pub objections: BTreeMap<String, Vec<ObjectionAnswer>>,
    /// Touchpoint notes containing one of these words (any case) are read as the
    /// customer's stated goals.
    #[serde(default)]
    pub goal_keywords: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ObjectionAnswer {
    pub objection: String,
    pub answer: String,
}

impl ExpansionConfig {
    pub fn from_toml(text: &str) -> Result<ExpansionConfig, ExpansionConfigError> {
        Ok(toml::from_str(text)?)
    }

    pub fn shipped() -> Result<ExpansionConfig, ExpansionConfigError> {
        ExpansionConfig::from_toml(DEFAULT_EXPANSION)
    }

    /// Checks metric names against the catalogue, fractions, and that the price book
    /// prices every tier it lists.
    pub fn validate(&self, metrics: &[MetricMeta]) -> Result<(), ExpansionConfigError> {
        let known = |name: &str| metrics.iter().any(|m| m.name == name);
        let fraction = |at: &str, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(invalid(at, format!("must be between 0 and 1, not {value}")))
            }
        };
        let signals = &self.signals;
        fraction(
            "signals.seat_pressure.threshold",
            signals.seat_pressure.threshold,
        )?;
        if !(signals.seat_pressure.target_utilisation > 0.0
            && signals.seat_pressure.target_utilisation <= 1.0)
        {
            return Err(invalid(
                "signals.seat_pressure.target_utilisation",
                "must be above 0 and at most 1",
            ));
        }
        if signals.seat_pressure.min_weeks == 0 {
            return Err(invalid(
                "signals.seat_pressure.min_weeks",
                "must be at least 1",
            ));
        }
        fraction(
            "signals.seat_pressure.rollout_share",
            signals.seat_pressure.rollout_share,
        )?;
        fraction("signals.tier_fit.min_breadth", signals.tier_fit.min_breadth)?;
        fraction(
            "signals.power_users.min_top_share",
            signals.power_users.min_top_share,
        )?;
        fraction("signals.power_users.min_gini", signals.power_users.min_gini)?;
        let seats = &signals.seat_pressure;
        for (at, name) in [
            ("signals.seat_pressure.metric", &seats.metric),
            ("signals.seat_pressure.users_metric", &seats.users_metric),
            (
                "signals.seat_pressure.fallback_metric",
                &seats.fallback_metric,
            ),
            (
                "signals.seat_pressure.fallback_users_metric",
                &seats.fallback_users_metric,
            ),
            ("signals.usage_growth.metric", &signals.usage_growth.metric),
            ("signals.new_team.metric", &signals.new_team.metric),
        ] {
            if !known(name) {
                return Err(invalid(
                    at,
                    format!("metric `{name}` is not in the catalogue"),
                ));
            }
        }
        for name in &signals.cross_sell.features {
            if !known(name) {
                return Err(invalid(
                    "signals.cross_sell.features",
                    format!("metric `{name}` is not in the catalogue"),
                ));
            }
        }
        if signals.cross_sell.neighbours == 0 {
            return Err(invalid(
                "signals.cross_sell.neighbours",
                "must be at least 1",
            ));
        }
        for (index, rule) in self.timing.rules.iter().enumerate() {
            let at = format!("timing.rule[{}]", index + 1);
            let condition = &rule.when;
            let parts = [
                condition.metric.is_some(),
                condition.health_colour.is_some(),
                condition.churn_tier.is_some(),
            ]
            .iter()
            .filter(|set| **set)
            .count();
            if parts != 1 {
                return Err(invalid(
                    &at,
                    "`when` needs exactly one of `metric`, `health_colour`, `churn_tier`",
                ));
            }
            if let Some(metric) = &condition.metric {
                if !known(metric) {
                    return Err(invalid(
                        &at,
                        format!("metric `{metric}` is not in the catalogue"),
                    ));
                }
                if condition.at_least.is_none() && condition.at_most.is_none() {
                    return Err(invalid(
                        &at,
                        "a metric condition needs `at_least` or `at_most`",
                    ));
                }
            } else if condition.at_least.is_some() || condition.at_most.is_some() {
                return Err(invalid(
                    &at,
                    "`at_least` / `at_most` apply to a `metric` only",
                ));
            }
            if let Some(colour) = &condition.health_colour
                && !["green", "yellow", "red"].contains(&colour.as_str())
            {
                return Err(invalid(
                    &at,
                    format!("health_colour `{colour}` is not green, yellow or red"),
                ));
            }
        }
        let book = &self.price_book;
        if book.tiers.is_empty() {
            return Err(invalid("price_book.tiers", "lists no tier"));
        }
        for tier in &book.tiers {
            for (table, prices) in [
                ("platform_fee", &book.platform_fee),
                ("seat_price", &book.seat_price),
            ] {
                if !prices.contains_key(tier) {
                    return Err(invalid(
                        &format!("price_book.{table}"),
                        format!("has no price for tier `{tier}`"),
                    ));
                }
            }
        }
        for kind in ["seats", "tier", "module"] {
            match self.win_probability.prior.get(kind) {
                Some(p) => fraction(&format!("win_probability.prior.{kind}"), *p)?,
                None => {
                    return Err(invalid(
                        "win_probability.prior",
                        format!("has no prior for `{kind}`"),
                    ));
                }
            }
        }
        for outreach in ["now", "in_30_days", "in_90_days", "hold"] {
            if !self.priority.timing_factor.contains_key(outreach) {
                return Err(invalid(
                    "priority.timing_factor",
                    format!("has no factor for `{outreach}`"),
                ));
            }
        }
        Ok(())
    }

    /// Metrics of earlier snapshots the signals read: utilisation, users, growth.
    pub fn history_metrics(&self) -> Vec<String> {
        let seats = &self.signals.seat_pressure;
        vec![
            seats.metric.clone(),
            seats.users_metric.clone(),
            seats.fallback_metric.clone(),
            seats.fallback_users_metric.clone(),
            self.signals.usage_growth.metric.clone(),
        ]
    }

    /// The rank of a plan tier in the price book (0 = lowest).
    pub fn tier_rank(&self, tier: &str) -> Option<usize> {
        self.price_book.tiers.iter().position(|t| t == tier)
    }
}
