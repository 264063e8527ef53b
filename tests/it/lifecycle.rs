//! The whole lifecycle against DynamoDB Local and the local S3 server: StartAttachmentUpload, the
//! upload S3 verifies, CompleteAttachmentUpload checking S3 first, and GetAttachment's download.

use std::time::Duration;

use connect_attachments::domain::Operation;
use connect_attachments::store::schema::{self, Status};
use devkit::fixtures::*;
use devkit::local;
use serde_json::{json, Value};

const DENIED: (u16, Option<&str>) = (403, Some("AccessDeniedException"));
const CONFLICT: (u16, Option<&str>) = (409, Some("ConflictException"));

fn answer(response: &lambda_http::Response<lambda_http::Body>) -> (u16, Option<String>) {
    status_and_type(response)
}

fn is(expected: (u16, Option<&str>)) -> (u16, Option<String>) {
    (expected.0, expected.1.map(str::to_owned))
}

/// Starts `bytes` as a text file and uploads it: the start's answer.
async fn started_and_uploaded(
    handler: &std::sync::Arc<App>,
    who: &Participant,
    bytes: &[u8],
) -> Value {
    let started = json_body(
        &handler
            .handle(who.start_request(&text_upload("notes.txt", bytes), &unique("start")))
            .await,
    );
    assert_eq!(upload(&started, bytes).await.status, 200, "the upload");
    started
}

fn id(started: &Value) -> String {
    started["AttachmentId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_start_creates_a_pending_attachment_and_signs_a_write_once_put() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let upload = text_upload("notes.txt", FILE);

    let started = json_body(&handler.handle(alice.start_request(&upload, "s-1")).await);

    let id = id(&started);
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let metadata = &started["UploadMetadata"];
    assert_eq!(
        metadata["HeadersToInclude"],
        json!({"Content-Type": "text/plain", "If-None-Match": "*"})
    );
    let url = metadata["Url"].as_str().unwrap();
    assert!(
        url.contains(&format!("/{}/{contact}/{id}?", local::bucket())),
        "{url}"
    );
    for signed in ["content-length", "content-type", "if-none-match"] {
        assert!(url.contains(signed), "{signed} is signed: {url}");
    }
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    let expiry = metadata["UrlExpiry"].as_str().unwrap();
    assert!(expiry.len() == 24 && expiry.ends_with('Z'), "{expiry}");

    let item = attachment(&id).await;
    assert_eq!(item[schema::STATUS].as_s().unwrap(), "IN_PROGRESS");
    assert_eq!(item[schema::ATTACHMENT_NAME].as_s().unwrap(), "notes.txt");
    assert_eq!(item[schema::CONTENT_TYPE].as_s().unwrap(), "text/plain");
    assert_eq!(
        item[schema::ATTACHMENT_SIZE].as_n().unwrap(),
        &FILE.len().to_string()
    );
    assert_eq!(
        item[schema::PARTICIPANT_ID].as_s().unwrap(),
        &alice.participant_id
    );
    let expires: i64 = item[schema::EXPIRES_AT].as_n().unwrap().parse().unwrap();
    assert!((expires - now() - 86_400).abs() <= 5, "pending TTL");
    assert!(item.contains_key(schema::CREATED_AT));
    let record = alice
        .record(Operation::StartAttachmentUpload, "s-1")
        .await
        .unwrap();
    assert_eq!(record[schema::ATTACHMENT_ID].as_s().unwrap(), &id);
    assert_eq!(started_count(&contact).await, 1);
}

#[tokio::test]
async fn s3_accepts_the_declared_upload_once_and_refuses_anything_else() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let upload_ = text_upload("notes.txt", FILE);
    let started = json_body(&handler.handle(alice.start_request(&upload_, "s-1")).await);
    let url = started["UploadMetadata"]["Url"].as_str().unwrap();
    let typed =
        |content_type: &'static str| [("Content-Type", content_type), ("If-None-Match", "*")];

    let other_type = http("PUT", url, &typed("image/png"), FILE).await;
    assert_eq!(other_type.status, 403, "another content type");
    let other_length = http("PUT", url, &typed("text/plain"), b"longer than declared\n").await;
    assert_ne!(other_length.status / 100, 2, "another length");
    let tampered = http(
        "PUT",
        &url.replace("X-Amz-Signature=", "X-Amz-Signature=0"),
        &typed("text/plain"),
        FILE,
    )
    .await;
    assert_eq!(tampered.status, 403, "a bad signature");

    assert_eq!(
        upload(&started, FILE).await.status,
        200,
        "the declared upload"
    );
    assert_eq!(upload(&started, FILE).await.status, 412, "a second write");
}

