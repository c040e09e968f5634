//! Number formatting for value labels, tooltips and axis ticks.

/// What a missing or non-finite value is shown as.
pub const MISSING: &str = "n/a";

/// Above this magnitude numbers are shown in scientific notation: digit-for-digit output
/// of a value like 1e300 would be hundreds of characters of noise in a label.
const HUGE: f64 = 1e15;

/// How bar values, stacked values and axis ticks are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ValueFormat {
    /// Up to two decimals, trailing zeros dropped, thousands grouped: `1,234.5`.
    #[default]
    Plain,
    /// Compact dollars: `$900`, `$1.5k`, `$340k`, `$1.2M`, `$3B`, `-$12k`.
    Money,
    /// The value is already in percent points (72.5 means 72.5 %): `72.5%`. A
    Percent,
    /// Rounded to a whole number, thousands grouped: `12,345`.
    Integer,
}

/// Formats `value` for display. NaN and infinities are shown as [`MISSING`] (`n/a`).
///
/// ```
/// use coco_charts::{format_value, ValueFormat};
/// assert_eq!(format_value(1_200_000.0, ValueFormat::Money), "$1.2M");
/// assert_eq!(format_value(340_000.0, ValueFormat::Money), "$340k");
/// assert_eq!(format_value(0.0, ValueFormat::Money), "$0");
/// assert_eq!(format_value(72.25, ValueFormat::Percent), "72.3%");
/// assert_eq!(format_value(12_345.6, ValueFormat::Integer), "12,346");
/// assert_eq!(format_value(1234.5, ValueFormat::Plain), "1,234.5");
/// assert_eq!(format_value(f64::NAN, ValueFormat::Plain), "n/a");
/// ```
pub fn format_value(value: f64, format: ValueFormat) -> String {
    if !value.is_finite() {
        return MISSING.to_string();
    }
    match format {
        ValueFormat::Plain => grouped_number(value, 2),
        ValueFormat::Integer => grouped_number(value, 0),
        ValueFormat::Percent => format!("{}%", grouped_number(value, 1)),
        ValueFormat::Money => money(value),
    }
}

/// `value` rounded to at most `max_decimals` decimals, trailing zeros dropped, with comma
/// thousands separators. Never writes `-0`.
fn grouped_number(value: f64, max_decimals: usize) -> String {
    if value.abs() >= HUGE {
        return scientific(value);
    }
    let fixed = trim_zeros(format!(
        "{:.max_decimals$}",
        round_half_away(value, max_decimals)
    ));
    let (negative, digits) = match fixed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, fixed.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = String::with_capacity(fixed.len() + whole.len() / 3 + 1);
    // Rounding can turn a small negative into zero; "-0" would read as a real negative.
    if negative && digits.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A tick label: `value` with at most `decimals` decimals (what the tick step needs),
/// trailing zeros dropped (`0`, `0.5`, `1`), no grouping, never `-0`.
pub(crate) fn tick_number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return MISSING.to_string();
    }
    if value.abs() >= HUGE {
        return scientific(value);
    }
    let text = trim_zeros(format!("{value:.decimals$}"));
    if text
        .strip_prefix('-')
        .is_some_and(|rest| rest.chars().all(|c| c == '0' || c == '.'))
    {
        "0".to_string()
    } else {
        text
    }
}

/// Compact money: one decimal below 100 of a unit, none above, and the unit bumped when
/// rounding reaches 1000 (999,960 is `$1M`, not `$1000k`).
fn money(value: f64) -> String {
    const UNITS: [(f64, &str); 5] = [(1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "B"), (1e12, "T")];
    let magnitude = value.abs();
    let body = if magnitude >= HUGE {
        scientific(magnitude)
    } else {
        let mut body = String::new();
        for (divisor, suffix) in UNITS {
            let scaled = magnitude / divisor;
            // Whole dollars below $1k: cents are noise on a dashboard.
            let decimals = if divisor > 1.0 && scaled < 100.0 {
                1
            } else {
                0
            };
            let text = trim_zeros(format!("{:.decimals$}", round_half_away(scaled, decimals)));
            body = format!("{text}{suffix}");
            if text.parse::<f64>().is_ok_and(|rounded| rounded < 1000.0) {
                break;
            }
        }
        body
    };
    let sign = if value < 0.0 && body != "0" { "-" } else { "" };
    format!("{sign}${body}")
}

