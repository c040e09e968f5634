//! The Segments & coverage, Workload, Journey and Onboarding pages: server-rendered
//! from the memoised lifecycle overview of the date (`views::lifecycle`), with their
//! charts from `coco-charts`; no numbers are computed here, only chosen and formatted.
//! What they show mirrors `coco segments`, `coco workload`, `coco journey` and
//! `coco onboarding`.

use axum::Extension;
use axum::extract::{Query, State};
use coco_charts::{Bar, BarChart, HeatmapChart, ValueFormat};
use coco_engine::lifecycle::LifecycleOverview;
use coco_insights::journey::milestones::MilestoneAnalytics;
use coco_insights::workload::LoadStatus;
use serde_json::json;

use crate::api::{json_name, tier_keys};
use crate::auth::Principal;
use crate::error::AppError;
use crate::pages::{PageResult, in_layout, render_to_string, size};
use crate::params::{LifecycleParams, ONBOARDING_STATUSES};
use crate::state::AppState;
use crate::views::{self, today};

/// Rows of the long tables a page shows (the API pages through all of them).
const MISALIGNED_SHOWN: usize = 50;
const CANDIDATES_SHOWN: usize = 50;
const MOVES_SHOWN: usize = 200;
const ONBOARDING_SHOWN: usize = 200;
/// Scorecards in the Journey page's priority list.
const PRIORITIES_SHOWN: usize = 25;

fn money(value: f64) -> String {
    coco_charts::format_value(value, ValueFormat::Money)
}

fn percent(value: f64) -> String {
    format!("{:.0}%", 100.0 * value)
}

/// The as-of line every lifecycle page starts with.
fn as_of_line(overview: &LifecycleOverview) -> serde_json::Value {
    json!({
        "as_of": overview.as_of(),
        "snapshot_id": overview.base.snapshot.snapshot_id,
        "catalogue_version": overview.base.snapshot.catalogue_version,
        "accounts": overview.base.frame.account_count(),
    })
}

// ---------------------------------------------------------------------------------
// Segments and coverage

pub async fn segments_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<LifecycleParams>,
) -> PageResult {
    let request = params.parse(&tier_keys(&state), 50)?;
    let as_of = request.as_of.unwrap_or_else(today);
    let key = format!("segments|{as_of}|{params:?}");
    let shared = state.clone();
    let content = views::content(&state, key, async move {
        let overview = views::lifecycle(&shared, as_of).await?;
        segments_content(&shared, &params, &overview)
    })
    .await?;
    in_layout(&state, &principal, "segments", &content)
}

