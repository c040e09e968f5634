//! Alert rules (`config/alerts.toml`, which documents every field) and their evaluation
//! over one snapshot: which rules fire for which accounts, with the evidence behind each
//! condition — the value, what it was compared with and when, the source rows of events.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use coco_insights::frame::MetricMeta;
use coco_insights::parallel::map_ordered;
use coco_insights::settings::{SettingsError, invalid};
use coco_insights::values::{Resolved, SideValues, Values, is_known_source};
use serde::{Deserialize, Serialize};

pub const DEFAULT_ALERTS: &str = include_str!("../../../config/alerts.toml");

/// Values the engine supplies beside the snapshot that rules may name.
pub const SIDE_SOURCES: &[&str] = &["health_score", "churn_probability"];

/// Events the store can report per account, each with its source row.
pub const EVENT_KINDS: &[&str] = &[
    "champion_departed",
    "exec_sponsor_departed",
    "nps_detractor",
    "escalation",
    "payment_failed",
    "downgrade_request",
    "competitor_mention",
];

/// Text attributes of the account row a rule may filter on.
pub const TEXT_ATTRIBUTES: &[&str] = &[
    "segment",
    "coverage_model",
    "plan_tier",
    "region",
    "industry",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    pub version: String,
    pub settings: AlertSettings,
    pub rules: Vec<AlertRule>,
    #[serde(default)]
    pub routing: Vec<Route>,
    #[serde(default)]
    pub unowned: Unowned,
    pub today: crate::today::TodayConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    pub cooldown_days: u32,
    pub change_tolerance_days: u32,
    pub digest_severities: Vec<Severity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Unowned {
    #[serde(default)]
    pub notify_csm_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertTier {
    Watch,
    Intervene,
    Escalate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

macro_rules! names {
    ($t:ty { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),* }
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok(Self::$variant),)*
                    other => Err(format!(
                        "`{other}` is not one of {}",
                        [$($name),*].join(", ")
                    )),
                }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use names;

names!(AlertTier { Watch => "watch", Intervene => "intervene", Escalate => "escalate" });
names!(Severity { Low => "low", Medium => "medium", High => "high" });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tier: AlertTier,
    pub severity: Severity,
    pub profile: String,
    #[serde(default)]
    pub playbook: Option<String>,
    #[serde(default)]
    pub cooldown_days: Option<u32>,
    #[serde(default)]
    pub when: Vec<Condition>,
    #[serde(default)]
    pub when_any: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    Threshold {
        source: String,
        at_least: Option<f64>,
        at_most: Option<f64>,
    },
    Change {
        source: String,
        days: u32,
        at_least: Option<f64>,
        at_most: Option<f64>,
    },
    Event {
        event: String,
        within_days: u32,
        #[serde(default = "one")]
        min_count: u32,
    },
    Attribute {
        attribute: String,
        #[serde(rename = "in")]
        values: Vec<String>,
    },
}

fn one() -> u32 {
    1
}

fn within(value: f64, at_least: Option<f64>, at_most: Option<f64>) -> bool {
    at_least.is_none_or(|min| value >= min) && at_most.is_none_or(|max| value <= max)
}

fn bounds_text(at_least: Option<f64>, at_most: Option<f64>) -> String {
    let n = coco_insights::format::number;
    match (at_least, at_most) {
        (Some(a), Some(b)) => format!("between {} and {}", n(a), n(b)),
        (Some(a), None) => format!("≥ {}", n(a)),
        (None, Some(b)) => format!("≤ {}", n(b)),
        (None, None) => "any value".into(),
    }
}

/// Who is told, for alerts matching `tiers` × `severities` × `coverage` (empty = any).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Route {
    #[serde(default)]
    pub tiers: Vec<AlertTier>,
    #[serde(default)]
    pub severities: Vec<Severity>,
    #[serde(default)]
    pub coverage: Vec<String>,
    pub notify: Vec<Role>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Csm,
    TeamLead,
    Manager,
}

names!(Role { Csm => "csm", TeamLead => "team_lead", Manager => "manager" });

impl AlertsConfig {
    pub fn from_toml(text: &str) -> Result<AlertsConfig, SettingsError> {
        Ok(toml::from_str(text)?)
    }

