//! What churn models learn from: the stored snapshots' features (every account × metric
//! of each snapshot, plus the account's attributes then) and the churn events in the
//! records. Features come only from snapshots, which the metric engine computed point in
//! time; nothing here reads raw events.

use std::collections::HashMap;

use arrow::array::{Array, Date32Array, Float64Array, Int32Array, Int64Array, StringArray};
use chrono::NaiveDate;

use crate::error::StoreError;
use crate::store::Store;

/// Text attributes of `snapshot_accounts` used as features.
pub const TEXT_ATTRIBUTES: &[&str] = &[
    "segment",
    "industry",
    "region",
    "coverage_model",
    "plan_tier",
];
/// Numeric attributes. (Days to renewal is a metric of the catalogue.)
pub const NUMERIC_ATTRIBUTES: &[&str] = &["employee_count", "arr", "seats", "tenure_days"];

/// Features of every account in a set of snapshots, one row per (snapshot, account).
#[derive(Debug, Clone, Default)]
pub struct FeatureRows {
    pub snapshot_ids: Vec<i64>,
    pub as_of: Vec<NaiveDate>,
    pub account_ids: Vec<String>,
    /// Metric names, and per metric one value per row (NaN when not computed).
    pub metric_names: Vec<String>,
    pub metric_values: Vec<Vec<f64>>,
    /// `TEXT_ATTRIBUTES` in order, one value per row.
    pub text_attributes: Vec<Vec<Option<String>>>,
    /// `NUMERIC_ATTRIBUTES`, one value per row (NaN = missing).
    pub numeric_attributes: Vec<Vec<f64>>,
    /// Not features: the renewal date then, and the account's name (for forecasts).
    pub renewal_dates: Vec<Option<NaiveDate>>,
    pub account_names: Vec<String>,
}

impl FeatureRows {
    pub fn len(&self) -> usize {
        self.account_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.account_ids.is_empty()
    }
}

/// A churn (or downgrade) read from the records.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnRecord {
    pub account_id: String,
    pub churn_date: NaiveDate,
    pub known_on: NaiveDate,
    pub kind: String,
    pub source: String,
}

pub(crate) fn epoch_days(date: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(date + 719_163).unwrap_or_default()
}

/// A renewal outcome: which renewal (the term's end), when it was decided, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct RenewalDecision {
    pub account_id: String,
    pub renewal_date: NaiveDate,
    pub decided_on: NaiveDate,
    pub outcome: String,
}

impl Store {
    /// Every renewal outcome with the renewed term's end date (else the decision date).
    pub fn renewal_decisions(&self) -> Result<Vec<RenewalDecision>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT o.account_id, coalesce(c.end_date, o.decided_on), o.decided_on, o.outcome \
             FROM outcomes o LEFT JOIN contracts c ON c.contract_id = o.contract_id \
             WHERE o.kind = 'renewal' ORDER BY 1, 2",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(RenewalDecision {
                account_id: r.get(0)?,
                renewal_date: r.get(1)?,
                decided_on: r.get(2)?,
                outcome: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every account row of the given snapshots with its metric values and attributes.
    pub fn feature_rows(&self, snapshot_ids: &[i64]) -> Result<FeatureRows, StoreError> {
        self.feature_rows_of(snapshot_ids, None)
    }

