//! What the function logs: one JSON line per request with its id, outcome, latency and
//! DynamoDB call count, and never a bearer token or a raw ClientToken, whatever happens.

use crate::COMPLETE;
use std::time::Duration;

use devkit::fixtures::*;
use devkit::local;
use serde_json::{json, Value};

/// Every kind of request, each with its own distinctive secrets; returns the secrets used.
async fn run_every_case() -> Vec<String> {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let bob = Participant::connected(&contact).await;
    let mine = alice.attachment().await;
    let his = bob.attachment().await;
    let client_tokens: Vec<String> = (0..4)
        .map(|i| unique(&format!("SECRET-CLIENT-TOKEN-{i}")))
        .collect();
    let long_token = format!("SECRET-BEARER-LONG-{}", "x".repeat(1000));
    let long_client_token = format!("SECRET-CLIENT-LONG-{}", "y".repeat(500));
    let unknown_token = unique("SECRET-BEARER-UNKNOWN");

    handler
        .handle(alice.complete_request(&mine, &client_tokens[0]))
        .await; // 200
    handler
        .handle(alice.complete_request(&mine, &client_tokens[0]))
        .await; // replay
    handler
        .handle(alice.complete_request(&mine, &client_tokens[1]))
        .await; // 409
    handler
        .handle(alice.complete_request(&his, &client_tokens[2]))
        .await; // 403 foreign
    let stranger = Participant {
        token: unknown_token.clone(),
        ..alice.clone()
    };
    handler
        .handle(stranger.complete_request(&mine, &client_tokens[3]))
        .await; // 403 unknown
    handler
        .handle(request(
            COMPLETE,
            Some(&long_token),
            json!({"AttachmentIds": [mine], "ClientToken": "c"}).to_string(),
        ))
        .await;
    handler
        .handle(alice.complete_request(&mine, &long_client_token))
        .await; // 400
    handler
        .handle(request(
            COMPLETE,
            Some(&alice.token),
            format!("{{\"ClientToken\": \"{}\"", client_tokens[3]),
        ))
        .await;
    let unreachable = handler_with(
        local::dynamodb_client_for("http://127.0.0.1:9", Duration::from_millis(300)),
        settings(),
    );
    unreachable
        .handle(alice.complete_request(&mine, &client_tokens[3]))
        .await; // 500

    let mut secrets = vec![
        alice.token.clone(),
        bob.token.clone(),
        unknown_token,
        long_token,
        long_client_token,
    ];
    secrets.extend(client_tokens);
    secrets
}

#[tokio::test]
async fn no_secret_reaches_the_log_even_at_trace_level() {
    let captured = Captured::default();
    let _guard = captured.install("trace");

    let secrets = run_every_case().await;

    let log = captured.text();
    assert!(log.lines().count() >= 9, "the run was logged:\n{log}");
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret reached the log");
        // Nor a recognisable part of one.
        assert!(
            !log.contains(&secret[..secret.len().min(24)]),
            "a secret's prefix reached the log"
        );
    }
}

#[tokio::test]
async fn one_json_line_per_request_with_id_outcome_latency_and_calls() {
    let captured = Captured::default();
    let _guard = captured.install("info");
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;

    handler
        .handle(alice.complete_request(&attachment_id, "t1"))
        .await;
    handler
        .handle(alice.complete_request(&attachment_id, "t2"))
        .await;
    handler.handle(request(COMPLETE, None, "{}")).await;

    let lines: Vec<Value> = captured.request_lines();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let summary: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l["outcome"].as_str().unwrap(),
                l["status"].as_u64().unwrap(),
                l["dynamodb_calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("OK", 200, 2),
            ("ConflictException", 409, 1),
            ("ValidationException", 400, 0)
        ]
    );
    for line in &lines {
        assert!(line["latency_ms"].as_f64().unwrap() >= 0.0);
        assert!(!line["request_id"].as_str().unwrap().is_empty());
        assert!(line["level"].is_string() && line["timestamp"].is_string());
    }
}
