//! Talking points and business case per opportunity (E5): an opening on the customer's
//! own numbers, the recommendation with its reasons, what it solves for them, the
//! stated goals it ties to, likely objections with answers, and the next step. Emitted
//! as data (for the drafting layer) and as Markdown.

use std::fmt::Write as _;

use chrono::Days;
use serde::{Deserialize, Serialize};

use super::config::{ExpansionConfig, ObjectionAnswer, Outreach};
use super::{GoalNote, Holding, Opportunity, OpportunityKind, SignalKind};
use crate::format::{format_money, percent};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TalkingPoints {
    /// Three sentences opening with the account's data.
    pub opening: Vec<String>,
    pub recommendation: String,
    /// One line per signal, with its numbers.
    pub reasons: Vec<String>,
    /// What the expansion solves for the customer.
    pub business_impact: String,
    /// Goals the customer stated (touchpoint notes), newest first.
    pub goals: Vec<GoalNote>,
    pub objections: Vec<ObjectionAnswer>,
    pub next_step: String,
}

fn shipped_objections(kind: &OpportunityKind) -> Vec<ObjectionAnswer> {
    let pair = |objection: &str, answer: &str| ObjectionAnswer {
        objection: objection.to_string(),
        answer: answer.to_string(),
    };
    match kind {
        OpportunityKind::Seats => vec![
            pair(
                "We have no budget for more seats this year.",
                "Start with the {added_seats} seats the current active users need, co-termed with the renewal so the cost is pro-rated.",
            ),
            pair(
                "We can share logins or rotate licences.",
                "Shared logins break the audit trail and per-user permissions; the {utilisation} utilisation shows the team already needs its own seats.",
            ),
        ],
        OpportunityKind::Tier { .. } => vec![
            pair(
                "The current plan is good enough.",
                "The team already uses most of what the plan offers; {tier} adds the features they are reaching for, so the next step is capacity, not change.",
            ),
            pair(
                "An upgrade means migration work.",
                "An upgrade keeps every workspace and setting; the new features are switched on in place.",
            ),
        ],
        OpportunityKind::Module { .. } => vec![
            pair(
                "We already have a workaround.",
                "The workaround is visible in the tickets and manual work listed here; {module} removes it and the time it costs each week.",
            ),
            pair(
                "We cannot take on another tool.",
                "{module} is part of the same product and login: no new vendor, no new onboarding for users.",
            ),
        ],
    }
}

fn fill(template: &str, o: &Opportunity, utilisation: Option<f64>) -> String {
    let (tier, module) = match &o.kind {
        OpportunityKind::Tier { to } => (to.as_str(), ""),
        OpportunityKind::Module { module } => ("", module.as_str()),
        OpportunityKind::Seats => ("", ""),
    };
    template
        .replace(
            "{added_seats}",
            &o.sizing
                .added_seats
                .map_or("extra".to_string(), |s| s.to_string()),
        )
        .replace("{uplift}", &format_money(o.sizing.uplift_arr))
        .replace("{tier}", tier)
        .replace("{module}", module)
        .replace(
            "{utilisation}",
            &utilisation.map_or("current".to_string(), percent),
        )
}

