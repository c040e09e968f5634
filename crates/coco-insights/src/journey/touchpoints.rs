//! Touchpoints (J8): every interaction of an account on one timeline, its silent periods
//! (no touchpoint for `silent_days`), and stakeholder coverage — which contacts were
//! engaged (met, called, emailed, surveyed) in the last `engaged_days`, which roles that
//! covers, and whether the relationship hangs on one person (single-threaded).

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::JourneyConfig;

/// One thing that happened with an account, from any source table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEvent {
    pub at: NaiveDateTime,
    /// `touchpoint`, `ticket`, `survey`, `milestone`, `billing`, `feedback`, `contact`,
    /// `outcome`.
    pub source: String,
    /// The row's kind within its source (`qbr`, `urgent`, `nps`, `invoice`, …).
    pub kind: String,
    /// The source row's id: the evidence.
    pub id: String,
    pub title: String,
    pub contact_id: Option<String>,
    pub csm_id: Option<String>,
    /// A touchpoint: an interaction with people (meeting, call, email, review, …).
    pub is_touch: bool,
}

/// A contact of the account as known at the date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactInfo {
    pub contact_id: String,
    pub name: Option<String>,
    pub role: String,
    pub title: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SilentPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    /// Still silent at the as-of date.
    pub ongoing: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EngagedContact {
    pub contact_id: String,
    pub name: Option<String>,
    pub role: String,
    pub last_engaged: NaiveDate,
    pub interactions: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StakeholderCoverage {
    pub active_contacts: usize,
    pub engaged: Vec<EngagedContact>,
    /// Roles of active contacts nobody engaged in the window.
    pub roles_not_engaged: Vec<String>,
    pub single_threaded: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountTimeline {
    pub account_id: String,
    pub as_of: NaiveDate,
    pub events: Vec<TimelineEvent>,
    pub touches_last_90_days: usize,
    pub last_touch: Option<NaiveDate>,
    pub days_since_last_touch: Option<i64>,
    pub silent_periods: Vec<SilentPeriod>,
    pub stakeholders: StakeholderCoverage,
}

/// Gaps longer than `silent_days` between touches in `[from, as_of]`.
pub fn silent_periods(
    touches: &[NaiveDate],
    from: NaiveDate,
    as_of: NaiveDate,
    silent_days: u32,
) -> Vec<SilentPeriod> {
    let mut dates: Vec<NaiveDate> = touches
        .iter()
        .copied()
        .filter(|d| *d >= from && *d <= as_of)
        .collect();
    dates.sort();
    dates.dedup();
    let mut periods = Vec::new();
    let mut previous = from;
    for date in dates.iter().copied().chain(std::iter::once(as_of)) {
        let days = (date - previous).num_days();
        if days > i64::from(silent_days) {
            periods.push(SilentPeriod {
                from: previous,
                to: date,
                days,
                ongoing: date == as_of && dates.last().is_none_or(|l| *l < as_of),
            });
        }
        previous = date;
    }
    periods
}

/// The timeline view of one account: events newest first, silence over the last year,
/// stakeholders engaged in the window.
pub fn timeline(
    config: &JourneyConfig,
    account_id: &str,
    as_of: NaiveDate,
    since: NaiveDate,
    mut events: Vec<TimelineEvent>,
    contacts: &[ContactInfo],
) -> AccountTimeline {
    events.retain(|e| e.at.date() <= as_of);
    events.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
    let touches: Vec<NaiveDate> = events
        .iter()
        .filter(|e| e.is_touch)
        .map(|e| e.at.date())
        .collect();
    let window_start = as_of - chrono::Days::new(u64::from(config.touchpoints.engaged_days));
    let last_touch = touches.first().copied();
    let mut engaged: Vec<EngagedContact> = Vec::new();
    for e in events
        .iter()
        .filter(|e| e.at.date() > window_start && (e.is_touch || e.source == "survey"))
    {
        let Some(contact_id) = &e.contact_id else {
            continue;
        };
        // Only people still there count towards multi-threading.
        let Some(contact) = contacts
            .iter()
            .find(|c| &c.contact_id == contact_id && c.active)
        else {
            continue;
        };
        match engaged.iter_mut().find(|c| &c.contact_id == contact_id) {
            Some(c) => c.interactions += 1,
            None => engaged.push(EngagedContact {
                contact_id: contact_id.clone(),
                name: contact.name.clone(),
                role: contact.role.clone(),
                last_engaged: e.at.date(),
                interactions: 1,
            }),
        }
    }
    let active: Vec<&ContactInfo> = contacts.iter().filter(|c| c.active).collect();
    let mut roles_not_engaged: Vec<String> = active
        .iter()
        .filter(|c| !engaged.iter().any(|e| e.role == c.role))
        .map(|c| c.role.clone())
        .collect();
    roles_not_engaged.sort();
    roles_not_engaged.dedup();
    let silence_from = since.max(as_of - chrono::Days::new(365));
    AccountTimeline {
        account_id: account_id.to_string(),
        as_of,
        touches_last_90_days: touches
            .iter()
            .filter(|d| (as_of - **d).num_days() < 90)
            .count(),
        last_touch,
        days_since_last_touch: last_touch.map(|d| (as_of - d).num_days()),
        silent_periods: silent_periods(
            &touches,
            silence_from,
            as_of,
            config.touchpoints.silent_days,
        ),
        stakeholders: StakeholderCoverage {
            active_contacts: active.len(),
            single_threaded: engaged.len() <= config.touchpoints.single_threaded_max,
            engaged,
            roles_not_engaged,
        },
        events,
    }
}

/// An account silent for at least `silent_days`, for the portfolio list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SilentAccount {
    pub account_id: String,
    pub account_name: String,
    pub owner_csm_id: Option<String>,
    pub coverage_model: Option<String>,
    pub arr: Option<f64>,
    /// `None`: no touchpoint on record at all.
    pub days_since_last_touch: Option<f64>,
    pub contacts_engaged_90d: Option<f64>,
    pub single_threaded: bool,
    pub days_to_renewal: Option<f64>,
}

/// Accounts without a touchpoint for `silent_days` (from the snapshot's
/// `days_since_last_touchpoint`; no touchpoint ever counts as silent), largest ARR first.
pub fn silent_accounts(
    config: &JourneyConfig,
    values: &crate::values::Values<'_>,
    names: &[String],
) -> Vec<SilentAccount> {
    let since = values.resolve("days_since_last_touchpoint");
    let engaged = values.resolve("contacts_engaged_90d");
    let renewal = values.resolve("days_to_renewal");
    let threshold = f64::from(config.touchpoints.silent_days);
    let mut out: Vec<SilentAccount> = (0..values.frame.account_count())
        .filter_map(|account| {
            let days = values.get(since, account);
            if days.is_some_and(|d| d < threshold) {
                return None;
            }
            let contacts = values.get(engaged, account);
            Some(SilentAccount {
                account_id: values.frame.accounts[account].account_id.clone(),
                account_name: names.get(account).cloned().unwrap_or_default(),
                owner_csm_id: values.text("owner_csm_id", account).map(str::to_string),
                coverage_model: values.text("coverage_model", account).map(str::to_string),
                arr: values.value("arr", account),
                days_since_last_touch: days,
                contacts_engaged_90d: contacts,
                single_threaded: contacts
                    .is_none_or(|c| c <= config.touchpoints.single_threaded_max as f64),
                days_to_renewal: values.get(renewal, account),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.arr
            .unwrap_or(0.0)
            .total_cmp(&a.arr.unwrap_or(0.0))
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    out
}
