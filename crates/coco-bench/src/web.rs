//! `coco-bench web`: the web server under load, measured with `oha` (a public HTTP load
//! generator: `cargo install oha`).
//!
//! The server runs in this process on a copy of the 100,000-account benchmark book
//! with four weekly snapshots; `oha` runs as a child process against it, so both
//! share the machine's two cores (as a server and its users' traffic never do in
//! production — the numbers are pessimistic). Every scenario is paired with the same
//! run against `/healthz`, the cheapest authenticated-free route: the ratio is what to
//! compare across machines.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use coco_core::Role;
use coco_store::Store;
use serde::Deserialize;

use crate::open_store;
use crate::replace_section_between;
use crate::scoring::{Size, bench_end, prepare_store};

pub const BEGIN: &str = "<!-- coco-bench web: begin -->";
pub const END: &str = "<!-- coco-bench web: end -->";

const BENCH_USER: &str = "bench";
/// As-of dates each first-time account is asked with (see `run`).
const FIRST_TIME_DATES: u64 = 28;

pub struct WebOptions {
    pub accounts: usize,
    pub seconds: u64,
    pub work: PathBuf,
    pub memory_limit: String,
    pub write: Option<PathBuf>,
}

/// What one `oha` run reports (its `--output-format json`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OhaReport {
    summary: OhaSummary,
    latency_percentiles: OhaPercentiles,
    status_code_distribution: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    error_distribution: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OhaSummary {
    requests_per_sec: f64,
}

#[derive(Debug, Deserialize)]
struct OhaPercentiles {
    p50: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
}

struct Scenario {
    name: &'static str,
    target: &'static str,
    connections: usize,
    /// Requests per second for all connections together (None: as fast as possible).
    rate: Option<u32>,
    urls: Urls,
    /// Which number the target is about, and its bound.
    check: Check,
}

enum Urls {
    One(String),
    File(PathBuf),
    /// A path pattern for `oha --rand-regex-url` (e.g. `page=[1-9]`).
    Pattern(String),
}

enum Check {
    P95AtMostMs(f64),
    RateAtLeast(f64),
    AllAnswered,
    None,
}

struct Outcome {
    requests: u64,
    rate: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    not_ok: u64,
    errors: u64,
}

