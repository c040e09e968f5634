//! The retry schedule the outbox applies between attempts of one envelope.

use std::time::Duration;

use sha2::{Digest, Sha256};

/// Share of the delay that jitter may add or remove.
const JITTER: f64 = 0.2;

/// Exponential back-off: delay before attempt `next_attempt` (2-based: the delay after
/// the first failure is `base`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub factor: f64,
    /// The longest wait, jitter included.
    pub max_delay: Duration,
    pub max_attempts: u32,
}

impl Default for Backoff {
    /// 30 s, 1 min, 2 min, … 32 min (capped at 1 h), 8 attempts in all: a receiver down
    /// for a deploy is waited out, and one still down about an hour after the first
    /// failure (the seven waits add up to 63.5 min before jitter) is given up on, so the
    /// failure is reported while the alert is still current.
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(30),
            factor: 2.0,
            max_delay: Duration::from_secs(3600),
            max_attempts: 8,
        }
    }
}

impl Backoff {
    /// `base × factor^(next_attempt − 2)`, times a jitter in [0.8, 1.2) fixed by the
    /// key, capped at `max_delay`. Zero for the first attempt (`next_attempt` ≤ 1). A
    /// `factor` below 1 or not finite counts as 1 (a constant delay).
    ///
    /// The jitter spreads envelopes that failed together (one receiver down, many
    /// alerts queued) so they do not all retry in the same second; deriving it from the
    /// key rather than a random source keeps each envelope's schedule reproducible and
    /// monotone, so the delays only grow.
    pub fn delay_before(&self, next_attempt: u32, idempotency_key: &str) -> Duration {
        if next_attempt <= 1 {
            return Duration::ZERO;
        }
        let exponent = i32::try_from(next_attempt - 2).unwrap_or(i32::MAX);
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        let raw = self.base.as_secs_f64() * factor.powi(exponent) * jitter(idempotency_key);
        let max = self.max_delay.as_secs_f64();
        // `raw` is +inf once the power overflows; min() keeps it at the cap.
        Duration::try_from_secs_f64(raw.min(max)).unwrap_or(self.max_delay)
    }

    /// Whether no attempt is left after `attempts_made`.
    pub fn exhausted(&self, attempts_made: u32) -> bool {
        attempts_made >= self.max_attempts
    }
}

/// A multiplier in [1 − JITTER, 1 + JITTER) from the key's SHA-256: a hash that is the
/// same on every platform and release, unlike std's `DefaultHasher`.
fn jitter(key: &str) -> f64 {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 53 bits: exactly representable as f64, so the fraction is uniform in [0, 1).
    let fraction = (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64;
    1.0 - JITTER + 2.0 * JITTER * fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: Duration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn defaults() {
        let b = Backoff::default();
        assert_eq!(b.base, Duration::from_secs(30));
        assert_eq!(b.factor, 2.0);
        assert_eq!(b.max_delay, Duration::from_secs(3600));
        assert_eq!(b.max_attempts, 8);
    }

    #[test]
    fn first_attempt_has_no_delay() {
        let b = Backoff::default();
        assert_eq!(b.delay_before(0, "k"), Duration::ZERO);
        assert_eq!(b.delay_before(1, "k"), Duration::ZERO);
    }

    #[test]
    fn grows_exponentially_within_jitter_until_the_cap() {
        let b = Backoff::default();
        for key in ["alert:1", "alert:2", "digest:2026-01-05:csm-7", "x"] {
            let mut previous = Duration::ZERO;
            for n in 2..40 {
                let d = b.delay_before(n, key);
                assert!(d >= previous, "{key}: attempt {n} {d:?} < {previous:?}");
                assert!(d <= b.max_delay, "{key}: attempt {n} {d:?} over the cap");
                let nominal = 30.0 * 2f64.powi(n as i32 - 2);
                if nominal * 1.2 < 3600.0 {
                    let ratio = secs(d) / nominal;
                    assert!(
                        (0.8..1.2).contains(&ratio),
                        "{key}: attempt {n} ratio {ratio}"
                    );
                } else if nominal * 0.8 >= 3600.0 {
                    assert_eq!(d, b.max_delay, "{key}: attempt {n}");
                }
                previous = d;
            }
        }
    }

    #[test]
    fn jitter_is_deterministic_per_key_and_spreads_keys() {
        let b = Backoff::default();
        assert_eq!(b.delay_before(3, "alert:1"), b.delay_before(3, "alert:1"));
        let delays: Vec<Duration> = (0..100)
            .map(|i| b.delay_before(2, &format!("alert:{i}")))
            .collect();
        let lo = delays.iter().min().map(|d| secs(*d)).unwrap_or(0.0);
        let hi = delays.iter().max().map(|d| secs(*d)).unwrap_or(0.0);
        assert!(lo >= 24.0 && hi < 36.0, "{lo}..{hi}");
        // 100 keys over ±20 % of 30 s: they cover most of the range, not one second.
        assert!(hi - lo > 8.0, "{lo}..{hi}");
    }

    #[test]
    fn huge_attempt_numbers_and_odd_factors_stay_finite() {
        let b = Backoff {
            factor: f64::INFINITY,
            ..Backoff::default()
        };
        assert!(b.delay_before(u32::MAX, "k") <= b.max_delay);
        let b = Backoff {
            factor: f64::NAN,
            ..Backoff::default()
        };
        assert!(b.delay_before(5, "k") <= Duration::from_secs(36));
        let b = Backoff::default();
        assert_eq!(b.delay_before(u32::MAX, "k"), b.max_delay);
    }

    #[test]
    fn exhausted_after_max_attempts() {
        let b = Backoff::default();
        assert!(!b.exhausted(0));
        assert!(!b.exhausted(7));
        assert!(b.exhausted(8));
        assert!(b.exhausted(9));
    }
}
