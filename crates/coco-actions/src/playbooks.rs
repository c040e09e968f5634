//! Playbooks (`config/playbooks.toml`): which tasks an alert creates, for whom and by
//! when; stage and segment variants; the escalation decision tree.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use coco_insights::frame::MetricMeta;
use coco_insights::settings::{SettingsError, invalid};
use coco_insights::values::{SideValues, is_known_source};

use crate::routing::Hierarchy;
use crate::rules::{AlertRule, AlertTier, AlertsConfig, Role, SIDE_SOURCES, Severity};

pub const DEFAULT_PLAYBOOKS: &str = include_str!("../../../config/playbooks.toml");

/// The `playbook_id` of a task an escalation node created is this prefix + the node's name.
pub const ESCALATION_PREFIX: &str = "escalation: ";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlaybooksConfig {
    pub version: String,
    pub playbooks: Vec<Playbook>,
    #[serde(default)]
    pub escalation: Vec<EscalationNode>,
    pub outcomes: OutcomeSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub triggers: Vec<String>,
    pub tasks: Vec<TaskTemplate>,
    #[serde(default)]
    pub variants: Vec<Variant>,
    /// What success looks like, in words (the playbook documents and the CSM handbook
    /// show it beside the alert conditions that clear).
    #[serde(default)]
    pub success: Option<String>,
}

impl Playbook {
    /// The variant an account at `place` gets: the first whose `stages` / `segments`
    /// include the account's (None: the default tasks).
    pub fn variant_for(&self, place: &AccountPlace<'_>) -> Option<&Variant> {
        self.variants.iter().find(|v| {
            (!v.stages.is_empty() || !v.segments.is_empty())
                && (v.stages.is_empty()
                    || place.stage.is_some_and(|s| v.stages.iter().any(|x| x == s)))
                && (v.segments.is_empty()
                    || place
                        .segment
                        .is_some_and(|s| v.segments.iter().any(|x| x == s)))
        })
    }

