//! The sample API Gateway events in `events/`, written by `devkit events` and checked by the
//! fixture test: HTTP API (payload 2.0, what template.yaml's API and `cargo lambda watch` send)
//! for every case, and REST API (payload 1.0, the stage in the path) for a few, so both stay
//! tested. Each event knows the answer a freshly seeded demo gives it, in the order listed.

use base64::Engine as _;
use connect_attachments::domain::Operation;
use serde_json::{json, Value};

use crate::demo;

pub struct SampleEvent {
    pub name: String,
    pub event: Value,
    pub status: u16,
    pub error_type: Option<&'static str>,
}

const HOST: &str = "abcdef1234.execute-api.us-east-1.amazonaws.com";
const USER_AGENT: &str = "aws-sdk-rust/1.3.10 os/linux lang/rust/1.94.1";

/// An HTTP API (payload 2.0) event.
pub fn http_api(
    name: &str,
    operation: Operation,
    token: Option<&str>,
    body: &str,
    method: &str,
    path: &str,
) -> Value {
    let mut headers = json!({
        "content-type": "application/json",
        "host": HOST,
        "user-agent": USER_AGENT,
        "x-forwarded-proto": "https",
    });
    if let Some(token) = token {
        headers["x-amz-bearer"] = json!(token);
    }
    let route_key = format!("{method} {}", operation.path());
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": HOST,
            "domainPrefix": "abcdef1234",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": USER_AGENT},
            "requestId": format!("evt-{name}"),
            "routeKey": route_key,
            "stage": "$default",
            "time": "28/Nov/2026:14:00:00 +0000",
            "timeEpoch": 1_795_874_400_000_u64,
        },
        "body": body,
        "isBase64Encoded": false,
    })
}

/// A REST API (payload 1.0) event of the `prod` stage, its body base64-encoded if `encode`.
pub fn rest_api(
    name: &str,
    operation: Operation,
    token: Option<&str>,
    body: &str,
    encode: bool,
) -> Value {
    let path = operation.path();
    let mut headers = json!({"Content-Type": "application/json", "Host": HOST});
    if let Some(token) = token {
        headers["X-Amz-Bearer"] = json!(token);
    }
    let multi: serde_json::Map<String, Value> = headers
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    let body = if encode {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        body.to_owned()
    };
    json!({
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": null,
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": HOST,
            "httpMethod": "POST",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "aws-sdk-rust"},
            "path": format!("/prod{path}"),
            "protocol": "HTTP/1.1",
            "requestId": format!("evt-{name}"),
            "requestTime": "28/Nov/2026:14:00:00 +0000",
            "requestTimeEpoch": 1_795_874_400_u64,
            "resourceId": "a1b2c3",
            "resourcePath": path,
            "stage": "prod",
        },
        "body": body,
        "isBase64Encoded": encode,
    })
}

/// A StartAttachmentUpload body for the demo file, with `changes` applied (`null` removes).
pub fn start_body(client_token: &str, changes: Value) -> String {
    let upload = demo::upload();
    with_changes(
        json!({
            "AttachmentName": upload.name,
            "AttachmentSizeInBytes": upload.size,
            "ContentType": upload.content_type,
            "ClientToken": client_token,
        }),
        changes,
    )
}

/// A CompleteAttachmentUpload body.
pub fn complete_body(attachment_ids: Value, client_token: Value) -> String {
    with_changes(
        json!({ "AttachmentIds": attachment_ids, "ClientToken": client_token }),
        json!({}),
    )
}

/// A GetAttachment body.
pub fn get_body(attachment_id: &str, changes: Value) -> String {
    with_changes(json!({ "AttachmentId": attachment_id }), changes)
}

fn with_changes(mut body: Value, changes: Value) -> String {
    if let (Some(body), Some(changes)) = (body.as_object_mut(), changes.as_object()) {
        for (key, value) in changes {
            if value.is_null() {
                body.remove(key);
            } else {
                body.insert(key.clone(), value.clone());
            }
        }
    }
    body.to_string()
}

const INVALID: Option<&str> = Some("ValidationException");
const DENIED: Option<&str> = Some("AccessDeniedException");
const CONFLICT: Option<&str> = Some("ConflictException");

