//! Draining the outbox: at-least-once delivery. Each attempt is counted in the store
//! before the message is handed to its notifier, so a crash during the send leaves the
//! message pending (sent again after restart, with the same idempotency key, which the
//! receiver uses to drop the repeat) and a message that crashes the sender cannot loop
//! forever. Failures wait the back-off (or the receiver's `Retry-After`, if longer);
//! after the last attempt, or a failure that retrying cannot fix, the message is dead:
//! `coco outbox list --status dead` shows it, `coco outbox retry ID` queues it again.
//!
//! Destinations of Slack and webhook messages are stored by name (the team's channel,
//! `webhook`) and resolved to URLs at send time: URLs are secrets that stay out of the
//! store, and a fixed URL applies to messages already queued.

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use coco_actions::notify::{
    Channel, Envelope, Notifier, NotifySettings, SendError, SmtpSecurity, SmtpSettings,
};
use coco_store::Store;
use coco_store::actions::OutboxRow;
use serde::Serialize;

use super::ActionsConfig;
use crate::EngineError;

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub attempted: usize,
    pub delivered: usize,
    /// Failed this time, to be retried after the back-off.
    pub retrying: usize,
    /// Given up on (dead-lettered) this time.
    pub dead: usize,
}

impl DeliveryReport {
    fn add(&mut self, other: DeliveryReport) {
        self.attempted += other.attempted;
        self.delivered += other.delivered;
        self.retrying += other.retrying;
        self.dead += other.dead;
    }
}

fn env_value(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The notifiers as configured, secrets read from the environment.
pub fn notifier(actions: &ActionsConfig) -> Result<Notifier, EngineError> {
    let n = &actions.notifications;
    let smtp = n.email.enabled.then(|| SmtpSettings {
        host: n.email.host.clone(),
        port: n.email.port,
        security: n.email.security,
        username: Some(n.email.username.clone()).filter(|u| !u.is_empty()),
        password: env_value(&n.email.password_env),
        from: n.email.from.clone(),
    });
    if let Some(smtp) = &smtp
        && smtp.security == SmtpSecurity::None
        && !matches!(smtp.host.as_str(), "127.0.0.1" | "localhost" | "::1")
    {
        tracing::warn!(
            host = smtp.host,
            "email.security = none sends mail in clear to a relay that is not on loopback"
        );
    }
    Notifier::new(NotifySettings {
        timeout: Duration::from_secs(n.delivery.timeout_seconds),
        webhook_secret: env_value(&n.webhook.secret_env),
        smtp,
        ..NotifySettings::default()
    })
    .map_err(|e| EngineError::Invalid(format!("{}: {e}", actions.notifications_origin)))
}

/// The URL behind a stored destination name.
fn resolve(actions: &ActionsConfig, message: &OutboxRow) -> Result<String, SendError> {
    let n = &actions.notifications;
    let from = |url: &str, url_env: &str, what: &str| {
        if !url.is_empty() {
            return Ok(url.to_string());
        }
        env_value(url_env).ok_or_else(|| {
            SendError::permanent(format!(
                "{what} has no URL: set `url`, or the variable `{url_env}` ({})",
                actions.notifications_origin
            ))
        })
    };
    match message.channel.as_str() {
        "slack" => {
            let channel = n
                .slack
                .channels
                .iter()
                .find(|c| c.team == message.destination)
                .ok_or_else(|| {
                    SendError::permanent(format!(
                        "no [[slack.channels]] entry for team `{}` any more",
                        message.destination
                    ))
                })?;
            from(
                &channel.url,
                &channel.url_env,
                &format!("the Slack channel of team `{}`", channel.team),
            )
        }
        "webhook" => from(&n.webhook.url, &n.webhook.url_env, "the webhook"),
        _ => Ok(message.destination.clone()),
    }
}

fn envelope(actions: &ActionsConfig, message: &OutboxRow) -> Result<Envelope, SendError> {
    let channel: Channel = message
        .channel
        .parse()
        .map_err(|e: coco_actions::notify::ParseError| SendError::permanent(e.to_string()))?;
    Ok(Envelope {
        idempotency_key: message.idempotency_key.clone(),
        channel,
        destination: resolve(actions, message)?,
        subject: message.subject.clone(),
        body_text: message.body_text.clone(),
        body_html: message.body_html.clone(),
        payload: message.payload.clone(),
    })
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// One pass: every message due now (up to the batch size), one attempt each.
pub fn deliver_due(
    store: &Store,
    actions: &ActionsConfig,
    notifier: &Notifier,
) -> Result<DeliveryReport, EngineError> {
    let backoff = actions.notifications.backoff();
    let mut report = DeliveryReport::default();
    let due = store.due_messages(now(), actions.notifications.delivery.batch)?;
    for message in due {
        let attempt = store.mark_attempt(message.message_id, now())?;
        let attempt = u32::try_from(attempt).unwrap_or(u32::MAX);
        report.attempted += 1;
        let sent = envelope(actions, &message).and_then(|e| notifier.send(&e, attempt));
        match sent {
            Ok(sent) => {
                store.mark_delivered(message.message_id, now(), &sent.detail)?;
                report.delivered += 1;
                tracing::info!(
                    message = message.message_id,
                    key = message.idempotency_key,
                    channel = message.channel,
                    attempt,
                    detail = sent.detail,
                    "delivered"
                );
            }
            Err(error) => {
                let give_up = !error.retryable || backoff.exhausted(attempt);
                let retry_at = (!give_up).then(|| {
                    let wait = backoff
                        .delay_before(attempt + 1, &message.idempotency_key)
                        .max(error.retry_after.unwrap_or_default());
                    now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
                });
                let reason = format!("attempt {attempt}: {}", error.reason);
                store.mark_failed(message.message_id, &reason, retry_at)?;
                if give_up {
                    report.dead += 1;
                    tracing::warn!(
                        message = message.message_id,
                        key = message.idempotency_key,
                        reason,
                        "dead-lettered"
                    );
                } else {
                    report.retrying += 1;
                    tracing::info!(
                        message = message.message_id,
                        reason,
                        retry_at = retry_at.map(|t| t.to_string()),
                        "will retry"
                    );
                }
            }
        }
    }
    Ok(report)
}

/// Passes until nothing is pending or `max_wait` has passed, sleeping until the next
/// message is due (checked at least every second).
pub fn deliver_until_empty(
    store: &Store,
    actions: &ActionsConfig,
    notifier: &Notifier,
    max_wait: Duration,
) -> Result<(DeliveryReport, usize), EngineError> {
    let started = std::time::Instant::now();
    let mut total = DeliveryReport::default();
    loop {
        total.add(deliver_due(store, actions, notifier)?);
        let Some(next) = store.next_pending_at()? else {
            return Ok((total, 0));
        };
        let elapsed = started.elapsed();
        if elapsed >= max_wait {
            let left = store.outbox_counts()?.get("pending").copied().unwrap_or(0);
            return Ok((total, left));
        }
        let until_next = (next - now()).to_std().unwrap_or(Duration::ZERO);
        std::thread::sleep(
            until_next
                .min(Duration::from_secs(1))
                .min(max_wait - elapsed)
                .max(Duration::from_millis(50)),
        );
    }
}
