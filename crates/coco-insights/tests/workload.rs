//! CSM workload (S4) against hand-computed fixtures: effort per account (base × stage ×
//! complexity + open items), loads and statuses per CSM, the spread, capacity planning,
//! and the rebalancing proposal — a tiny instance with a known optimum, a swap, every
//! eligibility rule, forced placements and unplaceable accounts — plus a property test
//! that the proposal is never worse than its start and never breaks a rule.

mod common;

use std::collections::BTreeMap;

use coco_core::Category;
use coco_insights::values::{SideValues, Values};
use coco_insights::workload::rebalance::{Proposal, RebalanceInputs, propose};
use coco_insights::workload::{
    AccountEffort, CsmInfo, LoadStatus, WorkloadConfig, capacity_plan, efforts, loads, spread,
};
use coco_insights::{AccountRow, Direction, SnapshotFrame};
use common::{as_of, assert_close, meta, shipped_metrics};
use proptest::prelude::*;

/// 10 hours a month per CSM so small efforts make visible loads; no move penalty.
const SMALL: &str = r#"
version = "test"

[effort]
base_hours = { high_touch = 6.0, mid_touch = 2.5, tech_touch = 0.6, pooled = 0.3 }
default_base_hours = 1.0
stage_multiplier = { onboarding = 1.8, renewal = 1.4 }
complexity_weight = 0.5
items = [
  { label = "open tickets", source = "open_tickets", hours = 0.25, cap = 8.0 },
  { label = "low health", source = "health_score", at_most = 50.0, hours = 1.0 },
  { label = "renewal within 90 days", source = "days_to_renewal", at_most = 90.0, hours = 1.0 },
]

[capacity]
hours_per_month = 10.0
overloaded = 1.0
underloaded = 0.6

[rebalance]
same_region = true

[rebalance.segment_teams]
enterprise = ["Enterprise"]
mid_market = ["Mid-Market"]

[[rebalance.skills]]
attribute = "segment"
equals = "enterprise"
skill = "enterprise"

[rebalance.search]
move_penalty = 0.0
max_moves = 0
swap_rounds = 2

[planning]
growth_window_days = 761
horizon_months = 12
target_load = 0.8
"#;

fn small() -> WorkloadConfig {
    let config = WorkloadConfig::from_toml(SMALL).expect("the small workload config parses");
    config
        .validate(&shipped_metrics())
        .expect("the small workload config validates");
    config
}

fn csm(id: &str, team: &str, region: &str, skills: &[&str], active: bool) -> CsmInfo {
    CsmInfo {
        csm_id: id.into(),
        name: format!("CSM {id}"),
        team: Some(team.into()),
        region: Some(region.into()),
        skills: skills.iter().map(|s| s.to_string()).collect(),
        active,
        capacity_accounts: None,
    }
}

/// An effort of known hours (what the rebalancing and planning read).
fn effort(id: &str, hours: f64, owner: &str, segment: &str, region: &str) -> AccountEffort {
    AccountEffort {
        account_id: id.into(),
        account_name: format!("{id} Ltd"),
        owner_csm_id: Some(owner.into()),
        segment: Some(segment.into()),
        region: Some(region.into()),
        coverage_model: None,
        stage: None,
        arr: Some(1000.0),
        base_hours: hours,
        stage_multiplier: 1.0,
        complexity: 0.0,
        items: Vec::new(),
        hours,
    }
}

// --------------------------------------------------------------------- efforts

const NAN: f64 = f64::NAN;

struct Team {
    frame: SnapshotFrame,
    side: SideValues,
    names: Vec<String>,
    stages: Vec<Option<String>>,
    complexity: Vec<Option<f64>>,
}

/// Four accounts:
///
/// | account | coverage   | stage      | complexity | open tickets | health | days to renewal | owner |
/// |---------|------------|------------|------------|--------------|--------|-----------------|-------|
/// | e1      | high_touch | onboarding | 50         | 12           | 45     | 200             | c1    |
/// | e2      | mid_touch  | renewal    | —          | 2            | 80     | 45              | c2    |
/// | e3      | —          | adoption   | 150        | —            | —      | 90              | c2    |
/// | e4      | tech_touch | —          | 100        | 0            | 50     | 91              | c3    |
fn team() -> Team {
    let metrics = vec![
        meta("open_tickets", Category::Support, Direction::LowerIsBetter),
        meta("days_to_renewal", Category::Commercial, Direction::Neutral),
    ];
    let row = |id: &str, coverage: Option<&str>, owner: &str, arr: f64| {
        let row = AccountRow::new(id)
            .text("owner_csm_id", owner)
            .text("segment", "mid_market")
            .text("region", "emea")
            .number("arr", arr);
        match coverage {
            Some(c) => row.text("coverage_model", c),
            None => row,
        }
    };
    let accounts = vec![
        row("e1", Some("high_touch"), "c1", 100_000.0),
        row("e2", Some("mid_touch"), "c2", 40_000.0),
        row("e3", None, "c2", 10_000.0),
        row("e4", Some("tech_touch"), "c3", 5_000.0),
    ];
    let frame = SnapshotFrame::new(
        as_of(),
        metrics,
        accounts,
        vec![12.0, 200.0, 2.0, 45.0, NAN, 90.0, 0.0, 91.0],
    )
    .expect("valid frame");
    let mut side = SideValues::default();
    side.insert(
        "health_score",
        vec![Some(45.0), Some(80.0), None, Some(50.0)],
    );
    Team {
        frame,
        side,
        names: vec!["One".into(), "Two".into(), "Three".into(), "Four".into()],
        stages: vec![
            Some("onboarding".into()),
            Some("renewal".into()),
            Some("adoption".into()),
            None,
        ],
        complexity: vec![Some(50.0), None, Some(150.0), Some(100.0)],
    }
}

