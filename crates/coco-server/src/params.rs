//! Query parameters shared by pages and the API, parsed strictly: an unknown sort
//! key, colour or malformed date is a 400 naming the parameter, never SQL.

use chrono::NaiveDate;
use coco_store::snapshots::{HealthListFilter, HealthSort};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Filters, order and page of an account list. Empty strings (an untouched select in
/// a form) mean "not set".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ListParams {
    pub as_of: Option<String>,
    pub csm: Option<String>,
    pub segment: Option<String>,
    pub tier: Option<String>,
    pub colour: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

/// The sort keys a list accepts (the allow-list), with their meaning.
pub const SORT_KEYS: &[(&str, HealthSort, &str)] = &[
    ("score", HealthSort::Score, "lowest health first"),
    ("-score", HealthSort::ScoreDesc, "highest health first"),
    ("change", HealthSort::Change, "biggest drop first"),
    ("-change", HealthSort::ChangeUp, "biggest rise first"),
    ("arr", HealthSort::Arr, "largest ARR first"),
    ("renewal", HealthSort::Renewal, "soonest renewal first"),
    ("name", HealthSort::Name, "name A–Z"),
    ("account", HealthSort::Account, "account id"),
];

pub const COLOURS: &[&str] = &["green", "yellow", "red", "unknown"];

fn set(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

pub fn parse_date(field: &str, value: &Option<String>) -> Result<Option<NaiveDate>, AppError> {
    set(value)
        .map(|text| {
            NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                AppError::invalid(field, format!("`{field}` must be a date like 2026-10-31"))
            })
        })
        .transpose()
}

fn parse_count(field: &str, value: &Option<String>, default: usize) -> Result<usize, AppError> {
    match set(value) {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                AppError::invalid(field, format!("`{field}` must be a whole number ≥ 1"))
            }),
    }
}

/// A parsed list request.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub as_of: Option<NaiveDate>,
    pub filter: HealthListFilter,
    pub sort_key: String,
    pub page: usize,
    pub per_page: usize,
}

