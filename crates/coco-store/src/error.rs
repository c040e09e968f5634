use std::path::PathBuf;

/// Errors opening or querying the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store {path} is in use by another process{holder}; stop it (or, once `coco serve` runs, let the command go through the server) and try again"
    )]
    Locked { path: PathBuf, holder: String },

    #[error(
        "the store {path} has schema version {found}, newer than this coco understands (up to {supported}); upgrade coco to open it"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{0}")]
    NotFound(String),

    /// A request the store refuses as it stands (a duplicate name, a revoked token).
    #[error("{0}")]
    Invalid(String),

    #[error("database error: {0}")]
    Db(#[from] duckdb::Error),

    #[error("internal error: {0}")]
    Internal(String),
}

impl StoreError {
    /// True when the user can fix the cause (exit code 1) rather than a bug (exit code 2).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, StoreError::Db(_) | StoreError::Internal(_))
    }
}

/// Errors that stop a whole file from being ingested. Row-level problems never become
/// an `IngestError`: they are quarantined and counted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file as a whole cannot be read as the entity (missing column, empty file,
    /// unreadable header...). Nothing was written.
    #[error("{path}: {message}")]
    File {
        path: PathBuf,
        message: String,
        hint: Option<String>,
    },

    #[error("mapping file {path}: {message}")]
    Mapping { path: PathBuf, message: String },

    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("database error while ingesting {path}: {source}")]
    Db {
        path: PathBuf,
        source: duckdb::Error,
    },

    #[error("internal accounting error in {path}: {message}")]
    Accounting { path: PathBuf, message: String },
}

impl IngestError {
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        IngestError::File {
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(self, new_hint: impl Into<String>) -> Self {
        match self {
            IngestError::File { path, message, .. } => IngestError::File {
                path,
                message,
                hint: Some(new_hint.into()),
            },
            other => other,
        }
    }

    pub fn hint(&self) -> Option<&str> {
        match self {
            IngestError::File { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    pub fn is_user_error(&self) -> bool {
        match self {
            IngestError::File { .. } | IngestError::Mapping { .. } | IngestError::Io { .. } => true,
            IngestError::Store(e) => e.is_user_error(),
            IngestError::Db { .. } | IngestError::Accounting { .. } => false,
        }
    }
}
