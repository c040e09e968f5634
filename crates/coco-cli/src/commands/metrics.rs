//! `coco score`, `coco metrics …`, `coco health list`: snapshots and health.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use coco_engine::portfolio::SnapshotPair;
use coco_engine::{Config, ScoreRun};
use coco_store::snapshots::{HealthListFilter, HealthSort};
use serde::Serialize;

use crate::GlobalArgs;
use crate::commands::{open_store, today, user_error};
use crate::output::{self, Format};

#[derive(Args)]
pub struct ScoreArgs {
    /// Compute as of this date (default today); only data dated up to it is used.
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Subcommand)]
pub enum MetricsCommand {
    /// The metric catalogue in effect: name, category, unit, direction, kind.
    #[command(after_help = "Example:\n  coco metrics list --format json")]
    List,
    /// One metric: its definition and the SQL that computes it.
    #[command(
        after_help = "Example:\n  coco metrics explain seat_utilisation_30d --as-of 2026-10-31"
    )]
    Explain {
        name: String,
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Compute and store a snapshot (metrics, health, cohorts) as of a date.
    #[command(after_help = "Example:\n  coco metrics compute --as-of 2026-10-31")]
    Compute(ScoreArgs),
    /// Fill history: a snapshot every N days between two dates.
    #[command(
        after_help = "Example:\n  coco metrics backfill --from 2026-01-05 --to 2026-11-23 --every 7d"
    )]
    Backfill(BackfillArgs),
    /// Stored snapshots with the catalogue version that produced them.
    Snapshots,
}

#[derive(Args)]
pub struct BackfillArgs {
    #[arg(long)]
    pub from: NaiveDate,
    /// Last date (default today).
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Step, in days (`7d` or `7`).
    #[arg(long, default_value = "7d", value_parser = parse_days)]
    pub every: u32,
}

pub fn parse_days(text: &str) -> Result<u32, String> {
    let digits = text.strip_suffix('d').unwrap_or(text);
    digits
        .parse::<u32>()
        .ok()
        .filter(|days| *days > 0)
        .ok_or_else(|| format!("`{text}` is not a number of days like `7d`"))
}

