//! Server-rendered pages. Each handler parses its parameters, asks the engine, builds
//! the charts, and renders a template; no numbers are computed here.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::{Duration, Utc};
use coco_charts::{
    Band, Bar, BarChart, LineChart, LineSeries, Size, StackedBarChart, StackedSeries, ValueFormat,
};
use coco_core::Permission;
use coco_insights::expansion::{Opportunity, Outreach, PipelineLine};
use coco_store::auth::AuditEntry;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{
    self, LOGIN_CSRF_COOKIE, Principal, SESSION_COOKIE, SESSION_HOURS, cookie, digest, random_hex,
    same_secret, set_cookie,
};
use crate::error::AppError;
use crate::params::{
    AdoptionParams, ExpansionParams, ExpansionRequest, HEATMAP_GROUPS, LIGHTS, ListParams,
    ListRequest, OPPORTUNITY_TYPES, SORT_KEYS,
};
use crate::state::AppState;
use crate::views::{self, today};
use coco_engine::portfolio::{HealthPage, PortfolioView};
use coco_store::portfolio::FilterOptions;

pub(crate) type PageResult = Result<Response, PageError>;

/// An [`AppError`] rendered as an HTML page.
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        PageError(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(&self.0)
    }
}

/// A minimal error page (no template: it must render even when templates fail).
pub fn error_page(error: &AppError) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status} · COCO</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"error\">\
         <h1>{status}</h1><p>{message}</p>{field}<p><a href=\"/\">Back to the portfolio</a></p></main></body></html>",
        status = error.status,
        message = coco_charts::escape(&error.message),
        field = error
            .field
            .as_deref()
            .map(|f| format!("<p>Parameter: <code>{}</code></p>", coco_charts::escape(f)))
            .unwrap_or_default(),
    );
    (error.status, Html(body)).into_response()
}

pub(crate) fn render_to_string(
    state: &AppState,
    template: &str,
    context: serde_json::Value,
) -> Result<String, AppError> {
    state
        .inner
        .templates
        .get_template(template)
        .and_then(|t| t.render(context))
        .map_err(|error| AppError::internal(format!("rendering {template}: {error:#}")))
}

fn render(state: &AppState, template: &str, context: serde_json::Value) -> PageResult {
    Ok(Html(render_to_string(state, template, context)?).into_response())
}

/// What an account table needs besides its rows: page count, sort and paging links
/// that keep the request's filters.
trait WithTable {
    fn with_table(self, params: &ListParams, request: &ListRequest, table: &HealthPage) -> Self;
}

impl WithTable for serde_json::Value {
    fn with_table(
        mut self,
        params: &ListParams,
        request: &ListRequest,
        table: &HealthPage,
    ) -> Self {
        let pages = (table.total.max(0) as u64)
            .div_ceil(table.per_page as u64)
            .max(1);
        if let Some(fields) = self.as_object_mut() {
            fields.insert("pages".into(), pages.into());
            fields.insert("params".into(), json!(params));
            fields.insert("sort".into(), request.sort_key.clone().into());
            fields.insert(
                "sort_keys".into(),
                SORT_KEYS
                    .iter()
                    .map(|(k, _, label)| json!({"key": k, "label": label}))
                    .collect(),
            );
            fields.insert(
                "links".into(),
                json!({
                    "prev": params.query_with(&[("page", &(table.page.saturating_sub(1)).to_string())]),
                    "next": params.query_with(&[("page", &(table.page + 1).to_string())]),
                }),
            );
            fields.insert(
                "sort_links".into(),
                json!(
                    SORT_KEYS
                        .iter()
                        .map(|(k, _, _)| (k.to_string(), params.query_with(&[("sort", k)])))
                        .collect::<std::collections::BTreeMap<_, _>>()
                ),
            );
        }
        self
    }
}

/// A per-viewer page (not cached): the template with the viewer and navigation added.
pub(crate) fn render_page(
    state: &AppState,
    principal: &Principal,
    template: &str,
    nav: &str,
    mut context: serde_json::Value,
) -> PageResult {
    if let Some(fields) = context.as_object_mut() {
        fields.insert("viewer".into(), viewer(principal));
        fields.insert("nav".into(), nav.into());
    }
    render(state, template, context)
}

