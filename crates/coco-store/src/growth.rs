//! What the expansion and adoption analyzers read, as typed questions: per-feature
//! usage (from SQL the metric compiler writes), contract holdings, tickets and feedback,
//! goal notes, milestones, earlier snapshots' values, past expansion outcomes, renewals
//! with the features in use before them, cross-sell purchases — and what COCO records
//! itself: expansion outcomes and adoption campaigns (migration `0008_growth.sql`).
//! Every question takes the as-of date and reads only rows dated on or before it.

use std::collections::HashMap;

use arrow::array::{Array, BooleanArray, Date32Array, Float64Array, StringArray};
use chrono::{Days, NaiveDate};
use duckdb::params;
use serde::Serialize;

use crate::error::StoreError;
use crate::store::Store;
use crate::training::epoch_days;

/// One row of the feature catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    pub key: String,
    pub name: String,
    pub module: String,
    pub tier: String,
    pub is_core: bool,
    pub resources: Option<String>,
    pub description: Option<String>,
}

/// One account's use of one feature (see `coco_metrics::feature_usage_sql`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureUseRow {
    /// Index into the feature list handed in.
    pub feature: usize,
    pub entitled: bool,
    pub events: f64,
    pub users: f64,
    pub prior_events: f64,
    pub first_used: Option<NaiveDate>,
    pub last_used: Option<NaiveDate>,
}

/// Products held and the next renewal at a date.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HoldingRow {
    pub products: Vec<String>,
    pub renewal_date: Option<NaiveDate>,
}

/// A ticket or feedback item.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItemRow {
    pub account_id: String,
    /// `tickets` or `feedback`.
    pub table: &'static str,
    pub id: String,
    pub date: NaiveDate,
    pub category: Option<String>,
    pub text: String,
    pub feature_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GoalRow {
    pub account_id: String,
    pub touchpoint_id: String,
    pub date: NaiveDate,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneRow {
    pub account_id: String,
    pub key: String,
    pub name: Option<String>,
    pub stage: String,
    /// Today's status (`skipped`, `blocked`, …): the file has no date for it.
    pub status: Option<String>,
    pub due: Option<NaiveDate>,
    /// The completion date when it is on or before the as-of date.
    pub completed: Option<NaiveDate>,
}

/// A decided expansion: from the outcomes file (expansion opportunities, renewals that
/// expanded) or recorded in COCO.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpansionOutcomeRow {
    pub account_id: String,
    /// `seats`, `tier`, `module`, `other`.
    pub expansion_type: String,
    pub won: bool,
    pub decided_on: NaiveDate,
    /// `outcomes` or `recorded`.
    pub source: &'static str,
    /// An opportunity decided won or lost (not a renewal that happened to expand): what
    /// win rates count.
    pub opportunity: bool,
    /// Recorded outcomes: the signals the opportunity had before (JSON list).
    pub signals: Option<String>,
}

/// A renewal and the features used (and entitled) in the window before it.
#[derive(Debug, Clone, PartialEq)]
pub struct RenewalUsageRow {
    pub account_id: String,
    pub renewal_date: NaiveDate,
    pub churned: bool,
    pub used: Vec<String>,
    pub entitled: Vec<String>,
}

/// An expansion outcome recorded by a CSM.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordedOutcome {
    pub opportunity_id: String,
    pub account_id: String,
    pub expansion_type: String,
    pub outcome: String,
    pub decided_on: NaiveDate,
    pub arr_added: Option<f64>,
    pub note: Option<String>,
    pub signals: String,
    pub snapshot_as_of: Option<NaiveDate>,
    pub expected_arr: Option<f64>,
    pub recorded_by: Option<String>,
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignRow {
    pub name: String,
    pub feature_key: String,
    /// JSON of the member rule.
    pub rule: String,
    pub start_date: NaiveDate,
    pub created_by: Option<String>,
    pub members: i64,
    pub holdout: i64,
}

/// One signal's backtest statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignalStatRow {
    pub signal: String,
    pub fired: i64,
    pub won: i64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub lift: Option<f64>,
    pub weight: f64,
    pub observations: i64,
    pub dates: String,
    pub computed_at: Option<String>,
}

fn date(value: &Date32Array, row: usize) -> Option<NaiveDate> {
    (!value.is_null(row)).then(|| epoch_days(value.value(row)))
}

