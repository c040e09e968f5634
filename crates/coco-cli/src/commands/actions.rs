//! The action surfaces: `coco run daily`, `coco alerts`, `coco tasks`,
//! `coco interventions`, `coco today`, `coco outbox`, `coco runs`.

use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use coco_actions::context::ContextPack;
use coco_actions::render::{CrmTask, crm_csv};
use coco_engine::actions::ActionsConfig;
use coco_engine::actions::daily::{DailyOptions, run_daily};
use coco_engine::actions::{outbox, outcomes, today as daily};
use coco_store::Store;
use coco_store::actions::{AlertFilter, InterventionRow, TaskFilter};
use serde::Serialize;

use crate::GlobalArgs;
use crate::commands::{metrics, open_store, today, user_error};
use crate::output::{self, Format};

pub fn load_actions(global: &GlobalArgs, config: &coco_engine::Config) -> Result<ActionsConfig> {
    let dir = global
        .config_dir
        .clone()
        .unwrap_or_else(|| global.data_dir.join("config"));
    Ok(ActionsConfig::load(Some(&dir), config)?)
}

#[derive(Subcommand)]
pub enum RunCommand {
    /// Refresh metrics and health → churn predictions → alerts (tasks, messages) →
    /// digests → deliver; recorded in the run log (`coco runs`).
    #[command(
        after_help = "Examples:\n  coco run daily\n  coco run daily --as-of 2026-10-31 --no-deliver\n  coco run daily --no-refresh      # alert on the stored snapshot only"
    )]
    Daily(DailyArgs),
}

#[derive(Args)]
pub struct DailyArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Skip recomputing the snapshot and predictions (use what is stored).
    #[arg(long)]
    pub no_refresh: bool,
    /// Leave the messages queued in the outbox (`coco outbox deliver` sends them).
    #[arg(long)]
    pub no_deliver: bool,
}

pub fn run(global: &GlobalArgs, command: &RunCommand) -> Result<()> {
    let RunCommand::Daily(args) = command;
    let store = open_store(global)?;
    let config = metrics::load_config(global)?;
    let actions = load_actions(global, &config)?;
    let run = run_daily(
        &store,
        &config,
        &actions,
        &DailyOptions {
            as_of: args.as_of.unwrap_or_else(today),
            trigger: "cli".into(),
            refresh: !args.no_refresh,
            deliver: !args.no_deliver,
        },
    )?;
    if global.format != Format::Table {
        return output::print_object(&run, global.format);
    }
    println!(
        "daily run {} as of {} ({:.1}s)",
        run.run_id, run.as_of, run.seconds
    );
    for step in &run.steps {
        let counts: Vec<String> = step
            .counts
            .iter()
            .map(|(k, v)| format!("{k} {}", coco_insights::format::number(*v)))
            .collect();
        println!(
            "  {:<9} {:>7.2}s  {}{}",
            step.name,
            step.seconds,
            counts.join(", "),
            step.note
                .as_ref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default()
        );
    }
    let with_items = run.lists.iter().filter(|l| l.items > 0).count();
    println!(
        "{} CSM lists, {} with items — `coco today --csm ID` for one",
        run.lists.len(),
        with_items
    );
    Ok(())
}

// ----- alerts -------------------------------------------------------------------------

#[derive(Subcommand)]
pub enum AlertsCommand {
    /// Alerts, newest first (open ones by default).
    #[command(
        after_help = "Examples:\n  coco alerts list\n  coco alerts list --owner csm_004 --status all\n  coco alerts list --tier escalate --format json"
    )]
    List(AlertListArgs),
    /// One alert with its context pack: evidence, drivers, history, play, tasks.
    #[command(after_help = "Example:\n  coco alerts show 12")]
    Show(AlertIdArgs),
    /// Mark an alert seen and being worked on (still open).
    Ack(AlertActionArgs),
    /// Hide an alert until a date (it comes back then if its condition still holds).
    #[command(after_help = "Example:\n  coco alerts snooze 12 --until 2026-12-10")]
    Snooze(AlertSnoozeArgs),
    /// Close an alert; the rule stays quiet on the account for the cool-down.
    #[command(after_help = "Example:\n  coco alerts close 12 --reason \"renewal signed\"")]
    Close(AlertActionArgs),
    /// Reopen a closed or snoozed alert.
    Reopen(AlertActionArgs),
}

