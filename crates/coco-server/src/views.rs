//! The read side of every page and endpoint: the portfolio, health pages and account
//! views, computed by `coco-engine` on a pooled store handle and memoised.
//!
//! Why memoising is safe: a view depends only on the request's parameters (with the
//! as-of date resolved, so "today" rolls over by itself) and on the stored data, and
//! while the server runs it is the only process that can write the store (DuckDB's
//! one-process rule). Every write the server makes (an upload) calls
//! [`ViewCache::invalidate`], which moves to a new generation; entries of older
//! generations are never read again and are dropped.
//!
//! Alerts and tasks change far more often than the data (a CSM acknowledges, snoozes,
//! completes all morning): the views that show them (the daily lists) carry a second
//! generation in their keys, which [`ViewCache::invalidate_actions`] moves on, leaving
//! the expensive portfolio, account and lifecycle views in place. Pages with forms on
//! alerts and tasks are rendered per request (they carry the viewer's CSRF token).
//!
//! Why it matters: a portfolio view over 100,000 accounts is about ten aggregate
//! queries (~1 s on 2 cores); a CS team opens the same few views all morning.
//! Concurrent first requests for the same view are coalesced into one computation.

use std::any::Any;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::NaiveDate;
use coco_engine::account::AccountView;
use coco_engine::portfolio::{self, HealthPage, PortfolioView};
use coco_store::Store;
use coco_store::portfolio::{FilterOptions, TimelineEntry};
use coco_store::queries::AccountDetail;
use coco_store::read_model::{AccountReadModel, AccountSource};
use coco_store::snapshots::HealthListFilter;

use crate::error::AppError;
use crate::pages::COMPARE_DAYS;
use crate::params::ListRequest;
use crate::state::AppState;

type Entry = Arc<dyn Any + Send + Sync>;

pub struct ViewCache {
    generation: AtomicU64,
    /// Moved on by every change to alerts or tasks (see the module's documentation).
    actions_generation: AtomicU64,
    entries: moka::future::Cache<String, Entry>,
    /// The latest snapshot's account rows in memory (see `coco_store::read_model`),
    /// built by [`warm_up`] with the generation it was built in (a model finished
    /// after a write is never used); account views of other snapshots, or asked for
    /// before it is built, read the store.
    read_model: RwLock<Option<(u64, Arc<AccountReadModel>)>>,
    /// The accounts whose views the last completed warm-up computed.
    warmed: RwLock<Option<Vec<String>>>,
}

impl Default for ViewCache {
    fn default() -> Self {
        ViewCache {
            generation: AtomicU64::new(0),
            actions_generation: AtomicU64::new(0),
            entries: moka::future::Cache::builder()
                // An account view with its history is the largest entry (tens of kB).
                .max_capacity(4096)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
            read_model: RwLock::new(None),
            warmed: RwLock::new(None),
        }
    }
}

