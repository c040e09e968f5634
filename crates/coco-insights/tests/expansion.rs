//! Expansion opportunities against hand-built portfolios: each usage signal with its
//! evidence and its negative cases, the timing light, sizing from the shipped price
//! book, priority and the pipeline, and the talking points.

mod common;

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use coco_insights::expansion::crosssell::Propensity;
use coco_insights::expansion::signals::{PortfolioContext, detect};
use coco_insights::expansion::talking::to_markdown;
use coco_insights::expansion::timing::assess;
use coco_insights::expansion::{
    self, ChurnBrief, ExpansionConfig, ExpansionInputs, GoalNote, HealthBrief, Holding, ItemSource,
    Light, Opportunity, OpportunityKind, Outreach, Signal, SignalKind, SignalWeights, WinHistory,
    WorkItem,
};
use coco_insights::usage::{FeatureInfo, FeatureMatrix, FeatureUse};
use coco_insights::{AccountRow, MetricHistory, SnapshotFrame};
use common::{as_of, assert_close, assert_some_close, date, days_ago, shipped_metrics};

// ------------------------------------------------------------------------- fixtures

const UTIL: &str = "seat_utilisation_30d";
const USERS: &str = "active_users_30d";
const GROWTH: &str = "events_30d_change_30d";
const ASSIGNED: &str = "seat_assignment";
const PROVISIONED: &str = "provisioned_users";

/// The frame's metric columns (units from the shipped catalogue).
const METRICS: &[&str] = &[
    ASSIGNED,
    PROVISIONED,
    UTIL,
    USERS,
    "events_30d",
    GROWTH,
    "top_user_share_30d",
    "user_gini_30d",
    "departments_90d",
    "new_departments_90d",
    "champion_present",
    "open_high_priority_tickets",
    "escalations_90d",
    "nps_latest",
];

fn config() -> ExpansionConfig {
    ExpansionConfig::shipped().expect("the shipped expansion config parses")
}

fn feature(key: &str, module: &str, tier: usize, is_core: bool) -> FeatureInfo {
    let name = key.replace('.', " ");
    FeatureInfo {
        key: key.to_string(),
        name,
        module: module.to_string(),
        tier,
        is_core,
        resources: None,
        description: None,
    }
}

/// Eight features over core / analytics / automation / api and tiers 0–2.
fn catalogue() -> Vec<FeatureInfo> {
    vec![
        feature("projects.create", "core", 0, true),
        feature("tasks.assign", "core", 0, true),
        feature("files.upload", "core", 0, true),
        feature("reports.create", "analytics", 0, true),
        feature("dashboards.custom", "analytics", 1, false),
        feature("reports.export", "analytics", 1, false),
        feature("workflows.create", "automation", 1, false),
        feature("api.webhooks", "api", 2, false),
    ]
}

fn feature_index(key: &str) -> usize {
    catalogue()
        .iter()
        .position(|f| f.key == key)
        .expect("feature in the test catalogue")
}

/// One account of a test portfolio.
struct Acct {
    id: String,
    segment: String,
    values: BTreeMap<&'static str, f64>,
    holding: Holding,
    usage: Vec<FeatureUse>,
    items: Vec<WorkItem>,
    goals: Vec<GoalNote>,
    health: Option<HealthBrief>,
    churn: Option<ChurnBrief>,
}

impl Acct {
    fn new(id: &str, segment: &str) -> Acct {
        Acct {
            id: id.to_string(),
            segment: segment.to_string(),
            values: BTreeMap::new(),
            holding: Holding {
                plan_tier: Some("professional".into()),
                seats: Some(50.0),
                arr: None,
                products: vec!["core".into()],
                renewal_date: None,
            },
            usage: Vec::new(),
            items: Vec::new(),
            goals: Vec::new(),
            health: None,
            churn: None,
        }
    }

    fn m(mut self, name: &'static str, value: f64) -> Acct {
        assert!(METRICS.contains(&name), "{name} is not a frame column");
        self.values.insert(name, value);
        self
    }

    fn tier(mut self, tier: &str) -> Acct {
        self.holding.plan_tier = Some(tier.to_string());
        self
    }

    fn seats(mut self, seats: f64) -> Acct {
        self.holding.seats = Some(seats);
        self
    }

    fn arr(mut self, arr: f64) -> Acct {
        self.holding.arr = Some(arr);
        self
    }

    fn products(mut self, products: &[&str]) -> Acct {
        self.holding.products = products.iter().map(|p| p.to_string()).collect();
        self
    }

    /// Current utilisation and active users from users ÷ seats.
    fn seat_use(self, seats: f64, users: f64) -> Acct {
        self.seats(seats).m(USERS, users).m(UTIL, users / seats)
    }

    fn uses(mut self, key: &str, entitled: bool, events: f64) -> Acct {
        self.usage.push(FeatureUse {
            feature: feature_index(key),
            entitled,
            events,
            users: if events > 0.0 { 3.0 } else { 0.0 },
            prior_events: 0.0,
            first_used: (events > 0.0).then(|| days_ago(60)),
            last_used: (events > 0.0).then(|| days_ago(2)),
        });
        self
    }

    fn ticket(mut self, id: &str, days: u64, subject: &str) -> Acct {
        self.items.push(WorkItem {
            source: ItemSource::Ticket,
            id: id.to_string(),
            date: days_ago(days),
            category: None,
            text: subject.to_string(),
            feature_key: None,
        });
        self
    }

    fn health(mut self, colour: &str, score: f64) -> Acct {
        self.health = Some(HealthBrief {
            score: Some(score),
            colour: Some(colour.to_string()),
        });
        self
    }

    fn churn(mut self, probability: f64, tier: &str) -> Acct {
        self.churn = Some(ChurnBrief {
            probability,
            tier: tier.to_string(),
        });
        self
    }
}

/// Weekly (or any) history builder: `values[metric][snapshot][account]`.
struct Hist {
    dates: Vec<NaiveDate>,
    accounts: usize,
    metrics: Vec<String>,
    values: Vec<Vec<Vec<f64>>>,
}

