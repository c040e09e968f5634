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

/// Low-adoption accounts sharing a cause: the differentiated response, sized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CauseGroup {
    pub cause: String,
    pub label: String,
    pub response: String,
    pub accounts: usize,
    pub arr: f64,
    /// Account ids, highest ARR first.
    pub account_ids: Vec<String>,
}

/// A group and its members as (ARR, account id), while grouping.
type Grouping<'a> = (CauseGroup, Vec<(f64, &'a str)>);

/// The causes of the accounts' findings, most accounts first.
pub fn groups(accounts: &[super::AccountAdoption]) -> Vec<CauseGroup> {
    let mut by_cause: std::collections::BTreeMap<&str, Grouping<'_>> =
        std::collections::BTreeMap::new();
    for a in accounts {
        let Some(finding) = &a.cause else { continue };
        let arr = a.profile.arr.unwrap_or(0.0);
        let entry = by_cause.entry(finding.cause.as_str()).or_insert_with(|| {
            (
                CauseGroup {
                    cause: finding.cause.clone(),
                    label: finding.label.clone(),
                    response: finding.response.clone(),
                    accounts: 0,
                    arr: 0.0,
                    account_ids: Vec::new(),
                },
                Vec::new(),
            )
        });
        entry.0.accounts += 1;
        entry.0.arr += arr;
        entry.1.push((arr, a.profile.account_id.as_str()));
    }
    let mut out: Vec<CauseGroup> = by_cause
        .into_values()
        .map(|(mut group, mut members)| {
            members.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            group.account_ids = members.into_iter().map(|(_, id)| id.to_string()).collect();
            group
        })
        .collect();
    out.sort_by(|a, b| {
        b.accounts
            .cmp(&a.accounts)
            .then_with(|| a.cause.cmp(&b.cause))
    });
    out
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
            let (index, value) = crate::settings::metric_within(
                inputs.frame,
                account,
                metric,
                condition.at_least,
                condition.at_most,
            )?;
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
