//! `coco workload report|rebalance`: effort-weighted books per CSM against capacity,
//! capacity planning, and a rebalancing proposal.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::GlobalArgs;
use crate::commands::{metrics, open_store, today};
use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum WorkloadCommand {
    /// Effort per CSM (hours a month) against capacity, the spread, and hires needed.
    #[command(
        after_help = "Examples:\n  coco workload report\n  coco workload report --format csv"
    )]
    Report(WorkloadArgs),
    /// A proposal that evens out loads with few moves, within region, team and skills.
    #[command(after_help = "Example:\n  coco workload rebalance --limit 50")]
    Rebalance(WorkloadArgs),
}

#[derive(Args)]
pub struct WorkloadArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    #[arg(long, default_value_t = 40)]
    pub limit: usize,
}

#[derive(Serialize)]
struct LoadRow {
    csm_id: String,
    name: String,
    team: String,
    accounts: usize,
    hours: String,
    load: String,
    count_load: String,
    status: String,
    renewals: usize,
    onboarding: usize,
}

#[derive(Serialize)]
struct MoveRow {
    account_id: String,
    account: String,
    from: String,
    to: String,
    hours: String,
    reason: String,
}

fn pct(value: f64) -> String {
    format!("{:.0}%", 100.0 * value)
}

pub fn run(global: &GlobalArgs, command: &WorkloadCommand) -> Result<()> {
    let config = metrics::load_config(global)?;
    let store = open_store(global)?;
    let args = match command {
        WorkloadCommand::Report(a) | WorkloadCommand::Rebalance(a) => a,
    };
    let base =
        coco_engine::lifecycle::load_base(&store, &config, args.as_of.unwrap_or_else(today))?;
    let book = coco_engine::lifecycle::stage_book(&base, &config);
    // Complexity comes from the tiering model; its expansion factor does not matter here.
    let segments = coco_engine::lifecycle::segments(&base, &config, None);
    let report = coco_engine::lifecycle::workload(&base, &config, &book, &segments);
    match command {
        WorkloadCommand::Report(_) => {
            if global.format == Format::Json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "as_of": report.as_of,
                        "csms": report.csms,
                        "spread": report.spread,
                        "unassigned_accounts": report.unassigned_accounts,
                        "unassigned_hours": report.unassigned_hours,
                        "capacity_plan": report.plan,
                    }))?
                );
                return Ok(());
            }
            if global.format == Format::Table {
                let s = &report.spread;
                println!(
                    "as of {}: {} active CSMs, mean load {} (σ {}, {} to {}), {} overloaded",
                    report.as_of,
                    s.csms,
                    pct(s.mean_load),
                    pct(s.std_dev),
                    pct(s.min_load),
                    pct(s.max_load),
                    s.overloaded
                );
                if report.unassigned_accounts > 0 {
                    println!(
                        "  {} accounts ({:.0} h/month) have no active owner (coco workload rebalance places them)",
                        report.unassigned_accounts, report.unassigned_hours
                    );
                }
                let p = &report.plan;
                println!(
                    "  capacity: {:.0} of {:.0} h/month ({}); {:.1} CSMs needed now, {:.1} in {} months → hires needed: {}",
                    p.total_effort_hours,
                    p.team_capacity_hours,
                    pct(p.team_load),
                    p.csms_needed_now,
                    p.csms_needed_at_horizon,
                    p.horizon_months,
                    p.hires_needed
                );
                println!("  assuming {}", p.assumption);
            }
            let mut loads = report.csms.clone();
            loads.sort_by(|a, b| b.load.total_cmp(&a.load).then(a.csm_id.cmp(&b.csm_id)));
            let rows: Vec<LoadRow> = loads
                .iter()
                .take(if global.format == Format::Csv {
                    usize::MAX
                } else {
                    args.limit
                })
                .map(|c| LoadRow {
                    csm_id: c.csm_id.clone(),
                    name: c.name.clone(),
                    team: c.team.clone().unwrap_or_default(),
                    accounts: c.accounts,
                    hours: format!("{:.0}", c.effort_hours),
                    load: pct(c.load),
                    count_load: c.count_load.map_or("—".into(), pct),
                    status: output::enum_name(&c.status),
                    renewals: c.renewals,
                    onboarding: c.onboarding,
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
        WorkloadCommand::Rebalance(_) => {
            let proposal = coco_engine::lifecycle::rebalance(&base, &config, &book, &report);
            if global.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&proposal)?);
                return Ok(());
            }
            if global.format == Format::Table {
                let (b, f, a) = (&proposal.before, &proposal.after_forced, &proposal.after);
                println!(
                    "load spread σ {} → {} (range {} → {}, overloaded {} → {}) with {} moves ({} forced, {} balancing, {} swaps); {} accounts kept in place",
                    pct(b.std_dev),
                    pct(a.std_dev),
                    pct(b.range),
                    pct(a.range),
                    b.overloaded,
                    a.overloaded,
                    proposal.moves.len(),
                    proposal.forced_moves,
                    proposal.balance_moves,
                    proposal.swaps,
                    proposal.kept
                );
                if proposal.forced_moves > 0 {
                    println!(
                        "  after placing the accounts of departed owners: σ {} (the search starts there)",
                        pct(f.std_dev)
                    );
                }
                if !proposal.unplaceable.is_empty() {
                    println!(
                        "  {} accounts need an owner but no eligible CSM: {}",
                        proposal.unplaceable.len(),
                        proposal.unplaceable.join(", ")
                    );
                }
            }
            let rows: Vec<MoveRow> = proposal
                .moves
                .iter()
                .take(if global.format == Format::Csv {
                    usize::MAX
                } else {
                    args.limit
                })
                .map(|m| MoveRow {
                    account_id: m.account_id.clone(),
                    account: m.account_name.clone(),
                    from: m.from_csm_id.clone().unwrap_or_else(|| "—".into()),
                    to: m.to_csm_id.clone(),
                    hours: format!("{:.1}", m.hours),
                    reason: m.reason.clone(),
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
    }
}
