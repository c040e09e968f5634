//! The COCO engine: the pipeline from stored data to stored insights, and the services
//! surfaces (CLI, server) call. It wires `coco-metrics` (SQL), `coco-store` (running
//! and filing it) and `coco-insights` (pure analyzers) together and holds no analytics
//! of its own.
//!
//! - [`config`]: shipped configuration and the user's overrides.
//! - [`score`]: snapshot + health + cohorts + benchmarks as of a date; backfill.
//! - [`account`]: the evidence view of one account (score, components, drivers,
//!   cohort percentiles, decline assessment).
//! - [`churn`]: churn models — training on the store's history or a flat table, the
//!   registry, scoring and explaining accounts.
//! - [`renewals`]: the renewal forecast (expected renewed ARR, GRR/NRR with ranges,
//!   scenarios, forecast vs actual).
//! - [`expansion`]: expansion opportunities (signals, timing, sizing, talking points),
//!   the signal backtest and recorded outcomes.
//! - [`adoption`]: adoption profiles, gaps, causes, plans, heatmap, time to value, the
//!   progress report and campaigns.
//! - [`growth`]: what those two share — the frame, feature usage and history as of D.
//! - [`drafts`]: documents (outreach, sequences, QBR decks, plans, reports) from each
//!   type's facts, through `coco-drafts`' templates and grounding check.
//! - [`portfolio`]: which snapshot answers "as of D" and what it is compared with; the
//!   portfolio page's numbers; pages of the health list.

pub mod account;
pub mod actions;
pub mod adoption;
pub mod churn;
pub mod config;
pub mod drafts;
pub mod expansion;
pub mod growth;
pub mod lifecycle;
pub mod portfolio;
pub mod renewals;
pub mod score;

/// What `Config::metric_metas` returns (re-exported for the API's schemas).
pub use coco_insights::MetricMeta;
pub use config::Config;
pub use score::{ScoreRun, backfill, score_as_of};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] coco_store::StoreError),
    #[error(transparent)]
    Catalogue(#[from] coco_metrics::CatalogueError),
    #[error(transparent)]
    Compile(#[from] coco_metrics::CompileError),
    #[error("{origin}: {message}")]
    Health { origin: String, message: String },
    #[error("{origin}: {message}")]
    ModelConfig { origin: String, message: String },
    #[error("cannot read {path}: {source}")]
    ConfigFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but the record's state forbids it (an HTTP 409).
    #[error("{0}")]
    Conflict(String),
    #[error("serialising configuration: {0}")]
    Json(serde_json::Error),
    #[error(transparent)]
    Model(#[from] coco_models::ModelError),
}

impl EngineError {
    /// True when the user can fix the cause (exit code 1) rather than a bug (exit 2).
    pub fn is_user_error(&self) -> bool {
        match self {
            EngineError::Store(e) => e.is_user_error(),
            EngineError::Json(_) => false,
            EngineError::Model(e) => e.is_user_error(),
            _ => true,
        }
    }
}
