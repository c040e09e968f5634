//! Reports: the facts of the book (portfolio, adoption, renewals, lifecycle) or of one
//! account (anomaly, benchmark) as of a date, from the same analyzers the pages and
//! commands show. Each report's facts are gathered in its own module; the keys are
//! listed in `docs/drafts.md`.

pub mod adoption;
pub mod anomaly;
pub mod benchmark;
pub mod lifecycle;
pub mod renewals;

use std::str::FromStr;

use chrono::{Days, NaiveDate};
use coco_drafts::document::Locale;
use coco_drafts::draft::{Draft, DraftSpec, compose};
use coco_drafts::facts::Facts;
use coco_store::Store;
use coco_store::actions::AlertFilter;
use coco_store::snapshots::{HealthListFilter, HealthListRow, HealthSort};

use super::account::cite;
use super::{Drafting, draft_error};
use crate::portfolio::{portfolio_view, snapshot_pair};
use crate::{Config, EngineError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The weekly portfolio health summary with RAG status.
    Portfolio,
    /// The monthly adoption report of the book.
    Adoption,
    /// The renewal forecast: the next 90 days, expected vs at-risk ARR, the riskiest.
    Renewals,
    /// One account's metric against its own normal range, with ranked hypotheses.
    Anomaly,
    /// One account against its cohort.
    Benchmark,
    /// The board-level lifecycle summary.
    Lifecycle,
}

impl Report {
    pub const ALL: [Report; 6] = [
        Report::Portfolio,
        Report::Adoption,
        Report::Renewals,
        Report::Anomaly,
        Report::Benchmark,
        Report::Lifecycle,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Report::Portfolio => "portfolio",
            Report::Adoption => "adoption",
            Report::Renewals => "renewals",
            Report::Anomaly => "anomaly",
            Report::Benchmark => "benchmark",
            Report::Lifecycle => "lifecycle",
        }
    }

    /// Whether the report is about one account (`--account` required).
    pub fn needs_account(self) -> bool {
        matches!(self, Report::Anomaly | Report::Benchmark)
    }
}

impl FromStr for Report {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.replace('-', "_");
        match wanted.as_str() {
            "weekly" | "status" => return Ok(Report::Portfolio),
            "renewal" | "forecast" => return Ok(Report::Renewals),
            "board" => return Ok(Report::Lifecycle),
            _ => {}
        }
        Report::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| {
                EngineError::Invalid(format!(
                    "unknown report `{s}` (expected {})",
                    Report::ALL.map(Report::as_str).join(", ")
                ))
            })
    }
}

#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub report: Report,
    pub as_of: NaiveDate,
    pub locale: Locale,
    /// The account of the one-account reports (anomaly, benchmark).
    pub account: Option<String>,
    /// The anomaly report's metric (None: the one furthest outside its range).
    pub metric: Option<String>,
}

pub fn report(
    store: &Store,
    config: &Config,
    drafting: &Drafting,
    request: &ReportRequest,
) -> Result<Draft, EngineError> {
    let account = match (request.report.needs_account(), &request.account) {
        (true, None) => {
            return Err(EngineError::Invalid(format!(
                "the {} report is about one account: give it with --account ID",
                request.report.as_str()
            )));
        }
        (_, account) => account.as_deref(),
    };
    let settings = &drafting.config;
    let (facts, layout) = match request.report {
        Report::Portfolio => (
            portfolio_facts(store, config, drafting, request.as_of)?,
            serde_json::json!({}),
        ),
        Report::Adoption => (
            adoption::facts(store, config, &settings.adoption_report, request.as_of)?,
            adoption::layout(),
        ),
        Report::Renewals => (
            renewals::facts(store, config, &settings.renewals_report, request.as_of)?,
            renewals::layout(),
        ),
        Report::Anomaly => (
            anomaly::facts(
                store,
                config,
                &settings.anomaly,
                account.unwrap_or_default(),
                request.metric.as_deref(),
                request.as_of,
            )?,
            anomaly::layout(),
        ),
        Report::Benchmark => (
            benchmark::facts(
                store,
                config,
                &settings.benchmark,
                account.unwrap_or_default(),
                request.as_of,
            )?,
            benchmark::layout(),
        ),
        Report::Lifecycle => (
            lifecycle::facts(store, config, request.as_of)?,
            lifecycle::layout(),
        ),
    };
    compose(
        &drafting.templates,
        DraftSpec {
            template: request.report.as_str().to_string(),
            locale: request.locale,
            facts,
            charts: Default::default(),
            layout,
        },
    )
    .map_err(draft_error)
}

/// The median of some values (None without any): `coco_insights::format::median` over
/// an owned list.
pub(crate) fn median(mut values: Vec<f64>) -> Option<f64> {
    coco_insights::format::median(&mut values)
}

/// A Not-found about the account, said as the invalid request it is.
pub(crate) fn account_error(report: Report, account_id: &str, error: EngineError) -> EngineError {
    match error {
        EngineError::NotFound(message) => EngineError::Invalid(format!(
            "the {} report needs an existing account: `{account_id}`: {message}",
            report.as_str()
        )),
        other => other,
    }
}

