//! The adoption configuration (`config/adoption.toml`, which documents every field).

use serde::{Deserialize, Serialize};

use crate::frame::MetricMeta;
use crate::settings::{SettingsError, invalid};

pub const DEFAULT_ADOPTION: &str = include_str!("../../../../config/adoption.toml");

/// What reading or checking the file can fail with.
pub type AdoptionConfigError = SettingsError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdoptionConfig {
    pub version: String,
    pub window_days: u32,
    pub levels: LevelsConfig,
    pub gaps: GapsConfig,
    #[serde(default, rename = "cause")]
    pub causes: Vec<CauseRule>,
    pub plan: PlanConfig,
    pub ttv: TtvConfig,
    pub progress: ProgressConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelsConfig {
    pub high_min_core: usize,
    pub medium_min_core: usize,
    pub low_max_breadth: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapsConfig {
    pub peer_weight: f64,
    pub retention_weight: f64,
    pub tier_weight: f64,
    pub significance: f64,
    pub min_peers: usize,
    pub retention_lead_days: u32,
    /// The most valuable gaps kept per account.
    #[serde(default = "default_keep")]
    pub keep: usize,
}

fn default_keep() -> usize {
    10
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CauseRule {
    pub cause: String,
    pub label: String,
    pub when: Vec<CauseCondition>,
    pub response: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CauseCondition {
    pub metric: Option<String>,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    pub milestone: Option<String>,
    pub state: Option<String>,
    pub abandoned_at_least: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    pub features: usize,
    pub weeks_per_feature: usize,
    pub week_steps: Vec<String>,
    pub cause_step: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TtvConfig {
    pub first_value: String,
    pub target_days: u32,
    pub onboarding_days: u32,
    #[serde(default, rename = "milestone")]
    pub milestones: Vec<ValueMilestone>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueMilestone {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub features: Vec<String>,
    pub at_least: Option<f64>,
    pub key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressConfig {
    pub baseline_days: u32,
    pub min_change: f64,
}

impl AdoptionConfig {
    pub fn from_toml(text: &str) -> Result<AdoptionConfig, AdoptionConfigError> {
        Ok(toml::from_str(text)?)
    }

    pub fn shipped() -> Result<AdoptionConfig, AdoptionConfigError> {
        AdoptionConfig::from_toml(DEFAULT_ADOPTION)
    }

    pub fn validate(&self, metrics: &[MetricMeta]) -> Result<(), AdoptionConfigError> {
        if self.window_days == 0 {
            return Err(invalid("window_days", "must be at least 1"));
        }
        if self.levels.medium_min_core > self.levels.high_min_core {
            return Err(invalid(
                "levels",
                "medium_min_core must not exceed high_min_core",
            ));
        }
        for (index, rule) in self.causes.iter().enumerate() {
            let at = format!("cause[{}] `{}`", index + 1, rule.cause);
            if rule.when.is_empty() {
                return Err(invalid(&at, "`when` lists no condition"));
            }
            for condition in &rule.when {
                let parts = [
                    condition.metric.is_some(),
                    condition.milestone.is_some(),
                    condition.abandoned_at_least.is_some(),
                ]
                .iter()
                .filter(|set| **set)
                .count();
                if parts != 1 {
                    return Err(invalid(
                        &at,
                        "each condition needs exactly one of `metric`, `milestone`, `abandoned_at_least`",
                    ));
                }
                if let Some(metric) = &condition.metric {
                    if !metrics.iter().any(|m| &m.name == metric) {
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
                }
                if condition.milestone.is_some() && condition.state.as_deref() != Some("open") {
                    return Err(invalid(
                        &at,
                        "a milestone condition needs `state = \"open\"`",
                    ));
                }
            }
        }
        if self.plan.week_steps.is_empty() {
            return Err(invalid("plan.week_steps", "lists no step"));
        }
        for milestone in &self.ttv.milestones {
            let at = format!("ttv.milestone `{}`", milestone.name);
            match milestone.kind.as_str() {
                "first_use" if milestone.features.is_empty() => {
                    return Err(invalid(&at, "a first_use milestone needs `features`"));
                }
                "active_users" if milestone.at_least.is_none() => {
                    return Err(invalid(&at, "an active_users milestone needs `at_least`"));
                }
                "milestone" if milestone.key.is_none() => {
                    return Err(invalid(&at, "a milestone milestone needs `key`"));
                }
                "first_use" | "active_users" | "milestone" => {}
                other => {
                    return Err(invalid(
                        &at,
                        format!("unknown kind `{other}` (first_use, active_users, milestone)"),
                    ));
                }
            }
        }
        if !self
            .ttv
            .milestones
            .iter()
            .any(|m| m.name == self.ttv.first_value)
        {
            return Err(invalid(
                "ttv.first_value",
                format!("names no milestone `{}`", self.ttv.first_value),
            ));
        }
        Ok(())
    }
}
