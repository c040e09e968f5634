//! Ingest: the only way data gets into the store.
//!
//! One file is one load and one transaction:
//! 1. read the header and resolve every contract column (file-level errors stop here,
//!    before anything is written);
//! 2. stream the rows into a temp staging table (`reader`), rejecting rows that cannot
//!    be split into fields;
//! 3. type and check every value in SQL (`sql`), first failure per row wins;
//! 4. reject duplicate keys, then merge: upsert with history, or append with
//!    de-duplication for raw events;
//! 5. record rejected rows in `quarantine`, the counts in `loads`, and commit.
//!
//! A crash anywhere before the commit leaves the store exactly as it was.

pub mod mapping;
pub mod reader;
pub mod sql;

use std::path::{Path, PathBuf};
use std::time::Instant;

use coco_core::contract::{self, Entity, MergeMode};
use serde::Serialize;

use crate::error::IngestError;
use crate::store::Store;
use mapping::Mapping;
use reader::{EXTRA_COLUMN, RAW_COLUMN};
use sql::{CHECKED_TABLE, STAGE_TABLE, SourceColumns, VALID_TABLE, quote_ident, quote_literal};

/// File formats ingest reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Csv,
    JsonLines,
    Parquet,
}

impl SourceFormat {
    /// From a name (`csv`, `tsv`, `jsonl`, `ndjson`, `json`, `parquet`).
    pub fn parse(name: &str) -> Option<SourceFormat> {
        match name.to_ascii_lowercase().as_str() {
            "csv" | "tsv" | "txt" => Some(SourceFormat::Csv),
            "jsonl" | "ndjson" | "json" => Some(SourceFormat::JsonLines),
            "parquet" | "pq" => Some(SourceFormat::Parquet),
            _ => None,
        }
    }

    pub fn from_path(path: &Path) -> Option<SourceFormat> {
        path.extension()
            .and_then(|e| e.to_str())
            .and_then(SourceFormat::parse)
    }

    pub fn name(&self) -> &'static str {
        match self {
            SourceFormat::Csv => "csv",
            SourceFormat::JsonLines => "jsonl",
            SourceFormat::Parquet => "parquet",
        }
    }
}

/// How to read one file.
#[derive(Default)]
pub struct IngestOptions<'a> {
    pub mapping: Option<&'a Mapping>,
    pub format: Option<SourceFormat>,
    pub delimiter: Option<u8>,
    /// Called with (bytes read, file size) while streaming.
    pub progress: Option<&'a dyn Fn(u64, u64)>,
    /// Rows per chunk for event tables (default [`CHUNK_ROWS`]); tests make it small
    /// to cross chunk boundaries.
    pub chunk_rows: Option<u64>,
}

/// What one load did. `rows_read = inserted + updated + unchanged + rejected`, always.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestReport {
    pub load_id: i64,
    pub entity: &'static str,
    pub source: String,
    pub format: &'static str,
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub warnings: Vec<String>,
    pub seconds: f64,
}

