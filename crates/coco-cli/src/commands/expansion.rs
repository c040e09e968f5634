//! `coco expansion list|show|pipeline|outcome|backtest|signals`: expansion
//! opportunities with their signals, timing, sizing and talking points; outcomes and
//! which signals preceded won expansions.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use coco_engine::expansion::{OutcomeReport, pipeline};
use coco_insights::expansion::talking::to_markdown;
use coco_insights::expansion::{Opportunity, OpportunityKind};
use serde::Serialize;

use crate::GlobalArgs;
use crate::commands::{metrics, open_store, today, user_error};
use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum ExpansionCommand {
    /// The prioritised opportunities: signals, timing light, uplift × win probability.
    #[command(
        after_help = "Examples:\n  coco expansion list\n  coco expansion list --type seats --light green --limit 50\n  coco expansion list --owner csm_004 --format csv"
    )]
    List(ListArgs),
    /// One opportunity (ACCOUNT:TYPE) as talking points in Markdown, or every
    /// opportunity of an account.
    #[command(
        after_help = "Examples:\n  coco expansion show acc_00042:seats\n  coco expansion show acc_00042            # all of the account's opportunities\n  coco expansion show acc_00042:seats --format json"
    )]
    Show(ShowArgs),
    /// The pipeline summed by type, outreach and light, against a target.
    #[command(after_help = "Example:\n  coco expansion pipeline --target 250000")]
    Pipeline(PipelineArgs),
    /// Record an opportunity's outcome: won, lost or no_decision.
    #[command(
        after_help = "Example:\n  coco expansion outcome acc_00042:seats won --on 2026-11-20 --arr 12000 --note \"40 seats\""
    )]
    Outcome(OutcomeArgs),
    /// Which signals preceded won expansions: runs the signals as of past snapshots and
    /// stores per-signal weights for the priority.
    #[command(after_help = "Example:\n  coco expansion backtest --points 4 --every-days 60")]
    Backtest(BacktestArgs),
    /// The stored per-signal precision, recall, lift and weight.
    Signals,
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// seats, tier or module.
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// green, yellow or red.
    #[arg(long)]
    pub light: Option<String>,
    /// The owning CSM's id.
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
}

#[derive(Args)]
pub struct ShowArgs {
    /// An opportunity id (ACCOUNT:seats, ACCOUNT:tier:TIER, ACCOUNT:module:MODULE) or an
    /// account id.
    pub id: String,
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Args)]
pub struct PipelineArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Expansion ARR target for the period, to review coverage against.
    #[arg(long)]
    pub target: Option<f64>,
}

#[derive(Args)]
pub struct OutcomeArgs {
    pub id: String,
    /// won, lost or no_decision.
    pub outcome: String,
    /// The decision date (default today).
    #[arg(long)]
    pub on: Option<NaiveDate>,
    /// ARR added (won).
    #[arg(long)]
    pub arr: Option<f64>,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Args)]
pub struct BacktestArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// How many past dates to test.
    #[arg(long, default_value_t = 4)]
    pub points: usize,
    #[arg(long, default_value_t = 60)]
    pub every_days: u32,
}

#[derive(Serialize)]
struct ListRow {
    rank: usize,
    id: String,
    account: String,
    kind: String,
    signals: String,
    light: String,
    outreach: String,
    uplift_arr: f64,
    win_probability: String,
    expected_arr: f64,
    priority: f64,
    renewal: Option<NaiveDate>,
}

fn kind_label(kind: &OpportunityKind) -> String {
    kind.slug()
}

