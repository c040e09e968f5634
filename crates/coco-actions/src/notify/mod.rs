//! Delivery of an already-rendered message: Slack incoming webhooks, signed webhooks and
//! SMTP. One call to [`Notifier::send`] is one attempt; whether and when to try again is
//! the outbox's decision, made from [`SendError::retryable`], [`SendError::retry_after`]
//! and [`Backoff`]. The contract for receivers (headers, signature, idempotency) is in
//! `docs/notifications.md`.

mod backoff;
mod email;
mod http;
mod signature;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use backoff::Backoff;
pub use signature::{sign, verify};

/// Header carrying the idempotency key on HTTP deliveries.
pub const HEADER_IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Header carrying the 1-based attempt number on HTTP deliveries.
pub const HEADER_ATTEMPT: &str = "X-Coco-Attempt";
/// Header carrying the Unix time (seconds) that the webhook signature covers.
pub const HEADER_TIMESTAMP: &str = "X-Coco-Timestamp";
/// Header carrying `sha256=<hex>` of [`sign`] on webhook deliveries.
pub const HEADER_SIGNATURE: &str = "X-Coco-Signature";
/// Header carrying the idempotency key on email deliveries.
pub const HEADER_EMAIL_IDEMPOTENCY_KEY: &str = "X-Coco-Idempotency-Key";
/// The right-hand side of every `Message-ID` COCO sends.
pub const MESSAGE_ID_DOMAIN: &str = "coco.local";
/// Longest idempotency key accepted. Keys travel in HTTP and mail headers, where a
/// line has a hard limit, and a receiver stores them in an index.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// What is sent. Stored in the outbox when enqueued and sent byte for byte on every
/// attempt, so a retry is the same message with the same idempotency key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    /// 1 to [`MAX_IDEMPOTENCY_KEY_LEN`] visible ASCII characters (no spaces).
    pub idempotency_key: String,
    pub channel: Channel,
    /// Slack / webhook: the URL. Email: the recipients, comma-separated.
    pub destination: String,
    /// Email subject (Slack/webhook carry their text in `payload`).
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// The JSON body POSTed to Slack / a webhook.
    pub payload: Option<String>,
}

/// How a message is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Slack,
    Webhook,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Slack, Channel::Webhook, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Slack => "slack",
            Channel::Webhook => "webhook",
            Channel::Email => "email",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseError {
                what: "notification channel",
                value: s.to_owned(),
                expected: "slack, webhook or email",
            })
    }
}

/// A name that is not one of a setting's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{value}' (expected {expected})")]
pub struct ParseError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// Everything the notifiers need to know that is not in an [`Envelope`].
#[derive(Clone)]
pub struct NotifySettings {
    /// Per attempt. HTTP: connect, send and response together. SMTP: connecting and
    /// each network read or write of the session (lettre has no whole-session limit).
    pub timeout: Duration,
    /// HMAC key for [`Channel::Webhook`]. Without it webhooks are refused, never sent
    /// unsigned: a receiver that checks signatures would drop them anyway, and one that
    /// does not should not be taught that unsigned calls are normal.
    pub webhook_secret: Option<String>,
    pub smtp: Option<SmtpSettings>,
    pub user_agent: String,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            timeout: Duration::from_secs(10),
            webhook_secret: None,
            smtp: None,
            user_agent: format!("COCO/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

// By hand, so that a settings dump in a log or an error does not carry the secrets.
impl fmt::Debug for NotifySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifySettings")
            .field("timeout", &self.timeout)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("smtp", &self.smtp)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// The SMTP relay mail is handed to.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The `From:` mailbox, e.g. `COCO <coco@example.com>`.
    pub from: String,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain text throughout: only for a relay on loopback (and the tests).
    None,
    /// Plain connect, then STARTTLS, which is required: a server that does not offer it
    /// fails the attempt rather than receive the message in clear.
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

impl SmtpSecurity {
    pub const ALL: [SmtpSecurity; 3] = [
        SmtpSecurity::None,
        SmtpSecurity::StartTls,
        SmtpSecurity::Tls,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::None => "none",
            SmtpSecurity::StartTls => "starttls",
            SmtpSecurity::Tls => "tls",
        }
    }
}

impl fmt::Display for SmtpSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SmtpSecurity {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SmtpSecurity::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseError {
                what: "SMTP security",
                value: s.to_owned(),
                expected: "none, starttls or tls",
            })
    }
}

