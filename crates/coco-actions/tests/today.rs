//! The daily list on hand-built candidates with the shipped `[today]` weights: the points
//! of every kind, the order (ties included), the cut at `max_items` and the why line.
//!
//! The shipped weights: alerts watch 40 / intervene 65 / escalate 85 plus severity
//! low 0 / medium 4 / high 8; a task due 55 plus 2 per overdue day (at most 14 days),
//! upcoming (within 2 days) 35; renewals 45 + 20 × nearness over 60 days + 20 × churn
//! probability; expansion 30; silent 25 + (days − 30) / 3 (at most 10 more); up to 10
//! for ARR on a log scale from $5,000 to $500,000.

use chrono::NaiveDate;
use coco_actions::rules::{AlertTier, AlertsConfig, DEFAULT_ALERTS, Severity};
use coco_actions::today::{
    AccountCandidates, Candidate, DailyList, ItemKind, TodayConfig, daily_list,
};

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

const AS_OF: &str = "2026-12-01";

fn config() -> TodayConfig {
    AlertsConfig::from_toml(DEFAULT_ALERTS).unwrap().today
}

fn account(id: &str, arr: Option<f64>, candidates: Vec<Candidate>) -> AccountCandidates {
    let mut name = id.to_string();
    name[..1].make_ascii_uppercase();
    AccountCandidates {
        account_id: id.into(),
        account_name: format!("{name} Ltd"),
        owner_csm_id: Some("casey".into()),
        arr,
        candidates,
    }
}

fn alert(id: i64, tier: AlertTier, severity: Severity, opened: &str) -> Candidate {
    Candidate::Alert {
        alert_id: id,
        rule_name: format!("Rule {id}"),
        tier,
        severity,
        opened_on: day(opened),
        headline: format!("headline {id}"),
    }
}

fn task(id: i64, due: &str) -> Candidate {
    Candidate::Task {
        task_id: id,
        title: format!("Task {id}"),
        due_on: day(due),
    }
}

fn renewal(on: &str, churn: Option<f64>, health: Option<f64>) -> Candidate {
    Candidate::Renewal {
        renewal_date: day(on),
        churn_probability: churn,
        health_score: health,
    }
}

fn list(config: &TodayConfig, accounts: &[AccountCandidates]) -> DailyList {
    daily_list(config, day(AS_OF), "casey", "Casey", accounts)
}

/// (kind, account, score) in list order.
fn order(list: &DailyList) -> Vec<(ItemKind, &str, f64)> {
    list.items
        .iter()
        .map(|i| (i.kind, i.account_id.as_str(), i.score))
        .collect()
}

#[test]
fn every_kind_scores_by_the_shipped_weights_and_the_list_is_ordered_by_score() {
    let accounts = vec![
        account("gale", None, vec![Candidate::Expansion { value: 0.92 }]),
        account("hive", None, vec![Candidate::Silent { days: 45.0 }]),
        account(
            "dune",
            None,
            vec![renewal("2026-12-16", Some(0.5), Some(38.0))],
        ),
        account(
            "bolt",
            None,
            vec![
                alert(2, AlertTier::Intervene, Severity::High, AS_OF),
                alert(3, AlertTier::Watch, Severity::Low, "2026-11-30"),
            ],
        ),
        account(
            "crux",
            None,
            vec![
                task(10, "2026-11-26"),
                task(12, AS_OF),
                task(13, "2026-12-02"),
            ],
        ),
        account(
            "acme",
            None,
            vec![alert(1, AlertTier::Escalate, Severity::High, "2026-11-28")],
        ),
    ];
    let got = list(&config(), &accounts);
    assert_eq!(got.csm_id, "casey");
    assert_eq!(got.csm_name, "Casey");
    assert_eq!(got.as_of, day(AS_OF));
    assert_eq!(
        order(&got),
        vec![
            (ItemKind::Alert, "acme", 93.0),   // 85 + 8
            (ItemKind::Alert, "bolt", 73.0),   // 65 + 8
            (ItemKind::Renewal, "dune", 70.0), // 45 + 0.75 × 20 + 0.5 × 20
            (ItemKind::Task, "crux", 65.0),    // 55 + 5 × 2
            (ItemKind::Task, "crux", 55.0),    // due today
            (ItemKind::Alert, "bolt", 40.0),   // 40 + 0
            (ItemKind::Task, "crux", 35.0),    // due tomorrow
            (ItemKind::Expansion, "gale", 30.0),
            (ItemKind::Silent, "hive", 30.0), // 25 + 15 / 3; after expansion on a tie
        ]
    );
    let ranks: Vec<usize> = got.items.iter().map(|i| i.rank).collect();
    assert_eq!(ranks, (1..=9).collect::<Vec<_>>());
    assert!(got.not_shown.is_empty());
    // The alert and task ids and due dates travel with their items.
    assert_eq!(got.items[0].alert_id, Some(1));
    assert_eq!(got.items[0].task_id, None);
    assert_eq!(
        (got.items[3].task_id, got.items[3].due_on),
        (Some(10), Some(day("2026-11-26")))
    );
    assert_eq!(got.items[2].alert_id, None);
    assert_eq!(got.items[2].due_on, None);
    assert_eq!(got.items[0].account_name, "Acme Ltd");
}

