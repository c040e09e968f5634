//! Churn models on the demo portfolio, through the real store: the backtest beats the
//! trivial baseline by a wide margin, the demo's hidden factors are what the model
//! relies on, probabilities are calibrated, results repeat for a seed, predictions are
//! stored with their model version and explained — and features as of a date do not
//! change when everything after that date is deleted from the sources (no leakage).

mod common;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use coco_engine::churn::{self, history, scoring};
use coco_engine::{Config, backfill, score_as_of};
use coco_models::train::KindChoice;
use coco_store::{IngestOptions, Store};
use common::{copy_until, demo_store, factor_metrics, read_truth};

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

#[test]
fn a_model_trained_on_the_demo_history_finds_the_hidden_factors_and_is_calibrated() {
    let (dir, store) = demo_store(1500, 42, end());
    let config = Config::load(None).unwrap();
    backfill(
        &store,
        &config,
        end() - chrono::Days::new(7 * 51),
        end(),
        7,
        &mut |_| {},
    )
    .unwrap();

    let trained =
        history::train_history(&store, &config, KindChoice::Auto, None, &mut |_: &str| {}).unwrap();
    let report = &trained.report;
    let chosen = &report.results[0].evaluation;
    let baseline = report
        .results
        .iter()
        .find(|r| r.name.starts_with("baseline"))
        .expect("the report compares with the one-metric baseline");
    let auc = chosen.auc.unwrap();
    assert!(auc > 0.8, "backtest AUC {auc}");
    assert!(
        auc > baseline.evaluation.auc.unwrap() + 0.2,
        "AUC {auc} vs baseline {:?}",
        baseline.evaluation.auc
    );
    assert!(
        chosen.ece < 0.05,
        "expected calibration error {}",
        chosen.ece
    );
    assert!(chosen.positives > 30, "{chosen:?}");
    let lead = report.lead_time.as_ref().unwrap();
    assert!(lead.churned_accounts > 0 && lead.flagged > 0, "{lead:?}");

    // The hidden factors of the demo's churn model are what the model relies on.
    let top: Vec<&str> = report
        .importance
        .iter()
        .take(15)
        .map(|(f, _)| f.as_str())
        .collect();
    let factors = [
        "usage_decline",
        "adoption_breadth",
        "champion_left",
        "escalations",
        "missed_milestones",
        "low_nps",
        "silent_period",
    ];
    let found: Vec<&str> = factors
        .iter()
        .copied()
        .filter(|f| factor_metrics(f).iter().any(|m| top.contains(m)))
        .collect();
    assert!(
        found.len() >= 4,
        "hidden factors among the top features: {found:?} of {top:?}"
    );

    // Registry: the first model is promoted; the same seed gives the same evaluation.
    assert_eq!(trained.summary.status, "promoted");
    let first = history::train_history(
        &store,
        &config,
        KindChoice::Logistic,
        None,
        &mut |_: &str| {},
    )
    .unwrap();
    let second = history::train_history(
        &store,
        &config,
        KindChoice::Logistic,
        None,
        &mut |_: &str| {},
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&first.report).unwrap(),
        serde_json::to_string(&second.report).unwrap()
    );
    assert_eq!(first.summary.status, "candidate");
    let a = store.model(&first.summary.version).unwrap().unwrap();
    let b = store.model(&second.summary.version).unwrap().unwrap();
    assert_eq!(a.artifact, b.artifact);
    assert_eq!(a.summary.config_hash, b.summary.config_hash);
    assert_eq!(store.models().unwrap().len(), 3);

    // Scoring stores every account's prediction under the model's version, explained.
    let scored = scoring::score_accounts(&store, &config, end(), None).unwrap();
    assert_eq!(scored.model_version, trained.summary.version);
    let (model, predictions) = scoring::stored_predictions(&store, Some(&config), end(), None)
        .unwrap()
        .unwrap();
    assert_eq!(model.model_id, trained.summary.model_id);
    assert_eq!(predictions.len(), scored.accounts);
    assert!(
        predictions
            .iter()
            .all(|p| p.low <= p.probability && p.probability <= p.high)
    );
    let explained = predictions
        .iter()
        .find(|p| !p.explanation.up.is_empty())
        .unwrap();
    assert!(
        explained.explanation.up[0]
            .sentence
            .contains("raises churn risk"),
        "{:?}",
        explained.explanation
    );
    assert!(
        predictions.iter().any(|p| p
            .explanation
            .up
            .iter()
            .any(|d| d.sentence.contains("percentile"))),
        "explanations cite cohort percentiles"
    );

    // Against the truth: accounts whose next renewal will churn score far above those
    // that will renew.
    let truth = read_truth(&dir.path().join("demo").join("_truth.csv"));
    let probability: std::collections::HashMap<&str, f64> = predictions
        .iter()
        .map(|p| (p.account_id.as_str(), p.probability))
        .collect();
    let mean = |outcome: &str| {
        let values: Vec<f64> = truth
            .iter()
            .filter(|t| t.focal_outcome == outcome && !t.focal_in_window)
            .filter_map(|t| probability.get(t.account_id.as_str()).copied())
            .collect();
        values.iter().sum::<f64>() / values.len().max(1) as f64
    };
    assert!(
        mean("churned") > 3.0 * mean("renewed"),
        "churn-bound {} vs renewing {}",
        mean("churned"),
        mean("renewed")
    );

    // Promotion moves the flag.
    let promoted = store.promote_model(&first.summary.version).unwrap();
    assert_eq!(promoted.status, "promoted");
    let (record, _) = churn::load_model(&store, None, churn::MODE_HISTORY).unwrap();
    assert_eq!(record.summary.version, first.summary.version);
}

