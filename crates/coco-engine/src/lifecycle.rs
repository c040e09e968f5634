//! What segmentation, workload and the journey share — the snapshot answering "as of
//! D", values computed beside it (health, churn probability, products held), milestones
//! and renewal decisions as known at D, the weekly snapshots the stage history and the
//! drop-off read, the CSM team — loaded once ([`LifecycleBase`]); and the services the
//! surfaces call over it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use coco_insights::frame::{MetricHistory, SnapshotFrame};
use coco_insights::journey::compare::{CompareRow, Comparison};
use coco_insights::journey::dropoff::{Dropoff, EngagementHistory};
use coco_insights::journey::milestones::{MilestoneAnalytics, MilestoneInputs, start_quarter};
use coco_insights::journey::onboarding::{OnboardingInputs, OnboardingReport};
use coco_insights::journey::scorecard::{AccountJourney, RetainedBenchmark, Scorecard};
use coco_insights::journey::stages::{DateColumns, StageCount, StageView};
use coco_insights::journey::touchpoints::{
    AccountTimeline, ContactInfo, SilentAccount, TimelineEvent,
};
use coco_insights::journey::{MilestoneRecord, RenewalRecord, stages};
use coco_insights::segments::migration::MigrationPlan;
use coco_insights::segments::misalignment::MisalignmentReport;
use coco_insights::segments::{Assignment, SegmentInputs, TierSummary};
use coco_insights::values::{NUMERIC_ATTRIBUTES, SideValues, Values};
use coco_insights::workload::rebalance::{Proposal, RebalanceInputs};
use coco_insights::workload::{AccountEffort, CapacityPlan, CsmInfo, CsmLoad, Spread};
use coco_store::Store;
use coco_store::snapshots::SnapshotInfo;
use serde::Serialize;

use crate::churn::scoring::stored_predictions;
use crate::growth::{HistorySpec, account_index, history};
use crate::portfolio::snapshot_pair;
use crate::score::to_frame;
use crate::{Config, EngineError};

/// Weekly snapshots the drop-off reads (two years).
const ENGAGEMENT_WEEKS: usize = 104;

/// Everything the lifecycle analyses read as of one snapshot.
pub struct LifecycleBase {
    pub snapshot: SnapshotInfo,
    pub frame: SnapshotFrame,
    pub names: Vec<String>,
    /// `health_score`, `churn_probability` (when a model is scored), `products_held`.
    pub side: SideValues,
    pub renewal_dates: Vec<Option<NaiveDate>>,
    /// The accounts the history analyses count: the frame's, then accounts no longer in
    /// it (churned) that have renewal decisions — without them no churn could be seen.
    /// `starts`, `milestones` and renewals' `account` index this list; the first
    /// `frame.account_count()` are the frame's accounts in frame order.
    pub population: Vec<String>,
    pub starts: Vec<Option<NaiveDate>>,
    /// Milestones as known at the date, by account (due date order).
    pub milestones: Vec<Vec<MilestoneRecord>>,
    /// Decided renewals (any date; analyses keep those decided by the as-of date),
    /// sorted by (account, renewal date).
    pub renewals: Vec<RenewalRecord>,
    /// The stage criteria's numbers at the weekly snapshots before, newest first.
    pub stage_history: Vec<DateColumns>,
    /// The drop-off metric in the weekly snapshots before and at the date.
    pub engagement: MetricHistory,
    pub csms: Vec<CsmInfo>,
    /// Custom account flags the segmentation model names, by account.
    pub custom_flags: Vec<Vec<String>>,
}

impl LifecycleBase {
    pub fn as_of(&self) -> NaiveDate {
        self.snapshot.as_of
    }

    pub fn values(&self) -> Values<'_> {
        Values::new(&self.frame, &self.side)
    }

    pub fn account(&self, account_id: &str) -> Result<usize, EngineError> {
        account_index(&self.frame, account_id)
    }

    /// The columns of the as-of date: every source stage criteria and conflicts name.
    pub fn current_columns(&self, config: &Config) -> DateColumns {
        let values = self.values();
        let mut columns = DateColumns::new(self.as_of());
        for source in stages::sources(&config.journey) {
            let resolved = values.resolve(&source);
            let column = (0..self.frame.account_count())
                .map(|a| values.get(resolved, a))
                .collect();
            columns.numbers.insert(source, column);
        }
        columns
    }
}

