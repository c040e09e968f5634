//! How good a set of probabilities is: discrimination (AUC, PR-AUC, lift), accuracy of the
//! probabilities themselves (Brier score, expected calibration error, a calibration table)
//! and the ROC curve for the report.
//!
//! Written here rather than taken from a crate because the definitions are short and the
//! report needs their exact conventions stated: ties count half in the AUC, PR-AUC is
//! average precision (the step-wise area, no interpolation), ECE uses equal-width bins
//! weighted by their counts.

use serde::{Deserialize, Serialize};

/// One row of the calibration table: predictions in `[lower, upper)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub lower: f64,
    pub upper: f64,
    pub n: usize,
    pub mean_predicted: f64,
    pub observed_rate: f64,
}

/// The evaluation of probabilities against outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub n: usize,
    pub positives: usize,
    pub base_rate: f64,
    /// Area under the ROC curve (probability that a random positive outranks a random
    /// negative; ties count half). `None` when only one class is present.
    pub auc: Option<f64>,
    /// Average precision (area under the precision-recall curve).
    pub pr_auc: Option<f64>,
    /// Positive rate among the top 10% by probability ÷ the base rate.
    pub top_decile_lift: Option<f64>,
    /// Mean squared error of the probabilities.
    pub brier: f64,
    /// Expected calibration error over ten equal-width bins.
    pub ece: f64,
    pub calibration: Vec<CalibrationBin>,
    /// ROC points (false positive rate, true positive rate), at most ~200.
    pub roc: Vec<(f64, f64)>,
    /// Event rate in each tenth of the rows by probability, highest tenth first.
    pub decile_rates: Vec<f64>,
}

/// Evaluates `probabilities` against `labels` (true = the event happened).
pub fn evaluate(probabilities: &[f64], labels: &[bool]) -> Evaluation {
    let n = probabilities.len().min(labels.len());
    let positives = labels[..n].iter().filter(|l| **l).count();
    let base_rate = if n == 0 {
        0.0
    } else {
        positives as f64 / n as f64
    };
    let brier = if n == 0 {
        0.0
    } else {
        probabilities[..n]
            .iter()
            .zip(&labels[..n])
            .map(|(p, l)| (p - f64::from(u8::from(*l))).powi(2))
            .sum::<f64>()
            / n as f64
    };
    let calibration = calibration_table(&probabilities[..n], &labels[..n], 10);
    let ece = expected_calibration_error(&calibration, n);
    Evaluation {
        n,
        positives,
        base_rate,
        auc: auc(&probabilities[..n], &labels[..n]),
        pr_auc: average_precision(&probabilities[..n], &labels[..n]),
        top_decile_lift: top_share_lift(&probabilities[..n], &labels[..n], 0.1),
        brier,
        ece,
        calibration,
        roc: roc_curve(&probabilities[..n], &labels[..n], 200),
        decile_rates: decile_rates(&probabilities[..n], &labels[..n]),
    }
}

/// Event rate per tenth of the rows ordered by score (highest first).
pub fn decile_rates(scores: &[f64], labels: &[bool]) -> Vec<f64> {
    if scores.len() < 10 {
        return Vec::new();
    }
    let order = descending(scores);
    (0..10)
        .map(|d| {
            let from = order.len() * d / 10;
            let to = order.len() * (d + 1) / 10;
            let hits = order[from..to].iter().filter(|i| labels[**i]).count();
            hits as f64 / (to - from).max(1) as f64
        })
        .collect()
}

/// Indices sorted by score, highest first; ties keep input order (stable).
fn descending(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    order
}

/// ROC AUC by the rank-sum (Mann-Whitney) statistic with mid-ranks for ties.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let positives = labels.iter().filter(|l| **l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start..end (1-based start+1..=end) share their mean.
        let mid_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = order[start..end].iter().filter(|i| labels[**i]).count();
        rank_sum += mid_rank * tied_positives as f64;
        start = end;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// Average precision: Σ over positives (in score order, ties as one block) of precision at
/// that point × the recall it adds.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let positives = labels.iter().filter(|l| **l).count();
    if positives == 0 {
        return None;
    }
    let order = descending(scores);
    let (mut seen, mut hits, mut area) = (0usize, 0usize, 0.0);
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let block_hits = order[start..end].iter().filter(|i| labels[**i]).count();
        seen += end - start;
        hits += block_hits;
        area += (hits as f64 / seen as f64) * (block_hits as f64 / positives as f64);
        start = end;
    }
    Some(area)
}

/// Positive rate in the top `share` of scores ÷ the overall positive rate.
pub fn top_share_lift(scores: &[f64], labels: &[bool], share: f64) -> Option<f64> {
    let positives = labels.iter().filter(|l| **l).count();
    if positives == 0 || scores.is_empty() {
        return None;
    }
    let take = ((scores.len() as f64 * share).ceil() as usize).clamp(1, scores.len());
    let order = descending(scores);
    let top_hits = order[..take].iter().filter(|i| labels[**i]).count();
    let base = positives as f64 / scores.len() as f64;
    Some((top_hits as f64 / take as f64) / base)
}

