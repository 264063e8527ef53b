//! The CPU path without I/O, through the real handler: an API Gateway event in, a response out
//! (route, parse, validate, hash, authenticate from the warm cache, build the transaction, map the
//! answer, write the log line), with only the network call left out. A second measurement adds the
//! SDK's own request pipeline (serialise, sign, deserialise), answered in-process by
//! aws-smithy-mocks, to show what the SDK costs on top.

use std::hint::black_box;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use complete_attachment_upload::http::Handler;
use complete_attachment_upload::logging;
use complete_attachment_upload::request::{AttachmentId, RequestFingerprint, TokenHash};
use complete_attachment_upload::service::{Service, Settings};
use complete_attachment_upload::store::dynamodb::{classify_cancellation, Tables, REQUEST_HASH};
use complete_attachment_upload::store::{
    Completion, Connection, DynamoDbStore, Outcome, Store, StoreError,
};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};

const SUCCESS_EVENT: &str = include_str!("../events/success.json");

fn demo_connection() -> Connection {
    Connection {
        participant_id: "demo-participant".into(),
        contact_id: "demo-contact".into(),
        expires_at: i64::from(u32::MAX),
    }
}

/// DynamoDB with the HTTP exchange answered in-process: the SDK's whole pipeline runs.
fn mocked_client() -> aws_sdk_dynamodb::Client {
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
    mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        &[&lookup, &transaction]
    )
}

/// The real store's transaction and classification, without the network call between them.
struct WithoutNetwork {
    store: DynamoDbStore,
    /// `None`: the transaction commits; `Some`: it is cancelled with these reasons.
    cancellation: Option<Vec<CancellationReason>>,
}

impl Store for WithoutNetwork {
    async fn find_connection(&self, _: &TokenHash) -> Result<Option<Connection>, StoreError> {
        Ok(Some(demo_connection()))
    }

    async fn complete(&self, completion: &Completion<'_>) -> Result<Outcome, StoreError> {
        black_box(self.store.transaction(completion)?);
        match &self.cancellation {
            None => Ok(Outcome::Completed),
            Some(reasons) => classify_cancellation(reasons, completion),
        }
    }
}

fn replay_reasons() -> Vec<CancellationReason> {
    let fingerprint = RequestFingerprint::of(&AttachmentId::new("demo-attachment"));
    let reason = |code: &str, item: Option<(&str, &str)>| {
        CancellationReason::builder()
            .code(code)
            .set_item(item.map(|(k, v)| [(k.to_owned(), AttributeValue::S(v.to_owned()))].into()))
            .build()
    };
    let attachment = [
        ("ParticipantId", "demo-participant"),
        ("ContactId", "demo-contact"),
        ("Status", "APPROVED"),
    ];
    vec![
        reason("None", None),
        CancellationReason::builder()
            .code("ConditionalCheckFailed")
            .set_item(Some(
                attachment
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), AttributeValue::S((*v).to_owned())))
                    .collect(),
            ))
            .build(),
        reason(
            "ConditionalCheckFailed",
            Some((REQUEST_HASH, fingerprint.as_str())),
        ),
        reason("None", None),
    ]
}

fn bench_handler<S: Store>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    handler: Handler<S>,
    expected: u16,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Warm: the connection is cached, as on a warm container.
    runtime.block_on(handler.handle(lambda_http::request::from_str(SUCCESS_EVENT).unwrap()));
    group.bench_function(name, |b| {
        b.to_async(&runtime).iter(|| async {
            let request = lambda_http::request::from_str(SUCCESS_EVENT).unwrap();
            let response = handler.handle(request).await;
            assert_eq!(response.status(), expected);
            response
        })
    });
}

fn cpu_path(c: &mut Criterion) {
    // The log line is part of the path: format it as in production, into a sink.
    let filter = logging::filter("info").unwrap();
    let _logs = tracing::subscriber::set_default(logging::subscriber(filter, std::io::sink));
    let store = DynamoDbStore::new(mocked_client(), Tables::default());
    let mut group = c.benchmark_group("cpu");

    let completed = WithoutNetwork {
        store: store.clone(),
        cancellation: None,
    };
    bench_handler(
        &mut group,
        "handler_first_completion",
        Handler::new(Service::new(completed, Settings::default())),
        200,
    );
    let replayed = WithoutNetwork {
        store: store.clone(),
        cancellation: Some(replay_reasons()),
    };
    bench_handler(
        &mut group,
        "handler_replay",
        Handler::new(Service::new(replayed, Settings::default())),
        200,
    );
    bench_handler(
        &mut group,
        "handler_with_sdk_pipeline",
        Handler::new(Service::new(store, Settings::default())),
        200,
    );

    let request = lambda_http::request::from_str(SUCCESS_EVENT).unwrap();
    group.bench_function("parse_and_validate", |b| {
        b.iter(|| {
            complete_attachment_upload::request::parse(request.headers(), request.body()).unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4));
    targets = cpu_path
}
criterion_main!(benches);
