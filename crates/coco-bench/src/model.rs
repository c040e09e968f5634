//! `coco-bench model`: churn model training (dataset build from the stored snapshots,
//! cross-fitted candidates, out-of-time backtest, lead time, refit, registration) on
//! 100,000 accounts × 52 weekly snapshots, and scoring every current account (predict,
//! explain with cohort percentiles, store). Baseline in the same run: one bare DuckDB
//! scan over the same snapshots' metric values — the least any training must read.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;

use crate::scoring::{Size, bench_end, prepare_store};
use crate::{
    Measurement, bare_connection, copy_dir, open_store, replace_section_between, spawn_child,
};

pub const BEGIN: &str = "<!-- coco-bench model: begin -->";
pub const END: &str = "<!-- coco-bench model: end -->";

/// The scored book with 52 weekly snapshots ending at `bench_end()`, built once.
fn prepare_history(work: &Path, size: &Size, memory_limit: &str) -> Result<PathBuf> {
    let history = work.join(format!(
        "book-{}-{}-model",
        size.accounts, size.events_per_account_month as u64
    ));
    if history.join("READY").exists() {
        return Ok(history);
    }
    let base = prepare_store(work, size, memory_limit)?;
    let _ = std::fs::remove_dir_all(&history);
    copy_dir(&base, &history)?;
    eprintln!(
        "backfilling 52 weekly snapshots into {} (once; ~15 min at 100k)",
        history.display()
    );
    spawn_child("model-backfill", &history, &history, memory_limit)?;
    std::fs::write(history.join("READY"), "")?;
    Ok(history)
}

/// Child-process side.
pub fn child(kind: &str, data_dir: &Path, memory_limit: &str) -> Result<Option<Measurement>> {
    let started = Instant::now();
    let mut phases = Vec::new();
    let rows = match kind {
        "model-backfill" => {
            let store = open_store(data_dir, memory_limit)?;
            let config = coco_engine::Config::load(None)?;
            let from = bench_end() - chrono::Days::new(7 * 51);
            coco_engine::backfill(&store, &config, from, bench_end(), 7, &mut |_| {})?.len() as u64
        }
        "model-train" => {
            let store = open_store(data_dir, memory_limit)?;
            let config = coco_engine::Config::load(None)?;
            let mut last = Instant::now();
            let mut previous = String::from("start");
            let trained = coco_engine::churn::history::train_history(
                &store,
                &config,
                coco_models::train::KindChoice::Auto,
                Some(bench_end()),
                &mut |step: &str| {
                    phases.push((
                        std::mem::replace(&mut previous, step.to_string()),
                        last.elapsed().as_secs_f64(),
                    ));
                    last = Instant::now();
                },
            )?;
            phases.push((previous, last.elapsed().as_secs_f64()));
            let chosen = trained.report.chosen().map(|c| c.evaluation.clone());
            phases.push((
                format!(
                    "backtest AUC {:.3}, ECE {:.3} ({})",
                    chosen.as_ref().and_then(|c| c.auc).unwrap_or(0.0),
                    chosen.as_ref().map_or(0.0, |c| c.ece),
                    trained.summary.kind
                ),
                0.0,
            ));
            store.promote_model(&trained.summary.version)?;
            trained.summary.training_rows as u64
        }
        "model-score" => {
            let store = open_store(data_dir, memory_limit)?;
            let config = coco_engine::Config::load(None)?;
            coco_engine::churn::scoring::score_accounts(&store, &config, bench_end(), None)?
                .accounts as u64
        }
        "baseline-features" => {
            let conn = bare_connection(data_dir, memory_limit)?;
            let from = bench_end() - chrono::Days::new(7 * 51);
            conn.query_row(
                &format!(
                    "SELECT count(*), sum(v.value) FROM metric_values v JOIN snapshots s USING (snapshot_id) \
                     WHERE s.as_of BETWEEN DATE '{from}' AND DATE '{}'",
                    bench_end()
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
    let store = prepare_history(work, &size, memory_limit)?;
    eprintln!("measuring: baseline scan of the snapshots' metric values");
    let baseline = spawn_child("baseline-features", &store, &store, memory_limit)?;
    eprintln!("measuring: train (dataset, cross-fitting, backtest, refit)");
    let train = spawn_child("model-train", &store, &store, memory_limit)?;
    eprintln!("measuring: score every current account");
    let score = spawn_child("model-score", &store, &store, memory_limit)?;

    let mut report = format!(
        "Command: `cargo run --release -p coco-bench -- model --write docs/PERFORMANCE.md` · machine: {} cores, {:.0} GiB · DuckDB memory limit {memory_limit} · {accounts} accounts, 52 weekly snapshots ending {} (demo book, seed 7)\n\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        crate::total_memory_gib(),
        bench_end()
    );
    report.push_str("| step | time | peak RSS | target |\n|---|---:|---:|---:|\n");
    report.push_str(&format!(
        "| baseline: bare scan of the 52 snapshots' metric values ({:.1} M values) | {:.2} s | {:.0} MB | |\n",
        baseline.rows as f64 / 1e6,
        baseline.seconds,
        baseline.peak_rss_mb
    ));
    report.push_str(&format!(
        "| `coco model train`: dataset + training + backtest + refit ({} rows in the refit) | {:.1} s ({:.0}× baseline) | {:.0} MB | ≤ 60 s |\n",
        train.rows,
        train.seconds,
        train.seconds / baseline.seconds.max(1e-9),
        train.peak_rss_mb
    ));
    report.push_str(&format!(
        "| `coco model score`: {} accounts predicted, explained, stored | {:.2} s | {:.0} MB | ≤ 2 s |\n",
        score.rows, score.seconds, score.peak_rss_mb
    ));
    report.push_str("\nWhere the training time goes (each step until the next):\n\n");
    for (phase, seconds) in &train.phases {
        if *seconds > 0.0 {
            report.push_str(&format!("- {phase}: {seconds:.1} s\n"));
        } else {
            report.push_str(&format!("- result: {phase}\n"));
        }
    }
    println!("{report}");
    if let Some(path) = write {
        replace_section_between(path, &report, BEGIN, END)?;
        eprintln!("updated {}", path.display());
    }
    Ok(())
}
