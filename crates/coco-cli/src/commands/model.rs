//! `coco model …`: train, evaluate, list, show, promote, score, predict.

use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use coco_engine::churn::{self, history, scoring};
use coco_models::report::Report;
use coco_models::train::KindChoice;
use serde::Serialize;

use crate::GlobalArgs;
use crate::commands::{metrics, open_store, today, user_error};
use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Train a churn model: on the store's snapshot history (default), or on a flat table.
    #[command(
        after_help = "Examples:\n  coco model train                                   # history: backtest, select, register\n  coco model train --model trees\n  coco model train --table customers.csv --label churned --id customer_id"
    )]
    Train(TrainArgs),
    /// Print a model's backtest metrics and write its report (Markdown + HTML with charts).
    #[command(after_help = "Example:\n  coco model evaluate history-v2 --out reports/")]
    Evaluate(EvaluateArgs),
    /// Registered models with their headline metrics.
    List,
    /// One model: window, features, metrics, configuration hash.
    #[command(after_help = "Example:\n  coco model show history-v2")]
    Show { version: String },
    /// Make a model the one scoring uses (the previous one of its mode is retired).
    #[command(after_help = "Example:\n  coco model promote history-v3")]
    Promote { version: String },
    /// Score every account of the newest snapshot with the promoted history model.
    #[command(after_help = "Example:\n  coco model score --as-of 2026-10-31")]
    Score(ScoreArgs),
    /// Churn risk of accounts (stored predictions), highest first.
    #[command(after_help = "Example:\n  coco model risk --tier high --limit 20")]
    Risk(RiskArgs),
    /// Score a flat table with a table model: id, probability, interval, tier, drivers.
    #[command(
        after_help = "Example:\n  coco model predict --table new_customers.csv --id customer_id --format csv"
    )]
    Predict(PredictArgs),
}

#[derive(Args)]
pub struct TrainArgs {
    /// auto (chosen by validation), logistic or trees.
    #[arg(long, default_value = "auto")]
    pub model: String,
    /// Train on this flat file (CSV/TSV, one row per customer) instead of the store's history.
    #[arg(long)]
    pub table: Option<PathBuf>,
    /// The label column of --table (1/0, true/false, yes/no, churned/…).
    #[arg(long, requires = "table")]
    pub label: Option<String>,
    /// The id column of --table (never used as a feature).
    #[arg(long, requires = "table")]
    pub id: Option<String>,
    /// History mode: the last date whose data counts (default: the newest snapshot).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Folder for the report files (default <data-dir>/reports).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct EvaluateArgs {
    /// Model version (default: the promoted history model).
    pub version: Option<String>,
    /// Folder for the report files (default <data-dir>/reports).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct ScoreArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Model version (default: the promoted history model).
    #[arg(long)]
    pub model: Option<String>,
}

#[derive(Args)]
pub struct RiskArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Only this risk tier.
    #[arg(long)]
    pub tier: Option<String>,
    /// One account, with its drivers.
    #[arg(long)]
    pub account: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Args)]
pub struct PredictArgs {
    #[arg(long)]
    pub table: PathBuf,
    /// The id column (default: the one named at training, else row numbers).
    #[arg(long)]
    pub id: Option<String>,
    /// Model version (default: the promoted table model).
    #[arg(long)]
    pub model: Option<String>,
}

pub fn run(global: &GlobalArgs, command: &ModelCommand) -> Result<()> {
    match command {
        ModelCommand::Train(args) => train(global, args),
        ModelCommand::Evaluate(args) => evaluate(global, args),
        ModelCommand::List => list(global),
        ModelCommand::Show { version } => show(global, version),
        ModelCommand::Promote { version } => {
            let store = open_store(global)?;
            let summary = store.promote_model(version)?;
            eprintln!(
                "{} is now the promoted {} model",
                summary.version, summary.mode
            );
            Ok(())
        }
        ModelCommand::Score(args) => score(global, args),
        ModelCommand::Risk(args) => risk(global, args),
        ModelCommand::Predict(args) => predict(global, args),
    }
}

fn report_dir(global: &GlobalArgs, out: &Option<PathBuf>) -> PathBuf {
    out.clone()
        .unwrap_or_else(|| global.data_dir.join("reports"))
}

/// Writes `<dir>/<version>.md` and `.html`; returns their paths.
fn write_report(dir: &Path, version: &str, report: &Report) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let markdown = dir.join(format!("{version}.md"));
    let html = dir.join(format!("{version}.html"));
    std::fs::write(&markdown, report.markdown())?;
    std::fs::write(&html, report.html())?;
    Ok((markdown, html))
}

