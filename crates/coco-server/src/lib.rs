//! `coco serve`: COCO's web surface, one process on the embedded store.
//!
//! - [`pages`]: server-rendered HTML (portfolio, health, my book, account 360 with its
//!   expansion, adoption, journey, scorecard, tier and interaction sections, renewals,
//!   model, expansion, adoption with the heatmap downloads, login, ingest); charts are
//!   SVG from `coco-charts`; no JavaScript needed to read.
//! - [`lifecycle`]: the Segments & coverage, Workload, Journey and Onboarding pages.
//! - [`api`]: `/api/v1` JSON with an OpenAPI document generated from the code.
//! - [`auth`], [`middleware`]: passwords, sessions, tokens, CSRF, rate limiting; the
//!   gate every request passes. [`users`]: user and token management (shared with the CLI).
//! - [`actions`]: My day, the alerts inbox and an alert's context pack, tasks — and the
//!   forms that acknowledge, snooze, close and complete them; [`actions_api`]: the same
//!   under `/api/v1`, with the outbox, the run log and interventions.
//! - [`drafts`]: drafts, reports and the handbook — the API (JSON, Markdown, HTML,
//!   PPTX) and the review pages with Copy and Download.
//! - [`scheduler`]: the daily run and the outbox drain of `coco serve`.
//! - [`pool`]: store handles on blocking threads.
//!
//! Surfaces are thin: handlers parse, call `coco-engine`/`coco-store`, and format.

pub mod actions;
pub mod actions_api;
pub mod admin;
pub mod api;
pub mod auth;
pub mod drafts;
pub mod error;
pub mod lifecycle;
pub mod middleware;
pub mod pages;
pub mod params;
pub mod pool;
pub mod scheduler;
pub mod state;
pub mod users;
pub mod views;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use coco_engine::Config;
use coco_engine::actions::ActionsConfig;
use coco_engine::drafts::Drafting;
use coco_store::Store;

use crate::pool::StorePool;
use crate::state::{AppState, CredentialCache, Shared};

/// How to run the server.
pub struct ServeOptions {
    pub data_dir: PathBuf,
    /// Store handles serving requests concurrently.
    pub connections: usize,
    /// Mark cookies `Secure` (set when the server is reached over HTTPS via a proxy).
    pub secure_cookies: bool,
}

/// The templates, compiled into the binary so `coco` stays one file.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("password.html", include_str!("../templates/password.html")),
    (
        "portfolio.html",
        include_str!("../templates/portfolio.html"),
    ),
    ("list.html", include_str!("../templates/list.html")),
    ("account.html", include_str!("../templates/account.html")),
    ("layout.html", include_str!("../templates/layout.html")),
    ("scored.html", include_str!("../templates/scored.html")),
    ("renewals.html", include_str!("../templates/renewals.html")),
    ("model.html", include_str!("../templates/model.html")),
    (
        "expansion.html",
        include_str!("../templates/expansion.html"),
    ),
    ("adoption.html", include_str!("../templates/adoption.html")),
    ("segments.html", include_str!("../templates/segments.html")),
    ("workload.html", include_str!("../templates/workload.html")),
    ("journey.html", include_str!("../templates/journey.html")),
    (
        "onboarding.html",
        include_str!("../templates/onboarding.html"),
    ),
    ("admin.html", include_str!("../templates/admin.html")),
    ("ingest.html", include_str!("../templates/ingest.html")),
    ("today.html", include_str!("../templates/today.html")),
    ("alerts.html", include_str!("../templates/alerts.html")),
    ("alert.html", include_str!("../templates/alert.html")),
    ("tasks.html", include_str!("../templates/tasks.html")),
    (
        "account_actions.html",
        include_str!("../templates/account_actions.html"),
    ),
    ("macros.html", include_str!("../templates/macros.html")),
    ("draft.html", include_str!("../templates/draft.html")),
    ("reports.html", include_str!("../templates/reports.html")),
];

const STYLESHEET: &str = include_str!("../static/app.css");
const FAVICON: &str = include_str!("../static/favicon.svg");

fn templates() -> Result<minijinja::Environment<'static>, minijinja::Error> {
    let mut environment = minijinja::Environment::new();
    // `.html` templates auto-escape every value; only chart SVG (escaped by
    // coco-charts) is marked safe, with `|safe` at its one place of use.
    for (name, source) in TEMPLATES {
        environment.add_template(name, source)?;
    }
    environment.add_filter("money", |value: f64| {
        coco_charts::format_value(value, coco_charts::ValueFormat::Money)
    });
    environment.add_filter("score", |value: Option<f64>| match value {
        Some(score) => format!("{score:.0}"),
        None => "–".into(),
    });
    environment.add_filter("signed", |value: Option<f64>| match value {
        Some(change) if change.abs() >= 0.05 => format!("{change:+.1}"),
        Some(_) => "±0".into(),
        None => "–".into(),
    });
    environment.add_filter("number", |value: f64| {
        // Whole numbers and large values without decimals; small fractions with two.
        if (value.fract() == 0.0 && value.abs() < 1e12) || value.abs() >= 100.0 {
            format!("{value:.0}")
        } else {
            format!("{value:.2}")
        }
    });
    environment.add_filter("pct", |value: f64| format!("{:.0}%", value * 100.0));
    // Optional numbers (a statistic without enough data): "–" when missing.
    environment.add_filter("pct_opt", |value: Option<f64>| match value {
        Some(v) if v.is_finite() => format!("{:.0}%", v * 100.0),
        _ => "–".into(),
    });
    environment.add_filter(
        "num_opt",
        |value: Option<f64>, decimals: Option<usize>| match value {
            Some(v) if v.is_finite() => format!("{v:.*}", decimals.unwrap_or(2)),
            _ => "–".into(),
        },
    );
    environment.add_filter("pvalue", |value: Option<f64>| match value {
        Some(p) if p < 0.0001 => "<0.0001".into(),
        Some(p) if p.is_finite() => format!("{p:.4}"),
        _ => "–".into(),
    });
    // Retention rates differ in tenths of a percent.
    environment.add_filter("pct1", |value: f64| format!("{:.1}%", value * 100.0));
    Ok(environment)
}