impl ViewCache {
    /// Forgets every view: the stored data changed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
        if let Ok(mut model) = self.read_model.write() {
            *model = None;
        }
        if let Ok(mut warmed) = self.warmed.write() {
            *warmed = None;
        }
    }

    /// Forgets the views that show alerts and tasks (an alert's or a task's status
    /// changed, or an alert run wrote without scoring).
    pub fn invalidate_actions(&self) {
        self.actions_generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The accounts the last completed warm-up made ready (None: none completed since
    /// the start or the last write).
    pub fn warmed_accounts(&self) -> Option<Vec<String>> {
        self.warmed.read().ok().and_then(|warmed| warmed.clone())
    }

    /// The read model, once the warm-up has built it for the current data.
    pub fn read_model(&self) -> Option<Arc<AccountReadModel>> {
        let generation = self.generation.load(Ordering::SeqCst);
        self.read_model
            .read()
            .ok()
            .and_then(|slot| slot.clone())
            .filter(|(built_in, _)| *built_in == generation)
            .map(|(_, model)| model)
    }

    /// The entry under `key`, made by `make` when absent. Errors are not cached.
    async fn cached<T, Fut>(&self, key: String, make: Fut) -> Result<Arc<T>, AppError>
    where
        T: Send + Sync + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    {
        let key = format!("{}|{key}", self.generation.load(Ordering::SeqCst));
        let entry = self
            .entries
            .try_get_with(
                key,
                async move { Ok::<Entry, AppError>(Arc::new(make.await?)) },
            )
            .await
            .map_err(|error: Arc<AppError>| (*error).clone())?;
        entry
            .downcast::<T>()
            .map_err(|_| AppError::internal("a cached view has an unexpected type"))
    }

    /// The view under `key`, computed by `work` on a store handle when absent.
    async fn get_or_compute<T, F>(
        &self,
        state: &AppState,
        key: String,
        work: F,
    ) -> Result<Arc<T>, AppError>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&Store) -> Result<T, AppError> + Send + 'static,
    {
        let pool = Arc::clone(state.pool());
        self.cached(key, async move { pool.run(work).await }).await
    }
}

/// A page's rendered content: the same for every viewer, so rendered once per view
/// (the layout around it, with the viewer's name and CSRF token, is per request).
pub struct Content {
    pub title: String,
    pub html: String,
}

/// The content under `key` (a page kind and its raw parameters), rendered by `render`
/// when absent.
pub async fn content<Fut>(
    state: &AppState,
    key: String,
    render: Fut,
) -> Result<Arc<Content>, AppError>
where
    Fut: Future<Output = Result<Content, AppError>> + Send + 'static,
{
    state
        .inner
        .views
        .cached(format!("html|{key}"), render)
        .await
}

/// The as-of date a request without one means.
pub(crate) fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The snapshot answering a request "as of" (default today) and the one a week
/// earlier it is compared with — one rule for every page and endpoint.
pub(crate) fn snapshots_as_of(
    store: &Store,
    config: &coco_engine::Config,
    as_of: Option<NaiveDate>,
) -> Result<portfolio::SnapshotPair, AppError> {
    Ok(portfolio::snapshot_pair(
        store,
        config,
        as_of.unwrap_or_else(today),
        COMPARE_DAYS,
    )?)
}

/// The cache key of a list request: every parameter, the as-of date resolved.
pub(crate) fn list_key(kind: &str, request: &ListRequest) -> String {
    format!(
        "{kind}|{}|{:?}|{}|{}",
        request.as_of.unwrap_or_else(today),
        request.filter,
        request.page,
        request.per_page
    )
}

/// The portfolio summary (tiles, charts, movers, renewals) for a request's filters.
pub async fn portfolio_view(
    state: &AppState,
    request: &ListRequest,
) -> Result<Arc<PortfolioView>, AppError> {
    let config = Arc::clone(&state.inner.config);
    let as_of = request.as_of;
    let filter = request.filter.clone();
    // Paging and sort do not change the summary.
    let key = format!(
        "portfolio|{}|{:?}",
        as_of.unwrap_or_else(today),
        HealthListFilter {
            sort: Default::default(),
            limit: None,
            offset: 0,
            ..filter.clone()
        }
    );
    state
        .inner
        .views
        .get_or_compute(state, key, move |store| {
            let pair = snapshots_as_of(store, &config, as_of)?;
            Ok(portfolio::portfolio_view(store, &config, pair, &filter)?)
        })
        .await
}

/// One page of the health list, with the filter choices of its snapshot.
pub async fn health_page(
    state: &AppState,
    request: &ListRequest,
) -> Result<Arc<(HealthPage, FilterOptions)>, AppError> {
    let config = Arc::clone(&state.inner.config);
    let request = request.clone();
    let key = list_key("health", &request);
    state
        .inner
        .views
        .get_or_compute(state, key, move |store| {
            let pair = snapshots_as_of(store, &config, request.as_of)?;
            let options = store.filter_options(pair.current.snapshot_id)?;
            let page = portfolio::health_page(
                store,
                pair,
                &request.filter,
                request.page,
                request.per_page,
            )?;
            Ok((page, options))
        })
        .await
}