impl Hist {
    fn new(dates: Vec<NaiveDate>, accounts: usize) -> Hist {
        Hist {
            dates,
            accounts,
            metrics: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Weekly snapshots on the `weeks` weeks before the as-of date, oldest first.
    fn weekly(weeks: u64, accounts: usize) -> Hist {
        Hist::new(
            (1..=weeks).rev().map(|w| days_ago(7 * w)).collect(),
            accounts,
        )
    }

    /// One account's values of a metric, one per date (NaN = missing).
    fn set(mut self, metric: &str, account: usize, values: &[f64]) -> Hist {
        assert_eq!(values.len(), self.dates.len(), "one value per date");
        let m = match self.metrics.iter().position(|n| n == metric) {
            Some(m) => m,
            None => {
                self.metrics.push(metric.to_string());
                self.values
                    .push(vec![vec![f64::NAN; self.accounts]; self.dates.len()]);
                self.metrics.len() - 1
            }
        };
        for (snapshot, value) in values.iter().enumerate() {
            self.values[m][snapshot][account] = *value;
        }
        self
    }

    /// Active users and the utilisation they make of `seats`, one per date.
    fn seat_run(self, account: usize, seats: f64, users: &[f64]) -> Hist {
        let utilisation: Vec<f64> = users.iter().map(|u| u / seats).collect();
        self.set(USERS, account, users)
            .set(UTIL, account, &utilisation)
    }

    fn done(self) -> MetricHistory {
        MetricHistory {
            dates: self.dates,
            metrics: self.metrics,
            values: self.values,
        }
    }
}

/// The owned inputs of one analysis.
struct Built {
    frame: SnapshotFrame,
    names: Vec<String>,
    holdings: Vec<Holding>,
    history: MetricHistory,
    usage: FeatureMatrix,
    items: Vec<Vec<WorkItem>>,
    goals: Vec<Vec<GoalNote>>,
    health: Vec<Option<HealthBrief>>,
    churn: Vec<Option<ChurnBrief>>,
    win_history: WinHistory,
    weights: SignalWeights,
    cross_sell: Vec<Vec<Propensity>>,
}

impl Built {
    fn inputs(&self) -> ExpansionInputs<'_> {
        ExpansionInputs {
            frame: &self.frame,
            names: &self.names,
            holdings: &self.holdings,
            history: &self.history,
            usage: &self.usage,
            items: &self.items,
            goals: &self.goals,
            health: &self.health,
            churn: &self.churn,
            win_history: &self.win_history,
            weights: &self.weights,
            cross_sell: &self.cross_sell,
        }
    }

    fn index(&self, id: &str) -> usize {
        self.frame.account_index(id).expect("account in the frame")
    }

    /// Every signal of one account.
    fn signals(&self, id: &str) -> Vec<Signal> {
        let config = config();
        let inputs = self.inputs();
        let context = PortfolioContext::new(&inputs, &config);
        detect(&inputs, &config, &context, self.index(id))
    }

    fn signal(&self, id: &str, kind: SignalKind) -> Option<Signal> {
        let mut found: Vec<Signal> = self
            .signals(id)
            .into_iter()
            .filter(|s| s.kind == kind)
            .collect();
        assert!(found.len() <= 1, "{kind:?} fired more than once: {found:?}");
        found.pop()
    }

    fn analyse(&self) -> Vec<Opportunity> {
        expansion::analyse(&self.inputs(), &config())
    }
}

fn build(accounts: Vec<Acct>, history: MetricHistory) -> Built {
    let catalogue_metrics = shipped_metrics();
    let metrics: Vec<_> = METRICS
        .iter()
        .map(|name| {
            catalogue_metrics
                .iter()
                .find(|m| m.name == *name)
                .cloned()
                .unwrap_or_else(|| panic!("{name} is in the shipped catalogue"))
        })
        .collect();
    let rows: Vec<AccountRow> = accounts
        .iter()
        .map(|a| {
            let mut row = AccountRow::new(&a.id)
                .text("segment", &a.segment)
                .text("owner_csm_id", "csm_1");
            if let Some(tier) = &a.holding.plan_tier {
                row = row.text("plan_tier", tier);
            }
            if let Some(arr) = a.holding.arr {
                row = row.number("arr", arr);
            }
            if let Some(seats) = a.holding.seats {
                row = row.number("seats", seats);
            }
            row
        })
        .collect();
    let values: Vec<f64> = accounts
        .iter()
        .flat_map(|a| {
            METRICS
                .iter()
                .map(|name| a.values.get(name).copied().unwrap_or(f64::NAN))
        })
        .collect();
    let frame = SnapshotFrame::new(as_of(), metrics, rows, values).expect("valid test frame");
    for (m, series) in history.metrics.iter().zip(&history.values) {
        assert!(
            series.iter().all(|row| row.len() == accounts.len()),
            "history of {m} is aligned with the accounts"
        );
    }
    Built {
        frame,
        names: accounts.iter().map(|a| format!("{} Inc", a.id)).collect(),
        holdings: accounts.iter().map(|a| a.holding.clone()).collect(),
        history,
        usage: FeatureMatrix {
            as_of: Some(as_of()),
            window_days: 30,
            features: catalogue(),
            accounts: accounts.iter().map(|a| a.usage.clone()).collect(),
        },
        items: accounts.iter().map(|a| a.items.clone()).collect(),
        goals: accounts.iter().map(|a| a.goals.clone()).collect(),
        health: accounts.iter().map(|a| a.health.clone()).collect(),
        churn: accounts.iter().map(|a| a.churn.clone()).collect(),
        win_history: WinHistory::default(),
        weights: SignalWeights::default(),
        cross_sell: Vec::new(),
    }
}

fn evidence<'s>(signal: &'s Signal, label: &str) -> &'s coco_insights::expansion::Evidence {
    signal
        .evidence
        .iter()
        .find(|e| e.label == label)
        .unwrap_or_else(|| panic!("no evidence `{label}` in {:?}", signal.evidence))
}

/// The first evidence of a metric (the signal's headline value of it).
fn metric_evidence<'s>(signal: &'s Signal, metric: &str) -> &'s coco_insights::expansion::Evidence {
    signal
        .evidence
        .iter()
        .find(|e| e.metric.as_deref() == Some(metric))
        .unwrap_or_else(|| panic!("no evidence of {metric} in {:?}", signal.evidence))
}

fn evidence_like<'s>(signal: &'s Signal, part: &str) -> &'s coco_insights::expansion::Evidence {
    signal
        .evidence
        .iter()
        .find(|e| e.label.contains(part))
        .unwrap_or_else(|| panic!("no evidence like `{part}` in {:?}", signal.evidence))
}

/// Least-squares slope of (days from the first point, value).
fn slope(points: &[(NaiveDate, f64)]) -> f64 {
    let xs: Vec<f64> = points
        .iter()
        .map(|(d, _)| (*d - points[0].0).num_days() as f64)
        .collect();
    let n = points.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = xs
        .iter()
        .zip(points)
        .map(|(x, p)| (x - mx) * (p.1 - my))
        .sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    sxy / sxx
}

// ---------------------------------------------------------------------------- config

#[test]
fn the_shipped_config_parses_validates_and_names_outreach_as_documented() {
    let config = config();
    config
        .validate(&shipped_metrics())
        .expect("the shipped config validates against the shipped catalogue");
    let outreach: Vec<Outreach> = config.timing.rules.iter().map(|r| r.outreach).collect();
    assert!(outreach.contains(&Outreach::In30Days) && outreach.contains(&Outreach::In90Days));
    // The serialised name is the file's and `as_str`'s (the pipeline's keys).
    for o in [
        Outreach::Now,
        Outreach::In30Days,
        Outreach::In90Days,
        Outreach::Hold,
    ] {
        let json = serde_json::to_string(&o).expect("serialises");
        assert_eq!(json, format!("\"{}\"", o.as_str()));
        assert!(config.priority.timing_factor.contains_key(o.as_str()));
    }
}

// -------------------------------------------------------------------- 1. seat pressure

#[test]
fn seat_pressure_fires_after_two_weeks_and_projects_the_seat_limit() {
    // 100 seats; 70, 77, 84 active users in the three weekly snapshots, 91 now: the
    // utilisation is 84% a week ago and 91% now, 77% before (the run is 2 weeks).
    let users = [70.0, 77.0, 84.0, 91.0];
    let built = build(
        vec![Acct::new("acme", "smb").seat_use(100.0, 91.0)],
        Hist::weekly(3, 1).seat_run(0, 100.0, &users[..3]).done(),
    );
    let signal = built
        .signal("acme", SignalKind::SeatPressure)
        .expect("seat pressure fires");
    assert_eq!(signal.target, OpportunityKind::Seats);

    // No seat assignment in the frame: the 30-day active users measure the seats.
    let utilisation = metric_evidence(&signal, UTIL);
    assert_some_close(utilisation.value, 0.91);
    assert_eq!(utilisation.display, "91%");
    assert_eq!(utilisation.date, Some(as_of()));
    let weeks = evidence(&signal, "weeks at or above the threshold");
    assert_eq!(weeks.value, Some(2.0));
    assert_eq!(weeks.display, "2 (since 2026-10-25)");
    assert_eq!(evidence(&signal, "seats").value, Some(100.0));
    assert_eq!(metric_evidence(&signal, USERS).value, Some(91.0));
    // The weekly values of the run, dated.
    let run: Vec<(Option<NaiveDate>, String)> = signal
        .evidence
        .iter()
        .filter(|e| e.metric.as_deref() == Some(UTIL))
        .skip(1)
        .map(|e| (e.date, e.display.clone()))
        .collect();
    assert_eq!(
        run,
        [
            (Some(date(2026, 10, 25)), "84%".to_string()),
            (Some(as_of()), "91%".to_string()),
        ]
    );

    // The trend: +7 users a week = 1 a day; (100 − 91) / 1 = 9 days ahead.
    let points: Vec<(NaiveDate, f64)> = [21, 14, 7, 0]
        .iter()
        .map(|d| days_ago(*d))
        .zip(users)
        .collect();
    let per_day = slope(&points);
    assert_close(per_day, 1.0);
    let days_ahead = ((100.0 - 91.0) / per_day).ceil() as u64;
    assert_eq!(days_ahead, 9);
    assert_eq!(
        signal.projected_limit,
        Some(as_of() + Days::new(days_ahead))
    );
    assert_eq!(signal.projected_limit, Some(date(2026, 11, 10)));
    let trend = evidence_like(&signal, "trend");
    assert_some_close(trend.value, 7.0);
    assert_eq!(trend.display, "+7.0 users a week");
    assert!(
        signal.summary.contains("for 2 weeks")
            && signal.summary.contains("(91% on 2026-11-01)")
            && signal.summary.contains("91 active users on 100 seats")
            && signal.summary.contains("seats run out around 2026-11-10"),
        "{}",
        signal.summary
    );
}

