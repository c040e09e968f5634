//! Intervention outcomes (A3): what followed each recorded intervention, the success rate
//! of every play per risk profile with a Wilson interval, and the play with the best
//! record for a new alert's profile — shrunk towards broader rates when data is thin,
//! and saying so.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use coco_insights::stats::wilson_interval;
use serde::{Deserialize, Serialize};

use crate::playbooks::OutcomeSettings;

/// A recorded intervention and what the store knows of what followed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InterventionFacts {
    pub intervention_id: i64,
    pub account_id: String,
    pub play: String,
    pub profile: String,
    pub channel: String,
    pub stakeholder: Option<String>,
    pub done_on: NaiveDate,
    /// Health at the snapshot on or before `done_on`.
    pub health_before: Option<f64>,
    /// Health at the snapshot on or before `done_on + d`, for each follow-up day `d`
    /// (None when that day is after the as-of date or not scored).
    pub health_after: Vec<(u32, Option<f64>)>,
    /// The first renewal decided after `done_on` and within the window: true = churned.
    pub renewal_churned: Option<bool>,
    pub renewal_decided_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Success,
    Failure,
    /// The window has not passed yet (as of the date asked) and nothing decided it.
    Pending,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Judged {
    pub facts: InterventionFacts,
    pub verdict: Verdict,
    pub because: String,
}

