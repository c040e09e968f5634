//! `coco-bench score`: metrics + health for one as-of date at several book sizes, and a
//! 52-week backfill. Each COCO measurement is paired with a baseline measured in the
//! same run on the same store: one bare DuckDB aggregate over the events of the last
//! 30 days (events and distinct users per account) — the cheapest query any usage
//! metric needs. The ratio is what to compare across machines.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use coco_store::{IngestOptions, Store, StoreOptions};

use crate::{Measurement, replace_section_between, spawn_child};

pub const BEGIN: &str = "<!-- coco-bench score: begin -->";
pub const END: &str = "<!-- coco-bench score: end -->";

/// The demo window ends here in every benchmark, so runs are comparable.
pub fn bench_end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 31).unwrap_or_default()
}

pub struct Size {
    pub accounts: usize,
    pub events_per_account_month: f64,
}

/// Generates and ingests the demo book once per size (kept in `work` for later runs).
pub fn prepare_store(work: &Path, size: &Size, memory_limit: &str) -> Result<PathBuf> {
    // `v2`: the demo writes users.csv since issue 6; a book generated before has none.
    let name = format!(
        "book-{}-{}-v2",
        size.accounts, size.events_per_account_month as u64
    );
    let store_dir = work.join(format!("{name}-store"));
    if store_dir.join("READY").exists() {
        return Ok(store_dir);
    }
    let files = work.join(format!("{name}-files"));
    let _ = std::fs::remove_dir_all(&files);
    let _ = std::fs::remove_dir_all(&store_dir);
    eprintln!("generating {} accounts × 12 months", size.accounts);
    let mut config = coco_demo::DemoConfig::new(size.accounts, 12, 7, bench_end());
    config.events_per_account_month = size.events_per_account_month;
    coco_demo::generate(&config, &files, &|_| {})?;
    eprintln!("ingesting into {}", store_dir.display());
    let options = StoreOptions {
        memory_limit: memory_limit.to_string(),
        ..StoreOptions::default()
    };
    let mut store = Store::open_with(&store_dir, &options)?;
    store.ingest_dir(&files, &IngestOptions::default(), &mut |_| {})?;
    drop(store);
    std::fs::remove_dir_all(&files)?;
    std::fs::write(store_dir.join("READY"), "")?;
    Ok(store_dir)
}

/// Child-process side: one measurement on `data_dir`.
pub fn child(kind: &str, data_dir: &Path, memory_limit: &str) -> Result<Option<Measurement>> {
    let options = StoreOptions {
        memory_limit: memory_limit.to_string(),
        ..StoreOptions::default()
    };
    let started = Instant::now();
    let rows = match kind {
        "score" => {
            let store = Store::open_with(data_dir, &options)?;
            let config = coco_engine::Config::load(None)?;
            let run = coco_engine::score_as_of(&store, &config, bench_end())?;
            run.snapshot.accounts as u64
        }
        "backfill-52w" => {
            let store = Store::open_with(data_dir, &options)?;
            let config = coco_engine::Config::load(None)?;
            let from = bench_end() - chrono::Days::new(7 * 51);
            let runs = coco_engine::backfill(&store, &config, from, bench_end(), 7, &mut |_| {})?;
            runs.len() as u64
        }
        "baseline-scan" => {
            let conn = crate::bare_connection(data_dir, memory_limit)?;
            let end = bench_end() + chrono::Days::new(1);
            let start = end - chrono::Days::new(30);
            conn.query_row(
                &format!(
                    "SELECT count(*) FROM (SELECT account_id, count(*), count(DISTINCT user_id) FROM usage_events \
                     WHERE occurred_at >= TIMESTAMP '{start} 00:00:00' AND occurred_at < TIMESTAMP '{end} 00:00:00' GROUP BY account_id)"
                ),
                [],
                |row| row.get::<_, i64>(0),
            )? as u64
        }
        _ => return Ok(None),
    };
    Ok(Some(Measurement::finish(rows, started, Vec::new())))
}

pub fn run(
    sizes: &[Size],
    backfill_accounts: usize,
    work: &Path,
    memory_limit: &str,
    write: Option<&Path>,
) -> Result<()> {
    std::fs::create_dir_all(work)?;
    let mut rows = Vec::new();
    for size in sizes {
        let store = prepare_store(work, size, memory_limit)?;
        let events = count_events(&store)?;
        eprintln!("measuring: score {} accounts", size.accounts);
        let baseline = spawn_child("baseline-scan", &store, &store, memory_limit)?;
        let score = spawn_child("score", &store, &store, memory_limit)?;
        rows.push((size.accounts, events, score, baseline));
    }
    let backfill_size = Size {
        accounts: backfill_accounts,
        events_per_account_month: 40.0,
    };
    let backfill_store = prepare_store(work, &backfill_size, memory_limit)?;
    eprintln!("measuring: backfill 52 weekly snapshots, {backfill_accounts} accounts");
    let backfill = spawn_child(
        "backfill-52w",
        &backfill_store,
        &backfill_store,
        memory_limit,
    )?;

    let mut report = String::new();
    report.push_str(&format!(
        "Command: `cargo run --release -p coco-bench -- score --write docs/PERFORMANCE.md` · machine: {} cores, {:.0} GiB · DuckDB memory limit {memory_limit} · as of {} (demo book, 12 months, seed 7)\n\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        crate::total_memory_gib(),
        bench_end()
    ));
    report.push_str("| accounts | events | `coco score` (metrics + health) | peak RSS | baseline: bare 30-day aggregate | ratio |\n|---:|---:|---:|---:|---:|---:|\n");
    for (accounts, events, score, baseline) in &rows {
        report.push_str(&format!(
            "| {accounts} | {:.1} M | {:.1} s | {:.0} MB | {:.2} s | {:.1}× |\n",
            *events as f64 / 1e6,
            score.seconds,
            score.peak_rss_mb,
            baseline.seconds,
            score.seconds / baseline.seconds.max(1e-9)
        ));
    }
    report.push_str(&format!(
        "\nBackfill: {} weekly snapshots of {backfill_accounts} accounts in {:.1} s ({:.2} s per snapshot), peak RSS {:.0} MB.\n",
        backfill.rows,
        backfill.seconds,
        backfill.seconds / backfill.rows.max(1) as f64,
        backfill.peak_rss_mb
    ));
    println!("{report}");
    if let Some(path) = write {
        replace_section_between(path, &report, BEGIN, END)?;
        eprintln!("updated {}", path.display());
    }
    Ok(())
}

fn count_events(store: &Path) -> Result<u64> {
    let conn = duckdb::Connection::open(store.join(coco_store::store::DATABASE_FILE))
        .context("opening the benchmark store")?;
    Ok(
        conn.query_row("SELECT count(*) FROM usage_events", [], |row| {
            row.get::<_, i64>(0)
        })? as u64,
    )
}