#[test]
fn seat_pressure_projection_follows_a_slower_trend() {
    // 200 seats, +3.5 users a week (0.5 a day): (200 − 170) / 0.5 = 60 days.
    let users = [159.5, 163.0, 166.5, 170.0];
    let built = build(
        vec![Acct::new("slow", "smb").seat_use(200.0, 170.0)],
        Hist::weekly(3, 1).seat_run(0, 200.0, &users[..3]).done(),
    );
    let signal = built
        .signal("slow", SignalKind::SeatPressure)
        .expect("80% and above for 3 weeks");
    assert_eq!(
        evidence(&signal, "weeks at or above the threshold").value,
        Some(3.0)
    );
    let points: Vec<(NaiveDate, f64)> = [21, 14, 7, 0]
        .iter()
        .map(|d| days_ago(*d))
        .zip(users)
        .collect();
    let days_ahead = ((200.0 - 170.0) / slope(&points)).ceil() as u64;
    assert_eq!(days_ahead, 60);
    assert_eq!(signal.projected_limit, Some(date(2026, 12, 31)));
}

#[test]
fn seat_pressure_with_every_seat_in_use_is_at_the_limit_now() {
    let built = build(
        vec![Acct::new("full", "smb").seat_use(40.0, 40.0)],
        Hist::weekly(2, 1).seat_run(0, 40.0, &[36.0, 38.0]).done(),
    );
    let signal = built
        .signal("full", SignalKind::SeatPressure)
        .expect("fires at 100%");
    assert_eq!(signal.projected_limit, Some(as_of()));
    assert!(
        signal
            .summary
            .contains("40 active users on 40 seats; every seat is taken"),
        "{}",
        signal.summary
    );
}

#[test]
fn seat_pressure_needs_the_previous_week_above_the_threshold_too() {
    // 70%, 75%, 78% before, 85% now: one week only.
    let built = build(
        vec![Acct::new("spike", "smb").seat_use(100.0, 85.0)],
        Hist::weekly(3, 1)
            .seat_run(0, 100.0, &[70.0, 75.0, 78.0])
            .done(),
    );
    assert_eq!(built.signal("spike", SignalKind::SeatPressure), None);
    // Below the threshold now: nothing either, whatever the history.
    let built = build(
        vec![Acct::new("dip", "smb").seat_use(100.0, 79.0)],
        Hist::weekly(3, 1)
            .seat_run(0, 100.0, &[90.0, 91.0, 92.0])
            .done(),
    );
    assert_eq!(built.signal("dip", SignalKind::SeatPressure), None);
}

#[test]
fn seat_assignment_is_preferred_and_thirty_day_use_is_the_fallback() {
    let history = Hist::weekly(1, 3)
        // 83 of 100 seats provisioned a week ago, 90 now (+7 a week); 50 active.
        .set(ASSIGNED, 0, &[0.83])
        .set(PROVISIONED, 0, &[83.0])
        // No assignment known: 30-day use of 90% and 92%.
        .seat_run(1, 100.0, &[90.0])
        // Assignment present and low: heavy 30-day use does not replace it.
        .set(ASSIGNED, 2, &[0.5])
        .seat_run(2, 100.0, &[95.0])
        .done();
    let built = build(
        vec![
            Acct::new("assigned", "smb")
                .seats(100.0)
                .arr(66_000.0)
                .m(ASSIGNED, 0.9)
                .m(PROVISIONED, 90.0)
                .m(UTIL, 0.5)
                .m(USERS, 50.0),
            Acct::new("fallback", "smb")
                .seat_use(100.0, 92.0)
                .m(ASSIGNED, f64::NAN),
            Acct::new("loose", "smb")
                .seat_use(100.0, 96.0)
                .m(ASSIGNED, 0.5)
                .m(PROVISIONED, 50.0),
        ],
        history,
    );
    let signal = built
        .signal("assigned", SignalKind::SeatPressure)
        .expect("90% of seats provisioned for 2 weeks");
    assert_some_close(metric_evidence(&signal, ASSIGNED).value, 0.9);
    assert_eq!(metric_evidence(&signal, PROVISIONED).value, Some(90.0));
    assert!(
        signal
            .evidence
            .iter()
            .all(|e| e.metric.as_deref() != Some(UTIL))
    );
    // (100 − 90) provisioned users at +1 a day: 10 days.
    assert_eq!(signal.projected_limit, Some(as_of() + Days::new(10)));
    assert!(
        signal.summary.starts_with(
            "Seat utilisation has been at or above 80% for 2 weeks (90% on 2026-11-01)"
        ) && signal.summary.contains("90 users provisioned on 100 seats"),
        "{}",
        signal.summary
    );
    let fallback = built
        .signal("fallback", SignalKind::SeatPressure)
        .expect("30-day use of 90% and 92%");
    assert_some_close(metric_evidence(&fallback, UTIL).value, 0.92);
    assert_eq!(built.signal("loose", SignalKind::SeatPressure), None);

    // Sizing counts the provisioned users: 90 ÷ 0.75 = 120 seats → 20 more.
    let o = only(&built.analyse(), "assigned:seats");
    assert_eq!(o.sizing.added_seats, Some(20));
    assert_eq!(
        o.sizing.steps[0],
        "20 seats bring 90 users to 75% of 120 seats"
    );
    // The talking points quote the account's own utilisation.
    let answers: Vec<&str> = o
        .talking_points
        .objections
        .iter()
        .map(|pair| pair.answer.as_str())
        .collect();
    assert!(
        answers
            .iter()
            .any(|a| a.contains("the 90% utilisation shows")),
        "{answers:?}"
    );
}

#[test]
fn a_gap_of_more_than_ten_days_between_snapshots_breaks_the_run() {
    // 86% and 88% on 14 and 21 days before, 90% now: the gap of 14 days to the
    // latest snapshot breaks the run after the first week.
    let gapped = Hist::new(vec![days_ago(21), days_ago(14)], 1)
        .seat_run(0, 100.0, &[86.0, 88.0])
        .done();
    let built = build(vec![Acct::new("gap", "smb").seat_use(100.0, 90.0)], gapped);
    assert_eq!(built.signal("gap", SignalKind::SeatPressure), None);

    // The same values 10 days apart (within the slack) make a run of 3.
    let tight = Hist::new(vec![days_ago(20), days_ago(10)], 1)
        .seat_run(0, 100.0, &[86.0, 88.0])
        .done();
    let built = build(vec![Acct::new("gap", "smb").seat_use(100.0, 90.0)], tight);
    let signal = built
        .signal("gap", SignalKind::SeatPressure)
        .expect("no gap above 10 days");
    assert_eq!(
        evidence(&signal, "weeks at or above the threshold").value,
        Some(3.0)
    );

    // A missing weekly value is a gap too: 21 days before, then now.
    let missing = Hist::weekly(3, 1)
        .seat_run(0, 100.0, &[88.0, f64::NAN, f64::NAN])
        .done();
    let built = build(vec![Acct::new("gap", "smb").seat_use(100.0, 90.0)], missing);
    assert_eq!(built.signal("gap", SignalKind::SeatPressure), None);
}

