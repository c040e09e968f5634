//! The optional LLM rewrite: an OpenAI-compatible chat-completions call that rewrites a
//! template draft for tone and flow. It is off by default and sends nothing unless the
//! user has also allowed customer data to leave (`send_customer_data`), because the
//! facts and the draft are customer data.
//!
//! The rewrite is held to the same rule as the template draft: every number and date
//! must be one of the facts ([`grounding::check`]). Anything that goes wrong — settings,
//! budget, network, the server's answer, the check — falls back to the template draft
//! with a reason, so a draft can always be shown.
//!
//! Calls block (reqwest's blocking client), and that client panics when created or used
//! on a thread driving a tokio runtime: from async code, call [`enhance`] inside
//! `tokio::task::spawn_blocking`.

use coco_core::error_chain;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use thiserror::Error;

use crate::document::Locale;
use crate::facts::{FactValue, Facts};
use crate::grounding;

/// The longest a `Retry-After` is waited for: a CSM is waiting for the draft, and the
/// template draft is already there to show.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// The first back-off between attempts when the server gives no `Retry-After`; doubled
/// per attempt.
const BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(4);
/// A chat-completions answer for one document is a few kilobytes; the cap stops a
/// misbehaving server from filling memory and the audit trail.
const RESPONSE_LIMIT: u64 = 1 << 20;
/// Characters of an error body kept in a fallback reason.
const REASON_EXCERPT: usize = 200;
/// Longest accepted per-attempt timeout, in seconds.
const MAX_TIMEOUT_SECONDS: f64 = 600.0;
/// More retries than this would keep a CSM waiting for minutes on a server that is down.
const MAX_RETRIES: u32 = 10;
/// Rough per-message overhead of the chat format (role and separators), in tokens.
const MESSAGE_OVERHEAD_TOKENS: u32 = 4;

/// Settings of the rewrite (`[llm]` in `config/drafts.toml`). The API key is never
/// here: only the name of the environment variable that holds it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// Off unless the user turns it on.
    pub enabled: bool,
    /// The API root, e.g. `http://127.0.0.1:11434/v1` for a local Ollama; requests go to
    /// `{base_url}/chat/completions`.
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the key; `None` (or an empty name) for servers
    /// that need none.
    pub api_key_env: Option<String>,
    /// The facts and the draft are customer data: nothing is sent unless this is true.
    pub send_customer_data: bool,
    /// Per attempt, connect to last byte.
    pub timeout_seconds: f64,
    /// Further attempts after a timeout, a connection failure, HTTP 429 or 5xx.
    pub retries: u32,
    /// Refuse before sending when the prompt is estimated above this (see
    /// [`estimate_tokens`]).
    pub max_prompt_tokens: u32,
    /// Sent as `max_tokens`.
    pub max_completion_tokens: u32,
    pub temperature: f64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            enabled: false,
            base_url: "https://api.openai.com/v1".into(),
            model: "gpt-4o-mini".into(),
            api_key_env: Some("OPENAI_API_KEY".into()),
            send_customer_data: false,
            timeout_seconds: 30.0,
            retries: 1,
            max_prompt_tokens: 6000,
            max_completion_tokens: 1200,
            temperature: 0.3,
        }
    }
}