fn list_row(rank: usize, o: &Opportunity) -> ListRow {
    ListRow {
        rank,
        id: o.id.clone(),
        account: o.account_name.clone(),
        kind: kind_label(&o.kind),
        signals: o
            .signals
            .iter()
            .map(|s| s.kind.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        light: o.timing.light.as_str().to_string(),
        outreach: o.timing.outreach.as_str().to_string(),
        uplift_arr: o.sizing.uplift_arr.round(),
        win_probability: format!("{:.0}%", o.sizing.win_probability * 100.0),
        expected_arr: o.sizing.expected_arr.round(),
        priority: o.priority.round(),
        renewal: o.renewal_date,
    }
}

pub fn run(global: &GlobalArgs, command: &ExpansionCommand) -> Result<()> {
    let config = metrics::load_config(global)?;
    let store = open_store(global)?;
    match command {
        ExpansionCommand::List(args) => {
            if let Some(kind) = &args.kind
                && !["seats", "tier", "module"].contains(&kind.as_str())
            {
                return Err(user_error(
                    format!("--type `{kind}` is not seats, tier or module"),
                    None,
                ));
            }
            let run = pipeline(&store, &config, args.as_of.unwrap_or_else(today), None)?;
            let selected: Vec<&Opportunity> = run
                .opportunities
                .iter()
                .filter(|o| args.kind.as_deref().is_none_or(|k| o.kind.type_name() == k))
                .filter(|o| {
                    args.light
                        .as_deref()
                        .is_none_or(|l| o.timing.light.as_str() == l)
                })
                .filter(|o| {
                    args.owner
                        .as_deref()
                        .is_none_or(|owner| o.owner_csm_id.as_deref() == Some(owner))
                })
                .take(args.limit)
                .collect();
            if global.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&selected)?);
                return Ok(());
            }
            eprintln!(
                "{} opportunities at {} accounts as of {} (expansion config {}); showing {}",
                run.summary.opportunities,
                run.summary.accounts,
                run.as_of,
                run.config_version,
                selected.len()
            );
            let rows: Vec<ListRow> = selected
                .iter()
                .enumerate()
                .map(|(i, o)| list_row(i + 1, o))
                .collect();
            output::print_rows(&rows, global.format)
        }
        ExpansionCommand::Show(args) => {
            let as_of = args.as_of.unwrap_or_else(today);
            let account = args.id.split(':').next().unwrap_or(&args.id);
            let found =
                coco_engine::expansion::account_opportunities(&store, &config, as_of, account)?;
            let chosen: Vec<&Opportunity> = if args.id.contains(':') {
                found.iter().filter(|o| o.id == args.id).collect()
            } else {
                found.iter().collect()
            };
            if chosen.is_empty() {
                let known = found.iter().map(|o| o.id.as_str()).collect::<Vec<_>>();
                return Err(user_error(
                    format!("no opportunity `{}` as of {as_of}", args.id),
                    Some(&if known.is_empty() {
                        format!(
                            "{account} has no expansion signal now; `coco expansion list` shows who has"
                        )
                    } else {
                        format!("{account} has: {}", known.join(", "))
                    }),
                ));
            }
            if global.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&chosen)?);
                return Ok(());
            }
            for (i, o) in chosen.iter().enumerate() {
                if i > 0 {
                    println!("\n---\n");
                }
                print!("{}", to_markdown(o));
            }
            Ok(())
        }
        ExpansionCommand::Pipeline(args) => {
            let run = pipeline(
                &store,
                &config,
                args.as_of.unwrap_or_else(today),
                args.target,
            )?;
            if global.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&run.summary)?);
                return Ok(());
            }
            let s = &run.summary;
            eprintln!(
                "pipeline as of {}: {} opportunities at {} accounts, uplift ${:.0}, expected ${:.0}{}",
                run.as_of,
                s.opportunities,
                s.accounts,
                s.uplift_arr,
                s.expected_arr,
                match (s.target_arr, s.coverage) {
                    (Some(t), Some(c)) => format!(", target ${t:.0}: {:.0}% covered", c * 100.0),
                    _ => String::new(),
                }
            );
            for (title, lines) in [
                ("by type", &s.by_type),
                ("by outreach", &s.by_outreach),
                ("by light", &s.by_light),
            ] {
                eprintln!("{title}:");
                output::print_rows(lines, global.format)?;
            }
            Ok(())
        }
        ExpansionCommand::Outcome(args) => {
            let recorded = coco_engine::expansion::record_outcome(
                &store,
                &config,
                OutcomeReport {
                    opportunity_id: args.id.clone(),
                    outcome: args.outcome.clone(),
                    decided_on: args.on.unwrap_or_else(today),
                    arr_added: args.arr,
                    note: args.note.clone(),
                    recorded_by: std::env::var("USER").ok(),
                },
            )?;
            eprintln!(
                "recorded {} for {} on {} (signals then: {})",
                recorded.outcome, recorded.opportunity_id, recorded.decided_on, recorded.signals
            );
            Ok(())
        }
        ExpansionCommand::Backtest(args) => {
            let result = coco_engine::expansion::backtest(
                &store,
                &config,
                args.as_of.unwrap_or_else(today),
                args.points,
                args.every_days,
            )?;
            if global.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&result)?);
                return Ok(());
            }
            eprintln!(
                "{} observations over {} date(s) ({}), {} followed by a won expansion (base rate {:.1}%)",
                result.observations,
                result.dates.len(),
                result
                    .dates
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                result.won,
                result.base_rate * 100.0
            );
            output::print_rows(&result.precision, global.format)
        }
        ExpansionCommand::Signals => output::print_rows(&store.signal_stats()?, global.format),
    }
}