fn segments_content(
    state: &AppState,
    params: &LifecycleParams,
    overview: &LifecycleOverview,
) -> Result<views::Content, AppError> {
    let config = &state.inner.config.segments;
    let run = &overview.segments;
    let total_weight: f64 = config.factors.iter().map(|f| f.weight).sum();
    let factors: Vec<serde_json::Value> = config
        .factors
        .iter()
        .map(|f| {
            json!({
                "key": f.key,
                "label": f.label,
                "weight": if total_weight > 0.0 { f.weight / total_weight } else { 0.0 },
                "inputs": f.inputs.iter().map(|i| i.source.clone())
                    .chain(f.flags.iter().map(|x| x.label.clone()))
                    .collect::<Vec<_>>(),
                "proxy": f.proxy.iter().map(|i| i.source.clone()).collect::<Vec<_>>(),
                "rationale": f.rationale,
            })
        })
        .collect();
    let tiers: Vec<serde_json::Value> = config
        .tiers
        .iter()
        .map(|t| {
            let book = run.tiers.iter().find(|s| s.tier == t.key);
            json!({"def": t, "book": book})
        })
        .collect();
    let tier_chart = BarChart {
        title: format!("Accounts per tier as of {}", run.as_of),
        bars: run
            .tiers
            .iter()
            .map(|t| Bar {
                label: t.label.clone(),
                value: t.accounts as f64,
                class: "bucket".into(),
                tooltip: Some(format!(
                    "{}: {} accounts ({}), {} ARR, {:.1} CSMs needed",
                    t.label,
                    t.accounts,
                    percent(t.share_of_accounts),
                    money(t.arr),
                    t.csms_needed
                )),
                href: None,
            })
            .collect(),
        value_format: ValueFormat::Integer,
        horizontal: true,
        size: size(460, (30 + 34 * run.tiers.len() as u32).max(120)),
    }
    .render();
    let report = &overview.misalignment;
    let misaligned: Vec<serde_json::Value> = report
        .accounts
        .iter()
        .take(MISALIGNED_SHOWN)
        .enumerate()
        .map(|(i, m)| {
            json!({
                "m": m,
                "top": i < report.top.len(),
                "gap": m.gap.as_str().replace('_', "-"),
                "tier_label": config.tier(&m.recommended_tier).map_or(m.recommended_tier.as_str(), |t| t.label.as_str()),
            })
        })
        .collect();
    // The coverage matrix: every coverage model that occurs, most attention first.
    let models: Vec<&str> = coco_core::contract::COVERAGE_MODELS
        .iter()
        .copied()
        .filter(|c| {
            report
                .matrix
                .iter()
                .any(|cell| cell.current_coverage == *c || cell.recommended_coverage == *c)
        })
        .collect();
    let matrix: Vec<serde_json::Value> = models
        .iter()
        .map(|current| {
            let cells: Vec<serde_json::Value> = models
                .iter()
                .map(|recommended| {
                    let cell = report.matrix.iter().find(|c| {
                        c.current_coverage == *current && c.recommended_coverage == *recommended
                    });
                    json!({
                        "accounts": cell.map_or(0, |c| c.accounts),
                        "arr": cell.map_or(0.0, |c| c.arr),
                        "aligned": current == recommended,
                    })
                })
                .collect();
            json!({"current": current, "cells": cells})
        })
        .collect();
    let plan = &overview.migration;
    let candidate = |c: &coco_insights::segments::migration::Candidate| {
        json!({
            "c": c,
            "reasons": c.reasons.join("; "),
            "risks": c.transition_risks.join("; "),
        })
    };
    let html = render_to_string(
        state,
        "segments.html",
        json!({
            "asof": as_of_line(overview),
            "run": {
                "as_of": run.as_of,
                "model": run.model,
                "version": run.model_version,
                "from": run.expansion_potential_from,
                "proxy": run.expansion_potential_from == "proxy",
            },
            "model": config.model,
            "factors": factors,
            "tiers": tiers,
            "tier_chart": tier_chart,
            "report": {
                "accounts_compared": report.accounts_compared,
                "misaligned": report.misaligned,
                "share_misaligned": report.share_misaligned,
                "over_served": report.over_served,
                "under_served": report.under_served,
                "arr_over_served": report.arr_over_served,
                "arr_under_served": report.arr_under_served,
                "csms_at_current_coverage": report.csms_at_current_coverage,
                "csms_at_recommended_coverage": report.csms_at_recommended_coverage,
                "csms_freed": report.csms_freed,
                "csms_needed": report.csms_needed,
                "top": report.top.len(),
            },
            "misaligned": misaligned,
            "misaligned_more": report.accounts.len().saturating_sub(MISALIGNED_SHOWN),
            "models": models,
            "matrix": matrix,
            "migration": {
                "upgrades": plan.upgrades.len(),
                "downgrades": plan.downgrades.len(),
                "exceptions": plan.exceptions,
                "arr_upgrading": plan.arr_upgrading,
                "arr_downgrading": plan.arr_downgrading,
                "renewal_window_days": config.migration.renewal_window_days,
            },
            "upgrades": plan.upgrades.iter().take(CANDIDATES_SHOWN).map(candidate).collect::<Vec<_>>(),
            "downgrades": plan.downgrades.iter().take(CANDIDATES_SHOWN).map(candidate).collect::<Vec<_>>(),
            "shown": CANDIDATES_SHOWN,
            "params": params,
        }),
    )?;
    Ok(views::Content {
        title: "Segments & coverage".into(),
        html,
    })
}

// ---------------------------------------------------------------------------------
// Workload

pub async fn workload_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<LifecycleParams>,
) -> PageResult {
    let request = params.parse(&tier_keys(&state), 50)?;
    let as_of = request.as_of.unwrap_or_else(today);
    let key = format!("workload|{as_of}|{params:?}");
    let shared = state.clone();
    let content = views::content(&state, key, async move {
        let overview = views::lifecycle(&shared, as_of).await?;
        workload_content(&shared, &params, &overview)
    })
    .await?;
    in_layout(&state, &principal, "workload", &content)
}

