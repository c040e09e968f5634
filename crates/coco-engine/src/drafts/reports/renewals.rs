//! The renewal forecast report (`coco report renewals`): the renewals due within
//! `config/drafts.toml [renewals_report] days`, from the forecast `coco renewals
//! forecast` and `/api/v1/renewals/forecast` show ([`crate::renewals::renewal_forecast`]):
//! by month, expected vs at-risk ARR, forecast GRR/NRR with their range, how earlier
//! forecasts compared with what happened, and the riskiest renewals with their churn
//! probability and the model's drivers. Without a trained churn model the report says so
//! and counts the renewals by health colour instead (red = at risk).
//!
//! Facts: `as_of`, `window.{days,to}`, `basis` (`model` or `health`), `model.version`,
//! `forecast.{renewals,arr,expected_arr,churned_arr,at_risk_arr,at_risk_renewals,
//! at_risk_share,grr,grr_low,grr_high,nrr}`, `months.N.{label_en,label_zh,renewals,arr,
//! expected_arr,at_risk_arr}`, `accuracy.{checks,within,forecast_on,days,forecast_grr,
//! actual_grr,error_abs}`, `riskiest.N.{id,name,renewal_date,days,arr,probability,tier,
//! colour,score,drivers.M.{feature,sentence}}`.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use coco_drafts::facts::Facts;
use coco_store::Store;
use coco_store::snapshots::{HealthListFilter, HealthSort};

use super::cite;
use crate::drafts::RenewalsReportSettings;
use crate::portfolio::snapshot_pair;
use crate::{Config, EngineError};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[derive(Default)]
struct Month {
    renewals: usize,
    arr: f64,
    expected: f64,
    at_risk: f64,
}

fn push_months(
    facts: &mut Facts,
    months: &BTreeMap<(i32, u32), Month>,
    basis: &str,
    at: Option<NaiveDate>,
) {
    for (i, ((year, month), m)) in months.iter().enumerate() {
        let key = format!("months.{i}");
        let name = MONTHS[(*month as usize).saturating_sub(1) % 12];
        facts.text(
            &format!("{key}.label_en"),
            format!("{name} {year}"),
            cite("renewal month", None, None),
        );
        facts.text(
            &format!("{key}.label_zh"),
            format!("{year}年{month}月"),
            cite("renewal month", None, None),
        );
        facts.number(
            &format!("{key}.renewals"),
            m.renewals as f64,
            cite("renewals due in the month", at, None),
        );
        facts.number(
            &format!("{key}.arr"),
            m.arr,
            cite("ARR up for renewal in the month", at, None),
        );
        if basis == "model" {
            facts.number(
                &format!("{key}.expected_arr"),
                m.expected,
                cite("Σ ARR × (1 − churn probability) in the month", at, None),
            );
        }
        facts.number(
            &format!("{key}.at_risk_arr"),
            m.at_risk,
            cite(
                if basis == "model" {
                    "ARR of critical/high-risk renewals in the month"
                } else {
                    "ARR of red renewals in the month"
                },
                at,
                None,
            ),
        );
    }
}

pub fn facts(
    store: &Store,
    config: &Config,
    settings: &RenewalsReportSettings,
    as_of: NaiveDate,
) -> Result<Facts, EngineError> {
    match crate::renewals::renewal_forecast(store, config, as_of, None) {
        Ok(forecast) => model_facts(store, config, settings, as_of, &forecast),
        Err(EngineError::NotFound(_)) => health_facts(store, config, settings, as_of),
        Err(other) => Err(other),
    }
}

fn window_facts(
    facts: &mut Facts,
    settings: &RenewalsReportSettings,
    start: NaiveDate,
) -> NaiveDate {
    let to = start + Days::new(u64::from(settings.days));
    facts.date("as_of", start, cite("snapshot.as_of", Some(start), None));
    facts.number(
        "window.days",
        f64::from(settings.days),
        cite("config/drafts.toml [renewals_report] days", None, None),
    );
    facts.date(
        "window.to",
        to,
        cite("as_of + [renewals_report] days", None, None),
    );
    to
}

