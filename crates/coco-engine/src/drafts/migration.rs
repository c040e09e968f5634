//! The facts of a tier-migration email: the account's place in the coverage model's
//! migration plan (`coco segments migration`) as of the draft's date — where it is served
//! now, the tier and coverage it moves to, what the new coverage gives it, and, for the
//! CSM reviewing the draft, the transition risks and whether the move should wait.

use chrono::NaiveDate;
use coco_drafts::facts::Facts;
use coco_insights::segments::migration::{Candidate, MoveDirection};
use coco_store::Store;

use super::account::cite;
use crate::lifecycle;
use crate::{Config, EngineError};

/// The account's migration candidate as of `as_of`, or an error saying why there is none.
pub fn candidate(
    store: &Store,
    config: &Config,
    account_id: &str,
    as_of: NaiveDate,
) -> Result<Candidate, EngineError> {
    let base = lifecycle::load_base(store, config, as_of)?;
    let run = lifecycle::tiering(store, config, &base, false)?;
    let plan = lifecycle::migration(store, &base, &run, config)?;
    if let Some(found) = plan
        .upgrades
        .into_iter()
        .chain(plan.downgrades)
        .find(|c| c.account_id == account_id)
    {
        return Ok(found);
    }
    let placed = run
        .assignments
        .iter()
        .find(|a| a.account_id == account_id)
        .map(|a| {
            format!(
                "its tier {} is served with {}, which matches its coverage {}",
                a.tier_label,
                a.recommended_coverage,
                a.current_coverage.as_deref().unwrap_or("(none recorded)")
            )
        })
        .unwrap_or_else(|| "it was not tiered (no snapshot row)".to_string());
    Err(EngineError::Invalid(format!(
        "account {account_id} is not a tier-migration candidate as of {}: {placed}; \
         `coco segments migration` lists the candidates",
        plan.as_of
    )))
}

/// `migration.*`: the move, cited to the coverage model and the tiering run.
pub fn push_facts(facts: &mut Facts, candidate: &Candidate, as_of: NaiveDate, model: &str) {
    let at = Some(as_of);
    let record = Some(format!(
        "segments migration {as_of} {}",
        candidate.account_id
    ));
    let source = |what: &str| cite(&format!("{model}: {what}"), at, record.clone());
    let direction = match candidate.direction {
        MoveDirection::Upgrade => "upgrade",
        MoveDirection::Downgrade => "downgrade",
    };
    facts.text("migration.direction", direction, source("direction"));
    facts.text(
        "migration.from_coverage",
        &candidate.from_coverage,
        cite("accounts.coverage_model", at, record.clone()),
    );
    facts.text("migration.to_tier", &candidate.to_tier, source("tier"));
    facts.text(
        "migration.to_tier_label",
        &candidate.to_tier_label,
        source("tier"),
    );
    facts.text(
        "migration.to_coverage",
        &candidate.to_coverage,
        source("tier coverage"),
    );
    facts.text(
        "migration.coverage_plan",
        &candidate.coverage_plan,
        source("tier coverage_plan"),
    );
    facts.number("migration.score", candidate.score, source("tiering score"));
    for (i, reason) in candidate.reasons.iter().enumerate() {
        facts.text(
            &format!("migration.reasons.{i}"),
            reason,
            source("tiering factors"),
        );
    }
    for (i, risk) in candidate.transition_risks.iter().enumerate() {
        facts.text(
            &format!("migration.risks.{i}"),
            risk,
            source("transition risks (config/segments.toml [migration])"),
        );
    }
    if let Some(exception) = &candidate.exception {
        facts.text(
            "migration.exception",
            exception,
            source("migration exception"),
        );
    }
    if let Some(previous) = &candidate.previous_tier {
        facts.text(
            "migration.previous_tier",
            previous,
            cite("segment_assignments (last application)", at, record.clone()),
        );
    }
}
