//! Portfolio questions over a stored snapshot: ARR by health colour, the score
//! distribution and its trend, renewals ahead, filter choices, the account timeline.
//! Every filter value is bound, never spliced into SQL.

use chrono::{NaiveDate, NaiveDateTime};
use duckdb::params;
use serde::Serialize;

use crate::error::StoreError;
use crate::snapshots::HealthListFilter;
use crate::store::Store;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColourTotal {
    pub colour: String,
    pub accounts: i64,
    pub arr: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColourTrendPoint {
    pub snapshot_id: i64,
    pub as_of: NaiveDate,
    pub colour: String,
    pub accounts: i64,
    pub arr: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScoreBucket {
    /// Lower bound of a 10-point bucket (0, 10, …, 90; 100 falls in 90).
    pub from: i64,
    pub accounts: i64,
}

/// A choice in a filter drop-down.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FilterOption {
    pub value: String,
    pub label: String,
    pub accounts: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FilterOptions {
    pub csms: Vec<FilterOption>,
    pub segments: Vec<FilterOption>,
    pub tiers: Vec<FilterOption>,
}

/// One entry of an account's timeline.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub at: NaiveDateTime,
    /// touchpoint, ticket or survey
    pub source: String,
    /// The touchpoint kind, ticket priority or survey type.
    pub kind: String,
    pub title: Option<String>,
    pub detail: Option<String>,
    pub id: String,
}

/// The WHERE clause (over `h` health_scores and `a` snapshot_accounts) and its bound
/// values for a filter; shared by every portfolio question so they agree.
pub(crate) fn filter_clause(filter: &HealthListFilter) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut values = Vec::new();
    for (sql, value) in [
        ("h.colour = ?", &filter.colour),
        ("a.segment = ?", &filter.segment),
        ("a.owner_csm_id = ?", &filter.owner_csm_id),
        ("h.scorecard = ?", &filter.scorecard),
        ("a.plan_tier = ?", &filter.plan_tier),
    ] {
        if let Some(value) = value {
            conditions.push(sql);
            values.push(value.clone());
        }
    }
    for (sql, date) in [
        ("a.renewal_date >= CAST(? AS DATE)", filter.renewal_from),
        ("a.renewal_date <= CAST(? AS DATE)", filter.renewal_to),
    ] {
        if let Some(date) = date {
            conditions.push(sql);
            values.push(date.to_string());
        }
    }
    let clause = conditions
        .iter()
        .map(|condition| format!(" AND {condition}"))
        .collect::<String>();
    (clause, values)
}

fn bind<'a>(first: &'a [&'a dyn duckdb::ToSql], rest: &'a [String]) -> Vec<&'a dyn duckdb::ToSql> {
    let mut all: Vec<&dyn duckdb::ToSql> = first.to_vec();
    all.extend(rest.iter().map(|value| value as &dyn duckdb::ToSql));
    all
}