fn model_facts(
    store: &Store,
    config: &Config,
    settings: &RenewalsReportSettings,
    as_of: NaiveDate,
    forecast: &crate::renewals::RenewalForecast,
) -> Result<Facts, EngineError> {
    let mut facts = Facts::default();
    let start = forecast.snapshot_as_of;
    let at = Some(start);
    window_facts(&mut facts, settings, start);
    let source = format!("renewal forecast, model {}", forecast.model_version);
    facts.text("basis", "model", cite("promoted churn model", at, None));
    facts.text(
        "model.version",
        &forecast.model_version,
        cite("model registry", None, None),
    );
    if let Some(period) = forecast.periods.iter().find(|p| p.days == settings.days) {
        facts.number(
            "forecast.renewals",
            period.renewals as f64,
            cite(&source, at, None),
        );
        facts.number(
            "forecast.arr",
            period.arr_up_for_renewal,
            cite(&format!("{source}: ARR up for renewal"), at, None),
        );
        facts.number(
            "forecast.expected_arr",
            period.expected_renewed_arr,
            cite(&format!("{source}: expected renewed ARR"), at, None),
        );
        facts.number(
            "forecast.churned_arr",
            period.expected_churned_arr,
            cite(&format!("{source}: expected churned ARR"), at, None),
        );
        facts.number(
            "forecast.at_risk_arr",
            period.at_risk_arr,
            cite(
                &format!("{source}: ARR of critical/high-risk renewals"),
                at,
                None,
            ),
        );
        facts.number(
            "forecast.at_risk_renewals",
            period.at_risk_renewals as f64,
            cite(&format!("{source}: critical/high-risk renewals"), at, None),
        );
        if period.arr_up_for_renewal > 0.0 {
            facts.number(
                "forecast.at_risk_share",
                period.at_risk_arr / period.arr_up_for_renewal,
                cite("at-risk ARR ÷ ARR up for renewal", at, None),
            );
        }
        facts.number(
            "forecast.grr",
            period.forecast_grr,
            cite(&format!("{source}: forecast GRR"), at, None),
        );
        facts.number(
            "forecast.grr_low",
            period.grr_low,
            cite(&format!("{source}: GRR range, low"), at, None),
        );
        facts.number(
            "forecast.grr_high",
            period.grr_high,
            cite(&format!("{source}: GRR range, high"), at, None),
        );
        facts.number(
            "forecast.nrr",
            period.forecast_nrr,
            cite(&format!("{source}: forecast NRR"), at, None),
        );
    }
    let due: Vec<&crate::renewals::UpcomingRenewal> = forecast
        .upcoming
        .iter()
        .filter(|u| u.renewal.days_to_renewal <= i64::from(settings.days))
        .collect();
    let mut months: BTreeMap<(i32, u32), Month> = BTreeMap::new();
    for u in &due {
        let m = months
            .entry((
                u.renewal.renewal_date.year(),
                u.renewal.renewal_date.month(),
            ))
            .or_default();
        m.renewals += 1;
        m.arr += u.renewal.arr;
        m.expected += u.expected_arr;
        if ["critical", "high"].contains(&u.renewal.tier.as_str()) {
            m.at_risk += u.renewal.arr;
        }
    }
    push_months(&mut facts, &months, "model", at);
    // The model's measured accuracy: the checks of the report's period, newest first.
    let checks: Vec<_> = forecast
        .accuracy
        .iter()
        .filter(|c| c.days == settings.days)
        .collect();
    facts.number(
        "accuracy.checks",
        checks.len() as f64,
        cite("earlier forecasts whose period ended", at, None),
    );
    if let Some(last) = checks.iter().max_by_key(|c| c.forecast_on) {
        facts.number(
            "accuracy.within",
            checks.iter().filter(|c| c.within_range).count() as f64,
            cite(
                "earlier forecasts whose actual GRR fell in the forecast range",
                at,
                None,
            ),
        );
        facts.date(
            "accuracy.forecast_on",
            last.forecast_on,
            cite("forecast date", Some(last.forecast_on), None),
        );
        facts.number(
            "accuracy.forecast_grr",
            last.forecast_grr,
            cite("forecast GRR then", Some(last.forecast_on), None),
        );
        facts.number(
            "accuracy.actual_grr",
            last.actual_grr,
            cite("actual GRR of those renewals", at, None),
        );
        facts.number(
            "accuracy.error_abs",
            last.error.abs(),
            cite("|forecast − actual| GRR", at, None),
        );
    }
    let mut risky: Vec<&&crate::renewals::UpcomingRenewal> = due.iter().collect();
    // Riskiest first: the churn probability, then the ARR at stake.
    risky.sort_by(|a, b| {
        b.renewal
            .churn_probability
            .total_cmp(&a.renewal.churn_probability)
            .then_with(|| b.renewal.arr.total_cmp(&a.renewal.arr))
            .then_with(|| a.renewal.account_id.cmp(&b.renewal.account_id))
    });
    for (i, u) in risky.iter().take(settings.riskiest).enumerate() {
        let r = &u.renewal;
        let key = format!("riskiest.{i}");
        let record = Some(format!("accounts {}", r.account_id));
        facts.text(
            &format!("{key}.id"),
            &r.account_id,
            cite("accounts.account_id", None, record.clone()),
        );
        facts.text(
            &format!("{key}.name"),
            &r.account_name,
            cite("accounts.name", None, record.clone()),
        );
        facts.date(
            &format!("{key}.renewal_date"),
            r.renewal_date,
            cite("contracts.end_date", at, record.clone()),
        );
        facts.number(
            &format!("{key}.days"),
            r.days_to_renewal as f64,
            cite("days_to_renewal", at, record.clone()),
        );
        facts.number(
            &format!("{key}.arr"),
            r.arr,
            cite("contracts.arr", at, record.clone()),
        );
        facts.number(
            &format!("{key}.probability"),
            r.churn_probability,
            cite(
                &format!("churn probability, model {}", forecast.model_version),
                at,
                record.clone(),
            ),
        );
        facts.text(
            &format!("{key}.tier"),
            &r.tier,
            cite("risk tier", at, record.clone()),
        );
        if let Some(colour) = &r.health_colour {
            facts.text(
                &format!("{key}.colour"),
                colour,
                cite("health_colour", at, record.clone()),
            );
        }
        let drivers = crate::churn::scoring::stored_predictions(
            store,
            Some(config),
            as_of,
            Some(&r.account_id),
        )?
        .and_then(|(_, p)| p.into_iter().next())
        .map(|p| p.explanation.up)
        .unwrap_or_default();
        // The renewal date itself raises every renewal's risk: not a driver worth naming.
        let named = drivers.iter().filter(|d| d.feature != "days_to_renewal");
        for (j, d) in named.take(3).enumerate() {
            facts.text(
                &format!("{key}.drivers.{j}.feature"),
                &d.feature,
                cite("churn model driver", at, record.clone()),
            );
            facts.text(
                &format!("{key}.drivers.{j}.sentence"),
                d.sentence.trim_end_matches('.'),
                cite("churn model driver", at, record.clone()),
            );
        }
    }
    Ok(facts)
}

