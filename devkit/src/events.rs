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

/// One sample: name, operation, bearer token, body, status, error type.
type Row<'a> = (
    &'a str,
    Operation,
    Option<&'a str>,
    String,
    u16,
    Option<&'static str>,
);

const INVALID: Option<&str> = Some("ValidationException");
const DENIED: Option<&str> = Some("AccessDeniedException");
const CONFLICT: Option<&str> = Some("ConflictException");

/// Every sample event, in the order a freshly seeded demo answers them as listed.
pub fn all() -> Vec<SampleEvent> {
    use Operation::{
        CompleteAttachmentUpload as Complete, GetAttachment as Get, StartAttachmentUpload as Start,
    };
    let [uploaded, pending] = demo::UPLOADED;
    let (me, agent) = (Some(demo::TOKEN), Some(demo::AGENT_TOKEN));
    let (stranger, long) = (Some("no-such-connection-token"), "t".repeat(1001));
    let start = |token: &str, changes: Value| start_body(token, changes);
    let complete = |ids: Value, token: Value| complete_body(ids, token);
    let done = || complete(json!([uploaded]), json!("demo-1"));
    let get = |id: &str, changes: Value| get_body(id, changes);
    let pad = json!({"Padding": " ".repeat(64 * 1024)});
    // name, operation, bearer token, body, status, error type: each answered by a freshly seeded
    // demo, in this order.
    #[rustfmt::skip]
    let rows: Vec<Row<'_>> = vec![
        ("start-success", Start, me, start("start-1", json!({})), 200, None),
        ("start-replay", Start, me, start("start-1", json!({})), 200, None),
        ("start-client-token-reused", Start, me, start("start-1", json!({"AttachmentName": "other.txt"})), 400, INVALID),
        ("start-unsupported-content-type", Start, me, start("start-2", json!({"ContentType": "text/html"})), 400, INVALID),
        ("start-too-large", Start, me, start("start-2", json!({"AttachmentSizeInBytes": 20_971_521})), 400, INVALID),
        ("start-missing-name", Start, me, start("start-2", json!({"AttachmentName": null})), 400, INVALID),
        ("start-unknown-token", Start, stranger, start("start-2", json!({})), 403, DENIED),
        ("success", Complete, me, done(), 200, None),
        ("replay", Complete, me, done(), 200, None),
        ("conflict-new-client-token", Complete, me, complete(json!([uploaded]), json!("demo-2")), 409, CONFLICT),
        ("missing-header", Complete, None, done(), 400, INVALID),
        ("empty-header", Complete, Some(""), done(), 400, INVALID),
        ("unknown-token", Complete, stranger, done(), 403, DENIED),
        ("unknown-attachment", Complete, me, complete(json!(["no-such-attachment"]), json!("demo-3")), 403, DENIED),
        ("validation-long-header", Complete, Some(&long), done(), 400, INVALID),
        ("validation-body-not-json", Complete, me, "AttachmentIds=demo-attachment".into(), 400, INVALID),
        ("validation-body-not-an-object", Complete, me, json!([uploaded]).to_string(), 400, INVALID),
        ("validation-body-too-large", Complete, me, with_changes(json!({"AttachmentIds": [uploaded], "ClientToken": "demo-1"}), pad), 400, INVALID),
        ("validation-attachment-id-not-a-string", Complete, me, complete(json!([42]), json!("demo-1")), 400, INVALID),
        ("validation-client-token-not-a-string", Complete, me, complete(json!([uploaded]), json!(["demo-1"])), 400, INVALID),
        ("validation-missing-attachment-ids", Complete, me, json!({"ClientToken": "demo-1"}).to_string(), 400, INVALID),
        ("validation-empty-attachment-ids", Complete, me, complete(json!([]), json!("demo-1")), 400, INVALID),
        ("validation-two-attachment-ids", Complete, me, complete(json!([uploaded, "other"]), json!("demo-1")), 400, INVALID),
        ("validation-empty-attachment-id", Complete, me, complete(json!([""]), json!("demo-1")), 400, INVALID),
        ("validation-long-attachment-id", Complete, me, complete(json!(["a".repeat(257)]), json!("demo-1")), 400, INVALID),
        ("validation-missing-client-token", Complete, me, json!({"AttachmentIds": [uploaded]}).to_string(), 400, INVALID),
        ("validation-empty-client-token", Complete, me, complete(json!([uploaded]), json!("")), 400, INVALID),
        ("validation-long-client-token", Complete, me, complete(json!([uploaded]), json!("c".repeat(501))), 400, INVALID),
        // GetAttachment: the agent downloads what the customer sent.
        ("get-success", Get, agent, get(demo::APPROVED, json!({})), 200, None),
        ("get-short-expiry", Get, me, get(demo::APPROVED, json!({"UrlExpiryInSeconds": 5})), 200, None),
        ("get-expiry-out-of-range", Get, me, get(demo::APPROVED, json!({"UrlExpiryInSeconds": 301})), 400, INVALID),
        ("get-unknown-attachment", Get, me, get("no-such-attachment", json!({})), 403, DENIED),
        ("get-not-approved", Get, me, get(pending, json!({})), 403, DENIED),
    ];
    let mut events: Vec<SampleEvent> = rows
        .into_iter()
        .map(
            |(name, operation, token, body, status, error_type)| SampleEvent {
                name: name.to_owned(),
                event: http_api(name, operation, token, &body, "POST", operation.path()),
                status,
                error_type,
            },
        )
        .collect();
    // Another path, another method; then the REST API's payload (1.0), its body plain and base64.
    #[rustfmt::skip]
    let other: [(&str, &str, &str, u16, &'static str); 2] = [
        ("wrong-path", "POST", "/participant/other", 404, "UnknownOperationException"),
        ("wrong-method", "GET", Complete.path(), 405, "MethodNotAllowedException"),
    ];
    for (name, method, path, status, error_type) in other {
        events.push(SampleEvent {
            name: name.into(),
            event: http_api(name, Complete, me, &done(), method, path),
            status,
            error_type: Some(error_type),
        });
    }
    let rest_body = complete(json!([pending]), json!("rest-1"));
    #[rustfmt::skip]
    let rest = [
        ("rest-api-success", Complete, me, rest_body.clone(), false, 200, None),
        ("rest-api-base64-replay", Complete, me, rest_body.clone(), true, 200, None),
        ("rest-api-missing-header", Complete, None, rest_body, false, 400, INVALID),
        ("rest-api-get-success", Get, agent, get(pending, json!({})), false, 200, None),
    ];
    for (name, operation, token, body, encode, status, error_type) in rest {
        events.push(SampleEvent {
            name: name.into(),
            event: rest_api(name, operation, token, &body, encode),
            status,
            error_type,
        });
    }
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
