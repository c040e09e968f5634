//! `coco segments design|apply|misalignment|migration`: the coverage tiering model, each
//! account's tier with the factors behind it, accounts whose coverage differs from it,
//! and the candidates to move between tiers.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use coco_engine::Config;
use coco_engine::lifecycle::{self, SegmentsRun};
use coco_store::Store;
use serde::Serialize;

use crate::GlobalArgs;
use crate::commands::{metrics, open_store, today, user_error};
use crate::output::{self, Format};

#[derive(Subcommand)]
pub enum SegmentsCommand {
    /// The tiering model: factors, weights and rationale; tiers, their coverage and the
    /// book's distribution over them.
    Design(DateArgs),
    /// Every account's recommended tier with its factor breakdown; records the tiers.
    #[command(
        after_help = "Examples:\n  coco segments apply\n  coco segments apply --account acc_00042\n  coco segments apply --proxy --dry-run --format csv"
    )]
    Apply(ApplyArgs),
    /// Accounts whose coverage model differs from their tier: ARR, direction, impact.
    #[command(after_help = "Example:\n  coco segments misalignment --limit 20")]
    Misalignment(ListArgs),
    /// Upgrade and downgrade candidates with reasons, transition risk and exceptions.
    #[command(after_help = "Example:\n  coco segments migration --direction down --format json")]
    Migration(MigrationArgs),
}

#[derive(Args)]
pub struct DateArgs {
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Expansion potential from its proxy (seat utilisation, growth, new teams) instead
    /// of running the expansion analysis.
    #[arg(long)]
    pub proxy: bool,
}

#[derive(Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub date: DateArgs,
    /// One account's factor breakdown.
    #[arg(long)]
    pub account: Option<String>,
    /// Compute and show without recording the tiers.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub date: DateArgs,
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
}

#[derive(Args)]
pub struct MigrationArgs {
    #[command(flatten)]
    pub date: DateArgs,
    /// `up` (upgrades) or `down` (downgrades); both by default.
    #[arg(long)]
    pub direction: Option<String>,
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
}

fn money(value: f64) -> String {
    coco_insights::format::format_money(value)
}

#[derive(Serialize)]
struct FactorRow<'a> {
    factor: &'a str,
    label: &'a str,
    weight: String,
    inputs: String,
    rationale: &'a str,
}

#[derive(Serialize)]
struct TierRow {
    tier: String,
    min_score: f64,
    coverage: String,
    accounts: usize,
    share: String,
    arr: String,
    arr_share: String,
    csms_needed: String,
    definition: String,
}

#[derive(Serialize)]
struct AssignmentRow {
    account_id: String,
    account: String,
    arr: Option<f64>,
    score: f64,
    tier: String,
    coverage_now: Option<String>,
    recommended: String,
    top_factors: String,
}

#[derive(Serialize)]
struct BreakdownRow {
    factor: String,
    weight: String,
    score: String,
    points: String,
    inputs: String,
}

#[derive(Serialize)]
struct MisalignedRow {
    account_id: String,
    account: String,
    arr: String,
    now: String,
    recommended: String,
    gap: String,
    steps: usize,
    impact: String,
    why: String,
}

#[derive(Serialize)]
struct CandidateRow {
    account_id: String,
    account: String,
    direction: String,
    arr: String,
    from: String,
    to: String,
    reasons: String,
    risks: String,
    exception: String,
}

