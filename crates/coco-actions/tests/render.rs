//! Messages rendered from one fixed context pack: snapshots of every channel (read and
//! accepted by hand, under `tests/snapshots/`), and the structural facts a snapshot
//! would let slip — the Slack body is valid Block Kit JSON with a button to the account,
//! HTML and mrkdwn escape what the data says, and the CRM CSV round-trips.

use chrono::NaiveDate;
use coco_actions::context::{AccountFacts, ContextPack, SuggestedPlay};
use coco_actions::playbooks::{Escalation, EscalationStep, PlannedTask};
use coco_actions::render::{
    AlertView, CrmTask, alert_message, crm_csv, digest_message, escape_html, webhook_payload,
};
use coco_actions::rules::{AccountEvent, AlertTier, Evidence, Role, Severity};
use coco_actions::today::{DailyList, ItemKind, TodayItem};
use serde_json::Value;

fn day(d: &str) -> NaiveDate {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
}

const URL: &str = "https://coco.example.com/accounts/acc_1042";

fn task(step: u32, title: &str, role: Role, owner: Option<&str>, due: &str) -> PlannedTask {
    PlannedTask {
        playbook_id: "health_recovery".into(),
        step,
        title: title.into(),
        owner_role: role,
        owner_csm_id: owner.map(str::to_string),
        due_on: day(due),
        instructions: "Open the account's health view.".into(),
        template: None,
    }
}

/// A health-drop alert on Acme & Sons: two conditions' evidence (one with its source
/// row), two drivers, a suggested play, one escalation node and two tasks.
fn pack() -> ContextPack {
    ContextPack {
        as_of: day("2026-11-02"),
        headline: "health_score fell 18.2 in 14 days: find out what changed before the \
                   customer tells you."
            .into(),
        evidence: vec![
            Evidence {
                text: "health_score fell 18.2 in 14 days (71 on 2026-10-19 → 52.8; change ≤ -15)"
                    .into(),
                source: Some("health_score".into()),
                value: Some(52.8),
                previous: Some(71.0),
                previous_date: Some(day("2026-10-19")),
                threshold: "≤ -15".into(),
                events: Vec::new(),
            },
            Evidence {
                text: "1 champion_departed event in the last 30 days (latest 2026-10-28: \
                       Maria Rossi left the champion role)"
                    .into(),
                source: None,
                value: Some(1.0),
                previous: None,
                previous_date: None,
                threshold: "≥ 1".into(),
                events: vec![AccountEvent {
                    kind: "champion_departed".into(),
                    on: day("2026-10-28"),
                    table: "contacts".into(),
                    row_id: "con_1042_3".into(),
                    detail: "Maria Rossi left the champion role".into(),
                }],
            },
        ],
        facts: AccountFacts {
            account_id: "acc_1042".into(),
            name: "Acme & Sons".into(),
            segment: Some("mid_market".into()),
            coverage_model: Some("high_touch".into()),
            owner_csm_id: Some("casey".into()),
            owner_name: Some("Casey Jones".into()),
            arr: Some(84_000.0),
            health_score: Some(52.8),
            churn_probability: Some(0.41),
            days_to_renewal: Some(75.0),
            stage: Some("adoption".into()),
        },
        drivers: vec![
            "usage −8.2: events_30d 1,240 → 610".into(),
            "support −4.1: 3 escalated tickets in 30 days".into(),
        ],
        history: vec![
            (day("2026-10-05"), 73.0),
            (day("2026-10-19"), 71.0),
            (day("2026-11-02"), 52.8),
        ],
        suggested_play: Some(SuggestedPlay {
            playbook_id: "health_recovery".into(),
            playbook_name: "Health recovery".into(),
            because: "the rule's playbook".into(),
            record: None,
        }),
        escalation: Some(Escalation {
            nodes: vec![EscalationStep {
                name: "Several problems at once".into(),
                because: vec!["3 open alerts".into()],
            }],
            involve: vec![Role::TeamLead],
            tasks: Vec::new(),
        }),
        tasks: vec![
            task(
                1,
                "Read the drivers of the drop and check the evidence",
                Role::Csm,
                Some("casey"),
                "2026-11-03",
            ),
            task(
                2,
                "Team lead reviews the account's open alerts",
                Role::TeamLead,
                None,
                "2026-11-05",
            ),
        ],
    }
}