#[derive(Args)]
pub struct AlertListArgs {
    /// open (open, acknowledged, snoozed), closed (resolved, closed), all, or one status.
    #[arg(long, default_value = "open")]
    pub status: String,
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub account: Option<String>,
    /// watch, intervene or escalate.
    #[arg(long)]
    pub tier: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Args)]
pub struct AlertIdArgs {
    pub id: i64,
}

#[derive(Args)]
pub struct AlertActionArgs {
    pub id: i64,
    #[arg(long)]
    pub reason: Option<String>,
    /// Who did it (recorded).
    #[arg(long, env = "USER")]
    pub by: Option<String>,
    #[arg(long)]
    pub on: Option<NaiveDate>,
}

#[derive(Args)]
pub struct AlertSnoozeArgs {
    pub id: i64,
    #[arg(long)]
    pub until: NaiveDate,
    #[arg(long, env = "USER")]
    pub by: Option<String>,
}

fn statuses(choice: &str) -> Result<Vec<String>> {
    let all = ["open", "acknowledged", "snoozed", "resolved", "closed"];
    Ok(match choice {
        "open" => vec!["open".into(), "acknowledged".into(), "snoozed".into()],
        "closed" => vec!["resolved".into(), "closed".into()],
        "all" => Vec::new(),
        one if all.contains(&one) => vec![one.to_string()],
        other => {
            return Err(user_error(
                format!(
                    "--status `{other}` is not one of open, closed, all, {}",
                    all.join(", ")
                ),
                None,
            ));
        }
    })
}

#[derive(Serialize)]
struct AlertLine {
    id: i64,
    opened_on: NaiveDate,
    tier: String,
    severity: String,
    status: String,
    account_id: String,
    owner: Option<String>,
    rule: String,
    headline: String,
}

pub fn alerts(global: &GlobalArgs, command: &AlertsCommand) -> Result<()> {
    let store = open_store(global)?;
    match command {
        AlertsCommand::List(args) => {
            let mut rows = store.alerts(&AlertFilter {
                statuses: statuses(&args.status)?,
                owner_csm_id: args.owner.clone(),
                account_id: args.account.clone(),
                opened_on_or_before: None,
            })?;
            if let Some(tier) = &args.tier {
                rows.retain(|r| &r.tier == tier);
            }
            rows.sort_by(|a, b| {
                b.opened_on
                    .cmp(&a.opened_on)
                    .then(b.alert_id.cmp(&a.alert_id))
            });
            rows.truncate(args.limit);
            let lines: Vec<AlertLine> = rows
                .into_iter()
                .map(|r| AlertLine {
                    id: r.alert_id,
                    opened_on: r.opened_on,
                    tier: r.tier,
                    severity: r.severity,
                    status: r.status,
                    account_id: r.account_id,
                    owner: r.owner_csm_id,
                    rule: r.rule_id,
                    headline: r.headline,
                })
                .collect();
            output::print_rows(&lines, global.format)
        }
        AlertsCommand::Show(args) => show_alert(&store, args.id, global.format),
        AlertsCommand::Ack(a) => set_status(&store, a, "acknowledged", None, global.format),
        AlertsCommand::Close(a) => set_status(&store, a, "closed", None, global.format),
        AlertsCommand::Reopen(a) => set_status(&store, a, "open", None, global.format),
        AlertsCommand::Snooze(a) => set_status(
            &store,
            &AlertActionArgs {
                id: a.id,
                reason: None,
                by: a.by.clone(),
                on: None,
            },
            "snoozed",
            Some(a.until),
            global.format,
        ),
    }
}

fn set_status(
    store: &Store,
    args: &AlertActionArgs,
    status: &str,
    until: Option<NaiveDate>,
    format: Format,
) -> Result<()> {
    let (_, row) = coco_engine::actions::set_alert_status(
        store,
        args.id,
        status,
        args.on.unwrap_or_else(today),
        args.by.as_deref(),
        args.reason.as_deref(),
        until,
    )?;
    if format == Format::Table {
        println!("alert {} is {}", row.alert_id, row.status);
        return Ok(());
    }
    output::print_object(&row, format)
}

