//! Expansion opportunities over the store: gathers the analyzer's inputs as of a date
//! (snapshot, weekly history, feature usage, tickets and feedback, goal notes, health,
//! churn, past outcomes, cross-sell references, signal weights) and runs
//! `coco_insights::expansion`. Also the backtest of the signals against expansions won
//! after them (the feedback loop) and recording an opportunity's outcome.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use coco_insights::expansion::crosssell::{LookAlike, ModuleReference, Profile, Propensity};
use coco_insights::expansion::feedback::{SignalObservation, signal_precision};
use coco_insights::expansion::{
    ChurnBrief, ExpansionInputs, GoalNote, HealthBrief, Holding, ItemSource, Opportunity,
    PipelineSummary, SignalKind, SignalPrecision, SignalWeights, WinHistory, WorkItem, analyse,
    pipeline_summary,
};
use coco_models::table::{Table, Values};
use coco_models::train::{KindChoice, fit, stratified_folds};
use coco_store::Store;
use coco_store::growth::{RecordedOutcome, SignalStatRow};
use coco_store::snapshots::SnapshotInfo;
use serde::Serialize;

use crate::churn::scoring::stored_predictions;
use crate::growth::{GrowthBase, load_base, load_snapshot_base};
use crate::{Config, EngineError};

/// Most recent buyers per module kept as look-alike references, and non-buyers drawn
/// per buyer: bounds the neighbour search at any book size.
const MAX_ADOPTERS: usize = 300;
const OTHERS_PER_ADOPTER: usize = 3;

/// The owned inputs of one analysis.
pub struct ExpansionData {
    pub base: Arc<GrowthBase>,
    pub holdings: Vec<Holding>,
    pub items: Vec<Vec<WorkItem>>,
    pub goals: Vec<Vec<GoalNote>>,
    pub health: Vec<Option<HealthBrief>>,
    pub churn: Vec<Option<ChurnBrief>>,
    pub win_history: WinHistory,
    pub weights: SignalWeights,
    pub cross_sell: Vec<Vec<Propensity>>,
}

impl ExpansionData {
    pub fn inputs(&self) -> ExpansionInputs<'_> {
        ExpansionInputs {
            frame: &self.base.frame,
            names: &self.base.names,
            holdings: &self.holdings,
            history: &self.base.history,
            usage: &self.base.usage,
            items: &self.items,
            goals: &self.goals,
            health: &self.health,
            churn: &self.churn,
            win_history: &self.win_history,
            weights: &self.weights,
            cross_sell: &self.cross_sell,
        }
    }
}

/// Everything the analysis reads, as of `as_of`.
pub fn load(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
) -> Result<ExpansionData, EngineError> {
    let base = load_base(store, config, as_of)?;
    from_base(store, config, base, true)
}

