//! The demo data, defined once: `make run` seeds it, the sample events in `events/` use it, the
//! walk-through `make run` prints and the README show it.

use std::time::SystemTime;

use connect_attachments::config::Tables;
use connect_attachments::domain::{
    epoch_seconds_after, AttachmentId, ClientTokenHash, Connection, DeclaredUpload, ObjectKey,
    Operation, TokenHash,
};
use connect_attachments::store::schema::{self, s, Status};

/// The customer's connection token.
pub const TOKEN: &str = "demo-connection-token";
/// The agent's, in the same contact: the other participant who downloads what the customer sent.
pub const AGENT_TOKEN: &str = "demo-agent-token";
pub const PARTICIPANT_ID: &str = "demo-participant";
pub const AGENT_ID: &str = "demo-agent";
pub const CONTACT_ID: &str = "demo-contact";
/// How long the demo connections live.
pub const CONNECTION_TTL_SECONDS: u64 = 7 * 86_400;

/// Attachments the sample events complete: `IN_PROGRESS`, their file already in S3.
pub const UPLOADED: [&str; 2] = ["demo-attachment", "demo-attachment-rest"];
/// An attachment already approved, which the sample GetAttachment events download.
pub const APPROVED: &str = "demo-approved";
pub const FILE_NAME: &str = "demo.txt";
pub const FILE: &[u8] = b"Hello from the demo attachment!\n";
pub const CONTENT_TYPE: &str = "text/plain";

/// The ClientTokens the sample events and the walk-through use. Re-seeding forgets them, so that
/// a fresh demo answers the events as the fixture test expects.
pub const CLIENT_TOKENS: [&str; 6] = ["demo-1", "demo-2", "demo-3", "rest-1", "start-1", "start-2"];

pub fn customer() -> Connection {
    connection(PARTICIPANT_ID)
}

fn connection(participant_id: &str) -> Connection {
    Connection {
        participant_id: participant_id.to_owned(),
        contact_id: CONTACT_ID.to_owned(),
        expires_at: epoch_seconds_after(SystemTime::now(), CONNECTION_TTL_SECONDS),
    }
}

pub fn upload() -> DeclaredUpload {
    DeclaredUpload {
        name: FILE_NAME.to_owned(),
        size: FILE.len() as u64,
        content_type: CONTENT_TYPE.to_owned(),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Seeds the demo afresh: both connections; the demo attachments `IN_PROGRESS` with their file in
/// S3, and one `APPROVED`; the contact's quotas and the demo ClientTokens forgotten.
pub async fn seed(
    dynamodb: &aws_sdk_dynamodb::Client,
    s3: &aws_sdk_s3::Client,
    tables: &Tables,
    bucket: &str,
) -> Result<(), BoxError> {
    let now = SystemTime::now();
    for (token, participant) in [(TOKEN, PARTICIPANT_ID), (AGENT_TOKEN, AGENT_ID)] {
        dynamodb
            .put_item()
            .table_name(&tables.connections)
            .set_item(Some(schema::connection_item(
                &TokenHash::of(token),
                &connection(participant),
            )))
            .send()
            .await?;
    }
    let mut forgotten = vec![
        schema::completed_quota_key(CONTACT_ID),
        schema::started_quota_key(CONTACT_ID),
    ];
    for operation in Operation::ALL {
        for client_token in CLIENT_TOKENS {
            forgotten.push(schema::idempotency_key(
                operation,
                PARTICIPANT_ID,
                &ClientTokenHash::of(client_token),
            ));
        }
    }
    for key in forgotten {
        dynamodb
            .delete_item()
            .table_name(&tables.idempotency)
            .key(schema::IDEMPOTENCY_KEY, s(&key))
            .send()
            .await?;
    }
    let customer = customer();
    let ids = UPLOADED.iter().map(|id| (id, Status::InProgress));
    for (id, status) in ids.chain([(&APPROVED, Status::Approved)]) {
        let expires_at = epoch_seconds_after(now, CONNECTION_TTL_SECONDS);
        let mut item = schema::pending_attachment_item(id, &customer, &upload(), now, expires_at);
        if status == Status::Approved {
            item.remove(schema::EXPIRES_AT);
            item.insert(schema::STATUS.into(), s(status.as_str()));
        }
        dynamodb
            .put_item()
            .table_name(&tables.attachments)
            .set_item(Some(item))
            .send()
            .await?;
        s3.put_object()
            .bucket(bucket)
            .key(ObjectKey::new(CONTACT_ID, &AttachmentId::new(*id)).as_str())
            .content_type(CONTENT_TYPE)
            .body(FILE.to_vec().into())
            .send()
            .await?;
    }
    Ok(())
}

/// [`seed`] on the local services the environment names.
pub async fn seed_local() -> Result<(), BoxError> {
    use crate::local;
    seed(
        &local::dynamodb_client(),
        &local::s3_client(),
        &local::tables(),
        &local::bucket(),
    )
    .await
}
