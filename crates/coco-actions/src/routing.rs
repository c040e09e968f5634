//! Who hears about an alert: the first route of `config/alerts.toml` matching the alert's
//! tier, severity and the account's coverage model names roles; the CSM hierarchy
//! (`csms.manager_id`) says who holds them. Severity decides interrupt vs digest.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::rules::{AlertRule, AlertsConfig, Role};

/// A person of the CS team, as routing needs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    pub csm_id: String,
    pub name: String,
    pub email: Option<String>,
    pub manager_id: Option<String>,
    pub team: Option<String>,
    pub active: bool,
}

/// The team by id.
#[derive(Debug, Clone, Default)]
pub struct Hierarchy {
    people: HashMap<String, Person>,
}

impl Hierarchy {
    pub fn new(people: Vec<Person>) -> Self {
        Hierarchy {
            people: people.into_iter().map(|p| (p.csm_id.clone(), p)).collect(),
        }
    }

    pub fn person(&self, csm_id: &str) -> Option<&Person> {
        self.people.get(csm_id)
    }

    fn manager_of(&self, csm_id: &str) -> Option<&Person> {
        let manager = self.people.get(csm_id)?.manager_id.as_deref()?;
        // A row naming itself as its own manager is not a chain (seen in CRM exports).
        (manager != csm_id)
            .then(|| self.people.get(manager))
            .flatten()
    }

    /// The holder of `role` for an account owned by `owner`.
    pub fn holder(&self, owner: &str, role: Role) -> Option<&Person> {
        match role {
            Role::Csm => self.people.get(owner),
            Role::TeamLead => self.manager_of(owner),
            Role::Manager => {
                let lead = self.manager_of(owner)?;
                self.manager_of(&lead.csm_id)
            }
        }
    }

    pub fn people(&self) -> impl Iterator<Item = &Person> {
        self.people.values()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recipient {
    pub role: Role,
    pub csm_id: String,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Routing {
    /// Which route matched (index into `routing`).
    pub route: usize,
    pub recipients: Vec<Recipient>,
    /// Sent at once rather than in the daily digest.
    pub interrupt: bool,
    /// Roles nobody holds, and other things the reader should know.
    pub notes: Vec<String>,
}

/// Routes one alert. `owner` is the account's CSM (None: unowned).
pub fn route(
    config: &AlertsConfig,
    rule: &AlertRule,
    coverage: Option<&str>,
    owner: Option<&str>,
    hierarchy: &Hierarchy,
) -> Routing {
    let (index, matched) = config
        .routing
        .iter()
        .enumerate()
        .find(|(_, r)| {
            (r.tiers.is_empty() || r.tiers.contains(&rule.tier))
                && (r.severities.is_empty() || r.severities.contains(&rule.severity))
                && (r.coverage.is_empty()
                    || coverage.is_some_and(|c| r.coverage.iter().any(|x| x == c)))
        })
        .map_or((config.routing.len(), None), |(i, r)| (i, Some(r)));
    let interrupt = !config.settings.digest_severities.contains(&rule.severity);
    let mut recipients: Vec<Recipient> = Vec::new();
    let mut notes = Vec::new();
    let roles = matched.map_or(&[Role::Csm][..], |r| r.notify.as_slice());
    match owner.filter(|o| hierarchy.person(o).is_some()) {
        Some(owner) => {
            for role in roles {
                match hierarchy.holder(owner, *role) {
                    Some(person) if !person.active => notes.push(format!(
                        "{} ({}) is not active; not notified",
                        person.name,
                        role.as_str()
                    )),
                    Some(person) => {
                        if !recipients.iter().any(|r| r.csm_id == person.csm_id) {
                            recipients.push(Recipient {
                                role: *role,
                                csm_id: person.csm_id.clone(),
                                name: person.name.clone(),
                                email: person.email.clone(),
                            });
                        }
                    }
                    None => notes.push(format!(
                        "no {} on record for {owner}",
                        role.as_str().replace('_', " ")
                    )),
                }
            }
        }
        None => {
            notes.push(match owner {
                Some(o) => format!("owner {o} is not in the CSM team; sent to the unowned queue"),
                None => "the account has no CSM; sent to the unowned queue".to_string(),
            });
            for id in &config.unowned.notify_csm_ids {
                match hierarchy.person(id) {
                    Some(person) if !person.active => notes.push(format!(
                        "{} (unowned queue) is not active; not notified",
                        person.name
                    )),
                    Some(person) => {
                        if !recipients.iter().any(|r| r.csm_id == person.csm_id) {
                            recipients.push(Recipient {
                                role: Role::Csm,
                                csm_id: person.csm_id.clone(),
                                name: person.name.clone(),
                                email: person.email.clone(),
                            });
                        }
                    }
                    None => notes.push(format!(
                        "unowned queue: {id} is not in the CSM team; not notified"
                    )),
                }
            }
            if recipients.is_empty() {
                notes.push(
                    "nobody in the unowned queue could be notified (`[unowned] notify_csm_ids` of config/alerts.toml)"
                        .to_string(),
                );
            }
        }
    }
    Routing {
        route: index,
        recipients,
        interrupt,
        notes,
    }
}
