//! Where messages go (`config/notifications.toml`): which channels are on, the Slack
//! channel of each team, the integration webhook and its events, delivery timing and
//! the scheduler. Secrets are named by environment variable here and read by the
//! engine, so this module stays pure.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use coco_insights::settings::{SettingsError, invalid};

use crate::notify::{Backoff, SmtpSecurity};

pub const DEFAULT_NOTIFICATIONS: &str = include_str!("../../../config/notifications.toml");

/// Webhook events COCO emits.
pub const WEBHOOK_EVENTS: &[&str] = &["alert.opened", "alert.resolved"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    pub version: String,
    pub base_url: String,
    pub delivery: DeliverySettings,
    pub schedule: ScheduleSettings,
    pub email: EmailSettings,
    pub slack: SlackSettings,
    pub webhook: WebhookSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    pub timeout_seconds: u64,
    pub backoff_base_seconds: u64,
    pub backoff_factor: f64,
    pub backoff_max_seconds: u64,
    pub max_attempts: u32,
    pub batch: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    pub enabled: bool,
    /// Cron expression (sec min hour day-of-month month day-of-week, UTC).
    pub daily: String,
    pub deliver_every_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password_env: String,
    pub from: String,
    pub alerts: bool,
    pub digest: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSettings {
    pub enabled: bool,
    #[serde(default)]
    pub channels: Vec<SlackChannel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackChannel {
    /// `csms.team`, or `*` for every team without its own entry.
    pub team: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub url_env: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub enabled: bool,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub url_env: String,
    #[serde(default)]
    pub secret_env: String,
    #[serde(default)]
    pub events: Vec<String>,
}

impl NotificationsConfig {
    pub fn from_toml(text: &str) -> Result<NotificationsConfig, SettingsError> {
        Ok(toml::from_str(text)?)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let d = &self.delivery;
        if d.timeout_seconds == 0 {
            return Err(invalid("delivery.timeout_seconds", "must be at least 1"));
        }
        if d.max_attempts == 0 {
            return Err(invalid("delivery.max_attempts", "must be at least 1"));
        }
        if d.batch == 0 {
            return Err(invalid("delivery.batch", "must be at least 1"));
        }
        if !(d.backoff_factor.is_finite() && d.backoff_factor >= 1.0) {
            return Err(invalid("delivery.backoff_factor", "must be a number ≥ 1"));
        }
        if d.backoff_max_seconds < d.backoff_base_seconds {
            return Err(invalid(
                "delivery.backoff_max_seconds",
                "must be at least backoff_base_seconds",
            ));
        }
        if self.schedule.deliver_every_seconds == 0 {
            return Err(invalid(
                "schedule.deliver_every_seconds",
                "must be at least 1",
            ));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(invalid(
                "base_url",
                format!("`{}` must start with http:// or https://", self.base_url),
            ));
        }
        if self.email.enabled {
            if self.email.host.trim().is_empty() {
                return Err(invalid("email.host", "is empty while email is enabled"));
            }
            if !self.email.from.contains('@') {
                return Err(invalid(
                    "email.from",
                    format!(
                        "`{}` is not a mailbox (e.g. COCO <coco@example.com>)",
                        self.email.from
                    ),
                ));
            }
        }
        if self.slack.enabled && self.slack.channels.is_empty() {
            return Err(invalid(
                "slack.channels",
                "slack is enabled but has no [[slack.channels]] entry",
            ));
        }
        for (i, channel) in self.slack.channels.iter().enumerate() {
            if self.slack.enabled && channel.url.is_empty() && channel.url_env.is_empty() {
                return Err(invalid(
                    &format!("slack.channels[{i}]"),
                    format!("(team {}) has neither url nor url_env", channel.team),
                ));
            }
        }
        for (i, event) in self.webhook.events.iter().enumerate() {
            if !WEBHOOK_EVENTS.contains(&event.as_str()) {
                return Err(invalid(
                    &format!("webhook.events[{i}]"),
                    format!(
                        "unknown event `{event}` (known: {})",
                        WEBHOOK_EVENTS.join(", ")
                    ),
                ));
            }
        }
        if self.webhook.enabled {
            if self.webhook.url.is_empty() && self.webhook.url_env.is_empty() {
                return Err(invalid(
                    "webhook.url",
                    "webhook is enabled but has neither url nor url_env",
                ));
            }
            if self.webhook.secret_env.is_empty() {
                return Err(invalid(
                    "webhook.secret_env",
                    "webhook is enabled without secret_env: webhooks are always signed",
                ));
            }
        }
        Ok(())
    }

    pub fn backoff(&self) -> Backoff {
        let d = &self.delivery;
        Backoff {
            base: Duration::from_secs(d.backoff_base_seconds),
            factor: d.backoff_factor,
            max_delay: Duration::from_secs(d.backoff_max_seconds),
            max_attempts: d.max_attempts,
        }
    }

    /// The Slack entry for a team: its own, else the `*` one.
    pub fn slack_channel(&self, team: Option<&str>) -> Option<&SlackChannel> {
        if !self.slack.enabled {
            return None;
        }
        let channels = &self.slack.channels;
        team.and_then(|t| channels.iter().find(|c| c.team == t))
            .or_else(|| channels.iter().find(|c| c.team == "*"))
    }

    pub fn webhook_wants(&self, event: &str) -> bool {
        self.webhook.enabled && self.webhook.events.iter().any(|e| e == event)
    }

    /// The dashboard page of an account.
    pub fn account_url(&self, account_id: &str) -> String {
        format!(
            "{}/accounts/{}",
            self.base_url.trim_end_matches('/'),
            url_segment(account_id)
        )
    }

    /// A CSM's "My day" page.
    pub fn my_day_url(&self, csm_id: &str) -> String {
        format!(
            "{}/today?csm={}",
            self.base_url.trim_end_matches('/'),
            url_segment(csm_id)
        )
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_validates() {
        let config = NotificationsConfig::from_toml(DEFAULT_NOTIFICATIONS).unwrap();
        config.validate().unwrap();
        assert_eq!(config.backoff().max_attempts, 8);
        assert!(config.slack_channel(Some("x")).is_none(), "slack is off");
    }

    #[test]
    fn a_team_gets_its_own_channel_else_the_default() {
        let mut config = NotificationsConfig::from_toml(DEFAULT_NOTIFICATIONS).unwrap();
        config.slack.enabled = true;
        config.slack.channels.push(SlackChannel {
            team: "Enterprise".into(),
            url: "http://e".into(),
            url_env: String::new(),
        });
        assert_eq!(
            config.slack_channel(Some("Enterprise")).unwrap().url,
            "http://e"
        );
        assert_eq!(config.slack_channel(Some("SMB")).unwrap().team, "*");
        assert_eq!(config.slack_channel(None).unwrap().team, "*");
    }

    #[test]
    fn webhooks_must_be_signed_and_events_known() {
        let mut config = NotificationsConfig::from_toml(DEFAULT_NOTIFICATIONS).unwrap();
        config.webhook.enabled = true;
        config.webhook.url = "http://127.0.0.1:1/hook".into();
        config.webhook.secret_env.clear();
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("signed")
        );
        config.webhook.secret_env = "S".into();
        config.webhook.events.push("alert.exploded".into());
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("webhook.events[2]"), "{error}");
    }

    #[test]
    fn urls_are_encoded() {
        let config = NotificationsConfig::from_toml(DEFAULT_NOTIFICATIONS).unwrap();
        assert_eq!(
            config.account_url("ACC 1/2"),
            "http://127.0.0.1:8080/accounts/ACC%201%2F2"
        );
    }
}