    /// [`Store::feature_rows`] of one account only (`None`: every account).
    pub fn feature_rows_of(
        &self,
        snapshot_ids: &[i64],
        account_id: Option<&str>,
    ) -> Result<FeatureRows, StoreError> {
        let mut rows = FeatureRows::default();
        if snapshot_ids.is_empty() {
            return Ok(rows);
        }
        // The id is bound as a parameter, never spliced into the SQL.
        let account_filter = if account_id.is_some() {
            "AND a.account_id = $1"
        } else {
            ""
        };
        let value_filter = if account_id.is_some() {
            "AND account_id = $1"
        } else {
            ""
        };
        let params: Vec<&dyn duckdb::ToSql> = match &account_id {
            Some(id) => vec![id as &dyn duckdb::ToSql],
            None => Vec::new(),
        };
        let id_list = snapshot_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        // Metric names of these snapshots, by their label code.
        let mut statement = self.conn.prepare(&format!(
            "SELECT DISTINCT v.metric_id, l.label FROM metric_values v JOIN labels l ON l.label_id = v.metric_id \
             WHERE v.snapshot_id IN ({id_list}) ORDER BY l.label"
        ))?;
        let metrics: Vec<(i32, String)> = statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        // Label codes are small integers: a dense lookup, not a hash per value.
        let max_code = metrics.iter().map(|(id, _)| *id).max().unwrap_or(0).max(0) as usize;
        let mut metric_column: Vec<Option<usize>> = vec![None; max_code + 1];
        for (i, (id, _)) in metrics.iter().enumerate() {
            if let Ok(code) = usize::try_from(*id) {
                metric_column[code] = Some(i);
            }
        }
        rows.metric_names = metrics.iter().map(|(_, name)| name.clone()).collect();

        let attributes = TEXT_ATTRIBUTES
            .iter()
            .chain(NUMERIC_ATTRIBUTES)
            .map(|a| format!("a.{a}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut statement = self.conn.prepare(&format!(
            "SELECT a.snapshot_id, s.as_of, a.account_id, {attributes}, a.renewal_date, coalesce(acc.name, a.account_id) \
             FROM snapshot_accounts a JOIN snapshots s USING (snapshot_id) \
             LEFT JOIN accounts acc ON acc.account_id = a.account_id \
             WHERE a.snapshot_id IN ({id_list}) {account_filter} ORDER BY a.snapshot_id, a.account_id"
        ))?;
        rows.text_attributes = vec![Vec::new(); TEXT_ATTRIBUTES.len()];
        rows.numeric_attributes = vec![Vec::new(); NUMERIC_ATTRIBUTES.len()];
        // Row of (snapshot, account): accounts get dense codes, each snapshot a vector
        // indexed by code — no string is allocated per metric value or per group.
        let snapshot_position: HashMap<i64, usize> = snapshot_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i))
            .collect();
        let mut account_code: HashMap<String, usize> = HashMap::new();
        let mut row_of: Vec<Vec<usize>> = vec![Vec::new(); snapshot_ids.len()];
        for batch in statement.query_arrow(params.as_slice())? {
            let snapshot = batch.column(0).as_any().downcast_ref::<Int64Array>();
            let as_of = batch.column(1).as_any().downcast_ref::<Date32Array>();
            let account = batch.column(2).as_any().downcast_ref::<StringArray>();
            let (Some(snapshot), Some(as_of), Some(account)) = (snapshot, as_of, account) else {
                return Err(StoreError::Internal(
                    "snapshot accounts came back in unexpected types".into(),
                ));
            };
            let texts: Vec<Option<&StringArray>> = (0..TEXT_ATTRIBUTES.len())
                .map(|i| batch.column(3 + i).as_any().downcast_ref::<StringArray>())
                .collect();
            // Numbers arrive as BIGINT, DECIMAL or DOUBLE: cast each column to f64 once.
            let numbers: Vec<Vec<f64>> = (0..NUMERIC_ATTRIBUTES.len())
                .map(|i| {
                    let column = batch.column(3 + TEXT_ATTRIBUTES.len() + i);
                    match arrow::compute::cast(column, &arrow::datatypes::DataType::Float64) {
                        Ok(cast) => cast
                            .as_any()
                            .downcast_ref::<Float64Array>()
                            .map(|a| {
                                (0..a.len())
                                    .map(|r| if a.is_null(r) { f64::NAN } else { a.value(r) })
                                    .collect()
                            })
                            .unwrap_or_else(|| vec![f64::NAN; column.len()]),
                        Err(_) => vec![f64::NAN; column.len()],
                    }
                })
                .collect();
            let tail = 3 + TEXT_ATTRIBUTES.len() + NUMERIC_ATTRIBUTES.len();
            let renewal = batch.column(tail).as_any().downcast_ref::<Date32Array>();
            let names = batch
                .column(tail + 1)
                .as_any()
                .downcast_ref::<StringArray>();
            let (Some(renewal), Some(names)) = (renewal, names) else {
                return Err(StoreError::Internal(
                    "renewal dates came back in unexpected types".into(),
                ));
            };
            for row in 0..batch.num_rows() {
                let at = rows.account_ids.len();
                rows.renewal_dates
                    .push((!renewal.is_null(row)).then(|| epoch_days(renewal.value(row))));
                rows.account_names.push(names.value(row).to_string());
                let next = account_code.len();
                let code = *account_code
                    .entry(account.value(row).to_string())
                    .or_insert(next);
                if let Some(&position) = snapshot_position.get(&snapshot.value(row)) {
                    let slots = &mut row_of[position];
                    if slots.len() <= code {
                        slots.resize(code + 1, usize::MAX);
                    }
                    slots[code] = at;
                }
                rows.snapshot_ids.push(snapshot.value(row));
                rows.as_of.push(epoch_days(as_of.value(row)));
                rows.account_ids.push(account.value(row).to_string());
                for (t, column) in texts.iter().enumerate() {
                    rows.text_attributes[t].push(
                        column
                            .filter(|c| !c.is_null(row))
                            .map(|c| c.value(row).to_string()),
                    );
                }
                for (n, column) in numbers.iter().enumerate() {
                    rows.numeric_attributes[n].push(column[row]);
                }
            }
        }
        rows.metric_values = vec![vec![f64::NAN; rows.len()]; metrics.len()];
        let mut statement = self.conn.prepare(&format!(
            "SELECT snapshot_id, account_id, metric_id, value FROM metric_values WHERE snapshot_id IN ({id_list}) {value_filter}"
        ))?;
        let mut key: (i64, Option<usize>) = (i64::MIN, None);
        let mut previous_account = String::new();
        let mut at: Option<usize> = None;
        for batch in statement.query_arrow(params.as_slice())? {
            let snapshot = batch.column(0).as_any().downcast_ref::<Int64Array>();
            let account = batch.column(1).as_any().downcast_ref::<StringArray>();
            let metric = batch.column(2).as_any().downcast_ref::<Int32Array>();
            let value = batch.column(3).as_any().downcast_ref::<Float64Array>();
            let (Some(snapshot), Some(account), Some(metric), Some(value)) =
                (snapshot, account, metric, value)
            else {
                return Err(StoreError::Internal(
                    "metric values came back in unexpected types".into(),
                ));
            };
            for row in 0..batch.num_rows() {
                // Values arrive grouped by (snapshot, account): one lookup per group.
                if snapshot.value(row) != key.0 || account.value(row) != previous_account {
                    previous_account.clear();
                    previous_account.push_str(account.value(row));
                    key = (
                        snapshot.value(row),
                        account_code.get(account.value(row)).copied(),
                    );
                    at = match (snapshot_position.get(&key.0), key.1) {
                        (Some(&position), Some(code)) => row_of[position]
                            .get(code)
                            .copied()
                            .filter(|r| *r != usize::MAX),
                        _ => None,
                    };
                }
                let column = usize::try_from(metric.value(row))
                    .ok()
                    .and_then(|m| metric_column.get(m).copied().flatten());
                if let (Some(at), Some(column)) = (at, column) {
                    rows.metric_values[column][at] = value.value(row);
                }
            }
        }
        Ok(rows)
    }

    /// Churns (and, when asked, downgrades) in the records: renewal outcomes, dated at
    /// the renewed contract's end (else the decision date), and contract terms with
    /// status `churned` (dated at their end). Both sources may name the same churn;
    /// the caller merges them.
    pub fn churn_records(&self, include_downgrades: bool) -> Result<Vec<ChurnRecord>, StoreError> {
        let outcomes = if include_downgrades {
            "'churned', 'downgraded'"
        } else {
            "'churned'"
        };
        let mut statement = self.conn.prepare(&format!(
            "SELECT o.account_id, coalesce(c.end_date, o.decided_on) AS churn_date, \
                    least(o.decided_on, coalesce(c.end_date, o.decided_on)) AS known_on, o.outcome, \
                    'outcomes ' || o.outcome_id || ' (load ' || o._load_id || ', line ' || o._line || ')' \
             FROM outcomes o LEFT JOIN contracts c ON c.contract_id = o.contract_id \
             WHERE o.kind = 'renewal' AND o.outcome IN ({outcomes}) \
             UNION ALL \
             SELECT account_id, end_date, end_date, 'churned', \
                    'contracts ' || contract_id || ' status churned (load ' || _load_id || ', line ' || _line || ')' \
             FROM contracts WHERE status = 'churned' AND end_date IS NOT NULL \
             ORDER BY 1, 2, 5"
        ))?;
        let rows = statement.query_map([], |r| {
            Ok(ChurnRecord {
                account_id: r.get(0)?,
                churn_date: r.get(1)?,
                known_on: r.get(2)?,
                kind: r.get(3)?,
                source: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
