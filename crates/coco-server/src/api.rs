//! `/api/v1`: JSON over the same services the pages use. Errors are
//! `{"error": {"code", "message", "field"}}`; lists are paginated with `page` and
//! `per_page` and say their `total`. The OpenAPI document is generated from the
//! annotations below and served at `/api/v1/openapi.json`.

use std::path::PathBuf;

use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::Utc;
use coco_core::Permission;
use coco_insights::journey::compare::{LeadAuc, VariableComparison};
use coco_insights::journey::dropoff::{DropRate, FailurePoint};
use coco_insights::journey::onboarding::{OnboardingAccount, OnboardingCohort};
use coco_insights::journey::scorecard::Scorecard;
use coco_insights::journey::stages::{StageCount, StageView};
use coco_insights::journey::touchpoints::SilentAccount;
use coco_insights::segments::migration::Candidate;
use coco_insights::segments::misalignment::{CoverageCell, Misaligned};
use coco_insights::segments::{Assignment, TierSummary};
use coco_insights::workload::rebalance::{CsmChange, Move};
use coco_insights::workload::{CapacityPlan, CsmLoad, Spread};
use coco_store::auth::AuditEntry;
use coco_store::{IngestOptions, IngestReport};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::OpenApi;

use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::pages::AccountParams;
use crate::params::{AdoptionParams, ExpansionParams, LifecycleParams, ListParams, TtvParams};
use crate::state::AppState;
use crate::views::{self, today};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "COCO API",
        description = "Customer Success intelligence: portfolio, accounts, health, churn, renewals, expansion, adoption, segments and coverage, CSM workload, the customer journey, onboarding, touchpoints, alerts and tasks, the daily lists, notifications, interventions, drafts (outreach, sequences, QBR/EBR decks, plans, playbooks, reports, the handbook), metrics, snapshots, ingest. Authenticate with `Authorization: Bearer <token>` (`coco tokens create`)."
    ),
    paths(
        me,
        portfolio_summary,
        list_accounts,
        account_detail,
        account_timeline,
        metrics,
        snapshots,
        ingest,
        score,
        account_churn,
        renewals_forecast,
        models,
        model_detail,
        expansion_opportunities,
        expansion_opportunity,
        expansion_talking_points,
        expansion_pipeline,
        expansion_outcome,
        account_expansion,
        account_adoption,
        account_adoption_plan,
        adoption_heatmap,
        adoption_report,
        adoption_time_to_value,
        segments,
        segments_misalignment,
        segments_migration,
        workload,
        workload_rebalance,
        journey_stages,
        journey_milestones,
        journey_compare,
        journey_dropoff,
        journey_scorecards,
        onboarding,
        touchpoints_silent,
        account_journey,
        crate::actions_api::alerts,
        crate::actions_api::alert,
        crate::actions_api::alert_status,
        crate::actions_api::tasks,
        crate::actions_api::task_update,
        crate::actions_api::today_list,
        crate::actions_api::outbox,
        crate::actions_api::runs,
        crate::actions_api::run_daily,
        crate::actions_api::record_intervention,
        crate::actions_api::interventions_report,
        crate::admin::audit_api,
        crate::drafts::account_draft_api,
        crate::drafts::report_api,
        crate::drafts::handbook_api
    ),
    components(schemas(ErrorBody, crate::error::ErrorDetail, Me, crate::drafts::DraftBody))
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/portfolio", get(portfolio_summary))
        .route("/accounts", get(list_accounts))
        .route("/accounts/{account_id}", get(account_detail))
        .route("/accounts/{account_id}/timeline", get(account_timeline))
        .route("/metrics", get(metrics))
        .route("/snapshots", get(snapshots))
        .route("/ingest", post(ingest))
        .route("/score", post(score))
        .route("/accounts/{account_id}/churn", get(account_churn))
        .route("/renewals/forecast", get(renewals_forecast))
        .route("/models", get(models))
        .route("/models/{version}", get(model_detail))
        .route("/expansion/opportunities", get(expansion_opportunities))
        // An id holds `:` (acc_00042:module:api): one path segment, matched as is.
        .route("/expansion/opportunities/{id}", get(expansion_opportunity))
        .route(
            "/expansion/opportunities/{id}/talking-points",
            get(expansion_talking_points),
        )
        .route(
            "/expansion/opportunities/{id}/outcome",
            post(expansion_outcome),
        )
        .route("/expansion/pipeline", get(expansion_pipeline))
        .route("/accounts/{account_id}/expansion", get(account_expansion))
        .route("/accounts/{account_id}/adoption", get(account_adoption))
        .route(
            "/accounts/{account_id}/adoption/plan",
            get(account_adoption_plan),
        )
        .route("/adoption/heatmap", get(adoption_heatmap))
        .route("/adoption/report", get(adoption_report))
        .route("/adoption/time-to-value", get(adoption_time_to_value))
        .route("/segments", get(segments))
        .route("/segments/misalignment", get(segments_misalignment))
        .route("/segments/migration", get(segments_migration))
        .route("/workload", get(workload))
        .route("/workload/rebalance", get(workload_rebalance))
        .route("/journey/stages", get(journey_stages))
        .route("/journey/milestones", get(journey_milestones))
        .route("/journey/compare", get(journey_compare))
        .route("/journey/dropoff", get(journey_dropoff))
        .route("/journey/scorecards", get(journey_scorecards))
        .route("/onboarding", get(onboarding))
        .route("/touchpoints/silent", get(touchpoints_silent))
        .route("/accounts/{account_id}/journey", get(account_journey))
        .route("/audit", get(crate::admin::audit_api))
        .merge(crate::actions_api::routes())
        .merge(crate::drafts::api_routes())
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Who the credential belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub csm_id: Option<String>,
    pub permissions: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/me", responses(
    (status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(Extension(principal): Extension<Principal>) -> Json<Me> {
    Json(Me {
        username: principal.user.username.clone(),
        display_name: principal.user.display_name.clone(),
        role: principal.user.role.to_string(),
        csm_id: principal.user.csm_id.clone(),
        permissions: Permission::ALL
            .iter()
            .filter(|p| principal.can(**p))
            .map(|p| {
                serde_json::to_value(p)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            })
            .collect(),
    })
}

/// The portfolio page's numbers: colour totals, ARR at risk, distribution, trend,
/// renewals ahead, movers, filter choices.
#[utoipa::path(get, path = "/api/v1/portfolio",
    params(
        ("as_of" = Option<String>, Query, description = "Use the latest snapshot on or before this date (YYYY-MM-DD); default today"),
        ("csm" = Option<String>, Query, description = "Owner CSM id"),
        ("segment" = Option<String>, Query),
        ("tier" = Option<String>, Query, description = "Plan tier"),
        ("colour" = Option<String>, Query, description = "green, yellow, red or unknown"),
    ),
    responses((status = 200, body = coco_engine::portfolio::PortfolioView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn portfolio_summary(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<Response, AppError> {
    let request = params.parse("score", 50)?;
    let view = views::portfolio_view(&state, &request).await?;
    Ok(Json(&*view).into_response())
}

/// Accounts with their health, change since a week earlier, ARR and renewal date.
#[utoipa::path(get, path = "/api/v1/accounts",
    params(
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("csm" = Option<String>, Query), ("segment" = Option<String>, Query),
        ("tier" = Option<String>, Query), ("colour" = Option<String>, Query),
        ("sort" = Option<String>, Query, description = "score, -score, change, -change, arr, renewal, name, account"),
        ("page" = Option<usize>, Query, description = "1-based; default 1"),
        ("per_page" = Option<usize>, Query, description = "1–500; default 50"),
    ),
    responses((status = 200, body = coco_engine::portfolio::HealthPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_accounts(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<Response, AppError> {
    let request = params.parse("score", 50)?;
    let listed = views::health_page(&state, &request).await?;
    Ok(Json(&listed.0).into_response())
}

/// One account: its record (contracts, contacts, provenance) and its health evidence
/// (score, components, history, drivers of change, cohort standing).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}",
    params(("account_id" = String, Path), ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today")),
    responses((status = 200, body = AccountBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn account_detail(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let bundle = views::account(&state, &account_id, as_of).await?;
    let record = bundle
        .detail
        .as_ref()
        .ok_or_else(|| AppError::not_found(format!("no account {account_id}")))?;
    Ok(Json(AccountBody {
        account: record,
        health: &bundle.view,
    })
    .into_response())
}

/// One account: its record and its health evidence.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountBody<'a> {
    pub account: &'a coco_store::queries::AccountDetail,
    pub health: &'a coco_engine::account::AccountView,
}

/// An account's timeline: the newest touchpoints, tickets and surveys with their detail,
/// and every interaction of the last `days` with its silences and stakeholders.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TimelineBody<'a> {
    /// `entries` are up to this date (the requested one, default today).
    pub as_of: chrono::NaiveDate,
    /// The newest `limit` touchpoints, tickets and surveys.
    pub entries: Vec<coco_store::portfolio::TimelineEntry>,
    pub days: u32,
    /// Every interaction of the last `days` up to the snapshot the request resolves to
    /// (its `as_of`), newest first — touchpoints, tickets, surveys, milestones, billing,
    /// feedback, contacts, outcomes — with the silent periods of the last year and who
    /// was engaged (single-threaded when too few were).
    pub interactions: &'a coco_insights::journey::touchpoints::AccountTimeline,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MetricsBody {
    pub catalogue_version: String,
    pub fingerprint: String,
    pub metrics: Vec<coco_engine::MetricMeta>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SnapshotsBody {
    pub snapshots: Vec<coco_store::snapshots::SnapshotInfo>,
}

#[derive(Debug, Deserialize)]
struct TimelineParams {
    as_of: Option<String>,
    limit: Option<usize>,
    days: Option<String>,
}

/// The account's timeline: touchpoints, tickets and surveys up to the as-of date, newest
/// first (`limit` of them); and every interaction of the last `days` (default 180) with
/// the silent periods and stakeholder coverage. 404 when the account is not in the
/// snapshot the date resolves to.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/timeline",
    params(("account_id" = String, Path), ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("limit" = Option<usize>, Query, description = "entries: 1–500; default 100"),
        ("days" = Option<u32>, Query, description = "interactions of the last N days: 1–730; default 180")),
    responses((status = 200, body = TimelineBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn account_timeline(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    Query(params): Query<TimelineParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let limit = params.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "`limit` is 1–500"));
    }
    let days = crate::params::parse_days(&params.days)?;
    let interactions = views::interactions(&state, &account_id, as_of, days).await?;
    let entries = state
        .pool()
        .run(move |store| Ok(store.account_timeline(&account_id, as_of, limit)?))
        .await?;
    Ok(Json(TimelineBody {
        as_of,
        entries,
        days,
        interactions: &interactions,
    })
    .into_response())
}

/// The metric catalogue: name, description, unit, category, direction.
#[utoipa::path(get, path = "/api/v1/metrics",
    responses((status = 200, body = MetricsBody), (status = 401, body = ErrorBody)))]
async fn metrics(State(state): State<AppState>) -> Json<MetricsBody> {
    let config = &state.inner.config;
    Json(MetricsBody {
        catalogue_version: config.catalogue.version.clone(),
        fingerprint: config.catalogue.fingerprint(),
        metrics: config.metric_metas(),
    })
}

/// Stored snapshots, newest first, with the catalogue version that made each.
#[utoipa::path(get, path = "/api/v1/snapshots",
    responses((status = 200, body = SnapshotsBody), (status = 401, body = ErrorBody)))]
async fn snapshots(State(state): State<AppState>) -> Result<Json<SnapshotsBody>, AppError> {
    let snapshots = state
        .pool()
        .run(|store| Ok(store.list_snapshots()?))
        .await?;
    Ok(Json(SnapshotsBody { snapshots }))
}

/// Upload one file (multipart fields `entity` and `file`) to ingest: the same
/// validation, accounting and quarantine as `coco ingest`. Needs the ingest permission.
#[utoipa::path(post, path = "/api/v1/ingest",
    request_body(content_type = "multipart/form-data", description = "fields: entity (e.g. accounts), file (CSV, TSV, JSON Lines or Parquet)"),
    responses((status = 200, body = coco_store::IngestReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn ingest(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    multipart: Multipart,
) -> Result<Json<IngestReport>, AppError> {
    principal.require(Permission::Ingest)?;
    Ok(Json(ingest_upload(&state, &principal, multipart).await?))
}

/// Keeps a file name to letters, digits, `.`, `-`, `_` (it becomes a path).
fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "upload.csv".into()
    } else {
        cleaned
    }
}

/// Saves an uploaded file under `<data dir>/uploads/` (kept: it is the source the
/// load's provenance and quarantine rows point at) and ingests it.
pub async fn ingest_upload(
    state: &AppState,
    principal: &Principal,
    mut multipart: Multipart,
) -> Result<IngestReport, AppError> {
    let mut entity_name: Option<String> = None;
    let mut saved: Option<PathBuf> = None;
    let uploads = state.inner.data_dir.join("uploads");
    std::fs::create_dir_all(&uploads)
        .map_err(|e| AppError::internal(format!("cannot create {}: {e}", uploads.display())))?;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::invalid("file", format!("unreadable upload: {e}")))?
    {
        match field.name() {
            Some("entity") => {
                entity_name = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| AppError::invalid("entity", e.to_string()))?,
                );
            }
            Some("file") => {
                let name = safe_file_name(field.file_name().unwrap_or("upload.csv"));
                let path = uploads.join(format!(
                    "{}-{}",
                    Utc::now().format("%Y%m%dT%H%M%S%.3f"),
                    name
                ));
                let mut file = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| AppError::internal(format!("cannot save the upload: {e}")))?;
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| AppError::invalid("file", format!("upload interrupted: {e}")))?
                {
                    tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
                        .await
                        .map_err(|e| AppError::internal(format!("cannot save the upload: {e}")))?;
                }
                saved = Some(path);
            }
            _ => {}
        }
    }
    let entity_name = entity_name
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| AppError::invalid("entity", "say which entity the file holds"))?;
    let entity = coco_core::contract::entity(entity_name.trim()).ok_or_else(|| {
        AppError::invalid(
            "entity",
            format!(
                "unknown entity `{entity_name}`; expected one of {}",
                coco_core::ENTITIES
                    .iter()
                    .map(|e| e.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let path = saved.ok_or_else(|| AppError::invalid("file", "attach a file"))?;
    let actor = principal.actor();
    let report = state
        .pool()
        .run(move |store| {
            // Ingest needs a handle of its own (it holds temp tables across steps).
            let mut own = store.try_clone()?;
            let report = own
                .ingest_file(entity, &path, &IngestOptions::default())
                .map_err(|e| AppError::invalid("file", e.to_string()))?;
            store.audit(&AuditEntry {
                actor: &actor,
                action: "ingest.upload",
                target: Some(entity.name),
                detail: json!({
                    "source": report.source, "rows_read": report.rows_read,
                    "inserted": report.inserted, "updated": report.updated,
                    "rejected": report.rejected, "load_id": report.load_id,
                }),
                ip: None,
            })?;
            Ok(report)
        })
        .await;
    // Whatever the upload did, views computed before it may be stale.
    state.inner.views.invalidate();
    tokio::spawn(views::warm_up(state.clone()));
    report
}

#[derive(Debug, Deserialize)]
pub struct ScoreParams {
    pub as_of: Option<String>,
}

/// Compute every customer's metrics and health as of a date (default today) and store
/// the snapshot, as `coco score` does — the step that makes uploaded data show on the
/// pages. Needs the scoring permission; audited. Takes ~2 s per 10,000 accounts.
#[utoipa::path(post, path = "/api/v1/score",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD, not after today; default today")),
    responses((status = 200, body = coco_engine::ScoreRun), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn score(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<ScoreParams>,
) -> Result<Json<coco_engine::ScoreRun>, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    Ok(Json(run_scoring(&state, &principal, as_of).await?))
}

/// Scores as of `as_of` on behalf of `principal`, then drops every memoised view and
/// warms the defaults up again. Shared by the API and the page's button.
pub(crate) async fn run_scoring(
    state: &AppState,
    principal: &Principal,
    as_of: chrono::NaiveDate,
) -> Result<coco_engine::ScoreRun, AppError> {
    principal.require(Permission::Score)?;
    if as_of > today() {
        return Err(AppError::invalid(
            "as_of",
            format!("{as_of} has not happened yet: a score uses only data known on its date"),
        ));
    }
    let actor = principal.actor();
    let config = std::sync::Arc::clone(&state.inner.config);
    let result = state
        .pool()
        .run(move |store| {
            let run = coco_engine::score_as_of(store, &config, as_of)?;
            store.audit(&AuditEntry {
                actor: &actor,
                action: "score.run",
                target: Some(&as_of.to_string()),
                detail: json!({
                    "snapshot_id": run.snapshot.snapshot_id,
                    "accounts": run.snapshot.accounts,
                    "colours": run.colours,
                }),
                ip: None,
            })?;
            Ok(run)
        })
        .await;
    state.inner.views.invalidate();
    tokio::spawn(views::warm_up(state.clone()));
    result
}

/// The account's churn probability, interval, tier and explained drivers (stored by the
/// promoted model for the newest scored snapshot on or before `as_of`).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/churn",
    params(("account_id" = String, Path), ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today")),
    responses((status = 200, body = coco_engine::churn::scoring::AccountPrediction), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn account_churn(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let prediction = views::churn(&state, &account_id, as_of).await?;
    match prediction.as_ref() {
        Some(prediction) => Ok(Json(prediction).into_response()),
        None => Err(AppError::not_found(format!(
            "no churn prediction for {account_id} on or before {as_of}; train (`coco model train`) and score (`coco model score`)"
        ))),
    }
}

#[derive(Debug, Deserialize)]
struct ForecastParams {
    as_of: Option<String>,
    scenario: Option<String>,
}

/// The renewal forecast: periods of 30/60/90/180 days with expected renewed ARR and
/// forecast GRR/NRR ranges, the scenario if asked, upcoming renewals, forecast vs actual.
#[utoipa::path(get, path = "/api/v1/renewals/forecast",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("scenario" = Option<String>, Query, description = "GROUP=SHARE, e.g. red=0.5 or critical=50%")),
    responses((status = 200, description = "The forecast (see `coco renewals forecast --format json`)", body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn renewals_forecast(
    State(state): State<AppState>,
    Query(params): Query<ForecastParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let scenario = match params.scenario.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => Some(
            coco_models::forecast::Scenario::parse(text)
                .map_err(|m| AppError::invalid("scenario", m))?,
        ),
        None => None,
    };
    let forecast = views::renewals(&state, as_of, scenario).await?;
    match forecast.as_ref() {
        Some(forecast) => Ok(Json(forecast).into_response()),
        None => Err(AppError::not_found(
            "no churn model yet; train one with `coco model train`",
        )),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ModelsBody<'a> {
    pub models: &'a [coco_store::models::ModelSummary],
}

/// Registered models with their headline metrics.
#[utoipa::path(get, path = "/api/v1/models",
    responses((status = 200, body = ModelsBody), (status = 401, body = ErrorBody)))]
async fn models(State(state): State<AppState>) -> Result<Response, AppError> {
    let view = views::models(&state, None).await?;
    Ok(Json(ModelsBody {
        models: &view.models,
    })
    .into_response())
}

/// One model and its full evaluation report (backtest metrics, calibration table, ROC,
/// lead time, candidates, feature importance).
#[utoipa::path(get, path = "/api/v1/models/{version}",
    params(("version" = String, Path, description = "e.g. history-v3")),
    responses((status = 200, description = "`{model, report}`", body = Object), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn model_detail(
    State(state): State<AppState>,
    Path(version): Path<String>,
) -> Result<Response, AppError> {
    let view = views::models(&state, Some(version)).await?;
    let (summary, report) = view
        .shown
        .as_ref()
        .ok_or_else(|| AppError::not_found("no such model"))?;
    Ok(Json(json!({"model": summary, "report": report})).into_response())
}

// ---------------------------------------------------------------------------------
// Expansion

/// A window of the pipeline's opportunities (highest priority first) after the filters.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OpportunityList {
    pub as_of: chrono::NaiveDate,
    pub snapshot_id: i64,
    pub config_version: String,
    /// Opportunities matching the filters (all pages).
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub opportunities: Vec<coco_insights::expansion::Opportunity>,
}

/// Expansion opportunities — seats, tier upgrades, modules — with their signals and
/// evidence, timing light, sizing (uplift × win probability) and talking points.
#[utoipa::path(get, path = "/api/v1/expansion/opportunities",
    params(
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("type" = Option<String>, Query, description = "seats, tier or module"),
        ("light" = Option<String>, Query, description = "green, yellow or red"),
        ("owner" = Option<String>, Query, description = "Owner CSM id"),
        ("limit" = Option<usize>, Query, description = "1–500; default 50"),
        ("offset" = Option<usize>, Query, description = "default 0"),
    ),
    responses((status = 200, body = OpportunityList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn expansion_opportunities(
    State(state): State<AppState>,
    Query(params): Query<ExpansionParams>,
) -> Result<Json<OpportunityList>, AppError> {
    let request = params.parse_window()?;
    let growth = views::growth(&state, request.as_of.unwrap_or_else(today)).await?;
    let run = &growth.expansion;
    let selected: Vec<&coco_insights::expansion::Opportunity> = run
        .opportunities
        .iter()
        .filter(|o| request.filter.matches(o))
        .collect();
    Ok(Json(OpportunityList {
        as_of: run.as_of,
        snapshot_id: run.snapshot_id,
        config_version: run.config_version.clone(),
        total: selected.len(),
        limit: request.limit,
        offset: request.offset,
        opportunities: selected
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .cloned()
            .collect(),
    }))
}

/// The opportunity `id` (`ACCOUNT:seats`, `ACCOUNT:tier:TIER`, `ACCOUNT:module:MODULE`)
/// of the pipeline as of `as_of`.
async fn find_opportunity(
    state: &AppState,
    id: &str,
    as_of: &Option<String>,
) -> Result<coco_insights::expansion::Opportunity, AppError> {
    let as_of = crate::params::parse_date("as_of", as_of)?.unwrap_or_else(today);
    let growth = views::growth(state, as_of).await?;
    growth
        .expansion
        .opportunities
        .iter()
        .find(|o| o.id == id)
        .cloned()
        .ok_or_else(|| {
            AppError::not_found(format!(
                "no opportunity `{id}` as of {}; GET /api/v1/expansion/opportunities lists them",
                growth.expansion.as_of
            ))
        })
}

/// One opportunity with every signal, its evidence, sizing steps and talking points.
#[utoipa::path(get, path = "/api/v1/expansion/opportunities/{id}",
    params(("id" = String, Path, description = "e.g. acc_00042:seats, acc_00042:tier:enterprise, acc_00042:module:api"),
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today")),
    responses((status = 200, body = coco_insights::expansion::Opportunity), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn expansion_opportunity(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<AccountParams>,
) -> Result<Json<coco_insights::expansion::Opportunity>, AppError> {
    Ok(Json(find_opportunity(&state, &id, &params.as_of).await?))
}

/// The opportunity's talking points and business case as Markdown (what
/// `coco expansion show ID` prints).
#[utoipa::path(get, path = "/api/v1/expansion/opportunities/{id}/talking-points",
    params(("id" = String, Path), ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today")),
    responses((status = 200, description = "Markdown", content_type = "text/markdown", body = String), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn expansion_talking_points(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let opportunity = find_opportunity(&state, &id, &params.as_of).await?;
    Ok(markdown(coco_insights::expansion::talking::to_markdown(
        &opportunity,
    )))
}

fn markdown(text: String) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("text/markdown; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// The pipeline summed by type, outreach and light.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PipelineBody {
    pub as_of: chrono::NaiveDate,
    pub snapshot_id: i64,
    pub config_version: String,
    pub summary: coco_insights::expansion::PipelineSummary,
}

/// The pipeline: opportunities, accounts, uplift and expected ARR, by type, outreach
/// and light, and the coverage of a target — of the opportunities the filters select
/// (the same filters as the list).
#[utoipa::path(get, path = "/api/v1/expansion/pipeline",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("target" = Option<f64>, Query, description = "Expansion ARR target to review coverage against"),
        ("type" = Option<String>, Query, description = "seats, tier or module"),
        ("light" = Option<String>, Query, description = "green, yellow or red"),
        ("owner" = Option<String>, Query, description = "Owner CSM id")),
    responses((status = 200, body = PipelineBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn expansion_pipeline(
    State(state): State<AppState>,
    Query(params): Query<ExpansionParams>,
) -> Result<Json<PipelineBody>, AppError> {
    let request = params.parse_window()?;
    let growth = views::growth(&state, request.as_of.unwrap_or_else(today)).await?;
    let run = &growth.expansion;
    Ok(Json(PipelineBody {
        as_of: run.as_of,
        snapshot_id: run.snapshot_id,
        config_version: run.config_version.clone(),
        summary: views::expansion_summary(run, &request.filter, request.target),
    }))
}

/// An opportunity's outcome as a CSM reports it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    /// won, lost or no_decision.
    pub outcome: String,
    /// YYYY-MM-DD, not after today; default today.
    pub decided_on: Option<String>,
    /// ARR the expansion added (won).
    pub arr_added: Option<f64>,
    pub note: Option<String>,
}

/// Record an opportunity's outcome (won, lost, no_decision) with the signals it had at
/// the latest snapshot on or before the decision; the win history behind the win
/// probabilities learns from it. Needs the scoring permission (leaders and admins);
/// audited.
#[utoipa::path(post, path = "/api/v1/expansion/opportunities/{id}/outcome",
    params(("id" = String, Path)),
    request_body = OutcomeBody,
    responses((status = 200, body = coco_store::growth::RecordedOutcome), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn expansion_outcome(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<coco_store::growth::RecordedOutcome>, AppError> {
    principal.require(Permission::RecordOutcomes)?;
    let body: OutcomeBody = serde_json::from_slice(&body).map_err(|error| {
        AppError::invalid(
            "body",
            format!("the body must be JSON {{\"outcome\", \"decided_on\", \"arr_added\", \"note\"}}: {error}"),
        )
    })?;
    if !["won", "lost", "no_decision"].contains(&body.outcome.as_str()) {
        return Err(AppError::invalid(
            "outcome",
            format!("outcome `{}` is not won, lost or no_decision", body.outcome),
        ));
    }
    let decided_on =
        crate::params::parse_date("decided_on", &body.decided_on)?.unwrap_or_else(today);
    if decided_on > today() {
        return Err(AppError::invalid(
            "decided_on",
            format!("{decided_on} has not happened yet"),
        ));
    }
    if body
        .arr_added
        .is_some_and(|arr| !arr.is_finite() || arr < 0.0)
    {
        return Err(AppError::invalid(
            "arr_added",
            "`arr_added` is an amount ≥ 0",
        ));
    }
    if body
        .note
        .as_ref()
        .is_some_and(|note| note.chars().count() > 2000)
    {
        return Err(AppError::invalid(
            "note",
            "`note` is at most 2,000 characters",
        ));
    }
    let actor = principal.actor();
    let report = coco_engine::expansion::OutcomeReport {
        opportunity_id: id,
        outcome: body.outcome,
        decided_on,
        arr_added: body.arr_added,
        note: body.note.filter(|note| !note.trim().is_empty()),
        recorded_by: Some(principal.user.username.clone()),
    };
    let config = std::sync::Arc::clone(&state.inner.config);
    let result = state
        .pool()
        .run(move |store| {
            let recorded = coco_engine::expansion::record_outcome(store, &config, report)?;
            store.audit(&AuditEntry {
                actor: &actor,
                action: "expansion.outcome",
                target: Some(&recorded.opportunity_id),
                detail: json!({
                    "outcome": recorded.outcome,
                    "decided_on": recorded.decided_on,
                    "arr_added": recorded.arr_added,
                    "signals": recorded.signals,
                }),
                ip: None,
            })?;
            Ok(recorded)
        })
        .await;
    // The win history changed: win probabilities, hence every pipeline view, may differ.
    if result.is_ok() {
        state.inner.views.invalidate();
        tokio::spawn(views::warm_up(state.clone()));
    }
    Ok(Json(result?))
}

/// One account's opportunities.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountExpansionBody {
    pub account_id: String,
    pub as_of: chrono::NaiveDate,
    pub opportunities: Vec<coco_insights::expansion::Opportunity>,
}

/// The account's expansion opportunities, highest priority first (empty when no signal
/// fired).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/expansion",
    params(("account_id" = String, Path), ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today")),
    responses((status = 200, body = AccountExpansionBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn account_expansion(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    Query(params): Query<AccountParams>,
) -> Result<Json<AccountExpansionBody>, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    // An account the snapshot does not hold is a 404, not an empty list.
    let bundle = views::account(&state, &account_id, as_of).await?;
    let opportunities = views::account_expansion(&state, &account_id, as_of).await?;
    Ok(Json(AccountExpansionBody {
        account_id,
        as_of: bundle.view.as_of,
        opportunities,
    }))
}

// ---------------------------------------------------------------------------------
// Adoption

/// The account's adoption: profile (features used against entitled), prioritised gaps,
/// root cause, 90-day enablement plan, time to value.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/adoption",
    params(("account_id" = String, Path), ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today")),
    responses((status = 200, body = coco_engine::adoption::AccountAdoptionView), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn account_adoption(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let view = views::account_adoption(&state, &account_id, as_of).await?;
    Ok(Json(&view).into_response())
}

/// The account's 90-day enablement plan as Markdown (what `coco adoption plan` prints).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/adoption/plan",
    params(("account_id" = String, Path), ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today")),
    responses((status = 200, description = "Markdown", content_type = "text/markdown", body = String), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn account_adoption_plan(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let view = views::account_adoption(&state, &account_id, as_of).await?;
    let plan = view.plan.as_ref().ok_or_else(|| {
        AppError::not_found(format!(
            "{account_id} uses every feature it has access to: no plan to make"
        ))
    })?;
    Ok(markdown(coco_insights::adoption::plan::to_markdown(plan)))
}

/// Feature adoption by a group of accounts: per feature and group, the accounts with
/// access, those using it, and the share.
#[utoipa::path(get, path = "/api/v1/adoption/heatmap",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("by" = Option<String>, Query, description = "segment (default), plan_tier, industry, region, coverage_model or owner_csm_id")),
    responses((status = 200, body = coco_insights::adoption::Heatmap), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn adoption_heatmap(
    State(state): State<AppState>,
    Query(params): Query<AdoptionParams>,
) -> Result<Response, AppError> {
    let request = params.parse()?;
    let view = views::heatmap(&state, request.as_of.unwrap_or_else(today), &request.by).await?;
    Ok(Json(&view.heatmap).into_response())
}

/// The monthly adoption report: levels now and at the baseline, improved and declined
/// accounts, accounts needing attention, systemic patterns, causes, a summary sentence.
#[utoipa::path(get, path = "/api/v1/adoption/report",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("attention" = Option<usize>, Query, description = "accounts needing attention to list, 1–500; default 20")),
    responses((status = 200, body = coco_insights::adoption::progress::AdoptionReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn adoption_report(
    State(state): State<AppState>,
    Query(params): Query<AdoptionParams>,
) -> Result<Response, AppError> {
    let request = params.parse()?;
    let report = views::adoption_report(
        &state,
        request.as_of.unwrap_or_else(today),
        request.attention,
    )
    .await?;
    Ok(Json(&*report).into_response())
}

/// A window of the accounts' time to value.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TimeToValueBody<'a> {
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub accounts: Vec<&'a coco_insights::adoption::ttv::TimeToValue>,
}

/// Time to value per account: when it started, the milestones reached and when, days to
/// first value (or the prediction while onboarding), and whether it needs acceleration.
#[utoipa::path(get, path = "/api/v1/adoption/time-to-value",
    params(("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("needs_acceleration" = Option<bool>, Query, description = "true: only onboarding accounts that need acceleration"),
        ("limit" = Option<usize>, Query, description = "1–500; default 100"),
        ("offset" = Option<usize>, Query, description = "default 0")),
    responses((status = 200, body = TimeToValueBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn adoption_time_to_value(
    State(state): State<AppState>,
    Query(params): Query<TtvParams>,
) -> Result<Response, AppError> {
    let request = params.parse()?;
    let growth = views::growth(&state, request.as_of.unwrap_or_else(today)).await?;
    let selected: Vec<_> = growth
        .book
        .time_to_value
        .iter()
        .filter(|r| !request.needs_acceleration || (r.needs_acceleration && r.onboarding))
        .collect();
    Ok(Json(TimeToValueBody {
        total: selected.len(),
        limit: request.limit,
        offset: request.offset,
        accounts: selected
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .collect(),
    })
    .into_response())
}

// ---------------------------------------------------------------------------------
// Segments and coverage, workload, the journey, onboarding, touchpoints

/// The tier keys of the segmentation model (what `?tier=` may name).
pub(crate) fn tier_keys(state: &AppState) -> Vec<&str> {
    state
        .inner
        .config
        .segments
        .tiers
        .iter()
        .map(|t| t.key.as_str())
        .collect()
}

/// A value's JSON name (`on_track` for `Severity::OnTrack`).
pub(crate) fn json_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

const AS_OF: &str = "YYYY-MM-DD; default today";

/// The tiering of the book: the tiers with the book's distribution over them, and a
/// window of the accounts' assignments, highest segment score first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SegmentsBody<'a> {
    pub as_of: chrono::NaiveDate,
    pub snapshot_id: i64,
    pub model: String,
    pub model_version: String,
    /// `expansion analysis` (today's expansion pipeline) or `proxy` (seat utilisation,
    /// usage growth, new departments: other dates).
    pub expansion_potential_from: String,
    pub tiers: &'a [TierSummary],
    /// Assignments matching `tier` (all pages).
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub assignments: Vec<&'a Assignment>,
}

/// Every account's recommended tier with its segment score, coverage now and
/// recommended, and the factor breakdown behind it (what `coco segments apply` shows;
/// nothing is recorded).
#[utoipa::path(get, path = "/api/v1/segments",
    params(("as_of" = Option<String>, Query, description = AS_OF),
        ("tier" = Option<String>, Query, description = "only this tier's accounts (a tier key of config/segments.toml)"),
        ("limit" = Option<usize>, Query, description = "1–500; default 50"),
        ("offset" = Option<usize>, Query, description = "default 0")),
    responses((status = 200, body = SegmentsBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn segments(
    State(state): State<AppState>,
    Query(params): Query<LifecycleParams>,
) -> Result<Response, AppError> {
    let request = params.parse(&tier_keys(&state), 50)?;
    let overview = views::lifecycle(&state, request.as_of.unwrap_or_else(today)).await?;
    let run = &overview.segments;
    let mut selected: Vec<&Assignment> = run
        .assignments
        .iter()
        .filter(|a| request.tier.as_deref().is_none_or(|t| a.tier == t))
        .collect();
    selected.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    Ok(Json(SegmentsBody {
        as_of: run.as_of,
        snapshot_id: overview.base.snapshot.snapshot_id,
        model: run.model.clone(),
        model_version: run.model_version.clone(),
        expansion_potential_from: run.expansion_potential_from.clone(),
        tiers: &run.tiers,
        total: selected.len(),
        limit: request.limit,
        offset: request.offset,
        assignments: selected
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .collect(),
    })
    .into_response())
}

/// Accounts served differently from their tier, and what re-allocating would do.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MisalignmentBody<'a> {
    pub as_of: chrono::NaiveDate,
    /// Accounts with a current coverage model (the others cannot be compared).
    pub accounts_compared: usize,
    pub misaligned: usize,
    pub share_misaligned: f64,
    pub over_served: usize,
    pub under_served: usize,
    pub arr_over_served: f64,
    pub arr_under_served: f64,
    pub csms_at_current_coverage: f64,
    pub csms_at_recommended_coverage: f64,
    /// CSM capacity freed by moving over-served accounts down, needed by moving
    /// under-served ones up.
    pub csms_freed: f64,
    pub csms_needed: f64,
    /// Current × recommended coverage, every non-empty pair.
    pub matrix: &'a [CoverageCell],
    /// The five accounts where a change matters most.
    pub top: &'a [Misaligned],
    /// A window of every misaligned account, by impact (`total` of them).
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub accounts: &'a [Misaligned],
}

/// Current coverage against the recommended tier: over- and under-served accounts and
/// ARR, the CSM capacity a re-allocation frees or needs, the coverage matrix, and the
/// misaligned accounts by impact with the reasons.
#[utoipa::path(get, path = "/api/v1/segments/misalignment",
    params(("as_of" = Option<String>, Query, description = AS_OF),
        ("limit" = Option<usize>, Query, description = "1–500; default 50"),
        ("offset" = Option<usize>, Query, description = "default 0")),
    responses((status = 200, body = MisalignmentBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn segments_misalignment(
    State(state): State<AppState>,
    Query(params): Query<LifecycleParams>,
) -> Result<Response, AppError> {
    let request = params.parse(&tier_keys(&state), 50)?;
    let overview = views::lifecycle(&state, request.as_of.unwrap_or_else(today)).await?;
    let report = &overview.misalignment;
    let start = request.offset.min(report.accounts.len());
    let end = start
        .saturating_add(request.limit)
        .min(report.accounts.len());
    Ok(Json(MisalignmentBody {
        as_of: overview.as_of(),
        accounts_compared: report.accounts_compared,
        misaligned: report.misaligned,
        share_misaligned: report.share_misaligned,
        over_served: report.over_served,
        under_served: report.under_served,
        arr_over_served: report.arr_over_served,
        arr_under_served: report.arr_under_served,
        csms_at_current_coverage: report.csms_at_current_coverage,
        csms_at_recommended_coverage: report.csms_at_recommended_coverage,
        csms_freed: report.csms_freed,
        csms_needed: report.csms_needed,
        matrix: &report.matrix,
        top: &report.top,
        total: report.accounts.len(),
        limit: request.limit,
        offset: request.offset,
        accounts: &report.accounts[start..end],
    })
    .into_response())
}

/// Upgrade and downgrade candidates.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MigrationBody<'a> {
    pub as_of: chrono::NaiveDate,
    pub upgrades_total: usize,
    pub downgrades_total: usize,
    /// Downgrades held as exceptions (they carry an `exception`: what to wait for).
    pub exceptions: usize,
    pub arr_upgrading: f64,
    pub arr_downgrading: f64,
    /// At most this many of each list.
    pub limit: usize,
    pub upgrades: &'a [Candidate],
    pub downgrades: &'a [Candidate],
}

/// Accounts that have outgrown their coverage (upgrades) and accounts served above their
/// profile (downgrades), with the reasons, transition risks and exceptions, and the
/// tier the last recorded application gave them.
#[utoipa::path(get, path = "/api/v1/segments/migration",
    params(("as_of" = Option<String>, Query, description = AS_OF),
        ("direction" = Option<String>, Query, description = "up (upgrades only) or down (downgrades only); both by default"),
        ("limit" = Option<usize>, Query, description = "per list, 1–500; default 100")),
    responses((status = 200, body = MigrationBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn segments_migration(
    State(state): State<AppState>,
    Query(params): Query<LifecycleParams>,
) -> Result<Response, AppError> {
    let request = params.parse(&tier_keys(&state), 100)?;
    let overview = views::lifecycle(&state, request.as_of.unwrap_or_else(today)).await?;
    let plan = &overview.migration;
    let list = |candidates: &'_ [Candidate], wanted: bool| -> usize {
        if wanted {
            candidates.len().min(request.limit)
        } else {
            0
        }
    };
    let direction = request.direction.as_deref();
    let up = list(&plan.upgrades, direction != Some("down"));
    let down = list(&plan.downgrades, direction != Some("up"));
    Ok(Json(MigrationBody {
        as_of: plan.as_of,
        upgrades_total: plan.upgrades.len(),
        downgrades_total: plan.downgrades.len(),
        exceptions: plan.exceptions,
        arr_upgrading: plan.arr_upgrading,
        arr_downgrading: plan.arr_downgrading,
        limit: request.limit,
        upgrades: &plan.upgrades[..up],
        downgrades: &plan.downgrades[..down],
    })
    .into_response())
}

/// Effort-weighted books per CSM against capacity.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkloadBody<'a> {
    pub as_of: chrono::NaiveDate,
    /// Every CSM of the team (inactive ones with status `inactive`).
    pub csms: &'a [CsmLoad],
    /// How unequal the active CSMs' loads are.
    pub spread: &'a Spread,
    /// Accounts whose owner is missing or not an active CSM, and their hours.
    pub unassigned_accounts: usize,
    pub unassigned_hours: f64,
    pub capacity_plan: &'a CapacityPlan,
}

/// CSM workload: each CSM's accounts, monthly effort hours against capacity (load), the
/// count-based load for contrast, status, renewals and onboarding in the book; the
/// spread; the capacity plan with the hires needed and its assumptions (what `coco
/// workload report` shows).
#[utoipa::path(get, path = "/api/v1/workload",
    params(("as_of" = Option<String>, Query, description = AS_OF)),
    responses((status = 200, body = WorkloadBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn workload(
    State(state): State<AppState>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let overview = views::lifecycle(&state, as_of).await?;
    let report = &overview.workload;
    Ok(Json(WorkloadBody {
        as_of: report.as_of,
        csms: &report.csms,
        spread: &report.spread,
        unassigned_accounts: report.unassigned_accounts,
        unassigned_hours: report.unassigned_hours,
        capacity_plan: &report.plan,
    })
    .into_response())
}

/// A rebalancing proposal.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RebalanceBody<'a> {
    pub as_of: chrono::NaiveDate,
    /// Active CSMs' loads today, after placing the accounts of departed owners, and after
    /// the proposal.
    pub before: &'a Spread,
    pub after_forced: &'a Spread,
    pub after: &'a Spread,
    pub moves: &'a [Move],
    pub forced_moves: usize,
    pub balance_moves: usize,
    pub swaps: usize,
    /// Accounts that must move but no active CSM may take.
    pub unplaceable: &'a [String],
    /// Accounts kept with their CSM by the configuration (renewal close by, onboarding).
    pub kept: usize,
    pub csms: &'a [CsmChange],
}

/// A proposal that evens out the CSMs' loads with few moves, only to CSMs allowed to take
/// each account (region, team, skills), never moving the accounts the configuration
/// keeps (what `coco workload rebalance` shows; nothing is changed).
#[utoipa::path(get, path = "/api/v1/workload/rebalance",
    params(("as_of" = Option<String>, Query, description = AS_OF)),
    responses((status = 200, body = RebalanceBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn workload_rebalance(
    State(state): State<AppState>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let overview = views::lifecycle(&state, as_of).await?;
    let p = &overview.rebalance;
    Ok(Json(RebalanceBody {
        as_of: overview.as_of(),
        before: &p.before,
        after_forced: &p.after_forced,
        after: &p.after,
        moves: &p.moves,
        forced_moves: p.forced_moves,
        balance_moves: p.balance_moves,
        swaps: p.swaps,
        unplaceable: &p.unplaceable,
        kept: p.kept,
        csms: &p.csms,
    })
    .into_response())
}

/// Accounts per journey stage.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StagesBody<'a> {
    pub as_of: chrono::NaiveDate,
    pub stages: &'a [StageCount],
}

/// Accounts and ARR per journey stage, with those that entered it recently, are overdue
/// in it, were classified with low confidence, or show conflicting signals.
#[utoipa::path(get, path = "/api/v1/journey/stages",
    params(("as_of" = Option<String>, Query, description = AS_OF)),
    responses((status = 200, body = StagesBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn journey_stages(
    State(state): State<AppState>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let overview = views::lifecycle(&state, as_of).await?;
    Ok(Json(StagesBody {
        as_of: overview.as_of(),
        stages: &overview.stage_counts,
    })
    .into_response())
}

/// Milestone analytics: completion by milestone × cohort (the heatmap's cells),
/// systematically skipped milestones, completion times, and which missed milestones go
/// with churn at the next renewal (risk ratio with its interval, Holm-corrected p).
#[utoipa::path(get, path = "/api/v1/journey/milestones",
    params(("as_of" = Option<String>, Query, description = AS_OF)),
    responses((status = 200, body = coco_insights::journey::milestones::MilestoneAnalytics), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn journey_milestones(
    State(state): State<AppState>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let overview = views::lifecycle(&state, as_of).await?;
    Ok(Json(&overview.milestones).into_response())
}

/// Churned against retained renewals.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CompareBody<'a> {
    pub as_of: chrono::NaiveDate,
    /// Variables are read this many days before each renewal.
    pub lead_days: u32,
    pub churned: usize,
    pub retained: usize,
    pub variables: &'a [VariableComparison],
    /// The separating variables: significant after correction, by |effect size|.
    pub top: &'a [String],
    pub predictability: &'a [LeadAuc],
    /// The AUC a lead must reach to count as predictable.
    pub predictable_auc: f64,
    /// The longest lead at which churn is predictable.
    pub earliest_predictable_days: Option<u32>,
}

/// Churned against retained renewals: each journey variable in both cohorts with the
/// difference and its 95% interval, effect size, Holm-corrected p; the separating
/// variables; the AUC at each lead and the earliest lead at which churn is predictable.
#[utoipa::path(get, path = "/api/v1/journey/compare",
    params(("as_of" = Option<String>, Query, description = AS_OF)),
    responses((status = 200, body = CompareBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn journey_compare(
    State(state): State<AppState>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let overview = views::lifecycle(&state, as_of).await?;
    let c = &overview.comparison.comparison;
    Ok(Json(CompareBody {
        as_of: overview.as_of(),
        lead_days: c.lead_days,
        churned: c.churned,
        retained: c.retained,
        variables: &c.variables,
        top: &c.top,
        predictability: &c.predictability,
        predictable_auc: state.inner.config.journey.compare.predictable_auc,
        earliest_predictable_days: c.earliest_predictable_days,
    })
    .into_response())
}

/// Where engagement falls.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DropoffBody<'a> {
    pub as_of: chrono::NaiveDate,
    /// The engagement metric read in the weekly snapshots.
    pub metric: String,
    /// Weeks per step, and the fall (share) that counts as a drop.
    pub step_weeks: usize,
    pub drop_share: f64,
    pub observations: usize,
    pub drops: usize,
    pub overall_rate: Option<f64>,
    pub by_tenure_month: &'a [DropRate],
    pub by_stage: &'a [DropRate],
    /// Tenure ranges where drops are significantly above the book's rate, by excess drops.
    pub failure_points: &'a [FailurePoint],
}

/// Drop-off: the engagement metric's falls by tenure month and by stage, tested against
/// the rest (Holm-corrected), and the structural failure points.
#[utoipa::path(get, path = "/api/v1/journey/dropoff",
    params(("as_of" = Option<String>, Query, description = AS_OF)),
    responses((status = 200, body = DropoffBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn journey_dropoff(
    State(state): State<AppState>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let overview = views::lifecycle(&state, as_of).await?;
    let d = &overview.dropoff;
    let settings = &state.inner.config.journey.dropoff;
    Ok(Json(DropoffBody {
        as_of: overview.as_of(),
        metric: d.metric.clone(),
        step_weeks: settings.step_weeks,
        drop_share: settings.drop_share,
        observations: d.observations,
        drops: d.drops,
        overall_rate: d.overall_rate,
        by_tenure_month: &d.by_tenure_month,
        by_stage: &d.by_stage,
        failure_points: &d.failure_points,
    })
    .into_response())
}

/// A window of the journey scorecards, those to intervene on first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScorecardsBody {
    pub as_of: chrono::NaiveDate,
    /// Accounts per severity over the whole book.
    pub intervene: usize,
    pub watch: usize,
    pub on_track: usize,
    /// Scorecards matching `severity` (all pages).
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub scorecards: Vec<Scorecard>,
}

/// The priority intervention list: each account against the retained cohort at the same
/// tenure — milestone and variable checks, deviations, severity, the interventions in
/// order — those to intervene on first, then by deviations.
#[utoipa::path(get, path = "/api/v1/journey/scorecards",
    params(("as_of" = Option<String>, Query, description = AS_OF),
        ("severity" = Option<String>, Query, description = "intervene, watch or on_track"),
        ("limit" = Option<usize>, Query, description = "1–500; default 25"),
        ("offset" = Option<usize>, Query, description = "default 0")),
    responses((status = 200, body = ScorecardsBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn journey_scorecards(
    State(state): State<AppState>,
    Query(params): Query<LifecycleParams>,
) -> Result<Json<ScorecardsBody>, AppError> {
    let request = params.parse(&tier_keys(&state), 25)?;
    let as_of = request.as_of.unwrap_or_else(today);
    let overview = views::lifecycle(&state, as_of).await?;
    let priorities = views::journey_priorities(&state, as_of).await?;
    let selected: Vec<usize> = priorities
        .order
        .iter()
        .filter(|(_, severity)| {
            request
                .severity
                .as_deref()
                .is_none_or(|s| json_name(severity) == s)
        })
        .map(|(a, _)| *a)
        .collect();
    Ok(Json(ScorecardsBody {
        as_of: overview.as_of(),
        intervene: priorities.intervene,
        watch: priorities.watch,
        on_track: priorities.on_track,
        total: selected.len(),
        limit: request.limit,
        offset: request.offset,
        scorecards: views::scorecards_of(
            &overview,
            &state.inner.config,
            selected
                .iter()
                .copied()
                .skip(request.offset)
                .take(request.limit),
        ),
    }))
}

/// The onboarding tracker.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OnboardingBody<'a> {
    pub as_of: chrono::NaiveDate,
    /// Accounts onboarding now, by status, and those stalled.
    pub onboarding: usize,
    pub on_track: usize,
    pub at_risk: usize,
    pub critical: usize,
    pub stalled: usize,
    /// Onboarding accounts matching `status` (all pages).
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    pub accounts: Vec<&'a OnboardingAccount>,
    /// How the accounts that started in each quarter onboarded.
    pub cohorts: &'a [OnboardingCohort],
}

/// Onboarding accounts — milestones done and overdue, the next one, stalls, planned and
/// predicted go-live, time to first value, status with reasons — and how onboarding
/// cohorts turned out.
#[utoipa::path(get, path = "/api/v1/onboarding",
    params(("as_of" = Option<String>, Query, description = AS_OF),
        ("status" = Option<String>, Query, description = "on_track, at_risk or critical"),
        ("limit" = Option<usize>, Query, description = "1–500; default 50"),
        ("offset" = Option<usize>, Query, description = "default 0")),
    responses((status = 200, body = OnboardingBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn onboarding(
    State(state): State<AppState>,
    Query(params): Query<LifecycleParams>,
) -> Result<Response, AppError> {
    let request = params.parse(&tier_keys(&state), 50)?;
    let overview = views::lifecycle(&state, request.as_of.unwrap_or_else(today)).await?;
    let report = &overview.onboarding;
    let selected: Vec<&OnboardingAccount> = report
        .accounts
        .iter()
        .filter(|a| {
            request
                .status
                .as_deref()
                .is_none_or(|s| json_name(&a.status) == s)
        })
        .collect();
    Ok(Json(OnboardingBody {
        as_of: report.as_of,
        onboarding: report.onboarding,
        on_track: report.on_track,
        at_risk: report.at_risk,
        critical: report.critical,
        stalled: report.stalled,
        total: selected.len(),
        limit: request.limit,
        offset: request.offset,
        accounts: selected
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .collect(),
        cohorts: &report.cohorts,
    })
    .into_response())
}

/// Accounts gone silent.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SilentBody<'a> {
    pub as_of: chrono::NaiveDate,
    /// Days without a touchpoint that make an account silent.
    pub silent_days: u32,
    /// Silent accounts (all pages), and how many of them are single-threaded.
    pub total: usize,
    pub single_threaded: usize,
    pub limit: usize,
    pub offset: usize,
    pub accounts: &'a [SilentAccount],
}

/// Accounts without a touchpoint for the configured silent period (none ever counts),
/// largest ARR first, with their contacts engaged and days to renewal.
#[utoipa::path(get, path = "/api/v1/touchpoints/silent",
    params(("as_of" = Option<String>, Query, description = AS_OF),
        ("limit" = Option<usize>, Query, description = "1–500; default 50"),
        ("offset" = Option<usize>, Query, description = "default 0")),
    responses((status = 200, body = SilentBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn touchpoints_silent(
    State(state): State<AppState>,
    Query(params): Query<LifecycleParams>,
) -> Result<Response, AppError> {
    let request = params.parse(&tier_keys(&state), 50)?;
    let overview = views::lifecycle(&state, request.as_of.unwrap_or_else(today)).await?;
    let silent = &overview.silent;
    let start = request.offset.min(silent.len());
    let end = start.saturating_add(request.limit).min(silent.len());
    Ok(Json(SilentBody {
        as_of: overview.as_of(),
        silent_days: state.inner.config.journey.touchpoints.silent_days,
        total: silent.len(),
        single_threaded: silent.iter().filter(|s| s.single_threaded).count(),
        limit: request.limit,
        offset: request.offset,
        accounts: &silent[start..end],
    })
    .into_response())
}

/// One account's journey.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountJourneyBody<'a> {
    pub account_id: String,
    pub as_of: chrono::NaiveDate,
    /// Its stage with the confidence, criteria met, days in stage, transitions and
    /// conflicting signals.
    pub stage: &'a StageView,
    /// Its scorecard against the retained cohort at the same tenure.
    pub scorecard: &'a Scorecard,
    /// Its recommended tier with the segment score and the factor breakdown.
    pub tier: &'a Assignment,
}

/// The account's journey stage, scorecard (milestone and variable checks, deviations,
/// interventions) and tier assignment with its factor breakdown.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/journey",
    params(("account_id" = String, Path), ("as_of" = Option<String>, Query, description = AS_OF)),
    responses((status = 200, body = AccountJourneyBody), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn account_journey(
    State(state): State<AppState>,
    Path(account_id): Path<String>,
    Query(params): Query<AccountParams>,
) -> Result<Response, AppError> {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let journey = views::account_journey(&state, &account_id, as_of).await?;
    Ok(Json(AccountJourneyBody {
        account_id,
        as_of: journey.scorecard.as_of,
        stage: &journey.stage,
        scorecard: &journey.scorecard,
        tier: &journey.tier,
    })
    .into_response())
}
