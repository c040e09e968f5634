//! COCO demo portfolio generator.
//!
//! Generates a realistic, causal and deterministic B2B SaaS book of business as one CSV
//! file per contract entity (see `coco_core::contract`), plus `_truth.csv` with the hidden
//! per-account factors that drive the outcomes. See `docs/demo-data.md`.
//!
//! ```no_run
//! use coco_demo::{generate, DemoConfig};
//! let end = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
//! let config = DemoConfig::new(1_000, 12, 42, end);
//! let summary = generate(&config, std::path::Path::new("demo"), &|_done| {}).unwrap();
//! println!("{} events", summary.events);
//! ```

mod account;
mod catalog;
mod model;
mod write;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use chrono::{Months, NaiveDate, TimeDelta};
use coco_core::contract::{self, ENTITIES};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::catalog::{Csm, REGIONS, build_csms};
use crate::write::{DirtyMode, EntitySpec, Sink};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    /// Number of customer accounts.
    pub accounts: usize,
    /// Length of the history window in months, ending at `end`.
    pub months: u32,
    /// Seed: the same config always produces byte-identical files.
    pub seed: u64,
    /// Last day of the window (inclusive); nothing event-dated lies after it.
    pub end: NaiveDate,
    /// Probability that a row of a checked file gets a deliberately invalid sibling
    /// (default 0.01). 0 disables dirty rows.
    pub dirty_rate: f64,
    /// Average raw usage events per active account per month (default 40).
    pub events_per_account_month: f64,
}

impl DemoConfig {
    pub fn new(accounts: usize, months: u32, seed: u64, end: NaiveDate) -> Self {
        DemoConfig {
            accounts,
            months,
            seed,
            end,
            dirty_rate: 0.01,
            events_per_account_month: 40.0,
        }
    }
}

/// One written file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    pub entity: &'static str,
    pub path: PathBuf,
    /// Data rows written (header excluded), dirty and duplicate rows included.
    pub rows: u64,
    /// Rows that violate the contract on purpose (ingest must quarantine exactly these).
    pub dirty_rows: u64,
    /// Exact repeats of an earlier row (usage_events only; ingest counts them unchanged).
    pub duplicate_rows: u64,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// One entry per contract entity, in load order.
    pub files: Vec<FileSummary>,
    pub accounts: usize,
    /// Clean, distinct raw usage events in `usage_events.csv`.
    pub events: u64,
    /// `_truth.csv`: hidden factors and true outcome drivers per account.
    pub truth_path: PathBuf,
}

#[derive(thiserror::Error, Debug)]
pub enum DemoError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write CSV {path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("invalid demo configuration: {0}")]
    InvalidConfig(String),
}

// Positions of the entities in `contract::ENTITIES` (checked in `Ctx::new`).
pub(crate) const E_CSMS: usize = 0;
pub(crate) const E_ACCOUNTS: usize = 1;
pub(crate) const E_FEATURES: usize = 2;
pub(crate) const E_CONTRACTS: usize = 3;
pub(crate) const E_CONTACTS: usize = 4;
pub(crate) const E_USERS: usize = 5;
pub(crate) const E_EVENTS: usize = 6;
pub(crate) const E_DAILY: usize = 7;
pub(crate) const E_TICKETS: usize = 8;
pub(crate) const E_TOUCHPOINTS: usize = 9;
pub(crate) const E_SURVEYS: usize = 10;
pub(crate) const E_MILESTONES: usize = 11;
pub(crate) const E_BILLING: usize = 12;
pub(crate) const E_OUTCOMES: usize = 13;
pub(crate) const E_FEEDBACK: usize = 14;
const ENTITY_ORDER: [&str; 15] = [
    "csms",
    "accounts",
    "features",
    "contracts",
    "contacts",
    "users",
    "usage_events",
    "usage_daily",
    "tickets",
    "touchpoints",
    "surveys",
    "milestones",
    "billing_events",
    "outcomes",
    "feedback",
];