/// Everything the account API shows, and the account 360 page with the timeline.
pub struct AccountBundle {
    pub view: AccountView,
    /// The account's record, contacts and contracts (None: not in the accounts table).
    pub detail: Option<AccountDetail>,
}

/// Timeline entries the account 360 page shows.
const TIMELINE_ENTRIES: usize = 40;

pub async fn account(
    state: &AppState,
    account_id: &str,
    as_of: NaiveDate,
) -> Result<Arc<AccountBundle>, AppError> {
    let config = Arc::clone(&state.inner.config);
    let account_id = account_id.to_string();
    let key = format!("account|{as_of}|{account_id}");
    let model = state.inner.views.read_model();
    let pool = Arc::clone(state.pool());
    state
        .inner
        .views
        .cached(key, async move {
            // The latest snapshot's views come from memory (microseconds, no store
            // handle); other dates read the store. The answers are the same.
            let bundle = move |source: &dyn AccountSource| -> Result<AccountBundle, AppError> {
                let view = coco_engine::account::account_view_from(
                    source,
                    &config,
                    &account_id,
                    as_of,
                    COMPARE_DAYS,
                )?;
                // The record as of the snapshot the view uses.
                let detail = source.account_detail(&account_id, view.as_of).ok();
                Ok(AccountBundle { view, detail })
            };
            match model.filter(|model| model.answers_views_as_of(as_of)) {
                Some(model) => bundle(&*model),
                None => pool.run(move |store| bundle(store)).await,
            }
        })
        .await
}

/// The account's touchpoints, tickets and surveys up to `as_of`, newest first.
pub async fn timeline(
    state: &AppState,
    account_id: &str,
    as_of: NaiveDate,
) -> Result<Vec<TimelineEntry>, AppError> {
    if let Some(model) = state.inner.views.read_model()
        && model.holds_timeline(as_of, TIMELINE_ENTRIES)
    {
        return Ok(model.account_timeline(account_id, as_of, TIMELINE_ENTRIES)?);
    }
    let account_id = account_id.to_string();
    state
        .pool()
        .run(move |store| Ok(store.account_timeline(&account_id, as_of, TIMELINE_ENTRIES)?))
        .await
}

