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

pub(crate) fn invalid(at: &str, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        at: at.to_string(),
        message: message.into(),
    }
}
