//! From a raw [`Table`] to the numbers a learner sees, learned on the training rows only
//! (so no statistic of the test rows leaks into training).
//!
//! - Numbers: missing values are imputed with the training median and flagged by an
//!   indicator column when the training rows had any; fat-tailed non-negative counts are
//!   log-scaled (`ln(1 + x)`); then standardised to mean 0, sd 1. Trees see the raw
//!   number with NaN for missing (the booster learns where missing values go) — scaling
//!   changes nothing for a tree.
//! - Text: one indicator per level seen at least `min_level_count` times in training (at
//!   most `max_levels`, most frequent first); other and missing values are all zeros.
//! - Optionally (linear model), standardised numbers whose |correlation| exceeds a
//!   threshold are averaged into one group column, so the interpretable model does not
//!   split one signal across near-copies with opposite signs.
//!
//! Every encoded column remembers its input, so contributions add back up to the raw
//! column a person recognises ("segment", not "segment = smb").

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::table::{Table, Values};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderOptions {
    pub min_level_count: usize,
    pub max_levels: usize,
    /// Skewness above which a non-negative column is log-scaled.
    pub log_skew_threshold: f64,
    /// Group standardised numbers with |r| at or above this (linear model only); 0 = off.
    pub group_correlated_above: f64,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            min_level_count: 10,
            max_levels: 30,
            log_skew_threshold: 2.0,
            group_correlated_above: 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InputKind {
    Numeric {
        median: f64,
        log_scale: bool,
        /// Mean and sd of the (log-scaled, imputed) training values.
        mean: f64,
        sd: f64,
        missing_indicator: bool,
        /// Share of training rows where it was missing.
        missing_share: f64,
    },
    Text {
        levels: Vec<String>,
    },
}

/// One raw input column and how it is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    pub name: String,
    pub kind: InputKind,
}

/// An encoded column: which input it comes from and what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedColumn {
    pub name: String,
    pub input: usize,
}

/// A group of standardised numeric columns averaged into one (signs aligned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnGroup {
    pub members: Vec<(usize, f64)>,
}

/// Row-major numbers: `rows × columns`, NaN = missing (trees only).
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub columns: usize,
    pub values: Vec<f64>,
}

impl Matrix {
    pub fn row(&self, index: usize) -> &[f64] {
        &self.values[index * self.columns..(index + 1) * self.columns]
    }

