//! The usage signals of expansion readiness (E1). Each one is a rule over the account's
//! snapshot, its weekly history, its per-feature usage and its tickets and feedback,
//! configured in `config/expansion.toml`, and each carries the numbers behind it.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{ExpansionConfig, ExpansionInputs, ItemSource, OpportunityKind};
use crate::format::{median, percent};

/// Which rule produced a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    SeatPressure,
    TierFit,
    PowerUsers,
    UsageGrowth,
    ModuleGap,
    NewTeam,
    CrossSell,
}

impl SignalKind {
    pub const ALL: [SignalKind; 7] = [
        SignalKind::SeatPressure,
        SignalKind::TierFit,
        SignalKind::PowerUsers,
        SignalKind::UsageGrowth,
        SignalKind::ModuleGap,
        SignalKind::NewTeam,
        SignalKind::CrossSell,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            SignalKind::SeatPressure => "seat_pressure",
            SignalKind::TierFit => "tier_fit",
            SignalKind::PowerUsers => "power_users",
            SignalKind::UsageGrowth => "usage_growth",
            SignalKind::ModuleGap => "module_gap",
            SignalKind::NewTeam => "new_team",
            SignalKind::CrossSell => "cross_sell",
        }
    }

    pub fn parse(text: &str) -> Option<SignalKind> {
        SignalKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A stored row a signal rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceRow {
    pub table: String,
    pub id: String,
}

/// One number (or row) behind a signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub label: String,
    /// The catalogue metric, when the value is one.
    pub metric: Option<String>,
    pub value: Option<f64>,
    /// The value in its unit, as shown.
    pub display: String,
    pub date: Option<NaiveDate>,
    pub source: Option<SourceRow>,
}

impl Evidence {
    fn metric(label: &str, metric: &str, value: f64, display: String, date: NaiveDate) -> Self {
        Evidence {
            label: label.to_string(),
            metric: Some(metric.to_string()),
            value: Some(value),
            display,
            date: Some(date),
            source: None,
        }
    }

