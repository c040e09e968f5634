//! The evaluation report: what was trained on what, how it was chosen, how well it did on
//! rows it never saw, how early it warned — as Markdown (for the terminal and files) and
//! HTML with SVG charts (ROC, calibration, lift by decile), the same content in both.
//! The web dashboard's Model page renders the stored [`Report`] with [`Report::html_body`].

use coco_charts::{Bar, BarChart, LineChart, LineSeries, Size, ValueFormat, escape};
use serde::{Deserialize, Serialize};

use crate::dataset::LeadTime;
use crate::evaluate::Evaluation;
use crate::train::CandidateResult;

/// One model (or baseline) evaluated on the test rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedEvaluation {
    pub name: String,
    pub evaluation: Evaluation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub title: String,
    /// "Out-of-time backtest" or "Held-out split".
    pub method: String,
    /// Facts about the data and the split, in order ("training window", "2026-01-05 to …").
    pub facts: Vec<(String, String)>,
    pub candidates: Vec<CandidateResult>,
    /// The chosen model first, then the other kind, then baselines.
    pub results: Vec<NamedEvaluation>,
    pub lead_time: Option<LeadTime>,
    /// Mean |contribution| per input on the test rows (log-odds), largest first.
    pub importance: Vec<(String, f64)>,
    pub notes: Vec<String>,
}

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.decimals$}"))
}

fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

impl Report {
    pub fn chosen(&self) -> Option<&NamedEvaluation> {
        self.results.first()
    }

    fn metric_rows(&self) -> Vec<[String; 8]> {
        self.results
            .iter()
            .map(|r| {
                let e = &r.evaluation;
                [
                    r.name.clone(),
                    number(e.auc, 3),
                    number(e.pr_auc, 3),
                    number(e.top_decile_lift, 2),
                    format!("{:.4}", e.brier),
                    format!("{:.3}", e.ece),
                    format!("{}", e.n),
                    format!("{} ({})", e.positives, percent(e.base_rate)),
                ]
            })
            .collect()
    }

    fn lead_time_sentence(&self) -> Option<String> {
        let lead = self.lead_time.as_ref()?;
        Some(format!(
            "Of {} churned accounts whose whole horizon lies in the test window, {} reached {} (p ≥ {:.2}) before churning; median lead time {}; {} were flagged at least 45 days ahead.",
            lead.churned_accounts,
            lead.flagged,
            "the high-risk tier",
            lead.threshold,
            lead.median_days
                .map_or_else(|| "n/a".to_string(), |d| format!("{d:.0} days")),
            percent(lead.share_at_least_45_days)
        ))
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("# {}\n\nMethod: {}.\n\n", self.title, self.method);
        for (key, value) in &self.facts {
            out.push_str(&format!("- {key}: {value}\n"));
        }
        out.push_str("\n## Results on the test rows\n\n");
        out.push_str("| model | AUC | PR-AUC | top-decile lift | Brier | ECE | rows | churned |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for row in self.metric_rows() {
            out.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        if let Some(sentence) = self.lead_time_sentence() {
            out.push_str(&format!("\n## Lead time\n\n{sentence}\n"));
        }
        if let Some(chosen) = self.chosen() {
            out.push_str(&format!("\n## Calibration ({})\n\n", chosen.name));
            out.push_str(
                "| predicted | rows | mean predicted | observed |\n|---|---:|---:|---:|\n",
            );
            for bin in &chosen.evaluation.calibration {
                out.push_str(&format!(
                    "| {:.0}–{:.0}% | {} | {} | {} |\n",
                    bin.lower * 100.0,
                    bin.upper * 100.0,
                    bin.n,
                    percent(bin.mean_predicted),
                    percent(bin.observed_rate)
                ));
            }
            if !chosen.evaluation.decile_rates.is_empty() {
                out.push_str("\nChurn rate by decile of predicted risk (highest first): ");
                let rates: Vec<String> = chosen
                    .evaluation
                    .decile_rates
                    .iter()
                    .map(|r| percent(*r))
                    .collect();
                out.push_str(&rates.join(", "));
                out.push('\n');
            }
        }
        out.push_str("\n## Candidates (cross-fitted on the training rows)\n\n");
        out.push_str("| candidate | out-of-fold AUC | trees | chosen |\n|---|---:|---:|---|\n");
        for c in &self.candidates {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                c.description,
                number(c.out_of_fold_auc, 3),
                c.trees.map_or_else(String::new, |t| t.to_string()),
                if c.chosen { "yes" } else { "" }
            ));
        }
        if !self.importance.is_empty() {
            out.push_str("\n## What the model relies on\n\nMean absolute contribution to the log-odds on the test rows:\n\n");
            for (feature, value) in self.importance.iter().take(15) {
                out.push_str(&format!("- {feature}: {value:.3}\n"));
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\n## Notes\n\n");
            for note in &self.notes {
                out.push_str(&format!("- {note}\n"));
            }
        }
        out
    }

