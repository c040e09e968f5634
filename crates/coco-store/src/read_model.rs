//! The latest snapshot's per-account rows, held in memory: what an account view reads
//! (attributes, health and its breakdown in the latest snapshot and the one it is
//! compared with, the metric and score history, the cohort ranks and benchmarks, the
//! account's record with contracts and contacts), answering the same questions as the
//! store's per-account queries with the same rows, without a query.
//!
//! Why: at 100,000 accounts each of those queries costs ~1–15 ms in DuckDB (it scans
//! row groups rather than seeking), a dozen per account view, so an account nobody had
//! opened took ~100 ms of database work and a busy server answered ~15 such accounts a
//! second. A long-running process (the web server) builds this once per data
//! generation (a few whole-table scans, seconds) and answers any account of the latest
//! snapshot in microseconds. Views of older snapshots still read the store.
//!
//! Memory, at 100,000 accounts: ~64 bytes per breakdown row (~27 rows per account and
//! held snapshot), ~16 bytes per metric value and history snapshot, plus the account
//! records and the cohort index (see [`crate::cohort_index`]).
//!
//! Every answer equals the store's, row for row (tested in `coco-engine`).

use std::collections::HashMap;
use std::ops::Range;

use arrow::array::{Array, Date32Array, Float64Array, Int32Array, StringArray};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;

use crate::cohort_index::CohortValueIndex;
use crate::error::StoreError;
use crate::portfolio::TimelineEntry;
use crate::queries::AccountDetail;
use crate::snapshots::{
    BenchmarkRow, CohortRank, HealthPartRow, HealthScoreRow, HistoryPoint, SnapshotAccount,
    SnapshotInfo,
};
use crate::store::Store;

/// The health score's code in the history (label ids are positive).
const HEALTH_SCORE_CODE: i32 = -1;
const HEALTH_SCORE: &str = "health_score";
/// "No label" in a breakdown row's optional codes.
const NO_LABEL: i32 = 0;

/// What to hold: chosen by the engine, which knows which snapshots a view reads.
pub struct ReadModelSpec {
    /// Snapshots held in full (attributes, health, breakdown, benchmarks); the first
    /// is the latest, whose cohort ranks are held too.
    pub full: Vec<SnapshotInfo>,
    /// The history held: every snapshot made with `fingerprint` between the dates.
    pub fingerprint: String,
    pub history_from: NaiveDate,
    pub history_to: NaiveDate,
    /// The date account records (active contracts, ARR, renewal) and timelines are
    /// read as of.
    pub records_as_of: NaiveDate,
    /// Timeline entries held per account (the newest).
    pub timeline_entries: usize,
}

/// One breakdown row with its names as label codes (64 bytes; the row type with its
/// five strings is ~300).
struct PartCell {
    component: i32,
    metric: i32,
    category: i32,
    cohort: i32,
    weight: f64,
    effective_weight: f64,
    /// NaN for NULL (the stored value is never NaN: the analyzers store NULL).
    value: f64,
    score: f64,
    points: f64,
    percentile: f64,
}

/// Each account's rows in a held list (rows are grouped by account).
type AccountRanges = HashMap<String, Range<usize>>;

/// One history value: (snapshot, metric) → value; NaN for a NULL health score
/// (metric values are never NULL: a missing metric has no row).
struct HistoryCell {
    as_of: NaiveDate,
    metric: i32,
    value: f64,
}

/// One timeline entry: its time and its five texts, kept end to end in one string
/// (~40 bytes and the text; the entry type with its five strings is ~300).
struct TimelineCell {
    at: chrono::NaiveDateTime,
    start: usize,
    /// Byte lengths of source, kind, title, detail, id.
    lengths: [u32; 5],
    /// Bit 0: no title; bit 1: no detail.
    nulls: u8,
}

/// Every account's newest timeline entries.
#[derive(Default)]
struct HeldTimelines {
    text: String,
    cells: Vec<TimelineCell>,
    ranges: AccountRanges,
}

