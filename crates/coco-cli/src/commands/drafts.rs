//! `coco draft` and `coco report`: documents written from the analyzers' facts, checked
//! before they are printed (Markdown to stdout, or HTML / PPTX to a file).

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use coco_drafts::document::Locale;
use coco_drafts::draft::Draft;
use coco_engine::drafts::playbooks::{
    PlaybookRequest, TaskRequest, handbook, playbook_document, task_email, task_template_ids,
};
use coco_engine::drafts::reports::{Report, ReportRequest, report};
use coco_engine::drafts::{
    AccountDocument, AccountDraftRequest, Drafting, Motive, account_draft, enhance,
};

use super::actions::load_actions;
use super::{metrics, open_store, today, user_error};
use crate::GlobalArgs;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DraftFormat {
    Md,
    Html,
    Pptx,
    /// The draft with its facts, citations and grounding, for tools.
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LocaleArg {
    En,
    Zh,
}

impl From<LocaleArg> for Locale {
    fn from(value: LocaleArg) -> Self {
        match value {
            LocaleArg::En => Locale::En,
            LocaleArg::Zh => Locale::Zh,
        }
    }
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value = "en")]
    pub locale: LocaleArg,
    /// md (default), html, pptx (needs --out) or json.
    #[arg(long = "as", value_enum, default_value = "md")]
    pub output: DraftFormat,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Rewrite for tone with the LLM configured in drafts.toml [llm]; falls back to the
    /// template draft (and says why) unless the rewrite passes the grounding check.
    #[arg(long)]
    pub llm: bool,
    /// As of this date (default: today): the latest snapshot on or before it.
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, Args)]
pub struct DraftArgs {
    /// outreach (one email), sequence (three), qbr, ebr, plan, migration (a
    /// tier-migration email), playbook (the account's playbooks as they apply now), task
    /// (one playbook task's email, with --template) or handbook (the CSM handbook, from
    /// the configuration; no account).
    pub document: String,
    /// The account (every document but the handbook).
    #[arg(long)]
    pub account: Option<String>,
    /// Outreach and sequences: adoption_gap, risk, expansion, tier_migration or
    /// reengagement (default: from the account's alerts, gaps, expansion and silence).
    #[arg(long)]
    pub motive: Option<String>,
    /// Playbook: this playbook (an id of playbooks.toml) whether or not an alert runs it.
    #[arg(long)]
    pub playbook: Option<String>,
    /// Task: the task email template id (`health_check_in`, as in playbooks.toml).
    #[arg(long)]
    pub template: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// portfolio (the weekly health summary), adoption (monthly adoption), renewals (the
    /// renewal forecast), anomaly (one account's metric against its normal range; needs
    /// --account), benchmark (one account against its cohort; needs --account) or
    /// lifecycle (the board-level lifecycle summary).
    pub report: String,
    /// The account of the anomaly and benchmark reports.
    #[arg(long)]
    pub account: Option<String>,
    /// The anomaly report's metric (a catalogue name, or health_score; default: the
    /// watched metric furthest outside its normal range).
    #[arg(long)]
    pub metric: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn load_drafting(global: &GlobalArgs) -> Result<Drafting> {
    let dir = global
        .config_dir
        .clone()
        .unwrap_or_else(|| global.data_dir.join("config"));
    Ok(Drafting::load(Some(&dir), Some(&global.data_dir))?)
}

pub fn draft(global: &GlobalArgs, args: &DraftArgs) -> Result<()> {
    let as_of = args.output.as_of.unwrap_or_else(today);
    let locale: Locale = args.output.locale.into();
    let config = metrics::load_config(global)?;
    let drafting = load_drafting(global)?;
    if args.document == "handbook" {
        let actions = load_actions(global, &config)?;
        let draft = handbook(&config, &actions, &drafting, locale)?;
        // The handbook reads no customer data; the store is opened only to audit an
        // LLM rewrite.
        let store = open_store(global)?;
        return emit(&store, &drafting, draft, &args.document, &args.output);
    }
    let Some(account_id) = args.account.clone() else {
        return Err(user_error(
            format!("`coco draft {}` is about one account", args.document),
            Some("add --account ID (`coco accounts list` shows them)"),
        ));
    };
    let store = open_store(global)?;
    let draft = match args.document.as_str() {
        "playbook" => {
            let actions = load_actions(global, &config)?;
            let request = PlaybookRequest {
                account_id,
                as_of,
                locale,
                playbook: args.playbook.clone(),
            };
            playbook_document(&store, &config, &actions, &drafting, &request)?
        }
        "task" => {
            let Some(template) = args.template.clone() else {
                return Err(user_error(
                    "`coco draft task` writes one playbook task's email",
                    Some(&format!(
                        "add --template ID, one of {}",
                        task_template_ids(&drafting).join(", ")
                    )),
                ));
            };
            let request = TaskRequest {
                account_id,
                as_of,
                locale,
                template,
            };
            task_email(&store, &config, &drafting, &request)?
        }
        other => {
            let (document, mut motive) = match other {
                "migration" => (AccountDocument::Outreach, Some(Motive::TierMigration)),
                other => (
                    other.parse::<AccountDocument>().map_err(|_| {
                        user_error(
                            format!("unknown document `{other}`"),
                            Some(
                                "expected outreach, sequence, qbr, ebr, plan, migration, \
                                 playbook, task or handbook",
                            ),
                        )
                    })?,
                    None,
                ),
            };
            if let Some(text) = &args.motive {
                motive = Some(text.parse::<Motive>()?);
            }
            let request = AccountDraftRequest {
                document,
                account_id,
                as_of,
                locale,
                motive,
            };
            account_draft(&store, &config, &drafting, &request)?
        }
    };
    emit(&store, &drafting, draft, &args.document, &args.output)
}

pub fn report_command(global: &GlobalArgs, args: &ReportArgs) -> Result<()> {
    let kind: Report = args.report.parse()?;
    let store = open_store(global)?;
    let config = metrics::load_config(global)?;
    let drafting = load_drafting(global)?;
    let request = ReportRequest {
        report: kind,
        as_of: args.output.as_of.unwrap_or_else(today),
        locale: args.output.locale.into(),
        account: args.account.clone(),
        metric: args.metric.clone(),
    };
    let draft = report(&store, &config, &drafting, &request)?;
    emit(&store, &drafting, draft, &args.report, &args.output)
}

fn emit(
    store: &coco_store::Store,
    drafting: &Drafting,
    draft: Draft,
    document: &str,
    output: &OutputArgs,
) -> Result<()> {
    let draft = if output.llm {
        let (draft, outcome) = enhance(store, drafting, draft, document, "cli")?;
        match &outcome.fallback_reason {
            Some(reason) => eprintln!("LLM rewrite not used: {reason}; showing the template draft"),
            None => eprintln!("LLM rewrite used (it passed the grounding check)"),
        }
        draft
    } else {
        draft
    };
    let bytes: Vec<u8> = match output.output {
        DraftFormat::Md => draft.markdown.clone().into_bytes(),
        DraftFormat::Html => draft.html().into_bytes(),
        DraftFormat::Json => serde_json::to_vec_pretty(&serde_json::json!({
            "draft": &draft,
            "footnotes": draft.footnotes(),
        }))?,
        DraftFormat::Pptx => {
            if output.out.is_none() {
                return Err(user_error(
                    "a PPTX deck is binary and is not written to the terminal",
                    Some("add --out deck.pptx"),
                ));
            }
            draft.pptx().map_err(|e| user_error(e.to_string(), None))?
        }
    };
    match &output.out {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "{} written to {} ({} claims, every one cited)",
                draft.title,
                path.display(),
                draft.grounding.claims.len()
            );
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(())
}
