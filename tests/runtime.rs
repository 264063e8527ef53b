//! The release path end to end: the function's binary, started as Lambda starts it, fed API
//! Gateway events through a stub Lambda Runtime API (`lambda_http::run`, not a test adapter).

mod common;

use common::runtime_api::{http_api_event, request_body, FunctionProcess};
use common::*;
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_complete-attachment-upload");

fn status_and_type(response: &Value) -> (u64, Option<&str>) {
    (
        response["statusCode"].as_u64().unwrap(),
        response["headers"]["x-amzn-errortype"].as_str(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_answers_events_and_logs_no_secret_even_at_trace() {
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    let first_token = unique("SECRET-CLIENT-TOKEN-A");
    let second_token = unique("SECRET-CLIENT-TOKEN-B");
    let unknown = unique("SECRET-BEARER-UNKNOWN");
    let events = vec![
        http_api_event(&alice.token, &request_body(&attachment_id, &first_token)),
        http_api_event(&alice.token, &request_body(&attachment_id, &first_token)),
        http_api_event(&alice.token, &request_body(&attachment_id, &second_token)),
        http_api_event(&unknown, &request_body(&attachment_id, &first_token)),
        http_api_event(&alice.token, "{\"AttachmentIds\": []}"),
    ];
    let mut function = FunctionProcess::start(BINARY, &[("RUST_LOG", "trace")], events).await;

    let mut answers = Vec::new();
    for _ in 0..5 {
        let (_, response) = function.next_response().await;
        answers.push(response);
    }
    let log = function.stop().await;

    let answers: Vec<_> = answers.iter().map(status_and_type).collect();
    assert_eq!(
        answers,
        [
            (200, None),
            (200, None),
            (409, Some("ConflictException")),
            (403, Some("AccessDeniedException")),
            (400, Some("ValidationException")),
        ]
    );
    assert_eq!(attachment_status(&attachment_id).await, "APPROVED");
    for secret in [&alice.token, &first_token, &second_token, &unknown] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret reached the log at trace level"
        );
    }
    let calls: Vec<u64> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|line| line.get("dynamodb_calls").and_then(Value::as_u64))
        .collect();
    assert_eq!(
        calls,
        [2, 1, 1, 1, 0],
        "one log line per request, with its DynamoDB calls"
    );
}
