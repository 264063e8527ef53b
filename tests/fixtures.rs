//! Every sample event in `events/` (the files `cargo lambda invoke` and `sam local invoke` use),
//! loaded with `lambda_http::request::from_str` and run through the handler against DynamoDB Local,
//! in the order a fresh `make run` would answer them.

mod common;

use std::process::Command;

use common::*;

const INVALID: Option<&str> = Some("ValidationException");
const DENIED: Option<&str> = Some("AccessDeniedException");
const CONFLICT: Option<&str> = Some("ConflictException");
const UNKNOWN: Option<&str> = Some("UnknownOperationException");
const NOT_ALLOWED: Option<&str> = Some("MethodNotAllowedException");

/// (event, status, X-Amzn-ErrorType), in the order they run.
const EXPECTED: &[(&str, u16, Option<&str>)] = &[
    ("success", 200, None),
    ("replay", 200, None),
    ("conflict-new-client-token", 409, CONFLICT),
    ("missing-header", 400, INVALID),
    ("empty-header", 400, INVALID),
    ("unknown-token", 403, DENIED),
    ("unknown-attachment", 403, DENIED),
    ("validation-long-header", 400, INVALID),
    ("validation-body-not-json", 400, INVALID),
    ("validation-body-not-an-object", 400, INVALID),
    ("validation-body-too-large", 400, INVALID),
    ("validation-attachment-id-not-a-string", 400, INVALID),
    ("validation-client-token-not-a-string", 400, INVALID),
    ("validation-missing-attachment-ids", 400, INVALID),
    ("validation-empty-attachment-ids", 400, INVALID),
    ("validation-two-attachment-ids", 400, INVALID),
    ("validation-empty-attachment-id", 400, INVALID),
    ("validation-long-attachment-id", 400, INVALID),
    ("validation-missing-client-token", 400, INVALID),
    ("validation-empty-client-token", 400, INVALID),
    ("validation-long-client-token", 400, INVALID),
    ("wrong-path", 404, UNKNOWN),
    ("wrong-method", 405, NOT_ALLOWED),
    ("rest-api-success", 200, None),
    ("rest-api-base64-replay", 200, None),
    ("rest-api-missing-header", 400, INVALID),
];

/// Seeds what `make run` seeds, with the same script: a fresh demo every time.
fn seed_demo() {
    let status = Command::new("scripts/tables.sh")
        .args([
            "seed",
            "demo-connection-token",
            "demo-attachment",
            "demo-attachment-rest",
        ])
        .status()
        .expect("run scripts/tables.sh");
    assert!(status.success(), "seeding failed");
}

#[tokio::test]
async fn every_event_in_events_answers_as_expected() {
    let mut files: Vec<String> = std::fs::read_dir("events")
        .expect("events/")
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut expected: Vec<String> = EXPECTED
        .iter()
        .map(|(name, ..)| format!("{name}.json"))
        .collect();
    expected.sort();
    assert_eq!(
        files, expected,
        "every file in events/ has an expectation here, and no other"
    );

    seed_demo();
    let handler = handler();
    for (name, status, error_type) in EXPECTED {
        let json = std::fs::read_to_string(format!("events/{name}.json")).unwrap();
        let request = lambda_http::request::from_str(&json).expect("a valid API Gateway event");
        let response = handler.handle(request).await;
        assert_eq!(
            status_and_type(&response),
            (*status, error_type.map(str::to_owned)),
            "events/{name}.json"
        );
        assert_eq!(
            response.headers()["x-amzn-requestid"],
            format!("evt-{name}").as_str(),
            "the API Gateway request id is echoed"
        );
    }
    assert_eq!(attachment_status("demo-attachment").await, "APPROVED");
    assert_eq!(attachment_status("demo-attachment-rest").await, "APPROVED");
}

#[test]
fn rest_api_events_carry_the_stage_in_the_uri_and_still_route() {
    let json = std::fs::read_to_string("events/rest-api-success.json").unwrap();
    let request = lambda_http::request::from_str(&json).unwrap();
    assert!(
        request.uri().path().starts_with("/prod/"),
        "{}",
        request.uri()
    );
}
