//! Compiles a catalogue into one SQL query that computes every metric for every
//! account as of one date.
//!
//! Point-in-time rules, applied by construction rather than by each metric:
//! - the as-of date D is inclusive: event rows count when their time is before D + 1
//!   day (00:00 UTC); a 30-day window is [D − 29, D];
//! - the accounts scored are the customers at D: a contract valid at D (start ≤ D ≤ end,
//!   end inclusive), or, for accounts with no contracts at all, `customer_since` ≤ D;
//! - contracts and contacts count when valid at D, tickets are open at D when opened
//!   before and not closed by D, milestones are due/completed by their dates;
//! - nothing reads a row's current `status` to decide the past, except that a ticket
//!   marked solved/closed without a `closed_at` is treated as closed.
//!
//! Shape of the query: each source table is scanned once with every aggregate the
//! catalogue needs from it (`count(*) FILTER (WHERE …)`), grouped by account; the scans
//! are joined onto the customer list and each metric is an expression over their
//! columns. `change`/`percent_change` evaluate their base metric again with every date
//! shifted back, in the same scans. Sources with no rows at all up to D make their
//! counts missing (NULL), not zero: "no tickets" and "no ticket data" differ.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use chrono::{Days, NaiveDate};
use coco_core::contract::PLAN_TIERS;

use crate::catalogue::{Catalogue, ContractField, Filter, MetricDef, MetricKind, Window};
use crate::source::Source;

/// Account attributes every snapshot carries next to the metrics, in output order:
/// (column, SQL type).
pub const ATTRIBUTE_COLUMNS: &[(&str, &str)] = &[
    ("account_id", "VARCHAR"),
    ("segment", "VARCHAR"),
    ("industry", "VARCHAR"),
    ("region", "VARCHAR"),
    ("coverage_model", "VARCHAR"),
    ("owner_csm_id", "VARCHAR"),
    ("plan_tier", "VARCHAR"),
    ("employee_count", "BIGINT"),
    ("arr", "DECIMAL(18,2)"),
    ("seats", "BIGINT"),
    ("customer_since", "DATE"),
    ("renewal_date", "DATE"),
    ("tenure_days", "BIGINT"),
];

/// The query computing one snapshot.
#[derive(Debug, Clone)]
pub struct CompiledSnapshot {
    pub as_of: NaiveDate,
    /// Returns the attribute columns, then one DOUBLE column per metric.
    pub sql: String,
    pub metrics: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("as-of date {0} is too early to compute metrics for")]
    DateOutOfRange(NaiveDate),
}

/// One scan of one table, grouped by account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scan {
    UsageEvents,
    UsageDaily,
    Tickets,
    Touchpoints,
    Surveys,
    Feedback,
    BillingEvents,
    Outcomes,
    Contacts,
    Milestones,
}

impl Scan {
    fn of(source: Source) -> Scan {
        match source {
            Source::Usage => Scan::UsageEvents,
            Source::Tickets => Scan::Tickets,
            Source::Touchpoints => Scan::Touchpoints,
            Source::Surveys => Scan::Surveys,
            Source::Feedback => Scan::Feedback,
            Source::BillingEvents => Scan::BillingEvents,
            Source::Outcomes => Scan::Outcomes,
            Source::Contacts | Source::ContactDepartures => Scan::Contacts,
            Source::Milestones => Scan::Milestones,
        }
    }

    fn alias(&self) -> &'static str {
        match self {
            Scan::UsageEvents => "s_usage_events",
            Scan::UsageDaily => "s_usage_daily",
            Scan::Tickets => "s_tickets",
            Scan::Touchpoints => "s_touchpoints",
            Scan::Surveys => "s_surveys",
            Scan::Feedback => "s_feedback",
            Scan::BillingEvents => "s_billing_events",
            Scan::Outcomes => "s_outcomes",
            Scan::Contacts => "s_contacts",
            Scan::Milestones => "s_milestones",
        }
    }

    /// The column bounding the scan in time, if rows after D can be skipped outright.
    fn time_column(&self) -> Option<(&'static str, bool)> {
        match self {
            Scan::UsageEvents => Some(("occurred_at", false)),
            Scan::UsageDaily => Some(("date", true)),
            Scan::Tickets => Some(("opened_at", false)),
            Scan::Touchpoints => Some(("occurred_at", false)),
            Scan::Surveys => Some(("responded_at", false)),
            Scan::Feedback => Some(("submitted_at", false)),
            Scan::BillingEvents => Some(("occurred_on", true)),
            Scan::Outcomes => Some(("decided_on", true)),
            // Contacts and milestones are dated by several columns; their aggregates
            // carry their own conditions.
            Scan::Contacts | Scan::Milestones => None,
        }
    }

    fn table_expression(&self, needs_module: bool) -> String {
        let table = match self {
            Scan::UsageEvents => "usage_events",
            Scan::UsageDaily => "usage_daily",
            Scan::Tickets => "tickets",
            Scan::Touchpoints => {
                return "touchpoints LEFT JOIN (SELECT contact_id AS role_contact_id, role AS contact_role FROM contacts) roles ON roles.role_contact_id = touchpoints.contact_id".into();
            }
            Scan::Surveys => "surveys",
            Scan::Feedback => "feedback",
            Scan::BillingEvents => "billing_events",
            Scan::Outcomes => "outcomes",
            Scan::Contacts => "contacts",
            Scan::Milestones => "milestones",
        };
        if needs_module {
            format!(
                "{table} LEFT JOIN (SELECT feature_key AS module_feature_key, module FROM features) modules ON modules.module_feature_key = {table}.feature_key"
            )
        } else {
            table.to_string()
        }
    }
}