/// A page's shared content in the viewer's layout.
pub(crate) fn in_layout(
    state: &AppState,
    principal: &Principal,
    nav: &str,
    content: &views::Content,
) -> PageResult {
    render(
        state,
        "layout.html",
        json!({
            "viewer": viewer(principal),
            "nav": nav,
            "title": content.title,
            "content": content.html,
        }),
    )
}

/// What every page's layout needs about the viewer.
fn viewer(principal: &Principal) -> serde_json::Value {
    json!({
        "username": principal.user.username,
        "display_name": principal.user.display_name,
        "role": principal.user.role,
        "csm_id": principal.user.csm_id,
        "csrf": principal.csrf_token(),
        "can_ingest": principal.can(Permission::Ingest),
        "can_score": principal.can(Permission::Score),
        "can_manage": principal.can(Permission::ManageUsers),
    })
}

/// Today on the server's clock: the default "as of" of every page and endpoint.
pub(crate) fn size(width: u32, height: u32) -> Size {
    Size { width, height }
}

/// Days between snapshots the "this week" comparison uses.
pub(crate) const COMPARE_DAYS: u32 = 7;

// ---------------------------------------------------------------------------------
// Portfolio

pub async fn portfolio_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<ListParams>,
) -> PageResult {
    let request = params.parse("score", 50)?;
    let key = format!(
        "portfolio|{}|{params:?}",
        request.as_of.unwrap_or_else(today)
    );
    let shared = state.clone();
    let content = views::content(&state, key, async move {
        let view = views::portfolio_view(&shared, &request).await?;
        let listed = views::health_page(&shared, &request).await?;
        portfolio_content(&shared, &params, &request, &view, &listed.0)
    })
    .await?;
    in_layout(&state, &principal, "portfolio", &content)
}

fn portfolio_content(
    state: &AppState,
    params: &ListParams,
    request: &ListRequest,
    view: &PortfolioView,
    table: &HealthPage,
) -> Result<views::Content, AppError> {
    let colour_bars = BarChart {
        title: "ARR by health colour".into(),
        bars: view
            .totals
            .iter()
            .map(|total| Bar {
                label: format!("{} ({})", total.colour, total.accounts),
                value: total.arr,
                class: total.colour.clone(),
                tooltip: Some(format!(
                    "{}: {} accounts, {}",
                    total.colour,
                    total.accounts,
                    coco_charts::format_value(total.arr, ValueFormat::Money)
                )),
                href: Some(format!(
                    "/?{}",
                    params.query_with(&[("colour", &total.colour)])
                )),
            })
            .collect(),
        value_format: ValueFormat::Money,
        horizontal: true,
        size: size(420, 170),
    }
    .render();
    let histogram = BarChart {
        title: "Health score distribution".into(),
        bars: view
            .histogram
            .iter()
            .map(|bucket| Bar {
                label: format!("{}–{}", bucket.from, bucket.from + 10),
                value: bucket.accounts as f64,
                class: "bucket".into(),
                tooltip: Some(format!(
                    "score {}–{}: {} accounts",
                    bucket.from,
                    bucket.from + 10,
                    bucket.accounts
                )),
                href: None,
            })
            .collect(),
        value_format: ValueFormat::Integer,
        horizontal: false,
        size: size(420, 200),
    }
    .render();
    let trend_dates: Vec<chrono::NaiveDate> = {
        let mut dates: Vec<_> = view.trend.iter().map(|p| p.as_of).collect();
        dates.dedup();
        dates
    };
    let trend = StackedBarChart {
        title: "Accounts by health colour, recent snapshots".into(),
        x_labels: trend_dates
            .iter()
            .map(|d| d.format("%b %d").to_string())
            .collect(),
        series: ["red", "yellow", "green", "unknown"]
            .iter()
            .map(|colour| StackedSeries {
                name: colour.to_string(),
                class: colour.to_string(),
                values: trend_dates
                    .iter()
                    .map(|date| {
                        view.trend
                            .iter()
                            .find(|p| p.as_of == *date && p.colour == *colour)
                            .map_or(0.0, |p| p.accounts as f64)
                    })
                    .collect(),
            })
            .collect(),
        value_format: ValueFormat::Integer,
        size: size(420, 200),
    }
    .render();
    let html = render_to_string(
        state,
        "portfolio.html",
        json!({
            "nav": "portfolio",
            "view": view,
            "table": table,
            "charts": {"colours": colour_bars, "histogram": histogram, "trend": trend},
        })
        .with_table(params, request, table),
    )?;
    Ok(views::Content {
        title: "Portfolio".into(),
        html,
    })
}

