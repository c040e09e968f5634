//! The COCO store: the only crate that talks to the database.
//!
//! - [`store`]: opening the DuckDB file, migrations, the one-writer lock.
//! - [`ingest`]: files in (CSV, JSON Lines, Parquet), mapping, validation, quarantine.
//! - [`quarantine`]: reading rejected rows back.
//! - [`quality`]: the data quality report.
//! - [`snapshots`]: point-in-time metric snapshots and the analyses stored with them.
//! - [`queries`]: typed read-only questions (accounts, status, portfolio summary).
//! - [`portfolio`]: portfolio questions over a snapshot (colour totals, trends, filters, timeline).
//! - [`growth`]: what the expansion and adoption analyzers read; recorded expansion
//!   outcomes and adoption campaigns.
//! - [`actions`]: alerts, tasks, interventions, the notification outbox and the run log
//!   (what COCO records when it acts; migration `0010_actions.sql`).
//! - [`auth`]: users, sessions, API tokens and the audit log (hashes only; hashing is the server's).

pub mod actions;
pub mod auth;
pub mod cohort_index;
pub mod error;
pub mod growth;
pub mod ingest;
pub mod lifecycle;
pub mod store;
pub mod training;

pub use error::{IngestError, StoreError};
pub use ingest::{IngestOptions, IngestReport, SourceFormat, mapping::Mapping};
pub use store::{Store, StoreOptions};
pub mod models;
pub mod portfolio;
pub mod quality;
pub mod quarantine;
pub mod queries;
pub mod read_model;
pub mod snapshots;
