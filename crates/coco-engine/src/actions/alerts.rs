//! One alert run as of a date: the rules' inputs read from the store (the snapshot and
//! the values beside it, the snapshots the `change` conditions compare with, dated
//! events with their source rows), evaluated, reconciled with the alerts on record,
//! routed, given their playbook tasks, escalation and context pack, and their messages
//! rendered — everything [`Store::apply_alert_run`] then writes in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{Days, NaiveDate, Utc};
use coco_actions::context::{AccountFacts, ContextPack, SuggestedPlay};
use coco_actions::notify::Channel;
use coco_actions::outcomes::{OutcomeReport, recommend};
use coco_actions::playbooks::{AccountPlace, ESCALATION_PREFIX, PlannedTask, escalate, plan_tasks};
use coco_actions::render::{AlertView, alert_message, webhook_payload};
use coco_actions::routing::{Hierarchy, Person, Recipient, Routing, route};
use coco_actions::rules::{AccountEvent, Firing, PastValues, RuleInputs, evaluate};
use coco_actions::state::{AlertStatus, KnownAlert, reconcile};
use coco_insights::values::SideValues;
use coco_store::Store;
use coco_store::actions::{AlertRow, AlertRunWrite, OutboxRow, TaskFilter, TaskRow};
use serde::Serialize;

use super::ActionsConfig;
use crate::churn::scoring::stored_predictions;
use crate::lifecycle::{LifecycleBase, load_base, stage_book};
use crate::score::to_frame;
use crate::{Config, EngineError};

/// What the rules read as of one date.
pub struct AlertInputs {
    pub base: Arc<LifecycleBase>,
    /// Each account's journey stage (frame order).
    pub stages: Vec<Option<String>>,
    pub past: BTreeMap<u32, PastValues>,
    pub events: Vec<Vec<AccountEvent>>,
    /// Look-back days with no snapshot close enough (their change conditions do not hold).
    pub missing_past: Vec<u32>,
}

impl AlertInputs {
    pub fn account_ids(&self) -> Vec<String> {
        self.base
            .frame
            .accounts
            .iter()
            .map(|a| a.account_id.clone())
            .collect()
    }

    fn text(&self, attribute: &str, account: usize) -> Option<&str> {
        self.base.values().text(attribute, account)
    }
}

pub fn load_inputs(
    store: &Store,
    config: &Config,
    actions: &ActionsConfig,
    as_of: NaiveDate,
) -> Result<AlertInputs, EngineError> {
    let base = load_base(store, config, as_of)?;
    let book = stage_book(&base, config);
    let stages = book.views.iter().map(|v| Some(v.stage.clone())).collect();
    let needs = actions.alerts.needs();
    let fingerprint = config.catalogue.fingerprint();
    let tolerance = i64::from(actions.alerts.settings.change_tolerance_days);
    let index: HashMap<&str, usize> = base
        .frame
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.account_id.as_str(), i))
        .collect();
    let count = base.frame.account_count();
    let mut past = BTreeMap::new();
    let mut missing_past = Vec::new();
    let metas = config.metric_metas();
    for (days, sources) in &needs.changes {
        let target = base
            .as_of()
            .checked_sub_days(Days::new(u64::from(*days)))
            .unwrap_or(NaiveDate::MIN);
        let snapshot = store
            .snapshot_on_or_before(target, &fingerprint)?
            .filter(|s| (target - s.as_of).num_days() <= tolerance);
        let Some(snapshot) = snapshot else {
            missing_past.push(*days);
            continue;
        };
        let mut values = SideValues::default();
        let aligned = |pairs: Vec<(String, f64)>| -> Vec<Option<f64>> {
            let mut column = vec![None; count];
            for (account, value) in pairs {
                if let Some(&i) = index.get(account.as_str()) {
                    column[i] = Some(value);
                }
            }
            column
        };
        let metric_sources: Vec<String> = sources
            .iter()
            .filter(|s| metas.iter().any(|m| &m.name == *s))
            .cloned()
            .collect();
        if !metric_sources.is_empty() {
            let frame = to_frame(&store.load_snapshot(&snapshot, &metric_sources)?, &metas)?;
            for source in &metric_sources {
                let Some(m) = frame.metric_index(source) else {
                    continue;
                };
                let pairs = frame
                    .accounts
                    .iter()
                    .enumerate()
                    .filter_map(|(a, row)| frame.value(a, m).map(|v| (row.account_id.clone(), v)))
                    .collect();
                values.insert(source, aligned(pairs));
            }
        }
        if sources.contains("health_score") {
            let briefs = store.health_briefs(snapshot.snapshot_id)?;
            let pairs = briefs
                .into_iter()
                .filter_map(|(a, (score, _))| score.map(|s| (a, s)))
                .collect();
            values.insert("health_score", aligned(pairs));
        }
        if sources.contains("churn_probability")
            && let Some((_, predictions)) = stored_predictions(store, None, snapshot.as_of, None)?
            && predictions
                .first()
                .is_some_and(|p| (snapshot.as_of - p.as_of).num_days() <= tolerance)
        {
            let pairs = predictions
                .into_iter()
                .map(|p| (p.account_id, p.probability))
                .collect();
            values.insert("churn_probability", aligned(pairs));
        }
        past.insert(
            *days,
            PastValues {
                date: snapshot.as_of,
                values,
            },
        );
    }
    let mut events = vec![Vec::new(); count];
    if !needs.events.is_empty() {
        let kinds: Vec<String> = needs.events.iter().cloned().collect();
        let since = base
            .as_of()
            .checked_sub_days(Days::new(u64::from(needs.event_days)))
            .unwrap_or(NaiveDate::MIN);
        for row in store.action_events(&kinds, since, base.as_of())? {
            if let Some(&i) = index.get(row.account_id.as_str()) {
                events[i].push(AccountEvent {
                    kind: row.kind,
                    on: row.on,
                    table: row.table,
                    row_id: row.row_id,
                    detail: row.detail,
                });
            }
        }
        for list in &mut events {
            list.sort();
        }
    }
    Ok(AlertInputs {
        base,
        stages,
        past,
        events,
        missing_past,
    })
}

