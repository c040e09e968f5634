//! The server end to end over real HTTP on loopback, on a real DuckDB store holding a
//! scored demo portfolio: authentication, CSRF, roles, tokens, rate limiting, SQL
//! injection and XSS attempts, the pages and the API.

mod common;

use common::{Book, Server, XSS_NAME, start, start_with};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// GET, the body as text.
async fn page_text(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// GET with a bearer token, the body as JSON.
async fn api_json(
    client: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    token: &str,
) -> serde_json::Value {
    client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// Logs in (changing the one-time password) and returns the client and its CSRF token.
async fn log_in(server: &Server, username: &str, one_time: &str) -> (reqwest::Client, String) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_is_safe_and_shows_the_portfolio() {
    let server = start().await;
    let anonymous = browser();

    // Nothing but login and the health check answers without authentication.
    assert_eq!(
        anonymous
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    for path in ["/", "/health", "/book", "/ingest", "/accounts/acc_00001"] {
        let response = anonymous.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(
            response.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login?next=")
        );
    }
    for path in [
        "/api/v1/accounts",
        "/api/v1/portfolio",
        "/api/v1/openapi.json",
        "/api/v1/me",
    ] {
        let response = anonymous.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    // The icon browsers fetch on their own is public, and a second visit to the login
    // page keeps the token of the form already on screen (found by the browser test:
    // the favicon request used to redirect to /login and rotate it).
    let icon = anonymous
        .get(server.url("/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    let first_form = anonymous.get(server.url("/login")).send().await.unwrap();
    let first_form = first_form.text().await.unwrap();
    let second_form = anonymous.get(server.url("/login")).send().await.unwrap();
    let second_form = second_form.text().await.unwrap();
    assert_eq!(hidden(&first_form, "csrf"), hidden(&second_form, "csrf"));

    let forged = anonymous
        .get(server.url("/api/v1/accounts"))
        .bearer_auth("coco_not-a-real-token")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    // The login form itself needs its CSRF token.
    let no_csrf = anonymous
        .post(server.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", server.admin_password.as_str()),
            ("csrf", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);

    let (admin, csrf) = log_in(&server, "admin", &server.admin_password).await;

    // The portfolio: as-of date, tiles, charts, the account table.
    let page = admin.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Data as of <strong>2026-10-31</strong>"),
        "{html}"
    );
    assert!(html.contains("changes since 2026-10-24"));
    assert!(html.contains("<svg") && html.contains("ARR by health colour"));
    assert!(html.contains("id=\"accounts\""));

    // XSS: the poisoned name is text on every page that shows it, and in the API JSON.
    let escaped = "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;&#x2f;script&gt;";
    for path in [
        format!("/accounts/{}", server.xss_account),
        "/health?sort=name&per_page=500".to_string(),
    ] {
        let html = page_text(&admin, server.url(&path)).await;
        assert!(
            !html.contains("<script>alert"),
            "{path} renders the name as markup"
        );
        assert!(
            html.contains(escaped) || html.contains("&lt;script&gt;alert("),
            "{path} does not show the escaped name"
        );
    }
    let account = page_text(
        &admin,
        server.url(&format!("/accounts/{}", server.xss_account)),
    )
    .await;
    assert!(account.contains("id=\"breakdown\"") && account.contains("id=\"history-chart\""));
    assert!(account.contains("id=\"timeline\""));

    // SQL injection: sort keys are allow-listed, values are bound.
    let injected = admin
        .get(server.url("/api/v1/accounts?sort=score;DROP%20TABLE%20accounts"))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(injected.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = injected.json().await.unwrap();
    assert_eq!(body["error"]["field"], "sort");
    for parameter in ["csm", "segment", "tier"] {
        let response = admin
            .get(server.url(&format!(
                "/api/v1/accounts?{parameter}=x%27%20OR%20%271%27=%271"
            )))
            .bearer_auth(&server.admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{parameter}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["total"], 0, "{parameter} matched rows");
    }
    for (parameter, value) in [
        ("colour", "red'--"),
        ("as_of", "2026-10-31'"),
        ("page", "1;"),
    ] {
        let response = admin
            .get(server.url(&format!("/api/v1/accounts?{parameter}={value}")))
            .bearer_auth(&server.admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{parameter}");
    }
    let all: serde_json::Value = api_json(
        &admin,
        server.url("/api/v1/accounts?per_page=1"),
        &server.admin_token,
    )
    .await;
    assert!(
        all["total"].as_i64().unwrap() > 50,
        "the accounts table survived"
    );

    // The API: account detail with a token, OpenAPI document.
    let detail: serde_json::Value = api_json(
        &anonymous,
        server.url(&format!("/api/v1/accounts/{}", server.xss_account)),
        &server.viewer_token,
    )
    .await;
    assert_eq!(detail["account"]["name"], XSS_NAME);
    assert!(
        detail["health"]["health"]["components"]
            .as_array()
            .unwrap()
            .len()
            > 2
    );
    let openapi: serde_json::Value = api_json(
        &anonymous,
        server.url("/api/v1/openapi.json"),
        &server.viewer_token,
    )
    .await;
    assert!(openapi["paths"]["/api/v1/accounts/{account_id}"].is_object());
    // Bodies are typed: every response schema is a named component, and every
    // component a reference points at exists (no dangling $ref).
    let schemas = &openapi["components"]["schemas"];
    for name in [
        "PortfolioView",
        "HealthPage",
        "HealthListRow",
        "AccountBody",
        "AccountView",
        "AccountHealth",
        "ComponentScore",
        "MetricEvidence",
        "AccountDetail",
        "SnapshotInfo",
        "ScoreRun",
        "IngestReport",
    ] {
        assert!(
            schemas[name].is_object(),
            "schema {name} in the OpenAPI document"
        );
    }
    assert_eq!(
        openapi["paths"]["/api/v1/portfolio"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/PortfolioView"
    );
    let text = openapi.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(schemas[name].is_object(), "dangling reference to {name}");
    }

    // Roles: a viewer cannot ingest, by page or by API.
    let (viewer, _) = log_in(&server, "viewer", &server.viewer_password).await;
    assert_eq!(
        viewer
            .get(server.url("/ingest"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let upload = |token: &str| {
        let form = reqwest::multipart::Form::new().text("entity", "csms").part(
            "file",
            reqwest::multipart::Part::bytes(
                b"csm_id,name,email\ncsm_900,New CSM,new@example.com\ncsm_901,,bad\n".to_vec(),
            )
            .file_name("csms.csv"),
        );
        anonymous
            .post(server.url("/api/v1/ingest"))
            .bearer_auth(token)
            .multipart(form)
            .send()
    };
    assert_eq!(
        upload(&server.viewer_token).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let report = upload(&server.admin_token).await.unwrap();
    assert_eq!(report.status(), StatusCode::OK);
    let report: serde_json::Value = report.json().await.unwrap();
    assert_eq!(report["rows_read"], 2);
    assert_eq!(report["rejected"], 1, "{report}");

    // Once warmed up, account views come from the in-memory read model, with the
    // store's answers.
    server.warmed_up().await;
    assert!(server.state.inner.views.read_model().is_some());
    // A date after the latest snapshot (answered by it) that no request has asked yet,
    // so the view is computed now.
    let fresh_url = |as_of: &str| {
        server.url(&format!(
            "/api/v1/accounts/{}?as_of={as_of}",
            server.xss_account
        ))
    };
    let from_memory = api_json(&anonymous, fresh_url("2026-11-02"), &server.admin_token).await;
    let account = server.xss_account.clone();
    let from_store = server
        .state
        .pool()
        .run(move |store| {
            let config = coco_engine::Config::load(None)?;
            let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default();
            let view = coco_engine::account::account_view(store, &config, &account, as_of, 7)?;
            let detail = store.account_detail(&account, view.as_of)?;
            Ok(serde_json::json!({"account": detail, "health": view}))
        })
        .await
        .unwrap();
    // Both sides through the same text round trip (serde_json's parse of a float may be
    // off by a unit in the last place; it is the same both ways).
    let from_store: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&from_store).unwrap()).unwrap();
    assert_eq!(from_memory, from_store);

    // Views are cached; an upload that changes the data is seen at once, and again
    // once the read model is rebuilt.
    let detail_url = server.url(&format!("/api/v1/accounts/{}", server.xss_account));
    let name_now = || async {
        let detail: serde_json::Value =
            api_json(&anonymous, &detail_url, &server.admin_token).await;
        detail["account"]["name"].as_str().unwrap().to_string()
    };
    assert_eq!(name_now().await, XSS_NAME);
    let accounts = std::fs::read_to_string(server.files.join("accounts.csv")).unwrap();
    let mut lines = accounts.lines();
    let header = lines.next().unwrap();
    let first = lines.next().unwrap();
    let renamed = format!(
        "{header}\n{}\n",
        first.replacen(
            &format!("\"{}\"", XSS_NAME.replace('"', "\"\"")),
            "Renamed Ltd",
            1
        )
    );
    assert!(renamed.contains("Renamed Ltd"), "{first}");
    let form = reqwest::multipart::Form::new()
        .text("entity", "accounts")
        .part(
            "file",
            reqwest::multipart::Part::bytes(renamed.into_bytes()).file_name("accounts.csv"),
        );
    let report = anonymous
        .post(server.url("/api/v1/ingest"))
        .bearer_auth(&server.admin_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), StatusCode::OK);
    assert_eq!(name_now().await, "Renamed Ltd");
    server.warmed_up().await;
    assert!(server.state.inner.views.read_model().is_some());
    let renamed: serde_json::Value =
        api_json(&anonymous, fresh_url("2026-11-03"), &server.admin_token).await;
    assert_eq!(renamed["account"]["name"], "Renamed Ltd");

    // Scoring from the API: leaders and admins only, never a future date, audited.
    let score = |token: &str, as_of: &str| {
        anonymous
            .post(server.url(&format!("/api/v1/score?as_of={as_of}")))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        score(&server.viewer_token, "2026-10-30")
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let future = score(&server.admin_token, "2999-01-01").await.unwrap();
    assert_eq!(future.status(), StatusCode::BAD_REQUEST);
    let future: serde_json::Value = future.json().await.unwrap();
    assert_eq!(future["error"]["field"], "as_of");
    let snapshots = || async {
        let list: serde_json::Value = api_json(
            &anonymous,
            server.url("/api/v1/snapshots"),
            &server.admin_token,
        )
        .await;
        list["snapshots"].as_array().unwrap().len()
    };
    let before = snapshots().await;
    let scored = score(&server.admin_token, "2026-10-30").await.unwrap();
    assert_eq!(scored.status(), StatusCode::OK);
    let scored: serde_json::Value = scored.json().await.unwrap();
    assert_eq!(scored["snapshot"]["as_of"], "2026-10-30");
    assert!(
        scored["snapshot"]["accounts"].as_i64().unwrap() > 50,
        "{scored}"
    );
    assert_eq!(
        snapshots().await,
        before + 1,
        "a new snapshot is listed at once"
    );

    // CSRF: a session's state-changing request without the token is refused.
    let forged_logout = admin.post(server.url("/logout")).send().await.unwrap();
    assert_eq!(forged_logout.status(), StatusCode::FORBIDDEN);
    let logout = admin
        .post(server.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        admin.get(server.url("/")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER,
        "the session ended"
    );

    // Rate limiting: five failures, then 429 even with the right password.
    let attacker = browser();
    for attempt in 0..6 {
        let page = page_text(&attacker, server.url("/login")).await;
        let response = attacker
            .post(server.url("/login"))
            .form(&[
                ("csrf", hidden(&page, "csrf").as_str()),
                ("username", "viewer"),
                (
                    "password",
                    if attempt < 5 {
                        "wrong-password"
                    } else {
                        "viewer-chosen-password"
                    },
                ),
            ])
            .send()
            .await
            .unwrap();
        let expected = if attempt < 5 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(response.status(), expected, "attempt {attempt}");
    }
}

/// Churn surfaces over a book with a year of weekly history and two trained models: the
/// account 360 shows the probability, interval and drivers; the Renewals page the
/// forecast, a scenario and the check of the earlier forecast; the Model page the
/// backtest report with its charts; the API the same numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_risk_renewals_and_the_model_report_are_served() {
    let server = start_with(&Book {
        accounts: 400,
        months: 12,
        history_weeks: 51,
        churn_model: true,
    })
    .await;
    let (client, _) = log_in(&server, "viewer", &server.viewer_password).await;
    let token = server.viewer_token.clone();

    let models = api_json(&client, server.url("/api/v1/models"), &token).await;
    let list = models["models"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let promoted = list.iter().find(|m| m["status"] == "promoted").unwrap();
    let version = promoted["version"].as_str().unwrap().to_string();
    let detail = api_json(
        &client,
        server.url(&format!("/api/v1/models/{version}")),
        &token,
    )
    .await;
    let auc = detail["report"]["results"][0]["evaluation"]["auc"]
        .as_f64()
        .unwrap();
    assert!(auc > 0.7, "backtest AUC {auc}");

    // The riskiest account's churn, from the API and on its page.
    let forecast = api_json(&client, server.url("/api/v1/renewals/forecast"), &token).await;
    let periods = forecast["periods"].as_array().unwrap();
    assert_eq!(
        periods
            .iter()
            .map(|p| p["days"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![30, 60, 90, 180]
    );
    let p90 = &periods[2];
    assert!(p90["grr_low"].as_f64().unwrap() <= p90["forecast_grr"].as_f64().unwrap());
    assert!(p90["forecast_grr"].as_f64().unwrap() <= p90["grr_high"].as_f64().unwrap());
    assert!(
        !forecast["accuracy"].as_array().unwrap().is_empty(),
        "the earlier forecast is checked"
    );
    let upcoming = forecast["upcoming"].as_array().unwrap();
    let riskiest = upcoming
        .iter()
        .filter(|u| u["basis"] != "decided")
        .max_by(|a, b| {
            a["churn_probability"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["churn_probability"].as_f64().unwrap())
        })
        .unwrap();
    let account = riskiest["account_id"].as_str().unwrap();
    let churn = api_json(
        &client,
        server.url(&format!("/api/v1/accounts/{account}/churn")),
        &token,
    )
    .await;
    assert_eq!(churn["model_version"], version.as_str());
    let probability = churn["probability"].as_f64().unwrap();
    assert!(
        churn["low"].as_f64().unwrap() <= probability
            && probability <= churn["high"].as_f64().unwrap()
    );
    let sentence = churn["explanation"]["up"][0]["sentence"]
        .as_str()
        .unwrap()
        .to_string();
    let page = page_text(&client, server.url(&format!("/accounts/{account}"))).await;
    assert!(
        page.contains("id=\"churn-probability\""),
        "the account page has the churn section"
    );
    assert!(page.contains(&format!("{:.0}%", probability * 100.0)));
    let escaped = sentence
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;");
    assert!(
        page.contains(&escaped) || page.contains(&sentence),
        "driver sentence {sentence:?} on the page"
    );

    // Renewals page: the forecast table, a scenario, the check, upcoming renewals.
    let renewals = page_text(&client, server.url("/renewals")).await;
    for id in [
        "id=\"forecast\"",
        "id=\"accuracy\"",
        "id=\"upcoming\"",
        "id=\"scenario-form\"",
    ] {
        assert!(renewals.contains(id), "renewals page lacks {id}");
    }
    let with_scenario =
        page_text(&client, server.url("/renewals?share=50%25&group=critical")).await;
    assert!(
        with_scenario.contains("id=\"scenario\""),
        "the scenario table is shown"
    );
    let bad = client
        .get(server.url("/renewals?share=2&group=red"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let api_bad = client
        .get(server.url("/api/v1/renewals/forecast?scenario=red"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(api_bad.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = api_bad.json().await.unwrap();
    assert_eq!(body["error"]["field"], "scenario");

    // Model page: the report with ROC, calibration and lift charts, and the registry.
    let model = page_text(&client, server.url("/model")).await;
    assert!(
        model.contains(&format!("id=\"model-version\">{version}<")),
        "model page names {version}"
    );
    assert!(
        model.matches("<svg").count() >= 3,
        "ROC, calibration and lift charts"
    );
    assert!(model.contains("Lead time") && model.contains("id=\"registry\""));
    let missing = client
        .get(server.url("/api/v1/accounts/nobody/churn"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