fn nan_to_none(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

pub fn load_base(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
) -> Result<Arc<LifecycleBase>, EngineError> {
    let snapshot = snapshot_pair(store, config, as_of, 0)?.current;
    load_snapshot_base(store, config, snapshot)
}

pub fn load_snapshot_base(
    store: &Store,
    config: &Config,
    snapshot: SnapshotInfo,
) -> Result<Arc<LifecycleBase>, EngineError> {
    let started = std::time::Instant::now();
    let as_of = snapshot.as_of;
    let metas = config.metric_metas();
    let metric_names: Vec<String> = metas.iter().map(|m| m.name.clone()).collect();
    let frame = to_frame(&store.load_snapshot(&snapshot, &metric_names)?, &metas)?;
    let accounts: Vec<String> = frame
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    let index: HashMap<&str, usize> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), i))
        .collect();
    let count = accounts.len();
    let all_names = store.account_names()?;
    let names: Vec<String> = accounts
        .iter()
        .map(|id| all_names.get(id).cloned().unwrap_or_else(|| id.clone()))
        .collect();
    let mut side = SideValues::default();
    let briefs = store.health_briefs(snapshot.snapshot_id)?;
    side.insert(
        "health_score",
        accounts
            .iter()
            .map(|a| briefs.get(a).and_then(|(score, _)| *score))
            .collect(),
    );
    if let Some((_, predictions)) = stored_predictions(store, None, as_of, None)? {
        let mut column = vec![None; count];
        for p in predictions {
            if let Some(&i) = index.get(p.account_id.as_str()) {
                column[i] = Some(p.probability);
            }
        }
        side.insert("churn_probability", column);
    }
    let holdings = store.holdings(as_of)?;
    side.insert(
        "products_held",
        accounts
            .iter()
            .map(|a| holdings.get(a).map(|h| h.products.len() as f64))
            .collect(),
    );
    let renewal_dates = accounts
        .iter()
        .map(|a| holdings.get(a).and_then(|h| h.renewal_date))
        .collect();
    tracing::info!(
        "lifecycle: frame and side values in {:.2?}",
        started.elapsed()
    );
    let decisions = store.renewal_decisions()?;
    let mut population = accounts.clone();
    let mut population_index: HashMap<String, usize> =
        index.iter().map(|(a, i)| ((*a).to_string(), *i)).collect();
    for d in &decisions {
        if !population_index.contains_key(&d.account_id) {
            population_index.insert(d.account_id.clone(), population.len());
            population.push(d.account_id.clone());
        }
    }
    let known_starts = store.account_starts()?;
    let starts: Vec<Option<NaiveDate>> = population
        .iter()
        .map(|a| known_starts.get(a).copied().filter(|d| *d <= as_of))
        .collect();
    let mut milestones: Vec<Vec<MilestoneRecord>> = vec![Vec::new(); population.len()];
    for row in store.milestone_states(as_of)? {
        if let Some(&i) = population_index.get(&row.account_id) {
            milestones[i].push(MilestoneRecord {
                key: config.journey.milestone_key(&row.key).to_string(),
                raw_key: row.key,
                name: row.name,
                stage: Some(row.stage),
                due: row.due,
                completed: row.completed,
                status: row.status,
            });
        }
    }
    let mut renewals: Vec<RenewalRecord> = decisions
        .into_iter()
        .filter_map(|d| {
            Some(RenewalRecord {
                account: *population_index.get(&d.account_id)?,
                renewal_date: d.renewal_date,
                decided_on: d.decided_on,
                churned: d.outcome == "churned",
            })
        })
        .collect();
    renewals.sort_by_key(|r| (r.account, r.renewal_date));
    tracing::info!(
        "lifecycle: milestones and renewals in {:.2?}",
        started.elapsed()
    );
    // The stage criteria's metrics at the weekly snapshots before.
    let criteria_metrics: Vec<String> = stages::sources(&config.journey)
        .into_iter()
        .filter(|s| metric_names.contains(s))
        .collect();
    // One read of the weekly snapshots for both: the stage criteria's metrics (the last
    // `history_weeks`) and the drop-off's engagement metric (all of them). Measured: one
    // scan of the metric values instead of two saves ~2 s at 100,000 accounts.
    let stage_weeks = config.journey.classification.history_weeks;
    let engagement_metric = config.journey.dropoff.metric.clone();
    let mut history_metrics = criteria_metrics.clone();
    if !history_metrics.contains(&engagement_metric) {
        history_metrics.push(engagement_metric.clone());
    }
    let mut all_weeks = history(
        store,
        config,
        &snapshot,
        &accounts,
        &HistorySpec {
            metrics: history_metrics,
            weeks: ENGAGEMENT_WEEKS.max(stage_weeks),
            year_ago: false,
        },
    )?;
    let skip = all_weeks.dates.len().saturating_sub(stage_weeks);
    let weekly = MetricHistory {
        dates: all_weeks.dates[skip..].to_vec(),
        metrics: criteria_metrics.clone(),
        values: criteria_metrics
            .iter()
            .map(|m| {
                let i = all_weeks.metrics.iter().position(|x| x == m).unwrap_or(0);
                all_weeks.values[i][skip..].to_vec()
            })
            .collect(),
    };
    let tenure: Vec<Option<f64>> = frame
        .accounts
        .iter()
        .map(|a| a.attributes.get("tenure_days").and_then(|v| v.as_number()))
        .collect();
    let stage_history: Vec<DateColumns> = weekly
        .dates
        .iter()
        .enumerate()
        .rev()
        .map(|(d, date)| {
            let mut columns = DateColumns::new(*date);
            for (m, metric) in weekly.metrics.iter().enumerate() {
                columns.numbers.insert(
                    metric.clone(),
                    weekly.values[m][d]
                        .iter()
                        .copied()
                        .map(nan_to_none)
                        .collect(),
                );
            }
            let offset = (as_of - *date).num_days() as f64;
            columns.numbers.insert(
                "tenure_days".into(),
                tenure.iter().map(|t| t.map(|t| t - offset)).collect(),
            );
            columns
        })
        .collect();
    let engagement_index = all_weeks
        .metrics
        .iter()
        .position(|x| *x == engagement_metric)
        .unwrap_or(0);
    let mut engagement = MetricHistory {
        dates: all_weeks.dates.clone(),
        metrics: vec![engagement_metric],
        values: vec![all_weeks.values.swap_remove(engagement_index)],
    };
    if let Some(m) = frame.metric_index(&config.journey.dropoff.metric) {
        engagement.dates.push(as_of);
        engagement.values[0].push(
            (0..count)
                .map(|a| frame.value(a, m).unwrap_or(f64::NAN))
                .collect(),
        );
    }
    tracing::info!("lifecycle: history in {:.2?}", started.elapsed());
    let csms = store
        .csm_team()?
        .into_iter()
        .map(|c| CsmInfo {
            csm_id: c.csm_id,
            name: c.name,
            team: c.team,
            region: c.region,
            skills: c.skills,
            active: c.active,
            capacity_accounts: c.capacity_accounts,
        })
        .collect();
    let flag_keys: Vec<String> = config
        .segments
        .factors
        .iter()
        .flat_map(|f| &f.flags)
        .filter_map(|f| f.custom.clone())
        .collect();
    let mut flags_by_account = store.custom_flags(&flag_keys)?;
    let custom_flags = accounts
        .iter()
        .map(|a| flags_by_account.remove(a).unwrap_or_default())
        .collect();
    Ok(Arc::new(LifecycleBase {
        snapshot,
        frame,
        names,
        side,
        renewal_dates,
        population,
        starts,
        milestones,
        renewals,
        stage_history,
        engagement,
        csms,
        custom_flags,
    }))
}

