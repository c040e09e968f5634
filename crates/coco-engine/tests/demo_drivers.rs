//! The "done when": on the demo portfolio, scoring and then showing a
//! churn-bound account names the factors that generate its churn risk (the demo's
//! hidden truth, `_truth.csv`) among its drivers — as drivers of the score's change or
//! as what pulls the score down now.

mod common;

use chrono::NaiveDate;
use coco_engine::{Config, account::account_view, backfill, score_as_of};
use common::{Truth, demo_store, factor_metrics, read_truth};

#[test]
fn a_churn_bound_account_shows_its_generating_factors_among_its_drivers() {
    let end = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let (dir, store) = demo_store(600, 42, end);
    let files = dir.path().join("demo");
    let config = Config::load(None).unwrap();
    backfill(
        &store,
        &config,
        end - chrono::Days::new(91),
        end - chrono::Days::new(7),
        7,
        &mut |_| {},
    )
    .unwrap();
    let run = score_as_of(&store, &config, end).unwrap();
    assert!(run.snapshot.accounts > 400, "{:?}", run.snapshot);

    let truth = read_truth(&files.join("_truth.csv"));
    // Churn-bound: the renewal the risk builds up to is still ahead and will churn.
    let mut bound: Vec<&Truth> = truth
        .iter()
        .filter(|t| t.focal_outcome == "churned" && !t.focal_in_window)
        .collect();
    bound.sort_by(|a, b| b.churn_probability.total_cmp(&a.churn_probability));
    assert!(
        bound.len() >= 3,
        "the demo should have churn-bound accounts"
    );

    for account in bound.iter().take(3) {
        let view = account_view(&store, &config, &account.account_id, end, 90).unwrap();
        let named: Vec<&str> = view
            .change
            .iter()
            .flat_map(|c| c.drivers.iter())
            .filter(|d| d.contribution <= -0.5)
            .map(|d| d.metric.as_str())
            .chain(
                view.shortfalls
                    .iter()
                    .filter(|s| s.points_lost >= 1.0)
                    .map(|s| s.metric.as_str()),
            )
            .collect();
        let found: Vec<&str> = account
            .factors
            .iter()
            .copied()
            .filter(|factor| factor_metrics(factor).iter().any(|m| named.contains(m)))
            .collect();
        assert!(
            found.contains(&account.top_driver.as_str()),
            "{}: top factor {} not among drivers {named:?}",
            account.account_id,
            account.top_driver
        );
        assert!(
            found.len() * 3 >= account.factors.len() * 2,
            "{}: factors {:?}, named {found:?} via {named:?}",
            account.account_id,
            account.factors
        );
        // A churn-bound account is not green.
        assert_ne!(
            view.health.colour.as_str(),
            "green",
            "{}",
            account.account_id
        );
    }
}

/// The demo's holiday dip (everyone's usage −38% from 18 to 31 December) is a
/// temporary dip, not a structural decline: the rule sees the cohort declining alike.
#[test]
fn the_holiday_dip_is_classified_as_temporary() {
    let end = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
    let (_dir, store) = demo_store(400, 11, end);
    let config = Config::load(None).unwrap();
    let before = NaiveDate::from_ymd_opt(2025, 12, 10).unwrap();
    let after = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    backfill(&store, &config, before, after, 7, &mut |_| {}).unwrap();

    let snapshots = store.list_snapshots().unwrap();
    let latest = snapshots.iter().find(|s| s.as_of == after).unwrap();
    let accounts = store
        .health_list(latest.snapshot_id, None, &Default::default())
        .unwrap();
    let mut temporary = 0;
    let mut structural = 0;
    for account in &accounts {
        let view = account_view(&store, &config, &account.account_id, after, 21).unwrap();
        for decline in view
            .declines
            .iter()
            .filter(|d| d.metric == "events_30d_change_90d")
        {
            match decline.assessment.kind {
                coco_insights::DeclineKind::TemporaryDip => temporary += 1,
                coco_insights::DeclineKind::StructuralDecline => structural += 1,
                _ => {}
            }
        }
    }
    assert!(
        temporary >= 20,
        "few dips assessed: {temporary} temporary, {structural} structural"
    );
    assert!(
        temporary >= 4 * structural,
        "{temporary} temporary vs {structural} structural"
    );
}

