//! `coco`: the command-line surface. Parses arguments, calls the store or the demo
//! generator, formats the answer. No business logic lives here.

mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use output::Format;

#[derive(Parser)]
#[command(
    name = "coco",
    version,
    about = "COCO: open-source Customer Success intelligence",
    long_about = "COCO ingests your customer data (CRM, usage, tickets, surveys, notes) into an embedded store \
and tells every CSM which accounts need them, why, and what to say.",
    after_help = "Example:\n  coco quickstart                       # demo data -> store -> portfolio summary\n  coco ingest --dir exports/            # load a folder of CSV/JSONL/Parquet files\n  coco accounts list --format json"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
pub struct GlobalArgs {
    /// Folder holding the store (coco.duckdb).
    #[arg(
        long,
        global = true,
        env = "COCO_DATA_DIR",
        default_value = "./coco-data"
    )]
    pub data_dir: PathBuf,
    /// Output format for listings.
    #[arg(long, global = true, value_enum, default_value = "table")]
    pub format: Format,
    /// DuckDB memory limit; larger work spills to the data directory.
    #[arg(
        long,
        global = true,
        env = "COCO_MEMORY_LIMIT",
        default_value = "640MB"
    )]
    pub memory_limit: String,
    /// Folder with metrics.toml / health.toml overriding the shipped configuration
    /// (default: <data-dir>/config).
    #[arg(long, global = true, env = "COCO_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the demo portfolio, ingest it and print the portfolio summary.
    #[command(after_help = "Example:\n  coco quickstart --accounts 1000 --months 12")]
    Quickstart(commands::demo::QuickstartArgs),
    /// Generate a realistic demo book of business (files, or straight into the store).
    #[command(
        after_help = "Example:\n  coco demo --accounts 1000 --months 12 --seed 42 --out demo/\n  coco demo --accounts 1000 --into-store"
    )]
    Demo(commands::demo::DemoArgs),
    /// Load a file (or a folder of files) into the store.
    #[command(
        after_help = "Examples:\n  coco ingest accounts crm_export.csv --mapping crm.mapping.toml\n  coco ingest usage_events events.parquet\n  coco ingest --dir exports/"
    )]
    Ingest(commands::ingest::IngestArgs),
    /// Review rows rejected by ingest.
    #[command(
        subcommand,
        after_help = "Example:\n  coco quarantine list --entity accounts"
    )]
    Quarantine(commands::quarantine::QuarantineCommand),
    /// Data quality report: missing, unknown, duplicate, impossible and stale data.
    #[command(after_help = "Example:\n  coco quality --stale-days 3 --format json")]
    Quality(commands::quality::QualityArgs),
    /// Compute metrics and health for every account as of a date, and store the snapshot.
    #[command(after_help = "Example:\n  coco score\n  coco score --as-of 2026-10-31")]
    Score(commands::metrics::ScoreArgs),
    /// The metric catalogue and snapshots: list, explain, compute, backfill.
    #[command(
        subcommand,
        after_help = "Example:\n  coco metrics list\n  coco metrics explain seat_utilisation_30d\n  coco metrics backfill --from 2026-06-01 --every 7d"
    )]
    Metrics(commands::metrics::MetricsCommand),
    /// Churn models: train (history or a flat table), evaluate, registry, scoring.
    #[command(
        subcommand,
        after_help = "Example:\n  coco model train\n  coco model evaluate\n  coco model risk --tier high"
    )]
    Model(commands::model::ModelCommand),
    /// Renewal forecast: expected renewed ARR, GRR/NRR with ranges, scenarios.
    #[command(
        subcommand,
        after_help = "Example:\n  coco renewals forecast --scenario red=50%"
    )]
    Renewals(commands::renewals::RenewalsCommand),
    /// Expansion opportunities: signals, timing, sizing, talking points, outcomes.
    #[command(
        subcommand,
        after_help = "Example:\n  coco expansion list\n  coco expansion show acc_00042:seats\n  coco expansion pipeline --target 250000"
    )]
    Expansion(commands::expansion::ExpansionCommand),
    /// Adoption: heatmap, gaps, causes, enablement plans, time to value, report, campaigns.
    #[command(
        subcommand,
        after_help = "Example:\n  coco adoption heatmap\n  coco adoption gaps acc_00042\n  coco adoption plan acc_00042"
    )]
    Adoption(commands::adoption::AdoptionCommand),
    /// Coverage tiers: the model, each account's tier, misalignment, tier migration.
    #[command(
        subcommand,
        after_help = "Example:\n  coco segments design\n  coco segments apply --account acc_00042\n  coco segments misalignment"
    )]
    Segments(commands::segments::SegmentsCommand),
    /// CSM workload: effort per CSM against capacity, rebalancing, hires needed.
    #[command(
        subcommand,
        after_help = "Example:\n  coco workload report\n  coco workload rebalance"
    )]
    Workload(commands::workload::WorkloadCommand),
    /// The customer journey: stages, milestones, churned vs retained, drop-off, scorecards.
    #[command(
        subcommand,
        after_help = "Example:\n  coco journey stages\n  coco journey milestones\n  coco journey scorecard acc_00042"
    )]
    Journey(commands::journey::JourneyCommand),
    /// Onboarding accounts: milestones, stalls, predicted go-live, cohorts.
    #[command(
        subcommand,
        after_help = "Example:\n  coco onboarding list --status critical"
    )]
    Onboarding(commands::journey::OnboardingCommand),
    /// Interactions: one account's timeline, silent accounts, stakeholder coverage.
    #[command(
        subcommand,
        after_help = "Example:\n  coco touchpoints timeline acc_00042\n  coco touchpoints silent"
    )]
    Touchpoints(commands::journey::TouchpointsCommand),
    /// Scheduled jobs: `coco run daily` (score → predictions → alerts → digests → delivery).
    #[command(
        subcommand,
        after_help = "Example:\n  coco run daily --as-of 2026-10-31"
    )]
    Run(commands::actions::RunCommand),
    /// Alerts: list, show (with the context pack), ack, snooze, close, reopen.
    #[command(
        subcommand,
        after_help = "Example:\n  coco alerts list --owner csm_004\n  coco alerts show 12\n  coco alerts close 12 --reason \"renewal signed\""
    )]
    Alerts(commands::actions::AlertsCommand),
    /// Playbook tasks: list, done, snooze, note, export for a CRM.
    #[command(
        subcommand,
        after_help = "Example:\n  coco tasks list --owner csm_004\n  coco tasks done 31 --note \"called the sponsor\""
    )]
    Tasks(commands::actions::TasksCommand),
    /// Interventions: record what was done; success per play and profile; the best play.
    #[command(
        subcommand,
        after_help = "Example:\n  coco interventions record acc_00042 --play exec_reengagement --channel call --alert 12\n  coco interventions report"
    )]
    Interventions(commands::actions::InterventionsCommand),
    /// A CSM's ordered list for the day, each item with one line of why.
    #[command(
        after_help = "Example:\n  coco today --csm csm_004\n  coco today --csm \"Ana Lima\" --as-of 2026-10-31"
    )]
    Today(commands::actions::TodayArgs),
    /// A document for one account, written from its data with every number cited:
    /// outreach, sequence, qbr, plan, migration.
    #[command(
        after_help = "Example:\n  coco draft outreach --account acc_00042\n  coco draft sequence --account acc_00042 --motive risk --locale zh\n  coco draft qbr --account acc_00042 --as pptx --out qbr.pptx"
    )]
    Draft(commands::drafts::DraftArgs),
    /// A report on the whole book, written from its data: portfolio (weekly health).
    #[command(
        after_help = "Example:\n  coco report portfolio\n  coco report portfolio --locale zh --as html --out weekly.html"
    )]
    Report(commands::drafts::ReportArgs),
    /// Notifications: the outbox (pending, delivered, dead), retry, deliver.
    #[command(
        subcommand,
        after_help = "Example:\n  coco outbox list --status dead\n  coco outbox retry 17\n  coco outbox deliver --until-empty"
    )]
    Outbox(commands::actions::OutboxCommand),
    /// The run log: every daily run with its steps' timings and counts.
    #[command(after_help = "Example:\n  coco runs --format json")]
    Runs(commands::actions::RunsArgs),
    /// Health scores: who is red, who dropped.
    #[command(
        subcommand,
        after_help = "Example:\n  coco health list --color red --sort change"
    )]
    Health(commands::metrics::HealthCommand),
    /// Accounts in the store.
    #[command(
        subcommand,
        visible_alias = "account",
        after_help = "Example:\n  coco accounts list --owner csm_003\n  coco accounts show acc_00042"
    )]
    Accounts(commands::accounts::AccountsCommand),
    /// Portfolio summary: ARR, segments, CSM books, renewals, recent outcomes.
    #[command(after_help = "Example:\n  coco summary --as-of 2026-10-31")]
    Summary(commands::accounts::SummaryArgs),
    /// What is in the store and when each source was last refreshed.
    #[command(after_help = "Example:\n  coco status --format json")]
    Status,
    /// The data contract: every table, column, type and rule.
    #[command(
        after_help = "Example:\n  coco contract accounts\n  coco contract --markdown > docs/data-contract.md"
    )]
    Contract(commands::contract::ContractArgs),
    /// Serve the web dashboard and the HTTP API (/api/v1) on the store.
    #[command(
        after_help = "Example:\n  coco serve --bind 127.0.0.1:8080\n\nThe store can be used by one process at a time: while the server runs, manage data through it (Ingest page, /api/v1)."
    )]
    Serve(commands::serve::ServeArgs),
    /// Users of the web dashboard and API: add, list, disable, enable, set-role, reset-password.
    #[command(
        subcommand,
        after_help = "Example:\n  coco users add ana@example.com --role csm --csm csm_004\n  coco users set-role ana@example.com leader"
    )]
    Users(commands::serve::UsersCommand),
    /// API tokens: create (secret shown once), list, revoke.
    #[command(
        subcommand,
        after_help = "Example:\n  coco tokens create --user admin --name bi-export\n  coco tokens revoke 3"
    )]
    Tokens(commands::serve::TokensCommand),
}

