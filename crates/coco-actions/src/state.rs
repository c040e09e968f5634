//! De-duplication and cool-down: what a run's firings mean for the alerts already on
//! record. One alert per (rule, account) is open at a time; while it is open the same
//! condition only refreshes it; once it closes — by a person, or because its condition
//! no longer holds — the rule stays quiet on that account for the cool-down.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::rules::{AlertsConfig, Firing, names};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    /// Someone has seen it and is on it (still open).
    Acknowledged,
    /// Hidden until `snoozed_until` (still open).
    Snoozed,
    /// Its condition no longer held at a run.
    Resolved,
    /// Closed by a person.
    Closed,
}

names!(AlertStatus {
    Open => "open",
    Acknowledged => "acknowledged",
    Snoozed => "snoozed",
    Resolved => "resolved",
    Closed => "closed",
});

impl AlertStatus {
    /// Whether a person may set `to` on an alert that is `self`: reopening always;
    /// acknowledging, snoozing and closing only while it is open; `resolved` is what a
    /// run sets when the condition clears, never a person.
    pub fn check_change(self, to: AlertStatus) -> Result<(), String> {
        match to {
            AlertStatus::Open => Ok(()),
            AlertStatus::Resolved => {
                Err("resolved is set by a run when the condition clears; close it instead".into())
            }
            _ if self.is_open() => Ok(()),
            _ => Err(format!("the alert is {self}: reopen it first")),
        }
    }

    pub fn is_open(self) -> bool {
        matches!(
            self,
            AlertStatus::Open | AlertStatus::Acknowledged | AlertStatus::Snoozed
        )
    }
}

/// The latest alert on record for a (rule, account).
#[derive(Debug, Clone, PartialEq)]
pub struct KnownAlert {
    pub alert_id: i64,
    pub rule_id: String,
    pub account_id: String,
    pub status: AlertStatus,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub snoozed_until: Option<NaiveDate>,
}

/// What one run changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reconciliation {
    /// Indexes of firings that open a new alert.
    pub open: Vec<usize>,
    /// Open alerts whose condition still holds: (alert id, firing index).
    pub refresh: Vec<(i64, usize)>,
    /// Snoozed alerts whose snooze ended by the run's date and that still hold.
    pub wake: Vec<i64>,
    /// Open alerts whose condition no longer holds: resolved at this run.
    pub resolve: Vec<i64>,
    /// Firings held back by the cool-down: (firing index, quiet until, the alert closed).
    pub cooling: Vec<(usize, NaiveDate, i64)>,
}

/// Matches firings (with the account ids they refer to) against the alerts on record.
/// Alerts opened after `as_of` are ignored, so re-running an earlier date never closes
/// what a later run opened.
pub fn reconcile(
    config: &AlertsConfig,
    as_of: NaiveDate,
    firings: &[Firing],
    account_ids: &[String],
    known: &[KnownAlert],
) -> Reconciliation {
    let latest: HashMap<(&str, &str), &KnownAlert> = {
        let mut map: HashMap<(&str, &str), &KnownAlert> = HashMap::new();
        for alert in known.iter().filter(|a| a.opened_on <= as_of) {
            let key = (alert.rule_id.as_str(), alert.account_id.as_str());
            match map.get(&key) {
                Some(existing) if existing.alert_id > alert.alert_id => {}
                _ => {
                    map.insert(key, alert);
                }
            }
        }
        map
    };
    let mut out = Reconciliation::default();
    let mut still_firing = std::collections::HashSet::new();
    for (index, firing) in firings.iter().enumerate() {
        let rule = &config.rules[firing.rule];
        let account = account_ids[firing.account].as_str();
        match latest.get(&(rule.id.as_str(), account)) {
            Some(alert) if alert.status.is_open() => {
                still_firing.insert(alert.alert_id);
                out.refresh.push((alert.alert_id, index));
                if alert.status == AlertStatus::Snoozed
                    && alert.snoozed_until.is_none_or(|until| until <= as_of)
                {
                    out.wake.push(alert.alert_id);
                }
            }
            Some(alert) => {
                let cooldown = rule.cooldown_days.unwrap_or(config.settings.cooldown_days);
                let closed = alert.closed_on.unwrap_or(alert.opened_on);
                let quiet_until = closed
                    .checked_add_days(Days::new(u64::from(cooldown)))
                    .unwrap_or(NaiveDate::MAX);
                if as_of < quiet_until {
                    out.cooling.push((index, quiet_until, alert.alert_id));
                } else {
                    out.open.push(index);
                }
            }
            None => out.open.push(index),
        }
    }
    for alert in latest.values() {
        if alert.status.is_open() && !still_firing.contains(&alert.alert_id) {
            out.resolve.push(alert.alert_id);
        }
    }
    out.resolve.sort_unstable();
    out
}

#[cfg(test)]
mod change_tests {
    use super::AlertStatus::*;

    #[test]
    fn people_act_on_open_alerts_and_reopen_any_but_never_resolve() {
        for from in [Open, Acknowledged, Snoozed] {
            for to in [Acknowledged, Snoozed, Closed, Open] {
                assert!(from.check_change(to).is_ok(), "{from} → {to}");
            }
        }
        for from in [Resolved, Closed] {
            assert!(from.check_change(Open).is_ok());
            for to in [Acknowledged, Snoozed, Closed] {
                assert!(
                    from.check_change(to)
                        .unwrap_err()
                        .contains("reopen it first")
                );
            }
        }
        assert!(Open.check_change(Resolved).is_err());
    }
}