/// Computes the views everyone opens first (the portfolio and the health list with
/// no filter, as of today), the latest snapshot's cohort index, the expansion
/// pipeline, the likeliest account views, then segmentation, workload and the journey,
/// so the first visitors of the morning do not wait for them. Run at start and after
/// every write.
pub async fn warm_up(state: AppState) {
    let started = std::time::Instant::now();
    let views = &state.inner.views;
    let generation = views.generation.load(Ordering::SeqCst);
    let request = match crate::params::ListParams::default().parse("score", 50) {
        Ok(request) => request,
        Err(_) => return,
    };
    let portfolio = match portfolio_view(&state, &request).await {
        Ok(portfolio) => portfolio,
        Err(error) => {
            // No snapshot yet, for instance: the pages say so when opened.
            tracing::info!(%error.message, "views not warmed up");
            return;
        }
    };
    let neediest = match health_page(&state, &request).await {
        Ok(listed) => listed
            .0
            .rows
            .iter()
            .map(|row| row.account_id.clone())
            .collect(),
        Err(error) => {
            tracing::info!(%error.message, "health list not warmed up");
            Vec::new()
        }
    };
    let config = Arc::clone(&state.inner.config);
    let built = state
        .pool()
        .run(move |store| {
            // The account page compares with a week, the drafts with a month.
            Ok(coco_engine::account::read_model_comparing(
                store,
                &config,
                today(),
                &[COMPARE_DAYS, coco_engine::drafts::account::COMPARE_DAYS],
                TIMELINE_ENTRIES,
            )?)
        })
        .await;
    match built {
        // A write since the start makes this model stale: the next warm-up builds one.
        Ok(Some(model)) if views.generation.load(Ordering::SeqCst) == generation => {
            tracing::info!(
                snapshot_id = model.latest().snapshot_id,
                accounts = model.accounts(),
                seconds = started.elapsed().as_secs_f64(),
                "portfolio, health list and account read model ready"
            );
            if let Ok(mut slot) = views.read_model.write() {
                *slot = Some((generation, Arc::new(model)));
            }
        }
        Ok(Some(_)) => return,
        Ok(None) => {}
        Err(error) => tracing::warn!(%error.message, "account read model not built"),
    }
    // The expansion pipeline: the Expansion page and every account 360 read it.
    match growth(&state, today()).await {
        Ok(growth) => tracing::info!(
            opportunities = growth.expansion.opportunities.len(),
            seconds = started.elapsed().as_secs_f64(),
            "expansion pipeline and adoption book ready"
        ),
        Err(error) => tracing::warn!(%error.message, "expansion and adoption not computed"),
    }
    if views.generation.load(Ordering::SeqCst) != generation {
        return;
    }
    // The accounts a CSM is likeliest to open next: the portfolio's movers, largest
    // renewals and lowest scores. One at a time, so visitors are never kept waiting.
    let mut likely: Vec<String> = portfolio
        .fallers
        .iter()
        .chain(&portfolio.risers)
        .chain(&portfolio.renewals.largest)
        .map(|row| row.account_id.clone())
        .chain(neediest)
        .collect();
    let mut seen = std::collections::HashSet::new();
    likely.retain(|id| seen.insert(id.clone()));
    let as_of = today();
    let mut ready = Vec::new();
    for account_id in likely {
        if views.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if account(&state, &account_id, as_of).await.is_ok() {
            ready.push(account_id);
        }
    }
    tracing::info!(
        accounts = ready.len(),
        seconds = started.elapsed().as_secs_f64(),
        "account views of the likeliest accounts ready"
    );
    if let Ok(mut warmed) = views.warmed.write() {
        *warmed = Some(ready);
    }
    // Last: segmentation, workload and the journey (their pages and every account 360's
    // journey sections), with the scorecards' order of the Journey page. After the
    // views above so none of them waits for it; a visitor who comes first shares this
    // computation.
    if views.generation.load(Ordering::SeqCst) != generation {
        return;
    }
    match journey_priorities(&state, as_of).await {
        Ok(priorities) => tracing::info!(
            intervene = priorities.intervene,
            seconds = started.elapsed().as_secs_f64(),
            "segments, workload and journey ready"
        ),
        Err(error) => tracing::warn!(%error.message, "segments, workload and journey not computed"),
    }
}

/// The account's stored churn prediction (promoted model, newest scored snapshot on or
/// before `as_of`); `None` when no model has scored it.
pub async fn churn(
    state: &AppState,
    account_id: &str,
    as_of: NaiveDate,
) -> Result<Arc<Option<coco_engine::churn::scoring::AccountPrediction>>, AppError> {
    let account_id = account_id.to_string();
    let key = format!("churn|{as_of}|{account_id}");
    let config = Arc::clone(&state.inner.config);
    state
        .inner
        .views
        .get_or_compute(state, key, move |store| {
            Ok(coco_engine::churn::scoring::stored_predictions(
                store,
                Some(&config),
                as_of,
                Some(&account_id),
            )?
            .and_then(|(_, mut predictions)| predictions.pop()))
        })
        .await
}

