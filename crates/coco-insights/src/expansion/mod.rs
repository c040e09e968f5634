//! Expansion opportunities (catalogue E1–E6): usage signals with their evidence, the
//! timing light, sizing from the price book × win probability, a priority, and talking
//! points built on the account's own numbers. Pure: the engine hands in the snapshot,
//! the weekly snapshots before it, the per-feature usage, tickets and feedback, health
//! and churn, and past outcomes; nothing here reads the store or the clock.
//!
//! - `config`: `config/expansion.toml`.
//! - [`signals`]: the six usage signals (E1).
//! - [`crosssell`]: look-alike propensity for modules an account lacks (E2).
//! - [`timing`]: green / yellow / red and when to reach out (E3).
//! - [`sizing`]: uplift by type, win probability, priority (E4).
//! - [`talking`]: opening, reasons, objections, next step (E5), as data and Markdown.
//! - [`feedback`]: which signals preceded won expansions; signal weights (E6).

pub mod config;
pub mod crosssell;
pub mod feedback;
pub mod signals;
pub mod sizing;
pub mod talking;
pub mod timing;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::frame::MetricHistory;
use crate::frame::SnapshotFrame;
use crate::usage::FeatureMatrix;

pub use config::{ExpansionConfig, ExpansionConfigError, Light, Outreach};
pub use feedback::{SignalPrecision, SignalWeights, WinHistory};
pub use signals::{Evidence, Signal, SignalKind, SourceRow};
pub use sizing::Sizing;
pub use talking::TalkingPoints;
pub use timing::Timing;

/// The account's contract position at the as-of date.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Holding {
    pub plan_tier: Option<String>,
    pub seats: Option<f64>,
    pub arr: Option<f64>,
    /// Products with a contract valid at the as-of date (`core`, add-on modules).
    pub products: Vec<String>,
    pub renewal_date: Option<NaiveDate>,
}

/// Where a work item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemSource {
    Ticket,
    Feedback,
}

/// A support ticket or feedback item of the recent window, as module-gap evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    pub source: ItemSource,
    pub id: String,
    pub date: NaiveDate,
    /// Ticket category, or feedback category (`feature_request`, …).
    pub category: Option<String>,
    pub text: String,
    pub feature_key: Option<String>,
}

/// A note from a touchpoint that states the customer's goals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GoalNote {
    pub touchpoint_id: String,
    pub date: NaiveDate,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthBrief {
    pub score: Option<f64>,
    pub colour: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChurnBrief {
    pub probability: f64,
    pub tier: String,
}

/// What an opportunity would sell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpportunityKind {
    Seats,
    Tier { to: String },
    Module { module: String },
}

impl OpportunityKind {
    /// `seats`, `tier`, `module`: the key of priors, objections and outcomes.
    pub fn type_name(&self) -> &'static str {
        match self {
            OpportunityKind::Seats => "seats",
            OpportunityKind::Tier { .. } => "tier",
            OpportunityKind::Module { .. } => "module",
        }
    }

    /// The stable part of an opportunity id: `seats`, `tier:enterprise`, `module:api`.
    pub fn slug(&self) -> String {
        match self {
            OpportunityKind::Seats => "seats".into(),
            OpportunityKind::Tier { to } => format!("tier:{to}"),
            OpportunityKind::Module { module } => format!("module:{module}"),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            OpportunityKind::Seats => "more seats".into(),
            OpportunityKind::Tier { to } => format!("upgrade to {to}"),
            OpportunityKind::Module { module } => format!("add the {module} module"),
        }
    }
}

/// One expansion opportunity of one account, with everything behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Opportunity {
    /// `<account_id>:<kind slug>`, stable across runs: outcomes are recorded against it.
    pub id: String,
    pub account_id: String,
    pub account_name: String,
    pub segment: Option<String>,
    pub owner_csm_id: Option<String>,
    pub as_of: NaiveDate,
    pub kind: OpportunityKind,
    pub signals: Vec<Signal>,
    pub sizing: Sizing,
    pub timing: Timing,
    /// Weight of the signals from recorded outcomes (1 = no evidence either way).
    pub signal_weight: f64,
    /// Expected ARR × signal weight × timing factor: the pipeline's order.
    pub priority: f64,
    pub renewal_date: Option<NaiveDate>,
    pub talking_points: TalkingPoints,
}

/// Everything the expansion analysis reads, aligned with `frame.accounts`.
pub struct ExpansionInputs<'a> {
    pub frame: &'a SnapshotFrame,
    pub names: &'a [String],
    pub holdings: &'a [Holding],
    pub history: &'a MetricHistory,
    pub usage: &'a FeatureMatrix,
    pub items: &'a [Vec<WorkItem>],
    pub goals: &'a [Vec<GoalNote>],
    pub health: &'a [Option<HealthBrief>],
    pub churn: &'a [Option<ChurnBrief>],
    pub win_history: &'a WinHistory,
    pub weights: &'a SignalWeights,
    /// Cross-sell propensities per account (from [`crosssell`]); empty = none computed.
    pub cross_sell: &'a [Vec<crosssell::Propensity>],
}

