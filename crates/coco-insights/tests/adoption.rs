//! Adoption and value against hand-built portfolios: levels, the heatmap and its CSV,
//! gap prioritisation with the retention link, root causes, the 90-day plan, time to
//! value, progress and the monthly report, and campaign lift.

mod common;

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use coco_insights::adoption::campaign::{self, CampaignAccount, CampaignRule};
use coco_insights::adoption::causes::UNKNOWN;
use coco_insights::adoption::gaps::{self, RenewalUsage, RetentionLink};
use coco_insights::adoption::plan;
use coco_insights::adoption::progress::{self, Trend};
use coco_insights::adoption::ttv::{self, TimeToValue};
use coco_insights::adoption::{
    self, AccountAdoption, AdoptionConfig, AdoptionInputs, AdoptionProfile, Level, MilestoneState,
};
use coco_insights::usage::{FeatureInfo, FeatureMatrix, FeatureUse};
use coco_insights::{AccountRow, MetricHistory, SnapshotFrame};
use common::{as_of, assert_close, assert_some_close, date, days_ago, shipped_metrics};

// ------------------------------------------------------------------------- fixtures

const METRICS: &[&str] = &[
    "active_users_30d",
    "champion_departed_90d",
    "champion_present",
    "top_department_share_90d",
    "events_per_active_user_30d",
];

fn config() -> AdoptionConfig {
    AdoptionConfig::shipped().expect("the shipped adoption config parses")
}

/// (key, name, module, tier, core, resource)
type FeatureRow = (
    &'static str,
    &'static str,
    &'static str,
    usize,
    bool,
    Option<&'static str>,
);

const CATALOGUE: &[FeatureRow] = &[
    (
        "projects.create",
        "Create projects",
        "core",
        0,
        true,
        Some("https://help.coco.test/projects"),
    ),
    (
        "tasks.assign",
        "Assign tasks",
        "core",
        0,
        true,
        Some("https://help.coco.test/tasks"),
    ),
    ("files.upload", "Upload files", "core", 0, true, None),
    (
        "reports.create",
        "Build reports",
        "analytics",
        0,
        true,
        Some("https://help.coco.test/reports"),
    ),
    (
        "comments.mention",
        "Mention in comments",
        "core",
        0,
        true,
        None,
    ),
    (
        "dashboards.custom",
        "Custom dashboards",
        "analytics",
        1,
        false,
        Some("https://help.coco.test/dashboards"),
    ),
    (
        "workflows.create",
        "Create workflows",
        "automation",
        1,
        false,
        Some("https://help.coco.test/workflows"),
    ),
    ("api.webhooks", "Webhooks", "api", 2, false, None),
];

fn catalogue() -> Vec<FeatureInfo> {
    CATALOGUE
        .iter()
        .map(|(key, name, module, tier, is_core, resource)| FeatureInfo {
            key: key.to_string(),
            name: name.to_string(),
            module: module.to_string(),
            tier: *tier,
            is_core: *is_core,
            resources: resource.map(str::to_string),
            description: None,
        })
        .collect()
}

fn feature_index(key: &str) -> usize {
    CATALOGUE
        .iter()
        .position(|f| f.0 == key)
        .unwrap_or_else(|| panic!("{key} is in the test catalogue"))
}

fn keys() -> Vec<String> {
    CATALOGUE.iter().map(|f| f.0.to_string()).collect()
}

fn tier_rank(tier: &str) -> usize {
    match tier {
        "starter" => 0,
        "professional" => 1,
        _ => 2,
    }
}

struct Acct {
    id: String,
    segment: String,
    tier: String,
    arr: Option<f64>,
    tenure: Option<f64>,
    values: BTreeMap<&'static str, f64>,
    usage: Vec<FeatureUse>,
    milestones: Vec<MilestoneState>,
}

impl Acct {
    /// An account with a row for every feature its tier includes, using `used`.
    fn new(id: &str, segment: &str, tier: &str, used: &[&str]) -> Acct {
        let rank = tier_rank(tier);
        let usage = CATALOGUE
            .iter()
            .enumerate()
            .filter(|(_, f)| f.3 <= rank)
            .map(|(i, f)| {
                let on = used.contains(&f.0);
                FeatureUse {
                    feature: i,
                    entitled: true,
                    events: if on { 25.0 } else { 0.0 },
                    users: if on { 4.0 } else { 0.0 },
                    prior_events: if on { 20.0 } else { 0.0 },
                    first_used: on.then(|| days_ago(200)),
                    last_used: on.then(|| days_ago(3)),
                }
            })
            .collect();
        for key in used {
            assert!(
                CATALOGUE.iter().any(|f| f.0 == *key && f.3 <= rank),
                "{key} is entitled on {tier}"
            );
        }
        Acct {
            id: id.to_string(),
            segment: segment.to_string(),
            tier: tier.to_string(),
            arr: None,
            tenure: None,
            values: BTreeMap::new(),
            usage,
            milestones: Vec::new(),
        }
    }

    fn m(mut self, name: &'static str, value: f64) -> Acct {
        assert!(METRICS.contains(&name), "{name} is not a frame column");
        self.values.insert(name, value);
        self
    }

    fn arr(mut self, arr: f64) -> Acct {
        self.arr = Some(arr);
        self
    }

    fn tenure(mut self, days: f64) -> Acct {
        self.tenure = Some(days);
        self
    }

    fn row(&mut self, key: &str) -> &mut FeatureUse {
        let f = feature_index(key);
        self.usage
            .iter_mut()
            .find(|u| u.feature == f)
            .unwrap_or_else(|| panic!("{key} has a usage row"))
    }

    /// Used in the window before, not in the recent one.
    fn abandoned(mut self, key: &str) -> Acct {
        let row = self.row(key);
        row.events = 0.0;
        row.users = 0.0;
        row.prior_events = 12.0;
        row.first_used = Some(days_ago(150));
        row.last_used = Some(days_ago(100));
        self
    }

    fn first_used(mut self, key: &str, on: NaiveDate) -> Acct {
        self.row(key).first_used = Some(on);
        self
    }

    /// Use of a feature outside the plan.
    fn outside_plan(mut self, key: &str) -> Acct {
        self.usage.push(FeatureUse {
            feature: feature_index(key),
            entitled: false,
            events: 9.0,
            users: 1.0,
            prior_events: 0.0,
            first_used: Some(days_ago(20)),
            last_used: Some(days_ago(1)),
        });
        self
    }

