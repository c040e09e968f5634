//! Drafts on the web (issue 9): an account's documents (outreach, sequences, QBR and
//! EBR decks, success plans, tier-migration emails, its playbooks and a playbook task's
//! email), the portfolio reports and the CSM handbook — as JSON, Markdown, HTML or PPTX
//! under `/api/v1`, and review pages (`/accounts/{id}/drafts/{document}`, `/reports`,
//! `/reports/{kind}`, `/handbook`) showing the cited draft with Copy and Download.
//!
//! The drafts are the engine's (`coco_engine::drafts`): this module parses the request,
//! calls it on a store handle and formats what it wrote — the same calls as `coco draft`
//! and `coco report`. A draft the engine refuses (a number its facts do not hold, an
//! email over the length limit, an account that is not a tier-migration candidate) is
//! answered 422 with the engine's message, on the API and on the page alike.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::NaiveDate;
use coco_core::Permission;
use coco_drafts::document::Locale;
use coco_drafts::draft::{Draft, Footnote};
use coco_drafts::grounding::Grounding;
use coco_engine::EngineError;
use coco_engine::drafts::playbooks::{
    PlaybookRequest, TaskRequest, handbook, playbook_document, task_email, task_template_ids,
};
use coco_engine::drafts::reports::{Report, ReportRequest, report};
use coco_engine::drafts::{
    AccountDocument, AccountDraftRequest, LlmOutcome, Motive, account::Preloaded,
    account_draft_with, enhance,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::pages::{PageResult, render_page};
use crate::params::{non_empty, parse_date};
use crate::state::AppState;
use crate::views::today;

/// The `/api/v1` routes of drafts, reports and the handbook.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/accounts/{account_id}/drafts/{document}",
            get(account_draft_api),
        )
        .route("/reports/{kind}", get(report_api))
        .route("/handbook", get(handbook_api))
}

/// The account documents a page offers, in the order it lists them.
pub const ACCOUNT_DOCUMENTS: [(&str, &str); 8] = [
    ("outreach", "Outreach email"),
    ("sequence", "Email sequence"),
    ("qbr", "QBR deck"),
    ("ebr", "EBR deck"),
    ("plan", "Success plan"),
    ("migration", "Tier-migration email"),
    ("playbook", "Playbooks"),
    ("task", "Playbook task email"),
];

/// The reports the engine writes, by name.
pub fn report_kinds() -> Vec<(&'static str, Report)> {
    Report::ALL.iter().map(|r| (r.as_str(), *r)).collect()
}

// ---------------------------------------------------------------------------------
// Parameters

/// The query of every draft endpoint and review page (each uses the fields it needs).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DraftParams {
    pub locale: Option<String>,
    pub motive: Option<String>,
    pub as_of: Option<String>,
    pub format: Option<String>,
    pub llm: Option<String>,
    pub playbook: Option<String>,
    pub template: Option<String>,
    pub account: Option<String>,
    pub metric: Option<String>,
}

/// How a draft is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftFormat {
    Json,
    Md,
    Html,
    Pptx,
}

impl DraftFormat {
    fn parse(value: &Option<String>) -> Result<DraftFormat, AppError> {
        match non_empty(value).as_deref() {
            None | Some("json") => Ok(DraftFormat::Json),
            Some("md") | Some("markdown") => Ok(DraftFormat::Md),
            Some("html") => Ok(DraftFormat::Html),
            Some("pptx") => Ok(DraftFormat::Pptx),
            Some(other) => Err(AppError::invalid(
                "format",
                format!("unknown format `{other}` (expected json, md, html or pptx)"),
            )),
        }
    }
}

fn parse_locale(value: &Option<String>) -> Result<Locale, AppError> {
    match non_empty(value) {
        None => Ok(Locale::En),
        Some(text) => text
            .parse::<Locale>()
            .map_err(|error| AppError::invalid("locale", error.to_string())),
    }
}