/// Extra (non-contract) account columns; ingest keeps them in `custom_attributes`.
pub const ACCOUNT_CUSTOM_COLUMNS: [&str; 2] = ["acquisition_channel", "crm_health_note"];

/// Name of the ground-truth file (leading underscore: ingest skips it).
pub const TRUTH_FILE: &str = "_truth.csv";

/// Every `USAGE_DAILY_EVERY`-th account exports daily aggregates instead of raw events.
pub const USAGE_DAILY_EVERY: usize = 20;

/// Rate of exact duplicate rows in `usage_events.csv`.
pub const DUPLICATE_EVENT_RATE: f64 = 0.001;

/// Read-only state shared by all workers.
pub(crate) struct Ctx {
    pub seed: u64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub accounts: usize,
    pub id_width: usize,
    pub dirty_rate: f64,
    pub csms: Vec<Csm>,
    /// Routing groups: index focus * 4 + region -> (csm indices, weights).
    pub csm_groups: Vec<(Vec<usize>, Vec<f64>)>,
    pub csm_by_focus: Vec<(Vec<usize>, Vec<f64>)>,
    pub specs: Vec<EntitySpec>,
    /// Baseline sessions per pool user per day (before weekday/season/trend factors).
    pub sessions_per_user_day: f64,
    /// Mean number of feature events after the login event of a session.
    pub extra_events_per_session: f64,
}

impl Ctx {
    fn new(config: &DemoConfig) -> Result<Ctx, DemoError> {
        for (i, name) in ENTITY_ORDER.iter().enumerate() {
            if ENTITIES.get(i).map(|e| e.name) != Some(name) {
                return Err(DemoError::InvalidConfig(format!(
                    "the data contract changed: expected entity {name} at position {i}"
                )));
            }
        }
        let start = config
            .end
            .checked_sub_months(Months::new(config.months))
            .ok_or_else(|| DemoError::InvalidConfig("window start out of range".into()))?
            + TimeDelta::days(1);
        let mut global = ChaCha8Rng::seed_from_u64(mix(config.seed, u64::MAX, 0xC5));
        let csms = build_csms(config.accounts, &mut global, config.end);
        let mut csm_groups = vec![(Vec::new(), Vec::new()); 3 * REGIONS.len()];
        let mut csm_by_focus = vec![(Vec::new(), Vec::new()); 3];
        for (i, csm) in csms.iter().enumerate() {
            let group = &mut csm_groups[csm.focus * REGIONS.len() + csm.region];
            group.0.push(i);
            group.1.push(csm.weight);
            csm_by_focus[csm.focus].0.push(i);
            csm_by_focus[csm.focus].1.push(csm.weight);
        }
        let specs = ENTITIES
            .iter()
            .enumerate()
            .map(|(i, entity)| {
                let mut header: Vec<&'static str> = entity.columns.iter().map(|c| c.name).collect();
                if i == E_ACCOUNTS {
                    header.retain(|n| *n != "custom_attributes");
                    header.extend(ACCOUNT_CUSTOM_COLUMNS);
                }
                let mode = match i {
                    E_CSMS | E_FEATURES => DirtyMode::None,
                    E_EVENTS => DirtyMode::Copy,
                    E_DAILY => DirtyMode::Replace,
                    _ => DirtyMode::CopyWithSuffix,
                };
                EntitySpec::new(entity, header, mode)
            })
            .collect();
        // Calibrate the per-user session rate so that the average active account emits
        // `events_per_account_month` events: estimate the mean user pool by sampling
        // profiles with a fixed stream (independent of the seed, so rates are stable).
        let mean_pool = account::estimate_mean_pool();
        let per_user_day = config.events_per_account_month / 30.44 / mean_pool / USAGE_DAMPING;
        let mut extra = 1.5;
        let mut sessions = per_user_day / (1.0 + extra);
        if sessions > 0.35 {
            sessions = 0.35;
            extra = per_user_day / sessions - 1.0;
        }
        Ok(Ctx {
            seed: config.seed,
            start,
            end: config.end,
            accounts: config.accounts,
            id_width: catalog::digits(config.accounts).max(5),
            dirty_rate: config.dirty_rate,
            csms,
            csm_groups,
            csm_by_focus,
            specs,
            sessions_per_user_day: sessions,
            extra_events_per_session: extra,
        })
    }
}

