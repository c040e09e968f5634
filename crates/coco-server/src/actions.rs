//! Alerts, tasks and the daily list on the web: My day (`/today`), the alerts inbox
//! (`/alerts`), an alert with its context pack (`/alerts/{id}`), the task list
//! (`/tasks`), the account 360's "Alerts and tasks" section, and the forms that
//! acknowledge, snooze, close and reopen alerts and complete and snooze tasks.
//!
//! The decisions are the engine's (`coco_engine::actions`) and the rows the store's
//! (`coco_store::actions`); this module only reads them, checks who may change them,
//! records each change in the audit log and forgets the daily lists it changes. These
//! pages carry forms with the viewer's CSRF token, so they are rendered per request
//! from cheap queries (the daily list itself is memoised: see `views::daily_list`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::{Extension, Form};
use chrono::NaiveDate;
use coco_actions::context::ContextPack;
use coco_actions::routing::Recipient;
use coco_charts::{LineChart, LineSeries};
use coco_core::{Permission, Role};
use coco_engine::actions::ActionsConfig;
use coco_engine::actions::alerts::StoredRouting;
use coco_engine::actions::daily::{DailyOptions, DailyRun};
use coco_store::Store;
use coco_store::actions::{AlertFilter, AlertRow, TaskFilter, TaskNote, TaskRow};
use coco_store::auth::AuditEntry;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Principal;
use crate::error::AppError;
use crate::pages::{PageResult, render_page, render_to_string, safe_next, size};
use crate::params::{
    ALERT_STATUS_CHOICES, ALERT_TIERS, AlertListParams, TASK_STATUS_CHOICES, TaskListParams,
    non_empty, parse_date,
};
use crate::state::AppState;
use crate::views::{self, today};

/// Rows the alert and task pages show (the API pages through all of them).
const ROWS_SHOWN: usize = 500;
/// The longest close reason or task note accepted.
const MAX_NOTE: usize = 2000;

// ---------------------------------------------------------------------------------
// What pages and the API show

/// An alert as the pages and the API show it (its context pack apart).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub alert_id: i64,
    pub rule_id: String,
    /// The rule's name in `alerts.toml` (its id when the rule is gone).
    pub rule_name: String,
    pub account_id: String,
    pub account_name: String,
    /// watch, intervene or escalate.
    pub tier: String,
    /// low, medium or high.
    pub severity: String,
    /// The risk profile the rule answers (what interventions are judged by).
    pub profile: String,
    /// open, acknowledged, snoozed, resolved (its condition no longer held) or closed.
    pub status: String,
    pub opened_on: NaiveDate,
    /// The latest run at which its condition still held.
    pub last_seen_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub close_reason: Option<String>,
    pub closed_by: Option<String>,
    pub snoozed_until: Option<NaiveDate>,
    pub owner_csm_id: Option<String>,
    /// Sent at once (true) rather than in the daily digest.
    pub interrupt: bool,
    pub headline: String,
    pub rules_version: String,
    pub run_id: Option<i64>,
}

impl Alert {
    pub fn from_row(
        row: &AlertRow,
        actions: &ActionsConfig,
        names: &HashMap<String, String>,
    ) -> Alert {
        Alert {
            alert_id: row.alert_id,
            rule_id: row.rule_id.clone(),
            rule_name: actions
                .alerts
                .rule(&row.rule_id)
                .map_or_else(|| row.rule_id.clone(), |rule| rule.name.clone()),
            account_id: row.account_id.clone(),
            account_name: names
                .get(&row.account_id)
                .cloned()
                .unwrap_or_else(|| row.account_id.clone()),
            tier: row.tier.clone(),
            severity: row.severity.clone(),
            profile: row.profile.clone(),
            status: row.status.clone(),
            opened_on: row.opened_on,
            last_seen_on: row.last_seen_on,
            closed_on: row.closed_on,
            close_reason: row.close_reason.clone(),
            closed_by: row.closed_by.clone(),
            snoozed_until: row.snoozed_until,
            owner_csm_id: row.owner_csm_id.clone(),
            interrupt: row.interrupt,
            headline: row.headline.clone(),
            rules_version: row.rules_version.clone(),
            run_id: row.run_id,
        }
    }

    /// Open, acknowledged or snoozed: someone still has to act on it.
    pub fn is_open(&self) -> bool {
        self.status
            .parse::<coco_actions::state::AlertStatus>()
            .is_ok_and(|s| s.is_open())
    }
}