    pub fn rule(&self, id: &str) -> Option<&AlertRule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Every `source` and `change` look-back the rules name, and the events.
    pub fn needs(&self) -> RuleNeeds {
        let mut needs = RuleNeeds::default();
        for condition in self
            .rules
            .iter()
            .flat_map(|r| r.when.iter().chain(&r.when_any))
        {
            match condition {
                Condition::Threshold { source, .. } => {
                    needs.sources.insert(source.clone());
                }
                Condition::Change { source, days, .. } => {
                    needs.sources.insert(source.clone());
                    needs
                        .changes
                        .entry(*days)
                        .or_default()
                        .insert(source.clone());
                }
                Condition::Event {
                    event, within_days, ..
                } => {
                    needs.events.insert(event.clone());
                    needs.event_days = needs.event_days.max(*within_days);
                }
                Condition::Attribute { .. } => {}
            }
        }
        needs
    }

    /// Checks names against the metric catalogue, the events and the routing.
    pub fn validate(&self, metrics: &[MetricMeta]) -> Result<(), SettingsError> {
        let mut seen = BTreeSet::new();
        if self.rules.is_empty() {
            return Err(invalid("rules", "at least one rule is needed"));
        }
        for (r, rule) in self.rules.iter().enumerate() {
            let at = format!("rules[{r}] ({})", rule.id);
            if rule.id.trim().is_empty() {
                return Err(invalid(&format!("rules[{r}].id"), "must not be empty"));
            }
            if !seen.insert(rule.id.as_str()) {
                return Err(invalid(&at, "a second rule with this id"));
            }
            if rule.when.is_empty() && rule.when_any.is_empty() {
                return Err(invalid(
                    &at,
                    "needs at least one condition in `when` or `when_any`",
                ));
            }
            for (list, conditions) in [("when", &rule.when), ("when_any", &rule.when_any)] {
                for (c, condition) in conditions.iter().enumerate() {
                    let at = format!("{at}.{list}[{c}]");
                    match condition {
                        Condition::Threshold {
                            source,
                            at_least,
                            at_most,
                        }
                        | Condition::Change {
                            source,
                            at_least,
                            at_most,
                            ..
                        } => {
                            if !is_known_source(source, metrics, SIDE_SOURCES) {
                                return Err(invalid(
                                    &at,
                                    format!(
                                        "unknown source `{source}`: not a metric of the catalogue, an account number ({}) or one of {}",
                                        coco_insights::values::NUMERIC_ATTRIBUTES.join(", "),
                                        SIDE_SOURCES.join(", ")
                                    ),
                                ));
                            }
                            if at_least.is_none() && at_most.is_none() {
                                return Err(invalid(&at, "needs `at_least` or `at_most`"));
                            }
                            if let (Some(a), Some(b)) = (at_least, at_most)
                                && a > b
                            {
                                return Err(invalid(&at, "`at_least` is above `at_most`"));
                            }
                            if let Condition::Change { days: 0, .. } = condition {
                                return Err(invalid(&at, "`days` must be at least 1"));
                            }
                        }
                        Condition::Event {
                            event,
                            within_days,
                            min_count,
                        } => {
                            if !EVENT_KINDS.contains(&event.as_str()) {
                                return Err(invalid(
                                    &at,
                                    format!(
                                        "unknown event `{event}`: one of {}",
                                        EVENT_KINDS.join(", ")
                                    ),
                                ));
                            }
                            if *within_days == 0 || *min_count == 0 {
                                return Err(invalid(
                                    &at,
                                    "`within_days` and `min_count` must be at least 1",
                                ));
                            }
                        }
                        Condition::Attribute { attribute, values } => {
                            if !TEXT_ATTRIBUTES.contains(&attribute.as_str()) {
                                return Err(invalid(
                                    &at,
                                    format!(
                                        "unknown attribute `{attribute}`: one of {}",
                                        TEXT_ATTRIBUTES.join(", ")
                                    ),
                                ));
                            }
                            if values.is_empty() {
                                return Err(invalid(&at, "`in` lists no value"));
                            }
                        }
                    }
                }
            }
        }
        if !self
            .routing
            .iter()
            .any(|r| r.tiers.is_empty() && r.severities.is_empty() && r.coverage.is_empty())
        {
            return Err(invalid(
                "routing",
                "the last route must match every alert (no `tiers`, `severities` or `coverage`)",
            ));
        }
        for (i, route) in self.routing.iter().enumerate() {
            if route.notify.is_empty() {
                return Err(invalid(&format!("routing[{i}].notify"), "names nobody"));
            }
        }
        Ok(())
    }
}

