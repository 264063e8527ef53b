//! The reaper: deletes the S3 objects of attachments that were started and never completed, and
//! of those rejected because their content was not their declared type.
//!
//! A pending attachment record carries a TTL (`ExpiresAt`); when DynamoDB's TTL deletes it, the
//! attachments table's stream hands the deletion to this second function (template.yaml filters
//! the stream to TTL deletions of `IN_PROGRESS` records), which deletes `<ContactId>/<AttachmentId>`.
//! It checks every record itself as well, so that it never touches an `APPROVED` attachment's
//! object whatever the filter lets through; deleting an object already gone is a success; and a
//! failed deletion is reported as a partial batch failure, so that only that record is retried.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_dynamo::AttributeValue;

use crate::domain::{AttachmentId, ObjectKey};
use crate::objects::Objects;
use crate::store::schema::{Status, ATTACHMENT_ID, CONTACT_ID, STATUS};

/// What to do with one stream record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A pending attachment that DynamoDB's TTL removed: its object goes.
    Delete(ObjectKey),
    /// Anything else: left alone, with the reason (for the log).
    Skip(&'static str),
}

/// The principal of TTL deletions in DynamoDB streams.
const TTL_PRINCIPAL: &str = "dynamodb.amazonaws.com";

pub fn decide(record: &EventRecord) -> Decision {
    if record.event_name != "REMOVE" {
        return Decision::Skip("not a deletion");
    }
    let by_ttl = record
        .user_identity
        .as_ref()
        .is_some_and(|who| who.type_ == "Service" && who.principal_id == TTL_PRINCIPAL);
    if !by_ttl {
        return Decision::Skip("deleted by a user, not by TTL");
    }
    let old = &record.change.old_image;
    let text = |name: &str| match old.get(name) {
        Some(AttributeValue::S(value)) => Some(value.as_str()),
        _ => None,
    };
    // Pending (abandoned) or rejected (disguised): their files go. An approved attachment's
    // file is never touched; with a retention, S3's lifecycle rule deletes it.
    let doomed = [Status::InProgress, Status::Rejected].map(Status::as_str);
    if !text(STATUS).is_some_and(|status| doomed.contains(&status)) {
        return Decision::Skip("not a pending or rejected attachment");
    }
    match (text(CONTACT_ID), text(ATTACHMENT_ID)) {
        (Some(contact), Some(id)) => {
            Decision::Delete(ObjectKey::new(contact, &AttachmentId::new(id)))
        }
        _ => Decision::Skip("no ContactId or AttachmentId in the old image"),
    }
}

/// Handles one batch: every abandoned object deleted, or named as a failure to retry.
pub async fn reap<O: Objects>(objects: &O, event: &Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let sequence = record.change.sequence_number.clone();
        match decide(record) {
            Decision::Skip(reason) => {
                tracing::debug!(event_id = %record.event_id, reason, "record skipped");
            }
            Decision::Delete(key) => match objects.delete(&key).await {
                Ok(()) => tracing::info!(
                    event_id = %record.event_id,
                    outcome = "deleted",
                    "abandoned upload deleted"
                ),
                Err(error) => {
                    tracing::error!(
                        event_id = %record.event_id,
                        outcome = "failed",
                        error_detail = %crate::telemetry::error_chain(&error),
                        "abandoned upload not deleted; the record will be retried"
                    );
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure.item_identifier = sequence;
                    response.batch_item_failures.push(failure);
                }
            },
        }
    }
    response
}
