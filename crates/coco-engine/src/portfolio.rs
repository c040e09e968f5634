//! The portfolio and health-list views the surfaces (CLI, pages, API) show: which
//! snapshot answers "as of D", what it is compared with, and the numbers of the
//! portfolio page. No analytics here: the numbers were made when the snapshot was
//! scored; this picks and assembles them.

use chrono::{Days, NaiveDate};
use coco_store::Store;
use coco_store::portfolio::{ColourTotal, ColourTrendPoint, FilterOptions, ScoreBucket};
use coco_store::snapshots::{HealthListFilter, HealthListRow, HealthSort, SnapshotInfo};
use serde::Serialize;

use crate::EngineError;
use crate::config::Config;

/// The snapshot that answers "as of `as_of`" and the one it is compared with.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotPair {
    pub current: SnapshotInfo,
    /// The latest snapshot at least `compare_days` older, if any.
    pub previous: Option<SnapshotInfo>,
}

/// Picks the latest snapshot on or before `as_of` made with the current metric
/// catalogue, and the one `compare_days` before it.
pub fn snapshot_pair(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    compare_days: u32,
) -> Result<SnapshotPair, EngineError> {
    let fingerprint = config.catalogue.fingerprint();
    let current = store
        .snapshot_on_or_before(as_of, &fingerprint)?
        .ok_or_else(|| {
            EngineError::NotFound(format!(
                "no snapshot on or before {as_of} with the current metric catalogue: run `coco score`"
            ))
        })?;
    let compare_date = current
        .as_of
        .checked_sub_days(Days::new(u64::from(compare_days)))
        .unwrap_or(current.as_of);
    let previous = store
        .snapshot_on_or_before(compare_date, &fingerprint)?
        .filter(|previous| previous.snapshot_id != current.snapshot_id);
    Ok(SnapshotPair { current, previous })
}

/// A page of the health list and how many rows the filter selects in all.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthPage {
    pub snapshots: SnapshotPair,
    pub rows: Vec<HealthListRow>,
    pub total: i64,
    pub page: usize,
    pub per_page: usize,
}

pub fn health_page(
    store: &Store,
    snapshots: SnapshotPair,
    filter: &HealthListFilter,
    page: usize,
    per_page: usize,
) -> Result<HealthPage, EngineError> {
    let page = page.max(1);
    let per_page = per_page.clamp(1, 500);
    let paged = HealthListFilter {
        limit: Some(per_page),
        offset: (page - 1) * per_page,
        ..filter.clone()
    };
    let rows = store.health_list(
        snapshots.current.snapshot_id,
        snapshots.previous.as_ref().map(|p| p.snapshot_id),
        &paged,
    )?;
    let total = store.health_count(snapshots.current.snapshot_id, filter)?;
    Ok(HealthPage {
        snapshots,
        rows,
        total,
        page,
        per_page,
    })
}

/// Renewals inside the look-ahead window, and the ARR they carry by colour.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenewalsAhead {
    pub within_days: u32,
    pub accounts: i64,
    pub arr: f64,
    pub by_colour: Vec<ColourTotal>,
    /// The largest of them, soonest first among equals.
    pub largest: Vec<HealthListRow>,
}

/// Everything the portfolio page shows.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortfolioView {
    pub snapshots: SnapshotPair,
    pub totals: Vec<ColourTotal>,
    pub accounts: i64,
    pub arr: f64,
    /// ARR of accounts whose health is red.
    pub arr_at_risk: f64,
    pub histogram: Vec<ScoreBucket>,
    /// Colour totals over the most recent snapshots (same catalogue), oldest first.
    pub trend: Vec<ColourTrendPoint>,
    pub renewals: RenewalsAhead,
    /// Biggest score drops since the comparison snapshot.
    pub fallers: Vec<HealthListRow>,
    /// Biggest score rises since the comparison snapshot.
    pub risers: Vec<HealthListRow>,
    pub options: FilterOptions,
}

/// How many snapshots the trend chart covers.
pub const TREND_SNAPSHOTS: usize = 12;
/// The renewal look-ahead of the portfolio page.
pub const RENEWAL_WINDOW_DAYS: u32 = 90;
const MOVERS: usize = 5;

pub fn portfolio_view(
    store: &Store,
    config: &Config,
    snapshots: SnapshotPair,
    filter: &HealthListFilter,
) -> Result<PortfolioView, EngineError> {
    let current = &snapshots.current;
    let totals = store.colour_totals(current.snapshot_id, filter)?;
    let accounts = totals.iter().map(|t| t.accounts).sum();
    let arr = totals.iter().map(|t| t.arr).sum();
    let arr_at_risk = totals
        .iter()
        .filter(|t| t.colour == "red")
        .map(|t| t.arr)
        .sum();
    let histogram = store.score_histogram(current.snapshot_id, filter)?;

    let fingerprint = config.catalogue.fingerprint();
    let mut recent: Vec<i64> = store
        .list_snapshots()?
        .into_iter()
        .filter(|s| s.catalogue_fingerprint == fingerprint && s.as_of <= current.as_of)
        .take(TREND_SNAPSHOTS)
        .map(|s| s.snapshot_id)
        .collect();
    recent.reverse();
    let trend = store.colour_trend(&recent, filter)?;

    let window_end = current
        .as_of
        .checked_add_days(Days::new(u64::from(RENEWAL_WINDOW_DAYS)))
        .unwrap_or(current.as_of);
    let renewal_filter = HealthListFilter {
        renewal_from: Some(current.as_of),
        renewal_to: Some(window_end),
        ..filter.clone()
    };
    let renewing = store.colour_totals(current.snapshot_id, &renewal_filter)?;
    let previous_id = snapshots.previous.as_ref().map(|p| p.snapshot_id);
    let largest = store.health_list(
        current.snapshot_id,
        previous_id,
        &HealthListFilter {
            sort: HealthSort::Arr,
            limit: Some(10),
            offset: 0,
            ..renewal_filter
        },
    )?;
    let renewals = RenewalsAhead {
        within_days: RENEWAL_WINDOW_DAYS,
        accounts: renewing.iter().map(|t| t.accounts).sum(),
        arr: renewing.iter().map(|t| t.arr).sum(),
        by_colour: renewing,
        largest,
    };

    let (fallers, risers) = match previous_id {
        Some(previous) => {
            let movers = |sort| {
                store.health_list(
                    current.snapshot_id,
                    Some(previous),
                    &HealthListFilter {
                        sort,
                        limit: Some(MOVERS),
                        offset: 0,
                        ..filter.clone()
                    },
                )
            };
            let fallers = movers(HealthSort::Change)?
                .into_iter()
                .filter(|row| row.change.is_some_and(|c| c < 0.0))
                .collect();
            let risers = movers(HealthSort::ChangeUp)?
                .into_iter()
                .filter(|row| row.change.is_some_and(|c| c > 0.0))
                .collect();
            (fallers, risers)
        }
        None => (Vec::new(), Vec::new()),
    };
    let options = store.filter_options(current.snapshot_id)?;
    Ok(PortfolioView {
        snapshots,
        totals,
        accounts,
        arr,
        arr_at_risk,
        histogram,
        trend,
        renewals,
        fallers,
        risers,
        options,
    })
}