#[test]
fn overdue_tasks_gain_points_per_day_up_to_the_cap() {
    let accounts = vec![account(
        "crux",
        None,
        vec![
            task(1, "2026-12-01"), // due today: 55
            task(2, "2026-11-30"), // 1 day: 57
            task(3, "2026-11-21"), // 10 days: 75
            task(4, "2026-11-17"), // 14 days: 83, the cap
            task(5, "2026-11-16"), // 15 days: still 83
            task(6, "2026-08-01"), // 122 days: still 83
        ],
    )];
    let got = list(&config(), &accounts);
    let scores: Vec<(Option<i64>, f64)> = got.items.iter().map(|i| (i.task_id, i.score)).collect();
    assert_eq!(
        scores,
        vec![
            (Some(4), 83.0),
            (Some(5), 83.0),
            (Some(6), 83.0),
            (Some(3), 75.0),
            (Some(2), 57.0),
            (Some(1), 55.0),
        ]
    );
    // A larger cap lets the oldest climb on.
    let mut config = config();
    config.overdue_cap_days = 30;
    let got = list(&config, &accounts);
    assert_eq!(got.items[0].task_id, Some(6));
    assert_eq!(got.items[0].score, 115.0); // 55 + 30 × 2
    assert_eq!(got.items[1].score, 85.0); // 15 days
}

#[test]
fn upcoming_tasks_are_listed_only_within_the_upcoming_days() {
    let accounts = vec![account(
        "crux",
        None,
        vec![
            task(1, "2026-12-02"), // in 1 day
            task(2, "2026-12-03"), // in 2 days: the last day listed
            task(3, "2026-12-04"), // in 3 days: not for today
            task(4, "2027-01-15"),
        ],
    )];
    let got = list(&config(), &accounts);
    let ids: Vec<(Option<i64>, f64)> = got.items.iter().map(|i| (i.task_id, i.score)).collect();
    assert_eq!(ids, vec![(Some(1), 35.0), (Some(2), 35.0)]);
    assert!(got.not_shown.is_empty());
    let mut config = config();
    config.task_upcoming_days = 3;
    assert_eq!(list(&config, &accounts).items.len(), 3);
}

#[test]
fn nearer_renewals_score_higher_and_churn_risk_adds() {
    let accounts = vec![
        account("far", None, vec![renewal("2027-03-01", None, None)]), // 90 days: 45
        account("mid", None, vec![renewal("2026-12-31", None, None)]), // 30 days: 55
        account("near", None, vec![renewal("2026-12-11", None, None)]), // 10 days: 61.7
        account("past", None, vec![renewal("2026-11-20", None, None)]), // due: 65
        account("risky", None, vec![renewal("2026-12-31", Some(0.9), None)]), // 55 + 18
        account("edge", None, vec![renewal("2027-01-30", Some(0.0), None)]), // 60 days: 45
    ];
    let got = list(&config(), &accounts);
    assert_eq!(
        order(&got),
        vec![
            (ItemKind::Renewal, "risky", 73.0),
            (ItemKind::Renewal, "past", 65.0),
            (ItemKind::Renewal, "near", 61.7),
            (ItemKind::Renewal, "mid", 55.0),
            (ItemKind::Renewal, "edge", 45.0),
            (ItemKind::Renewal, "far", 45.0),
        ]
    );
}