/// Average of the weekday, seasonal, trend and ramp multipliers (measured), used to
/// calibrate the event rate to `events_per_account_month`.
const USAGE_DAMPING: f64 = 0.9;

/// SplitMix64 finaliser over (seed, index, salt): independent per-account streams.
pub(crate) fn mix(seed: u64, index: u64, salt: u64) -> u64 {
    let mut z =
        seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    for _ in 0..2 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

pub(crate) fn rng_for(seed: u64, index: usize, salt: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(seed, index as u64, salt))
}

/// Output of a chunk of accounts, one buffer per entity plus the truth rows.
pub(crate) struct ChunkOut {
    pub sinks: Vec<Sink>,
    pub truth: Vec<u8>,
    pub events: u64,
}

impl ChunkOut {
    fn new() -> Self {
        ChunkOut {
            sinks: (0..ENTITIES.len()).map(|_| Sink::default()).collect(),
            truth: Vec::new(),
            events: 0,
        }
    }

    fn clear(&mut self) {
        for sink in &mut self.sinks {
            sink.buf.clear();
            sink.rows = 0;
            sink.dirty = 0;
            sink.duplicates = 0;
        }
        self.truth.clear();
        self.events = 0;
    }
}

const CHUNK_ACCOUNTS: usize = 64;

/// Generates the demo portfolio into `out_dir` (created if missing). `progress` is
/// called with the number of accounts completed so far.
pub fn generate(
    config: &DemoConfig,
    out_dir: &Path,
    progress: &dyn Fn(u64),
) -> Result<DemoSummary, DemoError> {
    validate(config)?;
    std::fs::create_dir_all(out_dir).map_err(|source| DemoError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let ctx = Ctx::new(config)?;

    let mut files: Vec<OutFile> = Vec::with_capacity(ENTITIES.len());
    for spec in &ctx.specs {
        let path = out_dir.join(format!("{}.csv", spec.entity.name));
        let mut file = OutFile::create(path)?;
        let mut header = Sink::default();
        header.header(&spec.header);
        file.write(&header.buf)?;
        files.push(file);
    }
    let truth_path = out_dir.join(TRUTH_FILE);
    let mut truth = OutFile::create(truth_path.clone())?;
    let mut header = Sink::default();
    header.header(account::TRUTH_HEADER);
    truth.write(&header.buf)?;

    // Small catalogue files, written directly.
    let csms = account::csm_rows(&ctx);
    files[E_CSMS].append(&csms)?;
    let features = account::feature_rows(&ctx);
    files[E_FEATURES].append(&features)?;

    let chunks = config.accounts.div_ceil(CHUNK_ACCOUNTS);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
        .min(chunks.max(1));
    let mut events = 0u64;
    let ctx_ref = &ctx;
    std::thread::scope(|scope| -> Result<(), DemoError> {
        let mut receivers = Vec::with_capacity(workers);
        let mut recyclers = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (tx, rx) = sync_channel::<ChunkOut>(2);
            // Written buffers go back to their worker, so steady state allocates nothing.
            let (recycle_tx, recycle_rx) = sync_channel::<ChunkOut>(4);
            receivers.push(rx);
            recyclers.push(recycle_tx);
            scope.spawn(move || {
                for chunk in (worker..chunks).step_by(workers) {
                    let mut out = recycle_rx.try_recv().unwrap_or_else(|_| ChunkOut::new());
                    out.clear();
                    generate_chunk(ctx_ref, chunk, &mut out);
                    if tx.send(out).is_err() {
                        return; // the writer stopped (error): give up quietly
                    }
                }
            });
        }
        for chunk in 0..chunks {
            let out = receivers[chunk % workers]
                .recv()
                .expect("demo worker thread panicked");
            for (file, sink) in files.iter_mut().zip(&out.sinks) {
                file.append(sink)?;
            }
            truth.write(&out.truth)?;
            events += out.events;
            progress(((chunk + 1) * CHUNK_ACCOUNTS).min(config.accounts) as u64);
            let _ = recyclers[chunk % workers].try_send(out);
        }
        Ok(())
    })?;

    let mut summaries = Vec::with_capacity(files.len());
    for (file, spec) in files.into_iter().zip(&ctx.specs) {
        summaries.push(file.finish(spec.entity.name)?);
    }
    truth.finish(contract::ACCOUNTS.name)?;
    Ok(DemoSummary {
        files: summaries,
        accounts: config.accounts,
        events,
        truth_path,
    })
}