/// The pure half: the firings of every rule.
pub fn firings(actions: &ActionsConfig, inputs: &AlertInputs) -> Vec<Firing> {
    evaluate(
        &actions.alerts,
        &RuleInputs {
            as_of: inputs.base.as_of(),
            values: inputs.base.values(),
            past: &inputs.past,
            events: &inputs.events,
        },
    )
}

pub fn hierarchy(store: &Store) -> Result<Hierarchy, EngineError> {
    Ok(Hierarchy::new(
        store
            .csm_directory()?
            .into_iter()
            .map(|c| Person {
                csm_id: c.csm_id,
                name: c.name,
                email: c.email,
                manager_id: c.manager_id,
                team: c.team,
                active: c.active,
            })
            .collect(),
    ))
}

pub fn known_alerts(rows: &[AlertRow]) -> Vec<KnownAlert> {
    rows.iter()
        .filter_map(|r| {
            Some(KnownAlert {
                alert_id: r.alert_id,
                rule_id: r.rule_id.clone(),
                account_id: r.account_id.clone(),
                status: r.status.parse::<AlertStatus>().ok()?,
                opened_on: r.opened_on,
                closed_on: r.closed_on,
                snoozed_until: r.snoozed_until,
            })
        })
        .collect()
}

/// The routing stored with an alert: the route's recipients, plus whoever the
/// escalation tree involved.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StoredRouting {
    #[serde(flatten)]
    pub routing: Routing,
    #[serde(default)]
    pub escalated_to: Vec<Recipient>,
}

impl StoredRouting {
    pub fn everyone(&self) -> impl Iterator<Item = &Recipient> {
        self.routing.recipients.iter().chain(&self.escalated_to)
    }
}

/// An alert opened by the run, as the digest needs it.
#[derive(Debug, Clone)]
pub struct OpenedAlert {
    pub row: AlertRow,
    pub context: ContextPack,
    pub routing: StoredRouting,
    pub rule_name: String,
}

/// What one run will write, and what it saw.
pub struct AlertPlan {
    pub write: AlertRunWrite,
    pub opened: Vec<OpenedAlert>,
    pub firings: usize,
    pub cooling: usize,
    pub missing_past: Vec<u32>,
}

fn escalation_numbers(actions: &ActionsConfig, base: &LifecycleBase) -> SideValues {
    let values = base.values();
    let mut numbers = SideValues::default();
    for node in &actions.playbooks.escalation {
        for condition in &node.when {
            if numbers.contains(&condition.source) {
                continue;
            }
            let resolved = values.resolve(&condition.source);
            numbers.insert(
                &condition.source,
                (0..base.frame.account_count())
                    .map(|a| values.get(resolved, a))
                    .collect(),
            );
        }
    }
    numbers
}

