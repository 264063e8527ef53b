//! The items each write transaction sends, in the order whose indices name the cancellation
//! reasons DynamoDB returns. Public so that the benchmarks can send the very same items bare,
//! as the baseline of the handler's overhead.

use aws_sdk_dynamodb::types::{
    ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::DynamoDbStore;
use crate::domain::{epoch_seconds, epoch_seconds_after, AttachmentId, Operation};
use crate::store::schema::{self, n, s, Status};
use crate::store::schema::{
    ATTACHMENT_ID, ATTACHMENT_SIZE, COMPLETED_AT, COMPLETED_COUNT, CONTACT_ID, CONTENT_TYPE, ETAG,
    EXPIRES_AT, IDEMPOTENCY_KEY, PARTICIPANT_ID, REJECTION, REQUEST_HASH, STARTED_COUNT, STATUS,
    TOKEN_HASH,
};
use crate::store::{Caller, Completion, Start, StoreError};

/// The position of each item in a write transaction; `CancellationReasons` come in this order.
pub(super) const CONNECTION_ITEM: usize = 0;
pub(super) const ATTACHMENT_ITEM: usize = 1;
pub(super) const IDEMPOTENCY_ITEM: usize = 2;
pub(super) const QUOTA_ITEM: usize = 3;
pub(super) const WRITE_ITEMS: usize = 4;

impl DynamoDbStore {
    /// The condition that the caller's connection is still live and still theirs.
    fn connection_check(&self, caller: &Caller<'_>) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.tables.connections)
            .key(TOKEN_HASH, s(caller.token_hash.as_str()))
            .condition_expression("#e > :now AND #p = :p AND #c = :c")
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_names("#p", PARTICIPANT_ID)
            .expression_attribute_names("#c", CONTACT_ID)
            .expression_attribute_values(":now", n(epoch_seconds(caller.now)))
            .expression_attribute_values(":p", s(&caller.connection.participant_id))
            .expression_attribute_values(":c", s(&caller.connection.contact_id))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The caller's idempotency record, written only if absent or expired (an expired record
    /// counts as absent even before TTL deletes it); the old one comes back on failure.
    fn idempotency_record(
        &self,
        operation: Operation,
        caller: &Caller<'_>,
        attachment_id: Option<&AttachmentId>,
        rejection: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let key = schema::idempotency_key(
            operation,
            &caller.connection.participant_id,
            caller.client_token_hash,
        );
        let expires_at = epoch_seconds_after(caller.now, caller.limits.idempotency_ttl_seconds);
        let mut put = Put::builder()
            .table_name(&self.tables.idempotency)
            .item(IDEMPOTENCY_KEY, s(&key))
            .item(REQUEST_HASH, s(caller.fingerprint.as_str()))
            .item(EXPIRES_AT, n(expires_at))
            .condition_expression("attribute_not_exists(#k) OR #e <= :now")
            .expression_attribute_names("#k", IDEMPOTENCY_KEY)
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_values(":now", n(epoch_seconds(caller.now)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(id) = attachment_id {
            put = put.item(ATTACHMENT_ID, s(id.as_str()));
        }
        // A replay of a rejected completion is refused the same way.
        if let Some(why) = rejection {
            put = put.item(REJECTION, s(why));
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build_error)?)
            .build())
    }

    /// One more on a contact's counter, below the quota.
    fn count(
        &self,
        key: String,
        counter: &str,
        caller: &Caller<'_>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.tables.idempotency)
            .key(IDEMPOTENCY_KEY, s(&key))
            .update_expression("ADD #n :one")
            .condition_expression("attribute_not_exists(#n) OR #n < :max")
            .expression_attribute_names("#n", counter)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(caller.limits.max_attachments_per_contact))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The four items of a start's transaction, in the order of the `*_ITEM` indices.
    pub fn start_transaction(
        &self,
        start: &Start<'_>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let caller = &start.caller;
        let expires_at =
            epoch_seconds_after(caller.now, caller.limits.pending_attachment_ttl_seconds);
        let attachment = Put::builder()
            .table_name(&self.tables.attachments)
            .set_item(Some(schema::pending_attachment_item(
                start.attachment_id.as_str(),
                caller.connection,
                start.upload,
                caller.now,
                expires_at,
            )))
            // A fresh UUID never collides; if it did, nothing would be overwritten.
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", ATTACHMENT_ID)
            .build()
            .map_err(build_error)?;
        Ok(vec![
            self.connection_check(caller)?,
            TransactWriteItem::builder().put(attachment).build(),
            self.idempotency_record(
                Operation::StartAttachmentUpload,
                caller,
                Some(start.attachment_id),
                None,
            )?,
            self.count(
                schema::started_quota_key(&caller.connection.contact_id),
                STARTED_COUNT,
                caller,
            )?,
        ])
    }

    /// The four items of a completion's transaction, in the order of the `*_ITEM` indices.
    pub fn complete_transaction(
        &self,
        c: &Completion<'_>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let caller = &c.caller;
        // Approved, the record loses its expiry (or, with a retention, expires with its file:
        // S3's lifecycle counts from the upload, the earliest it may delete it). Rejected, it
        // expires with the completion's idempotency record (a replay meanwhile is refused the
        // same way), and when TTL removes it the reaper deletes the disguised file. Until then
        // nobody can read the file: its upload URL has expired and GetAttachment refuses it.
        let (status, expiry) = match c.rejection {
            Some(_) => (Status::Rejected, ", #x = :rejected_until, #why = :why"),
            None if caller.limits.retention_seconds > 0 => (Status::Approved, ", #x = :retained"),
            None => (Status::Approved, " REMOVE #x"),
        };
        let uploaded = c.object.last_modified.unwrap_or(caller.now);
        let mut attachment = Update::builder()
            .table_name(&self.tables.attachments)
            .key(ATTACHMENT_ID, s(c.attachment_id.as_str()))
            // A record written by another service may lack the declared size or type: S3's
            // are recorded, so that GetAttachment always has them.
            .update_expression(format!(
                "SET #s = :status, #at = :at, #etag = :etag, \
                 #size = if_not_exists(#size, :size), #ct = if_not_exists(#ct, :ct){expiry}"
            ))
            .condition_expression(
                "#s = :in_progress AND #p = :p AND #c = :c \
                 AND (attribute_not_exists(#x) OR #x > :now) \
                 AND (attribute_not_exists(#size) OR #size = :size) \
                 AND (attribute_not_exists(#ct) OR #ct = :ct)",
            )
            .expression_attribute_names("#s", STATUS)
            .expression_attribute_names("#at", COMPLETED_AT)
            .expression_attribute_names("#etag", ETAG)
            .expression_attribute_names("#size", ATTACHMENT_SIZE)
            .expression_attribute_names("#ct", CONTENT_TYPE)
            .expression_attribute_names("#x", EXPIRES_AT)
            .expression_attribute_names("#p", PARTICIPANT_ID)
            .expression_attribute_names("#c", CONTACT_ID)
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":in_progress", s(Status::InProgress.as_str()))
            .expression_attribute_values(":at", s(&schema::rfc3339(caller.now)))
            .expression_attribute_values(":etag", s(&c.object.etag))
            .expression_attribute_values(":size", n(c.object.size))
            .expression_attribute_values(":ct", s(c.expected_content_type))
            .expression_attribute_values(":now", n(epoch_seconds(caller.now)))
            .expression_attribute_values(":p", s(&caller.connection.participant_id))
            .expression_attribute_values(":c", s(&caller.connection.contact_id))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match c.rejection {
            Some(why) => {
                let until = epoch_seconds_after(caller.now, caller.limits.idempotency_ttl_seconds);
                attachment = attachment
                    .expression_attribute_names("#why", REJECTION)
                    .expression_attribute_values(":why", s(why))
                    .expression_attribute_values(":rejected_until", n(until));
            }
            None if caller.limits.retention_seconds > 0 => {
                let retained = epoch_seconds_after(uploaded, caller.limits.retention_seconds);
                attachment = attachment.expression_attribute_values(":retained", n(retained));
            }
            None => {}
        }
        let mut items = vec![
            self.connection_check(caller)?,
            TransactWriteItem::builder()
                .update(attachment.build().map_err(build_error)?)
                .build(),
            self.idempotency_record(
                Operation::CompleteAttachmentUpload,
                caller,
                None,
                c.rejection,
            )?,
        ];
        // A rejected file does not count toward the contact's completed attachments.
        if c.rejection.is_none() {
            items.push(self.count(
                schema::completed_quota_key(&caller.connection.contact_id),
                COMPLETED_COUNT,
                caller,
            )?);
        }
        Ok(items)
    }
}

pub(super) fn build_error(error: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::InvalidRequest(error.into())
}
