//! The notifiers against real protocol peers: an HTTP/1.1 receiver on loopback and
//! aiosmtpd (see `support/`). Nothing is mocked; what a receiver sees is what it got.

mod support;

use std::time::{Duration, Instant};

use coco_actions::notify::{
    Channel, Envelope, Notifier, NotifyError, NotifySettings, SmtpSecurity, SmtpSettings, verify,
};
use support::{Receiver, SmtpSink, unused_port};

const SECRET: &str = "whsec_0123456789abcdef";
const SLACK_PATH: &str = "/services/T000/B000/sEcReTtOkEn";
const PAYLOAD: &str =
    "{\"text\":\"Acme Corp — health fell to 41 ↓\",\n  \"blocks\": [ {\"type\":\"divider\"} ]}";

fn settings(timeout: Duration) -> NotifySettings {
    NotifySettings {
        timeout,
        webhook_secret: Some(SECRET.to_owned()),
        smtp: None,
        user_agent: "COCO-test/1".to_owned(),
    }
}

fn notifier() -> Notifier {
    Notifier::new(settings(Duration::from_secs(5))).expect("notifier")
}

fn http_envelope(channel: Channel, url: String, key: &str) -> Envelope {
    Envelope {
        idempotency_key: key.to_owned(),
        channel,
        destination: url,
        subject: String::new(),
        body_text: "Acme Corp — health fell to 41".to_owned(),
        body_html: None,
        payload: Some(PAYLOAD.to_owned()),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------
// Slack and webhooks

#[test]
fn slack_delivery_carries_the_exact_payload_and_the_idempotency_key() {
    let receiver = Receiver::start();
    receiver.reply(200, &[], "ok");
    let envelope = http_envelope(
        Channel::Slack,
        receiver.url(SLACK_PATH),
        "alert:42:2026-01-05",
    );

    let sent = notifier().send(&envelope, 1).expect("delivered");

    assert_eq!(sent.detail, "HTTP 200");
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, SLACK_PATH);
    assert_eq!(
        request.body,
        PAYLOAD.as_bytes(),
        "payload sent byte for byte"
    );
    assert_eq!(
        request.header("Idempotency-Key"),
        Some("alert:42:2026-01-05")
    );
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert_eq!(request.header("X-Coco-Attempt"), Some("1"));
    assert_eq!(request.header("User-Agent"), Some("COCO-test/1"));
    assert_eq!(
        request.header("X-Coco-Signature"),
        None,
        "Slack does not get the webhook secret"
    );
}

#[test]
fn webhook_delivery_is_signed_and_the_signature_verifies() {
    let receiver = Receiver::start();
    receiver.reply(202, &[], "");
    let envelope = http_envelope(
        Channel::Webhook,
        receiver.url("/hooks/coco"),
        "alert:7:2026-01-05",
    );

    let sent = notifier().send(&envelope, 3).expect("delivered");

    assert_eq!(sent.detail, "HTTP 202");
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.body, PAYLOAD.as_bytes());
    assert_eq!(
        request.header("Idempotency-Key"),
        Some("alert:7:2026-01-05")
    );
    assert_eq!(request.header("X-Coco-Attempt"), Some("3"));
    let timestamp: i64 = request
        .header("X-Coco-Timestamp")
        .and_then(|t| t.parse().ok())
        .expect("a timestamp");
    assert!((now() - timestamp).abs() <= 5, "signed now: {timestamp}");
    let signature = request.header("X-Coco-Signature").expect("a signature");
    assert!(signature.starts_with("sha256="), "{signature}");

    assert!(verify(
        SECRET.as_bytes(),
        timestamp,
        &request.body,
        signature,
        now(),
        300
    ));
    let mut tampered = request.body.clone();
    tampered[10] ^= 1;
    assert!(!verify(
        SECRET.as_bytes(),
        timestamp,
        &tampered,
        signature,
        now(),
        300
    ));
    assert!(!verify(
        SECRET.as_bytes(),
        timestamp - 1,
        &request.body,
        signature,
        now(),
        300
    ));
    assert!(!verify(
        b"another secret",
        timestamp,
        &request.body,
        signature,
        now(),
        300
    ));
    assert!(!verify(
        SECRET.as_bytes(),
        timestamp,
        &request.body,
        signature,
        timestamp + 301,
        300
    ));
}

