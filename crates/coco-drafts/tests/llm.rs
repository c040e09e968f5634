//! The LLM rewrite against a real OpenAI-compatible server on loopback: a small HTTP/1.1
//! server in a thread that records every request and answers `/chat/completions` as each
//! test tells it to. Nothing here needs the internet.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use coco_drafts::document::Locale;
use coco_drafts::facts::{Citation, FactValue, Facts};
use coco_drafts::grounding;
use coco_drafts::llm::{Enhanced, LlmConfig, RewriteRequest, enhance, estimate_prompt_tokens};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    /// Lower-cased names.
    headers: HashMap<String, String>,
    body: String,
    at: Instant,
}

impl Recorded {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the client sent JSON")
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    fn ok(body: String) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body,
            delay: Duration::ZERO,
        }
    }

    fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

type Behaviour = dyn Fn(usize, &Recorded) -> Reply + Send + Sync;

struct Server {
    base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    /// Answers the n-th request (0-based) with `behaviour(n, request)`.
    fn start(behaviour: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base_url = format!("http://{}/v1", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let behaviour: Arc<Behaviour> = Arc::new(behaviour);
        let recorded = Arc::clone(&requests);
        // The thread outlives the test on purpose: it ends with the test process, and a
        // connection still sleeping in a timeout test must not hold the test up.
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let recorded = Arc::clone(&recorded);
                let behaviour = Arc::clone(&behaviour);
                thread::spawn(move || handle(stream, &recorded, &*behaviour));
            }
        });
        Server { base_url, requests }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }
}

fn handle(stream: TcpStream, recorded: &Mutex<Vec<Recorded>>, behaviour: &Behaviour) {
    let Some(request) = read_request(&stream) else {
        return;
    };
    let index = {
        let mut all = recorded.lock().expect("lock");
        all.push(request.clone());
        all.len() - 1
    };
    let reply = behaviour(index, &request);
    thread::sleep(reply.delay);
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    // After a client timeout the peer is gone; that is the point of the test.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(reply.body.as_bytes());
    let _ = stream.flush();
}

fn read_request(stream: &TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        path,
        headers,
        body: String::from_utf8(body).ok()?,
        at: Instant::now(),
    })
}

/// A chat-completions answer whose message is `content`.
fn completion(content: &str) -> String {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 300, "completion_tokens": 90, "total_tokens": 390}
    })
    .to_string()
}

fn facts() -> Facts {
    let as_of = NaiveDate::from_ymd_opt(2026, 10, 31);
    let cite = |source: &str, record: Option<&str>| Citation {
        source: source.into(),
        as_of,
        record: record.map(Into::into),
    };
    let mut f = Facts::default();
    f.push(
        "account.name",
        FactValue::Text("Northwind Traders".into()),
        cite("accounts.name", Some("accounts acc_00042")),
    );
    f.push(
        "health.score",
        FactValue::Number(52.81),
        cite("health_score", None),
    );
    f.push(
        "usage.seat_utilisation",
        FactValue::Number(0.9734),
        cite("seat_utilisation_30d", None),
    );
    f.push(
        "contract.arr",
        FactValue::Number(10800.0),
        cite("contracts.arr", Some("contracts c_0042")),
    );
    f.push(
        "contract.renewal",
        FactValue::Date(NaiveDate::from_ymd_opt(2026, 12, 28).expect("date")),
        cite("contracts.end_date", Some("contracts c_0042")),
    );
    f.push(
        "support.open_tickets",
        FactValue::Number(3.0),
        cite("open_tickets", Some("tickets T-1042")),
    );
    f
}

const DRAFT: &str = "\
## Northwind Traders: check-in before renewal

Hi Dana,

Your renewal is on 2026-12-28. Seats are 97% used and the health score is 53.
Annual recurring revenue is $10,800.

- There are 3 open tickets.
- We would like to review the adoption plan with you.

Best,
Sam
";

const GOOD_REWRITE: &str = "\
## Northwind Traders: check-in before renewal

Hi Dana,

I hope things are going well! As we look ahead to your renewal on 2026-12-28, it is great \
to see your team using 97% of its seats, with a health score of 53. Your annual recurring \
revenue stands at $10,800.

- We are working through the 3 open tickets.
- I would love to walk through the adoption plan together.

Warm regards,
Sam";

