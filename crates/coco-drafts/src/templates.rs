//! The template engine: minijinja templates as files (`crates/coco-drafts/templates/
//! <locale>/<name>.md`, compiled in), each replaceable — or joined by new ones a
//! template includes — by a file of the same path under `<data-dir>/templates/drafts/`.
//! Templates see only a draft's facts (as [`Facts::context`] nests them) and a few
//! layout variables; the filters here format numbers exactly as the grounding checker
//! reads them back.
//!
//! The English and Chinese variants are written separately, not translated word for
//! word: each reads the way a CSM in that language would write.

use std::collections::BTreeMap;

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value};

use crate::DraftError;
use crate::document::Locale;

macro_rules! shipped {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../templates/", $path)))),*]
    };
}

/// Every shipped template, by its path under `templates/`.
pub const SHIPPED: &[(&str, &str)] = shipped!(
    "en/outreach_adoption_gap.md",
    "zh/outreach_adoption_gap.md",
    "en/outreach_risk.md",
    "zh/outreach_risk.md",
    "en/outreach_expansion.md",
    "zh/outreach_expansion.md",
    "en/outreach_reengagement.md",
    "zh/outreach_reengagement.md",
    "en/outreach_tier_migration.md",
    "zh/outreach_tier_migration.md",
    "en/qbr.md",
    "zh/qbr.md",
    "en/ebr.md",
    "zh/ebr.md",
    "en/plan.md",
    "zh/plan.md",
    "en/portfolio.md",
    "zh/portfolio.md",
    "en/adoption.md",
    "zh/adoption.md",
    "en/renewals.md",
    "zh/renewals.md",
    "en/anomaly.md",
    "zh/anomaly.md",
    "en/benchmark.md",
    "zh/benchmark.md",
    "en/lifecycle.md",
    "zh/lifecycle.md",
    // Playbook task emails (config/playbooks.toml `template = …`, as `task_<id>`), the
    // playbook document of an account and the CSM handbook.
    "en/task_health_check_in.md",
    "zh/task_health_check_in.md",
    "en/task_onboarding_unblock.md",
    "zh/task_onboarding_unblock.md",
    "en/task_exec_outreach.md",
    "zh/task_exec_outreach.md",
    "en/task_new_champion_intro.md",
    "zh/task_new_champion_intro.md",
    "en/task_detractor_follow_up.md",
    "zh/task_detractor_follow_up.md",
    "en/task_support_update.md",
    "zh/task_support_update.md",
    "en/task_training_offer.md",
    "zh/task_training_offer.md",
    "en/task_re_engage.md",
    "zh/task_re_engage.md",
    "en/task_value_summary.md",
    "zh/task_value_summary.md",
    "en/task_expansion_seats.md",
    "zh/task_expansion_seats.md",
    "en/task_ebr_invite.md",
    "zh/task_ebr_invite.md",
    "en/playbook.md",
    "zh/playbook.md",
    "en/handbook.md",
    "zh/handbook.md",
);

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The shipped templates with `overrides` (path → source, e.g. `zh/qbr.md`) laid
    /// over them. A template that does not parse is refused naming its path.
    pub fn new(overrides: &BTreeMap<String, String>) -> Result<Self, DraftError> {
        let mut env = Environment::new();
        // Markdown is not HTML: values are written as they are; the HTML renderer
        // escapes the text when it converts the Markdown.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        // A missing fact is an error where it is printed, but a template may ask
        // `{% if account.renewal_date %}` of a fact that some accounts lack.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        let mut sources: BTreeMap<String, String> = SHIPPED
            .iter()
            .map(|(path, source)| (path.to_string(), source.to_string()))
            .collect();
        sources.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
        for (path, source) in sources {
            env.add_template_owned(path.clone(), source)
                .map_err(|e| template_error(&path, &e))?;
        }
        env.add_filter("num", num);
        env.add_filter("pct", pct);
        env.add_filter("money", money);
        env.add_filter("signed", signed);
        env.add_filter("arrow", arrow);
        Ok(Templates { env })
    }

    /// Renders `<locale>/<name>.md` with `context` (the facts' nested object plus
    /// layout variables); `locale` is set for the filters.
    pub fn render(
        &self,
        name: &str,
        locale: Locale,
        context: &serde_json::Value,
    ) -> Result<String, DraftError> {
        let path = format!("{locale}/{name}.md");
        let template = self
            .env
            .get_template(&path)
            .map_err(|e| template_error(&path, &e))?;
        let mut context = context.clone();
        if let serde_json::Value::Object(map) = &mut context {
            map.insert("locale".into(), serde_json::Value::from(locale.as_str()));
        }
        template
            .render(Value::from_serialize(&context))
            .map_err(|e| template_error(&path, &e))
    }
}

fn template_error(path: &str, error: &Error) -> DraftError {
    let mut message = error.to_string();
    if let Some(line) = error.line() {
        message = format!("line {line}: {message}");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    DraftError::Template {
        name: path.to_string(),
        message,
    }
}

fn locale_of(state: &State) -> Locale {
    match state.lookup("locale").as_ref().and_then(Value::as_str) {
        Some("zh") => Locale::Zh,
        _ => Locale::En,
    }
}

fn number_arg(value: &Value, filter: &str) -> Result<f64, Error> {
    f64::try_from(value.clone()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`{filter}` needs a number, got {value}"),
        )
    })
}