pub fn run(global: &GlobalArgs, command: &SegmentsCommand) -> Result<()> {
    let config = metrics::load_config(global)?;
    let store = open_store(global)?;
    let date = match command {
        SegmentsCommand::Design(d) => d,
        SegmentsCommand::Apply(a) => &a.date,
        SegmentsCommand::Misalignment(l) => &l.date,
        SegmentsCommand::Migration(m) => &m.date,
    };
    let base = lifecycle::load_base(&store, &config, date.as_of.unwrap_or_else(today))?;
    let segments = lifecycle::tiering(&store, &config, &base, date.proxy)?;
    match command {
        SegmentsCommand::Design(_) => design(global, &config, &segments),
        SegmentsCommand::Apply(args) => apply(global, &store, &segments, args),
        SegmentsCommand::Misalignment(args) => {
            let report = lifecycle::misalignment(&segments, &config);
            if global.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(());
            }
            if global.format == Format::Table {
                println!(
                    "as of {}: {} of {} accounts ({:.0}%) are served differently from their tier",
                    segments.as_of,
                    report.misaligned,
                    report.accounts_compared,
                    100.0 * report.share_misaligned
                );
                println!(
                    "  over-served: {} accounts, {} ARR — moving them frees {:.1} CSMs",
                    report.over_served,
                    money(report.arr_over_served),
                    report.csms_freed
                );
                println!(
                    "  under-served: {} accounts, {} ARR — serving them as recommended needs {:.1} CSMs",
                    report.under_served,
                    money(report.arr_under_served),
                    report.csms_needed
                );
                println!(
                    "  the book needs {:.1} CSMs at today's coverage, {:.1} at the recommended one",
                    report.csms_at_current_coverage, report.csms_at_recommended_coverage
                );
                println!("top 5 where a change matters most, then by impact:");
            }
            let rows: Vec<MisalignedRow> = report
                .accounts
                .iter()
                .take(args.limit)
                .map(|m| MisalignedRow {
                    account_id: m.account_id.clone(),
                    account: m.account_name.clone(),
                    arr: money(m.arr),
                    now: m.current_coverage.clone(),
                    recommended: format!("{} ({})", m.recommended_tier, m.recommended_coverage),
                    gap: m.gap.as_str().to_string(),
                    steps: m.steps,
                    impact: money(m.impact),
                    why: m.reasons.join("; "),
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
        SegmentsCommand::Migration(args) => {
            let mut plan = lifecycle::migration(&store, &base, &segments, &config)?;
            match args.direction.as_deref() {
                None => {}
                Some("up") => plan.downgrades.clear(),
                Some("down") => plan.upgrades.clear(),
                Some(other) => {
                    return Err(user_error(
                        format!("--direction must be up or down, not `{other}`"),
                        None,
                    ));
                }
            }
            if global.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
                return Ok(());
            }
            if global.format == Format::Table {
                println!(
                    "as of {}: {} upgrade candidates ({} ARR), {} downgrade candidates ({} ARR), {} held as exceptions",
                    plan.as_of,
                    plan.upgrades.len(),
                    money(plan.arr_upgrading),
                    plan.downgrades.len(),
                    money(plan.arr_downgrading),
                    plan.exceptions
                );
            }
            let rows: Vec<CandidateRow> = plan
                .upgrades
                .iter()
                .take(args.limit)
                .chain(plan.downgrades.iter().take(args.limit))
                .map(|c| CandidateRow {
                    account_id: c.account_id.clone(),
                    account: c.account_name.clone(),
                    direction: output::enum_name(&c.direction),
                    arr: money(c.arr),
                    from: c.from_coverage.clone(),
                    to: format!("{} ({})", c.to_tier, c.to_coverage),
                    reasons: c.reasons.join("; "),
                    risks: c.transition_risks.join("; "),
                    exception: c.exception.clone().unwrap_or_default(),
                })
                .collect();
            output::print_rows(&rows, global.format)
        }
    }
}

fn design(global: &GlobalArgs, config: &Config, segments: &SegmentsRun) -> Result<()> {
    let model = &config.segments;
    if global.format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "model": model,
                "origin": config.segments_origin,
                "as_of": segments.as_of,
                "expansion_potential_from": segments.expansion_potential_from,
                "distribution": segments.tiers,
            }))?
        );
        return Ok(());
    }
    if global.format == Format::Table {
        println!(
            "{} (version {}, {})",
            model.model.name, model.version, config.segments_origin
        );
        println!("why: {}", model.model.rationale);
        println!(
            "re-assess every {} days; inputs to collect per account:",
            model.model.reassess_every_days
        );
        for input in &model.model.data_inputs {
            println!("  - {input}");
        }
        println!("factors (each 0–100, higher = warrants more attention):");
    }
    let total: f64 = model.factors.iter().map(|f| f.weight).sum();
    let factors: Vec<FactorRow> = model
        .factors
        .iter()
        .map(|f| FactorRow {
            factor: &f.key,
            label: &f.label,
            weight: format!("{:.0}%", 100.0 * f.weight / total),
            inputs: f
                .inputs
                .iter()
                .map(|i| i.source.clone())
                .chain(f.flags.iter().map(|x| x.label.clone()))
                .collect::<Vec<_>>()
                .join(", "),
            rationale: &f.rationale,
        })
        .collect();
    output::print_rows(&factors, global.format)?;
    if global.format == Format::Table {
        println!(
            "tiers, and the book as of {} (expansion potential from the {}):",
            segments.as_of, segments.expansion_potential_from
        );
    }
    let tiers: Vec<TierRow> = model
        .tiers
        .iter()
        .zip(&segments.tiers)
        .map(|(t, s)| TierRow {
            tier: t.label.clone(),
            min_score: t.min_score,
            coverage: format!("{} — {}", t.coverage, t.coverage_plan),
            accounts: s.accounts,
            share: format!("{:.0}%", 100.0 * s.share_of_accounts),
            arr: money(s.arr),
            arr_share: format!("{:.0}%", 100.0 * s.share_of_arr),
            csms_needed: format!("{:.1}", s.csms_needed),
            definition: t.definition.clone(),
        })
        .collect();
    output::print_rows(&tiers, global.format)
}

