//! The fitting procedure and the model it produces.
//!
//! [`fit`] on a training set with fold ids:
//! 1. For every fold, the encoder is learned on the other folds and every candidate
//!    (each logistic `alpha`, each tree configuration) is fitted there and scores the
//!    fold — every row gets an out-of-fold score from a model that never saw it. Trees
//!    stop early on that fold.
//! 2. The candidate with the best out-of-fold AUC wins its kind; the better kind wins
//!    overall unless the caller fixed it.
//! 3. The winner is refitted on all rows (trees with the mean early-stopped number of
//!    trees, scaled up for the larger set) and calibrated on its out-of-fold scores,
//!    with a bootstrap interval band from the same scores.
//!
//! The caller evaluates the result on rows outside the training set (a later time
//! window, or a held-out share): this module never sees them.

use std::collections::HashMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::calibrate::{Calibrator, IntervalBand};
use crate::config::{ModelConfig, Tier};
use crate::encode::{Encoder, Matrix};
use crate::evaluate::auc;
use crate::learner::{Learner, TreeParams, fit_logistic, fit_trees};
use crate::table::{LabelCoding, Table, Values};

/// Which candidates may be chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindChoice {
    Auto,
    Logistic,
    Trees,
    /// Exactly the candidate with this description (a refit of one already chosen).
    Exactly(String),
}

