//! `coco-bench drafts`: the documents of issue 9 on the 100,000-account book of
//! `coco-bench lifecycle` (27 weekly snapshots): the weekly portfolio report (facts,
//! render, grounding check, HTML) and one account's QBR deck (facts, render, grounding,
//! HTML and PPTX) for the six largest accounts, without an LLM: the first cold (it loads
//! the book-wide inputs itself), the others with them loaded once, as a server does. Baseline in the same run:
//! the bare DuckDB scan of the latest snapshot's metric values (as in the lifecycle
//! bench).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use coco_drafts::document::Locale;
use coco_engine::drafts::account::{BookInputs, Preloaded};
use coco_engine::drafts::reports::{Report, ReportRequest, report};
use coco_engine::drafts::{AccountDocument, AccountDraftRequest, Drafting, account_draft_with};
use coco_store::snapshots::{HealthListFilter, HealthSort};

use crate::scoring::{Size, bench_end};
use crate::{Measurement, open_store, replace_section_between, spawn_child};

pub const BEGIN: &str = "<!-- coco-bench drafts: begin -->";
pub const END: &str = "<!-- coco-bench drafts: end -->";

/// Timeline entries per account in the read model, as the server keeps.
const TIMELINE_ENTRIES: usize = 40;
/// QBRs timed after the first (which also warms DuckDB's caches).
const WARM_QBRS: usize = 5;

