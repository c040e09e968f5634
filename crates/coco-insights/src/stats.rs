//! Statistical tests, effect sizes and intervals shared by the analyzers (adoption gaps
//! and campaigns now; journey and segmentation analyzers next).
//!
//! Pure functions over counts and samples. Every function that can meet inputs for which
//! its test is undefined (no observations, zero variance, an empty row) returns `None`
//! rather than a NaN or a panic, so a caller can say "not enough data" instead of
//! printing a meaningless number.
//!
//! Distributions and special functions (normal, Student t, chi-square, erfc, ln Γ,
//! ln C(n, k)) come from `statrs`; nothing here re-implements one. (statrs 0.19.1's
//! erf/erfc are good to about 1e-10 relative rather than to an ulp — statrs-dev/statrs
//! PR #412 — which is far inside what any p-value here needs.) The tests themselves
//! are written here because their definitions must match R and scipy exactly:
//! `statrs::stats_tests::fisher` uses a 1e-4 tie tolerance rather than R's 1e-7, and its
//! Mann–Whitney checks every pair of values (O(n²)) and takes `1 − cdf` for p.
//!
//! Conventions for a 2 × 2 table ([`TwoByTwo`]): rows are exposed / not exposed, columns
//! event / no event.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};
use statrs::function::erf::erfc;
use statrs::function::factorial::ln_binomial;

/// Standard normal CDF Φ(x), the basis of every z-test here (statrs' erfc; see module note).
pub fn normal_cdf(x: f64) -> f64 {
    Normal::standard().cdf(x)
}

/// The standard normal quantile for a two-sided interval of `confidence`; None unless
/// 0 < confidence < 1 (statrs' inverse cdf panics outside [0, 1]).
fn two_sided_z(confidence: f64) -> Option<f64> {
    (confidence > 0.0 && confidence < 1.0)
        .then(|| Normal::standard().inverse_cdf(0.5 + confidence / 2.0))
}

/// The 95% two-sided normal quantile, 1.959963984540054.
fn z95() -> f64 {
    Normal::standard().inverse_cdf(0.975)
}

/// Two-sided p of the pooled two-proportion z-test, to tell whether two rates really differ.
///
/// None when it is undefined: an empty group, a count above its group, or a pooled rate
/// of 0 or 1 (no variance).
pub fn two_proportion_p(successes_a: u64, n_a: u64, successes_b: u64, n_b: u64) -> Option<f64> {
    if n_a == 0 || n_b == 0 || successes_a > n_a || successes_b > n_b {
        return None;
    }
    let (x1, n1, x2, n2) = (
        successes_a as f64,
        n_a as f64,
        successes_b as f64,
        n_b as f64,
    );
    let pooled = (x1 + x2) / (n1 + n2);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    if variance <= 0.0 || !variance.is_finite() {
        return None;
    }
    let z = (x1 / n1 - x2 / n2) / variance.sqrt();
    // 2 · (1 − Φ(|z|)) = erfc(|z| / √2), without the cancellation of 1 − Φ.
    Some(erfc(z.abs() / std::f64::consts::SQRT_2))
}

/// A point estimate with its confidence interval (95% unless stated), so no effect is shown bare.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// A 2 × 2 table of counts, the shape every "did X go with Y" comparison reduces to.
///
/// Rows exposed / not exposed, columns event / no event: a = exposed with the event,
/// b = exposed without, c = unexposed with, d = unexposed without.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoByTwo {
    pub a: u64,
    pub b: u64,
    pub c: u64,
    pub d: u64,
}

/// Row and column totals of a table; None when one of them overflows u64.
struct Margins {
    exposed: u64,
    unexposed: u64,
    events: u64,
    non_events: u64,
    total: u64,
}

/// exp(x) for x below this is 0 in f64 (the smallest subnormal is e^−744.4).
const LN_UNDERFLOW: f64 = -750.0;