// ---------------------------------------------------------------------------------
// Health list and My book

pub async fn health_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<ListParams>,
) -> PageResult {
    list_page(state, principal, params, "health", "change").await
}

/// A CSM's own accounts, neediest first. Others pick a CSM (default: the first).
pub async fn book_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(mut params): Query<ListParams>,
) -> PageResult {
    if params.csm.as_deref().is_none_or(str::is_empty) {
        params.csm = principal.user.csm_id.clone();
    }
    list_page(state, principal, params, "book", "score").await
}

async fn list_page(
    state: AppState,
    principal: Principal,
    params: ListParams,
    nav: &'static str,
    default_sort: &str,
) -> PageResult {
    let request = params.parse(default_sort, 50)?;
    let key = format!("{nav}|{}|{params:?}", request.as_of.unwrap_or_else(today));
    let shared = state.clone();
    let content = views::content(&state, key, async move {
        let listed = views::health_page(&shared, &request).await?;
        list_content(&shared, &params, &request, nav, &listed.0, &listed.1)
    })
    .await?;
    in_layout(&state, &principal, nav, &content)
}

fn list_content(
    state: &AppState,
    params: &ListParams,
    request: &ListRequest,
    nav: &str,
    table: &HealthPage,
    options: &FilterOptions,
) -> Result<views::Content, AppError> {
    let base = if nav == "book" { "/book" } else { "/health" };
    let title = if nav == "book" { "My book" } else { "Health" };
    let html = render_to_string(
        state,
        "list.html",
        json!({
            "nav": nav,
            "base": base,
            "title": title,
            "table": table,
            "options": options,
        })
        .with_table(params, request, table),
    )?;
    Ok(views::Content {
        title: title.into(),
        html,
    })
}

// ---------------------------------------------------------------------------------
// Account 360

#[derive(Debug, Deserialize)]
pub struct AccountParams {
    pub as_of: Option<String>,
}

pub async fn account_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(account_id): Path<String>,
    Query(params): Query<AccountParams>,
) -> PageResult {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let key = format!("account|{as_of}|{account_id}");
    let shared = state.clone();
    let id = account_id.clone();
    let content = views::content(&state, key, async move {
        let bundle = views::account(&shared, &account_id, as_of).await?;
        // Point in time: the timeline as of the snapshot the view shows.
        let timeline = views::timeline(&shared, &account_id, bundle.view.as_of).await?;
        let churn = views::churn(&shared, &account_id, bundle.view.as_of).await?;
        // Keyed by the requested date, as the Expansion page is: both resolve to the
        // snapshot the view shows, and share one pipeline.
        let expansion = views::account_expansion(&shared, &account_id, as_of).await?;
        let adoption = match views::account_adoption(&shared, &account_id, as_of).await {
            Ok(view) => Some(view),
            Err(error) if error.status == StatusCode::NOT_FOUND => None,
            Err(error) => return Err(error),
        };
        // Stage, scorecard, tier and interactions: the lifecycle overview of the same
        // requested date (the Journey and Segments pages' numbers).
        let journey = match views::account_journey(&shared, &account_id, as_of).await {
            Ok(journey) => Some(journey),
            Err(error) if error.status == StatusCode::NOT_FOUND => None,
            Err(error) => return Err(error),
        };
        let interactions =
            match views::interactions(&shared, &account_id, as_of, crate::params::TIMELINE_DAYS)
                .await
            {
                Ok(timeline) => Some(timeline),
                Err(error) if error.status == StatusCode::NOT_FOUND => None,
                Err(error) => return Err(error),
            };
        account_content(
            &shared,
            &bundle,
            &timeline,
            churn.as_ref().as_ref(),
            &expansion,
            adoption.as_ref(),
            journey.as_deref(),
            interactions.as_deref(),
        )
    })
    .await?;
    // The open alerts and tasks, with the viewer's buttons, into the shared content.
    let section = crate::actions::account_section(&state, &principal, &id).await?;
    let content = views::Content {
        title: content.title.clone(),
        html: content
            .html
            .replacen(crate::actions::ACCOUNT_SECTION_SLOT, &section, 1),
    };
    in_layout(&state, &principal, "", &content)
}

/// Interaction events the account 360 lists (the API has them all).
const INTERACTIONS_SHOWN: usize = 60;

