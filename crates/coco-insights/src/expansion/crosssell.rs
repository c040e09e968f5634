//! Cross-sell propensity (E2): for a module an account lacks, how much the account
//! looks like the accounts that bought it — compared on their metrics as of the
//! snapshot *before* they bought it (point in time), against accounts that had not
//! bought it at the same dates. A k-nearest-neighbour look-alike: the share of buyers
//! among the account's nearest reference profiles, shrunk towards the base rate, and
//! the behaviours where buyers stood out before buying.

use serde::{Deserialize, Serialize};

use super::OpportunityKind;
use super::signals::{Evidence, Signal, SignalKind, SourceRow};
use crate::format::{median, percent};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossSellConfig {
    pub enabled: bool,
    /// Metrics the profiles are compared on.
    pub features: Vec<String>,
    /// Nearest reference profiles counted.
    pub neighbours: usize,
    /// Below this many past buyers of a module, no propensity is given for it.
    pub min_adopters: usize,
    /// A signal needs at least this propensity and this lift over the base rate.
    pub min_propensity: f64,
    pub min_lift: f64,
    /// From this many buyers on, a trained model (logistic regression on the same
    /// profiles, cross-validated and calibrated) gives the propensity instead of the
    /// neighbours' share.
    #[serde(default = "default_model_min_adopters")]
    pub model_min_adopters: usize,
}

fn default_model_min_adopters() -> usize {
    100
}

/// One reference profile: an account's feature values at a snapshot before a purchase
/// (buyer) or at the same dates without one (non-buyer).
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub account_id: String,
    pub values: Vec<f64>,
    pub adopted: bool,
}

/// The reference set of one module.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleReference {
    pub module: String,
    pub profiles: Vec<Profile>,
}

/// A fitted look-alike for one module: standardisation and the reference profiles.
pub struct LookAlike {
    pub module: String,
    features: Vec<String>,
    mean: Vec<f64>,
    scale: Vec<f64>,
    reference: Vec<(Vec<f64>, bool, String)>,
    base_rate: f64,
    adopters: usize,
    /// (feature, buyers' median, others' median) where buyers stood out.
    behaviours: Vec<(String, f64, f64)>,
}

