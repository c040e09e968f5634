//! `/api/v1` for alerts, tasks, the daily lists, the outbox, the run log and
//! interventions: the same reads and changes as the pages (`crate::actions`), with the
//! API's auth, error and OpenAPI conventions (see `api.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{NaiveDate, NaiveDateTime};
use coco_core::Permission;
use coco_engine::actions::daily::DailyOptions;
use coco_store::actions::InterventionRow;
use coco_store::auth::AuditEntry;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::actions::{
    Alert, AlertChange, AlertDetail, Note, Task, TaskChange, TodayParams, alert_detail,
    change_alert, change_task, daily_run, list_alerts, list_tasks, today_csm,
};
use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::params::{AlertListParams, TaskListParams, non_empty, parse_date};
use crate::state::AppState;
use crate::views::{self, today};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(alerts))
        .route("/alerts/{alert_id}", get(alert))
        .route("/alerts/{alert_id}/status", post(alert_status))
        .route("/tasks", get(tasks))
        .route("/tasks/{task_id}", post(task_update))
        .route("/today", get(today_list))
        .route("/outbox", get(outbox))
        .route("/runs", get(runs))
        .route("/runs/daily", post(run_daily))
        .route("/interventions", post(record_intervention))
        .route("/interventions/report", get(interventions_report))
}

/// Parses a JSON body, naming its expected fields when it does not parse.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8], fields: &str) -> Result<T, AppError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|error| {
        AppError::invalid("body", format!("the body must be JSON {fields}: {error}"))
    })
}

// ---------------------------------------------------------------------------------
// Alerts

/// A window of the alerts a filter selects, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AlertList {
    /// Alerts matching the filters (all pages).
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub alerts: Vec<Alert>,
}

