//! The anomaly investigation (`coco report anomaly --account ID [--metric NAME]`): one
//! metric of one account against the normal range of its own history — mean ± k·sd of
//! the previous `weeks` stored snapshots (`config/drafts.toml [anomaly]`) — and the
//! hypotheses of `[[anomaly.hypotheses]]` ranked by how far their related metrics moved
//! against their own ranges. The arithmetic ([`normal_range`], [`movement`],
//! [`rank_hypotheses`]) is pure; [`facts`] only reads the account's view.
//!
//! Facts: `account.{id,name}`, `as_of`, `history.{from,to,weeks}`, `anomaly.{k,chosen,
//! candidates}` (`chosen` = `given` or `furthest`), `metric.{name,description,unit,value,
//! mean,sd,low,high,z,z_abs,position,distance,distance_share}` (`position` = above,
//! below or inside), `hypotheses.N.{id,label,score,checked,checks.M.{metric,description,unit,
//! value,mean,z,z_abs,direction}}`, best first.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use coco_drafts::facts::Facts;
use coco_store::Store;
use serde::Deserialize;

use super::account_error;
use super::{Report, cite};
use crate::account::account_view;
use crate::{Config, EngineError};

/// The metric name the health score goes by.
const HEALTH: &str = "health_score";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Hypothesis {
    pub id: String,
    pub label: String,
    /// The metrics (or `health_score`) whose moves support it.
    pub metrics: Vec<String>,
    pub weight: f64,
}

/// `config/drafts.toml [anomaly]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalySettings {
    pub weeks: usize,
    pub k: f64,
    pub min_history: usize,
    pub max_z: f64,
    pub metrics: Vec<String>,
    pub shown: usize,
    pub hypotheses: Vec<Hypothesis>,
}

