//! Per-account simulation: profile, hidden factors, contract timeline and every
//! account-level file (accounts, contracts, contacts, users, usage, tickets,
//! touchpoints, surveys, milestones, billing, outcomes, feedback, truth).
//!
//! Each account uses its own random streams seeded from (seed, account index), so the
//! output does not depend on the order or thread in which accounts are generated.

// Add-on state lives in small parallel arrays indexed by add-on.
#![allow(clippy::needless_range_loop)]

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, TimeDelta, Weekday};
use coco_core::contract::PLAN_TIERS;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::catalog::{
    ADDON_PRODUCTS, COMPANY_STEMS, COMPANY_SUFFIXES, DEPARTMENTS, FEATURES, FIRST_TEAMS,
    INDUSTRIES, LOGIN, REGION_DAY_START, REGION_WEIGHTS, REGIONS, person_name, product_of,
};
use crate::model::{Factors, Renewal, draw_renewal, geometric, normal, pick, poisson, sigmoid};
use crate::write::{RowBuf, Sink, corrupt, emit, push_date, push_digits, push_time, push_uint};
use crate::{
    ChunkOut, Ctx, DUPLICATE_EVENT_RATE, E_ACCOUNTS, E_BILLING, E_CONTACTS, E_CONTRACTS, E_DAILY,
    E_EVENTS, E_FEEDBACK, E_MILESTONES, E_OUTCOMES, E_SURVEYS, E_TICKETS, E_TOUCHPOINTS, E_USERS,
    USAGE_DAILY_EVERY, rng_for,
};

const SALT_BASE: u64 = 1;
const SALT_PROFILE: u64 = 2;
const SALT_SIM: u64 = 3;
const SALT_DIRTY: u64 = 4;
const SALT_USAGE: u64 = 5;
/// Product users and their departments, and their dirty rows: streams of their own, so
/// every other file is the same with or without them.
const SALT_USERS: u64 = 6;
const SALT_USERS_DIRTY: u64 = 7;

pub(crate) const SEGMENTS: [&str; 3] = ["enterprise", "mid_market", "smb"];
const SEGMENT_WEIGHTS: [f64; 3] = [0.12, 0.33, 0.55];

/// Yearly platform fee per tier, list price per seat per tier, discount per segment.
const PLATFORM_FEE: [f64; 3] = [1_200.0, 6_000.0, 24_000.0];
const SEAT_PRICE: [f64; 3] = [300.0, 600.0, 1_100.0];
const SEGMENT_DISCOUNT: [f64; 3] = [0.75, 0.9, 1.0];
/// Add-on price as a share of the core ARR (minimum 1,200).
const ADDON_SHARE: [f64; 2] = [0.2, 0.15];

/// Usage multipliers.
const WEEKDAY_FACTOR: f64 = 1.3;
const WEEKEND_FACTOR: f64 = 0.25;
const SEASONAL_DIP: f64 = 0.62;
const POWER_USER_SHARE: f64 = 0.2;
const POWER_USER_BOOST: f64 = 2.5;

/// Departments of product users: P(one team) = clamp(base − slope × adoption_breadth);
/// otherwise 2 to the segment's maximum.
const SINGLE_TEAM_BASE: f64 = 1.1;
const SINGLE_TEAM_SLOPE: f64 = 1.4;
const MAX_DEPARTMENTS: [usize; 3] = [6, 4, 2];
/// Probability that users added by pool growth are a team the account did not have.
const NEW_TEAM_ON_GROWTH: f64 = 0.6;

pub(crate) const TRUTH_HEADER: &[&str] = &[
    "account_id",
    "segment",
    "coverage_model",
    "owner_csm_id",
    "usage_source",
    "customer_since",
    "latent_risk",
    "usage_decline",
    "adoption_breadth",
    "champion_left",
    "champion_left_on",
    "escalations",
    "seat_utilisation",
    "seat_pressure",
    "missed_milestones",
    "nps_level",
    "low_nps",
    "silent_period",
    "silent_days",
    "payment_issues",
    "focal_renewal",
    "churn_logit",
    "churn_probability",
    "downgrade_probability",
    "expansion_probability",
    "top_driver",
    "focal_outcome",
    "focal_in_window",
    "churned_on",
    "renewals_in_window",
    "expansion_opportunity",
    "arr_start",
    "arr_end",
    "departments",
];

#[derive(Default)]
pub(crate) struct Scratch {
    row: RowBuf,
    dirty: RowBuf,
    pairs: Vec<(u16, u32)>,
}

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

/// A uniformly random date in `lo..=hi` (`lo` when the range is empty).
fn rand_date(rng: &mut ChaCha8Rng, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
    let span = (hi - lo).num_days();
    if span <= 0 {
        lo
    } else {
        lo + days(rng.random_range(0..=span))
    }
}

fn at(d: NaiveDate, secs: u32) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).expect("midnight") + TimeDelta::seconds(i64::from(secs))
}

/// A time within the region's eight-hour working day (UTC).
fn business_time(rng: &mut ChaCha8Rng, d: NaiveDate, region: usize) -> NaiveDateTime {
    at(
        d,
        REGION_DAY_START[region] * 3600 + rng.random_range(0..8 * 3600),
    )
}

fn next_weekday(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d + days(2),
        Weekday::Sun => d + days(1),
        _ => d,
    }
}

fn choose<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// Attributes that other accounts may need (a child's name derives from its parent's).
struct Base {
    segment: usize,
    region: usize,
    industry: usize,
    stem: usize,
    suffix: usize,
}

fn base(seed: u64, idx: usize) -> Base {
    let mut rng = rng_for(seed, idx, SALT_BASE);
    Base {
        segment: pick(&mut rng, &SEGMENT_WEIGHTS),
        region: pick(&mut rng, &REGION_WEIGHTS),
        industry: rng.random_range(0..INDUSTRIES.len()),
        stem: rng.random_range(0..COMPANY_STEMS.len()),
        suffix: rng.random_range(0..COMPANY_SUFFIXES.len()),
    }
}

fn draw_seats(rng: &mut ChaCha8Rng, segment: usize) -> i64 {
    let (median, sigma, lo, hi) = [
        (160.0, 0.55, 60.0, 900.0),
        (40.0, 0.5, 15.0, 200.0),
        (8.0, 0.5, 3.0, 40.0),
    ][segment];
    (median * (sigma * normal(rng)).exp()).clamp(lo, hi).round() as i64
}

/// Mean user pool (seat utilisation x seats) over the segment mix, by sampling.
pub(crate) fn estimate_mean_pool() -> f64 {
    let mut rng = rng_for(0x5EED, 0, 99);
    let n = 20_000;
    let total: f64 = (0..n)
        .map(|_| {
            let segment = pick(&mut rng, &SEGMENT_WEIGHTS);
            (draw_seats(&mut rng, segment) as f64 * 0.76)
                .round()
                .max(1.0)
        })
        .sum();
    total / n as f64
}

struct Profile {
    idx: usize,
    num: String,
    id: String,
    segment: usize,
    region: usize,
    industry: usize,
    name: String,
    domain: String,
    parent: Option<usize>,
    employees: i64,
    coverage: &'static str,
    since: NaiveDate,
    csm: usize,
    channel: &'static str,
    tier: usize,
    seats: i64,
    auto_renew: bool,
    billing_months: u32,
    daily_usage: bool,
    addons: [bool; 2],
    addon_term: [u32; 2],
}

fn slug(text: &str) -> String {
    text.to_ascii_lowercase().replace(' ', "-")
}

fn profile(ctx: &Ctx, idx: usize) -> Profile {
    let b = base(ctx.seed, idx);
    let mut rng = rng_for(ctx.seed, idx, SALT_PROFILE);
    let num = format!("{:0w$}", idx + 1, w = ctx.id_width);
    let id = format!("acc_{num}");
    let mut name = format!("{} {}", COMPANY_STEMS[b.stem], COMPANY_SUFFIXES[b.suffix]);
    let mut industry = b.industry;
    let mut parent = None;
    if idx >= 20 && rng.random::<f64>() < 0.03 {
        let p = rng.random_range(0..idx);
        let pb = base(ctx.seed, p);
        name = format!(
            "{} {} {}",
            COMPANY_STEMS[pb.stem], COMPANY_SUFFIXES[pb.suffix], REGIONS[b.region]
        );
        industry = pb.industry;
        parent = Some(p);
    }
    let domain = format!("{}-{}.example", slug(&name), idx + 1);
    let segment = b.segment;
    let (emp_median, emp_lo, emp_hi) = [
        (6_000.0, 2_000.0, 80_000.0),
        (600.0, 200.0, 2_000.0),
        (45.0, 5.0, 199.0),
    ][segment];
    let employees = (emp_median * (0.7 * normal(&mut rng)).exp())
        .clamp(emp_lo, emp_hi)
        .round() as i64;
    let coverage = match segment {
        0 => "high_touch",
        1 => "mid_touch",
        _ => {
            if rng.random::<f64>() < 0.7 {
                "tech_touch"
            } else {
                "pooled"
            }
        }
    };
    let window_days = (ctx.end - ctx.start).num_days().max(1);
    let since = if rng.random::<f64>() < 0.12 {
        ctx.start
            + days(
                rng.random_range(0..window_days.max(21) - 20)
                    .min(window_days - 1),
            )
    } else {
        ctx.start - days(rng.random_range(1..1300))
    };
    let groups = &ctx.csm_groups[segment * REGIONS.len() + b.region];
    let (members, weights) = if groups.0.is_empty() {
        &ctx.csm_by_focus[segment]
    } else {
        groups
    };
    let csm = if members.is_empty() {
        rng.random_range(0..ctx.csms.len())
    } else {
        members[pick(&mut rng, weights)]
    };
    let channel =
        ["inbound", "outbound", "partner", "event"][pick(&mut rng, &[0.45, 0.35, 0.15, 0.05])];
    let tier = pick(
        &mut rng,
        &[[0.0, 0.3, 0.7], [0.15, 0.65, 0.2], [0.6, 0.38, 0.02]][segment],
    );
    let seats = draw_seats(&mut rng, segment);
    let auto_renew = rng.random::<f64>() < [0.15, 0.5, 0.8][segment];
    let billing_months = match segment {
        0 => 12,
        1 => {
            if rng.random::<f64>() < 0.5 {
                3
            } else {
                12
            }
        }
        _ => {
            if rng.random::<f64>() < 0.7 {
                1
            } else {
                12
            }
        }
    };
    let addon_p = [[0.55, 0.5], [0.35, 0.25], [0.15, 0.05]][segment];
    let addons = [
        rng.random::<f64>() < addon_p[0],
        rng.random::<f64>() < addon_p[1],
    ];
    let addon_term = [rng.random_range(0..3), rng.random_range(0..3)];
    Profile {
        idx,
        num,
        id,
        segment,
        region: b.region,
        industry,
        name,
        domain,
        parent,
        employees,
        coverage,
        since,
        csm,
        channel,
        tier,
        seats,
        auto_renew,
        billing_months,
        daily_usage: idx % USAGE_DAILY_EVERY == USAGE_DAILY_EVERY - 1,
        addons,
        addon_term,
    }
}