fn parse_flag(field: &str, value: &Option<String>) -> Result<bool, AppError> {
    match non_empty(value).as_deref() {
        None | Some("false") | Some("0") | Some("no") | Some("off") => Ok(false),
        Some("true") | Some("1") | Some("yes") | Some("on") => Ok(true),
        Some(other) => Err(AppError::invalid(
            field,
            format!("`{field}` is true or false, not `{other}`"),
        )),
    }
}

fn parse_motive(value: &Option<String>) -> Result<Option<Motive>, AppError> {
    non_empty(value)
        .map(|text| {
            text.parse::<Motive>()
                .map_err(|error| AppError::invalid("motive", error.to_string()))
        })
        .transpose()
}

/// What to write.
#[derive(Debug, Clone)]
pub enum Subject {
    Account {
        account_id: String,
        document: AccountDocument,
        motive: Option<Motive>,
    },
    Playbook {
        account_id: String,
        playbook: Option<String>,
    },
    Task {
        account_id: String,
        template: String,
    },
    Report {
        kind: Report,
        account: Option<String>,
        metric: Option<String>,
    },
    Handbook,
}

/// A parsed draft request: what, as of when, in which language, and how to send it.
#[derive(Debug, Clone)]
pub struct DraftRequest {
    pub subject: Subject,
    /// The document's name as asked (`qbr`, `migration`, `portfolio`, `handbook`): the
    /// LLM's `document` and the download's file name.
    pub name: String,
    pub as_of: NaiveDate,
    pub locale: Locale,
    pub format: DraftFormat,
    pub llm: bool,
}

impl DraftRequest {
    fn common(
        subject: Subject,
        name: &str,
        params: &DraftParams,
    ) -> Result<DraftRequest, AppError> {
        Ok(DraftRequest {
            subject,
            name: name.to_string(),
            as_of: parse_date("as_of", &params.as_of)?.unwrap_or_else(today),
            locale: parse_locale(&params.locale)?,
            format: DraftFormat::parse(&params.format)?,
            llm: parse_flag("llm", &params.llm)?,
        })
    }

    /// `GET …/accounts/{id}/drafts/{document}`: 400 naming the parameter at fault for an
    /// unknown document, locale, format, motive, playbook or task template.
    pub fn account(
        state: &AppState,
        account_id: &str,
        document: &str,
        params: &DraftParams,
    ) -> Result<DraftRequest, AppError> {
        let account_id = account_id.to_string();
        let subject = match document {
            "playbook" => {
                let playbook = non_empty(&params.playbook);
                if let Some(id) = &playbook
                    && state.inner.actions.playbooks.playbook(id).is_none()
                {
                    return Err(AppError::invalid(
                        "playbook",
                        format!(
                            "unknown playbook `{id}` (expected one of {})",
                            playbook_ids(state).join(", ")
                        ),
                    ));
                }
                Subject::Playbook {
                    account_id,
                    playbook,
                }
            }
            "task" => {
                let known = task_template_ids(&state.inner.drafting);
                let template = non_empty(&params.template).ok_or_else(|| {
                    AppError::invalid(
                        "template",
                        format!(
                            "a task email needs `template` (one of {})",
                            known.join(", ")
                        ),
                    )
                })?;
                if !known.contains(&template) {
                    return Err(AppError::invalid(
                        "template",
                        format!(
                            "unknown task template `{template}` (expected one of {})",
                            known.join(", ")
                        ),
                    ));
                }
                Subject::Task {
                    account_id,
                    template,
                }
            }
            other => {
                let (document, mut motive) = match other {
                    "migration" => (AccountDocument::Outreach, Some(Motive::TierMigration)),
                    other => (
                        other.parse::<AccountDocument>().map_err(|_| {
                            AppError::invalid(
                                "document",
                                format!(
                                    "unknown document `{other}` (expected {})",
                                    ACCOUNT_DOCUMENTS.map(|(d, _)| d).join(", ")
                                ),
                            )
                        })?,
                        None,
                    ),
                };
                if let Some(chosen) = parse_motive(&params.motive)? {
                    motive = Some(chosen);
                }
                Subject::Account {
                    account_id,
                    document,
                    motive,
                }
            }
        };
        DraftRequest::common(subject, document, params)
    }

