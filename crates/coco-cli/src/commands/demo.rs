use std::path::PathBuf;

use anyhow::Result;
use chrono::NaiveDate;
use clap::Args;
use coco_demo::{DemoConfig, DemoSummary};
use indicatif::{ProgressBar, ProgressStyle};

use crate::GlobalArgs;
use crate::commands::{accounts, ingest, metrics, open_store, serve, today, user_error};
use crate::output::{self, Format};
use coco_store::snapshots::{HealthListFilter, HealthSort};

#[derive(Args, Clone)]
pub struct PortfolioArgs {
    /// Number of customer accounts.
    #[arg(long, default_value_t = 1000)]
    pub accounts: usize,
    /// Months of history up to --end.
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Random seed: the same seed, size and --end give byte-identical files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Last day of the generated history (default today).
    #[arg(long)]
    pub end: Option<NaiveDate>,
    /// Share of rows deliberately made invalid, for the quarantine to catch.
    #[arg(long, default_value_t = 0.01)]
    pub dirty_rate: f64,
}

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
    /// Write the files to this folder.
    #[arg(long, required_unless_present = "into_store")]
    pub out: Option<PathBuf>,
    /// Ingest the generated files into the store (files are kept in <data-dir>/demo).
    #[arg(long)]
    pub into_store: bool,
}

#[derive(Args)]
pub struct QuickstartArgs {
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
    /// Weekly health snapshots to compute before the as-of date (history for trends
    /// and drivers of change).
    /// 52 gives the churn model a year of observations to backtest on.
    #[arg(long, default_value_t = 52)]
    pub history_weeks: u32,
    /// Then serve the dashboard on this address (the README's quickstart does).
    #[arg(long)]
    pub serve: Option<std::net::SocketAddr>,
}

