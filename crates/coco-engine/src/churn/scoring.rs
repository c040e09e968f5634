//! Scoring the accounts of a snapshot with a history model and explaining each
//! probability in words, with the metric's value and where it stands among the account's
//! peers ("active_users_30d_change_90d is −38% — 8th percentile of mid_market peers").
//! Predictions are stored with the model version that made them.

use std::collections::HashMap;

use chrono::NaiveDate;
use coco_insights::{Direction, MetricMeta, mid_rank_percentile};
use coco_models::train::{Driver, Prediction};
use coco_store::Store;
use coco_store::models::{ModelSummary, PredictionRow};
use coco_store::snapshots::CohortRank;
use serde::{Deserialize, Serialize};

use super::history::feature_table;
use super::{MODE_HISTORY, load_model};
use crate::{Config, EngineError};

/// How many drivers each way are kept with a stored prediction.
pub const DRIVERS_KEPT: usize = 3;

/// At most this many accounts get their drivers computed when a snapshot is scored.
pub const EXPLAINED_MAX: usize = 10_000;

/// The cohort dimension whose peers explanations compare with, when the account has it.
const PEER_DIMENSION: &str = "segment";

/// One driver as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplainedDriver {
    pub feature: String,
    /// Log-odds this input adds to the average account's score.
    pub contribution: f64,
    pub value: Option<f64>,
    pub text: Option<String>,
    pub cohort: Option<String>,
    pub percentile: Option<f64>,
    pub sentence: String,
}

/// A prediction's explanation: what raises the risk, what lowers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    pub up: Vec<ExplainedDriver>,
    pub down: Vec<ExplainedDriver>,
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

pub use coco_insights::format_metric_value;

/// Where an explanation finds a metric's percentile among the account's peers.
pub trait PeerRanks {
    /// (cohort, mid-rank percentile) of `value` of `metric` for the account.
    fn percentile(&self, metric: &str, value: f64) -> Option<(String, f64)>;
}

/// Ranks from the store's cohort ranks of one account (the segment cohort first).
impl PeerRanks for Vec<CohortRank> {
    fn percentile(&self, metric: &str, _value: f64) -> Option<(String, f64)> {
        self.iter()
            .filter(|r| r.metric == metric && r.n > 0)
            .min_by_key(|r| (r.dimension != PEER_DIMENSION, r.dimension.clone()))
            .map(|r| {
                (
                    r.cohort.clone(),
                    mid_rank_percentile(r.below as usize, r.equal as usize, r.n as usize),
                )
            })
    }
}

/// Every metric's values per segment of a snapshot, sorted: percentiles of many
/// accounts without one query each. The same mid-rank rule as the cohort benchmarks.
pub struct SegmentRanks {
    /// metric → segment → sorted values
    sorted: HashMap<String, HashMap<String, Vec<f64>>>,
}

impl SegmentRanks {
    pub fn new(table: &coco_models::Table) -> SegmentRanks {
        let segments: Vec<Option<String>> = match table.column(PEER_DIMENSION).map(|c| &c.values) {
            Some(coco_models::Values::Text(v)) => v.clone(),
            _ => vec![None; table.rows],
        };
        let mut sorted: HashMap<String, HashMap<String, Vec<f64>>> = HashMap::new();
        for column in &table.columns {
            let coco_models::Values::Numeric(values) = &column.values else {
                continue;
            };
            let by_segment = sorted.entry(column.name.clone()).or_default();
            for (value, segment) in values.iter().zip(&segments) {
                if let (false, Some(segment)) = (value.is_nan(), segment) {
                    by_segment.entry(segment.clone()).or_default().push(*value);
                }
            }
            for list in by_segment.values_mut() {
                list.sort_by(f64::total_cmp);
            }
        }
        SegmentRanks { sorted }
    }

    /// The percentile source for an account of `segment`.
    pub fn of<'a>(&'a self, segment: Option<&'a str>) -> impl PeerRanks + 'a {
        SegmentPeers {
            ranks: self,
            segment,
        }
    }
}

struct SegmentPeers<'a> {
    ranks: &'a SegmentRanks,
    segment: Option<&'a str>,
}

