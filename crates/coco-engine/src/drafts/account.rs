//! One account's facts, as every account document (outreach, QBR, plan) sees them:
//! gathered from the analyzers' outputs as of a date, each value cited with the metric or
//! field, the date and the record it came from. The keys are documented in
//! `docs/drafts.md`; templates read nothing else.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use coco_drafts::document::Chart;
use coco_drafts::facts::{Citation, Facts};
use coco_insights::adoption::Level;
use coco_insights::expansion::OpportunityKind;
use coco_store::Store;
use coco_store::actions::AlertFilter;
use coco_store::read_model::AccountReadModel;

use crate::account::{AccountView, account_view, account_view_from};
use crate::{Config, EngineError};

/// How far back a document measures the health change: a month (the daily account page
/// looks back a week).
pub const COMPARE_DAYS: u32 = 30;
/// Adoption gaps and expansion opportunities a draft may name.
const GAPS: usize = 3;
const OPPORTUNITIES: usize = 2;
const DRIVERS: usize = 3;

/// The book-wide inputs an account document reads besides the account's own rows: the
/// growth base (frame, per-feature usage, weekly history) with the adoption and expansion
/// inputs built on it — the peers' feature shares, the look-alikes. Loading them is most
/// of a draft's cost on a large book (seconds at 100,000 accounts, `coco-bench drafts`),
/// so a process writing many drafts as of one date loads them once and passes them in.
pub struct BookInputs {
    base: std::sync::Arc<crate::growth::GrowthBase>,
    adoption: crate::adoption::AdoptionData,
    expansion: crate::expansion::ExpansionData,
}

/// What a process writing many drafts already holds in memory; each part is optional.
#[derive(Clone, Copy, Default)]
pub struct Preloaded<'a> {
    pub book: Option<&'a BookInputs>,
    /// The accounts' evidence views (a read model holding the snapshot a draft compares
    /// with, `COMPARE_DAYS` earlier): the same answers as the store, without its reads.
    pub views: Option<&'a AccountReadModel>,
}

impl BookInputs {
    /// The inputs as of the latest snapshot on or before `as_of`.
    pub fn load(store: &Store, config: &Config, as_of: NaiveDate) -> Result<Self, EngineError> {
        let base = crate::growth::load_base(store, config, as_of)?;
        let adoption = crate::adoption::from_base(store, config, base.clone())?;
        let expansion = crate::expansion::from_base(store, config, base.clone(), true)?;
        Ok(BookInputs {
            base,
            adoption,
            expansion,
        })
    }

    /// The snapshot date the inputs are of.
    pub fn as_of(&self) -> NaiveDate {
        self.base.snapshot.as_of
    }
}

/// What account documents are written from.
pub struct AccountFacts {
    pub facts: Facts,
    pub charts: BTreeMap<String, Chart>,
    pub view: AccountView,
    /// The profile of the account's most severe open alert (the outreach motive).
    pub alert_profile: Option<String>,
    pub has_gaps: bool,
    pub has_opportunities: bool,
    pub days_since_touchpoint: Option<f64>,
}

pub(crate) fn cite(source: &str, as_of: Option<NaiveDate>, record: Option<String>) -> Citation {
    Citation {
        source: source.to_string(),
        as_of,
        record,
    }
}

/// `account.id`, `account.name` (the id when it has none) and `as_of`, the date of the
/// snapshot the account's view is of: what every account document starts from.
pub(crate) fn push_identity(facts: &mut Facts, view: &AccountView) {
    let record = Some(format!("accounts {}", view.account_id));
    facts.text(
        "account.id",
        &view.account_id,
        cite("accounts.account_id", None, record.clone()),
    );
    facts.text(
        "account.name",
        view.name.clone().unwrap_or_else(|| view.account_id.clone()),
        cite("accounts.name", None, record),
    );
    facts.date(
        "as_of",
        view.as_of,
        cite(
            "snapshot.as_of",
            Some(view.as_of),
            Some(format!("snapshot {}", view.snapshot_id)),
        ),
    );
}

fn level_name(level: Level) -> &'static str {
    level.as_str()
}