    /// `GET …/reports/{kind}`.
    pub fn report(kind: &str, params: &DraftParams) -> Result<DraftRequest, AppError> {
        let parsed = kind.parse::<Report>().map_err(|error| {
            AppError::invalid(
                "kind",
                format!(
                    "{error}; the reports are {}",
                    report_kinds()
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let account = non_empty(&params.account);
        if parsed.needs_account() && account.is_none() {
            return Err(AppError::invalid(
                "account",
                format!(
                    "the {} report is about one account: give its id as `account`",
                    parsed.as_str()
                ),
            ));
        }
        let subject = Subject::Report {
            kind: parsed,
            account,
            metric: non_empty(&params.metric),
        };
        DraftRequest::common(subject, kind, params)
    }

    /// `GET …/handbook`.
    pub fn handbook(params: &DraftParams) -> Result<DraftRequest, AppError> {
        DraftRequest::common(Subject::Handbook, "handbook", params)
    }
}

fn playbook_ids(state: &AppState) -> Vec<String> {
    state
        .inner
        .actions
        .playbooks
        .playbooks
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

// ---------------------------------------------------------------------------------
// Writing

/// A draft the engine refused (grounding, length, not a migration candidate, a report
/// without what it needs): 422 with its message; anything else as every handler maps it.
fn refused(error: EngineError) -> AppError {
    match error {
        EngineError::Invalid(message) => {
            AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "draft_refused", message)
        }
        other => other.into(),
    }
}

/// The report request: the kind, date and locale (and, for the reports that are about
/// one account or metric, those).
fn report_request(
    kind: Report,
    as_of: NaiveDate,
    locale: Locale,
    account: &Option<String>,
    metric: &Option<String>,
) -> ReportRequest {
    ReportRequest {
        report: kind,
        as_of,
        locale,
        account: account.clone(),
        metric: metric.clone(),
    }
}

/// Writes the draft on a store handle and, when asked, rewrites it with the LLM (as
/// `actor`, for the audit log).
pub async fn write(
    state: &AppState,
    principal: &Principal,
    request: &DraftRequest,
) -> Result<(Draft, Option<LlmOutcome>), AppError> {
    if request.llm {
        principal.require(Permission::WorkAlerts)?;
    }
    let config = Arc::clone(&state.inner.config);
    let actions = Arc::clone(&state.inner.actions);
    let drafting = Arc::clone(&state.inner.drafting);
    // Account documents read the book's inputs of their date, memoised; when they cannot
    // be loaded the draft loads them itself and reports the problem as it would.
    let book = match &request.subject {
        Subject::Account { .. } => crate::views::draft_book(state, request.as_of).await.ok(),
        _ => None,
    };
    let views = state.inner.views.read_model();
    let request = request.clone();
    let actor = principal.user.username.clone();
    state
        .pool()
        .run(move |store| {
            let (as_of, locale) = (request.as_of, request.locale);
            let draft = match &request.subject {
                Subject::Account {
                    account_id,
                    document,
                    motive,
                } => account_draft_with(
                    store,
                    &config,
                    &drafting,
                    &AccountDraftRequest {
                        document: *document,
                        account_id: account_id.clone(),
                        as_of,
                        locale,
                        motive: *motive,
                    },
                    Preloaded {
                        book: book.as_deref(),
                        views: views.as_deref(),
                    },
                ),
                Subject::Playbook {
                    account_id,
                    playbook,
                } => playbook_document(
                    store,
                    &config,
                    &actions,
                    &drafting,
                    &PlaybookRequest {
                        account_id: account_id.clone(),
                        as_of,
                        locale,
                        playbook: playbook.clone(),
                    },
                ),
                Subject::Task {
                    account_id,
                    template,
                } => task_email(
                    store,
                    &config,
                    &drafting,
                    &TaskRequest {
                        account_id: account_id.clone(),
                        as_of,
                        locale,
                        template: template.clone(),
                    },
                ),
                Subject::Report {
                    kind,
                    account,
                    metric,
                } => report(
                    store,
                    &config,
                    &drafting,
                    &report_request(*kind, as_of, locale, account, metric),
                ),
                Subject::Handbook => handbook(&config, &actions, &drafting, locale),
            }
            .map_err(refused)?;
            if !request.llm {
                return Ok((draft, None));
            }
            let (draft, outcome) =
                enhance(store, &drafting, draft, &request.name, &actor).map_err(refused)?;
            Ok((draft, Some(outcome)))
        })
        .await
}

// ---------------------------------------------------------------------------------
// API

/// A draft with its citations: the Markdown to send, the HTML to read (every number a
/// hover and a footnote naming its source), the footnotes and the grounding check.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DraftBody {
    /// The document asked for (`qbr`, `migration`, `portfolio`, `handbook`, …).
    pub document: String,
    /// The first heading: an email's subject, a deck's title.
    pub title: String,
    /// The template it was written from (`outreach_risk`, `qbr`, …), under `locale/`.
    pub template: String,
    /// en or zh.
    pub locale: String,
    pub markdown: String,
    /// A standalone, printable page.
    pub html: String,
    /// The body alone, to place in a page.
    pub html_fragment: String,
    /// Every fact the draft states, numbered by first mention: key, value as written,
    /// citation (source, date, record).
    #[schema(value_type = Vec<Object>)]
    pub footnotes: Vec<Footnote>,
    /// Every number and date the draft states and the fact it is (all are: a draft
    /// with an ungrounded claim is refused with 422).
    #[schema(value_type = Object)]
    pub grounding: Grounding,
    /// Claims checked (numbers and dates stated).
    pub claims: usize,
    /// True when every claim is a fact.
    pub grounded: bool,
    /// With `llm=true`: whether the LLM's rewrite was used, or why the template draft
    /// is shown (`{rewritten, fallback_reason}`).
    #[schema(value_type = Option<Object>)]
    pub llm: Option<LlmOutcome>,
}

impl DraftBody {
    pub fn of(draft: &Draft, document: &str, llm: Option<LlmOutcome>) -> DraftBody {
        DraftBody {
            document: document.to_string(),
            title: draft.title.clone(),
            template: draft.template.clone(),
            locale: draft.locale.to_string(),
            markdown: draft.markdown.clone(),
            html: draft.html(),
            html_fragment: draft.html_fragment(),
            footnotes: draft.footnotes(),
            grounding: draft.grounding.clone(),
            claims: draft.grounding.claims.len(),
            grounded: draft.grounding.passed(),
            llm,
        }
    }
}

/// A file name of letters, digits, `-` and `_`.
fn file_stem(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn respond(
    draft: &Draft,
    request: &DraftRequest,
    outcome: Option<LlmOutcome>,
    stem: &str,
) -> Result<Response, AppError> {
    let typed = |content_type: &'static str, body: Vec<u8>| {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response()
    };
    Ok(match request.format {
        DraftFormat::Json => Json(DraftBody::of(draft, &request.name, outcome)).into_response(),
        DraftFormat::Md => typed(
            "text/markdown; charset=utf-8",
            draft.markdown.clone().into_bytes(),
        ),
        DraftFormat::Html => typed("text/html; charset=utf-8", draft.html().into_bytes()),
        DraftFormat::Pptx => {
            let bytes = draft.pptx().map_err(|error| {
                AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "draft_refused",
                    error.to_string(),
                )
            })?;
            let disposition = format!("attachment; filename=\"{stem}.pptx\"");
            let mut response = typed(
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                bytes,
            );
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
    })
}

/// One account document: an outreach email, a three-email sequence, a QBR or EBR deck,
/// a 90-day success plan, a tier-migration email, the account's playbooks as they apply
/// now, or one playbook task's email — written from the account's facts as of `as_of`
/// and checked (every number cited; emails within the length limit).
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/drafts/{document}",
    params(
        ("account_id" = String, Path),
        ("document" = String, Path, description = "outreach, sequence, qbr, ebr, plan, migration (outreach with motive tier_migration), playbook or task"),
        ("locale" = Option<String>, Query, description = "en (default) or zh"),
        ("motive" = Option<String>, Query, description = "outreach, sequence and migration: adoption_gap, risk, expansion, tier_migration or reengagement (default: from the account's alerts, gaps, expansion and silence)"),
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("format" = Option<String>, Query, description = "json (default), md, html or pptx"),
        ("llm" = Option<bool>, Query, description = "rewrite for tone with drafts.toml [llm]; the rewrite must pass the same grounding check, else the template draft comes back with the reason (`llm` in json). CSMs, leaders and admins"),
        ("playbook" = Option<String>, Query, description = "playbook: this playbook (an id of playbooks.toml) rather than those its open alerts run"),
        ("template" = Option<String>, Query, description = "task: the task template id (required), e.g. health_check_in"),
    ),
    responses(
        (status = 200, description = "json: the draft with its citations; md: text/markdown; html: a standalone page; pptx: the deck (attachment)", body = DraftBody,
            content(
                (DraftBody = "application/json"),
                (String = "text/markdown"),
                (String = "text/html"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            )),
        (status = 400, description = "unknown document, locale, format, motive, playbook or template", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "llm=true for a viewer", body = ErrorBody),
        (status = 404, description = "unknown account, or no snapshot on or before as_of", body = ErrorBody),
        (status = 422, description = "the engine refused the draft: a claim not in the facts, an email over the length limit, an account that is not a tier-migration candidate", body = ErrorBody),
    ))]
pub async fn account_draft_api(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((account_id, document)): Path<(String, String)>,
    Query(params): Query<DraftParams>,
) -> Result<Response, AppError> {
    let request = DraftRequest::account(&state, &account_id, &document, &params)?;
    let (draft, outcome) = write(&state, &principal, &request).await?;
    respond(
        &draft,
        &request,
        outcome,
        &file_stem(&[&account_id, &document, request.locale.as_str()]),
    )
}

/// A portfolio report (`portfolio`: the weekly health summary with RAG status, movers,
/// accounts needing attention, segment trends and next week's priorities; and the
/// other kinds the engine writes), from the book's facts as of `as_of`.
#[utoipa::path(get, path = "/api/v1/reports/{kind}",
    params(
        ("kind" = String, Path, description = "a report the engine writes, e.g. portfolio (GET /reports lists them on the web)"),
        ("locale" = Option<String>, Query, description = "en (default) or zh"),
        ("as_of" = Option<String>, Query, description = "YYYY-MM-DD; default today"),
        ("account" = Option<String>, Query, description = "reports about one account (anomaly, benchmark): its id"),
        ("metric" = Option<String>, Query, description = "reports about one metric (anomaly, benchmark): its name"),
        ("format" = Option<String>, Query, description = "json (default), md, html or pptx"),
        ("llm" = Option<bool>, Query, description = "rewrite for tone (see the account drafts)"),
    ),
    responses(
        (status = 200, description = "as for the account drafts", body = DraftBody,
            content(
                (DraftBody = "application/json"),
                (String = "text/markdown"),
                (String = "text/html"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            )),
        (status = 400, description = "unknown report, locale or format", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "no snapshot on or before as_of, or an unknown account", body = ErrorBody),
        (status = 422, description = "the engine refused the report", body = ErrorBody),
    ))]
pub async fn report_api(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(kind): Path<String>,
    Query(params): Query<DraftParams>,
) -> Result<Response, AppError> {
    let request = DraftRequest::report(&kind, &params)?;
    let (draft, outcome) = write(&state, &principal, &request).await?;
    let stem = file_stem(&[
        "report",
        &kind,
        &request.as_of.to_string(),
        request.locale.as_str(),
    ]);
    respond(&draft, &request, outcome, &stem)
}

/// The CSM handbook: how this team works — playbooks, alert rules, journey stages,
/// coverage tiers, routing and escalation — from the configuration alone.
#[utoipa::path(get, path = "/api/v1/handbook",
    params(
        ("locale" = Option<String>, Query, description = "en (default) or zh"),
        ("format" = Option<String>, Query, description = "json (default), md, html or pptx"),
        ("llm" = Option<bool>, Query, description = "rewrite for tone (see the account drafts)"),
    ),
    responses(
        (status = 200, description = "as for the account drafts", body = DraftBody,
            content(
                (DraftBody = "application/json"),
                (String = "text/markdown"),
                (String = "text/html"),
            )),
        (status = 400, description = "unknown locale or format", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "the engine refused the handbook", body = ErrorBody),
    ))]
