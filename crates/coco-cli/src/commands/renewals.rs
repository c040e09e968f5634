//! `coco renewals forecast`: expected renewed ARR, GRR/NRR with ranges, scenarios,
//! upcoming renewals and forecast-vs-actual.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use coco_models::forecast::Scenario;
use serde::Serialize;

use crate::GlobalArgs;
use crate::commands::{metrics, open_store, today, user_error};
use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum RenewalsCommand {
    /// Renewals in the next 30/60/90/180 days: expected ARR, forecast GRR/NRR and ranges.
    #[command(
        after_help = "Examples:\n  coco renewals forecast\n  coco renewals forecast --scenario red=50%      # if half of the red accounts are saved\n  coco renewals forecast --list --format csv     # the upcoming renewals, one per row"
    )]
    Forecast(ForecastArgs),
}

#[derive(Args)]
pub struct ForecastArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// What if a share of a group is saved: GROUP=SHARE, the group a risk tier
    /// (critical, high, …) or a health colour (red, yellow).
    #[arg(long)]
    pub scenario: Option<String>,
    /// Print the upcoming renewals instead of the period summary.
    #[arg(long)]
    pub list: bool,
}

#[derive(Serialize)]
struct PeriodRow {
    next_days: u32,
    renewals: usize,
    arr_up: f64,
    expected_arr: f64,
    grr: String,
    nrr: String,
    at_risk: usize,
    at_risk_arr: f64,
}

fn range(value: f64, low: f64, high: f64) -> String {
    format!(
        "{:.1}% ({:.1}–{:.1}%)",
        value * 100.0,
        low * 100.0,
        high * 100.0
    )
}

fn period_rows(periods: &[coco_models::forecast::PeriodForecast]) -> Vec<PeriodRow> {
    periods
        .iter()
        .map(|p| PeriodRow {
            next_days: p.days,
            renewals: p.renewals,
            arr_up: p.arr_up_for_renewal.round(),
            expected_arr: p.expected_renewed_arr.round(),
            grr: range(p.forecast_grr, p.grr_low, p.grr_high),
            nrr: range(p.forecast_nrr, p.nrr_low, p.nrr_high),
            at_risk: p.at_risk_renewals,
            at_risk_arr: p.at_risk_arr.round(),
        })
        .collect()
}

pub fn run(global: &GlobalArgs, command: &RenewalsCommand) -> Result<()> {
    let RenewalsCommand::Forecast(args) = command;
    let scenario = match &args.scenario {
        Some(text) => Some(Scenario::parse(text).map_err(|e| user_error(e, None))?),
        None => None,
    };
    let config = metrics::load_config(global)?;
    let store = open_store(global)?;
    let forecast = coco_engine::renewals::renewal_forecast(
        &store,
        &config,
        args.as_of.unwrap_or_else(today),
        scenario,
    )?;
    if global.format == Format::Json && !args.list {
        println!("{}", serde_json::to_string_pretty(&forecast)?);
        return Ok(());
    }
    if args.list {
        return output::print_rows(&forecast.upcoming, global.format);
    }
    eprintln!(
        "renewal forecast as of {} (snapshot {}, model {})",
        forecast.as_of, forecast.snapshot_as_of, forecast.model_version
    );
    output::print_rows(&period_rows(&forecast.periods), global.format)?;
    if let Some(scenario) = &forecast.scenario {
        eprintln!(
            "scenario: {:.0}% of `{}` saved",
            scenario.share * 100.0,
            scenario.group
        );
        output::print_rows(&period_rows(&forecast.scenario_periods), global.format)?;
    }
    if !forecast.accuracy.is_empty() {
        eprintln!("earlier forecasts against what happened:");
        output::print_rows(&forecast.accuracy, global.format)?;
    }
    for note in &forecast.notes {
        eprintln!("note: {note}");
    }
    Ok(())
}