// ------------------------------------------------------------------------- 2. tier fit

/// A starter account: the four starter features (3 used) and a trial of a
/// professional feature.
fn starter(id: &str, used: usize, trial_events: f64) -> Acct {
    let mut acct = Acct::new(id, "smb").tier("starter").seats(10.0).arr(4200.0);
    for (i, key) in [
        "projects.create",
        "tasks.assign",
        "files.upload",
        "reports.create",
    ]
    .iter()
    .enumerate()
    {
        acct = acct.uses(key, true, if i < used { 20.0 } else { 0.0 });
    }
    if trial_events > 0.0 {
        acct = acct.uses("dashboards.custom", false, trial_events);
    }
    acct
}

#[test]
fn tier_fit_fires_for_a_starter_account_reaching_for_professional() {
    let built = build(vec![starter("fit", 3, 5.0)], MetricHistory::default());
    let signal = built
        .signal("fit", SignalKind::TierFit)
        .expect("75% breadth and 5 trial events");
    assert_eq!(
        signal.target,
        OpportunityKind::Tier {
            to: "professional".into()
        }
    );
    let breadth = evidence(&signal, "breadth of the current tier");
    assert_some_close(breadth.value, 0.75);
    assert_eq!(breadth.display, "75% (3 of 4 features)");
    let trial = evidence(
        &signal,
        "trial use of dashboards custom (professional tier)",
    );
    assert_eq!(trial.value, Some(5.0));
    assert_eq!(trial.display, "5 events");
    assert_eq!(
        trial.source.as_ref().map(|s| s.id.as_str()),
        Some("dashboards.custom")
    );
    assert!(
        signal
            .summary
            .contains("Uses 3 of the 4 features of the starter tier (75%)")
            && signal
                .summary
                .contains("tried 1 feature of a higher tier (5 events)")
            && signal
                .summary
                .contains("professional adds dashboards custom, reports export, workflows create"),
        "{}",
        signal.summary
    );
    // Exactly 70% (7 of 10) is enough: the threshold is inclusive.
    let mut acct = Acct::new("edge", "smb").tier("starter");
    for i in 0..10 {
        acct.usage.push(FeatureUse {
            feature: i % 4,
            entitled: true,
            events: if i < 7 { 1.0 } else { 0.0 },
            users: 1.0,
            prior_events: 0.0,
            first_used: None,
            last_used: None,
        });
    }
    let built = build(
        vec![acct.uses("workflows.create", false, 3.0)],
        MetricHistory::default(),
    );
    assert!(built.signal("edge", SignalKind::TierFit).is_some());
}

#[test]
fn tier_fit_needs_breadth_a_reach_and_a_higher_tier() {
    // 2 of 4 (50%) is below 70%, whatever the trial.
    let built = build(vec![starter("narrow", 2, 50.0)], MetricHistory::default());
    assert_eq!(built.signal("narrow", SignalKind::TierFit), None);
    // Broad use but only 2 trial events (< 3) and one used feature in a module the
    // next tier extends (analytics: reports.create; 1 < 2): no reach.
    let built = build(vec![starter("content", 4, 2.0)], MetricHistory::default());
    assert_eq!(built.signal("content", SignalKind::TierFit), None);
    // Already on the top tier: every feature used, nothing to upgrade to.
    let mut top = Acct::new("top", "enterprise").tier("enterprise");
    for f in catalogue() {
        top = top.uses(&f.key, true, 10.0);
    }
    let built = build(vec![top], MetricHistory::default());
    assert_eq!(built.signal("top", SignalKind::TierFit), None);
}

// ---------------------------------------------------------------------- 3. power users

#[test]
fn power_users_fire_when_a_few_users_carry_the_product_and_seats_are_free() {
    let built = build(
        vec![
            Acct::new("narrow", "smb")
                .seat_use(50.0, 30.0)
                .m("top_user_share_30d", 0.75)
                .m("user_gini_30d", 0.55),
            Acct::new("saturated", "smb")
                .seat_use(50.0, 45.0)
                .m("top_user_share_30d", 0.80),
            Acct::new("tiny", "smb")
                .seat_use(10.0, 4.0)
                .m("top_user_share_30d", 0.90),
            Acct::new("even", "smb")
                .seat_use(50.0, 30.0)
                .m("top_user_share_30d", 0.50)
                .m("user_gini_30d", 0.30),
        ],
        MetricHistory::default(),
    );
    let signal = built
        .signal("narrow", SignalKind::PowerUsers)
        .expect("75% of activity by the top 20%, utilisation 60%");
    assert_eq!(signal.target, OpportunityKind::Seats);
    let share = evidence(&signal, "share of activity by the top 20% of users");
    assert_some_close(share.value, 0.75);
    assert_eq!(share.display, "75%");
    assert_eq!(
        evidence(&signal, "active users (30 days)").value,
        Some(30.0)
    );
    assert_some_close(evidence(&signal, "seat utilisation (30 days)").value, 0.6);
    assert!(
        signal
            .summary
            .contains("of its 30 users make 75% of the activity (Gini 0.55)")
            && signal.summary.contains("seat utilisation at 60%"),
        "{}",
        signal.summary
    );
    // Seats saturated (90%), fewer than 5 active users, activity spread evenly: none.
    assert_eq!(built.signal("saturated", SignalKind::PowerUsers), None);
    assert_eq!(built.signal("tiny", SignalKind::PowerUsers), None);
    assert_eq!(built.signal("even", SignalKind::PowerUsers), None);
}

// --------------------------------------------------------------------- 4. usage growth

/// A segment of five busy accounts with these 30-day growths.
fn growth_segment(segment: &str, prefix: &str, growths: &[f64]) -> Vec<Acct> {
    growths
        .iter()
        .enumerate()
        .map(|(i, g)| {
            Acct::new(&format!("{prefix}{i}"), segment)
                .m("events_30d", 800.0)
                .m(GROWTH, *g)
        })
        .collect()
}

#[test]
fn usage_growth_beyond_the_segment_fires() {
    let built = build(
        growth_segment("smb", "s", &[0.60, 0.0, -0.02, 0.02, 0.0]),
        MetricHistory::default(),
    );
    let signal = built
        .signal("s0", SignalKind::UsageGrowth)
        .expect("+60% against a flat segment");
    assert_eq!(signal.target, OpportunityKind::Seats);
    let growth = evidence(&signal, "change in 30-day events");
    assert_some_close(growth.value, 0.60);
    assert_eq!(growth.display, "+60%");
    assert_some_close(
        evidence(&signal, "growth after the seasonal part").value,
        0.60,
    );
    let peers = evidence(&signal, "median change of smb peers");
    assert_some_close(peers.value, 0.0);
    assert_eq!(evidence(&signal, "events (30 days)").value, Some(800.0));
    assert!(
        signal.summary.contains("grew +60% in 30 days (800 events)"),
        "{}",
        signal.summary
    );
    for other in ["s1", "s2", "s3", "s4"] {
        assert_eq!(
            built.signal(other, SignalKind::UsageGrowth),
            None,
            "{other}"
        );
    }
}