    /// Column-major copy (the layout the booster reads).
    pub fn column_major(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.values.len()];
        for r in 0..self.rows {
            for c in 0..self.columns {
                out[c * self.rows + r] = self.values[r * self.columns + c];
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoder {
    pub inputs: Vec<Input>,
    /// Columns the linear model sees (standardised, imputed, indicators).
    pub linear_columns: Vec<EncodedColumn>,
    /// Groups over `linear_columns` (empty = none); when present the linear model sees
    /// one column per group instead.
    pub groups: Vec<ColumnGroup>,
    /// Columns the trees see (raw numbers, text indicators).
    pub tree_columns: Vec<EncodedColumn>,
}

fn skewness(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    if n < 3.0 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n;
    let m2 = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let m3 = values.iter().map(|v| (v - mean).powi(3)).sum::<f64>() / n;
    if m2 <= 0.0 { 0.0 } else { m3 / m2.powf(1.5) }
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

impl Encoder {
    /// Learns the encoding from training rows. Columns with a single value everywhere
    /// carry no information and are left out.
    pub fn fit(table: &Table, options: &EncoderOptions) -> Result<Encoder, ModelError> {
        let mut inputs = Vec::new();
        for column in &table.columns {
            match &column.values {
                Values::Numeric(values) => {
                    let mut present: Vec<f64> =
                        values.iter().copied().filter(|v| !v.is_nan()).collect();
                    let missing = values.len() - present.len();
                    if present.is_empty() {
                        continue;
                    }
                    let min = present.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    if min == max && missing == 0 {
                        continue;
                    }
                    let log_scale = min >= 0.0 && skewness(&present) > options.log_skew_threshold;
                    let med = median(&mut present);
                    let transformed: Vec<f64> = values
                        .iter()
                        .map(|v| {
                            let v = if v.is_nan() { med } else { *v };
                            if log_scale { v.ln_1p() } else { v }
                        })
                        .collect();
                    let n = transformed.len() as f64;
                    let mean = transformed.iter().sum::<f64>() / n;
                    let sd =
                        (transformed.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                    inputs.push(Input {
                        name: column.name.clone(),
                        kind: InputKind::Numeric {
                            median: med,
                            log_scale,
                            mean,
                            sd: if sd > 0.0 { sd } else { 1.0 },
                            missing_indicator: missing > 0,
                            missing_share: missing as f64 / n,
                        },
                    });
                }
                Values::Text(values) => {
                    let mut counts: HashMap<&str, usize> = HashMap::new();
                    for value in values.iter().flatten() {
                        *counts.entry(value.as_str()).or_default() += 1;
                    }
                    let mut levels: Vec<(&str, usize)> = counts
                        .into_iter()
                        .filter(|(_, n)| *n >= options.min_level_count.max(1))
                        .collect();
                    levels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                    levels.truncate(options.max_levels);
                    // A level covering every row says nothing.
                    if levels.is_empty() || (levels.len() == 1 && levels[0].1 == values.len()) {
                        continue;
                    }
                    inputs.push(Input {
                        name: column.name.clone(),
                        kind: InputKind::Text {
                            levels: levels.into_iter().map(|(l, _)| l.to_string()).collect(),
                        },
                    });
                }
            }
        }
        if inputs.is_empty() {
            return Err(ModelError::Input(
                "no usable feature: every column is empty or constant".into(),
            ));
        }
        let mut linear_columns = Vec::new();
        let mut tree_columns = Vec::new();
        for (index, input) in inputs.iter().enumerate() {
            match &input.kind {
                InputKind::Numeric {
                    missing_indicator, ..
                } => {
                    linear_columns.push(EncodedColumn {
                        name: input.name.clone(),
                        input: index,
                    });
                    if *missing_indicator {
                        linear_columns.push(EncodedColumn {
                            name: format!("{} (missing)", input.name),
                            input: index,
                        });
                    }
                    tree_columns.push(EncodedColumn {
                        name: input.name.clone(),
                        input: index,
                    });
                }
                InputKind::Text { levels } => {
                    for level in levels {
                        let column = EncodedColumn {
                            name: format!("{} = {level}", input.name),
                            input: index,
                        };
                        linear_columns.push(column.clone());
                        tree_columns.push(column);
                    }
                }
            }
        }
        let mut encoder = Encoder {
            inputs,
            linear_columns,
            groups: Vec::new(),
            tree_columns,
        };
        if options.group_correlated_above > 0.0 {
            let ungrouped = encoder.linear_ungrouped(table)?;
            encoder.groups =
                correlated_groups(&encoder, &ungrouped, options.group_correlated_above);
        }
        Ok(encoder)
    }

    fn input_values<'t>(&self, table: &'t Table, input: &Input) -> Result<&'t Values, ModelError> {
        table.column(&input.name).map(|c| &c.values).ok_or_else(|| {
            ModelError::Input(format!(
                "the table has no column `{}` the model needs",
                input.name
            ))
        })
    }

    /// Linear columns before grouping.
    fn linear_ungrouped(&self, table: &Table) -> Result<Matrix, ModelError> {
        let columns = self.linear_columns.len();
        let mut values = vec![0.0; table.rows * columns];
        let mut column = 0;
        for input in &self.inputs {
            let raw = self.input_values(table, input)?;
            match (&input.kind, raw) {
                (
                    InputKind::Numeric {
                        median,
                        log_scale,
                        mean,
                        sd,
                        missing_indicator,
                        ..
                    },
                    Values::Numeric(v),
                ) => {
                    for (row, x) in v.iter().enumerate() {
                        let filled = if x.is_nan() { *median } else { *x };
                        let scaled = if *log_scale {
                            filled.max(0.0).ln_1p()
                        } else {
                            filled
                        };
                        values[row * columns + column] = (scaled - mean) / sd;
                        if *missing_indicator {
                            values[row * columns + column + 1] = f64::from(u8::from(x.is_nan()));
                        }
                    }
                    column += 1 + usize::from(*missing_indicator);
                }
                (InputKind::Text { levels }, raw) => {
                    set_levels(raw, levels, &mut values, columns, column);
                    column += levels.len();
                }
                (InputKind::Numeric { .. }, Values::Text(_)) => {
                    return Err(text_for_numbers(&input.name));
                }
            }
        }
        Ok(Matrix {
            rows: table.rows,
            columns,
            values,
        })
    }

    /// Names of the columns the linear model's coefficients refer to.
    pub fn linear_names(&self) -> Vec<String> {
        if self.groups.is_empty() {
            return self.linear_columns.iter().map(|c| c.name.clone()).collect();
        }
        self.groups
            .iter()
            .map(|g| {
                let names: Vec<&str> = g
                    .members
                    .iter()
                    .map(|(c, _)| self.linear_columns[*c].name.as_str())
                    .collect();
                names.join(" + ")
            })
            .collect()
    }

    /// For each linear-model column, the inputs it draws on (one, or a group's).
    pub fn linear_inputs(&self) -> Vec<Vec<usize>> {
        if self.groups.is_empty() {
            return self.linear_columns.iter().map(|c| vec![c.input]).collect();
        }
        self.groups
            .iter()
            .map(|g| {
                let mut inputs: Vec<usize> = g
                    .members
                    .iter()
                    .map(|(c, _)| self.linear_columns[*c].input)
                    .collect();
                inputs.dedup();
                inputs
            })
            .collect()
    }

    /// The matrix the linear model sees.
    pub fn linear(&self, table: &Table) -> Result<Matrix, ModelError> {
        let ungrouped = self.linear_ungrouped(table)?;
        if self.groups.is_empty() {
            return Ok(ungrouped);
        }
        let columns = self.groups.len();
        let mut values = vec![0.0; ungrouped.rows * columns];
        for row in 0..ungrouped.rows {
            let source = ungrouped.row(row);
            for (g, group) in self.groups.iter().enumerate() {
                let sum: f64 = group
                    .members
                    .iter()
                    .map(|(c, sign)| sign * source[*c])
                    .sum();
                values[row * columns + g] = sum / group.members.len() as f64;
            }
        }
        Ok(Matrix {
            rows: ungrouped.rows,
            columns,
            values,
        })
    }

    /// The matrix the trees see.
    pub fn trees(&self, table: &Table) -> Result<Matrix, ModelError> {
        let columns = self.tree_columns.len();
        let mut values = vec![0.0; table.rows * columns];
        let mut column = 0;
        for input in &self.inputs {
            let raw = self.input_values(table, input)?;
            match (&input.kind, raw) {
                (InputKind::Numeric { .. }, Values::Numeric(v)) => {
                    for (row, x) in v.iter().enumerate() {
                        values[row * columns + column] = *x;
                    }
                    column += 1;
                }
                (InputKind::Text { levels }, raw) => {
                    set_levels(raw, levels, &mut values, columns, column);
                    column += levels.len();
                }
                (InputKind::Numeric { .. }, Values::Text(_)) => {
                    return Err(text_for_numbers(&input.name));
                }
            }
        }
        Ok(Matrix {
            rows: table.rows,
            columns,
            values,
        })
    }
}

fn text_for_numbers(name: &str) -> ModelError {
    ModelError::Input(format!(
        "column `{name}` holds text where the model was trained on numbers"
    ))
}

/// Sets the one-hot indicator of each row's level (rows with another or no value stay
/// all zeros). A text column whose new values all look numeric ("1", "2") is compared
/// as text.
fn set_levels(raw: &Values, levels: &[String], values: &mut [f64], columns: usize, column: usize) {
    let level_of = |text: &str| levels.iter().position(|l| l == text);
    match raw {
        Values::Text(v) => {
            for (row, x) in v.iter().enumerate() {
                if let Some(level) = x.as_deref().and_then(level_of) {
                    values[row * columns + column + level] = 1.0;
                }
            }
        }
        Values::Numeric(v) => {
            for (row, x) in v.iter().enumerate() {
                let text = if x.fract() == 0.0 {
                    format!("{}", *x as i64)
                } else {
                    x.to_string()
                };
                if let Some(level) = level_of(&text) {
                    values[row * columns + column + level] = 1.0;
                }
            }
        }
    }
}

/// Greedy grouping: each numeric linear column not yet grouped starts a group and takes
/// every later numeric column correlated at |r| ≥ threshold with it (sign aligned).
/// Indicator columns stay alone.
fn correlated_groups(encoder: &Encoder, matrix: &Matrix, threshold: f64) -> Vec<ColumnGroup> {
    let is_number: Vec<bool> = encoder
        .linear_columns
        .iter()
        .map(|c| {
            matches!(encoder.inputs[c.input].kind, InputKind::Numeric { .. })
                && !c.name.ends_with(" (missing)")
        })
        .collect();
    let n = matrix.rows as f64;
    let column = |c: usize| (0..matrix.rows).map(move |r| matrix.values[r * matrix.columns + c]);
    let sd: Vec<f64> = (0..matrix.columns)
        .map(|c| {
            let mean = column(c).sum::<f64>() / n;
            (column(c).map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt()
        })
        .collect();
    let correlation = |a: usize, b: usize| {
        if sd[a] == 0.0 || sd[b] == 0.0 {
            return 0.0;
        }
        let mean_a = column(a).sum::<f64>() / n;
        let mean_b = column(b).sum::<f64>() / n;
        column(a)
            .zip(column(b))
            .map(|(x, y)| (x - mean_a) * (y - mean_b))
            .sum::<f64>()
            / n
            / sd[a]
            / sd[b]
    };
    let mut grouped = vec![false; matrix.columns];
    let mut groups = Vec::new();
    for first in 0..matrix.columns {
        if grouped[first] {
            continue;
        }
        grouped[first] = true;
        let mut members = vec![(first, 1.0)];
        if is_number[first] {
            for other in first + 1..matrix.columns {
                if grouped[other] || !is_number[other] {
                    continue;
                }
                let r = correlation(first, other);
                if r.abs() >= threshold {
                    grouped[other] = true;
                    members.push((other, r.signum()));
                }
            }
        }
        groups.push(ColumnGroup { members });
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut t = Table::default();
        let counts: Vec<f64> = (0..100)
            .map(|i| {
                if i % 10 == 0 {
                    1000.0
                } else {
                    f64::from(i % 3)
                }
            })
            .collect();
        t.push("events", Values::Numeric(counts)).ok();
        let mut with_missing: Vec<f64> = (0..100).map(f64::from).collect();
        with_missing[5] = f64::NAN;
        t.push("tenure", Values::Numeric(with_missing)).ok();
        t.push("constant", Values::Numeric(vec![3.0; 100])).ok();
        let text = (0..100)
            .map(|i| {
                Some(if i % 2 == 0 {
                    "smb".to_string()
                } else {
                    "ent".to_string()
                })
            })
            .collect();
        t.push("segment", Values::Text(text)).ok();
        t
    }

    #[test]
    fn fat_tails_are_logged_missing_imputed_and_flagged_constants_dropped() {
        let encoder =
            Encoder::fit(&table(), &EncoderOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = encoder
            .linear_columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "events",
                "tenure",
                "tenure (missing)",
                "segment = ent",
                "segment = smb"
            ]
        );
        assert!(matches!(
            encoder.inputs[0].kind,
            InputKind::Numeric {
                log_scale: true,
                ..
            }
        ));
        assert!(matches!(
            encoder.inputs[1].kind,
            InputKind::Numeric {
                log_scale: false,
                ..
            }
        ));
        let m = encoder.linear(&table()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.row(5)[2], 1.0);
        // Standardised: mean 0 over the training rows.
        let mean: f64 = (0..100).map(|r| m.row(r)[1]).sum::<f64>() / 100.0;
        assert!(mean.abs() < 1e-9);
        let trees = encoder.trees(&table()).unwrap_or_else(|e| panic!("{e}"));
        assert!(trees.row(5)[1].is_nan());
    }

    #[test]
    fn correlated_columns_are_grouped_with_signs() {
        let mut t = Table::default();
        let a: Vec<f64> = (0..50).map(f64::from).collect();
        let b: Vec<f64> = a.iter().map(|x| -2.0 * x + 1.0).collect();
        let c: Vec<f64> = (0..50).map(|i| f64::from((i * 7) % 11)).collect();
        t.push("a", Values::Numeric(a)).ok();
        t.push("b", Values::Numeric(b)).ok();
        t.push("c", Values::Numeric(c)).ok();
        let options = EncoderOptions {
            group_correlated_above: 0.9,
            ..EncoderOptions::default()
        };
        let encoder = Encoder::fit(&t, &options).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(encoder.linear_names(), ["a + b", "c"]);
        assert_eq!(encoder.groups[0].members, vec![(0, 1.0), (1, -1.0)]);
    }
}
