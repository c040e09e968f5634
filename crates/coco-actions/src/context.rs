//! The context pack every alert carries: why it fired (the conditions' evidence), the
//! drivers of the account's health, recent history, the account's facts, the suggested
//! play with its record, and what the escalation tree decided. Stored with the alert as
//! JSON, rendered into every message about it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::outcomes::Recommendation;
use crate::playbooks::{Escalation, PlannedTask};
use crate::rules::Evidence;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContextPack {
    pub as_of: NaiveDate,
    /// One sentence: the first condition's evidence and what the rule means.
    pub headline: String,
    pub evidence: Vec<Evidence>,
    pub facts: AccountFacts,
    /// The health drivers, largest first ("usage −8.2: events_30d 1,240 → 610").
    pub drivers: Vec<String>,
    /// Health at the latest snapshots, oldest first.
    pub history: Vec<(NaiveDate, f64)>,
    pub suggested_play: Option<SuggestedPlay>,
    pub escalation: Option<Escalation>,
    /// The tasks created with the alert.
    pub tasks: Vec<PlannedTask>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountFacts {
    pub account_id: String,
    pub name: String,
    pub segment: Option<String>,
    pub coverage_model: Option<String>,
    pub owner_csm_id: Option<String>,
    pub owner_name: Option<String>,
    pub arr: Option<f64>,
    pub health_score: Option<f64>,
    pub churn_probability: Option<f64>,
    pub days_to_renewal: Option<f64>,
    pub stage: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuggestedPlay {
    pub playbook_id: String,
    pub playbook_name: String,
    /// Why this play: the rule's playbook, or the best record for the risk profile.
    pub because: String,
    pub record: Option<Recommendation>,
}