#[test]
fn seasonal_growth_of_the_whole_segment_is_not_an_expansion_signal() {
    // After a holiday dip every account of the segment grew about 50%: +55% is only
    // 1.55 / 1.50 − 1 ≈ +3% beyond the season.
    let mut accounts = growth_segment("mid", "m", &[0.55, 0.48, 0.50, 0.52, 0.50]);
    // The same +55% in a flat segment still fires: it is the segment that explains it.
    accounts.extend(growth_segment("smb", "s", &[0.55, 0.0, 0.01, -0.01, 0.0]));
    let built = build(accounts, MetricHistory::default());
    for i in 0..5 {
        let id = format!("m{i}");
        assert_eq!(built.signal(&id, SignalKind::UsageGrowth), None, "{id}");
    }
    let flat = built
        .signal("s0", SignalKind::UsageGrowth)
        .expect("+55% in a flat segment");
    assert_some_close(
        evidence(&flat, "growth after the seasonal part").value,
        0.55,
    );
}

#[test]
fn growth_the_account_also_had_a_year_earlier_is_seasonal() {
    // One account per variant in a flat segment; the history holds the growth metric
    // at one snapshot a year before (and one other snapshot, far from a year).
    let dates = vec![days_ago(400), days_ago(365), days_ago(7)];
    let accounts = growth_segment("smb", "y", &[0.55, 0.55, 0.0, 0.0, 0.0]);
    let history = Hist::new(dates, 5)
        // y0: +50% a year ago → +55% now is seasonal.
        .set(GROWTH, 0, &[0.0, 0.50, 0.10])
        // y1: +50% only 400 days ago (outside ±14 days of a year) → ignored.
        .set(GROWTH, 1, &[0.50, f64::NAN, 0.10])
        .done();
    let built = build(accounts, history);
    assert_eq!(built.signal("y0", SignalKind::UsageGrowth), None);
    let signal = built
        .signal("y1", SignalKind::UsageGrowth)
        .expect("no growth a year ago");
    assert_some_close(
        evidence(&signal, "growth after the seasonal part").value,
        0.55,
    );
    assert!(
        signal
            .evidence
            .iter()
            .all(|e| e.label != "the account's change a year earlier"),
        "{:?}",
        signal.evidence
    );

    // A flat year ago is shown as evidence, dated, and does not reduce the growth.
    let history = Hist::new(vec![days_ago(360)], 5)
        .set(GROWTH, 0, &[0.05])
        .done();
    let built = build(
        growth_segment("smb", "y", &[0.55, 0.0, 0.0, 0.0, 0.0]),
        history,
    );
    let signal = built
        .signal("y0", SignalKind::UsageGrowth)
        .expect("+5% a year ago leaves +48% beyond the season");
    let year = evidence(&signal, "the account's change a year earlier");
    assert_eq!(year.date, Some(days_ago(360)));
    assert_some_close(year.value, 0.05);
    assert_some_close(
        evidence(&signal, "growth after the seasonal part").value,
        1.55 / 1.05 - 1.0,
    );
}

#[test]
fn usage_growth_needs_enough_events() {
    let mut accounts = growth_segment("smb", "s", &[0.0, 0.0, 0.0, 0.0]);
    accounts.push(
        Acct::new("quiet", "smb")
            .m("events_30d", 30.0)
            .m(GROWTH, 1.5),
    );
    let built = build(accounts, MetricHistory::default());
    assert_eq!(built.signal("quiet", SignalKind::UsageGrowth), None);
}

// ------------------------------------------------------------------------ 5. module gap

fn automation_tickets(acct: Acct, days: [u64; 2]) -> Acct {
    acct.ticket("T-101", days[0], "Need approval flows for invoices")
        .ticket("T-102", days[1], "Bulk edit of tasks takes hours")
}

#[test]
fn module_gap_fires_on_tickets_the_module_solves() {
    let built = build(
        vec![
            automation_tickets(Acct::new("gap", "smb"), [10, 40]),
            automation_tickets(
                Acct::new("holder", "smb").products(&["core", "automation"]),
                [10, 40],
            ),
            automation_tickets(Acct::new("old", "smb"), [95, 120]),
            // On the window's edge: 89 days counts, 90 days does not (1 < 2 tickets).
            automation_tickets(Acct::new("edge", "smb"), [89, 90]),
        ],
        MetricHistory::default(),
    );
    let signals: Vec<Signal> = built
        .signals("gap")
        .into_iter()
        .filter(|s| s.kind == SignalKind::ModuleGap)
        .collect();
    assert_eq!(signals.len(), 1, "only automation: {signals:?}");
    let signal = &signals[0];
    assert_eq!(
        signal.target,
        OpportunityKind::Module {
            module: "automation".into()
        }
    );
    let ids: Vec<&str> = signal
        .evidence
        .iter()
        .filter_map(|e| e.source.as_ref())
        .map(|s| {
            assert_eq!(s.table, "tickets");
            s.id.as_str()
        })
        .collect();
    assert_eq!(ids, ["T-101", "T-102"]);
    assert_eq!(signal.evidence[0].date, Some(days_ago(10)));
    assert_eq!(
        signal.evidence[0].display,
        "Need approval flows for invoices"
    );
    assert_eq!(signal.evidence[0].label, "ticket (no category)");
    assert!(
        signal
            .summary
            .contains("Does not hold automation, but has 2 tickets or requests in 90 days"),
        "{}",
        signal.summary
    );
    assert_eq!(built.signal("holder", SignalKind::ModuleGap), None);
    assert_eq!(built.signal("old", SignalKind::ModuleGap), None);
    assert_eq!(built.signal("edge", SignalKind::ModuleGap), None);
}

#[test]
fn module_gap_fires_on_heavy_manual_workarounds() {
    // reports.export 40 + files.upload 30 = 70 events ≥ 60 for automation; the api map
    // counts reports.export only (40 < 60).
    let built = build(
        vec![
            Acct::new("manual", "smb")
                .uses("reports.export", true, 40.0)
                .uses("files.upload", true, 30.0),
        ],
        MetricHistory::default(),
    );
    let signal = built
        .signal("manual", SignalKind::ModuleGap)
        .expect("workaround events");
    assert_eq!(
        signal.target,
        OpportunityKind::Module {
            module: "automation".into()
        }
    );
    let export = evidence(&signal, "use of reports export (workaround, 30 days)");
    assert_eq!(export.value, Some(40.0));
    assert!(
        signal.summary.contains("70 events of manual work"),
        "{}",
        signal.summary
    );
}

// -------------------------------------------------------------------------- 6. new team

#[test]
fn new_team_fires_on_a_new_department_and_not_on_a_missing_metric() {
    let built = build(
        vec![
            Acct::new("grow", "smb")
                .m("new_departments_90d", 1.0)
                .m("departments_90d", 4.0),
            Acct::new("unknown", "smb").m("departments_90d", 4.0),
            Acct::new("same", "smb")
                .m("new_departments_90d", 0.0)
                .m("departments_90d", 4.0),
        ],
        MetricHistory::default(),
    );
    let signal = built
        .signal("grow", SignalKind::NewTeam)
        .expect("one new department");
    assert_eq!(signal.target, OpportunityKind::Seats);
    assert_eq!(
        evidence(&signal, "new departments (90 days)").value,
        Some(1.0)
    );
    assert_eq!(
        evidence(&signal, "departments using the product (90 days)").value,
        Some(4.0)
    );
    assert_eq!(
        signal.summary,
        "1 new department started using the product in the last 90 days (4 in all)."
    );
    assert_eq!(built.signal("unknown", SignalKind::NewTeam), None);
    assert_eq!(built.signal("same", SignalKind::NewTeam), None);
}

// ---------------------------------------------------------------------------- 7. timing

