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
use reader::{EXTRA_COLUMN, RAW_COLUMN, StagingSink};
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
}

/// What one load did. `rows_read = inserted + updated + unchanged + rejected`, always.
#[derive(Debug, Clone, Serialize)]
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
                IngestError::file(path, "cannot tell the format from the file name")
                    .with_hint("use a .csv, .tsv, .jsonl or .parquet extension, or pass --format")
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

        // Everything below happens in one transaction; dropping `guard` without
        // committing rolls it back, so an error or a crash leaves the store as it was.
        let guard = Transaction::begin(&self.conn).map_err(db)?;
        let conn = &self.conn;
        let load_id: i64 = conn
            .query_row("SELECT COALESCE(max(load_id), 0) + 1 FROM loads", [], |r| {
                r.get(0)
            })
            .map_err(db)?;

        // 1-2: resolve columns, stage rows.
        let (columns, resolution, early_rejects, staged_rows) = match format {
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
                let mut sink = StagingSink::create(conn, STAGE_TABLE, &header).map_err(db)?;
                reader::stage_csv(path, delimiter, &header, &mut sink, &progress)?;
                let staged = sink.staged_rows;
                (
                    StagedColumns::Header(header),
                    resolution,
                    sink.rejects,
                    staged,
                )
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
                let mut staged_columns = keys.clone();
                staged_columns.push(EXTRA_COLUMN.to_string());
                staged_columns.push(RAW_COLUMN.to_string());
                let mut sink =
                    StagingSink::create(conn, STAGE_TABLE, &staged_columns).map_err(db)?;
                reader::stage_jsonl(path, &keys, &mut sink, &progress)?;
                let staged = sink.staged_rows;
                (
                    StagedColumns::Requested(keys),
                    resolution,
                    sink.rejects,
                    staged,
                )
            }
            SourceFormat::Parquet => {
                let header = stage_parquet(conn, path)?;
                let resolution = sql::resolve(
                    entity,
                    &SourceColumns::Header(&header),
                    options.mapping,
                    path,
                    None,
                )?;
                let staged: i64 = conn
                    .query_row(&format!("SELECT count(*) FROM {STAGE_TABLE}"), [], |r| {
                        r.get(0)
                    })
                    .map_err(db)?;
                (
                    StagedColumns::Header(header),
                    resolution,
                    Vec::new(),
                    staged as u64,
                )
            }
        };
        progress(file_size);
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            rows = staged_rows,
            "staged"
        );
        let mut warnings = Vec::new();
        if !resolution.unused.is_empty() && entity.name != "accounts" {
            warnings.push(format!(
                "ignored column{} not in the {} contract: {}",
                if resolution.unused.len() > 1 { "s" } else { "" },
                entity.name,
                resolution.unused.join(", ")
            ));
        }

        // 3: type and check.
        let source_view = columns.view();
        conn.execute_batch(&sql::checked_table_sql(entity, &resolution, &source_view))
            .map_err(db)?;

        tracing::info!(seconds = started.elapsed().as_secs_f64(), "checked");
        // Re-loading a source re-judges all its rows: its earlier open rejects are
        // superseded by this load's.
        conn.execute(
            "UPDATE quarantine SET status = 'superseded' WHERE status = 'open' AND entity = ? AND source = ?",
            duckdb::params![entity.name, source],
        )
        .map_err(db)?;

        let early_rejected = early_rejects.len() as u64;
        {
            let mut insert = conn
                .prepare(
                    "INSERT INTO quarantine (load_id, entity, source, line, field, reason, row_key, raw) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                )
                .map_err(db)?;
            for reject in &early_rejects {
                insert
                    .execute(duckdb::params![
                        load_id,
                        entity.name,
                        source,
                        reject.line as i64,
                        reject.field,
                        reject.reason,
                        reject.raw
                    ])
                    .map_err(db)?;
            }
        }
        let quarantine_insert = |from: &str| {
            format!(
                "INSERT INTO quarantine (load_id, entity, source, line, field, reason, row_key, raw)
                 SELECT {load_id}, {entity}, {source}, {line}, split_part(__problem, chr(31), 1),
                        split_part(__problem, chr(31), 2), __row_key, __raw
                 FROM {from}",
                entity = quote_literal(entity.name),
                source = quote_literal(&source),
                line = reader::LINE_COLUMN,
            )
        };
        let invalid = conn
            .execute(
                &quarantine_insert(&format!("{CHECKED_TABLE} WHERE __problem IS NOT NULL")),
                [],
            )
            .map_err(db)? as u64;

        tracing::info!(seconds = started.elapsed().as_secs_f64(), "quarantined");
        // 4: merge.
        let outcome = match entity.merge {
            MergeMode::Upsert => {
                merge_upsert(conn, entity, load_id, &quarantine_insert).map_err(db)?
            }
            MergeMode::AppendDedup => merge_append(conn, entity, load_id).map_err(db)?,
        };

        tracing::info!(seconds = started.elapsed().as_secs_f64(), "merged");
        // Rows quarantined by earlier loads of other sources are resolved once a row
        // with the same key is accepted.
        conn.execute(
            &format!(
                "UPDATE quarantine SET status = 'resolved'
                 WHERE status = 'open' AND entity = ? AND load_id <> ? AND row_key IN
                   (SELECT {key} FROM {CHECKED_TABLE} c WHERE __problem IS NULL)",
                key = sql::row_key_sql(entity, "c", false)
            ),
            duckdb::params![entity.name, load_id],
        )
        .map_err(db)?;

        tracing::info!(seconds = started.elapsed().as_secs_f64(), "resolved");
        let rows_read = staged_rows + early_rejected;
        let rejected = early_rejected + invalid + outcome.duplicates;
        let report = IngestReport {
            load_id,
            entity: entity.name,
            source: source.clone(),
            format: format.name(),
            rows_read,
            inserted: outcome.inserted,
            updated: outcome.updated,
            unchanged: outcome.unchanged,
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
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.{STAGE_TABLE}; DROP TABLE IF EXISTS temp.{CHECKED_TABLE}; DROP TABLE IF EXISTS temp.{VALID_TABLE};"
        ))
        .map_err(db)?;
        guard.commit().map_err(db)?;
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
            };
            let report = self.ingest_file(entity, path, &file_options)?;
            on_file(&report);
            reports.push(report);
        }
        Ok((reports, plan.skipped))
    }
}