    fn milestone(
        mut self,
        key: &str,
        due: Option<NaiveDate>,
        completed: Option<NaiveDate>,
    ) -> Acct {
        self.milestones.push(MilestoneState {
            key: key.to_string(),
            due,
            completed,
        });
        self
    }
}

struct Built {
    frame: SnapshotFrame,
    names: Vec<String>,
    usage: FeatureMatrix,
    milestones: Vec<Vec<MilestoneState>>,
    retention: Vec<RetentionLink>,
}

impl Built {
    fn inputs(&self) -> AdoptionInputs<'_> {
        AdoptionInputs {
            frame: &self.frame,
            names: &self.names,
            usage: &self.usage,
            milestones: &self.milestones,
            retention: &self.retention,
        }
    }

    fn index(&self, id: &str) -> usize {
        self.frame.account_index(id).expect("account in the frame")
    }

    fn profile(&self, id: &str) -> AdoptionProfile {
        adoption::profile(&self.inputs(), &config(), self.index(id))
    }

    fn account(&self, id: &str) -> AccountAdoption {
        adoption::analyse_account(&self.inputs(), &config(), self.index(id))
    }
}

fn build_at(as_of: NaiveDate, accounts: Vec<Acct>) -> Built {
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
                .text("plan_tier", &a.tier)
                .text("owner_csm_id", "csm_9");
            if let Some(arr) = a.arr {
                row = row.number("arr", arr);
            }
            if let Some(tenure) = a.tenure {
                row = row.number("tenure_days", tenure);
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
    Built {
        frame: SnapshotFrame::new(as_of, metrics, rows, values).expect("valid test frame"),
        names: accounts.iter().map(|a| format!("{} GmbH", a.id)).collect(),
        usage: FeatureMatrix {
            as_of: Some(as_of),
            window_days: 90,
            features: catalogue(),
            accounts: accounts.iter().map(|a| a.usage.clone()).collect(),
        },
        milestones: accounts.iter().map(|a| a.milestones.clone()).collect(),
        retention: Vec::new(),
    }
}

fn build(accounts: Vec<Acct>) -> Built {
    build_at(as_of(), accounts)
}

const ALL_CORE: &[&str] = &[
    "projects.create",
    "tasks.assign",
    "files.upload",
    "reports.create",
    "comments.mention",
];

// ------------------------------------------------------------------- config, levels

#[test]
fn the_shipped_config_validates_against_the_catalogue() {
    config()
        .validate(&shipped_metrics())
        .expect("the shipped adoption config validates");
}

#[test]
fn levels_follow_core_features_used_and_breadth() {
    let built = build(vec![
        Acct::new("high", "smb", "professional", &ALL_CORE[..4])
            .arr(40_000.0)
            .m("events_per_active_user_30d", 31.5),
        Acct::new("medium3", "smb", "professional", &ALL_CORE[..3]),
        Acct::new(
            "medium2",
            "smb",
            "professional",
            &["projects.create", "tasks.assign", "dashboards.custom"],
        ),
        Acct::new(
            "low1",
            "smb",
            "professional",
            &["projects.create", "dashboards.custom", "workflows.create"],
        ),
        // 2 core features, but 2 of 7 = 29% < 30%: low.
        Acct::new("thin", "smb", "professional", &ALL_CORE[..2]),
        // The same 2 of 5 on starter = 40%: medium.
        Acct::new("starter2", "smb", "starter", &ALL_CORE[..2]),
        Acct::new("none", "smb", "starter", &[]),
    ]);
    let level = |id: &str| built.profile(id).level;
    assert_eq!(level("high"), Level::High);
    assert_eq!(level("medium3"), Level::Medium);
    assert_eq!(level("medium2"), Level::Medium);
    assert_eq!(level("low1"), Level::Low);
    assert_eq!(level("thin"), Level::Low);
    assert_eq!(level("starter2"), Level::Medium);
    assert_eq!(level("none"), Level::Low);

    let p = built.profile("high");
    assert_eq!(p.account_name, "high GmbH");
    assert_eq!(p.segment.as_deref(), Some("smb"));
    assert_eq!(p.plan_tier.as_deref(), Some("professional"));
    assert_eq!(p.owner_csm_id.as_deref(), Some("csm_9"));
    assert_eq!(
        (p.entitled, p.used, p.core_entitled, p.core_used),
        (7, 4, 5, 4)
    );
    assert_some_close(p.breadth, 4.0 / 7.0);
    assert_eq!(p.depth, Some(31.5));
    assert_eq!(p.arr, Some(40_000.0));
    assert_eq!(p.window_days, 90);
    assert_eq!(p.features.len(), 7);
    let thin = built.profile("thin");
    assert_eq!((thin.used, thin.core_used), (2, 2));
    assert_some_close(thin.breadth, 2.0 / 7.0);
}

#[test]
fn use_outside_the_plan_does_not_count_towards_breadth() {
    let built = build(vec![
        Acct::new("trial", "smb", "starter", &ALL_CORE[..2]).outside_plan("dashboards.custom"),
    ]);
    let p = built.profile("trial");
    assert_eq!((p.entitled, p.used), (5, 2));
    assert_some_close(p.breadth, 0.4);
    let outside = p
        .features
        .iter()
        .find(|f| f.key == "dashboards.custom")
        .expect("listed");
    assert!(outside.used && !outside.entitled);
}

// -------------------------------------------------------------------------- heatmap

#[test]
fn heatmap_shares_per_segment_and_its_csv() {
    let mid = "mid market, emea";
    let built = build(vec![
        Acct::new(
            "s1",
            "smb",
            "professional",
            &["projects.create", "dashboards.custom"],
        ),
        Acct::new("s2", "smb", "professional", &["projects.create"]),
        Acct::new("s3", "smb", "professional", &["tasks.assign"]),
        Acct::new("m1", mid, "starter", &["projects.create"]),
        Acct::new("m2", mid, "starter", &["projects.create", "tasks.assign"]),
    ]);
    let map = adoption::heatmap(&built.inputs(), "segment");
    assert_eq!(map.group_by, "segment");
    assert_eq!(map.groups, [mid, "smb"]);
    assert_eq!(map.features, keys());
    assert_eq!(map.as_of, as_of());
    let f = |key: &str| feature_index(key);
    // projects.create: 2 of 2 mid market, 2 of 3 smb.
    assert_eq!(map.entitled[f("projects.create")], [2, 3]);
    assert_eq!(map.active[f("projects.create")], [2, 2]);
    assert_some_close(map.share[f("projects.create")][0], 1.0);
    assert_some_close(map.share[f("projects.create")][1], 2.0 / 3.0);
    assert_some_close(map.share[f("tasks.assign")][0], 0.5);
    // dashboards.custom: no starter account has access; 1 of 3 smb uses it.
    assert_eq!(map.share[f("dashboards.custom")][0], None);
    assert_some_close(map.share[f("dashboards.custom")][1], 1.0 / 3.0);
    // Webhooks (enterprise): nobody has access anywhere.
    assert_eq!(map.share[f("api.webhooks")], [None, None]);
    assert_eq!(map.entitled[f("api.webhooks")], [0, 0]);

    let csv = map.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "feature_key,feature_name,group_by,group,entitled_accounts,active_accounts,share"
    );
    assert_eq!(lines.len(), 1 + CATALOGUE.len() * 2);
    assert_eq!(
        lines[1],
        "projects.create,Create projects,segment,\"mid market, emea\",2,2,1.0000"
    );
    assert_eq!(
        lines[2],
        "projects.create,Create projects,segment,smb,3,2,0.6667"
    );
    assert!(
        lines.contains(&"dashboards.custom,Custom dashboards,segment,\"mid market, emea\",0,0,"),
        "{csv}"
    );
    assert_eq!(lines[16], "api.webhooks,Webhooks,segment,smb,0,0,");
}