#[allow(clippy::too_many_arguments)]
fn account_content(
    state: &AppState,
    bundle: &views::AccountBundle,
    timeline: &[coco_store::portfolio::TimelineEntry],
    churn: Option<&coco_engine::churn::scoring::AccountPrediction>,
    expansion: &[Opportunity],
    adoption: Option<&coco_engine::adoption::AccountAdoptionView>,
    journey: Option<&views::AccountJourney>,
    interactions: Option<&coco_insights::journey::touchpoints::AccountTimeline>,
) -> Result<views::Content, AppError> {
    let (view, detail) = (&bundle.view, &bundle.detail);
    let (green, yellow) = view
        .cutoffs
        .map_or((70.0, 40.0), |cutoffs| (cutoffs.green, cutoffs.yellow));
    let history_chart = LineChart {
        title: "Health score history".into(),
        x_labels: view
            .history
            .iter()
            .map(|p| p.as_of.format("%Y-%m-%d").to_string())
            .collect(),
        series: vec![LineSeries {
            name: "health score".into(),
            class: "health".into(),
            points: view.history.iter().map(|p| p.score).collect(),
        }],
        y_min: Some(0.0),
        y_max: Some(100.0),
        y_unit: String::new(),
        bands: vec![
            Band {
                from: 0.0,
                to: yellow,
                class: "red".into(),
            },
            Band {
                from: yellow,
                to: green,
                class: "yellow".into(),
            },
            Band {
                from: green,
                to: 100.0,
                class: "green".into(),
            },
        ],
        size: size(560, 200),
    }
    .render();
    // The interaction timeline names contacts by id; the record knows their names.
    let contact_names: std::collections::BTreeMap<&str, &str> = interactions
        .map(|t| {
            t.stakeholders
                .engaged
                .iter()
                .filter_map(|c| Some((c.contact_id.as_str(), c.name.as_deref()?)))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(detail.iter().flat_map(|d| {
            d.contacts
                .iter()
                .filter_map(|c| Some((c.contact_id.as_str(), c.name.as_deref()?)))
        }))
        .collect();
    let usage_charts: Vec<serde_json::Value> = view
        .evidence
        .iter()
        .filter(|metric| {
            metric.category == coco_core::Category::ProductUsage && metric.history.len() > 1
        })
        .take(4)
        .map(|metric| {
            let chart = LineChart {
                title: format!("{} ({})", metric.metric, metric.unit),
                x_labels: metric
                    .history
                    .iter()
                    .map(|(date, _)| date.format("%Y-%m-%d").to_string())
                    .collect(),
                series: vec![LineSeries {
                    name: metric.metric.clone(),
                    class: "series-0".into(),
                    points: metric.history.iter().map(|(_, value)| *value).collect(),
                }],
                y_min: None,
                y_max: None,
                y_unit: String::new(),
                bands: Vec::new(),
                size: size(270, 140),
            }
            .render();
            json!({"metric": metric.metric, "chart": chart})
        })
        .collect();
    let html = render_to_string(
        state,
        "account.html",
        json!({
            "view": view,
            "detail": detail,
            "timeline": timeline,
            "churn": churn,
            "charts": {"history": history_chart, "usage": usage_charts},
            "expansion": expansion.iter().map(|o| json!({
                "o": o,
                "describe": o.kind.describe(),
                "outreach": o.timing.outreach.label(),
                "anchor": opportunity_anchor(&o.id),
            })).collect::<Vec<_>>(),
            "adoption": adoption,
            "journey": journey,
            "interactions": interactions,
            "contact_names": contact_names,
            "interactions_days": crate::params::TIMELINE_DAYS,
            "interactions_shown": INTERACTIONS_SHOWN,
        }),
    )?;
    Ok(views::Content {
        title: view.name.clone().unwrap_or_else(|| view.account_id.clone()),
        html,
    })
}

// ---------------------------------------------------------------------------------
// Renewals and the model

#[derive(Debug, Deserialize)]
pub struct RenewalsParams {
    pub as_of: Option<String>,
    /// Scenario: the share saved (0–1 or a percentage) of `group`.
    pub share: Option<String>,
    pub group: Option<String>,
}

/// Upcoming renewals shown on the page (soonest first); the CLI lists them all.
const UPCOMING_SHOWN: usize = 200;

pub async fn renewals_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<RenewalsParams>,
) -> PageResult {
    let as_of = crate::params::parse_date("as_of", &params.as_of)?.unwrap_or_else(today);
    let share = params.share.clone().filter(|s| !s.trim().is_empty());
    let group = params.group.clone().unwrap_or_else(|| "red".into());
    let scenario = match &share {
        Some(share) => Some(
            coco_models::forecast::Scenario::parse(&format!("{group}={share}"))
                .map_err(|message| AppError::invalid("share", message))?,
        ),
        None => None,
    };
    let key = format!("renewals|{as_of}|{scenario:?}");
    let shared = state.clone();
    let content = views::content(&state, key, async move {
        let forecast = views::renewals(&shared, as_of, scenario).await?;
        let forecast = forecast.as_ref().as_ref();
        let upcoming: Vec<_> = forecast
            .map(|f| f.upcoming.iter().take(UPCOMING_SHOWN).collect())
            .unwrap_or_default();
        let total = forecast.map_or(0, |f| f.upcoming.len());
        let html = render_to_string(
            &shared,
            "renewals.html",
            json!({
                "forecast": forecast,
                "upcoming": upcoming,
                "shown": upcoming.len(),
                "total": total,
                "more": total > upcoming.len(),
                "share": share.unwrap_or_else(|| "50%".into()),
                "group": group,
                "groups": ["red", "yellow", "critical", "high", "elevated"],
            }),
        )?;
        Ok(views::Content {
            title: "Renewals".into(),
            html,
        })
    })
    .await?;
    in_layout(&state, &principal, "renewals", &content)
}

#[derive(Debug, Deserialize)]
pub struct ModelParams {
    pub version: Option<String>,
}

pub async fn model_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<ModelParams>,
) -> PageResult {
    let key = format!("model|{:?}", params.version);
    let shared = state.clone();
    let content = views::content(&state, key, async move {
        let models = views::models(&shared, params.version.clone()).await?;
        // The report's HTML escapes every name and value itself (coco-models/report.rs).
        let html = render_to_string(
            &shared,
            "model.html",
            json!({
                "models": models.models,
                "summary": models.shown.as_ref().map(|p| &p.0),
                "report_html": models.shown.as_ref().map(|p| p.1.html_body()),
            }),
        )?;
        Ok(views::Content {
            title: "Model".into(),
            html,
        })
    })
    .await?;
    in_layout(&state, &principal, "model", &content)
}