#[test]
fn silent_accounts_gain_a_point_per_three_days_up_to_ten() {
    let accounts = vec![
        account("a30", None, vec![Candidate::Silent { days: 30.0 }]),
        account("a39", None, vec![Candidate::Silent { days: 39.0 }]),
        account("a60", None, vec![Candidate::Silent { days: 60.0 }]),
        account("a200", None, vec![Candidate::Silent { days: 200.0 }]),
    ];
    let got = list(&config(), &accounts);
    assert_eq!(
        order(&got),
        vec![
            (ItemKind::Silent, "a200", 35.0),
            (ItemKind::Silent, "a60", 35.0),
            (ItemKind::Silent, "a39", 28.0),
            (ItemKind::Silent, "a30", 25.0),
        ]
    );
}

#[test]
fn arr_adds_up_to_ten_points_on_a_log_scale() {
    let accounts = vec![
        account(
            "tiny",
            Some(1_000.0),
            vec![Candidate::Expansion { value: 0.9 }],
        ),
        account(
            "floor",
            Some(5_000.0),
            vec![Candidate::Expansion { value: 0.9 }],
        ),
        account(
            "middle",
            Some(50_000.0),
            vec![Candidate::Expansion { value: 0.9 }],
        ),
        account(
            "ceiling",
            Some(500_000.0),
            vec![Candidate::Expansion { value: 0.9 }],
        ),
        account(
            "huge",
            Some(9_000_000.0),
            vec![Candidate::Expansion { value: 0.9 }],
        ),
        account("unknown", None, vec![Candidate::Expansion { value: 0.9 }]),
    ];
    let got = list(&config(), &accounts);
    assert_eq!(
        order(&got),
        vec![
            (ItemKind::Expansion, "ceiling", 40.0),
            (ItemKind::Expansion, "huge", 40.0),
            // $50,000 is half-way from $5,000 to $500,000 on the log scale.
            (ItemKind::Expansion, "middle", 35.0),
            (ItemKind::Expansion, "floor", 30.0),
            (ItemKind::Expansion, "tiny", 30.0),
            (ItemKind::Expansion, "unknown", 30.0),
        ]
    );
}

#[test]
fn ties_are_broken_by_kind_then_account_then_id_whatever_the_input_order() {
    let config = config();
    // Everything here scores 30 (expansion; silent at 45 days) or 73 (intervene · high).
    let accounts = vec![
        account("able", None, vec![Candidate::Silent { days: 45.0 }]),
        account(
            "zulu",
            None,
            vec![
                Candidate::Expansion { value: 0.85 },
                alert(9, AlertTier::Intervene, Severity::High, AS_OF),
                alert(4, AlertTier::Intervene, Severity::High, AS_OF),
            ],
        ),
        account("kilo", None, vec![Candidate::Silent { days: 45.0 }]),
        account(
            "juno",
            None,
            vec![
                Candidate::Silent { days: 45.0 },
                alert(7, AlertTier::Intervene, Severity::High, AS_OF),
            ],
        ),
    ];
    let want = vec![
        ("juno", ItemKind::Alert, Some(7)),
        ("zulu", ItemKind::Alert, Some(4)),
        ("zulu", ItemKind::Alert, Some(9)),
        ("zulu", ItemKind::Expansion, None),
        ("able", ItemKind::Silent, None),
        ("juno", ItemKind::Silent, None),
        ("kilo", ItemKind::Silent, None),
    ];
    let key = |l: &DailyList| -> Vec<(String, ItemKind, Option<i64>)> {
        l.items
            .iter()
            .map(|i| (i.account_id.clone(), i.kind, i.alert_id))
            .collect()
    };
    let want: Vec<(String, ItemKind, Option<i64>)> = want
        .into_iter()
        .map(|(a, k, id)| (a.to_string(), k, id))
        .collect();
    assert_eq!(key(&list(&config, &accounts)), want);
    // Reversed accounts, reversed candidates: the same list.
    let reversed: Vec<AccountCandidates> = accounts
        .iter()
        .rev()
        .map(|a| {
            let mut a = a.clone();
            a.candidates.reverse();
            a
        })
        .collect();
    assert_eq!(list(&config, &reversed), list(&config, &accounts));
}

