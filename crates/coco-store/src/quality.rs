//! The data quality report (D2): what is missing, unknown, duplicated, impossible or
//! stale in the store, before any analysis runs on it.

use chrono::NaiveDate;
use coco_core::contract::{self, ColumnType};
use serde::Serialize;

use crate::error::StoreError;
use crate::ingest::sql::{quote_ident, quote_literal};
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, Serialize)]
pub struct QualityFinding {
    pub severity: Severity,
    pub check: &'static str,
    pub entity: String,
    pub field: String,
    /// Rows affected.
    pub rows: i64,
    /// Rows examined (0 when not meaningful).
    pub of: i64,
    pub detail: String,
    /// Up to five keys of affected rows.
    pub examples: String,
}

/// Columns whose absence blinds later analysis (ownership, renewal dates, seats).
const IMPORTANT_COLUMNS: &[(&str, &str)] = &[
    ("accounts", "owner_csm_id"),
    ("accounts", "segment"),
    ("contracts", "end_date"),
    ("contracts", "seats"),
    ("contacts", "email"),
    ("users", "department"),
];

#[derive(Debug, Clone)]
pub struct QualityOptions {
    pub as_of: NaiveDate,
    /// A source whose last load (or latest data) is older than this is stale.
    pub stale_days: i64,
}