impl KindChoice {
    pub fn parse(text: &str) -> Result<KindChoice, ModelError> {
        match text {
            "auto" => Ok(KindChoice::Auto),
            "logistic" => Ok(KindChoice::Logistic),
            "trees" | "gbt" => Ok(KindChoice::Trees),
            other => Err(ModelError::Input(format!(
                "unknown model `{other}`; use auto, logistic or trees"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
enum Candidate {
    Logistic(f64),
    Trees(TreeParams),
}

impl Candidate {
    fn kind(&self) -> &'static str {
        match self {
            Candidate::Logistic(_) => "logistic",
            Candidate::Trees(_) => "trees",
        }
    }

    fn describe(&self) -> String {
        match self {
            Candidate::Logistic(alpha) => format!("logistic regression, L2 alpha {alpha}"),
            Candidate::Trees(p) => format!(
                "gradient-boosted trees, depth {}, learning rate {}, up to {} trees",
                p.max_depth, p.learning_rate, p.max_trees
            ),
        }
    }
}

/// One candidate's cross-fitted result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateResult {
    pub kind: String,
    pub description: String,
    pub out_of_fold_auc: Option<f64>,
    /// Trees: mean number kept by early stopping across folds.
    pub trees: Option<usize>,
    pub chosen: bool,
}

/// The model artefact: everything needed to score, explain and bound a row.
#[derive(Serialize, Deserialize)]
pub struct ChurnModel {
    pub encoder: Encoder,
    pub learner: Learner,
    pub calibrator: Calibrator,
    pub band: IntervalBand,
    pub tiers: Vec<Tier>,
    /// Flat-table mode: how the label column was read and which column is the id.
    pub label: Option<LabelCoding>,
    pub id_column: Option<String>,
    pub training_rows: usize,
    pub training_positives: usize,
}

/// One input's share of a row's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    pub feature: String,
    /// Log-odds added to the average row's score (positive = more risk).
    pub contribution: f64,
    /// The row's value: a number, or the text for a categorical input.
    pub value: Option<f64>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Raw model score (log-odds, before calibration).
    pub score: f64,
    pub probability: f64,
    pub low: f64,
    pub high: f64,
    pub tier: String,
    /// Every input's contribution, largest first (risk-raising first, then lowering).
    pub drivers: Vec<Driver>,
}

impl Prediction {
    /// The `n` inputs pushing risk up most and the `n` pushing it down most.
    pub fn top_drivers(&self, n: usize) -> (Vec<&Driver>, Vec<&Driver>) {
        let up = self
            .drivers
            .iter()
            .filter(|d| d.contribution > 0.0)
            .take(n)
            .collect();
        let down = self
            .drivers
            .iter()
            .rev()
            .filter(|d| d.contribution < 0.0)
            .take(n)
            .collect();
        (up, down)
    }
}

impl ChurnModel {
    pub fn kind(&self) -> &'static str {
        self.learner.kind()
    }

    fn matrix(&self, table: &Table) -> Result<Matrix, ModelError> {
        match self.learner {
            Learner::Logistic { .. } => self.encoder.linear(table),
            Learner::Trees { .. } => self.encoder.trees(table),
        }
    }

    /// Raw scores (log-odds) for every row.
    pub fn scores(&self, table: &Table) -> Result<Vec<f64>, ModelError> {
        Ok(self.learner.score(&self.matrix(table)?))
    }

    /// Calibrated probabilities for every row.
    pub fn probabilities(&self, table: &Table) -> Result<Vec<f64>, ModelError> {
        Ok(self
            .scores(table)?
            .iter()
            .map(|s| self.calibrator.apply(*s))
            .collect())
    }

    pub fn tier(&self, probability: f64) -> String {
        crate::config::tier_of(&self.tiers, probability).to_string()
    }

    /// Probability, interval and tier for every row, without the drivers (their exact
    /// decomposition costs far more than the score for trees).
    pub fn predict_without_drivers(&self, table: &Table) -> Result<Vec<Prediction>, ModelError> {
        Ok(self
            .scores(table)?
            .into_iter()
            .map(|score| {
                let probability = self.calibrator.apply(score);
                let (low, high) = self.band.interval(score, probability);
                Prediction {
                    score,
                    probability,
                    low,
                    high,
                    tier: self.tier(probability),
                    drivers: Vec::new(),
                }
            })
            .collect())
    }

    /// Probability, interval, tier and drivers for every row.
    pub fn predict(&self, table: &Table) -> Result<Vec<Prediction>, ModelError> {
        let matrix = self.matrix(table)?;
        let contributions = self.learner.contributions(&matrix);
        let column_inputs: Vec<usize> = match self.learner {
            Learner::Logistic { .. } => self
                .encoder
                .linear_inputs()
                .into_iter()
                .map(|i| i[0])
                .collect(),
            Learner::Trees { .. } => self.encoder.tree_columns.iter().map(|c| c.input).collect(),
        };
        let group_names: Vec<String> = self.encoder.linear_names();
        let inputs = &self.encoder.inputs;
        let mut out = Vec::with_capacity(table.rows);
        for (row, parts) in contributions.iter().enumerate() {
            let score: f64 = parts.iter().sum();
            let mut per_input = vec![0.0; inputs.len()];
            for (column, value) in parts[..parts.len() - 1].iter().enumerate() {
                per_input[column_inputs[column]] += value;
            }
            let mut drivers: Vec<Driver> = per_input
                .iter()
                .enumerate()
                .filter(|(_, c)| **c != 0.0)
                .map(|(input, contribution)| {
                    let name = &inputs[input].name;
                    let (value, text) = match table.column(name).map(|c| &c.values) {
                        Some(Values::Numeric(v)) => (Some(v[row]).filter(|x| !x.is_nan()), None),
                        Some(Values::Text(v)) => (None, v[row].clone()),
                        None => (None, None),
                    };
                    // A correlated group is named after all its members.
                    let feature = match self.learner {
                        Learner::Logistic { .. } if !self.encoder.groups.is_empty() => {
                            column_inputs
                                .iter()
                                .position(|i| *i == input)
                                .map_or_else(|| name.clone(), |g| group_names[g].clone())
                        }
                        _ => name.clone(),
                    };
                    Driver {
                        feature,
                        contribution: *contribution,
                        value,
                        text,
                    }
                })
                .collect();
            drivers.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
            let probability = self.calibrator.apply(score);
            let (low, high) = self.band.interval(score, probability);
            out.push(Prediction {
                score,
                probability,
                low,
                high,
                tier: self.tier(probability),
                drivers,
            });
        }
        Ok(out)
    }

    pub fn to_json(&self) -> Result<String, ModelError> {
        serde_json::to_string(self).map_err(|e| ModelError::Artifact(e.to_string()))
    }

    pub fn from_json(text: &str) -> Result<ChurnModel, ModelError> {
        serde_json::from_str(text).map_err(|e| ModelError::Artifact(e.to_string()))
    }

    /// Mean |contribution| per input over `table`: the model's global importance.
    pub fn importance(&self, table: &Table) -> Result<Vec<(String, f64)>, ModelError> {
        let predictions = self.predict(table)?;
        let mut totals: HashMap<String, f64> = HashMap::new();
        for p in &predictions {
            for d in &p.drivers {
                *totals.entry(d.feature.clone()).or_default() += d.contribution.abs();
            }
        }
        let n = predictions.len().max(1) as f64;
        let mut out: Vec<(String, f64)> = totals.into_iter().map(|(k, v)| (k, v / n)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(out)
    }
}

/// The result of [`fit`].
pub struct Fitted {
    pub model: ChurnModel,
    pub candidates: Vec<CandidateResult>,
    /// The best model of the other kind (when both were tried), for the report.
    pub runner_up: Option<ChurnModel>,
}

/// Fold ids 0..k: positives and negatives shuffled separately and dealt round-robin, so
/// every fold has the base rate.
pub fn stratified_folds(labels: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut folds = vec![0; labels.len()];
    for class in [true, false] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|i| labels[*i] == class).collect();
        rows.shuffle(&mut rng);
        for (n, row) in rows.into_iter().enumerate() {
            folds[row] = n % k;
        }
    }
    folds
}

/// Fold ids by group (an account's rows share one), groups shuffled and dealt round-robin.
pub fn group_folds(groups: &[u32], k: usize, seed: u64) -> Vec<usize> {
    let mut distinct: Vec<u32> = groups.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    distinct.shuffle(&mut rng);
    let fold_of: HashMap<u32, usize> = distinct
        .iter()
        .enumerate()
        .map(|(n, g)| (*g, n % k))
        .collect();
    groups.iter().map(|g| fold_of[g]).collect()
}

fn candidates(config: &ModelConfig, kind: &KindChoice) -> Vec<Candidate> {
    let mut out = Vec::new();
    if *kind != KindChoice::Trees {
        out.extend(
            config
                .logistic
                .alphas
                .iter()
                .map(|a| Candidate::Logistic(*a)),
        );
    }
    if *kind != KindChoice::Logistic {
        out.extend(config.trees.iter().cloned().map(Candidate::Trees));
    }
    if let KindChoice::Exactly(description) = kind {
        out.retain(|c| c.describe() == *description);
    }
    out
}

fn fit_candidate(
    candidate: &Candidate,
    encoder: &Encoder,
    train: &Table,
    labels: &[bool],
    eval: Option<(&Table, &[bool])>,
    trees: Option<usize>,
    config: &ModelConfig,
) -> Result<Learner, ModelError> {
    match candidate {
        Candidate::Logistic(alpha) => fit_logistic(
            &encoder.linear(train)?,
            labels,
            *alpha,
            config.logistic.max_iterations,
        ),
        Candidate::Trees(params) => {
            let x = encoder.trees(train)?;
            let eval_x = match eval {
                Some((table, _)) => Some(encoder.trees(table)?),
                None => None,
            };
            let eval_pair = eval_x.as_ref().zip(eval.map(|(_, l)| l));
            fit_trees(
                &x,
                labels,
                params,
                trees.unwrap_or(params.max_trees),
                eval_pair,
                config.training.seed,
            )
        }
    }
}

/// Cross-fits every candidate, picks, refits and calibrates (module docs).
pub fn fit(
    table: &Table,
    labels: &[bool],
    folds: &[usize],
    config: &ModelConfig,
    kind: &KindChoice,
) -> Result<Fitted, ModelError> {
    let k = folds.iter().copied().max().map_or(0, |m| m + 1);
    if k < 2 {
        return Err(ModelError::Input(
            "cross-fitting needs at least two folds".into(),
        ));
    }
    let positives = labels.iter().filter(|l| **l).count();
    if positives < k || labels.len() - positives < k {
        return Err(ModelError::Input(format!(
            "too few examples of each outcome to train: {positives} churned and {} retained (need at least {k} of each)",
            labels.len() - positives
        )));
    }
    let candidates = candidates(config, kind);
    let mut out_of_fold = vec![vec![0.0; table.rows]; candidates.len()];
    let mut trees_used: Vec<Vec<usize>> = vec![Vec::new(); candidates.len()];
    for fold in 0..k {
        let train_rows: Vec<usize> = (0..table.rows).filter(|r| folds[*r] != fold).collect();
        let held_rows: Vec<usize> = (0..table.rows).filter(|r| folds[*r] == fold).collect();
        if held_rows.is_empty() {
            continue;
        }
        let train = table.select(&train_rows);
        let held = table.select(&held_rows);
        let train_labels: Vec<bool> = train_rows.iter().map(|r| labels[*r]).collect();
        let held_labels: Vec<bool> = held_rows.iter().map(|r| labels[*r]).collect();
        let encoder = Encoder::fit(&train, &config.encoding)?;
        for (c, candidate) in candidates.iter().enumerate() {
            let learner = fit_candidate(
                candidate,
                &encoder,
                &train,
                &train_labels,
                Some((&held, &held_labels)),
                None,
                config,
            )?;
            if let Learner::Trees { trees, .. } = &learner {
                trees_used[c].push(*trees);
            }
            let x = match learner {
                Learner::Logistic { .. } => encoder.linear(&held)?,
                Learner::Trees { .. } => encoder.trees(&held)?,
            };
            for (row, score) in held_rows.iter().zip(learner.score(&x)) {
                out_of_fold[c][*row] = score;
            }
        }
    }
    let mut results: Vec<CandidateResult> = candidates
        .iter()
        .enumerate()
        .map(|(c, candidate)| CandidateResult {
            kind: candidate.kind().to_string(),
            description: candidate.describe(),
            out_of_fold_auc: auc(&out_of_fold[c], labels),
            trees: (!trees_used[c].is_empty())
                .then(|| trees_used[c].iter().sum::<usize>() / trees_used[c].len()),
            chosen: false,
        })
        .collect();
    let best_of = |kind: &str| {
        results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind == kind)
            .max_by(|a, b| {
                a.1.out_of_fold_auc
                    .unwrap_or(0.0)
                    .total_cmp(&b.1.out_of_fold_auc.unwrap_or(0.0))
                    // Equal AUC: the earlier (simpler) candidate.
                    .then(b.0.cmp(&a.0))
            })
            .map(|(c, _)| c)
    };
    let mut finalists: Vec<usize> = ["logistic", "trees"]
        .iter()
        .filter_map(|k| best_of(k))
        .collect();
    finalists.sort_by(|a, b| {
        results[*b]
            .out_of_fold_auc
            .unwrap_or(0.0)
            .total_cmp(&results[*a].out_of_fold_auc.unwrap_or(0.0))
            .then(a.cmp(b))
    });
    let Some(&chosen) = finalists.first() else {
        return Err(ModelError::Config(format!(
            "no model candidate matches {kind:?}"
        )));
    };
    results[chosen].chosen = true;
    let encoder = Encoder::fit(table, &config.encoding)?;
    let build = |c: usize| -> Result<ChurnModel, ModelError> {
        // The refit sees k/(k-1) times the rows a fold model saw: allow as many more trees.
        let trees = results[c]
            .trees
            .map(|t| ((t as f64 * k as f64 / (k as f64 - 1.0)).round() as usize).max(10));
        let learner = fit_candidate(&candidates[c], &encoder, table, labels, None, trees, config)?;
        let method = config.training.calibration.as_str();
        let calibrator = Calibrator::fit(&out_of_fold[c], labels, method);
        let band = IntervalBand::fit(
            &out_of_fold[c],
            labels,
            calibrator.name(),
            config.training.bootstrap_rounds,
            config.training.seed,
        );
        Ok(ChurnModel {
            encoder: encoder.clone(),
            learner,
            calibrator,
            band,
            tiers: config.tiers.clone(),
            label: None,
            id_column: None,
            training_rows: table.rows,
            training_positives: positives,
        })
    };
    let model = build(chosen)?;
    let runner_up = match finalists.get(1) {
        Some(c) => Some(build(*c)?),
        None => None,
    };
    Ok(Fitted {
        model,
        candidates: results,
        runner_up,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::sigmoid;
    use crate::evaluate::evaluate;
    use rand::Rng;

    /// A table with a known probability per row: risk = σ(−2 + 1.5·usage_drop + 1.0·[plan=basic]).
    pub(crate) fn synthetic(n: usize, seed: u64) -> (Table, Vec<bool>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut drop = Vec::new();
        let mut noise = Vec::new();
        let mut plan = Vec::new();
        let mut truth = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let d: f64 = rng.random_range(-1.0..2.0);
            let basic = rng.random::<f64>() < 0.4;
            let p = sigmoid(-2.0 + 1.5 * d + if basic { 1.0 } else { 0.0 });
            drop.push(if rng.random::<f64>() < 0.05 {
                f64::NAN
            } else {
                d
            });
            noise.push(rng.random_range(0.0..10.0));
            plan.push(Some(if basic {
                "basic".to_string()
            } else {
                "pro".to_string()
            }));
            truth.push(p);
            labels.push(rng.random::<f64>() < p);
        }
        let mut table = Table::default();
        table.push("usage_drop", Values::Numeric(drop)).ok();
        table.push("noise", Values::Numeric(noise)).ok();
        table.push("plan", Values::Text(plan)).ok();
        (table, labels, truth)
    }

    fn small_config() -> ModelConfig {
        let mut config = ModelConfig::default();
        config.trees.truncate(1);
        config.trees[0].max_trees = 200;
        config.training.bootstrap_rounds = 30;
        config
    }

    #[test]
    fn fit_ranks_calibrates_and_explains_on_known_probabilities() {
        let config = small_config();
        let (train, labels, _) = synthetic(6000, 1);
        let folds = stratified_folds(&labels, 4, 1);
        let fitted = fit(&train, &labels, &folds, &config, &KindChoice::Auto)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(fitted.candidates.iter().filter(|c| c.chosen).count() == 1);
        assert!(fitted.runner_up.is_some());
        let (test, test_labels, truth) = synthetic(4000, 2);
        let p = fitted
            .model
            .probabilities(&test)
            .unwrap_or_else(|e| panic!("{e}"));
        let e = evaluate(&p, &test_labels);
        let oracle = evaluate(&truth, &test_labels);
        assert!(
            e.auc.unwrap_or(0.0) > oracle.auc.unwrap_or(1.0) - 0.02,
            "{:?} vs {:?}",
            e.auc,
            oracle.auc
        );
        assert!(e.ece < 0.03, "ece {}", e.ece);
        let predictions = fitted
            .model
            .predict(&test)
            .unwrap_or_else(|e| panic!("{e}"));
        // For a row with a high usage drop, that is the top risk driver.
        let row = (0..test.rows)
            .find(|r| matches!(&test.columns[0].values, Values::Numeric(v) if v[*r] > 1.8))
            .unwrap_or(0);
        assert_eq!(predictions[row].drivers[0].feature, "usage_drop");
        assert!(
            predictions[row].low <= predictions[row].probability
                && predictions[row].probability <= predictions[row].high
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_model() {
        let config = small_config();
        let (train, labels, _) = synthetic(2000, 5);
        let folds = stratified_folds(&labels, 4, 9);
        let a = fit(&train, &labels, &folds, &config, &KindChoice::Trees)
            .unwrap_or_else(|e| panic!("{e}"));
        let b = fit(&train, &labels, &folds, &config, &KindChoice::Trees)
            .unwrap_or_else(|e| panic!("{e}"));
        let pa = a.model.probabilities(&train).unwrap_or_default();
        let pb = b.model.probabilities(&train).unwrap_or_default();
        assert_eq!(pa, pb);
        assert_eq!(a.model.to_json().ok(), b.model.to_json().ok());
        let restored = ChurnModel::from_json(&a.model.to_json().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(restored.probabilities(&train).unwrap_or_default(), pa);
    }

    #[test]
    fn one_outcome_only_is_a_clear_error() {
        let (train, _, _) = synthetic(200, 1);
        let labels = vec![false; 200];
        let folds = stratified_folds(&labels, 4, 1);
        let err = fit(&train, &labels, &folds, &small_config(), &KindChoice::Auto)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("0 churned")),
            "{err:?}"
        );
    }
}