/// A delivery that the peer accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// What the peer answered, e.g. `HTTP 200` or the SMTP reply.
    pub detail: String,
    pub elapsed: Duration,
}

/// An attempt that did not deliver.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    /// Whether the same envelope may succeed later (peer down, overloaded, timed out).
    /// `false` means the message or the settings must change first.
    pub retryable: bool,
    pub reason: String,
    /// The wait the receiver asked for (HTTP `Retry-After` in seconds), when it did.
    /// The outbox should wait at least this long, whatever [`Backoff`] says.
    pub retry_after: Option<Duration>,
}

impl SendError {
    pub fn permanent(reason: impl Into<String>) -> SendError {
        SendError {
            retryable: false,
            reason: reason.into(),
            retry_after: None,
        }
    }

    pub fn retryable(reason: impl Into<String>) -> SendError {
        SendError {
            retryable: true,
            reason: reason.into(),
            retry_after: None,
        }
    }
}

/// Settings that cannot work, found when the [`Notifier`] is built.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("invalid notification setting {setting}: {reason}")]
    Setting {
        setting: &'static str,
        reason: String,
    },
    #[error("invalid SMTP from address '{address}': {reason}")]
    FromAddress { address: String, reason: String },
    #[error("SMTP TLS setup for '{host}' failed: {reason}")]
    Tls { host: String, reason: String },
}

/// Sends envelopes, one attempt per [`Notifier::send`].
///
/// `send` blocks (HTTP through reqwest's blocking client, SMTP through lettre's
/// synchronous transport) for up to the timeout, and reqwest's blocking client panics
/// when it is created or used on a thread that is driving a tokio runtime. So from async
/// code call `send` inside `tokio::task::spawn_blocking` (as the server's outbox loop
/// does). `new` does no I/O and creates no HTTP client (that happens on the first HTTP
/// send), so it may be called anywhere; dropping a `Notifier` joins the HTTP client's
/// thread, which is quick but blocking.
pub struct Notifier {
    timeout: Duration,
    webhook_secret: Option<String>,
    user_agent: String,
    http: OnceLock<Result<reqwest::blocking::Client, String>>,
    smtp: Option<email::Mailer>,
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("timeout", &self.timeout)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("user_agent", &self.user_agent)
            .field("smtp", &self.smtp.is_some())
            .finish_non_exhaustive()
    }
}

impl Notifier {
    pub fn new(settings: NotifySettings) -> Result<Notifier, NotifyError> {
        if settings.timeout.is_zero() {
            return Err(NotifyError::Setting {
                setting: "timeout",
                reason: "must be more than zero".into(),
            });
        }
        if reqwest::header::HeaderValue::from_str(&settings.user_agent).is_err() {
            return Err(NotifyError::Setting {
                setting: "user_agent",
                reason: "must be printable ASCII on one line".into(),
            });
        }
        if settings.webhook_secret.as_deref() == Some("") {
            return Err(NotifyError::Setting {
                setting: "webhook_secret",
                reason: "is empty; leave it unset to disable webhooks".into(),
            });
        }
        let smtp = match &settings.smtp {
            Some(smtp) => Some(email::Mailer::new(smtp, settings.timeout)?),
            None => None,
        };
        Ok(Notifier {
            timeout: settings.timeout,
            webhook_secret: settings.webhook_secret,
            user_agent: settings.user_agent,
            http: OnceLock::new(),
            smtp,
        })
    }