fn core_arr(segment: usize, tier: usize, seats: i64) -> f64 {
    (PLATFORM_FEE[tier] + seats as f64 * SEAT_PRICE[tier] * SEGMENT_DISCOUNT[segment]).round()
}

fn addon_arr(addon: usize, core: f64) -> f64 {
    (core * ADDON_SHARE[addon]).max(1_200.0).round()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OppKind {
    Seats,
    Module(usize),
}

struct Opportunity {
    date: NaiveDate,
    kind: OppKind,
    won: bool,
    added_seats: i64,
}

struct Term {
    k: u32,
    start: NaiveDate,
    end: NaiveDate,
    tier: usize,
    seats: i64,
    /// Add-on active in this term from the given date.
    addons: [Option<NaiveDate>; 2],
    addon_cancelled: [bool; 2],
    seat_order: Option<(NaiveDate, i64)>,
    outcome: Option<Renewal>,
    decided_on: Option<NaiveDate>,
    expansion_type: Option<&'static str>,
    reason: Option<String>,
}

impl Term {
    fn arr(&self, segment: usize) -> f64 {
        let core = core_arr(segment, self.tier, self.seats);
        let mut total = core;
        for (a, active) in self.addons.iter().enumerate() {
            if active.is_some() {
                total += addon_arr(a, core);
            }
        }
        if let Some((_, added)) = self.seat_order {
            total += core_arr(segment, self.tier, added) - PLATFORM_FEE[self.tier];
        }
        total
    }
}

struct Contact {
    id: String,
    name: String,
    email: String,
    title: &'static str,
    role: &'static str,
    start: NaiveDate,
    end: Option<NaiveDate>,
    primary: bool,
}

fn contact_at<'a>(rng: &mut ChaCha8Rng, contacts: &'a [Contact], d: NaiveDate) -> Option<&'a str> {
    let active = contacts
        .iter()
        .filter(|c| c.start <= d && c.end.is_none_or(|e| e > d))
        .count();
    if active == 0 {
        return contacts.first().map(|c| c.id.as_str());
    }
    let n = rng.random_range(0..active);
    contacts
        .iter()
        .filter(|c| c.start <= d && c.end.is_none_or(|e| e > d))
        .nth(n)
        .map(|c| c.id.as_str())
}

struct ContractOut {
    id: String,
    product: &'static str,
    tier: usize,
    seats: i64,
    arr: f64,
    start: NaiveDate,
    end: NaiveDate,
    status: &'static str,
    /// Billing period in months; 0 = billed once at start (seat orders).
    billing_months: u32,
}

/// The account's timeline-dependent state needed by several files.
struct Timeline {
    terms: Vec<Term>,
    /// (from date, user pool size), ascending.
    pool: Vec<(NaiveDate, i64)>,
    churn_date: Option<NaiveDate>,
    focal: NaiveDate,
    focal_outcome: Option<Renewal>,
    opportunity: Option<Opportunity>,
    decline_start: NaiveDate,
    decline_lead: i64,
}

impl Timeline {
    /// Fraction by which usage is reduced on `d` by the account's decline.
    fn decline_at(&self, f: &Factors, d: NaiveDate) -> f64 {
        if f.usage_decline <= 0.0 || d < self.decline_start {
            0.0
        } else if d <= self.focal {
            f.usage_decline * (d - self.decline_start).num_days() as f64 / self.decline_lead as f64
        } else {
            f.usage_decline * 0.5
        }
    }

    fn term_at(&self, d: NaiveDate) -> Option<&Term> {
        self.terms.iter().find(|t| t.start <= d && d <= t.end)
    }
}

fn build_timeline(ctx: &Ctx, p: &Profile, f: &Factors, rng: &mut ChaCha8Rng) -> Timeline {
    let (s, e) = (ctx.start, ctx.end);
    let term_start = |k: u32| {
        p.since
            .checked_add_months(Months::new(12 * k))
            .unwrap_or(p.since)
    };
    let term_end = |k: u32| term_start(k + 1) - days(1);
    let mut first_k = 0;
    while term_start(first_k + 1) <= s {
        first_k += 1;
    }
    let mut focal_k = first_k;
    while term_end(focal_k) < s + days(45) {
        focal_k += 1;
    }
    let focal = term_end(focal_k);
    let decline_lead = rng.random_range(90..=180);
    let decline_start = focal - days(decline_lead);

    let mut addon_since: [Option<NaiveDate>; 2] = [None, None];
    for a in 0..2 {
        if p.addons[a] {
            addon_since[a] = Some(term_start(p.addon_term[a].min(first_k)));
        }
    }
    // Mid-term expansion opportunity.
    let mut opportunity = None;
    if rng.random::<f64>() < sigmoid(f.opportunity_logit()) {
        let lo = s.max(p.since + days(60));
        if lo < e {
            let date = rand_date(rng, lo, e);
            let missing: Vec<usize> = (0..2).filter(|a| !p.addons[*a]).collect();
            let kind = if f.seat_pressure() > 0.0 || missing.is_empty() || rng.random::<f64>() < 0.5
            {
                OppKind::Seats
            } else {
                OppKind::Module(missing[rng.random_range(0..missing.len())])
            };
            let won = rng.random::<f64>() < sigmoid(f.win_logit());
            opportunity = Some(Opportunity {
                date,
                kind,
                won,
                added_seats: 0,
            });
        }
    }

    let mut tier = p.tier;
    let mut seats = p.seats;
    let mut pool_size = ((seats as f64) * f.seat_utilisation).round().max(1.0) as i64;
    let mut pool = vec![(NaiveDate::MIN, pool_size)];
    let mut terms = Vec::new();
    let mut churn_date = None;
    let mut focal_outcome = None;
    let mut k = first_k;
    loop {
        let start = term_start(k);
        let end = term_end(k);
        if start > e {
            break;
        }
        let mut term = Term {
            k,
            start,
            end,
            tier,
            seats,
            addons: [None, None],
            addon_cancelled: [false, false],
            seat_order: None,
            outcome: None,
            decided_on: None,
            expansion_type: None,
            reason: None,
        };
        for a in 0..2 {
            term.addons[a] = addon_since[a].filter(|d| *d <= end).map(|d| d.max(start));
        }
        let mut pending_seats = 0;
        if let Some(o) = opportunity.as_mut()
            && o.date >= start
            && o.date <= end
        {
            let added = ((seats as f64) * rng.random_range(0.1..0.3))
                .round()
                .max(1.0) as i64;
            o.added_seats = added;
            if o.won {
                match o.kind {
                    OppKind::Seats => {
                        term.seat_order = Some((o.date, added));
                        pending_seats = added;
                        pool_size += ((added as f64) * 0.8).round() as i64;
                        pool.push((o.date, pool_size));
                    }
                    OppKind::Module(a) => {
                        addon_since[a] = Some(o.date);
                        term.addons[a] = Some(o.date);
                    }
                }
            }
        }
        let passed = end < e;
        if passed || k == focal_k {
            let factors = if k < focal_k { f.neutral() } else { f.clone() };
            let outcome = draw_renewal(rng, &factors);
            if k == focal_k {
                focal_outcome = Some(outcome);
            }
            if passed {
                term.outcome = Some(outcome);
                let lead = match outcome {
                    Renewal::Churned => rng.random_range(10..45),
                    _ => rng.random_range(0..30),
                };
                term.decided_on = Some((end - days(lead)).max(s.max(start)).min(e));
                seats += pending_seats;
                pending_seats = 0;
                let next = end + days(1);
                match outcome {
                    Renewal::Churned => {
                        term.reason = Some(churn_reason(rng, f).to_string());
                        churn_date = Some(end);
                        terms.push(term);
                        break;
                    }
                    Renewal::Downgraded => {
                        let owned: Vec<usize> = (0..2)
                            .filter(|a| addon_since[*a].is_some_and(|d| d <= end))
                            .collect();
                        let u = rng.random::<f64>();
                        if !owned.is_empty() && u < 0.35 {
                            let a = owned[rng.random_range(0..owned.len())];
                            term.addon_cancelled[a] = true;
                            addon_since[a] = None;
                            term.reason = Some(format!("dropped the {} module", ADDON_PRODUCTS[a]));
                        } else if tier > 0 && u < 0.55 {
                            tier -= 1;
                            term.reason =
                                Some(format!("moved down to the {} plan", PLAN_TIERS[tier]));
                        } else {
                            seats = ((seats as f64) * rng.random_range(0.6..0.85))
                                .round()
                                .max(1.0) as i64;
                            pool_size = pool_size.min(seats);
                            pool.push((next, pool_size));
                            term.reason = Some("reduced seats to active users".to_string());
                        }
                    }
                    Renewal::Expanded => {
                        let missing: Vec<usize> =
                            (0..2).filter(|a| addon_since[*a].is_none()).collect();
                        let u = rng.random::<f64>();
                        if f.seat_pressure() > 0.0 || (tier == 2 && missing.is_empty()) || u < 0.4 {
                            let added = ((seats as f64) * rng.random_range(0.15..0.5))
                                .round()
                                .max(1.0) as i64;
                            seats += added;
                            pool_size += ((added as f64) * 0.7).round() as i64;
                            pool.push((next, pool_size));
                            term.expansion_type = Some("seats");
                            term.reason = Some(format!("added {added} seats"));
                        } else if tier < 2 && (missing.is_empty() || u < 0.7) {
                            tier += 1;
                            term.expansion_type = Some("tier");
                            term.reason =
                                Some(format!("upgraded to the {} plan", PLAN_TIERS[tier]));
                        } else {
                            let a = missing[rng.random_range(0..missing.len())];
                            addon_since[a] = Some(next);
                            term.expansion_type = Some("module");
                            term.reason = Some(format!("added the {} module", ADDON_PRODUCTS[a]));
                        }
                    }
                    Renewal::Renewed => {}
                }
            }
        }
        seats += pending_seats;
        terms.push(term);
        if !passed {
            break;
        }
        k += 1;
    }
    Timeline {
        terms,
        pool,
        churn_date,
        focal,
        focal_outcome,
        opportunity,
        decline_start,
        decline_lead,
    }
}

