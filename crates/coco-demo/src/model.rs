//! The hidden causal model: per-account factors and the logistic outcome model.
//! `docs/demo-data.md` documents every constant here; keep the two in sync.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Index drawn proportionally to `weights`.
pub(crate) fn pick(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// Number of failures before the first success, success probability `p` (0 < p <= 1).
#[inline]
pub(crate) fn geometric(rng: &mut ChaCha8Rng, p: f64) -> u64 {
    if p >= 1.0 {
        return 0;
    }
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    (u.ln() / (1.0 - p).ln()).floor().min(1e12) as u64
}

/// Poisson count (Knuth for small means, normal approximation above 30).
pub(crate) fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        return (lambda + lambda.sqrt() * normal(rng)).round().max(0.0) as u64;
    }
    let limit = (-lambda).exp();
    let mut k = 0;
    let mut p = rng.random::<f64>();
    while p > limit {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

/// Logistic coefficients of the renewal and expansion models (see docs/demo-data.md).
pub(crate) mod coef {
    // P(churn) at a renewal.
    pub const CHURN_INTERCEPT: f64 = -5.2;
    pub const CHURN_USAGE_DECLINE: f64 = 3.0;
    pub const CHURN_LOW_BREADTH: f64 = 2.5;
    pub const CHURN_CHAMPION_LEFT: f64 = 1.4;
    pub const CHURN_ESCALATIONS: f64 = 0.45;
    pub const CHURN_MISSED_MILESTONES: f64 = 0.35;
    pub const CHURN_LOW_NPS: f64 = 1.1;
    pub const CHURN_SILENT: f64 = 0.9;
    pub const CHURN_SEAT_PRESSURE: f64 = 0.0;

    // P(downgrade | not churned).
    pub const DOWN_INTERCEPT: f64 = -3.6;
    pub const DOWN_LOW_BREADTH: f64 = 1.5;
    pub const DOWN_UNUSED_SEATS: f64 = 6.0;
    pub const DOWN_USAGE_DECLINE: f64 = 1.0;
    /// Shelfware below this utilisation drives downgrades.
    pub const DOWN_UTIL_THRESHOLD: f64 = 0.7;

    // P(expanded | renewed without churn or downgrade).
    pub const EXP_INTERCEPT: f64 = -2.7;
    pub const EXP_SEAT_PRESSURE: f64 = 6.0;
    pub const EXP_BREADTH: f64 = 2.2;
    pub const EXP_LOW_NPS: f64 = -0.8;
    pub const EXP_CHAMPION_LEFT: f64 = -0.8;
    /// Seat pressure counts above this utilisation.
    pub const SEAT_PRESSURE_THRESHOLD: f64 = 0.85;

    // Mid-term expansion opportunity: P(an opportunity in the window), then P(won).
    pub const OPP_INTERCEPT: f64 = -2.3;
    pub const OPP_SEAT_PRESSURE: f64 = 6.0;
    pub const OPP_BREADTH: f64 = 1.5;
    pub const WIN_INTERCEPT: f64 = 0.2;
    pub const WIN_SEAT_PRESSURE: f64 = 4.0;
    pub const WIN_BREADTH: f64 = 2.0;
    pub const WIN_LOW_NPS: f64 = -1.0;
    pub const WIN_CHAMPION_LEFT: f64 = -0.8;
}

/// Mean adoption breadth of the population (the draw's centre).
pub(crate) const TYPICAL_BREADTH: f64 = 0.55;

/// The hidden per-account factors. All are drawn from a latent risk `r ~ N(0,1)`
/// (shifted by segment) plus independent noise, so risk signals co-occur the way they
/// do in real books, while each one enters the outcome model with its own weight.
#[derive(Debug, Clone)]
pub(crate) struct Factors {
    pub latent_risk: f64,
    /// 0 = no decline; otherwise the fractional usage drop reached at the focal renewal.
    pub usage_decline: f64,
    /// Share of the plan's available features the account adopts (0..1).
    pub adoption_breadth: f64,
    pub champion_left: bool,
    /// Escalated support tickets in the 180 days before the focal renewal.
    pub escalations: u32,
    /// Active users / licensed seats.
    pub seat_utilisation: f64,
    /// Onboarding milestones not completed within 14 days of their due date (0..6).
    pub missed_milestones: u32,
    /// The account's NPS level; responses scatter around it.
    pub nps_level: i64,
    /// A stretch of 60-120 days without touchpoints before the focal renewal.
    pub silent_period: bool,
    pub silent_days: i64,
    /// Correlated marker (not in the outcome model): failed payments and dunning.
    pub payment_issues: bool,
}

impl Factors {
    pub fn draw(rng: &mut ChaCha8Rng, segment: usize) -> Factors {
        let shift = [-0.25, 0.0, 0.25][segment];
        let r = normal(rng) + shift;
        let usage_decline = if rng.random::<f64>() < sigmoid(-1.7 + 1.3 * r) {
            rng.random_range(0.3..0.8)
        } else {
            0.0
        };
        let adoption_breadth = (TYPICAL_BREADTH - 0.12 * r + 0.15 * normal(rng)).clamp(0.1, 1.0);
        let champion_left = rng.random::<f64>() < sigmoid(-2.4 + 0.7 * r);
        let escalations = crate::model::poisson(rng, 0.25 * (0.8 * r).exp()).min(8) as u32;
        let seat_utilisation = (0.76 + 0.14 * normal(rng) - 0.04 * r).clamp(0.3, 1.25);
        let p_miss = sigmoid(-2.4 + 0.8 * r);
        let missed_milestones = (0..6).filter(|_| rng.random::<f64>() < p_miss).count() as u32;
        let nps_level = (7.6 - 1.3 * r + 1.1 * normal(rng)).round().clamp(0.0, 10.0) as i64;
        let silent_period = rng.random::<f64>() < sigmoid(-2.3 + 0.9 * r);
        let silent_days = if silent_period {
            rng.random_range(60..=120)
        } else {
            0
        };
        let payment_issues = rng.random::<f64>() < sigmoid(-2.6 + 0.8 * r);
        Factors {
            latent_risk: r,
            usage_decline,
            adoption_breadth,
            champion_left,
            escalations,
            seat_utilisation,
            missed_milestones,
            nps_level,
            silent_period,
            silent_days,
            payment_issues,
        }
    }

    pub fn low_nps(&self) -> bool {
        self.nps_level <= 6
    }

    pub fn seat_pressure(&self) -> f64 {
        (self.seat_utilisation - coef::SEAT_PRESSURE_THRESHOLD).max(0.0)
    }

    /// Per-factor contributions to the churn logit (name, value), intercept excluded.
    pub fn churn_terms(&self) -> [(&'static str, f64); 8] {
        use coef::*;
        [
            ("usage_decline", CHURN_USAGE_DECLINE * self.usage_decline),
            (
                "low_adoption_breadth",
                CHURN_LOW_BREADTH * (1.0 - self.adoption_breadth),
            ),
            (
                "champion_left",
                CHURN_CHAMPION_LEFT * f64::from(u8::from(self.champion_left)),
            ),
            (
                "support_escalations",
                CHURN_ESCALATIONS * f64::from(self.escalations.min(5)),
            ),
            (
                "missed_milestones",
                CHURN_MISSED_MILESTONES * f64::from(self.missed_milestones),
            ),
            (
                "low_nps",
                CHURN_LOW_NPS * f64::from(u8::from(self.low_nps())),
            ),
            (
                "silent_period",
                CHURN_SILENT * f64::from(u8::from(self.silent_period)),
            ),
            ("seat_pressure", CHURN_SEAT_PRESSURE * self.seat_pressure()),
        ]
    }

    pub fn churn_logit(&self) -> f64 {
        coef::CHURN_INTERCEPT + self.churn_terms().iter().map(|(_, v)| v).sum::<f64>()
    }

    pub fn downgrade_logit(&self) -> f64 {
        use coef::*;
        DOWN_INTERCEPT
            + DOWN_LOW_BREADTH * (1.0 - self.adoption_breadth)
            + DOWN_UNUSED_SEATS * (DOWN_UTIL_THRESHOLD - self.seat_utilisation).max(0.0)
            + DOWN_USAGE_DECLINE * self.usage_decline
    }

    pub fn expansion_logit(&self) -> f64 {
        use coef::*;
        EXP_INTERCEPT
            + EXP_SEAT_PRESSURE * self.seat_pressure()
            + EXP_BREADTH * self.adoption_breadth
            + EXP_LOW_NPS * f64::from(u8::from(self.low_nps()))
            + EXP_CHAMPION_LEFT * f64::from(u8::from(self.champion_left))
    }

    pub fn opportunity_logit(&self) -> f64 {
        use coef::*;
        OPP_INTERCEPT
            + OPP_SEAT_PRESSURE * self.seat_pressure()
            + OPP_BREADTH * self.adoption_breadth
    }

    pub fn win_logit(&self) -> f64 {
        use coef::*;
        WIN_INTERCEPT
            + WIN_SEAT_PRESSURE * (self.seat_utilisation - SEAT_PRESSURE_THRESHOLD)
            + WIN_BREADTH * (self.adoption_breadth - 0.5)
            + WIN_LOW_NPS * f64::from(u8::from(self.low_nps()))
            + WIN_CHAMPION_LEFT * f64::from(u8::from(self.champion_left))
    }

    /// The factor that raises this account's churn logit most above a typical account
    /// (adoption breadth is compared with the population mean, 0.55); `none` when no
    /// factor adds more than 0.3 to the logit. Used as the stated churn reason.
    pub fn top_driver(&self) -> &'static str {
        self.churn_terms()
            .iter()
            .map(|(name, v)| {
                let typical = if *name == "low_adoption_breadth" {
                    coef::CHURN_LOW_BREADTH * (1.0 - TYPICAL_BREADTH)
                } else {
                    0.0
                };
                (*name, v - typical)
            })
            .filter(|(name, excess)| *name != "seat_pressure" && *excess > 0.3)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(n, _)| n)
            .unwrap_or("none")
    }

    /// The neutral factor values used for renewals that fall before the focal one
    /// (their lead-up lies before the window, so their signals are not in the data).
    pub fn neutral(&self) -> Factors {
        Factors {
            usage_decline: 0.0,
            champion_left: false,
            escalations: 0,
            silent_period: false,
            silent_days: 0,
            ..self.clone()
        }
    }
}

/// Result of a renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Renewal {
    Renewed,
    Churned,
    Downgraded,
    Expanded,
}

impl Renewal {
    pub fn as_str(self) -> &'static str {
        match self {
            Renewal::Renewed => "renewed",
            Renewal::Churned => "churned",
            Renewal::Downgraded => "downgraded",
            Renewal::Expanded => "expanded",
        }
    }
}

/// Draws a renewal outcome: churn first, then downgrade, then expansion.
pub(crate) fn draw_renewal(rng: &mut ChaCha8Rng, f: &Factors) -> Renewal {
    if rng.random::<f64>() < sigmoid(f.churn_logit()) {
        Renewal::Churned
    } else if rng.random::<f64>() < sigmoid(f.downgrade_logit()) {
        Renewal::Downgraded
    } else if rng.random::<f64>() < sigmoid(f.expansion_logit()) {
        Renewal::Expanded
    } else {
        Renewal::Renewed
    }
}
