//! Drafts on the web over real HTTP on loopback, on a real DuckDB store holding the
//! scored demo portfolio (and a daily run's alerts): every account document, report and
//! the handbook through the API in JSON, Markdown, HTML and PPTX, in English and
//! Chinese, the 400/403/404/422 answers, the OpenAPI entries; the review pages (cited
//! draft, Copy, Download, locale switch, motive picker, the engine's refusal shown on
//! the page), the Draft buttons of the account 360 and the alert pages, `/reports`.

mod common;

use common::{Book, END, Server, log_in, page_text, start_with};
use reqwest::StatusCode;

async fn get(server: &Server, path: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn get_json(server: &Server, path: &str) -> serde_json::Value {
    let response = get(server, path, &server.admin_token).await;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// The status and the error body of a request that must fail.
async fn error_of(server: &Server, path: &str) -> (StatusCode, serde_json::Value) {
    let response = get(server, path, &server.admin_token).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn content_type(response: &reqwest::Response) -> String {
    response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string()
}

/// Whether the template ships yet (the playbook and handbook templates are being
/// written): until it does, its draft must be refused by name, never a 500.
fn shipped(template: &str) -> bool {
    let path = format!("en/{template}.md");
    coco_drafts::templates::SHIPPED
        .iter()
        .any(|(p, _)| *p == path)
}

async fn assert_not_shipped(server: &Server, path: &str, template: &str) {
    let (status, body) = error_of(server, path).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("{template}.md")), "{message}");
}

/// A page's HTML with the escapes of its attribute values undone (`/` and `&`).
fn decoded(html: &str) -> String {
    html.replace("&#x2f;", "/").replace("&amp;", "&")
}

fn with_query(path: &str, query: &str) -> String {
    let joint = if path.contains('?') { '&' } else { '?' };
    format!("{path}{joint}{query}")
}

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// A draft's JSON: the fields every format is made from, every claim a fact.
fn assert_draft(body: &serde_json::Value, document: &str, template: &str, locale: &str) {
    assert_eq!(body["document"], document, "{body}");
    assert_eq!(body["template"], template);
    assert_eq!(body["locale"], locale);
    let markdown = body["markdown"].as_str().unwrap();
    assert!(!markdown.trim().is_empty());
    assert!(markdown.contains(body["title"].as_str().unwrap()));
    assert!(
        body["html"]
            .as_str()
            .unwrap()
            .starts_with("<!doctype html>")
    );
    assert_eq!(body["grounded"], true);
    let claims = body["grounding"]["claims"].as_array().unwrap();
    assert_eq!(body["claims"].as_u64().unwrap() as usize, claims.len());
    assert!(claims.iter().all(|c| !c["fact"].is_null()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_reports_and_the_handbook_over_http() {
    // Eight weekly snapshots: the anomaly report needs six of an account's history.
    let server = start_with(&Book {
        accounts: 120,
        months: 6,
        history_weeks: 7,
        churn_model: false,
    })
    .await;
    let end = chrono::NaiveDate::from_ymd_opt(END.0, END.1, END.2).unwrap();
    // Alerts, so the playbooks and the alert pages' Draft buttons have something.
    coco_server::actions::daily_run(
        &server.state,
        coco_engine::actions::daily::DailyOptions {
            as_of: end,
            trigger: "test".into(),
            refresh: false,
            deliver: false,
        },
    )
    .await
    .unwrap();
    let accounts = server
        .state
        .pool()
        .run(|store| {
            Ok(store
                .account_names()?
                .into_keys()
                .collect::<std::collections::BTreeSet<_>>())
        })
        .await
        .unwrap();
    let account = accounts.iter().nth(5).unwrap().clone();
    let base = format!("/api/v1/accounts/{account}/drafts");

    // ----- JSON: every document, cited --------------------------------------------
    let qbr = get_json(&server, &format!("{base}/qbr")).await;
    assert_draft(&qbr, "qbr", "qbr", "en");
    let footnotes = qbr["footnotes"].as_array().unwrap();
    assert!(!footnotes.is_empty());
    assert!(
        footnotes[0]["cited"]["source"].is_string(),
        "{}",
        footnotes[0]
    );
    assert!(
        qbr["html_fragment"]
            .as_str()
            .unwrap()
            .contains("class=\"fact\"")
    );
    assert!(
        qbr["html"]
            .as_str()
            .unwrap()
            .contains("class=\"citations\"")
    );
    assert!(qbr["llm"].is_null());
    let ebr = get_json(&server, &format!("{base}/ebr")).await;
    assert_draft(&ebr, "ebr", "ebr", "en");
    let plan = get_json(&server, &format!("{base}/plan")).await;
    assert_draft(&plan, "plan", "plan", "en");
    for motive in ["risk", "expansion", "adoption_gap", "reengagement"] {
        let outreach = get_json(&server, &format!("{base}/outreach?motive={motive}")).await;
        assert_draft(&outreach, "outreach", &format!("outreach_{motive}"), "en");
    }
    let suggested = get_json(&server, &format!("{base}/outreach")).await;
    assert!(
        suggested["template"]
            .as_str()
            .unwrap()
            .starts_with("outreach_")
    );
    let sequence = get_json(&server, &format!("{base}/sequence?motive=risk")).await;
    assert_draft(&sequence, "sequence", "outreach_risk", "en");
    assert!(
        sequence["markdown"]
            .as_str()
            .unwrap()
            .matches("\n## ")
            .count()
            >= 3
    );
    let first_playbook = server.state.inner.actions.playbooks.playbooks[0].id.clone();
    if shipped("playbook") {
        for path in [
            format!("{base}/playbook"),
            format!("{base}/playbook?playbook={first_playbook}"),
        ] {
            let body = get_json(&server, &path).await;
            assert_draft(&body, "playbook", "playbook", "en");
        }
    } else {
        assert_not_shipped(&server, &format!("{base}/playbook"), "playbook").await;
    }
    let templates = coco_engine::drafts::playbooks::task_template_ids(&server.state.inner.drafting);
    let task = get_json(&server, &format!("{base}/task?template={}", templates[0])).await;
    assert_draft(&task, "task", &format!("task_{}", templates[0]), "en");

    // Chinese.
    let zh = get_json(&server, &format!("{base}/qbr?locale=zh&as_of={end}")).await;
    assert_draft(&zh, "qbr", "qbr", "zh");
    assert!(has_cjk(zh["markdown"].as_str().unwrap()));
    assert!(zh["html"].as_str().unwrap().contains("lang=\"zh-CN\""));

    // An account named with markup: its drafts show the name as text, never as markup.
    let xss = get_json(
        &server,
        &format!("/api/v1/accounts/{}/drafts/qbr", server.xss_account),
    )
    .await;
    assert!(xss["markdown"].as_str().unwrap().contains(common::XSS_NAME));
    for field in ["html", "html_fragment"] {
        let html = xss[field].as_str().unwrap();
        assert!(!html.contains("<script>alert"), "{field}: {html}");
        assert!(html.contains("&lt;script&gt;"), "{field}");
    }

    // ----- Markdown, HTML, PPTX ----------------------------------------------------
    let md = get(
        &server,
        &format!("{base}/qbr?format=md"),
        &server.admin_token,
    )
    .await;
    assert_eq!(md.status(), StatusCode::OK);
    assert!(content_type(&md).starts_with("text/markdown"));
    assert_eq!(md.text().await.unwrap(), qbr["markdown"].as_str().unwrap());
    let html = get(
        &server,
        &format!("{base}/qbr?format=html"),
        &server.admin_token,
    )
    .await;
    assert_eq!(html.status(), StatusCode::OK);
    assert!(content_type(&html).starts_with("text/html"));
    let page = html.text().await.unwrap();
    assert!(page.starts_with("<!doctype html>") && page.contains("<sup class=\"cite\">"));
    let pptx = get(
        &server,
        &format!("{base}/qbr?format=pptx"),
        &server.admin_token,
    )
    .await;
    assert_eq!(pptx.status(), StatusCode::OK);
    assert_eq!(
        content_type(&pptx),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    );
    let disposition = pptx.headers()[reqwest::header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"{account}-qbr-en.pptx\"")
    );
    let bytes = pptx.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "a PPTX is a zip");
    let deck = get(
        &server,
        &format!("{base}/ebr?format=pptx&locale=zh"),
        &server.viewer_token,
    )
    .await;
    assert_eq!(deck.status(), StatusCode::OK);
    assert!(deck.bytes().await.unwrap().starts_with(b"PK"));

    // ----- 400, 403, 404, 422 ------------------------------------------------------
    for (path, field) in [
        (format!("{base}/memo"), "document"),
        (format!("{base}/qbr?locale=fr"), "locale"),
        (format!("{base}/qbr?format=pdf"), "format"),
        (format!("{base}/outreach?motive=bribery"), "motive"),
        (format!("{base}/qbr?as_of=31-10-2026"), "as_of"),
        (format!("{base}/qbr?llm=perhaps"), "llm"),
        (format!("{base}/task"), "template"),
        (format!("{base}/task?template=no_such_task"), "template"),
        (format!("{base}/playbook?playbook=no_such_play"), "playbook"),
        ("/api/v1/reports/horoscope".to_string(), "kind"),
        ("/api/v1/handbook?format=docx".to_string(), "format"),
    ] {
        let (status, body) = error_of(&server, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let (status, body) = error_of(&server, "/api/v1/accounts/acc_nobody/drafts/qbr").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("acc_nobody")
    );
    let (status, _) = error_of(&server, &format!("{base}/qbr?as_of=2001-01-01")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A tier-migration email for an account whose coverage matches its tier: refused
    // with the engine's reason; and written for one that is a candidate.
    let mut refused = None;
    let mut candidate = None;
    for id in &accounts {
        let path = format!("/api/v1/accounts/{id}/drafts/migration");
        let response = get(&server, &path, &server.admin_token).await;
        match response.status() {
            StatusCode::UNPROCESSABLE_ENTITY if refused.is_none() => {
                let body: serde_json::Value = response.json().await.unwrap();
                refused = Some((id.clone(), body));
            }
            StatusCode::OK if candidate.is_none() => {
                let body: serde_json::Value = response.json().await.unwrap();
                candidate = Some(body);
            }
            StatusCode::OK | StatusCode::UNPROCESSABLE_ENTITY => {}
            other => panic!("{path}: {other}"),
        }
        if refused.is_some() && candidate.is_some() {
            break;
        }
    }
    let (refused_account, body) = refused.expect("an account that is not a migration candidate");
    assert_eq!(body["error"]["code"], "draft_refused");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is not a tier-migration candidate"),
        "{body}"
    );
    if let Some(body) = candidate {
        assert_draft(&body, "migration", "outreach_tier_migration", "en");
    }
    // The LLM rewrite is off in the shipped drafts.toml: the template draft comes back
    // with the reason; a viewer may not ask for it.
    let rewritten = get_json(&server, &format!("{base}/outreach?motive=risk&llm=true")).await;
    assert_eq!(rewritten["llm"]["rewritten"], false);
    assert!(
        rewritten["llm"]["fallback_reason"].is_string(),
        "{rewritten}"
    );
    assert_draft(&rewritten, "outreach", "outreach_risk", "en");
    let forbidden = get(
        &server,
        &format!("{base}/outreach?llm=true"),
        &server.viewer_token,
    )
    .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let anonymous = reqwest::Client::new()
        .get(server.url(&format!("{base}/qbr")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // ----- Reports and the handbook ------------------------------------------------
    let portfolio = get_json(&server, "/api/v1/reports/portfolio").await;
    assert_draft(&portfolio, "portfolio", "portfolio", "en");
    let portfolio_zh = get_json(
        &server,
        &format!("/api/v1/reports/portfolio?locale=zh&as_of={end}"),
    )
    .await;
    assert_draft(&portfolio_zh, "portfolio", "portfolio", "zh");
    assert!(has_cjk(portfolio_zh["markdown"].as_str().unwrap()));
    let report_md = get(
        &server,
        "/api/v1/reports/portfolio?format=md",
        &server.viewer_token,
    )
    .await;
    assert_eq!(report_md.status(), StatusCode::OK);
    assert!(content_type(&report_md).starts_with("text/markdown"));
    assert_eq!(
        report_md.text().await.unwrap(),
        portfolio["markdown"].as_str().unwrap()
    );
    // Every report the engine lists: written (or, until its template ships, refused
    // naming it); those about one account need `account`.
    for kind in coco_engine::drafts::reports::Report::ALL {
        let name = kind.as_str();
        let path = if kind.needs_account() {
            let (status, body) = error_of(&server, &format!("/api/v1/reports/{name}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
            assert_eq!(body["error"]["field"], "account");
            format!("/api/v1/reports/{name}?account={account}")
        } else {
            format!("/api/v1/reports/{name}")
        };
        if shipped(name) {
            let body = get_json(&server, &path).await;
            assert_draft(&body, name, name, "en");
            let md = get(
                &server,
                &with_query(&path, "format=md"),
                &server.viewer_token,
            )
            .await;
            assert_eq!(md.status(), StatusCode::OK, "{path} md");
        } else {
            assert_not_shipped(&server, &path, name).await;
        }
    }
    let handbook_shipped = shipped("handbook");
    if handbook_shipped {
        let handbook = get_json(&server, "/api/v1/handbook").await;
        assert_draft(&handbook, "handbook", "handbook", "en");
        let handbook_zh = get_json(&server, "/api/v1/handbook?locale=zh").await;
        assert!(has_cjk(handbook_zh["markdown"].as_str().unwrap()));
        let handbook_html = get(&server, "/api/v1/handbook?format=html", &server.admin_token).await;
        assert!(content_type(&handbook_html).starts_with("text/html"));
    } else {
        assert_not_shipped(&server, "/api/v1/handbook", "handbook").await;
    }

    // ----- OpenAPI -----------------------------------------------------------------
    let openapi = get_json(&server, "/api/v1/openapi.json").await;
    for path in [
        "/api/v1/accounts/{account_id}/drafts/{document}",
        "/api/v1/reports/{kind}",
        "/api/v1/handbook",
    ] {
        let operation = &openapi["paths"][path]["get"];
        assert!(
            operation.is_object(),
            "{path} is not in the OpenAPI document"
        );
        for status in ["200", "400"] {
            assert!(
                operation["responses"][status].is_object(),
                "{path} {status}"
            );
        }
    }
    let account_op = &openapi["paths"]["/api/v1/accounts/{account_id}/drafts/{document}"]["get"];
    assert!(account_op["responses"]["422"].is_object());
    assert!(account_op["responses"]["404"].is_object());
    assert!(
        account_op["responses"]["200"]["content"][
            "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        ]
        .is_object()
    );
    let schemas = &openapi["components"]["schemas"];
    assert!(schemas["DraftBody"]["properties"]["markdown"].is_object());
    let text = openapi.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(schemas[name].is_object(), "dangling reference to {name}");
    }

    // ----- Pages -------------------------------------------------------------------
    let (client, _) = log_in(&server, "admin", &server.admin_password).await;
    // The account 360's Draft menu.
    let account_page = page_text(&client, server.url(&format!("/accounts/{account}"))).await;
    for document in ["outreach", "sequence", "qbr", "ebr", "plan", "playbook"] {
        assert!(
            account_page.contains(&format!("href=\"/accounts/{account}/drafts/{document}\"")),
            "the account 360 links the {document} draft"
        );
    }
    // The review page: the cited draft, Copy, the downloads, locales.
    let review = client
        .get(server.url(&format!("/accounts/{account}/drafts/qbr")))
        .send()
        .await
        .unwrap();
    assert_eq!(review.status(), StatusCode::OK);
    let review = decoded(&review.text().await.unwrap());
    assert!(review.contains("id=\"draft-body\""));
    assert!(review.contains("<span class=\"fact\""));
    assert!(review.contains("<ol class=\"citations\">"));
    assert!(review.contains("id=\"draft-copy\""));
    assert!(review.contains("<script src=\"/static/drafts.js\"></script>"));
    assert!(review.contains("every number cited"));
    let claims = qbr["claims"].as_u64().unwrap();
    assert!(
        review.contains(&format!("{claims} claims")),
        "the claims count"
    );
    for format in ["md", "html", "pptx"] {
        assert!(
            review.contains(&format!(
                "href=\"/api/v1/accounts/{account}/drafts/qbr?format={format}\""
            )),
            "download {format}"
        );
    }
    assert!(review.contains(&format!(
        "href=\"/accounts/{account}/drafts/qbr?locale=zh\""
    )));
    assert!(review.contains("中文"));
    // The Markdown to copy is the API's, escaped into the page.
    let markdown = qbr["markdown"].as_str().unwrap();
    let first_line = markdown.lines().next().unwrap();
    assert!(review.contains(&first_line.replace('<', "&lt;")));
    // The outreach page has the motive picker; the plan page offers no PPTX.
    let outreach = page_text(
        &client,
        server.url(&format!(
            "/accounts/{account}/drafts/outreach?motive=expansion"
        )),
    )
    .await;
    assert!(outreach.contains("id=\"draft-motive\""));
    assert!(outreach.contains("<option value=\"expansion\" selected>"));
    let plan_page = page_text(
        &client,
        server.url(&format!("/accounts/{account}/drafts/plan")),
    )
    .await;
    assert!(!plan_page.contains("format=pptx"));
    assert!(!plan_page.contains("id=\"draft-motive\""));
    let zh_page = page_text(
        &client,
        server.url(&format!("/accounts/{account}/drafts/qbr?locale=zh")),
    )
    .await;
    assert!(zh_page.contains("data-locale=\"zh\""));
    assert!(zh_page.contains("lang=\"zh-CN\""));
    // The engine's refusal on the page, not a 500.
    let refused_page = client
        .get(server.url(&format!("/accounts/{refused_account}/drafts/migration")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused_page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused_page = refused_page.text().await.unwrap();
    assert!(refused_page.contains("id=\"draft-error-message\""));
    assert!(refused_page.contains("is not a tier-migration candidate"));
    let unknown = client
        .get(server.url(&format!("/accounts/{account}/drafts/memo")))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("unknown document `memo`")
    );
    // The copy script, served as a file (the pages allow no inline script).
    let script = client
        .get(server.url("/static/drafts.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(content_type(&script).starts_with("text/javascript"));
    assert!(
        script
            .text()
            .await
            .unwrap()
            .contains("navigator.clipboard.writeText")
    );

    // /reports, a report's page, the handbook's.
    let reports = decoded(&page_text(&client, server.url("/reports")).await);
    assert!(reports.contains("href=\"/reports/portfolio?locale=en\""));
    assert!(reports.contains("href=\"/handbook?locale=en\""));
    assert!(reports.contains("href=\"/reports\" aria-current=\"page\""));
    let report_page =
        decoded(&page_text(&client, server.url("/reports/portfolio?locale=zh")).await);
    assert!(report_page.contains("id=\"draft-body\""));
    assert!(report_page.contains("href=\"/api/v1/reports/portfolio?locale=zh&format=md\""));
    let handbook_page = decoded(&page_text(&client, server.url("/handbook")).await);
    if handbook_shipped {
        assert!(handbook_page.contains("id=\"draft-body\""));
        assert!(handbook_page.contains("href=\"/api/v1/handbook?format=html\""));
    } else {
        assert!(handbook_page.contains("id=\"draft-error-message\""));
    }

    // Every role reviews drafts; the LLM rewrite is offered to those who may ask for it.
    assert!(review.contains("name=\"llm\""));
    let (viewer, _) = log_in(&server, "viewer", &server.viewer_password).await;
    let viewed = viewer
        .get(server.url(&format!("/accounts/{account}/drafts/plan")))
        .send()
        .await
        .unwrap();
    assert_eq!(viewed.status(), StatusCode::OK);
    let viewed = viewed.text().await.unwrap();
    assert!(viewed.contains("id=\"draft-body\""));
    assert!(!viewed.contains("name=\"llm\""));

    // The alert pages' Draft buttons: the outreach draft with the profile's motive.
    let alerts = get_json(&server, "/api/v1/alerts?limit=20").await;
    let alert = &alerts["alerts"][0];
    assert!(alert.is_object(), "the daily run opened alerts: {alerts}");
    let motive = coco_engine::drafts::Motive::for_alert_profile(alert["profile"].as_str().unwrap());
    let href = format!(
        "/accounts/{}/drafts/outreach?motive={}",
        alert["account_id"].as_str().unwrap(),
        motive.as_str()
    );
    let inbox = decoded(&page_text(&client, server.url("/alerts")).await);
    assert!(
        inbox.contains(&format!("href=\"{href}\"")),
        "the inbox's Draft"
    );
    let alert_page = decoded(
        &page_text(
            &client,
            server.url(&format!("/alerts/{}", alert["alert_id"])),
        )
        .await,
    );
    assert!(alert_page.contains(&format!("id=\"alert-draft\" href=\"{href}\"")));
    let drafted = client.get(server.url(&href)).send().await.unwrap();
    assert_eq!(drafted.status(), StatusCode::OK);
    assert!(
        drafted
            .text()
            .await
            .unwrap()
            .contains(&format!("data-template=\"outreach_{}\"", motive.as_str()))
    );
}

/// A `drafts.toml` or a user template that does not parse stops the server from
/// starting, with the file named; a good user template is laid over the shipped one.
#[tokio::test]
async fn the_drafts_configuration_is_checked_at_start() {
    let start = |data: &std::path::Path| {
        let store = coco_store::Store::open(data).unwrap();
        let config = coco_engine::Config::load(None).unwrap();
        let options = coco_server::ServeOptions {
            data_dir: data.to_path_buf(),
            connections: 1,
            secure_cookies: false,
        };
        coco_server::state(store, config, &options)
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("config")).unwrap();
    std::fs::write(
        data.join("config/drafts.toml"),
        "[outreach]\nmax_words = \"many\"\n",
    )
    .unwrap();
    let error = match start(&data) {
        Ok(_) => panic!("a broken drafts.toml must not start"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("drafts.toml"), "{error}");

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("templates/drafts/en")).unwrap();
    std::fs::write(data.join("templates/drafts/en/qbr.md"), "# {% if %}\n").unwrap();
    let error = match start(&data) {
        Ok(_) => panic!("a broken template must not start"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("qbr.md"), "{error}");

    std::fs::write(data.join("templates/drafts/en/qbr.md"), "# Our review\n").unwrap();
    let state = start(&data).unwrap();
    assert_eq!(
        state.inner.drafting.overrides,
        vec!["en/qbr.md".to_string()]
    );
}