fn churn_reason(rng: &mut ChaCha8Rng, f: &Factors) -> &'static str {
    if rng.random::<f64>() < 0.25 {
        return choose(
            rng,
            &[
                "budget cuts",
                "acquired by another company",
                "moved to a competitor",
                "consolidating tools",
            ],
        );
    }
    match f.top_driver() {
        "usage_decline" => "low usage; no longer a priority",
        "low_adoption_breadth" => "not getting enough value from the product",
        "champion_left" => "champion left; no internal owner",
        "support_escalations" => "unresolved support issues",
        "missed_milestones" => "never completed onboarding",
        "low_nps" => "dissatisfied with the product",
        "silent_period" => "relationship went dark",
        _ => "budget cuts",
    }
}

const ROLE_TITLES: [(&str, &[&str]); 6] = [
    (
        "champion",
        &[
            "Head of Operations",
            "Director of Projects",
            "PMO Lead",
            "VP Operations",
        ],
    ),
    (
        "executive_sponsor",
        &["COO", "CIO", "VP Engineering", "Chief of Staff"],
    ),
    (
        "economic_buyer",
        &["CFO", "VP Finance", "Procurement Manager", "Head of IT"],
    ),
    (
        "admin",
        &[
            "IT Administrator",
            "Systems Administrator",
            "Operations Analyst",
        ],
    ),
    (
        "user",
        &["Project Manager", "Team Lead", "Analyst", "Coordinator"],
    ),
    ("other", &["Consultant", "Executive Assistant"]),
];

fn title_for(rng: &mut ChaCha8Rng, role: &str) -> &'static str {
    let titles = ROLE_TITLES
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, t)| *t)
        .unwrap_or(&["Employee"]);
    titles[rng.random_range(0..titles.len())]
}

fn build_contacts(
    ctx: &Ctx,
    p: &Profile,
    f: &Factors,
    t: &Timeline,
    rng: &mut ChaCha8Rng,
) -> (Vec<Contact>, Option<NaiveDate>) {
    let (lo, hi) = [(5, 7), (3, 5), (2, 3)][p.segment];
    let n = rng.random_range(lo..=hi);
    let mut roles: Vec<&'static str> = vec!["champion", "economic_buyer"];
    if p.segment < 2 {
        roles.push("executive_sponsor");
    }
    roles.push("admin");
    while roles.len() < n {
        roles.push(if rng.random::<f64>() < 0.85 {
            "user"
        } else {
            "other"
        });
    }
    roles.truncate(n.max(2));
    let latest = ctx.end - days(1);
    let mut contacts: Vec<Contact> = Vec::with_capacity(8);
    let push = |rng: &mut ChaCha8Rng,
                role: &'static str,
                start: NaiveDate,
                contacts: &mut Vec<Contact>| {
        let (first, last) = person_name(rng);
        contacts.push(Contact {
            id: format!("con_{}_{}", p.num, contacts.len() + 1),
            name: format!("{first} {last}"),
            email: format!(
                "{}.{}@{}",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase(),
                p.domain
            ),
            title: title_for(rng, role),
            role,
            start,
            end: None,
            primary: false,
        });
    };
    for (i, role) in roles.iter().enumerate() {
        let start = if i < 3 {
            p.since + days(rng.random_range(0..30))
        } else {
            rand_date(rng, p.since, latest.max(p.since))
        };
        push(rng, role, start.min(latest), &mut contacts);
    }
    // Champion departure (hidden factor), timed before the focal renewal.
    let mut left_on = None;
    if f.champion_left {
        let champion_start = contacts[0].start;
        let lo_d = (ctx.start + days(7)).max(champion_start + days(30));
        let hi_d = latest;
        if lo_d <= hi_d {
            let target = t.focal - days(rng.random_range(45..200));
            let d = target.clamp(lo_d, hi_d);
            contacts[0].end = Some(d);
            left_on = Some(d);
            if contacts.len() < 8 && rng.random::<f64>() < 0.6 {
                let start = d + days(rng.random_range(20..90));
                if start <= latest {
                    push(rng, "champion", start, &mut contacts);
                }
            }
        }
    }
    // A few ordinary contacts leave too (noise, not a driver).
    for c in contacts.iter_mut().skip(1) {
        if c.role != "champion" && rng.random::<f64>() < 0.05 && c.start + days(60) < latest {
            c.end = Some(rand_date(rng, c.start + days(60), latest));
        }
    }
    // Primary: the current champion, else the economic buyer.
    let current = contacts
        .iter()
        .rposition(|c| c.role == "champion" && c.end.is_none())
        .unwrap_or(1.min(contacts.len() - 1));
    contacts[current].primary = true;
    (contacts, left_on)
}