const DRAFT_ZH: &str = "\
## Northwind Traders 续约前沟通

您好，

续约日期为 2026-12-28。席位使用率 97%，健康分 53。
";

fn request<'a>(facts: &'a Facts) -> RewriteRequest<'a> {
    RewriteRequest {
        draft: DRAFT,
        facts,
        locale: Locale::En,
        document: "outreach email",
    }
}

fn config(server: &Server) -> LlmConfig {
    LlmConfig {
        enabled: true,
        base_url: server.base_url.clone(),
        model: "test-model".into(),
        api_key_env: Some("COCO_TEST_LLM_KEY".into()),
        send_customer_data: true,
        timeout_seconds: 2.0,
        retries: 1,
        max_prompt_tokens: 4000,
        max_completion_tokens: 700,
        temperature: 0.3,
    }
}

fn assert_fell_back(enhanced: &Enhanced) -> &str {
    assert!(!enhanced.rewritten, "{enhanced:#?}");
    assert_eq!(
        enhanced.text, DRAFT,
        "the template draft is shown unchanged"
    );
    enhanced
        .fallback_reason
        .as_deref()
        .expect("a fallback says why")
}

#[test]
fn the_template_draft_itself_passes_grounding() {
    let g = grounding::check(DRAFT, &facts());
    assert!(g.passed(), "{}", g.explain());
    assert!(g.claims.len() >= 5, "{:?}", g.claims);
    let g = grounding::check(GOOD_REWRITE, &facts());
    assert!(g.passed(), "{}", g.explain());
}

#[test]
fn a_grounded_rewrite_is_shown_and_the_exchange_records_what_was_sent() {
    let server = Server::start(|_, _| Reply::ok(completion(GOOD_REWRITE)));
    let facts = facts();
    let enhanced = enhance(&config(&server), &request(&facts), Some("sk-test-123"));

    assert!(enhanced.rewritten, "{enhanced:#?}");
    assert_eq!(enhanced.fallback_reason, None);
    // The draft ends with a newline, so the rewrite does too.
    assert_eq!(enhanced.text, format!("{GOOD_REWRITE}\n"));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.headers.get("authorization").map(String::as_str),
        Some("Bearer sk-test-123")
    );
    assert!(
        sent.headers
            .get("content-type")
            .is_some_and(|v| v.starts_with("application/json"))
    );
    let body = sent.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["max_tokens"], 700);
    assert_eq!(body["temperature"], 0.3);
    let messages = body["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages[1]["role"], "user");
    let system = messages[0]["content"].as_str().expect("system text");
    for rule in [
        "exactly",
        "Do not add any number, date, name or claim",
        "Markdown",
        "English",
        "20%",
        "outreach email",
    ] {
        assert!(
            system.contains(rule),
            "system message lacks {rule:?}: {system}"
        );
    }
    let user = messages[1]["content"].as_str().expect("user text");
    for fact in [
        "- health.score = 52.81 (health_score, 2026-10-31)",
        "- usage.seat_utilisation = 0.9734 (seat_utilisation_30d, 2026-10-31)",
        "- contract.arr = 10800 (contracts.arr, 2026-10-31, contracts c_0042)",
        "- contract.renewal = 2026-12-28 (contracts.end_date, 2026-10-31, contracts c_0042)",
        "- account.name = \"Northwind Traders\" (accounts.name, 2026-10-31, accounts acc_00042)",
        "- support.open_tickets = 3 (open_tickets, 2026-10-31, tickets T-1042)",
    ] {
        assert!(user.contains(fact), "user message lacks {fact:?}: {user}");
    }
    assert!(user.contains(DRAFT.trim_end()), "the draft is sent whole");

    let exchange = enhanced
        .exchange
        .expect("an exchange when something was sent");
    assert_eq!(
        exchange.url,
        format!("{}/chat/completions", server.base_url)
    );
    assert_eq!(exchange.model, "test-model");
    assert_eq!(
        &exchange.prompt, &body["messages"],
        "the audit has the messages sent"
    );
    assert_eq!(
        exchange.response.as_deref(),
        Some(completion(GOOD_REWRITE).as_str())
    );
    assert_eq!(exchange.attempts, 1);
    assert_eq!(
        exchange.prompt_tokens_estimate,
        estimate_prompt_tokens(&body["messages"])
    );
    assert!(exchange.prompt_tokens_estimate > 100);
    // The audit trail is serialisable and never holds the key.
    let audit = serde_json::to_string(&exchange).expect("serialise");
    assert!(!audit.contains("sk-test-123"));
}