/// An account's health drivers in words, and its recent health (date, score).
type DriversAndHistory = (Vec<String>, Vec<(NaiveDate, f64)>);

/// Health drivers and recent history of an account, from its evidence view.
fn drivers_and_history(
    store: &dyn coco_store::read_model::AccountSource,
    config: &Config,
    account_id: &str,
    as_of: NaiveDate,
) -> DriversAndHistory {
    let number = coco_insights::format::number;
    // A view that cannot be built (account scored without health, say) leaves the pack
    // without drivers rather than failing the run.
    let Ok(view) = crate::account::account_view_from(store, config, account_id, as_of, 28) else {
        return (Vec::new(), Vec::new());
    };
    let drivers = view
        .declines
        .iter()
        .take(4)
        .map(|d| {
            let change = match (d.value_before, d.value_after) {
                (Some(b), Some(a)) => format!(": {} {} → {}", d.metric, number(b), number(a)),
                _ => String::new(),
            };
            format!(
                "{} {}{change} ({})",
                d.category.label(),
                number(d.contribution),
                d.assessment.kind.as_str().replace('_', " ")
            )
        })
        .collect();
    let history: Vec<(NaiveDate, f64)> = view
        .history
        .iter()
        .filter_map(|p| p.score.map(|s| (p.as_of, s)))
        .collect();
    let keep = history.len().saturating_sub(8);
    (drivers, history[keep..].to_vec())
}

fn facts(
    inputs: &AlertInputs,
    account: usize,
    hierarchy: &Hierarchy,
    churn: Option<f64>,
) -> AccountFacts {
    let base = &inputs.base;
    let values = base.values();
    let owner = inputs.text("owner_csm_id", account).map(str::to_string);
    AccountFacts {
        account_id: base.frame.accounts[account].account_id.clone(),
        name: base.names[account].clone(),
        segment: inputs.text("segment", account).map(str::to_string),
        coverage_model: inputs.text("coverage_model", account).map(str::to_string),
        owner_name: owner
            .as_deref()
            .and_then(|o| hierarchy.person(o))
            .map(|p| p.name.clone()),
        owner_csm_id: owner,
        arr: values.value("arr", account),
        health_score: values.value("health_score", account),
        churn_probability: churn,
        days_to_renewal: values.value("days_to_renewal", account),
        stage: inputs.stages.get(account).cloned().flatten(),
    }
}

/// A message to queue, before it has an id.
struct Message {
    key: String,
    kind: &'static str,
    channel: Channel,
    destination: String,
    subject: String,
    text: String,
    html: Option<String>,
    payload: Option<String>,
    alert_id: Option<i64>,
    csm_id: Option<String>,
}

impl Message {
    fn into_row(self) -> OutboxRow {
        let now = Utc::now().naive_utc();
        OutboxRow {
            message_id: 0,
            idempotency_key: self.key,
            kind: self.kind.to_string(),
            channel: self.channel.as_str().to_string(),
            destination: self.destination,
            subject: self.subject,
            body_text: self.text,
            body_html: self.html,
            payload: self.payload,
            alert_id: self.alert_id,
            csm_id: self.csm_id,
            status: "pending".into(),
            attempts: 0,
            created_at: now,
            next_attempt_at: now,
            last_attempt_at: None,
            last_error: None,
            delivered_at: None,
            detail: None,
        }
    }
}

/// An email to one person (None when email is off or they have no address).
#[allow(clippy::too_many_arguments)]
pub(crate) fn email_to(
    actions: &ActionsConfig,
    key: String,
    kind: &'static str,
    recipient_email: Option<&str>,
    subject: &str,
    text: &str,
    html: &str,
    alert_id: Option<i64>,
    csm_id: &str,
) -> Option<OutboxRow> {
    let email = recipient_email.filter(|e| e.contains('@'))?;
    actions.notifications.email.enabled.then(|| {
        Message {
            key,
            kind,
            channel: Channel::Email,
            destination: email.to_string(),
            subject: subject.to_string(),
            text: text.to_string(),
            html: Some(html.to_string()),
            payload: None,
            alert_id,
            csm_id: Some(csm_id.to_string()),
        }
        .into_row()
    })
}

