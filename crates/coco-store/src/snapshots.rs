//! Point-in-time snapshots: running a compiled metric query, keeping its values with
//! the catalogue that produced them, and storing the analyses made from them (health,
//! cohorts, benchmarks) in the same transaction, so a crash leaves either the whole
//! snapshot or none of it.
//!
//! The SQL itself comes from `coco-metrics`; this module only runs it and files the
//! results. Reading snapshots back lives here too (history, lists, evidence).

use std::collections::HashMap;
use std::time::Instant;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use duckdb::{OptionalExt, params};
use serde::Serialize;

use crate::error::StoreError;
use crate::store::Store;

/// What to compute: a compiled query and the catalogue it came from.
pub struct SnapshotRequest<'a> {
    pub as_of: NaiveDate,
    /// Returns the attribute columns then one DOUBLE column per metric.
    pub sql: &'a str,
    pub metrics: &'a [String],
    pub catalogue_fingerprint: &'a str,
    pub catalogue_version: &'a str,
    /// The effective catalogue (JSON), stored once per fingerprint.
    pub catalogue_definition: &'a str,
}

/// A snapshot query's result, not yet stored.
pub struct ComputedSnapshot {
    /// What the analyzers read (`snapshot_id` is 0: it is assigned when stored).
    pub wide: WideSnapshot,
    /// The store handle whose connection computed it.
    handle: u64,
    /// The query's rows, when computed to be recorded through another handle.
    batches: Option<Vec<RecordBatch>>,
    seconds: f64,
}

/// Account attributes at the as-of date.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotAccount {
    pub account_id: String,
    pub segment: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub coverage_model: Option<String>,
    pub owner_csm_id: Option<String>,
    pub plan_tier: Option<String>,
    pub employee_count: Option<i64>,
    pub arr: Option<f64>,
    pub seats: Option<i64>,
    pub customer_since: Option<NaiveDate>,
    pub renewal_date: Option<NaiveDate>,
    pub tenure_days: Option<i64>,
}

/// A snapshot as computed: accounts × metrics, NaN where a metric is missing.
pub struct WideSnapshot {
    pub snapshot_id: i64,
    pub as_of: NaiveDate,
    pub accounts: Vec<SnapshotAccount>,
    pub metrics: Vec<String>,
    /// Row-major: `values[account * metrics.len() + metric]`.
    pub values: Vec<f64>,
}

