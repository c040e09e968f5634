//! The facts a draft may state: each a value with where it came from (the citation a
//! footnote or hover shows).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where a fact came from: a metric or field, the date it was true on, the source row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// A metric (`seat_utilisation_30d`), a computed value (`health_score`) or a field
    /// (`contracts.arr`).
    pub source: String,
    pub as_of: Option<NaiveDate>,
    /// The table and key of the record, when the fact is one row's (`tickets T-1042`).
    pub record: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum FactValue {
    Number(f64),
    Date(NaiveDate),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    /// A dotted key templates refer to (`usage.seat_utilisation`).
    pub key: String,
    pub value: FactValue,
    pub cited: Citation,
}

/// The facts of one draft.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub items: Vec<Fact>,
}

impl Facts {
    pub fn push(&mut self, key: &str, value: FactValue, cited: Citation) {
        self.items.push(Fact {
            key: key.to_string(),
            value,
            cited,
        });
    }

    pub fn get(&self, key: &str) -> Option<&Fact> {
        self.items.iter().find(|f| f.key == key)
    }

    pub fn numbers(&self) -> impl Iterator<Item = (&Fact, f64)> {
        self.items.iter().filter_map(|f| match f.value {
            FactValue::Number(n) if n.is_finite() => Some((f, n)),
            _ => None,
        })
    }

    pub fn dates(&self) -> impl Iterator<Item = (&Fact, NaiveDate)> {
        self.items.iter().filter_map(|f| match f.value {
            FactValue::Date(d) => Some((f, d)),
            _ => None,
        })
    }
}
