//! The customer journey (J1–J8) against hand-computed fixtures: stage fits, ties,
//! confidence and transitions; milestone churn links with Fisher/Holm checked against
//! scipy; churned-vs-retained comparisons (Welch against scipy) and the lead at which
//! churn becomes predictable; drop-off by tenure month; the account scorecard; the
//! onboarding tracker; touchpoint silence and stakeholder coverage; and the shipped
//! `config/journey.toml` against the real metric catalogue.

mod common;

use chrono::{Days, NaiveDate};
use coco_core::Category;
use coco_insights::journey::compare::{CompareRow, Comparison, VariableComparison, compare};
use coco_insights::journey::dropoff::{self, EngagementHistory};
use coco_insights::journey::milestones::{self, ChurnLink, MilestoneInputs, start_quarter};
use coco_insights::journey::onboarding::{self, OnboardingInputs, OnboardingStatus};
use coco_insights::journey::scorecard::{AccountJourney, RetainedBenchmark, Severity, scorecard};
use coco_insights::journey::stages::{
    ConfidenceLevel, DateColumns, StageView, classify, conflicts, distribution, stage_view,
};
use coco_insights::journey::touchpoints::{
    ContactInfo, TimelineEvent, silent_accounts, silent_periods, timeline,
};
use coco_insights::journey::{
    JourneyConfig, MilestoneRecord, RenewalRecord, first_renewal_after, quantile,
};
use coco_insights::stats::Estimate;
use coco_insights::values::{SideValues, Values};
use coco_insights::{AccountRow, Direction, SnapshotFrame};
use common::{as_of, assert_close, assert_some_close, date, days_ago, meta, shipped_metrics};

// ------------------------------------------------------------------------- fixtures

/// Three stages with hand-checkable criteria and every section small.
const SMALL: &str = r#"
version = "test"

[[stages]]
key = "onboarding"
label = "Onboarding"
expected_days = 90
entry = "contract signed"
exit = "go-live"
actions = ["milestone rescue call"]
criteria = [
  { label = "young", source = "tenure_days", at_most = 120.0, weight = 2.0 },
  { label = "onboarding incomplete", source = "onboarding_completion", at_most = 0.79, weight = 2.0 },
  { label = "go-live not reached", milestone = "go_live", done = false, weight = 1.0 },
]

[[stages]]
key = "adoption"
label = "Adoption"
expected_days = 100
entry = "onboarded"
exit = "broad adoption"
criteria = [
  { label = "past 90 days", source = "tenure_days", at_least = 90.0 },
  { label = "onboarding done", source = "onboarding_completion", at_least = 0.8 },
  { label = "breadth below 50%", source = "adoption_breadth_90d", at_most = 0.5 },
]

[[stages]]
key = "renewal"
label = "Renewal"
expected_days = 120
entry = "120 days out"
exit = "decided"
actions = ["renewal plan with the economic buyer", "value review"]
criteria = [
  { label = "renewal within 120 days", source = "days_to_renewal", at_most = 120.0, weight = 3.0 },
  { label = "past onboarding", source = "tenure_days", at_least = 120.0, weight = 1.0 },
]

[classification]
history_weeks = 26
confidence_high = 0.7
confidence_medium = 0.4

[[conflicts]]
label = "promoter NPS but usage falling"
all = [{ source = "nps_latest", at_least = 9.0 }, { source = "events_30d_change_90d", at_most = -0.25 }]

[milestones]
grace_days = 14
prefixes = ["renewal_prep_"]
cohort_by = "start_quarter"
skipped_below = 0.75
significance = 0.05
min_group = 10

[compare]
lookback_days = 540
lead_days = 90
variables = ["qbr_last_quarter", "touchpoints_90d", "days_since_last_touchpoint"]
top = 5
leads = [360, 180, 90, 30]
predictable_auc = 0.7

[dropoff]
metric = "active_users_30d"
step_weeks = 4
drop_share = 0.3
min_level = 3.0
max_tenure_month = 12
failure_points = 3

[scorecard]
deviation_quantile = 0.25
interventions = [
  { on = "days_since_last_touchpoint", action = "book a check-in; the account has gone quiet" },
  { on = "touchpoints_90d", action = "book a check-in; the account has gone quiet" },
  { on = "training", action = "schedule end-user training" },
]

[onboarding]
stall_days = 21
max_days = 240
go_live = "go_live"

[touchpoints]
silent_days = 30
engaged_days = 90
single_threaded_max = 1
"#;

fn small() -> JourneyConfig {
    let config = JourneyConfig::from_toml(SMALL).expect("the small journey config parses");
    config
        .validate(&shipped_metrics())
        .expect("the small journey config validates");
    config
}

fn record(
    key: &str,
    stage: &str,
    due: Option<NaiveDate>,
    completed: Option<NaiveDate>,
) -> MilestoneRecord {
    MilestoneRecord {
        key: key.into(),
        raw_key: key.into(),
        name: Some(format!("{key} (name)")),
        stage: Some(stage.into()),
        due,
        completed,
        status: None,
    }
}

/// |actual − expected| within `rel` of |expected| (p-values from scipy).
#[track_caller]
fn assert_rel(actual: Option<f64>, expected: f64, rel: f64) {
    let actual = actual.unwrap_or_else(|| panic!("expected Some({expected}), got None"));
    assert!(
        (actual - expected).abs() <= rel * expected.abs(),
        "expected {expected}, got {actual}"
    );
}

/// Columns of one date: `(source, one value per account)`.
fn columns(date: NaiveDate, sources: &[(&str, Vec<Option<f64>>)]) -> DateColumns {
    let mut c = DateColumns::new(date);
    for (name, values) in sources {
        c.numbers.insert(name.to_string(), values.clone());
    }
    c
}

// --------------------------------------------------------- J2: classification

#[test]
fn classification_fits_ties_and_missing_inputs() {
    let config = small();
    // Accounts: 0 a clear onboarding fit, 1 a tie, 2 missing inputs.
    let now = columns(
        as_of(),
        &[
            ("tenure_days", vec![Some(60.0), Some(150.0), Some(100.0)]),
            ("onboarding_completion", vec![Some(0.5), Some(0.9), None]),
            ("adoption_breadth_90d", vec![Some(0.1), Some(0.3), None]),
            (
                "days_to_renewal",
                vec![Some(300.0), Some(100.0), Some(300.0)],
            ),
            ("nps_latest", vec![Some(10.0), Some(10.0), None]),
            ("events_30d_change_90d", vec![Some(-0.3), None, None]),
        ],
    );
    let milestones = [
        vec![],
        vec![record(
            "go_live",
            "onboarding",
            Some(date(2026, 2, 1)),
            Some(date(2026, 3, 1)),
        )],
        // Completed after the date: not done yet, so "go-live not reached" holds.
        vec![record(
            "go_live",
            "onboarding",
            Some(date(2026, 10, 1)),
            Some(date(2026, 11, 20)),
        )],
    ];

    // Account 0 (tenure 60, completion 0.5, breadth 0.1, 300 days to renewal):
    //   onboarding: young 2 + incomplete 2 + go-live not reached 1 = 5 / 5 = 1.0
    //   adoption:   breadth only, 1 / 3
    //   renewal:    0 / 4
    //   confidence = 1.0 × (0.5 + 0.5 × (1 − 1/3)) × 1.0 = 5/6
    let c0 = classify(&config, &now, &milestones[0], 0);
    assert_eq!(c0.stage, 0);
    assert_close(c0.fits[0].fit, 1.0);
    assert_close(c0.fits[1].fit, 1.0 / 3.0);
    assert_close(c0.fits[2].fit, 0.0);
    assert_close(c0.fits[0].coverage, 1.0);
    assert_close(c0.confidence, 5.0 / 6.0);
    let v0 = stage_view(&config, "zero", &now, &[], &milestones[0], 0);
    assert_eq!(v0.stage, "onboarding");
    assert_close(v0.confidence, 0.83);
    assert_eq!(v0.confidence_level, ConfidenceLevel::High);
    assert_eq!(
        v0.met,
        vec!["young", "onboarding incomplete", "go-live not reached"]
    );
    assert_eq!(v0.runner_up, Some(("adoption".to_string(), 1.0 / 3.0)));
    // NPS 10 ≥ 9 and usage −30% ≤ −25%: the conflict holds.
    assert_eq!(v0.conflicts, vec!["promoter NPS but usage falling"]);
    // No history: nothing known about the stage's start.
    assert_eq!(v0.since, None);
    assert_eq!(v0.days_in_stage, 0);
    assert!(v0.transitions.is_empty());

    // Account 1 (tenure 150, completion 0.9, breadth 0.3, renewal in 100, live):
    //   onboarding 0; adoption 3/3 = 1.0; renewal 3 + 1 = 4/4 = 1.0 → a tie: the earlier
    //   stage (adoption) wins; margin 0 → confidence 1.0 × 0.5 × 1.0 = 0.5 (medium).
    let c1 = classify(&config, &now, &milestones[1], 1);
    assert_close(c1.fits[0].fit, 0.0);
    assert_close(c1.fits[1].fit, 1.0);
    assert_close(c1.fits[2].fit, 1.0);
    assert_eq!(c1.stage, 1);
    assert_close(c1.confidence, 0.5);
    let v1 = stage_view(&config, "one", &now, &[], &milestones[1], 1);
    assert_eq!(v1.stage, "adoption");
    assert_eq!(v1.confidence_level, ConfidenceLevel::Medium);
    assert_eq!(v1.runner_up, Some(("renewal".to_string(), 1.0)));
    // NPS 10 but the usage change is missing: a missing value never satisfies.
    assert!(v1.conflicts.is_empty());

    // Account 2 (tenure 100, completion and breadth missing, renewal in 300):
    //   onboarding: young 2 + go-live 1 met, incomplete (2) missing → fit 3/5 = 0.6,
    //     coverage 3/5 = 0.6
    //   adoption: past 90 met (1), the other two missing → fit 1/3, coverage 1/3
    //   renewal: 300 > 120 and 100 < 120 → 0, coverage 1
    //   confidence = 0.6 × (0.5 + 0.5 × (0.6 − 1/3)) × 0.6 = 0.36 × 0.6333… = 0.228
    let c2 = classify(&config, &now, &milestones[2], 2);
    assert_eq!(c2.stage, 0);
    assert_close(c2.fits[0].fit, 0.6);
    assert_close(c2.fits[0].coverage, 0.6);
    assert_close(c2.fits[1].fit, 1.0 / 3.0);
    assert_close(c2.fits[1].coverage, 1.0 / 3.0);
    assert_close(c2.fits[2].coverage, 1.0);
    assert_close(c2.confidence, 0.228);
    assert_eq!(c2.fits[0].missing, vec!["onboarding incomplete"]);
    assert_eq!(
        c2.fits[2].unmet,
        vec!["renewal within 120 days", "past onboarding"]
    );
    let v2 = stage_view(&config, "two", &now, &[], &milestones[2], 2);
    assert_close(v2.confidence, 0.23);
    assert_eq!(v2.confidence_level, ConfidenceLevel::Low);
    assert_eq!(v2.met, vec!["young", "go-live not reached"]);
    assert_eq!(v2.missing, vec!["onboarding incomplete"]);
    assert!(conflicts(&config, &now, &milestones[2], 2).is_empty());
}

