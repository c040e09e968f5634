//! The metric catalogue: every per-account number COCO computes, declared in TOML.
//!
//! The shipped catalogue is `config/metrics.toml` (embedded in the binary); a user file
//! adds metrics or replaces shipped ones by name, without recompiling. Parsing goes
//! through a flat "raw" shape first and is then checked kind by kind, so a mistake is
//! reported as "metric `x`: kind `count` needs `source`" rather than as a serde puzzle.

use std::collections::{BTreeMap, BTreeSet};

use coco_core::{Category, ColumnType, Direction};
use serde::{Deserialize, Serialize};

use crate::source::{FilterValue, Source};

/// The catalogue shipped with COCO, covering the data contract.
pub const DEFAULT_CATALOGUE: &str = include_str!("../../../config/metrics.toml");

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{origin}: {source}")]
    Toml {
        origin: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("{origin}: metric `{metric}`: {message}")]
    Metric {
        origin: String,
        metric: String,
        message: String,
    },
    #[error("{origin}: {message}")]
    Catalogue { origin: String, message: String },
}

/// A time window ending at the as-of date (inclusive), optionally shifted back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Length in days: 30 means the as-of day and the 29 days before it.
    pub days: u32,
    /// Days between the window's end and the as-of date (0 = ends on the as-of date).
    pub offset_days: u32,
}

/// Row filter: column → accepted values (rows match when every column matches one).
pub type Filter = BTreeMap<String, Vec<FilterValue>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractField {
    Arr,
    Mrr,
    Seats,
}

/// What a metric computes. Every kind is evaluated as of a date, so every kind can also
/// be evaluated as of an earlier date (which is how `change` and `percent_change` work).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MetricKind {
    /// Rows of a source in the window (for `usage`: raw events plus daily aggregate
    /// counts). 0 when the account has none; missing when the source has no data at all.
    Count {
        source: Source,
        window: Window,
        filter: Filter,
        /// 1 when the count is above zero, else 0.
        flag: bool,
    },
    /// Sum of a numeric column over the window.
    Sum {
        source: Source,
        column: String,
        window: Window,
        filter: Filter,
    },
    /// Mean of a numeric column over the window; missing when no rows.
    Mean {
        source: Source,
        column: String,
        window: Window,
        filter: Filter,
    },
    /// The value on the most recent row in the window (ties: the higher value).
    Latest {
        source: Source,
        column: String,
        window: Option<Window>,
        filter: Filter,
    },
    /// Distinct values of a column in the window (contacts met, features used).
    Distinct {
        source: Source,
        column: String,
        window: Window,
        filter: Filter,
    },
    /// Distinct users with any usage in the window.
    ActiveUsers { window: Window, filter: Filter },
    /// Days in the window with any usage.
    ActiveDays { window: Window, filter: Filter },
    /// Days from the last matching row to the as-of date; missing when there is none.
    DaysSince { source: Source, filter: Filter },
    /// Active users in the window ÷ seats on contracts valid at the as-of date.
    SeatUtilisation { window: Window },
    /// Entitled features used in the window ÷ entitled features. Entitled: the feature's
    /// tier is at or below the account's plan tier, and its module is either not sold
    /// separately or the account holds a valid contract for it.
    AdoptionBreadth { window: Window, core_only: bool },
    /// The numerator of [`MetricKind::AdoptionBreadth`]: how many entitled features (core
    /// only, or all) were used in the window.
    EntitledFeaturesUsed { window: Window, core_only: bool },
    /// Share of the window's raw events made by its most active users: the top
    /// `top_share` of active users, rounded up. Daily aggregates do not say who did what,
    /// so accounts reporting only those have none.
    TopUserShare { window: Window, top_share: f64 },
    /// Gini coefficient of raw events over the window's active users: 0 when everyone
    /// does the same amount, towards 1 when one user does everything.
    UserGini { window: Window },
    /// Departments (from `users`) with raw usage in the window. With `new_only`: those
    /// whose first user was created inside the window, at accounts that had users in
    /// another department before it — a team joining.
    Departments { window: Window, new_only: bool },
    /// Share of the window's active users (with a known department) who work in the
    /// account's largest department.
    TopDepartmentShare { window: Window },
    /// Product users provisioned at the as-of date (`users`: created on or before it, not
    /// deactivated by then); with `per_seat`, divided by the seats of valid contracts —
    /// licence utilisation, as opposed to active-user utilisation. Missing when the
    /// users file has no row for the account.
    ProvisionedUsers { per_seat: bool },
    /// One metric divided by another; missing when the denominator is 0 or missing.
    Ratio {
        numerator: String,
        denominator: String,
    },
    /// (value − value `compare_offset_days` earlier) ÷ |earlier value|.
    PercentChange {
        metric: String,
        compare_offset_days: u32,
    },
    /// value − value `compare_offset_days` earlier.
    Change {
        metric: String,
        compare_offset_days: u32,
    },
    /// Days since the account became a customer.
    TenureDays,
    /// Sum of a field over the contracts valid at the as-of date (seats: the product with
    /// the most seats, so add-ons that repeat the seat count are not added twice).
    ContractValue { field: ContractField },
    /// Days from the as-of date to the earliest end of a valid contract.
    DaysToRenewal,
    /// Tickets open at the as-of date (opened before, closed after or not yet).
    OpenTickets { filter: Filter },
    /// Mean days from open to close over tickets closed in the window.
    MeanResolutionDays { window: Window, filter: Filter },
    /// Share of tickets opened in the window that were solved and later reopened, as
    /// observed across loads (`tickets_history`).
    ReopenRate { window: Window },
    /// Contacts in role at the as-of date.
    Contacts { filter: Filter, flag: bool },
    /// Completed ÷ due among milestones due by the as-of date.
    MilestoneCompletion { filter: Filter },
    /// Milestones past their due date and not completed by the as-of date.
    MilestonesOverdue { filter: Filter },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricDef {
    pub name: String,
    pub description: String,
    pub unit: String,
    pub category: Category,
    pub direction: Direction,
    #[serde(flatten)]
    pub kind: MetricKind,
}

