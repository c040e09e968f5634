//! `coco-bench`: the benchmark command behind docs/PERFORMANCE.md.
//!
//! Each measurement runs in a child process (this binary re-invoked) so peak memory
//! (VmHWM) is per measurement. Every COCO number is paired with a baseline measured
//! in the same run on the same file: DuckDB loading the file with no validation,
//! no quarantine and no de-duplication. The ratio is what to compare across machines.
//!
//! This crate opens DuckDB directly only for those baselines; COCO's own path always
//! goes through coco-store.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use coco_core::contract;
use coco_store::{IngestOptions, Store, StoreOptions};

mod alerts;
mod drafts;
mod growth;
mod lifecycle;
mod model;
mod scoring;
mod web;

#[derive(Parser)]
#[command(about = "COCO benchmarks: ingest throughput and demo generation")]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Run the ingest and demo benchmarks and print (or write) the report.
    Run {
        /// Raw events in the synthetic usage file.
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        /// Accounts for the demo-generator measurement.
        #[arg(long, default_value_t = 1000)]
        demo_accounts: usize,
        /// Scratch folder (several GB for large --events).
        #[arg(long, default_value = "bench-data")]
        work_dir: PathBuf,
        /// DuckDB memory limit during ingest.
        #[arg(long, default_value = "640MB")]
        memory_limit: String,
        /// Replace the generated section of this Markdown file with the results.
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// Metrics + health for one as-of date at several book sizes, and a 52-week
    /// backfill of 10k accounts.
    Score {
        /// Book sizes as accounts:events-per-account-month. For 1M accounts use a thin
        /// book (`1000000:4`, ~45M events); it needs ~17 GB today (docs/PERFORMANCE.md).
        #[arg(long, value_delimiter = ',', default_value = "10000:40,100000:44")]
        sizes: Vec<String>,
        #[arg(long, default_value_t = 10_000)]
        backfill_accounts: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The web server under load (`oha`): portfolio, account 360, API account detail,
    /// 200 connections — on a 100,000-account book.
    Web {
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        /// Seconds per scenario.
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Churn model training (dataset, backtest, refit) on 100,000 accounts × 52 weekly
    /// snapshots, and scoring every current account.
    Model {
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Every expansion and adoption analysis on 100,000 accounts with nine weekly
    /// snapshots.
    Growth {
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Every segmentation, workload and journey analysis on 100,000 accounts with 27
    /// weekly snapshots, and rebalancing 50 CSMs × 10,000 accounts.
    Lifecycle {
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The weekly portfolio report and one account's QBR deck on the 100,000-account
    /// book of `lifecycle`.
    Drafts {
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Alert-rule evaluation and de-duplication: 20 rules (the shipped 14 and six more)
    /// over a synthetic book of 100,000 accounts, reconciled against alerts on record.
    Alerts {
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        /// Timed repetitions; the report gives their median.
        #[arg(long, default_value_t = 3)]
        repetitions: usize,
        /// Seed of the synthetic book.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Replace the generated section of this Markdown file with the results.
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// (internal) one measurement in a child process; prints JSON.
    #[command(hide = true)]
    Child {
        kind: String,
        data_dir: PathBuf,
        file: PathBuf,
        memory_limit: String,
    },
}

/// Where the benchmark books live, DuckDB's memory limit, where the report goes.
#[derive(clap::Args)]
struct StoreArgs {
    /// Scratch folder; generated books are kept there for later runs.
    #[arg(long, default_value = "bench-data")]
    work_dir: PathBuf,
    /// DuckDB memory limit while measuring.
    #[arg(long, default_value = "2GB")]
    memory_limit: String,
    /// Replace the generated section of this Markdown file with the results.
    #[arg(long)]
    write: Option<PathBuf>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Measurement {
    rows: u64,
    seconds: f64,
    peak_rss_mb: f64,
    /// Named steps and their seconds, when the measurement reports them.
    #[serde(default)]
    phases: Vec<(String, f64)>,
}

const ACCOUNTS: u64 = 2000;
const USERS_PER_ACCOUNT: u64 = 50;
const FEATURES: &[&str] = &[
    "login",
    "dashboard.view",
    "report.create",
    "report.export",
    "alert.create",
    "api.call",
    "integration.sync",
    "workflow.run",
    "comment.add",
    "search",
];

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COCO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        BenchCommand::Child {
            kind,
            data_dir,
            file,
            memory_limit,
        } => {
            let measurement = child(&kind, &data_dir, &file, &memory_limit)?;
            println!("{}", serde_json::to_string(&measurement)?);
            Ok(())
        }
        BenchCommand::Alerts {
            accounts,
            repetitions,
            seed,
            write,
        } => alerts::run(accounts, repetitions, seed, write.as_deref()),
        BenchCommand::Lifecycle { accounts, store } => lifecycle::run(
            accounts,
            &store.work_dir,
            &store.memory_limit,
            store.write.as_deref(),
        ),
        BenchCommand::Drafts { accounts, store } => drafts::run(
            accounts,
            &store.work_dir,
            &store.memory_limit,
            store.write.as_deref(),
        ),
        BenchCommand::Growth { accounts, store } => growth::run(
            accounts,
            &store.work_dir,
            &store.memory_limit,
            store.write.as_deref(),
        ),
        BenchCommand::Model { accounts, store } => model::run(
            accounts,
            &store.work_dir,
            &store.memory_limit,
            store.write.as_deref(),
        ),
        BenchCommand::Web {
            accounts,
            seconds,
            store,
        } => web::run(web::WebOptions {
            accounts,
            seconds,
            work: store.work_dir,
            memory_limit: store.memory_limit,
            write: store.write,
        }),
        BenchCommand::Score {
            sizes,
            backfill_accounts,
            store,
        } => {
            let sizes = sizes
                .iter()
                .map(|text| {
                    let (accounts, density) = text.split_once(':').unwrap_or((text, "40"));
                    Ok(scoring::Size {
                        accounts: accounts.parse().context("accounts in --sizes")?,
                        events_per_account_month: density.parse().context("events in --sizes")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            scoring::run(
                &sizes,
                backfill_accounts,
                &store.work_dir,
                &store.memory_limit,
                store.write.as_deref(),
            )
        }
        BenchCommand::Run {
            events,
            demo_accounts,
            work_dir,
            memory_limit,
            write,
        } => run(
            events,
            demo_accounts,
            &work_dir,
            &memory_limit,
            write.as_deref(),
        ),
    }
}

fn run(
    events: u64,
    demo_accounts: usize,
    work: &Path,
    memory_limit: &str,
    write: Option<&Path>,
) -> Result<()> {
    std::fs::create_dir_all(work)?;
    let csv_path = work.join(format!("usage_events_{events}.csv"));
    let parquet_path = work.join(format!("usage_events_{events}.parquet"));
    if !csv_path.exists() {
        eprintln!(
            "writing {} synthetic events to {}",
            events,
            csv_path.display()
        );
        write_events_csv(&csv_path, events)?;
    }
    if !parquet_path.exists() {
        eprintln!("converting to {}", parquet_path.display());
        let conn = duckdb::Connection::open_in_memory()?;
        conn.execute_batch(&format!(
            "COPY (SELECT * FROM read_csv('{}', header = true, columns = {{'account_id': 'VARCHAR', 'user_id': 'VARCHAR', 'feature_key': 'VARCHAR', 'occurred_at': 'TIMESTAMP', 'value': 'DOUBLE'}}))
             TO '{}' (FORMAT parquet, ROW_GROUP_SIZE 122880)",
            csv_path.display(),
            parquet_path.display()
        ))?;
    }
    let base_store = work.join("base-store");
    prepare_base_store(&base_store, work)?;

    let mut results = Vec::new();
    for (label, kind, file) in [
        (
            "CSV: DuckDB read_csv, no checks (baseline)",
            "baseline-csv",
            &csv_path,
        ),
        ("CSV: coco ingest usage_events", "coco", &csv_path),
        (
            "Parquet: DuckDB read_parquet, no checks (baseline)",
            "baseline-parquet",
            &parquet_path,
        ),
        ("Parquet: coco ingest usage_events", "coco", &parquet_path),
    ] {
        let data_dir = work.join(format!("run-{kind}"));
        let _ = std::fs::remove_dir_all(&data_dir);
        copy_dir(&base_store, &data_dir)?;
        eprintln!("measuring: {label}");
        let measurement = spawn_child(kind, &data_dir, file, memory_limit)?;
        let _ = std::fs::remove_dir_all(&data_dir);
        results.push((label, measurement));
    }

    eprintln!("measuring: demo generator ({demo_accounts} accounts x 12 months)");
    let demo_dir = work.join("demo");
    let _ = std::fs::remove_dir_all(&demo_dir);
    let end = chrono::NaiveDate::from_ymd_opt(2026, 10, 31).context("date")?;
    let started = Instant::now();
    let summary = coco_demo::generate(
        &coco_demo::DemoConfig::new(demo_accounts, 12, 42, end),
        &demo_dir,
        &|_| {},
    )?;
    let demo_seconds = started.elapsed().as_secs_f64();
    let demo_rows: u64 = summary.files.iter().map(|f| f.rows).sum();

    let report = render(
        events,
        &results,
        demo_accounts,
        demo_seconds,
        summary.events,
        demo_rows,
        memory_limit,
    );
    println!("{report}");
    if let Some(path) = write {
        replace_section(path, &report)?;
        eprintln!("updated {}", path.display());
    }
    Ok(())
}

fn render(
    events: u64,
    results: &[(&str, Measurement)],
    demo_accounts: usize,
    demo_seconds: f64,
    demo_events: u64,
    demo_rows: u64,
    memory_limit: &str,
) -> String {
    let mut out = String::new();
    let cpus = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    out.push_str(&format!(
        "Measured {} on {} cores ({}), {:.0} GiB RAM, DuckDB memory limit {}.\n\n",
        chrono::Utc::now().format("%Y-%m-%d"),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        cpus,
        total_memory_gib(),
        memory_limit
    ));
    out.push_str(&format!(
        "Raw usage events: {events} rows, 2,000 accounts, 10 features.\n\n"
    ));
    out.push_str("| measurement | rows | seconds | rows/s | peak RSS (MB) | vs baseline |\n|---|---:|---:|---:|---:|---:|\n");
    let mut baseline = 0.0;
    for (label, m) in results {
        let rate = m.rows as f64 / m.seconds;
        let ratio = if label.contains("baseline") {
            baseline = m.seconds;
            "1.00×".to_string()
        } else {
            format!("{:.2}× the time", m.seconds / baseline)
        };
        out.push_str(&format!(
            "| {label} | {} | {:.2} | {:.2}M | {:.0} | {ratio} |\n",
            m.rows,
            m.seconds,
            rate / 1e6,
            m.peak_rss_mb
        ));
    }
    out.push_str(&format!(
        "| demo generator, {demo_accounts} accounts × 12 months (all files) | {demo_rows} | {demo_seconds:.2} | {:.2}M | | |\n",
        demo_rows as f64 / demo_seconds / 1e6
    ));
    out.push_str(&format!(
        "\nThe demo run wrote {demo_events} distinct usage events.\n"
    ));
    out
}

const BEGIN: &str = "<!-- coco-bench:begin -->";
const END: &str = "<!-- coco-bench:end -->";

fn replace_section(path: &Path, report: &str) -> Result<()> {
    replace_section_between(path, report, BEGIN, END)
}

/// Replaces the text between two marker comments (appending the section if absent).
fn replace_section_between(path: &Path, report: &str, begin: &str, end: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{begin}\n{report}{end}");
    let updated = match (text.find(begin), text.find(end)) {
        (Some(start), Some(stop)) if stop > start => {
            format!("{}{}{}", &text[..start], section, &text[stop + end.len()..])
        }
        _ => format!("{text}\n{section}\n"),
    };
    std::fs::write(path, updated)?;
    Ok(())
}

fn spawn_child(
    kind: &str,
    data_dir: &Path,
    file: &Path,
    memory_limit: &str,
) -> Result<Measurement> {
    let exe = std::env::current_exe()?;
    let output = Command::new(exe)
        .args(["child", kind])
        .arg(data_dir)
        .arg(file)
        .arg(memory_limit)
        .output()?;
    if !output.status.success() {
        bail!("{kind} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn child(kind: &str, data_dir: &Path, file: &Path, memory_limit: &str) -> Result<Measurement> {
    if let Some(measurement) = scoring::child(kind, data_dir, memory_limit)? {
        return Ok(measurement);
    }
    if let Some(measurement) = model::child(kind, data_dir, memory_limit)? {
        return Ok(measurement);
    }
    if let Some(measurement) = growth::child(kind, data_dir, memory_limit)? {
        return Ok(measurement);
    }
    if let Some(measurement) = lifecycle::child(kind, data_dir, memory_limit)? {
        return Ok(measurement);
    }
    if let Some(measurement) = drafts::child(kind, data_dir, memory_limit)? {
        return Ok(measurement);
    }
    let started = Instant::now();
    let rows = match kind {
        "coco" => {
            let options = StoreOptions {
                memory_limit: memory_limit.to_string(),
                ..StoreOptions::default()
            };
            let mut store = Store::open_with(data_dir, &options)?;
            let report =
                store.ingest_file(&contract::USAGE_EVENTS, file, &IngestOptions::default())?;
            if report.rejected > 0 {
                bail!("benchmark file had {} rejected rows", report.rejected);
            }
            report.inserted
        }
        "baseline-csv" | "baseline-parquet" => {
            let config = duckdb::Config::default()
                .max_memory(memory_limit)?
                .with("preserve_insertion_order", "false")?;
            let conn =
                duckdb::Connection::open_with_flags(data_dir.join("baseline.duckdb"), config)?;
            let source = if kind == "baseline-csv" {
                format!(
                    "read_csv('{}', header = true, columns = {{'account_id': 'VARCHAR', 'user_id': 'VARCHAR', 'feature_key': 'VARCHAR', 'occurred_at': 'TIMESTAMP', 'value': 'DOUBLE'}})",
                    file.display()
                )
            } else {
                format!("read_parquet('{}')", file.display())
            };
            // CREATE TABLE AS reports no row count: count what landed.
            conn.execute_batch(&format!("CREATE TABLE events AS SELECT * FROM {source}"))?;
            conn.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64
        }
        other => bail!("unknown measurement {other}"),
    };
    Ok(Measurement::finish(rows, started, Vec::new()))
}

fn peak_rss_kb() -> u64 {
    process_status_kb("VmHWM:")
}

/// A kB field of /proc/self/status (0 where unreadable).
fn process_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn total_memory_gib() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<f64>().ok())
                })
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0)
}

/// A store holding the accounts and features the synthetic events refer to.
fn prepare_base_store(base: &Path, work: &Path) -> Result<()> {
    if base.join(coco_store::store::DATABASE_FILE).exists() {
        return Ok(());
    }
    let accounts = work.join("accounts.csv");
    let mut writer = std::io::BufWriter::new(std::fs::File::create(&accounts)?);
    writeln!(writer, "account_id,name")?;
    for account in 0..ACCOUNTS {
        writeln!(writer, "acc_{account:05},Account {account}")?;
    }
    writer.flush()?;
    let features = work.join("features.csv");
    let mut writer = std::io::BufWriter::new(std::fs::File::create(&features)?);
    writeln!(writer, "feature_key,name,module,tier")?;
    for feature in FEATURES {
        writeln!(writer, "{feature},{feature},core,starter")?;
    }
    writer.flush()?;
    let mut store = Store::open(base)?;
    store.ingest_file(&contract::ACCOUNTS, &accounts, &IngestOptions::default())?;
    store.ingest_file(&contract::FEATURES, &features, &IngestOptions::default())?;
    Ok(())
}

/// Distinct events: timestamps advance by one second per row, so no two rows share a
/// de-duplication key and every row must be inserted.
fn write_events_csv(path: &Path, events: u64) -> Result<()> {
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(writer, "account_id,user_id,feature_key,occurred_at,value")?;
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .context("date")?;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for row in 0..events {
        // xorshift: cheap, deterministic spread over accounts, users and features.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let account = state % ACCOUNTS;
        let user = (state >> 20) % USERS_PER_ACCOUNT;
        let feature = FEATURES[((state >> 40) % FEATURES.len() as u64) as usize];
        let at = start + chrono::Duration::seconds(row as i64);
        writeln!(
            writer,
            "acc_{account:05},u_{account:05}_{user:03},{feature},{},{}",
            at.format("%Y-%m-%dT%H:%M:%SZ"),
            1 + (state >> 60) % 3
        )?;
    }
    writer.flush()?;
    Ok(())
}

/// Copies a book's files, except its READY mark: a copy is ready once its own work is done.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() && entry.file_name() != "READY" {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn open_store(dir: &Path, memory_limit: &str) -> Result<Store> {
    Ok(Store::open_with(
        dir,
        &StoreOptions {
            memory_limit: memory_limit.to_string(),
            ..StoreOptions::default()
        },
    )?)
}

/// A bare DuckDB connection to a book's store for the no-checks baselines, opened after
/// the store itself once (so migrations and crash recovery have run).
fn bare_connection(dir: &Path, memory_limit: &str) -> Result<duckdb::Connection> {
    drop(open_store(dir, memory_limit)?);
    let conn = duckdb::Connection::open(dir.join(coco_store::store::DATABASE_FILE))?;
    conn.execute_batch(&format!("SET memory_limit = '{memory_limit}'"))?;
    Ok(conn)
}

impl Measurement {
    /// A child's result: rows, time since `started`, this process's peak memory.
    fn finish(rows: u64, started: Instant, phases: Vec<(String, f64)>) -> Measurement {
        Measurement {
            rows,
            seconds: started.elapsed().as_secs_f64(),
            peak_rss_mb: peak_rss_kb() as f64 / 1024.0,
            phases,
        }
    }
}