/// Alerts, newest first, with their tier, severity, status and headline.
#[utoipa::path(get, path = "/api/v1/alerts",
    params(
        ("status" = Option<String>, Query, description = "open (open, acknowledged, snoozed; the default), closed (resolved, closed), all, acknowledged, snoozed or resolved"),
        ("owner" = Option<String>, Query, description = "Owner CSM id"),
        ("account" = Option<String>, Query, description = "Account id"),
        ("tier" = Option<String>, Query, description = "watch, intervene or escalate"),
        ("limit" = Option<usize>, Query, description = "1–500; default 100"),
        ("offset" = Option<usize>, Query, description = "default 0"),
    ),
    responses((status = 200, body = AlertList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn alerts(
    State(state): State<AppState>,
    Query(params): Query<AlertListParams>,
) -> Result<Json<AlertList>, AppError> {
    let request = params.parse(100)?;
    let names = views::account_names(&state).await?;
    let actions = Arc::clone(&state.inner.actions);
    let (limit, offset) = (request.limit, request.offset);
    let (alerts, total) = state
        .pool()
        .run(move |store| list_alerts(store, &actions, &names, &request))
        .await?;
    Ok(Json(AlertList {
        total,
        limit,
        offset,
        alerts,
    }))
}

/// One alert with its context pack (headline, evidence with source rows, facts,
/// drivers, history, suggested play, escalation), its routing and its tasks.
#[utoipa::path(get, path = "/api/v1/alerts/{alert_id}",
    params(("alert_id" = i64, Path)),
    responses((status = 200, body = AlertDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn alert(
    State(state): State<AppState>,
    Path(alert_id): Path<String>,
) -> Result<Json<AlertDetail>, AppError> {
    let alert_id = crate::actions::parse_id("alert_id", &alert_id)?;
    let names = views::account_names(&state).await?;
    let actions = Arc::clone(&state.inner.actions);
    Ok(Json(
        state
            .pool()
            .run(move |store| alert_detail(store, &actions, &names, alert_id))
            .await?,
    ))
}

/// A change to an alert's status.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertStatusBody {
    /// acknowledged, snoozed, closed, or open (reopen).
    pub status: String,
    /// With snoozed: the date it comes back (YYYY-MM-DD, after today).
    pub until: Option<String>,
    /// Why (recorded with a close, and in the audit log).
    pub reason: Option<String>,
}

/// Acknowledge, snooze (until a date), close (with a reason) or reopen an alert. CSMs,
/// leaders and admins; audited (`alert.status`); 409 when acknowledging, snoozing or
/// closing an alert that is no longer open.
#[utoipa::path(post, path = "/api/v1/alerts/{alert_id}/status",
    params(("alert_id" = i64, Path)),
    request_body = AlertStatusBody,
    responses((status = 200, body = Alert), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn alert_status(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(alert_id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Alert>, AppError> {
    let alert_id = crate::actions::parse_id("alert_id", &alert_id)?;
    principal.require(Permission::WorkAlerts)?;
    let body: AlertStatusBody = body(&bytes, "{\"status\", \"until\", \"reason\"}")?;
    let change = AlertChange::parse(&body.status, &body.until, &body.reason)?;
    Ok(Json(
        change_alert(&state, &principal, alert_id, change).await?,
    ))
}

// ---------------------------------------------------------------------------------
// Tasks

/// A window of the tasks a filter selects, by due date.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TaskList {
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub tasks: Vec<Task>,
}

/// Playbook tasks by due date.
#[utoipa::path(get, path = "/api/v1/tasks",
    params(
        ("status" = Option<String>, Query, description = "open (open, snoozed; the default), done, cancelled, snoozed or all"),
        ("owner" = Option<String>, Query, description = "Owner CSM id"),
        ("account" = Option<String>, Query, description = "Account id"),
        ("due_by" = Option<String>, Query, description = "Due on or before (YYYY-MM-DD)"),
        ("limit" = Option<usize>, Query, description = "1–500; default 100"),
        ("offset" = Option<usize>, Query, description = "default 0"),
    ),
    responses((status = 200, body = TaskList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn tasks(
    State(state): State<AppState>,
    Query(params): Query<TaskListParams>,
) -> Result<Json<TaskList>, AppError> {
    let request = params.parse(100)?;
    let names = views::account_names(&state).await?;
    let (limit, offset) = (request.limit, request.offset);
    let (tasks, total) = state
        .pool()
        .run(move |store| list_tasks(store, &names, &request))
        .await?;
    Ok(Json(TaskList {
        total,
        limit,
        offset,
        tasks,
    }))
}

/// A change to a task.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskUpdateBody {
    /// done, snoozed, open or cancelled.
    pub status: String,
    /// With snoozed: until when (YYYY-MM-DD, after today).
    pub until: Option<String>,
    /// A note kept with the task (at most 2,000 characters).
    pub note: Option<String>,
}

/// A task and its notes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TaskBody {
    pub task: Task,
    pub notes: Vec<Note>,
}

/// Mark a task done (today, by you), snooze it until a date, reopen or cancel it, with
/// an optional note. CSMs, leaders and admins; audited (`task.update`).
#[utoipa::path(post, path = "/api/v1/tasks/{task_id}",
    params(("task_id" = i64, Path)),
    request_body = TaskUpdateBody,
    responses((status = 200, body = TaskBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn task_update(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(task_id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<TaskBody>, AppError> {
    let task_id = crate::actions::parse_id("task_id", &task_id)?;
    principal.require(Permission::WorkAlerts)?;
    let body: TaskUpdateBody = body(&bytes, "{\"status\", \"until\", \"note\"}")?;
    let change = TaskChange::parse(&body.status, &body.until, &body.note)?;
    let (task, notes) = change_task(&state, &principal, task_id, change).await?;
    Ok(Json(TaskBody { task, notes }))
}

// ---------------------------------------------------------------------------------
// The daily list

/// A CSM's ordered list for the day (`csm`: an id or a name; default the caller's
/// CSM): open alerts, tasks due, renewals approaching, expansion windows and silent
/// accounts, ranked, each with one line of why.
#[utoipa::path(get, path = "/api/v1/today",
    params(("csm" = Option<String>, Query, description = "CSM id or name; default the caller's CSM"),
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today")),
    responses((status = 200, body = coco_actions::today::DailyList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn today_list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<TodayParams>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let as_of = parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let csm = today_csm(&principal, &params.csm).ok_or_else(|| {
        AppError::invalid(
            "csm",
            "your user is not linked to a CSM: say whose list (`csm`, an id or a name)",
        )
    })?;
    let list = views::daily_list(&state, as_of, &csm).await?;
    Ok(Json(&*list).into_response())
}

// ---------------------------------------------------------------------------------
// The outbox and the run log

/// A queued, delivered or dead-lettered message (its body apart).
#[derive(Serialize, utoipa::ToSchema)]
pub struct OutboxMessage {
    pub message_id: i64,
    /// What receivers drop repeats by.
    pub idempotency_key: String,
    /// alert, digest, webhook event …
    pub kind: String,
    /// email, slack or webhook.
    pub channel: String,
    /// An address, a team's Slack channel name, or `webhook`.
    pub destination: String,
    pub subject: String,
    pub alert_id: Option<i64>,
    pub csm_id: Option<String>,
    /// pending, delivered or dead.
    pub status: String,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutboxBody {
    /// Messages per status, over the whole outbox.
    pub counts: BTreeMap<String, usize>,
    /// Newest first.
    pub messages: Vec<OutboxMessage>,
}

#[derive(Debug, Deserialize)]
pub struct OutboxParams {
    pub status: Option<String>,
    pub limit: Option<String>,
}

fn limit(value: &Option<String>, default: usize) -> Result<usize, AppError> {
    match non_empty(value) {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| AppError::invalid("limit", "`limit` is 1–500")),
    }
}

/// The notification outbox, newest first, with the counts per status.
#[utoipa::path(get, path = "/api/v1/outbox",
    params(("status" = Option<String>, Query, description = "pending, delivered, dead or all (the default)"),
        ("limit" = Option<usize>, Query, description = "1–500; default 50")),
    responses((status = 200, body = OutboxBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn outbox(
    State(state): State<AppState>,
    Query(params): Query<OutboxParams>,
) -> Result<Json<OutboxBody>, AppError> {
    let statuses = match non_empty(&params.status).as_deref() {
        None | Some("all") => Vec::new(),
        Some(one @ ("pending" | "delivered" | "dead")) => vec![one.to_string()],
        Some(other) => {
            return Err(AppError::invalid(
                "status",
                format!("unknown status `{other}`; use pending, delivered, dead or all"),
            ));
        }
    };
    let limit = limit(&params.limit, 50)?;
    let (counts, rows) = state
        .pool()
        .run(move |store| Ok((store.outbox_counts()?, store.outbox(&statuses, limit)?)))
        .await?;
    Ok(Json(OutboxBody {
        counts,
        messages: rows
            .into_iter()
            .map(|m| OutboxMessage {
                message_id: m.message_id,
                idempotency_key: m.idempotency_key,
                kind: m.kind,
                channel: m.channel,
                destination: m.destination,
                subject: m.subject,
                alert_id: m.alert_id,
                csm_id: m.csm_id,
                status: m.status,
                attempts: m.attempts,
                created_at: m.created_at,
                next_attempt_at: m.next_attempt_at,
                last_attempt_at: m.last_attempt_at,
                last_error: m.last_error,
                delivered_at: m.delivered_at,
            })
            .collect(),
    }))
}

/// One run in the log.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Run {
    pub run_id: i64,
    /// daily
    pub kind: String,
    pub as_of: NaiveDate,
    /// cli, api or scheduler.
    pub trigger: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    /// running, ok, failed or interrupted.
    pub status: String,
    /// Each step with its seconds and counts (`name`, `seconds`, `counts`, `note`).
    #[schema(value_type = Vec<Object>)]
    pub steps: serde_json::Value,
    /// Where a failed run stopped, and why.
    pub error: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RunsBody {
    /// Newest first.
    pub runs: Vec<Run>,
}

#[derive(Debug, Deserialize)]
pub struct RunsParams {
    pub limit: Option<String>,
}

/// The run log: every daily run (CLI, API, scheduler) with its steps' timings and
/// counts, newest first.
#[utoipa::path(get, path = "/api/v1/runs",
    params(("limit" = Option<usize>, Query, description = "1–500; default 20")),
    responses((status = 200, body = RunsBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn runs(
    State(state): State<AppState>,
    Query(params): Query<RunsParams>,
) -> Result<Json<RunsBody>, AppError> {
    let limit = limit(&params.limit, 20)?;
    let rows = state
        .pool()
        .run(move |store| Ok(store.runs(limit)?))
        .await?;
    Ok(Json(RunsBody {
        runs: rows
            .into_iter()
            .map(|r| Run {
                steps: serde_json::from_str(&r.steps).unwrap_or_else(|_| json!([])),
                run_id: r.run_id,
                kind: r.kind,
                as_of: r.as_of,
                trigger: r.trigger,
                started_at: r.started_at,
                finished_at: r.finished_at,
                status: r.status,
                error: r.error,
            })
            .collect(),
    }))
}

/// What a daily run from the API does.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DailyRunBody {
    /// YYYY-MM-DD, not after today; default today.
    pub as_of: Option<String>,
    /// Score and predict first (default true); false alerts on the stored snapshot.
    pub refresh: Option<bool>,
    /// Deliver the messages due at the end (default true).
    pub deliver: Option<bool>,
}

/// Run the daily run now (score → predictions → alerts with their tasks and messages →
/// digests → delivery), as `coco run daily` does; recorded in the run log with trigger
/// `api`. Leaders and admins (the scoring permission); audited (`run.daily`).
#[utoipa::path(post, path = "/api/v1/runs/daily",
    request_body = DailyRunBody,
    responses((status = 200, description = "The run: steps with timings and counts, alerts opened/refreshed/resolved, tasks, messages queued, each CSM's list counted, the delivery (see `coco run daily --format json`)", body = Object),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn run_daily(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    bytes: axum::body::Bytes,
) -> Result<Json<coco_engine::actions::daily::DailyRun>, AppError> {
    principal.require(Permission::Score)?;
    let body: DailyRunBody = body(&bytes, "{\"as_of\", \"refresh\", \"deliver\"}")?;
    let as_of = parse_date("as_of", &body.as_of)?.unwrap_or_else(today);
    if as_of > today() {
        return Err(AppError::invalid(
            "as_of",
            format!("{as_of} has not happened yet: a run uses only data known on its date"),
        ));
    }
    let options = DailyOptions {
        as_of,
        trigger: "api".into(),
        refresh: body.refresh.unwrap_or(true),
        deliver: body.deliver.unwrap_or(true),
    };
    let run = daily_run(&state, options.clone()).await?;
    let actor = principal.actor();
    let detail = json!({
        "run_id": run.run_id,
        "refresh": options.refresh,
        "deliver": options.deliver,
        "alerts": run.alerts,
        "digests_queued": run.digests_queued,
    });
    state
        .pool()
        .run(move |store| {
            Ok(store.audit(&AuditEntry {
                actor: &actor,
                action: "run.daily",
                target: Some(&as_of.to_string()),
                detail,
                ip: None,
            })?)
        })
        .await?;
    Ok(Json(run))
}

// ---------------------------------------------------------------------------------
// Interventions

/// What was done for an account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterventionBody {
    pub account_id: String,
    /// A playbook id of `playbooks.toml`.
    pub play: String,
    /// call, email, meeting, qbr, in_app …
    pub channel: String,
    pub stakeholder: Option<String>,
    /// The alert it answered (its risk profile is recorded with it).
    pub alert_id: Option<i64>,
    /// The risk profile, when no alert is given.
    pub profile: Option<String>,
    /// YYYY-MM-DD, not after today; default today.
    pub done_on: Option<String>,
    pub note: Option<String>,
}

/// A recorded intervention.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordedIntervention {
    pub intervention_id: i64,
    pub account_id: String,
    pub alert_id: Option<i64>,
    pub play: String,
    pub profile: String,
    pub channel: String,
    pub stakeholder: Option<String>,
    pub done_on: NaiveDate,
    pub note: Option<String>,
    pub recorded_by: Option<String>,
}

fn required(field: &str, value: &str, max: usize) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, format!("`{field}` is required")));
    }
    if value.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("`{field}` is at most {max} characters"),
        ));
    }
    Ok(value.to_string())
}

/// Record what was done for an account — play, channel, stakeholder, the alert it
/// answered — as `coco interventions record` does; what followed it is judged later
/// (`GET /api/v1/interventions/report`). CSMs, leaders and admins; audited
/// (`intervention.record`).
#[utoipa::path(post, path = "/api/v1/interventions",
    request_body = InterventionBody,
    responses((status = 200, body = RecordedIntervention), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn record_intervention(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    bytes: axum::body::Bytes,
) -> Result<Json<RecordedIntervention>, AppError> {
    principal.require(Permission::WorkAlerts)?;
    let body: InterventionBody = body(
        &bytes,
        "{\"account_id\", \"play\", \"channel\", \"stakeholder\", \"alert_id\", \"profile\", \"done_on\", \"note\"}",
    )?;
    let account_id = required("account_id", &body.account_id, 200)?;
    let play = required("play", &body.play, 200)?;
    let channel = required("channel", &body.channel, 60)?;
    let stakeholder = non_empty(&body.stakeholder);
    if stakeholder
        .as_ref()
        .is_some_and(|s| s.chars().count() > 200)
    {
        return Err(AppError::invalid(
            "stakeholder",
            "`stakeholder` is at most 200 characters",
        ));
    }
    let note = non_empty(&body.note);
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::invalid(
            "note",
            "`note` is at most 2,000 characters",
        ));
    }
    let done_on = parse_date("done_on", &body.done_on)?.unwrap_or_else(today);
    if done_on > today() {
        return Err(AppError::invalid(
            "done_on",
            format!("{done_on} has not happened yet"),
        ));
    }
    let actions = Arc::clone(&state.inner.actions);
    if actions.playbooks.playbook(&play).is_none() {
        return Err(AppError::invalid(
            "play",
            format!(
                "`{play}` is not a playbook of {}; playbooks: {}",
                actions.playbooks_origin,
                actions
                    .playbooks
                    .playbooks
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let names = views::account_names(&state).await?;
    if !names.contains_key(&account_id) {
        return Err(AppError::not_found(format!("no account {account_id}")));
    }
    let profile_given = non_empty(&body.profile);
    let alert_id = body.alert_id;
    let actor = principal.actor();
    let by = principal.user.username.clone();
    let recorded = state
        .pool()
        .run(move |store| {
            let alert = alert_id.map(|id| store.alert(id)).transpose()?;
            let profile = match (&alert, profile_given) {
                (Some(alert), _) => alert.profile.clone(),
                (None, Some(profile)) => profile,
                (None, None) => {
                    return Err(AppError::invalid(
                        "profile",
                        "give `alert_id` or `profile` (the risk profile the play answered: a rule's `profile` in alerts.toml)",
                    ));
                }
            };
            if let Some(alert) = &alert
                && alert.account_id != account_id
            {
                return Err(AppError::invalid(
                    "alert_id",
                    format!(
                        "alert {} is about {}, not {account_id}",
                        alert.alert_id, alert.account_id
                    ),
                ));
            }
            let mut row = InterventionRow {
                intervention_id: 0,
                account_id,
                alert_id,
                play,
                profile,
                channel,
                stakeholder,
                done_on,
                note,
                recorded_by: Some(by),
            };
            row.intervention_id = store.record_intervention(&row)?;
            store.audit(&AuditEntry {
                actor: &actor,
                action: "intervention.record",
                target: Some(&row.account_id),
                detail: json!({
                    "intervention_id": row.intervention_id,
                    "play": row.play,
                    "profile": row.profile,
                    "channel": row.channel,
                    "alert_id": row.alert_id,
                    "done_on": row.done_on,
                }),
                ip: None,
            })?;
            Ok(row)
        })
        .await?;
    Ok(Json(RecordedIntervention {
        intervention_id: recorded.intervention_id,
        account_id: recorded.account_id,
        alert_id: recorded.alert_id,
        play: recorded.play,
        profile: recorded.profile,
        channel: recorded.channel,
        stakeholder: recorded.stakeholder,
        done_on: recorded.done_on,
        note: recorded.note,
        recorded_by: recorded.recorded_by,
    }))
}

#[derive(Debug, Deserialize)]
pub struct ReportParams {
    pub as_of: Option<String>,
}

/// Intervention outcomes as of a date: each recorded intervention judged by what
/// followed (health after the follow-up days, the renewal decided in the window), and
/// the success rate per play and risk profile with its interval.
#[utoipa::path(get, path = "/api/v1/interventions/report",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today")),
    responses((status = 200, body = coco_actions::outcomes::OutcomeReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn interventions_report(
    State(state): State<AppState>,
    Query(params): Query<ReportParams>,
) -> Result<Json<coco_actions::outcomes::OutcomeReport>, AppError> {
    let as_of = parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let config = Arc::clone(&state.inner.config);
    let actions = Arc::clone(&state.inner.actions);
    Ok(Json(
        state
            .pool()
            .run(move |store| {
                Ok(coco_engine::actions::outcomes::report(
                    store, &config, &actions, as_of,
                )?)
            })
            .await?,
    ))
}
