//! Value-to-pixel mapping, "nice" axis ticks and category label thinning.
//!
//! Every function here must cope with whatever finite values the data holds, from
//! `-f64::MAX` to `f64::MAX`: differences of such values overflow to infinity, so each
//! step checks for that and falls back to something plainer instead of drawing garbage.

/// Axis domain and the tick values to label on it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ticks {
    pub lo: f64,
    pub hi: f64,
    pub values: Vec<f64>,
    /// Distance between ticks (decides how many decimals the labels need).
    pub step: f64,
}

/// Most ticks an axis will ever list, whatever the fallback paths compute.
const MAX_TICKS: f64 = 50.0;

/// Ticks at round numbers (1, 2 or 5 times a power of ten) about `target` intervals apart.
///
/// With `extend` the domain grows outward to whole steps, for axes derived from data (a
/// little headroom, and the ends are labelled). Without it the domain is kept exactly, for
/// fixed axes such as 0–100, and only the round values inside it are ticks.
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize, extend: bool) -> Ticks {
    let (lo, hi) = non_degenerate(lo, hi);
    let fallback = Ticks {
        lo,
        hi,
        values: vec![lo, hi],
        step: hi - lo,
    };
    let step = nice_step((hi - lo) / target.max(1) as f64);
    if !(step.is_finite() && step > 0.0) {
        return fallback;
    }
    let (first, last) = if extend {
        ((lo / step).floor(), (hi / step).ceil())
    } else {
        ((lo / step).ceil(), (hi / step).floor())
    };
    if !(first.is_finite() && last.is_finite()) || last < first || last - first > MAX_TICKS {
        return fallback;
    }
    let values: Vec<f64> = (0..=(last - first) as usize)
        .map(|index| step_multiple(first + index as f64, step))
        .collect();
    let (lo, hi) = if extend {
        (step_multiple(first, step), step_multiple(last, step))
    } else {
        (lo, hi)
    };
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return fallback;
    }
    Ticks {
        lo,
        hi,
        values,
        step,
    }
}

/// `count * step`, computed so decimal steps give the nearest float to the decimal value:
/// `3.0 * 0.1` is 0.30000000000000004, while `3.0 / 10.0` is 0.3.
fn step_multiple(count: f64, step: f64) -> f64 {
    if step < 1.0 {
        let per_unit = (1.0 / step).round();
        if per_unit.is_finite() && per_unit > 0.0 {
            return count / per_unit;
        }
    }
    count * step
}

/// The 1, 2, 5 or 10 times a power of ten nearest to `raw` (on a log scale, so the tick
/// count stays near the target whichever way it rounds).
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return raw;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let normalised = raw / magnitude;
    // Geometric midpoints between the candidates: √2, √10, √50.
    let multiple = if normalised >= 50f64.sqrt() {
        10.0
    } else if normalised >= 10f64.sqrt() {
        5.0
    } else if normalised >= 2f64.sqrt() {
        2.0
    } else {
        1.0
    };
    multiple * magnitude
}

/// Orders `lo`/`hi` and widens an empty range (all values equal) around its value, so a
/// flat series is drawn as a line in the middle rather than dividing by zero.
pub(crate) fn non_degenerate(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if lo < hi {
        return (lo, hi);
    }
    let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
    let (below, above) = (lo - pad, lo + pad);
    // Near ±f64::MAX one side overflows; widen only the other.
    match (below.is_finite(), above.is_finite()) {
        (true, true) => (below, above),
        (true, false) => (below, lo),
        (false, true) => (lo, above),
        (false, false) => (lo - 1.0, lo + 1.0),
    }
}

/// Where `value` falls between `lo` (0.0) and `hi` (1.0), clamped to that range: values
/// outside a fixed axis are pinned to its edge rather than drawn outside the plot.
pub(crate) fn fraction(value: f64, lo: f64, hi: f64) -> f64 {
    let span = hi - lo;
    let fraction = if span.is_finite() && span > 0.0 {
        (value - lo) / span
    } else {
        // The span overflowed: halving everything keeps the same ratio in range.
        let half_span = hi / 2.0 - lo / 2.0;
        if half_span > 0.0 {
            (value / 2.0 - lo / 2.0) / half_span
        } else {
            0.5
        }
    };
    if fraction.is_nan() {
        0.5
    } else {
        fraction.clamp(0.0, 1.0)
    }
}

