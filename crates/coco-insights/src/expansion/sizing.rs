//! What an opportunity is worth (E4): the uplift by type from the price book at the
//! account's own discount, times a win probability from past outcomes of that type
//! (a documented prior until there are enough), scaled by the timing light.

use serde::{Deserialize, Serialize};

use super::config::ExpansionConfig;
use super::timing::Timing;
use super::{ExpansionInputs, Holding, OpportunityKind, Signal, SignalKind};
use crate::format::{format_money, percent};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sizing {
    /// Seats opportunities: how many seats to propose.
    pub added_seats: Option<u32>,
    /// Uplift at list price, per year.
    pub list_uplift: f64,
    /// The account's ARR ÷ the list price of what it holds.
    pub discount: f64,
    /// List uplift × discount: the ARR the opportunity adds if won.
    pub uplift_arr: f64,
    pub win_probability: f64,
    /// Where the win probability comes from, in words.
    pub win_basis: String,
    /// Uplift × win probability.
    pub expected_arr: f64,
    /// The arithmetic, step by step.
    pub steps: Vec<String>,
}

fn price(map: &std::collections::BTreeMap<String, f64>, tier: &str) -> f64 {
    map.get(tier).copied().unwrap_or(0.0)
}

/// List price of the core product at a tier and seat count.
fn core_list(config: &ExpansionConfig, tier: &str, seats: f64) -> f64 {
    let book = &config.price_book;
    price(&book.platform_fee, tier) + seats * price(&book.seat_price, tier)
}

fn module_list(config: &ExpansionConfig, module: &str, core: f64) -> Option<f64> {
    config
        .price_book
        .modules
        .iter()
        .find(|m| m.module == module)
        .map(|m| (m.share_of_core * core).max(m.minimum))
}

/// The account's ARR ÷ list price of its holding, clamped.
pub fn discount(config: &ExpansionConfig, holding: &Holding) -> f64 {
    let (Some(tier), Some(seats), Some(arr)) =
        (holding.plan_tier.as_deref(), holding.seats, holding.arr)
    else {
        return 1.0;
    };
    let core = core_list(config, tier, seats);
    let modules: f64 = holding
        .products
        .iter()
        .filter_map(|p| module_list(config, p, core))
        .sum();
    let list = core + modules;
    if list <= 0.0 || arr <= 0.0 {
        return 1.0;
    }
    (arr / list).clamp(config.price_book.min_discount, 1.5)
}

pub fn size(
    inputs: &ExpansionInputs<'_>,
    config: &ExpansionConfig,
    account: usize,
    kind: &OpportunityKind,
    signals: &[Signal],
    timing: &Timing,
) -> Sizing {
    let holding = &inputs.holdings[account];
    let tier = holding.plan_tier.clone().unwrap_or_default();
    let seats = holding.seats.unwrap_or(0.0);
    let discount = discount(config, holding);
    let mut steps = Vec::new();
    let mut added_seats = None;
    let list_uplift = match kind {
        OpportunityKind::Seats => {
            let rule = &config.signals.seat_pressure;
            let frame = inputs.frame;
            let users = super::signals::seat_measure(config, frame, account)
                .and_then(|(_, users_metric, _)| {
                    frame
                        .metric_index(users_metric)
                        .and_then(|m| frame.value(account, m))
                })
                .unwrap_or(0.0);
            let to_target = (users / rule.target_utilisation - seats).ceil().max(0.0);
            let rollout = if signals.iter().any(|s| s.kind != SignalKind::SeatPressure) {
                (seats * rule.rollout_share).ceil()
            } else {
                0.0
            };
            let added = to_target.max(rollout).max(f64::from(rule.min_added_seats));
            added_seats = Some(added as u32);
            let seat_price = price(&config.price_book.seat_price, &tier);
            if to_target >= rollout {
                steps.push(format!(
                    "{added:.0} seats bring {users:.0} users to {} of {:.0} seats",
                    percent(users / (seats + added).max(1.0)),
                    seats + added
                ));
            } else {
                steps.push(format!(
                    "{added:.0} seats: a roll-out of {} of the current {seats:.0}",
                    percent(rule.rollout_share)
                ));
            }
            steps.push(format!(
                "{added:.0} × {} list per seat ({tier})",
                format_money(seat_price)
            ));
            added * seat_price
        }
        OpportunityKind::Tier { to } => {
            let now = core_list(config, &tier, seats);
            let then = core_list(config, to, seats);
            steps.push(format!(
                "{to} list {} − {tier} list {} for {seats:.0} seats",
                format_money(then),
                format_money(now)
            ));
            (then - now).max(0.0)
        }
        OpportunityKind::Module { module } => {
            let core = core_list(config, &tier, seats);
            let list = module_list(config, module, core).unwrap_or(0.0);
            steps.push(format!(
                "{module} list {} (from the price book, on a core list of {})",
                format_money(list),
                format_money(core)
            ));
            list
        }
    };
    let uplift_arr = list_uplift * discount;
    steps.push(format!(
        "× the account's discount {discount:.2} (ARR ÷ list of what it holds) = {}",
        format_money(uplift_arr)
    ));
    let (base, basis) = inputs
        .win_history
        .rate(kind.type_name(), &config.win_probability);
    let light_factor = config
        .win_probability
        .light_factor
        .get(timing.light.as_str())
        .copied()
        .unwrap_or(1.0);
    let win_probability = (base * light_factor).clamp(0.0, 1.0);
    let win_basis = format!(
        "{basis}; × {light_factor:.1} for a {} light",
        timing.light.as_str()
    );
    let expected_arr = uplift_arr * win_probability;
    steps.push(format!(
        "× win probability {} = {} expected",
        percent(win_probability),
        format_money(expected_arr)
    ));
    Sizing {
        added_seats,
        list_uplift,
        discount,
        uplift_arr,
        win_probability,
        win_basis,
        expected_arr,
        steps,
    }
}
