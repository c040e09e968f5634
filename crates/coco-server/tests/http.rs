//! The server end to end over real HTTP on loopback, on a real DuckDB store holding a
//! scored demo portfolio: authentication, CSRF, roles, tokens, rate limiting, SQL
//! injection and XSS attempts, the pages and the API.

mod common;

use common::{Book, XSS_NAME, browser, hidden, log_in, page_text, start, start_with};
use reqwest::StatusCode;

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

/// Text as the templates' auto-escaping writes it.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// Expansion and adoption over a book with four weekly snapshots (seat pressure needs
/// two): the Expansion page lists the engine's own pipeline, filters are allow-listed,
/// the account 360 shows an account's opportunities with their evidence and its
/// adoption with the plan, the Adoption page draws the heatmap and offers it as CSV and
/// SVG, the API answers the same numbers, and recording an outcome is refused to viewers,
/// stored with who recorded it, audited, and starts a new generation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expansion_and_adoption_are_served() {
    let server = start_with(&Book {
        accounts: 300,
        months: 6,
        history_weeks: 3,
        churn_model: false,
    })
    .await;
    let end = chrono::NaiveDate::from_ymd_opt(common::END.0, common::END.1, common::END.2).unwrap();
    let anonymous = browser();
    let admin_token = server.admin_token.clone();

    // The engine's own answers, on the server's store.
    let (run, heatmap, report) = server
        .state
        .pool()
        .run(move |store| {
            let config = coco_engine::Config::load(None)?;
            let run = coco_engine::expansion::pipeline(store, &config, end, None)?;
            let book = coco_engine::adoption::book(store, &config, end)?;
            let heatmap = book.heatmap("segment")?;
            let report = coco_engine::adoption::report(store, &config, &book, 20)?;
            Ok((run, heatmap, report))
        })
        .await
        .unwrap();
    assert!(
        run.opportunities.len() > 5,
        "the demo book has expansion opportunities: {}",
        run.opportunities.len()
    );
    let first = &run.opportunities[0];

    // Nothing without authentication.
    for path in ["/expansion", "/adoption", "/adoption/heatmap.csv"] {
        let response = anonymous.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    }
    for path in [
        "/api/v1/expansion/opportunities",
        "/api/v1/expansion/pipeline",
        "/api/v1/adoption/heatmap",
        "/api/v1/adoption/report",
    ] {
        let response = anonymous.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    let (admin, csrf) = log_in(&server, "admin", &server.admin_password).await;

    // The Expansion page: tiles, tables, the prioritised list led by the engine's first.
    let page = admin.get(server.url("/expansion")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for id in [
        "id=\"pipeline\"",
        "id=\"by-type\"",
        "id=\"by-outreach\"",
        "id=\"by-light\"",
        "id=\"opportunities\"",
        "id=\"expansion-filters\"",
    ] {
        assert!(html.contains(id), "the Expansion page lacks {id}");
    }
    assert!(
        html.contains(&format!(
            "id=\"tile-opportunities\">{}<",
            run.summary.opportunities
        )),
        "the tile counts the engine's opportunities"
    );
    let first_row = html
        .find("<tr data-id=")
        .map(|start| &html[start..])
        .unwrap();
    assert!(
        first_row.starts_with(&format!("<tr data-id=\"{}\"", escape_html(&first.id))),
        "the list starts with the engine's first opportunity {}: {}",
        first.id,
        &first_row[..200.min(first_row.len())]
    );
    assert!(html.contains(&format!("href=\"/accounts/{}#opp-", first.account_id)));
    assert_eq!(
        html.matches("<tr data-id=").count(),
        run.opportunities.len().min(50)
    );
    // Filters: only green rows, only the asked type; unknown values are a 400.
    let green = page_text(&admin, server.url("/expansion?light=green&per_page=500")).await;
    let greens = run
        .opportunities
        .iter()
        .filter(|o| o.timing.light.as_str() == "green")
        .count();
    assert_eq!(green.matches("<tr data-id=").count(), greens.min(500));
    assert_eq!(
        green.matches("data-light=\"green\"").count(),
        greens.min(500)
    );
    assert!(
        green.contains(&format!("id=\"tile-opportunities\">{greens}<")),
        "the tiles sum what the filters select"
    );
    let seats = page_text(&admin, server.url("/expansion?type=seats")).await;
    assert!(!seats.contains("data-type=\"module\"") && !seats.contains("data-type=\"tier\""));
    for bad in [
        "/expansion?type=upsell",
        "/expansion?light=purple",
        "/expansion?target=lots",
        "/expansion?page=0",
        "/adoption?by=name",
        "/adoption/heatmap.csv?by=name",
    ] {
        let response = admin.get(server.url(bad)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let with_target = page_text(&admin, server.url("/expansion?target=100000")).await;
    assert!(
        with_target.contains(&format!(
            "{:.0}%",
            run.summary.expected_arr / 100_000.0 * 100.0
        )),
        "coverage of the target"
    );
    // Paging like the health list.
    if run.opportunities.len() > 10 {
        let second = page_text(&admin, server.url("/expansion?per_page=10&page=2")).await;
        let eleventh = &run.opportunities[10];
        assert!(second.contains(&format!("<tr data-id=\"{}\"", escape_html(&eleventh.id))));
        assert!(second.contains("rel=\"prev\""));
    }

    // The API: the same list, one opportunity (its id holds `:`), talking points.
    let list = api_json(
        &anonymous,
        server.url("/api/v1/expansion/opportunities?limit=5"),
        &admin_token,
    )
    .await;
    assert_eq!(list["total"], run.opportunities.len());
    assert_eq!(
        list["opportunities"].as_array().unwrap().len(),
        5.min(run.opportunities.len())
    );
    assert_eq!(list["opportunities"][0]["id"], first.id.as_str());
    let signal = &list["opportunities"][0]["signals"][0];
    assert!(signal["evidence"].as_array().is_some_and(|e| !e.is_empty()));
    let window = api_json(
        &anonymous,
        server.url("/api/v1/expansion/opportunities?limit=2&offset=1&light=green"),
        &admin_token,
    )
    .await;
    assert_eq!(window["total"], greens);
    for o in window["opportunities"].as_array().unwrap() {
        assert_eq!(o["timing"]["light"], "green");
    }
    for (query, field) in [
        ("type=upsell", "type"),
        ("light=blue", "light"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("as_of=yesterday", "as_of"),
    ] {
        let response = anonymous
            .get(server.url(&format!("/api/v1/expansion/opportunities?{query}")))
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{query}");
    }
    let with_colons = run
        .opportunities
        .iter()
        .find(|o| o.id.matches(':').count() == 2)
        .unwrap_or(first);
    for path in [
        format!("/api/v1/expansion/opportunities/{}", with_colons.id),
        format!(
            "/api/v1/expansion/opportunities/{}",
            with_colons.id.replace(':', "%3A")
        ),
    ] {
        let one = api_json(&anonymous, server.url(&path), &admin_token).await;
        assert_eq!(one["id"], with_colons.id.as_str(), "{path}");
        assert_eq!(one["account_id"], with_colons.account_id.as_str());
        assert!(
            one["talking_points"]["objections"]
                .as_array()
                .is_some_and(|o| !o.is_empty())
        );
    }
    let talking = anonymous
        .get(server.url(&format!(
            "/api/v1/expansion/opportunities/{}/talking-points",
            first.id
        )))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(talking.status(), StatusCode::OK);
    assert_eq!(
        talking.headers()["content-type"],
        "text/markdown; charset=utf-8"
    );
    let markdown = talking.text().await.unwrap();
    assert_eq!(
        markdown,
        coco_insights::expansion::talking::to_markdown(first)
    );
    for path in [
        "/api/v1/expansion/opportunities/acc_nobody:seats",
        "/api/v1/expansion/opportunities/acc_nobody:module:api/talking-points",
    ] {
        let response = anonymous
            .get(server.url(path))
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let pipeline = api_json(
        &anonymous,
        server.url("/api/v1/expansion/pipeline?target=100000"),
        &admin_token,
    )
    .await;
    let summary = &pipeline["summary"];
    assert_eq!(summary["opportunities"], run.summary.opportunities);
    assert_eq!(summary["accounts"], run.summary.accounts);
    assert_eq!(summary["target_arr"], 100_000.0);
    let coverage = summary["coverage"].as_f64().unwrap();
    assert!((coverage - run.summary.expected_arr / 100_000.0).abs() < 1e-9);
    assert_eq!(
        summary["by_type"].as_array().unwrap().len(),
        run.summary.by_type.len()
    );
    let green_pipeline = api_json(
        &anonymous,
        server.url("/api/v1/expansion/pipeline?light=green"),
        &admin_token,
    )
    .await;
    assert_eq!(green_pipeline["summary"]["opportunities"], greens);
    assert_eq!(
        green_pipeline["summary"]["by_light"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The account 360: the account's opportunities, as the engine finds them for it.
    let account = first.account_id.clone();
    let config_account = account.clone();
    let own = server
        .state
        .pool()
        .run(move |store| {
            let config = coco_engine::Config::load(None)?;
            Ok(coco_engine::expansion::account_opportunities(
                store,
                &config,
                end,
                &config_account,
            )?)
        })
        .await
        .unwrap();
    assert_eq!(own[0].id, first.id);
    let api_own = api_json(
        &anonymous,
        server.url(&format!("/api/v1/accounts/{account}/expansion")),
        &admin_token,
    )
    .await;
    let own_json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&own).unwrap()).unwrap();
    assert_eq!(
        api_own["opportunities"], own_json,
        "the pipeline's opportunities of the account are the engine's account_opportunities"
    );
    let page = page_text(&admin, server.url(&format!("/accounts/{account}"))).await;
    assert!(page.contains("id=\"expansion\"") && page.contains("id=\"adoption\""));
    let sentence = &own[0].signals[0].summary;
    assert!(
        page.contains(&escape_html(sentence)),
        "the first signal's summary {sentence:?} on the account 360"
    );
    assert!(page.contains(&escape_html(&own[0].talking_points.next_step)));
    assert!(page.contains(&escape_html(&own[0].talking_points.objections[0].answer)));
    assert_eq!(
        page.matches("<article class=\"opportunity\"").count(),
        own.len()
    );
    assert!(page.contains("id=\"adoption-features\"") && page.contains("id=\"adoption-level\""));
    // An account without an opportunity says so.
    let accounts = api_json(
        &anonymous,
        server.url("/api/v1/accounts?per_page=500"),
        &admin_token,
    )
    .await;
    let with_opportunity: std::collections::HashSet<&str> = run
        .opportunities
        .iter()
        .map(|o| o.account_id.as_str())
        .collect();
    let quiet = accounts["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["account_id"].as_str().unwrap())
        .find(|id| !with_opportunity.contains(id))
        .expect("an account without an expansion signal");
    let quiet_page = page_text(&admin, server.url(&format!("/accounts/{quiet}"))).await;
    assert!(quiet_page.contains("id=\"expansion-none\""));
    let quiet_api = api_json(
        &anonymous,
        server.url(&format!("/api/v1/accounts/{quiet}/expansion")),
        &admin_token,
    )
    .await;
    assert_eq!(quiet_api["opportunities"], serde_json::json!([]));
    let nobody = anonymous
        .get(server.url("/api/v1/accounts/nobody/expansion"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);

    // Adoption of an account: profile, gaps, cause, plan, time to value.
    let adoption = api_json(
        &anonymous,
        server.url(&format!("/api/v1/accounts/{account}/adoption")),
        &admin_token,
    )
    .await;
    assert_eq!(
        adoption["adoption"]["profile"]["account_id"],
        account.as_str()
    );
    assert!(
        adoption["adoption"]["profile"]["features"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
    assert!(adoption.get("plan").is_some() && adoption.get("time_to_value").is_some());
    let level = adoption["adoption"]["profile"]["level"].as_str().unwrap();
    assert!(page.contains(&format!("id=\"adoption-level\">{level}<")));
    // A low-adoption account: its cause and plan on the account 360 and as Markdown.
    let low = report
        .attention
        .iter()
        .find(|a| a.cause.is_some())
        .expect("a low-adoption account with a cause");
    let low_page = page_text(&admin, server.url(&format!("/accounts/{}", low.account_id))).await;
    assert!(low_page.contains("id=\"adoption-cause\""));
    assert!(low_page.contains(&escape_html(low.cause.as_deref().unwrap())));
    assert!(low_page.contains("id=\"adoption-plan\"") && low_page.contains("id=\"plan-weeks\""));
    let plan = anonymous
        .get(server.url(&format!(
            "/api/v1/accounts/{}/adoption/plan",
            low.account_id
        )))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(plan.status(), StatusCode::OK);
    assert_eq!(
        plan.headers()["content-type"],
        "text/markdown; charset=utf-8"
    );
    assert!(
        plan.text()
            .await
            .unwrap()
            .starts_with("# 90-day enablement plan")
    );
    let nobody = anonymous
        .get(server.url("/api/v1/accounts/nobody/adoption"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);

    // The Adoption page: the heatmap, one cell per feature × segment; the report.
    let page = admin.get(server.url("/adoption")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("chart-heatmap"));
    let cells = html.matches("<rect class=\"cell q").count()
        + html.matches("<rect class=\"cell missing").count();
    assert_eq!(cells, heatmap.features.len() * heatmap.groups.len());
    assert!(heatmap.features.len() > 2 && heatmap.groups.len() > 1);
    for group in &heatmap.groups {
        assert!(
            html.contains(&escape_html(group)),
            "segment {group} labelled"
        );
    }
    assert!(
        html.contains(&escape_html(&report.summary)),
        "the report's summary sentence"
    );
    for id in [
        "id=\"attention\"",
        "id=\"systemic\"",
        "id=\"causes\"",
        "id=\"heatmap-csv\"",
        "id=\"heatmap-svg\"",
    ] {
        assert!(html.contains(id), "the Adoption page lacks {id}");
    }
    assert!(html.contains(&format!("id=\"level-low\">{}<", report.levels_now["low"])));
    assert!(html.contains(&format!(
        "href=\"/accounts/{}#adoption\"",
        report.attention[0].account_id
    )));
    assert!(
        html.contains("data-cause="),
        "low adoption grouped by cause"
    );
    let by_tier = page_text(&admin, server.url("/adoption?by=plan_tier")).await;
    assert!(by_tier.contains("Feature adoption by plan tier"));

    // Downloads: CSV and SVG with their types and file names.
    let csv = admin
        .get(server.url("/adoption/heatmap.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers()["content-disposition"],
        format!("attachment; filename=\"adoption-heatmap-segment-{end}.csv\"").as_str()
    );
    let csv = csv.text().await.unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("feature_key,feature_name,group_by,group,entitled_accounts,active_accounts,share")
    );
    assert_eq!(csv, heatmap.to_csv());
    assert_eq!(
        csv.lines().count(),
        1 + heatmap.features.len() * heatmap.groups.len()
    );
    let svg = admin
        .get(server.url("/adoption/heatmap.svg?by=plan_tier"))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.status(), StatusCode::OK);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert_eq!(
        svg.headers()["content-disposition"],
        format!("attachment; filename=\"adoption-heatmap-plan_tier-{end}.svg\"").as_str()
    );
    let svg = svg.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("chart-heatmap"));
    assert!(
        svg.contains("<style>") && svg.contains(".cell.q4"),
        "the file carries its colours"
    );

    // The adoption API.
    let json_map = api_json(
        &anonymous,
        server.url("/api/v1/adoption/heatmap"),
        &admin_token,
    )
    .await;
    assert_eq!(json_map["group_by"], "segment");
    assert_eq!(
        json_map["features"].as_array().unwrap().len(),
        heatmap.features.len()
    );
    let bad = anonymous
        .get(server.url("/api/v1/adoption/heatmap?by=name"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["field"], "by");
    let json_report = api_json(
        &anonymous,
        server.url("/api/v1/adoption/report"),
        &admin_token,
    )
    .await;
    assert_eq!(json_report["summary"], report.summary.as_str());
    assert_eq!(json_report["accounts"], report.accounts);
    let ttv = api_json(
        &anonymous,
        server.url("/api/v1/adoption/time-to-value?limit=10"),
        &admin_token,
    )
    .await;
    assert_eq!(ttv["total"], report.accounts);
    assert_eq!(ttv["accounts"].as_array().unwrap().len(), 10);
    assert!(ttv["accounts"][0]["account_id"].is_string());

    // The OpenAPI document lists the new endpoints with typed bodies.
    let openapi = api_json(&anonymous, server.url("/api/v1/openapi.json"), &admin_token).await;
    for path in [
        "/api/v1/expansion/opportunities",
        "/api/v1/expansion/opportunities/{id}",
        "/api/v1/expansion/opportunities/{id}/talking-points",
        "/api/v1/expansion/opportunities/{id}/outcome",
        "/api/v1/expansion/pipeline",
        "/api/v1/accounts/{account_id}/expansion",
        "/api/v1/accounts/{account_id}/adoption",
        "/api/v1/adoption/heatmap",
        "/api/v1/adoption/report",
        "/api/v1/adoption/time-to-value",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} in the OpenAPI document"
        );
    }
    let schemas = &openapi["components"]["schemas"];
    for name in [
        "Opportunity",
        "Signal",
        "Evidence",
        "Sizing",
        "TalkingPoints",
        "PipelineSummary",
        "Heatmap",
        "AdoptionReport",
        "AccountAdoptionView",
        "EnablementPlan",
        "TimeToValue",
        "RecordedOutcome",
        "OutcomeBody",
    ] {
        assert!(schemas[name].is_object(), "schema {name}");
    }
    let text = openapi.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(schemas[name].is_object(), "dangling reference to {name}");
    }

    // Recording an outcome: CSMs, leaders and admins (not viewers), a valid body, stored
    // and audited.
    let outcome_url = server.url(&format!(
        "/api/v1/expansion/opportunities/{}/outcome",
        first.id
    ));
    let post = |token: Option<&str>, body: serde_json::Value| {
        let request = anonymous.post(&outcome_url).json(&body);
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };
    let won = serde_json::json!({"outcome": "won", "decided_on": "2026-11-20", "arr_added": 12000.0, "note": "40 seats <b>"});
    assert_eq!(
        post(None, won.clone()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(Some(&server.viewer_token), won.clone())
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    for (body, field) in [
        (serde_json::json!({"outcome": "maybe"}), "outcome"),
        (
            serde_json::json!({"outcome": "won", "decided_on": "2999-01-01"}),
            "decided_on",
        ),
        (
            serde_json::json!({"outcome": "won", "arr_added": -5}),
            "arr_added",
        ),
        (serde_json::json!({"result": "won"}), "body"),
    ] {
        let response = post(Some(&admin_token), body.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    // A session must send its CSRF token (as a header: the body is JSON).
    let forged = admin.post(&outcome_url).json(&won).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let recorded = admin
        .post(&outcome_url)
        .header("X-CSRF-Token", &csrf)
        .json(&won)
        .send()
        .await
        .unwrap();
    assert_eq!(recorded.status(), StatusCode::OK);
    let recorded: serde_json::Value = recorded.json().await.unwrap();
    assert_eq!(recorded["opportunity_id"], first.id.as_str());
    assert_eq!(recorded["outcome"], "won");
    assert_eq!(recorded["recorded_by"], "admin");
    // Another opportunity, by token; recording again replaces (one outcome each).
    let second = &run.opportunities[1];
    let other_url = server.url(&format!(
        "/api/v1/expansion/opportunities/{}/outcome",
        second.id
    ));
    for outcome in ["no_decision", "lost"] {
        let response = anonymous
            .post(&other_url)
            .bearer_auth(&admin_token)
            .json(&serde_json::json!({ "outcome": outcome }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let stored = server
        .state
        .pool()
        .run(|store| Ok(store.recorded_outcomes()?))
        .await
        .unwrap();
    assert_eq!(stored.len(), 2, "{stored:?}");
    let won_row = stored
        .iter()
        .find(|o| o.opportunity_id == first.id)
        .unwrap();
    assert_eq!(won_row.outcome, "won");
    assert_eq!(won_row.recorded_by.as_deref(), Some("admin"));
    assert_eq!(won_row.arr_added, Some(12000.0));
    assert_eq!(won_row.note.as_deref(), Some("40 seats <b>"));
    assert_eq!(won_row.decided_on.to_string(), "2026-11-20");
    assert!(won_row.signals.contains(first.signals[0].kind.as_str()));
    let lost_row = stored
        .iter()
        .find(|o| o.opportunity_id == second.id)
        .unwrap();
    assert_eq!(lost_row.outcome, "lost");
    assert_eq!(lost_row.decided_on, chrono::Utc::now().date_naive());
    let audit = api_json(&anonymous, server.url("/api/v1/audit"), &admin_token).await;
    let entries: Vec<&serde_json::Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "expansion.outcome")
        .collect();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["target"], second.id.as_str());
    assert_eq!(entries[2]["target"], first.id.as_str());
    assert_eq!(entries[2]["actor"], "admin");
    // Views were dropped: the pipeline is computed again, and still answers.
    server.warmed_up().await;
    let again = api_json(
        &anonymous,
        server.url("/api/v1/expansion/pipeline"),
        &admin_token,
    )
    .await;
    assert_eq!(again["summary"]["opportunities"], run.summary.opportunities);
}

/// GET with a bearer token: the status and the body as JSON.
async fn api_get(
    client: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    token: &str,
) -> (StatusCode, serde_json::Value) {
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

/// The text of the element with `id` (its first text up to the next tag).
fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} on the page"))
        + marker.len();
    html[start..start + html[start..].find('<').unwrap()]
        .trim()
        .to_string()
}

/// Segmentation, workload and the journey over a book with a year of accounts and
/// twelve weekly snapshots: every endpoint answers with its fields (and the engine's
/// numbers), unknown accounts are 404s and bad parameters 400s naming the parameter, the
/// four pages show the API's numbers, and the account 360 shows the account's stage,
/// scorecard, tier and interactions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_workload_and_the_journey_are_served() {
    let server = start_with(&Book {
        accounts: 200,
        months: 12,
        history_weeks: 12,
        churn_model: false,
    })
    .await;
    let anonymous = browser();
    let token = server.viewer_token.clone();
    let today = chrono::Utc::now().date_naive();
    let end = chrono::NaiveDate::from_ymd_opt(common::END.0, common::END.1, common::END.2).unwrap();

    // Nothing without authentication.
    for path in ["/segments", "/workload", "/journey", "/onboarding"] {
        let response = anonymous.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    }
    for path in [
        "/api/v1/segments",
        "/api/v1/workload",
        "/api/v1/journey/scorecards",
        "/api/v1/onboarding",
        "/api/v1/touchpoints/silent",
    ] {
        let response = anonymous.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    // Every endpoint answers with its top-level fields.
    let started = std::time::Instant::now();
    let mut bodies = std::collections::HashMap::new();
    for (path, fields) in [
        (
            "/api/v1/segments",
            &[
                "as_of",
                "model",
                "model_version",
                "expansion_potential_from",
                "tiers",
                "total",
                "limit",
                "offset",
                "assignments",
            ][..],
        ),
        (
            "/api/v1/segments/misalignment",
            &[
                "misaligned",
                "accounts_compared",
                "share_misaligned",
                "over_served",
                "under_served",
                "csms_freed",
                "csms_needed",
                "matrix",
                "top",
                "total",
                "accounts",
            ][..],
        ),
        (
            "/api/v1/segments/migration",
            &[
                "upgrades",
                "downgrades",
                "upgrades_total",
                "downgrades_total",
                "exceptions",
                "arr_upgrading",
            ][..],
        ),
        (
            "/api/v1/workload",
            &[
                "csms",
                "spread",
                "unassigned_accounts",
                "unassigned_hours",
                "capacity_plan",
            ][..],
        ),
        (
            "/api/v1/workload/rebalance",
            &[
                "before",
                "after_forced",
                "after",
                "moves",
                "forced_moves",
                "balance_moves",
                "swaps",
                "unplaceable",
                "kept",
                "csms",
            ][..],
        ),
        ("/api/v1/journey/stages", &["as_of", "stages"][..]),
        (
            "/api/v1/journey/milestones",
            &[
                "as_of",
                "cohort_by",
                "cohorts",
                "milestones",
                "heatmap",
                "churn_links",
            ][..],
        ),
        (
            "/api/v1/journey/compare",
            &[
                "lead_days",
                "churned",
                "retained",
                "variables",
                "top",
                "predictability",
                "earliest_predictable_days",
            ][..],
        ),
        (
            "/api/v1/journey/dropoff",
            &[
                "metric",
                "observations",
                "drops",
                "overall_rate",
                "by_tenure_month",
                "by_stage",
                "failure_points",
            ][..],
        ),
        (
            "/api/v1/journey/scorecards",
            &["intervene", "watch", "on_track", "total", "scorecards"][..],
        ),
        (
            "/api/v1/onboarding",
            &[
                "onboarding",
                "on_track",
                "at_risk",
                "critical",
                "stalled",
                "total",
                "accounts",
                "cohorts",
            ][..],
        ),
        (
            "/api/v1/touchpoints/silent",
            &["silent_days", "total", "single_threaded", "accounts"][..],
        ),
    ] {
        let (status, body) = api_get(&anonymous, server.url(path), &token).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        for field in fields {
            assert!(body.get(*field).is_some(), "{path} lacks `{field}`: {body}");
        }
        assert_eq!(
            body["as_of"],
            end.to_string(),
            "{path} answers as of the latest snapshot"
        );
        bodies.insert(path, body);
    }
    println!("lifecycle endpoints answered in {:.1?}", started.elapsed());
    let segments = &bodies["/api/v1/segments"];
    let misalignment = &bodies["/api/v1/segments/misalignment"];
    let workload = &bodies["/api/v1/workload"];
    let rebalance = &bodies["/api/v1/workload/rebalance"];
    let stages = &bodies["/api/v1/journey/stages"];
    let milestones = &bodies["/api/v1/journey/milestones"];
    let scorecards = &bodies["/api/v1/journey/scorecards"];
    let onboarding = &bodies["/api/v1/onboarding"];

    // Today's tiers use today's expansion pipeline; an earlier date its proxy.
    assert_eq!(segments["expansion_potential_from"], "expansion analysis");
    let earlier = end - chrono::Days::new(1);
    if earlier != today {
        let (_, proxied) = api_get(
            &anonymous,
            server.url(&format!("/api/v1/segments?as_of={earlier}&limit=1")),
            &token,
        )
        .await;
        assert_eq!(proxied["expansion_potential_from"], "proxy");
        let page = page_text(&anonymous, server.url("/")).await;
        assert!(!page.contains("proxy-note"), "anonymous sees no page");
    }

    // The numbers are consistent: tiers sum to the book, windows page, filters filter.
    let accounts = segments["total"].as_u64().unwrap();
    assert_eq!(
        segments["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["accounts"].as_u64().unwrap())
            .sum::<u64>(),
        accounts
    );
    let assignments = segments["assignments"].as_array().unwrap();
    assert_eq!(assignments.len(), 50.min(accounts as usize));
    let scores: Vec<f64> = assignments
        .iter()
        .map(|a| a["score"].as_f64().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "highest score first"
    );
    assert!(assignments[0]["factors"].as_array().unwrap().len() > 2);
    let tier = assignments[0]["tier"].as_str().unwrap().to_string();
    let (_, one_tier) = api_get(
        &anonymous,
        server.url(&format!("/api/v1/segments?tier={tier}&limit=500")),
        &token,
    )
    .await;
    assert!(
        one_tier["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["tier"] == tier.as_str())
    );
    let (_, second) = api_get(
        &anonymous,
        server.url("/api/v1/segments?limit=1&offset=1"),
        &token,
    )
    .await;
    assert_eq!(second["assignments"][0], assignments[1]);
    let misaligned = misalignment["misaligned"].as_u64().unwrap();
    assert!(misaligned > 0, "the demo book has misaligned accounts");
    assert_eq!(misalignment["total"].as_u64().unwrap(), misaligned);
    assert_eq!(
        misalignment["over_served"].as_u64().unwrap()
            + misalignment["under_served"].as_u64().unwrap(),
        misaligned
    );
    assert_eq!(misalignment["top"][0], misalignment["accounts"][0]);
    let (_, up) = api_get(
        &anonymous,
        server.url("/api/v1/segments/migration?direction=up"),
        &token,
    )
    .await;
    assert_eq!(up["downgrades"], serde_json::json!([]));
    let csms = workload["csms"].as_array().unwrap();
    assert!(csms.len() > 2, "the demo has a CSM team");
    assert_eq!(
        workload["spread"]["csms"].as_u64().unwrap() as usize,
        csms.iter().filter(|c| c["active"] == true).count()
    );
    assert!(
        rebalance["after"]["std_dev"].as_f64().unwrap()
            <= rebalance["after_forced"]["std_dev"].as_f64().unwrap() + 1e-9,
        "the proposal never worsens the balance"
    );
    assert_eq!(
        stages["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["accounts"].as_u64().unwrap())
            .sum::<u64>(),
        accounts
    );
    assert_eq!(
        scorecards["intervene"].as_u64().unwrap()
            + scorecards["watch"].as_u64().unwrap()
            + scorecards["on_track"].as_u64().unwrap(),
        accounts
    );
    assert_eq!(scorecards["scorecards"].as_array().unwrap().len(), 25);
    let (_, watch) = api_get(
        &anonymous,
        server.url("/api/v1/journey/scorecards?severity=watch&limit=500"),
        &token,
    )
    .await;
    assert_eq!(watch["total"], scorecards["watch"]);
    assert!(
        watch["scorecards"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["severity"] == "watch")
    );

    // The scorecards' order is the engine's own (`LifecycleOverview::scorecards`), and so
    // are the first scorecards, though the server keeps only the order.
    let overview = coco_server::views::lifecycle(&server.state, today)
        .await
        .unwrap();
    let engine_cards = overview.scorecards(&server.state.inner.config);
    let (_, all_cards) = api_get(
        &anonymous,
        server.url("/api/v1/journey/scorecards?limit=500"),
        &token,
    )
    .await;
    let api_ids: Vec<&str> = all_cards["scorecards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["account_id"].as_str().unwrap())
        .collect();
    let engine_ids: Vec<&str> = engine_cards
        .iter()
        .take(500)
        .map(|c| c.account_id.as_str())
        .collect();
    assert_eq!(api_ids, engine_ids);
    let first_card: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&engine_cards[0]).unwrap()).unwrap();
    assert_eq!(all_cards["scorecards"][0], first_card);

    // One account: journey and timeline; unknown accounts are 404s.
    let account = scorecards["scorecards"][0]["account_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, journey) = api_get(
        &anonymous,
        server.url(&format!("/api/v1/accounts/{account}/journey")),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for field in ["stage", "scorecard", "tier"] {
        assert!(journey[field].is_object(), "journey lacks {field}");
    }
    assert_eq!(journey["tier"]["account_id"], account.as_str());
    assert_eq!(journey["scorecard"], scorecards["scorecards"][0]);
    let (status, timeline) = api_get(
        &anonymous,
        server.url(&format!("/api/v1/accounts/{account}/timeline?days=30")),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{timeline}");
    assert_eq!(timeline["days"], 30);
    assert!(
        timeline["entries"].is_array(),
        "the store's entries are still there"
    );
    let interactions = &timeline["interactions"];
    for field in [
        "events",
        "silent_periods",
        "stakeholders",
        "touches_last_90_days",
    ] {
        assert!(interactions.get(field).is_some(), "timeline lacks {field}");
    }
    let cutoff = (end - chrono::Days::new(30)).to_string();
    assert!(
        interactions["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["at"].as_str().unwrap()[..10] > *cutoff),
        "only the last 30 days"
    );
    for path in [
        "/api/v1/accounts/nobody/journey",
        "/api/v1/accounts/nobody/timeline",
    ] {
        let (status, body) = api_get(&anonymous, server.url(path), &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }

    // Bad parameters are 400s naming the parameter, on the API and on the pages.
    for (path, field) in [
        ("/api/v1/segments?tier=platinum%27--", "tier"),
        ("/api/v1/segments?limit=501", "limit"),
        ("/api/v1/segments/misalignment?offset=-3", "offset"),
        ("/api/v1/segments/migration?direction=sideways", "direction"),
        ("/api/v1/workload?as_of=2026-02-30", "as_of"),
        ("/api/v1/journey/scorecards?severity=panic", "severity"),
        ("/api/v1/onboarding?status=late", "status"),
        ("/api/v1/touchpoints/silent?limit=0", "limit"),
        (
            &format!("/api/v1/accounts/{account}/timeline?days=0"),
            "days",
        ),
        (
            &format!("/api/v1/accounts/{account}/journey?as_of=yesterday"),
            "as_of",
        ),
    ] {
        let (status, body) = api_get(&anonymous, server.url(path), &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body["error"]["field"], field, "{path}");
    }
    let (viewer, _) = log_in(&server, "viewer", &server.viewer_password).await;
    for path in ["/onboarding?status=late", "/segments?as_of=soon"] {
        let response = viewer.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
    }

    // The pages, in the navigation, with the API's numbers.
    let html = page_text(&viewer, server.url("/segments")).await;
    assert!(html.contains("<h1>Segments &amp; coverage</h1>"));
    assert!(html.contains("href=\"/segments\" aria-current=\"page\""));
    assert_eq!(text_of(&html, "misaligned-count"), misaligned.to_string());
    assert_eq!(
        text_of(&html, "over-served"),
        misalignment["over_served"].to_string()
    );
    for id in [
        "factors",
        "tier-definitions",
        "tiers",
        "misalignment",
        "coverage-matrix",
        "upgrades",
        "downgrades",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "/segments lacks #{id}"
        );
    }
    assert!(html.contains("<svg") && html.contains("Accounts per tier"));
    assert_eq!(
        html.matches("<tr class=\"top\"").count(),
        misalignment["top"].as_array().unwrap().len()
    );
    let top = &misalignment["top"][0];
    assert!(html.contains(&format!(
        "href=\"/accounts/{}#tier\"",
        top["account_id"].as_str().unwrap()
    )));
    assert!(html.contains(&escape_html(top["reasons"][0].as_str().unwrap())));
    if earlier != today {
        let proxied = page_text(&viewer, server.url(&format!("/segments?as_of={earlier}"))).await;
        assert!(
            proxied.contains("id=\"proxy-note\""),
            "the page says the proxy stood in"
        );
    }

    let html = page_text(&viewer, server.url("/workload")).await;
    assert!(html.contains("<h1>Workload</h1>"));
    assert_eq!(
        text_of(&html, "hires-needed"),
        workload["capacity_plan"]["hires_needed"].to_string()
    );
    assert_eq!(
        text_of(&html, "active-csms"),
        workload["spread"]["csms"].to_string()
    );
    assert_eq!(html.matches("<tr data-csm=").count(), csms.len());
    let chart = &html[html.find("id=\"load-chart\"").unwrap()..];
    assert!(chart.contains("chart-bar"));
    assert_eq!(
        chart[..chart.find("</figure>").unwrap()]
            .matches("<rect class=\"bar load ")
            .count(),
        workload["spread"]["csms"].as_u64().unwrap() as usize,
        "one bar per active CSM"
    );
    assert!(html.contains(&escape_html(
        workload["capacity_plan"]["assumption"].as_str().unwrap()
    )));
    for id in ["capacity-plan", "rebalance", "rebalance-spread", "moves"] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "/workload lacks #{id}"
        );
    }
    assert_eq!(
        html.matches("<tr data-reason=").count(),
        rebalance["moves"].as_array().unwrap().len().min(200)
    );

    let html = page_text(&viewer, server.url("/journey")).await;
    assert!(html.contains("<h1>Journey</h1>"));
    for id in [
        "stage-chart",
        "stages",
        "milestone-heatmap",
        "milestones",
        "compare",
        "variables",
        "predictability",
        "dropoff",
        "dropoff-chart",
        "priority",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "/journey lacks #{id}"
        );
    }
    let heatmap = &html[html.find("id=\"milestone-heatmap\"").unwrap()..];
    let heatmap = &heatmap[..heatmap.find("</figure>").unwrap()];
    assert!(heatmap.contains("chart-heatmap"));
    let cells = heatmap.matches("<rect class=\"cell q").count()
        + heatmap.matches("<rect class=\"cell missing").count();
    assert_eq!(
        cells,
        milestones["milestones"].as_array().unwrap().len()
            * milestones["cohorts"].as_array().unwrap().len()
    );
    assert!(cells > 3, "milestones × cohorts: {cells}");
    let priority_rows: Vec<&str> = html
        .split("<tr data-account=\"")
        .skip(1)
        .map(|row| &row[..row.find('"').unwrap()])
        .collect();
    assert_eq!(priority_rows, api_ids[..25]);
    assert!(html.contains(&format!(
        "<strong>{}</strong> to intervene on now",
        scorecards["intervene"]
    )));

    let html = page_text(&viewer, server.url("/onboarding")).await;
    assert!(html.contains("<h1>Onboarding</h1>"));
    assert_eq!(
        text_of(&html, "onboarding-total"),
        onboarding["onboarding"].to_string()
    );
    assert_eq!(
        html.matches("<tr data-account=").count(),
        onboarding["total"].as_u64().unwrap().min(200) as usize
    );
    assert!(html.contains("id=\"cohorts\""));
    let critical = page_text(&viewer, server.url("/onboarding?status=critical")).await;
    assert_eq!(
        critical.matches("<tr data-account=").count(),
        critical.matches("data-status=\"critical\"").count()
    );

    // The account 360: stage, scorecard, tier, interactions.
    let html = page_text(&viewer, server.url(&format!("/accounts/{account}"))).await;
    for id in [
        "journey",
        "journey-scorecard",
        "milestone-checks",
        "variable-checks",
        "interventions",
        "tier",
        "tier-factors",
        "interactions",
        "stakeholders",
        "interaction-events",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "the account 360 lacks #{id}"
        );
    }
    assert_eq!(
        text_of(&html, "journey-stage"),
        journey["stage"]["stage_label"].as_str().unwrap()
    );
    assert_eq!(
        text_of(&html, "tier-label"),
        journey["tier"]["tier_label"].as_str().unwrap()
    );
    assert_eq!(
        text_of(&html, "days-in-stage"),
        journey["stage"]["days_in_stage"].to_string()
    );
    if let Some(first) = journey["scorecard"]["interventions"][0]["action"].as_str() {
        assert!(html.contains(&escape_html(first)));
    }
    let (_, full_timeline) = api_get(
        &anonymous,
        server.url(&format!("/api/v1/accounts/{account}/timeline")),
        &token,
    )
    .await;
    assert_eq!(
        html.contains("id=\"single-threaded\""),
        full_timeline["interactions"]["stakeholders"]["single_threaded"] == true
    );

    // The OpenAPI document lists the endpoints with typed bodies.
    let openapi = api_json(&anonymous, server.url("/api/v1/openapi.json"), &token).await;
    for path in [
        "/api/v1/segments",
        "/api/v1/segments/misalignment",
        "/api/v1/segments/migration",
        "/api/v1/workload",
        "/api/v1/workload/rebalance",
        "/api/v1/journey/stages",
        "/api/v1/journey/milestones",
        "/api/v1/journey/compare",
        "/api/v1/journey/dropoff",
        "/api/v1/journey/scorecards",
        "/api/v1/onboarding",
        "/api/v1/touchpoints/silent",
        "/api/v1/accounts/{account_id}/journey",
        "/api/v1/accounts/{account_id}/timeline",
    ] {
        assert!(
            openapi["paths"][path]["get"].is_object(),
            "{path} in the OpenAPI document"
        );
    }
    let schemas = &openapi["components"]["schemas"];
    for name in [
        "SegmentsBody",
        "Assignment",
        "FactorScore",
        "TierSummary",
        "MisalignmentBody",
        "Misaligned",
        "MigrationBody",
        "Candidate",
        "WorkloadBody",
        "CsmLoad",
        "CapacityPlan",
        "RebalanceBody",
        "Move",
        "StagesBody",
        "MilestoneAnalytics",
        "ChurnLink",
        "CompareBody",
        "DropoffBody",
        "ScorecardsBody",
        "Scorecard",
        "StageView",
        "OnboardingBody",
        "OnboardingAccount",
        "SilentBody",
        "AccountJourneyBody",
        "TimelineBody",
        "AccountTimeline",
    ] {
        assert!(schemas[name].is_object(), "schema {name}");
    }
    let text = openapi.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(schemas[name].is_object(), "dangling reference to {name}");
    }
}