fn generate(portfolio: &PortfolioArgs, out: &std::path::Path) -> Result<DemoSummary> {
    if !(0.0..=0.5).contains(&portfolio.dirty_rate) {
        return Err(user_error("--dirty-rate must be between 0 and 0.5", None));
    }
    let mut config = DemoConfig::new(
        portfolio.accounts,
        portfolio.months,
        portfolio.seed,
        portfolio.end.unwrap_or_else(today),
    );
    config.dirty_rate = portfolio.dirty_rate;
    let bar = ProgressBar::new(portfolio.accounts as u64);
    bar.set_style(
        ProgressStyle::with_template("generating {pos}/{len} accounts [{bar:30}] {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let summary = coco_demo::generate(&config, out, &|done| bar.set_position(done))?;
    bar.finish_and_clear();
    eprintln!(
        "generated {} accounts, {} usage events in {:.1}s into {}",
        summary.accounts,
        summary.events,
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(summary)
}

pub fn demo(global: &GlobalArgs, args: &DemoArgs) -> Result<()> {
    let out = match &args.out {
        Some(out) => out.clone(),
        None => global.data_dir.join("demo"),
    };
    let summary = generate(&args.portfolio, &out)?;
    if !args.into_store {
        #[derive(serde::Serialize)]
        struct Row {
            entity: &'static str,
            file: String,
            rows: u64,
            dirty_rows: u64,
            duplicate_rows: u64,
        }
        let rows: Vec<Row> = summary
            .files
            .iter()
            .map(|f| Row {
                entity: f.entity,
                file: f.path.display().to_string(),
                rows: f.rows,
                dirty_rows: f.dirty_rows,
                duplicate_rows: f.duplicate_rows,
            })
            .collect();
        return output::print_rows(&rows, global.format);
    }
    let mut store = open_store(global)?;
    ingest::ingest_folder(&mut store, &out, global.format)?;
    Ok(())
}

/// The README's main job: demo portfolio -> store -> portfolio summary.
pub fn quickstart(global: &GlobalArgs, args: &QuickstartArgs) -> Result<()> {
    let out = global.data_dir.join("demo");
    let as_of = args.portfolio.end.unwrap_or_else(today);
    generate(&args.portfolio, &out)?;
    let mut store = open_store(global)?;
    eprintln!("ingesting into {}", store.path().display());
    let reports = ingest::ingest_folder(&mut store, &out, Format::Table)?;
    let config = metrics::load_config(global)?;
    let started = std::time::Instant::now();
    if args.history_weeks > 0 {
        let from = as_of - chrono::Days::new(7 * u64::from(args.history_weeks));
        let until = as_of - chrono::Days::new(7);
        coco_engine::backfill(&store, &config, from, until, 7, &mut |_| {})?;
    }
    let run = coco_engine::score_as_of(&store, &config, as_of)?;
    eprintln!(
        "scored {} accounts as of {} ({} weekly snapshots of history) in {:.1}s",
        run.snapshot.accounts,
        as_of,
        args.history_weeks,
        started.elapsed().as_secs_f64()
    );
    // A churn model trained on that history, and every account scored with it.
    match coco_engine::churn::history::train_history(
        &store,
        &config,
        coco_models::train::KindChoice::Auto,
        Some(as_of),
        &mut |_: &str| {},
    ) {
        Ok(trained) => {
            let headline = trained.report.chosen().map(|c| {
                format!(
                    "{}: backtest AUC {:.3}, calibration error {:.3}",
                    c.name,
                    c.evaluation.auc.unwrap_or(0.0),
                    c.evaluation.ece
                )
            });
            let scored = coco_engine::churn::scoring::score_accounts(&store, &config, as_of, None)?;
            eprintln!(
                "churn model {} ({}); scored {} accounts — `coco model evaluate` for the report",
                trained.summary.version,
                headline.unwrap_or_default(),
                scored.accounts
            );
        }
        Err(e) => eprintln!("no churn model: {e}"),
    }
    // Which expansion signals preceded won expansions in that history: their weights
    // order the pipeline.
    match coco_engine::expansion::backtest(&store, &config, as_of, 4, 60) {
        Ok(backtest) => eprintln!(
            "expansion signals backtested over {} date(s), {} observations — `coco expansion signals`",
            backtest.dates.len(),
            backtest.observations
        ),
        Err(e) => eprintln!("no expansion backtest: {e}"),
    }
    // The morning's work: alerts with their tasks and each CSM's list, as `coco run daily`
    // makes them (nothing is delivered: the shipped notifications are off).
    let actions = super::actions::load_actions(global, &config)?;
    let daily = coco_engine::actions::daily::run_daily(
        &store,
        &config,
        &actions,
        &coco_engine::actions::daily::DailyOptions {
            as_of,
            trigger: "quickstart".into(),
            refresh: false,
            deliver: false,
        },
    )?;
    let pipeline = coco_engine::expansion::pipeline(&store, &config, as_of, None)?;
    let lifecycle =
        coco_engine::lifecycle::overview(&store, &config, as_of, Some(&pipeline.opportunities))?;
    let summary = store.portfolio_summary(as_of)?;
    // Compared with a week earlier, as the dashboard does, so the list shows the change.
    let pair = coco_engine::portfolio::snapshot_pair(&store, &config, as_of, 7)?;
    let at_risk = store.health_list(
        pair.current.snapshot_id,
        pair.previous.map(|previous| previous.snapshot_id),
        &HealthListFilter {
            colour: Some("red".into()),
            sort: HealthSort::Arr,
            limit: Some(10),
            ..HealthListFilter::default()
        },
    )?;
    println!();
    if global.format == Format::Table {
        accounts::print_summary(&summary, Format::Table)?;
        let colours: Vec<String> = ["green", "yellow", "red", "unknown"]
            .iter()
            .filter_map(|c| run.colours.get(*c).map(|n| format!("{n} {c}")))
            .collect();
        println!("\nHealth as of {as_of}: {}", colours.join(", "));
        println!("Red accounts, largest ARR first:");
        output::print_rows(&at_risk, Format::Table)?;
        println!(
            "\nExpansion pipeline: {} opportunities at {} accounts, expected ${:.0}. Top five:",
            pipeline.summary.opportunities,
            pipeline.summary.accounts,
            pipeline.summary.expected_arr
        );
        for o in pipeline.opportunities.iter().take(5) {
            println!(
                "  {} — {} ({}, {}): {}",
                o.id,
                o.account_name,
                o.timing.light.as_str(),
                o.timing.outreach.label(),
                o.signals.first().map_or("", |s| s.summary.as_str())
            );
        }
        let m = &lifecycle.misalignment;
        let on = &lifecycle.onboarding;
        let cards = lifecycle.scorecards(&config);
        let intervene = cards
            .iter()
            .filter(|c| c.severity == coco_insights::journey::scorecard::Severity::Intervene)
            .count();
        println!(
            "\nCoverage: {} of {} accounts are served differently from their tier ({} over-served, {} under-served; `coco segments misalignment`).",
            m.misaligned, m.accounts_compared, m.over_served, m.under_served
        );
        println!(
            "Workload: CSM load σ {:.0}% → {:.0}% with the rebalancing proposal ({} moves; `coco workload rebalance`); {} hires needed in {} months.",
            100.0 * lifecycle.rebalance.before.std_dev,
            100.0 * lifecycle.rebalance.after.std_dev,
            lifecycle.rebalance.moves.len(),
            lifecycle.workload.plan.hires_needed,
            lifecycle.workload.plan.horizon_months
        );
        println!(
            "Journey: {} accounts to intervene on now (`coco journey scorecard`); onboarding {} critical, {} stalled (`coco onboarding list`); {} accounts silent for {} days (`coco touchpoints silent`).",
            intervene,
            on.critical,
            on.stalled,
            lifecycle.silent.len(),
            config.journey.touchpoints.silent_days
        );
        let busiest = daily.lists.iter().max_by_key(|l| l.items);
        println!(
            "Alerts: {} opened with {} playbook tasks; {} CSM daily lists{} (`coco alerts list`, `coco today --csm {}`).",
            daily.alerts.opened,
            daily.alerts.tasks,
            daily.lists.iter().filter(|l| l.items > 0).count(),
            busiest
                .and_then(|l| l
                    .top
                    .as_ref()
                    .map(|top| format!("; {}'s first item: {top}", l.csm_name)))
                .unwrap_or_default(),
            busiest.map_or("ID", |l| l.csm_id.as_str())
        );
        println!(
            "{}",
            write_drafts(global, &store, &config, as_of, &pipeline)?
        );
        println!(
            "\nNext: `coco health list --color red --sort change`, `coco account show <id>` (why, with evidence), `coco expansion show <id>` (talking points), `coco adoption report`, `coco journey milestones`, `coco quality` (data dir {}).",
            global.data_dir.display()
        );
    } else {
        if args.serve.is_some() {
            return Err(user_error(
                "--serve prints to the terminal; use --format table",
                None,
            ));
        }
        output::print_object(
            &serde_json::json!({ "loads": reports, "summary": summary, "health": run, "red_accounts": at_risk, "daily_run": daily }),
            global.format,
        )?;
    }
    // The demo store gets an admin (if it has none) so the dashboard can be opened.
    let admin = if store.list_users()?.is_empty() {
        Some(
            coco_server::users::add_user(
                &store,
                &coco_server::users::NewUserRequest {
                    username: "admin",
                    display_name: Some("Administrator"),
                    role: coco_core::Role::Admin,
                    csm_id: None,
                },
                "quickstart",
            )
            .map_err(|e| anyhow::anyhow!(e.message))?,
        )
    } else {
        None
    };
    if let Some(bind) = args.serve {
        drop(store);
        let login = match &admin {
            Some(created) => format!(
                "log in as `admin` with the one-time password {} (you will choose your own)",
                created.one_time_password
            ),
            None => "log in with an existing user (`coco users list`; `coco users reset-password admin` prints a new one-time password)".into(),
        };
        println!("\nDashboard: {login}.");
        serve::serve(
            global,
            &serve::ServeArgs {
                bind,
                connections: 4,
                behind_tls: false,
            },
        )?;
    } else if let Some(created) = admin {
        println!(
            "\nWeb dashboard: `coco serve`, then log in as `admin` with the one-time password {}.",
            created.one_time_password
        );
    }
    Ok(())
}

/// The documents of the demo: the weekly portfolio report (HTML) and the QBR deck of the
/// account with the top expansion opportunity (PPTX), written under `<data-dir>/drafts/`;
/// returns the line that says where.
fn write_drafts(
    global: &GlobalArgs,
    store: &coco_store::Store,
    config: &coco_engine::Config,
    as_of: NaiveDate,
    pipeline: &coco_engine::expansion::ExpansionRun,
) -> Result<String> {
    use coco_drafts::document::Locale;
    use coco_engine::drafts::reports::{Report, ReportRequest, report};
    use coco_engine::drafts::{AccountDocument, AccountDraftRequest, account_draft};

    let drafting = super::drafts::load_drafting(global)?;
    let dir = global.data_dir.join("drafts");
    std::fs::create_dir_all(&dir)?;
    let weekly = report(
        store,
        config,
        &drafting,
        &ReportRequest {
            report: Report::Portfolio,
            as_of,
            locale: Locale::En,
            account: None,
            metric: None,
        },
    )?;
    let weekly_path = dir.join(format!("portfolio-{as_of}.html"));
    std::fs::write(&weekly_path, weekly.html())?;
    let mut line = format!(
        "Drafts: the weekly portfolio report in {} ({} numbers, every one cited)",
        weekly_path.display(),
        weekly.grounding.claims.len()
    );
    if let Some(top) = pipeline.opportunities.first() {
        let qbr = account_draft(
            store,
            config,
            &drafting,
            &AccountDraftRequest {
                document: AccountDocument::Qbr,
                account_id: top.account_id.clone(),
                as_of,
                locale: Locale::En,
                motive: None,
            },
        )?;
        let deck = dir.join(format!("qbr-{}.pptx", top.account_id));
        std::fs::write(&deck, qbr.pptx()?)?;
        line.push_str(&format!(
            "; {}'s QBR deck in {}",
            top.account_name,
            deck.display()
        ));
    }
    line.push_str(" (`coco draft qbr|sequence|plan|playbook --account ID`, `coco report portfolio|renewals|…`; docs/drafts.md).");
    Ok(line)
}
