//! Adoption over the store: the analyzer's inputs as of a date (snapshot, per-feature
//! usage, milestones, the retention link of every feature from past renewals) and the
//! services the surfaces call — profiles and gaps, the heatmap, enablement plans, time
//! to value, the progress report against a baseline, and campaigns.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use coco_insights::adoption::campaign::{
    CampaignAccount, CampaignReport, CampaignRule, in_holdout,
};
use coco_insights::adoption::gaps::{RenewalUsage, RetentionLink, retention_links};
use coco_insights::adoption::plan::EnablementPlan;
use coco_insights::adoption::progress::AdoptionReport;
use coco_insights::adoption::ttv::TimeToValue;
use coco_insights::adoption::{
    AccountAdoption, AdoptionInputs, AdoptionProfile, Heatmap, MilestoneState,
};
use coco_store::Store;
use coco_store::growth::CampaignRow;
use serde::Serialize;

use crate::growth::{GrowthBase, HistorySpec, account_index, load_base, load_snapshot_base};
use crate::{Config, EngineError};

pub struct AdoptionData {
    pub base: GrowthBase,
    pub milestones: Vec<Vec<MilestoneState>>,
    pub retention: Vec<RetentionLink>,
}

impl AdoptionData {
    pub fn inputs(&self) -> AdoptionInputs<'_> {
        AdoptionInputs {
            frame: &self.base.frame,
            names: &self.base.names,
            usage: &self.base.usage,
            milestones: &self.milestones,
            retention: &self.retention,
        }
    }
}

/// Profiles, gaps and causes need no earlier snapshot.
fn history_spec() -> HistorySpec {
    HistorySpec {
        metrics: Vec::new(),
        weeks: 0,
        year_ago: false,
    }
}

/// Time to value reads when users first became active: every weekly snapshot of two
/// years.
fn ttv_history_spec() -> HistorySpec {
    HistorySpec {
        metrics: vec!["active_users_30d".to_string()],
        weeks: 104,
        year_ago: false,
    }
}

pub fn load(store: &Store, config: &Config, as_of: NaiveDate) -> Result<AdoptionData, EngineError> {
    let base = load_base(store, config, as_of, &history_spec())?;
    load_rest(store, config, base)
}

/// [`load`] with the weekly history time to value reads.
fn load_with_history(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
) -> Result<AdoptionData, EngineError> {
    let base = load_base(store, config, as_of, &ttv_history_spec())?;
    load_rest(store, config, base)
}

fn load_rest(
    store: &Store,
    config: &Config,
    base: GrowthBase,
) -> Result<AdoptionData, EngineError> {
    let started = std::time::Instant::now();
    let as_of = base.snapshot.as_of;
    let index: HashMap<&str, usize> = base
        .frame
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.account_id.as_str(), i))
        .collect();
    let mut milestones: Vec<Vec<MilestoneState>> = vec![Vec::new(); base.frame.account_count()];
    for row in store.milestone_states(as_of)? {
        if let Some(&i) = index.get(row.account_id.as_str()) {
            milestones[i].push(MilestoneState {
                key: row.key,
                due: row.due,
                completed: row.completed,
            });
        }
    }
    tracing::info!("adoption: milestones in {:.2?}", started.elapsed());
    let keys: Vec<String> = base.usage.features.iter().map(|f| f.key.clone()).collect();
    let position: HashMap<&str, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let renewals: Vec<RenewalUsage> = store
        .renewal_feature_usage(
            as_of,
            config.adoption.gaps.retention_lead_days,
            config.adoption.window_days,
        )?
        .into_iter()
        .map(|r| RenewalUsage {
            account_id: r.account_id,
            renewal_date: r.renewal_date,
            churned: r.churned,
            features_used: r
                .used
                .iter()
                .filter_map(|k| position.get(k.as_str()).copied())
                .collect(),
            features_entitled: r
                .entitled
                .iter()
                .filter_map(|k| position.get(k.as_str()).copied())
                .collect(),
        })
        .collect();
    let retention = retention_links(&renewals, &keys);
    tracing::info!("adoption: retention links in {:.2?}", started.elapsed());
    Ok(AdoptionData {
        base,
        milestones,
        retention,
    })
}

