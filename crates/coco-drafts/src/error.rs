use thiserror::Error;

#[derive(Debug, Error)]
pub enum DraftError {
    /// A template failed to parse or render; `name` is its file name.
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    /// A settings file (`config/drafts.toml` or a user override) is wrong.
    #[error("{file}: {message}")]
    Config { file: String, message: String },
    /// Writing the PPTX package failed.
    #[error("pptx: {0}")]
    Pptx(String),
    /// A template draft states a number or date its facts do not hold.
    #[error("{template} states what its facts do not hold: {claims}")]
    Ungrounded { template: String, claims: String },
    #[error("{0}")]
    Invalid(String),
}