impl LookAlike {
    /// None when the module has fewer than `min_adopters` buyers or no non-buyers.
    pub fn fit(reference: &ModuleReference, config: &CrossSellConfig) -> Option<LookAlike> {
        let adopters = reference.profiles.iter().filter(|p| p.adopted).count();
        let others = reference.profiles.len() - adopters;
        if adopters < config.min_adopters.max(1) || others == 0 {
            return None;
        }
        let width = config.features.len();
        let mut mean = vec![0.0; width];
        let mut scale = vec![1.0; width];
        let mut behaviours = Vec::new();
        for f in 0..width {
            let column: Vec<f64> = reference
                .profiles
                .iter()
                .map(|p| p.values.get(f).copied().unwrap_or(f64::NAN))
                .filter(|v| v.is_finite())
                .collect();
            if column.is_empty() {
                continue;
            }
            let m = column.iter().sum::<f64>() / column.len() as f64;
            let var = column.iter().map(|v| (v - m).powi(2)).sum::<f64>() / column.len() as f64;
            mean[f] = m;
            scale[f] = if var > 0.0 { var.sqrt() } else { 1.0 };
            let mut bought: Vec<f64> = reference
                .profiles
                .iter()
                .filter(|p| p.adopted)
                .filter_map(|p| p.values.get(f).copied().filter(|v| v.is_finite()))
                .collect();
            let mut not: Vec<f64> = reference
                .profiles
                .iter()
                .filter(|p| !p.adopted)
                .filter_map(|p| p.values.get(f).copied().filter(|v| v.is_finite()))
                .collect();
            if let (Some(b), Some(n)) = (median(&mut bought), median(&mut not))
                && (b - n).abs() >= 0.25 * scale[f]
            {
                behaviours.push((config.features[f].clone(), b, n));
            }
        }
        behaviours.sort_by(|a, b| {
            let gap = |x: &(String, f64, f64), f: usize| (x.1 - x.2).abs() / scale[f];
            let fa = config.features.iter().position(|n| *n == a.0).unwrap_or(0);
            let fb = config.features.iter().position(|n| *n == b.0).unwrap_or(0);
            gap(b, fb).total_cmp(&gap(a, fa))
        });
        let standardise = |values: &[f64]| -> Vec<f64> {
            (0..width)
                .map(|f| {
                    let v = values.get(f).copied().unwrap_or(f64::NAN);
                    // A missing value sits at the mean: it neither attracts nor repels.
                    if v.is_finite() {
                        (v - mean[f]) / scale[f]
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let reference_rows = reference
            .profiles
            .iter()
            .map(|p| (standardise(&p.values), p.adopted, p.account_id.clone()))
            .collect();
        Some(LookAlike {
            module: reference.module.clone(),
            features: config.features.clone(),
            mean: mean.clone(),
            scale: scale.clone(),
            reference: reference_rows,
            base_rate: adopters as f64 / reference.profiles.len() as f64,
            adopters,
            behaviours,
        })
    }

    /// The propensity of an account with these current feature values.
    pub fn score(&self, values: &[f64], config: &CrossSellConfig) -> Propensity {
        let point: Vec<f64> = (0..self.features.len())
            .map(|f| {
                let v = values.get(f).copied().unwrap_or(f64::NAN);
                if v.is_finite() {
                    (v - self.mean[f]) / self.scale[f]
                } else {
                    0.0
                }
            })
            .collect();
        let k = config.neighbours.clamp(1, self.reference.len());
        let mut distances: Vec<(f64, usize)> = self
            .reference
            .iter()
            .enumerate()
            .map(|(i, (row, _, _))| {
                let d: f64 = row.iter().zip(&point).map(|(a, b)| (a - b).powi(2)).sum();
                (d, i)
            })
            .collect();
        distances.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
        let mut nearest: Vec<(f64, usize)> = distances[..k].to_vec();
        nearest.sort_by(|a, b| a.0.total_cmp(&b.0));
        let adopted = nearest.iter().filter(|(_, i)| self.reference[*i].1).count();
        // Shrunk towards the base rate with k pseudo-neighbours' worth of prior.
        let shrink = 5.0;
        let propensity = (adopted as f64 + self.base_rate * shrink) / (k as f64 + shrink);
        let similar: Vec<String> = nearest
            .iter()
            .filter(|(_, i)| self.reference[*i].1)
            .take(3)
            .map(|(_, i)| self.reference[*i].2.clone())
            .collect();
        let behaviours = self
            .behaviours
            .iter()
            .take(3)
            .map(|(name, bought, other)| {
                let f = self.features.iter().position(|n| n == name).unwrap_or(0);
                let own = values.get(f).copied().filter(|v| v.is_finite());
                format!(
                    "{name}: buyers {} before buying vs {} for others{}",
                    short(*bought),
                    short(*other),
                    own.map_or(String::new(), |v| format!("; this account {}", short(v)))
                )
            })
            .collect();
        Propensity {
            module: self.module.clone(),
            propensity,
            neighbours: k,
            neighbours_adopted: adopted,
            base_rate: self.base_rate,
            adopters: self.adopters,
            similar_adopters: similar,
            behaviours,
            method: format!("look-alike: buyers among the {k} nearest reference profiles"),
            min_propensity: config.min_propensity,
            min_lift: config.min_lift,
        }
    }
}

fn short(value: f64) -> String {
    if value.abs() < 1.0 && value != 0.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.0}")
    }
}

/// How likely an account is to buy a module, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Propensity {
    pub module: String,
    pub propensity: f64,
    pub neighbours: usize,
    pub neighbours_adopted: usize,
    pub base_rate: f64,
    pub adopters: usize,
    /// The nearest buyers (account ids).
    pub similar_adopters: Vec<String>,
    /// Behaviours where buyers stood out before buying.
    pub behaviours: Vec<String>,
    /// How the propensity was made: the neighbours' share, or a trained model.
    pub method: String,
    min_propensity: f64,
    min_lift: f64,
}

impl Propensity {
    /// Replaces the neighbours' share with a trained model's probability (the nearest
    /// buyers and behaviours stay as evidence).
    pub fn with_model(mut self, probability: f64, method: String) -> Propensity {
        self.propensity = probability;
        self.method = method;
        self
    }

