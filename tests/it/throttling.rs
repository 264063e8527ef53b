//! Throttling that outlasts a call's time bound is 429 `ThrottlingException`, never our own 500,
//! at any `S3_TIMEOUT_MS` or `DYNAMODB_TIMEOUT_MS` and under the invocation's deadline: with the
//! SDK's real retries against a proxy that throttles the local S3 or DynamoDB Local, 20 calls at
//! each bound, each answered within the bound plus a small margin. Nothing is written, and the
//! same ClientToken succeeds once the throttling clears.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use devkit::fixtures::*;
use devkit::local;
use devkit::server::{fault_proxy, Decide, Fault};
use futures_util::future::join_all;
use http_body_util::Full;
use hyper::body::Bytes;
use lambda_http::RequestExt;

/// What a request still takes once its throttled call gave up: answering, and the calls before.
const MARGIN: Duration = Duration::from_millis(750);
const CALLS: usize = 20;

/// Which service the proxy stands in front of, and how that service throttles.
#[derive(Clone, Copy)]
enum Throttled {
    /// The ranged `GetObject` answered `503 SlowDown`.
    S3,
    /// `TransactWriteItems` answered `400 ProvisionedThroughputExceededException`.
    DynamoDb,
}

impl Throttled {
    fn matches(self, request: &hyper::http::request::Parts) -> bool {
        match self {
            Self::S3 => {
                request.method == hyper::Method::GET && request.headers.contains_key("range")
            }
            Self::DynamoDb => request
                .headers
                .get("x-amz-target")
                .and_then(|t| t.to_str().ok())
                .is_some_and(|t| t.ends_with("TransactWriteItems")),
        }
    }

    fn answer(self) -> hyper::Response<Full<Bytes>> {
        let (status, content_type, body) = match self {
            Self::S3 => (
                503,
                "application/xml",
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
            ),
            Self::DynamoDb => (
                400,
                "application/x-amz-json-1.0",
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#,
            ),
        };
        hyper::Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap()
    }
}

/// A proxy in front of the local service that throttles `which` while its switch is on, each
/// throttled answer `delayed`; everything else passes. Its endpoint, and the switch.
async fn throttling_proxy(which: Throttled, delayed: Duration) -> (String, Arc<AtomicBool>) {
    let upstream = match which {
        Throttled::S3 => local::s3_endpoint(),
        Throttled::DynamoDb => local::dynamodb_endpoint(),
    };
    let on = Arc::new(AtomicBool::new(true));
    let switch = on.clone();
    let decide: Decide = Arc::new(move |request| {
        if on.load(Ordering::SeqCst) && which.matches(request) {
            Fault::Answer(delayed, which.answer())
        } else {
            Fault::Pass
        }
    });
    (fault_proxy(upstream, decide).await, switch)
}

/// 20 completions while `which` throttles, the call's bound `bound` (and the invocation's
/// `deadline`, if any): each 429 within `limit`, nothing written; then, the throttling cleared,
/// the same requests approve each attachment once.
async fn completions_while_throttled(
    which: Throttled,
    bound: Duration,
    delayed: Duration,
    deadline: Option<Duration>,
) {
    let limit = deadline.unwrap_or(bound) + MARGIN;
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let attachments = join_all((0..CALLS).map(|_| alice.attachment())).await;
    let (proxy, switch) = throttling_proxy(which, delayed).await;
    let handler = match which {
        Throttled::S3 => handler_with_clients(
            local::dynamodb_client(),
            local::s3_client_for(&proxy, bound),
            settings(),
        ),
        Throttled::DynamoDb => handler_with(local::dynamodb_client_for(&proxy, bound), settings()),
    };
    let request = |id: &String| {
        let request = alice.complete_request(id, &format!("token-{id}"));
        match deadline {
            Some(left) => request.with_lambda_context(invocation_ending_in(left)),
            None => request,
        }
    };

    let answers = join_all(attachments.iter().map(|id| {
        let (handler, request) = (handler.clone(), request(id));
        async move {
            let started = Instant::now();
            let response = handler.handle(request).await;
            (status_and_type(&response), started.elapsed())
        }
    }))
    .await;

    for (answer, took) in &answers {
        assert_eq!(
            answer,
            &(429, Some("ThrottlingException".into())),
            "bound {bound:?}, throttled answers delayed {delayed:?}"
        );
        assert!(
            *took < limit,
            "answered in {took:?}, more than {limit:?} (bound {bound:?})"
        );
    }
    for id in &attachments {
        assert_eq!(attachment_status(id).await, "IN_PROGRESS");
    }
    assert_eq!(completed_count(&contact).await, 0);

    switch.store(false, Ordering::SeqCst);
    let handler = handler.clone();
    for id in &attachments {
        let response = handler
            .handle(alice.complete_request(id, &format!("token-{id}")))
            .await;
        assert_eq!(status_and_type(&response), (200, None));
        assert_eq!(attachment_status(id).await, "APPROVED");
    }
    assert_eq!(completed_count(&contact).await, CALLS as u32);
}

const BOUNDS: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_millis(1000),
    Duration::from_millis(2000),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_throttling_is_429_within_the_bound_at_any_s3_timeout() {
    for bound in BOUNDS {
        // At once, every attempt and back-off inside the bound; slow, the bound ends first.
        for delayed in [Duration::ZERO, bound / 5] {
            completions_while_throttled(Throttled::S3, bound, delayed, None).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_throttling_is_429_within_the_bound_at_any_dynamodb_timeout() {
    for bound in BOUNDS {
        for delayed in [Duration::ZERO, bound / 5] {
            completions_while_throttled(Throttled::DynamoDb, bound, delayed, None).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_that_outlasts_the_invocations_deadline_is_429() {
    let (bound, left) = (Duration::from_secs(3), Duration::from_millis(800));
    for which in [Throttled::S3, Throttled::DynamoDb] {
        completions_while_throttled(which, bound, Duration::from_millis(300), Some(left)).await;
    }
}
