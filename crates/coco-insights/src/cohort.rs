//! Cohorts (peer groups) and benchmarks: where an account stands among accounts like it.
//!
//! A cohort dimension groups accounts by a text attribute (segment, industry, plan tier,
//! coverage model: the label is the value) or by a banded number attribute (employee
//! count, tenure). Benchmarks hold, for every dimension, cohort and column, the cohort's
//! non-missing values in sorted order, so percentiles and quantiles are exact.
//!
//! **Mid-rank percentile** of a value `v` within a cohort with `n` non-missing values:
//!
//! ```text
//! percentile = 100 × (count of values < v  +  0.5 × count of values == v) ÷ n
//! ```
//!
//! The account's own value is one of the `n`. The only account of a cohort is at 50,
//! tied accounts share one percentile, and the mean percentile of a cohort is exactly 50.
//!
//! **Quantiles** (p10 … p90) interpolate linearly between closest ranks — numpy's
//! default and DuckDB's `quantile_cont`: with sorted values `x[0..n]`, `h = (n − 1) × q`,
//! `quantile = x[⌊h⌋] + (h − ⌊h⌋) × (x[⌊h⌋ + 1] − x[⌊h⌋])`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::frame::{AttrValue, SnapshotFrame};

/// One peer-group dimension, from the health configuration's `[[cohort]]` tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortDef {
    pub name: String,
    /// The account attribute it groups by: a text attribute without `bands`, a number
    /// attribute with them.
    pub attribute: String,
    /// Bands for a number attribute, in increasing order; the last has no `below`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bands: Option<Vec<CohortBand>>,
}

/// A band of a number attribute: values strictly below `below` that are not in an
/// earlier band. The last band has no `below` and catches the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortBand {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    pub label: String,
}

impl CohortDef {
    /// The cohort label of an attribute value; `None` for the wrong kind of value.
    pub fn label_of<'v>(&'v self, value: &'v AttrValue) -> Option<&'v str> {
        match (value, &self.bands) {
            (AttrValue::Text(text), None) => Some(text),
            (AttrValue::Number(number), Some(bands)) if !number.is_nan() => bands
                .iter()
                .find(|band| band.below.is_none_or(|below| *number < below))
                .map(|band| band.label.as_str()),
            // A number without bands would make one cohort per distinct value, and text
            // cannot be banded: either way the account has no cohort in this dimension.
            _ => None,
        }
    }
}

/// Code for "no cohort in this dimension".
const NO_LABEL: u32 = u32::MAX;

/// A cohort dimension as assigned: its definition's name and attribute and the labels
/// found (band labels in band order, text labels sorted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortDimension {
    pub name: String,
    pub attribute: String,
    pub labels: Vec<String>,
}

/// Every account's cohort in every dimension, as interned label indices.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortAssignment {
    dimensions: Vec<CohortDimension>,
    /// `codes[dimension][account]`: label index or [`NO_LABEL`].
    codes: Vec<Vec<u32>>,
    account_count: usize,
}

impl CohortAssignment {
    pub fn dimensions(&self) -> &[CohortDimension] {
        &self.dimensions
    }

    pub fn dimension_index(&self, name: &str) -> Option<usize> {
        self.dimensions.iter().position(|d| d.name == name)
    }

    /// Accounts covered (the frame's accounts, in frame order).
    pub fn account_count(&self) -> usize {
        self.account_count
    }

    /// The account's label index in a dimension; `None` when it has no cohort there.
    pub fn label_index(&self, account: usize, dimension: usize) -> Option<usize> {
        let code = *self.codes.get(dimension)?.get(account)?;
        (code != NO_LABEL).then_some(code as usize)
    }

    /// The account's cohort label in a dimension.
    pub fn label(&self, account: usize, dimension: usize) -> Option<&str> {
        let index = self.label_index(account, dimension)?;
        self.dimensions[dimension]
            .labels
            .get(index)
            .map(String::as_str)
    }

