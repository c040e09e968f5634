//! Playbooks on hand-built inputs: which variant's tasks an alert creates, their due
//! dates and owners; the shipped escalation tree walked over fixed numbers; and what
//! `PlaybooksConfig::validate` refuses, naming the field.

mod common;

use common::{day, shipped_metrics};

use chrono::NaiveDate;
use coco_actions::playbooks::{
    AccountPlace, DEFAULT_PLAYBOOKS, PlannedTask, PlaybooksConfig, escalate, plan_tasks,
};
use coco_actions::routing::{Hierarchy, Person};
use coco_actions::rules::{AlertsConfig, DEFAULT_ALERTS, Role};
use coco_insights::values::SideValues;

/// The stage keys of config/journey.toml.
fn stages() -> Vec<String> {
    ["onboarding", "adoption", "expansion", "renewal", "advocacy"]
        .map(String::from)
        .to_vec()
}

fn alerts() -> AlertsConfig {
    AlertsConfig::from_toml(DEFAULT_ALERTS).unwrap()
}

fn playbooks() -> PlaybooksConfig {
    PlaybooksConfig::from_toml(DEFAULT_PLAYBOOKS).unwrap()
}

fn person(id: &str, manager: Option<&str>) -> Person {
    Person {
        csm_id: id.into(),
        name: id.to_uppercase(),
        email: None,
        manager_id: manager.map(str::to_string),
        team: None,
        active: true,
    }
}

/// mgr ← lead ← casey; olive has nobody above her.
fn team() -> Hierarchy {
    Hierarchy::new(vec![
        person("mgr", None),
        person("lead", Some("mgr")),
        person("casey", Some("lead")),
        person("olive", None),
    ])
}

fn place<'a>(
    stage: Option<&'a str>,
    segment: Option<&'a str>,
    owner: Option<&'a str>,
) -> AccountPlace<'a> {
    AccountPlace {
        stage,
        segment,
        owner,
    }
}

/// A playbook with a default, a stage variant, a segment variant and a variant that
/// needs both (listed after the segment one, so an smb renewal takes the smb tasks).
const VARIANTS: &str = r#"
version = "t"
[[playbooks]]
id = "save"
name = "Save"
triggers = ["churn_risk_renewal"]
[[playbooks.tasks]]
title = "Build the save plan"
owner = "csm"
due_days = 2
instructions = "Risks and value."
[[playbooks.tasks]]
title = "Review with the lead"
owner = "team_lead"
due_days = 4
[[playbooks.tasks]]
title = "Executive call"
owner = "manager"
due_days = 10
template = "exec_outreach"
[[playbooks.variants]]
stages = ["onboarding"]
[[playbooks.variants.tasks]]
title = "Unblock onboarding"
owner = "csm"
due_days = 1
[[playbooks.variants]]
segments = ["smb"]
[[playbooks.variants.tasks]]
title = "Campaign"
owner = "csm"
due_days = 3
[[playbooks.variants]]
stages = ["renewal"]
segments = ["enterprise"]
[[playbooks.variants.tasks]]
title = "Enterprise renewal council"
owner = "manager"
due_days = 7
[[playbooks.variants.tasks]]
title = "Lead prepares the numbers"
owner = "team_lead"
due_days = 5
[outcomes]
window_days = 60
min_health_gain = 5.0
follow_up_days = [30, 60, 90]
prior_strength = 4.0
min_observations = 5
confidence = 0.95
"#;

fn titles(tasks: &[PlannedTask]) -> Vec<&str> {
    tasks.iter().map(|t| t.title.as_str()).collect()
}