#[derive(Subcommand)]
pub enum HealthCommand {
    /// Accounts by health, with the change since an earlier snapshot.
    #[command(
        after_help = "Examples:\n  coco health list --color red --segment enterprise --sort change\n  coco health list --csm csm_004 --limit 20"
    )]
    List(HealthListArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SortKey {
    Score,
    Change,
    Arr,
    Renewal,
    Account,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ColourArg {
    Green,
    Yellow,
    Red,
    Unknown,
}

#[derive(Args)]
pub struct HealthListArgs {
    #[arg(long, alias = "colour", value_enum)]
    pub color: Option<ColourArg>,
    #[arg(long)]
    pub segment: Option<String>,
    /// Only this CSM's book.
    #[arg(long)]
    pub csm: Option<String>,
    #[arg(long)]
    pub scorecard: Option<String>,
    #[arg(long, value_enum, default_value = "score")]
    pub sort: SortKey,
    /// The snapshot on or before this date (default today).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Compare with the snapshot this many days earlier.
    #[arg(long, default_value = "7d", value_parser = parse_days)]
    pub compare: u32,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
}

pub fn load_config(global: &GlobalArgs) -> Result<Config> {
    let dir = global
        .config_dir
        .clone()
        .unwrap_or_else(|| global.data_dir.join("config"));
    Ok(Config::load(Some(&dir))?)
}

fn print_run(run: &ScoreRun, format: Format) -> Result<()> {
    if format != Format::Table {
        return output::print_object(run, format);
    }
    if run.snapshot.accounts == 0 {
        println!(
            "no customers as of {}: no account has a contract valid on that date. Load accounts and contracts first (`coco ingest --dir …`, or `coco quickstart` for the demo).",
            run.snapshot.as_of
        );
        return Ok(());
    }
    let colours: Vec<String> = ["green", "yellow", "red", "unknown"]
        .iter()
        .filter_map(|c| run.colours.get(*c).map(|n| format!("{n} {c}")))
        .collect();
    println!(
        "scored {} accounts as of {} in {:.1}s: {}{}",
        run.snapshot.accounts,
        run.snapshot.as_of,
        run.snapshot.seconds,
        colours.join(", "),
        run.mean_score
            .map(|m| format!(" (mean score {m:.1})"))
            .unwrap_or_default()
    );
    println!(
        "snapshot {} · {} metrics · catalogue {} ({})",
        run.snapshot.snapshot_id,
        run.snapshot.metrics,
        run.snapshot.catalogue_version,
        run.snapshot.catalogue_fingerprint
    );
    Ok(())
}

pub fn score(global: &GlobalArgs, args: &ScoreArgs) -> Result<()> {
    let config = load_config(global)?;
    let store = open_store(global)?;
    let run = coco_engine::score_as_of(&store, &config, args.as_of.unwrap_or_else(today))?;
    print_run(&run, global.format)?;
    if global.format == Format::Table && run.snapshot.accounts > 0 {
        println!("next: `coco health list --color red` · `coco account show <id>`");
    }
    Ok(())
}

#[derive(Serialize)]
struct MetricListRow<'a> {
    name: &'a str,
    category: &'a str,
    unit: &'a str,
    direction: &'a str,
    kind: String,
    description: &'a str,
}

pub fn run(global: &GlobalArgs, command: &MetricsCommand) -> Result<()> {
    match command {
        MetricsCommand::List => {
            let config = load_config(global)?;
            let rows: Vec<MetricListRow> = config
                .catalogue
                .metrics
                .iter()
                .map(|m| MetricListRow {
                    name: &m.name,
                    category: m.category.as_str(),
                    unit: &m.unit,
                    direction: m.direction.as_str(),
                    kind: serde_json::to_value(&m.kind)
                        .ok()
                        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
                        .unwrap_or_default(),
                    description: &m.description,
                })
                .collect();
            if global.format == Format::Table {
                println!(
                    "catalogue {} ({}) from {}",
                    config.catalogue.version,
                    config.catalogue.fingerprint(),
                    config.catalogue_origin
                );
            }
            output::print_rows(&rows, global.format)
        }
        MetricsCommand::Explain { name, as_of } => {
            let config = load_config(global)?;
            let Some(subset) = config.catalogue.subset_for(name) else {
                return Err(user_error(
                    format!("no metric named `{name}`"),
                    Some("`coco metrics list` shows the catalogue"),
                ));
            };
            let as_of = as_of.unwrap_or_else(today);
            let compiled = coco_metrics::compile(&subset, as_of)?;
            let Some(def) = config.catalogue.metric(name) else {
                return Err(user_error(format!("no metric named `{name}`"), None));
            };
            if global.format != Format::Table {
                return output::print_object(
                    &serde_json::json!({ "metric": def, "as_of": as_of, "sql": compiled.sql }),
                    global.format,
                );
            }
            println!("{} — {}", def.name, def.description);
            println!(
                "unit: {} · category: {} · direction: {}",
                def.unit,
                def.category.as_str(),
                def.direction.as_str()
            );
            println!(
                "definition: {}",
                serde_json::to_string(&def.kind).unwrap_or_default()
            );
            println!("\nSQL as of {as_of} (one row per customer at that date):\n");
            println!("{}", compiled.sql);
            Ok(())
        }
        MetricsCommand::Compute(args) => score(global, args),
        MetricsCommand::Backfill(args) => {
            let config = load_config(global)?;
            let store = open_store(global)?;
            let to = args.to.unwrap_or_else(today);
            let started = std::time::Instant::now();
            let table = global.format == Format::Table;
            let runs =
                coco_engine::backfill(&store, &config, args.from, to, args.every, &mut |run| {
                    if table {
                        eprintln!(
                            "  {} · {} accounts · {:.1}s",
                            run.snapshot.as_of, run.snapshot.accounts, run.snapshot.seconds
                        );
                    }
                })?;
            if table {
                println!(
                    "backfilled {} snapshots from {} to {} every {} days in {:.1}s",
                    runs.len(),
                    args.from,
                    to,
                    args.every,
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            } else {
                let snapshots: Vec<_> = runs.iter().map(|r| &r.snapshot).collect();
                output::print_rows(&snapshots, global.format)
            }
        }
        MetricsCommand::Snapshots => {
            let store = open_store(global)?;
            output::print_rows(&store.list_snapshots()?, global.format)
        }
    }
}

pub fn health(global: &GlobalArgs, command: &HealthCommand) -> Result<()> {
    let HealthCommand::List(args) = command;
    let config = load_config(global)?;
    let store = open_store(global)?;
    let as_of = args.as_of.unwrap_or_else(today);
    let SnapshotPair {
        current: snapshot,
        previous,
    } = coco_engine::portfolio::snapshot_pair(&store, &config, as_of, args.compare)?;
    let filter = HealthListFilter {
        colour: args.color.map(|c| {
            match c {
                ColourArg::Green => "green",
                ColourArg::Yellow => "yellow",
                ColourArg::Red => "red",
                ColourArg::Unknown => "unknown",
            }
            .to_string()
        }),
        segment: args.segment.clone(),
        owner_csm_id: args.csm.clone(),
        scorecard: args.scorecard.clone(),
        sort: match args.sort {
            SortKey::Score => HealthSort::Score,
            SortKey::Change => HealthSort::Change,
            SortKey::Arr => HealthSort::Arr,
            SortKey::Renewal => HealthSort::Renewal,
            SortKey::Account => HealthSort::Account,
        },
        limit: Some(args.limit),
        offset: args.offset,
        ..HealthListFilter::default()
    };
    let rows = store.health_list(
        snapshot.snapshot_id,
        previous.as_ref().map(|p| p.snapshot_id),
        &filter,
    )?;
    if global.format == Format::Table {
        println!(
            "health as of {}{}",
            snapshot.as_of,
            previous
                .as_ref()
                .map(|p| format!(", change since {}", p.as_of))
                .unwrap_or_else(|| " (no earlier snapshot to compare with)".into())
        );
    }
    output::print_rows(&rows, global.format)
}