impl LlmConfig {
    /// Checks the settings a request depends on; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        self.endpoint()?;
        if self.model.trim().is_empty() {
            return Err("model is empty".into());
        }
        if let Some(name) = self.api_key_env.as_deref()
            && (name.contains('=') || name.contains('\0'))
        {
            return Err(format!(
                "api_key_env `{name}` is not an environment variable name"
            ));
        }
        if !(self.timeout_seconds.is_finite()
            && self.timeout_seconds > 0.0
            && self.timeout_seconds <= MAX_TIMEOUT_SECONDS)
        {
            return Err(format!(
                "timeout_seconds is {}; it must be more than 0 and at most {MAX_TIMEOUT_SECONDS}",
                self.timeout_seconds
            ));
        }
        if self.retries > MAX_RETRIES {
            return Err(format!(
                "retries is {}; at most {MAX_RETRIES}",
                self.retries
            ));
        }
        if self.max_prompt_tokens == 0 {
            return Err("max_prompt_tokens must be more than 0".into());
        }
        if self.max_completion_tokens == 0 {
            return Err("max_completion_tokens must be more than 0".into());
        }
        if !(self.temperature.is_finite() && (0.0..=2.0).contains(&self.temperature)) {
            return Err(format!(
                "temperature is {}; it must be between 0 and 2",
                self.temperature
            ));
        }
        Ok(())
    }

    /// The key named by `api_key_env`, if set and not empty. For callers: [`enhance`]
    /// takes the key as an argument so it never reads the process environment itself.
    pub fn api_key_from_env(&self) -> Option<String> {
        let name = self.api_key_env.as_deref().filter(|n| !n.is_empty())?;
        std::env::var(name).ok().filter(|k| !k.trim().is_empty())
    }

    /// `{base_url}/chat/completions`.
    fn endpoint(&self) -> Result<reqwest::Url, String> {
        let base = self.base_url.trim().trim_end_matches('/');
        let url = reqwest::Url::parse(&format!("{base}/chat/completions"))
            .map_err(|e| format!("base_url `{}` is not a URL ({e})", self.base_url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "base_url must be an http(s) URL, not {}:",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("base_url `{}` has no host", self.base_url));
        }
        // The URL goes into the audit trail; a password in it would be written there.
        if !url.username().is_empty() || url.password().is_some() {
            return Err("base_url must not contain credentials; put the key in the \
                        environment variable named by api_key_env"
                .into());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "base_url `{}` must not have a query or fragment",
                self.base_url
            ));
        }
        Ok(url)
    }

    fn timeout(&self) -> Duration {
        Duration::try_from_secs_f64(self.timeout_seconds).unwrap_or(Duration::from_secs(30))
    }
}

/// One draft to rewrite.
#[derive(Debug, Clone, Copy)]
pub struct RewriteRequest<'a> {
    /// The template draft, which has passed the grounding check.
    pub draft: &'a str,
    pub facts: &'a Facts,
    pub locale: Locale,
    /// What the draft is, for the prompt: "outreach email", "QBR deck".
    pub document: &'a str,
}

/// What went over the wire, for the audit trail. Never holds the API key.
#[derive(Debug, Clone, Serialize)]
pub struct LlmExchange {
    pub url: String,
    pub model: String,
    /// The messages sent.
    pub prompt: Value,
    /// The last answer's raw body, or the last error.
    pub response: Option<String>,
    pub attempts: u32,
    pub prompt_tokens_estimate: u32,
    pub elapsed_ms: u64,
}

/// The draft to show, and whether it is the rewrite.
#[derive(Debug, Clone, Serialize)]
pub struct Enhanced {
    /// The rewrite if it passed, else the template draft unchanged.
    pub text: String,
    pub rewritten: bool,
    /// Why the template draft is shown instead of a rewrite.
    pub fallback_reason: Option<String>,
    /// None when nothing was sent.
    pub exchange: Option<LlmExchange>,
}

