//! Benchmarks against DynamoDB Local and the local S3 server (`make bench` starts them), measured
//! in one run so that the ratios hold on a shared, noisy machine:
//!
//! 1. handler overhead: median latency of a full CompleteAttachmentUpload through the handler
//!    (event in → response out) over the median of its bare calls (a ranged `GetObject` of the
//!    file's first 8 KiB and `TransactWriteItems` of the same items, same SDK clients);
//! 2. cold start: exec of the release binary → its first completed invocation, served by a stub
//!    Lambda Runtime API in this process, and the DynamoDB and S3 calls of each kind of request;
//! 3. peak RSS of the release binary after 1,000 invocations.
//!
//! Results go to `target/bench/lambda.json` for `benches/report.rs` to write up.

use std::time::{Duration, Instant, SystemTime};

use connect_attachments::domain::Operation::{
    CompleteAttachmentUpload as Complete, GetAttachment as Get, StartAttachmentUpload as Start,
};
use connect_attachments::domain::{
    AttachmentId, ClientTokenHash, Fingerprint, ObjectKey, StoredObject, TokenHash,
};
use connect_attachments::store::{Caller, Completion, DynamoDbStore};
use devkit::fixtures::{calls, handler_with, request_lines, unique, with_quota, Participant, FILE};
use devkit::local;
use devkit::runtime_api::{http_api_event, FunctionProcess};
use serde_json::{json, Value};

/// The release binary as `cargo lambda` builds it, which scripts/bench.sh sets aside: `cargo bench`
/// relinks target/release/connect-attachments with the dev-dependencies' features unified in.
const BINARY: &str = "target/bench/bin/connect-attachments";
const OVERHEAD_SAMPLES: usize = 300;
const COLD_STARTS: usize = 20;
const RSS_INVOCATIONS: usize = 1000;

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn complete_body(attachment_id: &str) -> Value {
    json!({ "AttachmentIds": [attachment_id], "ClientToken": unique("ct") })
}

