//! The tables a metric can count over, the column that dates their rows, and the
//! columns a filter may name. Columns and allowed values come from the data contract,
//! so a filter on a misspelt column or value fails when the catalogue is loaded, not as
//! a silent zero.

use coco_core::{ColumnType, Entity, contract};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Product usage: raw `usage_events` plus `usage_daily` aggregates.
    Usage,
    Tickets,
    /// Touchpoints, with the touched contact's role as `contact_role`.
    Touchpoints,
    Surveys,
    Feedback,
    BillingEvents,
    Outcomes,
    /// Contacts dated by when they took their role (`start_date`).
    Contacts,
    /// Contacts dated by when they left (`end_date`).
    ContactDepartures,
    /// Milestones dated by completion (`completed_date`).
    Milestones,
}

pub const SOURCES: &[Source] = &[
    Source::Usage,
    Source::Tickets,
    Source::Touchpoints,
    Source::Surveys,
    Source::Feedback,
    Source::BillingEvents,
    Source::Outcomes,
    Source::Contacts,
    Source::ContactDepartures,
    Source::Milestones,
];

/// A value a filter accepts, checked against the column's type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FilterValue {
    Text(String),
    Bool(bool),
    Number(f64),
}

impl FilterValue {
    /// The value as a SQL literal (text quoted with `'` doubled).
    pub fn sql_literal(&self) -> String {
        match self {
            FilterValue::Text(text) => format!("'{}'", text.replace('\'', "''")),
            FilterValue::Bool(value) => value.to_string(),
            FilterValue::Number(value) => format!("{value}"),
        }
    }
}

impl std::str::FromStr for Source {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        SOURCES
            .iter()
            .copied()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = SOURCES.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown source `{text}` (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

impl Source {
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Usage => "usage",
            Source::Tickets => "tickets",
            Source::Touchpoints => "touchpoints",
            Source::Surveys => "surveys",
            Source::Feedback => "feedback",
            Source::BillingEvents => "billing_events",
            Source::Outcomes => "outcomes",
            Source::Contacts => "contacts",
            Source::ContactDepartures => "contact_departures",
            Source::Milestones => "milestones",
        }
    }

    /// The contract entity whose columns the source exposes.
    pub fn entity(&self) -> &'static Entity {
        match self {
            Source::Usage => &contract::USAGE_EVENTS,
            Source::Tickets => &contract::TICKETS,
            Source::Touchpoints => &contract::TOUCHPOINTS,
            Source::Surveys => &contract::SURVEYS,
            Source::Feedback => &contract::FEEDBACK,
            Source::BillingEvents => &contract::BILLING_EVENTS,
            Source::Outcomes => &contract::OUTCOMES,
            Source::Contacts | Source::ContactDepartures => &contract::CONTACTS,
            Source::Milestones => &contract::MILESTONES,
        }
    }

    /// The column that places a row in time, and whether it is a DATE (else TIMESTAMP).
    pub fn time_column(&self) -> (&'static str, bool) {
        match self {
            Source::Usage => ("occurred_at", false),
            Source::Tickets => ("opened_at", false),
            Source::Touchpoints => ("occurred_at", false),
            Source::Surveys => ("responded_at", false),
            Source::Feedback => ("submitted_at", false),
            Source::BillingEvents => ("occurred_on", true),
            Source::Outcomes => ("decided_on", true),
            Source::Contacts => ("start_date", true),
            Source::ContactDepartures => ("end_date", true),
            Source::Milestones => ("completed_date", true),
        }
    }

    /// Columns joined in from another table: (name, type, description).
    fn extra_columns(&self) -> &'static [(&'static str, ColumnType)] {
        match self {
            // The module of the used feature (from `features`).
            Source::Usage => &[("module", ColumnType::Text)],
            // The role of the contact the touchpoint was with (from `contacts`).
            Source::Touchpoints => &[("contact_role", ColumnType::Enum(contract::CONTACT_ROLES))],
            _ => &[],
        }
    }

    pub fn columns(&self) -> Vec<&'static str> {
        self.entity()
            .columns
            .iter()
            .map(|c| c.name)
            .chain(self.extra_columns().iter().map(|(name, _)| *name))
            .collect()
    }

    pub fn column_type(&self, column: &str) -> Option<ColumnType> {
        self.entity().column(column).map(|c| c.ty).or_else(|| {
            self.extra_columns()
                .iter()
                .find(|(name, _)| *name == column)
                .map(|(_, ty)| *ty)
        })
    }

    /// Checks a filter's values against the column's type and allowed values.
    pub fn check_filter(
        &self,
        column: &str,
        values: &[toml::Value],
    ) -> Result<Vec<FilterValue>, String> {
        let ty = self.column_type(column).ok_or_else(|| {
            format!(
                "{} has no column `{column}` (it has: {})",
                self.as_str(),
                self.columns().join(", ")
            )
        })?;
        if values.is_empty() {
            return Err("give at least one value".into());
        }
        values
            .iter()
            .map(|value| match (ty, value) {
                (ColumnType::Enum(allowed), toml::Value::String(text)) => {
                    if allowed.contains(&text.as_str()) {
                        Ok(FilterValue::Text(text.clone()))
                    } else {
                        Err(format!(
                            "`{text}` is not a value of `{column}` (expected one of: {})",
                            allowed.join(", ")
                        ))
                    }
                }
                (ColumnType::Text, toml::Value::String(text)) => {
                    Ok(FilterValue::Text(text.clone()))
                }
                (ColumnType::Boolean, toml::Value::Boolean(flag)) => Ok(FilterValue::Bool(*flag)),
                (ColumnType::Integer | ColumnType::Number, toml::Value::Integer(n)) => {
                    Ok(FilterValue::Number(*n as f64))
                }
                (ColumnType::Integer | ColumnType::Number, toml::Value::Float(n)) => {
                    Ok(FilterValue::Number(*n))
                }
                (ty, other) => Err(format!(
                    "`{other}` does not fit column `{column}` ({})",
                    ty.describe()
                )),
            })
            .collect()
    }
}