#[test]
fn the_variant_is_chosen_by_stage_then_segment_and_the_default_otherwise() {
    let config = PlaybooksConfig::from_toml(VARIANTS).unwrap();
    let playbook = config.playbook("save").unwrap();
    let team = team();
    let opened = day("2026-11-28");
    let plan = |stage, segment| {
        titles(&plan_tasks(
            playbook,
            &place(stage, segment, Some("casey")),
            opened,
            &team,
        ))
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()
    };
    let default = vec![
        "Build the save plan",
        "Review with the lead",
        "Executive call",
    ];
    let cases: Vec<(Option<&str>, Option<&str>, Vec<&str>)> = vec![
        // A matching stage.
        (
            Some("onboarding"),
            Some("mid_market"),
            vec!["Unblock onboarding"],
        ),
        (Some("onboarding"), None, vec!["Unblock onboarding"]),
        // The first matching variant wins: onboarding is listed before smb.
        (Some("onboarding"), Some("smb"), vec!["Unblock onboarding"]),
        // A matching segment.
        (Some("adoption"), Some("smb"), vec!["Campaign"]),
        (None, Some("smb"), vec!["Campaign"]),
        // Both named: both must match.
        (
            Some("renewal"),
            Some("enterprise"),
            vec!["Enterprise renewal council", "Lead prepares the numbers"],
        ),
        (Some("renewal"), Some("smb"), vec!["Campaign"]),
        (Some("renewal"), Some("mid_market"), default.clone()),
        (Some("adoption"), Some("enterprise"), default.clone()),
        (None, Some("enterprise"), default.clone()),
        // Nothing known: the default.
        (None, None, default.clone()),
    ];
    for (stage, segment, want) in cases {
        assert_eq!(plan(stage, segment), want, "{stage:?} × {segment:?}");
    }
}

#[test]
fn tasks_are_due_days_after_the_alert_opened_and_owned_by_their_role() {
    let config = PlaybooksConfig::from_toml(VARIANTS).unwrap();
    let playbook = config.playbook("save").unwrap();
    let tasks = plan_tasks(
        playbook,
        &place(Some("adoption"), Some("mid_market"), Some("casey")),
        day("2026-11-28"),
        &team(),
    );
    let got: Vec<(u32, Role, Option<&str>, NaiveDate)> = tasks
        .iter()
        .map(|t| (t.step, t.owner_role, t.owner_csm_id.as_deref(), t.due_on))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Role::Csm, Some("casey"), day("2026-11-30")),
            (2, Role::TeamLead, Some("lead"), day("2026-12-02")),
            (3, Role::Manager, Some("mgr"), day("2026-12-08")),
        ]
    );
    assert!(tasks.iter().all(|t| t.playbook_id == "save"));
    assert_eq!(tasks[0].instructions, "Risks and value.");
    assert_eq!(tasks[1].instructions, "");
    assert_eq!(tasks[2].template.as_deref(), Some("exec_outreach"));
    assert_eq!(tasks[0].template, None);

    // Across a year end, a variant's steps are numbered from 1 again.
    let council = plan_tasks(
        playbook,
        &place(Some("renewal"), Some("enterprise"), Some("casey")),
        day("2026-12-28"),
        &team(),
    );
    let got: Vec<(u32, Option<&str>, NaiveDate)> = council
        .iter()
        .map(|t| (t.step, t.owner_csm_id.as_deref(), t.due_on))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Some("mgr"), day("2027-01-04")),
            (2, Some("lead"), day("2027-01-02")),
        ]
    );
}

#[test]
fn a_role_nobody_holds_falls_back_to_the_accounts_csm() {
    let config = PlaybooksConfig::from_toml(VARIANTS).unwrap();
    let playbook = config.playbook("save").unwrap();
    let team = team();
    let owners = |owner| -> Vec<(Role, Option<String>)> {
        plan_tasks(
            playbook,
            &place(None, None, owner),
            day("2026-11-28"),
            &team,
        )
        .into_iter()
        .map(|t| (t.owner_role, t.owner_csm_id))
        .collect()
    };
    // Olive has no lead or manager: every task is hers, the role still recorded.
    assert_eq!(
        owners(Some("olive")),
        vec![
            (Role::Csm, Some("olive".into())),
            (Role::TeamLead, Some("olive".into())),
            (Role::Manager, Some("olive".into())),
        ]
    );
    // No CSM, or one the team does not know: nobody is named.
    for owner in [None, Some("former_csm")] {
        assert!(
            owners(owner).iter().all(|(_, id)| id.is_none()),
            "{owner:?}"
        );
    }
}

