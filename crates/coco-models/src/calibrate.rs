//! From a model's raw score (log-odds) to a probability that means what it says: of the
//! accounts given 0.2, about one in five churn.
//!
//! Two calibrators, both fitted on predictions for rows the model did not train on:
//! - **Platt**: a logistic curve over the score (2 parameters; stable on little data).
//! - **Isotonic**: the monotone step function closest to the outcomes (pool adjacent
//!   violators), interpolated linearly between block centres so that distinct scores
//!   keep distinct probabilities. Needs more data; `auto` considers it with at least
//!   [`ISOTONIC_MIN_POSITIVES`] events and as many non-events, and keeps it only when
//!   it predicts held-out halves of the calibration rows better than Platt.
//!
//! The **interval**: the calibration rows are resampled with replacement
//! `bootstrap_rounds` times and the calibrator refitted each time; at every point of a
//! grid over the score range the 5th and 95th percentiles of those curves are kept. An
//! account's interval is read from that band at its score: it says how sure the
//! probability is given how many similar-scored accounts the calibration had.
//!
//! PAV is a dozen lines; the Rust crates offering it are unmaintained single-purpose
//! packages, so it is written here.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub const ISOTONIC_MIN_POSITIVES: usize = 100;

/// Pseudo-rows at the overall rate added to every isotonic block.
const PSEUDO_ROWS: f64 = 2.0;

pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).ln()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    /// p = σ(a·score + b)
    Platt { a: f64, b: f64 },
    /// Knots (score, probability), increasing in both; linear in between, flat outside.
    Isotonic { knots: Vec<(f64, f64)> },
}

impl Calibrator {
    pub fn name(&self) -> &'static str {
        match self {
            Calibrator::Platt { .. } => "platt",
            Calibrator::Isotonic { .. } => "isotonic",
        }
    }

    pub fn apply(&self, score: f64) -> f64 {
        match self {
            Calibrator::Platt { a, b } => sigmoid(a * score + b),
            Calibrator::Isotonic { knots } => interpolate(knots, score),
        }
    }

    /// Fits the method `method` ("platt", "isotonic" or "auto").
    pub fn fit(scores: &[f64], labels: &[bool], method: &str) -> Calibrator {
        let positives = labels.iter().filter(|l| **l).count();
        let negatives = labels.len() - positives;
        let enough = positives >= ISOTONIC_MIN_POSITIVES && negatives >= ISOTONIC_MIN_POSITIVES;
        let isotonic = match method {
            "isotonic" => positives > 0 && negatives > 0,
            "platt" => false,
            _ => enough && isotonic_predicts_better(scores, labels),
        };
        if isotonic {
            Calibrator::Isotonic {
                knots: isotonic_knots(scores, labels),
            }
        } else {
            platt(scores, labels)
        }
    }
}

/// "auto": with enough events for isotonic, each method is fitted on one half of the
/// rows (alternating in score order) and scored (Brier) on the other, both ways; the
/// more flexible isotonic curve is kept only when it predicts the unseen half better.
fn isotonic_predicts_better(scores: &[f64], labels: &[bool]) -> bool {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let halves: [Vec<usize>; 2] = [
        order.iter().copied().step_by(2).collect(),
        order.iter().copied().skip(1).step_by(2).collect(),
    ];
    let (mut platt_error, mut isotonic_error) = (0.0, 0.0);
    for (fit_half, test_half) in [(&halves[0], &halves[1]), (&halves[1], &halves[0])] {
        let fit_scores: Vec<f64> = fit_half.iter().map(|i| scores[*i]).collect();
        let fit_labels: Vec<bool> = fit_half.iter().map(|i| labels[*i]).collect();
        let candidates = [
            platt(&fit_scores, &fit_labels),
            Calibrator::Isotonic {
                knots: isotonic_knots(&fit_scores, &fit_labels),
            },
        ];
        for i in test_half {
            let outcome = f64::from(u8::from(labels[*i]));
            platt_error += (candidates[0].apply(scores[*i]) - outcome).powi(2);
            isotonic_error += (candidates[1].apply(scores[*i]) - outcome).powi(2);
        }
    }
    isotonic_error < platt_error
}

fn interpolate(knots: &[(f64, f64)], x: f64) -> f64 {
    let Some(first) = knots.first() else {
        return 0.5;
    };
    if x <= first.0 {
        return first.1;
    }
    let last = knots[knots.len() - 1];
    if x >= last.0 {
        return last.1;
    }
    let upper = knots.partition_point(|k| k.0 < x);
    let (x0, y0) = knots[upper - 1];
    let (x1, y1) = knots[upper];
    if x1 == x0 {
        y1
    } else {
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    }
}

