//! A model's raw input: named columns of numbers or text, one row per example. Both modes
//! produce one: the store's snapshots (metrics are numbers, attributes text) and a flat
//! file (`coco model train --table`), whose column types are inferred here.

use std::collections::BTreeSet;
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::ModelError;

#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// NaN = missing.
    Numeric(Vec<f64>),
    Text(Vec<Option<String>>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Numeric(v) => v.len(),
            Values::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: Values,
}

/// Columns of equal length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: usize,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn push(&mut self, name: impl Into<String>, values: Values) -> Result<(), ModelError> {
        let name = name.into();
        if self.columns.is_empty() {
            self.rows = values.len();
        } else if values.len() != self.rows {
            return Err(ModelError::Input(format!(
                "column `{name}` has {} rows, the table {}",
                values.len(),
                self.rows
            )));
        }
        self.columns.push(Column { name, values });
        Ok(())
    }

    /// Removes and returns a column.
    pub fn take(&mut self, name: &str) -> Option<Column> {
        let index = self.columns.iter().position(|c| c.name == name)?;
        Some(self.columns.remove(index))
    }

    /// The rows at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Table {
        let columns = self
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                values: match &c.values {
                    Values::Numeric(v) => Values::Numeric(indices.iter().map(|i| v[*i]).collect()),
                    Values::Text(v) => {
                        Values::Text(indices.iter().map(|i| v[*i].clone()).collect())
                    }
                },
            })
            .collect();
        Table {
            columns,
            rows: indices.len(),
        }
    }
}

/// Text that means "no value" in exported tables.
fn is_missing(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase().as_str(),
        "" | "na" | "n/a" | "nan" | "null" | "none" | "?" | "-"
    )
}

/// A number, tolerating thousands separators, a currency sign and a percent sign
/// (`"$1,234.50"`, `"12%"` = 12).
fn parse_number(text: &str) -> Option<f64> {
    let cleaned: String = text
        .trim()
        .trim_start_matches(['$', '€', '£', '¥'])
        .trim_end_matches('%')
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    let value: f64 = cleaned.parse().ok()?;
    value.is_finite().then_some(value)
}

/// Reads a delimited text file (delimiter sniffed from the header: comma, semicolon, tab
/// or pipe). A column is numeric when every non-missing value parses as a number (a
/// column of only `0`/`1`, `true`/`false` or `yes`/`no` too), text otherwise.
/// Errors name the line.
pub fn read_delimited(reader: impl Read, origin: &str) -> Result<Table, ModelError> {
    let mut text = String::new();
    let mut reader = reader;
    reader
        .read_to_string(&mut text)
        .map_err(|e| ModelError::Input(format!("{origin}: cannot read: {e}")))?;
    let header_line = text.lines().next().unwrap_or_default();
    let delimiter = [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| header_line.bytes().filter(|b| b == d).count())
        .unwrap_or(b',');
    let mut csv_reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = csv_reader
        .headers()
        .map_err(|e| ModelError::Input(format!("{origin}: header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(ModelError::Input(format!(
            "{origin}: the file has no header row"
        )));
    }
    let mut seen = BTreeSet::new();
    for name in &headers {
        if !seen.insert(name.as_str()) {
            return Err(ModelError::Input(format!(
                "{origin}: line 1: column `{name}` appears twice"
            )));
        }
    }
    let mut raw: Vec<Vec<Option<String>>> = vec![Vec::new(); headers.len()];
    for (index, record) in csv_reader.records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(index as u64 + 2, csv::Position::line);
            ModelError::Input(format!("{origin}: line {line}: {e}"))
        })?;
        if record.len() != headers.len() {
            let line = record
                .position()
                .map_or(index as u64 + 2, csv::Position::line);
            return Err(ModelError::Input(format!(
                "{origin}: line {line}: {} fields, the header has {}",
                record.len(),
                headers.len()
            )));
        }
        for (column, field) in raw.iter_mut().zip(record.iter()) {
            column.push((!is_missing(field)).then(|| field.to_string()));
        }
    }
    let mut table = Table::default();
    for (name, values) in headers.into_iter().zip(raw) {
        table.push(name, infer(values))?;
    }
    Ok(table)
}

fn boolean_value(text: &str) -> Option<f64> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "t" => Some(1.0),
        "false" | "no" | "n" | "f" => Some(0.0),
        _ => None,
    }
}

fn infer(values: Vec<Option<String>>) -> Values {
    let present: Vec<&str> = values.iter().flatten().map(String::as_str).collect();
    if present.is_empty() {
        return Values::Numeric(vec![f64::NAN; values.len()]);
    }
    if present.iter().all(|v| parse_number(v).is_some()) {
        return Values::Numeric(
            values
                .iter()
                .map(|v| v.as_deref().and_then(parse_number).unwrap_or(f64::NAN))
                .collect(),
        );
    }
    if present.iter().all(|v| boolean_value(v).is_some()) {
        return Values::Numeric(
            values
                .iter()
                .map(|v| v.as_deref().and_then(boolean_value).unwrap_or(f64::NAN))
                .collect(),
        );
    }
    Values::Text(values)
}