fn team_efforts(team: &Team, config: &WorkloadConfig) -> Vec<AccountEffort> {
    let values = Values::new(&team.frame, &team.side);
    efforts(config, &values, &team.names, &team.stages, &team.complexity)
}

#[test]
fn efforts_are_base_times_stage_times_complexity_plus_items() {
    let config = small();
    let team = team();
    let out = team_efforts(&team, &config);
    assert_eq!(out.len(), 4);

    // e1: 6 × 1.8 × (1 + 0.5 × 0.5) = 13.5; open tickets 12 capped at 8 × 0.25 = 2;
    //     health 45 ≤ 50 → 1; renewal 200 days → 0. Total 16.5.
    let e1 = &out[0];
    assert_close(e1.base_hours, 6.0);
    assert_close(e1.stage_multiplier, 1.8);
    assert_close(e1.complexity, 0.5);
    assert_eq!(
        e1.items,
        vec![
            ("open tickets".to_string(), 2.0),
            ("low health".to_string(), 1.0)
        ]
    );
    assert_close(e1.hours, 16.5);
    assert_eq!(e1.account_name, "One");
    assert_eq!(e1.owner_csm_id.as_deref(), Some("c1"));
    assert_eq!(e1.coverage_model.as_deref(), Some("high_touch"));
    assert_eq!(e1.stage.as_deref(), Some("onboarding"));
    assert_eq!(e1.arr, Some(100_000.0));
    assert_eq!(e1.region.as_deref(), Some("emea"));

    // e2: 2.5 × 1.4 × (1 + 0) = 3.5 (complexity unknown = 0); tickets 2 × 0.25 = 0.5;
    //     health 80 → 0; renewal in 45 ≤ 90 → 1. Total 5.0.
    let e2 = &out[1];
    assert_close(e2.complexity, 0.0);
    assert_eq!(
        e2.items,
        vec![
            ("open tickets".to_string(), 0.5),
            ("renewal within 90 days".to_string(), 1.0)
        ]
    );
    assert_close(e2.hours, 5.0);

    // e3: no coverage → default 1.0; stage `adoption` has no multiplier → 1.0; complexity
    //     150 clamped to 1.0 → × 1.5 = 1.5; tickets missing, health missing; renewal 90
    //     (≤ 90, inclusive) → 1. Total 2.5.
    let e3 = &out[2];
    assert_close(e3.base_hours, 1.0);
    assert_close(e3.stage_multiplier, 1.0);
    assert_close(e3.complexity, 1.0);
    assert_eq!(e3.items, vec![("renewal within 90 days".to_string(), 1.0)]);
    assert_close(e3.hours, 2.5);
    assert_eq!(e3.coverage_model, None);

    // e4: 0.6 × 1 × 1.5 = 0.9; 0 open tickets adds nothing (not listed); health 50 ≤ 50
    //     → 1; renewal 91 > 90 → 0. Total 1.9.
    let e4 = &out[3];
    assert_eq!(e4.items, vec![("low health".to_string(), 1.0)]);
    assert_close(e4.hours, 1.9);
}