pub(crate) fn generate_account(ctx: &Ctx, idx: usize, out: &mut ChunkOut, sc: &mut Scratch) {
    let p = profile(ctx, idx);
    let mut rng = rng_for(ctx.seed, idx, SALT_SIM);
    let mut drng = rng_for(ctx.seed, idx, SALT_DIRTY);
    let f = Factors::draw(&mut rng, p.segment);
    let tl = build_timeline(ctx, &p, &f, &mut rng);
    let (contacts, champion_left_on) = build_contacts(ctx, &p, &f, &tl, &mut rng);
    let (s, e) = (ctx.start, ctx.end);
    let alive_from = s.max(p.since);
    let alive_to = tl.churn_date.map_or(e, |c| c.min(e));
    let csm_id = ctx.csms[p.csm].id.as_str();
    let rate = ctx.dirty_rate;

    macro_rules! emit_row {
        ($entity:expr) => {
            emit(
                &mut out.sinks[$entity],
                &ctx.specs[$entity],
                &sc.row,
                &mut sc.dirty,
                &mut drng,
                rate,
            )
        };
    }

    // --- accounts -------------------------------------------------------------------
    let parent_id = p
        .parent
        .map(|i| format!("acc_{:0w$}", i + 1, w = ctx.id_width));
    let mood = f.latent_risk + 0.8 * normal(&mut rng);
    let note = if rng.random::<f64>() < 0.3 {
        ""
    } else if mood < -0.5 {
        choose(
            &mut rng,
            &[
                "Green - strong exec relationship",
                "Green: expanding into new teams",
                "Happy customer, reference candidate",
            ],
        )
    } else if mood < 0.8 {
        choose(
            &mut rng,
            &[
                "Yellow - steady, watch adoption",
                "Stable; renewal expected",
                "Quiet account, standard engagement",
            ],
        )
    } else {
        choose(
            &mut rng,
            &[
                "Red: budget review, re-evaluating tools",
                "Amber - usage concerns raised, needs exec alignment",
                "At risk, champion disengaged",
            ],
        )
    };
    sc.row
        .clear()
        .s(&p.id)
        .s(&p.name)
        .s(SEGMENTS[p.segment])
        .s(INDUSTRIES[p.industry])
        .int(p.employees)
        .s(REGIONS[p.region])
        .s(csm_id)
        .s(p.coverage)
        .opt(parent_id.as_deref())
        .date(p.since)
        .s(&p.domain)
        .s(p.channel)
        .s(note);
    emit_row!(E_ACCOUNTS);

    // --- contracts ------------------------------------------------------------------
    let mut contracts: Vec<ContractOut> = Vec::new();
    for term in &tl.terms {
        let status = if term.outcome == Some(Renewal::Churned) {
            "churned"
        } else if term.end < e {
            "expired"
        } else {
            "active"
        };
        let core = core_arr(p.segment, term.tier, term.seats);
        contracts.push(ContractOut {
            id: format!("ctr_{}_{}", p.num, term.k + 1),
            product: "core",
            tier: term.tier,
            seats: term.seats,
            arr: core,
            start: term.start,
            end: term.end,
            status,
            billing_months: p.billing_months,
        });
        for a in 0..2 {
            if let Some(start) = term.addons[a] {
                contracts.push(ContractOut {
                    id: format!("ctr_{}_{}_{}", p.num, ADDON_PRODUCTS[a], term.k + 1),
                    product: ADDON_PRODUCTS[a],
                    tier: term.tier,
                    seats: term.seats,
                    arr: addon_arr(a, core),
                    start,
                    end: term.end,
                    status: if term.addon_cancelled[a] {
                        "cancelled"
                    } else {
                        status
                    },
                    billing_months: if start == term.start {
                        p.billing_months
                    } else {
                        0
                    },
                });
            }
        }
        if let Some((date, added)) = term.seat_order {
            contracts.push(ContractOut {
                id: format!("ctr_{}_{}_seats", p.num, term.k + 1),
                product: "core",
                tier: term.tier,
                seats: added,
                arr: core_arr(p.segment, term.tier, added) - PLATFORM_FEE[term.tier],
                start: date,
                end: term.end,
                status,
                billing_months: 0,
            });
        }
    }
    for c in &contracts {
        sc.row
            .clear()
            .s(&c.id)
            .s(&p.id)
            .s(c.product)
            .s(PLAN_TIERS[c.tier])
            .int(c.seats)
            .money(c.arr)
            .money((c.arr / 12.0 * 100.0).round() / 100.0)
            .s("USD")
            .date(c.start)
            .date(c.end)
            .s(c.status)
            .boolean(p.auto_renew);
        emit_row!(E_CONTRACTS);
    }

    // --- contacts -------------------------------------------------------------------
    for c in &contacts {
        sc.row
            .clear()
            .s(&c.id)
            .s(&p.id)
            .s(&c.name)
            .s(&c.email)
            .s(c.title)
            .s(c.role)
            .date(c.start)
            .opt_date(c.end)
            .boolean(c.primary);
        emit_row!(E_CONTACTS);
    }

    // --- users ----------------------------------------------------------------------
    let departments = users(ctx, &p, &f, &tl, out, sc);

    // --- usage ----------------------------------------------------------------------
    let events = usage(ctx, &p, &f, &tl, alive_from, alive_to, out, sc, &mut drng);
    out.events += events;

    // --- tickets --------------------------------------------------------------------
    let escalation_times = tickets(
        ctx, &p, &f, &tl, &contacts, alive_from, alive_to, out, sc, &mut rng, &mut drng,
    );

    // --- touchpoints & surveys ------------------------------------------------------
    let silent_end = tl.focal.min(alive_to);
    let silent_start = silent_end - days(f.silent_days);
    let interval: f64 = match p.coverage {
        "high_touch" => 9.0,
        "mid_touch" => 20.0,
        "tech_touch" => 32.0,
        _ => 45.0,
    };
    struct Tp {
        at: NaiveDateTime,
        kind: &'static str,
    }
    let mut tps: Vec<Tp> = Vec::new();
    let mut d = alive_from + days(rng.random_range(0..interval as i64));
    while d <= alive_to {
        let day = next_weekday(d);
        if day <= alive_to {
            let kind = match p.coverage {
                "high_touch" => ["meeting", "call", "email", "chat", "note"]
                    [pick(&mut rng, &[35.0, 25.0, 30.0, 5.0, 5.0])],
                "mid_touch" => ["call", "meeting", "email", "chat", "note"]
                    [pick(&mut rng, &[35.0, 20.0, 35.0, 5.0, 5.0])],
                "tech_touch" => ["email", "event", "chat"][pick(&mut rng, &[80.0, 10.0, 10.0])],
                _ => ["email", "call", "chat", "event"][pick(&mut rng, &[50.0, 25.0, 20.0, 5.0])],
            };
            tps.push(Tp {
                at: business_time(&mut rng, day, p.region),
                kind,
            });
        }
        d += days((interval * rng.random_range(0.6..1.4)).round().max(1.0) as i64);
    }
    let review_every = match p.coverage {
        "high_touch" => Some(91),
        "mid_touch" => Some(182),
        _ => None,
    };
    if let Some(every) = review_every {
        let mut d = alive_from + days(rng.random_range(20..60));
        while d <= alive_to {
            let day = next_weekday(d);
            if day <= alive_to {
                let kind = if p.segment == 0 && rng.random::<f64>() < 0.25 {
                    "ebr"
                } else {
                    "qbr"
                };
                tps.push(Tp {
                    at: business_time(&mut rng, day, p.region),
                    kind,
                });
            }
            d += days(every);
        }
    }
    tps.retain(|t| !(f.silent_period && t.at.date() >= silent_start && t.at.date() <= silent_end));
    tps.sort_by_key(|t| t.at);
    let mut csat_dates: Vec<NaiveDateTime> = Vec::new();
    for (i, tp) in tps.iter().enumerate() {
        let day = tp.at.date();
        let declining = tl.decline_at(&f, day) > 0.15;
        let champion_gone = champion_left_on.is_some_and(|l| day >= l);
        let escalated_recently = escalation_times
            .iter()
            .any(|t| *t <= tp.at && tp.at - *t < TimeDelta::days(30));
        let renewal_soon = tl
            .terms
            .iter()
            .any(|t| t.end >= day && (t.end - day).num_days() <= 90);
        let (subject, notes): (&str, &str) = match tp.kind {
            "qbr" | "ebr" => (
                if tp.kind == "qbr" {
                    "Quarterly business review"
                } else {
                    "Executive business review"
                },
                if declining {
                    "Usage trending down across teams; customer cites shifting priorities. Agreed on a re-enablement plan."
                } else if champion_gone {
                    "New stakeholders attended; relationship needs rebuilding after the champion's departure."
                } else if f.seat_utilisation > 0.95 {
                    "Reviewed adoption: seats nearly fully used, customer asked about adding a new team."
                } else {
                    "Reviewed goals and adoption; customer happy with progress, interested in the roadmap."
                },
            ),
            "event" => (
                "Product webinar",
                "Customer attended the monthly product webinar.",
            ),
            "email" if p.coverage == "tech_touch" => (
                "Monthly product digest",
                "Automated digest email with tips and release notes.",
            ),
            "chat" => (
                "Support chat follow-up",
                "Customer asked a how-to question in chat.",
            ),
            _ => {
                if escalated_recently {
                    (
                        "Escalation follow-up",
                        "Followed up on the escalated ticket; customer frustrated with response times.",
                    )
                } else if champion_gone {
                    (
                        "Introduction to new contact",
                        "Champion has left the company; need a new point of contact and exec alignment.",
                    )
                } else if declining {
                    (
                        "Usage check-in",
                        "Usage has dropped; customer mentioned budget review and other priorities.",
                    )
                } else if renewal_soon {
                    (
                        "Renewal planning",
                        "Discussed renewal timeline, pricing and next year's goals.",
                    )
                } else if f.adoption_breadth > 0.6 {
                    (
                        "Check-in",
                        "Customer keen on automation; asked about advanced reporting.",
                    )
                } else {
                    ("Check-in", "Routine check-in; no issues raised.")
                }
            }
        };
        let direction = match tp.kind {
            "chat" => Some("inbound"),
            "note" => None,
            "email" if rng.random::<f64>() < 0.25 && p.coverage != "tech_touch" => Some("inbound"),
            _ => Some("outbound"),
        };
        let contact = contact_at(&mut rng, &contacts, day);
        sc.row
            .clear()
            .fmt(format_args!("tp_{}_{:04}", p.num, i + 1))
            .s(&p.id)
            .s(tp.kind)
            .ts(tp.at)
            .s(csm_id)
            .opt(contact)
            .opt(direction)
            .s(subject)
            .s(notes);
        emit_row!(E_TOUCHPOINTS);
        if matches!(tp.kind, "meeting" | "qbr" | "ebr") && rng.random::<f64>() < 0.15 {
            csat_dates.push(tp.at + TimeDelta::hours(rng.random_range(2..48)));
        }
    }

    // --- surveys --------------------------------------------------------------------
    let mut survey_n = 0;
    let mut survey_row = |sc: &mut Scratch,
                          out: &mut ChunkOut,
                          drng: &mut ChaCha8Rng,
                          contact: Option<&str>,
                          kind: &str,
                          score: i64,
                          at: NaiveDateTime,
                          comment: &str| {
        survey_n += 1;
        sc.row
            .clear()
            .fmt(format_args!("srv_{}_{:03}", p.num, survey_n))
            .s(&p.id)
            .opt(contact)
            .s(kind)
            .int(score)
            .ts(at)
            .s(comment);
        emit(
            &mut out.sinks[E_SURVEYS],
            &ctx.specs[E_SURVEYS],
            &sc.row,
            &mut sc.dirty,
            drng,
            rate,
        );
    };
    let mut nps_dates: Vec<NaiveDate> = Vec::new();
    for term in &tl.terms {
        for offset in [3, 9] {
            if let Some(d) = term.start.checked_add_months(Months::new(offset))
                && d >= alive_from
                && d <= alive_to
            {
                nps_dates.push(d);
            }
        }
    }
    for d in nps_dates {
        let mut asked: Vec<&str> = Vec::with_capacity(2);
        for _ in 0..2 {
            let day = d + days(rng.random_range(0..10));
            let contact = contact_at(&mut rng, &contacts, day);
            if rng.random::<f64>() >= 0.5
                || day > alive_to
                || contact.is_some_and(|c| asked.contains(&c))
            {
                continue;
            }
            if let Some(c) = contact {
                asked.push(c);
            }
            let champion_gone = champion_left_on.is_some_and(|l| day >= l);
            let score = (f.nps_level as f64 + 1.3 * normal(&mut rng)
                - 2.0 * tl.decline_at(&f, day)
                - if champion_gone { 1.0 } else { 0.0 })
            .round()
            .clamp(0.0, 10.0) as i64;
            let comment = if rng.random::<f64>() < 0.4 {
                ""
            } else if score >= 9 {
                choose(
                    &mut rng,
                    &[
                        "Great product, our teams rely on it daily.",
                        "Support is excellent and the roadmap looks strong.",
                        "Automation saves us hours every week.",
                    ],
                )
            } else if score >= 7 {
                choose(
                    &mut rng,
                    &[
                        "Good overall, reporting could be faster.",
                        "Solid tool, a few UX rough edges.",
                        "Works well, pricing is getting steep.",
                    ],
                )
            } else {
                choose(
                    &mut rng,
                    &[
                        "Too slow and hard to roll out to the wider team.",
                        "Support takes too long to respond.",
                        "We are not getting the value we expected.",
                        "Missing integrations we need; looking at alternatives.",
                    ],
                )
            };
            let at = business_time(&mut rng, day, p.region);
            survey_row(sc, out, &mut drng, contact, "nps", score, at, comment);
        }
    }
    for at in csat_dates {
        if at.date() > alive_to {
            continue;
        }
        let score = ((f.nps_level as f64) / 2.0 + 0.8 * normal(&mut rng))
            .round()
            .clamp(1.0, 5.0) as i64;
        let contact = contact_at(&mut rng, &contacts, at.date());
        let comment = if score >= 4 {
            "Useful session."
        } else if score <= 2 {
            "Did not address our issues."
        } else {
            ""
        };
        survey_row(sc, out, &mut drng, contact, "csat", score, at, comment);
    }
    let ces_day = p.since + days(95);
    if ces_day >= alive_from && ces_day <= alive_to {
        let score = (5.5 - 0.8 * f.latent_risk - 0.5 * f.missed_milestones as f64
            + normal(&mut rng))
        .round()
        .clamp(1.0, 7.0) as i64;
        let contact = contact_at(&mut rng, &contacts, ces_day);
        let at = business_time(&mut rng, ces_day, p.region);
        let comment = if score <= 3 {
            "Onboarding took much longer than planned."
        } else {
            "Setup was straightforward."
        };
        survey_row(sc, out, &mut drng, contact, "ces", score, at, comment);
    }

    // --- milestones -----------------------------------------------------------------
    milestones(ctx, &p, &f, &tl, out, sc, &mut rng, &mut drng);

    // --- billing --------------------------------------------------------------------
    let mut bil_n = 0;
    for c in &contracts {
        let mut dates: Vec<(NaiveDate, f64)> = Vec::new();
        if c.billing_months == 0 {
            let remaining = (c.end - c.start).num_days() + 1;
            dates.push((
                c.start,
                (c.arr * remaining as f64 / 365.0 * 100.0).round() / 100.0,
            ));
        } else {
            let mut i = 0;
            while let Some(d) = c
                .start
                .checked_add_months(Months::new(c.billing_months * i))
            {
                if d > c.end {
                    break;
                }
                dates.push((
                    d,
                    (c.arr * f64::from(c.billing_months) / 12.0 * 100.0).round() / 100.0,
                ));
                i += 1;
            }
        }
        for (d, amount) in dates {
            if d < s || d > e {
                continue;
            }
            let mut bill = |sc: &mut Scratch,
                            out: &mut ChunkOut,
                            drng: &mut ChaCha8Rng,
                            kind: &str,
                            amount: f64,
                            on: NaiveDate,
                            due: Option<NaiveDate>| {
                bil_n += 1;
                sc.row
                    .clear()
                    .fmt(format_args!("bil_{}_{:04}", p.num, bil_n))
                    .s(&p.id)
                    .s(&c.id)
                    .s(kind)
                    .money(amount)
                    .s("USD")
                    .date(on)
                    .opt_date(due);
                emit(
                    &mut out.sinks[E_BILLING],
                    &ctx.specs[E_BILLING],
                    &sc.row,
                    &mut sc.dirty,
                    drng,
                    rate,
                );
            };
            let due = d + days(30);
            bill(sc, out, &mut drng, "invoice", amount, d, Some(due));
            if f.payment_issues && rng.random::<f64>() < 0.35 {
                if due <= e {
                    bill(sc, out, &mut drng, "failed_payment", amount, due, None);
                }
                if due + days(7) <= e {
                    bill(
                        sc,
                        out,
                        &mut drng,
                        "dunning",
                        amount,
                        due + days(7),
                        Some(due + days(21)),
                    );
                }
                let paid = due + days(rng.random_range(10..30));
                if rng.random::<f64>() < 0.7 && paid <= e {
                    bill(sc, out, &mut drng, "payment", amount, paid, None);
                }
            } else {
                let paid = d + days(rng.random_range(2..35));
                if paid <= e {
                    bill(sc, out, &mut drng, "payment", amount, paid, None);
                }
                if rng.random::<f64>() < 0.015 {
                    let on = d + days(rng.random_range(10..60));
                    if on <= e {
                        let kind = if rng.random::<f64>() < 0.7 {
                            "credit_note"
                        } else {
                            "refund"
                        };
                        bill(
                            sc,
                            out,
                            &mut drng,
                            kind,
                            (amount * 0.1 * 100.0).round() / 100.0,
                            on,
                            None,
                        );
                    }
                }
            }
        }
    }

    // --- outcomes -------------------------------------------------------------------
    let mut renewals_in_window = 0;
    for (i, term) in tl.terms.iter().enumerate() {
        let (Some(outcome), Some(decided)) = (term.outcome, term.decided_on) else {
            continue;
        };
        renewals_in_window += 1;
        let before = term.arr(p.segment);
        let after = if outcome == Renewal::Churned {
            0.0
        } else {
            tl.terms.get(i + 1).map_or(before, |t| t.arr(p.segment))
        };
        sc.row
            .clear()
            .fmt(format_args!("out_{}_r{}", p.num, term.k + 1))
            .s(&p.id)
            .fmt(format_args!("ctr_{}_{}", p.num, term.k + 1))
            .s("renewal")
            .s(outcome.as_str())
            .date(decided)
            .money(before)
            .money(after)
            .opt(term.expansion_type)
            .opt(term.reason.as_deref());
        emit_row!(E_OUTCOMES);
    }
    let mut opportunity_state = "none";
    if let Some(o) = &tl.opportunity
        && let Some(term) = tl.term_at(o.date).filter(|_| o.date <= alive_to)
    {
        opportunity_state = if o.won { "won" } else { "lost" };
        let core = core_arr(p.segment, term.tier, term.seats);
        let mut before = core;
        for (a, active) in term.addons.iter().enumerate() {
            if active.is_some_and(|d| d < o.date) {
                before += addon_arr(a, core);
            }
        }
        let gain = match o.kind {
            OppKind::Seats => {
                core_arr(p.segment, term.tier, o.added_seats) - PLATFORM_FEE[term.tier]
            }
            OppKind::Module(a) => addon_arr(a, core),
        };
        let after = if o.won { before + gain } else { before };
        let reason = if o.won {
            match o.kind {
                OppKind::Seats => "new team onboarding",
                OppKind::Module(_) => "wants to automate more workflows",
            }
        } else {
            choose(
                &mut rng,
                &[
                    "no budget this quarter",
                    "timing; revisit at renewal",
                    "chose a cheaper alternative",
                    "champion could not get sign-off",
                ],
            )
        };
        sc.row
            .clear()
            .fmt(format_args!("out_{}_x1", p.num))
            .s(&p.id)
            .fmt(format_args!("ctr_{}_{}", p.num, term.k + 1))
            .s("expansion")
            .s(if o.won { "won" } else { "lost" })
            .date(o.date)
            .money(before)
            .money(after)
            .s(match o.kind {
                OppKind::Seats => "seats",
                OppKind::Module(_) => "module",
            })
            .s(reason);
        emit_row!(E_OUTCOMES);
    }

    // --- feedback -------------------------------------------------------------------
    let alive_days = (alive_to - alive_from).num_days() + 1;
    if alive_days > 0 {
        let per_month = [0.6, 0.3, 0.1][p.segment];
        let n = poisson(&mut rng, per_month * alive_days as f64 / 30.44);
        let mut items: Vec<NaiveDate> = (0..n)
            .map(|_| rand_date(&mut rng, alive_from, alive_to))
            .collect();
        items.sort();
        for (i, day) in items.into_iter().enumerate() {
            let at_risk = f.latent_risk > 0.8
                || tl.decline_at(&f, day) > 0.2
                || champion_left_on.is_some_and(|l| day >= l);
            let healthy = f.nps_level >= 8 && !at_risk;
            // Weights follow the contract's order of feedback categories.
            let cats = coco_core::contract::FEEDBACK_CATEGORIES;
            let weights = [
                20.0,
                40.0,
                10.0,
                8.0,
                5.0,
                if at_risk { 15.0 } else { 1.0 },
                if healthy { 12.0 } else { 2.0 },
                5.0,
            ];
            let category = cats[pick(&mut rng, &weights)];
            let feature = matches!(category, "feature_request" | "bug" | "ux" | "performance")
                .then(|| {
                    let tier = tl.term_at(day).map_or(p.tier, |t| t.tier);
                    let options: Vec<&'static str> = FEATURES
                        .iter()
                        .skip(1)
                        .filter(|ft| ft.tier <= tier)
                        .map(|ft| ft.key)
                        .collect();
                    options[rng.random_range(0..options.len())]
                });
            let text = match category {
                "feature_request" => choose(
                    &mut rng,
                    &[
                        "Need scheduled exports to S3.",
                        "Please add Gantt view to projects.",
                        "Would like custom fields on tasks.",
                        "Bulk edit for tasks would save time.",
                    ],
                ),
                "bug" => choose(
                    &mut rng,
                    &[
                        "Export fails for large reports.",
                        "Notifications arrive twice.",
                        "Sync drops comments with attachments.",
                    ],
                ),
                "ux" => choose(
                    &mut rng,
                    &[
                        "Navigation is confusing for new users.",
                        "Too many clicks to assign a task.",
                    ],
                ),
                "performance" => choose(
                    &mut rng,
                    &[
                        "Dashboards load slowly in the morning.",
                        "Search is slow on large workspaces.",
                    ],
                ),
                "pricing" => choose(
                    &mut rng,
                    &[
                        "Per-seat pricing is hard to justify for occasional users.",
                        "Add-on pricing is confusing.",
                    ],
                ),
                "competitor" => choose(
                    &mut rng,
                    &[
                        "Evaluating Rivalsoft as a cheaper alternative.",
                        "Team lead prefers Taskflow's reporting.",
                        "Procurement asked for a PlanIt comparison.",
                    ],
                ),
                "praise" => choose(
                    &mut rng,
                    &[
                        "Love the new automation builder!",
                        "Support resolved our issue in minutes.",
                        "Reporting changed how we run our weekly meeting.",
                    ],
                ),
                _ => choose(
                    &mut rng,
                    &[
                        "Question about data residency.",
                        "Asked for a training session for new hires.",
                    ],
                ),
            };
            // Weights follow the contract's order of feedback sources.
            let source = coco_core::contract::FEEDBACK_SOURCES
                [pick(&mut rng, &[10.0, 15.0, 20.0, 15.0, 20.0, 10.0, 8.0, 2.0])];
            let status = if (e - day).num_days() > 60 {
                ["triaged", "planned", "shipped", "declined", "closed"]
                    [pick(&mut rng, &[30.0, 20.0, 15.0, 15.0, 20.0])]
            } else {
                ["new", "triaged"][pick(&mut rng, &[60.0, 40.0])]
            };
            let contact = contact_at(&mut rng, &contacts, day);
            let at = business_time(&mut rng, day, p.region);
            sc.row
                .clear()
                .fmt(format_args!("fb_{}_{:03}", p.num, i + 1))
                .s(&p.id)
                .opt(contact)
                .ts(at)
                .s(source)
                .s(category)
                .opt(feature)
                .s(text)
                .s(status);
            emit_row!(E_FEEDBACK);
        }
    }

    // --- truth ----------------------------------------------------------------------
    let arr_start = tl.terms.first().map_or(0.0, |t| t.arr(p.segment));
    let arr_end = if tl.churn_date.is_some() {
        0.0
    } else {
        tl.terms.last().map_or(0.0, |t| t.arr(p.segment))
    };
    let focal_outcome = match tl.focal_outcome {
        Some(o) => o.as_str(),
        None => "churned_earlier",
    };
    let z = f.churn_logit();
    let mut t = std::mem::take(&mut sc.row);
    t.clear()
        .s(&p.id)
        .s(SEGMENTS[p.segment])
        .s(p.coverage)
        .s(csm_id)
        .s(if p.daily_usage {
            "usage_daily"
        } else {
            "usage_events"
        })
        .date(p.since)
        .num4(f.latent_risk)
        .num4(f.usage_decline)
        .num4(f.adoption_breadth)
        .boolean(f.champion_left)
        .opt_date(champion_left_on)
        .int(i64::from(f.escalations))
        .num4(f.seat_utilisation)
        .num4(f.seat_pressure())
        .int(i64::from(f.missed_milestones))
        .int(f.nps_level)
        .boolean(f.low_nps())
        .boolean(f.silent_period)
        .int(f.silent_days)
        .boolean(f.payment_issues)
        .date(tl.focal)
        .num4(z)
        .num4(sigmoid(z))
        .num4(sigmoid(f.downgrade_logit()))
        .num4(sigmoid(f.expansion_logit()))
        .s(f.top_driver())
        .s(focal_outcome)
        .boolean(tl.focal < e)
        .opt_date(tl.churn_date)
        .int(renewals_in_window)
        .s(opportunity_state)
        .money(arr_start)
        .money(arr_end)
        .int(departments as i64);
    let mut truth_sink = Sink {
        buf: std::mem::take(&mut out.truth),
        ..Sink::default()
    };
    truth_sink.write_row(&t);
    out.truth = truth_sink.buf;
    sc.row = t;
}

