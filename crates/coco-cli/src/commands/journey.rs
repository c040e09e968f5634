//! `coco journey stages|milestones|compare|dropoff|scorecard`, `coco onboarding list`,
//! `coco touchpoints timeline|silent`: the customer journey from the data.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use coco_engine::lifecycle;
use serde::Serialize;

use crate::GlobalArgs;
use crate::commands::{metrics, open_store, today, user_error};
use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum JourneyCommand {
    /// Accounts per stage; with ACCOUNT its stage, confidence, transitions, conflicts.
    #[command(
        after_help = "Examples:\n  coco journey stages\n  coco journey stages acc_00042\n  coco journey stages --conflicts"
    )]
    Stages(StagesArgs),
    /// Milestone completion, skipped milestones, completion times, churn links.
    #[command(
        after_help = "Examples:\n  coco journey milestones\n  coco journey milestones --heatmap --format csv"
    )]
    Milestones(MilestonesArgs),
    /// Churned against retained renewals: the variables that separate them.
    Compare(DateArgs),
    /// Where engagement falls, by tenure month and stage; the structural failure points.
    Dropoff(DateArgs),
    /// One account against the retained cohort; without ACCOUNT the intervention list.
    #[command(
        after_help = "Examples:\n  coco journey scorecard acc_00042\n  coco journey scorecard --limit 30"
    )]
    Scorecard(ScorecardArgs),
}

#[derive(Subcommand)]
pub enum OnboardingCommand {
    /// Onboarding accounts: milestones done and overdue, stalls, predicted go-live.
    #[command(
        after_help = "Examples:\n  coco onboarding list\n  coco onboarding list --status critical\n  coco onboarding list --cohorts"
    )]
    List(OnboardingArgs),
}

#[derive(Subcommand)]
pub enum TouchpointsCommand {
    /// Every interaction of an account, newest first, with silences and stakeholders.
    #[command(after_help = "Example:\n  coco touchpoints timeline acc_00042 --days 180")]
    Timeline(TimelineArgs),
    /// Accounts with no touchpoint for the configured silent period, largest ARR first.
    #[command(after_help = "Example:\n  coco touchpoints silent --limit 50")]
    Silent(LimitArgs),
}

#[derive(Args)]
pub struct DateArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

#[derive(Args)]
pub struct StagesArgs {
    pub account: Option<String>,
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// List the accounts with conflicting signals.
    #[arg(long)]
    pub conflicts: bool,
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
}

#[derive(Args)]
pub struct MilestonesArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Completion rate by milestone × cohort instead.
    #[arg(long)]
    pub heatmap: bool,
}

#[derive(Args)]
pub struct ScorecardArgs {
    pub account: Option<String>,
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
}

#[derive(Args)]
pub struct OnboardingArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// on_track, at_risk or critical.
    #[arg(long)]
    pub status: Option<String>,
    /// How onboarding cohorts (by start quarter) turned out, instead.
    #[arg(long)]
    pub cohorts: bool,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Args)]
pub struct TimelineArgs {
    pub account: String,
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    #[arg(long, default_value_t = 180)]
    pub days: u32,
}

#[derive(Args)]
pub struct LimitArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

fn pct(value: Option<f64>) -> String {
    value.map_or("—".into(), |v| format!("{:.0}%", 100.0 * v))
}

fn num(value: Option<f64>) -> String {
    value.map_or("—".into(), |v| format!("{v:.2}"))
}

fn p(value: Option<f64>) -> String {
    value.map_or("—".into(), |v| {
        if v < 0.0001 {
            "<0.0001".into()
        } else {
            format!("{v:.4}")
        }
    })
}

fn json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[derive(Serialize)]
struct StageRow {
    stage: String,
    accounts: usize,
    arr: String,
    entered_recently: usize,
    overdue: usize,
    low_confidence: usize,
    conflicts: usize,
}

#[derive(Serialize)]
struct ConflictRow {
    account_id: String,
    stage: String,
    conflicts: String,
}

#[derive(Serialize)]
struct MilestoneRow {
    milestone: String,
    stage: String,
    due: usize,
    completion: String,
    late: usize,
    not_done: usize,
    skipped: String,
    median_days: String,
    churn_missed: String,
    churn_done: String,
    risk_ratio: String,
    p_holm: String,
    predicts_churn: bool,
}