/// Three accounts over eight monthly snapshots, 210 … 0 days before the as-of date.
///
/// k = 0 … 7 is 210 − 30k days ago. Per account and k: (tenure, completion, breadth,
/// days to renewal). No go-live rows: "go-live not reached" holds throughout.
fn journey_history() -> (DateColumns, Vec<DateColumns>) {
    let tenure_a: Vec<f64> = (0..8).map(|k| 30.0 + 30.0 * k as f64).collect();
    let tenure_c: Vec<f64> = (0..8).map(|k| 40.0 + 30.0 * k as f64).collect();
    let a_comp = [0.1, 0.3, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9];
    let a_breadth = [0.1, 0.1, 0.2, 0.3, 0.6, 0.6, 0.6, 0.3];
    let a_days = [335.0, 305.0, 275.0, 245.0, 110.0, 80.0, 50.0, 365.0];
    let b_comp = [0.2, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85];
    let b_breadth = [0.1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.6, 0.6];
    let b_days = [335.0, 305.0, 275.0, 245.0, 215.0, 185.0, 95.0, 65.0];
    let mut all: Vec<DateColumns> = (0..8)
        .map(|k| {
            columns(
                days_ago(210 - 30 * k as u64),
                &[
                    (
                        "tenure_days",
                        vec![Some(tenure_a[k]), Some(tenure_a[k]), Some(tenure_c[k])],
                    ),
                    (
                        "onboarding_completion",
                        vec![Some(a_comp[k]), Some(b_comp[k]), Some(0.3)],
                    ),
                    (
                        "adoption_breadth_90d",
                        vec![Some(a_breadth[k]), Some(b_breadth[k]), Some(0.7)],
                    ),
                    (
                        "days_to_renewal",
                        vec![Some(a_days[k]), Some(b_days[k]), Some(300.0)],
                    ),
                ],
            )
        })
        .collect();
    let now = all.pop().expect("eight dates");
    all.reverse(); // newest first
    (now, all)
}