#[tokio::test]
async fn an_expired_upload_url_is_refused_by_s3() {
    let mut settings = settings();
    settings.uploads.url_ttl = Duration::from_secs(1);
    let handler = handler_with(local::dynamodb_client(), settings);
    let alice = Participant::connected(&unique("contact")).await;
    let started = json_body(
        &handler
            .handle(alice.start_request(&text_upload("a.txt", FILE), "s-1"))
            .await,
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(upload(&started, FILE).await.status, 403);
}

#[tokio::test]
async fn a_replayed_start_answers_the_same_attachment_with_a_fresh_url_even_at_the_quota() {
    let handler = handler_with(local::dynamodb_client(), with_quota(1));
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let upload = text_upload("a.txt", FILE);
    let first = json_body(&handler.handle(alice.start_request(&upload, "s-1")).await);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let replay = json_body(&handler.handle(alice.start_request(&upload, "s-1")).await);

    assert_eq!(replay["AttachmentId"], first["AttachmentId"]);
    assert_ne!(
        replay["UploadMetadata"]["Url"], first["UploadMetadata"]["Url"],
        "freshly signed"
    );
    assert_eq!(started_count(&contact).await, 1, "nothing changed");
    let other = handler.handle(alice.start_request(&upload, "s-2")).await;
    assert_eq!(
        answer(&other),
        is((402, Some("ServiceQuotaExceededException")))
    );
}

#[tokio::test]
async fn a_client_token_reused_for_another_start_is_a_validation_error_naming_it() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    json_body(
        &handler
            .handle(alice.start_request(&text_upload("a.txt", FILE), "s-1"))
            .await,
    );

    let (status, error_type, body) = parts(
        &handler
            .handle(alice.start_request(&text_upload("b.txt", FILE), "s-1"))
            .await,
    );

    assert_eq!(
        (status, error_type.as_deref()),
        (400, Some("ValidationException"))
    );
    assert!(body.contains("'clientToken'"), "{body}");
}

#[tokio::test]
async fn sixteen_concurrent_identical_starts_create_one_attachment() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let upload = text_upload("a.txt", FILE);
    let requests = (0..16)
        .map(|_| alice.start_request(&upload, "same"))
        .collect();

    let answers = handle_all(&handler, requests).await;

    let ids: std::collections::BTreeSet<String> =
        answers.iter().map(|a| id(&json_body(a))).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(started_count(&contact).await, 1);
}

#[tokio::test]
async fn the_started_attachments_quota_is_exact_under_concurrency() {
    let quota = 5;
    let handler = handler_with(local::dynamodb_client(), with_quota(quota));
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let upload = text_upload("a.txt", FILE);
    let requests = (0..12)
        .map(|i| alice.start_request(&upload, &format!("s-{i}")))
        .collect();

    let answers = handle_concurrently(&handler, requests).await;

    let ok = answers.iter().filter(|a| a.0 == 200).count();
    let refused = answers
        .iter()
        .filter(|a| *a == &is((402, Some("ServiceQuotaExceededException"))))
        .count();
    assert_eq!(
        (ok, refused),
        (quota as usize, 12 - quota as usize),
        "{answers:?}"
    );
    assert_eq!(started_count(&contact).await, quota);
}

