//! What the expansion and adoption services share: the snapshot that answers "as of D"
//! as an analyzer frame, account names, per-feature usage as of that snapshot's date,
//! and earlier snapshots' values of a few metrics. Everything is read as of the
//! snapshot's date, so a result "as of D" uses only data known then.

use chrono::{Days, NaiveDate};
use coco_core::contract::PLAN_TIERS;
use coco_insights::frame::{MetricHistory, SnapshotFrame};
use coco_insights::usage::{FeatureInfo, FeatureMatrix, FeatureUse};
use coco_store::Store;
use coco_store::snapshots::SnapshotInfo;

use crate::portfolio::snapshot_pair;
use crate::score::to_frame;
use crate::{Config, EngineError};

pub struct GrowthBase {
    pub snapshot: SnapshotInfo,
    pub frame: SnapshotFrame,
    pub names: Vec<String>,
    pub usage: FeatureMatrix,
    pub history: MetricHistory,
}

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

/// Per-feature usage of the frame's accounts as of `as_of`.
pub fn feature_matrix(
    store: &Store,
    accounts: &[String],
    features: Vec<FeatureInfo>,
    as_of: NaiveDate,
    window_days: u32,
) -> Result<FeatureMatrix, EngineError> {
    let keys: Vec<String> = features.iter().map(|f| f.key.clone()).collect();
    let sql = coco_metrics::feature_usage_sql(as_of, window_days);
    let rows = store.feature_usage(&sql, accounts, &keys)?;
    Ok(FeatureMatrix {
        as_of: Some(as_of),
        window_days,
        features,
        accounts: rows
            .into_iter()
            .map(|list| {
                list.into_iter()
                    .map(|r| FeatureUse {
                        feature: r.feature,
                        entitled: r.entitled,
                        events: r.events,
                        users: r.users,
                        prior_events: r.prior_events,
                        first_used: r.first_used,
                        last_used: r.last_used,
                    })
                    .collect()
            })
            .collect(),
    })
}

/// The snapshot answering "as of `as_of`", loaded with usage and history.
pub fn load_base(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    spec: &HistorySpec,
) -> Result<GrowthBase, EngineError> {
    let snapshot = snapshot_pair(store, config, as_of, 0)?.current;
    load_snapshot_base(store, config, snapshot, spec)
}

pub fn load_snapshot_base(
    store: &Store,
    config: &Config,
    snapshot: SnapshotInfo,
    spec: &HistorySpec,
) -> Result<GrowthBase, EngineError> {
    let started = std::time::Instant::now();
    let metas = config.metric_metas();
    let metric_names: Vec<String> = metas.iter().map(|m| m.name.clone()).collect();
    let wide = store.load_snapshot(&snapshot, &metric_names)?;
    let frame = to_frame(&wide, &metas)?;
    tracing::info!("growth: snapshot frame in {:.2?}", started.elapsed());
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
    tracing::info!("growth: names in {:.2?}", started.elapsed());
    let usage = feature_matrix(
        store,
        &accounts,
        feature_infos(store)?,
        snapshot.as_of,
        config.adoption.window_days,
    )?;
    tracing::info!("growth: feature usage in {:.2?}", started.elapsed());
    let history = history(store, config, &snapshot, &accounts, spec)?;
    tracing::info!("growth: history in {:.2?}", started.elapsed());
    Ok(GrowthBase {
        snapshot,
        frame,
        names,
        usage,
        history,
    })
}

/// Earlier snapshots of the same catalogue: the weekly ones before `current` and,
/// optionally, the one nearest to a year before.
fn history(
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
