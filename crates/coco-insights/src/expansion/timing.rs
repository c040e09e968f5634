//! The timing light (E3): whether now is the moment to propose an expansion, from
//! health, churn risk, sentiment and open escalations, by the rules of
//! `config/expansion.toml`.

use serde::{Deserialize, Serialize};

use super::ExpansionInputs;
use super::config::{Condition, ExpansionConfig, Light, Outreach};
use crate::format::{format_metric_value, percent};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timing {
    pub light: Light,
    pub outreach: Outreach,
    /// One sentence per matched rule, with the account's values; a green account gets
    /// the reason it is green.
    pub reasons: Vec<String>,
}

/// The account's light: the worst of the matched rules, the most cautious outreach.
pub fn assess(inputs: &ExpansionInputs<'_>, config: &ExpansionConfig, account: usize) -> Timing {
    let mut light = Light::Green;
    let mut outreach = Outreach::Now;
    let mut reasons = Vec::new();
    for rule in &config.timing.rules {
        if matches(inputs, account, &rule.when) {
            light = light.max(rule.light);
            outreach = outreach.max(rule.outreach);
            reasons.push(fill(inputs, account, &rule.reason));
        }
    }
    if reasons.is_empty() {
        let health = inputs.health[account]
            .as_ref()
            .and_then(|h| h.score)
            .map(|s| format!("health {s:.0}"));
        let churn = inputs.churn[account]
            .as_ref()
            .map(|c| format!("churn risk {}", percent(c.probability)));
        let facts: Vec<String> = [health, churn].into_iter().flatten().collect();
        reasons.push(if facts.is_empty() {
            "green: no risk rule matched".to_string()
        } else {
            format!("green: {} and no open risk", facts.join(", "))
        });
    }
    Timing {
        light,
        outreach,
        reasons,
    }
}

fn matches(inputs: &ExpansionInputs<'_>, account: usize, condition: &Condition) -> bool {
    if let Some(colour) = &condition.health_colour {
        return inputs.health[account]
            .as_ref()
            .and_then(|h| h.colour.as_deref())
            == Some(colour.as_str());
    }
    if let Some(tier) = &condition.churn_tier {
        return inputs.churn[account].as_ref().map(|c| c.tier.as_str()) == Some(tier.as_str());
    }
    condition.metric.as_deref().is_some_and(|metric| {
        crate::settings::metric_within(
            inputs.frame,
            account,
            metric,
            condition.at_least,
            condition.at_most,
        )
        .is_some()
    })
}

/// Replaces `{name}` with the account's value of that metric (or health score, churn
/// probability) in its unit.
fn fill(inputs: &ExpansionInputs<'_>, account: usize, template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = &rest[start + 1..start + end];
        out.push_str(&value_text(inputs, account, name).unwrap_or_else(|| "—".to_string()));
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

fn value_text(inputs: &ExpansionInputs<'_>, account: usize, name: &str) -> Option<String> {
    match name {
        "health_score" => inputs.health[account]
            .as_ref()
            .and_then(|h| h.score)
            .map(|s| format!("{s:.0}")),
        "churn_probability" => inputs.churn[account]
            .as_ref()
            .map(|c| percent(c.probability)),
        _ => {
            let frame = inputs.frame;
            let index = frame.metric_index(name)?;
            let value = frame.value(account, index)?;
            Some(format_metric_value(value, &frame.metrics[index].unit, name))
        }
    }
}