#[test]
fn a_rewrite_with_a_hallucinated_number_falls_back_and_names_it() {
    let bad = GOOD_REWRITE.replace(
        "with a health score of 53.",
        "with a health score of 53, and usage grew 40% this quarter.",
    );
    let answer = completion(&bad);
    let server = Server::start(move |_, _| Reply::ok(answer.clone()));
    let facts = facts();
    let enhanced = enhance(&config(&server), &request(&facts), Some("sk-test"));

    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("grounding"), "{reason}");
    assert!(reason.contains("`40%`"), "{reason}");
    // The offset is into the rewrite, where the claim was made.
    let at = bad.find("40%").expect("in the rewrite");
    assert!(reason.contains(&format!("at byte {at}")), "{reason}");
    assert!(
        !reason.contains("`53`"),
        "grounded numbers are not blamed: {reason}"
    );
    let exchange = enhanced.exchange.expect("it was sent");
    assert!(exchange.response.is_some_and(|r| r.contains("40%")));
    assert_eq!(
        server.requests().len(),
        1,
        "a refused rewrite is not retried"
    );
}

#[test]
fn a_timeout_is_retried_then_falls_back_with_the_attempts() {
    let server = Server::start(|_, _| Reply {
        delay: Duration::from_millis(1500),
        ..Reply::ok(completion(GOOD_REWRITE))
    });
    let facts = facts();
    let config = LlmConfig {
        timeout_seconds: 0.5,
        retries: 1,
        ..config(&server)
    };
    let started = Instant::now();
    let enhanced = enhance(&config, &request(&facts), None);
    let elapsed = started.elapsed();

    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("did not answer within 0.5 s"), "{reason}");
    assert!(reason.contains("2 attempts"), "{reason}");
    assert_eq!(server.requests().len(), 2, "retries = 1 means two attempts");
    let exchange = enhanced.exchange.expect("it was sent");
    assert_eq!(exchange.attempts, 2);
    // Two 0.5 s timeouts and a short back-off, not the server's 1.5 s each.
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
}