impl MetricDef {
    /// Metrics this one is computed from.
    pub fn dependencies(&self) -> Vec<&str> {
        match &self.kind {
            MetricKind::Ratio {
                numerator,
                denominator,
            } => vec![numerator, denominator],
            MetricKind::PercentChange { metric, .. } | MetricKind::Change { metric, .. } => {
                vec![metric]
            }
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Catalogue {
    /// The version the catalogue's author gave it.
    pub version: String,
    pub feature_groups: BTreeMap<String, Vec<String>>,
    pub metrics: Vec<MetricDef>,
}

/// The file shape, before checking.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    version: Option<String>,
    /// User files only: `false` starts from an empty catalogue instead of the shipped one.
    include_defaults: Option<bool>,
    #[serde(default)]
    feature_groups: BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "metric")]
    metrics: Vec<RawMetric>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    name: String,
    description: String,
    unit: String,
    category: Category,
    #[serde(default)]
    direction: Direction,
    kind: String,
    source: Option<String>,
    column: Option<String>,
    window_days: Option<u32>,
    offset_days: Option<u32>,
    #[serde(default)]
    filter: BTreeMap<String, toml::Value>,
    feature_group: Option<String>,
    flag: Option<bool>,
    numerator: Option<String>,
    denominator: Option<String>,
    metric: Option<String>,
    compare_offset_days: Option<u32>,
    field: Option<String>,
    core_only: Option<bool>,
    top_share: Option<f64>,
    new_only: Option<bool>,
    per_seat: Option<bool>,
}

impl Catalogue {
    /// The shipped catalogue.
    pub fn default_catalogue() -> Result<Catalogue, CatalogueError> {
        Catalogue::parse(DEFAULT_CATALOGUE, "config/metrics.toml (shipped)", None)
    }