fn show_alert(store: &Store, id: i64, format: Format) -> Result<()> {
    let row = store.alert(id)?;
    let context: ContextPack = serde_json::from_str(&row.context)?;
    let tasks = store.tasks(&TaskFilter {
        alert_id: Some(id),
        ..TaskFilter::default()
    })?;
    if format != Format::Table {
        #[derive(Serialize)]
        struct Shown<'a> {
            alert: &'a coco_store::actions::AlertRow,
            context: &'a ContextPack,
            recipients: serde_json::Value,
            tasks: &'a [coco_store::actions::TaskRow],
        }
        return output::print_object(
            &Shown {
                alert: &row,
                context: &context,
                recipients: serde_json::from_str(&row.recipients)?,
                tasks: &tasks,
            },
            format,
        );
    }
    println!(
        "alert {} · {} · {} · {} — {} ({})",
        row.alert_id, row.tier, row.severity, row.status, context.facts.name, row.account_id
    );
    println!("opened {} · last seen {}", row.opened_on, row.last_seen_on);
    println!("\n{}", context.headline);
    println!("\nWhy:");
    for e in &context.evidence {
        println!("  - {}", e.text);
        for event in &e.events {
            println!(
                "      {} {} ({} {})",
                event.on, event.detail, event.table, event.row_id
            );
        }
    }
    if !context.drivers.is_empty() {
        println!("\nHealth drivers:");
        for d in &context.drivers {
            println!("  - {d}");
        }
    }
    if !context.history.is_empty() {
        let points: Vec<String> = context
            .history
            .iter()
            .map(|(d, h)| format!("{d} {h:.0}"))
            .collect();
        println!("\nHealth history: {}", points.join(" → "));
    }
    if let Some(play) = &context.suggested_play {
        println!(
            "\nSuggested play: {} — {}",
            play.playbook_name, play.because
        );
    }
    if let Some(escalation) = &context.escalation {
        for node in &escalation.nodes {
            println!("Escalation: {} ({})", node.name, node.because.join(", "));
        }
    }
    let routing: serde_json::Value = serde_json::from_str(&row.recipients)?;
    if let Some(list) = routing.get("recipients").and_then(|r| r.as_array()) {
        let names: Vec<String> = list
            .iter()
            .filter_map(|r| {
                Some(format!(
                    "{} ({})",
                    r.get("name")?.as_str()?,
                    r.get("role")?.as_str()?
                ))
            })
            .collect();
        println!(
            "\nRouted to: {} ({})",
            names.join(", "),
            if row.interrupt {
                "at once"
            } else {
                "daily digest"
            }
        );
    }
    println!("\nTasks:");
    output::print_rows(&task_lines(tasks), Format::Table)
}

// ----- tasks --------------------------------------------------------------------------

#[derive(Subcommand)]
pub enum TasksCommand {
    /// Tasks by due date (open ones by default).
    #[command(
        after_help = "Examples:\n  coco tasks list --owner csm_004\n  coco tasks list --due-by 2026-12-05 --status all"
    )]
    List(TaskListArgs),
    /// Mark a task done, with an optional note.
    #[command(after_help = "Example:\n  coco tasks done 31 --note \"called the sponsor\"")]
    Done(TaskDoneArgs),
    /// Put a task off until a date.
    #[command(after_help = "Example:\n  coco tasks snooze 31 --until 2026-12-08")]
    Snooze(TaskSnoozeArgs),
    /// Add a note to a task.
    Note(TaskNoteArgs),
    /// Export tasks for a CRM (Salesforce/HubSpot task fields) as CSV or JSON.
    #[command(
        after_help = "Examples:\n  coco tasks export --owner csm_004 > tasks.csv\n  coco tasks export --as json"
    )]
    Export(TaskExportArgs),
}

