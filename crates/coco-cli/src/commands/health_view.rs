//! Text rendering of an account's health evidence (`coco account show`).

use anyhow::Result;
use coco_engine::account::AccountView;

use crate::output::new_table;

fn number(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e12 => format!("{v:.0}"),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

pub fn print(view: &AccountView) -> Result<()> {
    let health = &view.health;
    println!(
        "\nHealth as of {}: {} ({}) · scorecard `{}` · {:.0}% of the configured weight had data",
        view.as_of,
        number(health.score.map(|s| (s * 10.0).round() / 10.0)),
        health.colour.as_str(),
        health.scorecard,
        health.weight_coverage * 100.0
    );
    for note in &health.notes {
        println!("  note: {note}");
    }
    if view.history.len() > 1 {
        let trail: Vec<String> = view
            .history
            .iter()
            .rev()
            .take(8)
            .rev()
            .map(|p| {
                format!(
                    "{} {}",
                    p.as_of.format("%m-%d"),
                    number(p.score.map(f64::round))
                )
            })
            .collect();
        println!("  history: {}", trail.join(" · "));
    }
    let mut table = new_table();
    table.set_header(["component", "category", "weight", "score", "points"]);
    for component in &health.components {
        table.add_row([
            component.name.clone(),
            component.category.label().to_string(),
            format!("{:.0}%", component.effective_weight * 100.0),
            number(component.score),
            format!("{:.1}", component.points),
        ]);
    }
    println!("{table}");

    match (&view.change, &view.compared_with) {
        (Some(change), Some(since)) => {
            println!(
                "\nWhy it changed since {since}: {:.1} → {:.1} ({:+.1})",
                change.score_before, change.score_after, change.delta
            );
            let categories: Vec<String> = view
                .change_by_category
                .iter()
                .filter(|c| c.contribution.abs() >= 0.05)
                .map(|c| format!("{} {:+.1}", c.category.label(), c.contribution))
                .collect();
            if !categories.is_empty() {
                println!("  by category: {}", categories.join(", "));
            }
            let mut table = new_table();
            table.set_header(["driver (metric)", "category", "before", "after", "points"]);
            for driver in change
                .drivers
                .iter()
                .filter(|d| d.contribution.abs() >= 0.05)
                .take(10)
            {
                table.add_row([
                    driver.metric.clone(),
                    driver.category.label().to_string(),
                    number(driver.value_before),
                    number(driver.value_after),
                    format!("{:+.1}", driver.contribution),
                ]);
            }
            println!("{table}");
            for decline in &view.declines {
                println!(
                    "  {}: {} — {}",
                    decline.metric,
                    decline.assessment.kind.as_str().replace('_', " "),
                    decline.assessment.reasons.join("; ")
                );
            }
        }
        _ => {
            if let Some(note) = &view.change_note {
                println!("\nNo change explained: {note}");
            }
        }
    }

    if !view.shortfalls.is_empty() {
        println!("\nPulling the score down now");
        let mut table = new_table();
        table.set_header(["metric", "category", "value", "score", "points lost"]);
        for shortfall in view.shortfalls.iter().take(8) {
            table.add_row([
                shortfall.metric.clone(),
                shortfall.category.label().to_string(),
                number(shortfall.value),
                number(Some(shortfall.score)),
                format!("{:.1}", shortfall.points_lost),
            ]);
        }
        println!("{table}");
    }

    println!(
        "\nEvidence: metric values and percentiles among peers (p = percentile, med = cohort median)"
    );
    let dimensions: Vec<String> = view
        .evidence
        .iter()
        .flat_map(|e| e.cohorts.iter().map(|c| c.dimension.clone()))
        .fold(Vec::new(), |mut seen, d| {
            if !seen.contains(&d) {
                seen.push(d);
            }
            seen
        });
    let mut table = new_table();
    let mut header = vec!["metric".to_string(), "value".into(), "unit".into()];
    for dimension in dimensions.iter().take(3) {
        header.push(dimension.clone());
    }
    table.set_header(header);
    for evidence in &view.evidence {
        let mut row = vec![
            evidence.metric.clone(),
            number(Some(evidence.value)),
            evidence.unit.clone(),
        ];
        for dimension in dimensions.iter().take(3) {
            row.push(
                evidence
                    .cohorts
                    .iter()
                    .find(|c| &c.dimension == dimension)
                    .map(|c| format!("p{:.0} (med {})", c.percentile, number(c.median)))
                    .unwrap_or_else(|| "-".into()),
            );
        }
        table.add_row(row);
    }
    println!("{table}");
    Ok(())
}