    /// Parses `text` (from `origin`, used in messages). With `base`, the file extends it:
    /// metrics with a shipped name replace the shipped definition, others are added,
    /// unless the file says `include_defaults = false`.
    pub fn parse(
        text: &str,
        origin: &str,
        base: Option<&Catalogue>,
    ) -> Result<Catalogue, CatalogueError> {
        let raw: RawCatalogue = toml::from_str(text).map_err(|source| CatalogueError::Toml {
            origin: origin.to_string(),
            source,
        })?;
        let base = base.filter(|_| raw.include_defaults.unwrap_or(true));
        let mut feature_groups = base.map(|b| b.feature_groups.clone()).unwrap_or_default();
        feature_groups.extend(raw.feature_groups);
        let mut metrics: Vec<MetricDef> = base.map(|b| b.metrics.clone()).unwrap_or_default();
        let mut seen = BTreeSet::new();
        for raw_metric in raw.metrics {
            if !seen.insert(raw_metric.name.clone()) {
                return Err(metric_error(
                    origin,
                    &raw_metric.name,
                    "defined twice in this file",
                ));
            }
            let def = check_metric(raw_metric, &feature_groups, origin)?;
            match metrics.iter_mut().find(|m| m.name == def.name) {
                Some(existing) => *existing = def,
                None => metrics.push(def),
            }
        }
        let version = match (raw.version, base) {
            (Some(v), Some(b)) => format!("{}+{v}", b.version),
            (Some(v), None) => v,
            (None, Some(b)) => format!("{}+local", b.version),
            (None, None) => "unversioned".to_string(),
        };
        let catalogue = Catalogue {
            version,
            feature_groups,
            metrics,
        };
        catalogue.check_references(origin)?;
        Ok(catalogue)
    }

    pub fn metric(&self, name: &str) -> Option<&MetricDef> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// Changes whenever any definition changes, even if `version` was not bumped.
    pub fn fingerprint(&self) -> String {
        coco_core::fingerprint::fingerprint(self)
    }

    /// The catalogue reduced to `name` and everything it is computed from (for
    /// `coco metrics explain`).
    pub fn subset_for(&self, name: &str) -> Option<Catalogue> {
        let mut wanted = BTreeSet::new();
        let mut stack = vec![name.to_string()];
        while let Some(next) = stack.pop() {
            let def = self.metric(&next)?;
            if wanted.insert(next.clone()) {
                stack.extend(def.dependencies().into_iter().map(str::to_string));
            }
        }
        Some(Catalogue {
            version: self.version.clone(),
            feature_groups: self.feature_groups.clone(),
            metrics: self
                .metrics
                .iter()
                .filter(|m| wanted.contains(&m.name))
                .cloned()
                .collect(),
        })
    }

    fn check_references(&self, origin: &str) -> Result<(), CatalogueError> {
        for def in &self.metrics {
            for dependency in def.dependencies() {
                if self.metric(dependency).is_none() {
                    return Err(metric_error(
                        origin,
                        &def.name,
                        &format!("refers to unknown metric `{dependency}`"),
                    ));
                }
            }
        }
        // Depth-first walk with colours finds a cycle and names it.
        fn visit<'a>(
            catalogue: &'a Catalogue,
            name: &'a str,
            path: &mut Vec<&'a str>,
            done: &mut BTreeSet<&'a str>,
        ) -> Option<String> {
            if done.contains(name) {
                return None;
            }
            if let Some(start) = path.iter().position(|p| *p == name) {
                let mut cycle = path[start..].to_vec();
                cycle.push(name);
                return Some(cycle.join(" → "));
            }
            path.push(name);
            if let Some(def) = catalogue.metric(name) {
                for dependency in def.dependencies() {
                    if let Some(cycle) = visit(catalogue, dependency, path, done) {
                        return Some(cycle);
                    }
                }
            }
            path.pop();
            done.insert(name);
            None
        }
        let mut done = BTreeSet::new();
        for def in &self.metrics {
            if let Some(cycle) = visit(self, &def.name, &mut Vec::new(), &mut done) {
                return Err(CatalogueError::Catalogue {
                    origin: origin.to_string(),
                    message: format!("metrics refer to each other in a cycle: {cycle}"),
                });
            }
        }
        Ok(())
    }
}

