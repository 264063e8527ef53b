//! DynamoDB faults: throttling, conflicts, an unreachable or stalled endpoint, a lost response,
//! and a panic. Where DynamoDB Local cannot produce the fault, `aws-smithy-mocks` answers instead.

use crate::COMPLETE;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use connect_attachments::api::Handler;
use connect_attachments::domain::{Connection, Effect, TokenHash};
use connect_attachments::service::{RetryPolicy, Service, Settings};
use connect_attachments::store::{Caller, Completion, Start, Started, Store, StoreError};
use devkit::fixtures::*;
use devkit::local;
use devkit::server::{fault_proxy, Decide, Fault};
use lambda_http::RequestExt;
use serde_json::json;

const INTERNAL: &str = r#"{"Message":"An internal error occurred. Retry the request."}"#;

/// A generic 500, answered within `limit` of `started`.
fn assert_internal_within(
    response: &lambda_http::Response<lambda_http::Body>,
    started: Instant,
    limit: Duration,
) {
    assert_eq!(
        parts(response),
        (500, Some("InternalServerException".into()), INTERNAL.into())
    );
    assert!(started.elapsed() < limit, "{:?}", started.elapsed());
}

fn fast_retries() -> Settings {
    Settings {
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        ..settings()
    }
}

async fn mocked_handler(rules: &[&Rule]) -> Arc<App> {
    mocked_upload().await;
    let dynamodb = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()));
    handler_with(dynamodb, fast_retries())
}

fn cancelled(codes: [&str; 4]) -> String {
    let reasons: Vec<_> = codes.iter().map(|code| json!({ "Code": code })).collect();
    json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": "Transaction cancelled",
        "CancellationReasons": reasons,
    })
    .to_string()
}

fn any_request() -> lambda_http::Request {
    request(
        COMPLETE,
        Some("token"),
        json!({"AttachmentIds": ["a"], "ClientToken": "t"}).to_string(),
    )
}

#[tokio::test]
async fn throttling_errors_are_429_and_not_retried_again_by_the_function() {
    for code in [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    ] {
        let transaction = transactions_answering(400, aws_error(code));
        let handler = mocked_handler(&[&live_connection(), &transaction]).await;

        let response = handler.handle(any_request()).await;

        assert_eq!(
            status_and_type(&response),
            (429, Some("ThrottlingException".into())),
            "{code}"
        );
        assert_eq!(transaction.num_calls(), 1, "the SDK already retried {code}");
    }
}

#[tokio::test]
async fn throttling_that_outlasts_the_sdks_own_retries_is_429() {
    let transaction =
        transactions_answering(400, aws_error("ProvisionedThroughputExceededException"));
    let retrying = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1));
    let dynamodb = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        &[&live_connection(), &transaction],
        |c| c
            .retry_config(retrying.clone())
            .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
    );

    let response = handler_with(dynamodb, fast_retries())
        .handle(any_request())
        .await;

    assert_eq!(
        status_and_type(&response),
        (429, Some("ThrottlingException".into()))
    );
    assert_eq!(
        transaction.num_calls(),
        3,
        "the SDK retried the throttled call itself"
    );
}

#[tokio::test]
async fn throttling_on_the_connection_lookup_is_429() {
    let lookup = lookups_answering(400, aws_error("ProvisionedThroughputExceededException"));
    let response = mocked_handler(&[&lookup]).await.handle(any_request()).await;
    assert_eq!(
        status_and_type(&response),
        (429, Some("ThrottlingException".into()))
    );
}

#[tokio::test]
async fn throttling_reasons_in_a_cancelled_transaction_are_retried_then_429() {
    let transaction =
        transactions_answering(400, cancelled(["None", "ThrottlingError", "None", "None"]));
    let handler = mocked_handler(&[&live_connection(), &transaction]).await;

    let response = handler.handle(any_request()).await;

    assert_eq!(
        status_and_type(&response),
        (429, Some("ThrottlingException".into()))
    );
    assert_eq!(
        transaction.num_calls(),
        4,
        "bounded by RetryPolicy::max_attempts"
    );
}

