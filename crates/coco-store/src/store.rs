//! Opening the store: one DuckDB file under the data directory, migrated on open.

use std::path::{Path, PathBuf};

use duckdb::{Config, Connection};

use crate::error::StoreError;

/// The database file name inside the data directory.
pub const DATABASE_FILE: &str = "coco.duckdb";

/// Migrations in order; the schema version is the number of migrations applied.
/// Append only: a released migration is never edited.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../migrations/0001_init.sql")),
    (
        "0002_snapshots",
        include_str!("../migrations/0002_snapshots.sql"),
    ),
    (
        "0003_coded_labels",
        include_str!("../migrations/0003_coded_labels.sql"),
    ),
    ("0004_auth", include_str!("../migrations/0004_auth.sql")),
    (
        "0005_metric_values_by_account",
        include_str!("../migrations/0005_metric_values_by_account.sql"),
    ),
    ("0006_models", include_str!("../migrations/0006_models.sql")),
    ("0007_users", include_str!("../migrations/0007_users.sql")),
    ("0008_growth", include_str!("../migrations/0008_growth.sql")),
    (
        "0009_segments",
        include_str!("../migrations/0009_segments.sql"),
    ),
    (
        "0010_actions",
        include_str!("../migrations/0010_actions.sql"),
    ),
];

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Tunables for the embedded database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// DuckDB `memory_limit` (e.g. "1GB"); beyond it DuckDB spills to the data
    /// directory's temp folder, which is what keeps large ingests bounded. The
    /// default keeps a whole `coco` process under 1 GB (docs/PERFORMANCE.md).
    pub memory_limit: String,
    /// Worker threads for DuckDB (0 = one per core).
    pub threads: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            memory_limit: "640MB".into(),
            threads: 0,
        }
    }
}

/// The only owner of the database connection. Every other crate asks the store typed
/// questions; none of them sees SQL.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    /// Tells this handle's connection from a [`Store::try_clone`]'s (temp tables are
    /// per connection).
    pub(crate) handle: u64,
}

/// Source of [`Store::handle`] values.
static NEXT_HANDLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_handle() -> u64 {
    NEXT_HANDLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and applies pending migrations.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Self::open_with(data_dir, &StoreOptions::default())
    }

    pub fn open_with(data_dir: &Path, options: &StoreOptions) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let mut config = Config::default()
            .max_memory(&options.memory_limit)?
            // Rows carry their own line numbers, so DuckDB need not keep file order;
            // dropping it lets large inserts stream with less memory.
            .with("preserve_insertion_order", "false")?
            .with("temp_directory", data_dir.join("tmp").to_string_lossy())?;
        if options.threads > 0 {
            config = config.threads(options.threads as i64)?;
        }
        let conn = Connection::open_with_flags(&path, config)
            .map_err(|e| classify_open_error(&path, e))?;
        // Timestamps are stored as UTC wall time. DuckDB's session time zone defaults to
        // the machine's (TZ), and TIMESTAMPTZ -> TIMESTAMP casts (ingest's offset
        // handling, `now()::TIMESTAMP`) use it; pin it to UTC. (Only settable once ICU
        // is loaded, hence a SET rather than a Config entry.)
        conn.execute_batch("SET TimeZone = 'UTC'")?;
        let store = Store {
            conn,
            path,
            handle: next_handle(),
        };
        store.migrate()?;
        store.remove_interrupted_loads()?;
        Ok(store)
    }

    /// A second handle on the same database, for work on another thread (a backfill
    /// computes the next date's metrics while the previous one is being stored).
    pub fn try_clone(&self) -> Result<Store, StoreError> {
        Ok(Store {
            conn: self.conn.try_clone()?,
            path: self.path.clone(),
            handle: next_handle(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Current schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(read_schema_version(&self.conn)?)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS coco_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
        )?;
        let found = read_schema_version(&self.conn)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = index as i64 + 1;
            tracing::info!(migration = name, version, "applying migration");
            // One transaction per migration: a crash leaves the previous version intact.
            let tx = self.conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT OR REPLACE INTO coco_meta VALUES ('schema_version', ?)",
                [version.to_string()],
            )?;
            tx.commit()?;
        }
        Ok(())
    }
}

impl Store {
    /// Event tables are loaded a chunk per transaction, and their rows count only once
    /// the load's `loads` row is committed (see `ingest`). Rows (and quarantine
    /// entries) of a load that never got one — the process died or failed mid-file —
    /// are removed here, so the store is as it was before that load.
    pub fn remove_interrupted_loads(&self) -> Result<(), StoreError> {
        let last: i64 =
            self.conn
                .query_row("SELECT COALESCE(max(load_id), 0) FROM loads", [], |r| {
                    r.get(0)
                })?;
        let tx = self.conn.unchecked_transaction()?;
        let mut removed = 0;
        for entity in coco_core::contract::ENTITIES
            .iter()
            .filter(|e| e.merge == coco_core::contract::MergeMode::AppendDedup)
        {
            removed += tx.execute(
                &format!("DELETE FROM {} WHERE _load_id > ?", entity.name),
                [last],
            )?;
        }
        removed += tx.execute("DELETE FROM quarantine WHERE load_id > ?", [last])?;
        tx.commit()?;
        if removed > 0 {
            tracing::warn!(removed, "removed the rows of an interrupted load");
        }
        Ok(())
    }
}

fn read_schema_version(conn: &Connection) -> Result<i64, duckdb::Error> {
    let mut statement = conn.prepare("SELECT value FROM coco_meta WHERE key = 'schema_version'")?;
    let mut rows = statement.query([])?;
    match rows.next()? {
        Some(row) => {
            let text: String = row.get(0)?;
            Ok(text.parse().unwrap_or(i64::MAX))
        }
        None => Ok(0),
    }
}

/// DuckDB lets one process hold a file read-write; turn its lock error into one that
/// names the holder.
fn classify_open_error(path: &Path, error: duckdb::Error) -> StoreError {
    let message = error.to_string();
    if message.contains("Could not set lock") || message.contains("Conflicting lock") {
        let pid = message
            .split("PID ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|digits| digits.parse::<u32>().ok());
        let holder = match pid {
            Some(pid) => {
                let command = std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|bytes| {
                        String::from_utf8_lossy(&bytes)
                            .split('\0')
                            .filter(|part| !part.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                if command.is_empty() {
                    format!(" (PID {pid})")
                } else {
                    format!(" (PID {pid}: {command})")
                }
            }
            None => String::new(),
        };
        return StoreError::Locked {
            path: path.to_path_buf(),
            holder,
        };
    }
    StoreError::Db(error)
}
