//! History mode: churn models trained on the store's own snapshots.
//!
//! Observations are the stored snapshots computed with the current metric catalogue
//! (their cadence is the backfill's, weekly by default); features are each snapshot's
//! metric values and the account's attributes then; labels come from the churn records
//! known by the cutoff (`coco_models::dataset` has the rules). The out-of-time backtest
//! trains on early observation dates and tests on the last ones; the model kind with
//! the better backtest AUC is refitted on every labelled observation and registered.

use std::collections::HashMap;

use chrono::NaiveDate;
use coco_models::calibrate::Calibrator;
use coco_models::dataset::{ChurnEvent, ChurnHistory, Label, backtest_split, lead_time};
use coco_models::evaluate::evaluate;
use coco_models::flat::model_name;
use coco_models::report::{NamedEvaluation, Report};
use coco_models::train::{ChurnModel, KindChoice, fit, group_folds};
use coco_models::{Table, Values};
use coco_store::Store;
use coco_store::training::{FeatureRows, NUMERIC_ATTRIBUTES, TEXT_ATTRIBUTES};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{MODE_HISTORY, Trained, Window, register};
use crate::{Config, EngineError};

/// The features of a set of snapshots as a model table (rows as in `rows`). The value
/// columns move out of `rows` (a year of weekly snapshots of a large book is gigabytes;
/// copying them would double the peak); ids, dates and names stay.
pub fn feature_table(rows: &mut FeatureRows) -> Table {
    let mut table = Table::default();
    let names = std::mem::take(&mut rows.metric_names);
    for (name, values) in names.iter().zip(std::mem::take(&mut rows.metric_values)) {
        // Pushing columns of equal length cannot fail.
        let _ = table.push(name.clone(), Values::Numeric(values));
    }
    rows.metric_names = names;
    // An attribute the catalogue also defines as a metric is the metric.
    for (name, values) in TEXT_ATTRIBUTES
        .iter()
        .zip(std::mem::take(&mut rows.text_attributes))
    {
        if table.column(name).is_none() {
            let _ = table.push(*name, Values::Text(values));
        }
    }
    for (name, values) in NUMERIC_ATTRIBUTES
        .iter()
        .zip(std::mem::take(&mut rows.numeric_attributes))
    {
        if table.column(name).is_none() {
            let _ = table.push(*name, Values::Numeric(values));
        }
    }
    table
}

/// The churn history known at `cutoff` (records decided later are not yet known).
pub fn churn_history(
    store: &Store,
    config: &Config,
    cutoff: NaiveDate,
) -> Result<ChurnHistory, EngineError> {
    let records = store.churn_records(config.models.label.include_downgrades)?;
    Ok(ChurnHistory::new(
        records
            .into_iter()
            .filter(|r| r.known_on <= cutoff)
            .map(|r| ChurnEvent {
                account_id: r.account_id,
                churn_date: r.churn_date,
                known_on: r.known_on,
                kind: r.kind,
                source: r.source,
            })
            .collect(),
    ))
}

/// Snapshots of the current catalogue on or before `cutoff`, oldest first.
fn observation_snapshots(
    store: &Store,
    config: &Config,
    cutoff: NaiveDate,
) -> Result<Vec<(i64, NaiveDate)>, EngineError> {
    let fingerprint = config.catalogue.fingerprint();
    let mut snapshots: Vec<(i64, NaiveDate)> = store
        .list_snapshots()?
        .into_iter()
        .filter(|s| s.catalogue_fingerprint == fingerprint && s.as_of <= cutoff)
        .map(|s| (s.snapshot_id, s.as_of))
        .collect();
    snapshots.sort_by_key(|s| s.1);
    Ok(snapshots)
}

