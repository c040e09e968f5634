//! End-to-end tests of the `coco` binary on real stores in temp folders.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn coco(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coco"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run coco")
}

fn stdout_json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "coco failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn demo_files_ingest_with_exactly_the_dirty_rows_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let files = dir.path().join("demo");
    let demo = coco(
        &data,
        &[
            "demo",
            "--accounts",
            "150",
            "--months",
            "6",
            "--seed",
            "7",
            "--end",
            "2026-10-31",
            "--out",
            files.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let generated = stdout_json(&demo);
    let loads = stdout_json(&coco(
        &data,
        &[
            "ingest",
            "--dir",
            files.to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    let loads = loads.as_array().unwrap();
    assert_eq!(loads.len(), 15, "one load per entity file");
    for file in generated.as_array().unwrap() {
        let entity = file["entity"].as_str().unwrap();
        let load = loads
            .iter()
            .find(|l| l["entity"] == entity)
            .unwrap_or_else(|| panic!("no load for {entity}"));
        assert_eq!(load["rows_read"], file["rows"], "{entity}: every row read");
        assert_eq!(
            load["rejected"], file["dirty_rows"],
            "{entity}: exactly the dirty rows rejected"
        );
        assert_eq!(
            load["unchanged"], file["duplicate_rows"],
            "{entity}: duplicates de-duplicated"
        );
        assert_eq!(load["updated"], 0);
    }
    // The same folder again changes nothing.
    let again = stdout_json(&coco(
        &data,
        &[
            "ingest",
            "--dir",
            files.to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    for load in again.as_array().unwrap() {
        assert_eq!(load["inserted"], 0, "{}", load["entity"]);
        assert_eq!(load["updated"], 0, "{}", load["entity"]);
    }
    let open_rejects = stdout_json(&coco(
        &data,
        &[
            "quarantine",
            "list",
            "--limit",
            "100000",
            "--format",
            "json",
        ],
    ));
    let dirty: u64 = generated
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["dirty_rows"].as_u64().unwrap())
        .sum();
    assert_eq!(
        open_rejects.as_array().unwrap().len() as u64,
        dirty,
        "re-ingest did not duplicate the quarantine"
    );
}

#[test]
fn demo_into_store_then_quality_and_accounts_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = coco(
        &data,
        &[
            "demo",
            "--accounts",
            "120",
            "--months",
            "12",
            "--end",
            "2026-10-31",
            "--into-store",
        ],
    );
    assert!(demo.status.success(), "{}", stderr(&demo));
    let quality = stdout_json(&coco(
        &data,
        &["quality", "--as-of", "2026-10-31", "--format", "json"],
    ));
    let findings = quality.as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == "quarantined_rows" && f["entity"] == "usage_events"),
        "the dirty events are reported"
    );
    let accounts = stdout_json(&coco(
        &data,
        &[
            "accounts",
            "list",
            "--as-of",
            "2026-10-31",
            "--format",
            "json",
        ],
    ));
    let accounts = accounts.as_array().unwrap();
    assert_eq!(accounts.len(), 120);
    assert!(accounts.iter().all(|a| {
        a["account_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("acc_"))
    }));
    assert!(
        accounts
            .iter()
            .any(|a| a["arr"].as_f64().unwrap_or(0.0) > 0.0)
    );
    let first = accounts[0]["account_id"].as_str().unwrap();
    let detail = stdout_json(&coco(
        &data,
        &[
            "accounts",
            "show",
            first,
            "--as-of",
            "2026-10-31",
            "--format",
            "json",
        ],
    ));
    assert_eq!(detail["account"]["account_id"], first);
    assert!(
        detail["account"]["provenance"]["line"].as_i64().unwrap() >= 2,
        "rows know their source line"
    );
    assert!(
        detail["health"]["unavailable"]
            .as_str()
            .is_some_and(|m| m.contains("coco score")),
        "before scoring, the health section says how to get one: {detail}"
    );
    let csv = coco(
        &data,
        &["accounts", "list", "--limit", "3", "--format", "csv"],
    );
    assert!(csv.status.success());
    assert_eq!(
        String::from_utf8_lossy(&csv.stdout).lines().count(),
        4,
        "header + 3 rows"
    );
    let summary = stdout_json(&coco(
        &data,
        &["summary", "--as-of", "2026-10-31", "--format", "json"],
    ));
    assert_eq!(summary["accounts"], 120);
    assert!(summary["arr"].as_f64().unwrap() > 0.0);
    score_health_and_explain(&data);
}

/// `coco score`, backfill, `health list`, `account show` with evidence, `metrics
/// explain`, and a broken user catalogue — on the store the test above built.
fn score_health_and_explain(data: &Path) {
    let backfill = coco(
        data,
        &[
            "metrics",
            "backfill",
            "--from",
            "2026-09-05",
            "--to",
            "2026-10-24",
            "--every",
            "7d",
        ],
    );
    assert!(backfill.status.success(), "{}", stderr(&backfill));
    let run = stdout_json(&coco(
        data,
        &["score", "--as-of", "2026-10-31", "--format", "json"],
    ));
    let scored = run["snapshot"]["accounts"].as_i64().unwrap();
    assert!(scored > 80 && scored <= 120, "{run}");
    let colours: i64 = run["colours"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!(colours, scored);
    let snapshots = stdout_json(&coco(data, &["metrics", "snapshots", "--format", "json"]));
    assert_eq!(snapshots.as_array().unwrap().len(), 9, "8 weekly + today");

    let list = stdout_json(&coco(
        data,
        &[
            "health",
            "list",
            "--as-of",
            "2026-10-31",
            "--sort",
            "change",
            "--format",
            "json",
        ],
    ));
    let rows = list.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows[0]["previous_score"].is_number(),
        "compared with a week earlier"
    );
    let red = stdout_json(&coco(
        data,
        &[
            "health",
            "list",
            "--color",
            "red",
            "--format",
            "json",
            "--as-of",
            "2026-10-31",
        ],
    ));
    assert!(red.as_array().unwrap().iter().all(|r| r["colour"] == "red"));

    let account = rows[0]["account_id"].as_str().unwrap();
    let shown = stdout_json(&coco(
        data,
        &[
            "account",
            "show",
            account,
            "--as-of",
            "2026-10-31",
            "--compare",
            "28d",
            "--format",
            "json",
        ],
    ));
    let health = &shown["health"];
    let score = health["health"]["score"].as_f64().unwrap();
    let points: f64 = health["health"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["points"].as_f64().unwrap())
        .sum();
    assert!(
        (score - points).abs() < 1e-6,
        "components add up to the score"
    );
    let change = &health["change"];
    let delta = change["delta"].as_f64().unwrap();
    let contributions: f64 = change["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["contribution"].as_f64().unwrap())
        .sum();
    assert!(
        (delta - contributions).abs() < 1e-6,
        "drivers add up to the change"
    );
    assert!(
        health["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| !e["cohorts"].as_array().unwrap().is_empty()),
        "metric values come with cohort percentiles"
    );
    let table = coco(
        data,
        &[
            "account",
            "show",
            account,
            "--as-of",
            "2026-10-31",
            "--compare",
            "28d",
        ],
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Why it changed since") && text.contains("Evidence"),
        "{text}"
    );

    let explain = coco(
        data,
        &[
            "metrics",
            "explain",
            "seat_utilisation_30d",
            "--as-of",
            "2026-10-31",
        ],
    );
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(
        text.contains("SELECT") && text.contains("2026-10-31"),
        "{text}"
    );

    // A user catalogue with a mistake: exit 1 naming the file, the metric and the fix.
    let config = data.join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("metrics.toml"),
        "[[metric]]\nname = \"bad_tickets\"\ndescription = \"x\"\nunit = \"tickets\"\ncategory = \"support\"\nkind = \"count\"\nsource = \"tickets\"\nwindow_days = 30\nfilter = { priority = \"critical\" }\n",
    )
    .unwrap();
    let broken = coco(data, &["score", "--as-of", "2026-10-31"]);
    assert_eq!(broken.status.code(), Some(1), "{}", stderr(&broken));
    let message = stderr(&broken);
    assert!(
        message.contains("metrics.toml")
            && message.contains("bad_tickets")
            && message.contains("urgent"),
        "{message}"
    );
    std::fs::remove_file(config.join("metrics.toml")).unwrap();
}

#[test]
fn user_errors_exit_1_with_a_cause_and_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("accounts.csv");
    std::fs::write(&file, "account_id;name;segment\nacc_1;Acme;smb\n").unwrap();

    let unknown = coco(&data, &["ingest", "widgets", file.to_str().unwrap()]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("unknown entity \"widgets\""),
        "{}",
        stderr(&unknown)
    );
    assert!(stderr(&unknown).contains("hint: entities:"));

    let wrong_delimiter = coco(&data, &["ingest", "accounts", file.to_str().unwrap()]);
    assert_eq!(wrong_delimiter.status.code(), Some(1));
    let message = stderr(&wrong_delimiter);
    assert!(message.contains("accounts.csv"), "{message}");
    assert!(message.contains("missing required column"), "{message}");
    assert!(message.contains("--delimiter ';'"), "{message}");

    let fixed = coco(
        &data,
        &[
            "ingest",
            "accounts",
            file.to_str().unwrap(),
            "--delimiter",
            ";",
            "--format",
            "json",
        ],
    );
    let report = stdout_json(&fixed);
    assert_eq!(report[0]["inserted"], 1);

    let missing = coco(&data, &["accounts", "show", "acc_404"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("acc_404"));

    let no_file = coco(&data, &["ingest", "accounts", "/nonexistent/accounts.csv"]);
    assert_eq!(no_file.status.code(), Some(1));
    assert!(stderr(&no_file).contains("/nonexistent/accounts.csv"));
}

/// A store with accounts and features, and a large events file that takes seconds to
/// ingest in a debug build.
fn big_ingest_setup(dir: &Path, events: u64) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = dir.join("data");
    let accounts = dir.join("accounts.csv");
    let mut text = String::from("account_id,name\n");
    for a in 0..100 {
        text.push_str(&format!("acc_{a},Account {a}\n"));
    }
    std::fs::write(&accounts, text).unwrap();
    let features = dir.join("features.csv");
    std::fs::write(
        &features,
        "feature_key,name,module,tier\nlogin,Login,core,starter\nexport,Export,core,starter\n",
    )
    .unwrap();
    assert!(
        coco(&data, &["ingest", "accounts", accounts.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        coco(&data, &["ingest", "features", features.to_str().unwrap()])
            .status
            .success()
    );
    let events_path = dir.join("usage_events.csv");
    let mut writer = std::io::BufWriter::new(std::fs::File::create(&events_path).unwrap());
    writeln!(writer, "account_id,user_id,feature_key,occurred_at,value").unwrap();
    for i in 0..events {
        let seconds = i % 86_400;
        writeln!(
            writer,
            "acc_{},u_{},{},2026-{:02}-{:02}T{:02}:{:02}:{:02}Z,1",
            i % 100,
            i % 977,
            if i % 3 == 0 { "export" } else { "login" },
            1 + (i / 86_400 / 28) % 12,
            1 + (i / 86_400) % 28,
            seconds / 3600,
            (seconds / 60) % 60,
            seconds % 60
        )
        .unwrap();
    }
    writer.flush().unwrap();
    (data, events_path)
}

fn status_counts(data: &Path) -> (u64, u64) {
    let status = stdout_json(&coco(data, &["status", "--format", "json"]));
    let rows = |entity: &str| -> (u64, u64) {
        let row = status
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["entity"] == entity)
            .unwrap();
        (
            row["rows"].as_u64().unwrap(),
            row["loads"].as_u64().unwrap(),
        )
    };
    rows("usage_events")
}

#[test]
fn killed_ingest_leaves_the_store_as_it_was_and_a_held_store_names_its_holder() {
    let dir = tempfile::tempdir().unwrap();
    let (data, events) = big_ingest_setup(dir.path(), 3_000_000);
    let before = status_counts(&data);
    assert_eq!(before, (0, 0));

    let mut child = Command::new(env!("CARGO_BIN_EXE_coco"))
        .arg("--data-dir")
        .arg(&data)
        .args(["ingest", "usage_events", events.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let it get well into the file.
    std::thread::sleep(Duration::from_millis(1500));

    // While it holds the store, another command fails clearly, naming the holder.
    let blocked = coco(&data, &["status"]);
    assert_eq!(blocked.status.code(), Some(1), "{}", stderr(&blocked));
    let message = stderr(&blocked);
    assert!(message.contains("in use by another process"), "{message}");
    assert!(
        message.contains(&format!("PID {}", child.id())),
        "{message}"
    );

    assert!(
        child.try_wait().unwrap().is_none(),
        "ingest finished before it could be interrupted; use a bigger file"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let after = status_counts(&data);
    assert_eq!(
        after, before,
        "a killed ingest leaves no rows and no load behind"
    );
    let open = stdout_json(&coco(&data, &["quarantine", "list", "--format", "json"]));
    assert_eq!(open.as_array().unwrap().len(), 0);

    // The store is intact and usable: the same file now loads completely.
    let started = Instant::now();
    let report = stdout_json(&coco(
        &data,
        &[
            "ingest",
            "usage_events",
            events.to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    assert_eq!(report[0]["rows_read"], 3_000_000);
    assert_eq!(
        report[0]["inserted"].as_u64().unwrap() + report[0]["unchanged"].as_u64().unwrap(),
        3_000_000
    );
    assert_eq!(report[0]["rejected"], 0);
    eprintln!("full ingest of 3M events took {:?}", started.elapsed());
}

#[test]
fn contract_and_help_describe_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let contract = stdout_json(&coco(
        &data,
        &["contract", "usage_events", "--format", "json"],
    ));
    let columns: Vec<&str> = contract
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["column"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        [
            "account_id",
            "user_id",
            "feature_key",
            "occurred_at",
            "value"
        ]
    );
    for command in [
        vec!["quickstart"],
        vec!["demo"],
        vec!["ingest"],
        vec!["quarantine", "list"],
        vec!["quarantine", "export"],
        vec!["quality"],
        vec!["accounts", "list"],
        vec!["accounts", "show"],
        vec!["summary"],
        vec!["status"],
        vec!["contract"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let help = coco(&data, &args);
        assert!(help.status.success(), "{command:?}");
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("Example"),
            "{command:?} --help has an example"
        );
    }
}

#[test]
fn mapping_examples_in_the_docs_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/mappings");
    let file = |name: &str| examples.join(name).to_string_lossy().into_owned();
    assert!(
        coco(&data, &["ingest", "csms", &file("csms.csv")])
            .status
            .success()
    );
    assert!(
        coco(&data, &["ingest", "features", &file("features.csv")])
            .status
            .success()
    );
    let accounts = stdout_json(&coco(
        &data,
        &[
            "ingest",
            "accounts",
            &file("crm_accounts.csv"),
            "--mapping",
            &file("crm_accounts.mapping.toml"),
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        (
            accounts[0]["inserted"].as_u64(),
            accounts[0]["rejected"].as_u64()
        ),
        (Some(3), Some(0))
    );
    let detail = stdout_json(&coco(
        &data,
        &["accounts", "show", "0015g00000QqQ34", "--format", "json"],
    ));
    let detail = &detail["account"];
    assert_eq!(detail["segment"], "enterprise");
    assert_eq!(detail["coverage_model"], "high_touch");
    assert_eq!(detail["industry"], "retail");
    assert_eq!(detail["customer_since"], "2021-06-30");
    assert_eq!(detail["parent_account_id"], "0015g00000XyZ12");
    assert_eq!(
        detail["custom_attributes"],
        serde_json::json!({ "Health Note": "Subsidiary" })
    );
    let events = stdout_json(&coco(
        &data,
        &[
            "ingest",
            "usage_events",
            &file("analytics_events.jsonl"),
            "--mapping",
            &file("analytics_events.mapping.toml"),
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        (
            events[0]["rows_read"].as_u64(),
            events[0]["inserted"].as_u64(),
            events[0]["unchanged"].as_u64(),
            events[0]["rejected"].as_u64()
        ),
        (Some(4), Some(3), Some(1), Some(0))
    );
}

#[test]
fn quarantine_export_fix_and_reingest_resolves_the_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let accounts = dir.path().join("accounts.csv");
    std::fs::write(
        &accounts,
        "account_id,name,segment,employee_count\nacc_1,Acme,smb,12\nacc_2,Globex,platinum,40\nacc_3,Initech,mid market,abc\n",
    )
    .unwrap();
    let report = stdout_json(&coco(
        &data,
        &[
            "ingest",
            "accounts",
            accounts.to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    assert_eq!(report[0]["rejected"], 2);
    let load = report[0]["load_id"].as_i64().unwrap();

    let open = stdout_json(&coco(&data, &["quarantine", "list", "--format", "json"]));
    let reasons: Vec<(i64, String, String)> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["field"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(reasons[0].0, 3);
    assert_eq!(reasons[0].1, "segment");
    assert!(
        reasons[0].2.contains("'platinum' is not one of"),
        "{reasons:?}"
    );
    assert_eq!((reasons[1].0, reasons[1].1.as_str()), (4, "employee_count"));

    let shown = stdout_json(&coco(
        &data,
        &[
            "quarantine",
            "show",
            &format!("{load}:3"),
            "--format",
            "json",
        ],
    ));
    assert!(shown["raw"].as_str().unwrap().contains("Globex"));

    let export = dir.path().join("fix.csv");
    let exported = coco(
        &data,
        &[
            "quarantine",
            "export",
            "--entity",
            "accounts",
            "--out",
            export.to_str().unwrap(),
        ],
    );
    assert!(exported.status.success(), "{}", stderr(&exported));
    let text = std::fs::read_to_string(&export).unwrap();
    assert_eq!(
        text,
        "account_id,name,segment,employee_count\nacc_2,Globex,platinum,40\nacc_3,Initech,mid market,abc\n"
    );
    std::fs::write(
        &export,
        text.replace("platinum", "enterprise").replace("abc", "120"),
    )
    .unwrap();
    let fixed = stdout_json(&coco(
        &data,
        &[
            "ingest",
            "accounts",
            export.to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        (fixed[0]["inserted"].as_u64(), fixed[0]["rejected"].as_u64()),
        (Some(2), Some(0))
    );
    let open = stdout_json(&coco(&data, &["quarantine", "list", "--format", "json"]));
    assert_eq!(
        open.as_array().unwrap().len(),
        0,
        "fixed rows resolve their rejects"
    );
    let all = stdout_json(&coco(
        &data,
        &["quarantine", "list", "--all", "--format", "json"],
    ));
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == "resolved")
    );
}

/// A flat customer table with a known churn mechanism (short tenure, monthly contract
/// and support calls raise churn), as a team without event data would export it.
fn churn_table(rows: usize, seed: u64) -> String {
    let mut state = seed;
    let mut uniform = move || {
        // SplitMix64: deterministic without another dependency.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = String::from("Customer ID,Tenure,Contract,Monthly Charges,Support Calls,Churn\n");
    for i in 0..rows {
        let tenure = 1.0 + 71.0 * uniform();
        let contract = ["Month-to-month", "One year", "Two year"][(uniform() * 3.0) as usize % 3];
        let charges = 20.0 + 100.0 * uniform();
        let calls = (uniform() * 6.0) as u32;
        let z = -1.0 - 0.05 * tenure
            + if contract == "Month-to-month" {
                1.8
            } else {
                0.0
            }
            + 0.01 * charges
            + 0.35 * f64::from(calls);
        let churn = uniform() < 1.0 / (1.0 + (-z).exp());
        let charges = if i % 41 == 0 {
            String::new()
        } else {
            format!("{charges:.2}")
        };
        out.push_str(&format!(
            "C-{i:05},{tenure:.0},{contract},{charges},{calls},{}\n",
            if churn { "Yes" } else { "No" }
        ));
    }
    out
}

#[test]
fn flat_table_mode_trains_evaluates_and_predicts_with_intervals_and_drivers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let train = dir.path().join("customers.csv");
    std::fs::write(&train, churn_table(2500, 1)).unwrap();
    let fresh = dir.path().join("new.csv");
    std::fs::write(&fresh, churn_table(40, 2)).unwrap();

    let trained = coco(
        &data,
        &[
            "model",
            "train",
            "--table",
            train.to_str().unwrap(),
            "--label",
            "Churn",
            "--id",
            "Customer ID",
            "--format",
            "json",
        ],
    );
    let report = stdout_json(&trained);
    let chosen = &report["results"][0]["evaluation"];
    assert!(chosen["auc"].as_f64().unwrap() > 0.75, "{chosen}");
    assert!(chosen["ece"].as_f64().unwrap() < 0.08, "{chosen}");
    let features = report["facts"].to_string();
    assert!(
        !features.contains("Customer ID:") && features.contains("Tenure"),
        "{features}"
    );
    assert!(
        stderr(&trained).contains("registered table-v1"),
        "{}",
        stderr(&trained)
    );
    let reports = data.join("reports");
    let html = std::fs::read_to_string(reports.join("table-v1.html")).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        3,
        "ROC, calibration and lift charts"
    );
    assert!(
        std::fs::read_to_string(reports.join("table-v1.md"))
            .unwrap()
            .contains("| model | AUC |")
    );

    let predicted = coco(
        &data,
        &[
            "model",
            "predict",
            "--table",
            fresh.to_str().unwrap(),
            "--format",
            "csv",
        ],
    );
    assert!(predicted.status.success(), "{}", stderr(&predicted));
    let text = String::from_utf8(predicted.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,probability,low,high,risk_tier,drivers_up,drivers_down")
    );
    let first: Vec<String> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        first[0], "C-00000",
        "the id column named at training is used"
    );
    let (p, low, high): (f64, f64, f64) = (
        first[1].parse().unwrap(),
        first[2].parse().unwrap(),
        first[3].parse().unwrap(),
    );
    assert!(low <= p && p <= high && (0.0..=1.0).contains(&p));
    assert_eq!(text.lines().count(), 41);

    let listed = stdout_json(&coco(&data, &["model", "list", "--format", "json"]));
    assert_eq!(listed[0]["version"], "table-v1");
    assert_eq!(listed[0]["status"], "promoted");

    // A missing label column: exit 1, the file and the columns named.
    let bad = coco(
        &data,
        &[
            "model",
            "train",
            "--table",
            train.to_str().unwrap(),
            "--label",
            "churned",
        ],
    );
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("no column `churned`") && stderr(&bad).contains("`Churn`"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn segments_workload_journey_onboarding_and_touchpoints_from_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = coco(
        &data,
        &[
            "demo",
            "--accounts",
            "300",
            "--months",
            "12",
            "--end",
            "2026-10-31",
            "--into-store",
        ],
    );
    assert!(demo.status.success(), "{}", stderr(&demo));
    let backfill = coco(
        &data,
        &[
            "metrics",
            "backfill",
            "--from",
            "2026-06-06",
            "--to",
            "2026-10-31",
            "--every",
            "7d",
        ],
    );
    assert!(backfill.status.success(), "{}", stderr(&backfill));
    let at = ["--as-of", "2026-10-31", "--format", "json"];
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(at);
        stdout_json(&coco(&data, &all))
    };
    // Tiers: recorded by apply, every account has one, the breakdown adds up.
    let design = run(&["segments", "design", "--proxy"]);
    let tiers = design["distribution"].as_array().unwrap();
    assert_eq!(tiers.len(), 4);
    let assignments = run(&["segments", "apply", "--proxy"]);
    let assignments = assignments.as_array().unwrap();
    let counted: u64 = tiers.iter().map(|t| t["accounts"].as_u64().unwrap()).sum();
    assert_eq!(counted as usize, assignments.len());
    let first = &assignments[0];
    let points: f64 = first["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["points"].as_f64().unwrap())
        .sum();
    assert!((points - first["score"].as_f64().unwrap()).abs() < 0.11);
    let misalignment = run(&["segments", "misalignment", "--proxy"]);
    assert_eq!(
        misalignment["misaligned"].as_u64().unwrap() as usize,
        misalignment["accounts"].as_array().unwrap().len()
    );
    let migration = run(&["segments", "migration", "--proxy"]);
    assert!(migration["upgrades"].is_array() && migration["downgrades"].is_array());
    // Workload: every active CSM listed; the proposal never widens the spread.
    let workload = run(&["workload", "report"]);
    assert!(!workload["csms"].as_array().unwrap().is_empty());
    assert!(workload["capacity_plan"]["hires_needed"].is_u64());
    let proposal = run(&["workload", "rebalance"]);
    assert!(
        proposal["after"]["sum_of_squares"].as_f64().unwrap()
            <= proposal["after_forced"]["sum_of_squares"].as_f64().unwrap() + 1e-9
    );
    // Journey.
    let stages = run(&["journey", "stages"]);
    let staged: u64 = stages
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["accounts"].as_u64().unwrap())
        .sum();
    assert_eq!(staged as usize, assignments.len());
    let account = first["account_id"].as_str().unwrap().to_string();
    let view = run(&["journey", "stages", &account]);
    assert_eq!(view["account_id"], account.as_str());
    let milestones = run(&["journey", "milestones"]);
    assert!(!milestones["churn_links"].as_array().unwrap().is_empty());
    let compare = run(&["journey", "compare"]);
    assert!(compare["variables"].is_array());
    let dropoff = run(&["journey", "dropoff"]);
    assert!(dropoff["by_tenure_month"].is_array());
    let card = run(&["journey", "scorecard", &account]);
    assert_eq!(card["account_id"], account.as_str());
    let onboarding = run(&["onboarding", "list"]);
    assert!(onboarding["cohorts"].is_array());
    let timeline = run(&["touchpoints", "timeline", &account]);
    assert!(timeline["stakeholders"]["active_contacts"].is_u64());
    let silent = run(&["touchpoints", "silent"]);
    assert!(silent.is_array());
    // Tables and CSV work too; a bad choice is a user error with exit 1.
    let table = coco(
        &data,
        &[
            "segments",
            "misalignment",
            "--proxy",
            "--as-of",
            "2026-10-31",
        ],
    );
    assert!(table.status.success(), "{}", stderr(&table));
    assert!(String::from_utf8_lossy(&table.stdout).contains("served differently"));
    let csv = coco(
        &data,
        &[
            "workload",
            "report",
            "--as-of",
            "2026-10-31",
            "--format",
            "csv",
        ],
    );
    assert!(String::from_utf8_lossy(&csv.stdout).starts_with("csm_id,"));
    let bad = coco(
        &data,
        &[
            "onboarding",
            "list",
            "--status",
            "late",
            "--as-of",
            "2026-10-31",
        ],
    );
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    let unknown = coco(
        &data,
        &["journey", "scorecard", "acc_nope", "--as-of", "2026-10-31"],
    );
    assert_eq!(unknown.status.code(), Some(1), "{}", stderr(&unknown));
}