#[derive(Args)]
pub struct TaskListArgs {
    /// open (open, snoozed), done, cancelled or all.
    #[arg(long, default_value = "open")]
    pub status: String,
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub account: Option<String>,
    #[arg(long)]
    pub due_by: Option<NaiveDate>,
}

#[derive(Args)]
pub struct TaskDoneArgs {
    pub id: i64,
    #[arg(long)]
    pub note: Option<String>,
    #[arg(long, env = "USER")]
    pub by: Option<String>,
    #[arg(long)]
    pub on: Option<NaiveDate>,
}

#[derive(Args)]
pub struct TaskSnoozeArgs {
    pub id: i64,
    #[arg(long)]
    pub until: NaiveDate,
    #[arg(long)]
    pub note: Option<String>,
    #[arg(long, env = "USER")]
    pub by: Option<String>,
}

#[derive(Args)]
pub struct TaskNoteArgs {
    pub id: i64,
    pub note: String,
    #[arg(long, env = "USER")]
    pub by: Option<String>,
}

#[derive(Args)]
pub struct TaskExportArgs {
    #[command(flatten)]
    pub filter: TaskListArgs,
    /// csv or json.
    #[arg(long = "as", default_value = "csv")]
    pub export_format: String,
}

#[derive(Serialize)]
struct TaskLine {
    id: i64,
    due_on: NaiveDate,
    status: String,
    account_id: String,
    owner: Option<String>,
    title: String,
    playbook: String,
    alert: Option<i64>,
}

fn task_lines(tasks: Vec<coco_store::actions::TaskRow>) -> Vec<TaskLine> {
    tasks
        .into_iter()
        .map(|t| TaskLine {
            id: t.task_id,
            due_on: t.due_on,
            status: t.status,
            account_id: t.account_id,
            owner: t.owner_csm_id,
            title: t.title,
            playbook: t.playbook_id,
            alert: t.alert_id,
        })
        .collect()
}

fn task_filter(args: &TaskListArgs) -> Result<TaskFilter> {
    let statuses = match args.status.as_str() {
        "open" => vec!["open".into(), "snoozed".into()],
        "all" => Vec::new(),
        one @ ("done" | "cancelled" | "snoozed") => vec![one.to_string()],
        other => {
            return Err(user_error(
                format!("--status `{other}` is not one of open, done, cancelled, snoozed, all"),
                None,
            ));
        }
    };
    Ok(TaskFilter {
        statuses,
        owner_csm_id: args.owner.clone(),
        account_id: args.account.clone(),
        alert_id: None,
        due_on_or_before: args.due_by,
    })
}

pub fn tasks(global: &GlobalArgs, command: &TasksCommand) -> Result<()> {
    let store = open_store(global)?;
    let print = |row: coco_store::actions::TaskRow| -> Result<()> {
        if global.format == Format::Table {
            println!("task {} is {}: {}", row.task_id, row.status, row.title);
            Ok(())
        } else {
            output::print_object(&row, global.format)
        }
    };
    match command {
        TasksCommand::List(args) => {
            let rows = store.tasks(&task_filter(args)?)?;
            output::print_rows(&task_lines(rows), global.format)
        }
        TasksCommand::Done(a) => print(store.update_task(
            a.id,
            "done",
            a.on.unwrap_or_else(today),
            a.by.as_deref(),
            None,
            a.note.as_deref(),
        )?),
        TasksCommand::Snooze(a) => {
            let on = today();
            if a.until <= on {
                return Err(user_error(
                    format!("--until {} is not after {on}", a.until),
                    None,
                ));
            }
            print(store.update_task(
                a.id,
                "snoozed",
                on,
                a.by.as_deref(),
                Some(a.until),
                a.note.as_deref(),
            )?)
        }
        TasksCommand::Note(a) => {
            store.add_task_note(a.id, a.by.as_deref(), &a.note)?;
            print(store.task(a.id)?)
        }
        TasksCommand::Export(a) => {
            let rows = store.tasks(&task_filter(&a.filter)?)?;
            let directory = store.csm_directory()?;
            let alerts = store.latest_alerts()?;
            let crm: Vec<CrmTask> = rows
                .into_iter()
                .map(|t| {
                    let severity = t
                        .alert_id
                        .and_then(|id| alerts.iter().find(|a| a.alert_id == id))
                        .map(|a| a.severity.clone());
                    CrmTask {
                        external_id: format!("coco-task-{}", t.task_id),
                        owner_email: t.owner_csm_id.as_ref().and_then(|o| {
                            directory
                                .iter()
                                .find(|c| &c.csm_id == o)
                                .and_then(|c| c.email.clone())
                        }),
                        account_id: t.account_id,
                        subject: t.title,
                        description: t.instructions,
                        owner_csm_id: t.owner_csm_id,
                        due_date: t.due_on,
                        status: match t.status.as_str() {
                            "done" => "Completed".into(),
                            "cancelled" => "Deferred".into(),
                            _ => "Not Started".into(),
                        },
                        priority: match severity.as_deref() {
                            Some("high") => "High".into(),
                            Some("medium") => "Normal".into(),
                            _ => "Low".into(),
                        },
                        alert_id: t.alert_id,
                        playbook: t.playbook_id,
                    }
                })
                .collect();
            match a.export_format.as_str() {
                "csv" => print!("{}", crm_csv(&crm)),
                "json" => println!("{}", serde_json::to_string_pretty(&crm)?),
                other => {
                    return Err(user_error(format!("--as `{other}`: csv or json"), None));
                }
            }
            Ok(())
        }
    }
}