/// Without a churn model: the renewals due by health colour (red = at risk).
fn health_facts(
    store: &Store,
    config: &Config,
    settings: &RenewalsReportSettings,
    as_of: NaiveDate,
) -> Result<Facts, EngineError> {
    let current = snapshot_pair(store, config, as_of, 0)?.current;
    let at = Some(current.as_of);
    let snapshot = Some(format!("snapshot {}", current.snapshot_id));
    let mut facts = Facts::default();
    let to = window_facts(&mut facts, settings, current.as_of);
    facts.text(
        "basis",
        "health",
        cite("no churn model registered (coco model train)", None, None),
    );
    let rows = store.health_list(
        current.snapshot_id,
        None,
        &HealthListFilter {
            renewal_from: Some(current.as_of + Days::new(1)),
            renewal_to: Some(to),
            sort: HealthSort::Arr,
            ..HealthListFilter::default()
        },
    )?;
    let arr: f64 = rows.iter().filter_map(|r| r.arr).sum();
    let red: Vec<_> = rows.iter().filter(|r| r.colour == "red").collect();
    let at_risk: f64 = red.iter().filter_map(|r| r.arr).sum();
    facts.number(
        "forecast.renewals",
        rows.len() as f64,
        cite("accounts renewing in the window", at, snapshot.clone()),
    );
    facts.number(
        "forecast.arr",
        arr,
        cite(
            "Σ contracts.arr of the accounts renewing",
            at,
            snapshot.clone(),
        ),
    );
    facts.number(
        "forecast.at_risk_arr",
        at_risk,
        cite("Σ ARR of red accounts renewing", at, snapshot.clone()),
    );
    facts.number(
        "forecast.at_risk_renewals",
        red.len() as f64,
        cite("red accounts renewing", at, snapshot.clone()),
    );
    if arr > 0.0 {
        facts.number(
            "forecast.at_risk_share",
            at_risk / arr,
            cite("at-risk ARR ÷ ARR up for renewal", at, None),
        );
    }
    let mut months: BTreeMap<(i32, u32), Month> = BTreeMap::new();
    for r in &rows {
        let Some(date) = r.renewal_date else { continue };
        let m = months.entry((date.year(), date.month())).or_default();
        m.renewals += 1;
        m.arr += r.arr.unwrap_or(0.0);
        if r.colour == "red" {
            m.at_risk += r.arr.unwrap_or(0.0);
        }
    }
    push_months(&mut facts, &months, "health", at);
    let mut risky: Vec<_> = rows.iter().filter(|r| r.colour != "green").collect();
    risky.sort_by(|a, b| {
        a.score
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.score.unwrap_or(f64::INFINITY))
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    for (i, row) in risky.iter().take(settings.riskiest).enumerate() {
        let key = format!("riskiest.{i}");
        super::push_account(
            &mut facts,
            &key,
            row,
            at,
            &format!("snapshot {}", current.snapshot_id),
        );
        if let Some(date) = row.renewal_date {
            facts.number(
                &format!("{key}.days"),
                (date - current.as_of).num_days() as f64,
                cite("days_to_renewal", at, None),
            );
        }
    }
    Ok(facts)
}

pub fn layout() -> serde_json::Value {
    serde_json::json!({"months": [], "riskiest": [], "forecast": {}, "accuracy": {}, "model": {}})
}