#[derive(Default)]
struct ScanPlan {
    /// (aggregate expression, column alias), in registration order.
    aggregates: Vec<(String, String)>,
    /// Earliest date any aggregate needs; `None` once one needs all history.
    lower: Option<Option<NaiveDate>>,
    needs_module: bool,
}

struct Compiler<'c> {
    catalogue: &'c Catalogue,
    as_of: NaiveDate,
    /// Keyed by scan and whether it reads all history: aggregates that need all of it
    /// (days since the last event) get their own scan, so the windowed aggregates only
    /// read the rows of their windows.
    scans: BTreeMap<(Scan, bool), ScanPlan>,
    /// Extra CTEs (name, body) in creation order; names are unique.
    ctes: Vec<(String, String)>,
    presence: BTreeSet<Source>,
    /// CTEs that are inputs of others rather than one row per account.
    not_joined: BTreeSet<String>,
    memo: HashMap<(String, u32), String>,
}

/// Compiles the whole catalogue for one as-of date.
pub fn compile(catalogue: &Catalogue, as_of: NaiveDate) -> Result<CompiledSnapshot, CompileError> {
    // Windows reach back at most a few years; refuse dates where date arithmetic
    // could leave chrono's range instead of panicking inside it.
    if as_of.checked_sub_days(Days::new(40_000)).is_none() {
        return Err(CompileError::DateOutOfRange(as_of));
    }
    let mut compiler = Compiler {
        catalogue,
        as_of,
        scans: BTreeMap::new(),
        ctes: Vec::new(),
        presence: BTreeSet::new(),
        not_joined: BTreeSet::new(),
        memo: HashMap::new(),
    };
    let mut metric_columns = Vec::new();
    for def in &catalogue.metrics {
        let expr = compiler.metric(def, 0);
        metric_columns.push((def.name.clone(), expr));
    }
    let contracts_now = compiler.contracts_at(0);
    let tenure = compiler.kind(&MetricKind::TenureDays, 0);
    Ok(CompiledSnapshot {
        as_of,
        sql: compiler.render(&contracts_now, &tenure, &metric_columns),
        metrics: catalogue.metrics.iter().map(|m| m.name.clone()).collect(),
    })
}

fn date_literal(date: NaiveDate) -> String {
    format!("DATE '{}'", date.format("%Y-%m-%d"))
}

fn time_literal(date: NaiveDate, is_date: bool) -> String {
    if is_date {
        date_literal(date)
    } else {
        format!("TIMESTAMP '{} 00:00:00'", date.format("%Y-%m-%d"))
    }
}

fn filter_sql(filter: &Filter, skip: &[&str]) -> String {
    filter
        .iter()
        .filter(|(column, _)| !skip.contains(&column.as_str()))
        .map(|(column, values)| {
            let list: Vec<String> = values.iter().map(|v| v.sql_literal()).collect();
            format!(" AND {column} IN ({})", list.join(", "))
        })
        .collect()
}

fn plan_tier_rank_sql(column: &str) -> String {
    let mut sql = format!("CASE {column}");
    for (rank, tier) in PLAN_TIERS.iter().enumerate() {
        let _ = write!(sql, " WHEN '{tier}' THEN {}", rank + 1);
    }
    sql.push_str(" END");
    sql
}

/// Per account, the contracts valid on `day` (a SQL date literal): highest tier rank,
/// ARR, MRR, seats (the product with the most) and the earliest end.
fn contracts_at_sql(day: &str) -> String {
    format!(
        "SELECT account_id, max({rank}) AS tier_rank, sum(arr) AS arr, sum(mrr) AS mrr, \
         max(product_seats) AS seats, min(end_date) AS renewal_date \
         FROM (SELECT account_id, plan_tier, arr, mrr, end_date, \
         sum(seats) OVER (PARTITION BY account_id, product) AS product_seats \
         FROM contracts WHERE start_date <= {day} AND (end_date IS NULL OR end_date >= {day})) \
         GROUP BY account_id",
        rank = plan_tier_rank_sql("plan_tier"),
    )
}

/// (account_id, feature_key) of every feature an account is entitled to on `day`: the
/// feature's tier is at or below the account's plan tier, and its module is either not
/// sold separately or the account holds a valid contract for it. `contracts` names a
/// relation shaped like [`contracts_at_sql`].
fn entitled_features_sql(contracts: &str, day: &str, core_only: bool) -> String {
    let core = if core_only { "AND f.is_core " } else { "" };
    let rank = plan_tier_rank_sql("f.tier");
    format!(
        "SELECT c.account_id, f.feature_key FROM {contracts} c JOIN features f \
         ON {rank} <= c.tier_rank {core}\
         WHERE f.module NOT IN (SELECT DISTINCT product FROM contracts) \
         OR EXISTS (SELECT 1 FROM contracts k WHERE k.account_id = c.account_id AND k.product = f.module \
         AND k.start_date <= {day} AND (k.end_date IS NULL OR k.end_date >= {day}))"
    )
}

