//! Temporary dip or structural decline? A rule over one declining metric of one account.
//!
//! Everything is measured in the metric's *good direction*: for a lower-is-better metric
//! (days since the last touchpoint, open tickets) a rise is a decline. The **worsening**
//! from `a` to `b` is the relative change against the good direction:
//!
//! ```text
//! higher is better: (a − b) ÷ |a|        lower is better: (b − a) ÷ |a|
//! ```
//!
//! (when `a` is 0 the denominator is `|b|`, so going from 0 to anything worse counts as
//! a 100% worsening; neutral metrics never decline). With the thresholds of
//! [`DeclineRule`] (defaults in brackets):
//!
//! 1. **Decline.** The account worsened by at least `min_decline` [10%] between the two
//!    snapshots; otherwise: *not a decline*.
//! 2. **Shared by the cohort.** The cohort's median worsened by at least `cohort_share`
//!    [50%] of the account's worsening over the same dates (unknown without medians).
//! 3. **Seasonal.** The account's own values one year earlier, over the same calendar
//!    dates, worsened by at least `season_share` [50%] of this worsening (unknown without
//!    last year's values).
//! 4. **Sustained.** The latest points of the series are, consecutively, at least
//!    `min_decline` worse than the earlier snapshot's value, at least `sustained_points`
//!    [3] of them, spanning at least `sustained_days` [21] days from the first to the last
//!    of them (four weekly snapshots; a missing point breaks the run).
//! 5. **Recovering.** The latest point has regained at least `recovery_share` [25%] of the
//!    drop from the earlier snapshot's value to the series' worst point.
//!
//! **Classification**, in order: not a decline (1); *temporary dip* when shared by the
//! cohort, seasonal, or recovering without being sustained; *structural decline* when
//! sustained and not recovering; otherwise *too early to tell*.
//!
//! Why these rules: a holiday drop hits the whole cohort (and last year) at once, so a
//! decline the peers share is not the account's problem; a single bad week may be noise;
//! a decline that holds for weeks while peers are flat is what churn looks like.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::frame::Direction;
use crate::health::config::{ConfigError, ConfigProblem};

/// Thresholds of the decline rule (the `[decline_rule]` table of the health
/// configuration; every key optional).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeclineRule {
    /// Smallest relative worsening that counts as a decline (0.10 = 10%).
    pub min_decline: f64,
    /// The cohort median must worsen by at least this share of the account's worsening
    /// for the decline to count as shared.
    pub cohort_share: f64,
    /// Last year's values over the same dates must worsen by at least this share of the
    /// account's worsening for the decline to count as seasonal.
    pub season_share: f64,
    /// Consecutive latest points that must be in decline for it to be sustained.
    pub sustained_points: u32,
    /// Days those points must span (first to last).
    pub sustained_days: u32,
    /// Share of the drop to the worst point the latest point must have regained for the
    /// metric to be recovering.
    pub recovery_share: f64,
}

impl Default for DeclineRule {
    fn default() -> Self {
        DeclineRule {
            min_decline: 0.10,
            cohort_share: 0.5,
            season_share: 0.5,
            sustained_points: 3,
            sustained_days: 21,
            recovery_share: 0.25,
        }
    }
}

impl DeclineRule {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("min_decline", self.min_decline),
            ("cohort_share", self.cohort_share),
            ("season_share", self.season_share),
        ];
        for (field, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(out_of_range(field, "a positive number", value));
            }
        }
        if !(self.recovery_share > 0.0 && self.recovery_share <= 1.0) {
            return Err(out_of_range(
                "recovery_share",
                "above 0 and at most 1",
                self.recovery_share,
            ));
        }
        if self.sustained_points == 0 {
            return Err(out_of_range("sustained_points", "at least 1", 0.0));
        }
        Ok(())
    }
}

fn out_of_range(field: &'static str, expected: &'static str, value: f64) -> ConfigError {
    ConfigError::Invalid {
        at: format!("decline_rule.{field}"),
        problem: ConfigProblem::OutOfRange {
            field,
            expected,
            value,
        },
    }
}

/// The evidence about one metric of one account that declined between two snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeclineEvidence {
    pub metric: String,
    pub direction: Direction,
    /// The account's values at consecutive snapshots ending at the later snapshot
    /// (oldest first), e.g. weekly. `None` = missing at that date.
    pub series: Vec<(NaiveDate, Option<f64>)>,
    /// Dates of the two snapshots being compared.
    pub date_before: NaiveDate,
    pub date_after: NaiveDate,
    pub value_before: f64,
    pub value_after: f64,
    /// The account's cohort median at the two snapshots.
    pub cohort_median_before: Option<f64>,
    pub cohort_median_after: Option<f64>,
    /// The account's own values for the same calendar dates one year earlier.
    pub last_year_before: Option<f64>,
    pub last_year_after: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeclineKind {
    /// Shared by the cohort, seasonal, or already recovering: no action on its own.
    TemporaryDip,
    /// Sustained, not recovering, and the account's own: act on it.
    StructuralDecline,
    /// A decline, but not yet long enough to call.
    TooEarlyToTell,
    /// Worsened by less than `min_decline`, improved, or a neutral metric.
    NotADecline,
}

