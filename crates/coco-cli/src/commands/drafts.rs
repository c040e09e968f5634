//! `coco draft` and `coco report`: documents written from the analyzers' facts, checked
//! before they are printed (Markdown to stdout, or HTML / PPTX to a file).

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use coco_drafts::document::Locale;
use coco_drafts::draft::Draft;
use coco_engine::drafts::reports::{Report, ReportRequest, report};
use coco_engine::drafts::{
    AccountDocument, AccountDraftRequest, Drafting, Motive, account_draft, enhance,
};

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
    /// outreach (one email), sequence (three), qbr, plan, or migration (a tier-migration
    /// email).
    pub document: String,
    #[arg(long)]
    pub account: String,
    /// Outreach and sequences: adoption_gap, risk, expansion, tier_migration or
    /// reengagement (default: from the account's alerts, gaps, expansion and silence).
    #[arg(long)]
    pub motive: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// portfolio.
    pub report: String,
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
    let (document, mut motive) = match args.document.as_str() {
        "migration" => (AccountDocument::Outreach, Some(Motive::TierMigration)),
        other => (other.parse::<AccountDocument>()?, None),
    };
    if let Some(text) = &args.motive {
        motive = Some(text.parse::<Motive>()?);
    }
    let store = open_store(global)?;
    let config = metrics::load_config(global)?;
    let drafting = load_drafting(global)?;
    let request = AccountDraftRequest {
        document,
        account_id: args.account.clone(),
        as_of: args.output.as_of.unwrap_or_else(today),
        locale: args.output.locale.into(),
        motive,
    };
    let draft = account_draft(&store, &config, &drafting, &request)?;
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
