//! The test server shared by the HTTP and browser suites: a real DuckDB store holding a
//! scored demo portfolio (`start`: 120 accounts, three weekly snapshots; `start_with`: any
//! book, optionally with churn models; the first account always named
//! with an XSS payload), an admin and a viewer with one-time passwords and API tokens,
//! served on an ephemeral loopback port.

// Each test binary uses its own subset of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;

use chrono::NaiveDate;
use coco_core::Role;
use coco_server::users::{NewUserRequest, add_user, create_token};
use coco_store::{IngestOptions, Store};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

pub const XSS_NAME: &str = "<script>alert('owned')</script> & \"Sons\"";
pub const END: (i32, u32, u32) = (2026, 10, 31);

pub struct Server {
    pub address: SocketAddr,
    /// The running server's state (its view cache, its store handles).
    pub state: coco_server::state::AppState,
    _dir: tempfile::TempDir,
    pub admin_password: String,
    pub viewer_password: String,
    pub admin_token: String,
    pub viewer_token: String,
    pub xss_account: String,
    /// The demo's source files (the XSS account is the first row of accounts.csv).
    pub files: std::path::PathBuf,
    /// The CSM the viewer is linked to (the XSS account's CSM).
    pub viewer_csm: String,
}

/// Replaces the first account's name in the demo's accounts.csv with an XSS payload;
/// returns that account's id and its CSM's id.
fn poison_first_account_name(files: &Path) -> (String, String) {
    let path = files.join("accounts.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let name_column = headers.iter().position(|h| h == "name").unwrap();
    let id_column = headers.iter().position(|h| h == "account_id").unwrap();
    let csm_column = headers.iter().position(|h| h == "owner_csm_id").unwrap();
    let mut rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let first = rows[0].clone();
    let account_id = first[id_column].to_string();
    let csm_id = first[csm_column].to_string();
    rows[0] = first
        .iter()
        .enumerate()
        .map(|(i, v)| if i == name_column { XSS_NAME } else { v })
        .collect();
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&headers).unwrap();
    for row in rows {
        writer.write_record(&row).unwrap();
    }
    writer.flush().unwrap();
    (account_id, csm_id)
}

/// The book a test server holds.
pub struct Book {
    pub accounts: usize,
    pub months: u32,
    /// Weekly snapshots before the end date.
    pub history_weeks: u64,
    /// Train churn models and score: one on the data up to 120 days before the end
    /// (scored then, so the forecast has a past to check), then the promoted one.
    pub churn_model: bool,
}

/// The default book: 120 accounts, 6 months, three weekly snapshots, no churn model.
pub async fn start() -> Server {
    start_with(&Book {
        accounts: 120,
        months: 6,
        history_weeks: 2,
        churn_model: false,
    })
    .await
}

pub async fn start_with(book: &Book) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("demo");
    let end = NaiveDate::from_ymd_opt(END.0, END.1, END.2).unwrap();
    coco_demo::generate(
        &coco_demo::DemoConfig::new(book.accounts, book.months, 11, end),
        &files,
        &|_| {},
    )
    .unwrap();
    let (xss_account, viewer_csm) = poison_first_account_name(&files);
    let data = dir.path().join("data");
    let mut store = Store::open(&data).unwrap();
    store
        .ingest_dir(&files, &IngestOptions::default(), &mut |_| {})
        .unwrap();
    let config = coco_engine::Config::load(None).unwrap();
    coco_engine::backfill(
        &store,
        &config,
        end - chrono::Days::new(7 * book.history_weeks),
        end,
        7,
        &mut |_| {},
    )
    .unwrap();
    if book.churn_model {
        use coco_engine::churn::{history::train_history, scoring::score_accounts};
        use coco_models::train::KindChoice;
        let earlier = end - chrono::Days::new(119);
        let earlier = store
            .snapshot_on_or_before(earlier, &config.catalogue.fingerprint())
            .unwrap()
            .unwrap()
            .as_of;
        train_history(
            &store,
            &config,
            KindChoice::Auto,
            Some(earlier),
            &mut |_: &str| {},
        )
        .unwrap();
        score_accounts(&store, &config, earlier, None).unwrap();
        let latest =
            train_history(&store, &config, KindChoice::Auto, None, &mut |_: &str| {}).unwrap();
        store.promote_model(&latest.summary.version).unwrap();
        score_accounts(&store, &config, end, None).unwrap();
    }
    let admin = add_user(
        &store,
        &NewUserRequest {
            username: "Admin",
            display_name: None,
            role: Role::Admin,
            csm_id: None,
        },
        "test",
    )
    .unwrap();
    let viewer = add_user(
        &store,
        &NewUserRequest {
            username: "viewer",
            display_name: Some("Vi <b>Ewer</b>"),
            role: Role::Viewer,
            csm_id: Some(&viewer_csm),
        },
        "test",
    )
    .unwrap();
    let (_, admin_token) = create_token(&store, "admin", "tests", None, "test").unwrap();
    let (_, viewer_token) = create_token(&store, "viewer", "tests", None, "test").unwrap();
    let options = coco_server::ServeOptions {
        data_dir: data,
        connections: 2,
        secure_cookies: false,
    };
    let state = coco_server::state(store, config, &options).unwrap();
    let served = state.clone();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        coco_server::serve(served, "127.0.0.1:0".parse().unwrap(), |address| {
            let _ = sender.send(address);
        })
        .await
        .unwrap();
    });
    Server {
        address: receiver.await.unwrap(),
        state,
        _dir: dir,
        admin_password: admin.one_time_password,
        viewer_password: viewer.one_time_password,
        admin_token,
        viewer_token,
        xss_account,
        viewer_csm,
        files,
    }
}

impl Server {
    /// Waits for the warm-up after the start or the last write (the read model built).
    pub async fn warmed_up(&self) {
        let started = std::time::Instant::now();
        while self.state.inner.views.warmed_accounts().is_none() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(120),
                "the warm-up did not finish"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

// ----- clients -----------------------------------------------------------------

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// GET, the body as text.
pub async fn page_text(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// Logs in (changing the one-time password) and returns the client and its CSRF token.
pub async fn log_in(server: &Server, username: &str, one_time: &str) -> (reqwest::Client, String) {
    let client = browser();
    let page = page_text(&client, server.url("/login")).await;
    let response = client
        .post(server.url("/login"))
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("username", username),
            ("password", one_time),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/password");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    // Until the one-time password is replaced, every page leads to /password.
    let blocked = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(blocked.headers()["location"], "/password");
    let page = page_text(&client, server.url("/password")).await;
    let csrf = hidden(&page, "csrf");
    let new_password = format!("{username}-chosen-password");
    let changed = client
        .post(server.url("/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current", one_time),
            ("password", new_password.as_str()),
            ("confirm", new_password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    (client, csrf)
}
