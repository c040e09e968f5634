//! Mapping files: how a foreign export (CRM, help desk, analytics tool) becomes a
//! contract table. See `docs/mapping.md` for the format and worked examples.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::IngestError;

/// A parsed mapping file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Entity the mapping is for; checked against the command's entity when given.
    pub entity: Option<String>,
    #[serde(default)]
    pub source: SourceOptions,
    /// Target column -> how to compute it from the source row.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnMapping>,
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceOptions {
    /// `csv`, `tsv`, `jsonl` or `parquet`; default from the file extension.
    pub format: Option<String>,
    /// CSV field delimiter (one character); default `,` (tab for .tsv).
    pub delimiter: Option<String>,
}

/// How one target column is produced.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ColumnMapping {
    /// `target = "Source Column"`: a plain rename.
    Rename(String),
    Rule(ColumnRule),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnRule {
    /// Source column to read.
    pub from: Option<String>,
    /// A DuckDB SQL expression over source columns (quote names with spaces:
    /// `"Annual Revenue" / 12`). Overrides `from`.
    pub expr: Option<String>,
    /// strptime format of a date or timestamp source column, e.g. `%m/%d/%Y`.
    pub date_format: Option<String>,
    /// Value translation, e.g. `{ "Ent" = "enterprise" }`; unlisted values pass through
    /// (and are then validated).
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Value used when the source is empty or the column is absent.
    pub default: Option<String>,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping, IngestError> {
        let text = std::fs::read_to_string(path).map_err(|source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut mapping: Mapping = toml::from_str(&text).map_err(|e| IngestError::Mapping {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        mapping.path = Some(path.to_path_buf());
        Ok(mapping)
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> IngestError {
        IngestError::Mapping {
            path: self
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from("<mapping>")),
            message: message.into(),
        }
    }

    pub(crate) fn delimiter(&self) -> Result<Option<u8>, IngestError> {
        match self.source.delimiter.as_deref() {
            None => Ok(None),
            Some("\\t") | Some("tab") => Ok(Some(b'\t')),
            Some(text) if text.len() == 1 => Ok(Some(text.as_bytes()[0])),
            Some(text) => Err(self.error(format!(
                "source.delimiter must be one ASCII character, got {text:?}"
            ))),
        }
    }

    /// The rule for a target column, normalising the plain-rename form.
    pub(crate) fn rule(&self, target: &str) -> Option<ColumnRule> {
        self.columns.get(target).map(|mapping| match mapping {
            ColumnMapping::Rename(from) => ColumnRule {
                from: Some(from.clone()),
                ..ColumnRule::default()
            },
            ColumnMapping::Rule(rule) => rule.clone(),
        })
    }
}
