//! Hostile input: whatever the header and body, the handler answers one of the contract's
//! responses, in the contract's format, and never panics or answers 500.

use crate::COMPLETE;
use std::sync::Arc;

use connect_attachments::api::parse::MAX_BODY_BYTES;
use devkit::fixtures::*;
use lambda_http::http::HeaderValue;
use lambda_http::{Body, Response};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Asserts the response is one of the contract's, well formed.
fn assert_contract_response(response: &Response<Body>) -> Result<(), TestCaseError> {
    let (status, error_type, body) = parts(response);
    prop_assert!(response.headers().contains_key("x-amzn-requestid"));
    if status == 200 {
        prop_assert!(error_type.is_none() && body.is_empty());
        return Ok(());
    }
    let expected = match status {
        400 => "ValidationException",
        402 => "ServiceQuotaExceededException",
        403 => "AccessDeniedException",
        409 => "ConflictException",
        429 => "ThrottlingException",
        other => {
            return Err(TestCaseError::fail(format!(
                "not a contract answer to hostile input: {other} {body}"
            )))
        }
    };
    prop_assert_eq!(error_type.as_deref(), Some(expected));
    prop_assert_eq!(&response.headers()["content-type"], "application/json");
    let parsed: Value =
        serde_json::from_str(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let object = parsed
        .as_object()
        .ok_or_else(|| TestCaseError::fail("body is not an object"))?;
    prop_assert_eq!(object.len(), 1);
    prop_assert!(object["Message"].as_str().is_some_and(|m| !m.is_empty()));
    Ok(())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies shaped like a request, with members of any type, length and content.
fn request_shaped(attachment_ids: Vec<String>) -> impl Strategy<Value = Vec<u8>> {
    let id = prop_oneof![
        prop::sample::select(attachment_ids),
        any::<String>(),
        "[a-z0-9-]{250,260}",
        ".{0,3}",
    ];
    let ids = prop_oneof![
        prop::collection::vec(id.clone(), 0..3).prop_map(|ids| json!(ids)),
        id.prop_map(|id| json!([id])),
        json_value(),
    ];
    let client_token = prop_oneof![
        any::<String>().prop_map(Value::from),
        "\\PC{495,505}".prop_map(Value::from),
        json_value(),
    ];
    (ids, client_token, any::<bool>()).prop_map(|(ids, client_token, extra)| {
        let mut body = json!({ "AttachmentIds": ids, "ClientToken": client_token });
        if extra {
            body["Unknown"] = json!({"nested": [1, {"deeper": null}]});
        }
        body.to_string().into_bytes()
    })
}

fn hostile_body(attachment_ids: Vec<String>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        request_shaped(attachment_ids.clone()),
        request_shaped(attachment_ids),
        (1usize..20_000)
            .prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()),
        (1usize..20_000).prop_map(|depth| format!("{}1", "{\"a\":".repeat(depth)).into_bytes()),
        Just(
            br#"{"AttachmentIds":["a"],"AttachmentIds":7,"ClientToken":"c","ClientToken":"d"}"#
                .to_vec()
        ),
        Just(b"{\"AttachmentIds\":[\"\xff\xfe\"],\"ClientToken\":\"\xc3\x28\"}".to_vec()),
        Just(b"{\"AttachmentIds\":[\"\\u0000\"],\"ClientToken\":\"\\ud800\"}".to_vec()),
        (0usize..3).prop_map(|extra| {
            let pad = MAX_BODY_BYTES + extra - 40;
            format!("{{\"ClientToken\":\"c\",\"Pad\":\"{}\"}}", "x".repeat(pad)).into_bytes()
        }),
    ]
}

fn hostile_token(valid: String) -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        Just(Some(valid.into_bytes())),
        any::<String>().prop_map(|s| Some(s.into_bytes())),
        "\\PC{995,1005}".prop_map(|s| Some(s.into_bytes())),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Some),
    ]
}

struct World {
    runtime: tokio::runtime::Runtime,
    handler: Arc<App>,
    token: String,
    attachment_ids: Vec<String>,
}

fn world() -> World {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (handler, alice, attachment_ids) = runtime.block_on(async {
        let alice = Participant::connected(&unique("contact")).await;
        let mut ids = Vec::new();
        for _ in 0..8 {
            ids.push(alice.attachment().await);
        }
        (handler(), alice, ids)
    });
    World {
        runtime,
        handler,
        token: alice.token,
        attachment_ids,
    }
}

fn answer(world: &World, token: Option<&[u8]>, body: Vec<u8>) -> Response<Body> {
    let mut request = request(COMPLETE, None, body);
    if let Some(token) = token {
        // Bytes a header cannot carry never reach a Lambda; everything else can.
        if let Ok(value) = HeaderValue::from_bytes(token) {
            request.headers_mut().insert("x-amz-bearer", value);
        }
    }
    world.runtime.block_on(world.handler.handle(request))
}

#[test]
fn any_header_and_body_get_a_contract_answer() {
    let world = world();
    let strategy = (
        hostile_token(world.token.clone()),
        hostile_body(world.attachment_ids.clone()),
    );
    proptest!(ProptestConfig::with_cases(512), |((token, body) in strategy)| {
        let response = answer(&world, token.as_deref(), body);
        assert_contract_response(&response)?;
    });
}

#[test]
fn limits_are_exact() {
    let world = world();
    let body = |id: &str, client_token: &str| {
        json!({"AttachmentIds": [id], "ClientToken": client_token}).to_string()
    };
    let status = |token: &str, body: String| {
        parts(&answer(&world, Some(token.as_bytes()), body.into_bytes())).0
    };

    // Token lengths: 1000 passes validation (then is unknown: 403), 1001 does not.
    assert_eq!(status(&"t".repeat(1000), body("a", "c")), 403);
    assert_eq!(status(&"t".repeat(1001), body("a", "c")), 400);
    // AttachmentIds item lengths: 256 passes validation (unknown: 403), 257 does not.
    assert_eq!(status(&world.token, body(&"a".repeat(256), "c")), 403);
    assert_eq!(status(&world.token, body(&"a".repeat(257), "c")), 400);
    // ClientToken lengths: 500 passes, 501 does not.
    assert_eq!(
        status(
            &world.token,
            body(&world.attachment_ids[0], &"c".repeat(500))
        ),
        200
    );
    assert_eq!(status(&world.token, body("a", &"c".repeat(501))), 400);
    // The body limit: exactly MAX_BODY_BYTES is parsed, one byte more is refused unread.
    let valid = body(&world.attachment_ids[1], "c");
    let padded = format!("{valid}{}", " ".repeat(MAX_BODY_BYTES - valid.len()));
    assert_eq!(status(&world.token, padded.clone()), 200);
    let (code, _, message) = parts(&answer(
        &world,
        Some(world.token.as_bytes()),
        format!("{padded} ").into_bytes(),
    ));
    assert_eq!(code, 400);
    assert!(message.contains("larger than 65536 bytes"), "{message}");
}