/// `value` rounded to `decimals` places with halves away from zero, as people round
/// (`1.25` → `1.3`); formatting alone rounds the binary value half-to-even (`1.2`).
fn round_half_away(value: f64, decimals: usize) -> f64 {
    let factor = 10f64.powi(decimals.min(15) as i32);
    let rounded = (value * factor).round() / factor;
    if rounded.is_finite() { rounded } else { value }
}

fn scientific(value: f64) -> String {
    format!("{value:.2e}")
}

/// Drops trailing fractional zeros and a dangling decimal point: `1.50` → `1.5`, `2.0` → `2`.
fn trim_zeros(mut text: String) -> String {
    if text.contains('.') {
        let kept = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(kept);
    }
    text
}

/// How many decimals tick labels need so that ticks `step` apart read differently.
pub(crate) fn decimals_for_step(step: f64) -> usize {
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    let decimals = -step.log10().floor();
    if decimals <= 0.0 {
        0
    } else {
        // Ticks come from a 1-2-5 ladder, so the leading digit of the step suffices.
        decimals.min(12.0) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_compact() {
        let cases = [
            (0.0, "$0"),
            (-0.3, "$0"),
            (0.4, "$0"),
            (900.0, "$900"),
            (999.4, "$999"),
            (999.6, "$1k"),
            (1_500.0, "$1.5k"),
            (12_345.0, "$12.3k"),
            (340_000.0, "$340k"),
            (999_960.0, "$1M"),
            (1_200_000.0, "$1.2M"),
            (2_000_000.0, "$2M"),
            (3_000_000_000.0, "$3B"),
            (4.5e12, "$4.5T"),
            (-12_000.0, "-$12k"),
            (2e15, "$2.00e15"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_value(value, ValueFormat::Money), expected, "{value}");
        }
    }

    #[test]
    fn plain_integer_percent() {
        assert_eq!(format_value(0.0, ValueFormat::Plain), "0");
        assert_eq!(format_value(-0.001, ValueFormat::Plain), "0");
        assert_eq!(
            format_value(-1234567.891, ValueFormat::Plain),
            "-1,234,567.89"
        );
        assert_eq!(format_value(100.0, ValueFormat::Plain), "100");
        assert_eq!(format_value(999.999, ValueFormat::Plain), "1,000");
        assert_eq!(format_value(0.5, ValueFormat::Integer), "1");
        assert_eq!(format_value(0.49, ValueFormat::Integer), "0");
        assert_eq!(format_value(1e6, ValueFormat::Integer), "1,000,000");
        assert_eq!(format_value(40.0, ValueFormat::Percent), "40%");
        assert_eq!(format_value(72.25, ValueFormat::Percent), "72.3%");
        assert_eq!(format_value(-72.25, ValueFormat::Percent), "-72.3%");
        assert_eq!(format_value(0.125, ValueFormat::Plain), "0.13");
        assert_eq!(format_value(1e300, ValueFormat::Plain), "1.00e300");
        for format in [
            ValueFormat::Plain,
            ValueFormat::Money,
            ValueFormat::Percent,
            ValueFormat::Integer,
        ] {
            assert_eq!(format_value(f64::INFINITY, format), MISSING);
            assert_eq!(format_value(f64::NEG_INFINITY, format), MISSING);
            assert_eq!(format_value(f64::NAN, format), MISSING);
        }
    }

    #[test]
    fn ticks() {
        assert_eq!(tick_number(0.5, 1), "0.5");
        assert_eq!(tick_number(1.0, 1), "1");
        assert_eq!(tick_number(-0.0, 0), "0");
        assert_eq!(tick_number(-0.04, 1), "0");
        assert_eq!(tick_number(0.30000000000000004, 1), "0.3");
        assert_eq!(decimals_for_step(20.0), 0);
        assert_eq!(decimals_for_step(1.0), 0);
        assert_eq!(decimals_for_step(0.5), 1);
        assert_eq!(decimals_for_step(0.02), 2);
        assert_eq!(decimals_for_step(0.0), 0);
        assert_eq!(decimals_for_step(f64::NAN), 0);
    }
}
