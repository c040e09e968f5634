//! The workload configuration (`config/workload.toml`, which documents every field).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::frame::MetricMeta;
use crate::journey::config::Condition;
use crate::settings::{SettingsError, invalid};
use crate::values::is_known_source;

pub const DEFAULT_WORKLOAD: &str = include_str!("../../../../config/workload.toml");

/// Values the engine supplies beside the snapshot that effort items may name.
pub const SIDE_SOURCES: &[&str] = &["health_score", "churn_probability"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkloadConfig {
    pub version: String,
    pub effort: EffortConfig,
    pub capacity: CapacityConfig,
    pub rebalance: RebalanceConfig,
    pub planning: PlanningConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EffortConfig {
    pub base_hours: BTreeMap<String, f64>,
    pub default_base_hours: f64,
    pub stage_multiplier: BTreeMap<String, f64>,
    pub complexity_weight: f64,
    #[serde(default)]
    pub items: Vec<EffortItem>,
}

/// Hours per unit of `source` (capped), or `hours` once when the value lies within
/// `at_least`/`at_most`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EffortItem {
    pub label: String,
    pub source: String,
    pub hours: f64,
    pub cap: Option<f64>,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CapacityConfig {
    pub hours_per_month: f64,
    pub overloaded: f64,
    pub underloaded: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RebalanceConfig {
    pub same_region: bool,
    #[serde(default)]
    pub keep: Vec<Condition>,
    #[serde(default)]
    pub keep_stages: Vec<String>,
    #[serde(default)]
    pub segment_teams: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub skills: Vec<SkillRule>,
    pub search: SearchConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SkillRule {
    pub attribute: String,
    pub equals: String,
    pub skill: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    pub move_penalty: f64,
    pub max_moves: usize,
    pub swap_rounds: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanningConfig {
    pub growth_window_days: u32,
    pub horizon_months: u32,
    pub target_load: f64,
}

impl WorkloadConfig {
    pub fn from_toml(text: &str) -> Result<WorkloadConfig, SettingsError> {
        Ok(toml::from_str(text)?)
    }

    pub fn validate(&self, metrics: &[MetricMeta]) -> Result<(), SettingsError> {
        for (coverage, hours) in &self.effort.base_hours {
            if !coco_core::contract::COVERAGE_MODELS.contains(&coverage.as_str()) {
                return Err(invalid(
                    &format!("effort.base_hours.{coverage}"),
                    format!(
                        "not a coverage model ({})",
                        coco_core::contract::COVERAGE_MODELS.join(", ")
                    ),
                ));
            }
            if !(hours.is_finite() && *hours >= 0.0) {
                return Err(invalid(
                    &format!("effort.base_hours.{coverage}"),
                    "hours must be zero or more",
                ));
            }
        }
        for (i, item) in self.effort.items.iter().enumerate() {
            if !is_known_source(&item.source, metrics, SIDE_SOURCES) {
                return Err(invalid(
                    &format!("effort.items[{i}]"),
                    format!("unknown source `{}`", item.source),
                ));
            }
        }
        for (i, c) in self.rebalance.keep.iter().enumerate() {
            let ok = c
                .source
                .as_deref()
                .is_some_and(|s| is_known_source(s, metrics, SIDE_SOURCES));
            if !ok {
                return Err(invalid(
                    &format!("rebalance.keep[{i}]"),
                    "needs a known `source` (a metric or account number)",
                ));
            }
        }
        if !(self.capacity.hours_per_month.is_finite() && self.capacity.hours_per_month > 0.0) {
            return Err(invalid("capacity.hours_per_month", "must be positive"));
        }
        if self.planning.target_load.is_nan() || self.planning.target_load <= 0.0 {
            return Err(invalid("planning.target_load", "must be positive"));
        }
        Ok(())
    }
}