#[allow(clippy::too_many_arguments)]
fn tickets(
    ctx: &Ctx,
    p: &Profile,
    f: &Factors,
    tl: &Timeline,
    contacts: &[Contact],
    alive_from: NaiveDate,
    alive_to: NaiveDate,
    out: &mut ChunkOut,
    sc: &mut Scratch,
    rng: &mut ChaCha8Rng,
    drng: &mut ChaCha8Rng,
) -> Vec<NaiveDateTime> {
    struct Ticket {
        at: NaiveDateTime,
        escalated: bool,
    }
    let mut list: Vec<Ticket> = Vec::new();
    let alive_days = (alive_to - alive_from).num_days() + 1;
    if alive_days <= 0 {
        return Vec::new();
    }
    let per_month = [1.6, 0.7, 0.25][p.segment] * (0.3 * f.latent_risk).exp();
    let n = poisson(rng, per_month * alive_days as f64 / 30.44);
    for _ in 0..n {
        let day = rand_date(rng, alive_from, alive_to);
        list.push(Ticket {
            at: business_time(rng, day, p.region),
            escalated: rng.random::<f64>() < 0.02,
        });
    }
    // Planned escalations (hidden factor) in the 180 days before the focal renewal.
    let lo = alive_from.max(tl.focal - days(180));
    let hi = alive_to.min(tl.focal);
    if lo <= hi {
        for _ in 0..f.escalations {
            let day = rand_date(rng, lo, hi);
            list.push(Ticket {
                at: business_time(rng, day, p.region),
                escalated: true,
            });
        }
    }
    list.sort_by_key(|t| t.at);
    let end_of_window = at(ctx.end, 86_399);
    let categories: [(&str, &[&str]); 7] = [
        (
            "access",
            &[
                "SSO login fails for new users",
                "Users locked out after password reset",
            ],
        ),
        (
            "integrations",
            &["Salesforce sync stopped updating", "Jira webhook errors"],
        ),
        (
            "reporting",
            &["Report export times out", "Dashboard numbers don't match"],
        ),
        (
            "billing",
            &[
                "Invoice shows wrong seat count",
                "Question about renewal pricing",
            ],
        ),
        (
            "performance",
            &["Workspace slow to load", "Search takes 10+ seconds"],
        ),
        (
            "how_to",
            &["How to set up approval routing", "Bulk import of projects"],
        ),
        (
            "bug",
            &[
                "Comments disappear after edit",
                "Mobile app crashes on upload",
            ],
        ),
    ];
    let mut escalations = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let (category, subjects) = categories[rng.random_range(0..categories.len())];
        let subject = if t.escalated {
            escalations.push(t.at);
            choose(
                rng,
                &[
                    "URGENT: data missing after sync",
                    "Outage affecting the whole team",
                    "Executive complaint: repeated sync failures",
                ],
            )
        } else {
            subjects[rng.random_range(0..subjects.len())]
        };
        let priority = if t.escalated {
            ["high", "urgent"][pick(rng, &[60.0, 40.0])]
        } else {
            ["low", "normal", "high", "urgent"][pick(rng, &[25.0, 52.0, 19.0, 4.0])]
        };
        let median_hours = if t.escalated { 96.0 } else { 20.0 };
        let resolve =
            TimeDelta::minutes((median_hours * 60.0 * (0.9 * normal(rng)).exp()).max(10.0) as i64);
        let closed = t.at + resolve;
        let (status, closed_at) = if closed <= end_of_window {
            (
                if rng.random::<f64>() < 0.6 {
                    "solved"
                } else {
                    "closed"
                },
                Some(closed),
            )
        } else {
            (
                ["new", "open", "pending"][pick(rng, &[20.0, 55.0, 25.0])],
                None,
            )
        };
        let csat = (closed_at.is_some() && rng.random::<f64>() < 0.35).then(|| {
            let base = if t.escalated {
                2.0
            } else {
                4.2 - 0.4 * f.latent_risk
            };
            (base + 0.8 * normal(rng)).round().clamp(1.0, 5.0) as i64
        });
        let response_median = match priority {
            "urgent" => 0.5,
            "high" => 2.0,
            "normal" => 5.0,
            _ => 12.0,
        };
        let response = (response_median * (0.6 * normal(rng)).exp() * 10.0).round() / 10.0;
        let contact = contact_at(rng, contacts, t.at.date());
        sc.row
            .clear()
            .fmt(format_args!("tkt_{}_{:04}", p.num, i + 1))
            .s(&p.id)
            .opt(contact)
            .ts(t.at)
            .opt_ts(closed_at)
            .s(priority)
            .s(status)
            .s(category)
            .s(subject)
            .boolean(t.escalated)
            .opt(csat.map(|c| ["", "1", "2", "3", "4", "5"][c as usize]))
            .num1(response);
        emit(
            &mut out.sinks[E_TICKETS],
            &ctx.specs[E_TICKETS],
            &sc.row,
            &mut sc.dirty,
            drng,
            ctx.dirty_rate,
        );
    }
    escalations
}

