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

#[path = "../tests/common/runtime_api.rs"]
mod runtime_api;

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
use runtime_api::{http_api_event, request_body, FunctionProcess};
use serde_json::{json, Value};

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

fn event(token: &str, attachment_id: &str, client_token: &str) -> String {
    http_api_event(token, &request_body(attachment_id, client_token))
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

async fn run_process(events: Vec<String>) -> (Vec<Duration>, String, u64) {
    let env = [
        ("RUST_LOG", "info"),
        ("MAX_ATTACHMENTS_PER_CONTACT", "1000000"),
    ];
    let count = events.len();
    let mut function = FunctionProcess::start(BINARY, &env, events).await;
    let mut times = Vec::new();
    for _ in 0..count {
        let (time, response) = function.next_response().await;
        assert!(response["statusCode"].is_u64(), "{response}");
        times.push(time);
    }
    let peak_rss_kib = function.peak_rss_kib();
    (times, function.stop().await, peak_rss_kib)
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
        let replayed = unique("ct");
        // A first completion on the cold process, one on the warm process, a replay, an unknown
        // token, a validation error: the process counts its calls for each.
        let events = vec![
            event(&seeded.token, &first, &unique("ct")),
            event(&seeded.token, &second, &replayed),
            event(&seeded.token, &second, &replayed),
            event(&unique("unknown-token"), &second, &unique("ct")),
            http_api_event(&seeded.token, "{}"),
        ];
        let (times, stdout, _) = run_process(events).await;
        first_invocation.push(times[0]);
        calls = logged_calls(&stdout);
    }
    let median_first = median(&mut first_invocation);
    println!(
        "cold start: exec → first completed invocation, median of {COLD_STARTS}: {:.2} ms; DynamoDB calls (cold first completion, warm first completion, replay, unknown token, validation error): {calls:?}",
        ms(median_first)
    );
    json!({
        "runs": COLD_STARTS,
        "exec_to_first_response_median_ms": ms(median_first),
        "exec_to_first_response_min_ms": ms(first_invocation[0]),
        "dynamodb_calls_cold_warm_replay_unknown_invalid": calls,
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
