//! Messages about alerts, rendered once when they are queued: a Slack Block Kit message,
//! an email (text and HTML), the signed webhook's JSON payload (documented in
//! `docs/notifications.md`), the daily digest, and the CRM task export (CSV / JSON).

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};

use crate::context::ContextPack;
use crate::rules::{AlertTier, Severity};
use crate::today::DailyList;

/// An alert as messages show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertView<'a> {
    pub alert_id: i64,
    pub rule_id: &'a str,
    pub rule_name: &'a str,
    pub tier: AlertTier,
    pub severity: Severity,
    pub opened_on: NaiveDate,
    pub context: &'a ContextPack,
    /// The account's page on the dashboard.
    pub url: String,
}

/// The same message for every channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Slack incoming-webhook body (Block Kit).
    pub slack: String,
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters.
fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn tier_mark(tier: AlertTier) -> &'static str {
    match tier {
        AlertTier::Watch => "👀",
        AlertTier::Intervene => "⚠️",
        AlertTier::Escalate => "🚨",
    }
}

fn facts_line(context: &ContextPack) -> String {
    let f = &context.facts;
    let mut parts = Vec::new();
    if let Some(arr) = f.arr {
        parts.push(format!("ARR {}", coco_insights::format::format_money(arr)));
    }
    if let Some(h) = f.health_score {
        parts.push(format!("health {h:.0}"));
    }
    if let Some(p) = f.churn_probability {
        parts.push(format!("churn probability {:.0}%", p * 100.0));
    }
    if let Some(d) = f.days_to_renewal.filter(|d| *d >= 0.0) {
        let d = d.round();
        parts.push(format!(
            "renewal in {d:.0} day{}",
            if d == 1.0 { "" } else { "s" }
        ));
    }
    if let Some(s) = &f.stage {
        parts.push(format!("stage {s}"));
    }
    if let Some(o) = f.owner_name.as_ref().or(f.owner_csm_id.as_ref()) {
        parts.push(format!("CSM {o}"));
    }
    parts.join(" · ")
}

