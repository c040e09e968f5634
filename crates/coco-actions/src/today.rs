//! The daily priority list (A4): every item a CSM should look at today — open alerts,
//! tasks due, renewals approaching, expansion windows, silent accounts — scored by the
//! weights of `[today]` in `config/alerts.toml`, ordered, each with one line of why.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::rules::{AlertTier, Severity};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TodayConfig {
    pub alert_points: BTreeMap<AlertTier, f64>,
    pub severity_points: BTreeMap<Severity, f64>,
    pub task_due_points: f64,
    pub task_upcoming_days: u32,
    pub task_upcoming_points: f64,
    pub overdue_points_per_day: f64,
    pub overdue_cap_days: u32,
    pub renewal_days: u32,
    pub renewal_points: f64,
    pub renewal_nearness_points: f64,
    pub churn_points: f64,
    pub expansion_points: f64,
    pub expansion_source: String,
    pub expansion_at_least: f64,
    pub silent_days: u32,
    pub silent_points: f64,
    pub arr_points: f64,
    pub arr_floor: f64,
    pub arr_ceiling: f64,
    pub max_items: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Alert,
    Task,
    Renewal,
    Expansion,
    Silent,
}

crate::rules::names!(ItemKind {
    Alert => "alert",
    Task => "task",
    Renewal => "renewal",
    Expansion => "expansion",
    Silent => "silent",
});

/// What could be on someone's list, before scoring.
#[derive(Debug, Clone, PartialEq)]
pub enum Candidate {
    Alert {
        alert_id: i64,
        rule_name: String,
        tier: AlertTier,
        severity: Severity,
        opened_on: NaiveDate,
        headline: String,
    },
    Task {
        task_id: i64,
        title: String,
        due_on: NaiveDate,
    },
    Renewal {
        renewal_date: NaiveDate,
        churn_probability: Option<f64>,
        health_score: Option<f64>,
    },
    Expansion {
        value: f64,
    },
    Silent {
        days: f64,
    },
}