/// A playbook task.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub task_id: i64,
    /// The alert whose playbook created it (None: added by hand).
    pub alert_id: Option<i64>,
    pub account_id: String,
    pub account_name: String,
    pub playbook_id: String,
    /// Its place in the playbook (1-based).
    pub step: i32,
    pub title: String,
    pub instructions: String,
    /// The message template to start from, if the playbook has one.
    pub template: Option<String>,
    /// Whose task it was meant to be (csm, manager, …).
    pub owner_role: String,
    pub owner_csm_id: Option<String>,
    pub due_on: NaiveDate,
    /// open, done, snoozed or cancelled.
    pub status: String,
    pub snoozed_until: Option<NaiveDate>,
    pub created_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub done_by: Option<String>,
}

impl Task {
    pub fn from_row(row: TaskRow, names: &HashMap<String, String>) -> Task {
        Task {
            account_name: names
                .get(&row.account_id)
                .cloned()
                .unwrap_or_else(|| row.account_id.clone()),
            task_id: row.task_id,
            alert_id: row.alert_id,
            account_id: row.account_id,
            playbook_id: row.playbook_id,
            step: row.step,
            title: row.title,
            instructions: row.instructions,
            template: row.template,
            owner_role: row.owner_role,
            owner_csm_id: row.owner_csm_id,
            due_on: row.due_on,
            status: row.status,
            snoozed_until: row.snoozed_until,
            created_on: row.created_on,
            done_on: row.done_on,
            done_by: row.done_by,
        }
    }
}

/// A note on a task.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub noted_at: chrono::NaiveDateTime,
    pub author: Option<String>,
    pub note: String,
}

impl From<TaskNote> for Note {
    fn from(note: TaskNote) -> Note {
        Note {
            noted_at: note.noted_at,
            author: note.author,
            note: note.note,
        }
    }
}

/// Who an alert was routed to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertRouting {
    /// The people the routing rule named (owner, manager, …).
    pub recipients: Vec<Recipient>,
    /// The people the escalation tree added.
    pub escalated_to: Vec<Recipient>,
    /// Told at once (true) rather than in the daily digest.
    pub interrupt: bool,
    /// Roles nobody holds, and other things the reader should know.
    pub notes: Vec<String>,
}

/// An alert with everything behind it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertDetail {
    pub alert: Alert,
    /// Why it fired (evidence with its source rows), the account's facts, the health
    /// drivers and history, the suggested play, the escalation, the planned tasks.
    pub context: ContextPack,
    pub routing: AlertRouting,
    /// The tasks its playbook created, by due date.
    pub tasks: Vec<Task>,
}

/// One alert with its context pack, routing and tasks.
pub fn alert_detail(
    store: &Store,
    actions: &ActionsConfig,
    names: &HashMap<String, String>,
    alert_id: i64,
) -> Result<AlertDetail, AppError> {
    let row = store.alert(alert_id)?;
    let context: ContextPack = serde_json::from_str(&row.context).map_err(|error| {
        AppError::internal(format!(
            "alert {alert_id} has an unreadable context pack: {error}"
        ))
    })?;
    let routing = match serde_json::from_str::<StoredRouting>(&row.recipients) {
        Ok(stored) => AlertRouting {
            recipients: stored.routing.recipients,
            escalated_to: stored.escalated_to,
            interrupt: row.interrupt,
            notes: stored.routing.notes,
        },
        Err(_) => AlertRouting {
            recipients: Vec::new(),
            escalated_to: Vec::new(),
            interrupt: row.interrupt,
            notes: vec!["the routing of this alert is not readable".into()],
        },
    };
    let tasks = store
        .tasks(&TaskFilter {
            alert_id: Some(alert_id),
            ..TaskFilter::default()
        })?
        .into_iter()
        .map(|t| Task::from_row(t, names))
        .collect();
    Ok(AlertDetail {
        alert: Alert::from_row(&row, actions, names),
        context,
        routing,
        tasks,
    })
}