fn view(context: &ContextPack) -> AlertView<'_> {
    AlertView {
        alert_id: 42,
        rule_id: "health_drop",
        rule_name: "Health dropped sharply",
        tier: AlertTier::Intervene,
        severity: Severity::Medium,
        opened_on: day("2026-11-02"),
        context,
        url: format!(
            "https://coco.example.com/accounts/{}",
            context.facts.account_id
        ),
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

// ---------------------------------------------------------------------------------
// Snapshots

#[test]
fn alert_message_snapshots() {
    let context = pack();
    let rendered = alert_message(&view(&context));
    assert_eq!(
        rendered.subject,
        "[intervene · medium] Acme & Sons: Health dropped sharply"
    );
    insta::assert_snapshot!("alert_text", rendered.text);
    insta::assert_snapshot!("alert_html", rendered.html);
    insta::assert_json_snapshot!("alert_slack", json(&rendered.slack));
}

#[test]
fn webhook_payload_snapshot() {
    let context = pack();
    let payload = webhook_payload("alert.opened", "alert:42:opened", &view(&context));
    insta::assert_json_snapshot!("webhook_alert_opened", json(&payload));
}

fn daily() -> DailyList {
    let item = |rank, kind, account: &str, name: &str, score, why: &str| TodayItem {
        rank,
        kind,
        account_id: account.into(),
        account_name: name.into(),
        score,
        why: why.into(),
        alert_id: None,
        task_id: None,
        due_on: None,
    };
    DailyList {
        csm_id: "casey".into(),
        csm_name: "Casey Jones".into(),
        as_of: day("2026-11-03"),
        items: vec![
            item(
                1,
                ItemKind::Alert,
                "acc_1042",
                "Acme & Sons",
                73.0,
                "intervene alert — Health dropped sharply (open 1 day): health fell · ARR $84,000",
            ),
            item(
                2,
                ItemKind::Renewal,
                "acc_7",
                "Bolt <Labs>",
                61.7,
                "renewal in 10 days (2026-11-13), churn probability 12%",
            ),
        ],
        not_shown: Default::default(),
    }
}

#[test]
fn digest_message_snapshots() {
    let acme = pack();
    let mut bolt = pack();
    bolt.facts.account_id = "acc_7".into();
    bolt.facts.name = "Bolt <Labs>".into();
    bolt.headline = "1 nps_detractor event in the last 30 days".into();
    let mut second = view(&bolt);
    second.alert_id = 43;
    second.rule_id = "nps_detractor";
    second.rule_name = "NPS detractor";
    second.tier = AlertTier::Watch;
    let alerts = vec![view(&acme), second];
    let list = daily();
    let rendered = digest_message(
        "Casey Jones",
        day("2026-11-03"),
        &alerts,
        Some(&list),
        "https://coco.example.com/today",
    );
    assert_eq!(
        rendered.subject,
        "COCO daily digest for Casey Jones, 2026-11-03: 2 new alerts"
    );
    insta::assert_snapshot!("digest_text", rendered.text);
    insta::assert_snapshot!("digest_html", rendered.html);
    insta::assert_json_snapshot!("digest_slack", json(&rendered.slack));
}

#[test]
fn an_empty_digest_still_links_to_the_day() {
    let empty = DailyList {
        items: Vec::new(),
        ..daily()
    };
    let rendered = digest_message(
        "Casey Jones",
        day("2026-11-03"),
        &[],
        Some(&empty),
        "https://coco.example.com/today",
    );
    assert_eq!(
        rendered.subject,
        "COCO daily digest for Casey Jones, 2026-11-03: 0 new alerts"
    );
    assert_eq!(
        rendered.text,
        "COCO daily digest for Casey Jones, 2026-11-03: 0 new alerts\n\n\
         \nMy day in COCO: https://coco.example.com/today\n"
    );
    let slack = json(&rendered.slack);
    let blocks = slack["blocks"].as_array().unwrap();
    let types: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["header", "actions"]);
    assert_eq!(
        blocks[1]["elements"][0]["url"],
        "https://coco.example.com/today"
    );
}

