//! The HTTP API in-process: the router on 127.0.0.1:0 over an SQLite store in a temp dir, and
//! no workers — each test drives the queue by hand (`claim`, `add_test_result`, `finish`) so
//! submissions progress deterministically.
//!
//! Privileged: the API's `Judge` needs a sandbox (root). Run inside a throwaway namespace:
//! `unshare -m -p -f --mount-proc cargo test -p judge-api --test service_api`.

use std::collections::BTreeSet;
use std::future::IntoFuture;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use judge_api::judge::Judge;
use judge_api::language::LanguageTable;
use judge_api::service::api::{self, AppState};
use judge_api::service::model::{Claim, Outcome, Role};
use judge_api::service::settings;
use judge_api::service::store::Store;
use judge_api::service::ServiceConfig;
use judge_api::verdict::{SubmissionResult, TestResult, Verdict};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// The service under test

/// One judge (one sandbox) per test process, `None` (with a note) when it cannot start.
fn judge() -> Option<Arc<Judge>> {
    static JUDGE: OnceLock<Option<Arc<Judge>>> = OnceLock::new();
    JUDGE
        .get_or_init(|| match runner::Sandbox::with_defaults() {
            Ok(sandbox) => {
                let work = std::env::temp_dir().join(format!("judge-service-api-{}", std::process::id()));
                Some(Arc::new(Judge::new(Arc::new(sandbox), LanguageTable::builtin(), work)))
            }
            Err(e) => {
                assert!(std::env::var_os("CI").is_none(), "the service API tests need the sandbox: {e}");
                eprintln!("SKIPPED: the service API tests need the sandbox (root; run inside unshare): {e}");
                None
            }
        })
        .clone()
}

struct Env {
    _tmp: tempfile::TempDir,
    store: Store,
    base: String,
    client: reqwest::Client,
    admin: String,
    submitter: String,
    secret: String,
}

async fn start() -> Option<Env> {
    start_with(|_| {}).await
}

async fn start_with(tweak: impl FnOnce(&mut ServiceConfig)) -> Option<Env> {
    let judge = judge()?;
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServiceConfig::new("127.0.0.1:0".parse().unwrap(), tmp.path().join("data"));
    config.workers = 0;
    tweak(&mut config);
    let store = Store::open(&config.database_url()).await.unwrap();
    let admin = store.add_token(Role::Admin, "test admin").await.unwrap();
    let submitter = store.add_token(Role::Submitter, "test submitter").await.unwrap();
    let secret = "worker-secret-for-tests".to_string();
    store.set_setting(settings::WORKER_SECRET, &secret).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = api::router(AppState { store: store.clone(), judge, config: Arc::new(config) });
    tokio::spawn(axum::serve(listener, app).into_future());
    Some(Env { _tmp: tmp, store, base, client: reqwest::Client::new(), admin, submitter, secret })
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts the one error shape and returns (code, message).
    fn error(&self, status: StatusCode) -> (String, String) {
        assert_eq!(self.status, status, "{}", String::from_utf8_lossy(&self.body));
        let v = self.json();
        let (Some(code), Some(message)) = (v["error"]["code"].as_str(), v["error"]["message"].as_str()) else {
            panic!("not the error shape: {v}");
        };
        assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
        (code.to_string(), message.to_string())
    }
}

impl Env {
    async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Vec<u8>>) -> Reply {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b);
        }
        let resp = rb.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.unwrap().to_vec();
        Reply { status, headers, body }
    }

    async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Reply {
        self.request(method, path, Some(token), body.map(|b| serde_json::to_vec(&b).unwrap())).await
    }

    /// A problem stored directly (the package is not unpacked by these tests' submissions).
    async fn fake_problem(&self, name: &str) -> String {
        let version = format!("{:0>64}", format!("{:x}", name.len() * 7919 + name.bytes().map(usize::from).sum::<usize>()));
        self.store.put_problem(name, &version, Some("A test problem"), 3, b"\x1f\x8bnot really a package").await.unwrap();
        version
    }

    async fn submit(&self, body: Value) -> i64 {
        let r = self.call(Method::POST, "/v1/submissions", &self.submitter, Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.body));
        r.json()["id"].as_i64().unwrap()
    }

    async fn claim(&self) -> Claim {
        self.store.claim("test-worker", Duration::from_secs(60)).await.unwrap().expect("a queued submission to claim")
    }
}

fn test_result(i: usize) -> TestResult {
    TestResult {
        name: format!("secret/{i:03}"),
        verdict: Verdict::AC,
        cpu_time_ms: 10 + i as u64,
        wall_time_ms: 20 + i as u64,
        memory_bytes: 1 << 20,
        message: String::new(),
        score: None,
    }
}

fn judged(tests: Vec<TestResult>) -> Outcome {
    Outcome::Judged(SubmissionResult {
        verdict: Verdict::AC,
        score: 1.0,
        max_cpu_time_ms: 12,
        max_memory_bytes: 1 << 20,
        compile_message: String::new(),
        language: "python".into(),
        time_limit_ms: 1000,
        tests,
    })
}

fn submission(problem: &str) -> Value {
    json!({"problem": problem, "language": "python", "source": "print(1)\n"})
}

