//! Segmentation, workload and the journey on the demo portfolio, through the real store:
//! the generator's planted journey failure points are found (missed onboarding
//! milestones, the adoption plateau, the silent run-up to renewal), the churned-vs-retained
//! comparison names the planted factors, tiers add up, rebalancing never makes loads
//! more unequal, recorded tiers come back in the migration, onboarding stalls are real —
//! and results as of a date do not change when everything after it is deleted.

mod common;

use chrono::{Days, NaiveDate};
use coco_engine::lifecycle;
use coco_engine::{Config, backfill, score_as_of};
use coco_insights::journey::onboarding::OnboardingStatus;
use coco_store::{IngestOptions, Store};
use common::{copy_until, demo_store, truth_rows as truth};

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

#[test]
fn planted_journey_failure_points_are_found_and_the_book_is_tiered_and_balanced() {
    let (dir, store) = demo_store(2000, 23, end());
    let config = Config::load(None).unwrap();
    // Weekly snapshots over half a year: the comparison reads them 90 days before each
    // renewal decided in that time.
    backfill(
        &store,
        &config,
        end() - Days::new(7 * 30),
        end(),
        7,
        &mut |_| {},
    )
    .unwrap();
    let truth = truth(dir.path());
    let overview = lifecycle::overview(&store, &config, end(), None).unwrap();

    // --- J3: the planted failure points. The generator makes risky accounts miss
    // onboarding milestones, never reach core adoption when breadth is low, and go
    // silent before the renewal (its renewal_prep milestone skipped).
    let links = &overview.milestones.churn_links;
    let predicts = |key: &str| {
        links
            .iter()
            .find(|l| l.milestone == key)
            .is_some_and(|l| l.predicts_churn)
    };
    for key in ["renewal_prep", "core_adoption"] {
        let link = links.iter().find(|l| l.milestone == key).unwrap();
        assert!(
            predicts(key),
            "{key}: churn {:?} missed vs {:?} done, Holm p {:?}",
            link.churn_rate_missed,
            link.churn_rate_completed,
            link.p_holm
        );
        assert!(link.risk_ratio.unwrap().low > 1.0);
    }
    let onboarding_predictive = [
        "admin_setup",
        "integration_live",
        "training_complete",
        "first_value",
        "go_live",
    ]
    .iter()
    .filter(|k| predicts(k))
    .count();
    assert!(onboarding_predictive >= 3, "{onboarding_predictive}");
    // Kickoff is the generator's last choice to miss: it is never a churn signal here.
    assert!(!predicts("kickoff"));
    // The heatmap covers every milestone in every cohort it has.
    assert!(!overview.milestones.heatmap.is_empty());
    for cell in &overview.milestones.heatmap {
        assert!(cell.completed <= cell.due);
    }

    // --- J4: churned against retained names planted factors, in the right direction.
    let cmp = &overview.comparison.comparison;
    assert!(
        cmp.churned >= 30 && cmp.retained >= 100,
        "{} / {}",
        cmp.churned,
        cmp.retained
    );
    let planted = [
        "nps_latest",
        "escalations_180d",
        "milestones_overdue",
        "onboarding_completion",
        "champion_departed_90d",
        "adoption_breadth_90d",
    ];
    let found = cmp
        .top
        .iter()
        .filter(|v| planted.contains(&v.as_str()))
        .count();
    assert!(found >= 3, "separating variables: {:?}", cmp.top);
    let variable = |name: &str| cmp.variables.iter().find(|v| v.variable == name).unwrap();
    assert!(variable("nps_latest").difference.unwrap() < 0.0);
    assert!(variable("escalations_180d").difference.unwrap() > 0.0);
    assert!(
        cmp.predictability
            .iter()
            .any(|l| l.auc.is_some_and(|a| a > 0.7)),
        "{:?}",
        cmp.predictability
    );

    // --- J6: accounts the generator made miss milestones deviate more often.
    let cards = overview.scorecards(&config);
    let deviating_share = |missed: bool| {
        let group: Vec<_> = cards
            .iter()
            .filter(|c| {
                truth.get(&c.account_id).is_some_and(|t| {
                    (t["missed_milestones"].parse::<u32>().unwrap_or(0) >= 2) == missed
                })
            })
            .collect();
        group
            .iter()
            .filter(|c| c.milestones.iter().any(|m| m.deviation))
            .count() as f64
            / group.len().max(1) as f64
    };
    let (missed, clean) = (deviating_share(true), deviating_share(false));
    assert!(
        missed > 2.0 * clean,
        "missed {missed:.2} vs clean {clean:.2}"
    );

    // --- J2: every account has a stage; the distribution adds up.
    let staged: usize = overview.stage_counts.iter().map(|c| c.accounts).sum();
    assert_eq!(staged, overview.base.frame.account_count());
    assert!(
        overview
            .stages
            .views
            .iter()
            .all(|v| (0.0..=1.0).contains(&v.confidence))
    );

    // --- S1: a tier's score is the sum of its factors' points; tiers follow value.
    for a in &overview.segments.assignments {
        let points: f64 = a.factors.iter().map(|f| f.points).sum();
        assert!(
            (points - a.score).abs() < 0.11,
            "{}: {points} vs {}",
            a.account_id,
            a.score
        );
    }
    let enterprise_top = overview
        .segments
        .assignments
        .iter()
        .filter(|a| a.segment.as_deref() == Some("enterprise"))
        .filter(|a| a.tier == "tier_1" || a.tier == "tier_2")
        .count() as f64
        / overview
            .segments
            .assignments
            .iter()
            .filter(|a| a.segment.as_deref() == Some("enterprise"))
            .count() as f64;
    assert!(enterprise_top > 0.8, "{enterprise_top}");
    // S2: counts agree with the list.
    let m = &overview.misalignment;
    assert_eq!(m.misaligned, m.accounts.len());
    assert_eq!(m.over_served + m.under_served, m.misaligned);
    assert!(m.top.len() <= 5);

    // --- S4: the proposal never makes the spread worse than after forced placements,
    // moves only to active CSMs, and conserves hours.
    let p = &overview.rebalance;
    assert!(p.after.sum_of_squares <= p.after_forced.sum_of_squares + 1e-9);
    assert!(
        p.after.std_dev < p.before.std_dev,
        "{:?} → {:?}",
        p.before,
        p.after
    );
    let active: Vec<&str> = overview
        .base
        .csms
        .iter()
        .filter(|c| c.active)
        .map(|c| c.csm_id.as_str())
        .collect();
    assert!(
        p.moves
            .iter()
            .all(|m| active.contains(&m.to_csm_id.as_str()))
    );
    let hours_before: f64 = p.csms.iter().map(|c| c.load_before).sum();
    let hours_after: f64 = p.csms.iter().map(|c| c.load_after).sum();
    let forced: f64 = p
        .moves
        .iter()
        .filter(|m| m.reason == "forced")
        .map(|m| m.hours / config.workload.capacity.hours_per_month)
        .sum();
    assert!((hours_before + forced - hours_after).abs() < 1e-6);

    // --- J7: stalled accounts really have open milestones and no recent progress.
    for a in &overview.onboarding.accounts {
        if a.stalled {
            assert!(a.milestones_done < a.milestones_total);
            assert!(a.stalled_days >= i64::from(config.journey.onboarding.stall_days));
            assert_eq!(a.status, OnboardingStatus::Critical);
        }
        if let (Some(planned), Some(predicted)) = (a.planned_go_live, a.predicted_go_live) {
            assert!(predicted >= planned.min(end()));
        }
    }

    // --- J8: silent accounts are silent; a timeline is ordered and cites its rows.
    for s in &overview.silent {
        assert!(s.days_since_last_touch.is_none_or(|d| d >= 30.0));
    }
    let account = &overview.base.frame.accounts[0].account_id;
    let timeline = lifecycle::timeline(&store, &overview.base, &config, account, 365).unwrap();
    for pair in timeline.events.windows(2) {
        assert!(pair[0].at >= pair[1].at);
    }
    assert!(timeline.events.iter().all(|e| !e.id.is_empty()));

    eprintln!(
        "measured on the demo (2,000 accounts, seed 23, as of {}):",
        end()
    );
    for l in links.iter().filter(|l| l.p_holm.is_some()) {
        eprintln!(
            "  milestone {:<18} churn {:.0}% missed vs {:.0}% done, RR {:.2}, Holm p {:.2e}",
            l.milestone,
            100.0 * l.churn_rate_missed.unwrap_or(0.0),
            100.0 * l.churn_rate_completed.unwrap_or(0.0),
            l.risk_ratio.map_or(0.0, |r| r.value),
            l.p_holm.unwrap_or(1.0)
        );
    }
    eprintln!(
        "  separating variables {:?}; AUC by lead {:?}; earliest predictable {:?} days",
        cmp.top,
        cmp.predictability
            .iter()
            .map(|l| (l.lead_days, l.auc.map(|a| (a * 100.0).round() / 100.0)))
            .collect::<Vec<_>>(),
        cmp.earliest_predictable_days
    );
    eprintln!(
        "  milestone deviations: {:.0}% of accounts with ≥2 planted misses vs {:.0}% without",
        100.0 * missed,
        100.0 * clean
    );
    eprintln!(
        "  misaligned {:.0}%; enterprise in tier 1/2 {:.0}%; rebalance σ {:.2} → {:.2} with {} moves",
        100.0 * m.share_misaligned,
        100.0 * enterprise_top,
        p.before.std_dev,
        p.after.std_dev,
        p.moves.len()
    );

    // --- S3: tiers recorded now come back as the previous tier later.
    lifecycle::record_segments(&store, &overview.segments).unwrap();
    let later = end() + Days::new(7);
    score_as_of(&store, &config, later).unwrap();
    let base = lifecycle::load_base(&store, &config, later).unwrap();
    let run = lifecycle::segments(&base, &config, None);
    let plan = lifecycle::migration(&store, &base, &run, &config).unwrap();
    assert!(
        plan.upgrades
            .iter()
            .chain(&plan.downgrades)
            .all(|c| c.previous_tier.is_some())
    );
    for c in plan.downgrades.iter().filter(|c| c.exception.is_some()) {
        assert!(!c.transition_risks.is_empty());
    }
}

