//! The health configuration: cohorts, scorecards and the decline rule, parsed from TOML
//! (the shipped default is `config/health.toml`, which documents the format) and checked
//! against the metric catalogue.
//!
//! Parsing ([`HealthConfig::from_toml`]) only checks the shape: unknown keys and wrong
//! types are TOML errors with their line. [`HealthConfig::validate`] checks the meaning
//! and names the scorecard, component, metric or cohort at fault.

use std::collections::{BTreeMap, BTreeSet};

use coco_core::Category;
use serde::{Deserialize, Serialize};

use crate::cohort::CohortDef;
use crate::drivers::decline::DeclineRule;
use crate::frame::{AttrValue, Direction, MetricMeta};

/// The whole health configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    /// Recorded with every stored score.
    pub version: String,
    /// Below this share of a scorecard's configured weight with inputs, the score is
    /// unknown rather than a guess.
    #[serde(default = "default_min_weight_coverage")]
    pub min_weight_coverage: f64,
    #[serde(default, rename = "cohort")]
    pub cohorts: Vec<CohortDef>,
    #[serde(default, rename = "scorecard")]
    pub scorecards: Vec<ScorecardDef>,
    #[serde(default)]
    pub decline_rule: DeclineRule,
}

fn default_min_weight_coverage() -> f64 {
    0.6
}

/// A scorecard: which accounts it applies to, its components and colour cutoffs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardDef {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Attribute → allowed text values; every listed attribute must match. Empty (or
    /// omitted): matches every account.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, Vec<String>>,
    pub cutoffs: Cutoffs,
    #[serde(default, rename = "component")]
    pub components: Vec<ComponentDef>,
}

impl ScorecardDef {
    /// Whether an account with these attributes gets this scorecard (ignoring order).
    /// Only text attributes can match: a `when` on a number attribute never does.
    pub fn matches(&self, attributes: &BTreeMap<String, AttrValue>) -> bool {
        self.when.iter().all(|(attribute, allowed)| {
            matches!(attributes.get(attribute), Some(AttrValue::Text(value)) if allowed.contains(value))
        })
    }
}

/// Score ≥ green → green, ≥ yellow → yellow, else red.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Cutoffs {
    pub green: f64,
    pub yellow: f64,
}

/// One component of a scorecard: a metric or a weighted group of metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDef {
    pub name: String,
    pub category: Category,
    /// Relative to the scorecard's other components.
    pub weight: f64,
    #[serde(default, rename = "metric")]
    pub metrics: Vec<MetricRule>,
}

/// One metric of a component and how its value becomes a 0–100 score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricRule {
    pub metric: String,
    /// Relative to the component's other metrics.
    #[serde(default = "default_weight")]
    pub weight: f64,
    pub score: ScoreFn,
}

fn default_weight() -> f64 {
    1.0
}

/// How a metric value becomes a 0–100 score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScoreFn {
    /// 0 at `zero_at`, 100 at `full_at`, linear between, clamped outside. `zero_at`
    /// above `full_at` means lower is better.
    Linear { zero_at: f64, full_at: f64 },
    /// The first band whose `below` is greater than the value gives the score (a value
    /// equal to `below` falls in the next band); the last band has no `below`.
    Bands(Vec<ScoreBand>),
    /// The account's mid-rank percentile of the metric within its cohort of this
    /// dimension; `100 − percentile` when lower is better.
    CohortPercentile { cohort: String },
}

