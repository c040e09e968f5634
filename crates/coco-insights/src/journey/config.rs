//! The journey configuration (`config/journey.toml`, which documents every field).

use serde::{Deserialize, Serialize};

use crate::frame::MetricMeta;
use crate::settings::{SettingsError, invalid};
use crate::values::is_known_source;

pub const DEFAULT_JOURNEY: &str = include_str!("../../../../config/journey.toml");

/// Values the engine supplies beside the snapshot that journey conditions may name.
pub const SIDE_SOURCES: &[&str] = &["health_score", "churn_probability"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JourneyConfig {
    pub version: String,
    pub stages: Vec<StageDef>,
    pub classification: ClassificationConfig,
    #[serde(default)]
    pub conflicts: Vec<ConflictDef>,
    pub milestones: MilestonesConfig,
    pub compare: CompareConfig,
    pub dropoff: DropoffConfig,
    pub scorecard: ScorecardConfig,
    pub onboarding: OnboardingConfig,
    pub touchpoints: TouchpointsConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StageDef {
    pub key: String,
    pub label: String,
    pub expected_days: u32,
    pub entry: String,
    pub exit: String,
    #[serde(default)]
    pub milestones: Vec<String>,
    #[serde(default)]
    pub warning_signs: Vec<String>,
    #[serde(default)]
    pub actions: Vec<String>,
    pub criteria: Vec<Condition>,
}

/// A condition on a number (`source` within bounds) or on a milestone (`done`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Condition {
    #[serde(default)]
    pub label: String,
    pub source: Option<String>,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    pub milestone: Option<String>,
    pub done: Option<bool>,
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

impl Condition {
    /// Whether a value lies within the bounds.
    pub fn within(&self, value: f64) -> bool {
        self.at_least.is_none_or(|min| value >= min) && self.at_most.is_none_or(|max| value <= max)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClassificationConfig {
    pub history_weeks: usize,
    pub confidence_high: f64,
    pub confidence_medium: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConflictDef {
    pub label: String,
    pub all: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MilestonesConfig {
    pub grace_days: u32,
    #[serde(default)]
    pub prefixes: Vec<String>,
    pub cohort_by: String,
    pub skipped_below: f64,
    pub significance: f64,
    pub min_group: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompareConfig {
    pub lookback_days: u32,
    pub lead_days: u32,
    pub variables: Vec<String>,
    pub top: usize,
    pub leads: Vec<u32>,
    pub predictable_auc: f64,
    /// At most this many renewals are compared: every churned one (up to half) and a
    /// deterministic sample of the retained (by account id hash). 0 = all.
    #[serde(default)]
    pub max_renewals: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DropoffConfig {
    pub metric: String,
    pub step_weeks: usize,
    pub drop_share: f64,
    pub min_level: f64,
    pub max_tenure_month: u32,
    pub failure_points: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScorecardConfig {
    pub deviation_quantile: f64,
    #[serde(default)]
    pub interventions: Vec<Intervention>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Intervention {
    pub on: String,
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OnboardingConfig {
    pub stall_days: u32,
    pub max_days: u32,
    pub go_live: String,
    /// The milestone that marks first value (time to first value).
    #[serde(default)]
    pub first_value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TouchpointsConfig {
    pub silent_days: u32,
    pub engaged_days: u32,
    pub single_threaded_max: usize,
}

impl JourneyConfig {
    pub fn from_toml(text: &str) -> Result<JourneyConfig, SettingsError> {
        Ok(toml::from_str(text)?)
    }

    pub fn stage(&self, key: &str) -> Option<&StageDef> {
        self.stages.iter().find(|s| s.key == key)
    }

    /// The milestone a key belongs to: `renewal_prep_202611` → `renewal_prep`.
    pub fn milestone_key<'a>(&'a self, key: &'a str) -> &'a str {
        self.milestones
            .prefixes
            .iter()
            .find(|p| key.starts_with(p.as_str()))
            .map_or(key, |p| p.trim_end_matches('_'))
    }

    /// The intervention for a flagged variable or milestone.
    pub fn intervention(&self, on: &str) -> Option<&str> {
        self.scorecard
            .interventions
            .iter()
            .find(|i| i.on == on)
            .map(|i| i.action.as_str())
    }

    /// Checks meaning against the metric catalogue, naming the field at fault.
    pub fn validate(&self, metrics: &[MetricMeta]) -> Result<(), SettingsError> {
        if self.stages.is_empty() {
            return Err(invalid("stages", "at least one stage is needed"));
        }
        let check = |at: &str, c: &Condition| -> Result<(), SettingsError> {
            match (&c.source, &c.milestone) {
                (Some(source), None) => {
                    if !is_known_source(source, metrics, SIDE_SOURCES) {
                        return Err(invalid(
                            at,
                            format!(
                                "unknown source `{source}`: not a metric of the catalogue, an account number or one of {}",
                                SIDE_SOURCES.join(", ")
                            ),
                        ));
                    }
                    if c.at_least.is_none() && c.at_most.is_none() {
                        return Err(invalid(at, "set at_least, at_most or both"));
                    }
                }
                (None, Some(_)) => {
                    if c.done.is_none() {
                        return Err(invalid(at, "a milestone condition needs `done`"));
                    }
                }
                _ => {
                    return Err(invalid(at, "set exactly one of `source`, `milestone`"));
                }
            }
            if !(c.weight.is_finite() && c.weight > 0.0) {
                return Err(invalid(at, "weight must be a positive number"));
            }
            Ok(())
        };
        for (i, stage) in self.stages.iter().enumerate() {
            let at = format!("stages[{i}] ({})", stage.key);
            if stage.criteria.is_empty() {
                return Err(invalid(&at, "a stage needs criteria"));
            }
            if self.stages[..i].iter().any(|s| s.key == stage.key) {
                return Err(invalid(&at, "the key is used twice"));
            }
            for (j, c) in stage.criteria.iter().enumerate() {
                check(&format!("{at}.criteria[{j}]"), c)?;
            }
        }
        for (i, conflict) in self.conflicts.iter().enumerate() {
            if conflict.all.len() < 2 {
                return Err(invalid(
                    &format!("conflicts[{i}]"),
                    "a conflict needs at least two conditions",
                ));
            }
            for (j, c) in conflict.all.iter().enumerate() {
                check(&format!("conflicts[{i}].all[{j}]"), c)?;
            }
        }
        for (i, v) in self.compare.variables.iter().enumerate() {
            if !is_known_source(v, metrics, SIDE_SOURCES) {
                return Err(invalid(
                    &format!("compare.variables[{i}]"),
                    format!("unknown source `{v}`"),
                ));
            }
        }
        if !metrics.iter().any(|m| m.name == self.dropoff.metric) {
            return Err(invalid(
                "dropoff.metric",
                format!("`{}` is not a metric of the catalogue", self.dropoff.metric),
            ));
        }
        if !(0.0..1.0).contains(&self.dropoff.drop_share) || self.dropoff.step_weeks == 0 {
            return Err(invalid(
                "dropoff",
                "drop_share must be in [0, 1) and step_weeks at least 1",
            ));
        }
        if !(0.0 < self.milestones.significance && self.milestones.significance < 1.0) {
            return Err(invalid("milestones.significance", "must be in (0, 1)"));
        }
        if !(0.0 < self.scorecard.deviation_quantile && self.scorecard.deviation_quantile < 1.0) {
            return Err(invalid("scorecard.deviation_quantile", "must be in (0, 1)"));
        }
        Ok(())
    }
}
