//! Trust the bytes, not the label: against the local S3, with genuine files of every allowed type
//! (devkit::samples) uploaded through the pre-signed URL as a client does, CompleteAttachmentUpload
//! approves what is what it says, and rejects for good a file whose content is not its declared
//! type; with a retention, nothing outlives it.

use connect_attachments::config::Settings;
use connect_attachments::domain::{AttachmentId, DeclaredUpload, ObjectKey};
use connect_attachments::objects::{Objects, S3Objects};
use connect_attachments::store::schema::{self, n, Status};
use devkit::fixtures::*;
use devkit::{local, samples};
use serde_json::json;

const DISGUISED: &str = "The file's content does not match its declared type";

/// Starts `bytes` declared as `name` of `content_type`, uploads them with the URL and headers the
/// start answers, and completes it: the completion's answer and the attachment's id.
async fn sent(
    handler: &App,
    who: &Participant,
    name: &str,
    content_type: &str,
    bytes: &[u8],
) -> (lambda_http::Response<lambda_http::Body>, String) {
    let declared = DeclaredUpload {
        name: name.to_owned(),
        size: bytes.len() as u64,
        content_type: content_type.to_owned(),
    };
    let started = handler
        .handle(who.start_request(&declared, &unique("start")))
        .await;
    assert_eq!(status_and_type(&started), (200, None), "{content_type}");
    let started = json_body(&started);
    assert_eq!(upload(&started, bytes).await.status, 200, "the upload");
    let id = started["AttachmentId"].as_str().unwrap().to_owned();
    let completed = handler
        .handle(who.complete_request(&id, &format!("complete-{id}")))
        .await;
    (completed, id)
}