fn main() -> ExitCode {
    // Like other Unix tools, stop quietly when the reader of our output goes away
    // (`coco accounts list | head`) instead of panicking in println!.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COCO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Quickstart(args) => commands::demo::quickstart(&cli.global, &args),
        Command::Demo(args) => commands::demo::demo(&cli.global, &args),
        Command::Ingest(args) => commands::ingest::run(&cli.global, &args),
        Command::Quarantine(command) => commands::quarantine::run(&cli.global, &command),
        Command::Quality(args) => commands::quality::run(&cli.global, &args),
        Command::Score(args) => commands::metrics::score(&cli.global, &args),
        Command::Metrics(command) => commands::metrics::run(&cli.global, &command),
        Command::Health(command) => commands::metrics::health(&cli.global, &command),
        Command::Model(command) => commands::model::run(&cli.global, &command),
        Command::Renewals(command) => commands::renewals::run(&cli.global, &command),
        Command::Expansion(command) => commands::expansion::run(&cli.global, &command),
        Command::Adoption(command) => commands::adoption::run(&cli.global, &command),
        Command::Segments(command) => commands::segments::run(&cli.global, &command),
        Command::Workload(command) => commands::workload::run(&cli.global, &command),
        Command::Journey(command) => commands::journey::run(&cli.global, &command),
        Command::Onboarding(command) => commands::journey::run_onboarding(&cli.global, &command),
        Command::Touchpoints(command) => commands::journey::run_touchpoints(&cli.global, &command),
        Command::Run(command) => commands::actions::run(&cli.global, &command),
        Command::Alerts(command) => commands::actions::alerts(&cli.global, &command),
        Command::Tasks(command) => commands::actions::tasks(&cli.global, &command),
        Command::Interventions(command) => commands::actions::interventions(&cli.global, &command),
        Command::Today(args) => commands::actions::today_list(&cli.global, &args),
        Command::Draft(args) => commands::drafts::draft(&cli.global, &args),
        Command::Report(args) => commands::drafts::report_command(&cli.global, &args),
        Command::Outbox(command) => commands::actions::outbox_command(&cli.global, &command),
        Command::Runs(args) => commands::actions::runs(&cli.global, &args),
        Command::Accounts(command) => commands::accounts::run(&cli.global, &command),
        Command::Summary(args) => commands::accounts::summary(&cli.global, &args),
        Command::Status => commands::status(&cli.global),
        Command::Contract(args) => commands::contract::run(&cli.global, &args),
        Command::Serve(args) => commands::serve::serve(&cli.global, &args),
        Command::Users(command) => commands::serve::users(&cli.global, &command),
        Command::Tokens(command) => commands::serve::tokens(&cli.global, &command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => commands::report_error(&error),
    }
}