#[test]
fn a_webhook_without_a_secret_is_refused_not_sent_unsigned() {
    let receiver = Receiver::start();
    let notifier = Notifier::new(NotifySettings {
        webhook_secret: None,
        ..settings(Duration::from_secs(5))
    })
    .expect("notifier");
    let envelope = http_envelope(Channel::Webhook, receiver.url("/hooks/coco"), "k1");

    let error = notifier.send(&envelope, 1).expect_err("refused");

    assert!(!error.retryable);
    assert!(error.reason.contains("webhook_secret"), "{}", error.reason);
    assert!(receiver.requests().is_empty(), "nothing was sent");
}

#[test]
fn server_errors_and_throttling_are_retryable() {
    let receiver = Receiver::start();
    let notifier = notifier();
    let envelope = http_envelope(Channel::Webhook, receiver.url("/h"), "k-retry");

    receiver.reply(500, &[], "database is down");
    let error = notifier.send(&envelope, 1).expect_err("500");
    assert!(error.retryable, "{error:?}");
    assert!(error.reason.contains("HTTP 500"), "{}", error.reason);
    assert!(
        error.reason.contains("database is down"),
        "{}",
        error.reason
    );
    assert_eq!(error.retry_after, None);

    receiver.reply(429, &[("Retry-After", "7")], "slow down");
    let error = notifier.send(&envelope, 2).expect_err("429");
    assert!(error.retryable, "{error:?}");
    assert!(error.reason.contains("HTTP 429"), "{}", error.reason);
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));

    receiver.reply(429, &[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")], "");
    let error = notifier.send(&envelope, 3).expect_err("429 with a date");
    assert!(error.retryable);
    assert_eq!(error.retry_after, None, "only delay-seconds are honoured");

    receiver.reply(503, &[("Retry-After", "120")], "");
    let error = notifier.send(&envelope, 4).expect_err("503");
    assert!(error.retryable);
    assert_eq!(error.retry_after, Some(Duration::from_secs(120)));

    assert_eq!(receiver.requests().len(), 4);
    let keys: Vec<_> = receiver
        .requests()
        .iter()
        .map(|r| r.header("Idempotency-Key").map(str::to_owned))
        .collect();
    assert!(
        keys.iter().all(|k| k.as_deref() == Some("k-retry")),
        "same key on every attempt"
    );
}

#[test]
fn client_errors_are_permanent_and_quote_the_start_of_the_body() {
    let receiver = Receiver::start();
    let notifier = notifier();
    let envelope = http_envelope(Channel::Slack, receiver.url(SLACK_PATH), "k-400");

    let long_body = format!("invalid_payload {}", "x".repeat(500));
    receiver.reply(400, &[("Retry-After", "5")], &long_body);
    let error = notifier.send(&envelope, 1).expect_err("400");
    assert!(!error.retryable, "{error:?}");
    assert!(error.reason.contains("HTTP 400"), "{}", error.reason);
    assert!(error.reason.contains("invalid_payload"), "{}", error.reason);
    assert!(
        !error.reason.contains(&"x".repeat(200)),
        "at most 200 characters of the body"
    );
    assert!(error.reason.contains(&"x".repeat(150)), "{}", error.reason);
    assert_eq!(error.retry_after, None);

    receiver.reply(404, &[], "no_service");
    let error = notifier.send(&envelope, 1).expect_err("404");
    assert!(
        !error.retryable && error.reason.contains("no_service"),
        "{error:?}"
    );

    receiver.reply(301, &[("Location", "http://127.0.0.1:9/elsewhere")], "");
    let error = notifier.send(&envelope, 1).expect_err("301");
    assert!(
        !error.retryable && error.reason.contains("HTTP 301"),
        "{error:?}"
    );
    assert_eq!(
        receiver.requests().len(),
        3,
        "the redirect was not followed"
    );

    for request in receiver.requests() {
        assert_eq!(request.body, PAYLOAD.as_bytes());
    }
}

#[test]
fn a_receiver_that_is_down_is_retryable_and_the_url_stays_out_of_the_reason() {
    let url = format!("http://127.0.0.1:{}{SLACK_PATH}", unused_port());
    let envelope = http_envelope(Channel::Slack, url, "k-down");

    let error = notifier().send(&envelope, 1).expect_err("nobody listens");

    assert!(error.retryable, "{error:?}");
    assert!(error.reason.contains("connect"), "{}", error.reason);
    assert!(
        !error.reason.contains("sEcReTtOkEn"),
        "Slack URLs are credentials: {}",
        error.reason
    );
}

#[test]
fn a_receiver_slower_than_the_timeout_is_a_retryable_timeout() {
    let receiver = Receiver::start();
    receiver.delay(Duration::from_secs(5));
    let timeout = Duration::from_millis(800);
    let notifier = Notifier::new(settings(timeout)).expect("notifier");
    let envelope = http_envelope(Channel::Webhook, receiver.url("/slow"), "k-slow");

    let started = Instant::now();
    let error = notifier.send(&envelope, 1).expect_err("too slow");
    let elapsed = started.elapsed();

    assert!(error.retryable, "{error:?}");
    assert!(
        error.reason.contains("did not answer within 800ms"),
        "{}",
        error.reason
    );
    assert!(
        elapsed >= Duration::from_millis(700),
        "gave up early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(2500),
        "gave up late: {elapsed:?}"
    );
    assert_eq!(
        receiver.requests().len(),
        1,
        "the request itself did arrive"
    );
}

#[test]
fn receiver_down_then_up_delivers_exactly_once() {
    let port = unused_port();
    let envelope = http_envelope(
        Channel::Webhook,
        format!("http://127.0.0.1:{port}/hooks/coco"),
        "alert:99:2026-01-05",
    );
    let notifier = notifier();

    let first = notifier.send(&envelope, 1).expect_err("receiver down");
    assert!(first.retryable, "{first:?}");

    let receiver = Receiver::start_on(port);
    let sent = notifier.send(&envelope, 2).expect("receiver up");
    assert_eq!(sent.detail, "HTTP 200");

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("Idempotency-Key"),
        Some("alert:99:2026-01-05")
    );
    assert_eq!(requests[0].header("X-Coco-Attempt"), Some("2"));
    assert_eq!(requests[0].body, PAYLOAD.as_bytes());
}

