//! The monthly adoption report (`coco report adoption`): the book's adoption as
//! `coco adoption report` and `/api/v1/adoption/report` compute it
//! ([`crate::adoption::report`] over [`crate::adoption::book`]) — levels now and at the
//! baseline, breadth and depth across the portfolio, the least-adopted features, the
//! accounts needing attention and time to value.
//!
//! Facts: `as_of`, `baseline`, `book.{accounts,improved,declined,stable,breadth,
//! breadth_then,breadth_compared,breadth_change,breadth_change_abs,depth,depth_then}`,
//! `levels.{high,medium,low}.{now,then,share,change}`, `features.N.{name,share_without,
//! adopted_share,accounts_without,dropped}` (least adopted first), `attention.N.{id,name,
//! tier,arr,breadth,gap,cause,trend}`, `ttv.{measured,median_days,onboarding,
//! needs_acceleration}`.

use chrono::NaiveDate;
use coco_drafts::facts::Facts;
use coco_insights::adoption::progress::Trend;
use coco_store::Store;

use super::{cite, median};
use crate::drafts::AdoptionReportSettings;
use crate::{Config, EngineError};

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

pub fn facts(
    store: &Store,
    config: &Config,
    settings: &AdoptionReportSettings,
    as_of: NaiveDate,
) -> Result<Facts, EngineError> {
    let book = crate::adoption::book(store, config, as_of)?;
    let report = crate::adoption::report(store, config, &book, settings.attention)?;
    let at = Some(report.as_of);
    let snapshot = Some(format!("snapshot {}", book.data.base.snapshot.snapshot_id));
    let source = "adoption report (coco adoption report)";
    let mut facts = Facts::default();
    facts.date(
        "as_of",
        report.as_of,
        cite("snapshot.as_of", at, snapshot.clone()),
    );
    if let Some(baseline) = report.baseline {
        facts.date(
            "baseline",
            baseline,
            cite(
                "baseline snapshot (config/adoption.toml [progress] baseline_days)",
                Some(baseline),
                None,
            ),
        );
    }
    let total = report.accounts;
    facts.number(
        "book.accounts",
        total as f64,
        cite(source, at, snapshot.clone()),
    );
    for (key, trend) in [
        ("improved", report.improved),
        ("declined", report.declined),
        ("stable", report.stable),
    ] {
        facts.number(
            &format!("book.{key}"),
            trend as f64,
            cite(&format!("{source}: accounts {key}"), at, None),
        );
    }
    let breadth = mean(report.progress.iter().filter_map(|p| p.breadth_now));
    let compared: Vec<_> = report
        .progress
        .iter()
        .filter(|p| p.breadth_now.is_some() && p.breadth_then.is_some())
        .collect();
    let breadth_then = mean(compared.iter().filter_map(|p| p.breadth_then));
    let breadth_now_compared = mean(compared.iter().filter_map(|p| p.breadth_now));
    if let Some(b) = breadth {
        facts.number(
            "book.breadth",
            b,
            cite(
                "mean breadth (features used ÷ entitled) of the accounts",
                at,
                None,
            ),
        );
    }
    if let (Some(then), Some(now)) = (breadth_then, breadth_now_compared) {
        facts.number(
            "book.breadth_then",
            then,
            cite(
                "mean breadth at the baseline (accounts in both snapshots)",
                report.baseline,
                None,
            ),
        );
        facts.number(
            "book.breadth_compared",
            now,
            cite(
                "mean breadth now of the accounts in both snapshots",
                at,
                None,
            ),
        );
        facts.number(
            "book.breadth_change",
            now - then,
            cite(
                "mean breadth change of the accounts in both snapshots",
                at,
                None,
            ),
        );
        facts.number(
            "book.breadth_change_abs",
            (now - then).abs(),
            cite(
                "mean breadth change of the accounts in both snapshots",
                at,
                None,
            ),
        );
    }
    if let Some(depth) = median(report.progress.iter().filter_map(|p| p.depth_now).collect()) {
        facts.number(
            "book.depth",
            depth,
            cite(
                "median events_per_active_user_30d of the accounts",
                at,
                snapshot.clone(),
            ),
        );
    }
    if let Some(depth) = median(
        report
            .progress
            .iter()
            .filter_map(|p| p.depth_then)
            .collect(),
    ) {
        facts.number(
            "book.depth_then",
            depth,
            cite(
                "median events_per_active_user_30d at the baseline",
                report.baseline,
                None,
            ),
        );
    }
    for level in ["high", "medium", "low"] {
        let now = report.levels_now.get(level).copied().unwrap_or(0);
        facts.number(
            &format!("levels.{level}.now"),
            now as f64,
            cite(&format!("{source}: accounts at level {level}"), at, None),
        );
        if total > 0 {
            facts.number(
                &format!("levels.{level}.share"),
                now as f64 / total as f64,
                cite(&format!("accounts at level {level} ÷ accounts"), at, None),
            );
        }
        if report.baseline.is_some() {
            let then = report.levels_then.get(level).copied().unwrap_or(0);
            facts.number(
                &format!("levels.{level}.then"),
                then as f64,
                cite(
                    &format!("{source}: accounts at level {level} at the baseline"),
                    report.baseline,
                    None,
                ),
            );
            facts.number(
                &format!("levels.{level}.change"),
                now as f64 - then as f64,
                cite(
                    &format!("accounts at level {level}, now − baseline"),
                    at,
                    None,
                ),
            );
        }
    }
    for (i, feature) in report.systemic.iter().take(settings.features).enumerate() {
        let key = format!("features.{i}");
        facts.text(
            &format!("{key}.name"),
            &feature.name,
            cite(
                "feature catalogue",
                None,
                Some(format!("feature {}", feature.feature_key)),
            ),
        );
        facts.number(
            &format!("{key}.share_without"),
            feature.share_without,
            cite(
                "accounts with access not using it ÷ accounts with access",
                at,
                None,
            ),
        );
        facts.number(
            &format!("{key}.adopted_share"),
            1.0 - feature.share_without,
            cite(
                "accounts with access using it ÷ accounts with access",
                at,
                None,
            ),
        );
        facts.number(
            &format!("{key}.accounts_without"),
            feature.accounts_without as f64,
            cite("accounts with access not using it", at, None),
        );
        facts.number(
            &format!("{key}.dropped"),
            feature.dropped as f64,
            cite("accounts that used it before and dropped it", at, None),
        );
    }
    for (i, a) in report.attention.iter().enumerate() {
        let key = format!("attention.{i}");
        let record = Some(format!("accounts {}", a.account_id));
        facts.text(
            &format!("{key}.id"),
            &a.account_id,
            cite("accounts.account_id", None, record.clone()),
        );
        facts.text(
            &format!("{key}.name"),
            &a.account_name,
            cite("accounts.name", None, record.clone()),
        );
        if let Some(tier) = &a.plan_tier {
            facts.text(
                &format!("{key}.tier"),
                tier,
                cite("accounts.plan_tier", at, record.clone()),
            );
        }
        if let Some(arr) = a.arr {
            facts.number(
                &format!("{key}.arr"),
                arr,
                cite("contracts.arr", at, record.clone()),
            );
        }
        if let Some(breadth) = a.breadth {
            facts.number(
                &format!("{key}.breadth"),
                breadth,
                cite("adoption breadth", at, record.clone()),
            );
        }
        if let Some(gap) = &a.key_gap {
            facts.text(
                &format!("{key}.gap"),
                gap,
                cite("the most valuable adoption gap", at, record.clone()),
            );
        }
        if let Some(cause) = &a.cause {
            facts.text(
                &format!("{key}.cause"),
                cause,
                cite("adoption root cause", at, record.clone()),
            );
        }
        facts.text(
            &format!("{key}.trend"),
            match a.trend {
                Trend::Improved => "improved",
                Trend::Declined => "declined",
                Trend::Stable => "stable",
                Trend::New => "new",
            },
            cite("breadth against the baseline", at, record),
        );
    }
    let first_value: Vec<f64> = book
        .time_to_value
        .iter()
        .filter_map(|t| t.first_value_days.map(|d| d as f64))
        .collect();
    facts.number(
        "ttv.measured",
        first_value.len() as f64,
        cite("accounts with a measured time to first value", at, None),
    );
    if let Some(days) = median(first_value) {
        facts.number(
            "ttv.median_days",
            days,
            cite(
                "median days from start to first value (time to value)",
                at,
                None,
            ),
        );
    }
    facts.number(
        "ttv.onboarding",
        book.time_to_value.iter().filter(|t| t.onboarding).count() as f64,
        cite("onboarding accounts (time to value)", at, None),
    );
    facts.number(
        "ttv.needs_acceleration",
        book.time_to_value
            .iter()
            .filter(|t| t.needs_acceleration)
            .count() as f64,
        cite(
            "onboarding accounts predicted to reach first value late",
            at,
            None,
        ),
    );
    Ok(facts)
}

pub fn layout() -> serde_json::Value {
    serde_json::json!({"features": [], "attention": [], "levels": {}, "ttv": {}})
}