    fn number(label: &str, value: f64, display: String) -> Self {
        Evidence {
            label: label.to_string(),
            metric: None,
            value: Some(value),
            display,
            date: None,
            source: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signal {
    pub kind: SignalKind,
    pub target: super::OpportunityKind,
    /// 0–1: how far past its threshold the signal is.
    pub strength: f64,
    /// One sentence with the account's numbers.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// Seat pressure: when active users reach the seats at the current trend.
    pub projected_limit: Option<NaiveDate>,
}

/// What signals compare an account with: the segment's growth over the same days.
pub struct PortfolioContext {
    segment_growth: BTreeMap<String, f64>,
    growth_metric: Option<usize>,
}

impl PortfolioContext {
    pub fn new(inputs: &ExpansionInputs<'_>, config: &ExpansionConfig) -> PortfolioContext {
        let frame = inputs.frame;
        let growth = &config.signals.usage_growth;
        let growth_metric = frame.metric_index(&growth.metric);
        let events = frame.metric_index("events_30d");
        let mut by_segment: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        if let Some(metric) = growth_metric {
            for (account, row) in frame.accounts.iter().enumerate() {
                let busy = events
                    .and_then(|e| frame.value(account, e))
                    .is_some_and(|v| v >= growth.min_events);
                if let (true, Some(value)) = (busy, frame.value(account, metric)) {
                    let segment = row
                        .attributes
                        .get("segment")
                        .and_then(|s| s.as_text())
                        .unwrap_or("")
                        .to_string();
                    by_segment.entry(segment).or_default().push(value);
                }
            }
        }
        let segment_growth = by_segment
            .into_iter()
            .filter_map(|(segment, mut values)| median(&mut values).map(|m| (segment, m)))
            .collect();
        PortfolioContext {
            segment_growth,
            growth_metric,
        }
    }
}

struct Account<'i, 'a> {
    inputs: &'i ExpansionInputs<'a>,
    index: usize,
}

impl Account<'_, '_> {
    fn metric(&self, name: &str) -> Option<f64> {
        let frame = self.inputs.frame;
        frame
            .metric_index(name)
            .and_then(|m| frame.value(self.index, m))
    }

    fn as_of(&self) -> NaiveDate {
        self.inputs.frame.as_of
    }
}

/// Every signal that fires for one account.
pub fn detect(
    inputs: &ExpansionInputs<'_>,
    config: &ExpansionConfig,
    context: &PortfolioContext,
    account: usize,
) -> Vec<Signal> {
    let a = Account {
        inputs,
        index: account,
    };
    let signals = &config.signals;
    let mut found = Vec::new();
    if signals.seat_pressure.enabled {
        found.extend(seat_pressure(&a, config));
    }
    if signals.tier_fit.enabled {
        found.extend(tier_fit(&a, config));
    }
    if signals.power_users.enabled {
        found.extend(power_users(&a, config));
    }
    if signals.usage_growth.enabled {
        found.extend(usage_growth(&a, config, context));
    }
    if signals.module_gap.enabled {
        found.extend(module_gaps(&a, config));
    }
    if signals.new_team.enabled {
        found.extend(new_team(&a, config));
    }
    if let Some(propensities) = inputs.cross_sell.get(account) {
        found.extend(propensities.iter().filter_map(|p| p.signal()));
    }
    found
}

const UTILISATION: &str = "seat_utilisation_30d";
const ACTIVE_USERS: &str = "active_users_30d";

/// The seat measure of an account: (utilisation metric, users metric, utilisation now),
/// licence utilisation when the users file has the account, else active utilisation.
pub(crate) fn seat_measure<'c>(
    config: &'c ExpansionConfig,
    frame: &crate::frame::SnapshotFrame,
    account: usize,
) -> Option<(&'c str, &'c str, f64)> {
    let rule = &config.signals.seat_pressure;
    let value = |name: &str| {
        frame
            .metric_index(name)
            .and_then(|m| frame.value(account, m))
    };
    match value(&rule.metric) {
        Some(now) => Some((rule.metric.as_str(), rule.users_metric.as_str(), now)),
        None => value(&rule.fallback_metric).map(|now| {
            (
                rule.fallback_metric.as_str(),
                rule.fallback_users_metric.as_str(),
                now,
            )
        }),
    }
}

/// Utilisation at or above the threshold in each of the last `min_weeks` weekly
/// snapshots (the latest included), and when the seats run out at the current trend.
fn seat_pressure(a: &Account<'_, '_>, config: &ExpansionConfig) -> Option<Signal> {
    let rule = &config.signals.seat_pressure;
    let (metric, users_metric, now) = seat_measure(config, a.inputs.frame, a.index)?;
    if now < rule.threshold {
        return None;
    }
    let mut points = a.inputs.history.series(metric, a.index);
    points.push((a.as_of(), now));
    // Count back over snapshots no more than 10 days apart: a weekly cadence with slack.
    let mut weeks = 0;
    let mut next_date = a.as_of() + Days::new(1);
    let mut run_start = a.as_of();
    for (date, value) in points.iter().rev() {
        if value < &rule.threshold || (next_date - *date).num_days() > 10 {
            break;
        }
        weeks += 1;
        next_date = *date;
        run_start = *date;
    }
    if weeks < rule.min_weeks {
        return None;
    }
    let seats = a.inputs.holdings[a.index].seats.filter(|s| *s > 0.0)?;
    let users = a.metric(users_metric).unwrap_or(now * seats);
    let mut trend = a.inputs.history.series(users_metric, a.index);
    trend.push((a.as_of(), users));
    let recent: Vec<(NaiveDate, f64)> = trend
        .iter()
        .rev()
        .take(rule.trend_weeks.max(2))
        .rev()
        .copied()
        .collect();
    let slope = slope_per_day(&recent);
    let projected_limit = if users >= seats {
        Some(a.as_of())
    } else {
        slope
            .filter(|s| *s > 1e-9)
            .map(|s| ((seats - users) / s).ceil() as u64)
            .filter(|days| *days <= 730)
            .map(|days| a.as_of() + Days::new(days))
    };
    let strength = ((now - rule.threshold) / (1.0 - rule.threshold).max(0.05)).clamp(0.2, 1.0);
    let limit_text = match projected_limit {
        Some(_) if users >= seats => "; every seat is taken".to_string(),
        Some(date) => format!("; at the current trend the seats run out around {date}"),
        None => String::new(),
    };
    let (what, users_label) = if metric == rule.metric {
        ("Seat utilisation", "users provisioned")
    } else {
        ("Seat utilisation (30-day active users)", "active users")
    };
    let summary = format!(
        "{what} has been at or above {} for {weeks} week{} ({} on {}); {users:.0} {users_label} on {seats:.0} seats{limit_text}.",
        percent(rule.threshold),
        if weeks == 1 { "" } else { "s" },
        percent(now),
        a.as_of(),
    );
    let mut evidence = vec![
        Evidence::metric("seat utilisation", metric, now, percent(now), a.as_of()),
        Evidence::metric(
            users_label,
            users_metric,
            users,
            format!("{users:.0}"),
            a.as_of(),
        ),
        Evidence::number("seats", seats, format!("{seats:.0}")),
        Evidence::number(
            "weeks at or above the threshold",
            weeks as f64,
            format!("{weeks} (since {run_start})"),
        ),
    ];
    for (date, value) in points.iter().rev().take(weeks).rev() {
        evidence.push(Evidence::metric(
            "weekly utilisation",
            metric,
            *value,
            percent(*value),
            *date,
        ));
    }
    if let Some(slope) = slope {
        evidence.push(Evidence::number(
            "user trend",
            slope * 7.0,
            format!("{:+.1} users a week", slope * 7.0),
        ));
    }
    Some(Signal {
        kind: SignalKind::SeatPressure,
        target: OpportunityKind::Seats,
        strength,
        summary,
        evidence,
        projected_limit,
    })
}

/// Least-squares slope of value over days; None with fewer than two distinct dates.
fn slope_per_day(points: &[(NaiveDate, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let origin = points[0].0;
    let xs: Vec<f64> = points
        .iter()
        .map(|(d, _)| (*d - origin).num_days() as f64)
        .collect();
    let n = points.len() as f64;
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, v)| v).sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mean_x).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = xs
        .iter()
        .zip(points)
        .map(|(x, (_, y))| (x - mean_x) * (y - mean_y))
        .sum();
    Some(sxy / sxx)
}

/// Broad use of the current tier plus a reach for the next one: trial use of features
/// only a higher tier includes, or use of the modules the next tier extends.
fn tier_fit(a: &Account<'_, '_>, config: &ExpansionConfig) -> Option<Signal> {
    let rule = &config.signals.tier_fit;
    let usage = a.inputs.usage;
    let tier_name = a.inputs.holdings[a.index].plan_tier.as_deref()?;
    let tier = config.tier_rank(tier_name)?;
    let next = config.price_book.tiers.get(tier + 1)?.clone();
    let row = usage.of(a.index);
    let entitled: Vec<_> = row.iter().filter(|u| u.entitled).collect();
    if entitled.is_empty() {
        return None;
    }
    let used = entitled.iter().filter(|u| u.used()).count();
    let breadth = used as f64 / entitled.len() as f64;
    if breadth < rule.min_breadth {
        return None;
    }
    let trial: Vec<_> = row
        .iter()
        .filter(|u| !u.entitled && u.used() && usage.features[u.feature].tier > tier)
        .collect();
    let trial_events: f64 = trial.iter().map(|u| u.events).sum();
    // Modules in which the next tier adds features, and how many of their current
    // features the account uses.
    let next_tier_modules: Vec<&str> = usage
        .features
        .iter()
        .filter(|f| f.tier == tier + 1)
        .map(|f| f.module.as_str())
        .collect();
    let related = entitled
        .iter()
        .filter(|u| {
            u.used() && next_tier_modules.contains(&usage.features[u.feature].module.as_str())
        })
        .count();
    let trial_fires = trial_events >= rule.min_trial_events;
    if !trial_fires && related < rule.min_next_tier_related {
        return None;
    }
    let gained: Vec<&str> = usage
        .features
        .iter()
        .filter(|f| f.tier == tier + 1)
        .map(|f| f.name.as_str())
        .collect();
    let mut evidence = vec![
        Evidence::number(
            "breadth of the current tier",
            breadth,
            format!(
                "{} ({used} of {} features)",
                percent(breadth),
                entitled.len()
            ),
        ),
        Evidence::number(
            "features used in modules the next tier extends",
            related as f64,
            related.to_string(),
        ),
    ];
    for u in &trial {
        let feature = &usage.features[u.feature];
        evidence.push(Evidence {
            label: format!(
                "trial use of {} ({} tier)",
                feature.name,
                tier_label(config, feature.tier)
            ),
            metric: None,
            value: Some(u.events),
            display: format!("{:.0} events", u.events),
            date: u.last_used,
            source: Some(SourceRow {
                table: "usage".into(),
                id: feature.key.clone(),
            }),
        });
    }
    let reach = if trial_fires {
        format!(
            "and tried {} feature{} of a higher tier ({:.0} events)",
            trial.len(),
            if trial.len() == 1 { "" } else { "s" },
            trial_events
        )
    } else {
        format!("including {related} in modules the {next} tier extends")
    };
    let strength = (0.5 * (breadth - rule.min_breadth) / (1.0 - rule.min_breadth).max(0.05)
        + if trial_fires { 0.5 } else { 0.3 })
    .clamp(0.2, 1.0);
    Some(Signal {
        kind: SignalKind::TierFit,
        target: OpportunityKind::Tier { to: next.clone() },
        strength,
        summary: format!(
            "Uses {used} of the {} features of the {tier_name} tier ({}) {reach}; {next} adds {}.",
            entitled.len(),
            percent(breadth),
            if gained.is_empty() {
                "no listed features".to_string()
            } else {
                gained.join(", ")
            }
        ),
        evidence,
        projected_limit: None,
    })
}

fn tier_label(config: &ExpansionConfig, rank: usize) -> String {
    config
        .price_book
        .tiers
        .get(rank)
        .cloned()
        .unwrap_or_else(|| format!("tier {}", rank + 1))
}

/// A few users carry the product while seats are free: room for a wider roll-out.
fn power_users(a: &Account<'_, '_>, config: &ExpansionConfig) -> Option<Signal> {
    let rule = &config.signals.power_users;
    let users = a.metric(ACTIVE_USERS)?;
    if users < rule.min_active_users {
        return None;
    }
    let top_share = a.metric("top_user_share_30d");
    let gini = a.metric("user_gini_30d");
    let concentrated = top_share.is_some_and(|s| s >= rule.min_top_share)
        || gini.is_some_and(|g| g >= rule.min_gini);
    if !concentrated {
        return None;
    }
    let utilisation = a.metric(UTILISATION);
    if utilisation.is_some_and(|u| u > rule.max_seat_utilisation) {
        return None;
    }
    let mut evidence = vec![Evidence::metric(
        "active users (30 days)",
        ACTIVE_USERS,
        users,
        format!("{users:.0}"),
        a.as_of(),
    )];
    if let Some(share) = top_share {
        evidence.push(Evidence::metric(
            "share of activity by the top 20% of users",
            "top_user_share_30d",
            share,
            percent(share),
            a.as_of(),
        ));
    }
    if let Some(gini) = gini {
        evidence.push(Evidence::metric(
            "Gini of activity over users",
            "user_gini_30d",
            gini,
            format!("{gini:.2}"),
            a.as_of(),
        ));
    }
    if let Some(u) = utilisation {
        evidence.push(Evidence::metric(
            "seat utilisation (30 days)",
            UTILISATION,
            u,
            percent(u),
            a.as_of(),
        ));
    }
    let over = top_share.map_or(0.0, |s| {
        (s - rule.min_top_share) / (1.0 - rule.min_top_share).max(0.05)
    });
    Some(Signal {
        kind: SignalKind::PowerUsers,
        target: OpportunityKind::Seats,
        strength: (0.3 + 0.7 * over).clamp(0.2, 1.0),
        summary: format!(
            "The most active 20% of its {users:.0} users make {} of the activity{}{}: a small group carries the product, so a wider roll-out is open.",
            top_share.map_or("most".to_string(), percent),
            gini.map_or(String::new(), |g| format!(" (Gini {g:.2})")),
            utilisation.map_or(String::new(), |u| format!(
                ", with seat utilisation at {}",
                percent(u)
            )),
        ),
        evidence,
        projected_limit: None,
    })
}

/// Growth over 30 days beyond what the segment saw over the same days and beyond the
/// account's own change a year earlier (seasonality).
fn usage_growth(
    a: &Account<'_, '_>,
    config: &ExpansionConfig,
    context: &PortfolioContext,
) -> Option<Signal> {
    let rule = &config.signals.usage_growth;
    context.growth_metric?;
    let growth = a.metric(&rule.metric)?;
    let events = a.metric("events_30d").unwrap_or(0.0);
    if growth < rule.min_growth || events < rule.min_events {
        return None;
    }
    // The 30 days before: events ÷ (1 + growth).
    if events / (1.0 + growth) < rule.min_base_events {
        return None;
    }
    let segment = a.inputs.frame.accounts[a.index]
        .attributes
        .get("segment")
        .and_then(|s| s.as_text())
        .unwrap_or("");
    let segment_growth = context.segment_growth.get(segment).copied();
    // The account's own growth over the same 30 days a year before, from the snapshot
    // nearest to a year back (within two weeks).
    let year_ago = a
        .inputs
        .history
        .series(&rule.metric, a.index)
        .into_iter()
        .filter(|(date, _)| ((a.as_of() - *date).num_days() - 365).abs() <= 14)
        .min_by_key(|(date, _)| ((a.as_of() - *date).num_days() - 365).abs());
    let seasonal = segment_growth
        .unwrap_or(0.0)
        .max(year_ago.map_or(0.0, |(_, g)| g))
        .max(0.0);
    let adjusted = (1.0 + growth) / (1.0 + seasonal) - 1.0;
    if adjusted < rule.min_growth {
        return None;
    }
    let mut evidence = vec![
        Evidence::metric(
            "change in 30-day events",
            &rule.metric,
            growth,
            signed_percent(growth),
            a.as_of(),
        ),
        Evidence::metric(
            "events (30 days)",
            "events_30d",
            events,
            format!("{events:.0}"),
            a.as_of(),
        ),
        Evidence::number(
            "growth after the seasonal part",
            adjusted,
            signed_percent(adjusted),
        ),
    ];
    if let Some(g) = segment_growth {
        evidence.push(Evidence::number(
            &format!(
                "median change of {} peers",
                if segment.is_empty() { "all" } else { segment }
            ),
            g,
            signed_percent(g),
        ));
    }
    if let Some((date, g)) = year_ago {
        evidence.push(Evidence::metric(
            "the account's change a year earlier",
            &rule.metric,
            g,
            signed_percent(g),
            date,
        ));
    }
    Some(Signal {
        kind: SignalKind::UsageGrowth,
        target: OpportunityKind::Seats,
        strength: (adjusted / (2.0 * rule.min_growth)).clamp(0.2, 1.0),
        summary: format!(
            "Product activity grew {} in 30 days ({events:.0} events), {} after the seasonal part ({} for peers over the same days{}).",
            signed_percent(growth),
            signed_percent(adjusted),
            signed_percent(segment_growth.unwrap_or(0.0)),
            year_ago.map_or(String::new(), |(_, g)| format!(
                ", {} for the account a year ago",
                signed_percent(g)
            )),
        ),
        evidence,
        projected_limit: None,
    })
}

fn signed_percent(value: f64) -> String {
    format!("{:+.0}%", value * 100.0).replace('-', "−")
}

/// Tickets and feature requests a module the account lacks would solve, and heavy use
/// of the features it would automate.
fn module_gaps(a: &Account<'_, '_>, config: &ExpansionConfig) -> Vec<Signal> {
    let rule = &config.signals.module_gap;
    let holding = &a.inputs.holdings[a.index];
    let usage = a.inputs.usage;
    let items = a
        .inputs
        .items
        .get(a.index)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let since = a.as_of() - Days::new(u64::from(rule.window_days));
    let mut found = Vec::new();
    for map in &rule.map {
        if holding.products.iter().any(|p| p == &map.module) {
            continue;
        }
        let module_features: Vec<&str> = usage
            .features
            .iter()
            .filter(|f| f.module == map.module)
            .map(|f| f.key.as_str())
            .collect();
        let matching: Vec<_> = items
            .iter()
            .filter(|item| item.date > since && item.date <= a.as_of())
            .filter(|item| match item.source {
                ItemSource::Ticket => {
                    let text = item.text.to_lowercase();
                    item.category
                        .as_ref()
                        .is_some_and(|c| map.ticket_categories.contains(c))
                        || map
                            .subject_keywords
                            .iter()
                            .any(|k| text.contains(&k.to_lowercase()))
                }
                ItemSource::Feedback => {
                    item.category.as_deref() == Some("feature_request")
                        && item
                            .feature_key
                            .as_deref()
                            .is_some_and(|k| module_features.contains(&k))
                }
            })
            .collect();
        let workaround: Vec<(&str, f64)> = usage
            .of(a.index)
            .iter()
            .filter(|u| {
                map.workaround_features
                    .contains(&usage.features[u.feature].key)
            })
            .filter(|u| u.events > 0.0)
            .map(|u| (usage.features[u.feature].name.as_str(), u.events))
            .collect();
        let workaround_events: f64 = workaround.iter().map(|(_, e)| e).sum();
        let all_events: f64 = usage.of(a.index).iter().map(|u| u.events).sum();
        let workaround_share = if all_events > 0.0 {
            workaround_events / all_events
        } else {
            0.0
        };
        let items_fire = matching.len() >= rule.min_items;
        // Heavy in absolute terms and a large part of what the account does: a big
        // account exporting a lot among much else is not working around anything.
        let workaround_fires = map.min_workaround_events > 0.0
            && workaround_events >= map.min_workaround_events
            && workaround_share >= map.min_workaround_share;
        if !items_fire && !workaround_fires {
            continue;
        }
        let mut evidence: Vec<Evidence> = matching
            .iter()
            .map(|item| Evidence {
                label: match item.source {
                    ItemSource::Ticket => format!(
                        "ticket ({})",
                        item.category.as_deref().unwrap_or("no category")
                    ),
                    ItemSource::Feedback => "feature request".to_string(),
                },
                metric: None,
                value: None,
                display: item.text.clone(),
                date: Some(item.date),
                source: Some(SourceRow {
                    table: match item.source {
                        ItemSource::Ticket => "tickets".into(),
                        ItemSource::Feedback => "feedback".into(),
                    },
                    id: item.id.clone(),
                }),
            })
            .collect();
        for (name, events) in &workaround {
            evidence.push(Evidence::number(
                &format!("use of {name} (workaround, {} days)", usage.window_days),
                *events,
                format!("{events:.0} events"),
            ));
        }
        if workaround_fires {
            evidence.push(Evidence::number(
                "share of the account's activity",
                workaround_share,
                percent(workaround_share),
            ));
        }
        let mut reasons = Vec::new();
        if !matching.is_empty() {
            reasons.push(format!(
                "{} ticket{} or request{} in {} days that the {} module addresses",
                matching.len(),
                if matching.len() == 1 { "" } else { "s" },
                if matching.len() == 1 { "" } else { "s" },
                rule.window_days,
                map.module
            ));
        }
        if workaround_fires {
            reasons.push(format!(
                "{workaround_events:.0} events of manual work it would automate ({})",
                workaround
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let strength = (if items_fire { 0.5 } else { 0.0 }
            + if workaround_fires { 0.4 } else { 0.0 }
            + 0.05 * matching.len() as f64)
            .clamp(0.2, 1.0);
        found.push(Signal {
            kind: SignalKind::ModuleGap,
            target: OpportunityKind::Module {
                module: map.module.clone(),
            },
            strength,
            summary: format!(
                "Does not hold {}, but has {}.",
                map.module,
                reasons.join(", and ")
            ),
            evidence,
            projected_limit: None,
        });
    }
    found
}

/// A department started using the product in the window.
fn new_team(a: &Account<'_, '_>, config: &ExpansionConfig) -> Option<Signal> {
    let rule = &config.signals.new_team;
    let new = a.metric(&rule.metric)?;
    if new < rule.min_new {
        return None;
    }
    let departments = a.metric("departments_90d");
    let mut evidence = vec![Evidence::metric(
        "new departments (90 days)",
        &rule.metric,
        new,
        format!("{new:.0}"),
        a.as_of(),
    )];
    if let Some(d) = departments {
        evidence.push(Evidence::metric(
            "departments using the product (90 days)",
            "departments_90d",
            d,
            format!("{d:.0}"),
            a.as_of(),
        ));
    }
    Some(Signal {
        kind: SignalKind::NewTeam,
        target: OpportunityKind::Seats,
        strength: (0.4 + 0.2 * new).clamp(0.2, 1.0),
        summary: format!(
            "{new:.0} new department{} started using the product in the last 90 days{}.",
            if new == 1.0 { "" } else { "s" },
            departments.map_or(String::new(), |d| format!(" ({d:.0} in all)"))
        ),
        evidence,
        projected_limit: None,
    })
}
