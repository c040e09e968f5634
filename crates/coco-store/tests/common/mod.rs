//! Shared helpers for the ingest tests: a store in a temp directory, source files
//! beside it, and direct DuckDB access for checking what landed in the tables.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use coco_core::contract::{self, Entity};
use coco_store::quarantine::{QuarantineEntry, QuarantineFilter};
use coco_store::{IngestError, IngestOptions, IngestReport, Store};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    store: Option<Store>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let store = Store::open(&data).expect("open store");
        Fixture {
            dir,
            data,
            store: Some(store),
        }
    }

    pub fn store(&mut self) -> &mut Store {
        self.store.as_mut().expect("store is open")
    }

    /// Writes a source file (any bytes) beside the store and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn try_ingest(
        &mut self,
        entity: &'static Entity,
        path: &Path,
    ) -> Result<IngestReport, IngestError> {
        self.store()
            .ingest_file(entity, path, &IngestOptions::default())
    }

    /// Ingests and checks the accounting invariants every load must keep.
    pub fn ingest(&mut self, entity: &'static Entity, path: &Path) -> IngestReport {
        let report = self
            .try_ingest(entity, path)
            .unwrap_or_else(|e| panic!("ingest of {} failed: {e}", path.display()));
        self.assert_accounted(&report);
        report
    }

    pub fn ingest_with(
        &mut self,
        entity: &'static Entity,
        path: &Path,
        options: &IngestOptions<'_>,
    ) -> IngestReport {
        let report = self
            .store()
            .ingest_file(entity, path, options)
            .unwrap_or_else(|e| panic!("ingest of {} failed: {e}", path.display()));
        self.assert_accounted(&report);
        report
    }

    /// rows_read = inserted + updated + unchanged + rejected, and every rejected row
    /// is one open quarantine entry of this load.
    pub fn assert_accounted(&mut self, report: &IngestReport) {
        assert_eq!(
            report.rows_read,
            report.inserted + report.updated + report.unchanged + report.rejected,
            "accounting: {report:?}"
        );
        let open = self.load_entries(report.load_id);
        assert_eq!(
            open.len() as u64,
            report.rejected,
            "open entries of load: {open:#?}"
        );
    }

    /// Open quarantine entries of one load, ordered by line.
    pub fn load_entries(&mut self, load_id: i64) -> Vec<QuarantineEntry> {
        self.store()
            .quarantine_entries(&QuarantineFilter {
                load_id: Some(load_id),
                ..QuarantineFilter::default()
            })
            .unwrap()
    }

    /// All quarantine entries (any status).
    pub fn all_entries(&mut self) -> Vec<QuarantineEntry> {
        self.store()
            .quarantine_entries(&QuarantineFilter {
                all: true,
                ..QuarantineFilter::default()
            })
            .unwrap()
    }

    /// Asserts the load's open rejects are exactly `expected` (line, field, reason
    /// substring), each naming the source file.
    pub fn assert_rejects(
        &mut self,
        report: &IngestReport,
        file: &str,
        expected: &[(i64, &str, &str)],
    ) {
        let entries = self.load_entries(report.load_id);
        let got: Vec<(i64, String)> = entries.iter().map(|e| (e.line, e.field.clone())).collect();
        let want: Vec<(i64, String)> = expected
            .iter()
            .map(|(l, f, _)| (*l, f.to_string()))
            .collect();
        assert_eq!(got, want, "rejects of {file}: {entries:#?}");
        for (entry, (_, _, reason)) in entries.iter().zip(expected) {
            assert!(
                entry.reason.contains(reason),
                "line {}: reason {:?} should contain {reason:?}",
                entry.line,
                entry.reason
            );
            assert!(
                entry.source.ends_with(file),
                "source {} should name {file}",
                entry.source
            );
            assert_eq!(entry.status, "open");
            assert_eq!(entry.id, format!("{}:{}", report.load_id, entry.line));
        }
        assert_eq!(report.rejected, expected.len() as u64);
    }

    /// Runs `f` on a direct connection to the database file (the store is closed
    /// meanwhile: one open per file), then reopens the store.
    pub fn with_db<T>(&mut self, f: impl FnOnce(&duckdb::Connection) -> T) -> T {
        drop(self.store.take());
        let result = {
            let conn = duckdb::Connection::open(self.data.join("coco.duckdb")).expect("open db");
            f(&conn)
        };
        self.store = Some(Store::open(&self.data).expect("reopen store"));
        result
    }

    /// One text value per row of a query returning a single column (NULL as "NULL").
    pub fn strings(&mut self, sql: &str) -> Vec<String> {
        let sql = sql.to_string();
        self.with_db(move |conn| strings(conn, &sql))
    }

    /// A full, ordered dump of a table, one text line per row.
    pub fn dump(&mut self, table: &str) -> Vec<String> {
        self.strings(&format!(
            "SELECT CAST(t AS VARCHAR) FROM {table} t ORDER BY ALL"
        ))
    }

    pub fn count(&mut self, table: &str) -> i64 {
        self.strings(&format!("SELECT CAST(count(*) AS VARCHAR) FROM {table}"))[0]
            .parse()
            .unwrap()
    }

    /// Loads two CSMs, two accounts and two features: the references most tests need.
    pub fn with_basics(mut self) -> Fixture {
        let csms = self.write(
            "base/csms.csv",
            "csm_id,name,email\ncsm_1,Ann Lee,ann@example.com\ncsm_2,Bo Chen,bo@example.com\n",
        );
        let report = self.ingest(&contract::CSMS, &csms);
        assert_eq!((report.inserted, report.rejected), (2, 0));
        let accounts = self.write(
            "base/accounts.csv",
            "account_id,name,segment,owner_csm_id\nacc_1,Acme,smb,csm_1\nacc_2,Globex,enterprise,csm_2\n",
        );
        let report = self.ingest(&contract::ACCOUNTS, &accounts);
        assert_eq!((report.inserted, report.rejected), (2, 0));
        let features = self.write(
            "base/features.csv",
            "feature_key,name,module,tier\nlogin,Login,core,starter\nreports.export,Report export,analytics,professional\n",
        );
        let report = self.ingest(&contract::FEATURES, &features);
        assert_eq!((report.inserted, report.rejected), (2, 0));
        self
    }
}

pub fn strings(conn: &duckdb::Connection, sql: &str) -> Vec<String> {
    let mut statement = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    statement
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .map(|v| v.unwrap().unwrap_or_else(|| "NULL".into()))
        .collect()
}

/// The message and hint of a file-level refusal.
pub fn file_error(result: Result<IngestReport, IngestError>) -> (IngestError, String, String) {
    match result {
        Err(error @ IngestError::File { .. }) => {
            let message = error.to_string();
            let hint = error.hint().unwrap_or_default().to_string();
            assert!(error.is_user_error());
            (error, message, hint)
        }
        other => panic!("expected a file-level error, got {other:?}"),
    }
}
