//! The feedback loop (E6): past expansion outcomes give the win rate per opportunity
//! type, and which signals preceded won expansions (precision and recall per signal)
//! re-weights the priority of the signals that actually predict them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::config::WinProbabilityConfig;
use super::{Signal, SignalKind};
use crate::format::percent;

/// Won and lost expansion outcomes known at the as-of date, by type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WinHistory {
    pub by_type: BTreeMap<String, (u32, u32)>,
}

impl WinHistory {
    pub fn record(&mut self, type_name: &str, won: bool) {
        let entry = self.by_type.entry(type_name.to_string()).or_default();
        if won {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }

    /// The win rate of a type and where it comes from: the prior until `min_outcomes`
    /// outcomes exist, then the observed rate shrunk towards the prior.
    pub fn rate(&self, type_name: &str, config: &WinProbabilityConfig) -> (f64, String) {
        let prior = config.prior.get(type_name).copied().unwrap_or(0.3);
        let (won, lost) = self.by_type.get(type_name).copied().unwrap_or((0, 0));
        let n = won + lost;
        if (n as usize) < config.min_outcomes {
            return (
                prior,
                format!(
                    "prior {} for {type_name} ({n} past outcome{}, {} needed)",
                    percent(prior),
                    if n == 1 { "" } else { "s" },
                    config.min_outcomes
                ),
            );
        }
        let rate =
            (f64::from(won) + prior * config.prior_weight) / (f64::from(n) + config.prior_weight);
        (
            rate,
            format!(
                "{won} of {n} past {type_name} expansions won, shrunk towards the prior {}",
                percent(prior)
            ),
        )
    }
}

/// One account at one date: the signals that fired then and whether a won expansion
/// followed within the outcome window.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalObservation {
    pub account_id: String,
    pub as_of: NaiveDate,
    pub kinds: Vec<SignalKind>,
    pub won: bool,
}

/// How well one signal predicted won expansions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignalPrecision {
    pub signal: SignalKind,
    /// Observations where it fired, and how many were followed by a won expansion.
    pub fired: u32,
    pub won: u32,
    /// won ÷ fired.
    pub precision: Option<f64>,
    /// Won expansions it preceded ÷ all won expansions.
    pub recall: Option<f64>,
    /// precision ÷ the base rate of won expansions over all observations.
    pub lift: Option<f64>,
    /// The priority weight: the lift shrunk towards 1.
    pub weight: f64,
}

/// Precision, recall, lift and weight of every signal over the observations.
pub fn signal_precision(observations: &[SignalObservation], shrink: f64) -> Vec<SignalPrecision> {
    let total = observations.len() as f64;
    let won_total = observations.iter().filter(|o| o.won).count() as f64;
    let base = if total > 0.0 { won_total / total } else { 0.0 };
    SignalKind::ALL
        .into_iter()
        .map(|signal| {
            let fired: Vec<&SignalObservation> = observations
                .iter()
                .filter(|o| o.kinds.contains(&signal))
                .collect();
            let won = fired.iter().filter(|o| o.won).count() as u32;
            let n = fired.len() as u32;
            let precision = (n > 0).then(|| f64::from(won) / f64::from(n));
            let lift = precision.filter(|_| base > 0.0).map(|p| p / base);
            // Shrunk: as if `shrink` more observations had been seen at the base rate.
            let weight = if base > 0.0 {
                ((f64::from(won) + base * shrink) / (f64::from(n) + shrink)) / base
            } else {
                1.0
            };
            SignalPrecision {
                signal,
                fired: n,
                won,
                precision,
                recall: (won_total > 0.0).then(|| f64::from(won) / won_total),
                lift,
                weight,
            }
        })
        .collect()
}

/// Priority weights per signal (1 when nothing is known).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignalWeights {
    pub weights: BTreeMap<SignalKind, f64>,
}

impl SignalWeights {
    pub fn from_precision(precision: &[SignalPrecision]) -> SignalWeights {
        SignalWeights {
            weights: precision.iter().map(|p| (p.signal, p.weight)).collect(),
        }
    }

    pub fn of(&self, kind: SignalKind) -> f64 {
        self.weights.get(&kind).copied().unwrap_or(1.0)
    }

    /// An opportunity's weight: its best signal's, raised 15% per further distinct
    /// signal (independent evidence agreeing), at most doubled.
    pub fn combined(&self, signals: &[Signal]) -> f64 {
        let mut kinds: Vec<SignalKind> = signals.iter().map(|s| s.kind).collect();
        kinds.sort();
        kinds.dedup();
        let best = kinds
            .iter()
            .map(|k| self.of(*k))
            .fold(f64::NEG_INFINITY, f64::max);
        if !best.is_finite() {
            return 1.0;
        }
        let agreement = (1.0 + 0.15 * (kinds.len() as f64 - 1.0)).min(2.0);
        best * agreement
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(kinds: &[SignalKind], won: bool) -> SignalObservation {
        SignalObservation {
            account_id: "a".into(),
            as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            kinds: kinds.to_vec(),
            won,
        }
    }

    #[test]
    fn a_predictive_signal_gets_a_weight_above_one() {
        let mut observations = Vec::new();
        for i in 0..40 {
            observations.push(obs(&[SignalKind::SeatPressure], i % 4 != 0)); // 75% won
        }
        for i in 0..40 {
            observations.push(obs(&[SignalKind::PowerUsers], i % 10 == 0)); // 10% won
        }
        for _ in 0..120 {
            observations.push(obs(&[], false));
        }
        let table = signal_precision(&observations, 20.0);
        let seat = table.iter().find(|p| p.signal == SignalKind::SeatPressure);
        let power = table.iter().find(|p| p.signal == SignalKind::PowerUsers);
        let (Some(seat), Some(power)) = (seat, power) else {
            panic!("both signals are reported");
        };
        assert_eq!((seat.fired, seat.won), (40, 30));
        assert_eq!(seat.precision, Some(0.75));
        // base rate 34 / 200 = 0.17: lift 0.75 / 0.17.
        assert!((seat.lift.unwrap_or(0.0) - 0.75 / 0.17).abs() < 1e-9);
        assert!(seat.weight > 2.0 && seat.weight < seat.lift.unwrap_or(0.0));
        assert!(power.weight < 1.0);
        let never = table.iter().find(|p| p.signal == SignalKind::NewTeam);
        assert_eq!(never.map(|p| (p.fired, p.weight)), Some((0, 1.0)));
    }

    #[test]
    fn win_rate_uses_the_prior_until_enough_outcomes() {
        let config = WinProbabilityConfig {
            min_outcomes: 10,
            prior_weight: 10.0,
            prior: [("seats".to_string(), 0.4)].into_iter().collect(),
            light_factor: BTreeMap::new(),
        };
        let mut history = WinHistory::default();
        for _ in 0..5 {
            history.record("seats", true);
        }
        assert_eq!(history.rate("seats", &config).0, 0.4);
        for _ in 0..5 {
            history.record("seats", true);
        }
        let (rate, basis) = history.rate("seats", &config);
        assert!((rate - (10.0 + 4.0) / 20.0).abs() < 1e-12);
        assert!(basis.contains("10 of 10"), "{basis}");
    }
}
