//! `coco adoption heatmap|gaps|causes|plan|ttv|report|campaign`: features used against
//! entitled, what to enable next and why adoption is low, 90-day plans, time to value,
//! the monthly report and campaigns.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use coco_insights::adoption::campaign::CampaignRule;
use coco_insights::adoption::plan::to_markdown;
use serde::Serialize;

use crate::GlobalArgs;
use crate::commands::{metrics, open_store, today, user_error};
use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum AdoptionCommand {
    /// Share of accounts with access using each feature, by segment (or another attribute).
    #[command(
        after_help = "Examples:\n  coco adoption heatmap\n  coco adoption heatmap --by plan_tier --format csv > heatmap.csv\n  coco adoption heatmap --svg heatmap.svg"
    )]
    Heatmap(HeatmapArgs),
    /// Unused entitled features by value: one account's, or the accounts at low adoption.
    #[command(
        after_help = "Examples:\n  coco adoption gaps acc_00042\n  coco adoption gaps --limit 50"
    )]
    Gaps(GapsArgs),
    /// Low-adoption accounts grouped by root cause.
    Causes(AsOfArgs),
    /// The 90-day enablement plan of an account, in Markdown.
    #[command(after_help = "Example:\n  coco adoption plan acc_00042")]
    Plan(AccountArgs),
    /// Time to first value; predicted for onboarding accounts, and who needs acceleration.
    #[command(after_help = "Example:\n  coco adoption ttv --needs-acceleration")]
    Ttv(TtvArgs),
    /// The monthly adoption report: levels, improved/declined, attention, systemic gaps.
    #[command(after_help = "Example:\n  coco adoption report --attention 20")]
    Report(ReportArgs),
    /// Adoption campaigns: create, list, report (members against a holdout).
    #[command(subcommand)]
    Campaign(CampaignCommand),
}

#[derive(Args)]
pub struct AsOfArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Args)]
pub struct HeatmapArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Attribute of the columns: segment, plan_tier, industry, region, coverage_model,
    /// owner_csm_id.
    #[arg(long, default_value = "segment")]
    pub by: String,
    /// Also write the heatmap as an SVG chart to this file.
    #[arg(long)]
    pub svg: Option<std::path::PathBuf>,
}

#[derive(Args)]
pub struct GapsArgs {
    pub account: Option<String>,
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
}

#[derive(Args)]
pub struct AccountArgs {
    pub account: String,
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Args)]
pub struct TtvArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Only onboarding accounts that need acceleration.
    #[arg(long)]
    pub needs_acceleration: bool,
}

#[derive(Args)]
pub struct ReportArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    #[arg(long, default_value_t = 20)]
    pub attention: usize,
}

#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Select the accounts with access to FEATURE that do not use it (and match --where),
    /// and split them into members and a holdout.
    #[command(
        after_help = "Example:\n  coco adoption campaign create reports-q1 --feature reports.create --where segment=mid_market --holdout 0.2"
    )]
    Create(CreateArgs),
    List,
    /// Activation of the feature among members against the holdout since the start.
    Report(CampaignReportArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    pub name: String,
    #[arg(long)]
    pub feature: String,
    /// ATTRIBUTE=VALUE[,VALUE…]; repeat for several attributes (all must match).
    #[arg(long = "where")]
    pub rules: Vec<String>,
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// Start date (default today): members are selected as of it.
    #[arg(long)]
    pub start: Option<NaiveDate>,
}

