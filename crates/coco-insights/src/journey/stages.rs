//! Stage classification (J2). Each stage's criteria are weighed; the account is in the
//! stage it fits best (met weight ÷ the stage's weight; ties go to the earlier stage).
//! Confidence = fit × (0.5 + 0.5 × margin over the runner-up) × the share of the
//! winner's criteria weight that had data — a stage won on missing data, or by a hair,
//! is not certain. Classifying the weekly snapshots before the date too gives the
//! transitions, the time in the current stage and the speed of each move against the
//! stage's expected duration.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::MilestoneRecord;
use super::config::{Condition, JourneyConfig};

/// The numbers of every account at one date, by source name (aligned with the frame).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DateColumns {
    pub date: NaiveDate,
    pub numbers: BTreeMap<String, Vec<Option<f64>>>,
}

impl DateColumns {
    pub fn new(date: NaiveDate) -> Self {
        DateColumns {
            date,
            numbers: BTreeMap::new(),
        }
    }

    pub fn get(&self, source: &str, account: usize) -> Option<f64> {
        self.numbers
            .get(source)
            .and_then(|c| c.get(account).copied().flatten())
            .filter(|v| v.is_finite())
    }
}

/// Every number source the stage criteria and conflicts read.
pub fn sources(config: &JourneyConfig) -> Vec<String> {
    let mut names: Vec<String> = config
        .stages
        .iter()
        .flat_map(|s| &s.criteria)
        .chain(config.conflicts.iter().flat_map(|c| &c.all))
        .filter_map(|c| c.source.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Whether a condition holds for an account at the columns' date; `None` = no data.
pub fn holds(
    condition: &Condition,
    columns: &DateColumns,
    milestones: &[MilestoneRecord],
    account: usize,
) -> Option<bool> {
    if let Some(source) = &condition.source {
        return columns.get(source, account).map(|v| condition.within(v));
    }
    let key = condition.milestone.as_deref()?;
    let done = milestones
        .iter()
        .any(|m| m.key == key && m.done_by(columns.date));
    // A milestone the account has no row for counts as not done only if it is asked to
    // be not done: "go-live not reached" holds for an account whose plan lacks go-live.
    Some(done == condition.done.unwrap_or(true))
}

/// How well an account fits one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageFit {
    pub stage: String,
    pub fit: f64,
    /// Share of the stage's criteria weight that had data.
    pub coverage: f64,
    pub met: Vec<String>,
    pub unmet: Vec<String>,
    pub missing: Vec<String>,
}

/// The classification of one account at one date.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    pub stage: usize,
    pub confidence: f64,
    pub fits: Vec<StageFit>,
}

pub fn classify(
    config: &JourneyConfig,
    columns: &DateColumns,
    milestones: &[MilestoneRecord],
    account: usize,
) -> Classified {
    let fits: Vec<StageFit> = config
        .stages
        .iter()
        .map(|stage| {
            let total: f64 = stage.criteria.iter().map(|c| c.weight).sum();
            let (mut met_weight, mut known_weight) = (0.0, 0.0);
            let (mut met, mut unmet, mut missing) = (Vec::new(), Vec::new(), Vec::new());
            for c in &stage.criteria {
                match holds(c, columns, milestones, account) {
                    Some(true) => {
                        met_weight += c.weight;
                        known_weight += c.weight;
                        met.push(c.label.clone());
                    }
                    Some(false) => {
                        known_weight += c.weight;
                        unmet.push(c.label.clone());
                    }
                    None => missing.push(c.label.clone()),
                }
            }
            StageFit {
                stage: stage.key.clone(),
                fit: if total > 0.0 { met_weight / total } else { 0.0 },
                coverage: if total > 0.0 {
                    known_weight / total
                } else {
                    0.0
                },
                met,
                unmet,
                missing,
            }
        })
        .collect();
    let mut best = 0;
    for (i, f) in fits.iter().enumerate() {
        if f.fit > fits[best].fit + 1e-12 {
            best = i;
        }
    }
    let runner_up = fits
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .map(|(_, f)| f.fit)
        .fold(0.0_f64, f64::max);
    let winner = &fits[best];
    let margin = (winner.fit - runner_up).max(0.0);
    Classified {
        stage: best,
        confidence: winner.fit * (0.5 + 0.5 * margin) * winner.coverage,
        fits,
    }
}

