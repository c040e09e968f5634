//! Drafts and documents (issue 9): the facts of each document type gathered from the
//! analyzers' outputs, rendered by `coco-drafts`' templates and checked before they are
//! shown. The facts each type sees are listed in `docs/drafts.md`.
//!
//! - [`account`]: one account's facts (health, trends, adoption, expansion, contacts,
//!   alerts), shared by outreach, sequences, QBRs and plans.
//! - [`reports`]: portfolio-level reports (portfolio, adoption, renewals, lifecycle) and
//!   the one-account reports (anomaly, benchmark).

pub mod account;
pub mod migration;
pub mod playbooks;
pub mod reports;

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use chrono::{Days, NaiveDate};
use coco_core::Direction;
use coco_drafts::document::Locale;
use coco_drafts::draft::{Draft, DraftSpec, compose};
use coco_drafts::facts::{FactValue, Facts};
use coco_drafts::llm::LlmConfig;
use coco_drafts::templates::Templates;
use coco_store::Store;
use serde::Deserialize;

use crate::{Config, EngineError};

pub const DRAFTS_FILE: &str = "drafts.toml";
pub const DEFAULT_DRAFTS: &str = include_str!("../../../../config/drafts.toml");
/// Where a user's templates live, under the data directory: `<locale>/<name>.md`.
pub const TEMPLATES_DIR: &str = "templates/drafts";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutreachSettings {
    pub max_words: usize,
    pub silence_days: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceSettings {
    pub follow_up_days: u32,
    pub direct_ask_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QbrSettings {
    pub period_days: u32,
    pub trend_metrics: Vec<String>,
    pub flat_share: f64,
    pub chart_weeks: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioSettings {
    pub compare_days: u32,
    pub red_arr_share: f64,
    pub amber_arr_share: f64,
    pub attention: usize,
    pub movers: usize,
    pub priority_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdoptionReportSettings {
    pub attention: usize,
    pub features: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalsReportSettings {
    pub days: u32,
    pub riskiest: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkSettings {
    pub dimension: String,
    pub metrics: Vec<String>,
    pub in_line_points: f64,
}

/// `config/drafts.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftsConfig {
    pub outreach: OutreachSettings,
    pub sequence: SequenceSettings,
    pub qbr: QbrSettings,
    pub portfolio: PortfolioSettings,
    pub adoption_report: AdoptionReportSettings,
    pub renewals_report: RenewalsReportSettings,
    pub benchmark: BenchmarkSettings,
    pub anomaly: reports::anomaly::AnomalySettings,
    #[serde(default)]
    pub llm: LlmConfig,
}

/// The settings and templates every draft is made with.
pub struct Drafting {
    pub config: DraftsConfig,
    pub origin: String,
    pub templates: Templates,
    /// The user templates laid over the shipped ones (paths under `templates/drafts`).
    pub overrides: Vec<String>,
}

impl Drafting {
    /// `config/drafts.toml` (or `<config_dir>/drafts.toml`) and the templates, with the
    /// user's under `<data_dir>/templates/drafts/` laid over the shipped ones.
    pub fn load(
        config_dir: Option<&Path>,
        data_dir: Option<&Path>,
    ) -> Result<Drafting, EngineError> {
        let (text, origin) = match config_dir.map(|d| d.join(DRAFTS_FILE)) {
            Some(path) if path.exists() => (
                std::fs::read_to_string(&path).map_err(|source| EngineError::ConfigFile {
                    path: path.clone(),
                    source,
                })?,
                path.display().to_string(),
            ),
            _ => (DEFAULT_DRAFTS.to_string(), "shipped defaults".to_string()),
        };
        let config: DraftsConfig =
            toml::from_str(&text).map_err(|e| EngineError::Invalid(format!("{origin}: {e}")))?;
        config
            .llm
            .validate()
            .map_err(|e| EngineError::Invalid(format!("{origin}: [llm] {e}")))?;
        config
            .anomaly
            .validate()
            .map_err(|e| EngineError::Invalid(format!("{origin}: [anomaly] {e}")))?;
        if !crate::renewals::PERIODS.contains(&config.renewals_report.days) {
            return Err(EngineError::Invalid(format!(
                "{origin}: [renewals_report] days = {} is not a forecast period ({})",
                config.renewals_report.days,
                crate::renewals::PERIODS.map(|d| d.to_string()).join(", ")
            )));
        }
        let mut overrides = BTreeMap::new();
        if let Some(dir) = data_dir.map(|d| d.join(TEMPLATES_DIR)) {
            for locale in Locale::ALL {
                let folder = dir.join(locale.as_str());
                let Ok(entries) = std::fs::read_dir(&folder) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.extension().and_then(|e| e.to_str()) != Some("md") {
                        continue;
                    }
                    let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
                        continue;
                    };
                    let source = std::fs::read_to_string(&path).map_err(|source| {
                        EngineError::ConfigFile {
                            path: path.clone(),
                            source,
                        }
                    })?;
                    overrides.insert(format!("{locale}/{file}"), source);
                }
            }
        }
        let templates = Templates::new(&overrides).map_err(draft_error)?;
        Ok(Drafting {
            config,
            origin,
            templates,
            overrides: overrides.into_keys().collect(),
        })
    }
}

pub(crate) fn draft_error(error: coco_drafts::DraftError) -> EngineError {
    EngineError::Invalid(error.to_string())
}

/// Why a CSM writes to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motive {
    AdoptionGap,
    Risk,
    Expansion,
    TierMigration,
    Reengagement,
}

impl Motive {
    pub const ALL: [Motive; 5] = [
        Motive::AdoptionGap,
        Motive::Risk,
        Motive::Expansion,
        Motive::TierMigration,
        Motive::Reengagement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Motive::AdoptionGap => "adoption_gap",
            Motive::Risk => "risk",
            Motive::Expansion => "expansion",
            Motive::TierMigration => "tier_migration",
            Motive::Reengagement => "reengagement",
        }
    }

    fn template(self) -> String {
        format!("outreach_{}", self.as_str())
    }

    /// The motive of an email about an alert of this risk profile (`profile` in
    /// `config/alerts.toml`): an expansion signal is an expansion conversation, lapsed
    /// engagement a re-engagement, every other profile a risk conversation. One rule for
    /// [`suggested_motive`] and the alert page's Draft button.
    pub fn for_alert_profile(profile: &str) -> Motive {
        match profile {
            "expansion" => Motive::Expansion,
            "engagement" => Motive::Reengagement,
            _ => Motive::Risk,
        }
    }
}

impl FromStr for Motive {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.replace('-', "_");
        Motive::ALL
            .into_iter()
            .find(|m| {
                m.as_str() == wanted
                    || (wanted == "adoption" && *m == Motive::AdoptionGap)
                    || (wanted == "migration" && *m == Motive::TierMigration)
            })
            .ok_or_else(|| {
                EngineError::Invalid(format!(
                    "unknown motive `{s}` (expected {})",
                    Motive::ALL.map(Motive::as_str).join(", ")
                ))
            })
    }
}