/// Every sample event, in the order a freshly seeded demo answers them as listed.
pub fn all() -> Vec<SampleEvent> {
    use Operation::{
        CompleteAttachmentUpload as Complete, GetAttachment as Get, StartAttachmentUpload as Start,
    };
    let [uploaded, uploaded_rest] = demo::UPLOADED;
    let complete = |ids: Value, client_token: Value| complete_body(ids, client_token);
    let ok_complete = || complete(json!([uploaded]), json!("demo-1"));
    let mut events = Vec::new();
    let mut http =
        |name: &str, operation, token: Option<&str>, body: String, status, error_type| {
            events.push(SampleEvent {
                name: name.to_owned(),
                event: http_api(
                    name,
                    operation,
                    token,
                    &body,
                    "POST",
                    Operation::path(operation),
                ),
                status,
                error_type,
            });
        };
    let token = Some(demo::TOKEN);
    // StartAttachmentUpload
    http(
        "start-success",
        Start,
        token,
        start_body("start-1", json!({})),
        200,
        None,
    );
    http(
        "start-replay",
        Start,
        token,
        start_body("start-1", json!({})),
        200,
        None,
    );
    http(
        "start-client-token-reused",
        Start,
        token,
        start_body("start-1", json!({"AttachmentName": "other.txt"})),
        400,
        INVALID,
    );
    http(
        "start-unsupported-content-type",
        Start,
        token,
        start_body("start-2", json!({"ContentType": "text/html"})),
        400,
        INVALID,
    );
    http(
        "start-too-large",
        Start,
        token,
        start_body("start-2", json!({"AttachmentSizeInBytes": 20_971_521})),
        400,
        INVALID,
    );
    http(
        "start-missing-name",
        Start,
        token,
        start_body("start-2", json!({"AttachmentName": null})),
        400,
        INVALID,
    );
    http(
        "start-unknown-token",
        Start,
        Some("no-such-connection-token"),
        start_body("start-2", json!({})),
        403,
        DENIED,
    );
    // CompleteAttachmentUpload
    http("success", Complete, token, ok_complete(), 200, None);
    http("replay", Complete, token, ok_complete(), 200, None);
    http(
        "conflict-new-client-token",
        Complete,
        token,
        complete(json!([uploaded]), json!("demo-2")),
        409,
        CONFLICT,
    );
    http(
        "missing-header",
        Complete,
        None,
        ok_complete(),
        400,
        INVALID,
    );
    http(
        "empty-header",
        Complete,
        Some(""),
        ok_complete(),
        400,
        INVALID,
    );
    http(
        "unknown-token",
        Complete,
        Some("no-such-connection-token"),
        ok_complete(),
        403,
        DENIED,
    );
    http(
        "unknown-attachment",
        Complete,
        token,
        complete(json!(["no-such-attachment"]), json!("demo-3")),
        403,
        DENIED,
    );
    http(
        "validation-long-header",
        Complete,
        Some(&"t".repeat(1001)),
        ok_complete(),
        400,
        INVALID,
    );
    http(
        "validation-body-not-json",
        Complete,
        token,
        "AttachmentIds=demo-attachment".into(),
        400,
        INVALID,
    );
    http(
        "validation-body-not-an-object",
        Complete,
        token,
        json!([uploaded]).to_string(),
        400,
        INVALID,
    );
    http(
        "validation-body-too-large",
        Complete,
        token,
        with_changes(
            json!({"AttachmentIds": [uploaded], "ClientToken": "demo-1"}),
            json!({"Padding": " ".repeat(64 * 1024)}),
        ),
        400,
        INVALID,
    );
    http(
        "validation-attachment-id-not-a-string",
        Complete,
        token,
        complete(json!([42]), json!("demo-1")),
        400,
        INVALID,
    );
    http(
        "validation-client-token-not-a-string",
        Complete,
        token,
        complete(json!([uploaded]), json!(["demo-1"])),
        400,
        INVALID,
    );
    http(
        "validation-missing-attachment-ids",
        Complete,
        token,
        with_changes(json!({"ClientToken": "demo-1"}), json!({})),
        400,
        INVALID,
    );
    http(
        "validation-empty-attachment-ids",
        Complete,
        token,
        complete(json!([]), json!("demo-1")),
        400,
        INVALID,
    );
    http(
        "validation-two-attachment-ids",
        Complete,
        token,
        complete(json!([uploaded, "other"]), json!("demo-1")),
        400,
        INVALID,
    );
    http(
        "validation-empty-attachment-id",
        Complete,
        token,
        complete(json!([""]), json!("demo-1")),
        400,
        INVALID,
    );
    http(
        "validation-long-attachment-id",
        Complete,
        token,
        complete(json!(["a".repeat(257)]), json!("demo-1")),
        400,
        INVALID,
    );
    http(
        "validation-missing-client-token",
        Complete,
        token,
        with_changes(json!({"AttachmentIds": [uploaded]}), json!({})),
        400,
        INVALID,
    );
    http(
        "validation-empty-client-token",
        Complete,
        token,
        complete(json!([uploaded]), json!("")),
        400,
        INVALID,
    );
    http(
        "validation-long-client-token",
        Complete,
        token,
        complete(json!([uploaded]), json!("c".repeat(501))),
        400,
        INVALID,
    );
    // GetAttachment: the agent downloads what the customer sent.
    http(
        "get-success",
        Get,
        Some(demo::AGENT_TOKEN),
        get_body(demo::APPROVED, json!({})),
        200,
        None,
    );
    http(
        "get-short-expiry",
        Get,
        token,
        get_body(demo::APPROVED, json!({"UrlExpiryInSeconds": 5})),
        200,
        None,
    );
    http(
        "get-expiry-out-of-range",
        Get,
        token,
        get_body(demo::APPROVED, json!({"UrlExpiryInSeconds": 301})),
        400,
        INVALID,
    );
    http(
        "get-unknown-attachment",
        Get,
        token,
        get_body("no-such-attachment", json!({})),
        403,
        DENIED,
    );
    http(
        "get-not-approved",
        Get,
        token,
        get_body(uploaded_rest, json!({})),
        403,
        DENIED,
    );
    events.push(SampleEvent {
        name: "wrong-path".into(),
        event: http_api(
            "wrong-path",
            Complete,
            token,
            &ok_complete(),
            "POST",
            "/participant/other",
        ),
        status: 404,
        error_type: Some("UnknownOperationException"),
    });
    events.push(SampleEvent {
        name: "wrong-method".into(),
        event: http_api(
            "wrong-method",
            Complete,
            token,
            &ok_complete(),
            "GET",
            Complete.path(),
        ),
        status: 405,
        error_type: Some("MethodNotAllowedException"),
    });
    let rest_body = complete(json!([uploaded_rest]), json!("rest-1"));
    for (name, token, encode, status, error_type) in [
        ("rest-api-success", token, false, 200, None),
        ("rest-api-base64-replay", token, true, 200, None),
        ("rest-api-missing-header", None, false, 400, INVALID),
    ] {
        events.push(SampleEvent {
            name: name.into(),
            event: rest_api(name, Complete, token, &rest_body, encode),
            status,
            error_type,
        });
    }
    events.push(SampleEvent {
        name: "rest-api-get-success".into(),
        event: rest_api(
            "rest-api-get-success",
            Get,
            Some(demo::AGENT_TOKEN),
            &get_body(uploaded_rest, json!({})),
            false,
        ),
        status: 200,
        error_type: None,
    });
    events
}