/// Per-feature usage of every account as of a date: one row per (account, feature) for
/// every entitled feature and every feature used in the last `window_days` or the
/// window of the same length before, with columns `account_id, feature_key, entitled,
/// events, users, prior_events, first_used, last_used`. Point in time: only rows dated
/// on or before `as_of` are read. Entitlement is the one rule of `adoption_breadth`.
pub fn feature_usage_sql(as_of: NaiveDate, window_days: u32) -> String {
    let day = date_literal(as_of);
    let end = time_literal(as_of + Days::new(1), false);
    let start = as_of + Days::new(1) - Days::new(u64::from(window_days));
    let prior = start - Days::new(u64::from(window_days));
    let (start_ts, prior_ts) = (time_literal(start, false), time_literal(prior, false));
    let (start_d, prior_d) = (date_literal(start), date_literal(prior));
    format!(
        "WITH contracts_now AS ({contracts}), \
         entitled AS ({entitled}), \
         raw AS (SELECT account_id, feature_key, \
           count(*) FILTER (WHERE occurred_at >= {start_ts}) AS events, \
           count(DISTINCT user_id) FILTER (WHERE occurred_at >= {start_ts}) AS users, \
           count(*) FILTER (WHERE occurred_at >= {prior_ts} AND occurred_at < {start_ts}) AS prior_events, \
           CAST(min(occurred_at) AS DATE) AS first_used, CAST(max(occurred_at) AS DATE) AS last_used \
           FROM usage_events WHERE occurred_at < {end} GROUP BY account_id, feature_key), \
         daily AS (SELECT account_id, feature_key, \
           sum(event_count) FILTER (WHERE date >= {start_d}) AS events, \
           max(active_users) FILTER (WHERE date >= {start_d}) AS users, \
           sum(event_count) FILTER (WHERE date >= {prior_d} AND date < {start_d}) AS prior_events, \
           min(date) FILTER (WHERE event_count > 0) AS first_used, max(date) FILTER (WHERE event_count > 0) AS last_used \
           FROM usage_daily WHERE date <= {day} GROUP BY account_id, feature_key), \
         used AS (SELECT coalesce(r.account_id, d.account_id) AS account_id, coalesce(r.feature_key, d.feature_key) AS feature_key, \
           coalesce(r.events, 0) + coalesce(d.events, 0) AS events, greatest(coalesce(r.users, 0), coalesce(d.users, 0)) AS users, \
           coalesce(r.prior_events, 0) + coalesce(d.prior_events, 0) AS prior_events, \
           least(r.first_used, d.first_used) AS first_used, greatest(r.last_used, d.last_used) AS last_used \
           FROM raw r FULL OUTER JOIN daily d ON d.account_id = r.account_id AND d.feature_key = r.feature_key) \
         SELECT coalesce(e.account_id, u.account_id) AS account_id, coalesce(e.feature_key, u.feature_key) AS feature_key, \
           e.account_id IS NOT NULL AS entitled, CAST(coalesce(u.events, 0) AS DOUBLE) AS events, \
           CAST(coalesce(u.users, 0) AS DOUBLE) AS users, CAST(coalesce(u.prior_events, 0) AS DOUBLE) AS prior_events, \
           u.first_used, u.last_used \
         FROM entitled e FULL OUTER JOIN used u ON u.account_id = e.account_id AND u.feature_key = e.feature_key \
         WHERE e.account_id IS NOT NULL OR u.events > 0 OR u.prior_events > 0 OR u.first_used IS NOT NULL",
        contracts = contracts_at_sql(&day),
        entitled = entitled_features_sql("contracts_now", &day, false),
    )
}

impl<'c> Compiler<'c> {
    /// The as-of date shifted back by `shift` days.
    fn day(&self, shift: u32) -> NaiveDate {
        self.as_of - Days::new(u64::from(shift))
    }

    /// [lower, upper) dates of a window evaluated at shift.
    fn window_range(&self, shift: u32, window: Window) -> (NaiveDate, NaiveDate) {
        let upper = self.as_of + Days::new(1) - Days::new(u64::from(shift + window.offset_days));
        (upper - Days::new(u64::from(window.days)), upper)
    }

    fn between(column: &str, is_date: bool, (lower, upper): (NaiveDate, NaiveDate)) -> String {
        format!(
            "{column} >= {} AND {column} < {}",
            time_literal(lower, is_date),
            time_literal(upper, is_date)
        )
    }

    fn before(&self, column: &str, is_date: bool, shift: u32) -> String {
        let upper = self.day(shift) + Days::new(1);
        format!("{column} < {}", time_literal(upper, is_date))
    }

    /// Registers an aggregate on a scan; returns the qualified column holding it.
    fn aggregate(&mut self, scan: Scan, expr: String, lower: Option<NaiveDate>) -> String {
        let all_history = lower.is_none();
        let plan = self.scans.entry((scan, all_history)).or_default();
        plan.lower = Some(match plan.lower {
            None => lower,
            Some(existing) => match (existing, lower) {
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            },
        });
        // `filter_sql` renders a `module` filter as ` AND module IN (…)`; only then does
        // the scan need the features lookup joined in (it costs a join on every row).
        if expr.contains(" AND module IN (") {
            plan.needs_module = true;
        }
        let alias = match plan.aggregates.iter().find(|(e, _)| *e == expr) {
            Some((_, alias)) => alias.clone(),
            None => {
                let alias = format!("a{}", plan.aggregates.len());
                plan.aggregates.push((expr, alias.clone()));
                alias
            }
        };
        format!("{}.{alias}", Self::scan_name(scan, all_history))
    }