// ---------------------------------------------------------------------------------
// Expansion and adoption

/// The HTML id of an opportunity's article on the account 360 (ids hold `:`; any other
/// character than letters, digits, `-` and `_` becomes `-`).
pub(crate) fn opportunity_anchor(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("opp-{cleaned}")
}

/// An outreach key of the pipeline summary (`in_30_days`) as the engine's type.
fn parse_outreach(key: &str) -> Option<Outreach> {
    serde_json::from_value::<Outreach>(json!(key)).ok()
}

/// A row of the prioritised list.
#[derive(Serialize)]
struct OpportunityRow<'a> {
    rank: usize,
    id: &'a str,
    anchor: String,
    account_id: &'a str,
    account_name: &'a str,
    type_name: &'static str,
    describe: String,
    signals: Vec<&'static str>,
    light: &'static str,
    outreach: &'static str,
    uplift_arr: f64,
    win_probability: f64,
    expected_arr: f64,
    renewal_date: Option<chrono::NaiveDate>,
    owner_csm_id: Option<&'a str>,
}

/// The opportunities shown per page.
const OPPORTUNITIES_PER_PAGE: usize = 50;

pub async fn expansion_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<ExpansionParams>,
) -> PageResult {
    let request = params.parse_page(OPPORTUNITIES_PER_PAGE)?;
    let as_of = request.as_of.unwrap_or_else(today);
    let key = format!("expansion|{as_of}|{params:?}");
    let shared = state.clone();
    let content = views::content(&state, key, async move {
        let growth = views::growth(&shared, as_of).await?;
        expansion_content(&shared, &params, &request, &growth.expansion)
    })
    .await?;
    in_layout(&state, &principal, "expansion", &content)
}