impl HeldTimelines {
    fn push(&mut self, account_id: &str, entry: TimelineEntry) {
        let start = self.text.len();
        let mut lengths = [0u32; 5];
        let texts = [
            entry.source.as_str(),
            entry.kind.as_str(),
            entry.title.as_deref().unwrap_or_default(),
            entry.detail.as_deref().unwrap_or_default(),
            entry.id.as_str(),
        ];
        for (length, text) in lengths.iter_mut().zip(texts) {
            self.text.push_str(text);
            *length = text.len() as u32;
        }
        let index = self.cells.len();
        self.cells.push(TimelineCell {
            at: entry.at,
            start,
            lengths,
            nulls: u8::from(entry.title.is_none()) | (u8::from(entry.detail.is_none()) << 1),
        });
        // Rows come grouped by account.
        match self.ranges.get_mut(account_id) {
            Some(range) => range.end = index + 1,
            None => {
                self.ranges.insert(account_id.to_string(), index..index + 1);
            }
        }
    }

    fn entries(&self, account_id: &str, limit: usize) -> Vec<TimelineEntry> {
        let Some(range) = self.ranges.get(account_id) else {
            return Vec::new();
        };
        self.cells[range.clone()]
            .iter()
            .take(limit)
            .map(|cell| {
                let mut offset = cell.start;
                let mut texts = cell.lengths.iter().map(|length| {
                    let end = offset + *length as usize;
                    let text = self.text.get(offset..end).unwrap_or_default().to_string();
                    offset = end;
                    text
                });
                let mut next = || texts.next().unwrap_or_default();
                let (source, kind, title, detail, id) = (next(), next(), next(), next(), next());
                TimelineEntry {
                    at: cell.at,
                    source,
                    kind,
                    title: (cell.nulls & 1 == 0).then_some(title),
                    detail: (cell.nulls & 2 == 0).then_some(detail),
                    id,
                }
            })
            .collect()
    }
}

struct HeldSnapshot {
    info: SnapshotInfo,
    attributes: HashMap<String, SnapshotAccount>,
    scores: HashMap<String, (HealthScoreRow, Range<usize>)>,
    parts: Vec<PartCell>,
    benchmarks: Vec<BenchmarkRow>,
}

pub struct AccountReadModel {
    /// Every stored snapshot, newest first (as [`Store::list_snapshots`]).
    snapshots: Vec<SnapshotInfo>,
    labels: HashMap<i32, String>,
    names: HashMap<String, Option<String>>,
    full: Vec<HeldSnapshot>,
    cohort_index: CohortValueIndex,
    fingerprint: String,
    history_from: NaiveDate,
    history_to: NaiveDate,
    history: Vec<HistoryCell>,
    history_ranges: AccountRanges,
    records_as_of: NaiveDate,
    details: HashMap<String, AccountDetail>,
    timeline_entries: usize,
    timelines: HeldTimelines,
}

fn not_held(what: String) -> StoreError {
    StoreError::Internal(format!("the read model does not hold {what}"))
}

fn nan_to_none(value: f64) -> Option<f64> {
    (!value.is_nan()).then_some(value)
}

impl AccountReadModel {
    /// The latest snapshot (the one whose cohort ranks are held).
    pub fn latest(&self) -> &SnapshotInfo {
        &self.full[0].info
    }

    /// Whether an account view as of `as_of` (with the catalogue the model was built
    /// with) reads the latest snapshot, so that this model holds all it reads.
    pub fn answers_views_as_of(&self, as_of: NaiveDate) -> bool {
        self.snapshots
            .iter()
            .find(|s| s.as_of <= as_of && s.catalogue_fingerprint == self.fingerprint)
            .is_some_and(|s| s.snapshot_id == self.latest().snapshot_id)
    }

    fn holds_history(&self, fingerprint: &str, from: NaiveDate, to: NaiveDate) -> bool {
        fingerprint == self.fingerprint && from >= self.history_from && to <= self.history_to
    }

    /// Accounts with a record held.
    pub fn accounts(&self) -> usize {
        self.details.len()
    }