/// Child-process side.
pub fn child(kind: &str, data_dir: &Path, memory_limit: &str) -> Result<Option<Measurement>> {
    let started = Instant::now();
    let mut phases: Vec<(String, f64)> = Vec::new();
    let rows = match kind {
        "drafts-portfolio" => {
            let store = open_store(data_dir, memory_limit)?;
            let config = coco_engine::Config::load(None)?;
            let drafting = Drafting::load(None, None)?;
            let opened = started.elapsed().as_secs_f64();
            phases.push(("open the store, load the configuration".into(), opened));
            let step = Instant::now();
            let draft = report(
                &store,
                &config,
                &drafting,
                &ReportRequest {
                    report: Report::Portfolio,
                    as_of: bench_end(),
                    locale: Locale::En,
                    account: None,
                    metric: None,
                },
            )?;
            let html = draft.html();
            phases.push((
                format!(
                    "weekly portfolio report: facts, render, grounding ({} claims), HTML ({} bytes)",
                    draft.grounding.claims.len(),
                    html.len()
                ),
                step.elapsed().as_secs_f64(),
            ));
            draft.grounding.claims.len() as u64
        }
        "drafts-qbr" => {
            let store = open_store(data_dir, memory_limit)?;
            let config = coco_engine::Config::load(None)?;
            let drafting = Drafting::load(None, None)?;
            let snapshot =
                coco_engine::portfolio::snapshot_pair(&store, &config, bench_end(), 0)?.current;
            let accounts: Vec<String> = store
                .health_list(
                    snapshot.snapshot_id,
                    None,
                    &HealthListFilter {
                        sort: HealthSort::Arr,
                        ..HealthListFilter::default()
                    },
                )?
                .into_iter()
                .take(WARM_QBRS + 1)
                .map(|row| row.account_id)
                .collect();
            phases.push((
                "open the store, load the configuration, pick the accounts".into(),
                started.elapsed().as_secs_f64(),
            ));
            let mut warm = Vec::new();
            let mut book = None;
            let mut views = None;
            for (n, account_id) in accounts.iter().enumerate() {
                if n == 1 {
                    let step = Instant::now();
                    // As the server holds them: its read model compares with a week
                    // and with the drafts' month.
                    views = Some(
                        coco_engine::account::read_model_comparing(
                            &store,
                            &config,
                            bench_end(),
                            &[7, coco_engine::drafts::account::COMPARE_DAYS],
                            TIMELINE_ENTRIES,
                        )?
                        .context("no snapshot to read the accounts' views from")?,
                    );
                    book = Some(BookInputs::load(&store, &config, bench_end())?);
                    phases.push((
                        "the book's inputs (growth base, adoption and expansion inputs, the accounts' views in memory as the server's read model), loaded once"
                            .into(),
                        step.elapsed().as_secs_f64(),
                    ));
                }
                let step = Instant::now();
                let draft = account_draft_with(
                    &store,
                    &config,
                    &drafting,
                    &AccountDraftRequest {
                        document: AccountDocument::Qbr,
                        account_id: account_id.clone(),
                        as_of: bench_end(),
                        locale: Locale::En,
                        motive: None,
                    },
                    Preloaded {
                        book: book.as_ref(),
                        views: views.as_ref(),
                    },
                )
                .with_context(|| format!("QBR of {account_id}"))?;
                let html = draft.html();
                let pptx = draft.pptx()?;
                let seconds = step.elapsed().as_secs_f64();
                if n == 0 {
                    phases.push((
                        format!(
                            "first QBR, cold: loads the book's inputs itself ({account_id}: {} claims, HTML {} bytes, PPTX {} bytes)",
                            draft.grounding.claims.len(),
                            html.len(),
                            pptx.len()
                        ),
                        seconds,
                    ));
                } else {
                    warm.push(seconds);
                }
            }
            warm.sort_by(f64::total_cmp);
            if let Some(median) = warm.get(warm.len() / 2) {
                phases.push((
                    format!(
                        "QBR with the book's inputs loaded, median of the next {} accounts (worst {:.3} s)",
                        warm.len(),
                        warm.last().copied().unwrap_or_default()
                    ),
                    *median,
                ));
            }
            accounts.len() as u64
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
    let store = crate::lifecycle::prepare(work, &size, memory_limit)?;
    eprintln!("measuring: baseline scan of the latest snapshot's metric values");
    let baseline = spawn_child("baseline-frame", &store, &store, memory_limit)?;
    eprintln!("measuring: the weekly portfolio report");
    let portfolio = spawn_child("drafts-portfolio", &store, &store, memory_limit)?;
    eprintln!("measuring: QBR decks");
    let qbr = spawn_child("drafts-qbr", &store, &store, memory_limit)?;
    let phase = |m: &Measurement, prefix: &str| {
        m.phases
            .iter()
            .find(|(name, _)| name.starts_with(prefix))
            .map(|(name, seconds)| (name.clone(), *seconds))
            .unwrap_or_default()
    };
    let (report_step, report_seconds) = phase(&portfolio, "weekly portfolio report");
    let (first_step, first_seconds) = phase(&qbr, "first QBR");
    let (book_step, book_seconds) = phase(&qbr, "the book's inputs");
    let (warm_step, warm_seconds) = phase(&qbr, "QBR with");
    let met = |seconds: f64, target: f64| if seconds <= target { "met" } else { "NOT met" };
    let mut out = format!(
        "Command: `cargo run --release -p coco-bench -- drafts --write docs/PERFORMANCE.md` · machine: {} cores, {:.0} GiB · DuckDB memory limit {memory_limit} · {accounts} accounts (demo book, seed 7, 44 events per account-month), 27 weekly snapshots ending {} · no LLM\n\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        crate::total_memory_gib(),
        bench_end()
    );
    out.push_str("| step | time | target |\n|---|---:|---:|\n");
    out.push_str(&format!(
        "| baseline: bare DuckDB scan of the latest snapshot's metric values by account ({} accounts) | {:.2} s | |\n",
        baseline.rows, baseline.seconds
    ));
    out.push_str(&format!(
        "| {report_step} | {report_seconds:.2} s ({:.0}× baseline) | ≤ 5 s ({}) |\n",
        report_seconds / baseline.seconds.max(1e-9),
        met(report_seconds, 5.0)
    ));
    out.push_str(&format!(
        "| {first_step} | {:.0} ms | |\n",
        first_seconds * 1000.0
    ));
    out.push_str(&format!("| {book_step} | {book_seconds:.2} s | |\n"));
    out.push_str(&format!(
        "| {warm_step} | {:.0} ms | ≤ 300 ms ({}) |\n",
        warm_seconds * 1000.0,
        met(warm_seconds, 0.3)
    ));
    out.push_str(&format!(
        "\nWhole child processes (with opening the store): report {:.2} s, peak RSS {:.0} MB; QBRs {:.2} s, peak RSS {:.0} MB.\n",
        portfolio.seconds, portfolio.peak_rss_mb, qbr.seconds, qbr.peak_rss_mb
    ));
    println!("{out}");
    if let Some(path) = write {
        replace_section_between(path, &out, BEGIN, END)?;
        eprintln!("updated {}", path.display());
    }
    Ok(())
}