#[test]
fn transitions_time_in_stage_and_speed() {
    let config = small();
    let (now, history) = journey_history();
    assert_eq!(history[0].date, date(2026, 10, 2));

    // A (stage fits by k):
    //   k0, k1 onboarding (1.0); k2 (90 d, completion 0.9): onboarding 0.6 < adoption 1.0;
    //   k3 adoption; k4 (150 d, breadth 0.6, renewal in 110): adoption 2/3 < renewal 1.0;
    //   k5, k6 renewal; k7 (new term, 365 days): adoption 1.0 > renewal 0.25.
    // Transitions: onboarding → adoption on 2026-06-04 (its start is before the history:
    //   no duration); adoption → renewal on 2026-08-03 after 60 days, 60/100 = 0.6 < 0.75
    //   → fast; renewal → adoption on 2026-11-01 after 90 days, 90/120 = 0.75 → on pace.
    let a = stage_view(&config, "A", &now, &history, &[], 0);
    let t: Vec<_> = a
        .transitions
        .iter()
        .map(|t| {
            (
                t.date,
                t.from.as_str(),
                t.to.as_str(),
                t.days_in_previous,
                t.speed.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        t,
        vec![
            (date(2026, 6, 4), "onboarding", "adoption", None, None),
            (
                date(2026, 8, 3),
                "adoption",
                "renewal",
                Some(60),
                Some("fast")
            ),
            (
                date(2026, 11, 1),
                "renewal",
                "adoption",
                Some(90),
                Some("on_pace")
            ),
        ]
    );
    assert_eq!(a.stage, "adoption");
    assert_eq!(a.since, Some(as_of()));
    assert_eq!(a.days_in_stage, 0);
    assert!(!a.overdue);
    // Now: onboarding 0.2 (go-live only), adoption 1.0, renewal 0.25:
    //   1.0 × (0.5 + 0.5 × 0.75) = 0.875 → 0.88.
    assert_close(a.confidence, 0.88);
    assert_eq!(a.expected_days, 100);

    // B: onboarding at k0; k1 (60 d, completion 0.85): onboarding 0.6 < adoption 2/3;
    //   adoption to k5; k6 (breadth 0.6, renewal in 95): renewal 1.0 > adoption 2/3.
    //   adoption → renewal on 2026-10-02 after 150 days: 1.5 > 1.25 → slow.
    let b = stage_view(&config, "B", &now, &history, &[], 1);
    assert_eq!(b.transitions.len(), 2);
    assert_eq!(b.transitions[0].date, date(2026, 5, 5));
    assert_eq!(b.transitions[0].days_in_previous, None);
    assert_eq!(b.transitions[1].date, date(2026, 10, 2));
    assert_eq!(b.transitions[1].days_in_previous, Some(150));
    assert_eq!(b.transitions[1].speed.as_deref(), Some("slow"));
    assert_eq!(b.stage, "renewal");
    assert_eq!(b.since, Some(date(2026, 10, 2)));
    assert_eq!(b.days_in_stage, 30);
    assert!(!b.overdue, "30 days of an expected 120");
    // renewal 1.0, adoption 2/3: 1.0 × (0.5 + 0.5 / 3) = 2/3 → 0.67, medium.
    assert_close(b.confidence, 0.67);
    assert_eq!(b.confidence_level, ConfidenceLevel::Medium);

    // C: completion stuck at 0.3, breadth 0.7: onboarding (≥ 0.6) beats adoption (≤ 1/3)
    //   on every date. Onboarding for at least the 210 days of history, expected 90:
    //   overdue even though the start of the stage is not in the history.
    let c = stage_view(&config, "C", &now, &history, &[], 2);
    assert!(c.transitions.is_empty());
    assert_eq!(c.stage, "onboarding");
    assert_eq!(c.since, None);
    assert_eq!(c.days_in_stage, 210);
    assert!(c.overdue, "at least 210 days in a 90-day stage");
    // 0.6 × (0.5 + 0.5 × (0.6 − 1/3)) × 1.0 = 0.38 → low.
    assert_close(c.confidence, 0.38);
    assert_eq!(c.confidence_level, ConfidenceLevel::Low);

    // The distribution over the three.
    let arr = [100.0, 200.0, 300.0];
    let d = distribution(&config, &[a, b, c], &|i| arr[i]);
    let rows: Vec<(&str, usize, f64, usize, usize, usize)> = d
        .iter()
        .map(|s| {
            (
                s.stage.as_str(),
                s.accounts,
                s.arr,
                s.low_confidence,
                s.entered_recently,
                s.overdue,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("onboarding", 1, 300.0, 1, 0, 1),
            ("adoption", 1, 100.0, 0, 1, 0),
            ("renewal", 1, 200.0, 0, 1, 0),
        ]
    );
}

#[test]
fn a_stage_not_left_within_a_short_history_is_not_overdue() {
    let config = small();
    let (now, history) = journey_history();
    // C with only the last two months of history: at least 60 days of onboarding, within
    // the 90 expected — no verdict.
    let c = stage_view(&config, "C", &now, &history[..2], &[], 2);
    assert_eq!(c.days_in_stage, 60);
    assert!(!c.overdue);
}

// --------------------------------------------------------------- J3: milestones

/// 42 accounts and two milestones (see the comments of the test for the design).
struct MilestoneBook {
    milestones: Vec<Vec<MilestoneRecord>>,
    cohorts: Vec<Option<String>>,
    starts: Vec<Option<NaiveDate>>,
    renewals: Vec<RenewalRecord>,
}

fn milestone_book() -> MilestoneBook {
    let churned = |a: usize| a <= 8 || (15..=17).contains(&a);
    let mut milestones = Vec::new();
    let mut starts = Vec::new();
    let mut renewals = Vec::new();
    for a in 0..40 {
        let start = if a < 20 {
            date(2025, 2, 1)
        } else {
            date(2025, 4, 1)
        };
        starts.push(Some(start));
        let kickoff_missed = a <= 4 || (9..=13).contains(&a);
        let kickoff = record(
            "kickoff",
            "onboarding",
            Some(date(2025, 5, 1)),
            (!kickoff_missed).then(|| date(2025, 4, 28)),
        );
        let training_done = match a {
            0..=9 => None,
            10..=14 => Some(date(2025, 7, 1)),
            15..=29 => Some(date(2025, 5, 20)),
            _ => Some(date(2025, 6, 10)),
        };
        let mut training = record(
            "training",
            "onboarding",
            Some(date(2025, 6, 1)),
            training_done,
        );
        training.status = match a {
            0..=4 => Some("skipped".into()),
            5 => Some("blocked".into()),
            _ => None,
        };
        milestones.push(vec![kickoff, training]);
        if a == 15 {
            // An earlier renewal, before either deadline: not the one the link reads.
            renewals.push(RenewalRecord {
                account: a,
                renewal_date: date(2025, 3, 1),
                decided_on: date(2025, 2, 20),
                churned: false,
            });
        }
        renewals.push(RenewalRecord {
            account: a,
            renewal_date: date(2026, 1, 15),
            decided_on: date(2026, 1, 10),
            churned: churned(a),
        });
    }
    // 40: training due 2026-09-01 (deadline 09-15 has passed), completed 2026-11-20 —
    // after the as-of date, so not known; its renewal is decided after the date too.
    starts.push(Some(date(2026, 8, 1)));
    milestones.push(vec![record(
        "training",
        "onboarding",
        Some(date(2026, 9, 1)),
        Some(date(2026, 11, 20)),
    )]);
    renewals.push(RenewalRecord {
        account: 40,
        renewal_date: date(2026, 12, 1),
        decided_on: date(2026, 11, 20),
        churned: true,
    });
    // 41: training due 2026-10-25, deadline 11-08 still ahead: not judged.
    starts.push(Some(date(2026, 8, 15)));
    milestones.push(vec![record(
        "training",
        "onboarding",
        Some(date(2026, 10, 25)),
        None,
    )]);
    let cohorts = starts.iter().map(|s| s.map(start_quarter)).collect();
    MilestoneBook {
        milestones,
        cohorts,
        starts,
        renewals,
    }
}

#[test]
fn milestone_churn_links_heatmap_and_completion_times() {
    let config = small();
    let book = milestone_book();
    let inputs = MilestoneInputs {
        as_of: as_of(),
        milestones: &book.milestones,
        cohorts: &book.cohorts,
        starts: &book.starts,
        renewals: &book.renewals,
    };
    let out = milestones::analyse(&inputs, &config);
    assert_eq!(out.cohort_by, "start_quarter");
    assert_eq!(out.cohorts, vec!["2025-Q1", "2025-Q2", "2026-Q3"]);

    // Churned at the 2026-01-15 renewal: accounts 0–8 and 15–17 (12 of 40).
    //
    // training (due 2025-06-01, deadline 06-15):
    //   missed: 0–9 never done, 10–14 done 07-01 (late) → 15, churned 0–8 → 9
    //   completed: 15–39 → 25, churned 15–17 → 3
    //   (40's decision is after the date and 41 is not judged: neither is in the table.)
    //   churn 9/15 = 0.6 against 3/25 = 0.12 → risk ratio 5.0
    //   scipy.stats.fisher_exact([[9, 6], [3, 22]]).pvalue = 0.0031587153776583385
    //   log interval: se = √(1/9 − 1/15 + 1/3 − 1/25) = √0.337778;
    //     exp(ln 5 ± 1.959964 × se) = [1.600527485826942, 15.619850468911677]
    // kickoff (due 2025-05-01):
    //   missed: 0–4 (churned) and 9–13 (retained) → 10, churned 5
    //   completed: the other 30, churned 5–8 and 15–17 → 7
    //   churn 0.5 against 7/30 → risk ratio 15/7
    //   scipy.stats.fisher_exact([[5, 5], [7, 23]]).pvalue = 0.1329160604727368
    // Holm over the two: 2 × 0.0031587… = 0.006317430755316677 and
    //   max(0.0063…, 0.1329…) = 0.1329160604727368.
    assert_eq!(out.churn_links.len(), 2);
    let training = &out.churn_links[0];
    assert_eq!(
        training.milestone, "training",
        "the predictive link comes first"
    );
    assert_eq!((training.missed, training.missed_churned), (15, 9));
    assert_eq!((training.completed, training.completed_churned), (25, 3));
    assert_some_close(training.churn_rate_missed, 0.6);
    assert_some_close(training.churn_rate_completed, 0.12);
    let rr = training.risk_ratio.expect("a risk ratio");
    assert_close(rr.value, 5.0);
    assert!((rr.low - 1.600527485826942).abs() < 1e-9, "{rr:?}");
    assert!((rr.high - 15.619850468911677).abs() < 1e-8, "{rr:?}");
    assert_rel(training.p_value, 0.0031587153776583385, 1e-9);
    assert_rel(training.p_holm, 0.006317430755316677, 1e-9);
    // Benjamini–Hochberg: min(2/1 × p₁, p₂) = 0.0063…
    assert_rel(training.q_value, 0.006317430755316677, 1e-9);
    assert!(training.predicts_churn);
    let rd = training.risk_difference.expect("a risk difference");
    assert_close(rd.value, 0.48);

    let kickoff = &out.churn_links[1];
    assert_eq!(kickoff.milestone, "kickoff");
    assert_eq!((kickoff.missed, kickoff.missed_churned), (10, 5));
    assert_eq!((kickoff.completed, kickoff.completed_churned), (30, 7));
    assert_some_close(kickoff.risk_ratio.map(|r| r.value), 15.0 / 7.0);
    assert_rel(kickoff.p_value, 0.1329160604727368, 1e-9);
    assert_rel(kickoff.p_holm, 0.1329160604727368, 1e-9);
    assert!(
        !kickoff.predicts_churn,
        "risk ratio above 1 but not significant"
    );

    // Summaries (BTreeMap order: kickoff, training).
    let k = &out.milestones[0];
    assert_eq!(k.milestone, "kickoff");
    assert_eq!(k.name.as_deref(), Some("kickoff (name)"));
    assert_eq!(k.stage.as_deref(), Some("onboarding"));
    assert_eq!(
        (
            k.due,
            k.completed_on_time,
            k.completed_late,
            k.not_completed
        ),
        (40, 30, 0, 10)
    );
    assert_some_close(k.completion_rate, 0.75);
    assert!(!k.systematically_skipped, "0.75 is not below 0.75");
    // 2025-04-28 is 3 days before the due date for everyone.
    assert_some_close(k.median_days_late, -3.0);

    let t = &out.milestones[1];
    assert_eq!(t.milestone, "training");
    // 40 judged from the book plus account 40 (its completion after the date is unknown).
    assert_eq!(
        (
            t.due,
            t.completed_on_time,
            t.completed_late,
            t.not_completed
        ),
        (41, 25, 5, 11)
    );
    assert_eq!(t.skipped_or_blocked, 6);
    assert_some_close(t.completion_rate, 30.0 / 41.0);
    assert!(t.systematically_skipped);
    // Days from start to completion (30 values):
    //   10–14: 2025-02-01 → 07-01 = 150; 15–19: 02-01 → 05-20 = 108;
    //   20–29: 04-01 → 05-20 = 49; 30–39: 04-01 → 06-10 = 70.
    //   Sorted: 49 ×10, 70 ×10, 108 ×5, 150 ×5. Type-7 positions q × 29:
    //   p25 7.25 → 49; median 14.5 → 70; p75 21.75 → 108; p90 26.1 → 150.
    assert_eq!(t.days_to_complete, Some([49.0, 70.0, 108.0, 150.0]));
    // Days late: −12 ×15 (05-20), +9 ×10 (06-10), +30 ×5 (07-01); median at 14.5 →
    //   −12 + 0.5 × (9 − (−12)) = −1.5.
    assert_some_close(t.median_days_late, -1.5);

    // Heatmap: done by the as-of date among the judged, per start quarter.
    //   kickoff Q1 (0–19): 0–4 and 9–13 not done → 10/20; Q2 20/20; 2026-Q3 nobody due.
    //   training Q1: 10–19 done → 10/20; Q2: 20/20; 2026-Q3: account 40, 0/1.
    let cells: Vec<(&str, &str, usize, usize, Option<f64>)> = out
        .heatmap
        .iter()
        .map(|c| {
            (
                c.milestone.as_str(),
                c.cohort.as_str(),
                c.due,
                c.completed,
                c.rate,
            )
        })
        .collect();
    assert_eq!(
        cells,
        vec![
            ("kickoff", "2025-Q1", 20, 10, Some(0.5)),
            ("kickoff", "2025-Q2", 20, 20, Some(1.0)),
            ("kickoff", "2026-Q3", 0, 0, None),
            ("training", "2025-Q1", 20, 10, Some(0.5)),
            ("training", "2025-Q2", 20, 20, Some(1.0)),
            ("training", "2026-Q3", 1, 0, Some(0.0)),
        ]
    );
}

#[test]
fn milestone_tests_need_min_group_on_both_sides() {
    let mut config = small();
    config.milestones.min_group = 11;
    let book = milestone_book();
    let inputs = MilestoneInputs {
        as_of: as_of(),
        milestones: &book.milestones,
        cohorts: &book.cohorts,
        starts: &book.starts,
        renewals: &book.renewals,
    };
    let out = milestones::analyse(&inputs, &config);
    // kickoff has 10 missed < 11: counted, not tested; training is the only test, so
    // Holm leaves its p as it is.
    let kickoff = out
        .churn_links
        .iter()
        .find(|l| l.milestone == "kickoff")
        .expect("kickoff link");
    assert_eq!(kickoff.missed, 10);
    assert_some_close(kickoff.churn_rate_missed, 0.5);
    assert_eq!(kickoff.p_value, None);
    assert_eq!(kickoff.risk_ratio, None);
    assert_eq!(kickoff.p_holm, None);
    let training = &out.churn_links[0];
    assert_rel(training.p_holm, 0.0031587153776583385, 1e-9);
}

#[test]
fn the_point_in_time_helpers() {
    let m = record(
        "x",
        "onboarding",
        Some(date(2026, 10, 1)),
        Some(date(2026, 10, 20)),
    );
    // Deadline 10-15 (grace 14): done 10-20 is late.
    assert_eq!(m.missed_at(as_of(), 14), Some(true));
    assert_eq!(m.missed_at(as_of(), 19), Some(false));
    // Deadline 11-02 is after the date: not judged yet.
    assert_eq!(m.missed_at(as_of(), 32), None);
    assert!(m.done_by(date(2026, 10, 20)));
    assert!(!m.done_by(date(2026, 10, 19)));
    let renewals = milestone_book().renewals;
    let r = first_renewal_after(&renewals, 15, date(2025, 6, 15)).expect("one");
    assert_eq!(r.renewal_date, date(2026, 1, 15));
    let r = first_renewal_after(&renewals, 15, date(2025, 1, 1)).expect("one");
    assert_eq!(r.renewal_date, date(2025, 3, 1));
    assert!(first_renewal_after(&renewals, 41, date(2025, 1, 1)).is_none());
    assert_eq!(quantile(&[], 0.5), None);
    assert_eq!(quantile(&[1.0, 2.0, 4.0], 0.75), Some(3.0));
    assert_eq!(start_quarter(date(2026, 9, 30)), "2026-Q3");
    assert_eq!(start_quarter(date(2026, 10, 1)), "2026-Q4");
    let config = small();
    assert_eq!(config.milestone_key("renewal_prep_202611"), "renewal_prep");
    assert_eq!(config.milestone_key("kickoff"), "kickoff");
}

// --------------------------------------------------- J4: churned vs retained

fn row(churned: bool, values: [Option<f64>; 3]) -> CompareRow {
    CompareRow {
        churned,
        values: values.to_vec(),
    }
}

/// Six churned and ten retained renewals: [qbr_last_quarter, touchpoints_90d,
/// days_since_last_touchpoint].
fn compare_rows() -> Vec<CompareRow> {
    let churned_qbr = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let churned_touch = [1.0, 2.0, 2.0, 3.0, 0.0, 4.0];
    let churned_since = [60.0, 70.0, 80.0, 90.0, 100.0, 110.0];
    let retained_qbr = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0];
    let retained_touch = [5.0, 6.0, 4.0, 7.0, 8.0, 5.0, 6.0, 9.0, 3.0, 7.0];
    let retained_since = [5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0];
    let mut rows = Vec::new();
    for i in 0..6 {
        rows.push(row(
            true,
            [
                Some(churned_qbr[i]),
                Some(churned_touch[i]),
                Some(churned_since[i]),
            ],
        ));
    }
    for i in 0..10 {
        rows.push(row(
            false,
            [
                Some(retained_qbr[i]),
                Some(retained_touch[i]),
                Some(retained_since[i]),
            ],
        ));
    }
    rows
}

fn variables() -> Vec<String> {
    small().compare.variables
}

#[test]
fn churned_against_retained_by_hand_and_scipy() {
    let config = small();
    let mut rows = compare_rows();
    // A churned renewal without any values counts as churned but in no comparison.
    rows.push(row(true, [None, None, None]));
    let c = compare(&config, &variables(), &rows, &[]);
    assert_eq!((c.churned, c.retained), (7, 10));
    assert_eq!(c.lead_days, 90);

    // qbr_last_quarter (every value 0 or 1): 1/6 churned held one, 8/10 retained.
    //   difference 1/6 − 0.8 = −0.63333; Cohen's h = 2 asin √(1/6) − 2 asin √0.8
    //   = −1.3732287650202506; scipy.stats.fisher_exact([[1, 5], [8, 2]]).pvalue
    //   = 0.034965034965034975.
    let qbr = &c.variables[0];
    assert!(qbr.binary);
    assert_eq!((qbr.churned_n, qbr.retained_n), (6, 10));
    assert_some_close(qbr.churned_mean, 1.0 / 6.0);
    assert_some_close(qbr.retained_mean, 0.8);
    assert_some_close(qbr.churned_median, 0.0);
    assert_some_close(qbr.retained_median, 1.0);
    assert_some_close(qbr.difference, 1.0 / 6.0 - 0.8);
    assert_some_close(qbr.effect_size, -1.3732287650202506);
    assert_rel(qbr.p_value, 0.034965034965034975, 1e-9);

    // touchpoints_90d: means 2 vs 6 → difference −4; medians 2 and 6.
    //   scipy.stats.ttest_ind([1,2,2,3,0,4], [5,6,4,7,8,5,6,9,3,7], equal_var=False).pvalue
    //   = 0.0003000650531189478; Cohen's d (pooled SD) = −2.3664319132398464.
    let touch = &c.variables[1];
    assert!(!touch.binary);
    assert_some_close(touch.difference, -4.0);
    assert_some_close(touch.churned_median, 2.0);
    assert_some_close(touch.retained_median, 6.0);
    assert_some_close(touch.effect_size, -2.3664319132398464);
    assert_rel(touch.p_value, 0.0003000650531189478, 1e-8);
    assert!(touch.low.is_some_and(|l| l < -4.0) && touch.high.is_some_and(|h| h > -4.0 && h < 0.0));

    // days_since_last_touchpoint: 60…110 (mean 85) vs 5…50 (mean 27.5) → 57.5.
    //   scipy.stats.ttest_ind([60,70,80,90,100,110], [5,10,…,50], equal_var=False).pvalue
    //   = 0.00013259708283971632; d = 57.5 / √((5 × 350 + 9 × 229.1667) / 14)
    //   = 3.4843914255659305.
    let since = &c.variables[2];
    assert_some_close(since.difference, 57.5);
    assert_some_close(since.churned_median, 85.0);
    assert_some_close(since.retained_median, 27.5);
    assert_some_close(since.effect_size, 3.4843914255659305);
    assert_rel(since.p_value, 0.00013259708283971632, 1e-8);

    // Holm over the three (ascending: since, touch, qbr):
    //   since 3 × 0.000132597 = 0.00039779124851914893
    //   touch max(…, 2 × 0.000300065) = 0.0006001301062378956
    //   qbr   max(…, 1 × 0.034965) = 0.034965034965034975 — all below 0.05.
    assert_rel(since.p_holm, 0.00039779124851914893, 1e-8);
    assert_rel(touch.p_holm, 0.0006001301062378956, 1e-8);
    assert_rel(qbr.p_holm, 0.034965034965034975, 1e-9);
    assert!(c.variables.iter().all(|v| v.significant));
    // The separating variables by |effect size|: 3.48, 2.37, 1.37.
    assert_eq!(
        c.top,
        vec![
            "days_since_last_touchpoint",
            "touchpoints_90d",
            "qbr_last_quarter"
        ]
    );
    assert!(c.predictability.is_empty());
    assert_eq!(c.earliest_predictable_days, None);
}

#[test]
fn churn_becomes_predictable_at_the_longest_lead_reaching_the_auc() {
    let mut config = small();
    config.compare.top = 1; // the composite is the strongest variable alone
    let rows = compare_rows();
    let lead = |churned: &[f64], retained: &[f64]| -> Vec<CompareRow> {
        churned
            .iter()
            .map(|v| row(true, [None, None, Some(*v)]))
            .chain(retained.iter().map(|v| row(false, [None, None, Some(*v)])))
            .collect()
    };
    let by_lead = vec![
        // 360 days out: churned [10, 30] vs retained [20, 40, 50, 5]: pairs where the
        //   churned value is higher: 10 > 5; 30 > 20, 5 → 3 of 8 = 0.375.
        (360, lead(&[10.0, 30.0], &[20.0, 40.0, 50.0, 5.0])),
        // 180: churned [40, 60, 70] vs [10, 20, 50, 30]: 3 + 4 + 4 = 11 of 12.
        (180, lead(&[40.0, 60.0, 70.0], &[10.0, 20.0, 50.0, 30.0])),
        // 90 and 30: the main rows, where every churned value is above every retained one.
        (90, rows.clone()),
        (30, rows.clone()),
    ];
    let c = compare(&config, &variables(), &rows, &by_lead);
    assert_eq!(c.top, vec!["days_since_last_touchpoint"]);
    let aucs: Vec<(u32, usize, Option<f64>)> = c
        .predictability
        .iter()
        .map(|l| (l.lead_days, l.renewals, l.auc))
        .collect();
    assert_eq!(aucs.len(), 4);
    assert_eq!((aucs[0].0, aucs[0].1), (360, 6));
    assert_some_close(aucs[0].2, 0.375);
    assert_some_close(aucs[1].2, 11.0 / 12.0);
    assert_some_close(aucs[2].2, 1.0);
    assert_some_close(aucs[3].2, 1.0);
    assert_eq!(aucs[2].1, 16);
    // AUC ≥ 0.7 at 180, 90 and 30 days: the longest lead is 180.
    assert_eq!(c.earliest_predictable_days, Some(180));

    // Nothing significant (a threshold no p-value meets): no composite, no AUC.
    let mut strict = small();
    strict.milestones.significance = 1e-6;
    let c = compare(&strict, &variables(), &rows, &by_lead);
    assert!(c.top.is_empty());
    assert!(c.predictability.iter().all(|l| l.auc.is_none()));
    assert_eq!(c.earliest_predictable_days, None);
}

// ------------------------------------------------------------------ J5: drop-off

#[test]
fn dropoff_by_tenure_month_and_the_failure_point() {
    let config = small();
    // Nine weekly snapshots, the last on the as-of date: steps of four weeks ending at the
    // newest are (4 → 8), 28 days before the date at its start, and (0 → 4), 56 days.
    let dates: Vec<NaiveDate> = (0..9).map(|i| days_ago(7 * (8 - i))).collect();
    assert_eq!(dates[8], as_of());
    let mut tenure: Vec<Option<f64>> = Vec::new();
    let mut series: Vec<[f64; 9]> = Vec::new();
    let mut stage: Vec<Option<usize>> = Vec::new();
    let nan = f64::NAN;
    let mut add = |n: usize, t: Option<f64>, s: [f64; 9], st: Option<usize>| {
        for _ in 0..n {
            tenure.push(t);
            series.push(s);
            stage.push(st);
        }
    };
    // A1: 15 accounts, tenure 130 → 102 days at the step (4 → 8): month 3 (102 / 30.44
    //   = 3.35); 10 → 5 is a drop (≤ 10 × 0.7). No value 8 weeks ago: one step only.
    add(
        15,
        Some(130.0),
        [nan, 10.0, 10.0, 10.0, 10.0, 9.0, 8.0, 7.0, 5.0],
        Some(0),
    );
    // A2: 15 accounts, tenure 160 → 132 days: month 4 (4.34); 10 → 6 is a drop.
    add(
        15,
        Some(160.0),
        [nan, 10.0, 10.0, 10.0, 10.0, 9.0, 8.0, 7.0, 6.0],
        Some(0),
    );
    // B: 30 accounts, tenure 400, steady at 10 on both steps: (4 → 8) at 372 days →
    //   month 12 (pooled "12+"), (0 → 4) at 344 days → month 11.
    add(30, Some(400.0), [10.0; 9], Some(2));
    // C: 20 accounts, tenure 250 → 222 days: month 7 (7.29); two fall 10 → 6.5, 18 to 8.
    add(
        2,
        Some(250.0),
        [nan, 10.0, 10.0, 10.0, 10.0, 9.0, 8.0, 7.0, 6.5],
        Some(1),
    );
    add(
        18,
        Some(250.0),
        [nan, 10.0, 10.0, 10.0, 10.0, 9.0, 9.0, 8.0, 8.0],
        Some(1),
    );
    // Not observed: below min_level (2 → 0), younger than the step (tenure 20 < 28), no
    // tenure at all.
    add(
        1,
        Some(250.0),
        [nan, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 0.0, 0.0],
        Some(1),
    );
    add(
        1,
        Some(20.0),
        [nan, nan, nan, nan, 10.0, 5.0, 2.0, 1.0, 0.0],
        None,
    );
    add(
        1,
        None,
        [10.0, 10.0, 10.0, 10.0, 10.0, 5.0, 2.0, 1.0, 0.0],
        None,
    );
    let n = tenure.len();
    let values: Vec<Vec<f64>> = (0..9)
        .map(|d| series.iter().map(|s| s[d]).collect())
        .collect();
    // Stages known at the later step's start only.
    let stages: Vec<Vec<Option<usize>>> = (0..9)
        .map(|d| if d == 4 { stage.clone() } else { vec![None; n] })
        .collect();
    let history = EngagementHistory {
        as_of: as_of(),
        dates: &dates,
        values: &values,
        tenure_days: &tenure,
        stages: &stages,
    };
    let out = dropoff::analyse(&history, &config);
    assert_eq!(out.metric, "active_users_30d");
    // Observations: month 3 15/15, month 4 15/15, month 7 20 (2 drops), month 11 30/0,
    // 12+ 30/0 → 110 observations, 32 drops, overall 32/110.
    assert_eq!((out.observations, out.drops), (110, 32));
    assert_some_close(out.overall_rate, 32.0 / 110.0);
    assert_eq!(out.by_tenure_month.len(), 13);
    assert_eq!(out.by_tenure_month[12].group, "12+");
    let counts: Vec<(&str, usize, usize)> = out
        .by_tenure_month
        .iter()
        .filter(|r| r.observations > 0)
        .map(|r| (r.group.as_str(), r.observations, r.drops))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("3", 15, 15),
            ("4", 15, 15),
            ("7", 20, 2),
            ("11", 30, 0),
            ("12+", 30, 0)
        ]
    );
    // Two-proportion z-test of each month against the rest (pooled), e.g. month 7:
    //   p = (2 + 30) / 110; z = (2/20 − 30/90) / √(p(1 − p)(1/20 + 1/90));
    //   2 × scipy.stats.norm.sf(|z|) = 0.03769105249692297.
    //   month 3 (15/15 vs 17/95): 7.688320835812657e-11; month 11 (0/30 vs 32/80):
    //   3.89254750182187e-05. Holm over the five tested months:
    //   3 and 4 → 5 × 7.69e-11 = 3.8441604179063286e-10; 11 and 12+ → 3 × 3.89e-5 =
    //   0.0001167764250546561; 7 → 0.03769105249692297.
    let m = |g: &str| {
        out.by_tenure_month
            .iter()
            .find(|r| r.group == g)
            .expect("month row")
    };
    assert_rel(m("7").p_value, 0.03769105249692297, 1e-9);
    assert_rel(m("3").p_value, 7.688320835812657e-11, 1e-6);
    assert_rel(m("11").p_value, 3.89254750182187e-05, 1e-8);
    assert_rel(m("3").p_holm, 3.8441604179063286e-10, 1e-6);
    assert_rel(m("12+").p_holm, 0.0001167764250546561, 1e-8);
    assert_rel(m("7").p_holm, 0.03769105249692297, 1e-9);
    assert_eq!(m("0").p_value, None, "no observations: no test");
    // Elevated: significant and above the overall rate — months 3 and 4. Month 7 is
    // significant too, but below the overall rate; months 11 and 12+ have no drops.
    let elevated: Vec<&str> = out
        .by_tenure_month
        .iter()
        .filter(|r| r.elevated)
        .map(|r| r.group.as_str())
        .collect();
    assert_eq!(elevated, vec!["3", "4"]);
    // One merged failure point, months 3–4: 30 drops of 30; excess 30 − 30 × 32/110
    //   = 21.2727…; lift 1 / (32/110) = 3.4375.
    assert_eq!(out.failure_points.len(), 1);
    let f = &out.failure_points[0];
    assert_eq!((f.from_month, f.to_month), (3, 4));
    assert_eq!((f.drops, f.observations), (30, 30));
    assert_close(f.rate, 1.0);
    assert_close(f.excess_drops, 30.0 - 30.0 * 32.0 / 110.0);
    assert_close(f.lift, 3.4375);

    // By stage at the step's start (only the later step has stages): onboarding (A1,
    // A2) 30/30, adoption (C) 20/2, renewal (B) 30/0.
    let stages: Vec<(&str, usize, usize, bool)> = out
        .by_stage
        .iter()
        .map(|r| (r.group.as_str(), r.observations, r.drops, r.elevated))
        .collect();
    assert_eq!(
        stages,
        vec![
            ("onboarding", 30, 30, true),
            ("adoption", 20, 2, false),
            ("renewal", 30, 0, false),
        ]
    );
}

