//! The reports (issue 9, G4) on a fixed demo book: portfolio, adoption, renewals,
//! anomaly, benchmark and lifecycle, each in English and Chinese as insta snapshots;
//! each passes the grounding checker with claims; the anomaly report ranks its
//! hypotheses best first and names its metric; the benchmark's percentiles are
//! percentiles; the one-account reports refuse a missing or unknown account, an unknown
//! metric and too little history with a clear message.

mod common;

use chrono::{Days, NaiveDate};
use coco_drafts::document::Locale;
use coco_drafts::draft::Draft;
use coco_drafts::facts::FactValue;
use coco_engine::drafts::Drafting;
use coco_engine::drafts::reports::{Report, ReportRequest, report};
use coco_engine::{Config, EngineError};
use coco_store::Store;
use coco_store::snapshots::{HealthListFilter, HealthSort};

fn number(draft: &Draft, key: &str) -> Option<f64> {
    draft.facts.get(key).and_then(|f| match f.value {
        FactValue::Number(n) => Some(n),
        _ => None,
    })
}

fn text(draft: &Draft, key: &str) -> Option<String> {
    draft.facts.get(key).and_then(|f| match &f.value {
        FactValue::Text(t) => Some(t.clone()),
        _ => None,
    })
}

#[allow(clippy::too_many_arguments)]
fn write(
    store: &Store,
    config: &Config,
    drafting: &Drafting,
    kind: Report,
    as_of: NaiveDate,
    locale: Locale,
    account: Option<&str>,
    metric: Option<&str>,
) -> Result<Draft, EngineError> {
    report(
        store,
        config,
        drafting,
        &ReportRequest {
            report: kind,
            as_of,
            locale,
            account: account.map(str::to_string),
            metric: metric.map(str::to_string),
        },
    )
}

fn invalid(result: Result<Draft, EngineError>) -> String {
    match result {
        Err(EngineError::Invalid(message)) => message,
        Err(other) => panic!("expected an invalid request, got {other}"),
        Ok(_) => panic!("expected an invalid request, got a draft"),
    }
}