/// The rest of the inputs over a loaded base; `with_churn`: the stored churn
/// predictions of the base's date feed the timing light.
pub fn from_base(
    store: &Store,
    config: &Config,
    base: Arc<GrowthBase>,
    with_churn: bool,
) -> Result<ExpansionData, EngineError> {
    let started = std::time::Instant::now();
    let as_of = base.snapshot.as_of;
    let frame = &base.frame;
    let count = frame.account_count();
    let index: HashMap<&str, usize> = frame
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.account_id.as_str(), i))
        .collect();
    let held = store.holdings(as_of)?;
    let holdings: Vec<Holding> = frame
        .accounts
        .iter()
        .map(|row| {
            let h = held.get(&row.account_id).cloned().unwrap_or_default();
            Holding {
                plan_tier: row
                    .attributes
                    .get("plan_tier")
                    .and_then(|v| v.as_text())
                    .map(str::to_string),
                seats: row.attributes.get("seats").and_then(|v| v.as_number()),
                arr: row.attributes.get("arr").and_then(|v| v.as_number()),
                products: h.products,
                renewal_date: h.renewal_date,
            }
        })
        .collect();
    let mut items: Vec<Vec<WorkItem>> = vec![Vec::new(); count];
    for row in store.work_items(as_of, config.expansion.signals.module_gap.window_days)? {
        if let Some(&i) = index.get(row.account_id.as_str()) {
            items[i].push(WorkItem {
                source: if row.table == "tickets" {
                    ItemSource::Ticket
                } else {
                    ItemSource::Feedback
                },
                id: row.id,
                date: row.date,
                category: row.category,
                text: row.text,
                feature_key: row.feature_key,
            });
        }
    }
    let mut goals: Vec<Vec<GoalNote>> = vec![Vec::new(); count];
    for row in store.goal_notes(
        as_of,
        365,
        &config.expansion.talking_points.goal_keywords,
        3,
    )? {
        if let Some(&i) = index.get(row.account_id.as_str()) {
            goals[i].push(GoalNote {
                touchpoint_id: row.touchpoint_id,
                date: row.date,
                text: row.text,
            });
        }
    }
    tracing::info!(
        "expansion: holdings, items, goals in {:.2?}",
        started.elapsed()
    );
    let briefs = store.health_briefs(base.snapshot.snapshot_id)?;
    let health = frame
        .accounts
        .iter()
        .map(|a| {
            briefs
                .get(&a.account_id)
                .map(|(score, colour)| HealthBrief {
                    score: *score,
                    colour: Some(colour.clone()),
                })
        })
        .collect();
    let mut churn: Vec<Option<ChurnBrief>> = vec![None; count];
    if with_churn && let Some((_, predictions)) = stored_predictions(store, None, as_of, None)? {
        for p in predictions {
            if let Some(&i) = index.get(p.account_id.as_str()) {
                churn[i] = Some(ChurnBrief {
                    probability: p.probability,
                    tier: p.tier,
                });
            }
        }
    }
    let mut win_history = WinHistory::default();
    for outcome in store.expansion_outcomes(as_of)? {
        if outcome.opportunity {
            win_history.record(&outcome.expansion_type, outcome.won);
        }
    }
    let weights = stored_weights(store)?;
    tracing::info!(
        "expansion: health, churn, outcomes in {:.2?}",
        started.elapsed()
    );
    let cross_sell = cross_sell(store, config, &base, &holdings)?;
    tracing::info!("expansion: cross-sell in {:.2?}", started.elapsed());
    Ok(ExpansionData {
        base,
        holdings,
        items,
        goals,
        health,
        churn,
        win_history,
        weights,
        cross_sell,
    })
}

fn stored_weights(store: &Store) -> Result<SignalWeights, EngineError> {
    Ok(SignalWeights {
        weights: store
            .signal_stats()?
            .into_iter()
            .filter_map(|s| SignalKind::parse(&s.signal).map(|k| (k, s.weight)))
            .collect(),
    })
}