/// Why there is no rewrite. The messages are the fallback reasons shown to the user, so
/// they say what to change where there is something to change.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LlmError {
    #[error("the LLM rewrite is off (llm.enabled = false)")]
    Disabled,
    #[error("not sent: the facts and draft are customer data and llm.send_customer_data is false")]
    CustomerDataNotAllowed,
    #[error("the LLM settings are invalid: {0}")]
    Config(String),
    #[error(
        "not sent: the prompt is about {estimate} tokens, over the budget of {budget} \
         (llm.max_prompt_tokens)"
    )]
    OverBudget { estimate: u32, budget: u32 },
    #[error("could not set up the request: {0}")]
    Client(String),
    #[error("the LLM server did not answer within {timeout_seconds} s ({})", tries(*.attempts))]
    Timeout { timeout_seconds: f64, attempts: u32 },
    #[error("could not reach the LLM server ({}): {message}", tries(*.attempts))]
    Transport { attempts: u32, message: String },
    #[error("the LLM server answered HTTP {status} ({}){detail}", tries(*.attempts))]
    Status {
        status: u16,
        attempts: u32,
        /// `: body excerpt`, or a hint, or nothing.
        detail: String,
    },
    #[error("the LLM answer could not be parsed: {0}")]
    Unparsable(String),
    #[error("the LLM answer was cut off at {max_tokens} tokens; raise llm.max_completion_tokens")]
    Truncated { max_tokens: u32 },
    #[error("the LLM answer was empty")]
    Empty,
    #[error("the LLM answer is not in {expected}")]
    WrongLanguage { expected: &'static str },
    #[error("the rewrite changed the document's structure: {0}")]
    Structure(String),
    #[error("the rewrite failed the grounding check: {0}")]
    Ungrounded(String),
}

fn tries(attempts: u32) -> String {
    match attempts {
        1 => "1 attempt".into(),
        n => format!("{n} attempts"),
    }
}

/// Rewrites `request.draft`; never fails: every problem falls back to the template
/// draft with a reason. `api_key` is sent as a bearer token when given; the caller reads
/// it (e.g. with [`LlmConfig::api_key_from_env`]) so this function touches no process
/// state. Blocks for up to `(retries + 1) × timeout` plus back-off.
pub fn enhance(config: &LlmConfig, request: &RewriteRequest, api_key: Option<&str>) -> Enhanced {
    let (result, exchange) = rewrite(config, request, api_key);
    match result {
        Ok(text) => Enhanced {
            text,
            rewritten: true,
            fallback_reason: None,
            exchange,
        },
        Err(error) => Enhanced {
            text: request.draft.to_owned(),
            rewritten: false,
            fallback_reason: Some(error.to_string()),
            exchange,
        },
    }
}