#[test]
fn envelopes_that_cannot_be_sent_are_permanent_errors() {
    let receiver = Receiver::start();
    let notifier = notifier();
    let good = http_envelope(Channel::Slack, receiver.url(SLACK_PATH), "k-bad");

    let cases = [
        (
            "no payload",
            Envelope {
                payload: None,
                ..good.clone()
            },
            "payload",
        ),
        (
            "not a URL",
            Envelope {
                destination: "hooks.slack.com/services/T/B/sEcReT".into(),
                ..good.clone()
            },
            "not a valid URL",
        ),
        (
            "not http",
            Envelope {
                destination: "ftp://127.0.0.1/x".into(),
                ..good.clone()
            },
            "http",
        ),
        (
            "empty key",
            Envelope {
                idempotency_key: String::new(),
                ..good.clone()
            },
            "empty",
        ),
        (
            "key with a newline",
            Envelope {
                idempotency_key: "a\nb".into(),
                ..good.clone()
            },
            "\\n",
        ),
        (
            "email without SMTP settings",
            Envelope {
                channel: Channel::Email,
                destination: "a@example.com".into(),
                ..good.clone()
            },
            "SMTP is not configured",
        ),
    ];
    for (what, envelope, needle) in cases {
        let error = notifier.send(&envelope, 1).expect_err(what);
        assert!(!error.retryable, "{what}: {error:?}");
        assert!(error.reason.contains(needle), "{what}: {}", error.reason);
        assert!(!error.reason.contains("sEcReT"), "{what}: {}", error.reason);
    }
    assert!(receiver.requests().is_empty());
}