// ------------------------------------------------------------------ J6: scorecard

fn view(stage: &str, overdue: bool, conflicts: &[&str]) -> StageView {
    StageView {
        account_id: "acc".into(),
        stage: stage.into(),
        stage_label: stage.to_uppercase(),
        confidence: 0.9,
        confidence_level: ConfidenceLevel::High,
        met: Vec::new(),
        missing: Vec::new(),
        runner_up: None,
        since: None,
        days_in_stage: 0,
        expected_days: 120,
        overdue,
        transitions: Vec::new(),
        conflicts: conflicts.iter().map(|c| c.to_string()).collect(),
    }
}

fn variable(name: &str, effect: f64) -> VariableComparison {
    VariableComparison {
        variable: name.into(),
        binary: false,
        churned_n: 20,
        retained_n: 40,
        churned_mean: None,
        retained_mean: None,
        churned_median: None,
        retained_median: None,
        difference: None,
        low: None,
        high: None,
        effect_size: Some(effect),
        p_value: Some(0.001),
        p_holm: Some(0.003),
        significant: true,
    }
}

fn link(milestone: &str, rr: f64) -> ChurnLink {
    ChurnLink {
        milestone: milestone.into(),
        missed: 15,
        missed_churned: 9,
        completed: 25,
        completed_churned: 3,
        churn_rate_missed: Some(0.6),
        churn_rate_completed: Some(0.12),
        risk_ratio: Some(Estimate {
            value: rr,
            low: 1.6,
            high: 15.6,
        }),
        risk_difference: None,
        p_value: Some(0.003),
        p_holm: Some(0.006),
        q_value: Some(0.006),
        predicts_churn: true,
    }
}

