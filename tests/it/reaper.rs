//! The reaper against DynamoDB stream events and the local S3 server: it deletes the files of
//! pending uploads that TTL removed, and nothing else; a file already gone is a success; a failed
//! deletion is reported for that record alone. And the binary, as Lambda runs it.

use aws_lambda_events::event::dynamodb::Event;
use connect_attachments::domain::{AttachmentId, ObjectKey};
use connect_attachments::objects::S3Objects;
use connect_attachments::reaper::{self, Decision};
use devkit::events::{attachment_removal, reaper_samples};
use devkit::fixtures::*;
use devkit::local;
use devkit::runtime_api::FunctionProcess;
use serde_json::{json, Value};

fn objects() -> S3Objects {
    S3Objects::new(local::s3_client(), local::bucket())
}

fn batch(records: Vec<Value>) -> Event {
    serde_json::from_value(json!({ "Records": records })).expect("a DynamoDB stream event")
}

async fn exists(contact: &str, id: &str) -> bool {
    local::s3_client()
        .head_object()
        .bucket(local::bucket())
        .key(ObjectKey::new(contact, &AttachmentId::new(id)).as_str())
        .send()
        .await
        .is_ok()
}

async fn uploaded(contact: &str) -> String {
    let id = unique("attachment");
    put_object(contact, &id, FILE, "text/plain").await;
    id
}

#[test]
fn only_a_ttl_deletion_of_a_pending_upload_is_reaped() {
    let decisions: Vec<(&str, Decision)> = reaper_samples()
        .into_iter()
        .map(|(name, event)| {
            let event: Event = serde_json::from_value(event).unwrap();
            (name, reaper::decide(&event.records[0]))
        })
        .collect();
    assert!(
        matches!(decisions[0].1, Decision::Delete(_)),
        "{decisions:?}"
    );
    assert!(
        matches!(decisions[1].1, Decision::Skip(_)),
        "a user's deletion"
    );
    assert!(
        matches!(decisions[2].1, Decision::Skip(_)),
        "an approved attachment"
    );
}

#[tokio::test]
async fn a_batch_deletes_abandoned_files_only_and_a_file_already_gone_is_a_success() {
    let contact = unique("contact");
    let abandoned = uploaded(&contact).await;
    let deleted_by_user = uploaded(&contact).await;
    let approved = uploaded(&contact).await;
    let already_gone = unique("attachment");
    let event = batch(vec![
        attachment_removal("1", true, "IN_PROGRESS", &contact, &abandoned),
        attachment_removal("2", false, "IN_PROGRESS", &contact, &deleted_by_user),
        attachment_removal("3", true, "APPROVED", &contact, &approved),
        attachment_removal("4", true, "IN_PROGRESS", &contact, &already_gone),
    ]);

    let response = reaper::reap(&objects(), &event).await;

    assert!(response.batch_item_failures.is_empty());
    assert!(
        !exists(&contact, &abandoned).await,
        "the abandoned file is gone"
    );
    assert!(
        exists(&contact, &deleted_by_user).await,
        "a user's deletion is not the reaper's"
    );
    assert!(
        exists(&contact, &approved).await,
        "an approved attachment is never touched"
    );
    let again = reaper::reap(&objects(), &event).await;
    assert!(again.batch_item_failures.is_empty(), "idempotent");
}

#[tokio::test]
async fn a_failed_deletion_is_reported_for_its_record_alone() {
    let contact = unique("contact");
    let (first, failing, last) = (
        uploaded(&contact).await,
        uploaded(&contact).await,
        uploaded(&contact).await,
    );
    let event = batch(vec![
        attachment_removal("10", true, "IN_PROGRESS", &contact, &first),
        attachment_removal("11", true, "IN_PROGRESS", &contact, &failing),
        attachment_removal("12", true, "IN_PROGRESS", &contact, &last),
    ]);
    let deleter = Overridden {
        s3: objects(),
        head: None,
        failing_delete: Some(ObjectKey::new(&contact, &AttachmentId::new(&failing))),
    };

    let response = reaper::reap(&deleter, &event).await;

    let failed: Vec<Option<String>> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, [Some("11".to_owned())]);
    assert!(!exists(&contact, &first).await && !exists(&contact, &last).await);
    assert!(exists(&contact, &failing).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reaper_binary_answers_partial_batch_failures_and_logs_json() {
    let contact = unique("contact");
    let abandoned = uploaded(&contact).await;
    let event = json!({
        "Records": [attachment_removal("7", true, "IN_PROGRESS", &contact, &abandoned)]
    });
    let mut function = FunctionProcess::start(
        env!("CARGO_BIN_EXE_reaper"),
        &[("RUST_LOG", "info")],
        vec![event.to_string()],
    )
    .await;
    let (_, response) = function.next_response().await;
    let log = function.stop().await;

    assert_eq!(response, json!({ "batchItemFailures": [] }));
    assert!(!exists(&contact, &abandoned).await);
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(lines.iter().any(|l| l["outcome"] == "deleted"), "{log}");
}