/// Platt scaling by Newton's method on the log-loss, with Platt's target smoothing
/// (labels become (n₊+1)/(n₊+2) and 1/(n₋+2)) so that separable data stays finite.
fn platt(scores: &[f64], labels: &[bool]) -> Calibrator {
    let positives = labels.iter().filter(|l| **l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    let high = (positives + 1.0) / (positives + 2.0);
    let low = 1.0 / (negatives + 2.0);
    let targets: Vec<f64> = labels.iter().map(|l| if *l { high } else { low }).collect();
    let (mut a, mut b) = (1.0, 0.0);
    for _ in 0..100 {
        let (mut g_a, mut g_b, mut h_aa, mut h_ab, mut h_bb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for (s, t) in scores.iter().zip(&targets) {
            let p = sigmoid(a * s + b);
            let d = p - t;
            let w = p * (1.0 - p);
            g_a += d * s;
            g_b += d;
            h_aa += w * s * s;
            h_ab += w * s;
            h_bb += w;
        }
        let det = h_aa * h_bb - h_ab * h_ab;
        if det.abs() < 1e-12 {
            break;
        }
        let step_a = (h_bb * g_a - h_ab * g_b) / det;
        let step_b = (h_aa * g_b - h_ab * g_a) / det;
        a -= step_a;
        b -= step_b;
        if step_a.abs() + step_b.abs() < 1e-10 {
            break;
        }
    }
    if a < 0.0 {
        // A higher score never means lower risk: a falling fit (only on scores that do
        // not rank at all) falls back to the base rate for everyone.
        let rate = (positives + 1.0) / (labels.len() as f64 + 2.0);
        return Calibrator::Platt {
            a: 0.0,
            b: logit(rate),
        };
    }
    Calibrator::Platt { a, b }
}

/// Pool adjacent violators over rows sorted by score; one knot per block at its mean
/// score with its event rate, shrunk towards the overall rate by [`PSEUDO_ROWS`] so a
/// small block at either end says "very likely", never "certain". Shrinking can pull a
/// small block past its neighbour, so the shrunk rates are pooled once more.
fn isotonic_knots(scores: &[f64], labels: &[bool]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let rows: Vec<(f64, f64, f64)> = order
        .iter()
        .map(|i| (scores[*i], f64::from(u8::from(labels[*i])), 1.0))
        .collect();
    let blocks = pool_adjacent_violators(rows);
    let total_rows: f64 = blocks.iter().map(|b| b.2).sum();
    let overall = blocks.iter().map(|b| b.1).sum::<f64>() / total_rows.max(1.0);
    let shrunk: Vec<(f64, f64, f64)> = blocks
        .iter()
        .map(|(s, y, n)| (*s, n * (y + PSEUDO_ROWS * overall) / (n + PSEUDO_ROWS), *n))
        .collect();
    pool_adjacent_violators(shrunk)
        .iter()
        .map(|(s, y, n)| (s / n, y / n))
        .collect()
}

/// Blocks of (Σ score, Σ value, Σ weight), in order, merged until their means
/// (Σ value ÷ Σ weight) never decrease.
fn pool_adjacent_violators(items: Vec<(f64, f64, f64)>) -> Vec<(f64, f64, f64)> {
    let mut blocks: Vec<(f64, f64, f64)> = Vec::with_capacity(items.len());
    for item in items {
        blocks.push(item);
        while blocks.len() > 1 {
            let last = blocks[blocks.len() - 1];
            let previous = blocks[blocks.len() - 2];
            if previous.1 / previous.2 >= last.1 / last.2 {
                blocks.pop();
                let merged = blocks.len() - 1;
                blocks[merged] = (
                    previous.0 + last.0,
                    previous.1 + last.1,
                    previous.2 + last.2,
                );
            } else {
                break;
            }
        }
    }
    blocks
}

/// The interval band: at each grid score, the 5th/95th percentile calibrated probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalBand {
    pub scores: Vec<f64>,
    pub low: Vec<f64>,
    pub high: Vec<f64>,
    pub rounds: usize,
}

impl IntervalBand {
    /// Bootstraps the calibrator `rounds` times (deterministic for `seed`).
    pub fn fit(
        scores: &[f64],
        labels: &[bool],
        method: &str,
        rounds: usize,
        seed: u64,
    ) -> IntervalBand {
        let grid_points = 101;
        let (min, max) = scores
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
                (lo.min(*s), hi.max(*s))
            });
        if scores.is_empty() || !min.is_finite() || rounds == 0 {
            return IntervalBand {
                scores: Vec::new(),
                low: Vec::new(),
                high: Vec::new(),
                rounds: 0,
            };
        }
        let grid: Vec<f64> = (0..grid_points)
            .map(|k| min + (max - min) * k as f64 / (grid_points - 1) as f64)
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut curves: Vec<Vec<f64>> = (0..grid_points)
            .map(|_| Vec::with_capacity(rounds))
            .collect();
        let n = scores.len();
        let mut sample_scores = vec![0.0; n];
        let mut sample_labels = vec![false; n];
        for _ in 0..rounds {
            for k in 0..n {
                let i = rng.random_range(0..n);
                sample_scores[k] = scores[i];
                sample_labels[k] = labels[i];
            }
            let calibrator = Calibrator::fit(&sample_scores, &sample_labels, method);
            for (point, curve) in grid.iter().zip(curves.iter_mut()) {
                curve.push(calibrator.apply(*point));
            }
        }
        let quantile = |values: &mut Vec<f64>, q: f64| {
            values.sort_by(f64::total_cmp);
            values[((values.len() - 1) as f64 * q).round() as usize]
        };
        let mut low = Vec::with_capacity(grid_points);
        let mut high = Vec::with_capacity(grid_points);
        for curve in &mut curves {
            low.push(quantile(curve, 0.05));
            high.push(quantile(curve, 0.95));
        }
        IntervalBand {
            scores: grid,
            low,
            high,
            rounds,
        }
    }

    /// The interval at `score`, widened if needed to contain `probability`.
    pub fn interval(&self, score: f64, probability: f64) -> (f64, f64) {
        if self.scores.is_empty() {
            return (probability, probability);
        }
        let low: Vec<(f64, f64)> = self
            .scores
            .iter()
            .copied()
            .zip(self.low.iter().copied())
            .collect();
        let high: Vec<(f64, f64)> = self
            .scores
            .iter()
            .copied()
            .zip(self.high.iter().copied())
            .collect();
        let (lo, hi) = (interpolate(&low, score), interpolate(&high, score));
        (lo.min(probability), hi.max(probability))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores whose true probability is σ(2·s − 1): both calibrators must recover it.
    fn synthetic(n: usize, seed: u64) -> (Vec<f64>, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let scores: Vec<f64> = (0..n).map(|_| rng.random_range(-3.0..3.0)).collect();
        let labels = scores
            .iter()
            .map(|s| rng.random::<f64>() < sigmoid(2.0 * s - 1.0))
            .collect();
        (scores, labels)
    }

    #[test]
    fn platt_and_isotonic_recover_known_probabilities() {
        let (scores, labels) = synthetic(20_000, 1);
        for method in ["platt", "isotonic"] {
            let c = Calibrator::fit(&scores, &labels, method);
            assert_eq!(c.name(), method);
            for s in [-2.0, -0.5, 0.0, 0.5, 1.5] {
                let truth = sigmoid(2.0 * s - 1.0);
                assert!(
                    (c.apply(s) - truth).abs() < 0.05,
                    "{method} at {s}: {} vs {truth}",
                    c.apply(s)
                );
            }
        }
    }

    #[test]
    fn a_falling_platt_fit_falls_back_to_the_base_rate() {
        let (scores, labels) = synthetic(2_000, 4);
        let reversed: Vec<f64> = scores.iter().map(|s| -s).collect();
        let Calibrator::Platt { a, .. } = Calibrator::fit(&reversed, &labels, "platt") else {
            panic!("platt asked for")
        };
        assert_eq!(a, 0.0);
    }

    #[test]
    fn isotonic_is_monotone_and_the_band_contains_the_truth() {
        let (scores, labels) = synthetic(5_000, 2);
        let c = Calibrator::fit(&scores, &labels, "isotonic");
        let mut previous = 0.0;
        for k in 0..60 {
            let p = c.apply(-3.0 + k as f64 * 0.1);
            assert!(p >= previous - 1e-12);
            previous = p;
        }
        let band = IntervalBand::fit(&scores, &labels, "platt", 50, 3);
        let (lo, hi) = band.interval(0.5, c.apply(0.5));
        assert!(lo < sigmoid(0.0) && sigmoid(0.0) < hi, "[{lo}, {hi}]");
        assert!(hi - lo < 0.1);
    }
}
