//! Turning insight into action: the daily run (score → predictions → alerts → digests
//! → delivery) with its run log, the daily lists, intervention outcomes and the outbox.
//! The decisions are `coco-actions`' pure functions; this module reads their inputs from
//! the store and writes their results back.
//!
//! - [`alerts`]: one alert run — inputs, evaluation, de-duplication, routing, tasks,
//!   escalation, context packs, messages.
//! - [`today`]: each CSM's ordered list for the day.
//! - [`outcomes`]: what followed each recorded intervention; the best play per profile.
//! - [`outbox`]: at-least-once delivery with back-off and dead letters.
//! - [`daily`]: `coco run daily` and the run log.

pub mod alerts;
pub mod daily;
pub mod outbox;
pub mod outcomes;
pub mod today;

use std::path::Path;

use chrono::NaiveDate;
use coco_actions::state::AlertStatus;
use coco_store::Store;
use coco_store::actions::AlertRow;

use coco_actions::channels::{DEFAULT_NOTIFICATIONS, NotificationsConfig};
use coco_actions::playbooks::{DEFAULT_PLAYBOOKS, PlaybooksConfig};
use coco_actions::rules::{AlertsConfig, DEFAULT_ALERTS};

use crate::{Config, EngineError};

pub const ALERTS_FILE: &str = "alerts.toml";
pub const PLAYBOOKS_FILE: &str = "playbooks.toml";
pub const NOTIFICATIONS_FILE: &str = "notifications.toml";

/// Alert rules, playbooks and notification settings: shipped defaults, each replaced
/// whole by a file of the same name in the config folder.
#[derive(Debug, Clone)]
pub struct ActionsConfig {
    pub alerts: AlertsConfig,
    pub alerts_origin: String,
    pub playbooks: PlaybooksConfig,
    pub playbooks_origin: String,
    pub notifications: NotificationsConfig,
    pub notifications_origin: String,
    pub schedule: cron::Schedule,
}

fn read(dir: Option<&Path>, name: &str, shipped: &str) -> Result<(String, String), EngineError> {
    if let Some(dir) = dir {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => return Ok((text, path.display().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(EngineError::ConfigFile { path, source }),
        }
    }
    Ok((shipped.to_string(), "shipped defaults".to_string()))
}

impl ActionsConfig {
    /// Loads and validates against the metric catalogue and the journey's stages.
    pub fn load(dir: Option<&Path>, config: &Config) -> Result<ActionsConfig, EngineError> {
        let invalid =
            |origin: &str, message: String| EngineError::Invalid(format!("{origin}: {message}"));
        let metas = config.metric_metas();
        let (text, alerts_origin) = read(dir, ALERTS_FILE, DEFAULT_ALERTS)?;
        let alerts =
            AlertsConfig::from_toml(&text).map_err(|e| invalid(&alerts_origin, e.to_string()))?;
        alerts
            .validate(&metas)
            .map_err(|e| invalid(&alerts_origin, e.to_string()))?;
        let (text, playbooks_origin) = read(dir, PLAYBOOKS_FILE, DEFAULT_PLAYBOOKS)?;
        let playbooks = PlaybooksConfig::from_toml(&text)
            .map_err(|e| invalid(&playbooks_origin, e.to_string()))?;
        let stages: Vec<String> = config
            .journey
            .stages
            .iter()
            .map(|s| s.key.clone())
            .collect();
        playbooks
            .validate(&alerts, &stages, &metas)
            .map_err(|e| invalid(&playbooks_origin, e.to_string()))?;
        let (text, notifications_origin) = read(dir, NOTIFICATIONS_FILE, DEFAULT_NOTIFICATIONS)?;
        let notifications = NotificationsConfig::from_toml(&text)
            .map_err(|e| invalid(&notifications_origin, e.to_string()))?;
        notifications
            .validate()
            .map_err(|e| invalid(&notifications_origin, e.to_string()))?;
        let schedule: cron::Schedule = notifications.schedule.daily.parse().map_err(|e| {
            invalid(
                &notifications_origin,
                format!(
                    "schedule.daily `{}` is not a cron expression (sec min hour day month weekday): {e}",
                    notifications.schedule.daily
                ),
            )
        })?;
        Ok(ActionsConfig {
            alerts,
            alerts_origin,
            playbooks,
            playbooks_origin,
            notifications,
            notifications_origin,
            schedule,
        })
    }
}

/// A person's change of an alert's status (acknowledge, snooze until a later date, close
/// with a reason, reopen), checked by [`AlertStatus::check_change`] — the one rule the
/// CLI and the server share. Returns the alert before and after.
pub fn set_alert_status(
    store: &Store,
    alert_id: i64,
    to: &str,
    on: NaiveDate,
    by: Option<&str>,
    reason: Option<&str>,
    until: Option<NaiveDate>,
) -> Result<(AlertRow, AlertRow), EngineError> {
    let target: AlertStatus = to.parse().map_err(EngineError::Invalid)?;
    let before = store.alert(alert_id)?;
    let current: AlertStatus = before.status.parse().map_err(EngineError::Invalid)?;
    current
        .check_change(target)
        .map_err(|why| EngineError::Conflict(format!("alert {alert_id}: {why}")))?;
    match (target, until) {
        (AlertStatus::Snoozed, None) => {
            return Err(EngineError::Invalid(
                "snoozing needs the date the alert comes back".into(),
            ));
        }
        (AlertStatus::Snoozed, Some(until)) if until <= on => {
            return Err(EngineError::Invalid(format!(
                "the snooze date {until} is not after {on}"
            )));
        }
        (AlertStatus::Snoozed, _) | (_, None) => {}
        (_, Some(_)) => {
            return Err(EngineError::Invalid(
                "a date to come back goes with snoozing only".into(),
            ));
        }
    }
    let after = store.set_alert_status(alert_id, to, on, by, reason, until)?;
    Ok((before, after))
}