/// A move between stages seen in the weekly history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transition {
    /// The first date classified in the new stage.
    pub date: NaiveDate,
    pub from: String,
    pub to: String,
    /// Days spent in `from`, when its start is inside the history.
    pub days_in_previous: Option<i64>,
    /// `fast` / `on_pace` / `slow` against `from`'s expected duration.
    pub speed: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceLevel {
    High,
    Medium,
    Low,
}

/// An account's stage now, with the evidence and the recent history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageView {
    pub account_id: String,
    pub stage: String,
    pub stage_label: String,
    pub confidence: f64,
    pub confidence_level: ConfidenceLevel,
    /// The criteria of the stage that hold, and those without data.
    pub met: Vec<String>,
    pub missing: Vec<String>,
    /// The runner-up stage and its fit.
    pub runner_up: Option<(String, f64)>,
    /// First date of the current run in this stage, when it began inside the history.
    pub since: Option<NaiveDate>,
    /// Days in the stage (at least, when `since` is before the history).
    pub days_in_stage: i64,
    pub expected_days: u32,
    /// Over the stage's expected duration (at least `days_in_stage` days in it).
    pub overdue: bool,
    pub transitions: Vec<Transition>,
    pub conflicts: Vec<String>,
}

fn speed(days: i64, expected: u32) -> String {
    let ratio = days as f64 / f64::from(expected.max(1));
    if ratio < 0.75 {
        "fast".into()
    } else if ratio <= 1.25 {
        "on_pace".into()
    } else {
        "slow".into()
    }
}

/// Conflicting signals of an account at the columns' date.
pub fn conflicts(
    config: &JourneyConfig,
    columns: &DateColumns,
    milestones: &[MilestoneRecord],
    account: usize,
) -> Vec<String> {
    config
        .conflicts
        .iter()
        .filter(|c| {
            c.all
                .iter()
                .all(|cond| holds(cond, columns, milestones, account) == Some(true))
        })
        .map(|c| c.label.clone())
        .collect()
}

/// One date's columns resolved for every stage criterion once: classifying the whole
/// book at many dates then costs no lookups by name and no allocation per account
/// (`stage_at`), which is what makes the stage history affordable at 100,000 accounts.
pub struct PreparedDate<'a> {
    pub date: NaiveDate,
    /// `[stage][criterion]`: the criterion's column, when it names a source.
    columns: Vec<Vec<Option<&'a [Option<f64>]>>>,
}