fn message(response: &lambda_http::Response<lambda_http::Body>) -> String {
    let body: serde_json::Value = serde_json::from_str(&parts(response).2).unwrap_or_default();
    body["Message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_file_of_every_allowed_type_is_approved_in_one_s3_call_and_one_transaction() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let captured = Captured::default();
    let _guard = captured.install("info");
    let all = samples::all();
    assert_eq!(
        all.iter().map(|s| s.content_type).collect::<Vec<_>>(),
        connect_attachments::config::DEFAULT_ALLOWED_CONTENT_TYPES,
        "a sample of each allowed type"
    );

    for sample in &all {
        let (completed, id) = sent(
            &handler,
            &alice,
            sample.name,
            sample.content_type,
            &sample.bytes,
        )
        .await;
        assert_eq!(
            status_and_type(&completed),
            (200, None),
            "{}: {}",
            sample.content_type,
            message(&completed)
        );
        assert_eq!(attachment_status(&id).await, "APPROVED");
    }

    let completions: Vec<_> = captured
        .request_lines()
        .into_iter()
        .filter(|line| line["operation"] == "CompleteAttachmentUpload")
        .map(|line| calls(&line))
        .map(|c| (c.dynamodb, c.s3))
        .collect();
    assert_eq!(
        completions,
        vec![(1, 1); all.len()],
        "one ranged GetObject, one transaction"
    );
    assert_eq!(completed_count(&contact).await, all.len() as u32);
}

/// What each disguise is: the bytes of one type, declared as another.
fn disguises() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let exe = [&b"MZ\x90\0\x03\0\0\0"[..], &[0; 120]].concat();
    let random: Vec<u8> = (0..2048).map(|i| (i * 7 % 251) as u8).collect();
    vec![
        (
            "page.png",
            "image/png",
            b"<html><script>alert(1)</script></html>".to_vec(),
        ),
        (
            "image.svg.png",
            "image/png",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
        ),
        ("report.png", "image/png", samples::pdf()),
        ("photo.pdf", "application/pdf", samples::png()),
        ("letter.xlsx", samples::XLSX, samples::docx()),
        ("clip.wav", "audio/wav", samples::of("video/mp4").bytes),
        ("voice.mp4", "video/mp4", samples::wav()),
        ("photo.jpg", "image/jpeg", samples::png()),
        ("tool.doc", "application/msword", exe),
        ("binary.txt", "text/plain", random),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disguised_file_is_rejected_for_good_counted_nowhere_and_never_downloaded() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let agent = Participant::connected(&contact).await;
    let captured = Captured::default();
    let _guard = captured.install("info");

    for (name, declared, bytes) in disguises() {
        let (completed, id) = sent(&handler, &alice, name, declared, &bytes).await;
        let line = captured.request_lines().pop().unwrap();
        assert_eq!(
            line["reason"], "ContentMismatch",
            "the log line says why: {line}"
        );

        assert_eq!(
            status_and_type(&completed),
            (409, Some("ConflictException".into())),
            "{name} as {declared}"
        );
        assert!(message(&completed).starts_with(DISGUISED), "{name}");
        let record = attachment(&id).await;
        assert_eq!(attachment_status(&id).await, "REJECTED", "{name}");
        assert!(record.contains_key(schema::REJECTION), "{name}: the reason");
        let expires = record[schema::EXPIRES_AT]
            .as_n()
            .unwrap()
            .parse::<i64>()
            .unwrap();
        assert!(
            (now()..=now() + 86_400).contains(&expires),
            "{name}: with its idempotency record, TTL removes it, and the reaper its file"
        );
        // The same request again: the same answer. Another ClientToken: not in progress.
        let replay = handler
            .handle(alice.complete_request(&id, &format!("complete-{id}")))
            .await;
        assert_eq!(status_and_type(&replay), status_and_type(&completed));
        assert!(message(&replay).starts_with(DISGUISED), "{name}: replay");
        let again = handler
            .handle(alice.complete_request(&id, &unique("other")))
            .await;
        assert_eq!(status_and_type(&again).0, 409);
        let download = handler.handle(agent.get_request(&id)).await;
        assert_eq!(
            status_and_type(&download),
            (403, Some("AccessDeniedException".into())),
            "{name}: never downloaded"
        );
    }
    assert_eq!(
        completed_count(&contact).await,
        0,
        "no rejection is counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_is_replayed_as_such_once_its_file_is_gone_and_even_at_the_quota() {
    // Two starts allowed, and two completions.
    let handler = handler_with(local::dynamodb_client(), with_quota(2));
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let genuine = samples::of("image/png");
    let (approved, _) = sent(&handler, &alice, "ok.png", "image/png", &genuine.bytes).await;
    assert_eq!(status_and_type(&approved), (200, None));

    // At the quota, a disguised file is still told apart: rejected, not over quota.
    set_completed_count(&contact, 2).await;
    let page = b"<html>not a picture</html>";
    let (rejected, id) = sent(&handler, &alice, "page.png", "image/png", page).await;
    assert_eq!(status_and_type(&rejected).0, 409, "{}", message(&rejected));
    assert_eq!(completed_count(&contact).await, 2);

    // The reaper deletes the file once TTL removes the record; a replay then still answers 409.
    let key = ObjectKey::new(&contact, &AttachmentId::new(&id));
    S3Objects::new(local::s3_client(), local::bucket())
        .delete(&key)
        .await
        .unwrap();
    let replay = handler
        .handle(alice.complete_request(&id, &format!("complete-{id}")))
        .await;
    assert_eq!(status_and_type(&replay), status_and_type(&rejected));
    assert!(message(&replay).starts_with(DISGUISED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_file_cut_mid_character_by_the_range_is_text_and_binary_is_not() {
    let handler = handler();
    let alice = Participant::connected(&unique("contact")).await;
    // 8191 ASCII bytes, then "é" (two bytes) across the end of the 8 KiB range, then more text.
    let mut text = "a".repeat(8191).into_bytes();
    text.extend_from_slice("é and more text\n".as_bytes());
    assert!(
        std::str::from_utf8(&text[..8192]).is_err(),
        "the range cuts the é"
    );

    let (completed, _) = sent(&handler, &alice, "long.txt", "text/plain", &text).await;
    assert_eq!(
        status_and_type(&completed),
        (200, None),
        "{}",
        message(&completed)
    );

    let mut nul = text.clone();
    nul[100] = 0;
    let (completed, _) = sent(&handler, &alice, "nul.csv", "text/csv", &nul).await;
    assert_eq!(status_and_type(&completed).0, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_with_no_known_signature_is_accepted_on_its_declaration() {
    let mut settings = settings();
    settings
        .uploads
        .allowed_content_types
        .push("image/webp".into());
    let handler = handler_with(local::dynamodb_client(), settings);
    let alice = Participant::connected(&unique("contact")).await;

    let (completed, id) = sent(
        &handler,
        &alice,
        "a.webp",
        "image/webp",
        b"whatever it holds",
    )
    .await;

    assert_eq!(status_and_type(&completed), (200, None));
    assert_eq!(attachment_status(&id).await, "APPROVED");
}

fn with_retention(days: u64) -> Settings {
    let mut settings = settings();
    settings.limits.retention_seconds = days * 86_400;
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_retention_an_approved_record_expires_with_its_file() {
    let kept = handler();
    let retained = handler_with(local::dynamodb_client(), with_retention(30));
    let alice = Participant::connected(&unique("contact")).await;
    let png = samples::png();

    let (completed, id) = sent(&retained, &alice, "a.png", "image/png", &png).await;
    assert_eq!(status_and_type(&completed), (200, None));
    let expires = attachment(&id).await[schema::EXPIRES_AT]
        .as_n()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    // The upload's time plus 30 days: never after S3's lifecycle deletes the file.
    let thirty_days = 30 * 86_400;
    assert!(
        (now() + thirty_days - 60..=now() + thirty_days).contains(&expires),
        "{expires}"
    );

    let (completed, id) = sent(&kept, &alice, "b.png", "image/png", &png).await;
    assert_eq!(status_and_type(&completed), (200, None));
    assert!(
        !attachment(&id).await.contains_key(schema::EXPIRES_AT),
        "without a retention, an approved record is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_refuses_an_attachment_whose_retention_ends_before_its_url_would() {
    let handler = handler();
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let id = unique("attachment");
    put_attachment(&id, &alice.participant_id, &contact, Status::Approved).await;
    let get = |expiry: Option<u64>| {
        let mut body = json!({ "AttachmentId": id });
        if let Some(seconds) = expiry {
            body["UrlExpiryInSeconds"] = json!(seconds);
        }
        request(
            connect_attachments::domain::Operation::GetAttachment,
            Some(&alice.token),
            body.to_string(),
        )
    };
    let expire_at = |at: i64| {
        let id = id.clone();
        async move {
            local::dynamodb_client()
                .update_item()
                .table_name(local::tables().attachments)
                .key(schema::ATTACHMENT_ID, schema::s(&id))
                .update_expression("SET #x = :x")
                .expression_attribute_names("#x", schema::EXPIRES_AT)
                .expression_attribute_values(":x", n(at))
                .send()
                .await
                .unwrap();
        }
    };

    assert_eq!(
        status_and_type(&handler.handle(get(None)).await),
        (200, None)
    );
    expire_at(now() + 120).await;
    let denied = (403, Some("AccessDeniedException".into()));
    assert_eq!(
        status_and_type(&handler.handle(get(None)).await),
        denied,
        "a 300 s URL would outlive the file"
    );
    assert_eq!(
        status_and_type(&handler.handle(get(Some(60))).await),
        (200, None),
        "a 60 s URL does not"
    );
    expire_at(now() - 1).await;
    assert_eq!(
        status_and_type(&handler.handle(get(Some(5))).await),
        denied,
        "retention ended: refused before either deletion runs"
    );
}

#[tokio::test]
async fn the_reaper_deletes_a_rejected_files_object_when_ttl_removes_its_record() {
    let record = devkit::events::attachment_removal("1", true, "REJECTED", "c", "a");
    let event: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_value(json!({ "Records": [record] })).unwrap();
    assert_eq!(
        connect_attachments::reaper::decide(&event.records[0]),
        connect_attachments::reaper::Decision::Delete(ObjectKey::new("c", &AttachmentId::new("a")))
    );
}