/// Alerts a list request selects, newest first: (the window, how many in all).
pub fn list_alerts(
    store: &Store,
    actions: &ActionsConfig,
    names: &HashMap<String, String>,
    request: &crate::params::AlertListRequest,
) -> Result<(Vec<Alert>, usize), AppError> {
    let mut rows = store.alerts(&request.filter)?;
    if let Some(tier) = &request.tier {
        rows.retain(|r| &r.tier == tier);
    }
    rows.sort_by(|a, b| {
        b.opened_on
            .cmp(&a.opened_on)
            .then(b.alert_id.cmp(&a.alert_id))
    });
    let total = rows.len();
    let window = rows
        .iter()
        .skip(request.offset)
        .take(request.limit)
        .map(|r| Alert::from_row(r, actions, names))
        .collect();
    Ok((window, total))
}

/// Tasks a list request selects, by due date: (the window, how many in all).
pub fn list_tasks(
    store: &Store,
    names: &HashMap<String, String>,
    request: &crate::params::TaskListRequest,
) -> Result<(Vec<Task>, usize), AppError> {
    let rows = store.tasks(&request.filter)?;
    let total = rows.len();
    let window = rows
        .into_iter()
        .skip(request.offset)
        .take(request.limit)
        .map(|t| Task::from_row(t, names))
        .collect();
    Ok((window, total))
}

/// The team, for the owner filters and My day's choice: active CSMs by name.
fn team(store: &Store) -> Result<Vec<serde_json::Value>, AppError> {
    let mut people: Vec<_> = store
        .csm_directory()?
        .into_iter()
        .filter(|c| c.active)
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name).then(a.csm_id.cmp(&b.csm_id)));
    Ok(people
        .into_iter()
        .map(|c| json!({"csm_id": c.csm_id, "name": c.name}))
        .collect())
}

// ---------------------------------------------------------------------------------
// Changes

/// A change to an alert's status, checked.
#[derive(Debug, Clone)]
pub struct AlertChange {
    /// acknowledged, snoozed, closed or open (reopen).
    pub status: String,
    pub until: Option<NaiveDate>,
    pub reason: Option<String>,
}

/// The statuses a person may set on an alert (`resolved` is COCO's, when its
/// condition no longer holds).
pub const ALERT_CHANGES: &[&str] = &["acknowledged", "snoozed", "closed", "open"];
/// The statuses a person may set on a task.
pub const TASK_CHANGES: &[&str] = &["done", "snoozed", "open", "cancelled"];

fn check_until(status: &str, until: Option<NaiveDate>) -> Result<(), AppError> {
    match until {
        None if status == "snoozed" => Err(AppError::invalid(
            "until",
            "snoozing needs `until`: the date it comes back (YYYY-MM-DD)",
        )),
        Some(until) if status == "snoozed" && until <= today() => Err(AppError::invalid(
            "until",
            format!("`until` {until} is not after today ({})", today()),
        )),
        Some(_) if status != "snoozed" => Err(AppError::invalid(
            "until",
            "`until` goes with status snoozed only",
        )),
        _ => Ok(()),
    }
}

fn check_text(field: &str, value: &Option<String>) -> Result<Option<String>, AppError> {
    let text = non_empty(value);
    if text.as_ref().is_some_and(|t| t.chars().count() > MAX_NOTE) {
        return Err(AppError::invalid(
            field,
            format!("`{field}` is at most 2,000 characters"),
        ));
    }
    Ok(text)
}

impl AlertChange {
    pub fn parse(
        status: &str,
        until: &Option<String>,
        reason: &Option<String>,
    ) -> Result<AlertChange, AppError> {
        let status = status.trim();
        if !ALERT_CHANGES.contains(&status) {
            return Err(AppError::invalid(
                "status",
                format!(
                    "status `{status}` is not one of {} (reopen = open)",
                    ALERT_CHANGES.join(", ")
                ),
            ));
        }
        let until = parse_date("until", until)?;
        check_until(status, until)?;
        Ok(AlertChange {
            status: status.to_string(),
            until,
            reason: check_text("reason", reason)?,
        })
    }
}

/// A change to a task, checked.
#[derive(Debug, Clone)]
pub struct TaskChange {
    /// done, snoozed, open or cancelled.
    pub status: String,
    pub until: Option<NaiveDate>,
    pub note: Option<String>,
}