/// Builds the shared state over an open store, with the alert rules, playbooks and
/// notification settings of `<data dir>/config` (the shipped defaults for a file that is
/// not there). A file that does not parse or validate fails here, with the engine's
/// message naming the file.
pub fn state(store: Store, config: Config, options: &ServeOptions) -> anyhow::Result<AppState> {
    let actions = ActionsConfig::load(Some(&options.data_dir.join("config")), &config)?;
    state_with_actions(store, config, actions, options)
}

/// [`state`] with the actions configuration already loaded (`coco serve --config-dir`);
/// the drafts' settings and templates from `<data dir>/config` and `<data dir>`.
pub fn state_with_actions(
    store: Store,
    config: Config,
    actions: ActionsConfig,
    options: &ServeOptions,
) -> anyhow::Result<AppState> {
    let drafting = Drafting::load(
        Some(&options.data_dir.join("config")),
        Some(&options.data_dir),
    )?;
    state_with_configs(store, config, actions, drafting, options)
}

/// [`state`] with every configuration already loaded (`drafts.toml` and the templates
/// as `Drafting::load(Some(config_dir), Some(data_dir))` reads them, as `coco draft` does).
pub fn state_with_configs(
    store: Store,
    config: Config,
    actions: ActionsConfig,
    drafting: Drafting,
    options: &ServeOptions,
) -> anyhow::Result<AppState> {
    Ok(AppState {
        inner: Arc::new(Shared {
            pool: Arc::new(StorePool::new(store, options.connections)?),
            config: Arc::new(config),
            actions: Arc::new(actions),
            drafting: Arc::new(drafting),
            actions_lock: tokio::sync::Mutex::new(()),
            templates: templates()?,
            limiter: auth::LoginLimiter::default(),
            credentials: CredentialCache::default(),
            views: crate::views::ViewCache::default(),
            secure_cookies: options.secure_cookies,
            data_dir: options.data_dir.clone(),
        }),
    })
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        )],
        STYLESHEET,
    )
}

/// Served at `/favicon.ico` too: browsers ask for it on their own, and an anonymous
/// request that redirected to the login page would rotate the login form's CSRF cookie.
async fn favicon() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        FAVICON,
    )
}

async fn healthz() -> &'static str {
    "ok"
}

/// Every route, behind the authentication gate, with security headers.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::portfolio_page))
        .route("/health", get(pages::health_page))
        .route("/book", get(pages::book_page))
        .route("/accounts/{account_id}", get(pages::account_page))
        .route("/renewals", get(pages::renewals_page))
        .route("/model", get(pages::model_page))
        .route("/expansion", get(pages::expansion_page))
        .route("/adoption", get(pages::adoption_page))
        .route("/adoption/heatmap.csv", get(pages::heatmap_csv))
        .route("/adoption/heatmap.svg", get(pages::heatmap_svg))
        .route("/segments", get(lifecycle::segments_page))
        .route("/workload", get(lifecycle::workload_page))
        .route("/journey", get(lifecycle::journey_page))
        .route("/onboarding", get(lifecycle::onboarding_page))
        .route("/today", get(actions::today_page))
        .route("/alerts", get(actions::alerts_page))
        .route("/alerts/{alert_id}", get(actions::alert_page))
        .route("/alerts/{alert_id}/status", post(actions::alert_submit))
        .route(
            "/accounts/{account_id}/drafts/{document}",
            get(drafts::account_draft_page),
        )
        .route("/reports", get(drafts::reports_page))
        .route("/reports/{kind}", get(drafts::report_page))
        .route("/handbook", get(drafts::handbook_page))
        .route("/tasks", get(actions::tasks_page))
        .route("/tasks/{task_id}/status", post(actions::task_submit))
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route(
            "/password",
            get(pages::password_page).post(pages::password_submit),
        )
        .route(
            "/ingest",
            get(pages::ingest_page).post(pages::ingest_submit),
        )
        .route("/score", post(pages::score_submit))
        .route("/admin", get(admin::admin_page).post(admin::admin_submit))
        .route("/static/app.css", get(stylesheet))
        .route("/static/favicon.svg", get(favicon))
        .route("/static/drafts.js", get(drafts::script))
        .route("/favicon.ico", get(favicon))
        .route("/healthz", get(healthz))
        .nest("/api/v1", api::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::authenticate,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(512 * 1024 * 1024))
        .with_state(state)
}

/// Headers every response carries: no framing, no sniffing, scripts only from us.
async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Serves until Ctrl-C. `on_ready` receives the bound address (port 0 picks one).
pub async fn serve(
    state: AppState,
    bind: SocketAddr,
    on_ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|error| anyhow::anyhow!("cannot listen on {bind}: {error}"))?;
    let address = listener.local_addr()?;
    on_ready(address);
    tokio::spawn(views::warm_up(state.clone()));
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
