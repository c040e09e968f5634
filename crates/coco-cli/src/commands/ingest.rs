use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use coco_core::contract;
use coco_store::{IngestOptions, IngestReport, Mapping, SourceFormat, Store};
use indicatif::{ProgressBar, ProgressStyle};

use crate::GlobalArgs;
use crate::commands::{open_store, user_error};
use crate::output::{self, Format};

#[derive(Args)]
pub struct IngestArgs {
    /// Entity the file holds (accounts, contracts, usage_events, ...; see `coco contract`).
    #[arg(required_unless_present = "dir")]
    pub entity: Option<String>,
    /// File to load (.csv, .tsv, .jsonl, .parquet).
    #[arg(required_unless_present = "dir")]
    pub file: Option<PathBuf>,
    /// Load every file of a folder whose name is an entity (accounts.csv, tickets.jsonl, ...),
    /// in dependency order; `<entity>.mapping.toml` beside a file is applied to it.
    #[arg(long, conflicts_with_all = ["entity", "file"])]
    pub dir: Option<PathBuf>,
    /// Mapping file (TOML) renaming, casting and deriving columns of a foreign export.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Input format when the extension does not say.
    #[arg(long, value_parser = ["csv", "tsv", "jsonl", "ndjson", "parquet"])]
    pub input_format: Option<String>,
    /// CSV delimiter (one character; `\t` for tab).
    #[arg(long)]
    pub delimiter: Option<String>,
}

pub fn run(global: &GlobalArgs, args: &IngestArgs) -> Result<()> {
    let mapping = args.mapping.as_deref().map(Mapping::load).transpose()?;
    let delimiter = match args.delimiter.as_deref() {
        None => None,
        Some("\\t") | Some("tab") => Some(b'\t'),
        Some(d) if d.len() == 1 => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(user_error(
                format!("--delimiter must be one character, got {d:?}"),
                None,
            ));
        }
    };
    let format = args.input_format.as_deref().and_then(SourceFormat::parse);
    let mut store = open_store(global)?;
    let bar = progress_bar();
    let on_progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let options = IngestOptions {
        mapping: mapping.as_ref(),
        format,
        delimiter,
        progress: Some(&on_progress),
        chunk_rows: None,
    };
    let reports = match &args.dir {
        Some(dir) => {
            let mut on_file = |report: &IngestReport| {
                bar.println(format!(
                    "{:<15} read {:>9}  inserted {:>9}  updated {:>7}  unchanged {:>9}  rejected {:>6}",
                    report.entity,
                    report.rows_read,
                    report.inserted,
                    report.updated,
                    report.unchanged,
                    report.rejected
                ));
            };
            let (reports, skipped) = store.ingest_dir(dir, &options, &mut on_file)?;
            for path in skipped {
                eprintln!(
                    "warning: skipped {} (its name is not an entity: {})",
                    path.display(),
                    contract::entity_names().join(", ")
                );
            }
            if reports.is_empty() {
                return Err(user_error(
                    format!("no file in {} is named after an entity", dir.display()),
                    Some("name files after entities: accounts.csv, usage_events.parquet, ..."),
                ));
            }
            reports
        }
        None => {
            let name = args.entity.as_deref().unwrap_or_default();
            let entity = contract::entity(name).ok_or_else(|| {
                user_error(
                    format!("unknown entity {name:?}"),
                    Some(&format!(
                        "entities: {}",
                        contract::entity_names().join(", ")
                    )),
                )
            })?;
            let file = args
                .file
                .as_ref()
                .ok_or_else(|| user_error("a file is required", None))?;
            vec![store.ingest_file(entity, file, &options)?]
        }
    };
    bar.finish_and_clear();
    print_reports(&reports, global.format)
}

/// Per-file counts, then a total line, then warnings and a pointer to the quarantine.
pub fn print_reports(reports: &[IngestReport], format: Format) -> Result<()> {
    for report in reports {
        for warning in &report.warnings {
            eprintln!("warning: {}: {warning}", report.source);
        }
    }
    if format != Format::Table {
        return output::print_rows(reports, format);
    }
    let mut table = output::new_table();
    table.set_header([
        "load",
        "entity",
        "file",
        "read",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "seconds",
    ]);
    let mut totals = [0u64; 5];
    for r in reports {
        let file = std::path::Path::new(&r.source)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        table.add_row([
            r.load_id.to_string(),
            r.entity.to_string(),
            file,
            r.rows_read.to_string(),
            r.inserted.to_string(),
            r.updated.to_string(),
            r.unchanged.to_string(),
            r.rejected.to_string(),
            format!("{:.2}", r.seconds),
        ]);
        for (total, value) in
            totals
                .iter_mut()
                .zip([r.rows_read, r.inserted, r.updated, r.unchanged, r.rejected])
        {
            *total += value;
        }
    }
    if reports.len() > 1 {
        table.add_row(
            ["", "total", ""]
                .into_iter()
                .map(str::to_string)
                .chain(totals.iter().map(|t| t.to_string()))
                .chain([String::new()]),
        );
    }
    println!("{table}");
    let rejected: u64 = reports.iter().map(|r| r.rejected).sum();
    if rejected > 0 {
        println!(
            "{rejected} row(s) rejected and kept in the quarantine: `coco quarantine list` shows why; fix and re-ingest."
        );
    }
    Ok(())
}

pub fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} [{bar:30}] {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Used by quickstart and demo --into-store.
pub fn ingest_folder(
    store: &mut Store,
    dir: &std::path::Path,
    format: Format,
) -> Result<Vec<IngestReport>> {
    let bar = progress_bar();
    let on_progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let options = IngestOptions {
        progress: Some(&on_progress),
        ..IngestOptions::default()
    };
    let mut on_file = |_: &IngestReport| {};
    let (reports, _) = store.ingest_dir(dir, &options, &mut on_file)?;
    bar.finish_and_clear();
    print_reports(&reports, format)?;
    Ok(reports)
}
