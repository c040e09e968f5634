//! Churn training data over time: which observations count, what their label is, how
//! the out-of-time backtest splits them, and how early the model warned (lead time).
//!
//! An **observation** is (account, as-of date): the account's features are that date's
//! metric snapshot, computed point in time by the metric engine (nothing after the
//! as-of date is read — the store's leakage test proves it). Its **label** looks forward:
//!
//! | situation at the as-of date `d` | label |
//! |---|---|
//! | the account already churned on or before `d` | excluded (not a customer) |
//! | a churn decision already known on or before `d` (`decided_on ≤ d`), churn later | excluded: nothing left to predict |
//! | `d + horizon` is after the last date with data (the cutoff) | censored (unknown) |
//! | a churn dated in `(d, d + horizon]` | churned |
//! | otherwise | retained |
//!
//! Censored observations are neither: labelling them retained would teach the model that
//! the most recent accounts never churn, and keeping only their churns would teach it
//! the opposite.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One churn (or, when configured, downgrade) of an account, with where it was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnEvent {
    pub account_id: String,
    /// The day the account stopped being a customer (the term's end).
    pub churn_date: NaiveDate,
    /// When the churn became known (`decided_on`), at the latest the churn date.
    pub known_on: NaiveDate,
    /// `churned` or `downgraded`.
    pub kind: String,
    /// Provenance, e.g. `outcomes out_00042_2026 (load 3, line 17)`.
    pub source: String,
}

/// Two churn records of one account this close are one churn.
pub const SAME_CHURN_DAYS: i64 = 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Churned,
    Retained,
    Excluded,
    Censored,
}

/// Churn events by account, sorted by date.
pub struct ChurnHistory {
    by_account: HashMap<String, Vec<ChurnEvent>>,
}

impl ChurnHistory {
    /// Groups events by account. Records of one churn from several sources (a renewal
    /// outcome and the contract's `churned` status; the core term and its add-ons) are
    /// merged when their dates lie within [`SAME_CHURN_DAYS`]: the earliest date known,
    /// every source kept, `churned` over `downgraded`.
    pub fn new(events: Vec<ChurnEvent>) -> ChurnHistory {
        let mut by_account: HashMap<String, Vec<ChurnEvent>> = HashMap::new();
        for event in events {
            by_account
                .entry(event.account_id.clone())
                .or_default()
                .push(event);
        }
        for events in by_account.values_mut() {
            events.sort_by(|a, b| {
                a.churn_date
                    .cmp(&b.churn_date)
                    .then(a.source.cmp(&b.source))
            });
            let mut merged: Vec<ChurnEvent> = Vec::with_capacity(events.len());
            for event in events.drain(..) {
                match merged.last_mut() {
                    Some(last)
                        if (event.churn_date - last.churn_date).num_days() <= SAME_CHURN_DAYS =>
                    {
                        last.known_on = last.known_on.min(event.known_on);
                        if !last.source.contains(&event.source) {
                            last.source = format!("{}; {}", last.source, event.source);
                        }
                        if event.kind == "churned" {
                            last.kind = event.kind;
                        }
                    }
                    _ => merged.push(event),
                }
            }
            *events = merged;
        }
        ChurnHistory { by_account }
    }

    /// Number of (merged) churns.
    pub fn len(&self) -> usize {
        self.by_account.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_account.is_empty()
    }

    pub fn events(&self, account_id: &str) -> &[ChurnEvent] {
        self.by_account.get(account_id).map_or(&[], Vec::as_slice)
    }