/// One alert, for the people it interrupts.
pub fn alert_message(alert: &AlertView<'_>) -> Rendered {
    let c = alert.context;
    let subject = format!(
        "[{} · {}] {}: {}",
        alert.tier, alert.severity, c.facts.name, alert.rule_name
    );
    let mut text = format!("{subject}\n\n{}\n{}\n\nWhy:\n", c.headline, facts_line(c));
    for e in &c.evidence {
        text.push_str(&format!("- {}\n", e.text));
        for event in &e.events {
            text.push_str(&format!(
                "    {} {} ({} {})\n",
                event.on, event.detail, event.table, event.row_id
            ));
        }
    }
    if !c.drivers.is_empty() {
        text.push_str("\nHealth drivers:\n");
        for d in &c.drivers {
            text.push_str(&format!("- {d}\n"));
        }
    }
    if let Some(play) = &c.suggested_play {
        text.push_str(&format!(
            "\nSuggested play: {} — {}\n",
            play.playbook_name, play.because
        ));
    }
    if !c.tasks.is_empty() {
        text.push_str("\nTasks:\n");
        for t in &c.tasks {
            text.push_str(&format!(
                "- {} (due {}, {})\n",
                t.title,
                t.due_on,
                t.owner_csm_id.as_deref().unwrap_or(t.owner_role.as_str())
            ));
        }
    }
    if let Some(escalation) = c.escalation.as_ref().filter(|e| !e.nodes.is_empty()) {
        for node in &escalation.nodes {
            text.push_str(&format!(
                "\nEscalation: {} ({})\n",
                node.name,
                node.because.join(", ")
            ));
        }
    }
    text.push_str(&format!("\nOpen the account: {}\n", alert.url));

    let mut html = format!(
        "<h2>{} {}</h2><p><strong>{}</strong></p><p>{}</p><h3>Why</h3><ul>",
        tier_mark(alert.tier),
        escape_html(&subject),
        escape_html(&c.headline),
        escape_html(&facts_line(c))
    );
    for e in &c.evidence {
        html.push_str(&format!("<li>{}", escape_html(&e.text)));
        if !e.events.is_empty() {
            html.push_str("<ul>");
            for event in &e.events {
                html.push_str(&format!(
                    "<li>{} {} <small>({} {})</small></li>",
                    event.on,
                    escape_html(&event.detail),
                    escape_html(&event.table),
                    escape_html(&event.row_id)
                ));
            }
            html.push_str("</ul>");
        }
        html.push_str("</li>");
    }
    html.push_str("</ul>");
    if !c.drivers.is_empty() {
        html.push_str("<h3>Health drivers</h3><ul>");
        for d in &c.drivers {
            html.push_str(&format!("<li>{}</li>", escape_html(d)));
        }
        html.push_str("</ul>");
    }
    if let Some(play) = &c.suggested_play {
        html.push_str(&format!(
            "<h3>Suggested play</h3><p><strong>{}</strong> — {}</p>",
            escape_html(&play.playbook_name),
            escape_html(&play.because)
        ));
    }
    if !c.tasks.is_empty() {
        html.push_str("<h3>Tasks</h3><ol>");
        for t in &c.tasks {
            html.push_str(&format!(
                "<li>{} <small>(due {}, {})</small></li>",
                escape_html(&t.title),
                t.due_on,
                escape_html(t.owner_csm_id.as_deref().unwrap_or(t.owner_role.as_str()))
            ));
        }
        html.push_str("</ol>");
    }
    if let Some(escalation) = c.escalation.as_ref().filter(|e| !e.nodes.is_empty()) {
        html.push_str("<h3>Escalation</h3><ul>");
        for node in &escalation.nodes {
            html.push_str(&format!(
                "<li>{} <small>({})</small></li>",
                escape_html(&node.name),
                escape_html(&node.because.join(", "))
            ));
        }
        html.push_str("</ul>");
    }
    html.push_str(&format!(
        "<p><a href=\"{}\">Open the account in COCO</a></p>",
        escape_html(&alert.url)
    ));

    let mut why = String::new();
    for e in c.evidence.iter().take(4) {
        why.push_str(&format!("• {}\n", escape_slack(&e.text)));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&format!("{} {}: {}", tier_mark(alert.tier), c.facts.name, alert.rule_name), 150), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&format!("*{}*\n{}", escape_slack(&c.headline), escape_slack(&facts_line(c))), 3000)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&format!("*Why*\n{why}"), 3000)}}),
    ];
    if let Some(play) = &c.suggested_play {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&format!("*Suggested play:* {} — {}", escape_slack(&play.playbook_name), escape_slack(&play.because)), 3000)}}));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("{} · {} · alert {} · opened {}", alert.tier, alert.severity, alert.alert_id, alert.opened_on)}]}));
    blocks.push(json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open account"}, "url": alert.url}]}));
    // The fallback `text` is mrkdwn too: an account named "A <b>" must not become a link.
    let slack = json!({"text": escape_slack(&subject), "blocks": blocks}).to_string();
    Rendered {
        subject,
        text,
        html,
        slack,
    }
}

/// Slack limits header text to 150 characters and section text to 3,000.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// The signed webhook's body for an alert event (`alert.opened`, `alert.escalated`).
pub fn webhook_payload(event: &str, idempotency_key: &str, alert: &AlertView<'_>) -> String {
    json!({
        "type": event,
        "idempotency_key": idempotency_key,
        "alert": {
            "id": alert.alert_id,
            "rule": alert.rule_id,
            "name": alert.rule_name,
            "tier": alert.tier,
            "severity": alert.severity,
            "opened_on": alert.opened_on,
            "url": alert.url,
        },
        "account": alert.context.facts,
        "context": alert.context,
    })
    .to_string()
}

