//! Churn models as a service: train (on the store's snapshot history, or on a flat
//! table), register in the store, load, score and explain. The modelling itself is in
//! `coco-models` (pure); this module reads its inputs from the store or a file and files
//! the results.

use std::path::Path;

use coco_models::flat::{predict_flat, train_flat};
use coco_models::report::Report;
use coco_models::train::{ChurnModel, KindChoice};
use coco_store::Store;
use coco_store::models::{ModelRecord, ModelSummary, NewModel};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Config, EngineError};

pub mod history;
pub mod scoring;

pub const MODE_HISTORY: &str = "history";
pub const MODE_TABLE: &str = "table";

/// A model just trained and registered.
pub struct Trained {
    pub summary: ModelSummary,
    pub report: Report,
}

/// SHA-256 over the model configuration text and, for history models, the metric
/// catalogue's fingerprint (the features' definitions).
pub fn config_hash(config: &Config, mode: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(config.models_text.as_bytes());
    if mode == MODE_HISTORY {
        hasher.update(config.catalogue.fingerprint().as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The headline numbers stored with a model (the chosen model's test evaluation).
#[derive(Debug, Clone, Serialize)]
struct Headline {
    model: String,
    auc: Option<f64>,
    pr_auc: Option<f64>,
    top_decile_lift: Option<f64>,
    brier: f64,
    ece: f64,
    test_rows: usize,
    test_positives: usize,
    lead_time_median_days: Option<f64>,
    lead_time_share_45_days: Option<f64>,
}

fn headline(report: &Report) -> Headline {
    let chosen = report.chosen();
    let evaluation = chosen.map(|c| &c.evaluation);
    Headline {
        model: chosen.map(|c| c.name.clone()).unwrap_or_default(),
        auc: evaluation.and_then(|e| e.auc),
        pr_auc: evaluation.and_then(|e| e.pr_auc),
        top_decile_lift: evaluation.and_then(|e| e.top_decile_lift),
        brier: evaluation.map_or(0.0, |e| e.brier),
        ece: evaluation.map_or(0.0, |e| e.ece),
        test_rows: evaluation.map_or(0, |e| e.n),
        test_positives: evaluation.map_or(0, |e| e.positives),
        lead_time_median_days: report.lead_time.as_ref().and_then(|l| l.median_days),
        lead_time_share_45_days: report.lead_time.as_ref().map(|l| l.share_at_least_45_days),
    }
}

fn json<T: Serialize>(value: &T) -> Result<String, EngineError> {
    serde_json::to_string(value).map_err(EngineError::Json)
}

/// What a registration needs besides the model and its report.
pub(crate) struct Window {
    pub horizon_days: Option<u32>,
    pub data_until: Option<chrono::NaiveDate>,
    pub train_from: Option<chrono::NaiveDate>,
    pub train_to: Option<chrono::NaiveDate>,
    pub test_from: Option<chrono::NaiveDate>,
    pub test_to: Option<chrono::NaiveDate>,
}

pub(crate) fn register(
    store: &Store,
    config: &Config,
    mode: &str,
    source: &str,
    model: &ChurnModel,
    report: &Report,
    window: &Window,
) -> Result<ModelSummary, EngineError> {
    let features: Vec<&str> = model
        .encoder
        .inputs
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    let summary = store.register_model(&NewModel {
        mode,
        kind: model.kind(),
        source,
        horizon_days: window.horizon_days,
        data_until: window.data_until,
        train_from: window.train_from,
        train_to: window.train_to,
        test_from: window.test_from,
        test_to: window.test_to,
        training_rows: model.training_rows as u64,
        features: &json(&features)?,
        metrics: &json(&headline(report))?,
        report: &json(report)?,
        config_hash: &config_hash(config, mode),
        config: &config.models_text,
        artifact: &model.to_json()?,
    })?;
    Ok(summary)
}

/// Loads a model by version, or the promoted model of `mode`.
pub fn load_model(
    store: &Store,
    version: Option<&str>,
    mode: &str,
) -> Result<(ModelRecord, ChurnModel), EngineError> {
    let record = match version {
        Some(version) => store.model(version)?.ok_or_else(|| {
            EngineError::NotFound(format!(
                "no model `{version}`; `coco model list` shows the registered ones"
            ))
        })?,
        None => store.promoted_model(mode)?.ok_or_else(|| {
            EngineError::NotFound(match mode {
                MODE_TABLE => "no table model yet; train one with `coco model train --table FILE --label COLUMN`".into(),
                _ => "no churn model yet; train one with `coco model train`".into(),
            })
        })?,
    };
    let model = ChurnModel::from_json(&record.artifact)?;
    Ok((record, model))
}

/// The stored report of a model.
pub fn model_report(record: &ModelRecord) -> Result<Report, EngineError> {
    serde_json::from_str(&record.report).map_err(EngineError::Json)
}

fn read_table(path: &Path) -> Result<coco_models::Table, EngineError> {
    let file = std::fs::File::open(path).map_err(|source| EngineError::ConfigFile {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(coco_models::table::read_delimited(
        std::io::BufReader::new(file),
        &path.display().to_string(),
    )?)
}

/// Flat-table mode: trains on `path` (one row per customer), registers the model.
pub fn train_table(
    store: &Store,
    config: &Config,
    path: &Path,
    label: &str,
    id: Option<&str>,
    kind: KindChoice,
) -> Result<Trained, EngineError> {
    let origin = path.display().to_string();
    let table = read_table(path)?;
    let trained = train_flat(table, label, id, &config.models, kind, &origin)?;
    let summary = register(
        store,
        config,
        MODE_TABLE,
        &origin,
        &trained.model,
        &trained.report,
        &Window {
            horizon_days: None,
            data_until: None,
            train_from: None,
            train_to: None,
            test_from: None,
            test_to: None,
        },
    )?;
    Ok(Trained {
        summary,
        report: trained.report,
    })
}

/// One scored row of a flat table.
#[derive(Debug, Clone, Serialize)]
pub struct TablePrediction {
    pub id: String,
    pub probability: f64,
    pub low: f64,
    pub high: f64,
    pub risk_tier: String,
    /// The inputs raising risk most: `name = value (+log-odds)`, `; `-separated.
    pub drivers_up: String,
    /// The inputs lowering risk most.
    pub drivers_down: String,
}

fn driver_text(driver: &coco_models::train::Driver) -> String {
    let value = match (&driver.value, &driver.text) {
        (Some(v), _) => format_number(*v),
        (None, Some(t)) => t.clone(),
        (None, None) => "missing".to_string(),
    };
    format!("{} = {value} ({:+.2})", driver.feature, driver.contribution)
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

/// Scores a flat table with a table model (the promoted one unless `version` is given).
pub fn predict_table(
    store: &Store,
    version: Option<&str>,
    path: &Path,
    id: Option<&str>,
) -> Result<(ModelSummary, Vec<TablePrediction>), EngineError> {
    let (record, model) = load_model(store, version, MODE_TABLE)?;
    let table = read_table(path)?;
    let scored = predict_flat(&model, &table, id, &path.display().to_string())?;
    let rows = scored
        .into_iter()
        .map(|(id, p)| {
            let (up, down) = p.top_drivers(3);
            TablePrediction {
                id,
                probability: p.probability,
                low: p.low,
                high: p.high,
                risk_tier: p.tier.clone(),
                drivers_up: up
                    .iter()
                    .map(|d| driver_text(d))
                    .collect::<Vec<_>>()
                    .join("; "),
                drivers_down: down
                    .iter()
                    .map(|d| driver_text(d))
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })
        .collect();
    Ok((record.summary, rows))
}