#[test]
fn a_server_error_is_retried_and_the_second_answer_is_used() {
    let server = Server::start(|n, _| match n {
        0 => Reply::status(500, r#"{"error":{"message":"model is loading"}}"#),
        _ => Reply::ok(completion(GOOD_REWRITE)),
    });
    let facts = facts();
    let enhanced = enhance(&config(&server), &request(&facts), Some("sk-test"));

    assert!(enhanced.rewritten, "{enhanced:#?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body, requests[1].body,
        "the retry sends the same request"
    );
    assert_eq!(enhanced.exchange.expect("sent").attempts, 2);
}

#[test]
fn retry_after_is_honoured() {
    let server = Server::start(|n, _| match n {
        0 => Reply {
            headers: vec![("Retry-After", "1".into())],
            ..Reply::status(429, r#"{"error":{"message":"rate limited"}}"#)
        },
        _ => Reply::ok(completion(GOOD_REWRITE)),
    });
    let facts = facts();
    let enhanced = enhance(&config(&server), &request(&facts), None);

    assert!(enhanced.rewritten, "{enhanced:#?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].at.duration_since(requests[0].at);
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
}

#[test]
fn a_retry_after_beyond_the_cap_is_not_waited_for() {
    let server = Server::start(|_, _| Reply {
        headers: vec![("Retry-After", "3600".into())],
        ..Reply::status(429, r#"{"error":{"message":"quota exceeded"}}"#)
    });
    let facts = facts();
    let started = Instant::now();
    let enhanced = enhance(&config(&server), &request(&facts), None);

    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("HTTP 429"), "{reason}");
    assert!(reason.contains("retry after 3600 s"), "{reason}");
    assert!(
        reason.contains("quota exceeded"),
        "the server's message is kept: {reason}"
    );
    assert_eq!(server.requests().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_client_error_is_not_retried_and_a_missing_key_is_named() {
    let server = Server::start(|_, _| {
        Reply::status(401, r#"{"error":{"message":"Incorrect API key provided"}}"#)
    });
    let facts = facts();
    let enhanced = enhance(&config(&server), &request(&facts), None);

    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("HTTP 401 (1 attempt)"), "{reason}");
    assert!(reason.contains("COCO_TEST_LLM_KEY"), "{reason}");
    assert!(reason.contains("Incorrect API key"), "{reason}");
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "a 401 would fail the same way again");
    assert!(
        !requests[0].headers.contains_key("authorization"),
        "no key, no header"
    );
}

#[test]
fn a_disabled_config_sends_nothing_and_says_it_is_off() {
    let server = Server::start(|_, _| Reply::ok(completion(GOOD_REWRITE)));
    let facts = facts();
    let config = LlmConfig {
        enabled: false,
        ..config(&server)
    };
    let enhanced = enhance(&config, &request(&facts), Some("sk-test"));

    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("off"), "{reason}");
    assert!(reason.contains("llm.enabled"), "{reason}");
    assert!(enhanced.exchange.is_none());
    assert_eq!(server.requests().len(), 0);
    // The default is off too.
    let enhanced = enhance(&LlmConfig::default(), &request(&facts), Some("sk-test"));
    assert!(!enhanced.rewritten && enhanced.exchange.is_none());
}

#[test]
fn customer_data_is_not_sent_unless_allowed() {
    let server = Server::start(|_, _| Reply::ok(completion(GOOD_REWRITE)));
    let facts = facts();
    let config = LlmConfig {
        send_customer_data: false,
        ..config(&server)
    };
    let enhanced = enhance(&config, &request(&facts), Some("sk-test"));

    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("send_customer_data"), "{reason}");
    assert!(enhanced.exchange.is_none());
    assert_eq!(server.requests().len(), 0);
}

#[test]
fn a_prompt_over_the_token_budget_is_not_sent() {
    let server = Server::start(|_, _| Reply::ok(completion(GOOD_REWRITE)));
    let facts = facts();
    let config = LlmConfig {
        max_prompt_tokens: 100,
        ..config(&server)
    };
    let enhanced = enhance(&config, &request(&facts), Some("sk-test"));

    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("over the budget of 100"), "{reason}");
    assert!(reason.contains("max_prompt_tokens"), "{reason}");
    assert!(enhanced.exchange.is_none());
    assert_eq!(server.requests().len(), 0);
}

#[test]
fn invalid_settings_send_nothing() {
    let server = Server::start(|_, _| Reply::ok(completion(GOOD_REWRITE)));
    let facts = facts();
    let config = LlmConfig {
        base_url: "ftp://127.0.0.1/v1".into(),
        ..config(&server)
    };
    let enhanced = enhance(&config, &request(&facts), Some("sk-test"));
    let reason = assert_fell_back(&enhanced);
    assert!(
        reason.contains("invalid") && reason.contains("http(s)"),
        "{reason}"
    );
    assert_eq!(server.requests().len(), 0);
}

#[test]
fn a_garbage_body_falls_back_with_the_reason() {
    let server = Server::start(|_, _| Reply::ok("<html>502 Bad Gateway</html>{".into()));
    let facts = facts();
    let enhanced = enhance(&config(&server), &request(&facts), Some("sk-test"));

    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("could not be parsed"), "{reason}");
    assert!(
        reason.contains("<html>502"),
        "the reason shows the body's start: {reason}"
    );
    let exchange = enhanced.exchange.expect("it was sent");
    assert_eq!(
        exchange.response.as_deref(),
        Some("<html>502 Bad Gateway</html>{")
    );

    // Valid JSON that is not a completion is refused the same way.
    let server = Server::start(|_, _| Reply::ok(r#"{"choices":[]}"#.into()));
    let enhanced = enhance(&config(&server), &request(&facts), Some("sk-test"));
    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("`choices` is empty"), "{reason}");
}

#[test]
fn an_empty_answer_is_refused() {
    let server = Server::start(|_, _| Reply::ok(completion("  \n```markdown\n\n```\n")));
    let facts = facts();
    let enhanced = enhance(&config(&server), &request(&facts), Some("sk-test"));
    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("empty"), "{reason}");
}

#[test]
fn a_truncated_answer_is_refused() {
    let body = json!({
        "choices": [{
            "message": {"role": "assistant", "content": "## Northwind Traders: check-in"},
            "finish_reason": "length"
        }]
    })
    .to_string();
    let server = Server::start(move |_, _| Reply::ok(body.clone()));
    let facts = facts();
    let enhanced = enhance(&config(&server), &request(&facts), Some("sk-test"));
    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("cut off at 700 tokens"), "{reason}");
}