/// [`enhance`] without the fallback: the checked rewrite, or why there is none. The
/// exchange is there whenever a request was sent, whatever the outcome.
pub fn rewrite(
    config: &LlmConfig,
    request: &RewriteRequest,
    api_key: Option<&str>,
) -> (Result<String, LlmError>, Option<LlmExchange>) {
    if !config.enabled {
        return (Err(LlmError::Disabled), None);
    }
    if let Err(message) = config.validate() {
        return (Err(LlmError::Config(message)), None);
    }
    if !config.send_customer_data {
        return (Err(LlmError::CustomerDataNotAllowed), None);
    }
    let messages = prompt(request);
    let estimate = estimate_prompt_tokens(&messages);
    if estimate > config.max_prompt_tokens {
        return (
            Err(LlmError::OverBudget {
                estimate,
                budget: config.max_prompt_tokens,
            }),
            None,
        );
    }
    let url = match config.endpoint() {
        Ok(url) => url,
        Err(message) => return (Err(LlmError::Config(message)), None),
    };
    let client = match client(config, &url) {
        Ok(client) => client,
        Err(error) => return (Err(error), None),
    };
    let auth = match api_key.map(str::trim).filter(|k| !k.is_empty()) {
        Some(key) => match HeaderValue::from_str(&format!("Bearer {key}")) {
            Ok(mut value) => {
                value.set_sensitive(true);
                Some(value)
            }
            // The key itself stays out of the reason: reasons are logged and shown.
            Err(_) => {
                return (
                    Err(LlmError::Client(
                        "the API key contains characters an HTTP header cannot carry".into(),
                    )),
                    None,
                );
            }
        },
        None => None,
    };
    let body = json!({
        "model": config.model,
        "messages": messages,
        "temperature": config.temperature,
        "max_tokens": config.max_completion_tokens,
    });

    let started = Instant::now();
    let sent = send(config, &client, &url, auth.as_ref(), &body);
    let mut exchange = LlmExchange {
        url: url.to_string(),
        model: config.model.clone(),
        prompt: messages,
        response: None,
        attempts: sent.attempts,
        prompt_tokens_estimate: estimate,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let raw = match sent.outcome {
        Ok(raw) => raw,
        Err((error, response)) => {
            exchange.response = response;
            return (Err(error), Some(exchange));
        }
    };
    exchange.response = Some(raw.clone());
    (check_answer(config, &raw, request), Some(exchange))
}

/// The messages sent: the rules, then the facts and the draft. Public so a UI can show
/// exactly what would leave before the user allows it.
pub fn prompt(request: &RewriteRequest) -> Value {
    let language = language_name(request.locale);
    let system = format!(
        "You edit customer-success documents. Rewrite the {document} you are given for a \
         warm, consultative tone and better flow. Rules:\n\
         1. Every number and date in the draft comes from the facts. Keep each one exactly \
         as the draft writes it: same digits, rounding, unit and format. Do not round, \
         convert or recompute.\n\
         2. Do not add any number, date, name or claim that is not in the draft or the \
         facts. If you are unsure, leave the sentence as it is.\n\
         3. Keep the Markdown structure: headings, lists, tables and comment lines such as \
         `<!-- chart:NAME -->` stay where they are.\n\
         4. Write in {language}, the language of the draft.\n\
         5. Stay under the draft's length plus 20%.\n\
         6. Answer with the rewritten document only: no preamble, no code fence.",
        document = request.document.trim(),
    );
    let mut facts = String::new();
    for fact in &request.facts.items {
        let value = match &fact.value {
            FactValue::Number(n) => n.to_string(),
            FactValue::Date(d) => d.to_string(),
            // Quoted as JSON so a fact's text cannot break the list onto new lines.
            FactValue::Text(t) => Value::from(t.as_str()).to_string(),
        };
        let mut cited = vec![fact.cited.source.clone()];
        cited.extend(fact.cited.as_of.map(|d| d.to_string()));
        cited.extend(fact.cited.record.clone());
        facts.push_str(&format!(
            "- {} = {value} ({})\n",
            fact.key,
            cited.join(", ")
        ));
    }
    let user = format!(
        "Document: {document}\nLanguage: {language}\n\n\
         Facts (key = value (source, as_of, record)):\n{facts}\n\
         Draft:\n<<<DRAFT\n{draft}\nDRAFT>>>",
        document = request.document.trim(),
        draft = request.draft.trim_end(),
    );
    json!([
        {"role": "system", "content": system},
        {"role": "user", "content": user},
    ])
}

/// A rough token count, without a tokenizer: one token per CJK character (Han,
/// kana, Hangul, CJK and full-width punctuation), and one per four other characters,
/// rounded up. It errs high for English prose (about 4.5 characters a token with the
/// GPT tokenizers) and is about right for Chinese, so the budget refuses a little early
/// rather than late.
pub fn estimate_tokens(text: &str) -> u32 {
    let (cjk, other) = text.chars().fold((0u64, 0u64), |(cjk, other), c| {
        if is_cjk(c) {
            (cjk + 1, other)
        } else {
            (cjk, other + 1)
        }
    });
    u32::try_from(cjk + other.div_ceil(4)).unwrap_or(u32::MAX)
}

/// [`estimate_tokens`] over the messages' contents, plus a few tokens per message for
/// the chat format.
pub fn estimate_prompt_tokens(messages: &Value) -> u32 {
    messages
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .map(|m| {
                    let content = m.get("content").and_then(Value::as_str).unwrap_or("");
                    MESSAGE_OVERHEAD_TOKENS.saturating_add(estimate_tokens(content))
                })
                .fold(0u32, u32::saturating_add)
        })
        .unwrap_or(0)
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}'     // Hangul Jamo
        | '\u{2E80}'..='\u{2FDF}'   // CJK radicals
        | '\u{3000}'..='\u{30FF}'   // CJK punctuation, kana
        | '\u{3100}'..='\u{31FF}'   // Bopomofo, kana extensions
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}'   // Hangul syllables
        | '\u{F900}'..='\u{FAFF}'   // CJK compatibility ideographs
        | '\u{FF00}'..='\u{FFEF}'   // full-width forms
        | '\u{20000}'..='\u{3134F}' // CJK extensions B–G
    )
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3134F}')
}