/// How a label column's values map to "churned".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelCoding {
    /// The value read as the event (churned).
    pub positive: String,
    pub negative: String,
}

/// Values that name the event, in the order they are tried.
const POSITIVE_WORDS: &[&str] = &[
    "1",
    "true",
    "yes",
    "y",
    "t",
    "churn",
    "churned",
    "exited",
    "lost",
    "cancelled",
    "canceled",
    "left",
    "positive",
];

/// Turns a label column into booleans. It must have exactly two distinct values; the
/// event is the one in [`POSITIVE_WORDS`] (1, true, yes, churned, …). Rows with a missing
/// label are reported by line (row + 2, after the header).
pub fn labels_from(column: &Column, origin: &str) -> Result<(Vec<bool>, LabelCoding), ModelError> {
    let texts: Vec<Option<String>> = match &column.values {
        Values::Numeric(v) => v
            .iter()
            .map(|x| (!x.is_nan()).then(|| format_label_number(*x)))
            .collect(),
        Values::Text(v) => v.clone(),
    };
    if let Some(row) = texts.iter().position(Option::is_none) {
        return Err(ModelError::Input(format!(
            "{origin}: line {}: field `{}`: the label is missing",
            row + 2,
            column.name
        )));
    }
    let distinct: BTreeSet<&str> = texts.iter().flatten().map(String::as_str).collect();
    if distinct.len() != 2 {
        let shown: Vec<&str> = distinct.iter().take(6).copied().collect();
        return Err(ModelError::Input(format!(
            "{origin}: field `{}`: a label needs exactly two values, found {} ({})",
            column.name,
            distinct.len(),
            shown.join(", ")
        )));
    }
    let values: Vec<&str> = distinct.into_iter().collect();
    let positive_index = POSITIVE_WORDS
        .iter()
        .find_map(|word| values.iter().position(|v| v.eq_ignore_ascii_case(word)))
        .ok_or_else(|| {
            ModelError::Input(format!(
                "{origin}: field `{}`: cannot tell which of `{}` and `{}` means churned; use 1/0, true/false or yes/no",
                column.name, values[0], values[1]
            ))
        })?;
    let positive = values[positive_index].to_string();
    let negative = values[1 - positive_index].to_string();
    let labels = texts
        .iter()
        .map(|t| t.as_deref() == Some(positive.as_str()))
        .collect();
    Ok((labels, LabelCoding { positive, negative }))
}

fn format_label_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

/// The row identifiers of an id column as text.
pub fn ids_from(column: &Column) -> Vec<String> {
    match &column.values {
        Values::Numeric(v) => v
            .iter()
            .map(|x| {
                if x.is_nan() {
                    String::new()
                } else {
                    format_label_number(*x)
                }
            })
            .collect(),
        Values::Text(v) => v.iter().map(|t| t.clone().unwrap_or_default()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_inferred_and_missing_values_recognised() {
        let csv = "customerID,tenure,Partner,TotalCharges,Contract,Churn\n\
                   a1,1,Yes,29.85,Month-to-month,No\n\
                   a2,34,No, ,One year,No\n\
                   a3,2,No,\"1,108.15\",Month-to-month,Yes\n";
        let table = read_delimited(csv.as_bytes(), "t.csv").unwrap_or_default();
        assert_eq!(table.rows, 3);
        let total = table.column("TotalCharges").map(|c| c.values.clone());
        let Some(Values::Numeric(total)) = total else {
            panic!("numeric expected")
        };
        assert!(total[1].is_nan());
        assert!((total[2] - 1108.15).abs() < 1e-9);
        assert!(matches!(
            table.column("Partner").map(|c| &c.values),
            Some(Values::Numeric(_))
        ));
        assert!(matches!(
            table.column("Contract").map(|c| &c.values),
            Some(Values::Text(_))
        ));
        let churn = table.column("Churn").cloned();
        let (labels, coding) = labels_from(&churn.unwrap_or_else(|| panic!("churn")), "t.csv")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(labels, vec![false, false, true]);
        assert_eq!(coding.positive, "1");
    }

    #[test]
    fn bad_rows_and_labels_name_the_line_and_field() {
        let csv = "id;x;label\n1;2;yes\n2;3\n";
        let err = read_delimited(csv.as_bytes(), "f.csv")
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("f.csv: line 3")),
            "{err:?}"
        );
        let csv = "id,x,label\n1,2,yes\n2,3,\n";
        let table = read_delimited(csv.as_bytes(), "f.csv").unwrap_or_default();
        let label = table
            .column("label")
            .cloned()
            .unwrap_or_else(|| panic!("label"));
        let err = labels_from(&label, "f.csv").err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("line 3") && e.contains("`label`")),
            "{err:?}"
        );
    }
}