fn digits_arg(kwargs: &Kwargs, default: usize) -> Result<usize, Error> {
    let digits: Option<usize> = kwargs.get("digits")?;
    kwargs.assert_all_used()?;
    Ok(digits.unwrap_or(default))
}

/// `1234.5 | num` → `1,235`; `num(digits=1)` → `1,234.5`. Thousands are grouped only
/// before three digits, which is how the checker reads a grouped number.
pub fn format_number(value: f64, digits: usize) -> String {
    let text = format!("{:.*}", digits, value.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w.to_string(), Some(f.to_string())),
        None => (text, None),
    };
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 && grouped.chars().any(|c| c != '0' && c != ',') {
        "-"
    } else {
        ""
    };
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn num(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    Ok(format_number(
        number_arg(&value, "num")?,
        digits_arg(&kwargs, 0)?,
    ))
}

/// A fraction as a percentage: `0.973 | pct` → `97%`.
fn pct(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    let fraction = number_arg(&value, "pct")?;
    Ok(format!(
        "{}%",
        format_number(fraction * 100.0, digits_arg(&kwargs, 0)?)
    ))
}

/// Money: `$10,800`, and from a million `$1.3M`; in Chinese `10,800 美元`, from ten
/// thousand `1.1万美元` (how amounts are said there).
fn money(state: &State, value: Value) -> Result<String, Error> {
    let amount = number_arg(&value, "money")?;
    Ok(match locale_of(state) {
        Locale::En if amount.abs() >= 1e6 => {
            format!("${}M", format_number(amount / 1e6, 1))
        }
        Locale::En => format!("${}", format_number(amount, 0)),
        Locale::Zh if amount.abs() >= 1e4 => {
            format!("{}万美元", format_number(amount / 1e4, 1))
        }
        Locale::Zh => format!("{} 美元", format_number(amount, 0)),
    })
}

/// A change with its sign: `+3.2`, `-18.2` (`signed(digits=0)` → `+3`).
fn signed(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    let change = number_arg(&value, "signed")?;
    let text = format_number(change, digits_arg(&kwargs, 1)?);
    Ok(
        if text.starts_with('-') || text.chars().all(|c| c == '0' || c == '.') {
            text
        } else {
            format!("+{text}")
        },
    )
}

/// A trend arrow for a change: ↑, ↓ or → (within `flat`, default 0).
fn arrow(value: Value, kwargs: Kwargs) -> Result<String, Error> {
    let change = number_arg(&value, "arrow")?;
    let flat: Option<f64> = kwargs.get("flat")?;
    kwargs.assert_all_used()?;
    let flat = flat.unwrap_or(0.0);
    Ok(if change > flat {
        "↑"
    } else if change < -flat {
        "↓"
    } else {
        "→"
    }
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_signed() {
        assert_eq!(format_number(1234.6, 0), "1,235");
        assert_eq!(format_number(1234.5, 1), "1,234.5");
        assert_eq!(format_number(-18.24, 1), "-18.2");
        assert_eq!(format_number(-0.01, 0), "0");
        assert_eq!(format_number(999_999.0, 0), "999,999");
    }

    #[test]
    fn filters_follow_the_locale() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "en/t.md".to_string(),
            "{{ a | money }} {{ b | money }} {{ c | pct }} {{ d | signed }} {{ d | arrow }}"
                .to_string(),
        );
        overrides.insert(
            "zh/t.md".to_string(),
            "{{ a | money }} {{ b | money }} {{ c | pct(digits=1) }}".to_string(),
        );
        let templates = Templates::new(&overrides).expect("templates");
        let context = serde_json::json!({"a": 10800.0, "b": 1250000.0, "c": 0.9734, "d": -18.24});
        assert_eq!(
            templates.render("t", Locale::En, &context).expect("en"),
            "$10,800 $1.2M 97% -18.2 ↓"
        );
        assert_eq!(
            templates.render("t", Locale::Zh, &context).expect("zh"),
            "1.1万美元 125.0万美元 97.3%"
        );
    }

    #[test]
    fn a_broken_override_is_refused_naming_its_path() {
        let mut overrides = BTreeMap::new();
        overrides.insert("en/qbr.md".to_string(), "{% if %}".to_string());
        match Templates::new(&overrides) {
            Err(DraftError::Template { name, .. }) => assert_eq!(name, "en/qbr.md"),
            other => panic!("expected a template error, got {:?}", other.err()),
        }
    }

    #[test]
    fn a_missing_fact_fails_where_it_is_printed() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "en/t.md".to_string(),
            "{% if x %}never{% endif %}{{ y.z }}".to_string(),
        );
        let templates = Templates::new(&overrides).expect("templates");
        let error = templates
            .render("t", Locale::En, &serde_json::json!({}))
            .expect_err("undefined");
        assert!(error.to_string().contains("en/t.md"), "{error}");
    }
}