/// Profiles, gaps and causes of every account.
pub fn accounts(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
) -> Result<(AdoptionData, Vec<AccountAdoption>), EngineError> {
    let data = load(store, config, as_of)?;
    let started = std::time::Instant::now();
    let all = coco_insights::adoption::analyse(&data.inputs(), &config.adoption);
    tracing::info!("adoption: analysis in {:.2?}", started.elapsed());
    Ok((data, all))
}

/// One account's profile, gaps, cause and 90-day plan.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountAdoptionView {
    pub adoption: AccountAdoption,
    pub plan: Option<EnablementPlan>,
    pub time_to_value: Option<TimeToValue>,
}

pub fn account(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    account_id: &str,
) -> Result<AccountAdoptionView, EngineError> {
    let data = load_with_history(store, config, as_of)?;
    let inputs = data.inputs();
    let index = account_index(&data.base.frame, account_id)?;
    let adoption = coco_insights::adoption::analyse_account(&inputs, &config.adoption, index);
    let active_users = data
        .base
        .frame
        .metric_index("active_users_30d")
        .and_then(|m| data.base.frame.value(index, m));
    let plan = coco_insights::adoption::plan::plan(&adoption, &config.adoption, active_users);
    let start = store.usage_history_start()?;
    let time_to_value = coco_insights::adoption::ttv::time_to_value(
        &inputs,
        &config.adoption,
        &data.base.history,
        start,
    )
    .into_iter()
    .nth(index);
    Ok(AccountAdoptionView {
        adoption,
        plan,
        time_to_value,
    })
}

pub fn heatmap(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    group_by: &str,
) -> Result<Heatmap, EngineError> {
    if ![
        "segment",
        "plan_tier",
        "industry",
        "region",
        "coverage_model",
        "owner_csm_id",
    ]
    .contains(&group_by)
    {
        return Err(EngineError::Invalid(format!(
            "cannot group the heatmap by `{group_by}` (segment, plan_tier, industry, region, coverage_model, owner_csm_id)"
        )));
    }
    let base = load_base(store, config, as_of, &history_spec())?;
    let data = AdoptionData {
        base,
        milestones: Vec::new(),
        retention: Vec::new(),
    };
    Ok(coco_insights::adoption::heatmap(&data.inputs(), group_by))
}

/// The heatmap as an SVG chart (features × groups, share of accounts with access).
pub fn heatmap_svg(heatmap: &Heatmap) -> String {
    let tooltips = heatmap
        .feature_names
        .iter()
        .enumerate()
        .map(|(f, name)| {
            heatmap
                .groups
                .iter()
                .enumerate()
                .map(|(g, group)| match heatmap.share[f][g] {
                    Some(share) => format!(
                        "{name} · {group}: {:.0}% ({} of {} accounts with access)",
                        share * 100.0,
                        heatmap.active[f][g],
                        heatmap.entitled[f][g]
                    ),
                    None => format!("{name} · {group}: no account has access"),
                })
                .collect()
        })
        .collect();
    coco_charts::HeatmapChart {
        title: format!(
            "Feature adoption by {} as of {}",
            heatmap.group_by.replace('_', " "),
            heatmap.as_of
        ),
        rows: heatmap.feature_names.clone(),
        columns: heatmap.groups.clone(),
        // The charts' percent format takes percent points.
        values: heatmap
            .share
            .iter()
            .map(|row| row.iter().map(|v| v.map(|s| s * 100.0)).collect())
            .collect(),
        tooltips: Some(tooltips),
        value_format: coco_charts::ValueFormat::Percent,
        range: Some((0.0, 100.0)),
        size: coco_charts::Size {
            width: 160 + 110 * heatmap.groups.len() as u32,
            height: 0,
        },
    }
    .render()
}

pub fn time_to_value(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
) -> Result<Vec<TimeToValue>, EngineError> {
    let data = load_with_history(store, config, as_of)?;
    let start = store.usage_history_start()?;
    Ok(coco_insights::adoption::ttv::time_to_value(
        &data.inputs(),
        &config.adoption,
        &data.base.history,
        start,
    ))
}