#[tokio::test]
async fn a_transaction_conflict_is_retried_until_it_clears() {
    let transaction = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .sequence()
        .http_status(
            400,
            Some(cancelled(["None", "None", "None", "TransactionConflict"])),
        )
        .times(2)
        .http_status(200, Some("{}".to_owned()))
        .build();
    let handler = mocked_handler(&[&live_connection(), &transaction]).await;

    let response = handler.handle(any_request()).await;

    assert_eq!(status_and_type(&response), (200, None));
    assert_eq!(transaction.num_calls(), 3);
}

#[tokio::test]
async fn a_conflict_that_clears_into_a_failed_condition_is_classified_by_it() {
    let transaction = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .sequence()
        .http_status(
            400,
            Some(cancelled(["None", "TransactionConflict", "None", "None"])),
        )
        .http_status(
            400,
            Some(cancelled([
                "None",
                "None",
                "None",
                "ConditionalCheckFailed",
            ])),
        )
        .build();
    let handler = mocked_handler(&[&live_connection(), &transaction]).await;

    let response = handler.handle(any_request()).await;

    assert_eq!(
        status_and_type(&response),
        (402, Some("ServiceQuotaExceededException".into()))
    );
}

#[tokio::test]
async fn a_persistent_transaction_conflict_is_429_after_bounded_retries() {
    let transaction = transactions_answering(
        400,
        cancelled(["None", "None", "None", "TransactionConflict"]),
    );
    let handler = mocked_handler(&[&live_connection(), &transaction]).await;

    let response = handler.handle(any_request()).await;

    assert_eq!(
        status_and_type(&response),
        (429, Some("ThrottlingException".into()))
    );
    assert_eq!(transaction.num_calls(), 4);
}

#[tokio::test]
async fn an_unexpected_dynamodb_error_is_a_generic_500() {
    let transaction = transactions_answering(400, aws_error("ResourceNotFoundException"));
    let response = mocked_handler(&[&live_connection(), &transaction])
        .await
        .handle(any_request())
        .await;
    assert_eq!(
        parts(&response),
        (500, Some("InternalServerException".into()), INTERNAL.into())
    );
}

#[tokio::test]
async fn an_unreachable_dynamodb_is_500_within_the_timeout() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let handler = handler_with(
        local::dynamodb_client_for(&endpoint, Duration::from_millis(600)),
        settings(),
    );

    let started = Instant::now();
    let response = handler.handle(any_request()).await;

    assert_internal_within(&response, started, Duration::from_secs(3));
}

/// A proxy in front of DynamoDB Local; `fault(n)` decides the fate of the n-th
/// `TransactWriteItems` (other operations pass). Returns the proxy's endpoint and the number of
/// transactions it has seen.
async fn proxy(fault: fn(usize) -> Fault) -> (String, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let decide: Decide = Arc::new(move |request| {
        let target = request
            .headers
            .get("x-amz-target")
            .and_then(|t| t.to_str().ok());
        if target.is_some_and(|t| t.ends_with("TransactWriteItems")) {
            fault(counter.fetch_add(1, Ordering::SeqCst))
        } else {
            Fault::Pass
        }
    });
    (fault_proxy(local::dynamodb_endpoint(), decide).await, seen)
}

#[tokio::test]
async fn a_transaction_that_never_reaches_dynamodb_is_500_within_the_timeout_and_writes_nothing() {
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let attachment_id = alice.attachment().await;
    let (proxy, transactions) = proxy(|_| Fault::StallBefore).await;
    let handler = handler_with(
        local::dynamodb_client_for(&proxy, Duration::from_millis(800)),
        settings(),
    );

    let started = Instant::now();
    let response = handler
        .handle(alice.complete_request(&attachment_id, "t"))
        .await;

    assert_internal_within(&response, started, Duration::from_secs(3));
    assert!(
        transactions.load(Ordering::SeqCst) >= 1,
        "the lookup passed, the transaction stalled"
    );
    assert_eq!(attachment_status(&attachment_id).await, "IN_PROGRESS");
    assert!(alice.idempotency_record("t").await.is_none());
    assert_eq!(completed_count(&contact).await, 0);
}

