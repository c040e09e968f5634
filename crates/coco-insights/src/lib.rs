//! COCO insights: the pure analyzers. A snapshot of metric values and a configuration go
//! in, insights come out. Nothing here reads files, opens the store or looks at the
//! clock (dates are inputs), so every result can be reproduced from its inputs and
//! checked by hand.
//!
//! - [`frame`]: the input — one point-in-time snapshot of every account's metrics.
//! - [`config`]: the health configuration (TOML): cohorts, scorecards, decline rule.
//! - [`cohort`]: peer groups, and benchmarks (percentiles, quantiles) within them.
//! - [`health`]: health scores with an exact breakdown into points per metric.
//! - [`drivers`]: why a score changed, what pulls it down, and whether a decline is a
//!   temporary dip or a structural one.
//! - [`stats`]: the statistical tests, effect sizes and intervals the analyzers share
//!   (Fisher, chi-square, Welch, Mann–Whitney, Wilson/Newcombe, Holm/BH; statrs beneath).
//!
//! A scoring pass, end to end:
//!
//! ```
//! use coco_insights::{Benchmarks, HealthConfig, SnapshotFrame, assign_cohorts, score_all};
//!
//! fn score(frame: &SnapshotFrame, toml_text: &str) -> Result<(), Box<dyn std::error::Error>> {
//!     let config = HealthConfig::from_toml(toml_text)?;
//!     config.validate(&frame.metrics)?;
//!     let assignment = assign_cohorts(frame, &config.cohorts);
//!     let benchmarks = Benchmarks::compute(frame, &assignment);
//!     for account in score_all(frame, &config, &assignment, &benchmarks)? {
//!         println!("{} {:?} {}", account.account_id, account.score, account.colour.as_str());
//!     }
//!     Ok(())
//! }
//! ```

pub mod adoption;
pub mod cohort;
pub mod drivers;
pub mod expansion;
pub mod format;
pub mod frame;
pub mod health;
pub mod journey;
pub mod parallel;
pub mod segments;
pub mod settings;
pub mod stats;
pub mod usage;
pub mod values;
pub mod workload;

/// The health configuration, also reachable as `health::config`.
pub use health::config;

pub use cohort::{
    BenchmarkEntry, BenchmarkSummary, Benchmarks, CohortAssignment, CohortBand, CohortDef,
    CohortDimension, assign_cohorts, cohort_trend, mid_rank_percentile,
};
pub use drivers::{
    CategoryChange, ComponentChange, DeclineAssessment, DeclineEvidence, DeclineKind, DeclineRule,
    Driver, ExplainError, ScoreChange, Shortfall, assess_decline, explain_change, shortfalls,
};
pub use format::{format_metric_value, format_money};
pub use frame::{
    AccountRow, AttrValue, Direction, FrameError, MetricHistory, MetricMeta, SnapshotFrame,
};
pub use health::{
    AccountHealth, Colour, ComponentDef, ComponentScore, ConfigError, ConfigProblem, Cutoffs,
    HealthConfig, HealthError, MetricRule, MetricScore, ScoreBand, ScoreFn, ScorecardDef, Scorer,
    score_all,
};