impl TwoByTwo {
    /// The table's margins; None when a sum overflows.
    fn margins(&self) -> Option<Margins> {
        let exposed = self.a.checked_add(self.b)?;
        let unexposed = self.c.checked_add(self.d)?;
        let events = self.a.checked_add(self.c)?;
        let non_events = self.b.checked_add(self.d)?;
        let total = exposed.checked_add(unexposed)?;
        Some(Margins {
            exposed,
            unexposed,
            events,
            non_events,
            total,
        })
    }

    /// The cells as floats, with 0.5 added to each when `shift` (Haldane–Anscombe).
    fn cells(&self, shift: bool) -> [f64; 4] {
        let s = if shift { 0.5 } else { 0.0 };
        [
            self.a as f64 + s,
            self.b as f64 + s,
            self.c as f64 + s,
            self.d as f64 + s,
        ]
    }

    /// Two-sided p of Fisher's exact test, valid where chi-square is not (small or lopsided tables).
    ///
    /// Defined as R's `fisher.test` and scipy's `fisher_exact`: the probability, with the
    /// margins fixed, of every table no more likely than the observed one (relative
    /// tolerance 1e-7). A table with an empty row or column has p = 1 (it is the only
    /// table with its margins); None when the table is empty or a margin overflows u64.
    /// A p below ~e^−745 of the most likely table's probability underflows to 0, as in R.
    pub fn fisher_exact(&self) -> Option<f64> {
        let m = self.margins()?;
        if m.total == 0 {
            return None;
        }
        // `a` is hypergeometric: `exposed` draws from `total`, `events` of them successes.
        let lo = m.exposed.saturating_sub(m.non_events);
        let hi = m.exposed.min(m.events);
        // ln P(a = x) up to the constant −ln C(total, exposed), which the normalisation by
        // the sum over the support removes (as R does).
        let ln_pmf = |x: u64| ln_binomial(m.events, x) + ln_binomial(m.non_events, m.exposed - x);
        // The mode of the hypergeometric, clamped into the support against rounding.
        let mode_num = (u128::from(m.exposed) + 1) * (u128::from(m.events) + 1);
        let mode = u64::try_from(mode_num / (u128::from(m.total) + 2))
            .unwrap_or(hi)
            .clamp(lo, hi);
        let ln_mode = ln_pmf(mode);
        // R: d <= d_obs * (1 + 1e-7), compared in logs so an extreme observation whose
        // probability underflows is still told apart from the rest.
        let ln_cut = ln_pmf(self.a) + (1e-7f64).ln_1p();
        // The pmf is unimodal: walk out from the mode on each side until the terms vanish
        // in f64 (where R's sum of exp(d − max) stops changing too). This visits each
        // table of the support at most once and skips the part of it that cannot count.
        let mut total = 0.0;
        let mut tail = 0.0;
        let mut add = |ln_p: f64| -> bool {
            let rel = ln_p - ln_mode;
            if rel < LN_UNDERFLOW {
                return false;
            }
            let p = rel.exp();
            total += p;
            if ln_p <= ln_cut {
                tail += p;
            }
            true
        };
        add(ln_mode);
        for x in (lo..mode).rev() {
            if !add(ln_pmf(x)) {
                break;
            }
        }
        for x in mode + 1..=hi {
            if !add(ln_pmf(x)) {
                break;
            }
        }
        (total > 0.0).then(|| (tail / total).min(1.0))
    }

    /// Pearson's chi-square test of independence, (statistic, p): the quick test for large tables.
    ///
    /// One degree of freedom; with `yates`, each |O − E| is reduced by min(0.5, |O − E|)
    /// as in R and scipy. None when a row or column is empty (an expected count is 0).
    pub fn chi_square(&self, yates: bool) -> Option<(f64, f64)> {
        let m = self.margins()?;
        if m.exposed == 0 || m.unexposed == 0 || m.events == 0 || m.non_events == 0 {
            return None;
        }
        let n = m.total as f64;
        let rows = [m.exposed as f64, m.unexposed as f64];
        let cols = [m.events as f64, m.non_events as f64];
        let observed = self.cells(false);
        let mut statistic = 0.0;
        for (i, o) in observed.iter().enumerate() {
            let expected = rows[i / 2] * cols[i % 2] / n;
            let mut diff = (o - expected).abs();
            if yates {
                diff -= diff.min(0.5);
            }
            statistic += diff * diff / expected;
        }
        let p = ChiSquared::new(1.0).ok()?.sf(statistic);
        Some((statistic, p))
    }

