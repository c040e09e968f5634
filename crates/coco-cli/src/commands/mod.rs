//! One module per command family. Each parses nothing (clap did), calls the library,
//! and formats the result.

pub mod accounts;
pub mod actions;
pub mod adoption;
pub mod contract;
pub mod demo;
pub mod drafts;
pub mod expansion;
pub mod health_view;
pub mod ingest;
pub mod journey;
pub mod metrics;
pub mod model;
pub mod quality;
pub mod quarantine;
pub mod renewals;
pub mod segments;
pub mod serve;
pub mod workload;

use std::process::ExitCode;

use anyhow::Result;
use coco_store::{IngestError, Store, StoreError, StoreOptions};

use crate::GlobalArgs;
use crate::output::{self, Format};

/// An error the user can fix (exit code 1), with an optional hint.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UserError {
    pub message: String,
    pub hint: Option<String>,
}

pub fn user_error(message: impl Into<String>, hint: Option<&str>) -> anyhow::Error {
    anyhow::Error::new(UserError {
        message: message.into(),
        hint: hint.map(str::to_string),
    })
}

pub fn open_store(global: &GlobalArgs) -> Result<Store> {
    let options = StoreOptions {
        memory_limit: global.memory_limit.clone(),
        ..StoreOptions::default()
    };
    Ok(Store::open_with(&global.data_dir, &options)?)
}

/// Prints `error: <one line>` and `hint: ...`, and picks the exit code: 1 for user or
/// data errors, 2 for internal ones.
pub fn report_error(error: &anyhow::Error) -> ExitCode {
    // `coco ... | head` closing the pipe early is not an error.
    let broken_pipe = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause.to_string().contains("Broken pipe")
    });
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    let (user, hint) = if let Some(e) = error.downcast_ref::<UserError>() {
        (true, e.hint.clone())
    } else if let Some(e) = error.downcast_ref::<IngestError>() {
        (e.is_user_error(), e.hint().map(str::to_string))
    } else if let Some(e) = error.downcast_ref::<StoreError>() {
        (e.is_user_error(), None)
    } else if let Some(e) = error.downcast_ref::<coco_engine::EngineError>() {
        (e.is_user_error(), None)
    } else if let Some(e) = error.downcast_ref::<coco_metrics::CompileError>() {
        (
            matches!(e, coco_metrics::CompileError::DateOutOfRange(_)),
            None,
        )
    } else if let Some(e) = error.downcast_ref::<coco_models::ModelError>() {
        (e.is_user_error(), None)
    } else if let Some(e) = error.downcast_ref::<coco_demo::DemoError>() {
        (matches!(e, coco_demo::DemoError::InvalidConfig(_)), None)
    } else {
        (false, None)
    };
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    if let Some(hint) = hint {
        eprintln!("hint: {hint}");
    }
    if user {
        ExitCode::from(1)
    } else {
        eprintln!("(this looks like a bug in coco; please report it with the command you ran)");
        ExitCode::from(2)
    }
}

pub fn status(global: &GlobalArgs) -> Result<()> {
    let store = open_store(global)?;
    let entities = store.status()?;
    if global.format == Format::Table {
        println!(
            "store: {} (schema v{}, {:.1} MB)",
            store.path().display(),
            store.schema_version()?,
            store.file_size() as f64 / 1e6
        );
    }
    output::print_rows(&entities, global.format)
}

/// Today's date (UTC): the default as-of date of every command that takes one.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}