fn crm_tasks() -> Vec<CrmTask> {
    vec![
        CrmTask {
            external_id: "coco-task-101".into(),
            account_id: "acc_1042".into(),
            subject: "Call the champion about what changed".into(),
            description: "Ask about the usage change; agree one next step.".into(),
            owner_csm_id: Some("casey".into()),
            owner_email: Some("casey@example.com".into()),
            due_date: day("2026-11-05"),
            status: "open".into(),
            priority: "high".into(),
            alert_id: Some(42),
            playbook: "health_recovery".into(),
        },
        CrmTask {
            external_id: "coco-task-102".into(),
            account_id: "acc_7".into(),
            subject: "Review \"Bolt, Inc.\" escalations".into(),
            description: "Line one,\nline \"two\"\r\nline three".into(),
            owner_csm_id: None,
            owner_email: None,
            due_date: day("2026-11-09"),
            status: "open".into(),
            priority: "normal".into(),
            alert_id: None,
            playbook: "support_recovery".into(),
        },
    ]
}

#[test]
fn crm_csv_snapshot() {
    // insta normalises line endings: show the `\r` of the CRLF inside a field.
    insta::assert_snapshot!("crm_csv", crm_csv(&crm_tasks()).replace('\r', "\\r"));
}

// ---------------------------------------------------------------------------------
// Structure

#[test]
fn the_slack_message_is_block_kit_with_a_button_to_the_account_page() {
    let context = pack();
    let rendered = alert_message(&view(&context));
    let slack = json(&rendered.slack);
    assert_eq!(
        slack["text"],
        "[intervene · medium] Acme &amp; Sons: Health dropped sharply"
    );
    let blocks = slack["blocks"].as_array().expect("blocks");
    let types: Vec<&str> = blocks
        .iter()
        .map(|b| b["type"].as_str().expect("a block type"))
        .collect();
    assert_eq!(
        types,
        vec![
            "header", "section", "section", "section", "context", "actions"
        ]
    );
    // The header is plain text (no escaping needed) within Slack's 150 characters.
    let header = &blocks[0]["text"];
    assert_eq!(header["type"], "plain_text");
    assert_eq!(header["text"], "⚠️ Acme & Sons: Health dropped sharply");
    // Section text is mrkdwn within 3,000 characters.
    for section in blocks.iter().filter(|b| b["type"] == "section") {
        assert_eq!(section["text"]["type"], "mrkdwn");
        assert!(section["text"]["text"].as_str().unwrap().chars().count() <= 3000);
    }
    assert_eq!(
        blocks[1]["text"]["text"],
        format!(
            "*{}*\nARR $84,000 · health 53 · churn probability 41% · renewal in 75 days · \
             stage adoption · CSM Casey Jones",
            context.headline
        )
    );
    assert_eq!(
        blocks[3]["text"]["text"],
        "*Suggested play:* Health recovery — the rule's playbook"
    );
    let button = &blocks[5]["elements"][0];
    assert_eq!(button["type"], "button");
    assert_eq!(button["url"], URL);
    assert_eq!(button["text"]["text"], "Open account");
    assert_eq!(
        blocks[4]["elements"][0]["text"],
        "intervene · medium · alert 42 · opened 2026-11-02"
    );
}