    /// The label of `account_id` observed at `as_of` (module table).
    pub fn label(
        &self,
        account_id: &str,
        as_of: NaiveDate,
        horizon_days: u32,
        cutoff: NaiveDate,
    ) -> Label {
        let end = as_of + chrono::Days::new(u64::from(horizon_days));
        let events = self.events(account_id);
        let next = events.iter().find(|e| e.churn_date > as_of);
        match next {
            // Already decided: nothing left to predict.
            Some(event) if event.known_on <= as_of => return Label::Excluded,
            // Gone (no later churn means no later term either).
            None if events.iter().any(|e| e.churn_date <= as_of) => return Label::Excluded,
            _ => {}
        }
        // A horizon running past the data is unknown both ways: keeping its churns but
        // not its retentions would make late observations look riskier than they are.
        if end > cutoff {
            return Label::Censored;
        }
        match next {
            Some(event) if event.churn_date <= end => Label::Churned,
            _ => Label::Retained,
        }
    }

    /// The first churn after `as_of`, if any.
    pub fn next_churn(&self, account_id: &str, as_of: NaiveDate) -> Option<&ChurnEvent> {
        self.events(account_id)
            .iter()
            .find(|e| e.churn_date > as_of)
    }
}

/// The out-of-time split: observation dates from `test_from` on are the test window;
/// training uses only observations whose whole horizon ended by then
/// (`as_of + horizon ≤ test_from`), so no training label peeks into the test period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestSplit {
    pub train_from: NaiveDate,
    pub train_to: NaiveDate,
    pub test_from: NaiveDate,
    pub test_to: NaiveDate,
}

/// Splits the labelled observation dates: the last `share` of them (at least one) are
/// tested. `None` when no training date would remain.
pub fn backtest_split(
    labelled_dates: &[NaiveDate],
    share: f64,
    horizon_days: u32,
) -> Option<BacktestSplit> {
    let mut dates = labelled_dates.to_vec();
    dates.sort_unstable();
    dates.dedup();
    let test_count = ((dates.len() as f64 * share).ceil() as usize).clamp(1, dates.len());
    let test_from = dates[dates.len() - test_count];
    let last_train = test_from - chrono::Days::new(u64::from(horizon_days));
    let train: Vec<&NaiveDate> = dates.iter().filter(|d| **d <= last_train).collect();
    Some(BacktestSplit {
        train_from: **train.first()?,
        train_to: **train.last()?,
        test_from,
        test_to: *dates.last()?,
    })
}

/// How early churned accounts were flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadTime {
    pub threshold: f64,
    /// Churns whose whole horizon before the churn date lies in the test window.
    pub churned_accounts: usize,
    /// Of those, how many reached the threshold before churning.
    pub flagged: usize,
    /// Median days between first reaching the threshold and the churn (flagged only).
    pub median_days: Option<f64>,
    /// Share of churned accounts flagged at least 45 days ahead.
    pub share_at_least_45_days: f64,
}