/// What the engine has to load for the rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleNeeds {
    pub sources: BTreeSet<String>,
    /// Look-back days → the sources compared over them.
    pub changes: BTreeMap<u32, BTreeSet<String>>,
    pub events: BTreeSet<String>,
    /// The longest event window.
    pub event_days: u32,
}

/// An event of an account, from its source row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountEvent {
    pub kind: String,
    pub on: NaiveDate,
    /// The table and key of the row the event was read from.
    pub table: String,
    pub row_id: String,
    pub detail: String,
}

/// Values of the sources of `change` conditions at an earlier snapshot, aligned with
/// the current frame's accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct PastValues {
    pub date: NaiveDate,
    pub values: SideValues,
}

/// What rules read for one snapshot.
pub struct RuleInputs<'a> {
    pub as_of: NaiveDate,
    pub values: Values<'a>,
    /// Look-back days → the values at the snapshot answering "that many days ago"
    /// (absent when no snapshot is close enough: change conditions then do not hold).
    pub past: &'a BTreeMap<u32, PastValues>,
    /// Events dated on or before `as_of`, by account (frame order), oldest first.
    pub events: &'a [Vec<AccountEvent>],
}

/// One condition that held, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// The condition in words, with the numbers ("health_score fell 18.2 in 14 days
    /// (71.0 on 2026-10-17 → 52.8), ≤ -15").
    pub text: String,
    pub source: Option<String>,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub previous_date: Option<NaiveDate>,
    pub threshold: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<AccountEvent>,
}

/// A rule that fired for an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub rule: usize,
    pub account: usize,
    pub evidence: Vec<Evidence>,
}

/// A condition resolved once per run, so the per-account loop does no name lookups.
enum Prepared<'a> {
    Threshold {
        source: &'a str,
        resolved: Resolved<'a>,
        at_least: Option<f64>,
        at_most: Option<f64>,
    },
    Change {
        source: &'a str,
        days: u32,
        resolved: Resolved<'a>,
        past: Option<(NaiveDate, &'a [Option<f64>])>,
        at_least: Option<f64>,
        at_most: Option<f64>,
    },
    Event {
        event: &'a str,
        since: NaiveDate,
        within_days: u32,
        min_count: u32,
    },
    Attribute {
        attribute: &'a str,
        values: &'a [String],
    },
}

fn prepare<'a>(condition: &'a Condition, inputs: &RuleInputs<'a>) -> Prepared<'a> {
    match condition {
        Condition::Threshold {
            source,
            at_least,
            at_most,
        } => Prepared::Threshold {
            source,
            resolved: inputs.values.resolve(source),
            at_least: *at_least,
            at_most: *at_most,
        },
        Condition::Change {
            source,
            days,
            at_least,
            at_most,
        } => Prepared::Change {
            source,
            days: *days,
            resolved: inputs.values.resolve(source),
            past: inputs
                .past
                .get(days)
                .and_then(|p| Some((p.date, p.values.column(source)?))),
            at_least: *at_least,
            at_most: *at_most,
        },
        Condition::Event {
            event,
            within_days,
            min_count,
        } => Prepared::Event {
            event,
            // An event `within_days` of D is dated after D - within_days.
            since: inputs
                .as_of
                .checked_sub_days(Days::new(u64::from(*within_days)))
                .unwrap_or(NaiveDate::MIN),
            within_days: *within_days,
            min_count: *min_count,
        },
        Condition::Attribute { attribute, values } => Prepared::Attribute { attribute, values },
    }
}