fn apply(
    global: &GlobalArgs,
    store: &Store,
    segments: &SegmentsRun,
    args: &ApplyArgs,
) -> Result<()> {
    if let Some(account) = &args.account {
        let Some(a) = segments
            .assignments
            .iter()
            .find(|a| &a.account_id == account)
        else {
            return Err(user_error(
                format!(
                    "account `{account}` is not in the snapshot of {}",
                    segments.as_of
                ),
                Some("coco accounts list shows the accounts"),
            ));
        };
        if global.format == Format::Json {
            println!("{}", serde_json::to_string_pretty(a)?);
            return Ok(());
        }
        if global.format == Format::Table {
            println!(
                "{} ({}): score {:.1} → {} (coverage {}; today {})",
                a.account_name,
                a.account_id,
                a.score,
                a.tier_label,
                a.recommended_coverage,
                a.current_coverage.as_deref().unwrap_or("none")
            );
        }
        let rows: Vec<BreakdownRow> = a
            .factors
            .iter()
            .map(|f| BreakdownRow {
                factor: format!("{}{}", f.label, if f.proxy { " (proxy)" } else { "" }),
                weight: format!("{:.0}%", 100.0 * f.weight),
                score: f.score.map_or("no data".into(), |s| format!("{s:.0}")),
                points: format!("{:.1}", f.points),
                inputs: f
                    .inputs
                    .iter()
                    .map(|i| {
                        format!(
                            "{} = {}",
                            i.source,
                            i.value.map_or("—".to_string(), |v| format!("{v:.2}"))
                        )
                    })
                    .chain(f.flags.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect();
        return output::print_rows(&rows, global.format);
    }
    if !args.dry_run {
        let recorded = lifecycle::record_segments(store, segments)?;
        eprintln!(
            "recorded the tiers of {recorded} accounts as of {}",
            segments.as_of
        );
    }
    if global.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&segments.assignments)?);
        return Ok(());
    }
    let mut sorted: Vec<&coco_insights::segments::Assignment> =
        segments.assignments.iter().collect();
    sorted.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.account_id.cmp(&b.account_id))
    });
    let limit = if global.format == Format::Csv {
        usize::MAX
    } else {
        args.limit
    };
    let rows: Vec<AssignmentRow> = sorted
        .into_iter()
        .take(limit)
        .map(|a| AssignmentRow {
            account_id: a.account_id.clone(),
            account: a.account_name.clone(),
            arr: a.arr,
            score: a.score,
            tier: a.tier.clone(),
            coverage_now: a.current_coverage.clone(),
            recommended: a.recommended_coverage.clone(),
            top_factors: coco_insights::segments::misalignment::reasons(a, 3).join("; "),
        })
        .collect();
    output::print_rows(&rows, global.format)
}
