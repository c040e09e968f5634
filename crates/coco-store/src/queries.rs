//! Typed read-only questions the surfaces ask: accounts, status, portfolio summary.
//! Results are plain serialisable rows; formatting belongs to the caller.

use chrono::NaiveDate;
use coco_core::contract::{self, MergeMode};
use duckdb::OptionalExt;
use serde::Serialize;

use crate::error::StoreError;
use crate::ingest::sql::quote_ident;
use crate::store::Store;

#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub owner_csm_id: Option<String>,
    pub segment: Option<String>,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountRow {
    pub account_id: String,
    pub name: String,
    pub segment: Option<String>,
    pub region: Option<String>,
    pub owner_csm_id: Option<String>,
    pub owner_name: Option<String>,
    pub coverage_model: Option<String>,
    /// ARR of contracts active on the as-of date.
    pub arr: f64,
    pub active_contracts: i64,
    /// Earliest end date among contracts active on the as-of date.
    pub next_renewal: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContractRow {
    pub contract_id: String,
    pub product: String,
    pub plan_tier: String,
    pub seats: Option<i64>,
    pub arr: f64,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub status: String,
    pub auto_renew: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactRow {
    pub contact_id: String,
    pub name: Option<String>,
    pub title: Option<String>,
    pub role: String,
    pub email: Option<String>,
    pub end_date: Option<NaiveDate>,
}

/// Where a stored row came from.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Provenance {
    pub load_id: i64,
    pub source: String,
    pub line: i64,
    pub loaded_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountDetail {
    #[serde(flatten)]
    pub account: AccountRow,
    pub industry: Option<String>,
    pub employee_count: Option<i64>,
    pub parent_account_id: Option<String>,
    pub customer_since: Option<NaiveDate>,
    pub custom_attributes: Option<serde_json::Value>,
    pub contracts: Vec<ContractRow>,
    pub contacts: Vec<ContactRow>,
    pub provenance: Provenance,
}

/// The error for an account id the store does not hold.
pub(crate) fn no_such_account(account_id: &str) -> StoreError {
    StoreError::NotFound(format!("no account {account_id:?} in the store"))
}

const ACTIVE_CONTRACT: &str = "c.status = 'active' AND c.start_date <= $as_of AND (c.end_date IS NULL OR c.end_date >= $as_of)";

impl Store {
    pub fn list_accounts(
        &self,
        filter: &AccountFilter,
        as_of: NaiveDate,
    ) -> Result<Vec<AccountRow>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_ROW_COLUMNS} {from}
             WHERE ($owner IS NULL OR a.owner_csm_id = $owner) AND ($segment IS NULL OR a.segment = $segment)
             GROUP BY ALL
             ORDER BY 8 DESC, a.account_id
             LIMIT $limit",
            from = account_row_from()
        );
        let mut statement = self.conn.prepare(&sql)?;
        let limit = filter.limit.map(|l| l as i64).unwrap_or(i64::MAX);
        let rows = statement
            .query_map(
                duckdb::named_params! {
                    "as_of": as_of.to_string(),
                    "owner": filter.owner_csm_id,
                    "segment": filter.segment,
                    "limit": limit,
                },
                account_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The account's name (None: no such account, or it has none).
    pub fn account_name(&self, account_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT name FROM accounts WHERE account_id = ?")?
            .query_row([account_id], |row| row.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    pub fn account_detail(
        &self,
        account_id: &str,
        as_of: NaiveDate,
    ) -> Result<AccountDetail, StoreError> {
        self.account_details(Some(account_id), as_of)?
            .into_iter()
            .next()
            .ok_or_else(|| no_such_account(account_id))
    }

    /// Accounts' records with their contracts and contacts as of a date: one account's,
    /// or (None) every account's, ordered by id — the same rows either way.
    pub fn account_details(
        &self,
        account_id: Option<&str>,
        as_of: NaiveDate,
    ) -> Result<Vec<AccountDetail>, StoreError> {
        let as_of = as_of.to_string();
        let only = |column: &str| match account_id {
            Some(_) => format!("{column} = $account"),
            None => "TRUE".to_string(),
        };
        let account_params: Vec<(&str, &dyn duckdb::ToSql)> = match &account_id {
            Some(account_id) => vec![("account", account_id as &dyn duckdb::ToSql)],
            None => Vec::new(),
        };
        let mut record_params = account_params.clone();
        record_params.push(("as_of", &as_of));
        let sql = format!(
            "SELECT {ACCOUNT_ROW_COLUMNS},
                    a.industry, a.employee_count, a.parent_account_id, a.customer_since, a.custom_attributes,
                    a._load_id, l.source, a._line, CAST(l.finished_at AS VARCHAR)
             {from}
             LEFT JOIN loads l ON l.load_id = a._load_id
             WHERE {predicate}
             GROUP BY ALL
             ORDER BY a.account_id",
            from = account_row_from(),
            predicate = only("a.account_id"),
        );
        let mut statement = self.conn.prepare(&sql)?;
        let records = statement
            .query_map(record_params.as_slice(), |row| {
                let custom: Option<String> = row.get(14)?;
                Ok(AccountDetail {
                    account: account_row(row)?,
                    industry: row.get(10)?,
                    employee_count: row.get(11)?,
                    parent_account_id: row.get(12)?,
                    customer_since: row.get(13)?,
                    custom_attributes: custom.and_then(|c| serde_json::from_str(&c).ok()),
                    contracts: Vec::new(),
                    contacts: Vec::new(),
                    provenance: Provenance {
                        load_id: row.get(15)?,
                        source: row.get::<_, Option<String>>(16)?.unwrap_or_default(),
                        line: row.get(17)?,
                        loaded_at: row.get::<_, Option<String>>(18)?.unwrap_or_default(),
                    },
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut contracts: std::collections::HashMap<String, Vec<ContractRow>> = Default::default();
        let mut statement = self.conn.prepare(&format!(
            "SELECT account_id, contract_id, product, plan_tier, seats, arr::DOUBLE, start_date, end_date, status, auto_renew
             FROM contracts WHERE {} ORDER BY account_id, start_date DESC, contract_id",
            only("account_id")
        ))?;
        let mut rows = statement.query(account_params.as_slice())?;
        while let Some(r) = rows.next()? {
            contracts.entry(r.get(0)?).or_default().push(ContractRow {
                contract_id: r.get(1)?,
                product: r.get(2)?,
                plan_tier: r.get(3)?,
                seats: r.get(4)?,
                arr: r.get(5)?,
                start_date: r.get(6)?,
                end_date: r.get(7)?,
                status: r.get(8)?,
                auto_renew: r.get(9)?,
            });
        }
        let mut contacts: std::collections::HashMap<String, Vec<ContactRow>> = Default::default();
        let mut statement = self.conn.prepare(&format!(
            "SELECT account_id, contact_id, name, title, role, email, end_date FROM contacts
             WHERE {} ORDER BY account_id, end_date NULLS FIRST, role, contact_id",
            only("account_id")
        ))?;
        let mut rows = statement.query(account_params.as_slice())?;
        while let Some(r) = rows.next()? {
            contacts.entry(r.get(0)?).or_default().push(ContactRow {
                contact_id: r.get(1)?,
                name: r.get(2)?,
                title: r.get(3)?,
                role: r.get(4)?,
                email: r.get(5)?,
                end_date: r.get(6)?,
            });
        }
        Ok(records
            .into_iter()
            .map(|mut detail| {
                let id = &detail.account.account_id;
                detail.contracts = contracts.remove(id).unwrap_or_default();
                detail.contacts = contacts.remove(id).unwrap_or_default();
                detail
            })
            .collect())
    }

    /// One row per entity: what is stored and when it was last refreshed.
    pub fn status(&self) -> Result<Vec<EntityStatus>, StoreError> {
        let mut out = Vec::new();
        for entity in contract::ENTITIES {
            let table = quote_ident(entity.name);
            let latest = match entity.event_time {
                Some(column) => format!("CAST(max({}) AS VARCHAR)", quote_ident(column)),
                None => "CAST(NULL AS VARCHAR)".into(),
            };
            let (rows, latest_data): (i64, Option<String>) = self.conn.query_row(
                &format!("SELECT count(*), {latest} FROM {table}"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let (loads, last_load, last_source): (i64, Option<String>, Option<String>) = self.conn.query_row(
                "SELECT count(*), CAST(max(finished_at) AS VARCHAR), arg_max(source, finished_at) FROM loads WHERE entity = ?",
                [entity.name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let open_quarantine: i64 = self.conn.query_row(
                "SELECT count(*) FROM quarantine WHERE entity = ? AND status = 'open'",
                [entity.name],
                |r| r.get(0),
            )?;
            let history_rows = match entity.merge {
                MergeMode::Upsert => self.conn.query_row(
                    &format!("SELECT count(*) FROM {}_history", entity.name),
                    [],
                    |r| r.get(0),
                )?,
                MergeMode::AppendDedup => 0,
            };
            out.push(EntityStatus {
                entity: entity.name,
                rows,
                history_rows,
                loads,
                last_load,
                last_source,
                latest_data,
                open_quarantine,
            });
        }
        Ok(out)
    }

    /// Size of the database file in bytes.
    pub fn file_size(&self) -> u64 {
        std::fs::metadata(self.path()).map(|m| m.len()).unwrap_or(0)
    }

    pub fn portfolio_summary(&self, as_of: NaiveDate) -> Result<PortfolioSummary, StoreError> {
        let d = as_of.to_string();
        let active = ACTIVE_CONTRACT.replace("$as_of", "$d::DATE");
        let (accounts, active_accounts, arr): (i64, i64, f64) = self.conn.query_row(
            &format!(
                "SELECT (SELECT count(*) FROM accounts),
                        (SELECT count(DISTINCT account_id) FROM contracts c WHERE {active}),
                        (SELECT COALESCE(sum(arr), 0)::DOUBLE FROM contracts c WHERE {active})"
            ),
            duckdb::named_params! { "d": d },
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let breakdown = |group_sql: &str| -> Result<Vec<Breakdown>, StoreError> {
            let sql = format!(
                "SELECT {group_sql} AS grp, count(DISTINCT a.account_id), COALESCE(sum(c.arr), 0)::DOUBLE
                 FROM accounts a JOIN contracts c ON c.account_id = a.account_id AND {active}
                 LEFT JOIN csms m ON m.csm_id = a.owner_csm_id
                 GROUP BY ALL ORDER BY 3 DESC"
            );
            let rows = self
                .conn
                .prepare(&sql)?
                .query_map(duckdb::named_params! { "d": d }, |r| {
                    Ok(Breakdown {
                        group: r
                            .get::<_, Option<String>>(0)?
                            .unwrap_or_else(|| "(none)".into()),
                        accounts: r.get(1)?,
                        arr: r.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        };
        let by_segment = breakdown("a.segment")?;
        let by_csm = breakdown("COALESCE(m.name, a.owner_csm_id)")?;
        let mut renewals = Vec::new();
        for days in [30_i64, 90, 180] {
            let (count, renewal_arr): (i64, f64) = self.conn.query_row(
                &format!(
                    "SELECT count(*), COALESCE(sum(arr), 0)::DOUBLE FROM contracts c
                     WHERE {active} AND c.end_date <= $d::DATE + to_days(CAST($days AS INTEGER))"
                ),
                duckdb::named_params! { "d": d, "days": days },
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            renewals.push(RenewalWindow {
                within_days: days,
                contracts: count,
                arr: renewal_arr,
            });
        }
        let outcomes = self
            .conn
            .prepare(
                "SELECT outcome, count(*), COALESCE(sum(arr_before), 0)::DOUBLE, COALESCE(sum(arr_after), 0)::DOUBLE
                 FROM outcomes WHERE kind = 'renewal' AND decided_on <= $d::DATE AND decided_on > $d::DATE - INTERVAL 365 DAY
                 GROUP BY ALL ORDER BY 2 DESC",
            )?
            .query_map(duckdb::named_params! { "d": d }, |r| {
                Ok(OutcomeCount {
                    outcome: r.get(0)?,
                    count: r.get(1)?,
                    arr_before: r.get(2)?,
                    arr_after: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let before: f64 = outcomes.iter().map(|o| o.arr_before).sum();
        let after: f64 = outcomes.iter().map(|o| o.arr_after).sum();
        let kept: f64 = outcomes.iter().map(|o| o.arr_after.min(o.arr_before)).sum();
        let open_quarantine: i64 = self.conn.query_row(
            "SELECT count(*) FROM quarantine WHERE status = 'open'",
            [],
            |r| r.get(0),
        )?;
        Ok(PortfolioSummary {
            as_of,
            accounts,
            active_accounts,
            arr,
            by_segment,
            by_csm,
            renewals,
            renewal_outcomes_12m: outcomes,
            gross_renewal_rate_12m: (before > 0.0).then(|| kept / before),
            net_renewal_rate_12m: (before > 0.0).then(|| after / before),
            open_quarantine,
        })
    }
}

/// The columns [`account_row`] reads, in its order (over [`account_row_from`]).
const ACCOUNT_ROW_COLUMNS: &str =
    "a.account_id, a.name, a.segment, a.region, a.owner_csm_id, m.name, a.coverage_model,
     COALESCE(sum(c.arr), 0)::DOUBLE, count(c.contract_id), min(c.end_date)";

/// Accounts with their owner and the contracts active on `$as_of`.
fn account_row_from() -> String {
    format!(
        "FROM accounts a
         LEFT JOIN csms m ON m.csm_id = a.owner_csm_id
         LEFT JOIN contracts c ON c.account_id = a.account_id AND {}",
        ACTIVE_CONTRACT.replace("$as_of", "$as_of::DATE")
    )
}

fn account_row(row: &duckdb::Row<'_>) -> Result<AccountRow, duckdb::Error> {
    Ok(AccountRow {
        account_id: row.get(0)?,
        name: row.get(1)?,
        segment: row.get(2)?,
        region: row.get(3)?,
        owner_csm_id: row.get(4)?,
        owner_name: row.get(5)?,
        coverage_model: row.get(6)?,
        arr: row.get(7)?,
        active_contracts: row.get(8)?,
        next_renewal: row.get(9)?,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct EntityStatus {
    pub entity: &'static str,
    pub rows: i64,
    pub history_rows: i64,
    pub loads: i64,
    pub last_load: Option<String>,
    pub last_source: Option<String>,
    /// Latest value of the entity's event-time column.
    pub latest_data: Option<String>,
    pub open_quarantine: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Breakdown {
    pub group: String,
    pub accounts: i64,
    pub arr: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenewalWindow {
    pub within_days: i64,
    pub contracts: i64,
    pub arr: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutcomeCount {
    pub outcome: String,
    pub count: i64,
    pub arr_before: f64,
    pub arr_after: f64,
}

/// The portfolio at a glance, as of a date.
#[derive(Debug, Clone, Serialize)]
pub struct PortfolioSummary {
    pub as_of: NaiveDate,
    pub accounts: i64,
    /// Accounts with a contract active on the as-of date.
    pub active_accounts: i64,
    pub arr: f64,
    pub by_segment: Vec<Breakdown>,
    pub by_csm: Vec<Breakdown>,
    pub renewals: Vec<RenewalWindow>,
    /// Renewal outcomes decided in the 365 days up to the as-of date.
    pub renewal_outcomes_12m: Vec<OutcomeCount>,
    /// Kept ARR (capped at ARR before) over ARR up for renewal, trailing 12 months.
    pub gross_renewal_rate_12m: Option<f64>,
    /// ARR after over ARR before, trailing 12 months of renewals.
    pub net_renewal_rate_12m: Option<f64>,
    pub open_quarantine: i64,
}
