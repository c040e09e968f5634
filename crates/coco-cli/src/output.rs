//! Rendering listings as table, JSON or CSV. Every listing command goes through here,
//! so `--format` means the same everywhere.

use std::io::Write;

use anyhow::Result;
use clap::ValueEnum;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Prints rows of one shape. Nested values (lists, objects) are shown as JSON text in
/// table and CSV output.
pub fn print_rows<T: Serialize>(rows: &[T], format: Format) -> Result<()> {
    let values: Vec<Value> = rows
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &values)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let headers = headers(&values);
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(&headers)?;
            for value in &values {
                writer.write_record(headers.iter().map(|h| cell(value.get(h))))?;
            }
            writer.flush()?;
        }
        Format::Table => {
            if values.is_empty() {
                writeln!(out, "(none)")?;
                return Ok(());
            }
            let headers = headers(&values);
            let mut table = new_table();
            table.set_header(headers.iter().map(|h| h.as_str()));
            for value in &values {
                table.add_row(headers.iter().map(|h| cell(value.get(h))));
            }
            writeln!(out, "{table}")?;
        }
    }
    Ok(())
}

/// Prints one object: JSON as is, table/CSV as key-value pairs.
pub fn print_object<T: Serialize>(object: &T, format: Format) -> Result<()> {
    let value = serde_json::to_value(object)?;
    match format {
        Format::Json => {
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Csv | Format::Table => {
            let pairs: Vec<Value> = match &value {
                Value::Object(map) => map
                    .iter()
                    .map(|(k, v)| serde_json::json!({ "field": k, "value": cell(Some(v)) }))
                    .collect(),
                other => vec![serde_json::json!({ "field": "value", "value": cell(Some(other)) })],
            };
            print_rows(&pairs, format)?;
        }
    }
    Ok(())
}

pub fn new_table() -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_BORDERS_ONLY)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    table
}

fn headers(values: &[Value]) -> Vec<String> {
    let mut headers: Vec<String> = Vec::new();
    for value in values {
        if let Value::Object(map) = value {
            for key in map.keys() {
                if !headers.contains(key) {
                    headers.push(key.clone());
                }
            }
        }
    }
    headers
}

pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if n.is_f64() => format_number(f),
            _ => n.to_string(),
        },
        Some(other) => other.to_string(),
    }
}

/// Two decimals for money-like floats, none for whole numbers.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.2}")
    }
}

/// The serialised name of a unit enum value (`on_track`, `over_served`): what JSON shows,
/// so tables and filters use the same words.
pub fn enum_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    }
}
