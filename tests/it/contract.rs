//! Every row of the contract's table and every point of its Semantics section, against
//! DynamoDB Local.

use crate::COMPLETE;
use devkit::fixtures::*;
use devkit::local;
use serde_json::json;

const ACCESS_DENIED: &str =
    r#"{"Message":"You do not have sufficient access to perform this action."}"#;

fn ok(response: &lambda_http::Response<lambda_http::Body>) {
    assert_eq!(
        parts(response),
        (200, None, String::new()),
        "expected an empty 200"
    );
}

#[tokio::test]
async fn first_completion_approves_sets_completed_at_counts_and_records() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let attachment_id = alice.attachment().await;

    let response = handler
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await;

    ok(&response);
    assert!(response.headers().contains_key("x-amzn-requestid"));
    let item = attachment(&attachment_id).await;
    assert_eq!(item["Status"].as_s().unwrap(), "APPROVED");
    let completed_at = item["CompletedAt"].as_s().unwrap();
    assert!(
        completed_at.ends_with('Z') && completed_at.contains('T'),
        "{completed_at}"
    );
    assert_eq!(
        item["AttachmentName"].as_s().unwrap(),
        "cat.txt",
        "other attributes untouched"
    );
    assert_eq!(completed_count(&contact).await, 1);
    let record = alice
        .idempotency_record("token-1")
        .await
        .expect("idempotency record");
    assert_eq!(
        record["RequestHash"].as_s().unwrap(),
        &sha256_hex(attachment_id.as_bytes())
    );
    let expires: i64 = record["ExpiresAt"].as_n().unwrap().parse().unwrap();
    assert!((expires - now() - 86_400).abs() <= 5, "TTL of the record");
}

#[tokio::test]
async fn replay_answers_200_and_changes_nothing() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let attachment_id = alice.attachment().await;
    ok(&handler
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await);
    let before = attachment(&attachment_id).await;

    ok(&handler
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await);

    assert_eq!(attachment(&attachment_id).await, before);
    assert_eq!(completed_count(&contact).await, 1);
}

#[tokio::test]
async fn replay_on_a_cold_container_answers_200() {
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let attachment_id = alice.attachment().await;
    ok(&handler()
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await);

    ok(&handler()
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await);
    assert_eq!(completed_count(&contact).await, 1);
}

#[tokio::test]
async fn same_client_token_with_other_attachment_is_409() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let first = alice.attachment().await;
    let second = alice.attachment().await;
    ok(&handler
        .handle(alice.complete_request(&first, "token-1"))
        .await);

    let response = handler
        .handle(alice.complete_request(&second, "token-1"))
        .await;

    assert_eq!(
        status_and_type(&response),
        (409, Some("ConflictException".into()))
    );
    assert_eq!(
        attachment_status(&second).await,
        "IN_PROGRESS",
        "nothing written"
    );
}

#[tokio::test]
async fn same_client_token_of_another_participant_is_independent() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let bob = Participant::connected(&contact).await;
    let hers = alice.attachment().await;
    let his = bob.attachment().await;

    ok(&handler
        .handle(alice.complete_request(&hers, "shared-token"))
        .await);
    ok(&handler
        .handle(bob.complete_request(&his, "shared-token"))
        .await);
}

#[tokio::test]
async fn already_approved_with_new_client_token_is_409() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    ok(&handler
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await);

    let response = handler
        .handle(alice.complete_request(&attachment_id, "token-2"))
        .await;

    assert_eq!(
        status_and_type(&response),
        (409, Some("ConflictException".into()))
    );
    assert!(
        alice.idempotency_record("token-2").await.is_none(),
        "a failed request records nothing"
    );
}

#[tokio::test]
async fn rejected_attachment_is_409() {
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = unique("attachment");
    put_attachment(
        &attachment_id,
        &alice.participant_id,
        &alice.contact_id,
        connect_attachments::store::schema::Status::Rejected,
    )
    .await;

    let response = handler()
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await;

    assert_eq!(
        status_and_type(&response),
        (409, Some("ConflictException".into()))
    );
    assert_eq!(attachment_status(&attachment_id).await, "REJECTED");
}