impl PeerRanks for SegmentPeers<'_> {
    fn percentile(&self, metric: &str, value: f64) -> Option<(String, f64)> {
        let segment = self.segment?;
        let values = self.ranks.sorted.get(metric)?.get(segment)?;
        if values.is_empty() || value.is_nan() {
            return None;
        }
        let below = values.partition_point(|v| *v < value);
        let equal = values.partition_point(|v| *v <= value) - below;
        Some((
            segment.to_string(),
            mid_rank_percentile(below, equal, values.len()),
        ))
    }
}

fn explain_driver(
    driver: &Driver,
    metas: &HashMap<&str, &MetricMeta>,
    peers: &dyn PeerRanks,
) -> ExplainedDriver {
    let meta = metas.get(driver.feature.as_str());
    let rank = driver
        .value
        .and_then(|v| peers.percentile(&driver.feature, v));
    let effect = if driver.contribution > 0.0 {
        "raises"
    } else {
        "lowers"
    };
    let value_text = match (&driver.value, &driver.text) {
        (Some(v), _) => {
            format_metric_value(*v, meta.map_or("", |m| m.unit.as_str()), &driver.feature)
        }
        (None, Some(t)) => t.clone(),
        (None, None) => "not measured".to_string(),
    };
    let peers_text = match &rank {
        Some((cohort, p)) => {
            let reading = match meta.map(|m| m.direction) {
                Some(Direction::HigherIsBetter) if *p <= 20.0 => ", near the bottom of",
                Some(Direction::LowerIsBetter) if *p >= 80.0 => ", near the worst of",
                _ => " among",
            };
            format!(
                " — {} percentile{reading} {cohort} peers",
                ordinal(p.round().clamp(0.0, 100.0) as u32)
            )
        }
        None => String::new(),
    };
    ExplainedDriver {
        feature: driver.feature.clone(),
        contribution: driver.contribution,
        value: driver.value,
        text: driver.text.clone(),
        cohort: rank.as_ref().map(|r| r.0.clone()),
        percentile: rank.map(|r| r.1),
        sentence: format!(
            "{} is {value_text}{peers_text}; {effect} churn risk",
            driver.feature
        ),
    }
}

/// The explanation of one prediction.
pub fn explain(
    prediction: &Prediction,
    metas: &HashMap<&str, &MetricMeta>,
    peers: &dyn PeerRanks,
) -> Explanation {
    let (up, down) = prediction.top_drivers(DRIVERS_KEPT);
    Explanation {
        up: up
            .into_iter()
            .map(|d| explain_driver(d, metas, peers))
            .collect(),
        down: down
            .into_iter()
            .map(|d| explain_driver(d, metas, peers))
            .collect(),
    }
}

/// What `score_accounts` did.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredSnapshot {
    pub model_version: String,
    pub snapshot_id: i64,
    pub as_of: NaiveDate,
    pub accounts: usize,
    /// Accounts per risk tier, in the tiers' order.
    pub tiers: Vec<(String, usize)>,
}

/// Scores every account of the newest snapshot on or before `as_of` with the promoted
/// history model (or `version`) and stores the predictions with their explanations.
pub fn score_accounts(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    version: Option<&str>,
) -> Result<ScoredSnapshot, EngineError> {
    let (record, model) = load_model(store, version, MODE_HISTORY)?;
    let snapshot = store
        .snapshot_on_or_before(as_of, &config.catalogue.fingerprint())?
        .ok_or_else(|| {
            EngineError::NotFound(format!(
                "no snapshot on or before {as_of}; run `coco score` first"
            ))
        })?;
    let started = std::time::Instant::now();
    let mut rows = store.feature_rows(&[snapshot.snapshot_id])?;
    let table = feature_table(&mut rows);
    let mut predictions = model.predict_without_drivers(&table)?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "features read and scored"
    );
    // Exact drivers for the accounts a CSM acts on (every tier above the lowest, the
    // riskiest first, up to EXPLAINED_MAX); the rest are explained when looked at.
    let lowest = model
        .tiers
        .last()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let mut at_risk: Vec<usize> = (0..predictions.len())
        .filter(|i| predictions[*i].tier != lowest)
        .collect();
    at_risk.sort_by(|a, b| {
        predictions[*b]
            .probability
            .total_cmp(&predictions[*a].probability)
    });
    at_risk.truncate(EXPLAINED_MAX);
    for (row, explained) in at_risk.iter().zip(model.predict(&table.select(&at_risk))?) {
        predictions[*row].drivers = explained.drivers;
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        explained = at_risk.len(),
        "decomposed"
    );
    let ranks = SegmentRanks::new(&table);
    let segments: Option<&Vec<Option<String>>> =
        match table.column(PEER_DIMENSION).map(|c| &c.values) {
            Some(coco_models::Values::Text(v)) => Some(v),
            _ => None,
        };
    let metas = config.metric_metas();
    let by_name: HashMap<&str, &MetricMeta> = metas.iter().map(|m| (m.name.as_str(), m)).collect();
    let mut stored = Vec::with_capacity(predictions.len());
    let mut tiers: Vec<(String, usize)> = model.tiers.iter().map(|t| (t.name.clone(), 0)).collect();
    for (row, (account_id, prediction)) in rows.account_ids.iter().zip(&predictions).enumerate() {
        let segment = segments.and_then(|s| s[row].as_deref());
        let explanation = explain(prediction, &by_name, &ranks.of(segment));
        if let Some(tier) = tiers.iter_mut().find(|t| t.0 == prediction.tier) {
            tier.1 += 1;
        }
        stored.push(PredictionRow {
            model_id: record.summary.model_id,
            snapshot_id: snapshot.snapshot_id,
            account_id: account_id.clone(),
            probability: prediction.probability,
            low: prediction.low,
            high: prediction.high,
            tier: prediction.tier.clone(),
            drivers: serde_json::to_string(&explanation).map_err(EngineError::Json)?,
        });
    }
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "explained");
    store.record_predictions(record.summary.model_id, snapshot.snapshot_id, &stored)?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "stored");
    Ok(ScoredSnapshot {
        model_version: record.summary.version,
        snapshot_id: snapshot.snapshot_id,
        as_of: snapshot.as_of,
        accounts: stored.len(),
        tiers,
    })
}