impl DeclineKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            DeclineKind::TemporaryDip => "temporary_dip",
            DeclineKind::StructuralDecline => "structural_decline",
            DeclineKind::TooEarlyToTell => "too_early_to_tell",
            DeclineKind::NotADecline => "not_a_decline",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeclineAssessment {
    pub kind: DeclineKind,
    /// The account's relative worsening between the snapshots (0.25 = 25% worse);
    /// `None` for a neutral metric or non-finite values.
    pub worsening: Option<f64>,
    /// `None` without cohort medians.
    pub shared_by_cohort: Option<bool>,
    /// `None` without last year's values.
    pub seasonal: Option<bool>,
    pub sustained: bool,
    pub recovering: bool,
    /// Human sentences citing the numbers and dates behind each finding.
    pub reasons: Vec<String>,
}

/// Relative worsening from `a` to `b` in the good direction (module docs). `None` for a
/// neutral metric or non-finite values.
pub fn worsening(direction: Direction, a: f64, b: f64) -> Option<f64> {
    if !a.is_finite() || !b.is_finite() {
        return None;
    }
    let loss = match direction {
        Direction::HigherIsBetter => a - b,
        Direction::LowerIsBetter => b - a,
        Direction::Neutral => return None,
    };
    let scale = if a != 0.0 { a.abs() } else { b.abs() };
    Some(if scale == 0.0 { 0.0 } else { loss / scale })
}

/// Applies the decline rule (module docs) to one metric's evidence.
pub fn assess_decline(e: &DeclineEvidence, rule: &DeclineRule) -> DeclineAssessment {
    let mut reasons = Vec::new();
    let not_a_decline = |worsening, reasons| DeclineAssessment {
        kind: DeclineKind::NotADecline,
        worsening,
        shared_by_cohort: None,
        seasonal: None,
        sustained: false,
        recovering: false,
        reasons,
    };
    let Some(decline) = worsening(e.direction, e.value_before, e.value_after) else {
        reasons.push(format!(
            "{} is {}: it has no good direction to decline in",
            e.metric,
            if e.direction == Direction::Neutral {
                "neutral"
            } else {
                "not a finite number at both snapshots"
            }
        ));
        return not_a_decline(None, reasons);
    };
    let direction_note = match e.direction {
        Direction::LowerIsBetter => " (lower is better)",
        _ => "",
    };
    reasons.push(format!(
        "{}{} went from {} on {} to {} on {}: {}",
        e.metric,
        direction_note,
        number(e.value_before),
        e.date_before,
        number(e.value_after),
        e.date_after,
        describe_worsening(decline)
    ));
    if decline < rule.min_decline {
        reasons.push(format!(
            "below the {} threshold for a decline",
            percent(rule.min_decline)
        ));
        return not_a_decline(Some(decline), reasons);
    }

    let shared_by_cohort = shared(
        e.direction,
        e.cohort_median_before,
        e.cohort_median_after,
        decline * rule.cohort_share,
    );
    reasons.push(match (shared_by_cohort, e.cohort_median_before, e.cohort_median_after) {
        (Some((is_shared, cohort)), Some(before), Some(after)) => format!(
            "the cohort median went from {} to {} over the same dates ({}): {}",
            number(before),
            number(after),
            describe_worsening(cohort),
            if is_shared {
                format!(
                    "at least {} of the account's decline, so the cohort shares it",
                    percent(rule.cohort_share)
                )
            } else {
                format!(
                    "less than {} of the account's decline, so the decline is the account's own",
                    percent(rule.cohort_share)
                )
            }
        ),
        _ => "no cohort medians for both dates: whether peers share the decline is unknown".into(),
    });

    let seasonal = shared(
        e.direction,
        e.last_year_before,
        e.last_year_after,
        decline * rule.season_share,
    );
    reasons.push(match (seasonal, e.last_year_before, e.last_year_after) {
        (Some((is_seasonal, last_year)), Some(before), Some(after)) => format!(
            "a year earlier, over the same dates, it went from {} to {} ({}): {}",
            number(before),
            number(after),
            describe_worsening(last_year),
            if is_seasonal {
                "a seasonal pattern"
            } else {
                "not a seasonal pattern"
            }
        ),
        _ => "no values from a year earlier: whether the decline is seasonal is unknown".into(),
    });

    let (sustained, sustained_reason) = sustained(e, rule);
    reasons.push(sustained_reason);
    let (recovering, recovering_reason) = recovering(e, rule);
    reasons.push(recovering_reason);

    let shared_by_cohort = shared_by_cohort.map(|(is_shared, _)| is_shared);
    let seasonal = seasonal.map(|(is_seasonal, _)| is_seasonal);
    let kind =
        if shared_by_cohort == Some(true) || seasonal == Some(true) || (recovering && !sustained) {
            DeclineKind::TemporaryDip
        } else if sustained && !recovering {
            DeclineKind::StructuralDecline
        } else {
            DeclineKind::TooEarlyToTell
        };
    DeclineAssessment {
        kind,
        worsening: Some(decline),
        shared_by_cohort,
        seasonal,
        sustained,
        recovering,
        reasons,
    }
}

