use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use coco_store::queries::{AccountFilter, PortfolioSummary};

use crate::GlobalArgs;
use crate::commands::{open_store, today};
use crate::output::{self, Format, format_number};

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Accounts with owner, ARR and next renewal, largest first.
    #[command(after_help = "Example:\n  coco accounts list --segment enterprise --limit 20")]
    List(ListArgs),
    /// One account: profile, contracts, contacts, health with drivers and evidence, and where the row came from.
    #[command(after_help = "Example:\n  coco accounts show acc_00042")]
    Show {
        account_id: String,
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Explain the score change since the snapshot this many days earlier.
        #[arg(long, default_value = "90d", value_parser = crate::commands::metrics::parse_days)]
        compare: u32,
    },
}

#[derive(Args)]
pub struct ListArgs {
    /// Only accounts owned by this CSM id.
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub segment: Option<String>,
    #[arg(long)]
    pub limit: Option<usize>,
    /// Contracts active on this date count towards ARR (default today).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Args)]
pub struct SummaryArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

pub fn run(global: &GlobalArgs, command: &AccountsCommand) -> Result<()> {
    let store = open_store(global)?;
    match command {
        AccountsCommand::List(args) => {
            let rows = store.list_accounts(
                &AccountFilter {
                    owner_csm_id: args.owner.clone(),
                    segment: args.segment.clone(),
                    limit: args.limit,
                },
                args.as_of.unwrap_or_else(today),
            )?;
            output::print_rows(&rows, global.format)
        }
        AccountsCommand::Show {
            account_id,
            as_of,
            compare,
        } => {
            let as_of = as_of.unwrap_or_else(today);
            let detail = store.account_detail(account_id, as_of)?;
            let config = crate::commands::metrics::load_config(global)?;
            let health =
                coco_engine::account::account_view(&store, &config, account_id, as_of, *compare);
            if global.format != Format::Table {
                let health = match health {
                    Ok(view) => serde_json::to_value(view)?,
                    Err(e) => serde_json::json!({ "unavailable": e.to_string() }),
                };
                return output::print_object(
                    &serde_json::json!({ "account": detail, "health": health }),
                    global.format,
                );
            }
            let a = &detail.account;
            println!("{} — {}", a.account_id, a.name);
            println!(
                "  segment {} · region {} · industry {} · {} employees · coverage {}",
                a.segment.as_deref().unwrap_or("-"),
                a.region.as_deref().unwrap_or("-"),
                detail.industry.as_deref().unwrap_or("-"),
                detail
                    .employee_count
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "-".into()),
                a.coverage_model.as_deref().unwrap_or("-"),
            );
            println!(
                "  owner {} · ARR {} · next renewal {} · customer since {}",
                a.owner_name
                    .as_deref()
                    .or(a.owner_csm_id.as_deref())
                    .unwrap_or("-"),
                format_number(a.arr),
                a.next_renewal
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
                detail
                    .customer_since
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
            if let Some(custom) = &detail.custom_attributes {
                println!("  custom attributes: {custom}");
            }
            println!(
                "  source: {} line {} (load {}, {})",
                detail.provenance.source,
                detail.provenance.line,
                detail.provenance.load_id,
                detail.provenance.loaded_at
            );
            println!("\nContracts");
            output::print_rows(&detail.contracts, Format::Table)?;
            println!("\nContacts");
            output::print_rows(&detail.contacts, Format::Table)?;
            match health {
                Ok(view) => crate::commands::health_view::print(&view),
                Err(e) => {
                    println!("\nHealth: {e}");
                    Ok(())
                }
            }
        }
    }
}

pub fn summary(global: &GlobalArgs, args: &SummaryArgs) -> Result<()> {
    let store = open_store(global)?;
    let summary = store.portfolio_summary(args.as_of.unwrap_or_else(today))?;
    print_summary(&summary, global.format)
}

pub fn print_summary(summary: &PortfolioSummary, format: Format) -> Result<()> {
    if format != Format::Table {
        return output::print_object(summary, format);
    }
    let percent = |v: Option<f64>| {
        v.map(|v| format!("{:.1}%", v * 100.0))
            .unwrap_or_else(|| "-".into())
    };
    println!("Portfolio as of {}", summary.as_of);
    println!(
        "  {} accounts ({} with an active contract) · ARR {}",
        summary.accounts,
        summary.active_accounts,
        format_number(summary.arr)
    );
    println!(
        "  trailing 12 months: gross renewal rate {} · net renewal rate {}",
        percent(summary.gross_renewal_rate_12m),
        percent(summary.net_renewal_rate_12m)
    );
    for window in &summary.renewals {
        println!(
            "  renewing within {:>3} days: {:>5} contracts, ARR {}",
            window.within_days,
            window.contracts,
            format_number(window.arr)
        );
    }
    if summary.open_quarantine > 0 {
        println!(
            "  {} rejected row(s) waiting in the quarantine (`coco quarantine summary`)",
            summary.open_quarantine
        );
    }
    println!("\nBy segment");
    output::print_rows(&summary.by_segment, Format::Table)?;
    println!("\nBy CSM");
    output::print_rows(&summary.by_csm, Format::Table)?;
    println!("\nRenewal outcomes, last 12 months");
    output::print_rows(&summary.renewal_outcomes_12m, Format::Table)
}