fn validate(config: &DemoConfig) -> Result<(), DemoError> {
    if config.accounts == 0 {
        return Err(DemoError::InvalidConfig(
            "accounts must be at least 1".into(),
        ));
    }
    if config.accounts > 10_000_000 {
        return Err(DemoError::InvalidConfig(
            "accounts must be at most 10,000,000".into(),
        ));
    }
    if !(1..=120).contains(&config.months) {
        return Err(DemoError::InvalidConfig(
            "months must be between 1 and 120".into(),
        ));
    }
    if !(0.0..=0.5).contains(&config.dirty_rate) {
        return Err(DemoError::InvalidConfig(
            "dirty_rate must be between 0 and 0.5".into(),
        ));
    }
    if !config.events_per_account_month.is_finite()
        || !(0.0..=100_000.0).contains(&config.events_per_account_month)
    {
        return Err(DemoError::InvalidConfig(
            "events_per_account_month must be between 0 and 100,000".into(),
        ));
    }
    use chrono::Datelike;
    if !(1990..=9000).contains(&config.end.year()) {
        return Err(DemoError::InvalidConfig("end date out of range".into()));
    }
    Ok(())
}

fn generate_chunk(ctx: &Ctx, chunk: usize, out: &mut ChunkOut) {
    let mut scratch = account::Scratch::default();
    let first = chunk * CHUNK_ACCOUNTS;
    let last = (first + CHUNK_ACCOUNTS).min(ctx.accounts);
    for idx in first..last {
        account::generate_account(ctx, idx, out, &mut scratch);
    }
}

struct OutFile {
    path: PathBuf,
    writer: BufWriter<File>,
    rows: u64,
    dirty: u64,
    duplicates: u64,
}

impl OutFile {
    fn create(path: PathBuf) -> Result<OutFile, DemoError> {
        let file = File::create(&path).map_err(|source| DemoError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(OutFile {
            writer: BufWriter::with_capacity(1 << 20, file),
            path,
            rows: 0,
            dirty: 0,
            duplicates: 0,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), DemoError> {
        self.writer
            .write_all(bytes)
            .map_err(|source| DemoError::Io {
                path: self.path.clone(),
                source,
            })
    }

    fn append(&mut self, sink: &Sink) -> Result<(), DemoError> {
        self.write(&sink.buf)?;
        self.rows += sink.rows;
        self.dirty += sink.dirty;
        self.duplicates += sink.duplicates;
        Ok(())
    }

    fn finish(mut self, entity: &'static str) -> Result<FileSummary, DemoError> {
        self.writer.flush().map_err(|source| DemoError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(FileSummary {
            entity,
            path: self.path,
            rows: self.rows,
            dirty_rows: self.dirty,
            duplicate_rows: self.duplicates,
        })
    }
}