/// Files in a folder matched to entities, in load order.
pub struct DirectoryPlan {
    pub files: Vec<(&'static Entity, PathBuf, Option<Mapping>)>,
    /// Files that name no entity, skipped with a warning.
    pub skipped: Vec<PathBuf>,
}

/// Matches a folder's files to entities by name: `accounts.csv`, `accounts.jsonl`,
/// `accounts-2026-10.parquet`; `accounts.mapping.toml` beside it is applied to it.
/// Files starting with `_` or `.` are ignored silently.
pub fn plan_directory(dir: &Path) -> Result<DirectoryPlan, IngestError> {
    let entries = std::fs::read_dir(dir).map_err(|source| IngestError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| IngestError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut plan = DirectoryPlan {
        files: Vec::new(),
        skipped: Vec::new(),
    };
    let mut matched: Vec<(usize, PathBuf)> = Vec::new();
    for path in files {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            plan.skipped.push(path);
            continue;
        };
        if file_name.starts_with('_') || file_name.starts_with('.') || file_name.ends_with(".toml")
        {
            continue;
        }
        if SourceFormat::from_path(&path).is_none() {
            plan.skipped.push(path);
            continue;
        }
        let stem = file_name.split('.').next().unwrap_or(file_name);
        let position = contract::ENTITIES.iter().position(|e| {
            stem == e.name
                || stem
                    .strip_prefix(e.name)
                    .is_some_and(|rest| rest.starts_with('-') || rest.starts_with('.'))
        });
        match position {
            Some(position) => matched.push((position, path)),
            None => plan.skipped.push(path),
        }
    }
    matched.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    for (position, path) in matched {
        let entity = contract::ENTITIES[position];
        let mapping_path = dir.join(format!("{}.mapping.toml", entity.name));
        let mapping = if mapping_path.is_file() {
            Some(Mapping::load(&mapping_path)?)
        } else {
            None
        };
        plan.files.push((entity, path, mapping));
    }
    Ok(plan)
}

impl Store {
    /// Ingests one file as `entity`. Row problems are quarantined and counted; an
    /// `Err` means the file as a whole was refused and nothing changed.
    pub fn ingest_file(
        &mut self,
        entity: &'static Entity,
        path: &Path,
        options: &IngestOptions<'_>,
    ) -> Result<IngestReport, IngestError> {
        let started = Instant::now();
        let started_at = chrono::Utc::now().naive_utc();
        if let Some(mapping) = options.mapping
            && let Some(name) = &mapping.entity
            && contract::entity(name).map(|e| e.name) != Some(entity.name)
        {
            return Err(mapping.error(format!(
                "the mapping is for {name:?}, but the file is being ingested as {}",
                entity.name
            )));
        }
        let source = std::fs::canonicalize(path)
            .map_err(|source| IngestError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .to_string_lossy()
            .into_owned();
        let format = options
            .format
            .or_else(|| {
                options
                    .mapping
                    .and_then(|m| m.source.format.as_deref())
                    .and_then(SourceFormat::parse)
            })
            .or_else(|| SourceFormat::from_path(path))
            .ok_or_else(|| {
                IngestError::file(path, "cannot tell the format from the file name").with_hint(
                    "use a .csv, .tsv, .jsonl or .parquet extension, or pass --input-format",
                )
            })?;
        let file_size = std::fs::metadata(path)
            .map_err(|source| IngestError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        let delimiter = match options.delimiter {
            Some(d) => d,
            None => match options
                .mapping
                .map(|m| m.delimiter())
                .transpose()?
                .flatten()
            {
                Some(d) => d,
                None if path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("tsv")) =>
                {
                    b'\t'
                }
                None => b',',
            },
        };
        let db = |source: duckdb::Error| IngestError::Db {
            path: path.to_path_buf(),
            source,
        };
        let progress = |bytes: u64| {
            if let Some(callback) = options.progress {
                callback(bytes, file_size);
            }
        };

        // Atomicity. Upserted tables: the whole file is one transaction; dropping
        // `guard` uncommitted rolls it back. Event tables: one transaction per chunk,
        // because DuckDB keeps every temp table a transaction replaced until it ends
        // (memory would grow with the file); their rows are tagged with this load id
        // and only count once the `loads` row is written, in the last transaction.
        // On an error they are deleted here; after a crash, when the store is next
        // opened (`Store::remove_interrupted_loads`).
        let per_chunk = entity.merge == MergeMode::AppendDedup;
        let guard = if per_chunk {
            None
        } else {
            Some(Transaction::begin(&self.conn).map_err(db)?)
        };
        let conn = &self.conn;
        let load_id: i64 = conn
            .query_row("SELECT COALESCE(max(load_id), 0) + 1 FROM loads", [], |r| {
                r.get(0)
            })
            .map_err(db)?;

        // 1: resolve every contract column against the file's columns.
        let (columns, resolution) = match format {
            SourceFormat::Csv => {
                let header = reader::read_csv_header(path, delimiter)?;
                let hint = delimiter_hint(&header, delimiter);
                let resolution = sql::resolve(
                    entity,
                    &SourceColumns::Header(&header),
                    options.mapping,
                    path,
                    hint,
                )?;
                (StagedColumns::Header(header), resolution)
            }
            SourceFormat::JsonLines => {
                let keys = sql::requested_keys(entity, options.mapping);
                let resolution = sql::resolve(
                    entity,
                    &SourceColumns::Requested(&keys),
                    options.mapping,
                    path,
                    None,
                )?;
                (StagedColumns::Requested(keys), resolution)
            }
            SourceFormat::Parquet => {
                let header = parquet_columns(conn, path)?;
                let resolution = sql::resolve(
                    entity,
                    &SourceColumns::Header(
                        &header.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
                    ),
                    options.mapping,
                    path,
                    None,
                )?;
                (StagedColumns::Parquet(header), resolution)
            }
        };
        let mut warnings = Vec::new();
        if !resolution.unused.is_empty() && entity.name != "accounts" {
            warnings.push(format!(
                "ignored column{} not in the {} contract: {}",
                if resolution.unused.len() > 1 { "s" } else { "" },
                entity.name,
                resolution.unused.join(", ")
            ));
        }
        let stage_columns = columns.stage_columns();
        let source_names = columns.names();
        let source_view = match &columns {
            StagedColumns::Requested(keys) => SourceColumns::Requested(keys),
            _ => SourceColumns::Header(&source_names),
        };
        let mut chunk = ChunkProcessor {
            conn,
            entity,
            load_id,
            source: &source,
            checked_sql: sql::checked_table_sql(entity, &resolution),
            raw_sql: sql::raw_row_sql(&source_view, "s"),
            stage_columns: &stage_columns,
            per_chunk,
            totals: Totals::default(),
        };
        // Event tables are checked and merged a chunk at a time so memory stays
        // bounded whatever the file size; upserted tables are judged whole, because a
        // duplicate key may sit anywhere in the file.
        let chunk_rows = match entity.merge {
            MergeMode::AppendDedup => options.chunk_rows.unwrap_or(CHUNK_ROWS).max(1),
            MergeMode::Upsert => u64::MAX,
        };

        // 2-4: stage, check and merge.
        drop_scratch(conn).map_err(db)?;
        reader::create_stage_table(conn, STAGE_TABLE, &stage_columns).map_err(db)?;
        // A mapping expression that does not compile is the mapping's fault: say so
        // before reading a single row.
        if let Err(error) = conn.prepare(&chunk.checked_sql) {
            return Err(match options.mapping {
                Some(mapping) => mapping.error(format!(
                    "an expression does not work on {}: {error}",
                    path.display()
                )),
                None => db(error),
            });
        }
        let staged = match &columns {
            StagedColumns::Header(header) => {
                stream_into_stage(conn, path, chunk_rows, &mut chunk, &progress, |sink| {
                    reader::stage_csv(path, delimiter, header, sink)
                })
            }
            StagedColumns::Requested(keys) => {
                stream_into_stage(conn, path, chunk_rows, &mut chunk, &progress, |sink| {
                    reader::stage_jsonl(path, keys, sink)
                })
            }
            StagedColumns::Parquet(header) => {
                stage_parquet_chunks(conn, path, header, chunk_rows, &mut chunk, &progress)
            }
        };
        if let Err(error) = staged {
            if per_chunk {
                self.remove_interrupted_loads()
                    .map_err(IngestError::Store)?;
            }
            return Err(error);
        }
        let conn = &self.conn;
        progress(file_size);
        let final_guard = match guard {
            Some(guard) => guard,
            None => Transaction::begin(conn).map_err(db)?,
        };
        // Re-loading a source re-judges all its rows: its earlier open rejects are
        // superseded by this load's.
        conn.execute(
            "UPDATE quarantine SET status = 'superseded' WHERE status = 'open' AND entity = ? AND source = ? AND load_id <> ?",
            duckdb::params![entity.name, source, load_id],
        )
        .map_err(db)?;
        if per_chunk {
            resolve_quarantine(
                conn,
                entity,
                load_id,
                &format!(
                    "SELECT {} FROM {} c WHERE c._load_id = {load_id}",
                    sql::row_key_sql(entity, "c"),
                    quote_ident(entity.name)
                ),
            )
            .map_err(db)?;
        }

        let totals = chunk.totals;
        let rows_read = totals.staged + totals.early_rejected;
        let rejected = totals.early_rejected + totals.invalid + totals.duplicates;
        let report = IngestReport {
            load_id,
            entity: entity.name,
            source: source.clone(),
            format: format.name(),
            rows_read,
            inserted: totals.inserted,
            updated: totals.updated,
            unchanged: totals.unchanged,
            rejected,
            warnings,
            seconds: started.elapsed().as_secs_f64(),
        };
        let accounted = report.inserted + report.updated + report.unchanged + report.rejected;
        if accounted != rows_read {
            return Err(IngestError::Accounting {
                path: path.to_path_buf(),
                message: format!(
                    "read {rows_read} rows but accounted for {accounted} (inserted {}, updated {}, unchanged {}, rejected {})",
                    report.inserted, report.updated, report.unchanged, report.rejected
                ),
            });
        }
        conn.execute(
            "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
            duckdb::params![
                load_id,
                entity.name,
                source,
                format.name(),
                options
                    .mapping
                    .and_then(|m| m.path.as_ref())
                    .map(|p| p.to_string_lossy().into_owned()),
                started_at,
                rows_read as i64,
                report.inserted as i64,
                report.updated as i64,
                report.unchanged as i64,
                report.rejected as i64,
                env!("CARGO_PKG_VERSION"),
            ],
        )
        .map_err(db)?;
        drop_scratch(conn).map_err(db)?;
        final_guard.commit().map_err(db)?;
        tracing::info!(
            seconds = report.seconds,
            rows = rows_read,
            entity = entity.name,
            "ingested"
        );
        Ok(report)
    }

    /// Ingests every file of a folder that names an entity, in load order (so
    /// references resolve). Stops at the first file-level error; files already
    /// loaded stay loaded (each file is its own transaction).
    pub fn ingest_dir(
        &mut self,
        dir: &Path,
        options: &IngestOptions<'_>,
        on_file: &mut dyn FnMut(&IngestReport),
    ) -> Result<(Vec<IngestReport>, Vec<PathBuf>), IngestError> {
        let plan = plan_directory(dir)?;
        let mut reports = Vec::new();
        for (entity, path, mapping) in &plan.files {
            let file_options = IngestOptions {
                mapping: mapping.as_ref().or(options.mapping),
                format: options.format,
                delimiter: options.delimiter,
                progress: options.progress,
                chunk_rows: options.chunk_rows,
            };
            let report = self.ingest_file(entity, path, &file_options)?;
            on_file(&report);
            reports.push(report);
        }
        Ok((reports, plan.skipped))
    }
}

enum StagedColumns {
    /// CSV: the header's columns.
    Header(Vec<String>),
    /// JSON Lines: the keys asked for.
    Requested(Vec<String>),
    /// Parquet: (name, DuckDB type) of each column.
    Parquet(Vec<(String, String)>),
}

impl StagedColumns {
    /// The source's column names as the SQL sees them.
    fn names(&self) -> Vec<String> {
        match self {
            StagedColumns::Header(h) | StagedColumns::Requested(h) => h.clone(),
            StagedColumns::Parquet(columns) => columns.iter().map(|(n, _)| n.clone()).collect(),
        }
    }