#[derive(Args)]
pub struct CampaignReportArgs {
    pub name: String,
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Serialize)]
struct HeatmapRow {
    feature: String,
    #[serde(flatten)]
    shares: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct GapRow {
    account_id: String,
    account: String,
    level: String,
    breadth: String,
    arr: Option<f64>,
    top_gap: Option<String>,
    value: Option<String>,
    cause: Option<String>,
}

#[derive(Serialize)]
struct AccountGapRow {
    feature: String,
    module: String,
    value: String,
    peer_share: Option<String>,
    retention: Option<String>,
    why: String,
}

fn pct(value: Option<f64>) -> String {
    value.map_or("—".to_string(), |v| format!("{:.0}%", v * 100.0))
}

pub fn run(global: &GlobalArgs, command: &AdoptionCommand) -> Result<()> {
    let config = metrics::load_config(global)?;
    let store = open_store(global)?;
    match command {
        AdoptionCommand::Heatmap(args) => {
            let book =
                coco_engine::adoption::book(&store, &config, args.as_of.unwrap_or_else(today))?;
            let heatmap = book.heatmap(&args.by)?;
            if let Some(path) = &args.svg {
                std::fs::write(path, coco_engine::adoption::heatmap_svg_document(&heatmap))
                    .map_err(|e| {
                        user_error(format!("cannot write {}: {e}", path.display()), None)
                    })?;
                eprintln!("wrote {}", path.display());
            }
            match global.format {
                Format::Csv => {
                    print!("{}", heatmap.to_csv());
                    Ok(())
                }
                Format::Json => {
                    println!("{}", serde_json::to_string_pretty(&heatmap)?);
                    Ok(())
                }
                Format::Table => {
                    eprintln!(
                        "share of accounts with access using each feature in the last {} days, by {} (as of {})",
                        config.adoption.window_days, heatmap.group_by, heatmap.as_of
                    );
                    let rows: Vec<HeatmapRow> = heatmap
                        .feature_names
                        .iter()
                        .enumerate()
                        .map(|(f, name)| HeatmapRow {
                            feature: name.clone(),
                            shares: heatmap
                                .groups
                                .iter()
                                .enumerate()
                                .map(|(g, group)| (group.clone(), pct(heatmap.share[f][g])))
                                .collect(),
                        })
                        .collect();
                    output::print_rows(&rows, global.format)
                }
            }
        }
        AdoptionCommand::Gaps(args) => {
            let as_of = args.as_of.unwrap_or_else(today);
            if let Some(account) = &args.account {
                let view =
                    coco_engine::adoption::book(&store, &config, as_of)?.view(&config, account)?;
                if global.format == Format::Json {
                    println!("{}", serde_json::to_string_pretty(&view.adoption)?);
                    return Ok(());
                }
                let p = &view.adoption.profile;
                eprintln!(
                    "{} ({}): {} of {} entitled features used in {} days ({}), {} of {} core — {} adoption",
                    p.account_name,
                    p.account_id,
                    p.used,
                    p.entitled,
                    p.window_days,
                    pct(p.breadth),
                    p.core_used,
                    p.core_entitled,
                    p.level.as_str()
                );
                if let Some(cause) = &view.adoption.cause {
                    eprintln!(
                        "root cause: {} — {}",
                        cause.label,
                        cause.evidence.join("; ")
                    );
                }
                let rows: Vec<AccountGapRow> = view
                    .adoption
                    .gaps
                    .iter()
                    .take(args.limit)
                    .map(|g| AccountGapRow {
                        feature: g.name.clone(),
                        module: g.module.clone(),
                        value: format!("{:.2}", g.value),
                        peer_share: g.peer_share.map(|s| format!("{:.0}%", s * 100.0)),
                        retention: g
                            .retention
                            .as_ref()
                            .filter(|_| g.retention_significant)
                            .map(|l| {
                                format!(
                                    "{} vs {} churn (p={:.3})",
                                    pct(l.churn_with),
                                    pct(l.churn_without),
                                    l.p_value.unwrap_or(1.0)
                                )
                            }),
                        why: g.reason.clone(),
                    })
                    .collect();
                return output::print_rows(&rows, global.format);
            }
            let book = coco_engine::adoption::book(&store, &config, as_of)?;
            let all = &book.accounts;
            let mut low: Vec<_> = all
                .iter()
                .filter(|a| a.profile.level == coco_insights::adoption::Level::Low)
                .collect();
            low.sort_by(|a, b| {
                b.profile
                    .arr
                    .unwrap_or(0.0)
                    .total_cmp(&a.profile.arr.unwrap_or(0.0))
            });
            eprintln!(
                "{} of {} accounts at low adoption; highest ARR first",
                low.len(),
                all.len()
            );
            let rows: Vec<GapRow> = low
                .iter()
                .take(args.limit)
                .map(|a| GapRow {
                    account_id: a.profile.account_id.clone(),
                    account: a.profile.account_name.clone(),
                    level: a.profile.level.as_str().to_string(),
                    breadth: pct(a.profile.breadth),
                    arr: a.profile.arr,
                    top_gap: a.gaps.first().map(|g| g.name.clone()),
                    value: a.gaps.first().map(|g| format!("{:.2}", g.value)),
                    cause: a.cause.as_ref().map(|c| c.label.clone()),
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
        AdoptionCommand::Causes(args) => {
            let book =
                coco_engine::adoption::book(&store, &config, args.as_of.unwrap_or_else(today))?;
            #[derive(Serialize)]
            struct CauseRow {
                cause: String,
                accounts: usize,
                arr: f64,
                response: String,
                largest: String,
            }
            let rows: Vec<CauseRow> = book
                .cause_groups()
                .into_iter()
                .map(|g| CauseRow {
                    cause: g.label,
                    accounts: g.accounts,
                    arr: g.arr.round(),
                    response: g.response,
                    largest: g
                        .account_ids
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
        AdoptionCommand::Plan(args) => {
            let view =
                coco_engine::adoption::book(&store, &config, args.as_of.unwrap_or_else(today))?
                    .view(&config, &args.account)?;
            let Some(plan) = view.plan else {
                return Err(user_error(
                    format!(
                        "{} uses every feature it has access to: no plan to make",
                        args.account
                    ),
                    None,
                ));
            };
            if global.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                print!("{}", to_markdown(&plan));
            }
            Ok(())
        }
        AdoptionCommand::Ttv(args) => {
            let rows =
                coco_engine::adoption::book(&store, &config, args.as_of.unwrap_or_else(today))?
                    .time_to_value;
            #[derive(Serialize)]
            struct TtvRow {
                account_id: String,
                account: String,
                segment: Option<String>,
                tenure_days: Option<i64>,
                first_value_days: Option<i64>,
                predicted_days: Option<f64>,
                needs_acceleration: bool,
                reason: String,
            }
            let selected: Vec<TtvRow> = rows
                .into_iter()
                .filter(|r| !args.needs_acceleration || r.needs_acceleration)
                .filter(|r| !args.needs_acceleration || r.onboarding)
                .map(|r| TtvRow {
                    account_id: r.account_id,
                    account: r.account_name,
                    segment: r.segment,
                    tenure_days: r.tenure_days,
                    first_value_days: r.first_value_days,
                    predicted_days: r.predicted_days.map(f64::round),
                    needs_acceleration: r.needs_acceleration,
                    reason: r.reason,
                })
                .collect();
            output::print_rows(&selected, global.format)
        }
        AdoptionCommand::Report(args) => {
            let book =
                coco_engine::adoption::book(&store, &config, args.as_of.unwrap_or_else(today))?;
            let report = coco_engine::adoption::report(&store, &config, &book, args.attention)?;
            if global.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(());
            }
            println!(
                "# Adoption report — {}\n\n{}\n",
                report.as_of, report.summary
            );
            eprintln!("accounts needing attention:");
            output::print_rows(&report.attention, global.format)?;
            eprintln!("systemic patterns:");
            output::print_rows(&report.systemic, global.format)
        }
        AdoptionCommand::Campaign(command) => campaign(global, &config, &store, command),
    }
}

fn campaign(
    global: &GlobalArgs,
    config: &coco_engine::Config,
    store: &coco_store::Store,
    command: &CampaignCommand,
) -> Result<()> {
    match command {
        CampaignCommand::Create(args) => {
            let mut when: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for rule in &args.rules {
                let Some((name, values)) = rule.split_once('=') else {
                    return Err(user_error(
                        format!("--where `{rule}` is not ATTRIBUTE=VALUE"),
                        Some("e.g. --where segment=mid_market --where plan_tier=professional"),
                    ));
                };
                when.entry(name.trim().to_string())
                    .or_default()
                    .extend(values.split(',').map(|v| v.trim().to_string()));
            }
            let rule = CampaignRule {
                feature_key: args.feature.clone(),
                when,
                holdout_share: args.holdout,
            };
            let row = coco_engine::adoption::create_campaign(
                store,
                config,
                &args.name,
                &rule,
                args.start.unwrap_or_else(today),
                std::env::var("USER").ok(),
            )?;
            eprintln!(
                "campaign {} on {} from {}: {} members, {} in the holdout",
                row.name, row.feature_key, row.start_date, row.members, row.holdout
            );
            Ok(())
        }
        CampaignCommand::List => output::print_rows(&store.campaigns()?, global.format),
        CampaignCommand::Report(args) => {
            let report = coco_engine::adoption::campaign_report(
                store,
                &args.name,
                args.as_of.unwrap_or_else(today),
            )?;
            if global.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{}", report.summary);
            }
            Ok(())
        }
    }
}