#[test]
fn features_as_of_a_date_do_not_depend_on_anything_after_it() {
    let (dir, full) = demo_store(300, 7, end());
    let cutoff = NaiveDate::from_ymd_opt(2026, 6, 14).unwrap();
    let truncated_files = dir.path().join("until-cutoff");
    let dropped = copy_until(&dir.path().join("demo"), &truncated_files, cutoff);
    assert!(
        dropped > 10_000,
        "the later months hold many events ({dropped})"
    );
    let mut truncated = Store::open(&dir.path().join("truncated")).unwrap();
    truncated
        .ingest_dir(&truncated_files, &IngestOptions::default(), &mut |_| {})
        .unwrap();

    let config = Config::load(None).unwrap();
    let a = score_as_of(&full, &config, cutoff).unwrap();
    let b = score_as_of(&truncated, &config, cutoff).unwrap();
    let rows_a = full.feature_rows(&[a.snapshot.snapshot_id]).unwrap();
    let rows_b = truncated.feature_rows(&[b.snapshot.snapshot_id]).unwrap();
    assert_eq!(rows_a.account_ids, rows_b.account_ids);
    assert_eq!(rows_a.metric_names, rows_b.metric_names);
    assert!(rows_a.metric_names.len() > 30);
    for (name, (x, y)) in rows_a
        .metric_names
        .iter()
        .zip(rows_a.metric_values.iter().zip(&rows_b.metric_values))
    {
        for (row, (u, v)) in x.iter().zip(y).enumerate() {
            assert!(
                (u.is_nan() && v.is_nan()) || u == v,
                "{name} of {} as of {cutoff}: {u} with later data, {v} without",
                rows_a.account_ids[row]
            );
        }
    }
    assert_eq!(rows_a.text_attributes, rows_b.text_attributes);
    let same_numbers = rows_a
        .numeric_attributes
        .iter()
        .zip(&rows_b.numeric_attributes)
        .all(|(x, y)| {
            x.iter()
                .zip(y)
                .all(|(u, v)| (u.is_nan() && v.is_nan()) || u == v)
        });
    assert!(
        same_numbers,
        "account attributes as of {cutoff} changed with later data"
    );

    // The labels of the training set do use the future, by design, and only up to the
    // horizon: a churn known only after the cutoff is not in the history as of it.
    let history_then = history::churn_history(&full, &config, cutoff).unwrap();
    let history_now = history::churn_history(&full, &config, end()).unwrap();
    assert!(history_then.len() < history_now.len());
    let names: BTreeSet<&str> = rows_a.account_ids.iter().map(String::as_str).collect();
    assert!(names.len() > 200);
}