/// A linear map from a value domain onto a pixel range. `start` is where `lo` lands, which
/// for a vertical axis is the bottom (SVG y grows downwards).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinearScale {
    pub lo: f64,
    pub hi: f64,
    pub start: f64,
    pub end: f64,
}

impl LinearScale {
    pub(crate) fn map(&self, value: f64) -> f64 {
        self.start + fraction(value, self.lo, self.hi) * (self.end - self.start)
    }
}

/// Label every `step`-th of `count` categories so that at most `max_labels` are shown.
pub(crate) fn label_step(count: usize, max_labels: usize) -> usize {
    count.div_ceil(max_labels.max(1)).max(1)
}

/// Smallest and largest finite value, or `None` when there is none.
pub(crate) fn finite_extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|value| value.is_finite())
        .fold(None, |extent, value| match extent {
            None => Some((value, value)),
            Some((lo, hi)) => Some((f64::min(lo, value), f64::max(hi, value))),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_ticks_cover_the_data_at_round_numbers() {
        let ticks = nice_ticks(3.0, 97.0, 5, true);
        assert_eq!(ticks.lo, 0.0);
        assert_eq!(ticks.hi, 100.0);
        assert_eq!(ticks.values, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
    }

    #[test]
    fn fixed_ticks_keep_the_domain() {
        let ticks = nice_ticks(0.0, 100.0, 5, false);
        assert_eq!((ticks.lo, ticks.hi), (0.0, 100.0));
        assert_eq!(ticks.values, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let ticks = nice_ticks(5.0, 95.0, 4, false);
        assert_eq!((ticks.lo, ticks.hi), (5.0, 95.0));
        assert_eq!(ticks.values, vec![20.0, 40.0, 60.0, 80.0]);
    }

    #[test]
    fn small_steps_do_not_drift() {
        let ticks = nice_ticks(0.0, 0.5, 5, true);
        assert_eq!(ticks.values, vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    }

    #[test]
    fn degenerate_and_extreme_ranges() {
        assert_eq!(non_degenerate(5.0, 5.0), (4.5, 5.5));
        assert_eq!(non_degenerate(0.0, 0.0), (-1.0, 1.0));
        assert_eq!(non_degenerate(2.0, 1.0), (1.0, 2.0));
        let (lo, hi) = non_degenerate(f64::MAX, f64::MAX);
        assert!(lo < hi && hi.is_finite());
        let ticks = nice_ticks(-f64::MAX, f64::MAX, 5, true);
        assert!(ticks.lo.is_finite() && ticks.hi.is_finite() && ticks.lo < ticks.hi);
        assert!(ticks.values.len() <= 51);
        assert_eq!(fraction(0.0, -f64::MAX, f64::MAX), 0.5);
        assert_eq!(fraction(f64::MAX, -f64::MAX, f64::MAX), 1.0);
        assert_eq!(fraction(1e300, 0.0, 100.0), 1.0);
        assert_eq!(fraction(-5.0, 0.0, 100.0), 0.0);
    }

    #[test]
    fn label_steps() {
        assert_eq!(label_step(52, 6), 9);
        assert!(52usize.div_ceil(label_step(52, 6)) <= 6);
        assert_eq!(label_step(0, 6), 1);
        assert_eq!(label_step(3, 0), 3);
        assert_eq!(label_step(4, 6), 1);
    }

    #[test]
    fn extent_skips_non_finite() {
        assert_eq!(
            finite_extent([f64::NAN, 2.0, f64::INFINITY, -1.0]),
            Some((-1.0, 2.0))
        );
        assert_eq!(finite_extent([f64::NAN]), None);
    }
}