    fn held(&self, snapshot_id: i64) -> Option<&HeldSnapshot> {
        self.full.iter().find(|s| s.info.snapshot_id == snapshot_id)
    }

    fn held_or_error(&self, snapshot_id: i64) -> Result<&HeldSnapshot, StoreError> {
        self.held(snapshot_id)
            .ok_or_else(|| not_held(format!("snapshot {snapshot_id}")))
    }

    fn label(&self, code: i32) -> String {
        self.labels.get(&code).cloned().unwrap_or_default()
    }

    fn optional_label(&self, code: i32) -> Option<String> {
        (code != NO_LABEL).then(|| self.label(code))
    }

    /// Whether [`AccountReadModel::account_timeline`] can answer.
    pub fn holds_timeline(&self, as_of: NaiveDate, limit: usize) -> bool {
        as_of == self.records_as_of && limit <= self.timeline_entries
    }

    /// [`Store::account_timeline`] from memory.
    pub fn account_timeline(
        &self,
        account_id: &str,
        as_of: NaiveDate,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        if !self.holds_timeline(as_of, limit) {
            return Err(not_held(format!("{limit} timeline entries as of {as_of}")));
        }
        Ok(self.timelines.entries(account_id, limit))
    }
}

/// The per-account questions an account view asks, answered by the store (SQL, any
/// snapshot) or by the read model (the latest snapshot, from memory) with the same rows.
pub trait AccountSource {
    fn snapshot_on_or_before(
        &self,
        on_or_before: NaiveDate,
        fingerprint: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError>;
    fn snapshot_account(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Option<SnapshotAccount>, StoreError>;
    #[allow(clippy::type_complexity)]
    fn account_health(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Option<(HealthScoreRow, Vec<HealthPartRow>)>, StoreError>;
    fn account_name(&self, account_id: &str) -> Result<Option<String>, StoreError>;
    fn account_history(
        &self,
        account_id: &str,
        fingerprint: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<HistoryPoint>, StoreError>;
    fn account_benchmarks(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Vec<BenchmarkRow>, StoreError>;
    fn cohort_benchmarks(
        &self,
        snapshot_id: i64,
        cohorts: &[(String, String)],
    ) -> Result<Vec<BenchmarkRow>, StoreError>;
    fn account_cohort_ranks(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Vec<CohortRank>, StoreError>;
    /// The account's record with contracts and contacts as of `as_of`.
    fn account_detail(
        &self,
        account_id: &str,
        as_of: NaiveDate,
    ) -> Result<AccountDetail, StoreError>;
}

/// The store answers with its SQL (its inherent methods of the same names).
impl AccountSource for Store {
    fn snapshot_on_or_before(
        &self,
        on_or_before: NaiveDate,
        fingerprint: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        Store::snapshot_on_or_before(self, on_or_before, fingerprint)
    }
    fn snapshot_account(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Option<SnapshotAccount>, StoreError> {
        Store::snapshot_account(self, snapshot_id, account_id)
    }
    fn account_health(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Option<(HealthScoreRow, Vec<HealthPartRow>)>, StoreError> {
        Store::account_health(self, snapshot_id, account_id)
    }
    fn account_name(&self, account_id: &str) -> Result<Option<String>, StoreError> {
        Store::account_name(self, account_id)
    }
    fn account_history(
        &self,
        account_id: &str,
        fingerprint: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<HistoryPoint>, StoreError> {
        Store::account_history(self, account_id, fingerprint, from, to)
    }
    fn account_benchmarks(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Vec<BenchmarkRow>, StoreError> {
        Store::account_benchmarks(self, snapshot_id, account_id)
    }
    fn cohort_benchmarks(
        &self,
        snapshot_id: i64,
        cohorts: &[(String, String)],
    ) -> Result<Vec<BenchmarkRow>, StoreError> {
        Store::cohort_benchmarks(self, snapshot_id, cohorts)
    }
    fn account_cohort_ranks(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Vec<CohortRank>, StoreError> {
        Store::account_cohort_ranks(self, snapshot_id, account_id)
    }
    fn account_detail(
        &self,
        account_id: &str,
        as_of: NaiveDate,
    ) -> Result<AccountDetail, StoreError> {
        Store::account_detail(self, account_id, as_of)
    }
}

impl AccountSource for AccountReadModel {
    /// [`Store::snapshot_on_or_before`] from memory.
    fn snapshot_on_or_before(
        &self,
        on_or_before: NaiveDate,
        fingerprint: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        // The list is in the store's order (as-of, then id, newest first): the first
        // match is the SQL's `LIMIT 1`.
        Ok(self
            .snapshots
            .iter()
            .find(|s| s.as_of <= on_or_before && s.catalogue_fingerprint == fingerprint)
            .cloned())
    }

    /// [`Store::snapshot_account`] from memory.
    fn snapshot_account(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Option<SnapshotAccount>, StoreError> {
        Ok(self
            .held_or_error(snapshot_id)?
            .attributes
            .get(account_id)
            .cloned())
    }

    /// [`Store::account_health`] from memory.
    fn account_health(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Option<(HealthScoreRow, Vec<HealthPartRow>)>, StoreError> {
        let held = self.held_or_error(snapshot_id)?;
        let Some((score, range)) = held.scores.get(account_id) else {
            return Ok(None);
        };
        let parts = held.parts[range.clone()]
            .iter()
            .map(|cell| HealthPartRow {
                account_id: account_id.to_string(),
                component: self.label(cell.component),
                metric: self.optional_label(cell.metric),
                category: self.label(cell.category),
                weight: cell.weight,
                effective_weight: cell.effective_weight,
                value: nan_to_none(cell.value),
                score: nan_to_none(cell.score),
                points: cell.points,
                percentile: nan_to_none(cell.percentile),
                cohort: self.optional_label(cell.cohort),
            })
            .collect();
        Ok(Some((score.clone(), parts)))
    }

    /// [`Store::account_name`] from memory.
    fn account_name(&self, account_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.names.get(account_id).cloned().flatten())
    }

    /// [`Store::account_history`] from memory, for a window inside the held one.
    fn account_history(
        &self,
        account_id: &str,
        fingerprint: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<HistoryPoint>, StoreError> {
        if !self.holds_history(fingerprint, from, to) {
            return Err(not_held(format!("the history from {from} to {to}")));
        }
        let Some(range) = self.history_ranges.get(account_id) else {
            return Ok(Vec::new());
        };
        Ok(self.history[range.clone()]
            .iter()
            .filter(|cell| cell.as_of >= from && cell.as_of <= to)
            .map(|cell| HistoryPoint {
                as_of: cell.as_of,
                metric: if cell.metric == HEALTH_SCORE_CODE {
                    HEALTH_SCORE.to_string()
                } else {
                    self.label(cell.metric)
                },
                value: nan_to_none(cell.value),
            })
            .collect())
    }

    /// [`Store::account_benchmarks`] from memory (the latest snapshot only: the
    /// cohort memberships held are its).
    fn account_benchmarks(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Vec<BenchmarkRow>, StoreError> {
        if snapshot_id != self.cohort_index.snapshot_id() {
            return Err(not_held(format!("the cohorts of snapshot {snapshot_id}")));
        }
        Ok(self.cohort_index.account_benchmarks(account_id))
    }

    /// [`Store::cohort_benchmarks`] from memory.
    fn cohort_benchmarks(
        &self,
        snapshot_id: i64,
        cohorts: &[(String, String)],
    ) -> Result<Vec<BenchmarkRow>, StoreError> {
        Ok(self
            .held_or_error(snapshot_id)?
            .benchmarks
            .iter()
            .filter(|b| {
                cohorts
                    .iter()
                    .any(|(dimension, cohort)| &b.dimension == dimension && &b.cohort == cohort)
            })
            .cloned()
            .collect())
    }

    /// [`Store::account_cohort_ranks`] from memory (the latest snapshot only).
    fn account_cohort_ranks(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Vec<CohortRank>, StoreError> {
        if snapshot_id != self.cohort_index.snapshot_id() {
            return Err(not_held(format!("the cohorts of snapshot {snapshot_id}")));
        }
        Ok(self.cohort_index.account_ranks(account_id))
    }

    /// [`Store::account_detail`] from memory, as of the held records' date.
    fn account_detail(
        &self,
        account_id: &str,
        as_of: NaiveDate,
    ) -> Result<AccountDetail, StoreError> {
        if as_of != self.records_as_of {
            return Err(not_held(format!("account records as of {as_of}")));
        }
        self.details
            .get(account_id)
            .cloned()
            .ok_or_else(|| crate::queries::no_such_account(account_id))
    }
}

/// The rows of an Arrow batch's column as a typed array, or an error naming it.
fn column<T: 'static>(batch: &RecordBatch, index: usize) -> Result<&T, StoreError> {
    batch
        .column(index)
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| {
            StoreError::Internal(format!(
                "read model: column {index} came back as {}",
                batch.column(index).data_type()
            ))
        })
}

fn number(array: &Float64Array, row: usize) -> f64 {
    if array.is_null(row) {
        f64::NAN
    } else {
        array.value(row)
    }
}

fn code(array: &Int32Array, row: usize) -> i32 {
    if array.is_null(row) {
        NO_LABEL
    } else {
        array.value(row)
    }
}

impl Store {
    /// Builds the read model `spec` asks for (a few whole-table scans).
    pub fn account_read_model(&self, spec: &ReadModelSpec) -> Result<AccountReadModel, StoreError> {
        let latest = spec
            .full
            .first()
            .ok_or_else(|| StoreError::Internal("read model: no snapshot to hold".into()))?;
        let mut labels = HashMap::new();
        {
            let mut statement = self.conn.prepare("SELECT label_id, label FROM labels")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                labels.insert(row.get::<_, i32>(0)?, row.get::<_, String>(1)?);
            }
        }
        let mut names = HashMap::new();
        {
            let mut statement = self.conn.prepare("SELECT account_id, name FROM accounts")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                names.insert(row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?);
            }
        }
        let mut full = Vec::new();
        for info in &spec.full {
            full.push(self.held_snapshot(info)?);
        }
        let (history, history_ranges) = self.held_history(spec)?;
        let details = self
            .account_details(None, spec.records_as_of)?
            .into_iter()
            .map(|detail| (detail.account.account_id.clone(), detail))
            .collect();
        let mut timelines = HeldTimelines::default();
        self.timelines(
            None,
            spec.records_as_of,
            spec.timeline_entries,
            &mut |account_id, entry| timelines.push(account_id, entry),
        )?;
        Ok(AccountReadModel {
            timeline_entries: spec.timeline_entries,
            timelines,
            snapshots: self.list_snapshots()?,
            labels,
            names,
            cohort_index: self.cohort_value_index(latest.snapshot_id)?,
            full,
            fingerprint: spec.fingerprint.clone(),
            history_from: spec.history_from,
            history_to: spec.history_to,
            history,
            history_ranges,
            records_as_of: spec.records_as_of,
            details,
        })
    }

    fn held_snapshot(&self, info: &SnapshotInfo) -> Result<HeldSnapshot, StoreError> {
        let id = info.snapshot_id;
        let attributes = self
            .snapshot_accounts_where(id, None)?
            .into_iter()
            .map(|a| (a.account_id.clone(), a))
            .collect();
        let mut scores: HashMap<String, (HealthScoreRow, Range<usize>)> = self
            .health_scores_where(id, None)?
            .into_iter()
            .map(|s| (s.account_id.clone(), (s, 0..0)))
            .collect();
        let mut parts = Vec::new();
        let mut statement = self.conn.prepare(
            "SELECT account_id, component_id, metric_id, category_id, weight, effective_weight, \
             value, score, points, percentile, cohort_id FROM health_parts WHERE snapshot_id = ? \
             ORDER BY account_id, position",
        )?;
        let mut current: Option<(String, usize)> = None;
        let mut close = |account: Option<(String, usize)>, end: usize| {
            if let Some((account_id, start)) = account
                && let Some((_, range)) = scores.get_mut(&account_id)
            {
                *range = start..end;
            }
        };
        for batch in statement.query_arrow([id])? {
            let accounts = column::<StringArray>(&batch, 0)?;
            let codes = |i| column::<Int32Array>(&batch, i);
            let numbers = |i| column::<Float64Array>(&batch, i);
            let (component, metric, category, cohort) =
                (codes(1)?, codes(2)?, codes(3)?, codes(10)?);
            let (weight, effective, value, score, points, percentile) = (
                numbers(4)?,
                numbers(5)?,
                numbers(6)?,
                numbers(7)?,
                numbers(8)?,
                numbers(9)?,
            );
            for row in 0..batch.num_rows() {
                let account_id = accounts.value(row);
                if current.as_ref().is_none_or(|(open, _)| open != account_id) {
                    close(current.take(), parts.len());
                    current = Some((account_id.to_string(), parts.len()));
                }
                parts.push(PartCell {
                    component: code(component, row),
                    metric: code(metric, row),
                    category: code(category, row),
                    cohort: code(cohort, row),
                    weight: number(weight, row),
                    effective_weight: number(effective, row),
                    value: number(value, row),
                    score: number(score, row),
                    points: number(points, row),
                    percentile: number(percentile, row),
                });
            }
        }
        close(current.take(), parts.len());
        Ok(HeldSnapshot {
            info: info.clone(),
            attributes,
            scores,
            parts,
            benchmarks: self.snapshot_benchmarks(id)?,
        })
    }

    /// Metric values and health scores of the history's snapshots, grouped by account
    /// and in [`Store::account_history`]'s order (as-of date, then metric name).
    fn held_history(
        &self,
        spec: &ReadModelSpec,
    ) -> Result<(Vec<HistoryCell>, AccountRanges), StoreError> {
        let mut cells = Vec::new();
        let mut ranges = AccountRanges::new();
        let mut statement = self.conn.prepare(
            "WITH snaps AS (SELECT snapshot_id, as_of FROM snapshots \
                WHERE catalogue_fingerprint = $1 AND as_of BETWEEN $2 AND $3), \
             vals AS (SELECT v.snapshot_id, v.account_id, v.metric_id, v.value FROM metric_values v \
                JOIN snaps USING (snapshot_id) \
                UNION ALL SELECT h.snapshot_id, h.account_id, -1, h.score FROM health_scores h \
                JOIN snaps USING (snapshot_id)), \
             named AS (SELECT s.as_of, v.account_id, v.metric_id, v.value, \
                CASE WHEN v.metric_id = -1 THEN 'health_score' ELSE l.label END AS metric \
                FROM vals v JOIN snaps s USING (snapshot_id) LEFT JOIN labels l ON l.label_id = v.metric_id) \
             SELECT account_id, as_of, metric_id, value FROM named \
             WHERE metric IS NOT NULL ORDER BY account_id, as_of, metric",
        )?;
        let mut current: Option<(String, usize)> = None;
        for batch in statement.query_arrow(duckdb::params![
            spec.fingerprint,
            spec.history_from,
            spec.history_to
        ])? {
            let accounts = column::<StringArray>(&batch, 0)?;
            let dates = column::<Date32Array>(&batch, 1)?;
            let metrics = column::<Int32Array>(&batch, 2)?;
            let values = column::<Float64Array>(&batch, 3)?;
            for row in 0..batch.num_rows() {
                let account_id = accounts.value(row);
                if current.as_ref().is_none_or(|(open, _)| open != account_id) {
                    if let Some((open, start)) = current.take() {
                        ranges.insert(open, start..cells.len());
                    }
                    current = Some((account_id.to_string(), cells.len()));
                }
                let as_of = dates.value_as_date(row).ok_or_else(|| {
                    StoreError::Internal("read model: a snapshot date out of range".into())
                })?;
                cells.push(HistoryCell {
                    as_of,
                    metric: metrics.value(row),
                    value: number(values, row),
                });
            }
        }
        if let Some((open, start)) = current.take() {
            ranges.insert(open, start..cells.len());
        }
        Ok((cells, ranges))
    }
}