#[test]
fn the_shipped_playbooks_choose_their_variants() {
    let config = playbooks();
    let team = team();
    let opened = day("2026-11-01");
    let health = config.playbook("health_recovery").unwrap();
    let onboarding = plan_tasks(
        health,
        &place(Some("onboarding"), Some("smb"), Some("casey")),
        opened,
        &team,
    );
    assert_eq!(
        titles(&onboarding),
        vec![
            "Check which onboarding milestone is stuck",
            "Hold an onboarding unblock session"
        ]
    );
    assert_eq!(onboarding[1].due_on, day("2026-11-06"));
    assert_eq!(
        onboarding[1].template.as_deref(),
        Some("onboarding_unblock")
    );
    let adoption = plan_tasks(
        health,
        &place(Some("adoption"), Some("smb"), Some("casey")),
        opened,
        &team,
    );
    assert_eq!(adoption.len(), 3);
    assert_eq!(adoption[2].due_on, day("2026-11-11"));

    let silent = config.playbook("re_engage").unwrap();
    let smb = plan_tasks(
        silent,
        &place(None, Some("smb"), Some("casey")),
        opened,
        &team,
    );
    assert_eq!(
        titles(&smb),
        vec!["Add the account to the re-engagement email campaign"]
    );
    let enterprise = plan_tasks(
        silent,
        &place(None, Some("enterprise"), Some("casey")),
        opened,
        &team,
    );
    assert_eq!(titles(&enterprise), vec!["Reach out with something useful"]);

    // The save plan climbs the hierarchy.
    let save = plan_tasks(
        config.playbook("renewal_save").unwrap(),
        &place(Some("renewal"), Some("enterprise"), Some("casey")),
        opened,
        &team,
    );
    let owners: Vec<Option<&str>> = save.iter().map(|t| t.owner_csm_id.as_deref()).collect();
    assert_eq!(owners, vec![Some("casey"), Some("lead"), Some("mgr")]);
}

// ---------------------------------------------------------------------------------
// The escalation tree

/// The numbers the shipped tree reads, for five accounts:
/// 0 large (250k) renewing in 30 days; 1 large renewing in 90; 2 ARR unknown, renewing
/// in 10; 3 exactly on both bounds (100k, 60 days); 4 small (20k) renewing in 20.
fn numbers() -> SideValues {
    let mut side = SideValues::default();
    side.insert(
        "arr",
        vec![
            Some(250_000.0),
            Some(250_000.0),
            None,
            Some(100_000.0),
            Some(20_000.0),
        ],
    );
    side.insert(
        "days_to_renewal",
        vec![Some(30.0), Some(90.0), Some(10.0), Some(60.0), Some(20.0)],
    );
    side
}

#[test]
fn the_shipped_tree_has_the_two_nodes_this_file_walks() {
    let config = playbooks();
    let names: Vec<(&str, bool)> = config
        .escalation
        .iter()
        .map(|n| (n.name.as_str(), n.stop))
        .collect();
    assert_eq!(
        names,
        vec![
            ("Large renewal at risk", true),
            ("Several problems at once", false)
        ]
    );
}