impl ListParams {
    pub fn parse(
        &self,
        default_sort: &str,
        default_per_page: usize,
    ) -> Result<ListRequest, AppError> {
        let sort_key = set(&self.sort).unwrap_or_else(|| default_sort.to_string());
        let sort = SORT_KEYS
            .iter()
            .find(|(key, _, _)| *key == sort_key)
            .map(|(_, sort, _)| *sort)
            .ok_or_else(|| {
                AppError::invalid(
                    "sort",
                    format!(
                        "unknown sort `{sort_key}`; use one of {}",
                        SORT_KEYS
                            .iter()
                            .map(|(k, _, _)| *k)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        let colour = set(&self.colour);
        if let Some(colour) = &colour
            && !COLOURS.contains(&colour.as_str())
        {
            return Err(AppError::invalid(
                "colour",
                format!("unknown colour `{colour}`; use green, yellow, red or unknown"),
            ));
        }
        let per_page = parse_count("per_page", &self.per_page, default_per_page)?;
        if per_page > 500 {
            return Err(AppError::invalid("per_page", "`per_page` is at most 500"));
        }
        Ok(ListRequest {
            as_of: parse_date("as_of", &self.as_of)?,
            filter: HealthListFilter {
                colour,
                segment: set(&self.segment),
                owner_csm_id: set(&self.csm),
                plan_tier: set(&self.tier),
                sort,
                ..HealthListFilter::default()
            },
            sort_key,
            page: parse_count("page", &self.page, 1)?,
            per_page,
        })
    }

    /// The same filters as a query string, with `overrides` replacing keys (for links
    /// that change one thing: a page, a sort, a colour). Values are percent-encoded.
    pub fn query_with(&self, overrides: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (key, value) in [
            ("as_of", &self.as_of),
            ("csm", &self.csm),
            ("segment", &self.segment),
            ("tier", &self.tier),
            ("colour", &self.colour),
            ("sort", &self.sort),
            ("per_page", &self.per_page),
        ] {
            if let Some(value) = set(value) {
                pairs.push((key, value));
            }
        }
        for (key, value) in overrides {
            pairs.retain(|(existing, _)| existing != key);
            if !value.is_empty() {
                pairs.push((key, value.to_string()));
            }
        }
        pairs
            .iter()
            .map(|(key, value)| format!("{key}={}", percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Expansion opportunity types (`?type=`), as `OpportunityKind::type_name` says them.
pub const OPPORTUNITY_TYPES: &[&str] = &["seats", "tier", "module"];
/// Timing lights (`?light=`), as `Light::as_str` says them.
pub const LIGHTS: &[&str] = &["green", "yellow", "red"];
/// What the adoption heatmap can be grouped by (`?by=`).
pub use coco_engine::adoption::HEATMAP_GROUPS;

fn one_of(
    field: &str,
    value: &Option<String>,
    allowed: &[&str],
) -> Result<Option<String>, AppError> {
    match set(value) {
        Some(text) if !allowed.contains(&text.as_str()) => Err(AppError::invalid(
            field,
            format!(
                "unknown {field} `{text}`; use one of {}",
                allowed.join(", ")
            ),
        )),
        other => Ok(other),
    }
}

/// A whole number ≥ 0 (an offset), default 0.
fn parse_offset(field: &str, value: &Option<String>) -> Result<usize, AppError> {
    match set(value) {
        None => Ok(0),
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| AppError::invalid(field, format!("`{field}` must be a whole number ≥ 0"))),
    }
}

/// A non-negative amount of money (`250000`, `250,000`, `$250000`).
pub fn parse_amount(field: &str, value: &Option<String>) -> Result<Option<f64>, AppError> {
    set(value)
        .map(|text| {
            text.trim_start_matches('$')
                .replace([',', '_'], "")
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    AppError::invalid(
                        field,
                        format!("`{field}` must be an amount ≥ 0, like 250000"),
                    )
                })
        })
        .transpose()
}

/// Filters of the expansion pipeline (page and API). Empty strings mean "not set".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ExpansionParams {
    pub as_of: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub light: Option<String>,
    pub owner: Option<String>,
    /// Expansion ARR target to review coverage against.
    pub target: Option<String>,
    /// The page's paging.
    pub page: Option<String>,
    pub per_page: Option<String>,
    /// The API's paging.
    pub limit: Option<String>,
    pub offset: Option<String>,
}

/// Which opportunities a request selects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpansionFilter {
    pub kind: Option<String>,
    pub light: Option<String>,
    pub owner: Option<String>,
}

impl ExpansionFilter {
    pub fn matches(&self, opportunity: &coco_insights::expansion::Opportunity) -> bool {
        self.kind
            .as_deref()
            .is_none_or(|k| opportunity.kind.type_name() == k)
            && self
                .light
                .as_deref()
                .is_none_or(|l| opportunity.timing.light.as_str() == l)
            && self
                .owner
                .as_deref()
                .is_none_or(|o| opportunity.owner_csm_id.as_deref() == Some(o))
    }
}

/// A parsed expansion request: the as-of date, the filter, the target and a window of
/// the (filtered) list.
#[derive(Debug, Clone)]
pub struct ExpansionRequest {
    pub as_of: Option<NaiveDate>,
    pub filter: ExpansionFilter,
    pub target: Option<f64>,
    pub offset: usize,
    pub limit: usize,
    /// 1-based page (the page's paging; the API's offset ÷ limit + 1).
    pub page: usize,
}

impl ExpansionParams {
    fn parse_common(&self) -> Result<(Option<NaiveDate>, ExpansionFilter, Option<f64>), AppError> {
        let owner = set(&self.owner);
        if owner.as_ref().is_some_and(|o| o.chars().count() > 200) {
            return Err(AppError::invalid(
                "owner",
                "`owner` is a CSM id (at most 200 characters)",
            ));
        }
        Ok((
            parse_date("as_of", &self.as_of)?,
            ExpansionFilter {
                kind: one_of("type", &self.kind, OPPORTUNITY_TYPES)?,
                light: one_of("light", &self.light, LIGHTS)?,
                owner,
            },
            parse_amount("target", &self.target)?,
        ))
    }

    /// The page's request: `page` and `per_page` (≤ 500).
    pub fn parse_page(&self, default_per_page: usize) -> Result<ExpansionRequest, AppError> {
        let (as_of, filter, target) = self.parse_common()?;
        let per_page = parse_count("per_page", &self.per_page, default_per_page)?;
        if per_page > 500 {
            return Err(AppError::invalid("per_page", "`per_page` is at most 500"));
        }
        let page = parse_count("page", &self.page, 1)?;
        Ok(ExpansionRequest {
            as_of,
            filter,
            target,
            offset: (page - 1).saturating_mul(per_page),
            limit: per_page,
            page,
        })
    }

    /// The API's request: `limit` (≤ 500, default 50) and `offset`.
    pub fn parse_window(&self) -> Result<ExpansionRequest, AppError> {
        let (as_of, filter, target) = self.parse_common()?;
        let limit = parse_count("limit", &self.limit, 50)?;
        if limit > 500 {
            return Err(AppError::invalid("limit", "`limit` is at most 500"));
        }
        let offset = parse_offset("offset", &self.offset)?;
        Ok(ExpansionRequest {
            as_of,
            filter,
            target,
            offset,
            limit,
            page: offset / limit + 1,
        })
    }

    /// The same filters as a query string, with `overrides` replacing keys.
    pub fn query_with(&self, overrides: &[(&str, &str)]) -> String {
        query(
            &[
                ("as_of", &self.as_of),
                ("type", &self.kind),
                ("light", &self.light),
                ("owner", &self.owner),
                ("target", &self.target),
                ("per_page", &self.per_page),
            ],
            overrides,
        )
    }
}

/// The adoption page's and heatmap's parameters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AdoptionParams {
    pub as_of: Option<String>,
    pub by: Option<String>,
    /// Accounts needing attention to list (report).
    pub attention: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AdoptionRequest {
    pub as_of: Option<NaiveDate>,
    pub by: String,
    pub attention: usize,
}

impl AdoptionParams {
    pub fn parse(&self) -> Result<AdoptionRequest, AppError> {
        let attention = parse_count("attention", &self.attention, 20)?;
        if attention > 500 {
            return Err(AppError::invalid("attention", "`attention` is at most 500"));
        }
        Ok(AdoptionRequest {
            as_of: parse_date("as_of", &self.as_of)?,
            by: one_of("by", &self.by, HEATMAP_GROUPS)?.unwrap_or_else(|| "segment".into()),
            attention,
        })
    }

    pub fn query_with(&self, overrides: &[(&str, &str)]) -> String {
        query(&[("as_of", &self.as_of), ("by", &self.by)], overrides)
    }
}

/// Time to value: which accounts, and a window of them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TtvParams {
    pub as_of: Option<String>,
    /// `true`: only accounts still onboarding that need acceleration.
    pub needs_acceleration: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TtvRequest {
    pub as_of: Option<NaiveDate>,
    pub needs_acceleration: bool,
    pub limit: usize,
    pub offset: usize,
}

impl TtvParams {
    pub fn parse(&self) -> Result<TtvRequest, AppError> {
        let needs_acceleration = match set(&self.needs_acceleration).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(AppError::invalid(
                    "needs_acceleration",
                    "`needs_acceleration` is true or false",
                ));
            }
        };
        let limit = parse_count("limit", &self.limit, 100)?;
        if limit > 500 {
            return Err(AppError::invalid("limit", "`limit` is at most 500"));
        }
        Ok(TtvRequest {
            as_of: parse_date("as_of", &self.as_of)?,
            needs_acceleration,
            limit,
            offset: parse_offset("offset", &self.offset)?,
        })
    }
}

/// Migration directions (`?direction=`).
pub const DIRECTIONS: &[&str] = &["up", "down"];
/// Scorecard severities (`?severity=`), as `Severity` is written in JSON.
pub const SEVERITIES: &[&str] = &["intervene", "watch", "on_track"];
/// Onboarding statuses (`?status=`), as `OnboardingStatus` is written in JSON.
pub const ONBOARDING_STATUSES: &[&str] = &["on_track", "at_risk", "critical"];
/// Days of an interaction timeline (`?days=`): default and most.
pub const TIMELINE_DAYS: u32 = 180;
pub const MAX_TIMELINE_DAYS: u32 = 730;

/// Parameters of the segmentation, workload, journey, onboarding and touchpoint pages
/// and endpoints; each reads the ones it needs. Empty strings mean "not set".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LifecycleParams {
    pub as_of: Option<String>,
    /// One tier's accounts (a tier key of `config/segments.toml`).
    pub tier: Option<String>,
    /// Migration candidates: `up` (upgrades) or `down` (downgrades).
    pub direction: Option<String>,
    /// Scorecards: `intervene`, `watch` or `on_track`.
    pub severity: Option<String>,
    /// Onboarding accounts: `on_track`, `at_risk` or `critical`.
    pub status: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

/// A parsed lifecycle request.
#[derive(Debug, Clone)]
pub struct LifecycleRequest {
    pub as_of: Option<NaiveDate>,
    pub tier: Option<String>,
    pub direction: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

impl LifecycleParams {
    /// `tiers`: the tier keys `tier` may name; `default_limit`: the window's size when
    /// `limit` is not set (at most 500 either way).
    pub fn parse(
        &self,
        tiers: &[&str],
        default_limit: usize,
    ) -> Result<LifecycleRequest, AppError> {
        let limit = parse_count("limit", &self.limit, default_limit)?;
        if limit > 500 {
            return Err(AppError::invalid("limit", "`limit` is at most 500"));
        }
        Ok(LifecycleRequest {
            as_of: parse_date("as_of", &self.as_of)?,
            tier: one_of("tier", &self.tier, tiers)?,
            direction: one_of("direction", &self.direction, DIRECTIONS)?,
            severity: one_of("severity", &self.severity, SEVERITIES)?,
            status: one_of("status", &self.status, ONBOARDING_STATUSES)?,
            limit,
            offset: parse_offset("offset", &self.offset)?,
        })
    }