/// The renewal forecast as of `as_of`, with an optional scenario; `None` when there is
/// no promoted churn model yet.
pub async fn renewals(
    state: &AppState,
    as_of: NaiveDate,
    scenario: Option<coco_models::forecast::Scenario>,
) -> Result<Arc<Option<coco_engine::renewals::RenewalForecast>>, AppError> {
    let config = Arc::clone(&state.inner.config);
    let key = format!("renewals|{as_of}|{scenario:?}");
    state
        .inner
        .views
        .get_or_compute(state, key, move |store| {
            if store
                .promoted_model(coco_engine::churn::MODE_HISTORY)?
                .is_none()
            {
                return Ok(None);
            }
            Ok(Some(coco_engine::renewals::renewal_forecast(
                store, &config, as_of, scenario,
            )?))
        })
        .await
}

/// Every registered model, and the report of the one asked for (default: the promoted history model).
pub struct ModelsView {
    pub models: Vec<coco_store::models::ModelSummary>,
    pub shown: Option<(
        coco_store::models::ModelSummary,
        coco_models::report::Report,
    )>,
}

pub async fn models(
    state: &AppState,
    version: Option<String>,
) -> Result<Arc<ModelsView>, AppError> {
    let key = format!("models|{version:?}");
    state
        .inner
        .views
        .get_or_compute(state, key, move |store| {
            let record = match &version {
                Some(v) => Some(
                    store
                        .model(v)?
                        .ok_or_else(|| AppError::not_found(format!("no model {v}")))?,
                ),
                None => store.promoted_model(coco_engine::churn::MODE_HISTORY)?,
            };
            let promoted = match record {
                Some(record) => {
                    let report = coco_engine::churn::model_report(&record)?;
                    Some((record.summary, report))
                }
                None => None,
            };
            Ok(ModelsView {
                models: store.models()?,
                shown: promoted,
            })
        })
        .await
}

/// Expansion and adoption of the whole book as of `as_of`, from one load of the snapshot,
/// usage and history: the pipeline (every opportunity, highest priority first, with the
/// summary without a target — a target only changes the coverage: see
/// [`expansion_summary`]) and the adoption book. Shared by the Expansion and Adoption
/// pages, the account 360 and the API.
pub async fn growth(
    state: &AppState,
    as_of: NaiveDate,
) -> Result<Arc<coco_engine::growth::Overview>, AppError> {
    let config = Arc::clone(&state.inner.config);
    let key = format!("growth|{as_of}");
    state
        .inner
        .views
        .get_or_compute(state, key, move |store| {
            Ok(coco_engine::growth::overview(store, &config, as_of)?)
        })
        .await
}

/// The book-wide inputs of account drafts as of `as_of` (`BookInputs`: seconds to load
/// on a large book), loaded once per date and data generation so each draft after the
/// first takes milliseconds.
pub async fn draft_book(
    state: &AppState,
    as_of: NaiveDate,
) -> Result<Arc<coco_engine::drafts::account::BookInputs>, AppError> {
    let config = Arc::clone(&state.inner.config);
    let key = format!("draft-book|{as_of}");
    state
        .inner
        .views
        .get_or_compute(state, key, move |store| {
            Ok(coco_engine::drafts::account::BookInputs::load(
                store, &config, as_of,
            )?)
        })
        .await
}

/// The pipeline summary of the opportunities a filter selects, against a target
/// (coverage), from the memoised pipeline.
pub fn expansion_summary(
    run: &coco_engine::expansion::ExpansionRun,
    filter: &crate::params::ExpansionFilter,
    target: Option<f64>,
) -> coco_insights::expansion::PipelineSummary {
    if *filter == crate::params::ExpansionFilter::default() && target.is_none() {
        return run.summary.clone();
    }
    let selected: Vec<coco_insights::expansion::Opportunity> = run
        .opportunities
        .iter()
        .filter(|o| filter.matches(o))
        .cloned()
        .collect();
    coco_insights::expansion::pipeline_summary(&selected, target)
}