#[tokio::test]
async fn unknown_token_is_403() {
    let stranger = Participant::unstored(&unique("contact"));
    let response = handler()
        .handle(stranger.complete_request("any", "token-1"))
        .await;
    assert_eq!(
        parts(&response),
        (
            403,
            Some("AccessDeniedException".into()),
            ACCESS_DENIED.into()
        )
    );
}

#[tokio::test]
async fn expired_connection_is_403() {
    let alice = Participant::unstored(&unique("contact"));
    alice.store_connection(now()).await; // ExpiresAt == now counts as expired
    let attachment_id = alice.attachment().await;

    let response = handler()
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await;

    assert_eq!(
        status_and_type(&response),
        (403, Some("AccessDeniedException".into()))
    );
    assert_eq!(attachment_status(&attachment_id).await, "IN_PROGRESS");
}

#[tokio::test]
async fn deleted_connection_is_refused_on_a_warm_cache() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let first = alice.attachment().await;
    let second = alice.attachment().await;
    ok(&handler
        .handle(alice.complete_request(&first, "token-1"))
        .await); // caches the connection

    alice.delete_connection().await;
    let response = handler
        .handle(alice.complete_request(&second, "token-2"))
        .await;

    assert_eq!(
        status_and_type(&response),
        (403, Some("AccessDeniedException".into()))
    );
    assert_eq!(attachment_status(&second).await, "IN_PROGRESS");
    assert!(alice.idempotency_record("token-2").await.is_none());
}

#[tokio::test]
async fn replay_over_a_deleted_connection_is_403() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    ok(&handler
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await);

    alice.delete_connection().await;
    let response = handler
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await;

    assert_eq!(
        status_and_type(&response),
        (403, Some("AccessDeniedException".into()))
    );
}

#[tokio::test]
async fn unknown_foreign_and_other_contact_attachments_get_one_identical_403() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let bob = Participant::connected(&contact).await;
    let carol = Participant::connected(&unique("contact")).await;
    let bobs = bob.attachment().await;
    let carols = carol.attachment().await;
    // Same participant id, other contact: still not hers.
    let other_contact = unique("attachment");
    put_attachment(
        &other_contact,
        &alice.participant_id,
        &unique("contact"),
        connect_attachments::store::schema::Status::InProgress,
    )
    .await;

    let mut bodies = Vec::new();
    for (attachment_id, client_token) in [
        ("no-such-attachment", "t1"),
        (bobs.as_str(), "t2"),
        (carols.as_str(), "t3"),
        (other_contact.as_str(), "t4"),
    ] {
        let response = handler
            .handle(alice.complete_request(attachment_id, client_token))
            .await;
        bodies.push(parts(&response));
    }

    for body in &bodies {
        assert_eq!(
            body,
            &(
                403,
                Some("AccessDeniedException".into()),
                ACCESS_DENIED.into()
            )
        );
    }
    assert_eq!(attachment_status(&bobs).await, "IN_PROGRESS");
    assert_eq!(attachment_status(&carols).await, "IN_PROGRESS");
    assert_eq!(attachment_status(&other_contact).await, "IN_PROGRESS");
}

#[tokio::test]
async fn foreign_attachment_is_403_even_with_a_client_token_used_before() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let bob = Participant::connected(&contact).await;
    let hers = alice.attachment().await;
    let his = bob.attachment().await;
    ok(&handler
        .handle(alice.complete_request(&hers, "token-1"))
        .await);

    let response = handler
        .handle(alice.complete_request(&his, "token-1"))
        .await;

    assert_eq!(
        status_and_type(&response),
        (403, Some("AccessDeniedException".into()))
    );
}

