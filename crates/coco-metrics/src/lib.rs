//! COCO metrics: the metric catalogue (configuration) and its compilation to SQL.
//!
//! - [`catalogue`]: the TOML catalogue — parsing, checking, merging a user file over the
//!   shipped one, fingerprints for provenance.
//! - [`source`]: the tables metrics count over and the columns filters may name.
//! - [`compile`]: one point-in-time SQL query per as-of date for the whole catalogue.
//!
//! This crate never opens the database: it produces SQL that `coco-store` runs, so the
//! definitions can be tested, explained (`coco metrics explain`) and, later, compiled for
//! another engine without touching the store.

pub mod catalogue;
pub mod compile;
pub mod source;

pub use catalogue::{Catalogue, CatalogueError, MetricDef, MetricKind};
pub use compile::{ATTRIBUTE_COLUMNS, CompileError, CompiledSnapshot, compile, feature_usage_sql};
pub use source::Source;