// ---------------------------------------------------------------------------------------------
// Server-Sent Events

struct Sse {
    resp: reqwest::Response,
    buf: String,
}

impl Sse {
    /// The next event (name, JSON data); `None` when the stream ended.
    async fn next(&mut self) -> Option<(String, Value)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some((name, serde_json::from_str(&data).unwrap_or_else(|e| panic!("event data is not JSON ({e}): {data}"))));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Err(_) => panic!("no SSE event within 20 s; buffered: {:?}", self.buf),
                Ok(Ok(Some(chunk))) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(Ok(None)) => return None,
                Ok(Err(e)) => panic!("SSE stream: {e}"),
            }
        }
    }

    async fn expect(&mut self, name: &str) -> Value {
        match self.next().await {
            Some((n, data)) if n == name => data,
            other => panic!("expected a {name} event, got {other:?}"),
        }
    }
}

async fn events(env: &Env, id: i64) -> Sse {
    let resp = env.client.get(format!("{}/v1/submissions/{id}/events", env.base)).bearer_auth(&env.submitter).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    Sse { resp, buf: String::new() }
}

// ---------------------------------------------------------------------------------------------
// Auth and the error shape

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_missing_unknown_and_wrong_role() {
    let Some(env) = start().await else { return };
    env.fake_problem("p").await;

    let r = env.request(Method::GET, "/v1/problems", None, None).await;
    let (code, _) = r.error(StatusCode::UNAUTHORIZED);
    assert_eq!(code, "unauthorized");
    assert_eq!(r.headers["www-authenticate"], "Bearer");

    let r = env.request(Method::GET, "/v1/problems", Some("not-a-token"), None).await;
    r.error(StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers["www-authenticate"], "Bearer");

    // A submitter may read and submit, not administer.
    let r = env.request(Method::GET, "/v1/problems", Some(&env.submitter), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = env.request(Method::DELETE, "/v1/problems/p", Some(&env.submitter), None).await;
    assert_eq!(r.error(StatusCode::FORBIDDEN).0, "forbidden");
    let r = env.request(Method::POST, "/v1/problems?name=q", Some(&env.submitter), Some(b"x".to_vec())).await;
    r.error(StatusCode::FORBIDDEN);
    let id = env.submit(submission("p")).await;
    let r = env.request(Method::POST, &format!("/v1/submissions/{id}/rejudge"), Some(&env.submitter), None).await;
    r.error(StatusCode::FORBIDDEN);

    // Packages: admin tokens and the worker secret, not submitters.
    let version = env.store.current_problem("p").await.unwrap().unwrap().version;
    let path = format!("/v1/packages/{version}");
    for token in [&env.admin, &env.secret] {
        let r = env.request(Method::GET, &path, Some(token), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers["content-type"], "application/gzip");
        assert_eq!(r.body, b"\x1f\x8bnot really a package");
    }
    env.request(Method::GET, &path, Some(&env.submitter), None).await.error(StatusCode::FORBIDDEN);
    env.request(Method::GET, &path, Some("nope"), None).await.error(StatusCode::UNAUTHORIZED);

    // No token needed: health and metrics.
    let r = env.request(Method::GET, "/healthz", None, None).await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, json!({"status": "ok"})));
    assert_eq!(env.request(Method::GET, "/metrics", None, None).await.status, StatusCode::OK);

    // Unknown routes and methods answer in the same shape.
    env.request(Method::GET, "/v1/nothing", Some(&env.admin), None).await.error(StatusCode::NOT_FOUND);
    env.request(Method::PUT, "/v1/problems", Some(&env.admin), None).await.error(StatusCode::METHOD_NOT_ALLOWED);
}