/// One account's opportunities as of `as_of`, highest priority first: the memoised
/// pipeline's (the same as `coco_engine::expansion::account_opportunities`, which
/// analyses the whole book again for one account; tested in `tests/http.rs`).
pub async fn account_expansion(
    state: &AppState,
    account_id: &str,
    as_of: NaiveDate,
) -> Result<Vec<coco_insights::expansion::Opportunity>, AppError> {
    let growth = growth(state, as_of).await?;
    Ok(growth
        .expansion
        .opportunities
        .iter()
        .filter(|o| o.account_id == account_id)
        .cloned()
        .collect())
}

/// One account's adoption: profile, gaps, root cause, 90-day plan, time to value.
pub async fn account_adoption(
    state: &AppState,
    account_id: &str,
    as_of: NaiveDate,
) -> Result<coco_engine::adoption::AccountAdoptionView, AppError> {
    let growth = growth(state, as_of).await?;
    Ok(growth.book.view(&state.inner.config, account_id)?)
}

/// The adoption heatmap (features × groups) and its SVG chart.
pub struct HeatmapView {
    pub heatmap: coco_insights::adoption::Heatmap,
    pub svg: String,
}

pub async fn heatmap(
    state: &AppState,
    as_of: NaiveDate,
    by: &str,
) -> Result<Arc<HeatmapView>, AppError> {
    let growth = growth(state, as_of).await?;
    let by = by.to_string();
    let key = format!("heatmap|{as_of}|{by}");
    state
        .inner
        .views
        .get_or_compute(state, key, move |_store| {
            let heatmap = growth.book.heatmap(&by)?;
            let svg = coco_engine::adoption::heatmap_svg(&heatmap);
            Ok(HeatmapView { heatmap, svg })
        })
        .await
}

/// The monthly adoption report (now against the baseline snapshot).
pub async fn adoption_report(
    state: &AppState,
    as_of: NaiveDate,
    attention: usize,
) -> Result<Arc<coco_insights::adoption::progress::AdoptionReport>, AppError> {
    let growth = growth(state, as_of).await?;
    let config = Arc::clone(&state.inner.config);
    let key = format!("adoption-report|{as_of}|{attention}");
    state
        .inner
        .views
        .get_or_compute(state, key, move |store| {
            Ok(coco_engine::adoption::report(
                store,
                &config,
                &growth.book,
                attention,
            )?)
        })
        .await
}

/// Low-adoption accounts sharing a root cause, with the largest accounts by name.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CauseGroup {
    pub cause: String,
    pub label: String,
    pub response: String,
    pub accounts: usize,
    pub arr: f64,
    /// The largest accounts by ARR (at most five): id and name.
    pub examples: Vec<(String, String)>,
}

