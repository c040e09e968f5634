//! The board-level lifecycle summary (`coco report lifecycle`): accounts and ARR per
//! journey stage, time in stage, the moves between stages and the engagement drop-off by
//! stage over the stored history — the journey engine's stage book, distribution and
//! drop-off (`coco journey stages`, the Journey page) — with the year's renewal outcomes:
//! churned, expanded, gross logo retention and the net ARR change of renewed accounts.
//!
//! Facts: `as_of`, `history.from`, `book.{accounts,arr}`, `stages.N.{key,label,accounts,
//! arr,share,arr_share,median_days,expected_days,overdue,entered,drop_rate}`,
//! `moves.N.{from,to,from_key,to_key,count,median_days}`, `dropoff.stages` (most frequent first), `moves_total`,
//! `retention.{from,decided,renewed,churned,expanded,downgraded,logo_grr,net_change,
//! net_change_abs}`,
//! `largest.{key,label,arr_share}`.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use coco_drafts::facts::Facts;
use coco_store::Store;

use super::{cite, median};
use crate::lifecycle::{dropoff, load_base, stage_book, stage_distribution};
use crate::{Config, EngineError};

const MOVES: usize = 5;

pub fn facts(store: &Store, config: &Config, as_of: NaiveDate) -> Result<Facts, EngineError> {
    let base = load_base(store, config, as_of)?;
    let book = stage_book(&base, config);
    let counts = stage_distribution(&base, config, &book);
    let drops = dropoff(&base, config, &book);
    let now = base.snapshot.as_of;
    let at = Some(now);
    let snapshot = Some(format!("snapshot {}", base.snapshot.snapshot_id));
    let mut facts = Facts::default();
    facts.date("as_of", now, cite("snapshot.as_of", at, snapshot.clone()));
    if let Some(from) = base.stage_history.iter().map(|c| c.date).min() {
        facts.date(
            "history.from",
            from,
            cite("earliest stored snapshot the stages read", Some(from), None),
        );
    }
    let accounts: usize = counts.iter().map(|c| c.accounts).sum();
    let arr: f64 = counts.iter().map(|c| c.arr).sum();
    facts.number(
        "book.accounts",
        accounts as f64,
        cite("accounts classified into a stage", at, snapshot.clone()),
    );
    facts.number(
        "book.arr",
        arr,
        cite("Σ ARR of the accounts classified", at, snapshot.clone()),
    );
    let labels: BTreeMap<&str, &str> = config
        .journey
        .stages
        .iter()
        .map(|s| (s.key.as_str(), s.label.as_str()))
        .collect();
    let mut largest: Option<(&str, &str, f64)> = None;
    for (i, count) in counts.iter().enumerate() {
        let key = format!("stages.{i}");
        let source = format!("journey stage {}", count.stage);
        facts.text(
            &format!("{key}.key"),
            &count.stage,
            cite("config/journey.toml [[stages]] key", None, None),
        );
        facts.text(
            &format!("{key}.label"),
            &count.label,
            cite("config/journey.toml [[stages]] label", None, None),
        );
        facts.number(
            &format!("{key}.accounts"),
            count.accounts as f64,
            cite(&format!("accounts in {source}"), at, snapshot.clone()),
        );
        facts.number(
            &format!("{key}.arr"),
            count.arr,
            cite(&format!("ARR in {source}"), at, snapshot.clone()),
        );
        if accounts > 0 {
            facts.number(
                &format!("{key}.share"),
                count.accounts as f64 / accounts as f64,
                cite(&format!("accounts in {source} ÷ accounts"), at, None),
            );
        }
        if arr > 0.0 {
            let share = count.arr / arr;
            facts.number(
                &format!("{key}.arr_share"),
                share,
                cite(&format!("ARR in {source} ÷ ARR"), at, None),
            );
            if largest.is_none_or(|(_, _, s)| share > s) {
                largest = Some((count.stage.as_str(), count.label.as_str(), share));
            }
        }
        facts.number(
            &format!("{key}.overdue"),
            count.overdue as f64,
            cite(
                &format!("accounts in {source} past its expected duration"),
                at,
                None,
            ),
        );
        facts.number(
            &format!("{key}.entered"),
            count.entered_recently as f64,
            cite(
                &format!("accounts that entered {source} within the stored history"),
                at,
                None,
            ),
        );
        let days: Vec<f64> = book
            .views
            .iter()
            .filter(|v| v.stage == count.stage)
            .map(|v| v.days_in_stage as f64)
            .collect();
        if let Some(days) = median(days) {
            facts.number(
                &format!("{key}.median_days"),
                days,
                cite(
                    &format!(
                        "median days in {source} (at least, when it began before the history)"
                    ),
                    at,
                    None,
                ),
            );
        }
        if let Some(def) = config.journey.stages.iter().find(|s| s.key == count.stage) {
            facts.number(
                &format!("{key}.expected_days"),
                f64::from(def.expected_days),
                cite("config/journey.toml [[stages]] expected_days", None, None),
            );
        }
        if let Some(rate) = drops
            .by_stage
            .iter()
            .find(|d| d.group == count.stage)
            .and_then(|d| d.rate)
        {
            facts.number(
                &format!("{key}.drop_rate"),
                rate,
                cite(&format!("share of weekly {} observations in {source} with a drop (journey drop-off)", drops.metric), at, None),
            );
        }
    }
    let with_rate = counts
        .iter()
        .filter(|c| {
            drops
                .by_stage
                .iter()
                .any(|d| d.group == c.stage && d.rate.is_some())
        })
        .count();
    facts.number(
        "dropoff.stages",
        with_rate as f64,
        cite("stages with a drop-off rate", at, None),
    );
    if let Some((key, label, share)) = largest {
        facts.text(
            "largest.key",
            key,
            cite("the stage with the most ARR", at, None),
        );
        facts.text(
            "largest.label",
            label,
            cite("the stage with the most ARR", at, None),
        );
        facts.number("largest.arr_share", share, cite("its ARR ÷ ARR", at, None));
    }
    // Moves between stages inside the stored history.
    let mut moves: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for view in &book.views {
        for t in &view.transitions {
            moves
                .entry((t.from.clone(), t.to.clone()))
                .or_default()
                .extend(t.days_in_previous.map(|d| d as f64));
            // A move without a known duration still counts once.
            if t.days_in_previous.is_none() {
                moves
                    .entry((t.from.clone(), t.to.clone()))
                    .or_default()
                    .push(f64::NAN);
            }
        }
    }
    let mut moves: Vec<((String, String), Vec<f64>)> = moves.into_iter().collect();
    moves.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    let total: usize = moves.iter().map(|m| m.1.len()).sum();
    facts.number(
        "moves_total",
        total as f64,
        cite("stage transitions within the stored history", at, None),
    );
    for (i, ((from, to), days)) in moves.iter().take(MOVES).enumerate() {
        let key = format!("moves.{i}");
        facts.text(
            &format!("{key}.from_key"),
            from,
            cite("journey stage", None, None),
        );
        facts.text(
            &format!("{key}.to_key"),
            to,
            cite("journey stage", None, None),
        );
        facts.text(
            &format!("{key}.from"),
            labels.get(from.as_str()).copied().unwrap_or(from),
            cite("journey stage", None, None),
        );
        facts.text(
            &format!("{key}.to"),
            labels.get(to.as_str()).copied().unwrap_or(to),
            cite("journey stage", None, None),
        );
        facts.number(
            &format!("{key}.count"),
            days.len() as f64,
            cite(&format!("transitions {from} → {to}"), at, None),
        );
        if let Some(d) = median(days.iter().copied().filter(|d| d.is_finite()).collect()) {
            facts.number(
                &format!("{key}.median_days"),
                d,
                cite(
                    &format!("median days in {from} before moving to {to}"),
                    at,
                    None,
                ),
            );
        }
    }
    // The year's renewal outcomes.
    let from = now.checked_sub_days(Days::new(365)).unwrap_or(now);
    let decisions: Vec<_> = store
        .renewal_decisions()?
        .into_iter()
        .filter(|d| d.decided_on > from && d.decided_on <= now)
        .collect();
    let source = "outcomes (kind renewal) decided in the 365 days to the as-of date";
    facts.date("retention.from", from, cite("as_of − 365 days", None, None));
    facts.number(
        "retention.decided",
        decisions.len() as f64,
        cite(source, at, None),
    );
    for outcome in ["renewed", "churned", "expanded", "downgraded"] {
        facts.number(
            &format!("retention.{outcome}"),
            decisions.iter().filter(|d| d.outcome == outcome).count() as f64,
            cite(&format!("{source}: {outcome}"), at, None),
        );
    }
    if !decisions.is_empty() {
        let churned = decisions.iter().filter(|d| d.outcome == "churned").count();
        facts.number(
            "retention.logo_grr",
            1.0 - churned as f64 / decisions.len() as f64,
            cite(
                "1 − churned ÷ renewals decided (gross logo retention)",
                at,
                None,
            ),
        );
    }
    if let Some(net) = store.renewal_net_change(from, now)? {
        facts.number(
            "retention.net_change",
            net - 1.0,
            cite(
                "Σ arr_after ÷ Σ arr_before − 1 of the renewals not churned",
                at,
                None,
            ),
        );
        facts.number(
            "retention.net_change_abs",
            (net - 1.0).abs(),
            cite(
                "|Σ arr_after ÷ Σ arr_before − 1| of the renewals not churned",
                at,
                None,
            ),
        );
    }
    Ok(facts)
}

pub fn layout() -> serde_json::Value {
    serde_json::json!({"stages": [], "moves": [], "retention": {}, "history": {}, "largest": {}, "dropoff": {}})
}