#[tokio::test]
async fn quota_is_exact_at_the_limit() {
    let handler = handler_with(local::dynamodb_client(), with_quota(2));
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let ids = [
        alice.attachment().await,
        alice.attachment().await,
        alice.attachment().await,
    ];

    ok(&handler.handle(alice.complete_request(&ids[0], "t1")).await);
    ok(&handler.handle(alice.complete_request(&ids[1], "t2")).await);
    let third = handler.handle(alice.complete_request(&ids[2], "t3")).await;

    assert_eq!(
        status_and_type(&third),
        (402, Some("ServiceQuotaExceededException".into()))
    );
    assert_eq!(attachment_status(&ids[2]).await, "IN_PROGRESS");
    assert_eq!(completed_count(&contact).await, 2);
    // A replay at the limit is still a replay.
    ok(&handler.handle(alice.complete_request(&ids[1], "t2")).await);
}

#[tokio::test]
async fn failed_request_records_nothing_so_a_corrected_retry_succeeds() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    set_completed_count(&contact, 100).await;
    let attachment_id = alice.attachment().await;

    let refused = handler
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await;
    assert_eq!(
        status_and_type(&refused),
        (402, Some("ServiceQuotaExceededException".into()))
    );
    assert!(alice.idempotency_record("token-1").await.is_none());

    set_completed_count(&contact, 99).await;
    ok(&handler
        .handle(alice.complete_request(&attachment_id, "token-1"))
        .await);
    assert_eq!(completed_count(&contact).await, 100);
}

#[tokio::test]
async fn expired_idempotency_record_counts_as_absent() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let first = alice.attachment().await;
    let second = alice.attachment().await;
    ok(&handler
        .handle(alice.complete_request(&first, "token-1"))
        .await);
    // Age the record past its TTL (DynamoDB deletes expired items only eventually).
    let key = connect_attachments::store::schema::idempotency_key(
        COMPLETE,
        &alice.participant_id,
        &connect_attachments::domain::ClientTokenHash::of("token-1"),
    );
    local::dynamodb_client()
        .update_item()
        .table_name(local::tables().idempotency)
        .key("IdempotencyKey", s(&key))
        .update_expression("SET ExpiresAt = :past")
        .expression_attribute_values(
            ":past",
            aws_sdk_dynamodb::types::AttributeValue::N((now() - 1).to_string()),
        )
        .send()
        .await
        .unwrap();

    ok(&handler
        .handle(alice.complete_request(&second, "token-1"))
        .await);
    assert_eq!(attachment_status(&second).await, "APPROVED");
}

#[tokio::test]
async fn validation_errors_are_400_before_any_lookup() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let cases = [
        (
            None,
            json!({"AttachmentIds": ["a"], "ClientToken": "t"}).to_string(),
            "connectionToken",
        ),
        (
            Some(""),
            json!({"AttachmentIds": ["a"], "ClientToken": "t"}).to_string(),
            "connectionToken",
        ),
        (Some(&*alice.token), "not json".to_owned(), "JSON"),
        (Some(&*alice.token), "[]".to_owned(), "JSON object"),
        (
            Some(&*alice.token),
            json!({"ClientToken": "t"}).to_string(),
            "attachmentIds",
        ),
        (
            Some(&*alice.token),
            json!({"AttachmentIds": [], "ClientToken": "t"}).to_string(),
            "attachmentIds",
        ),
        (
            Some(&*alice.token),
            json!({"AttachmentIds": ["a", "b"], "ClientToken": "t"}).to_string(),
            "attachmentIds",
        ),
        (
            Some(&*alice.token),
            json!({"AttachmentIds": [""], "ClientToken": "t"}).to_string(),
            "attachmentIds.1.member",
        ),
        (
            Some(&*alice.token),
            json!({"AttachmentIds": [1], "ClientToken": "t"}).to_string(),
            "attachmentIds.1.member",
        ),
        (
            Some(&*alice.token),
            json!({"AttachmentIds": ["a"]}).to_string(),
            "clientToken",
        ),
        (
            Some(&*alice.token),
            json!({"AttachmentIds": ["a"], "ClientToken": 7}).to_string(),
            "clientToken",
        ),
        (
            Some(&*alice.token),
            json!({"AttachmentIds": ["a"], "ClientToken": ""}).to_string(),
            "clientToken",
        ),
        (
            Some(&*alice.token),
            json!({"AttachmentIds": ["a"], "ClientToken": "x".repeat(501)}).to_string(),
            "clientToken",
        ),
    ];
    for (token, body, field) in cases {
        let response = handler.handle(request(COMPLETE, token, body.clone())).await;
        let (status, error_type, message) = parts(&response);
        assert_eq!(
            (status, error_type.as_deref()),
            (400, Some("ValidationException")),
            "{body}"
        );
        assert!(message.contains(field), "{message} should name {field}");
    }
}

