//! The renewal forecast: for the renewals due in the next 30/60/90/180 days, the expected
//! renewed ARR (each contract's ARR × its probability of not churning), forecast gross and
//! net revenue retention, and their ranges; scenarios ("half of the critical accounts are
//! saved"); and, for forecasts made earlier, how they compared with what happened.
//!
//! Ranges come from simulation: in each of `simulations` draws every renewal's churn
//! probability is drawn uniformly within its interval (model uncertainty) and the
//! renewal then churns or not (outcome uncertainty); the 5th and 95th percentiles of
//! the simulated retained ARR give the range. Deterministic for a seed.
//!
//! Net retention adds what renewals historically did to ARR when they did not churn
//! (expansions and downgrades at renewal): `net_change_ratio` = Σ ARR after ÷ Σ ARR
//! before over past non-churned renewal outcomes (1.0 when there are none).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// One renewal to forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Renewal {
    pub account_id: String,
    pub account_name: String,
    pub renewal_date: chrono::NaiveDate,
    pub days_to_renewal: i64,
    pub arr: f64,
    pub churn_probability: f64,
    pub low: f64,
    pub high: f64,
    pub tier: String,
    /// Health colour at the forecast date, for scenarios by colour.
    pub health_colour: Option<String>,
}

/// "Save `share` of the renewals in `group`" (a risk tier or a health colour): their
/// churn probability is multiplied by `1 − share`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub group: String,
    pub share: f64,
}

impl Scenario {
    /// Parses `critical=0.5` or `red=50%`.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        let (group, share) = text.split_once('=').ok_or_else(|| {
            format!("scenario `{text}`: write GROUP=SHARE, e.g. red=0.5 or critical=50%")
        })?;
        let share_text = share.trim();
        let share = match share_text.strip_suffix('%') {
            Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
            None => share_text.parse::<f64>(),
        }
        .map_err(|_| format!("scenario `{text}`: `{share_text}` is not a share like 0.5 or 50%"))?;
        if !(0.0..=1.0).contains(&share) {
            return Err(format!(
                "scenario `{text}`: the share must be between 0 and 1"
            ));
        }
        Ok(Scenario {
            group: group.trim().to_string(),
            share,
        })
    }

    fn applies(&self, renewal: &Renewal) -> bool {
        renewal.tier == self.group || renewal.health_colour.as_deref() == Some(self.group.as_str())
    }
}

/// The forecast for renewals due within `days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodForecast {
    pub days: u32,
    pub renewals: usize,
    pub arr_up_for_renewal: f64,
    pub expected_renewed_arr: f64,
    pub expected_churned_arr: f64,
    /// Expected renewed ÷ up for renewal.
    pub forecast_grr: f64,
    pub grr_low: f64,
    pub grr_high: f64,
    pub forecast_nrr: f64,
    pub nrr_low: f64,
    pub nrr_high: f64,
    /// Renewals in the high-risk tiers and their ARR.
    pub at_risk_renewals: usize,
    pub at_risk_arr: f64,
}

/// Forecast for every period; renewals with `days_to_renewal` in `1..=days` count.
pub fn forecast(
    renewals: &[Renewal],
    periods: &[u32],
    scenario: Option<&Scenario>,
    net_change_ratio: f64,
    at_risk_tiers: &[&str],
    simulations: usize,
    seed: u64,
) -> Vec<PeriodForecast> {
    let adjusted: Vec<(f64, f64, f64)> = renewals
        .iter()
        .map(|r| {
            let factor = scenario
                .filter(|s| s.applies(r))
                .map_or(1.0, |s| 1.0 - s.share);
            (
                r.churn_probability * factor,
                r.low * factor,
                r.high * factor,
            )
        })
        .collect();
    periods
        .iter()
        .map(|days| {
            let members: Vec<usize> = (0..renewals.len())
                .filter(|i| {
                    renewals[*i].days_to_renewal >= 1
                        && renewals[*i].days_to_renewal <= i64::from(*days)
                })
                .collect();
            let up: f64 = members.iter().map(|i| renewals[*i].arr).sum();
            let expected: f64 = members
                .iter()
                .map(|i| renewals[*i].arr * (1.0 - adjusted[*i].0))
                .sum();
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ u64::from(*days));
            let mut retained: Vec<f64> = (0..simulations)
                .map(|_| {
                    members
                        .iter()
                        .map(|i| {
                            let (_, low, high) = adjusted[*i];
                            let p = if high > low {
                                rng.random_range(low..=high)
                            } else {
                                low
                            };
                            if rng.random::<f64>() < p {
                                0.0
                            } else {
                                renewals[*i].arr
                            }
                        })
                        .sum::<f64>()
                })
                .collect();
            retained.sort_by(f64::total_cmp);
            let quantile = |q: f64| {
                if retained.is_empty() {
                    return 0.0;
                }
                retained[((retained.len() - 1) as f64 * q).round() as usize]
            };
            let ratio = |value: f64| if up > 0.0 { value / up } else { 1.0 };
            let at_risk: Vec<usize> = members
                .iter()
                .copied()
                .filter(|i| at_risk_tiers.contains(&renewals[*i].tier.as_str()))
                .collect();
            PeriodForecast {
                days: *days,
                renewals: members.len(),
                arr_up_for_renewal: up,
                expected_renewed_arr: expected,
                expected_churned_arr: up - expected,
                forecast_grr: ratio(expected),
                grr_low: ratio(quantile(0.05)),
                grr_high: ratio(quantile(0.95)),
                forecast_nrr: ratio(expected) * net_change_ratio,
                nrr_low: ratio(quantile(0.05)) * net_change_ratio,
                nrr_high: ratio(quantile(0.95)) * net_change_ratio,
                at_risk_renewals: at_risk.len(),
                at_risk_arr: at_risk.iter().map(|i| renewals[*i].arr).sum(),
            }
        })
        .collect()
}