fn oha(base: &str, token: &str, scenario: &Scenario, seconds: u64) -> Result<Outcome> {
    let mut command = Command::new("oha");
    command
        // `-w`: requests in flight at the deadline finish (and count) rather than
        // being reported as aborted.
        .args(["--no-tui", "--output-format", "json", "-w", "-z"])
        .arg(format!("{seconds}s"))
        .arg("-c")
        .arg(scenario.connections.to_string())
        .arg("-H")
        .arg(format!("Authorization: Bearer {token}"));
    if let Some(rate) = scenario.rate {
        command
            .arg("-q")
            .arg(rate.to_string())
            .arg("--latency-correction");
    }
    match &scenario.urls {
        Urls::One(path) => {
            command.arg(format!("{base}{path}"));
        }
        Urls::File(file) => {
            command.arg("--urls-from-file").arg(file);
        }
        Urls::Pattern(path) => {
            // In a pattern `?` is an operator (oha takes `.` literally).
            let pattern = format!("{base}{path}").replace('?', "\\?");
            command.arg("--rand-regex-url").arg(pattern);
        }
    }
    let output = command
        .output()
        .context("running oha (install it with `cargo install oha`)")?;
    if !output.status.success() {
        bail!(
            "oha failed on {}: {}",
            scenario.name,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: OhaReport = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("reading oha's report for {}", scenario.name))?;
    let requests: u64 = report.status_code_distribution.values().sum();
    let not_ok = report
        .status_code_distribution
        .iter()
        .filter(|(code, _)| !code.starts_with('2'))
        .map(|(_, count)| count)
        .sum();
    let ms = |seconds: Option<f64>| seconds.unwrap_or(f64::NAN) * 1000.0;
    Ok(Outcome {
        requests,
        rate: report.summary.requests_per_sec,
        p50_ms: ms(report.latency_percentiles.p50),
        p95_ms: ms(report.latency_percentiles.p95),
        p99_ms: ms(report.latency_percentiles.p99),
        not_ok,
        errors: report.error_distribution.values().sum(),
    })
}

/// A copy of the scoring benchmark's book with four weekly snapshots and a bench
/// user, made once and kept in `work`.
fn prepare_web_store(options: &WebOptions) -> Result<PathBuf> {
    let size = Size {
        accounts: options.accounts,
        events_per_account_month: 44.0,
    };
    let book = prepare_store(&options.work, &size, &options.memory_limit)?;
    let web = options
        .work
        .join(format!("book-{}-44-web", options.accounts));
    if web.join("READY").exists() {
        return Ok(web);
    }
    let _ = std::fs::remove_dir_all(&web);
    std::fs::create_dir_all(&web)?;
    std::fs::copy(
        book.join(coco_store::store::DATABASE_FILE),
        web.join(coco_store::store::DATABASE_FILE),
    )?;
    let store = open_store(&web, &options.memory_limit)?;
    let config = coco_engine::Config::load(None)?;
    eprintln!(
        "web store: four weekly snapshots of {} accounts",
        options.accounts
    );
    coco_engine::backfill(
        &store,
        &config,
        bench_end() - chrono::Days::new(21),
        bench_end(),
        7,
        &mut |_| {},
    )?;
    coco_server::users::add_user(
        &store,
        &coco_server::users::NewUserRequest {
            username: BENCH_USER,
            display_name: Some("Benchmark"),
            role: Role::Admin,
            csm_id: None,
        },
        "coco-bench",
    )?;
    drop(store);
    std::fs::write(web.join("READY"), "")?;
    Ok(web)
}

fn write_urls(path: &Path, base: &str, prefix: &str, accounts: &[String]) -> Result<()> {
    let lines: Vec<String> = accounts
        .iter()
        .map(|id| format!("{base}{prefix}{id}"))
        .collect();
    std::fs::write(path, lines.join("\n") + "\n")?;
    Ok(())
}

/// Every `step`-th account of the latest snapshot, skipping `exclude` (deterministic).
fn sample_accounts(store: &Store, exclude: &[String], count: usize) -> Result<Vec<String>> {
    let config = coco_engine::Config::load(None)?;
    let latest = store
        .snapshot_on_or_before(bench_end(), &config.catalogue.fingerprint())?
        .context("the web store has no snapshot")?;
    let all = store.health_list(
        latest.snapshot_id,
        None,
        &coco_store::snapshots::HealthListFilter {
            sort: coco_store::snapshots::HealthSort::Account,
            ..Default::default()
        },
    )?;
    let step = (all.len() / count.max(1)).max(1);
    Ok(all
        .into_iter()
        .step_by(step)
        .map(|row| row.account_id)
        .filter(|id| !exclude.contains(id))
        .take(count)
        .collect())
}

pub fn run(options: WebOptions) -> Result<()> {
    if Command::new("oha").arg("--version").output().is_err() {
        bail!("`oha` is not installed: cargo install oha");
    }
    let web = prepare_web_store(&options)?;
    let store = open_store(&web, &options.memory_limit)?;
    // A fresh token per run (names are unique per user).
    let token_name = format!(
        "coco-bench web {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.f")
    );
    let (_, token) =
        coco_server::users::create_token(&store, BENCH_USER, &token_name, None, "coco-bench")?;
    let config = coco_engine::Config::load(None)?;
    let connections = 4;
    let state = coco_server::state(
        store,
        config,
        &coco_server::ServeOptions {
            data_dir: web.clone(),
            connections,
            secure_cookies: false,
        },
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (sender, receiver) = std::sync::mpsc::channel();
    let served = state.clone();
    runtime.spawn(async move {
        let result = coco_server::serve(
            served,
            "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
            move |address| {
                let _ = sender.send(address);
            },
        )
        .await;
        if let Err(error) = result {
            eprintln!("server stopped: {error:#}");
        }
    });
    let address = receiver
        .recv_timeout(Duration::from_secs(60))
        .context("the server did not start")?;
    let base = format!("http://{address}");
    let rss_before_mb = crate::process_status_kb("VmRSS:") as f64 / 1024.0;
    eprintln!("server on {base}; waiting for its warm-up");
    let started = Instant::now();
    let hot = loop {
        if let Some(warmed) = state.inner.views.warmed_accounts() {
            break warmed;
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!("the server's warm-up did not finish in 15 minutes");
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let warm_up_seconds = started.elapsed().as_secs_f64();
    let rss_after_mb = crate::process_status_kb("VmRSS:") as f64 / 1024.0;
    let cold = runtime.block_on(state.pool().run({
        let hot = hot.clone();
        move |store| {
            sample_accounts(store, &hot, usize::MAX)
                .map_err(|error| coco_server::error::AppError::internal(format!("{error:#}")))
        }
    }))?;
    let hot_pages = options.work.join("web-hot-pages.txt");
    let hot_api = options.work.join("web-hot-api.txt");
    let cold_pages = options.work.join("web-cold-pages.txt");
    let cold_api = options.work.join("web-cold-api.txt");
    write_urls(&hot_pages, &base, "/accounts/", &hot)?;
    write_urls(&hot_api, &base, "/api/v1/accounts/", &hot)?;
    // Every view is memoised per (as-of date, account): each first-time account is
    // asked with one of FIRST_TIME_DATES as-of dates after the latest snapshot (all
    // answered by it), so that hardly any request of a run finds its view computed.
    let first_time = |accounts: &[String]| -> Vec<String> {
        accounts
            .iter()
            .flat_map(|id| {
                (1..=FIRST_TIME_DATES)
                    .map(move |day| format!("{id}?as_of={}", bench_end() + chrono::Days::new(day)))
            })
            .collect()
    };
    write_urls(
        &cold_pages,
        &base,
        "/accounts/",
        &first_time(&cold[..cold.len() / 2]),
    )?;
    write_urls(
        &cold_api,
        &base,
        "/api/v1/accounts/",
        &first_time(&cold[cold.len() / 2..]),
    )?;

    let scenarios = [
        Scenario {
            name: "baseline: `/healthz`",
            target: "—",
            connections: 20,
            rate: None,
            urls: Urls::One("/healthz".into()),
            check: Check::None,
        },
        Scenario {
            name: "portfolio page `/`",
            target: "p95 ≤ 100 ms at 20",
            connections: 20,
            rate: None,
            urls: Urls::One("/".into()),
            check: Check::P95AtMostMs(100.0),
        },
        Scenario {
            name: "health list `/health?sort=change&segment=enterprise`",
            target: "—",
            connections: 20,
            rate: None,
            urls: Urls::One("/health?sort=change&segment=enterprise".into()),
            check: Check::None,
        },
        Scenario {
            name: "account 360, accounts the warm-up prepared",
            target: "p95 ≤ 100 ms at 20",
            connections: 20,
            rate: None,
            urls: Urls::File(hot_pages),
            check: Check::P95AtMostMs(100.0),
        },
        Scenario {
            name: "account 360, accounts opened for the first time, flat out",
            target: "p95 ≤ 100 ms at 20",
            connections: 20,
            rate: None,
            urls: Urls::File(cold_pages.clone()),
            check: Check::P95AtMostMs(100.0),
        },
        Scenario {
            name: "account 360, first-time accounts, 20 users × one every 4 s",
            target: "p95 ≤ 100 ms at 20",
            connections: 20,
            rate: Some(5),
            urls: Urls::File(cold_pages),
            check: Check::P95AtMostMs(100.0),
        },
        Scenario {
            name: "API account detail, prepared accounts",
            target: "≥ 1,000 req/s",
            connections: 20,
            rate: None,
            urls: Urls::File(hot_api),
            check: Check::RateAtLeast(1000.0),
        },
        Scenario {
            name: "API account detail, first-time accounts",
            target: "≥ 1,000 req/s",
            connections: 20,
            rate: None,
            urls: Urls::File(cold_api),
            check: Check::RateAtLeast(1000.0),
        },
        Scenario {
            name: "200 connections: account lists, pages 1–9",
            target: "all answered 2xx",
            connections: 200,
            rate: None,
            urls: Urls::Pattern("/api/v1/accounts?page=[1-9]".into()),
            check: Check::AllAnswered,
        },
    ];
    let mut rows = String::new();
    let mut baseline_rate = f64::NAN;
    for scenario in &scenarios {
        eprintln!("measuring: {} ({} s)", scenario.name, options.seconds);
        let outcome = oha(&base, &token, scenario, options.seconds)?;
        if baseline_rate.is_nan() {
            baseline_rate = outcome.rate;
        }
        let verdict = match scenario.check {
            Check::P95AtMostMs(bound) => met(outcome.p95_ms <= bound && outcome.not_ok == 0),
            Check::RateAtLeast(bound) => met(outcome.rate >= bound && outcome.not_ok == 0),
            Check::AllAnswered => met(outcome.not_ok == 0 && outcome.errors == 0),
            Check::None => "",
        };
        rows.push_str(&format!(
            "| {} | {}{} | {} | {:.0} | {:.2} | {:.1} | {:.1} | {:.1} | {} | {} {} |\n",
            scenario.name,
            scenario.connections,
            scenario
                .rate
                .map(|r| format!(" (paced, {r} req/s)"))
                .unwrap_or_default(),
            outcome.requests,
            outcome.rate,
            baseline_rate / outcome.rate.max(1e-9),
            outcome.p50_ms,
            outcome.p95_ms,
            outcome.p99_ms,
            outcome.not_ok + outcome.errors,
            scenario.target,
            verdict,
        ));
    }
    // Still up and answering after the load.
    let after = oha(
        &base,
        &token,
        &Scenario {
            name: "after",
            target: "",
            connections: 1,
            rate: None,
            urls: Urls::One("/healthz".into()),
            check: Check::None,
        },
        1,
    )?;
    let mut report = format!(
        "Command: `cargo run --release -p coco-bench -- web --write docs/PERFORMANCE.md` · machine: {} cores, {:.0} GiB · \
         {} accounts, 4 weekly snapshots as of {} · server and `oha` {} on the same machine, {} s per scenario · \
         {} store handles · bearer-token authentication\n\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        crate::total_memory_gib(),
        options.accounts,
        bench_end(),
        oha_version(),
        options.seconds,
        connections,
    );
    report.push_str(&format!(
        "Warm-up after start (default portfolio and health list, account read model, account views of the {} likeliest accounts): {:.0} s. \
         \"First-time\" accounts are the {} other accounts (half for the page, half for the API), each asked as of one of the \
         {} days after the latest snapshot (all answered by it): a view is memoised per as-of date and account, so hardly \
         any request finds its view already computed ({} distinct URLs per scenario). \
         Resident memory of the process (server, store, oha excluded): {:.0} MB before the warm-up, {:.0} MB after it.\n\n",
        hot.len(),
        warm_up_seconds,
        cold.len(),
        FIRST_TIME_DATES,
        cold.len() / 2 * FIRST_TIME_DATES as usize,
        rss_before_mb,
        rss_after_mb,
    ));
    report.push_str(
        "| scenario | connections | requests | req/s | × slower than baseline | p50 ms | p95 ms | p99 ms | non-2xx or errors | target |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    report.push_str(&rows);
    report.push_str(&format!(
        "\nAfter the load the server answered `/healthz` {} times in 1 s ({} failures).\n",
        after.requests,
        after.not_ok + after.errors
    ));
    println!("{report}");
    if let Some(path) = &options.write {
        replace_section_between(path, &report, BEGIN, END)?;
        eprintln!("updated {}", path.display());
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

fn met(yes: bool) -> &'static str {
    if yes { "**met**" } else { "**not met**" }
}

fn oha_version() -> String {
    Command::new("oha")
        .arg("--version")
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_else(|| "oha".into())
}