fn holds(prepared: &Prepared<'_>, inputs: &RuleInputs<'_>, account: usize) -> Option<Evidence> {
    let number = coco_insights::format::number;
    match prepared {
        Prepared::Threshold {
            source,
            resolved,
            at_least,
            at_most,
        } => {
            let value = inputs.values.get(*resolved, account)?;
            within(value, *at_least, *at_most).then(|| {
                let threshold = bounds_text(*at_least, *at_most);
                Evidence {
                    text: format!("{source} is {} ({threshold})", number(value)),
                    source: Some(source.to_string()),
                    value: Some(value),
                    previous: None,
                    previous_date: None,
                    threshold,
                    events: Vec::new(),
                }
            })
        }
        Prepared::Change {
            source,
            days,
            resolved,
            past,
            at_least,
            at_most,
        } => {
            let (date, column) = (*past)?;
            let now = inputs.values.get(*resolved, account)?;
            let before = column.get(account).copied().flatten()?;
            let change = now - before;
            within(change, *at_least, *at_most).then(|| {
                let threshold = bounds_text(*at_least, *at_most);
                let verb = if change < 0.0 { "fell" } else { "rose" };
                Evidence {
                    text: format!(
                        "{source} {verb} {} in {days} days ({} on {date} → {}; change {threshold})",
                        number(change.abs()),
                        number(before),
                        number(now)
                    ),
                    source: Some(source.to_string()),
                    value: Some(now),
                    previous: Some(before),
                    previous_date: Some(date),
                    threshold,
                    events: Vec::new(),
                }
            })
        }
        Prepared::Event {
            event,
            since,
            within_days,
            min_count,
        } => {
            let found: Vec<AccountEvent> = inputs
                .events
                .get(account)?
                .iter()
                .filter(|e| e.kind == *event && e.on > *since && e.on <= inputs.as_of)
                .cloned()
                .collect();
            (found.len() >= *min_count as usize).then(|| {
                let last = found.iter().map(|e| e.on).max().unwrap_or(inputs.as_of);
                Evidence {
                    text: format!(
                        "{} {event} event{} in the last {within_days} days (latest {last}: {})",
                        found.len(),
                        if found.len() == 1 { "" } else { "s" },
                        found.last().map_or("", |e| e.detail.as_str())
                    ),
                    source: None,
                    value: Some(found.len() as f64),
                    previous: None,
                    previous_date: None,
                    threshold: format!("≥ {min_count}"),
                    events: found,
                }
            })
        }
        Prepared::Attribute { attribute, values } => {
            let value = inputs.values.text(attribute, account)?;
            values.iter().any(|v| v == value).then(|| Evidence {
                text: format!("{attribute} is {value}"),
                source: Some(attribute.to_string()),
                value: None,
                previous: None,
                previous_date: None,
                threshold: format!("one of {}", values.join(", ")),
                events: Vec::new(),
            })
        }
    }
}

/// Every rule over every account of the frame, in (account, rule) order.
pub fn evaluate(config: &AlertsConfig, inputs: &RuleInputs<'_>) -> Vec<Firing> {
    let prepared: Vec<(Vec<Prepared<'_>>, Vec<Prepared<'_>>)> = config
        .rules
        .iter()
        .map(|rule| {
            (
                rule.when.iter().map(|c| prepare(c, inputs)).collect(),
                rule.when_any.iter().map(|c| prepare(c, inputs)).collect(),
            )
        })
        .collect();
    let count = inputs.values.frame.account_count();
    map_ordered(count, 2_000, |account| {
        let mut firings = Vec::new();
        'rules: for (rule, (all, any)) in prepared.iter().enumerate() {
            let mut evidence = Vec::with_capacity(all.len() + 1);
            for condition in all {
                match holds(condition, inputs, account) {
                    Some(e) => evidence.push(e),
                    None => continue 'rules,
                }
            }
            if !any.is_empty() {
                let held: Vec<Evidence> = any
                    .iter()
                    .filter_map(|c| holds(c, inputs, account))
                    .collect();
                if held.is_empty() {
                    continue;
                }
                evidence.extend(held);
            }
            firings.push(Firing {
                rule,
                account,
                evidence,
            });
        }
        firings
    })
    .into_iter()
    .flatten()
    .collect()
}