/// Analyses of a snapshot to store with it.
#[derive(Default)]
pub struct SnapshotAnalyses {
    pub health_fingerprint: String,
    pub health_version: String,
    pub health_definition: String,
    pub scores: Vec<HealthScoreRow>,
    pub parts: Vec<HealthPartRow>,
    pub cohorts: Vec<CohortRow>,
    pub benchmarks: Vec<BenchmarkRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthScoreRow {
    pub account_id: String,
    pub scorecard: String,
    pub score: Option<f64>,
    pub colour: String,
    pub weight_coverage: f64,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthPartRow {
    pub account_id: String,
    pub component: String,
    /// None for the component's own row.
    pub metric: Option<String>,
    pub category: String,
    pub weight: f64,
    pub effective_weight: f64,
    pub value: Option<f64>,
    pub score: Option<f64>,
    pub points: f64,
    pub percentile: Option<f64>,
    pub cohort: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CohortRow {
    pub account_id: String,
    pub dimension: String,
    pub cohort: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchmarkRow {
    pub dimension: String,
    pub cohort: String,
    pub metric: String,
    pub n: i64,
    pub mean: f64,
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
}

/// A stored snapshot.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotInfo {
    pub snapshot_id: i64,
    pub as_of: NaiveDate,
    pub catalogue_fingerprint: String,
    pub catalogue_version: String,
    pub computed_at: String,
    pub accounts: i64,
    pub metrics: i64,
    pub seconds: f64,
    pub health_fingerprint: Option<String>,
}

/// Tables holding per-snapshot rows, cleared when a snapshot is recomputed.
const SNAPSHOT_TABLES: &[&str] = &[
    "snapshot_accounts",
    "metric_values",
    "health_scores",
    "health_parts",
    "account_cohorts",
    "cohort_benchmarks",
    // A recomputed snapshot invalidates the predictions made from its features.
    "predictions",
];

const ATTRIBUTES: &str = "account_id, segment, industry, region, coverage_model, owner_csm_id, \
    plan_tier, employee_count, arr, seats, customer_since, renewal_date, tenure_days";

impl Store {
    /// Runs a compiled snapshot query and reads its result the way the analyzers see
    /// it. Reads only the source tables, so it may run on a [`Store::try_clone`] handle
    /// while another snapshot is being stored.
    ///
    /// The result stays in this connection's temp table for [`Store::record_snapshot`]
    /// on the same handle. With `portable`, it is also copied out (as Arrow batches)
    /// so another handle can record it.
    pub fn compute_snapshot(
        &self,
        as_of: NaiveDate,
        sql: &str,
        metrics: &[String],
        portable: bool,
    ) -> Result<ComputedSnapshot, StoreError> {
        let started = Instant::now();
        self.conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.snapshot_wide; CREATE TEMP TABLE snapshot_wide AS {sql}"
        ))?;
        let wide = read_wide(&self.conn, 0, as_of, metrics)?;
        let batches = if portable {
            let batches = self
                .conn
                .prepare("SELECT * FROM temp.snapshot_wide")?
                .query_arrow([])?
                .collect();
            self.conn.execute_batch("DROP TABLE temp.snapshot_wide")?;
            Some(batches)
        } else {
            None
        };
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), %as_of, "snapshot computed");
        Ok(ComputedSnapshot {
            wide,
            handle: self.handle,
            batches,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Stores a computed snapshot and the analyses made from it in one transaction.
    /// A snapshot for the same date and catalogue fingerprint is replaced, so
    /// re-running is idempotent.
    pub fn record_snapshot(
        &self,
        request: &SnapshotRequest<'_>,
        computed: ComputedSnapshot,
        analyses: &SnapshotAnalyses,
    ) -> Result<SnapshotInfo, StoreError> {
        if computed.wide.as_of != request.as_of {
            return Err(StoreError::Internal(format!(
                "a snapshot computed as of {} was filed as of {}",
                computed.wide.as_of, request.as_of
            )));
        }
        let started = Instant::now();
        let tx = self.conn.unchecked_transaction()?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT snapshot_id FROM snapshots WHERE as_of = ? AND catalogue_fingerprint = ?",
                params![request.as_of, request.catalogue_fingerprint],
                |row| row.get(0),
            )
            .optional()?;
        let snapshot_id = match existing {
            Some(id) => {
                for table in SNAPSHOT_TABLES.iter().chain(["snapshots"].iter()) {
                    tx.execute(&format!("DELETE FROM {table} WHERE snapshot_id = ?"), [id])?;
                }
                id
            }
            None => tx.query_row(
                "SELECT coalesce(max(snapshot_id), 0) + 1 FROM snapshots",
                [],
                |row| row.get(0),
            )?,
        };
        match computed.batches {
            Some(batches) => {
                // `LIMIT 0` is planned, not run: the table takes the query's column types.
                tx.execute_batch(&format!(
                    "DROP TABLE IF EXISTS temp.snapshot_wide; \
                     CREATE TEMP TABLE snapshot_wide AS SELECT * FROM ({}) LIMIT 0",
                    request.sql
                ))?;
                let mut appender = tx.appender("snapshot_wide")?;
                for batch in batches {
                    appender.append_record_batch(batch)?;
                }
                appender.flush()?;
            }
            None if computed.handle == self.handle => {} // still in this connection's temp table
            None => {
                return Err(StoreError::Internal(
                    "a snapshot computed on another handle must be computed `portable`".into(),
                ));
            }
        }
        tx.execute(
            &format!(
                "INSERT INTO snapshot_accounts SELECT ?, {ATTRIBUTES} FROM temp.snapshot_wide"
            ),
            [snapshot_id],
        )?;
        if !request.metrics.is_empty() {
            let columns: Vec<String> = request.metrics.iter().map(|m| format!("\"{m}\"")).collect();
            Labels::ensure(&tx, request.metrics.iter().map(String::as_str))?;
            tx.execute(
                &format!(
                    // In account order: see migration 0005 (reading one account's
                    // history then skips most row groups).
                    "INSERT INTO metric_values SELECT ?, u.account_id, l.label_id, u.value FROM \
                     (UNPIVOT (SELECT account_id, {cols} FROM temp.snapshot_wide) ON {cols} \
                     INTO NAME metric VALUE value) u JOIN labels l ON l.label = u.metric \
                     WHERE isfinite(u.value) ORDER BY u.account_id, l.label_id",
                    cols = columns.join(", ")
                ),
                [snapshot_id],
            )?;
        }
        tx.execute_batch("DROP TABLE temp.snapshot_wide")?;
        write_analyses(&tx, snapshot_id, analyses)?;
        tx.execute(
            "INSERT OR IGNORE INTO metric_catalogues VALUES (?, ?, ?, now()::TIMESTAMP)",
            params![
                request.catalogue_fingerprint,
                request.catalogue_version,
                request.catalogue_definition
            ],
        )?;
        let accounts = computed.wide.accounts.len() as i64;
        let seconds = computed.seconds + started.elapsed().as_secs_f64();
        tx.execute(
            "INSERT INTO snapshots VALUES (?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?)",
            params![
                snapshot_id,
                request.as_of,
                request.catalogue_fingerprint,
                request.catalogue_version,
                accounts,
                request.metrics.len() as i64,
                seconds,
                env!("CARGO_PKG_VERSION"),
            ],
        )?;
        tx.commit()?;
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), as_of = %request.as_of, "snapshot stored");
        Ok(SnapshotInfo {
            snapshot_id,
            as_of: request.as_of,
            catalogue_fingerprint: request.catalogue_fingerprint.to_string(),
            catalogue_version: request.catalogue_version.to_string(),
            computed_at: String::new(),
            accounts,
            metrics: request.metrics.len() as i64,
            seconds,
            health_fingerprint: Some(analyses.health_fingerprint.clone()),
        })
    }

    /// Stored snapshots, newest as-of date first.
    pub fn list_snapshots(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        self.snapshots_where("TRUE", "", &[])
    }

    fn snapshots_where(
        &self,
        condition: &str,
        limit: &str,
        params: &[&dyn duckdb::ToSql],
    ) -> Result<Vec<SnapshotInfo>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT s.snapshot_id, s.as_of, s.catalogue_fingerprint, s.catalogue_version, \
             strftime(s.computed_at, '%Y-%m-%d %H:%M:%S'), s.accounts, s.metrics, s.seconds \
             FROM snapshots s WHERE {condition} ORDER BY s.as_of DESC, s.snapshot_id DESC {limit}"
        ))?;
        let mut snapshots = statement
            .query_map(params, |row| {
                Ok(SnapshotInfo {
                    snapshot_id: row.get(0)?,
                    as_of: row.get(1)?,
                    catalogue_fingerprint: row.get(2)?,
                    catalogue_version: row.get(3)?,
                    computed_at: row.get(4)?,
                    accounts: row.get(5)?,
                    metrics: row.get(6)?,
                    seconds: row.get(7)?,
                    health_fingerprint: None,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        // One snapshot at a time: with a constant id DuckDB reads only that snapshot's
        // rows and stops at the first (a correlated subquery scanned every snapshot's,
        // ~10 ms at 100,000 accounts, on every page view).
        let mut fingerprint = self.conn.prepare_cached(
            "SELECT health_fingerprint FROM health_scores WHERE snapshot_id = ? LIMIT 1",
        )?;
        for snapshot in &mut snapshots {
            snapshot.health_fingerprint = fingerprint
                .query_row([snapshot.snapshot_id], |row| {
                    row.get::<_, Option<String>>(0)
                })
                .optional()?
                .flatten();
        }
        Ok(snapshots)
    }

    /// The latest snapshot on or before `on_or_before` made with `fingerprint`.
    pub fn snapshot_on_or_before(
        &self,
        on_or_before: NaiveDate,
        fingerprint: &str,
    ) -> Result<Option<SnapshotInfo>, StoreError> {
        Ok(self
            .snapshots_where(
                "s.as_of <= ? AND s.catalogue_fingerprint = ?",
                "LIMIT 1",
                params![on_or_before, fingerprint],
            )?
            .into_iter()
            .next())
    }

    /// One snapshot's attributes and values, as computed.
    pub fn load_snapshot(
        &self,
        snapshot: &SnapshotInfo,
        metrics: &[String],
    ) -> Result<WideSnapshot, StoreError> {
        let id = snapshot.snapshot_id;
        let columns: Vec<String> = metrics
            .iter()
            .map(|m| {
                format!(
                    "max(value) FILTER (WHERE metric = '{}') AS \"{m}\"",
                    m.replace('\'', "''")
                )
            })
            .collect();
        let select_metrics = if columns.is_empty() {
            String::new()
        } else {
            format!(", {}", columns.join(", "))
        };
        self.conn
            .execute_batch("DROP TABLE IF EXISTS temp.snapshot_wide")?;
        self.conn.execute_batch(&format!(
            "CREATE TEMP TABLE snapshot_wide AS SELECT a.*{} FROM \
             (SELECT {ATTRIBUTES} FROM snapshot_accounts WHERE snapshot_id = {id}) a \
             LEFT JOIN (SELECT account_id{select_metrics} FROM metric_values_named WHERE snapshot_id = {id} GROUP BY account_id) v \
             ON v.account_id = a.account_id",
            metrics.iter().map(|m| format!(", v.\"{m}\"")).collect::<String>(),
        ))?;
        let wide = read_wide(&self.conn, id, snapshot.as_of, metrics);
        self.conn.execute_batch("DROP TABLE temp.snapshot_wide")?;
        wide
    }
}

/// Reads `temp.snapshot_wide` ordered by account: attributes row by row, metric
/// columns through Arrow (100k accounts × 50 metrics is 5M values).
fn read_wide(
    conn: &duckdb::Connection,
    snapshot_id: i64,
    as_of: NaiveDate,
    metrics: &[String],
) -> Result<WideSnapshot, StoreError> {
    let mut accounts = Vec::new();
    {
        let mut statement = conn.prepare(&format!(
            "SELECT {SNAPSHOT_ACCOUNT_COLUMNS} FROM temp.snapshot_wide ORDER BY account_id"
        ))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            accounts.push(snapshot_account_row(row)?);
        }
    }
    let width = metrics.len();
    let mut values = vec![f64::NAN; accounts.len() * width];
    if width > 0 {
        let columns: Vec<String> = metrics
            .iter()
            .map(|m| format!("CAST(\"{m}\" AS DOUBLE)"))
            .collect();
        let mut statement = conn.prepare(&format!(
            "SELECT {} FROM temp.snapshot_wide ORDER BY account_id",
            columns.join(", ")
        ))?;
        let mut row_offset = 0;
        for batch in statement.query_arrow([])? {
            for (metric_index, column) in batch.columns().iter().enumerate() {
                if column.data_type() != &DataType::Float64 {
                    continue;
                }
                if let Some(array) = column.as_any().downcast_ref::<Float64Array>() {
                    for i in 0..array.len() {
                        if array.is_valid(i) {
                            values[(row_offset + i) * width + metric_index] = array.value(i);
                        }
                    }
                }
            }
            row_offset += batch.num_rows();
        }
    }
    Ok(WideSnapshot {
        snapshot_id,
        as_of,
        accounts,
        metrics: metrics.to_vec(),
        values,
    })
}

const PART_BATCH_ROWS: usize = 65_536;

/// Breakdown rows as an Arrow batch in the table's column order, names as codes.
/// `positions` carries the numbering across batches (an account may straddle two).
fn health_parts_batch(
    snapshot_id: i64,
    rows: &[HealthPartRow],
    labels: &Labels,
    positions: &mut PositionCounter,
) -> Result<RecordBatch, StoreError> {
    let code = |value: fn(&HealthPartRow) -> Option<&str>| -> Result<ArrayRef, StoreError> {
        let codes = rows
            .iter()
            .map(|row| value(row).map(|label| labels.code(label)).transpose())
            .collect::<Result<Int32Array, _>>()?;
        Ok(Arc::new(codes))
    };
    let number = |value: fn(&HealthPartRow) -> Option<f64>| -> ArrayRef {
        Arc::new(rows.iter().map(value).collect::<Float64Array>())
    };
    let position: Int32Array = rows
        .iter()
        .map(|row| Some(positions.next(&row.account_id)))
        .collect();
    let columns: Vec<(&str, DataType, bool, ArrayRef)> = vec![
        (
            "snapshot_id",
            DataType::Int64,
            false,
            Arc::new(Int64Array::from(vec![snapshot_id; rows.len()])),
        ),
        (
            "account_id",
            DataType::Utf8,
            false,
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.account_id.as_str()))
                    .collect::<StringArray>(),
            ),
        ),
        ("position", DataType::Int32, false, Arc::new(position)),
        (
            "component_id",
            DataType::Int32,
            false,
            code(|r| Some(r.component.as_str()))?,
        ),
        (
            "metric_id",
            DataType::Int32,
            true,
            code(|r| r.metric.as_deref())?,
        ),
        (
            "category_id",
            DataType::Int32,
            false,
            code(|r| Some(r.category.as_str()))?,
        ),
        (
            "weight",
            DataType::Float64,
            false,
            number(|r| Some(r.weight)),
        ),
        (
            "effective_weight",
            DataType::Float64,
            false,
            number(|r| Some(r.effective_weight)),
        ),
        ("value", DataType::Float64, true, number(|r| r.value)),
        ("score", DataType::Float64, true, number(|r| r.score)),
        (
            "points",
            DataType::Float64,
            false,
            number(|r| Some(r.points)),
        ),
        (
            "percentile",
            DataType::Float64,
            true,
            number(|r| r.percentile),
        ),
        (
            "cohort_id",
            DataType::Int32,
            true,
            code(|r| r.cohort.as_deref())?,
        ),
    ];
    let schema = Schema::new(
        columns
            .iter()
            .map(|(name, ty, nullable, _)| Field::new(*name, ty.clone(), *nullable))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|c| c.3).collect())
        .map_err(|e| StoreError::Internal(format!("building the health breakdown batch: {e}")))
}