#[derive(Serialize)]
struct MetricRow {
    model: String,
    auc: Option<f64>,
    pr_auc: Option<f64>,
    top_decile_lift: Option<f64>,
    brier: f64,
    ece: f64,
    rows: usize,
    churned: usize,
}

fn print_report(report: &Report, format: Format) -> Result<()> {
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    let rows: Vec<MetricRow> = report
        .results
        .iter()
        .map(|r| MetricRow {
            model: r.name.clone(),
            auc: r.evaluation.auc.map(round3),
            pr_auc: r.evaluation.pr_auc.map(round3),
            top_decile_lift: r.evaluation.top_decile_lift.map(round3),
            brier: round3(r.evaluation.brier),
            ece: round3(r.evaluation.ece),
            rows: r.evaluation.n,
            churned: r.evaluation.positives,
        })
        .collect();
    output::print_rows(&rows, format)?;
    if let Some(lead) = &report.lead_time {
        eprintln!(
            "lead time: {} of {} churned accounts flagged (p >= {:.2}); median {} days ahead; {:.0}% flagged >= 45 days ahead",
            lead.flagged,
            lead.churned_accounts,
            lead.threshold,
            lead.median_days
                .map_or_else(|| "n/a".to_string(), |d| format!("{d:.0}")),
            lead.share_at_least_45_days * 100.0
        );
    }
    Ok(())
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn train(global: &GlobalArgs, args: &TrainArgs) -> Result<()> {
    let kind = KindChoice::parse(&args.model)?;
    let config = metrics::load_config(global)?;
    let store = open_store(global)?;
    let trained = match &args.table {
        Some(table) => {
            let label = args.label.as_deref().ok_or_else(|| {
                user_error("--table needs --label COLUMN (the churn label)", None)
            })?;
            churn::train_table(&store, &config, table, label, args.id.as_deref(), kind)?
        }
        None => {
            let started = std::time::Instant::now();
            history::train_history(&store, &config, kind, args.as_of, &mut |step: &str| {
                eprintln!("[{:6.1}s] {step}", started.elapsed().as_secs_f64())
            })?
        }
    };
    let (markdown, html) = write_report(
        &report_dir(global, &args.out),
        &trained.summary.version,
        &trained.report,
    )?;
    print_report(&trained.report, global.format)?;
    eprintln!(
        "registered {} ({}, status {}); report: {} and {}",
        trained.summary.version,
        trained.summary.kind,
        trained.summary.status,
        markdown.display(),
        html.display()
    );
    if trained.summary.status != "promoted" {
        eprintln!(
            "hint: `coco model promote {}` makes it the one scoring uses",
            trained.summary.version
        );
    }
    Ok(())
}

fn evaluate(global: &GlobalArgs, args: &EvaluateArgs) -> Result<()> {
    let store = open_store(global)?;
    let (record, _) = churn::load_model(&store, args.version.as_deref(), churn::MODE_HISTORY)?;
    let report = churn::model_report(&record)?;
    print_report(&report, global.format)?;
    let (markdown, html) = write_report(
        &report_dir(global, &args.out),
        &record.summary.version,
        &report,
    )?;
    eprintln!("report: {} and {}", markdown.display(), html.display());
    Ok(())
}

#[derive(Serialize)]
struct ListRow {
    version: String,
    status: String,
    mode: String,
    kind: String,
    source: String,
    trained_on: i64,
    auc: Option<f64>,
    ece: Option<f64>,
    created_at: String,
}

fn list(global: &GlobalArgs) -> Result<()> {
    let store = open_store(global)?;
    let rows: Vec<ListRow> = store
        .models()?
        .into_iter()
        .map(|m| {
            let metrics: serde_json::Value = serde_json::from_str(&m.metrics).unwrap_or_default();
            ListRow {
                version: m.version,
                status: m.status,
                mode: m.mode,
                kind: m.kind,
                source: m.source,
                trained_on: m.training_rows,
                auc: metrics
                    .get("auc")
                    .and_then(serde_json::Value::as_f64)
                    .map(round3),
                ece: metrics
                    .get("ece")
                    .and_then(serde_json::Value::as_f64)
                    .map(round3),
                created_at: m.created_at.format("%Y-%m-%d %H:%M").to_string(),
            }
        })
        .collect();
    output::print_rows(&rows, global.format)
}

fn show(global: &GlobalArgs, version: &str) -> Result<()> {
    let store = open_store(global)?;
    let record = store.model(version)?.ok_or_else(|| {
        user_error(
            format!("no model `{version}`"),
            Some("`coco model list` shows the registered models"),
        )
    })?;
    let features: Vec<String> = serde_json::from_str(&record.features).unwrap_or_default();
    let metrics: serde_json::Value =
        serde_json::from_str(&record.summary.metrics).unwrap_or_default();
    let shown = serde_json::json!({
        "version": record.summary.version,
        "status": record.summary.status,
        "mode": record.summary.mode,
        "kind": record.summary.kind,
        "source": record.summary.source,
        "horizon_days": record.summary.horizon_days,
        "train_from": record.summary.train_from,
        "train_to": record.summary.train_to,
        "test_from": record.summary.test_from,
        "test_to": record.summary.test_to,
        "training_rows": record.summary.training_rows,
        "features": features.join(", "),
        "metrics": metrics,
        "config_hash": record.summary.config_hash,
        "created_at": record.summary.created_at,
        "promoted_at": record.summary.promoted_at,
    });
    output::print_object(&shown, global.format)
}

fn score(global: &GlobalArgs, args: &ScoreArgs) -> Result<()> {
    let config = metrics::load_config(global)?;
    let store = open_store(global)?;
    let scored = scoring::score_accounts(
        &store,
        &config,
        args.as_of.unwrap_or_else(today),
        args.model.as_deref(),
    )?;
    eprintln!(
        "scored {} accounts as of {} with {}",
        scored.accounts, scored.as_of, scored.model_version
    );
    #[derive(Serialize)]
    struct TierRow {
        tier: String,
        accounts: usize,
    }
    let rows: Vec<TierRow> = scored
        .tiers
        .into_iter()
        .map(|(tier, accounts)| TierRow { tier, accounts })
        .collect();
    output::print_rows(&rows, global.format)
}

#[derive(Serialize)]
struct RiskRow {
    account_id: String,
    probability: f64,
    low: f64,
    high: f64,
    tier: String,
    top_driver: String,
}

fn risk(global: &GlobalArgs, args: &RiskArgs) -> Result<()> {
    let store = open_store(global)?;
    let config = metrics::load_config(global)?;
    let as_of = args.as_of.unwrap_or_else(today);
    let Some((model, predictions)) =
        scoring::stored_predictions(&store, Some(&config), as_of, args.account.as_deref())?
    else {
        return Err(user_error(
            format!("no stored churn predictions on or before {as_of}"),
            Some("train a model (`coco model train`) and score (`coco model score`)"),
        ));
    };
    if let Some(account) = &args.account {
        let prediction = predictions
            .first()
            .ok_or_else(|| user_error(format!("no prediction for `{account}`"), None))?;
        if global.format == Format::Json {
            println!("{}", serde_json::to_string_pretty(prediction)?);
            return Ok(());
        }
        println!(
            "{}: churn probability {:.0}% (90% interval {:.0}–{:.0}%), tier {}, as of {} ({})",
            prediction.account_id,
            prediction.probability * 100.0,
            prediction.low * 100.0,
            prediction.high * 100.0,
            prediction.tier,
            prediction.as_of,
            model.version
        );
        for driver in &prediction.explanation.up {
            println!("  ↑ {} ({:+.2})", driver.sentence, driver.contribution);
        }
        for driver in &prediction.explanation.down {
            println!("  ↓ {} ({:+.2})", driver.sentence, driver.contribution);
        }
        return Ok(());
    }
    let rows: Vec<RiskRow> = predictions
        .into_iter()
        .filter(|p| args.tier.as_deref().is_none_or(|t| p.tier == t))
        .take(args.limit)
        .map(|p| RiskRow {
            account_id: p.account_id,
            probability: round3(p.probability),
            low: round3(p.low),
            high: round3(p.high),
            tier: p.tier,
            top_driver: p
                .explanation
                .up
                .first()
                .map(|d| d.sentence.clone())
                .unwrap_or_default(),
        })
        .collect();
    output::print_rows(&rows, global.format)
}

fn predict(global: &GlobalArgs, args: &PredictArgs) -> Result<()> {
    let store = open_store(global)?;
    let (model, rows) = churn::predict_table(
        &store,
        args.model.as_deref(),
        &args.table,
        args.id.as_deref(),
    )?;
    eprintln!("scored {} rows with {}", rows.len(), model.version);
    output::print_rows(&rows, global.format)
}