#[test]
fn envelopes_survive_the_outbox_round_trip() {
    let envelope = Envelope {
        body_html: Some("<p>hi</p>".into()),
        ..http_envelope(Channel::Email, "a@example.com".into(), "k")
    };
    let stored = serde_json::to_string(&envelope).expect("serialise");
    assert!(stored.contains("\"channel\":\"email\""), "{stored}");
    let back: Envelope = serde_json::from_str(&stored).expect("deserialise");
    assert_eq!(back, envelope);
}

// ---------------------------------------------------------------------------------
// Email

fn smtp_settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "COCO <coco@example.com>".into(),
    }
}

fn mailer(port: u16) -> Notifier {
    Notifier::new(NotifySettings {
        smtp: Some(smtp_settings(port)),
        ..settings(Duration::from_secs(5))
    })
    .expect("notifier")
}

fn email_envelope(destination: &str, key: &str) -> Envelope {
    Envelope {
        idempotency_key: key.to_owned(),
        channel: Channel::Email,
        destination: destination.to_owned(),
        subject: "Acme Corp: health fell to 41 — call before the renewal".to_owned(),
        body_text: "Acme Corp's health fell from 68 to 41 this week.\nOpen COCO for the drivers."
            .to_owned(),
        body_html: Some(
            "<p>Acme Corp&#39;s health fell from <b>68</b> to <b>41</b> this week.</p>".to_owned(),
        ),
        payload: None,
    }
}

#[test]
fn email_with_text_and_html_arrives_at_a_real_smtp_server() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let notifier = mailer(sink.port());
    let envelope = email_envelope(
        "ana@example.com, Bo Li <bo@example.com>",
        "alert:42:2026-01-05",
    );

    let sent = notifier.send(&envelope, 1).expect("delivered");
    assert!(sent.detail.starts_with("SMTP 250"), "{}", sent.detail);
    assert!(
        sent.detail.contains("stored as 0001"),
        "the server's reply: {}",
        sent.detail
    );

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail.rcpt_tos, ["ana@example.com", "bo@example.com"]);
    assert_eq!(mail.mail_from, "coco@example.com");
    assert_eq!(mail.header("Subject"), Some(envelope.subject.as_str()));
    assert_eq!(mail.header("From"), Some("COCO <coco@example.com>"));
    let to = mail.header("To").unwrap_or_default();
    assert!(
        to.contains("ana@example.com") && to.contains("Bo Li <bo@example.com>"),
        "{to}"
    );
    let message_id = mail.header("Message-ID").unwrap_or_default();
    assert_eq!(message_id, "<alert=3A42=3A2026-01-05@coco.local>");
    assert!(
        message_id.contains("alert")
            && message_id.contains("42")
            && message_id.contains("2026-01-05")
    );
    assert_eq!(
        mail.header("X-Coco-Idempotency-Key"),
        Some("alert:42:2026-01-05")
    );
    assert!(mail.header("Date").is_some());

    assert_eq!(mail.content_type, "multipart/alternative");
    assert_eq!(mail.parts.len(), 2, "{:?}", mail.parts);
    let (text_type, text) = &mail.parts[0];
    let (html_type, html) = &mail.parts[1];
    assert_eq!(text_type, "text/plain");
    assert_eq!(text.replace("\r\n", "\n").trim_end(), envelope.body_text);
    assert_eq!(html_type, "text/html");
    assert_eq!(
        html.replace("\r\n", "\n").trim_end(),
        envelope.body_html.as_deref().unwrap_or_default()
    );
    let raw = String::from_utf8_lossy(&mail.raw);
    assert!(raw.contains("multipart/alternative"), "{raw}");

    // A retry (say the relay's reply was lost) is the same message under the same id.
    notifier.send(&envelope, 2).expect("delivered again");
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].header("Message-ID"), Some(message_id));
    assert_eq!(messages[1].parts, messages[0].parts);
}