fn metric_error(origin: &str, metric: &str, message: &str) -> CatalogueError {
    CatalogueError::Metric {
        origin: origin.to_string(),
        metric: metric.to_string(),
        message: message.to_string(),
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// Which optional fields each kind takes; anything else set is a mistake worth naming.
fn allowed_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "count" => &[
            "source",
            "window_days",
            "offset_days",
            "filter",
            "feature_group",
            "flag",
        ],
        "sum" | "mean" | "distinct" => &[
            "source",
            "column",
            "window_days",
            "offset_days",
            "filter",
            "feature_group",
        ],
        "latest" => &[
            "source",
            "column",
            "window_days",
            "offset_days",
            "filter",
            "feature_group",
        ],
        "active_users" | "active_days" => {
            &["window_days", "offset_days", "filter", "feature_group"]
        }
        "days_since" => &["source", "filter", "feature_group"],
        "seat_utilisation" => &["window_days", "offset_days"],
        "adoption_breadth" | "entitled_features_used" => {
            &["window_days", "offset_days", "core_only"]
        }
        "top_user_share" => &["window_days", "offset_days", "top_share"],
        "user_gini" | "top_department_share" => &["window_days", "offset_days"],
        "departments" => &["window_days", "offset_days", "new_only"],
        "provisioned_users" => &["per_seat"],
        "ratio" => &["numerator", "denominator"],
        "percent_change" | "change" => &["metric", "compare_offset_days"],
        "tenure_days" | "days_to_renewal" => &[],
        "contract_value" => &["field"],
        "open_tickets" | "milestone_completion" | "milestones_overdue" => &["filter"],
        "mean_resolution_days" => &["window_days", "offset_days", "filter"],
        "reopen_rate" => &["window_days", "offset_days"],
        "contacts" => &["filter", "flag"],
        _ => return None,
    })
}

pub const KINDS: &[&str] = &[
    "count",
    "sum",
    "mean",
    "latest",
    "distinct",
    "active_users",
    "active_days",
    "days_since",
    "seat_utilisation",
    "adoption_breadth",
    "entitled_features_used",
    "top_user_share",
    "user_gini",
    "departments",
    "top_department_share",
    "provisioned_users",
    "ratio",
    "percent_change",
    "change",
    "tenure_days",
    "contract_value",
    "days_to_renewal",
    "open_tickets",
    "mean_resolution_days",
    "reopen_rate",
    "contacts",
    "milestone_completion",
    "milestones_overdue",
];