/// An account's candidates and the numbers scoring reads.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountCandidates {
    pub account_id: String,
    pub account_name: String,
    pub owner_csm_id: Option<String>,
    pub arr: Option<f64>,
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TodayItem {
    pub rank: usize,
    pub kind: ItemKind,
    pub account_id: String,
    pub account_name: String,
    pub score: f64,
    /// One line: why it is on the list today.
    pub why: String,
    /// The alert or task it refers to.
    pub alert_id: Option<i64>,
    pub task_id: Option<i64>,
    pub due_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyList {
    pub csm_id: String,
    pub csm_name: String,
    pub as_of: NaiveDate,
    pub items: Vec<TodayItem>,
    /// Items beyond `max_items`, counted by kind.
    pub not_shown: BTreeMap<ItemKind, usize>,
}

fn arr_points(config: &TodayConfig, arr: Option<f64>) -> f64 {
    let Some(arr) = arr.filter(|a| *a > 0.0) else {
        return 0.0;
    };
    let (lo, hi) = (
        config.arr_floor.max(1.0).ln(),
        config.arr_ceiling.max(2.0).ln(),
    );
    if hi <= lo {
        return 0.0;
    }
    config.arr_points * ((arr.ln() - lo) / (hi - lo)).clamp(0.0, 1.0)
}

fn score(config: &TodayConfig, as_of: NaiveDate, candidate: &Candidate) -> (ItemKind, f64, String) {
    match candidate {
        Candidate::Alert {
            rule_name,
            tier,
            severity,
            opened_on,
            headline,
            ..
        } => {
            let points = config.alert_points.get(tier).copied().unwrap_or(0.0)
                + config.severity_points.get(severity).copied().unwrap_or(0.0);
            let age = (as_of - *opened_on).num_days();
            let since = if age <= 0 {
                "new today".to_string()
            } else {
                format!("open {age} day{}", if age == 1 { "" } else { "s" })
            };
            (
                ItemKind::Alert,
                points,
                format!("{tier} alert — {rule_name} ({since}): {headline}"),
            )
        }
        Candidate::Task { title, due_on, .. } => {
            let overdue = (as_of - *due_on).num_days();
            if overdue >= 0 {
                let days = overdue.min(i64::from(config.overdue_cap_days)) as f64;
                let why = if overdue == 0 {
                    format!("task due today: {title}")
                } else {
                    format!(
                        "task overdue by {overdue} day{}: {title}",
                        if overdue == 1 { "" } else { "s" }
                    )
                };
                (
                    ItemKind::Task,
                    config.task_due_points + days * config.overdue_points_per_day,
                    why,
                )
            } else {
                (
                    ItemKind::Task,
                    config.task_upcoming_points,
                    format!(
                        "task due {due_on} (in {} day{}): {title}",
                        -overdue,
                        if overdue == -1 { "" } else { "s" }
                    ),
                )
            }
        }
        Candidate::Renewal {
            renewal_date,
            churn_probability,
            health_score,
        } => {
            let days = (*renewal_date - as_of).num_days().max(0) as f64;
            let nearness = 1.0 - (days / f64::from(config.renewal_days.max(1))).min(1.0);
            let risk = churn_probability.unwrap_or(0.0);
            let mut why = format!(
                "renewal in {days:.0} day{} ({renewal_date})",
                if days == 1.0 { "" } else { "s" }
            );
            if let Some(p) = churn_probability {
                why.push_str(&format!(", churn probability {:.0}%", p * 100.0));
            }
            if let Some(h) = health_score {
                why.push_str(&format!(", health {h:.0}"));
            }
            (
                ItemKind::Renewal,
                config.renewal_points
                    + nearness * config.renewal_nearness_points
                    + risk * config.churn_points,
                why,
            )
        }
        Candidate::Expansion { value } => (
            ItemKind::Expansion,
            config.expansion_points,
            format!(
                "expansion window: {} at {:.0}%",
                config.expansion_source,
                value * 100.0
            ),
        ),
        Candidate::Silent { days } => (
            ItemKind::Silent,
            config.silent_points
                + ((days - f64::from(config.silent_days)).max(0.0) / 3.0).min(10.0),
            format!("no touchpoint for {days:.0} days"),
        ),
    }
}

/// One CSM's list as of `as_of`: candidates scored (tasks due more than
/// `task_upcoming_days` ahead left out), ordered by score (then kind and account, so ties
/// never reorder between runs), cut at `max_items`.
pub fn daily_list(
    config: &TodayConfig,
    as_of: NaiveDate,
    csm_id: &str,
    csm_name: &str,
    accounts: &[AccountCandidates],
) -> DailyList {
    let money = coco_insights::format::format_money;
    let mut items: Vec<TodayItem> = Vec::new();
    for account in accounts {
        let arr_bonus = arr_points(config, account.arr);
        for candidate in &account.candidates {
            // A task due later than `task_upcoming_days` from now is not for today.
            if let Candidate::Task { due_on, .. } = candidate
                && (*due_on - as_of).num_days() > i64::from(config.task_upcoming_days)
            {
                continue;
            }
            let (kind, points, mut why) = score(config, as_of, candidate);
            if let Some(arr) = account.arr {
                why.push_str(&format!(" · ARR {}", money(arr)));
            }
            let (alert_id, task_id, due_on) = match candidate {
                Candidate::Alert { alert_id, .. } => (Some(*alert_id), None, None),
                Candidate::Task {
                    task_id, due_on, ..
                } => (None, Some(*task_id), Some(*due_on)),
                _ => (None, None, None),
            };
            items.push(TodayItem {
                rank: 0,
                kind,
                account_id: account.account_id.clone(),
                account_name: account.account_name.clone(),
                score: ((points + arr_bonus) * 10.0).round() / 10.0,
                why,
                alert_id,
                task_id,
                due_on,
            });
        }
    }
    items.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.kind.cmp(&b.kind))
            .then(a.account_id.cmp(&b.account_id))
            .then(a.alert_id.cmp(&b.alert_id))
            .then(a.task_id.cmp(&b.task_id))
    });
    let mut not_shown = BTreeMap::new();
    for item in items.iter().skip(config.max_items) {
        *not_shown.entry(item.kind).or_insert(0) += 1;
    }
    items.truncate(config.max_items);
    for (i, item) in items.iter_mut().enumerate() {
        item.rank = i + 1;
    }
    DailyList {
        csm_id: csm_id.to_string(),
        csm_name: csm_name.to_string(),
        as_of,
        items,
        not_shown,
    }
}