#[tokio::test]
async fn a_committed_transaction_whose_answer_is_lost_or_late_answers_200_on_the_sdk_retry() {
    let faults: [fn(usize) -> Fault; 2] = [
        |n| {
            if n == 0 {
                Fault::DropAnswer
            } else {
                Fault::Pass
            }
        },
        |n| {
            if n == 0 {
                Fault::StallAfter
            } else {
                Fault::Pass
            }
        },
    ];
    for fault in faults {
        let contact = unique("contact");
        let alice = Participant::connected(&contact).await;
        let attachment_id = alice.attachment().await;
        let (proxy, transactions) = proxy(fault).await;
        // Each attempt may take half of the 2 s: a stalled one times out, the retry answers.
        let handler = handler_with(
            local::dynamodb_client_for(&proxy, Duration::from_secs(2)),
            settings(),
        );

        let response = handler
            .handle(alice.complete_request(&attachment_id, "t"))
            .await;

        assert_eq!(
            transactions.load(Ordering::SeqCst),
            2,
            "the SDK sent it again"
        );
        assert_eq!(status_and_type(&response), (200, None));
        assert_eq!(attachment_status(&attachment_id).await, "APPROVED");
        assert_eq!(completed_count(&contact).await, 1, "committed once");
    }
}

#[tokio::test]
async fn a_commit_whose_every_answer_stalls_is_500_and_the_callers_retry_is_a_replay() {
    // The one case where a 500 follows a write: DynamoDB committed, but no answer ever came
    // back. The caller's SDK retries a 500 with the same ClientToken, which answers 200.
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let attachment_id = alice.attachment().await;
    let (proxy, _) = proxy(|_| Fault::StallAfter).await;
    let stalled = handler_with(
        local::dynamodb_client_for(&proxy, Duration::from_millis(800)),
        settings(),
    );

    let first = stalled
        .handle(alice.complete_request(&attachment_id, "t"))
        .await;
    let retry = handler()
        .handle(alice.complete_request(&attachment_id, "t"))
        .await;

    assert_eq!(
        status_and_type(&first),
        (500, Some("InternalServerException".into()))
    );
    assert_eq!(status_and_type(&retry), (200, None));
    assert_eq!(completed_count(&contact).await, 1);
}

#[tokio::test]
async fn work_stops_before_the_invocations_deadline() {
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    let (proxy, _) = proxy(|_| Fault::StallBefore).await;
    // The SDK alone would wait 10 s; the invocation has 1 s.
    let handler = handler_with(
        local::dynamodb_client_for(&proxy, Duration::from_secs(10)),
        settings(),
    );
    let context = invocation_ending_in(Duration::from_secs(1));
    let request = alice
        .complete_request(&attachment_id, "t")
        .with_lambda_context(context);

    let started = Instant::now();
    let response = handler.handle(request).await;

    assert_internal_within(&response, started, Duration::from_secs(1));
}

#[tokio::test]
async fn conflict_retries_stop_before_the_invocations_deadline() {
    mocked_upload().await;
    let transaction = transactions_answering(
        400,
        cancelled(["None", "None", "None", "TransactionConflict"]),
    );
    let dynamodb = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        &[&live_connection(), &transaction],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let slow_backoff = Settings {
        retry: RetryPolicy {
            max_attempts: 100,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_millis(200),
        },
        ..settings()
    };
    let left = Duration::from_millis(900);
    let context = invocation_ending_in(left);

    let started = Instant::now();
    let response = handler_with(dynamodb, slow_backoff)
        .handle(any_request().with_lambda_context(context))
        .await;

    assert_eq!(
        status_and_type(&response),
        (429, Some("ThrottlingException".into()))
    );
    assert!(started.elapsed() < left, "{:?}", started.elapsed());
    // The deadline stopped them, not the policy's 100 attempts (their jittered delays, up to
    // 200 ms each, add up to ~10 s).
    assert!(
        transaction.num_calls() < 100,
        "{} attempts",
        transaction.num_calls()
    );
}

