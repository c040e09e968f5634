//! Scoring: compute a metric snapshot as of a date, run the health, cohort and
//! benchmark analyzers over it, and store everything in one transaction.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use coco_insights::{
    AccountRow, AttrValue, Benchmarks, HealthConfig, MetricMeta, SnapshotFrame, assign_cohorts,
    score_all,
};
use coco_metrics::CompiledSnapshot;
use coco_store::Store;
use coco_store::snapshots::{
    BenchmarkRow, CohortRow, ComputedSnapshot, HealthPartRow, HealthScoreRow, SnapshotAccount,
    SnapshotAnalyses, SnapshotInfo, SnapshotRequest, WideSnapshot,
};
use serde::Serialize;

use crate::EngineError;
use crate::config::Config;

/// The pseudo-metric under which health scores are benchmarked and ranked.
pub const HEALTH_SCORE: &str = "health_score";

/// What one scoring run did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreRun {
    pub snapshot: SnapshotInfo,
    /// Accounts per colour (green, yellow, red, unknown).
    pub colours: BTreeMap<String, usize>,
    pub mean_score: Option<f64>,
}

/// Metrics and health for every customer as of `as_of`, stored as a snapshot.
pub fn score_as_of(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
) -> Result<ScoreRun, EngineError> {
    let scored = compute_and_analyse(store, config, as_of, false)?;
    record(store, config, scored)
}

/// A date's metrics and analyses, ready to store.
struct Scored {
    compiled: CompiledSnapshot,
    computed: ComputedSnapshot,
    analyses: SnapshotAnalyses,
}

/// The read-only half of scoring: compile, run the metric query, run the analyzers.
/// `portable`: the result will be stored through another store handle.
fn compute_and_analyse(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    portable: bool,
) -> Result<Scored, EngineError> {
    let compiled = coco_metrics::compile(&config.catalogue, as_of)?;
    let computed = store.compute_snapshot(as_of, &compiled.sql, &compiled.metrics, portable)?;
    let analyses = analyse(&computed.wide, &config.metric_metas(), &config.health)?;
    Ok(Scored {
        compiled,
        computed,
        analyses,
    })
}

/// The writing half of scoring: one transaction per date.
fn record(store: &Store, config: &Config, scored: Scored) -> Result<ScoreRun, EngineError> {
    let Scored {
        compiled,
        computed,
        analyses,
    } = scored;
    let fingerprint = config.catalogue.fingerprint();
    let definition = serde_json::to_string(&config.catalogue).map_err(EngineError::Json)?;
    let request = SnapshotRequest {
        as_of: compiled.as_of,
        sql: &compiled.sql,
        metrics: &compiled.metrics,
        catalogue_fingerprint: &fingerprint,
        catalogue_version: &config.catalogue.version,
        catalogue_definition: &definition,
    };
    let snapshot = store.record_snapshot(&request, computed, &analyses)?;
    let mut colours = BTreeMap::new();
    let mut total = 0.0;
    let mut scored = 0usize;
    for row in &analyses.scores {
        *colours.entry(row.colour.clone()).or_insert(0) += 1;
        if let Some(score) = row.score {
            total += score;
            scored += 1;
        }
    }
    Ok(ScoreRun {
        snapshot,
        colours,
        mean_score: (scored > 0).then(|| total / scored as f64),
    })
}

/// Scores every `every_days` from `from` to `to` (inclusive), oldest first, calling
/// `progress` after each date.
///
/// Two stages overlap: a second connection runs the next date's metric query and
/// analyzers while this one stores the previous date (whose commit mostly waits on
/// the disk). Each date is still stored in its own transaction, in date order.
pub fn backfill(
    store: &Store,
    config: &Config,
    from: NaiveDate,
    to: NaiveDate,
    every_days: u32,
    progress: &mut dyn FnMut(&ScoreRun),
) -> Result<Vec<ScoreRun>, EngineError> {
    if every_days == 0 {
        return Err(EngineError::Invalid(
            "the backfill step must be at least 1 day".into(),
        ));
    }
    if from > to {
        return Err(EngineError::Invalid(format!(
            "the backfill start {from} is after its end {to}"
        )));
    }
    let mut dates = Vec::new();
    let mut date = from;
    while date <= to {
        dates.push(date);
        date = match date.checked_add_days(Days::new(u64::from(every_days))) {
            Some(next) => next,
            None => break,
        };
    }
    let reader = store.try_clone()?;
    std::thread::scope(|scope| {
        // At most one analysed date waits in the channel: memory holds three snapshots
        // at most (being stored, waiting, being computed).
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let dates = &dates;
        scope.spawn(move || {
            for &as_of in dates {
                let scored = compute_and_analyse(&reader, config, as_of, true);
                let failed = scored.is_err();
                // The receiver hangs up when storing failed: stop computing then.
                if sender.send(scored).is_err() || failed {
                    break;
                }
            }
        });
        let mut runs = Vec::with_capacity(dates.len());
        for scored in receiver {
            let run = record(store, config, scored?)?;
            progress(&run);
            runs.push(run);
        }
        Ok(runs)
    })
}