    /// The same parameters as a query string, with `overrides` replacing keys.
    pub fn query_with(&self, overrides: &[(&str, &str)]) -> String {
        query(
            &[
                ("as_of", &self.as_of),
                ("tier", &self.tier),
                ("direction", &self.direction),
                ("severity", &self.severity),
                ("status", &self.status),
            ],
            overrides,
        )
    }
}

/// Days of an interaction timeline: 1–730, default 180.
pub fn parse_days(value: &Option<String>) -> Result<u32, AppError> {
    let days = parse_count("days", value, TIMELINE_DAYS as usize)?;
    u32::try_from(days)
        .ok()
        .filter(|d| *d <= MAX_TIMELINE_DAYS)
        .ok_or_else(|| AppError::invalid("days", format!("`days` is 1–{MAX_TIMELINE_DAYS}")))
}

/// `pairs` that are set, with `overrides` replacing keys (an empty override removes
/// the key), percent-encoded.
fn query(pairs: &[(&str, &Option<String>)], overrides: &[(&str, &str)]) -> String {
    let mut out: Vec<(&str, String)> = pairs
        .iter()
        .filter_map(|(key, value)| set(value).map(|v| (*key, v)))
        .collect();
    for (key, value) in overrides {
        out.retain(|(existing, _)| existing != key);
        if !value.is_empty() {
            out.push((key, value.to_string()));
        }
    }
    out.iter()
        .map(|(key, value)| format!("{key}={}", percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// Alerts and tasks

/// What `?status=` of an alert list may say: `open` (open, acknowledged, snoozed),
/// `closed` (resolved, closed), `all`, or one of the other statuses.
pub const ALERT_STATUS_CHOICES: &[&str] = &[
    "open",
    "closed",
    "all",
    "acknowledged",
    "snoozed",
    "resolved",
];
/// Alert tiers (`?tier=`), as `AlertTier::as_str` says them.
pub const ALERT_TIERS: &[&str] = &["watch", "intervene", "escalate"];
/// What `?status=` of a task list may say: `open` (open, snoozed), `done`,
/// `cancelled`, `snoozed` or `all`.
pub const TASK_STATUS_CHOICES: &[&str] = &["open", "done", "cancelled", "snoozed", "all"];

/// The stored statuses an alert status choice means (empty: all).
pub fn alert_statuses(choice: &str) -> Vec<String> {
    let statuses: &[&str] = match choice {
        "open" => &["open", "acknowledged", "snoozed"],
        "closed" => &["resolved", "closed"],
        "all" => &[],
        one => return vec![one.to_string()],
    };
    statuses.iter().map(|s| s.to_string()).collect()
}

/// The stored statuses a task status choice means (empty: all).
pub fn task_statuses(choice: &str) -> Vec<String> {
    match choice {
        "open" => vec!["open".into(), "snoozed".into()],
        "all" => Vec::new(),
        one => vec![one.to_string()],
    }
}

/// Filters and window of an alert list (the inbox and `GET /api/v1/alerts`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AlertListParams {
    pub status: Option<String>,
    /// The owner CSM's id.
    pub owner: Option<String>,
    pub account: Option<String>,
    pub tier: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AlertListRequest {
    /// The choice made (`open` unless set).
    pub status: String,
    pub filter: coco_store::actions::AlertFilter,
    pub tier: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

impl AlertListParams {
    pub fn parse(&self, default_limit: usize) -> Result<AlertListRequest, AppError> {
        let status =
            one_of("status", &self.status, ALERT_STATUS_CHOICES)?.unwrap_or_else(|| "open".into());
        let limit = parse_count("limit", &self.limit, default_limit)?;
        if limit > 500 {
            return Err(AppError::invalid("limit", "`limit` is at most 500"));
        }
        Ok(AlertListRequest {
            filter: coco_store::actions::AlertFilter {
                statuses: alert_statuses(&status),
                owner_csm_id: set(&self.owner),
                account_id: set(&self.account),
                opened_on_or_before: None,
            },
            status,
            tier: one_of("tier", &self.tier, ALERT_TIERS)?,
            limit,
            offset: parse_offset("offset", &self.offset)?,
        })
    }
}

/// Filters and window of a task list (the Tasks page and `GET /api/v1/tasks`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TaskListParams {
    pub status: Option<String>,
    pub owner: Option<String>,
    pub account: Option<String>,
    /// Due on or before this date.
    pub due_by: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TaskListRequest {
    pub status: String,
    pub filter: coco_store::actions::TaskFilter,
    pub limit: usize,
    pub offset: usize,
}

impl TaskListParams {
    pub fn parse(&self, default_limit: usize) -> Result<TaskListRequest, AppError> {
        let status =
            one_of("status", &self.status, TASK_STATUS_CHOICES)?.unwrap_or_else(|| "open".into());
        let limit = parse_count("limit", &self.limit, default_limit)?;
        if limit > 500 {
            return Err(AppError::invalid("limit", "`limit` is at most 500"));
        }
        Ok(TaskListRequest {
            filter: coco_store::actions::TaskFilter {
                statuses: task_statuses(&status),
                owner_csm_id: set(&self.owner),
                account_id: set(&self.account),
                alert_id: None,
                due_on_or_before: parse_date("due_by", &self.due_by)?,
            },
            status,
            limit,
            offset: parse_offset("offset", &self.offset)?,
        })
    }
}

/// A value that may be empty (an untouched form field): trimmed, `None` when empty.
pub fn non_empty(value: &Option<String>) -> Option<String> {
    set(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_are_allow_listed() {
        let params = ListParams {
            sort: Some("score; DROP TABLE accounts".into()),
            ..ListParams::default()
        };
        let error = params.parse("score", 50).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("sort"));
        let params = ListParams {
            sort: Some("-change".into()),
            ..ListParams::default()
        };
        assert_eq!(
            params.parse("score", 50).unwrap().filter.sort,
            HealthSort::ChangeUp
        );
    }

    #[test]
    fn empty_values_mean_unset_and_bad_values_name_their_field() {
        let params = ListParams {
            csm: Some("".into()),
            page: Some("0".into()),
            ..ListParams::default()
        };
        assert_eq!(
            params.parse("score", 50).unwrap_err().field.as_deref(),
            Some("page")
        );
        let params = ListParams {
            csm: Some(" ".into()),
            as_of: Some("2026-13-01".into()),
            ..ListParams::default()
        };
        assert_eq!(
            params.parse("score", 50).unwrap_err().field.as_deref(),
            Some("as_of")
        );
        let params = ListParams {
            csm: Some("".into()),
            ..ListParams::default()
        };
        assert!(
            params
                .parse("score", 50)
                .unwrap()
                .filter
                .owner_csm_id
                .is_none()
        );
    }

    #[test]
    fn links_keep_filters_and_encode_values() {
        let params = ListParams {
            segment: Some("a&b=c".into()),
            page: Some("3".into()),
            ..ListParams::default()
        };
        assert_eq!(
            params.query_with(&[("page", "4")]),
            "segment=a%26b%3Dc&page=4"
        );
        assert_eq!(params.query_with(&[("segment", "")]), "");
    }

    #[test]
    fn expansion_filters_are_allow_listed() {
        let params = ExpansionParams {
            kind: Some("seats'--".into()),
            ..ExpansionParams::default()
        };
        assert_eq!(
            params.parse_page(50).unwrap_err().field.as_deref(),
            Some("type")
        );
        let params = ExpansionParams {
            light: Some("purple".into()),
            ..ExpansionParams::default()
        };
        assert_eq!(
            params.parse_window().unwrap_err().field.as_deref(),
            Some("light")
        );
        let params = ExpansionParams {
            target: Some("-5".into()),
            ..ExpansionParams::default()
        };
        assert_eq!(
            params.parse_page(50).unwrap_err().field.as_deref(),
            Some("target")
        );
        let params = ExpansionParams {
            kind: Some("module".into()),
            light: Some("".into()),
            target: Some("$250,000".into()),
            page: Some("3".into()),
            ..ExpansionParams::default()
        };
        let request = params.parse_page(20).unwrap();
        assert_eq!(request.filter.kind.as_deref(), Some("module"));
        assert!(request.filter.light.is_none());
        assert_eq!(request.target, Some(250_000.0));
        assert_eq!((request.offset, request.limit, request.page), (40, 20, 3));
        assert_eq!(
            params.query_with(&[("page", "4")]),
            "type=module&target=%24250%2C000&page=4"
        );
        let window = ExpansionParams {
            limit: Some("10".into()),
            offset: Some("25".into()),
            ..ExpansionParams::default()
        }
        .parse_window()
        .unwrap();
        assert_eq!((window.offset, window.limit, window.page), (25, 10, 3));
        let too_many = ExpansionParams {
            limit: Some("501".into()),
            ..ExpansionParams::default()
        };
        assert_eq!(
            too_many.parse_window().unwrap_err().field.as_deref(),
            Some("limit")
        );
    }

    #[test]
    fn lifecycle_filters_are_allow_listed() {
        let tiers = ["strategic", "growth"];
        for (params, field) in [
            (
                LifecycleParams {
                    tier: Some("strategic' OR 1=1".into()),
                    ..LifecycleParams::default()
                },
                "tier",
            ),
            (
                LifecycleParams {
                    direction: Some("sideways".into()),
                    ..LifecycleParams::default()
                },
                "direction",
            ),
            (
                LifecycleParams {
                    severity: Some("panic".into()),
                    ..LifecycleParams::default()
                },
                "severity",
            ),
            (
                LifecycleParams {
                    status: Some("late".into()),
                    ..LifecycleParams::default()
                },
                "status",
            ),
            (
                LifecycleParams {
                    limit: Some("501".into()),
                    ..LifecycleParams::default()
                },
                "limit",
            ),
            (
                LifecycleParams {
                    offset: Some("-1".into()),
                    ..LifecycleParams::default()
                },
                "offset",
            ),
        ] {
            assert_eq!(
                params.parse(&tiers, 50).unwrap_err().field.as_deref(),
                Some(field)
            );
        }
        let request = LifecycleParams {
            tier: Some("growth".into()),
            severity: Some("".into()),
            status: Some("at_risk".into()),
            limit: Some("10".into()),
            offset: Some("20".into()),
            ..LifecycleParams::default()
        }
        .parse(&tiers, 50)
        .unwrap();
        assert_eq!(request.tier.as_deref(), Some("growth"));
        assert!(request.severity.is_none());
        assert_eq!(request.status.as_deref(), Some("at_risk"));
        assert_eq!((request.limit, request.offset), (10, 20));
        assert_eq!(parse_days(&None).unwrap(), 180);
        assert_eq!(parse_days(&Some("30".into())).unwrap(), 30);
        for bad in ["0", "731", "ten"] {
            assert_eq!(
                parse_days(&Some(bad.into())).unwrap_err().field.as_deref(),
                Some("days")
            );
        }
    }

    #[test]
    fn heatmap_groups_are_allow_listed() {
        let params = AdoptionParams {
            by: Some("name; DROP TABLE accounts".into()),
            ..AdoptionParams::default()
        };
        assert_eq!(params.parse().unwrap_err().field.as_deref(), Some("by"));
        assert_eq!(AdoptionParams::default().parse().unwrap().by, "segment");
        let params = AdoptionParams {
            by: Some("plan_tier".into()),
            ..AdoptionParams::default()
        };
        assert_eq!(params.parse().unwrap().by, "plan_tier");
    }

    #[test]
    fn alert_and_task_lists_default_to_open_and_reject_unknown_values() {
        let request = AlertListParams::default().parse(100).unwrap();
        assert_eq!(request.status, "open");
        assert_eq!(request.filter.statuses, ["open", "acknowledged", "snoozed"]);
        assert_eq!((request.limit, request.offset), (100, 0));
        let request = AlertListParams {
            status: Some("closed".into()),
            owner: Some(" csm_004 ".into()),
            tier: Some("escalate".into()),
            ..AlertListParams::default()
        }
        .parse(100)
        .unwrap();
        assert_eq!(request.filter.statuses, ["resolved", "closed"]);
        assert_eq!(request.filter.owner_csm_id.as_deref(), Some("csm_004"));
        assert_eq!(request.tier.as_deref(), Some("escalate"));
        assert!(
            AlertListParams {
                status: Some("all".into()),
                ..AlertListParams::default()
            }
            .parse(100)
            .unwrap()
            .filter
            .statuses
            .is_empty()
        );
        for (params, field) in [
            (
                AlertListParams {
                    status: Some("open'; DROP TABLE alerts".into()),
                    ..AlertListParams::default()
                },
                "status",
            ),
            (
                AlertListParams {
                    tier: Some("urgent".into()),
                    ..AlertListParams::default()
                },
                "tier",
            ),
            (
                AlertListParams {
                    limit: Some("501".into()),
                    ..AlertListParams::default()
                },
                "limit",
            ),
        ] {
            assert_eq!(params.parse(100).unwrap_err().field.as_deref(), Some(field));
        }
        let request = TaskListParams::default().parse(100).unwrap();
        assert_eq!(request.filter.statuses, ["open", "snoozed"]);
        let request = TaskListParams {
            status: Some("done".into()),
            due_by: Some("2026-12-05".into()),
            ..TaskListParams::default()
        }
        .parse(100)
        .unwrap();
        assert_eq!(request.filter.statuses, ["done"]);
        assert_eq!(
            request.filter.due_on_or_before,
            NaiveDate::from_ymd_opt(2026, 12, 5)
        );
        for (params, field) in [
            (
                TaskListParams {
                    status: Some("finished".into()),
                    ..TaskListParams::default()
                },
                "status",
            ),
            (
                TaskListParams {
                    due_by: Some("tomorrow".into()),
                    ..TaskListParams::default()
                },
                "due_by",
            ),
        ] {
            assert_eq!(params.parse(100).unwrap_err().field.as_deref(), Some(field));
        }
    }
}