    /// The labels of a dimension (empty for an unknown dimension).
    pub fn labels(&self, dimension: usize) -> &[String] {
        self.dimensions
            .get(dimension)
            .map_or(&[], |d| d.labels.as_slice())
    }

    /// Accounts per label of a dimension.
    pub fn sizes(&self, dimension: usize) -> Vec<usize> {
        let mut sizes = vec![0; self.labels(dimension).len()];
        for code in self.codes.get(dimension).map_or(&[][..], Vec::as_slice) {
            if let Some(size) = sizes.get_mut(*code as usize) {
                *size += 1;
            }
        }
        sizes
    }
}

/// Assigns every account of the frame to its cohort in every dimension.
pub fn assign_cohorts(frame: &SnapshotFrame, cohorts: &[CohortDef]) -> CohortAssignment {
    let mut dimensions = Vec::with_capacity(cohorts.len());
    let mut codes = Vec::with_capacity(cohorts.len());
    for cohort in cohorts {
        let (labels, dimension_codes) = assign_dimension(frame, cohort);
        dimensions.push(CohortDimension {
            name: cohort.name.clone(),
            attribute: cohort.attribute.clone(),
            labels,
        });
        codes.push(dimension_codes);
    }
    CohortAssignment {
        dimensions,
        codes,
        account_count: frame.accounts.len(),
    }
}

fn assign_dimension(frame: &SnapshotFrame, cohort: &CohortDef) -> (Vec<String>, Vec<u32>) {
    let mut labels: Vec<String> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    // Band labels are registered up front so they keep band order (and an empty band is
    // still listed) rather than the order accounts happen to arrive in.
    for band in cohort.bands.iter().flatten() {
        if !index.contains_key(&band.label) {
            index.insert(band.label.clone(), labels.len() as u32);
            labels.push(band.label.clone());
        }
    }
    let mut codes = Vec::with_capacity(frame.accounts.len());
    for account in &frame.accounts {
        let label = account
            .attributes
            .get(&cohort.attribute)
            .and_then(|value| cohort.label_of(value));
        let code = match label {
            None => NO_LABEL,
            Some(label) => match index.get(label) {
                Some(code) => *code,
                None => {
                    let code = labels.len() as u32;
                    index.insert(label.to_owned(), code);
                    labels.push(label.to_owned());
                    code
                }
            },
        };
        codes.push(code);
    }
    if cohort.bands.is_none() {
        // Text labels are sorted so listings and label indices do not depend on the
        // order of accounts in the snapshot.
        let mut order: Vec<u32> = (0..labels.len() as u32).collect();
        order.sort_by(|a, b| labels[*a as usize].cmp(&labels[*b as usize]));
        let mut remap = vec![0u32; labels.len()];
        for (new, old) in order.iter().enumerate() {
            remap[*old as usize] = new as u32;
        }
        for code in &mut codes {
            if *code != NO_LABEL {
                *code = remap[*code as usize];
            }
        }
        labels = order
            .iter()
            .map(|old| labels[*old as usize].clone())
            .collect();
    }
    (labels, codes)
}

/// Distribution of one column within one cohort.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BenchmarkSummary {
    /// Non-missing values.
    pub n: usize,
    pub mean: f64,
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
}

/// One row of [`Benchmarks::entries`]: a column's distribution within one cohort.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BenchmarkEntry<'a> {
    /// The cohort dimension's name (`segment`, `size_band`, …).
    pub dimension: &'a str,
    /// The cohort's label within the dimension (`enterprise`, `200-1,999`, …).
    pub cohort: &'a str,
    pub metric: &'a str,
    pub summary: BenchmarkSummary,
}

/// One column's values grouped by cohort.
///
/// Rather than a sorted copy of the values per cohort, the column is sorted once and each
/// cohort keeps the ascending *global ranks* of its members (u32): half the memory of
/// per-cohort `f64` copies, no per-cohort sort, and ties stay exact because equal values
/// occupy one contiguous range of ranks.
#[derive(Debug, Clone, PartialEq)]
struct ColumnGroups {
    sorted: Vec<f64>,
    /// Per dimension: `offsets[label]..offsets[label + 1]` indexes `ranks`.
    dimensions: Vec<DimensionGroups>,
}