/// Numbers an account's breakdown rows 1, 2, … in the order the analyser wrote them
/// (rows of one account are consecutive).
#[derive(Default)]
struct PositionCounter {
    account_id: String,
    position: i32,
}

impl PositionCounter {
    fn next(&mut self, account_id: &str) -> i32 {
        if self.account_id != account_id {
            self.account_id = account_id.to_string();
            self.position = 0;
        }
        self.position += 1;
        self.position
    }
}

/// The `labels` table in memory: names stored in per-snapshot rows as integer codes
/// (see migration 0003 for why).
struct Labels {
    codes: HashMap<String, i32>,
}

impl Labels {
    /// Loads the known labels and adds the missing ones among `names`.
    fn ensure<'a>(
        conn: &duckdb::Connection,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Labels, StoreError> {
        let mut codes = HashMap::new();
        {
            let mut statement = conn.prepare("SELECT label, label_id FROM labels")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                codes.insert(row.get::<_, String>(0)?, row.get::<_, i32>(1)?);
            }
        }
        let mut next = codes.values().copied().max().unwrap_or(0);
        let mut appender = conn.appender("labels")?;
        for name in names {
            if !codes.contains_key(name) {
                next += 1;
                appender.append_row(params![next, name])?;
                codes.insert(name.to_string(), next);
            }
        }
        appender.flush()?;
        Ok(Labels { codes })
    }

    fn code(&self, label: &str) -> Result<i32, StoreError> {
        self.codes
            .get(label)
            .copied()
            .ok_or_else(|| StoreError::Internal(format!("label `{label}` has no code")))
    }
}

