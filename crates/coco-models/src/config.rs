//! `config/models.toml`: label definition, training, calibration, tiers, evaluation.

use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::encode::EncoderOptions;
use crate::learner::TreeParams;

/// The shipped model configuration.
pub const DEFAULT_MODELS: &str = include_str!("../../../config/models.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    pub version: String,
    pub label: LabelConfig,
    pub training: TrainingConfig,
    pub encoding: EncoderOptions,
    pub logistic: LogisticConfig,
    pub trees: Vec<TreeParams>,
    pub tiers: Vec<Tier>,
    pub evaluation: EvaluationConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelConfig {
    pub horizon_days: u32,
    pub include_downgrades: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    pub seed: u64,
    pub folds: usize,
    pub max_training_rows: usize,
    /// Store mode: at most this many test-window observations are evaluated (every
    /// observation of a random sample of accounts).
    pub max_test_rows: usize,
    pub calibration: String,
    pub bootstrap_rounds: usize,
    pub backtest_share: f64,
    pub holdout_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogisticConfig {
    pub alphas: Vec<f64>,
    pub max_iterations: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub name: String,
    pub min_probability: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationConfig {
    pub high_risk_tier: String,
    pub baseline_metric: String,
    pub baseline_lower_is_riskier: bool,
}

/// The tier a probability falls in (tiers listed highest first, the last at 0).
pub fn tier_of(tiers: &[Tier], probability: f64) -> &str {
    tiers
        .iter()
        .find(|t| probability >= t.min_probability)
        .map_or("low", |t| t.name.as_str())
}

impl Default for ModelConfig {
    fn default() -> Self {
        // The shipped file is tested to parse (`shipped_configuration_parses`).
        ModelConfig::from_toml(DEFAULT_MODELS).unwrap_or_else(|e| panic!("config/models.toml: {e}"))
    }
}

impl ModelConfig {
    pub fn from_toml(text: &str) -> Result<ModelConfig, ModelError> {
        let config: ModelConfig =
            toml::from_str(text).map_err(|e| ModelError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ModelError> {
        let problem = |m: String| Err(ModelError::Config(m));
        if self.label.horizon_days == 0 {
            return problem("label.horizon_days must be at least 1".into());
        }
        if self.training.folds < 2 {
            return problem("training.folds must be at least 2".into());
        }
        if !["auto", "platt", "isotonic"].contains(&self.training.calibration.as_str()) {
            return problem(format!(
                "training.calibration is `{}`; use auto, platt or isotonic",
                self.training.calibration
            ));
        }
        for (name, share) in [
            ("training.backtest_share", self.training.backtest_share),
            ("training.holdout_share", self.training.holdout_share),
        ] {
            if !(share > 0.0 && share < 1.0) {
                return problem(format!("{name} must be between 0 and 1, is {share}"));
            }
        }
        if self.logistic.alphas.is_empty()
            || self.logistic.alphas.iter().any(|a| a.is_nan() || *a <= 0.0)
        {
            return problem("logistic.alphas must list positive numbers".into());
        }
        if self.trees.is_empty() {
            return problem("at least one [[trees]] candidate is needed".into());
        }
        if self.tiers.is_empty() || self.tiers.last().map(|t| t.min_probability) != Some(0.0) {
            return problem("[[tiers]] must end with a tier at min_probability = 0".into());
        }
        if self
            .tiers
            .windows(2)
            .any(|w| w[0].min_probability <= w[1].min_probability)
        {
            return problem(
                "[[tiers]] must be listed from the highest min_probability down".into(),
            );
        }
        if !self
            .tiers
            .iter()
            .any(|t| t.name == self.evaluation.high_risk_tier)
        {
            return problem(format!(
                "evaluation.high_risk_tier `{}` is not one of the [[tiers]]",
                self.evaluation.high_risk_tier
            ));
        }
        Ok(())
    }

    /// The probability at which the high-risk tier starts.
    pub fn high_risk_threshold(&self) -> f64 {
        self.tiers
            .iter()
            .find(|t| t.name == self.evaluation.high_risk_tier)
            .map_or(0.25, |t| t.min_probability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_configuration_parses() {
        let config = ModelConfig::from_toml(DEFAULT_MODELS).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.label.horizon_days, 90);
        assert_eq!(tier_of(&config.tiers, 0.3), "high");
        assert_eq!(tier_of(&config.tiers, 0.01), "low");
        assert_eq!(config.high_risk_threshold(), 0.25);
    }

    #[test]
    fn bad_tiers_are_refused_with_the_reason() {
        let text = DEFAULT_MODELS.replace("min_probability = 0.1\n", "min_probability = 0.9\n");
        let err = ModelConfig::from_toml(&text).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("highest min_probability down")),
            "{err:?}"
        );
    }
}
