//! The release path end to end: the function's binary, started as Lambda starts it, fed API
//! Gateway events through a stub Lambda Runtime API (`lambda_http::run`, not a test adapter).

use connect_attachments::domain::Operation::{
    CompleteAttachmentUpload as Complete, GetAttachment as Get, StartAttachmentUpload as Start,
};
use devkit::fixtures::*;
use devkit::runtime_api::{http_api_event, FunctionProcess, TRACE_ID};
use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_connect-attachments");

fn status_and_type(response: &Value) -> (u64, Option<&str>) {
    (
        response["statusCode"].as_u64().unwrap(),
        response["headers"]["x-amzn-errortype"].as_str(),
    )
}

/// Under a Lambda runtime every invocation has a trace id, which the SDK adds to the request it
/// pre-signs: a browser told to send it too is refused by the bucket's CORS rule.
fn assert_headers_to_include_are_signed_and_allowed_by_the_bucket(upload: &Value) {
    let url = upload["Url"].as_str().unwrap();
    let signed = url
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="))
        .unwrap()
        .replace("%3B", ";");
    let headers = upload["HeadersToInclude"].as_object().unwrap();
    let names: Vec<&str> = headers.keys().map(String::as_str).collect();
    assert_eq!(names, ["Content-Type", "If-None-Match"], "{upload}");
    for name in names {
        assert!(
            signed.split(';').any(|s| s.eq_ignore_ascii_case(name)),
            "{name} is signed: {signed}"
        );
        assert!(
            connect_attachments::api::cors::BUCKET_HEADERS.contains(&name),
            "the bucket's CORS allows {name}"
        );
    }
    assert!(
        !url.contains("Root%3D1-") && !url.contains("Root=1-"),
        "{url}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_answers_events_and_logs_no_secret_even_at_trace() {
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    let first_token = unique("SECRET-CLIENT-TOKEN-A");
    let second_token = unique("SECRET-CLIENT-TOKEN-B");
    let unknown = unique("SECRET-BEARER-UNKNOWN");
    let complete = |client_token: &str| json!({ "AttachmentIds": [attachment_id], "ClientToken": client_token });
    let start = json!({
        "AttachmentName": "cat.txt", "AttachmentSizeInBytes": 3, "ContentType": "text/plain",
        "ClientToken": first_token,
    });
    let events = vec![
        http_api_event(Start, &alice.token, &start),
        http_api_event(Complete, &alice.token, &complete(&first_token)),
        http_api_event(Complete, &alice.token, &complete(&first_token)),
        http_api_event(Complete, &alice.token, &complete(&second_token)),
        http_api_event(Complete, &unknown, &complete(&first_token)),
        http_api_event(Complete, &alice.token, &json!({"AttachmentIds": []})),
        http_api_event(Get, &alice.token, &json!({ "AttachmentId": attachment_id })),
    ];
    let mut function = FunctionProcess::start(BINARY, &[("RUST_LOG", "trace")], events).await;

    let mut answers = Vec::new();
    for _ in 0..7 {
        let (_, response) = function.next_response().await;
        answers.push(response);
    }
    let log = function.stop().await;

    let urls: Vec<String> = [&answers[0], &answers[6]]
        .iter()
        .map(|answer| {
            let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
            let url = &body["UploadMetadata"]["Url"];
            url.as_str().or(body["Url"].as_str()).unwrap().to_owned()
        })
        .collect();
    let started: Value = serde_json::from_str(answers[0]["body"].as_str().unwrap()).unwrap();
    assert_headers_to_include_are_signed_and_allowed_by_the_bucket(&started["UploadMetadata"]);
    let answers: Vec<_> = answers.iter().map(status_and_type).collect();
    assert_eq!(
        answers,
        [
            (200, None),
            (200, None),
            (200, None),
            (409, Some("ConflictException")),
            (403, Some("AccessDeniedException")),
            (400, Some("ValidationException")),
            (200, None),
        ]
    );
    assert_eq!(attachment_status(&attachment_id).await, "APPROVED");
    let signatures = urls
        .iter()
        .map(|url| url.split("X-Amz-Signature=").nth(1).unwrap().to_owned());
    for secret in [&alice.token, &first_token, &second_token, &unknown]
        .into_iter()
        .cloned()
        .chain(signatures)
    {
        assert!(
            !log.contains(secret.as_str()),
            "a secret or a URL's signature reached the log at trace level"
        );
    }
    let calls: Vec<(u64, u64)> = request_lines(&log)
        .iter()
        .map(calls)
        .map(|c| (c.dynamodb, c.s3))
        .collect();
    assert_eq!(
        calls,
        [(2, 0), (1, 1), (1, 1), (1, 1), (1, 0), (0, 0), (1, 0)],
        "one log line per request, with its DynamoDB and S3 calls"
    );
    let records: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect();
    assert_eq!(records.len(), 7, "one EMF record per request");
    let cold: u64 = records
        .iter()
        .map(|r| r["ColdStart"].as_u64().unwrap())
        .sum();
    assert_eq!(
        cold, 1,
        "the first request of the process is the cold start"
    );
    assert_eq!(records[1]["Operation"], "CompleteAttachmentUpload");
    assert_eq!(records[3]["Outcome"], "ConflictException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outgoing_dynamodb_and_s3_calls_and_the_log_line_carry_the_invocations_trace_id() {
    let (dynamodb, dynamodb_seen) =
        devkit::server::recording_proxy(devkit::local::dynamodb_endpoint()).await;
    let (s3, s3_seen) = devkit::server::recording_proxy(devkit::local::s3_endpoint()).await;
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    let events = vec![http_api_event(
        Complete,
        &alice.token,
        &json!({ "AttachmentIds": [attachment_id], "ClientToken": "trace" }),
    )];
    let env = [
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.as_str()),
        ("AWS_ENDPOINT_URL_S3", s3.as_str()),
    ];
    let mut function = FunctionProcess::start(BINARY, &env, events).await;
    let (_, response) = function.next_response().await;
    let log = function.stop().await;

    assert_eq!(status_and_type(&response), (200, None));
    for (service, seen) in [("DynamoDB", dynamodb_seen), ("S3", s3_seen)] {
        let traced: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|headers| headers.get("x-amzn-trace-id"))
            .map(|value| value.to_str().unwrap().to_owned())
            .collect();
        assert!(
            !traced.is_empty() && traced.iter().all(|t| t == TRACE_ID),
            "{service} calls of the invocation carry its trace id: {traced:?}"
        );
    }
    let lines = request_lines(&log);
    assert_eq!(lines.len(), 1, "{log}");
    assert_eq!(lines[0]["xray_trace_id"], TRACE_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_names_once_each_allowed_type_accepted_on_its_declaration_alone() {
    let alice = Participant::connected(&unique("contact")).await;
    let events = vec![http_api_event(
        Get,
        &alice.token,
        &json!({ "AttachmentId": "none" }),
    )];
    let env = [("ALLOWED_CONTENT_TYPES", "text/plain,image/webp,image/png")];
    let mut function = FunctionProcess::start(BINARY, &env, events).await;
    let _ = function.next_response().await;
    let log = function.stop().await;

    let named: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| {
            line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("no known signature"))
        })
        .collect();
    assert_eq!(named.len(), 1, "{log}");
    assert_eq!(named[0]["content_type"], "image/webp");
}