// ------------------------------------------------------------------------ stages

/// Every account's stage, and the stage of each at every weekly snapshot the drop-off
/// reads (where classified).
pub struct StageBook {
    pub views: Vec<StageView>,
    /// `[engagement date][account]`, aligned with `base.engagement.dates`.
    pub at_engagement_dates: Vec<Vec<Option<usize>>>,
}

pub fn stage_book(base: &LifecycleBase, config: &Config) -> StageBook {
    let current = base.current_columns(config);
    let count = base.frame.account_count();
    // Every account at every earlier date, classified once: the views' transitions and
    // the drop-off's stages both read it.
    let prepared: Vec<stages::PreparedDate<'_>> = base
        .stage_history
        .iter()
        .map(|c| stages::PreparedDate::new(&config.journey, c))
        .collect();
    let dates: Vec<NaiveDate> = prepared.iter().map(|p| p.date).collect();
    // [account][date], newest first.
    let history: Vec<Vec<usize>> = coco_insights::parallel::map_ordered(count, 2_000, |a| {
        prepared
            .iter()
            .map(|date| stages::stage_at(&config.journey, date, &base.milestones[a], a))
            .collect()
    });
    let views = coco_insights::parallel::map_ordered(count, 2_000, |a| {
        stages::stage_view_with_history(
            &config.journey,
            &base.frame.accounts[a].account_id,
            &current,
            &dates,
            &history[a],
            &base.milestones[a],
            a,
        )
    });
    let at_engagement_dates = base
        .engagement
        .dates
        .iter()
        .map(|date| {
            if *date == current.date {
                return (0..count)
                    .map(|a| {
                        config
                            .journey
                            .stages
                            .iter()
                            .position(|s| s.key == views[a].stage)
                    })
                    .collect();
            }
            match dates.iter().position(|d| d == date) {
                Some(d) => (0..count).map(|a| Some(history[a][d])).collect(),
                None => vec![None; count],
            }
        })
        .collect();
    StageBook {
        views,
        at_engagement_dates,
    }
}

pub fn stage_distribution(
    base: &LifecycleBase,
    config: &Config,
    book: &StageBook,
) -> Vec<StageCount> {
    let values = base.values();
    let arr = values.resolve("arr");
    stages::distribution(&config.journey, &book.views, &|a| {
        values.get(arr, a).unwrap_or(0.0)
    })
}

// -------------------------------------------------------------------- segments

#[derive(Debug, Clone, Serialize)]
pub struct SegmentsRun {
    pub as_of: NaiveDate,
    pub model: String,
    pub model_version: String,
    /// `expansion analysis` or `proxy` (seat utilisation, growth, new departments).
    pub expansion_potential_from: String,
    pub tiers: Vec<TierSummary>,
    pub assignments: Vec<Assignment>,
}

/// Expected expansion ARR of each account's opportunities ÷ its ARR.
pub fn expansion_potential(
    base: &LifecycleBase,
    opportunities: &[coco_insights::expansion::Opportunity],
) -> Vec<Option<f64>> {
    let values = base.values();
    let mut expected = vec![0.0; base.frame.account_count()];
    for o in opportunities {
        if let Some(i) = base.frame.account_index(&o.account_id) {
            expected[i] += o.sizing.expected_arr;
        }
    }
    (0..base.frame.account_count())
        .map(|a| {
            values
                .value("arr", a)
                .filter(|arr| *arr > 0.0)
                .map(|arr| expected[a] / arr)
        })
        .collect()
}

