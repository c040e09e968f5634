//! Routing on the shipped `config/alerts.toml` over a hand-built three-level team: which
//! route each tier × severity × coverage takes, who holds each role, what is skipped and
//! said, the unowned queue, and interrupt vs digest.

use coco_actions::routing::{Hierarchy, Person, Recipient, Routing, route};
use coco_actions::rules::{AlertRule, AlertsConfig, DEFAULT_ALERTS, Role, Severity};

fn shipped() -> AlertsConfig {
    AlertsConfig::from_toml(DEFAULT_ALERTS).unwrap()
}

fn person(id: &str, name: &str, manager: Option<&str>, active: bool) -> Person {
    Person {
        csm_id: id.into(),
        name: name.into(),
        email: Some(format!("{id}@example.com")),
        manager_id: manager.map(str::to_string),
        team: Some("north".into()),
        active,
    }
}

/// Morgan (manager) ← Lee (team lead) ← Casey, Dana (inactive); Morgan ← Lena (inactive
/// team lead) ← Robin; Olive has no manager on record; Sam names himself as his own
/// manager (a CRM export quirk); Quinn and Ursula (inactive) work the unowned queue.
fn team() -> Hierarchy {
    Hierarchy::new(vec![
        person("mgr", "Morgan", None, true),
        person("lead", "Lee", Some("mgr"), true),
        person("casey", "Casey", Some("lead"), true),
        person("dana", "Dana", Some("lead"), false),
        person("lena", "Lena", Some("mgr"), false),
        person("robin", "Robin", Some("lena"), true),
        person("olive", "Olive", None, true),
        person("sam", "Sam", Some("sam"), true),
        person("quinn", "Quinn", None, true),
        person("ursula", "Ursula", None, false),
    ])
}

fn rule<'a>(config: &'a AlertsConfig, id: &str) -> &'a AlertRule {
    config.rule(id).unwrap_or_else(|| panic!("no rule {id}"))
}

fn ids(routing: &Routing) -> Vec<(Role, &str)> {
    routing
        .recipients
        .iter()
        .map(|r| (r.role, r.csm_id.as_str()))
        .collect()
}

#[test]
fn the_shipped_routing_table_has_the_four_routes_this_file_checks() {
    // If the shipped table changes, the cases below have to be re-read.
    let config = shipped();
    let table: Vec<(usize, usize, usize, Vec<Role>)> = config
        .routing
        .iter()
        .map(|r| {
            (
                r.tiers.len(),
                r.severities.len(),
                r.coverage.len(),
                r.notify.clone(),
            )
        })
        .collect();
    assert_eq!(
        table,
        vec![
            (1, 0, 2, vec![Role::Csm, Role::TeamLead, Role::Manager]),
            (1, 0, 0, vec![Role::Csm, Role::TeamLead]),
            (1, 1, 1, vec![Role::Csm, Role::TeamLead]),
            (0, 0, 0, vec![Role::Csm]),
        ]
    );
    assert_eq!(
        config.settings.digest_severities,
        vec![Severity::Low, Severity::Medium]
    );
    assert!(config.unowned.notify_csm_ids.is_empty());
}

