//! The analyzers' input: one point-in-time snapshot of every account's metric values and
//! descriptive attributes. The caller (the engine) builds it from the store; nothing in
//! this crate knows where it came from.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use coco_core::Category;
use serde::{Deserialize, Serialize};

/// Whether more of a metric is good, bad or neither (from the metric catalogue).
pub use coco_core::Direction;

/// What the metric catalogue says about one metric column of a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricMeta {
    pub name: String,
    pub description: String,
    pub unit: String,
    pub category: Category,
    pub direction: Direction,
}

/// A descriptive attribute of an account (segment, employee count, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttrValue {
    Text(String),
    Number(f64),
}

impl AttrValue {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AttrValue::Text(text) => Some(text),
            AttrValue::Number(_) => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            AttrValue::Number(number) => Some(*number),
            AttrValue::Text(_) => None,
        }
    }
}

/// One account of a snapshot. A missing attribute is simply absent from `attributes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountRow {
    pub account_id: String,
    pub attributes: BTreeMap<String, AttrValue>,
}

impl AccountRow {
    pub fn new(account_id: impl Into<String>) -> Self {
        AccountRow {
            account_id: account_id.into(),
            attributes: BTreeMap::new(),
        }
    }

    /// Builder: adds a text attribute.
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.attributes
            .insert(name.to_owned(), AttrValue::Text(value.to_owned()));
        self
    }

    /// Builder: adds a number attribute.
    pub fn number(mut self, name: &str, value: f64) -> Self {
        self.attributes
            .insert(name.to_owned(), AttrValue::Number(value));
        self
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameError {
    #[error(
        "snapshot values: expected {expected} ({accounts} accounts × {metrics} metrics), got {actual}"
    )]
    ValuesLength {
        accounts: usize,
        metrics: usize,
        expected: usize,
        actual: usize,
    },
    #[error("snapshot: account `{0}` appears more than once")]
    DuplicateAccount(String),
    #[error("snapshot: metric `{0}` appears more than once")]
    DuplicateMetric(String),
}

/// One point-in-time snapshot: every account's metric values as of one date.
///
/// Build it with [`SnapshotFrame::new`], which checks the shape and indexes accounts and
/// metrics by name; treat the fields as read-only afterwards (the indexes are not
/// rebuilt if they are changed).
#[derive(Debug, Clone)]
pub struct SnapshotFrame {
    pub as_of: NaiveDate,
    pub metrics: Vec<MetricMeta>,
    pub accounts: Vec<AccountRow>,
    /// Row-major: `values[account_index * metrics.len() + metric_index]`; NaN = missing
    /// (the metric could not be computed, e.g. no survey ever answered).
    pub values: Vec<f64>,
    metric_index: HashMap<String, usize>,
    account_index: HashMap<String, usize>,
}

impl SnapshotFrame {
    pub fn new(
        as_of: NaiveDate,
        metrics: Vec<MetricMeta>,
        accounts: Vec<AccountRow>,
        values: Vec<f64>,
    ) -> Result<Self, FrameError> {
        let expected = accounts.len() * metrics.len();
        if values.len() != expected {
            return Err(FrameError::ValuesLength {
                accounts: accounts.len(),
                metrics: metrics.len(),
                expected,
                actual: values.len(),
            });
        }
        let mut metric_index = HashMap::with_capacity(metrics.len());
        for (index, metric) in metrics.iter().enumerate() {
            if metric_index.insert(metric.name.clone(), index).is_some() {
                return Err(FrameError::DuplicateMetric(metric.name.clone()));
            }
        }
        let mut account_index = HashMap::with_capacity(accounts.len());
        for (index, account) in accounts.iter().enumerate() {
            if account_index
                .insert(account.account_id.clone(), index)
                .is_some()
            {
                return Err(FrameError::DuplicateAccount(account.account_id.clone()));
            }
        }
        Ok(SnapshotFrame {
            as_of,
            metrics,
            accounts,
            values,
            metric_index,
            account_index,
        })
    }

    /// The value of one metric for one account; `None` when it is missing. Infinite values
    /// (a ratio over zero that slipped through) count as missing too: no score or
    /// benchmark can use them.
    pub fn value(&self, account: usize, metric: usize) -> Option<f64> {
        if metric >= self.metrics.len() {
            return None;
        }
        self.values
            .get(account * self.metrics.len() + metric)
            .copied()
            .filter(|value| value.is_finite())
    }

    pub fn metric_index(&self, name: &str) -> Option<usize> {
        self.metric_index.get(name).copied()
    }

    pub fn account_index(&self, account_id: &str) -> Option<usize> {
        self.account_index.get(account_id).copied()
    }

    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }
}

/// Earlier snapshots' values of a few metrics, aligned with the frame's accounts:
/// `values[metric][snapshot][account]`, NaN = missing. Dates ascending, all before the
/// frame's as-of date.
#[derive(Debug, Clone, Default)]
pub struct MetricHistory {
    pub dates: Vec<NaiveDate>,
    pub metrics: Vec<String>,
    pub values: Vec<Vec<Vec<f64>>>,
}

impl MetricHistory {
    /// The account's (date, value) points of a metric, oldest first, missing skipped.
    pub fn series(&self, metric: &str, account: usize) -> Vec<(NaiveDate, f64)> {
        let Some(m) = self.metrics.iter().position(|name| name == metric) else {
            return Vec::new();
        };
        self.dates
            .iter()
            .zip(&self.values[m])
            .filter_map(|(date, row)| {
                row.get(account)
                    .copied()
                    .filter(|v| v.is_finite())
                    .map(|v| (*date, v))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str) -> MetricMeta {
        MetricMeta {
            name: name.into(),
            description: String::new(),
            unit: String::new(),
            category: Category::ProductUsage,
            direction: Direction::HigherIsBetter,
        }
    }

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default()
    }

    #[test]
    fn values_length_is_checked() {
        let err = SnapshotFrame::new(
            date(),
            vec![meta("a"), meta("b")],
            vec![AccountRow::new("x")],
            vec![1.0],
        )
        .unwrap_err();
        assert!(err.to_string().contains("expected 2"), "{err}");
    }

    #[test]
    fn duplicates_are_rejected() {
        let err = SnapshotFrame::new(
            date(),
            vec![meta("a")],
            vec![AccountRow::new("x"), AccountRow::new("x")],
            vec![1.0, 2.0],
        )
        .unwrap_err();
        assert_eq!(err, FrameError::DuplicateAccount("x".into()));
        let err =
            SnapshotFrame::new(date(), vec![meta("a"), meta("a")], vec![], vec![]).unwrap_err();
        assert_eq!(err, FrameError::DuplicateMetric("a".into()));
    }

    #[test]
    fn lookups_and_missing_values() {
        let frame = SnapshotFrame::new(
            date(),
            vec![meta("a"), meta("b")],
            vec![AccountRow::new("x"), AccountRow::new("y")],
            vec![1.0, f64::NAN, f64::INFINITY, 4.0],
        )
        .unwrap();
        assert_eq!(frame.account_index("y"), Some(1));
        assert_eq!(frame.metric_index("b"), Some(1));
        assert_eq!(frame.metric_index("c"), None);
        assert_eq!(frame.value(0, 0), Some(1.0));
        assert_eq!(frame.value(0, 1), None);
        assert_eq!(frame.value(1, 0), None);
        assert_eq!(frame.value(1, 1), Some(4.0));
        assert_eq!(frame.value(0, 2), None);
        assert_eq!(frame.value(2, 0), None);
    }
}