    /// The staging table's VARCHAR columns (after `__line`).
    fn stage_columns(&self) -> Vec<String> {
        match self {
            StagedColumns::Requested(keys) => {
                let mut columns = keys.clone();
                columns.push(EXTRA_COLUMN.to_string());
                columns.push(RAW_COLUMN.to_string());
                columns
            }
            other => other.names(),
        }
    }
}

/// Rows staged before a chunk is checked and merged (event tables). Large enough
/// that per-chunk overhead is small, small enough to stay well inside the memory limit.
pub const CHUNK_ROWS: u64 = 1_000_000;

/// Counts accumulated over the chunks of one load.
#[derive(Default, Clone, Copy)]
struct Totals {
    staged: u64,
    early_rejected: u64,
    invalid: u64,
    inserted: u64,
    updated: u64,
    unchanged: u64,
    duplicates: u64,
}

/// Checks and merges whatever is in the staging table, then empties it.
struct ChunkProcessor<'a> {
    conn: &'a duckdb::Connection,
    entity: &'static Entity,
    load_id: i64,
    source: &'a str,
    checked_sql: String,
    /// The source row as read, over staging alias `s`.
    raw_sql: String,
    stage_columns: &'a [String],
    /// Commit each chunk on its own (event tables; see `ingest_file`).
    per_chunk: bool,
    totals: Totals,
}

impl ChunkProcessor<'_> {
    fn process(
        &mut self,
        staged: u64,
        early: &mut Vec<reader::EarlyReject>,
    ) -> Result<(), duckdb::Error> {
        let conn = self.conn;
        let guard = if self.per_chunk {
            Some(Transaction::begin(conn)?)
        } else {
            None
        };
        if !early.is_empty() {
            let mut insert = conn.prepare(
                "INSERT INTO quarantine (load_id, entity, source, line, field, reason, row_key, raw) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
            )?;
            for reject in early.iter() {
                insert.execute(duckdb::params![
                    self.load_id,
                    self.entity.name,
                    self.source,
                    reject.line as i64,
                    reject.field,
                    reject.reason,
                    reject.raw
                ])?;
            }
            self.totals.early_rejected += early.len() as u64;
            early.clear();
        }
        if staged == 0 {
            if let Some(guard) = guard {
                guard.commit()?;
            }
            return Ok(());
        }
        self.totals.staged += staged;
        let timer = std::time::Instant::now();
        conn.execute_batch(&self.checked_sql)?;
        tracing::debug!(
            seconds = timer.elapsed().as_secs_f64(),
            staged,
            "chunk checked"
        );
        let outcome = match self.entity.merge {
            MergeMode::Upsert => {
                let invalid: i64 = conn.query_row(
                    &format!("SELECT count(*) FROM {CHECKED_TABLE} WHERE __problem IS NOT NULL"),
                    [],
                    |r| r.get(0),
                )?;
                self.quarantine_invalid(invalid)?;
                merge_upsert(conn, self.entity, self.load_id, &|from| {
                    self.quarantine_insert(from)
                })?
            }
            MergeMode::AppendDedup => {
                let outcome = merge_append(conn, self.entity, self.load_id)?;
                self.quarantine_invalid(outcome.invalid)?;
                outcome
            }
        };
        tracing::debug!(seconds = timer.elapsed().as_secs_f64(), "chunk merged");
        self.totals.inserted += outcome.inserted;
        self.totals.updated += outcome.updated;
        self.totals.unchanged += outcome.unchanged;
        self.totals.duplicates += outcome.duplicates;
        if !self.per_chunk {
            resolve_quarantine(
                conn,
                self.entity,
                self.load_id,
                &format!(
                    "SELECT {} FROM {CHECKED_TABLE} c WHERE __problem IS NULL",
                    sql::row_key_sql(self.entity, "c")
                ),
            )?;
        }
        tracing::debug!(seconds = timer.elapsed().as_secs_f64(), "chunk resolved");
        reader::create_stage_table(conn, STAGE_TABLE, self.stage_columns)?;
        if let Some(guard) = guard {
            guard.commit()?;
        }
        Ok(())
    }

