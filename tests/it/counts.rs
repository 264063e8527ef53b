//! DynamoDB and S3 calls per request, counted by the function itself (the `dynamodb_calls` and
//! `s3_calls` it logs). Counts do not vary with machine load, so these are tests, not benchmarks.

use connect_attachments::domain::Operation;
use devkit::fixtures::*;

#[tokio::test]
async fn calls_per_kind_of_request() {
    let captured = Captured::default();
    let _guard = captured.install("info");
    let handler = handler(); // a cold container: it has seen no connection yet
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let agent = Participant::connected(&contact).await;
    let upload = text_upload("cat.txt", FILE);

    let started = json_body(&handler.handle(alice.start_request(&upload, "s1")).await);
    assert_eq!(
        captured.take_calls(),
        [(2, 0)],
        "first start on a cold container: GetItem + TransactWriteItems, signing is local"
    );
    handler.handle(alice.start_request(&upload, "s2")).await;
    assert_eq!(
        captured.take_calls(),
        [(1, 0)],
        "warm start: TransactWriteItems"
    );
    handler.handle(alice.start_request(&upload, "s2")).await;
    assert_eq!(captured.take_calls(), [(1, 0)], "replayed start");

    assert_eq!(upload_status(&started).await, 200);
    let id = started["AttachmentId"].as_str().unwrap();
    handler.handle(alice.complete_request(id, "c1")).await;
    assert_eq!(
        captured.take_calls(),
        [(1, 1)],
        "warm completion: a ranged GetObject + TransactWriteItems"
    );
    handler.handle(alice.complete_request(id, "c1")).await;
    assert_eq!(captured.take_calls(), [(1, 1)], "replayed completion");
    handler.handle(alice.complete_request(id, "c2")).await;
    assert_eq!(captured.take_calls(), [(1, 1)], "conflict");
    let pending = alice.pending_attachment().await;
    handler.handle(alice.complete_request(&pending, "c3")).await;
    assert_eq!(
        captured.take_calls(),
        [(1, 1)],
        "not uploaded: a ranged GetObject + one TransactGetItems"
    );

    handler.handle(agent.get_request(id)).await;
    assert_eq!(
        captured.take_calls(),
        [(1, 0)],
        "get, even on a connection never seen: TransactGetItems, signing is local"
    );
    handler.handle(agent.get_request(id)).await;
    assert_eq!(captured.take_calls(), [(1, 0)], "get again");

    handler
        .handle(Participant::unstored("c").complete_request(id, "t4"))
        .await;
    assert_eq!(
        captured.take_calls(),
        [(1, 0)],
        "unknown token: GetItem only"
    );

    for operation in Operation::ALL {
        handler
            .handle(request(operation, Some(&alice.token), "{}"))
            .await;
        handler
            .handle(request(operation, None, "not even json"))
            .await;
        assert_eq!(
            captured.take_calls(),
            [(0, 0), (0, 0)],
            "validation errors of {}",
            operation.name()
        );
    }
}

#[tokio::test]
async fn a_replay_on_a_cold_container_costs_the_lookup_head_and_one_transaction() {
    let captured = Captured::default();
    let _guard = captured.install("info");
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    handler()
        .handle(alice.complete_request(&attachment_id, "t1"))
        .await;
    captured.take_calls();

    handler()
        .handle(alice.complete_request(&attachment_id, "t1"))
        .await;

    assert_eq!(captured.take_calls(), [(2, 1)]);
}

/// Uploads the fixture file with a start's URL and headers.
async fn upload_status(started: &serde_json::Value) -> u16 {
    upload(started, FILE).await.status
}
