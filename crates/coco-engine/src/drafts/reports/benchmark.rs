//! The benchmark report (`coco report benchmark --account ID`): the account against its
//! cohort of `config/drafts.toml [benchmark] dimension` — the cohorts of
//! `config/health.toml [[cohort]]`, whose benchmarks every snapshot stores — on each
//! configured metric: the value, the cohort's median and quartiles, the account's
//! mid-rank percentile, above or below, and better or worse by the catalogue's direction.
//!
//! Facts: `account.{id,name}`, `as_of`, `cohort.{dimension,name,peers}`,
//! `metrics.N.{metric,description,unit,value,median,p25,p75,percentile,position,verdict}`
//! (`position` = above, below or at the median; `verdict` = better, worse or in_line),
//! `summary.{better,worse,in_line,shown,in_line_points}`, `best.{description,percentile}`
//! and `worst.*` (the metrics furthest the good / bad way, when outside in_line_points).

use coco_core::Direction;
use coco_drafts::facts::Facts;
use coco_insights::mid_rank_percentile;
use coco_store::Store;

use super::account_error;
use super::{Report, cite};
use crate::account::account_view;
use crate::drafts::BenchmarkSettings;
use crate::{Config, EngineError};

pub fn facts(
    store: &Store,
    config: &Config,
    settings: &BenchmarkSettings,
    account_id: &str,
    as_of: chrono::NaiveDate,
) -> Result<Facts, EngineError> {
    let view = account_view(store, config, account_id, as_of, 30)
        .map_err(|e| account_error(Report::Benchmark, account_id, e))?;
    let at = Some(view.as_of);
    let snapshot = Some(format!("snapshot {}", view.snapshot_id));
    let ranks = store.account_cohort_ranks(view.snapshot_id, account_id)?;
    let benchmarks = store.account_benchmarks(view.snapshot_id, account_id)?;
    let dimension = settings.dimension.as_str();
    let Some(cohort) = ranks
        .iter()
        .find(|r| r.dimension == dimension)
        .map(|r| r.cohort.clone())
    else {
        return Err(EngineError::Invalid(format!(
            "the benchmark report: {account_id} has no `{dimension}` cohort on {} (expected a [[cohort]] of config/health.toml named in [benchmark] dimension)",
            view.as_of
        )));
    };
    let metas = config.metric_metas();
    let mut facts = Facts::default();
    crate::drafts::account::push_identity(&mut facts, &view);
    facts.text(
        "cohort.dimension",
        dimension,
        cite("config/drafts.toml [benchmark] dimension", None, None),
    );
    facts.text(
        "cohort.name",
        &cohort,
        cite(&format!("cohort of {dimension}"), at, snapshot.clone()),
    );
    let mut shown = 0usize;
    let (mut better, mut worse, mut in_line) = (0usize, 0usize, 0usize);
    let mut peers = 0i64;
    // (index, percentile − 50 the good way) for the best and worst.
    let mut standing: Vec<(String, f64, f64)> = Vec::new();
    for metric in &settings.metrics {
        let Some(rank) = ranks
            .iter()
            .find(|r| r.dimension == dimension && &r.metric == metric)
        else {
            continue;
        };
        let Some(bench) = benchmarks
            .iter()
            .find(|b| b.dimension == dimension && b.cohort == cohort && &b.metric == metric)
        else {
            continue;
        };
        if rank.n <= 0 {
            continue;
        }
        peers = peers.max(rank.n);
        let percentile =
            mid_rank_percentile(rank.below as usize, rank.equal as usize, rank.n as usize);
        let meta = metas.iter().find(|m| &m.name == metric);
        let direction = meta.map_or(Direction::HigherIsBetter, |m| m.direction);
        let key = format!("metrics.{shown}");
        let source = format!("cohort_benchmarks {dimension}={cohort} {metric}");
        facts.text(&format!("{key}.metric"), metric, cite("metric", None, None));
        facts.text(
            &format!("{key}.description"),
            meta.map_or("Health score".to_string(), |m| {
                m.description.trim_end_matches('.').to_string()
            }),
            cite("metric catalogue", None, None),
        );
        facts.text(
            &format!("{key}.unit"),
            meta.map_or(String::new(), |m| m.unit.clone()),
            cite("metric catalogue", None, None),
        );
        facts.number(
            &format!("{key}.value"),
            rank.value,
            cite(metric, at, snapshot.clone()),
        );
        facts.number(
            &format!("{key}.median"),
            bench.p50,
            cite(&format!("{source} p50"), at, snapshot.clone()),
        );
        facts.number(
            &format!("{key}.p25"),
            bench.p25,
            cite(&format!("{source} p25"), at, snapshot.clone()),
        );
        facts.number(
            &format!("{key}.p75"),
            bench.p75,
            cite(&format!("{source} p75"), at, snapshot.clone()),
        );
        facts.number(
            &format!("{key}.percentile"),
            percentile,
            cite(
                &format!(
                    "mid-rank percentile among {} accounts of {dimension}={cohort}",
                    rank.n
                ),
                at,
                snapshot.clone(),
            ),
        );
        let position = if rank.value > bench.p50 {
            "above"
        } else if rank.value < bench.p50 {
            "below"
        } else {
            "at"
        };
        facts.text(
            &format!("{key}.position"),
            position,
            cite(&format!("{metric} against the cohort median"), at, None),
        );
        let good = match direction {
            Direction::LowerIsBetter => 50.0 - percentile,
            _ => percentile - 50.0,
        };
        let neutral = !matches!(
            direction,
            Direction::HigherIsBetter | Direction::LowerIsBetter
        );
        let verdict = if neutral || position == "at" || good.abs() <= settings.in_line_points {
            in_line += 1;
            "in_line"
        } else if good > 0.0 {
            better += 1;
            "better"
        } else {
            worse += 1;
            "worse"
        };
        facts.text(
            &format!("{key}.verdict"),
            verdict,
            cite(
                "percentile against 50 by the catalogue's direction, config/drafts.toml [benchmark] in_line_points",
                at,
                None,
            ),
        );
        if !neutral {
            standing.push((
                meta.map_or("Health score".to_string(), |m| {
                    m.description.trim_end_matches('.').to_string()
                }),
                percentile,
                good,
            ));
        }
        shown += 1;
    }
    if shown == 0 {
        return Err(EngineError::Invalid(format!(
            "the benchmark report: no metric of [benchmark] metrics has a {dimension} benchmark for {account_id} on {} (expected catalogue names the snapshot benchmarks)",
            view.as_of
        )));
    }
    let origin = cite("count of metrics.*.verdict", at, None);
    facts.number("summary.shown", shown as f64, origin.clone());
    facts.number("summary.better", better as f64, origin.clone());
    facts.number("summary.worse", worse as f64, origin.clone());
    facts.number("summary.in_line", in_line as f64, origin);
    facts.number(
        "summary.in_line_points",
        settings.in_line_points,
        cite("config/drafts.toml [benchmark] in_line_points", None, None),
    );
    facts.number(
        "cohort.peers",
        peers as f64,
        cite(
            &format!("accounts of {dimension}={cohort} with a value"),
            at,
            snapshot,
        ),
    );
    let best = standing
        .iter()
        .filter(|(_, _, g)| *g > settings.in_line_points)
        .max_by(|a, b| a.2.total_cmp(&b.2));
    let worst = standing
        .iter()
        .filter(|(_, _, g)| *g < -settings.in_line_points)
        .min_by(|a, b| a.2.total_cmp(&b.2));
    for (name, pick) in [("best", best), ("worst", worst)] {
        if let Some((description, percentile, _)) = pick {
            facts.text(
                &format!("{name}.description"),
                description,
                cite("metric catalogue", None, None),
            );
            facts.number(
                &format!("{name}.percentile"),
                *percentile,
                cite("the metric's percentile in the cohort", at, None),
            );
        }
    }
    Ok(facts)
}

pub fn layout() -> serde_json::Value {
    serde_json::json!({"metrics": [], "summary": {}, "best": {}, "worst": {}})
}
