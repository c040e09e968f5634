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
