//! Flat-table mode: one row per customer (attributes and a churn label, no history).
//!
//! `train_flat` holds out a stratified share of rows, runs the fitting procedure on the
//! rest, evaluates both model kinds on the held-out rows (the report), then re-runs the
//! procedure on every row with the chosen kind: that refit is the model `predict` uses.
//! The id column — and any text column whose values are all distinct, which can only
//! identify rows — is never a feature.

use std::collections::HashSet;

use crate::ModelError;
use crate::config::ModelConfig;
use crate::evaluate::evaluate;
use crate::report::{NamedEvaluation, Report};
use crate::table::{Table, Values, ids_from, labels_from};
use crate::train::{ChurnModel, KindChoice, Prediction, fit, stratified_folds};

pub struct FlatTraining {
    pub model: ChurnModel,
    pub report: Report,
}

/// Stratified hold-out: (training rows, held-out rows). Each class is shuffled and
/// `share` of it (rounded) held out, so both parts keep the base rate.
fn holdout(labels: &[bool], share: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in [true, false] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|i| labels[*i] == class).collect();
        rows.shuffle(&mut rng);
        let held = ((rows.len() as f64 * share).round() as usize).min(rows.len());
        test.extend_from_slice(&rows[..held]);
        train.extend_from_slice(&rows[held..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Text columns whose every value is distinct (and present): identifiers, not features.
fn identifier_like(table: &Table) -> Vec<String> {
    table
        .columns
        .iter()
        .filter(|c| match &c.values {
            Values::Text(v) => {
                v.len() > 20 && {
                    let mut seen = HashSet::new();
                    v.iter()
                        .all(|x| x.as_ref().is_some_and(|x| seen.insert(x.as_str())))
                }
            }
            Values::Numeric(_) => false,
        })
        .map(|c| c.name.clone())
        .collect()
}

pub fn train_flat(
    mut table: Table,
    label: &str,
    id: Option<&str>,
    config: &ModelConfig,
    kind: KindChoice,
    origin: &str,
) -> Result<FlatTraining, ModelError> {
    let label_column = table.take(label).ok_or_else(|| {
        ModelError::Input(format!(
            "{origin}: no column `{label}` (the label); columns are {}",
            names(&table)
        ))
    })?;
    let (labels, coding) = labels_from(&label_column, origin)?;
    if let Some(id) = id {
        table.take(id).ok_or_else(|| {
            ModelError::Input(format!(
                "{origin}: no column `{id}` (the id); columns are {}",
                names(&table)
            ))
        })?;
    }
    let mut notes = Vec::new();
    for name in identifier_like(&table) {
        table.take(&name);
        notes.push(format!("column `{name}` has a distinct value on every row, so it identifies rows and is not used as a feature"));
    }
    let share = config.training.holdout_share;
    let seed = config.training.seed;
    let (train_rows, test_rows) = holdout(&labels, share, seed);
    let train = table.select(&train_rows);
    let test = table.select(&test_rows);
    let train_labels: Vec<bool> = train_rows.iter().map(|r| labels[*r]).collect();
    let test_labels: Vec<bool> = test_rows.iter().map(|r| labels[*r]).collect();
    let folds = stratified_folds(&train_labels, config.training.folds, seed);
    let fitted = fit(&train, &train_labels, &folds, config, &kind)?;
    let mut results = Vec::new();
    for model in std::iter::once(&fitted.model).chain(fitted.runner_up.as_ref()) {
        let probabilities = model.probabilities(&test)?;
        results.push(NamedEvaluation {
            name: model_name(model),
            evaluation: evaluate(&probabilities, &test_labels),
        });
    }
    let prior =
        train_labels.iter().filter(|l| **l).count() as f64 / train_labels.len().max(1) as f64;
    results.push(NamedEvaluation {
        name: "base rate only (no model)".into(),
        evaluation: evaluate(&vec![prior; test_labels.len()], &test_labels),
    });
    let importance = fitted.model.importance(&test)?;
    let chosen = fitted
        .candidates
        .iter()
        .find(|c| c.chosen)
        .map(|c| KindChoice::Exactly(c.description.clone()))
        .unwrap_or(kind);
    // The shipped model: the same procedure on every row, with the chosen kind.
    let all_folds = stratified_folds(&labels, config.training.folds, seed);
    let mut model = fit(&table, &labels, &all_folds, config, &chosen)?.model;
    model.label = Some(coding.clone());
    model.id_column = id.map(str::to_string);
    let positives = labels.iter().filter(|l| **l).count();
    let features: Vec<&str> = model
        .encoder
        .inputs
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    notes.push(format!(
        "the evaluated model was trained on the {} training rows; the saved model repeats the same procedure on all {} rows",
        train_rows.len(),
        labels.len()
    ));
    let report = Report {
        title: format!("Churn model on {origin}"),
        method: format!(
            "held-out split ({:.0}% of rows, stratified, seed {seed})",
            share * 100.0
        ),
        facts: vec![
            (
                "rows".into(),
                format!(
                    "{} ({} churned, {:.1}%)",
                    labels.len(),
                    positives,
                    100.0 * positives as f64 / labels.len().max(1) as f64
                ),
            ),
            (
                "label".into(),
                format!(
                    "`{label}` = `{}` means churned, `{}` retained",
                    coding.positive, coding.negative
                ),
            ),
            (
                "features".into(),
                format!("{}: {}", features.len(), features.join(", ")),
            ),
            ("training rows".into(), train_rows.len().to_string()),
            ("held-out rows".into(), test_rows.len().to_string()),
            (
                "calibration".into(),
                format!(
                    "{} on out-of-fold scores, {} bootstrap rounds for intervals",
                    model.calibrator.name(),
                    model.band.rounds
                ),
            ),
        ],
        candidates: fitted.candidates,
        results,
        lead_time: None,
        importance,
        notes,
    };
    Ok(FlatTraining { model, report })
}

fn names(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn model_name(model: &ChurnModel) -> String {
    match model.kind() {
        "logistic" => "logistic regression".to_string(),
        _ => "gradient-boosted trees".to_string(),
    }
}

/// Scores every row; ids from `id` (or the column named at training), else row numbers.
pub fn predict_flat(
    model: &ChurnModel,
    table: &Table,
    id: Option<&str>,
    origin: &str,
) -> Result<Vec<(String, Prediction)>, ModelError> {
    let id_name = id.map(str::to_string).or_else(|| model.id_column.clone());
    let ids: Vec<String> = match id_name.as_deref().map(|n| (n, table.column(n))) {
        Some((_, Some(column))) => ids_from(column),
        Some((name, None)) => {
            return Err(ModelError::Input(format!(
                "{origin}: no column `{name}` (the id); columns are {}",
                names(table)
            )));
        }
        None => (0..table.rows).map(|r| format!("row {}", r + 1)).collect(),
    };
    let predictions = model
        .predict(table)
        .map_err(|e| ModelError::Input(format!("{origin}: {e}")))?;
    Ok(ids.into_iter().zip(predictions).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read_delimited;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn csv(n: usize, seed: u64) -> String {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = String::from(
            "customer_id,tenure_months,contract,monthly_charges,support_calls,churn\n",
        );
        for i in 0..n {
            let tenure: f64 = rng.random_range(1.0..72.0);
            let contract = ["month", "year", "two_year"][rng.random_range(0..3)];
            let charges: f64 = rng.random_range(20.0..120.0);
            let calls: u32 = rng.random_range(0..6);
            let z = -1.0 - 0.04 * tenure
                + if contract == "month" { 1.5 } else { 0.0 }
                + 0.01 * charges
                + 0.3 * f64::from(calls);
            let churn = rng.random::<f64>() < 1.0 / (1.0 + (-z).exp());
            let charges = if i % 37 == 0 {
                String::new()
            } else {
                format!("{charges:.2}")
            };
            out.push_str(&format!(
                "c{i},{tenure:.0},{contract},{charges},{calls},{}\n",
                if churn { "Yes" } else { "No" }
            ));
        }
        out
    }

    #[test]
    fn train_and_predict_on_a_flat_table() {
        let mut config = ModelConfig::default();
        config.trees.truncate(1);
        config.trees[0].max_trees = 150;
        config.training.bootstrap_rounds = 20;
        let table = read_delimited(csv(3000, 1).as_bytes(), "customers.csv")
            .unwrap_or_else(|e| panic!("{e}"));
        let trained = train_flat(
            table,
            "churn",
            Some("customer_id"),
            &config,
            KindChoice::Auto,
            "customers.csv",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let features: Vec<&str> = trained
            .model
            .encoder
            .inputs
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        assert!(
            !features.contains(&"customer_id") && !features.contains(&"churn"),
            "{features:?}"
        );
        let chosen = &trained.report.results[0].evaluation;
        let base = trained.report.results.last().map(|r| r.evaluation.auc);
        assert!(chosen.auc.unwrap_or(0.0) > 0.75, "{:?}", chosen.auc);
        assert_eq!(base, Some(Some(0.5)));
        let new_rows =
            read_delimited(csv(50, 2).as_bytes(), "new.csv").unwrap_or_else(|e| panic!("{e}"));
        let scored = predict_flat(&trained.model, &new_rows, None, "new.csv")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scored.len(), 50);
        assert_eq!(scored[0].0, "c0");
        assert!(
            scored
                .iter()
                .all(|(_, p)| p.low <= p.probability && p.probability <= p.high)
        );
        // The markdown report names the held-out evaluation.
        assert!(trained.report.markdown().contains("held-out split"));
    }

    #[test]
    fn the_holdout_keeps_the_base_rate_on_small_tables() {
        // 569 rows, 212 events (the shape of a classic small benchmark table).
        let labels: Vec<bool> = (0..569).map(|i| i % 569 < 212).collect();
        let (train, test) = holdout(&labels, 0.2, 42);
        assert_eq!(train.len() + test.len(), 569);
        assert_eq!(test.len(), 42 + 71);
        assert_eq!(test.iter().filter(|r| labels[**r]).count(), 42);
    }

    #[test]
    fn a_missing_label_column_lists_the_columns() {
        let table =
            read_delimited(csv(100, 1).as_bytes(), "c.csv").unwrap_or_else(|e| panic!("{e}"));
        let err = train_flat(
            table,
            "Churn",
            None,
            &ModelConfig::default(),
            KindChoice::Auto,
            "c.csv",
        )
        .err()
        .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("no column `Churn`") && e.contains("`churn`")),
            "{err:?}"
        );
    }
}