#[test]
fn scorecard_deviations_interventions_and_severity() {
    let config = small();
    // The comparison: four variables, the first (qbr) not separating.
    let comparison = Comparison {
        lead_days: 90,
        churned: 20,
        retained: 40,
        variables: vec![
            variable("qbr_last_quarter", 1.5),
            variable("days_since_last_touchpoint", 2.0), // higher is worse
            variable("touchpoints_90d", -1.2),           // lower is worse
            variable("nps_latest", -0.8),                // lower is worse, no intervention
        ],
        top: vec![
            "days_since_last_touchpoint".into(),
            "touchpoints_90d".into(),
            "nps_latest".into(),
        ],
        predictability: Vec::new(),
        earliest_predictable_days: None,
    };
    // Retained renewals (tenure at the lead; qbr, since, touch, nps):
    let rows = vec![
        (
            Some(150.0),
            vec![Some(1.0), Some(5.0), Some(8.0), Some(9.0)],
        ),
        (
            Some(150.0),
            vec![Some(1.0), Some(10.0), Some(6.0), Some(8.0)],
        ),
        (Some(150.0), vec![None, Some(15.0), Some(4.0), None]),
        (Some(150.0), vec![None, Some(20.0), None, None]),
        (Some(150.0), vec![None, Some(25.0), None, None]),
        (Some(500.0), vec![None, Some(50.0), Some(1.0), None]),
        (Some(500.0), vec![None, Some(60.0), Some(2.0), None]),
        (None, vec![None, Some(99.0), Some(100.0), None]),
    ];
    // Retained accounts' milestones, all started 2026-01-01: training due day 30 and done
    // day 25 by four of five; kickoff due day 10, done by day 180 by two of five (a third
    // only on day 200); integration due day 60, done day 50 by all.
    let s = date(2026, 1, 1);
    let d = |days: u64| s + Days::new(days);
    let retained: Vec<Vec<MilestoneRecord>> = (0..5)
        .map(|i| {
            vec![
                record(
                    "training",
                    "onboarding",
                    Some(d(30)),
                    (i < 4).then(|| d(25)),
                ),
                record(
                    "kickoff",
                    "onboarding",
                    Some(d(10)),
                    match i {
                        0 | 1 => Some(d(5)),
                        2 => Some(d(200)),
                        _ => None,
                    },
                ),
                record("integration", "onboarding", Some(d(60)), Some(d(50))),
            ]
        })
        .collect();
    let retained_refs: Vec<(NaiveDate, &[MilestoneRecord])> =
        retained.iter().map(|r| (s, r.as_slice())).collect();
    let benchmark = RetainedBenchmark::new(4, &rows, &retained_refs, 5);

    // The account: started 2026-05-05, 180 days before the date → the (90, 180] band.
    let start = date(2026, 5, 5);
    let own = vec![
        record("training", "onboarding", Some(date(2026, 6, 4)), None),
        record("kickoff", "onboarding", Some(date(2026, 5, 15)), None),
        record(
            "integration",
            "onboarding",
            Some(date(2026, 7, 4)),
            Some(date(2026, 6, 20)),
        ),
        record("renewal_prep", "renewal", Some(date(2026, 12, 1)), None),
        record("custom_x", "adoption", Some(date(2026, 6, 1)), None),
    ];
    let links = vec![link("training", 5.0)];
    let journey = |milestones: &'static str| -> Vec<Option<f64>> {
        match milestones {
            "bad" => vec![Some(0.0), Some(30.0), Some(2.2), Some(7.0)],
            _ => vec![Some(0.0), Some(10.0), Some(5.0), Some(9.0)],
        }
    };
    let card = scorecard(
        &config,
        AccountJourney {
            account_id: "acc",
            account_name: "Acme",
            as_of: as_of(),
            start: Some(start),
            stage: view("renewal", false, &[]),
            milestones: &own,
            values: journey("bad"),
        },
        &comparison,
        &links,
        &benchmark,
    );
    assert_eq!(card.tenure_days, Some(180));

    // Milestones due by the date (renewal_prep is not):
    //   training not done; retained due by day 180: 5, done by then 4 → 0.8 ≥ 0.5 → deviation
    //   kickoff not done; 2 of 5 → 0.4 < 0.5 → no deviation
    //   integration done → no deviation (retained 5/5)
    //   custom_x: no retained rows → no benchmark, no deviation
    let checks: Vec<(&str, Option<f64>, bool)> = card
        .milestones
        .iter()
        .map(|m| (m.milestone.as_str(), m.retained_done_share, m.deviation))
        .collect();
    assert_eq!(
        checks,
        vec![
            ("training", Some(0.8), true),
            ("kickoff", Some(0.4), false),
            ("integration", Some(1.0), false),
            ("custom_x", None, false),
        ]
    );
    assert_eq!(card.milestones[2].completed, Some(date(2026, 6, 20)));

    // Variables (qbr is not a separating variable, so not checked):
    //   days_since (higher worse): band values [5, 10, 15, 20, 25] (5 ≥ min_group) →
    //     threshold = quantile 0.75 = 20, median 15; 30 > 20 → deviation.
    //   touchpoints (lower worse): the band has only [8, 6, 4] → all retained
    //     [1, 2, 4, 6, 8, 100]; quantile 0.25 at 1.25 → 2 + 0.25 × 2 = 2.5, median at 2.5 →
    //     4 + 0.5 × 2 = 5; 2.2 < 2.5 → deviation.
    //   nps (lower worse): [9, 8] → all [8, 9]: threshold 8.25, median 8.5; 7 < 8.25.
    let vars: Vec<_> = card
        .variables
        .iter()
        .map(|v| {
            (
                v.variable.as_str(),
                v.threshold,
                v.retained_median,
                v.worse_when.as_str(),
                v.same_tenure,
                v.deviation,
            )
        })
        .collect();
    assert_eq!(
        vars,
        vec![
            (
                "days_since_last_touchpoint",
                Some(20.0),
                Some(15.0),
                "higher",
                true,
                true
            ),
            (
                "touchpoints_90d",
                Some(2.5),
                Some(5.0),
                "lower",
                false,
                true
            ),
            ("nps_latest", Some(8.25), Some(8.5), "lower", false, true),
        ]
    );

    // Interventions by strength: training (risk ratio 5 − 1 = 4), days_since (|2.0|),
    // touchpoints (1.2, the same action as days_since: dropped), nps (0.8, no configured
    // action: the stage's first).
    let actions: Vec<(&str, &str)> = card
        .interventions
        .iter()
        .map(|i| (i.on.as_str(), i.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("training", "schedule end-user training"),
            (
                "days_since_last_touchpoint",
                "book a check-in; the account has gone quiet"
            ),
            ("nps_latest", "renewal plan with the economic buyer"),
        ]
    );
    assert_close(card.interventions[0].strength, 4.0);
    assert_eq!(
        card.interventions[0].why,
        "training not done (due 2026-06-04); 80% of retained accounts had it by this tenure"
    );
    assert_eq!(
        card.interventions[1].why,
        "days_since_last_touchpoint is 30.00, higher than 75% of retained accounts (threshold 20.00)"
    );
    // 4 deviations of 4 milestone + 3 variable checks: 100 × 3 / 7 = 42.86 → 43.
    assert_eq!(card.deviations, 4);
    assert_close(card.journey_score, 43.0);
    assert_eq!(card.severity, Severity::Intervene);

    // Severity: one deviation is "watch", with a conflicting signal "intervene"; none is
    // "on track", unless the stage runs over.
    let done_training = {
        let mut own = own.clone();
        own[0].completed = Some(date(2026, 6, 1));
        own
    };
    let card_for = |milestones: &[MilestoneRecord], values, stage: StageView| {
        scorecard(
            &config,
            AccountJourney {
                account_id: "acc",
                account_name: "Acme",
                as_of: as_of(),
                start: Some(start),
                stage,
                milestones,
                values,
            },
            &comparison,
            &links,
            &benchmark,
        )
    };
    let one = card_for(&own, journey("good"), view("renewal", false, &[]));
    assert_eq!(one.deviations, 1);
    assert_eq!(one.severity, Severity::Watch);
    let conflicted = card_for(&own, journey("good"), view("renewal", false, &["x"]));
    assert_eq!(conflicted.severity, Severity::Intervene);
    let clean = card_for(
        &done_training,
        journey("good"),
        view("renewal", false, &["x"]),
    );
    assert_eq!(clean.deviations, 0);
    assert_eq!(clean.severity, Severity::OnTrack);
    assert_close(clean.journey_score, 100.0);
    assert!(clean.interventions.is_empty());
    let late = card_for(&done_training, journey("good"), view("renewal", true, &[]));
    assert_eq!(late.severity, Severity::Watch);
}