impl<'a> PreparedDate<'a> {
    pub fn new(config: &JourneyConfig, columns: &'a DateColumns) -> Self {
        PreparedDate {
            date: columns.date,
            columns: config
                .stages
                .iter()
                .map(|stage| {
                    stage
                        .criteria
                        .iter()
                        .map(|c| {
                            c.source
                                .as_ref()
                                .and_then(|s| columns.numbers.get(s))
                                .map(Vec::as_slice)
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

/// The stage an account is in at a prepared date: the same rule as [`classify`]
/// (best fit, ties to the earlier stage), without the evidence.
pub fn stage_at(
    config: &JourneyConfig,
    date: &PreparedDate<'_>,
    milestones: &[MilestoneRecord],
    account: usize,
) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (s, stage) in config.stages.iter().enumerate() {
        let (mut met, mut total) = (0.0, 0.0);
        for (c, condition) in stage.criteria.iter().enumerate() {
            total += condition.weight;
            let holds = match (&condition.source, &condition.milestone) {
                (Some(_), _) => date.columns[s][c]
                    .and_then(|column| column.get(account).copied().flatten())
                    .filter(|v| v.is_finite())
                    .is_some_and(|v| condition.within(v)),
                (None, Some(key)) => {
                    let done = milestones
                        .iter()
                        .any(|m| &m.key == key && m.done_by(date.date));
                    done == condition.done.unwrap_or(true)
                }
                (None, None) => false,
            };
            if holds {
                met += condition.weight;
            }
        }
        let fit = if total > 0.0 { met / total } else { 0.0 };
        if fit > best.1 + 1e-12 {
            best = (s, fit);
        }
    }
    best.0
}

/// Classifies one account at the current columns and at each earlier date (`history`,
/// newest first) and assembles its view.
pub fn stage_view(
    config: &JourneyConfig,
    account_id: &str,
    current: &DateColumns,
    history: &[DateColumns],
    milestones: &[MilestoneRecord],
    account: usize,
) -> StageView {
    let prepared: Vec<PreparedDate<'_>> = history
        .iter()
        .map(|c| PreparedDate::new(config, c))
        .collect();
    let stages: Vec<usize> = prepared
        .iter()
        .map(|date| stage_at(config, date, milestones, account))
        .collect();
    let dates: Vec<NaiveDate> = history.iter().map(|c| c.date).collect();
    stage_view_with_history(
        config, account_id, current, &dates, &stages, milestones, account,
    )
}

/// [`stage_view`] with the earlier stages already classified: `dates` and `stages` of
/// the history, newest first.
pub fn stage_view_with_history(
    config: &JourneyConfig,
    account_id: &str,
    current: &DateColumns,
    dates: &[NaiveDate],
    stages: &[usize],
    milestones: &[MilestoneRecord],
    account: usize,
) -> StageView {
    let now = classify(config, current, milestones, account);
    // Oldest first: (date, stage).
    let mut timeline: Vec<(NaiveDate, usize)> = dates
        .iter()
        .copied()
        .zip(stages.iter().copied())
        .rev()
        .collect();
    timeline.push((current.date, now.stage));
    let mut transitions = Vec::new();
    let mut run_start: Option<NaiveDate> = None; // start of the run in timeline[i-1]'s stage
    for i in 1..timeline.len() {
        let (date, stage) = timeline[i];
        let (_, previous) = timeline[i - 1];
        if stage != previous {
            let days = run_start.map(|start| (date - start).num_days());
            let expected = config.stages[previous].expected_days;
            transitions.push(Transition {
                date,
                from: config.stages[previous].key.clone(),
                to: config.stages[stage].key.clone(),
                days_in_previous: days,
                speed: days.map(|d| speed(d, expected)),
            });
            run_start = Some(date);
        }
    }
    let since = transitions.last().map(|t| t.date);
    let first_date = timeline.first().map_or(current.date, |(d, _)| *d);
    let days_in_stage = (current.date - since.unwrap_or(first_date)).num_days();
    let stage = &config.stages[now.stage];
    let winner = &now.fits[now.stage];
    let runner_up = now
        .fits
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != now.stage)
        .max_by(|a, b| a.1.fit.total_cmp(&b.1.fit).then(b.0.cmp(&a.0)))
        .map(|(_, f)| (f.stage.clone(), f.fit));
    let level = if now.confidence >= config.classification.confidence_high {
        ConfidenceLevel::High
    } else if now.confidence >= config.classification.confidence_medium {
        ConfidenceLevel::Medium
    } else {
        ConfidenceLevel::Low
    };
    StageView {
        account_id: account_id.to_string(),
        stage: stage.key.clone(),
        stage_label: stage.label.clone(),
        confidence: (now.confidence * 100.0).round() / 100.0,
        confidence_level: level,
        met: winner.met.clone(),
        missing: winner.missing.clone(),
        runner_up,
        since,
        days_in_stage,
        expected_days: stage.expected_days,
        // `days_in_stage` is a lower bound when the run began before the history: past
        // the expected duration it is overdue either way.
        overdue: days_in_stage > i64::from(stage.expected_days),
        transitions,
        conflicts: conflicts(config, current, milestones, account),
    }
}

/// Accounts per stage, with the share that moved into it within the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageCount {
    pub stage: String,
    pub label: String,
    pub accounts: usize,
    pub arr: f64,
    pub low_confidence: usize,
    pub entered_recently: usize,
    pub overdue: usize,
    pub with_conflicts: usize,
}

pub fn distribution(
    config: &JourneyConfig,
    views: &[StageView],
    arr: &dyn Fn(usize) -> f64,
) -> Vec<StageCount> {
    config
        .stages
        .iter()
        .map(|stage| {
            let mut count = StageCount {
                stage: stage.key.clone(),
                label: stage.label.clone(),
                accounts: 0,
                arr: 0.0,
                low_confidence: 0,
                entered_recently: 0,
                overdue: 0,
                with_conflicts: 0,
            };
            for (i, v) in views
                .iter()
                .enumerate()
                .filter(|(_, v)| v.stage == stage.key)
            {
                count.accounts += 1;
                count.arr += arr(i);
                count.low_confidence += usize::from(v.confidence_level == ConfidenceLevel::Low);
                count.entered_recently += usize::from(v.since.is_some());
                count.overdue += usize::from(v.overdue);
                count.with_conflicts += usize::from(!v.conflicts.is_empty());
            }
            count
        })
        .collect()
}
