//! The CPU path without I/O: an API Gateway event in, a response out, with DynamoDB answered
//! in-process by aws-smithy-mocks. Parse, validate, hash, build and serialise the transaction
//! (the SDK's whole request pipeline), classify the answer, write the response.

use std::time::Duration;

use aws_smithy_mocks::{mock, mock_client, RuleMode};
use complete_attachment_upload::http::Handler;
use complete_attachment_upload::service::{RetryPolicy, Service, Settings};
use complete_attachment_upload::store::dynamodb::Tables;
use complete_attachment_upload::store::DynamoDbStore;
use criterion::{criterion_group, criterion_main, Criterion};

const SUCCESS_EVENT: &str = include_str!("../events/success.json");

fn handler() -> Handler<DynamoDbStore> {
    let connection = format!(
        r#"{{"Item":{{"ParticipantId":{{"S":"demo-participant"}},"ContactId":{{"S":"demo-contact"}},"ExpiresAt":{{"N":"{}"}}}}}}"#,
        u32::MAX
    );
    let lookup = mock!(aws_sdk_dynamodb::Client::get_item)
        .sequence()
        .http_status(200, Some(connection))
        .repeatedly()
        .build();
    let transaction = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .sequence()
        .http_status(200, Some("{}".to_owned()))
        .repeatedly()
        .build();
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        &[&lookup, &transaction]
    );
    let tables = Tables {
        connections: "connections".into(),
        attachments: "attachments".into(),
        idempotency: "idempotency".into(),
    };
    let settings = Settings {
        idempotency_ttl_seconds: 86_400,
        max_attachments_per_contact: 100,
        retry: RetryPolicy::default(),
    };
    Handler::new(Service::new(DynamoDbStore::new(client, tables), settings))
}

fn cpu_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handler = handler();
    // Warm: the connection is cached, as on a warm container.
    runtime.block_on(handler.handle(lambda_http::request::from_str(SUCCESS_EVENT).unwrap()));

    let mut group = c.benchmark_group("cpu");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("handler_event_to_response_mocked_dynamodb", |b| {
        b.to_async(&runtime).iter(|| async {
            let request = lambda_http::request::from_str(SUCCESS_EVENT).unwrap();
            let response = handler.handle(request).await;
            assert_eq!(response.status(), 200);
        })
    });
    let request = lambda_http::request::from_str(SUCCESS_EVENT).unwrap();
    group.bench_function("parse_and_validate", |b| {
        b.iter(|| {
            complete_attachment_upload::request::parse(request.headers(), request.body()).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, cpu_path);
criterion_main!(benches);