#[test]
fn lifecycle_results_as_of_a_date_ignore_later_data() {
    let cutoff = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
    let (dir, full) = demo_store(500, 5, end());
    let truncated_files = dir.path().join("truncated-files");
    copy_until(&dir.path().join("demo"), &truncated_files, cutoff);
    let mut truncated = Store::open(&dir.path().join("truncated")).unwrap();
    truncated
        .ingest_dir(&truncated_files, &IngestOptions::default(), &mut |_| {})
        .unwrap();
    let config = Config::load(None).unwrap();
    for store in [&full, &truncated] {
        for weeks in [8u64, 4, 0] {
            score_as_of(store, &config, cutoff - Days::new(7 * weeks)).unwrap();
        }
    }
    let a = lifecycle::overview(&full, &config, cutoff, None).unwrap();
    let b = lifecycle::overview(&truncated, &config, cutoff, None).unwrap();
    let json = |v: &dyn erased::Json| v.json();
    assert!(!a.stages.views.is_empty());
    for (name, left, right) in [
        ("stages", json(&a.stages.views), json(&b.stages.views)),
        (
            "segments",
            json(&a.segments.assignments),
            json(&b.segments.assignments),
        ),
        ("milestones", json(&a.milestones), json(&b.milestones)),
        (
            "comparison",
            json(&a.comparison.comparison),
            json(&b.comparison.comparison),
        ),
        ("onboarding", json(&a.onboarding), json(&b.onboarding)),
        ("silent", json(&a.silent), json(&b.silent)),
        ("workload", json(&a.workload.csms), json(&b.workload.csms)),
    ] {
        assert_eq!(
            left, right,
            "{name} as of {cutoff}: with later data (left), without (right)"
        );
    }
}

/// Serialising different result types through one call site.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}
