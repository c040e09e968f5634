//! Numbers in words: one formatting rule for every sentence an analyzer writes.

/// A metric value in its unit: fractions and changes as percentages, days and counts
/// as whole numbers.
pub fn format_metric_value(value: f64, unit: &str, name: &str) -> String {
    if name.contains("_change_") || unit == "change" {
        return format!("{:+.0}%", value * 100.0).replace('-', "−");
    }
    if name == "arr" || name == "mrr" {
        return format!("${value:.0}");
    }
    match unit {
        "fraction" | "share" | "rate" => format!("{:.0}%", value * 100.0),
        "days" => format!("{value:.0} days"),
        "USD" | "money" => format!("${value:.0}"),
        _ if value.fract() == 0.0 => format!("{value:.0}"),
        _ => format!("{value:.2}"),
    }
}

/// Money with thousands separators: `$12,400`.
pub fn format_money(value: f64) -> String {
    let rounded = value.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if rounded < 0 {
        format!("−${grouped}")
    } else {
        format!("${grouped}")
    }
}

/// The median (mean of the middle two for an even count); sorts `values` in place.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// A raw number as a rule or threshold states it: whole numbers without decimals,
/// others with at most two (`18.25` → `18.25`, `0.600` → `0.6`, `-15.0` → `-15`).
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A fraction as a whole percentage: `0.884` → `88%`.
pub fn percent(value: f64) -> String {
    format!("{:.0}%", value * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped() {
        assert_eq!(format_money(0.0), "$0");
        assert_eq!(format_money(999.4), "$999");
        assert_eq!(format_money(12_400.0), "$12,400");
        assert_eq!(format_money(1_234_567.0), "$1,234,567");
        assert_eq!(format_money(-5_000.0), "−$5,000");
    }

    #[test]
    fn changes_are_signed_percentages() {
        assert_eq!(
            format_metric_value(-0.38, "fraction", "events_30d_change_90d"),
            "−38%"
        );
        assert_eq!(
            format_metric_value(0.884, "fraction", "seat_utilisation_30d"),
            "88%"
        );
        assert_eq!(format_metric_value(12.0, "days", "x"), "12 days");
    }
}
