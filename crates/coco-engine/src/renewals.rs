//! The renewal forecast (H5) over the store: which accounts renew in the next 30/60/90/180
//! days, how likely each is to churn (the promoted history model), expected renewed ARR,
//! forecast GRR/NRR with ranges, a what-if scenario, and how earlier forecasts compared
//! with what happened. The arithmetic is `coco_models::forecast` (pure).
//!
//! A churn model predicts churn within its horizon (90 days by default). A renewal due
//! later than the horizon is scored as if it were due `horizon × 2/3` days ahead with
//! today's signals — the risk the account would carry into that renewal if nothing
//! changed. These renewals are marked `projected`, and the forecast-vs-actual check
//! measures how good that is. A renewal whose outcome is already recorded (decided
//! before the forecast date) counts as certain.

use std::collections::HashMap;

use chrono::NaiveDate;
use coco_models::Values;
use coco_models::forecast::{ForecastCheck, PeriodForecast, Renewal, Scenario, check, forecast};
use coco_models::train::ChurnModel;
use coco_store::Store;
use coco_store::snapshots::HealthListFilter;
use coco_store::training::RenewalDecision;
use serde::Serialize;

use crate::churn::history::{churn_history, feature_table};
use crate::churn::{MODE_HISTORY, load_model};
use crate::{Config, EngineError};

pub const PERIODS: [u32; 4] = [30, 60, 90, 180];
const SIMULATIONS: usize = 1000;
/// Tiers counted as "at risk" in the forecast.
const AT_RISK_TIERS: [&str; 2] = ["critical", "high"];

#[derive(Debug, Clone, Serialize)]
pub struct UpcomingRenewal {
    #[serde(flatten)]
    pub renewal: Renewal,
    /// Expected renewed ARR: ARR × (1 − churn probability).
    pub expected_arr: f64,
    /// How the probability was obtained (see [`Basis`]).
    pub basis: Basis,
}

/// Where a renewal's churn probability comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The model, the renewal being within its horizon.
    Model,
    /// The model, scored as if due within its horizon (module docs).
    Projected,
    /// The outcome is already recorded (decided before the forecast date): 0 or 1.
    Decided,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenewalForecast {
    pub as_of: NaiveDate,
    pub snapshot_as_of: NaiveDate,
    pub model_version: String,
    pub horizon_days: u32,
    pub net_change_ratio: f64,
    pub periods: Vec<PeriodForecast>,
    pub scenario: Option<Scenario>,
    pub scenario_periods: Vec<PeriodForecast>,
    /// Renewals due within the longest period, soonest first.
    pub upcoming: Vec<UpcomingRenewal>,
    /// Earlier forecasts whose period has ended, against what happened.
    pub accuracy: Vec<ForecastCheck>,
    pub notes: Vec<String>,
}

fn by_account(decisions: &[RenewalDecision]) -> HashMap<&str, Vec<&RenewalDecision>> {
    let mut map: HashMap<&str, Vec<&RenewalDecision>> = HashMap::new();
    for d in decisions {
        map.entry(d.account_id.as_str()).or_default().push(d);
    }
    map
}