    /// Quarantines the chunk's rows that failed a check (`invalid` of them).
    fn quarantine_invalid(&mut self, invalid: i64) -> Result<(), duckdb::Error> {
        if invalid > 0 {
            self.totals.invalid += self.conn.execute(
                &self.quarantine_insert(&format!(
                    "(SELECT * FROM {CHECKED_TABLE} WHERE __problem IS NOT NULL)"
                )),
                [],
            )? as u64;
        }
        Ok(())
    }

    /// Quarantines the rows of `from` (a subquery of typed rows with `__problem`); the
    /// raw source row comes from the staging table, computed only for these rows.
    fn quarantine_insert(&self, from: &str) -> String {
        format!(
            "INSERT INTO quarantine (load_id, entity, source, line, field, reason, row_key, raw)
             SELECT {load_id}, {entity}, {source}, q.{line}, split_part(q.__problem, chr(31), 1),
                    split_part(q.__problem, chr(31), 2), {key}, {raw}
             FROM {from} q JOIN {STAGE_TABLE} s ON s.{line} = q.{line}",
            load_id = self.load_id,
            entity = quote_literal(self.entity.name),
            source = quote_literal(self.source),
            line = reader::LINE_COLUMN,
            key = sql::row_key_sql(self.entity, "q"),
            raw = self.raw_sql,
        )
    }
}