    fn scan_name(scan: Scan, all_history: bool) -> String {
        if all_history {
            format!("{}_all", scan.alias())
        } else {
            scan.alias().to_string()
        }
    }

    fn add_cte(&mut self, name: String, body: impl FnOnce(&mut Self) -> String) -> String {
        if !self.ctes.iter().any(|(n, _)| *n == name) {
            let sql = body(self);
            self.ctes.push((name.clone(), sql));
        }
        name
    }

    fn present(&mut self, source: Source, value: String) -> String {
        self.presence.insert(source);
        format!("CASE WHEN presence.{} THEN {value} END", source.as_str())
    }

    /// Per account, the contracts valid `shift` days before the as-of date.
    fn contracts_at(&mut self, shift: u32) -> String {
        let day = date_literal(self.day(shift));
        self.add_cte(format!("contracts_s{shift}"), |_| contracts_at_sql(&day))
    }

    /// The SQL expression of `def` evaluated `shift` days before the as-of date.
    fn metric(&mut self, def: &MetricDef, shift: u32) -> String {
        let key = (def.name.clone(), shift);
        if let Some(expr) = self.memo.get(&key) {
            return expr.clone();
        }
        let expr = self.kind(&def.kind, shift);
        self.memo.insert(key, expr.clone());
        expr
    }

    fn named(&mut self, name: &str, shift: u32) -> String {
        // References were checked when the catalogue was loaded.
        match self.catalogue.metric(name) {
            Some(def) => self.metric(def, shift),
            None => "NULL".into(),
        }
    }

    fn usage_pair(
        &mut self,
        window: Window,
        filter: &Filter,
        shift: u32,
        events_agg: &str,
        daily_agg: Option<&str>,
    ) -> (String, Option<String>) {
        let range = self.window_range(shift, window);
        let events = self.aggregate(
            Scan::UsageEvents,
            format!(
                "{events_agg} FILTER (WHERE {}{})",
                Self::between("occurred_at", false, range),
                filter_sql(filter, &[])
            ),
            Some(range.0),
        );
        // Daily aggregates carry feature and module only; a filter on anything else
        // (user, value) cannot be applied to them, so they do not contribute.
        let daily_applies = filter.keys().all(|c| c == "feature_key" || c == "module");
        let daily = match daily_agg {
            Some(agg) if daily_applies => Some(self.aggregate(
                Scan::UsageDaily,
                format!(
                    "{agg} FILTER (WHERE {}{})",
                    Self::between("date", true, range),
                    filter_sql(filter, &[])
                ),
                Some(range.0),
            )),
            _ => None,
        };
        (events, daily)
    }