#[test]
fn a_large_renewal_at_risk_involves_leadership_and_stops_the_walk() {
    let config = playbooks();
    let alerts = alerts();
    let rule = alerts.rule("churn_risk_renewal").unwrap();
    let team = team();
    // Five open alerts would also hold the second node, but the first stops the walk.
    let got = escalate(
        &config,
        rule,
        &numbers(),
        0,
        5,
        &place(Some("renewal"), Some("enterprise"), Some("casey")),
        day("2026-11-02"),
        &team,
    );
    assert_eq!(got.nodes.len(), 1);
    assert_eq!(got.nodes[0].name, "Large renewal at risk");
    assert_eq!(
        got.nodes[0].because,
        vec!["tier escalate", "arr = 250000", "days_to_renewal = 30"]
    );
    assert_eq!(got.involve, vec![Role::TeamLead, Role::Manager]);
    assert_eq!(
        got.tasks,
        vec![PlannedTask {
            playbook_id: "escalation: Large renewal at risk".into(),
            step: 101,
            title: "Leadership review of the save plan this week".into(),
            owner_role: Role::Manager,
            owner_csm_id: Some("mgr".into()),
            due_on: day("2026-11-07"),
            instructions: "Escalated because tier escalate, arr = 250000, days_to_renewal = 30."
                .into(),
            template: None,
        }]
    );
    // The bounds are inclusive: 100,000 and 60 days hold.
    let edge = escalate(
        &config,
        rule,
        &numbers(),
        3,
        0,
        &place(None, None, Some("casey")),
        day("2026-11-02"),
        &team,
    );
    assert_eq!(
        edge.nodes[0].because,
        vec!["tier escalate", "arr = 100000", "days_to_renewal = 60"]
    );
}

#[test]
fn the_tree_skips_nodes_whose_tier_or_numbers_do_not_hold() {
    let config = playbooks();
    let alerts = alerts();
    let escalate_rule = alerts.rule("churn_risk_renewal").unwrap();
    let intervene_rule = alerts.rule("health_drop").unwrap();
    let team = team();
    let walk = |rule, account, open| {
        escalate(
            &config,
            rule,
            &numbers(),
            account,
            open,
            &place(None, None, Some("casey")),
            day("2026-11-02"),
            &team,
        )
    };
    let names = |e: &coco_actions::playbooks::Escalation| -> Vec<String> {
        e.nodes.iter().map(|n| n.name.clone()).collect()
    };
    // An intervene alert never takes the escalate-only node, however large the account.
    let intervene = walk(intervene_rule, 0, 3);
    assert_eq!(names(&intervene), vec!["Several problems at once"]);
    assert_eq!(intervene.nodes[0].because, vec!["3 open alerts"]);
    assert_eq!(intervene.involve, vec![Role::TeamLead]);
    assert_eq!(intervene.tasks.len(), 1);
    assert_eq!(intervene.tasks[0].step, 101);
    assert_eq!(intervene.tasks[0].owner_role, Role::TeamLead);
    assert_eq!(intervene.tasks[0].owner_csm_id.as_deref(), Some("lead"));
    assert_eq!(intervene.tasks[0].due_on, day("2026-11-05"));
    assert_eq!(
        intervene.tasks[0].instructions,
        "Escalated because 3 open alerts."
    );
    // Renewal too far off: the first node fails, the second needs three open alerts.
    assert_eq!(
        names(&walk(escalate_rule, 1, 4)),
        vec!["Several problems at once"]
    );
    assert!(walk(escalate_rule, 1, 2).nodes.is_empty());
    // A missing number never holds.
    assert!(walk(escalate_rule, 2, 0).nodes.is_empty());
    // Too small.
    let small = walk(escalate_rule, 4, 1);
    assert_eq!(small, Default::default());
}

