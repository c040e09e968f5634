//! The two learners behind one type: L2-regularised logistic regression (`linfa-logistic`)
//! and gradient-boosted trees (`forust-ml`). Both produce a raw score in log-odds and an
//! exact decomposition of it per encoded column:
//!
//! - linear: `coefficient × (value − training mean)`; the rest is the average row's score;
//! - trees: Shapley values (forust's TreeSHAP), whose sum plus the expected value is the
//!   score.

use forust_ml::gradientbooster::{ContributionsMethod, GradientBooster};
use forust_ml::metric::Metric;
use forust_ml::objective::ObjectiveType;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::encode::Matrix;

/// Hyperparameters of one tree candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeParams {
    pub max_depth: usize,
    pub learning_rate: f32,
    /// Upper bound on trees; early stopping on the held-out fold picks the number.
    pub max_trees: usize,
    #[serde(default = "default_min_leaf_weight")]
    pub min_leaf_weight: f32,
    #[serde(default = "default_l2")]
    pub l2: f32,
    #[serde(default = "default_colsample")]
    pub colsample_bytree: f64,
    #[serde(default = "default_early_stopping")]
    pub early_stopping_rounds: usize,
}

fn default_min_leaf_weight() -> f32 {
    5.0
}
fn default_l2() -> f32 {
    1.0
}
fn default_colsample() -> f64 {
    0.8
}
fn default_early_stopping() -> usize {
    30
}

/// A fitted learner.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Learner {
    Logistic {
        alpha: f64,
        intercept: f64,
        coefficients: Vec<f64>,
        /// Training mean of every column (the reference point of contributions).
        means: Vec<f64>,
    },
    Trees {
        params: TreeParams,
        trees: usize,
        booster: Box<GradientBooster>,
    },
}

impl Learner {
    pub fn kind(&self) -> &'static str {
        match self {
            Learner::Logistic { .. } => "logistic",
            Learner::Trees { .. } => "trees",
        }
    }

    /// Log-odds for every row.
    pub fn score(&self, x: &Matrix) -> Vec<f64> {
        match self {
            Learner::Logistic {
                intercept,
                coefficients,
                ..
            } => (0..x.rows)
                .map(|r| {
                    intercept
                        + x.row(r)
                            .iter()
                            .zip(coefficients)
                            .map(|(v, c)| v * c)
                            .sum::<f64>()
                })
                .collect(),
            Learner::Trees { booster, .. } => {
                let data = x.column_major();
                let matrix = forust_ml::Matrix::new(&data, x.rows, x.columns);
                booster.predict(&matrix, true)
            }
        }
    }

    /// Per row: one contribution per column, then the reference score (last).
    pub fn contributions(&self, x: &Matrix) -> Vec<Vec<f64>> {
        match self {
            Learner::Logistic {
                intercept,
                coefficients,
                means,
                ..
            } => {
                let reference = intercept
                    + coefficients
                        .iter()
                        .zip(means)
                        .map(|(c, m)| c * m)
                        .sum::<f64>();
                (0..x.rows)
                    .map(|r| {
                        let mut out: Vec<f64> = x
                            .row(r)
                            .iter()
                            .zip(coefficients.iter().zip(means))
                            .map(|(v, (c, m))| c * (v - m))
                            .collect();
                        out.push(reference);
                        out
                    })
                    .collect()
            }
            Learner::Trees { booster, .. } => {
                let data = x.column_major();
                let matrix = forust_ml::Matrix::new(&data, x.rows, x.columns);
                let flat =
                    booster.predict_contributions(&matrix, ContributionsMethod::Shapley, true);
                flat.chunks(x.columns + 1).map(<[f64]>::to_vec).collect()
            }
        }
    }
}

fn check_classes(y: &[bool]) -> Result<(), ModelError> {
    let positives = y.iter().filter(|v| **v).count();
    if positives == 0 || positives == y.len() {
        return Err(ModelError::Input(format!(
            "the training rows hold only one outcome ({positives} of {} positive); a model needs both",
            y.len()
        )));
    }
    Ok(())
}

/// L2-regularised logistic regression (`alpha` weighs ½‖w‖² against the summed log-loss,
/// as sklearn's 1/C).
pub fn fit_logistic(
    x: &Matrix,
    y: &[bool],
    alpha: f64,
    max_iterations: u64,
) -> Result<Learner, ModelError> {
    check_classes(y)?;
    let records = ndarray::Array2::from_shape_vec((x.rows, x.columns), x.values.clone())
        .map_err(|e| ModelError::Training(e.to_string()))?;
    let targets = ndarray::Array1::from_vec(y.to_vec());
    let dataset = Dataset::new(records, targets);
    let fitted = LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(max_iterations)
        .fit(&dataset)
        .map_err(|e| ModelError::Training(format!("logistic regression: {e}")))?;
    // linfa's "positive" class is whichever label it ordered first, not `true`
    // (../shared/STACK-NOTES.md): flip the signs when it is `false`.
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    let coefficients: Vec<f64> = fitted.params().iter().map(|c| sign * c).collect();
    let intercept = sign * fitted.intercept();
    let means = (0..x.columns)
        .map(|c| {
            (0..x.rows)
                .map(|r| x.values[r * x.columns + c])
                .sum::<f64>()
                / x.rows.max(1) as f64
        })
        .collect();
    Ok(Learner::Logistic {
        alpha,
        intercept,
        coefficients,
        means,
    })
}