#[test]
fn loads_statuses_and_spread_per_csm() {
    let config = small();
    let team = team();
    let out = team_efforts(&team, &config);
    let mut c1 = csm("c1", "Mid-Market 1", "emea", &[], true);
    c1.capacity_accounts = Some(2);
    let mut c2 = csm("c2", "Mid-Market 2", "emea", &[], true);
    c2.capacity_accounts = Some(0);
    let c3 = csm("c3", "Mid-Market 3", "emea", &[], false);
    let c4 = csm("c4", "Mid-Market 4", "emea", &[], true);
    let csms = vec![c1, c2, c3, c4];
    let owner = |account: usize| -> Option<usize> {
        let id = out[account].owner_csm_id.as_deref()?;
        csms.iter().position(|c| c.csm_id == id)
    };
    let l = loads(&config, &csms, &out, &owner);
    assert_eq!(l.len(), 4);
    // c1: e1 16.5 h of 10 → load 1.65 > 1 → overloaded; 1 account of capacity 2 → 0.5.
    assert_eq!(l[0].accounts, 1);
    assert_close(l[0].effort_hours, 16.5);
    assert_close(l[0].capacity_hours, 10.0);
    assert_close(l[0].load, 1.65);
    assert_eq!(l[0].status, LoadStatus::Overloaded);
    assert_eq!(l[0].count_load, Some(0.5));
    assert_eq!(l[0].onboarding, 1);
    assert_eq!(l[0].renewals, 0);
    assert_close(l[0].arr, 100_000.0);
    // c2: e2 5.0 + e3 2.5 = 7.5 → 0.75, balanced (0.6 ≤ 0.75 ≤ 1); capacity 0 → no count load.
    assert_close(l[1].effort_hours, 7.5);
    assert_close(l[1].load, 0.75);
    assert_eq!(l[1].status, LoadStatus::Balanced);
    assert_eq!(l[1].count_load, None);
    assert_eq!(l[1].renewals, 1);
    let by_coverage: BTreeMap<String, f64> =
        [("mid_touch".to_string(), 5.0), ("none".to_string(), 2.5)].into();
    assert_eq!(l[1].hours_by_coverage, by_coverage);
    assert_close(l[1].arr, 50_000.0);
    // c3 left: its book (e4, 1.9 h) is counted, but no capacity and no load.
    assert_eq!(l[2].status, LoadStatus::Inactive);
    assert_close(l[2].effort_hours, 1.9);
    assert_close(l[2].capacity_hours, 0.0);
    assert_close(l[2].load, 0.0);
    // c4: nothing → 0 < 0.6 → underloaded.
    assert_eq!(l[3].accounts, 0);
    assert_eq!(l[3].status, LoadStatus::Underloaded);

    // Spread of the active loads [1.65, 0.75, 0]:
    //   mean 2.4 / 3 = 0.8; variance ((0.85)² + (0.05)² + (0.8)²) / 3 = 1.365 / 3 = 0.455;
    //   Σ load² = 2.7225 + 0.5625 + 0 = 3.285; range 1.65; one above 1.
    let active: Vec<f64> = l.iter().filter(|c| c.active).map(|c| c.load).collect();
    let s = spread(&active, config.capacity.overloaded);
    assert_eq!(s.csms, 3);
    assert_close(s.mean_load, 0.8);
    assert_close(s.std_dev, 0.455_f64.sqrt());
    assert_close(s.min_load, 0.0);
    assert_close(s.max_load, 1.65);
    assert_close(s.range, 1.65);
    assert_eq!(s.overloaded, 1);
    assert_close(s.sum_of_squares, 3.285);
    // A load of exactly the threshold is not overloaded.
    assert_eq!(spread(&[1.0, 1.0], 1.0).overloaded, 0);
    let empty = spread(&[], 1.0);
    assert_eq!(empty.csms, 0);
    assert_close(empty.sum_of_squares, 0.0);
}

#[test]
fn effort_hours_are_rounded_to_one_decimal_in_loads() {
    // 15.96 h (two decimals in the effort) becomes 16.0 h in the CSM's book, and the load
    // is taken from the rounded hours: 16.0 / 10 = 1.6.
    let config = small();
    let csms = vec![csm("c1", "Mid-Market", "emea", &[], true)];
    let efforts = vec![effort("a", 15.96, "c1", "mid_market", "emea")];
    let l = loads(&config, &csms, &efforts, &|_| Some(0));
    assert_close(l[0].effort_hours, 16.0);
    assert_close(l[0].load, 1.6);
}

// --------------------------------------------------------------- capacity plan

#[test]
fn capacity_plan_hires_by_hand() {
    let config = small();
    // Planning: 761 days = 761 / 30.44 = 25 months; CSMs at 80% of 10 h = 8 h each.
    let book: Vec<AccountEffort> = [6.0, 4.0, 2.0, 4.0]
        .iter()
        .enumerate()
        .map(|(i, h)| effort(&format!("a{i}"), *h, "c1", "mid_market", "emea"))
        .collect();
    // Total 16 h, mean 4 h; two active CSMs → capacity 20 h, team load 0.8.
    // 50 new accounts in 25 months → 2 a month at 3.1 h (first-year mean);
    // 25 churned → 1 a month at the mean 4 h.
    // Projected in 12 months: 16 + 12 × (2 × 3.1 − 1 × 4) = 16 + 12 × 2.2 = 42.4 h.
    // CSMs needed: now 16 / 8 = 2; at the horizon 42.4 / 8 = 5.3 → hires ⌈5.3 − 2⌉ = 4.
    let p = capacity_plan(&config, 2, &book, 50, 25, Some(3.1));
    assert_eq!(p.active_csms, 2);
    assert_close(p.total_effort_hours, 16.0);
    assert_close(p.team_capacity_hours, 20.0);
    assert_close(p.team_load, 0.8);
    assert_close(p.mean_effort_per_account, 4.0);
    assert_close(p.new_accounts_per_month, 2.0);
    assert_close(p.churned_accounts_per_month, 1.0);
    assert_close(p.effort_per_new_account, 3.1);
    assert_close(p.csms_needed_now, 2.0);
    assert_close(p.projected_effort_hours, 42.4);
    assert_close(p.csms_needed_at_horizon, 5.3);
    assert_eq!(p.horizon_months, 12);
    assert_eq!(p.hires_needed, 4);
    assert!(
        p.assumption
            .starts_with("2.0 new and 1.0 churned accounts a month"),
        "{}",
        p.assumption
    );

    // Without a first-year mean new accounts cost the mean 4 h. 20 churned in 25 months
    // = 0.8 a month; three CSMs today:
    //   16 + 12 × (2 × 4 − 0.8 × 4) = 16 + 12 × 4.8 = 73.6 h → 73.6 / 8 = 9.2 CSMs
    //   → ⌈9.2 − 3⌉ = 7 hires.
    let p = capacity_plan(&config, 3, &book, 50, 20, None);
    assert_close(p.effort_per_new_account, 4.0);
    assert_close(p.churned_accounts_per_month, 0.8);
    assert_close(p.projected_effort_hours, 73.6);
    assert_close(p.csms_needed_at_horizon, 9.2);
    assert_eq!(p.hires_needed, 7);

    // A shrinking book: 16 + 12 × (0 − 2 × 4) < 0 → 0 h, no hires.
    let p = capacity_plan(&config, 2, &book, 0, 50, None);
    assert_close(p.projected_effort_hours, 0.0);
    assert_eq!(p.hires_needed, 0);

    // An empty book and no CSMs.
    let p = capacity_plan(&config, 0, &[], 0, 0, None);
    assert_close(p.team_load, 0.0);
    assert_close(p.mean_effort_per_account, 0.0);
    assert_eq!(p.hires_needed, 0);
}