#[test]
fn without_the_stop_every_holding_node_adds_its_task_numbered_on_from_101() {
    let mut config = playbooks();
    config.escalation[0].stop = false;
    let alerts = alerts();
    let got = escalate(
        &config,
        alerts.rule("red_health_renewal").unwrap(),
        &numbers(),
        0,
        3,
        &place(None, None, Some("olive")),
        day("2026-11-02"),
        &team(),
    );
    assert_eq!(got.nodes.len(), 2);
    // team_lead is involved by both nodes, listed once.
    assert_eq!(got.involve, vec![Role::TeamLead, Role::Manager]);
    let tasks: Vec<(u32, &str, Role, Option<&str>, NaiveDate)> = got
        .tasks
        .iter()
        .map(|t| {
            (
                t.step,
                t.playbook_id.as_str(),
                t.owner_role,
                t.owner_csm_id.as_deref(),
                t.due_on,
            )
        })
        .collect();
    // Olive has nobody above her: both tasks fall back to her.
    assert_eq!(
        tasks,
        vec![
            (
                101,
                "escalation: Large renewal at risk",
                Role::Manager,
                Some("olive"),
                day("2026-11-07")
            ),
            (
                102,
                "escalation: Several problems at once",
                Role::TeamLead,
                Some("olive"),
                day("2026-11-05")
            ),
        ]
    );
}

#[test]
fn a_node_without_a_due_day_gives_its_task_three_days() {
    let mut config = playbooks();
    config.escalation[1].task_due_days = None;
    let alerts = alerts();
    let got = escalate(
        &config,
        alerts.rule("health_drop").unwrap(),
        &numbers(),
        0,
        3,
        &place(None, None, Some("casey")),
        day("2026-12-30"),
        &team(),
    );
    assert_eq!(got.tasks[0].due_on, day("2027-01-02"));
}

// ---------------------------------------------------------------------------------
// Validation

#[test]
fn the_shipped_playbooks_validate_and_every_shipped_rule_has_its_playbook() {
    let alerts = alerts();
    let config = playbooks();
    config
        .validate(&alerts, &stages(), &shipped_metrics())
        .unwrap();
    for rule in &alerts.rules {
        let named = rule
            .playbook
            .as_deref()
            .unwrap_or_else(|| panic!("{} names no playbook", rule.id));
        let playbook = config
            .playbook(named)
            .unwrap_or_else(|| panic!("{} names the missing playbook {named}", rule.id));
        assert_eq!(config.for_rule(rule).map(|p| p.id.as_str()), Some(named));
        // The playbook lists the rule among its triggers too, so the two files agree.
        assert!(
            playbook.triggers.contains(&rule.id),
            "{named} does not list {} in its triggers",
            rule.id
        );
    }
    // Every trigger is a rule that names that playbook.
    for playbook in &config.playbooks {
        for trigger in &playbook.triggers {
            assert_eq!(
                alerts.rule(trigger).and_then(|r| r.playbook.as_deref()),
                Some(playbook.id.as_str()),
                "{} → {trigger}",
                playbook.id
            );
        }
    }
}

#[test]
fn a_rule_without_a_playbook_of_its_own_runs_the_first_that_lists_it() {
    let mut alerts = alerts();
    let config = playbooks();
    let rule = alerts
        .rules
        .iter_mut()
        .find(|r| r.id == "downgrade_request")
        .unwrap();
    rule.playbook = None;
    assert_eq!(config.for_rule(rule).unwrap().id, "renewal_save");
    rule.id = "not_a_trigger".into();
    assert_eq!(config.for_rule(rule), None);
}

fn refused(config: &PlaybooksConfig, alerts: &AlertsConfig) -> String {
    config
        .validate(alerts, &stages(), &shipped_metrics())
        .unwrap_err()
        .to_string()
}

fn assert_names(error: &str, parts: &[&str]) {
    for part in parts {
        assert!(error.contains(part), "`{part}` not in: {error}");
    }
}

#[test]
fn an_unknown_trigger_rule_is_refused_naming_the_field() {
    let text = DEFAULT_PLAYBOOKS.replacen(
        "triggers = [\"health_drop\"]",
        "triggers = [\"helth_drop\"]",
        1,
    );
    let config = PlaybooksConfig::from_toml(&text).unwrap();
    assert_names(
        &refused(&config, &alerts()),
        &[
            "playbooks[0] (health_recovery).triggers",
            "`helth_drop` is not an alert rule",
        ],
    );
}