fn check_metric(
    raw: RawMetric,
    feature_groups: &BTreeMap<String, Vec<String>>,
    origin: &str,
) -> Result<MetricDef, CatalogueError> {
    let name = raw.name.clone();
    let fail = |message: String| metric_error(origin, &name, &message);
    if !is_identifier(&name) {
        return Err(fail(
            "a metric name is lower-case letters, digits and `_`, starting with a letter (at most 63 characters)".into(),
        ));
    }
    if crate::compile::ATTRIBUTE_COLUMNS
        .iter()
        .any(|(attribute, _)| *attribute == name)
    {
        return Err(fail(
            "this name is an account attribute; choose another".into(),
        ));
    }
    let allowed = allowed_fields(&raw.kind).ok_or_else(|| {
        fail(format!(
            "unknown kind `{}` (expected one of: {})",
            raw.kind,
            KINDS.join(", ")
        ))
    })?;
    let set_fields: Vec<(&str, bool)> = vec![
        ("source", raw.source.is_some()),
        ("column", raw.column.is_some()),
        ("window_days", raw.window_days.is_some()),
        ("offset_days", raw.offset_days.is_some()),
        ("filter", !raw.filter.is_empty()),
        ("feature_group", raw.feature_group.is_some()),
        ("flag", raw.flag.is_some()),
        ("numerator", raw.numerator.is_some()),
        ("denominator", raw.denominator.is_some()),
        ("metric", raw.metric.is_some()),
        ("compare_offset_days", raw.compare_offset_days.is_some()),
        ("field", raw.field.is_some()),
        ("core_only", raw.core_only.is_some()),
        ("top_share", raw.top_share.is_some()),
        ("new_only", raw.new_only.is_some()),
        ("per_seat", raw.per_seat.is_some()),
    ];
    for (field, set) in set_fields {
        if set && !allowed.contains(&field) {
            return Err(fail(format!(
                "kind `{}` does not take `{field}` (it takes: {})",
                raw.kind,
                if allowed.is_empty() {
                    "nothing else".to_string()
                } else {
                    allowed.join(", ")
                }
            )));
        }
    }
    let need = |value: Option<String>, field: &str| -> Result<String, CatalogueError> {
        value.ok_or_else(|| fail(format!("kind `{}` needs `{field}`", raw.kind)))
    };
    let window = |required: bool| -> Result<Option<Window>, CatalogueError> {
        match raw.window_days {
            Some(0) => Err(fail("`window_days` must be at least 1".into())),
            Some(days) => Ok(Some(Window {
                days,
                offset_days: raw.offset_days.unwrap_or(0),
            })),
            None if required => Err(fail(format!("kind `{}` needs `window_days`", raw.kind))),
            None if raw.offset_days.is_some() => {
                Err(fail("`offset_days` needs `window_days`".into()))
            }
            None => Ok(None),
        }
    };
    let source = |default: Option<Source>| -> Result<Source, CatalogueError> {
        match (&raw.source, default) {
            (Some(text), _) => text.parse::<Source>().map_err(fail),
            (None, Some(source)) => Ok(source),
            (None, None) => Err(fail(format!("kind `{}` needs `source`", raw.kind))),
        }
    };
    let filter_for = |source: Source| -> Result<Filter, CatalogueError> {
        let mut filter = Filter::new();
        for (column, value) in &raw.filter {
            let values = match value {
                toml::Value::Array(items) => items.clone(),
                single => vec![single.clone()],
            };
            let checked = source
                .check_filter(column, &values)
                .map_err(|message| fail(format!("filter `{column}`: {message}")))?;
            filter.insert(column.clone(), checked);
        }
        if let Some(group) = &raw.feature_group {
            if source != Source::Usage {
                return Err(fail(
                    "`feature_group` applies to the `usage` source only".into(),
                ));
            }
            let keys = feature_groups.get(group).ok_or_else(|| {
                fail(format!(
                    "unknown feature group `{group}` (declare it under [feature_groups])"
                ))
            })?;
            if filter.contains_key("feature_key") {
                return Err(fail(
                    "use either `feature_group` or a `feature_key` filter, not both".into(),
                ));
            }
            filter.insert(
                "feature_key".into(),
                keys.iter().cloned().map(FilterValue::Text).collect(),
            );
        }
        Ok(filter)
    };
    let numeric_column = |source: Source, column: &str| -> Result<String, CatalogueError> {
        match source.column_type(column) {
            Some(ColumnType::Integer | ColumnType::Number | ColumnType::Money) => {
                Ok(column.to_string())
            }
            Some(other) => Err(fail(format!(
                "column `{column}` of {} is {}, not a number",
                source.as_str(),
                other.describe()
            ))),
            None => Err(fail(format!(
                "{} has no column `{column}` (it has: {})",
                source.as_str(),
                source.columns().join(", ")
            ))),
        }
    };
    let kind = match raw.kind.as_str() {
        "count" => {
            let source = source(None)?;
            MetricKind::Count {
                source,
                window: window(true)?.unwrap_or(Window {
                    days: 1,
                    offset_days: 0,
                }),
                filter: filter_for(source)?,
                flag: raw.flag.unwrap_or(false),
            }
        }
        "sum" | "mean" => {
            let source = source(None)?;
            let column = numeric_column(source, &need(raw.column.clone(), "column")?)?;
            let window = window(true)?.unwrap_or(Window {
                days: 1,
                offset_days: 0,
            });
            let filter = filter_for(source)?;
            if raw.kind == "sum" {
                MetricKind::Sum {
                    source,
                    column,
                    window,
                    filter,
                }
            } else {
                MetricKind::Mean {
                    source,
                    column,
                    window,
                    filter,
                }
            }
        }
        "latest" => {
            let source = source(None)?;
            MetricKind::Latest {
                source,
                column: numeric_column(source, &need(raw.column.clone(), "column")?)?,
                window: window(false)?,
                filter: filter_for(source)?,
            }
        }
        "distinct" => {
            let source = source(None)?;
            let column = need(raw.column.clone(), "column")?;
            if source.column_type(&column).is_none() {
                return Err(fail(format!(
                    "{} has no column `{column}` (it has: {})",
                    source.as_str(),
                    source.columns().join(", ")
                )));
            }
            if source == Source::Usage && !matches!(column.as_str(), "user_id" | "feature_key") {
                return Err(fail(
                    "distinct over `usage` counts `user_id` or `feature_key` (daily aggregates carry nothing else)".into(),
                ));
            }
            MetricKind::Distinct {
                source,
                column,
                window: window(true)?.unwrap_or(Window {
                    days: 1,
                    offset_days: 0,
                }),
                filter: filter_for(source)?,
            }
        }
        "active_users" | "active_days" => {
            let window = window(true)?.unwrap_or(Window {
                days: 1,
                offset_days: 0,
            });
            let filter = filter_for(Source::Usage)?;
            if raw.kind == "active_users" {
                MetricKind::ActiveUsers { window, filter }
            } else {
                MetricKind::ActiveDays { window, filter }
            }
        }
        "days_since" => {
            let source = source(None)?;
            MetricKind::DaysSince {
                source,
                filter: filter_for(source)?,
            }
        }
        "seat_utilisation" => MetricKind::SeatUtilisation {
            window: window(true)?.unwrap_or(Window {
                days: 30,
                offset_days: 0,
            }),
        },
        "adoption_breadth" => MetricKind::AdoptionBreadth {
            window: window(true)?.unwrap_or(Window {
                days: 90,
                offset_days: 0,
            }),
            core_only: raw.core_only.unwrap_or(true),
        },
        "entitled_features_used" => MetricKind::EntitledFeaturesUsed {
            window: window(true)?.unwrap_or(Window {
                days: 90,
                offset_days: 0,
            }),
            core_only: raw.core_only.unwrap_or(true),
        },
        "top_user_share" => {
            let top_share = raw.top_share.unwrap_or(0.2);
            if !(top_share > 0.0 && top_share < 1.0) {
                return Err(fail(format!(
                    "`top_share` is a fraction of users between 0 and 1 (exclusive), not {top_share}"
                )));
            }
            MetricKind::TopUserShare {
                window: window(true)?.unwrap_or(Window {
                    days: 30,
                    offset_days: 0,
                }),
                top_share,
            }
        }
        "user_gini" => MetricKind::UserGini {
            window: window(true)?.unwrap_or(Window {
                days: 30,
                offset_days: 0,
            }),
        },
        "departments" => MetricKind::Departments {
            window: window(true)?.unwrap_or(Window {
                days: 90,
                offset_days: 0,
            }),
            new_only: raw.new_only.unwrap_or(false),
        },
        "provisioned_users" => MetricKind::ProvisionedUsers {
            per_seat: raw.per_seat.unwrap_or(false),
        },
        "top_department_share" => MetricKind::TopDepartmentShare {
            window: window(true)?.unwrap_or(Window {
                days: 90,
                offset_days: 0,
            }),
        },
        "ratio" => MetricKind::Ratio {
            numerator: need(raw.numerator.clone(), "numerator")?,
            denominator: need(raw.denominator.clone(), "denominator")?,
        },
        "percent_change" | "change" => {
            let metric = need(raw.metric.clone(), "metric")?;
            let compare_offset_days = raw
                .compare_offset_days
                .filter(|d| *d > 0)
                .ok_or_else(|| fail("`compare_offset_days` (at least 1) is required".into()))?;
            if raw.kind == "change" {
                MetricKind::Change {
                    metric,
                    compare_offset_days,
                }
            } else {
                MetricKind::PercentChange {
                    metric,
                    compare_offset_days,
                }
            }
        }
        "tenure_days" => MetricKind::TenureDays,
        "days_to_renewal" => MetricKind::DaysToRenewal,
        "contract_value" => MetricKind::ContractValue {
            field: match need(raw.field.clone(), "field")?.as_str() {
                "arr" => ContractField::Arr,
                "mrr" => ContractField::Mrr,
                "seats" => ContractField::Seats,
                other => {
                    return Err(fail(format!(
                        "unknown contract field `{other}` (expected arr, mrr or seats)"
                    )));
                }
            },
        },
        "open_tickets" => MetricKind::OpenTickets {
            filter: filter_for(Source::Tickets)?,
        },
        "mean_resolution_days" => MetricKind::MeanResolutionDays {
            window: window(true)?.unwrap_or(Window {
                days: 90,
                offset_days: 0,
            }),
            filter: filter_for(Source::Tickets)?,
        },
        "reopen_rate" => MetricKind::ReopenRate {
            window: window(true)?.unwrap_or(Window {
                days: 90,
                offset_days: 0,
            }),
        },
        "contacts" => MetricKind::Contacts {
            filter: filter_for(Source::Contacts)?,
            flag: raw.flag.unwrap_or(false),
        },
        "milestone_completion" => MetricKind::MilestoneCompletion {
            filter: filter_for(Source::Milestones)?,
        },
        "milestones_overdue" => MetricKind::MilestonesOverdue {
            filter: filter_for(Source::Milestones)?,
        },
        other => return Err(fail(format!("unknown kind `{other}`"))),
    };
    Ok(MetricDef {
        name: raw.name,
        description: raw.description,
        unit: raw.unit,
        category: raw.category,
        direction: raw.direction,
        kind,
    })
}
