//! `coco-bench growth`: every expansion and adoption analysis (the pipeline with
//! cross-sell look-alikes, adoption profiles, gaps and causes, the heatmap, time to value,
//! the progress report against a baseline snapshot) on 100,000 accounts with nine weekly
//! snapshots. Baseline in the same run: one bare DuckDB scan grouping the last 90 days of
//! raw events by account and feature — the least the per-feature usage must read.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use crate::scoring::{Size, bench_end, prepare_store};
use crate::{
    Measurement, bare_connection, copy_dir, open_store, replace_section_between, spawn_child,
};

pub const BEGIN: &str = "<!-- coco-bench growth: begin -->";
pub const END: &str = "<!-- coco-bench growth: end -->";

/// Weekly snapshots before the as-of date: seat pressure's run and trend read them.
const HISTORY_WEEKS: u64 = 8;

fn prepare(work: &Path, size: &Size, memory_limit: &str) -> Result<PathBuf> {
    let dir = work.join(format!(
        "book-{}-{}-growth",
        size.accounts, size.events_per_account_month as u64
    ));
    if dir.join("READY").exists() {
        return Ok(dir);
    }
    let base = prepare_store(work, size, memory_limit)?;
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&base, &dir)?;
    eprintln!(
        "scoring {} weekly snapshots into {} (once)",
        HISTORY_WEEKS + 1,
        dir.display()
    );
    spawn_child("growth-backfill", &dir, &dir, memory_limit)?;
    std::fs::write(dir.join("READY"), "")?;
    Ok(dir)
}

/// Child-process side.
pub fn child(kind: &str, data_dir: &Path, memory_limit: &str) -> Result<Option<Measurement>> {
    let started = Instant::now();
    let mut phases: Vec<(String, f64)> = Vec::new();
    let mut step = Instant::now();
    let mut lap = |name: &str, phases: &mut Vec<(String, f64)>| {
        phases.push((name.to_string(), step.elapsed().as_secs_f64()));
        step = Instant::now();
    };
    let rows = match kind {
        "growth-backfill" => {
            let store = open_store(data_dir, memory_limit)?;
            let config = coco_engine::Config::load(None)?;
            let from = bench_end() - chrono::Days::new(7 * HISTORY_WEEKS);
            coco_engine::backfill(&store, &config, from, bench_end(), 7, &mut |_| {})?.len() as u64
        }
        "growth-all" => {
            let store = open_store(data_dir, memory_limit)?;
            let config = coco_engine::Config::load(None)?;
            let overview = coco_engine::growth::overview(&store, &config, bench_end())?;
            let run = &overview.expansion;
            lap(
                &format!(
                    "one load + expansion pipeline ({} opportunities at {} accounts) + adoption book (profiles, gaps, causes, time to value)",
                    run.summary.opportunities, run.summary.accounts
                ),
                &mut phases,
            );
            let report = coco_engine::adoption::report(&store, &config, &overview.book, 20)?;
            lap(
                &format!(
                    "adoption report against {}",
                    report
                        .baseline
                        .map_or("no baseline".to_string(), |d| d.to_string())
                ),
                &mut phases,
            );
            let heatmap = overview.book.heatmap("segment")?;
            let _svg = coco_engine::adoption::heatmap_svg(&heatmap);
            let causes = overview.book.cause_groups();
            let first = overview
                .book
                .accounts
                .first()
                .map(|a| a.profile.account_id.clone());
            if let Some(id) = first {
                overview.book.view(&config, &id)?;
            }
            lap(
                &format!(
                    "heatmap + SVG, {} cause groups, one account's plan",
                    causes.len()
                ),
                &mut phases,
            );
            report.accounts as u64
        }
        "baseline-usage" => {
            let conn = bare_connection(data_dir, memory_limit)?;
            let from = bench_end() - chrono::Days::new(89);
            conn.query_row(
                &format!(
                    "SELECT count(*) FROM (SELECT account_id, feature_key, count(*) FROM usage_events \
                     WHERE occurred_at >= TIMESTAMP '{from} 00:00:00' GROUP BY ALL)"
                ),
                [],
                |row| row.get::<_, i64>(0),
            )? as u64
        }
        _ => return Ok(None),
    };
    Ok(Some(Measurement::finish(rows, started, phases)))
}

pub fn run(accounts: usize, work: &Path, memory_limit: &str, write: Option<&Path>) -> Result<()> {
    std::fs::create_dir_all(work)?;
    let size = Size {
        accounts,
        events_per_account_month: 44.0,
    };
    let store = prepare(work, &size, memory_limit)?;
    eprintln!("measuring: baseline scan of 90 days of events by account and feature");
    let baseline = spawn_child("baseline-usage", &store, &store, memory_limit)?;
    eprintln!("measuring: every expansion and adoption analysis");
    let all = spawn_child("growth-all", &store, &store, memory_limit)?;
    let mut report = format!(
        "Command: `cargo run --release -p coco-bench -- growth --write docs/PERFORMANCE.md` · machine: {} cores, {:.0} GiB · DuckDB memory limit {memory_limit} · {accounts} accounts (demo book, seed 7, 44 events per account-month), {} weekly snapshots ending {}\n\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        crate::total_memory_gib(),
        HISTORY_WEEKS + 1,
        bench_end()
    );
    report.push_str("| step | time | peak RSS | target |\n|---|---:|---:|---:|\n");
    report.push_str(&format!(
        "| baseline: bare DuckDB scan, 90 days of events by account × feature ({} groups) | {:.2} s | {:.0} MB | |\n",
        baseline.rows, baseline.seconds, baseline.peak_rss_mb
    ));
    report.push_str(&format!(
        "| all expansion + adoption analyses, {} accounts | {:.1} s ({:.0}× baseline) | {:.0} MB | ≤ 15 s |\n",
        all.rows,
        all.seconds,
        all.seconds / baseline.seconds.max(1e-9),
        all.peak_rss_mb
    ));
    report.push_str("\nWhere the time goes:\n\n");
    for (phase, seconds) in &all.phases {
        report.push_str(&format!("- {phase}: {seconds:.1} s\n"));
    }
    println!("{report}");
    if let Some(path) = write {
        replace_section_between(path, &report, BEGIN, END)?;
        eprintln!("updated {}", path.display());
    }
    Ok(())
}
