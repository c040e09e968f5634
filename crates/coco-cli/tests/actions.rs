//! `coco run daily` on a demo portfolio, through the binary, with real peers: an HTTP
//! receiver for the Slack and webhook deliveries (signatures verified) and aiosmtpd for
//! email. Checks the alerts against the demo's hidden truth, the daily lists, and the
//! outbox's promises under faults: a receiver down then up, a slow receiver, a receiver
//! that keeps failing (dead letters, retry), and the process killed mid-delivery.

mod common;
#[path = "../../coco-actions/tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{SECRET, coco, ok};
use serde_json::Value;
use support::{Receiver, SmtpSink, unused_port};

fn json(data: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let output = ok(coco(data, &all));
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

/// Loopback peers; fast back-off (≈1 s) and 3 attempts so the test waits seconds.
fn notifications(
    http_port: u16,
    smtp_port: u16,
    timeout: u64,
    batch: usize,
    email: bool,
) -> String {
    format!(
        r#"version = "test"
base_url = "http://coco.test"
[delivery]
timeout_seconds = {timeout}
backoff_base_seconds = 1
backoff_factor = 1.0
backoff_max_seconds = 1
max_attempts = 3
batch = {batch}
[schedule]
enabled = false
daily = "0 0 6 * * *"
deliver_every_seconds = 30
[email]
enabled = {email}
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "COCO <coco@coco.test>"
alerts = true
digest = true
[slack]
enabled = true
[[slack.channels]]
team = "*"
url = "http://127.0.0.1:{http_port}/slack"
[webhook]
enabled = true
url = "http://127.0.0.1:{http_port}/hook"
secret_env = "COCO_TEST_WEBHOOK_SECRET"
events = ["alert.opened", "alert.resolved"]
"#
    )
}

fn outbox(data: &Path, status: &str) -> Vec<Value> {
    json(
        data,
        &["outbox", "list", "--status", status, "--limit", "100000"],
    )
    .as_array()
    .cloned()
    .unwrap_or_default()
}

/// Every HTTP delivery the receiver saw, by idempotency key (in arrival order), after
/// checking each webhook's signature.
fn by_key(receiver: &Receiver) -> BTreeMap<String, Vec<support::Recorded>> {
    let now = chrono::Utc::now().timestamp();
    let mut out: BTreeMap<String, Vec<support::Recorded>> = BTreeMap::new();
    for r in receiver.requests() {
        let key = r
            .header("Idempotency-Key")
            .expect("every delivery has a key")
            .to_string();
        if r.path == "/hook" {
            let timestamp: i64 = r.header("X-Coco-Timestamp").unwrap().parse().unwrap();
            let signature = r.header("X-Coco-Signature").unwrap();
            assert!(
                coco_actions::notify::verify(
                    SECRET.as_bytes(),
                    timestamp,
                    &r.body,
                    signature,
                    now,
                    600
                ),
                "the signature of {key} verifies"
            );
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(body["idempotency_key"], key.as_str());
        } else {
            assert_eq!(r.path, "/slack");
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert!(body["blocks"].is_array(), "Block Kit body");
        }
        out.entry(key).or_default().push(r);
    }
    out
}

fn truth_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn daily_run_alerts_lists_and_at_least_once_delivery_through_faults() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let files = dir.path().join("demo");
    common::demo_book(&data, &files, 300);
    let smtp = SmtpSink::start();
    let http_port = unused_port();
    let config = data.join("config");
    std::fs::create_dir_all(&config).unwrap();
    let smtp_port = smtp.as_ref().map_or_else(unused_port, |s| s.port());
    std::fs::write(
        config.join("notifications.toml"),
        notifications(http_port, smtp_port, 2, 1000, smtp.is_some()),
    )
    .unwrap();

    // --- The daily run, with the HTTP receiver down.
    let run = json(&data, &["run", "daily", "--as-of", "2026-10-31"]);
    let steps: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "score", "predict", "evaluate", "alerts", "digests", "deliver"
        ]
    );
    let opened = run["alerts"]["opened"].as_u64().unwrap();
    assert!(opened > 20, "{run}");
    let runs = json(&data, &["runs"]);
    assert_eq!(runs[0]["status"], "ok");
    assert_eq!(runs[0]["trigger"], "cli");

    // Alerts against the demo's hidden truth.
    let alerts = json(
        &data,
        &["alerts", "list", "--status", "all", "--limit", "100000"],
    );
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len() as u64, opened);
    let mut rules_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut acting: BTreeSet<String> = BTreeSet::new();
    for a in alerts {
        let account = a["account_id"].as_str().unwrap().to_string();
        rules_of
            .entry(account.clone())
            .or_default()
            .insert(a["rule"].as_str().unwrap().to_string());
        if a["tier"] != "watch" {
            acting.insert(account);
        }
    }
    let truth = truth_rows(&files.join("_truth.csv"));
    let customers: Vec<&BTreeMap<String, String>> = truth
        .iter()
        .filter(|t| t["churned_on"].is_empty())
        .collect();
    // Every champion who left in the rule's 30 days is an alert, and no other account has one.
    let departed: BTreeSet<&str> = customers
        .iter()
        .filter(|t| t["champion_left_on"].as_str() > "2026-10-01")
        .map(|t| t["account_id"].as_str())
        .collect();
    let champion_alerts: BTreeSet<&str> = rules_of
        .iter()
        .filter(|(_, rules)| rules.contains("champion_departed"))
        .map(|(a, _)| a.as_str())
        .collect();
    assert_eq!(champion_alerts, departed);
    // The at-risk accounts (the generator's churn probability > 0.3) are far more often
    // flagged for action than the safe ones (< 0.05).
    let rate = |filter: &dyn Fn(f64) -> bool| {
        let group: Vec<_> = customers
            .iter()
            .filter(|t| filter(t["churn_probability"].parse().unwrap()))
            .collect();
        let flagged = group
            .iter()
            .filter(|t| acting.contains(t["account_id"].as_str()))
            .count();
        (flagged as f64 / group.len().max(1) as f64, group.len())
    };
    let (risky, n_risky) = rate(&|p| p > 0.3);
    let (safe, n_safe) = rate(&|p| p < 0.05);
    assert!(n_risky >= 10 && n_safe >= 50, "{n_risky} {n_safe}");
    assert!(
        risky >= 2.0 * safe && risky > 0.15,
        "at-risk accounts flagged {risky:.2}, safe ones {safe:.2}"
    );

    // One alert's context pack answers "why" with evidence and source rows.
    let champion = alerts
        .iter()
        .find(|a| a["rule"] == "champion_departed")
        .unwrap();
    let shown = json(&data, &["alerts", "show", &champion["id"].to_string()]);
    let evidence = &shown["context"]["evidence"][0];
    assert_eq!(evidence["events"][0]["table"], "contacts");
    assert!(
        !shown["tasks"].as_array().unwrap().is_empty(),
        "the playbook's tasks"
    );
    assert!(shown["context"]["suggested_play"]["playbook_id"].is_string());

    // Every active CSM with customers has a non-empty, ordered list.
    let active: BTreeSet<String> = truth_rows(&files.join("csms.csv"))
        .into_iter()
        .filter(|c| c["active"] == "true")
        .map(|c| c["csm_id"].clone())
        .collect();
    let team: Vec<String> = customers
        .iter()
        .map(|t| t["owner_csm_id"].clone())
        .filter(|c| active.contains(c))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(team.len() >= 5);
    for csm in &team {
        let list = json(&data, &["today", "--csm", csm, "--as-of", "2026-10-31"]);
        let items = list["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{csm} has an empty day");
        for (i, pair) in items.windows(2).enumerate() {
            assert_eq!(pair[0]["rank"].as_u64().unwrap(), i as u64 + 1);
            assert!(
                pair[0]["score"].as_f64() >= pair[1]["score"].as_f64(),
                "{csm} ordered"
            );
        }
        assert!(items.iter().all(|i| !i["why"].as_str().unwrap().is_empty()));
    }

    // Interventions: what followed, judged only on what was known at the date asked.
    let account = champion["account_id"].as_str().unwrap();
    let recorded = ok(coco(
        &data,
        &[
            "interventions",
            "record",
            account,
            "--play",
            "champion_replacement",
            "--channel",
            "call",
            "--stakeholder",
            "VP Operations",
            "--profile",
            "relationship",
            "--on",
            "2026-08-08",
        ],
    ));
    assert!(String::from_utf8_lossy(&recorded.stdout).contains("recorded intervention"));
    let early = json(&data, &["interventions", "report", "--as-of", "2026-09-01"]);
    assert_eq!(early["interventions"], 1);
    assert_eq!(
        early["decided"], 0,
        "the 60-day window had not passed on 2026-09-01"
    );
    let late = json(&data, &["interventions", "report", "--as-of", "2026-10-31"]);
    assert_eq!(late["decided"], 1);
    let judged = &late["judged"][0];
    assert!(judged["facts"]["health_before"].is_number(), "{judged}");
    assert!(["success", "failure"].contains(&judged["verdict"].as_str().unwrap()));
    let record = &late["by_play"][0];
    assert_eq!(record["play"], "champion_replacement");
    assert!(record["interval"].is_array(), "a Wilson interval");
    let advice = json(
        &data,
        &[
            "interventions",
            "recommend",
            "--profile",
            "relationship",
            "--as-of",
            "2026-10-31",
        ],
    );
    assert!(
        advice["because"].as_str().unwrap().contains("prior"),
        "thin data is said: {advice}"
    );
    let refused = coco(
        &data,
        &[
            "interventions",
            "record",
            account,
            "--play",
            "nope",
            "--channel",
            "call",
            "--profile",
            "x",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a playbook"));

    // --- Email went out at once; Slack and webhooks wait for the receiver.
    if let Some(smtp) = &smtp {
        let mail = smtp.messages();
        let digest = mail
            .iter()
            .find(|m| {
                m.header("Subject")
                    .is_some_and(|s| s.starts_with("COCO daily digest"))
            })
            .expect("a digest arrived");
        let types: Vec<&str> = digest.parts.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types, ["text/plain", "text/html"]);
        assert!(digest.parts[1].1.contains("http://coco.test/today?csm="));
        assert!(
            digest
                .header("X-Coco-Idempotency-Key")
                .unwrap()
                .starts_with("digest-")
        );
    }
    let pending = outbox(&data, "pending");
    assert!(!pending.is_empty());
    assert!(
        pending.iter().all(|m| m["channel"] != "email"),
        "email was delivered"
    );
    assert!(
        pending
            .iter()
            .all(|m| m["attempts"] == 1 && !m["last_error"].is_null())
    );

    // --- Receiver up: everything is delivered, each key once.
    let receiver = Receiver::start_on(http_port);
    let delivered = json(
        &data,
        &["outbox", "deliver", "--until-empty", "--max-seconds", "60"],
    );
    assert_eq!(
        delivered["delivered"].as_u64().unwrap() as usize,
        pending.len()
    );
    let seen = by_key(&receiver);
    assert_eq!(seen.len(), pending.len());
    assert!(seen.values().all(|r| r.len() == 1), "one delivery per key");
    assert!(
        seen.values()
            .all(|r| r[0].header("X-Coco-Attempt") == Some("2"))
    );
    assert!(outbox(&data, "pending").is_empty());

    // --- A week later: new alerts (webhooks only now). The receiver is slower than the
    // timeout, then fails outright: retried, dead-lettered, retried by hand, delivered.
    std::fs::write(
        config.join("notifications.toml"),
        notifications(http_port, smtp_port, 2, 3, false),
    )
    .unwrap();
    receiver.delay(Duration::from_secs(4));
    ok(coco(&data, &["run", "daily", "--as-of", "2026-11-07"]));
    let http_queued = outbox(&data, "pending");
    assert!(http_queued.iter().all(|m| m["channel"] != "email"));
    let tried: Vec<&Value> = http_queued.iter().filter(|m| m["attempts"] == 1).collect();
    assert_eq!(
        tried.len(),
        http_queued.len().min(3),
        "one pass of the batch size"
    );
    assert!(
        tried.iter().all(|m| m["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("did not answer within"))),
        "{tried:?}"
    );
    receiver.delay(Duration::ZERO);
    receiver.reply(503, &[], "maintenance");
    ok(coco(
        &data,
        &["outbox", "deliver", "--until-empty", "--max-seconds", "30"],
    ));
    let dead = outbox(&data, "dead");
    assert_eq!(dead.len(), http_queued.len());
    assert!(dead.iter().all(|m| m["attempts"] == 3));
    assert!(dead[0]["last_error"].as_str().unwrap().contains("503"));
    receiver.reply(200, &[], "ok");
    for m in &dead {
        ok(coco(&data, &["outbox", "retry", &m["id"].to_string()]));
    }
    ok(coco(
        &data,
        &["outbox", "deliver", "--until-empty", "--max-seconds", "60"],
    ));
    assert!(outbox(&data, "dead").is_empty() && outbox(&data, "pending").is_empty());
    // Every attempt of a message carried the same key and the same bytes.
    for requests in by_key(&receiver).values() {
        assert!(requests.windows(2).all(|p| p[0].body == p[1].body));
    }

    // --- Killed mid-delivery: the message stays pending and goes again after restart,
    // under the same idempotency key.
    std::fs::write(
        config.join("notifications.toml"),
        notifications(http_port, smtp_port, 30, 1000, false),
    )
    .unwrap();
    let before: usize = receiver.requests().len();
    ok(coco(
        &data,
        &["run", "daily", "--as-of", "2026-11-14", "--no-deliver"],
    ));
    let waiting: Vec<Value> = outbox(&data, "pending")
        .into_iter()
        .filter(|m| m["channel"] != "email")
        .collect();
    assert!(!waiting.is_empty());
    receiver.delay(Duration::from_secs(60));
    let mut child = Command::new(env!("CARGO_BIN_EXE_coco"))
        .arg("--data-dir")
        .arg(&data)
        .args(["outbox", "deliver"])
        .env("COCO_TEST_WEBHOOK_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while receiver.requests().len() == before {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no delivery started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let in_flight = receiver.requests()[before]
        .header("Idempotency-Key")
        .unwrap()
        .to_string();
    receiver.delay(Duration::ZERO);
    ok(coco(
        &data,
        &["outbox", "deliver", "--until-empty", "--max-seconds", "60"],
    ));
    assert!(outbox(&data, "pending").is_empty());
    let seen = by_key(&receiver);
    let repeats = &seen[&in_flight];
    assert_eq!(repeats.len(), 2, "sent before the kill and again after");
    assert_eq!(repeats[0].body, repeats[1].body);
    let record = outbox(&data, "delivered")
        .into_iter()
        .find(|m| m["key"] == in_flight.as_str())
        .unwrap();
    assert_eq!(record["attempts"], 2, "the attempt cut short is counted");
    let runs = json(&data, &["runs"]);
    assert_eq!(runs.as_array().unwrap().len(), 3);
}

#[test]
fn a_bad_rules_file_is_refused_naming_the_file_the_rule_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = data.join("config");
    std::fs::create_dir_all(&config).unwrap();
    let shipped = coco_actions::rules::DEFAULT_ALERTS;
    let broken = shipped.replacen("source = \"health_score\"", "source = \"helth\"", 1);
    std::fs::write(config.join("alerts.toml"), broken).unwrap();
    let output = coco(&data, &["run", "daily", "--as-of", "2026-10-31"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("alerts.toml"), "{stderr}");
    assert!(
        stderr.contains("rules[0] (health_drop).when[0]"),
        "{stderr}"
    );
    assert!(stderr.contains("helth"), "{stderr}");
    // Nothing ran: the run log is empty.
    std::fs::remove_file(config.join("alerts.toml")).unwrap();
    assert_eq!(json(&data, &["runs"]).as_array().unwrap().len(), 0);
}