#[test]
fn timing_light_follows_the_shipped_rules() {
    let built = build(
        vec![
            Acct::new("churny", "smb").churn(0.62, "high"),
            Acct::new("yellow", "smb").health("yellow", 55.0),
            Acct::new("tickets", "smb").m("open_high_priority_tickets", 2.0),
            Acct::new("silent", "smb").m("nps_latest", f64::NAN),
            Acct::new("detractor", "smb").m("nps_latest", 4.0),
            Acct::new("fine", "smb")
                .health("green", 82.0)
                .churn(0.08, "low")
                .m("nps_latest", 9.0)
                .m("open_high_priority_tickets", 1.0)
                .m("champion_present", 1.0),
            Acct::new("bare", "smb"),
        ],
        MetricHistory::default(),
    );
    let config = config();
    let inputs = built.inputs();
    let timing = |id: &str| assess(&inputs, &config, built.index(id));

    let t = timing("churny");
    assert_eq!((t.light, t.outreach), (Light::Red, Outreach::Hold));
    assert_eq!(
        t.reasons,
        ["red: churn risk is high (62%) — retention first"]
    );

    let t = timing("yellow");
    assert_eq!((t.light, t.outreach), (Light::Yellow, Outreach::In30Days));
    assert_eq!(
        t.reasons,
        ["yellow: health is yellow (55) — nurture before proposing"]
    );

    let t = timing("tickets");
    assert_eq!((t.light, t.outreach), (Light::Red, Outreach::In30Days));
    assert_eq!(
        t.reasons,
        ["red: 2 high-priority tickets open — resolve them first"]
    );

    // A missing NPS is not a detractor (and no other rule holds): green.
    let t = timing("silent");
    assert_eq!((t.light, t.outreach), (Light::Green, Outreach::Now));
    assert_eq!(t.reasons, ["green: no risk rule matched"]);

    let t = timing("detractor");
    assert_eq!((t.light, t.outreach), (Light::Yellow, Outreach::In90Days));
    assert_eq!(
        t.reasons,
        ["yellow: latest NPS is 4 (detractor) — rebuild the relationship first"]
    );

    let t = timing("fine");
    assert_eq!((t.light, t.outreach), (Light::Green, Outreach::Now));
    assert_eq!(
        t.reasons,
        ["green: health 82, churn risk 8% and no open risk"]
    );

    let t = timing("bare");
    assert_eq!((t.light, t.outreach), (Light::Green, Outreach::Now));
    assert_eq!(t.reasons.len(), 1);
}

#[test]
fn the_most_cautious_outreach_and_worst_light_win() {
    let built = build(
        vec![
            // Yellow health (in 30 days) and a detractor (in 90 days): yellow, in 90 days.
            Acct::new("both", "smb")
                .health("yellow", 60.0)
                .m("nps_latest", 3.0),
            // Tickets (red, in 30 days) and a detractor (yellow, in 90 days): the worst
            // light and the most cautious outreach come from different rules.
            Acct::new("mixed", "smb")
                .m("open_high_priority_tickets", 3.0)
                .m("nps_latest", 5.0),
            // High churn (hold) and an escalation (in 30 days): hold.
            Acct::new("worst", "smb")
                .churn(0.7, "high")
                .m("escalations_90d", 1.0),
        ],
        MetricHistory::default(),
    );
    let config = config();
    let inputs = built.inputs();
    let t = assess(&inputs, &config, built.index("both"));
    assert_eq!((t.light, t.outreach), (Light::Yellow, Outreach::In90Days));
    assert_eq!(t.reasons.len(), 2, "{:?}", t.reasons);
    assert!(t.reasons[0].contains("latest NPS is 3"), "{:?}", t.reasons);
    assert!(
        t.reasons[1].contains("health is yellow (60)"),
        "{:?}",
        t.reasons
    );

    let t = assess(&inputs, &config, built.index("mixed"));
    assert_eq!((t.light, t.outreach), (Light::Red, Outreach::In90Days));
    assert_eq!(t.reasons.len(), 2, "{:?}", t.reasons);

    let t = assess(&inputs, &config, built.index("worst"));
    assert_eq!((t.light, t.outreach), (Light::Red, Outreach::Hold));
    assert_eq!(
        t.reasons,
        [
            "red: churn risk is high (70%) — retention first",
            "red: 1 escalation(s) in the last 90 days — retention first",
        ]
    );
}

// ---------------------------------------------------------------------------- 8. sizing

/// A professional account with 40 seats: 32, 33, 34 users in the weekly snapshots and
/// 36 now (90%).
fn seat_pressure_account(id: &str) -> Acct {
    Acct::new(id, "smb")
        .tier("professional")
        .seat_use(40.0, 36.0)
}

fn seat_history(accounts: &[usize], total: usize) -> MetricHistory {
    let mut hist = Hist::weekly(3, total);
    for a in accounts {
        hist = hist.seat_run(*a, 40.0, &[32.0, 33.0, 34.0]);
    }
    hist.done()
}

fn only(opportunities: &[Opportunity], id: &str) -> Opportunity {
    let found: Vec<&Opportunity> = opportunities.iter().filter(|o| o.id == id).collect();
    assert_eq!(
        found.len(),
        1,
        "one {id} in {:?}",
        opportunities.iter().map(|o| &o.id).collect::<Vec<_>>()
    );
    found[0].clone()
}

#[test]
fn seats_are_priced_at_list_times_the_accounts_discount() {
    // Price book (config/expansion.toml): professional platform $6,000 + $600 a seat;
    // automation 20% of core, at least $1,200.
    // Holding: 6,000 + 40 × 600 = 30,000 core + 6,000 automation = 36,000 list.
    // ARR 27,000 → discount 0.75.
    // Seats: 36 users ÷ 0.75 target = 48 seats → 8 more; 8 × $600 = $4,800 list,
    // × 0.75 = $3,600; × prior 45% = $1,620 expected.
    let built = build(
        vec![
            seat_pressure_account("acme")
                .arr(27_000.0)
                .products(&["core", "automation"]),
        ],
        seat_history(&[0], 1),
    );
    let opportunities = built.analyse();
    let o = only(&opportunities, "acme:seats");
    let s = &o.sizing;
    assert_eq!(s.added_seats, Some(8));
    assert_close(s.list_uplift, 4_800.0);
    assert_close(s.discount, 0.75);
    assert_close(s.uplift_arr, 3_600.0);
    assert_close(s.win_probability, 0.45);
    assert_close(s.expected_arr, 1_620.0);
    assert_close(o.priority, 1_620.0);
    assert!(
        s.win_basis
            .starts_with("prior 45% for seats (0 past outcomes, 20 needed)"),
        "{}",
        s.win_basis
    );
    assert_eq!(
        s.steps,
        [
            "8 seats bring 36 users to 75% of 48 seats",
            "8 × $600 list per seat (professional)",
            "× the account's discount 0.75 (ARR ÷ list of what it holds) = $3,600",
            "× win probability 45% = $1,620 expected",
        ]
    );
    assert_close(
        expansion::sizing::discount(&config(), &built.holdings[0]),
        27_000.0 / 36_000.0,
    );
}

#[test]
fn a_discount_below_the_floor_is_clamped() {
    // List 30,000 (no add-on), ARR 6,000 → 0.2, clamped to min_discount 0.3.
    let holding = Holding {
        plan_tier: Some("professional".into()),
        seats: Some(40.0),
        arr: Some(6_000.0),
        products: vec!["core".into()],
        renewal_date: None,
    };
    assert_close(expansion::sizing::discount(&config(), &holding), 0.3);
    // Unknown ARR: list price.
    let unknown = Holding {
        arr: None,
        ..holding
    };
    assert_close(expansion::sizing::discount(&config(), &unknown), 1.0);
}