/// A renewal forecast made at an earlier date, and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastCheck {
    pub forecast_on: chrono::NaiveDate,
    pub model_version: String,
    pub days: u32,
    pub renewals: usize,
    pub arr_up_for_renewal: f64,
    pub forecast_renewed_arr: f64,
    pub actual_renewed_arr: f64,
    pub forecast_grr: f64,
    pub actual_grr: f64,
    /// Forecast − actual, in GRR points (positive = too optimistic).
    pub error: f64,
    /// Whether the actual GRR fell inside the forecast's range.
    pub within_range: bool,
    pub churned: usize,
    pub expected_churns: f64,
}

/// Compares a past forecast with outcomes: `churned[i]` says whether renewal `i`
/// churned.
pub fn check(
    period: &PeriodForecast,
    members: &[(&Renewal, bool)],
    forecast_on: chrono::NaiveDate,
    model_version: &str,
) -> ForecastCheck {
    let actual: f64 = members
        .iter()
        .filter(|(_, churned)| !churned)
        .map(|(r, _)| r.arr)
        .sum();
    let up = period.arr_up_for_renewal;
    let actual_grr = if up > 0.0 { actual / up } else { 1.0 };
    ForecastCheck {
        forecast_on,
        model_version: model_version.to_string(),
        days: period.days,
        renewals: members.len(),
        arr_up_for_renewal: up,
        forecast_renewed_arr: period.expected_renewed_arr,
        actual_renewed_arr: actual,
        forecast_grr: period.forecast_grr,
        actual_grr,
        error: period.forecast_grr - actual_grr,
        within_range: period.grr_low <= actual_grr && actual_grr <= period.grr_high,
        churned: members.iter().filter(|(_, c)| *c).count(),
        expected_churns: members.iter().map(|(r, _)| r.churn_probability).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renewal(id: &str, days: i64, arr: f64, p: f64, tier: &str) -> Renewal {
        Renewal {
            account_id: id.into(),
            account_name: id.into(),
            renewal_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()
                + chrono::Days::new(days as u64),
            days_to_renewal: days,
            arr,
            churn_probability: p,
            low: (p - 0.05).max(0.0),
            high: (p + 0.05).min(1.0),
            tier: tier.into(),
            health_colour: Some(if p > 0.4 {
                "red".into()
            } else {
                "green".into()
            }),
        }
    }

    #[test]
    fn expected_arr_ranges_and_periods() {
        let renewals = vec![
            renewal("a", 10, 1000.0, 0.5, "critical"),
            renewal("b", 45, 2000.0, 0.1, "elevated"),
            renewal("c", 120, 4000.0, 0.0, "low"),
            renewal("d", 200, 9000.0, 0.9, "critical"),
        ];
        let periods = forecast(
            &renewals,
            &[30, 60, 90, 180],
            None,
            1.1,
            &["critical", "high"],
            2000,
            1,
        );
        assert_eq!(periods[0].renewals, 1);
        assert!((periods[0].expected_renewed_arr - 500.0).abs() < 1e-9);
        assert_eq!(periods[1].renewals, 2);
        assert!((periods[1].expected_renewed_arr - 2300.0).abs() < 1e-9);
        assert!((periods[1].forecast_grr - 2300.0 / 3000.0).abs() < 1e-9);
        assert!((periods[1].forecast_nrr - 1.1 * 2300.0 / 3000.0).abs() < 1e-9);
        assert!(
            periods[1].grr_low <= periods[1].forecast_grr
                && periods[1].forecast_grr <= periods[1].grr_high
        );
        assert_eq!(periods[3].renewals, 3, "d renews after 180 days");
        assert_eq!(periods[3].at_risk_renewals, 1);
    }

    #[test]
    fn saving_half_the_red_renewals_halves_their_expected_loss() {
        let renewals = vec![
            renewal("a", 10, 1000.0, 0.6, "critical"),
            renewal("b", 20, 1000.0, 0.1, "elevated"),
        ];
        let base = forecast(&renewals, &[30], None, 1.0, &[], 100, 1);
        let scenario = Scenario::parse("red=50%").unwrap_or_else(|e| panic!("{e}"));
        let saved = forecast(&renewals, &[30], Some(&scenario), 1.0, &[], 100, 1);
        assert!((base[0].expected_churned_arr - 700.0).abs() < 1e-9);
        assert!((saved[0].expected_churned_arr - 400.0).abs() < 1e-9);
        assert!(Scenario::parse("red").is_err());
        assert!(Scenario::parse("red=2").is_err());
    }
}
