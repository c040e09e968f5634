//! Numbers of an account by name, wherever they come from: a metric of the snapshot, a
//! number of the account row (`arr`, `seats`, `tenure_days`, `employee_count`), or a value
//! the engine computed beside the snapshot (`health_score`, `churn_probability`, …).
//! Settings files name their inputs this way (`source = "…"`), so one resolver serves
//! segmentation, workload and journey rules.

use std::collections::BTreeMap;

use crate::frame::{MetricMeta, SnapshotFrame};

/// Numeric attributes every account row may carry (see `coco-engine`'s frame loading).
pub const NUMERIC_ATTRIBUTES: &[&str] = &["arr", "seats", "tenure_days", "employee_count"];

/// Values supplied beside the frame, each aligned with `frame.accounts`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SideValues {
    columns: BTreeMap<String, Vec<Option<f64>>>,
}

impl SideValues {
    pub fn insert(&mut self, name: &str, values: Vec<Option<f64>>) {
        self.columns.insert(name.to_string(), values);
    }

    pub fn contains(&self, name: &str) -> bool {
        self.columns.contains_key(name)
    }

    pub fn column(&self, name: &str) -> Option<&[Option<f64>]> {
        self.columns.get(name).map(Vec::as_slice)
    }
}

/// Where a named value is read from, resolved once per run.
#[derive(Debug, Clone, Copy)]
pub enum Resolved<'a> {
    Side(&'a [Option<f64>]),
    Metric(usize),
    Attribute(&'a str),
    /// A name the inputs do not carry in this run (e.g. no churn model scored): no value.
    Absent,
}

/// Reads named values of accounts of one frame.
#[derive(Clone, Copy)]
pub struct Values<'a> {
    pub frame: &'a SnapshotFrame,
    pub side: &'a SideValues,
}

impl<'a> Values<'a> {
    pub fn new(frame: &'a SnapshotFrame, side: &'a SideValues) -> Self {
        Values { frame, side }
    }

    /// Side values win over metrics of the same name, which win over attributes.
    pub fn resolve(&self, name: &'a str) -> Resolved<'a> {
        if let Some(column) = self.side.column(name) {
            return Resolved::Side(column);
        }
        if let Some(index) = self.frame.metric_index(name) {
            return Resolved::Metric(index);
        }
        if let Some(attribute) = NUMERIC_ATTRIBUTES.iter().find(|a| **a == name) {
            return Resolved::Attribute(attribute);
        }
        Resolved::Absent
    }

    pub fn get(&self, resolved: Resolved<'_>, account: usize) -> Option<f64> {
        let value = match resolved {
            Resolved::Side(column) => column.get(account).copied().flatten(),
            Resolved::Metric(index) => self.frame.value(account, index),
            Resolved::Attribute(name) => self.frame.accounts[account]
                .attributes
                .get(name)
                .and_then(|v| v.as_number()),
            Resolved::Absent => None,
        };
        value.filter(|v| v.is_finite())
    }

    /// One value by name (resolving each time: for one account, not loops over the book).
    pub fn value(&self, name: &'a str, account: usize) -> Option<f64> {
        self.get(self.resolve(name), account)
    }

    /// Text attribute of the account row (`segment`, `industry`, `coverage_model`, …).
    pub fn text(&self, name: &str, account: usize) -> Option<&'a str> {
        self.frame.accounts[account]
            .attributes
            .get(name)
            .and_then(|v| v.as_text())
    }
}

/// Whether a settings file may name `name` as a source: a metric of the catalogue, a
/// numeric attribute, or one of the side values the analysis documents.
pub fn is_known_source(name: &str, metrics: &[MetricMeta], side_names: &[&str]) -> bool {
    side_names.contains(&name)
        || NUMERIC_ATTRIBUTES.contains(&name)
        || metrics.iter().any(|m| m.name == name)
}

/// 0–100 on a straight line from `zero` to `full`, clamped; `zero > full` means lower
/// values score higher.
pub fn ramp(value: f64, zero: f64, full: f64) -> f64 {
    if (full - zero).abs() < f64::EPSILON {
        return if value >= full { 100.0 } else { 0.0 };
    }
    (100.0 * (value - zero) / (full - zero)).clamp(0.0, 100.0)
}

/// Mid-rank percentiles (0–100) of every value among the present ones; `None` stays
/// `None`. Sorting once makes it O(n log n) for the whole book.
pub fn percentiles(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut present: Vec<f64> = values.iter().flatten().copied().collect();
    present.sort_by(f64::total_cmp);
    let n = present.len();
    values
        .iter()
        .map(|v| {
            v.map(|v| {
                let below = present.partition_point(|x| *x < v);
                let upto = present.partition_point(|x| *x <= v);
                crate::cohort::mid_rank_percentile(below, upto - below, n)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_runs_both_ways_and_clamps() {
        assert_eq!(ramp(0.5, 0.0, 1.0), 50.0);
        assert_eq!(ramp(2.0, 0.0, 1.0), 100.0);
        assert_eq!(ramp(60.0, 365.0, 60.0), 100.0);
        assert!((ramp(212.5, 365.0, 60.0) - 50.0).abs() < 1e-9);
        assert_eq!(ramp(400.0, 365.0, 60.0), 0.0);
    }

    #[test]
    fn percentiles_are_mid_rank() {
        let p = percentiles(&[Some(1.0), Some(2.0), Some(2.0), None, Some(3.0)]);
        assert_eq!(
            p,
            vec![Some(12.5), Some(50.0), Some(50.0), None, Some(87.5)]
        );
    }
}