/// The daily digest for one person: the alerts batched for them and their list.
pub fn digest_message(
    person: &str,
    as_of: NaiveDate,
    alerts: &[AlertView<'_>],
    list: Option<&DailyList>,
    dashboard_url: &str,
) -> Rendered {
    let subject = format!(
        "COCO daily digest for {person}, {as_of}: {} new alert{}",
        alerts.len(),
        if alerts.len() == 1 { "" } else { "s" }
    );
    let mut text = format!("{subject}\n\n");
    let mut html = format!("<h2>{}</h2>", escape_html(&subject));
    if !alerts.is_empty() {
        text.push_str("New alerts:\n");
        html.push_str("<h3>New alerts</h3><ul>");
        for a in alerts {
            text.push_str(&format!(
                "- [{}] {}: {} — {}\n  {}\n",
                a.tier, a.context.facts.name, a.rule_name, a.context.headline, a.url
            ));
            html.push_str(&format!(
                "<li><strong>[{}] <a href=\"{}\">{}</a></strong>: {} — {}</li>",
                a.tier,
                escape_html(&a.url),
                escape_html(&a.context.facts.name),
                escape_html(a.rule_name),
                escape_html(&a.context.headline)
            ));
        }
        html.push_str("</ul>");
    }
    if let Some(list) = list.filter(|l| !l.items.is_empty()) {
        text.push_str("\nYour day:\n");
        html.push_str("<h3>Your day</h3><ol>");
        for item in &list.items {
            text.push_str(&format!(
                "{}. {} — {}\n",
                item.rank, item.account_name, item.why
            ));
            html.push_str(&format!(
                "<li><strong>{}</strong> — {}</li>",
                escape_html(&item.account_name),
                escape_html(&item.why)
            ));
        }
        html.push_str("</ol>");
    }
    text.push_str(&format!("\nMy day in COCO: {dashboard_url}\n"));
    html.push_str(&format!(
        "<p><a href=\"{}\">My day in COCO</a></p>",
        escape_html(dashboard_url)
    ));
    let mut lines = String::new();
    for a in alerts.iter().take(20) {
        lines.push_str(&format!(
            "• *{}* <{}|{}>: {}\n",
            a.tier,
            a.url,
            escape_slack(&a.context.facts.name),
            escape_slack(a.rule_name)
        ));
    }
    let mut blocks: Vec<Value> = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&subject, 150)}}),
    ];
    if !lines.is_empty() {
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&lines, 3000)}}),
        );
    }
    if let Some(list) = list {
        let mut day = String::new();
        for item in list.items.iter().take(10) {
            day.push_str(&format!(
                "{}. *{}* — {}\n",
                item.rank,
                escape_slack(&item.account_name),
                escape_slack(&item.why)
            ));
        }
        if !day.is_empty() {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&format!("*Your day*\n{day}"), 3000)}}));
        }
    }
    blocks.push(json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "My day"}, "url": dashboard_url}]}));
    Rendered {
        subject: subject.clone(),
        text,
        html,
        slack: json!({"text": escape_slack(&subject), "blocks": blocks}).to_string(),
    }
}

/// A task as the CRM export writes it (Salesforce/HubSpot task fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmTask {
    pub external_id: String,
    pub account_id: String,
    pub subject: String,
    pub description: String,
    pub owner_csm_id: Option<String>,
    pub owner_email: Option<String>,
    pub due_date: NaiveDate,
    pub status: String,
    pub priority: String,
    pub alert_id: Option<i64>,
    pub playbook: String,
}

/// The CRM export's columns, in order.
const CRM_COLUMNS: [&str; 11] = [
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
    "playbook",
];

/// CRM tasks as CSV (header + one row each, `\n`-terminated; fields quoted by the csv
/// crate where RFC 4180 needs it).
pub fn crm_csv(tasks: &[CrmTask]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail, and every record has the header's length.
    writer.write_record(CRM_COLUMNS).expect("CSV into memory");
    for t in tasks {
        let due_date = t.due_date.to_string();
        let alert_id = t.alert_id.map(|a| a.to_string()).unwrap_or_default();
        writer
            .write_record([
                t.external_id.as_str(),
                &t.account_id,
                &t.subject,
                &t.description,
                t.owner_csm_id.as_deref().unwrap_or(""),
                t.owner_email.as_deref().unwrap_or(""),
                &due_date,
                &t.status,
                &t.priority,
                &alert_id,
                &t.playbook,
            ])
            .expect("CSV into memory");
    }
    let bytes = writer.into_inner().expect("CSV into memory");
    // Every field was a &str, so the bytes are UTF-8.
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}
