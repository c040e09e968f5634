//! Alert rules on hand-built frames: every condition kind, with its evidence; the shipped
//! settings validate against the real catalogue; de-duplication and cool-down.

mod common;

use common::{day, shipped_metrics};

use std::collections::BTreeMap;

use coco_actions::playbooks::{DEFAULT_PLAYBOOKS, PlaybooksConfig};
use coco_actions::rules::{
    AccountEvent, AlertsConfig, DEFAULT_ALERTS, PastValues, RuleInputs, evaluate,
};
use coco_actions::state::{AlertStatus, KnownAlert, reconcile};
use coco_insights::frame::{AccountRow, AttrValue, MetricMeta, SnapshotFrame};
use coco_insights::values::{SideValues, Values};

#[test]
fn the_shipped_rules_and_playbooks_validate_against_the_catalogue() {
    let metrics = shipped_metrics();
    let alerts = AlertsConfig::from_toml(DEFAULT_ALERTS).unwrap();
    alerts.validate(&metrics).unwrap();
    let stages: Vec<String> = ["onboarding", "adoption", "expansion", "renewal", "advocacy"]
        .map(String::from)
        .to_vec();
    let playbooks = PlaybooksConfig::from_toml(DEFAULT_PLAYBOOKS).unwrap();
    playbooks.validate(&alerts, &stages, &metrics).unwrap();
    // Every rule runs a playbook.
    for rule in &alerts.rules {
        assert!(
            playbooks.for_rule(rule).is_some(),
            "{} has no playbook",
            rule.id
        );
    }
}

#[test]
fn an_unknown_source_is_refused_naming_the_rule_and_condition() {
    let text = DEFAULT_ALERTS.replacen("source = \"health_score\"", "source = \"helth\"", 1);
    let alerts = AlertsConfig::from_toml(&text).unwrap();
    let error = alerts.validate(&shipped_metrics()).unwrap_err().to_string();
    assert!(error.contains("rules[0] (health_drop).when[0]"), "{error}");
    assert!(error.contains("unknown source `helth`"), "{error}");
}

const RULES: &str = r#"
version = "t"
[settings]
cooldown_days = 10
change_tolerance_days = 7
digest_severities = ["low"]
[[rules]]
id = "drop"
name = "Drop"
description = ""
tier = "intervene"
severity = "medium"
profile = "health_decline"
[[rules.when]]
kind = "change"
source = "health_score"
days = 14
at_most = -15
[[rules]]
id = "risk"
name = "Risk"
description = ""
tier = "escalate"
severity = "high"
profile = "renewal_risk"
[[rules.when]]
kind = "threshold"
source = "churn_probability"
at_least = 0.6
[[rules.when]]
kind = "threshold"
source = "days_to_renewal"
at_least = 0
at_most = 120
[[rules]]
id = "champion"
name = "Champion"
description = ""
tier = "intervene"
severity = "high"
profile = "relationship"
[[rules.when]]
kind = "event"
event = "champion_departed"
within_days = 30
[[rules]]
id = "ent_seats"
name = "Seats"
description = ""
tier = "watch"
severity = "low"
profile = "expansion"
[[rules.when]]
kind = "attribute"
attribute = "segment"
in = ["enterprise"]
[[rules.when_any]]
kind = "threshold"
source = "seat_utilisation_30d"
at_least = 0.9
[[rules.when_any]]
kind = "threshold"
source = "days_to_renewal"
at_most = 10
[[routing]]
notify = ["csm"]
[today]
alert_points = { watch = 40.0, intervene = 65.0, escalate = 85.0 }
severity_points = { low = 0.0, medium = 4.0, high = 8.0 }
task_due_points = 55.0
task_upcoming_days = 2
task_upcoming_points = 35.0
overdue_points_per_day = 2.0
overdue_cap_days = 14
renewal_days = 60
renewal_points = 45.0
renewal_nearness_points = 20.0
churn_points = 20.0
expansion_points = 30.0
expansion_source = "seat_utilisation_30d"
expansion_at_least = 0.8
silent_days = 30
silent_points = 25.0
arr_points = 10.0
arr_floor = 5000.0
arr_ceiling = 500000.0
max_items = 25
"#;