/// Low-adoption accounts grouped by root cause, most accounts first (what
/// `coco adoption causes` lists).
pub async fn adoption_causes(
    state: &AppState,
    as_of: NaiveDate,
) -> Result<Vec<CauseGroup>, AppError> {
    let growth = growth(state, as_of).await?;
    let base = &growth.book.data.base;
    let name = |id: &str| {
        base.frame
            .account_index(id)
            .and_then(|i| base.names.get(i))
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    Ok(growth
        .book
        .cause_groups()
        .into_iter()
        .map(|g| CauseGroup {
            examples: g
                .account_ids
                .iter()
                .take(5)
                .map(|id| (id.clone(), name(id)))
                .collect(),
            cause: g.cause,
            label: g.label,
            response: g.response,
            accounts: g.accounts,
            arr: g.arr,
        })
        .collect())
}

// ---------------------------------------------------------------------------------
// Segmentation, workload and the journey

/// Every segmentation, workload and journey analysis of the book as of `as_of` — one
/// `coco_engine::lifecycle::overview` per date, over one load: the Segments, Workload,
/// Journey and Onboarding pages, the account 360's stage, scorecard, tier and
/// interaction timeline, and the API.
///
/// Expansion potential (one factor of the tiering) comes from the expansion pipeline
/// when the request is for today: the pipeline the warm-up computes anyway for the
/// Expansion page and every account 360, so waiting for it costs nothing extra. For an
/// earlier date it comes from its proxy (seat utilisation, usage growth, new
/// departments) rather than running the whole expansion analysis for one factor; the
/// run says which (`expansion_potential_from`) and the Segments page shows it.
pub async fn lifecycle(
    state: &AppState,
    as_of: NaiveDate,
) -> Result<Arc<coco_engine::lifecycle::LifecycleOverview>, AppError> {
    let config = Arc::clone(&state.inner.config);
    let pool = Arc::clone(state.pool());
    let shared = state.clone();
    let key = format!("lifecycle|{as_of}");
    state
        .inner
        .views
        .cached(key, async move {
            let growth = if as_of == today() {
                Some(growth(&shared, as_of).await?)
            } else {
                None
            };
            pool.run(move |store| {
                let started = std::time::Instant::now();
                let opportunities = growth
                    .as_ref()
                    .map(|g| g.expansion.opportunities.as_slice());
                let overview =
                    coco_engine::lifecycle::overview(store, &config, as_of, opportunities)?;
                tracing::info!(
                    %as_of,
                    accounts = overview.base.frame.account_count(),
                    seconds = started.elapsed().as_secs_f64(),
                    "segments, workload and journey computed"
                );
                Ok(overview)
            })
            .await
        })
        .await
}

/// Every account's place in the journey scorecards' order (those to intervene on
/// first, then by deviations, then by id — the order of
/// `LifecycleOverview::scorecards`), without keeping the scorecards themselves: a
/// window of them is built again on demand (each takes microseconds), so 100,000
/// accounts do not hold 100,000 scorecards in memory.
pub struct JourneyPriorities {
    /// Frame indexes of the accounts, in order, with their severity.
    pub order: Vec<(usize, coco_insights::journey::scorecard::Severity)>,
    pub intervene: usize,
    pub watch: usize,
    pub on_track: usize,
}

pub async fn journey_priorities(
    state: &AppState,
    as_of: NaiveDate,
) -> Result<Arc<JourneyPriorities>, AppError> {
    use coco_insights::journey::scorecard::Severity;
    let overview = lifecycle(state, as_of).await?;
    let config = Arc::clone(&state.inner.config);
    let key = format!("journey-priorities|{as_of}");
    state
        .inner
        .views
        .get_or_compute(state, key, move |_store| {
            let cards = coco_insights::parallel::map_ordered(
                overview.base.frame.account_count(),
                2_000,
                |a| {
                    let card = coco_engine::lifecycle::scorecard(
                        &overview.base,
                        &config,
                        &overview.stages,
                        &overview.comparison,
                        &overview.milestones.churn_links,
                        a,
                    );
                    (card.severity, card.deviations)
                },
            );
            let rank = |s: Severity| match s {
                Severity::Intervene => 0,
                Severity::Watch => 1,
                Severity::OnTrack => 2,
            };
            let ids = &overview.base.frame.accounts;
            let mut order: Vec<usize> = (0..cards.len()).collect();
            order.sort_by(|&a, &b| {
                rank(cards[a].0)
                    .cmp(&rank(cards[b].0))
                    .then(cards[b].1.cmp(&cards[a].1))
                    .then_with(|| ids[a].account_id.cmp(&ids[b].account_id))
            });
            let count = |s: Severity| cards.iter().filter(|c| c.0 == s).count();
            Ok(JourneyPriorities {
                intervene: count(Severity::Intervene),
                watch: count(Severity::Watch),
                on_track: count(Severity::OnTrack),
                order: order.into_iter().map(|a| (a, cards[a].0)).collect(),
            })
        })
        .await
}

/// The scorecards of the accounts at `indexes` (frame order), built from the overview.
pub fn scorecards_of(
    overview: &coco_engine::lifecycle::LifecycleOverview,
    config: &coco_engine::Config,
    indexes: impl Iterator<Item = usize>,
) -> Vec<coco_insights::journey::scorecard::Scorecard> {
    indexes
        .map(|a| {
            coco_engine::lifecycle::scorecard(
                &overview.base,
                config,
                &overview.stages,
                &overview.comparison,
                &overview.milestones.churn_links,
                a,
            )
        })
        .collect()
}

/// One account's journey: its stage, its scorecard against the retained cohort, and its
/// tier with the factors behind it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountJourney {
    pub stage: coco_insights::journey::stages::StageView,
    pub scorecard: coco_insights::journey::scorecard::Scorecard,
    pub tier: coco_insights::segments::Assignment,
}