/// The tiering run of the base's date, with expansion potential from the expansion
/// analysis of that date unless `proxy` (the cheaper stand-in the model documents).
/// One place for the CLI, the drafts and the server.
pub fn tiering(
    store: &Store,
    config: &Config,
    base: &LifecycleBase,
    proxy: bool,
) -> Result<SegmentsRun, EngineError> {
    let potential = if proxy {
        None
    } else {
        let pipeline = crate::expansion::pipeline(store, config, base.as_of(), None)?;
        Some(expansion_potential(base, &pipeline.opportunities))
    };
    Ok(segments(base, config, potential))
}

/// Every account's tier. `potential`: from [`expansion_potential`]; `None` = the proxy.
pub fn segments(
    base: &LifecycleBase,
    config: &Config,
    potential: Option<Vec<Option<f64>>>,
) -> SegmentsRun {
    let mut side = base.side.clone();
    let from = match potential {
        Some(column) => {
            side.insert("expansion_potential", column);
            "expansion analysis"
        }
        None => "proxy",
    };
    let done: Vec<Vec<String>> = base
        .milestones
        .iter()
        .map(|list| {
            list.iter()
                .filter(|m| m.done_by(base.as_of()))
                .map(|m| m.key.clone())
                .collect()
        })
        .collect();
    let inputs = SegmentInputs {
        frame: &base.frame,
        names: &base.names,
        side: &side,
        milestones: &done,
        custom_flags: &base.custom_flags,
        renewal_dates: &base.renewal_dates,
    };
    let assignments = coco_insights::segments::apply(&inputs, &config.segments);
    SegmentsRun {
        as_of: base.as_of(),
        model: config.segments.model.name.clone(),
        model_version: config.segments.version.clone(),
        expansion_potential_from: from.to_string(),
        tiers: coco_insights::segments::summarise(&assignments, &config.segments),
        assignments,
    }
}

pub fn misalignment(run: &SegmentsRun, config: &Config) -> MisalignmentReport {
    coco_insights::segments::misalignment::report(&run.assignments, &config.segments)
}

/// Upgrade and downgrade candidates, with the tier the last earlier application
/// recorded.
pub fn migration(
    store: &Store,
    base: &LifecycleBase,
    run: &SegmentsRun,
    config: &Config,
) -> Result<MigrationPlan, EngineError> {
    let previous = store.previous_segment_assignments(base.as_of())?;
    let lookup = |account: &str| -> Option<String> {
        previous
            .as_ref()
            .and_then(|(_, rows)| rows.get(account))
            .map(|r| r.tier.clone())
    };
    Ok(coco_insights::segments::migration::plan(
        &run.assignments,
        &base.values(),
        &config.segments,
        base.as_of(),
        &lookup,
    ))
}

/// Records the run's tiers (replacing an earlier application of the same date).
pub fn record_segments(store: &Store, run: &SegmentsRun) -> Result<usize, EngineError> {
    let rows: Vec<coco_store::lifecycle::SegmentAssignmentRow> = run
        .assignments
        .iter()
        .map(|a| coco_store::lifecycle::SegmentAssignmentRow {
            account_id: a.account_id.clone(),
            tier: a.tier.clone(),
            score: a.score,
            coverage: a.recommended_coverage.clone(),
        })
        .collect();
    store.record_segment_assignments(run.as_of, &run.model_version, &rows)?;
    Ok(rows.len())
}

// -------------------------------------------------------------------- workload

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadReport {
    pub as_of: NaiveDate,
    pub csms: Vec<CsmLoad>,
    pub spread: Spread,
    /// Accounts whose owner is missing or not in the team, and their hours.
    pub unassigned_accounts: usize,
    pub unassigned_hours: f64,
    pub plan: CapacityPlan,
    pub efforts: Vec<AccountEffort>,
}

fn complexity_of(run: &SegmentsRun) -> Vec<Option<f64>> {
    run.assignments
        .iter()
        .map(|a| {
            a.factors
                .iter()
                .find(|f| f.key == "complexity")
                .and_then(|f| f.score)
        })
        .collect()
}

fn owners(base: &LifecycleBase, efforts: &[AccountEffort]) -> Vec<Option<usize>> {
    let by_id: HashMap<&str, usize> = base
        .csms
        .iter()
        .enumerate()
        .map(|(i, c)| (c.csm_id.as_str(), i))
        .collect();
    efforts
        .iter()
        .map(|e| {
            e.owner_csm_id
                .as_deref()
                .and_then(|o| by_id.get(o).copied())
        })
        .collect()
}

