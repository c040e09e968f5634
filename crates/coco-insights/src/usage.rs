//! Per-feature usage of every account as of a date, and the feature catalogue it refers
//! to: the shared input of the expansion and adoption analyzers. The store computes it
//! (one query, point in time); nothing here knows where it came from.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One feature of the catalogue (`features` entity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureInfo {
    pub key: String,
    pub name: String,
    pub module: String,
    /// Lowest plan tier that includes it, as a rank (0 = the first tier).
    pub tier: usize,
    pub is_core: bool,
    pub resources: Option<String>,
    pub description: Option<String>,
}

/// One account's use of one feature in the recent window and the window before it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureUse {
    /// Index into the feature catalogue.
    pub feature: usize,
    /// Included in the account's plan and add-ons at the as-of date.
    pub entitled: bool,
    /// Events in the recent window (raw events plus daily aggregate counts).
    pub events: f64,
    /// Distinct users in the recent window (for daily aggregates: the busiest day's count).
    pub users: f64,
    /// Events in the window of the same length before the recent one.
    pub prior_events: f64,
    /// First and last day with any use, up to the as-of date.
    pub first_used: Option<NaiveDate>,
    pub last_used: Option<NaiveDate>,
}

impl FeatureUse {
    pub fn used(&self) -> bool {
        self.events > 0.0
    }

    /// Used in the window before the recent one, not in the recent one.
    pub fn abandoned(&self) -> bool {
        self.prior_events > 0.0 && self.events <= 0.0
    }
}

/// Every account's feature use, aligned with a snapshot frame's accounts. Each account's
/// list holds the entitled features (used or not) and any other feature it used.
#[derive(Debug, Clone, Default)]
pub struct FeatureMatrix {
    pub as_of: Option<NaiveDate>,
    /// Length of the recent window in days.
    pub window_days: u32,
    pub features: Vec<FeatureInfo>,
    pub accounts: Vec<Vec<FeatureUse>>,
}

impl FeatureMatrix {
    pub fn feature_index(&self, key: &str) -> Option<usize> {
        self.features.iter().position(|f| f.key == key)
    }

    /// The account's row (empty when the account has none).
    pub fn of(&self, account: usize) -> &[FeatureUse] {
        self.accounts.get(account).map(Vec::as_slice).unwrap_or(&[])
    }
}