#[test]
fn an_unknown_stage_is_refused_naming_the_variant() {
    let text =
        DEFAULT_PLAYBOOKS.replacen("stages = [\"onboarding\"]", "stages = [\"onbording\"]", 1);
    let config = PlaybooksConfig::from_toml(&text).unwrap();
    assert_names(
        &refused(&config, &alerts()),
        &[
            "playbooks[0] (health_recovery).variants[0].stages",
            "`onbording` is not a journey stage (onboarding, adoption, expansion, renewal, advocacy)",
        ],
    );
}

#[test]
fn an_unknown_metric_in_the_escalation_tree_is_refused_naming_the_condition() {
    let text = DEFAULT_PLAYBOOKS.replacen(
        "source = \"days_to_renewal\"",
        "source = \"days_to_renewl\"",
        1,
    );
    let config = PlaybooksConfig::from_toml(&text).unwrap();
    assert_names(
        &refused(&config, &alerts()),
        &[
            "escalation[0] (Large renewal at risk).when[1]",
            "unknown source `days_to_renewl`",
        ],
    );
    // A metric of the catalogue, an account number and a side value are all known.
    let mut config = playbooks();
    for source in ["seat_utilisation_30d", "seats", "health_score"] {
        config.escalation[0].when[0].source = source.into();
        config
            .validate(&alerts(), &stages(), &shipped_metrics())
            .unwrap_or_else(|e| panic!("{source}: {e}"));
    }
}

#[test]
fn a_rule_naming_a_missing_playbook_is_refused_naming_the_rule() {
    let mut alerts = alerts();
    alerts.rules[0].playbook = Some("health_recvery".into());
    assert_names(
        &refused(&playbooks(), &alerts),
        &[
            "alert rule health_drop",
            "names playbook `health_recvery`, which config/playbooks.toml does not have",
        ],
    );
}

#[test]
fn other_malformed_playbooks_are_refused_naming_where() {
    let alerts = alerts();
    // A second playbook with the same id.
    let mut config = playbooks();
    let copy = config.playbooks[0].clone();
    config.playbooks.push(copy);
    assert_names(
        &refused(&config, &alerts),
        &[
            "playbooks[11] (health_recovery)",
            "a second playbook with this id",
        ],
    );
    // No tasks, in the playbook or a variant.
    let mut config = playbooks();
    config.playbooks[1].tasks.clear();
    assert_names(
        &refused(&config, &alerts),
        &["playbooks[1] (renewal_save)", "has no tasks"],
    );
    let mut config = playbooks();
    config.playbooks[0].variants[0].tasks.clear();
    assert_names(
        &refused(&config, &alerts),
        &["playbooks[0] (health_recovery).variants[0]", "has no tasks"],
    );
    // An escalation task without an owner.
    let mut config = playbooks();
    config.escalation[1].task_owner = None;
    assert_names(
        &refused(&config, &alerts),
        &[
            "escalation[1] (Several problems at once)",
            "a `task` needs a `task_owner`",
        ],
    );
    // Outcome settings out of range.
    let changes: [fn(&mut PlaybooksConfig); 4] = [
        |c: &mut PlaybooksConfig| c.outcomes.window_days = 0,
        |c: &mut PlaybooksConfig| c.outcomes.confidence = 1.0,
        |c: &mut PlaybooksConfig| c.outcomes.confidence = 0.4,
        |c: &mut PlaybooksConfig| c.outcomes.prior_strength = -1.0,
    ];
    for change in changes {
        let mut config = playbooks();
        change(&mut config);
        assert_names(
            &refused(&config, &alerts),
            &["outcomes", "`window_days` ≥ 1"],
        );
    }
}

#[test]
fn unknown_fields_are_refused_when_parsing() {
    let text = DEFAULT_PLAYBOOKS.replacen("due_days = 1", "due_dayz = 1", 1);
    let error = PlaybooksConfig::from_toml(&text).unwrap_err().to_string();
    assert!(error.contains("due_dayz"), "{error}");
}