pub fn workload(
    base: &LifecycleBase,
    config: &Config,
    book: &StageBook,
    run: &SegmentsRun,
) -> WorkloadReport {
    let stages: Vec<Option<String>> = book.views.iter().map(|v| Some(v.stage.clone())).collect();
    let efforts = coco_insights::workload::efforts(
        &config.workload,
        &base.values(),
        &base.names,
        &stages,
        &complexity_of(run),
    );
    let owner = owners(base, &efforts);
    let csms =
        coco_insights::workload::loads(&config.workload, &base.csms, &efforts, &|a| owner[a]);
    let active: Vec<f64> = csms.iter().filter(|c| c.active).map(|c| c.load).collect();
    let spread = coco_insights::workload::spread(&active, config.workload.capacity.overloaded);
    let unassigned: Vec<usize> = (0..efforts.len())
        .filter(|a| owner[*a].is_none_or(|c| !base.csms[c].active))
        .collect();
    let window = f64::from(config.workload.planning.growth_window_days);
    let values = base.values();
    let tenure = values.resolve("tenure_days");
    let young: Vec<f64> = (0..efforts.len())
        .filter(|a| values.get(tenure, *a).is_some_and(|t| t < 365.0))
        .map(|a| efforts[a].hours)
        .collect();
    let new_accounts = (0..efforts.len())
        .filter(|a| values.get(tenure, *a).is_some_and(|t| t <= window))
        .count();
    let since = base
        .as_of()
        .checked_sub_days(Days::new(u64::from(
            config.workload.planning.growth_window_days,
        )))
        .unwrap_or(base.as_of());
    let churned = base
        .renewals
        .iter()
        .filter(|r| r.churned && r.decided_on > since && r.decided_on <= base.as_of())
        .count();
    let plan = coco_insights::workload::capacity_plan(
        &config.workload,
        base.csms.iter().filter(|c| c.active).count(),
        &efforts,
        new_accounts,
        churned,
        (!young.is_empty()).then(|| young.iter().sum::<f64>() / young.len() as f64),
    );
    WorkloadReport {
        as_of: base.as_of(),
        csms,
        spread,
        unassigned_accounts: unassigned.len(),
        unassigned_hours: unassigned.iter().map(|a| efforts[*a].hours).sum(),
        plan,
        efforts,
    }
}

pub fn rebalance(
    base: &LifecycleBase,
    config: &Config,
    book: &StageBook,
    report: &WorkloadReport,
) -> Proposal {
    let owner = owners(base, &report.efforts);
    let values = base.values();
    let rules = &config.workload.rebalance;
    let keep_columns: Vec<_> = rules
        .keep
        .iter()
        .map(|c| (c, c.source.as_deref().map(|s| values.resolve(s))))
        .collect();
    let kept: Vec<bool> = (0..report.efforts.len())
        .map(|a| {
            rules.keep_stages.contains(&book.views[a].stage)
                || keep_columns.iter().any(|(c, resolved)| {
                    resolved
                        .and_then(|r| values.get(r, a))
                        .is_some_and(|v| c.within(v))
                })
        })
        .collect();
    let attribute = |a: usize, name: &str| values.text(name, a).map(str::to_string);
    coco_insights::workload::rebalance::propose(
        &config.workload,
        &RebalanceInputs {
            csms: &base.csms,
            efforts: &report.efforts,
            owners: &owner,
            kept: &kept,
            attribute: &attribute,
        },
    )
}

// -------------------------------------------------------------------- journey

fn cohort_label(base: &LifecycleBase, config: &Config, account: usize) -> Option<String> {
    match config.journey.milestones.cohort_by.as_str() {
        "start_quarter" => base.starts[account].map(start_quarter),
        // Attributes are the frame's: accounts no longer in it have none.
        attribute if account < base.frame.account_count() => {
            base.values().text(attribute, account).map(str::to_string)
        }
        _ => None,
    }
}

pub fn milestone_analytics(base: &LifecycleBase, config: &Config) -> MilestoneAnalytics {
    let cohorts: Vec<Option<String>> = (0..base.population.len())
        .map(|a| cohort_label(base, config, a))
        .collect();
    coco_insights::journey::milestones::analyse(
        &MilestoneInputs {
            as_of: base.as_of(),
            milestones: &base.milestones,
            cohorts: &cohorts,
            starts: &base.starts,
            renewals: &base.renewals,
        },
        &config.journey,
    )
}

/// The churned-vs-retained comparison and the retained benchmark the scorecards use.
pub struct JourneyComparison {
    pub comparison: Comparison,
    pub benchmark: RetainedBenchmark,
}

