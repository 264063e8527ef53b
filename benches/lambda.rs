//! Benchmarks against DynamoDB Local (`make bench` starts it), measured in one run so that the
//! ratios hold on a shared, noisy machine:
//!
//! 1. handler overhead: median latency of a full handler invocation (event in → response out)
//!    over the median of one bare `TransactWriteItems` of the same items, same SDK client;
//! 2. cold start: exec of the release binary → its first completed invocation, served by a stub
//!    Lambda Runtime API in this process, and the DynamoDB calls of that first invocation;
//! 3. peak RSS of the release binary after 1,000 invocations.
//!
//! Results go to `target/bench/lambda.json` for `scripts/bench.sh` to write up.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use complete_attachment_upload::http::Handler;
use complete_attachment_upload::request::{
    AttachmentId, ClientTokenHash, RequestFingerprint, TokenHash,
};
use complete_attachment_upload::service::{Service, Settings};
use complete_attachment_upload::store::dynamodb::{self, Tables};
use complete_attachment_upload::store::{Completion, Connection, DynamoDbStore};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use serde_json::{json, Value};
use tokio::sync::mpsc;

const BINARY: &str = "target/release/complete-attachment-upload";
const OVERHEAD_SAMPLES: usize = 400;
const COLD_STARTS: usize = 20;
const RSS_INVOCATIONS: usize = 1000;

fn settings() -> Settings {
    Settings {
        max_attachments_per_contact: u32::MAX,
        ..Settings::default()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}", fastrand::u64(..))
}

struct Seeded {
    token: String,
    connection: Connection,
}

async fn seed_connection(client: &Client) -> Seeded {
    let token = unique("bench-token");
    let connection = Connection {
        participant_id: unique("participant"),
        contact_id: unique("contact"),
        expires_at: now() + 3600,
    };
    client
        .put_item()
        .table_name("connections")
        .item("TokenHash", s(TokenHash::of(&token).as_str()))
        .item("ParticipantId", s(&connection.participant_id))
        .item("ContactId", s(&connection.contact_id))
        .item(
            "ExpiresAt",
            AttributeValue::N(connection.expires_at.to_string()),
        )
        .send()
        .await
        .expect("seed connection (is DynamoDB Local up, with the tables? run `make bench`)");
    Seeded { token, connection }
}

async fn seed_attachment(client: &Client, connection: &Connection) -> String {
    let id = unique("attachment");
    client
        .put_item()
        .table_name("attachments")
        .item("AttachmentId", s(&id))
        .item("ParticipantId", s(&connection.participant_id))
        .item("ContactId", s(&connection.contact_id))
        .item("Status", s("IN_PROGRESS"))
        .send()
        .await
        .expect("seed attachment");
    id
}

/// An HTTP API (payload 2.0) event, as API Gateway sends it.
fn event(token: &str, attachment_id: &str, client_token: &str) -> String {
    let mut event: Value = serde_json::from_str(include_str!("../events/success.json")).unwrap();
    event["headers"]["x-amz-bearer"] = json!(token);
    event["body"] =
        json!(json!({"AttachmentIds": [attachment_id], "ClientToken": client_token}).to_string());
    event.to_string()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn handler_overhead(client: &Client) -> Value {
    let store = DynamoDbStore::new(client.clone(), Tables::default());
    let handler = Handler::new(Service::new(store.clone(), settings()));
    let seeded = seed_connection(client).await;
    let mut handler_times = Vec::new();
    let mut bare_times = Vec::new();
    let warm_up = 50;
    for i in 0..OVERHEAD_SAMPLES + warm_up {
        // Alternate the two so that drift in the machine's load hits both alike.
        let attachment = seed_attachment(client, &seeded.connection).await;
        let request =
            lambda_http::request::from_str(&event(&seeded.token, &attachment, &unique("ct")))
                .unwrap();
        let started = Instant::now();
        let response = handler.handle(request).await;
        let handler_time = started.elapsed();
        assert_eq!(response.status(), 200);

        let attachment = AttachmentId::new(seed_attachment(client, &seeded.connection).await);
        let token_hash = TokenHash::of(&seeded.token);
        let client_token_hash = ClientTokenHash::of(&unique("ct"));
        let fingerprint = RequestFingerprint::of(&attachment);
        let completion = Completion {
            token_hash: &token_hash,
            connection: &seeded.connection,
            attachment_id: &attachment,
            client_token_hash: &client_token_hash,
            fingerprint: &fingerprint,
            now: SystemTime::now(),
            idempotency_ttl_seconds: 86_400,
            max_attachments_per_contact: u32::MAX,
        };
        let items = store.transaction(&completion).unwrap();
        let started = Instant::now();
        client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .expect("bare transaction");
        let bare_time = started.elapsed();
        if i >= warm_up {
            handler_times.push(handler_time);
            bare_times.push(bare_time);
        }
    }
    let handler_median = median(&mut handler_times);
    let bare_median = median(&mut bare_times);
    let ratio = handler_median.as_secs_f64() / bare_median.as_secs_f64();
    println!(
        "handler overhead: handler median {:.3} ms / bare TransactWriteItems median {:.3} ms = {ratio:.3} ({OVERHEAD_SAMPLES} samples each)",
        ms(handler_median),
        ms(bare_median)
    );
    json!({
        "samples": OVERHEAD_SAMPLES,
        "handler_median_ms": ms(handler_median),
        "bare_transaction_median_ms": ms(bare_median),
        "ratio": ratio,
    })
}

/// A stub of the Lambda Runtime API: hands out queued events, reports each response.
struct RuntimeApi {
    events: Mutex<VecDeque<(String, String)>>,
    responses: mpsc::UnboundedSender<(String, Instant, String)>,
}

async fn runtime_api(
    api: Arc<RuntimeApi>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    if path.ends_with("/invocation/next") {
        let next = api.events.lock().unwrap().pop_front();
        let Some((id, body)) = next else {
            // No more events: park the runtime until the benchmark kills the process.
            std::future::pending::<()>().await;
            unreachable!()
        };
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 30_000;
        let response = hyper::Response::builder()
            .header("lambda-runtime-aws-request-id", id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000",
            )
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        return Ok(response);
    }
    let arrived = Instant::now();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let _ = api
        .responses
        .send((path, arrived, String::from_utf8_lossy(&body).into_owned()));
    Ok(hyper::Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .unwrap())
}

async fn serve_runtime_api(api: Arc<RuntimeApi>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let api = api.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |r| runtime_api(api.clone(), r));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address.to_string()
}