pub(crate) fn push_account(
    facts: &mut Facts,
    key: &str,
    row: &HealthListRow,
    at: Option<NaiveDate>,
    snapshot: &str,
) {
    let record = Some(format!("accounts {}", row.account_id));
    facts.text(
        &format!("{key}.id"),
        &row.account_id,
        cite("accounts.account_id", None, record.clone()),
    );
    facts.text(
        &format!("{key}.name"),
        row.name.clone().unwrap_or_else(|| row.account_id.clone()),
        cite("accounts.name", None, record.clone()),
    );
    facts.text(
        &format!("{key}.colour"),
        &row.colour,
        cite("health_colour", at, Some(snapshot.to_string())),
    );
    if let Some(score) = row.score {
        facts.number(
            &format!("{key}.score"),
            score,
            cite("health_score", at, Some(snapshot.to_string())),
        );
    }
    if let Some(change) = row.change {
        facts.number(
            &format!("{key}.change"),
            change,
            cite("health_score change", at, Some(snapshot.to_string())),
        );
    }
    if let Some(arr) = row.arr {
        facts.number(
            &format!("{key}.arr"),
            arr,
            cite("contracts.arr", at, record.clone()),
        );
    }
    if let Some(renewal) = row.renewal_date {
        facts.date(
            &format!("{key}.renewal_date"),
            renewal,
            cite("contracts.end_date", at, record),
        );
    }
    if let Some(segment) = &row.segment {
        facts.text(
            &format!("{key}.segment"),
            segment,
            cite("accounts.segment", at, None),
        );
    }
    if let Some(weakest) = &row.weakest_component {
        facts.text(
            &format!("{key}.weakest"),
            weakest,
            cite("weakest health component", at, None),
        );
    }
}