#[tokio::test]
async fn completing_before_the_upload_is_409_and_records_nothing() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let started = json_body(
        &handler
            .handle(alice.start_request(&text_upload("a.txt", FILE), "s-1"))
            .await,
    );
    let id = id(&started);

    let early = handler.handle(alice.complete_request(&id, "c-1")).await;

    assert_eq!(answer(&early), is(CONFLICT));
    assert_eq!(attachment_status(&id).await, "IN_PROGRESS");
    assert!(alice.idempotency_record("c-1").await.is_none());
    // Upload, and the same request now succeeds.
    assert_eq!(upload(&started, FILE).await.status, 200);
    let later = handler.handle(alice.complete_request(&id, "c-1")).await;
    assert_eq!(answer(&later), (200, None));
}

#[tokio::test]
async fn a_completion_records_the_etag_and_removes_the_pending_expiry() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let started = started_and_uploaded(&handler, &alice, FILE).await;
    let id = id(&started);

    let done = handler.handle(alice.complete_request(&id, "c-1")).await;

    assert_eq!(answer(&done), (200, None));
    let item = attachment(&id).await;
    assert_eq!(item[schema::STATUS].as_s().unwrap(), "APPROVED");
    let etag = item[schema::ETAG].as_s().unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(!item.contains_key(schema::EXPIRES_AT));
    assert!(item.contains_key(schema::COMPLETED_AT));
}

#[tokio::test]
async fn another_size_or_type_in_s3_is_409() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let other_size = alice.pending_attachment().await;
    put_object(
        &alice.contact_id,
        &other_size,
        b"not what was declared",
        "text/plain",
    )
    .await;
    let other_type = alice.pending_attachment().await;
    put_object(&alice.contact_id, &other_type, FILE, "image/png").await;
    let other_case = alice.pending_attachment().await;
    put_object(&alice.contact_id, &other_case, FILE, "Text/Plain").await;

    for id in [&other_size, &other_type] {
        let response = handler
            .handle(alice.complete_request(id, &unique("c")))
            .await;
        assert_eq!(answer(&response), is(CONFLICT), "{id}");
        assert_eq!(attachment_status(id).await, "IN_PROGRESS");
    }
    let response = handler
        .handle(alice.complete_request(&other_case, "c"))
        .await;
    assert_eq!(
        answer(&response),
        (200, None),
        "types compare case-insensitively"
    );
}

#[tokio::test]
async fn a_record_without_declared_size_or_type_is_approved_with_s3s() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let id = alice.attachment().await;
    local::dynamodb_client()
        .update_item()
        .table_name(local::tables().attachments)
        .key(schema::ATTACHMENT_ID, s(&id))
        .update_expression("REMOVE #size, #type")
        .expression_attribute_names("#size", schema::ATTACHMENT_SIZE)
        .expression_attribute_names("#type", schema::CONTENT_TYPE)
        .send()
        .await
        .unwrap();

    let response = handler.handle(alice.complete_request(&id, "c")).await;

    assert_eq!(answer(&response), (200, None));
    let item = attachment(&id).await;
    assert_eq!(
        item[schema::ATTACHMENT_SIZE].as_n().unwrap(),
        &FILE.len().to_string()
    );
    assert_eq!(item[schema::CONTENT_TYPE].as_s().unwrap(), "text/plain");
}

#[tokio::test]
async fn a_foreign_attachment_whose_object_exists_is_403_and_an_expired_pending_one_too() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let bob = Participant::connected(&contact).await;
    let hers = alice.attachment().await;
    let response = handler.handle(bob.complete_request(&hers, "c")).await;
    assert_eq!(answer(&response), is(DENIED));

    let expired = alice.attachment().await;
    local::dynamodb_client()
        .update_item()
        .table_name(local::tables().attachments)
        .key(schema::ATTACHMENT_ID, s(&expired))
        .update_expression("SET #x = :past")
        .expression_attribute_names("#x", schema::EXPIRES_AT)
        .expression_attribute_values(":past", schema::n(now() - 1))
        .send()
        .await
        .unwrap();
    let response = handler.handle(alice.complete_request(&expired, "c")).await;
    assert_eq!(answer(&response), is(DENIED));
    let not_uploaded_elsewhere = unique("attachment");
    put_attachment(
        &not_uploaded_elsewhere,
        &alice.participant_id,
        &unique("contact"),
        Status::InProgress,
    )
    .await;
    let response = handler
        .handle(alice.complete_request(&not_uploaded_elsewhere, "c"))
        .await;
    assert_eq!(
        answer(&response),
        is(DENIED),
        "another contact's, without an object here"
    );
}