impl TaskChange {
    pub fn parse(
        status: &str,
        until: &Option<String>,
        note: &Option<String>,
    ) -> Result<TaskChange, AppError> {
        let status = status.trim();
        if !TASK_CHANGES.contains(&status) {
            return Err(AppError::invalid(
                "status",
                format!(
                    "status `{status}` is not one of {}",
                    TASK_CHANGES.join(", ")
                ),
            ));
        }
        let until = parse_date("until", until)?;
        check_until(status, until)?;
        Ok(TaskChange {
            status: status.to_string(),
            until,
            note: check_text("note", note)?,
        })
    }
}

/// An alert or task id from the path: a whole number, else a 400 naming it.
pub fn parse_id(field: &str, text: &str) -> Result<i64, AppError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| AppError::invalid(field, format!("`{field}` is a number, not `{text}`")))
}

/// Sets an alert's status on behalf of `principal` (who needs [`Permission::WorkAlerts`]),
/// records it in the audit log, and forgets the daily lists.
pub async fn change_alert(
    state: &AppState,
    principal: &Principal,
    alert_id: i64,
    change: AlertChange,
) -> Result<Alert, AppError> {
    principal.require(Permission::WorkAlerts)?;
    let names = views::account_names(state).await?;
    let actions = Arc::clone(&state.inner.actions);
    let actor = principal.actor();
    let by = principal.user.username.clone();
    let changed = state
        .pool()
        .run(move |store| {
            let (before, row) = coco_engine::actions::set_alert_status(
                store,
                alert_id,
                &change.status,
                today(),
                Some(&by),
                change.reason.as_deref(),
                change.until,
            )?;
            store.audit(&AuditEntry {
                actor: &actor,
                action: "alert.status",
                target: Some(&alert_id.to_string()),
                detail: json!({
                    "account_id": row.account_id,
                    "rule_id": row.rule_id,
                    "from": before.status,
                    "to": row.status,
                    "until": change.until,
                    "reason": change.reason,
                }),
                ip: None,
            })?;
            Ok(Alert::from_row(&row, &actions, &names))
        })
        .await?;
    state.inner.views.invalidate_actions();
    Ok(changed)
}

/// Updates a task on behalf of `principal` (who needs [`Permission::WorkAlerts`]): its
/// status (done today, snoozed until a date, reopened, cancelled) and an optional note;
/// audited; the daily lists are forgotten.
pub async fn change_task(
    state: &AppState,
    principal: &Principal,
    task_id: i64,
    change: TaskChange,
) -> Result<(Task, Vec<Note>), AppError> {
    principal.require(Permission::WorkAlerts)?;
    let names = views::account_names(state).await?;
    let actor = principal.actor();
    let by = principal.user.username.clone();
    let changed = state
        .pool()
        .run(move |store| {
            let before = store.task(task_id)?;
            let row = store.update_task(
                task_id,
                &change.status,
                today(),
                Some(&by),
                change.until,
                change.note.as_deref(),
            )?;
            store.audit(&AuditEntry {
                actor: &actor,
                action: "task.update",
                target: Some(&task_id.to_string()),
                detail: json!({
                    "account_id": row.account_id,
                    "alert_id": row.alert_id,
                    "from": before.status,
                    "to": row.status,
                    "until": change.until,
                    "note": change.note,
                }),
                ip: None,
            })?;
            let notes = store
                .task_notes(task_id)?
                .into_iter()
                .map(Note::from)
                .collect();
            Ok((Task::from_row(row, &names), notes))
        })
        .await?;
    state.inner.views.invalidate_actions();
    Ok(changed)
}

/// Runs the daily run (score → predictions → alerts → digests → delivery, as
/// `coco run daily`) on a store handle, one at a time, then forgets what it changed:
/// every view when it scored (and warms the defaults up again), the daily lists when
/// it only alerted.
pub async fn daily_run(state: &AppState, options: DailyOptions) -> Result<DailyRun, AppError> {
    let _running = state.inner.actions_lock.lock().await;
    let config = Arc::clone(&state.inner.config);
    let actions = Arc::clone(&state.inner.actions);
    let refresh = options.refresh;
    let result = state
        .pool()
        .run(move |store| {
            Ok(coco_engine::actions::daily::run_daily(
                store, &config, &actions, &options,
            )?)
        })
        .await;
    // A failed run may have scored before it failed: forget as much either way.
    if refresh {
        state.inner.views.invalidate();
        tokio::spawn(views::warm_up(state.clone()));
    } else {
        state.inner.views.invalidate_actions();
    }
    result
}

// ---------------------------------------------------------------------------------
// Forms

