//! What the renderers share: the locale a draft is written in and the charts a
//! template places with a `<!-- chart:NAME -->` line.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DraftError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    #[default]
    En,
    Zh,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Zh];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Zh => "zh",
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Locale {
    type Err = DraftError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Ok(Locale::En),
            "zh" | "zh-cn" | "cn" => Ok(Locale::Zh),
            other => Err(DraftError::Invalid(format!(
                "unknown locale `{other}` (expected en or zh)"
            ))),
        }
    }
}

/// A chart a template places with a line `<!-- chart:NAME -->`: one series of values
/// over labelled points (weeks, months, features). Every value is also a fact of the
/// draft, so the chart shows nothing the text could not cite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub title: String,
    /// How values read (`%`, `users`, `$`), shown on the axis.
    pub unit: String,
    pub labels: Vec<String>,
    pub values: Vec<f64>,
}