pub async fn handbook_api(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<DraftParams>,
) -> Result<Response, AppError> {
    let request = DraftRequest::handbook(&params)?;
    let (draft, outcome) = write(&state, &principal, &request).await?;
    respond(
        &draft,
        &request,
        outcome,
        &file_stem(&["handbook", request.locale.as_str()]),
    )
}

// ---------------------------------------------------------------------------------
// Pages

/// The review page of the outreach email about an alert: the motive its risk profile
/// suggests (`Motive::for_alert_profile`, the engine's one rule for it).
pub fn alert_draft_href(account_id: &str, profile: &str) -> String {
    format!(
        "/accounts/{}/drafts/outreach?motive={}",
        encode(account_id),
        Motive::for_alert_profile(profile).as_str()
    )
}

/// Builds a query string from the pairs with a value (values URL-encoded).
fn query(pairs: &[(&str, Option<&str>)]) -> String {
    pairs
        .iter()
        .filter_map(|(key, value)| {
            let value = value.filter(|v| !v.is_empty())?;
            Some(format!("{key}={}", encode(value)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What the review page shows of a draft, or the reason there is none.
fn review(
    state: &AppState,
    principal: &Principal,
    mut context: serde_json::Value,
    outcome: Result<(Draft, Option<LlmOutcome>), AppError>,
    nav: &str,
) -> PageResult {
    let status = match &outcome {
        Ok(_) => StatusCode::OK,
        Err(error) if error.status.is_server_error() => return Err(error.clone().into()),
        Err(error) => error.status,
    };
    if let Some(fields) = context.as_object_mut() {
        match outcome {
            Ok((draft, llm)) => {
                fields.insert(
                    "draft".into(),
                    json!({
                        "title": draft.title,
                        "template": draft.template,
                        "locale": draft.locale.as_str(),
                        "markdown": draft.markdown,
                        "html": draft.html_fragment(),
                        "claims": draft.grounding.claims.len(),
                        "facts": draft.footnotes().len(),
                        "grounded": draft.grounding.passed(),
                    }),
                );
                fields.insert("llm".into(), json!(llm));
            }
            Err(error) => {
                fields.insert(
                    "error".into(),
                    json!({"status": error.status.as_u16(), "code": error.code, "message": error.message, "field": error.field}),
                );
            }
        }
        fields.insert(
            "can_llm".into(),
            principal.can(Permission::WorkAlerts).into(),
        );
    }
    let mut response = render_page(state, principal, "draft.html", nav, context)?;
    *response.status_mut() = status;
    Ok(response)
}

/// Locale links, download links and the form's values for a review page whose API
/// twin is `api` and which is itself at `page`.
fn links(page: &str, api: &str, params: &DraftParams, pptx: bool) -> serde_json::Value {
    let keep = |locale: Option<&str>, format: Option<&str>| {
        query(&[
            ("locale", locale),
            ("motive", params.motive.as_deref()),
            ("as_of", params.as_of.as_deref()),
            ("playbook", params.playbook.as_deref()),
            ("template", params.template.as_deref()),
            ("account", params.account.as_deref()),
            ("metric", params.metric.as_deref()),
            ("format", format),
        ])
    };
    let locale = non_empty(&params.locale);
    let with = |base: &str, q: String| {
        if q.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{q}")
        }
    };
    let mut downloads = vec![
        json!({"format": "md", "label": "Markdown", "href": with(api, keep(locale.as_deref(), Some("md")))}),
        json!({"format": "html", "label": "HTML", "href": with(api, keep(locale.as_deref(), Some("html")))}),
    ];
    if pptx {
        downloads.push(json!({"format": "pptx", "label": "PowerPoint", "href": with(api, keep(locale.as_deref(), Some("pptx")))}));
    }
    json!({
        "locales": [
            {"code": "en", "label": "English", "href": with(page, keep(Some("en"), None))},
            {"code": "zh", "label": "中文", "href": with(page, keep(Some("zh"), None))},
        ],
        "downloads": downloads,
        "action": page,
    })
}

/// A document's review page; a task email's with the first task template.
fn document_href(state: &AppState, encoded_account: &str, document: &str) -> String {
    let page = format!("/accounts/{encoded_account}/drafts/{document}");
    if document != "task" {
        return page;
    }
    match task_template_ids(&state.inner.drafting).first() {
        Some(template) => format!("{page}?template={}", encode(template)),
        None => page,
    }
}

/// `/accounts/{id}/drafts/{document}`: the draft for review — cited, with Copy and
/// Download — or the engine's reason for refusing it.
pub async fn account_draft_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((account_id, document)): Path<(String, String)>,
    Query(params): Query<DraftParams>,
) -> PageResult {
    let label = ACCOUNT_DOCUMENTS
        .iter()
        .find(|(d, _)| *d == document)
        .map_or(document.as_str(), |(_, l)| l);
    let name = state
        .pool()
        .run({
            let id = account_id.clone();
            move |store| Ok(store.account_name(&id)?)
        })
        .await?
        .unwrap_or_else(|| account_id.clone());
    let encoded = encode(&account_id);
    let page = format!("/accounts/{encoded}/drafts/{}", encode(&document));
    let api = format!("/api/v1/accounts/{encoded}/drafts/{}", encode(&document));
    let deck = matches!(document.as_str(), "qbr" | "ebr");
    let motives = matches!(document.as_str(), "outreach" | "sequence");
    let context = json!({
        "title": format!("{label} — {name}"),
        "heading": label,
        "kind": "account",
        "document": document,
        "account": {"id": account_id, "name": name, "href": format!("/accounts/{encoded}")},
        "documents": ACCOUNT_DOCUMENTS.iter().map(|(d, l)| json!({
            "document": d, "label": l, "href": document_href(&state, &encoded, d),
        })).collect::<Vec<_>>(),
        "params": params,
        "links": links(&page, &api, &params, deck),
        "motives": if motives { Motive::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>() } else { Vec::new() },
        "playbooks": if document == "playbook" { playbook_ids(&state) } else { Vec::new() },
        "templates": if document == "task" { task_template_ids(&state.inner.drafting) } else { Vec::new() },
    });
    let mut page_params = params.clone();
    page_params.format = None;
    let outcome = match DraftRequest::account(&state, &account_id, &document, &page_params) {
        Ok(request) => write(&state, &principal, &request).await,
        Err(error) => Err(error),
    };
    review(&state, &principal, context, outcome, "")
}

/// `/reports`: every report the engine writes, and the handbook.
pub async fn reports_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<DraftParams>,
) -> PageResult {
    let locale = parse_locale(&params.locale)?;
    let as_of = parse_date("as_of", &params.as_of)?;
    let reports: Vec<serde_json::Value> = report_kinds()
        .iter()
        .map(|(name, kind)| {
            let q = query(&[
                ("locale", Some(locale.as_str())),
                ("as_of", params.as_of.as_deref()),
            ]);
            json!({
                "kind": name,
                "subject": kind.needs_account(),
                "href": format!("/reports/{name}?{q}"),
            })
        })
        .collect();
    render_page(
        &state,
        &principal,
        "reports.html",
        "reports",
        json!({
            "title": "Reports",
            "reports": reports,
            "locale": locale.as_str(),
            "as_of": as_of,
            "handbook": format!("/handbook?locale={}", locale.as_str()),
        }),
    )
}

/// `/reports/{kind}`: one report for review.
pub async fn report_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(kind): Path<String>,
    Query(params): Query<DraftParams>,
) -> PageResult {
    let encoded = encode(&kind);
    let page = format!("/reports/{encoded}");
    let api = format!("/api/v1/reports/{encoded}");
    let subject = kind.parse::<Report>().is_ok_and(Report::needs_account);
    let context = json!({
        "title": format!("Report: {kind}"),
        "heading": format!("Report: {kind}"),
        "kind": "report",
        "document": kind,
        "params": params,
        "subject": subject,
        "links": links(&page, &api, &params, true),
        "motives": Vec::<&str>::new(),
    });
    let mut page_params = params.clone();
    page_params.format = None;
    let outcome = match DraftRequest::report(&kind, &page_params) {
        Ok(request) => write(&state, &principal, &request).await,
        Err(error) => Err(error),
    };
    review(&state, &principal, context, outcome, "reports")
}

/// `/handbook`: the CSM handbook for review.
pub async fn handbook_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<DraftParams>,
) -> PageResult {
    let context = json!({
        "title": "CSM handbook",
        "heading": "CSM handbook",
        "kind": "handbook",
        "document": "handbook",
        "params": params,
        "links": links("/handbook", "/api/v1/handbook", &params, false),
        "motives": Vec::<&str>::new(),
    });
    let mut page_params = params.clone();
    page_params.format = None;
    let outcome = match DraftRequest::handbook(&page_params) {
        Ok(request) => write(&state, &principal, &request).await,
        Err(error) => Err(error),
    };
    review(&state, &principal, context, outcome, "reports")
}