#[test]
fn a_tier_upgrade_is_priced_as_the_difference_of_list_prices() {
    // Starter with 10 seats: 1,200 + 10 × 300 = 4,200; professional: 6,000 + 10 × 600
    // = 12,000; uplift 7,800 at ARR 4,200 ÷ 4,200 = discount 1; prior 30% → 2,340.
    let built = build(vec![starter("fit", 3, 5.0)], MetricHistory::default());
    let opportunities = built.analyse();
    let o = only(&opportunities, "fit:tier:professional");
    assert_close(o.sizing.list_uplift, 12_000.0 - 4_200.0);
    assert_close(o.sizing.discount, 1.0);
    assert_close(o.sizing.uplift_arr, 7_800.0);
    assert_close(o.sizing.win_probability, 0.30);
    assert_close(o.sizing.expected_arr, 2_340.0);
    assert_eq!(o.sizing.added_seats, None);
    assert_eq!(
        o.sizing.steps[0],
        "professional list $12,000 − starter list $4,200 for 10 seats"
    );
}

#[test]
fn a_module_is_priced_as_a_share_of_the_core_list() {
    // Professional, 50 seats: core list 6,000 + 30,000 = 36,000; automation 20% =
    // 7,200 (above the 1,200 minimum); ARR 18,000 → discount 0.5 → 3,600; × 30%.
    let built = build(
        vec![automation_tickets(
            Acct::new("gap", "smb").arr(18_000.0),
            [10, 40],
        )],
        MetricHistory::default(),
    );
    let o = only(&built.analyse(), "gap:module:automation");
    assert_close(o.sizing.list_uplift, 7_200.0);
    assert_close(o.sizing.discount, 0.5);
    assert_close(o.sizing.uplift_arr, 3_600.0);
    assert_close(o.sizing.expected_arr, 1_080.0);
    // A small account gets the minimum: starter 5 seats, core 2,700 → 20% = 540 → 1,200.
    let built = build(
        vec![automation_tickets(
            Acct::new("small", "smb").tier("starter").seats(5.0),
            [10, 40],
        )],
        MetricHistory::default(),
    );
    let o = only(&built.analyse(), "small:module:automation");
    assert_close(o.sizing.list_uplift, 1_200.0);
}

#[test]
fn win_probability_is_the_prior_until_enough_outcomes_then_the_shrunk_rate() {
    let mut built = build(
        vec![seat_pressure_account("acme").arr(30_000.0)],
        seat_history(&[0], 1),
    );
    // 19 outcomes (< min_outcomes 20): still the prior, whatever the record.
    for i in 0..19 {
        built.win_history.record("seats", i < 18);
    }
    // Other types do not count towards seats.
    for _ in 0..30 {
        built.win_history.record("tier", false);
    }
    let o = only(&built.analyse(), "acme:seats");
    assert_close(o.sizing.win_probability, 0.45);
    assert!(
        o.sizing.win_basis.contains("19 past outcomes, 20 needed"),
        "{}",
        o.sizing.win_basis
    );

    // 20 outcomes, 16 won: (16 + 0.45 × 10) / (20 + 10).
    let mut history = WinHistory::default();
    for i in 0..20 {
        history.record("seats", i < 16);
    }
    built.win_history = history;
    let o = only(&built.analyse(), "acme:seats");
    let rate = (16.0 + 0.45 * 10.0) / (20.0 + 10.0);
    assert_close(o.sizing.win_probability, rate);
    assert!(
        o.sizing
            .win_basis
            .starts_with("16 of 20 past seats expansions won, shrunk towards the prior 45%"),
        "{}",
        o.sizing.win_basis
    );
    // Discount 1 (30,000 ÷ 30,000): 8 × 600 = 4,800 × rate.
    assert_close(o.sizing.expected_arr, 4_800.0 * rate);
}

#[test]
fn a_red_light_scales_the_win_probability_by_three_tenths() {
    let built = build(
        vec![
            seat_pressure_account("green").arr(30_000.0),
            seat_pressure_account("red")
                .arr(30_000.0)
                .churn(0.7, "high"),
            seat_pressure_account("amber")
                .arr(30_000.0)
                .health("yellow", 50.0),
        ],
        seat_history(&[0, 1, 2], 3),
    );
    let opportunities = built.analyse();
    let green = only(&opportunities, "green:seats");
    let red = only(&opportunities, "red:seats");
    let amber = only(&opportunities, "amber:seats");
    assert_close(green.sizing.win_probability, 0.45);
    assert_close(red.sizing.win_probability, 0.45 * 0.3);
    assert_close(amber.sizing.win_probability, 0.45 * 0.7);
    assert_close(red.sizing.expected_arr, 4_800.0 * 0.45 * 0.3);
    assert!(
        red.sizing.win_basis.ends_with("× 0.3 for a red light"),
        "{}",
        red.sizing.win_basis
    );
    // Priority adds the timing factor: hold 0.1, in 30 days 0.8.
    assert_close(red.priority, red.sizing.expected_arr * 0.1);
    assert_close(amber.priority, amber.sizing.expected_arr * 0.8);
    assert_eq!(
        opportunities
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        ["green:seats", "amber:seats", "red:seats"]
    );
}

// -------------------------------------------------------------- 9. priority, pipeline

/// A professional account with 50 seats, 20 active users and a new department.
fn new_team_account(id: &str, arr: f64) -> Acct {
    Acct::new(id, "smb")
        .seat_use(50.0, 20.0)
        .arr(arr)
        .m("new_departments_90d", 1.0)
        .m("departments_90d", 3.0)
}

#[test]
fn the_bigger_expected_arr_comes_first() {
    // Same signal, list 36,000 each: a roll-out of 10% of 50 seats = 5 seats × 600 =
    // 3,000 list; ARR 36,000 → discount 1 → 1,350 expected; ARR 18,000 → 0.5 → 675.
    let built = build(
        vec![
            new_team_account("small", 18_000.0),
            new_team_account("big", 36_000.0),
        ],
        MetricHistory::default(),
    );
    let opportunities = built.analyse();
    assert_eq!(
        opportunities
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        ["big:seats", "small:seats"]
    );
    assert_eq!(opportunities[0].sizing.added_seats, Some(5));
    assert_close(opportunities[0].sizing.expected_arr, 1_350.0);
    assert_close(opportunities[1].sizing.expected_arr, 675.0);
    assert_close(opportunities[0].priority, 1_350.0);
    assert_close(opportunities[1].priority, 675.0);
    assert_eq!(opportunities[0].signal_weight, 1.0);
    assert_eq!(
        opportunities[0].sizing.steps[0],
        "5 seats: a roll-out of 10% of the current 50"
    );
}

#[test]
fn a_signal_weight_of_two_doubles_the_priority() {
    let mut built = build(
        vec![
            seat_pressure_account("seats").arr(30_000.0),
            new_team_account("team", 36_000.0),
            seat_pressure_account("both")
                .arr(30_000.0)
                .m("new_departments_90d", 1.0),
        ],
        seat_history(&[0, 2], 3),
    );
    let before = built.analyse();
    built.weights = SignalWeights {
        weights: [(SignalKind::SeatPressure, 2.0)].into_iter().collect(),
    };
    let after = built.analyse();
    let (b, a) = (only(&before, "seats:seats"), only(&after, "seats:seats"));
    assert_eq!(a.signal_weight, 2.0);
    assert_close(a.priority, 2.0 * b.priority);
    assert_close(a.sizing.expected_arr, b.sizing.expected_arr);
    // The other account's opportunity has no seat pressure: unchanged.
    assert_close(
        only(&after, "team:seats").priority,
        only(&before, "team:seats").priority,
    );
    // Two distinct signals of one opportunity agree: its best weight + 15%.
    let (b, a) = (only(&before, "both:seats"), only(&after, "both:seats"));
    let kinds: Vec<SignalKind> = a.signals.iter().map(|s| s.kind).collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds.contains(&SignalKind::SeatPressure) && kinds.contains(&SignalKind::NewTeam));
    assert_close(b.signal_weight, 1.15);
    assert_close(a.signal_weight, 2.0 * 1.15);
    assert_close(a.priority, 2.0 * b.priority);
}