struct Fixture {
    frame: SnapshotFrame,
    side: SideValues,
    past: BTreeMap<u32, PastValues>,
    events: Vec<Vec<AccountEvent>>,
}

/// Four accounts: a (health 70 → 50, churn 0.7, renewal in 90 days), b (health 70 → 60,
/// churn 0.7 but renewal in 200 days, champion left 10 days ago), c (enterprise at 95%
/// seats, champion left 40 days ago), d (nothing known).
fn fixture() -> Fixture {
    let metrics: Vec<MetricMeta> = shipped_metrics()
        .into_iter()
        .filter(|m| m.name == "days_to_renewal" || m.name == "seat_utilisation_30d")
        .collect();
    let order: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
    let row = |renewal: f64, seats: f64| -> Vec<f64> {
        order
            .iter()
            .map(|m| {
                if *m == "days_to_renewal" {
                    renewal
                } else {
                    seats
                }
            })
            .collect()
    };
    let mut accounts = Vec::new();
    for (id, segment) in [
        ("a", "smb"),
        ("b", "mid_market"),
        ("c", "enterprise"),
        ("d", "smb"),
    ] {
        let mut account = AccountRow::new(id);
        account
            .attributes
            .insert("segment".into(), AttrValue::Text(segment.into()));
        accounts.push(account);
    }
    let values: Vec<f64> = [
        row(90.0, 0.5),
        row(200.0, 0.5),
        row(300.0, 0.95),
        row(f64::NAN, f64::NAN),
    ]
    .concat();
    let frame = SnapshotFrame::new(day("2026-11-01"), metrics, accounts, values).unwrap();
    let mut side = SideValues::default();
    side.insert(
        "health_score",
        vec![Some(50.0), Some(60.0), Some(80.0), None],
    );
    side.insert(
        "churn_probability",
        vec![Some(0.7), Some(0.7), Some(0.1), None],
    );
    let mut before = SideValues::default();
    before.insert(
        "health_score",
        vec![Some(70.0), Some(70.0), Some(80.0), Some(90.0)],
    );
    let past = BTreeMap::from([(
        14,
        PastValues {
            date: day("2026-10-18"),
            values: before,
        },
    )]);
    let event = |on: &str, id: &str| AccountEvent {
        kind: "champion_departed".into(),
        on: day(on),
        table: "contacts".into(),
        row_id: id.into(),
        detail: "Maria Rossi left the champion role".into(),
    };
    let events = vec![
        vec![],
        vec![event("2026-10-22", "con_b_1")],
        vec![event("2026-09-22", "con_c_1")],
        vec![],
    ];
    Fixture {
        frame,
        side,
        past,
        events,
    }
}

fn fired(config: &AlertsConfig, f: &Fixture) -> Vec<(String, String)> {
    let inputs = RuleInputs {
        as_of: day("2026-11-01"),
        values: Values::new(&f.frame, &f.side),
        past: &f.past,
        events: &f.events,
    };
    evaluate(config, &inputs)
        .into_iter()
        .map(|x| {
            (
                f.frame.accounts[x.account].account_id.clone(),
                config.rules[x.rule].id.clone(),
            )
        })
        .collect()
}

#[test]
fn every_condition_kind_fires_where_it_should_and_nowhere_else() {
    let config = AlertsConfig::from_toml(RULES).unwrap();
    let f = fixture();
    let got = fired(&config, &f);
    let want: Vec<(String, String)> = [
        ("a", "drop"),      // 70 → 50 is −20 ≤ −15
        ("a", "risk"),      // 0.7 and 90 days
        ("b", "champion"),  // left 10 days ago; b fell only 10 and renews in 200 days
        ("c", "ent_seats"), // enterprise and 95% seats (any of); c's champion left 40 days ago
    ]
    .map(|(a, r)| (a.to_string(), r.to_string()))
    .to_vec();
    assert_eq!(got, want);
}