/// The monthly adoption report: now against the snapshot nearest to the baseline.
pub fn report(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    attention_limit: usize,
) -> Result<AdoptionReport, EngineError> {
    let (data, now) = accounts(store, config, as_of)?;
    let baseline_day = data
        .base
        .snapshot
        .as_of
        .checked_sub_days(Days::new(u64::from(config.adoption.progress.baseline_days)));
    let fingerprint = config.catalogue.fingerprint();
    let baseline = match baseline_day {
        Some(day) => store
            .snapshot_on_or_before(day, &fingerprint)?
            .filter(|s| s.snapshot_id != data.base.snapshot.snapshot_id),
        None => None,
    };
    let (then, baseline_date): (Vec<AdoptionProfile>, Option<NaiveDate>) = match baseline {
        Some(snapshot) => {
            let date = snapshot.as_of;
            let base = load_snapshot_base(store, config, snapshot, &history_spec())?;
            let earlier = AdoptionData {
                base,
                milestones: Vec::new(),
                retention: Vec::new(),
            };
            let inputs = earlier.inputs();
            let profiles = (0..inputs.frame.account_count())
                .map(|a| coco_insights::adoption::profile(&inputs, &config.adoption, a))
                .collect();
            (profiles, Some(date))
        }
        None => (Vec::new(), None),
    };
    Ok(coco_insights::adoption::progress::report(
        &now,
        &then,
        baseline_date,
        &config.adoption,
        attention_limit,
    ))
}

/// Creates a campaign: the accounts matching the rule that have access to the feature
/// and do not use it as of `start`, split into members and a holdout.
pub fn create_campaign(
    store: &Store,
    config: &Config,
    name: &str,
    rule: &CampaignRule,
    start: NaiveDate,
    created_by: Option<String>,
) -> Result<CampaignRow, EngineError> {
    if name.trim().is_empty() {
        return Err(EngineError::Invalid("a campaign needs a name".into()));
    }
    if !(0.0..1.0).contains(&rule.holdout_share) {
        return Err(EngineError::Invalid(format!(
            "the holdout share must be at least 0 and below 1, not {}",
            rule.holdout_share
        )));
    }
    let base = load_base(store, config, start, &history_spec())?;
    let Some(feature) = base.usage.feature_index(&rule.feature_key) else {
        return Err(EngineError::NotFound(format!(
            "feature `{}` is not in the feature catalogue",
            rule.feature_key
        )));
    };
    let mut accounts = Vec::new();
    for (index, row) in base.frame.accounts.iter().enumerate() {
        let gap = base
            .usage
            .of(index)
            .iter()
            .any(|u| u.feature == feature && u.entitled && !u.used());
        if gap && rule.matches(&row.attributes) {
            accounts.push((
                row.account_id.clone(),
                in_holdout(name, &row.account_id, rule.holdout_share),
            ));
        }
    }
    if accounts.is_empty() {
        return Err(EngineError::Invalid(format!(
            "no account matches: none has access to `{}` without using it and meets the rule as of {}",
            rule.feature_key, base.snapshot.as_of
        )));
    }
    let row = CampaignRow {
        name: name.to_string(),
        feature_key: rule.feature_key.clone(),
        rule: serde_json::to_string(rule).map_err(EngineError::Json)?,
        start_date: base.snapshot.as_of,
        created_by,
        members: accounts.iter().filter(|(_, h)| !h).count() as i64,
        holdout: accounts.iter().filter(|(_, h)| *h).count() as i64,
    };
    store.create_campaign(&row, &accounts)?;
    Ok(row)
}

pub fn campaign_report(
    store: &Store,
    name: &str,
    as_of: NaiveDate,
) -> Result<CampaignReport, EngineError> {
    let campaign = store
        .campaigns()?
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| {
            EngineError::NotFound(format!(
                "no campaign named `{name}` (see `coco adoption campaign list`)"
            ))
        })?;
    let accounts: Vec<CampaignAccount> = store
        .campaign_activation(name, as_of)?
        .into_iter()
        .map(|(account_id, holdout, activated_on)| CampaignAccount {
            account_id,
            holdout,
            activated_on,
        })
        .collect();
    Ok(coco_insights::adoption::campaign::report(
        name,
        &campaign.feature_key,
        campaign.start_date,
        as_of,
        &accounts,
    ))
}
