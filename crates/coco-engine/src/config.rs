//! The configuration a run uses: the metric catalogue, the health, model, expansion and
//! adoption configurations,
//! shipped defaults overridden by files in the config folder.

use std::path::{Path, PathBuf};

use coco_insights::adoption::AdoptionConfig;
use coco_insights::adoption::config::DEFAULT_ADOPTION;
use coco_insights::expansion::ExpansionConfig;
use coco_insights::expansion::config::DEFAULT_EXPANSION;
use coco_insights::frame::MetricMeta;
use coco_insights::health::HealthConfig;
use coco_insights::journey::JourneyConfig;
use coco_insights::journey::config::DEFAULT_JOURNEY;
use coco_insights::segments::SegmentsConfig;
use coco_insights::segments::config::DEFAULT_SEGMENTS;
use coco_insights::workload::WorkloadConfig;
use coco_insights::workload::config::DEFAULT_WORKLOAD;
use coco_metrics::Catalogue;
use coco_models::ModelConfig;
use coco_models::config::DEFAULT_MODELS;

use crate::EngineError;

/// The shipped health configuration (scorecards, cohorts, decline rule).
pub const DEFAULT_HEALTH: &str = include_str!("../../../config/health.toml");

pub const METRICS_FILE: &str = "metrics.toml";
pub const HEALTH_FILE: &str = "health.toml";
pub const MODELS_FILE: &str = "models.toml";
pub const EXPANSION_FILE: &str = "expansion.toml";
pub const ADOPTION_FILE: &str = "adoption.toml";
pub const SEGMENTS_FILE: &str = "segments.toml";
pub const WORKLOAD_FILE: &str = "workload.toml";
pub const JOURNEY_FILE: &str = "journey.toml";

pub struct Config {
    pub catalogue: Catalogue,
    pub health: HealthConfig,
    /// Where each part came from, for messages and `coco metrics list`.
    pub catalogue_origin: String,
    pub health_origin: String,
    /// Churn models: label, training, calibration, tiers (`config/models.toml`, or a
    /// whole replacement file in the config folder).
    pub models: ModelConfig,
    /// The text `models` was read from (hashed into every trained model).
    pub models_text: String,
    pub models_origin: String,
    /// Expansion signals, timing, price book, priority (`config/expansion.toml`).
    pub expansion: ExpansionConfig,
    pub expansion_origin: String,
    /// Adoption levels, gaps, causes, plans, time to value (`config/adoption.toml`).
    pub adoption: AdoptionConfig,
    pub adoption_origin: String,
    /// The coverage tiering model (`config/segments.toml`).
    pub segments: SegmentsConfig,
    pub segments_origin: String,
    /// Effort, capacity, rebalancing, planning (`config/workload.toml`).
    pub workload: WorkloadConfig,
    pub workload_origin: String,
    /// Stages, milestones and the journey analyses (`config/journey.toml`).
    pub journey: JourneyConfig,
    pub journey_origin: String,
}

