//! Every account's rank among its cohort peers in one snapshot, computed for the whole
//! snapshot at once and held in memory (with each account's cohorts and the
//! snapshot's cohort benchmarks): an account's cohort standing becomes a lookup
//! instead of a join of the whole snapshot with the cohort memberships, and its
//! benchmarks a filter instead of a query.
//!
//! Why: [`Store::account_cohort_ranks`] answers the same question in SQL, and at
//! 100,000 accounts that join costs ~40 ms warm and ~1 s cold per account — too slow
//! for the account page a CSM opens many times a day. Ranking on request by binary
//! search over each cohort's sorted values was the next step, but those searches miss
//! the cache on every probe (~0.6 ms per account, most of a first-time account view's
//! CPU). So a long-running process (the web server) ranks every account once per
//! snapshot: one sort per cohort and metric, then one pass over each sorted list
//! (~24 bytes per account × metric × cohort dimension, ~300 MB at 100,000 accounts).
//! Its answers are the SQL's, row for row (tested).

use std::collections::HashMap;

use crate::error::StoreError;
use crate::snapshots::{BenchmarkRow, CohortRank};
use crate::store::Store;
use arrow::array::{Array, Float64Array, Int32Array, StringArray};

/// The health score is ranked like a metric under this name (as in the SQL).
const HEALTH_SCORE: &str = "health_score";
/// Its code in the index (label ids are positive).
const HEALTH_SCORE_CODE: i32 = -1;

/// One account's standing for one metric in one of its cohorts.
struct RankCell {
    /// Index into the account's memberships.
    membership: u32,
    metric: i32,
    n: u32,
    below: u32,
    equal: u32,
    value: f64,
}

/// A cohort member's value while ranking: (value, account position, membership index),
/// grouped by (dimension, cohort, metric) codes.
type Peer = (f64, u32, u32);

struct Member {
    /// (dimension, cohort) codes.
    memberships: Vec<(i32, i32)>,
    ranks: Vec<RankCell>,
}

pub struct CohortValueIndex {
    snapshot_id: i64,
    accounts: HashMap<String, Member>,
    /// The snapshot's cohort benchmarks (a few thousand rows).
    benchmarks: Vec<BenchmarkRow>,
    names: HashMap<i32, String>,
    ranks_held: usize,
}

impl CohortValueIndex {
    pub fn snapshot_id(&self) -> i64 {
        self.snapshot_id
    }

    /// How many ranks the index holds (memory is ~24 bytes each).
    pub fn len(&self) -> usize {
        self.ranks_held
    }

    pub fn is_empty(&self) -> bool {
        self.ranks_held == 0
    }

    fn name(&self, code: i32) -> String {
        if code == HEALTH_SCORE_CODE {
            return HEALTH_SCORE.to_string();
        }
        self.names.get(&code).cloned().unwrap_or_default()
    }

    /// The account's ranks in each of its cohorts for every metric it has a value for
    /// (the health score as `health_score`), in the order and shape of
    /// [`Store::account_cohort_ranks`]. No store access.
    pub fn account_ranks(&self, account_id: &str) -> Vec<CohortRank> {
        let Some(member) = self.accounts.get(account_id) else {
            return Vec::new();
        };
        let mut ranks: Vec<CohortRank> = member
            .ranks
            .iter()
            .filter_map(|cell| {
                let (dimension, cohort) = *member.memberships.get(cell.membership as usize)?;
                Some(CohortRank {
                    dimension: self.name(dimension),
                    cohort: self.name(cohort),
                    metric: self.name(cell.metric),
                    value: cell.value,
                    n: i64::from(cell.n),
                    below: i64::from(cell.below),
                    equal: i64::from(cell.equal),
                })
            })
            .collect();
        ranks.sort_by(|a, b| (&a.dimension, &a.metric).cmp(&(&b.dimension, &b.metric)));
        ranks
    }