// ----------------------------------------------------------------------------- gaps

/// The target account uses the core features but comments, and nothing of the
/// professional tier; ten smb on professional peers with chosen usage.
fn gap_portfolio(peer_use: &[(&str, usize)]) -> Vec<Acct> {
    let mut accounts =
        vec![Acct::new("target", "smb", "professional", &ALL_CORE[..4]).arr(50_000.0)];
    for p in 0..10 {
        let used: Vec<&str> = std::iter::once("projects.create")
            .chain(peer_use.iter().filter(|(_, n)| p < *n).map(|(key, _)| *key))
            .collect();
        accounts.push(Acct::new(&format!("peer{p}"), "smb", "professional", &used));
    }
    accounts
}

#[test]
fn the_gap_with_higher_peer_usage_ranks_first() {
    let built = build(gap_portfolio(&[
        ("dashboards.custom", 8),
        ("workflows.create", 3),
        ("comments.mention", 6),
    ]));
    let a = built.account("target");
    assert_eq!(a.profile.level, Level::High);
    let order: Vec<&str> = a.gaps.iter().map(|g| g.feature_key.as_str()).collect();
    assert_eq!(
        order,
        ["dashboards.custom", "comments.mention", "workflows.create"]
    );
    let top = &a.gaps[0];
    // 8 of the 11 smb professional accounts with access (the target included).
    assert_some_close(top.peer_share, 8.0 / 11.0);
    assert_eq!(top.peers, 11);
    assert_eq!(top.peer_group.as_deref(), Some("smb on professional"));
    assert_close(top.tier_relevance, 1.0);
    assert_close(top.value, 0.5 * 8.0 / 11.0 + 0.2 * 1.0);
    assert_eq!(
        top.resources.as_deref(),
        Some("https://help.coco.test/dashboards")
    );
    assert_eq!(
        top.reason,
        "73% of 11 smb on professional peers with access use it; part of the professional tier they pay for"
    );
    // A core feature of a lower tier is worth 0.6 of the tier part.
    let comments = &a.gaps[1];
    assert_close(comments.tier_relevance, 0.6);
    assert_close(comments.value, 0.5 * 6.0 / 11.0 + 0.2 * 0.6);
    assert!(!top.retention_significant && top.expected_retained_arr.is_none());
}

#[test]
fn a_small_peer_group_falls_back_to_all_accounts() {
    let built = build(vec![
        Acct::new("target", "smb", "professional", &ALL_CORE[..4]),
        Acct::new("other", "mid", "professional", &["dashboards.custom"]),
    ]);
    let a = built.account("target");
    let dash = a
        .gaps
        .iter()
        .find(|g| g.feature_key == "dashboards.custom")
        .expect("a gap");
    assert_eq!(dash.peer_group.as_deref(), Some("all accounts"));
    assert_eq!(dash.peers, 2);
    assert_some_close(dash.peer_share, 0.5);
}

/// `with` renewals using the feature (`with_churned` churned) and `without` renewals
/// with access not using it.
fn renewals(feature: &str, with: (u32, u32), without: (u32, u32)) -> Vec<RenewalUsage> {
    let f = feature_index(feature);
    let mut rows = Vec::new();
    for (used, (n, churned)) in [(true, with), (false, without)] {
        for i in 0..n {
            rows.push(RenewalUsage {
                account_id: format!("r{}{i}", if used { "u" } else { "n" }),
                renewal_date: date(2025, 6, 1),
                churned: i < churned,
                features_used: if used { vec![f] } else { vec![] },
                features_entitled: vec![f],
            });
        }
    }
    rows
}