    /// Sample odds ratio (a·d)/(b·c) with Woolf's 95% log interval: the association's size.
    ///
    /// The interval is exp(ln OR ± z·√(1/a + 1/b + 1/c + 1/d)). Only when a cell is zero,
    /// 0.5 is added to all four cells (Haldane–Anscombe) so the ratio and its interval
    /// stay finite. None when a row or column is empty.
    pub fn odds_ratio(&self) -> Option<Estimate> {
        let m = self.margins()?;
        if m.exposed == 0 || m.unexposed == 0 || m.events == 0 || m.non_events == 0 {
            return None;
        }
        let shift = self.a == 0 || self.b == 0 || self.c == 0 || self.d == 0;
        let [a, b, c, d] = self.cells(shift);
        let ln_or = (a * d / (b * c)).ln();
        let se = (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d).sqrt();
        Some(log_estimate(ln_or, se))
    }

    /// Risk ratio (a/(a+b)) / (c/(c+d)) with its 95% log interval: "how many times as likely".
    ///
    /// se(ln RR) = √(1/a − 1/(a+b) + 1/c − 1/(c+d)). Only when a or c is zero (the ratio
    /// or its log would be 0 or infinite), 0.5 is added to all four cells. None when a
    /// row is empty or there are no events at all.
    pub fn risk_ratio(&self) -> Option<Estimate> {
        let m = self.margins()?;
        if m.exposed == 0 || m.unexposed == 0 || m.events == 0 {
            return None;
        }
        let shift = self.a == 0 || self.c == 0;
        let [a, b, c, d] = self.cells(shift);
        let ln_rr = (a / (a + b) / (c / (c + d))).ln();
        let se = (1.0 / a - 1.0 / (a + b) + 1.0 / c - 1.0 / (c + d))
            .max(0.0)
            .sqrt();
        Some(log_estimate(ln_rr, se))
    }

    /// Risk difference a/(a+b) − c/(c+d) with Newcombe's 95% interval: the lift in points.
    ///
    /// Newcombe's hybrid score interval (method 10 of Newcombe 1998, built on the two
    /// Wilson intervals) stays inside [−1, 1] and behaves at 0% and 100%, unlike Wald's.
    /// None when a row is empty.
    pub fn risk_difference(&self) -> Option<Estimate> {
        let (x1, n1, x2, n2) = (
            self.a,
            self.a.checked_add(self.b)?,
            self.c,
            self.c.checked_add(self.d)?,
        );
        newcombe_difference(x1, n1, x2, n2)
    }
}

/// exp of a log estimate and its normal 95% interval.
fn log_estimate(ln_value: f64, se: f64) -> Estimate {
    let z = z95();
    Estimate {
        value: ln_value.exp(),
        low: (ln_value - z * se).exp(),
        high: (ln_value + z * se).exp(),
    }
}