/// Drops the temp tables and views an ingest uses (also those an earlier, failed ingest
/// on this connection left behind).
fn drop_scratch(conn: &duckdb::Connection) -> Result<(), duckdb::Error> {
    let mut statement = conn.prepare(
        "SELECT table_name, table_type FROM information_schema.tables
         WHERE table_catalog = 'temp' AND starts_with(table_name, '__coco_')",
    )?;
    let scratch: Vec<(String, String)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, kind) in scratch {
        let kind = if kind == "VIEW" { "VIEW" } else { "TABLE" };
        conn.execute_batch(&format!(
            "DROP {kind} IF EXISTS temp.{}",
            quote_ident(&name)
        ))?;
    }
    Ok(())
}

/// Rows quarantined by earlier loads of other sources are resolved once a row with the
/// same key is accepted; `accepted_keys` selects those keys. Skipped when nothing waits
/// (building a key per row is not free).
fn resolve_quarantine(
    conn: &duckdb::Connection,
    entity: &Entity,
    load_id: i64,
    accepted_keys: &str,
) -> Result<(), duckdb::Error> {
    let waiting: i64 = conn.query_row(
        "SELECT count(*) FROM quarantine WHERE status = 'open' AND entity = ? AND load_id <> ?",
        duckdb::params![entity.name, load_id],
        |r| r.get(0),
    )?;
    if waiting > 0 {
        conn.execute(
            &format!(
                "UPDATE quarantine SET status = 'resolved'
                 WHERE status = 'open' AND entity = ? AND load_id <> ? AND row_key IN ({accepted_keys})"
            ),
            duckdb::params![entity.name, load_id],
        )?;
    }
    Ok(())
}