const ONBOARDING: [(&str, &str, i64); 6] = [
    ("kickoff", "Kick-off meeting", 7),
    ("admin_setup", "Admin and SSO setup", 14),
    ("integration_live", "First integration live", 30),
    ("training_complete", "End-user training complete", 45),
    ("first_value", "First value delivered", 60),
    ("go_live", "Go-live across teams", 75),
];

#[allow(clippy::too_many_arguments)]
fn milestones(
    ctx: &Ctx,
    p: &Profile,
    f: &Factors,
    tl: &Timeline,
    out: &mut ChunkOut,
    sc: &mut Scratch,
    rng: &mut ChaCha8Rng,
    drng: &mut ChaCha8Rng,
) {
    let e = ctx.end;
    // Which onboarding milestones are missed: a random subset, kickoff last.
    let mut order: Vec<usize> = (1..6).collect();
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
    order.push(0);
    let missed: Vec<usize> = order
        .into_iter()
        .take(f.missed_milestones as usize)
        .collect();
    let write = |sc: &mut Scratch,
                 out: &mut ChunkOut,
                 drng: &mut ChaCha8Rng,
                 key: &str,
                 name: &str,
                 stage: &str,
                 due: NaiveDate,
                 completed: Option<NaiveDate>,
                 status: &str| {
        sc.row
            .clear()
            .fmt(format_args!("ms_{}_{}", p.num, key))
            .s(&p.id)
            .s(key)
            .s(name)
            .s(stage)
            .date(due)
            .opt_date(completed)
            .s(status);
        emit(
            &mut out.sinks[E_MILESTONES],
            &ctx.specs[E_MILESTONES],
            &sc.row,
            &mut sc.dirty,
            drng,
            ctx.dirty_rate,
        );
    };
    let churned_on = tl.churn_date.unwrap_or(NaiveDate::MAX);
    for (i, (key, name, offset)) in ONBOARDING.iter().enumerate() {
        let due = p.since + days(*offset);
        let (completed, status) = if missed.contains(&i) {
            if due + days(14) <= e {
                let u = rng.random::<f64>();
                if u < 0.55 {
                    let done = due + days(rng.random_range(15..60));
                    if done <= e.min(churned_on) {
                        (Some(done), "completed")
                    } else {
                        (None, "in_progress")
                    }
                } else if u < 0.8 {
                    (None, "blocked")
                } else {
                    (None, "skipped")
                }
            } else if due <= e {
                (None, "in_progress")
            } else {
                (None, "planned")
            }
        } else {
            let done = (due - days(rng.random_range(0..5))).max(p.since);
            if done <= e {
                (Some(done), "completed")
            } else if (due - e).num_days() <= 14 {
                (None, "in_progress")
            } else {
                (None, "planned")
            }
        };
        write(
            sc,
            out,
            drng,
            key,
            name,
            "onboarding",
            due,
            completed,
            status,
        );
    }
    let adoption_due = p.since + days(120);
    let (completed, status) = if f.adoption_breadth >= 0.4 {
        let done = adoption_due + days(rng.random_range(-10..20));
        if done <= e {
            (Some(done), "completed")
        } else {
            (None, "in_progress")
        }
    } else if adoption_due <= e {
        (
            None,
            if rng.random::<f64>() < 0.5 {
                "blocked"
            } else {
                "in_progress"
            },
        )
    } else {
        (None, "planned")
    };
    write(
        sc,
        out,
        drng,
        "core_adoption",
        "Core features adopted",
        "adoption",
        adoption_due,
        completed,
        status,
    );
    for term in &tl.terms {
        let due = term.end - days(90);
        if term.end < ctx.start || due > e + days(120) {
            continue;
        }
        let key = format!("renewal_prep_{}{:02}", term.end.year(), term.end.month());
        let done = due + days(rng.random_range(-5..10));
        let skipped = f.silent_period && term.end == tl.focal;
        let (completed, status) = if skipped && due <= e {
            (None, "skipped")
        } else if done <= e {
            (Some(done), "completed")
        } else if due <= e {
            (None, "in_progress")
        } else {
            (None, "planned")
        };
        write(
            sc,
            out,
            drng,
            &key,
            "Renewal preparation",
            "renewal",
            due,
            completed,
            status,
        );
    }
    if let Some(o) = tl
        .opportunity
        .as_ref()
        .filter(|o| o.won && o.date <= e.min(churned_on))
    {
        write(
            sc,
            out,
            drng,
            "expansion_signed",
            "Expansion signed",
            "expansion",
            o.date,
            Some(o.date),
            "completed",
        );
    }
    if f.nps_level >= 9 {
        let due = p.since + days(400);
        let (completed, status) = if due <= e.min(churned_on) {
            (Some(due), "completed")
        } else {
            (None, "planned")
        };
        write(
            sc,
            out,
            drng,
            "reference_customer",
            "Reference customer",
            "advocacy",
            due,
            completed,
            status,
        );
    }
}