/// A deterministic hash of an account id (FNV-1a): the retained sample.
fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn compare(
    store: &Store,
    base: &LifecycleBase,
    config: &Config,
) -> Result<JourneyComparison, EngineError> {
    let settings = &config.journey.compare;
    let as_of = base.as_of();
    let since = as_of
        .checked_sub_days(Days::new(u64::from(settings.lookback_days)))
        .unwrap_or(as_of);
    let mut decided: Vec<&RenewalRecord> = base
        .renewals
        .iter()
        .filter(|r| r.decided_on <= as_of && r.decided_on > since)
        .collect();
    if settings.max_renewals > 0 && decided.len() > settings.max_renewals {
        let churned: Vec<&RenewalRecord> = decided.iter().copied().filter(|r| r.churned).collect();
        let keep_churned = churned.len().min(settings.max_renewals / 2);
        let mut retained: Vec<&RenewalRecord> =
            decided.iter().copied().filter(|r| !r.churned).collect();
        let key = |r: &&RenewalRecord| id_hash(&base.population[r.account]);
        retained.sort_by_key(key);
        retained.truncate(settings.max_renewals - keep_churned);
        let mut sampled = churned;
        sampled.sort_by_key(key);
        sampled.truncate(keep_churned);
        sampled.extend(retained);
        decided = sampled;
    }
    let fingerprint = config.catalogue.fingerprint();
    let mut snapshots: Vec<SnapshotInfo> = store
        .list_snapshots()?
        .into_iter()
        .filter(|s| s.catalogue_fingerprint == fingerprint && s.as_of <= as_of)
        .collect();
    snapshots.sort_by_key(|s| s.as_of);
    let variables = &settings.variables;
    let metric_vars: Vec<String> = variables
        .iter()
        .filter(|v| base.frame.metric_index(v).is_some())
        .cloned()
        .collect();
    let mut leads: Vec<u32> = settings.leads.clone();
    if !leads.contains(&settings.lead_days) {
        leads.push(settings.lead_days);
    }
    // (lead, renewal) → the snapshot at most 10 days before renewal − lead.
    let mut pairs: Vec<(i64, String)> = Vec::new();
    let mut slots: Vec<(u32, usize, usize, NaiveDate)> = Vec::new(); // (lead, renewal, pair, snapshot date)
    for &lead in &leads {
        for (r, renewal) in decided.iter().enumerate() {
            let Some(target) = renewal
                .renewal_date
                .checked_sub_days(Days::new(u64::from(lead)))
            else {
                continue;
            };
            let position = snapshots.partition_point(|s| s.as_of <= target);
            if position == 0 {
                continue;
            }
            let snapshot = &snapshots[position - 1];
            if (target - snapshot.as_of).num_days() > 10 {
                continue;
            }
            slots.push((lead, r, pairs.len(), snapshot.as_of));
            pairs.push((
                snapshot.snapshot_id,
                base.population[renewal.account].clone(),
            ));
        }
    }
    let metric_values = store.metric_values_at(&pairs, &metric_vars)?;
    let health = if variables.iter().any(|v| v == "health_score") {
        store.health_scores_at(&pairs)?
    } else {
        Vec::new()
    };
    let values = base.values();
    let row_of = |pair: usize, renewal: &RenewalRecord, date: NaiveDate| {
        let tenure_then = base.starts[renewal.account].map(|s| (date - s).num_days() as f64);
        let mut out = Vec::with_capacity(variables.len());
        for v in variables {
            let value = if v == "health_score" {
                health.get(pair).copied().and_then(nan_to_none)
            } else if let Some(m) = metric_vars.iter().position(|x| x == v) {
                nan_to_none(metric_values[pair][m])
            } else if v == "tenure_days" {
                tenure_then
            } else if NUMERIC_ATTRIBUTES.contains(&v.as_str())
                && renewal.account < base.frame.account_count()
            {
                // Today's value: the snapshot's own attributes are not read per pair.
                values.value(v, renewal.account)
            } else {
                None
            };
            out.push(value);
        }
        (tenure_then, out)
    };
    let mut by_lead: Vec<(u32, Vec<CompareRow>)> = Vec::new();
    let mut main: Vec<CompareRow> = Vec::new();
    let mut retained_rows: Vec<(Option<f64>, Vec<Option<f64>>)> = Vec::new();
    for &lead in &leads {
        let mut rows = Vec::new();
        for (l, r, pair, date) in &slots {
            if *l != lead {
                continue;
            }
            let renewal = decided[*r];
            let (tenure_then, values) = row_of(*pair, renewal, *date);
            if lead == settings.lead_days {
                if !renewal.churned {
                    retained_rows.push((tenure_then, values.clone()));
                }
                main.push(CompareRow {
                    churned: renewal.churned,
                    values: values.clone(),
                });
            }
            rows.push(CompareRow {
                churned: renewal.churned,
                values,
            });
        }
        if settings.leads.contains(&lead) {
            by_lead.push((lead, rows));
        }
    }
    by_lead.sort_by_key(|l| std::cmp::Reverse(l.0));
    let comparison =
        coco_insights::journey::compare::compare(&config.journey, variables, &main, &by_lead);
    // Retained accounts' milestones: accounts whose latest decided renewal renewed.
    let mut retained_accounts: Vec<usize> = Vec::new();
    let mut last: Option<&RenewalRecord> = None;
    for r in base.renewals.iter().filter(|r| r.decided_on <= as_of) {
        if let Some(previous) = last
            && previous.account != r.account
            && !previous.churned
        {
            retained_accounts.push(previous.account);
        }
        last = Some(r);
    }
    if let Some(previous) = last
        && !previous.churned
    {
        retained_accounts.push(previous.account);
    }
    let milestone_rows: Vec<(NaiveDate, &[MilestoneRecord])> = retained_accounts
        .iter()
        .filter_map(|a| Some((base.starts[*a]?, base.milestones[*a].as_slice())))
        .collect();
    let benchmark = RetainedBenchmark::new(
        variables.len(),
        &retained_rows,
        &milestone_rows,
        config.journey.milestones.min_group,
    );
    Ok(JourneyComparison {
        comparison,
        benchmark,
    })
}