impl Config {
    /// Shipped defaults, overridden by `metrics.toml` / `health.toml` in `dir` if present.
    pub fn load(dir: Option<&Path>) -> Result<Config, EngineError> {
        let shipped = Catalogue::default_catalogue()?;
        let read = |name: &str| -> Result<Option<(PathBuf, String)>, EngineError> {
            let Some(dir) = dir else { return Ok(None) };
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some((path, text))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(EngineError::ConfigFile { path, source }),
            }
        };
        let (catalogue, catalogue_origin) = match read(METRICS_FILE)? {
            Some((path, text)) => {
                let origin = path.display().to_string();
                (Catalogue::parse(&text, &origin, Some(&shipped))?, origin)
            }
            None => (shipped, "shipped defaults".to_string()),
        };
        let (health_text, health_origin) = match read(HEALTH_FILE)? {
            Some((path, text)) => (text, path.display().to_string()),
            None => (DEFAULT_HEALTH.to_string(), "shipped defaults".to_string()),
        };
        let health = HealthConfig::from_toml(&health_text).map_err(|e| EngineError::Health {
            origin: health_origin.clone(),
            message: e.to_string(),
        })?;
        let (models_text, models_origin) = match read(MODELS_FILE)? {
            Some((path, text)) => (text, path.display().to_string()),
            None => (DEFAULT_MODELS.to_string(), "shipped defaults".to_string()),
        };
        let models =
            ModelConfig::from_toml(&models_text).map_err(|e| EngineError::ModelConfig {
                origin: models_origin.clone(),
                message: e.to_string(),
            })?;
        let (expansion_text, expansion_origin) = match read(EXPANSION_FILE)? {
            Some((path, text)) => (text, path.display().to_string()),
            None => (
                DEFAULT_EXPANSION.to_string(),
                "shipped defaults".to_string(),
            ),
        };
        let invalid =
            |origin: &str, message: String| EngineError::Invalid(format!("{origin}: {message}"));
        let expansion = ExpansionConfig::from_toml(&expansion_text)
            .map_err(|e| invalid(&expansion_origin, e.to_string()))?;
        let (adoption_text, adoption_origin) = match read(ADOPTION_FILE)? {
            Some((path, text)) => (text, path.display().to_string()),
            None => (DEFAULT_ADOPTION.to_string(), "shipped defaults".to_string()),
        };
        let adoption = AdoptionConfig::from_toml(&adoption_text)
            .map_err(|e| invalid(&adoption_origin, e.to_string()))?;
        let settings = |name: &str, shipped: &str| -> Result<(String, String), EngineError> {
            Ok(match read(name)? {
                Some((path, text)) => (text, path.display().to_string()),
                None => (shipped.to_string(), "shipped defaults".to_string()),
            })
        };
        let (segments_text, segments_origin) = settings(SEGMENTS_FILE, DEFAULT_SEGMENTS)?;
        let segments = SegmentsConfig::from_toml(&segments_text)
            .map_err(|e| invalid(&segments_origin, e.to_string()))?;
        let (workload_text, workload_origin) = settings(WORKLOAD_FILE, DEFAULT_WORKLOAD)?;
        let workload = WorkloadConfig::from_toml(&workload_text)
            .map_err(|e| invalid(&workload_origin, e.to_string()))?;
        let (journey_text, journey_origin) = settings(JOURNEY_FILE, DEFAULT_JOURNEY)?;
        let journey = JourneyConfig::from_toml(&journey_text)
            .map_err(|e| invalid(&journey_origin, e.to_string()))?;
        let config = Config {
            catalogue,
            health,
            catalogue_origin,
            health_origin,
            models,
            models_text,
            models_origin,
            expansion,
            expansion_origin,
            adoption,
            adoption_origin,
            segments,
            segments_origin,
            workload,
            workload_origin,
            journey,
            journey_origin,
        };
        config
            .health
            .validate(&config.metric_metas())
            .map_err(|e| EngineError::Health {
                origin: config.health_origin.clone(),
                message: e.to_string(),
            })?;
        let metas = config.metric_metas();
        config
            .expansion
            .validate(&metas)
            .map_err(|e| invalid(&config.expansion_origin, e.to_string()))?;
        // Timing rules name churn tiers: they must be tiers the models produce.
        for rule in &config.expansion.timing.rules {
            if let Some(tier) = &rule.when.churn_tier
                && !config.models.tiers.iter().any(|t| &t.name == tier)
            {
                return Err(invalid(
                    &config.expansion_origin,
                    format!(
                        "timing rule on churn tier `{tier}`: the churn models' tiers are {} ({})",
                        config
                            .models
                            .tiers
                            .iter()
                            .map(|t| t.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        config.models_origin
                    ),
                ));
            }
        }
        config
            .adoption
            .validate(&metas)
            .map_err(|e| invalid(&config.adoption_origin, e.to_string()))?;
        config
            .segments
            .validate(&metas)
            .map_err(|e| invalid(&config.segments_origin, e.to_string()))?;
        config
            .workload
            .validate(&metas)
            .map_err(|e| invalid(&config.workload_origin, e.to_string()))?;
        config
            .journey
            .validate(&metas)
            .map_err(|e| invalid(&config.journey_origin, e.to_string()))?;
        // Effort multipliers and kept stages name journey stages.
        for stage in config
            .workload
            .effort
            .stage_multiplier
            .keys()
            .chain(&config.workload.rebalance.keep_stages)
        {
            if config.journey.stage(stage).is_none() {
                return Err(invalid(
                    &config.workload_origin,
                    format!(
                        "stage `{stage}` is not a stage of the journey ({}): {}",
                        config.journey_origin,
                        config
                            .journey
                            .stages
                            .iter()
                            .map(|s| s.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        Ok(config)
    }

    /// The catalogue's metrics as the analyzers see them.
    pub fn metric_metas(&self) -> Vec<MetricMeta> {
        self.catalogue
            .metrics
            .iter()
            .map(|m| MetricMeta {
                name: m.name.clone(),
                description: m.description.clone(),
                unit: m.unit.clone(),
                category: m.category,
                direction: m.direction,
            })
            .collect()
    }
}
