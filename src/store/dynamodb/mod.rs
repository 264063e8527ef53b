//! The store on DynamoDB: a `GetItem` to authenticate, one `TransactWriteItems` per start or
//! completion, one `TransactGetItems` per download. This module does the I/O; [`transactions`]
//! builds the items each write sends, and [`classify`] names every cancellation from the reasons
//! and old items DynamoDB returns, without another read. The layout is in [`super::schema`].

pub mod classify;
mod transactions;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::CancellationReason;
use aws_sdk_dynamodb::types::{Get, TransactGetItem, TransactWriteItem};
use aws_sdk_dynamodb::Client;

pub use self::classify::THROTTLING_CODES;
use self::classify::{
    classify_completion_cancellation, classify_failure, classify_sdk_error,
    classify_start_cancellation, codes, connection_from_item, is_callers_live_connection,
    owned_and_not_expired, replay_or_reused, transient_error, CompletionRefusal,
};
use self::transactions::build_error;
use super::schema::{self, number, s, text, Item, Status};
use super::schema::{
    ATTACHMENT_ID, ATTACHMENT_NAME, ATTACHMENT_SIZE, CONTACT_ID, CONTENT_TYPE, EXPIRES_AT,
    IDEMPOTENCY_KEY, PARTICIPANT_ID, STATUS, TOKEN_HASH,
};
use super::{Caller, Completion, Start, Started, Store, StoreError};
use crate::config::Tables;
use crate::domain::{
    epoch_seconds, ApprovedAttachment, AttachmentId, Connection, Effect, Operation, TokenHash,
};

#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: Client,
    tables: Tables,
}

impl DynamoDbStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    /// Opens (TLS included) the connection to DynamoDB during init, where Lambda runs the process
    /// at full CPU, so that the first billed request does not pay for it. The key cannot exist:
    /// it is the hash of an empty token, which validation never lets through. Uses only the
    /// `GetItem` permission the function has anyway. (Warming the transactions' pipelines too was
    /// measured: one more round trip in every init, for ~0.5 ms of CPU moved out of the first
    /// request; see BENCHMARKS.md.)
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.find_connection(&TokenHash::of("")).await.map(drop)
    }

    async fn write(&self, items: Vec<TransactWriteItem>) -> Result<(), WriteFailure> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => Err(
                    WriteFailure::Cancelled(cancelled.cancellation_reasons.unwrap_or_default()),
                ),
                other => Err(WriteFailure::Other(classify_sdk_error(other))),
            },
            Err(other) => Err(WriteFailure::Other(classify_failure(other))),
        }
    }

    /// Reads items together, consistently: `None` for each that does not exist.
    async fn read(&self, gets: Vec<Get>) -> Result<Vec<Option<Item>>, StoreError> {
        let count = gets.len();
        let items = gets
            .into_iter()
            .map(|get| TransactGetItem::builder().get(get).build())
            .collect();
        match self
            .client
            .transact_get_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(output) => {
                let responses = output.responses.unwrap_or_default();
                if responses.len() != count {
                    return Err(StoreError::MalformedItem("TransactGetItems responses"));
                }
                Ok(responses.into_iter().map(|r| r.item).collect())
            }
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                TransactGetItemsError::TransactionCanceledException(cancelled) => {
                    let reasons = cancelled.cancellation_reasons.unwrap_or_default();
                    Err(reasons
                        .iter()
                        .find_map(|r| transient_error(r.code()))
                        .unwrap_or_else(|| StoreError::UnexplainedCancellation(codes(&reasons))))
                }
                other => Err(classify_sdk_error(other)),
            },
            Err(other) => Err(classify_failure(other)),
        }
    }

    fn get(&self, table: &str, key_name: &str, key: &str) -> Result<Get, StoreError> {
        Get::builder()
            .table_name(table)
            .key(key_name, s(key))
            .build()
            .map_err(build_error)
    }
}

impl DynamoDbStore {
    async fn try_complete(&self, completion: &Completion<'_>) -> Result<Effect, CompletionRefusal> {
        match self.write(self.complete_transaction(completion)?).await {
            Ok(()) if completion.rejection.is_some() => Err(StoreError::ContentRejected.into()),
            Ok(()) => Ok(Effect::Applied),
            Err(WriteFailure::Cancelled(reasons)) => {
                classify_completion_cancellation(&reasons, completion)
            }
            Err(WriteFailure::Other(error)) => Err(error.into()),
        }
    }
}

enum WriteFailure {
    Cancelled(Vec<CancellationReason>),
    Other(StoreError),
}

