//! Expansion and adoption on the demo portfolio, through the real store: the accounts the
//! generator made expansion-ready (seat pressure) rank at the top of the pipeline
//! (precision@k against the base rate), every opportunity carries its evidence, the
//! backtest stores signal weights, recorded outcomes round-trip, adoption levels follow
//! the hidden adoption breadth, plans and campaigns work end to end — and results as of a
//! date do not change when everything after it is deleted from the sources.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use coco_engine::expansion::{self, OutcomeReport};
use coco_engine::{Config, adoption, backfill, score_as_of};
use coco_insights::adoption::Level;
use coco_insights::adoption::campaign::CampaignRule;
use coco_insights::expansion::SignalKind;
use coco_store::{IngestOptions, Store};
use common::{copy_until, demo_store, truth_rows as truth};

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

fn number(row: &BTreeMap<String, String>, name: &str) -> f64 {
    row.get(name).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

#[test]
fn expansion_ready_accounts_lead_the_pipeline_and_adoption_follows_the_hidden_breadth() {
    let (dir, store) = demo_store(1200, 11, end());
    let config = Config::load(None).unwrap();
    backfill(
        &store,
        &config,
        end() - Days::new(7 * 12),
        end(),
        7,
        &mut |_| {},
    )
    .unwrap();
    let truth = truth(dir.path());

    let run = expansion::pipeline(&store, &config, end(), Some(500_000.0)).unwrap();
    assert_eq!(run.as_of, end());
    assert!(run.opportunities.len() > 50, "{}", run.opportunities.len());
    // Priority order, and every opportunity explains itself.
    for pair in run.opportunities.windows(2) {
        assert!(pair[0].priority >= pair[1].priority);
    }
    for o in &run.opportunities {
        assert!(!o.signals.is_empty());
        for s in &o.signals {
            assert!(
                !s.evidence.is_empty(),
                "{} {:?} has no evidence",
                o.id,
                s.kind
            );
            assert!(!s.summary.is_empty());
        }
        assert!(o.sizing.uplift_arr >= 0.0 && o.sizing.expected_arr <= o.sizing.uplift_arr + 1e-9);
        assert!(!o.timing.reasons.is_empty());
        assert!(!o.talking_points.opening.is_empty());
        assert!(o.id.starts_with(&o.account_id));
    }
    let s = &run.summary;
    let total: f64 = run
        .opportunities
        .iter()
        .map(|o| o.sizing.expected_arr)
        .sum();
    assert!((s.expected_arr - total).abs() < 1e-6);
    assert!(s.coverage.is_some());

    // Precision@k: accounts with hidden seat pressure (utilisation above 85%) among the
    // top of the pipeline, against their share of all accounts.
    let ready = |id: &str| {
        truth
            .get(id)
            .is_some_and(|row| number(row, "seat_utilisation") > 0.85)
    };
    let alive: Vec<&String> = truth
        .iter()
        .filter(|(_, row)| row["churned_on"].is_empty())
        .map(|(id, _)| id)
        .collect();
    let base_rate = alive.iter().filter(|id| ready(id)).count() as f64 / alive.len() as f64;
    let mut seen = BTreeSet::new();
    let top: Vec<&str> = run
        .opportunities
        .iter()
        .filter(|o| o.kind == coco_insights::expansion::OpportunityKind::Seats)
        .map(|o| o.account_id.as_str())
        .filter(|id| seen.insert(*id))
        .take(50)
        .collect();
    let precision = top.iter().filter(|id| ready(id)).count() as f64 / top.len() as f64;
    eprintln!(
        "seat opportunities: precision@50 {precision:.2} against a base rate of {base_rate:.2}"
    );
    assert!(precision >= 0.6, "precision@50 {precision}");
    assert!(
        precision >= 2.5 * base_rate,
        "precision@50 {precision} vs base {base_rate}"
    );

    // The seat-pressure signal names its run of weeks and a projected limit date.
    let seat = run
        .opportunities
        .iter()
        .flat_map(|o| &o.signals)
        .find(|s| s.kind == SignalKind::SeatPressure)
        .expect("some account has seat pressure");
    assert!(seat.summary.contains("week"), "{}", seat.summary);
    assert!(
        seat.evidence
            .iter()
            .any(|e| e.metric.as_deref() == Some("seat_assignment"))
    );

    // Cross-sell: look-alike propensities for the modules an account lacks, from buyers
    // as they were before buying; a trained model once there are enough buyers.
    let data = expansion::load(&store, &config, end()).unwrap();
    let propensities: Vec<_> = data.cross_sell.iter().flatten().collect();
    assert!(
        !propensities.is_empty(),
        "buyers of an add-on exist in the demo"
    );
    assert!(
        propensities
            .iter()
            .all(|p| p.method.starts_with("look-alike"))
    );
    assert!(
        propensities
            .iter()
            .all(|p| (0.0..=1.0).contains(&p.propensity))
    );
    let mut trained_config = Config::load(None).unwrap();
    trained_config
        .expansion
        .signals
        .cross_sell
        .model_min_adopters = 5;
    let trained = expansion::load(&store, &trained_config, end()).unwrap();
    let methods: BTreeSet<&str> = trained
        .cross_sell
        .iter()
        .flatten()
        .map(|p| p.method.as_str())
        .collect();
    assert!(
        methods.iter().any(|m| m.starts_with("logistic model on")),
        "{methods:?}"
    );

    // One opportunity in full, and its talking points.
    let first = &run.opportunities[0];
    let shown =
        expansion::account_opportunities(&store, &config, end(), &first.account_id).unwrap();
    let same = shown.iter().find(|o| o.id == first.id).unwrap();
    assert_eq!(same.priority, first.priority);
    let markdown = coco_insights::expansion::talking::to_markdown(same);
    assert!(markdown.contains("## Opening") && markdown.contains("## Likely objections"));

    // Recording an outcome keeps the signals the opportunity had.
    let recorded = expansion::record_outcome(
        &store,
        &config,
        OutcomeReport {
            opportunity_id: first.id.clone(),
            outcome: "won".into(),
            decided_on: end(),
            arr_added: Some(1000.0),
            note: Some("signed".into()),
            recorded_by: Some("test".into()),
        },
    )
    .unwrap();
    let kinds: Vec<String> = serde_json::from_str(&recorded.signals).unwrap();
    assert_eq!(
        kinds,
        first
            .signals
            .iter()
            .map(|s| s.kind.as_str().to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(store.recorded_outcomes().unwrap().len(), 1);
    let bad = expansion::record_outcome(
        &store,
        &config,
        OutcomeReport {
            opportunity_id: "nonsense".into(),
            outcome: "won".into(),
            decided_on: end(),
            arr_added: None,
            note: None,
            recorded_by: None,
        },
    );
    assert!(bad.is_err());

    // Adoption: accounts the generator gave a narrow adoption are mostly at low level,
    // broad ones rarely.
    let book = adoption::book(&store, &config, end()).unwrap();
    let adoption_all = &book.accounts;
    let level = |narrow: bool| {
        let group: Vec<_> = adoption_all
            .iter()
            .filter(|a| {
                truth.get(&a.profile.account_id).is_some_and(|row| {
                    let breadth = number(row, "adoption_breadth");
                    if narrow {
                        breadth < 0.35
                    } else {
                        breadth > 0.7
                    }
                })
            })
            .collect();
        let low = group
            .iter()
            .filter(|a| a.profile.level == Level::Low)
            .count();
        low as f64 / group.len().max(1) as f64
    };
    let (narrow, broad) = (level(true), level(false));
    eprintln!("low adoption: {narrow:.2} of narrow accounts, {broad:.2} of broad ones");
    assert!(narrow > broad + 0.3, "narrow {narrow} broad {broad}");
    // Only low-adoption accounts get a cause; each low one gets one.
    for a in adoption_all {
        assert_eq!(
            a.cause.is_some(),
            a.profile.level == Level::Low,
            "{}",
            a.profile.account_id
        );
    }
    let heatmap = book.heatmap("segment").unwrap();
    assert!(book.heatmap("nonsense").is_err());
    assert_eq!(heatmap.groups, vec!["enterprise", "mid_market", "smb"]);
    assert!(
        heatmap
            .share
            .iter()
            .flatten()
            .flatten()
            .all(|s| (0.0..=1.0).contains(s))
    );
    let svg = adoption::heatmap_svg(&heatmap);
    assert!(svg.starts_with("<svg") && svg.contains("chart-heatmap"));

    let low_account = adoption_all
        .iter()
        .find(|a| a.profile.level == Level::Low && !a.gaps.is_empty())
        .unwrap();
    let view = book.view(&config, &low_account.profile.account_id).unwrap();
    let plan = view.plan.unwrap();
    assert!(!plan.features.is_empty() && plan.features.len() <= 3);
    assert_eq!(
        plan.milestones.iter().map(|m| m.day).collect::<Vec<_>>(),
        vec![30, 60, 90]
    );

    let report = adoption::report(&store, &config, &book, 10).unwrap();
    assert_eq!(report.accounts, adoption_all.len());
    // The baseline's levels come from its stored metrics: every account then is counted.
    assert!(report.levels_then.values().sum::<usize>() > adoption_all.len() / 2);
    let groups = book.cause_groups();
    assert_eq!(
        groups.iter().map(|g| g.accounts).sum::<usize>(),
        adoption_all.iter().filter(|a| a.cause.is_some()).count()
    );
    // One load for everything gives the same results as the separate services (the
    // pipeline again: the outcome recorded above moved the seat win rate).
    let overview = coco_engine::growth::overview(&store, &config, end()).unwrap();
    let again = expansion::pipeline(&store, &config, end(), None).unwrap();
    assert_eq!(
        serde_json::to_string(&overview.expansion.opportunities).unwrap(),
        serde_json::to_string(&again.opportunities).unwrap()
    );
    assert_eq!(
        serde_json::to_string(&overview.book.accounts).unwrap(),
        serde_json::to_string(&book.accounts).unwrap()
    );
    assert!(report.baseline.is_some());
    assert!(report.summary.contains("accounts"));

    // A campaign from 60 days ago: members and holdout frozen at the start, activation
    // counted after it.
    let start = end() - Days::new(60);
    let rule = CampaignRule {
        feature_key: "reports.create".into(),
        when: BTreeMap::new(),
        holdout_share: 0.3,
    };
    let created =
        adoption::create_campaign(&store, &config, "reports", &rule, start, None).unwrap();
    assert!(created.members > 0 && created.holdout > 0, "{created:?}");
    assert!(adoption::create_campaign(&store, &config, "reports", &rule, start, None).is_err());
    let misspelt = CampaignRule {
        when: [("segmnt".to_string(), vec!["smb".to_string()])]
            .into_iter()
            .collect(),
        ..rule.clone()
    };
    let refused = adoption::create_campaign(&store, &config, "typo", &misspelt, start, None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        refused.contains("`segmnt`") && refused.contains("segment"),
        "{refused}"
    );
    let campaign = adoption::campaign_report(&store, "reports", end()).unwrap();
    assert_eq!(campaign.members as i64, created.members);
    assert!(campaign.member_rate.is_some() && campaign.holdout_rate.is_some());

    // The backtest: signals as of a date half a year back (with the week before it, for
    // seat pressure's run of weeks) against expansions won in the window after it.
    for days in [187, 180] {
        score_as_of(&store, &config, end() - Days::new(days)).unwrap();
    }
    let backtest = expansion::backtest(&store, &config, end(), 1, 60).unwrap();
    assert_eq!(backtest.dates, vec![end() - Days::new(180)]);
    assert!(backtest.observations >= 1000, "{}", backtest.observations);
    assert!(backtest.won > 10, "{}", backtest.won);
    let seat_stats = backtest
        .precision
        .iter()
        .find(|p| p.signal == SignalKind::SeatPressure)
        .unwrap();
    eprintln!(
        "backtest: {seat_stats:?}, base rate {:.3}",
        backtest.base_rate
    );
    assert!(seat_stats.fired > 0);
    assert_eq!(store.signal_stats().unwrap().len(), SignalKind::ALL.len());
}

#[test]
fn expansion_and_adoption_as_of_a_date_do_not_depend_on_anything_after_it() {
    let (dir, full) = demo_store(300, 5, end());
    let cutoff = NaiveDate::from_ymd_opt(2026, 7, 12).unwrap();
    let truncated_files = dir.path().join("until-cutoff");
    copy_until(&dir.path().join("demo"), &truncated_files, cutoff);
    let mut truncated = Store::open(&dir.path().join("truncated")).unwrap();
    truncated
        .ingest_dir(&truncated_files, &IngestOptions::default(), &mut |_| {})
        .unwrap();
    let config = Config::load(None).unwrap();
    for store in [&full, &truncated] {
        for weeks in [2u64, 1, 0] {
            score_as_of(store, &config, cutoff - Days::new(7 * weeks)).unwrap();
        }
    }
    let a = expansion::pipeline(&full, &config, cutoff, None).unwrap();
    let b = expansion::pipeline(&truncated, &config, cutoff, None).unwrap();
    assert!(!a.opportunities.is_empty());
    assert_eq!(
        serde_json::to_string(&a.opportunities).unwrap(),
        serde_json::to_string(&b.opportunities).unwrap()
    );
    let x = adoption::book(&full, &config, cutoff).unwrap();
    let y = adoption::book(&truncated, &config, cutoff).unwrap();
    assert_eq!(x.accounts.len(), y.accounts.len());
    for (u, v) in x.accounts.iter().zip(&y.accounts) {
        assert_eq!(
            serde_json::to_string(u).unwrap(),
            serde_json::to_string(v).unwrap(),
            "{} as of {cutoff}: with later data (left), without (right)",
            u.profile.account_id
        );
    }
    assert_eq!(
        serde_json::to_string(&x.time_to_value).unwrap(),
        serde_json::to_string(&y.time_to_value).unwrap()
    );
}