    /// ROC curves of every result on a common false-positive-rate grid, with chance.
    pub fn roc_svg(&self) -> String {
        let grid: Vec<f64> = (0..=20).map(|k| f64::from(k) / 20.0).collect();
        let mut series: Vec<LineSeries> = self
            .results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let points = grid
                    .iter()
                    .map(|x| Some(tpr_at(&r.evaluation.roc, *x) * 100.0))
                    .collect();
                LineSeries::new(
                    format!("{} (AUC {})", r.name, number(r.evaluation.auc, 3)),
                    format!("series-{i}"),
                    points,
                )
            })
            .collect();
        series.push(LineSeries::new(
            "chance",
            "chance",
            grid.iter().map(|x| Some(x * 100.0)).collect(),
        ));
        LineChart {
            title:
                "ROC: share of churners caught (y) against share of retained accounts flagged (x)"
                    .into(),
            x_labels: grid.iter().map(|x| format!("{:.0}%", x * 100.0)).collect(),
            series,
            y_min: Some(0.0),
            y_max: Some(100.0),
            y_unit: "%".into(),
            bands: Vec::new(),
            size: Size {
                width: 520,
                height: 300,
            },
        }
        .render()
    }

    /// Mean predicted against observed churn rate per probability bin (chosen model).
    pub fn calibration_svg(&self) -> String {
        let bins = self
            .chosen()
            .map(|c| c.evaluation.calibration.clone())
            .unwrap_or_default();
        LineChart {
            title: "Calibration: predicted against observed churn rate per probability band".into(),
            x_labels: bins
                .iter()
                .map(|b| format!("{:.0}–{:.0}%", b.lower * 100.0, b.upper * 100.0))
                .collect(),
            series: vec![
                LineSeries::new(
                    "predicted",
                    "series-0",
                    bins.iter()
                        .map(|b| Some(b.mean_predicted * 100.0))
                        .collect(),
                ),
                LineSeries::new(
                    "observed",
                    "series-1",
                    bins.iter().map(|b| Some(b.observed_rate * 100.0)).collect(),
                ),
            ],
            y_min: Some(0.0),
            y_max: None,
            y_unit: "%".into(),
            bands: Vec::new(),
            size: Size {
                width: 520,
                height: 300,
            },
        }
        .render()
    }

    /// Churn rate per decile of predicted risk (chosen model).
    pub fn lift_svg(&self) -> String {
        let rates = self
            .chosen()
            .map(|c| c.evaluation.decile_rates.clone())
            .unwrap_or_default();
        BarChart {
            title: "Churn rate by decile of predicted risk, highest risk first".into(),
            bars: rates
                .iter()
                .enumerate()
                .map(|(d, r)| {
                    Bar::new(
                        format!("D{}", d + 1),
                        r * 100.0,
                        if d == 0 { "red" } else { "series-0" },
                    )
                })
                .collect(),
            value_format: ValueFormat::Percent,
            horizontal: false,
            size: Size {
                width: 520,
                height: 260,
            },
        }
        .render()
    }

    /// The report's body (no `<html>` wrapper): for the dashboard and [`Report::html`].
    pub fn html_body(&self) -> String {
        let mut out = format!(
            "<h1>{}</h1>\n<p>Method: {}.</p>\n<ul class=\"facts\">\n",
            escape(&self.title),
            escape(&self.method)
        );
        for (key, value) in &self.facts {
            out.push_str(&format!(
                "<li><b>{}</b>: {}</li>\n",
                escape(key),
                escape(value)
            ));
        }
        out.push_str("</ul>\n<h2>Results on the test rows</h2>\n<table class=\"metrics\"><thead><tr><th>model</th><th>AUC</th><th>PR-AUC</th><th>top-decile lift</th><th>Brier</th><th>ECE</th><th>rows</th><th>churned</th></tr></thead><tbody>\n");
        for row in self.metric_rows() {
            out.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                let tag = if i == 0 { "th" } else { "td" };
                out.push_str(&format!("<{tag}>{}</{tag}>", escape(cell)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table>\n");
        if let Some(sentence) = self.lead_time_sentence() {
            out.push_str(&format!(
                "<h2>Lead time</h2>\n<p class=\"lead-time\">{}</p>\n",
                escape(&sentence)
            ));
        }
        out.push_str(&format!(
            "<div class=\"charts\"><figure>{}</figure><figure>{}</figure><figure>{}</figure></div>\n",
            self.roc_svg(),
            self.calibration_svg(),
            self.lift_svg()
        ));
        if let Some(chosen) = self.chosen() {
            out.push_str(&format!("<h2>Calibration ({})</h2>\n<table class=\"calibration\"><thead><tr><th>predicted</th><th>rows</th><th>mean predicted</th><th>observed</th></tr></thead><tbody>\n", escape(&chosen.name)));
            for bin in &chosen.evaluation.calibration {
                out.push_str(&format!(
                    "<tr><td>{:.0}–{:.0}%</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    bin.lower * 100.0,
                    bin.upper * 100.0,
                    bin.n,
                    percent(bin.mean_predicted),
                    percent(bin.observed_rate)
                ));
            }
            out.push_str("</tbody></table>\n");
        }
        out.push_str("<h2>Candidates (cross-fitted on the training rows)</h2>\n<table class=\"candidates\"><thead><tr><th>candidate</th><th>out-of-fold AUC</th><th>trees</th><th>chosen</th></tr></thead><tbody>\n");
        for c in &self.candidates {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(&c.description),
                number(c.out_of_fold_auc, 3),
                c.trees.map_or_else(String::new, |t| t.to_string()),
                if c.chosen { "yes" } else { "" }
            ));
        }
        out.push_str("</tbody></table>\n");
        if !self.importance.is_empty() {
            out.push_str("<h2>What the model relies on</h2>\n<ol class=\"importance\">\n");
            for (feature, value) in self.importance.iter().take(15) {
                out.push_str(&format!(
                    "<li>{} <span class=\"num\">{value:.3}</span></li>\n",
                    escape(feature)
                ));
            }
            out.push_str("</ol>\n");
        }
        if !self.notes.is_empty() {
            out.push_str("<h2>Notes</h2>\n<ul class=\"notes\">\n");
            for note in &self.notes {
                out.push_str(&format!("<li>{}</li>\n", escape(note)));
            }
            out.push_str("</ul>\n");
        }
        out
    }

    /// A standalone HTML page (charts styled by coco-charts' starting stylesheet).
    pub fn html(&self) -> String {
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\nbody{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}.charts{{display:flex;flex-wrap:wrap;gap:1em}}figure{{margin:0}}\n{}\n.chance{{stroke:#999;stroke-dasharray:4 3}}\n</style></head><body>\n{}</body></html>\n",
            escape(&self.title),
            coco_charts::STYLESHEET,
            self.html_body()
        )
    }
}

/// True positive rate at false positive rate `x` (linear between ROC points).
fn tpr_at(roc: &[(f64, f64)], x: f64) -> f64 {
    if roc.is_empty() {
        return x;
    }
    let mut best = 0.0;
    for window in roc.windows(2) {
        let ((x0, y0), (x1, y1)) = (window[0], window[1]);
        if x0 <= x && x <= x1 {
            return if x1 == x0 {
                y1.max(y0)
            } else {
                y0 + (y1 - y0) * (x - x0) / (x1 - x0)
            };
        }
        if x1 <= x {
            best = y1;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::evaluate;

    #[test]
    fn both_formats_carry_the_numbers_and_escape_names() {
        let p: Vec<f64> = (0..200).map(|i| f64::from(i) / 200.0).collect();
        let l: Vec<bool> = (0..200).map(|i| i % 3 == 0 || i > 170).collect();
        let report = Report {
            title: "Churn model <v1>".into(),
            method: "Held-out split".into(),
            facts: vec![("rows".into(), "200".into())],
            candidates: Vec::new(),
            results: vec![NamedEvaluation {
                name: "trees".into(),
                evaluation: evaluate(&p, &l),
            }],
            lead_time: None,
            importance: vec![("usage".into(), 0.5)],
            notes: vec!["note".into()],
        };
        let auc = format!(
            "{:.3}",
            report.results[0].evaluation.auc.unwrap_or_default()
        );
        assert!(report.markdown().contains(&auc));
        let html = report.html();
        assert!(html.contains(&auc));
        assert!(html.contains("Churn model &lt;v1&gt;"));
        assert_eq!(html.matches("<svg").count(), 3);
    }
}