#[test]
fn every_report_in_both_locales_is_grounded_and_snapshotted() {
    let (_dir, store, config, as_of) = common::drafts_fixture();
    let drafting = Drafting::load(None, None).unwrap();
    // The largest account, the same on every run.
    let snapshot = coco_engine::portfolio::snapshot_pair(&store, &config, as_of, 0)
        .unwrap()
        .current;
    let largest = store
        .health_list(
            snapshot.snapshot_id,
            None,
            &HealthListFilter {
                sort: HealthSort::Arr,
                limit: Some(1),
                ..HealthListFilter::default()
            },
        )
        .unwrap()
        .remove(0)
        .account_id;

    let cases: Vec<(String, Report, Option<&str>, Option<&str>)> = vec![
        ("portfolio".into(), Report::Portfolio, None, None),
        ("adoption".into(), Report::Adoption, None, None),
        ("renewals".into(), Report::Renewals, None, None),
        ("anomaly".into(), Report::Anomaly, Some(&largest), None),
        (
            "anomaly_metric".into(),
            Report::Anomaly,
            Some(&largest),
            Some("active_users_30d"),
        ),
        ("benchmark".into(), Report::Benchmark, Some(&largest), None),
        ("lifecycle".into(), Report::Lifecycle, None, None),
    ];
    for (name, kind, account, metric) in &cases {
        for locale in Locale::ALL {
            let draft = write(
                &store, &config, &drafting, *kind, as_of, locale, *account, *metric,
            )
            .unwrap_or_else(|e| panic!("{name} {locale}: {e}"));
            assert!(
                draft.grounding.passed(),
                "{name} {locale}: {}\n{}",
                draft.grounding.explain(),
                draft.markdown
            );
            assert!(
                !draft.grounding.claims.is_empty(),
                "{name} {locale}: no claims"
            );
            assert!(
                draft.footnotes().iter().all(|f| !f.cited.source.is_empty()),
                "{name} {locale}: a footnote without a source"
            );
            assert!(
                !draft.markdown.contains("{{") && !draft.markdown.contains("undefined"),
                "{name} {locale}: template residue\n{}",
                draft.markdown
            );
            insta::assert_snapshot!(format!("report_{name}_{locale}"), draft.markdown);

            match *kind {
                Report::Anomaly => {
                    let scores: Vec<f64> = (0..)
                        .map_while(|i| number(&draft, &format!("hypotheses.{i}.score")))
                        .collect();
                    assert!(scores.len() >= 3, "{name}: {scores:?}");
                    assert!(
                        scores.windows(2).all(|w| w[0] >= w[1]),
                        "{name}: hypotheses not ranked best first: {scores:?}"
                    );
                    let investigated = text(&draft, "metric.name").unwrap();
                    match metric {
                        Some(m) => {
                            assert_eq!(&investigated, m);
                            assert_eq!(text(&draft, "anomaly.chosen").unwrap(), "given");
                        }
                        None => assert_eq!(text(&draft, "anomaly.chosen").unwrap(), "furthest"),
                    }
                    assert!(draft.markdown.contains(&format!("`{investigated}`")));
                    let (low, high) = (
                        number(&draft, "metric.low").unwrap(),
                        number(&draft, "metric.high").unwrap(),
                    );
                    assert!(low <= high);
                }
                Report::Benchmark => {
                    let percentiles: Vec<f64> = (0..)
                        .map_while(|i| number(&draft, &format!("metrics.{i}.percentile")))
                        .collect();
                    assert!(percentiles.len() >= 4, "{percentiles:?}");
                    assert!(
                        percentiles.iter().all(|p| (0.0..=100.0).contains(p)),
                        "{percentiles:?}"
                    );
                    let shown = number(&draft, "summary.shown").unwrap();
                    assert_eq!(shown, percentiles.len() as f64);
                    let verdicts = number(&draft, "summary.better").unwrap()
                        + number(&draft, "summary.worse").unwrap()
                        + number(&draft, "summary.in_line").unwrap();
                    assert_eq!(verdicts, shown);
                }
                Report::Renewals => {
                    let due = number(&draft, "forecast.renewals").unwrap();
                    let by_month: f64 = (0..)
                        .map_while(|i| number(&draft, &format!("months.{i}.renewals")))
                        .sum();
                    assert_eq!(due, by_month, "months add up to the renewals due");
                }
                Report::Lifecycle => {
                    let accounts = number(&draft, "book.accounts").unwrap();
                    let by_stage: f64 = (0..)
                        .map_while(|i| number(&draft, &format!("stages.{i}.accounts")))
                        .sum();
                    assert_eq!(accounts, by_stage, "stages add up to the book");
                    assert!(number(&draft, "retention.decided").is_some());
                }
                Report::Adoption => {
                    let accounts = number(&draft, "book.accounts").unwrap();
                    let levels: f64 = ["high", "medium", "low"]
                        .iter()
                        .map(|l| number(&draft, &format!("levels.{l}.now")).unwrap())
                        .sum();
                    assert_eq!(accounts, levels);
                }
                Report::Portfolio => {}
            }
        }
    }

    // The one-account reports hold for many accounts, not just the snapshotted one.
    let accounts = store
        .health_list(
            snapshot.snapshot_id,
            None,
            &HealthListFilter {
                sort: HealthSort::Arr,
                limit: Some(30),
                ..HealthListFilter::default()
            },
        )
        .unwrap();
    for row in &accounts {
        for kind in [Report::Anomaly, Report::Benchmark] {
            for locale in Locale::ALL {
                let id = row.account_id.as_str();
                match write(
                    &store,
                    &config,
                    &drafting,
                    kind,
                    as_of,
                    locale,
                    Some(id),
                    None,
                ) {
                    Ok(draft) => assert!(
                        draft.grounding.passed(),
                        "{} {id} {locale}: {}",
                        kind.as_str(),
                        draft.grounding.explain()
                    ),
                    // A customer of a few weeks has no normal range yet.
                    Err(EngineError::Invalid(m))
                        if kind == Report::Anomaly && m.contains("too little history") => {}
                    Err(e) => panic!("{} {id} {locale}: {e}", kind.as_str()),
                }
            }
        }
    }

    // Clear errors for the one-account reports.
    for kind in [Report::Anomaly, Report::Benchmark] {
        let message = invalid(write(
            &store,
            &config,
            &drafting,
            kind,
            as_of,
            Locale::En,
            None,
            None,
        ));
        assert!(message.contains("--account"), "{message}");
        let message = invalid(write(
            &store,
            &config,
            &drafting,
            kind,
            as_of,
            Locale::En,
            Some("acc_nobody"),
            None,
        ));
        assert!(message.contains("acc_nobody"), "{message}");
    }
    let message = invalid(write(
        &store,
        &config,
        &drafting,
        Report::Anomaly,
        as_of,
        Locale::En,
        Some(&largest),
        Some("no_such_metric"),
    ));
    assert!(
        message.contains("no_such_metric")
            && message.contains(&largest)
            && message.contains("expected"),
        "{message}"
    );
    // Four weekly snapshots before the date are too few for a normal range.
    let early = as_of - Days::new(7 * 9);
    let message = invalid(write(
        &store,
        &config,
        &drafting,
        Report::Anomaly,
        early,
        Locale::En,
        Some(&largest),
        Some("active_users_30d"),
    ));
    assert!(
        message.contains("too little history") && message.contains("active_users_30d"),
        "{message}"
    );
    let message = "nope".parse::<Report>().unwrap_err().to_string();
    for kind in Report::ALL {
        assert!(message.contains(kind.as_str()), "{message}");
        assert_eq!(kind.as_str().parse::<Report>().unwrap(), kind);
    }
}