    /// One attempt. `attempt` is 1-based (sent as a header so receivers can log it).
    pub fn send(&self, envelope: &Envelope, attempt: u32) -> Result<Sent, SendError> {
        let started = Instant::now();
        check_idempotency_key(&envelope.idempotency_key)?;
        let detail = match envelope.channel {
            Channel::Slack => http::send(self.http()?, self.timeout, envelope, attempt, None)?,
            Channel::Webhook => {
                let secret = self.webhook_secret.as_deref().ok_or_else(|| {
                    SendError::permanent(
                        "webhook_secret is not set: webhooks are only sent signed; \
                         set the webhook secret in the notification settings",
                    )
                })?;
                http::send(
                    self.http()?,
                    self.timeout,
                    envelope,
                    attempt,
                    Some(secret.as_bytes()),
                )?
            }
            Channel::Email => match &self.smtp {
                Some(mailer) => mailer.send(envelope)?,
                None => {
                    return Err(SendError::permanent(
                        "SMTP is not configured: set the smtp settings to send email",
                    ));
                }
            },
        };
        Ok(Sent {
            detail,
            elapsed: started.elapsed(),
        })
    }

    fn http(&self) -> Result<&reqwest::blocking::Client, SendError> {
        self.http
            .get_or_init(|| {
                reqwest::blocking::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.timeout)
                    .user_agent(self.user_agent.clone())
                    // A redirect would re-send a signed body to a URL nobody configured
                    // (and reqwest turns a redirected POST into a GET); the receiver's
                    // owner should fix the URL instead.
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| format!("HTTP client setup failed: {}", http::error_chain(&e)))
            })
            .as_ref()
            .map_err(|reason| SendError::permanent(reason.clone()))
    }
}

/// The key is the receivers' duplicate filter and travels in HTTP and mail headers, so
/// anything a header could mangle (control characters, spaces, non-ASCII) would make
/// two attempts of one notification look different, or break the request.
fn check_idempotency_key(key: &str) -> Result<(), SendError> {
    if key.is_empty() {
        return Err(SendError::permanent("idempotency_key is empty"));
    }
    if key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(SendError::permanent(format!(
            "idempotency_key is {} characters long (at most {MAX_IDEMPOTENCY_KEY_LEN})",
            key.len()
        )));
    }
    if let Some(bad) = key.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(SendError::permanent(format!(
            "idempotency_key contains {bad:?}: only visible ASCII characters are allowed"
        )));
    }
    Ok(())
}

/// At most `max` characters of `text`, trimmed, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
            assert_eq!(
                serde_json::to_string(&c).ok(),
                Some(format!("\"{}\"", c.as_str()))
            );
        }
        let err = "sms".parse::<Channel>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown notification channel 'sms' (expected slack, webhook or email)")
        );
    }

    #[test]
    fn smtp_security_names_round_trip() {
        for s in SmtpSecurity::ALL {
            assert_eq!(s.as_str().parse::<SmtpSecurity>(), Ok(s));
        }
        let err = "ssl".parse::<SmtpSecurity>().err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("'ssl'")));
    }

    #[test]
    fn idempotency_keys_are_header_safe() {
        assert!(check_idempotency_key("alert:42:2026-01-05").is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key("a b").is_err());
        assert!(check_idempotency_key("a\r\nX-Evil: 1").is_err());
        assert!(check_idempotency_key("é").is_err());
        assert!(check_idempotency_key(&"k".repeat(MAX_IDEMPOTENCY_KEY_LEN)).is_ok());
        assert!(check_idempotency_key(&"k".repeat(MAX_IDEMPOTENCY_KEY_LEN + 1)).is_err());
    }

    #[test]
    fn excerpt_cuts_on_characters() {
        assert_eq!(excerpt("  short  ", 200), "short");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
    }

    #[test]
    fn settings_debug_hides_secrets() {
        let settings = NotifySettings {
            webhook_secret: Some("hunter2".into()),
            smtp: Some(SmtpSettings {
                host: "mail".into(),
                port: 25,
                security: SmtpSecurity::None,
                username: Some("u".into()),
                password: Some("swordfish".into()),
                from: "c@example.com".into(),
            }),
            ..NotifySettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("swordfish"),
            "{shown}"
        );
    }
}
