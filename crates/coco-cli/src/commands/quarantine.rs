use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use coco_store::quarantine::{QuarantineEntry, QuarantineFilter};

use crate::GlobalArgs;
use crate::commands::{open_store, user_error};
use crate::output;

#[derive(Subcommand)]
pub enum QuarantineCommand {
    /// Rejected rows with file, line, field and reason (open ones unless --all).
    #[command(after_help = "Example:\n  coco quarantine list --entity contracts --limit 20")]
    List(ListArgs),
    /// Counts of open rejects by entity, field and kind of problem.
    #[command(after_help = "Example:\n  coco quarantine summary")]
    Summary,
    /// One rejected row in full, by its LOAD:LINE id.
    #[command(after_help = "Example:\n  coco quarantine show 7:1042")]
    Show { id: String },
    /// Write rejected rows as they were read (CSV with the source's columns, or JSON
    /// Lines), to fix and ingest again.
    #[command(
        after_help = "Example:\n  coco quarantine export --entity accounts --out fix-accounts.csv\n  # edit, then: coco ingest accounts fix-accounts.csv"
    )]
    Export(ExportArgs),
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(long)]
    pub entity: Option<String>,
    #[arg(long)]
    pub load: Option<i64>,
    /// Include superseded and resolved rows.
    #[arg(long)]
    pub all: bool,
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Entity to export (one file holds one entity).
    #[arg(long)]
    pub entity: String,
    #[arg(long)]
    pub load: Option<i64>,
    /// Output file; `.jsonl` writes JSON Lines, anything else CSV.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(global: &GlobalArgs, command: &QuarantineCommand) -> Result<()> {
    let store = open_store(global)?;
    match command {
        QuarantineCommand::List(args) => {
            let entries = store.quarantine_entries(&QuarantineFilter {
                entity: args.entity.clone(),
                load_id: args.load,
                all: args.all,
                limit: Some(args.limit),
            })?;
            #[derive(serde::Serialize)]
            struct Row<'a> {
                id: &'a str,
                entity: &'a str,
                file: String,
                line: i64,
                field: &'a str,
                reason: &'a str,
                status: &'a str,
            }
            let rows: Vec<Row> = entries
                .iter()
                .map(|e| Row {
                    id: &e.id,
                    entity: &e.entity,
                    file: short_name(&e.source),
                    line: e.line,
                    field: &e.field,
                    reason: &e.reason,
                    status: &e.status,
                })
                .collect();
            match global.format {
                output::Format::Table => output::print_rows(&rows, global.format),
                _ => output::print_rows(&entries, global.format),
            }
        }
        QuarantineCommand::Summary => {
            output::print_rows(&store.quarantine_summary()?, global.format)
        }
        QuarantineCommand::Show { id } => {
            let (load, line) = id
                .split_once(':')
                .and_then(|(l, n)| Some((l.parse::<i64>().ok()?, n.parse::<i64>().ok()?)))
                .ok_or_else(|| {
                    user_error(
                        format!("bad id {id:?}"),
                        Some("ids look like LOAD:LINE, e.g. 7:1042"),
                    )
                })?;
            let entry = store.quarantine_entry(load, line)?;
            output::print_object(&entry, global.format)
        }
        QuarantineCommand::Export(args) => {
            let entries = store.quarantine_entries(&QuarantineFilter {
                entity: Some(args.entity.clone()),
                load_id: args.load,
                all: false,
                limit: None,
            })?;
            let written = export(&entries, &args.out)?;
            eprintln!("wrote {written} row(s) to {}", args.out.display());
            Ok(())
        }
    }
}

fn short_name(source: &str) -> String {
    std::path::Path::new(source)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| source.to_string())
}

/// Writes rejected rows back in their source shape. Rows kept as a bare field list
/// (their field count did not match the header) are written as they were split.
fn export(entries: &[QuarantineEntry], out: &std::path::Path) -> Result<usize> {
    let jsonl = out.extension().is_some_and(|e| e == "jsonl");
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    if jsonl {
        use std::io::Write;
        let mut writer = std::io::BufWriter::new(file);
        for entry in entries {
            writeln!(writer, "{}", entry.raw)?;
        }
        writer.flush()?;
        return Ok(entries.len());
    }
    let parsed: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| serde_json::from_str(&e.raw).unwrap_or(serde_json::Value::String(e.raw.clone())))
        .collect();
    let mut header: Vec<String> = Vec::new();
    for value in &parsed {
        if let serde_json::Value::Object(map) = value {
            for key in map.keys() {
                if !header.contains(key) {
                    header.push(key.clone());
                }
            }
        }
    }
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(file);
    writer.write_record(&header)?;
    for value in &parsed {
        match value {
            serde_json::Value::Object(map) => {
                writer.write_record(header.iter().map(|h| output::cell(map.get(h))))?
            }
            serde_json::Value::Array(fields) => {
                writer.write_record(fields.iter().map(|f| output::cell(Some(f))))?
            }
            other => writer.write_record([output::cell(Some(other))])?,
        }
    }
    writer.flush()?;
    Ok(parsed.len())
}