/// The account documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountDocument {
    /// One email.
    Outreach,
    /// Three emails: initial, follow-up, direct ask.
    Sequence,
    /// The quarterly business review deck.
    Qbr,
    /// The executive business review: the same facts, told to the customer's executive
    /// sponsor (value, outcomes, strategic risks, decisions asked for).
    Ebr,
    /// The 90-day success plan.
    Plan,
}

impl FromStr for AccountDocument {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "outreach" | "email" => Ok(AccountDocument::Outreach),
            "sequence" => Ok(AccountDocument::Sequence),
            "qbr" => Ok(AccountDocument::Qbr),
            "ebr" => Ok(AccountDocument::Ebr),
            "plan" => Ok(AccountDocument::Plan),
            other => Err(EngineError::Invalid(format!(
                "unknown document `{other}` (expected outreach, sequence, qbr, ebr or plan)"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AccountDraftRequest {
    pub document: AccountDocument,
    pub account_id: String,
    pub as_of: NaiveDate,
    pub locale: Locale,
    /// Outreach and sequences: why to write (None: chosen from the account's situation).
    pub motive: Option<Motive>,
}

/// The motive an account's situation suggests: its most severe open alert, then
/// adoption gaps, expansion, then silence.
pub fn suggested_motive(facts: &account::AccountFacts, settings: &OutreachSettings) -> Motive {
    if let Some(profile) = facts.alert_profile.as_deref() {
        return Motive::for_alert_profile(profile);
    }
    if facts
        .days_since_touchpoint
        .is_some_and(|d| d >= settings.silence_days)
    {
        Motive::Reengagement
    } else if facts.has_opportunities {
        Motive::Expansion
    } else {
        Motive::AdoptionGap
    }
}

/// Writes one account document as of a date.
pub fn account_draft(
    store: &Store,
    config: &Config,
    drafting: &Drafting,
    request: &AccountDraftRequest,
) -> Result<Draft, EngineError> {
    account_draft_with(
        store,
        config,
        drafting,
        request,
        account::Preloaded::default(),
    )
}

/// [`account_draft`] with what a process writing many drafts holds in memory: the book's
/// inputs of the date, the accounts' views.
pub fn account_draft_with(
    store: &Store,
    config: &Config,
    drafting: &Drafting,
    request: &AccountDraftRequest,
    preloaded: account::Preloaded<'_>,
) -> Result<Draft, EngineError> {
    let settings = &drafting.config;
    let mut gathered = account::gather_with(
        store,
        config,
        preloaded,
        &request.account_id,
        request.as_of,
        settings.qbr.period_days,
        &settings.qbr.trend_metrics,
        settings.qbr.chart_weeks,
    )?;
    let (template, layout) = match request.document {
        AccountDocument::Outreach | AccountDocument::Sequence => {
            let motive = request
                .motive
                .unwrap_or_else(|| suggested_motive(&gathered, &settings.outreach));
            sequence_facts(&mut gathered.facts, &settings.sequence, gathered.view.as_of);
            if motive == Motive::TierMigration {
                let candidate =
                    migration::candidate(store, config, &request.account_id, request.as_of)?;
                migration::push_facts(
                    &mut gathered.facts,
                    &candidate,
                    gathered.view.as_of,
                    &config.segments.model.name,
                );
            }
            let steps: Vec<&str> = if request.document == AccountDocument::Sequence {
                vec!["initial", "follow_up", "direct_ask"]
            } else {
                vec!["initial"]
            };
            (
                motive.template(),
                layout(serde_json::json!({"steps": steps, "motive": motive.as_str()})),
            )
        }
        AccountDocument::Qbr | AccountDocument::Ebr => {
            trends(
                &mut gathered.facts,
                settings.qbr.flat_share,
                &settings.qbr.trend_metrics,
                config,
            );
            let template = if request.document == AccountDocument::Qbr {
                "qbr"
            } else {
                "ebr"
            };
            (template.to_string(), layout(serde_json::json!({})))
        }
        AccountDocument::Plan => ("plan".to_string(), layout(serde_json::json!({}))),
    };
    let draft = compose(
        &drafting.templates,
        DraftSpec {
            template,
            locale: request.locale,
            facts: gathered.facts,
            charts: gathered.charts,
            layout,
        },
    )
    .map_err(draft_error)?;
    if matches!(
        request.document,
        AccountDocument::Outreach | AccountDocument::Sequence
    ) {
        check_length(&draft, settings.outreach.max_words)?;
    }
    Ok(draft)
}

/// Each email of an outreach draft (a `## ` section, or the whole draft) within the
/// configured length.
pub(crate) fn check_length(draft: &Draft, max_words: usize) -> Result<(), EngineError> {
    let sections: Vec<&str> = if draft.markdown.contains("\n## ") {
        draft.markdown.split("\n## ").skip(1).collect()
    } else {
        vec![draft.markdown.as_str()]
    };
    for section in sections {
        let words = Draft::words(section);
        if words > max_words {
            return Err(EngineError::Invalid(format!(
                "{}/{}.md: an email of {words} words is longer than [outreach] max_words = {max_words}",
                draft.locale, draft.template
            )));
        }
    }
    Ok(())
}

/// The sequence's send dates and the weeks they fall in.
fn sequence_facts(facts: &mut Facts, settings: &SequenceSettings, as_of: NaiveDate) {
    let origin = "config/drafts.toml [sequence]";
    for (key, days) in [
        ("follow_up", settings.follow_up_days),
        ("direct_ask", settings.direct_ask_days),
    ] {
        facts.number(
            &format!("sequence.{key}_days"),
            f64::from(days),
            account::cite(origin, None, None),
        );
        facts.number(
            &format!("sequence.{key}_week"),
            f64::from(days / 7),
            account::cite(origin, None, None),
        );
        facts.date(
            &format!("sequence.{key}_on"),
            as_of + Days::new(u64::from(days)),
            account::cite(origin, Some(as_of), None),
        );
    }
    facts.date(
        "sequence.initial_on",
        as_of,
        account::cite("draft date", Some(as_of), None),
    );
}

/// The sections of an account's facts that may be absent, as empty defaults, so a
/// template can ask `{% if alerts %}` of an account without any.
pub(crate) fn layout(extra: serde_json::Value) -> serde_json::Value {
    let mut layout = serde_json::json!({
        "account": {}, "csm": {}, "health": {"declines": []}, "metrics": {}, "trends": [],
        "contacts": {}, "alerts": [], "adoption": {"gaps": []}, "plan": {"features": [],
        "weeks": [], "milestones": []}, "expansion": [], "goals": [], "stories": [],
        "concerns": [], "sequence": {}, "migration": {"reasons": [], "risks": []},
    });
    if let (serde_json::Value::Object(map), serde_json::Value::Object(extra)) = (&mut layout, extra)
    {
        map.extend(extra);
    }
    layout
}

/// For each metric with a change over the period: `metrics.<m>.direction` (up, down or
/// flat — flat when the change is under `flat_share` of the earlier value) and, for the
/// trend metrics, the success stories (moved the good way, by the catalogue's direction)
/// and concerns (the bad way).
fn trends(facts: &mut Facts, flat_share: f64, trend_metrics: &[String], config: &Config) {
    let metas = config.metric_metas();
    let number = |facts: &Facts, key: &str| {
        facts.get(key).and_then(|f| match f.value {
            FactValue::Number(n) => Some(n),
            _ => None,
        })
    };
    let mut directions = Vec::new();
    for (fact, change) in facts.numbers() {
        let Some(metric) = fact
            .key
            .strip_prefix("metrics.")
            .and_then(|k| k.strip_suffix(".change"))
        else {
            continue;
        };
        let then = number(facts, &format!("metrics.{metric}.then")).unwrap_or(0.0);
        let flat = (then.abs() * flat_share).max(f64::EPSILON);
        let direction = if change > flat {
            "up"
        } else if change < -flat {
            "down"
        } else {
            "flat"
        };
        directions.push((metric.to_string(), direction, fact.cited.clone()));
    }
    let (mut stories, mut concerns) = (0, 0);
    for (metric, direction, cited) in directions {
        facts.text(
            &format!("metrics.{metric}.direction"),
            direction,
            cited.clone(),
        );
        if !trend_metrics.contains(&metric) || direction == "flat" {
            continue;
        }
        let Some(meta) = metas.iter().find(|m| m.name == metric) else {
            continue;
        };
        let better = match meta.direction {
            Direction::HigherIsBetter => direction == "up",
            Direction::LowerIsBetter => direction == "down",
            Direction::Neutral => continue,
        };
        let (list, index) = if better {
            stories += 1;
            ("stories", stories - 1)
        } else {
            concerns += 1;
            ("concerns", concerns - 1)
        };
        let key = format!("{list}.{index}");
        facts.text(&format!("{key}.metric"), &metric, cited.clone());
        facts.text(
            &format!("{key}.description"),
            &meta.description,
            account::cite("metric catalogue", None, None),
        );
        facts.text(
            &format!("{key}.unit"),
            &meta.unit,
            account::cite("metric catalogue", None, None),
        );
    }
}

/// What became of a request to rewrite a draft with the LLM.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LlmOutcome {
    pub rewritten: bool,
    /// Why the template draft is shown instead (off, not allowed, timeout, a number the
    /// facts do not hold…).
    pub fallback_reason: Option<String>,
}

/// Rewrites `draft` for tone and flow with the configured OpenAI-compatible server; the
/// rewrite must pass the same grounding check, else the template draft is kept and the
/// outcome says why. Whatever was sent and received is written to the audit log.
pub fn enhance(
    store: &Store,
    drafting: &Drafting,
    draft: Draft,
    document: &str,
    actor: &str,
) -> Result<(Draft, LlmOutcome), EngineError> {
    let llm = &drafting.config.llm;
    let key = llm.api_key_from_env();
    let enhanced = coco_drafts::llm::enhance(
        llm,
        &coco_drafts::llm::RewriteRequest {
            draft: &draft.markdown,
            facts: &draft.facts,
            locale: draft.locale,
            document,
        },
        key.as_deref(),
    );
    if let Some(exchange) = &enhanced.exchange {
        let target = format!("{}/{}", draft.locale, draft.template);
        store.audit(&coco_store::auth::AuditEntry {
            actor,
            action: "draft.llm_rewrite",
            target: Some(&target),
            detail: serde_json::json!({
                "exchange": exchange,
                "rewritten": enhanced.rewritten,
                "fallback_reason": enhanced.fallback_reason,
            }),
            ip: None,
        })?;
    }
    let outcome = LlmOutcome {
        rewritten: enhanced.rewritten,
        fallback_reason: enhanced.fallback_reason,
    };
    if !enhanced.rewritten {
        return Ok((draft, outcome));
    }
    let rewritten = Draft::new(
        draft.template,
        draft.locale,
        enhanced.text,
        draft.facts,
        draft.charts,
    );
    Ok((rewritten, outcome))
}