fn language_name(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "English",
        Locale::Zh => "Simplified Chinese (简体中文)",
    }
}

fn client(config: &LlmConfig, url: &reqwest::Url) -> Result<Client, LlmError> {
    let timeout = config.timeout();
    let mut builder = Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("coco-drafts/", env!("CARGO_PKG_VERSION")))
        // A redirect would re-send customer data to a URL nobody configured.
        .redirect(reqwest::redirect::Policy::none());
    // A model on this machine must not be reached through a proxy from the environment:
    // that would send the data off the machine after all.
    if is_loopback(url) {
        builder = builder.no_proxy();
    }
    builder
        .build()
        .map_err(|e| LlmError::Client(error_chain(&e)))
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

struct Sent {
    attempts: u32,
    /// The 2xx body, or the error and what came back with it (body or error text).
    outcome: Result<String, (LlmError, Option<String>)>,
}

/// One failed attempt: whether another may succeed, and how long the server asked us
/// to wait.
struct Failed {
    retryable: bool,
    retry_after: Option<Duration>,
    kind: FailKind,
    response: String,
}

enum FailKind {
    Timeout,
    Transport(String),
    Status { status: StatusCode, body: String },
}

fn send(
    config: &LlmConfig,
    client: &Client,
    url: &reqwest::Url,
    auth: Option<&HeaderValue>,
    body: &Value,
) -> Sent {
    let max_attempts = config.retries.saturating_add(1);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let failed = match attempt(client, url, auth, body) {
            Ok(raw) => {
                return Sent {
                    attempts,
                    outcome: Ok(raw),
                };
            }
            Err(failed) => failed,
        };
        let too_long = failed.retry_after.filter(|wait| *wait > MAX_RETRY_AFTER);
        if !failed.retryable || attempts >= max_attempts || too_long.is_some() {
            let error = failure_error(config, failed.kind, attempts, too_long, auth.is_some());
            return Sent {
                attempts,
                outcome: Err((error, Some(failed.response))),
            };
        }
        let backoff = BACKOFF
            .saturating_mul(1 << (attempts - 1).min(8))
            .min(MAX_BACKOFF);
        std::thread::sleep(failed.retry_after.unwrap_or(backoff));
    }
}

fn attempt(
    client: &Client,
    url: &reqwest::Url,
    auth: Option<&HeaderValue>,
    body: &Value,
) -> Result<String, Failed> {
    let mut request = client
        .post(url.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string());
    if let Some(auth) = auth {
        request = request.header(AUTHORIZATION, auth.clone());
    }
    let response = request.send().map_err(transport_failure)?;
    let status = response.status();
    let retry_after = retry_after(&response);
    let text = read_body(response).map_err(|e| {
        let timeout = e.kind() == io::ErrorKind::TimedOut
            || e.get_ref()
                .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
                .is_some_and(reqwest::Error::is_timeout);
        Failed {
            retryable: true,
            retry_after: None,
            kind: if timeout {
                FailKind::Timeout
            } else {
                FailKind::Transport(format!("reading the answer failed: {e}"))
            },
            response: e.to_string(),
        }
    })?;
    if status.is_success() {
        return Ok(text);
    }
    // 429 and 5xx say "later"; any other status says the request is wrong (bad key,
    // unknown model), which a retry would repeat.
    let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
    Err(Failed {
        retryable,
        retry_after: if retryable { retry_after } else { None },
        kind: FailKind::Status {
            status,
            body: excerpt(&text, REASON_EXCERPT),
        },
        response: text,
    })
}