#[test]
fn a_significant_retention_link_raises_a_gap_and_prices_the_arr_at_stake() {
    let mut built = build(gap_portfolio(&[
        ("dashboards.custom", 5),
        ("workflows.create", 5),
    ]));
    // Without any link the two tie on value; the key decides.
    let plain = built.account("target");
    assert_eq!(plain.gaps[0].feature_key, "dashboards.custom");
    assert_close(plain.gaps[0].value, plain.gaps[1].value);
    let plain_value = plain.gaps[1].value;

    // Renewals using workflows churned 10 of 100, without 30 of 100.
    built.retention =
        gaps::retention_links(&renewals("workflows.create", (100, 10), (100, 30)), &keys());
    let link = &built.retention[feature_index("workflows.create")];
    assert_eq!(
        (
            link.with_feature,
            link.with_feature_churned,
            link.without_feature,
            link.without_feature_churned
        ),
        (100, 10, 100, 30)
    );
    assert_some_close(link.churn_with, 0.1);
    assert_some_close(link.churn_without, 0.3);
    assert!((link.difference.unwrap_or(0.0) - 0.2).abs() < 1e-12);
    assert!(
        link.p_value.is_some_and(|p| p < 0.001),
        "{:?}",
        link.p_value
    );
    // No renewal had access to dashboards: no link.
    assert_eq!(
        built.retention[feature_index("dashboards.custom")].difference,
        None
    );

    let a = built.account("target");
    let order: Vec<&str> = a.gaps.iter().map(|g| g.feature_key.as_str()).collect();
    assert_eq!(order[..2], ["workflows.create", "dashboards.custom"]);
    let workflows = &a.gaps[0];
    assert!(workflows.retention_significant);
    // The strongest link scores 1 × retention_weight 0.3.
    assert_close(workflows.value, plain_value + 0.3);
    let stake = workflows
        .expected_retained_arr
        .expect("significant link and ARR");
    assert!((stake - 0.2 * 50_000.0).abs() < 1e-6, "{stake}");
    assert!(
        workflows
            .reason
            .contains("renewals where it was used churned 10% vs 30% without (p = 0.000)")
            && workflows
                .reason
                .contains("≈ $10,000 of this account's ARR at stake"),
        "{}",
        workflows.reason
    );
    assert_eq!(a.gaps[1].expected_retained_arr, None);
}

#[test]
fn an_insignificant_retention_link_does_not_count() {
    let mut built = build(gap_portfolio(&[
        ("dashboards.custom", 5),
        ("workflows.create", 5),
    ]));
    let plain_value = built.account("target").gaps[0].value;
    // 2 of 10 vs 3 of 10: a 10-point difference, p ≈ 0.6.
    built.retention =
        gaps::retention_links(&renewals("workflows.create", (10, 2), (10, 3)), &keys());
    let link = &built.retention[feature_index("workflows.create")];
    assert!(link.p_value.is_some_and(|p| p > 0.5), "{:?}", link.p_value);
    let a = built.account("target");
    let order: Vec<&str> = a.gaps.iter().map(|g| g.feature_key.as_str()).collect();
    assert_eq!(order[..2], ["dashboards.custom", "workflows.create"]);
    let workflows = &a.gaps[1];
    assert!(!workflows.retention_significant);
    assert_eq!(workflows.expected_retained_arr, None);
    assert_close(workflows.value, plain_value);
    assert!(workflows.retention.is_some());
    assert!(
        !workflows.reason.contains("churned"),
        "{}",
        workflows.reason
    );
}

#[test]
fn a_link_where_users_churned_more_is_not_a_reason_to_adopt() {
    let mut built = build(gap_portfolio(&[
        ("dashboards.custom", 5),
        ("workflows.create", 5),
    ]));
    let plain_value = built.account("target").gaps[0].value;
    built.retention =
        gaps::retention_links(&renewals("workflows.create", (100, 30), (100, 10)), &keys());
    let a = built.account("target");
    let workflows = a
        .gaps
        .iter()
        .find(|g| g.feature_key == "workflows.create")
        .expect("a gap");
    assert!(!workflows.retention_significant);
    assert_close(workflows.value, plain_value);
}

// --------------------------------------------------------------------------- causes

/// A professional account at low adoption: one core feature of five.
fn low(id: &str) -> Acct {
    Acct::new(id, "smb", "professional", &["projects.create"])
}

fn cause_portfolio() -> Built {
    build(vec![
        low("departed").m("champion_departed_90d", 1.0),
        low("absent").m("champion_present", 0.0),
        low("single")
            .m("top_department_share_90d", 0.95)
            .m("active_users_30d", 5.0),
        low("single_small")
            .m("top_department_share_90d", 0.95)
            .m("active_users_30d", 2.0),
        low("single_unknown_users").m("top_department_share_90d", 0.95),
        low("integration").milestone("integration_live", Some(date(2026, 10, 1)), None),
        low("integration_later").milestone("integration_live", Some(date(2026, 12, 1)), None),
        low("integration_done").milestone(
            "integration_live",
            Some(date(2026, 10, 1)),
            Some(date(2026, 10, 20)),
        ),
        low("untrained").milestone("training_complete", Some(date(2026, 9, 15)), None),
        low("complex")
            .abandoned("tasks.assign")
            .abandoned("files.upload"),
        low("one_dropped").abandoned("tasks.assign"),
        low("nothing"),
        low("multi")
            .m("champion_departed_90d", 1.0)
            .m("champion_present", 0.0)
            .milestone("training_complete", Some(date(2026, 9, 15)), None)
            .abandoned("tasks.assign")
            .abandoned("files.upload"),
        // A champion change where usage is fine is not low adoption.
        Acct::new("stable", "smb", "professional", &ALL_CORE[..4]).m("champion_departed_90d", 1.0),
        Acct::new("medium", "smb", "professional", &ALL_CORE[..3]).milestone(
            "training_complete",
            Some(date(2026, 9, 15)),
            None,
        ),
    ])
}

#[test]
fn each_shipped_cause_rule_explains_a_low_adoption_account() {
    let built = cause_portfolio();
    let cause = |id: &str| {
        built
            .account(id)
            .cause
            .unwrap_or_else(|| panic!("{id} is at low adoption"))
    };
    let low_line = "1 of 5 entitled core features used in 90 days (1 of 7 features)";

    let c = cause("departed");
    assert_eq!(
        (c.cause.as_str(), c.label.as_str()),
        ("champion_departed", "Champion departed")
    );
    assert_eq!(
        c.evidence,
        [low_line, "champion_departed_90d = 1 on 2026-11-01"]
    );
    assert!(
        c.response.starts_with("Find and onboard a new champion"),
        "{}",
        c.response
    );
    assert!(c.contributing.is_empty());

    let c = cause("absent");
    assert_eq!(c.cause, "champion_departed");
    assert_eq!(c.evidence[1], "champion_present = 0 on 2026-11-01");

    let c = cause("single");
    assert_eq!(c.cause, "single_team");
    assert_eq!(
        c.evidence,
        [
            low_line,
            "top_department_share_90d = 95% on 2026-11-01",
            "active_users_30d = 5 on 2026-11-01",
        ]
    );

    let c = cause("integration");
    assert_eq!(c.cause, "integration_incomplete");
    assert_eq!(
        c.evidence[1],
        "milestone integration_live was due 2026-10-01 and is not completed (31 days overdue)"
    );

    let c = cause("untrained");
    assert_eq!(
        (c.cause.as_str(), c.label.as_str()),
        ("never_trained", "Never trained")
    );
    assert_eq!(
        c.response,
        "Schedule role-based training (admins, then end users) and share the recordings."
    );

    let c = cause("complex");
    assert_eq!(c.cause, "complexity");
    assert_eq!(
        c.evidence[1],
        "2 features used in the 90 days before and not since: Assign tasks, Upload files"
    );

    let c = cause("nothing");
    assert_eq!((c.cause.as_str(), c.label.as_str()), (UNKNOWN, "Unknown"));
    assert_eq!(c.evidence, [low_line, "no cause rule matched"]);
    assert!(c.response.starts_with("Ask:"), "{}", c.response);
}