/// Gradient-boosted trees; with `eval`, stops when its log-loss has not improved for
/// `early_stopping_rounds` trees and keeps the best number. Returns the learner and the
/// number of trees used.
pub fn fit_trees(
    x: &Matrix,
    y: &[bool],
    params: &TreeParams,
    trees: usize,
    eval: Option<(&Matrix, &[bool])>,
    seed: u64,
) -> Result<Learner, ModelError> {
    check_classes(y)?;
    let mut booster = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(trees)
        .set_learning_rate(params.learning_rate)
        .set_max_depth(params.max_depth)
        .set_min_leaf_weight(params.min_leaf_weight)
        .set_l2(params.l2)
        .set_colsample_bytree(params.colsample_bytree)
        .set_seed(seed)
        .set_parallel(true);
    let data = x.column_major();
    let matrix = forust_ml::Matrix::new(&data, x.rows, x.columns);
    let targets: Vec<f64> = y.iter().map(|v| f64::from(u8::from(*v))).collect();
    let weights = vec![1.0; x.rows];
    let eval_data = eval.map(|(m, labels)| {
        (
            m.column_major(),
            labels
                .iter()
                .map(|v| f64::from(u8::from(*v)))
                .collect::<Vec<f64>>(),
        )
    });
    let eval_weights = eval.map(|(m, _)| vec![1.0; m.rows]);
    let evaluation = match (&eval_data, &eval_weights, eval) {
        (Some((data, labels)), Some(weights), Some((m, _))) => {
            booster = booster
                .set_evaluation_metric(Some(Metric::LogLoss))
                .set_early_stopping_rounds(Some(params.early_stopping_rounds));
            Some(vec![(
                forust_ml::Matrix::new(data, m.rows, m.columns),
                labels.as_slice(),
                weights.as_slice(),
            )])
        }
        _ => None,
    };
    booster
        .fit(&matrix, &targets, &weights, evaluation)
        .map_err(|e| ModelError::Training(format!("gradient-boosted trees: {e}")))?;
    let used = booster.best_iteration.map_or(trees, |best| best + 1);
    if eval.is_some() {
        booster = booster.set_prediction_iteration(Some(used));
    }
    Ok(Learner::Trees {
        params: params.clone(),
        trees: used,
        booster: Box::new(booster),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::sigmoid;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn data(n: usize, seed: u64) -> (Matrix, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut values = Vec::with_capacity(n * 3);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let a: f64 = rng.random_range(-2.0..2.0);
            let b: f64 = rng.random_range(-2.0..2.0);
            let noise: f64 = rng.random_range(-2.0..2.0);
            values.extend([a, b, noise]);
            y.push(rng.random::<f64>() < sigmoid(1.5 * a - 1.0 * b - 0.5));
        }
        (
            Matrix {
                rows: n,
                columns: 3,
                values,
            },
            y,
        )
    }

    #[test]
    fn logistic_recovers_signs_and_contributions_sum_to_the_score() {
        let (x, y) = data(4000, 1);
        let learner = fit_logistic(&x, &y, 1.0, 200).unwrap_or_else(|e| panic!("{e}"));
        let Learner::Logistic { coefficients, .. } = &learner else {
            panic!("logistic")
        };
        assert!((coefficients[0] - 1.5).abs() < 0.25, "{coefficients:?}");
        assert!((coefficients[1] + 1.0).abs() < 0.25, "{coefficients:?}");
        assert!(coefficients[2].abs() < 0.15, "{coefficients:?}");
        let scores = learner.score(&x);
        for (row, c) in learner.contributions(&x).iter().enumerate().take(20) {
            assert!((c.iter().sum::<f64>() - scores[row]).abs() < 1e-9);
        }
    }

    #[test]
    fn trees_stop_early_and_shapley_values_sum_to_the_score() {
        let (x, y) = data(3000, 2);
        let (vx, vy) = data(1000, 3);
        let params = TreeParams {
            max_depth: 3,
            learning_rate: 0.1,
            max_trees: 400,
            min_leaf_weight: 5.0,
            l2: 1.0,
            colsample_bytree: 1.0,
            early_stopping_rounds: 20,
        };
        let learner =
            fit_trees(&x, &y, &params, 400, Some((&vx, &vy)), 7).unwrap_or_else(|e| panic!("{e}"));
        let Learner::Trees { trees, .. } = &learner else {
            panic!("trees")
        };
        assert!(*trees < 400, "early stopping should stop before 400 trees");
        let scores = learner.score(&vx);
        for (row, c) in learner.contributions(&vx).iter().enumerate().take(20) {
            assert!(
                (c.iter().sum::<f64>() - scores[row]).abs() < 1e-6,
                "{} vs {}",
                c.iter().sum::<f64>(),
                scores[row]
            );
        }
    }
}
