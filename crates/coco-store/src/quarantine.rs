//! Reading the quarantine: rejected rows, why, and exporting them for fixing.

use serde::Serialize;

use crate::error::StoreError;
use crate::store::Store;

#[derive(Debug, Clone, Default)]
pub struct QuarantineFilter {
    pub entity: Option<String>,
    pub load_id: Option<i64>,
    /// Include superseded and resolved entries, not only open ones.
    pub all: bool,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuarantineEntry {
    /// `LOAD:LINE`, the handle `coco quarantine show` takes.
    pub id: String,
    pub load_id: i64,
    pub entity: String,
    pub source: String,
    pub line: i64,
    pub field: String,
    pub reason: String,
    pub status: String,
    pub row_key: Option<String>,
    /// The source row as read (a JSON object of the file's columns; a JSON array of
    /// fields when the row could not be split into the header's columns).
    pub raw: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuarantineGroup {
    pub entity: String,
    pub field: String,
    pub reason_class: String,
    pub rows: i64,
    pub example: String,
}

impl Store {
    pub fn quarantine_entries(
        &self,
        filter: &QuarantineFilter,
    ) -> Result<Vec<QuarantineEntry>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT load_id, entity, source, line, field, reason, status, row_key, raw FROM quarantine
             WHERE ($entity IS NULL OR entity = $entity) AND ($load IS NULL OR load_id = $load)
               AND ($all OR status = 'open')
             ORDER BY load_id, line, field LIMIT $limit",
        )?;
        let rows = statement
            .query_map(
                duckdb::named_params! {
                    "entity": filter.entity,
                    "load": filter.load_id,
                    "all": filter.all,
                    "limit": filter.limit.map(|l| l as i64).unwrap_or(i64::MAX),
                },
                |r| {
                    let load_id: i64 = r.get(0)?;
                    let line: i64 = r.get(3)?;
                    Ok(QuarantineEntry {
                        id: format!("{load_id}:{line}"),
                        load_id,
                        entity: r.get(1)?,
                        source: r.get(2)?,
                        line,
                        field: r.get(4)?,
                        reason: r.get(5)?,
                        status: r.get(6)?,
                        row_key: r.get(7)?,
                        raw: r.get(8)?,
                    })
                },
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// One entry by its `LOAD:LINE` id (any status).
    pub fn quarantine_entry(&self, load_id: i64, line: i64) -> Result<QuarantineEntry, StoreError> {
        let entries = self.quarantine_entries(&QuarantineFilter {
            load_id: Some(load_id),
            all: true,
            ..QuarantineFilter::default()
        })?;
        entries
            .into_iter()
            .find(|e| e.line == line)
            .ok_or_else(|| StoreError::NotFound(format!("no quarantined row {load_id}:{line}")))
    }

    /// Open rejects grouped by entity, field and kind of reason (the reason text with
    /// quoted values removed), with one example each.
    pub fn quarantine_summary(&self) -> Result<Vec<QuarantineGroup>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT entity, field, regexp_replace(reason, '''[^'']*''', '''…''', 'g') AS class,
                    count(*), min(reason)
             FROM quarantine WHERE status = 'open' GROUP BY ALL ORDER BY 4 DESC, 1, 2",
        )?;
        let rows = statement
            .query_map([], |r| {
                Ok(QuarantineGroup {
                    entity: r.get(0)?,
                    field: r.get(1)?,
                    reason_class: r.get(2)?,
                    rows: r.get(3)?,
                    example: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}