impl Store {
    pub fn quality_report(
        &self,
        options: &QualityOptions,
    ) -> Result<Vec<QualityFinding>, StoreError> {
        let mut findings = Vec::new();
        let as_of = quote_literal(&options.as_of.to_string());
        let mut add = |severity: Severity,
                       check: &'static str,
                       entity: &str,
                       field: &str,
                       sql: &str,
                       detail: String|
         -> Result<(), StoreError> {
            // `sql` selects (key VARCHAR, total BIGINT) for affected rows; total is the
            // population size repeated on each row.
            let (rows, of, examples): (i64, Option<i64>, Option<String>) = self.conn.query_row(
                &format!(
                    "SELECT count(*), max(total), array_to_string((list(key ORDER BY key))[1:5], ', ') FROM ({sql})"
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            if rows > 0 {
                findings.push(QualityFinding {
                    severity,
                    check,
                    entity: entity.to_string(),
                    field: field.to_string(),
                    rows,
                    of: of.unwrap_or(0),
                    detail,
                    examples: examples.unwrap_or_default(),
                });
            }
            Ok(())
        };

        for entity in contract::ENTITIES {
            let table = quote_ident(entity.name);
            let key = format!(
                "concat_ws('|', {})",
                entity
                    .key
                    .iter()
                    .map(|k| format!("CAST({} AS VARCHAR)", quote_ident(k)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            // Missing optional values.
            for column in entity
                .columns
                .iter()
                .filter(|c| !c.required && c.ty != ColumnType::Json)
            {
                let important = IMPORTANT_COLUMNS.contains(&(entity.name, column.name));
                let name = quote_ident(column.name);
                add(
                    if important {
                        Severity::Warning
                    } else {
                        Severity::Info
                    },
                    "missing_values",
                    entity.name,
                    column.name,
                    &format!(
                        "SELECT {key} AS key, count(*) OVER () AS total, {name} IS NULL AS missing FROM {table} QUALIFY missing"
                    ),
                    format!("{} has no value", column.name),
                )?;
            }
            // Future-dated and implausibly old events.
            if let Some(time) = entity.event_time {
                let time = quote_ident(time);
                add(
                    Severity::Warning,
                    "future_dates",
                    entity.name,
                    entity.event_time.unwrap_or_default(),
                    &format!(
                        "SELECT {key} AS key, 0 AS total FROM {table} WHERE {time} >= CAST({as_of} AS DATE) + INTERVAL 1 DAY"
                    ),
                    format!("dated after the as-of date {}", options.as_of),
                )?;
                add(
                    Severity::Warning,
                    "implausible_dates",
                    entity.name,
                    entity.event_time.unwrap_or_default(),
                    &format!(
                        "SELECT {key} AS key, 0 AS total FROM {table} WHERE {time} < DATE '1990-01-01'"
                    ),
                    "dated before 1990".into(),
                )?;
            }
        }

        // End before start.
        for (entity, start, end) in [
            ("contracts", "start_date", "end_date"),
            ("contacts", "start_date", "end_date"),
            ("tickets", "opened_at", "closed_at"),
            ("users", "created_on", "deactivated_on"),
        ] {
            let key = contract::entity(entity).map_or_else(
                || "rowid".to_string(),
                |e| {
                    let columns: Vec<String> = e
                        .key
                        .iter()
                        .map(|k| format!("CAST({} AS VARCHAR)", quote_ident(k)))
                        .collect();
                    format!("concat_ws('|', {})", columns.join(", "))
                },
            );
            add(
                Severity::Error,
                "end_before_start",
                entity,
                end,
                &format!("SELECT {key} AS key, 0 AS total FROM {entity} WHERE {end} < {start}"),
                format!("{end} is before {start}"),
            )?;
        }

        // Possible duplicates the keys cannot see.
        add(
            Severity::Warning,
            "possible_duplicates",
            "accounts",
            "name",
            "SELECT account_id AS key, 0 AS total FROM accounts
             QUALIFY count(*) OVER (PARTITION BY lower(regexp_replace(name, '[^A-Za-z0-9]', '', 'g'))) > 1",
            "accounts whose names differ only in case or punctuation".into(),
        )?;
        add(
            Severity::Warning,
            "possible_duplicates",
            "contacts",
            "email",
            "SELECT contact_id AS key, 0 AS total FROM contacts WHERE email IS NOT NULL
             QUALIFY count(*) OVER (PARTITION BY account_id, lower(email)) > 1",
            "contacts of one account sharing an email address".into(),
        )?;

        // Coverage of the portfolio by the other sources.
        add(
            Severity::Warning,
            "accounts_without_contracts",
            "accounts",
            "account_id",
            "SELECT account_id AS key, 0 AS total FROM accounts a
             WHERE NOT EXISTS (SELECT 1 FROM contracts c WHERE c.account_id = a.account_id)",
            "no contract at all".into(),
        )?;
        add(
            Severity::Warning,
            "accounts_without_usage",
            "accounts",
            "account_id",
            "SELECT account_id AS key, 0 AS total FROM accounts a
             WHERE NOT EXISTS (SELECT 1 FROM usage_events e WHERE e.account_id = a.account_id)
               AND NOT EXISTS (SELECT 1 FROM usage_daily d WHERE d.account_id = a.account_id)",
            "no usage data (events or daily aggregates)".into(),
        )?;
        add(
            Severity::Warning,
            "owner_inactive",
            "accounts",
            "owner_csm_id",
            "SELECT a.account_id AS key, 0 AS total FROM accounts a JOIN csms m ON m.csm_id = a.owner_csm_id
             WHERE m.active = false",
            "owned by a CSM marked inactive".into(),
        )?;

        // Stale sources.
        for entity in contract::ENTITIES {
            let name = quote_literal(entity.name);
            add(
                Severity::Warning,
                "stale_source",
                entity.name,
                "(load)",
                &format!(
                    "SELECT CAST(max(finished_at) AS VARCHAR) AS key, 0 AS total FROM loads WHERE entity = {name}
                     HAVING max(finished_at) < CAST({as_of} AS DATE) - to_days({days})",
                    days = options.stale_days
                ),
                format!("not loaded in the last {} days", options.stale_days),
            )?;
            if let Some(time) = entity.event_time {
                add(
                    Severity::Warning,
                    "stale_data",
                    entity.name,
                    time,
                    &format!(
                        "SELECT CAST(max({time}) AS VARCHAR) AS key, 0 AS total FROM {table}
                         HAVING max({time}) < CAST({as_of} AS DATE) - to_days({days})",
                        time = quote_ident(time),
                        table = quote_ident(entity.name),
                        days = options.stale_days
                    ),
                    format!("newest row is older than {} days", options.stale_days),
                )?;
            }
            add(
                Severity::Info,
                "no_data",
                entity.name,
                "(table)",
                &format!(
                    "SELECT {name} AS key, 0 AS total WHERE NOT EXISTS (SELECT 1 FROM {})",
                    quote_ident(entity.name)
                ),
                "nothing loaded yet".into(),
            )?;
        }

        // Rejected rows still waiting for a fix: one finding per entity, naming its
        // most common problems (`coco quarantine summary` has the full breakdown).
        let mut by_entity: Vec<(String, i64, Vec<String>, String)> = Vec::new();
        for group in self.quarantine_summary()? {
            let described = format!("{} {}: {}", group.rows, group.field, group.reason_class);
            match by_entity
                .iter_mut()
                .find(|(entity, ..)| *entity == group.entity)
            {
                Some((_, rows, top, _)) => {
                    *rows += group.rows;
                    if top.len() < 3 {
                        top.push(described);
                    }
                }
                None => by_entity.push((group.entity, group.rows, vec![described], group.example)),
            }
        }
        for (entity, rows, top, example) in by_entity {
            findings.push(QualityFinding {
                severity: Severity::Error,
                check: "quarantined_rows",
                entity,
                field: "(row)".into(),
                rows,
                of: 0,
                detail: top.join("; "),
                examples: example,
            });
        }
        findings.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then_with(|| b.rows.cmp(&a.rows))
        });
        Ok(findings)
    }
}