fn transport_failure(error: reqwest::Error) -> Failed {
    let error = error.without_url();
    let chain = error_chain(&error);
    if error.is_timeout() {
        Failed {
            retryable: true,
            retry_after: None,
            kind: FailKind::Timeout,
            response: chain,
        }
    } else {
        Failed {
            // A request that could not even be built fails the same way every time.
            retryable: !error.is_builder(),
            retry_after: None,
            kind: FailKind::Transport(chain.clone()),
            response: chain,
        }
    }
}

fn failure_error(
    config: &LlmConfig,
    kind: FailKind,
    attempts: u32,
    too_long: Option<Duration>,
    sent_key: bool,
) -> LlmError {
    match kind {
        FailKind::Timeout => LlmError::Timeout {
            timeout_seconds: config.timeout_seconds,
            attempts,
        },
        FailKind::Transport(message) => LlmError::Transport { attempts, message },
        FailKind::Status { status, body } => {
            let mut detail = String::new();
            if let Some(wait) = too_long {
                detail.push_str(&format!(
                    "; it asked to retry after {} s, longer than the {} s waited for",
                    wait.as_secs(),
                    MAX_RETRY_AFTER.as_secs()
                ));
            }
            if status == StatusCode::UNAUTHORIZED && !sent_key {
                detail.push_str(&format!(
                    "; no API key was sent: set the environment variable {}",
                    config
                        .api_key_env
                        .as_deref()
                        .filter(|name| !name.is_empty())
                        .unwrap_or("named by llm.api_key_env")
                ));
            }
            if !body.is_empty() {
                detail.push_str(": ");
                detail.push_str(&body);
            }
            LlmError::Status {
                status: status.as_u16(),
                attempts,
                detail,
            }
        }
    }
}

fn read_body(response: Response) -> io::Result<String> {
    let mut bytes = Vec::new();
    response.take(RESPONSE_LIMIT).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `Retry-After` in delay-seconds; the HTTP-date form is ignored (the back-off applies).
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The rewrite in a 2xx body, if it is one the user may be shown.
fn check_answer(
    config: &LlmConfig,
    raw: &str,
    request: &RewriteRequest,
) -> Result<String, LlmError> {
    let answer = parse_answer(raw, config.max_completion_tokens)?;
    let mut text = strip_fence(&answer, request.draft).trim().to_owned();
    if text.is_empty() {
        return Err(LlmError::Empty);
    }
    let han = |s: &str| s.chars().filter(|c| is_han(*c)).count();
    // An English draft may carry a Chinese name, so English allows as many Han
    // characters as the draft has; a Chinese rewrite without any is in another language.
    let wrong_language = match request.locale {
        Locale::Zh => han(&text) == 0,
        Locale::En => han(&text) > han(request.draft),
    };
    if wrong_language {
        return Err(LlmError::WrongLanguage {
            expected: language_name(request.locale),
        });
    }
    if request.draft.ends_with('\n') {
        text.push('\n');
    }
    let grounding = grounding::check(&text, request.facts);
    if !grounding.passed() {
        return Err(LlmError::Ungrounded(grounding.explain()));
    }
    check_structure(request.draft, &text)?;
    Ok(text)
}

/// The renderers rely on the draft's skeleton: headings become slides and sections, and
/// `<!-- chart:NAME -->` lines place charts. Comments are also where the grounding
/// check does not look, so the rewrite may not add or change any.
fn check_structure(draft: &str, rewrite: &str) -> Result<(), LlmError> {
    let (draft_headings, draft_comments) = outline(draft);
    let (headings, comments) = outline(rewrite);
    if headings != draft_headings {
        let levels = |h: &[usize]| {
            h.iter()
                .map(|level| "#".repeat(*level))
                .collect::<Vec<_>>()
                .join(" ")
        };
        return Err(LlmError::Structure(format!(
            "headings [{}] became [{}]",
            levels(&draft_headings),
            levels(&headings)
        )));
    }
    if comments != draft_comments {
        return Err(LlmError::Structure(format!(
            "comments {draft_comments:?} became {comments:?}"
        )));
    }
    Ok(())
}

/// The heading levels in order, and the HTML comments, outside code blocks.
fn outline(text: &str) -> (Vec<usize>, Vec<String>) {
    let mut headings = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let level = line.bytes().take_while(|b| *b == b'#').count();
        if (1..=6).contains(&level) && line[level..].starts_with([' ', '\t']) {
            headings.push(level);
        }
    }
    let mut comments = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        let end = rest[start..]
            .find("-->")
            .map_or(rest.len(), |i| start + i + 3);
        comments.push(
            rest[start..end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        );
        rest = &rest[end..];
    }
    (headings, comments)
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<Content>,
}

