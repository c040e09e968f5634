//! The real protocol peers of the notifier tests: an HTTP/1.1 receiver on loopback
//! (std sockets, so a test can make it slow, failing or absent) and an SMTP server
//! (aiosmtpd, started from `smtp_sink.py`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A port nothing listens on (bound, read, released). Another process could take it
/// in between, but the kernel hands out ephemeral ports in turn, so not within a test.
pub fn unused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

// ---------------------------------------------------------------------------------
// HTTP

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first header of that name (names compare case-insensitively, as in HTTP).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

struct Shared {
    stop: AtomicBool,
    reply: Mutex<Reply>,
    requests: Mutex<Vec<Recorded>>,
}

/// An HTTP/1.1 server on 127.0.0.1 that records every request and answers what it is
/// told (200 with an empty body until then). One connection per request.
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        Receiver::serve(TcpListener::bind("127.0.0.1:0").expect("bind the receiver"))
    }

    /// On a given port, e.g. one a sender already failed to reach.
    pub fn start_on(port: u16) -> Receiver {
        Receiver::serve(TcpListener::bind(("127.0.0.1", port)).expect("bind the receiver's port"))
    }

    fn serve(listener: TcpListener) -> Receiver {
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            reply: Mutex::new(Reply {
                status: 200,
                headers: Vec::new(),
                body: String::new(),
                delay: Duration::ZERO,
            }),
            requests: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accept_shared);
                // Detached: a connection held by a slow reply must not delay the next.
                thread::spawn(move || handle(stream, &shared));
            }
        });
        Receiver {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Answer every later request with this status, extra headers and body.
    pub fn reply(&self, status: u16, headers: &[(&str, &str)], body: &str) {
        let mut reply = self.shared.reply.lock().expect("reply lock");
        reply.status = status;
        reply.headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        reply.body = body.to_owned();
    }

    /// Wait this long (after reading the request) before answering.
    pub fn delay(&self, delay: Duration) {
        self.shared.reply.lock().expect("reply lock").delay = delay;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().expect("requests lock").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the blocking accept so the thread sees the flag and drops the listener.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn handle(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    shared.requests.lock().expect("requests lock").push(request);
    let reply = shared.reply.lock().expect("reply lock").clone();
    if !reply.delay.is_zero() {
        thread::sleep(reply.delay);
    }
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // The client may have given up (the timeout test); nothing to do about it here.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(reply.body.as_bytes());
    let _ = stream.flush();
}

fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let method = words.next()?.to_owned();
    let path = words.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

// ---------------------------------------------------------------------------------
// SMTP

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter that has aiosmtpd: `COCO_TEST_PYTHON`, else `target/pyenv/bin/python`
/// (what `make test-deps` creates). `None` only when it is missing and
/// `COCO_SKIP_SMTP_TESTS=1` says so: a missing peer must fail loudly, not pass.
pub fn python() -> Option<PathBuf> {
    let candidate = match std::env::var_os("COCO_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join("target/pyenv/bin/python"),
    };
    if let Some(found) = resolve(&candidate) {
        return Some(found);
    }
    if std::env::var("COCO_SKIP_SMTP_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "skipping: no Python for the SMTP server at {} (COCO_SKIP_SMTP_TESTS=1)",
            candidate.display()
        );
        return None;
    }
    panic!(
        "no Python for the test SMTP server at {}: run `make test-deps` (creates target/pyenv \
         with aiosmtpd), or set COCO_TEST_PYTHON to an interpreter that has aiosmtpd \
         (COCO_SKIP_SMTP_TESTS=1 skips these tests instead)",
        candidate.display()
    );
}

/// A path as given, or a bare name looked up on PATH.
fn resolve(candidate: &Path) -> Option<PathBuf> {
    if candidate.components().count() > 1 {
        return candidate.is_file().then(|| candidate.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(candidate))
        .find(|p| p.is_file())
}

/// One message the SMTP server accepted: its raw bytes and what Python's MIME parser
/// read from them (see `smtp_sink.py`).
#[derive(Debug, Clone)]
pub struct StoredMail {
    pub raw: Vec<u8>,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub content_type: String,
    pub headers: BTreeMap<String, Option<String>>,
    /// (content type, decoded content) of each leaf part, in order.
    pub parts: Vec<(String, String)>,
}

impl StoredMail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.as_deref())
    }
}

/// aiosmtpd on 127.0.0.1, storing what it accepts in a temporary directory.
pub struct SmtpSink {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    /// `None` when the tests are to be skipped (see [`python`]).
    pub fn start() -> Option<SmtpSink> {
        let python = python()?;
        let dir = tempfile::tempdir().expect("temporary directory");
        // From the workspace root: the CLI's tests share this module.
        let script = workspace_root().join("crates/coco-actions/tests/support/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {} {}: {e}", python.display(), script.display()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let Some(port) = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse::<u16>().ok())
        else {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "the SMTP sink did not start (printed {line:?}, exit {status:?}); is aiosmtpd \
                 installed for {}? run `make test-deps`",
                python.display()
            );
        };
        let sink = SmtpSink {
            child,
            stdin,
            port,
            dir,
        };
        sink.wait_until_listening();
        Some(sink)
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the SMTP sink never accepted connections"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message stored so far, in arrival order.
    pub fn messages(&self) -> Vec<StoredMail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read the sink directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names.iter().map(|json| load(json)).collect()
    }
}

fn load(json: &Path) -> StoredMail {
    let text = std::fs::read_to_string(json).expect("read the stored envelope");
    let value: serde_json::Value = serde_json::from_str(&text).expect("the sink writes JSON");
    let raw = std::fs::read(json.with_extension("eml")).expect("read the stored message");
    let string = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    StoredMail {
        raw,
        mail_from: string(&value["mail_from"]),
        rcpt_tos: value["rcpt_tos"]
            .as_array()
            .into_iter()
            .flatten()
            .map(string)
            .collect(),
        content_type: string(&value["content_type"]),
        headers: value["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned)))
            .collect(),
        parts: value["parts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| (string(&p["content_type"]), string(&p["content"])))
            .collect(),
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Closing stdin is the sink's signal to stop; kill only if it does not.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
