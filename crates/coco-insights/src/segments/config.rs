//! The tiering model (`config/segments.toml`, which documents every field).

use serde::{Deserialize, Serialize};

use crate::frame::MetricMeta;
use crate::settings::{SettingsError, invalid};
use crate::values::is_known_source;

pub const DEFAULT_SEGMENTS: &str = include_str!("../../../../config/segments.toml");

/// Values the engine supplies beside the snapshot that factors may name.
pub const SIDE_SOURCES: &[&str] = &[
    "health_score",
    "churn_probability",
    "expansion_potential",
    "products_held",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SegmentsConfig {
    pub version: String,
    pub model: ModelInfo,
    pub factors: Vec<FactorDef>,
    pub tiers: Vec<TierDef>,
    pub migration: MigrationConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    pub name: String,
    pub rationale: String,
    pub reassess_every_days: u32,
    #[serde(default)]
    pub data_inputs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FactorDef {
    pub key: String,
    pub label: String,
    pub weight: f64,
    pub rationale: String,
    #[serde(default)]
    pub inputs: Vec<InputDef>,
    #[serde(default)]
    pub proxy: Vec<InputDef>,
    #[serde(default)]
    pub flags: Vec<FlagDef>,
}

/// One number of the account turned into 0–100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InputDef {
    pub source: String,
    #[serde(default)]
    pub percentile: bool,
    pub zero: Option<f64>,
    pub full: Option<f64>,
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

/// A yes/no fact about the account: a completed milestone, a text attribute among
/// values, or a truthy custom attribute of the accounts file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FlagDef {
    pub label: String,
    #[serde(default = "one")]
    pub weight: f64,
    pub milestone: Option<String>,
    pub attribute: Option<String>,
    #[serde(default)]
    pub any_of: Vec<String>,
    pub custom: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TierDef {
    pub key: String,
    pub label: String,
    pub min_score: f64,
    pub min_arr: Option<f64>,
    pub coverage: String,
    pub accounts_per_csm: f64,
    pub definition: String,
    pub coverage_plan: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MigrationConfig {
    pub renewal_window_days: u32,
    #[serde(default)]
    pub risks: Vec<RiskCondition>,
}

/// `source` within `[at_least, at_most]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RiskCondition {
    pub label: String,
    pub source: String,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
}

impl SegmentsConfig {
    pub fn from_toml(text: &str) -> Result<SegmentsConfig, SettingsError> {
        Ok(toml::from_str(text)?)
    }

    pub fn tier(&self, key: &str) -> Option<&TierDef> {
        self.tiers.iter().find(|t| t.key == key)
    }

    /// The rank of a coverage model: 0 = the most attention (`high_touch`).
    pub fn coverage_rank(coverage: &str) -> Option<usize> {
        coco_core::contract::COVERAGE_MODELS
            .iter()
            .position(|c| *c == coverage)
    }

    /// Checks meaning against the metric catalogue, naming the field at fault.
    pub fn validate(&self, metrics: &[MetricMeta]) -> Result<(), SettingsError> {
        if self.factors.is_empty() {
            return Err(invalid("factors", "at least one factor is needed"));
        }
        let known = |s: &str| is_known_source(s, metrics, SIDE_SOURCES);
        for (i, factor) in self.factors.iter().enumerate() {
            let at = format!("factors[{i}] ({})", factor.key);
            if !(factor.weight.is_finite() && factor.weight > 0.0) {
                return Err(invalid(&at, "weight must be a positive number"));
            }
            if factor.inputs.is_empty() && factor.flags.is_empty() {
                return Err(invalid(&at, "needs inputs or flags"));
            }
            if self.factors[..i].iter().any(|f| f.key == factor.key) {
                return Err(invalid(&at, "the key is used twice"));
            }
            for (j, input) in factor.inputs.iter().chain(&factor.proxy).enumerate() {
                let at = format!("{at}.inputs[{j}]");
                if !known(&input.source) {
                    return Err(invalid(
                        &at,
                        format!(
                            "unknown source `{}`: not a metric of the catalogue, an account number ({}) or one of {}",
                            input.source,
                            crate::values::NUMERIC_ATTRIBUTES.join(", "),
                            SIDE_SOURCES.join(", ")
                        ),
                    ));
                }
                match (input.percentile, input.zero, input.full) {
                    (true, None, None) => {}
                    (false, Some(zero), Some(full)) if zero.is_finite() && full.is_finite() => {}
                    _ => {
                        return Err(invalid(
                            &at,
                            "set either `percentile = true` or both `zero` and `full`",
                        ));
                    }
                }
                if !(input.weight.is_finite() && input.weight > 0.0) {
                    return Err(invalid(&at, "weight must be a positive number"));
                }
            }
            for (j, flag) in factor.flags.iter().enumerate() {
                let at = format!("{at}.flags[{j}]");
                let kinds = [
                    flag.milestone.is_some(),
                    flag.attribute.is_some(),
                    flag.custom.is_some(),
                ];
                if kinds.iter().filter(|k| **k).count() != 1 {
                    return Err(invalid(
                        &at,
                        "set exactly one of `milestone`, `attribute` (with `any_of`), `custom`",
                    ));
                }
                if flag.attribute.is_some() && flag.any_of.is_empty() {
                    return Err(invalid(&at, "`attribute` needs `any_of` values"));
                }
            }
        }
        if self.tiers.is_empty() {
            return Err(invalid("tiers", "at least one tier is needed"));
        }
        for (i, tier) in self.tiers.iter().enumerate() {
            let at = format!("tiers[{i}] ({})", tier.key);
            if Self::coverage_rank(&tier.coverage).is_none() {
                return Err(invalid(
                    &at,
                    format!(
                        "coverage `{}` is not one of {}",
                        tier.coverage,
                        coco_core::contract::COVERAGE_MODELS.join(", ")
                    ),
                ));
            }
            if !(tier.accounts_per_csm.is_finite() && tier.accounts_per_csm > 0.0) {
                return Err(invalid(&at, "accounts_per_csm must be positive"));
            }
            if i > 0 && tier.min_score > self.tiers[i - 1].min_score {
                return Err(invalid(
                    &at,
                    "tiers go from the most to the least attention: min_score may not rise",
                ));
            }
            if self.tiers[..i].iter().any(|t| t.key == tier.key) {
                return Err(invalid(&at, "the key is used twice"));
            }
        }
        if self
            .tiers
            .last()
            .is_some_and(|t| t.min_score > 0.0 || t.min_arr.is_some())
        {
            return Err(invalid(
                "tiers",
                "the last tier must take every account (min_score = 0, no min_arr)",
            ));
        }
        for (i, risk) in self.migration.risks.iter().enumerate() {
            let at = format!("migration.risks[{i}]");
            if !known(&risk.source) {
                return Err(invalid(&at, format!("unknown source `{}`", risk.source)));
            }
            if risk.at_least.is_none() && risk.at_most.is_none() {
                return Err(invalid(&at, "set at_least, at_most or both"));
            }
        }
        Ok(())
    }
}