    fn kind(&mut self, kind: &MetricKind, shift: u32) -> String {
        match kind {
            MetricKind::Count {
                source,
                window,
                filter,
                flag,
            } => {
                let count = if *source == Source::Usage {
                    let (events, daily) = self.usage_pair(
                        *window,
                        filter,
                        shift,
                        "count(*)",
                        Some("sum(event_count)"),
                    );
                    match daily {
                        Some(daily) => format!("coalesce({events}, 0) + coalesce({daily}, 0)"),
                        None => format!("coalesce({events}, 0)"),
                    }
                } else {
                    let (column, is_date) = source.time_column();
                    let range = self.window_range(shift, *window);
                    let agg = self.aggregate(
                        Scan::of(*source),
                        format!(
                            "count(*) FILTER (WHERE {}{})",
                            Self::between(column, is_date, range),
                            filter_sql(filter, &[])
                        ),
                        Some(range.0),
                    );
                    format!("coalesce({agg}, 0)")
                };
                let value = self.present(*source, count);
                if *flag {
                    format!("CAST(({value}) > 0 AS INTEGER)")
                } else {
                    value
                }
            }
            MetricKind::Sum {
                source,
                column,
                window,
                filter,
            }
            | MetricKind::Mean {
                source,
                column,
                window,
                filter,
            } => {
                let is_sum = matches!(kind, MetricKind::Sum { .. });
                let (time, is_date) = source.time_column();
                let range = self.window_range(shift, *window);
                let function = if is_sum { "sum" } else { "avg" };
                let agg = self.aggregate(
                    Scan::of(*source),
                    format!(
                        "{function}({column}) FILTER (WHERE {}{})",
                        Self::between(time, is_date, range),
                        filter_sql(filter, &[])
                    ),
                    Some(range.0),
                );
                if is_sum {
                    self.present(*source, format!("coalesce({agg}, 0)"))
                } else {
                    agg
                }
            }
            MetricKind::Latest {
                source,
                column,
                window,
                filter,
            } => {
                let (time, is_date) = source.time_column();
                let (condition, lower) = match window {
                    Some(window) => {
                        let range = self.window_range(shift, *window);
                        (Self::between(time, is_date, range), Some(range.0))
                    }
                    None => (self.before(time, is_date, shift), None),
                };
                // The struct key breaks ties on time by value, so the result does not
                // depend on row order.
                self.aggregate(
                    Scan::of(*source),
                    format!(
                        "arg_max({column}, ({time}, {column})) FILTER (WHERE {condition}{})",
                        filter_sql(filter, &[])
                    ),
                    lower,
                )
            }
            MetricKind::Distinct {
                source,
                column,
                window,
                filter,
            } => {
                if *source == Source::Usage {
                    self.active_distinct(column, *window, filter, shift)
                } else {
                    let (time, is_date) = source.time_column();
                    let range = self.window_range(shift, *window);
                    let agg = self.aggregate(
                        Scan::of(*source),
                        format!(
                            "count(DISTINCT {column}) FILTER (WHERE {}{})",
                            Self::between(time, is_date, range),
                            filter_sql(filter, &[])
                        ),
                        Some(range.0),
                    );
                    self.present(*source, format!("coalesce({agg}, 0)"))
                }
            }
            MetricKind::ActiveUsers { window, filter } => {
                self.active_distinct("user_id", *window, filter, shift)
            }
            MetricKind::ActiveDays { window, filter } => {
                let (events, daily) = self.usage_pair(
                    *window,
                    filter,
                    shift,
                    "count(DISTINCT CAST(occurred_at AS DATE))",
                    Some("count(DISTINCT date)"),
                );
                let value = match daily {
                    Some(daily) => format!("greatest(coalesce({events}, 0), coalesce({daily}, 0))"),
                    None => format!("coalesce({events}, 0)"),
                };
                self.present(Source::Usage, value)
            }
            MetricKind::DaysSince { source, filter } => {
                let day = date_literal(self.day(shift));
                if *source == Source::Usage {
                    let events = self.aggregate(
                        Scan::UsageEvents,
                        format!(
                            "max(occurred_at) FILTER (WHERE {}{})",
                            self.before("occurred_at", false, shift),
                            filter_sql(filter, &[])
                        ),
                        None,
                    );
                    let daily_applies = filter.keys().all(|c| c == "feature_key" || c == "module");
                    let last = if daily_applies {
                        let daily = self.aggregate(
                            Scan::UsageDaily,
                            format!(
                                "max(date) FILTER (WHERE {}{})",
                                self.before("date", true, shift),
                                filter_sql(filter, &[])
                            ),
                            None,
                        );
                        format!("greatest(CAST({events} AS DATE), {daily})")
                    } else {
                        format!("CAST({events} AS DATE)")
                    };
                    format!("date_diff('day', {last}, {day})")
                } else {
                    let (time, is_date) = source.time_column();
                    let last = self.aggregate(
                        Scan::of(*source),
                        format!(
                            "max({time}) FILTER (WHERE {}{})",
                            self.before(time, is_date, shift),
                            filter_sql(filter, &[])
                        ),
                        None,
                    );
                    format!("date_diff('day', CAST({last} AS DATE), {day})")
                }
            }
            MetricKind::SeatUtilisation { window } => {
                let users = self.active_distinct("user_id", *window, &Filter::new(), shift);
                let contracts = self.contracts_at(shift);
                format!("({users}) / nullif({contracts}.seats, 0)")
            }
            MetricKind::AdoptionBreadth { window, core_only } => {
                let cte = self.adoption(shift, *window, *core_only);
                format!("{cte}.used / nullif({cte}.entitled, 0)")
            }
            MetricKind::EntitledFeaturesUsed { window, core_only } => {
                let cte = self.adoption(shift, *window, *core_only);
                format!("{cte}.used")
            }
            MetricKind::TopUserShare { window, top_share } => {
                let users = self.user_events(shift, *window);
                // Basis points keep the CTE name an identifier.
                let basis_points = (top_share * 10_000.0).round() as u32;
                let name = format!(
                    "top_users_s{shift}_w{}_o{}_t{basis_points}",
                    window.days, window.offset_days
                );
                let cte = self.add_cte(name, |_| {
                    format!(
                        "SELECT account_id, sum(events) FILTER (WHERE rank_desc <= ceil(users * {top_share}))                          / sum(events) AS share FROM {users} GROUP BY account_id"
                    )
                });
                format!("{cte}.share")
            }
            MetricKind::UserGini { window } => {
                let users = self.user_events(shift, *window);
                let name = format!(
                    "user_gini_s{shift}_w{}_o{}",
                    window.days, window.offset_days
                );
                // With events sorted ascending (rank i = users − rank_desc + 1):
                // G = 2·Σ i·x_i ÷ (n·Σ x) − (n + 1) ÷ n.
                let cte = self.add_cte(name, |_| {
                    format!(
                        "SELECT account_id, 2.0 * sum((users - rank_desc + 1) * events) / (max(users) * sum(events))                          - (max(users) + 1.0) / max(users) AS gini FROM {users} GROUP BY account_id"
                    )
                });
                format!("{cte}.gini")
            }
            MetricKind::Departments { window, new_only } => {
                let active = self.department_users(shift, *window);
                if *new_only {
                    let (lower, _) = self.window_range(shift, *window);
                    let day = date_literal(self.day(shift));
                    let lower = date_literal(lower);
                    let name = format!(
                        "new_departments_s{shift}_w{}_o{}",
                        window.days, window.offset_days
                    );
                    let cte = self.add_cte(name, |_| {
                        format!(
                            "SELECT a.account_id, count(*) AS departments FROM {active} a JOIN                              (SELECT account_id, department, min(created_on) AS first_created FROM users                              WHERE created_on <= {day} AND department IS NOT NULL GROUP BY account_id, department) f                              ON f.account_id = a.account_id AND f.department = a.department                              WHERE f.first_created >= {lower} AND EXISTS (SELECT 1 FROM users o                              WHERE o.account_id = a.account_id AND o.created_on < {lower} AND o.department <> a.department)                              GROUP BY a.account_id"
                        )
                    });
                    let totals = self.department_totals(shift, *window, &active);
                    format!(
                        "CASE WHEN {totals}.departments > 0 THEN coalesce({cte}.departments, 0) END"
                    )
                } else {
                    let totals = self.department_totals(shift, *window, &active);
                    format!("{totals}.departments")
                }
            }
            MetricKind::ProvisionedUsers { per_seat } => {
                let day = date_literal(self.day(shift));
                let cte = self.add_cte(format!("provisioned_s{shift}"), |_| {
                    format!(
                        "SELECT account_id, count(*) FILTER (WHERE (created_on IS NULL OR created_on <= {day}) \
                         AND (deactivated_on IS NULL OR deactivated_on > {day})) AS users \
                         FROM users GROUP BY account_id"
                    )
                });
                if *per_seat {
                    let contracts = self.contracts_at(shift);
                    format!("{cte}.users / nullif({contracts}.seats, 0)")
                } else {
                    format!("{cte}.users")
                }
            }
            MetricKind::TopDepartmentShare { window } => {
                let active = self.department_users(shift, *window);
                let totals = self.department_totals(shift, *window, &active);
                format!("{totals}.top_users / nullif({totals}.users, 0)")
            }
            MetricKind::Ratio {
                numerator,
                denominator,
            } => {
                let numerator = self.named(numerator, shift);
                let denominator = self.named(denominator, shift);
                format!("({numerator}) / nullif({denominator}, 0)")
            }
            MetricKind::PercentChange {
                metric,
                compare_offset_days,
            } => {
                let current = self.named(metric, shift);
                let earlier = self.named(metric, shift + compare_offset_days);
                format!("(({current}) - ({earlier})) / nullif(abs({earlier}), 0)")
            }
            MetricKind::Change {
                metric,
                compare_offset_days,
            } => {
                let current = self.named(metric, shift);
                let earlier = self.named(metric, shift + compare_offset_days);
                format!("({current}) - ({earlier})")
            }
            MetricKind::TenureDays => {
                let day = date_literal(self.day(shift));
                let first = self.add_cte("first_contract".into(), |_| {
                    "SELECT account_id, min(start_date) AS first_start FROM contracts GROUP BY account_id".into()
                });
                format!(
                    "CASE WHEN coalesce(base.customer_since, {first}.first_start) <= {day} \
                     THEN date_diff('day', coalesce(base.customer_since, {first}.first_start), {day}) END"
                )
            }
            MetricKind::ContractValue { field } => {
                let contracts = self.contracts_at(shift);
                let column = match field {
                    ContractField::Arr => "arr",
                    ContractField::Mrr => "mrr",
                    ContractField::Seats => "seats",
                };
                format!("{contracts}.{column}")
            }
            MetricKind::DaysToRenewal => {
                let contracts = self.contracts_at(shift);
                let day = date_literal(self.day(shift));
                format!("date_diff('day', {day}, {contracts}.renewal_date)")
            }
            MetricKind::OpenTickets { filter } => {
                let end = time_literal(self.day(shift) + Days::new(1), false);
                let agg = self.aggregate(
                    Scan::Tickets,
                    format!(
                        "count(*) FILTER (WHERE opened_at < {end} AND (closed_at >= {end} \
                         OR (closed_at IS NULL AND status NOT IN ('solved', 'closed'))){})",
                        filter_sql(filter, &[])
                    ),
                    None,
                );
                self.present(Source::Tickets, format!("coalesce({agg}, 0)"))
            }
            MetricKind::MeanResolutionDays { window, filter } => {
                let range = self.window_range(shift, *window);
                self.aggregate(
                    Scan::Tickets,
                    format!(
                        "avg(date_diff('second', opened_at, closed_at) / 86400.0) FILTER (WHERE {}{})",
                        Self::between("closed_at", false, range),
                        filter_sql(filter, &[])
                    ),
                    None,
                )
            }
            MetricKind::ReopenRate { window } => {
                let cte = self.reopens(shift, *window);
                format!("{cte}.reopened / nullif({cte}.opened, 0)")
            }
            MetricKind::Contacts { filter, flag } => {
                let day = date_literal(self.day(shift));
                let agg = self.aggregate(
                    Scan::Contacts,
                    format!(
                        "count(*) FILTER (WHERE (start_date IS NULL OR start_date <= {day}) \
                         AND (end_date IS NULL OR end_date > {day}){})",
                        filter_sql(filter, &[])
                    ),
                    None,
                );
                let value = self.present(Source::Contacts, format!("coalesce({agg}, 0)"));
                if *flag {
                    format!("CAST(({value}) > 0 AS INTEGER)")
                } else {
                    value
                }
            }
            MetricKind::MilestoneCompletion { filter } => {
                let day = date_literal(self.day(shift));
                let filter = filter_sql(filter, &[]);
                let due = self.aggregate(
                    Scan::Milestones,
                    format!("count(*) FILTER (WHERE due_date <= {day}{filter})"),
                    None,
                );
                let done = self.aggregate(
                    Scan::Milestones,
                    format!(
                        "count(*) FILTER (WHERE due_date <= {day} AND completed_date <= {day}{filter})"
                    ),
                    None,
                );
                format!("{done} / nullif({due}, 0)")
            }
            MetricKind::MilestonesOverdue { filter } => {
                let day = date_literal(self.day(shift));
                let agg = self.aggregate(
                    Scan::Milestones,
                    format!(
                        "count(*) FILTER (WHERE due_date < {day} AND (completed_date IS NULL \
                         OR completed_date > {day}){})",
                        filter_sql(filter, &[])
                    ),
                    None,
                );
                self.present(Source::Milestones, format!("coalesce({agg}, 0)"))
            }
        }
    }

