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

impl Facts {
    pub fn number(&mut self, key: &str, value: f64, cited: Citation) {
        self.push(key, FactValue::Number(value), cited);
    }

    pub fn date(&mut self, key: &str, value: NaiveDate, cited: Citation) {
        self.push(key, FactValue::Date(value), cited);
    }

    pub fn text(&mut self, key: &str, value: impl Into<String>, cited: Citation) {
        self.push(key, FactValue::Text(value.into()), cited);
    }

    pub fn texts(&self) -> impl Iterator<Item = (&Fact, &str)> {
        self.items.iter().filter_map(|f| match &f.value {
            FactValue::Text(t) => Some((f, t.as_str())),
            _ => None,
        })
    }

    /// The facts as the nested object templates see: `usage.seat_utilisation` becomes
    /// `{"usage": {"seat_utilisation": 0.97}}`, and a level whose keys are all indices
    /// (`attention.0.name`, `attention.1.name`) becomes a list in index order. Dates are
    /// ISO strings. A later fact with the same key replaces an earlier one.
    pub fn context(&self) -> serde_json::Value {
        let mut root = Node::default();
        for fact in &self.items {
            let leaf = match &fact.value {
                FactValue::Number(n) => serde_json::Number::from_f64(*n)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                FactValue::Date(d) => serde_json::Value::String(d.to_string()),
                FactValue::Text(t) => serde_json::Value::String(t.clone()),
            };
            root.insert(fact.key.split('.'), leaf);
        }
        root.into_value()
    }
}

/// A level of [`Facts::context`] while it is built.
#[derive(Default)]
struct Node {
    leaf: Option<serde_json::Value>,
    children: Vec<(String, Node)>,
}

impl Node {
    fn insert<'a>(&mut self, mut path: impl Iterator<Item = &'a str>, leaf: serde_json::Value) {
        match path.next() {
            None => self.leaf = Some(leaf),
            Some(segment) => {
                let index = match self.children.iter().position(|(k, _)| k == segment) {
                    Some(i) => i,
                    None => {
                        self.children.push((segment.to_string(), Node::default()));
                        self.children.len() - 1
                    }
                };
                self.children[index].1.insert(path, leaf);
            }
        }
    }

    fn into_value(self) -> serde_json::Value {
        if self.children.is_empty() {
            return self.leaf.unwrap_or(serde_json::Value::Null);
        }
        let indices: Option<Vec<usize>> =
            self.children.iter().map(|(k, _)| k.parse().ok()).collect();
        match indices {
            Some(mut order) => {
                let mut children: Vec<(usize, Node)> = order
                    .drain(..)
                    .zip(self.children.into_iter().map(|(_, n)| n))
                    .collect();
                children.sort_by_key(|(i, _)| *i);
                serde_json::Value::Array(
                    children.into_iter().map(|(_, n)| n.into_value()).collect(),
                )
            }
            None => serde_json::Value::Object(
                self.children
                    .into_iter()
                    .map(|(k, n)| (k, n.into_value()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_nest_and_indices_make_lists() {
        let cite = || Citation {
            source: "test".into(),
            as_of: None,
            record: None,
        };
        let mut facts = Facts::default();
        facts.text("account.name", "Acme", cite());
        facts.number("account.arr", 10800.0, cite());
        facts.text("attention.1.name", "Beta", cite());
        facts.text("attention.0.name", "Alpha", cite());
        facts.date(
            "account.renewal",
            NaiveDate::from_ymd_opt(2026, 12, 28).unwrap_or_default(),
            cite(),
        );
        assert_eq!(
            facts.context(),
            serde_json::json!({
                "account": {"name": "Acme", "arr": 10800.0, "renewal": "2026-12-28"},
                "attention": [{"name": "Alpha"}, {"name": "Beta"}],
            })
        );
    }
}
