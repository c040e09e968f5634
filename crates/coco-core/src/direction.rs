//! Whether more of a metric is good news or bad news.

use serde::{Deserialize, Serialize};

/// Declared per metric in the catalogue; scoring, benchmarks and the decline rule read
/// it so that "days since last touchpoint went up" is recognised as a decline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    /// Descriptive (ARR, tenure): neither direction is a signal.
    #[default]
    Neutral,
}

impl Direction {
    pub fn as_str(&self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher_is_better",
            Direction::LowerIsBetter => "lower_is_better",
            Direction::Neutral => "neutral",
        }
    }
}