#[test]
fn the_list_is_cut_at_max_items_and_the_rest_counted_by_kind() {
    let mut config = config();
    config.max_items = 3;
    let accounts = vec![
        account(
            "acme",
            None,
            vec![
                alert(1, AlertTier::Escalate, Severity::High, AS_OF), // 93
                alert(2, AlertTier::Watch, Severity::Low, AS_OF),     // 40
                task(3, "2026-11-30"),                                // 57
                task(4, "2026-12-02"),                                // 35
            ],
        ),
        account(
            "bolt",
            None,
            vec![
                renewal("2026-12-11", Some(0.5), None), // 71.7
                Candidate::Expansion { value: 0.95 },   // 30
                Candidate::Silent { days: 31.0 },       // 25.3
            ],
        ),
    ];
    let got = list(&config, &accounts);
    assert_eq!(
        order(&got),
        vec![
            (ItemKind::Alert, "acme", 93.0),
            (ItemKind::Renewal, "bolt", 71.7),
            (ItemKind::Task, "acme", 57.0),
        ]
    );
    assert_eq!(
        got.not_shown.into_iter().collect::<Vec<_>>(),
        vec![
            (ItemKind::Alert, 1),
            (ItemKind::Task, 1),
            (ItemKind::Expansion, 1),
            (ItemKind::Silent, 1),
        ]
    );
    config.max_items = 0;
    let none = list(&config, &accounts);
    assert!(none.items.is_empty());
    assert_eq!(none.not_shown.values().sum::<usize>(), 7);
}

#[test]
fn the_why_line_says_what_it_is_and_why_today() {
    let accounts = vec![
        account(
            "acme",
            Some(120_000.0),
            vec![
                Candidate::Alert {
                    alert_id: 1,
                    rule_name: "Likely churn before renewal".into(),
                    tier: AlertTier::Escalate,
                    severity: Severity::High,
                    opened_on: day("2026-11-28"),
                    headline: "churn probability is 0.72 (≥ 0.6)".into(),
                },
                alert(2, AlertTier::Watch, Severity::Medium, "2026-11-30"),
                alert(3, AlertTier::Intervene, Severity::Medium, AS_OF),
            ],
        ),
        account(
            "bolt",
            None,
            vec![
                task(10, "2026-11-26"),
                task(11, "2026-11-30"),
                task(12, AS_OF),
                task(13, "2026-12-02"),
                task(14, "2026-12-03"),
            ],
        ),
        account(
            "dune",
            None,
            vec![renewal("2026-12-16", Some(0.5), Some(38.0))],
        ),
        account("echo", None, vec![renewal("2026-12-02", None, None)]),
        account("gale", None, vec![Candidate::Expansion { value: 0.924 }]),
        account("hive", None, vec![Candidate::Silent { days: 45.4 }]),
    ];
    let got = list(&config(), &accounts);
    let why = |pick: &dyn Fn(&&coco_actions::today::TodayItem) -> bool| -> String {
        got.items
            .iter()
            .find(pick)
            .map(|i| i.why.clone())
            .expect("an item")
    };
    let by_alert = |id: i64| why(&move |i| i.alert_id == Some(id));
    let by_task = |id: i64| why(&move |i| i.task_id == Some(id));
    let by_account = |id: &'static str| why(&move |i| i.account_id == id);

    assert_eq!(
        by_alert(1),
        "escalate alert — Likely churn before renewal (open 3 days): churn probability is \
         0.72 (≥ 0.6) · ARR $120,000"
    );
    assert_eq!(
        by_alert(2),
        "watch alert — Rule 2 (open 1 day): headline 2 · ARR $120,000"
    );
    assert_eq!(
        by_alert(3),
        "intervene alert — Rule 3 (new today): headline 3 · ARR $120,000"
    );
    assert_eq!(by_task(10), "task overdue by 5 days: Task 10");
    assert_eq!(by_task(11), "task overdue by 1 day: Task 11");
    assert_eq!(by_task(12), "task due today: Task 12");
    assert_eq!(by_task(13), "task due 2026-12-02 (in 1 day): Task 13");
    assert_eq!(by_task(14), "task due 2026-12-03 (in 2 days): Task 14");
    assert_eq!(
        by_account("dune"),
        "renewal in 15 days (2026-12-16), churn probability 50%, health 38"
    );
    assert_eq!(by_account("echo"), "renewal in 1 day (2026-12-02)");
    assert_eq!(
        by_account("gale"),
        "expansion window: seat_utilisation_30d at 92%"
    );
    assert_eq!(by_account("hive"), "no touchpoint for 45 days");
}