/// Most servers answer with a string; some with a list of typed parts.
#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
}

fn parse_answer(raw: &str, max_tokens: u32) -> Result<String, LlmError> {
    let completion: Completion = serde_json::from_str(raw).map_err(|e| {
        LlmError::Unparsable(format!(
            "{e} (expected a chat-completions JSON object; the body starts `{}`)",
            excerpt(raw, 80)
        ))
    })?;
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| LlmError::Unparsable("`choices` is empty".into()))?;
    if choice.finish_reason.as_deref() == Some("length") {
        return Err(LlmError::Truncated { max_tokens });
    }
    Ok(match choice.message.content {
        Some(Content::Text(text)) => text,
        Some(Content::Parts(parts)) => parts.into_iter().filter_map(|p| p.text).collect(),
        None => String::new(),
    })
}

/// The answer without a ```` ```markdown ```` fence around all of it. A draft that itself
/// starts with a fence keeps the answer's.
fn strip_fence<'a>(answer: &'a str, draft: &str) -> &'a str {
    let trimmed = answer.trim();
    if draft.trim_start().starts_with("```") {
        return trimmed;
    }
    let Some(rest) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    let Some((info, body)) = rest.split_once('\n') else {
        return trimmed;
    };
    if !matches!(
        info.trim().to_ascii_lowercase().as_str(),
        "" | "markdown" | "md"
    ) {
        return trimmed;
    }
    match body.trim_end().strip_suffix("```") {
        Some(inner) => inner.trim(),
        None => trimmed,
    }
}

