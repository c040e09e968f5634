//! What the expansion and adoption services share: the snapshot that answers "as of D"
//! as an analyzer frame, account names, per-feature usage as of that snapshot's date,
//! and earlier snapshots' values of a few metrics. Everything is read as of the
//! snapshot's date, so a result "as of D" uses only data known then.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use coco_core::contract::PLAN_TIERS;
use coco_insights::frame::{MetricHistory, SnapshotFrame};
use coco_insights::usage::{FeatureInfo, FeatureMatrix, FeatureUse};
use coco_store::Store;
use coco_store::snapshots::SnapshotInfo;

use crate::portfolio::snapshot_pair;
use crate::score::to_frame;
use crate::{Config, EngineError};

/// What expansion and adoption read as of one snapshot, loaded once and shared (an
/// `Arc` in both analyses' data).
pub struct GrowthBase {
    pub snapshot: SnapshotInfo,
    pub frame: SnapshotFrame,
    pub names: Vec<String>,
    pub usage: FeatureMatrix,
    /// The weekly snapshots before: the expansion signals' runs, trends and seasonality.
    pub history: MetricHistory,
    /// Active users in every weekly snapshot of two years: when accounts first reached
    /// N active users (time to value).
    pub activity: MetricHistory,
    /// The first day of usage history (accounts starting before it have no time to value).
    pub usage_start: Option<NaiveDate>,
}

/// Weekly snapshots of active users time to value reads.
const ACTIVITY_WEEKS: usize = 104;

/// Which earlier snapshots to read, and which metrics of them.
pub struct HistorySpec {
    pub metrics: Vec<String>,
    /// Weekly snapshots before the current one (at least 6 days apart).
    pub weeks: usize,
    /// Also the snapshot nearest to a year before (within two weeks).
    pub year_ago: bool,
}

/// The feature catalogue as the analyzers see it (tier as a rank).
pub fn feature_infos(store: &Store) -> Result<Vec<FeatureInfo>, EngineError> {
    Ok(store
        .feature_catalogue()?
        .into_iter()
        .map(|f| FeatureInfo {
            tier: PLAN_TIERS.iter().position(|t| *t == f.tier).unwrap_or(0),
            key: f.key,
            name: f.name,
            module: f.module,
            is_core: f.is_core,
            resources: f.resources,
            description: f.description,
        })
        .collect())
}

fn feature_use(r: coco_store::growth::FeatureUseRow) -> FeatureUse {
    FeatureUse {
        feature: r.feature,
        entitled: r.entitled,
        events: r.events,
        users: r.users,
        prior_events: r.prior_events,
        first_used: r.first_used,
        last_used: r.last_used,
    }
}

/// The earlier snapshots the expansion signals read.
fn expansion_history(config: &Config) -> HistorySpec {
    let rule = &config.expansion.signals.seat_pressure;
    HistorySpec {
        metrics: config.expansion.history_metrics(),
        weeks: rule.trend_weeks.max(rule.min_weeks),
        year_ago: true,
    }
}

/// The snapshot answering "as of `as_of`", loaded with usage and history.
pub fn load_base(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
) -> Result<Arc<GrowthBase>, EngineError> {
    let snapshot = snapshot_pair(store, config, as_of, 0)?.current;
    load_snapshot_base(store, config, snapshot)
}