/// A stored prediction with its explanation decoded.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountPrediction {
    pub model_version: String,
    pub as_of: NaiveDate,
    pub account_id: String,
    pub probability: f64,
    pub low: f64,
    pub high: f64,
    pub tier: String,
    pub explanation: Explanation,
}

/// The stored predictions of the promoted history model for the newest predicted
/// snapshot on or before `as_of` (one account, or all).
pub fn stored_predictions(
    store: &Store,
    config: Option<&Config>,
    as_of: NaiveDate,
    account_id: Option<&str>,
) -> Result<Option<(ModelSummary, Vec<AccountPrediction>)>, EngineError> {
    let Some(record) = store.promoted_model(MODE_HISTORY)? else {
        return Ok(None);
    };
    let Some((snapshot_id, snapshot_as_of)) =
        store.latest_predicted_snapshot(record.summary.model_id, as_of)?
    else {
        return Ok(None);
    };
    let rows = store.predictions(record.summary.model_id, snapshot_id, account_id)?;
    let mut predictions = rows
        .into_iter()
        .map(|r| {
            Ok(AccountPrediction {
                model_version: record.summary.version.clone(),
                as_of: snapshot_as_of,
                account_id: r.account_id,
                probability: r.probability,
                low: r.low,
                high: r.high,
                tier: r.tier,
                explanation: serde_json::from_str(&r.drivers).map_err(EngineError::Json)?,
            })
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    // One account asked for whose drivers were not computed in bulk: compute them now.
    if let (Some(account_id), Some(config)) = (account_id, config)
        && let Some(prediction) = predictions.first_mut()
        && prediction.explanation.up.is_empty()
        && prediction.explanation.down.is_empty()
    {
        prediction.explanation = explain_one(store, config, &record, snapshot_id, account_id)?;
    }
    Ok(Some((record.summary, predictions)))
}

/// The drivers of one account's prediction, computed on demand (peers from the store's
/// cohort ranks).
fn explain_one(
    store: &Store,
    config: &Config,
    record: &coco_store::models::ModelRecord,
    snapshot_id: i64,
    account_id: &str,
) -> Result<Explanation, EngineError> {
    let model = coco_models::train::ChurnModel::from_json(&record.artifact)?;
    let mut rows = store.feature_rows_of(&[snapshot_id], Some(account_id))?;
    let table = feature_table(&mut rows);
    let Some(prediction) = model.predict(&table)?.pop() else {
        return Ok(Explanation::default());
    };
    let metas = config.metric_metas();
    let by_name: HashMap<&str, &MetricMeta> = metas.iter().map(|m| (m.name.as_str(), m)).collect();
    let ranks = store.account_cohort_ranks(snapshot_id, account_id)?;
    Ok(explain(&prediction, &by_name, &ranks))
}