    /// The tasks an account at `place` gets: its variant's, else the default ones.
    pub fn tasks_for(&self, place: &AccountPlace<'_>) -> &[TaskTemplate] {
        self.variant_for(place).map_or(&self.tasks, |v| &v.tasks)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Variant {
    #[serde(default)]
    pub stages: Vec<String>,
    #[serde(default)]
    pub segments: Vec<String>,
    pub tasks: Vec<TaskTemplate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskTemplate {
    pub title: String,
    pub owner: Role,
    pub due_days: u32,
    #[serde(default)]
    pub instructions: String,
    #[serde(default)]
    pub template: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EscalationNode {
    pub name: String,
    #[serde(default)]
    pub tiers: Vec<AlertTier>,
    #[serde(default)]
    pub severities: Vec<Severity>,
    #[serde(default)]
    pub when: Vec<NumberCondition>,
    #[serde(default)]
    pub open_alerts_at_least: Option<u32>,
    #[serde(default)]
    pub involve: Vec<Role>,
    #[serde(default)]
    pub task: Option<String>,
    #[serde(default)]
    pub task_owner: Option<Role>,
    #[serde(default)]
    pub task_due_days: Option<u32>,
    #[serde(default)]
    pub stop: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NumberCondition {
    pub source: String,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OutcomeSettings {
    pub window_days: u32,
    pub min_health_gain: f64,
    pub follow_up_days: Vec<u32>,
    pub prior_strength: f64,
    pub min_observations: u32,
    pub confidence: f64,
}

impl PlaybooksConfig {
    pub fn from_toml(text: &str) -> Result<PlaybooksConfig, SettingsError> {
        Ok(toml::from_str(text)?)
    }

    pub fn playbook(&self, id: &str) -> Option<&Playbook> {
        self.playbooks.iter().find(|p| p.id == id)
    }

    /// The playbook an alert of `rule` runs: the rule's own, else the first that lists
    /// the rule among its triggers.
    pub fn for_rule(&self, rule: &AlertRule) -> Option<&Playbook> {
        rule.playbook
            .as_deref()
            .and_then(|id| self.playbook(id))
            .or_else(|| {
                self.playbooks
                    .iter()
                    .find(|p| p.triggers.contains(&rule.id))
            })
    }

    /// Checks names against the alert rules, the journey's stages and the catalogue.
    pub fn validate(
        &self,
        alerts: &AlertsConfig,
        stages: &[String],
        metrics: &[MetricMeta],
    ) -> Result<(), SettingsError> {
        let mut ids = BTreeSet::new();
        for (p, playbook) in self.playbooks.iter().enumerate() {
            let at = format!("playbooks[{p}] ({})", playbook.id);
            if !ids.insert(playbook.id.as_str()) {
                return Err(invalid(&at, "a second playbook with this id"));
            }
            if playbook.tasks.is_empty() {
                return Err(invalid(&at, "has no tasks"));
            }
            for trigger in &playbook.triggers {
                if alerts.rule(trigger).is_none() {
                    return Err(invalid(
                        &format!("{at}.triggers"),
                        format!("`{trigger}` is not an alert rule of config/alerts.toml"),
                    ));
                }
            }
            for (v, variant) in playbook.variants.iter().enumerate() {
                for stage in &variant.stages {
                    if !stages.contains(stage) {
                        return Err(invalid(
                            &format!("{at}.variants[{v}].stages"),
                            format!("`{stage}` is not a journey stage ({})", stages.join(", ")),
                        ));
                    }
                }
                if variant.tasks.is_empty() {
                    return Err(invalid(&format!("{at}.variants[{v}]"), "has no tasks"));
                }
            }
        }
        for rule in &alerts.rules {
            if let Some(id) = &rule.playbook
                && self.playbook(id).is_none()
            {
                return Err(invalid(
                    &format!("alert rule {}", rule.id),
                    format!("names playbook `{id}`, which config/playbooks.toml does not have"),
                ));
            }
        }
        for (n, node) in self.escalation.iter().enumerate() {
            for (c, condition) in node.when.iter().enumerate() {
                if !is_known_source(&condition.source, metrics, SIDE_SOURCES) {
                    return Err(invalid(
                        &format!("escalation[{n}] ({}).when[{c}]", node.name),
                        format!("unknown source `{}`", condition.source),
                    ));
                }
            }
            if node.task.is_some() && node.task_owner.is_none() {
                return Err(invalid(
                    &format!("escalation[{n}] ({})", node.name),
                    "a `task` needs a `task_owner`",
                ));
            }
        }
        let o = &self.outcomes;
        if o.window_days == 0 || !(0.5..1.0).contains(&o.confidence) || o.prior_strength < 0.0 {
            return Err(invalid(
                "outcomes",
                "`window_days` ≥ 1, `confidence` in [0.5, 1) and `prior_strength` ≥ 0 are needed",
            ));
        }
        Ok(())
    }
}

/// A task to create, its owner resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedTask {
    pub playbook_id: String,
    /// 1-based position in the playbook (escalation tasks come after, numbered on).
    pub step: u32,
    pub title: String,
    pub owner_role: Role,
    /// The active CSM holding the role, else the account's CSM (`owner_role` still says
    /// whose task it was meant to be); None for an account without a CSM.
    pub owner_csm_id: Option<String>,
    pub due_on: NaiveDate,
    pub instructions: String,
    pub template: Option<String>,
}

/// The account's place, for choosing a variant.
pub struct AccountPlace<'a> {
    pub stage: Option<&'a str>,
    pub segment: Option<&'a str>,
    pub owner: Option<&'a str>,
}

/// The tasks of `playbook` for an alert opened on `opened_on`.
pub fn plan_tasks(
    playbook: &Playbook,
    place: &AccountPlace<'_>,
    opened_on: NaiveDate,
    hierarchy: &Hierarchy,
) -> Vec<PlannedTask> {
    playbook
        .tasks_for(place)
        .iter()
        .enumerate()
        .map(|(i, t)| PlannedTask {
            playbook_id: playbook.id.clone(),
            step: i as u32 + 1,
            title: t.title.clone(),
            owner_role: t.owner,
            owner_csm_id: owner_for(place.owner, t.owner, hierarchy),
            due_on: add_days(opened_on, t.due_days),
            instructions: t.instructions.clone(),
            template: t.template.clone(),
        })
        .collect()
}

fn add_days(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The holder of `role`, falling back to the account's CSM when nobody active holds it
/// (a task for someone who left would be done by nobody).
fn owner_for(owner: Option<&str>, role: Role, hierarchy: &Hierarchy) -> Option<String> {
    let owner = owner?;
    hierarchy
        .holder(owner, role)
        .filter(|p| p.active)
        .map(|p| p.csm_id.clone())
        .or_else(|| hierarchy.person(owner).map(|p| p.csm_id.clone()))
}

/// What the escalation tree decided for one alert.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Escalation {
    /// The nodes that held, in order, with the values that made them hold.
    pub nodes: Vec<EscalationStep>,
    pub involve: Vec<Role>,
    pub tasks: Vec<PlannedTask>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EscalationStep {
    pub name: String,
    pub because: Vec<String>,
}

/// Walks the tree for an alert of `rule` on the account at `account` of `side`
/// (numbers by name: the engine puts every source the tree names there).
#[allow(clippy::too_many_arguments)]
pub fn escalate(
    config: &PlaybooksConfig,
    rule: &AlertRule,
    numbers: &SideValues,
    account: usize,
    open_alerts: u32,
    place: &AccountPlace<'_>,
    opened_on: NaiveDate,
    hierarchy: &Hierarchy,
) -> Escalation {
    let mut out = Escalation::default();
    let mut step = 100;
    for node in &config.escalation {
        if !node.tiers.is_empty() && !node.tiers.contains(&rule.tier) {
            continue;
        }
        if !node.severities.is_empty() && !node.severities.contains(&rule.severity) {
            continue;
        }
        let mut because = Vec::new();
        let mut all = true;
        for condition in &node.when {
            let value = numbers
                .column(&condition.source)
                .and_then(|c| c.get(account).copied().flatten());
            match value {
                Some(v)
                    if condition.at_least.is_none_or(|min| v >= min)
                        && condition.at_most.is_none_or(|max| v <= max) =>
                {
                    because.push(format!(
                        "{} = {}",
                        condition.source,
                        coco_insights::format::number(v)
                    ));
                }
                _ => {
                    all = false;
                    break;
                }
            }
        }
        if let Some(min) = node.open_alerts_at_least {
            if open_alerts >= min {
                because.push(format!("{open_alerts} open alerts"));
            } else {
                all = false;
            }
        }
        if !all {
            continue;
        }
        if !node.tiers.is_empty() {
            because.insert(0, format!("tier {}", rule.tier));
        }
        for role in &node.involve {
            if !out.involve.contains(role) {
                out.involve.push(*role);
            }
        }
        if let (Some(title), Some(role)) = (&node.task, node.task_owner) {
            step += 1;
            out.tasks.push(PlannedTask {
                playbook_id: format!("{ESCALATION_PREFIX}{}", node.name),
                step,
                title: title.clone(),
                owner_role: role,
                owner_csm_id: owner_for(place.owner, role, hierarchy),
                due_on: add_days(opened_on, node.task_due_days.unwrap_or(3)),
                instructions: format!("Escalated because {}.", because.join(", ")),
                template: None,
            });
        }
        out.nodes.push(EscalationStep {
            name: node.name.clone(),
            because,
        });
        if node.stop {
            break;
        }
    }
    out
}