// ---------------------------------------------------------------- J7: onboarding

#[test]
fn onboarding_tracker_by_hand() {
    let config = small();
    let ob = |key: &str, due: NaiveDate, done: Option<NaiveDate>| {
        record(key, "onboarding", Some(due), done)
    };
    let d = |m: u32, day: u32| date(2026, m, day);
    struct Acc {
        id: &'static str,
        arr: f64,
        start: Option<NaiveDate>,
        milestones: Vec<MilestoneRecord>,
    }
    let accounts = vec![
        Acc {
            id: "stalled",
            arr: 30_000.0,
            start: Some(d(8, 1)),
            milestones: vec![
                ob("kickoff", d(8, 10), Some(d(8, 12))),
                ob("admin", d(9, 1), Some(d(9, 5))),
                ob("integration", d(10, 1), None),
                ob("go_live", d(11, 15), None),
            ],
        },
        Acc {
            id: "at_risk",
            arr: 50_000.0,
            start: Some(d(9, 15)),
            milestones: vec![
                ob("kickoff", d(9, 20), Some(d(9, 25))),
                ob("admin", d(10, 20), Some(d(10, 20))),
                ob("training", d(10, 25), None),
                ob("go_live", d(12, 1), None),
            ],
        },
        Acc {
            id: "on_track",
            arr: 20_000.0,
            start: Some(d(10, 1)),
            milestones: vec![
                ob("kickoff", d(10, 25), Some(d(10, 20))),
                ob("training", d(11, 20), None),
                ob("go_live", d(12, 15), None),
            ],
        },
        Acc {
            id: "slipping",
            arr: 80_000.0,
            start: Some(d(8, 15)),
            milestones: vec![
                ob("kickoff", d(8, 20), Some(d(9, 5))),
                ob("admin", d(9, 20), Some(d(10, 14))),
                ob("training", d(11, 10), None),
                ob("go_live", d(11, 20), None),
            ],
        },
        Acc {
            id: "late_plan",
            arr: 60_000.0,
            start: Some(d(7, 1)),
            milestones: vec![
                ob("kickoff", d(7, 10), Some(d(7, 15))),
                ob("go_live", d(9, 20), None),
                ob("admin", d(10, 1), Some(d(10, 25))),
            ],
        },
        Acc {
            id: "live",
            arr: 10_000.0,
            start: Some(d(7, 1)),
            milestones: vec![ob("go_live", d(10, 10), Some(d(10, 15)))],
        },
        Acc {
            id: "too_old",
            arr: 10_000.0,
            start: Some(date(2025, 12, 1)),
            milestones: vec![ob("go_live", d(3, 1), None)],
        },
        Acc {
            id: "live_late",
            arr: 10_000.0,
            start: Some(date(2025, 11, 1)),
            milestones: vec![ob("go_live", d(2, 1), Some(d(3, 1)))],
        },
        Acc {
            id: "adoption_only",
            arr: 10_000.0,
            start: Some(d(9, 1)),
            milestones: vec![record("core_adoption", "adoption", Some(d(10, 1)), None)],
        },
        Acc {
            id: "no_start",
            arr: 10_000.0,
            start: None,
            milestones: vec![ob("go_live", d(12, 1), None)],
        },
    ];
    let ids: Vec<String> = accounts.iter().map(|a| a.id.to_string()).collect();
    let names: Vec<String> = accounts.iter().map(|a| format!("{} Co", a.id)).collect();
    let owners: Vec<Option<String>> = accounts.iter().map(|_| Some("csm-1".into())).collect();
    let arr: Vec<Option<f64>> = accounts.iter().map(|a| Some(a.arr)).collect();
    let starts: Vec<Option<NaiveDate>> = accounts.iter().map(|a| a.start).collect();
    let milestones: Vec<Vec<MilestoneRecord>> =
        accounts.iter().map(|a| a.milestones.clone()).collect();
    let mut first_value: Vec<Option<(f64, bool)>> = vec![None; accounts.len()];
    first_value[0] = Some((45.0, true));
    let renewal = |account: usize, renewal_date, decided_on, churned| RenewalRecord {
        account,
        renewal_date,
        decided_on,
        churned,
    };
    let renewals = vec![
        renewal(5, date(2027, 7, 1), date(2026, 11, 20), false), // decided after the date
        renewal(6, d(12, 1), d(10, 25), false),
        renewal(7, d(10, 30), d(10, 20), true),
    ];
    let inputs = OnboardingInputs {
        as_of: as_of(),
        account_ids: &ids,
        names: &names,
        owners: &owners,
        arr: &arr,
        starts: &starts,
        milestones: &milestones,
        first_value: &first_value,
        renewals: &renewals,
    };
    let r = onboarding::report(&inputs, &config);

    // Tracked: go-live not done, started ≤ 240 days ago, with onboarding milestones.
    // live is live, too_old started 335 days ago, adoption_only has no onboarding rows,
    // no_start has no start. Order: critical by ARR, at risk by ARR, on track.
    let order: Vec<(&str, OnboardingStatus)> = r
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.status))
        .collect();
    assert_eq!(
        order,
        vec![
            ("late_plan", OnboardingStatus::Critical),
            ("stalled", OnboardingStatus::Critical),
            ("slipping", OnboardingStatus::AtRisk),
            ("at_risk", OnboardingStatus::AtRisk),
            ("on_track", OnboardingStatus::OnTrack),
        ]
    );
    assert_eq!(
        (r.onboarding, r.critical, r.at_risk, r.on_track, r.stalled),
        (5, 2, 2, 1, 1)
    );
    let get = |id: &str| {
        r.accounts
            .iter()
            .find(|a| a.account_id == id)
            .expect("tracked")
    };

    // stalled: last completion 09-05 → 57 days ago ≥ 21 with two open → stalled.
    //   lateness [2, 4] → median 3; integration due 10-01 is 31 days overdue → slip 31.
    //   planned 11-15 + 31 = 12-16, but stalled: at least today + 57 = 12-28.
    let s = get("stalled");
    assert!(s.stalled);
    assert_eq!(s.stalled_days, 57);
    assert_eq!(s.last_progress, d(9, 5));
    assert_eq!(s.days_since_start, 92);
    assert_eq!(
        (s.milestones_total, s.milestones_done, s.milestones_overdue),
        (4, 2, 1)
    );
    assert_eq!(s.slip_days, 31);
    assert_eq!(s.planned_go_live, Some(d(11, 15)));
    assert_eq!(s.predicted_go_live, Some(d(12, 28)));
    assert_eq!(s.next_milestone.as_deref(), Some("integration"));
    assert_eq!(s.next_due, Some(d(10, 1)));
    assert_eq!(s.first_value_days, Some(45.0));
    assert!(s.first_value_predicted);
    assert_eq!(
        s.reasons,
        vec![
            "no milestone completed in 57 days",
            "1 milestone(s) overdue, the worst by 31 days",
            "go-live slipping by 31 days",
        ]
    );
    assert_eq!(s.milestones[2].overdue_days, Some(31));
    assert_eq!(s.milestones[3].overdue_days, None);

    // at_risk: last completion 10-20 (12 days); lateness [5, 0] → median 2.5 → 3;
    //   training due 10-25 is 7 days overdue → slip max(3, 7) = 7 ≤ 14, but overdue → at
    //   risk; predicted 12-01 + 7 = 12-08.
    let a = get("at_risk");
    assert!(!a.stalled);
    assert_eq!(a.stalled_days, 12);
    assert_eq!(a.slip_days, 7);
    assert_eq!(a.milestones_overdue, 1);
    assert_eq!(a.predicted_go_live, Some(d(12, 8)));
    assert_eq!(a.next_milestone.as_deref(), Some("training"));
    assert_eq!(a.first_value_days, None);

    // on_track: kickoff 5 days early → slip max(−5, 0) = 0; predicted = planned 12-15.
    let o = get("on_track");
    assert_eq!(o.slip_days, 0);
    assert_eq!(o.predicted_go_live, Some(d(12, 15)));
    assert!(o.reasons.is_empty());
    assert_eq!(o.stalled_days, 12);

    // slipping: lateness [16, 24] → median 20 > 14 → at risk though nothing is overdue;
    //   last completion 10-14 is 18 days ago (< 21); predicted 11-20 + 20 = 12-10.
    let sl = get("slipping");
    assert_eq!(sl.milestones_overdue, 0);
    assert_eq!(sl.slip_days, 20);
    assert_eq!(sl.stalled_days, 18);
    assert_eq!(sl.predicted_go_live, Some(d(12, 10)));
    assert_eq!(sl.reasons, vec!["go-live slipping by 20 days"]);

    // late_plan: go-live due 09-20 is 42 days overdue → slip 42 > 30 → critical without a
    //   stall (last completion 10-25); 09-20 + 42 = 11-01, today.
    let lp = get("late_plan");
    assert!(!lp.stalled);
    assert_eq!(lp.slip_days, 42);
    assert_eq!(lp.predicted_go_live, Some(as_of()));
    assert_eq!(lp.next_milestone.as_deref(), Some("go_live"));

    // Cohorts by start quarter (accounts with a go-live row):
    //   2025-Q4: too_old and live_late; live_late went live 2026-03-01, a month after its
    //     due date (beyond the 14 days of grace), 120 days after its start; both first
    //     renewals decided (one churned).
    //   2026-Q3: stalled, at_risk, slipping, late_plan, live; live went live 10-15 (due
    //     10-10, on time), 106 days after 07-01; its renewal is decided after the date.
    //   2026-Q4: on_track.
    let cohorts: Vec<_> = r
        .cohorts
        .iter()
        .map(|c| {
            (
                c.cohort.as_str(),
                c.accounts,
                c.live,
                c.live_on_time,
                c.median_days_to_go_live,
                c.first_renewals,
                c.churned_at_first_renewal,
            )
        })
        .collect();
    assert_eq!(
        cohorts,
        vec![
            ("2025-Q4", 2, 1, 0, Some(120.0), 2, 1),
            ("2026-Q3", 5, 1, 1, Some(106.0), 0, 0),
            ("2026-Q4", 1, 0, 0, None, 0, 0),
        ]
    );
}