impl Store for DynamoDbStore {
    async fn find_connection(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<Connection>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.connections)
            .key(TOKEN_HASH, s(token_hash.as_str()))
            // A connection created a moment ago must not be refused.
            .consistent_read(true)
            .projection_expression("#p, #c, #e")
            .expression_attribute_names("#p", PARTICIPANT_ID)
            .expression_attribute_names("#c", CONTACT_ID)
            .expression_attribute_names("#e", EXPIRES_AT)
            .send()
            .await
            .map_err(classify_failure)?;
        output.item.as_ref().map(connection_from_item).transpose()
    }

    async fn start(&self, start: &Start<'_>) -> Result<Started, StoreError> {
        match self.write(self.start_transaction(start)?).await {
            Ok(()) => Ok(Started {
                attachment_id: start.attachment_id.clone(),
                effect: Effect::Applied,
            }),
            Err(WriteFailure::Cancelled(reasons)) => classify_start_cancellation(&reasons, start),
            Err(WriteFailure::Other(error)) => Err(error),
        }
    }

    async fn complete(&self, completion: &Completion<'_>) -> Result<Effect, StoreError> {
        match self.try_complete(completion).await {
            // The record spells the type in another case than S3: the same type, so approve it
            // as the record spells it. Once: if the record changed again meanwhile, the
            // service's retry starts over.
            Err(CompletionRefusal::SpelledOtherwise(declared)) => {
                let again = Completion {
                    expected_content_type: &declared,
                    ..*completion
                };
                self.try_complete(&again)
                    .await
                    .map_err(|refusal| match refusal {
                        CompletionRefusal::Refused(error) => error,
                        CompletionRefusal::SpelledOtherwise(_) => StoreError::Contention,
                    })
            }
            Err(CompletionRefusal::Refused(error)) => Err(error),
            Ok(effect) => Ok(effect),
        }
    }

    async fn replay_or_refuse(
        &self,
        caller: &Caller<'_>,
        attachment_id: &AttachmentId,
    ) -> Result<Effect, StoreError> {
        let key = schema::idempotency_key(
            Operation::CompleteAttachmentUpload,
            &caller.connection.participant_id,
            caller.client_token_hash,
        );
        let items = self
            .read(vec![
                self.get(
                    &self.tables.connections,
                    TOKEN_HASH,
                    caller.token_hash.as_str(),
                )?,
                self.get(
                    &self.tables.attachments,
                    ATTACHMENT_ID,
                    attachment_id.as_str(),
                )?,
                self.get(&self.tables.idempotency, IDEMPOTENCY_KEY, &key)?,
            ])
            .await?;
        let [connection, attachment, record] = <[Option<Item>; 3]>::try_from(items)
            .map_err(|_| StoreError::MalformedItem("TransactGetItems responses"))?;
        let now = epoch_seconds(caller.now);
        if !is_callers_live_connection(connection.as_ref(), caller.connection, now) {
            return Err(StoreError::ConnectionGone);
        }
        if !owned_and_not_expired(attachment.as_ref(), caller.connection, now) {
            return Err(StoreError::AttachmentNotFound);
        }
        if number(record.as_ref(), EXPIRES_AT).is_some_and(|expires| expires > now) {
            return replay_or_reused(record.as_ref(), caller, Operation::CompleteAttachmentUpload);
        }
        if text(attachment.as_ref(), STATUS) != Some(Status::InProgress.as_str()) {
            return Err(StoreError::NotInProgress);
        }
        Err(StoreError::NotUploaded)
    }

    async fn approved_attachment(
        &self,
        token_hash: &TokenHash,
        attachment_id: &AttachmentId,
        now: std::time::SystemTime,
    ) -> Result<ApprovedAttachment, StoreError> {
        let items = self
            .read(vec![
                self.get(&self.tables.connections, TOKEN_HASH, token_hash.as_str())?,
                self.get(
                    &self.tables.attachments,
                    ATTACHMENT_ID,
                    attachment_id.as_str(),
                )?,
            ])
            .await?;
        let [connection, attachment] = <[Option<Item>; 2]>::try_from(items)
            .map_err(|_| StoreError::MalformedItem("TransactGetItems responses"))?;
        let connection = match connection.as_ref().map(connection_from_item).transpose()? {
            Some(connection) if connection.is_live(epoch_seconds(now)) => connection,
            _ => return Err(StoreError::ConnectionGone),
        };
        let attachment = attachment.as_ref();
        // Any participant of the contact may read it, once approved.
        if text(attachment, CONTACT_ID) != Some(connection.contact_id.as_str())
            || text(attachment, STATUS) != Some(Status::Approved.as_str())
        {
            return Err(StoreError::AttachmentNotFound);
        }
        Ok(ApprovedAttachment {
            contact_id: connection.contact_id,
            // A name is what the download is saved as; a record without one is saved as its id.
            name: text(attachment, ATTACHMENT_NAME)
                .unwrap_or(attachment_id.as_str())
                .to_owned(),
            content_type: text(attachment, CONTENT_TYPE)
                .ok_or(StoreError::MalformedItem(CONTENT_TYPE))?
                .to_owned(),
            size: number(attachment, ATTACHMENT_SIZE)
                .and_then(|size| u64::try_from(size).ok())
                .ok_or(StoreError::MalformedItem(ATTACHMENT_SIZE))?,
            expires_at: number(attachment, EXPIRES_AT),
        })
    }
}
