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
    let sdk = participant_client(devkit::server::serve(handler).await);
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
    let sdk = participant_client(devkit::server::serve(handler_with(dynamodb, settings())).await);

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
    let sdk = participant_client(devkit::server::serve(handler).await);

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