#[derive(Debug, Clone, PartialEq)]
struct DimensionGroups {
    offsets: Vec<usize>,
    ranks: Vec<u32>,
}

/// A cohort's sorted values of one column, read through the column's global order.
#[derive(Clone, Copy)]
struct CohortValues<'a> {
    sorted: &'a [f64],
    ranks: &'a [u32],
}

impl CohortValues<'_> {
    fn len(&self) -> usize {
        self.ranks.len()
    }

    fn get(&self, i: usize) -> f64 {
        self.sorted[self.ranks[i] as usize]
    }

    fn percentile(&self, value: f64) -> Option<f64> {
        if self.ranks.is_empty() || value.is_nan() {
            return None;
        }
        let below_global = self.sorted.partition_point(|x| *x < value) as u32;
        let up_to_global = self.sorted.partition_point(|x| *x <= value) as u32;
        let below = self.ranks.partition_point(|r| *r < below_global);
        let up_to = self.ranks.partition_point(|r| *r < up_to_global);
        Some(mid_rank_percentile(below, up_to - below, self.ranks.len()))
    }

    fn quantile(&self, q: f64) -> f64 {
        let h = (self.len() - 1) as f64 * q;
        let lower = h.floor() as usize;
        let upper = (lower + 1).min(self.len() - 1);
        let low = self.get(lower);
        low + (h - lower as f64) * (self.get(upper) - low)
    }

    fn summary(&self) -> Option<BenchmarkSummary> {
        if self.ranks.is_empty() {
            return None;
        }
        let n = self.len();
        let sum: f64 = self.ranks.iter().map(|r| self.sorted[*r as usize]).sum();
        Some(BenchmarkSummary {
            n,
            mean: sum / n as f64,
            p10: self.quantile(0.10),
            p25: self.quantile(0.25),
            p50: self.quantile(0.50),
            p75: self.quantile(0.75),
            p90: self.quantile(0.90),
        })
    }
}

/// The mid-rank percentile (see the module docs): `100 × (below + 0.5 × equal) ÷ n`.
pub fn mid_rank_percentile(below: usize, equal: usize, n: usize) -> f64 {
    100.0 * (below as f64 + 0.5 * equal as f64) / n as f64
}

/// Every column's values grouped by every cohort of every dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmarks {
    columns: Vec<String>,
    dimensions: Vec<CohortDimension>,
    groups: Vec<ColumnGroups>,
}

impl Benchmarks {
    /// Benchmarks of every metric of the frame. Accounts the assignment does not cover
    /// (it was made for another frame) are left out rather than guessed.
    pub fn compute(frame: &SnapshotFrame, assignment: &CohortAssignment) -> Benchmarks {
        let width = frame.metrics.len();
        let names = frame.metrics.iter().map(|m| m.name.clone()).collect();
        Benchmarks::build(
            names,
            frame.accounts.len(),
            assignment,
            |column, account| {
                frame
                    .values
                    .get(account * width + column)
                    .copied()
                    .unwrap_or(f64::NAN)
            },
        )
    }

    /// Benchmarks of one per-account column that is not a metric (e.g. the health score;
    /// NaN = missing), named `value`, in frame order like the assignment.
    pub fn compute_for_column(values: &[f64], assignment: &CohortAssignment) -> Benchmarks {
        Benchmarks::compute_columns(vec!["value".to_owned()], &[values], assignment)
    }