#[derive(Serialize)]
struct VariableRow {
    variable: String,
    churned: String,
    retained: String,
    difference: String,
    effect: String,
    p_holm: String,
    significant: bool,
}

#[derive(Serialize)]
struct DropRow {
    group: String,
    observations: usize,
    drops: usize,
    rate: String,
    p_holm: String,
    elevated: bool,
}

#[derive(Serialize)]
struct PriorityRow {
    account_id: String,
    account: String,
    stage: String,
    severity: String,
    journey_score: f64,
    deviations: usize,
    first_action: String,
}

#[derive(Serialize)]
struct OnboardingRow {
    account_id: String,
    account: String,
    status: String,
    days_in: i64,
    done: String,
    overdue: usize,
    next: String,
    stalled_days: String,
    planned_go_live: String,
    predicted_go_live: String,
    why: String,
}

#[derive(Serialize)]
struct EventRow {
    at: String,
    source: String,
    kind: String,
    what: String,
    contact: String,
    id: String,
}

#[derive(Serialize)]
struct SilentRow {
    account_id: String,
    account: String,
    owner: String,
    coverage: String,
    arr: String,
    days_silent: String,
    contacts_engaged: String,
    days_to_renewal: String,
}

pub fn run(global: &GlobalArgs, command: &JourneyCommand) -> Result<()> {
    let config = metrics::load_config(global)?;
    let store = open_store(global)?;
    let as_of = match command {
        JourneyCommand::Stages(a) => a.as_of,
        JourneyCommand::Milestones(a) => a.as_of,
        JourneyCommand::Compare(a) | JourneyCommand::Dropoff(a) => a.as_of,
        JourneyCommand::Scorecard(a) => a.as_of,
    };
    let base = lifecycle::load_base(&store, &config, as_of.unwrap_or_else(today))?;
    match command {
        JourneyCommand::Stages(args) => {
            let book = lifecycle::stage_book(&base, &config);
            if let Some(account) = &args.account {
                let view = &book.views[base.account(account)?];
                if global.format == Format::Json {
                    return json(view);
                }
                println!(
                    "{}: {} (confidence {:.2}, {:?}); {} days in stage (expected {}){}",
                    view.account_id,
                    view.stage_label,
                    view.confidence,
                    view.confidence_level,
                    view.days_in_stage,
                    view.expected_days,
                    if view.overdue { ", overdue" } else { "" }
                );
                println!("  meets: {}", view.met.join("; "));
                if !view.missing.is_empty() {
                    println!("  no data: {}", view.missing.join("; "));
                }
                if let Some((stage, fit)) = &view.runner_up {
                    println!("  runner-up: {stage} (fit {fit:.2})");
                }
                for t in &view.transitions {
                    println!(
                        "  {}: {} → {}{}",
                        t.date,
                        t.from,
                        t.to,
                        t.days_in_previous
                            .map(|d| format!(
                                " after {d} days ({})",
                                t.speed.as_deref().unwrap_or("")
                            ))
                            .unwrap_or_default()
                    );
                }
                for c in &view.conflicts {
                    println!("  conflicting signals: {c}");
                }
                return Ok(());
            }
            if args.conflicts {
                let rows: Vec<ConflictRow> = book
                    .views
                    .iter()
                    .filter(|v| !v.conflicts.is_empty())
                    .take(args.limit)
                    .map(|v| ConflictRow {
                        account_id: v.account_id.clone(),
                        stage: v.stage.clone(),
                        conflicts: v.conflicts.join("; "),
                    })
                    .collect();
                return output::print_rows(&rows, global.format);
            }
            let counts = lifecycle::stage_distribution(&base, &config, &book);
            if global.format == Format::Json {
                return json(&counts);
            }
            let rows: Vec<StageRow> = counts
                .iter()
                .map(|c| StageRow {
                    stage: c.label.clone(),
                    accounts: c.accounts,
                    arr: coco_insights::format::format_money(c.arr),
                    entered_recently: c.entered_recently,
                    overdue: c.overdue,
                    low_confidence: c.low_confidence,
                    conflicts: c.with_conflicts,
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
        JourneyCommand::Milestones(args) => {
            let analytics = lifecycle::milestone_analytics(&base, &config);
            if global.format == Format::Json {
                return json(&analytics);
            }
            if args.heatmap {
                return output::print_rows(&analytics.heatmap, global.format);
            }
            let rows: Vec<MilestoneRow> = analytics
                .milestones
                .iter()
                .map(|m| {
                    let link = analytics
                        .churn_links
                        .iter()
                        .find(|l| l.milestone == m.milestone);
                    MilestoneRow {
                        milestone: m.milestone.clone(),
                        stage: m.stage.clone().unwrap_or_default(),
                        due: m.due,
                        completion: pct(m.completion_rate),
                        late: m.completed_late,
                        not_done: m.not_completed,
                        skipped: if m.systematically_skipped {
                            "yes".into()
                        } else {
                            String::new()
                        },
                        median_days: m
                            .days_to_complete
                            .map_or("—".into(), |q| format!("{:.0}", q[1])),
                        churn_missed: pct(link.and_then(|l| l.churn_rate_missed)),
                        churn_done: pct(link.and_then(|l| l.churn_rate_completed)),
                        risk_ratio: link.and_then(|l| l.risk_ratio).map_or("—".into(), |r| {
                            format!("{:.2} [{:.2}, {:.2}]", r.value, r.low, r.high)
                        }),
                        p_holm: p(link.and_then(|l| l.p_holm)),
                        predicts_churn: link.is_some_and(|l| l.predicts_churn),
                    }
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
        JourneyCommand::Compare(_) => {
            let cmp = lifecycle::compare(&store, &base, &config)?.comparison;
            if global.format == Format::Json {
                return json(&cmp);
            }
            if global.format == Format::Table {
                println!(
                    "{} churned vs {} retained renewals, variables {} days before the renewal",
                    cmp.churned, cmp.retained, cmp.lead_days
                );
                println!("separating variables: {}", cmp.top.join(", "));
                let aucs: Vec<String> = cmp
                    .predictability
                    .iter()
                    .map(|l| format!("{}d {}", l.lead_days, num(l.auc)))
                    .collect();
                println!("AUC by lead: {}", aucs.join(", "));
                println!(
                    "churn becomes predictable (AUC ≥ {}) {}",
                    config.journey.compare.predictable_auc,
                    cmp.earliest_predictable_days
                        .map_or("at none of the leads tried".into(), |d| format!(
                            "{d} days before the renewal"
                        ))
                );
            }
            let rows: Vec<VariableRow> = cmp
                .variables
                .iter()
                .map(|v| VariableRow {
                    variable: v.variable.clone(),
                    churned: num(v.churned_mean),
                    retained: num(v.retained_mean),
                    difference: match (v.difference, v.low, v.high) {
                        (Some(d), Some(l), Some(h)) => format!("{d:.2} [{l:.2}, {h:.2}]"),
                        _ => "—".into(),
                    },
                    effect: num(v.effect_size),
                    p_holm: p(v.p_holm),
                    significant: v.significant,
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
        JourneyCommand::Dropoff(_) => {
            let book = lifecycle::stage_book(&base, &config);
            let drop = lifecycle::dropoff(&base, &config, &book);
            if global.format == Format::Json {
                return json(&drop);
            }
            if global.format == Format::Table {
                println!(
                    "{} of {} steps of {} weeks fell by {}% or more ({}); failure points:",
                    drop.drops,
                    drop.observations,
                    config.journey.dropoff.step_weeks,
                    100.0 * config.journey.dropoff.drop_share,
                    pct(drop.overall_rate)
                );
                for f in &drop.failure_points {
                    println!(
                        "  tenure months {}–{}: {} drop rate ({:.1}× the book's), {:.0} excess drops",
                        f.from_month,
                        f.to_month,
                        pct(Some(f.rate)),
                        f.lift,
                        f.excess_drops
                    );
                }
            }
            let rows: Vec<DropRow> = drop
                .by_stage
                .iter()
                .map(|r| (format!("stage {}", r.group), r))
                .chain(
                    drop.by_tenure_month
                        .iter()
                        .map(|r| (format!("month {}", r.group), r)),
                )
                .map(|(group, r)| DropRow {
                    group,
                    observations: r.observations,
                    drops: r.drops,
                    rate: pct(r.rate),
                    p_holm: p(r.p_holm),
                    elevated: r.elevated,
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
        JourneyCommand::Scorecard(args) => {
            let book = lifecycle::stage_book(&base, &config);
            let comparison = lifecycle::compare(&store, &base, &config)?;
            let links = lifecycle::milestone_analytics(&base, &config).churn_links;
            if let Some(account) = &args.account {
                let card = lifecycle::scorecard(
                    &base,
                    &config,
                    &book,
                    &comparison,
                    &links,
                    base.account(account)?,
                );
                if global.format == Format::Json {
                    return json(&card);
                }
                println!(
                    "{} ({}): {} — journey score {:.0}, {:?}, {} deviation(s)",
                    card.account_name,
                    card.account_id,
                    card.stage.stage_label,
                    card.journey_score,
                    card.severity,
                    card.deviations
                );
                for m in &card.milestones {
                    println!(
                        "  milestone {:<20} {}  retained by this tenure: {}{}",
                        m.milestone,
                        m.completed
                            .map_or("not done".to_string(), |d| format!("done {d}")),
                        pct(m.retained_done_share),
                        if m.deviation { "  ← deviation" } else { "" }
                    );
                }
                for v in &card.variables {
                    println!(
                        "  {:<28} {}  retained median {}  (worse when {}){}",
                        v.variable,
                        num(v.value),
                        num(v.retained_median),
                        v.worse_when,
                        if v.deviation { "  ← deviation" } else { "" }
                    );
                }
                for (i, action) in card.interventions.iter().enumerate() {
                    println!("  {}. {} — {}", i + 1, action.action, action.why);
                }
                return Ok(());
            }
            let mut cards: Vec<_> = (0..base.frame.account_count())
                .map(|a| lifecycle::scorecard(&base, &config, &book, &comparison, &links, a))
                .collect();
            let rank = |s: coco_insights::journey::scorecard::Severity| match s {
                coco_insights::journey::scorecard::Severity::Intervene => 0,
                coco_insights::journey::scorecard::Severity::Watch => 1,
                coco_insights::journey::scorecard::Severity::OnTrack => 2,
            };
            cards.sort_by(|a, b| {
                rank(a.severity)
                    .cmp(&rank(b.severity))
                    .then(b.deviations.cmp(&a.deviations))
                    .then(a.account_id.cmp(&b.account_id))
            });
            if global.format == Format::Table {
                let count = |s| cards.iter().filter(|c| c.severity == s).count();
                use coco_insights::journey::scorecard::Severity;
                println!(
                    "as of {}: {} to intervene now, {} to watch (30 days), {} on track",
                    base.as_of(),
                    count(Severity::Intervene),
                    count(Severity::Watch),
                    count(Severity::OnTrack)
                );
            }
            let rows: Vec<PriorityRow> = cards
                .iter()
                .take(args.limit)
                .map(|c| PriorityRow {
                    account_id: c.account_id.clone(),
                    account: c.account_name.clone(),
                    stage: c.stage.stage.clone(),
                    severity: output::enum_name(&c.severity),
                    journey_score: c.journey_score,
                    deviations: c.deviations,
                    first_action: c
                        .interventions
                        .first()
                        .map(|i| i.action.clone())
                        .unwrap_or_default(),
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
    }
}

pub fn run_onboarding(global: &GlobalArgs, command: &OnboardingCommand) -> Result<()> {
    let config = metrics::load_config(global)?;
    let store = open_store(global)?;
    let OnboardingCommand::List(args) = command;
    let base = lifecycle::load_base(&store, &config, args.as_of.unwrap_or_else(today))?;
    let mut report = lifecycle::onboarding(&base, &config);
    if let Some(status) = &args.status {
        if !["on_track", "at_risk", "critical"].contains(&status.as_str()) {
            return Err(user_error(
                format!("--status must be on_track, at_risk or critical, not `{status}`"),
                None,
            ));
        }
        report
            .accounts
            .retain(|a| output::enum_name(&a.status) == *status);
    }
    if global.format == Format::Json {
        return json(&report);
    }
    if args.cohorts {
        return output::print_rows(&report.cohorts, global.format);
    }
    if global.format == Format::Table {
        println!(
            "as of {}: {} onboarding — {} critical, {} at risk, {} on track; {} stalled",
            report.as_of,
            report.onboarding,
            report.critical,
            report.at_risk,
            report.on_track,
            report.stalled
        );
    }
    let rows: Vec<OnboardingRow> = report
        .accounts
        .iter()
        .take(args.limit)
        .map(|a| OnboardingRow {
            account_id: a.account_id.clone(),
            account: a.account_name.clone(),
            status: output::enum_name(&a.status),
            days_in: a.days_since_start,
            done: format!("{}/{}", a.milestones_done, a.milestones_total),
            overdue: a.milestones_overdue,
            next: a.next_milestone.clone().unwrap_or_default(),
            stalled_days: if a.stalled {
                a.stalled_days.to_string()
            } else {
                String::new()
            },
            planned_go_live: a.planned_go_live.map_or("—".into(), |d| d.to_string()),
            predicted_go_live: a.predicted_go_live.map_or("—".into(), |d| d.to_string()),
            why: a.reasons.join("; "),
        })
        .collect();
    output::print_rows(&rows, global.format)
}

pub fn run_touchpoints(global: &GlobalArgs, command: &TouchpointsCommand) -> Result<()> {
    let config = metrics::load_config(global)?;
    let store = open_store(global)?;
    let as_of = match command {
        TouchpointsCommand::Timeline(a) => a.as_of,
        TouchpointsCommand::Silent(a) => a.as_of,
    };
    let base = lifecycle::load_base(&store, &config, as_of.unwrap_or_else(today))?;
    match command {
        TouchpointsCommand::Timeline(args) => {
            let view = lifecycle::timeline(&store, &base, &config, &args.account, args.days)?;
            if global.format == Format::Json {
                return json(&view);
            }
            if global.format == Format::Table {
                let s = &view.stakeholders;
                println!(
                    "{}: {} touches in 90 days, last {} ({} days ago); {} of {} active contacts engaged in {} days{}",
                    view.account_id,
                    view.touches_last_90_days,
                    view.last_touch.map_or("never".into(), |d| d.to_string()),
                    view.days_since_last_touch
                        .map_or("—".into(), |d| d.to_string()),
                    s.engaged.len(),
                    s.active_contacts,
                    config.journey.touchpoints.engaged_days,
                    if s.single_threaded {
                        " — single-threaded"
                    } else {
                        ""
                    }
                );
                if !s.roles_not_engaged.is_empty() {
                    println!("  roles not engaged: {}", s.roles_not_engaged.join(", "));
                }
                for period in &view.silent_periods {
                    println!(
                        "  silent {} → {} ({} days{})",
                        period.from,
                        period.to,
                        period.days,
                        if period.ongoing { ", ongoing" } else { "" }
                    );
                }
            }
            let rows: Vec<EventRow> = view
                .events
                .iter()
                .map(|e| EventRow {
                    at: e.at.format("%Y-%m-%d %H:%M").to_string(),
                    source: e.source.clone(),
                    kind: e.kind.clone(),
                    what: e.title.clone(),
                    contact: e.contact_id.clone().unwrap_or_default(),
                    id: e.id.clone(),
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
        TouchpointsCommand::Silent(args) => {
            let silent = lifecycle::silent(&base, &config);
            if global.format == Format::Json {
                return json(&silent);
            }
            if global.format == Format::Table {
                println!(
                    "as of {}: {} accounts without a touchpoint in {} days ({} single-threaded)",
                    base.as_of(),
                    silent.len(),
                    config.journey.touchpoints.silent_days,
                    silent.iter().filter(|s| s.single_threaded).count()
                );
            }
            let rows: Vec<SilentRow> = silent
                .iter()
                .take(if global.format == Format::Csv {
                    usize::MAX
                } else {
                    args.limit
                })
                .map(|s| SilentRow {
                    account_id: s.account_id.clone(),
                    account: s.account_name.clone(),
                    owner: s.owner_csm_id.clone().unwrap_or_default(),
                    coverage: s.coverage_model.clone().unwrap_or_default(),
                    arr: s
                        .arr
                        .map_or("—".into(), coco_insights::format::format_money),
                    days_silent: s
                        .days_since_last_touch
                        .map_or("never touched".into(), |d| format!("{d:.0}")),
                    contacts_engaged: s
                        .contacts_engaged_90d
                        .map_or("—".into(), |c| format!("{c:.0}")),
                    days_to_renewal: s.days_to_renewal.map_or("—".into(), |d| format!("{d:.0}")),
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
    }
}