pub fn load_snapshot_base(
    store: &Store,
    config: &Config,
    snapshot: SnapshotInfo,
) -> Result<Arc<GrowthBase>, EngineError> {
    let started = std::time::Instant::now();
    let metas = config.metric_metas();
    let metric_names: Vec<String> = metas.iter().map(|m| m.name.clone()).collect();
    let features = feature_infos(store)?;
    let keys: Vec<String> = features.iter().map(|f| f.key.clone()).collect();
    let usage_sql = coco_metrics::feature_usage_sql(snapshot.as_of, config.adoption.window_days);
    // Measured: running these two on separate handles at once saves nothing on two
    // cores (DuckDB already uses both), so they run one after the other.
    let frame = to_frame(&store.load_snapshot(&snapshot, &metric_names)?, &metas)?;
    let mut usage_rows = store.feature_usage_by_account(&usage_sql, &keys)?;
    tracing::info!(
        "growth: snapshot frame and feature usage in {:.2?}",
        started.elapsed()
    );
    let accounts: Vec<String> = frame
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    let all_names = store.account_names()?;
    let names = accounts
        .iter()
        .map(|id| all_names.get(id).cloned().unwrap_or_else(|| id.clone()))
        .collect();
    let usage = FeatureMatrix {
        as_of: Some(snapshot.as_of),
        window_days: config.adoption.window_days,
        features,
        accounts: accounts
            .iter()
            .map(|id| {
                usage_rows
                    .remove(id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(feature_use)
                    .collect()
            })
            .collect(),
    };
    tracing::info!(
        "growth: names and usage aligned in {:.2?}",
        started.elapsed()
    );
    let weekly = history(
        store,
        config,
        &snapshot,
        &accounts,
        &expansion_history(config),
    )?;
    let activity = history(
        store,
        config,
        &snapshot,
        &accounts,
        &HistorySpec {
            metrics: vec!["active_users_30d".to_string()],
            weeks: ACTIVITY_WEEKS,
            year_ago: false,
        },
    )?;
    tracing::info!("growth: history in {:.2?}", started.elapsed());
    Ok(Arc::new(GrowthBase {
        snapshot,
        frame,
        names,
        usage,
        history: weekly,
        activity,
        usage_start: store.usage_history_start()?,
    }))
}

/// Earlier snapshots of the same catalogue: the weekly ones before `current` and,
/// optionally, the one nearest to a year before.
pub(crate) fn history(
    store: &Store,
    config: &Config,
    current: &SnapshotInfo,
    accounts: &[String],
    spec: &HistorySpec,
) -> Result<MetricHistory, EngineError> {
    let fingerprint = config.catalogue.fingerprint();
    // Newest first.
    let earlier: Vec<SnapshotInfo> = store
        .list_snapshots()?
        .into_iter()
        .filter(|s| s.catalogue_fingerprint == fingerprint && s.as_of < current.as_of)
        .collect();
    let mut chosen: Vec<&SnapshotInfo> = Vec::new();
    let mut last = current.as_of;
    for s in &earlier {
        if chosen.len() >= spec.weeks {
            break;
        }
        if (last - s.as_of).num_days() >= 6 {
            chosen.push(s);
            last = s.as_of;
        }
    }
    if spec.year_ago
        && let Some(target) = current.as_of.checked_sub_days(Days::new(365))
        && let Some(near) = earlier
            .iter()
            .filter(|s| (s.as_of - target).num_days().abs() <= 14)
            .min_by_key(|s| (s.as_of - target).num_days().abs())
        && !chosen.iter().any(|c| c.snapshot_id == near.snapshot_id)
    {
        chosen.push(near);
    }
    chosen.sort_by_key(|s| s.as_of);
    let ids: Vec<i64> = chosen.iter().map(|s| s.snapshot_id).collect();
    let metrics = spec.metrics.clone();
    let values = store.metric_series(&ids, &metrics, accounts)?;
    Ok(MetricHistory {
        dates: chosen.iter().map(|s| s.as_of).collect(),
        metrics,
        values,
    })
}

/// Frame index of an account, or a clear error naming it.
pub fn account_index(frame: &SnapshotFrame, account_id: &str) -> Result<usize, EngineError> {
    frame.account_index(account_id).ok_or_else(|| {
        EngineError::NotFound(format!(
            "account `{account_id}` is not in the snapshot of {}",
            frame.as_of
        ))
    })
}

/// Expansion and adoption of the whole book as of a date, from one load.
pub struct Overview {
    pub expansion: crate::expansion::ExpansionRun,
    pub book: crate::adoption::Book,
}

/// Every expansion and adoption analysis as of `as_of` over one shared base: the
/// pipeline (with cross-sell) and the adoption book (profiles, gaps, causes, time to
/// value). Heatmaps, cause groups, plans and the report are read from it.
pub fn overview(store: &Store, config: &Config, as_of: NaiveDate) -> Result<Overview, EngineError> {
    let base = load_base(store, config, as_of)?;
    // The two analyses share only the base: the adoption book is computed on a second
    // store handle meanwhile, so one's queries overlap the other's computing.
    let adoption_store = store.try_clone()?;
    let adoption_base = Arc::clone(&base);
    std::thread::scope(|scope| {
        let book =
            scope.spawn(move || crate::adoption::book_from(&adoption_store, config, adoption_base));
        let expansion = crate::expansion::from_base(store, config, base, true)
            .map(|data| crate::expansion::run(&data, config, None));
        let book = book
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok(Overview {
            expansion: expansion?,
            book: book?,
        })
    })
}
