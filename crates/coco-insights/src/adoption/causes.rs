//! Root cause of low adoption (V3): configurable rules tried in order, each explained by
//! the values that made it hold. Only low-adoption accounts are classified.

use serde::{Deserialize, Serialize};

use super::config::{CauseCondition, CauseRule};
use super::{AdoptionConfig, AdoptionInputs, AdoptionProfile, Level};
use crate::format::format_metric_value;

pub const UNKNOWN: &str = "unknown";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CauseFinding {
    pub cause: String,
    pub label: String,
    /// What to do about it (differentiated response).
    pub response: String,
    /// Why the rule held, one line per condition.
    pub evidence: Vec<String>,
    /// Later rules that also held (labels).
    pub contributing: Vec<String>,
}

/// The cause of a low-adoption account; None when adoption is not low.
pub fn classify(
    inputs: &AdoptionInputs<'_>,
    config: &AdoptionConfig,
    account: usize,
    profile: &AdoptionProfile,
) -> Option<CauseFinding> {
    if profile.level != Level::Low {
        return None;
    }
    let mut primary: Option<(&CauseRule, Vec<String>)> = None;
    let mut contributing: Vec<String> = Vec::new();
    for rule in &config.causes {
        let Some(evidence) = holds(inputs, account, profile, &rule.when) else {
            continue;
        };
        match &primary {
            None => primary = Some((rule, evidence)),
            Some((first, _)) => {
                if first.cause != rule.cause && !contributing.contains(&rule.label) {
                    contributing.push(rule.label.clone());
                }
            }
        }
    }
    let low = format!(
        "{} of {} entitled core features used in {} days ({} of {} features)",
        profile.core_used,
        profile.core_entitled,
        profile.window_days,
        profile.used,
        profile.entitled
    );
    Some(match primary {
        Some((rule, mut evidence)) => {
            evidence.insert(0, low);
            CauseFinding {
                cause: rule.cause.clone(),
                label: rule.label.clone(),
                response: rule.response.clone(),
                evidence,
                contributing,
            }
        }
        None => CauseFinding {
            cause: UNKNOWN.to_string(),
            label: "Unknown".to_string(),
            response: "Ask: a discovery call on how the team works today and what stops them using more of the product.".to_string(),
            evidence: vec![low, "no cause rule matched".to_string()],
            contributing,
        },
    })
}

/// The evidence lines when every condition holds; None otherwise.
fn holds(
    inputs: &AdoptionInputs<'_>,
    account: usize,
    profile: &AdoptionProfile,
    conditions: &[CauseCondition],
) -> Option<Vec<String>> {
    let mut evidence = Vec::new();
    for condition in conditions {
        if let Some(metric) = &condition.metric {
            // Missing data never proves a cause.
            let index = inputs.frame.metric_index(metric)?;
            let value = inputs.frame.value(account, index)?;
            if condition.at_least.is_some_and(|min| value < min)
                || condition.at_most.is_some_and(|max| value > max)
            {
                return None;
            }
            let unit = &inputs.frame.metrics[index].unit;
            evidence.push(format!(
                "{metric} = {} on {}",
                format_metric_value(value, unit, metric),
                inputs.frame.as_of
            ));
        } else if let Some(key) = &condition.milestone {
            let as_of = inputs.frame.as_of;
            let milestone = inputs
                .milestones
                .get(account)?
                .iter()
                .find(|m| &m.key == key)?;
            let due = milestone.due?;
            if due > as_of || milestone.completed.is_some() {
                return None;
            }
            evidence.push(format!(
                "milestone {key} was due {due} and is not completed ({} days overdue)",
                (as_of - due).num_days()
            ));
        } else if let Some(min) = condition.abandoned_at_least {
            let abandoned: Vec<&str> = profile
                .features
                .iter()
                .filter(|f| f.entitled && f.abandoned)
                .map(|f| f.name.as_str())
                .collect();
            if abandoned.len() < min {
                return None;
            }
            evidence.push(format!(
                "{} feature{} used in the {} days before and not since: {}",
                abandoned.len(),
                if abandoned.len() == 1 { "" } else { "s" },
                profile.window_days,
                abandoned.join(", ")
            ));
        }
    }
    Some(evidence)
}