/// The columns [`snapshot_account_row`] reads, in its order.
const SNAPSHOT_ACCOUNT_COLUMNS: &str = "account_id, segment, industry, region, coverage_model, \
    owner_csm_id, plan_tier, employee_count, CAST(arr AS DOUBLE), seats, customer_since, \
    renewal_date, tenure_days";

fn snapshot_account_row(row: &duckdb::Row<'_>) -> Result<SnapshotAccount, duckdb::Error> {
    Ok(SnapshotAccount {
        account_id: row.get(0)?,
        segment: row.get(1)?,
        industry: row.get(2)?,
        region: row.get(3)?,
        coverage_model: row.get(4)?,
        owner_csm_id: row.get(5)?,
        plan_tier: row.get(6)?,
        employee_count: row.get(7)?,
        arr: row.get(8)?,
        seats: row.get(9)?,
        customer_since: row.get(10)?,
        renewal_date: row.get(11)?,
        tenure_days: row.get(12)?,
    })
}

fn write_analyses(
    conn: &duckdb::Connection,
    snapshot_id: i64,
    analyses: &SnapshotAnalyses,
) -> Result<(), StoreError> {
    // The caller has already cleared this snapshot's rows (SNAPSHOT_TABLES) when it
    // replaces one.
    if !analyses.health_fingerprint.is_empty() {
        conn.execute(
            "INSERT OR IGNORE INTO health_configs VALUES (?, ?, ?, now()::TIMESTAMP)",
            params![
                analyses.health_fingerprint,
                analyses.health_version,
                analyses.health_definition
            ],
        )?;
    }
    {
        let mut appender = conn.appender("health_scores")?;
        for row in &analyses.scores {
            let notes = serde_json::to_string(&row.notes).unwrap_or_else(|_| "[]".into());
            appender.append_row(params![
                snapshot_id,
                row.account_id,
                analyses.health_fingerprint,
                row.scorecard,
                row.score,
                row.colour,
                row.weight_coverage,
                notes
            ])?;
        }
        appender.flush()?;
    }
    // 100k accounts give ~3M breakdown rows: appended as Arrow batches, several times
    // faster than row by row.
    let labels = Labels::ensure(
        conn,
        analyses
            .parts
            .iter()
            .flat_map(|p| {
                [
                    Some(p.component.as_str()),
                    p.metric.as_deref(),
                    Some(p.category.as_str()),
                    p.cohort.as_deref(),
                ]
            })
            .chain(
                analyses
                    .cohorts
                    .iter()
                    .flat_map(|c| [Some(c.dimension.as_str()), Some(c.cohort.as_str())]),
            )
            .flatten(),
    )?;
    let mut positions = PositionCounter::default();
    for chunk in analyses.parts.chunks(PART_BATCH_ROWS) {
        let batch = health_parts_batch(snapshot_id, chunk, &labels, &mut positions)?;
        let mut appender = conn.appender("health_parts")?;
        appender.append_record_batch(batch)?;
        appender.flush()?;
    }
    {
        let mut appender = conn.appender("account_cohorts")?;
        for row in &analyses.cohorts {
            appender.append_row(params![
                snapshot_id,
                row.account_id,
                labels.code(&row.dimension)?,
                labels.code(&row.cohort)?
            ])?;
        }
        appender.flush()?;
    }
    {
        let mut appender = conn.appender("cohort_benchmarks")?;
        for row in &analyses.benchmarks {
            appender.append_row(params![
                snapshot_id,
                row.dimension,
                row.cohort,
                row.metric,
                row.n,
                row.mean,
                row.p10,
                row.p25,
                row.p50,
                row.p75,
                row.p90
            ])?;
        }
        appender.flush()?;
    }
    Ok(())
}