/// The colour class of a load status (the health colours: over capacity is red).
fn status_class(status: LoadStatus) -> &'static str {
    match status {
        LoadStatus::Overloaded => "red",
        LoadStatus::Balanced => "green",
        LoadStatus::Underloaded => "yellow",
        LoadStatus::Inactive => "unknown",
    }
}

fn workload_content(
    state: &AppState,
    params: &LifecycleParams,
    overview: &LifecycleOverview,
) -> Result<views::Content, AppError> {
    let settings = &state.inner.config.workload;
    let report = &overview.workload;
    let mut loads: Vec<&coco_insights::workload::CsmLoad> = report.csms.iter().collect();
    // Active CSMs by load, highest first; those who left after them.
    loads.sort_by(|a, b| {
        b.active
            .cmp(&a.active)
            .then(b.load.total_cmp(&a.load))
            .then_with(|| a.csm_id.cmp(&b.csm_id))
    });
    let active: Vec<&&coco_insights::workload::CsmLoad> =
        loads.iter().filter(|c| c.active).collect();
    let chart = BarChart {
        title: format!(
            "Load per active CSM as of {} (effort ÷ capacity; over {} is overloaded)",
            report.as_of,
            percent(settings.capacity.overloaded)
        ),
        bars: active
            .iter()
            .map(|c| Bar {
                label: c.name.clone(),
                // The charts' percent format takes percent points.
                value: 100.0 * c.load,
                class: format!("load {}", status_class(c.status)),
                tooltip: Some(format!(
                    "{} ({}): {} of capacity — {:.0} of {:.0} h a month, {} accounts — {}",
                    c.name,
                    c.csm_id,
                    percent(c.load),
                    c.effort_hours,
                    c.capacity_hours,
                    c.accounts,
                    json_name(&c.status)
                )),
                href: None,
            })
            .collect(),
        value_format: ValueFormat::Percent,
        horizontal: true,
        size: size(640, (40 + 22 * active.len() as u32).max(160)),
    }
    .render();
    let rows: Vec<serde_json::Value> = loads
        .iter()
        .map(|c| {
            json!({
                "c": c,
                "status": json_name(&c.status),
                "class": status_class(c.status),
            })
        })
        .collect();
    let proposal = &overview.rebalance;
    let name_of = |id: &str| {
        overview
            .base
            .frame
            .account_index(id)
            .and_then(|i| overview.base.names.get(i))
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let csm_name = |id: &str| {
        report
            .csms
            .iter()
            .find(|c| c.csm_id == id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    let moves: Vec<serde_json::Value> = proposal
        .moves
        .iter()
        .take(MOVES_SHOWN)
        .map(|m| {
            json!({
                "m": m,
                "from_name": m.from_csm_id.as_deref().map(csm_name),
                "to_name": csm_name(&m.to_csm_id),
            })
        })
        .collect();
    let html = render_to_string(
        state,
        "workload.html",
        json!({
            "asof": as_of_line(overview),
            "chart": chart,
            "csms": rows,
            "active": active.len(),
            "spread": report.spread,
            "unassigned_accounts": report.unassigned_accounts,
            "unassigned_hours": report.unassigned_hours,
            "plan": report.plan,
            "capacity": settings.capacity,
            "proposal": {
                "before": proposal.before,
                "after_forced": proposal.after_forced,
                "after": proposal.after,
                "moves": proposal.moves.len(),
                "forced_moves": proposal.forced_moves,
                "balance_moves": proposal.balance_moves,
                "swaps": proposal.swaps,
                "kept": proposal.kept,
                "csms": proposal.csms,
            },
            "moves": moves,
            "moves_more": proposal.moves.len().saturating_sub(MOVES_SHOWN),
            "unplaceable": proposal.unplaceable.iter().map(|id| json!({"id": id, "name": name_of(id)})).collect::<Vec<_>>(),
            "params": params,
        }),
    )?;
    Ok(views::Content {
        title: "Workload".into(),
        html,
    })
}

// ---------------------------------------------------------------------------------
// Journey

pub async fn journey_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<LifecycleParams>,
) -> PageResult {
    let request = params.parse(&tier_keys(&state), 50)?;
    let as_of = request.as_of.unwrap_or_else(today);
    let key = format!("journey|{as_of}|{params:?}");
    let shared = state.clone();
    let content = views::content(&state, key, async move {
        let overview = views::lifecycle(&shared, as_of).await?;
        let priorities = views::journey_priorities(&shared, as_of).await?;
        journey_content(&shared, &params, &overview, &priorities)
    })
    .await?;
    in_layout(&state, &principal, "journey", &content)
}

/// The milestone completion heatmap: milestones × cohorts, the share of accounts whose
/// deadline passed that completed it.
pub(crate) fn milestone_heatmap(analytics: &MilestoneAnalytics) -> String {
    let rows: Vec<&coco_insights::journey::milestones::MilestoneSummary> =
        analytics.milestones.iter().collect();
    let label = |m: &coco_insights::journey::milestones::MilestoneSummary| {
        m.name.clone().unwrap_or_else(|| m.milestone.clone())
    };
    let cell = |milestone: &str, cohort: &str| {
        analytics
            .heatmap
            .iter()
            .find(|c| c.milestone == milestone && c.cohort == cohort)
    };
    HeatmapChart {
        title: format!(
            "Milestone completion by {} as of {}",
            analytics.cohort_by.replace('_', " "),
            analytics.as_of
        ),
        rows: rows.iter().map(|m| label(m)).collect(),
        columns: analytics.cohorts.clone(),
        values: rows
            .iter()
            .map(|m| {
                analytics
                    .cohorts
                    .iter()
                    .map(|c| {
                        cell(&m.milestone, c)
                            .and_then(|h| h.rate)
                            .map(|r| r * 100.0)
                    })
                    .collect()
            })
            .collect(),
        tooltips: Some(
            rows.iter()
                .map(|m| {
                    analytics
                        .cohorts
                        .iter()
                        .map(|c| match cell(&m.milestone, c) {
                            Some(h) if h.rate.is_some() => format!(
                                "{} · {c}: {} ({} of {} due completed)",
                                label(m),
                                percent(h.rate.unwrap_or(0.0)),
                                h.completed,
                                h.due
                            ),
                            _ => format!("{} · {c}: no account due yet", label(m)),
                        })
                        .collect()
                })
                .collect(),
        ),
        value_format: ValueFormat::Percent,
        range: Some((0.0, 100.0)),
        size: size(
            (200 + 64 * analytics.cohorts.len() as u32).clamp(420, 1600),
            0,
        ),
    }
    .render()
}

fn journey_content(
    state: &AppState,
    params: &LifecycleParams,
    overview: &LifecycleOverview,
    priorities: &views::JourneyPriorities,
) -> Result<views::Content, AppError> {
    let config = &state.inner.config.journey;
    let stage_chart = BarChart {
        title: format!("Accounts per journey stage as of {}", overview.as_of()),
        bars: overview
            .stage_counts
            .iter()
            .map(|s| Bar {
                label: s.label.clone(),
                value: s.accounts as f64,
                class: "bucket".into(),
                tooltip: Some(format!(
                    "{}: {} accounts, {} ARR; {} entered recently, {} overdue",
                    s.label,
                    s.accounts,
                    money(s.arr),
                    s.entered_recently,
                    s.overdue
                )),
                href: None,
            })
            .collect(),
        value_format: ValueFormat::Integer,
        horizontal: false,
        size: size(460, 220),
    }
    .render();
    let stages: Vec<serde_json::Value> = overview
        .stage_counts
        .iter()
        .map(|s| {
            let def = config.stages.iter().find(|d| d.key == s.stage);
            json!({
                "s": s,
                "expected_days": def.map(|d| d.expected_days),
                "entry": def.map(|d| d.entry.clone()),
                "exit": def.map(|d| d.exit.clone()),
            })
        })
        .collect();
    let analytics = &overview.milestones;
    let milestones: Vec<serde_json::Value> = analytics
        .milestones
        .iter()
        .map(|m| {
            let link = analytics
                .churn_links
                .iter()
                .find(|l| l.milestone == m.milestone);
            json!({"m": m, "link": link, "median_days": m.days_to_complete.map(|q| q[1])})
        })
        .collect();
    let comparison = &overview.comparison.comparison;
    let dropoff = &overview.dropoff;
    let dropoff_chart = BarChart {
        title: format!(
            "{} drop rate by tenure month (a fall of {} or more over {} weeks)",
            dropoff.metric.replace('_', " "),
            percent(config.dropoff.drop_share),
            config.dropoff.step_weeks
        ),
        bars: dropoff
            .by_tenure_month
            .iter()
            .map(|r| Bar {
                label: r.group.clone(),
                value: r.rate.map_or(f64::NAN, |v| 100.0 * v),
                class: if r.elevated { "red" } else { "bucket" }.into(),
                tooltip: Some(format!(
                    "tenure month {}: {} of {} steps dropped{}",
                    r.group,
                    r.drops,
                    r.observations,
                    if r.elevated {
                        " — significantly above the rest"
                    } else {
                        ""
                    }
                )),
                href: None,
            })
            .collect(),
        value_format: ValueFormat::Percent,
        horizontal: false,
        size: size(
            (120 + 24 * dropoff.by_tenure_month.len() as u32).clamp(420, 1200),
            200,
        ),
    }
    .render();
    let cards = views::scorecards_of(
        overview,
        &state.inner.config,
        priorities
            .order
            .iter()
            .take(PRIORITIES_SHOWN)
            .map(|(a, _)| *a),
    );
    let priority: Vec<serde_json::Value> = cards
        .iter()
        .map(|c| {
            json!({
                "c": c,
                "severity": json_name(&c.severity),
                "first_action": c.interventions.first().map(|i| i.action.clone()),
            })
        })
        .collect();
    let html = render_to_string(
        state,
        "journey.html",
        json!({
            "asof": as_of_line(overview),
            "stage_chart": stage_chart,
            "stages": stages,
            "heatmap_svg": milestone_heatmap(analytics),
            "heatmap": {
                "cohort_by": analytics.cohort_by,
                "milestones": analytics.milestones.len(),
                "cohorts": analytics.cohorts.len(),
                "grace_days": config.milestones.grace_days,
            },
            "milestones": milestones,
            "comparison": comparison,
            "predictable_auc": config.compare.predictable_auc,
            "dropoff": dropoff,
            "dropoff_chart": dropoff_chart,
            "dropoff_settings": config.dropoff,
            "priorities": {
                "intervene": priorities.intervene,
                "watch": priorities.watch,
                "on_track": priorities.on_track,
                "shown": priority.len(),
            },
            "priority": priority,
            "params": params,
        }),
    )?;
    Ok(views::Content {
        title: "Journey".into(),
        html,
    })
}

// ---------------------------------------------------------------------------------
// Onboarding

pub async fn onboarding_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<LifecycleParams>,
) -> PageResult {
    let request = params.parse(&tier_keys(&state), 50)?;
    let as_of = request.as_of.unwrap_or_else(today);
    let key = format!("onboarding|{as_of}|{params:?}");
    let shared = state.clone();
    let content = views::content(&state, key, async move {
        let overview = views::lifecycle(&shared, as_of).await?;
        let report = &overview.onboarding;
        let selected: Vec<serde_json::Value> = report
            .accounts
            .iter()
            .filter(|a| {
                request
                    .status
                    .as_deref()
                    .is_none_or(|s| json_name(&a.status) == s)
            })
            .map(|a| json!({"a": a, "status": json_name(&a.status), "reasons": a.reasons.join("; ")}))
            .collect();
        let html = render_to_string(
            &shared,
            "onboarding.html",
            json!({
                "asof": as_of_line(&overview),
                "report": {
                    "onboarding": report.onboarding,
                    "on_track": report.on_track,
                    "at_risk": report.at_risk,
                    "critical": report.critical,
                    "stalled": report.stalled,
                },
                "settings": shared.inner.config.journey.onboarding,
                "total": selected.len(),
                "accounts": selected.iter().take(ONBOARDING_SHOWN).collect::<Vec<_>>(),
                "shown": selected.len().min(ONBOARDING_SHOWN),
                "cohorts": report.cohorts,
                "statuses": ONBOARDING_STATUSES,
                "params": params,
            }),
        )?;
        Ok(views::Content {
            title: "Onboarding".into(),
            html,
        })
    })
    .await?;
    in_layout(&state, &principal, "onboarding", &content)
}