// ----- interventions ------------------------------------------------------------------

#[derive(Subcommand)]
pub enum InterventionsCommand {
    /// Record what was done for an account: play, channel, stakeholder.
    #[command(
        after_help = "Example:\n  coco interventions record acc_00042 --play exec_reengagement --channel call --stakeholder \"CFO\" --alert 12"
    )]
    Record(RecordArgs),
    /// Success rate per play and risk profile, with confidence intervals.
    #[command(after_help = "Example:\n  coco interventions report --as-of 2026-12-01")]
    Report(ReportArgs),
    /// The play with the best record for a risk profile (or an alert's).
    #[command(
        after_help = "Examples:\n  coco interventions recommend --profile health_decline\n  coco interventions recommend --alert 12"
    )]
    Recommend(RecommendArgs),
}

#[derive(Args)]
pub struct RecordArgs {
    pub account: String,
    #[arg(long)]
    pub play: String,
    /// call, email, meeting, qbr, in_app…
    #[arg(long)]
    pub channel: String,
    #[arg(long)]
    pub stakeholder: Option<String>,
    /// The alert it answered (its risk profile is recorded with it).
    #[arg(long)]
    pub alert: Option<i64>,
    /// The risk profile when no alert is given.
    #[arg(long)]
    pub profile: Option<String>,
    #[arg(long)]
    pub on: Option<NaiveDate>,
    #[arg(long)]
    pub note: Option<String>,
    #[arg(long, env = "USER")]
    pub by: Option<String>,
}

#[derive(Args)]
pub struct ReportArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Args)]
pub struct RecommendArgs {
    #[arg(long)]
    pub profile: Option<String>,
    #[arg(long)]
    pub alert: Option<i64>,
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Serialize)]
struct RecordLine {
    play: String,
    profile: String,
    decided: u64,
    successes: u64,
    pending: u64,
    rate: Option<String>,
    interval: Option<String>,
    health_change: String,
}