impl AnomalySettings {
    pub fn validate(&self) -> Result<(), String> {
        if self.min_history < 2 || self.weeks < self.min_history {
            return Err(format!(
                "min_history must be at least 2 and at most weeks (min_history = {}, weeks = {})",
                self.min_history, self.weeks
            ));
        }
        if self.k.is_nan() || self.k <= 0.0 || self.max_z.is_nan() || self.max_z <= 0.0 {
            return Err("k and max_z must be positive".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for h in &self.hypotheses {
            if !seen.insert(h.id.as_str()) {
                return Err(format!("hypothesis `{}` is defined twice", h.id));
            }
            if h.metrics.is_empty() || h.weight.is_nan() || h.weight <= 0.0 {
                return Err(format!(
                    "hypothesis `{}` needs at least one metric and a positive weight",
                    h.id
                ));
            }
        }
        Ok(())
    }
}

/// A metric's normal range from its earlier values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalRange {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation.
    pub sd: f64,
    pub low: f64,
    pub high: f64,
}

/// mean ± k·sd of `previous` (None with fewer than two values).
pub fn normal_range(previous: &[f64], k: f64) -> Option<NormalRange> {
    let n = previous.len();
    if n < 2 {
        return None;
    }
    let mean = previous.iter().sum::<f64>() / n as f64;
    let variance = previous.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = variance.sqrt();
    Some(NormalRange {
        n,
        mean,
        sd,
        low: mean - k * sd,
        high: mean + k * sd,
    })
}

/// How far `value` is from the range's mean in standard deviations, capped at ±`max_z`
/// (a flat history moves by the cap when the value differs at all).
pub fn movement(value: f64, range: &NormalRange, max_z: f64) -> f64 {
    let delta = value - range.mean;
    if range.sd > 1e-12 {
        (delta / range.sd).clamp(-max_z, max_z)
    } else if delta.abs() <= 1e-12 {
        0.0
    } else {
        max_z.copysign(delta)
    }
}

/// One related metric's move, as a hypothesis sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub value: f64,
    pub mean: f64,
    /// Capped z (see [`movement`]).
    pub z: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RankedHypothesis {
    pub id: String,
    pub label: String,
    /// weight × the mean |z| of its related metrics with data (0 without any).
    pub score: f64,
    /// The related metrics checked, in the configured order, with their moves.
    pub checks: Vec<(String, Move)>,
}

/// Ranks the hypotheses by how strongly their related metrics also moved: the weight
/// times the mean |z| of the related metrics that have a move (the metric under
/// investigation left out — it moved by definition). Best first; ties by id. Pure.
pub fn rank_hypotheses(
    hypotheses: &[Hypothesis],
    moves: &BTreeMap<String, Move>,
    investigated: &str,
) -> Vec<RankedHypothesis> {
    let mut ranked: Vec<RankedHypothesis> = hypotheses
        .iter()
        .map(|h| {
            let checks: Vec<(String, Move)> = h
                .metrics
                .iter()
                .filter(|m| m.as_str() != investigated)
                .filter_map(|m| moves.get(m).map(|mv| (m.clone(), mv.clone())))
                .collect();
            let score = if checks.is_empty() {
                0.0
            } else {
                h.weight * checks.iter().map(|(_, m)| m.z.abs()).sum::<f64>() / checks.len() as f64
            };
            RankedHypothesis {
                id: h.id.clone(),
                label: h.label.clone(),
                score,
                checks,
            }
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    ranked
}

/// A metric's latest value and its earlier values (oldest first, the last `weeks`).
struct Series {
    value: f64,
    previous: Vec<f64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

fn series(history: &[(NaiveDate, Option<f64>)], as_of: NaiveDate, weeks: usize) -> Vec<f64> {
    let earlier: Vec<f64> = history
        .iter()
        .filter(|(d, _)| *d < as_of)
        .filter_map(|(_, v)| v.filter(|v| v.is_finite()))
        .collect();
    earlier[earlier.len().saturating_sub(weeks)..].to_vec()
}

fn dates(
    history: &[(NaiveDate, Option<f64>)],
    as_of: NaiveDate,
    weeks: usize,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let earlier: Vec<NaiveDate> = history
        .iter()
        .filter(|(d, v)| *d < as_of && v.is_some_and(f64::is_finite))
        .map(|(d, _)| *d)
        .collect();
    let kept = &earlier[earlier.len().saturating_sub(weeks)..];
    (kept.first().copied(), kept.last().copied())
}

/// The anomaly report's facts of `account_id`, on `metric` (None: the configured metric
/// furthest outside its range).
pub fn facts(
    store: &Store,
    config: &Config,
    settings: &AnomalySettings,
    account_id: &str,
    metric: Option<&str>,
    as_of: NaiveDate,
) -> Result<Facts, EngineError> {
    let metas = config.metric_metas();
    if let Some(wanted) = metric
        && wanted != HEALTH
        && !metas.iter().any(|m| m.name == wanted)
    {
        return Err(EngineError::Invalid(format!(
            "the anomaly report for {account_id}: unknown metric `{wanted}` (expected a metric of the catalogue, e.g. {}, or {HEALTH}; `coco metrics list` shows them all)",
            settings
                .metrics
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let view = account_view(store, config, account_id, as_of, 30)
        .map_err(|e| account_error(Report::Anomaly, account_id, e))?;
    let at = Some(view.as_of);
    let snapshot = Some(format!("snapshot {}", view.snapshot_id));

    // Every metric's latest value and history, the health score among them.
    let mut all: BTreeMap<String, Series> = BTreeMap::new();
    for evidence in &view.evidence {
        let (from, to) = dates(&evidence.history, view.as_of, settings.weeks);
        all.insert(
            evidence.metric.clone(),
            Series {
                value: evidence.value,
                previous: series(&evidence.history, view.as_of, settings.weeks),
                from,
                to,
            },
        );
    }
    if let Some(score) = view.health.score {
        let history: Vec<(NaiveDate, Option<f64>)> =
            view.history.iter().map(|p| (p.as_of, p.score)).collect();
        let (from, to) = dates(&history, view.as_of, settings.weeks);
        all.insert(
            HEALTH.to_string(),
            Series {
                value: score,
                previous: series(&history, view.as_of, settings.weeks),
                from,
                to,
            },
        );
    }
    let mut moves: BTreeMap<String, Move> = BTreeMap::new();
    let mut ranges: BTreeMap<String, NormalRange> = BTreeMap::new();
    for (name, s) in &all {
        if s.previous.len() < settings.min_history {
            continue;
        }
        if let Some(range) = normal_range(&s.previous, settings.k) {
            moves.insert(
                name.clone(),
                Move {
                    value: s.value,
                    mean: range.mean,
                    z: movement(s.value, &range, settings.max_z),
                },
            );
            ranges.insert(name.clone(), range);
        }
    }

    let (chosen, how) = match metric {
        Some(wanted) => {
            let Some(s) = all.get(wanted) else {
                return Err(EngineError::Invalid(format!(
                    "the anomaly report: {account_id} has no value of `{wanted}` on {} (expected a metric the account has a value for)",
                    view.as_of
                )));
            };
            if !ranges.contains_key(wanted) {
                return Err(EngineError::Invalid(format!(
                    "the anomaly report: {account_id} has {} earlier values of `{wanted}`, too little history for a normal range (expected at least {} weekly snapshots before {}; [anomaly] min_history)",
                    s.previous.len(),
                    settings.min_history,
                    view.as_of
                )));
            }
            (wanted.to_string(), "given")
        }
        None => {
            let best = settings
                .metrics
                .iter()
                .filter_map(|m| moves.get(m).map(|mv| (m, mv.z.abs())))
                .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)));
            match best {
                Some((m, _)) => (m.clone(), "furthest"),
                None => {
                    return Err(EngineError::Invalid(format!(
                        "the anomaly report: {account_id} has too little history on {} for any metric of [anomaly] metrics (expected at least {} weekly snapshots)",
                        view.as_of, settings.min_history
                    )));
                }
            }
        }
    };
    let range = ranges[&chosen];
    let value = all[&chosen].value;
    let z = moves[&chosen].z;

    let mut facts = Facts::default();
    crate::drafts::account::push_identity(&mut facts, &view);
    let origin = "config/drafts.toml [anomaly]";
    facts.number("anomaly.k", settings.k, cite(origin, None, None));
    facts.text("anomaly.chosen", how, cite(origin, None, None));
    if how == "furthest" {
        facts.number(
            "anomaly.candidates",
            settings
                .metrics
                .iter()
                .filter(|m| moves.contains_key(*m))
                .count() as f64,
            cite("[anomaly] metrics with enough history", at, None),
        );
    }
    let series_of = &all[&chosen];
    if let (Some(from), Some(to)) = (series_of.from, series_of.to) {
        facts.date(
            "history.from",
            from,
            cite("snapshot.as_of", Some(from), None),
        );
        facts.date("history.to", to, cite("snapshot.as_of", Some(to), None));
    }
    facts.number(
        "history.weeks",
        range.n as f64,
        cite(&format!("stored snapshots with {chosen}"), at, None),
    );
    let meta = metas.iter().find(|m| m.name == chosen);
    facts.text("metric.name", &chosen, cite("metric", None, None));
    facts.text(
        "metric.description",
        meta.map_or("Health score".to_string(), |m| {
            m.description.trim_end_matches('.').to_string()
        }),
        cite("metric catalogue", None, None),
    );
    facts.text(
        "metric.unit",
        meta.map_or(String::new(), |m| m.unit.clone()),
        cite("metric catalogue", None, None),
    );
    facts.number("metric.value", value, cite(&chosen, at, snapshot.clone()));
    let derived = format!("{chosen} over the previous {} snapshots", range.n);
    facts.number(
        "metric.mean",
        range.mean,
        cite(&format!("mean of {derived}"), at, None),
    );
    facts.number(
        "metric.sd",
        range.sd,
        cite(&format!("sd of {derived}"), at, None),
    );
    facts.number(
        "metric.low",
        range.low,
        cite(&format!("mean − k·sd of {derived}"), at, None),
    );
    facts.number(
        "metric.high",
        range.high,
        cite(&format!("mean + k·sd of {derived}"), at, None),
    );
    facts.number(
        "metric.z",
        z,
        cite(
            &format!(
                "(value − mean) ÷ sd of {derived}, capped at ±{}",
                settings.max_z
            ),
            at,
            None,
        ),
    );
    facts.number(
        "metric.z_abs",
        z.abs(),
        cite(&format!("|z| of {chosen}"), at, None),
    );
    let (position, distance) = if value > range.high {
        ("above", value - range.high)
    } else if value < range.low {
        ("below", range.low - value)
    } else {
        ("inside", 0.0)
    };
    facts.text(
        "metric.position",
        position,
        cite(&format!("{chosen} against mean ± k·sd"), at, None),
    );
    facts.number(
        "metric.distance",
        distance,
        cite(&format!("distance of {chosen} outside its range"), at, None),
    );
    if position != "inside" && range.mean.abs() > 1e-9 {
        facts.number(
            "metric.distance_share",
            (value - range.mean).abs() / range.mean.abs(),
            cite(&format!("|value − mean| ÷ |mean| of {chosen}"), at, None),
        );
    }

    let ranked = rank_hypotheses(&settings.hypotheses, &moves, &chosen);
    for (i, h) in ranked.iter().take(settings.shown).enumerate() {
        let key = format!("hypotheses.{i}");
        facts.text(
            &format!("{key}.id"),
            &h.id,
            cite("[[anomaly.hypotheses]] id", None, None),
        );
        facts.text(
            &format!("{key}.label"),
            &h.label,
            cite("[[anomaly.hypotheses]] label", None, None),
        );
        facts.number(
            &format!("{key}.score"),
            h.score,
            cite("weight × mean |z| of the hypothesis's metrics", at, None),
        );
        facts.number(
            &format!("{key}.checked"),
            h.checks.len() as f64,
            cite("related metrics with enough history", at, None),
        );
        for (j, (m, mv)) in h.checks.iter().enumerate() {
            let check = format!("{key}.checks.{j}");
            facts.text(&format!("{check}.metric"), m, cite("metric", None, None));
            facts.text(
                &format!("{check}.description"),
                metas
                    .iter()
                    .find(|x| &x.name == m)
                    .map_or("Health score".to_string(), |x| x.description.clone()),
                cite("metric catalogue", None, None),
            );
            facts.text(
                &format!("{check}.unit"),
                metas
                    .iter()
                    .find(|x| &x.name == m)
                    .map_or(String::new(), |x| x.unit.clone()),
                cite("metric catalogue", None, None),
            );
            facts.number(
                &format!("{check}.value"),
                mv.value,
                cite(m, at, snapshot.clone()),
            );
            facts.number(
                &format!("{check}.mean"),
                mv.mean,
                cite(
                    &format!("mean of {m} over the previous snapshots"),
                    at,
                    None,
                ),
            );
            facts.number(
                &format!("{check}.z"),
                mv.z,
                cite(&format!("z of {m}"), at, None),
            );
            facts.number(
                &format!("{check}.z_abs"),
                mv.z.abs(),
                cite(&format!("|z| of {m}"), at, None),
            );
            facts.text(
                &format!("{check}.direction"),
                if mv.z > 0.5 {
                    "up"
                } else if mv.z < -0.5 {
                    "down"
                } else {
                    "flat"
                },
                cite(&format!("sign of z of {m} (flat within 0.5 sd)"), at, None),
            );
        }
    }
    Ok(facts)
}

pub fn layout() -> serde_json::Value {
    serde_json::json!({"hypotheses": [], "history": {}, "anomaly": {}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hypothesis(id: &str, metrics: &[&str], weight: f64) -> Hypothesis {
        Hypothesis {
            id: id.into(),
            label: id.into(),
            metrics: metrics.iter().map(|m| m.to_string()).collect(),
            weight,
        }
    }

    fn moved(z: f64) -> Move {
        Move {
            value: 0.0,
            mean: 0.0,
            z,
        }
    }

    #[test]
    fn the_range_is_mean_plus_minus_k_sd() {
        let range = normal_range(&[10.0, 12.0, 14.0], 2.0).unwrap();
        assert_eq!(range.mean, 12.0);
        assert!((range.sd - 2.0).abs() < 1e-12);
        assert_eq!((range.low, range.high), (8.0, 16.0));
        assert!(normal_range(&[1.0], 2.0).is_none());
        assert_eq!(movement(18.0, &range, 10.0), 3.0);
        assert_eq!(movement(100.0, &range, 10.0), 10.0);
        let flat = normal_range(&[5.0, 5.0, 5.0], 2.0).unwrap();
        assert_eq!(movement(5.0, &flat, 10.0), 0.0);
        assert_eq!(movement(4.0, &flat, 10.0), -10.0);
    }

    #[test]
    fn hypotheses_whose_metrics_moved_most_rank_first() {
        let hypotheses = vec![
            hypothesis("quiet", &["touchpoints_30d"], 1.0),
            hypothesis("usage", &["events_30d", "active_users_30d"], 1.0),
            hypothesis("support", &["open_tickets"], 0.5),
            hypothesis("no_data", &["nps_latest"], 2.0),
        ];
        let moves: BTreeMap<String, Move> = [
            ("events_30d", moved(-4.0)),
            ("active_users_30d", moved(-2.0)),
            ("touchpoints_30d", moved(1.0)),
            ("open_tickets", moved(5.0)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let ranked = rank_hypotheses(&hypotheses, &moves, "seat_utilisation_30d");
        let ids: Vec<&str> = ranked.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["usage", "support", "quiet", "no_data"]);
        assert_eq!(ranked[0].score, 3.0);
        assert_eq!(ranked[1].score, 2.5);
        assert_eq!(ranked[3].score, 0.0);
        assert!(ranked[3].checks.is_empty());
        assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn the_investigated_metric_is_not_its_own_evidence_and_ties_go_by_id() {
        let hypotheses = vec![
            hypothesis("b", &["events_30d", "active_users_30d"], 1.0),
            hypothesis("a", &["active_users_30d"], 1.0),
        ];
        let moves: BTreeMap<String, Move> = [
            ("events_30d", moved(9.0)),
            ("active_users_30d", moved(-1.0)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let ranked = rank_hypotheses(&hypotheses, &moves, "events_30d");
        assert_eq!(ranked[0].id, "a");
        assert_eq!(ranked[1].id, "b");
        assert_eq!(ranked[1].checks.len(), 1);
        assert_eq!(ranked[0].score, ranked[1].score);
    }

    #[test]
    fn the_shipped_settings_are_valid() {
        let config: crate::drafts::DraftsConfig =
            toml::from_str(crate::drafts::DEFAULT_DRAFTS).unwrap();
        config.anomaly.validate().unwrap();
        assert!(config.anomaly.hypotheses.len() >= 5);
    }
}