/// The weekly portfolio summary's facts: totals by colour now and a week earlier, the
/// RAG status, movers, the accounts needing attention, segment trends and next week's
/// renewals.
pub fn portfolio_facts(
    store: &Store,
    config: &Config,
    drafting: &Drafting,
    as_of: NaiveDate,
) -> Result<Facts, EngineError> {
    let settings = &drafting.config.portfolio;
    let pair = snapshot_pair(store, config, as_of, settings.compare_days)?;
    let current = pair.current.clone();
    let at = Some(current.as_of);
    let snapshot = format!("snapshot {}", current.snapshot_id);
    let view = portfolio_view(store, config, pair.clone(), &HealthListFilter::default())?;
    let mut facts = Facts::default();
    facts.date(
        "as_of",
        current.as_of,
        cite("snapshot.as_of", at, Some(snapshot.clone())),
    );
    facts.number(
        "book.accounts",
        view.accounts as f64,
        cite("accounts scored", at, Some(snapshot.clone())),
    );
    facts.number(
        "book.arr",
        view.arr,
        cite("sum of contracts.arr", at, Some(snapshot.clone())),
    );
    facts.number(
        "book.arr_at_risk",
        view.arr_at_risk,
        cite("ARR of red accounts", at, Some(snapshot.clone())),
    );
    let red_share = if view.arr > 0.0 {
        view.arr_at_risk / view.arr
    } else {
        0.0
    };
    facts.number(
        "book.arr_at_risk_share",
        red_share,
        cite("ARR of red accounts ÷ ARR", at, Some(snapshot.clone())),
    );
    let rag = if red_share >= settings.red_arr_share {
        "red"
    } else if red_share >= settings.amber_arr_share {
        "amber"
    } else {
        "green"
    };
    facts.text(
        "book.rag",
        rag,
        cite(
            "config/drafts.toml [portfolio] red_arr_share / amber_arr_share",
            at,
            None,
        ),
    );
    facts.number(
        "rag.red_arr_share",
        settings.red_arr_share,
        cite("config/drafts.toml [portfolio]", None, None),
    );
    facts.number(
        "rag.amber_arr_share",
        settings.amber_arr_share,
        cite("config/drafts.toml [portfolio]", None, None),
    );
    for total in &view.totals {
        let key = format!("colours.{}", total.colour);
        facts.number(
            &format!("{key}.accounts"),
            total.accounts as f64,
            cite(
                &format!("accounts {}", total.colour),
                at,
                Some(snapshot.clone()),
            ),
        );
        facts.number(
            &format!("{key}.arr"),
            total.arr,
            cite(&format!("ARR {}", total.colour), at, Some(snapshot.clone())),
        );
        if view.accounts > 0 {
            facts.number(
                &format!("{key}.share"),
                total.accounts as f64 / view.accounts as f64,
                cite(
                    &format!("share of accounts {}", total.colour),
                    at,
                    Some(snapshot.clone()),
                ),
            );
        }
    }
    if let Some(previous) = &pair.previous {
        let before = Some(previous.as_of);
        let previous_record = Some(format!("snapshot {}", previous.snapshot_id));
        facts.date(
            "previous.as_of",
            previous.as_of,
            cite("snapshot.as_of", before, previous_record.clone()),
        );
        let totals = store.colour_totals(previous.snapshot_id, &HealthListFilter::default())?;
        for total in &totals {
            let key = format!("previous.colours.{}", total.colour);
            facts.number(
                &format!("{key}.accounts"),
                total.accounts as f64,
                cite(
                    &format!("accounts {}", total.colour),
                    before,
                    previous_record.clone(),
                ),
            );
            let now = view
                .totals
                .iter()
                .find(|t| t.colour == total.colour)
                .map_or(0, |t| t.accounts);
            facts.number(
                &format!("colours.{}.change", total.colour),
                (now - total.accounts) as f64,
                cite(
                    &format!("accounts {} change since {}", total.colour, previous.as_of),
                    at,
                    None,
                ),
            );
            facts.number(
                &format!("colours.{}.change_abs", total.colour),
                (now - total.accounts).abs() as f64,
                cite(
                    &format!("accounts {} change since {}", total.colour, previous.as_of),
                    at,
                    None,
                ),
            );
        }
    }
    for (i, row) in view.fallers.iter().take(settings.movers).enumerate() {
        push_account(&mut facts, &format!("fallers.{i}"), row, at, &snapshot);
    }
    for (i, row) in view.risers.iter().take(settings.movers).enumerate() {
        push_account(&mut facts, &format!("risers.{i}"), row, at, &snapshot);
    }
    let attention = store.health_list(
        current.snapshot_id,
        pair.previous.as_ref().map(|p| p.snapshot_id),
        &HealthListFilter {
            colour: Some("red".into()),
            sort: HealthSort::Arr,
            limit: Some(settings.attention),
            ..HealthListFilter::default()
        },
    )?;
    for (i, row) in attention.iter().enumerate() {
        push_account(&mut facts, &format!("attention.{i}"), row, at, &snapshot);
    }
    // Segment trends: each segment's red share now and a period earlier.
    for (i, segment) in view.options.segments.iter().enumerate() {
        let filter = HealthListFilter {
            segment: Some(segment.value.clone()),
            ..HealthListFilter::default()
        };
        let key = format!("segments.{i}");
        facts.text(
            &format!("{key}.name"),
            &segment.label,
            cite("accounts.segment", at, None),
        );
        let now = store.colour_totals(current.snapshot_id, &filter)?;
        let count: i64 = now.iter().map(|t| t.accounts).sum();
        let red = now
            .iter()
            .find(|t| t.colour == "red")
            .map_or(0, |t| t.accounts);
        facts.number(
            &format!("{key}.accounts"),
            count as f64,
            cite(
                &format!("accounts in segment {}", segment.value),
                at,
                Some(snapshot.clone()),
            ),
        );
        facts.number(
            &format!("{key}.red"),
            red as f64,
            cite(
                &format!("red accounts in segment {}", segment.value),
                at,
                Some(snapshot.clone()),
            ),
        );
        if count > 0 {
            facts.number(
                &format!("{key}.red_share"),
                red as f64 / count as f64,
                cite(
                    &format!("red share in segment {}", segment.value),
                    at,
                    Some(snapshot.clone()),
                ),
            );
        }
        if let Some(previous) = &pair.previous {
            let then = store.colour_totals(previous.snapshot_id, &filter)?;
            let then_count: i64 = then.iter().map(|t| t.accounts).sum();
            let then_red = then
                .iter()
                .find(|t| t.colour == "red")
                .map_or(0, |t| t.accounts);
            if then_count > 0 {
                facts.number(
                    &format!("{key}.red_share_before"),
                    then_red as f64 / then_count as f64,
                    cite(
                        &format!("red share in segment {}", segment.value),
                        Some(previous.as_of),
                        None,
                    ),
                );
            }
        }
    }
    // Next week's priorities: renewals soon that are not green, and the open critical alerts.
    let horizon = current.as_of + Days::new(u64::from(settings.priority_days));
    facts.number(
        "priorities.days",
        f64::from(settings.priority_days),
        cite("config/drafts.toml [portfolio] priority_days", None, None),
    );
    let renewing = store.health_list(
        current.snapshot_id,
        None,
        &HealthListFilter {
            renewal_from: Some(current.as_of),
            renewal_to: Some(horizon),
            sort: HealthSort::Arr,
            ..HealthListFilter::default()
        },
    )?;
    for (shown, row) in renewing
        .iter()
        .filter(|r| r.colour != "green")
        .take(settings.attention)
        .enumerate()
    {
        push_account(&mut facts, &format!("renewals.{shown}"), row, at, &snapshot);
    }
    facts.number(
        "priorities.renewals",
        renewing.iter().filter(|r| r.colour != "green").count() as f64,
        cite(
            &format!("renewals by {horizon} not green"),
            at,
            Some(snapshot.clone()),
        ),
    );
    let critical = store
        .alerts(&AlertFilter {
            statuses: vec!["open".into()],
            opened_on_or_before: Some(as_of),
            ..AlertFilter::default()
        })?
        .into_iter()
        .filter(|a| a.severity == "critical")
        .count();
    facts.number(
        "priorities.critical_alerts",
        critical as f64,
        cite("open critical alerts", Some(as_of), None),
    );
    Ok(facts)
}
