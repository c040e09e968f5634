//! The dashboard in real headless Chromium: a server on the scored demo portfolio, and
//! `tests/browser/dashboard.mjs` (Playwright's `playwright-core` driving Debian's
//! `chromium`) walking through it as a CSM would — log in, portfolio, filter, sort, an
//! account's 360, renewals, the model, the expansion pipeline filtered by light, an
//! opportunity on its account 360 with the account's adoption, the adoption heatmap
//! and its downloads, My day after a week of daily runs (items in rank order, a task
//! done and gone, an alert's evidence, acknowledged), the alerts inbox and the tasks,
//! log out; a viewer's book, their My day without buttons, expansion and adoption pages
//! and the ingest page they cannot reach; an account named `<script>…` rendered as text.
//!
//! Needs `chromium` (`apt-get install chromium`, or `COCO_CHROMIUM=/path`) and the npm
//! packages of `tests/browser` (`npm ci --prefix crates/coco-server/tests/browser`);
//! `.ci/run` and `make test` install them. A machine that truly cannot run a browser
//! can opt out with `COCO_SKIP_BROWSER_TESTS=1`; a missing browser is otherwise a
//! failure, never a silent pass.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Book, END, XSS_NAME, start_with};

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("COCO_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

/// The browser and the scripts' folder, or None when `COCO_SKIP_BROWSER_TESTS` is set;
/// a missing browser or playwright-core fails the test.
fn prerequisites() -> Option<(PathBuf, PathBuf)> {
    if std::env::var_os("COCO_SKIP_BROWSER_TESTS").is_some() {
        eprintln!("COCO_SKIP_BROWSER_TESTS is set: the browser test did not run");
        return None;
    }
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = chromium().expect(
        "Chromium not found: `apt-get install chromium`, or set COCO_CHROMIUM=/path/to/chromium \
         (COCO_SKIP_BROWSER_TESTS=1 skips this test)",
    );
    assert!(
        scripts.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci --prefix {}`",
        scripts.display()
    );
    Some((chromium, scripts))
}

/// Runs `command` off the runtime's workers (the server runs on them) and asserts that
/// it passed, printing its steps.
async fn run_script(command: Command, done: &'static str) {
    let mut command = command;
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("node could not be started (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "the browser journey failed ({}); steps:\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains(done));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csm_walks_through_the_dashboard_in_chromium() {
    let Some((chromium, scripts)) = prerequisites() else {
        return;
    };

    // A year of weekly history and two churn models, so the churn section, the
    // Renewals and the Model pages show real content.
    let server = start_with(&Book {
        accounts: 300,
        months: 12,
        history_weeks: 51,
        churn_model: true,
    })
    .await;
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts");
    let end = chrono::NaiveDate::from_ymd_opt(END.0, END.1, END.2).unwrap();
    let as_of = end.to_string();
    // A week of alerts: the daily run of a week before the end, then the end's (the
    // first run's tasks are due by then), as the scheduler would have run them.
    for date in [end - chrono::Days::new(7), end] {
        coco_server::actions::daily_run(
            &server.state,
            coco_engine::actions::daily::DailyOptions {
                as_of: date,
                trigger: "test".into(),
                refresh: false,
                deliver: false,
            },
        )
        .await
        .unwrap();
    }
    // The CSM whose day the admin opens: the first with tasks and alerts on it.
    let team = server
        .state
        .pool()
        .run(|store| Ok(store.csm_directory()?))
        .await
        .unwrap();
    let mut today_csm = None;
    for person in team.iter().filter(|p| p.active) {
        let today = chrono::Utc::now().date_naive();
        let list = coco_server::views::daily_list(&server.state, today, &person.csm_id)
            .await
            .unwrap();
        let has = |kind: &str| list.items.iter().any(|i| i.kind.as_str() == kind);
        if has("task") && has("alert") {
            today_csm = Some(person.csm_id.clone());
            break;
        }
    }
    let today_csm = today_csm.expect("a CSM with tasks and alerts on their day");
    let mut command = Command::new("node");
    command
        .arg(scripts.join("dashboard.mjs"))
        .current_dir(&scripts)
        .env("COCO_URL", server.url(""))
        .env("COCO_CHROMIUM", &chromium)
        .env("COCO_ADMIN_PASSWORD", &server.admin_password)
        .env("COCO_VIEWER_PASSWORD", &server.viewer_password)
        .env("COCO_VIEWER_CSM", &server.viewer_csm)
        .env("COCO_XSS_ACCOUNT", &server.xss_account)
        .env("COCO_XSS_NAME", XSS_NAME)
        .env("COCO_AS_OF", &as_of)
        .env("COCO_TODAY_CSM", &today_csm)
        .env("COCO_ARTIFACTS", &artifacts);
    // The server runs on this runtime's workers; the browser is waited for off them.
    run_script(command, "all browser steps passed").await;
}

/// Drafts in Chromium (`tests/browser/drafts.mjs`): an account's Draft menu → the QBR
/// with its citations, Copy ("Copied", the Markdown on the clipboard), the PPTX
/// download, the locale switch, the outreach motive picker, Reports and a report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_are_reviewed_in_chromium() {
    let Some((chromium, scripts)) = prerequisites() else {
        return;
    };
    let server = common::start().await;
    let account = server
        .state
        .pool()
        .run(|store| {
            Ok(store
                .account_names()?
                .into_keys()
                .collect::<std::collections::BTreeSet<_>>())
        })
        .await
        .unwrap()
        .into_iter()
        .nth(5)
        .unwrap();
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts");
    let mut command = Command::new("node");
    command
        .arg(scripts.join("drafts.mjs"))
        .current_dir(&scripts)
        .env("COCO_URL", server.url(""))
        .env("COCO_CHROMIUM", &chromium)
        .env("COCO_ADMIN_PASSWORD", &server.admin_password)
        .env("COCO_ACCOUNT", &account)
        .env("COCO_ARTIFACTS", &artifacts);
    run_script(command, "all draft steps passed").await;
}