pub fn interventions(global: &GlobalArgs, command: &InterventionsCommand) -> Result<()> {
    let store = open_store(global)?;
    let config = metrics::load_config(global)?;
    let actions = load_actions(global, &config)?;
    match command {
        InterventionsCommand::Record(a) => {
            let alert = a.alert.map(|id| store.alert(id)).transpose()?;
            let profile = match (&alert, &a.profile) {
                (Some(alert), _) => alert.profile.clone(),
                (None, Some(p)) => p.clone(),
                (None, None) => {
                    return Err(user_error(
                        "give --alert ID or --profile (the risk profile the play answered)",
                        Some("profiles are the `profile` of the rules in alerts.toml"),
                    ));
                }
            };
            if actions.playbooks.playbook(&a.play).is_none() {
                return Err(user_error(
                    format!(
                        "--play `{}` is not a playbook of {}",
                        a.play, actions.playbooks_origin
                    ),
                    Some(&format!(
                        "playbooks: {}",
                        actions
                            .playbooks
                            .playbooks
                            .iter()
                            .map(|p| p.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ));
            }
            if let Some(alert) = &alert
                && alert.account_id != a.account
            {
                return Err(user_error(
                    format!(
                        "alert {} is about {}, not {}",
                        alert.alert_id, alert.account_id, a.account
                    ),
                    None,
                ));
            }
            if store.account_name(&a.account)?.is_none() {
                return Err(user_error(format!("no account {}", a.account), None));
            }
            let id = store.record_intervention(&InterventionRow {
                intervention_id: 0,
                account_id: a.account.clone(),
                alert_id: a.alert,
                play: a.play.clone(),
                profile,
                channel: a.channel.clone(),
                stakeholder: a.stakeholder.clone(),
                done_on: a.on.unwrap_or_else(today),
                note: a.note.clone(),
                recorded_by: a.by.clone(),
            })?;
            println!("recorded intervention {id}");
            Ok(())
        }
        InterventionsCommand::Report(a) => {
            let as_of = a.as_of.unwrap_or_else(today);
            let report = outcomes::report(&store, &config, &actions, as_of)?;
            if global.format == Format::Json {
                return output::print_object(&report, global.format);
            }
            let percent = |x: f64| format!("{:.0}%", x * 100.0);
            let lines: Vec<RecordLine> = report
                .by_play_and_profile
                .iter()
                .chain(&report.by_play)
                .map(|r| RecordLine {
                    play: r.play.clone(),
                    profile: r.profile.clone().unwrap_or_else(|| "(all)".into()),
                    decided: r.decided,
                    successes: r.successes,
                    pending: r.pending,
                    rate: r.rate.map(percent),
                    interval: r
                        .interval
                        .map(|(lo, hi)| format!("{}–{}", percent(lo), percent(hi))),
                    health_change: r
                        .mean_health_change
                        .iter()
                        .map(|(d, c)| {
                            format!("{d}d {}", c.map_or("–".into(), |c| format!("{c:+.1}")))
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                })
                .collect();
            if global.format == Format::Table {
                println!(
                    "{} interventions as of {}, {} decided, overall success {}",
                    report.interventions,
                    report.as_of,
                    report.decided,
                    report.overall_rate.map_or("–".into(), percent)
                );
            }
            output::print_rows(&lines, global.format)
        }
        InterventionsCommand::Recommend(a) => {
            let as_of = a.as_of.unwrap_or_else(today);
            let profile = match (a.alert, &a.profile) {
                (Some(id), _) => store.alert(id)?.profile,
                (None, Some(p)) => p.clone(),
                (None, None) => return Err(user_error("give --profile or --alert", None)),
            };
            let rec = outcomes::recommendation(&store, &config, &actions, as_of, &profile)?;
            if global.format != Format::Table {
                return output::print_object(&rec, global.format);
            }
            println!("{}", rec.because);
            output::print_rows(&rec.candidates, Format::Table)
        }
    }
}

// ----- today --------------------------------------------------------------------------

#[derive(Args)]
pub struct TodayArgs {
    /// The CSM's id or name.
    #[arg(long)]
    pub csm: String,
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

pub fn today_list(global: &GlobalArgs, args: &TodayArgs) -> Result<()> {
    let store = open_store(global)?;
    let config = metrics::load_config(global)?;
    let actions = load_actions(global, &config)?;
    let as_of = args.as_of.unwrap_or_else(today);
    let list = daily::today(&store, &config, &actions, as_of, &args.csm)?;
    if global.format != Format::Table {
        return output::print_object(&list, global.format);
    }
    println!(
        "{} ({}) — {} items for {}",
        list.csm_name,
        list.csm_id,
        list.items.len(),
        list.as_of
    );
    for item in &list.items {
        println!(
            "{:>3}. [{:<9}] {} — {}",
            item.rank,
            item.kind.as_str(),
            item.account_name,
            item.why
        );
    }
    if !list.not_shown.is_empty() {
        let more: Vec<String> = list
            .not_shown
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        println!("     (and {} more)", more.join(", "));
    }
    Ok(())
}

// ----- outbox and runs ----------------------------------------------------------------

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Queued, delivered and dead-lettered messages, newest first.
    #[command(after_help = "Examples:\n  coco outbox list\n  coco outbox list --status dead")]
    List(OutboxListArgs),
    /// Put a dead-lettered message back in the queue.
    #[command(after_help = "Example:\n  coco outbox retry 17")]
    Retry(OutboxRetryArgs),
    /// Deliver the messages that are due (one pass, or until the queue is empty).
    #[command(
        after_help = "Examples:\n  coco outbox deliver\n  coco outbox deliver --until-empty --max-seconds 120"
    )]
    Deliver(DeliverArgs),
}

#[derive(Args)]
pub struct OutboxListArgs {
    /// pending, delivered, dead or all.
    #[arg(long, default_value = "all")]
    pub status: String,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Args)]
pub struct OutboxRetryArgs {
    pub id: i64,
}

#[derive(Args)]
pub struct DeliverArgs {
    /// Keep going (waiting out back-offs) until nothing is pending.
    #[arg(long)]
    pub until_empty: bool,
    #[arg(long, default_value_t = 300)]
    pub max_seconds: u64,
}

#[derive(Serialize)]
struct OutboxLine {
    id: i64,
    status: String,
    kind: String,
    channel: String,
    destination: String,
    attempts: i32,
    next_attempt_at: String,
    key: String,
    subject: String,
    last_error: Option<String>,
}

pub fn outbox_command(global: &GlobalArgs, command: &OutboxCommand) -> Result<()> {
    let store = open_store(global)?;
    match command {
        OutboxCommand::List(a) => {
            let statuses = match a.status.as_str() {
                "all" => Vec::new(),
                one @ ("pending" | "delivered" | "dead") => vec![one.to_string()],
                other => {
                    return Err(user_error(
                        format!("--status `{other}` is not one of pending, delivered, dead, all"),
                        None,
                    ));
                }
            };
            let rows = store.outbox(&statuses, a.limit)?;
            if global.format == Format::Table {
                let counts = store.outbox_counts()?;
                let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
                println!(
                    "outbox: {}",
                    if summary.is_empty() {
                        "empty".into()
                    } else {
                        summary.join(", ")
                    }
                );
            }
            let lines: Vec<OutboxLine> = rows
                .into_iter()
                .map(|m| OutboxLine {
                    id: m.message_id,
                    status: m.status,
                    kind: m.kind,
                    channel: m.channel,
                    destination: m.destination,
                    attempts: m.attempts,
                    next_attempt_at: m.next_attempt_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    key: m.idempotency_key,
                    subject: m.subject,
                    last_error: m.last_error,
                })
                .collect();
            output::print_rows(&lines, global.format)
        }
        OutboxCommand::Retry(a) => {
            store.retry_message(a.id, chrono::Utc::now().naive_utc())?;
            println!("message {} queued again", a.id);
            Ok(())
        }
        OutboxCommand::Deliver(a) => {
            let config = metrics::load_config(global)?;
            let actions = load_actions(global, &config)?;
            let notifier = outbox::notifier(&actions)?;
            let (report, left) = if a.until_empty {
                outbox::deliver_until_empty(
                    &store,
                    &actions,
                    &notifier,
                    Duration::from_secs(a.max_seconds),
                )?
            } else {
                (outbox::deliver_due(&store, &actions, &notifier)?, 0)
            };
            if global.format != Format::Table {
                return output::print_object(&report, global.format);
            }
            println!(
                "attempted {}, delivered {}, retrying {}, dead {}{}",
                report.attempted,
                report.delivered,
                report.retrying,
                report.dead,
                if left > 0 {
                    format!("; {left} still pending")
                } else {
                    String::new()
                }
            );
            Ok(())
        }
    }
}

#[derive(Args)]
pub struct RunsArgs {
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

pub fn runs(global: &GlobalArgs, args: &RunsArgs) -> Result<()> {
    let store = open_store(global)?;
    let rows = store.runs(args.limit)?;
    output::print_rows(&rows, global.format)
}