#[test]
fn conditions_that_do_not_hold_or_cannot_be_known_prove_nothing() {
    let built = cause_portfolio();
    for id in [
        // Only 2 active users: a small team is not "never expanded".
        "single_small",
        // Missing active users: the second condition cannot be known.
        "single_unknown_users",
        // Not due yet, or completed.
        "integration_later",
        "integration_done",
        // One abandoned feature is below 2.
        "one_dropped",
    ] {
        let c = built.account(id).cause.expect("low adoption is classified");
        assert_eq!(c.cause, UNKNOWN, "{id}: {c:?}");
    }
}

#[test]
fn a_champion_change_with_stable_usage_is_not_low_adoption() {
    let built = cause_portfolio();
    let stable = built.account("stable");
    assert_eq!(stable.profile.level, Level::High);
    assert_eq!(stable.cause, None);
    let medium = built.account("medium");
    assert_eq!(medium.profile.level, Level::Medium);
    assert_eq!(medium.cause, None);
}

#[test]
fn the_first_matching_rule_is_primary_and_later_ones_contribute() {
    let built = cause_portfolio();
    let c = built.account("multi").cause.expect("low adoption");
    assert_eq!(c.cause, "champion_departed");
    assert_eq!(c.evidence[1], "champion_departed_90d = 1 on 2026-11-01");
    // The second champion rule names the same cause: not listed again.
    assert_eq!(
        c.contributing,
        ["Never trained", "Tried and abandoned (complexity)"]
    );
}

// ----------------------------------------------------------------------------- plan

/// `target` uses one core feature and has no training; three professional peers use
/// dashboards and tasks, two of them upload files.
fn plan_portfolio(target: Acct) -> Built {
    build(vec![
        target,
        Acct::new(
            "p1",
            "smb",
            "professional",
            &["dashboards.custom", "tasks.assign", "files.upload"],
        ),
        Acct::new(
            "p2",
            "smb",
            "professional",
            &["dashboards.custom", "tasks.assign", "files.upload"],
        ),
        Acct::new(
            "p3",
            "smb",
            "professional",
            &["dashboards.custom", "tasks.assign"],
        ),
    ])
}