/// The review page's script (served from `/static/drafts.js`: the pages allow no inline
/// script): Copy puts the draft's Markdown on the clipboard and says so.
pub const SCRIPT: &str = r#"// COCO draft review: copy the draft's Markdown to the clipboard.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("draft-copy");
  const source = document.getElementById("draft-markdown");
  const status = document.getElementById("draft-copied");
  if (!button || !source || !status) return;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(source.value);
      status.textContent = "Copied";
    } catch (error) {
      status.textContent = "Copy failed: " + error;
    }
    status.hidden = false;
  });
});
"#;

/// `/static/drafts.js`.
pub async fn script() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        SCRIPT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(text: &str) -> Option<String> {
        Some(text.to_string())
    }

    #[test]
    fn formats_locales_and_flags_are_checked() {
        assert_eq!(DraftFormat::parse(&None).ok(), Some(DraftFormat::Json));
        assert_eq!(
            DraftFormat::parse(&some("pptx")).ok(),
            Some(DraftFormat::Pptx)
        );
        let error = DraftFormat::parse(&some("pdf")).err().map(|e| e.field);
        assert_eq!(error, Some(Some("format".to_string())));
        assert_eq!(parse_locale(&some("zh")).ok(), Some(Locale::Zh));
        assert!(parse_locale(&some("fr")).is_err());
        assert_eq!(parse_flag("llm", &some("true")).ok(), Some(true));
        assert_eq!(parse_flag("llm", &None).ok(), Some(false));
        assert!(parse_flag("llm", &some("maybe")).is_err());
        assert!(parse_motive(&some("nonsense")).is_err());
        assert_eq!(
            parse_motive(&some("risk")).ok().flatten(),
            Some(Motive::Risk)
        );
    }

    #[test]
    fn queries_and_file_names_are_safe() {
        assert_eq!(
            query(&[("a", Some("x y&z")), ("b", None), ("c", Some(""))]),
            "a=x%20y%26z"
        );
        assert_eq!(file_stem(&["acc/../1", "qbr", ""]), "acc____1-qbr");
    }

    #[test]
    fn the_portfolio_report_is_listed() {
        assert!(report_kinds().iter().any(|(n, _)| *n == "portfolio"));
    }
}