/// Runs `read` (a CSV or JSON Lines reader) on its own thread; this thread appends
/// its batches to the staging table and hands each full chunk to `chunk`.
fn stream_into_stage(
    conn: &duckdb::Connection,
    path: &Path,
    chunk_rows: u64,
    chunk: &mut ChunkProcessor<'_>,
    progress: &dyn Fn(u64),
    read: impl FnOnce(&mut reader::BatchSink) -> Result<Result<(), reader::Hangup>, IngestError> + Send,
) -> Result<(), IngestError> {
    let db = |source: duckdb::Error| IngestError::Db {
        path: path.to_path_buf(),
        source,
    };
    let columns = chunk.stage_columns.len();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<reader::Message>(16);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut sink = reader::BatchSink::new(columns, sender);
            read(&mut sink)
        });
        let mut staged_in_chunk: u64 = 0;
        let mut early = Vec::new();
        let mut consume = || -> Result<(), IngestError> {
            for message in receiver.iter() {
                match message {
                    reader::Message::Batch { batch, bytes } => {
                        staged_in_chunk += batch.num_rows() as u64;
                        reader::append_batch(conn, STAGE_TABLE, batch).map_err(db)?;
                        progress(bytes);
                    }
                    reader::Message::Reject(reject) => early.push(reject),
                }
                if staged_in_chunk >= chunk_rows || early.len() >= 10_000 {
                    chunk.process(staged_in_chunk, &mut early).map_err(db)?;
                    staged_in_chunk = 0;
                }
            }
            chunk.process(staged_in_chunk, &mut early).map_err(db)
        };
        let consumed = consume();
        // On a consumer error the receiver is dropped here, so the producer's next
        // send fails and it stops.
        drop(receiver);
        let produced = producer
            .join()
            .map_err(|_| IngestError::file(path, "the reader thread panicked"))?;
        consumed?;
        match produced? {
            Ok(()) => Ok(()),
            Err(reader::Hangup) => Err(IngestError::file(path, "staging stopped early")),
        }
    })
}

/// A single-column header containing another common delimiter means the file was
/// read with the wrong one.
fn delimiter_hint(header: &[String], delimiter: u8) -> Option<char> {
    if header.len() != 1 {
        return None;
    }
    [';', '\t', '|', ',']
        .into_iter()
        .filter(|c| *c as u32 != delimiter as u32)
        .find(|c| header[0].contains(*c))
}

/// A Parquet file's columns and their DuckDB types (a file-level error when the file
/// is not Parquet).
fn parquet_columns(
    conn: &duckdb::Connection,
    path: &Path,
) -> Result<Vec<(String, String)>, IngestError> {
    let literal = quote_literal(&path.to_string_lossy());
    let mut describe = conn
        .prepare(&format!("DESCRIBE SELECT * FROM read_parquet({literal})"))
        .map_err(|e| parquet_error(path, e))?;
    let columns = describe
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(|e| parquet_error(path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| parquet_error(path, e))?;
    Ok(columns)
}

fn parquet_error(path: &Path, error: duckdb::Error) -> IngestError {
    IngestError::file(path, format!("cannot read as Parquet: {error}"))
        .with_hint("check the file is Parquet, or pass --input-format")
}

/// Stages a Parquet file through DuckDB's own reader, `chunk_rows` rows at a time
/// (row groups outside a chunk's `file_row_number` range are skipped, so each chunk
/// reads only its part of the file). Values become trimmed text like CSV fields, so
/// one validation path serves every format.
fn stage_parquet_chunks(
    conn: &duckdb::Connection,
    path: &Path,
    columns: &[(String, String)],
    chunk_rows: u64,
    chunk: &mut ChunkProcessor<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), IngestError> {
    let literal = quote_literal(&path.to_string_lossy());
    let total: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM read_parquet({literal})"),
            [],
            |r| r.get(0),
        )
        .map_err(|e| parquet_error(path, e))?;
    let mut select = vec!["CAST(file_row_number + 1 AS BIGINT)".to_string()];
    for (name, ty) in columns {
        let ident = quote_ident(name);
        let text = if ty.ends_with("[]") {
            format!("array_to_string({ident}, ';')")
        } else {
            format!("CAST({ident} AS VARCHAR)")
        };
        select.push(format!("NULLIF(trim({text}), '')"));
    }
    let step = chunk_rows.min(i64::MAX as u64) as i64;
    let mut start: i64 = 0;
    while start < total {
        let end = start.saturating_add(step);
        let inserted = conn
            .execute(
                &format!(
                    "INSERT INTO {STAGE_TABLE} SELECT {} FROM read_parquet({literal}, file_row_number = true)
                     WHERE file_row_number >= {start} AND file_row_number < {end}",
                    select.join(", ")
                ),
                [],
            )
            .map_err(|e| parquet_error(path, e))?;
        chunk
            .process(inserted as u64, &mut Vec::new())
            .map_err(|source| IngestError::Db {
                path: path.to_path_buf(),
                source,
            })?;
        progress((end.min(total) as u64).saturating_mul(1));
        start = end;
    }
    Ok(())
}