fn expansion_content(
    state: &AppState,
    params: &ExpansionParams,
    request: &ExpansionRequest,
    run: &coco_engine::expansion::ExpansionRun,
) -> Result<views::Content, AppError> {
    let summary = views::expansion_summary(run, &request.filter, request.target);
    let selected: Vec<&Opportunity> = run
        .opportunities
        .iter()
        .filter(|o| request.filter.matches(o))
        .collect();
    let total = selected.len();
    let rows: Vec<OpportunityRow> = selected
        .iter()
        .enumerate()
        .skip(request.offset)
        .take(request.limit)
        .map(|(index, o)| OpportunityRow {
            rank: index + 1,
            id: &o.id,
            anchor: opportunity_anchor(&o.id),
            account_id: &o.account_id,
            account_name: &o.account_name,
            type_name: o.kind.type_name(),
            describe: o.kind.describe(),
            signals: o.signals.iter().map(|s| s.kind.as_str()).collect(),
            light: o.timing.light.as_str(),
            outreach: o.timing.outreach.label(),
            uplift_arr: o.sizing.uplift_arr,
            win_probability: o.sizing.win_probability,
            expected_arr: o.sizing.expected_arr,
            renewal_date: o.renewal_date,
            owner_csm_id: o.owner_csm_id.as_deref(),
        })
        .collect();
    let mut owners: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for o in &run.opportunities {
        if let Some(owner) = o.owner_csm_id.as_deref() {
            *owners.entry(owner).or_default() += 1;
        }
    }
    let pages = total.div_ceil(request.limit).max(1);
    // Lines in their natural order (green to red, now to hold), not alphabetical.
    let mut by_light: Vec<&PipelineLine> = summary.by_light.iter().collect();
    by_light.sort_by_key(|line| LIGHTS.iter().position(|l| *l == line.key));
    let mut by_outreach: Vec<(Option<Outreach>, &PipelineLine)> = summary
        .by_outreach
        .iter()
        .map(|line| (parse_outreach(&line.key), line))
        .collect();
    by_outreach.sort_by_key(|(outreach, _)| (outreach.is_none(), *outreach));
    let outreach: Vec<serde_json::Value> = by_outreach
        .iter()
        .map(|(parsed, line)| {
            let label = parsed.map_or_else(|| line.key.replace('_', " "), |o| o.label().into());
            json!({"line": line, "label": label})
        })
        .collect();
    let html = render_to_string(
        state,
        "expansion.html",
        json!({
            "run": {"as_of": run.as_of, "snapshot_id": run.snapshot_id, "config_version": run.config_version},
            "summary": summary,
            "by_light": by_light,
            "outreach": outreach,
            "rows": rows,
            "total": total,
            "page": request.page,
            "pages": pages,
            "params": params,
            "types": OPPORTUNITY_TYPES,
            "lights": LIGHTS,
            "owners": owners.iter().map(|(owner, count)| json!({"value": owner, "count": count})).collect::<Vec<_>>(),
            "links": {
                "prev": params.query_with(&[("page", &request.page.saturating_sub(1).to_string())]),
                "next": params.query_with(&[("page", &(request.page + 1).to_string())]),
            },
        }),
    )?;
    Ok(views::Content {
        title: "Expansion".into(),
        html,
    })
}

pub async fn adoption_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<AdoptionParams>,
) -> PageResult {
    let request = params.parse()?;
    let as_of = request.as_of.unwrap_or_else(today);
    let key = format!("adoption|{as_of}|{params:?}");
    let shared = state.clone();
    let content = views::content(&state, key, async move {
        let heatmap = views::heatmap(&shared, as_of, &request.by).await?;
        let report = views::adoption_report(&shared, as_of, request.attention).await?;
        let causes = views::adoption_causes(&shared, as_of).await?;
        // The chart is coco-charts' SVG: every label in it is escaped there.
        let html = render_to_string(
            &shared,
            "adoption.html",
            json!({
                "heatmap_svg": heatmap.svg,
                "heatmap": {
                    "as_of": heatmap.heatmap.as_of,
                    "group_by": heatmap.heatmap.group_by,
                    "groups": heatmap.heatmap.groups.len(),
                    "features": heatmap.heatmap.features.len(),
                },
                "by": request.by,
                "groups": HEATMAP_GROUPS,
                "params": params,
                "download": params.query_with(&[("by", &request.by)]),
                "report": {
                    "as_of": report.as_of,
                    "baseline": report.baseline,
                    "accounts": report.accounts,
                    "summary": report.summary,
                    "levels_now": report.levels_now,
                    "levels_then": report.levels_then,
                    "improved": report.improved,
                    "declined": report.declined,
                    "stable": report.stable,
                    "attention": report.attention,
                    "systemic": report.systemic,
                },
                "causes": &causes,
            }),
        )?;
        Ok(views::Content {
            title: "Adoption".into(),
            html,
        })
    })
    .await?;
    in_layout(&state, &principal, "adoption", &content)
}