/// Look-alike propensities for every add-on module of the price book an account does
/// not hold. Buyers are compared as they were in the snapshot before they bought.
fn cross_sell(
    store: &Store,
    config: &Config,
    base: &GrowthBase,
    holdings: &[Holding],
) -> Result<Vec<Vec<Propensity>>, EngineError> {
    let settings = &config.expansion.signals.cross_sell;
    let frame = &base.frame;
    let mut out: Vec<Vec<Propensity>> = vec![Vec::new(); frame.account_count()];
    if !settings.enabled {
        return Ok(out);
    }
    let fingerprint = config.catalogue.fingerprint();
    let snapshots: Vec<SnapshotInfo> = store
        .list_snapshots()?
        .into_iter()
        .filter(|s| s.catalogue_fingerprint == fingerprint && s.as_of <= base.snapshot.as_of)
        .collect();
    let feature_columns: Vec<Option<usize>> = settings
        .features
        .iter()
        .map(|name| frame.metric_index(name))
        .collect();
    for module in &config.expansion.price_book.modules {
        let mut bought = store.product_adoptions(&module.module, base.snapshot.as_of)?;
        bought.reverse();
        bought.truncate(MAX_ADOPTERS);
        // The snapshot before each purchase, at most 120 days before it.
        let mut pairs: Vec<(i64, String)> = Vec::new();
        let mut adopted: Vec<bool> = Vec::new();
        let mut per_snapshot: BTreeMap<i64, usize> = BTreeMap::new();
        for (account, on) in &bought {
            let Some(before) = snapshots
                .iter()
                .find(|s| s.as_of < *on && (*on - s.as_of).num_days() <= 120)
            else {
                continue;
            };
            pairs.push((before.snapshot_id, account.clone()));
            adopted.push(true);
            *per_snapshot.entry(before.snapshot_id).or_default() += 1;
        }
        if pairs.len() < settings.min_adopters {
            continue;
        }
        for (snapshot, buyers) in per_snapshot {
            for account in store.accounts_without_product(
                snapshot,
                &module.module,
                buyers * OTHERS_PER_ADOPTER,
            )? {
                pairs.push((snapshot, account));
                adopted.push(false);
            }
        }
        let values = store.metric_values_at(&pairs, &settings.features)?;
        let reference = ModuleReference {
            module: module.module.clone(),
            profiles: pairs
                .iter()
                .zip(values)
                .zip(&adopted)
                .map(|(((_, account), values), adopted)| Profile {
                    account_id: account.clone(),
                    values,
                    adopted: *adopted,
                })
                .collect(),
        };
        let Some(look_alike) = LookAlike::fit(&reference, settings) else {
            continue;
        };
        let candidates: Vec<usize> = (0..holdings.len())
            .filter(|a| {
                let products = &holdings[*a].products;
                !products.is_empty() && !products.iter().any(|p| p == &module.module)
            })
            .collect();
        let rows: Vec<Vec<f64>> = candidates
            .iter()
            .map(|account| {
                feature_columns
                    .iter()
                    .map(|c| c.and_then(|m| frame.value(*account, m)).unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let trained = if adopted.iter().filter(|a| **a).count() >= settings.model_min_adopters {
            trained_propensities(config, &settings.features, &reference, &rows)?
        } else {
            None
        };
        for (i, account) in candidates.iter().enumerate() {
            let mut propensity = look_alike.score(&rows[i], settings);
            if let Some((probabilities, method)) = &trained {
                propensity = propensity.with_model(probabilities[i], method.clone());
            }
            out[*account].push(propensity);
        }
    }
    Ok(out)
}

/// Propensities from a logistic model trained on the reference profiles (buyers against
/// non-buyers), cross-validated and calibrated by the churn models' machinery; with the
/// method in words (its out-of-fold AUC). None when the model cannot be fitted.
fn trained_propensities(
    config: &Config,
    features: &[String],
    reference: &ModuleReference,
    rows: &[Vec<f64>],
) -> Result<Option<(Vec<f64>, String)>, EngineError> {
    let table = |profiles: &mut dyn Iterator<Item = &Vec<f64>>| -> Result<Table, EngineError> {
        let rows: Vec<&Vec<f64>> = profiles.collect();
        let mut table = Table::default();
        for (f, name) in features.iter().enumerate() {
            let column: Vec<f64> = rows
                .iter()
                .map(|r| r.get(f).copied().unwrap_or(f64::NAN))
                .collect();
            table.push(name.clone(), Values::Numeric(column))?;
        }
        Ok(table)
    };
    let training = table(&mut reference.profiles.iter().map(|p| &p.values))?;
    let labels: Vec<bool> = reference.profiles.iter().map(|p| p.adopted).collect();
    let folds = stratified_folds(
        &labels,
        config.models.training.folds,
        config.models.training.seed,
    );
    let fitted = match fit(
        &training,
        &labels,
        &folds,
        &config.models,
        &KindChoice::Logistic,
    ) {
        Ok(fitted) => fitted,
        Err(e) => {
            tracing::warn!("cross-sell model for {} not trained: {e}", reference.module);
            return Ok(None);
        }
    };
    let auc = fitted
        .candidates
        .iter()
        .find(|c| c.chosen)
        .and_then(|c| c.out_of_fold_auc);
    let candidates = table(&mut rows.iter())?;
    let probabilities = fitted.model.probabilities(&candidates)?;
    let buyers = labels.iter().filter(|l| **l).count();
    Ok(Some((
        probabilities,
        format!(
            "logistic model on {buyers} buyers and {} non-buyers{}",
            labels.len() - buyers,
            auc.map_or(String::new(), |a| format!(", out-of-fold AUC {a:.2}"))
        ),
    )))
}

/// The pipeline as of a date.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExpansionRun {
    pub as_of: NaiveDate,
    pub snapshot_id: i64,
    pub config_version: String,
    pub opportunities: Vec<Opportunity>,
    pub summary: PipelineSummary,
}

/// Every opportunity as of `as_of`, highest priority first.
pub fn pipeline(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    target_arr: Option<f64>,
) -> Result<ExpansionRun, EngineError> {
    Ok(run(&load(store, config, as_of)?, config, target_arr))
}

/// The pipeline over loaded inputs.
pub fn run(data: &ExpansionData, config: &Config, target_arr: Option<f64>) -> ExpansionRun {
    let started = std::time::Instant::now();
    let opportunities = analyse(&data.inputs(), &config.expansion);
    tracing::info!("expansion: analysis in {:.2?}", started.elapsed());
    let summary = pipeline_summary(&opportunities, target_arr);
    ExpansionRun {
        as_of: data.base.snapshot.as_of,
        snapshot_id: data.base.snapshot.snapshot_id,
        config_version: config.expansion.version.clone(),
        opportunities,
        summary,
    }
}

/// The opportunities of one account (every signal with its evidence).
pub fn account_opportunities(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    account_id: &str,
) -> Result<Vec<Opportunity>, EngineError> {
    let data = load(store, config, as_of)?;
    let account = crate::growth::account_index(&data.base.frame, account_id)?;
    Ok(coco_insights::expansion::analyse_account(
        &data.inputs(),
        &config.expansion,
        account,
    ))
}

/// An outcome as a CSM reports it.
#[derive(Debug, Clone)]
pub struct OutcomeReport {
    pub opportunity_id: String,
    /// won, lost or no_decision.
    pub outcome: String,
    pub decided_on: NaiveDate,
    pub arr_added: Option<f64>,
    pub note: Option<String>,
    pub recorded_by: Option<String>,
}

/// Records the outcome of an opportunity, with the signals it had at the latest
/// snapshot on or before the decision.
pub fn record_outcome(
    store: &Store,
    config: &Config,
    report: OutcomeReport,
) -> Result<RecordedOutcome, EngineError> {
    let OutcomeReport {
        opportunity_id,
        outcome,
        decided_on,
        arr_added,
        note,
        recorded_by,
    } = report;
    let opportunity_id = opportunity_id.as_str();
    if !["won", "lost", "no_decision"].contains(&outcome.as_str()) {
        return Err(EngineError::Invalid(format!(
            "outcome `{outcome}` is not won, lost or no_decision"
        )));
    }
    let (account_id, slug) = opportunity_id.split_once(':').ok_or_else(|| {
        EngineError::Invalid(format!(
            "`{opportunity_id}` is not an opportunity id (ACCOUNT:seats, ACCOUNT:tier:TIER or ACCOUNT:module:MODULE; see `coco expansion list`)"
        ))
    })?;
    let expansion_type = slug.split(':').next().unwrap_or(slug).to_string();
    if !["seats", "tier", "module"].contains(&expansion_type.as_str()) {
        return Err(EngineError::Invalid(format!(
            "`{opportunity_id}`: the type `{expansion_type}` is not seats, tier or module"
        )));
    }
    let found = account_opportunities(store, config, decided_on, account_id)?;
    let before = found.iter().find(|o| o.id == opportunity_id);
    let signals: Vec<&str> = before
        .map(|o| o.signals.iter().map(|s| s.kind.as_str()).collect())
        .unwrap_or_default();
    let recorded = RecordedOutcome {
        opportunity_id: opportunity_id.to_string(),
        account_id: account_id.to_string(),
        expansion_type,
        outcome,
        decided_on,
        arr_added,
        note,
        signals: serde_json::to_string(&signals).map_err(EngineError::Json)?,
        snapshot_as_of: before.map(|o| o.as_of),
        expected_arr: before.map(|o| o.sizing.expected_arr),
        recorded_by,
    };
    store.record_expansion_outcome(&recorded)?;
    Ok(recorded)
}

/// What the backtest found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Backtest {
    pub dates: Vec<NaiveDate>,
    pub observations: usize,
    pub won: usize,
    pub base_rate: f64,
    pub precision: Vec<SignalPrecision>,
}

/// Runs the signals as of past snapshots (every `step_days`, up to `points` dates, each
/// at least the outcome window before the latest snapshot) and compares them with the
/// expansions won in the window after each date; recorded outcomes add their own
/// observations. Stores the per-signal weights the priority uses.
pub fn backtest(
    store: &Store,
    config: &Config,
    as_of: NaiveDate,
    points: usize,
    step_days: u32,
) -> Result<Backtest, EngineError> {
    let window = u64::from(config.expansion.priority.outcome_window_days);
    let latest = crate::portfolio::snapshot_pair(store, config, as_of, 0)?.current;
    let fingerprint = config.catalogue.fingerprint();
    let outcomes = store.expansion_outcomes(latest.as_of)?;
    let mut observations = Vec::new();
    let mut dates = Vec::new();
    let mut target = latest.as_of.checked_sub_days(Days::new(window));
    while let Some(day) = target {
        if dates.len() >= points {
            break;
        }
        let Some(snapshot) = store.snapshot_on_or_before(day, &fingerprint)? else {
            break;
        };
        if dates.contains(&snapshot.as_of) {
            break;
        }
        dates.push(snapshot.as_of);
        let base = load_snapshot_base(store, config, snapshot.clone())?;
        // Churn predictions of that date are not necessarily stored: the light then rests
        // on health and the metric rules alone.
        let data = from_base(store, config, base, false)?;
        let inputs = data.inputs();
        let context =
            coco_insights::expansion::signals::PortfolioContext::new(&inputs, &config.expansion);
        let horizon = snapshot.as_of + Days::new(window);
        let mut won_by_account: HashMap<&str, bool> = HashMap::new();
        for o in &outcomes {
            if o.won && o.decided_on > snapshot.as_of && o.decided_on <= horizon {
                won_by_account.insert(o.account_id.as_str(), true);
            }
        }
        for (account, row) in inputs.frame.accounts.iter().enumerate() {
            let mut kinds: Vec<SignalKind> = coco_insights::expansion::signals::detect(
                &inputs,
                &config.expansion,
                &context,
                account,
            )
            .into_iter()
            .map(|s| s.kind)
            .collect();
            kinds.sort();
            kinds.dedup();
            observations.push(SignalObservation {
                account_id: row.account_id.clone(),
                as_of: snapshot.as_of,
                kinds,
                won: won_by_account.contains_key(row.account_id.as_str()),
            });
        }
        target = snapshot
            .as_of
            .checked_sub_days(Days::new(u64::from(step_days)));
    }
    for o in outcomes.iter().filter(|o| o.source == "recorded") {
        let kinds: Vec<SignalKind> = o
            .signals
            .as_deref()
            .and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
            .unwrap_or_default()
            .iter()
            .filter_map(|k| SignalKind::parse(k))
            .collect();
        observations.push(SignalObservation {
            account_id: o.account_id.clone(),
            as_of: o.decided_on,
            kinds,
            won: o.won,
        });
    }
    let precision = signal_precision(&observations, config.expansion.priority.shrink_outcomes);
    let won = observations.iter().filter(|o| o.won).count();
    let dates_text = dates
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let rows: Vec<SignalStatRow> = precision
        .iter()
        .map(|p| SignalStatRow {
            signal: p.signal.as_str().to_string(),
            fired: i64::from(p.fired),
            won: i64::from(p.won),
            precision: p.precision,
            recall: p.recall,
            lift: p.lift,
            weight: p.weight,
            observations: observations.len() as i64,
            dates: dates_text.clone(),
            computed_at: None,
        })
        .collect();
    store.replace_signal_stats(&rows)?;
    Ok(Backtest {
        base_rate: if observations.is_empty() {
            0.0
        } else {
            won as f64 / observations.len() as f64
        },
        dates,
        observations: observations.len(),
        won,
        precision,
    })
}