    pub fn lift(&self) -> f64 {
        if self.base_rate > 0.0 {
            self.propensity / self.base_rate
        } else {
            0.0
        }
    }

    /// The cross-sell signal, when the propensity clears both bars.
    pub fn signal(&self) -> Option<Signal> {
        if self.propensity < self.min_propensity || self.lift() < self.min_lift {
            return None;
        }
        let mut evidence = vec![
            Evidence {
                label: "propensity".into(),
                metric: None,
                value: Some(self.propensity),
                display: format!("{} ({})", percent(self.propensity), self.method),
                date: None,
                source: None,
            },
            Evidence {
                label: format!("buyers among the {} most similar accounts", self.neighbours),
                metric: None,
                value: Some(self.neighbours_adopted as f64),
                display: format!("{} of {}", self.neighbours_adopted, self.neighbours),
                date: None,
                source: None,
            },
            Evidence {
                label: "base rate among reference accounts".into(),
                metric: None,
                value: Some(self.base_rate),
                display: percent(self.base_rate),
                date: None,
                source: None,
            },
        ];
        for id in &self.similar_adopters {
            evidence.push(Evidence {
                label: format!("a similar account that bought {}", self.module),
                metric: None,
                value: None,
                display: id.clone(),
                date: None,
                source: Some(SourceRow {
                    table: "accounts".into(),
                    id: id.clone(),
                }),
            });
        }
        for behaviour in &self.behaviours {
            evidence.push(Evidence {
                label: "behaviour before past purchases".into(),
                metric: None,
                value: None,
                display: behaviour.clone(),
                date: None,
                source: None,
            });
        }
        Some(Signal {
            kind: SignalKind::CrossSell,
            target: OpportunityKind::Module {
                module: self.module.clone(),
            },
            strength: self.propensity.clamp(0.2, 1.0),
            summary: format!(
                "Looks like the {} accounts that bought {} (as they were before buying): {} of its {} most similar reference accounts bought it; propensity {}, {:.1}× the base rate.",
                self.adopters,
                self.module,
                self.neighbours_adopted,
                self.neighbours,
                percent(self.propensity),
                self.lift()
            ),
            evidence,
            projected_limit: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CrossSellConfig {
        CrossSellConfig {
            enabled: true,
            features: vec!["a".into(), "b".into()],
            neighbours: 5,
            min_adopters: 3,
            min_propensity: 0.4,
            min_lift: 1.5,
            model_min_adopters: 100,
        }
    }

    #[test]
    fn accounts_like_the_buyers_score_high_and_others_low() {
        let mut profiles = Vec::new();
        for i in 0..10 {
            profiles.push(Profile {
                account_id: format!("buyer{i}"),
                values: vec![10.0 + i as f64 * 0.1, 5.0],
                adopted: true,
            });
        }
        for i in 0..30 {
            profiles.push(Profile {
                account_id: format!("other{i}"),
                values: vec![1.0 + i as f64 * 0.1, 5.0],
                adopted: false,
            });
        }
        let reference = ModuleReference {
            module: "api".into(),
            profiles,
        };
        let model = LookAlike::fit(&reference, &config());
        let Some(model) = model else {
            panic!("enough buyers to fit");
        };
        let like_buyers = model.score(&[10.4, 5.0], &config());
        let like_others = model.score(&[2.0, 5.0], &config());
        assert_eq!(like_buyers.neighbours_adopted, 5);
        assert!(like_buyers.propensity > 0.6, "{like_buyers:?}");
        assert!(like_others.propensity < 0.15, "{like_others:?}");
        assert!(like_buyers.signal().is_some());
        assert!(like_others.signal().is_none());
        assert!(
            like_buyers.behaviours[0].starts_with("a: buyers"),
            "{:?}",
            like_buyers.behaviours
        );
    }

    #[test]
    fn too_few_buyers_give_no_model() {
        let reference = ModuleReference {
            module: "api".into(),
            profiles: vec![
                Profile {
                    account_id: "b".into(),
                    values: vec![1.0, 1.0],
                    adopted: true,
                },
                Profile {
                    account_id: "o".into(),
                    values: vec![0.0, 0.0],
                    adopted: false,
                },
            ],
        };
        assert!(LookAlike::fit(&reference, &config()).is_none());
    }
}