#[test]
fn long_headers_and_sections_are_cut_to_slacks_limits() {
    let mut context = pack();
    context.facts.name = "N".repeat(400);
    context.headline = "h".repeat(5000);
    let slack = json(&alert_message(&view(&context)).slack);
    let header = slack["blocks"][0]["text"]["text"].as_str().unwrap();
    assert_eq!(header.chars().count(), 150);
    assert!(header.ends_with('…'));
    let section = slack["blocks"][1]["text"]["text"].as_str().unwrap();
    assert_eq!(section.chars().count(), 3000);
    assert!(section.ends_with('…'));
}

#[test]
fn a_script_in_the_account_name_is_escaped_in_html_and_mrkdwn() {
    let mut context = pack();
    context.facts.name = "Evil <script>alert('x')</script> Corp".into();
    context.evidence[1].events[0].detail = "<b>bold</b> & \"quoted\"".into();
    context.evidence[0].text = "a note <script>x</script> & more".into();
    let rendered = alert_message(&view(&context));

    assert!(!rendered.html.contains("<script>"), "{}", rendered.html);
    assert!(
        rendered
            .html
            .contains("Evil &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Corp"),
        "{}",
        rendered.html
    );
    assert!(
        rendered
            .html
            .contains("&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;"),
        "{}",
        rendered.html
    );
    // The only tags are the template's own.
    for tag in ["<b>", "</b>", "</script>"] {
        assert!(!rendered.html.contains(tag), "{tag}");
    }

    // Slack: mrkdwn fields escape `<`, `>` and `&` (control characters there); the
    // header is plain_text and shows the name as it is.
    let slack = json(&rendered.slack);
    assert_eq!(
        slack["text"],
        "[intervene · medium] Evil &lt;script&gt;alert('x')&lt;/script&gt; Corp: Health dropped sharply"
    );
    for block in slack["blocks"].as_array().unwrap() {
        if block["type"] == "section" {
            let text = block["text"]["text"].as_str().unwrap();
            assert!(!text.contains('<') && !text.contains('>'), "{text}");
        }
    }
    assert_eq!(
        slack["blocks"][2]["text"]["text"],
        "*Why*\n• a note &lt;script&gt;x&lt;/script&gt; &amp; more\n• 1 champion_departed event in \
         the last 30 days (latest 2026-10-28: Maria Rossi left the champion role)\n"
    );
    assert_eq!(
        slack["blocks"][0]["text"]["text"],
        "⚠️ Evil <script>alert('x')</script> Corp: Health dropped sharply"
    );
    // The plain-text email keeps the name as it is: it is not markup.
    assert!(
        rendered
            .text
            .contains("Evil <script>alert('x')</script> Corp")
    );

    // The digest escapes it too.
    let digest = digest_message("Casey", day("2026-11-03"), &[view(&context)], None, URL);
    assert!(!digest.html.contains("<script>"), "{}", digest.html);
    assert!(digest.html.contains("Evil &lt;script&gt;"));
    let slack = json(&digest.slack);
    let lines = slack["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(
        lines.contains(&format!(
            "<{URL}|Evil &lt;script&gt;alert('x')&lt;/script&gt; Corp>"
        )),
        "{lines}"
    );
}

#[test]
fn the_text_and_html_parts_carry_the_same_tasks_and_escalation() {
    let context = pack();
    let rendered = alert_message(&view(&context));
    for part in [&rendered.text, &rendered.html] {
        assert!(part.contains("Several problems at once"), "{part}");
        assert!(part.contains("3 open alerts"), "{part}");
        assert!(part.contains("due 2026-11-03, casey"), "{part}");
        // Nobody holds the role: the role is shown.
        assert!(part.contains("due 2026-11-05, team_lead"), "{part}");
        assert!(part.contains("Health recovery"), "{part}");
        assert!(part.contains("contacts con_1042_3"), "{part}");
        assert!(part.contains(URL), "{part}");
    }
    // Without escalation nodes, neither part has the section.
    let mut quiet = pack();
    quiet.escalation = Some(Escalation::default());
    let rendered = alert_message(&view(&quiet));
    assert!(!rendered.text.contains("Escalation"));
    assert!(!rendered.html.contains("Escalation"));
}

