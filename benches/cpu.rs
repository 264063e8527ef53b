//! The CPU path of each operation through the real handler (routing, parsing, hashing, the
//! store's transaction built and its answer classified, pre-signing, the response and its log
//! line), with the network calls answered in memory. `make bench` writes the results up.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::types::CancellationReason;
use connect_attachments::api::parse;
use connect_attachments::api::Handler;
use connect_attachments::config::Tables;
use connect_attachments::domain::{
    ApprovedAttachment, AttachmentId, Connection, Effect, StoredObject, TokenHash,
};
use connect_attachments::objects::{Objects, S3Objects};
use connect_attachments::service::{Service, Settings};
use connect_attachments::store::dynamodb::classify::{
    classify_completion_cancellation, CompletionRefusal,
};
use connect_attachments::store::schema::REQUEST_HASH;
use connect_attachments::store::{
    Caller, Completion, DynamoDbStore, Start, Started, Store, StoreError,
};
use connect_attachments::telemetry::{self, Metrics};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use devkit::fixtures::Overridden;
use devkit::{demo, events, local};

fn event(name: &str) -> String {
    events::all()
        .into_iter()
        .find(|e| e.name == name)
        .map(|e| e.event.to_string())
        .unwrap()
}

/// The real store's transactions and classification, without the network call between them.
struct WithoutNetwork {
    store: DynamoDbStore,
    /// `None`: the transaction commits; `Some`: it is cancelled with these reasons.
    cancellation: Option<Vec<CancellationReason>>,
}

impl Store for WithoutNetwork {
    async fn find_connection(&self, _: &TokenHash) -> Result<Option<Connection>, StoreError> {
        Ok(Some(demo::customer()))
    }

    async fn start(&self, start: &Start<'_>) -> Result<Started, StoreError> {
        black_box(self.store.start_transaction(start)?);
        Ok(Started {
            attachment_id: start.attachment_id.clone(),
            effect: Effect::Applied,
        })
    }

    async fn complete(&self, completion: &Completion<'_>) -> Result<Effect, StoreError> {
        black_box(self.store.complete_transaction(completion)?);
        match &self.cancellation {
            None => Ok(Effect::Applied),
            Some(reasons) => {
                classify_completion_cancellation(reasons, completion).map_err(|r| match r {
                    CompletionRefusal::Refused(error) => error,
                    CompletionRefusal::SpelledOtherwise(_) => StoreError::Contention,
                })
            }
        }
    }

    async fn replay_or_refuse(
        &self,
        _: &Caller<'_>,
        _: &AttachmentId,
    ) -> Result<Effect, StoreError> {
        Err(StoreError::NotUploaded)
    }

    async fn approved_attachment(
        &self,
        _: &TokenHash,
        _: &AttachmentId,
        _: SystemTime,
    ) -> Result<ApprovedAttachment, StoreError> {
        let upload = demo::upload();
        Ok(ApprovedAttachment {
            contact_id: demo::CONTACT_ID.into(),
            name: upload.name,
            content_type: upload.content_type,
            size: upload.size,
            expires_at: None,
        })
    }
}

fn replay_reasons() -> Vec<CancellationReason> {
    let fingerprint = connect_attachments::domain::Fingerprint::of_completion(&AttachmentId::new(
        demo::UPLOADED[0],
    ));
    let reason = |code: &str, item: &[(&str, &str)]| {
        let item = (!item.is_empty()).then(|| {
            item.iter()
                .map(|(k, v)| ((*k).to_owned(), connect_attachments::store::schema::s(v)))
                .collect()
        });
        CancellationReason::builder()
            .code(code)
            .set_item(item)
            .build()
    };
    vec![
        reason("None", &[]),
        reason(
            "ConditionalCheckFailed",
            &[
                ("ParticipantId", demo::PARTICIPANT_ID),
                ("ContactId", demo::CONTACT_ID),
                ("Status", "APPROVED"),
            ],
        ),
        reason(
            "ConditionalCheckFailed",
            &[(REQUEST_HASH, fingerprint.as_str())],
        ),
        reason("None", &[]),
    ]
}

fn handler(cancellation: Option<Vec<CancellationReason>>) -> Handler<WithoutNetwork, Overridden> {
    // Clients that never connect: no call leaves the process.
    let unused = "http://127.0.0.1:9";
    let store = DynamoDbStore::new(
        local::dynamodb_client_for(unused, Duration::from_secs(1)),
        Tables::default(),
    );
    let objects = S3Objects::new(
        local::s3_client_for(unused, Duration::from_secs(1)),
        "attachments".into(),
    );
    Handler::new(Service::new(
        WithoutNetwork {
            store,
            cancellation,
        },
        // Real pre-signing (local: no network), the ranged `GetObject` answered in memory.
        Overridden {
            s3: objects,
            head: Some(StoredObject {
                size: demo::upload().size,
                content_type: demo::upload().content_type,
                etag: "\"0123456789abcdef\"".into(),
                last_modified: None,
                first_bytes: demo::FILE.to_vec(),
            }),
            failing_delete: None,
        },
        Settings::default(),
    ))
}

fn bench_handler<S: Store, O: Objects>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    handler: &Handler<S, O>,
    event: &str,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Warm: the connection is cached, as on a warm container.
    runtime.block_on(handler.handle(lambda_http::request::from_str(event).unwrap()));
    group.bench_function(name, |b| {
        b.to_async(&runtime).iter(|| async {
            let request = lambda_http::request::from_str(event).unwrap();
            let response = handler.handle(request).await;
            assert_eq!(response.status(), 200);
            response
        })
    });
}

fn cpu_path(c: &mut Criterion) {
    // The log line is part of the path: format it as in production, into a sink.
    let filter = telemetry::filter("info").unwrap();
    let _logs = tracing::subscriber::set_default(telemetry::subscriber(filter, std::io::sink));
    let mut group = c.benchmark_group("cpu");
    let fresh = handler(None);
    bench_handler(&mut group, "start", &fresh, &event("start-success"));
    bench_handler(&mut group, "complete", &fresh, &event("success"));
    bench_handler(&mut group, "get", &fresh, &event("get-success"));
    // The same completion, with its CloudWatch EMF record written (into a sink): the metrics'
    // per-request cost is the difference.
    let metered = handler(None).with_metrics(Metrics::new("Bench", std::io::sink));
    bench_handler(
        &mut group,
        "complete_with_metrics",
        &metered,
        &event("success"),
    );
    bench_handler(
        &mut group,
        "complete_replay",
        &handler(Some(replay_reasons())),
        &event("success"),
    );
    let request = lambda_http::request::from_str(&event("success")).unwrap();
    group.bench_function("parse_and_validate_complete", |b| {
        b.iter(|| parse::complete(request.headers(), request.body()).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4));
    targets = cpu_path
}
criterion_main!(benches);