impl ScoreFn {
    /// The score of a value for the functions that need no cohort (`None` for
    /// `cohort_percentile`).
    pub fn fixed_score(&self, value: f64) -> Option<f64> {
        match self {
            ScoreFn::Linear { zero_at, full_at } => {
                Some((100.0 * (value - zero_at) / (full_at - zero_at)).clamp(0.0, 100.0))
            }
            ScoreFn::Bands(bands) => bands
                .iter()
                .find(|band| band.below.is_none_or(|below| value < below))
                .map(|band| band.score),
            ScoreFn::CohortPercentile { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreBand {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    pub score: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML, an unknown key or a wrong type; the message carries line and column.
    #[error("health configuration: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("health configuration: {at}: {problem}")]
    Invalid { at: String, problem: ConfigProblem },
}

impl ConfigError {
    /// The validation problem, when this is one (for callers and tests that match on it).
    pub fn problem(&self) -> Option<&ConfigProblem> {
        match self {
            ConfigError::Invalid { problem, .. } => Some(problem),
            ConfigError::Toml(_) => None,
        }
    }
}

/// What is wrong with a configuration that parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigProblem {
    #[error("unknown metric `{metric}`: it is not in the metric catalogue")]
    UnknownMetric { metric: String },
    #[error("unknown cohort `{cohort}` (defined cohorts: {defined})")]
    UnknownCohort { cohort: String, defined: String },
    #[error("weight must be a positive number, got {weight}")]
    InvalidWeight { weight: f64 },
    #[error("no components: a scorecard needs at least one [[scorecard.component]]")]
    EmptyScorecard,
    #[error("no metrics: a component needs at least one [[scorecard.component.metric]]")]
    EmptyComponent,
    #[error("no [[scorecard]] defined: at least one is needed")]
    NoScorecards,
    #[error("the name is empty")]
    EmptyName,
    #[error("{kind} `{name}` is defined more than once")]
    Duplicate { kind: &'static str, name: String },
    #[error("`bands` is empty: at least the catch-all band (no `below`) is needed")]
    EmptyBands,
    #[error(
        "band limits must strictly increase, but `below = {next}` follows `below = {previous}`"
    )]
    BandsNotIncreasing { previous: f64, next: f64 },
    #[error("the last band must have no `below`, so it catches every larger value")]
    BandsMissingCatchAll,
    #[error("band {position} has no `below` but is not the last band")]
    CatchAllNotLast { position: usize },
    #[error("band score {score} is outside 0..=100")]
    BandScoreOutOfRange { score: f64 },
    #[error("`{field}` must be a finite number, got {value}")]
    NotFinite { field: &'static str, value: f64 },
    #[error("linear: `zero_at` and `full_at` are both {value}; they must differ")]
    LinearFlat { value: f64 },
    #[error(
        "cohort_percentile cannot score metric `{metric}`: its direction is neutral, so neither a high nor a low percentile is better"
    )]
    PercentileOfNeutral { metric: String },
    #[error("cutoffs must be within 0..=100 (green {green}, yellow {yellow})")]
    CutoffOutOfRange { green: f64, yellow: f64 },
    #[error("cutoffs: yellow ({yellow}) is above green ({green})")]
    CutoffsOrder { green: f64, yellow: f64 },
    #[error(
        "the last scorecard must have no `when` (a catch-all), so every account gets a scorecard"
    )]
    NoCatchAllScorecard,
    #[error("`when.{attribute}` lists no values, so no account could match")]
    EmptyWhen { attribute: String },
    #[error("{field} must be {expected}, got {value}")]
    OutOfRange {
        field: &'static str,
        expected: &'static str,
        value: f64,
    },
}

fn invalid(at: impl Into<String>, problem: ConfigProblem) -> ConfigError {
    ConfigError::Invalid {
        at: at.into(),
        problem,
    }
}

fn check_weight(at: &str, weight: f64) -> Result<(), ConfigError> {
    if weight.is_finite() && weight > 0.0 {
        Ok(())
    } else {
        Err(invalid(at, ConfigProblem::InvalidWeight { weight }))
    }
}

fn check_name(at: &str, name: &str) -> Result<(), ConfigError> {
    if name.trim().is_empty() {
        Err(invalid(at, ConfigProblem::EmptyName))
    } else {
        Ok(())
    }
}