/// Equal-width bins over [0, 1]; empty bins are left out.
pub fn calibration_table(
    probabilities: &[f64],
    labels: &[bool],
    bins: usize,
) -> Vec<CalibrationBin> {
    let bins = bins.max(1);
    let mut count = vec![0usize; bins];
    let mut predicted = vec![0.0; bins];
    let mut observed = vec![0usize; bins];
    for (p, l) in probabilities.iter().zip(labels) {
        let bin = ((p.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        count[bin] += 1;
        predicted[bin] += p;
        observed[bin] += usize::from(*l);
    }
    (0..bins)
        .filter(|b| count[*b] > 0)
        .map(|b| CalibrationBin {
            lower: b as f64 / bins as f64,
            upper: (b + 1) as f64 / bins as f64,
            n: count[b],
            mean_predicted: predicted[b] / count[b] as f64,
            observed_rate: observed[b] as f64 / count[b] as f64,
        })
        .collect()
}

/// Σ bins (n_b / n) × |mean predicted − observed rate|.
pub fn expected_calibration_error(table: &[CalibrationBin], n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    table
        .iter()
        .map(|bin| bin.n as f64 / n as f64 * (bin.mean_predicted - bin.observed_rate).abs())
        .sum()
}

/// The ROC curve from (0,0) to (1,1), thinned to about `max_points` points.
pub fn roc_curve(scores: &[f64], labels: &[bool], max_points: usize) -> Vec<(f64, f64)> {
    let positives = labels.iter().filter(|l| **l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Vec::new();
    }
    let order = descending(scores);
    let mut points = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        for i in &order[start..end] {
            if labels[*i] {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        points.push((fp as f64 / negatives as f64, tp as f64 / positives as f64));
        start = end;
    }
    if points.len() <= max_points.max(2) {
        return points;
    }
    let step = points.len() as f64 / max_points as f64;
    let mut thinned: Vec<(f64, f64)> = (0..max_points)
        .map(|k| points[(k as f64 * step) as usize])
        .collect();
    if let Some(last) = points.last() {
        thinned.push(*last);
    }
    thinned
}

/// A Wilson score interval for `hits` out of `n` at the normal quantile `z`.
pub fn wilson_interval(hits: usize, n: usize, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = hits as f64 / n_f;
    let denominator = 1.0 + z * z / n_f;
    let centre = (p + z * z / (2.0 * n_f)) / denominator;
    let half = z * ((p * (1.0 - p) / n_f + z * z / (4.0 * n_f * n_f)).sqrt()) / denominator;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_half_and_matches_pair_counting() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.2];
        let labels = [false, true, false, true, false, true];
        let mut wins = 0.0;
        let mut pairs = 0.0;
        for i in 0..6 {
            for j in 0..6 {
                if labels[i] && !labels[j] {
                    pairs += 1.0;
                    wins += if scores[i] > scores[j] {
                        1.0
                    } else if scores[i] == scores[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        let value = auc(&scores, &labels).unwrap_or_default();
        assert!(
            (value - wins / pairs).abs() < 1e-12,
            "{value} vs {}",
            wins / pairs
        );
        assert_eq!(auc(&scores, &[true; 6]), None);
    }

    #[test]
    fn perfect_ranking_has_auc_one_ap_one_and_maximal_lift() {
        let scores: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
        let labels: Vec<bool> = (0..100).map(|i| i >= 90).collect();
        assert_eq!(auc(&scores, &labels), Some(1.0));
        assert!((average_precision(&scores, &labels).unwrap_or_default() - 1.0).abs() < 1e-12);
        assert!((top_share_lift(&scores, &labels, 0.1).unwrap_or_default() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn calibration_error_is_zero_when_bins_match_their_rates() {
        // 10 predictions of 0.25 with 25%... use 0.2 with 2 of 10, 0.7 with 7 of 10.
        let mut p = vec![0.2; 10];
        p.extend(vec![0.7; 10]);
        let mut l = vec![false; 20];
        l[0] = true;
        l[1] = true;
        for item in l.iter_mut().skip(10).take(7) {
            *item = true;
        }
        let e = evaluate(&p, &l);
        assert!(e.ece < 1e-12, "{}", e.ece);
        assert_eq!(e.calibration.len(), 2);
        assert!(
            (e.brier - (2.0 * 0.64 + 8.0 * 0.04 + 7.0 * 0.09 + 3.0 * 0.49) / 20.0).abs() < 1e-12
        );
    }

    #[test]
    fn roc_runs_from_origin_to_one_one() {
        let scores = [0.9, 0.8, 0.3, 0.2];
        let labels = [true, false, true, false];
        let roc = roc_curve(&scores, &labels, 200);
        assert_eq!(roc.first(), Some(&(0.0, 0.0)));
        assert_eq!(roc.last(), Some(&(1.0, 1.0)));
    }

    #[test]
    fn wilson_interval_contains_the_rate() {
        let (low, high) = wilson_interval(5, 50, 1.96);
        assert!(low < 0.1 && 0.1 < high && low > 0.0);
        assert_eq!(wilson_interval(0, 0, 1.96), (0.0, 1.0));
    }
}