#[tokio::test]
async fn other_path_is_404_and_other_method_is_405() {
    let handler = handler();
    let mut wrong_path = request(COMPLETE, Some("t"), "{}");
    *wrong_path.uri_mut() = "https://example.com/participant/other".parse().unwrap();
    let mut wrong_method = request(COMPLETE, Some("t"), "{}");
    *wrong_method.method_mut() = lambda_http::http::Method::GET;

    let (status, error_type, body) = parts(&handler.handle(wrong_path).await);
    assert_eq!(
        (status, error_type.as_deref()),
        (404, Some("UnknownOperationException"))
    );
    assert!(body.starts_with(r#"{"Message":"#));
    let response = handler.handle(wrong_method).await;
    assert_eq!(
        status_and_type(&response),
        (405, Some("MethodNotAllowedException".into()))
    );
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn unknown_fields_and_authorization_header_are_ignored() {
    let alice = Participant::connected(&unique("contact")).await;
    let attachment_id = alice.attachment().await;
    let mut request = request(
        COMPLETE,
        Some(&alice.token),
        json!({"AttachmentIds": [attachment_id], "ClientToken": "t", "Extra": {"deep": [1, 2]}})
            .to_string(),
    );
    request
        .headers_mut()
        .insert("authorization", "AWS4-HMAC-SHA256 garbage".parse().unwrap());
    ok(&handler().handle(request).await);
}

#[tokio::test]
async fn sixteen_concurrent_identical_requests_all_succeed_with_one_state_change() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let attachment_id = alice.attachment().await;

    let requests = (0..16)
        .map(|_| alice.complete_request(&attachment_id, "same-token"))
        .collect();
    let answers = handle_concurrently(&handler, requests).await;

    assert!(answers.iter().all(|a| a == &(200, None)), "{answers:?}");
    assert_eq!(attachment_status(&attachment_id).await, "APPROVED");
    assert_eq!(completed_count(&contact).await, 1);
}

#[tokio::test]
async fn sixteen_concurrent_client_tokens_on_one_attachment_exactly_one_wins() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let attachment_id = alice.attachment().await;

    let requests = (0..16)
        .map(|i| alice.complete_request(&attachment_id, &format!("token-{i}")))
        .collect();
    let answers = handle_concurrently(&handler, requests).await;

    assert_eq!(
        answers.iter().filter(|a| a.0 == 200).count(),
        1,
        "{answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|a| a.0 == 200 || a == &(409, Some("ConflictException".into()))),
        "{answers:?}"
    );
    assert_eq!(completed_count(&contact).await, 1);
}

#[tokio::test]
async fn quota_is_exact_under_concurrency() {
    let quota = 3;
    let handler = handler_with(local::dynamodb_client(), with_quota(quota));
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let bob = Participant::connected(&contact).await;
    let mut requests = Vec::new();
    for (i, participant) in [&alice, &bob].iter().cycle().take(10).enumerate() {
        let attachment_id = participant.attachment().await;
        requests.push(participant.complete_request(&attachment_id, &format!("t{i}")));
    }

    let answers = handle_concurrently(&handler, requests).await;

    let completed = answers.iter().filter(|a| a.0 == 200).count();
    assert_eq!(completed, quota as usize, "{answers:?}");
    assert!(answers
        .iter()
        .all(|a| a.0 == 200 || a == &(402, Some("ServiceQuotaExceededException".into()))));
    assert_eq!(completed_count(&contact).await, quota);
}