/// `users.csv`: one row per product user id [`usage`] can draw (`u_<n>_<k>`, up to the
/// largest pool the timeline reaches), with the department they work in. The initial
/// pool is split into contiguous blocks of departments, the first (lowest indices, so
/// holding the power users) the largest; users added by pool growth are created on the
/// date their pool entry starts, as a new team (60%) or into the existing ones. Returns
/// the number of departments at the start.
fn users(
    ctx: &Ctx,
    p: &Profile,
    f: &Factors,
    tl: &Timeline,
    out: &mut ChunkOut,
    sc: &mut Scratch,
) -> usize {
    let mut rng = rng_for(ctx.seed, p.idx, SALT_USERS);
    let mut drng = rng_for(ctx.seed, p.idx, SALT_USERS_DIRTY);
    let initial = tl.pool[0].1.max(1) as usize;
    let total = tl
        .pool
        .iter()
        .map(|e| e.1.max(1) as usize)
        .max()
        .unwrap_or(initial);

    // Departments at the start: their number, then contiguous blocks of the initial pool.
    let single = (SINGLE_TEAM_BASE - SINGLE_TEAM_SLOPE * f.adoption_breadth).clamp(0.1, 0.9);
    let wanted = if rng.random::<f64>() < single {
        1
    } else {
        rng.random_range(2..=MAX_DEPARTMENTS[p.segment])
    };
    let n = wanted.min(1 + initial / 2);
    let mut order: Vec<usize> = (0..DEPARTMENTS.len()).collect();
    let first_team = FIRST_TEAMS[p.industry][pick(&mut rng, &[0.6, 0.25, 0.15])];
    order.retain(|d| *d != first_team);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    order.insert(0, first_team);
    let mut sizes = vec![initial];
    if n > 1 {
        // The first team: half to four fifths of the users, leaving one for every other.
        let first = ((initial as f64) * rng.random_range(0.5..0.8)).ceil() as usize;
        let first = first.clamp(initial.div_ceil(2), initial - (n - 1));
        let weights: Vec<f64> = (1..n).map(|_| rng.random_range(0.3..1.0)).collect();
        let mut rest = vec![1usize; n - 1];
        for _ in 0..(initial - first - (n - 1)) {
            rest[pick(&mut rng, &weights)] += 1;
        }
        rest.sort_unstable_by(|a, b| b.cmp(a));
        sizes = std::iter::once(first).chain(rest).collect();
    }
    let mut department: Vec<usize> = Vec::with_capacity(total);
    for (block, size) in sizes.iter().enumerate() {
        department.extend(std::iter::repeat_n(order[block], *size));
    }
    let mut headcount = vec![0f64; DEPARTMENTS.len()];
    for d in &department {
        headcount[*d] += 1.0;
    }
    let mut used = n;

    // Creation dates: the initial users within 30 days of `customer_since`, never after
    // the first day their usage can start; later users when their pool entry starts.
    let alive_from = ctx.start.max(p.since);
    let mut created: Vec<NaiveDate> = (0..initial)
        .map(|k| {
            let offset = if k == 0 { 0 } else { rng.random_range(0..=30) };
            (p.since + days(offset)).min(alive_from)
        })
        .collect();
    for &(from, size) in &tl.pool[1..] {
        let size = size.max(1) as usize;
        if size <= department.len() {
            continue;
        }
        let added = size - department.len();
        let new_team = used < DEPARTMENTS.len() && rng.random::<f64>() < NEW_TEAM_ON_GROWTH;
        if new_team {
            let d = order[used];
            used += 1;
            department.extend(std::iter::repeat_n(d, added));
            headcount[d] += added as f64;
        } else {
            for _ in 0..added {
                let d = pick(&mut rng, &headcount);
                department.push(d);
                headcount[d] += 1.0;
            }
        }
        created.extend(std::iter::repeat_n(from, added));
    }

    // Deactivation: a user above a shrunk pool that never grew back over them, or
    // everyone still active when the account churned.
    let deactivated = |k: usize| -> Option<NaiveDate> {
        let mut off = None;
        for &(from, size) in &tl.pool {
            if (size.max(1) as usize) > k {
                off = None;
            } else if from >= created[k] && off.is_none() {
                off = Some(from);
            }
        }
        off.or(tl.churn_date)
    };

    let power = ((initial as f64) * POWER_USER_SHARE).ceil() as usize;
    let mut user_id: Vec<u8> = Vec::with_capacity(24);
    let mut email: Vec<u8> = Vec::with_capacity(64);
    for k in 0..department.len() {
        let (name, titles) = DEPARTMENTS[department[k]];
        let u = rng.random::<f64>();
        let role = if k == 0 || u < 0.05 {
            "admin"
        } else if k >= power && u < 0.17 {
            "viewer"
        } else {
            "user"
        };
        let title = titles[rng.random_range(0..titles.len())];
        user_id.clear();
        push_user(&mut user_id, p.num.as_bytes(), k as u32);
        email.clear();
        email.extend_from_slice(&user_id);
        email.push(b'@');
        email.extend_from_slice(p.domain.as_bytes());
        sc.row
            .clear()
            .s(&p.id)
            .bytes(&user_id)
            .bytes(&email)
            .s(name)
            .s(title)
            .s(role)
            .date(created[k])
            .opt_date(deactivated(k));
        emit(
            &mut out.sinks[E_USERS],
            &ctx.specs[E_USERS],
            &sc.row,
            &mut sc.dirty,
            &mut drng,
            ctx.dirty_rate,
        );
    }
    n
}