/// The analyzers' view of a stored snapshot.
pub fn to_frame(wide: &WideSnapshot, metas: &[MetricMeta]) -> Result<SnapshotFrame, EngineError> {
    let accounts = wide.accounts.iter().map(account_row).collect();
    let metrics = wide
        .metrics
        .iter()
        .map(|name| {
            metas
                .iter()
                .find(|m| &m.name == name)
                .cloned()
                .ok_or_else(|| {
                    EngineError::Invalid(format!("metric `{name}` is not in the catalogue"))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    SnapshotFrame::new(wide.as_of, metrics, accounts, wide.values.clone())
        .map_err(|e| EngineError::Invalid(e.to_string()))
}

fn account_row(account: &SnapshotAccount) -> AccountRow {
    let mut attributes = BTreeMap::new();
    let mut text = |name: &str, value: &Option<String>| {
        if let Some(value) = value {
            attributes.insert(name.to_string(), AttrValue::Text(value.clone()));
        }
    };
    text("segment", &account.segment);
    text("industry", &account.industry);
    text("region", &account.region);
    text("coverage_model", &account.coverage_model);
    text("owner_csm_id", &account.owner_csm_id);
    text("plan_tier", &account.plan_tier);
    let mut number = |name: &str, value: Option<f64>| {
        if let Some(value) = value {
            attributes.insert(name.to_string(), AttrValue::Number(value));
        }
    };
    number("employee_count", account.employee_count.map(|v| v as f64));
    number("arr", account.arr);
    number("seats", account.seats.map(|v| v as f64));
    number("tenure_days", account.tenure_days.map(|v| v as f64));
    AccountRow {
        account_id: account.account_id.clone(),
        attributes,
    }
}

/// Health, cohorts and benchmarks of one snapshot, as rows to store.
pub fn analyse(
    wide: &WideSnapshot,
    metas: &[MetricMeta],
    health: &HealthConfig,
) -> Result<SnapshotAnalyses, EngineError> {
    let frame = to_frame(wide, metas)?;
    let assignment = assign_cohorts(&frame, &health.cohorts);
    let benchmarks = Benchmarks::compute(&frame, &assignment);
    let results = score_all(&frame, health, &assignment, &benchmarks)
        .map_err(|e| EngineError::Invalid(e.to_string()))?;

    let mut analyses = SnapshotAnalyses {
        health_fingerprint: health.fingerprint(),
        health_version: health.version.clone(),
        health_definition: serde_json::to_string(health).map_err(EngineError::Json)?,
        ..SnapshotAnalyses::default()
    };
    let mut score_column = Vec::with_capacity(results.len());
    for account in &results {
        score_column.push(account.score.unwrap_or(f64::NAN));
        analyses.scores.push(HealthScoreRow {
            account_id: account.account_id.clone(),
            scorecard: account.scorecard.clone(),
            score: account.score,
            colour: account.colour.as_str().to_string(),
            weight_coverage: account.weight_coverage,
            notes: account.notes.clone(),
        });
        for component in &account.components {
            analyses.parts.push(HealthPartRow {
                account_id: account.account_id.clone(),
                component: component.name.clone(),
                metric: None,
                category: component.category.as_str().to_string(),
                weight: component.weight,
                effective_weight: component.effective_weight,
                value: None,
                score: component.score,
                points: component.points,
                percentile: None,
                cohort: None,
            });
            for metric in &component.metrics {
                analyses.parts.push(HealthPartRow {
                    account_id: account.account_id.clone(),
                    component: component.name.clone(),
                    metric: Some(metric.metric.clone()),
                    category: metric.category.as_str().to_string(),
                    weight: metric.weight,
                    effective_weight: metric.effective_weight,
                    value: metric.value,
                    score: metric.score,
                    points: metric.points,
                    percentile: metric.percentile,
                    cohort: metric.cohort.clone(),
                });
            }
        }
    }
    for (dimension_index, dimension) in assignment.dimensions().iter().enumerate() {
        for (account_index, account) in frame.accounts.iter().enumerate() {
            if let Some(label) = assignment.label(account_index, dimension_index) {
                analyses.cohorts.push(CohortRow {
                    account_id: account.account_id.clone(),
                    dimension: dimension.name.clone(),
                    cohort: label.to_string(),
                });
            }
        }
    }
    let score_benchmarks = Benchmarks::compute_columns(
        vec![HEALTH_SCORE.to_string()],
        &[&score_column],
        &assignment,
    );
    for source in [&benchmarks, &score_benchmarks] {
        for entry in source.entries() {
            analyses.benchmarks.push(BenchmarkRow {
                dimension: entry.dimension.to_string(),
                cohort: entry.cohort.to_string(),
                metric: entry.metric.to_string(),
                n: entry.summary.n as i64,
                mean: entry.summary.mean,
                p10: entry.summary.p10,
                p25: entry.summary.p25,
                p50: entry.summary.p50,
                p75: entry.summary.p75,
                p90: entry.summary.p90,
            });
        }
    }
    Ok(analyses)
}