/// A store with a bug: it panics.
struct Panicking;

impl Store for Panicking {
    async fn find_connection(&self, _: &TokenHash) -> Result<Option<Connection>, StoreError> {
        panic!("a bug in the store")
    }

    async fn start(&self, _: &Start<'_>) -> Result<Started, StoreError> {
        unreachable!()
    }

    async fn complete(&self, _: &Completion<'_>) -> Result<Effect, StoreError> {
        unreachable!()
    }

    async fn replay_or_refuse(
        &self,
        _: &Caller<'_>,
        _: &connect_attachments::domain::AttachmentId,
    ) -> Result<Effect, StoreError> {
        unreachable!()
    }

    async fn approved_attachment(
        &self,
        _: &TokenHash,
        _: &connect_attachments::domain::AttachmentId,
        _: SystemTime,
    ) -> Result<connect_attachments::domain::ApprovedAttachment, StoreError> {
        unreachable!()
    }
}

#[tokio::test]
async fn a_panic_becomes_a_500_and_the_handler_keeps_serving() {
    let handler = Handler::new(Service::new(
        Panicking,
        connect_attachments::objects::S3Objects::new(local::s3_client(), local::bucket()),
        settings(),
    ));

    let first = handler.handle(any_request()).await;
    let second = handler.handle(any_request()).await;

    assert_eq!(
        parts(&first),
        (500, Some("InternalServerException".into()), INTERNAL.into())
    );
    assert_eq!(
        status_and_type(&second),
        (500, Some("InternalServerException".into()))
    );
}

/// An S3 client whose `GetObject` always answers `status`, with the SDK's own retries off.
fn s3_answering(status: u16) -> aws_sdk_s3::Client {
    let head = mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .http_status(status, None)
        .repeatedly()
        .build();
    mock_client!(aws_sdk_s3, RuleMode::MatchAny, &[&head], |c| c
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled()))
}

#[tokio::test]
async fn s3_throttling_that_outlasts_the_sdks_retries_is_429_and_writes_nothing() {
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    for status in [503, 429] {
        let handler =
            handler_with_clients(local::dynamodb_client(), s3_answering(status), settings());
        let response = handler
            .handle(alice.complete_request(&attachment_id, "t"))
            .await;
        assert_eq!(
            status_and_type(&response),
            (429, Some("ThrottlingException".into())),
            "GetObject answered {status}"
        );
    }
    assert_eq!(attachment_status(&attachment_id).await, "IN_PROGRESS");
}

#[tokio::test]
async fn an_unexpected_s3_error_or_an_unreachable_s3_is_a_generic_500_within_the_timeout() {
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    let handler = handler_with_clients(local::dynamodb_client(), s3_answering(500), settings());
    let started = Instant::now();
    let response = handler
        .handle(alice.complete_request(&attachment_id, "t"))
        .await;
    assert_internal_within(&response, started, Duration::from_secs(3));

    let unreachable = local::s3_client_for("http://127.0.0.1:9", Duration::from_millis(300));
    let handler = handler_with_clients(local::dynamodb_client(), unreachable, settings());
    let started = Instant::now();
    let response = handler
        .handle(alice.complete_request(&attachment_id, "t"))
        .await;
    assert_internal_within(&response, started, Duration::from_secs(3));
    assert_eq!(attachment_status(&attachment_id).await, "IN_PROGRESS");
}