    /// Distinct users or features over usage. Daily aggregates cannot say which users
    /// were active, only how many per day: for accounts reporting aggregates the busiest
    /// day's count is used, a lower bound of the window's distinct users.
    fn active_distinct(
        &mut self,
        column: &str,
        window: Window,
        filter: &Filter,
        shift: u32,
    ) -> String {
        let daily_agg = match column {
            "user_id" => "max(active_users)",
            _ => "count(DISTINCT feature_key)",
        };
        let (events, daily) = self.usage_pair(
            window,
            filter,
            shift,
            &format!("count(DISTINCT {column})"),
            Some(daily_agg),
        );
        let value = match daily {
            Some(daily) => format!("greatest(coalesce({events}, 0), coalesce({daily}, 0))"),
            None => format!("coalesce({events}, 0)"),
        };
        self.present(Source::Usage, value)
    }

    fn adoption(&mut self, shift: u32, window: Window, core_only: bool) -> String {
        let contracts = self.contracts_at(shift);
        let day = date_literal(self.day(shift));
        let range = self.window_range(shift, window);
        let name = format!(
            "adoption_s{shift}_w{}_o{}_{}",
            window.days,
            window.offset_days,
            if core_only { "core" } else { "all" }
        );
        let events = Self::between("occurred_at", false, range);
        let daily = Self::between("date", true, range);
        // Core-only and all-feature breadth over one window share the features used.
        let used_name = format!(
            "used_features_s{shift}_w{}_o{}",
            window.days, window.offset_days
        );
        // Several rows per account: an input of other CTEs, not joined to the accounts.
        self.not_joined.insert(used_name.clone());
        let used = self.add_cte(used_name, |_| {
            format!(
                "SELECT DISTINCT account_id, feature_key FROM usage_events WHERE {events} \
                     UNION SELECT DISTINCT account_id, feature_key FROM usage_daily WHERE {daily}"
            )
        });
        self.add_cte(name, |_| {
            format!(
                "SELECT entitled.account_id, count(*) AS entitled, count(used.feature_key) AS used \
                 FROM ({}) entitled \
                 LEFT JOIN {used} used ON used.account_id = entitled.account_id AND used.feature_key = entitled.feature_key \
                 GROUP BY entitled.account_id",
                entitled_features_sql(&contracts, &day, core_only)
            )
        })
    }

