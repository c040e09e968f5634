//! The error of the analyzers' own settings files (`config/expansion.toml`,
//! `config/adoption.toml`): a TOML error with its line and column, or a problem of meaning
//! naming the field at fault.

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
}

pub fn invalid(at: &str, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        at: at.to_string(),
        message: message.into(),
    }
}

/// A `{ metric, at_least, at_most }` condition of a settings file, evaluated on one
/// account of a frame: the metric's index and value when the value lies within the
/// bounds. A missing value never holds — no survey answered is not a detractor, and
/// missing data never proves a cause.
pub(crate) fn metric_within(
    frame: &crate::frame::SnapshotFrame,
    account: usize,
    metric: &str,
    at_least: Option<f64>,
    at_most: Option<f64>,
) -> Option<(usize, f64)> {
    let index = frame.metric_index(metric)?;
    let value = frame.value(account, index)?;
    (at_least.is_none_or(|min| value >= min) && at_most.is_none_or(|max| value <= max))
        .then_some((index, value))
}