#[tokio::test]
async fn the_other_participant_downloads_the_exact_bytes_as_an_attachment() {
    let handler = handler();
    let contact = unique("contact");
    let customer = Participant::connected(&contact).await;
    let agent = Participant::connected(&contact).await;
    // Text, since it is declared text/plain, but not ASCII: the bytes must come back exactly.
    let bytes = "r\u{e9}sum\u{e9}: caf\u{e9} \u{2713}\r\n\ttabs and all\n".as_bytes();
    let started = json_body(
        &handler
            .handle(customer.start_request(&text_upload("r\u{e9}sum\u{e9} 1.txt", bytes), "s"))
            .await,
    );
    assert_eq!(upload(&started, bytes).await.status, 200);
    let id = id(&started);
    assert_eq!(
        answer(&handler.handle(customer.complete_request(&id, "c")).await),
        (200, None)
    );

    let got = json_body(&handler.handle(agent.get_request(&id)).await);

    assert_eq!(got["AttachmentSizeInBytes"], bytes.len());
    assert!(got["UrlExpiry"].as_str().unwrap().ends_with('Z'));
    let download = http("GET", got["Url"].as_str().unwrap(), &[], b"").await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body, bytes);
    assert_eq!(
        download.headers["content-disposition"],
        "attachment; filename=\"r_sum_ 1.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.txt"
    );
    assert_eq!(download.headers["content-type"], "text/plain");
}

#[tokio::test]
async fn get_is_403_for_another_contact_before_completion_and_for_a_revoked_connection() {
    let handler = handler();
    let contact = unique("contact");
    let customer = Participant::connected(&contact).await;
    let agent = Participant::connected(&contact).await;
    let stranger = Participant::connected(&unique("contact")).await;
    let started = started_and_uploaded(&handler, &customer, FILE).await;
    let id = id(&started);

    let before = handler.handle(agent.get_request(&id)).await;
    assert_eq!(answer(&before), is(DENIED), "before completion");
    assert_eq!(
        answer(&handler.handle(customer.complete_request(&id, "c")).await),
        (200, None)
    );
    assert_eq!(
        answer(&handler.handle(agent.get_request(&id)).await),
        (200, None)
    );
    let foreign = handler.handle(stranger.get_request(&id)).await;
    assert_eq!(
        answer(&foreign),
        is(DENIED),
        "another contact's participant"
    );
    let unknown = handler
        .handle(agent.get_request("no-such-attachment"))
        .await;
    assert_eq!(parts(&foreign).2, parts(&unknown).2, "no existence oracle");

    agent.delete_connection().await;
    let revoked = handler.handle(agent.get_request(&id)).await;
    assert_eq!(
        answer(&revoked),
        is(DENIED),
        "revoked, whatever the container remembers"
    );
}

#[tokio::test]
async fn a_short_lived_download_url_expires() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    let id = alice.attachment().await;
    assert_eq!(
        answer(&handler.handle(alice.complete_request(&id, "c")).await),
        (200, None)
    );
    let get = request(
        Operation::GetAttachment,
        Some(&alice.token),
        json!({"AttachmentId": id, "UrlExpiryInSeconds": 5}).to_string(),
    );
    let got = json_body(&handler.handle(get).await);
    let url = got["Url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Expires=5"), "{url}");
    assert_eq!(http("GET", url, &[], b"").await.status, 200);
}

#[tokio::test]
async fn an_id_no_object_key_can_hold_is_never_uploaded_and_answers_409() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    for odd in ["nul\u{0}in-the-middle", "\u{7f}\u{1}", &"é".repeat(256)] {
        let id = odd.to_string();
        put_attachment(
            &id,
            &alice.participant_id,
            &alice.contact_id,
            Status::InProgress,
        )
        .await;
        let response = handler
            .handle(alice.complete_request(&id, &unique("c")))
            .await;
        assert_eq!(answer(&response), is(CONFLICT), "{id:?}");
    }
}
