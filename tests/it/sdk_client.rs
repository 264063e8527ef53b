//! The function served over HTTP and called with the real AWS SDK for Rust
//! (`aws-sdk-connectparticipant`): each answer must parse into its modeled, typed error.

use std::net::SocketAddr;

use aws_sdk_connectparticipant::config::retry::RetryConfig;
use aws_sdk_connectparticipant::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_connectparticipant::operation::complete_attachment_upload::CompleteAttachmentUploadError as E;
use aws_sdk_connectparticipant::Client;
use aws_smithy_mocks::{mock_client, RuleMode};
use devkit::fixtures::*;
use devkit::local;

fn participant_client(address: SocketAddr) -> Client {
    let config = aws_sdk_connectparticipant::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://{address}"))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("unused", "unused", None, None, "tests"))
        // 429 and 500 are retryable: see each answer once.
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

async fn complete(
    client: &Client,
    token: &str,
    attachment_id: &str,
    client_token: &str,
) -> Result<(), E> {
    client
        .complete_attachment_upload()
        .connection_token(token)
        .attachment_ids(attachment_id)
        .client_token(client_token)
        .send()
        .await
        .map(drop)
        .map_err(|e| e.into_service_error())
}

#[tokio::test]
async fn success_and_every_modeled_error_parse_as_their_typed_variants() {
    let handler = handler_with(local::dynamodb_client(), with_quota(2));
    let sdk = participant_client(devkit::server::serve_handler(handler).await);
    let contact = unique("contact");
    let alice = Participant::connected(&contact).await;
    let first = alice.attachment().await;
    let second = alice.attachment().await;
    let third = alice.attachment().await;

    complete(&sdk, &alice.token, &first, "t1")
        .await
        .expect("success");
    complete(&sdk, &alice.token, &first, "t1")
        .await
        .expect("replay");

    match complete(&sdk, &alice.token, &first, "t2").await {
        Err(E::ConflictException(e)) => assert!(e.message().contains("not in progress")),
        other => panic!("expected ConflictException, got {other:?}"),
    }
    match complete(&sdk, "no-such-token", &first, "t3").await {
        Err(E::AccessDeniedException(e)) => {
            assert_eq!(
                e.message(),
                "You do not have sufficient access to perform this action."
            )
        }
        other => panic!("expected AccessDeniedException, got {other:?}"),
    }
    match complete(&sdk, &alice.token, "no-such-attachment", "t4").await {
        Err(E::AccessDeniedException(_)) => {}
        other => panic!("expected AccessDeniedException, got {other:?}"),
    }
    match complete(&sdk, &alice.token, &first, &"c".repeat(501)).await {
        Err(E::ValidationException(e)) => assert!(e.message().contains("'clientToken'")),
        other => panic!("expected ValidationException, got {other:?}"),
    }
    complete(&sdk, &alice.token, &second, "t5")
        .await
        .expect("second completion");
    match complete(&sdk, &alice.token, &third, "t6").await {
        Err(E::ServiceQuotaExceededException(e)) => assert!(!e.message().is_empty()),
        other => panic!("expected ServiceQuotaExceededException, got {other:?}"),
    }
}

#[tokio::test]
async fn the_whole_lifecycle_through_the_sdk_and_each_operations_typed_errors() {
    use aws_sdk_connectparticipant::operation::get_attachment::GetAttachmentError as GetError;
    use aws_sdk_connectparticipant::operation::start_attachment_upload::StartAttachmentUploadError as StartError;
    let sdk = participant_client(devkit::server::serve_handler(handler()).await);
    let contact = unique("contact");
    let customer = Participant::connected(&contact).await;
    let agent = Participant::connected(&contact).await;
    let bytes = b"hello from aws-sdk-connectparticipant\n";

    let started = sdk
        .start_attachment_upload()
        .connection_token(&customer.token)
        .attachment_name("sdk.txt")
        .attachment_size_in_bytes(bytes.len() as i64)
        .content_type("text/plain")
        .client_token("sdk-start")
        .send()
        .await
        .expect("start");
    let metadata = started.upload_metadata().expect("UploadMetadata");
    let headers: Vec<(&str, &str)> = metadata
        .headers_to_include()
        .expect("HeadersToInclude")
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let uploaded = http("PUT", metadata.url().expect("Url"), &headers, bytes).await;
    assert_eq!(uploaded.status, 200);
    let id = started.attachment_id().expect("AttachmentId");
    complete(&sdk, &customer.token, id, "sdk-complete")
        .await
        .expect("complete");
    let got = sdk
        .get_attachment()
        .connection_token(&agent.token)
        .attachment_id(id)
        .send()
        .await
        .expect("get");
    assert_eq!(got.attachment_size_in_bytes(), bytes.len() as i64);
    let download = http("GET", got.url().expect("Url"), &[], b"").await;
    assert_eq!(download.body, bytes);

    let start = |content_type: &'static str, token: String| {
        let sdk = sdk.clone();
        async move {
            sdk.start_attachment_upload()
                .connection_token(token)
                .attachment_name("a.txt")
                .attachment_size_in_bytes(1)
                .content_type(content_type)
                .client_token("sdk-start-2")
                .send()
                .await
                .map_err(|e| e.into_service_error())
        }
    };
    match start("text/html", customer.token.clone()).await {
        Err(StartError::ValidationException(e)) => assert!(e.message().contains("contentType")),
        other => panic!("expected ValidationException, got {other:?}"),
    }
    match start("text/plain", "no-such-token".into()).await {
        Err(StartError::AccessDeniedException(_)) => {}
        other => panic!("expected AccessDeniedException, got {other:?}"),
    }
    let pending = start("text/plain", customer.token.clone())
        .await
        .expect("start");
    match complete(
        &sdk,
        &customer.token,
        pending.attachment_id().unwrap(),
        "sdk-early",
    )
    .await
    {
        Err(E::ConflictException(e)) => assert!(e.message().contains("not uploaded")),
        other => panic!("expected ConflictException, got {other:?}"),
    }
    let get = |attachment_id: String| {
        let (sdk, token) = (sdk.clone(), agent.token.clone());
        async move {
            sdk.get_attachment()
                .connection_token(token)
                .attachment_id(attachment_id)
                .send()
                .await
                .map_err(|e| e.into_service_error())
        }
    };
    match get(pending.attachment_id().unwrap().to_owned()).await {
        Err(GetError::AccessDeniedException(_)) => {}
        other => panic!("expected AccessDeniedException, got {other:?}"),
    }
}

#[tokio::test]
async fn throttling_parses_as_throttling_exception() {
    let lookup = live_connection();
    let throttled =
        transactions_answering(400, aws_error("ProvisionedThroughputExceededException"));
    let dynamodb = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        &[&lookup, &throttled],
        |c| c.retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
    );
    mocked_upload().await;
    let sdk =
        participant_client(devkit::server::serve_handler(handler_with(dynamodb, settings())).await);

    match complete(&sdk, "token", "a", "t").await {
        Err(E::ThrottlingException(e)) => assert!(!e.message().is_empty()),
        other => panic!("expected ThrottlingException, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_dynamodb_parses_as_internal_server_exception() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let handler = handler_with(
        local::dynamodb_client_for(&endpoint, std::time::Duration::from_millis(500)),
        settings(),
    );
    let sdk = participant_client(devkit::server::serve_handler(handler).await);

    match complete(&sdk, "token", "a", "t").await {
        Err(E::InternalServerException(e)) => {
            assert_eq!(
                e.message(),
                "An internal error occurred. Retry the request."
            )
        }
        other => panic!("expected InternalServerException, got {other:?}"),
    }
}