/// Judges one intervention as of `as_of`: a churn in the window fails it, a renewal
/// succeeds it; otherwise health at the end of the window decides, once it has passed.
pub fn judge(facts: &InterventionFacts, settings: &OutcomeSettings, as_of: NaiveDate) -> Judged {
    let number = coco_insights::format::number;
    let window_end = facts.done_on + chrono::Days::new(u64::from(settings.window_days));
    let (verdict, because) = match (facts.renewal_churned, facts.renewal_decided_on) {
        (Some(true), Some(on)) => (
            Verdict::Failure,
            format!("churned at the renewal decided {on}"),
        ),
        (Some(false), Some(on)) => (Verdict::Success, format!("renewed ({on})")),
        _ if as_of < window_end => (
            Verdict::Pending,
            format!("the {}-day window ends {window_end}", settings.window_days),
        ),
        _ => {
            let after = facts
                .health_after
                .iter()
                .find(|(d, _)| *d == settings.window_days)
                .and_then(|(_, h)| *h);
            match (facts.health_before, after) {
                (Some(before), Some(after)) => {
                    let gain = after - before;
                    if gain >= settings.min_health_gain {
                        (
                            Verdict::Success,
                            format!(
                                "health {} → {} after {} days (+{}, needed +{})",
                                number(before),
                                number(after),
                                settings.window_days,
                                number(gain),
                                number(settings.min_health_gain)
                            ),
                        )
                    } else {
                        (
                            Verdict::Failure,
                            format!(
                                "health {} → {} after {} days ({:+.1}, needed +{})",
                                number(before),
                                number(after),
                                settings.window_days,
                                gain,
                                number(settings.min_health_gain)
                            ),
                        )
                    }
                }
                _ => (
                    Verdict::Pending,
                    "no health score before or after the window".to_string(),
                ),
            }
        }
    };
    Judged {
        facts: facts.clone(),
        verdict,
        because,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlayRecord {
    pub play: String,
    /// `None`: over every profile.
    pub profile: Option<String>,
    pub decided: u64,
    pub successes: u64,
    pub pending: u64,
    pub rate: Option<f64>,
    pub interval: Option<(f64, f64)>,
    /// Mean health change over each follow-up day (decided and pending alike).
    pub mean_health_change: Vec<(u32, Option<f64>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutcomeReport {
    pub as_of: NaiveDate,
    pub interventions: u64,
    pub decided: u64,
    pub overall_rate: Option<f64>,
    /// Per play and profile, then per play over all profiles.
    pub by_play_and_profile: Vec<PlayRecord>,
    pub by_play: Vec<PlayRecord>,
    pub judged: Vec<Judged>,
}

fn record(
    play: &str,
    profile: Option<&str>,
    rows: &[&Judged],
    settings: &OutcomeSettings,
) -> PlayRecord {
    let decided = rows
        .iter()
        .filter(|j| j.verdict != Verdict::Pending)
        .count() as u64;
    let successes = rows
        .iter()
        .filter(|j| j.verdict == Verdict::Success)
        .count() as u64;
    let mean_health_change = settings
        .follow_up_days
        .iter()
        .map(|day| {
            let changes: Vec<f64> = rows
                .iter()
                .filter_map(|j| {
                    let before = j.facts.health_before?;
                    let after = j.facts.health_after.iter().find(|(d, _)| d == day)?.1?;
                    Some(after - before)
                })
                .collect();
            (
                *day,
                (!changes.is_empty()).then(|| changes.iter().sum::<f64>() / changes.len() as f64),
            )
        })
        .collect();
    PlayRecord {
        play: play.to_string(),
        profile: profile.map(str::to_string),
        decided,
        successes,
        pending: rows.len() as u64 - decided,
        rate: (decided > 0).then(|| successes as f64 / decided as f64),
        interval: wilson_interval(successes, decided, settings.confidence),
        mean_health_change,
    }
}

/// Judges every intervention and tallies them by play × profile and by play.
pub fn report(
    facts: &[InterventionFacts],
    settings: &OutcomeSettings,
    as_of: NaiveDate,
) -> OutcomeReport {
    let judged: Vec<Judged> = facts.iter().map(|f| judge(f, settings, as_of)).collect();
    let mut by_pair: BTreeMap<(&str, &str), Vec<&Judged>> = BTreeMap::new();
    let mut by_play: BTreeMap<&str, Vec<&Judged>> = BTreeMap::new();
    for j in &judged {
        by_pair
            .entry((j.facts.play.as_str(), j.facts.profile.as_str()))
            .or_default()
            .push(j);
        by_play.entry(j.facts.play.as_str()).or_default().push(j);
    }
    let decided = judged
        .iter()
        .filter(|j| j.verdict != Verdict::Pending)
        .count() as u64;
    let successes = judged
        .iter()
        .filter(|j| j.verdict == Verdict::Success)
        .count() as u64;
    OutcomeReport {
        as_of,
        interventions: judged.len() as u64,
        decided,
        overall_rate: (decided > 0).then(|| successes as f64 / decided as f64),
        by_play_and_profile: by_pair
            .iter()
            .map(|((play, profile), rows)| record(play, Some(profile), rows, settings))
            .collect(),
        by_play: by_play
            .iter()
            .map(|(play, rows)| record(play, None, rows, settings))
            .collect(),
        judged,
    }
}

/// One candidate play for a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlayScore {
    pub play: String,
    pub decided_for_profile: u64,
    pub successes_for_profile: u64,
    pub raw_rate: Option<f64>,
    /// The rate shrunk towards the play's overall rate (itself shrunk towards the rate
    /// of every intervention).
    pub shrunk_rate: f64,
    pub interval: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendation {
    pub profile: String,
    pub best: Option<PlayScore>,
    pub candidates: Vec<PlayScore>,
    /// Why, in one sentence, including when the prior carries the choice.
    pub because: String,
}

/// The play with the best record for `profile` among `candidates` (every play with a
/// record when empty). The shrinkage: rate = (successes + k·prior) / (decided + k) with
/// k = `prior_strength`, the prior being the play's overall rate, whose own prior is the
/// rate of every intervention (0.5 with no data at all).
pub fn recommend(
    report: &OutcomeReport,
    profile: &str,
    candidates: &[String],
    settings: &OutcomeSettings,
) -> Recommendation {
    let k = settings.prior_strength;
    let global = report.overall_rate.unwrap_or(0.5);
    let plays: Vec<String> = if candidates.is_empty() {
        report.by_play.iter().map(|r| r.play.clone()).collect()
    } else {
        candidates.to_vec()
    };
    let mut scores: Vec<PlayScore> = plays
        .iter()
        .map(|play| {
            let overall = report.by_play.iter().find(|r| &r.play == play);
            let play_prior = overall.map_or(global, |r| {
                (r.successes as f64 + k * global) / (r.decided as f64 + k).max(f64::MIN_POSITIVE)
            });
            let pair = report
                .by_play_and_profile
                .iter()
                .find(|r| &r.play == play && r.profile.as_deref() == Some(profile));
            let (decided, successes) = pair.map_or((0, 0), |r| (r.decided, r.successes));
            let denominator = decided as f64 + k;
            PlayScore {
                play: play.clone(),
                decided_for_profile: decided,
                successes_for_profile: successes,
                raw_rate: (decided > 0).then(|| successes as f64 / decided as f64),
                shrunk_rate: if denominator > 0.0 {
                    (successes as f64 + k * play_prior) / denominator
                } else {
                    play_prior
                },
                interval: wilson_interval(successes, decided, settings.confidence),
            }
        })
        .collect();
    scores.sort_by(|a, b| {
        b.shrunk_rate
            .total_cmp(&a.shrunk_rate)
            .then(b.decided_for_profile.cmp(&a.decided_for_profile))
            .then(a.play.cmp(&b.play))
    });
    let best = scores.first().cloned();
    let because = match &best {
        None => format!("no play to choose from for {profile}"),
        Some(b) if b.decided_for_profile < u64::from(settings.min_observations) => format!(
            "{} has the best estimate for {profile} ({:.0}%), but only {} decided intervention{} for this profile: the estimate leans on the play's record over all profiles (prior strength {})",
            b.play,
            b.shrunk_rate * 100.0,
            b.decided_for_profile,
            if b.decided_for_profile == 1 { "" } else { "s" },
            coco_insights::format::number(k)
        ),
        Some(b) => format!(
            "{} succeeded {} of {} times for {profile} ({:.0}%{}), the best record among {} play{}",
            b.play,
            b.successes_for_profile,
            b.decided_for_profile,
            b.raw_rate.unwrap_or(0.0) * 100.0,
            b.interval
                .map(|(lo, hi)| format!(
                    ", {:.0}–{:.0}% at {:.0}%",
                    lo * 100.0,
                    hi * 100.0,
                    settings.confidence * 100.0
                ))
                .unwrap_or_default(),
            scores.len(),
            if scores.len() == 1 { "" } else { "s" }
        ),
    };
    Recommendation {
        profile: profile.to_string(),
        best,
        candidates: scores,
        because,
    }
}