/// Gathers the facts of `account_id` as of `as_of` (the latest snapshot on or before it;
/// alerts, contacts and adoption as known then).
pub fn gather(
    store: &Store,
    config: &Config,
    account_id: &str,
    as_of: NaiveDate,
    period_days: u32,
    trend_metrics: &[String],
    chart_weeks: usize,
) -> Result<AccountFacts, EngineError> {
    gather_with(
        store,
        config,
        Preloaded::default(),
        account_id,
        as_of,
        period_days,
        trend_metrics,
        chart_weeks,
    )
}

/// [`gather`] with what is already in memory (the rest is read here). Book inputs of
/// another snapshot than the account's as of `as_of` are not used.
#[allow(clippy::too_many_arguments)]
pub fn gather_with(
    store: &Store,
    config: &Config,
    preloaded: Preloaded<'_>,
    account_id: &str,
    as_of: NaiveDate,
    period_days: u32,
    trend_metrics: &[String],
    chart_weeks: usize,
) -> Result<AccountFacts, EngineError> {
    let book = preloaded.book;
    let in_memory = preloaded
        .views
        .filter(|views| views.answers_views_as_of(as_of));
    // A read model built for another comparison does not hold the earlier snapshot
    // this one reads: the store answers then.
    let view = match in_memory
        .map(|views| account_view_from(views, config, account_id, as_of, COMPARE_DAYS))
    {
        Some(Ok(view)) => view,
        _ => account_view(store, config, account_id, as_of, COMPARE_DAYS)?,
    };
    let snapshot_as_of = view.as_of;
    let at = Some(snapshot_as_of);
    let snapshot_record = Some(format!("snapshot {}", view.snapshot_id));
    let account_record = Some(format!("accounts {account_id}"));
    let mut facts = Facts::default();

    let attributes = &view.attributes;
    push_identity(&mut facts, &view);
    for (key, value) in [
        ("segment", &attributes.segment),
        ("industry", &attributes.industry),
        ("region", &attributes.region),
        ("plan_tier", &attributes.plan_tier),
        ("coverage_model", &attributes.coverage_model),
    ] {
        if let Some(value) = value {
            facts.text(
                &format!("account.{key}"),
                value,
                cite(&format!("accounts.{key}"), at, account_record.clone()),
            );
        }
    }
    if let Some(arr) = attributes.arr {
        facts.number(
            "account.arr",
            arr,
            cite("contracts.arr", at, snapshot_record.clone()),
        );
    }
    if let Some(seats) = attributes.seats {
        facts.number(
            "account.seats",
            seats as f64,
            cite("contracts.seats", at, snapshot_record.clone()),
        );
    }
    if let Some(renewal) = attributes.renewal_date {
        facts.date(
            "account.renewal_date",
            renewal,
            cite("contracts.end_date", at, snapshot_record.clone()),
        );
        facts.number(
            "account.days_to_renewal",
            (renewal - snapshot_as_of).num_days() as f64,
            cite("days_to_renewal", at, snapshot_record.clone()),
        );
    }
    if let Some(since) = attributes.customer_since {
        facts.date(
            "account.customer_since",
            since,
            cite("accounts.customer_since", None, account_record.clone()),
        );
    }
    if let Some(csm_id) = &attributes.owner_csm_id {
        let team = store.csm_team()?;
        if let Some(csm) = team.iter().find(|c| &c.csm_id == csm_id) {
            facts.text(
                "csm.name",
                &csm.name,
                cite("csms.name", None, Some(format!("csms {csm_id}"))),
            );
        }
    }

    // Health: the score, its colour, the change and what drove it.
    if let Some(score) = view.health.score {
        facts.number(
            "health.score",
            score,
            cite("health_score", at, snapshot_record.clone()),
        );
    }
    facts.text(
        "health.colour",
        view.health.colour.as_str(),
        cite("health_colour", at, snapshot_record.clone()),
    );
    if let (Some(change), Some(before_date)) = (&view.change, view.compared_with) {
        let before = Some(before_date);
        facts.date(
            "health.compared_with",
            before_date,
            cite("snapshot.as_of", before, None),
        );
        facts.number(
            "health.previous",
            change.score_before,
            cite("health_score", before, None),
        );
        facts.number(
            "health.change",
            change.delta,
            cite("health_score change", at, snapshot_record.clone()),
        );
        facts.number(
            "health.change_abs",
            change.delta.abs(),
            cite("health_score change", at, snapshot_record.clone()),
        );
    }
    for (i, decline) in view.declines.iter().take(DRIVERS).enumerate() {
        let key = format!("health.declines.{i}");
        let described = describe_metric(config, &decline.metric);
        facts.text(
            &format!("{key}.metric"),
            &decline.metric,
            cite("metric", None, None),
        );
        facts.text(
            &format!("{key}.description"),
            described,
            cite("metric catalogue", None, None),
        );
        facts.number(
            &format!("{key}.points"),
            decline.contribution.abs(),
            cite(
                &format!("{} contribution to health_score", decline.metric),
                at,
                snapshot_record.clone(),
            ),
        );
        if let Some(before) = decline.value_before {
            facts.number(
                &format!("{key}.before"),
                before,
                cite(&decline.metric, view.compared_with, None),
            );
        }
        if let Some(after) = decline.value_after {
            facts.number(
                &format!("{key}.after"),
                after,
                cite(&decline.metric, at, snapshot_record.clone()),
            );
        }
        facts.text(
            &format!("{key}.unit"),
            metric_unit(config, &decline.metric),
            cite("metric catalogue", None, None),
        );
        facts.text(
            &format!("{key}.kind"),
            match decline.assessment.kind {
                coco_insights::DeclineKind::TemporaryDip => "dip",
                coco_insights::DeclineKind::StructuralDecline => "structural",
                coco_insights::DeclineKind::TooEarlyToTell
                | coco_insights::DeclineKind::NotADecline => "too_early",
            },
            cite("decline assessment", at, None),
        );
    }

    // Every metric now, at the period's start and the change: the trends documents show.
    let period_start = snapshot_as_of - Days::new(u64::from(period_days));
    facts.date(
        "period.start",
        period_start,
        cite("review period", None, None),
    );
    facts.number(
        "period.days",
        f64::from(period_days),
        cite("config/drafts.toml [qbr] period_days", None, None),
    );
    for evidence in &view.evidence {
        let key = format!("metrics.{}", evidence.metric);
        facts.number(
            &format!("{key}.value"),
            evidence.value,
            cite(&evidence.metric, at, snapshot_record.clone()),
        );
        if let Some(median) = evidence.cohorts.first().and_then(|c| c.median) {
            let cohort = &evidence.cohorts[0];
            facts.number(
                &format!("{key}.cohort_median"),
                median,
                cite(
                    &format!(
                        "{} median of cohort {}={}",
                        evidence.metric, cohort.dimension, cohort.cohort
                    ),
                    at,
                    snapshot_record.clone(),
                ),
            );
            facts.number(
                &format!("{key}.percentile"),
                cohort.percentile,
                cite(
                    &format!("{} percentile in cohort", evidence.metric),
                    at,
                    snapshot_record.clone(),
                ),
            );
            facts.text(
                &format!("{key}.cohort"),
                &cohort.cohort,
                cite("cohort", at, None),
            );
        }
        let then = evidence
            .history
            .iter()
            .rev()
            .find(|(date, value)| *date <= period_start && value.is_some())
            .and_then(|(date, value)| value.map(|v| (*date, v)));
        if let Some((date, then)) = then {
            facts.number(
                &format!("{key}.then"),
                then,
                cite(&evidence.metric, Some(date), None),
            );
            facts.number(
                &format!("{key}.change"),
                evidence.value - then,
                cite(
                    &format!("{} change since {date}", evidence.metric),
                    at,
                    None,
                ),
            );
            facts.number(
                &format!("{key}.change_abs"),
                (evidence.value - then).abs(),
                cite(
                    &format!("{} change since {date}", evidence.metric),
                    at,
                    None,
                ),
            );
            if then.abs() > f64::EPSILON {
                facts.number(
                    &format!("{key}.change_share"),
                    (evidence.value - then) / then.abs(),
                    cite(
                        &format!("{} relative change since {date}", evidence.metric),
                        at,
                        None,
                    ),
                );
            }
        }
    }
    for (i, metric) in trend_metrics.iter().enumerate() {
        if view.evidence.iter().any(|e| &e.metric == metric) {
            facts.text(
                &format!("trends.{i}.metric"),
                metric,
                cite("config/drafts.toml [qbr] trend_metrics", None, None),
            );
            facts.text(
                &format!("trends.{i}.description"),
                describe_metric(config, metric),
                cite("metric catalogue", None, None),
            );
            facts.text(
                &format!("trends.{i}.unit"),
                metric_unit(config, metric),
                cite("metric catalogue", None, None),
            );
        }
    }

    let mut charts = BTreeMap::new();
    let health_points: Vec<(NaiveDate, f64)> = view
        .history
        .iter()
        .filter_map(|p| p.score.map(|s| (p.as_of, s)))
        .collect();
    charts.insert(
        "health".to_string(),
        chart("health_score", "", &health_points, chart_weeks),
    );
    if let Some(evidence) = view
        .evidence
        .iter()
        .find(|e| e.metric == "active_users_30d")
    {
        let points: Vec<(NaiveDate, f64)> = evidence
            .history
            .iter()
            .filter_map(|(d, v)| v.map(|v| (*d, v)))
            .collect();
        charts.insert(
            "active_users".to_string(),
            chart("active_users_30d", "", &points, chart_weeks),
        );
    }

    // Contacts known then: the champion and the executive sponsor by name.
    for contact in store.account_contacts(account_id, snapshot_as_of)? {
        if !contact.active {
            continue;
        }
        let Some(name) = contact.name.clone() else {
            continue;
        };
        let key = match contact.role.as_str() {
            "champion" => "contacts.champion",
            "exec_sponsor" | "executive_sponsor" => "contacts.sponsor",
            _ => continue,
        };
        if facts.get(&format!("{key}.name")).is_none() {
            let record = Some(format!("contacts {}", contact.contact_id));
            facts.text(
                &format!("{key}.name"),
                name,
                cite("contacts.name", at, record.clone()),
            );
            if let Some(title) = &contact.title {
                facts.text(
                    &format!("{key}.title"),
                    title,
                    cite("contacts.title", at, record),
                );
            }
        }
    }

    // Open alerts as of the date, most severe first.
    let mut alerts = store.alerts(&AlertFilter {
        statuses: vec!["open".into(), "acknowledged".into(), "snoozed".into()],
        account_id: Some(account_id.to_string()),
        opened_on_or_before: Some(as_of),
        ..AlertFilter::default()
    })?;
    alerts.sort_by_key(|a| (severity_rank(&a.severity), a.opened_on));
    for (i, alert) in alerts.iter().take(3).enumerate() {
        let record = Some(format!("alerts {}", alert.alert_id));
        facts.text(
            &format!("alerts.{i}.headline"),
            &alert.headline,
            cite("alerts.headline", Some(alert.last_seen_on), record.clone()),
        );
        facts.text(
            &format!("alerts.{i}.rule"),
            &alert.rule_id,
            cite("alerts.rule_id", None, record.clone()),
        );
        facts.date(
            &format!("alerts.{i}.opened_on"),
            alert.opened_on,
            cite("alerts.opened_on", None, record),
        );
    }
    let alert_profile = alerts.first().map(|a| a.profile.clone());

    // Adoption and expansion, from one load of the growth analyses' inputs.
    let loaded;
    let book = match book {
        Some(book) if book.as_of() == snapshot_as_of => book,
        _ => {
            loaded = BookInputs::load(store, config, as_of)?;
            &loaded
        }
    };
    let base = &book.base;
    let adoption_data = &book.adoption;
    let index = crate::growth::account_index(&base.frame, account_id)?;
    let adoption =
        coco_insights::adoption::analyse_account(&adoption_data.inputs(), &config.adoption, index);
    let adoption_at = Some(base.snapshot.as_of);
    let profile = &adoption.profile;
    facts.text(
        "adoption.level",
        level_name(profile.level),
        cite("adoption level", adoption_at, snapshot_record.clone()),
    );
    facts.number(
        "adoption.used",
        profile.used as f64,
        cite("features used", adoption_at, None),
    );
    facts.number(
        "adoption.entitled",
        profile.entitled as f64,
        cite("features entitled", adoption_at, None),
    );
    facts.number(
        "adoption.core_used",
        profile.core_used as f64,
        cite("core features used", adoption_at, None),
    );
    facts.number(
        "adoption.core_entitled",
        profile.core_entitled as f64,
        cite("core features entitled", adoption_at, None),
    );
    if let Some(breadth) = profile.breadth {
        facts.number(
            "adoption.breadth",
            breadth,
            cite("adoption breadth (used ÷ entitled)", adoption_at, None),
        );
    }
    for (i, gap) in adoption.gaps.iter().take(GAPS).enumerate() {
        let key = format!("adoption.gaps.{i}");
        facts.text(
            &format!("{key}.name"),
            &gap.name,
            cite(
                "features.name",
                None,
                Some(format!("features {}", gap.feature_key)),
            ),
        );
        facts.text(
            &format!("{key}.module"),
            &gap.module,
            cite("features.module", None, None),
        );
        if let Some(share) = gap.peer_share {
            facts.number(
                &format!("{key}.peer_share"),
                share,
                cite(
                    &format!(
                        "share of {} peers using {}",
                        gap.peer_group.as_deref().unwrap_or("segment"),
                        gap.feature_key
                    ),
                    adoption_at,
                    None,
                ),
            );
        }
        if let Some(resource) = &gap.resources {
            facts.text(
                &format!("{key}.resource"),
                resource,
                cite("features.resources", None, None),
            );
        }
    }
    let active_users = view
        .evidence
        .iter()
        .find(|e| e.metric == "active_users_30d")
        .map(|e| e.value);
    let plan = coco_insights::adoption::plan::plan(&adoption, &config.adoption, active_users);
    if let Some(plan) = &plan {
        facts.date(
            "plan.starts_on",
            plan.starts_on,
            cite("enablement plan", adoption_at, None),
        );
        if let Some(response) = &plan.cause_response {
            facts.text(
                "plan.cause_response",
                response,
                cite("adoption root cause", adoption_at, None),
            );
        }
        if let Some(cause) = &plan.cause {
            facts.text(
                "plan.cause",
                cause,
                cite("adoption root cause", adoption_at, None),
            );
        }
        for (i, feature) in plan.features.iter().enumerate() {
            let key = format!("plan.features.{i}");
            facts.text(
                &format!("{key}.name"),
                &feature.name,
                cite(
                    "features.name",
                    None,
                    Some(format!("features {}", feature.feature_key)),
                ),
            );
            facts.number(
                &format!("{key}.target_users"),
                f64::from(feature.target_users),
                cite("enablement plan target users", adoption_at, None),
            );
            facts.number(
                &format!("{key}.first_week"),
                feature.first_week as f64,
                cite("enablement plan week", None, None),
            );
            facts.number(
                &format!("{key}.last_week"),
                feature.last_week as f64,
                cite("enablement plan week", None, None),
            );
        }
        for (i, week) in plan.weeks.iter().enumerate() {
            let key = format!("plan.weeks.{i}");
            facts.number(
                &format!("{key}.week"),
                week.week as f64,
                cite("enablement plan week", None, None),
            );
            facts.date(
                &format!("{key}.starts_on"),
                week.starts_on,
                cite("enablement plan week", None, None),
            );
            facts.text(
                &format!("{key}.focus"),
                &week.focus,
                cite("enablement plan", None, None),
            );
        }
        for (i, milestone) in plan.milestones.iter().enumerate() {
            let key = format!("plan.milestones.{i}");
            facts.number(
                &format!("{key}.day"),
                f64::from(milestone.day),
                cite("enablement plan milestone", None, None),
            );
            facts.date(
                &format!("{key}.date"),
                milestone.date,
                cite("enablement plan milestone", None, None),
            );
            facts.text(
                &format!("{key}.goal"),
                &milestone.goal,
                cite("enablement plan milestone", None, None),
            );
        }
        if let Some(target) = plan.breadth_target {
            facts.number(
                "plan.breadth_target",
                target,
                cite(
                    "adoption breadth if the plan's features are adopted",
                    adoption_at,
                    None,
                ),
            );
        }
    }

    let mut opportunities = coco_insights::expansion::analyse_account(
        &book.expansion.inputs(),
        &config.expansion,
        index,
    );
    opportunities.sort_by(|a, b| b.priority.total_cmp(&a.priority));
    for (i, opportunity) in opportunities.iter().take(OPPORTUNITIES).enumerate() {
        let key = format!("expansion.{i}");
        let record = Some(format!("opportunity {}", opportunity.id));
        facts.text(
            &format!("{key}.kind"),
            opportunity.kind.type_name(),
            cite("expansion opportunity", adoption_at, record.clone()),
        );
        facts.text(
            &format!("{key}.describe"),
            opportunity.kind.describe(),
            cite("expansion opportunity", adoption_at, record.clone()),
        );
        match &opportunity.kind {
            OpportunityKind::Tier { to } => facts.text(
                &format!("{key}.target"),
                to,
                cite("expansion opportunity", adoption_at, record.clone()),
            ),
            OpportunityKind::Module { module } => facts.text(
                &format!("{key}.target"),
                module,
                cite("expansion opportunity", adoption_at, record.clone()),
            ),
            OpportunityKind::Seats => {}
        }
        facts.number(
            &format!("{key}.uplift_arr"),
            opportunity.sizing.uplift_arr,
            cite("expansion sizing (uplift ARR)", adoption_at, record.clone()),
        );
        facts.number(
            &format!("{key}.win_probability"),
            opportunity.sizing.win_probability,
            cite("expansion win probability", adoption_at, record.clone()),
        );
        if let Some(seats) = opportunity.sizing.added_seats {
            facts.number(
                &format!("{key}.added_seats"),
                f64::from(seats),
                cite("expansion sizing (seats)", adoption_at, record.clone()),
            );
        }
        facts.text(
            &format!("{key}.timing"),
            opportunity.timing.light.as_str(),
            cite("expansion timing light", adoption_at, record.clone()),
        );
        for (j, goal) in opportunity.talking_points.goals.iter().take(2).enumerate() {
            facts.text(
                &format!("goals.{j}.text"),
                &goal.text,
                cite(
                    "touchpoints.notes",
                    Some(goal.date),
                    Some(format!("touchpoints {}", goal.touchpoint_id)),
                ),
            );
            facts.date(
                &format!("goals.{j}.date"),
                goal.date,
                cite(
                    "touchpoints.occurred_at",
                    None,
                    Some(format!("touchpoints {}", goal.touchpoint_id)),
                ),
            );
        }
    }
    let days_since_touchpoint = view
        .evidence
        .iter()
        .find(|e| e.metric == "days_since_last_touchpoint")
        .map(|e| e.value);

    Ok(AccountFacts {
        facts,
        charts,
        alert_profile,
        has_gaps: !adoption.gaps.is_empty(),
        has_opportunities: !opportunities.is_empty(),
        days_since_touchpoint,
        view,
    })
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        _ => 3,
    }
}

fn describe_metric(config: &Config, metric: &str) -> String {
    config
        .metric_metas()
        .into_iter()
        .find(|m| m.name == metric)
        .map(|m| m.description)
        .unwrap_or_else(|| metric.to_string())
}

fn metric_unit(config: &Config, metric: &str) -> String {
    config
        .metric_metas()
        .into_iter()
        .find(|m| m.name == metric)
        .map(|m| m.unit)
        .unwrap_or_default()
}

/// The last `weeks` points of a series as a chart.
fn chart(title: &str, unit: &str, points: &[(NaiveDate, f64)], weeks: usize) -> Chart {
    let start = points.len().saturating_sub(weeks);
    let shown = &points[start..];
    Chart {
        title: title.to_string(),
        unit: unit.to_string(),
        labels: shown
            .iter()
            .map(|(d, _)| d.format("%m-%d").to_string())
            .collect(),
        values: shown.iter().map(|(_, v)| *v).collect(),
    }
}