    /// Raw events per active user of the window, ranked within the account (most active
    /// first). An input of other CTEs.
    fn user_events(&mut self, shift: u32, window: Window) -> String {
        let range = self.window_range(shift, window);
        let events = Self::between("occurred_at", false, range);
        let name = format!(
            "user_events_s{shift}_w{}_o{}",
            window.days, window.offset_days
        );
        self.not_joined.insert(name.clone());
        self.add_cte(name, |_| {
            format!(
                "SELECT account_id, user_id, count(*) AS events,                  row_number() OVER (PARTITION BY account_id ORDER BY count(*) DESC, user_id) AS rank_desc,                  count(*) OVER (PARTITION BY account_id) AS users                  FROM usage_events WHERE {events} GROUP BY account_id, user_id"
            )
        })
    }

    /// Active users of the window per (account, department) — users without a known
    /// department are left out. An input of other CTEs.
    fn department_users(&mut self, shift: u32, window: Window) -> String {
        let range = self.window_range(shift, window);
        let events = Self::between("e.occurred_at", false, range);
        let name = format!(
            "department_users_s{shift}_w{}_o{}",
            window.days, window.offset_days
        );
        self.not_joined.insert(name.clone());
        self.add_cte(name, |_| {
            format!(
                "SELECT e.account_id, u.department, count(DISTINCT e.user_id) AS users                  FROM usage_events e JOIN users u ON u.account_id = e.account_id AND u.user_id = e.user_id                  WHERE {events} AND u.department IS NOT NULL GROUP BY e.account_id, u.department"
            )
        })
    }

    fn department_totals(&mut self, shift: u32, window: Window, active: &str) -> String {
        let name = format!(
            "department_totals_s{shift}_w{}_o{}",
            window.days, window.offset_days
        );
        self.add_cte(name, |_| {
            format!(
                "SELECT account_id, count(*) AS departments, sum(users) AS users, max(users) AS top_users                  FROM {active} GROUP BY account_id"
            )
        })
    }

