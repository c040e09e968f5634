//! The daily priority lists: each CSM's open alerts, tasks due, renewals approaching,
//! expansion windows and silent accounts as of a date, gathered from the store and the
//! snapshot, ordered by `coco_actions::today`.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use coco_actions::routing::Hierarchy;
use coco_actions::today::{AccountCandidates, Candidate, DailyList, daily_list};
use coco_store::Store;
use coco_store::actions::{AlertFilter, TaskFilter};

use super::ActionsConfig;
use super::alerts::{StoredRouting, hierarchy};
use crate::lifecycle::{LifecycleBase, load_base};
use crate::{Config, EngineError};

/// A CSM by id or by name (case-insensitive), as `--csm` takes it.
pub fn find_csm<'a>(
    hierarchy: &'a Hierarchy,
    who: &str,
) -> Result<&'a coco_actions::routing::Person, EngineError> {
    if let Some(p) = hierarchy.person(who) {
        return Ok(p);
    }
    let wanted = who.trim().to_lowercase();
    let mut matches: Vec<_> = hierarchy
        .people()
        .filter(|p| p.name.to_lowercase() == wanted)
        .collect();
    matches.sort_by(|a, b| a.csm_id.cmp(&b.csm_id));
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(EngineError::NotFound(format!(
            "no CSM with id or name `{who}` (see `coco workload` for the team)"
        ))),
        many => Err(EngineError::Invalid(format!(
            "`{who}` names {} CSMs ({}); give the id",
            many.len(),
            many.iter()
                .map(|p| p.csm_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Every active CSM's list (or one CSM's) as of `as_of`: alerts and tasks on record
/// then, the numbers of `base` (the snapshot on or before it).
pub fn daily_lists_from(
    store: &Store,
    actions: &ActionsConfig,
    base: &LifecycleBase,
    as_of: NaiveDate,
    only: Option<&str>,
) -> Result<Vec<DailyList>, EngineError> {
    let config = &actions.alerts.today;
    let team = hierarchy(store)?;
    let values = base.values();
    let count = base.frame.account_count();
    let index: HashMap<&str, usize> = base
        .frame
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.account_id.as_str(), i))
        .collect();
    // person → account → candidates
    let mut lists: BTreeMap<String, BTreeMap<usize, Vec<Candidate>>> = BTreeMap::new();
    let wanted = |csm: &str| only.is_none_or(|o| o == csm);
    let owner_of = |a: usize| values.text("owner_csm_id", a);
    let alerts = store.alerts(&AlertFilter {
        statuses: vec!["open".into(), "acknowledged".into(), "snoozed".into()],
        opened_on_or_before: Some(as_of),
        ..AlertFilter::default()
    })?;
    for alert in &alerts {
        if alert.status == "snoozed" && alert.snoozed_until.is_none_or(|u| u > as_of) {
            continue;
        }
        let Some(&account) = index.get(alert.account_id.as_str()) else {
            continue;
        };
        let (Ok(tier), Ok(severity)) = (alert.tier.parse(), alert.severity.parse()) else {
            continue;
        };
        let rule_name = actions
            .alerts
            .rule(&alert.rule_id)
            .map_or(alert.rule_id.clone(), |r| r.name.clone());
        let mut people: Vec<String> = owner_of(account).map(str::to_string).into_iter().collect();
        if let Ok(routing) = serde_json::from_str::<StoredRouting>(&alert.recipients) {
            for r in routing.everyone() {
                if !people.contains(&r.csm_id) {
                    people.push(r.csm_id.clone());
                }
            }
        }
        for person in people.into_iter().filter(|p| wanted(p)) {
            lists
                .entry(person)
                .or_default()
                .entry(account)
                .or_default()
                .push(Candidate::Alert {
                    alert_id: alert.alert_id,
                    rule_name: rule_name.clone(),
                    tier,
                    severity,
                    opened_on: alert.opened_on,
                    headline: alert.headline.clone(),
                });
        }
    }
    let horizon = as_of
        .checked_add_days(Days::new(u64::from(config.task_upcoming_days)))
        .unwrap_or(as_of);
    let tasks = store.tasks(&TaskFilter {
        statuses: vec!["open".into(), "snoozed".into()],
        due_on_or_before: Some(horizon),
        owner_csm_id: only.map(str::to_string),
        ..TaskFilter::default()
    })?;
    for task in tasks {
        if task.status == "snoozed" && task.snoozed_until.is_none_or(|u| u > as_of) {
            continue;
        }
        let (Some(owner), Some(&account)) = (
            task.owner_csm_id.clone(),
            index.get(task.account_id.as_str()),
        ) else {
            continue;
        };
        lists
            .entry(owner)
            .or_default()
            .entry(account)
            .or_default()
            .push(Candidate::Task {
                task_id: task.task_id,
                title: task.title,
                due_on: task.due_on,
            });
    }
    let renewal_horizon = as_of
        .checked_add_days(Days::new(u64::from(config.renewal_days)))
        .unwrap_or(as_of);
    let expansion = values.resolve(&config.expansion_source);
    let silent = values.resolve("days_since_last_touchpoint");
    for account in 0..count {
        let Some(owner) = owner_of(account).filter(|o| wanted(o)) else {
            continue;
        };
        let mut found = Vec::new();
        if let Some(date) =
            base.renewal_dates[account].filter(|d| *d >= as_of && *d <= renewal_horizon)
        {
            found.push(Candidate::Renewal {
                renewal_date: date,
                churn_probability: values.value("churn_probability", account),
                health_score: values.value("health_score", account),
            });
        }
        if let Some(value) = values
            .get(expansion, account)
            .filter(|v| *v >= config.expansion_at_least)
        {
            found.push(Candidate::Expansion { value });
        }
        if let Some(days) = values
            .get(silent, account)
            .filter(|d| *d >= f64::from(config.silent_days))
        {
            found.push(Candidate::Silent { days });
        }
        if !found.is_empty() {
            lists
                .entry(owner.to_string())
                .or_default()
                .entry(account)
                .or_default()
                .extend(found);
        }
    }
    let mut people: Vec<(String, String)> = team
        .people()
        // Everyone active; someone who left only when asked for by name (their accounts
        // still need covering until they are reassigned).
        .filter(|p| (p.active || only.is_some()) && wanted(&p.csm_id))
        .map(|p| (p.csm_id.clone(), p.name.clone()))
        .collect();
    people.sort();
    Ok(people
        .into_iter()
        .map(|(csm_id, name)| {
            let accounts: Vec<AccountCandidates> = lists
                .remove(&csm_id)
                .unwrap_or_default()
                .into_iter()
                .map(|(account, candidates)| AccountCandidates {
                    account_id: base.frame.accounts[account].account_id.clone(),
                    account_name: base.names[account].clone(),
                    owner_csm_id: owner_of(account).map(str::to_string),
                    arr: values.value("arr", account),
                    candidates,
                })
                .collect();
            daily_list(config, as_of, &csm_id, &name, &accounts)
        })
        .collect())
}

/// One CSM's list as of `as_of` (by id or name).
pub fn today(
    store: &Store,
    config: &Config,
    actions: &ActionsConfig,
    as_of: NaiveDate,
    csm: &str,
) -> Result<DailyList, EngineError> {
    let team = hierarchy(store)?;
    let person = find_csm(&team, csm)?;
    let base = load_base(store, config, as_of)?;
    daily_lists_from(store, actions, &base, as_of, Some(&person.csm_id))?
        .into_iter()
        .next()
        .ok_or_else(|| EngineError::NotFound(format!("no daily list for {}", person.csm_id)))
}