#[test]
fn a_wrapping_markdown_fence_is_stripped() {
    let fenced = format!("```markdown\n{GOOD_REWRITE}\n```");
    let answer = completion(&fenced);
    let server = Server::start(move |_, _| Reply::ok(answer.clone()));
    let facts = facts();
    let enhanced = enhance(&config(&server), &request(&facts), Some("sk-test"));
    assert!(enhanced.rewritten, "{enhanced:#?}");
    assert_eq!(enhanced.text, format!("{GOOD_REWRITE}\n"));
}

#[test]
fn a_chinese_draft_is_asked_for_and_held_to_chinese() {
    let rewrite_zh = "## Northwind Traders 续约前沟通\n\n您好！\n\n贵司的续约日期是 \
                      2026-12-28。目前席位使用率达到 97%，健康分为 53，表现很好。";
    let server = Server::start(move |n, _| match n {
        0 => Reply::ok(completion(rewrite_zh)),
        // A rewrite in the wrong language, grounded or not, is not shown.
        _ => Reply::ok(completion(
            "Hello! Your renewal is on 2026-12-28, seats are 97% used.",
        )),
    });
    let facts = facts();
    let request = RewriteRequest {
        draft: DRAFT_ZH,
        facts: &facts,
        locale: Locale::Zh,
        document: "outreach email",
    };
    let enhanced = enhance(&config(&server), &request, Some("sk-test"));
    assert!(enhanced.rewritten, "{enhanced:#?}");
    assert_eq!(enhanced.text, format!("{rewrite_zh}\n"));
    let system = server.requests()[0].json()["messages"][0]["content"]
        .as_str()
        .expect("system text")
        .to_owned();
    assert!(system.contains("Simplified Chinese"), "{system}");

    let enhanced = enhance(&config(&server), &request, Some("sk-test"));
    assert!(!enhanced.rewritten);
    assert_eq!(enhanced.text, DRAFT_ZH);
    let reason = enhanced.fallback_reason.expect("a reason");
    assert!(reason.contains("not in Simplified Chinese"), "{reason}");
}

#[test]
fn an_unreachable_server_falls_back_after_the_retries() {
    // A port that was just free: nothing listens there, so the connection is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    let facts = facts();
    let config = LlmConfig {
        enabled: true,
        send_customer_data: true,
        base_url: format!("http://127.0.0.1:{port}/v1/"),
        api_key_env: None,
        timeout_seconds: 1.0,
        ..LlmConfig::default()
    };
    let enhanced = enhance(&config, &request(&facts), None);
    let reason = assert_fell_back(&enhanced);
    assert!(reason.contains("could not reach"), "{reason}");
    assert!(reason.contains("2 attempts"), "{reason}");
    let exchange = enhanced.exchange.expect("an attempt was made");
    // The trailing slash of base_url is not doubled.
    assert_eq!(
        exchange.url,
        format!("http://127.0.0.1:{port}/v1/chat/completions")
    );
}

#[test]
fn a_rewrite_that_drops_a_heading_or_a_chart_is_refused() {
    let draft = format!("{DRAFT}\n## Usage\n\n<!-- chart:usage_12w -->\n");
    let answers = [
        // The heading is gone.
        GOOD_REWRITE.replacen("## Northwind Traders: check-in before renewal\n\n", "", 1)
            + "\n\n## Usage\n\n<!-- chart:usage_12w -->",
        // The chart placeholder is gone.
        format!("{GOOD_REWRITE}\n\n## Usage\n\nUsage is steady."),
    ];
    let bodies: Vec<String> = answers.iter().map(|a| completion(a)).collect();
    let server = Server::start(move |n, _| Reply::ok(bodies[n.min(1)].clone()));
    let facts = facts();
    let request = RewriteRequest {
        draft: &draft,
        ..request(&facts)
    };
    for expected in ["headings", "comments"] {
        let enhanced = enhance(&config(&server), &request, Some("sk-test"));
        assert!(!enhanced.rewritten);
        assert_eq!(enhanced.text, draft);
        let reason = enhanced.fallback_reason.expect("a reason");
        assert!(
            reason.contains("structure") && reason.contains(expected),
            "{reason}"
        );
    }
}
