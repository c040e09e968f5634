//! `coco-bench lifecycle`: every segmentation, workload and journey analysis (one load,
//! stages with their history, tiers, misalignment, migration, workload, rebalancing,
//! milestone analytics, churned-vs-retained at seven leads, drop-off, onboarding, silent
//! accounts) plus every account's scorecard, on 100,000 accounts with 27 weekly
//! snapshots; and the rebalancing search alone on 50 CSMs × 10,000 accounts. Baseline in
//! the same run: one bare DuckDB scan of the latest snapshot's metric values grouped by
//! account — the least loading the frame must read.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use coco_insights::workload::rebalance::{RebalanceInputs, propose};
use coco_insights::workload::{AccountEffort, CsmInfo};
use rand::{Rng, SeedableRng};

use crate::scoring::{Size, bench_end, prepare_store};
use crate::{
    Measurement, bare_connection, copy_dir, open_store, replace_section_between, spawn_child,
};

pub const BEGIN: &str = "<!-- coco-bench lifecycle: begin -->";
pub const END: &str = "<!-- coco-bench lifecycle: end -->";

/// Weekly snapshots before the as-of date: the comparison reads them up to 180 days
/// before each renewal, the stage history 26 weeks back.
const HISTORY_WEEKS: u64 = 26;

pub fn prepare(work: &Path, size: &Size, memory_limit: &str) -> Result<PathBuf> {
    let dir = work.join(format!(
        "book-{}-{}-lifecycle",
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
    spawn_child("lifecycle-backfill", &dir, &dir, memory_limit)?;
    std::fs::write(dir.join("READY"), "")?;
    Ok(dir)
}

/// A synthetic team for the rebalancing search: `csms` CSMs in three segment teams ×
/// four regions, `accounts` accounts with log-normal effort routed unevenly.
fn synthetic_book(
    csms: usize,
    accounts: usize,
) -> (Vec<CsmInfo>, Vec<AccountEffort>, Vec<Option<usize>>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let segments = ["enterprise", "mid_market", "smb"];
    let teams = ["Enterprise", "Mid-Market", "Scale"];
    let regions = ["NA", "EMEA", "APAC", "LATAM"];
    let team: Vec<CsmInfo> = (0..csms)
        .map(|i| CsmInfo {
            csm_id: format!("csm_{i:03}"),
            name: format!("CSM {i}"),
            team: Some(format!("{} {}", teams[i % 3], regions[(i / 3) % 4])),
            region: Some(regions[(i / 3) % 4].to_string()),
            skills: if i % 3 == 0 {
                vec!["enterprise".to_string()]
            } else {
                Vec::new()
            },
            active: i % 25 != 24,
            capacity_accounts: None,
        })
        .collect();
    let mut efforts = Vec::with_capacity(accounts);
    let mut owners = Vec::with_capacity(accounts);
    for a in 0..accounts {
        let s = a % 3;
        let hours = (rng.random::<f64>() * 1.2 - 0.6).exp() * [6.0, 2.0, 0.5][s];
        // Uneven routing: within the segment, CSMs with a low index get more.
        let candidates: Vec<usize> = (0..csms).filter(|c| c % 3 == s).collect();
        let pick = ((rng.random::<f64>().powi(2)) * candidates.len() as f64) as usize;
        let owner = candidates[pick.min(candidates.len() - 1)];
        efforts.push(AccountEffort {
            account_id: format!("acc_{a:05}"),
            account_name: format!("Account {a}"),
            owner_csm_id: Some(team[owner].csm_id.clone()),
            segment: Some(segments[s].to_string()),
            region: team[owner].region.clone(),
            coverage_model: None,
            stage: None,
            arr: None,
            base_hours: hours,
            stage_multiplier: 1.0,
            complexity: 0.0,
            items: Vec::new(),
            hours,
        });
        owners.push(Some(owner));
    }
    (team, efforts, owners)
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
        "lifecycle-backfill" => {
            let store = open_store(data_dir, memory_limit)?;
            let config = coco_engine::Config::load(None)?;
            let from = bench_end() - chrono::Days::new(7 * HISTORY_WEEKS);
            coco_engine::backfill(&store, &config, from, bench_end(), 7, &mut |_| {})?.len() as u64
        }
        "lifecycle-all" => {
            let store = open_store(data_dir, memory_limit)?;
            let config = coco_engine::Config::load(None)?;
            let overview = coco_engine::lifecycle::overview(&store, &config, bench_end(), None)?;
            lap(
                &format!(
                    "one load + stages (26 weeks of history) + tiers, misalignment, migration + workload and rebalancing ({} moves) + milestones + churned vs retained ({} + {} renewals, {} leads) + drop-off + onboarding + silent accounts",
                    overview.rebalance.moves.len(),
                    overview.comparison.comparison.churned,
                    overview.comparison.comparison.retained,
                    overview.comparison.comparison.predictability.len()
                ),
                &mut phases,
            );
            let cards = overview.scorecards(&config);
            lap(
                &format!("{} account scorecards (the intervention list)", cards.len()),
                &mut phases,
            );
            if let Some(first) = cards.first() {
                coco_engine::lifecycle::timeline(
                    &store,
                    &overview.base,
                    &config,
                    &first.account_id,
                    365,
                )?;
            }
            lap("one account's interaction timeline", &mut phases);
            overview.base.frame.account_count() as u64
        }
        "rebalance-50x10000" => {
            let config = coco_engine::Config::load(None)?;
            let (csms, efforts, owners) = synthetic_book(50, 10_000);
            let kept = vec![false; efforts.len()];
            let segment = |a: usize, name: &str| {
                (name == "segment")
                    .then(|| efforts[a].segment.clone())
                    .flatten()
            };
            let proposal = propose(
                &config.workload,
                &RebalanceInputs {
                    csms: &csms,
                    efforts: &efforts,
                    owners: &owners,
                    kept: &kept,
                    attribute: &segment,
                },
            );
            lap(
                &format!(
                    "σ of load {:.2} → {:.2}, {} moves ({} forced, {} swaps)",
                    proposal.before.std_dev,
                    proposal.after.std_dev,
                    proposal.moves.len(),
                    proposal.forced_moves,
                    proposal.swaps
                ),
                &mut phases,
            );
            proposal.moves.len() as u64
        }
        "baseline-frame" => {
            let conn = bare_connection(data_dir, memory_limit)?;
            conn.query_row(
                "SELECT count(*) FROM (SELECT account_id, count(*), sum(value) FROM metric_values \
                 WHERE snapshot_id = (SELECT max(snapshot_id) FROM snapshots) GROUP BY account_id)",
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
    eprintln!("measuring: baseline scan of the latest snapshot's metric values");
    let baseline = spawn_child("baseline-frame", &store, &store, memory_limit)?;
    eprintln!("measuring: every segmentation, workload and journey analysis");
    let all = spawn_child("lifecycle-all", &store, &store, memory_limit)?;
    eprintln!("measuring: rebalancing 50 CSMs × 10,000 accounts");
    let rebalance = spawn_child("rebalance-50x10000", &store, &store, memory_limit)?;
    let mut report = format!(
        "Command: `cargo run --release -p coco-bench -- lifecycle --write docs/PERFORMANCE.md` · machine: {} cores, {:.0} GiB · DuckDB memory limit {memory_limit} · {accounts} accounts (demo book, seed 7, 44 events per account-month), {} weekly snapshots ending {}\n\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        crate::total_memory_gib(),
        HISTORY_WEEKS + 1,
        bench_end()
    );
    report.push_str("| step | time | peak RSS | target |\n|---|---:|---:|---:|\n");
    report.push_str(&format!(
        "| baseline: bare DuckDB scan of the latest snapshot's metric values by account ({} accounts) | {:.2} s | {:.0} MB | |\n",
        baseline.rows, baseline.seconds, baseline.peak_rss_mb
    ));
    report.push_str(&format!(
        "| all segmentation, workload and journey analyses + every scorecard, {} accounts | {:.1} s ({:.0}× baseline) | {:.0} MB | ≤ 15 s |\n",
        all.rows,
        all.seconds,
        all.seconds / baseline.seconds.max(1e-9),
        all.peak_rss_mb
    ));
    report.push_str(&format!(
        "| rebalancing search, 50 CSMs × 10,000 accounts (synthetic) | {:.2} s | {:.0} MB | ≤ 10 s |\n",
        rebalance.seconds, rebalance.peak_rss_mb
    ));
    report.push_str("\nWhere the time goes:\n\n");
    for (phase, seconds) in all.phases.iter().chain(&rebalance.phases) {
        report.push_str(&format!("- {phase}: {seconds:.1} s\n"));
    }
    println!("{report}");
    if let Some(path) = write {
        replace_section_between(path, &report, BEGIN, END)?;
        eprintln!("updated {}", path.display());
    }
    Ok(())
}