pub async fn account_journey(
    state: &AppState,
    account_id: &str,
    as_of: NaiveDate,
) -> Result<Arc<AccountJourney>, AppError> {
    let overview = lifecycle(state, as_of).await?;
    let config = Arc::clone(&state.inner.config);
    let account_id = account_id.to_string();
    let key = format!("account-journey|{as_of}|{account_id}");
    state
        .inner
        .views
        .get_or_compute(state, key, move |_store| {
            let index = overview.base.account(&account_id)?;
            Ok(AccountJourney {
                stage: overview.stages.views[index].clone(),
                scorecard: overview.scorecard(&config, &account_id)?,
                tier: overview.segments.assignments[index].clone(),
            })
        })
        .await
}

/// One account's interactions over the last `days` (every source: touchpoints,
/// tickets, surveys, milestones, billing, …), its silent periods and stakeholder
/// coverage.
pub async fn interactions(
    state: &AppState,
    account_id: &str,
    as_of: NaiveDate,
    days: u32,
) -> Result<Arc<coco_insights::journey::touchpoints::AccountTimeline>, AppError> {
    let overview = lifecycle(state, as_of).await?;
    let config = Arc::clone(&state.inner.config);
    let account_id = account_id.to_string();
    let key = format!("interactions|{as_of}|{account_id}|{days}");
    state
        .inner
        .views
        .get_or_compute(state, key, move |store| {
            Ok(coco_engine::lifecycle::timeline(
                store,
                &overview.base,
                &config,
                &account_id,
                days,
            )?)
        })
        .await
}

// ---------------------------------------------------------------------------------
// Alerts, tasks and the daily lists

/// One CSM's list for the day (`who`: an id or a name) as of the snapshot answering
/// `as_of`: `coco_engine::actions::today` over the memoised lifecycle overview's base
/// (the same base the Journey and Workload pages read) instead of loading it again.
pub async fn daily_list(
    state: &AppState,
    as_of: NaiveDate,
    who: &str,
) -> Result<Arc<coco_actions::today::DailyList>, AppError> {
    let overview = lifecycle(state, as_of).await?;
    let actions = Arc::clone(&state.inner.actions);
    let who = who.to_string();
    let key = format!(
        "today|{}|{as_of}|{who}",
        state.inner.views.actions_generation.load(Ordering::SeqCst)
    );
    state
        .inner
        .views
        .get_or_compute(state, key, move |store| {
            use coco_engine::actions::{alerts::hierarchy, today as lists};
            let team = hierarchy(store)?;
            let person = lists::find_csm(&team, &who)?;
            lists::daily_lists_from(store, &actions, &overview.base, as_of, Some(&person.csm_id))?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    AppError::invalid(
                        "csm",
                        format!(
                            "{} ({}) is not an active CSM: no daily list",
                            person.name, person.csm_id
                        ),
                    )
                })
        })
        .await
}

/// Every account's name by id (the accounts table): the alert and task lists name
/// their accounts with it. Changes only with an upload.
pub async fn account_names(
    state: &AppState,
) -> Result<Arc<std::collections::HashMap<String, String>>, AppError> {
    state
        .inner
        .views
        .get_or_compute(state, "account-names".into(), |store| {
            Ok(store.account_names()?)
        })
        .await
}
