//! The 90-day enablement plan (V4): two or three unused features in order with why,
//! a week-by-week schedule, resources from the feature catalogue, and what good looks
//! like at 30, 60 and 90 days. Structured data, rendered as Markdown here.

use std::fmt::Write as _;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::gaps::Gap;
use super::{AccountAdoption, AdoptionConfig};
use crate::format::percent;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanFeature {
    pub order: usize,
    pub feature_key: String,
    pub name: String,
    pub why: String,
    pub resource: Option<String>,
    pub target_users: u32,
    pub first_week: usize,
    pub last_week: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanWeek {
    /// 0 = before the plan (the root-cause step), then 1–12.
    pub week: usize,
    pub starts_on: NaiveDate,
    pub focus: String,
    pub step: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanMilestone {
    pub day: u32,
    pub date: NaiveDate,
    pub goal: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnablementPlan {
    pub account_id: String,
    pub account_name: String,
    pub starts_on: NaiveDate,
    pub cause: Option<String>,
    pub cause_response: Option<String>,
    pub features: Vec<PlanFeature>,
    pub weeks: Vec<PlanWeek>,
    pub milestones: Vec<PlanMilestone>,
    /// Breadth now and the breadth if the plan's features are adopted.
    pub breadth_now: Option<f64>,
    pub breadth_target: Option<f64>,
}

/// The plan for one account, starting on its as-of date; None without any gap.
pub fn plan(
    adoption: &AccountAdoption,
    config: &AdoptionConfig,
    active_users: Option<f64>,
) -> Option<EnablementPlan> {
    let settings = &config.plan;
    let mut chosen: Vec<&Gap> = adoption
        .gaps
        .iter()
        .take(settings.features.max(1))
        .collect();
    if chosen.is_empty() {
        return None;
    }
    // Foundations first: core features, then by value (the gaps' order).
    chosen.sort_by_key(|g| !g.is_core);
    let profile = &adoption.profile;
    let start = profile.as_of;
    let target_users = ((active_users.unwrap_or(0.0) * 0.3).ceil() as u32).max(2);
    let per_feature = settings.weeks_per_feature.max(1);
    let features: Vec<PlanFeature> = chosen
        .iter()
        .enumerate()
        .map(|(i, gap)| PlanFeature {
            order: i + 1,
            feature_key: gap.feature_key.clone(),
            name: gap.name.clone(),
            why: if gap.reason.is_empty() {
                "entitled and unused".to_string()
            } else {
                gap.reason.clone()
            },
            resource: gap.resources.clone(),
            target_users,
            first_week: i * per_feature + 1,
            last_week: (i + 1) * per_feature,
        })
        .collect();
    let mut weeks = Vec::new();
    if let Some(cause) = &adoption.cause
        && cause.cause != super::causes::UNKNOWN
    {
        weeks.push(PlanWeek {
            week: 0,
            starts_on: start,
            focus: cause.label.clone(),
            step: settings.cause_step.replace("{cause_step}", &cause.response),
        });
    }
    for (feature, gap) in features.iter().zip(&chosen) {
        for (offset, template) in settings.week_steps.iter().take(per_feature).enumerate() {
            let week = feature.first_week + offset;
            let step = template
                .replace("{feature}", &feature.name)
                .replace(
                    "{resource}",
                    feature
                        .resource
                        .as_deref()
                        .unwrap_or("the feature's help page"),
                )
                .replace(
                    "{peer_share}",
                    &gap.peer_share.map_or("many".to_string(), percent),
                )
                .replace("{target_users}", &feature.target_users.to_string());
            weeks.push(PlanWeek {
                week,
                starts_on: start + Days::new(7 * (week as u64 - 1)),
                focus: feature.name.clone(),
                step,
            });
        }
    }
    let breadth_target = (profile.entitled > 0)
        .then(|| (profile.used + features.len()) as f64 / profile.entitled as f64);
    let names: Vec<&str> = features.iter().map(|f| f.name.as_str()).collect();
    let mut milestones = vec![PlanMilestone {
        day: 30,
        date: start + Days::new(30),
        goal: format!("{} used by at least {target_users} users", names[0]),
    }];
    milestones.push(PlanMilestone {
        day: 60,
        date: start + Days::new(60),
        goal: match names.get(1) {
            Some(second) => format!("{second} in use, and {} still in use", names[0]),
            None => format!("{} in weekly use", names[0]),
        },
    });
    milestones.push(PlanMilestone {
        day: 90,
        date: start + Days::new(90),
        goal: format!(
            "all of {} in use; feature breadth from {} to {}",
            names.join(", "),
            profile.breadth.map_or("—".to_string(), percent),
            breadth_target.map_or("—".to_string(), percent)
        ),
    });
    Some(EnablementPlan {
        account_id: profile.account_id.clone(),
        account_name: profile.account_name.clone(),
        starts_on: start,
        cause: adoption.cause.as_ref().map(|c| c.label.clone()),
        cause_response: adoption.cause.as_ref().map(|c| c.response.clone()),
        features,
        weeks,
        milestones,
        breadth_now: profile.breadth,
        breadth_target,
    })
}

pub fn to_markdown(plan: &EnablementPlan) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# 90-day enablement plan — {}\n", plan.account_name);
    let _ = writeln!(
        md,
        "Starts {} · feature breadth {} → {}\n",
        plan.starts_on,
        plan.breadth_now.map_or("—".to_string(), percent),
        plan.breadth_target.map_or("—".to_string(), percent)
    );
    if let (Some(cause), Some(response)) = (&plan.cause, &plan.cause_response) {
        let _ = writeln!(md, "**Root cause:** {cause}. {response}\n");
    }
    let _ = writeln!(md, "## Features, in order\n");
    for f in &plan.features {
        let _ = writeln!(
            md,
            "{}. **{}** (weeks {}–{}) — {}{}",
            f.order,
            f.name,
            f.first_week,
            f.last_week,
            f.why,
            f.resource
                .as_ref()
                .map_or(String::new(), |r| format!(". Resource: {r}"))
        );
    }
    let _ = writeln!(md, "\n## Week by week\n");
    let _ = writeln!(md, "| week | from | focus | step |\n|---:|---|---|---|");
    for w in &plan.weeks {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            w.week,
            w.starts_on,
            w.focus.replace('|', "\\|"),
            w.step.replace('|', "\\|")
        );
    }
    let _ = writeln!(md, "\n## Success milestones\n");
    for m in &plan.milestones {
        let _ = writeln!(md, "- **Day {}** ({}): {}", m.day, m.date, m.goal);
    }
    md
}