/// The file an event is written to.
pub fn file_text(event: &SampleEvent) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(&event.event).unwrap_or_default()
    )
}

/// A DynamoDB stream record of the attachments table: the deletion of an attachment, by TTL or by
/// a user, with its old image, as Lambda hands it to the reaper.
pub fn attachment_removal(
    sequence: &str,
    by_ttl: bool,
    status: &str,
    contact_id: &str,
    attachment_id: &str,
) -> Value {
    let mut record = json!({
        "eventID": format!("event-{sequence}"),
        "eventName": "REMOVE",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_795_874_400,
            "Keys": {"AttachmentId": {"S": attachment_id}},
            "OldImage": {
                "AttachmentId": {"S": attachment_id},
                "ContactId": {"S": contact_id},
                "ParticipantId": {"S": "demo-participant"},
                "Status": {"S": status},
                "AttachmentName": {"S": "demo.txt"},
                "ContentType": {"S": "text/plain"},
                "AttachmentSizeInBytes": {"N": "32"},
                "ExpiresAt": {"N": "1795874000"},
            },
            "SequenceNumber": sequence,
            "SizeBytes": 220,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/attachments/stream/2026-11-28T14:00:00.000",
    });
    if by_ttl {
        record["userIdentity"] =
            json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"});
    }
    record
}

/// The reaper's sample events (`events/reaper/`): one stream batch each.
pub fn reaper_samples() -> Vec<(&'static str, Value)> {
    let batch = |records: Vec<Value>| json!({ "Records": records });
    let [pending, ..] = demo::UPLOADED;
    vec![
        (
            "ttl-deletion-of-a-pending-upload",
            batch(vec![attachment_removal(
                "100",
                true,
                "IN_PROGRESS",
                demo::CONTACT_ID,
                pending,
            )]),
        ),
        (
            "user-deletion",
            batch(vec![attachment_removal(
                "200",
                false,
                "IN_PROGRESS",
                demo::CONTACT_ID,
                pending,
            )]),
        ),
        (
            "ttl-deletion-of-an-approved-attachment",
            batch(vec![attachment_removal(
                "300",
                true,
                "APPROVED",
                demo::CONTACT_ID,
                demo::APPROVED,
            )]),
        ),
    ]
}