/// With a churn model trained on enough weekly history: expected ARR, the GRR range and
/// the model's drivers of the riskiest renewals.
#[test]
fn the_renewals_report_with_a_churn_model_forecasts_expected_arr() {
    let as_of = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let (_dir, store) = common::demo_store(300, 9, as_of);
    let config = Config::load(None).unwrap();
    coco_engine::backfill(
        &store,
        &config,
        as_of - Days::new(7 * 48),
        as_of,
        7,
        &mut |_| {},
    )
    .unwrap();
    let drafting = Drafting::load(None, None).unwrap();
    coco_engine::churn::history::train_history(
        &store,
        &config,
        coco_models::train::KindChoice::Auto,
        None,
        &mut |_: &str| {},
    )
    .unwrap();
    coco_engine::churn::scoring::score_accounts(&store, &config, as_of, None).unwrap();
    for locale in Locale::ALL {
        let draft = write(
            &store,
            &config,
            &drafting,
            Report::Renewals,
            as_of,
            locale,
            None,
            None,
        )
        .unwrap();
        assert!(
            draft.grounding.passed(),
            "renewals with a model {locale}: {}\n{}",
            draft.grounding.explain(),
            draft.markdown
        );
        assert_eq!(text(&draft, "basis").unwrap(), "model");
        let expected = number(&draft, "forecast.expected_arr").unwrap();
        let arr = number(&draft, "forecast.arr").unwrap();
        assert!(expected <= arr + 1e-6, "{expected} > {arr}");
        let probabilities: Vec<f64> = (0..)
            .map_while(|i| number(&draft, &format!("riskiest.{i}.probability")))
            .collect();
        assert!(
            !probabilities.is_empty() && probabilities.iter().all(|p| (0.0..=1.0).contains(p)),
            "{probabilities:?}"
        );
        insta::assert_snapshot!(format!("report_renewals_model_{locale}"), draft.markdown);
    }
}