#[derive(Default)]
struct MergeOutcome {
    /// Rows that failed a check (counted by `merge_append` in its planning pass).
    invalid: i64,
    inserted: u64,
    updated: u64,
    unchanged: u64,
    /// Rows rejected because an earlier row of the file had the same key.
    duplicates: u64,
}

fn merge_upsert(
    conn: &duckdb::Connection,
    entity: &Entity,
    load_id: i64,
    quarantine_insert: &dyn Fn(&str) -> String,
) -> Result<MergeOutcome, duckdb::Error> {
    let table = quote_ident(entity.name);
    let keys: Vec<String> = entity.key.iter().map(|k| quote_ident(k)).collect();
    let values: Vec<String> = entity.columns.iter().map(sql::value_with_default).collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {VALID_TABLE} AS
         SELECT {line}, {values},
                min({line}) OVER (PARTITION BY {keys}) AS __first_line
         FROM {CHECKED_TABLE} WHERE __problem IS NULL",
        line = reader::LINE_COLUMN,
        values = values.join(", "),
        keys = keys.join(", "),
    ))?;
    let key_names = entity.key.join(", ");
    let duplicates = conn.execute(
        &quarantine_insert(&format!(
            "(SELECT *, {field} || chr(31) || 'duplicate key: the same {key_names} is on line ' || __first_line || ' of this file' AS __problem
              FROM {VALID_TABLE} WHERE {line} <> __first_line)",
            field = quote_literal(&key_names),
            line = reader::LINE_COLUMN,
        )),
        [],
    )? as u64;
    conn.execute_batch(&format!(
        "DELETE FROM {VALID_TABLE} WHERE {line} <> __first_line",
        line = reader::LINE_COLUMN
    ))?;
    let same: Vec<String> = entity
        .columns
        .iter()
        .map(|c| {
            let c = quote_ident(c.name);
            format!("v.{c} IS NOT DISTINCT FROM t.{c}")
        })
        .collect();
    let first_key = &keys[0];
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE __coco_compare AS
         SELECT v.*, CASE WHEN t.{first_key} IS NULL THEN 'insert'
                          WHEN {same} THEN 'unchanged' ELSE 'update' END AS __action
         FROM {VALID_TABLE} v LEFT JOIN {table} t ON {join}",
        same = same.join(" AND "),
        join = sql::key_join(entity, "v", "t"),
    ))?;
    let count = |action: &str| -> Result<u64, duckdb::Error> {
        conn.query_row(
            "SELECT count(*) FROM __coco_compare WHERE __action = ?",
            [action],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n as u64)
    };
    let (inserted, updated, unchanged) = (count("insert")?, count("update")?, count("unchanged")?);
    let columns = sql::column_list(entity, "");
    if updated > 0 {
        let history = entity
            .history_table()
            .map(|h| quote_ident(&h))
            .unwrap_or_default();
        conn.execute_batch(&format!(
            "INSERT INTO {history} SELECT {t_columns}, t._load_id, t._line, {load_id}
             FROM {table} t WHERE EXISTS (SELECT 1 FROM __coco_compare v WHERE v.__action = 'update' AND {join});
             DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM __coco_compare v WHERE v.__action = 'update' AND {join});",
            t_columns = sql::column_list(entity, "t."),
            join = sql::key_join(entity, "v", "t"),
        ))?;
    }
    conn.execute_batch(&format!(
        "INSERT INTO {table} ({columns}, _load_id, _line)
         SELECT {columns}, {load_id}, {line} FROM __coco_compare WHERE __action IN ('insert', 'update');
         DROP TABLE temp.__coco_compare;",
        line = reader::LINE_COLUMN,
    ))?;
    Ok(MergeOutcome {
        invalid: 0,
        inserted,
        updated,
        unchanged,
        duplicates,
    })
}