/// p1 − p2 with Newcombe's method-10 95% interval; None when a group is empty.
fn newcombe_difference(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<Estimate> {
    let (l1, u1) = wilson_interval(x1, n1, 0.95)?;
    let (l2, u2) = wilson_interval(x2, n2, 0.95)?;
    let p1 = x1 as f64 / n1 as f64;
    let p2 = x2 as f64 / n2 as f64;
    let value = p1 - p2;
    Some(Estimate {
        value,
        low: value - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
        high: value + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
    })
}

/// Wilson score interval for a rate, which keeps its coverage at small n and near 0 or 1.
///
/// `confidence` e.g. 0.95. None when n = 0, successes > n or the confidence is not
/// strictly between 0 and 1.
pub fn wilson_interval(successes: u64, n: u64, confidence: f64) -> Option<(f64, f64)> {
    if n == 0 || successes > n {
        return None;
    }
    let z = two_sided_z(confidence)?;
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// The positions of the non-NaN p-values, in input order.
fn defined(p_values: &[f64]) -> Vec<usize> {
    (0..p_values.len())
        .filter(|&i| !p_values[i].is_nan())
        .collect()
}

/// Holm-adjusted p-values (family-wise error), so testing many segments does not invent findings.
///
/// In input order, identical to R's `p.adjust(method = "holm")`: monotone in p and capped
/// at 1. A NaN stays NaN and is not counted among the tests (R's treatment of NA).
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let mut order = defined(p_values);
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let m = order.len();
    let mut adjusted = p_values.to_vec();
    let mut running = f64::NEG_INFINITY;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max((m - rank) as f64 * p_values[i]);
        adjusted[i] = running.min(1.0);
    }
    adjusted
}

/// Benjamini–Hochberg adjusted p-values (false discovery rate), for screening many comparisons.
///
/// In input order, identical to R's `p.adjust(method = "BH")`: monotone in p and capped
/// at 1. A NaN stays NaN and is not counted among the tests (R's treatment of NA).
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let mut order = defined(p_values);
    order.sort_by(|&i, &j| p_values[j].total_cmp(&p_values[i]));
    let m = order.len();
    let mut adjusted = p_values.to_vec();
    let mut running = f64::INFINITY;
    for (k, &i) in order.iter().enumerate() {
        // R: cummin(n / i * p[o]) with i = n, n − 1, …, 1 over p in decreasing order.
        let rank = m - k;
        running = running.min(m as f64 / rank as f64 * p_values[i]);
        adjusted[i] = running.min(1.0);
    }
    adjusted
}

/// Welch's comparison of two means (a − b), with interval, p and Cohen's d, for reporting it whole.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeanComparison {
    pub mean_a: f64,
    pub mean_b: f64,
    /// mean_a − mean_b.
    pub difference: f64,
    /// Bounds of the confidence interval of the difference (Student t, Welch df).
    pub low: f64,
    pub high: f64,
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Difference over the pooled standard deviation.
    pub cohens_d: f64,
    /// Values used (NaN skipped).
    pub n_a: usize,
    pub n_b: usize,
}

/// Sample size, mean and unbiased variance (two-pass) of the non-NaN values.
fn mean_variance(values: &[f64]) -> (usize, f64, f64) {
    let kept = || values.iter().copied().filter(|v| !v.is_nan());
    let n = kept().count();
    if n == 0 {
        return (0, f64::NAN, f64::NAN);
    }
    let mean = kept().sum::<f64>() / n as f64;
    let variance = if n > 1 {
        kept().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        f64::NAN
    };
    (n, mean, variance)
}

/// Welch's two-sided t-test of mean(a) − mean(b): compares averages without assuming equal variances.
///
/// Welch–Satterthwaite df, the `confidence` interval of the difference from Student t,
/// and Cohen's d with the pooled SD. NaN values are skipped. None when a group has fewer
/// than two values, both variances are zero, a value is infinite or the confidence is
/// not strictly between 0 and 1.
pub fn welch_t_test(a: &[f64], b: &[f64], confidence: f64) -> Option<MeanComparison> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let (n_a, mean_a, var_a) = mean_variance(a);
    let (n_b, mean_b, var_b) = mean_variance(b);
    if n_a < 2 || n_b < 2 {
        return None;
    }
    let (na, nb) = (n_a as f64, n_b as f64);
    let (va, vb) = (var_a / na, var_b / nb);
    let se2 = va + vb;
    if !(se2 > 0.0 && se2.is_finite()) {
        return None;
    }
    let se = se2.sqrt();
    let difference = mean_a - mean_b;
    let t = difference / se;
    let df = se2 * se2 / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = (2.0 * dist.sf(t.abs())).min(1.0);
    let q = dist.inverse_cdf(0.5 + confidence / 2.0);
    let pooled_sd = (((na - 1.0) * var_a + (nb - 1.0) * var_b) / (na + nb - 2.0)).sqrt();
    let result = MeanComparison {
        mean_a,
        mean_b,
        difference,
        low: difference - q * se,
        high: difference + q * se,
        t,
        df,
        p,
        cohens_d: difference / pooled_sd,
        n_a,
        n_b,
    };
    [result.t, result.df, result.p, result.low, result.high]
        .iter()
        .all(|v| v.is_finite())
        .then_some(result)
}