#[test]
fn the_plan_takes_three_features_core_first_over_twelve_weeks() {
    let built = plan_portfolio(low("learner").m("active_users_30d", 10.0).milestone(
        "training_complete",
        Some(date(2026, 9, 15)),
        None,
    ));
    let a = built.account("learner");
    // Value: dashboards 0.5 × 3/4 + 0.2 = 0.575; tasks 0.5 × 3/4 + 0.12 = 0.495;
    // files 0.5 × 2/4 + 0.12 = 0.37; workflows 0.2; the rest 0.12.
    let order: Vec<&str> = a
        .gaps
        .iter()
        .take(3)
        .map(|g| g.feature_key.as_str())
        .collect();
    assert_eq!(order, ["dashboards.custom", "tasks.assign", "files.upload"]);
    let users = built.frame.value(0, 0);
    let p = plan::plan(&a, &config(), users).expect("there are gaps");
    assert_eq!(p.account_id, "learner");
    assert_eq!(p.starts_on, as_of());
    assert_eq!(p.cause.as_deref(), Some("Never trained"));
    let features: Vec<(&str, usize, usize)> = p
        .features
        .iter()
        .map(|f| (f.feature_key.as_str(), f.first_week, f.last_week))
        .collect();
    assert_eq!(
        features,
        [
            ("tasks.assign", 1, 4),
            ("files.upload", 5, 8),
            ("dashboards.custom", 9, 12)
        ]
    );
    assert_eq!(
        p.features.iter().map(|f| f.order).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // 30% of 10 active users.
    assert!(
        p.features.iter().all(|f| f.target_users == 3),
        "{:?}",
        p.features
    );

    let weeks: Vec<usize> = p.weeks.iter().map(|w| w.week).collect();
    assert_eq!(weeks, (0..=12).collect::<Vec<_>>());
    assert_eq!(p.weeks[0].starts_on, as_of());
    assert_eq!(p.weeks[0].focus, "Never trained");
    assert_eq!(
        p.weeks[0].step,
        "Before the plan: Schedule role-based training (admins, then end users) and share the recordings."
    );
    for w in &p.weeks[1..] {
        assert_eq!(
            w.starts_on,
            as_of() + Days::new(7 * (w.week as u64 - 1)),
            "week {}",
            w.week
        );
    }
    assert_eq!(p.weeks[12].starts_on, date(2027, 1, 17));
    assert_eq!(
        p.weeks[1].step,
        "Introduce Assign tasks: why it matters (75% of peers use it); share https://help.coco.test/tasks"
    );
    assert_eq!(
        p.weeks[3].step,
        "Check usage of Assign tasks: target 3 users; follow up with those who have not tried it"
    );
    // No resource: the help page.
    assert_eq!(
        p.weeks[5].step,
        "Introduce Upload files: why it matters (50% of peers use it); share the feature's help page"
    );
    assert_eq!(p.weeks[9].focus, "Custom dashboards");

    let milestones: Vec<(u32, NaiveDate)> = p.milestones.iter().map(|m| (m.day, m.date)).collect();
    assert_eq!(
        milestones,
        [
            (30, as_of() + Days::new(30)),
            (60, as_of() + Days::new(60)),
            (90, as_of() + Days::new(90)),
        ]
    );
    assert_eq!(milestones[2].1, date(2027, 1, 30));
    assert_eq!(
        p.milestones[0].goal,
        "Assign tasks used by at least 3 users"
    );
    assert_eq!(
        p.milestones[1].goal,
        "Upload files in use, and Assign tasks still in use"
    );
    assert_eq!(
        p.milestones[2].goal,
        "all of Assign tasks, Upload files, Custom dashboards in use; feature breadth from 14% to 57%"
    );
    assert_some_close(p.breadth_now, 1.0 / 7.0);
    assert_some_close(p.breadth_target, 4.0 / 7.0);

    let md = plan::to_markdown(&p);
    for needle in [
        "# 90-day enablement plan — learner GmbH",
        "Starts 2026-11-01 · feature breadth 14% → 57%",
        "**Root cause:** Never trained. Schedule role-based training",
        "1. **Assign tasks** (weeks 1–4) — ",
        "Resource: https://help.coco.test/tasks",
        "Resource: https://help.coco.test/dashboards",
        "| 0 | 2026-11-01 | Never trained | Before the plan: Schedule role-based training",
        "| 12 | 2027-01-17 | Custom dashboards |",
        "- **Day 30** (2026-12-01): Assign tasks used by at least 3 users",
        "- **Day 90** (2027-01-30): all of Assign tasks",
    ] {
        assert!(md.contains(needle), "`{needle}` missing from:\n{md}");
    }
}

#[test]
fn without_a_known_cause_there_is_no_week_zero_and_without_gaps_no_plan() {
    let built = plan_portfolio(low("plain").m("active_users_30d", 4.0));
    let a = built.account("plain");
    assert_eq!(a.cause.as_ref().map(|c| c.cause.as_str()), Some(UNKNOWN));
    let p = plan::plan(&a, &config(), Some(4.0)).expect("there are gaps");
    assert_eq!(p.weeks.len(), 12);
    assert_eq!(p.weeks[0].week, 1);
    // 30% of 4 users rounds up to 2 (and never below 2).
    assert!(p.features.iter().all(|f| f.target_users == 2));
    let none = plan::plan(&a, &config(), None).expect("there are gaps");
    assert!(none.features.iter().all(|f| f.target_users == 2));

    let mut every: Vec<&str> = ALL_CORE.to_vec();
    every.extend(["dashboards.custom", "workflows.create"]);
    let built = build(vec![Acct::new("all", "smb", "professional", &every)]);
    let a = built.account("all");
    assert!(a.gaps.is_empty());
    assert_eq!(plan::plan(&a, &config(), Some(20.0)), None);
}

// ---------------------------------------------------------------------- time to value

fn started(tenure: u64) -> NaiveDate {
    days_ago(tenure)
}

fn ttv_portfolio() -> (Built, MetricHistory) {
    let mut accounts = vec![
        // Started 200 days ago: first use of tasks.assign after 20 days, of projects
        // after 25; the other key features later.
        Acct::new(
            "quick",
            "smb",
            "professional",
            &["projects.create", "tasks.assign", "reports.create"],
        )
        .tenure(200.0)
        .first_used("tasks.assign", started(200) + Days::new(20))
        .first_used("projects.create", started(200) + Days::new(25))
        .first_used("reports.create", started(200) + Days::new(90))
        .milestone(
            "integration_live",
            Some(started(150)),
            Some(started(200) + Days::new(60)),
        ),
        // Started before the usage history (2026-01-01): no time to value.
        Acct::new("veteran", "smb", "professional", &["projects.create"])
            .tenure(400.0)
            .first_used("projects.create", date(2026, 1, 3)),
        // Onboarding for 60 days, no key action yet.
        Acct::new("late", "smb", "professional", &["files.upload"]).tenure(60.0),
        // Onboarding for 10 days.
        Acct::new("fresh", "mid", "starter", &[]).tenure(10.0),
    ];
    // Earlier accounts (started 250 days ago) that reached first value after these days.
    for (i, days) in [15u64, 25, 30, 40, 70, 80, 90].iter().enumerate() {
        accounts.push(
            Acct::new(
                &format!("peer{i}"),
                "smb",
                "professional",
                &["projects.create"],
            )
            .tenure(250.0)
            .first_used("projects.create", started(250) + Days::new(*days)),
        );
    }
    let count = accounts.len();
    // Active users of `quick` in two monthly snapshots: 3, then 6.
    let mut users = vec![vec![f64::NAN; count]; 2];
    users[0][0] = 3.0;
    users[1][0] = 6.0;
    let history = MetricHistory {
        dates: vec![date(2026, 6, 1), date(2026, 7, 1)],
        metrics: vec!["active_users_30d".into()],
        values: vec![users],
    };
    (build(accounts), history)
}

fn ttv_of<'r>(rows: &'r [TimeToValue], id: &str) -> &'r TimeToValue {
    rows.iter()
        .find(|r| r.account_id == id)
        .unwrap_or_else(|| panic!("{id} has a row"))
}