pub fn dropoff(base: &LifecycleBase, config: &Config, book: &StageBook) -> Dropoff {
    let tenure: Vec<Option<f64>> = {
        let values = base.values();
        let t = values.resolve("tenure_days");
        (0..base.frame.account_count())
            .map(|a| values.get(t, a))
            .collect()
    };
    let values: &[Vec<f64>] = base.engagement.values.first().map_or(&[], Vec::as_slice);
    coco_insights::journey::dropoff::analyse(
        &EngagementHistory {
            as_of: base.as_of(),
            dates: &base.engagement.dates,
            values,
            tenure_days: &tenure,
            stages: &book.at_engagement_dates,
        },
        &config.journey,
    )
}

/// The scorecard of one account.
pub fn scorecard(
    base: &LifecycleBase,
    config: &Config,
    book: &StageBook,
    comparison: &JourneyComparison,
    links: &[coco_insights::journey::milestones::ChurnLink],
    account: usize,
) -> Scorecard {
    let values = base.values();
    let current: Vec<Option<f64>> = config
        .journey
        .compare
        .variables
        .iter()
        .map(|v| values.value(v, account))
        .collect();
    coco_insights::journey::scorecard::scorecard(
        &config.journey,
        AccountJourney {
            account_id: &base.frame.accounts[account].account_id,
            account_name: &base.names[account],
            as_of: base.as_of(),
            start: base.starts[account],
            stage: book.views[account].clone(),
            milestones: &base.milestones[account],
            values: current,
        },
        &comparison.comparison,
        links,
        &comparison.benchmark,
    )
}

pub fn onboarding(base: &LifecycleBase, config: &Config) -> OnboardingReport {
    let as_of = base.as_of();
    let values = base.values();
    let first_value: Vec<Option<(f64, bool)>> = (0..base.frame.account_count())
        .map(|a| {
            let key = config.journey.onboarding.first_value.as_deref()?;
            let start = base.starts[a]?;
            let m = base.milestones[a].iter().find(|m| m.key == key)?;
            match m.completed.filter(|c| *c <= as_of) {
                Some(done) => Some(((done - start).num_days() as f64, false)),
                None => {
                    // Not reached: its due date, or today when already late.
                    let due = m.due?.max(as_of);
                    Some(((due - start).num_days() as f64, true))
                }
            }
        })
        .collect();
    let current = base.frame.account_count();
    let everyone = base.population.len();
    let owners: Vec<Option<String>> = (0..everyone)
        .map(|a| {
            (a < current)
                .then(|| values.text("owner_csm_id", a).map(str::to_string))
                .flatten()
        })
        .collect();
    let arr: Vec<Option<f64>> = (0..everyone)
        .map(|a| (a < current).then(|| values.value("arr", a)).flatten())
        .collect();
    let mut names = base.names.clone();
    names.extend(base.population[current..].iter().cloned());
    let mut first_value = first_value;
    first_value.resize(everyone, None);
    let inputs = |n: usize| OnboardingInputs {
        as_of,
        account_ids: &base.population[..n],
        names: &names[..n],
        owners: &owners[..n],
        arr: &arr[..n],
        starts: &base.starts[..n],
        milestones: &base.milestones[..n],
        first_value: &first_value[..n],
        renewals: &base.renewals,
    };
    // Accounts onboarding now are the frame's; how cohorts turned out needs every
    // account, churned ones included.
    let mut report = coco_insights::journey::onboarding::report(&inputs(current), &config.journey);
    report.cohorts =
        coco_insights::journey::onboarding::report(&inputs(everyone), &config.journey).cohorts;
    report
}

pub fn silent(base: &LifecycleBase, config: &Config) -> Vec<SilentAccount> {
    coco_insights::journey::touchpoints::silent_accounts(
        &config.journey,
        &base.values(),
        &base.names,
    )
}

/// One account's timeline over the last `days` (silence is judged over the last year).
pub fn timeline(
    store: &Store,
    base: &LifecycleBase,
    config: &Config,
    account_id: &str,
    days: u32,
) -> Result<AccountTimeline, EngineError> {
    let account = base.account(account_id)?;
    let as_of = base.as_of();
    let from = as_of
        .checked_sub_days(Days::new(u64::from(days.max(365))))
        .unwrap_or(as_of);
    let events: Vec<TimelineEvent> = store
        .interaction_timeline(account_id, from, as_of)?
        .into_iter()
        .map(|r| TimelineEvent {
            is_touch: r.source == "touchpoint",
            at: r.at,
            source: r.source,
            kind: r.kind,
            id: r.id,
            title: r.title,
            contact_id: r.contact_id,
            csm_id: r.csm_id,
        })
        .collect();
    let contacts: Vec<ContactInfo> = store
        .account_contacts(account_id, as_of)?
        .into_iter()
        .map(|c| ContactInfo {
            contact_id: c.contact_id,
            name: c.name,
            role: c.role,
            title: c.title,
            active: c.active,
        })
        .collect();
    let since = base.starts[account].unwrap_or(from);
    let mut view = coco_insights::journey::touchpoints::timeline(
        &config.journey,
        account_id,
        as_of,
        since,
        events,
        &contacts,
    );
    let cutoff = as_of
        .checked_sub_days(Days::new(u64::from(days)))
        .unwrap_or(as_of);
    view.events.retain(|e| e.at.date() > cutoff);
    Ok(view)
}

