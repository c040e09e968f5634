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

/// A metric value in its unit: fractions and changes as percentages, days and counts
/// as whole numbers.
pub fn format_metric_value(value: f64, unit: &str, name: &str) -> String {
    if name.contains("_change_") || unit == "change" {
        return format!("{:+.0}%", value * 100.0).replace('-', "−");
    }
    if name == "arr" || name == "mrr" {
        return format!("${value:.0}");
    }
    match unit {
        "fraction" | "share" | "rate" => format!("{:.0}%", value * 100.0),
        "days" => format!("{value:.0} days"),
        "USD" | "money" => format!("${value:.0}"),
        _ if value.fract() == 0.0 => format!("{value:.0}"),
        _ => format!("{value:.2}"),
    }
}

fn explain_driver(
    driver: &Driver,
    metas: &HashMap<&str, &MetricMeta>,
    ranks: &[CohortRank],
) -> ExplainedDriver {
    let meta = metas.get(driver.feature.as_str());
    let rank = ranks
        .iter()
        .filter(|r| r.metric == driver.feature)
        .min_by_key(|r| (r.dimension != PEER_DIMENSION, r.dimension.clone()));
    let percentile = rank
        .filter(|r| r.n > 0)
        .map(|r| mid_rank_percentile(r.below as usize, r.equal as usize, r.n as usize));
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
    let peers = match (percentile, rank) {
        (Some(p), Some(r)) => {
            let worse_side = meta.map(|m| m.direction);
            let reading = match worse_side {
                Some(Direction::HigherIsBetter) if p <= 20.0 => ", near the bottom of",
                Some(Direction::LowerIsBetter) if p >= 80.0 => ", near the worst of",
                _ => " among",
            };
            format!(
                " — {} percentile{reading} {} peers",
                ordinal(p.round().clamp(0.0, 100.0) as u32),
                r.cohort
            )
        }
        _ => String::new(),
    };
    ExplainedDriver {
        feature: driver.feature.clone(),
        contribution: driver.contribution,
        value: driver.value,
        text: driver.text.clone(),
        cohort: rank.map(|r| r.cohort.clone()),
        percentile,
        sentence: format!(
            "{} is {value_text}{peers}; {effect} churn risk",
            driver.feature
        ),
    }
}

/// The explanation of one prediction.
pub fn explain(prediction: &Prediction, metas: &[MetricMeta], ranks: &[CohortRank]) -> Explanation {
    let by_name: HashMap<&str, &MetricMeta> = metas.iter().map(|m| (m.name.as_str(), m)).collect();
    let (up, down) = prediction.top_drivers(DRIVERS_KEPT);
    Explanation {
        up: up
            .into_iter()
            .map(|d| explain_driver(d, &by_name, ranks))
            .collect(),
        down: down
            .into_iter()
            .map(|d| explain_driver(d, &by_name, ranks))
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
    let rows = store.feature_rows(&[snapshot.snapshot_id])?;
    let predictions = model.predict(&feature_table(&rows))?;
    let index = store.cohort_value_index(snapshot.snapshot_id)?;
    let metas = config.metric_metas();
    let mut stored = Vec::with_capacity(predictions.len());
    let mut tiers: Vec<(String, usize)> = model.tiers.iter().map(|t| (t.name.clone(), 0)).collect();
    for (account_id, prediction) in rows.account_ids.iter().zip(&predictions) {
        let explanation = explain(prediction, &metas, &index.account_ranks(account_id));
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
    store.record_predictions(record.summary.model_id, snapshot.snapshot_id, &stored)?;
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
    let predictions = rows
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
    Ok(Some((record.summary, predictions)))
}