// ------------------------------------------------------------------ rebalancing

fn no_attribute(_: usize, _: &str) -> Option<String> {
    None
}

fn run(config: &WorkloadConfig, csms: &[CsmInfo], book: &[AccountEffort]) -> Proposal {
    let owners: Vec<Option<usize>> = book
        .iter()
        .map(|e| {
            let id = e.owner_csm_id.as_deref()?;
            csms.iter().position(|c| c.csm_id == id)
        })
        .collect();
    let kept = vec![false; book.len()];
    propose(
        config,
        &RebalanceInputs {
            csms,
            efforts: book,
            owners: &owners,
            kept: &kept,
            attribute: &no_attribute,
        },
    )
}

/// Capacity 100 h for the rebalancing fixtures (hours below are percent of a CSM).
fn hundred() -> WorkloadConfig {
    let mut config = small();
    config.capacity.hours_per_month = 100.0;
    config
}

#[test]
fn the_one_move_that_balances_two_csms() {
    let config = hundred();
    let csms = vec![
        csm("c1", "Mid-Market", "emea", &[], true),
        csm("c2", "Mid-Market", "emea", &[], true),
    ];
    // c1: 50 + 40 + 30 = 120 h → 1.2; c2: 25 + 15 = 40 h → 0.4.
    let book = vec![
        effort("a50", 50.0, "c1", "mid_market", "emea"),
        effort("a40", 40.0, "c1", "mid_market", "emea"),
        effort("a30", 30.0, "c1", "mid_market", "emea"),
        effort("b25", 25.0, "c2", "mid_market", "emea"),
        effort("b15", 15.0, "c2", "mid_market", "emea"),
    ];
    let p = run(&config, &csms, &book);
    // Moving e from c1 to c2 changes Σ load² by 2e(0.4 − 1.2 + e) = 2e(e − 0.8):
    //   a50: 1.0 × −0.3 = −0.30; a40: 0.8 × −0.4 = −0.32 (best); a30: 0.6 × −0.5 = −0.30.
    // After a40 moves both are at 0.8 and nothing improves further (no swap either).
    assert_eq!(p.moves.len(), 1);
    let m = &p.moves[0];
    assert_eq!(m.account_id, "a40");
    assert_eq!(m.from_csm_id.as_deref(), Some("c1"));
    assert_eq!(m.to_csm_id, "c2");
    assert_eq!(m.reason, "balance");
    assert_close(m.hours, 40.0);
    assert_eq!((p.forced_moves, p.balance_moves, p.swaps), (0, 1, 0));
    // Σ load²: before 1.44 + 0.16 = 1.6, after 0.64 + 0.64 = 1.28.
    assert_close(p.before.sum_of_squares, 1.6);
    assert_close(p.after_forced.sum_of_squares, 1.6);
    assert_close(p.after.sum_of_squares, 1.28);
    assert_close(p.after.range, 0.0);
    assert_eq!(p.csms[0].accounts_before, 3);
    assert_eq!(p.csms[0].accounts_after, 2);
    assert_close(p.csms[0].load_before, 1.2);
    assert_close(p.csms[0].load_after, 0.8);
    assert_close(p.csms[1].load_after, 0.8);
    assert!(p.unplaceable.is_empty());
    assert_eq!(p.kept, 0);

    // The move lowers Σ load² by 0.32: a penalty above that keeps everyone in place.
    let mut strict = hundred();
    strict.rebalance.search.move_penalty = 0.33;
    let p = run(&strict, &csms, &book);
    assert!(p.moves.is_empty());
    assert_close(p.after.sum_of_squares, 1.6);
}