/// A download: the body with its type and an attachment file name.
fn download(content_type: &'static str, file_name: &str, body: String) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        file_name.replace(
            |c: char| !c.is_ascii_alphanumeric() && !"-_.".contains(c),
            "_"
        )
    );
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The heatmap's cells as CSV (one row per feature × group).
pub async fn heatmap_csv(
    State(state): State<AppState>,
    Query(params): Query<AdoptionParams>,
) -> PageResult {
    let request = params.parse()?;
    let view = views::heatmap(&state, request.as_of.unwrap_or_else(today), &request.by).await?;
    Ok(download(
        "text/csv; charset=utf-8",
        &format!(
            "adoption-heatmap-{}-{}.csv",
            view.heatmap.group_by, view.heatmap.as_of
        ),
        view.heatmap.to_csv(),
    ))
}

/// The heatmap chart as a standalone SVG file: the chart with the charts' stylesheet
/// inside it (on the page, app.css colours it).
pub async fn heatmap_svg(
    State(state): State<AppState>,
    Query(params): Query<AdoptionParams>,
) -> PageResult {
    let request = params.parse()?;
    let view = views::heatmap(&state, request.as_of.unwrap_or_else(today), &request.by).await?;
    let svg = coco_engine::adoption::heatmap_svg_document(&view.heatmap);
    Ok(download(
        "image/svg+xml",
        &format!(
            "adoption-heatmap-{}-{}.svg",
            view.heatmap.group_by, view.heatmap.as_of
        ),
        svg,
    ))
}

// ---------------------------------------------------------------------------------
// Login, logout, password

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    pub next: Option<String>,
    pub error: Option<String>,
}

/// Only same-site paths are followed after login (no open redirect).
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/".into(),
    }
}

fn login_csrf_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| cookie(v, LOGIN_CSRF_COOKIE))
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> PageResult {
    // An existing token is kept: a second tab, a reload or any stray request for the
    // login page must not invalidate the form already on screen.
    let csrf = login_csrf_cookie(&headers)
        .filter(|token| token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(|| random_hex(16), str::to_string);
    let mut response = render(
        &state,
        "login.html",
        json!({
            "csrf": csrf,
            "next": safe_next(query.next.as_deref()),
            "error": query.error,
        }),
    )?;
    if let Ok(value) =
        set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, state.inner.secure_cookies).parse()
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    pub csrf: String,
    pub next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> PageResult {
    let ip = Some(peer.ip());
    let login_csrf = login_csrf_cookie(&headers).unwrap_or("");
    if login_csrf.is_empty() || !same_secret(login_csrf, &form.csrf) {
        return Err(AppError::forbidden(
            "the login form's CSRF token is missing or stale; reload the login page",
        )
        .into());
    }
    let next = safe_next(form.next.as_deref());
    if let Some(wait) = state.inner.limiter.blocked(ip, &form.username) {
        let mut response = render(
            &state,
            "login.html",
            json!({
                "csrf": form.csrf,
                "next": next,
                "error": format!("Too many failed attempts. Try again in {} minutes.", wait.as_secs().div_ceil(60)),
            }),
        )?;
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        if let Ok(value) = wait.as_secs().to_string().parse() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let username = form.username.trim().to_lowercase();
    let lookup = username.clone();
    let found = state
        .pool()
        .run(move |store| Ok(store.user_by_username(&lookup)?))
        .await?;
    let password = form.password.clone();
    // Verify against a dummy hash when the user is unknown, so timing does not tell.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, dummy_hash()),
    };
    let verified = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let ip_text = ip.map(|ip| ip.to_string());
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        _ => {
            state.inner.limiter.record_failure(ip, &username);
            let actor = username.clone();
            let ip_audit = ip_text.clone();
            state
                .pool()
                .run(move |store| {
                    Ok(store.audit(&AuditEntry {
                        actor: &actor,
                        action: "login.failure",
                        target: None,
                        detail: json!({}),
                        ip: ip_audit.as_deref(),
                    })?)
                })
                .await?;
            let mut response = render(
                &state,
                "login.html",
                json!({"csrf": form.csrf, "next": next, "error": "Unknown user or wrong password."}),
            )?;
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            return Ok(response);
        }
    };
    state.inner.limiter.record_success(ip, &username);
    let session = random_hex(32);
    let session_digest = digest(&session);
    let csrf = random_hex(32);
    let expires = Utc::now().naive_utc() + Duration::hours(SESSION_HOURS);
    let user_id = user.user_id;
    state
        .pool()
        .run(move |store| {
            Ok(store.create_session(
                &session_digest,
                user_id,
                &csrf,
                expires,
                &AuditEntry {
                    actor: &username,
                    action: "login.success",
                    target: None,
                    detail: json!({}),
                    ip: ip_text.as_deref(),
                },
            )?)
        })
        .await?;
    let target = if user.must_change_password {
        "/password".to_string()
    } else {
        next
    };
    let mut response = Redirect::to(&target).into_response();
    let secure = state.inner.secure_cookies;
    for value in [
        set_cookie(SESSION_COOKIE, &session, SESSION_HOURS * 3600, secure),
        set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure),
    ] {
        if let Ok(value) = value.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// An argon2id hash of a random string nobody knows, verified against when the
/// username is unknown so both paths take the same time.
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(&random_hex(16)).unwrap_or_default())
        .clone()
}

