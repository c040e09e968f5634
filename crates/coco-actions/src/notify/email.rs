//! Email through an SMTP relay, one connection per attempt.
//!
//! lettre's connection pool is left out: attempts are minutes apart (the back-off), so a
//! pooled connection would mostly be one the relay has already closed.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::{
    Envelope, HEADER_EMAIL_IDEMPOTENCY_KEY, MESSAGE_ID_DOMAIN, NotifyError, SendError,
    SmtpSecurity, SmtpSettings,
};

pub(super) struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    timeout: Duration,
}

impl Mailer {
    pub(super) fn new(settings: &SmtpSettings, timeout: Duration) -> Result<Mailer, NotifyError> {
        let from: Mailbox =
            settings
                .from
                .trim()
                .parse()
                .map_err(
                    |e: lettre::address::AddressError| NotifyError::FromAddress {
                        address: settings.from.clone(),
                        reason: e.to_string(),
                    },
                )?;
        let host = settings.host.trim();
        if host.is_empty() {
            return Err(NotifyError::Setting {
                setting: "smtp.host",
                reason: "is empty".into(),
            });
        }
        let tls = match settings.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_parameters(host)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters(host)?),
        };
        let mut builder = SmtpTransport::builder_dangerous(host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(timeout));
        match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(NotifyError::Setting {
                    setting: "smtp.password",
                    reason: "is missing while smtp.username is set".into(),
                });
            }
            (None, Some(_)) => {
                return Err(NotifyError::Setting {
                    setting: "smtp.username",
                    reason: "is missing while smtp.password is set".into(),
                });
            }
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            timeout,
        })
    }

    /// Returns the relay's reply, e.g. `SMTP 250 2.0.0 Ok: queued as 4F2A`.
    pub(super) fn send(&self, envelope: &Envelope) -> Result<String, SendError> {
        let message = self.message(envelope)?;
        match self.transport.send(&message) {
            Ok(response) => {
                let text: Vec<&str> = response.message().collect();
                Ok(format!("SMTP {} {}", response.code(), text.join(" "))
                    .trim_end()
                    .to_owned())
            }
            Err(error) => Err(classify(&error, self.timeout)),
        }
    }

    fn message(&self, envelope: &Envelope) -> Result<Message, SendError> {
        let recipients = recipients(&envelope.destination)?;
        let key = &envelope.idempotency_key;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(envelope.subject.as_str())
            // The same id on every attempt lets mail clients and archives fold a
            // duplicate delivery (the relay accepted, the reply was lost) into one.
            .message_id(Some(message_id(key)))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(HEADER_EMAIL_IDEMPOTENCY_KEY),
                key.clone(),
            ));
        for to in recipients {
            builder = builder.to(to);
        }
        let built = match &envelope.body_html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                envelope.body_text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(SinglePart::plain(envelope.body_text.clone())),
        };
        built.map_err(|e| SendError::permanent(format!("could not build the email: {e}")))
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, NotifyError> {
    TlsParameters::new(host.to_owned()).map_err(|e| NotifyError::Tls {
        host: host.to_owned(),
        reason: e.to_string(),
    })
}

fn recipients(destination: &str) -> Result<Vec<Mailbox>, SendError> {
    let mut out = Vec::new();
    for raw in destination
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        let mailbox = raw
            .parse::<Mailbox>()
            .map_err(|e| SendError::permanent(format!("invalid email recipient '{raw}': {e}")))?;
        out.push(mailbox);
    }
    if out.is_empty() {
        return Err(SendError::permanent("the email envelope has no recipients"));
    }
    Ok(out)
}

/// `<{key}@coco.local>` with the key escaped into an RFC 5322 id-left: letters, digits,
/// `-` and `_` stay, every other byte becomes `=XX`. The escape is one-to-one, so two
/// keys never share an id.
pub(super) fn message_id(key: &str) -> String {
    let mut left = String::with_capacity(key.len());
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            left.push(char::from(byte));
        } else {
            left.push_str(&format!("={byte:02X}"));
        }
    }
    format!("<{left}@{MESSAGE_ID_DOMAIN}>")
}

/// SMTP's own split: 4xx replies mean "later", 5xx "never for this message". A message
/// lettre cannot build is never going to work; everything else (refused, reset, timed
/// out, TLS handshake, a garbled reply) happened before the relay decided, so retry.
fn classify(error: &lettre::transport::smtp::Error, timeout: Duration) -> SendError {
    if error.is_permanent() {
        SendError::permanent(format!("the SMTP server refused the message: {error}"))
    } else if error.is_transient() {
        SendError::retryable(format!("the SMTP server deferred the message: {error}"))
    } else if is_timeout(error) {
        SendError::retryable(format!(
            "the SMTP server did not answer within {timeout:?}: {error}"
        ))
    } else if error.is_client() {
        SendError::permanent(format!("could not send the email: {error}"))
    } else {
        SendError::retryable(format!("could not deliver to the SMTP server: {error}"))
    }
}

/// lettre's `is_timeout` looks for `ErrorKind::TimedOut`, but a socket read timeout
/// surfaces on Unix as `WouldBlock` (EAGAIN), which would read as a vague network error.
fn is_timeout(error: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            );
        }
        source = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_escape_the_key_one_to_one() {
        assert_eq!(message_id("alert-42_x"), "<alert-42_x@coco.local>");
        assert_eq!(message_id("alert:42"), "<alert=3A42@coco.local>");
        assert_eq!(message_id("a.b@c=d"), "<a=2Eb=40c=3Dd@coco.local>");
        assert_ne!(message_id("a:b"), message_id("a=3Ab"));
    }

    #[test]
    fn recipients_are_split_and_checked() {
        let list = recipients(" ana@example.com, Bo <bo@example.com>,, ").ok();
        assert_eq!(list.map(|l| l.len()), Some(2));
        let err = recipients("ana@example.com, not an address").err();
        assert!(
            err.as_ref()
                .is_some_and(|e| !e.retryable && e.reason.contains("'not an address'")),
            "{err:?}"
        );
        assert!(recipients(" , ").is_err());
    }
}
