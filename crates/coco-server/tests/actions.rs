//! Alerts, tasks and the daily lists over real HTTP on loopback, on a real DuckDB store
//! holding the scored demo portfolio after a daily run (`POST /api/v1/runs/daily`, the
//! engine's `run_daily`): My day in rank order, the inbox, an alert's context pack,
//! acknowledging and completing from the pages (CSRF, roles: a viewer gets 403), the
//! account 360's section, every actions endpoint and its OpenAPI entry, the audit log;
//! the scheduler firing a real daily run; a bad alerts file failing the start.

mod common;

use std::collections::HashMap;

use common::{END, Server, XSS_NAME, browser, log_in, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn end() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(END.0, END.1, END.2).unwrap()
}

async fn text(client: &reqwest::Client, url: String) -> String {
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.text().await.unwrap()
}

async fn get_json(client: &reqwest::Client, url: String, token: &str) -> (StatusCode, Value) {
    let response = client.get(&url).bearer_auth(token).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn post_json(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = client
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Adds a user of `role` linked to `csm` on the running server's store.
async fn add_user(server: &Server, username: &str, role: coco_core::Role, csm: &str) -> String {
    let (username, csm) = (username.to_string(), csm.to_string());
    server
        .state
        .pool()
        .run(move |store| {
            coco_server::users::add_user(
                store,
                &coco_server::users::NewUserRequest {
                    username: &username,
                    display_name: None,
                    role,
                    csm_id: Some(&csm),
                },
                "test",
            )
        })
        .await
        .unwrap()
        .one_time_password
}

/// The `data-*` attributes of the `<li>` items of My day, in page order.
fn today_items(html: &str) -> Vec<HashMap<String, String>> {
    let list = &html[html.find("id=\"today-items\"").expect("the list")..];
    let list = &list[..list.find("</ol>").unwrap()];
    list.split("<li ")
        .skip(1)
        .map(|item| {
            let tag = &item[..item.find('>').unwrap()];
            tag.split(' ')
                .filter_map(|attr| {
                    let (key, value) = attr.split_once('=')?;
                    Some((
                        key.trim_start_matches("data-").to_string(),
                        value.trim_matches('"').to_string(),
                    ))
                })
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_tasks_and_my_day_are_worked_from_the_pages_and_the_api() {
    let server = start().await;
    let client = browser();
    let admin = server.admin_token.clone();
    let viewer_token = server.viewer_token.clone();

    // Before any run: empty lists, not errors.
    let (status, body) = get_json(&client, server.url("/api/v1/alerts"), &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 0);

    // The daily run through the API: leaders and admins only; a viewer is refused.
    let run_body = json!({"as_of": end().to_string(), "refresh": false, "deliver": false});
    let (status, refused) = post_json(
        &client,
        server.url("/api/v1/runs/daily"),
        &viewer_token,
        run_body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(refused["error"]["code"], "forbidden");
    let (status, bad) = post_json(
        &client,
        server.url("/api/v1/runs/daily"),
        &admin,
        json!({"as_of": "2999-01-01"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["field"], "as_of");
    // A week of work: the run of a week before the end (its tasks are due, some
    // overdue, by the end), then the end's.
    let week_before = end() - chrono::Days::new(7);
    let (status, first) = post_json(
        &client,
        server.url("/api/v1/runs/daily"),
        &admin,
        json!({"as_of": week_before.to_string(), "refresh": false, "deliver": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["as_of"], week_before.to_string());
    assert!(
        first["alerts"]["opened"].as_u64().unwrap() > 0,
        "the demo book fires alerts: {first}"
    );
    assert!(first["alerts"]["tasks"].as_u64().unwrap() > 0, "with tasks");
    let (status, run) = post_json(
        &client,
        server.url("/api/v1/runs/daily"),
        &admin,
        run_body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["as_of"], end().to_string());
    let steps: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["evaluate", "alerts", "digests"]);
    // Running the same date again opens and resolves nothing.
    let (_, again) = post_json(
        &client,
        server.url("/api/v1/runs/daily"),
        &admin,
        run_body.clone(),
    )
    .await;
    assert_eq!(again["alerts"]["opened"], 0, "{again}");
    assert_eq!(again["alerts"]["resolved"], 0, "{again}");

    // The run log: the three runs, triggered by the API, with their steps.
    let (_, runs) = get_json(&client, server.url("/api/v1/runs"), &admin).await;
    let runs = runs["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert!(
        runs.iter()
            .all(|r| r["trigger"] == "api" && r["status"] == "ok")
    );
    assert_eq!(runs[0]["steps"].as_array().unwrap().len(), 3);
    assert_eq!(runs[0]["run_id"], again["run_id"]);
    assert_eq!(runs[2]["as_of"], week_before.to_string());
    let (status, _) = get_json(&client, server.url("/api/v1/runs?limit=0"), &admin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The alerts the API lists, newest first, with their names and rules.
    let (_, listed) = get_json(&client, server.url("/api/v1/alerts?limit=500"), &admin).await;
    let alerts = listed["alerts"].as_array().unwrap().clone();
    let opened = listed["total"].as_u64().unwrap();
    assert!(opened > 0);
    assert_eq!(alerts.len() as u64, opened);
    assert!(alerts.iter().all(|a| a["status"] == "open"));
    let ids: Vec<i64> = alerts
        .iter()
        .map(|a| a["alert_id"].as_i64().unwrap())
        .collect();
    let mut newest_first = ids.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, newest_first);
    let tier = alerts[0]["tier"].as_str().unwrap().to_string();
    let (_, by_tier) = get_json(
        &client,
        server.url(&format!("/api/v1/alerts?tier={tier}&limit=500")),
        &admin,
    )
    .await;
    assert!(
        by_tier["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["tier"] == tier.as_str())
    );
    for bad in ["status=maybe", "tier=panic", "limit=501", "offset=-1"] {
        let (status, body) = get_json(
            &client,
            server.url(&format!("/api/v1/alerts?{bad}")),
            &admin,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            body["error"]["field"],
            bad.split('=').next().unwrap(),
            "{bad}"
        );
    }

    // A CSM whose day has alerts and tasks: their list, in rank order, through the API.
    let lists = run["lists"].as_array().unwrap();
    let mut chosen = None;
    for list in lists {
        let csm = list["csm_id"].as_str().unwrap().to_string();
        let (status, day) = get_json(
            &client,
            // The run's date: tasks fall due by the day asked about.
            server.url(&format!("/api/v1/today?csm={csm}&as_of={}", end())),
            &admin,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{day}");
        let items = day["items"].as_array().unwrap();
        assert_eq!(items.len() as u64, list["items"].as_u64().unwrap());
        assert_eq!(day["as_of"], end().to_string());
        for (i, item) in items.iter().enumerate() {
            assert_eq!(item["rank"].as_u64().unwrap() as usize, i + 1);
            if i > 0 {
                assert!(items[i - 1]["score"].as_f64() >= item["score"].as_f64());
            }
        }
        let has = |kind: &str| items.iter().any(|i| i["kind"] == kind);
        if chosen.is_none() && has("alert") && has("task") {
            chosen = Some((list.clone(), items.clone()));
        }
    }
    let (busiest, items) = chosen.expect("a CSM with alerts and tasks on their list");
    let csm = busiest["csm_id"].as_str().unwrap().to_string();
    // By name too; an unknown CSM is a 404; the admin has no CSM of their own.
    let name = busiest["csm_name"].as_str().unwrap();
    let (_, by_name) = get_json(
        &client,
        server.url(&format!(
            "/api/v1/today?csm={}",
            coco_server::params::percent_encode(name)
        )),
        &admin,
    )
    .await;
    assert_eq!(by_name["csm_id"], csm.as_str());
    let (status, _) = get_json(&client, server.url("/api/v1/today?csm=nobody"), &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get_json(&client, server.url("/api/v1/today"), &admin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "csm");

    // A CSM user linked to that CSM logs in: My day is their list, in the API's order.
    let one_time = add_user(&server, "casey", coco_core::Role::Csm, &csm).await;
    let (casey, csrf) = log_in(&server, "casey", &one_time).await;
    let page = text(&casey, server.url(&format!("/today?as_of={}", end()))).await;
    let shown = today_items(&page);
    assert_eq!(shown.len(), items.len());
    for (shown, item) in shown.iter().zip(&items) {
        assert_eq!(shown["rank"], item["rank"].to_string());
        assert_eq!(shown["kind"], item["kind"].as_str().unwrap());
        assert_eq!(shown["account"], item["account_id"].as_str().unwrap());
    }

    // Acknowledge the first alert on the list from the page.
    let alert_item = items
        .iter()
        .find(|i| i["kind"] == "alert")
        .expect("an alert on the list");
    let alert_id = alert_item["alert_id"].as_i64().unwrap();
    // Without the CSRF token: refused.
    let forged = casey
        .post(server.url(&format!("/alerts/{alert_id}/status")))
        .form(&[("status", "acknowledged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let acked = casey
        .post(server.url(&format!("/alerts/{alert_id}/status")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("status", "acknowledged"),
            ("next", "/today"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(acked.status(), StatusCode::SEE_OTHER);
    assert_eq!(acked.headers()["location"], "/today");
    let (_, detail) = get_json(
        &client,
        server.url(&format!("/api/v1/alerts/{alert_id}")),
        &admin,
    )
    .await;
    assert_eq!(detail["alert"]["status"], "acknowledged");
    // The list keeps it (still open) and says it is acknowledged: no Ack button.
    let page = text(&casey, server.url(&format!("/today?as_of={}", end()))).await;
    let li = &page[page.find(&format!("data-alert-id=\"{alert_id}\"")).unwrap()..];
    let li = &li[..li.find("</li>").unwrap()];
    assert!(li.contains("acknowledged") && !li.contains("class=\"ack\""));

    // A viewer may read but not work alerts: 403 by page and by API.
    let (viewer, viewer_csrf) = log_in(&server, "viewer", &server.viewer_password).await;
    let refused = viewer
        .post(server.url(&format!("/alerts/{alert_id}/status")))
        .form(&[("csrf", viewer_csrf.as_str()), ("status", "closed")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (status, body) = post_json(
        &client,
        server.url(&format!("/api/v1/alerts/{alert_id}/status")),
        &viewer_token,
        json!({"status": "closed"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("work alerts")
    );
    let viewer_day = text(
        &viewer,
        server.url(&format!("/today?csm={csm}&as_of={}", end())),
    )
    .await;
    assert!(!viewer_day.contains("class=\"done\"") && !viewer_day.contains("class=\"ack\""));
    assert_eq!(today_items(&viewer_day).len(), items.len());

    // Done on a task of the list from the page: it leaves the list.
    let task_id = items
        .iter()
        .find(|i| i["kind"] == "task")
        .and_then(|i| i["task_id"].as_i64())
        .unwrap();
    let done = casey
        .post(server.url(&format!("/tasks/{task_id}/status")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("status", "done"),
            ("note", "called the sponsor"),
            ("next", "/today"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let page = text(&casey, server.url(&format!("/today?as_of={}", end()))).await;
    assert!(
        today_items(&page)
            .iter()
            .all(|i| i.get("task-id") != Some(&task_id.to_string())),
        "the task done is off the list"
    );
    let (_, done_tasks) = get_json(
        &client,
        server.url(&format!("/api/v1/tasks?status=done&owner={csm}")),
        &admin,
    )
    .await;
    let task = done_tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task_id"] == task_id)
        .expect("listed as done");
    assert_eq!(task["done_by"], "casey");
    assert_eq!(task["done_on"], common_today());

    // The inbox page: every open alert, escaped, each linking to its page.
    let inbox = text(&casey, server.url("/alerts")).await;
    assert_eq!(inbox.matches("<tr data-alert-id=").count() as u64, opened);
    assert!(inbox.contains(&format!("href=\"/alerts/{alert_id}\"")));
    assert!(!inbox.contains(XSS_NAME), "names are escaped");
    let mine = text(
        &casey,
        server.url(&format!("/alerts?owner={csm}&status=all")),
    )
    .await;
    assert!(
        mine.split("<tr data-alert-id=")
            .skip(1)
            .all(|row| row.contains(&format!("data-owner=\"{csm}\"")))
    );
    let bad = casey
        .get(server.url("/alerts?tier=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // The alert page: its context pack, from the same record as the API.
    let page = text(&casey, server.url(&format!("/alerts/{alert_id}"))).await;
    let context = &detail["context"];
    assert!(page.contains("id=\"alert-evidence\""));
    let evidence = context["evidence"].as_array().unwrap();
    assert!(!evidence.is_empty());
    for e in evidence {
        let sentence = e["text"].as_str().unwrap();
        assert!(
            page.contains(&escape(sentence)),
            "the evidence sentence `{sentence}` is on the page"
        );
        for event in e["events"].as_array().into_iter().flatten() {
            assert!(page.contains(&escape(event["row_id"].as_str().unwrap())));
        }
    }
    assert!(page.contains(&escape(context["headline"].as_str().unwrap())));
    for section in [
        "alert-facts",
        "alert-drivers",
        "alert-history",
        "alert-play",
        "alert-escalation",
        "alert-routing",
        "alert-tasks",
        "alert-snooze",
        "alert-close",
        "alert-reopen",
    ] {
        assert!(page.contains(&format!("id=\"{section}\"")), "#{section}");
    }
    assert!(!page.contains("id=\"alert-ack\""), "already acknowledged");
    if let Some(play) = context["suggested_play"].as_object() {
        assert!(page.contains(&escape(play["because"].as_str().unwrap())));
    }
    let delivery = if detail["routing"]["interrupt"] == true {
        "At once"
    } else {
        "In the daily digest"
    };
    assert!(page.contains(delivery));
    assert_eq!(
        detail["tasks"].as_array().unwrap().len(),
        page.matches("<tr data-task-id=").count()
    );
    let missing = casey
        .get(server.url("/alerts/999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The API's changes: snooze needs a later date; close; 409 on a closed alert; reopen.
    let status_url = server.url(&format!("/api/v1/alerts/{alert_id}/status"));
    for (body, field) in [
        (json!({"status": "snoozed"}), "until"),
        (json!({"status": "snoozed", "until": "2020-01-01"}), "until"),
        (
            json!({"status": "acknowledged", "until": "2999-01-01"}),
            "until",
        ),
        (json!({"status": "resolved"}), "status"),
        (json!({"status": "closed", "extra": 1}), "body"),
    ] {
        let (status, error) = post_json(&client, status_url.clone(), &admin, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    let later = (chrono::Utc::now().date_naive() + chrono::Days::new(7)).to_string();
    let (status, snoozed) = post_json(
        &client,
        status_url.clone(),
        &admin,
        json!({"status": "snoozed", "until": later}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(snoozed["status"], "snoozed");
    assert_eq!(snoozed["snoozed_until"], later.as_str());
    let (_, closed) = post_json(
        &client,
        status_url.clone(),
        &admin,
        json!({"status": "closed", "reason": "renewal <b>signed</b>"}),
    )
    .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["close_reason"], "renewal <b>signed</b>");
    assert_eq!(closed["closed_by"], "admin");
    let (status, conflict) = post_json(
        &client,
        status_url.clone(),
        &admin,
        json!({"status": "acknowledged"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"]["code"], "conflict");
    let page = text(&casey, server.url(&format!("/alerts/{alert_id}"))).await;
    assert!(
        page.contains(&escape("renewal <b>signed</b>")),
        "the reason, escaped"
    );
    assert!(!page.contains("id=\"alert-close\""));
    let (_, reopened) = post_json(
        &client,
        status_url.clone(),
        &admin,
        json!({"status": "open"}),
    )
    .await;
    assert_eq!(reopened["status"], "open");
    assert!(reopened["closed_on"].is_null());
    let (status, body) = get_json(&client, server.url("/api/v1/alerts/12x"), &admin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "alert_id");
    let (status, _) = post_json(
        &client,
        server.url("/api/v1/alerts/999999/status"),
        &admin,
        json!({"status": "open"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Tasks through the API: snooze with a note, the note kept; bad bodies named.
    let (_, open_tasks) = get_json(&client, server.url("/api/v1/tasks"), &admin).await;
    let total_open = open_tasks["total"].as_u64().unwrap();
    assert!(total_open > 0);
    let dues: Vec<&str> = open_tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["due_on"].as_str().unwrap())
        .collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "by due date");
    let other = open_tasks["tasks"][0]["task_id"].as_i64().unwrap();
    let task_url = server.url(&format!("/api/v1/tasks/{other}"));
    let (status, snoozed) = post_json(
        &client,
        task_url.clone(),
        &admin,
        json!({"status": "snoozed", "until": later, "note": "after the QBR"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{snoozed}");
    assert_eq!(snoozed["task"]["status"], "snoozed");
    assert_eq!(snoozed["notes"][0]["note"], "after the QBR");
    assert_eq!(snoozed["notes"][0]["author"], "admin");
    for (body, field) in [
        (json!({"status": "finished"}), "status"),
        (json!({"status": "snoozed"}), "until"),
        (json!({"status": "done", "note": "x".repeat(2001)}), "note"),
    ] {
        let (status, error) = post_json(&client, task_url.clone(), &admin, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error["error"]["field"], field);
    }
    let (status, _) = post_json(
        &client,
        task_url.clone(),
        &viewer_token,
        json!({"status": "done"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // "open" lists snoozed tasks too; due_by narrows.
    let (_, still) = get_json(&client, server.url("/api/v1/tasks"), &admin).await;
    assert_eq!(still["total"].as_u64().unwrap(), total_open);
    let (_, early) = get_json(
        &client,
        server.url(&format!("/api/v1/tasks?due_by={}", end())),
        &admin,
    )
    .await;
    assert!(
        early["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["due_on"].as_str().unwrap() <= end().to_string().as_str())
    );

    // The tasks page: filters, forms with the CSRF token, Done with a note.
    let page = text(&casey, server.url(&format!("/tasks?owner={csm}"))).await;
    assert!(page.contains("id=\"tasks\"") && page.contains("class=\"task-done\""));
    assert!(page.contains(&format!("value=\"{csrf}\"")));

    // The account 360: its open alerts (linked) and open tasks with their Done buttons.
    let account = alert_item["account_id"].as_str().unwrap();
    let page = text(
        &casey,
        server.url(&format!(
            "/accounts/{}",
            coco_server::params::percent_encode(account)
        )),
    )
    .await;
    let section = &page[page.find("id=\"account-actions\"").expect("the section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains(&format!("href=\"/alerts/{alert_id}\"")));
    let (_, account_tasks) = get_json(
        &client,
        server.url(&format!("/api/v1/tasks?account={account}")),
        &admin,
    )
    .await;
    assert_eq!(
        section.matches("class=\"done\"").count() as u64,
        account_tasks["total"].as_u64().unwrap()
    );
    // The section is the viewer's: the viewer sees no buttons on the same cached page.
    let page = text(
        &viewer,
        server.url(&format!(
            "/accounts/{}",
            coco_server::params::percent_encode(account)
        )),
    )
    .await;
    assert!(page.contains("id=\"account-actions\"") && !page.contains("class=\"done\""));

    // Interventions: recorded against the alert (its profile), reported.
    let (status, recorded) = post_json(
        &client,
        server.url("/api/v1/interventions"),
        &admin,
        json!({"account_id": account, "play": detail["context"]["suggested_play"]["playbook_id"].as_str().unwrap_or("health_recovery"),
               "channel": "call", "stakeholder": "CFO", "alert_id": alert_id, "done_on": end().to_string()}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["profile"], detail["alert"]["profile"]);
    assert_eq!(recorded["recorded_by"], "admin");
    for (body, field) in [
        (
            json!({"account_id": account, "play": "no_such_play", "channel": "call", "profile": "x"}),
            "play",
        ),
        (
            json!({"account_id": account, "play": recorded["play"], "channel": "call"}),
            "profile",
        ),
        (
            json!({"account_id": account, "play": recorded["play"], "channel": "", "profile": "x"}),
            "channel",
        ),
        (
            json!({"account_id": account, "play": recorded["play"], "channel": "call", "profile": "x", "done_on": "2999-01-01"}),
            "done_on",
        ),
    ] {
        let (status, error) = post_json(
            &client,
            server.url("/api/v1/interventions"),
            &admin,
            body.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    let (status, _) = post_json(
        &client,
        server.url("/api/v1/interventions"),
        &admin,
        json!({"account_id": "acc_nope", "play": recorded["play"], "channel": "call", "profile": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, report) =
        get_json(&client, server.url("/api/v1/interventions/report"), &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["interventions"], 1);

    // The outbox: counts and messages (nothing is configured to send in the defaults).
    let (status, outbox) = get_json(&client, server.url("/api/v1/outbox"), &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert!(outbox["counts"].is_object() && outbox["messages"].is_array());
    let (status, _) = get_json(&client, server.url("/api/v1/outbox?status=lost"), &admin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Every change is in the audit log, with who made it.
    let (_, audit) = get_json(&client, server.url("/api/v1/audit"), &admin).await;
    let actions: Vec<(String, String)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (action, actor) in [
        ("alert.status", "casey"),
        ("task.update", "casey"),
        ("alert.status", "admin (token tests)"),
        ("task.update", "admin (token tests)"),
        ("intervention.record", "admin (token tests)"),
        ("run.daily", "admin (token tests)"),
    ] {
        assert!(
            actions.iter().any(|(a, who)| a == action && who == actor),
            "{action} by {actor} in {actions:?}"
        );
    }

    // The OpenAPI document has every endpoint with typed bodies.
    let (_, openapi) = get_json(&client, server.url("/api/v1/openapi.json"), &admin).await;
    for (path, method) in [
        ("/api/v1/alerts", "get"),
        ("/api/v1/alerts/{alert_id}", "get"),
        ("/api/v1/alerts/{alert_id}/status", "post"),
        ("/api/v1/tasks", "get"),
        ("/api/v1/tasks/{task_id}", "post"),
        ("/api/v1/today", "get"),
        ("/api/v1/outbox", "get"),
        ("/api/v1/runs", "get"),
        ("/api/v1/runs/daily", "post"),
        ("/api/v1/interventions", "post"),
        ("/api/v1/interventions/report", "get"),
    ] {
        assert!(
            openapi["paths"][path][method].is_object(),
            "{method} {path} in the OpenAPI document"
        );
    }
    let schemas = &openapi["components"]["schemas"];
    for name in [
        "AlertList",
        "Alert",
        "AlertDetail",
        "ContextPack",
        "Evidence",
        "AlertRouting",
        "TaskList",
        "Task",
        "TaskBody",
        "DailyList",
        "TodayItem",
        "OutboxBody",
        "RunsBody",
        "RecordedIntervention",
        "OutcomeReport",
    ] {
        assert!(schemas[name].is_object(), "schema {name}");
    }
    let text = openapi.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(schemas[name].is_object(), "dangling reference to {name}");
    }
}

/// The server's today (the date changes are recorded on).
fn common_today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// What minijinja's HTML escaping makes of a text.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// The scheduler fires a real daily run (score as of today, alerts, digests) on its
/// schedule, recorded with trigger `scheduler`, and every view moves to the new snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_runs_the_daily_run_on_its_schedule() {
    let server = start().await;
    let client = browser();
    // Once, two seconds from now (then never again: the loop ends by itself).
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let once: cron::Schedule = at
        .format("%S %M %H %d %m * %Y")
        .to_string()
        .parse()
        .unwrap();
    let scheduler =
        coco_server::scheduler::start_with(&server.state, once, std::time::Duration::from_secs(1));
    let started = std::time::Instant::now();
    let run = loop {
        let (_, runs) = get_json(&client, server.url("/api/v1/runs"), &server.admin_token).await;
        if let Some(run) = runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|r| r["trigger"] == "scheduler" && r["status"] != "running")
        {
            break run.clone();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(180),
            "no scheduled run finished: {runs}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    drop(scheduler);
    assert_eq!(run["status"], "ok", "{run}");
    assert_eq!(run["as_of"], common_today());
    let steps: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "score", "predict", "evaluate", "alerts", "digests", "deliver"
        ]
    );
    // It scored today: the portfolio shows today's snapshot.
    let (_, portfolio) = get_json(
        &client,
        server.url("/api/v1/portfolio"),
        &server.admin_token,
    )
    .await;
    assert_eq!(
        portfolio["snapshots"]["current"]["as_of"],
        common_today(),
        "{portfolio}"
    );
}

/// A configuration file that does not validate stops the server from starting, with
/// the file named.
#[tokio::test]
async fn a_bad_alerts_file_fails_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("config")).unwrap();
    std::fs::write(
        data.join("config/alerts.toml"),
        "version = \"x\"\n[[rules]]\nid = \"broken\"\n",
    )
    .unwrap();
    let store = coco_store::Store::open(&data).unwrap();
    let config = coco_engine::Config::load(None).unwrap();
    let options = coco_server::ServeOptions {
        data_dir: data.clone(),
        connections: 1,
        secure_cookies: false,
    };
    let error = match coco_server::state(store, config, &options) {
        Ok(_) => panic!("a broken alerts.toml must not start"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("alerts.toml"), "{error}");
}