/// Mann–Whitney U test, (U of a, two-sided p): compares skewed metrics without assuming normality.
///
/// The p is the normal approximation with the tie and continuity corrections (scipy's
/// `mannwhitneyu(method="asymptotic")`, `use_continuity=True`). NaN values are skipped;
/// None when a group is empty or every value is tied. O(n log n).
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let mut pooled: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, true))
        .chain(b.iter().map(|&v| (v, false)))
        .filter(|(v, _)| !v.is_nan())
        .collect();
    let n_a = pooled.iter().filter(|(_, in_a)| *in_a).count();
    let n_b = pooled.len() - n_a;
    if n_a == 0 || n_b == 0 {
        return None;
    }
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Mid-ranks over runs of equal values (== so that −0 and +0 tie), and Σ(t³ − t).
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut start = 0;
    while start < pooled.len() {
        let value = pooled[start].0;
        let end = start
            + pooled[start..]
                .iter()
                .take_while(|(v, _)| *v == value)
                .count();
        let mid_rank = (start + end + 1) as f64 / 2.0;
        let in_a = pooled[start..end].iter().filter(|(_, in_a)| *in_a).count();
        rank_sum_a += mid_rank * in_a as f64;
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    let (na, nb) = (n_a as f64, n_b as f64);
    let n = na + nb;
    let u_a = rank_sum_a - na * (na + 1.0) / 2.0;
    let u = u_a.max(na * nb - u_a);
    let s = (na * nb / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    if !(s > 0.0 && s.is_finite()) {
        return None;
    }
    let z = (u - na * nb / 2.0 - 0.5) / s;
    let p = (2.0 * Normal::standard().sf(z)).min(1.0);
    Some((u_a, p))
}

/// Cohen's h, 2·asin√p1 − 2·asin√p2: a rate difference's size, comparable across base rates.
///
/// NaN when a rate is outside [0, 1].
pub fn cohens_h(p1: f64, p2: f64) -> f64 {
    2.0 * p1.sqrt().asin() - 2.0 * p2.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_match_known_cases() {
        // Moved from adoption::gaps with the function.
        // 10/100 vs 30/100: z ≈ −3.54, p ≈ 0.0004.
        let p = two_proportion_p(10, 100, 30, 100).unwrap_or(1.0);
        assert!((p - 0.000_4).abs() < 0.000_1, "{p}");
        // Equal proportions: p = 1.
        let p = two_proportion_p(20, 100, 20, 100).unwrap_or(0.0);
        assert!((p - 1.0).abs() < 1e-6, "{p}");
        assert!(two_proportion_p(0, 0, 1, 10).is_none());
        // The hand-written erfc's checks, now of statrs' erfc through normal_cdf:
        // erfc(0) = 1, erfc(1) ≈ 0.157299 ⇔ 2Φ(−√2) ≈ 0.157299.
        assert!((2.0 * normal_cdf(0.0) - 1.0).abs() < 1e-6);
        assert!((2.0 * normal_cdf(-std::f64::consts::SQRT_2) - 0.157_299_2).abs() < 1e-6);
    }

    #[test]
    fn private_quantile_rejects_bad_confidence() {
        assert!(two_sided_z(0.0).is_none());
        assert!(two_sided_z(1.0).is_none());
        assert!(two_sided_z(f64::NAN).is_none());
        // scipy.stats.norm.ppf(0.975) = 1.959963984540054
        assert!((z95() - 1.959_963_984_540_054).abs() < 1e-12);
    }
}
