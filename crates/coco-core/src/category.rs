//! What area of the customer relationship a metric, health component or driver belongs
//! to. Drivers of change are reported by category so a CSM sees at a glance whether a
//! score moved because of product usage, people, support, money or sentiment.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// How much the product is used: events, active users, seat utilisation, recency.
    ProductUsage,
    /// How broadly and how far: features adopted, onboarding milestones reached.
    Adoption,
    /// People: champions, sponsors, contacts engaged, touchpoints, reviews held.
    Relationship,
    /// Tickets: volume, open backlog, escalations, resolution time.
    Support,
    /// Contract and billing: payments, downgrade requests, ARR, renewal timing.
    Commercial,
    /// What customers say: NPS, CSAT, competitor mentions.
    Sentiment,
    /// Descriptive facts (tenure, size) used for cohorts and context, not as signals.
    Profile,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::ProductUsage,
        Category::Adoption,
        Category::Relationship,
        Category::Support,
        Category::Commercial,
        Category::Sentiment,
        Category::Profile,
    ];

    /// The snake_case name used in configuration files and outputs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Category::ProductUsage => "product_usage",
            Category::Adoption => "adoption",
            Category::Relationship => "relationship",
            Category::Support => "support",
            Category::Commercial => "commercial",
            Category::Sentiment => "sentiment",
            Category::Profile => "profile",
        }
    }

    /// A label for people.
    pub fn label(&self) -> &'static str {
        match self {
            Category::ProductUsage => "product usage",
            Category::Adoption => "adoption",
            Category::Relationship => "relationship",
            Category::Support => "support",
            Category::Commercial => "commercial / billing",
            Category::Sentiment => "sentiment",
            Category::Profile => "profile",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "unknown category `{s}` (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}