/// Opportunities of every account, highest priority first.
pub fn analyse(inputs: &ExpansionInputs<'_>, config: &ExpansionConfig) -> Vec<Opportunity> {
    let context = signals::PortfolioContext::new(inputs, config);
    let mut all: Vec<Opportunity> =
        crate::parallel::map_ordered(inputs.frame.account_count(), 2_000, |account| {
            account_opportunities(inputs, config, &context, account)
        })
        .into_iter()
        .flatten()
        .collect();
    sort_by_priority(&mut all);
    all
}

/// Opportunities of one account (by frame index), highest priority first.
pub fn analyse_account(
    inputs: &ExpansionInputs<'_>,
    config: &ExpansionConfig,
    account: usize,
) -> Vec<Opportunity> {
    let context = signals::PortfolioContext::new(inputs, config);
    let mut found = account_opportunities(inputs, config, &context, account);
    sort_by_priority(&mut found);
    found
}

fn sort_by_priority(opportunities: &mut [Opportunity]) {
    opportunities.sort_by(|a, b| {
        b.priority
            .total_cmp(&a.priority)
            .then_with(|| a.id.cmp(&b.id))
    });
}

fn account_opportunities(
    inputs: &ExpansionInputs<'_>,
    config: &ExpansionConfig,
    context: &signals::PortfolioContext,
    account: usize,
) -> Vec<Opportunity> {
    let found = signals::detect(inputs, config, context, account);
    if found.is_empty() {
        return Vec::new();
    }
    let mut by_kind: BTreeMap<OpportunityKind, Vec<Signal>> = BTreeMap::new();
    for signal in found {
        by_kind
            .entry(signal.target.clone())
            .or_default()
            .push(signal);
    }
    let frame = inputs.frame;
    let row = &frame.accounts[account];
    let text = |name: &str| {
        row.attributes
            .get(name)
            .and_then(|v| v.as_text())
            .map(str::to_string)
    };
    let timing = timing::assess(inputs, config, account);
    let holding = &inputs.holdings[account];
    by_kind
        .into_iter()
        .map(|(kind, mut signals)| {
            signals.sort_by(|a, b| b.strength.total_cmp(&a.strength));
            let sizing = sizing::size(inputs, config, account, &kind, &signals, &timing);
            let signal_weight = inputs.weights.combined(&signals);
            let timing_factor = config
                .priority
                .timing_factor
                .get(timing.outreach.as_str())
                .copied()
                .unwrap_or(1.0);
            let priority = sizing.expected_arr * signal_weight * timing_factor;
            let name = inputs.names.get(account).cloned().unwrap_or_default();
            let mut opportunity = Opportunity {
                id: format!("{}:{}", row.account_id, kind.slug()),
                account_id: row.account_id.clone(),
                account_name: name,
                segment: text("segment"),
                owner_csm_id: text("owner_csm_id"),
                as_of: frame.as_of,
                kind,
                signals,
                sizing,
                timing: timing.clone(),
                signal_weight,
                priority,
                renewal_date: holding.renewal_date,
                talking_points: TalkingPoints::default(),
            };
            opportunity.talking_points =
                talking::build(&opportunity, &inputs.goals[account], config, holding);
            opportunity
        })
        .collect()
}

/// The pipeline summed: by type and by outreach, against an optional target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PipelineSummary {
    pub opportunities: usize,
    pub accounts: usize,
    pub uplift_arr: f64,
    pub expected_arr: f64,
    pub by_type: Vec<PipelineLine>,
    pub by_outreach: Vec<PipelineLine>,
    pub by_light: Vec<PipelineLine>,
    pub target_arr: Option<f64>,
    /// Expected ARR ÷ target.
    pub coverage: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PipelineLine {
    pub key: String,
    pub opportunities: usize,
    pub uplift_arr: f64,
    pub expected_arr: f64,
}

pub fn pipeline_summary(opportunities: &[Opportunity], target_arr: Option<f64>) -> PipelineSummary {
    fn lines<'a>(
        opportunities: &'a [Opportunity],
        key: impl Fn(&'a Opportunity) -> String,
    ) -> Vec<PipelineLine> {
        let mut grouped: BTreeMap<String, PipelineLine> = BTreeMap::new();
        for o in opportunities {
            let k = key(o);
            let line = grouped.entry(k.clone()).or_insert(PipelineLine {
                key: k,
                opportunities: 0,
                uplift_arr: 0.0,
                expected_arr: 0.0,
            });
            line.opportunities += 1;
            line.uplift_arr += o.sizing.uplift_arr;
            line.expected_arr += o.sizing.expected_arr;
        }
        grouped.into_values().collect()
    }
    let expected_arr: f64 = opportunities.iter().map(|o| o.sizing.expected_arr).sum();
    let mut accounts: Vec<&str> = opportunities
        .iter()
        .map(|o| o.account_id.as_str())
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    PipelineSummary {
        opportunities: opportunities.len(),
        accounts: accounts.len(),
        uplift_arr: opportunities.iter().map(|o| o.sizing.uplift_arr).sum(),
        expected_arr,
        by_type: lines(opportunities, |o| o.kind.type_name().to_string()),
        by_outreach: lines(opportunities, |o| o.timing.outreach.as_str().to_string()),
        by_light: lines(opportunities, |o| o.timing.light.as_str().to_string()),
        target_arr,
        coverage: target_arr.filter(|t| *t > 0.0).map(|t| expected_arr / t),
    }
}
