//! The grounding checker: every number and date in a draft must be one of its facts, as
//! written (rounded to the digits shown, as a percentage of a fraction, in thousands or
//! millions, 万 for ten thousands). A draft with any other number fails, and the report
//! says which number, where. Numbered-list markers at the start of a line ("1. ") are
//! layout, not claims, and are skipped.
//!
//! Written here rather than with a regex crate: the token rules (thousands separators
//! only before three digits, a suffix only when no letter follows) are a few lines of
//! scanning, and the checker must agree exactly with how the templates format numbers.

use chrono::NaiveDate;
use serde::Serialize;

use crate::facts::Facts;

/// A number or date as it appears in the draft.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    pub text: String,
    /// Byte offset in the draft.
    pub at: usize,
    /// The fact it matches (None: ungrounded).
    pub fact: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grounding {
    pub claims: Vec<Claim>,
}

impl Grounding {
    pub fn ungrounded(&self) -> impl Iterator<Item = &Claim> {
        self.claims.iter().filter(|c| c.fact.is_none())
    }

    pub fn passed(&self) -> bool {
        self.ungrounded().next().is_none()
    }

    /// One line per ungrounded claim, for the reason a draft was refused.
    pub fn explain(&self) -> String {
        self.ungrounded()
            .map(|c| format!("`{}` at byte {} is not in the facts", c.text, c.at))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number {
        value: f64,
        decimals: i32,
        percent: bool,
        multiplier: f64,
    },
    Date(NaiveDate),
}

fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

/// `YYYY-MM-DD` at `i`, if there is one.
fn date_at(bytes: &[u8], text: &str, i: usize) -> Option<(NaiveDate, usize)> {
    let end = i + 10;
    let s = text.get(i..end)?;
    let shape = s.bytes().enumerate().all(|(k, b)| {
        if k == 4 || k == 7 {
            b == b'-'
        } else {
            is_digit(b)
        }
    });
    if !shape || bytes.get(end).is_some_and(|b| is_digit(*b)) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| (d, end))
}

/// The number starting at `i` (a digit): its value, shown decimals, suffix, and end.
fn number_at(text: &str, i: usize) -> (Token, usize) {
    let bytes = text.as_bytes();
    let mut j = i;
    let mut digits = String::new();
    let mut decimals: i32 = 0;
    let mut in_fraction = false;
    while j < bytes.len() {
        let b = bytes[j];
        if is_digit(b) {
            digits.push(b as char);
            if in_fraction {
                decimals += 1;
            }
            j += 1;
        } else if b == b','
            && !in_fraction
            && bytes
                .get(j + 1..j + 4)
                .is_some_and(|d| d.iter().all(|x| is_digit(*x)))
            && !bytes.get(j + 4).is_some_and(|x| is_digit(*x))
        {
            j += 1;
        } else if b == b'.' && !in_fraction && bytes.get(j + 1).is_some_and(|x| is_digit(*x)) {
            digits.push('.');
            in_fraction = true;
            j += 1;
        } else {
            break;
        }
    }
    let value: f64 = digits.parse().unwrap_or(0.0);
    let rest = &text[j..];
    let letter_after = |len: usize| {
        rest[len..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
    };
    let (percent, multiplier, end) = if rest.starts_with('%') {
        (true, 1.0, j + 1)
    } else if rest.starts_with("万") {
        (false, 1e4, j + "万".len())
    } else if (rest.starts_with('k') || rest.starts_with('K')) && !letter_after(1) {
        (false, 1e3, j + 1)
    } else if rest.starts_with('M') && !letter_after(1) {
        (false, 1e6, j + 1)
    } else {
        (false, 1.0, j)
    };
    (
        Token::Number {
            value,
            decimals,
            percent,
            multiplier,
        },
        end,
    )
}

/// Whether `i` starts a numbered-list marker ("1. " or "2) " first on its line).
fn list_marker(text: &str, i: usize, end: usize) -> bool {
    let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
    if !text[line_start..i].trim().is_empty() {
        return false;
    }
    let after = &text[end..];
    after.starts_with(". ") || after.starts_with(") ") || after.starts_with("、")
}

fn tokens(text: &str) -> Vec<(Token, usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let starts = is_digit(b)
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
        if !starts {
            i += 1;
            continue;
        }
        if let Some((date, end)) = date_at(bytes, text, i) {
            out.push((Token::Date(date), i, end));
            i = end;
            continue;
        }
        let (token, end) = number_at(text, i);
        // Identifiers like `acc_00042` or `csm_003` start with a letter and are skipped
        // above; a number glued to letters after it (`3x`, `Q3`) is still a claim.
        if !list_marker(text, i, end) {
            out.push((token, i, end));
        }
        i = end.max(i + 1);
    }
    out
}

/// Whether `value`, shown with `decimals` digits, is `fact` rounded: within half a unit
/// of the last digit shown. Ties may go either way, as Rust's formatting rounds half to
/// even where `f64::round` rounds away from zero.
fn number_matches(value: f64, decimals: i32, percent: bool, multiplier: f64, fact: f64) -> bool {
    let scales: &[f64] = if percent { &[1.0, 100.0] } else { &[1.0] };
    let half_unit = 0.5 * 10f64.powi(-decimals);
    scales.iter().any(|scale| {
        let exact = (fact * scale / multiplier).abs();
        (exact - value).abs() <= half_unit * (1.0 + 1e-9)
    })
}