/// Checks an ordered list of limits where only the last entry has none.
fn check_band_limits(at: &str, limits: &[Option<f64>]) -> Result<(), ConfigError> {
    if limits.is_empty() {
        return Err(invalid(at, ConfigProblem::EmptyBands));
    }
    let mut previous: Option<f64> = None;
    for (position, limit) in limits.iter().enumerate() {
        let last = position + 1 == limits.len();
        match limit {
            None if !last => {
                return Err(invalid(
                    at,
                    ConfigProblem::CatchAllNotLast {
                        position: position + 1,
                    },
                ));
            }
            None => {}
            Some(_) if last => return Err(invalid(at, ConfigProblem::BandsMissingCatchAll)),
            Some(below) => {
                if !below.is_finite() {
                    return Err(invalid(
                        at,
                        ConfigProblem::NotFinite {
                            field: "below",
                            value: *below,
                        },
                    ));
                }
                if let Some(previous) = previous
                    && *below <= previous
                {
                    return Err(invalid(
                        at,
                        ConfigProblem::BandsNotIncreasing {
                            previous,
                            next: *below,
                        },
                    ));
                }
                previous = Some(*below);
            }
        }
    }
    Ok(())
}

impl HealthConfig {
    /// Parses the TOML text (unknown keys are errors). Call [`HealthConfig::validate`]
    /// before scoring with it.
    pub fn from_toml(text: &str) -> Result<HealthConfig, ConfigError> {
        Ok(toml::from_str(text)?)
    }

    /// 16 hex digits identifying this exact configuration (FNV-1a over its canonical
    /// JSON): stored with every score so it names the configuration that produced it,
    /// even when a file was edited without bumping `version`. Comments and formatting of
    /// the file do not change it; spelling out a default does not either.
    pub fn fingerprint(&self) -> String {
        coco_core::fingerprint::fingerprint(self)
    }

    /// Index of the scorecard an account gets: the first whose `when` matches.
    pub fn scorecard_for(&self, attributes: &BTreeMap<String, AttrValue>) -> Option<usize> {
        self.scorecards.iter().position(|s| s.matches(attributes))
    }

    /// Checks the configuration against the metric catalogue. Stops at the first problem
    /// and names the scorecard, component, metric or cohort at fault.
    pub fn validate(&self, metrics: &[MetricMeta]) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.min_weight_coverage) {
            return Err(invalid(
                "min_weight_coverage",
                ConfigProblem::OutOfRange {
                    field: "min_weight_coverage",
                    expected: "between 0 and 1",
                    value: self.min_weight_coverage,
                },
            ));
        }
        self.decline_rule.validate()?;
        let cohorts = self.validate_cohorts()?;
        if self.scorecards.is_empty() {
            return Err(invalid("scorecards", ConfigProblem::NoScorecards));
        }
        let catalogue: BTreeMap<&str, &MetricMeta> =
            metrics.iter().map(|m| (m.name.as_str(), m)).collect();
        let mut names = BTreeSet::new();
        for (index, scorecard) in self.scorecards.iter().enumerate() {
            let at = format!("scorecard `{}`", scorecard.name);
            check_name(&at, &scorecard.name)?;
            if !names.insert(scorecard.name.as_str()) {
                return Err(invalid(
                    &at,
                    ConfigProblem::Duplicate {
                        kind: "scorecard",
                        name: scorecard.name.clone(),
                    },
                ));
            }
            if let Some((attribute, _)) = scorecard.when.iter().find(|(_, v)| v.is_empty()) {
                return Err(invalid(
                    &at,
                    ConfigProblem::EmptyWhen {
                        attribute: attribute.clone(),
                    },
                ));
            }
            if index + 1 == self.scorecards.len() && !scorecard.when.is_empty() {
                return Err(invalid(&at, ConfigProblem::NoCatchAllScorecard));
            }
            let Cutoffs { green, yellow } = scorecard.cutoffs;
            if !(0.0..=100.0).contains(&green) || !(0.0..=100.0).contains(&yellow) {
                return Err(invalid(
                    &at,
                    ConfigProblem::CutoffOutOfRange { green, yellow },
                ));
            }
            if yellow > green {
                return Err(invalid(&at, ConfigProblem::CutoffsOrder { green, yellow }));
            }
            if scorecard.components.is_empty() {
                return Err(invalid(&at, ConfigProblem::EmptyScorecard));
            }
            let mut component_names = BTreeSet::new();
            for component in &scorecard.components {
                let at = format!("{at}, component `{}`", component.name);
                check_name(&at, &component.name)?;
                if !component_names.insert(component.name.as_str()) {
                    return Err(invalid(
                        &at,
                        ConfigProblem::Duplicate {
                            kind: "component",
                            name: component.name.clone(),
                        },
                    ));
                }
                check_weight(&at, component.weight)?;
                if component.metrics.is_empty() {
                    return Err(invalid(&at, ConfigProblem::EmptyComponent));
                }
                let mut metric_names = BTreeSet::new();
                for rule in &component.metrics {
                    let at = format!("{at}, metric `{}`", rule.metric);
                    let Some(meta) = catalogue.get(rule.metric.as_str()) else {
                        return Err(invalid(
                            &at,
                            ConfigProblem::UnknownMetric {
                                metric: rule.metric.clone(),
                            },
                        ));
                    };
                    if !metric_names.insert(rule.metric.as_str()) {
                        return Err(invalid(
                            &at,
                            ConfigProblem::Duplicate {
                                kind: "metric",
                                name: rule.metric.clone(),
                            },
                        ));
                    }
                    check_weight(&at, rule.weight)?;
                    validate_score_fn(&at, &rule.score, meta, &cohorts)?;
                }
            }
        }
        Ok(())
    }

    fn validate_cohorts(&self) -> Result<BTreeSet<&str>, ConfigError> {
        let mut names = BTreeSet::new();
        for cohort in &self.cohorts {
            let at = format!("cohort `{}`", cohort.name);
            check_name(&at, &cohort.name)?;
            if !names.insert(cohort.name.as_str()) {
                return Err(invalid(
                    &at,
                    ConfigProblem::Duplicate {
                        kind: "cohort",
                        name: cohort.name.clone(),
                    },
                ));
            }
            if cohort.attribute.trim().is_empty() {
                return Err(invalid(
                    format!("{at}, attribute"),
                    ConfigProblem::EmptyName,
                ));
            }
            if let Some(bands) = &cohort.bands {
                let limits: Vec<Option<f64>> = bands.iter().map(|b| b.below).collect();
                check_band_limits(&at, &limits)?;
                let mut labels = BTreeSet::new();
                for band in bands {
                    check_name(&format!("{at}, band label"), &band.label)?;
                    if !labels.insert(band.label.as_str()) {
                        return Err(invalid(
                            &at,
                            ConfigProblem::Duplicate {
                                kind: "band label",
                                name: band.label.clone(),
                            },
                        ));
                    }
                }
            }
        }
        Ok(names)
    }
}