#[test]
fn time_to_value_is_counted_from_the_start_to_the_first_key_action() {
    let (built, history) = ttv_portfolio();
    let rows = ttv::time_to_value(&built.inputs(), &config(), &history, Some(date(2026, 1, 1)));
    let quick = ttv_of(&rows, "quick");
    assert_eq!(quick.started_on, Some(date(2026, 4, 15)));
    assert_eq!(quick.tenure_days, Some(200));
    assert!(!quick.started_before_data && !quick.onboarding);
    assert_eq!(quick.first_value_days, Some(20));
    assert_eq!(quick.reason, "first value after 20 days");
    assert!(!quick.needs_acceleration);
    let milestone = |name: &str| {
        quick
            .milestones
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(
        milestone("first_key_action").reached_on,
        Some(date(2026, 5, 5))
    );
    assert_eq!(milestone("first_key_action").days, Some(20));
    // Five active users first in the snapshot of 2026-07-01: 77 days after the start.
    assert_eq!(
        milestone("five_active_users").reached_on,
        Some(date(2026, 7, 1))
    );
    assert_eq!(milestone("five_active_users").days, Some(77));
    assert_eq!(milestone("integration_live").days, Some(60));

    let veteran = ttv_of(&rows, "veteran");
    assert!(veteran.started_before_data);
    assert_eq!(veteran.first_value_days, None);
    assert_eq!(veteran.predicted_days, None);
    assert_eq!(veteran.reason, "started before the usage history");
}

#[test]
fn a_late_onboarding_account_is_predicted_from_the_peers_who_took_as_long() {
    let (built, history) = ttv_portfolio();
    let rows = ttv::time_to_value(&built.inputs(), &config(), &history, Some(date(2026, 1, 1)));
    // Observed: 15, 20 (quick), 25, 30, 40, 70, 80, 90. After 60 days, the peers who
    // took longer reached it at 70, 80, 90: median 80.
    let late = ttv_of(&rows, "late");
    assert!(late.onboarding);
    assert_eq!(late.first_value_days, None);
    assert_eq!(late.predicted_days, Some(80.0));
    assert!(late.needs_acceleration);
    assert_eq!(
        late.reason,
        "not at first value after 60 days; peers who took this long reached it at a median of 80 days (target 45)"
    );
    // After 10 days every peer took longer: the median of the eight is 40, on track.
    let fresh = ttv_of(&rows, "fresh");
    assert_eq!(fresh.predicted_days, Some(40.0));
    assert!(!fresh.needs_acceleration);
    assert_eq!(
        fresh.reason,
        "on track: predicted first value at 40 days (target 45)"
    );
}

#[test]
fn without_a_data_start_every_start_is_trusted() {
    let (built, history) = ttv_portfolio();
    let rows = ttv::time_to_value(&built.inputs(), &config(), &history, None);
    let veteran = ttv_of(&rows, "veteran");
    assert!(!veteran.started_before_data);
    // Started 2025-09-27; first use 2026-01-03 = 98 days.
    assert_eq!(veteran.started_on, Some(date(2025, 9, 27)));
    assert_eq!(veteran.first_value_days, Some(98));
}

// ------------------------------------------------------------------ progress, report

#[test]
fn progress_compares_breadth_with_the_baseline() {
    let config = config();
    let built = build(vec![Acct::new("a", "smb", "professional", &ALL_CORE[..4])]);
    let now = built.profile("a");
    let with = |breadth: f64| AdoptionProfile {
        breadth: Some(breadth),
        ..now.clone()
    };
    let trend = |n: f64, t: f64| {
        progress::account_progress(&with(n), Some(&(&with(t)).into()), &config).trend
    };
    assert_eq!(trend(0.60, 0.50), Trend::Improved);
    assert_eq!(trend(0.50, 0.60), Trend::Declined);
    assert_eq!(trend(0.54, 0.50), Trend::Stable);
    assert_eq!(trend(0.50, 0.54), Trend::Stable);
    // Exactly five points, either way (11 or 9 of 20 features from 10).
    assert_eq!(trend(11.0 / 20.0, 10.0 / 20.0), Trend::Improved);
    assert_eq!(trend(9.0 / 20.0, 10.0 / 20.0), Trend::Declined);
    let p = progress::account_progress(&now, None, &config);
    assert_eq!(p.trend, Trend::New);
    assert_eq!(p.level_then, None);
    let p = progress::account_progress(&with(0.6), Some(&(&with(0.5)).into()), &config);
    assert_some_close(p.breadth_now, 0.6);
    assert_some_close(p.breadth_then, 0.5);
    assert_eq!(p.level_now, Level::High);
}

#[test]
fn the_monthly_report_counts_levels_lists_attention_and_patterns() {
    let config = config();
    let baseline = days_ago(30);
    let now = build(vec![
        Acct::new(
            "a",
            "smb",
            "professional",
            &[
                "projects.create",
                "tasks.assign",
                "files.upload",
                "reports.create",
                "dashboards.custom",
            ],
        )
        .arr(20_000.0),
        Acct::new("b", "smb", "professional", &ALL_CORE[..3])
            .abandoned("reports.create")
            .abandoned("comments.mention")
            .arr(30_000.0),
        low("c").m("champion_departed_90d", 1.0).arr(80_000.0),
        Acct::new(
            "d",
            "smb",
            "professional",
            &[
                "projects.create",
                "tasks.assign",
                "files.upload",
                "reports.create",
                "comments.mention",
                "dashboards.custom",
            ],
        )
        .arr(100_000.0),
        Acct::new("e", "smb", "professional", &ALL_CORE[..4]).arr(5_000.0),
    ]);
    let then = build_at(
        baseline,
        vec![
            Acct::new("a", "smb", "professional", &ALL_CORE[..4]),
            Acct::new("b", "smb", "professional", ALL_CORE),
            low("c"),
            Acct::new(
                "d",
                "smb",
                "professional",
                &[
                    "projects.create",
                    "tasks.assign",
                    "files.upload",
                    "reports.create",
                    "comments.mention",
                    "dashboards.custom",
                ],
            ),
        ],
    );
    let now_all = adoption::analyse(&now.inputs(), &config);
    let then_profiles: Vec<progress::BaselinePoint> = (0..then.frame.account_count())
        .map(|i| (&adoption::profile(&then.inputs(), &config, i)).into())
        .collect();
    let r = progress::report(&now_all, &then_profiles, Some(baseline), &config, 10);

    assert_eq!(r.as_of, as_of());
    assert_eq!(r.accounts, 5);
    let counts = |m: &BTreeMap<String, usize>| (m["high"], m["medium"], m["low"]);
    assert_eq!(counts(&r.levels_now), (3, 1, 1));
    assert_eq!(counts(&r.levels_then), (3, 0, 1));
    assert_eq!((r.improved, r.declined, r.stable), (1, 1, 2));
    let trends: Vec<(&str, Trend)> = r
        .progress
        .iter()
        .map(|p| (p.account_id.as_str(), p.trend))
        .collect();
    assert_eq!(
        trends,
        [
            ("a", Trend::Improved),
            ("b", Trend::Declined),
            ("c", Trend::Stable),
            ("d", Trend::Stable),
            ("e", Trend::New),
        ]
    );
    assert_eq!(r.causes.get("champion_departed"), Some(&1));

    // Low adoption (c) or declining (b), highest ARR first.
    let attention: Vec<(&str, Option<f64>, Trend)> = r
        .attention
        .iter()
        .map(|a| (a.account_id.as_str(), a.arr, a.trend))
        .collect();
    assert_eq!(
        attention,
        [
            ("c", Some(80_000.0), Trend::Stable),
            ("b", Some(30_000.0), Trend::Declined)
        ]
    );
    assert_eq!(r.attention[0].cause.as_deref(), Some("Champion departed"));
    assert_eq!(r.attention[1].cause, None);
    assert!(r.attention[0].key_gap.is_some());
    assert_eq!(r.attention[1].plan_tier.as_deref(), Some("professional"));

    // Systemic: workflows (5 of 5 with access do not use it), comments (4 of 5),
    // dashboards (3 of 5), reports (2 of 5), then files / tasks at 1 of 5 (key order).
    let systemic: Vec<(&str, usize, usize)> = r
        .systemic
        .iter()
        .map(|s| (s.feature_key.as_str(), s.accounts_without, s.dropped))
        .collect();
    assert_eq!(
        systemic,
        [
            ("workflows.create", 5, 0),
            ("comments.mention", 4, 1),
            ("dashboards.custom", 3, 0),
            ("reports.create", 2, 1),
            ("files.upload", 1, 0),
        ]
    );
    assert_close(r.systemic[0].share_without, 1.0);
    assert_close(r.systemic[1].share_without, 0.8);

    assert_eq!(
        r.summary,
        "Of 5 accounts, 3 (60%) are at high adoption, 1 (20%) at medium and 1 (20%) at low, holding $80,000 of ARR. \
         Since 2026-10-02, 1 accounts improved and 1 declined; low-adoption accounts went from 1 to 1. \
         The most common cause of low adoption is champion departed (1 accounts). \
         Systemic gaps: Create workflows (100% of accounts with access do not use it); Mention in comments (80% of accounts with access do not use it). \
         2 accounts need attention (low adoption or declining)."
    );

    // The attention list is cut to the limit, the count in the summary is not.
    let r = progress::report(&now_all, &then_profiles, Some(baseline), &config, 1);
    assert_eq!(r.attention.len(), 1);
    assert_eq!(r.attention[0].account_id, "c");
    assert!(
        r.summary
            .ends_with(" 2 accounts need attention (low adoption or declining)."),
        "{}",
        r.summary
    );
    // No baseline: every account is new, and the summary says nothing about change.
    let r = progress::report(&now_all, &[], None, &config, 10);
    assert_eq!((r.improved, r.declined, r.stable), (0, 0, 0));
    assert!(r.progress.iter().all(|p| p.trend == Trend::New));
    assert!(!r.summary.contains("Since"), "{}", r.summary);
    assert_eq!(r.attention.len(), 1);
}

// ------------------------------------------------------------------------- campaigns

#[test]
fn campaign_lift_counts_activation_after_the_start_only() {
    let start = date(2026, 9, 1);
    let member = |i: usize, on: Option<NaiveDate>| CampaignAccount {
        account_id: format!("m{i}"),
        holdout: false,
        activated_on: on,
    };
    let held = |i: usize, on: Option<NaiveDate>| CampaignAccount {
        account_id: format!("h{i}"),
        holdout: true,
        activated_on: on,
    };
    let mut accounts = Vec::new();
    // Members: 6 activated 4–24 days after the start, one before it, one on the start
    // date, one after the as-of date, one never.
    for (i, d) in [4u64, 6, 10, 12, 20, 24].iter().enumerate() {
        accounts.push(member(i, Some(start + Days::new(*d))));
    }
    accounts.push(member(6, Some(date(2026, 8, 20))));
    accounts.push(member(7, Some(start)));
    accounts.push(member(8, Some(date(2026, 11, 5))));
    accounts.push(member(9, None));
    // Holdout: 2 of 10 activated after the start, one before it.
    accounts.push(held(0, Some(start + Days::new(15))));
    accounts.push(held(1, Some(start + Days::new(40))));
    accounts.push(held(2, Some(date(2026, 7, 1))));
    for i in 3..10 {
        accounts.push(held(i, None));
    }
    let r = campaign::report(
        "autumn-workflows",
        "workflows.create",
        start,
        as_of(),
        &accounts,
    );
    assert_eq!(
        (
            r.members,
            r.members_activated,
            r.holdout,
            r.holdout_activated
        ),
        (10, 6, 10, 2)
    );
    assert_some_close(r.member_rate, 0.6);
    assert_some_close(r.holdout_rate, 0.2);
    assert!((r.lift.unwrap_or(0.0) - 0.4).abs() < 1e-12);
    let p = coco_insights::stats::two_proportion_p(6, 10, 2, 10).expect("defined");
    assert_eq!(r.p_value, Some(p));
    assert!((p - 0.0679).abs() < 0.001, "{p}");
    // Days 4, 6, 10, 12, 20, 24: the upper middle.
    assert_eq!(r.median_days_to_activate, Some(12.0));
    assert_eq!(r.name, "autumn-workflows");
    assert_eq!(
        r.summary,
        "6 of 10 members (60%) started using workflows.create since 2026-09-01, against 2 of 10 in the holdout (20%): lift +40 points (p = 0.068)."
    );

    // Nobody in the holdout: no lift, no test.
    let members_only: Vec<CampaignAccount> =
        accounts.iter().filter(|a| !a.holdout).cloned().collect();
    let r = campaign::report("c", "workflows.create", start, as_of(), &members_only);
    assert_eq!((r.holdout_rate, r.lift, r.p_value), (None, None, None));
    assert!(
        r.summary.contains("0 of 0 in the holdout (—): lift —."),
        "{}",
        r.summary
    );
}

#[test]
fn campaign_rules_select_by_attribute_and_split_deterministically() {
    let rule = CampaignRule {
        feature_key: "workflows.create".into(),
        when: [(
            "segment".to_string(),
            vec!["smb".to_string(), "mid".to_string()],
        )]
        .into_iter()
        .collect(),
        holdout_share: 0.25,
    };
    let built = build(vec![
        Acct::new("in", "smb", "professional", &[]),
        Acct::new("out", "enterprise", "professional", &[]),
    ]);
    assert!(rule.matches(&built.frame.accounts[0].attributes));
    assert!(!rule.matches(&built.frame.accounts[1].attributes));
    let held: usize = (0..4_000)
        .filter(|i| campaign::in_holdout("autumn", &format!("acc{i}"), rule.holdout_share))
        .count();
    assert!((800..1_200).contains(&held), "{held}");
    assert_eq!(
        campaign::in_holdout("autumn", "acc1", 0.25),
        campaign::in_holdout("autumn", "acc1", 0.25)
    );
    assert!(!campaign::in_holdout("autumn", "acc1", 0.0));
    assert!(campaign::in_holdout("autumn", "acc1", 1.0));
}
