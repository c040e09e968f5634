//! `coco draft` and `coco report` through the binary on a demo store: Markdown to
//! stdout, a PPTX deck and an HTML page to files, JSON with the grounding, every
//! document kind, and the clear errors (no account, no template, a binary deck to the
//! terminal, an unknown document or report) with exit code 1.

mod common;

use std::process::Output;

use common::coco;
use serde_json::Value;

fn ok(output: Output) -> String {
    String::from_utf8_lossy(&common::ok(output).stdout).into_owned()
}

fn refused(output: Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn every_draft_and_report_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let files = dir.path().join("demo");
    common::demo_book(&data, &files, 200);
    ok(coco(
        &data,
        &["run", "daily", "--as-of", "2026-10-31", "--no-deliver"],
    ));
    let as_of = ["--as-of", "2026-10-31"];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(as_of.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: &[&str]| {
        let all = with(args);
        coco(&data, &all.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // The account with the most open alerts: its outreach is a risk or expansion email.
    let alerts: Value =
        serde_json::from_str(&ok(coco(&data, &["alerts", "list", "--format", "json"]))).unwrap();
    let account = alerts
        .as_array()
        .and_then(|a| a.first())
        .and_then(|a| a["account_id"].as_str())
        .expect("the daily run opened alerts")
        .to_string();

    let email = ok(run(&["draft", "outreach", "--account", &account]));
    assert!(email.starts_with("# "), "{email}");
    let zh = ok(run(&[
        "draft",
        "sequence",
        "--account",
        &account,
        "--locale",
        "zh",
        "--motive",
        "adoption_gap",
    ]));
    assert_eq!(zh.matches("\n## ").count(), 3, "three emails: {zh}");
    let json: Value = serde_json::from_str(&ok(run(&[
        "draft",
        "plan",
        "--account",
        &account,
        "--as",
        "json",
    ])))
    .unwrap();
    assert!(json["draft"]["markdown"].as_str().unwrap().contains("## "));
    assert!(!json["footnotes"].as_array().unwrap().is_empty());

    let deck = dir.path().join("qbr.pptx");
    ok(run(&[
        "draft",
        "qbr",
        "--account",
        &account,
        "--as",
        "pptx",
        "--out",
        deck.to_str().unwrap(),
    ]));
    assert!(std::fs::read(&deck).unwrap().starts_with(b"PK"));
    let page = dir.path().join("ebr.html");
    ok(run(&[
        "draft",
        "ebr",
        "--account",
        &account,
        "--as",
        "html",
        "--out",
        page.to_str().unwrap(),
    ]));
    assert!(std::fs::read_to_string(&page).unwrap().contains("<html"));

    let playbook = ok(run(&["draft", "playbook", "--account", &account]));
    assert!(playbook.contains("## Escalation tree"), "{playbook}");
    let task = ok(run(&[
        "draft",
        "task",
        "--account",
        &account,
        "--template",
        "health_check_in",
    ]));
    assert!(task.starts_with("# "), "{task}");
    let handbook = ok(run(&["draft", "handbook", "--locale", "zh"]));
    assert!(handbook.contains("# 客户成功工作手册"), "{handbook}");
    let portfolio = ok(run(&["report", "portfolio"]));
    assert!(portfolio.starts_with("# "), "{portfolio}");
    let benchmark = ok(run(&["report", "benchmark", "--account", &account]));
    assert!(benchmark.contains(&account) || benchmark.starts_with("# "));

    // Clear refusals, exit code 1.
    let no_account = refused(run(&["draft", "qbr"]));
    assert!(no_account.contains("--account"), "{no_account}");
    let no_template = refused(run(&["draft", "task", "--account", &account]));
    assert!(
        no_template.contains("--template") && no_template.contains("health_check_in"),
        "{no_template}"
    );
    let to_terminal = refused(run(&[
        "draft",
        "qbr",
        "--account",
        &account,
        "--as",
        "pptx",
    ]));
    assert!(to_terminal.contains("--out"), "{to_terminal}");
    let unknown = refused(run(&["draft", "novel", "--account", &account]));
    assert!(
        unknown.contains("novel") && unknown.contains("playbook"),
        "{unknown}"
    );
    let no_such = refused(run(&["draft", "plan", "--account", "acc_99999"]));
    assert!(no_such.contains("acc_99999"), "{no_such}");
    let anomaly = refused(run(&["report", "anomaly"]));
    assert!(anomaly.contains("account"), "{anomaly}");
}