/// A uniform random sample of at most `max` of `rows` (all when fewer), in row order.
fn sample(rows: Vec<usize>, max: usize, seed: u64) -> Vec<usize> {
    if rows.len() <= max {
        return rows;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut picked = rows;
    picked.shuffle(&mut rng);
    picked.truncate(max);
    picked.sort_unstable();
    picked
}

/// What the training run reports as it goes.
pub trait Progress {
    fn step(&mut self, message: &str);
}

impl<F: FnMut(&str)> Progress for F {
    fn step(&mut self, message: &str) {
        self(message)
    }
}

/// Trains, backtests and registers a history model (module docs). `cutoff` is the last
/// date whose data counts (default: the newest snapshot).
pub fn train_history(
    store: &Store,
    config: &Config,
    kind: KindChoice,
    cutoff: Option<NaiveDate>,
    progress: &mut dyn Progress,
) -> Result<Trained, EngineError> {
    let models = &config.models;
    let horizon = models.label.horizon_days;
    let cutoff = match cutoff {
        Some(c) => c,
        None => observation_snapshots(store, config, NaiveDate::MAX)?
            .last()
            .map(|s| s.1)
            .ok_or_else(|| {
                EngineError::NotFound(
                    "no snapshots to learn from; run `coco metrics backfill` first".into(),
                )
            })?,
    };
    let snapshots = observation_snapshots(store, config, cutoff)?;
    progress.step(&format!(
        "reading features of {} snapshots",
        snapshots.len()
    ));
    let ids: Vec<i64> = snapshots.iter().map(|s| s.0).collect();
    let started = std::time::Instant::now();
    let mut rows = store.feature_rows(&ids)?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        rows = rows.len(),
        "features read"
    );
    let history = churn_history(store, config, cutoff)?;
    let labels: Vec<Label> = (0..rows.len())
        .map(|r| history.label(&rows.account_ids[r], rows.as_of[r], horizon, cutoff))
        .collect();
    let labelled_dates: Vec<NaiveDate> = (0..rows.len())
        .filter(|r| matches!(labels[*r], Label::Churned | Label::Retained))
        .map(|r| rows.as_of[r])
        .collect();
    let split = backtest_split(&labelled_dates, models.training.backtest_share, horizon).ok_or_else(|| {
        EngineError::Invalid(format!(
            "not enough history for an out-of-time backtest: labelled observations cover {} dates; \
             a {horizon}-day horizon needs dates spanning more than {horizon} days before {cutoff} (backfill more weekly snapshots)",
            {
                let mut d = labelled_dates.clone();
                d.sort_unstable();
                d.dedup();
                d.len()
            }
        ))
    })?;
    let table = feature_table(&mut rows);
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "labels and table ready"
    );
    let is_label = |r: usize| matches!(labels[r], Label::Churned | Label::Retained);
    let churned = |r: &usize| labels[*r] == Label::Churned;
    let seed = models.training.seed;
    let train_rows = sample(
        (0..rows.len())
            .filter(|r| is_label(*r) && rows.as_of[*r] <= split.train_to)
            .collect(),
        models.training.max_training_rows,
        seed,
    );
    // The test window is evaluated on every observation of a random sample of accounts
    // (all of them when the window is small), so lead time follows whole accounts.
    let window_total = (0..rows.len())
        .filter(|r| is_label(*r) && rows.as_of[*r] >= split.test_from)
        .count();
    let test_share = (models.training.max_test_rows as f64 / window_total.max(1) as f64).min(1.0);
    let in_test_sample = |account: &str| {
        test_share >= 1.0 || {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&(account, seed), &mut hasher);
            (std::hash::Hasher::finish(&hasher) % 1_000_000) as f64 / 1e6 < test_share
        }
    };
    let test_rows: Vec<usize> = (0..rows.len())
        .filter(|r| {
            is_label(*r)
                && rows.as_of[*r] >= split.test_from
                && in_test_sample(&rows.account_ids[*r])
        })
        .collect();
    let account_index: HashMap<&str, u32> = {
        let mut map = HashMap::new();
        for id in &rows.account_ids {
            let next = map.len() as u32;
            map.entry(id.as_str()).or_insert(next);
        }
        map
    };
    let groups = |subset: &[usize]| -> Vec<u32> {
        subset
            .iter()
            .map(|r| account_index[rows.account_ids[*r].as_str()])
            .collect()
    };
    let train_table = table.select(&train_rows);
    let train_labels: Vec<bool> = train_rows.iter().map(churned).collect();
    progress.step(&format!(
        "backtest: training on {} observations from {} to {}",
        train_rows.len(),
        split.train_from,
        split.train_to
    ));
    let folds = group_folds(&groups(&train_rows), models.training.folds, seed);
    let fitted = fit(&train_table, &train_labels, &folds, models, &kind)?;
    let test_table = table.select(&test_rows);
    let test_labels: Vec<bool> = test_rows.iter().map(churned).collect();
    progress.step(&format!(
        "backtest: testing on {} observations from {} to {}",
        test_rows.len(),
        split.test_from,
        split.test_to
    ));
    let mut evaluated: Vec<(&ChurnModel, NamedEvaluation)> = Vec::new();
    for model in std::iter::once(&fitted.model).chain(fitted.runner_up.as_ref()) {
        let probabilities = model.probabilities(&test_table)?;
        evaluated.push((
            model,
            NamedEvaluation {
                name: model_name(model),
                evaluation: evaluate(&probabilities, &test_labels),
            },
        ));
    }
    // The backtest decides the kind (equal AUC: the one cross-fitting preferred).
    evaluated.sort_by(|a, b| {
        b.1.evaluation
            .auc
            .unwrap_or(0.0)
            .total_cmp(&a.1.evaluation.auc.unwrap_or(0.0))
    });
    let selected = evaluated[0].0;
    // Refit exactly the candidate that won the selected kind in cross-fitting.
    let selected_kind = fitted
        .candidates
        .iter()
        .filter(|c| c.kind == selected.kind())
        .max_by(|a, b| {
            a.out_of_fold_auc
                .unwrap_or(0.0)
                .total_cmp(&b.out_of_fold_auc.unwrap_or(0.0))
        })
        .map(|c| KindChoice::Exactly(c.description.clone()))
        .unwrap_or(kind);
    let mut results: Vec<NamedEvaluation> = evaluated.iter().map(|(_, e)| e.clone()).collect();
    let baseline_metric = &models.evaluation.baseline_metric;
    if let (Some(Values::Numeric(train_values)), Some(Values::Numeric(test_values))) = (
        train_table.column(baseline_metric).map(|c| &c.values),
        test_table.column(baseline_metric).map(|c| &c.values),
    ) {
        let sign = if models.evaluation.baseline_lower_is_riskier {
            -1.0
        } else {
            1.0
        };
        // Missing values rank as the riskiest (no activity recorded at all).
        let score = |v: &f64| if v.is_nan() { f64::MAX } else { sign * v };
        let train_scores: Vec<f64> = train_values.iter().map(score).collect();
        let platt = Calibrator::fit(&train_scores, &train_labels, "platt");
        let test_probabilities: Vec<f64> =
            test_values.iter().map(|v| platt.apply(score(v))).collect();
        results.push(NamedEvaluation {
            name: format!("baseline: {baseline_metric} alone"),
            evaluation: evaluate(&test_probabilities, &test_labels),
        });
    }
    // Lead time over every test-window observation, labelled or not.
    let window_rows: Vec<usize> = (0..rows.len())
        .filter(|r| {
            rows.as_of[*r] >= split.test_from
                && labels[*r] != Label::Excluded
                && in_test_sample(&rows.account_ids[*r])
        })
        .collect();
    let window_probabilities = selected.probabilities(&table.select(&window_rows))?;
    let scored: Vec<(String, NaiveDate, f64)> = window_rows
        .iter()
        .zip(&window_probabilities)
        .map(|(r, p)| (rows.account_ids[*r].clone(), rows.as_of[*r], *p))
        .collect();
    let lead = lead_time(
        &scored,
        &history,
        split.test_from,
        cutoff,
        horizon,
        models.high_risk_threshold(),
    );
    let importance_rows = sample((0..test_rows.len()).collect(), 5_000, seed);
    let importance = selected.importance(&test_table.select(&importance_rows))?;
    let candidates = fitted.candidates.clone();
    drop(fitted);
    progress.step("refitting the selected model on every labelled observation");
    let all_rows = sample(
        (0..rows.len()).filter(|r| is_label(*r)).collect(),
        models.training.max_training_rows,
        seed,
    );
    let all_labels: Vec<bool> = all_rows.iter().map(churned).collect();
    let all_folds = group_folds(&groups(&all_rows), models.training.folds, seed);
    let model = fit(
        &table.select(&all_rows),
        &all_labels,
        &all_folds,
        models,
        &selected_kind,
    )?
    .model;
    let positives = all_labels.iter().filter(|l| **l).count();
    let report = Report {
        title: "Churn model on the store's history".into(),
        method: "out-of-time backtest (train on earlier observation dates, test on later ones)".into(),
        facts: vec![
            ("label".into(), format!(
                "churned within {horizon} days after the observation date{}",
                if models.label.include_downgrades { " (downgrades count)" } else { "" }
            )),
            ("data known up to".into(), cutoff.to_string()),
            ("observation dates".into(), format!("{} snapshots, {} to {}", snapshots.len(), snapshots.first().map(|s| s.1.to_string()).unwrap_or_default(), snapshots.last().map(|s| s.1.to_string()).unwrap_or_default())),
            ("churns in the records".into(), history.len().to_string()),
            ("backtest training window".into(), format!("{} to {} ({} observations used)", split.train_from, split.train_to, train_rows.len())),
            ("backtest test window".into(), format!(
                "{} to {} ({} observations{})",
                split.test_from,
                split.test_to,
                test_rows.len(),
                if test_share < 1.0 { format!(", every observation of a random {:.0}% of the accounts", test_share * 100.0) } else { String::new() }
            )),
            ("features".into(), format!("{}: {} metrics and {} account attributes", model.encoder.inputs.len(), rows.metric_names.len(), TEXT_ATTRIBUTES.len() + NUMERIC_ATTRIBUTES.len())),
            ("selected".into(), format!("{} (better backtest AUC)", model_name(&model))),
            ("saved model".into(), format!("refitted on {} labelled observations ({positives} churned)", all_rows.len())),
            ("calibration".into(), format!("{} on out-of-fold scores; intervals from {} bootstrap rounds", model.calibrator.name(), model.band.rounds)),
        ],
        candidates,
        results,
        lead_time: Some(lead),
        importance,
        notes: vec![
            format!("training observations end {horizon} days before the test window starts, so no training label depends on an outcome inside it"),
            "observations after a churn decision was recorded, and those whose horizon runs past the data, are left out (their label is not a prediction or not known)".into(),
            "cross-fitting keeps all observations of one account in one fold".into(),
        ],
    };
    let summary = register(
        store,
        config,
        MODE_HISTORY,
        "store",
        &model,
        &report,
        &Window {
            horizon_days: Some(horizon),
            data_until: Some(cutoff),
            train_from: Some(split.train_from),
            train_to: Some(split.train_to),
            test_from: Some(split.test_from),
            test_to: Some(split.test_to),
        },
    )?;
    Ok(Trained { summary, report })
}