/// A form on an alert: the status to set, with `until` (snooze) or `reason` (close),
/// and the page to return to.
#[derive(Debug, Deserialize)]
pub struct AlertForm {
    pub status: String,
    pub until: Option<String>,
    pub reason: Option<String>,
    pub next: Option<String>,
}

/// Where a form returns to: its `next` when it is a path of this site.
fn back_to(next: &Option<String>, fallback: String) -> String {
    match non_empty(next) {
        Some(next) => safe_next(Some(&next)),
        None => fallback,
    }
}

pub async fn alert_submit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(alert_id): Path<String>,
    Form(form): Form<AlertForm>,
) -> PageResult {
    let alert_id = crate::actions::parse_id("alert_id", &alert_id)?;
    principal.require(Permission::WorkAlerts)?;
    let change = AlertChange::parse(&form.status, &form.until, &form.reason)?;
    change_alert(&state, &principal, alert_id, change).await?;
    Ok(Redirect::to(&back_to(&form.next, format!("/alerts/{alert_id}"))).into_response())
}

/// A form on a task: done (with an optional note), snoozed until a date, reopened.
#[derive(Debug, Deserialize)]
pub struct TaskForm {
    pub status: String,
    pub until: Option<String>,
    pub note: Option<String>,
    pub next: Option<String>,
}

pub async fn task_submit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(task_id): Path<String>,
    Form(form): Form<TaskForm>,
) -> PageResult {
    let task_id = crate::actions::parse_id("task_id", &task_id)?;
    principal.require(Permission::WorkAlerts)?;
    let change = TaskChange::parse(&form.status, &form.until, &form.note)?;
    change_task(&state, &principal, task_id, change).await?;
    Ok(Redirect::to(&back_to(&form.next, "/tasks".into())).into_response())
}

// ---------------------------------------------------------------------------------
// Pages

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct TodayParams {
    /// A CSM's id or name (default: the viewer's CSM).
    pub csm: Option<String>,
    pub as_of: Option<String>,
}

/// The CSM a request for a daily list means: `?csm=`, else the viewer's own.
pub fn today_csm(principal: &Principal, csm: &Option<String>) -> Option<String> {
    non_empty(csm).or_else(|| principal.user.csm_id.clone())
}