pub async fn logout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
) -> PageResult {
    if let Some(session) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| cookie(v, SESSION_COOKIE))
    {
        let session_digest = digest(session);
        let actor = principal.actor();
        state
            .pool()
            .run(move |store| {
                Ok(store.delete_session(
                    &session_digest,
                    &AuditEntry {
                        actor: &actor,
                        action: "logout",
                        target: None,
                        detail: json!({}),
                        ip: None,
                    },
                )?)
            })
            .await?;
    }
    state.inner.credentials.clear();
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = set_cookie(SESSION_COOKIE, "", 0, state.inner.secure_cookies).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub async fn password_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> PageResult {
    render(
        &state,
        "password.html",
        json!({"viewer": viewer(&principal), "nav": "", "must_change": principal.user.must_change_password}),
    )
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    pub current: String,
    pub password: String,
    pub confirm: String,
}

pub async fn password_submit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    let problem = if form.password != form.confirm {
        Some("The two new passwords differ.".to_string())
    } else if form.password == form.current {
        Some("The new password must differ from the current one.".to_string())
    } else {
        auth::check_password_rules(&form.password).err()
    };
    let username = principal.user.username.clone();
    let lookup = username.clone();
    let stored = state
        .pool()
        .run(move |store| Ok(store.user_by_username(&lookup)?))
        .await?;
    let current = form.current.clone();
    let current_ok = match stored {
        Some((_, hash)) => {
            tokio::task::spawn_blocking(move || auth::verify_password(&current, &hash))
                .await
                .unwrap_or(false)
        }
        None => false,
    };
    let problem =
        problem.or_else(|| (!current_ok).then(|| "The current password is wrong.".into()));
    if let Some(problem) = problem {
        let mut response = render(
            &state,
            "password.html",
            json!({"viewer": viewer(&principal), "nav": "", "must_change": principal.user.must_change_password, "error": problem}),
        )?;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    }
    let new_password = form.password.clone();
    state
        .pool()
        .run(move |store| crate::users::change_password(store, &username, &new_password))
        .await?;
    state.inner.credentials.clear();
    Ok(Redirect::to("/").into_response())
}

// ---------------------------------------------------------------------------------
// Ingest

pub async fn ingest_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> PageResult {
    principal.require(Permission::Ingest)?;
    ingest_view(&state, &principal, None)
}

pub async fn ingest_submit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    multipart: Multipart,
) -> PageResult {
    principal.require(Permission::Ingest)?;
    let report = crate::api::ingest_upload(&state, &principal, multipart).await?;
    ingest_view(&state, &principal, Some(report))
}

/// The upload form, with the report of the upload just made if any.
fn ingest_view(
    state: &AppState,
    principal: &Principal,
    report: Option<coco_store::IngestReport>,
) -> PageResult {
    render_page(
        state,
        principal,
        "ingest.html",
        "ingest",
        json!({
            "entities": coco_core::ENTITIES.iter().map(|e| e.name).collect::<Vec<_>>(),
            "report": report,
        }),
    )
}

// ---------------------------------------------------------------------------------
// Scoring

/// The "Score now" button: stores today's snapshot, then shows what it found.
pub async fn score_submit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> PageResult {
    let run = crate::api::run_scoring(&state, &principal, today()).await?;
    render_page(&state, &principal, "scored.html", "", json!({ "run": run }))
}