// ---------------------------------------------------------------- J8: touchpoints

#[test]
fn silent_periods_gaps_and_the_ongoing_one() {
    let from = date(2025, 11, 1);
    let touches = [
        date(2025, 10, 1), // before the window: ignored
        date(2025, 11, 20),
        date(2026, 1, 15),
        date(2026, 1, 15), // duplicate
        date(2026, 2, 1),
        date(2026, 6, 1),
        date(2026, 9, 15),
        date(2026, 11, 5), // after the date: ignored
    ];
    let p = silent_periods(&touches, from, as_of(), 30);
    // Gaps: 11-01 → 11-20 19 days; 11-20 → 01-15 56 (10 + 31 + 15); 01-15 → 02-01 17;
    // 02-01 → 06-01 120 (28 + 31 + 30 + 31); 06-01 → 09-15 106 (30 + 31 + 31 + 14);
    // 09-15 → today 47 (15 + 31 + 1), still silent.
    let got: Vec<(NaiveDate, NaiveDate, i64, bool)> = p
        .iter()
        .map(|s| (s.from, s.to, s.days, s.ongoing))
        .collect();
    assert_eq!(
        got,
        vec![
            (date(2025, 11, 20), date(2026, 1, 15), 56, false),
            (date(2026, 2, 1), date(2026, 6, 1), 120, false),
            (date(2026, 6, 1), date(2026, 9, 15), 106, false),
            (date(2026, 9, 15), as_of(), 47, true),
        ]
    );
    // Exactly 30 days is not silent; a touch today ends the last gap.
    let p = silent_periods(&[days_ago(30)], days_ago(60), as_of(), 30);
    assert!(p.is_empty());
    let p = silent_periods(&[days_ago(45), as_of()], days_ago(50), as_of(), 30);
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].days, p[0].ongoing), (45, false));
    // No touch at all: one ongoing period over the window.
    let p = silent_periods(&[], days_ago(100), as_of(), 30);
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].from, p[0].days, p[0].ongoing),
        (days_ago(100), 100, true)
    );
}