/// (rule, coverage, route index, recipients, interrupt)
type RouteCase = (
    &'static str,
    Option<&'static str>,
    usize,
    Vec<(Role, &'static str)>,
    bool,
);

#[test]
fn each_tier_severity_and_coverage_takes_its_route_and_reaches_its_roles() {
    let config = shipped();
    let team = team();
    let all = vec![
        (Role::Csm, "casey"),
        (Role::TeamLead, "lead"),
        (Role::Manager, "mgr"),
    ];
    let csm_and_lead = all[..2].to_vec();
    let csm = all[..1].to_vec();
    // (rule, coverage) → (route index, recipients, interrupt)
    let cases: Vec<RouteCase> = vec![
        // escalate · high on a high- or mid-touch account: the whole chain.
        (
            "churn_risk_renewal",
            Some("high_touch"),
            0,
            all.clone(),
            true,
        ),
        (
            "red_health_renewal",
            Some("mid_touch"),
            0,
            all.clone(),
            true,
        ),
        // escalate elsewhere (tech touch, or no coverage model known): CSM and lead.
        (
            "churn_risk_renewal",
            Some("tech_touch"),
            1,
            csm_and_lead.clone(),
            true,
        ),
        ("churn_risk_renewal", None, 1, csm_and_lead.clone(), true),
        // intervene · high on high touch: CSM and lead.
        (
            "champion_departed",
            Some("high_touch"),
            2,
            csm_and_lead.clone(),
            true,
        ),
        (
            "downgrade_request",
            Some("high_touch"),
            2,
            csm_and_lead,
            true,
        ),
        // intervene · high elsewhere, intervene · medium anywhere: the CSM (catch-all).
        ("champion_departed", Some("mid_touch"), 3, csm.clone(), true),
        ("champion_departed", None, 3, csm.clone(), true),
        ("health_drop", Some("high_touch"), 3, csm.clone(), false),
        // watch: the CSM, batched.
        ("nps_detractor", Some("high_touch"), 3, csm.clone(), false),
        ("usage_decline", Some("tech_touch"), 3, csm.clone(), false),
        ("seat_limit", None, 3, csm, false),
    ];
    for (rule_id, coverage, want_route, want, interrupt) in cases {
        let got = route(
            &config,
            rule(&config, rule_id),
            coverage,
            Some("casey"),
            &team,
        );
        let at = format!("{rule_id} on {coverage:?}");
        assert_eq!(got.route, want_route, "{at}");
        assert_eq!(ids(&got), want, "{at}");
        assert_eq!(got.interrupt, interrupt, "{at}");
        assert!(got.notes.is_empty(), "{at}: {:?}", got.notes);
    }
}

#[test]
fn recipients_carry_the_names_and_emails_of_the_hierarchy() {
    let config = shipped();
    let got = route(
        &config,
        rule(&config, "churn_risk_renewal"),
        Some("high_touch"),
        Some("casey"),
        &team(),
    );
    assert_eq!(
        got.recipients[1],
        Recipient {
            role: Role::TeamLead,
            csm_id: "lead".into(),
            name: "Lee".into(),
            email: Some("lead@example.com".into()),
        }
    );
    assert_eq!(got.recipients[2].name, "Morgan");
}

#[test]
fn severity_decides_interrupt_or_digest_by_the_digest_severities() {
    let mut config = shipped();
    let team = team();
    let by_severity = |config: &AlertsConfig| -> Vec<(Severity, bool)> {
        ["usage_decline", "health_drop", "champion_departed"]
            .iter()
            .map(|id| {
                let rule = rule(config, id);
                let routing = route(config, rule, Some("high_touch"), Some("casey"), &team);
                (rule.severity, routing.interrupt)
            })
            .collect()
    };
    assert_eq!(
        by_severity(&config),
        vec![
            (Severity::Low, false),
            (Severity::Medium, false),
            (Severity::High, true),
        ]
    );
    // Only what is listed waits for the digest.
    config.settings.digest_severities = vec![Severity::Low];
    assert_eq!(
        by_severity(&config),
        vec![
            (Severity::Low, false),
            (Severity::Medium, true),
            (Severity::High, true),
        ]
    );
    config.settings.digest_severities.clear();
    assert!(by_severity(&config).iter().all(|(_, interrupt)| *interrupt));
}

#[test]
fn an_inactive_csm_is_skipped_and_the_alert_says_so() {
    let config = shipped();
    let got = route(
        &config,
        rule(&config, "churn_risk_renewal"),
        Some("high_touch"),
        Some("dana"),
        &team(),
    );
    // Dana left; her lead and his manager still hear about it.
    assert_eq!(
        ids(&got),
        vec![(Role::TeamLead, "lead"), (Role::Manager, "mgr")]
    );
    assert_eq!(got.notes, vec!["Dana (csm) is not active; not notified"]);

    // On a CSM-only route nobody is left, and the note is all there is.
    let watch = route(
        &config,
        rule(&config, "nps_detractor"),
        Some("high_touch"),
        Some("dana"),
        &team(),
    );
    assert!(watch.recipients.is_empty());
    assert_eq!(watch.notes, vec!["Dana (csm) is not active; not notified"]);
}

#[test]
fn an_inactive_team_lead_is_skipped_but_the_chain_goes_on_to_the_manager() {
    let config = shipped();
    let got = route(
        &config,
        rule(&config, "churn_risk_renewal"),
        Some("mid_touch"),
        Some("robin"),
        &team(),
    );
    assert_eq!(
        ids(&got),
        vec![(Role::Csm, "robin"), (Role::Manager, "mgr")]
    );
    assert_eq!(
        got.notes,
        vec!["Lena (team_lead) is not active; not notified"]
    );
}

#[test]
fn roles_nobody_holds_are_noted() {
    let config = shipped();
    let got = route(
        &config,
        rule(&config, "churn_risk_renewal"),
        Some("high_touch"),
        Some("olive"),
        &team(),
    );
    assert_eq!(ids(&got), vec![(Role::Csm, "olive")]);
    assert_eq!(
        got.notes,
        vec![
            "no team lead on record for olive",
            "no manager on record for olive"
        ]
    );
    // A two-level chain (lead with no manager above): the manager is what is missing.
    let config = shipped();
    let short = Hierarchy::new(vec![
        person("lead", "Lee", None, true),
        person("casey", "Casey", Some("lead"), true),
    ]);
    let got = route(
        &config,
        rule(&config, "churn_risk_renewal"),
        Some("high_touch"),
        Some("casey"),
        &short,
    );
    assert_eq!(
        ids(&got),
        vec![(Role::Csm, "casey"), (Role::TeamLead, "lead")]
    );
    assert_eq!(got.notes, vec!["no manager on record for casey"]);
}

#[test]
fn a_row_naming_itself_as_its_manager_is_not_a_chain() {
    let team = team();
    assert_eq!(team.holder("sam", Role::Csm).unwrap().csm_id, "sam");
    assert_eq!(team.holder("sam", Role::TeamLead), None);
    assert_eq!(team.holder("sam", Role::Manager), None);
    let config = shipped();
    let got = route(
        &config,
        rule(&config, "churn_risk_renewal"),
        Some("high_touch"),
        Some("sam"),
        &team,
    );
    // Sam once, as the CSM — not again as his own lead and manager.
    assert_eq!(ids(&got), vec![(Role::Csm, "sam")]);
    assert_eq!(
        got.notes,
        vec![
            "no team lead on record for sam",
            "no manager on record for sam"
        ]
    );
}

#[test]
fn the_hierarchy_resolves_three_levels() {
    let team = team();
    let holder = |owner: &str, role: Role| team.holder(owner, role).map(|p| p.csm_id.as_str());
    assert_eq!(holder("casey", Role::Csm), Some("casey"));
    assert_eq!(holder("casey", Role::TeamLead), Some("lead"));
    assert_eq!(holder("casey", Role::Manager), Some("mgr"));
    // The lead's own chain is one shorter.
    assert_eq!(holder("lead", Role::TeamLead), Some("mgr"));
    assert_eq!(holder("lead", Role::Manager), None);
    assert_eq!(holder("nobody", Role::Csm), None);
    assert_eq!(team.people().count(), 10);
}

#[test]
fn unowned_accounts_go_to_the_unowned_queue() {
    let mut config = shipped();
    config.unowned.notify_csm_ids = vec!["quinn".into(), "ursula".into(), "ghost".into()];
    let team = team();
    // No CSM: the queue, whatever the route would have said (the chain has no start).
    let got = route(
        &config,
        rule(&config, "churn_risk_renewal"),
        Some("high_touch"),
        None,
        &team,
    );
    assert_eq!(got.route, 0);
    assert!(got.interrupt);
    assert_eq!(ids(&got), vec![(Role::Csm, "quinn")]);
    assert_eq!(
        got.notes,
        vec![
            "the account has no CSM; sent to the unowned queue",
            "Ursula (unowned queue) is not active; not notified",
            "unowned queue: ghost is not in the CSM team; not notified",
        ]
    );
    // An owner id the team does not know is treated as unowned, and said.
    let got = route(
        &config,
        rule(&config, "nps_detractor"),
        None,
        Some("former_csm"),
        &team,
    );
    assert_eq!(got.route, 3);
    assert!(!got.interrupt);
    assert_eq!(ids(&got), vec![(Role::Csm, "quinn")]);
    assert_eq!(
        got.notes[0],
        "owner former_csm is not in the CSM team; sent to the unowned queue"
    );
}

#[test]
fn an_empty_unowned_queue_notifies_nobody_and_says_so() {
    // The shipped file names nobody: the alert is still recorded, with why nobody heard.
    let config = shipped();
    let got = route(
        &config,
        rule(&config, "health_drop"),
        Some("high_touch"),
        None,
        &team(),
    );
    assert!(got.recipients.is_empty());
    assert_eq!(got.notes.len(), 2);
    assert_eq!(
        got.notes[0],
        "the account has no CSM; sent to the unowned queue"
    );
    assert!(got.notes[1].contains("notify_csm_ids"), "{:?}", got.notes);
}

#[test]
fn no_matching_route_falls_back_to_the_csm() {
    // Without the catch-all (which validate requires), an unmatched alert still reaches
    // its CSM, and the route index says no route matched.
    let mut config = shipped();
    config.routing.pop();
    let got = route(
        &config,
        rule(&config, "nps_detractor"),
        Some("high_touch"),
        Some("casey"),
        &team(),
    );
    assert_eq!(got.route, config.routing.len());
    assert_eq!(ids(&got), vec![(Role::Csm, "casey")]);
}