/// My day: the viewer's CSM's list (leaders, admins and users without a CSM pick one).
pub async fn today_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<TodayParams>,
) -> PageResult {
    let as_of = parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let csm = today_csm(&principal, &params.csm);
    let list = match &csm {
        Some(csm) => Some(views::daily_list(&state, as_of, csm).await?),
        None => None,
    };
    let (team, acknowledged) = state
        .pool()
        .run(|store| {
            let acknowledged: BTreeSet<i64> = store
                .alerts(&AlertFilter {
                    statuses: vec!["acknowledged".into()],
                    ..AlertFilter::default()
                })?
                .into_iter()
                .map(|a| a.alert_id)
                .collect();
            Ok((team(store)?, acknowledged))
        })
        .await?;
    let can_pick =
        matches!(principal.role(), Role::Admin | Role::Leader) || principal.user.csm_id.is_none();
    let query: Vec<String> = [("csm", &params.csm), ("as_of", &params.as_of)]
        .iter()
        .filter_map(|(key, value)| {
            non_empty(value).map(|v| format!("{key}={}", crate::params::percent_encode(&v)))
        })
        .collect();
    let here = if query.is_empty() {
        "/today".to_string()
    } else {
        format!("/today?{}", query.join("&"))
    };
    let items: Vec<serde_json::Value> = list
        .as_ref()
        .map(|list| {
            list.items
                .iter()
                .map(|item| {
                    json!({
                        "item": item,
                        "kind": item.kind.as_str(),
                        "acknowledged": item.alert_id.is_some_and(|id| acknowledged.contains(&id)),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    render_page(
        &state,
        &principal,
        "today.html",
        "today",
        json!({
            "list": list.as_deref(),
            "items": items,
            "not_shown": list.as_ref().map(|l| l.not_shown.iter().map(|(kind, n)| json!({"kind": kind.as_str(), "count": n})).collect::<Vec<_>>()),
            "csm": csm,
            "team": team,
            "can_pick": can_pick,
            "can_work": principal.can(Permission::WorkAlerts),
            "here": here,
            "as_of": params.as_of,
        }),
    )
}

/// The alerts inbox: filters status (open by default), owner and tier; newest first.
pub async fn alerts_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<AlertListParams>,
) -> PageResult {
    let request = params.parse(ROWS_SHOWN)?;
    let names = views::account_names(&state).await?;
    let actions = Arc::clone(&state.inner.actions);
    let (alerts, total, team) = state
        .pool()
        .run(move |store| {
            let (alerts, total) = list_alerts(store, &actions, &names, &request)?;
            Ok((alerts, total, team(store)?))
        })
        .await?;
    // Each alert's Draft button: the outreach draft with the motive its profile suggests.
    let drafts: std::collections::BTreeMap<String, String> = alerts
        .iter()
        .map(|a| {
            (
                a.alert_id.to_string(),
                crate::drafts::alert_draft_href(&a.account_id, &a.profile),
            )
        })
        .collect();
    render_page(
        &state,
        &principal,
        "alerts.html",
        "alerts",
        json!({
            "alerts": alerts,
            "drafts": drafts,
            "total": total,
            "params": params,
            "status": params.status.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into()),
            "statuses": ALERT_STATUS_CHOICES,
            "tiers": ALERT_TIERS,
            "team": team,
        }),
    )
}

/// One alert: its context pack, routing and tasks, and the forms that work it.
pub async fn alert_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(alert_id): Path<String>,
) -> PageResult {
    let alert_id = crate::actions::parse_id("alert_id", &alert_id)?;
    let names = views::account_names(&state).await?;
    let actions = Arc::clone(&state.inner.actions);
    let detail = state
        .pool()
        .run(move |store| alert_detail(store, &actions, &names, alert_id))
        .await?;
    let history = &detail.context.history;
    let chart = (history.len() > 1).then(|| {
        LineChart {
            title: "Health at the latest snapshots".into(),
            x_labels: history
                .iter()
                .map(|(date, _)| date.format("%Y-%m-%d").to_string())
                .collect(),
            series: vec![LineSeries {
                name: "health score".into(),
                class: "health".into(),
                points: history.iter().map(|(_, score)| Some(*score)).collect(),
            }],
            y_min: Some(0.0),
            y_max: Some(100.0),
            y_unit: String::new(),
            bands: Vec::new(),
            size: size(420, 160),
        }
        .render()
    });
    let title = format!("{} — {}", detail.alert.rule_name, detail.alert.account_name);
    render_page(
        &state,
        &principal,
        "alert.html",
        "alerts",
        json!({
            "title": title,
            "a": detail.alert,
            "draft_href": crate::drafts::alert_draft_href(&detail.alert.account_id, &detail.alert.profile),
            "open": detail.alert.is_open(),
            "context": detail.context,
            "routing": detail.routing,
            "tasks": detail.tasks,
            "history_chart": chart,
            "can_work": principal.can(Permission::WorkAlerts),
            "today": today(),
        }),
    )
}

/// Tasks by due date: filters owner and status (open by default), due by.
pub async fn tasks_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<TaskListParams>,
) -> PageResult {
    let request = params.parse(ROWS_SHOWN)?;
    let names = views::account_names(&state).await?;
    let (tasks, total, team) = state
        .pool()
        .run(move |store| {
            let (tasks, total) = list_tasks(store, &names, &request)?;
            Ok((tasks, total, team(store)?))
        })
        .await?;
    let query = task_query(&params);
    render_page(
        &state,
        &principal,
        "tasks.html",
        "tasks",
        json!({
            "tasks": tasks,
            "total": total,
            "params": params,
            "status": params.status.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into()),
            "statuses": TASK_STATUS_CHOICES,
            "team": team,
            "can_work": principal.can(Permission::WorkAlerts),
            "today": today(),
            "here": if query.is_empty() { "/tasks".to_string() } else { format!("/tasks?{query}") },
        }),
    )
}

/// The task list's filters as a query string (to come back to after a form).
fn task_query(params: &TaskListParams) -> String {
    [
        ("status", &params.status),
        ("owner", &params.owner),
        ("account", &params.account),
        ("due_by", &params.due_by),
    ]
    .iter()
    .filter_map(|(key, value)| {
        non_empty(value).map(|v| format!("{key}={}", crate::params::percent_encode(&v)))
    })
    .collect::<Vec<_>>()
    .join("&")
}

/// The account 360's "Alerts and tasks" section: the account's open alerts (each
/// linking to its page) and open tasks with their Done buttons. Rendered per request
/// (the buttons carry the viewer's CSRF token) into the cached page.
pub async fn account_section(
    state: &AppState,
    principal: &Principal,
    account_id: &str,
) -> Result<String, AppError> {
    let names = views::account_names(state).await?;
    let actions = Arc::clone(&state.inner.actions);
    let account = account_id.to_string();
    let (alerts, tasks) = state
        .pool()
        .run(move |store| {
            let alerts: Vec<Alert> = store
                .alerts(&AlertFilter {
                    statuses: crate::params::alert_statuses("open"),
                    account_id: Some(account.clone()),
                    ..AlertFilter::default()
                })?
                .iter()
                .rev()
                .map(|r| Alert::from_row(r, &actions, &names))
                .collect();
            let tasks: Vec<Task> = store
                .tasks(&TaskFilter {
                    statuses: crate::params::task_statuses("open"),
                    account_id: Some(account),
                    ..TaskFilter::default()
                })?
                .into_iter()
                .map(|t| Task::from_row(t, &names))
                .collect();
            Ok((alerts, tasks))
        })
        .await?;
    render_to_string(
        state,
        "account_actions.html",
        json!({
            "alerts": alerts,
            "tasks": tasks,
            "viewer": {"csrf": principal.csrf_token()},
            "can_work": principal.can(Permission::WorkAlerts),
            "here": format!("/accounts/{}#account-actions", crate::params::percent_encode(account_id)),
            "today": today(),
        }),
    )
}

/// Where the account 360's cached content takes its per-request "Alerts and tasks"
/// section (an HTML comment: escaped data can never produce it).
pub const ACCOUNT_SECTION_SLOT: &str = "<!--coco:account-actions-->";

#[cfg(test)]
mod tests {
    use super::*;

    fn some(text: &str) -> Option<String> {
        Some(text.to_string())
    }

    #[test]
    fn alert_changes_are_checked_before_they_reach_the_store() {
        let later = (today() + chrono::Days::new(3)).to_string();
        let snooze = AlertChange::parse("snoozed", &some(&later), &None).unwrap();
        assert_eq!(snooze.until.map(|d| d.to_string()), Some(later.clone()));
        let close = AlertChange::parse(" closed ", &None, &some("  renewal signed ")).unwrap();
        assert_eq!(
            (close.status.as_str(), close.reason.as_deref()),
            ("closed", Some("renewal signed"))
        );
        assert!(AlertChange::parse("acknowledged", &some(""), &some("")).is_ok());
        for (status, until, reason, field) in [
            ("resolved", None, None, "status"),
            ("snoozed", None, None, "until"),
            ("snoozed", some(&today().to_string()), None, "until"),
            ("snoozed", some("next week"), None, "until"),
            ("acknowledged", some(&later), None, "until"),
            ("closed", None, some(&"x".repeat(MAX_NOTE + 1)), "reason"),
        ] {
            let error = AlertChange::parse(status, &until, &reason).unwrap_err();
            assert_eq!(error.field.as_deref(), Some(field), "{status} {until:?}");
        }
    }

    #[test]
    fn task_changes_are_checked_before_they_reach_the_store() {
        let done = TaskChange::parse("done", &None, &some("called the sponsor")).unwrap();
        assert_eq!(done.note.as_deref(), Some("called the sponsor"));
        assert!(TaskChange::parse("cancelled", &None, &None).is_ok());
        assert!(TaskChange::parse("open", &None, &None).is_ok());
        for (status, until, field) in [
            ("finished", None, "status"),
            ("snoozed", None, "until"),
            ("done", some("2999-01-01"), "until"),
        ] {
            let error = TaskChange::parse(status, &until, &None).unwrap_err();
            assert_eq!(error.field.as_deref(), Some(field), "{status}");
        }
    }

    #[test]
    fn forms_return_only_to_paths_of_this_site() {
        assert_eq!(
            back_to(&some("/today?csm=csm_001"), "/x".into()),
            "/today?csm=csm_001"
        );
        assert_eq!(back_to(&some("https://evil.example/"), "/x".into()), "/");
        assert_eq!(back_to(&some("//evil.example/"), "/x".into()), "/");
        assert_eq!(back_to(&None, "/alerts/3".into()), "/alerts/3");
    }
}