/// Renewals of a snapshot (due within 180 days) with their churn probabilities.
fn renewals_at(
    store: &Store,
    model: &ChurnModel,
    horizon: u32,
    snapshot_id: i64,
    as_of: NaiveDate,
    decisions: &HashMap<&str, Vec<&RenewalDecision>>,
) -> Result<Vec<(Renewal, Basis)>, EngineError> {
    let mut rows = store.feature_rows(&[snapshot_id])?;
    let longest = i64::from(PERIODS[PERIODS.len() - 1]);
    let due: Vec<usize> = (0..rows.len())
        .filter(|r| {
            rows.renewal_dates[*r].is_some_and(|d| {
                let days = (d - as_of).num_days();
                days >= 1 && days <= longest
            })
        })
        .collect();
    let mut table = feature_table(&mut rows).select(&due);
    let arr: Vec<f64> = match table.column("arr").map(|c| &c.values) {
        Some(Values::Numeric(values)) => values.clone(),
        _ => vec![0.0; due.len()],
    };
    let projected_days = f64::from(horizon) * 2.0 / 3.0;
    let mut projected = vec![false; due.len()];
    if let Some(column) = table
        .columns
        .iter_mut()
        .find(|c| c.name == "days_to_renewal")
        && let Values::Numeric(values) = &mut column.values
    {
        for (i, value) in values.iter_mut().enumerate() {
            if *value > f64::from(horizon) {
                *value = projected_days;
                projected[i] = true;
            }
        }
    }
    let predictions = model.predict(&table)?;
    let colours: HashMap<String, String> = store
        .health_list(snapshot_id, None, &HealthListFilter::default())?
        .into_iter()
        .map(|h| (h.account_id, h.colour))
        .collect();
    Ok(due
        .iter()
        .zip(predictions)
        .zip(projected)
        .zip(arr)
        .map(|(((r, p), projected), arr)| {
            let renewal_date = rows.renewal_dates[*r].unwrap_or(as_of);
            // A renewal whose outcome is already recorded is no longer a guess.
            let decided = decisions
                .get(rows.account_ids[*r].as_str())
                .and_then(|list| {
                    list.iter().find(|d| {
                        d.decided_on <= as_of
                            && (d.renewal_date - renewal_date).num_days().abs() <= 31
                    })
                });
            let (probability, low, high, basis) = match decided {
                Some(d) => {
                    let p = if d.outcome == "churned" { 1.0 } else { 0.0 };
                    (p, p, p, Basis::Decided)
                }
                None if projected => (p.probability, p.low, p.high, Basis::Projected),
                None => (p.probability, p.low, p.high, Basis::Model),
            };
            (
                Renewal {
                    account_id: rows.account_ids[*r].clone(),
                    account_name: rows.account_names[*r].clone(),
                    renewal_date,
                    days_to_renewal: (renewal_date - as_of).num_days(),
                    arr: if arr.is_nan() { 0.0 } else { arr },
                    churn_probability: probability,
                    low,
                    high,
                    tier: if basis == Basis::Decided {
                        model.tier(probability)
                    } else {
                        p.tier.clone()
                    },
                    health_colour: colours.get(&rows.account_ids[*r]).cloned(),
                },
                basis,
            )
        })
        .collect())
}