/// The messages about an alert opened (or resolved) at this run.
fn alert_messages(
    actions: &ActionsConfig,
    opened: &OpenedAlert,
    team: Option<&str>,
    event: &str,
) -> Vec<OutboxRow> {
    let n = &actions.notifications;
    let row = &opened.row;
    let tier = row
        .tier
        .parse()
        .unwrap_or(coco_actions::rules::AlertTier::Watch);
    let severity = row
        .severity
        .parse()
        .unwrap_or(coco_actions::rules::Severity::Low);
    let view = AlertView {
        alert_id: row.alert_id,
        rule_id: &row.rule_id,
        rule_name: &opened.rule_name,
        tier,
        severity,
        opened_on: row.opened_on,
        context: &opened.context,
        url: n.account_url(&row.account_id),
    };
    let mut out = Vec::new();
    let id = row.alert_id;
    if event == "alert.opened" {
        let rendered = alert_message(&view);
        if row.interrupt && n.email.alerts {
            for r in opened.routing.everyone() {
                out.extend(email_to(
                    actions,
                    format!("alert-{id}-email-{}", r.csm_id),
                    "alert",
                    r.email.as_deref(),
                    &rendered.subject,
                    &rendered.text,
                    &rendered.html,
                    Some(id),
                    &r.csm_id,
                ));
            }
        }
        if row.interrupt
            && let Some(channel) = n.slack_channel(team)
        {
            out.push(
                Message {
                    key: format!("alert-{id}-slack"),
                    kind: "alert",
                    channel: Channel::Slack,
                    destination: channel.team.clone(),
                    subject: rendered.subject.clone(),
                    text: rendered.text.clone(),
                    html: None,
                    payload: Some(rendered.slack.clone()),
                    alert_id: Some(id),
                    csm_id: row.owner_csm_id.clone(),
                }
                .into_row(),
            );
        }
    }
    if n.webhook_wants(event) {
        let key = format!("alert-{id}-{}-webhook", event.trim_start_matches("alert."));
        let payload = webhook_payload(event, &key, &view);
        out.push(
            Message {
                key,
                kind: "alert",
                channel: Channel::Webhook,
                destination: "webhook".into(),
                subject: format!("{event} {}", row.alert_id),
                text: opened.context.headline.clone(),
                html: None,
                payload: Some(payload),
                alert_id: Some(id),
                csm_id: row.owner_csm_id.clone(),
            }
            .into_row(),
        );
    }
    out
}