/// `scored` = (account, as-of, probability) for every test-window observation (labelled
/// or not). Only churns dated at least `horizon_days` after `test_from` count, so every
/// counted churn could have been flagged a full horizon ahead.
pub fn lead_time(
    scored: &[(String, NaiveDate, f64)],
    history: &ChurnHistory,
    test_from: NaiveDate,
    cutoff: NaiveDate,
    horizon_days: u32,
    threshold: f64,
) -> LeadTime {
    let earliest_countable = test_from + chrono::Days::new(u64::from(horizon_days));
    let mut first_flag: HashMap<(&str, NaiveDate), NaiveDate> = HashMap::new();
    let mut churns: Vec<(&str, NaiveDate)> = Vec::new();
    for events in history.by_account.values() {
        for e in events {
            if e.churn_date >= earliest_countable && e.churn_date <= cutoff {
                churns.push((e.account_id.as_str(), e.churn_date));
            }
        }
    }
    let churn_dates: HashMap<&str, Vec<NaiveDate>> =
        churns.iter().fold(HashMap::new(), |mut map, (a, d)| {
            map.entry(*a).or_insert_with(Vec::new).push(*d);
            map
        });
    for (account, as_of, probability) in scored {
        if *probability < threshold || *as_of < test_from {
            continue;
        }
        let Some(dates) = churn_dates.get(account.as_str()) else {
            continue;
        };
        // The churn this observation looks ahead to: the first after it.
        let Some(churn) = dates.iter().filter(|d| **d > *as_of).min() else {
            continue;
        };
        let entry = first_flag
            .entry((account.as_str(), *churn))
            .or_insert(*as_of);
        if *as_of < *entry {
            *entry = *as_of;
        }
    }
    let mut leads: Vec<f64> = first_flag
        .iter()
        .map(|((_, churn), flagged)| (*churn - *flagged).num_days() as f64)
        .collect();
    leads.sort_by(f64::total_cmp);
    let median_days = if leads.is_empty() {
        None
    } else if leads.len() % 2 == 1 {
        Some(leads[leads.len() / 2])
    } else {
        Some((leads[leads.len() / 2 - 1] + leads[leads.len() / 2]) / 2.0)
    };
    let at_least_45 = leads.iter().filter(|d| **d >= 45.0).count();
    LeadTime {
        threshold,
        churned_accounts: churns.len(),
        flagged: leads.len(),
        median_days,
        share_at_least_45_days: if churns.is_empty() {
            0.0
        } else {
            at_least_45 as f64 / churns.len() as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    fn event(account: &str, churn: &str, known: &str) -> ChurnEvent {
        ChurnEvent {
            account_id: account.into(),
            churn_date: date(churn),
            known_on: date(known),
            kind: "churned".into(),
            source: "test".into(),
        }
    }

    #[test]
    fn labels_follow_the_table() {
        let history = ChurnHistory::new(vec![event("a", "2026-06-30", "2026-06-10")]);
        let cutoff = date("2026-10-31");
        assert_eq!(
            history.label("a", date("2026-04-01"), 90, cutoff),
            Label::Churned
        );
        assert_eq!(
            history.label("a", date("2026-03-01"), 90, cutoff),
            Label::Retained
        );
        assert_eq!(
            history.label("a", date("2026-06-15"), 90, cutoff),
            Label::Excluded
        );
        assert_eq!(
            history.label("a", date("2026-07-15"), 90, cutoff),
            Label::Excluded
        );
        assert_eq!(
            history.label("b", date("2026-07-15"), 90, cutoff),
            Label::Retained
        );
        assert_eq!(
            history.label("b", date("2026-08-15"), 90, cutoff),
            Label::Censored
        );
    }

    #[test]
    fn the_split_keeps_a_horizon_between_training_labels_and_the_test_window() {
        let dates: Vec<NaiveDate> = (0..40)
            .map(|w| date("2026-01-05") + chrono::Days::new(7 * w))
            .collect();
        let split = backtest_split(&dates, 0.3, 90).unwrap_or_else(|| panic!("split"));
        assert_eq!(split.test_from, dates[28]);
        assert!(split.train_to + chrono::Days::new(90) <= split.test_from);
        assert_eq!(split.train_from, dates[0]);
        assert!(backtest_split(&dates[..3], 0.5, 90).is_none());
    }

    #[test]
    fn lead_time_counts_days_from_the_first_flag() {
        let history = ChurnHistory::new(vec![
            event("a", "2026-09-30", "2026-09-20"),
            event("b", "2026-09-30", "2026-09-20"),
        ]);
        let scored = vec![
            ("a".to_string(), date("2026-07-01"), 0.1),
            ("a".to_string(), date("2026-07-15"), 0.4),
            ("a".to_string(), date("2026-08-01"), 0.2),
            ("b".to_string(), date("2026-09-10"), 0.5),
        ];
        let lead = lead_time(
            &scored,
            &history,
            date("2026-06-01"),
            date("2026-10-31"),
            90,
            0.25,
        );
        assert_eq!(lead.churned_accounts, 2);
        assert_eq!(lead.flagged, 2);
        assert_eq!(lead.median_days, Some((77.0 + 20.0) / 2.0));
        assert_eq!(lead.share_at_least_45_days, 0.5);
    }
}