#[test]
fn escape_html_covers_the_five_characters() {
    assert_eq!(
        escape_html("<a href=\"x\">Tom & Jerry's</a>"),
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
    );
    assert_eq!(escape_html("plain — ünïcode"), "plain — ünïcode");
}

#[test]
fn the_webhook_payload_carries_the_alert_account_and_context() {
    let context = pack();
    let payload = json(&webhook_payload(
        "alert.escalated",
        "alert:42:escalated",
        &view(&context),
    ));
    assert_eq!(payload["type"], "alert.escalated");
    assert_eq!(payload["idempotency_key"], "alert:42:escalated");
    assert_eq!(payload["alert"]["id"], 42);
    assert_eq!(payload["alert"]["tier"], "intervene");
    assert_eq!(payload["alert"]["severity"], "medium");
    assert_eq!(payload["alert"]["opened_on"], "2026-11-02");
    assert_eq!(payload["alert"]["url"], URL);
    assert_eq!(payload["account"]["name"], "Acme & Sons");
    assert_eq!(payload["account"], payload["context"]["facts"]);
    // The context round-trips into the same pack.
    let back: ContextPack = serde_json::from_value(payload["context"].clone()).unwrap();
    assert_eq!(back, context);
}

#[test]
fn a_renewal_one_day_away_is_one_day() {
    let mut context = pack();
    context.facts.days_to_renewal = Some(1.0);
    let text = alert_message(&view(&context)).text;
    assert!(text.contains("renewal in 1 day ·"), "{text}");
    // A renewal already past is not announced as ahead.
    context.facts.days_to_renewal = Some(-3.0);
    let text = alert_message(&view(&context)).text;
    assert!(!text.contains("renewal in"), "{text}");
}

#[test]
fn crm_csv_round_trips_commas_quotes_and_newlines() {
    let tasks = crm_tasks();
    let text = crm_csv(&tasks);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "external_id",
            "account_id",
            "subject",
            "description",
            "owner_csm_id",
            "owner_email",
            "due_date",
            "status",
            "priority",
            "alert_id",
            "playbook"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), tasks.len());
    for (row, task) in rows.iter().zip(&tasks) {
        let want: Vec<String> = vec![
            task.external_id.clone(),
            task.account_id.clone(),
            task.subject.clone(),
            task.description.clone(),
            task.owner_csm_id.clone().unwrap_or_default(),
            task.owner_email.clone().unwrap_or_default(),
            task.due_date.to_string(),
            task.status.clone(),
            task.priority.clone(),
            task.alert_id.map(|a| a.to_string()).unwrap_or_default(),
            task.playbook.clone(),
        ];
        let got: Vec<&str> = row.iter().collect();
        assert_eq!(got, want);
    }
    // The tricky fields are quoted, quotes doubled; the plain ones are not.
    assert!(
        text.contains("\"Review \"\"Bolt, Inc.\"\" escalations\""),
        "{text}"
    );
    assert!(
        text.contains("\"Line one,\nline \"\"two\"\"\r\nline three\""),
        "{text}"
    );
    assert!(text.starts_with("external_id,account_id,subject,"));
    assert!(text.contains("\ncoco-task-101,acc_1042,Call the champion about what changed,"));
    assert!(text.ends_with("support_recovery\n"));
    // No tasks: the header alone.
    assert_eq!(
        crm_csv(&[]),
        "external_id,account_id,subject,description,owner_csm_id,owner_email,due_date,status,priority,alert_id,playbook\n"
    );
}