#[test]
fn evidence_names_the_values_dates_and_source_rows() {
    let config = AlertsConfig::from_toml(RULES).unwrap();
    let f = fixture();
    let inputs = RuleInputs {
        as_of: day("2026-11-01"),
        values: Values::new(&f.frame, &f.side),
        past: &f.past,
        events: &f.events,
    };
    let firings = evaluate(&config, &inputs);
    let drop = &firings[0].evidence[0];
    assert_eq!(drop.value, Some(50.0));
    assert_eq!(drop.previous, Some(70.0));
    assert_eq!(drop.previous_date, Some(day("2026-10-18")));
    assert!(drop.text.contains("fell 20 in 14 days"), "{}", drop.text);
    let champion = firings
        .iter()
        .find(|x| config.rules[x.rule].id == "champion")
        .unwrap();
    assert_eq!(champion.evidence[0].events[0].row_id, "con_b_1");
    assert_eq!(champion.evidence[0].events[0].table, "contacts");
}

#[test]
fn no_past_snapshot_means_no_change_alert() {
    let config = AlertsConfig::from_toml(RULES).unwrap();
    let mut f = fixture();
    f.past.clear();
    assert!(!fired(&config, &f).iter().any(|(_, r)| r == "drop"));
}

fn known(id: i64, status: AlertStatus, opened: &str, closed: Option<&str>) -> KnownAlert {
    KnownAlert {
        alert_id: id,
        rule_id: "drop".into(),
        account_id: "a".into(),
        status,
        opened_on: day(opened),
        closed_on: closed.map(day),
        snoozed_until: None,
    }
}

#[test]
fn an_open_alert_is_refreshed_not_repeated_and_a_closed_one_cools_down() {
    let config = AlertsConfig::from_toml(RULES).unwrap();
    let f = fixture();
    let inputs = RuleInputs {
        as_of: day("2026-11-01"),
        values: Values::new(&f.frame, &f.side),
        past: &f.past,
        events: &f.events,
    };
    let firings = evaluate(&config, &inputs);
    let ids: Vec<String> = f
        .frame
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    let as_of = day("2026-11-01");

    // Nothing on record: all four open.
    let fresh = reconcile(&config, as_of, &firings, &ids, &[]);
    assert_eq!(fresh.open.len(), 4);

    // An open alert for (drop, a): refreshed, not opened again.
    let open = reconcile(
        &config,
        as_of,
        &firings,
        &ids,
        &[known(7, AlertStatus::Open, "2026-10-25", None)],
    );
    assert_eq!(open.open.len(), 3);
    assert_eq!(open.refresh, vec![(7, 0)]);

    // Closed 5 days ago, cool-down 10: held back until 2026-11-06.
    let cooling = reconcile(
        &config,
        as_of,
        &firings,
        &ids,
        &[known(
            7,
            AlertStatus::Closed,
            "2026-10-20",
            Some("2026-10-27"),
        )],
    );
    assert_eq!(cooling.open.len(), 3);
    assert_eq!(cooling.cooling, vec![(0, day("2026-11-06"), 7)]);

    // Closed 10 days ago: the cool-down is over, it opens again.
    let over = reconcile(
        &config,
        as_of,
        &firings,
        &ids,
        &[known(
            7,
            AlertStatus::Resolved,
            "2026-10-10",
            Some("2026-10-22"),
        )],
    );
    assert_eq!(over.open.len(), 4);

    // An open alert whose condition no longer holds is resolved.
    let mut gone = known(9, AlertStatus::Acknowledged, "2026-10-01", None);
    gone.account_id = "d".into();
    let cleared = reconcile(&config, as_of, &firings, &ids, &[gone]);
    assert_eq!(cleared.resolve, vec![9]);

    // An alert opened after the date asked about is not touched by an earlier run.
    let mut later = known(11, AlertStatus::Open, "2026-11-05", None);
    later.account_id = "d".into();
    let earlier = reconcile(&config, as_of, &firings, &ids, &[later]);
    assert!(earlier.resolve.is_empty());
}