    /// [`Store::account_benchmarks`] from memory.
    pub fn account_benchmarks(&self, account_id: &str) -> Vec<BenchmarkRow> {
        let Some(member) = self.accounts.get(account_id) else {
            return Vec::new();
        };
        let mine: Vec<(String, String)> = member
            .memberships
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
        let mut accounts: HashMap<String, Member> = HashMap::new();
        let mut account_ids: Vec<String> = Vec::new();
        {
            let mut statement = self.conn.prepare(
                "SELECT account_id, dimension_id, cohort_id FROM account_cohorts WHERE snapshot_id = ?",
            )?;
            let mut rows = statement.query([snapshot_id])?;
            while let Some(row) = rows.next()? {
                let account_id: String = row.get(0)?;
                let member = accounts.entry(account_id.clone()).or_insert_with(|| {
                    account_ids.push(account_id);
                    Member {
                        memberships: Vec::new(),
                        ranks: Vec::new(),
                    }
                });
                member.memberships.push((row.get(1)?, row.get(2)?));
            }
        }
        let position: HashMap<&str, u32> = account_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i as u32))
            .collect();
        let mut groups: HashMap<(i32, i32, i32), Vec<Peer>> = HashMap::new();
        let mut statement = self.conn.prepare(
            "WITH vals AS (\
                SELECT account_id, metric_id, value FROM metric_values WHERE snapshot_id = $1 \
                UNION ALL SELECT account_id, -1, score FROM health_scores \
                WHERE snapshot_id = $1 AND score IS NOT NULL) \
             SELECT c.dimension_id, c.cohort_id, v.metric_id, v.value, v.account_id \
             FROM vals v JOIN account_cohorts c ON c.snapshot_id = $1 AND c.account_id = v.account_id",
        )?;
        for batch in statement.query_arrow([snapshot_id])? {
            let column = |i: usize| batch.column(i).as_any();
            let (Some(dimensions), Some(cohorts), Some(metrics), Some(numbers), Some(ids)) = (
                column(0).downcast_ref::<Int32Array>(),
                column(1).downcast_ref::<Int32Array>(),
                column(2).downcast_ref::<Int32Array>(),
                column(3).downcast_ref::<Float64Array>(),
                column(4).downcast_ref::<StringArray>(),
            ) else {
                return Err(StoreError::Internal(
                    "cohort values came back in unexpected column types".into(),
                ));
            };
            for row in 0..batch.num_rows() {
                if numbers.is_null(row) {
                    continue;
                }
                let (dimension, cohort) = (dimensions.value(row), cohorts.value(row));
                let Some(&at) = position.get(ids.value(row)) else {
                    continue;
                };
                let Some(membership) = accounts
                    .get(ids.value(row))
                    .and_then(|m| m.memberships.iter().position(|&x| x == (dimension, cohort)))
                else {
                    continue;
                };
                groups
                    .entry((dimension, cohort, metrics.value(row)))
                    .or_default()
                    .push((numbers.value(row), at, membership as u32));
            }
        }
        drop(position);
        let mut ranks_held = 0;
        for ((_, _, metric), mut peers) in groups {
            peers.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            let n = peers.len() as u32;
            // Runs of equal values (as SQL compares: -0.0 = 0.0, adjacent in this order).
            let mut start = 0;
            while start < peers.len() {
                let value = peers[start].0;
                let end = start + peers[start..].partition_point(|p| p.0 == value);
                for &(value, at, membership) in &peers[start..end] {
                    if let Some(member) = account_ids
                        .get(at as usize)
                        .and_then(|id| accounts.get_mut(id))
                    {
                        member.ranks.push(RankCell {
                            membership,
                            metric,
                            n,
                            below: start as u32,
                            equal: (end - start) as u32,
                            value,
                        });
                        ranks_held += 1;
                    }
                }
                start = end;
            }
        }
        Ok(CohortValueIndex {
            snapshot_id,
            accounts,
            benchmarks: self.snapshot_benchmarks(snapshot_id)?,
            names,
            ranks_held,
        })
    }
}
