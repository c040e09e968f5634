//! `coco run daily`: refresh metrics and health as of the date → churn predictions (when
//! a model is promoted) → alerts (with their tasks and messages, one transaction) →
//! digests → one delivery pass. Every run is in the run log with each step's timing
//! and counts; a run that fails says where, and what it had written stays consistent
//! (each step commits on its own; the alert step all at once).

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::NaiveDate;
use coco_actions::render::{AlertView, digest_message};
use coco_actions::routing::Hierarchy;
use coco_actions::today::DailyList;
use coco_store::Store;
use coco_store::actions::AlertRunCounts;
use serde::Serialize;

use super::ActionsConfig;
use super::alerts::{self, AlertPlan, email_to};
use super::outbox::{self, DeliveryReport};
use super::today::daily_lists_from;
use crate::churn::MODE_HISTORY;
use crate::{Config, EngineError};

#[derive(Debug, Clone)]
pub struct DailyOptions {
    pub as_of: NaiveDate,
    /// `cli` or `scheduler`, recorded in the run log.
    pub trigger: String,
    /// Recompute the snapshot and predictions first (off: alert on what is stored).
    pub refresh: bool,
    /// Deliver due messages at the end (off: leave them queued).
    pub deliver: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: String,
    pub seconds: f64,
    pub counts: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DailyRun {
    pub run_id: i64,
    pub as_of: NaiveDate,
    pub steps: Vec<Step>,
    pub alerts: AlertRunCounts,
    pub firings: usize,
    pub cooling: usize,
    pub digests_queued: usize,
    pub lists: Vec<ListSummary>,
    pub delivery: Option<DeliveryReport>,
    pub seconds: f64,
}

/// One CSM's list, counted.
#[derive(Debug, Clone, Serialize)]
pub struct ListSummary {
    pub csm_id: String,
    pub csm_name: String,
    pub items: usize,
    pub top: Option<String>,
}

struct Steps {
    steps: Vec<Step>,
}

impl Steps {
    fn run<T>(
        &mut self,
        name: &str,
        body: impl FnOnce() -> Result<(T, Vec<(&'static str, f64)>, Option<String>), EngineError>,
    ) -> Result<T, EngineError> {
        let started = Instant::now();
        let (value, counts, note) = body()?;
        let seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
        tracing::info!(step = name, seconds, "daily run step");
        self.steps.push(Step {
            name: name.to_string(),
            seconds,
            counts: counts
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            note,
        });
        Ok(value)
    }
}

pub fn run_daily(
    store: &Store,
    config: &Config,
    actions: &ActionsConfig,
    options: &DailyOptions,
) -> Result<DailyRun, EngineError> {
    let started = Instant::now();
    let run_id = store.start_run("daily", options.as_of, &options.trigger)?;
    let mut steps = Steps { steps: Vec::new() };
    let result = run_steps(store, config, actions, options, run_id, &mut steps);
    let steps_json = serde_json::to_string(&steps.steps).map_err(EngineError::Json)?;
    match result {
        Ok(mut run) => {
            store.finish_run(run_id, "ok", &steps_json, None)?;
            run.steps = steps.steps;
            run.seconds = started.elapsed().as_secs_f64();
            Ok(run)
        }
        Err(error) => {
            let failed_at = format!(
                "after {}: {error}",
                steps
                    .steps
                    .last()
                    .map_or("the start".to_string(), |s| format!("step {}", s.name))
            );
            store.finish_run(run_id, "failed", &steps_json, Some(&failed_at))?;
            Err(error)
        }
    }
}

fn run_steps(
    store: &Store,
    config: &Config,
    actions: &ActionsConfig,
    options: &DailyOptions,
    run_id: i64,
    steps: &mut Steps,
) -> Result<DailyRun, EngineError> {
    let as_of = options.as_of;
    if options.refresh {
        steps.run("score", || {
            let run = crate::score_as_of(store, config, as_of)?;
            let count = |c: &str| run.colours.get(c).copied().unwrap_or(0) as f64;
            Ok((
                (),
                vec![
                    ("accounts", run.snapshot.accounts as f64),
                    ("red", count("red")),
                    ("yellow", count("yellow")),
                    ("green", count("green")),
                ],
                None,
            ))
        })?;
        steps.run("predict", || {
            if store.promoted_model(MODE_HISTORY)?.is_none() {
                return Ok((
                    (),
                    Vec::new(),
                    Some("no promoted churn model: rules on churn_probability do not fire (`coco model train`)".into()),
                ));
            }
            let scored = crate::churn::scoring::score_accounts(store, config, as_of, None)?;
            let mut counts = vec![("accounts", scored.accounts as f64)];
            for (tier, n) in &scored.tiers {
                if tier == "high" {
                    counts.push(("high_risk", *n as f64));
                }
            }
            Ok(((), counts, Some(format!("model {}", scored.model_version))))
        })?;
    }
    let (inputs, plan): (alerts::AlertInputs, AlertPlan) = steps.run("evaluate", || {
        let inputs = alerts::load_inputs(store, config, actions, as_of)?;
        let plan = alerts::plan(store, config, actions, &inputs, Some(run_id))?;
        let note = (!plan.missing_past.is_empty()).then(|| {
            format!(
                "no snapshot within {} days of {} day(s) before: those change conditions did not hold",
                actions.alerts.settings.change_tolerance_days,
                plan.missing_past
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let counts = vec![
            ("accounts", inputs.base.frame.account_count() as f64),
            ("rules", actions.alerts.rules.len() as f64),
            ("firings", plan.firings as f64),
            ("cooling", plan.cooling as f64),
        ];
        Ok(((inputs, plan), counts, note))
    })?;
    let counts = steps.run("alerts", || {
        let counts = store.apply_alert_run(&plan.write)?;
        Ok((
            counts,
            vec![
                ("opened", counts.opened as f64),
                ("refreshed", counts.refreshed as f64),
                ("woken", counts.woken as f64),
                ("resolved", counts.resolved as f64),
                ("tasks", counts.tasks as f64),
                ("queued", counts.queued as f64),
                ("already_queued", counts.already_queued as f64),
            ],
            None,
        ))
    })?;
    let (lists, digests_queued) = steps.run("digests", || {
        let lists = daily_lists_from(store, actions, &inputs.base, as_of, None)?;
        let messages = digests(actions, &plan, &lists, &alerts::hierarchy(store)?);
        let (queued, already) = store.enqueue_messages(&messages)?;
        let non_empty = lists.iter().filter(|l| !l.items.is_empty()).count();
        Ok((
            (lists, queued),
            vec![
                ("lists", non_empty as f64),
                ("digests", queued as f64),
                ("already_queued", already as f64),
            ],
            None,
        ))
    })?;
    let delivery = if options.deliver {
        Some(steps.run("deliver", || {
            let notifier = outbox::notifier(actions)?;
            let report = outbox::deliver_due(store, actions, &notifier)?;
            Ok((
                report,
                vec![
                    ("attempted", report.attempted as f64),
                    ("delivered", report.delivered as f64),
                    ("retrying", report.retrying as f64),
                    ("dead", report.dead as f64),
                ],
                None,
            ))
        })?)
    } else {
        None
    };
    Ok(DailyRun {
        run_id,
        as_of,
        steps: Vec::new(),
        alerts: counts,
        firings: plan.firings,
        cooling: plan.cooling,
        digests_queued,
        lists: lists
            .iter()
            .map(|l| ListSummary {
                csm_id: l.csm_id.clone(),
                csm_name: l.csm_name.clone(),
                items: l.items.len(),
                top: l
                    .items
                    .first()
                    .map(|i| format!("{} — {}", i.account_name, i.why)),
            })
            .collect(),
        delivery,
        seconds: 0.0,
    })
}

/// One digest email per person with an address: the alerts of this run that waited for
/// the digest and were routed to them, and their list. Nobody gets an empty digest.
fn digests(
    actions: &ActionsConfig,
    plan: &AlertPlan,
    lists: &[DailyList],
    team: &Hierarchy,
) -> Vec<coco_store::actions::OutboxRow> {
    let n = &actions.notifications;
    if !(n.email.enabled && n.email.digest) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for list in lists {
        let mine: Vec<&alerts::OpenedAlert> = plan
            .opened
            .iter()
            .filter(|a| !a.row.interrupt && a.routing.everyone().any(|r| r.csm_id == list.csm_id))
            .collect();
        if mine.is_empty() && list.items.is_empty() {
            continue;
        }
        let Some(email) = team.person(&list.csm_id).and_then(|p| p.email.clone()) else {
            continue;
        };
        let views: Vec<AlertView<'_>> = mine
            .iter()
            .map(|a| AlertView {
                alert_id: a.row.alert_id,
                rule_id: &a.row.rule_id,
                rule_name: &a.rule_name,
                tier: a
                    .row
                    .tier
                    .parse()
                    .unwrap_or(coco_actions::rules::AlertTier::Watch),
                severity: a
                    .row
                    .severity
                    .parse()
                    .unwrap_or(coco_actions::rules::Severity::Low),
                opened_on: a.row.opened_on,
                context: &a.context,
                url: n.account_url(&a.row.account_id),
            })
            .collect();
        let rendered = digest_message(
            &list.csm_name,
            list.as_of,
            &views,
            Some(list),
            &n.my_day_url(&list.csm_id),
        );
        out.extend(email_to(
            actions,
            format!("digest-{}-{}", list.csm_id, list.as_of),
            "digest",
            Some(email.as_str()),
            &rendered.subject,
            &rendered.text,
            &rendered.html,
            None,
            &list.csm_id,
        ));
    }
    out
}
