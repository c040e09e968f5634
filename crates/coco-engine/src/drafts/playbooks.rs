//! Playbook documents (catalogue G3): an account's playbooks as they apply now, one
//! playbook task's email, and the handbook a new CSM reads — all written from the
//! configured playbooks, alert rules, journey stages, coverage tiers and escalation tree,
//! with the account's own numbers where there is an account.
//!
//! The facts are built by pure functions over the loaded configuration and what the
//! store said (alerts, the alert run's inputs, the CS team); only the `pub fn`s at the
//! top read the store. The keys are listed in `docs/drafts.md`.

use chrono::NaiveDate;
use coco_actions::playbooks::{
    AccountPlace, EscalationNode, PlannedTask, Playbook, PlaybooksConfig, TaskTemplate, escalate,
    plan_tasks,
};
use coco_actions::routing::Hierarchy;
use coco_actions::rules::{AlertRule, AlertsConfig, Condition, Evidence, RuleInputs, evaluate};
use coco_drafts::document::Locale;
use coco_drafts::draft::{Draft, DraftSpec, compose};
use coco_drafts::facts::Facts;
use coco_drafts::templates::SHIPPED;
use coco_insights::values::SideValues;
use coco_store::Store;
use coco_store::actions::{AlertFilter, AlertRow};

use super::account::{self, cite};
use super::{Drafting, check_length, draft_error, layout};
use crate::actions::ActionsConfig;
use crate::actions::alerts::{AlertInputs, StoredRouting, hierarchy, load_inputs};
use crate::{Config, EngineError};

/// The statuses of an alert that is still being worked on.
const OPEN_STATUSES: [&str; 3] = ["open", "acknowledged", "snoozed"];

/// `coco draft playbook`: the playbooks of one account.
#[derive(Debug, Clone)]
pub struct PlaybookRequest {
    pub account_id: String,
    pub as_of: NaiveDate,
    pub locale: Locale,
    /// This playbook (by id) whether or not an alert runs it; None: the ones the
    /// account's open alerts run.
    pub playbook: Option<String>,
}

/// `coco draft task`: one playbook task's email to an account.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    pub account_id: String,
    pub as_of: NaiveDate,
    pub locale: Locale,
    /// The task's template id (`health_check_in`), written as `task_<id>.md`.
    pub template: String,
}