enum StagedColumns {
    Header(Vec<String>),
    Requested(Vec<String>),
}

impl StagedColumns {
    fn view(&self) -> SourceColumns<'_> {
        match self {
            StagedColumns::Header(h) => SourceColumns::Header(h),
            StagedColumns::Requested(k) => SourceColumns::Requested(k),
        }
    }
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

/// Stages a Parquet file through DuckDB's reader; returns its column names.
fn stage_parquet(conn: &duckdb::Connection, path: &Path) -> Result<Vec<String>, IngestError> {
    let literal = quote_literal(&path.to_string_lossy());
    let file_error = |e: duckdb::Error| {
        IngestError::file(path, format!("cannot read as Parquet: {e}"))
            .with_hint("check the file is Parquet, or pass --format")
    };
    let mut describe = conn
        .prepare(&format!("DESCRIBE SELECT * FROM read_parquet({literal})"))
        .map_err(file_error)?;
    let columns: Vec<(String, String)> = describe
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(file_error)?
        .collect::<Result<_, _>>()
        .map_err(file_error)?;
    let mut select = vec![format!(
        "CAST(file_row_number + 1 AS BIGINT) AS {}",
        reader::LINE_COLUMN
    )];
    for (name, ty) in &columns {
        let ident = quote_ident(name);
        let value = if ty.ends_with("[]") {
            format!("array_to_string({ident}, ';')")
        } else {
            format!("CAST({ident} AS VARCHAR)")
        };
        select.push(format!("{value} AS {ident}"));
    }
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {STAGE_TABLE} AS SELECT {} FROM read_parquet({literal}, file_row_number = true)",
        select.join(", ")
    ))
    .map_err(file_error)?;
    Ok(columns.into_iter().map(|(name, _)| name).collect())
}

struct MergeOutcome {
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
         SELECT {line}, {values}, __row_key, __raw,
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
    let values: Vec<String> = entity.columns.iter().map(sql::value_with_default).collect();
    let columns = sql::column_list(entity, "");
    let valid: i64 = conn.query_row(
        &format!("SELECT count(*) FROM {CHECKED_TABLE} WHERE __problem IS NULL"),
        [],
        |r| r.get(0),
    )?;
    // The first row (lowest line) of each key wins; rows already stored are skipped.
    let inserted = conn.execute(
        &format!(
            "INSERT INTO {table} ({columns}, _load_id, _line)
             SELECT {columns}, {load_id}, {line} FROM (
                 SELECT {line}, {values} FROM {CHECKED_TABLE} c
                 WHERE __problem IS NULL
                   AND NOT EXISTS (SELECT 1 FROM {table} t WHERE {join})
                 QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {line}) = 1
             )",
            line = reader::LINE_COLUMN,
            values = values.join(", "),
            keys = keys.join(", "),
            join = sql::key_join(entity, "c", "t"),
        ),
        [],
    )? as u64;
    Ok(MergeOutcome {
        inserted,
        updated: 0,
        unchanged: valid as u64 - inserted,
        duplicates: 0,
    })
}

/// BEGIN on creation, ROLLBACK on drop unless committed.
struct Transaction<'a> {
    conn: &'a duckdb::Connection,
    committed: bool,
}

impl<'a> Transaction<'a> {
    fn begin(conn: &'a duckdb::Connection) -> Result<Self, duckdb::Error> {
        conn.execute_batch("BEGIN TRANSACTION")?;
        Ok(Transaction {
            conn,
            committed: false,
        })
    }

    fn commit(mut self) -> Result<(), duckdb::Error> {
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
