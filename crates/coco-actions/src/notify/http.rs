//! Slack incoming webhooks and signed webhooks: one JSON POST per attempt.
//!
//! Reasons never contain the destination URL: a Slack incoming-webhook URL is itself the
//! credential, and reasons end up in the outbox, logs and the admin page.

pub(super) use coco_core::error_chain;
use std::io::Read;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use super::{
    Channel, Envelope, HEADER_ATTEMPT, HEADER_IDEMPOTENCY_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP,
    SendError, excerpt, sign,
};

/// How much of an error response is read: enough for the excerpt in the reason, and a
/// receiver answering with a huge page cannot hold the attempt for long.
const ERROR_BODY_LIMIT: u64 = 4096;
/// Characters of an error response kept in the reason.
const ERROR_BODY_EXCERPT: usize = 200;

/// Sends `envelope.payload`; signs it when `secret` is given (webhooks). Returns the
/// success detail (`HTTP 200`).
pub(super) fn send(
    client: &Client,
    timeout: Duration,
    envelope: &Envelope,
    attempt: u32,
    secret: Option<&[u8]>,
) -> Result<String, SendError> {
    let (label, peer) = names(envelope.channel);
    let payload = envelope.payload.as_deref().ok_or_else(|| {
        SendError::permanent(format!("the {label} envelope has no payload to POST"))
    })?;
    let url = reqwest::Url::parse(envelope.destination.trim()).map_err(|e| {
        SendError::permanent(format!("the {label} destination is not a valid URL ({e})"))
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(SendError::permanent(format!(
            "the {label} destination must be an http(s) URL, not {}:",
            url.scheme()
        )));
    }

    let mut request = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(HEADER_IDEMPOTENCY_KEY, envelope.idempotency_key.as_str())
        .header(HEADER_ATTEMPT, attempt.to_string());
    if let Some(secret) = secret {
        // Signed per attempt with the current time, so the receiver's replay window
        // applies to each delivery, not to when the alert was first queued.
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(secret, timestamp, payload.as_bytes());
        request = request
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_SIGNATURE, format!("sha256={signature}"));
    }

    let response = request
        .body(payload.to_owned())
        .send()
        .map_err(|e| transport_error(peer, timeout, e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(format!("HTTP {}", status.as_u16()));
    }
    Err(status_error(peer, response))
}

/// How reasons name the envelope and the peer.
fn names(channel: Channel) -> (&'static str, &'static str) {
    match channel {
        Channel::Slack => ("Slack", "Slack"),
        Channel::Webhook | Channel::Email => ("webhook", "the webhook receiver"),
    }
}

/// Nothing (or not all) came back: the peer may answer next time, except when the
/// request could not even be built.
fn transport_error(peer: &str, timeout: Duration, error: reqwest::Error) -> SendError {
    let error = error.without_url();
    let chain = error_chain(&error);
    if error.is_builder() {
        SendError::permanent(format!("could not build the request to {peer}: {chain}"))
    } else if error.is_timeout() {
        SendError::retryable(format!("{peer} did not answer within {timeout:?}: {chain}"))
    } else if error.is_connect() {
        SendError::retryable(format!("could not connect to {peer}: {chain}"))
    } else {
        SendError::retryable(format!("the request to {peer} failed: {chain}"))
    }
}

/// A non-2xx answer. 429 and 5xx say "later"; any other status says the request itself
/// is wrong (bad payload, revoked URL, archived channel), which a retry would repeat.
fn status_error(peer: &str, response: Response) -> SendError {
    let status = response.status();
    let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
    let retry_after = if retryable {
        retry_after(&response)
    } else {
        None
    };
    let mut body = Vec::new();
    // The status decides; a body that cannot be read only shortens the reason.
    let _ = response.take(ERROR_BODY_LIMIT).read_to_end(&mut body);
    let text = excerpt(&String::from_utf8_lossy(&body), ERROR_BODY_EXCERPT);
    let mut reason = format!(
        "{peer} answered HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim_end()
    .to_owned();
    if status.is_redirection() {
        reason.push_str(" (redirects are not followed: configure the final URL)");
    }
    if !text.is_empty() {
        reason.push_str(": ");
        reason.push_str(&text);
    }
    SendError {
        retryable,
        reason,
        retry_after,
    }
}

/// `Retry-After` in delay-seconds; the HTTP-date form is ignored (the back-off applies).
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}