/// Byte ranges of the draft a number inside is not a claim of its own: a text fact
/// written out (an account called "Studio 54", a plan named "Pro 2") and HTML comments
/// (the `<!-- chart:NAME -->` placeholders).
fn masked(draft: &str, facts: &Facts) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    for (_, text) in facts.texts() {
        // Templates may drop a sentence's full stop to write it inside their own.
        let text = text.trim_end_matches(['.', '。', ' ']);
        if text.is_empty() || !text.bytes().any(is_digit) {
            continue;
        }
        ranges.extend(draft.match_indices(text).map(|(at, t)| (at, at + t.len())));
    }
    let mut from = 0;
    while let Some(start) = draft[from..].find("<!--").map(|i| i + from) {
        let end = draft[start..]
            .find("-->")
            .map_or(draft.len(), |i| start + i + 3);
        ranges.push((start, end));
        from = end;
    }
    ranges
}

/// Checks every number and date of `draft` against `facts`.
pub fn check(draft: &str, facts: &Facts) -> Grounding {
    let masked = masked(draft, facts);
    let claims = tokens(draft)
        .into_iter()
        .filter(|(_, at, _)| !masked.iter().any(|(from, to)| (*from..*to).contains(at)))
        .map(|(token, at, end)| {
            let fact = match &token {
                Token::Date(date) => facts
                    .dates()
                    .find(|(_, d)| d == date)
                    .map(|(f, _)| f.key.clone()),
                Token::Number {
                    value,
                    decimals,
                    percent,
                    multiplier,
                } => facts
                    .numbers()
                    .find(|(_, n)| number_matches(*value, *decimals, *percent, *multiplier, *n))
                    .map(|(f, _)| f.key.clone()),
            };
            Claim {
                text: draft[at..end].to_string(),
                at,
                fact,
            }
        })
        .collect();
    Grounding { claims }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Citation, FactValue};

    fn facts() -> Facts {
        let cite = |source: &str| Citation {
            source: source.into(),
            as_of: NaiveDate::from_ymd_opt(2026, 10, 31),
            record: None,
        };
        let mut f = Facts::default();
        f.push("arr", FactValue::Number(10800.0), cite("contracts.arr"));
        f.push(
            "seat_utilisation",
            FactValue::Number(0.9734),
            cite("seat_utilisation_30d"),
        );
        f.push("health", FactValue::Number(52.81), cite("health_score"));
        f.push("drop", FactValue::Number(-18.2), cite("health_score"));
        f.push(
            "pipeline",
            FactValue::Number(1_250_000.0),
            cite("expansion"),
        );
        f.push(
            "renewal",
            FactValue::Date(NaiveDate::from_ymd_opt(2026, 12, 28).unwrap()),
            cite("contracts.end_date"),
        );
        f.push("plan_days", FactValue::Number(90.0), cite("adoption.plan"));
        f
    }

    #[test]
    fn numbers_as_the_templates_write_them_are_grounded() {
        let draft = "ARR $10,800; seats 97% used (97.3%); health 53, or 52.8; it fell 18.2 \
                     points; pipeline $1.25M or 1,250k or 125万; renewal on 2026-12-28; \
                     a 90-day plan. Account acc_00042, CSM csm_003.";
        let g = check(draft, &facts());
        assert!(g.passed(), "{}", g.explain());
        let matched: Vec<&str> = g.claims.iter().filter_map(|c| c.fact.as_deref()).collect();
        assert_eq!(
            matched,
            [
                "arr",
                "seat_utilisation",
                "seat_utilisation",
                "health",
                "health",
                "drop",
                "pipeline",
                "pipeline",
                "pipeline",
                "renewal",
                "plan_days"
            ]
        );
    }

    #[test]
    fn an_injected_wrong_number_fails_the_draft_and_is_named() {
        let draft = "Health is 53 and usage grew 40% this quarter.";
        let g = check(draft, &facts());
        assert!(!g.passed());
        let bad: Vec<&Claim> = g.ungrounded().collect();
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].text, "40%");
        assert_eq!(bad[0].at, draft.find("40%").unwrap());
        assert!(g.explain().contains("`40%`"));
    }

    #[test]
    fn rounding_is_to_the_digits_shown_not_looser() {
        // 52.81 shows as 53 or 52.8, never as 52 or 52.9.
        for wrong in ["52", "52.9", "53.1"] {
            assert!(
                !check(&format!("health {wrong}"), &facts()).passed(),
                "{wrong}"
            );
        }
        // A wrong date is refused like a wrong number.
        assert!(!check("renewal on 2026-12-29", &facts()).passed());
    }

    #[test]
    fn list_markers_are_layout_but_other_leading_numbers_are_claims() {
        let draft = "1. Review the plan\n2) Call the sponsor\n  3. Send the recap";
        assert!(check(draft, &facts()).passed());
        assert!(!check("7 seats are idle", &facts()).passed());
        // Chinese text: numbers inside are checked the same way.
        assert!(check("健康分 53，席位使用率 97%，续约日期 2026-12-28。", &facts()).passed());
        assert!(!check("健康分 60。", &facts()).passed());
    }

    #[test]
    fn numbers_inside_named_facts_and_comments_are_not_claims() {
        let mut f = facts();
        f.push(
            "account.name",
            FactValue::Text("Studio 54".into()),
            Citation {
                source: "accounts.name".into(),
                as_of: None,
                record: Some("accounts acc_00054".into()),
            },
        );
        assert!(
            check(
                "Studio 54 renews on 2026-12-28.\n<!-- chart:usage_12w -->",
                &f
            )
            .passed()
        );
        assert!(!check("Studio 55 renews soon.", &f).passed());
        // A sentence fact written without its full stop is still the fact.
        f.push(
            "metric.description",
            FactValue::Text("Escalated tickets in the last 180 days.".into()),
            Citation {
                source: "metric catalogue".into(),
                as_of: None,
                record: None,
            },
        );
        assert!(check("Escalated tickets in the last 180 days is rising.", &f).passed());
        assert!(!check("Escalated tickets in the last 190 days is rising.", &f).passed());
    }
}