fn validate_score_fn(
    at: &str,
    score: &ScoreFn,
    meta: &MetricMeta,
    cohorts: &BTreeSet<&str>,
) -> Result<(), ConfigError> {
    match score {
        ScoreFn::Linear { zero_at, full_at } => {
            for (field, value) in [("zero_at", *zero_at), ("full_at", *full_at)] {
                if !value.is_finite() {
                    return Err(invalid(at, ConfigProblem::NotFinite { field, value }));
                }
            }
            if zero_at == full_at {
                return Err(invalid(at, ConfigProblem::LinearFlat { value: *zero_at }));
            }
        }
        ScoreFn::Bands(bands) => {
            let limits: Vec<Option<f64>> = bands.iter().map(|b| b.below).collect();
            check_band_limits(at, &limits)?;
            if let Some(band) = bands.iter().find(|b| !(0.0..=100.0).contains(&b.score)) {
                return Err(invalid(
                    at,
                    ConfigProblem::BandScoreOutOfRange { score: band.score },
                ));
            }
        }
        ScoreFn::CohortPercentile { cohort } => {
            if !cohorts.contains(cohort.as_str()) {
                let defined: Vec<&str> = cohorts.iter().copied().collect();
                return Err(invalid(
                    at,
                    ConfigProblem::UnknownCohort {
                        cohort: cohort.clone(),
                        defined: if defined.is_empty() {
                            "none".to_owned()
                        } else {
                            defined.join(", ")
                        },
                    },
                ));
            }
            if meta.direction == Direction::Neutral {
                return Err(invalid(
                    at,
                    ConfigProblem::PercentileOfNeutral {
                        metric: meta.name.clone(),
                    },
                ));
            }
        }
    }
    Ok(())
}