/// At most `max` characters of `text`, trimmed, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_estimate_counts_cjk_characters_one_each() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert_eq!(estimate_tokens("健康分"), 3);
        // Full-width punctuation is CJK; the ASCII digits and space go by four.
        assert_eq!(estimate_tokens("健康分 53。"), 5);
        let messages = json!([{"role": "user", "content": "abcd"}, {"role": "system"}]);
        assert_eq!(
            estimate_prompt_tokens(&messages),
            2 * MESSAGE_OVERHEAD_TOKENS + 1
        );
    }

    #[test]
    fn only_a_fence_around_the_whole_answer_is_stripped() {
        let draft = "Hi";
        assert_eq!(strip_fence("```markdown\nHello\n```", draft), "Hello");
        assert_eq!(strip_fence("```md\nHello\n```\n", draft), "Hello");
        assert_eq!(strip_fence("```\nHello\n```", draft), "Hello");
        assert_eq!(strip_fence("  Hello  ", draft), "Hello");
        // Another language's code block, or an unclosed fence, is not a wrapper.
        assert_eq!(strip_fence("```python\nx\n```", draft), "```python\nx\n```");
        assert_eq!(strip_fence("```\nHello", draft), "```\nHello");
        // A draft that starts with a fence keeps the answer's.
        assert_eq!(strip_fence("```\nx\n```", "```\nx\n```"), "```\nx\n```");
    }

    #[test]
    fn the_defaults_are_off_and_private_and_valid() {
        let config = LlmConfig::default();
        assert!(!config.enabled);
        assert!(!config.send_customer_data);
        assert_eq!(config.api_key_env.as_deref(), Some("OPENAI_API_KEY"));
        assert_eq!(config.validate(), Ok(()));
        let parsed: LlmConfig = toml::from_str("enabled = true\nmodel = \"llama3.1\"")
            .expect("a partial table fills in the defaults");
        assert!(parsed.enabled);
        assert_eq!(parsed.model, "llama3.1");
        assert_eq!(parsed.base_url, config.base_url);
        // A misspelt setting is an error, not silently the default.
        let err =
            toml::from_str::<LlmConfig>("send_custmer_data = true").expect_err("unknown field");
        assert!(err.to_string().contains("send_custmer_data"), "{err}");
    }

    #[test]
    fn the_shipped_settings_parse_and_are_valid() {
        let file: toml::Table = toml::from_str(include_str!("../../../config/drafts.toml"))
            .expect("config/drafts.toml parses");
        let llm: LlmConfig = file
            .get("llm")
            .cloned()
            .expect("an [llm] table")
            .try_into()
            .expect("every [llm] key is a setting");
        assert_eq!(llm.validate(), Ok(()));
        assert!(!llm.enabled && !llm.send_customer_data);
    }

    #[test]
    fn validate_names_the_bad_setting() {
        let bad = |change: fn(&mut LlmConfig)| {
            let mut config = LlmConfig::default();
            change(&mut config);
            config.validate().expect_err("invalid")
        };
        assert!(bad(|c| c.base_url = "not a url".into()).contains("base_url"));
        assert!(bad(|c| c.base_url = "file:///tmp/v1".into()).contains("http(s)"));
        assert!(
            bad(|c| c.base_url = "https://user:pw@example.com/v1".into()).contains("credentials")
        );
        assert!(bad(|c| c.base_url = "https://example.com/v1?x=1".into()).contains("query"));
        assert!(bad(|c| c.model = " ".into()).contains("model"));
        assert!(bad(|c| c.api_key_env = Some("A=B".into())).contains("api_key_env"));
        assert!(bad(|c| c.timeout_seconds = 0.0).contains("timeout_seconds"));
        assert!(bad(|c| c.timeout_seconds = f64::NAN).contains("timeout_seconds"));
        assert!(bad(|c| c.retries = 1000).contains("retries"));
        assert!(bad(|c| c.max_prompt_tokens = 0).contains("max_prompt_tokens"));
        assert!(bad(|c| c.max_completion_tokens = 0).contains("max_completion_tokens"));
        assert!(bad(|c| c.temperature = -0.1).contains("temperature"));
        let local = LlmConfig {
            base_url: "http://127.0.0.1:11434/v1/".into(),
            ..LlmConfig::default()
        };
        assert_eq!(local.validate(), Ok(()));
        assert_eq!(
            local.endpoint().map(|u| u.to_string()),
            Ok("http://127.0.0.1:11434/v1/chat/completions".into())
        );
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        let loopback = |u: &str| is_loopback(&reqwest::Url::parse(u).expect("url"));
        assert!(loopback("http://127.0.0.1:11434/v1"));
        assert!(loopback("http://localhost:8080/v1"));
        assert!(loopback("http://[::1]:8080/v1"));
        assert!(!loopback("https://api.openai.com/v1"));
        assert!(!loopback("http://10.0.0.5:11434/v1"));
    }

    #[test]
    fn the_outline_is_headings_and_comments_outside_code() {
        let text = "# Title\n\n## Usage\n<!-- chart:usage_12w -->\n```\n# not a heading\n```\n\
                    #hashtag\n### Next steps";
        assert_eq!(
            outline(text),
            (vec![1, 2, 3], vec!["<!-- chart:usage_12w -->".to_string()])
        );
        assert!(check_structure(text, &text.replace("Usage", "How you use it")).is_ok());
        assert!(check_structure(text, &text.replace("## Usage", "Usage")).is_err());
        assert!(check_structure(text, &text.replace("usage_12w", "usage_4w")).is_err());
    }
}
