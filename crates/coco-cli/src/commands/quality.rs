use anyhow::Result;
use chrono::NaiveDate;
use clap::Args;
use coco_store::quality::QualityOptions;

use crate::GlobalArgs;
use crate::commands::{open_store, today};
use crate::output;

#[derive(Args)]
pub struct QualityArgs {
    /// Judge future dates and staleness against this date (default today).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// A source not refreshed for this many days is stale.
    #[arg(long, default_value_t = 7)]
    pub stale_days: i64,
    /// Also show informational findings (optional columns left empty, empty tables).
    #[arg(long)]
    pub all: bool,
}

pub fn run(global: &GlobalArgs, args: &QualityArgs) -> Result<()> {
    let store = open_store(global)?;
    let mut findings = store.quality_report(&QualityOptions {
        as_of: args.as_of.unwrap_or_else(today),
        stale_days: args.stale_days,
    })?;
    if !args.all {
        findings.retain(|f| f.severity != coco_store::quality::Severity::Info);
    }
    output::print_rows(&findings, global.format)
}