async fn handler_overhead() -> Value {
    let settings = with_quota(u32::MAX);
    let limits = settings.limits;
    let handler = handler_with(local::dynamodb_client(), settings);
    let store = DynamoDbStore::new(local::dynamodb_client(), local::tables());
    let (dynamodb, s3) = (local::dynamodb_client(), local::s3_client());
    let alice = Participant::connected(&unique("contact")).await;
    let connection = alice.connection(i64::MAX);
    let token_hash = TokenHash::of(&alice.token);
    let (mut handler_times, mut bare_times) = (Vec::new(), Vec::new());
    let warm_up = 30;
    for i in 0..OVERHEAD_SAMPLES + warm_up {
        // Alternate the two so that drift in the machine's load hits both alike.
        let attachment = alice.attachment().await;
        let request = lambda_http::request::from_str(&http_api_event(
            Complete,
            &alice.token,
            &complete_body(&attachment),
        ))
        .unwrap();
        let started = Instant::now();
        let response = handler.handle(request).await;
        let handler_time = started.elapsed();
        assert_eq!(response.status(), 200);

        let attachment = AttachmentId::new(alice.attachment().await);
        let key = ObjectKey::new(&alice.contact_id, &attachment);
        let client_token_hash = ClientTokenHash::of(&unique("ct"));
        let fingerprint = Fingerprint::of_completion(&attachment);
        let started = Instant::now();
        let peeked = s3
            .get_object()
            .bucket(local::bucket())
            .key(key.as_str())
            .range("bytes=0-8191")
            .send()
            .await
            .expect("bare ranged GetObject");
        let etag = peeked.e_tag().unwrap_or_default().to_owned();
        let first_bytes = peeked.body.collect().await.expect("the bytes").to_vec();
        let object = StoredObject {
            size: FILE.len() as u64,
            content_type: "text/plain".into(),
            etag,
            last_modified: None,
            first_bytes,
        };
        let completion = Completion {
            caller: Caller {
                token_hash: &token_hash,
                connection: &connection,
                client_token_hash: &client_token_hash,
                fingerprint: &fingerprint,
                now: SystemTime::now(),
                limits,
            },
            attachment_id: &attachment,
            object: &object,
            expected_content_type: "text/plain",
            rejection: None,
        };
        dynamodb
            .transact_write_items()
            .set_transact_items(Some(store.complete_transaction(&completion).unwrap()))
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
        "handler overhead: handler median {:.3} ms / bare ranged GetObject + TransactWriteItems median {:.3} ms = {ratio:.3} ({OVERHEAD_SAMPLES} samples each)",
        ms(handler_median),
        ms(bare_median)
    );
    json!({
        "samples": OVERHEAD_SAMPLES,
        "handler_median_ms": ms(handler_median),
        "bare_calls_median_ms": ms(bare_median),
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

/// The kinds of request whose calls the cold-start runs count, in the order they are sent.
const KINDS: [&str; 8] = [
    "complete, cold",
    "complete, warm",
    "complete, replay",
    "start, warm",
    "start, replay",
    "get",
    "unknown token",
    "validation error",
];

async fn cold_start() -> Value {
    let mut first_invocation = Vec::new();
    let mut counted = Vec::new();
    for _ in 0..COLD_STARTS {
        let contact = unique("contact");
        let alice = Participant::connected(&contact).await;
        let agent = Participant::connected(&contact).await;
        let (first, second) = (alice.attachment().await, alice.attachment().await);
        let replayed = complete_body(&second);
        let start = json!({
            "AttachmentName": "a.txt", "AttachmentSizeInBytes": 3, "ContentType": "text/plain",
            "ClientToken": unique("st"),
        });
        let events = vec![
            http_api_event(Complete, &alice.token, &complete_body(&first)),
            http_api_event(Complete, &alice.token, &replayed),
            http_api_event(Complete, &alice.token, &replayed),
            http_api_event(Start, &alice.token, &start),
            http_api_event(Start, &alice.token, &start),
            http_api_event(Get, &agent.token, &json!({ "AttachmentId": first })),
            http_api_event(Complete, &unique("unknown-token"), &complete_body(&first)),
            http_api_event(Complete, &alice.token, &json!({})),
        ];
        let (times, stdout, _) = run_process(events).await;
        first_invocation.push(times[0]);
        counted = request_lines(&stdout)
            .iter()
            .map(calls)
            .map(|c| json!({"dynamodb": c.dynamodb, "s3": c.s3}))
            .collect();
    }
    let median_first = median(&mut first_invocation);
    let calls: serde_json::Map<String, Value> = KINDS
        .iter()
        .zip(counted)
        .map(|(kind, calls)| ((*kind).to_owned(), calls))
        .collect();
    println!(
        "cold start: exec → first completed invocation (a CompleteAttachmentUpload), median of {COLD_STARTS}: {:.2} ms; calls per request: {}",
        ms(median_first),
        Value::Object(calls.clone())
    );
    json!({
        "runs": COLD_STARTS,
        "exec_to_first_response_median_ms": ms(median_first),
        "exec_to_first_response_min_ms": ms(first_invocation[0]),
        "calls": calls,
    })
}

async fn peak_rss() -> Value {
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let approved = alice.attachment().await;
    let mut events = Vec::new();
    for i in 0..RSS_INVOCATIONS {
        let body = json!({
            "AttachmentName": format!("file-{i}.txt"), "AttachmentSizeInBytes": 3,
            "ContentType": "text/plain", "ClientToken": unique("st"),
        });
        events.push(http_api_event(Start, &alice.token, &body));
        if i % 4 == 0 {
            events.push(http_api_event(
                Get,
                &alice.token,
                &json!({ "AttachmentId": approved }),
            ));
        }
    }
    let (_, _, peak_rss_kib) = run_process(events).await;
    println!(
        "peak RSS after {} invocations: {:.1} MiB",
        RSS_INVOCATIONS + RSS_INVOCATIONS / 4,
        peak_rss_kib as f64 / 1024.0
    );
    json!({ "invocations": RSS_INVOCATIONS + RSS_INVOCATIONS / 4, "peak_rss_mib": peak_rss_kib as f64 / 1024.0 })
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this as a test: skip the
    // measurement there (it needs the local services and a release build).
    if !std::env::args().any(|a| a == "--bench") {
        println!("benches/lambda.rs measures only under `make bench` (local services and a release build)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let results = json!({
            "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "handler_overhead": handler_overhead().await,
            "cold_start": cold_start().await,
            "peak_rss": peak_rss().await,
        });
        std::fs::create_dir_all("target/bench").unwrap();
        std::fs::write(
            "target/bench/lambda.json",
            serde_json::to_string_pretty(&results).unwrap(),
        )
        .unwrap();
    });
}