pub fn build(
    o: &Opportunity,
    goals: &[GoalNote],
    config: &ExpansionConfig,
    holding: &Holding,
) -> TalkingPoints {
    // Seat pressure measures with its own metric (or its fallback): quote that value,
    // from the seat-pressure signal first.
    let rule = &config.signals.seat_pressure;
    let seat_metrics = [rule.metric.as_str(), rule.fallback_metric.as_str()];
    let utilisation = o
        .signals
        .iter()
        .filter(|s| s.kind == SignalKind::SeatPressure)
        .chain(&o.signals)
        .flat_map(|s| &s.evidence)
        .find(|e| {
            e.metric
                .as_deref()
                .is_some_and(|m| seat_metrics.contains(&m))
        })
        .and_then(|e| e.value);
    let mut opening: Vec<String> = o
        .signals
        .iter()
        .take(2)
        .map(|s| s.summary.clone())
        .collect();
    let invitation = match &o.kind {
        OpportunityKind::Seats => {
            "We would like to plan the next seats with you before the limit slows new colleagues down."
                .to_string()
        }
        OpportunityKind::Tier { to } => format!(
            "We would like to show you what the {to} tier adds for the way your team already works."
        ),
        OpportunityKind::Module { module } => format!(
            "We would like to show you how the {module} module takes this work off your team."
        ),
    };
    opening.push(invitation);
    let recommendation = match &o.kind {
        OpportunityKind::Seats => format!(
            "Propose {} more seats ({} a year).",
            o.sizing
                .added_seats
                .map_or("more".to_string(), |s| s.to_string()),
            format_money(o.sizing.uplift_arr)
        ),
        OpportunityKind::Tier { to } => format!(
            "Propose the upgrade from {} to {to} ({} a year).",
            holding.plan_tier.as_deref().unwrap_or("the current tier"),
            format_money(o.sizing.uplift_arr)
        ),
        OpportunityKind::Module { module } => format!(
            "Propose the {module} module ({} a year).",
            format_money(o.sizing.uplift_arr)
        ),
    };
    let business_impact = match &o.kind {
        OpportunityKind::Seats => "Everyone who needs the product gets their own access: no waiting for a free licence, no shared logins, and new team members productive from day one.".to_string(),
        OpportunityKind::Tier { to } => format!("The {to} tier covers the work the team is already stretching the current plan for, so they stop working around its limits."),
        OpportunityKind::Module { module } => format!("The {module} module replaces the manual steps and workarounds behind these tickets, which frees the team's time and removes a source of errors."),
    };
    let objections = config
        .talking_points
        .objections
        .get(o.kind.type_name())
        .cloned()
        .unwrap_or_else(|| shipped_objections(&o.kind))
        .into_iter()
        .map(|pair| ObjectionAnswer {
            objection: fill(&pair.objection, o, utilisation),
            answer: fill(&pair.answer, o, utilisation),
        })
        .collect();
    let next_step = match o.timing.outreach {
        Outreach::Now => format!(
            "Book a 30-minute call with the champion this week to review the numbers above and agree on {}.",
            o.kind.describe()
        ),
        Outreach::In30Days => format!(
            "Not yet: {}. Revisit on {} and propose {} if it has cleared.",
            o.timing.reasons.join("; "),
            o.as_of + Days::new(30),
            o.kind.describe()
        ),
        Outreach::In90Days => format!(
            "Build the relationship first: {}. Revisit on {}.",
            o.timing.reasons.join("; "),
            o.as_of + Days::new(90)
        ),
        Outreach::Hold => format!(
            "Hold the expansion conversation: {}.",
            o.timing.reasons.join("; ")
        ),
    };
    TalkingPoints {
        opening,
        recommendation,
        reasons: o.signals.iter().map(|s| s.summary.clone()).collect(),
        business_impact,
        goals: goals.to_vec(),
        objections,
        next_step,
    }
}

/// The talking points of an opportunity as Markdown.
pub fn to_markdown(o: &Opportunity) -> String {
    let t = &o.talking_points;
    let mut md = String::new();
    let _ = writeln!(md, "# {} — {}\n", o.account_name, o.kind.describe());
    let _ = writeln!(
        md,
        "As of {} · timing **{}** ({}) · expected {} ({} uplift × {} win probability)\n",
        o.as_of,
        o.timing.light.as_str(),
        o.timing.outreach.label(),
        format_money(o.sizing.expected_arr),
        format_money(o.sizing.uplift_arr),
        percent(o.sizing.win_probability)
    );
    let _ = writeln!(md, "## Opening\n");
    for sentence in &t.opening {
        let _ = writeln!(md, "{sentence}");
    }
    let _ = writeln!(md, "\n## Recommendation\n\n{}\n", t.recommendation);
    for reason in &t.reasons {
        let _ = writeln!(md, "- {reason}");
    }
    let _ = writeln!(
        md,
        "\n## What it solves for them\n\n{}\n",
        t.business_impact
    );
    if !t.goals.is_empty() {
        let _ = writeln!(md, "## Their stated goals\n");
        for goal in &t.goals {
            let _ = writeln!(
                md,
                "- {} ({}, touchpoint {})",
                goal.text, goal.date, goal.touchpoint_id
            );
        }
        md.push('\n');
    }
    let _ = writeln!(md, "## Likely objections\n");
    for pair in &t.objections {
        let _ = writeln!(md, "- **{}** {}", pair.objection, pair.answer);
    }
    let _ = writeln!(md, "\n## Next step\n\n{}\n", t.next_step);
    let _ = writeln!(md, "## Evidence\n");
    for signal in &o.signals {
        let _ = writeln!(md, "- **{}**", signal.kind.as_str());
        for e in &signal.evidence {
            let mut line = format!("  - {}: {}", e.label, e.display);
            if let Some(date) = e.date {
                let _ = write!(line, " ({date})");
            }
            if let Some(source) = &e.source {
                let _ = write!(line, " [{} {}]", source.table, source.id);
            }
            let _ = writeln!(md, "{line}");
        }
    }
    let _ = writeln!(md, "\n## Sizing\n");
    for step in &o.sizing.steps {
        let _ = writeln!(md, "- {step}");
    }
    let _ = writeln!(md, "- win probability: {}", o.sizing.win_basis);
    md
}
