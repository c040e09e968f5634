//! Adoption over the store: the analyzer's inputs as of a date (snapshot, per-feature
//! usage, milestones, the retention link of every feature from past renewals) and the
//! services the surfaces call — profiles and gaps, the heatmap, enablement plans, time
//! to value, the progress report against a baseline, and campaigns.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use coco_insights::adoption::campaign::{
    CampaignAccount, CampaignReport, CampaignRule, in_holdout,
};
use coco_insights::adoption::causes::CauseGroup;
use coco_insights::adoption::gaps::{RenewalUsage, RetentionLink, retention_links};
use coco_insights::adoption::plan::EnablementPlan;
use coco_insights::adoption::progress::{AdoptionReport, BaselinePoint};
use coco_insights::adoption::ttv::TimeToValue;
use coco_insights::adoption::{AccountAdoption, AdoptionInputs, Heatmap, MilestoneState, level_of};
use coco_store::Store;
use coco_store::growth::CampaignRow;
use serde::Serialize;

use crate::growth::{GrowthBase, account_index, load_base};
use crate::{Config, EngineError};

pub struct AdoptionData {
    pub base: Arc<GrowthBase>,
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

/// The account attributes the heatmap's columns group by and campaigns select on.
pub const HEATMAP_GROUPS: &[&str] = &[
    "segment",
    "plan_tier",
    "industry",
    "region",
    "coverage_model",
    "owner_csm_id",
];

/// Milestones and the retention link of every feature, over a loaded base.
pub fn from_base(
    store: &Store,
    config: &Config,
    base: Arc<GrowthBase>,
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

/// Every account's adoption as of a date, computed once: profiles, gaps, causes and
/// time to value; one account's view (with its plan) is read from it.
pub struct Book {
    pub data: AdoptionData,
    pub accounts: Vec<AccountAdoption>,
    pub time_to_value: Vec<TimeToValue>,
}

/// One account's profile, gaps, cause, 90-day plan and time to value.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountAdoptionView {
    pub adoption: AccountAdoption,
    pub plan: Option<EnablementPlan>,
    pub time_to_value: Option<TimeToValue>,
}

impl Book {
    pub fn as_of(&self) -> NaiveDate {
        self.data.base.snapshot.as_of
    }

    /// One account's view; its plan is made here (cheap).
    pub fn view(
        &self,
        config: &Config,
        account_id: &str,
    ) -> Result<AccountAdoptionView, EngineError> {
        let frame = &self.data.base.frame;
        let index = account_index(frame, account_id)?;
        let adoption = self.accounts[index].clone();
        let active_users = frame
            .metric_index("active_users_30d")
            .and_then(|m| frame.value(index, m));
        let plan = coco_insights::adoption::plan::plan(&adoption, &config.adoption, active_users);
        Ok(AccountAdoptionView {
            adoption,
            plan,
            time_to_value: self.time_to_value.get(index).cloned(),
        })
    }

    /// The heatmap over the book's accounts.
    pub fn heatmap(&self, group_by: &str) -> Result<Heatmap, EngineError> {
        if !HEATMAP_GROUPS.contains(&group_by) {
            return Err(EngineError::Invalid(format!(
                "cannot group the heatmap by `{group_by}` ({})",
                HEATMAP_GROUPS.join(", ")
            )));
        }
        Ok(coco_insights::adoption::heatmap(
            &self.data.inputs(),
            group_by,
        ))
    }

    /// Low-adoption accounts grouped by root cause.
    pub fn cause_groups(&self) -> Vec<CauseGroup> {
        coco_insights::adoption::causes::groups(&self.accounts)
    }
}

pub fn book(store: &Store, config: &Config, as_of: NaiveDate) -> Result<Book, EngineError> {
    book_from(store, config, load_base(store, config, as_of)?)
}

pub fn book_from(
    store: &Store,
    config: &Config,
    base: Arc<GrowthBase>,
) -> Result<Book, EngineError> {
    let data = from_base(store, config, base)?;
    let started = std::time::Instant::now();
    let inputs = data.inputs();
    let accounts = coco_insights::adoption::analyse(&inputs, &config.adoption);
    let time_to_value = coco_insights::adoption::ttv::time_to_value(
        &inputs,
        &config.adoption,
        &data.base.activity,
        data.base.usage_start,
    );
    tracing::info!("adoption: analysis in {:.2?}", started.elapsed());
    Ok(Book {
        data,
        accounts,
        time_to_value,
    })
}

/// The heatmap as an SVG chart (features × groups, share of accounts with access), to
/// inline in a page styled with `coco_charts::STYLESHEET`.
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
                        "{name} · {group}: {} ({} of {} accounts with access)",
                        coco_charts::format_value(share * 100.0, coco_charts::ValueFormat::Percent),
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

/// The heatmap as a standalone SVG file: the chart with the chart stylesheet inside it,
/// so it renders the same outside the dashboard.
pub fn heatmap_svg_document(heatmap: &Heatmap) -> String {
    let svg = heatmap_svg(heatmap);
    match svg.find('>') {
        Some(end) => format!(
            "{}<style>{}</style>{}",
            &svg[..=end],
            coco_charts::STYLESHEET,
            &svg[end + 1..]
        ),
        None => svg,
    }
}

/// The monthly adoption report: the book against the snapshot nearest to the baseline,
/// whose stored metrics give each account's level, breadth and depth then.
pub fn report(
    store: &Store,
    config: &Config,
    book: &Book,
    attention_limit: usize,
) -> Result<AdoptionReport, EngineError> {
    let current = &book.data.base.snapshot;
    let fingerprint = config.catalogue.fingerprint();
    let baseline = match current
        .as_of
        .checked_sub_days(Days::new(u64::from(config.adoption.progress.baseline_days)))
    {
        Some(day) => store
            .snapshot_on_or_before(day, &fingerprint)?
            .filter(|s| s.snapshot_id != current.snapshot_id),
        None => None,
    };
    let mut then = Vec::new();
    if let Some(snapshot) = &baseline {
        let accounts: Vec<String> = book
            .data
            .base
            .frame
            .accounts
            .iter()
            .map(|a| a.account_id.clone())
            .collect();
        let metrics: Vec<String> = [
            "core_features_used_90d",
            "feature_adoption_90d",
            "events_per_active_user_30d",
        ]
        .iter()
        .map(|m| m.to_string())
        .collect();
        let values = store.metric_series(&[snapshot.snapshot_id], &metrics, &accounts)?;
        let value = |m: usize, a: usize| Some(values[m][0][a]).filter(|v| v.is_finite());
        for (a, account_id) in accounts.iter().enumerate() {
            // An account not in the baseline snapshot has no value of either metric.
            let (Some(core_used), breadth) = (value(0, a), value(1, a)) else {
                continue;
            };
            then.push(BaselinePoint {
                account_id: account_id.clone(),
                level: level_of(core_used as usize, breadth, &config.adoption),
                breadth,
                depth: value(2, a),
            });
        }
    }
    Ok(coco_insights::adoption::progress::report(
        &book.accounts,
        &then,
        baseline.map(|s| s.as_of),
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
    if let Some(unknown) = rule
        .when
        .keys()
        .find(|name| !HEATMAP_GROUPS.contains(&name.as_str()))
    {
        return Err(EngineError::Invalid(format!(
            "a campaign cannot select on `{unknown}` (it can on {})",
            HEATMAP_GROUPS.join(", ")
        )));
    }
    let base = load_base(store, config, start)?;
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
