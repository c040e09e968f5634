//! Running the `coco` binary in the CLI tests.

use std::path::Path;
use std::process::{Command, Output};

/// The webhook secret the tests' notification files name (`secret_env`).
pub const SECRET: &str = "test-webhook-secret";

pub fn coco(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coco"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("COCO_TEST_WEBHOOK_SECRET", SECRET)
        .env_remove("COCO_LOG")
        .output()
        .expect("run coco")
}

/// The output of a run that must succeed (else its stdout and stderr in the panic).
pub fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A demo book of `accounts` accounts (12 months ending 2026-10-31) ingested into
/// `data`, with weekly snapshots from 2026-08-01 to 2026-10-24; the files are written to
/// `files`.
pub fn demo_book(data: &Path, files: &Path, accounts: usize) {
    let files_arg = files.to_str().expect("a UTF-8 temp path");
    let accounts = accounts.to_string();
    ok(coco(
        data,
        &[
            "demo",
            "--accounts",
            &accounts,
            "--months",
            "12",
            "--end",
            "2026-10-31",
            "--out",
            files_arg,
        ],
    ));
    ok(coco(data, &["ingest", "--dir", files_arg]));
    ok(coco(
        data,
        &[
            "metrics",
            "backfill",
            "--from",
            "2026-08-01",
            "--to",
            "2026-10-24",
            "--every",
            "7d",
        ],
    ));
}