fn merge_append(
    conn: &duckdb::Connection,
    entity: &Entity,
    load_id: i64,
) -> Result<MergeOutcome, duckdb::Error> {
    let table = quote_ident(entity.name);
    let keys: Vec<String> = entity.key.iter().map(|k| quote_ident(k)).collect();
    let columns = sql::column_list(entity, "");
    let line = reader::LINE_COLUMN;
    // Rows already stored: only rows in the chunk's time range can match, and when the
    // file is in time order the range check skips everything older by zone maps.
    let event_time = entity.event_time.filter(|t| entity.key.contains(t));
    let range = match event_time {
        Some(time) => {
            let time = quote_ident(time);
            format!(
                "CAST(min({time}) FILTER (WHERE __problem IS NULL) AS VARCHAR),
                 CAST(max({time}) FILTER (WHERE __problem IS NULL) AS VARCHAR)"
            )
        }
        None => "NULL, NULL".to_string(),
    };
    // One pass over the chunk for every number the plan needs.
    let (invalid, valid, distinct, low, high): (i64, i64, i64, Option<String>, Option<String>) =
        conn.query_row(
            &format!(
                "SELECT count(*) FILTER (WHERE __problem IS NOT NULL), count(*) FILTER (WHERE __problem IS NULL),
                        count(DISTINCT hash({keys})) FILTER (WHERE __problem IS NULL), {range}
                 FROM {CHECKED_TABLE}",
                keys = keys.join(", "),
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
    if valid == 0 {
        return Ok(MergeOutcome {
            invalid,
            ..MergeOutcome::default()
        });
    }
    let time_filter = match (event_time, low, high) {
        (Some(time), Some(low), Some(high)) => format!(
            "e.{} BETWEEN CAST({} AS TIMESTAMP) AND CAST({} AS TIMESTAMP)",
            quote_ident(time),
            quote_literal(&low),
            quote_literal(&high)
        ),
        _ => "true".to_string(),
    };
    let overlap: i64 = conn.query_row(
        &format!("SELECT count(*) FROM (SELECT 1 FROM {table} e WHERE {time_filter} LIMIT 1)"),
        [],
        |r| r.get(0),
    )?;
    let already_stored = if overlap > 0 {
        // Joined with the chunk as the build side, so memory follows the chunk, not
        // the table.
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE __coco_stored AS
             SELECT c.{line} FROM {CHECKED_TABLE} c JOIN {table} e ON {join}
             WHERE c.__problem IS NULL AND {time_filter}",
            join = sql::key_join(entity, "c", "e"),
        ))?;
        format!("AND {line} NOT IN (SELECT {line} FROM __coco_stored)")
    } else {
        String::new()
    };
    tracing::debug!(valid, distinct, overlap, "append plan");
    let timer = std::time::Instant::now();
    let inserted = if distinct == valid && overlap == 0 {
        // No key repeats in the chunk (equal hashes would have shown) and nothing
        // stored in range: every valid row is new.
        conn.execute(
            &format!(
                "INSERT INTO {table} ({columns}, _load_id, _line)
                 SELECT {values}, {load_id}, {line} FROM {CHECKED_TABLE} WHERE __problem IS NULL",
                values = entity
                    .columns
                    .iter()
                    .map(sql::value_expr)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            [],
        )?
    } else {
        // The first row (lowest line) of each key wins.
        let values: Vec<String> = entity
            .columns
            .iter()
            .map(|c| {
                if entity.key.contains(&c.name) {
                    quote_ident(c.name)
                } else {
                    format!("arg_min({}, {line})", sql::value_expr(c))
                }
            })
            .collect();
        conn.execute(
            &format!(
                "INSERT INTO {table} ({columns}, _load_id, _line)
                 SELECT {values}, {load_id}, min({line}) FROM {CHECKED_TABLE}
                 WHERE __problem IS NULL {already_stored}
                 GROUP BY {keys}",
                values = values.join(", "),
                keys = keys.join(", "),
            ),
            [],
        )?
    } as u64;
    tracing::debug!(seconds = timer.elapsed().as_secs_f64(), "append insert");
    Ok(MergeOutcome {
        invalid,
        inserted,
        updated: 0,
        unchanged: valid as u64 - inserted,
        duplicates: 0,
    })
}

/// BEGIN on creation, ROLLBACK on drop unless committed.
pub(crate) struct Transaction<'a> {
    conn: &'a duckdb::Connection,
    committed: bool,
}

impl<'a> Transaction<'a> {
    pub(crate) fn begin(conn: &'a duckdb::Connection) -> Result<Self, duckdb::Error> {
        conn.execute_batch("BEGIN TRANSACTION")?;
        Ok(Transaction {
            conn,
            committed: false,
        })
    }

    pub(crate) fn commit(mut self) -> Result<(), duckdb::Error> {
        self.conn.execute_batch("COMMIT")?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.committed
            && let Err(error) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(%error, "rollback failed");
        }
    }
}