#[test]
fn the_in_memory_cohort_index_and_read_model_answer_exactly_like_sql() {
    use coco_engine::account::AccountSource;
    let end = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let (_dir, store) = demo_store(300, 5, end);
    let config = Config::load(None).unwrap();
    // Two weeks earlier too, so views have a history, a change, drivers and declines
    // to compare.
    score_as_of(&store, &config, end - chrono::Days::new(14)).unwrap();
    score_as_of(&store, &config, end - chrono::Days::new(7)).unwrap();
    let run = score_as_of(&store, &config, end).unwrap();
    let snapshot_id = run.snapshot.snapshot_id;
    let index = store.cohort_value_index(snapshot_id).unwrap();
    assert_eq!(index.snapshot_id(), snapshot_id);
    assert!(!index.is_empty());
    let accounts = store
        .health_list(snapshot_id, None, &Default::default())
        .unwrap();
    assert!(accounts.len() > 200);
    let mut compared = 0;
    for row in accounts.iter().step_by(7) {
        let in_sql = store
            .account_cohort_ranks(snapshot_id, &row.account_id)
            .unwrap();
        let in_memory = index.account_ranks(&row.account_id);
        let key_benchmark = |b: &coco_store::snapshots::BenchmarkRow| {
            format!(
                "{}|{}|{}|{}|{}",
                b.dimension, b.cohort, b.metric, b.n, b.p50
            )
        };
        assert_eq!(
            store
                .account_benchmarks(snapshot_id, &row.account_id)
                .unwrap()
                .iter()
                .map(key_benchmark)
                .collect::<Vec<_>>(),
            index
                .account_benchmarks(&row.account_id)
                .iter()
                .map(key_benchmark)
                .collect::<Vec<_>>(),
            "{}",
            row.account_id
        );
        assert!(!in_sql.is_empty(), "{} has cohort ranks", row.account_id);
        let key = |r: &coco_store::snapshots::CohortRank| {
            format!(
                "{}|{}|{}|{}|{}|{}|{}",
                r.dimension, r.cohort, r.metric, r.value, r.n, r.below, r.equal
            )
        };
        let mut sql: Vec<String> = in_sql.iter().map(key).collect();
        let mut memory: Vec<String> = in_memory.iter().map(key).collect();
        sql.sort();
        memory.sort();
        assert_eq!(sql, memory, "{}", row.account_id);
        compared += sql.len();
    }
    assert!(compared > 1000, "{compared} ranks compared");
    // The account view is the same from the store and from the in-memory read model,
    // declines included, and so are the account records.
    let model = coco_engine::account::read_model(&store, &config, end, 7, 40)
        .unwrap()
        .expect("a read model of the scored book");
    assert_eq!(model.latest().snapshot_id, snapshot_id);
    let mut with_declines = 0;
    let mut with_history = 0;
    let mut with_timeline = 0;
    for row in accounts.iter().take(40) {
        let account = &row.account_id;
        let plain = coco_engine::account::account_view(&store, &config, account, end, 7).unwrap();
        let in_memory =
            coco_engine::account::account_view_from(&model, &config, account, end, 7).unwrap();
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            serde_json::to_string(&in_memory).unwrap(),
            "{account}"
        );
        assert_eq!(
            serde_json::to_string(&store.account_detail(account, plain.as_of).unwrap()).unwrap(),
            serde_json::to_string(&model.account_detail(account, plain.as_of).unwrap()).unwrap(),
            "{account}"
        );
        let timeline = store.account_timeline(account, plain.as_of, 40).unwrap();
        assert_eq!(
            timeline,
            model.account_timeline(account, plain.as_of, 40).unwrap()
        );
        assert_eq!(
            store.account_timeline(account, plain.as_of, 3).unwrap(),
            model.account_timeline(account, plain.as_of, 3).unwrap()
        );
        with_timeline +=
            usize::from(timeline.iter().any(|e| e.detail.is_none()) && timeline.len() > 3);
        with_declines += usize::from(!plain.declines.is_empty());
        with_history += usize::from(plain.history.len() >= 3);
    }
    assert!(with_history > 0, "compared views have a history");
    assert!(
        with_timeline > 0,
        "compared timelines have entries without detail"
    );
    // An account the book does not hold fails the same way from both.
    let missing = |result: Result<_, coco_engine::EngineError>| match result {
        Ok(coco_engine::account::AccountView { .. }) => panic!("no such account"),
        Err(error) => error.to_string(),
    };
    assert_eq!(
        missing(coco_engine::account::account_view(
            &store, &config, "acc_nope", end, 7
        )),
        missing(coco_engine::account::account_view_from(
            &model, &config, "acc_nope", end, 7
        ))
    );
    assert!(model.account_detail("acc_nope", end).is_err());
    assert!(with_declines > 0, "some compared views assess declines");
}