/// The forecast as of `as_of` (the newest snapshot on or before it).
pub fn renewal_forecast(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    scenario: Option<Scenario>,
) -> Result<RenewalForecast, EngineError> {
    let (record, model) = load_model(store, None, MODE_HISTORY)?;
    let horizon = record
        .summary
        .horizon_days
        .map_or(config.models.label.horizon_days, |h| h as u32);
    let snapshot = store
        .snapshot_on_or_before(as_of, &config.catalogue.fingerprint())?
        .ok_or_else(|| {
            EngineError::NotFound(format!(
                "no snapshot on or before {as_of}; run `coco score` first"
            ))
        })?;
    let net_change_ratio = store
        .renewal_net_change(as_of - chrono::Days::new(365), as_of)?
        .unwrap_or(1.0);
    let seed = config.models.training.seed;
    let all_decisions = store.renewal_decisions()?;
    let decisions = by_account(&all_decisions);
    let renewals = renewals_at(
        store,
        &model,
        horizon,
        snapshot.snapshot_id,
        snapshot.as_of,
        &decisions,
    )?;
    let plain: Vec<Renewal> = renewals.iter().map(|(r, _)| r.clone()).collect();
    let periods = forecast(
        &plain,
        &PERIODS,
        None,
        net_change_ratio,
        &AT_RISK_TIERS,
        SIMULATIONS,
        seed,
    );
    let scenario_periods = match &scenario {
        Some(s) => forecast(
            &plain,
            &PERIODS,
            Some(s),
            net_change_ratio,
            &AT_RISK_TIERS,
            SIMULATIONS,
            seed,
        ),
        None => Vec::new(),
    };
    let mut upcoming: Vec<UpcomingRenewal> = renewals
        .into_iter()
        .map(|(renewal, basis)| UpcomingRenewal {
            expected_arr: renewal.arr * (1.0 - renewal.churn_probability),
            renewal,
            basis,
        })
        .collect();
    upcoming.sort_by(|a, b| {
        a.renewal
            .renewal_date
            .cmp(&b.renewal.renewal_date)
            .then(a.renewal.account_id.cmp(&b.renewal.account_id))
    });
    let accuracy = forecast_accuracy(store, config, as_of)?;
    let mut notes = vec![
        format!(
            "renewals due after the model's {horizon}-day horizon are scored as if due in {} days with today's signals (basis: projected)",
            horizon * 2 / 3
        ),
        "renewals whose outcome is already recorded count as certain (basis: decided)".to_string(),
    ];
    notes.push(format!(
        "net retention multiplies gross retention by {net_change_ratio:.3}, what non-churned renewals did to ARR over the last 365 days"
    ));
    if accuracy.is_empty() {
        notes.push("no earlier forecast has reached its end yet: forecast-vs-actual appears once predictions stored at a past date (by a model trained only on data up to then) have seen their renewals".into());
    }
    Ok(RenewalForecast {
        as_of,
        snapshot_as_of: snapshot.as_of,
        model_version: record.summary.version,
        horizon_days: horizon,
        net_change_ratio,
        periods,
        scenario,
        scenario_periods,
        upcoming,
        accuracy,
        notes,
    })
}

/// Every earlier forecast (a snapshot scored by a model that learned only from data up
/// to it) whose period ended by `as_of`, against the churns that followed.
pub fn forecast_accuracy(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
) -> Result<Vec<ForecastCheck>, EngineError> {
    let history = churn_history(store, config, as_of)?;
    let all_decisions = store.renewal_decisions()?;
    let decisions = by_account(&all_decisions);
    let mut checks = Vec::new();
    for (snapshot_id, forecast_on, model_id) in store.point_in_time_predictions()? {
        let ended: Vec<u32> = PERIODS
            .iter()
            .copied()
            .filter(|d| forecast_on + chrono::Days::new(u64::from(*d)) <= as_of)
            .collect();
        if ended.is_empty() {
            continue;
        }
        let Some(record) = store.model_by_id(model_id)? else {
            continue;
        };
        let model = ChurnModel::from_json(&record.artifact)?;
        let horizon = record
            .summary
            .horizon_days
            .map_or(config.models.label.horizon_days, |h| h as u32);
        let renewals = renewals_at(store, &model, horizon, snapshot_id, forecast_on, &decisions)?;
        let plain: Vec<Renewal> = renewals.iter().map(|(r, _)| r.clone()).collect();
        let periods = forecast(
            &plain,
            &ended,
            None,
            1.0,
            &AT_RISK_TIERS,
            SIMULATIONS,
            config.models.training.seed,
        );
        for period in &periods {
            let members: Vec<(&Renewal, bool)> = plain
                .iter()
                .filter(|r| r.days_to_renewal <= i64::from(period.days))
                .map(|r| {
                    // Churned at this renewal: a churn dated after the forecast and no
                    // later than a month past the renewal date.
                    let churned = history.events(&r.account_id).iter().any(|e| {
                        e.churn_date > forecast_on
                            && e.churn_date <= r.renewal_date + chrono::Days::new(31)
                    });
                    (r, churned)
                })
                .collect();
            checks.push(check(
                period,
                &members,
                forecast_on,
                &record.summary.version,
            ));
        }
    }
    Ok(checks)
}
