//! The release path end to end: the function's binary, started as Lambda starts it, fed API
//! Gateway events through a stub Lambda Runtime API (`lambda_http::run`, not a test adapter).

use connect_attachments::domain::Operation::{
    CompleteAttachmentUpload as Complete, GetAttachment as Get, StartAttachmentUpload as Start,
};
use devkit::fixtures::*;
use devkit::runtime_api::{http_api_event, FunctionProcess};
use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_connect-attachments");

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
}
