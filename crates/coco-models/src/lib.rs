//! COCO models: churn prediction trained on the user's own history, evaluated honestly,
//! calibrated and explained. Pure: tables and labels go in, models, predictions and
//! reports come out; nothing here opens the store, a file or the clock.
//!
//! - [`table`]: the raw input (named numeric / text columns), and flat-file parsing with
//!   type inference and label decoding (`coco model train --table`).
//! - [`encode`]: imputation, log-scaling, standardisation, one-hot levels, optional
//!   grouping of correlated metrics — learned on training rows only.
//! - [`learner`]: L2 logistic regression (Newton/IRLS) and gradient-boosted trees
//!   (`forust-ml`), each with an exact per-column decomposition of its score.
//! - [`calibrate`]: Platt / isotonic calibration and the bootstrap interval band.
//! - [`train`]: the fitting procedure (cross-fitted candidates, selection, calibration,
//!   refit) and [`train::ChurnModel`], the artefact that scores and explains rows.
//! - [`evaluate`]: AUC, PR-AUC, lift, Brier, ECE, calibration table, ROC.
//! - [`dataset`]: churn labels over observation dates (point in time), the out-of-time
//!   split and lead time.
//! - [`report`]: the evaluation report as Markdown and HTML with SVG charts.
//! - [`config`] — `config/models.toml`.

pub mod calibrate;
pub mod config;
pub mod dataset;
pub mod encode;
pub mod evaluate;
pub mod flat;
pub mod forecast;
pub mod learner;
pub mod report;
pub mod table;
pub mod train;

pub use config::ModelConfig;
pub use evaluate::Evaluation;
pub use table::{Column, Table, Values};
pub use train::{ChurnModel, Prediction};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The input cannot be used as given (missing column, one class only, bad label).
    #[error("{0}")]
    Input(String),
    #[error("model configuration: {0}")]
    Config(String),
    #[error("training failed: {0}")]
    Training(String),
    #[error("stored model cannot be read: {0}")]
    Artifact(String),
}

impl ModelError {
    pub fn is_user_error(&self) -> bool {
        !matches!(self, ModelError::Training(_))
    }
}