/// Usage of one account: raw events, or daily aggregates for `usage_daily` accounts.
/// Returns the number of clean distinct raw events written.
#[allow(clippy::too_many_arguments)]
fn usage(
    ctx: &Ctx,
    p: &Profile,
    f: &Factors,
    tl: &Timeline,
    alive_from: NaiveDate,
    alive_to: NaiveDate,
    out: &mut ChunkOut,
    sc: &mut Scratch,
    drng: &mut ChaCha8Rng,
) -> u64 {
    let mut rng = rng_for(ctx.seed, p.idx, SALT_USAGE);
    // Users stop a little before the churn date.
    let usage_to = match tl.churn_date {
        Some(c) => (c - days(rng.random_range(0..21))).min(alive_to),
        None => alive_to,
    };
    if usage_to < alive_from || ctx.sessions_per_user_day <= 0.0 {
        return 0;
    }
    // Features ever available (highest tier reached, add-ons ever owned).
    let max_tier = tl.terms.iter().map(|t| t.tier).max().unwrap_or(p.tier);
    let owned = |a: usize| tl.terms.iter().any(|t| t.addons[a].is_some());
    let mut candidates: Vec<(f64, usize)> = FEATURES
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, ft)| ft.tier <= max_tier && product_of(ft.module).is_none_or(owned))
        .map(|(i, ft)| (rng.random::<f64>() + if ft.is_core { 0.6 } else { 0.0 }, i))
        .collect();
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    let adopt = ((candidates.len() as f64) * f.adoption_breadth)
        .round()
        .max(1.0) as usize;
    // (feature index, adopted from)
    let adopted: Vec<(usize, NaiveDate)> = candidates
        .iter()
        .take(adopt)
        .map(|&(_, i)| {
            let ft = &FEATURES[i];
            let from = if ft.is_core {
                p.since + days(rng.random_range(0..30))
            } else {
                p.since + days(rng.random_range(14..400))
            };
            (i, from)
        })
        .collect();

    let q = 1.0 / (1.0 + ctx.extra_events_per_session);
    let mut weights: Vec<(usize, f64)> = Vec::with_capacity(adopted.len());
    let mut total_weight = 0.0;
    let mut term_i = 0usize;
    let mut pool_i = 0usize;
    let mut rebuild = true;
    let mut dirty_skip = skip(drng, ctx.dirty_rate);
    let mut dup_skip = skip(drng, DUPLICATE_EVENT_RATE);
    let mut events = 0u64;
    let mut prefix = Vec::with_capacity(64);
    let acc = p.id.as_bytes();
    let num = p.num.as_bytes();
    let day_start = REGION_DAY_START[p.region] * 3600;
    let mut d = alive_from;
    while d <= usage_to {
        while term_i + 1 < tl.terms.len() && d > tl.terms[term_i].end {
            term_i += 1;
            rebuild = true;
        }
        while pool_i + 1 < tl.pool.len() && tl.pool[pool_i + 1].0 <= d {
            pool_i += 1;
        }
        if rebuild || d.weekday() == Weekday::Mon {
            rebuild = false;
            weights.clear();
            total_weight = 0.0;
            let term = &tl.terms[term_i];
            for &(i, from) in &adopted {
                let ft = &FEATURES[i];
                let available = ft.tier <= term.tier
                    && product_of(ft.module).is_none_or(|a| term.addons[a].is_some_and(|s| s <= d));
                if from <= d && available {
                    total_weight += ft.weight;
                    weights.push((i, total_weight));
                }
            }
        }
        let weekday = if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            WEEKEND_FACTOR
        } else {
            WEEKDAY_FACTOR
        };
        let seasonal = if (d.month() == 12 && d.day() >= 18) || (d.month() == 8 && d.day() <= 7) {
            SEASONAL_DIP
        } else {
            1.0
        };
        let decline = tl.decline_at(f, d);
        let since_days = (d - p.since).num_days();
        let ramp = if since_days < 60 {
            0.3 + 0.7 * since_days as f64 / 60.0
        } else {
            1.0
        };
        let p_day = ctx.sessions_per_user_day * weekday * seasonal * (1.0 - decline) * ramp;
        let pool = ((tl.pool[pool_i].1 as f64) * (1.0 - 0.5 * decline))
            .round()
            .max(1.0) as u32;
        let power = ((pool as f64) * POWER_USER_SHARE).ceil() as u32;
        let p_power = (p_day * POWER_USER_BOOST).min(0.95);
        let p_casual = (p_day * (1.0 - POWER_USER_SHARE * POWER_USER_BOOST)
            / (1.0 - POWER_USER_SHARE))
            .min(0.95);
        if p.daily_usage {
            sc.pairs.clear();
        }
        prefix.clear();
        push_date(&mut prefix, d);
        prefix.push(b'T');
        let date_len = prefix.len();
        for (lo, hi, prob) in [(0u32, power, p_power), (power, pool, p_casual)] {
            if prob <= 0.0 || lo >= hi {
                continue;
            }
            let mut user = lo as u64 + geometric(&mut rng, prob);
            while user < hi as u64 {
                let u = user as u32;
                let extra = geometric(&mut rng, q).min(30);
                let mut secs = day_start + rng.random_range(0..8 * 3600);
                for j in 0..=extra {
                    let fi = if j == 0 || weights.is_empty() {
                        LOGIN
                    } else {
                        let x = rng.random::<f64>() * total_weight;
                        weights
                            .iter()
                            .find(|(_, c)| x < *c)
                            .map_or(weights[weights.len() - 1].0, |(i, _)| *i)
                    };
                    if j > 0 {
                        secs += rng.random_range(5..240);
                    }
                    if p.daily_usage {
                        sc.pairs.push((fi as u16, u));
                        continue;
                    }
                    let value: u64 = match FEATURES[fi].key {
                        "api.calls" => rng.random_range(1..200),
                        "workflows.run" => rng.random_range(1..20),
                        _ => 1,
                    };
                    prefix.truncate(date_len);
                    push_time(&mut prefix, secs);
                    prefix.push(b'Z');
                    let sink = &mut out.sinks[E_EVENTS];
                    write_event(&mut sink.buf, acc, num, u, FEATURES[fi].key, &prefix, value);
                    sink.rows += 1;
                    events += 1;
                    if dup_skip == 0 {
                        write_event(&mut sink.buf, acc, num, u, FEATURES[fi].key, &prefix, value);
                        sink.rows += 1;
                        sink.duplicates += 1;
                        dup_skip = skip(drng, DUPLICATE_EVENT_RATE);
                    } else {
                        dup_skip -= 1;
                    }
                    if dirty_skip == 0 {
                        let mut user_id = Vec::with_capacity(24);
                        push_user(&mut user_id, num, u);
                        let mut value_text = Vec::new();
                        push_uint(&mut value_text, value);
                        sc.row
                            .clear()
                            .bytes(acc)
                            .bytes(&user_id)
                            .s(FEATURES[fi].key)
                            .bytes(&prefix)
                            .bytes(&value_text);
                        corrupt(&ctx.specs[E_EVENTS], &sc.row, &mut sc.dirty, drng);
                        let sink = &mut out.sinks[E_EVENTS];
                        sink.write_row(&sc.dirty);
                        sink.rows += 1;
                        sink.dirty += 1;
                        dirty_skip = skip(drng, ctx.dirty_rate);
                    } else {
                        dirty_skip -= 1;
                    }
                }
                user += 1 + geometric(&mut rng, prob);
            }
        }
        if p.daily_usage && !sc.pairs.is_empty() {
            sc.pairs.sort_unstable();
            let mut pairs = std::mem::take(&mut sc.pairs);
            let mut i = 0;
            while i < pairs.len() {
                let fi = pairs[i].0;
                let mut j = i;
                let mut users = 0;
                let mut last = None;
                while j < pairs.len() && pairs[j].0 == fi {
                    if last != Some(pairs[j].1) {
                        users += 1;
                        last = Some(pairs[j].1);
                    }
                    j += 1;
                }
                sc.row
                    .clear()
                    .s(&p.id)
                    .date(d)
                    .s(FEATURES[fi as usize].key)
                    .int(users)
                    .int((j - i) as i64);
                emit(
                    &mut out.sinks[E_DAILY],
                    &ctx.specs[E_DAILY],
                    &sc.row,
                    &mut sc.dirty,
                    drng,
                    ctx.dirty_rate,
                );
                i = j;
            }
            pairs.clear();
            sc.pairs = pairs;
        }
        d += days(1);
    }
    events
}

/// Rows to skip before the next hit of a Bernoulli(rate) process.
fn skip(rng: &mut ChaCha8Rng, rate: f64) -> u64 {
    if rate <= 0.0 {
        u64::MAX
    } else {
        geometric(rng, rate)
    }
}

#[inline]
fn push_user(out: &mut Vec<u8>, num: &[u8], user: u32) {
    out.extend_from_slice(b"u_");
    out.extend_from_slice(num);
    out.push(b'_');
    push_digits(out, user + 1, 3);
}

#[inline]
fn write_event(
    out: &mut Vec<u8>,
    acc: &[u8],
    num: &[u8],
    user: u32,
    feature: &str,
    ts: &[u8],
    value: u64,
) {
    out.extend_from_slice(acc);
    out.push(b',');
    push_user(out, num, user);
    out.push(b',');
    out.extend_from_slice(feature.as_bytes());
    out.push(b',');
    out.extend_from_slice(ts);
    out.push(b',');
    push_uint(out, value);
    out.push(b'\n');
}

/// `csms.csv` rows.
pub(crate) fn csm_rows(ctx: &Ctx) -> Sink {
    let mut sink = Sink::default();
    let mut row = RowBuf::default();
    for csm in &ctx.csms {
        row.clear()
            .s(&csm.id)
            .s(&csm.name)
            .s(&csm.email)
            .opt(csm.manager.map(|m| ctx.csms[m].id.as_str()))
            .s(&csm.team)
            .s(REGIONS[csm.region])
            .int(csm.capacity)
            .s(&csm.skills)
            .date(csm.start)
            .boolean(csm.active);
        sink.write_row(&row);
        sink.rows += 1;
    }
    sink
}

/// `features.csv` rows.
pub(crate) fn feature_rows(_ctx: &Ctx) -> Sink {
    let mut sink = Sink::default();
    let mut row = RowBuf::default();
    for ft in FEATURES {
        row.clear()
            .s(ft.key)
            .s(ft.name)
            .s(ft.module)
            .s(PLAN_TIERS[ft.tier])
            .boolean(ft.is_core)
            .fmt(format_args!(
                "https://docs.coco-demo.example/{}/{}",
                ft.module,
                ft.key.replace('.', "-")
            ))
            .s(ft.description);
        sink.write_row(&row);
        sink.rows += 1;
    }
    sink
}
