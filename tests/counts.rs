//! DynamoDB calls per request, counted by the function itself (the `dynamodb_calls` it logs).
//! Counts do not vary with machine load, so these are tests, not benchmarks.

mod common;

use common::*;

#[tokio::test]
async fn calls_per_kind_of_request() {
    let captured = Captured::default();
    let _guard = captured.install("info");
    let handler = handler(); // a cold container: it has seen no connection yet
    let alice = Participant::connected(&unique("contact")).await;
    let first = alice.attachment().await;
    let second = alice.attachment().await;

    handler.handle(alice.request(&first, "t1")).await;
    assert_eq!(
        captured.take_call_counts(),
        [2],
        "first success on a cold container: GetItem + TransactWriteItems"
    );

    handler.handle(alice.request(&second, "t2")).await;
    assert_eq!(
        captured.take_call_counts(),
        [1],
        "first success, connection already seen: TransactWriteItems"
    );

    handler.handle(alice.request(&second, "t2")).await;
    assert_eq!(captured.take_call_counts(), [1], "replay");

    handler.handle(alice.request(&second, "t3")).await;
    assert_eq!(captured.take_call_counts(), [1], "conflict");

    handler
        .handle(Participant::unstored("c").request(&first, "t4"))
        .await;
    assert_eq!(
        captured.take_call_counts(),
        [1],
        "unknown token: GetItem only"
    );

    handler.handle(request(Some(&alice.token), "{}")).await;
    handler.handle(request(None, "not even json")).await;
    assert_eq!(captured.take_call_counts(), [0, 0], "validation errors");
}

#[tokio::test]
async fn a_replay_on_a_cold_container_costs_the_lookup_and_one_transaction() {
    let captured = Captured::default();
    let _guard = captured.install("info");
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    handler().handle(alice.request(&attachment_id, "t1")).await;
    captured.take_call_counts();

    handler().handle(alice.request(&attachment_id, "t1")).await;

    assert_eq!(captured.take_call_counts(), [2]);
}