/// Filters and order for [`Store::health_list`].
#[derive(Debug, Clone, Default)]
pub struct HealthListFilter {
    pub colour: Option<String>,
    pub segment: Option<String>,
    pub owner_csm_id: Option<String>,
    pub scorecard: Option<String>,
    pub plan_tier: Option<String>,
    /// Renewal date within these bounds (inclusive).
    pub renewal_from: Option<NaiveDate>,
    pub renewal_to: Option<NaiveDate>,
    pub sort: HealthSort,
    pub limit: Option<usize>,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HealthSort {
    /// Lowest score first (who needs attention).
    #[default]
    Score,
    /// Biggest drop since the comparison snapshot first.
    Change,
    /// Biggest rise since the comparison snapshot first.
    ChangeUp,
    /// Highest score first.
    ScoreDesc,
    /// Account name, A to Z.
    Name,
    /// Highest ARR first.
    Arr,
    /// Soonest renewal first.
    Renewal,
    Account,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthListRow {
    pub account_id: String,
    pub name: Option<String>,
    pub segment: Option<String>,
    pub owner_csm_id: Option<String>,
    pub plan_tier: Option<String>,
    pub arr: Option<f64>,
    pub renewal_date: Option<NaiveDate>,
    pub scorecard: String,
    pub score: Option<f64>,
    pub colour: String,
    pub previous_score: Option<f64>,
    pub change: Option<f64>,
    pub previous_colour: Option<String>,
    /// The component losing the most points.
    pub weakest_component: Option<String>,
}

/// How an account's metric value ranks among its cohort's (for exact percentiles).
#[derive(Debug, Clone, Serialize)]
pub struct CohortRank {
    pub dimension: String,
    pub cohort: String,
    pub metric: String,
    pub value: f64,
    pub n: i64,
    pub below: i64,
    pub equal: i64,
}

/// One point of an account's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPoint {
    pub as_of: NaiveDate,
    pub metric: String,
    pub value: Option<f64>,
}

impl Store {
    /// Health of every account in a snapshot, optionally with the change since another.
    pub fn health_list(
        &self,
        snapshot_id: i64,
        compare_to: Option<i64>,
        filter: &HealthListFilter,
    ) -> Result<Vec<HealthListRow>, StoreError> {
        let (clause, values) = crate::portfolio::filter_clause(filter);
        let order = match filter.sort {
            HealthSort::Score => "h.score ASC NULLS LAST, h.account_id",
            HealthSort::Change => "(h.score - p.score) ASC NULLS LAST, h.account_id",
            HealthSort::ChangeUp => "(h.score - p.score) DESC NULLS LAST, h.account_id",
            HealthSort::ScoreDesc => "h.score DESC NULLS LAST, h.account_id",
            HealthSort::Name => "acc.name ASC NULLS LAST, h.account_id",
            HealthSort::Arr => "a.arr DESC NULLS LAST, h.account_id",
            HealthSort::Renewal => "a.renewal_date ASC NULLS LAST, h.account_id",
            HealthSort::Account => "h.account_id",
        };
        let limit = filter
            .limit
            .map(|l| format!(" LIMIT {l} OFFSET {}", filter.offset))
            .unwrap_or_default();
        let sql = format!(
            "SELECT h.account_id, acc.name, a.segment, a.owner_csm_id, a.plan_tier, CAST(a.arr AS DOUBLE), \
             a.renewal_date, h.scorecard, h.score, h.colour, p.score, h.score - p.score, p.colour, \
             (SELECT arg_max(component, effective_weight * (100 - coalesce(score, 100))) FROM health_parts_named w \
              WHERE w.snapshot_id = h.snapshot_id AND w.account_id = h.account_id AND w.metric IS NULL AND w.effective_weight > 0) \
             FROM health_scores h \
             JOIN snapshot_accounts a ON a.snapshot_id = h.snapshot_id AND a.account_id = h.account_id \
             LEFT JOIN accounts acc ON acc.account_id = h.account_id \
             LEFT JOIN health_scores p ON p.snapshot_id = {compare} AND p.account_id = h.account_id \
             WHERE h.snapshot_id = ?{clause} ORDER BY {order}{limit}",
            compare = compare_to.unwrap_or(-1),
        );
        let mut statement = self.conn.prepare(&sql)?;
        let mut params: Vec<&dyn duckdb::ToSql> = vec![&snapshot_id];
        params.extend(values.iter().map(|value| value as &dyn duckdb::ToSql));
        let rows = statement.query_map(params.as_slice(), |row| {
            Ok(HealthListRow {
                account_id: row.get(0)?,
                name: row.get(1)?,
                segment: row.get(2)?,
                owner_csm_id: row.get(3)?,
                plan_tier: row.get(4)?,
                arr: row.get(5)?,
                renewal_date: row.get(6)?,
                scorecard: row.get(7)?,
                score: row.get(8)?,
                colour: row.get(9)?,
                previous_score: row.get(10)?,
                change: row.get(11)?,
                previous_colour: row.get(12)?,
                weakest_component: row.get(13)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// An account's stored health and its breakdown in one snapshot.
    pub fn account_health(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Option<(HealthScoreRow, Vec<HealthPartRow>)>, StoreError> {
        let Some(score) = self
            .health_scores_where(snapshot_id, Some(account_id))?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        // `position` keeps the order the analyser wrote (component, then its metrics).
        let mut statement = self.conn.prepare(
            "SELECT account_id, component, metric, category, weight, effective_weight, value, score, \
             points, percentile, cohort FROM health_parts_named WHERE snapshot_id = ? AND account_id = ? \
             ORDER BY position",
        )?;
        let parts = statement
            .query_map(params![snapshot_id, account_id], |row| {
                Ok(HealthPartRow {
                    account_id: row.get(0)?,
                    component: row.get(1)?,
                    metric: row.get(2)?,
                    category: row.get(3)?,
                    weight: row.get(4)?,
                    effective_weight: row.get(5)?,
                    value: row.get(6)?,
                    score: row.get(7)?,
                    points: row.get(8)?,
                    percentile: row.get(9)?,
                    cohort: row.get(10)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some((score, parts)))
    }

    /// The health scores of a snapshot: one account's, or (None) every account's.
    pub(crate) fn health_scores_where(
        &self,
        snapshot_id: i64,
        account_id: Option<&str>,
    ) -> Result<Vec<HealthScoreRow>, StoreError> {
        let map = |row: &duckdb::Row<'_>| {
            let notes: String = row.get(5)?;
            Ok(HealthScoreRow {
                account_id: row.get(0)?,
                scorecard: row.get(1)?,
                score: row.get(2)?,
                colour: row.get(3)?,
                weight_coverage: row.get(4)?,
                notes: serde_json::from_str(&notes).unwrap_or_default(),
            })
        };
        self.snapshot_rows(
            "SELECT account_id, scorecard, score, colour, weight_coverage, notes FROM health_scores",
            snapshot_id,
            account_id,
            map,
        )
    }

    /// `select`'s rows of one snapshot: one account's, or (None) every account's.
    fn snapshot_rows<T>(
        &self,
        select: &str,
        snapshot_id: i64,
        account_id: Option<&str>,
        map: impl FnMut(&duckdb::Row<'_>) -> Result<T, duckdb::Error>,
    ) -> Result<Vec<T>, StoreError> {
        let sql = format!("{select} WHERE snapshot_id = ?");
        let mut statement;
        let rows = match account_id {
            Some(account_id) => {
                statement = self.conn.prepare(&format!("{sql} AND account_id = ?"))?;
                statement.query_map(params![snapshot_id, account_id], map)?
            }
            None => {
                statement = self.conn.prepare(&sql)?;
                statement.query_map(params![snapshot_id], map)?
            }
        };
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The account's attributes in a snapshot (None: not a customer at that date).
    pub fn snapshot_account(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Option<SnapshotAccount>, StoreError> {
        Ok(self
            .snapshot_accounts_where(snapshot_id, Some(account_id))?
            .into_iter()
            .next())
    }

    /// The accounts of a snapshot with their attributes: one, or (None) every one.
    pub(crate) fn snapshot_accounts_where(
        &self,
        snapshot_id: i64,
        account_id: Option<&str>,
    ) -> Result<Vec<SnapshotAccount>, StoreError> {
        let sql = format!(
            "SELECT {SNAPSHOT_ACCOUNT_COLUMNS} FROM snapshot_accounts WHERE snapshot_id = ?"
        );
        let mut statement;
        let rows = match account_id {
            Some(account_id) => {
                statement = self.conn.prepare(&format!("{sql} AND account_id = ?"))?;
                statement.query_map(params![snapshot_id, account_id], snapshot_account_row)?
            }
            None => {
                statement = self.conn.prepare(&sql)?;
                statement.query_map(params![snapshot_id], snapshot_account_row)?
            }
        };
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// For each of the account's cohorts and each metric it has a value for: how many
    /// peers are below, equal, and in all (the health score counts as metric
    /// `health_score`). Percentile arithmetic is the caller's (one formula, in
    /// `coco-insights`).
    pub fn account_cohort_ranks(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Vec<CohortRank>, StoreError> {
        let mut statement = self.conn.prepare(
            "WITH mine AS (\
                SELECT metric, value FROM metric_values_named WHERE snapshot_id = $1 AND account_id = $2 \
                UNION ALL SELECT 'health_score', score FROM health_scores \
                WHERE snapshot_id = $1 AND account_id = $2 AND score IS NOT NULL), \
             peer_values AS (\
                SELECT account_id, metric, value FROM metric_values_named WHERE snapshot_id = $1 \
                UNION ALL SELECT account_id, 'health_score', score FROM health_scores \
                WHERE snapshot_id = $1 AND score IS NOT NULL), \
             my_cohorts AS (SELECT dimension, cohort FROM account_cohorts_named WHERE snapshot_id = $1 AND account_id = $2), \
             peers AS (SELECT c.dimension, c.cohort, c.account_id FROM account_cohorts_named c \
                JOIN my_cohorts m ON m.dimension = c.dimension AND m.cohort = c.cohort WHERE c.snapshot_id = $1) \
             SELECT p.dimension, p.cohort, mine.metric, mine.value, count(*), \
                count(*) FILTER (WHERE v.value < mine.value), count(*) FILTER (WHERE v.value = mine.value) \
             FROM peers p JOIN peer_values v ON v.account_id = p.account_id \
             JOIN mine ON mine.metric = v.metric \
             GROUP BY ALL ORDER BY p.dimension, mine.metric",
        )?;
        let rows = statement.query_map(params![snapshot_id, account_id], |row| {
            Ok(CohortRank {
                dimension: row.get(0)?,
                cohort: row.get(1)?,
                metric: row.get(2)?,
                value: row.get(3)?,
                n: row.get(4)?,
                below: row.get(5)?,
                equal: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Benchmarks of the account's cohorts in a snapshot.
    pub fn account_benchmarks(
        &self,
        snapshot_id: i64,
        account_id: &str,
    ) -> Result<Vec<BenchmarkRow>, StoreError> {
        self.benchmarks_where(
            "b.snapshot_id = $1 AND (b.dimension, b.cohort) IN \
             (SELECT (dimension, cohort) FROM account_cohorts_named WHERE snapshot_id = $1 AND account_id = $2)",
            params![snapshot_id, account_id],
        )
    }

    /// Every cohort benchmark of a snapshot, ordered by dimension and metric.
    pub fn snapshot_benchmarks(&self, snapshot_id: i64) -> Result<Vec<BenchmarkRow>, StoreError> {
        self.benchmarks_where("b.snapshot_id = $1", params![snapshot_id])
    }

    /// Benchmarks of the named cohorts in a snapshot (e.g. the same cohorts a year ago).
    pub fn cohort_benchmarks(
        &self,
        snapshot_id: i64,
        cohorts: &[(String, String)],
    ) -> Result<Vec<BenchmarkRow>, StoreError> {
        if cohorts.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = cohorts
            .iter()
            .map(|(d, c)| format!("('{}', '{}')", d.replace('\'', "''"), c.replace('\'', "''")))
            .collect();
        self.benchmarks_where(
            &format!(
                "b.snapshot_id = $1 AND (b.dimension, b.cohort) IN (SELECT * FROM (VALUES {}) v(d, c))",
                list.join(", ")
            ),
            params![snapshot_id],
        )
    }

    fn benchmarks_where(
        &self,
        condition: &str,
        params: &[&dyn duckdb::ToSql],
    ) -> Result<Vec<BenchmarkRow>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT dimension, cohort, metric, n, mean, p10, p25, p50, p75, p90 FROM cohort_benchmarks b \
             WHERE {condition} ORDER BY dimension, metric"
        ))?;
        let rows = statement.query_map(params, |row| {
            Ok(BenchmarkRow {
                dimension: row.get(0)?,
                cohort: row.get(1)?,
                metric: row.get(2)?,
                n: row.get(3)?,
                mean: row.get(4)?,
                p10: row.get(5)?,
                p25: row.get(6)?,
                p50: row.get(7)?,
                p75: row.get(8)?,
                p90: row.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The account's metric values (and `health_score`) over the snapshots made with
    /// `fingerprint` between two dates, oldest first. Missing values come back as None
    /// so gaps stay visible.
    pub fn account_history(
        &self,
        account_id: &str,
        fingerprint: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<HistoryPoint>, StoreError> {
        let mut statement = self.conn.prepare(
            "WITH snaps AS (SELECT snapshot_id, as_of FROM snapshots \
                WHERE catalogue_fingerprint = $2 AND as_of BETWEEN $3 AND $4), \
             vals AS (SELECT v.snapshot_id, v.metric, v.value FROM metric_values_named v JOIN snaps USING (snapshot_id) \
                WHERE v.account_id = $1 \
                UNION ALL SELECT h.snapshot_id, 'health_score', h.score FROM health_scores h JOIN snaps USING (snapshot_id) \
                WHERE h.account_id = $1) \
             SELECT s.as_of, v.metric, v.value FROM vals v JOIN snaps s USING (snapshot_id) ORDER BY s.as_of, v.metric",
        )?;
        let rows = statement.query_map(params![account_id, fingerprint, from, to], |row| {
            Ok(HistoryPoint {
                as_of: row.get(0)?,
                metric: row.get(1)?,
                value: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
