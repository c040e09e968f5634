//! Intervention outcomes as of a date: each recorded intervention with the health at the
//! snapshots before and after it and the renewal decided after it — only what was known
//! at the date — judged and tallied by `coco_actions::outcomes`.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use coco_actions::outcomes::{self, InterventionFacts, OutcomeReport, Recommendation};
use coco_store::Store;
use coco_store::snapshots::SnapshotInfo;

use super::ActionsConfig;
use crate::{Config, EngineError};

/// Health of one account at the latest snapshot on or before a date, reading each
/// snapshot's scores once.
struct HealthAt<'a> {
    store: &'a Store,
    /// Snapshots of the current catalogue, oldest first.
    snapshots: Vec<SnapshotInfo>,
    scores: HashMap<i64, HashMap<String, Option<f64>>>,
}

impl HealthAt<'_> {
    fn get(&mut self, account: &str, on: NaiveDate) -> Result<Option<f64>, EngineError> {
        let Some(snapshot) = self.snapshots.iter().rev().find(|s| s.as_of <= on) else {
            return Ok(None);
        };
        let id = snapshot.snapshot_id;
        if !self.scores.contains_key(&id) {
            let briefs = self.store.health_briefs(id)?;
            self.scores
                .insert(id, briefs.into_iter().map(|(a, (s, _))| (a, s)).collect());
        }
        Ok(self.scores[&id].get(account).copied().flatten())
    }
}

pub fn facts(
    store: &Store,
    config: &Config,
    actions: &ActionsConfig,
    as_of: NaiveDate,
) -> Result<Vec<InterventionFacts>, EngineError> {
    let settings = &actions.playbooks.outcomes;
    let interventions = store.interventions(as_of)?;
    if interventions.is_empty() {
        return Ok(Vec::new());
    }
    let fingerprint = config.catalogue.fingerprint();
    let mut snapshots: Vec<SnapshotInfo> = store
        .list_snapshots()?
        .into_iter()
        .filter(|s| s.catalogue_fingerprint == fingerprint && s.as_of <= as_of)
        .collect();
    snapshots.sort_by_key(|s| s.as_of);
    let mut health = HealthAt {
        store,
        snapshots,
        scores: HashMap::new(),
    };
    let mut decisions: HashMap<String, Vec<(NaiveDate, bool)>> = HashMap::new();
    for d in store.renewal_decisions()? {
        if d.decided_on <= as_of {
            decisions
                .entry(d.account_id)
                .or_default()
                .push((d.decided_on, d.outcome == "churned"));
        }
    }
    let mut out = Vec::with_capacity(interventions.len());
    for i in interventions {
        let health_before = health.get(&i.account_id, i.done_on)?;
        let mut health_after = Vec::new();
        for day in &settings.follow_up_days {
            let on = i.done_on + Days::new(u64::from(*day));
            let value = if on <= as_of {
                health.get(&i.account_id, on)?
            } else {
                None
            };
            health_after.push((*day, value));
        }
        let window_end = i.done_on + Days::new(u64::from(settings.window_days));
        let renewal = decisions.get(&i.account_id).and_then(|list| {
            list.iter()
                .filter(|(on, _)| *on > i.done_on && *on <= window_end)
                .min_by_key(|(on, _)| *on)
        });
        out.push(InterventionFacts {
            intervention_id: i.intervention_id,
            account_id: i.account_id,
            play: i.play,
            profile: i.profile,
            channel: i.channel,
            stakeholder: i.stakeholder,
            done_on: i.done_on,
            health_before,
            health_after,
            renewal_churned: renewal.map(|(_, churned)| *churned),
            renewal_decided_on: renewal.map(|(on, _)| *on),
        });
    }
    Ok(out)
}

/// Success rate per play × profile as of `as_of`.
pub fn report(
    store: &Store,
    config: &Config,
    actions: &ActionsConfig,
    as_of: NaiveDate,
) -> Result<OutcomeReport, EngineError> {
    let facts = facts(store, config, actions, as_of)?;
    Ok(outcomes::report(&facts, &actions.playbooks.outcomes, as_of))
}

/// The play with the best record for a risk profile (every configured playbook a
/// candidate).
pub fn recommendation(
    store: &Store,
    config: &Config,
    actions: &ActionsConfig,
    as_of: NaiveDate,
    profile: &str,
) -> Result<Recommendation, EngineError> {
    let report = report(store, config, actions, as_of)?;
    let candidates: Vec<String> = actions
        .playbooks
        .playbooks
        .iter()
        .map(|p| p.id.clone())
        .collect();
    Ok(outcomes::recommend(
        &report,
        profile,
        &candidates,
        &actions.playbooks.outcomes,
    ))
}