/// Plans one run. `run_id` is recorded on the alerts it opens.
pub fn plan(
    store: &Store,
    config: &Config,
    actions: &ActionsConfig,
    inputs: &AlertInputs,
    run_id: Option<i64>,
) -> Result<AlertPlan, EngineError> {
    let as_of = inputs.base.as_of();
    let rules = &actions.alerts;
    let fired = firings(actions, inputs);
    let account_ids = inputs.account_ids();
    let on_record = store.latest_alerts()?;
    let known = known_alerts(&on_record);
    let reconciliation = reconcile(rules, as_of, &fired, &account_ids, &known);
    let hierarchy = hierarchy(store)?;
    let numbers = escalation_numbers(actions, &inputs.base);
    let outcomes = super::outcomes::report(store, config, actions, as_of)?;
    let mut firings_per_account: HashMap<usize, u32> = HashMap::new();
    for f in &fired {
        *firings_per_account.entry(f.account).or_insert(0) += 1;
    }
    let mut escalation_tasks: HashSet<(String, String)> = store
        .tasks(&TaskFilter {
            statuses: vec!["open".into(), "snoozed".into()],
            ..TaskFilter::default()
        })?
        .into_iter()
        .filter(|t| t.playbook_id.starts_with(ESCALATION_PREFIX))
        .map(|t| (t.account_id, t.playbook_id))
        .collect();
    let ids = store.reserve_ids("alert_ids", reconciliation.open.len())?;
    let mut tasks: Vec<TaskRow> = Vec::new();
    let mut opened = Vec::with_capacity(ids.len());
    let mut views: HashMap<usize, DriversAndHistory> = HashMap::new();
    // Evidence views of the accounts with new alerts read from one read model: a view
    // straight from the store costs ~100 ms of queries per account.
    let read_model = if reconciliation.open.is_empty() {
        None
    } else {
        crate::account::read_model(store, config, as_of, 28, 0)?
    };
    let source: &dyn coco_store::read_model::AccountSource = match &read_model {
        Some(model) => model,
        None => store,
    };
    for (&index, alert_id) in reconciliation.open.iter().zip(ids) {
        let firing = &fired[index];
        let rule = &rules.rules[firing.rule];
        let account = firing.account;
        let churn = inputs.base.values().value("churn_probability", account);
        let account_facts = facts(inputs, account, &hierarchy, churn);
        let owner = account_facts.owner_csm_id.as_deref();
        let routing = route(
            rules,
            rule,
            account_facts.coverage_model.as_deref(),
            owner,
            &hierarchy,
        );
        let place = AccountPlace {
            stage: account_facts.stage.as_deref(),
            segment: account_facts.segment.as_deref(),
            owner,
        };
        let playbook = actions.playbooks.for_rule(rule);
        let mut planned: Vec<PlannedTask> = playbook
            .map(|p| plan_tasks(p, &place, as_of, &hierarchy))
            .unwrap_or_default();
        let escalation = escalate(
            &actions.playbooks,
            rule,
            &numbers,
            account,
            firings_per_account.get(&account).copied().unwrap_or(1),
            &place,
            as_of,
            &hierarchy,
        );
        // An escalation node's task is about the account, not the alert: once per
        // account while one is open, however many of its alerts reach the node.
        for task in &escalation.tasks {
            if escalation_tasks.insert((account_ids[account].clone(), task.playbook_id.clone())) {
                planned.push(task.clone());
            }
        }
        let mut escalated_to: Vec<Recipient> = Vec::new();
        if let Some(owner) = owner {
            for role in &escalation.involve {
                if let Some(person) = hierarchy.holder(owner, *role).filter(|p| p.active)
                    && !routing.recipients.iter().any(|r| r.csm_id == person.csm_id)
                    && !escalated_to.iter().any(|r| r.csm_id == person.csm_id)
                {
                    escalated_to.push(Recipient {
                        role: *role,
                        csm_id: person.csm_id.clone(),
                        name: person.name.clone(),
                        email: person.email.clone(),
                    });
                }
            }
        }
        let suggested_play = suggested_play(actions, rule, &outcomes);
        let (drivers, history) = views
            .entry(account)
            .or_insert_with(|| drivers_and_history(source, config, &account_ids[account], as_of))
            .clone();
        // The conditions that held, in words; surfaces put the rule's name beside it.
        let headline = if firing.evidence.is_empty() {
            rule.description.clone()
        } else {
            firing
                .evidence
                .iter()
                .map(|e| e.text.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let context = ContextPack {
            as_of,
            headline: headline.clone(),
            evidence: firing.evidence.clone(),
            facts: account_facts.clone(),
            drivers,
            history,
            suggested_play,
            escalation: (!escalation.nodes.is_empty()).then_some(escalation),
            tasks: planned.clone(),
        };
        let stored_routing = StoredRouting {
            routing: routing.clone(),
            escalated_to,
        };
        // The escalation tree may raise an alert that would have waited for the digest.
        let interrupt = routing.interrupt || !stored_routing.escalated_to.is_empty();
        let row = AlertRow {
            alert_id,
            rule_id: rule.id.clone(),
            account_id: account_ids[account].clone(),
            tier: rule.tier.as_str().to_string(),
            severity: rule.severity.as_str().to_string(),
            profile: rule.profile.clone(),
            status: AlertStatus::Open.as_str().to_string(),
            opened_on: as_of,
            last_seen_on: as_of,
            closed_on: None,
            close_reason: None,
            closed_by: None,
            snoozed_until: None,
            owner_csm_id: account_facts.owner_csm_id.clone(),
            recipients: serde_json::to_string(&stored_routing).map_err(EngineError::Json)?,
            interrupt,
            headline,
            context: serde_json::to_string(&context).map_err(EngineError::Json)?,
            rules_version: rules.version.clone(),
            run_id,
        };
        for task in &planned {
            tasks.push(task_row(task, Some(alert_id), &row.account_id, as_of));
        }
        opened.push(OpenedAlert {
            row,
            context,
            routing: stored_routing,
            rule_name: rule.name.clone(),
        });
    }
    let task_ids = store.reserve_ids("task_ids", tasks.len())?;
    for (task, id) in tasks.iter_mut().zip(task_ids) {
        task.task_id = id;
    }
    let mut messages = Vec::new();
    for alert in &opened {
        let team = alert
            .row
            .owner_csm_id
            .as_deref()
            .and_then(|o| hierarchy.person(o))
            .and_then(|p| p.team.as_deref());
        messages.extend(alert_messages(actions, alert, team, "alert.opened"));
    }
    if actions.notifications.webhook_wants("alert.resolved") {
        let by_id: HashMap<i64, &AlertRow> = on_record.iter().map(|r| (r.alert_id, r)).collect();
        for id in &reconciliation.resolve {
            let Some(row) = by_id.get(id) else { continue };
            let Ok(context) = serde_json::from_str::<ContextPack>(&row.context) else {
                continue;
            };
            let Ok(routing) = serde_json::from_str::<StoredRouting>(&row.recipients) else {
                continue;
            };
            let resolved = OpenedAlert {
                row: (*row).clone(),
                rule_name: rules
                    .rule(&row.rule_id)
                    .map_or(row.rule_id.clone(), |r| r.name.clone()),
                context,
                routing,
            };
            messages.extend(alert_messages(actions, &resolved, None, "alert.resolved"));
        }
    }
    Ok(AlertPlan {
        write: AlertRunWrite {
            as_of,
            open: opened.iter().map(|o| o.row.clone()).collect(),
            refresh: reconciliation.refresh.iter().map(|(id, _)| *id).collect(),
            wake: reconciliation.wake.clone(),
            resolve: reconciliation.resolve.clone(),
            tasks,
            messages,
        },
        opened,
        firings: fired.len(),
        cooling: reconciliation.cooling.len(),
        missing_past: inputs.missing_past.clone(),
    })
}

pub(crate) fn task_row(
    task: &PlannedTask,
    alert_id: Option<i64>,
    account_id: &str,
    created_on: NaiveDate,
) -> TaskRow {
    TaskRow {
        task_id: 0,
        alert_id,
        account_id: account_id.to_string(),
        playbook_id: task.playbook_id.clone(),
        step: task.step as i32,
        title: task.title.clone(),
        instructions: task.instructions.clone(),
        template: task.template.clone(),
        owner_role: task.owner_role.as_str().to_string(),
        owner_csm_id: task.owner_csm_id.clone(),
        due_on: task.due_on,
        status: "open".into(),
        snoozed_until: None,
        created_on,
        done_on: None,
        done_by: None,
    }
}

/// The rule's own playbook, unless the record shows another play doing better for the
/// rule's risk profile on enough decided interventions.
fn suggested_play(
    actions: &ActionsConfig,
    rule: &coco_actions::rules::AlertRule,
    outcomes: &OutcomeReport,
) -> Option<SuggestedPlay> {
    let settings = &actions.playbooks.outcomes;
    let candidates: Vec<String> = actions
        .playbooks
        .playbooks
        .iter()
        .map(|p| p.id.clone())
        .collect();
    let recommendation = recommend(outcomes, &rule.profile, &candidates, settings);
    let configured = actions.playbooks.for_rule(rule);
    let proven = recommendation
        .best
        .as_ref()
        .filter(|b| b.decided_for_profile >= u64::from(settings.min_observations))
        .and_then(|b| actions.playbooks.playbook(&b.play));
    match (proven, configured) {
        (Some(best), Some(configured)) if best.id != configured.id => Some(SuggestedPlay {
            playbook_id: best.id.clone(),
            playbook_name: best.name.clone(),
            because: format!(
                "best record for {}: {} (the rule's own playbook is {})",
                rule.profile, recommendation.because, configured.name
            ),
            record: Some(recommendation),
        }),
        (Some(best), None) => Some(SuggestedPlay {
            playbook_id: best.id.clone(),
            playbook_name: best.name.clone(),
            because: recommendation.because.clone(),
            record: Some(recommendation),
        }),
        (_, Some(configured)) => Some(SuggestedPlay {
            playbook_id: configured.id.clone(),
            playbook_name: configured.name.clone(),
            because: if recommendation
                .candidates
                .iter()
                .any(|c| c.decided_for_profile > 0)
            {
                format!("the rule's playbook; record: {}", recommendation.because)
            } else {
                format!(
                    "the rule's playbook (no decided interventions for {} yet)",
                    rule.profile
                )
            },
            record: Some(recommendation),
        }),
        (None, None) => None,
    }
}
