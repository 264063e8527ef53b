//! The storage schema, written once, beside the store that uses it: table and attribute names,
//! key formats and item builders. The seeding tool, the tests, the benches and template.yaml's
//! drift test all read it from here.
//!
//! - connections (`TokenHash`): `ParticipantId`, `ContactId`, `ExpiresAt` (TTL). Read only here.
//! - attachments (`AttachmentId`): `ContactId`, `ParticipantId`, `Status`, `AttachmentName`,
//!   `ContentType`, `AttachmentSizeInBytes`, `CreatedAt`, `CompletedAt`, `ETag`, `RejectionReason`
//!   (`REJECTED` only), and `ExpiresAt` (TTL): while pending; once approved, only with a
//!   retention (then with its file); rejected, with the completion's idempotency record (the
//!   reaper then deletes the file).
//! - idempotency (`IdempotencyKey`, this function's own table, TTL `ExpiresAt`):
//!   `IDEMPOTENCY#<Operation>#<ParticipantId>#<sha256(ClientToken)>` → `RequestHash`
//!   (and `AttachmentId` for a start); `QUOTA#<ContactId>` → `CompletedCount`, and
//!   `STARTS#<ContactId>` → `StartedCount`: the contact's two quota counters.

use std::collections::HashMap;
use std::time::SystemTime;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::config::Tables;
use crate::domain::{ClientTokenHash, Connection, DeclaredUpload, Operation, TokenHash};

pub const TOKEN_HASH: &str = "TokenHash";
pub const ATTACHMENT_ID: &str = "AttachmentId";
pub const IDEMPOTENCY_KEY: &str = "IdempotencyKey";
pub const PARTICIPANT_ID: &str = "ParticipantId";
pub const CONTACT_ID: &str = "ContactId";
pub const EXPIRES_AT: &str = "ExpiresAt";
pub const STATUS: &str = "Status";
pub const ATTACHMENT_NAME: &str = "AttachmentName";
pub const CONTENT_TYPE: &str = "ContentType";
pub const ATTACHMENT_SIZE: &str = "AttachmentSizeInBytes";
pub const CREATED_AT: &str = "CreatedAt";
pub const COMPLETED_AT: &str = "CompletedAt";
pub const ETAG: &str = "ETag";
/// Why a completion rejected the file (its content is not its declared type): on the
/// attachment and on the completion's idempotency record.
pub const REJECTION: &str = "RejectionReason";
pub const REQUEST_HASH: &str = "RequestHash";
pub const COMPLETED_COUNT: &str = "CompletedCount";
pub const STARTED_COUNT: &str = "StartedCount";

/// An attachment's `Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Approved,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
        }
    }
}

/// How a table is keyed: what creating it (locally, or in template.yaml) needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    pub name: String,
    pub partition_key: &'static str,
    pub ttl_attribute: Option<&'static str>,
}

/// How each of `tables` is keyed.
pub fn definitions(tables: &Tables) -> [TableDefinition; 3] {
    [
        TableDefinition {
            name: tables.connections.clone(),
            partition_key: TOKEN_HASH,
            ttl_attribute: Some(EXPIRES_AT),
        },
        TableDefinition {
            name: tables.attachments.clone(),
            partition_key: ATTACHMENT_ID,
            ttl_attribute: Some(EXPIRES_AT),
        },
        TableDefinition {
            name: tables.idempotency.clone(),
            partition_key: IDEMPOTENCY_KEY,
            ttl_attribute: Some(EXPIRES_AT),
        },
    ]
}

/// The key of a participant's idempotency record for one operation: scoped to the operation and
/// the participant, and holding only the hash of the ClientToken.
pub fn idempotency_key(
    operation: Operation,
    participant_id: &str,
    client_token: &ClientTokenHash,
) -> String {
    format!(
        "IDEMPOTENCY#{}#{participant_id}#{}",
        operation.name(),
        client_token.as_str()
    )
}

/// The key of a contact's counter of completed attachments.
pub fn completed_quota_key(contact_id: &str) -> String {
    format!("QUOTA#{contact_id}")
}

/// The key of a contact's counter of started attachments.
pub fn started_quota_key(contact_id: &str) -> String {
    format!("STARTS#{contact_id}")
}

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A connection item, as the service that issues connection tokens writes it.
pub fn connection_item(token_hash: &TokenHash, connection: &Connection) -> Item {
    Item::from([
        (TOKEN_HASH.into(), s(token_hash.as_str())),
        (PARTICIPANT_ID.into(), s(&connection.participant_id)),
        (CONTACT_ID.into(), s(&connection.contact_id)),
        (EXPIRES_AT.into(), n(connection.expires_at)),
    ])
}

/// A new `IN_PROGRESS` attachment, as StartAttachmentUpload creates it.
pub fn pending_attachment_item(
    attachment_id: &str,
    uploader: &Connection,
    upload: &DeclaredUpload,
    created_at: SystemTime,
    expires_at: i64,
) -> Item {
    Item::from([
        (ATTACHMENT_ID.into(), s(attachment_id)),
        (CONTACT_ID.into(), s(&uploader.contact_id)),
        (PARTICIPANT_ID.into(), s(&uploader.participant_id)),
        (STATUS.into(), s(Status::InProgress.as_str())),
        (ATTACHMENT_NAME.into(), s(&upload.name)),
        (CONTENT_TYPE.into(), s(&upload.content_type)),
        (ATTACHMENT_SIZE.into(), n(upload.size)),
        (CREATED_AT.into(), s(&rfc3339(created_at))),
        (EXPIRES_AT.into(), n(expires_at)),
    ])
}

/// RFC 3339 UTC, as `CreatedAt` and `CompletedAt` are written.
pub fn rfc3339(time: SystemTime) -> String {
    crate::domain::iso8601_millis(time)
}

/// A string attribute of an item.
pub fn text<'a>(item: Option<&'a Item>, name: &str) -> Option<&'a str> {
    item?.get(name)?.as_s().ok().map(String::as_str)
}

/// A number attribute of an item, in whole units. DynamoDB numbers are decimal strings; TTL
/// writers sometimes store fractional seconds.
pub fn number(item: Option<&Item>, name: &str) -> Option<i64> {
    let number = item?.get(name)?.as_n().ok()?;
    number
        .parse::<i64>()
        .ok()
        .or_else(|| number.parse::<f64>().ok().map(|f| f.floor() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_scoped_and_never_hold_the_raw_client_token() {
        let hash = ClientTokenHash::of("client");
        let key = idempotency_key(Operation::CompleteAttachmentUpload, "p-1", &hash);
        assert_eq!(
            key,
            format!("IDEMPOTENCY#CompleteAttachmentUpload#p-1#{}", hash.as_str())
        );
        assert_ne!(
            key,
            idempotency_key(Operation::StartAttachmentUpload, "p-1", &hash)
        );
        assert!(!key.contains("client#") && !key.ends_with("client"));
        assert_eq!(completed_quota_key("c-1"), "QUOTA#c-1");
        assert_eq!(started_quota_key("c-1"), "STARTS#c-1");
    }

    #[test]
    fn numbers_are_read_whole_even_when_fractional() {
        let item = Item::from([
            ("A".into(), n("1700000000")),
            ("B".into(), n("1700000000.9")),
            ("C".into(), s("soon")),
        ]);
        assert_eq!(number(Some(&item), "A"), Some(1_700_000_000));
        assert_eq!(number(Some(&item), "B"), Some(1_700_000_000));
        assert_eq!(number(Some(&item), "C"), None);
        assert_eq!(number(None, "A"), None);
    }
}