#[test]
fn a_cross_sell_propensity_becomes_a_module_opportunity() {
    use coco_insights::expansion::crosssell::{LookAlike, ModuleReference, Profile};
    let mut cross = config().signals.cross_sell;
    cross.features = vec![USERS.into(), UTIL.into()];
    cross.neighbours = 5;
    cross.min_adopters = 3;
    let mut profiles = Vec::new();
    for i in 0..8 {
        profiles.push(Profile {
            account_id: format!("buyer{i}"),
            values: vec![60.0 + f64::from(i), 0.9],
            adopted: true,
        });
    }
    for i in 0..24 {
        profiles.push(Profile {
            account_id: format!("other{i}"),
            values: vec![5.0 + f64::from(i), 0.3],
            adopted: false,
        });
    }
    let model = LookAlike::fit(
        &ModuleReference {
            module: "api".into(),
            profiles,
        },
        &cross,
    )
    .expect("8 buyers are enough");
    let propensity = model.score(&[62.0, 0.88], &cross);
    assert_eq!(propensity.neighbours_adopted, 5);
    let mut built = build(
        vec![Acct::new("look", "smb").seat_use(100.0, 62.0).arr(66_000.0)],
        MetricHistory::default(),
    );
    built.cross_sell = vec![vec![propensity]];
    let o = only(&built.analyse(), "look:module:api");
    assert_eq!(o.signals.len(), 1);
    assert_eq!(o.signals[0].kind, SignalKind::CrossSell);
    // api: 15% of the 66,000 core list = 9,900 at discount 1.
    assert_close(o.sizing.list_uplift, 9_900.0);
    assert!(
        o.signals[0].summary.contains("5 of its 5 most similar"),
        "{}",
        o.signals[0].summary
    );
}

#[test]
fn pipeline_summary_adds_up_and_ids_are_stable() {
    let built = build(
        vec![
            seat_pressure_account("acme").arr(30_000.0),
            automation_tickets(Acct::new("bolt", "smb").arr(36_000.0), [5, 6]),
            starter("fit", 3, 5.0),
            new_team_account("team", 36_000.0).churn(0.4, "elevated"),
            Acct::new("quiet", "smb").arr(10_000.0),
        ],
        seat_history(&[0], 5),
    );
    let opportunities = built.analyse();
    let ids: Vec<&str> = opportunities.iter().map(|o| o.id.as_str()).collect();
    for id in [
        "acme:seats",
        "bolt:module:automation",
        "fit:tier:professional",
        "team:seats",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    assert!(ids.iter().all(|id| !id.starts_with("quiet:")), "{ids:?}");
    // Highest priority first.
    assert!(
        opportunities
            .windows(2)
            .all(|w| w[0].priority >= w[1].priority)
    );
    let bolt = only(&opportunities, "bolt:module:automation");
    assert_eq!(bolt.account_id, "bolt");
    assert_eq!(bolt.account_name, "bolt Inc");
    assert_eq!(bolt.segment.as_deref(), Some("smb"));
    assert_eq!(bolt.owner_csm_id.as_deref(), Some("csm_1"));
    assert_eq!(bolt.as_of, as_of());

    let target = 20_000.0;
    let summary = expansion::pipeline_summary(&opportunities, Some(target));
    let expected: f64 = opportunities.iter().map(|o| o.sizing.expected_arr).sum();
    let uplift: f64 = opportunities.iter().map(|o| o.sizing.uplift_arr).sum();
    assert_eq!(summary.opportunities, opportunities.len());
    assert_eq!(summary.accounts, 4);
    assert_close(summary.expected_arr, expected);
    assert_close(summary.uplift_arr, uplift);
    assert_some_close(summary.coverage, expected / target);
    for lines in [&summary.by_type, &summary.by_outreach, &summary.by_light] {
        assert_eq!(
            lines.iter().map(|l| l.opportunities).sum::<usize>(),
            summary.opportunities
        );
        assert_close(lines.iter().map(|l| l.expected_arr).sum(), expected);
        assert_close(lines.iter().map(|l| l.uplift_arr).sum(), uplift);
    }
    let keys =
        |lines: &[expansion::PipelineLine]| lines.iter().map(|l| l.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&summary.by_type), ["module", "seats", "tier"]);
    assert_eq!(keys(&summary.by_outreach), ["in_30_days", "now"]);
    assert_eq!(keys(&summary.by_light), ["green", "yellow"]);
    let seats = summary
        .by_type
        .iter()
        .find(|l| l.key == "seats")
        .map(|l| l.opportunities);
    assert_eq!(seats, Some(2));
    // No target, no coverage.
    assert_eq!(
        expansion::pipeline_summary(&opportunities, None).coverage,
        None
    );
    assert_eq!(
        expansion::pipeline_summary(&opportunities, Some(0.0)).coverage,
        None
    );
}

#[test]
fn talking_points_use_the_accounts_own_numbers() {
    // 100 seats, 91% used (see the seat-pressure case): 22 seats bring 91 users to 75%.
    let mut acme = Acct::new("acme", "smb").seat_use(100.0, 91.0).arr(66_000.0);
    acme.goals.push(GoalNote {
        touchpoint_id: "tp-7".into(),
        date: days_ago(20),
        text: "Goal: roll the product out to the support team".into(),
    });
    let built = build(
        vec![acme],
        Hist::weekly(3, 1)
            .seat_run(0, 100.0, &[70.0, 77.0, 84.0])
            .done(),
    );
    let o = only(&built.analyse(), "acme:seats");
    assert_eq!(o.sizing.added_seats, Some(22));
    let t = &o.talking_points;
    assert_eq!(t.recommendation, "Propose 22 more seats ($13,200 a year).");
    assert_eq!(t.opening.len(), 2);
    assert!(t.opening[0].contains("91%"), "{:?}", t.opening);
    assert!(
        t.next_step
            .starts_with("Book a 30-minute call with the champion this week"),
        "{}",
        t.next_step
    );
    let md = to_markdown(&o);
    for needle in [
        "# acme Inc — more seats",
        "timing **green** (now)",
        "## Opening",
        "91%",
        "91 active users on 100 seats",
        "## Likely objections",
        "- **We have no budget for more seats this year.** Start with the 22 seats",
        "the 91% utilisation shows the team already needs its own seats",
        "## Their stated goals",
        "- Goal: roll the product out to the support team (2026-10-12, touchpoint tp-7)",
        ": 91% (2026-11-01)",
        "- 22 × $600 list per seat (professional)",
        "- win probability: prior 45% for seats",
    ] {
        assert!(md.contains(needle), "`{needle}` missing from:\n{md}");
    }
}

#[test]
fn a_cautious_opportunity_says_when_to_revisit() {
    let built = build(
        vec![
            seat_pressure_account("acme")
                .arr(30_000.0)
                .health("yellow", 58.0),
        ],
        seat_history(&[0], 1),
    );
    let o = only(&built.analyse(), "acme:seats");
    assert_eq!(o.timing.outreach, Outreach::In30Days);
    assert_eq!(
        o.talking_points.next_step,
        "Not yet: yellow: health is yellow (58) — nurture before proposing. Revisit on 2026-12-01 and propose more seats if it has cleared."
    );
}

#[test]
fn analyse_account_matches_the_portfolio_analysis() {
    let built = build(
        vec![
            seat_pressure_account("acme").arr(30_000.0),
            automation_tickets(Acct::new("bolt", "smb").arr(36_000.0), [5, 6]),
        ],
        seat_history(&[0], 2),
    );
    let all = built.analyse();
    let one = expansion::analyse_account(&built.inputs(), &config(), built.index("bolt"));
    let from_all: Vec<&Opportunity> = all.iter().filter(|o| o.account_id == "bolt").collect();
    assert_eq!(one.len(), 1);
    assert_eq!(&one[0], from_all[0]);
}