#[test]
fn max_moves_stops_the_greedy_search() {
    let mut config = hundred();
    config.rebalance.search.swap_rounds = 0;
    let csms = vec![
        csm("c1", "Mid-Market", "emea", &[], true),
        csm("c2", "Mid-Market", "emea", &[], true),
    ];
    // c1: four 20 h accounts → 0.8; c2 empty. Unlimited: two moves → 0.4 / 0.4
    // (first 2 × 0.2 × (0 − 0.8 + 0.2) = −0.24, then 2 × 0.2 × (0.2 − 0.6 + 0.2) = −0.08,
    // a third would give 2 × 0.2 × (0.4 − 0.4 + 0.2) = +0.08).
    let book: Vec<AccountEffort> = (0..4)
        .map(|i| effort(&format!("a{i}"), 20.0, "c1", "mid_market", "emea"))
        .collect();
    let p = run(&config, &csms, &book);
    assert_eq!(p.balance_moves, 2);
    assert_close(p.after.sum_of_squares, 0.32);
    config.rebalance.search.max_moves = 1;
    let p = run(&config, &csms, &book);
    assert_eq!(p.balance_moves, 1);
    // 0.6² + 0.2² = 0.4.
    assert_close(p.after.sum_of_squares, 0.4);
}

#[test]
fn a_swap_where_no_single_move_helps() {
    let config = hundred();
    let csms = vec![
        csm("c1", "Mid-Market", "emea", &[], true),
        csm("c2", "Mid-Market", "emea", &[], true),
    ];
    // c1: 70 + 44 = 114 → 1.14; c2: 50 + 30 + 5 = 85 → 0.85; gap 0.29.
    // Single moves c1 → c2: 2e(0.85 − 1.14 + e) > 0 for e = 0.7 and 0.44: none.
    // Swaps (a from c1, b from c2, d = a − b > 0), Σ load² changes by 2d(d − 0.29):
    //   70↔50 d 0.2: −0.036; 44↔30 d 0.14: −0.042 (best); 70↔30 d 0.4: +; 70↔5, 44↔5: +.
    // After: c1 70 + 30 = 100, c2 50 + 44 + 5 = 99; the next round finds no d < 0.01.
    let book = vec![
        effort("a70", 70.0, "c1", "mid_market", "emea"),
        effort("a44", 44.0, "c1", "mid_market", "emea"),
        effort("b50", 50.0, "c2", "mid_market", "emea"),
        effort("b30", 30.0, "c2", "mid_market", "emea"),
        effort("b5", 5.0, "c2", "mid_market", "emea"),
    ];
    let p = run(&config, &csms, &book);
    assert_eq!((p.balance_moves, p.swaps), (0, 1));
    let moves: Vec<(&str, &str, &str)> = p
        .moves
        .iter()
        .map(|m| {
            (
                m.account_id.as_str(),
                m.to_csm_id.as_str(),
                m.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(moves, vec![("a44", "c2", "swap"), ("b30", "c1", "swap")]);
    // Σ load²: 1.14² + 0.85² = 1.2996 + 0.7225 = 2.0221 → 1.0² + 0.99² = 1.9801.
    assert_close(p.before.sum_of_squares, 2.0221);
    assert_close(p.after.sum_of_squares, 1.9801);
    assert_eq!(p.csms[0].accounts_after, 2);
    assert_eq!(p.csms[1].accounts_after, 3);
}

#[test]
fn eligibility_kept_accounts_forced_and_unplaceable() {
    let config = hundred();
    let csms = vec![
        csm("ee", "Enterprise East", "emea", &["enterprise"], true), // 0
        csm("en", "Enterprise New", "emea", &[], true),              // 1: lacks the skill
        csm("m1", "Mid-Market 1", "emea", &[], true),                // 2
        csm("m3", "Mid-Market 3", "emea", &[], true),                // 3
        csm("mu", "Mid-Market US", "na", &[], true),                 // 4: other region
        csm("gone", "Mid-Market 2", "emea", &[], false),             // 5: left
    ];
    let book = vec![
        effort("k1", 60.0, "m1", "mid_market", "emea"), // kept
        effort("x1", 30.0, "m1", "mid_market", "emea"),
        effort("ent1", 20.0, "gone", "enterprise", "emea"),
        effort("o1", 25.0, "gone", "mid_market", "emea"),
        effort("o2", 15.0, "gone", "mid_market", "emea"),
        effort("ent_na", 10.0, "gone", "enterprise", "na"),
        effort("ent2", 40.0, "en", "enterprise", "emea"),
        effort("u1", 50.0, "mu", "mid_market", "na"),
    ];
    let owners: Vec<Option<usize>> = book
        .iter()
        .map(|e| {
            csms.iter()
                .position(|c| Some(c.csm_id.as_str()) == e.owner_csm_id.as_deref())
        })
        .collect();
    let kept: Vec<bool> = book.iter().map(|e| e.account_id == "k1").collect();
    let segment = |account: usize, attribute: &str| -> Option<String> {
        (attribute == "segment")
            .then(|| book[account].segment.clone())
            .flatten()
    };
    let p = propose(
        &config,
        &RebalanceInputs {
            csms: &csms,
            efforts: &book,
            owners: &owners,
            kept: &kept,
            attribute: &segment,
        },
    );
    // Start (active CSMs, the departed CSM's book counted nowhere):
    //   ee 0, en 0.4, m1 0.9 (k1 + x1), m3 0, mu 0.5.
    // Forced, largest first, each to the least loaded eligible CSM:
    //   o1 25 h (mid-market, emea: m1 0.9 or m3 0) → m3 (0.25)
    //   ent1 20 h (enterprise emea, needs the skill: only ee) → ee (0.2)
    //   o2 15 h (m1 0.9 or m3 0.25) → m3 (0.4)
    //   ent_na 10 h (enterprise in na: no Enterprise team with the skill there) → unplaceable
    // Greedy: the most loaded is m1 0.9; k1 is kept, x1 (0.3) to m3 (0.4):
    //   2 × 0.3 × (0.4 − 0.9 + 0.3) = −0.12 → moves (m1 0.6, m3 0.7). Then from m3 to m1:
    //   2e(0.6 − 0.7 + e) > 0 for e = 0.25, 0.15, 0.3; ent2 (0.4) from en to ee (0.2):
    //   2 × 0.4 × (0.2 − 0.4 + 0.4) > 0; u1 can only stay with mu. Done.
    // Swaps: mid-market accounts only swap between m1 and m3, and m1 has nothing movable;
    //   ent2 ↔ ent1 is not allowed (en lacks the enterprise skill).
    let moves: Vec<(&str, &str, &str)> = p
        .moves
        .iter()
        .map(|m| {
            (
                m.account_id.as_str(),
                m.to_csm_id.as_str(),
                m.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        vec![
            ("o1", "m3", "forced"),
            ("ent1", "ee", "forced"),
            ("o2", "m3", "forced"),
            ("x1", "m3", "balance"),
        ]
    );
    assert_eq!(p.moves[0].from_csm_id.as_deref(), Some("gone"));
    assert_eq!((p.forced_moves, p.balance_moves, p.swaps), (3, 1, 0));
    assert_eq!(p.unplaceable, vec!["ent_na"]);
    assert_eq!(p.kept, 1);
    // Σ load² before: 0 + 0.16 + 0.81 + 0 + 0.25 = 1.22;
    //   after forced: 0.04 + 0.16 + 0.81 + 0.16 + 0.25 = 1.42;
    //   after: 0.04 + 0.16 + 0.36 + 0.49 + 0.25 = 1.30.
    assert_close(p.before.sum_of_squares, 1.22);
    assert_close(p.after_forced.sum_of_squares, 1.42);
    assert_close(p.after.sum_of_squares, 1.30);
    // Only the five active CSMs are listed.
    let after: Vec<(&str, usize, f64)> = p
        .csms
        .iter()
        .map(|c| (c.csm_id.as_str(), c.accounts_after, c.load_after))
        .collect();
    let expected = [
        ("ee", 1, 0.2),
        ("en", 1, 0.4),
        ("m1", 1, 0.6),
        ("m3", 3, 0.7),
        ("mu", 1, 0.5),
    ];
    for (got, want) in after.iter().zip(expected) {
        assert_eq!((got.0, got.1), (want.0, want.1));
        assert_close(got.2, want.2);
    }
    assert_eq!(p.csms.len(), 5);
}

#[test]
fn a_kept_account_of_a_departed_csm_moves_once_and_then_stays() {
    let mut config = hundred();
    let csms = vec![
        csm("p", "Mid-Market P", "emea", &["gold"], true),
        csm("q", "Mid-Market Q", "emea", &[], true),
        csm("gone", "Mid-Market G", "emea", &[], false),
    ];
    // q starts at 0.2. The departed CSM's K (60 h, kept: renewal close by) and Z (50 h,
    // a gold account only p may serve) are forced, largest first:
    //   K → p (0 < 0.2), Z → p (its only CSM): p 1.1, q 0.2.
    // Moving K on to q would lower Σ load² (2 × 0.6 × (0.2 − 1.1 + 0.6) = −0.36), but the
    // configuration keeps it: one forced move is unavoidable, a second one is not.
    let book = vec![
        effort("k", 60.0, "gone", "mid_market", "emea"),
        effort("z", 50.0, "gone", "mid_market", "emea"),
        effort("w", 20.0, "q", "mid_market", "emea"),
    ];
    config.rebalance.skills = vec![coco_insights::workload::config::SkillRule {
        attribute: "plan".into(),
        equals: "gold".into(),
        skill: "gold".into(),
    }];
    let owners = vec![Some(2), Some(2), Some(1)];
    let kept = vec![true, false, false];
    let plan = |account: usize, attribute: &str| -> Option<String> {
        (attribute == "plan" && account == 1).then(|| "gold".to_string())
    };
    let p = propose(
        &config,
        &RebalanceInputs {
            csms: &csms,
            efforts: &book,
            owners: &owners,
            kept: &kept,
            attribute: &plan,
        },
    );
    let moves: Vec<(&str, &str, &str)> = p
        .moves
        .iter()
        .map(|m| {
            (
                m.account_id.as_str(),
                m.to_csm_id.as_str(),
                m.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(moves, vec![("k", "p", "forced"), ("z", "p", "forced")]);
    assert_close(p.after.sum_of_squares, 1.1 * 1.1 + 0.2 * 0.2);
}

#[test]
fn mirrored_loads_do_not_trade_an_account_forever() {
    // c1 holds 0.1 h + 0.2 h, c2 holds 0.2 h (capacity 40 h). Moving the 0.1 h account
    // changes Σ load² by 2e(l₂ − l₁ + e) = 0 exactly — the loads just swap places — but in
    // floating point the sum comes out at about −1e-19 both ways, so with no move penalty
    // the greedy search used to move it back and forth without end.
    let mut config = small();
    config.capacity.hours_per_month = 40.0;
    config.rebalance.search.move_penalty = 0.0;
    config.rebalance.search.max_moves = 0;
    let csms = vec![
        csm("c1", "Mid-Market", "emea", &[], true),
        csm("c2", "Mid-Market", "emea", &[], true),
    ];
    let book = vec![
        effort("a", 0.1, "c1", "mid_market", "emea"),
        effort("b", 0.2, "c1", "mid_market", "emea"),
        effort("c", 0.2, "c2", "mid_market", "emea"),
    ];
    let p = run(&config, &csms, &book);
    assert!(p.moves.is_empty(), "{:?}", p.moves);
    assert_close(p.after.sum_of_squares, p.before.sum_of_squares);
}

// ------------------------------------------------------------------ properties

/// A small deterministic generator, so one proptest seed describes a whole instance.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Eligibility as the module documents it, recomputed independently of the search.
fn may_take(config: &WorkloadConfig, csm: &CsmInfo, account: &AccountEffort, gold: bool) -> bool {
    if !csm.active {
        return false;
    }
    if config.rebalance.same_region
        && let Some(region) = &account.region
        && csm.region.as_ref() != Some(region)
    {
        return false;
    }
    if let Some(prefixes) = account
        .segment
        .as_ref()
        .and_then(|s| config.rebalance.segment_teams.get(s))
    {
        let team = csm.team.as_deref().unwrap_or("");
        if !prefixes.iter().any(|p| team.starts_with(p.as_str())) {
            return false;
        }
    }
    !gold || csm.skills.iter().any(|s| s == "gold")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_proposal_is_never_worse_and_never_breaks_a_rule(
        seed in any::<u64>(),
        n_csms in 2usize..=8,
        n_accounts in 5usize..=60,
    ) {
        let mut rng = Rng(seed);
        let mut config = small();
        config.capacity.hours_per_month = 40.0;
        config.rebalance.same_region = rng.chance(70);
        config.rebalance.search.move_penalty = [0.0, 0.002, 0.02][rng.below(3) as usize];
        config.rebalance.search.swap_rounds = rng.below(4) as usize;
        config.rebalance.skills = vec![coco_insights::workload::config::SkillRule {
            attribute: "plan".into(),
            equals: "gold".into(),
            skill: "gold".into(),
        }];
        let regions = ["emea", "na"];
        let teams = ["Enterprise A", "Mid-Market B", "Scale C"];
        let csms: Vec<CsmInfo> = (0..n_csms)
            .map(|c| {
                let team = teams[rng.below(3) as usize];
                let region = regions[rng.below(2) as usize];
                let skills: &[&str] = if rng.chance(50) { &["gold"] } else { &[] };
                let mut info = csm(&format!("c{c}"), team, region, skills, rng.chance(80));
                if rng.chance(10) {
                    info.region = None;
                }
                info
            })
            .collect();
        let segments = ["enterprise", "mid_market", "smb", "other"];
        let mut book = Vec::new();
        let mut owners = Vec::new();
        let mut kept = Vec::new();
        let mut gold = Vec::new();
        for a in 0..n_accounts {
            let owner = (!rng.chance(10)).then(|| rng.below(n_csms as u64) as usize);
            let hours = 0.1 + rng.below(200) as f64 / 10.0;
            let mut e = effort(
                &format!("a{a}"),
                hours,
                owner.map_or("nobody", |o| csms[o].csm_id.as_str()),
                segments[rng.below(4) as usize],
                regions[rng.below(2) as usize],
            );
            if rng.chance(10) {
                e.region = None;
            }
            if rng.chance(10) {
                e.segment = None;
            }
            book.push(e);
            owners.push(owner);
            kept.push(rng.chance(20));
            gold.push(rng.chance(25));
        }
        let attribute = |account: usize, name: &str| -> Option<String> {
            (name == "plan" && gold[account]).then(|| "gold".to_string())
        };
        let p = propose(
            &config,
            &RebalanceInputs {
                csms: &csms,
                efforts: &book,
                owners: &owners,
                kept: &kept,
                attribute: &attribute,
            },
        );
        let capacity = config.capacity.hours_per_month;

        // Never worse than the start after the forced placements.
        prop_assert!(
            p.after.sum_of_squares <= p.after_forced.sum_of_squares + 1e-9,
            "after {} > after forced {}", p.after.sum_of_squares, p.after_forced.sum_of_squares
        );

        // Every move goes to an active CSM allowed to take the account; replaying the
        // moves in order gives the proposal's books.
        let index = |id: &str| book.iter().position(|e| e.account_id == id);
        let mut owner_now: Vec<Option<usize>> = owners
            .iter()
            .map(|o| o.filter(|c| csms[*c].active))
            .collect();
        for m in &p.moves {
            let a = index(&m.account_id).expect("a move names a book account");
            let to = csms.iter().position(|c| c.csm_id == m.to_csm_id).expect("a known CSM");
            prop_assert!(may_take(&config, &csms[to], &book[a], gold[a]),
                "{} moved to {} which may not take it", m.account_id, m.to_csm_id);
            // Kept accounts of active owners never move.
            let active_owner = owners[a].is_some_and(|o| csms[o].active);
            prop_assert!(!(kept[a] && active_owner), "kept account {} moved", m.account_id);
            // Forced moves place the accounts without an active owner, before anything
            // else moves them; other moves start from an active CSM.
            if m.reason == "forced" {
                prop_assert!(!active_owner);
                prop_assert_eq!(owner_now[a], None);
            } else {
                prop_assert!(owner_now[a].is_some());
                prop_assert_ne!(owner_now[a], Some(to));
            }
            owner_now[a] = Some(to);
        }
        // A kept account without an active owner moves once (its forced placement).
        for a in 0..book.len() {
            let count = p.moves.iter().filter(|m| m.account_id == book[a].account_id).count();
            if kept[a] {
                prop_assert!(count <= 1, "kept account {} moved {count} times", book[a].account_id);
            }
        }
        // Orphans are placed or reported unplaceable, never both, never lost.
        for a in 0..book.len() {
            let orphan = !owners[a].is_some_and(|o| csms[o].active);
            let unplaceable = p.unplaceable.contains(&book[a].account_id);
            prop_assert!(orphan || !unplaceable);
            prop_assert_eq!(unplaceable, owner_now[a].is_none());
            if unplaceable {
                prop_assert!(csms.iter().all(|c| !may_take(&config, c, &book[a], gold[a])));
            }
        }
        // Books after the moves match the proposal; total hours are conserved (the
        // unplaceable accounts' hours are counted nowhere).
        let active: Vec<usize> = (0..csms.len()).filter(|c| csms[*c].active).collect();
        prop_assert_eq!(p.csms.len(), active.len());
        let mut total_after = 0.0;
        for (change, c) in p.csms.iter().zip(&active) {
            let hours: f64 = (0..book.len())
                .filter(|a| owner_now[*a] == Some(*c))
                .map(|a| book[a].hours)
                .sum();
            let accounts = (0..book.len()).filter(|a| owner_now[*a] == Some(*c)).count();
            prop_assert!((change.load_after * capacity - hours).abs() < 1e-6);
            prop_assert_eq!(change.accounts_after, accounts);
            total_after += change.load_after * capacity;
        }
        let placed: f64 = (0..book.len())
            .filter(|a| !p.unplaceable.contains(&book[*a].account_id))
            .map(|a| book[a].hours)
            .sum();
        prop_assert!((total_after - placed).abs() < 1e-6, "{total_after} vs {placed}");
        prop_assert!((p.after.mean_load - p.after_forced.mean_load).abs() < 1e-9);
        prop_assert_eq!(p.forced_moves + p.balance_moves + 2 * p.swaps, p.moves.len());
        prop_assert_eq!(p.kept, (0..book.len())
            .filter(|a| kept[*a] && owners[*a].is_some_and(|o| csms[o].active))
            .count());
    }
}

// ------------------------------------------------------------------ configuration

#[test]
fn the_shipped_workload_config_validates_against_the_catalogue() {
    let text = coco_insights::workload::config::DEFAULT_WORKLOAD;
    let config = WorkloadConfig::from_toml(text).expect("the shipped workload config parses");
    config
        .validate(&shipped_metrics())
        .expect("the shipped workload config validates");
    assert_close(config.capacity.hours_per_month, 110.0);
    assert_eq!(config.effort.base_hours.len(), 4);
    assert_eq!(config.rebalance.keep.len(), 1);
    assert_eq!(config.rebalance.keep_stages, vec!["onboarding"]);
}

#[test]
fn invalid_workload_configs_name_the_field() {
    let check = |text: &str, names: &[&str]| {
        let config = WorkloadConfig::from_toml(text).expect("parses");
        let err = config
            .validate(&shipped_metrics())
            .expect_err("invalid")
            .to_string();
        for name in names {
            assert!(err.contains(name), "`{err}` should name `{name}`");
        }
    };
    check(
        &SMALL.replace("pooled = 0.3", "pooled = 0.3, white_glove = 9.0"),
        &["effort.base_hours.white_glove"],
    );
    check(
        &SMALL.replace("pooled = 0.3", "pooled = -0.3"),
        &["effort.base_hours.pooled"],
    );
    check(
        &SMALL.replace("source = \"open_tickets\"", "source = \"open_tix\""),
        &["effort.items[0]", "open_tix"],
    );
    check(
        &SMALL.replace("hours_per_month = 10.0", "hours_per_month = 0.0"),
        &["capacity.hours_per_month"],
    );
    check(
        &SMALL.replace("target_load = 0.8", "target_load = 0.0"),
        &["planning.target_load"],
    );
    check(
        &SMALL.replace(
            "same_region = true",
            "same_region = true\nkeep = [{ source = \"nope\", at_most = 1.0 }]",
        ),
        &["rebalance.keep[0]"],
    );
}
