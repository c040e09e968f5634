//! Every cohort's metric values of one snapshot, sorted, in memory (with each account's
//! cohorts and the snapshot's cohort benchmarks): an account's exact rank among its
//! peers becomes two binary searches instead of a join of the whole snapshot with the
//! cohort memberships, and its benchmarks a filter instead of a query.
//!
//! Why: [`Store::account_cohort_ranks`] answers the same question in SQL, and at
//! 100,000 accounts that join costs ~40 ms warm and ~1 s cold per account — too slow
//! for the account page a CSM opens many times a day. A long-running process (the web
//! server) builds this once per snapshot (~3 s and ~8 bytes per account × metric ×
//! cohort dimension, ~160 MB at 100,000 accounts) and asks it instead. Its answers are
//! the SQL's, row for row (tested).

use std::collections::HashMap;

use crate::error::StoreError;
use crate::snapshots::{BenchmarkRow, CohortRank};
use crate::store::Store;
use arrow::array::{Array, Float64Array, Int32Array};

/// The health score is ranked like a metric under this name (as in the SQL).
const HEALTH_SCORE: &str = "health_score";
/// Its code in the index (label ids are positive).
const HEALTH_SCORE_CODE: i32 = -1;

pub struct CohortValueIndex {
    snapshot_id: i64,
    /// (dimension, cohort, metric) codes → the cohort's values, ascending.
    values: HashMap<(i32, i32, i32), Vec<f64>>,
    /// Each account's (dimension, cohort) codes.
    memberships: HashMap<String, Vec<(i32, i32)>>,
    /// The snapshot's cohort benchmarks (a few thousand rows).
    benchmarks: Vec<BenchmarkRow>,
    names: HashMap<i32, String>,
    codes: HashMap<String, i32>,
    values_held: usize,
}

impl CohortValueIndex {
    pub fn snapshot_id(&self) -> i64 {
        self.snapshot_id
    }

    /// How many values the index holds (memory is ~8 bytes each).
    pub fn len(&self) -> usize {
        self.values_held
    }

    pub fn is_empty(&self) -> bool {
        self.values_held == 0
    }

    fn name(&self, code: i32) -> String {
        if code == HEALTH_SCORE_CODE {
            return HEALTH_SCORE.to_string();
        }
        self.names.get(&code).cloned().unwrap_or_default()
    }

    /// The account's ranks in each of its cohorts, in the order and shape of
    /// [`Store::account_cohort_ranks`], given the account's own values in this snapshot
    /// (metric name → value; the health score as `health_score`). No store access.
    pub fn account_ranks(&self, account_id: &str, values: &[(String, f64)]) -> Vec<CohortRank> {
        let Some(memberships) = self.memberships.get(account_id) else {
            return Vec::new();
        };
        let mut ranks = Vec::new();
        for &(dimension, cohort) in memberships {
            for (metric, value) in values {
                let code = if metric == HEALTH_SCORE {
                    HEALTH_SCORE_CODE
                } else {
                    match self.codes.get(metric) {
                        Some(code) => *code,
                        None => continue,
                    }
                };
                let Some(peers) = self.values.get(&(dimension, cohort, code)) else {
                    continue;
                };
                let below = peers.partition_point(|v| *v < *value);
                let not_above = peers.partition_point(|v| *v <= *value);
                ranks.push(CohortRank {
                    dimension: self.name(dimension),
                    cohort: self.name(cohort),
                    metric: metric.clone(),
                    value: *value,
                    n: peers.len() as i64,
                    below: below as i64,
                    equal: (not_above - below) as i64,
                });
            }
        }
        ranks.sort_by(|a, b| (&a.dimension, &a.metric).cmp(&(&b.dimension, &b.metric)));
        ranks
    }

    /// [`Store::account_benchmarks`] from memory.
    pub fn account_benchmarks(&self, account_id: &str) -> Vec<BenchmarkRow> {
        let Some(memberships) = self.memberships.get(account_id) else {
            return Vec::new();
        };
        let mine: Vec<(String, String)> = memberships
            .iter()
            .map(|&(dimension, cohort)| (self.name(dimension), self.name(cohort)))
            .collect();
        // The stored rows are already ordered by dimension and metric.
        self.benchmarks
            .iter()
            .filter(|b| {
                mine.iter()
                    .any(|(dimension, cohort)| &b.dimension == dimension && &b.cohort == cohort)
            })
            .cloned()
            .collect()
    }
}

impl Store {
    /// Builds the index of one snapshot.
    pub fn cohort_value_index(&self, snapshot_id: i64) -> Result<CohortValueIndex, StoreError> {
        let mut names = HashMap::new();
        {
            let mut statement = self.conn.prepare("SELECT label_id, label FROM labels")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                names.insert(row.get::<_, i32>(0)?, row.get::<_, String>(1)?);
            }
        }
        let mut values: HashMap<(i32, i32, i32), Vec<f64>> = HashMap::new();
        let mut values_held = 0;
        let mut statement = self.conn.prepare(
            "WITH vals AS (\
                SELECT account_id, metric_id, value FROM metric_values WHERE snapshot_id = $1 \
                UNION ALL SELECT account_id, -1, score FROM health_scores \
                WHERE snapshot_id = $1 AND score IS NOT NULL) \
             SELECT c.dimension_id, c.cohort_id, v.metric_id, v.value \
             FROM vals v JOIN account_cohorts c ON c.snapshot_id = $1 AND c.account_id = v.account_id",
        )?;
        for batch in statement.query_arrow([snapshot_id])? {
            let column = |i: usize| batch.column(i).as_any();
            let (Some(dimensions), Some(cohorts), Some(metrics), Some(numbers)) = (
                column(0).downcast_ref::<Int32Array>(),
                column(1).downcast_ref::<Int32Array>(),
                column(2).downcast_ref::<Int32Array>(),
                column(3).downcast_ref::<Float64Array>(),
            ) else {
                return Err(StoreError::Internal(
                    "cohort values came back in unexpected column types".into(),
                ));
            };
            for row in 0..batch.num_rows() {
                if numbers.is_null(row) {
                    continue;
                }
                values
                    .entry((
                        dimensions.value(row),
                        cohorts.value(row),
                        metrics.value(row),
                    ))
                    .or_default()
                    .push(numbers.value(row));
                values_held += 1;
            }
        }
        for list in values.values_mut() {
            list.sort_unstable_by(f64::total_cmp);
        }
        let mut memberships: HashMap<String, Vec<(i32, i32)>> = HashMap::new();
        {
            let mut statement = self.conn.prepare(
                "SELECT account_id, dimension_id, cohort_id FROM account_cohorts WHERE snapshot_id = ?",
            )?;
            let mut rows = statement.query([snapshot_id])?;
            while let Some(row) = rows.next()? {
                memberships
                    .entry(row.get::<_, String>(0)?)
                    .or_default()
                    .push((row.get(1)?, row.get(2)?));
            }
        }
        let codes = names
            .iter()
            .map(|(code, name)| (name.clone(), *code))
            .collect();
        Ok(CohortValueIndex {
            snapshot_id,
            values,
            memberships,
            benchmarks: self.snapshot_benchmarks(snapshot_id)?,
            names,
            codes,
            values_held,
        })
    }
}