    /// Benchmarks of named per-account columns (NaN = missing), in frame order.
    pub fn compute_columns(
        names: Vec<String>,
        columns: &[&[f64]],
        assignment: &CohortAssignment,
    ) -> Benchmarks {
        let accounts = columns.iter().map(|c| c.len()).max().unwrap_or(0);
        let names = (0..columns.len())
            .map(|i| {
                names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("column_{i}"))
            })
            .collect();
        Benchmarks::build(names, accounts, assignment, |column, account| {
            columns[column].get(account).copied().unwrap_or(f64::NAN)
        })
    }

    fn build(
        columns: Vec<String>,
        accounts: usize,
        assignment: &CohortAssignment,
        value: impl Fn(usize, usize) -> f64 + Sync,
    ) -> Benchmarks {
        let accounts = accounts.min(assignment.account_count);
        let column_count = columns.len();
        // Columns are independent: sorting them is most of the work, so it is spread
        // over the available cores (two on the reference machine).
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8)
            .min(column_count.max(1));
        let build_column = |column: usize| group_column(assignment, accounts, |a| value(column, a));
        let groups: Vec<ColumnGroups> = if workers <= 1 || accounts < 10_000 {
            (0..column_count).map(build_column).collect()
        } else {
            let mut slots: Vec<Option<ColumnGroups>> = vec![None; column_count];
            std::thread::scope(|scope| {
                let build_column = &build_column;
                let handles: Vec<_> = (0..workers)
                    .map(|worker| {
                        scope.spawn(move || {
                            (worker..column_count)
                                .step_by(workers)
                                .map(|column| (column, build_column(column)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                for handle in handles {
                    // A worker only panics if grouping itself has a bug; re-raise it
                    // rather than return benchmarks with silently empty columns.
                    let built = handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    for (column, groups) in built {
                        slots[column] = Some(groups);
                    }
                }
            });
            slots
                .into_iter()
                .map(|slot| slot.unwrap_or_else(|| empty_groups(assignment)))
                .collect()
        };
        Benchmarks {
            columns,
            dimensions: assignment.dimensions.clone(),
            groups,
        }
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    pub fn dimensions(&self) -> &[CohortDimension] {
        &self.dimensions
    }

    pub fn dimension_index(&self, name: &str) -> Option<usize> {
        self.dimensions.iter().position(|d| d.name == name)
    }

    pub fn label_index(&self, dimension: usize, label: &str) -> Option<usize> {
        self.dimensions
            .get(dimension)?
            .labels
            .iter()
            .position(|l| l == label)
    }

    fn cohort(&self, dimension: usize, label: usize, column: usize) -> Option<CohortValues<'_>> {
        let column = self.groups.get(column)?;
        let groups = column.dimensions.get(dimension)?;
        let start = *groups.offsets.get(label)?;
        let end = *groups.offsets.get(label + 1)?;
        Some(CohortValues {
            sorted: &column.sorted,
            ranks: &groups.ranks[start..end],
        })
    }

    /// Non-missing values of a column in a cohort.
    pub fn count(&self, dimension: usize, label: usize, column: usize) -> usize {
        self.cohort(dimension, label, column)
            .map_or(0, |values| values.len())
    }

    /// Mid-rank percentile of `value` within the cohort (module docs); `None` when the
    /// cohort has no values of the column or `value` is NaN.
    pub fn percentile(
        &self,
        dimension: usize,
        label: usize,
        column: usize,
        value: f64,
    ) -> Option<f64> {
        self.cohort(dimension, label, column)?.percentile(value)
    }

    /// Count, mean and quantiles of a column within a cohort; `None` when it has no values.
    pub fn summary(
        &self,
        dimension: usize,
        label: usize,
        column: usize,
    ) -> Option<BenchmarkSummary> {
        self.cohort(dimension, label, column)?.summary()
    }

    /// [`Benchmarks::summary`] by names.
    pub fn summary_by_name(
        &self,
        dimension: &str,
        label: &str,
        column: &str,
    ) -> Option<BenchmarkSummary> {
        let d = self.dimension_index(dimension)?;
        self.summary(d, self.label_index(d, label)?, self.column_index(column)?)
    }

    /// Every (dimension, cohort, column) with at least one value, for storing. Ordered by
    /// dimension, then cohort label index, then column.
    pub fn entries(&self) -> Vec<BenchmarkEntry<'_>> {
        let mut entries = Vec::new();
        for (d, dimension) in self.dimensions.iter().enumerate() {
            for (l, label) in dimension.labels.iter().enumerate() {
                for (c, column) in self.columns.iter().enumerate() {
                    if let Some(summary) = self.summary(d, l, c) {
                        entries.push(BenchmarkEntry {
                            dimension: &dimension.name,
                            cohort: label,
                            metric: column,
                            summary,
                        });
                    }
                }
            }
        }
        entries
    }
}

fn empty_groups(assignment: &CohortAssignment) -> ColumnGroups {
    ColumnGroups {
        sorted: Vec::new(),
        dimensions: assignment
            .dimensions
            .iter()
            .map(|d| DimensionGroups {
                offsets: vec![0; d.labels.len() + 1],
                ranks: Vec::new(),
            })
            .collect(),
    }
}

/// Sorts one column once, then scatters every account's global rank into its cohort's
/// slot per dimension (a counting sort by label), which leaves each cohort's ranks in
/// ascending order without sorting per cohort.
fn group_column(
    assignment: &CohortAssignment,
    accounts: usize,
    value: impl Fn(usize) -> f64,
) -> ColumnGroups {
    let mut order: Vec<(f64, u32)> = (0..accounts)
        .filter_map(|account| {
            let v = value(account);
            v.is_finite().then_some((v, account as u32))
        })
        .collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // total_cmp orders -0.0 before 0.0; the percentile's binary searches use `<`, which
    // treats them as equal, so normalise to keep the sorted slice consistent with it.
    let sorted: Vec<f64> = order.iter().map(|(v, _)| *v + 0.0).collect();
    let dimensions = assignment
        .codes
        .iter()
        .zip(&assignment.dimensions)
        .map(|(codes, dimension)| {
            let labels = dimension.labels.len();
            let mut offsets = vec![0usize; labels + 1];
            for (_, account) in &order {
                let code = codes[*account as usize];
                if code != NO_LABEL {
                    offsets[code as usize + 1] += 1;
                }
            }
            for label in 0..labels {
                offsets[label + 1] += offsets[label];
            }
            let mut cursor = offsets.clone();
            let mut ranks = vec![0u32; offsets[labels]];
            for (rank, (_, account)) in order.iter().enumerate() {
                let code = codes[*account as usize];
                if code != NO_LABEL {
                    ranks[cursor[code as usize]] = rank as u32;
                    cursor[code as usize] += 1;
                }
            }
            DimensionGroups { offsets, ranks }
        })
        .collect();
    ColumnGroups { sorted, dimensions }
}

/// Relative change of a cohort's median of a column between two snapshots:
/// `(median_after − median_before) ÷ |median_before|`, in raw terms (not adjusted for
/// the metric's direction). `None` when the cohort or column is absent from either
/// snapshot, or the earlier median is 0 (no relative change is defined).
pub fn cohort_trend(
    before: &Benchmarks,
    after: &Benchmarks,
    dimension: &str,
    label: &str,
    column: &str,
) -> Option<f64> {
    let median_before = before.summary_by_name(dimension, label, column)?.p50;
    let median_after = after.summary_by_name(dimension, label, column)?.p50;
    (median_before != 0.0).then(|| (median_after - median_before) / median_before.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_zero_ties_with_zero() {
        let assignment = CohortAssignment {
            dimensions: vec![CohortDimension {
                name: "all".into(),
                attribute: "x".into(),
                labels: vec!["a".into()],
            }],
            codes: vec![vec![0, 0, 0]],
            account_count: 3,
        };
        let values = [-0.0, 0.0, 1.0];
        let b = Benchmarks::compute_for_column(&values, &assignment);
        // Two zeros tie: (0 + 0.5 × 2) ÷ 3.
        assert_eq!(b.percentile(0, 0, 0, 0.0), Some(100.0 / 3.0));
        assert_eq!(b.percentile(0, 0, 0, -0.0), Some(100.0 / 3.0));
    }
}