    fn reopens(&mut self, shift: u32, window: Window) -> String {
        let range = self.window_range(shift, window);
        let opened = Self::between("t.opened_at", false, range);
        let name = format!("reopens_s{shift}_w{}_o{}", window.days, window.offset_days);
        self.add_cte(name, |_| {
            format!(
                "SELECT t.account_id, count(*) AS opened, count(r.ticket_id) AS reopened \
                 FROM tickets t LEFT JOIN (\
                 SELECT DISTINCT h.ticket_id FROM tickets_history h WHERE h.status IN ('solved', 'closed') AND (\
                 EXISTS (SELECT 1 FROM tickets c WHERE c.ticket_id = h.ticket_id AND c.status NOT IN ('solved', 'closed')) \
                 OR EXISTS (SELECT 1 FROM tickets_history l WHERE l.ticket_id = h.ticket_id \
                 AND l._superseded_by_load > h._superseded_by_load AND l.status NOT IN ('solved', 'closed')))\
                 ) r ON r.ticket_id = t.ticket_id WHERE {opened} GROUP BY t.account_id"
            )
        })
    }

    fn render(&self, contracts_now: &str, tenure: &str, metrics: &[(String, String)]) -> String {
        let day = date_literal(self.as_of);
        let end = time_literal(self.as_of + Days::new(1), false);
        let mut ctes: Vec<(String, String)> = self.ctes.clone();
        let tier_names: String = PLAN_TIERS
            .iter()
            .enumerate()
            .map(|(rank, tier)| format!(" WHEN {} THEN '{tier}'", rank + 1))
            .collect();
        ctes.push((
            "base".into(),
            format!(
                "SELECT a.account_id, a.segment, a.industry, a.region, a.coverage_model, a.owner_csm_id, \
                 CASE c.tier_rank{tier_names} END AS plan_tier, a.employee_count, \
                 CAST(c.arr AS DECIMAL(18,2)) AS arr, CAST(c.seats AS BIGINT) AS seats, a.customer_since, c.renewal_date \
                 FROM accounts a LEFT JOIN {contracts_now} c ON c.account_id = a.account_id \
                 WHERE c.account_id IS NOT NULL OR (NOT EXISTS (SELECT 1 FROM contracts k WHERE k.account_id = a.account_id) \
                 AND (a.customer_since IS NULL OR a.customer_since <= {day}))"
            ),
        ));
        for ((scan, all_history), plan) in &self.scans {
            let aggregates: Vec<String> = plan
                .aggregates
                .iter()
                .map(|(expr, alias)| format!("{expr} AS {alias}"))
                .collect();
            let mut conditions = Vec::new();
            if let Some((column, is_date)) = scan.time_column() {
                conditions.push(format!(
                    "{column} < {}",
                    time_literal(self.as_of + Days::new(1), is_date)
                ));
                if let Some(Some(lower)) = plan.lower {
                    conditions.push(format!("{column} >= {}", time_literal(lower, is_date)));
                }
            }
            // Joined lookups expose only renamed columns, so `account_id` is unambiguous.
            let account = "account_id";
            ctes.push((
                Self::scan_name(*scan, *all_history),
                format!(
                    "SELECT {account} AS account_id, {} FROM {}{} GROUP BY {account}",
                    aggregates.join(", "),
                    scan.table_expression(plan.needs_module),
                    if conditions.is_empty() {
                        String::new()
                    } else {
                        format!(" WHERE {}", conditions.join(" AND "))
                    }
                ),
            ));
        }
        if !self.presence.is_empty() {
            let checks: Vec<String> = self
                .presence
                .iter()
                .map(|source| {
                    let check = match source {
                        Source::Usage => format!(
                            "EXISTS (SELECT 1 FROM usage_events WHERE occurred_at < {end}) OR EXISTS (SELECT 1 FROM usage_daily WHERE date <= {day})"
                        ),
                        Source::Contacts | Source::ContactDepartures => {
                            "EXISTS (SELECT 1 FROM contacts)".into()
                        }
                        Source::Milestones => "EXISTS (SELECT 1 FROM milestones)".into(),
                        other => {
                            let table = other.entity().name;
                            let (time, is_date) = other.time_column();
                            format!(
                                "EXISTS (SELECT 1 FROM {table} WHERE {time} < {})",
                                time_literal(self.as_of + Days::new(1), is_date)
                            )
                        }
                    };
                    format!("({check}) AS {}", source.as_str())
                })
                .collect();
            ctes.push(("presence".into(), format!("SELECT {}", checks.join(", "))));
        }

        let mut sql = String::from("WITH ");
        let rendered: Vec<String> = ctes
            .iter()
            .map(|(name, body)| format!("{name} AS (\n  {body}\n)"))
            .collect();
        sql.push_str(&rendered.join(",\n"));
        sql.push_str("\nSELECT base.account_id, base.segment, base.industry, base.region, base.coverage_model, \
                      base.owner_csm_id, base.plan_tier, base.employee_count, base.arr, base.seats, \
                      base.customer_since, base.renewal_date, ");
        let _ = write!(sql, "{tenure} AS tenure_days");
        for (name, expr) in metrics {
            let _ = write!(sql, ",\n  CAST({expr} AS DOUBLE) AS \"{name}\"");
        }
        sql.push_str("\nFROM base");
        let joined: BTreeSet<&str> = ctes
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| {
                *name != "base" && *name != "presence" && !self.not_joined.contains(*name)
            })
            .collect();
        for name in joined {
            let _ = write!(
                sql,
                "\nLEFT JOIN {name} ON {name}.account_id = base.account_id"
            );
        }
        if !self.presence.is_empty() {
            sql.push_str("\nCROSS JOIN presence");
        }
        sql
    }
}