/// Whether a reference pair (cohort medians, last year) worsened by at least `needed`,
/// with its worsening; `None` when a value is missing.
fn shared(
    direction: Direction,
    before: Option<f64>,
    after: Option<f64>,
    needed: f64,
) -> Option<(bool, f64)> {
    let change = worsening(direction, before?, after?)?;
    Some((change >= needed, change))
}

fn sustained(e: &DeclineEvidence, rule: &DeclineRule) -> (bool, String) {
    let mut run: Vec<NaiveDate> = Vec::new();
    for (date, value) in e.series.iter().rev() {
        let declined = value
            .and_then(|v| worsening(e.direction, e.value_before, v))
            .is_some_and(|w| w >= rule.min_decline);
        if !declined {
            break;
        }
        run.push(*date);
    }
    let (first, last) = match (run.last(), run.first()) {
        (Some(first), Some(last)) => (*first, *last),
        _ => {
            return (
                false,
                format!(
                    "the latest point of the series is not {} worse than {}: not sustained",
                    percent(rule.min_decline),
                    number(e.value_before)
                ),
            );
        }
    };
    let days = (last - first).num_days();
    let sustained =
        run.len() >= rule.sustained_points as usize && days >= i64::from(rule.sustained_days);
    let points = if run.len() == 1 {
        "the latest point".to_owned()
    } else {
        format!("the latest {} points", run.len())
    };
    (
        sustained,
        format!(
            "{points} ({first} to {last}, {days} days) are at least {} worse than {}: {}",
            percent(rule.min_decline),
            number(e.value_before),
            if sustained {
                "sustained".to_owned()
            } else {
                format!(
                    "not sustained yet (that needs {} points spanning {} days)",
                    rule.sustained_points, rule.sustained_days
                )
            }
        ),
    )
}

fn recovering(e: &DeclineEvidence, rule: &DeclineRule) -> (bool, String) {
    // Measured in the good direction, in the metric's own units.
    let good = |v: f64| {
        if e.direction == Direction::LowerIsBetter {
            -v
        } else {
            v
        }
    };
    let points: Vec<(NaiveDate, f64)> = e
        .series
        .iter()
        .filter_map(|(date, value)| value.filter(|v| v.is_finite()).map(|v| (*date, v)))
        .collect();
    let (Some(latest), Some(worst)) = (
        points.last(),
        points.iter().min_by(|a, b| good(a.1).total_cmp(&good(b.1))),
    ) else {
        return (false, "no series values: not recovering".into());
    };
    let drop = good(e.value_before) - good(worst.1);
    if drop <= 0.0 {
        return (
            false,
            "no point of the series is worse than the earlier snapshot: nothing to recover from"
                .into(),
        );
    }
    let regained = (good(latest.1) - good(worst.1)) / drop;
    let recovering = regained >= rule.recovery_share;
    (
        recovering,
        format!(
            "the latest value {} ({}) has regained {} of the drop from {} to the worst point {} ({}): {}",
            number(latest.1),
            latest.0,
            percent(regained.max(0.0)),
            number(e.value_before),
            number(worst.1),
            worst.0,
            if recovering {
                "recovering".to_owned()
            } else {
                format!(
                    "not recovering (that needs {})",
                    percent(rule.recovery_share)
                )
            }
        ),
    )
}

fn describe_worsening(worsening: f64) -> String {
    if worsening > 0.0 {
        format!("{} worse", percent(worsening))
    } else if worsening < 0.0 {
        format!("{} better", percent(-worsening))
    } else {
        "unchanged".into()
    }
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// A value for a sentence: integers without decimals, others to three significant
/// decimals at most.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else if value.abs() >= 100.0 {
        format!("{value:.1}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worsening_in_both_directions() {
        assert_eq!(worsening(Direction::HigherIsBetter, 100.0, 60.0), Some(0.4));
        assert_eq!(
            worsening(Direction::HigherIsBetter, 100.0, 120.0),
            Some(-0.2)
        );
        assert_eq!(worsening(Direction::LowerIsBetter, 10.0, 15.0), Some(0.5));
        assert_eq!(worsening(Direction::LowerIsBetter, 0.0, 3.0), Some(1.0));
        assert_eq!(worsening(Direction::LowerIsBetter, 0.0, 0.0), Some(0.0));
        assert_eq!(worsening(Direction::HigherIsBetter, -0.2, -0.4), Some(1.0));
        assert_eq!(worsening(Direction::Neutral, 1.0, 2.0), None);
        assert_eq!(worsening(Direction::HigherIsBetter, f64::NAN, 2.0), None);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(1200.0), "1200");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(-0.4), "-0.4");
        assert_eq!(number(123.456), "123.5");
        assert_eq!(number(2.0 / 3.0), "0.667");
    }
}