// -------------------------------------------------------------------- overview

/// Every segmentation, workload and journey analysis as of a date over one load: what
/// the dashboard pages and the API serve (memoised per date by the server).
pub struct LifecycleOverview {
    pub base: Arc<LifecycleBase>,
    pub stages: StageBook,
    pub stage_counts: Vec<StageCount>,
    pub segments: SegmentsRun,
    pub misalignment: MisalignmentReport,
    pub migration: MigrationPlan,
    pub workload: WorkloadReport,
    pub rebalance: Proposal,
    pub milestones: MilestoneAnalytics,
    pub comparison: JourneyComparison,
    pub dropoff: Dropoff,
    pub onboarding: OnboardingReport,
    pub silent: Vec<SilentAccount>,
}

impl LifecycleOverview {
    pub fn as_of(&self) -> NaiveDate {
        self.base.as_of()
    }

    /// The journey scorecard of one account.
    pub fn scorecard(&self, config: &Config, account_id: &str) -> Result<Scorecard, EngineError> {
        let account = self.base.account(account_id)?;
        Ok(scorecard(
            &self.base,
            config,
            &self.stages,
            &self.comparison,
            &self.milestones.churn_links,
            account,
        ))
    }

    /// Every account's scorecard, those to intervene on first (then by deviations).
    pub fn scorecards(&self, config: &Config) -> Vec<Scorecard> {
        use coco_insights::journey::scorecard::Severity;
        let mut cards =
            coco_insights::parallel::map_ordered(self.base.frame.account_count(), 2_000, |a| {
                scorecard(
                    &self.base,
                    config,
                    &self.stages,
                    &self.comparison,
                    &self.milestones.churn_links,
                    a,
                )
            });
        let rank = |s: Severity| match s {
            Severity::Intervene => 0,
            Severity::Watch => 1,
            Severity::OnTrack => 2,
        };
        cards.sort_by(|a, b| {
            rank(a.severity)
                .cmp(&rank(b.severity))
                .then(b.deviations.cmp(&a.deviations))
                .then_with(|| a.account_id.cmp(&b.account_id))
        });
        cards
    }
}

/// All the lifecycle analyses as of `as_of`. `opportunities`: the expansion pipeline
/// of the same date when the caller has it (expansion potential from it), else the
/// proxy.
pub fn overview(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    opportunities: Option<&[coco_insights::expansion::Opportunity]>,
) -> Result<LifecycleOverview, EngineError> {
    let started = std::time::Instant::now();
    let base = load_base(store, config, as_of)?;
    let stages = stage_book(&base, config);
    tracing::info!("lifecycle: stages in {:.2?}", started.elapsed());
    // Tiers and workload on this thread, the journey's history analyses on a second
    // store handle meanwhile: on two cores their queries and computing overlap.
    let journey_store = store.try_clone()?;
    let (tiers, journey) = std::thread::scope(|scope| {
        let (base, stages) = (&base, &stages);
        let journey = scope.spawn(move || -> Result<_, EngineError> {
            let journey_store = journey_store;
            let milestones = milestone_analytics(base, config);
            let comparison = compare(&journey_store, base, config)?;
            let dropoff = dropoff(base, config, stages);
            let onboarding = onboarding(base, config);
            let silent = silent(base, config);
            Ok((milestones, comparison, dropoff, onboarding, silent))
        });
        let tiers = (|| -> Result<_, EngineError> {
            let segments = segments(
                base,
                config,
                opportunities.map(|o| expansion_potential(base, o)),
            );
            let misalignment = misalignment(&segments, config);
            let migration = migration(store, base, &segments, config)?;
            let workload = workload(base, config, stages, &segments);
            let rebalance = rebalance(base, config, stages, &workload);
            Ok((segments, misalignment, migration, workload, rebalance))
        })();
        let journey = journey
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (tiers, journey)
    });
    let (segments, misalignment, migration, workload, rebalance) = tiers?;
    let (milestones, comparison, dropoff, onboarding, silent) = journey?;
    tracing::info!(
        "lifecycle: tiers, workload and journey in {:.2?}",
        started.elapsed()
    );
    Ok(LifecycleOverview {
        stage_counts: stage_distribution(&base, config, &stages),
        base,
        stages,
        segments,
        misalignment,
        migration,
        workload,
        rebalance,
        milestones,
        comparison,
        dropoff,
        onboarding,
        silent,
    })
}