impl Store {
    /// Accounts and ARR per health colour in a snapshot.
    pub fn colour_totals(
        &self,
        snapshot_id: i64,
        filter: &HealthListFilter,
    ) -> Result<Vec<ColourTotal>, StoreError> {
        let (clause, values) = filter_clause(filter);
        let mut statement = self.conn.prepare(&format!(
            "SELECT h.colour, count(*), coalesce(sum(a.arr), 0)::DOUBLE FROM health_scores h \
             JOIN snapshot_accounts a USING (snapshot_id, account_id) \
             WHERE h.snapshot_id = ?{clause} GROUP BY h.colour ORDER BY h.colour"
        ))?;
        let rows = statement.query_map(bind(&[&snapshot_id], &values).as_slice(), |row| {
            Ok(ColourTotal {
                colour: row.get(0)?,
                accounts: row.get(1)?,
                arr: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Colour totals for each of the given snapshots, oldest first.
    pub fn colour_trend(
        &self,
        snapshot_ids: &[i64],
        filter: &HealthListFilter,
    ) -> Result<Vec<ColourTrendPoint>, StoreError> {
        if snapshot_ids.is_empty() {
            return Ok(Vec::new());
        }
        let (clause, values) = filter_clause(filter);
        // Ids are integers from the snapshots table, not user text.
        let ids = snapshot_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let mut statement = self.conn.prepare(&format!(
            "SELECT h.snapshot_id, s.as_of, h.colour, count(*), coalesce(sum(a.arr), 0)::DOUBLE \
             FROM health_scores h JOIN snapshot_accounts a USING (snapshot_id, account_id) \
             JOIN snapshots s ON s.snapshot_id = h.snapshot_id \
             WHERE h.snapshot_id IN ({ids}){clause} GROUP BY ALL ORDER BY s.as_of, h.colour"
        ))?;
        let rows = statement.query_map(bind(&[], &values).as_slice(), |row| {
            Ok(ColourTrendPoint {
                snapshot_id: row.get(0)?,
                as_of: row.get(1)?,
                colour: row.get(2)?,
                accounts: row.get(3)?,
                arr: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Scored accounts per 10-point bucket (0–9.99, …, 90–100).
    pub fn score_histogram(
        &self,
        snapshot_id: i64,
        filter: &HealthListFilter,
    ) -> Result<Vec<ScoreBucket>, StoreError> {
        let (clause, values) = filter_clause(filter);
        let mut statement = self.conn.prepare(&format!(
            "SELECT least(floor(h.score / 10), 9)::BIGINT * 10 AS bucket, count(*) FROM health_scores h \
             JOIN snapshot_accounts a USING (snapshot_id, account_id) \
             WHERE h.snapshot_id = ? AND h.score IS NOT NULL{clause} GROUP BY bucket ORDER BY bucket"
        ))?;
        let rows = statement.query_map(bind(&[&snapshot_id], &values).as_slice(), |row| {
            Ok(ScoreBucket {
                from: row.get(0)?,
                accounts: row.get(1)?,
            })
        })?;
        let found: Vec<ScoreBucket> = rows.collect::<Result<_, _>>()?;
        // Every bucket appears, empty ones with zero, so charts keep their axis.
        Ok((0..10)
            .map(|index| {
                let from = index * 10;
                ScoreBucket {
                    from,
                    accounts: found
                        .iter()
                        .find(|bucket| bucket.from == from)
                        .map_or(0, |bucket| bucket.accounts),
                }
            })
            .collect())
    }

    /// How many accounts a filter selects in a snapshot (for pagination).
    pub fn health_count(
        &self,
        snapshot_id: i64,
        filter: &HealthListFilter,
    ) -> Result<i64, StoreError> {
        let (clause, values) = filter_clause(filter);
        Ok(self.conn.query_row(
            &format!(
                "SELECT count(*) FROM health_scores h \
                 JOIN snapshot_accounts a USING (snapshot_id, account_id) \
                 WHERE h.snapshot_id = ?{clause}"
            ),
            bind(&[&snapshot_id], &values).as_slice(),
            |row| row.get(0),
        )?)
    }

    /// The CSMs, segments and plan tiers present in a snapshot, for filter choices.
    pub fn filter_options(&self, snapshot_id: i64) -> Result<FilterOptions, StoreError> {
        let options = |sql: &str| -> Result<Vec<FilterOption>, StoreError> {
            let mut statement = self.conn.prepare(sql)?;
            let rows = statement.query_map([snapshot_id], |row| {
                Ok(FilterOption {
                    value: row.get(0)?,
                    label: row.get(1)?,
                    accounts: row.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        Ok(FilterOptions {
            csms: options(
                "SELECT a.owner_csm_id, coalesce(any_value(c.name), a.owner_csm_id), count(*) \
                 FROM snapshot_accounts a LEFT JOIN csms c ON c.csm_id = a.owner_csm_id \
                 WHERE a.snapshot_id = ? AND a.owner_csm_id IS NOT NULL GROUP BY a.owner_csm_id ORDER BY 2",
            )?,
            segments: options(
                "SELECT segment, segment, count(*) FROM snapshot_accounts \
                 WHERE snapshot_id = ? AND segment IS NOT NULL GROUP BY segment ORDER BY segment",
            )?,
            tiers: options(
                "SELECT plan_tier, plan_tier, count(*) FROM snapshot_accounts \
                 WHERE snapshot_id = ? AND plan_tier IS NOT NULL GROUP BY plan_tier ORDER BY plan_tier",
            )?,
        })
    }

    /// Touchpoints, tickets and surveys of an account up to `as_of`, newest first.
    pub fn account_timeline(
        &self,
        account_id: &str,
        as_of: NaiveDate,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        let mut entries = Vec::new();
        self.timelines(Some(account_id), as_of, limit, &mut |_, entry| {
            entries.push(entry)
        })?;
        Ok(entries)
    }

    /// The newest `limit` timeline entries up to `as_of` of one account or (None) of
    /// every account, by account id then newest first: the same rows either way.
    pub fn timelines(
        &self,
        account_id: Option<&str>,
        as_of: NaiveDate,
        limit: usize,
        each: &mut dyn FnMut(&str, TimelineEntry),
    ) -> Result<(), StoreError> {
        let until = as_of
            .succ_opt()
            .unwrap_or(as_of)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        let only = if account_id.is_some() {
            "account_id = $3"
        } else {
            "TRUE"
        };
        let mut statement = self.conn.prepare(&format!(
            "SELECT account_id, happened_at, source, kind, title, detail, id FROM ( \
               SELECT account_id, occurred_at AS happened_at, 'touchpoint' AS source, kind, subject AS title, \
                 notes AS detail, touchpoint_id AS id FROM touchpoints WHERE {only} AND occurred_at < $1 \
               UNION ALL \
               SELECT account_id, opened_at, 'ticket', priority, subject, \
                 CASE WHEN closed_at < $1 THEN 'closed ' || strftime(closed_at, '%Y-%m-%d') ELSE 'open' END \
                   || CASE WHEN escalated THEN ', escalated' ELSE '' END, \
                 ticket_id FROM tickets WHERE {only} AND opened_at < $1 \
               UNION ALL \
               SELECT account_id, responded_at, 'survey', survey_type, survey_type || ' ' || score::VARCHAR, \
                 comment, response_id FROM surveys WHERE {only} AND responded_at < $1) \
             QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY happened_at DESC, id) <= $2 \
             ORDER BY account_id, happened_at DESC, id"
        ))?;
        let limit = limit as i64;
        let mut rows = match account_id {
            Some(account_id) => statement.query(params![until, limit, account_id])?,
            None => statement.query(params![until, limit])?,
        };
        while let Some(row) = rows.next()? {
            let account: String = row.get(0)?;
            each(
                &account,
                TimelineEntry {
                    at: row.get(1)?,
                    source: row.get(2)?,
                    kind: row.get(3)?,
                    title: row.get(4)?,
                    detail: row.get(5)?,
                    id: row.get(6)?,
                },
            );
        }
        Ok(())
    }
}