#[test]
fn email_without_html_is_plain_text() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let envelope = Envelope {
        body_html: None,
        ..email_envelope("ana@example.com", "digest-7")
    };

    mailer(sink.port()).send(&envelope, 1).expect("delivered");

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].content_type, "text/plain");
    assert_eq!(messages[0].parts.len(), 1);
    assert_eq!(
        messages[0].parts[0].1.replace("\r\n", "\n").trim_end(),
        envelope.body_text
    );
    assert_eq!(
        messages[0].header("Message-ID"),
        Some("<digest-7@coco.local>")
    );
}

#[test]
fn smtp_refusals_are_classified_by_reply_code() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let notifier = mailer(sink.port());

    let deferred = notifier
        .send(
            &email_envelope("ana@example.com, defer@example.com", "k-451"),
            1,
        )
        .expect_err("451");
    assert!(deferred.retryable, "{deferred:?}");
    assert!(deferred.reason.contains("451"), "{}", deferred.reason);

    let rejected = notifier
        .send(&email_envelope("reject@example.com", "k-550"), 1)
        .expect_err("550");
    assert!(!rejected.retryable, "{rejected:?}");
    assert!(rejected.reason.contains("550"), "{}", rejected.reason);

    assert!(sink.messages().is_empty(), "neither message was accepted");
}

#[test]
fn an_smtp_server_that_is_not_running_is_retryable() {
    let notifier = mailer(unused_port());

    let error = notifier
        .send(&email_envelope("ana@example.com", "k-nosmtp"), 1)
        .expect_err("down");

    assert!(error.retryable, "{error:?}");
}

#[test]
fn a_stalled_smtp_server_is_a_retryable_timeout() {
    // Accepts the connection and never sends its greeting.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let hold = std::thread::spawn(move || listener.accept().map(|(stream, _)| stream));
    let notifier = Notifier::new(NotifySettings {
        smtp: Some(smtp_settings(port)),
        ..settings(Duration::from_millis(800))
    })
    .expect("notifier");

    let started = Instant::now();
    let error = notifier
        .send(&email_envelope("ana@example.com", "k-stall"), 1)
        .expect_err("stall");
    let elapsed = started.elapsed();

    assert!(error.retryable, "{error:?}");
    assert!(error.reason.contains("800ms"), "{}", error.reason);
    assert!(
        elapsed >= Duration::from_millis(700),
        "gave up early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(2500),
        "gave up late: {elapsed:?}"
    );
    drop(hold.join());
}

#[test]
fn an_unparsable_recipient_is_permanent_and_named() {
    let notifier = mailer(unused_port());

    let error = notifier
        .send(
            &email_envelope("ana@example.com, bo at example dot com", "k-addr"),
            1,
        )
        .expect_err("bad address");

    assert!(!error.retryable, "{error:?}");
    assert!(
        error.reason.contains("'bo at example dot com'"),
        "{}",
        error.reason
    );
}

#[test]
fn bad_smtp_settings_fail_at_construction() {
    let bad_from = Notifier::new(NotifySettings {
        smtp: Some(SmtpSettings {
            from: "COCO <not-an-address>".into(),
            ..smtp_settings(25)
        }),
        ..settings(Duration::from_secs(5))
    });
    match bad_from {
        Err(NotifyError::FromAddress { address, .. }) => {
            assert_eq!(address, "COCO <not-an-address>")
        }
        other => panic!("expected a from-address error, got {other:?}"),
    }

    let half_credentials = Notifier::new(NotifySettings {
        smtp: Some(SmtpSettings {
            username: Some("coco".into()),
            ..smtp_settings(25)
        }),
        ..settings(Duration::from_secs(5))
    });
    assert!(matches!(
        half_credentials,
        Err(NotifyError::Setting {
            setting: "smtp.password",
            ..
        })
    ));

    let tls = Notifier::new(NotifySettings {
        smtp: Some(SmtpSettings {
            security: SmtpSecurity::StartTls,
            ..smtp_settings(587)
        }),
        ..settings(Duration::from_secs(5))
    });
    assert!(
        tls.is_ok(),
        "STARTTLS settings build without connecting: {tls:?}"
    );

    let zero = Notifier::new(settings(Duration::ZERO));
    assert!(matches!(
        zero,
        Err(NotifyError::Setting {
            setting: "timeout",
            ..
        })
    ));
}