fn event(
    on: NaiveDate,
    source: &str,
    id: &str,
    contact: Option<&str>,
    is_touch: bool,
) -> TimelineEvent {
    TimelineEvent {
        at: on.and_hms_opt(10, 0, 0).expect("valid time"),
        source: source.into(),
        kind: "meeting".into(),
        id: id.into(),
        title: format!("{source} {id}"),
        contact_id: contact.map(str::to_string),
        csm_id: Some("csm-1".into()),
        is_touch,
    }
}

fn contact(id: &str, role: &str, active: bool) -> ContactInfo {
    ContactInfo {
        contact_id: id.into(),
        name: Some(format!("Person {id}")),
        role: role.into(),
        title: None,
        active,
    }
}

#[test]
fn timeline_stakeholders_and_silence() {
    let config = small();
    let events = vec![
        event(date(2026, 9, 1), "touchpoint", "e2", Some("c1"), true),
        event(date(2026, 10, 20), "touchpoint", "e1", Some("c1"), true),
        event(date(2026, 8, 15), "survey", "e3", Some("c2"), false),
        event(date(2026, 10, 25), "ticket", "e4", Some("c3"), false),
        event(date(2026, 7, 1), "touchpoint", "e5", Some("c2"), true),
        event(date(2026, 11, 5), "touchpoint", "e6", Some("c1"), true),
        event(date(2026, 8, 3), "touchpoint", "e7", Some("c4"), true),
        event(
            date(2026, 10, 20),
            "touchpoint",
            "e0",
            Some("stranger"),
            true,
        ),
    ];
    let contacts = vec![
        contact("c1", "champion", true),
        contact("c2", "executive", true),
        contact("c3", "admin", true),
        contact("c4", "user", false),
        contact("c5", "billing", true),
    ];
    let t = timeline(&config, "acc", as_of(), date(2026, 3, 1), events, &contacts);
    // The event after the date is dropped; newest first, ties by id.
    let ids: Vec<&str> = t.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, vec!["e4", "e0", "e1", "e2", "e3", "e7", "e5"]);
    // Touches: 10-20 (×2), 09-01, 08-03, 07-01. The last 90 days are after 08-03
    // (exactly 90 days ago is outside): 10-20, 10-20, 09-01 → 3.
    assert_eq!(t.last_touch, Some(date(2026, 10, 20)));
    assert_eq!(t.days_since_last_touch, Some(12));
    assert_eq!(t.touches_last_90_days, 3);
    // Engaged in the window (after 08-03): c1 by two touches (last 10-20), c2 by the
    // survey (08-15). The ticket does not engage c3; c4's touch is on the window's edge;
    // the stranger is no contact of the account.
    let engaged: Vec<(&str, &str, NaiveDate, usize)> = t
        .stakeholders
        .engaged
        .iter()
        .map(|c| {
            (
                c.contact_id.as_str(),
                c.role.as_str(),
                c.last_engaged,
                c.interactions,
            )
        })
        .collect();
    assert_eq!(
        engaged,
        vec![
            ("c1", "champion", date(2026, 10, 20), 2),
            ("c2", "executive", date(2026, 8, 15), 1),
        ]
    );
    assert_eq!(t.stakeholders.active_contacts, 4);
    assert_eq!(t.stakeholders.roles_not_engaged, vec!["admin", "billing"]);
    assert!(!t.stakeholders.single_threaded, "two engaged > 1");
    // Silence since the customer start (2026-03-01, later than a year ago):
    //   03-01 → 07-01 122 days; 07-01 → 08-03 33; 08-03 → 09-01 29; 09-01 → 10-20 49;
    //   10-20 → 11-01 12.
    let silent: Vec<(NaiveDate, i64, bool)> = t
        .silent_periods
        .iter()
        .map(|s| (s.from, s.days, s.ongoing))
        .collect();
    assert_eq!(
        silent,
        vec![
            (date(2026, 3, 1), 122, false),
            (date(2026, 7, 1), 33, false),
            (date(2026, 9, 1), 49, false),
        ]
    );

    // Only the champion engaged: single-threaded.
    let events = vec![event(
        date(2026, 10, 20),
        "touchpoint",
        "e1",
        Some("c1"),
        true,
    )];
    let t = timeline(&config, "acc", as_of(), date(2020, 1, 1), events, &contacts);
    assert!(t.stakeholders.single_threaded);
    assert_eq!(
        t.stakeholders.roles_not_engaged,
        vec!["admin", "billing", "executive"]
    );
    // The silence window is at most a year: 2025-11-01 → 10-20 is 353 days.
    assert_eq!(t.silent_periods.len(), 1);
    assert_eq!(
        (t.silent_periods[0].from, t.silent_periods[0].days),
        (date(2025, 11, 1), 353)
    );
}

#[test]
fn silent_accounts_by_arr() {
    let config = small();
    let metrics = vec![
        meta(
            "days_since_last_touchpoint",
            Category::Relationship,
            Direction::LowerIsBetter,
        ),
        meta(
            "contacts_engaged_90d",
            Category::Relationship,
            Direction::HigherIsBetter,
        ),
        meta("days_to_renewal", Category::Commercial, Direction::Neutral),
    ];
    let acct = |id: &str, arr: Option<f64>| {
        let row = AccountRow::new(id)
            .text("owner_csm_id", "csm-2")
            .text("coverage_model", "mid_touch");
        match arr {
            Some(arr) => row.number("arr", arr),
            None => row,
        }
    };
    let nan = f64::NAN;
    let frame = SnapshotFrame::new(
        as_of(),
        metrics,
        vec![
            acct("s1", Some(50_000.0)),
            acct("s2", Some(900_000.0)),
            acct("s3", None),
            acct("s4", Some(200_000.0)),
            acct("s5", Some(50_000.0)),
        ],
        vec![
            45.0, 1.0, 100.0, // s1: silent, one contact → single-threaded
            10.0, 4.0, 30.0, // s2: touched 10 days ago → not listed
            nan, nan,
            nan, // s3: never touched → silent; contacts unknown → single-threaded
            30.0, 3.0, 200.0, // s4: exactly 30 days → silent; three contacts
            90.0, 2.0, nan, // s5
        ],
    )
    .expect("valid frame");
    let side = SideValues::default();
    let values = Values::new(&frame, &side);
    let names: Vec<String> = ["One", "Two", "Three", "Four", "Five"]
        .map(String::from)
        .to_vec();
    let out = silent_accounts(&config, &values, &names);
    // Largest ARR first, ties by id; no ARR counts as 0.
    let got: Vec<(&str, Option<f64>, bool, Option<f64>)> = out
        .iter()
        .map(|s| {
            (
                s.account_id.as_str(),
                s.days_since_last_touch,
                s.single_threaded,
                s.days_to_renewal,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("s4", Some(30.0), false, Some(200.0)),
            ("s1", Some(45.0), true, Some(100.0)),
            ("s5", Some(90.0), false, None),
            ("s3", None, true, None),
        ]
    );
    assert_eq!(out[1].account_name, "One");
    assert_eq!(out[1].owner_csm_id.as_deref(), Some("csm-2"));
    assert_eq!(out[1].coverage_model.as_deref(), Some("mid_touch"));
    assert_eq!(out[1].contacts_engaged_90d, Some(1.0));
    assert_eq!(out[3].arr, None);
}

// ------------------------------------------------------------------ configuration

#[test]
fn the_shipped_journey_config_validates_against_the_catalogue() {
    let text = coco_insights::journey::config::DEFAULT_JOURNEY;
    let config = JourneyConfig::from_toml(text).expect("the shipped journey config parses");
    config
        .validate(&shipped_metrics())
        .expect("the shipped journey config validates");
    let keys: Vec<&str> = config.stages.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        vec!["onboarding", "adoption", "expansion", "renewal", "advocacy"]
    );
    assert_eq!(config.milestone_key("renewal_prep_202611"), "renewal_prep");
    assert_eq!(
        config.intervention("core_adoption"),
        Some("core adoption workshop")
    );
    assert_eq!(config.onboarding.go_live, "go_live");
    // Every stage source and every compare variable is known to the resolver's catalogue.
    assert!(!coco_insights::journey::stages::sources(&config).is_empty());
}

#[test]
fn invalid_journey_configs_name_the_field() {
    let check = |text: &str, names: &[&str]| {
        let config = JourneyConfig::from_toml(text).expect("parses");
        let err = config
            .validate(&shipped_metrics())
            .expect_err("invalid")
            .to_string();
        for name in names {
            assert!(err.contains(name), "`{err}` should name `{name}`");
        }
    };
    check(
        &SMALL.replace("source = \"adoption_breadth_90d\"", "source = \"breadth\""),
        &["stages[1] (adoption).criteria[2]", "breadth"],
    );
    check(
        &SMALL.replace(
            "milestone = \"go_live\", done = false,",
            "milestone = \"go_live\",",
        ),
        &["stages[0] (onboarding).criteria[2]", "done"],
    );
    check(
        &SMALL.replace(
            "{ label = \"past 90 days\", source = \"tenure_days\", at_least = 90.0 }",
            "{ label = \"past 90 days\", source = \"tenure_days\" }",
        ),
        &["stages[1] (adoption).criteria[0]", "at_least"],
    );
    check(
        &SMALL.replace("metric = \"active_users_30d\"", "metric = \"users\""),
        &["dropoff.metric"],
    );
    check(
        &SMALL.replace("\"days_since_last_touchpoint\"]", "\"days_since\"]"),
        &["compare.variables[2]"],
    );
    check(
        &SMALL.replace("significance = 0.05", "significance = 1.5"),
        &["milestones.significance"],
    );
    check(
        &SMALL.replace(
            "all = [{ source = \"nps_latest\", at_least = 9.0 }, ",
            "all = [",
        ),
        &["conflicts[0]", "two conditions"],
    );
}