/// The task template ids there are: the shipped `task_*.md` and the user's.
pub fn task_template_ids(drafting: &Drafting) -> Vec<String> {
    let mut ids: Vec<String> = SHIPPED
        .iter()
        .map(|(path, _)| *path)
        .chain(drafting.overrides.iter().map(String::as_str))
        .filter_map(|path| path.split_once('/').map(|(_, file)| file))
        .filter_map(|file| file.strip_prefix("task_")?.strip_suffix(".md"))
        .map(str::to_string)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// One task's email to an account, from the account's facts; refused when the template
/// id is unknown, a number is not grounded or it is longer than `[outreach] max_words`.
pub fn task_email(
    store: &Store,
    config: &Config,
    drafting: &Drafting,
    request: &TaskRequest,
) -> Result<Draft, EngineError> {
    let known = task_template_ids(drafting);
    if !known.contains(&request.template) {
        return Err(EngineError::Invalid(format!(
            "unknown task template `{}` (expected one of {})",
            request.template,
            known.join(", ")
        )));
    }
    let gathered = gather(store, config, drafting, &request.account_id, request.as_of)?;
    let draft = compose(
        &drafting.templates,
        DraftSpec {
            template: format!("task_{}", request.template),
            locale: request.locale,
            facts: gathered.facts,
            charts: gathered.charts,
            layout: layout(serde_json::json!({})),
        },
    )
    .map_err(draft_error)?;
    check_length(&draft, drafting.config.outreach.max_words)?;
    Ok(draft)
}

/// The playbooks of an account as they apply now: triggered by its open alerts (or the
/// one named), the variant for its stage and segment, the trigger with the account's
/// current values, the tasks with owners and due dates, success criteria, the task
/// emails written for the account and the escalation tree.
pub fn playbook_document(
    store: &Store,
    config: &Config,
    actions: &ActionsConfig,
    drafting: &Drafting,
    request: &PlaybookRequest,
) -> Result<Draft, EngineError> {
    if let Some(id) = &request.playbook
        && actions.playbooks.playbook(id).is_none()
    {
        return Err(EngineError::Invalid(format!(
            "unknown playbook `{id}` (expected one of {})",
            actions
                .playbooks
                .playbooks
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut gathered = gather(store, config, drafting, &request.account_id, request.as_of)?;
    let inputs = load_inputs(store, config, actions, request.as_of)?;
    let index = inputs.base.account(&request.account_id)?;
    let team = hierarchy(store)?;
    let mut alerts = store.alerts(&AlertFilter {
        statuses: OPEN_STATUSES.iter().map(|s| s.to_string()).collect(),
        account_id: Some(request.account_id.clone()),
        opened_on_or_before: Some(request.as_of),
        ..AlertFilter::default()
    })?;
    alerts.sort_by_key(|a| (severity_rank(&a.severity), a.opened_on, a.alert_id));
    let observed = observe(&actions.alerts, &inputs, index);
    let escalation_values = escalation_values(&actions.playbooks, &inputs, index);
    let values = inputs.base.values();
    let place = AccountPlace {
        stage: inputs.stages.get(index).and_then(|s| s.as_deref()),
        segment: values.text("segment", index),
        owner: values.text("owner_csm_id", index),
    };
    let runs = playbook_runs(
        &actions.alerts,
        &actions.playbooks,
        &alerts,
        request.playbook.as_deref(),
    );
    let origins = Origins::of(config, actions);
    let context = AccountContext {
        as_of: inputs.base.as_of(),
        place: &place,
        hierarchy: &team,
        observed: &observed,
        escalation_values: &escalation_values,
        open_alerts: alerts.len() as u32,
    };
    account_playbook_facts(
        &mut gathered.facts,
        config,
        actions,
        &origins,
        &context,
        &runs,
    );

    // Every task email on its own first: each is a message a CSM may send as it is, so
    // each must pass grounding and the outreach length by itself.
    let mut emails: Vec<(&str, &str)> = Vec::new();
    for (playbook, _) in &runs {
        for task in playbook.tasks_for(&place) {
            if let Some(template) = &task.template
                && !emails.iter().any(|(id, _)| id == template)
            {
                emails.push((template, &task.title));
            }
        }
    }
    let mut written = Vec::new();
    for (template, task) in &emails {
        let email = compose(
            &drafting.templates,
            DraftSpec {
                template: format!("task_{template}"),
                locale: request.locale,
                facts: gathered.facts.clone(),
                charts: Default::default(),
                layout: layout(serde_json::json!({})),
            },
        )
        .map_err(draft_error)?;
        check_length(&email, drafting.config.outreach.max_words)?;
        written.push(serde_json::json!({
            "template": template,
            "task": task,
            "markdown": demote_headings(&email.markdown),
        }));
    }
    compose(
        &drafting.templates,
        DraftSpec {
            template: "playbook".to_string(),
            locale: request.locale,
            facts: gathered.facts,
            charts: gathered.charts,
            layout: layout(serde_json::json!({
                "playbooks": [], "escalation": [], "chain": {},
                "named": request.playbook.is_some(), "emails": written,
            })),
        },
    )
    .map_err(draft_error)
}

/// An email written inside the playbook document: its headings three levels down, under
/// the document's own.
fn demote_headings(markdown: &str) -> String {
    markdown
        .lines()
        .map(|line| {
            if line.starts_with('#') {
                format!("###{line}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The CSM handbook: how this team works, from the configuration alone.
pub fn handbook(
    config: &Config,
    actions: &ActionsConfig,
    drafting: &Drafting,
    locale: Locale,
) -> Result<Draft, EngineError> {
    let facts = handbook_facts(
        config,
        actions,
        &Origins::of(config, actions),
        &task_template_ids(drafting),
    );
    compose(
        &drafting.templates,
        DraftSpec {
            template: "handbook".to_string(),
            locale,
            facts,
            charts: Default::default(),
            layout: serde_json::json!({
                "playbooks": [], "stages": [], "tiers": [], "rules": [], "routing": [],
                "escalation": [], "segments": [], "alerting": {"digest_severities": []},
            }),
        },
    )
    .map_err(draft_error)
}

fn gather(
    store: &Store,
    config: &Config,
    drafting: &Drafting,
    account_id: &str,
    as_of: NaiveDate,
) -> Result<account::AccountFacts, EngineError> {
    let qbr = &drafting.config.qbr;
    account::gather(
        store,
        config,
        account_id,
        as_of,
        qbr.period_days,
        &qbr.trend_metrics,
        qbr.chart_weeks,
    )
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "high" | "critical" => 0,
        "medium" => 1,
        _ => 2,
    }
}

// ------------------------------------------------------------------ what was read

/// Where each configuration file came from, as citations name it.
struct Origins {
    playbooks: String,
    alerts: String,
    journey: String,
    segments: String,
}

impl Origins {
    fn of(config: &Config, actions: &ActionsConfig) -> Origins {
        let file = |origin: &str, name: &str| {
            if origin == "shipped defaults" {
                format!("config/{name}")
            } else {
                origin.to_string()
            }
        };
        Origins {
            playbooks: file(&actions.playbooks_origin, "playbooks.toml"),
            alerts: file(&actions.alerts_origin, "alerts.toml"),
            journey: file(&config.journey_origin, "journey.toml"),
            segments: file(&config.segments_origin, "segments.toml"),
        }
    }
}

/// One condition of a rule for one account as of the run date: its value now (and
/// before, for a change), the events in its window, and whether it holds.
#[derive(Debug, Clone, Default)]
struct Observed {
    now: Option<f64>,
    before: Option<(NaiveDate, f64)>,
    text: Option<String>,
    evidence: Option<Evidence>,
}

/// Every condition of every rule, for the account at `index`: `[rule][condition]`
/// (`when` then `when_any`). Whether a condition holds is the rules' own evaluation,
/// run with each condition as a rule of its own.
fn observe(alerts: &AlertsConfig, inputs: &AlertInputs, index: usize) -> Vec<Vec<Observed>> {
    let values = inputs.base.values();
    let conditions: Vec<Vec<&Condition>> = alerts
        .rules
        .iter()
        .map(|r| r.when.iter().chain(&r.when_any).collect())
        .collect();
    let mut single = alerts.clone();
    single.rules = conditions
        .iter()
        .enumerate()
        .flat_map(|(r, list)| {
            list.iter()
                .enumerate()
                .map(move |(c, condition)| AlertRule {
                    id: format!("{r}.{c}"),
                    when: vec![(*condition).clone()],
                    when_any: Vec::new(),
                    ..alerts.rules[r].clone()
                })
        })
        .collect();
    let firings = evaluate(
        &single,
        &RuleInputs {
            as_of: inputs.base.as_of(),
            values,
            past: &inputs.past,
            events: &inputs.events,
        },
    );
    let mut out: Vec<Vec<Observed>> = conditions
        .iter()
        .map(|list| {
            list.iter()
                .map(|condition| match condition {
                    Condition::Threshold { source, .. } => Observed {
                        now: values.value(source, index),
                        ..Observed::default()
                    },
                    Condition::Change { source, days, .. } => Observed {
                        now: values.value(source, index),
                        before: inputs.past.get(days).and_then(|p| {
                            let before = p.values.column(source)?.get(index).copied()??;
                            Some((p.date, before))
                        }),
                        ..Observed::default()
                    },
                    Condition::Attribute { attribute, .. } => Observed {
                        text: values.text(attribute, index).map(str::to_string),
                        ..Observed::default()
                    },
                    Condition::Event { .. } => Observed::default(),
                })
                .collect()
        })
        .collect();
    for firing in firings.into_iter().filter(|f| f.account == index) {
        let Some((r, c)) = single.rules[firing.rule]
            .id
            .split_once('.')
            .and_then(|(r, c)| Some((r.parse::<usize>().ok()?, c.parse::<usize>().ok()?)))
        else {
            continue;
        };
        if let Some(slot) = out.get_mut(r).and_then(|list| list.get_mut(c)) {
            slot.evidence = firing.evidence.into_iter().next();
        }
    }
    out
}

/// The numbers the escalation tree names, for the one account (as a one-account column
/// each, which is what [`escalate`] reads).
fn escalation_values(
    playbooks: &PlaybooksConfig,
    inputs: &AlertInputs,
    index: usize,
) -> SideValues {
    let values = inputs.base.values();
    let mut numbers = SideValues::default();
    for condition in playbooks.escalation.iter().flat_map(|n| &n.when) {
        if !numbers.contains(&condition.source) {
            numbers.insert(
                &condition.source,
                vec![values.value(&condition.source, index)],
            );
        }
    }
    numbers
}

/// The playbooks to write about: the named one (with the alert that runs it, if one
/// does), else one per playbook the open alerts run, by their most severe alert.
fn playbook_runs<'a>(
    alerts_config: &'a AlertsConfig,
    playbooks: &'a PlaybooksConfig,
    alerts: &'a [AlertRow],
    named: Option<&str>,
) -> Vec<(&'a Playbook, Option<&'a AlertRow>)> {
    let run_by = |alert: &AlertRow| {
        alerts_config
            .rule(&alert.rule_id)
            .and_then(|rule| playbooks.for_rule(rule))
    };
    let mut runs: Vec<(&Playbook, Option<&AlertRow>)> = Vec::new();
    if let Some(id) = named {
        if let Some(playbook) = playbooks.playbook(id) {
            let alert = alerts
                .iter()
                .find(|a| run_by(a).is_some_and(|p| p.id == id));
            runs.push((playbook, alert));
        }
        return runs;
    }
    for alert in alerts {
        if let Some(playbook) = run_by(alert)
            && !runs.iter().any(|(p, _)| p.id == playbook.id)
        {
            runs.push((playbook, Some(alert)));
        }
    }
    runs
}

// ------------------------------------------------------------------------ facts

/// What an account's playbook facts are computed from, besides the configuration.
struct AccountContext<'a> {
    as_of: NaiveDate,
    place: &'a AccountPlace<'a>,
    hierarchy: &'a Hierarchy,
    observed: &'a [Vec<Observed>],
    escalation_values: &'a SideValues,
    open_alerts: u32,
}

fn role_holder(hierarchy: &Hierarchy, owner: Option<&str>, role: &str) -> Option<String> {
    let role = role.parse().ok()?;
    hierarchy.holder(owner?, role).map(|p| p.name.clone())
}

fn account_playbook_facts(
    facts: &mut Facts,
    config: &Config,
    actions: &ActionsConfig,
    origins: &Origins,
    context: &AccountContext<'_>,
    runs: &[(&Playbook, Option<&AlertRow>)],
) {
    let at = Some(context.as_of);
    let place = context.place;
    if let Some(stage) = place.stage {
        facts.text("account.stage", stage, cite("journey stage", at, None));
        if let Some(def) = config.journey.stages.iter().find(|s| s.key == stage) {
            facts.text(
                "account.stage_label",
                &def.label,
                cite(&format!("{} stages", origins.journey), None, None),
            );
        }
    }
    facts.number(
        "account.open_alerts",
        f64::from(context.open_alerts),
        cite("alerts (open, acknowledged, snoozed)", at, None),
    );
    for role in ["csm", "team_lead", "manager"] {
        if let Some(name) = role_holder(context.hierarchy, place.owner, role) {
            facts.text(
                &format!("chain.{role}"),
                name,
                cite("csms.manager_id (the CSM hierarchy)", None, None),
            );
        }
    }
    for (n, (playbook, alert)) in runs.iter().enumerate() {
        let key = format!("playbooks.{n}");
        playbook_header(facts, &key, playbook, origins);
        if let Some(variant) = playbook.variant_for(place) {
            if !variant.stages.is_empty()
                && let Some(stage) = place.stage
            {
                facts.text(
                    &format!("{key}.variant_stage"),
                    stage,
                    cite(&format!("{} variants", origins.playbooks), at, None),
                );
            }
            if !variant.segments.is_empty()
                && let Some(segment) = place.segment
            {
                facts.text(
                    &format!("{key}.variant_segment"),
                    segment,
                    cite(&format!("{} variants", origins.playbooks), at, None),
                );
            }
        }
        // The rules that trigger it: the alert's, or (a playbook named without an alert)
        // every rule that would.
        let rules: Vec<&AlertRule> = match alert {
            Some(alert) => actions.alerts.rule(&alert.rule_id).into_iter().collect(),
            None => actions
                .alerts
                .rules
                .iter()
                .filter(|r| {
                    actions
                        .playbooks
                        .for_rule(r)
                        .is_some_and(|p| p.id == playbook.id)
                })
                .collect(),
        };
        for (t, rule) in rules.iter().enumerate() {
            let rule_key = format!("{key}.triggers.{t}");
            rule_facts(facts, &rule_key, rule, &actions.alerts, origins);
            let r = actions
                .alerts
                .rules
                .iter()
                .position(|x| x.id == rule.id)
                .unwrap_or_default();
            let observed = context.observed.get(r).map_or(&[][..], Vec::as_slice);
            for (c, condition) in rule.when.iter().chain(&rule.when_any).enumerate() {
                let condition_key = format!("{rule_key}.conditions.{c}");
                condition_facts(facts, &condition_key, condition, config, origins);
                if let Some(seen) = observed.get(c) {
                    observed_facts(facts, &condition_key, condition, seen, context.as_of);
                }
            }
        }
        let started_on = alert.map_or(context.as_of, |a| a.opened_on);
        facts.date(
            &format!("{key}.started_on"),
            started_on,
            match alert {
                Some(a) => cite(
                    "alerts.opened_on",
                    None,
                    Some(format!("alerts {}", a.alert_id)),
                ),
                None => cite("draft date (no alert runs this playbook)", at, None),
            },
        );
        if let Some(alert) = alert {
            alert_facts(facts, &key, alert, context);
        }
        for (k, task) in plan_tasks(playbook, place, started_on, context.hierarchy)
            .iter()
            .enumerate()
        {
            let task_key = format!("{key}.tasks.{k}");
            let source = format!("{} playbooks.{}.tasks", origins.playbooks, playbook.id);
            facts.number(
                &format!("{task_key}.step"),
                f64::from(task.step),
                cite(&source, None, None),
            );
            planned_task_facts(
                facts,
                &task_key,
                task,
                context.hierarchy,
                &source,
                "due_days",
            );
            if let Some(template) = playbook
                .tasks_for(place)
                .get(k)
                .map(|t: &TaskTemplate| t.due_days)
            {
                facts.number(
                    &format!("{task_key}.due_days"),
                    f64::from(template),
                    cite(&source, None, None),
                );
            }
            if !task.instructions.is_empty() {
                facts.text(
                    &format!("{task_key}.instructions"),
                    &task.instructions,
                    cite(&source, None, None),
                );
            }
            if let Some(template) = &task.template {
                facts.text(
                    &format!("{task_key}.template"),
                    template,
                    cite(&source, None, None),
                );
            }
        }
        // What the escalation tree decides for this playbook's alert (or, without one,
        // for an alert of its first trigger opened today).
        if let Some(rule) = rules.first() {
            let decided = escalate(
                &actions.playbooks,
                rule,
                context.escalation_values,
                0,
                context.open_alerts,
                place,
                started_on,
                context.hierarchy,
            );
            for (e, node) in decided.nodes.iter().enumerate() {
                facts.text(
                    &format!("{key}.escalated.{e}.name"),
                    &node.name,
                    cite(&format!("{} escalation", origins.playbooks), at, None),
                );
            }
            for (e, task) in decided.tasks.iter().enumerate() {
                let task_key = format!("{key}.escalation_tasks.{e}");
                let source = format!("{} escalation", origins.playbooks);
                planned_task_facts(
                    facts,
                    &task_key,
                    task,
                    context.hierarchy,
                    &source,
                    "task_due_days",
                );
            }
        }
    }
    for (e, node) in actions.playbooks.escalation.iter().enumerate() {
        let key = format!("escalation.{e}");
        escalation_node_facts(facts, &key, node, origins);
        for (r, role) in node.involve.iter().enumerate() {
            if let Some(name) = role_holder(context.hierarchy, place.owner, role.as_str()) {
                facts.text(
                    &format!("{key}.involve.{r}.name"),
                    name,
                    cite("csms.manager_id (the CSM hierarchy)", None, None),
                );
            }
        }
        if let Some(role) = node.task_owner
            && let Some(name) = role_holder(context.hierarchy, place.owner, role.as_str())
        {
            facts.text(
                &format!("{key}.task_owner_name"),
                name,
                cite("csms.manager_id (the CSM hierarchy)", None, None),
            );
        }
        for (c, condition) in node.when.iter().enumerate() {
            let value = context
                .escalation_values
                .column(&condition.source)
                .and_then(|c| c.first().copied().flatten());
            if let Some(value) = value {
                facts.number(
                    &format!("{key}.when.{c}.now"),
                    value,
                    cite(&condition.source, at, None),
                );
                let holds = condition.at_least.is_none_or(|min| value >= min)
                    && condition.at_most.is_none_or(|max| value <= max);
                facts.text(
                    &format!("{key}.when.{c}.holds"),
                    if holds { "yes" } else { "no" },
                    cite(&condition.source, at, None),
                );
            }
        }
    }
}

/// A planned task's title, owner (role, and the person holding it) and due date; the
/// due date cited to the `due_field` it was counted with.
fn planned_task_facts(
    facts: &mut Facts,
    key: &str,
    task: &PlannedTask,
    hierarchy: &Hierarchy,
    source: &str,
    due_field: &str,
) {
    facts.text(
        &format!("{key}.title"),
        &task.title,
        cite(source, None, None),
    );
    facts.text(
        &format!("{key}.owner_role"),
        task.owner_role.as_str(),
        cite(source, None, None),
    );
    if let Some(person) = task
        .owner_csm_id
        .as_deref()
        .and_then(|id| hierarchy.person(id))
    {
        facts.text(
            &format!("{key}.owner"),
            &person.name,
            cite(
                "csms.name (the role's holder in the CSM hierarchy)",
                None,
                Some(format!("csms {}", person.csm_id)),
            ),
        );
    }
    facts.date(
        &format!("{key}.due_on"),
        task.due_on,
        cite(&format!("{source} {due_field} after the start"), None, None),
    );
}

fn alert_facts(facts: &mut Facts, key: &str, alert: &AlertRow, context: &AccountContext<'_>) {
    let record = Some(format!("alerts {}", alert.alert_id));
    facts.text(
        &format!("{key}.alert.headline"),
        &alert.headline,
        cite("alerts.headline", Some(alert.last_seen_on), record.clone()),
    );
    facts.text(
        &format!("{key}.alert.status"),
        &alert.status,
        cite("alerts.status", Some(context.as_of), record.clone()),
    );
    facts.date(
        &format!("{key}.alert.opened_on"),
        alert.opened_on,
        cite("alerts.opened_on", None, record.clone()),
    );
    facts.date(
        &format!("{key}.alert.last_seen_on"),
        alert.last_seen_on,
        cite("alerts.last_seen_on", None, record.clone()),
    );
    facts.number(
        &format!("{key}.alert.days_open"),
        (context.as_of - alert.opened_on).num_days() as f64,
        cite(
            "days since alerts.opened_on",
            Some(context.as_of),
            record.clone(),
        ),
    );
    facts.text(
        &format!("{key}.alert.delivery"),
        if alert.interrupt {
            "interrupt"
        } else {
            "digest"
        },
        cite("alerts.interrupt", None, record.clone()),
    );
    // Who was told when it opened, as the run stored it.
    if let Ok(routing) = serde_json::from_str::<StoredRouting>(&alert.recipients) {
        for (r, recipient) in routing.everyone().enumerate() {
            let recipient_key = format!("{key}.alert.notified.{r}");
            facts.text(
                &format!("{recipient_key}.name"),
                &recipient.name,
                cite("alerts.recipients", None, record.clone()),
            );
            facts.text(
                &format!("{recipient_key}.role"),
                recipient.role.as_str(),
                cite("alerts.recipients", None, record.clone()),
            );
        }
    }
}

fn playbook_header(facts: &mut Facts, key: &str, playbook: &Playbook, origins: &Origins) {
    let source = format!("{} playbooks.{}", origins.playbooks, playbook.id);
    facts.text(
        &format!("{key}.id"),
        &playbook.id,
        cite(&source, None, None),
    );
    facts.text(
        &format!("{key}.name"),
        &playbook.name,
        cite(&source, None, None),
    );
    if let Some(success) = &playbook.success {
        facts.text(
            &format!("{key}.success"),
            success,
            cite(&format!("{source}.success"), None, None),
        );
    }
}

fn rule_facts(
    facts: &mut Facts,
    key: &str,
    rule: &AlertRule,
    alerts: &AlertsConfig,
    origins: &Origins,
) {
    let source = format!("{} rules.{}", origins.alerts, rule.id);
    let cited = || cite(&source, None, None);
    facts.text(&format!("{key}.rule"), &rule.id, cited());
    facts.text(&format!("{key}.name"), &rule.name, cited());
    facts.text(&format!("{key}.description"), &rule.description, cited());
    facts.text(&format!("{key}.tier"), rule.tier.as_str(), cited());
    facts.text(&format!("{key}.severity"), rule.severity.as_str(), cited());
    facts.text(
        &format!("{key}.delivery"),
        if alerts.settings.digest_severities.contains(&rule.severity) {
            "digest"
        } else {
            "interrupt"
        },
        cite(
            &format!("{} settings.digest_severities", origins.alerts),
            None,
            None,
        ),
    );
    facts.number(
        &format!("{key}.cooldown_days"),
        f64::from(rule.cooldown_days.unwrap_or(alerts.settings.cooldown_days)),
        cite(&format!("{} cooldown_days", origins.alerts), None, None),
    );
}

/// How a value of `source` reads: `fraction` (shown as a percentage), else a unit.
fn unit_of(config: &Config, source: &str) -> String {
    match source {
        "churn_probability" => "fraction".to_string(),
        "health_score" => "points".to_string(),
        "arr" => "money".to_string(),
        "days_to_renewal" | "tenure_days" => "days".to_string(),
        _ => config
            .metric_metas()
            .into_iter()
            .find(|m| m.name == source)
            .map(|m| m.unit)
            .unwrap_or_default(),
    }
}

/// A condition as configured: its kind, what it reads and its bounds.
fn condition_facts(
    facts: &mut Facts,
    key: &str,
    condition: &Condition,
    config: &Config,
    origins: &Origins,
) {
    let source = format!("{} rules.when", origins.alerts);
    let cited = || cite(&source, None, None);
    let bounds = |facts: &mut Facts, at_least: &Option<f64>, at_most: &Option<f64>| {
        if let Some(v) = at_least {
            facts.number(&format!("{key}.at_least"), *v, cited());
        }
        if let Some(v) = at_most {
            facts.number(&format!("{key}.at_most"), *v, cited());
        }
    };
    match condition {
        Condition::Threshold {
            source,
            at_least,
            at_most,
        } => {
            facts.text(&format!("{key}.kind"), "threshold", cited());
            facts.text(&format!("{key}.source"), source, cited());
            facts.text(&format!("{key}.unit"), unit_of(config, source), cited());
            bounds(facts, at_least, at_most);
        }
        Condition::Change {
            source,
            days,
            at_least,
            at_most,
        } => {
            facts.text(&format!("{key}.kind"), "change", cited());
            facts.text(&format!("{key}.source"), source, cited());
            facts.text(&format!("{key}.unit"), unit_of(config, source), cited());
            facts.number(&format!("{key}.days"), f64::from(*days), cited());
            bounds(facts, at_least, at_most);
        }
        Condition::Event {
            event,
            within_days,
            min_count,
        } => {
            facts.text(&format!("{key}.kind"), "event", cited());
            facts.text(&format!("{key}.event"), event, cited());
            facts.number(
                &format!("{key}.within_days"),
                f64::from(*within_days),
                cited(),
            );
            facts.number(&format!("{key}.min_count"), f64::from(*min_count), cited());
        }
        Condition::Attribute { attribute, values } => {
            facts.text(&format!("{key}.kind"), "attribute", cited());
            facts.text(&format!("{key}.attribute"), attribute, cited());
            facts.text(&format!("{key}.values"), values.join(", "), cited());
        }
    }
}

/// The account's side of a condition: its values now, and whether the condition holds.
fn observed_facts(
    facts: &mut Facts,
    key: &str,
    condition: &Condition,
    observed: &Observed,
    as_of: NaiveDate,
) {
    let at = Some(as_of);
    let name = match condition {
        Condition::Threshold { source, .. } | Condition::Change { source, .. } => source.clone(),
        Condition::Event { event, .. } => format!("{event} events"),
        Condition::Attribute { attribute, .. } => format!("accounts.{attribute}"),
    };
    facts.text(
        &format!("{key}.holds"),
        if observed.evidence.is_some() {
            "yes"
        } else {
            "no"
        },
        cite("alert rule evaluation", at, None),
    );
    if let Some(now) = observed.now {
        facts.number(&format!("{key}.now"), now, cite(&name, at, None));
    }
    if let Some((date, before)) = observed.before {
        facts.number(
            &format!("{key}.before"),
            before,
            cite(&name, Some(date), None),
        );
        facts.date(
            &format!("{key}.before_on"),
            date,
            cite("snapshot.as_of", Some(date), None),
        );
        if let Some(now) = observed.now {
            facts.number(
                &format!("{key}.change"),
                now - before,
                cite(&format!("{name} change since {date}"), at, None),
            );
        }
    }
    if let Some(text) = &observed.text {
        facts.text(&format!("{key}.now_text"), text, cite(&name, at, None));
    }
    if let (Condition::Event { .. }, Some(evidence)) = (condition, &observed.evidence) {
        facts.number(
            &format!("{key}.count"),
            evidence.events.len() as f64,
            cite(&name, at, None),
        );
        if let Some(latest) = evidence.events.iter().max_by_key(|e| e.on) {
            let record = Some(format!("{} {}", latest.table, latest.row_id));
            facts.date(
                &format!("{key}.latest_on"),
                latest.on,
                cite(&name, None, record.clone()),
            );
            if !latest.detail.is_empty() {
                facts.text(
                    &format!("{key}.latest_detail"),
                    &latest.detail,
                    cite(&name, None, record),
                );
            }
        }
    }
}

fn escalation_node_facts(facts: &mut Facts, key: &str, node: &EscalationNode, origins: &Origins) {
    let source = format!("{} escalation", origins.playbooks);
    let cited = || cite(&source, None, None);
    facts.text(&format!("{key}.name"), &node.name, cited());
    for (i, tier) in node.tiers.iter().enumerate() {
        facts.text(&format!("{key}.tiers.{i}"), tier.as_str(), cited());
    }
    for (i, severity) in node.severities.iter().enumerate() {
        facts.text(&format!("{key}.severities.{i}"), severity.as_str(), cited());
    }
    for (c, condition) in node.when.iter().enumerate() {
        let condition_key = format!("{key}.when.{c}");
        facts.text(
            &format!("{condition_key}.source"),
            &condition.source,
            cited(),
        );
        if let Some(v) = condition.at_least {
            facts.number(&format!("{condition_key}.at_least"), v, cited());
        }
        if let Some(v) = condition.at_most {
            facts.number(&format!("{condition_key}.at_most"), v, cited());
        }
    }
    if let Some(min) = node.open_alerts_at_least {
        facts.number(
            &format!("{key}.open_alerts_at_least"),
            f64::from(min),
            cited(),
        );
    }
    for (i, role) in node.involve.iter().enumerate() {
        facts.text(&format!("{key}.involve.{i}.role"), role.as_str(), cited());
    }
    if let Some(task) = &node.task {
        facts.text(&format!("{key}.task"), task, cited());
    }
    if let Some(role) = node.task_owner {
        facts.text(&format!("{key}.task_owner"), role.as_str(), cited());
    }
    if node.task.is_some() {
        // The tree's default when a node gives no `task_due_days` (coco-actions).
        facts.number(
            &format!("{key}.task_due_days"),
            f64::from(node.task_due_days.unwrap_or(3)),
            cited(),
        );
    }
    facts.text(
        &format!("{key}.stop"),
        if node.stop { "yes" } else { "no" },
        cited(),
    );
}

fn tasks_facts(facts: &mut Facts, key: &str, tasks: &[TaskTemplate], source: &str) {
    let cited = || cite(source, None, None);
    for (k, task) in tasks.iter().enumerate() {
        let task_key = format!("{key}.{k}");
        facts.text(&format!("{task_key}.title"), &task.title, cited());
        facts.text(
            &format!("{task_key}.owner_role"),
            task.owner.as_str(),
            cited(),
        );
        facts.number(
            &format!("{task_key}.due_days"),
            f64::from(task.due_days),
            cited(),
        );
        if !task.instructions.is_empty() {
            facts.text(
                &format!("{task_key}.instructions"),
                &task.instructions,
                cited(),
            );
        }
        if let Some(template) = &task.template {
            facts.text(&format!("{task_key}.template"), template, cited());
        }
    }
}

/// The handbook's facts: every playbook with its triggers, tasks and variants; the
/// journey's stages; the coverage tiers; every alert rule; routing and escalation.
fn handbook_facts(
    config: &Config,
    actions: &ActionsConfig,
    origins: &Origins,
    templates: &[String],
) -> Facts {
    let mut facts = Facts::default();
    let alerts = &actions.alerts;
    let playbooks = &actions.playbooks;
    facts.text(
        "version.playbooks",
        &playbooks.version,
        cite(&format!("{} version", origins.playbooks), None, None),
    );
    facts.text(
        "version.alerts",
        &alerts.version,
        cite(&format!("{} version", origins.alerts), None, None),
    );
    facts.number(
        "count.playbooks",
        playbooks.playbooks.len() as f64,
        cite(&origins.playbooks, None, None),
    );
    facts.number(
        "count.rules",
        alerts.rules.len() as f64,
        cite(&origins.alerts, None, None),
    );
    facts.number(
        "count.stages",
        config.journey.stages.len() as f64,
        cite(&origins.journey, None, None),
    );
    facts.number(
        "count.tiers",
        config.segments.tiers.len() as f64,
        cite(&origins.segments, None, None),
    );
    for (n, playbook) in playbooks.playbooks.iter().enumerate() {
        let key = format!("playbooks.{n}");
        playbook_header(&mut facts, &key, playbook, origins);
        let source = format!("{} playbooks.{}", origins.playbooks, playbook.id);
        let triggers: Vec<&AlertRule> = alerts
            .rules
            .iter()
            .filter(|r| playbooks.for_rule(r).is_some_and(|p| p.id == playbook.id))
            .collect();
        for (t, rule) in triggers.iter().enumerate() {
            let rule_key = format!("{key}.triggers.{t}");
            rule_facts(&mut facts, &rule_key, rule, alerts, origins);
            for (c, condition) in rule.when.iter().chain(&rule.when_any).enumerate() {
                condition_facts(
                    &mut facts,
                    &format!("{rule_key}.conditions.{c}"),
                    condition,
                    config,
                    origins,
                );
            }
        }
        tasks_facts(
            &mut facts,
            &format!("{key}.tasks"),
            &playbook.tasks,
            &format!("{source}.tasks"),
        );
        for (v, variant) in playbook.variants.iter().enumerate() {
            let variant_key = format!("{key}.variants.{v}");
            let variant_source = format!("{source}.variants");
            for (s, stage) in variant.stages.iter().enumerate() {
                let label = config
                    .journey
                    .stages
                    .iter()
                    .find(|x| &x.key == stage)
                    .map_or(stage.as_str(), |x| x.label.as_str());
                facts.text(
                    &format!("{variant_key}.stages.{s}"),
                    label,
                    cite(&variant_source, None, None),
                );
            }
            for (s, segment) in variant.segments.iter().enumerate() {
                facts.text(
                    &format!("{variant_key}.segments.{s}"),
                    segment,
                    cite(&variant_source, None, None),
                );
            }
            tasks_facts(
                &mut facts,
                &format!("{variant_key}.tasks"),
                &variant.tasks,
                &format!("{variant_source}.tasks"),
            );
        }
    }
    for (n, stage) in config.journey.stages.iter().enumerate() {
        let key = format!("stages.{n}");
        let source = format!("{} stages.{}", origins.journey, stage.key);
        let cited = || cite(&source, None, None);
        facts.text(&format!("{key}.key"), &stage.key, cited());
        facts.text(&format!("{key}.label"), &stage.label, cited());
        facts.number(
            &format!("{key}.expected_days"),
            f64::from(stage.expected_days),
            cited(),
        );
        facts.text(&format!("{key}.entry"), &stage.entry, cited());
        facts.text(&format!("{key}.exit"), &stage.exit, cited());
        for (i, sign) in stage.warning_signs.iter().enumerate() {
            facts.text(&format!("{key}.warning_signs.{i}"), sign, cited());
        }
        for (i, action) in stage.actions.iter().enumerate() {
            facts.text(&format!("{key}.actions.{i}"), action, cited());
        }
        let variants = playbooks
            .playbooks
            .iter()
            .filter(|p| p.variants.iter().any(|v| v.stages.contains(&stage.key)));
        for (i, playbook) in variants.enumerate() {
            facts.text(
                &format!("{key}.variant_playbooks.{i}"),
                &playbook.name,
                cite(&format!("{} variants", origins.playbooks), None, None),
            );
        }
    }
    for (n, tier) in config.segments.tiers.iter().enumerate() {
        let key = format!("tiers.{n}");
        let source = format!("{} tiers.{}", origins.segments, tier.key);
        let cited = || cite(&source, None, None);
        facts.text(&format!("{key}.key"), &tier.key, cited());
        facts.text(&format!("{key}.label"), &tier.label, cited());
        facts.number(&format!("{key}.min_score"), tier.min_score, cited());
        if let Some(min_arr) = tier.min_arr {
            facts.number(&format!("{key}.min_arr"), min_arr, cited());
        }
        facts.text(&format!("{key}.coverage"), &tier.coverage, cited());
        facts.number(
            &format!("{key}.accounts_per_csm"),
            tier.accounts_per_csm,
            cited(),
        );
        facts.text(&format!("{key}.definition"), &tier.definition, cited());
        facts.text(
            &format!("{key}.coverage_plan"),
            &tier.coverage_plan,
            cited(),
        );
    }
    facts.number(
        "tiering.reassess_every_days",
        f64::from(config.segments.model.reassess_every_days),
        cite(
            &format!("{} model.reassess_every_days", origins.segments),
            None,
            None,
        ),
    );
    // The account segments the playbooks' variants and the rules name.
    let mut segments: Vec<&str> = Vec::new();
    for segment in playbooks
        .playbooks
        .iter()
        .flat_map(|p| &p.variants)
        .flat_map(|v| &v.segments)
    {
        if !segments.contains(&segment.as_str()) {
            segments.push(segment);
        }
    }
    for condition in alerts
        .rules
        .iter()
        .flat_map(|r| r.when.iter().chain(&r.when_any))
    {
        if let Condition::Attribute { attribute, values } = condition
            && attribute == "segment"
        {
            for value in values {
                if !segments.contains(&value.as_str()) {
                    segments.push(value);
                }
            }
        }
    }
    for (n, segment) in segments.iter().enumerate() {
        let key = format!("segments.{n}");
        facts.text(
            &format!("{key}.key"),
            *segment,
            cite("accounts.segment", None, None),
        );
        let cited = || cite(&origins.playbooks, None, None);
        let variants = playbooks.playbooks.iter().filter(|p| {
            p.variants
                .iter()
                .any(|v| v.segments.iter().any(|s| s == segment))
        });
        for (i, playbook) in variants.enumerate() {
            facts.text(
                &format!("{key}.variant_playbooks.{i}"),
                &playbook.name,
                cited(),
            );
        }
        let rules = alerts.rules.iter().filter(|r| {
            r.when.iter().chain(&r.when_any).any(|c| {
                matches!(c, Condition::Attribute { attribute, values }
                    if attribute == "segment" && values.iter().any(|v| v == segment))
            })
        });
        for (i, rule) in rules.enumerate() {
            facts.text(
                &format!("{key}.rules.{i}"),
                &rule.name,
                cite(&origins.alerts, None, None),
            );
        }
    }
    for (n, rule) in alerts.rules.iter().enumerate() {
        let key = format!("rules.{n}");
        rule_facts(&mut facts, &key, rule, alerts, origins);
        if let Some(playbook) = playbooks.for_rule(rule) {
            facts.text(
                &format!("{key}.playbook"),
                &playbook.name,
                cite(&origins.playbooks, None, None),
            );
        }
    }
    facts.number(
        "alerting.cooldown_days",
        f64::from(alerts.settings.cooldown_days),
        cite(
            &format!("{} settings.cooldown_days", origins.alerts),
            None,
            None,
        ),
    );
    for (i, severity) in alerts.settings.digest_severities.iter().enumerate() {
        facts.text(
            &format!("alerting.digest_severities.{i}"),
            severity.as_str(),
            cite(
                &format!("{} settings.digest_severities", origins.alerts),
                None,
                None,
            ),
        );
    }
    for (n, route) in alerts.routing.iter().enumerate() {
        let key = format!("routing.{n}");
        let source = format!("{} routing", origins.alerts);
        let cited = || cite(&source, None, None);
        for (i, tier) in route.tiers.iter().enumerate() {
            facts.text(&format!("{key}.tiers.{i}"), tier.as_str(), cited());
        }
        for (i, severity) in route.severities.iter().enumerate() {
            facts.text(&format!("{key}.severities.{i}"), severity.as_str(), cited());
        }
        for (i, coverage) in route.coverage.iter().enumerate() {
            facts.text(&format!("{key}.coverage.{i}"), coverage, cited());
        }
        for (i, role) in route.notify.iter().enumerate() {
            facts.text(&format!("{key}.notify.{i}"), role.as_str(), cited());
        }
        // A route with no filter matches every alert (`routing` requires one, last).
        facts.text(
            &format!("{key}.any"),
            if route.tiers.is_empty() && route.severities.is_empty() && route.coverage.is_empty() {
                "yes"
            } else {
                "no"
            },
            cited(),
        );
    }
    for (e, node) in playbooks.escalation.iter().enumerate() {
        escalation_node_facts(&mut facts, &format!("escalation.{e}"), node, origins);
    }
    let mut t = 0;
    for playbook in &playbooks.playbooks {
        let all = playbook
            .tasks
            .iter()
            .chain(playbook.variants.iter().flat_map(|v| &v.tasks));
        for task in all {
            let Some(template) = &task.template else {
                continue;
            };
            let key = format!("templates.{t}");
            let source = format!("{} playbooks.{}.tasks", origins.playbooks, playbook.id);
            facts.text(&format!("{key}.id"), template, cite(&source, None, None));
            facts.text(
                &format!("{key}.task"),
                &task.title,
                cite(&source, None, None),
            );
            facts.text(
                &format!("{key}.playbook"),
                &playbook.name,
                cite(&source, None, None),
            );
            facts.text(
                &format!("{key}.written"),
                if templates.contains(template) {
                    "yes"
                } else {
                    "no"
                },
                cite("crates/coco-drafts/templates", None, None),
            );
            t += 1;
        }
    }
    facts
}