// ---------------------------------------------------------------------------------------------
// Bad input

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_submissions_are_refused_and_named() {
    let Some(env) = start_with(|c| c.max_source_bytes = 1000).await else { return };
    env.fake_problem("p").await;
    let post = |body: &'static [u8]| env.request(Method::POST, "/v1/submissions", Some(&env.submitter), Some(body.to_vec()));

    let (code, msg) = post(b"{\"problem\": ").await.error(StatusCode::BAD_REQUEST);
    assert_eq!(code, "invalid_json", "{msg}");
    let (_, msg) = post(br#"{"problem":"p","language":"python","source":"","colour":"red"}"#).await.error(StatusCode::BAD_REQUEST);
    assert!(msg.contains("unknown field `colour`"), "{msg}");
    let (_, msg) = post(br#"{"problem":"p","language":"python"}"#).await.error(StatusCode::BAD_REQUEST);
    assert!(msg.contains("missing field `source`"), "{msg}");

    let call = |body: Value| env.call(Method::POST, "/v1/submissions", &env.submitter, Some(body));
    let (code, msg) = call(json!({"problem": "nope", "language": "python", "source": ""})).await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "unknown_problem");
    assert!(msg.contains("\"nope\""), "{msg}");
    let (code, msg) = call(json!({"problem": "p", "language": "cobol", "source": ""})).await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "unknown_language");
    assert!(msg.contains("\"cobol\"") && msg.contains("python") && msg.contains("cpp"), "{msg}");
    let (code, msg) = call(json!({"problem": "p", "language": "python", "source": "x".repeat(1001)})).await.error(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code, "source_too_large", "{msg}");
    assert!(msg.contains("1001") && msg.contains("1000"), "{msg}");
    call(json!({"problem": "p", "language": "python", "source": "x".repeat(1000)})).await;
    let (code, msg) = call(json!({"problem": "p", "language": "python", "source": "", "callback_url": "ftp://x/"})).await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "invalid_callback_url", "{msg}");

    // A batch with one bad item stores none, and names it.
    let before = env.store.list_submissions(&Default::default()).await.unwrap().len();
    let batch = json!({"submissions": [submission("p"), submission("p"), {"problem": "p", "language": "cobol", "source": ""}, submission("p")]});
    let (code, msg) = env.call(Method::POST, "/v1/submissions/batch", &env.submitter, Some(batch)).await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "unknown_language");
    assert!(msg.starts_with("submissions[2]: "), "{msg}");
    assert_eq!(env.store.list_submissions(&Default::default()).await.unwrap().len(), before, "a refused batch stored something");
    let batch = json!({"submissions": [submission("p"), submission("p")]});
    let r = env.call(Method::POST, "/v1/submissions/batch", &env.submitter, Some(batch)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["ids"].as_array().unwrap().len(), 2);
    env.call(Method::POST, "/v1/submissions/batch", &env.submitter, Some(json!({"submissions": []}))).await.error(StatusCode::UNPROCESSABLE_ENTITY);

    // Paths and queries that do not parse.
    let (code, _) = env.call(Method::GET, "/v1/submissions/abc", &env.submitter, None).await.error(StatusCode::BAD_REQUEST);
    assert_eq!(code, "invalid_path");
    env.call(Method::GET, "/v1/submissions/1?wait=soon", &env.submitter, None).await.error(StatusCode::BAD_REQUEST);
    env.call(Method::GET, "/v1/submissions/1?wait=-1", &env.submitter, None).await.error(StatusCode::BAD_REQUEST);
    env.call(Method::GET, "/v1/submissions?status=sleeping", &env.submitter, None).await.error(StatusCode::BAD_REQUEST);
    env.call(Method::GET, "/v1/submissions/999999", &env.submitter, None).await.error(StatusCode::NOT_FOUND);
    env.call(Method::GET, "/v1/problems/nope", &env.submitter, None).await.error(StatusCode::NOT_FOUND);
    let (code, msg) = env.request(Method::POST, "/v1/problems?name=Bad/Name", Some(&env.admin), Some(b"x".to_vec())).await.error(StatusCode::BAD_REQUEST);
    assert_eq!(code, "invalid_problem_name");
    assert!(msg.contains("Bad/Name"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// A submission's life, driven by hand

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_returns_when_finished() {
    let Some(env) = start().await else { return };
    let version = env.fake_problem("p").await;
    let id = env.submit(json!({"problem": "p", "language": "python", "source": "print(1)", "all_tests": true})).await;

    let s = env.call(Method::GET, &format!("/v1/submissions/{id}"), &env.submitter, None).await.json();
    assert_eq!((s["status"].as_str(), s["version"].as_str(), s["all_tests"].as_bool()), (Some("queued"), Some(version.as_str()), Some(true)));

    // Nothing happens: ?wait returns after about the wait with the submission still queued.
    let t = Instant::now();
    let s = env.call(Method::GET, &format!("/v1/submissions/{id}?wait=1"), &env.submitter, None).await.json();
    assert_eq!(s["status"], "queued");
    assert!(t.elapsed() >= Duration::from_millis(900) && t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());

    let waiter = {
        let (client, url, token) = (env.client.clone(), format!("{}/v1/submissions/{id}?wait=30", env.base), env.submitter.clone());
        tokio::spawn(async move {
            let v: Value = client.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
            (v, Instant::now())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let claim = env.claim().await;
    assert!(env.store.set_running(&claim, "").await.unwrap());
    assert!(env.store.add_test_result(&claim, 0, &test_result(0)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "?wait returned before the submission was done");
    let finished_at = Instant::now();
    assert!(env.store.finish(&claim, &judged(vec![test_result(0), test_result(1)])).await.unwrap());
    let (s, returned_at) = tokio::time::timeout(Duration::from_secs(10), waiter).await.expect("?wait did not return").unwrap();
    assert!(returned_at.duration_since(finished_at) < Duration::from_secs(2), "{:?}", returned_at.duration_since(finished_at));
    assert_eq!((s["status"].as_str(), s["verdict"].as_str(), s["score"].as_f64()), (Some("done"), Some("AC"), Some(1.0)), "{s}");
    assert_eq!(s["tests"].as_array().unwrap().len(), 2);
    assert_eq!(s["tests"][1]["name"], "secret/001");
    assert_eq!(s["judged_count"], 1);

    // Listing and filters.
    let id2 = env.submit(submission("p")).await;
    let all = env.call(Method::GET, "/v1/submissions", &env.submitter, None).await.json();
    let ids: Vec<i64> = all["submissions"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [id2, id]);
    let done = env.call(Method::GET, "/v1/submissions?status=done&verdict=AC&problem=p", &env.submitter, None).await.json();
    assert_eq!(done["submissions"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect::<Vec<_>>(), [id]);
    let page = env.call(Method::GET, &format!("/v1/submissions?before_id={id2}&limit=5000"), &env.submitter, None).await.json();
    assert_eq!(page["submissions"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_tests_in_order_then_done() {
    let Some(env) = start().await else { return };
    env.fake_problem("p").await;
    let id = env.submit(submission("p")).await;
    let mut sse = events(&env, id).await;
    assert_eq!(sse.expect("status").await, json!({"id": id, "status": "queued"}));

    let claim = env.claim().await;
    assert_eq!(sse.expect("status").await["status"], "compiling");
    assert!(env.store.set_running(&claim, "compiled fine").await.unwrap());
    assert_eq!(sse.expect("status").await["status"], "running");
    for i in 0..3 {
        assert!(env.store.add_test_result(&claim, i as i64, &test_result(i)).await.unwrap());
        let t = sse.expect("test").await;
        assert_eq!((t["index"].as_i64(), t["name"].as_str()), (Some(i as i64), Some(format!("secret/{i:03}").as_str())), "{t}");
        assert_eq!(t["cpu_time_ms"], 10 + i as u64);
    }
    // Two results at once, then the final one: in order, each once.
    assert!(env.store.add_test_result(&claim, 3, &test_result(3)).await.unwrap());
    assert!(env.store.add_test_result(&claim, 4, &test_result(4)).await.unwrap());
    assert!(env.store.finish(&claim, &judged((0..5).map(test_result).collect())).await.unwrap());
    assert_eq!(sse.expect("test").await["index"], 3);
    assert_eq!(sse.expect("test").await["index"], 4);
    let done = sse.expect("done").await;
    assert_eq!((done["id"].as_i64(), done["status"].as_str(), done["verdict"].as_str()), (Some(id), Some("done"), Some("AC")));
    assert_eq!(done["tests"].as_array().unwrap().len(), 5);
    assert!(sse.next().await.is_none(), "the stream goes on after done");

    // A stream opened on a finished submission replays it and ends.
    let mut sse = events(&env, id).await;
    for i in 0..5 {
        assert_eq!(sse.expect("test").await["index"], i);
    }
    sse.expect("done").await;
    assert!(sse.next().await.is_none());

    env.call(Method::GET, "/v1/submissions/424242/events", &env.submitter, None).await.error(StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_start_over_when_rejudged_mid_stream() {
    let Some(env) = start().await else { return };
    env.fake_problem("p").await;
    let id = env.submit(submission("p")).await;
    let mut sse = events(&env, id).await;
    assert_eq!(sse.expect("status").await["status"], "queued");
    let first = env.claim().await;
    assert_eq!(sse.expect("status").await["status"], "compiling");
    assert!(env.store.set_running(&first, "").await.unwrap());
    assert_eq!(sse.expect("status").await["status"], "running");
    for i in 0..2 {
        assert!(env.store.add_test_result(&first, i, &test_result(i as usize)).await.unwrap());
        assert_eq!(sse.expect("test").await["index"], i);
    }
    // Rejudged: the stream says so and follows the new attempt from its first test.
    assert_eq!(env.call(Method::POST, &format!("/v1/submissions/{id}/rejudge"), &env.admin, None).await.status, StatusCode::ACCEPTED);
    assert_eq!(sse.expect("status").await["status"], "queued");
    let second = env.claim().await;
    assert_eq!(sse.expect("status").await["status"], "compiling");
    assert!(env.store.set_running(&second, "").await.unwrap());
    assert_eq!(sse.expect("status").await["status"], "running");
    assert!(env.store.add_test_result(&second, 0, &test_result(0)).await.unwrap());
    assert_eq!(sse.expect("test").await["index"], 0);
    assert!(env.store.finish(&second, &judged(vec![test_result(0)])).await.unwrap());
    let done = sse.expect("done").await;
    assert_eq!((done["attempts"].as_i64(), done["tests"].as_array().map(Vec::len)), (Some(2), Some(1)), "{done}");
    assert!(sse.next().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejudge_requeues_and_rejects_the_late_result() {
    let Some(env) = start().await else { return };
    env.fake_problem("p").await;
    let id = env.submit(submission("p")).await;
    let first = env.claim().await;
    assert!(env.store.finish(&first, &judged(vec![test_result(0)])).await.unwrap());

    let r = env.call(Method::POST, &format!("/v1/submissions/{id}/rejudge"), &env.admin, None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let s = r.json();
    assert_eq!((s["status"].as_str(), s["verdict"].as_str()), (Some("queued"), None), "{s}");

    // Rejudged while being judged: the first judging's late result is rejected.
    let second = env.claim().await;
    assert_eq!(second.submission_id, id);
    env.call(Method::POST, &format!("/v1/submissions/{id}/rejudge"), &env.admin, None).await;
    assert!(!env.store.finish(&second, &judged(vec![test_result(0)])).await.unwrap(), "a late finish after rejudge was accepted");
    let s = env.call(Method::GET, &format!("/v1/submissions/{id}"), &env.submitter, None).await.json();
    assert_eq!(s["status"], "queued");
    let third = env.claim().await;
    assert!(env.store.finish(&third, &judged(vec![test_result(0)])).await.unwrap());
    let s = env.call(Method::GET, &format!("/v1/submissions/{id}"), &env.submitter, None).await.json();
    assert_eq!((s["status"].as_str(), s["judged_count"].as_i64(), s["attempts"].as_i64()), (Some("done"), Some(2), Some(3)), "{s}");

    env.call(Method::POST, "/v1/submissions/777/rejudge", &env.admin, None).await.error(StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------------
// Callbacks

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_are_retried_until_delivered() {
    let Some(env) = start().await else { return };
    env.fake_problem("p").await;

    // A receiver that fails the first two POSTs.
    let posts = Arc::new(AtomicUsize::new(0));
    let delivered: Arc<Mutex<Vec<(Instant, Value)>>> = Arc::default();
    let receiver = {
        let (posts, delivered) = (posts.clone(), delivered.clone());
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let (posts, delivered) = (posts.clone(), delivered.clone());
                async move {
                    if posts.fetch_add(1, Ordering::SeqCst) < 2 {
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    delivered.lock().unwrap().push((Instant::now(), body));
                    StatusCode::OK
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, receiver).into_future());

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sender = tokio::spawn(api::callbacks::run_callbacks(env.store.clone(), async {
        let _ = stopped.await;
    }));

    let id = env.submit(json!({"problem": "p", "language": "python", "source": "", "callback_url": hook})).await;
    let claim = env.claim().await;
    let finished = Instant::now();
    assert!(env.store.finish(&claim, &judged(vec![test_result(0)])).await.unwrap());

    let deadline = Instant::now() + Duration::from_secs(30);
    while delivered.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "callback not delivered in 30 s ({} POSTs)", posts.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (at, body) = delivered.lock().unwrap()[0].clone();
    assert_eq!((body["id"].as_i64(), body["status"].as_str(), body["verdict"].as_str()), (Some(id), Some("done"), Some("AC")), "{body}");
    // Two failures: retried after 1 s, then 2 s.
    let took = at.duration_since(finished);
    assert!(took >= Duration::from_millis(2900) && took < Duration::from_secs(15), "{took:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(posts.load(Ordering::SeqCst), 3, "delivered callbacks must not be sent again");
    assert_eq!(env.store.queue_stats().await.unwrap().callbacks_pending, 0);
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), sender).await.expect("the callback sender did not stop").unwrap();
}

// ---------------------------------------------------------------------------------------------
// Problem packages (real ones, unpacked by `package`)

fn tar_gz_dir(dir: &Path, top: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    b.append_dir_all(top, dir).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

/// A tar.gz of raw entries (names written as given, `..` included).
fn raw_tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast()));
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap().flush().unwrap();
    }
    out
}

fn problems_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../problems")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problem_upload_list_fetch_delete() {
    let Some(env) = start().await else { return };
    let pkg = tar_gz_dir(&problems_dir().join("hello-ab"), "hello-ab");
    let r = env.request(Method::POST, "/v1/problems?name=hello-ab", Some(&env.admin), Some(pkg.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    let version = v["version"].as_str().unwrap().to_string();
    assert_eq!((v["name"].as_str(), version.len(), v["current"].as_bool()), (Some("hello-ab"), 64, Some(true)), "{v}");
    assert!(v["test_count"].as_i64().unwrap() > 0, "{v}");
    // The same package again: the same version.
    let again = env.request(Method::POST, "/v1/problems?name=hello-ab", Some(&env.admin), Some(pkg)).await.json();
    assert_eq!(again["version"], version.as_str());

    let list = env.call(Method::GET, "/v1/problems", &env.submitter, None).await.json();
    assert_eq!(list["problems"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect::<Vec<_>>(), ["hello-ab"]);
    let detail = env.call(Method::GET, "/v1/problems/hello-ab", &env.submitter, None).await.json();
    assert_eq!((detail["current"]["version"].as_str(), detail["versions"].as_array().unwrap().len()), (Some(version.as_str()), 1), "{detail}");

    let r = env.request(Method::GET, &format!("/v1/packages/{version}"), Some(&env.secret), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(&r.body[..2], b"\x1f\x8b", "not gzip");
    env.request(Method::GET, &format!("/v1/packages/{}", "0".repeat(64)), Some(&env.secret), None).await.error(StatusCode::NOT_FOUND);

    let id = env.submit(submission("hello-ab")).await;
    assert_eq!(env.store.submission(id).await.unwrap().unwrap().version, version);

    let r = env.request(Method::DELETE, "/v1/problems/hello-ab", Some(&env.admin), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    env.request(Method::DELETE, "/v1/problems/hello-ab", Some(&env.admin), None).await.error(StatusCode::NOT_FOUND);
    let detail = env.call(Method::GET, "/v1/problems/hello-ab", &env.submitter, None).await.json();
    assert!(detail["current"].is_null(), "{detail}");
    let (code, _) = env.call(Method::POST, "/v1/submissions", &env.submitter, Some(submission("hello-ab"))).await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "unknown_problem");
    // Past submissions stay.
    assert_eq!(env.call(Method::GET, &format!("/v1/submissions/{id}"), &env.submitter, None).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_packages_are_refused() {
    let Some(env) = start_with(|c| c.max_package_bytes = 64 << 10).await else { return };
    let upload = |name: &str, body: Vec<u8>| {
        let path = format!("/v1/problems?name={name}");
        let env = &env;
        async move { env.request(Method::POST, &path, Some(&env.admin), Some(body)).await }
    };

    // Not a problem: no problem.yaml.
    let (code, msg) = upload("readme", raw_tar_gz(&[("README.md", b"hello\n")])).await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "invalid_package");
    assert!(msg.contains("\"readme\"") && msg.contains("problem.yaml"), "{msg}");
    // Not an archive at all.
    let (_, msg) = upload("junk", b"just some bytes".to_vec()).await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(msg.contains("\"junk\""), "{msg}");
    // Path traversal.
    let evil = raw_tar_gz(&[("problem.yaml", b"name: x\n"), ("../../evil.txt", b"gotcha\n")]);
    let (code, msg) = upload("evil", evil).await.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "invalid_package");
    assert!(msg.contains("evil.txt"), "{msg}");
    // Larger than max_package_bytes.
    let (code, _) = upload("big", vec![0u8; 100 << 10]).await.error(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code, "body_too_large");
    assert!(env.store.problems().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Metrics

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_queue_and_verdicts() {
    let Some(env) = start().await else { return };
    env.fake_problem("p").await;
    let id = env.submit(submission("p")).await;
    env.submit(submission("p")).await;
    let claim = env.claim().await;
    assert_eq!(claim.submission_id, id);
    assert!(env.store.finish(&claim, &judged(vec![test_result(0)])).await.unwrap());
    env.request(Method::GET, "/v1/problems", None, None).await;

    let r = env.request(Method::GET, "/metrics", None, None).await;
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = String::from_utf8(r.body).unwrap();
    for line in [
        "judge_submissions_accepted_total 2",
        "judge_queue_submissions{status=\"queued\"} 1",
        "judge_queue_submissions{status=\"done\"} 1",
        "judge_verdicts{verdict=\"AC\"} 1",
        "judge_http_requests_total{method=\"POST\",route=\"/v1/submissions\",status=\"201\"} 2",
        "judge_http_requests_total{method=\"GET\",route=\"/v1/problems\",status=\"401\"} 1",
        "judge_judging_latency_samples 1",
        "judge_judging_latency_ms{quantile=\"0.5\"}",
        "judge_workers{state=\"idle\"} 0",
        "judge_callbacks_pending 0",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document is true

/// Every route the router registers besides `/openapi.json`: (method, path).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/v1/languages"),
    ("get", "/v1/packages/{version}"),
    ("get", "/v1/problems"),
    ("post", "/v1/problems"),
    ("get", "/v1/problems/{name}"),
    ("delete", "/v1/problems/{name}"),
    ("post", "/v1/run"),
    ("get", "/v1/submissions"),
    ("post", "/v1/submissions"),
    ("post", "/v1/submissions/batch"),
    ("get", "/v1/submissions/{id}"),
    ("get", "/v1/submissions/{id}/events"),
    ("post", "/v1/submissions/{id}/rejudge"),
];

/// What is wrong with `body` as the response (path, method, status) by the document's schema.
fn schema_errors(doc: &Value, path: &str, method: &str, status: u16, body: &Value) -> Vec<String> {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(response.is_object(), "{method} {path}: status {status} is not documented");
    let Some(schema) = response["content"]["application/json"]["schema"].as_object() else {
        panic!("{method} {path} {status}: no JSON schema documented: {response}");
    };
    // The schema with the document's components beside it, so `#/components/schemas/...` resolves.
    let mut root = Value::Object(schema.clone());
    root["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{method} {path} {status}: schema does not compile: {e}"));
    validator.iter_errors(body).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

/// Asserts a JSON response matches the document's schema for (path, method, status).
fn check_response(doc: &Value, path: &str, method: &str, reply: &Reply) {
    let body = reply.json();
    let errors = schema_errors(doc, path, method, reply.status.as_u16(), &body);
    assert!(errors.is_empty(), "{method} {path} {}: the response does not match the document: {errors:?}\n{body}", reply.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_true() {
    let Some(env) = start().await else { return };
    let r = env.request(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");

    // Documented = registered.
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().keys().filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str())).map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let registered: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, registered);

    // Resources to call them on.
    let version = env.fake_problem("p").await;
    env.fake_problem("doomed").await;
    let id = env.submit(submission("p")).await;
    let claim = env.claim().await;
    assert!(env.store.finish(&claim, &judged(vec![test_result(0)])).await.unwrap());

    // Every documented route answers (not 404/405) with an admin token; the main calls'
    // JSON matches the document's schemas.
    for (method, path) in ROUTES {
        let concrete = path.replace("{version}", &version).replace("{name}", if *method == "delete" { "doomed" } else { "p" }).replace("{id}", &id.to_string());
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let body = match (*method, *path) {
            ("post", "/v1/submissions") => Some(submission("p")),
            ("post", "/v1/submissions/batch") => Some(json!({"submissions": [submission("p")]})),
            ("post", "/v1/run") => Some(json!({"no such field": true})),
            _ => None,
        };
        let reply = if *path == "/v1/problems" && *method == "post" {
            env.request(m, "/v1/problems?name=p2", Some(&env.admin), Some(b"not an archive".to_vec())).await
        } else {
            env.call(m, &concrete, &env.admin, body).await
        };
        assert!(
            reply.status != StatusCode::NOT_FOUND && reply.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {concrete}: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        let is_json = reply.headers.get("content-type").is_some_and(|c| c == "application/json");
        if is_json {
            check_response(&doc, path, method, &reply);
        } else {
            assert!(doc["paths"][*path][*method]["responses"][reply.status.as_u16().to_string()].is_object(), "{method} {path}: {} undocumented", reply.status);
        }
    }

    // Error bodies (a 401 and a 422) match too.
    let r = env.request(Method::GET, "/v1/problems", None, None).await;
    check_response(&doc, "/v1/problems", "get", &r);
    let r = env.call(Method::POST, "/v1/submissions", &env.submitter, Some(json!({"problem": "nope", "language": "python", "source": ""}))).await;
    check_response(&doc, "/v1/submissions", "post", &r);
    // A submission with per-test results (everything queued, the rejudged one too, judged).
    while let Some(claim) = env.store.claim("test-worker", Duration::from_secs(60)).await.unwrap() {
        assert!(env.store.finish(&claim, &judged(vec![test_result(0)])).await.unwrap());
    }
    let r = env.call(Method::GET, &format!("/v1/submissions/{id}"), &env.submitter, None).await;
    assert_eq!(r.json()["tests"].as_array().unwrap().len(), 1);
    check_response(&doc, "/v1/submissions/{id}", "get", &r);
    // The check has teeth: a wrong status, a missing field, a test that is not an object.
    for (pointer, bad) in [("/status", json!("sleeping")), ("/id", json!("seven")), ("/tests/0", json!(3))] {
        let mut body = r.json();
        *body.pointer_mut(pointer).unwrap() = bad;
        assert!(!schema_errors(&doc, "/v1/submissions/{id}", "get", 200, &body).is_empty(), "{pointer} not checked");
    }
    let mut body = r.json();
    body.as_object_mut().unwrap().remove("created_ms");
    assert!(!schema_errors(&doc, "/v1/submissions/{id}", "get", 200, &body).is_empty(), "required fields not checked");
}

// ---------------------------------------------------------------------------------------------
// POST /v1/run (the sandbox for real)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_smoke() {
    let Some(env) = start().await else { return };
    let doc = env.request(Method::GET, "/openapi.json", None, None).await.json();
    let r = env.call(Method::POST, "/v1/run", &env.submitter, Some(json!({"cmd": [{"args": ["/bin/true"]}]}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!((v["results"][0]["status"].as_str(), v["results"][0]["exit_code"].as_i64()), (Some("ok"), Some(0)), "{v}");
    check_response(&doc, "/v1/run", "post", &r);

    let r = env.call(Method::POST, "/v1/run", &env.submitter, Some(json!({"cmd": [{"args": ["echo", "hello"], "copy_out": ["stdout"]}]}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["results"][0]["files"]["stdout"], json!({"content": "hello\n"}), "{v}");
    check_response(&doc, "/v1/run", "post", &r);

    let (code, _) = env.call(Method::POST, "/v1/run", &env.submitter, Some(json!({"cmd": 3}))).await.error(StatusCode::BAD_REQUEST);
    assert_eq!(code, "invalid_json");
    let r = env.call(Method::POST, "/v1/run", &env.submitter, Some(json!({"cmd": [{"args": ["/no/such/program"]}]}))).await;
    let (code, msg) = r.error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code, "invalid_run_request", "{msg}");
    check_response(&doc, "/v1/run", "post", &r);
    env.request(Method::POST, "/v1/run", None, Some(b"{}".to_vec())).await.error(StatusCode::UNAUTHORIZED);

    let metrics = String::from_utf8(env.request(Method::GET, "/metrics", None, None).await.body).unwrap();
    assert!(metrics.contains("judge_runs_total{outcome=\"ok\"} 2"), "{metrics}");
    assert!(metrics.contains("judge_runs_total{outcome=\"invalid\"} 1"), "{metrics}");
}

// ---------------------------------------------------------------------------------------------
// serve()

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_records_settings_answers_and_shuts_down() {
    let Some(judge) = judge() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServiceConfig::new("127.0.0.1:0".parse().unwrap(), tmp.path().join("data"));
    config.workers = 0;
    let url = config.database_url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(judge_api::service::serve(config.clone(), judge.clone(), async {
        let _ = stopped.await;
    }));

    // The service URL (with the port bound) and a worker secret are in the database.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::from("no attempt");
    let (store, base) = loop {
        match Store::open(&url).await {
            Ok(store) => match store.setting(settings::SERVICE_URL).await {
                Ok(Some(base)) => break (store, base),
                other => last = format!("setting: {other:?}"),
            },
            Err(e) => last = format!("open: {e}"),
        }
        if server.is_finished() {
            panic!("serve ended before recording its URL: {:?}", server.await);
        }
        assert!(Instant::now() < deadline, "serve did not record its URL (last look: {last})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"), "{base}");
    let secret = store.setting(settings::WORKER_SECRET).await.unwrap().expect("a worker secret");
    assert_eq!(secret.len(), 64);

    let client = reqwest::Client::new();
    let health: Value = client.get(format!("{base}/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health, json!({"status": "ok"}));
    let admin = store.add_token(Role::Admin, "serve test").await.unwrap();
    let r = client.get(format!("{base}/v1/languages")).bearer_auth(&admin).send().await.unwrap();
    let langs: Value = r.json().await.unwrap();
    assert!(langs["languages"].as_array().unwrap().iter().any(|l| l["id"] == "python" && l["extensions"] == json!(["py"])), "{langs}");

    // Shutdown ends it.
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(15), server).await.expect("serve did not stop").unwrap().unwrap();

    // A restart keeps the secret; a taken port is a Listen error.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut busy = config.clone();
    busy.listen = taken.local_addr().unwrap();
    let err = judge_api::service::serve(busy, judge, std::future::pending()).await.unwrap_err();
    assert!(matches!(err, judge_api::service::ServiceError::Listen { .. }), "{err}");
    assert_eq!(store.setting(settings::WORKER_SECRET).await.unwrap(), Some(secret));
}

// ---------------------------------------------------------------------------------------------
// A worker elsewhere: only PostgreSQL connects it to the API

/// A fresh database on the test server (dropped with it), or `None` (with a note) when there is none.
struct PgDb {
    admin_url: String,
    name: String,
    url: String,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Best effort, on a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::Executor::execute(&mut c, format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
                }
            })
        })
        .join();
    }
}

impl PgDb {
    /// Drops the database now (its connections too).
    async fn drop_now(&self) {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::Executor::execute(&mut c, format!("DROP DATABASE {} WITH (FORCE)", self.name).as_str()).await.unwrap();
    }
}

async fn postgres_db(test: &str) -> Option<PgDb> {
    use sqlx::Connection;
    let Ok(admin_url) = std::env::var("JUDGE_TEST_DATABASE_URL") else {
        assert!(std::env::var("JUDGE_REQUIRE_POSTGRES").as_deref() != Ok("1"), "JUDGE_REQUIRE_POSTGRES=1 but JUDGE_TEST_DATABASE_URL is not set");
        eprintln!("{test}: SKIPPED: JUDGE_TEST_DATABASE_URL is not set");
        return None;
    };
    let name = format!("judge_api_{}", hex::encode(rand::random::<[u8; 6]>()));
    let mut c = sqlx::PgConnection::connect(&admin_url).await.expect("connect to JUDGE_TEST_DATABASE_URL");
    sqlx::Executor::execute(&mut c, format!("CREATE DATABASE {name}").as_str()).await.expect("create a test database");
    c.close().await.unwrap();
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url.as_str(), String::new()),
    };
    let slash = base.rfind('/').filter(|&i| i > base.find("://").unwrap() + 2).expect("the database URL names a database");
    let url = format!("{}/{name}{query}", &base[..slash]);
    Some(PgDb { admin_url, name, url })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_wait_follow_a_worker_elsewhere_on_postgres() {
    let Some(pg) = postgres_db("events_and_wait_follow_a_worker_elsewhere_on_postgres").await else { return };
    let Some(env) = start_with(|c| c.database_url = Some(pg.url.clone())).await else { return };
    // The "worker": a store of its own (its own pool and LISTEN connection), as on another machine.
    let worker = Store::open(&pg.url).await.unwrap();
    env.fake_problem("p").await;
    let id = env.submit(submission("p")).await;
    let mut sse = events(&env, id).await;
    assert_eq!(sse.expect("status").await["status"], "queued");

    let claim = worker.claim("elsewhere", Duration::from_secs(60)).await.unwrap().unwrap();
    assert_eq!(sse.expect("status").await["status"], "compiling");
    assert!(worker.set_running(&claim, "").await.unwrap());
    assert_eq!(sse.expect("status").await["status"], "running");
    let t = Instant::now();
    assert!(worker.add_test_result(&claim, 0, &test_result(0)).await.unwrap());
    assert_eq!(sse.expect("test").await["index"], 0);
    eprintln!("a test result reached the stream in {:?}", t.elapsed());

    let waiter = {
        let (client, url, token) = (env.client.clone(), format!("{}/v1/submissions/{id}?wait=30", env.base), env.submitter.clone());
        tokio::spawn(async move { client.get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    assert!(worker.finish(&claim, &judged(vec![test_result(0), test_result(1)])).await.unwrap());
    assert_eq!(sse.expect("test").await["index"], 1);
    assert_eq!(sse.expect("done").await["status"], "done");
    assert!(sse.next().await.is_none());
    let s = tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("?wait did not return").unwrap();
    assert_eq!(s["status"], "done");
    eprintln!("done reached the stream and ?wait in {:?}", t.elapsed());

    // The database gone: /healthz says 503 in the error shape, within its own timeout.
    assert_eq!(env.request(Method::GET, "/healthz", None, None).await.status, StatusCode::OK);
    pg.drop_now().await;
    let t = Instant::now();
    let (code, msg) = env.request(Method::GET, "/healthz", None, None).await.error(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code, "store_error", "{msg}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    env.request(Method::GET, "/metrics", None, None).await.error(StatusCode::SERVICE_UNAVAILABLE);
}