fn unexpected(what: &str) -> StoreError {
    StoreError::Internal(format!("{what} came back in unexpected types"))
}

impl Store {
    /// Every account's name.
    pub fn account_names(&self) -> Result<HashMap<String, String>, StoreError> {
        let mut statement = self.conn.prepare("SELECT account_id, name FROM accounts")?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// (account, score, colour) of a snapshot's health scores.
    pub fn health_briefs(
        &self,
        snapshot_id: i64,
    ) -> Result<HashMap<String, (Option<f64>, String)>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT account_id, score, colour FROM health_scores WHERE snapshot_id = $1",
        )?;
        let rows = statement.query_map(params![snapshot_id], |r| {
            Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?)))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The feature catalogue, by key.
    pub fn feature_catalogue(&self) -> Result<Vec<FeatureRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT feature_key, name, module, tier, coalesce(is_core, false), resources, description \
             FROM features ORDER BY feature_key",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(FeatureRow {
                key: r.get(0)?,
                name: r.get(1)?,
                module: r.get(2)?,
                tier: r.get(3)?,
                is_core: r.get(4)?,
                resources: r.get(5)?,
                description: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Runs a feature-usage query (`coco_metrics::feature_usage_sql`) and returns each
    /// account's rows, in the order of `features`; rows of features not in `features`
    /// are skipped.
    pub fn feature_usage_by_account(
        &self,
        sql: &str,
        features: &[String],
    ) -> Result<HashMap<String, Vec<FeatureUseRow>>, StoreError> {
        let feature_index: HashMap<&str, usize> = features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.as_str(), i))
            .collect();
        let mut out: HashMap<String, Vec<FeatureUseRow>> = HashMap::new();
        let mut statement = self.conn.prepare(sql)?;
        for batch in statement.query_arrow([])? {
            let column = |i: usize| batch.column(i).as_any();
            let (
                Some(account),
                Some(feature),
                Some(entitled),
                Some(events),
                Some(users),
                Some(prior),
                Some(first),
                Some(last),
            ) = (
                column(0).downcast_ref::<StringArray>(),
                column(1).downcast_ref::<StringArray>(),
                column(2).downcast_ref::<BooleanArray>(),
                column(3).downcast_ref::<Float64Array>(),
                column(4).downcast_ref::<Float64Array>(),
                column(5).downcast_ref::<Float64Array>(),
                column(6).downcast_ref::<Date32Array>(),
                column(7).downcast_ref::<Date32Array>(),
            )
            else {
                return Err(unexpected("feature usage"));
            };
            for row in 0..batch.num_rows() {
                let Some(&f) = feature_index.get(feature.value(row)) else {
                    continue;
                };
                let entry = FeatureUseRow {
                    feature: f,
                    entitled: entitled.value(row),
                    events: events.value(row),
                    users: users.value(row),
                    prior_events: prior.value(row),
                    first_used: date(first, row),
                    last_used: date(last, row),
                };
                match out.get_mut(account.value(row)) {
                    Some(list) => list.push(entry),
                    None => {
                        out.insert(account.value(row).to_string(), vec![entry]);
                    }
                }
            }
        }
        // In catalogue order, whatever order the query returned (sorting 2M rows in SQL
        // costs more than these small lists).
        for list in out.values_mut() {
            list.sort_unstable_by_key(|r| r.feature);
        }
        Ok(out)
    }

    /// Products with a contract valid on `as_of`, and the earliest end, per account.
    pub fn holdings(&self, as_of: NaiveDate) -> Result<HashMap<String, HoldingRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT account_id, string_agg(DISTINCT product, ',' ORDER BY product), min(end_date) FROM contracts \
             WHERE start_date <= $1 AND (end_date IS NULL OR end_date >= $1) GROUP BY account_id",
        )?;
        let rows = statement.query_map(params![as_of], |r| {
            let products: Option<String> = r.get(1)?;
            Ok((
                r.get::<_, String>(0)?,
                HoldingRow {
                    products: products
                        .unwrap_or_default()
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect(),
                    renewal_date: r.get(2)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Tickets opened and feedback submitted in the `days` up to `as_of`.
    pub fn work_items(&self, as_of: NaiveDate, days: u32) -> Result<Vec<WorkItemRow>, StoreError> {
        let since = as_of - Days::new(u64::from(days));
        let end = as_of + Days::new(1);
        let mut statement = self.conn.prepare(
            "SELECT account_id, 'tickets', ticket_id, CAST(opened_at AS DATE), category, coalesce(subject, ''), NULL \
             FROM tickets WHERE opened_at >= $1 AND opened_at < $2 \
             UNION ALL SELECT account_id, 'feedback', feedback_id, CAST(submitted_at AS DATE), category, text, feature_key \
             FROM feedback WHERE submitted_at >= $1 AND submitted_at < $2 ORDER BY 1, 4, 3",
        )?;
        let rows = statement.query_map(params![since, end], |r| {
            let table: String = r.get(1)?;
            Ok(WorkItemRow {
                account_id: r.get(0)?,
                table: if table == "tickets" {
                    "tickets"
                } else {
                    "feedback"
                },
                id: r.get(2)?,
                date: r.get(3)?,
                category: r.get(4)?,
                text: r.get(5)?,
                feature_key: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Touchpoint notes of the `days` up to `as_of` containing one of the keywords (any
    /// case), newest first, at most `per_account` per account.
    pub fn goal_notes(
        &self,
        as_of: NaiveDate,
        days: u32,
        keywords: &[String],
        per_account: usize,
    ) -> Result<Vec<GoalRow>, StoreError> {
        if keywords.is_empty() {
            return Ok(Vec::new());
        }
        let since = as_of - Days::new(u64::from(days));
        let end = as_of + Days::new(1);
        // Keywords are bound as one list parameter, never spliced into the SQL.
        let list = keywords
            .iter()
            .map(|k| k.to_lowercase())
            .collect::<Vec<_>>()
            .join("\u{1f}");
        let mut statement = self.conn.prepare(
            "SELECT account_id, touchpoint_id, CAST(occurred_at AS DATE), notes FROM ( \
               SELECT account_id, touchpoint_id, occurred_at, notes, \
               row_number() OVER (PARTITION BY account_id ORDER BY occurred_at DESC, touchpoint_id) AS n \
               FROM touchpoints WHERE occurred_at >= $1 AND occurred_at < $2 AND notes IS NOT NULL \
               AND list_bool_or(list_transform(string_split($3, chr(31)), k -> contains(lower(notes), k)))) \
             WHERE n <= $4 ORDER BY account_id, occurred_at DESC",
        )?;
        let rows = statement.query_map(params![since, end, list, per_account as i64], |r| {
            Ok(GoalRow {
                account_id: r.get(0)?,
                touchpoint_id: r.get(1)?,
                date: r.get(2)?,
                text: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every milestone, with its completion when it happened on or before `as_of`.
    pub fn milestone_states(&self, as_of: NaiveDate) -> Result<Vec<MilestoneRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT account_id, milestone_key, due_date, \
             CASE WHEN completed_date <= $1 THEN completed_date END, name, stage, status \
             FROM milestones ORDER BY 1, 3, 2",
        )?;
        let rows = statement.query_map(params![as_of], |r| {
            Ok(MilestoneRow {
                account_id: r.get(0)?,
                key: r.get(1)?,
                due: r.get(2)?,
                completed: r.get(3)?,
                name: r.get(4)?,
                stage: r.get(5)?,
                status: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Values of `metrics` in the given snapshots, as `[metric][snapshot][account]`
    /// aligned with `accounts` (NaN where missing).
    pub fn metric_series(
        &self,
        snapshot_ids: &[i64],
        metrics: &[String],
        accounts: &[String],
    ) -> Result<Vec<Vec<Vec<f64>>>, StoreError> {
        let mut out = vec![vec![vec![f64::NAN; accounts.len()]; snapshot_ids.len()]; metrics.len()];
        if snapshot_ids.is_empty() || metrics.is_empty() {
            return Ok(out);
        }
        let ids = snapshot_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let names = metrics
            .iter()
            .map(|m| format!("'{}'", m.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(", ");
        let mut metric_ids: HashMap<i32, usize> = HashMap::new();
        {
            let mut statement = self.conn.prepare(&format!(
                "SELECT label_id, label FROM labels WHERE label IN ({names})"
            ))?;
            let rows =
                statement.query_map([], |r| Ok((r.get::<_, i32>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, label) = row?;
                if let Some(m) = metrics.iter().position(|x| *x == label) {
                    metric_ids.insert(id, m);
                }
            }
        }
        if metric_ids.is_empty() {
            return Ok(out);
        }
        // The accounts go to a temp table with their position, so DuckDB's join turns
        // account ids into positions: measured ~2× faster at 100,000 accounts × 27
        // snapshots than hashing every returned id here.
        self.conn.execute_batch(
            "DROP TABLE IF EXISTS temp.series_accounts; \
             CREATE TEMP TABLE series_accounts (idx INTEGER, account_id VARCHAR)",
        )?;
        {
            let mut appender =
                self.conn
                    .appender_to_catalog_and_db("series_accounts", "temp", "main")?;
            for (i, account) in accounts.iter().enumerate() {
                appender.append_row(params![i as i32, account])?;
            }
            appender.flush()?;
        }
        let metric_list = metric_ids
            .keys()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let mut statement = self.conn.prepare(&format!(
            "SELECT v.snapshot_id, CAST(v.metric_id AS INTEGER), s.idx, CAST(v.value AS DOUBLE) \
             FROM metric_values v JOIN temp.series_accounts s ON s.account_id = v.account_id \
             WHERE v.snapshot_id IN ({ids}) AND v.metric_id IN ({metric_list})"
        ))?;
        let snapshot_position: HashMap<i64, usize> = snapshot_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i))
            .collect();
        for batch in statement.query_arrow([])? {
            let column = |i: usize| batch.column(i).as_any();
            let (Some(snapshot), Some(metric), Some(account), Some(value)) = (
                column(0).downcast_ref::<arrow::array::Int64Array>(),
                column(1).downcast_ref::<arrow::array::Int32Array>(),
                column(2).downcast_ref::<arrow::array::Int32Array>(),
                column(3).downcast_ref::<Float64Array>(),
            ) else {
                return Err(unexpected("metric series"));
            };
            for row in 0..batch.num_rows() {
                if value.is_null(row) {
                    continue;
                }
                let (Some(&s), Some(&m)) = (
                    snapshot_position.get(&snapshot.value(row)),
                    metric_ids.get(&metric.value(row)),
                ) else {
                    continue;
                };
                out[m][s][account.value(row) as usize] = value.value(row);
            }
        }
        self.conn.execute_batch("DROP TABLE temp.series_accounts")?;
        Ok(out)
    }

    /// Expansions decided on or before `as_of`: expansion opportunities of the outcomes
    /// file (won / lost), renewals that expanded (won), and outcomes recorded in COCO
    /// (won / lost; no-decisions left out).
    pub fn expansion_outcomes(
        &self,
        as_of: NaiveDate,
    ) -> Result<Vec<ExpansionOutcomeRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT account_id, coalesce(expansion_type, 'other'), outcome IN ('won', 'expanded'), decided_on, 'outcomes', NULL, \
             kind = 'expansion' FROM outcomes WHERE decided_on <= $1 AND ((kind = 'expansion' AND outcome IN ('won', 'lost')) \
             OR (kind = 'renewal' AND outcome = 'expanded')) \
             UNION ALL SELECT account_id, expansion_type, outcome = 'won', decided_on, 'recorded', signals, true \
             FROM expansion_outcomes WHERE decided_on <= $1 AND outcome IN ('won', 'lost') ORDER BY 4, 1",
        )?;
        let rows = statement.query_map(params![as_of], |r| {
            let source: String = r.get(4)?;
            Ok(ExpansionOutcomeRow {
                account_id: r.get(0)?,
                expansion_type: r.get(1)?,
                won: r.get(2)?,
                decided_on: r.get(3)?,
                source: if source == "recorded" {
                    "recorded"
                } else {
                    "outcomes"
                },
                signals: r.get(5)?,
                opportunity: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Renewal outcomes decided on or before `as_of`, each with the features used and
    /// the features entitled in the `window_days` ending `lead_days` before the renewal.
    pub fn renewal_feature_usage(
        &self,
        as_of: NaiveDate,
        lead_days: u32,
        window_days: u32,
    ) -> Result<Vec<RenewalUsageRow>, StoreError> {
        // Tier ranks from the contract's plan tiers, as the metric compiler numbers them.
        let tier_rank = |column: &str| {
            let cases: String = coco_core::contract::PLAN_TIERS
                .iter()
                .enumerate()
                .map(|(rank, tier)| format!(" WHEN '{tier}' THEN {}", rank + 1))
                .collect();
            format!("CASE {column}{cases} END")
        };
        let sql = format!(
            "WITH decisions AS ( \
               SELECT o.account_id, coalesce(c.end_date, o.decided_on) AS renewal_date, o.outcome = 'churned' AS churned \
               FROM outcomes o LEFT JOIN contracts c ON c.contract_id = o.contract_id \
               WHERE o.kind = 'renewal' AND o.decided_on <= $1), \
             observed AS (SELECT account_id, renewal_date, churned, \
               renewal_date - INTERVAL ({lead} + {window}) DAY AS window_start, renewal_date - INTERVAL ({lead}) DAY AS window_end \
               FROM decisions), \
             held AS (SELECT d.account_id, d.renewal_date, max({rank_k}) AS tier_rank, list(DISTINCT k.product) AS products \
               FROM observed d JOIN contracts k ON k.account_id = d.account_id \
               AND k.start_date <= CAST(d.window_end AS DATE) AND (k.end_date IS NULL OR k.end_date >= CAST(d.window_end AS DATE)) \
               GROUP BY d.account_id, d.renewal_date), \
             entitled AS (SELECT h.account_id, h.renewal_date, list(f.feature_key ORDER BY f.feature_key) AS features \
               FROM held h JOIN features f ON {rank_f} <= h.tier_rank \
               AND (f.module NOT IN (SELECT DISTINCT product FROM contracts) OR list_contains(h.products, f.module)) \
               GROUP BY h.account_id, h.renewal_date), \
             used AS (SELECT d.account_id, d.renewal_date, list(DISTINCT e.feature_key ORDER BY e.feature_key) AS features \
               FROM observed d JOIN usage_events e ON e.account_id = d.account_id \
               AND e.occurred_at >= d.window_start AND e.occurred_at < d.window_end \
               GROUP BY d.account_id, d.renewal_date), \
             used_daily AS (SELECT d.account_id, d.renewal_date, list(DISTINCT u.feature_key ORDER BY u.feature_key) AS features \
               FROM observed d JOIN usage_daily u ON u.account_id = d.account_id \
               AND u.date >= CAST(d.window_start AS DATE) AND u.date < CAST(d.window_end AS DATE) AND u.event_count > 0 \
               GROUP BY d.account_id, d.renewal_date) \
             SELECT d.account_id, d.renewal_date, d.churned, \
               array_to_string(list_distinct(list_concat(coalesce(u.features, []), coalesce(ud.features, []))), ','), \
               array_to_string(coalesce(en.features, []), ',') \
             FROM observed d LEFT JOIN used u USING (account_id, renewal_date) \
             LEFT JOIN used_daily ud USING (account_id, renewal_date) \
             LEFT JOIN entitled en USING (account_id, renewal_date) ORDER BY 1, 2",
            lead = lead_days,
            window = window_days,
            rank_k = tier_rank("k.plan_tier"),
            rank_f = tier_rank("f.tier"),
        );
        let mut statement = self.conn.prepare(&sql)?;
        let split = |text: Option<String>| -> Vec<String> {
            text.unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let rows = statement.query_map(params![as_of], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, NaiveDate>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (account_id, renewal_date, churned, used, entitled) = row?;
            out.push(RenewalUsageRow {
                account_id,
                renewal_date,
                churned,
                used: split(used),
                entitled: split(entitled),
            });
        }
        Ok(out)
    }

    /// Cross-sells of a product: (account, first start of its contract) for accounts that
    /// had another contract before buying it, started on or before `as_of`.
    pub fn product_adoptions(
        &self,
        product: &str,
        as_of: NaiveDate,
    ) -> Result<Vec<(String, NaiveDate)>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT account_id, min(start_date) AS bought FROM contracts WHERE product = $1 GROUP BY account_id \
             HAVING min(start_date) <= $2 AND EXISTS (SELECT 1 FROM contracts o WHERE o.account_id = contracts.account_id \
             AND o.product <> $1 AND o.start_date < min(contracts.start_date)) ORDER BY 2, 1",
        )?;
        let rows = statement.query_map(params![product, as_of], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Up to `limit` accounts of a snapshot that held no contract for `product` at its
    /// date, picked by a hash of the id (deterministic, spread over the book).
    pub fn accounts_without_product(
        &self,
        snapshot_id: i64,
        product: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT a.account_id FROM snapshot_accounts a JOIN snapshots s USING (snapshot_id) \
             WHERE a.snapshot_id = $1 AND NOT EXISTS (SELECT 1 FROM contracts k WHERE k.account_id = a.account_id \
             AND k.product = $2 AND k.start_date <= s.as_of) ORDER BY hash(a.account_id), a.account_id LIMIT $3",
        )?;
        let rows =
            statement.query_map(params![snapshot_id, product, limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Values of `metrics` for (snapshot, account) pairs, one row per pair (NaN missing).
    /// One query for all pairs.
    pub fn metric_values_at(
        &self,
        pairs: &[(i64, String)],
        metrics: &[String],
    ) -> Result<Vec<Vec<f64>>, StoreError> {
        let mut out = vec![vec![f64::NAN; metrics.len()]; pairs.len()];
        if pairs.is_empty() || metrics.is_empty() {
            return Ok(out);
        }
        let filter = PairFilter::new(pairs);
        let quote = |text: &str| format!("'{}'", text.replace('\'', "''"));
        let sql = format!(
            "SELECT v.snapshot_id, l.label, v.account_id, CAST(v.value AS DOUBLE) FROM metric_values v \
             JOIN labels l ON l.label_id = v.metric_id \
             WHERE v.snapshot_id IN ({}) AND l.label IN ({}) AND v.account_id IN ({})",
            filter.snapshots,
            metrics
                .iter()
                .map(|m| quote(m))
                .collect::<Vec<_>>()
                .join(", "),
            filter.accounts,
        );
        let mut statement = self.conn.prepare(&sql)?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<f64>>(3)?,
            ))
        })?;
        for row in rows {
            let (snapshot, metric, account, value) = row?;
            let (Some(value), Some(&i), Some(m)) = (
                value,
                filter.row_of.get(&(snapshot, account.as_str())),
                metrics.iter().position(|name| *name == metric),
            ) else {
                continue;
            };
            out[i][m] = value;
        }
        Ok(out)
    }

    /// The first day of usage history (raw or daily).
    pub fn usage_history_start(&self) -> Result<Option<NaiveDate>, StoreError> {
        Ok(self.conn.query_row(
            "SELECT least((SELECT CAST(min(occurred_at) AS DATE) FROM usage_events), (SELECT min(date) FROM usage_daily))",
            [],
            |r| r.get(0),
        )?)
    }

    /// Records (or replaces) the outcome of an expansion opportunity.
    pub fn record_expansion_outcome(&self, outcome: &RecordedOutcome) -> Result<(), StoreError> {
        if !["won", "lost", "no_decision"].contains(&outcome.outcome.as_str()) {
            return Err(StoreError::Invalid(format!(
                "outcome `{}` is not won, lost or no_decision",
                outcome.outcome
            )));
        }
        self.conn.execute(
            "INSERT OR REPLACE INTO expansion_outcomes (opportunity_id, account_id, expansion_type, outcome, decided_on, \
             arr_added, note, signals, snapshot_as_of, expected_arr, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())",
            params![
                outcome.opportunity_id,
                outcome.account_id,
                outcome.expansion_type,
                outcome.outcome,
                outcome.decided_on,
                outcome.arr_added,
                outcome.note,
                outcome.signals,
                outcome.snapshot_as_of,
                outcome.expected_arr,
                outcome.recorded_by,
            ],
        )?;
        Ok(())
    }

    pub fn recorded_outcomes(&self) -> Result<Vec<RecordedOutcome>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT opportunity_id, account_id, expansion_type, outcome, decided_on, arr_added, note, signals, \
             snapshot_as_of, expected_arr, recorded_by FROM expansion_outcomes ORDER BY decided_on DESC, opportunity_id",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(RecordedOutcome {
                opportunity_id: r.get(0)?,
                account_id: r.get(1)?,
                expansion_type: r.get(2)?,
                outcome: r.get(3)?,
                decided_on: r.get(4)?,
                arr_added: r.get(5)?,
                note: r.get(6)?,
                signals: r.get(7)?,
                snapshot_as_of: r.get(8)?,
                expected_arr: r.get(9)?,
                recorded_by: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces the stored signal statistics with a new backtest's.
    pub fn replace_signal_stats(&self, stats: &[SignalStatRow]) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("DELETE FROM expansion_signal_stats", [])?;
        for s in stats {
            tx.execute(
                "INSERT INTO expansion_signal_stats (signal, fired, won, precision, recall, lift, weight, observations, dates, computed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())",
                params![s.signal, s.fired, s.won, s.precision, s.recall, s.lift, s.weight, s.observations, s.dates],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn signal_stats(&self) -> Result<Vec<SignalStatRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT signal, fired, won, precision, recall, lift, weight, observations, dates, \
             strftime(computed_at, '%Y-%m-%d %H:%M:%S') FROM expansion_signal_stats ORDER BY signal",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(SignalStatRow {
                signal: r.get(0)?,
                fired: r.get(1)?,
                won: r.get(2)?,
                precision: r.get(3)?,
                recall: r.get(4)?,
                lift: r.get(5)?,
                weight: r.get(6)?,
                observations: r.get(7)?,
                dates: r.get(8)?,
                computed_at: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Creates a campaign with its frozen groups, in one transaction. A name is unique.
    pub fn create_campaign(
        &self,
        campaign: &CampaignRow,
        accounts: &[(String, bool)],
    ) -> Result<(), StoreError> {
        let exists: i64 = self.conn.query_row(
            "SELECT count(*) FROM campaigns WHERE name = $1",
            params![campaign.name],
            |r| r.get(0),
        )?;
        if exists > 0 {
            return Err(StoreError::Invalid(format!(
                "a campaign named `{}` exists already",
                campaign.name
            )));
        }
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO campaigns (name, feature_key, rule, start_date, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, now())",
            params![
                campaign.name,
                campaign.feature_key,
                campaign.rule,
                campaign.start_date,
                campaign.created_by
            ],
        )?;
        {
            let mut appender = tx.appender("campaign_accounts")?;
            for (account, holdout) in accounts {
                appender.append_row(params![campaign.name, account, holdout])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn campaigns(&self) -> Result<Vec<CampaignRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT c.name, c.feature_key, c.rule, c.start_date, c.created_by, \
             count(a.account_id) FILTER (WHERE NOT a.holdout), count(a.account_id) FILTER (WHERE a.holdout) \
             FROM campaigns c LEFT JOIN campaign_accounts a ON a.campaign = c.name \
             GROUP BY ALL ORDER BY c.start_date DESC, c.name",
        )?;
        let rows = statement.query_map([], |r| {
            Ok(CampaignRow {
                name: r.get(0)?,
                feature_key: r.get(1)?,
                rule: r.get(2)?,
                start_date: r.get(3)?,
                created_by: r.get(4)?,
                members: r.get(5)?,
                holdout: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A campaign's accounts with the first day they used its feature after its start
    /// and on or before `as_of`.
    pub fn campaign_activation(
        &self,
        name: &str,
        as_of: NaiveDate,
    ) -> Result<Vec<(String, bool, Option<NaiveDate>)>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT a.account_id, a.holdout, least( \
               (SELECT CAST(min(e.occurred_at) AS DATE) FROM usage_events e WHERE e.account_id = a.account_id \
                AND e.feature_key = c.feature_key AND e.occurred_at >= c.start_date + INTERVAL 1 DAY \
                AND e.occurred_at < CAST($2 AS DATE) + INTERVAL 1 DAY), \
               (SELECT min(d.date) FROM usage_daily d WHERE d.account_id = a.account_id AND d.feature_key = c.feature_key \
                AND d.event_count > 0 AND d.date > c.start_date AND d.date <= CAST($2 AS DATE))) \
             FROM campaign_accounts a JOIN campaigns c ON c.name = a.campaign WHERE a.campaign = $1 ORDER BY 1",
        )?;
        let rows = statement.query_map(params![name, as_of], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// (snapshot, account) pairs as SQL filters (`IN` lists of the distinct snapshots and
/// quoted accounts) and the row of each pair: what the per-pair questions share.
pub(crate) struct PairFilter<'a> {
    pub row_of: HashMap<(i64, &'a str), usize>,
    pub snapshots: String,
    pub accounts: String,
}

impl<'a> PairFilter<'a> {
    pub fn new(pairs: &'a [(i64, String)]) -> Self {
        let mut snapshots: Vec<i64> = pairs.iter().map(|(s, _)| *s).collect();
        snapshots.sort_unstable();
        snapshots.dedup();
        let mut accounts: Vec<&str> = pairs.iter().map(|(_, a)| a.as_str()).collect();
        accounts.sort_unstable();
        accounts.dedup();
        PairFilter {
            row_of: pairs
                .iter()
                .enumerate()
                .map(|(i, (snapshot, account))| ((*snapshot, account.as_str()), i))
                .collect(),
            snapshots: snapshots
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            accounts: accounts
                .iter()
                .map(|a| format!("'{}'", a.replace('\'', "''")))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}