/// Starts the release binary as Lambda would, with a clean environment.
fn spawn_function(runtime_api: &str) -> tokio::process::Child {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("AWS_ENDPOINT_URL_DYNAMODB");
    tokio::process::Command::new(BINARY)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        .env("RUST_LOG", "info")
        .env("MAX_ATTACHMENTS_PER_CONTACT", "1000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {BINARY} (build it with `cargo build --release`): {e}"))
}

/// Runs `events` through a freshly started process; returns the time from exec to each
/// response, the process's stdout, and its peak RSS in KiB.
async fn run_process(events: Vec<String>) -> (Vec<Duration>, String, u64) {
    let (sender, mut responses) = mpsc::unbounded_channel();
    let count = events.len();
    let api = Arc::new(RuntimeApi {
        events: Mutex::new(
            events
                .into_iter()
                .enumerate()
                .map(|(i, e)| (format!("invocation-{i}"), e))
                .collect(),
        ),
        responses: sender,
    });
    let address = serve_runtime_api(api).await;
    let started = Instant::now();
    let mut child = spawn_function(&address);
    // Drain the log as it comes: a full pipe would block the function.
    let mut stdout = child.stdout.take().unwrap();
    let log = tokio::spawn(async move {
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut text)
            .await
            .map(|_| text)
    });
    let mut times = Vec::new();
    while times.len() < count {
        let (path, arrived, body) = tokio::time::timeout(Duration::from_secs(30), responses.recv())
            .await
            .expect("the function answers")
            .expect("runtime API alive");
        assert!(
            path.ends_with("/response"),
            "the function reported an error on {path}: {body}"
        );
        let status = serde_json::from_str::<Value>(&body).unwrap()["statusCode"].clone();
        assert_eq!(status, 200, "{body}");
        times.push(arrived - started);
    }
    let pid = child.id().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let peak_rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    child.kill().await.unwrap();
    let log = log.await.unwrap().unwrap_or_default();
    (times, log, peak_rss_kib)
}

fn logged_calls(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|line| line.get("dynamodb_calls").and_then(Value::as_u64))
        .collect()
}

async fn cold_start(client: &Client) -> Value {
    let mut first_invocation = Vec::new();
    let mut calls = Vec::new();
    for _ in 0..COLD_STARTS {
        let seeded = seed_connection(client).await;
        let first = seed_attachment(client, &seeded.connection).await;
        let second = seed_attachment(client, &seeded.connection).await;
        let events = vec![
            event(&seeded.token, &first, &unique("ct")),
            event(&seeded.token, &second, &unique("ct")),
        ];
        let (times, stdout, _) = run_process(events).await;
        first_invocation.push(times[0]);
        calls = logged_calls(&stdout);
    }
    let median_first = median(&mut first_invocation);
    println!(
        "cold start: exec → first completed invocation, median of {COLD_STARTS}: {:.2} ms; DynamoDB calls of the first and second invocation: {calls:?}",
        ms(median_first)
    );
    json!({
        "runs": COLD_STARTS,
        "exec_to_first_response_median_ms": ms(median_first),
        "exec_to_first_response_min_ms": ms(first_invocation[0]),
        "dynamodb_calls_first_then_warm": calls,
    })
}

async fn peak_rss(client: &Client) -> Value {
    let seeded = seed_connection(client).await;
    let mut events = Vec::new();
    for _ in 0..RSS_INVOCATIONS {
        let attachment = seed_attachment(client, &seeded.connection).await;
        events.push(event(&seeded.token, &attachment, &unique("ct")));
    }
    let (_, _, peak_rss_kib) = run_process(events).await;
    println!(
        "peak RSS after {RSS_INVOCATIONS} invocations: {:.1} MiB",
        peak_rss_kib as f64 / 1024.0
    );
    json!({ "invocations": RSS_INVOCATIONS, "peak_rss_mib": peak_rss_kib as f64 / 1024.0 })
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this as a test: skip the
    // measurement there (it needs DynamoDB Local and a release build).
    if !std::env::args().any(|a| a == "--bench") {
        println!("benches/lambda.rs measures only under `make bench` (DynamoDB Local and a release build)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = dynamodb::client("us-east-1", Duration::from_secs(10)).await;
        let results = json!({
            "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "handler_overhead": handler_overhead(&client).await,
            "cold_start": cold_start(&client).await,
            "peak_rss": peak_rss(&client).await,
        });
        std::fs::create_dir_all("target/bench").unwrap();
        std::fs::write(
            "target/bench/lambda.json",
            serde_json::to_string_pretty(&results).unwrap(),
        )
        .unwrap();
    });
}
