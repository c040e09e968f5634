//! The evidence view of one account: its score and components, what changed and why
//! (drivers with the metric values behind them), whether each decline is a temporary
//! dip or structural, what pulls the score down now, and where each metric stands in
//! the account's cohorts.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use coco_core::Category;
use coco_insights::config::Cutoffs;
use coco_insights::{
    AccountHealth, CategoryChange, Colour, ComponentScore, DeclineAssessment, DeclineEvidence,
    DeclineKind, MetricScore, ScoreChange, Shortfall, assess_decline, explain_change,
    mid_rank_percentile, shortfalls,
};
pub use coco_store::read_model::AccountSource;
use coco_store::read_model::{AccountReadModel, ReadModelSpec};
use coco_store::snapshots::{HealthPartRow, HealthScoreRow, SnapshotAccount, SnapshotInfo};
use coco_store::{Store, StoreError};
use serde::Serialize;

use crate::EngineError;
use crate::config::Config;
use crate::score::HEALTH_SCORE;

/// How far back "last year" may be from the exact date and still count.
const LAST_YEAR_TOLERANCE_DAYS: i64 = 7;
/// Declining drivers assessed for dip vs structural decline.
const ASSESSED_DRIVERS: usize = 8;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountView {
    pub account_id: String,
    pub name: Option<String>,
    pub as_of: NaiveDate,
    pub snapshot_id: i64,
    pub catalogue_version: String,
    pub attributes: SnapshotAccount,
    pub health: AccountHealth,
    /// The colour cut-offs of the account's scorecard.
    pub cutoffs: Option<Cutoffs>,
    /// The health score at every stored snapshot up to `as_of` (same catalogue).
    pub history: Vec<ScorePoint>,
    /// The earlier snapshot the change is measured against.
    pub compared_with: Option<NaiveDate>,
    pub change: Option<ScoreChange>,
    pub change_by_category: Vec<CategoryChange>,
    /// Declining drivers, each judged temporary dip or structural decline.
    pub declines: Vec<DriverDecline>,
    pub shortfalls: Vec<Shortfall>,
    /// Every metric value with its place in the account's cohorts.
    pub evidence: Vec<MetricEvidence>,
    /// Why no change could be explained, if so.
    pub change_note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScorePoint {
    pub as_of: NaiveDate,
    pub score: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DriverDecline {
    pub metric: String,
    pub category: Category,
    pub contribution: f64,
    pub value_before: Option<f64>,
    pub value_after: Option<f64>,
    pub cohort: Option<String>,
    pub assessment: DeclineAssessment,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricEvidence {
    pub metric: String,
    pub description: String,
    pub unit: String,
    pub category: Category,
    pub value: f64,
    pub cohorts: Vec<CohortStanding>,
    /// The metric at every stored snapshot up to `as_of` (same catalogue), oldest first.
    pub history: Vec<(NaiveDate, Option<f64>)>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CohortStanding {
    pub dimension: String,
    pub cohort: String,
    /// Mid-rank percentile among the cohort's accounts with a value.
    pub percentile: f64,
    pub peers: i64,
    pub median: Option<f64>,
}

/// How far back an account view's history reaches.
const HISTORY_DAYS: u64 = 400;

/// The date a snapshot's change is measured from.
fn compare_date(snapshot: &SnapshotInfo, compare_days: u32) -> NaiveDate {
    snapshot
        .as_of
        .checked_sub_days(Days::new(u64::from(compare_days)))
        .unwrap_or(snapshot.as_of)
}

/// The snapshots a view as of `as_of` reads: the latest on or before it and the one it
/// is compared with (None: nothing scored yet).
fn view_snapshots(
    source: &dyn AccountSource,
    fingerprint: &str,
    as_of: NaiveDate,
    compare_days: u32,
) -> Result<Option<(SnapshotInfo, Option<SnapshotInfo>)>, StoreError> {
    let Some(snapshot) = source.snapshot_on_or_before(as_of, fingerprint)? else {
        return Ok(None);
    };
    let earlier = source
        .snapshot_on_or_before(compare_date(&snapshot, compare_days), fingerprint)?
        .filter(|e| e.snapshot_id != snapshot.snapshot_id);
    Ok(Some((snapshot, earlier)))
}

/// The read model holding everything an account view as of `as_of` reads (None:
/// nothing scored yet). A long-running process builds it once per data generation.
pub fn read_model(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    compare_days: u32,
    timeline_entries: usize,
) -> Result<Option<AccountReadModel>, EngineError> {
    read_model_comparing(store, config, as_of, &[compare_days], timeline_entries)
}

/// [`read_model`] holding the earlier snapshot of each comparison its views are asked
/// for (the account page's week, the drafts' month).
pub fn read_model_comparing(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    compare_days: &[u32],
    timeline_entries: usize,
) -> Result<Option<AccountReadModel>, EngineError> {
    let fingerprint = config.catalogue.fingerprint();
    let mut snapshot = None;
    let mut earlier: Vec<SnapshotInfo> = Vec::new();
    for days in compare_days {
        let Some((latest, before)) = view_snapshots(store, &fingerprint, as_of, *days)? else {
            return Ok(None);
        };
        snapshot = Some(latest);
        if let Some(before) = before
            && !earlier.iter().any(|e| e.snapshot_id == before.snapshot_id)
        {
            earlier.push(before);
        }
    }
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    let spec = ReadModelSpec {
        history_from: snapshot.as_of - Days::new(HISTORY_DAYS),
        history_to: snapshot.as_of,
        records_as_of: snapshot.as_of,
        timeline_entries,
        fingerprint,
        full: std::iter::once(snapshot).chain(earlier).collect(),
    };
    Ok(Some(store.account_read_model(&spec)?))
}

/// Builds the view from the latest snapshot on or before `as_of`, explaining the change
/// since the snapshot `compare_days` earlier.
pub fn account_view(
    store: &Store,
    config: &Config,
    account_id: &str,
    as_of: NaiveDate,
    compare_days: u32,
) -> Result<AccountView, EngineError> {
    account_view_from(store, config, account_id, as_of, compare_days)
}

/// [`account_view`] reading from any [`AccountSource`]; the answers are the same.
pub fn account_view_from(
    store: &dyn AccountSource,
    config: &Config,
    account_id: &str,
    as_of: NaiveDate,
    compare_days: u32,
) -> Result<AccountView, EngineError> {
    let fingerprint = config.catalogue.fingerprint();
    let (snapshot, earlier) = view_snapshots(store, &fingerprint, as_of, compare_days)?
        .ok_or_else(|| {
            EngineError::NotFound(format!(
                "no snapshot on or before {as_of} with the current metric catalogue: run `coco score`"
            ))
        })?;
    let attributes = store
        .snapshot_account(snapshot.snapshot_id, account_id)?
        .ok_or_else(|| {
            EngineError::NotFound(format!(
                "{account_id} was not a customer on {} (or does not exist)",
                snapshot.as_of
            ))
        })?;
    let health = load_health(store, &snapshot, account_id)?;
    let name = store.account_name(account_id)?;

    let metas = config.metric_metas();
    let first_date = snapshot.as_of - Days::new(HISTORY_DAYS);
    let points = store.account_history(account_id, &fingerprint, first_date, snapshot.as_of)?;
    let mut series: BTreeMap<String, Vec<(NaiveDate, Option<f64>)>> = BTreeMap::new();
    for point in &points {
        series
            .entry(point.metric.clone())
            .or_default()
            .push((point.as_of, point.value));
    }
    let history = series
        .get(HEALTH_SCORE)
        .map(|s| {
            s.iter()
                .map(|(as_of, score)| ScorePoint {
                    as_of: *as_of,
                    score: *score,
                })
                .collect()
        })
        .unwrap_or_default();

    let benchmarks = store.account_benchmarks(snapshot.snapshot_id, account_id)?;
    let mut change = None;
    let mut change_note = None;
    let mut declines = Vec::new();
    match &earlier {
        None => {
            change_note = Some(format!(
                "no snapshot on or before {} to compare with: run `coco metrics backfill`",
                compare_date(&snapshot, compare_days)
            ))
        }
        Some(earlier) => match store.snapshot_account(earlier.snapshot_id, account_id)? {
            None => {
                change_note = Some(format!(
                    "{account_id} was not a customer on {}",
                    earlier.as_of
                ))
            }
            Some(_) => {
                let before = load_health(store, earlier, account_id)?;
                match explain_change(&before, &health, &metas) {
                    Ok(explained) => {
                        declines = assess_declines(
                            store,
                            config,
                            &explained,
                            earlier,
                            &snapshot,
                            &benchmarks,
                            &series,
                        )?;
                        change = Some(explained);
                    }
                    Err(e) => change_note = Some(e.to_string()),
                }
            }
        },
    }
    let change_by_category = change.as_ref().map(|c| c.by_category()).unwrap_or_default();

    let ranks = store.account_cohort_ranks(snapshot.snapshot_id, account_id)?;
    let mut evidence: Vec<MetricEvidence> = Vec::new();
    for meta in &metas {
        let mut standings: Vec<CohortStanding> = ranks
            .iter()
            .filter(|r| r.metric == meta.name)
            .map(|r| CohortStanding {
                dimension: r.dimension.clone(),
                cohort: r.cohort.clone(),
                percentile: mid_rank_percentile(r.below as usize, r.equal as usize, r.n as usize),
                peers: r.n,
                median: benchmarks
                    .iter()
                    .find(|b| {
                        b.metric == meta.name && b.dimension == r.dimension && b.cohort == r.cohort
                    })
                    .map(|b| b.p50),
            })
            .collect();
        // Configuration order: the dimensions a CS team listed first matter most.
        standings.sort_by_key(|s| {
            config
                .health
                .cohorts
                .iter()
                .position(|c| c.name == s.dimension)
                .unwrap_or(usize::MAX)
        });
        let value = ranks
            .iter()
            .find(|r| r.metric == meta.name)
            .map(|r| r.value)
            .or_else(|| {
                health
                    .components
                    .iter()
                    .flat_map(|c| &c.metrics)
                    .find(|m| m.metric == meta.name)
                    .and_then(|m| m.value)
            });
        if let Some(value) = value {
            evidence.push(MetricEvidence {
                metric: meta.name.clone(),
                description: meta.description.clone(),
                unit: meta.unit.clone(),
                category: meta.category,
                value,
                cohorts: standings,
                history: series.get(&meta.name).cloned().unwrap_or_default(),
            });
        }
    }

    Ok(AccountView {
        account_id: account_id.to_string(),
        name,
        as_of: snapshot.as_of,
        snapshot_id: snapshot.snapshot_id,
        catalogue_version: snapshot.catalogue_version.clone(),
        attributes,
        shortfalls: shortfalls(&health),
        cutoffs: config
            .health
            .scorecards
            .iter()
            .find(|s| s.name == health.scorecard)
            .map(|s| s.cutoffs),
        health,
        history,
        compared_with: earlier.map(|e| e.as_of),
        change,
        change_by_category,
        declines,
        evidence,
        change_note,
    })
}

/// The health stored for an account in a snapshot, as the analyzers' type.
fn load_health(
    store: &dyn AccountSource,
    snapshot: &SnapshotInfo,
    account_id: &str,
) -> Result<AccountHealth, EngineError> {
    let (score, parts) = store
        .account_health(snapshot.snapshot_id, account_id)?
        .ok_or_else(|| {
            EngineError::NotFound(format!(
                "no health score for {account_id} in the snapshot of {}",
                snapshot.as_of
            ))
        })?;
    Ok(health_from_rows(score, parts))
}

fn category(text: &str) -> Category {
    text.parse().unwrap_or(Category::Profile)
}

pub fn health_from_rows(score: HealthScoreRow, parts: Vec<HealthPartRow>) -> AccountHealth {
    let mut components: Vec<ComponentScore> = Vec::new();
    for part in parts {
        match &part.metric {
            None => components.push(ComponentScore {
                name: part.component.clone(),
                category: category(&part.category),
                weight: part.weight,
                effective_weight: part.effective_weight,
                score: part.score,
                points: part.points,
                metrics: Vec::new(),
            }),
            Some(metric) => {
                if let Some(component) = components.iter_mut().find(|c| c.name == part.component) {
                    component.metrics.push(MetricScore {
                        metric: metric.clone(),
                        category: category(&part.category),
                        value: part.value,
                        score: part.score,
                        weight: part.weight,
                        effective_weight: part.effective_weight,
                        points: part.points,
                        percentile: part.percentile,
                        cohort: part.cohort.clone(),
                    });
                }
            }
        }
    }
    AccountHealth {
        colour: match score.colour.as_str() {
            "green" => Colour::Green,
            "yellow" => Colour::Yellow,
            "red" => Colour::Red,
            _ => Colour::Unknown,
        },
        account_id: score.account_id,
        scorecard: score.scorecard,
        score: score.score,
        weight_coverage: score.weight_coverage,
        components,
        notes: score.notes,
    }
}

/// The decline rule applied to the drivers that cost the most points.
fn assess_declines(
    store: &dyn AccountSource,
    config: &Config,
    change: &ScoreChange,
    earlier: &SnapshotInfo,
    later: &SnapshotInfo,
    // The account's cohort benchmarks in `later`.
    later_benchmarks: &[coco_store::snapshots::BenchmarkRow],
    series: &BTreeMap<String, Vec<(NaiveDate, Option<f64>)>>,
) -> Result<Vec<DriverDecline>, EngineError> {
    let fingerprint = config.catalogue.fingerprint();
    // Peers: the first configured cohort dimension the account belongs to.
    let cohort = config.health.cohorts.iter().find_map(|def| {
        later_benchmarks
            .iter()
            .find(|b| b.dimension == def.name)
            .map(|b| (b.dimension.clone(), b.cohort.clone()))
    });
    let earlier_benchmarks = match &cohort {
        Some(key) => store.cohort_benchmarks(earlier.snapshot_id, std::slice::from_ref(key))?,
        None => Vec::new(),
    };
    let median = |rows: &[coco_store::snapshots::BenchmarkRow], metric: &str| {
        cohort.as_ref().and_then(|(dimension, label)| {
            rows.iter()
                .find(|b| b.metric == metric && &b.dimension == dimension && &b.cohort == label)
                .map(|b| b.p50)
        })
    };
    let last_year = |date: NaiveDate| -> Result<Option<SnapshotInfo>, EngineError> {
        let target = date - Days::new(365);
        Ok(store
            .snapshot_on_or_before(target, &fingerprint)?
            .filter(|s| (target - s.as_of).num_days() <= LAST_YEAR_TOLERANCE_DAYS))
    };
    let (last_year_before, last_year_after) = (last_year(earlier.as_of)?, last_year(later.as_of)?);
    let value_at = |snapshot: &Option<SnapshotInfo>, metric: &str| {
        snapshot.as_ref().and_then(|s| {
            series
                .get(metric)
                .and_then(|points| points.iter().find(|(d, _)| *d == s.as_of))
                .and_then(|(_, v)| *v)
        })
    };
    let metas = config.metric_metas();
    let mut declines = Vec::new();
    for driver in change
        .drivers
        .iter()
        .filter(|d| d.contribution < 0.0)
        .take(ASSESSED_DRIVERS)
    {
        let (Some(value_before), Some(value_after)) = (driver.value_before, driver.value_after)
        else {
            continue;
        };
        let Some(meta) = metas.iter().find(|m| m.name == driver.metric) else {
            continue;
        };
        let window: Vec<(NaiveDate, Option<f64>)> = series
            .get(&driver.metric)
            .map(|points| {
                points
                    .iter()
                    .filter(|(d, _)| *d >= earlier.as_of && *d <= later.as_of)
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        let evidence = DeclineEvidence {
            metric: driver.metric.clone(),
            direction: meta.direction,
            series: window,
            date_before: earlier.as_of,
            date_after: later.as_of,
            value_before,
            value_after,
            cohort_median_before: median(&earlier_benchmarks, &driver.metric),
            cohort_median_after: median(later_benchmarks, &driver.metric),
            last_year_before: value_at(&last_year_before, &driver.metric),
            last_year_after: value_at(&last_year_after, &driver.metric),
        };
        let assessment = assess_decline(&evidence, &config.health.decline_rule);
        if assessment.kind == DeclineKind::NotADecline {
            continue;
        }
        declines.push(DriverDecline {
            metric: driver.metric.clone(),
            category: driver.category,
            contribution: driver.contribution,
            value_before: driver.value_before,
            value_after: driver.value_after,
            cohort: cohort.as_ref().map(|(d, l)| format!("{d}={l}")),
            assessment,
        });
    }
    Ok(declines)
}
